--
-- Plans through SQL: ironlayer.plan() over the fixture repository (fixed
-- commit ids, so the canonical text is fixed too), stored once, immutable;
-- watermarks; options and their errors; plan_steps; privileges.
--
\set SHOW_CONTEXT never
CREATE ROLE regress_pl_ann; GRANT ironlayer_admin TO regress_pl_ann;
CREATE ROLE regress_pl_eng; GRANT ironlayer_engineer TO regress_pl_eng;
CREATE ROLE regress_pl_vic; GRANT ironlayer_viewer TO regress_pl_vic;
SET ROLE regress_pl_ann;
SELECT ironlayer.create_tenant('plans-a') IS NOT NULL AS created;
SELECT ironlayer.add_member('plans-a', 'regress_pl_eng', 'engineer');
SELECT ironlayer.add_member('plans-a', 'regress_pl_vic', 'viewer');
RESET ROLE;
SELECT ironlayer.grant_repo('plans-a', 'shop');	-- the fixture is shared by the tests' tenants
SET ROLE regress_pl_ann;
SELECT ironlayer.use_tenant('plans-a') IS NOT NULL AS bound;
SELECT ironlayer.add_repo('shop', 'shop') > 0 AS added;

-- The plan of v1..main: the canonical text itself, with its id.
SET ROLE regress_pl_eng;
SELECT ironlayer.use_tenant('plans-a') IS NOT NULL AS bound;
SELECT ironlayer.plan('shop', 'v1', 'main', '2026-01-15');
SELECT count(*) AS stored, min(plan_id) = encode(sha256(convert_to(
         regexp_replace(min(plan::text), ',"plan_id":"[0-9a-f]{64}"', ''), 'UTF8')), 'hex') AS id_is_sha256
  FROM ironlayer.plans;
-- the same inputs: the same bytes, one row
SELECT ironlayer.plan('shop', 'HEAD~1', 'HEAD', '2026-01-15')::text =
       ironlayer.plan('shop', 'f3a2ee9', '33a4e16dfa1f635144699044ffae7559a9716be1', '2026-01-15', '{}')::text AS same_text;
SELECT count(*) AS still_one FROM ironlayer.plans;
SELECT step_index, model, run_type, start_date, end_date, parallel_group, cardinality(depends_on) AS deps, reason
  FROM ironlayer.plan_steps ORDER BY step_index;
SELECT repository, base, target, environment, as_of, created_by FROM ironlayer.plans;
-- show_plan(): the steps as a table in plan order, by id or unique prefix.
SELECT * FROM ironlayer.show_plan((SELECT plan_id FROM ironlayer.plans));
SELECT count(*) AS by_prefix FROM ironlayer.show_plan((SELECT left(plan_id, 8) FROM ironlayer.plans));
SELECT try($$SELECT * FROM ironlayer.show_plan('1234567')$$) AS short_prefix;
SELECT try($$SELECT * FROM ironlayer.show_plan('ABCDEF12')$$) AS upper_case;
SELECT try($$SELECT * FROM ironlayer.show_plan(NULL)$$) AS null_id;
SELECT try($$SELECT * FROM ironlayer.show_plan('0000000000000000')$$) AS unknown;
SELECT left(plan_id, 8) AS pfx FROM ironlayer.plans \gset
SELECT ironlayer.use_tenant(NULL);
SELECT try(format('SELECT * FROM ironlayer.show_plan(%L)', :'pfx')) AS unbound;
SELECT ironlayer.use_tenant('plans-a') IS NOT NULL AS bound;

-- Watermarks move incremental ranges; another environment has its own.
SET ROLE regress_pl_ann;
SELECT ironlayer.use_tenant('plans-a') IS NOT NULL AS bound;
SELECT ironlayer.set_watermark('shop', 'dev', 'staging.orders', '2025-06-01', '2026-01-10');
SELECT ironlayer.set_watermark('shop', 'prod', 'staging.orders', '2025-01-01', '2025-12-01');
SELECT ironlayer.set_watermark('shop', 'dev', 'STAGING.Orders', '2025-06-01', '2026-01-12');
SELECT environment, model, start_date, end_date, updated_by FROM ironlayer.watermarks ORDER BY 1, 2;
SELECT repository, environment, model FROM ironlayer.watermarks ORDER BY 2, 3;
SET ROLE regress_pl_eng;
SELECT ironlayer.use_tenant('plans-a') IS NOT NULL AS bound;
SELECT s->>'model' AS model, s->'input_range' AS input_range
  FROM json_array_elements(ironlayer.plan('shop', 'v1', 'main', '2026-01-15')->'steps') s;
SELECT s->>'model' AS model, s->'input_range' AS input_range
  FROM json_array_elements(ironlayer.plan('shop', 'v1', 'main', '2026-01-15', '{"environment": "prod"}')->'steps') s;
SELECT s->>'model' AS model, s->>'run_type' AS run_type, s->>'reason' AS reason
  FROM json_array_elements(ironlayer.plan('shop', 'v1', 'main', '2026-01-15',
       '{"skip_cosmetic": false}')->'steps') s;
SELECT s->>'model' AS model, s->>'run_type' AS run_type, s->>'reason' AS reason
  FROM json_array_elements(ironlayer.plan('shop', 'v1', 'main', '2026-01-15',
       '{"skip_cosmetic": false, "full_refresh": ["staging.orders"], "lookback_days": 7}')->'steps') s;
