#!/usr/bin/env bash
# change.sh: the "second commit" of the shop example.
#
# Run it in a checkout of the example (the working directory is the
# repository, with models/ at its top). It edits the files and commits
# nothing (the caller commits):
#
#   1. staging.stg_orders: returned orders no longer count as revenue
#      (is_revenue drops 'returned'). A logic change to an incremental staging
#      model: everything downstream of it is affected (marts.fct_orders,
#      marts.dim_customers, marts.mrt_daily_revenue, marts.mrt_daily_funnel).
#   2. adds marts.mrt_product_sales: monthly sales and margin per product, a
#      new FULL_REFRESH mart reading staging.stg_order_items and
#      staging.stg_orders.
#
# It fails, changing nothing, when the files are not as the first commit left
# them (run twice, or in the wrong directory).

set -euo pipefail

orders=models/staging/stg_orders.sql
new_mart=models/marts/mrt_product_sales.sql
old="lower(trim(status)) IN ('shipped', 'delivered', 'returned') AS is_revenue"
new="lower(trim(status)) IN ('shipped', 'delivered') AS is_revenue"

if [ ! -f "$orders" ]; then
    echo "change.sh: $orders not found: run me at the top of the example repository" >&2
    exit 1
fi
if [ "$(grep -cF "$old" "$orders")" != 1 ]; then
    echo "change.sh: $orders does not hold the line to change (already changed?)" >&2
    exit 1
fi
if [ -e "$new_mart" ]; then
    echo "change.sh: $new_mart exists already" >&2
    exit 1
fi

# 1. the upstream logic change (the comment above the query says why)
tmp=$(mktemp "$orders.XXXXXX")
awk -v old="$old" -v new="$new" '
    index($0, old) { sub(/lower\(trim\(status\)\) IN .*$/, new) }
    /^-- Orders with normalized status, channel and discount code\. An order counts$/ {
        print "-- Orders with normalized status, channel and discount code. An order counts"
        print "-- as revenue once it has shipped, and no longer once it is returned."
        getline            # the old second line of the comment
        next
    }
    { print }
' "$orders" >"$tmp"
mv "$tmp" "$orders"
grep -qF "$new" "$orders" || { echo "change.sh: editing $orders failed" >&2; exit 1; }

# 2. the new mart
cat >"$new_mart" <<'SQL'
-- name: marts.mrt_product_sales
-- kind: FULL_REFRESH
-- owner: merchandising
-- tags: marts, catalog, monthly
-- Monthly units, sales and margin per product, revenue orders only.
SELECT
    o.order_month,
    i.product_id,
    i.sku,
    i.product_name,
    i.category,
    count(DISTINCT i.order_id) AS order_count,
    sum(i.quantity) AS units_sold,
    cast(sum(i.net_amount) AS decimal(12,2)) AS net_sales,
    cast(sum(i.net_amount - i.cost_amount) AS decimal(12,2)) AS gross_margin,
    cast(sum(i.net_amount - i.cost_amount) / nullif(sum(i.net_amount), 0) AS decimal(8,4)) AS margin_rate
FROM {{ ref('stg_order_items') }} AS i
JOIN staging.stg_orders AS o
    ON o.order_id = i.order_id
WHERE o.is_revenue
GROUP BY o.order_month, i.product_id, i.sku, i.product_name, i.category
SQL

echo "changed $orders (returned orders are no longer revenue); added $new_mart"
