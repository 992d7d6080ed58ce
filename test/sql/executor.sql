--
-- The local executor: ironlayer._execute_step(run_id, step_id, worker) runs
-- a claimed step on this server as the environment's run_as role, in the
-- caller's transaction, and records it with complete_step(). Runs are
-- driven by hand here, as a worker would drive them.
--
\set SHOW_CONTEXT never
CREATE ROLE regress_ex_ann; GRANT ironlayer_admin TO regress_ex_ann;
CREATE ROLE regress_ex_runner;		-- run_as: reads the sources
GRANT regress_ex_runner TO regress_ex_ann;	-- an admin sets only a run_as it could become
CREATE ROLE regress_ex_worker; GRANT ironlayer_worker TO regress_ex_worker;

-- Sources.
CREATE SCHEMA landing;
CREATE SCHEMA ext;
CREATE TABLE landing.orders (id int, customer_id int, amount numeric(8,2), order_date date);
INSERT INTO landing.orders VALUES (1, 1, 10.00, '2026-01-02'), (2, 1, 0.00, '2026-01-05'),
	(3, 2, 25.50, '2026-01-10'), (4, 3, -5.00, '2026-01-12');
CREATE TABLE landing.customers (id int, name text);
INSERT INTO landing.customers VALUES (1, 'Ann'), (2, 'Bob'), (3, 'Cy');
CREATE TABLE landing.events (id int, customer_id int, kind text, event_date date);
INSERT INTO landing.events VALUES (1, 1, 'view', '2026-01-03'), (2, 1, 'buy', '2026-01-03'),
	(3, 2, 'view', '2026-01-08');
CREATE TABLE ext.fx (rate numeric);
INSERT INTO ext.fx VALUES (2);
GRANT USAGE ON SCHEMA landing, ext TO regress_ex_runner;
GRANT SELECT ON ALL TABLES IN SCHEMA landing, ext TO regress_ex_runner;

-- A second repository, made here: e1 adds an APPEND_ONLY model and its
-- downstream, a view, two models the postgres executor refuses and one
-- PostgreSQL refuses; e2 changes the APPEND_ONLY model, e3 the columns of
-- the table the view reads.
SELECT current_setting('ironlayer.repo_root') AS repo_root \gset
\setenv IL_EXEC :repo_root/exec
\setenv GIT_AUTHOR_NAME ironlayer
\setenv GIT_AUTHOR_EMAIL tests@ironlayer.invalid
\setenv GIT_COMMITTER_NAME ironlayer
\setenv GIT_COMMITTER_EMAIL tests@ironlayer.invalid
\setenv GIT_CONFIG_NOSYSTEM 1
\! rm -rf "$IL_EXEC" && mkdir -p "$IL_EXEC/models" && cd "$IL_EXEC" && git -c init.defaultBranch=main init -q && printf '%s\n' '-- name: ex.one' '-- kind: FULL_REFRESH' 'SELECT 1 AS x' >models/one.sql && git add -A && git commit -q -m e0 && git tag e0
\! cd "$IL_EXEC" && printf '%s\n' '-- name: ex.events' '-- kind: APPEND_ONLY' '-- time_column: event_date' 'SELECT id, kind, event_date FROM landing.events' "WHERE event_date BETWEEN '{{ start_date }}' AND '{{ end_date }}'" >models/events.sql && printf '%s\n' '-- name: ex.daily' '-- kind: INCREMENTAL_BY_TIME_RANGE' '-- time_column: day' 'SELECT event_date AS day, count(*) AS events' 'FROM ex.events' "WHERE event_date BETWEEN '{{ start_date }}' AND '{{ end_date }}'" 'GROUP BY 1' >models/daily.sql && printf '%s\n' '-- name: ex.first_kind' '-- kind: FULL_REFRESH' 'SELECT id, kind FROM landing.events' 'QUALIFY row_number() OVER (PARTITION BY kind ORDER BY id) = 1' >models/first_kind.sql && printf '%s\n' '-- name: ex.copy' '-- kind: FULL_REFRESH' 'INSERT INTO ex.copy SELECT id FROM landing.events' >models/copy.sql && printf '%s\n' '-- name: ex.years' '-- kind: FULL_REFRESH' "SELECT id, date_format(event_date, 'yyyy') AS year FROM landing.events" >models/years.sql && printf '%s\n' '-- name: ex.one' '-- kind: FULL_REFRESH' "SELECT 1 AS x, 'a' AS tag" >models/one.sql && printf '%s\n' '-- name: ex.v' '-- kind: FULL_REFRESH' '-- materialization: VIEW' 'SELECT x, tag FROM ex.one' >models/v.sql && git add -A && git commit -q -m e1 && git tag e1
\! cd "$IL_EXEC" && printf '%s\n' '-- name: ex.events' '-- kind: APPEND_ONLY' '-- time_column: event_date' 'SELECT id, kind, event_date FROM landing.events' "WHERE id > 0 AND event_date BETWEEN '{{ start_date }}' AND '{{ end_date }}'" >models/events.sql && git add -A && git commit -q -m e2 && git tag e2
\! cd "$IL_EXEC" && printf '%s\n' '-- name: ex.one' '-- kind: FULL_REFRESH' "SELECT 1 AS x, 'a' AS tag, 2 AS extra" >models/one.sql && git add -A && git commit -q -m e3 && git tag e3

