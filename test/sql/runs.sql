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
CREATE ROLE regress_ru_other;
GRANT regress_ru_runner TO regress_ru_ann;
SET ROLE regress_ru_ann;
SELECT ironlayer.create_tenant('runs-a') IS NOT NULL AS created;
SELECT ironlayer.add_member('runs-a', 'regress_ru_eng', 'engineer');
SELECT ironlayer.add_member('runs-a', 'regress_ru_eve', 'engineer');
SELECT ironlayer.add_member('runs-a', 'regress_ru_vic', 'viewer');
SELECT ironlayer.use_tenant('runs-a') IS NOT NULL AS bound;

-- A new tenant has dev (auto-approved) and prod (one approval by someone
-- other than the author), each writing under the tenant's schema stem and
-- running model SQL as a role made for it: no login, member of nothing,
-- no rights until the DBA grants some; statements bounded in time.
SELECT name, executor, auto_approve, approvals_required, approver_must_differ, schema_prefix, run_as,
       run_as = default_run_as AS own_role, statement_timeout, lock_timeout, max_running_steps, settings
  FROM ironlayer.environments ORDER BY name;
SELECT name, schema_stem FROM ironlayer.tenants;
SELECT r.rolname, r.rolcanlogin, r.rolsuper, r.rolcreaterole, r.rolbypassrls,
       (SELECT count(*) FROM pg_auth_members m WHERE m.member = r.oid OR m.roleid = r.oid) AS memberships,
       shobj_description(r.oid, 'pg_authid') AS comment
  FROM pg_roles r WHERE r.rolname LIKE 'ironlayer\_runs\_a\_%' ORDER BY 1;

-- set_environment: create or change; every key checked.
SELECT ironlayer.set_environment('staging', '{"approvals_required": 2, "schema_prefix": "runsa_stg_", "run_as": "regress_ru_runner", "settings": {"timeout": "1 h"}}');
SELECT ironlayer.set_environment('dev', '{"auto_approve": false, "statement_timeout": "90s", "lock_timeout": "250 ms", "max_running_steps": 3}');
SELECT ironlayer.set_environment('uat', '{}');
SELECT name, auto_approve, approvals_required, approver_must_differ, schema_prefix, run_as,
       run_as = default_run_as AS own_role, statement_timeout, lock_timeout, max_running_steps, settings
  FROM ironlayer.environments ORDER BY name;
