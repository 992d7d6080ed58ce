-- Environments, the approval gate, runs and their steps (docs/runs.md).

-- Where and how plans run. A new tenant gets dev and prod.
CREATE TABLE @extschema@.environments (
	tenant_id	uuid NOT NULL REFERENCES @extschema@.tenants (tenant_id) ON DELETE CASCADE,
	name		text NOT NULL CHECK (name OPERATOR(pg_catalog.~) '^[a-z][a-z0-9_-]{0,62}$'),
	executor	text NOT NULL DEFAULT 'postgres' CHECK (executor OPERATOR(pg_catalog.=) 'postgres'),
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
	PRIMARY KEY (tenant_id, name)
);
COMMENT ON TABLE @extschema@.environments IS
	'where plans of a tenant run: executor, approval rules, schema prefix, the role model SQL runs as and its bounds';
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
		 run_as, default_run_as, updated_by)
	VALUES (NEW.tenant_id, 'dev', true, 0, false, NEW.schema_stem OPERATOR(pg_catalog.||) 'dev_', dev, dev, NEW.created_by),
		   (NEW.tenant_id, 'prod', false, 1, true, NEW.schema_stem, prod, prod, NEW.created_by);
	RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._default_environments() FROM PUBLIC;
CREATE TRIGGER tenants_default_environments AFTER INSERT ON @extschema@.tenants
	FOR EACH ROW EXECUTE FUNCTION @extschema@._default_environments();

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
	valid constant text := 'approvals_required, approver_must_differ, auto_approve, executor, lock_timeout, max_running_steps, run_as, schema_prefix, settings, statement_timeout';
BEGIN
	IF set_environment.name IS NULL OR set_environment.settings IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'name and settings must not be null';
	END IF;
	PERFORM @extschema@._check_size('the environment name', set_environment.name, 63);
	PERFORM @extschema@._check_size('the settings object', set_environment.settings, 65536);
	IF set_environment.name OPERATOR(pg_catalog.!~) '^[a-z][a-z0-9_-]{0,62}$' THEN
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
			RAISE EXCEPTION USING ERRCODE = 'program_limit_exceeded',
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
	END IF;
	FOR k, v IN SELECT * FROM pg_catalog.jsonb_each(set_environment.settings) LOOP
		CASE k
		WHEN 'executor' THEN
			IF v OPERATOR(pg_catalog.<>) '"postgres"' THEN
				RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
					MESSAGE = pg_catalog.format('invalid executor %s', pg_catalog.left(v::text, 100)),
					HINT = 'The executor available is "postgres".';
			END IF;
			e.executor := 'postgres';
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
		 settings, updated_by)
	VALUES (tid, e.name, e.executor, e.auto_approve, e.approvals_required, e.approver_must_differ,
			e.schema_prefix, e.run_as, e.default_run_as, e.statement_timeout, e.lock_timeout, e.max_running_steps,
			e.settings, caller)
	ON CONFLICT ON CONSTRAINT environments_pkey DO UPDATE
		SET executor = EXCLUDED.executor, auto_approve = EXCLUDED.auto_approve,
			approvals_required = EXCLUDED.approvals_required,
			approver_must_differ = EXCLUDED.approver_must_differ,
			schema_prefix = EXCLUDED.schema_prefix, run_as = EXCLUDED.run_as,
			default_run_as = EXCLUDED.default_run_as,
			statement_timeout = EXCLUDED.statement_timeout, lock_timeout = EXCLUDED.lock_timeout,
			max_running_steps = EXCLUDED.max_running_steps,
			settings = EXCLUDED.settings, updated_at = pg_catalog.now(), updated_by = EXCLUDED.updated_by;
	PERFORM @extschema@._audit(tid, 'environment.set', 'environment', e.name, set_environment.settings);
END
$$;
COMMENT ON FUNCTION @extschema@.set_environment(text, jsonb) IS
	'create or change an environment of the bound tenant (tenant admins); unknown keys and bad values are errors';

