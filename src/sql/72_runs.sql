-- Runs and their steps: apply, cancel, retry, wait (docs/runs.md).

-- Runs: one per apply of a plan in an environment, one step row per plan step.
CREATE TABLE @extschema@.runs (
	tenant_id	uuid NOT NULL REFERENCES @extschema@.tenants (tenant_id) ON DELETE CASCADE,
	run_id		bigint GENERATED ALWAYS AS IDENTITY,
	plan_id		text NOT NULL,
	environment	text NOT NULL,
	repository	text NOT NULL,
	state		text NOT NULL DEFAULT 'pending'
		CHECK (state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'running', 'cancelling', 'succeeded', 'failed', 'cancelled'])),
	retry_of	bigint,
	created_by	name NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	started_at	timestamptz,
	finished_at	timestamptz,
	PRIMARY KEY (tenant_id, run_id),
	FOREIGN KEY (tenant_id, plan_id) REFERENCES @extschema@.plans (tenant_id, plan_id),
	FOREIGN KEY (tenant_id, environment) REFERENCES @extschema@.environments (tenant_id, name)
);
COMMENT ON TABLE @extschema@.runs IS 'applies of plans: one run per apply, its state';
-- at most one active run per repository and environment (a cancelling
-- run is active: a step of it is still running)
CREATE UNIQUE INDEX runs_one_active ON @extschema@.runs (tenant_id, repository, environment)
	WHERE state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'running', 'cancelling']);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.runs', '');
SELECT @extschema@._isolate_tenant_table('@extschema@.runs');
GRANT SELECT ON @extschema@.runs TO ironlayer_viewer;

CREATE TABLE @extschema@.run_steps (
	tenant_id	uuid NOT NULL,
	run_id		bigint NOT NULL,
	step_id		text NOT NULL,
	step_index	int NOT NULL,
	model		text NOT NULL,
	kind		text NOT NULL,
	materialization text NOT NULL,
	run_type	text NOT NULL,
	start_date	date,
	end_date	date,
	parallel_group int NOT NULL,
	depends_on	text[] NOT NULL,
	-- the steps of this run that depend on this one, and how many of this
	-- step's upstream steps have not succeeded yet: a step is ready when
	-- pending with none waiting (kept by complete_step)
	dependents	text[] NOT NULL DEFAULT '{}',
	waiting		int NOT NULL DEFAULT 0,
	state		text NOT NULL DEFAULT 'pending'
		CHECK (state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'running', 'succeeded', 'failed', 'skipped', 'cancelled'])),
	attempts	int NOT NULL DEFAULT 0,
	lease_owner	text,
	lease_until	timestamptz,
	started_at	timestamptz,
	finished_at	timestamptz,
	duration	interval GENERATED ALWAYS AS (finished_at OPERATOR(pg_catalog.-) started_at) STORED,
	-- telemetry (scrubbed before storage)
	executor	text,
	rows_affected bigint,
	statement_sha256 text,
	error_class	text,
	error_message text,
	PRIMARY KEY (tenant_id, run_id, step_id),
	FOREIGN KEY (tenant_id, run_id) REFERENCES @extschema@.runs (tenant_id, run_id) ON DELETE CASCADE
);
COMMENT ON TABLE @extschema@.run_steps IS
	'the steps of runs: state, attempts, lease, timings and scrubbed telemetry';
CREATE INDEX runs_by_id ON @extschema@.runs (run_id);
CREATE INDEX run_steps_by_run ON @extschema@.run_steps (run_id, step_id);
-- the claim's ordered scan of a run's ready steps, and of expired leases
CREATE INDEX run_steps_ready ON @extschema@.run_steps (run_id, parallel_group, step_index)
	WHERE state OPERATOR(pg_catalog.=) 'pending' AND waiting OPERATOR(pg_catalog.=) 0;
CREATE INDEX run_steps_leases ON @extschema@.run_steps (lease_until)
	WHERE state OPERATOR(pg_catalog.=) 'running';
-- a run's unfinished steps, those claimed last first: complete_step's test
-- for a step left finds one of them at once, not after the entries of every
-- step finished since the oldest snapshot (which a held snapshot keeps)
CREATE INDEX run_steps_runnable ON @extschema@.run_steps
	(tenant_id, run_id, state, parallel_group DESC, step_index DESC)
	WHERE state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'running']);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.run_steps', '');
SELECT @extschema@._isolate_tenant_table('@extschema@.run_steps');
GRANT SELECT ON @extschema@.run_steps TO ironlayer_viewer;

