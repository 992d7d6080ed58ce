-- Git repositories of a tenant, who may register them, and the shared parse
-- cache (docs/repositories.md).

-- Global (allow-listed): the tenants that may register each repository. A
-- repository is known by its store, the resolved path of its common git
-- directory (objects and refs), so its working tree, its .git directory, a
-- symbolic link to either and a linked worktree are one repository. The
-- first tenant to register it claims it (granted false; at most one claim
-- per store), and gives the claim up when it removes its last registration
-- of it; a superuser grants it to more tenants (granted true) and revokes.
-- Read and written only by ironlayer's functions.
CREATE TABLE @extschema@.repo_claims (
	store		text NOT NULL CHECK (store OPERATOR(pg_catalog.^@) '/'),
	tenant_id	uuid NOT NULL REFERENCES @extschema@.tenants (tenant_id) ON DELETE CASCADE,
	granted		boolean NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	created_by	name NOT NULL,
	PRIMARY KEY (store, tenant_id)
);
CREATE UNIQUE INDEX repo_claims_one_claim ON @extschema@.repo_claims (store) WHERE NOT granted;
CREATE INDEX repo_claims_tenant_idx ON @extschema@.repo_claims (tenant_id);
COMMENT ON TABLE @extschema@.repo_claims IS
	'tenants that may register a repository (by its resolved common git directory): one claim, or grants by a superuser';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.repo_claims', '');

CREATE TABLE @extschema@.repos (
	tenant_id	uuid NOT NULL REFERENCES @extschema@.tenants (tenant_id) ON DELETE CASCADE,
	repo_id		bigint GENERATED ALWAYS AS IDENTITY,
	name		@extschema@.dotted_slug NOT NULL,
	path		text NOT NULL,
	models_dir	text NOT NULL,
	store		text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	created_by	name NOT NULL,
	PRIMARY KEY (tenant_id, repo_id),
	UNIQUE (tenant_id, name),
	-- a registration exists only while its tenant holds a claim or a grant
	FOREIGN KEY (store, tenant_id) REFERENCES @extschema@.repo_claims (store, tenant_id)
);
CREATE INDEX repos_store_idx ON @extschema@.repos (tenant_id, store);
COMMENT ON TABLE @extschema@.repos IS
	'git repositories of a tenant: a canonical path inside ironlayer.repo_root, the models directory and the store (resolved common git directory)';
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
	tid uuid;
	removed text;
	removed_store text;
	released boolean := false;
BEGIN
	PERFORM @extschema@._check_size('the repository name', remove_repo.name, 63);
	IF remove_repo.name IS NULL THEN
		RAISE EXCEPTION USING
			ERRCODE = 'null_value_not_allowed',
			MESSAGE = 'name must not be null';
	END IF;
	tid := @extschema@._require_tenant_role('admin', 'remove repositories');
	DELETE FROM @extschema@.repos r
	 WHERE r.tenant_id OPERATOR(pg_catalog.=) tid
	   AND r.name OPERATOR(pg_catalog.=) remove_repo.name
	RETURNING r.path, r.store INTO removed, removed_store;
	IF removed IS NULL THEN
		RAISE EXCEPTION USING
			ERRCODE = 'undefined_object',
			MESSAGE = pg_catalog.format('repository "%s" does not exist', remove_repo.name),
			HINT = 'ironlayer.repos lists the repositories of the bound tenant.';
	END IF;
	-- The claim goes with the tenant's last registration of the repository
	-- (a grant stays). Locking the claim first waits for an add_repo of the
	-- same repository by this tenant, whose registration is then counted.
	PERFORM FROM @extschema@.repo_claims c
	 WHERE c.store OPERATOR(pg_catalog.=) removed_store AND c.tenant_id OPERATOR(pg_catalog.=) tid
	   FOR UPDATE;
	IF NOT EXISTS (SELECT FROM @extschema@.repos r
					WHERE r.tenant_id OPERATOR(pg_catalog.=) tid
					  AND r.store OPERATOR(pg_catalog.=) removed_store) THEN
		DELETE FROM @extschema@.repo_claims c
		 WHERE c.store OPERATOR(pg_catalog.=) removed_store AND c.tenant_id OPERATOR(pg_catalog.=) tid
		   AND NOT c.granted;
		released := FOUND;
	END IF;
	PERFORM @extschema@._audit(tid, 'repo.remove', 'repo', remove_repo.name,
							   pg_catalog.jsonb_build_object('path', removed, 'store', removed_store,
															 'released', released));