-- an admin may give an environment back its own role, though not a member of it
SELECT ironlayer.set_environment('uat', '{"run_as": "regress_ru_runner"}');
SELECT ironlayer.set_environment('uat', jsonb_build_object('run_as', default_run_as)) FROM ironlayer.environments WHERE name = 'uat';
SELECT ironlayer.set_environment('uat', '{"max_running_steps": null}');
SELECT run_as = default_run_as AS own_role_again, max_running_steps FROM ironlayer.environments WHERE name = 'uat';
-- schemas belong to one tenant: an admin's prefix starts with the tenant's
-- stem, and no prefix overlaps another tenant's schemas (say nothing of whose)
SELECT try($$SELECT ironlayer.set_environment('dev', '{"schema_prefix": "dev_"}')$$) AS not_the_stem;
SELECT try($$SELECT ironlayer.set_environment('dev', '{"schema_prefix": ""}')$$) AS everything;
RESET ROLE;
SELECT ironlayer.create_tenant('runs-b') IS NOT NULL AS other_tenant;
SELECT ironlayer.use_tenant('runs-b') IS NOT NULL AS bound;
SELECT try($$SELECT ironlayer.set_environment('prod', '{"schema_prefix": "runsa_"}')$$) AS same_as_other;
SELECT try($$SELECT ironlayer.set_environment('prod', '{"schema_prefix": "runsa_dev_marts_"}')$$) AS inside_other;
SELECT try($$SELECT ironlayer.set_environment('prod', '{"schema_prefix": "runs"}')$$) AS around_other;
SELECT try($$SELECT ironlayer.set_environment('prod', '{"schema_prefix": ""}')$$) AS everything_by_superuser;
SELECT ironlayer.set_environment('prod', '{"schema_prefix": "shared_b_"}') AS superuser_sets_any_free_prefix;
SELECT ironlayer.use_tenant('runs-a') IS NOT NULL AS bound;
SELECT try($$SELECT ironlayer.set_environment('prod', '{"schema_prefix": "shared_"}')$$) AS superuser_overlaps;
-- stems are letters and digits and one "_": no stem starts with another,
-- so distinct stems never name one schema; a tenant whose name's stem is
-- taken (or is "pg_", a reserved prefix) gets a random one
SELECT ironlayer.create_tenant('runs_a') IS NOT NULL AS created;
SELECT ironlayer.create_tenant('p-g') IS NOT NULL AS created;
SELECT name, schema_stem ~ '^t[0-9a-f]{12}_$' AS random_stem FROM ironlayer.tenants WHERE name IN ('runs_a', 'p-g') ORDER BY 1;
SET ROLE regress_ru_ann;
SELECT ironlayer.use_tenant('runs-a') IS NOT NULL AS bound;
SELECT try($$SELECT ironlayer.set_environment('dev', '{"colour": "red"}')$$);
SELECT try($$SELECT ironlayer.set_environment('dev', '{"executor": "databricks"}')$$);
SELECT try($$SELECT ironlayer.set_environment('dev', '{"auto_approve": "yes"}')$$);
SELECT try($$SELECT ironlayer.set_environment('dev', '{"approvals_required": 11}')$$);
SELECT try($$SELECT ironlayer.set_environment('dev', '{"approvals_required": 1.5}')$$);
SELECT try($$SELECT ironlayer.set_environment('dev', '{"schema_prefix": "Dev-"}')$$);
SELECT try($$SELECT ironlayer.set_environment('dev', '{"statement_timeout": "0"}')$$);
SELECT try($$SELECT ironlayer.set_environment('dev', '{"statement_timeout": "8 days"}')$$);
SELECT try($$SELECT ironlayer.set_environment('dev', '{"lock_timeout": 5}')$$);
SELECT try($$SELECT ironlayer.set_environment('dev', '{"lock_timeout": "soon"}')$$);
SELECT try($$SELECT ironlayer.set_environment('dev', '{"max_running_steps": 0}')$$);
SELECT try($$SELECT ironlayer.set_environment('dev', jsonb_build_object('settings', jsonb_build_object('big', repeat('x', 70000))))$$);
SELECT try($$SELECT ironlayer.set_environment(repeat('d', 64), '{}')$$);
SELECT try($$SELECT ironlayer.set_environment('dev', '{"run_as": "postgres"}')$$);
SELECT try($$SELECT ironlayer.set_environment('dev', '{"run_as": "regress_ru_nobody"}')$$);
SELECT try($$SELECT ironlayer.set_environment('dev', '{"run_as": "regress_ru_other"}')$$) AS not_a_member;
-- roles whose rights reach past their grants, or that every tenant shares,
-- are refused even to an admin who is a member of them
RESET ROLE;
CREATE ROLE regress_ru_bypass BYPASSRLS; GRANT regress_ru_bypass TO regress_ru_ann;
CREATE ROLE regress_ru_reader; GRANT pg_read_all_data TO regress_ru_reader; GRANT regress_ru_reader TO regress_ru_ann;
SET ROLE regress_ru_ann;
SELECT try($$SELECT ironlayer.set_environment('dev', '{"run_as": "ironlayer_admin"}')$$) AS shared_group;
SELECT try($$SELECT ironlayer.set_environment('dev', '{"run_as": "pg_read_all_data"}')$$) AS predefined;
SELECT try($$SELECT ironlayer.set_environment('dev', '{"run_as": "regress_ru_bypass"}')$$) AS bypassrls;
SELECT try($$SELECT ironlayer.set_environment('dev', '{"run_as": "regress_ru_reader"}')$$) AS reads_all_data;
SELECT try($$SELECT ironlayer.set_environment('dev', '{"settings": [1]}')$$);
SELECT try($$SELECT ironlayer.set_environment('dev', '[]')$$);
SELECT try($$SELECT ironlayer.set_environment('Bad', '{}')$$);
SELECT try($$SELECT ironlayer.set_environment('dev', NULL)$$);
SELECT count(*) AS unchanged FROM ironlayer.environments
 WHERE name = 'dev' AND NOT auto_approve AND schema_prefix = 'runsa_dev_' AND lock_timeout = '250 ms';
