-- name: raw.raw_orders
-- kind: INCREMENTAL_BY_TIME_RANGE
-- time_column: order_date
-- owner: data-platform
-- tags: raw, sales
-- Orders by the day they were placed; each run reloads its date range.
WITH src AS (
    SELECT
        order_id,
        customer_id,
        ordered_at,
        cast(ordered_at AS date) AS order_date,
        status,
        channel,
        currency,
        shipping_amount,
        discount_code
    FROM source.orders
)
SELECT *
FROM src
WHERE order_date BETWEEN '{{ start_date }}' AND '{{ end_date }}'
