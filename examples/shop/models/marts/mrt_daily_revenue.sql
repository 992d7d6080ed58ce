-- name: marts.mrt_daily_revenue
-- kind: INCREMENTAL_BY_TIME_RANGE
-- time_column: order_date
-- owner: finance
-- tags: marts, finance, daily
-- Revenue per day and sales channel, over revenue orders (shipped or
-- delivered): item sales at list price, less item discounts, is net item
-- sales; plus shipping charged, the amount billed; item margin is net item
-- sales less the items' cost.
SELECT
    order_date,
    channel,
    count(*) AS order_count,
    sum(CASE WHEN is_revenue THEN 1 ELSE 0 END) AS revenue_orders,
    sum(CASE WHEN order_status = 'cancelled' THEN 1 ELSE 0 END) AS cancelled_orders,
    cast(sum(CASE WHEN is_revenue THEN gross_amount ELSE 0 END) AS decimal(12,2)) AS gross_item_sales,
    cast(sum(CASE WHEN is_revenue THEN discount_amount ELSE 0 END) AS decimal(12,2)) AS item_discounts,
    cast(sum(CASE WHEN is_revenue THEN gross_amount - discount_amount ELSE 0 END) AS decimal(12,2)) AS net_item_sales,
    cast(sum(CASE WHEN is_revenue THEN shipping_amount ELSE 0 END) AS decimal(12,2)) AS shipping_charged,
    cast(sum(CASE WHEN is_revenue THEN order_total ELSE 0 END) AS decimal(12,2)) AS amount_billed,
    cast(sum(CASE WHEN is_revenue THEN gross_margin ELSE 0 END) AS decimal(12,2)) AS item_margin,
    cast(sum(CASE WHEN is_revenue THEN order_total ELSE 0 END)
         / nullif(sum(CASE WHEN is_revenue THEN 1 ELSE 0 END), 0) AS decimal(12,2)) AS `avg_amount_billed`
FROM {{ ref('fct_orders') }}
WHERE order_date BETWEEN '{{ start_date }}' AND '{{ end_date }}'
GROUP BY order_date, channel
