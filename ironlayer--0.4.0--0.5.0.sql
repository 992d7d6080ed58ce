-- ironlayer 0.4.0 -> 0.5.0 upgrade script (ALTER EXTENSION ironlayer UPDATE).
--
-- It turns an install of 0.4.0 into what src/sql/ installs in 0.5.0. Every
-- change to src/sql/ adds its statements here in the same commit, after a
-- line naming the part it changed ("-- src/sql/NN_part.sql"; parts in name
-- order), written as in src/sql/: @extschema@ for the schema,
-- 'MODULE_PATHNAME' for the library, operators qualified. The rules of
-- ironlayer--0.1.0--0.2.0.sql hold here too; test/sql/upgrade.sql compares
-- an install updated along the chain with a fresh one. 0.5.0 is unreleased
-- until it ships: one definition per function here.
\echo Use "ALTER EXTENSION ironlayer UPDATE TO '0.5.0'" to load this file. \quit

-- src/sql/10_tenancy.sql: a refused change of members says how to find the tenant's admins
CREATE OR REPLACE FUNCTION @extschema@._lock_tenant_for_admin(tenant text) RETURNS uuid
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	caller name := @extschema@.acting_role();
	tid uuid;
BEGIN
	PERFORM @extschema@._refuse_in_model_sql('manage tenants');
	IF tenant IS NULL THEN
		RAISE EXCEPTION USING
			ERRCODE = 'null_value_not_allowed',
			MESSAGE = 'tenant name must not be null';
	END IF;
	PERFORM @extschema@._check_size('the tenant name', tenant, 63);
	SELECT t.tenant_id INTO tid FROM @extschema@.tenants t
	 WHERE t.name OPERATOR(pg_catalog.=) _lock_tenant_for_admin.tenant
	   FOR UPDATE;
	IF @extschema@._is_superuser(caller) THEN
		IF tid IS NULL THEN
			RAISE EXCEPTION USING
				ERRCODE = 'undefined_object',
				MESSAGE = pg_catalog.format('tenant "%s" does not exist', tenant),
				HINT = 'Create it with ironlayer.create_tenant().';
		END IF;
		RETURN tid;
	END IF;
	IF tid IS NULL OR NOT EXISTS (
		SELECT 1 FROM @extschema@.members m
		 WHERE m.tenant_id OPERATOR(pg_catalog.=) tid
		   AND m.member OPERATOR(pg_catalog.=) caller
		   AND m.tenant_role OPERATOR(pg_catalog.=) 'admin') THEN
		RAISE EXCEPTION USING
			ERRCODE = 'insufficient_privilege',
			MESSAGE = pg_catalog.format('permission denied for tenant "%s"', tenant),
			DETAIL = pg_catalog.format('Role "%s" is not an admin of tenant "%s".', caller, tenant),
			HINT = 'Only an admin of the tenant or a superuser can change its members; the tenant''s members find its admins with SELECT member FROM ironlayer.members WHERE tenant_role = ''admin''.';
	END IF;
	RETURN tid;
END
$$;

-- src/sql/50_repos.sql: models() and diff() gain unknown_refs (a reference that is neither a model nor a declared source)
DROP FUNCTION @extschema@.models(text, text);
CREATE FUNCTION @extschema@.models(repo text, "commit" text)
	RETURNS TABLE (name text, path text, kind text, materialization text, time_column text,
				   unique_key text, blob text, fingerprint text, upstream text[], sources text[],
				   unknown_refs text[])
	LANGUAGE C VOLATILE PARALLEL RESTRICTED SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'ironlayer_models';
COMMENT ON FUNCTION @extschema@.models(text, text) IS
	'the models of a repository at a commit, read from git objects, with their upstream models, sources and unknown references';