-- A tenant whose dev environment runs model SQL as regress_ex_runner.
SET ROLE regress_ex_ann;
SELECT ironlayer.create_tenant('exec-a') IS NOT NULL AS created;
RESET ROLE;
SELECT ironlayer.grant_repo('exec-a', 'shop');	-- the fixture is shared by the tests' tenants
SET ROLE regress_ex_ann;
SELECT ironlayer.use_tenant('exec-a') IS NOT NULL AS bound;
SELECT ironlayer.add_repo('shop', 'shop') > 0 AS added;
SELECT ironlayer.add_repo('exec', 'exec') > 0 AS added;
SELECT ironlayer.set_environment('dev', '{"run_as": "regress_ex_runner"}');
RESET ROLE;

-- What a worker does: claim a step, run it; on an error, roll the step's
-- work back (the subtransaction) and record the failure.
CREATE FUNCTION public.exec_next(worker text, OUT model text, OUT result text)
LANGUAGE plpgsql AS $$
DECLARE
	s record;
	hint text;
BEGIN
	SELECT c.run_id, c.step_id, rs.model AS m INTO s
	  FROM ironlayer.claim_step(worker) c JOIN ironlayer.run_steps rs USING (tenant_id, run_id, step_id);
	IF NOT FOUND THEN
		result := 'nothing to run';
		RETURN;
	END IF;
	model := s.m;
	BEGIN
		result := ironlayer._execute_step(s.run_id, s.step_id, worker) || ' rows';
	EXCEPTION WHEN OTHERS THEN
		-- the message and the hint are stored, as the background workers store them
		GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
		result := SQLSTATE || ': ' || SQLERRM;
		PERFORM ironlayer.complete_step(s.run_id, s.step_id, worker, false, NULL, NULL, 'postgres', SQLSTATE,
										SQLERRM || CASE WHEN hint <> '' THEN E'\nHint: ' || hint ELSE '' END);
	END;
END $$;
-- the state of a run's steps
CREATE FUNCTION public.steps_of(run bigint)
RETURNS TABLE (model text, run_type text, start_date date, end_date date, state text, rows_affected bigint,
			   executor text, sha_ok boolean, error_class text)
LANGUAGE sql AS $$
	SELECT model, run_type, start_date, end_date, state, rows_affected, executor,
		   statement_sha256 ~ '^[0-9a-f]{64}$', error_class
	  FROM ironlayer.run_steps WHERE run_id = run ORDER BY step_index
$$;
-- error text without run and step ids (they depend on what ran before)
CREATE FUNCTION public.masked(t text) RETURNS text LANGUAGE sql AS $$
	SELECT regexp_replace(regexp_replace(t, '[0-9a-f]{64}', 'S', 'g'), 'run [0-9]+', 'run R', 'g')
$$;
CREATE FUNCTION public.step_of(run bigint, m text) RETURNS text LANGUAGE sql AS $$
	SELECT step_id FROM ironlayer.run_steps WHERE run_id = run AND model = m
$$;

--
-- 1. Every model of shop rebuilt: cycle -> main changes raw.orders, and all
-- its descendants follow as full refreshes.
--
SET ROLE regress_ex_ann;
SELECT ironlayer.use_tenant('exec-a') IS NOT NULL AS bound;
SELECT ironlayer.plan('shop', 'cycle', 'main', '2026-01-15')->>'plan_id' AS full_plan \gset
SELECT ironlayer.apply(:'full_plan', 'dev') AS run1 \gset
RESET ROLE;
SELECT step_index, model, kind, materialization, run_type, start_date, end_date, parallel_group
  FROM ironlayer.run_steps WHERE run_id = :run1 ORDER BY step_index;

-- Refusals: a step nobody claimed, a step of another worker, no such step,
-- nulls, a caller who is not a worker.
SELECT masked(try(format($$SELECT ironlayer._execute_step(%s, %L, 'w1')$$, :run1, step_of(:run1, 'raw.orders')))) AS unclaimed;
SELECT rs.model FROM ironlayer.claim_step('w1') s JOIN ironlayer.run_steps rs USING (tenant_id, run_id, step_id);
SELECT masked(try(format($$SELECT ironlayer._execute_step(%s, %L, 'w2')$$, :run1, step_of(:run1, 'raw.orders')))) AS other_worker;
SELECT masked(try(format($$SELECT ironlayer._execute_step(%s, 'nope', 'w1')$$, :run1))) AS no_step;
SELECT try($$SELECT ironlayer._execute_step(NULL, 'x', 'w1')$$) AS null_run;
SET ROLE regress_ex_ann;
SELECT try(format($$SELECT ironlayer._execute_step(%s, %L, 'w1')$$, :run1, step_of(:run1, 'raw.orders'))) AS not_a_worker;
-- A worker that is no superuser runs the claimed step (rows written);
-- done, the step is held by nobody.
RESET ROLE;
SELECT step_of(:run1, 'raw.orders') AS raw_step \gset
SET ROLE regress_ex_worker;
SELECT ironlayer._execute_step(:run1, :'raw_step', 'w1') AS raw_orders_rows;
RESET ROLE;
SELECT masked(try(format($$SELECT ironlayer._execute_step(%s, %L, 'w1')$$, :run1, :'raw_step'))) AS run_twice;
SELECT * FROM exec_next('w1');
SELECT * FROM exec_next('w1');
SELECT * FROM exec_next('w1');
SELECT * FROM exec_next('w1');
SELECT * FROM exec_next('w1');
SELECT * FROM steps_of(:run1);
SELECT state FROM ironlayer.runs WHERE run_id = :run1;
-- The tables, in schemas made for run_as and owned by it.
SELECT * FROM execa_dev_raw.orders ORDER BY id;
SELECT * FROM execa_dev_staging.orders ORDER BY id;
SELECT * FROM execa_dev_staging.customers ORDER BY id;
SELECT * FROM execa_dev_marts.revenue ORDER BY order_date;
SELECT * FROM execa_dev_marts.customer_summary ORDER BY id;
SELECT n.nspname, c.relname, c.relkind, pg_get_userbyid(c.relowner) AS owner, pg_get_userbyid(n.nspowner) AS schema_owner
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname LIKE 'execa\_dev\_%' AND c.relkind IN ('r', 'v') ORDER BY 1, 2;
-- the full refresh of an incremental model covers all history up to as_of
SELECT environment, model, start_date, end_date, updated_by FROM ironlayer.watermarks
 WHERE tenant_id = (SELECT tenant_id FROM ironlayer.runs WHERE run_id = :run1) ORDER BY model;
