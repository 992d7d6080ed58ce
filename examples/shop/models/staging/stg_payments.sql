-- name: staging.stg_payments
-- kind: MERGE_BY_KEY
-- unique_key: payment_id
-- owner: finance
-- tags: staging, finance
-- Settled payments and refunds (failed attempts dropped), one row per payment.
SELECT
    payment_id,
    order_id,
    paid_at,
    payment_date,
    CASE lower(trim(method))
        WHEN 'paypal' THEN 'paypal'
        WHEN 'klarna' THEN 'klarna'
        WHEN 'gift_card' THEN 'gift_card'
        ELSE 'card'
    END AS payment_method,
    lower(trim(status)) AS payment_status,
    lower(trim(status)) = 'refunded' AS is_refund,
    amount
FROM {{ ref('raw.raw_payments') }}
WHERE lower(trim(status)) IN ('succeeded', 'refunded')
