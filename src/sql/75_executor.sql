-- The local executor (src/pg/executor.c, docs/runs.md "The local executor"):
-- runs one claimed step on this server inside the caller's transaction and
-- records it with complete_step(), so the model's data, its watermark and
-- the step's state commit together. For the background workers and any
-- external worker (members of ironlayer_worker); it crosses tenants, so it
-- is not for users.
CREATE FUNCTION @extschema@._execute_step(run_id bigint, step_id text, worker text) RETURNS bigint
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	SET row_security = off
	AS 'MODULE_PATHNAME', 'ironlayer_execute_step';
COMMENT ON FUNCTION @extschema@._execute_step(bigint, text, text) IS
	'run a step this worker claimed, as the environment''s run_as role, and record it with complete_step (workers); returns the rows written';
REVOKE ALL ON FUNCTION @extschema@._execute_step(bigint, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._execute_step(bigint, text, text) TO ironlayer_worker;
