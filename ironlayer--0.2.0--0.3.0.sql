-- ironlayer 0.2.0 -> 0.3.0 upgrade script (ALTER EXTENSION ironlayer UPDATE).
--
-- It turns an install of 0.2.0 into what src/sql/ installs in 0.3.0. Every
-- change to src/sql/ adds its statements here in the same commit, after a
-- line naming the part it changed ("-- src/sql/NN_part.sql"; parts in name
-- order), written as in src/sql/: @extschema@ for the schema,
-- 'MODULE_PATHNAME' for the library, operators qualified. The rules of
-- ironlayer--0.1.0--0.2.0.sql hold here too; test/sql/upgrade.sql compares
-- an install updated along the chain with a fresh one.
\echo Use "ALTER EXTENSION ironlayer UPDATE TO '0.3.0'" to load this file. \quit

-- src/sql/30_vault.sql: credential kinds may hold "-" (databricks-pat,
-- databricks-oauth)
ALTER TABLE @extschema@.credential_store DROP CONSTRAINT credential_store_kind_check,
	ADD CONSTRAINT credential_store_kind_check CHECK (kind OPERATOR(pg_catalog.~) '^[a-z][a-z0-9_-]{0,31}$');

-- src/sql/70_environments.sql: executor databricks, its settings in
-- environments.databricks, checked by _databricks_settings
ALTER TABLE @extschema@.environments DROP CONSTRAINT environments_executor_check,
	ADD CONSTRAINT environments_executor_check
		CHECK (executor OPERATOR(pg_catalog.=) ANY (ARRAY['postgres', 'databricks'])),
	ADD COLUMN databricks jsonb,
	ADD CONSTRAINT environments_databricks_check
		CHECK ((executor OPERATOR(pg_catalog.=) 'databricks') OPERATOR(pg_catalog.=) (databricks IS NOT NULL));
-- on_schema_change, the policy of an incremental or merge step whose query
-- gained or lost columns (docs/runs.md)
ALTER TABLE @extschema@.environments ADD COLUMN on_schema_change text NOT NULL DEFAULT 'fail'
	CHECK (on_schema_change OPERATOR(pg_catalog.=) ANY (ARRAY['fail', 'append_new_columns', 'sync_all_columns']));
-- Databricks environments (docs/databricks.md). The workspace URL's form
-- and whether ironlayer.databricks_hosts allows its host: the normalized
-- origin and allowed, or the problem (src/pg/dbx_settings.c). (internal)
CREATE FUNCTION @extschema@._databricks_url(url text, OUT origin text, OUT allowed boolean, OUT problem text)
	LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED
	AS 'MODULE_PATHNAME', 'ironlayer_databricks_url_sql';
REVOKE ALL ON FUNCTION @extschema@._databricks_url(text) FROM PUBLIC;

-- NULL when the server can read the CA bundle of that name in
-- ironlayer.databricks_ca_directory, else why not. (internal)
CREATE FUNCTION @extschema@._databricks_ca_problem(name text) RETURNS text
	LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED
	AS 'MODULE_PATHNAME', 'ironlayer_databricks_ca_problem_sql';
REVOKE ALL ON FUNCTION @extschema@._databricks_ca_problem(text) FROM PUBLIC;

-- The "databricks" object of set_environment's settings, every key and value
-- checked, as stored: every key present, defaults filled, ca_bundle null when
-- absent. The credential must be one of tenant tid's, of the kind auth
-- takes. Errors show at most 100 characters of what was given. (internal)
CREATE FUNCTION @extschema@._databricks_settings(tid uuid, given jsonb) RETURNS jsonb
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k text;
	v jsonb;
	s text;
	u record;
	why text;
	ckind text;
	want text;
	url text;
	warehouse text;
	cat text;
	cred text;
	auth text := 'pat';
	in_flight int := 16;
	ca text;
	missing text[];
	valid constant text := 'workspace_url, warehouse_id, catalog, credential, auth, max_in_flight, ca_bundle';
