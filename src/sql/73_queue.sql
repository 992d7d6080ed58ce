-- The queue: how workers claim the steps of runs, keep their leases and
-- record outcomes (docs/runs.md, src/pg/worker.c).

-- Execution API, for the background workers and any external worker
-- (members of ironlayer_worker): claim a runnable step under a lease, keep
-- the lease, record the outcome. Tenants are crossed here, so these are
-- not for users.
DO $roles$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'ironlayer_worker') THEN
		CREATE ROLE ironlayer_worker NOLOGIN;
	END IF;
END
$roles$;

-- Claims take turns on the one row of this table, so each sees the steps
-- the others claimed. A row lock: no role without ironlayer's rights can
-- hold it (a role can take a weak lock on any table, by its oid, before
-- PostgreSQL checks its rights: a table lock stronger than ROW EXCLUSIVE
-- could be held up that way; a row lock cannot). Global, read by nobody.
CREATE TABLE @extschema@.claim_lock (
	singleton	boolean PRIMARY KEY DEFAULT true CHECK (singleton)
);
INSERT INTO @extschema@.claim_lock DEFAULT VALUES;
COMMENT ON TABLE @extschema@.claim_lock IS 'the one row that claim_step locks: claims take turns';

-- When each tenant was last given a step: the claim serves the tenant
-- served longest ago among those with the fewest steps running (round
-- robin). Only claim_step writes it, and no user reads it.
CREATE TABLE @extschema@.claim_turns (
	tenant_id	uuid PRIMARY KEY REFERENCES @extschema@.tenants (tenant_id) ON DELETE CASCADE,
	last_claim	timestamptz NOT NULL
);
COMMENT ON TABLE @extschema@.claim_turns IS
	'when claim_step last gave each tenant a step (the round robin of the workers)';
SELECT @extschema@._isolate_tenant_table('@extschema@.claim_turns');

CREATE FUNCTION @extschema@.claim_step(worker text, lease interval DEFAULT '1 min')
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
	-- A running step of a cancelled run whose lease expired (its worker
	-- died) is never claimed again: it is cancelled, and its run, once no
	-- step of it is left running, too. A run row a user's open transaction
	-- holds is not waited for (a later claim does it).
	FOR c IN
		SELECT x.tenant_id, x.run_id, x.step_id
		  FROM @extschema@.run_steps x
		  JOIN @extschema@.runs r ON r.tenant_id OPERATOR(pg_catalog.=) x.tenant_id
								 AND r.run_id OPERATOR(pg_catalog.=) x.run_id
		 WHERE x.state OPERATOR(pg_catalog.=) 'running' AND x.lease_until OPERATOR(pg_catalog.<) pg_catalog.now()
		   AND r.state OPERATOR(pg_catalog.=) ANY (ARRAY['cancelling', 'cancelled'])
		   FOR UPDATE OF x SKIP LOCKED
	LOOP
		PERFORM FROM @extschema@.runs r
		 WHERE r.tenant_id OPERATOR(pg_catalog.=) c.tenant_id AND r.run_id OPERATOR(pg_catalog.=) c.run_id
		   FOR NO KEY UPDATE SKIP LOCKED;
		CONTINUE WHEN NOT FOUND;
		UPDATE @extschema@.run_steps x
		   SET state = 'cancelled', finished_at = pg_catalog.clock_timestamp(), lease_owner = NULL, lease_until = NULL
		 WHERE x.tenant_id OPERATOR(pg_catalog.=) c.tenant_id AND x.run_id OPERATOR(pg_catalog.=) c.run_id
		   AND x.step_id OPERATOR(pg_catalog.=) c.step_id;
		UPDATE @extschema@.runs r SET state = 'cancelled', finished_at = pg_catalog.now()
		 WHERE r.tenant_id OPERATOR(pg_catalog.=) c.tenant_id AND r.run_id OPERATOR(pg_catalog.=) c.run_id
		   AND r.state OPERATOR(pg_catalog.=) 'cancelling'
		   AND NOT EXISTS (SELECT FROM @extschema@.run_steps x
							WHERE x.tenant_id OPERATOR(pg_catalog.=) c.tenant_id AND x.run_id OPERATOR(pg_catalog.=) c.run_id
							  AND x.state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'running']));
	END LOOP;
	-- A running step whose lease expired (its worker died: its transaction
	-- never committed) comes first; one whose workers died three times
	-- (killed, crashed, or ended past the statement_timeout) is not tried
	-- again: it fails (completed in the name of the lease's owner: the row
	-- is locked here once, and written once, by complete_step).
	LOOP
		SELECT x.tenant_id, x.run_id, x.step_id, x.attempts, x.lease_owner INTO s
		  FROM @extschema@.run_steps x
		 WHERE x.state OPERATOR(pg_catalog.=) 'running' AND x.lease_until OPERATOR(pg_catalog.<) pg_catalog.now()
		   AND NOT EXISTS (SELECT FROM @extschema@.runs r
							WHERE r.tenant_id OPERATOR(pg_catalog.=) x.tenant_id AND r.run_id OPERATOR(pg_catalog.=) x.run_id
							  AND r.state OPERATOR(pg_catalog.=) ANY (ARRAY['cancelling', 'cancelled']))
		 ORDER BY x.lease_until
		 LIMIT 1
		   FOR UPDATE OF x SKIP LOCKED;
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
			   -- still ready: a cancel() that committed after the query above made it cancelled
			   AND x.state OPERATOR(pg_catalog.=) 'pending' AND x.waiting OPERATOR(pg_catalog.=) 0
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
				   -- still ready: a cancel() that committed after the query above made it cancelled
				   AND x.state OPERATOR(pg_catalog.=) 'pending' AND x.waiting OPERATOR(pg_catalog.=) 0
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
COMMENT ON FUNCTION @extschema@.claim_step(text, interval) IS
	'claim one runnable step under a lease (workers); no row when there is none';