-- The approval gate: one decision per user, plan and environment.
CREATE TABLE @extschema@.plan_approvals (
	tenant_id	uuid NOT NULL REFERENCES @extschema@.tenants (tenant_id) ON DELETE CASCADE,
	plan_id		text NOT NULL,
	environment	text NOT NULL,
	approver	name NOT NULL,
	decision	text NOT NULL CHECK (decision OPERATOR(pg_catalog.=) ANY (ARRAY['approve', 'reject'])),
	comment		text,
	decided_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (tenant_id, plan_id, environment, approver),
	FOREIGN KEY (tenant_id, plan_id) REFERENCES @extschema@.plans (tenant_id, plan_id) ON DELETE CASCADE,
	FOREIGN KEY (tenant_id, environment) REFERENCES @extschema@.environments (tenant_id, name) ON DELETE CASCADE
);
COMMENT ON TABLE @extschema@.plan_approvals IS
	'approvals and rejections of plans per environment; a rejection blocks the plan there for good';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.plan_approvals', '');
SELECT @extschema@._isolate_tenant_table('@extschema@.plan_approvals');
GRANT SELECT ON @extschema@.plan_approvals TO ironlayer_viewer;

-- The plan and environment rows of a decision, locked so that decisions
-- and applies of one plan take turns. Errors when either is unknown.
CREATE FUNCTION @extschema@._gate_rows(tid uuid, pid text, env text,
									   OUT plan_author name, OUT e @extschema@.environments)
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._check_size('plan_id', pid, 64);
	PERFORM @extschema@._check_size('the environment name', env, 63);
	SELECT p.created_by INTO plan_author FROM @extschema@.plans p
	 WHERE p.tenant_id OPERATOR(pg_catalog.=) tid AND p.plan_id OPERATOR(pg_catalog.=) pid
	   FOR NO KEY UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'undefined_object',
			MESSAGE = pg_catalog.format('plan %s does not exist', pid),
			HINT = 'ironlayer.plans lists the plans of the bound tenant; ironlayer.plan() makes one.';
	END IF;
	SELECT * INTO e FROM @extschema@.environments x
	 WHERE x.tenant_id OPERATOR(pg_catalog.=) tid AND x.name OPERATOR(pg_catalog.=) env;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'undefined_object',
			MESSAGE = pg_catalog.format('environment "%s" does not exist', env),
			HINT = 'ironlayer.environments lists them; ironlayer.set_environment() makes one.';
	END IF;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._gate_rows(uuid, text, text) FROM PUBLIC;

CREATE FUNCTION @extschema@._decide(pid text, env text, decision text, note text) RETURNS void
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tid uuid := @extschema@._require_tenant_role('engineer', decision OPERATOR(pg_catalog.||) ' plans');
	caller name := @extschema@.acting_role();
	g record;
	prior text;
BEGIN
	IF pid IS NULL OR env IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'plan_id and environment must not be null';
	END IF;
	PERFORM @extschema@._check_size('the comment', note, 8192);
	g := @extschema@._gate_rows(tid, pid, env);
	IF EXISTS (SELECT FROM @extschema@.plan_approvals a
				WHERE a.tenant_id OPERATOR(pg_catalog.=) tid AND a.plan_id OPERATOR(pg_catalog.=) pid
				  AND a.environment OPERATOR(pg_catalog.=) env AND a.decision OPERATOR(pg_catalog.=) 'reject') THEN
		RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = pg_catalog.format('plan %s was rejected in %s', pid, env),
			DETAIL = 'A rejection is final for that plan in that environment.';
	END IF;
	SELECT a.decision INTO prior FROM @extschema@.plan_approvals a
	 WHERE a.tenant_id OPERATOR(pg_catalog.=) tid AND a.plan_id OPERATOR(pg_catalog.=) pid
	   AND a.environment OPERATOR(pg_catalog.=) env AND a.approver OPERATOR(pg_catalog.=) caller;
	IF prior IS NOT NULL AND decision OPERATOR(pg_catalog.=) 'approve' THEN
		RAISE EXCEPTION USING ERRCODE = 'unique_violation',
			MESSAGE = pg_catalog.format('%s already approved plan %s in %s', caller, pid, env);
	END IF;
	IF decision OPERATOR(pg_catalog.=) 'approve' AND (g.e).approver_must_differ
	   AND caller OPERATOR(pg_catalog.=) g.plan_author THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = pg_catalog.format('the author of plan %s cannot approve it in %s', pid, env),
			HINT = 'Another engineer or admin of the tenant must approve it.';
	END IF;
	INSERT INTO @extschema@.plan_approvals AS a (tenant_id, plan_id, environment, approver, decision, comment)
	VALUES (tid, pid, env, caller, decision, note)
	ON CONFLICT ON CONSTRAINT plan_approvals_pkey DO UPDATE
		SET decision = EXCLUDED.decision, comment = EXCLUDED.comment, decided_at = pg_catalog.now();
	PERFORM @extschema@._audit(tid, 'plan.' OPERATOR(pg_catalog.||) decision, 'plan', pid,
							   pg_catalog.jsonb_build_object('environment', env, 'comment', note));
