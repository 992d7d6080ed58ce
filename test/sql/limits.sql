--
-- Size limits of plan(), put_credential() and _scrub() (docs/limits.md):
-- 22001 before any other work, whoever calls; within its limit an argument
-- is judged for what it says (here: no tenant is bound, 42501).
-- parse_model() and sql_guard() are in model.sql.
--
\set SHOW_CONTEXT never
-- plan(): the repository's name 63 bytes, base and head 1,024 bytes, the
-- options 1 MiB of jsonb.
SELECT try($$SELECT ironlayer.plan(repeat('r', 64), 'v1', 'main', '2026-01-15', '{}')$$) AS repo;
SELECT try($$SELECT ironlayer.plan('shop', repeat('b', 1025), 'main', '2026-01-15', '{}')$$) AS base;
SELECT try($$SELECT ironlayer.plan('shop', 'v1', repeat('h', 1025), '2026-01-15', '{}')$$) AS head;
SELECT ironlayer.plan('shop', 'v1', 'main', '2026-01-15',
                      jsonb_build_object('full_refresh', (SELECT jsonb_agg('s.m' || i) FROM generate_series(1, 150000) i)));
SELECT try($$SELECT ironlayer.plan(repeat('r', 63), repeat('b', 1024), repeat('h', 1024), '2026-01-15',
                                   jsonb_build_object('full_refresh', (SELECT jsonb_agg('s.m' || i) FROM generate_series(1, 50000) i)))$$) AS within;

-- put_credential(): the name 63 bytes, the kind 32, the sealed secret 64 kB.
SELECT try($$SELECT ironlayer.put_credential(repeat('n', 64), 'ilseal1:AAAA')$$) AS name;
SELECT try($$SELECT ironlayer.put_credential('n', 'ilseal1:AAAA', repeat('k', 33))$$) AS kind;
SELECT ironlayer.put_credential('n', 'ilseal1:' || repeat('A', 65529));
SELECT try($$SELECT ironlayer.put_credential(repeat('n', 63), 'ilseal1:' || repeat('A', 65528), repeat('k', 32))$$) AS within;

-- _scrub() has no limit: it keeps 4,096 bytes, and stops reading once it
-- has them (its memory is its argument and a few kB, docs/benchmarks.md).
SELECT octet_length(s) AS kept, right(s, 14) AS marker, left(s, 16) AS start
  FROM ironlayer._scrub(repeat('a@b.cd ', 300000)) s;
SELECT octet_length(s) AS kept, right(s, 14) AS marker
  FROM ironlayer._scrub(repeat('x', 16 << 20), true) s;
