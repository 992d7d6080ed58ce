-- name: marts.dim_customers
-- kind: FULL_REFRESH
-- owner: analytics
-- tags: marts, crm
-- One row per customer with order history and a simple value segment.
WITH order_stats AS (
    SELECT
        customer_id,
        min(order_date) AS first_order_date,
        max(order_date) AS last_order_date,
        count(*) AS order_count,
        sum(CASE WHEN is_revenue THEN 1 ELSE 0 END) AS revenue_orders,
        sum(CASE WHEN is_revenue THEN order_total ELSE 0 END) AS lifetime_revenue,
        sum(CASE WHEN is_revenue THEN gross_margin ELSE 0 END) AS lifetime_margin
    FROM marts.fct_orders
    GROUP BY customer_id
)
SELECT
    c.customer_id,
    c.first_name,
    c.last_name,
    c.email,
    c.city,
    c.country_code,
    c.signup_date,
    c.marketing_opt_in,
    s.first_order_date,
    s.last_order_date,
    coalesce(s.order_count, 0) AS order_count,
    coalesce(s.revenue_orders, 0) AS revenue_orders,
    cast(coalesce(s.lifetime_revenue, 0) AS decimal(12,2)) AS lifetime_revenue,
    cast(coalesce(s.lifetime_margin, 0) AS decimal(12,2)) AS lifetime_margin,
    cast(s.lifetime_revenue / nullif(s.revenue_orders, 0) AS decimal(12,2)) AS avg_order_value,
    CASE
        WHEN s.customer_id IS NULL THEN 'no_orders'
        WHEN s.lifetime_revenue >= 1500 THEN 'vip'
        WHEN s.revenue_orders >= 2 THEN 'repeat'
        WHEN s.revenue_orders = 1 THEN 'one_time'
        ELSE 'no_revenue'
    END AS customer_segment
FROM staging.stg_customers AS c
LEFT JOIN order_stats AS s ON s.customer_id = c.customer_id
