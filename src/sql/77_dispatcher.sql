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

-- The order in which statements are sent: a number drawn when a statement
-- becomes ready (written, its step's statement before it succeeded, or
-- sent again), so the dispatcher reads only what became ready since it
-- last looked (a statement that was ready, or in flight, leaves index
-- entries behind that a long-held snapshot, such as a wait()'s, keeps from
-- being cleaned up: a read from the start would walk past all of them).
CREATE SEQUENCE @extschema@.remote_statements_ready_seq;
ALTER TABLE @extschema@.remote_statements
	ADD COLUMN ready_seq bigint NOT NULL DEFAULT pg_catalog.nextval('@extschema@.remote_statements_ready_seq');
ALTER SEQUENCE @extschema@.remote_statements_ready_seq OWNED BY @extschema@.remote_statements.ready_seq;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.remote_statements_ready_seq', '');
CREATE INDEX remote_statements_ready ON @extschema@.remote_statements (tenant_id, environment, ready_seq)
	WHERE state OPERATOR(pg_catalog.=) 'ready';
-- what is in flight, per environment
CREATE INDEX remote_statements_flying ON @extschema@.remote_statements (tenant_id, environment)
	WHERE state OPERATOR(pg_catalog.=) ANY (ARRAY['submitting', 'running']);

-- One row of _dispatch_work: a statement, what the dispatcher needs to act
-- on it (the environment's databricks settings and statement_timeout; no
-- secret: the dispatcher opens the credential itself).
CREATE TYPE @extschema@._dispatch_item AS (
	action text, tenant_id uuid, run_id bigint, step_id text, attempt int, seq int, request_id uuid,
	environment text, statement text, state text, statement_id text, submitted_at timestamptz,
	http_retries int, resends int, idempotent boolean, model text, statement_timeout_ms bigint,
	workspace_url text, warehouse_id text, catalog text, credential text, auth text, ca_bundle text,
	ready_seq bigint);

-- What the dispatcher has to do, one row per statement:
--   action 'cancel': not finished, and its run is cancelling: ready ones are
--                    cancelled at once, those in flight are cancelled on the
--                    warehouse first (also when this process follows them);
--   action 'adopt':  submitting or running, and not among known (the
--                    request ids the dispatcher follows): after a restart,
--                    the outcome is unknown and is reconciled first;
--   action 'send':   ready, every statement before it in its step
--                    succeeded, its environment below max_in_flight
--                    statements submitting or running; at most max rows,
--                    each environment's in ready_seq order;
--   action 'cursor': per environment looked at, where to read next time
--                    (ready_seq).
-- With cursors NULL, a full look: every action, the statements in flight
-- counted here. Otherwise (between full looks) no adoption, the dispatcher
-- gives what it has in flight per environment (flying, {"<tenant>/<env>":
-- n}) and where it stopped reading ({"<tenant>/<env>": ready_seq}), and only
-- statements that became ready since are read.
CREATE FUNCTION @extschema@._dispatch_work(max int, known uuid[] DEFAULT '{}', cursors jsonb DEFAULT NULL,
										   flying jsonb DEFAULT NULL)
	RETURNS SETOF @extschema@._dispatch_item
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	SET row_security = off
	-- planned for the table as it is now, not as it was at the first calls
	-- (a run starts with the table small, and the statistics lag)
	SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
	e record;
	item @extschema@._dispatch_item;
	room bigint;
	budget bigint := GREATEST(max, 0);
	n bigint;
	k text;
	after bigint;
	last_taken bigint;
	h bigint;
