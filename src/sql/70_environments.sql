-- Environments: where and how plans run, and the role model SQL runs as
-- (docs/runs.md).

-- Where and how plans run. A new tenant gets dev and prod.
CREATE TABLE @extschema@.environments (
	tenant_id	uuid NOT NULL REFERENCES @extschema@.tenants (tenant_id) ON DELETE CASCADE,
	name		@extschema@.slug NOT NULL,
	executor	text NOT NULL DEFAULT 'postgres'
				CONSTRAINT environments_executor_check
				CHECK (executor OPERATOR(pg_catalog.=) ANY (ARRAY['postgres', 'databricks'])),
	auto_approve boolean NOT NULL DEFAULT false,
	approvals_required int NOT NULL DEFAULT 1
		CHECK (approvals_required OPERATOR(pg_catalog.>=) 0 AND approvals_required OPERATOR(pg_catalog.<=) 10),
	approver_must_differ boolean NOT NULL DEFAULT true,
	schema_prefix text NOT NULL DEFAULT '' CHECK (schema_prefix OPERATOR(pg_catalog.~) '^([a-z_][a-z0-9_]{0,29})?$'),
	run_as		name,
	-- the role ironlayer made for the environment (docs/security.md)
	default_run_as name,
	-- bounds of each statement of model SQL
	statement_timeout interval NOT NULL DEFAULT '1 hour'
		CHECK (statement_timeout OPERATOR(pg_catalog.>=) '1 ms' AND statement_timeout OPERATOR(pg_catalog.<=) '7 days'),
	lock_timeout interval NOT NULL DEFAULT '1 min'
		CHECK (lock_timeout OPERATOR(pg_catalog.>=) '1 ms' AND lock_timeout OPERATOR(pg_catalog.<=) '7 days'),
	-- the most steps of the environment's runs that run at once (NULL: no cap)
	max_running_steps int CHECK (max_running_steps OPERATOR(pg_catalog.>=) 1),
	settings	jsonb NOT NULL DEFAULT '{}',
	updated_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	updated_by	name NOT NULL,
	-- executor databricks: where and how (normalized by _databricks_settings;
	-- docs/databricks.md), NULL for postgres
	databricks	jsonb,
	-- what an incremental or merge step does when its query gained or lost
	-- columns against the table (docs/runs.md, as dbt's on_schema_change)
	on_schema_change text NOT NULL DEFAULT 'fail'
		CHECK (on_schema_change OPERATOR(pg_catalog.=) ANY (ARRAY['fail', 'append_new_columns', 'sync_all_columns'])),
	-- whether apply and retry refuse a plan whose base is not the deployed
	-- commit (docs/runs.md, "Stale plans")
	refuse_stale_plans boolean NOT NULL DEFAULT true,
	PRIMARY KEY (tenant_id, name),
	CONSTRAINT environments_databricks_check
		CHECK ((executor OPERATOR(pg_catalog.=) 'databricks') OPERATOR(pg_catalog.=) (databricks IS NOT NULL))
);
COMMENT ON TABLE @extschema@.environments IS
	'where plans of a tenant run: executor, approval rules, stale plans, schema prefix, the role model SQL runs as and its bounds';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.environments', '');
SELECT @extschema@._isolate_tenant_table('@extschema@.environments');
GRANT SELECT ON @extschema@.environments TO ironlayer_viewer;

-- A role that may run model SQL: it exists, is no superuser, has no
-- attribute and no predefined role that reaches past its own grants (every
-- tenant's rows, other roles, files, other backends), and is none of the
-- roles shared by every tenant (schemas it owns would be theirs too).
CREATE FUNCTION @extschema@._check_run_as(r name) RETURNS void
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	a pg_catalog.pg_roles;
	p text;
BEGIN
	IF r IS NULL THEN
		RETURN;
	END IF;
	SELECT * INTO a FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) r;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'undefined_object',
			MESSAGE = pg_catalog.format('role "%s" does not exist', r);
	END IF;
	IF a.rolsuper THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = pg_catalog.format('run_as role "%s" is a superuser', r),
			DETAIL = 'Model SQL never runs with superuser rights.',
			HINT = 'Create a role that owns the target schemas and give it only the rights the models need.';
	END IF;
	IF a.rolbypassrls OR a.rolcreaterole OR a.rolreplication THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = pg_catalog.format('run_as role "%s" has the attribute %s', r,
				CASE WHEN a.rolbypassrls THEN 'BYPASSRLS' WHEN a.rolcreaterole THEN 'CREATEROLE' ELSE 'REPLICATION' END),
			DETAIL = 'Model SQL never runs with rights over other tenants'' rows or over roles.',
			HINT = 'Use the environment''s own role, or a role with only the rights the models need.';
	END IF;
	IF r OPERATOR(pg_catalog.~) '^pg_'
	   OR r OPERATOR(pg_catalog.=) ANY (ARRAY['ironlayer_viewer', 'ironlayer_engineer', 'ironlayer_admin', 'ironlayer_worker']) THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = pg_catalog.format('run_as role "%s" is shared by every tenant', r),
			DETAIL = 'The schemas model SQL makes belong to run_as: they would belong to every member of this role.',
			HINT = 'Use the environment''s own role, or a role only this tenant''s people are members of.';
	END IF;
	FOREACH p IN ARRAY ARRAY['pg_read_all_data', 'pg_write_all_data', 'pg_read_server_files', 'pg_write_server_files',
							 'pg_execute_server_program', 'pg_signal_backend', 'ironlayer_worker'] LOOP
		IF pg_catalog.pg_has_role(r, p, 'MEMBER') THEN
			RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
				MESSAGE = pg_catalog.format('run_as role "%s" is a member of %s', r, p),
				DETAIL = 'Model SQL never runs with rights over every tenant''s data, the server''s files or other sessions.',
				HINT = 'Use the environment''s own role, or a role with only the rights the models need.';
		END IF;
	END LOOP;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._check_run_as(name) FROM PUBLIC;

-- Does a schema prefix overlap the schemas of a tenant other than tid (its
-- stem, or a prefix of one of its environments)? Two prefixes overlap when
-- one starts with the other: both could name one schema. (internal)
CREATE FUNCTION @extschema@._schema_prefix_taken(tid uuid, prefix text) RETURNS boolean
	LANGUAGE sql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	RETURN EXISTS (SELECT FROM @extschema@.tenants t
					WHERE t.tenant_id IS DISTINCT FROM tid
					  AND (pg_catalog.starts_with(t.schema_stem, prefix) OR pg_catalog.starts_with(prefix, t.schema_stem)))
		OR EXISTS (SELECT FROM @extschema@.environments e
					WHERE e.tenant_id IS DISTINCT FROM tid
					  AND (pg_catalog.starts_with(e.schema_prefix, prefix) OR pg_catalog.starts_with(prefix, e.schema_prefix)));
REVOKE ALL ON FUNCTION @extschema@._schema_prefix_taken(uuid, text) FROM PUBLIC;

-- The role model SQL of a new environment runs as: made for it, without
-- login, member of nothing and with no rights of its own; the DBA grants it
-- what its models read. Named ironlayer_<tenant>_<environment> ("-" as
-- "_") when that name is free and fits, else with a random suffix (a role
-- someone made in advance under the name is never used). (internal)
CREATE FUNCTION @extschema@._make_environment_role(tenant text, env text) RETURNS name
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	stem text := pg_catalog.replace(tenant OPERATOR(pg_catalog.||) '_' OPERATOR(pg_catalog.||) env, '-', '_');
	r text := 'ironlayer_' OPERATOR(pg_catalog.||) stem;
BEGIN
	WHILE pg_catalog.octet_length(r) OPERATOR(pg_catalog.>) 63
		  OR EXISTS (SELECT FROM pg_catalog.pg_roles x WHERE x.rolname OPERATOR(pg_catalog.=) r) LOOP
		r := 'ironlayer_' OPERATOR(pg_catalog.||) pg_catalog.left(stem, 40)
			 OPERATOR(pg_catalog.||) '_' OPERATOR(pg_catalog.||) pg_catalog.left(pg_catalog.md5(pg_catalog.gen_random_uuid()::text), 8);
	END LOOP;
	EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
	EXECUTE pg_catalog.format('COMMENT ON ROLE %I IS %L', r,
		pg_catalog.format('ironlayer: model SQL of environment %s of tenant %s', env, tenant));
	RETURN r;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._make_environment_role(text, text) FROM PUBLIC;

-- dev and prod for every new tenant, each with a role of its own for model
-- SQL and a schema prefix under the tenant's stem.
CREATE FUNCTION @extschema@._default_environments() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	dev name := @extschema@._make_environment_role(NEW.name, 'dev');
	prod name := @extschema@._make_environment_role(NEW.name, 'prod');
BEGIN
	INSERT INTO @extschema@.environments
		(tenant_id, name, auto_approve, approvals_required, approver_must_differ, schema_prefix,
		 run_as, default_run_as, updated_by, refuse_stale_plans)
	VALUES (NEW.tenant_id, 'dev', true, 0, false, NEW.schema_stem OPERATOR(pg_catalog.||) 'dev_', dev, dev, NEW.created_by, false),
		   (NEW.tenant_id, 'prod', false, 1, true, NEW.schema_stem, prod, prod, NEW.created_by, true);
	RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._default_environments() FROM PUBLIC;
CREATE TRIGGER tenants_default_environments AFTER INSERT ON @extschema@.tenants
	FOR EACH ROW EXECUTE FUNCTION @extschema@._default_environments();

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

CREATE FUNCTION @extschema@.set_environment(name text, settings jsonb) RETURNS void
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
	valid constant text := 'approvals_required, approver_must_differ, auto_approve, databricks, executor, lock_timeout, max_running_steps, on_schema_change, refuse_stale_plans, run_as, schema_prefix, settings, statement_timeout';
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
		e.refuse_stale_plans := true;
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
		WHEN 'auto_approve', 'approver_must_differ', 'refuse_stale_plans' THEN
			IF pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.<>) 'boolean' THEN
				RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
					MESSAGE = pg_catalog.format('invalid %s %s: give true or false', k, pg_catalog.left(v::text, 100));
			END IF;
			IF k OPERATOR(pg_catalog.=) 'auto_approve' THEN
				e.auto_approve := v::text::boolean;
			ELSIF k OPERATOR(pg_catalog.=) 'approver_must_differ' THEN
				e.approver_must_differ := v::text::boolean;
			ELSE
				e.refuse_stale_plans := v::text::boolean;
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
		 databricks, on_schema_change, refuse_stale_plans)
	VALUES (tid, e.name, e.executor, e.auto_approve, e.approvals_required, e.approver_must_differ,
			e.schema_prefix, e.run_as, e.default_run_as, e.statement_timeout, e.lock_timeout, e.max_running_steps,
			e.settings, caller,
			e.databricks, e.on_schema_change, e.refuse_stale_plans)
	ON CONFLICT ON CONSTRAINT environments_pkey DO UPDATE
		SET executor = EXCLUDED.executor, auto_approve = EXCLUDED.auto_approve,
			approvals_required = EXCLUDED.approvals_required,
			approver_must_differ = EXCLUDED.approver_must_differ,
			schema_prefix = EXCLUDED.schema_prefix, run_as = EXCLUDED.run_as,
			default_run_as = EXCLUDED.default_run_as,
			statement_timeout = EXCLUDED.statement_timeout, lock_timeout = EXCLUDED.lock_timeout,
			max_running_steps = EXCLUDED.max_running_steps,
			settings = EXCLUDED.settings, updated_at = pg_catalog.now(), updated_by = EXCLUDED.updated_by,
			databricks = EXCLUDED.databricks, on_schema_change = EXCLUDED.on_schema_change,
			refuse_stale_plans = EXCLUDED.refuse_stale_plans;
	PERFORM @extschema@._audit(tid, 'environment.set', 'environment', e.name, set_environment.settings);
END
$$;
COMMENT ON FUNCTION @extschema@.set_environment(text, jsonb) IS
	'create or change an environment of the bound tenant (tenant admins); unknown keys and bad values are errors';