SET ROLE regress_ru_eng;
SELECT ironlayer.use_tenant('runs-a') IS NOT NULL AS bound;
SELECT try($$SELECT ironlayer.set_environment('dev', '{}')$$) AS engineer_sets;

-- Plans to decide on, made by regress_ru_eng, one per environment (a plan
-- is decided on and applied only in its own). Nothing is deployed here:
-- prod and staging run plans from any base (deployments.sql tests stale
-- plans).
RESET ROLE;
SELECT ironlayer.grant_repo('runs-a', 'shop');	-- the fixture is shared by the tests' tenants
SELECT ironlayer.use_tenant('runs-a') IS NOT NULL AS bound;
SELECT ironlayer.add_repo('shop', 'shop') > 0 AS added;
SELECT ironlayer.set_environment('prod', '{"refuse_stale_plans": false}');
SELECT ironlayer.set_environment('staging', '{"refuse_stale_plans": false}');
SET ROLE regress_ru_eng;
SELECT ironlayer.use_tenant('runs-a') IS NOT NULL AS bound;
SELECT ironlayer.plan('shop', 'v1', 'main', '2026-01-15', '{"environment": "prod"}')->>'plan_id' AS plan_id \gset
SELECT ironlayer.plan('shop', 'v1', 'main', '2026-01-15', '{"environment": "staging"}')->>'plan_id' AS staging_plan \gset
SELECT ironlayer.plan('shop', 'v1', 'main', '2026-01-15')->>'plan_id' AS dev_plan \gset
SELECT length(:'plan_id') AS id_length;

-- The author cannot approve in prod; another engineer can, once.
SELECT try(format($$SELECT ironlayer.approve(%L, 'prod')$$, :'plan_id')) AS author_approves;
SELECT ironlayer.approve(:'dev_plan', 'dev', 'fine in dev') AS author_in_dev;
-- a plan is decided on only in its environment
SELECT try(format($$SELECT ironlayer.approve(%L, 'prod')$$, :'dev_plan')) AS other_environment;
SELECT try(format($$SELECT ironlayer.reject(%L, 'dev', 'no')$$, :'plan_id')) AS other_environment;
SET ROLE regress_ru_eve;
SELECT ironlayer.use_tenant('runs-a') IS NOT NULL AS bound;
SELECT ironlayer.approve(:'plan_id', 'prod', 'looks right');
SELECT try(format($$SELECT ironlayer.approve(%L, 'prod')$$, :'plan_id')) AS twice;
SELECT try($$SELECT ironlayer.approve('nope', 'prod')$$) AS unknown_plan;
SELECT try(format($$SELECT ironlayer.approve(%L, 'qa')$$, :'plan_id')) AS unknown_environment;
SELECT try(format($$SELECT ironlayer.reject(%L, 'staging', '')$$, :'staging_plan')) AS no_reason;
SELECT try(format($$SELECT ironlayer.reject(%L, 'staging', repeat('r', 8193))$$, :'staging_plan')) AS long_reason;
SELECT try(format($$SELECT ironlayer.approve(%L, 'staging', repeat('c', 8193))$$, :'staging_plan')) AS long_comment;
SELECT try($$SELECT ironlayer.approve(repeat('p', 65), 'staging')$$) AS long_plan_id;
-- a rejection stands, even for someone who approved before, until it is
-- withdrawn (deployments.sql)
SELECT ironlayer.approve(:'staging_plan', 'staging', 'looked right');
SELECT ironlayer.reject(:'staging_plan', 'staging', 'wrong range');
SET ROLE regress_ru_eng;
SELECT ironlayer.use_tenant('runs-a') IS NOT NULL AS bound;
SELECT try(format($$SELECT ironlayer.approve(%L, 'staging')$$, :'staging_plan')) AS after_rejection;
SET ROLE regress_ru_vic;
SELECT ironlayer.use_tenant('runs-a') IS NOT NULL AS bound;
SELECT try(format($$SELECT ironlayer.approve(%L, 'dev')$$, :'dev_plan')) AS viewer_approves;
SELECT environment, approver, decision, comment FROM ironlayer.plan_approvals ORDER BY environment, approver;
RESET ROLE;
SELECT action, CASE entity_id WHEN :'plan_id' THEN 'prod plan' WHEN :'staging_plan' THEN 'staging plan'
                              WHEN :'dev_plan' THEN 'dev plan' END AS plan, details->>'environment' AS environment
  FROM ironlayer.audit_log WHERE action IN ('plan.approve', 'plan.reject')
   AND tenant_id = (SELECT tenant_id FROM ironlayer.tenants WHERE name = 'runs-a') ORDER BY seq;

