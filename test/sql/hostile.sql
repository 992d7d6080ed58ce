--
-- A hostile tenant's model SQL, run by hand as a worker would run it
-- (docs/security.md, "Model SQL"). Inside the executor ironlayer's API sees
-- the environment's run_as role and no tenant binding: not the worker's
-- role (a superuser here), not the binding of the session that runs the
-- step. Every way in is tried: a table model, a CTE, a view read by a
-- later step, a function the attacker wrote, the membership functions.
-- Then the bounds of a step: statement_timeout (57014) and the turn-taking
-- on a new schema, which no outsider can hold.
--
\set SHOW_CONTEXT never
CREATE ROLE regress_ho_vic; GRANT ironlayer_admin TO regress_ho_vic;
CREATE ROLE regress_ho_atk; GRANT ironlayer_admin TO regress_ho_atk;
-- the worst case: the attacker's run_as has ironlayer's admin rights
CREATE ROLE regress_ho_runner; GRANT ironlayer_admin TO regress_ho_runner;
GRANT regress_ho_runner TO regress_ho_atk;

-- The victim: a tenant with members, a credential's name and an audit log.
SET ROLE regress_ho_vic;
SELECT ironlayer.create_tenant('victim') IS NOT NULL AS created;
SELECT ironlayer.add_member('victim', 'regress_ho_runner', 'viewer');
RESET ROLE;

-- The attacker's repository: base (nothing) and head (the attacks).
SELECT current_setting('ironlayer.repo_root') AS repo_root \gset
\setenv IL_ATK :repo_root/attack
\setenv GIT_AUTHOR_NAME ironlayer
\setenv GIT_AUTHOR_EMAIL tests@ironlayer.invalid
\setenv GIT_COMMITTER_NAME ironlayer
\setenv GIT_COMMITTER_EMAIL tests@ironlayer.invalid
\setenv GIT_CONFIG_NOSYSTEM 1
\! rm -rf "$IL_ATK" && mkdir -p "$IL_ATK/models" && cd "$IL_ATK" && git -c init.defaultBranch=main init -q && touch models/.keep && git add -A && git commit -q -m a0 && git tag a0
\! cd "$IL_ATK" && printf '%s\n' '-- name: atk.who' '-- kind: FULL_REFRESH' 'SELECT ironlayer.acting_role()::text AS acting, ironlayer.current_tenant() IS NULL AS unbound, ironlayer.current_tenant_role() IS NULL AS no_role' >models/who.sql && printf '%s\n' '-- name: atk.bind' '-- kind: FULL_REFRESH' "SELECT e::text AS e FROM (SELECT ironlayer.use_tenant('victim') AS u) b CROSS JOIN LATERAL ironlayer.audit_export() e" >models/bind.sql && printf '%s\n' '-- name: atk.cte' '-- kind: FULL_REFRESH' "WITH b AS (SELECT ironlayer.use_tenant('victim') AS u) SELECT u FROM b" >models/cte.sql && printf '%s\n' '-- name: atk.audit_view' '-- kind: FULL_REFRESH' '-- materialization: VIEW' 'SELECT e::text AS e FROM ironlayer.audit_export() e' >models/audit_view.sql && printf '%s\n' '-- name: atk.read_view' '-- kind: FULL_REFRESH' 'SELECT e FROM atk.audit_view' >models/read_view.sql && printf '%s\n' '-- name: atk.fn' '-- kind: FULL_REFRESH' "SELECT public.regress_ho_steal('victim') AS entries" >models/fn.sql && printf '%s\n' '-- name: atk.tenants' '-- kind: FULL_REFRESH' 'SELECT tenant FROM ironlayer.my_tenants()' >models/tenants.sql && printf '%s\n' '-- name: atk.new_tenant' '-- kind: FULL_REFRESH' "SELECT ironlayer.create_tenant('atk-made') AS id" >models/new_tenant.sql && printf '%s\n' '-- name: atk.add_member' '-- kind: FULL_REFRESH' "SELECT ironlayer.add_member('victim', 'regress_ho_atk', 'admin')::text AS added" >models/add_member.sql && printf '%s\n' '-- name: atk.rows' '-- kind: FULL_REFRESH' 'SELECT (SELECT count(*) FROM ironlayer.members) AS members, (SELECT count(*) FROM ironlayer.audit_log) AS audit, (SELECT count(*) FROM ironlayer.credentials) AS credentials, (SELECT count(*) FROM ironlayer.tenants) AS tenants' >models/rows.sql && printf '%s\n' '-- name: atk.slow' '-- kind: FULL_REFRESH' 'SELECT pg_sleep(30) IS NULL AS slept' >models/slow.sql && git add -A && git commit -q -m a1 && git tag a1