BEGIN
	IF pg_catalog.jsonb_typeof(given) OPERATOR(pg_catalog.<>) 'object' THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = pg_catalog.format('invalid databricks %s: give a JSON object', pg_catalog.left(@extschema@._scrub(given::text), 100)),
			HINT = 'Keys: ' OPERATOR(pg_catalog.||) valid OPERATOR(pg_catalog.||) '.';
	END IF;
	FOR k, v IN SELECT * FROM pg_catalog.jsonb_each(given) LOOP
		s := CASE WHEN pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.=) 'string' THEN v OPERATOR(pg_catalog.#>>) '{}' END;
		-- a token pasted where a name goes (a PAT as the credential or the
		-- catalog) is neither stored, where viewers read it, nor repeated in
		-- an error, which the server log keeps
		IF s IS NOT NULL AND @extschema@._scrub(s) OPERATOR(pg_catalog.~) '\[(TOKEN|SECRET)\]'
		   AND s OPERATOR(pg_catalog.!~) '\[(TOKEN|SECRET)\]' THEN
			RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
				MESSAGE = pg_catalog.format('databricks.%s holds what looks like a token or a secret', pg_catalog.left(k, 100)),
				DETAIL = 'It is not repeated here, and nothing was stored.',
				HINT = 'Store the secret with ironlayer.put_credential() (kind databricks-pat or databricks-oauth) and give its name as databricks.credential.';
		END IF;
		CASE k
		WHEN 'workspace_url' THEN
			IF s IS NULL THEN
				why := 'give a string';
			ELSE
				SELECT * INTO u FROM @extschema@._databricks_url(s);
				why := u.problem;
			END IF;
			IF why IS NOT NULL THEN
				-- what precedes an "@" may be a password or a token
				-- (https://user:secret@host): it is never repeated
				RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
					MESSAGE = pg_catalog.format('invalid databricks.workspace_url %s: %s',
						pg_catalog.left(pg_catalog.regexp_replace(v::text, '^("(?:[^/@]*//)?)[^/?#]*@', '\1***@'), 100), why),
					HINT = 'Give the workspace''s address alone, such as "https://adb-1234567890123456.7.azuredatabricks.net".';
			END IF;
			IF NOT u.allowed THEN
				RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
					MESSAGE = pg_catalog.format('databricks.workspace_url "%s" names a host this server does not allow', u.origin),
					DETAIL = 'The host is not in ironlayer.databricks_hosts.',
					HINT = 'A superuser lists the hosts of the organization''s workspaces in ironlayer.databricks_hosts.';
			END IF;
			url := u.origin;
		WHEN 'warehouse_id' THEN
			IF s IS NULL OR s OPERATOR(pg_catalog.!~) '^[0-9a-f]{16}$' THEN
				RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
					MESSAGE = pg_catalog.format('invalid databricks.warehouse_id %s', pg_catalog.left(v::text, 100)),
					HINT = 'A warehouse id is 16 lower-case hexadecimal digits, as in the warehouse''s connection details.';
			END IF;
			warehouse := s;
		WHEN 'catalog' THEN
			IF s IS NULL OR s OPERATOR(pg_catalog.!~) '^[A-Za-z_][A-Za-z0-9_]{0,254}$' THEN
				RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
					MESSAGE = pg_catalog.format('invalid databricks.catalog %s', pg_catalog.left(v::text, 100)),
					HINT = 'A catalog is 1 to 255 ASCII letters, digits and "_", not starting with a digit.';
			END IF;
			cat := s;
		WHEN 'credential' THEN
			IF s IS NULL OR s OPERATOR(pg_catalog.!~) '^[a-z][a-z0-9_.-]{0,62}$' THEN
				RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
					MESSAGE = pg_catalog.format('invalid databricks.credential %s', pg_catalog.left(v::text, 100)),
					HINT = 'Give the name of a credential of the tenant (ironlayer.credentials).';
			END IF;
			cred := s;
		WHEN 'auth' THEN
			IF s IS NULL OR s OPERATOR(pg_catalog.<>) ALL (ARRAY['pat', 'oauth-m2m']) THEN
				RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
					MESSAGE = pg_catalog.format('invalid databricks.auth %s', pg_catalog.left(v::text, 100)),
					HINT = 'Give "pat" (a personal access token, the default) or "oauth-m2m" (a service principal''s OAuth client).';
			END IF;
			auth := s;
		WHEN 'max_in_flight' THEN
			IF pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.<>) 'number' OR v::text OPERATOR(pg_catalog.!~) '^[0-9]{1,3}$'
			   OR v::text::int OPERATOR(pg_catalog.<) 1 OR v::text::int OPERATOR(pg_catalog.>) 256 THEN
				RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
					MESSAGE = pg_catalog.format('invalid databricks.max_in_flight %s: give a whole number from 1 to 256',
						pg_catalog.left(v::text, 100));
			END IF;
			in_flight := v::text::int;
		WHEN 'ca_bundle' THEN
			IF pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.=) 'null' THEN
				ca := NULL;
			ELSE
				why := CASE WHEN s IS NULL THEN 'give a file name' ELSE @extschema@._databricks_ca_problem(s) END;
				IF why IS NOT NULL THEN
					RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
						MESSAGE = pg_catalog.format('invalid databricks.ca_bundle %s: %s', pg_catalog.left(v::text, 100), why),
						HINT = 'Give the name of a file a superuser put in ironlayer.databricks_ca_directory, or null for the system''s CA certificates.';
				END IF;
				ca := s;
			END IF;
		ELSE
			RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
				MESSAGE = pg_catalog.format('unknown databricks setting "%s"', pg_catalog.left(k, 100)),
				HINT = 'Valid keys: ' OPERATOR(pg_catalog.||) valid OPERATOR(pg_catalog.||) '.';
		END CASE;
	END LOOP;
	missing := ARRAY(SELECT x FROM pg_catalog.unnest(ARRAY['workspace_url', 'warehouse_id', 'catalog', 'credential']) x
					  WHERE NOT given OPERATOR(pg_catalog.?) x);
	IF pg_catalog.cardinality(missing) OPERATOR(pg_catalog.>) 0 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = pg_catalog.format('the databricks settings lack %s', pg_catalog.array_to_string(missing, ', ')),
			HINT = 'workspace_url, warehouse_id, catalog and credential are required; auth, max_in_flight and ca_bundle are optional.';
	END IF;
	want := CASE auth WHEN 'pat' THEN 'databricks-pat' ELSE 'databricks-oauth' END;
	SELECT c.kind INTO ckind FROM @extschema@.credential_store c
	 WHERE c.tenant_id OPERATOR(pg_catalog.=) tid AND c.name OPERATOR(pg_catalog.=) cred;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'undefined_object',
			MESSAGE = pg_catalog.format('credential "%s" does not exist', cred),
			HINT = pg_catalog.format('Store it first, of kind %s: `ironlayer credential put` or ironlayer.put_credential().', want);
	END IF;
	IF ckind OPERATOR(pg_catalog.<>) want THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = pg_catalog.format('credential "%s" is of kind "%s", not the %s that auth "%s" takes', cred, ckind, want, auth),
			HINT = 'auth "pat" takes a databricks-pat credential (a personal access token), auth "oauth-m2m" a databricks-oauth one (a service principal''s client id and secret).';
	END IF;
	RETURN pg_catalog.jsonb_build_object('workspace_url', url, 'warehouse_id', warehouse, 'catalog', cat,
		'credential', cred, 'auth', auth, 'max_in_flight', in_flight, 'ca_bundle', ca);
