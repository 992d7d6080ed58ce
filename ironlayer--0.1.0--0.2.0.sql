-- ironlayer 0.1.0 -> 0.2.0 upgrade script (ALTER EXTENSION ironlayer UPDATE).
--
-- It turns an install of 0.1.0 into what src/sql/ installs in 0.2.0. Every
-- change to src/sql/ adds its statements here in the same commit, after a
-- line naming the part it changed ("-- src/sql/NN_part.sql"; parts in name
-- order), written as in src/sql/: @extschema@ for the schema,
-- 'MODULE_PATHNAME' for the library, operators qualified. A changed
-- function is CREATE OR REPLACE'd with its new text (same arguments), or
-- dropped and created again with its comment and grants (other arguments,
-- other result); a new object is created with its comment and grants; a
-- dropped one is dropped; a new table under pg_extension_config_dump is
-- registered. A column that changes type takes along what reads it (views,
-- functions with a SQL-standard body): drop them first, make them again
-- after. The regression test test/sql/upgrade.sql compares an updated
-- install with a fresh one, object by object, and lists what this script
-- still misses.
\echo Use "ALTER EXTENSION ironlayer UPDATE TO '0.2.0'" to load this file. \quit

-- src/sql/60_plans.sql
-- plan_steps: a view of the plan text in 0.1.0, now the rows plan() stores
-- from the planner's result, with each step's dependents.
DROP VIEW @extschema@.plan_steps;
-- One row per step of each stored plan, the step's fields as columns and
-- the steps that depend on it: written by ironlayer.plan() with the plan,
-- from the planner's own structures (src/pg/plan.c), never updated. A run
-- copies its steps and their edges from here (_start_run).
CREATE TABLE @extschema@.plan_steps (
	tenant_id	uuid NOT NULL,
	plan_id		text NOT NULL,
	step_index	int NOT NULL,
	step_id		text NOT NULL,
	model		text NOT NULL,
	kind		text NOT NULL,
	materialization text NOT NULL,
	run_type	text NOT NULL,
	start_date	date,
	end_date	date,
	parallel_group int NOT NULL,
	depends_on	text[] NOT NULL,
	reason		text NOT NULL,
	sql_sha256	text NOT NULL,
	dependents	text[] NOT NULL,
	PRIMARY KEY (tenant_id, plan_id, step_index),
	FOREIGN KEY (tenant_id, plan_id) REFERENCES @extschema@.plans (tenant_id, plan_id) ON DELETE CASCADE
);
COMMENT ON TABLE @extschema@.plan_steps IS
	'one row per step of each stored plan, in plan order (step_index from 0), with the steps that depend on it';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.plan_steps', '');
SELECT @extschema@._isolate_tenant_table('@extschema@.plan_steps');
GRANT SELECT ON @extschema@.plan_steps TO ironlayer_viewer;
CREATE TRIGGER plan_steps_immutable BEFORE UPDATE ON @extschema@.plan_steps
	FOR EACH ROW EXECUTE FUNCTION @extschema@._plans_immutable();
-- the steps of the plans stored before: from their text, once, and each
-- step's dependents (the steps whose depends_on lists it, in id order)
WITH s AS (
	SELECT p.tenant_id, p.plan_id, x.ord, x.step
	  FROM @extschema@.plans p
	 CROSS JOIN LATERAL pg_catalog.json_array_elements(p.plan OPERATOR(pg_catalog.->) 'steps')
		   WITH ORDINALITY AS x(step, ord)),
r AS (
	SELECT s.tenant_id, s.plan_id, u.id,
		   pg_catalog.array_agg(s.step OPERATOR(pg_catalog.->>) 'step_id'
								ORDER BY (s.step OPERATOR(pg_catalog.->>) 'step_id') COLLATE "C") AS ids
	  FROM s CROSS JOIN LATERAL pg_catalog.json_array_elements_text(s.step OPERATOR(pg_catalog.->) 'depends_on') u(id)
	 GROUP BY s.tenant_id, s.plan_id, u.id)