END
$$;
REVOKE ALL ON FUNCTION @extschema@._decide(text, text, text, text) FROM PUBLIC;

CREATE FUNCTION @extschema@.approve(plan_id text, environment text, comment text DEFAULT NULL) RETURNS void
	LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	BEGIN ATOMIC
		SELECT @extschema@._decide(plan_id, environment, 'approve', comment);
	END;
COMMENT ON FUNCTION @extschema@.approve(text, text, text) IS
	'approve a stored plan for an environment (engineers and admins; one approval per user)';

CREATE FUNCTION @extschema@.reject(plan_id text, environment text, reason text) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._check_size('the reason', reason, 8192);
	IF reason IS NULL OR pg_catalog.btrim(reason) OPERATOR(pg_catalog.=) '' THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'a rejection needs a reason';
	END IF;
	PERFORM @extschema@._decide(plan_id, environment, 'reject', reason);
END
$$;
COMMENT ON FUNCTION @extschema@.reject(text, text, text) IS
	'reject a stored plan in an environment for good (engineers and admins)';

-- Runs: one per apply of a plan in an environment, one step row per plan step.
CREATE TABLE @extschema@.runs (
	tenant_id	uuid NOT NULL REFERENCES @extschema@.tenants (tenant_id) ON DELETE CASCADE,
	run_id		bigint GENERATED ALWAYS AS IDENTITY,
	plan_id		text NOT NULL,
	environment	text NOT NULL,
	repository	text NOT NULL,
	state		text NOT NULL DEFAULT 'pending'
		CHECK (state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'running', 'succeeded', 'failed', 'cancelled'])),
	retry_of	bigint,
	created_by	name NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	started_at	timestamptz,
	finished_at	timestamptz,
	PRIMARY KEY (tenant_id, run_id),
	FOREIGN KEY (tenant_id, plan_id) REFERENCES @extschema@.plans (tenant_id, plan_id),
	FOREIGN KEY (tenant_id, environment) REFERENCES @extschema@.environments (tenant_id, name)
);
COMMENT ON TABLE @extschema@.runs IS 'applies of plans: one run per apply, its state';
-- at most one active run per repository and environment
CREATE UNIQUE INDEX runs_one_active ON @extschema@.runs (tenant_id, repository, environment)
	WHERE state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'running']);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.runs', '');
SELECT @extschema@._isolate_tenant_table('@extschema@.runs');
GRANT SELECT ON @extschema@.runs TO ironlayer_viewer;

CREATE TABLE @extschema@.run_steps (
	tenant_id	uuid NOT NULL,
	run_id		bigint NOT NULL,
	step_id		text NOT NULL,
	step_index	int NOT NULL,
	model		text NOT NULL,
	kind		text NOT NULL,
	materialization text NOT NULL,
	run_type	text NOT NULL,
	start_date	date,
	end_date	date,
	parallel_group int NOT NULL,
	depends_on	text[] NOT NULL,
	-- the steps of this run that depend on this one, and how many of this
	-- step's upstream steps have not succeeded yet: a step is ready when
	-- pending with none waiting (kept by complete_step)
	dependents	text[] NOT NULL DEFAULT '{}',
	waiting		int NOT NULL DEFAULT 0,
	state		text NOT NULL DEFAULT 'pending'
		CHECK (state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'running', 'succeeded', 'failed', 'skipped', 'cancelled'])),
	attempts	int NOT NULL DEFAULT 0,
	lease_owner	text,
	lease_until	timestamptz,
	started_at	timestamptz,
	finished_at	timestamptz,
	duration	interval GENERATED ALWAYS AS (finished_at OPERATOR(pg_catalog.-) started_at) STORED,
	-- telemetry (scrubbed before storage)
	executor	text,
	rows_affected bigint,
	statement_sha256 text,
	error_class	text,
	error_message text,
	PRIMARY KEY (tenant_id, run_id, step_id),
	FOREIGN KEY (tenant_id, run_id) REFERENCES @extschema@.runs (tenant_id, run_id) ON DELETE CASCADE
);
COMMENT ON TABLE @extschema@.run_steps IS
	'the steps of runs: state, attempts, lease, timings and scrubbed telemetry';