END
$$;
COMMENT ON FUNCTION @extschema@.remove_repo(text) IS
	'forget a repository of the bound tenant (tenant admins); the repository itself is untouched; the last registration of a repository gives up its claim';

-- The store of the repository at a path, resolved and confined as add_repo
-- does (src/pg/repo.c). (internal, for grant_repo and revoke_repo)
CREATE FUNCTION @extschema@._repo_store(path text) RETURNS text
	LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED
	AS 'MODULE_PATHNAME', 'ironlayer_repo_store';
REVOKE ALL ON FUNCTION @extschema@._repo_store(text) FROM PUBLIC;

-- 42501 unless the acting role is a superuser. (internal)
CREATE FUNCTION @extschema@._require_superuser(action text) RETURNS void
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT @extschema@._is_superuser(@extschema@.acting_role()) THEN
		RAISE EXCEPTION USING
			ERRCODE = 'insufficient_privilege',
			MESSAGE = pg_catalog.format('permission denied to %s', action),
			DETAIL = pg_catalog.format('Role "%s" is not a superuser.', @extschema@.acting_role()),
			HINT = 'Only a superuser shares a repository between tenants.';
	END IF;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._require_superuser(text) FROM PUBLIC;

CREATE FUNCTION @extschema@.grant_repo(tenant text, path text) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tid uuid;
	st text;
	before boolean;
BEGIN
	PERFORM @extschema@._check_size('the tenant name', grant_repo.tenant, 63);
	PERFORM @extschema@._check_size('the repository path', grant_repo.path, 4096);
	IF grant_repo.tenant IS NULL OR grant_repo.path IS NULL THEN
		RAISE EXCEPTION USING
			ERRCODE = 'null_value_not_allowed',
			MESSAGE = 'tenant and path must not be null';
	END IF;
	PERFORM @extschema@._require_superuser('grant repositories');
	tid := @extschema@._lock_tenant_for_admin(grant_repo.tenant);
	st := @extschema@._repo_store(grant_repo.path);
	SELECT c.granted INTO before FROM @extschema@.repo_claims c
	 WHERE c.store OPERATOR(pg_catalog.=) st AND c.tenant_id OPERATOR(pg_catalog.=) tid
	   FOR UPDATE;
	INSERT INTO @extschema@.repo_claims AS c (store, tenant_id, granted, created_by)
	VALUES (st, tid, true, @extschema@.acting_role())
	ON CONFLICT ON CONSTRAINT repo_claims_pkey DO UPDATE SET granted = true;
	PERFORM @extschema@._audit(tid, 'repo.grant', 'repo_store', st,
							   pg_catalog.jsonb_build_object('path', grant_repo.path,
															 'previously', CASE WHEN before THEN 'granted'
																				WHEN NOT before THEN 'claimed' END));
END
$$;
COMMENT ON FUNCTION @extschema@.grant_repo(text, text) IS
	'let a tenant register a repository, whoever else claimed or was granted it (superusers)';

CREATE FUNCTION @extschema@.revoke_repo(tenant text, path text, cascade boolean DEFAULT false)
	RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tid uuid;
	st text;
	names text[];
	r record;
