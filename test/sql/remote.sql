--
-- The handover of a step to the dispatcher (seam 7): on an environment
-- whose executor is databricks, ironlayer._execute_step loads and checks
-- the model as the local executor does, renders the step's statements for
-- Databricks, writes one 'ready' row per statement into
-- ironlayer.remote_statements, gives the step's lease to the dispatcher and
-- returns 0 with the step still running. ironlayer._finish_step, the end of
-- a step every executor shares, is driven by hand here as the dispatcher
-- would drive it. Nothing is sent anywhere in this test.
--
\set SHOW_CONTEXT never
-- a repository of our own: a model that is not a query comes in r1
SELECT current_setting('ironlayer.repo_root') AS repo_root \gset
\setenv IL_REMOTE :repo_root/remote
\setenv GIT_AUTHOR_NAME ironlayer
\setenv GIT_AUTHOR_EMAIL tests@ironlayer.invalid
\setenv GIT_COMMITTER_NAME ironlayer
\setenv GIT_COMMITTER_EMAIL tests@ironlayer.invalid
\setenv GIT_CONFIG_NOSYSTEM 1
\! rm -rf "$IL_REMOTE" && mkdir -p "$IL_REMOTE/models" && cd "$IL_REMOTE" && git -c init.defaultBranch=main init -q && printf '%s\n' '-- name: rm.one' '-- kind: FULL_REFRESH' 'SELECT 1 AS x' >models/one.sql && git add -A && git commit -q -m r0 && git tag r0
CREATE ROLE regress_rm_ann; GRANT ironlayer_admin TO regress_rm_ann;
CREATE ROLE regress_rm_vic; GRANT ironlayer_viewer TO regress_rm_vic;
CREATE ROLE regress_rm_bob; GRANT ironlayer_admin TO regress_rm_bob;
CREATE ROLE regress_rm_worker; GRANT ironlayer_worker TO regress_rm_worker;
SET ROLE regress_rm_ann;
SELECT ironlayer.create_tenant('remote-a') IS NOT NULL AS created;
SELECT ironlayer.add_member('remote-a', 'regress_rm_vic', 'viewer');
RESET ROLE;
SELECT ironlayer.grant_repo('remote-a', 'shop');
SET ROLE regress_rm_bob;
SELECT ironlayer.create_tenant('remote-b') IS NOT NULL AS created;
SET ROLE regress_rm_ann;
SELECT ironlayer.use_tenant('remote-a') IS NOT NULL AS bound;
SELECT ironlayer.add_repo('shop', 'shop') > 0 AS added;
SELECT ironlayer.add_repo('remote', 'remote') > 0 AS added;
RESET ROLE;
-- dev runs on Databricks: the columns as set_environment stores them
-- (docs/databricks.md), written directly so that this test needs no
-- credential, host or certificate
UPDATE ironlayer.environments SET executor = 'databricks',
	   databricks = '{"workspace_url": "https://adb-1.2.azuredatabricks.net", "warehouse_id": "0123456789abcdef",
					  "catalog": "main", "credential": "dbx", "auth": "pat", "max_in_flight": 16, "ca_bundle": null}'
 WHERE tenant_id = (SELECT tenant_id FROM ironlayer.tenants WHERE name = 'remote-a') AND name = 'dev';
SELECT schema_prefix AS prefix FROM ironlayer.environments
 WHERE tenant_id = (SELECT tenant_id FROM ironlayer.tenants WHERE name = 'remote-a') AND name = 'dev' \gset

-- the statements of a step: their shape (the words before the first name),
-- whether they name the catalog and the environment's schema, the hash of
-- the text as stored
CREATE FUNCTION public.intents_of(run bigint, m text)
RETURNS TABLE (attempt int, seq int, state text, shape text, names_ok boolean, sha_ok boolean, idempotent boolean,
			   environment text)