CREATE INDEX runs_by_id ON @extschema@.runs (run_id);
CREATE INDEX run_steps_by_run ON @extschema@.run_steps (run_id, step_id);
-- the claim's ordered scan of a run's ready steps, and of expired leases
CREATE INDEX run_steps_ready ON @extschema@.run_steps (run_id, parallel_group, step_index)
	WHERE state OPERATOR(pg_catalog.=) 'pending' AND waiting OPERATOR(pg_catalog.=) 0;
CREATE INDEX run_steps_leases ON @extschema@.run_steps (lease_until)
	WHERE state OPERATOR(pg_catalog.=) 'running';
CREATE INDEX run_steps_runnable ON @extschema@.run_steps (tenant_id, run_id, state)
	WHERE state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'running']);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.run_steps', '');
SELECT @extschema@._isolate_tenant_table('@extschema@.run_steps');
GRANT SELECT ON @extschema@.run_steps TO ironlayer_viewer;

CREATE VIEW @extschema@.run_summary WITH (security_invoker = true) AS
SELECT r.tenant_id, r.run_id, r.plan_id, r.environment, r.repository, r.state, r.retry_of,
	   r.created_by, r.created_at, r.started_at, r.finished_at,
	   r.finished_at OPERATOR(pg_catalog.-) r.started_at AS duration,
	   count(s.step_id) AS steps,
	   count(s.step_id) FILTER (WHERE s.state OPERATOR(pg_catalog.=) 'succeeded') AS succeeded,
	   count(s.step_id) FILTER (WHERE s.state OPERATOR(pg_catalog.=) 'failed') AS failed,
	   count(s.step_id) FILTER (WHERE s.state OPERATOR(pg_catalog.=) 'skipped') AS skipped,
	   count(s.step_id) FILTER (WHERE s.state OPERATOR(pg_catalog.=) 'cancelled') AS cancelled,
	   count(s.step_id) FILTER (WHERE s.state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'running'])) AS unfinished,
	   sum(s.rows_affected) AS rows_affected,
	   sum(s.attempts) AS attempts
  FROM @extschema@.runs r
  LEFT JOIN @extschema@.run_steps s USING (tenant_id, run_id)
 GROUP BY r.tenant_id, r.run_id;
COMMENT ON VIEW @extschema@.run_summary IS 'one row per run: its state, timing and step counts';
GRANT SELECT ON @extschema@.run_summary TO ironlayer_viewer;

-- Wakes the background workers when the calling transaction commits
-- (src/pg/worker.c); harmless without them.
CREATE FUNCTION @extschema@._wake_workers() RETURNS void
	LANGUAGE C VOLATILE AS 'MODULE_PATHNAME', 'ironlayer_wake_workers';
REVOKE ALL ON FUNCTION @extschema@._wake_workers() FROM PUBLIC;

-- Scrubs text of personal data and secrets before it is stored (src/core/il_scrub.c).
CREATE FUNCTION @extschema@._scrub(t text, is_sql boolean DEFAULT false) RETURNS text
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'ironlayer_scrub';
REVOKE ALL ON FUNCTION @extschema@._scrub(text, boolean) FROM PUBLIC;

-- The gate: auto-approval or enough approvals, and no rejection.
CREATE FUNCTION @extschema@._gate_open(tid uuid, pid text, e @extschema@.environments) RETURNS boolean
	LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
	SELECT NOT EXISTS (SELECT FROM @extschema@.plan_approvals a
						WHERE a.tenant_id OPERATOR(pg_catalog.=) tid AND a.plan_id OPERATOR(pg_catalog.=) pid
						  AND a.environment OPERATOR(pg_catalog.=) e.name AND a.decision OPERATOR(pg_catalog.=) 'reject')
	   AND (e.auto_approve
			OR (SELECT count(*) FROM @extschema@.plan_approvals a
				 WHERE a.tenant_id OPERATOR(pg_catalog.=) tid AND a.plan_id OPERATOR(pg_catalog.=) pid
				   AND a.environment OPERATOR(pg_catalog.=) e.name AND a.decision OPERATOR(pg_catalog.=) 'approve')
			   OPERATOR(pg_catalog.>=) e.approvals_required)