-- A function the attacker wrote (security definer, its own): it binds
-- and reads whatever tenant it is given.
CREATE FUNCTION public.regress_ho_steal(t text) RETURNS bigint
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog
AS $$
BEGIN
	PERFORM ironlayer.use_tenant(t);
	RETURN (SELECT count(*) FROM ironlayer.audit_export());
END $$;
ALTER FUNCTION public.regress_ho_steal(text) OWNER TO regress_ho_atk;

SET ROLE regress_ho_atk;
SELECT ironlayer.create_tenant('attacker') IS NOT NULL AS created;
SELECT ironlayer.use_tenant('attacker') IS NOT NULL AS bound;
RESET ROLE;
SELECT ironlayer.use_tenant('attacker') IS NOT NULL AS bound;
SELECT ironlayer.add_repo('attack', 'attack') > 0 AS added;
SET ROLE regress_ho_atk;
SELECT ironlayer.use_tenant('attacker') IS NOT NULL AS bound;
SELECT ironlayer.set_environment('dev', '{"run_as": "regress_ho_runner", "statement_timeout": "300ms"}');
SELECT ironlayer.apply(ironlayer.plan('attack', 'a0', 'a1', '2026-01-15')->>'plan_id', 'dev') AS run \gset
RESET ROLE;

-- A worker that runs every step, bound itself to the victim (as a
-- superuser may be): none of it reaches the model SQL.
CREATE FUNCTION public.run_all(worker text)
RETURNS TABLE (model text, result text)
LANGUAGE plpgsql AS $$
DECLARE
	s record;
BEGIN
	LOOP
		SELECT c.run_id, c.step_id, rs.model AS m INTO s
		  FROM ironlayer.claim_step(worker) c JOIN ironlayer.run_steps rs USING (tenant_id, run_id, step_id);
		EXIT WHEN NOT FOUND;
		model := s.m;
		BEGIN
			result := ironlayer._execute_step(s.run_id, s.step_id, worker) || ' rows';
		EXCEPTION WHEN OTHERS OR query_canceled THEN	-- a timeout is 57014, which OTHERS leaves out
			result := SQLSTATE || ': ' || SQLERRM;
			PERFORM ironlayer.complete_step(s.run_id, s.step_id, worker, false, NULL, NULL, 'postgres', SQLSTATE, SQLERRM);
		END;
		RETURN NEXT;
	END LOOP;
END $$;
SELECT ironlayer.use_tenant('victim') IS NOT NULL AS worker_bound_to_victim;
SELECT * FROM run_all('w1') ORDER BY model;
-- the session's own binding is back after the steps
SELECT ironlayer.current_tenant() = (SELECT tenant_id FROM ironlayer.tenants WHERE name = 'victim') AS still_victim;

-- What the models that ran saw: run_as, no tenant, no tenant's rows.
SELECT * FROM attacker_dev_atk.who;
SELECT * FROM attacker_dev_atk.rows;
-- The view was made (making it runs nothing); reading it binds nothing.
SELECT relkind FROM pg_class WHERE oid = 'attacker_dev_atk.audit_view'::regclass;
-- Nothing changed in the victim's tenant, and no tenant was made.
SELECT t.name, m.member, m.tenant_role FROM ironlayer.members m JOIN ironlayer.tenants t USING (tenant_id)
 WHERE t.name IN ('victim', 'attacker', 'atk-made') ORDER BY 1, 2;