-- a watermark the executor wrote names its repository
SELECT DISTINCT repository, repo_id IS NOT NULL AS has_id FROM ironlayer.watermarks
 WHERE tenant_id = (SELECT tenant_id FROM ironlayer.runs WHERE run_id = :run1);

--
-- 2. The same plan again, after the sources changed: tables are replaced
-- whole (a new table renamed into place, or, for staging.orders, which a
-- view reads, new rows in the same table), the key-merged model is merged.
--
UPDATE landing.customers SET name = 'Anne' WHERE id = 1;
INSERT INTO landing.customers VALUES (4, 'Dee');
INSERT INTO landing.orders VALUES (5, 4, 7.25, '2026-01-14');
SELECT 'execa_dev_raw.orders'::regclass::oid AS raw_oid, 'execa_dev_staging.orders'::regclass::oid AS staging_oid \gset
SET ROLE regress_ex_ann;
SELECT ironlayer.use_tenant('exec-a') IS NOT NULL AS bound;
SELECT ironlayer.apply(:'full_plan', 'dev') AS run2 \gset
RESET ROLE;
SELECT * FROM exec_next('w1');
SELECT * FROM exec_next('w1');
SELECT * FROM exec_next('w1');
SELECT * FROM exec_next('w1');
SELECT * FROM exec_next('w1');
SELECT * FROM exec_next('w1');
SELECT state FROM ironlayer.runs WHERE run_id = :run2;
SELECT 'execa_dev_raw.orders'::regclass::oid <> :raw_oid AS raw_replaced,
       'execa_dev_staging.orders'::regclass::oid = :staging_oid AS staging_kept;
SELECT count(*) AS leftovers FROM pg_class WHERE relname LIKE '%\_\_ironlayer\_new';
SELECT * FROM execa_dev_staging.customers ORDER BY id;
SELECT * FROM execa_dev_marts.customer_summary ORDER BY id;
SELECT count(*) AS raw_orders FROM execa_dev_raw.orders;

--
-- 3. Incremental: v1 -> main changes staging.orders alone, which loads
-- from its watermark's end to as_of; running the same range again leaves
-- the same rows.
--
INSERT INTO landing.orders VALUES (6, 2, 3.00, '2026-01-17'), (7, 3, 4.00, '2026-01-19');
DELETE FROM landing.orders WHERE id = 5;
SET ROLE regress_ex_ann;
SELECT ironlayer.use_tenant('exec-a') IS NOT NULL AS bound;
SELECT ironlayer.plan('shop', 'v1', 'main', '2026-01-20')->>'plan_id' AS inc_plan \gset
SELECT ironlayer.apply(:'inc_plan', 'dev') AS run3 \gset
RESET ROLE;
-- raw.orders is not in this plan: staging.orders reads what is in it
TRUNCATE execa_dev_raw.orders;
INSERT INTO execa_dev_raw.orders SELECT * FROM landing.orders;
SELECT * FROM exec_next('w1');
SELECT * FROM exec_next('w1');
SELECT * FROM exec_next('w1');
SELECT * FROM steps_of(:run3);
SELECT * FROM execa_dev_staging.orders ORDER BY id;
SELECT model, start_date, end_date FROM ironlayer.watermarks
 WHERE tenant_id = (SELECT tenant_id FROM ironlayer.runs WHERE run_id = :run3) ORDER BY model;
SELECT count(*) AS rows_before, sum(amount) AS amount_before FROM execa_dev_staging.orders \gset
SET ROLE regress_ex_ann;
SELECT ironlayer.use_tenant('exec-a') IS NOT NULL AS bound;
SELECT ironlayer.apply(:'inc_plan', 'dev') AS run4 \gset
RESET ROLE;
SELECT * FROM exec_next('w1');
SELECT * FROM exec_next('w1');
SELECT * FROM exec_next('w1');
SELECT count(*) = :rows_before AS same_rows, sum(amount) = :amount_before AS same_amount,
       count(DISTINCT id) = count(*) AS no_duplicates
  FROM execa_dev_staging.orders;
-- the same statements ran
SELECT count(DISTINCT statement_sha256) AS statement_hashes FROM ironlayer.run_steps
 WHERE run_id IN (:run3, :run4) AND model = 'staging.orders';

