-- The dispatcher's side of remote statements (src/pg/dispatcher.c,
-- docs/databricks.md "Dispatch, reconciliation, retries"): the functions the
-- one dispatcher process calls, each in a short transaction of its own, to
-- find the statements to act on and to record every transition of one.
-- A remote statement never runs inside a transaction: these functions only
-- read and write ironlayer.remote_statements and finish steps through
-- _finish_step (76_remote.sql). They cross tenants (row_security off) and
-- are for the dispatcher only (no grant).

-- Wakes the dispatcher when the calling transaction commits (src/pg/worker.c);
-- harmless without it.
CREATE OR REPLACE FUNCTION @extschema@._wake_dispatcher() RETURNS void
	LANGUAGE C VOLATILE AS 'MODULE_PATHNAME', 'ironlayer_wake_dispatcher';
REVOKE ALL ON FUNCTION @extschema@._wake_dispatcher() FROM PUBLIC;

-- What the dispatcher has to do, one row per statement, with everything it
-- needs to act (the environment's databricks settings and its
-- statement_timeout; no secret: the dispatcher opens the credential).
--   action 'send':   ready, every statement before it in its step succeeded,
--                    and its environment has room (max_in_flight counts the
--                    statements submitting or running); at most max rows;
--   action 'adopt':  submitting or running, and not among known (the
--                    request ids the dispatcher follows): after a restart,
--                    the outcome is unknown and is reconciled first;
--   action 'cancel': not finished, and its run is cancelling (or was
--                    cancelled): ready ones are cancelled at once, those in
--                    flight are cancelled on the warehouse first.
CREATE FUNCTION @extschema@._dispatch_work(max int, known uuid[] DEFAULT '{}')
	RETURNS TABLE (action text, tenant_id uuid, run_id bigint, step_id text, attempt int, seq int,
				   request_id uuid, environment text, statement text, state text, statement_id text,
				   submitted_at timestamptz, http_retries int, resends int, idempotent boolean,
				   databricks jsonb, statement_timeout_ms bigint, model text)
	LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	SET row_security = off