LANGUAGE sql AS $$
	SELECT r.attempt, r.seq, r.state, left(r.statement, strpos(r.statement, ' `') - 1),
		   r.statement LIKE '%`main`.`' || e.schema_prefix || '%',
		   r.statement_sha256 = encode(sha256(convert_to(r.statement, 'UTF8')), 'hex'), r.idempotent, r.environment
	  FROM ironlayer.remote_statements r
	  JOIN ironlayer.run_steps s USING (tenant_id, run_id, step_id)
	  JOIN ironlayer.runs u USING (tenant_id, run_id)
	  JOIN ironlayer.environments e ON e.tenant_id = u.tenant_id AND e.name = u.environment
	 WHERE r.run_id = run AND s.model = m ORDER BY r.attempt, r.seq
$$;
CREATE FUNCTION public.rm_step(run bigint, m text) RETURNS text LANGUAGE sql AS $$
	SELECT step_id FROM ironlayer.run_steps WHERE run_id = run AND model = m
$$;
CREATE FUNCTION public.rm_steps(run bigint)
RETURNS TABLE (model text, state text, attempts int, lease_owner text, lease_until timestamptz, executor text,
			   rows_affected bigint, sha_ok boolean, error_class text)
LANGUAGE sql AS $$
	SELECT model, state, attempts, lease_owner, CASE WHEN lease_until = 'infinity' THEN lease_until END, executor,
		   rows_affected, statement_sha256 ~ '^[0-9a-f]{64}$', error_class
	  FROM ironlayer.run_steps WHERE run_id = run ORDER BY step_index
$$;
-- what a worker does: claim a step, run it (here: hand it over)
CREATE FUNCTION public.rm_next(worker text, OUT model text, OUT result text)
LANGUAGE plpgsql AS $$
DECLARE
	s record;
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
		result := SQLSTATE || ': ' || SQLERRM;
		PERFORM ironlayer.complete_step(s.run_id, s.step_id, worker, false, NULL, NULL, 'databricks', SQLSTATE, SQLERRM);
	END;
END $$;
-- what the dispatcher does when a step's statements have all succeeded
CREATE FUNCTION public.rm_finish(run bigint, m text, ok boolean DEFAULT true, rows bigint DEFAULT 1)
RETURNS boolean LANGUAGE sql AS $$
	UPDATE ironlayer.remote_statements SET state = CASE WHEN ok THEN 'succeeded' ELSE 'failed' END
	 WHERE run_id = run AND step_id = rm_step(run, m);
	SELECT ironlayer._finish_step(run, rm_step(run, m), 'ironlayer dispatcher', ok, rows, NULL, 'databricks',
								  CASE WHEN ok THEN NULL ELSE 'TABLE_OR_VIEW_NOT_FOUND' END,
								  CASE WHEN ok THEN NULL ELSE '[TABLE_OR_VIEW_NOT_FOUND] The table cannot be found.' END);
$$;

--
-- 1. A worker hands the first step over: 0 rows, the step still running,
-- its lease the dispatcher's for ever, nothing made on this server.
--
SET ROLE regress_rm_ann;
SELECT ironlayer.use_tenant('remote-a') IS NOT NULL AS bound;
SELECT ironlayer.plan('shop', 'cycle', 'main', '2026-01-15')->>'plan_id' AS full_plan \gset
SELECT ironlayer.apply(:'full_plan', 'dev') AS run1 \gset
RESET ROLE;
SELECT rs.model FROM ironlayer.claim_step('w1') s JOIN ironlayer.run_steps rs USING (tenant_id, run_id, step_id);
SELECT rm_step(:run1, 'raw.orders') AS raw_step \gset
-- a worker that is no superuser
SET ROLE regress_rm_worker;
SELECT ironlayer._execute_step(:run1, :'raw_step', 'w1') AS rows_written;
RESET ROLE;
SELECT * FROM rm_steps(:run1);
SELECT * FROM intents_of(:run1, 'raw.orders');
SELECT count(DISTINCT request_id) AS request_ids, bool_and(prior_request_ids = '{}') AS no_prior,
	   bool_and(statement_id IS NULL AND submitted_at IS NULL AND http_retries = 0) AS not_sent
  FROM ironlayer.remote_statements WHERE run_id = :run1;