BEGIN
	-- the last number drawn (by transactions not all committed yet, maybe)
	SELECT q.last_value INTO h FROM @extschema@.remote_statements_ready_seq q;
	-- the runs being cancelled (usually none), then their statements by key
	FOR e IN
		SELECT r.tenant_id, r.run_id FROM @extschema@.runs r WHERE r.state OPERATOR(pg_catalog.=) 'cancelling'
	LOOP
		RETURN QUERY
		SELECT 'cancel', x.tenant_id, x.run_id, x.step_id, x.attempt, x.seq, x.request_id, x.environment, x.statement,
			   x.state, x.statement_id, x.submitted_at, x.http_retries, pg_catalog.cardinality(x.prior_request_ids),
			   x.idempotent, st.model, (EXTRACT(epoch FROM en.statement_timeout) OPERATOR(pg_catalog.*) 1000)::bigint,
			   en.databricks OPERATOR(pg_catalog.->>) 'workspace_url', en.databricks OPERATOR(pg_catalog.->>) 'warehouse_id',
			   en.databricks OPERATOR(pg_catalog.->>) 'catalog', en.databricks OPERATOR(pg_catalog.->>) 'credential',
			   en.databricks OPERATOR(pg_catalog.->>) 'auth', en.databricks OPERATOR(pg_catalog.->>) 'ca_bundle', x.ready_seq
		  FROM @extschema@.remote_statements x
		  JOIN @extschema@.run_steps st ON st.tenant_id OPERATOR(pg_catalog.=) x.tenant_id
									   AND st.run_id OPERATOR(pg_catalog.=) x.run_id
									   AND st.step_id OPERATOR(pg_catalog.=) x.step_id
		  JOIN @extschema@.environments en ON en.tenant_id OPERATOR(pg_catalog.=) x.tenant_id
										  AND en.name OPERATOR(pg_catalog.=) x.environment
		 WHERE x.tenant_id OPERATOR(pg_catalog.=) e.tenant_id AND x.run_id OPERATOR(pg_catalog.=) e.run_id
		   AND x.state OPERATOR(pg_catalog.=) ANY (ARRAY['ready', 'submitting', 'running']);
	END LOOP;

	IF cursors IS NULL THEN
		RETURN QUERY
		SELECT 'adopt', x.tenant_id, x.run_id, x.step_id, x.attempt, x.seq, x.request_id, x.environment, x.statement,
			   x.state, x.statement_id, x.submitted_at, x.http_retries, pg_catalog.cardinality(x.prior_request_ids),
			   x.idempotent, st.model, (EXTRACT(epoch FROM en.statement_timeout) OPERATOR(pg_catalog.*) 1000)::bigint,
			   en.databricks OPERATOR(pg_catalog.->>) 'workspace_url', en.databricks OPERATOR(pg_catalog.->>) 'warehouse_id',
			   en.databricks OPERATOR(pg_catalog.->>) 'catalog', en.databricks OPERATOR(pg_catalog.->>) 'credential',
			   en.databricks OPERATOR(pg_catalog.->>) 'auth', en.databricks OPERATOR(pg_catalog.->>) 'ca_bundle', x.ready_seq
		  FROM @extschema@.remote_statements x
		  JOIN @extschema@.runs r ON r.tenant_id OPERATOR(pg_catalog.=) x.tenant_id
								 AND r.run_id OPERATOR(pg_catalog.=) x.run_id
		  JOIN @extschema@.run_steps st ON st.tenant_id OPERATOR(pg_catalog.=) x.tenant_id
									   AND st.run_id OPERATOR(pg_catalog.=) x.run_id
									   AND st.step_id OPERATOR(pg_catalog.=) x.step_id
		  JOIN @extschema@.environments en ON en.tenant_id OPERATOR(pg_catalog.=) x.tenant_id
										  AND en.name OPERATOR(pg_catalog.=) x.environment
		 WHERE x.state OPERATOR(pg_catalog.=) ANY (ARRAY['submitting', 'running'])
		   AND x.request_id OPERATOR(pg_catalog.<>) ALL (known)
		   AND r.state OPERATOR(pg_catalog.<>) 'cancelling';
	END IF;

	-- each databricks environment (few: one small table)
	FOR e IN
		SELECT en.tenant_id, en.name AS environment, en.databricks, en.statement_timeout
		  FROM @extschema@.environments en
		 WHERE en.databricks IS NOT NULL
		 ORDER BY en.tenant_id, en.name
	LOOP
		EXIT WHEN budget OPERATOR(pg_catalog.<=) 0;
		k := e.tenant_id::text OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) e.environment;
		IF cursors IS NULL THEN
			SELECT pg_catalog.count(*) INTO n
			  FROM @extschema@.remote_statements x
			 WHERE x.tenant_id OPERATOR(pg_catalog.=) e.tenant_id AND x.environment OPERATOR(pg_catalog.=) e.environment
			   AND x.state OPERATOR(pg_catalog.=) ANY (ARRAY['submitting', 'running']);
			after := 0;
		ELSE
			n := COALESCE((flying OPERATOR(pg_catalog.->>) k)::bigint, 0);
			after := COALESCE((cursors OPERATOR(pg_catalog.->>) k)::bigint, 0);
		END IF;
		room := COALESCE((e.databricks OPERATOR(pg_catalog.->>) 'max_in_flight')::int, 16) OPERATOR(pg_catalog.-) n;
		CONTINUE WHEN room OPERATOR(pg_catalog.<=) 0;
		n := 0;
		FOR item IN
		SELECT 'send', x.tenant_id, x.run_id, x.step_id, x.attempt, x.seq, x.request_id, x.environment, x.statement,
			   x.state, x.statement_id, x.submitted_at, x.http_retries, pg_catalog.cardinality(x.prior_request_ids),
			   x.idempotent, st.model, (EXTRACT(epoch FROM e.statement_timeout) OPERATOR(pg_catalog.*) 1000)::bigint,
			   e.databricks OPERATOR(pg_catalog.->>) 'workspace_url', e.databricks OPERATOR(pg_catalog.->>) 'warehouse_id',
			   e.databricks OPERATOR(pg_catalog.->>) 'catalog', e.databricks OPERATOR(pg_catalog.->>) 'credential',
			   e.databricks OPERATOR(pg_catalog.->>) 'auth', e.databricks OPERATOR(pg_catalog.->>) 'ca_bundle', x.ready_seq
		  FROM @extschema@.remote_statements x
		  JOIN @extschema@.runs r ON r.tenant_id OPERATOR(pg_catalog.=) x.tenant_id
								 AND r.run_id OPERATOR(pg_catalog.=) x.run_id
		  JOIN @extschema@.run_steps st ON st.tenant_id OPERATOR(pg_catalog.=) x.tenant_id
									   AND st.run_id OPERATOR(pg_catalog.=) x.run_id
									   AND st.step_id OPERATOR(pg_catalog.=) x.step_id
		 WHERE x.tenant_id OPERATOR(pg_catalog.=) e.tenant_id AND x.environment OPERATOR(pg_catalog.=) e.environment
		   AND x.state OPERATOR(pg_catalog.=) 'ready'
		   AND x.ready_seq OPERATOR(pg_catalog.>) after
		   AND r.state OPERATOR(pg_catalog.<>) 'cancelling'
		   AND NOT EXISTS (SELECT FROM @extschema@.remote_statements b
							WHERE b.tenant_id OPERATOR(pg_catalog.=) x.tenant_id
							  AND b.run_id OPERATOR(pg_catalog.=) x.run_id
							  AND b.step_id OPERATOR(pg_catalog.=) x.step_id
							  AND b.attempt OPERATOR(pg_catalog.=) x.attempt
							  AND b.seq OPERATOR(pg_catalog.<) x.seq
							  AND b.state OPERATOR(pg_catalog.<>) 'succeeded')
		 ORDER BY x.ready_seq
		 LIMIT LEAST(room, budget)
		LOOP
			RETURN NEXT item;
			n := n OPERATOR(pg_catalog.+) 1;
			last_taken := item.ready_seq;
		END LOOP;
		-- where to read from next time: after the last one taken when there
		-- was no room for more, else after everything drawn so far (a
		-- statement whose transaction commits later is found by the next
		-- full look)
		item := NULL;
		item.action := 'cursor';
		item.tenant_id := e.tenant_id;
		item.environment := e.environment;
		item.ready_seq := CASE WHEN n OPERATOR(pg_catalog.<) LEAST(room, budget) THEN GREATEST(h, after) ELSE last_taken END;
		RETURN NEXT item;
		budget := budget OPERATOR(pg_catalog.-) n;
	END LOOP;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._dispatch_work(int, uuid[], jsonb, jsonb) FROM PUBLIC;

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

