--
-- parse_model() and sql_guard(): the interface others depend on, its keys,
-- its errors and their SQLSTATEs. (The core's cases are in test/unit.)
--
\set SHOW_CONTEXT never
-- A realistic model: every key, in the documented types.
SELECT jsonb_pretty(ironlayer.parse_model($m$-- name: analytics.marts.customer_orders
-- kind: INCREMENTAL_BY_TIME_RANGE
-- materialization: TABLE
-- time_column: order_date
-- partition_by: order_date
-- owner: data-team
-- tags: finance, daily ,core
-- dependencies: staging.fx_rates
WITH recent AS (
    SELECT o.order_id, o.customer_id, o.order_date, o.amount
    FROM {{ ref('staging.orders') }} o
    WHERE o.order_date BETWEEN '{{ start_date }}' AND '{{ end_date }}'
), ranked AS (
    SELECT r.*, row_number() OVER (PARTITION BY r.customer_id ORDER BY r.order_date DESC) AS rn
    FROM recent r
)
SELECT c.customer_id, c.`Name` AS customer_name, r.order_date, sum(r.amount) AS total
FROM ranked r
JOIN staging.customers c ON c.customer_id = r.customer_id
LEFT JOIN (SELECT * FROM raw.`Refunds` WHERE status = 'done') f ON f.order_id = r.order_id
WHERE r.rn <= 10 AND c.email NOT LIKE '%@test.example'
GROUP BY ALL
QUALIFY rank() OVER (ORDER BY sum(r.amount) DESC) <= 100;
$m$)) AS parsed;

-- The keys are exactly the documented ones.
SELECT array_agg(k ORDER BY k) AS keys
  FROM jsonb_object_keys(ironlayer.parse_model($$-- name: s.t
-- kind: FULL_REFRESH
SELECT 1$$)) k;

-- Absent header values are null; lists are empty arrays.
SELECT p->'owner' AS owner, p->'time_column' AS time_column, p->'tags' AS tags,
       p->>'materialization' AS materialization, p->>'statement' AS statement
  FROM ironlayer.parse_model($$-- name: s.t
-- kind: FULL_REFRESH
SELECT 1$$) p;

-- Cosmetic changes keep the fingerprint; a change of meaning does not.
SELECT a = b AS cosmetic_same, a <> c AS logic_differs
  FROM (SELECT ironlayer.parse_model(E'-- name: s.t\n-- kind: FULL_REFRESH\nselect a, b from x.y where a > 1')->>'fingerprint' AS a,
               ironlayer.parse_model(E'-- name: s.t\n-- kind: FULL_REFRESH\n-- a comment\nSELECT a,\n       b\n  FROM x.y\n WHERE a > 1;')->>'fingerprint' AS b,
               ironlayer.parse_model(E'-- name: s.t\n-- kind: FULL_REFRESH\nSELECT a, b FROM x.y WHERE a > 2')->>'fingerprint' AS c) f;

-- INSERT and MERGE: targets apart from references.
SELECT p->>'statement' AS statement, p->'targets' AS targets, p->'references' AS references
  FROM ironlayer.parse_model($$-- name: s.merged
-- kind: MERGE_BY_KEY
-- unique_key: id
MERGE INTO s.merged t USING (SELECT * FROM staging.updates) u ON t.id = u.id
WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *$$) p;
SELECT p->>'statement' AS statement, p->'targets' AS targets, p->'references' AS references
  FROM ironlayer.parse_model($$-- name: s.appended
-- kind: APPEND_ONLY
INSERT INTO s.appended SELECT * FROM raw.events UNION ALL SELECT * FROM raw.events_late$$) p;

-- Header problems: 22023, naming the line, saying how to fix it.
SELECT ironlayer.parse_model(E'SELECT 1');
SELECT ironlayer.parse_model(E'-- name: s.t\n-- kind: SOMETIMES\nSELECT 1');
SELECT try($$SELECT ironlayer.parse_model(E'-- name: s.t\n-- kind: INCREMENTAL_BY_TIME_RANGE\nSELECT 1')$$);
SELECT try($$SELECT ironlayer.parse_model(E'-- name: s.t\n-- kind: MERGE_BY_KEY\nSELECT 1')$$);
SELECT try($$SELECT ironlayer.parse_model(E'-- kind: FULL_REFRESH\nSELECT 1')$$);
SELECT try($$SELECT ironlayer.parse_model(E'-- name: s.t\n-- kind: FULL_REFRESH\n-- materialization: HEAP\nSELECT 1')$$);
-- Lexing problems: 42601 with line and column.
SELECT ironlayer.parse_model(E'-- name: s.t\n-- kind: FULL_REFRESH\nSELECT \'unterminated');
SELECT try($$SELECT ironlayer.parse_model(E'-- name: s.t\n-- kind: FULL_REFRESH\nSELECT 1 /* never closed')$$);
SELECT try($$SELECT ironlayer.parse_model(E'-- name: s.t\n-- kind: FULL_REFRESH\nSELECT {{ ref(''x'')')$$);
-- Too deep: a clear error, no crash.
SELECT try($$SELECT ironlayer.parse_model(E'-- name: s.t\n-- kind: FULL_REFRESH\nSELECT ' || repeat('(', 100000))$$);
SELECT ironlayer.parse_model(NULL) IS NULL AS strict;

-- The guard: destructive statements and second statements, with positions.
SELECT ironlayer.sql_guard('SELECT deleted_at, ''DROP TABLE x'' AS s, `drop` FROM t -- drop table t');
SELECT jsonb_pretty(ironlayer.sql_guard(E'SELECT 1;\n  drop/**/TABLE x'));
SELECT v->>'rule' AS rule, v->>'severity' AS severity, v->>'line' AS line, v->>'column' AS col
  FROM jsonb_array_elements(ironlayer.sql_guard(E'TRUNCATE t; DELETE FROM t; ALTER TABLE t ADD c int; GRANT ALL ON t TO x; REVOKE ALL ON t FROM x; CREATE ROLE r; CREATE USER u; EXECUTE IMMEDIATE ''x''; DrOp VIEW v')->'violations') v;
SELECT ironlayer.sql_guard('SELECT 1; -- trailing comment') AS one_statement;
SELECT try($$SELECT ironlayer.sql_guard('SELECT ''open')$$);
-- In a model, the guard is part of the parse.
SELECT p->'guard'->'ok' AS ok, p->'guard'->'violations'->0->>'rule' AS rule
  FROM ironlayer.parse_model(E'-- name: s.t\n-- kind: FULL_REFRESH\nSELECT 1; DROP TABLE s.t') p;


-- Size limits (docs/limits.md): 1 MiB, a repository's largest model file.
-- One byte more is 22001 before any work; the size is in bytes, and a
-- compressed value counts with its full size.
SELECT ironlayer.parse_model(repeat('x', 1048577));
SELECT try($$SELECT ironlayer.sql_guard(repeat('x', 1048577))$$) AS guard_over;
SELECT try($$SELECT ironlayer.parse_model(repeat('é', 524289))$$) AS bytes_not_characters;
CREATE TEMP TABLE compressed AS SELECT repeat('-- ', 400000) AS t;
SELECT pg_column_size(t) < 100000 AS compressed,
       try($$SELECT ironlayer.sql_guard(t) FROM compressed$$) AS judged_by_full_size
  FROM compressed;
-- Exactly 1 MiB is judged for what it says.
SELECT try($$SELECT ironlayer.parse_model(repeat('x', 1048576))$$) AS model_at_limit;
SELECT ironlayer.sql_guard(repeat(' ', 1048568) || 'SELECT 1') AS guard_at_limit;
SELECT p->>'name' AS name, jsonb_array_length(p->'references') AS references
  FROM ironlayer.parse_model((SELECT E'-- name: s.t\n-- kind: FULL_REFRESH\nSELECT 1 FROM a'
                                     || repeat(',a', (1048576 - 50) / 2))) p;

-- Output that grows with the input is bounded: 1 MiB of "1;" is 524,288
-- statements; the guard lists the first 100 violations and then one that
-- says there are more, where the 101st is (before: all 524,287, 90 MB).
SELECT jsonb_array_length(g->'violations') AS listed,
       g->'violations'->99->>'rule' AS hundredth,
       g->'violations'->100 AS last,
       pg_column_size(g) < 25000 AS small
  FROM ironlayer.sql_guard(repeat('1;', 524288)) g;
SELECT jsonb_array_length(p->'guard'->'violations') AS listed,
       p->'guard'->'violations'->100->>'line' AS line,
       p->'guard'->'violations'->100->>'column' AS col
  FROM ironlayer.parse_model(E'-- name: s.t\n-- kind: FULL_REFRESH\n' || repeat('1;', 500000)) p;
-- Exactly 100 violations are all listed; 101 are 100 and the marker.
SELECT jsonb_array_length(g->'violations') AS listed,
       g->'violations'->-1->>'rule' AS last_rule
  FROM ironlayer.sql_guard(repeat('1;', 100) || '1') g;
SELECT jsonb_array_length(g->'violations') AS listed,
       g->'violations'->-1->>'rule' AS last_rule
  FROM ironlayer.sql_guard(repeat('1;', 101) || '1') g;

-- A long WITH list and many references take linear time (it was their
-- product: this 1 MiB model, 87,001 CTEs and 260,001 references to a
-- table, took 27 s).
SET statement_timeout = '10s';
SELECT jsonb_array_length(p->'references') AS references, p->'references'->0 AS first
  FROM ironlayer.parse_model(E'-- name: s.t\n-- kind: FULL_REFRESH\nWITH a(())' || repeat(',a(())', 87000)
                             || ' SELECT 1 FROM b' || repeat(',b', 260000)) p;
RESET statement_timeout;

-- The jsonb is built from the core's text without jsonb_in, and is the
-- same value, byte size and key order as jsonb_in makes of that text.
SELECT pg_column_size(r) = pg_column_size(r::text::jsonb) AS same_size,
       r = r::text::jsonb AS same_value,
       (SELECT bool_and(r -> k = (r::text::jsonb) -> k) FROM jsonb_object_keys(r) k) AS every_key,
       r ->> 'owner' = E'\u0001"\\' AS escapes,
       jsonb_array_length(r -> 'guard' -> 'violations') AS violations
  FROM ironlayer.parse_model(E'-- name: s.t\n-- kind: MERGE_BY_KEY\n-- unique_key: a, b\n-- owner: \u0001"\\\n'
                             || E'-- tags: z, é, y\nSELECT 1 FROM `\u0002x`, a.b JOIN {{ ref(''m'') }} USING (k);'
                             || repeat(' DROP TABLE t;', 40)) r;