INSERT INTO @extschema@.plan_steps (tenant_id, plan_id, step_index, step_id, model, kind, materialization, run_type,
									start_date, end_date, parallel_group, depends_on, reason, sql_sha256, dependents)
SELECT s.tenant_id, s.plan_id, s.ord::int OPERATOR(pg_catalog.-) 1,
	   s.step OPERATOR(pg_catalog.->>) 'step_id', s.step OPERATOR(pg_catalog.->>) 'model',
	   s.step OPERATOR(pg_catalog.->>) 'kind', s.step OPERATOR(pg_catalog.->>) 'materialization',
	   s.step OPERATOR(pg_catalog.->>) 'run_type',
	   ((s.step OPERATOR(pg_catalog.->) 'input_range') OPERATOR(pg_catalog.->>) 'start')::date,
	   ((s.step OPERATOR(pg_catalog.->) 'input_range') OPERATOR(pg_catalog.->>) 'end')::date,
	   (s.step OPERATOR(pg_catalog.->>) 'parallel_group')::int,
	   ARRAY(SELECT pg_catalog.json_array_elements_text(s.step OPERATOR(pg_catalog.->) 'depends_on')),
	   s.step OPERATOR(pg_catalog.->>) 'reason', s.step OPERATOR(pg_catalog.->>) 'sql_sha256',
	   COALESCE(r.ids, '{}')
  FROM s LEFT JOIN r ON r.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND r.plan_id OPERATOR(pg_catalog.=) s.plan_id
					AND r.id OPERATOR(pg_catalog.=) (s.step OPERATOR(pg_catalog.->>) 'step_id');

-- src/sql/72_runs.sql
DROP INDEX @extschema@.run_steps_runnable;
-- a run's unfinished steps, those claimed last first: complete_step's test
-- for a step left finds one of them at once, not after the entries of every
-- step finished since the oldest snapshot (which a held snapshot keeps)
CREATE INDEX run_steps_runnable ON @extschema@.run_steps
	(tenant_id, run_id, state, parallel_group DESC, step_index DESC)
	WHERE state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'running']);

CREATE OR REPLACE FUNCTION @extschema@._start_run(tid uuid, pid text, e @extschema@.environments, repo text,
									   prior bigint) RETURNS bigint
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	caller name := @extschema@.acting_role();
	rid bigint;
	active bigint;
BEGIN
	IF e.run_as IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = pg_catalog.format('environment "%s" has no run_as role', e.name),
			HINT = 'A tenant admin sets one: ironlayer.set_environment(name, ''{"run_as": "role"}'').';
	END IF;
	PERFORM @extschema@._check_run_as(e.run_as);
	SELECT r.run_id INTO active FROM @extschema@.runs r
	 WHERE r.tenant_id OPERATOR(pg_catalog.=) tid AND r.repository OPERATOR(pg_catalog.=) repo
	   AND r.environment OPERATOR(pg_catalog.=) e.name
	   AND r.state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'running']);
	IF active IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'object_in_use',
			MESSAGE = pg_catalog.format('run %s of repository "%s" in %s is still active', active, repo, e.name),
			HINT = 'Wait for it (ironlayer.wait) or cancel it (ironlayer.cancel).';
	END IF;
	-- every claim looks at the active runs: a bounded number per tenant
	IF (SELECT pg_catalog.count(*) FROM @extschema@.runs r
		 WHERE r.tenant_id OPERATOR(pg_catalog.=) tid
		   AND r.state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'running'])) OPERATOR(pg_catalog.>=) 100 THEN
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

-- src/sql/73_queue.sql
CREATE OR REPLACE FUNCTION @extschema@.claim_step(worker text, lease interval DEFAULT '1 min')
	RETURNS TABLE (tenant_id uuid, run_id bigint, step_id text, attempts int)
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	SET row_security = off SET lock_timeout = '1min'
AS $$
DECLARE
	s record;
	c record;
	sole record;
	tries int;
	n int;
	cap int;