-- Runs. prod is not approved for this plan by enough people yet.
SET ROLE regress_ru_eng;
SELECT ironlayer.use_tenant('runs-a') IS NOT NULL AS bound;
SELECT try(format($$SELECT ironlayer.apply(%L, 'staging')$$, :'staging_plan')) AS rejected_env;
SELECT try(format($$SELECT ironlayer.apply(%L, 'dev')$$, :'plan_id')) AS other_environment;
SELECT try(format($$SELECT ironlayer.apply(%L, 'qa')$$, :'plan_id')) AS unknown_env;
SELECT try($$SELECT ironlayer.apply('nope', 'dev')$$) AS unknown_plan;
SET ROLE regress_ru_vic;
SELECT ironlayer.use_tenant('runs-a') IS NOT NULL AS bound;
SELECT try(format($$SELECT ironlayer.apply(%L, 'prod')$$, :'plan_id')) AS viewer_applies;
SET ROLE regress_ru_eng;
SELECT ironlayer.use_tenant('runs-a') IS NOT NULL AS bound;
SELECT ironlayer.apply(:'plan_id', 'prod') AS run1 \gset
SELECT regexp_replace(try(format($$SELECT ironlayer.apply(%L, 'prod')$$, :'plan_id')), 'run \d+ ', 'run N ') AS second_active_run;
SELECT step_index, model, run_type, start_date, end_date, cardinality(depends_on) AS deps,
       cardinality(dependents) AS downstream, waiting, state, attempts
  FROM ironlayer.run_steps WHERE run_id = :run1 ORDER BY step_index;

-- A worker (any member of ironlayer_worker; here the superuser) claims
-- steps in dependency order under a lease and records outcomes.
RESET ROLE;
SELECT try($$SELECT ironlayer.claim_step(NULL)$$) AS no_worker;
SELECT s.step_id = rs.step_id AS first_is_staging, rs.model, s.attempts
  FROM ironlayer.claim_step('w1') s JOIN ironlayer.run_steps rs USING (tenant_id, run_id, step_id);
SELECT count(*) AS nothing_else_runnable FROM ironlayer.claim_step('w2');
SELECT state FROM ironlayer.runs WHERE run_id = :run1;
SELECT ironlayer.heartbeat(:run1, (SELECT step_id FROM ironlayer.run_steps WHERE run_id = :run1 AND model = 'staging.orders'), 'w1') AS w1_holds;
SELECT ironlayer.heartbeat(:run1, (SELECT step_id FROM ironlayer.run_steps WHERE run_id = :run1 AND model = 'staging.orders'), 'w2') AS w2_holds;
SELECT ironlayer.complete_step(:run1, (SELECT step_id FROM ironlayer.run_steps WHERE run_id = :run1 AND model = 'staging.orders'),
                               'w2', true) AS wrong_worker_completes;
