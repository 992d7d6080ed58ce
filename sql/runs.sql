--
-- Environments and the approval gate through SQL: the defaults of a new
-- tenant, set_environment() and its errors, approve()/reject() with one
-- decision per user, the author rule and final rejections.
--
\set SHOW_CONTEXT never
CREATE ROLE regress_ru_ann; GRANT ironlayer_admin TO regress_ru_ann;
CREATE ROLE regress_ru_eng; GRANT ironlayer_engineer TO regress_ru_eng;
CREATE ROLE regress_ru_eve; GRANT ironlayer_engineer TO regress_ru_eve;
CREATE ROLE regress_ru_vic; GRANT ironlayer_viewer TO regress_ru_vic;
CREATE ROLE regress_ru_runner;
SET ROLE regress_ru_ann;
SELECT ironlayer.create_tenant('runs-a') IS NOT NULL AS created;
SELECT ironlayer.add_member('runs-a', 'regress_ru_eng', 'engineer');
SELECT ironlayer.add_member('runs-a', 'regress_ru_eve', 'engineer');
SELECT ironlayer.add_member('runs-a', 'regress_ru_vic', 'viewer');
SELECT ironlayer.use_tenant('runs-a') IS NOT NULL AS bound;

-- A new tenant has dev (auto-approved, prefix dev_) and prod (one approval
-- by someone other than the author); model SQL runs as the creator.
SELECT name, executor, auto_approve, approvals_required, approver_must_differ, schema_prefix, run_as, settings
  FROM ironlayer.environments ORDER BY name;

-- set_environment: create or change; every key checked.
SELECT ironlayer.set_environment('staging', '{"approvals_required": 2, "schema_prefix": "stg_", "run_as": "regress_ru_runner", "settings": {"timeout": "1 h"}}');
SELECT ironlayer.set_environment('dev', '{"auto_approve": false}');
SELECT name, auto_approve, approvals_required, approver_must_differ, schema_prefix, run_as, settings
  FROM ironlayer.environments ORDER BY name;
SELECT try($$SELECT ironlayer.set_environment('dev', '{"colour": "red"}')$$);
SELECT try($$SELECT ironlayer.set_environment('dev', '{"executor": "databricks"}')$$);
SELECT try($$SELECT ironlayer.set_environment('dev', '{"auto_approve": "yes"}')$$);
SELECT try($$SELECT ironlayer.set_environment('dev', '{"approvals_required": 11}')$$);
SELECT try($$SELECT ironlayer.set_environment('dev', '{"approvals_required": 1.5}')$$);
SELECT try($$SELECT ironlayer.set_environment('dev', '{"schema_prefix": "Dev-"}')$$);
SELECT try($$SELECT ironlayer.set_environment('dev', '{"run_as": "postgres"}')$$);
SELECT try($$SELECT ironlayer.set_environment('dev', '{"run_as": "regress_ru_nobody"}')$$);
SELECT try($$SELECT ironlayer.set_environment('dev', '{"settings": [1]}')$$);
SELECT try($$SELECT ironlayer.set_environment('dev', '[]')$$);
SELECT try($$SELECT ironlayer.set_environment('Bad', '{}')$$);
SELECT try($$SELECT ironlayer.set_environment('dev', NULL)$$);
SELECT count(*) AS unchanged FROM ironlayer.environments WHERE name = 'dev' AND NOT auto_approve AND schema_prefix = 'dev_';
SET ROLE regress_ru_eng;
SELECT ironlayer.use_tenant('runs-a') IS NOT NULL AS bound;
SELECT try($$SELECT ironlayer.set_environment('dev', '{}')$$) AS engineer_sets;

-- A plan to decide on, made by regress_ru_eng.
RESET ROLE;
SELECT ironlayer.use_tenant('runs-a') IS NOT NULL AS bound;
SELECT ironlayer.add_repo('shop', 'shop') > 0 AS added;
SET ROLE regress_ru_eng;
SELECT ironlayer.use_tenant('runs-a') IS NOT NULL AS bound;
SELECT ironlayer.plan('shop', 'v1', 'main', '2026-01-15')->>'plan_id' AS plan_id \gset
SELECT length(:'plan_id') AS id_length;

-- The author cannot approve in prod; another engineer can, once.
SELECT try(format($$SELECT ironlayer.approve(%L, 'prod')$$, :'plan_id')) AS author_approves;
SELECT ironlayer.approve(:'plan_id', 'dev', 'fine in dev') AS author_in_dev;
SET ROLE regress_ru_eve;
SELECT ironlayer.use_tenant('runs-a') IS NOT NULL AS bound;
SELECT ironlayer.approve(:'plan_id', 'prod', 'looks right');
SELECT try(format($$SELECT ironlayer.approve(%L, 'prod')$$, :'plan_id')) AS twice;
SELECT try($$SELECT ironlayer.approve('nope', 'prod')$$) AS unknown_plan;
SELECT try(format($$SELECT ironlayer.approve(%L, 'qa')$$, :'plan_id')) AS unknown_environment;
SELECT try(format($$SELECT ironlayer.reject(%L, 'staging', '')$$, :'plan_id')) AS no_reason;
-- a rejection is final, even for someone who approved before
SELECT ironlayer.reject(:'plan_id', 'staging', 'wrong range');
SET ROLE regress_ru_eng;
SELECT ironlayer.use_tenant('runs-a') IS NOT NULL AS bound;
SELECT try(format($$SELECT ironlayer.approve(%L, 'staging')$$, :'plan_id')) AS after_rejection;
SET ROLE regress_ru_vic;
SELECT ironlayer.use_tenant('runs-a') IS NOT NULL AS bound;
SELECT try(format($$SELECT ironlayer.approve(%L, 'dev')$$, :'plan_id')) AS viewer_approves;
SELECT environment, approver, decision, comment FROM ironlayer.plan_approvals ORDER BY environment, approver;
RESET ROLE;
SELECT action, entity_id = :'plan_id' AS on_plan, details->>'environment' AS environment
  FROM ironlayer.audit_log WHERE action IN ('plan.approve', 'plan.reject') ORDER BY seq;