BEGIN
	PERFORM @extschema@._refuse_in_model_sql('claim steps');
	IF worker IS NULL OR lease IS NULL OR lease OPERATOR(pg_catalog.<=) '0'::interval THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value', MESSAGE = 'a worker name and a positive lease are required';
	END IF;
	PERFORM @extschema@._check_size('the worker name', worker, 256);
	-- one claim at a time (a claim is a few index probes): the counts of
	-- running steps below include every claim made before this one
	PERFORM FROM @extschema@.claim_lock FOR UPDATE;
	-- A running step whose lease expired (its worker died: its transaction
	-- never committed) comes first; one whose workers died three times
	-- (killed, crashed, or ended past the statement_timeout) is not tried
	-- again: it fails (completed in the name of the lease's owner: the row
	-- is locked here once, and written once, by complete_step).
	LOOP
		SELECT x.tenant_id, x.run_id, x.step_id, x.attempts, x.lease_owner INTO s
		  FROM @extschema@.run_steps x
		 WHERE x.state OPERATOR(pg_catalog.=) 'running' AND x.lease_until OPERATOR(pg_catalog.<) pg_catalog.now()
		 ORDER BY x.lease_until
		 LIMIT 1
		   FOR UPDATE SKIP LOCKED;
		EXIT WHEN NOT FOUND OR s.attempts OPERATOR(pg_catalog.<) 3;
		PERFORM @extschema@.complete_step(s.run_id, s.step_id, s.lease_owner, false, NULL, NULL, NULL, '57P01',
			pg_catalog.format('the step was given up after %s attempts: each time its worker ended before it '
							  'finished (killed, crashed, or stopped past the statement_timeout)', s.attempts));
	END LOOP;
	IF s.step_id IS NULL THEN
		-- Then a ready step (pending, every upstream step succeeded) of an
		-- active run, shared fairly: the tenants with the fewest steps
		-- running first, of those the one served longest ago; within a
		-- tenant, its run with the fewest steps running, then the oldest; in
		-- a run, the first ready step in (parallel_group, step_index) order.
		-- Runs of an environment at its max_running_steps wait, and so do a
		-- tenant's at ironlayer.tenant_max_running_steps. The first ready
		-- step of each active run is a probe of the small index of ready
		-- steps that stops at its first row (a claim looks at the active
		-- runs, at most 100 a tenant). Counting running steps costs more
		-- (a session that holds an old snapshot, a long wait() among them,
		-- keeps the index entries of every step finished since), so it is
		-- done only when there is a choice or a cap to keep.
		cap := COALESCE(NULLIF(pg_catalog.current_setting('ironlayer.tenant_max_running_steps', true), ''), '0')::int;
		n := 0;
		FOR c IN
			SELECT r.tenant_id, r.run_id, f.step_id, e.max_running_steps AS env_cap
			  FROM @extschema@.runs r
			  JOIN @extschema@.environments e ON e.tenant_id OPERATOR(pg_catalog.=) r.tenant_id
											 AND e.name OPERATOR(pg_catalog.=) r.environment
			 CROSS JOIN LATERAL (SELECT x.step_id FROM @extschema@.run_steps x
								  WHERE x.run_id OPERATOR(pg_catalog.=) r.run_id AND x.tenant_id OPERATOR(pg_catalog.=) r.tenant_id
									AND x.state OPERATOR(pg_catalog.=) 'pending' AND x.waiting OPERATOR(pg_catalog.=) 0
								  ORDER BY x.parallel_group, x.step_index
								  LIMIT 1) f
			 WHERE r.state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'running'])
			 LIMIT 2
		LOOP
			n := n OPERATOR(pg_catalog.+) 1;
			IF n OPERATOR(pg_catalog.=) 1 THEN
				sole := c;
			END IF;
		END LOOP;
		IF n OPERATOR(pg_catalog.=) 0 THEN
			RETURN;
		END IF;
		IF n OPERATOR(pg_catalog.=) 1 AND cap OPERATOR(pg_catalog.<=) 0 AND sole.env_cap IS NULL THEN
			-- one run to serve and nothing to count: its step
			SELECT x.tenant_id, x.run_id, x.step_id INTO s
			  FROM @extschema@.run_steps x
			 WHERE x.tenant_id OPERATOR(pg_catalog.=) sole.tenant_id AND x.run_id OPERATOR(pg_catalog.=) sole.run_id
			   AND x.step_id OPERATOR(pg_catalog.=) sole.step_id
			   FOR UPDATE SKIP LOCKED;
		ELSE
			FOR c IN
				WITH running AS (
					SELECT x.tenant_id, x.run_id, pg_catalog.count(*) AS n
					  FROM @extschema@.run_steps x
					 WHERE x.state OPERATOR(pg_catalog.=) 'running'
					 GROUP BY x.tenant_id, x.run_id),
				busy AS (
					SELECT g.tenant_id, r.environment, pg_catalog.sum(g.n) AS n
					  FROM running g JOIN @extschema@.runs r ON r.tenant_id OPERATOR(pg_catalog.=) g.tenant_id
															AND r.run_id OPERATOR(pg_catalog.=) g.run_id
					 GROUP BY g.tenant_id, r.environment),
				per_tenant AS (
					SELECT b.tenant_id, pg_catalog.sum(b.n) AS n FROM busy b GROUP BY b.tenant_id)
				SELECT r.tenant_id, r.run_id, f.step_id
				  FROM @extschema@.runs r
				  JOIN @extschema@.environments e ON e.tenant_id OPERATOR(pg_catalog.=) r.tenant_id
												 AND e.name OPERATOR(pg_catalog.=) r.environment
				  LEFT JOIN running g ON g.tenant_id OPERATOR(pg_catalog.=) r.tenant_id AND g.run_id OPERATOR(pg_catalog.=) r.run_id
				  LEFT JOIN busy b ON b.tenant_id OPERATOR(pg_catalog.=) r.tenant_id AND b.environment OPERATOR(pg_catalog.=) r.environment
				  LEFT JOIN per_tenant p ON p.tenant_id OPERATOR(pg_catalog.=) r.tenant_id
				  LEFT JOIN @extschema@.claim_turns t ON t.tenant_id OPERATOR(pg_catalog.=) r.tenant_id
				 CROSS JOIN LATERAL (SELECT x.step_id FROM @extschema@.run_steps x
									  WHERE x.run_id OPERATOR(pg_catalog.=) r.run_id AND x.tenant_id OPERATOR(pg_catalog.=) r.tenant_id
										AND x.state OPERATOR(pg_catalog.=) 'pending' AND x.waiting OPERATOR(pg_catalog.=) 0
									  ORDER BY x.parallel_group, x.step_index
									  LIMIT 1) f
				 WHERE r.state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'running'])
				   AND (e.max_running_steps IS NULL OR COALESCE(b.n, 0) OPERATOR(pg_catalog.<) e.max_running_steps)
				   AND (cap OPERATOR(pg_catalog.<=) 0 OR COALESCE(p.n, 0) OPERATOR(pg_catalog.<) cap)
				 ORDER BY COALESCE(p.n, 0), t.last_claim NULLS FIRST, COALESCE(g.n, 0), r.run_id
			LOOP
				SELECT x.tenant_id, x.run_id, x.step_id INTO s
				  FROM @extschema@.run_steps x
				 WHERE x.tenant_id OPERATOR(pg_catalog.=) c.tenant_id AND x.run_id OPERATOR(pg_catalog.=) c.run_id
				   AND x.step_id OPERATOR(pg_catalog.=) c.step_id
				   FOR UPDATE SKIP LOCKED;
				EXIT WHEN FOUND;
			END LOOP;
		END IF;
		IF s.step_id IS NULL THEN
			RETURN;
		END IF;
		-- the round robin's turn, when there was another run to serve
		IF n OPERATOR(pg_catalog.>) 1 THEN
			INSERT INTO @extschema@.claim_turns AS t (tenant_id, last_claim)
			VALUES (s.tenant_id, pg_catalog.clock_timestamp())
			ON CONFLICT ON CONSTRAINT claim_turns_pkey DO UPDATE SET last_claim = EXCLUDED.last_claim;
		END IF;
	END IF;
	UPDATE @extschema@.run_steps x
	   SET state = 'running', attempts = x.attempts OPERATOR(pg_catalog.+) 1, lease_owner = worker,
		   lease_until = pg_catalog.now() OPERATOR(pg_catalog.+) lease,
		   started_at = COALESCE(x.started_at, pg_catalog.now())
	 WHERE x.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND x.run_id OPERATOR(pg_catalog.=) s.run_id
	   AND x.step_id OPERATOR(pg_catalog.=) s.step_id
	RETURNING x.attempts INTO tries;
	-- the run is running from its first claim; a run row a user's open
	-- transaction holds is not waited for (complete_step marks it then)
	PERFORM FROM @extschema@.runs r
	 WHERE r.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND r.run_id OPERATOR(pg_catalog.=) s.run_id
	   AND r.state OPERATOR(pg_catalog.=) 'pending'
	   FOR NO KEY UPDATE SKIP LOCKED;
	IF FOUND THEN
		UPDATE @extschema@.runs r SET state = 'running', started_at = pg_catalog.now()
		 WHERE r.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND r.run_id OPERATOR(pg_catalog.=) s.run_id
		   AND r.state OPERATOR(pg_catalog.=) 'pending';
	END IF;
	RETURN QUERY SELECT s.tenant_id::uuid, s.run_id::bigint, s.step_id::text, tries;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.complete_step(run_id bigint, step_id text, worker text, ok boolean,
										  rows_affected bigint DEFAULT NULL, statement_sha256 text DEFAULT NULL,
										  executor text DEFAULT NULL, error_class text DEFAULT NULL,
										  error_message text DEFAULT NULL) RETURNS boolean
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	SET row_security = off SET lock_timeout = '1min'
AS $$
DECLARE
	s @extschema@.run_steps;
	dependent text;
	left_over bigint;
	failures bigint;