SELECT ironlayer.complete_step(:run1, (SELECT step_id FROM ironlayer.run_steps WHERE run_id = :run1 AND model = 'staging.orders'),
                               'w1', true, 42, repeat('a', 64), 'postgres') AS completed;
SELECT model, waiting, state FROM ironlayer.run_steps WHERE run_id = :run1 ORDER BY step_index;
-- the two downstream steps wait for nothing more and are runnable now;
-- one fails, with a message holding personal data that is scrubbed before
-- storage (its hint, on a last line, as prose: an apostrophe hides nothing)
SELECT rs.model FROM ironlayer.claim_step('w1') s JOIN ironlayer.run_steps rs USING (tenant_id, run_id, step_id);
SELECT rs.model FROM ironlayer.claim_step('w2') s JOIN ironlayer.run_steps rs USING (tenant_id, run_id, step_id);
SELECT ironlayer.complete_step(:run1, (SELECT step_id FROM ironlayer.run_steps WHERE run_id = :run1 AND model = 'marts.revenue'),
                               'w2', false, NULL, NULL, 'postgres', '42P01',
                               'relation "ext.fx" does not exist; mail ops@example.com, host 10.1.2.3, card 4111 1111 1111 1111, WHERE name = ''Ann'''
                               || E'\nHint: the model''s source; ask ops@example.com') AS failed;
SELECT state FROM ironlayer.runs WHERE run_id = :run1;
SELECT ironlayer.complete_step(:run1, (SELECT step_id FROM ironlayer.run_steps WHERE run_id = :run1 AND model = 'marts.customer_summary'),
                               'w1', true, 7) AS completed;
SELECT model, state, attempts, rows_affected, error_class, error_message
  FROM ironlayer.run_steps WHERE run_id = :run1 ORDER BY step_index;
-- every finished step that started has its duration
SELECT model, duration IS NOT NULL AND duration >= '0' AND duration = finished_at - started_at AS timed
  FROM ironlayer.run_steps WHERE run_id = :run1 ORDER BY step_index;
SELECT state, steps, succeeded, failed, skipped, unfinished, rows_affected FROM ironlayer.run_summary WHERE run_id = :run1;

-- retry: a new run of what did not succeed
SET ROLE regress_ru_eng;
SELECT ironlayer.use_tenant('runs-a') IS NOT NULL AS bound;
SELECT ironlayer.wait(:run1, '1 s') AS final;
SELECT ironlayer.retry(:run1) AS run2 \gset
SELECT model, cardinality(depends_on) AS deps, waiting, state FROM ironlayer.run_steps WHERE run_id = :run2 ORDER BY step_index;
SELECT regexp_replace(try(format($$SELECT ironlayer.retry(%s)$$, :run2)), 'run \d+ ', 'run N ') AS retry_active;
SELECT regexp_replace(try(format($$SELECT ironlayer.wait(%s, '0.2 s')$$, :run2)), 'run \d+ ', 'run N ') AS wait_times_out;
SELECT ironlayer.cancel(:run2);
SELECT ironlayer.cancel(:run2) AS cancel_again;
SELECT state, cancelled, unfinished FROM ironlayer.run_summary WHERE run_id = :run2;
RESET ROLE;
SELECT count(*) AS nothing_runnable_after_cancel FROM ironlayer.claim_step('w1');
SELECT ironlayer.use_tenant('runs-a') IS NOT NULL AS bound;
SELECT try($$SELECT ironlayer.cancel(999999)$$) AS unknown_run;
SELECT try($$SELECT ironlayer.cancel(NULL)$$) AS null_run;
SELECT try($$SELECT ironlayer.retry(NULL)$$) AS null_retry;
-- an expired lease is claimed again, with one more attempt
SET ROLE regress_ru_eng;
SELECT ironlayer.use_tenant('runs-a') IS NOT NULL AS bound;
-- waiting in the transaction that applied a run is an error at once (no
-- worker can see the run before the commit), not a wait until the timeout
SELECT regexp_replace(try(format($$SELECT ironlayer.wait(ironlayer.retry(%s), '1 min')$$, :run2)), 'run \d+ ', 'run N ')
       AS wait_in_applying_transaction;