BEGIN ATOMIC
	WITH live AS (
		SELECT x.*, r.state AS run_state
		  FROM @extschema@.remote_statements x
		  JOIN @extschema@.runs r ON r.tenant_id OPERATOR(pg_catalog.=) x.tenant_id
								 AND r.run_id OPERATOR(pg_catalog.=) x.run_id
		 WHERE x.state OPERATOR(pg_catalog.=) ANY (ARRAY['ready', 'submitting', 'running'])),
	flying AS (
		SELECT o.tenant_id, o.environment, pg_catalog.count(*) AS n
		  FROM live o WHERE o.state OPERATOR(pg_catalog.<>) 'ready'
		 GROUP BY o.tenant_id, o.environment),
	acts AS (
		SELECT CASE WHEN o.run_state OPERATOR(pg_catalog.=) ANY (ARRAY['cancelling', 'cancelled']) THEN 'cancel'
					WHEN o.state OPERATOR(pg_catalog.=) 'ready' THEN 'send'
					ELSE 'adopt' END AS action, o.*
		  FROM live o),
	sendable AS (
		SELECT a.*, pg_catalog.row_number() OVER (PARTITION BY a.tenant_id, a.environment
													ORDER BY a.run_id, a.submitted_at NULLS LAST, a.step_id, a.seq) AS k
		  FROM acts a
		 WHERE a.action OPERATOR(pg_catalog.=) 'send'
		   AND NOT EXISTS (SELECT FROM @extschema@.remote_statements b
							WHERE b.tenant_id OPERATOR(pg_catalog.=) a.tenant_id
							  AND b.run_id OPERATOR(pg_catalog.=) a.run_id
							  AND b.step_id OPERATOR(pg_catalog.=) a.step_id
							  AND b.attempt OPERATOR(pg_catalog.=) a.attempt
							  AND b.seq OPERATOR(pg_catalog.<) a.seq
							  AND b.state OPERATOR(pg_catalog.<>) 'succeeded')),
	chosen AS (
		SELECT a.action, a.tenant_id, a.run_id, a.step_id, a.attempt, a.seq, a.request_id, a.environment,
			   a.statement, a.state, a.statement_id, a.submitted_at, a.http_retries,
			   pg_catalog.cardinality(a.prior_request_ids) AS resends, a.idempotent
		  FROM acts a
		 WHERE a.action OPERATOR(pg_catalog.=) 'cancel'
			OR (a.action OPERATOR(pg_catalog.=) 'adopt' AND a.request_id OPERATOR(pg_catalog.<>) ALL (known))
		UNION ALL
		(SELECT s.action, s.tenant_id, s.run_id, s.step_id, s.attempt, s.seq, s.request_id, s.environment,
				s.statement, s.state, s.statement_id, s.submitted_at, s.http_retries,
				pg_catalog.cardinality(s.prior_request_ids), s.idempotent
		   FROM sendable s
		   JOIN @extschema@.environments e ON e.tenant_id OPERATOR(pg_catalog.=) s.tenant_id
										  AND e.name OPERATOR(pg_catalog.=) s.environment
		   LEFT JOIN flying f ON f.tenant_id OPERATOR(pg_catalog.=) s.tenant_id
							 AND f.environment OPERATOR(pg_catalog.=) s.environment
		  WHERE s.k OPERATOR(pg_catalog.<=) (COALESCE((e.databricks OPERATOR(pg_catalog.->>) 'max_in_flight')::int, 16)
												  OPERATOR(pg_catalog.-) COALESCE(f.n, 0))
		  ORDER BY s.run_id, s.k
		  LIMIT GREATEST(max, 0)))
	SELECT c.action, c.tenant_id, c.run_id, c.step_id, c.attempt, c.seq, c.request_id, c.environment,
		   c.statement, c.state, c.statement_id, c.submitted_at, c.http_retries, c.resends, c.idempotent,
		   e.databricks,
		   (EXTRACT(epoch FROM e.statement_timeout) OPERATOR(pg_catalog.*) 1000)::bigint,
		   st.model
	  FROM chosen c
	  JOIN @extschema@.environments e ON e.tenant_id OPERATOR(pg_catalog.=) c.tenant_id
									 AND e.name OPERATOR(pg_catalog.=) c.environment
	  JOIN @extschema@.run_steps st ON st.tenant_id OPERATOR(pg_catalog.=) c.tenant_id
								   AND st.run_id OPERATOR(pg_catalog.=) c.run_id
								   AND st.step_id OPERATOR(pg_catalog.=) c.step_id
	 ORDER BY c.action, c.run_id, c.step_id, c.seq;
END;
REVOKE ALL ON FUNCTION @extschema@._dispatch_work(int, uuid[]) FROM PUBLIC;

-- The intent: committed BEFORE the statement is sent. False when the
-- statement is no longer ready (cancelled meanwhile): not to be sent.
CREATE FUNCTION @extschema@._dispatch_submitting(request_id uuid) RETURNS boolean
	LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	SET row_security = off
BEGIN ATOMIC
	WITH u AS (
		UPDATE @extschema@.remote_statements x
		   SET state = 'submitting', submitted_at = pg_catalog.clock_timestamp()
		 WHERE x.request_id OPERATOR(pg_catalog.=) _dispatch_submitting.request_id
		   AND x.state OPERATOR(pg_catalog.=) 'ready'
		RETURNING 1)
	SELECT EXISTS (SELECT FROM u);
END;
REVOKE ALL ON FUNCTION @extschema@._dispatch_submitting(uuid) FROM PUBLIC;

-- The warehouse's statement id, stored as soon as it is known.
CREATE FUNCTION @extschema@._dispatch_started(request_id uuid, statement_id text) RETURNS boolean
	LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	SET row_security = off
BEGIN ATOMIC
	WITH u AS (
		UPDATE @extschema@.remote_statements x
		   SET state = 'running', statement_id = _dispatch_started.statement_id
		 WHERE x.request_id OPERATOR(pg_catalog.=) _dispatch_started.request_id
		   AND x.state OPERATOR(pg_catalog.=) ANY (ARRAY['submitting', 'running'])
		RETURNING 1)
	SELECT EXISTS (SELECT FROM u);
END;
REVOKE ALL ON FUNCTION @extschema@._dispatch_started(uuid, text) FROM PUBLIC;

