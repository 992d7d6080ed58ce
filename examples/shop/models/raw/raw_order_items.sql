-- name: raw.raw_order_items
-- kind: FULL_REFRESH
-- owner: data-platform
-- tags: raw, sales
SELECT
    order_item_id,
    order_id,
    product_id,
    quantity,
    unit_price,
    discount_amount
FROM source.order_items