$$;
REVOKE ALL ON FUNCTION @extschema@._gate_open(uuid, text, @extschema@.environments) FROM PUBLIC;

-- A new run of the given steps of a plan (all of them, or those of a run
-- that did not succeed); the caller holds the plan's row.
CREATE FUNCTION @extschema@._start_run(tid uuid, pid text, e @extschema@.environments, repo text,
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
	   AND r.state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'running']);
	IF active IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'object_in_use',
			MESSAGE = pg_catalog.format('run %s of repository "%s" in %s is still active', active, repo, e.name),
			HINT = 'Wait for it (ironlayer.wait) or cancel it (ironlayer.cancel).';
	END IF;
	-- every claim looks at the active runs: a bounded number per tenant
	IF (SELECT pg_catalog.count(*) FROM @extschema@.runs r
		 WHERE r.tenant_id OPERATOR(pg_catalog.=) tid
		   AND r.state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'running'])) OPERATOR(pg_catalog.>=) 100 THEN
		RAISE EXCEPTION USING ERRCODE = 'program_limit_exceeded',
			MESSAGE = 'a tenant has at most 100 active runs',
			HINT = 'Wait for runs to finish (ironlayer.wait), or cancel some (ironlayer.cancel).';
	END IF;
	INSERT INTO @extschema@.runs (tenant_id, plan_id, environment, repository, retry_of, created_by)
	VALUES (tid, pid, e.name, repo, prior, caller)
	RETURNING run_id INTO rid;
	IF prior IS NULL THEN
		INSERT INTO @extschema@.run_steps (tenant_id, run_id, step_id, step_index, model, kind, materialization,
										   run_type, start_date, end_date, parallel_group, depends_on)
		SELECT tid, rid, s.step_id, s.step_index, s.model, s.kind, s.materialization, s.run_type,
			   s.start_date, s.end_date, s.parallel_group, s.depends_on
		  FROM @extschema@.plan_steps s
		 WHERE s.tenant_id OPERATOR(pg_catalog.=) tid AND s.plan_id OPERATOR(pg_catalog.=) pid;
	ELSE
		-- the steps of the prior run that did not succeed
		INSERT INTO @extschema@.run_steps (tenant_id, run_id, step_id, step_index, model, kind, materialization,
										   run_type, start_date, end_date, parallel_group, depends_on)
		SELECT tid, rid, p.step_id, p.step_index, p.model, p.kind, p.materialization, p.run_type,
			   p.start_date, p.end_date, p.parallel_group, p.depends_on
		  FROM @extschema@.run_steps p
		 WHERE p.tenant_id OPERATOR(pg_catalog.=) tid AND p.run_id OPERATOR(pg_catalog.=) prior
		   AND p.state OPERATOR(pg_catalog.<>) 'succeeded';
		-- upstream steps that succeeded before are satisfied already
		UPDATE @extschema@.run_steps s
		   SET depends_on = ARRAY(SELECT d FROM pg_catalog.unnest(s.depends_on) d
								   WHERE d OPERATOR(pg_catalog.=) ANY (ARRAY(
										SELECT x.step_id FROM @extschema@.run_steps x
										 WHERE x.tenant_id OPERATOR(pg_catalog.=) tid
										   AND x.run_id OPERATOR(pg_catalog.=) rid)))
		 WHERE s.tenant_id OPERATOR(pg_catalog.=) tid AND s.run_id OPERATOR(pg_catalog.=) rid;
	END IF;
	-- what each step waits for, and the reverse edges
	UPDATE @extschema@.run_steps s SET waiting = pg_catalog.cardinality(s.depends_on)
	 WHERE s.tenant_id OPERATOR(pg_catalog.=) tid AND s.run_id OPERATOR(pg_catalog.=) rid
	   AND s.depends_on OPERATOR(pg_catalog.<>) '{}';
	UPDATE @extschema@.run_steps s SET dependents = d.ids
	  FROM (SELECT u.step_id, pg_catalog.array_agg(x.step_id ORDER BY x.step_id) AS ids
			  FROM @extschema@.run_steps x
			 CROSS JOIN LATERAL pg_catalog.unnest(x.depends_on) u(step_id)
			 WHERE x.tenant_id OPERATOR(pg_catalog.=) tid AND x.run_id OPERATOR(pg_catalog.=) rid
			 GROUP BY u.step_id) d
	 WHERE s.tenant_id OPERATOR(pg_catalog.=) tid AND s.run_id OPERATOR(pg_catalog.=) rid
	   AND s.step_id OPERATOR(pg_catalog.=) d.step_id;
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
REVOKE ALL ON FUNCTION @extschema@._start_run(uuid, text, @extschema@.environments, text, bigint) FROM PUBLIC;