CREATE VIEW @extschema@.run_summary WITH (security_invoker = true) AS
SELECT r.tenant_id, r.run_id, r.plan_id, r.environment, r.repository, r.state, r.retry_of,
	   r.created_by, r.created_at, r.started_at, r.finished_at,
	   r.finished_at OPERATOR(pg_catalog.-) r.started_at AS duration,
	   count(s.step_id) AS steps,
	   count(s.step_id) FILTER (WHERE s.state OPERATOR(pg_catalog.=) 'succeeded') AS succeeded,
	   count(s.step_id) FILTER (WHERE s.state OPERATOR(pg_catalog.=) 'failed') AS failed,
	   count(s.step_id) FILTER (WHERE s.state OPERATOR(pg_catalog.=) 'skipped') AS skipped,
	   count(s.step_id) FILTER (WHERE s.state OPERATOR(pg_catalog.=) 'cancelled') AS cancelled,
	   count(s.step_id) FILTER (WHERE s.state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'running'])) AS unfinished,
	   sum(s.rows_affected) AS rows_affected,
	   sum(s.attempts) AS attempts
  FROM @extschema@.runs r
  LEFT JOIN @extschema@.run_steps s USING (tenant_id, run_id)
 GROUP BY r.tenant_id, r.run_id;
COMMENT ON VIEW @extschema@.run_summary IS 'one row per run: its state, timing and step counts';
GRANT SELECT ON @extschema@.run_summary TO ironlayer_viewer;

-- Wakes the background workers when the calling transaction commits
-- (src/pg/worker.c); harmless without them.
CREATE FUNCTION @extschema@._wake_workers() RETURNS void
	LANGUAGE C VOLATILE AS 'MODULE_PATHNAME', 'ironlayer_wake_workers';
REVOKE ALL ON FUNCTION @extschema@._wake_workers() FROM PUBLIC;

-- Scrubs text of personal data and secrets before it is stored (src/core/il_scrub.c).
CREATE FUNCTION @extschema@._scrub(t text, is_sql boolean DEFAULT false) RETURNS text
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'ironlayer_scrub';
REVOKE ALL ON FUNCTION @extschema@._scrub(text, boolean) FROM PUBLIC;

