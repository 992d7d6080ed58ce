-- name: raw.raw_payments
-- kind: APPEND_ONLY
-- time_column: payment_date
-- owner: data-platform
-- tags: raw, finance
-- Payment attempts and refunds from the payment provider; rows never change,
-- so each run appends the new days.
WITH src AS (
    SELECT
        payment_id,
        order_id,
        paid_at,
        cast(paid_at AS date) AS payment_date,
        method,
        amount,
        status
    FROM source.payments
)
SELECT *
FROM src
WHERE payment_date BETWEEN '{{ start_date }}' AND '{{ end_date }}'