-- A statement reached a final state. Its telemetry is stored (scrubbed);
-- a failed statement fails its step (the statements after it are
-- cancelled: never sent), the last statement of a step that succeeded
-- finishes it (watermark and complete_step, through _finish_step). True
-- when the step was finished by this call.
CREATE FUNCTION @extschema@._dispatch_finished(request_id uuid, ok boolean, remote_state text, rows_affected bigint,
											   bytes bigint, error_class text, error_message text,
											   http_retries int) RETURNS boolean
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	SET row_security = off SET lock_timeout = '1min'
AS $$
DECLARE
	s @extschema@.remote_statements;
	last_seq int;
	total bigint;
BEGIN
	PERFORM @extschema@._check_size('error_class', error_class, 64);
	PERFORM @extschema@._check_size('error_message', error_message, 65536);
	UPDATE @extschema@.remote_statements x
	   SET state = CASE WHEN ok THEN 'succeeded' ELSE 'failed' END,
		   remote_state = _dispatch_finished.remote_state,
		   finished_at = pg_catalog.clock_timestamp(),
		   rows_affected = _dispatch_finished.rows_affected, bytes = _dispatch_finished.bytes,
		   error_class = @extschema@._scrub(_dispatch_finished.error_class),
		   error_message = @extschema@._scrub(_dispatch_finished.error_message, true),
		   http_retries = COALESCE(_dispatch_finished.http_retries, x.http_retries)
	 WHERE x.request_id OPERATOR(pg_catalog.=) _dispatch_finished.request_id
	   AND x.state OPERATOR(pg_catalog.=) ANY (ARRAY['submitting', 'running'])
	RETURNING x.* INTO s;
	IF NOT FOUND THEN
		RETURN false;			-- recorded already (or cancelled)
	END IF;
	IF NOT ok THEN
		UPDATE @extschema@.remote_statements x SET state = 'cancelled', finished_at = pg_catalog.clock_timestamp()
		 WHERE x.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND x.run_id OPERATOR(pg_catalog.=) s.run_id
		   AND x.step_id OPERATOR(pg_catalog.=) s.step_id AND x.attempt OPERATOR(pg_catalog.=) s.attempt
		   AND x.seq OPERATOR(pg_catalog.>) s.seq AND x.state OPERATOR(pg_catalog.=) 'ready';
		RETURN @extschema@._finish_step(s.run_id, s.step_id, 'ironlayer dispatcher', false, NULL, NULL, 'databricks',
										error_class, error_message);
	END IF;
	SELECT pg_catalog.max(x.seq), pg_catalog.sum(x.rows_affected) INTO last_seq, total
	  FROM @extschema@.remote_statements x
	 WHERE x.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND x.run_id OPERATOR(pg_catalog.=) s.run_id
	   AND x.step_id OPERATOR(pg_catalog.=) s.step_id AND x.attempt OPERATOR(pg_catalog.=) s.attempt;
	IF s.seq OPERATOR(pg_catalog.<) last_seq THEN
		PERFORM @extschema@._wake_dispatcher();		-- the next statement of the step is ready
		RETURN false;
	END IF;
	-- the step's rows are its last statement's (the one that writes the model)
	RETURN @extschema@._finish_step(s.run_id, s.step_id, 'ironlayer dispatcher', true, s.rows_affected,
									s.statement_sha256, 'databricks', NULL, NULL);
END
$$;
REVOKE ALL ON FUNCTION @extschema@._dispatch_finished(uuid, boolean, text, bigint, bigint, text, text, int) FROM PUBLIC;

-- Reconciled as never run (or idempotent by construction): the statement
-- is ready again under a new request id, the old one kept. The new id.
CREATE FUNCTION @extschema@._dispatch_resend(request_id uuid) RETURNS uuid
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	SET row_security = off
AS $$
DECLARE
	fresh uuid := pg_catalog.gen_random_uuid();
	s @extschema@.remote_statements;