-- A new run of the given steps of a plan (all of them, or those of a run
-- that did not succeed); the caller holds the plan's row. Starts and
-- deploys of a repository in an environment take turns on its deployment
-- row, locked here first: a plan whose base is no longer the deployed
-- commit is refused (where the environment says so) before anything starts.
CREATE FUNCTION @extschema@._start_run(tid uuid, pid text, e @extschema@.environments, repo text,
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
REVOKE ALL ON FUNCTION @extschema@._start_run(uuid, text, @extschema@.environments, text, bigint) FROM PUBLIC;

CREATE FUNCTION @extschema@.apply(plan_id text, environment text) RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tid uuid := @extschema@._require_tenant_role('engineer', 'apply plans');
	g record;
	repo text;
BEGIN
	IF plan_id IS NULL OR environment IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'plan_id and environment must not be null';
	END IF;
	g := @extschema@._gate_rows(tid, plan_id, environment);
	PERFORM @extschema@._refuse_rejected(tid, plan_id, environment);
	IF NOT @extschema@._gate_open(tid, plan_id, g.e) THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = pg_catalog.format('plan %s is not approved for %s', plan_id, environment),
			DETAIL = pg_catalog.format('%s needs %s approval(s) and no rejection.', environment, (g.e).approvals_required),
			HINT = 'ironlayer.approve(plan_id, environment) records an approval.';
	END IF;
	SELECT p.repository INTO repo FROM @extschema@.plans p
	 WHERE p.tenant_id OPERATOR(pg_catalog.=) tid AND p.plan_id OPERATOR(pg_catalog.=) apply.plan_id;
	RETURN @extschema@._start_run(tid, plan_id, g.e, repo, NULL);
END
$$;
COMMENT ON FUNCTION @extschema@.apply(text, text) IS
	'run an approved plan in an environment: a new run with one step per plan step (engineers and admins)';

-- The run row of the bound tenant, locked; an error when there is none.
CREATE FUNCTION @extschema@._run_row(tid uuid, rid bigint) RETURNS @extschema@.runs
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r @extschema@.runs;
BEGIN
	IF rid IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'run_id must not be null';
	END IF;
	SELECT * INTO r FROM @extschema@.runs x
	 WHERE x.tenant_id OPERATOR(pg_catalog.=) tid AND x.run_id OPERATOR(pg_catalog.=) rid FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'undefined_object', MESSAGE = pg_catalog.format('run %s does not exist', rid);
	END IF;
	RETURN r;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._run_row(uuid, bigint) FROM PUBLIC;

CREATE FUNCTION @extschema@.cancel(run_id bigint) RETURNS text
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tid uuid := @extschema@._require_tenant_role('engineer', 'cancel runs');
	r @extschema@.runs := @extschema@._run_row(tid, cancel.run_id);
	still_running boolean;
BEGIN
	IF r.state OPERATOR(pg_catalog.<>) ALL (ARRAY['pending', 'running']) THEN
		RETURN r.state;
	END IF;
	-- steps not started never start; a running step finishes and is recorded
	UPDATE @extschema@.run_steps s SET state = 'cancelled', finished_at = pg_catalog.now()
	 WHERE s.tenant_id OPERATOR(pg_catalog.=) tid AND s.run_id OPERATOR(pg_catalog.=) r.run_id
	   AND s.state OPERATOR(pg_catalog.=) 'pending';
	-- the run stays active (cancelling) until no step of it is running:
	-- complete_step, or the claim that finds a lease of it expired, ends it
	still_running := EXISTS (SELECT FROM @extschema@.run_steps s
							  WHERE s.tenant_id OPERATOR(pg_catalog.=) tid AND s.run_id OPERATOR(pg_catalog.=) r.run_id
								AND s.state OPERATOR(pg_catalog.=) 'running');
	UPDATE @extschema@.runs x
	   SET state = CASE WHEN still_running THEN 'cancelling' ELSE 'cancelled' END,
		   finished_at = CASE WHEN still_running THEN NULL ELSE pg_catalog.now() END
	 WHERE x.tenant_id OPERATOR(pg_catalog.=) tid AND x.run_id OPERATOR(pg_catalog.=) r.run_id;
	PERFORM @extschema@._audit(tid, 'run.cancel', 'run', r.run_id::text, '{}');
	RETURN CASE WHEN still_running THEN 'cancelling' ELSE 'cancelled' END;
END
$$;
COMMENT ON FUNCTION @extschema@.cancel(bigint) IS
	'cancel a run: its steps not yet started never start, it is cancelling until its running steps end (engineers and admins); returns the run''s state';

CREATE FUNCTION @extschema@.retry(run_id bigint) RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tid uuid := @extschema@._require_tenant_role('engineer', 'retry runs');
	r @extschema@.runs := @extschema@._run_row(tid, retry.run_id);
	g record;
BEGIN
	IF r.state OPERATOR(pg_catalog.=) 'cancelling' THEN
		RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = pg_catalog.format('run %s is cancelling: only a failed or cancelled run is retried', r.run_id),
			DETAIL = 'A step of the run is still running.',
			HINT = 'Wait until the run is cancelled (ironlayer.wait), then retry it.';
	END IF;
	IF r.state OPERATOR(pg_catalog.<>) ALL (ARRAY['failed', 'cancelled']) THEN
		RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = pg_catalog.format('run %s is %s: only a failed or cancelled run is retried', r.run_id, r.state);
	END IF;
	g := @extschema@._gate_rows(tid, r.plan_id, r.environment);
	PERFORM @extschema@._refuse_rejected(tid, r.plan_id, r.environment);
	IF NOT @extschema@._gate_open(tid, r.plan_id, g.e) THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = pg_catalog.format('plan %s is no longer approved for %s', r.plan_id, r.environment);
	END IF;
	RETURN @extschema@._start_run(tid, r.plan_id, g.e, r.repository, r.run_id);
END
$$;
COMMENT ON FUNCTION @extschema@.retry(bigint) IS
	'a new run of the steps of a failed or cancelled run that did not succeed (engineers and admins)';

-- Whether a row version was written by the calling transaction (src/pg/worker.c).
CREATE FUNCTION @extschema@._written_here(xmin xid) RETURNS boolean
	LANGUAGE C VOLATILE STRICT AS 'MODULE_PATHNAME', 'ironlayer_written_here';
REVOKE ALL ON FUNCTION @extschema@._written_here(xid) FROM PUBLIC;

CREATE FUNCTION @extschema@.wait(run_id bigint, timeout interval DEFAULT '5 min') RETURNS text
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tid uuid := @extschema@._require_tenant_role('viewer', 'wait for runs');
	deadline timestamptz := pg_catalog.clock_timestamp() OPERATOR(pg_catalog.+) timeout;
	s text;
	here boolean;
BEGIN
	IF run_id IS NULL OR timeout IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'run_id and timeout must not be null';
	END IF;
	LOOP
		SELECT r.state, @extschema@._written_here(r.xmin) INTO s, here FROM @extschema@.runs r
		 WHERE r.tenant_id OPERATOR(pg_catalog.=) tid AND r.run_id OPERATOR(pg_catalog.=) wait.run_id;
		IF s IS NULL THEN
			RAISE EXCEPTION USING ERRCODE = 'undefined_object', MESSAGE = pg_catalog.format('run %s does not exist', run_id);
		END IF;
		IF s OPERATOR(pg_catalog.<>) ALL (ARRAY['pending', 'running', 'cancelling']) THEN
			RETURN s;
		END IF;
		-- the workers cannot see a run this transaction applied or changed
		IF here THEN
			RAISE EXCEPTION USING ERRCODE = 'invalid_transaction_state',
				MESSAGE = pg_catalog.format('run %s was applied or changed in this transaction, so no worker can see it yet', run_id),
				HINT = 'Commit, then wait for the run.';
		END IF;
		IF pg_catalog.clock_timestamp() OPERATOR(pg_catalog.>=) deadline THEN
			RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
				MESSAGE = pg_catalog.format('run %s is still %s after waiting %s', run_id, s, timeout),
				HINT = 'Wait again, or look at ironlayer.run_steps.';
		END IF;
		PERFORM pg_catalog.pg_sleep(0.05);
	END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.wait(bigint, interval) IS
	'wait until a run is final and return its state; an error after the timeout';
