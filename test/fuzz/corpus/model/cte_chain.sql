-- name: analytics.funnel
-- kind: APPEND_ONLY
WITH visits AS (SELECT * FROM raw.visits),
carts AS (SELECT v.*, c.cart_id FROM visits v LEFT JOIN raw.carts c USING (session_id)),
orders AS (SELECT * FROM carts WHERE cart_id IS NOT NULL),
final AS (SELECT date(ts) AS d, count(DISTINCT session_id) AS n FROM orders GROUP BY 1)
SELECT * FROM final;
