-- name: analytics.customers
-- kind: MERGE_BY_KEY
-- materialization: MERGE
-- unique_key: id, region
MERGE INTO analytics.customers AS t
USING (SELECT * FROM staging.customer_changes QUALIFY row_number() OVER (PARTITION BY id ORDER BY ts DESC) = 1) AS s
ON t.id = s.id AND t.region = s.region
WHEN MATCHED AND s.op = 'delete' THEN DELETE
WHEN MATCHED THEN UPDATE SET *
WHEN NOT MATCHED THEN INSERT *
WHEN NOT MATCHED BY SOURCE THEN UPDATE SET t.active = false
