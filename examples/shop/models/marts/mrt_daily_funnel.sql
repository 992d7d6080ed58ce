-- name: marts.mrt_daily_funnel
-- kind: APPEND_ONLY
-- time_column: event_date
-- owner: growth
-- tags: marts, web, daily
-- The shop funnel per day (sessions reaching each step) beside the day's
-- revenue orders and net item sales (after discounts, without shipping).
WITH sessions_by_day AS (
    SELECT
        event_date,
        count(DISTINCT session_id) AS sessions,
        count(DISTINCT CASE WHEN event_type = 'product_view' THEN session_id END) AS product_view_sessions,
        count(DISTINCT CASE WHEN event_type = 'add_to_cart' THEN session_id END) AS add_to_cart_sessions,
        count(DISTINCT CASE WHEN event_type = 'checkout_started' THEN session_id END) AS checkout_sessions,
        count(DISTINCT CASE WHEN event_type = 'purchase' THEN session_id END) AS purchase_sessions
    FROM `raw`.raw_events
    WHERE event_date BETWEEN '{{ start_date }}' AND '{{ end_date }}'
    GROUP BY event_date
),
revenue_by_day AS (
    SELECT
        order_date,
        sum(revenue_orders) AS revenue_orders,
        sum(net_item_sales) AS net_item_sales
    FROM marts.mrt_daily_revenue
    WHERE order_date BETWEEN '{{ start_date }}' AND '{{ end_date }}'
    GROUP BY order_date
)
SELECT
    s.event_date,
    s.sessions,
    s.product_view_sessions,
    s.add_to_cart_sessions,
    s.checkout_sessions,
    s.purchase_sessions,
    cast(cast(s.purchase_sessions AS decimal(12,4)) / nullif(s.sessions, 0) AS decimal(8,4)) AS conversion_rate,
    cast(cast(s.purchase_sessions AS decimal(12,4)) / nullif(s.add_to_cart_sessions, 0) AS decimal(8,4)) AS cart_to_purchase_rate,
    coalesce(r.revenue_orders, 0) AS revenue_orders,
    cast(coalesce(r.net_item_sales, 0) AS decimal(12,2)) AS net_item_sales,
    cast(coalesce(r.net_item_sales, 0) / nullif(s.sessions, 0) AS decimal(12,2)) AS net_item_sales_per_session
FROM sessions_by_day AS s
LEFT JOIN revenue_by_day AS r ON r.order_date = s.event_date