--
-- 4. APPEND_ONLY, its incremental downstream, and what the executor
-- refuses: Databricks SQL PostgreSQL cannot run, a model that is not a
-- query; a Databricks function PostgreSQL lacks fails with its SQLSTATE.
--
SET ROLE regress_ex_ann;
SELECT ironlayer.use_tenant('exec-a') IS NOT NULL AS bound;
SELECT ironlayer.plan('exec', 'e0', 'e1', '2026-01-05')->>'plan_id' AS e1_plan \gset
SELECT ironlayer.apply(:'e1_plan', 'dev') AS run5 \gset
RESET ROLE;
SELECT * FROM exec_next('w1');
SELECT * FROM exec_next('w1');
SELECT * FROM exec_next('w1');
SELECT * FROM exec_next('w1');
SELECT * FROM exec_next('w1');
SELECT * FROM exec_next('w1');
SELECT * FROM exec_next('w1');
SELECT * FROM exec_next('w1');
SELECT * FROM steps_of(:run5);
SELECT model, left(error_message, 60) AS error FROM ironlayer.run_steps
 WHERE run_id = :run5 AND state = 'failed' ORDER BY model;
SELECT state FROM ironlayer.runs WHERE run_id = :run5;
SELECT * FROM execa_dev_ex.events ORDER BY id;
SELECT * FROM execa_dev_ex.daily ORDER BY day;
SELECT * FROM execa_dev_ex.v;
-- e1 -> e2 changes ex.events: it appends from its watermark's end
INSERT INTO landing.events VALUES (4, 2, 'buy', '2026-01-09'), (5, 3, 'view', '2026-01-09');
SET ROLE regress_ex_ann;
SELECT ironlayer.use_tenant('exec-a') IS NOT NULL AS bound;
SELECT ironlayer.plan('exec', 'e1', 'e2', '2026-01-10')->>'plan_id' AS e2_plan \gset
SELECT ironlayer.apply(:'e2_plan', 'dev') AS run6 \gset
RESET ROLE;
SELECT * FROM exec_next('w1');
SELECT * FROM exec_next('w1');
SELECT * FROM steps_of(:run6);
SELECT * FROM execa_dev_ex.events ORDER BY id;
SELECT * FROM execa_dev_ex.daily ORDER BY day;
SELECT model, start_date, end_date FROM ironlayer.watermarks
 WHERE tenant_id = (SELECT tenant_id FROM ironlayer.runs WHERE run_id = :run6) AND model LIKE 'ex.%' ORDER BY model;

--
-- 5. A failing step: run_as may not read landing.events (42501). Nothing
-- of the step stays, its downstream step is skipped, the run fails.
--
REVOKE SELECT ON landing.events FROM regress_ex_runner;
SET ROLE regress_ex_ann;
SELECT ironlayer.use_tenant('exec-a') IS NOT NULL AS bound;
SELECT ironlayer.apply(:'e2_plan', 'dev') AS run7 \gset
RESET ROLE;
SELECT count(*) AS events_before FROM execa_dev_ex.events \gset
SELECT * FROM exec_next('w1');
SELECT * FROM exec_next('w1');
SELECT model, state, error_class, error_message FROM ironlayer.run_steps WHERE run_id = :run7 ORDER BY step_index;
SELECT state FROM ironlayer.runs WHERE run_id = :run7;
SELECT count(*) = :events_before AS events_unchanged FROM execa_dev_ex.events;
GRANT SELECT ON landing.events TO regress_ex_runner;
-- a missing source table: 42P01, with PostgreSQL's own message
SET ROLE regress_ex_ann;
SELECT ironlayer.use_tenant('exec-a') IS NOT NULL AS bound;
SELECT ironlayer.apply(:'full_plan', 'dev') AS run8 \gset
RESET ROLE;
ALTER TABLE ext.fx RENAME TO fx_gone;
SELECT * FROM exec_next('w1');
SELECT * FROM exec_next('w1');
SELECT * FROM exec_next('w1');
SELECT * FROM exec_next('w1');
SELECT * FROM exec_next('w1');
SELECT model, state, error_class, error_message FROM ironlayer.run_steps WHERE run_id = :run8 ORDER BY step_index;
ALTER TABLE ext.fx_gone RENAME TO fx;
-- an environment whose run_as became a superuser is refused before anything runs
SET ROLE regress_ex_ann;
SELECT ironlayer.use_tenant('exec-a') IS NOT NULL AS bound;
SELECT ironlayer.apply(:'e2_plan', 'dev') AS run9 \gset
RESET ROLE;
ALTER ROLE regress_ex_runner SUPERUSER;
SELECT * FROM exec_next('w1');
ALTER ROLE regress_ex_runner NOSUPERUSER;
SELECT * FROM exec_next('w1');
SELECT state FROM ironlayer.runs WHERE run_id = :run9;

--
-- 6. A full refresh whose columns changed, of a table a view reads: the
-- table cannot be replaced (2BP01, naming the view); once the view is
-- dropped, a retry replaces the table and makes the view again.
--
SET ROLE regress_ex_ann;
SELECT ironlayer.use_tenant('exec-a') IS NOT NULL AS bound;
SELECT ironlayer.plan('exec', 'e2', 'e3', '2026-01-10')->>'plan_id' AS e3_plan \gset
SELECT ironlayer.apply(:'e3_plan', 'dev') AS run10 \gset
RESET ROLE;
SELECT * FROM exec_next('w1');
SELECT * FROM exec_next('w1');
SELECT model, state, error_class, error_message FROM ironlayer.run_steps WHERE run_id = :run10 ORDER BY step_index;
SELECT * FROM execa_dev_ex.v;
DROP VIEW execa_dev_ex.v;
SET ROLE regress_ex_ann;
SELECT ironlayer.use_tenant('exec-a') IS NOT NULL AS bound;
SELECT ironlayer.retry(:run10) AS run11 \gset
RESET ROLE;
SELECT * FROM exec_next('w1');
SELECT * FROM exec_next('w1');
SELECT * FROM steps_of(:run11);
SELECT * FROM execa_dev_ex.one;
SELECT * FROM execa_dev_ex.v;
SELECT count(*) AS runs_left_active FROM ironlayer.runs WHERE state IN ('pending', 'running');