REVOKE ALL ON FUNCTION @extschema@.models(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.models(text, text) TO ironlayer_viewer;

DROP FUNCTION @extschema@.diff(text, text, text);
CREATE FUNCTION @extschema@.diff(repo text, base text, head text)
	RETURNS TABLE (model text, change text, path text, unknown_refs text[])
	LANGUAGE C VOLATILE PARALLEL RESTRICTED SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'ironlayer_diff';
COMMENT ON FUNCTION @extschema@.diff(text, text, text) IS
	'models added, modified, removed or changed only cosmetically between two commits';
REVOKE ALL ON FUNCTION @extschema@.diff(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.diff(text, text, text) TO ironlayer_viewer;

-- src/sql/60_plans.sql: show_plan(), a stored plan's steps as a table
CREATE FUNCTION @extschema@.show_plan(plan_id text)
	RETURNS TABLE (step int, parallel_group int, model text, run_type text, input_range text, reason text,
				   step_id text)
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	pid text;
	n bigint;
BEGIN
	IF show_plan.plan_id IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'plan_id must not be null';
	END IF;
	IF show_plan.plan_id OPERATOR(pg_catalog.!~) '^[0-9a-f]{8,64}$' THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = pg_catalog.format('invalid plan id "%s"', pg_catalog.left(show_plan.plan_id, 80)),
			DETAIL = 'A plan id is 64 lower-case hex digits; a prefix of at least 8 of them names the one plan that has it.';
	END IF;
	SELECT pg_catalog.min(p.plan_id), pg_catalog.count(*) INTO pid, n
	  FROM @extschema@.plans p
	 WHERE pg_catalog.starts_with(p.plan_id, show_plan.plan_id)
	   AND p.tenant_id OPERATOR(pg_catalog.=) @extschema@.current_tenant();
	IF n OPERATOR(pg_catalog.=) 0 THEN
		RAISE EXCEPTION USING ERRCODE = 'undefined_object',
			MESSAGE = pg_catalog.format('plan %s does not exist', show_plan.plan_id),
			HINT = 'ironlayer.plans lists the plans of the bound tenant (ironlayer.use_tenant() binds one).';
	ELSIF n OPERATOR(pg_catalog.>) 1 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = pg_catalog.format('plan id prefix %s is ambiguous: %s plans start with it', show_plan.plan_id, n),
			HINT = 'Give more digits of the plan id.';
	END IF;
	RETURN QUERY
		SELECT s.step_index OPERATOR(pg_catalog.+) 1, s.parallel_group, s.model, s.run_type,
			   CASE WHEN s.start_date IS NOT NULL
					THEN pg_catalog.to_char(s.start_date, 'YYYY-MM-DD') OPERATOR(pg_catalog.||) ' .. '
						 OPERATOR(pg_catalog.||) pg_catalog.to_char(s.end_date, 'YYYY-MM-DD') END,
			   s.reason, s.step_id
		  FROM @extschema@.plan_steps s
		 WHERE s.tenant_id OPERATOR(pg_catalog.=) @extschema@.current_tenant()
		   AND s.plan_id OPERATOR(pg_catalog.=) pid
		 ORDER BY s.step_index;
END
$$;
COMMENT ON FUNCTION @extschema@.show_plan(text) IS
	'a stored plan''s steps in plan order (step from 1): group, model, run type, input range, reason; the plan named by its id or a unique prefix of 8 or more hex digits';
REVOKE ALL ON FUNCTION @extschema@.show_plan(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.show_plan(text) TO ironlayer_viewer;

-- src/sql/60_plans.sql: watermarks name their repository (repository, written by _put_watermark)
ALTER TABLE @extschema@.watermarks ADD COLUMN repository @extschema@.dotted_slug;
UPDATE @extschema@.watermarks w SET repository = r.name FROM @extschema@.repos r
 WHERE r.tenant_id OPERATOR(pg_catalog.=) w.tenant_id AND r.repo_id OPERATOR(pg_catalog.=) w.repo_id;
ALTER TABLE @extschema@.watermarks ALTER COLUMN repository SET NOT NULL;
CREATE OR REPLACE FUNCTION @extschema@._put_watermark(tid uuid, rid bigint, env text, m text,
										   from_day date, to_day date, actor name,
										   widen boolean) RETURNS void
	LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT pg_catalog.isfinite(from_day) OR NOT pg_catalog.isfinite(to_day)
	   OR from_day OPERATOR(pg_catalog.<) DATE '0001-01-01' OR to_day OPERATOR(pg_catalog.>) DATE '9999-12-31' THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'watermark dates must lie between 0001-01-01 and 9999-12-31';
	END IF;
	IF from_day OPERATOR(pg_catalog.>) to_day THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = pg_catalog.format('watermark start %s is after its end %s', from_day, to_day);
	END IF;
	INSERT INTO @extschema@.watermarks AS w
		(tenant_id, repo_id, environment, model, start_date, end_date, updated_by, repository)
	VALUES (tid, rid, env, m, from_day, to_day, actor,
			(SELECT r.name FROM @extschema@.repos r
			  WHERE r.tenant_id OPERATOR(pg_catalog.=) tid AND r.repo_id OPERATOR(pg_catalog.=) rid))
	ON CONFLICT ON CONSTRAINT watermarks_pkey DO UPDATE
		SET start_date = CASE WHEN widen THEN LEAST(w.start_date, EXCLUDED.start_date) ELSE EXCLUDED.start_date END,
			end_date = CASE WHEN widen THEN GREATEST(w.end_date, EXCLUDED.end_date) ELSE EXCLUDED.end_date END,
			updated_at = pg_catalog.now(), updated_by = EXCLUDED.updated_by;
END
$$;

-- src/sql/71_approvals.sql: refused a withdrawal, a member learns where to find the tenant's admins
CREATE OR REPLACE FUNCTION @extschema@.withdraw_rejection(plan_id text, environment text, reason text) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tid uuid := @extschema@._require_tenant_role('engineer', 'withdraw rejections');
	caller name := @extschema@.acting_role();
	g record;
	r record;
BEGIN
	IF plan_id IS NULL OR environment IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'plan_id and environment must not be null';
	END IF;
	PERFORM @extschema@._check_size('the reason', reason, 8192);
	IF reason IS NULL OR pg_catalog.btrim(reason) OPERATOR(pg_catalog.=) '' THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'withdrawing a rejection needs a reason';
	END IF;
	g := @extschema@._gate_rows(tid, withdraw_rejection.plan_id, withdraw_rejection.environment);
	SELECT * INTO r FROM @extschema@._rejection(tid, withdraw_rejection.plan_id, withdraw_rejection.environment);
	IF r.rejected_by IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'undefined_object',
			MESSAGE = pg_catalog.format('plan %s has no rejection in %s', withdraw_rejection.plan_id,
										withdraw_rejection.environment);
	END IF;
	IF caller OPERATOR(pg_catalog.<>) r.rejected_by
	   AND @extschema@.current_tenant_role() IS DISTINCT FROM 'admin' THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = pg_catalog.format('permission denied to withdraw the rejection of plan %s in %s',
										withdraw_rejection.plan_id, withdraw_rejection.environment),
			DETAIL = pg_catalog.format('%s rejected it; only they or a tenant admin may withdraw it.', r.rejected_by),
			HINT = 'Ask them or a tenant admin: SELECT member FROM ironlayer.members WHERE tenant_role = ''admin'' lists the tenant''s admins.';
	END IF;
	DELETE FROM @extschema@.plan_approvals a
	 WHERE a.tenant_id OPERATOR(pg_catalog.=) tid AND a.plan_id OPERATOR(pg_catalog.=) withdraw_rejection.plan_id
	   AND a.environment OPERATOR(pg_catalog.=) withdraw_rejection.environment
	   AND a.decision OPERATOR(pg_catalog.=) 'reject';
	PERFORM @extschema@._audit(tid, 'plan.rejection_withdrawn', 'plan', withdraw_rejection.plan_id,
							   pg_catalog.jsonb_build_object('environment', withdraw_rejection.environment,
															 'rejected_by', r.rejected_by,
															 'rejection_reason', r.reason,
															 'reason', withdraw_rejection.reason));
END
$$;

-- src/sql/72_runs.sql: _start_run writes the repository of the deployments row it makes
CREATE OR REPLACE FUNCTION @extschema@._start_run(tid uuid, pid text, e @extschema@.environments, repo text,
									   prior bigint) RETURNS bigint
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	caller name := @extschema@.acting_role();
	rid bigint;
	active bigint;
	repo_key bigint;
	base text;
	deployed text;
	deployed_run bigint;
	null_id constant text := '0000000000000000000000000000000000000000';
BEGIN
	IF e.run_as IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = pg_catalog.format('environment "%s" has no run_as role', e.name),
			HINT = 'A tenant admin sets one: ironlayer.set_environment(name, ''{"run_as": "role"}'').';
	END IF;
	PERFORM @extschema@._check_run_as(e.run_as);
	SELECT x.repo_id INTO repo_key FROM @extschema@.repos x
	 WHERE x.tenant_id OPERATOR(pg_catalog.=) tid AND x.name OPERATOR(pg_catalog.=) repo;
	IF repo_key IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'undefined_object',
			MESSAGE = pg_catalog.format('repository "%s" of plan %s does not exist', repo, pid),
			HINT = 'ironlayer.repos lists the repositories of the bound tenant; ironlayer.add_repo() registers one.';
	END IF;
	INSERT INTO @extschema@.deployments (tenant_id, repo_id, environment, repository)
	VALUES (tid, repo_key, e.name, repo)
	ON CONFLICT ON CONSTRAINT deployments_pkey DO NOTHING;
	SELECT d.commit, d.run_id INTO deployed, deployed_run FROM @extschema@.deployments d
	 WHERE d.tenant_id OPERATOR(pg_catalog.=) tid AND d.repo_id OPERATOR(pg_catalog.=) repo_key
	   AND d.environment OPERATOR(pg_catalog.=) e.name
	   FOR UPDATE;
	IF e.refuse_stale_plans THEN
		SELECT p.base INTO base FROM @extschema@.plans p
		 WHERE p.tenant_id OPERATOR(pg_catalog.=) tid AND p.plan_id OPERATOR(pg_catalog.=) pid;
		IF base OPERATOR(pg_catalog.<>) COALESCE(deployed, null_id) THEN
			RAISE EXCEPTION USING ERRCODE = 'PT409',
				MESSAGE = pg_catalog.format('plan %s is stale in %s: it starts from commit %s, but %s', pid, e.name,
					base, CASE WHEN deployed IS NULL THEN 'nothing of repository "' OPERATOR(pg_catalog.||) repo
														  OPERATOR(pg_catalog.||) '" is deployed there'
							   ELSE 'the deployed commit is ' OPERATOR(pg_catalog.||) deployed END),
				DETAIL = pg_catalog.format('Environment "%s" refuses plans whose base is not its deployed commit (refuse_stale_plans).', e.name),
				HINT = pg_catalog.format('Plan again from what is deployed: ironlayer.plan(%L, NULL, <head>, as_of, ''{"environment": "%s"}'').',
										 repo, e.name);
		END IF;
		-- a retry runs what its run left undone, in the environment as that
		-- run left it: stale once a later run moved the deployment, even
		-- back to the plan's base (run ids grow, one run active at a time)
		IF prior IS NOT NULL AND deployed_run OPERATOR(pg_catalog.>) prior THEN
			RAISE EXCEPTION USING ERRCODE = 'PT409',
				MESSAGE = pg_catalog.format('run %s is stale in %s: run %s deployed commit %s after it', prior, e.name,
											deployed_run, deployed),
				DETAIL = pg_catalog.format('A retry runs only the steps run %s left undone; environment "%s" refuses it once its deployment moved (refuse_stale_plans).',
										   prior, e.name),
				HINT = pg_catalog.format('Apply the plan again, all its steps: ironlayer.apply(%L, %L).', pid, e.name);
		END IF;
	END IF;
	SELECT r.run_id INTO active FROM @extschema@.runs r
	 WHERE r.tenant_id OPERATOR(pg_catalog.=) tid AND r.repository OPERATOR(pg_catalog.=) repo
	   AND r.environment OPERATOR(pg_catalog.=) e.name
	   AND r.state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'running', 'cancelling']);
	IF active IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'object_in_use',
			MESSAGE = pg_catalog.format('run %s of repository "%s" in %s is still active', active, repo, e.name),
			HINT = 'Wait for it (ironlayer.wait) or cancel it (ironlayer.cancel).';
	END IF;
	-- every claim looks at the active runs: a bounded number per tenant
	IF (SELECT pg_catalog.count(*) FROM @extschema@.runs r
		 WHERE r.tenant_id OPERATOR(pg_catalog.=) tid
		   AND r.state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'running', 'cancelling'])) OPERATOR(pg_catalog.>=) 100 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'a tenant has at most 100 active runs',
			HINT = 'Wait for runs to finish (ironlayer.wait), or cancel some (ironlayer.cancel).';
	END IF;
	INSERT INTO @extschema@.runs (tenant_id, plan_id, environment, repository, retry_of, created_by)
	VALUES (tid, pid, e.name, repo, prior, caller)
	RETURNING run_id INTO rid;
	-- The steps and their edges both ways as the planner stored them
	-- (plan_steps): what each step waits for is its depends_on.
	IF prior IS NULL THEN
		INSERT INTO @extschema@.run_steps (tenant_id, run_id, step_id, step_index, model, kind, materialization,
										   run_type, start_date, end_date, parallel_group, depends_on, dependents,
										   waiting)
		SELECT tid, rid, s.step_id, s.step_index, s.model, s.kind, s.materialization, s.run_type,
			   s.start_date, s.end_date, s.parallel_group, s.depends_on, s.dependents,
			   pg_catalog.cardinality(s.depends_on)
		  FROM @extschema@.plan_steps s
		 WHERE s.tenant_id OPERATOR(pg_catalog.=) tid AND s.plan_id OPERATOR(pg_catalog.=) pid;
	ELSE
		-- the steps of the prior run that did not succeed; upstream steps
		-- that succeeded there are satisfied already (the dependents of a
		-- step that did not succeed never ran, so they are all here)
		INSERT INTO @extschema@.run_steps (tenant_id, run_id, step_id, step_index, model, kind, materialization,
										   run_type, start_date, end_date, parallel_group, depends_on, dependents,
										   waiting)
		SELECT tid, rid, p.step_id, p.step_index, p.model, p.kind, p.materialization, p.run_type,
			   p.start_date, p.end_date, p.parallel_group, u.depends_on, p.dependents,
			   pg_catalog.cardinality(u.depends_on)
		  FROM @extschema@.run_steps p
		 CROSS JOIN LATERAL (SELECT ARRAY(
				SELECT d FROM pg_catalog.unnest(p.depends_on) d
				 WHERE NOT EXISTS (SELECT FROM @extschema@.run_steps x
									WHERE x.tenant_id OPERATOR(pg_catalog.=) tid
									  AND x.run_id OPERATOR(pg_catalog.=) prior
									  AND x.step_id OPERATOR(pg_catalog.=) d
									  AND x.state OPERATOR(pg_catalog.=) 'succeeded'))) u(depends_on)
		 WHERE p.tenant_id OPERATOR(pg_catalog.=) tid AND p.run_id OPERATOR(pg_catalog.=) prior
		   AND p.state OPERATOR(pg_catalog.<>) 'succeeded';
	END IF;
	IF NOT EXISTS (SELECT FROM @extschema@.run_steps s
					WHERE s.tenant_id OPERATOR(pg_catalog.=) tid AND s.run_id OPERATOR(pg_catalog.=) rid) THEN
		UPDATE @extschema@.runs r SET state = 'succeeded', started_at = pg_catalog.now(), finished_at = pg_catalog.now()
		 WHERE r.tenant_id OPERATOR(pg_catalog.=) tid AND r.run_id OPERATOR(pg_catalog.=) rid;
	END IF;
	PERFORM @extschema@._audit(tid, CASE WHEN prior IS NULL THEN 'run.apply' ELSE 'run.retry' END, 'run',
							   rid::text, pg_catalog.jsonb_build_object('plan_id', pid, 'environment', e.name,
																		 'retry_of', prior));
	PERFORM @extschema@._wake_workers();
	RETURN rid;