SELECT count(*) AS local_schemas FROM pg_namespace WHERE nspname LIKE :'prefix' || '%';
-- the worker holds it no more, and no claim takes it back
SELECT try(format($$SELECT ironlayer._execute_step(%s, %L, 'w1')$$, :run1, rm_step(:run1, 'raw.orders'))) ~ 'not held by worker w1' AS not_the_workers;
SELECT count(*) AS claimed FROM ironlayer.claim_step('w2');
SELECT state FROM ironlayer.runs WHERE run_id = :run1;

--
-- 2. Who sees the intent rows: the tenant's members (a viewer too), not
-- another tenant; nobody writes them but ironlayer.
--
SET ROLE regress_rm_vic;
SELECT ironlayer.use_tenant('remote-a') IS NOT NULL AS bound;
SELECT count(*) AS statements FROM ironlayer.remote_statements;
SELECT seq, state, request_id IS NOT NULL AS request_id, duration FROM ironlayer.statement_telemetry ORDER BY seq;
SELECT try($$UPDATE ironlayer.remote_statements SET state = 'succeeded'$$) AS viewer_writes;
SET ROLE regress_rm_bob;
SELECT ironlayer.use_tenant('remote-b') IS NOT NULL AS bound;
SELECT count(*) AS statements FROM ironlayer.remote_statements;
SELECT count(*) AS telemetry FROM ironlayer.statement_telemetry;
SET ROLE regress_rm_ann;
SELECT try($$DELETE FROM ironlayer.remote_statements$$) AS admin_deletes;
RESET ROLE;

--
-- 3. _finish_step, as the dispatcher ends a step: only the lease's owner
-- ends it; success records the step's statements' hash and frees its
-- dependents, which are handed over in turn.
--
SELECT ironlayer._finish_step(:run1, rm_step(:run1, 'raw.orders'), 'w1', true, 1, NULL, 'databricks', NULL, NULL) AS not_the_owner;
SELECT state FROM ironlayer.run_steps WHERE run_id = :run1 AND model = 'raw.orders';
-- the dispatcher reports what ran: times, rows, bytes
UPDATE ironlayer.remote_statements SET statement_id = '01ef-' || seq, remote_state = 'SUCCEEDED',
	   submitted_at = '2026-01-15 10:00:00+00', finished_at = '2026-01-15 10:00:00+00'::timestamptz + (seq + 1) * interval '1 s',
	   rows_affected = CASE WHEN seq = 1 THEN 5 END, bytes = CASE WHEN seq = 1 THEN 4096 END
 WHERE run_id = :run1;
SELECT rm_finish(:run1, 'raw.orders', true, 5) AS finished;
SELECT * FROM rm_steps(:run1);
SELECT statement_sha256 = (SELECT encode(sha256(convert_to(string_agg(statement || E';\n', '' ORDER BY seq), 'UTF8')), 'hex')
							 FROM ironlayer.remote_statements WHERE run_id = :run1) AS step_hash_of_its_statements
  FROM ironlayer.run_steps WHERE run_id = :run1 AND model = 'raw.orders';
SELECT seq, statement_id, state, remote_state, duration, rows_affected, bytes, error_class, http_retries
  FROM ironlayer.statement_telemetry WHERE run_id = :run1 ORDER BY seq;
SELECT * FROM rm_next('w1');
SELECT * FROM rm_next('w1');
SELECT * FROM rm_next('w1');
SELECT * FROM intents_of(:run1, 'staging.customers');
SELECT * FROM intents_of(:run1, 'staging.orders');
-- a full refresh of an incremental model: its watermark covers all
-- history up to as_of, as the local executor records it
SELECT rm_finish(:run1, 'staging.customers') AND rm_finish(:run1, 'staging.orders') AS finished;
SELECT environment, model, start_date, end_date FROM ironlayer.watermarks
 WHERE tenant_id = (SELECT tenant_id FROM ironlayer.runs WHERE run_id = :run1) ORDER BY model;
