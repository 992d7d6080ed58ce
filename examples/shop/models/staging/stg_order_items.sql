-- name: staging.stg_order_items
-- kind: FULL_REFRESH
-- materialization: VIEW
-- owner: analytics
-- tags: staging, sales, catalog
-- Order lines with their product and the line amounts.
SELECT
    i.order_item_id,
    i.order_id,
    i.product_id,
    p.sku,
    p.product_name,
    p.category,
    i.quantity,
    i.unit_price,
    cast(i.quantity * i.unit_price AS decimal(12,2)) AS gross_amount,
    cast(coalesce(i.discount_amount, 0) AS decimal(12,2)) AS discount_amount,
    cast(i.quantity * i.unit_price - coalesce(i.discount_amount, 0) AS decimal(12,2)) AS net_amount,
    cast(i.quantity * p.unit_cost AS decimal(12,2)) AS cost_amount
FROM raw.raw_order_items AS i
JOIN `raw`.`raw_products` AS p
    ON p.product_id = i.product_id