--
-- 7. The stored plan is the contract: a step runs only the model text
-- whose SHA-256 its plan recorded. A plan whose step says otherwise (here
-- tampered with by a superuser) fails the step with 22000, naming the
-- model and both hashes, and runs nothing: no table is made.
--
\! cd "$IL_EXEC" && printf '%s\n' '-- name: ex.two' '-- kind: FULL_REFRESH' 'SELECT 2 AS y' >models/two.sql && git add -A && git commit -q -m e4 && git tag e4
SET ROLE regress_ex_ann;
SELECT ironlayer.use_tenant('exec-a') IS NOT NULL AS bound;
SELECT ironlayer.plan('exec', 'e3', 'e4', '2026-01-10')->>'plan_id' AS e4_plan \gset
RESET ROLE;
SELECT model, sql_sha256 = encode(sha256(convert_to(
		E'-- name: ex.two\n-- kind: FULL_REFRESH\nSELECT 2 AS y\n', 'UTF8')), 'hex') AS hash_of_the_file
  FROM ironlayer.plan_steps WHERE plan_id = :'e4_plan';
SET session_replication_role = replica;		-- past the immutability trigger
UPDATE ironlayer.plan_steps SET sql_sha256 = repeat('0', 64) WHERE plan_id = :'e4_plan';
RESET session_replication_role;
SET ROLE regress_ex_ann;
SELECT ironlayer.use_tenant('exec-a') IS NOT NULL AS bound;
SELECT ironlayer.apply(:'e4_plan', 'dev') AS run12 \gset
RESET ROLE;
-- the error in full (ids masked: plan, step and file hashes S, commits C)
CREATE FUNCTION public.exec_verbose(worker text) RETURNS TABLE (field text, value text)
LANGUAGE plpgsql AS $$
DECLARE
	s record;
	msg text;
	detail text;
	hint text;
	code text;
BEGIN
	SELECT c.run_id, c.step_id INTO s FROM ironlayer.claim_step(worker) c;
	BEGIN
		PERFORM ironlayer._execute_step(s.run_id, s.step_id, worker);
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL,
			hint = PG_EXCEPTION_HINT;
		PERFORM ironlayer.complete_step(s.run_id, s.step_id, worker, false, NULL, NULL, 'postgres', code, msg);
	END;
	RETURN QUERY VALUES ('sqlstate', code), ('message', msg), ('detail', detail), ('hint', hint);
END $$;
SELECT field, regexp_replace(regexp_replace(regexp_replace(value, '0{64}', 'ZERO', 'g'), '[0-9a-f]{64}', 'S', 'g'),
							 '[0-9a-f]{40}', 'C', 'g') AS value
  FROM exec_verbose('w1');
SELECT model, state, error_class, regexp_replace(masked(error_message), '[0-9a-f]{40}', 'C', 'g') AS error_message
  FROM ironlayer.run_steps WHERE run_id = :run12;
SELECT to_regclass('execa_dev_ex.two') IS NULL AS no_table;
-- the hash the plan recorded, put back: the same run's retry runs the step
SET session_replication_role = replica;
UPDATE ironlayer.plan_steps SET sql_sha256 = encode(sha256(convert_to(
		E'-- name: ex.two\n-- kind: FULL_REFRESH\nSELECT 2 AS y\n', 'UTF8')), 'hex') WHERE plan_id = :'e4_plan';
RESET session_replication_role;
SET ROLE regress_ex_ann;
SELECT ironlayer.use_tenant('exec-a') IS NOT NULL AS bound;
SELECT ironlayer.retry(:run12) AS run13 \gset
RESET ROLE;
SELECT * FROM exec_next('w1');
SELECT * FROM execa_dev_ex.two;

--
-- 8. What a re-run leaves (issue 14): a repository "fix" whose f0 -> f1
-- adds models (full refreshes), and f1 -> f2 changes each (incremental
-- steps from the watermark's end, the last day loaded again; full
-- refreshes of the others), applied twice.
--   fx.ts: INCREMENTAL_BY_TIME_RANGE on a timestamp: the whole end day is
--     replaced (not only its midnight);
--   fx.app / fx.app_nt: APPEND_ONLY with / without a time_column: the
--     last day loaded again adds nothing;
--   fx.m: MERGE_BY_KEY, whose steps are full refreshes: a key gone from
--     the source leaves the table;
--   fx.g / fx.g2: a full refresh keeps the grants of the table it
--     replaces (renamed into place; or, g2 read by a view, truncated).
--
CREATE TABLE landing.ticks (id int, ts timestamp, day date);
INSERT INTO landing.ticks VALUES (1, '2026-02-01 09:00', '2026-02-01'), (2, '2026-02-02 23:00', '2026-02-02'),
	(3, '2026-02-03 00:00', '2026-02-03'), (4, '2026-02-03 10:00', '2026-02-03');