SELECT p->'options' AS options, p->'summary' AS summary
  FROM ironlayer.plan('shop', 'v1', 'main', '2026-01-15', '{"lookback_days": 7}') p;
-- base = head: an empty plan with a valid id
SELECT p->'steps' AS steps, p->'summary'->'total_steps' AS total, length(p->>'plan_id') AS id_length
  FROM ironlayer.plan('shop', 'main', 'main', '2026-01-15') p;
SELECT count(*) AS plans_stored FROM ironlayer.plans;

-- Bad input: clear errors, nothing stored.
SELECT try($$SELECT ironlayer.plan('shop', 'v1', 'main', '2026-01-15', '{"lookback": 7}')$$);
SELECT try($$SELECT ironlayer.plan('shop', repeat('v', 1025), 'main', '2026-01-15')$$) AS long_base;
SELECT try($$SELECT ironlayer.plan(repeat('s', 64), 'v1', 'main', '2026-01-15')$$) AS long_repo;
SELECT try($$SELECT ironlayer.plan('shop', 'v1', 'main', '2026-01-15', '{"lookback_days": 0}')$$);
SELECT try($$SELECT ironlayer.plan('shop', 'v1', 'main', '2026-01-15', '{"lookback_days": 3651}')$$);
SELECT try($$SELECT ironlayer.plan('shop', 'v1', 'main', '2026-01-15', '{"lookback_days": 1.5}')$$);
SELECT try($$SELECT ironlayer.plan('shop', 'v1', 'main', '2026-01-15', '{"skip_cosmetic": "yes"}')$$);
SELECT try($$SELECT ironlayer.plan('shop', 'v1', 'main', '2026-01-15', '{"environment": "Prod"}')$$);
-- a plan is for an environment that exists: none is stored otherwise
SELECT count(*) AS plans_before FROM ironlayer.plans \gset
SELECT try($$SELECT ironlayer.plan('shop', 'v1', 'main', '2026-01-15', '{"environment": "nowhere"}')$$) AS unknown_environment;
SELECT count(*) = :plans_before AS none_stored FROM ironlayer.plans;
SELECT try($$SELECT ironlayer.plan('shop', 'v1', 'main', '2026-01-15', '{"full_refresh": "staging.orders"}')$$);
SELECT try($$SELECT ironlayer.plan('shop', 'v1', 'main', '2026-01-15', '{"full_refresh": ["orders"]}')$$);
SELECT try($$SELECT ironlayer.plan('shop', 'v1', 'main', '2026-01-15', '{"full_refresh": ["no.such_model"]}')$$);
SELECT try($$SELECT ironlayer.plan('shop', 'v1', 'main', '2026-01-15', '[]')$$);
SELECT try($$SELECT ironlayer.plan('shop', 'v1', 'main', 'infinity')$$);
SELECT try($$SELECT ironlayer.plan('shop', 'v1', 'main', NULL)$$);
SELECT try($$SELECT ironlayer.plan('shop', 'v1', 'nope', '2026-01-15')$$);
SELECT try($$SELECT ironlayer.plan('shop', 'main', 'cycle', '2026-01-15')$$);
SELECT try($$SELECT ironlayer.plan('nope', 'v1', 'main', '2026-01-15')$$);
SELECT count(*) AS plans_stored FROM ironlayer.plans;
SET ROLE regress_pl_ann;
SELECT ironlayer.use_tenant('plans-a') IS NOT NULL AS bound;
SELECT try($$SELECT ironlayer.set_watermark('shop', 'dev', 'staging.orders', '2026-01-02', '2026-01-01')$$);
SELECT try($$SELECT ironlayer.set_watermark('shop', 'Dev', 'staging.orders', '2026-01-01', '2026-01-02')$$);
SELECT try($$SELECT ironlayer.set_watermark('shop', 'dev', repeat('m', 1025), '2026-01-01', '2026-01-02')$$) AS long_model;
SELECT try($$SELECT ironlayer.set_watermark('shop', 'dev', 'orders', '2026-01-01', '2026-01-02')$$);
SELECT try($$SELECT ironlayer.set_watermark('nope', 'dev', 'staging.orders', '2026-01-01', '2026-01-02')$$);
SELECT try($$SELECT ironlayer.set_watermark('shop', 'dev', 'staging.orders', NULL, '2026-01-02')$$);

-- Privileges: viewers read but do not plan; engineers do not set watermarks;
-- nobody updates a stored plan.
SET ROLE regress_pl_vic;
SELECT ironlayer.use_tenant('plans-a') IS NOT NULL AS bound;
SELECT try($$SELECT ironlayer.plan('shop', 'v1', 'main', '2026-01-15')$$);
SELECT count(*) > 0 AS viewer_reads FROM ironlayer.plan_steps;
SET ROLE regress_pl_eng;
SELECT ironlayer.use_tenant('plans-a') IS NOT NULL AS bound;
SELECT try($$SELECT ironlayer.set_watermark('shop', 'dev', 'staging.orders', '2026-01-01', '2026-01-02')$$);
SELECT try($$UPDATE ironlayer.plans SET environment = 'x'$$);
RESET ROLE;
SELECT try($$UPDATE ironlayer.plans SET plan = '{}'$$) AS superuser_update;
SELECT action, entity_type, count(*) FROM ironlayer.audit_log
 WHERE action IN ('plan.create', 'watermark.set')
   AND tenant_id = (SELECT tenant_id FROM ironlayer.tenants WHERE name = 'plans-a') GROUP BY 1, 2 ORDER BY 1;
