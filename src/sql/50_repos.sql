-- Git repositories of a tenant, and the shared parse cache (docs/repositories.md).

CREATE TABLE @extschema@.repos (
	tenant_id	uuid NOT NULL REFERENCES @extschema@.tenants (tenant_id) ON DELETE CASCADE,
	repo_id		bigint GENERATED ALWAYS AS IDENTITY,
	name		text NOT NULL CHECK (name OPERATOR(pg_catalog.~) '^[a-z][a-z0-9_.-]{0,62}$'),
	path		text NOT NULL,
	models_dir	text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	created_by	name NOT NULL,
	PRIMARY KEY (tenant_id, repo_id),
	UNIQUE (tenant_id, name)
);
COMMENT ON TABLE @extschema@.repos IS
	'git repositories of a tenant: a canonical path inside ironlayer.repo_root and the models directory';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.repos', '');
SELECT @extschema@._isolate_tenant_table('@extschema@.repos');
GRANT SELECT ON @extschema@.repos TO ironlayer_viewer;

-- Global (allow-listed): parsed model metadata by git blob id and parser
-- version. Content-addressed, so shared by every tenant and session; read
-- and written only by ironlayer's functions.
CREATE TABLE @extschema@.parse_cache (
	blob			text NOT NULL CHECK (blob OPERATOR(pg_catalog.~) '^[0-9a-f]{40}$'),
	parser_version	text NOT NULL,
	summary			bytea NOT NULL,
	PRIMARY KEY (blob, parser_version)
);
COMMENT ON TABLE @extschema@.parse_cache IS
	'parsed model metadata by git blob id and parser version (content-addressed, shared)';

CREATE FUNCTION @extschema@.add_repo(name text, path text, models_dir text DEFAULT NULL)
	RETURNS bigint
	LANGUAGE C VOLATILE PARALLEL RESTRICTED SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'ironlayer_add_repo';
COMMENT ON FUNCTION @extschema@.add_repo(text, text, text) IS
	'register a git repository inside ironlayer.repo_root for the bound tenant (tenant admins)';

CREATE FUNCTION @extschema@.remove_repo(name text) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tid uuid := @extschema@._require_tenant_role('admin', 'remove repositories');
	removed text;
BEGIN
	DELETE FROM @extschema@.repos r
	 WHERE r.tenant_id OPERATOR(pg_catalog.=) tid
	   AND r.name OPERATOR(pg_catalog.=) remove_repo.name
	RETURNING r.path INTO removed;
	IF removed IS NULL THEN
		RAISE EXCEPTION USING
			ERRCODE = 'undefined_object',
			MESSAGE = pg_catalog.format('repository "%s" does not exist', remove_repo.name);
	END IF;
	PERFORM @extschema@._audit(tid, 'repo.remove', 'repo', remove_repo.name,
							   pg_catalog.jsonb_build_object('path', removed));
END
$$;
COMMENT ON FUNCTION @extschema@.remove_repo(text) IS
	'forget a repository of the bound tenant (tenant admins); the repository itself is untouched';

CREATE FUNCTION @extschema@.resolve_commit(repo text, "commit" text) RETURNS text
	LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'ironlayer_resolve_commit';
COMMENT ON FUNCTION @extschema@.resolve_commit(text, text) IS
	'the full id of a commit-ish (SHA, short SHA, branch, tag, HEAD~1, main^) of a repository';

CREATE FUNCTION @extschema@.models(repo text, "commit" text)
	RETURNS TABLE (name text, path text, kind text, materialization text, time_column text,
				   unique_key text, blob text, fingerprint text, upstream text[], sources text[])
	LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'ironlayer_models';
COMMENT ON FUNCTION @extschema@.models(text, text) IS
	'the models of a repository at a commit, read from git objects, with their upstream models and sources';

CREATE FUNCTION @extschema@.diff(repo text, base text, head text)
	RETURNS TABLE (model text, change text, path text)
	LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'ironlayer_diff';
COMMENT ON FUNCTION @extschema@.diff(text, text, text) IS
	'models added, modified, removed or changed only cosmetically between two commits';

CREATE FUNCTION @extschema@.lineage(repo text, "commit" text, model text,
								   direction text DEFAULT 'both', max_depth int DEFAULT NULL)
	RETURNS TABLE (model text, direction text, depth int)
	LANGUAGE C VOLATILE PARALLEL RESTRICTED SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'ironlayer_lineage';
COMMENT ON FUNCTION @extschema@.lineage(text, text, text, text, int) IS
	'the models upstream and/or downstream of a model at a commit, with their depth';