SELECT count(*) AS tenants_made FROM ironlayer.tenants WHERE name = 'atk-made';

-- The attacker's own session may still call its function: as itself.
SET ROLE regress_ho_atk;
SELECT try($$SELECT public.regress_ho_steal('victim')$$) AS attacker_outside_model_sql;
RESET ROLE;

-- A step whose statement runs past the environment's statement_timeout
-- failed with 57014 (above: atk.slow), quickly; the session's own
-- statement_timeout is untouched.
SELECT model, state, error_class, finished_at - started_at < interval '10 s' AS quick
  FROM ironlayer.run_steps WHERE run_id = :run AND model = 'atk.slow';
SHOW statement_timeout;

-- The executor takes turns on a new schema through a row of
-- ironlayer.target_schemas, which only ironlayer writes; it takes no
-- advisory lock (anyone who can connect could hold one).
SELECT schema, environment FROM ironlayer.target_schemas ORDER BY 1;
SELECT count(*) AS advisory_locks FROM pg_locks WHERE locktype = 'advisory';
SET ROLE regress_ho_atk;
SELECT try($$INSERT INTO ironlayer.target_schemas (tenant_id, schema, environment) VALUES (gen_random_uuid(), 'x', 'dev')$$) AS users_cannot_write;
SELECT try($$SELECT * FROM ironlayer.target_schemas FOR UPDATE$$) AS users_cannot_lock;
SELECT try($$LOCK TABLE ironlayer.target_schemas IN SHARE MODE$$) AS users_cannot_lock_the_table;
RESET ROLE;

-- The executor reads the repository that was registered: its git directory
-- swapped for another repository's (inside the root, so confined) after the
-- plan was approved, the steps refuse to read it (42501).
SET ROLE regress_ho_atk;
SELECT ironlayer.use_tenant('attacker') IS NOT NULL AS bound;
SELECT ironlayer.apply(ironlayer.plan('attack', 'a0', 'a1', '2026-01-15')->>'plan_id', 'dev') AS run2 \gset
RESET ROLE;
\! cd "$IL_ATK" && mv .git .git.orig && ln -s ../shop/.git .git
SELECT model, regexp_replace(result, '"[^"]*"', '"..."', 'g') AS result FROM run_all('w1') ORDER BY model LIMIT 2;
\! cd "$IL_ATK" && rm .git && mv .git.orig .git
SELECT count(*) FILTER (WHERE error_class = '42501') AS refused, count(*) AS steps
  FROM ironlayer.run_steps WHERE run_id = :run2 AND state <> 'skipped';

-- The executor writes only into schemas and relations run_as owns, and
-- none with rules: another role's schema where a model's schema goes (made
-- in advance by anyone who may create schemas), another role's table in
-- run_as's schema, a table with a rule. Each is refused before anything
-- runs on it.
CREATE SCHEMA attacker_dev_own AUTHORIZATION regress_ho_vic;
CREATE TABLE attacker_dev_atk.planted (x int);
ALTER TABLE attacker_dev_atk.planted OWNER TO regress_ho_vic;
CREATE TABLE attacker_dev_atk.ruled (x int);
CREATE RULE ruled_nothing AS ON INSERT TO attacker_dev_atk.ruled DO INSTEAD NOTHING;
ALTER TABLE attacker_dev_atk.ruled OWNER TO regress_ho_runner;
\! cd "$IL_ATK" && printf '%s\n' '-- name: own.t' '-- kind: FULL_REFRESH' 'SELECT 1 AS x' >models/own.sql && printf '%s\n' '-- name: atk.planted' '-- kind: FULL_REFRESH' 'SELECT 1 AS x' >models/planted.sql && printf '%s\n' '-- name: atk.ruled' '-- kind: FULL_REFRESH' 'SELECT 1 AS x' >models/ruled.sql && git add -A && git commit -q -m a2 && git tag a2
SET ROLE regress_ho_atk;
SELECT ironlayer.use_tenant('attacker') IS NOT NULL AS bound;
SELECT ironlayer.apply(ironlayer.plan('attack', 'a1', 'a2', '2026-01-15')->>'plan_id', 'dev') AS run3 \gset
RESET ROLE;
SELECT * FROM run_all('w1') ORDER BY model;
SELECT pg_get_userbyid(relowner) AS owner, count(*) FROM pg_class
 WHERE relnamespace IN ('attacker_dev_own'::regnamespace, 'attacker_dev_atk'::regnamespace)
   AND relname IN ('t', 'planted', 'ruled') GROUP BY 1 ORDER BY 1;