CREATE FUNCTION @extschema@.heartbeat(run_id bigint, step_id text, worker text, lease interval DEFAULT '1 min')
	RETURNS boolean
	LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET row_security = off
	SET lock_timeout = '1min'
BEGIN ATOMIC
	WITH u AS (
		UPDATE @extschema@.run_steps x SET lease_until = pg_catalog.now() OPERATOR(pg_catalog.+) lease
		 WHERE x.run_id OPERATOR(pg_catalog.=) heartbeat.run_id AND x.step_id OPERATOR(pg_catalog.=) heartbeat.step_id
		   AND x.state OPERATOR(pg_catalog.=) 'running' AND x.lease_owner OPERATOR(pg_catalog.=) worker
		   AND @extschema@._refuse_in_model_sql('keep leases')
		RETURNING 1)
	SELECT EXISTS (SELECT FROM u);
END;
COMMENT ON FUNCTION @extschema@.heartbeat(bigint, text, text, interval) IS
	'extend the lease of a step this worker runs; false when it no longer holds it';

CREATE FUNCTION @extschema@.complete_step(run_id bigint, step_id text, worker text, ok boolean,
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
	parts text[];
BEGIN
	PERFORM @extschema@._refuse_in_model_sql('complete steps');
	-- telemetry is cut when stored (scrubbed to 4 kB); what comes in is bounded too
	PERFORM @extschema@._check_size('step_id', complete_step.step_id, 64);
	PERFORM @extschema@._check_size('the worker name', worker, 256);
	PERFORM @extschema@._check_size('executor', complete_step.executor, 64);
	PERFORM @extschema@._check_size('statement_sha256', complete_step.statement_sha256, 64);
	PERFORM @extschema@._check_size('error_class', complete_step.error_class, 64);
	PERFORM @extschema@._check_size('error_message', complete_step.error_message, 65536);
	-- an error message with its hint on a last line of its own ("Hint: ...",
	-- as the workers store it): the message is scrubbed as SQL text, the
	-- hint as prose, so an apostrophe in the hint hides nothing after it
	parts := pg_catalog.regexp_match(complete_step.error_message, E'^(.*)\nHint: (.*)$');
	-- the outcome, written by the one statement that locks the step's row,
	-- if this worker still holds it
	UPDATE @extschema@.run_steps x
	   SET state = CASE WHEN ok THEN 'succeeded' ELSE 'failed' END,
		   finished_at = pg_catalog.clock_timestamp(), lease_owner = NULL, lease_until = NULL,
		   rows_affected = complete_step.rows_affected, statement_sha256 = complete_step.statement_sha256,
		   executor = complete_step.executor,
		   error_class = @extschema@._scrub(complete_step.error_class),
		   error_message = CASE WHEN parts IS NULL THEN @extschema@._scrub(complete_step.error_message, true)
								ELSE @extschema@._scrub(parts[1], true) OPERATOR(pg_catalog.||) E'\nHint: '
									 OPERATOR(pg_catalog.||) @extschema@._scrub(parts[2]) END
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
	-- the last step of a cancelling run ends it: cancelled
	IF left_over OPERATOR(pg_catalog.=) 0 THEN
		UPDATE @extschema@.runs r
		   SET state = CASE WHEN r.state OPERATOR(pg_catalog.=) 'cancelling' THEN 'cancelled'
							WHEN failures OPERATOR(pg_catalog.>) 0 THEN 'failed' ELSE 'succeeded' END,
			   finished_at = pg_catalog.now()
		 WHERE r.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND r.run_id OPERATOR(pg_catalog.=) s.run_id
		   AND r.state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'running', 'cancelling']);
	END IF;
	PERFORM @extschema@._wake_workers();
	RETURN true;
END
$$;
COMMENT ON FUNCTION @extschema@.complete_step(bigint, text, text, boolean, bigint, text, text, text, text) IS
	'record the outcome of a claimed step (workers); false when the lease was lost';