GRANT SELECT ON landing.ticks TO regress_ex_runner;
CREATE ROLE regress_ex_reader;
CREATE ROLE regress_ex_loader;
\setenv IL_FIX :repo_root/fix
\! rm -rf "$IL_FIX" && mkdir -p "$IL_FIX/models" && cd "$IL_FIX" && git -c init.defaultBranch=main init -q && printf '%s\n' '-- name: fx.zero' '-- kind: FULL_REFRESH' 'SELECT 0 AS z' >models/zero.sql && git add -A && git commit -q -m f0 && git tag f0
\! cd "$IL_FIX" && printf '%s\n' '-- name: fx.ts' '-- kind: INCREMENTAL_BY_TIME_RANGE' '-- time_column: ts' 'SELECT id, ts FROM landing.ticks' "WHERE ts >= '{{ start_date }}'::date AND ts < '{{ end_date }}'::date + 1" >models/ts.sql && printf '%s\n' '-- name: fx.app' '-- kind: APPEND_ONLY' '-- time_column: day' 'SELECT id, day FROM landing.ticks' "WHERE day BETWEEN '{{ start_date }}' AND '{{ end_date }}'" >models/app.sql && printf '%s\n' '-- name: fx.app_nt' '-- kind: APPEND_ONLY' 'SELECT id, day FROM landing.ticks' >models/app_nt.sql && printf '%s\n' '-- name: fx.m' '-- kind: MERGE_BY_KEY' '-- unique_key: id' 'SELECT id, day FROM landing.ticks' >models/m.sql && printf '%s\n' '-- name: fx.g' '-- kind: FULL_REFRESH' 'SELECT id FROM landing.ticks' >models/g.sql && printf '%s\n' '-- name: fx.g2' '-- kind: FULL_REFRESH' 'SELECT id FROM landing.ticks' >models/g2.sql && git add -A && git commit -q -m f1 && git tag f1
\! cd "$IL_FIX" && for m in ts app app_nt m g g2; do sed -i 's/FROM landing.ticks/FROM landing.ticks AS t/' models/$m.sql; done && git add -A && git commit -q -m f2 && git tag f2
SET ROLE regress_ex_ann;
SELECT ironlayer.use_tenant('exec-a') IS NOT NULL AS bound;
SELECT ironlayer.add_repo('fix', 'fix') > 0 AS added;
SELECT ironlayer.plan('fix', 'f0', 'f1', '2026-02-03')->>'plan_id' AS f1_plan \gset
SELECT ironlayer.apply(:'f1_plan', 'dev') AS run14 \gset
RESET ROLE;
SELECT count(*) FILTER (WHERE result LIKE '%rows') AS steps_run FROM (
	SELECT (exec_next('w1')).result FROM generate_series(1, 7)) x;
SELECT state FROM ironlayer.runs WHERE run_id = :run14;
-- grants on the tables the next run replaces; a view reads fx.g2
GRANT SELECT ON execa_dev_fx.g, execa_dev_fx.g2 TO regress_ex_reader;
GRANT INSERT, UPDATE ON execa_dev_fx.g TO regress_ex_loader WITH GRANT OPTION;
GRANT SELECT ON execa_dev_fx.g TO PUBLIC;
GRANT USAGE ON SCHEMA execa_dev_fx TO regress_ex_reader;
CREATE VIEW public.g2_reader AS SELECT id FROM execa_dev_fx.g2;
-- what default privileges give a new table and the old one lacks is not kept
ALTER DEFAULT PRIVILEGES FOR ROLE regress_ex_runner IN SCHEMA execa_dev_fx GRANT DELETE ON TABLES TO regress_ex_reader;
SELECT 'execa_dev_fx.g'::regclass::oid AS g_oid, 'execa_dev_fx.g2'::regclass::oid AS g2_oid \gset
SELECT relname, relacl FROM pg_class WHERE relnamespace = 'execa_dev_fx'::regnamespace AND relname IN ('g', 'g2')
 ORDER BY 1;
-- new source rows: one late on the end day, one key gone
INSERT INTO landing.ticks VALUES (5, '2026-02-03 18:30', '2026-02-03');
DELETE FROM landing.ticks WHERE id = 1;
SET ROLE regress_ex_ann;
SELECT ironlayer.use_tenant('exec-a') IS NOT NULL AS bound;
SELECT ironlayer.plan('fix', 'f1', 'f2', '2026-02-03')->>'plan_id' AS f2_plan \gset
SELECT ironlayer.apply(:'f2_plan', 'dev') AS run15 \gset
RESET ROLE;
SELECT count(*) FILTER (WHERE result LIKE '%rows') AS steps_run FROM (
	SELECT (exec_next('w1')).result FROM generate_series(1, 7)) x;
SELECT * FROM steps_of(:run15);
-- once more: the same steps over the same rows leave the same tables
SET ROLE regress_ex_ann;
SELECT ironlayer.use_tenant('exec-a') IS NOT NULL AS bound;
SELECT ironlayer.apply(:'f2_plan', 'dev') AS run16 \gset
RESET ROLE;
SELECT count(*) FILTER (WHERE result LIKE '%rows') AS steps_run FROM (
	SELECT (exec_next('w1')).result FROM generate_series(1, 7)) x;