CREATE FUNCTION @extschema@.apply(plan_id text, environment text) RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tid uuid := @extschema@._require_tenant_role('engineer', 'apply plans');
	g record;
	repo text;
BEGIN
	IF plan_id IS NULL OR environment IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'plan_id and environment must not be null';
	END IF;
	g := @extschema@._gate_rows(tid, plan_id, environment);
	IF NOT @extschema@._gate_open(tid, plan_id, g.e) THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = pg_catalog.format('plan %s is not approved for %s', plan_id, environment),
			DETAIL = pg_catalog.format('%s needs %s approval(s) and no rejection.', environment, (g.e).approvals_required),
			HINT = 'ironlayer.approve(plan_id, environment) records an approval.';
	END IF;
	SELECT p.repository INTO repo FROM @extschema@.plans p
	 WHERE p.tenant_id OPERATOR(pg_catalog.=) tid AND p.plan_id OPERATOR(pg_catalog.=) apply.plan_id;
	RETURN @extschema@._start_run(tid, plan_id, g.e, repo, NULL);
END
$$;
COMMENT ON FUNCTION @extschema@.apply(text, text) IS
	'run an approved plan in an environment: a new run with one step per plan step (engineers and admins)';

-- The run row of the bound tenant, locked; an error when there is none.
CREATE FUNCTION @extschema@._run_row(tid uuid, rid bigint) RETURNS @extschema@.runs
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r @extschema@.runs;
BEGIN
	IF rid IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'run_id must not be null';
	END IF;
	SELECT * INTO r FROM @extschema@.runs x
	 WHERE x.tenant_id OPERATOR(pg_catalog.=) tid AND x.run_id OPERATOR(pg_catalog.=) rid FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'undefined_object', MESSAGE = pg_catalog.format('run %s does not exist', rid);
	END IF;
	RETURN r;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._run_row(uuid, bigint) FROM PUBLIC;

CREATE FUNCTION @extschema@.cancel(run_id bigint) RETURNS text
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tid uuid := @extschema@._require_tenant_role('engineer', 'cancel runs');
	r @extschema@.runs := @extschema@._run_row(tid, cancel.run_id);
BEGIN
	IF r.state OPERATOR(pg_catalog.<>) ALL (ARRAY['pending', 'running']) THEN
		RETURN r.state;
	END IF;
	-- steps not started never start; a running step finishes and is recorded
	UPDATE @extschema@.run_steps s SET state = 'cancelled', finished_at = pg_catalog.now()
	 WHERE s.tenant_id OPERATOR(pg_catalog.=) tid AND s.run_id OPERATOR(pg_catalog.=) r.run_id
	   AND s.state OPERATOR(pg_catalog.=) 'pending';
	UPDATE @extschema@.runs x SET state = 'cancelled', finished_at = pg_catalog.now()
	 WHERE x.tenant_id OPERATOR(pg_catalog.=) tid AND x.run_id OPERATOR(pg_catalog.=) r.run_id;
	PERFORM @extschema@._audit(tid, 'run.cancel', 'run', r.run_id::text, '{}');
	RETURN 'cancelled';
END
$$;
COMMENT ON FUNCTION @extschema@.cancel(bigint) IS
	'cancel a run: its steps not yet started never start (engineers and admins); returns the run''s state';

CREATE FUNCTION @extschema@.retry(run_id bigint) RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tid uuid := @extschema@._require_tenant_role('engineer', 'retry runs');
	r @extschema@.runs := @extschema@._run_row(tid, retry.run_id);
	g record;
BEGIN
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
COMMENT ON FUNCTION @extschema@.retry(bigint) IS
	'a new run of the steps of a failed or cancelled run that did not succeed (engineers and admins)';

-- Whether a row version was written by the calling transaction (src/pg/worker.c).
CREATE FUNCTION @extschema@._written_here(xmin xid) RETURNS boolean
	LANGUAGE C VOLATILE STRICT AS 'MODULE_PATHNAME', 'ironlayer_written_here';
REVOKE ALL ON FUNCTION @extschema@._written_here(xid) FROM PUBLIC;

