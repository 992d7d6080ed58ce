-- name: staging.stg_orders
-- kind: INCREMENTAL_BY_TIME_RANGE
-- time_column: order_date
-- owner: analytics
-- tags: staging, sales
-- Orders with normalized status, channel and discount code. An order counts
-- as revenue once it has shipped.
SELECT
    order_id,
    customer_id,
    order_date,
    cast(date_trunc('month', order_date) AS date) AS order_month,
    ordered_at,
    lower(trim(status)) AS order_status,
    lower(trim(channel)) AS channel,
    currency,
    shipping_amount,
    nullif(upper(trim(discount_code)), '') AS discount_code,
    lower(trim(status)) IN ('shipped', 'delivered', 'returned') AS is_revenue
FROM {{ ref('raw_orders') }}
WHERE order_date BETWEEN '{{ start_date }}' AND '{{ end_date }}'
