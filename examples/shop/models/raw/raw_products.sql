-- name: raw.raw_products
-- kind: FULL_REFRESH
-- materialization: VIEW
-- owner: data-platform
-- tags: raw, catalog
-- The product catalog is small and changes rarely: a view over the source.
SELECT
    product_id,
    sku,
    product_name,
    category,
    unit_price,
    unit_cost,
    is_active,
    created_at
FROM source.products