SELECT ironlayer.retry(:run2) AS run3 \gset
RESET ROLE;
SELECT rs.model, s.attempts FROM ironlayer.claim_step('w1', '1 ms') s JOIN ironlayer.run_steps rs USING (tenant_id, run_id, step_id);
SELECT pg_sleep(0.05);
SELECT rs.model, s.attempts FROM ironlayer.claim_step('w2') s JOIN ironlayer.run_steps rs USING (tenant_id, run_id, step_id);
SELECT count(*) AS one_step FROM ironlayer.run_steps WHERE run_id = :run3;
SELECT ironlayer.complete_step(:run3, (SELECT step_id FROM ironlayer.run_steps WHERE run_id = :run3), 'w1', true) AS stale_worker;
SELECT ironlayer.complete_step(:run3, (SELECT step_id FROM ironlayer.run_steps WHERE run_id = :run3), 'w2', true) AS new_owner;
SELECT state FROM ironlayer.runs WHERE run_id = :run3;

-- cancel() with a step running: the run is cancelling, still active, until
-- that step ends (no new run of the repository in the environment, no
-- retry, wait() waits, no step of it is claimed); complete_step ends it
SET ROLE regress_ru_eng;
SELECT ironlayer.use_tenant('runs-a') IS NOT NULL AS bound;
SELECT ironlayer.apply(:'plan_id', 'prod') AS run_c \gset
RESET ROLE;
SELECT rs.model FROM ironlayer.claim_step('w1') s JOIN ironlayer.run_steps rs USING (tenant_id, run_id, step_id)
 WHERE s.run_id = :run_c;
SELECT step_id AS step_c FROM ironlayer.run_steps WHERE run_id = :run_c AND state = 'running' \gset
SET ROLE regress_ru_eng;
SELECT ironlayer.use_tenant('runs-a') IS NOT NULL AS bound;
SELECT ironlayer.cancel(:run_c) AS cancel_running;
SELECT ironlayer.cancel(:run_c) AS cancel_again;
SELECT state, finished_at IS NULL AS unfinished_run, cancelled, unfinished FROM ironlayer.run_summary WHERE run_id = :run_c;
SELECT regexp_replace(try(format($$SELECT ironlayer.apply(%L, 'prod')$$, :'plan_id')), 'run \d+ ', 'run N ') AS apply_while_cancelling;
SELECT regexp_replace(try(format($$SELECT ironlayer.retry(%s)$$, :run_c)), 'run \d+ ', 'run N ') AS retry_while_cancelling;
SELECT regexp_replace(try(format($$SELECT ironlayer.wait(%s, '0.1 s')$$, :run_c)), 'run \d+ ', 'run N ') AS wait_while_cancelling;
RESET ROLE;
SELECT count(*) AS nothing_to_claim FROM ironlayer.claim_step('w2');
SELECT ironlayer.complete_step(:run_c, :'step_c', 'w1', true, 1) AS completed;
SELECT state, finished_at IS NOT NULL AS finished, succeeded, cancelled, unfinished
  FROM ironlayer.run_summary WHERE run_id = :run_c;