END
$$;
REVOKE ALL ON FUNCTION @extschema@._databricks_settings(uuid, jsonb) FROM PUBLIC;

CREATE OR REPLACE FUNCTION @extschema@.set_environment(name text, settings jsonb) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tid uuid := @extschema@._require_tenant_role('admin', 'configure environments');
	caller name := @extschema@.acting_role();
	super boolean := @extschema@._is_superuser(caller);
	k text;
	v jsonb;
	given text;
	i interval;
	e @extschema@.environments;
	old_prefix text;
	stem text;
	tenant_name text;
	valid constant text := 'approvals_required, approver_must_differ, auto_approve, databricks, executor, lock_timeout, max_running_steps, on_schema_change, run_as, schema_prefix, settings, statement_timeout';
BEGIN
	IF set_environment.name IS NULL OR set_environment.settings IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'name and settings must not be null';
	END IF;
	PERFORM @extschema@._check_size('the environment name', set_environment.name, 63);
	PERFORM @extschema@._check_size('the settings object', set_environment.settings, 65536);
	IF NOT @extschema@._is_slug(set_environment.name) THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = pg_catalog.format('invalid environment name "%s"', set_environment.name),
			HINT = 'An environment name is 1 to 63 characters: a lower-case letter, then lower-case letters, digits, "_" or "-".';
	END IF;
	IF pg_catalog.jsonb_typeof(set_environment.settings) OPERATOR(pg_catalog.<>) 'object' THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'settings must be a JSON object', HINT = 'Valid keys: ' OPERATOR(pg_catalog.||) valid || '.';
	END IF;
	SELECT t.schema_stem, t.name INTO stem, tenant_name FROM @extschema@.tenants t
	 WHERE t.tenant_id OPERATOR(pg_catalog.=) tid;
	SELECT * INTO e FROM @extschema@.environments x
	 WHERE x.tenant_id OPERATOR(pg_catalog.=) tid AND x.name OPERATOR(pg_catalog.=) set_environment.name FOR UPDATE;
	IF FOUND THEN
		old_prefix := e.schema_prefix;
	ELSE
		-- each environment has a role of its own, cluster-wide: a bounded number
		IF (SELECT pg_catalog.count(*) FROM @extschema@.environments x
			 WHERE x.tenant_id OPERATOR(pg_catalog.=) tid) OPERATOR(pg_catalog.>=) 100 THEN
			RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
				MESSAGE = 'a tenant has at most 100 environments',
				HINT = 'Change an environment that exists instead.';
		END IF;
		e.tenant_id := tid;
		e.name := set_environment.name;
		e.executor := 'postgres';
		e.auto_approve := false;
		e.approvals_required := 1;
		e.approver_must_differ := true;
		e.schema_prefix := stem OPERATOR(pg_catalog.||)
			pg_catalog.left(pg_catalog.replace(set_environment.name, '-', '_'), 8) OPERATOR(pg_catalog.||) '_';
		e.run_as := NULL;		-- a role made for it below, unless the settings name one
		e.default_run_as := NULL;
		e.statement_timeout := '1 hour';
		e.lock_timeout := '1 min';
		e.max_running_steps := NULL;
		e.settings := '{}';
		e.databricks := NULL;
		e.on_schema_change := 'fail';
	END IF;
	FOR k, v IN SELECT * FROM pg_catalog.jsonb_each(set_environment.settings) LOOP
		CASE k
		WHEN 'executor' THEN
			IF v OPERATOR(pg_catalog.<>) ALL (ARRAY['"postgres"'::jsonb, '"databricks"'::jsonb]) THEN
				RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
					MESSAGE = pg_catalog.format('invalid executor %s', pg_catalog.left(v::text, 100)),
					HINT = 'The executors are "postgres" and "databricks" (with the databricks settings).';
			END IF;
			e.executor := v OPERATOR(pg_catalog.#>>) '{}';
		WHEN 'databricks' THEN
			IF pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.=) 'null' THEN
				e.databricks := NULL;
			ELSE
				e.databricks := @extschema@._databricks_settings(tid, v);
			END IF;
		WHEN 'auto_approve', 'approver_must_differ' THEN
			IF pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.<>) 'boolean' THEN
				RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
					MESSAGE = pg_catalog.format('invalid %s %s: give true or false', k, pg_catalog.left(v::text, 100));
			END IF;
			IF k OPERATOR(pg_catalog.=) 'auto_approve' THEN
				e.auto_approve := v::text::boolean;
			ELSE
				e.approver_must_differ := v::text::boolean;
			END IF;
		WHEN 'approvals_required', 'max_running_steps' THEN
			IF k OPERATOR(pg_catalog.=) 'max_running_steps' AND pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.=) 'null' THEN
				e.max_running_steps := NULL;
			ELSIF pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.<>) 'number' OR v::text OPERATOR(pg_catalog.!~) '^[0-9]{1,4}$'
			   OR (k OPERATOR(pg_catalog.=) 'approvals_required' AND v::text::int OPERATOR(pg_catalog.>) 10)
			   OR (k OPERATOR(pg_catalog.=) 'max_running_steps' AND v::text::int OPERATOR(pg_catalog.<) 1) THEN
				RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
					MESSAGE = pg_catalog.format('invalid %s %s: give a whole number %s', k, pg_catalog.left(v::text, 100),
						CASE k WHEN 'approvals_required' THEN 'from 0 to 10' ELSE 'from 1 to 9999, or null for no cap' END);
			ELSIF k OPERATOR(pg_catalog.=) 'approvals_required' THEN
				e.approvals_required := v::text::int;
			ELSE
				e.max_running_steps := v::text::int;
			END IF;
		WHEN 'statement_timeout', 'lock_timeout' THEN
			given := CASE WHEN pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.=) 'string' THEN v OPERATOR(pg_catalog.#>>) '{}' END;
			i := NULL;
			IF given IS NOT NULL AND pg_catalog.length(given) OPERATOR(pg_catalog.<=) 40 THEN
				BEGIN
					i := given::interval;
				EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow THEN
					i := NULL;
				END;
			END IF;
			IF i IS NULL OR i OPERATOR(pg_catalog.<) '1 ms' OR i OPERATOR(pg_catalog.>) '7 days' THEN
				RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
					MESSAGE = pg_catalog.format('invalid %s %s', k, pg_catalog.left(v::text, 100)),
					HINT = 'Give a duration from 1 ms to 7 days as a string, such as "30s", "5 min" or "2h".';
			END IF;
			IF k OPERATOR(pg_catalog.=) 'statement_timeout' THEN
				e.statement_timeout := i;
			ELSE
				e.lock_timeout := i;
			END IF;
		WHEN 'schema_prefix' THEN
			IF pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.<>) 'string'
			   OR (v OPERATOR(pg_catalog.#>>) '{}') OPERATOR(pg_catalog.!~) '^([a-z_][a-z0-9_]{0,29})?$' THEN
				RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
					MESSAGE = pg_catalog.format('invalid schema_prefix %s', pg_catalog.left(v::text, 100)),
					HINT = 'A prefix is empty or up to 30 lower-case letters, digits and "_", not starting with a digit.';
			END IF;
			e.schema_prefix := v OPERATOR(pg_catalog.#>>) '{}';
		WHEN 'run_as' THEN
			IF pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.=) 'null' THEN
				e.run_as := NULL;
			ELSIF pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.<>) 'string'
				  OR pg_catalog.octet_length(v OPERATOR(pg_catalog.#>>) '{}') OPERATOR(pg_catalog.>) 63 THEN
				RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
					MESSAGE = pg_catalog.format('invalid run_as %s: give a role name', pg_catalog.left(v::text, 100));
			ELSE
				e.run_as := v OPERATOR(pg_catalog.#>>) '{}';
				PERFORM @extschema@._check_run_as(e.run_as);
				-- the environment's own role, or one the admin could become:
				-- never another tenant's
				IF NOT super AND e.run_as IS DISTINCT FROM e.default_run_as
				   AND NOT pg_catalog.pg_has_role(caller, e.run_as, 'MEMBER') THEN
					RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
						MESSAGE = pg_catalog.format('%s is not a member of run_as role "%s"', caller, e.run_as),
						HINT = 'Model SQL may run only as the environment''s own role or a role its admin could act as: GRANT the role to the admin first.';
				END IF;
			END IF;
		WHEN 'on_schema_change' THEN
			IF pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.<>) 'string'
			   OR (v OPERATOR(pg_catalog.#>>) '{}') OPERATOR(pg_catalog.<>) ALL (ARRAY['fail', 'append_new_columns', 'sync_all_columns']) THEN
				RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
					MESSAGE = pg_catalog.format('invalid on_schema_change %s', pg_catalog.left(v::text, 100)),
					HINT = 'Give "fail", "append_new_columns" or "sync_all_columns".';
			END IF;
			e.on_schema_change := v OPERATOR(pg_catalog.#>>) '{}';
		WHEN 'settings' THEN
			IF pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.<>) 'object' THEN
				RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
					MESSAGE = pg_catalog.format('invalid settings %s: give a JSON object', pg_catalog.left(v::text, 100));
			END IF;
			e.settings := v;
		ELSE
			RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
				MESSAGE = pg_catalog.format('unknown environment setting "%s"', pg_catalog.left(k, 100)),
				HINT = 'Valid keys: ' OPERATOR(pg_catalog.||) valid || '.';
		END CASE;
	END LOOP;

	-- executor databricks needs its settings; they go when the executor is
	-- postgres. Databricks has no sync_all_columns (docs/databricks.md).
	IF e.executor OPERATOR(pg_catalog.=) 'databricks' THEN
		IF e.databricks IS NULL THEN
			RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
				MESSAGE = 'executor "databricks" needs the databricks settings',
				HINT = 'Give "databricks": {"workspace_url": ..., "warehouse_id": ..., "catalog": ..., "credential": ...} (docs/databricks.md).';
		END IF;
		IF (pg_catalog.to_jsonb(e) OPERATOR(pg_catalog.->>) 'on_schema_change') OPERATOR(pg_catalog.=) 'sync_all_columns' THEN
			RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
				MESSAGE = 'executor "databricks" does not take on_schema_change "sync_all_columns"',
				HINT = 'Use "fail" or "append_new_columns" with Databricks.';
		END IF;
	ELSIF e.databricks IS NOT NULL AND set_environment.settings OPERATOR(pg_catalog.?) 'databricks' THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'the databricks settings need executor "databricks"',
			HINT = 'Give "executor": "databricks" with them, or leave them out.';
	ELSE
		e.databricks := NULL;
	END IF;

	-- The schemas the environment writes (its prefix and what follows) are
	-- the tenant's alone: a prefix starts with the tenant's stem, and stems
	-- never start with one another (create_tenant), so no admin can name
	-- another tenant's schema. A superuser may set any prefix: it must not
	-- overlap another tenant's stem or prefix.
	IF e.schema_prefix IS DISTINCT FROM old_prefix THEN
	IF NOT super AND NOT pg_catalog.starts_with(e.schema_prefix, stem) THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = pg_catalog.format('schema_prefix "%s" does not start with "%s"', e.schema_prefix, stem),
			DETAIL = pg_catalog.format('The schemas of tenant "%s" start with its stem "%s".', tenant_name, stem),
			HINT = 'Choose a prefix that starts with the stem; a superuser may set any prefix no other tenant uses.';
	END IF;
	IF @extschema@._schema_prefix_taken(tid, e.schema_prefix) THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = pg_catalog.format('schema_prefix "%s" overlaps the schemas of another tenant', e.schema_prefix),
			DETAIL = 'Two prefixes overlap when one starts with the other: both could name the same schema.',
			HINT = 'Choose a longer or another prefix.';
	END IF;
	END IF;
	-- a new environment with no run_as named gets a role of its own
	IF e.default_run_as IS NULL AND NOT (set_environment.settings OPERATOR(pg_catalog.?) 'run_as') THEN
		e.default_run_as := @extschema@._make_environment_role(tenant_name, e.name);
		e.run_as := e.default_run_as;
	END IF;
	INSERT INTO @extschema@.environments AS x
		(tenant_id, name, executor, auto_approve, approvals_required, approver_must_differ,
		 schema_prefix, run_as, default_run_as, statement_timeout, lock_timeout, max_running_steps,
		 settings, updated_by,
		 databricks, on_schema_change)
	VALUES (tid, e.name, e.executor, e.auto_approve, e.approvals_required, e.approver_must_differ,
			e.schema_prefix, e.run_as, e.default_run_as, e.statement_timeout, e.lock_timeout, e.max_running_steps,
			e.settings, caller,
			e.databricks, e.on_schema_change)
	ON CONFLICT ON CONSTRAINT environments_pkey DO UPDATE
		SET executor = EXCLUDED.executor, auto_approve = EXCLUDED.auto_approve,
			approvals_required = EXCLUDED.approvals_required,
			approver_must_differ = EXCLUDED.approver_must_differ,
			schema_prefix = EXCLUDED.schema_prefix, run_as = EXCLUDED.run_as,
			default_run_as = EXCLUDED.default_run_as,
			statement_timeout = EXCLUDED.statement_timeout, lock_timeout = EXCLUDED.lock_timeout,
			max_running_steps = EXCLUDED.max_running_steps,
			settings = EXCLUDED.settings, updated_at = pg_catalog.now(), updated_by = EXCLUDED.updated_by,
			databricks = EXCLUDED.databricks, on_schema_change = EXCLUDED.on_schema_change;
	PERFORM @extschema@._audit(tid, 'environment.set', 'environment', e.name, set_environment.settings);
END
$$;

-- src/sql/72_runs.sql: the run state "cancelling" (cancel() with a step
-- still running): allowed, active (the one-active-run index, _start_run's
-- checks), awaited by wait(), refused by retry()
ALTER TABLE @extschema@.runs DROP CONSTRAINT runs_state_check;
ALTER TABLE @extschema@.runs ADD CONSTRAINT runs_state_check
	CHECK (state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'running', 'cancelling', 'succeeded', 'failed', 'cancelled']));
DROP INDEX @extschema@.runs_one_active;
-- at most one active run per repository and environment (a cancelling
-- run is active: a step of it is still running)
CREATE UNIQUE INDEX runs_one_active ON @extschema@.runs (tenant_id, repository, environment)
	WHERE state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'running', 'cancelling']);

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

CREATE OR REPLACE FUNCTION @extschema@.cancel(run_id bigint) RETURNS text
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

CREATE OR REPLACE FUNCTION @extschema@.retry(run_id bigint) RETURNS bigint
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
	IF NOT @extschema@._gate_open(tid, r.plan_id, g.e) THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = pg_catalog.format('plan %s is no longer approved for %s', r.plan_id, r.environment);
	END IF;
	RETURN @extschema@._start_run(tid, r.plan_id, g.e, r.repository, r.run_id);
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.wait(run_id bigint, timeout interval DEFAULT '5 min') RETURNS text
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

-- src/sql/73_queue.sql: claim_step cancels the expired steps of a
-- cancelling run instead of claiming them; complete_step ends a cancelling
-- run (cancelled) with its last running step, and scrubs the hint of an
-- error message as prose
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

-- src/sql/75_executor.sql
COMMENT ON FUNCTION @extschema@._execute_step(bigint, text, text) IS
	'run a step this worker claimed and record it (workers): postgres runs it here as the environment''s run_as role and returns the rows written; databricks hands it to the dispatcher and returns 0';

-- src/sql/76_remote.sql
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

-- src/sql/77_dispatcher.sql
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