--
-- Issue 15: deployments, plan kinds and schedules, from a hostile tenant.
--
-- A backfill is bounded in steps, not only in batches: one model upstream
-- of 100 others, 992 daily batches, would be 100,192 steps (a thousand
-- such models, a million steps: 5.7 GB of one backend's memory and 50 s).
-- Refused (22023) before any step is made.
\setenv IL_FAN :repo_root/fan
\! rm -rf "$IL_FAN" && mkdir -p "$IL_FAN/models" && cd "$IL_FAN" && git -c init.defaultBranch=main init -q && printf '%s\n' '-- name: f.root' '-- kind: INCREMENTAL_BY_TIME_RANGE' '-- time_column: d' "SELECT d FROM src.t WHERE d BETWEEN '{{ start_date }}' AND '{{ end_date }}'" >models/root.sql && for i in $(seq 1 100); do printf '%s\n' "-- name: f.c$i" '-- kind: INCREMENTAL_BY_TIME_RANGE' '-- time_column: d' "SELECT d FROM f.root WHERE d BETWEEN '{{ start_date }}' AND '{{ end_date }}'" >models/c$i.sql; done && git add -A && git commit -q -m fan && git tag fan1
SELECT ironlayer.use_tenant('attacker') IS NOT NULL AS bound;
SELECT ironlayer.add_repo('fan', 'fan') > 0 AS added;
SET ROLE regress_ho_atk;
SELECT ironlayer.use_tenant('attacker') IS NOT NULL AS bound;
SELECT ironlayer.set_watermark('fan', 'dev', 'f.root', '2020-01-01', '2026-01-01');
SELECT try($$SELECT ironlayer.plan('fan', NULL, 'fan1', '2026-01-15', '{"kind": "backfill", "models": ["f.root"], "start": "2023-01-01", "end": "2025-09-18", "batch_days": 1}')$$) AS backfill_too_many_steps;
SELECT (ironlayer.plan('fan', NULL, 'fan1', '2026-01-15', '{"kind": "backfill", "models": ["f.root"], "start": "2023-01-01", "end": "2025-09-18", "batch_days": 10}')->'summary'->>'total_steps')::int AS steps_within_bound;
SELECT count(*) AS backfills_stored FROM ironlayer.plans WHERE kind = 'backfill';
RESET ROLE;

-- A retry continues a run where it stopped, so it is stale once the
-- deployment moved after that run, even back to the same commit: stage
-- (refusing stale plans) deployed x1; x1..x2 failed half-way (m.a done,
-- m.b failed); x1..x3 then x3..x1 ran (m.a rebuilt twice). A retry of the
-- first run would run m.b alone and record x2 as deployed, with m.a at x1.
\setenv IL_ABA :repo_root/aba
\! rm -rf "$IL_ABA" && mkdir -p "$IL_ABA/models" && cd "$IL_ABA" && git -c init.defaultBranch=main init -q && printf '%s\n' '-- name: m.a' '-- kind: FULL_REFRESH' 'SELECT 1 AS x' >models/a.sql && printf '%s\n' '-- name: m.b' '-- kind: FULL_REFRESH' 'SELECT 1 AS y' >models/b.sql && git add -A && git commit -q -m x1 && git tag x1 && printf '%s\n' '-- name: m.a' '-- kind: FULL_REFRESH' 'SELECT 2 AS x' >models/a.sql && printf '%s\n' '-- name: m.b' '-- kind: FULL_REFRESH' 'SELECT 2 AS y' >models/b.sql && git add -A && git commit -q -m x2 && git tag x2 && git checkout -q x1 && printf '%s\n' '-- name: m.a' '-- kind: FULL_REFRESH' 'SELECT 3 AS x' >models/a.sql && git add -A && git commit -q -m x3 && git tag x3 && git checkout -q main
CREATE FUNCTION public.ho_work(rid bigint, failing text DEFAULT NULL) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	s record;
BEGIN
	LOOP
		SELECT c.step_id, rs.model INTO s FROM ironlayer.claim_step('ho_worker') c
		  JOIN ironlayer.run_steps rs USING (tenant_id, run_id, step_id) WHERE c.run_id = rid;
		EXIT WHEN NOT FOUND;
		PERFORM ironlayer.complete_step(rid, s.step_id, 'ho_worker', s.model IS DISTINCT FROM failing, 1,
										repeat('0', 64), 'postgres', CASE WHEN s.model = failing THEN '42P01' END,
										CASE WHEN s.model = failing THEN 'failed here' END);
	END LOOP;
	RETURN (SELECT state FROM ironlayer.runs r WHERE r.run_id = rid);
END $$;
SELECT ironlayer.use_tenant('attacker') IS NOT NULL AS bound;
SELECT ironlayer.add_repo('aba', 'aba') > 0 AS added;
SET ROLE regress_ho_atk;
SELECT ironlayer.use_tenant('attacker') IS NOT NULL AS bound;
SELECT ironlayer.set_environment('stage', '{"auto_approve": true, "run_as": "regress_ho_runner"}');
SELECT refuse_stale_plans FROM ironlayer.environments WHERE name = 'stage';
SELECT ironlayer.apply(ironlayer.plan('aba', NULL, 'x1', '2026-01-15', '{"environment": "stage"}')->>'plan_id', 'stage') AS aba_r0 \gset
RESET ROLE;
SELECT public.ho_work(:aba_r0) AS x1_deployed;
SET ROLE regress_ho_atk;
SELECT ironlayer.use_tenant('attacker') IS NOT NULL AS bound;
SELECT ironlayer.apply(ironlayer.plan('aba', NULL, 'x2', '2026-01-15', '{"environment": "stage"}')->>'plan_id', 'stage') AS aba_r1 \gset
RESET ROLE;
SELECT public.ho_work(:aba_r1, 'm.b') AS x2_half_done;
SET ROLE regress_ho_atk;
SELECT ironlayer.use_tenant('attacker') IS NOT NULL AS bound;
SELECT ironlayer.apply(ironlayer.plan('aba', NULL, 'x3', '2026-01-15', '{"environment": "stage"}')->>'plan_id', 'stage') AS aba_r2 \gset
RESET ROLE;
SELECT public.ho_work(:aba_r2) AS x3_deployed;
SET ROLE regress_ho_atk;
SELECT ironlayer.use_tenant('attacker') IS NOT NULL AS bound;
SELECT ironlayer.apply(ironlayer.plan('aba', NULL, 'x1', '2026-01-15', '{"environment": "stage"}')->>'plan_id', 'stage') AS aba_r3 \gset
RESET ROLE;
SELECT public.ho_work(:aba_r3) AS x1_again;
SET ROLE regress_ho_atk;
SELECT ironlayer.use_tenant('attacker') IS NOT NULL AS bound;
SELECT commit = ironlayer.resolve_commit('aba', 'x1') AS x1_deployed_again FROM ironlayer.deployed_commits WHERE repository = 'aba';
SELECT regexp_replace(try(format('SELECT ironlayer.retry(%s)', :aba_r1)), '[0-9a-f]{40}|run [0-9]+', '<id>', 'g') AS retry_after_the_deployment_moved;
SELECT count(*) AS runs_of_x2 FROM ironlayer.runs r JOIN ironlayer.plans p USING (tenant_id, plan_id)
 WHERE r.repository = 'aba' AND p.target = ironlayer.resolve_commit('aba', 'x2');
-- the plan itself is not stale: applied again, all of its steps run
SELECT ironlayer.apply(plan_id, 'stage') AS aba_r4 FROM ironlayer.runs WHERE run_id = :aba_r1 \gset
RESET ROLE;
SELECT public.ho_work(:aba_r4) AS x2_deployed;
SELECT count(*) AS steps FROM ironlayer.run_steps WHERE run_id = :aba_r4;
-- Where stale plans are allowed (dev) the retry runs, but its success
-- deploys nothing: the compare-and-swap, too, sees that the deployment
-- moved after the run it continues (the same commits and failures in dev).
SET ROLE regress_ho_atk;
SELECT ironlayer.use_tenant('attacker') IS NOT NULL AS bound;
SELECT refuse_stale_plans FROM ironlayer.environments WHERE name = 'dev';
SELECT ironlayer.apply(ironlayer.plan('aba', NULL, 'x1', '2026-01-15')->>'plan_id', 'dev') AS dev_r0 \gset
RESET ROLE;
SELECT public.ho_work(:dev_r0) AS x1_deployed;
SET ROLE regress_ho_atk;
SELECT ironlayer.use_tenant('attacker') IS NOT NULL AS bound;
SELECT ironlayer.apply(ironlayer.plan('aba', NULL, 'x2', '2026-01-15')->>'plan_id', 'dev') AS dev_r1 \gset
RESET ROLE;
SELECT public.ho_work(:dev_r1, 'm.b') AS x2_half_done;
SET ROLE regress_ho_atk;
SELECT ironlayer.use_tenant('attacker') IS NOT NULL AS bound;
SELECT ironlayer.apply(ironlayer.plan('aba', NULL, 'x3', '2026-01-15')->>'plan_id', 'dev') AS dev_r2 \gset
RESET ROLE;
SELECT public.ho_work(:dev_r2) AS x3_deployed;
SET ROLE regress_ho_atk;
SELECT ironlayer.use_tenant('attacker') IS NOT NULL AS bound;
SELECT ironlayer.apply(ironlayer.plan('aba', NULL, 'x1', '2026-01-15')->>'plan_id', 'dev') AS dev_r3 \gset
RESET ROLE;
SELECT public.ho_work(:dev_r3) AS x1_again;
SET ROLE regress_ho_atk;
SELECT ironlayer.use_tenant('attacker') IS NOT NULL AS bound;
SELECT ironlayer.retry(:dev_r1) AS dev_r4 \gset
RESET ROLE;
SELECT public.ho_work(:dev_r4, 'm.b') AS retry_failed_again;
SET ROLE regress_ho_atk;
SELECT ironlayer.use_tenant('attacker') IS NOT NULL AS bound;
SELECT ironlayer.retry(:dev_r4) AS dev_r5 \gset
RESET ROLE;
SELECT public.ho_work(:dev_r5) AS retry_of_the_retry;
SET ROLE regress_ho_atk;
SELECT ironlayer.use_tenant('attacker') IS NOT NULL AS bound;
SELECT commit = ironlayer.resolve_commit('aba', 'x1') AS still_x1, run_id = :dev_r3 AS by_x3_x1
  FROM ironlayer.deployed_commits WHERE repository = 'aba' AND environment = 'dev';
RESET ROLE;
DROP FUNCTION public.ho_work(bigint, text);
