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
	settings	jsonb NOT NULL DEFAULT '{}',
	updated_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	updated_by	name NOT NULL,
	PRIMARY KEY (tenant_id, name)
);
COMMENT ON TABLE @extschema@.environments IS
	'where plans of a tenant run: executor, approval rules, schema prefix and the role model SQL runs as';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.environments', '');
SELECT @extschema@._isolate_tenant_table('@extschema@.environments');
GRANT SELECT ON @extschema@.environments TO ironlayer_viewer;

-- A role that may run model SQL: it exists and is not a superuser.
CREATE FUNCTION @extschema@._check_run_as(r name) RETURNS void
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF r IS NULL THEN
		RETURN;
	END IF;
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) r) THEN
		RAISE EXCEPTION USING ERRCODE = 'undefined_object',
			MESSAGE = pg_catalog.format('role "%s" does not exist', r);
	END IF;
	IF @extschema@._is_superuser(r) THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = pg_catalog.format('run_as role "%s" is a superuser', r),
			DETAIL = 'Model SQL never runs with superuser rights.',
			HINT = 'Create a role that owns the target schemas and give it only the rights the models need.';
	END IF;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._check_run_as(name) FROM PUBLIC;

-- dev and prod for every new tenant; model SQL runs as the tenant's
-- creator unless that is a superuser (then run_as stays unset).
CREATE FUNCTION @extschema@._default_environments() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r name := CASE WHEN @extschema@._is_superuser(NEW.created_by) THEN NULL ELSE NEW.created_by END;
BEGIN
	INSERT INTO @extschema@.environments
		(tenant_id, name, auto_approve, approvals_required, approver_must_differ, schema_prefix, run_as, updated_by)
	VALUES (NEW.tenant_id, 'dev', true, 0, false, 'dev_', r, NEW.created_by),
		   (NEW.tenant_id, 'prod', false, 1, true, '', r, NEW.created_by);
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
	k text;
	v jsonb;
	e @extschema@.environments;
	valid constant text := 'approvals_required, approver_must_differ, auto_approve, executor, run_as, schema_prefix, settings';
BEGIN
	IF set_environment.name IS NULL OR set_environment.settings IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'name and settings must not be null';
	END IF;
	IF set_environment.name OPERATOR(pg_catalog.!~) '^[a-z][a-z0-9_-]{0,62}$' THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = pg_catalog.format('invalid environment name "%s"', set_environment.name),
			HINT = 'An environment name is 1 to 63 characters: a lower-case letter, then lower-case letters, digits, "_" or "-".';
	END IF;
	IF pg_catalog.jsonb_typeof(set_environment.settings) OPERATOR(pg_catalog.<>) 'object' THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'settings must be a JSON object', HINT = 'Valid keys: ' OPERATOR(pg_catalog.||) valid || '.';
	END IF;
	SELECT * INTO e FROM @extschema@.environments x
	 WHERE x.tenant_id OPERATOR(pg_catalog.=) tid AND x.name OPERATOR(pg_catalog.=) set_environment.name FOR UPDATE;
	IF NOT FOUND THEN
		e.tenant_id := tid;
		e.name := set_environment.name;
		e.executor := 'postgres';
		e.auto_approve := false;
		e.approvals_required := 1;
		e.approver_must_differ := true;
		e.schema_prefix := '';
		e.run_as := CASE WHEN @extschema@._is_superuser(caller) THEN NULL ELSE caller END;
		e.settings := '{}';
	END IF;
	FOR k, v IN SELECT * FROM pg_catalog.jsonb_each(set_environment.settings) LOOP
		CASE k
		WHEN 'executor' THEN
			IF v OPERATOR(pg_catalog.<>) '"postgres"' THEN
				RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
					MESSAGE = pg_catalog.format('invalid executor %s', v),
					HINT = 'The executor available is "postgres".';
			END IF;
			e.executor := 'postgres';
		WHEN 'auto_approve', 'approver_must_differ' THEN
			IF pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.<>) 'boolean' THEN
				RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
					MESSAGE = pg_catalog.format('invalid %s %s: give true or false', k, v);
			END IF;
			IF k OPERATOR(pg_catalog.=) 'auto_approve' THEN
				e.auto_approve := v::text::boolean;
			ELSE
				e.approver_must_differ := v::text::boolean;
			END IF;
		WHEN 'approvals_required' THEN
			IF pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.<>) 'number'
			   OR v::text OPERATOR(pg_catalog.!~) '^[0-9]{1,2}$' OR v::text::int OPERATOR(pg_catalog.>) 10 THEN
				RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
					MESSAGE = pg_catalog.format('invalid approvals_required %s: give a whole number from 0 to 10', v);
			END IF;
			e.approvals_required := v::text::int;
		WHEN 'schema_prefix' THEN
			IF pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.<>) 'string'
			   OR (v OPERATOR(pg_catalog.#>>) '{}') OPERATOR(pg_catalog.!~) '^([a-z_][a-z0-9_]{0,29})?$' THEN
				RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
					MESSAGE = pg_catalog.format('invalid schema_prefix %s', v),
					HINT = 'A prefix is empty or up to 30 lower-case letters, digits and "_", not starting with a digit.';
			END IF;
			e.schema_prefix := v OPERATOR(pg_catalog.#>>) '{}';
		WHEN 'run_as' THEN
			IF pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.=) 'null' THEN
				e.run_as := NULL;
			ELSIF pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.<>) 'string' THEN
				RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
					MESSAGE = pg_catalog.format('invalid run_as %s: give a role name', v);
			ELSE
				e.run_as := v OPERATOR(pg_catalog.#>>) '{}';
				PERFORM @extschema@._check_run_as(e.run_as);
			END IF;
		WHEN 'settings' THEN
			IF pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.<>) 'object' THEN
				RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
					MESSAGE = pg_catalog.format('invalid settings %s: give a JSON object', v);
			END IF;
			e.settings := v;
		ELSE
			RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
				MESSAGE = pg_catalog.format('unknown environment setting "%s"', k),
				HINT = 'Valid keys: ' OPERATOR(pg_catalog.||) valid || '.';
		END CASE;
	END LOOP;
	INSERT INTO @extschema@.environments AS x
		(tenant_id, name, executor, auto_approve, approvals_required, approver_must_differ,
		 schema_prefix, run_as, settings, updated_by)
	VALUES (tid, e.name, e.executor, e.auto_approve, e.approvals_required, e.approver_must_differ,
			e.schema_prefix, e.run_as, e.settings, caller)
	ON CONFLICT ON CONSTRAINT environments_pkey DO UPDATE
		SET executor = EXCLUDED.executor, auto_approve = EXCLUDED.auto_approve,
			approvals_required = EXCLUDED.approvals_required,
			approver_must_differ = EXCLUDED.approver_must_differ,
			schema_prefix = EXCLUDED.schema_prefix, run_as = EXCLUDED.run_as,
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
	IF reason IS NULL OR pg_catalog.btrim(reason) OPERATOR(pg_catalog.=) '' THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'a rejection needs a reason';
	END IF;
	PERFORM @extschema@._decide(plan_id, environment, 'reject', reason);
END
$$;
COMMENT ON FUNCTION @extschema@.reject(text, text, text) IS
	'reject a stored plan in an environment for good (engineers and admins)';