-- a cancelling run whose running step lost its worker (the lease expired):
-- the step is cancelled, never claimed again, and the run with it
SET ROLE regress_ru_eng;
SELECT ironlayer.use_tenant('runs-a') IS NOT NULL AS bound;
SELECT ironlayer.wait(:run_c, '1 s') AS final;
SELECT ironlayer.apply(:'plan_id', 'prod') AS run_d \gset
RESET ROLE;
SELECT count(*) AS claimed FROM ironlayer.claim_step('w1', '1 ms') s WHERE s.run_id = :run_d;
SET ROLE regress_ru_eng;
SELECT ironlayer.use_tenant('runs-a') IS NOT NULL AS bound;
SELECT ironlayer.cancel(:run_d) AS cancel_running;
RESET ROLE;
SELECT pg_sleep(0.05);
SELECT count(*) AS nothing_to_claim FROM ironlayer.claim_step('w2');
SELECT state, count(*) FROM ironlayer.run_steps WHERE run_id = :run_d GROUP BY 1 ORDER BY 1;
SELECT state, finished_at IS NOT NULL AS finished FROM ironlayer.runs WHERE run_id = :run_d;

-- an empty plan runs at once; an environment without run_as cannot run
SET ROLE regress_ru_eng;
SELECT ironlayer.use_tenant('runs-a') IS NOT NULL AS bound;
SELECT ironlayer.plan('shop', 'main', 'main', '2026-01-15')->>'plan_id' AS empty_plan \gset
SELECT ironlayer.wait(ironlayer.apply(:'empty_plan', 'dev')) AS empty_run;
SET ROLE regress_ru_ann;
SELECT ironlayer.use_tenant('runs-a') IS NOT NULL AS bound;
SELECT ironlayer.set_environment('dev', '{"run_as": null, "auto_approve": true}');
SELECT try(format($$SELECT ironlayer.apply(%L, 'dev')$$, :'dev_plan')) AS no_run_as;
RESET ROLE;
SELECT action, count(*) FROM ironlayer.audit_log
 WHERE action LIKE 'run.%' AND tenant_id = (SELECT tenant_id FROM ironlayer.tenants WHERE name = 'runs-a')
 GROUP BY 1 ORDER BY 1;

-- Bounds a tenant cannot pass: 100 environments (each has a role of its
-- own, cluster-wide) and 100 active runs (every claim looks at them all).
SET ROLE regress_ru_ann;
SELECT ironlayer.use_tenant('runs-a') IS NOT NULL AS bound;
SELECT count(*) AS environments FROM ironlayer.environments;
SELECT count(ironlayer.set_environment('e' || g, '{"auto_approve": true, "refuse_stale_plans": false}'))
  FROM generate_series(1, 100 - (SELECT count(*) FROM ironlayer.environments)) g;
SELECT try($$SELECT ironlayer.set_environment('one_more', '{}')$$) AS environment_101;
RESET ROLE;
SELECT ironlayer.use_tenant('runs-a') IS NOT NULL AS bound;
SELECT ironlayer.add_repo('shop2', 'shop') > 0 AS same_store_other_name;
SET ROLE regress_ru_eng;
SELECT ironlayer.use_tenant('runs-a') IS NOT NULL AS bound;
SELECT count(ironlayer.apply(ironlayer.plan('shop', 'v1', 'main', '2026-01-16',
                                             jsonb_build_object('environment', name))->>'plan_id', name)) AS applied
  FROM ironlayer.environments WHERE name ~ '^e[0-9]+$';
SELECT count(*) AS active FROM ironlayer.runs WHERE state IN ('pending', 'running');
SELECT count(ironlayer.apply(ironlayer.plan('shop2', 'v1', 'main', '2026-01-17',
                                             jsonb_build_object('environment', name))->>'plan_id', name)) AS applied
  FROM ironlayer.environments WHERE name IN ('e1', 'e2', 'e3', 'e4');
SELECT ironlayer.plan('shop2', 'v1', 'main', '2026-01-17', '{"environment": "e5"}')->>'plan_id' AS p2 \gset
SELECT try(format($$SELECT ironlayer.apply(%L, 'e5')$$, :'p2')) AS run_101;
SELECT count(*) AS active FROM ironlayer.runs WHERE state IN ('pending', 'running');
-- none is left for the tests that claim steps after this one
SELECT count(ironlayer.cancel(run_id)) AS cancelled FROM ironlayer.runs WHERE state IN ('pending', 'running');
RESET ROLE;