SELECT state FROM ironlayer.runs WHERE run_id = :run16;
SELECT 'ts' AS model, array_agg(id ORDER BY id, ts) AS ids FROM execa_dev_fx.ts
UNION ALL SELECT 'app', array_agg(id ORDER BY id) FROM execa_dev_fx.app
UNION ALL SELECT 'app_nt', array_agg(id ORDER BY id) FROM execa_dev_fx.app_nt
UNION ALL SELECT 'm', array_agg(id ORDER BY id) FROM execa_dev_fx.m
UNION ALL SELECT 'g', array_agg(id ORDER BY id) FROM execa_dev_fx.g
UNION ALL SELECT 'g2', array_agg(id ORDER BY id) FROM execa_dev_fx.g2;
-- g was replaced (a new table), g2 kept (a view reads it): both keep their grants
SELECT 'execa_dev_fx.g'::regclass::oid <> :g_oid AS g_replaced, 'execa_dev_fx.g2'::regclass::oid = :g2_oid AS g2_kept;
SELECT relname, relacl FROM pg_class WHERE relnamespace = 'execa_dev_fx'::regnamespace AND relname IN ('g', 'g2')
 ORDER BY 1;
SET ROLE regress_ex_reader;
SELECT count(*) > 0 AS reader_reads_g FROM execa_dev_fx.g;
RESET ROLE;
ALTER DEFAULT PRIVILEGES FOR ROLE regress_ex_runner IN SCHEMA execa_dev_fx REVOKE DELETE ON TABLES FROM regress_ex_reader;
-- a table that another table's foreign key references is refreshed in
-- place, where TRUNCATE refuses it: the step fails (2BP01), naming the key
ALTER TABLE execa_dev_fx.g2 ADD PRIMARY KEY (id);
CREATE TABLE public.g2_child (id int REFERENCES execa_dev_fx.g2 (id));
SET ROLE regress_ex_ann;
SELECT ironlayer.use_tenant('exec-a') IS NOT NULL AS bound;
SELECT ironlayer.apply(:'f2_plan', 'dev') AS run_fk \gset
RESET ROLE;
SELECT count(*) FILTER (WHERE result LIKE '%rows') AS steps_run FROM (
	SELECT (exec_next('w1')).result FROM generate_series(1, 7)) x;
SELECT model, error_class, error_message FROM ironlayer.run_steps WHERE run_id = :run_fk AND state = 'failed';
DROP TABLE public.g2_child;

--
-- 9. on_schema_change: f3 gives fx.ts a new column and fx.app_nt a new
-- one for one it lost; f4 then drops fx.ts's and changes the type of
-- fx.app_nt's. With "fail" (the default) the steps fail, the hint stored
-- with the message; "append_new_columns" adds the new columns (the lost
-- one stays); "sync_all_columns" drops the lost ones and changes types.
--
\! cd "$IL_FIX" && printf '%s\n' '-- name: fx.ts' '-- kind: INCREMENTAL_BY_TIME_RANGE' '-- time_column: ts' 'SELECT id, ts, id * 2 AS twice FROM landing.ticks AS t' "WHERE ts >= '{{ start_date }}'::date AND ts < '{{ end_date }}'::date + 1" >models/ts.sql && printf '%s\n' '-- name: fx.app_nt' '-- kind: APPEND_ONLY' 'SELECT id, id * 10 AS tens FROM landing.ticks AS t' >models/app_nt.sql && git add -A && git commit -q -m f3 && git tag f3
\! cd "$IL_FIX" && printf '%s\n' '-- name: fx.ts' '-- kind: INCREMENTAL_BY_TIME_RANGE' '-- time_column: ts' 'SELECT id, ts FROM landing.ticks AS t' "WHERE ts >= '{{ start_date }}'::date AND ts < '{{ end_date }}'::date + 1" >models/ts.sql && printf '%s\n' '-- name: fx.app_nt' '-- kind: APPEND_ONLY' "SELECT id, (id * 10)::text AS tens FROM landing.ticks AS t" >models/app_nt.sql && git add -A && git commit -q -m f4 && git tag f4
SET ROLE regress_ex_ann;
SELECT ironlayer.use_tenant('exec-a') IS NOT NULL AS bound;
SELECT on_schema_change FROM ironlayer.environments WHERE name = 'dev';
SELECT try($$SELECT ironlayer.set_environment('dev', '{"on_schema_change": "ignore"}')$$) AS bad_policy;
SELECT try($$SELECT ironlayer.set_environment('dev', '{"on_schema_change": true}')$$) AS not_a_string;
SELECT ironlayer.plan('fix', 'f2', 'f3', '2026-02-03')->>'plan_id' AS f3_plan \gset
SELECT ironlayer.apply(:'f3_plan', 'dev') AS run17 \gset
RESET ROLE;
SELECT * FROM exec_next('w1');
SELECT * FROM exec_next('w1');
SELECT model, run_type, state, error_class, error_message FROM ironlayer.run_steps WHERE run_id = :run17 ORDER BY model;
SET ROLE regress_ex_ann;
SELECT ironlayer.use_tenant('exec-a') IS NOT NULL AS bound;
SELECT ironlayer.set_environment('dev', '{"on_schema_change": "append_new_columns"}');
SELECT ironlayer.retry(:run17) AS run18 \gset
RESET ROLE;
SELECT * FROM exec_next('w1');
SELECT * FROM exec_next('w1');
SELECT attrelid::regclass AS "table", string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum) AS columns
  FROM pg_attribute WHERE attrelid IN ('execa_dev_fx.ts'::regclass, 'execa_dev_fx.app_nt'::regclass)
   AND attnum > 0 AND NOT attisdropped GROUP BY 1 ORDER BY 1;