END
$$;

-- src/sql/78_deployments.sql: deployments name their repository (repository, written with the row)
ALTER TABLE @extschema@.deployments ADD COLUMN repository @extschema@.dotted_slug;
UPDATE @extschema@.deployments d SET repository = r.name FROM @extschema@.repos r
 WHERE r.tenant_id OPERATOR(pg_catalog.=) d.tenant_id AND r.repo_id OPERATOR(pg_catalog.=) d.repo_id;
ALTER TABLE @extschema@.deployments ALTER COLUMN repository SET NOT NULL;
CREATE OR REPLACE FUNCTION @extschema@._deployment_swap() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p record;
	rid bigint;
	cur text;
	cur_run bigint;
	first_run bigint;
	null_id constant text := '0000000000000000000000000000000000000000';
BEGIN
	SELECT x.base, x.target INTO p FROM @extschema@.plans x
	 WHERE x.tenant_id OPERATOR(pg_catalog.=) NEW.tenant_id AND x.plan_id OPERATOR(pg_catalog.=) NEW.plan_id;
	IF NOT FOUND OR p.base OPERATOR(pg_catalog.=) p.target THEN
		RETURN NULL;
	END IF;
	SELECT r.repo_id INTO rid FROM @extschema@.repos r
	 WHERE r.tenant_id OPERATOR(pg_catalog.=) NEW.tenant_id AND r.name OPERATOR(pg_catalog.=) NEW.repository;
	IF rid IS NULL THEN
		RETURN NULL;			-- the repository was removed meanwhile
	END IF;
	INSERT INTO @extschema@.deployments (tenant_id, repo_id, environment, repository)
	VALUES (NEW.tenant_id, rid, NEW.environment, NEW.repository)
	ON CONFLICT ON CONSTRAINT deployments_pkey DO NOTHING;
	SELECT d.commit, d.run_id INTO cur, cur_run FROM @extschema@.deployments d
	 WHERE d.tenant_id OPERATOR(pg_catalog.=) NEW.tenant_id AND d.repo_id OPERATOR(pg_catalog.=) rid
	   AND d.environment OPERATOR(pg_catalog.=) NEW.environment
	   FOR UPDATE;
	-- a retry finishes the runs before it (retry_of, back to the first):
	-- when another run moved the deployment since the first began, even
	-- back to the plan's base, their steps ran on what is no longer there
	WITH RECURSIVE chain (run_id, retry_of) AS (
		SELECT NEW.run_id, NEW.retry_of
		UNION ALL
		SELECT r.run_id, r.retry_of FROM @extschema@.runs r JOIN chain c
			ON r.tenant_id OPERATOR(pg_catalog.=) NEW.tenant_id AND r.run_id OPERATOR(pg_catalog.=) c.retry_of)
	SELECT pg_catalog.min(c.run_id) INTO first_run FROM chain c;
	IF COALESCE(cur, null_id) OPERATOR(pg_catalog.<>) p.base OR cur_run OPERATOR(pg_catalog.>) first_run THEN
		RETURN NULL;
	END IF;
	UPDATE @extschema@.deployments d
	   SET commit = p.target, plan_id = NEW.plan_id, run_id = NEW.run_id,
		   deployed_at = pg_catalog.now(), deployed_by = NEW.created_by
	 WHERE d.tenant_id OPERATOR(pg_catalog.=) NEW.tenant_id AND d.repo_id OPERATOR(pg_catalog.=) rid
	   AND d.environment OPERATOR(pg_catalog.=) NEW.environment;
	PERFORM @extschema@._audit(NEW.tenant_id, 'deployment.set', 'deployment',
							   NEW.repository OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) NEW.environment,
							   pg_catalog.jsonb_build_object('commit', p.target, 'previous', cur,
															 'plan_id', NEW.plan_id, 'run_id', NEW.run_id,
															 'deployed_by', NEW.created_by));
	RETURN NULL;
END
$$;