CREATE FUNCTION @extschema@.wait(run_id bigint, timeout interval DEFAULT '5 min') RETURNS text
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
		IF s OPERATOR(pg_catalog.<>) ALL (ARRAY['pending', 'running']) THEN
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
COMMENT ON FUNCTION @extschema@.wait(bigint, interval) IS
	'wait until a run is final and return its state; an error after the timeout';

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
	-- A running step whose lease expired (its worker died: its transaction
	-- never committed) comes first; one whose workers died three times
	-- (killed, crashed, or ended past the statement_timeout) is not tried
	-- again: it fails.
	LOOP
		SELECT x.tenant_id, x.run_id, x.step_id, x.attempts INTO s
		  FROM @extschema@.run_steps x
		 WHERE x.state OPERATOR(pg_catalog.=) 'running' AND x.lease_until OPERATOR(pg_catalog.<) pg_catalog.now()
		 ORDER BY x.lease_until
		 LIMIT 1
		   FOR UPDATE SKIP LOCKED;
		EXIT WHEN NOT FOUND OR s.attempts OPERATOR(pg_catalog.<) 3;
		UPDATE @extschema@.run_steps x SET lease_owner = worker
		 WHERE x.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND x.run_id OPERATOR(pg_catalog.=) s.run_id
		   AND x.step_id OPERATOR(pg_catalog.=) s.step_id;
		PERFORM @extschema@.complete_step(s.run_id, s.step_id, worker, false, NULL, NULL, NULL, '57P01',
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
	   AND x.step_id OPERATOR(pg_catalog.=) s.step_id;
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
	RETURN QUERY SELECT x.tenant_id, x.run_id, x.step_id, x.attempts FROM @extschema@.run_steps x
	 WHERE x.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND x.run_id OPERATOR(pg_catalog.=) s.run_id
	   AND x.step_id OPERATOR(pg_catalog.=) s.step_id;
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
BEGIN
	PERFORM @extschema@._refuse_in_model_sql('complete steps');
	-- telemetry is cut when stored (scrubbed to 4 kB); what comes in is bounded too
	PERFORM @extschema@._check_size('step_id', complete_step.step_id, 64);
	PERFORM @extschema@._check_size('the worker name', worker, 256);
	PERFORM @extschema@._check_size('executor', complete_step.executor, 64);
	PERFORM @extschema@._check_size('statement_sha256', complete_step.statement_sha256, 64);
	PERFORM @extschema@._check_size('error_class', complete_step.error_class, 64);
	PERFORM @extschema@._check_size('error_message', complete_step.error_message, 65536);
	SELECT * INTO s FROM @extschema@.run_steps x
	 WHERE x.run_id OPERATOR(pg_catalog.=) complete_step.run_id AND x.step_id OPERATOR(pg_catalog.=) complete_step.step_id
	   FOR UPDATE;
	IF NOT FOUND OR s.state OPERATOR(pg_catalog.<>) 'running' OR s.lease_owner IS DISTINCT FROM worker THEN
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
	UPDATE @extschema@.run_steps x
	   SET state = CASE WHEN ok THEN 'succeeded' ELSE 'failed' END,
		   finished_at = pg_catalog.clock_timestamp(), lease_owner = NULL, lease_until = NULL,
		   rows_affected = complete_step.rows_affected, statement_sha256 = complete_step.statement_sha256,
		   executor = complete_step.executor,
		   error_class = @extschema@._scrub(complete_step.error_class),
		   error_message = @extschema@._scrub(complete_step.error_message, true)
	 WHERE x.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND x.run_id OPERATOR(pg_catalog.=) s.run_id
	   AND x.step_id OPERATOR(pg_catalog.=) s.step_id;
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
	IF left_over OPERATOR(pg_catalog.=) 0 THEN
		UPDATE @extschema@.runs r
		   SET state = CASE WHEN failures OPERATOR(pg_catalog.>) 0 THEN 'failed' ELSE 'succeeded' END,
			   finished_at = pg_catalog.now()
		 WHERE r.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND r.run_id OPERATOR(pg_catalog.=) s.run_id
		   AND r.state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'running']);
	END IF;
	PERFORM @extschema@._wake_workers();
	RETURN true;
END
$$;
COMMENT ON FUNCTION @extschema@.complete_step(bigint, text, text, boolean, bigint, text, text, text, text) IS
	'record the outcome of a claimed step (workers); false when the lease was lost';