-- The same for many statements at once: the request ids marked.
CREATE FUNCTION @extschema@._dispatch_submitting(request_ids uuid[]) RETURNS SETOF uuid
	LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	SET row_security = off
BEGIN ATOMIC
	UPDATE @extschema@.remote_statements x
	   SET state = 'submitting', submitted_at = pg_catalog.clock_timestamp()
	 WHERE x.request_id OPERATOR(pg_catalog.=) ANY (_dispatch_submitting.request_ids)
	   AND x.state OPERATOR(pg_catalog.=) 'ready'
	RETURNING x.request_id;
END;
REVOKE ALL ON FUNCTION @extschema@._dispatch_submitting(uuid[]) FROM PUBLIC;

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
-- finishes it (watermark and complete_step, through _finish_step). The
-- statement id, when given, is stored too (a statement that ended before
-- its id was recorded). True when the step was finished by this call.
CREATE FUNCTION @extschema@._dispatch_finished(request_id uuid, ok boolean, remote_state text, rows_affected bigint,
											   bytes bigint, error_class text, error_message text,
											   http_retries int, statement_id text DEFAULT NULL) RETURNS boolean
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	SET row_security = off SET lock_timeout = '1min' SET plan_cache_mode = force_custom_plan
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
		   http_retries = COALESCE(_dispatch_finished.http_retries, x.http_retries),
		   statement_id = COALESCE(_dispatch_finished.statement_id, x.statement_id)
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
		-- the next statement of the step is ready now: its turn comes after
		-- what is ready already
		UPDATE @extschema@.remote_statements x
		   SET ready_seq = pg_catalog.nextval('@extschema@.remote_statements_ready_seq')
		 WHERE x.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND x.run_id OPERATOR(pg_catalog.=) s.run_id
		   AND x.step_id OPERATOR(pg_catalog.=) s.step_id AND x.attempt OPERATOR(pg_catalog.=) s.attempt
		   AND x.seq OPERATOR(pg_catalog.=) (s.seq OPERATOR(pg_catalog.+) 1)
		   -- ready (or cancelled): never sent before this one succeeded; said so
		   -- rather than "= 'ready'", which would lead the planner to the
		   -- ready index, whose dead entries an old snapshot keeps
		   AND x.state OPERATOR(pg_catalog.<>) 'cancelled';
		PERFORM @extschema@._wake_dispatcher();
		RETURN false;
	END IF;
	-- the step's rows are its last statement's (the one that writes the model)
	RETURN @extschema@._finish_step(s.run_id, s.step_id, 'ironlayer dispatcher', true, s.rows_affected,
									s.statement_sha256, 'databricks', NULL, NULL);
END
$$;
REVOKE ALL ON FUNCTION @extschema@._dispatch_finished(uuid, boolean, text, bigint, bigint, text, text, int, text) FROM PUBLIC;

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
		   state = 'ready', statement_id = NULL, remote_state = NULL, submitted_at = NULL,
		   ready_seq = pg_catalog.nextval('@extschema@.remote_statements_ready_seq')
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
