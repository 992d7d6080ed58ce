-- name: marts.fct_orders
-- kind: INCREMENTAL_BY_TIME_RANGE
-- time_column: order_date
-- owner: analytics
-- tags: marts, sales, finance
-- One row per order: its lines, amounts, margin and payment state.
WITH orders_in_range AS (
    SELECT *
    FROM staging.stg_orders
    WHERE order_date BETWEEN '{{ start_date }}' AND '{{ end_date }}'
),
line_totals AS (
    SELECT
        order_id,
        count(*) AS line_count,
        sum(quantity) AS units,
        sum(gross_amount) AS gross_amount,
        sum(discount_amount) AS discount_amount,
        sum(net_amount) AS net_amount,
        sum(cost_amount) AS cost_amount
    FROM {{ ref('staging.stg_order_items') }}
    GROUP BY order_id
),
payment_totals AS (
    SELECT
        order_id,
        sum(CASE WHEN is_refund THEN 0 ELSE amount END) AS amount_paid,
        sum(CASE WHEN is_refund THEN amount ELSE 0 END) AS amount_refunded,
        count(DISTINCT payment_method) AS payment_methods
    FROM staging.stg_payments
    GROUP BY order_id
),
joined AS (
    SELECT
        o.order_id,
        o.customer_id,
        o.order_date,
        o.order_month,
        o.order_status,
        o.channel,
        o.discount_code,
        o.is_revenue,
        coalesce(l.line_count, 0) AS line_count,
        coalesce(l.units, 0) AS units,
        cast(coalesce(l.gross_amount, 0) AS decimal(12,2)) AS gross_amount,
        cast(coalesce(l.discount_amount, 0) AS decimal(12,2)) AS discount_amount,
        o.shipping_amount,
        cast(coalesce(l.net_amount, 0) + o.shipping_amount AS decimal(12,2)) AS order_total,
        cast(coalesce(l.net_amount, 0) - coalesce(l.cost_amount, 0) AS decimal(12,2)) AS gross_margin,
        cast(coalesce(p.amount_paid, 0) AS decimal(12,2)) AS amount_paid,
        cast(coalesce(p.amount_refunded, 0) AS decimal(12,2)) AS amount_refunded,
        coalesce(p.payment_methods, 0) AS payment_methods
    FROM orders_in_range AS o
    LEFT JOIN line_totals AS l ON l.order_id = o.order_id
    LEFT JOIN payment_totals AS p ON p.order_id = o.order_id
)
SELECT
    joined.*,
    CASE
        WHEN amount_refunded > 0 THEN 'refunded'
        WHEN amount_paid >= order_total THEN 'paid'
        WHEN amount_paid > 0 THEN 'partially_paid'
        ELSE 'unpaid'
    END AS payment_state
FROM joined