BEGIN
	PERFORM @extschema@._check_size('the tenant name', revoke_repo.tenant, 63);
	PERFORM @extschema@._check_size('the repository path', revoke_repo.path, 4096);
	IF revoke_repo.tenant IS NULL OR revoke_repo.path IS NULL OR revoke_repo.cascade IS NULL THEN
		RAISE EXCEPTION USING
			ERRCODE = 'null_value_not_allowed',
			MESSAGE = 'tenant, path and cascade must not be null';
	END IF;
	PERFORM @extschema@._require_superuser('revoke repositories');
	tid := @extschema@._lock_tenant_for_admin(revoke_repo.tenant);
	-- a store as listed in repo_claims, for a repository gone from disk
	SELECT c.store INTO st FROM @extschema@.repo_claims c
	 WHERE c.store OPERATOR(pg_catalog.=) revoke_repo.path AND c.tenant_id OPERATOR(pg_catalog.=) tid
	   FOR UPDATE;
	IF st IS NULL THEN
		st := @extschema@._repo_store(revoke_repo.path);
		PERFORM FROM @extschema@.repo_claims c
		 WHERE c.store OPERATOR(pg_catalog.=) st AND c.tenant_id OPERATOR(pg_catalog.=) tid
		   FOR UPDATE;
		IF NOT FOUND THEN
			RAISE EXCEPTION USING
				ERRCODE = 'undefined_object',
				MESSAGE = pg_catalog.format('tenant "%s" holds no claim or grant on repository "%s"',
											revoke_repo.tenant, revoke_repo.path);
		END IF;
	END IF;
	SELECT pg_catalog.array_agg(g.name ORDER BY g.name) INTO names FROM @extschema@.repos g
	 WHERE g.tenant_id OPERATOR(pg_catalog.=) tid AND g.store OPERATOR(pg_catalog.=) st;
	IF names IS NOT NULL AND NOT revoke_repo.cascade THEN
		RAISE EXCEPTION USING
			ERRCODE = 'dependent_objects_still_exist',
			MESSAGE = pg_catalog.format('tenant "%s" still has repositories on "%s": %s', revoke_repo.tenant,
										revoke_repo.path, pg_catalog.array_to_string(names, ', ')),
			HINT = 'The tenant''s admins remove them with ironlayer.remove_repo(), or revoke with cascade => true to remove them too.';
	END IF;
	FOR r IN DELETE FROM @extschema@.repos g
			  WHERE g.tenant_id OPERATOR(pg_catalog.=) tid AND g.store OPERATOR(pg_catalog.=) st
			 RETURNING g.name, g.path LOOP
		PERFORM @extschema@._audit(tid, 'repo.remove', 'repo', r.name,
								   pg_catalog.jsonb_build_object('path', r.path, 'store', st, 'revoked', true));
	END LOOP;
	DELETE FROM @extschema@.repo_claims c
	 WHERE c.store OPERATOR(pg_catalog.=) st AND c.tenant_id OPERATOR(pg_catalog.=) tid;
	PERFORM @extschema@._audit(tid, 'repo.revoke', 'repo_store', st,
							   pg_catalog.jsonb_build_object('path', revoke_repo.path,
															 'removed', pg_catalog.to_jsonb(coalesce(names, '{}'))));
END
$$;
COMMENT ON FUNCTION @extschema@.revoke_repo(text, text, boolean) IS
	'take a repository away from a tenant, its claim or its grant (superusers); cascade also removes its registrations';

CREATE FUNCTION @extschema@.resolve_commit(repo text, "commit" text) RETURNS text
	LANGUAGE C VOLATILE PARALLEL RESTRICTED SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'ironlayer_resolve_commit';
COMMENT ON FUNCTION @extschema@.resolve_commit(text, text) IS
	'the full id of a commit-ish (SHA, short SHA, branch, tag, HEAD~1, main^) of a repository';

CREATE FUNCTION @extschema@.models(repo text, "commit" text)
	RETURNS TABLE (name text, path text, kind text, materialization text, time_column text,
				   unique_key text, blob text, fingerprint text, upstream text[], sources text[],
				   unknown_refs text[])
	LANGUAGE C VOLATILE PARALLEL RESTRICTED SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'ironlayer_models';
COMMENT ON FUNCTION @extschema@.models(text, text) IS
	'the models of a repository at a commit, read from git objects, with their upstream models, sources and unknown references';

CREATE FUNCTION @extschema@.diff(repo text, base text, head text)
	RETURNS TABLE (model text, change text, path text, unknown_refs text[])
	LANGUAGE C VOLATILE PARALLEL RESTRICTED SECURITY DEFINER
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
