WITH orders AS (SELECT * FROM orders WHERE ok)
SELECT * FROM orders o JOIN prod.sales.customers c USING (id)
UNION ALL SELECT * FROM (WITH x AS (SELECT 1) SELECT * FROM x) JOIN `main`.`finance`.`revenue`