BEGIN
	SELECT * INTO s FROM @extschema@.remote_statements x
	 WHERE x.request_id OPERATOR(pg_catalog.=) _dispatch_resend.request_id FOR UPDATE;
	IF NOT FOUND OR s.state OPERATOR(pg_catalog.<>) ALL (ARRAY['submitting', 'running']) THEN
		RETURN NULL;
	END IF;
	UPDATE @extschema@.remote_statements x
	   SET request_id = fresh, prior_request_ids = x.prior_request_ids OPERATOR(pg_catalog.||) x.request_id,
		   state = 'ready', statement_id = NULL, remote_state = NULL, submitted_at = NULL
	 WHERE x.request_id OPERATOR(pg_catalog.=) _dispatch_resend.request_id;
	PERFORM @extschema@._wake_dispatcher();
	RETURN fresh;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._dispatch_resend(uuid) FROM PUBLIC;

-- A statement of a cancelling run is over (cancelled on the warehouse, or
-- never sent): cancelled, and so are the step's statements not sent. When
-- none of the step's statements is in flight any more, the step is
-- cancelled, and a cancelling run none of whose steps still runs becomes
-- cancelled. True when the step was cancelled by this call.
CREATE FUNCTION @extschema@._dispatch_cancelled(request_id uuid) RETURNS boolean
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	SET row_security = off SET lock_timeout = '1min'
AS $$
DECLARE
	s @extschema@.remote_statements;
BEGIN
	UPDATE @extschema@.remote_statements x
	   SET state = 'cancelled', finished_at = pg_catalog.clock_timestamp(),
		   remote_state = COALESCE(x.remote_state, CASE WHEN x.state OPERATOR(pg_catalog.=) 'ready' THEN NULL ELSE 'CANCELED' END)
	 WHERE x.request_id OPERATOR(pg_catalog.=) _dispatch_cancelled.request_id
	   AND x.state OPERATOR(pg_catalog.=) ANY (ARRAY['ready', 'submitting', 'running'])
	RETURNING x.* INTO s;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	UPDATE @extschema@.remote_statements x SET state = 'cancelled', finished_at = pg_catalog.clock_timestamp()
	 WHERE x.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND x.run_id OPERATOR(pg_catalog.=) s.run_id
	   AND x.step_id OPERATOR(pg_catalog.=) s.step_id AND x.attempt OPERATOR(pg_catalog.=) s.attempt
	   AND x.state OPERATOR(pg_catalog.=) 'ready';
	IF EXISTS (SELECT FROM @extschema@.remote_statements x
				WHERE x.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND x.run_id OPERATOR(pg_catalog.=) s.run_id
				  AND x.step_id OPERATOR(pg_catalog.=) s.step_id
				  AND x.state OPERATOR(pg_catalog.=) ANY (ARRAY['submitting', 'running'])) THEN
		RETURN false;
	END IF;
	UPDATE @extschema@.run_steps x
	   SET state = 'cancelled', finished_at = pg_catalog.clock_timestamp(), lease_owner = NULL, lease_until = NULL,
		   executor = 'databricks', error_class = '57014', error_message = 'cancelled with its run'
	 WHERE x.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND x.run_id OPERATOR(pg_catalog.=) s.run_id
	   AND x.step_id OPERATOR(pg_catalog.=) s.step_id AND x.state OPERATOR(pg_catalog.=) 'running'
	   AND x.lease_owner OPERATOR(pg_catalog.=) 'ironlayer dispatcher';
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	-- as complete_step does: the last step of a cancelling run to stop ends it
	PERFORM FROM @extschema@.runs r WHERE r.tenant_id OPERATOR(pg_catalog.=) s.tenant_id
	   AND r.run_id OPERATOR(pg_catalog.=) s.run_id FOR NO KEY UPDATE;
	UPDATE @extschema@.runs r SET state = 'cancelled', finished_at = COALESCE(r.finished_at, pg_catalog.now())
	 WHERE r.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND r.run_id OPERATOR(pg_catalog.=) s.run_id
	   AND r.state OPERATOR(pg_catalog.=) 'cancelling'
	   AND NOT EXISTS (SELECT FROM @extschema@.run_steps x
						WHERE x.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND x.run_id OPERATOR(pg_catalog.=) s.run_id
						  AND x.state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'running']));
	PERFORM @extschema@._wake_workers();
	RETURN true;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._dispatch_cancelled(uuid) FROM PUBLIC;