SELECT id, ts, twice FROM execa_dev_fx.ts ORDER BY id;
SELECT id, day, tens FROM execa_dev_fx.app_nt ORDER BY id, tens NULLS FIRST;
SET ROLE regress_ex_ann;
SELECT ironlayer.use_tenant('exec-a') IS NOT NULL AS bound;
SELECT ironlayer.set_environment('dev', '{"on_schema_change": "fail"}');
SELECT ironlayer.plan('fix', 'f3', 'f4', '2026-02-03')->>'plan_id' AS f4_plan \gset
SELECT ironlayer.apply(:'f4_plan', 'dev') AS run19 \gset
RESET ROLE;
SELECT * FROM exec_next('w1');
SELECT * FROM exec_next('w1');
SET ROLE regress_ex_ann;
SELECT ironlayer.use_tenant('exec-a') IS NOT NULL AS bound;
SELECT ironlayer.set_environment('dev', '{"on_schema_change": "sync_all_columns"}');
SELECT ironlayer.retry(:run19) AS run20 \gset
RESET ROLE;
SELECT * FROM exec_next('w1');
SELECT * FROM exec_next('w1');
SELECT attrelid::regclass AS "table", string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum) AS columns
  FROM pg_attribute WHERE attrelid IN ('execa_dev_fx.ts'::regclass, 'execa_dev_fx.app_nt'::regclass)
   AND attnum > 0 AND NOT attisdropped GROUP BY 1 ORDER BY 1;
SELECT id, tens FROM execa_dev_fx.app_nt ORDER BY id, tens NULLS FIRST;
-- A MERGE_BY_KEY step of run type INCREMENTAL (the planner makes none;
-- set here by hand) merges: known keys updated, new ones inserted, keys
-- gone from the source kept; its new column added (sync_all_columns).
\! cd "$IL_FIX" && printf '%s\n' '-- name: fx.m' '-- kind: MERGE_BY_KEY' '-- unique_key: id' 'SELECT id, day, id * 3 AS thrice FROM landing.ticks AS t' >models/m.sql && git add -A && git commit -q -m f5 && git tag f5
SET ROLE regress_ex_ann;
SELECT ironlayer.use_tenant('exec-a') IS NOT NULL AS bound;
SELECT ironlayer.plan('fix', 'f4', 'f5', '2026-02-03')->>'plan_id' AS f5_plan \gset
SELECT ironlayer.apply(:'f5_plan', 'dev') AS run21 \gset
RESET ROLE;
UPDATE ironlayer.run_steps SET run_type = 'INCREMENTAL', start_date = '2026-02-03', end_date = '2026-02-03'
 WHERE run_id = :run21;
DELETE FROM landing.ticks WHERE id = 2;
UPDATE landing.ticks SET day = '2026-02-04' WHERE id = 3;
INSERT INTO landing.ticks VALUES (6, '2026-02-03 20:00', '2026-02-03');
SELECT * FROM exec_next('w1');
SELECT * FROM execa_dev_fx.m ORDER BY id;
SET ROLE regress_ex_ann;
SELECT ironlayer.use_tenant('exec-a') IS NOT NULL AS bound;
SELECT ironlayer.set_environment('dev', '{"on_schema_change": "fail"}');
RESET ROLE;
--
-- Errors with context: a failed step's stored message names what PostgreSQL
-- refused with its schema when the model reads one relation of that name,
-- the model and the role it ran as, and a hint with the GRANT run_as needs.
--
CREATE TABLE ext.ticks (id int);
INSERT INTO ext.ticks VALUES (1), (3);
GRANT SELECT ON ext.ticks TO regress_ex_runner;
\! cd "$IL_FIX" && printf '%s\n' '-- name: fx.both' '-- kind: FULL_REFRESH' 'SELECT t.id FROM landing.ticks AS t JOIN ext.ticks AS e ON e.id = t.id' >models/both.sql && printf '%s\n' '-- name: fx.ext_ids' '-- kind: FULL_REFRESH' 'SELECT id FROM ext.ticks' >models/ext_ids.sql && git add -A && git commit -q -m f6 && git tag f6
SET ROLE regress_ex_ann;
SELECT ironlayer.use_tenant('exec-a') IS NOT NULL AS bound;
SELECT ironlayer.plan('fix', 'f5', 'f6', '2026-02-03')->>'plan_id' AS f6_plan \gset
SELECT ironlayer.apply(:'f6_plan', 'dev') AS run22 \gset
RESET ROLE;
-- ext.ticks: fx.both reads a table "ticks" in two schemas, so the message
-- keeps PostgreSQL's name and the hint lists both; fx.ext_ids reads one
REVOKE SELECT ON ext.ticks FROM regress_ex_runner;
SELECT * FROM exec_next('w1');
SELECT * FROM exec_next('w1');
SELECT model, error_class, error_message FROM ironlayer.run_steps WHERE run_id = :run22 ORDER BY model;
-- a schema run_as may not use
GRANT SELECT ON ext.ticks TO regress_ex_runner;
REVOKE USAGE ON SCHEMA ext FROM regress_ex_runner;
SET ROLE regress_ex_ann;
SELECT ironlayer.use_tenant('exec-a') IS NOT NULL AS bound;
SELECT ironlayer.retry(:run22) AS run23 \gset
RESET ROLE;
SELECT * FROM exec_next('w1');
SELECT * FROM exec_next('w1');
SELECT model, error_class, error_message FROM ironlayer.run_steps WHERE run_id = :run23 ORDER BY model;
GRANT USAGE ON SCHEMA ext TO regress_ex_runner;
