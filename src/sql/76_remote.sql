-- Remote statements: the intent rows of steps that run on a remote
-- executor (databricks), the telemetry read from them, and the shared end
-- of a step (docs/runs.md "Executors", docs/databricks.md).

-- One row per statement of a step handed to the dispatcher, written
-- 'ready' by _execute_step in the worker's transaction (the handover), then
-- moved along by the dispatcher, one short transaction per transition; the
-- request id goes with the statement (a leading comment and a query tag),
-- so a statement whose outcome is unknown after a crash can be found again.
-- Scrubbed error text only; no secret is ever in it.
CREATE TABLE @extschema@.remote_statements (
	tenant_id	uuid NOT NULL,
	run_id		bigint NOT NULL,
	step_id		text NOT NULL,
	attempt		int NOT NULL,			-- run_steps.attempts when the step was handed over
	seq			int NOT NULL,			-- 0, 1, 2: the step's statements in order
	request_id	uuid NOT NULL UNIQUE,	-- a re-send gets a new one (the old kept below)
	prior_request_ids uuid[] NOT NULL DEFAULT '{}',
	environment	text NOT NULL,
	statement	text NOT NULL,			-- as rendered, without the request id comment
	statement_sha256 text NOT NULL CHECK (statement_sha256 OPERATOR(pg_catalog.~) '^[0-9a-f]{64}$'),
	idempotent	boolean NOT NULL,
	state		text NOT NULL DEFAULT 'ready'
		CHECK (state OPERATOR(pg_catalog.=) ANY (ARRAY['ready', 'submitting', 'running', 'succeeded', 'failed', 'cancelled'])),
	statement_id text,
	remote_state text,
	submitted_at timestamptz,
	finished_at	timestamptz,
	rows_affected bigint,
	bytes		bigint,
	error_class	text,
	error_message text,
	http_retries int NOT NULL DEFAULT 0,
	PRIMARY KEY (tenant_id, run_id, step_id, attempt, seq),
	FOREIGN KEY (tenant_id, run_id, step_id) REFERENCES @extschema@.run_steps (tenant_id, run_id, step_id)
		ON DELETE CASCADE
);
COMMENT ON TABLE @extschema@.remote_statements IS
	'the statements of steps run by a remote executor: intent, request id, remote statement id, state and scrubbed telemetry';
-- what the dispatcher acts on: the statements not finished yet
CREATE INDEX remote_statements_unfinished ON @extschema@.remote_statements (environment, tenant_id)
	WHERE state OPERATOR(pg_catalog.=) ANY (ARRAY['ready', 'submitting', 'running']);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.remote_statements', '');
SELECT @extschema@._isolate_tenant_table('@extschema@.remote_statements');
GRANT SELECT ON @extschema@.remote_statements TO ironlayer_viewer;

-- Per remote statement: ids, times, outcome, what it wrote, retries.
CREATE VIEW @extschema@.statement_telemetry WITH (security_invoker = true) AS
SELECT s.tenant_id, s.run_id, s.step_id, s.attempt, s.seq, s.environment,
	   s.statement_id, s.request_id, s.prior_request_ids, s.statement_sha256,
	   s.submitted_at, s.finished_at,
	   s.finished_at OPERATOR(pg_catalog.-) s.submitted_at AS duration,
	   s.state, s.remote_state, s.rows_affected, s.bytes, s.error_class, s.error_message, s.http_retries
  FROM @extschema@.remote_statements s;
COMMENT ON VIEW @extschema@.statement_telemetry IS
	'one row per remote statement: statement and request ids, submit and end times, duration, final state, rows, bytes, error, HTTP retries';
GRANT SELECT ON @extschema@.statement_telemetry TO ironlayer_viewer;

-- The end of a step, for every executor: on success the watermark of a
-- model that keeps history (a full refresh replaces it, an incremental step
-- widens it) and complete_step; on failure complete_step alone. The local
-- executor calls it inside the step's transaction; the dispatcher in the
-- short transaction that records the step's last statement. A databricks
-- step's statement_sha256, when not given, is that of its statements of
-- the attempt as stored, each followed by ";\n" in seq order. Returns
-- false when worker no longer holds the step (nothing is written then).
-- Across tenants, as complete_step; for ironlayer's own callers only.
CREATE FUNCTION @extschema@._finish_step(run_id bigint, step_id text, worker text, ok boolean,
										 rows_affected bigint, statement_sha256 text, executor text,
										 error_class text, error_message text) RETURNS boolean
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	SET row_security = off SET lock_timeout = '1min'
AS $$
DECLARE
	s @extschema@.run_steps;
	sha text := statement_sha256;
	w record;
BEGIN
	SELECT * INTO s FROM @extschema@.run_steps x
	 WHERE x.run_id OPERATOR(pg_catalog.=) _finish_step.run_id AND x.step_id OPERATOR(pg_catalog.=) _finish_step.step_id;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	IF sha IS NULL AND executor OPERATOR(pg_catalog.=) 'databricks' THEN
		SELECT pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(
				   pg_catalog.string_agg(r.statement OPERATOR(pg_catalog.||) E';\n', '' ORDER BY r.seq), 'UTF8')), 'hex')
		  INTO sha
		  FROM @extschema@.remote_statements r
		 WHERE r.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND r.run_id OPERATOR(pg_catalog.=) s.run_id
		   AND r.step_id OPERATOR(pg_catalog.=) s.step_id AND r.attempt OPERATOR(pg_catalog.=) s.attempts;
	END IF;
	IF NOT @extschema@.complete_step(_finish_step.run_id, _finish_step.step_id, worker, ok, rows_affected, sha,
									 executor, error_class, error_message) THEN
		RETURN false;
	END IF;
	IF ok AND s.kind OPERATOR(pg_catalog.=) ANY (ARRAY['INCREMENTAL_BY_TIME_RANGE', 'APPEND_ONLY']) THEN
		-- the step's range; a full refresh covers all history up to the plan's as_of
		SELECT g.repo_id, r.environment, r.created_by, p.as_of INTO w
		  FROM @extschema@.runs r
		  JOIN @extschema@.plans p ON p.tenant_id OPERATOR(pg_catalog.=) r.tenant_id
								  AND p.plan_id OPERATOR(pg_catalog.=) r.plan_id
		  LEFT JOIN @extschema@.repos g ON g.tenant_id OPERATOR(pg_catalog.=) r.tenant_id
									   AND g.name OPERATOR(pg_catalog.=) p.repository
		 WHERE r.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND r.run_id OPERATOR(pg_catalog.=) s.run_id;
		-- a repository removed meanwhile took its watermarks with it
		IF w.repo_id IS NOT NULL THEN
			IF s.run_type OPERATOR(pg_catalog.=) 'FULL_REFRESH' THEN
				PERFORM @extschema@._put_watermark(s.tenant_id, w.repo_id, w.environment, s.model,
												   DATE '0001-01-01', w.as_of, w.created_by, false);
			ELSE
				PERFORM @extschema@._put_watermark(s.tenant_id, w.repo_id, w.environment, s.model,
												   s.start_date, s.end_date, w.created_by, true);
			END IF;
		END IF;
	END IF;
	RETURN true;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._finish_step(bigint, text, text, boolean, bigint, text, text, text, text) FROM PUBLIC;
