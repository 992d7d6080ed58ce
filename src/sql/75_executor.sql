-- The schemas the executor made, by tenant: a missing schema is made under
-- its row here (the executor's turn-taking, which no other role can hold).
CREATE TABLE @extschema@.target_schemas (
	tenant_id	uuid NOT NULL REFERENCES @extschema@.tenants (tenant_id) ON DELETE CASCADE,
	schema		name PRIMARY KEY,
	environment	text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX target_schemas_tenant ON @extschema@.target_schemas (tenant_id, schema);
COMMENT ON TABLE @extschema@.target_schemas IS
	'schemas the executor created for a tenant''s environments, owned by their run_as role';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.target_schemas', '');
SELECT @extschema@._isolate_tenant_table('@extschema@.target_schemas');
GRANT SELECT ON @extschema@.target_schemas TO ironlayer_viewer;

-- The executors (src/pg/executor.c, docs/runs.md "Executors"): the local
-- one runs a claimed step on this server inside the caller's transaction
-- and records it with _finish_step(), so the model's data, its watermark
-- and the step's state commit together; databricks hands the step to the
-- dispatcher in that transaction (76_remote.sql). For the background workers and any
-- external worker (members of ironlayer_worker); it crosses tenants, so it
-- is not for users.
--
-- Its own lock waits are bounded by lock_timeout below; model SQL runs
-- under the environment's statement_timeout and lock_timeout.

CREATE FUNCTION @extschema@._execute_step(run_id bigint, step_id text, worker text) RETURNS bigint
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	SET row_security = off
	SET lock_timeout = '1min'
	AS 'MODULE_PATHNAME', 'ironlayer_execute_step';
COMMENT ON FUNCTION @extschema@._execute_step(bigint, text, text) IS
	'run a step this worker claimed and record it (workers): postgres runs it here as the environment''s run_as role and returns the rows written; databricks hands it to the dispatcher and returns 0';
REVOKE ALL ON FUNCTION @extschema@._execute_step(bigint, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._execute_step(bigint, text, text) TO ironlayer_worker;