-- a failed statement fails its step: the error is stored scrubbed, the
-- downstream step skipped, the run failed once nothing is left
SELECT * FROM rm_next('w1');
SELECT * FROM rm_next('w1');
SELECT * FROM rm_next('w1');
SELECT * FROM intents_of(:run1, 'marts.customer_summary');
SELECT rm_finish(:run1, 'marts.customer_summary') AS finished;
SELECT rm_finish(:run1, 'marts.revenue', false, NULL) AS finished;
SELECT * FROM rm_steps(:run1);
SELECT error_message FROM ironlayer.run_steps WHERE run_id = :run1 AND state = 'failed';
SELECT state FROM ironlayer.runs WHERE run_id = :run1;
-- a step ended twice: the second is refused
SELECT rm_finish(:run1, 'marts.revenue') AS finished_again;

--
-- 4. An incremental step: the range replaced, the watermark widened when
-- the step ends.
--
SET ROLE regress_rm_ann;
SELECT ironlayer.use_tenant('remote-a') IS NOT NULL AS bound;
SELECT ironlayer.plan('shop', 'v1', 'main', '2026-01-20')->>'plan_id' AS inc_plan \gset
SELECT ironlayer.apply(:'inc_plan', 'dev') AS run2 \gset
RESET ROLE;
SELECT model, run_type, start_date, end_date FROM ironlayer.run_steps WHERE run_id = :run2 ORDER BY step_index;
SELECT * FROM rm_next('w1');
SELECT * FROM intents_of(:run2, 'staging.orders');
SELECT rm_finish(:run2, 'staging.orders') AS finished;
SELECT model, start_date, end_date FROM ironlayer.watermarks
 WHERE tenant_id = (SELECT tenant_id FROM ironlayer.runs WHERE run_id = :run2) ORDER BY model;
SET ROLE regress_rm_ann;
SELECT ironlayer.use_tenant('remote-a') IS NOT NULL AS bound;
SELECT ironlayer.cancel(:run2) IS NOT NULL AS cancelled;
RESET ROLE;

--
-- 5. Refusals before anything is written: an on_schema_change the
-- databricks executor does not support (set_environment refuses it too;
-- written directly here), a model that is not a query. The step's failure
-- is recorded as a worker would.
--
UPDATE ironlayer.environments SET on_schema_change = 'sync_all_columns'
 WHERE tenant_id = (SELECT tenant_id FROM ironlayer.tenants WHERE name = 'remote-a') AND name = 'dev';
SET ROLE regress_rm_ann;
SELECT ironlayer.use_tenant('remote-a') IS NOT NULL AS bound;
SELECT ironlayer.apply(:'full_plan', 'dev') AS run3 \gset
RESET ROLE;
SELECT * FROM rm_next('w1');
UPDATE ironlayer.environments SET on_schema_change = 'fail'
 WHERE tenant_id = (SELECT tenant_id FROM ironlayer.tenants WHERE name = 'remote-a') AND name = 'dev';
\! cd "$IL_REMOTE" && printf '%s\n' '-- name: rm.copy' '-- kind: FULL_REFRESH' 'INSERT INTO rm.copy SELECT 1' >models/copy.sql && git add -A && git commit -q -m r1 && git tag r1
SET ROLE regress_rm_ann;
SELECT ironlayer.use_tenant('remote-a') IS NOT NULL AS bound;
SELECT ironlayer.plan('remote', 'r0', 'r1', '2026-01-15')->>'plan_id' AS copy_plan \gset
SELECT ironlayer.apply(:'copy_plan', 'dev') AS run4 \gset
RESET ROLE;
SELECT * FROM rm_next('w1');
SELECT count(*) AS intent_rows FROM ironlayer.remote_statements WHERE run_id IN (:run3, :run4);
SELECT model, state, lease_owner, executor, error_class FROM ironlayer.run_steps WHERE run_id IN (:run3, :run4) ORDER BY run_id, step_index;
SELECT state FROM ironlayer.runs WHERE run_id IN (:run3, :run4) ORDER BY run_id;