BEGIN
	PERFORM @extschema@._refuse_in_model_sql('complete steps');
	-- telemetry is cut when stored (scrubbed to 4 kB); what comes in is bounded too
	PERFORM @extschema@._check_size('step_id', complete_step.step_id, 64);
	PERFORM @extschema@._check_size('the worker name', worker, 256);
	PERFORM @extschema@._check_size('executor', complete_step.executor, 64);
	PERFORM @extschema@._check_size('statement_sha256', complete_step.statement_sha256, 64);
	PERFORM @extschema@._check_size('error_class', complete_step.error_class, 64);
	PERFORM @extschema@._check_size('error_message', complete_step.error_message, 65536);
	-- the outcome, written by the one statement that locks the step's row,
	-- if this worker still holds it
	UPDATE @extschema@.run_steps x
	   SET state = CASE WHEN ok THEN 'succeeded' ELSE 'failed' END,
		   finished_at = pg_catalog.clock_timestamp(), lease_owner = NULL, lease_until = NULL,
		   rows_affected = complete_step.rows_affected, statement_sha256 = complete_step.statement_sha256,
		   executor = complete_step.executor,
		   error_class = @extschema@._scrub(complete_step.error_class),
		   error_message = @extschema@._scrub(complete_step.error_message, true)
	 WHERE x.run_id OPERATOR(pg_catalog.=) complete_step.run_id AND x.step_id OPERATOR(pg_catalog.=) complete_step.step_id
	   AND x.state OPERATOR(pg_catalog.=) 'running' AND x.lease_owner IS NOT DISTINCT FROM worker
	RETURNING x.* INTO s;
	IF NOT FOUND THEN
		RETURN false;			-- the lease was lost: another worker owns the step now
	END IF;
	-- completions of one run take turns, so the last one sees all the others
	-- and finishes the run (two at once would each see the other unfinished)
	PERFORM FROM @extschema@.runs r WHERE r.tenant_id OPERATOR(pg_catalog.=) s.tenant_id
	   AND r.run_id OPERATOR(pg_catalog.=) s.run_id FOR NO KEY UPDATE;
	-- a claim that found the run row held left it pending
	UPDATE @extschema@.runs r SET state = 'running', started_at = COALESCE(r.started_at, s.started_at)
	 WHERE r.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND r.run_id OPERATOR(pg_catalog.=) s.run_id
	   AND r.state OPERATOR(pg_catalog.=) 'pending';
	IF ok THEN
		-- one upstream step fewer to wait for; one primary-key update per
		-- dependent, whatever the table's statistics say
		FOREACH dependent IN ARRAY s.dependents LOOP
			UPDATE @extschema@.run_steps x SET waiting = x.waiting OPERATOR(pg_catalog.-) 1
			 WHERE x.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND x.run_id OPERATOR(pg_catalog.=) s.run_id
			   AND x.step_id OPERATOR(pg_catalog.=) dependent;
		END LOOP;
	ELSE
		-- everything downstream of the failed step is skipped; other branches go on
		WITH RECURSIVE down(step_id) AS (
			SELECT u FROM pg_catalog.unnest(s.dependents) u
			UNION
			SELECT u FROM @extschema@.run_steps x JOIN down d ON x.step_id OPERATOR(pg_catalog.=) d.step_id
			 CROSS JOIN LATERAL pg_catalog.unnest(x.dependents) u
			 WHERE x.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND x.run_id OPERATOR(pg_catalog.=) s.run_id)
		UPDATE @extschema@.run_steps x SET state = 'skipped', finished_at = pg_catalog.now()
		  FROM down d
		 WHERE x.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND x.run_id OPERATOR(pg_catalog.=) s.run_id
		   AND x.step_id OPERATOR(pg_catalog.=) d.step_id AND x.state OPERATOR(pg_catalog.=) 'pending';
	END IF;
	-- unfinished steps, through the partial index (not a count of every step)
	left_over := CASE WHEN EXISTS (SELECT FROM @extschema@.run_steps x
									WHERE x.tenant_id OPERATOR(pg_catalog.=) s.tenant_id
									  AND x.run_id OPERATOR(pg_catalog.=) s.run_id
									  AND x.state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'running']))
				  THEN 1 ELSE 0 END;
	failures := CASE WHEN left_over OPERATOR(pg_catalog.=) 0 AND EXISTS (SELECT FROM @extschema@.run_steps x
									WHERE x.tenant_id OPERATOR(pg_catalog.=) s.tenant_id
									  AND x.run_id OPERATOR(pg_catalog.=) s.run_id
									  AND x.state OPERATOR(pg_catalog.=) 'failed')
				 THEN 1 ELSE 0 END;
	IF left_over OPERATOR(pg_catalog.=) 0 THEN
		UPDATE @extschema@.runs r
		   SET state = CASE WHEN failures OPERATOR(pg_catalog.>) 0 THEN 'failed' ELSE 'succeeded' END,
			   finished_at = pg_catalog.now()
		 WHERE r.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND r.run_id OPERATOR(pg_catalog.=) s.run_id
		   AND r.state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'running']);
	END IF;
	PERFORM @extschema@._wake_workers();
	RETURN true;
END
$$;
