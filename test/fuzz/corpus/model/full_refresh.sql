-- name: analytics.orders_daily
-- kind: FULL_REFRESH
-- owner: data-team
-- tags: finance, daily
SELECT order_date, count(*) AS orders, sum(amount) AS revenue
FROM raw.orders
GROUP BY order_date
