-- name: analytics.daily
-- kind: INCREMENTAL_BY_TIME_RANGE
-- time_column: d
SELECT d, count(*) AS n
FROM {{ ref('orders') }} o
JOIN sales.customers c ON o.c = c.id
WHERE d BETWEEN '{{ start_date }}' AND {{ end_date }}
GROUP BY d
