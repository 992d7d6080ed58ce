-- ironlayer 0.3.0 -> 0.4.0 upgrade script (ALTER EXTENSION ironlayer UPDATE).
--
-- It turns an install of 0.3.0 into what src/sql/ installs in 0.4.0. Every
-- change to src/sql/ adds its statements here in the same commit, after a
-- line naming the part it changed ("-- src/sql/NN_part.sql"; parts in name
-- order), written as in src/sql/: @extschema@ for the schema,
-- 'MODULE_PATHNAME' for the library, operators qualified. The rules of
-- ironlayer--0.1.0--0.2.0.sql hold here too; test/sql/upgrade.sql compares
-- an install updated along the chain with a fresh one.
\echo Use "ALTER EXTENSION ironlayer UPDATE TO '0.4.0'" to load this file. \quit

-- src/sql/60_plans.sql: plans.kind; plan() takes a NULL base or head (what
-- the environment deployed); plan_refresh() and plan_backfill()
ALTER TABLE @extschema@.plans ADD COLUMN kind text NOT NULL DEFAULT 'change'
	CONSTRAINT plans_kind_check
	CHECK (kind OPERATOR(pg_catalog.=) ANY (ARRAY['change', 'refresh', 'backfill']));
COMMENT ON FUNCTION @extschema@.plan(text, text, text, date, jsonb) IS
	'the deterministic plan of a kind (change from base to head; refresh or backfill at head), stored in ironlayer.plans (engineers and admins); a NULL base or head is what the environment deployed';
CREATE FUNCTION @extschema@._plan_kind_options(kind text, environment text, options jsonb, own jsonb)
	RETURNS jsonb
	LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k text;
	v jsonb;
BEGIN
	IF environment IS NULL OR options IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
			MESSAGE = 'environment and options must not be null';
	END IF;
	PERFORM @extschema@._check_size('the environment name', environment, 63);
	PERFORM @extschema@._check_size('the options object', options, 1048576);
	FOR k, v IN SELECT * FROM pg_catalog.jsonb_each(own) LOOP
		IF pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.=) 'null' THEN
			RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
				MESSAGE = pg_catalog.format('%s must not be null', k);
		END IF;
	END LOOP;
	IF pg_catalog.jsonb_typeof(options) OPERATOR(pg_catalog.<>) 'object' THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'options must be a JSON object';
	END IF;
	FOREACH k IN ARRAY ARRAY['kind', 'environment', 'models', 'start', 'end'] LOOP
		IF options OPERATOR(pg_catalog.?) k THEN
			RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
				MESSAGE = pg_catalog.format('option "%s" is not taken by plan_%s()', k, kind),
				DETAIL = pg_catalog.format('plan_%s() gives the kind, the environment%s as its arguments.', kind,
					CASE kind WHEN 'backfill' THEN ', the models and the dates' ELSE '' END),
				HINT = 'Leave it out of options, or call ironlayer.plan() with all the options.';
		END IF;
	END LOOP;
	RETURN options OPERATOR(pg_catalog.||) own OPERATOR(pg_catalog.||)
		pg_catalog.jsonb_build_object('kind', kind, 'environment', environment);
END
$$;
REVOKE ALL ON FUNCTION @extschema@._plan_kind_options(text, text, jsonb, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._plan_kind_options(text, text, jsonb, jsonb) TO ironlayer_engineer;
CREATE FUNCTION @extschema@._plan_date(what text, d date) RETURNS text
	LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF d IS NULL THEN
		RETURN NULL;
	END IF;
	IF NOT pg_catalog.isfinite(d) OR d OPERATOR(pg_catalog.<) DATE '0001-01-01' OR d OPERATOR(pg_catalog.>) DATE '9999-12-31' THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = pg_catalog.format('%s %s is not a date from 0001-01-01 to 9999-12-31', what, d);
	END IF;
	RETURN pg_catalog.to_char(d, 'YYYY-MM-DD');
END
$$;
REVOKE ALL ON FUNCTION @extschema@._plan_date(text, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._plan_date(text, date) TO ironlayer_engineer;
CREATE FUNCTION @extschema@.plan_refresh(repo text, environment text, as_of date DEFAULT CURRENT_DATE,
										 options jsonb DEFAULT '{}') RETURNS json
	LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
	RETURN @extschema@.plan(repo, NULL, NULL, as_of,
							@extschema@._plan_kind_options('refresh', environment, options, '{}'));
COMMENT ON FUNCTION @extschema@.plan_refresh(text, text, date, jsonb) IS
	'the refresh plan of what an environment deployed: the incremental models whose data is due, and their downstream (engineers and admins)';
REVOKE ALL ON FUNCTION @extschema@.plan_refresh(text, text, date, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.plan_refresh(text, text, date, jsonb) TO ironlayer_engineer;
CREATE FUNCTION @extschema@.plan_backfill(repo text, environment text, models text[], start_date date, end_date date,
										  as_of date DEFAULT CURRENT_DATE, options jsonb DEFAULT '{}') RETURNS json
	LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
	RETURN @extschema@.plan(repo, NULL, NULL, as_of,
							@extschema@._plan_kind_options('backfill', environment, options,
								pg_catalog.jsonb_build_object('models', models,
															  'start', @extschema@._plan_date('start_date', start_date),
															  'end', @extschema@._plan_date('end_date', end_date))));
COMMENT ON FUNCTION @extschema@.plan_backfill(text, text, text[], date, date, date, jsonb) IS
	'the backfill plan of named models over a date range, in batches, at what an environment deployed (engineers and admins)';
REVOKE ALL ON FUNCTION @extschema@.plan_backfill(text, text, text[], date, date, date, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.plan_backfill(text, text, text[], date, date, date, jsonb) TO ironlayer_engineer;

-- src/sql/70_environments.sql: refuse_stale_plans (dev false, prod and new
-- environments true; environments of an earlier version: false in dev)
ALTER TABLE @extschema@.environments ADD COLUMN refuse_stale_plans boolean NOT NULL DEFAULT true;
UPDATE @extschema@.environments SET refuse_stale_plans = false WHERE name OPERATOR(pg_catalog.=) 'dev';
COMMENT ON TABLE @extschema@.environments IS
	'where plans of a tenant run: executor, approval rules, stale plans, schema prefix, the role model SQL runs as and its bounds';
CREATE OR REPLACE FUNCTION @extschema@._default_environments() RETURNS trigger
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

-- src/sql/71_approvals.sql: a plan is decided on only in its environment;
-- who rejected a plan and why; withdraw_rejection()
COMMENT ON TABLE @extschema@.plan_approvals IS
	'approvals and rejections of plans per environment; a rejection blocks the plan there until it is withdrawn';
CREATE OR REPLACE FUNCTION @extschema@._gate_rows(tid uuid, pid text, env text,
									   OUT plan_author name, OUT e @extschema@.environments)
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	plan_env text;
BEGIN
	PERFORM @extschema@._check_size('plan_id', pid, 64);
	PERFORM @extschema@._check_size('the environment name', env, 63);
	SELECT p.created_by, p.environment INTO plan_author, plan_env FROM @extschema@.plans p
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
	IF plan_env OPERATOR(pg_catalog.<>) env THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = pg_catalog.format('plan %s was made for environment "%s", not "%s"', pid, plan_env, env),
			DETAIL = 'A plan runs only in the environment it was planned for: its ranges come from that environment''s watermarks.',
			HINT = pg_catalog.format('Plan again with the option {"environment": "%s"}.', env);
	END IF;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._gate_rows(uuid, text, text) FROM PUBLIC;
CREATE FUNCTION @extschema@._rejection(tid uuid, pid text, env text,
									   OUT rejected_by name, OUT reason text, OUT rejected_at timestamptz)
	LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT a.approver, a.comment, a.decided_at FROM @extschema@.plan_approvals a
	 WHERE a.tenant_id OPERATOR(pg_catalog.=) tid AND a.plan_id OPERATOR(pg_catalog.=) pid
	   AND a.environment OPERATOR(pg_catalog.=) env AND a.decision OPERATOR(pg_catalog.=) 'reject'
	 ORDER BY a.decided_at LIMIT 1;
END;
REVOKE ALL ON FUNCTION @extschema@._rejection(uuid, text, text) FROM PUBLIC;
CREATE FUNCTION @extschema@._refuse_rejected(tid uuid, pid text, env text) RETURNS void
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
BEGIN
	SELECT * INTO r FROM @extschema@._rejection(tid, pid, env);
	IF r.rejected_by IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = pg_catalog.format('plan %s was rejected in %s by %s: %s', pid, env, r.rejected_by,
										pg_catalog.left(r.reason, 1000)),
			DETAIL = pg_catalog.format('Rejected at %s. A rejected plan does not run there.', r.rejected_at),
			HINT = pg_catalog.format('%s or a tenant admin may withdraw the rejection with ironlayer.withdraw_rejection(plan_id, environment, reason); or make another plan.',
									 r.rejected_by);
	END IF;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._refuse_rejected(uuid, text, text) FROM PUBLIC;
CREATE OR REPLACE FUNCTION @extschema@._decide(pid text, env text, decision text, note text) RETURNS void
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
			DETAIL = 'A rejection stands for that plan in that environment until it is withdrawn.',
			HINT = 'The one who rejected it or a tenant admin may withdraw it: ironlayer.withdraw_rejection(plan_id, environment, reason).';
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
COMMENT ON FUNCTION @extschema@.reject(text, text, text) IS
	'reject a stored plan in an environment until the rejection is withdrawn (engineers and admins)';
CREATE FUNCTION @extschema@.withdraw_rejection(plan_id text, environment text, reason text) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tid uuid := @extschema@._require_tenant_role('engineer', 'withdraw rejections');
	caller name := @extschema@.acting_role();
	g record;
	r record;
BEGIN
	IF plan_id IS NULL OR environment IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'plan_id and environment must not be null';
	END IF;
	PERFORM @extschema@._check_size('the reason', reason, 8192);
	IF reason IS NULL OR pg_catalog.btrim(reason) OPERATOR(pg_catalog.=) '' THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'withdrawing a rejection needs a reason';
	END IF;
	g := @extschema@._gate_rows(tid, withdraw_rejection.plan_id, withdraw_rejection.environment);
	SELECT * INTO r FROM @extschema@._rejection(tid, withdraw_rejection.plan_id, withdraw_rejection.environment);
	IF r.rejected_by IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'undefined_object',
			MESSAGE = pg_catalog.format('plan %s has no rejection in %s', withdraw_rejection.plan_id,
										withdraw_rejection.environment);
	END IF;
	IF caller OPERATOR(pg_catalog.<>) r.rejected_by
	   AND @extschema@.current_tenant_role() IS DISTINCT FROM 'admin' THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = pg_catalog.format('permission denied to withdraw the rejection of plan %s in %s',
										withdraw_rejection.plan_id, withdraw_rejection.environment),
			DETAIL = pg_catalog.format('%s rejected it; only they or a tenant admin may withdraw it.', r.rejected_by);
	END IF;
	DELETE FROM @extschema@.plan_approvals a
	 WHERE a.tenant_id OPERATOR(pg_catalog.=) tid AND a.plan_id OPERATOR(pg_catalog.=) withdraw_rejection.plan_id
	   AND a.environment OPERATOR(pg_catalog.=) withdraw_rejection.environment
	   AND a.decision OPERATOR(pg_catalog.=) 'reject';
	PERFORM @extschema@._audit(tid, 'plan.rejection_withdrawn', 'plan', withdraw_rejection.plan_id,
							   pg_catalog.jsonb_build_object('environment', withdraw_rejection.environment,
															 'rejected_by', r.rejected_by,
															 'rejection_reason', r.reason,
															 'reason', withdraw_rejection.reason));
END
$$;
COMMENT ON FUNCTION @extschema@.withdraw_rejection(text, text, text) IS
	'withdraw the rejection of a plan in an environment, with a reason (the one who rejected it, or a tenant admin)';
REVOKE ALL ON FUNCTION @extschema@.withdraw_rejection(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.withdraw_rejection(text, text, text) TO ironlayer_engineer;

-- src/sql/71_approvals.sql: an approval opens the gate only while its
-- approver is an engineer or admin of the tenant
CREATE OR REPLACE FUNCTION @extschema@._gate_open(tid uuid, pid text, e @extschema@.environments) RETURNS boolean
	LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
	SELECT NOT EXISTS (SELECT FROM @extschema@.plan_approvals a
						WHERE a.tenant_id OPERATOR(pg_catalog.=) tid AND a.plan_id OPERATOR(pg_catalog.=) pid
						  AND a.environment OPERATOR(pg_catalog.=) e.name AND a.decision OPERATOR(pg_catalog.=) 'reject')
	   AND (e.auto_approve
			OR (SELECT count(*) FROM @extschema@.plan_approvals a
				 JOIN @extschema@.members m ON m.tenant_id OPERATOR(pg_catalog.=) a.tenant_id
										   AND m.member OPERATOR(pg_catalog.=) a.approver
										   AND m.tenant_role OPERATOR(pg_catalog.=) ANY (ARRAY['engineer', 'admin'])
				 WHERE a.tenant_id OPERATOR(pg_catalog.=) tid AND a.plan_id OPERATOR(pg_catalog.=) pid
				   AND a.environment OPERATOR(pg_catalog.=) e.name AND a.decision OPERATOR(pg_catalog.=) 'approve')
			   OPERATOR(pg_catalog.>=) e.approvals_required)
$$;

-- src/sql/72_runs.sql: _start_run locks the deployment row and refuses stale
-- plans; apply and retry say who rejected a plan
CREATE OR REPLACE FUNCTION @extschema@._start_run(tid uuid, pid text, e @extschema@.environments, repo text,
									   prior bigint) RETURNS bigint
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	caller name := @extschema@.acting_role();
	rid bigint;
	active bigint;
	repo_key bigint;
	base text;
	deployed text;
	deployed_run bigint;
	null_id constant text := '0000000000000000000000000000000000000000';
BEGIN
	IF e.run_as IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = pg_catalog.format('environment "%s" has no run_as role', e.name),
			HINT = 'A tenant admin sets one: ironlayer.set_environment(name, ''{"run_as": "role"}'').';
	END IF;
	PERFORM @extschema@._check_run_as(e.run_as);
	SELECT x.repo_id INTO repo_key FROM @extschema@.repos x
	 WHERE x.tenant_id OPERATOR(pg_catalog.=) tid AND x.name OPERATOR(pg_catalog.=) repo;
	IF repo_key IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'undefined_object',
			MESSAGE = pg_catalog.format('repository "%s" of plan %s does not exist', repo, pid),
			HINT = 'ironlayer.repos lists the repositories of the bound tenant; ironlayer.add_repo() registers one.';
	END IF;
	INSERT INTO @extschema@.deployments (tenant_id, repo_id, environment)
	VALUES (tid, repo_key, e.name)
	ON CONFLICT ON CONSTRAINT deployments_pkey DO NOTHING;
	SELECT d.commit, d.run_id INTO deployed, deployed_run FROM @extschema@.deployments d
	 WHERE d.tenant_id OPERATOR(pg_catalog.=) tid AND d.repo_id OPERATOR(pg_catalog.=) repo_key
	   AND d.environment OPERATOR(pg_catalog.=) e.name
	   FOR UPDATE;
	IF e.refuse_stale_plans THEN
		SELECT p.base INTO base FROM @extschema@.plans p
		 WHERE p.tenant_id OPERATOR(pg_catalog.=) tid AND p.plan_id OPERATOR(pg_catalog.=) pid;
		IF base OPERATOR(pg_catalog.<>) COALESCE(deployed, null_id) THEN
			RAISE EXCEPTION USING ERRCODE = 'PT409',
				MESSAGE = pg_catalog.format('plan %s is stale in %s: it starts from commit %s, but %s', pid, e.name,
					base, CASE WHEN deployed IS NULL THEN 'nothing of repository "' OPERATOR(pg_catalog.||) repo
														  OPERATOR(pg_catalog.||) '" is deployed there'
							   ELSE 'the deployed commit is ' OPERATOR(pg_catalog.||) deployed END),
				DETAIL = pg_catalog.format('Environment "%s" refuses plans whose base is not its deployed commit (refuse_stale_plans).', e.name),
				HINT = pg_catalog.format('Plan again from what is deployed: ironlayer.plan(%L, NULL, <head>, as_of, ''{"environment": "%s"}'').',
										 repo, e.name);
		END IF;
		-- a retry runs what its run left undone, in the environment as that
		-- run left it: stale once a later run moved the deployment, even
		-- back to the plan's base (run ids grow, one run active at a time)
		IF prior IS NOT NULL AND deployed_run OPERATOR(pg_catalog.>) prior THEN
			RAISE EXCEPTION USING ERRCODE = 'PT409',
				MESSAGE = pg_catalog.format('run %s is stale in %s: run %s deployed commit %s after it', prior, e.name,
											deployed_run, deployed),
				DETAIL = pg_catalog.format('A retry runs only the steps run %s left undone; environment "%s" refuses it once its deployment moved (refuse_stale_plans).',
										   prior, e.name),
				HINT = pg_catalog.format('Apply the plan again, all its steps: ironlayer.apply(%L, %L).', pid, e.name);
		END IF;
	END IF;
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
REVOKE ALL ON FUNCTION @extschema@._start_run(uuid, text, @extschema@.environments, text, bigint) FROM PUBLIC;
CREATE OR REPLACE FUNCTION @extschema@.apply(plan_id text, environment text) RETURNS bigint
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
	PERFORM @extschema@._refuse_rejected(tid, plan_id, environment);
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
	PERFORM @extschema@._refuse_rejected(tid, r.plan_id, r.environment);
	IF NOT @extschema@._gate_open(tid, r.plan_id, g.e) THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = pg_catalog.format('plan %s is no longer approved for %s', r.plan_id, r.environment);
	END IF;
	RETURN @extschema@._start_run(tid, r.plan_id, g.e, r.repository, r.run_id);
END
$$;
COMMENT ON FUNCTION @extschema@.retry(bigint) IS
	'a new run of the steps of a failed or cancelled run that did not succeed (engineers and admins)';

-- src/sql/78_deployments.sql: deployments, deployed_commits, the
-- compare-and-swap on runs, events
-- The commit of a repository an environment runs: set by the run that
-- deployed it. A row with a NULL commit is a lock target only (_start_run
-- makes it before anything is deployed).
CREATE TABLE @extschema@.deployments (
	tenant_id	uuid NOT NULL REFERENCES @extschema@.tenants (tenant_id) ON DELETE CASCADE,
	repo_id		bigint NOT NULL,
	environment	@extschema@.slug NOT NULL,
	commit		text CHECK (commit OPERATOR(pg_catalog.~) '^[0-9a-f]{40}$'),
	plan_id		text,
	run_id		bigint,
	deployed_at	timestamptz,
	deployed_by	name,
	PRIMARY KEY (tenant_id, repo_id, environment),
	FOREIGN KEY (tenant_id, repo_id) REFERENCES @extschema@.repos (tenant_id, repo_id) ON DELETE CASCADE,
	FOREIGN KEY (tenant_id, environment) REFERENCES @extschema@.environments (tenant_id, name) ON DELETE CASCADE,
	CHECK ((commit IS NULL) OPERATOR(pg_catalog.=) (plan_id IS NULL))
);
COMMENT ON TABLE @extschema@.deployments IS
	'the commit of each repository an environment has deployed, and the plan and run that deployed it (NULL: nothing yet)';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.deployments', '');
SELECT @extschema@._isolate_tenant_table('@extschema@.deployments');
GRANT SELECT ON @extschema@.deployments TO ironlayer_viewer;

CREATE VIEW @extschema@.deployed_commits WITH (security_invoker = true) AS
SELECT d.tenant_id, r.name AS repository, d.environment, d.commit, d.plan_id, d.run_id, d.deployed_at, d.deployed_by
  FROM @extschema@.deployments d
  JOIN @extschema@.repos r ON r.tenant_id OPERATOR(pg_catalog.=) d.tenant_id AND r.repo_id OPERATOR(pg_catalog.=) d.repo_id
 WHERE d.commit IS NOT NULL;
COMMENT ON VIEW @extschema@.deployed_commits IS
	'per repository and environment of the bound tenant, the deployed commit and the plan and run that deployed it';
GRANT SELECT ON @extschema@.deployed_commits TO ironlayer_viewer;

-- The deployed commit of a repository in an environment, or NULL when
-- nothing is deployed there. (internal)
CREATE FUNCTION @extschema@._deployed_commit(tid uuid, rid bigint, env text) RETURNS text
	LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
	RETURN (SELECT d.commit FROM @extschema@.deployments d
			 WHERE d.tenant_id OPERATOR(pg_catalog.=) tid AND d.repo_id OPERATOR(pg_catalog.=) rid
			   AND d.environment OPERATOR(pg_catalog.=) env);
REVOKE ALL ON FUNCTION @extschema@._deployed_commit(uuid, bigint, text) FROM PUBLIC;

-- Compare-and-swap, in the transaction that makes a run succeed: when the
-- run's plan starts from the deployed commit of its repository and
-- environment (git's null id when nothing is deployed) and changes the
-- commit, the environment now runs the plan's target. Otherwise (a stale
-- plan that was allowed, a refresh or backfill plan) nothing moves.
CREATE FUNCTION @extschema@._deployment_swap() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p record;
	rid bigint;
	cur text;
	cur_run bigint;
	first_run bigint;
	null_id constant text := '0000000000000000000000000000000000000000';
BEGIN
	SELECT x.base, x.target INTO p FROM @extschema@.plans x
	 WHERE x.tenant_id OPERATOR(pg_catalog.=) NEW.tenant_id AND x.plan_id OPERATOR(pg_catalog.=) NEW.plan_id;
	IF NOT FOUND OR p.base OPERATOR(pg_catalog.=) p.target THEN
		RETURN NULL;
	END IF;
	SELECT r.repo_id INTO rid FROM @extschema@.repos r
	 WHERE r.tenant_id OPERATOR(pg_catalog.=) NEW.tenant_id AND r.name OPERATOR(pg_catalog.=) NEW.repository;
	IF rid IS NULL THEN
		RETURN NULL;			-- the repository was removed meanwhile
	END IF;
	INSERT INTO @extschema@.deployments (tenant_id, repo_id, environment)
	VALUES (NEW.tenant_id, rid, NEW.environment)
	ON CONFLICT ON CONSTRAINT deployments_pkey DO NOTHING;
	SELECT d.commit, d.run_id INTO cur, cur_run FROM @extschema@.deployments d
	 WHERE d.tenant_id OPERATOR(pg_catalog.=) NEW.tenant_id AND d.repo_id OPERATOR(pg_catalog.=) rid
	   AND d.environment OPERATOR(pg_catalog.=) NEW.environment
	   FOR UPDATE;
	-- a retry finishes the runs before it (retry_of, back to the first):
	-- when another run moved the deployment since the first began, even
	-- back to the plan's base, their steps ran on what is no longer there
	WITH RECURSIVE chain (run_id, retry_of) AS (
		SELECT NEW.run_id, NEW.retry_of
		UNION ALL
		SELECT r.run_id, r.retry_of FROM @extschema@.runs r JOIN chain c
			ON r.tenant_id OPERATOR(pg_catalog.=) NEW.tenant_id AND r.run_id OPERATOR(pg_catalog.=) c.retry_of)
	SELECT pg_catalog.min(c.run_id) INTO first_run FROM chain c;
	IF COALESCE(cur, null_id) OPERATOR(pg_catalog.<>) p.base OR cur_run OPERATOR(pg_catalog.>) first_run THEN
		RETURN NULL;
	END IF;
	UPDATE @extschema@.deployments d
	   SET commit = p.target, plan_id = NEW.plan_id, run_id = NEW.run_id,
		   deployed_at = pg_catalog.now(), deployed_by = NEW.created_by
	 WHERE d.tenant_id OPERATOR(pg_catalog.=) NEW.tenant_id AND d.repo_id OPERATOR(pg_catalog.=) rid
	   AND d.environment OPERATOR(pg_catalog.=) NEW.environment;
	PERFORM @extschema@._audit(NEW.tenant_id, 'deployment.set', 'deployment',
							   NEW.repository OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) NEW.environment,
							   pg_catalog.jsonb_build_object('commit', p.target, 'previous', cur,
															 'plan_id', NEW.plan_id, 'run_id', NEW.run_id,
															 'deployed_by', NEW.created_by));
	RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._deployment_swap() FROM PUBLIC;
CREATE TRIGGER runs_deploy AFTER UPDATE OF state ON @extschema@.runs
	FOR EACH ROW
	WHEN (NEW.state OPERATOR(pg_catalog.=) 'succeeded' AND OLD.state OPERATOR(pg_catalog.<>) 'succeeded')
	EXECUTE FUNCTION @extschema@._deployment_swap();

-- Events. Each tenant has one channel, ironlayer_<tenant id without
-- dashes>; a payload is a JSON object of ids and states, never data.
CREATE FUNCTION @extschema@._events_channel(tid uuid) RETURNS text
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp
	RETURN 'ironlayer_' OPERATOR(pg_catalog.||) pg_catalog.replace(tid::text, '-', '');
REVOKE ALL ON FUNCTION @extschema@._events_channel(uuid) FROM PUBLIC;

CREATE FUNCTION @extschema@.events_channel() RETURNS text
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	RETURN @extschema@._events_channel(@extschema@._require_tenant_role('viewer', 'listen to events'));
COMMENT ON FUNCTION @extschema@.events_channel() IS
	'the NOTIFY channel of the bound tenant''s events (LISTEN to it)';
REVOKE ALL ON FUNCTION @extschema@.events_channel() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.events_channel() TO ironlayer_viewer;

-- Publish an event of tenant tid, sent when the calling transaction
-- commits. Events are hints: none is queued while the server's
-- notification queue is half full or more (a listener that holds a
-- transaction open and never reads keeps it from draining), since the
-- commit of a transaction that queues into a full queue fails (54000),
-- and a stuck listener must never stop plans, applies and runs. (internal)
CREATE FUNCTION @extschema@._notify(tid uuid, payload jsonb) RETURNS void
	LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF pg_catalog.pg_notification_queue_usage() OPERATOR(pg_catalog.<) 0.5 THEN
		PERFORM pg_catalog.pg_notify(@extschema@._events_channel(tid), payload::text);
	END IF;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._notify(uuid, jsonb) FROM PUBLIC;

-- plan.created for every new stored plan, and approval.needed when its
-- environment does not open the gate by itself (no auto-approval, some
-- approvals required).
CREATE FUNCTION @extschema@._plan_events() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._notify(NEW.tenant_id, pg_catalog.jsonb_build_object(
		'event', 'plan.created', 'plan_id', NEW.plan_id, 'repository', NEW.repository,
		'environment', NEW.environment, 'kind', NEW.kind));
	IF EXISTS (SELECT FROM @extschema@.environments e
				WHERE e.tenant_id OPERATOR(pg_catalog.=) NEW.tenant_id AND e.name OPERATOR(pg_catalog.=) NEW.environment
				  AND NOT e.auto_approve AND e.approvals_required OPERATOR(pg_catalog.>) 0) THEN
		PERFORM @extschema@._notify(NEW.tenant_id, pg_catalog.jsonb_build_object(
			'event', 'approval.needed', 'plan_id', NEW.plan_id, 'environment', NEW.environment));
	END IF;
	RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._plan_events() FROM PUBLIC;
CREATE TRIGGER plans_events AFTER INSERT ON @extschema@.plans
	FOR EACH ROW EXECUTE FUNCTION @extschema@._plan_events();

-- run.started when a run is made, run.finished when it becomes succeeded,
-- failed or cancelled.
CREATE FUNCTION @extschema@._run_events() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._notify(NEW.tenant_id, pg_catalog.jsonb_build_object(
		'event', CASE TG_OP WHEN 'INSERT' THEN 'run.started' ELSE 'run.finished' END,
		'run_id', NEW.run_id, 'plan_id', NEW.plan_id, 'environment', NEW.environment, 'state', NEW.state));
	RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._run_events() FROM PUBLIC;
CREATE TRIGGER runs_events_insert AFTER INSERT ON @extschema@.runs
	FOR EACH ROW EXECUTE FUNCTION @extschema@._run_events();
CREATE TRIGGER runs_events_update AFTER UPDATE OF state ON @extschema@.runs
	FOR EACH ROW
	WHEN (NEW.state OPERATOR(pg_catalog.=) ANY (ARRAY['succeeded', 'failed', 'cancelled'])
		  AND OLD.state OPERATOR(pg_catalog.<>) ALL (ARRAY['succeeded', 'failed', 'cancelled']))
	EXECUTE FUNCTION @extschema@._run_events();
-- What an earlier version deployed: per repository and environment, the
-- target of the last run of a change plan that succeeded (no compare-and-swap
-- guarded those runs). Environments that refuse stale plans then take plans
-- from that commit.
INSERT INTO @extschema@.deployments (tenant_id, repo_id, environment, commit, plan_id, run_id, deployed_at, deployed_by)
SELECT DISTINCT ON (r.tenant_id, x.repo_id, r.environment)
	   r.tenant_id, x.repo_id, r.environment, p.target, r.plan_id, r.run_id, r.finished_at, r.created_by
  FROM @extschema@.runs r
  JOIN @extschema@.plans p ON p.tenant_id OPERATOR(pg_catalog.=) r.tenant_id AND p.plan_id OPERATOR(pg_catalog.=) r.plan_id
  JOIN @extschema@.repos x ON x.tenant_id OPERATOR(pg_catalog.=) r.tenant_id AND x.name OPERATOR(pg_catalog.=) r.repository
 WHERE r.state OPERATOR(pg_catalog.=) 'succeeded' AND p.base OPERATOR(pg_catalog.<>) p.target
 ORDER BY r.tenant_id, x.repo_id, r.environment, r.finished_at DESC NULLS LAST, r.run_id DESC;

-- src/sql/79_schedules.sql: schedules through pg_cron (issue 15, part S)
-- Schedules: pg_cron jobs that deploy a branch head or refresh what is due
-- in an environment, the log of their ticks, and the view of both
-- (docs/schedules.md).
--
-- Nothing here depends on pg_cron when the extension is installed, and the
-- install script schedules nothing: schedule() looks pg_cron up when it is
-- called and answers 0A000 without it. A job's command is one
-- schema-qualified call with one integer, "SELECT ironlayer.tick(<id>)";
-- what a tick does ships with the extension. The job runs as the role that
-- owns the extension (a superuser: schedule() is a security-definer
-- function), and tick() acts as the schedule's owner (SET LOCAL ROLE and
-- use_tenant), never with more rights than the owner has in the tenant.

CREATE TABLE @extschema@.schedule_jobs (
	tenant_id	uuid NOT NULL REFERENCES @extschema@.tenants (tenant_id) ON DELETE CASCADE,
	schedule_id	bigint GENERATED ALWAYS AS IDENTITY,
	name		@extschema@.slug NOT NULL,
	cron		text NOT NULL CHECK (pg_catalog.octet_length(cron) OPERATOR(pg_catalog.<=) 100),
	-- normalized by _schedule_spec: repository, environment, action and
	-- the options the action takes, defaults filled in
	spec		jsonb NOT NULL,
	-- the role whose rights the ticks act with: who last set the schedule
	owner		name NOT NULL,
	-- pg_cron's job (cron.job.jobid), named 'ironlayer:<schedule_id>'
	jobid		bigint,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	updated_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (tenant_id, schedule_id),
	UNIQUE (tenant_id, name)
);
-- a tick knows its schedule by id alone
CREATE UNIQUE INDEX schedule_jobs_by_id ON @extschema@.schedule_jobs (schedule_id);
COMMENT ON TABLE @extschema@.schedule_jobs IS
	'schedules of a tenant: a cron schedule, what each tick does (spec), the role it acts as and its pg_cron job';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.schedule_jobs', '');
SELECT @extschema@._isolate_tenant_table('@extschema@.schedule_jobs');
GRANT SELECT ON @extschema@.schedule_jobs TO ironlayer_viewer;

-- ironlayer's own log of ticks: the last 1,000 of each schedule (tick()
-- removes older ones), removed with the schedule.
CREATE TABLE @extschema@.schedule_ticks (
	tenant_id	uuid NOT NULL,
	schedule_id	bigint NOT NULL,
	tick_id		bigint GENERATED ALWAYS AS IDENTITY,
	started_at	timestamptz NOT NULL,
	finished_at	timestamptz NOT NULL,
	outcome		text NOT NULL
		CHECK (outcome OPERATOR(pg_catalog.=) ANY (ARRAY['applied', 'waiting_approval', 'up_to_date', 'nothing_due',
														 'skipped', 'refused', 'failed'])),
	detail		text,
	plan_id		text,
	run_id		bigint,
	-- pg_cron's run of the job (cron.job_run_details.runid) when pg_cron called the tick
	cron_runid	bigint,
	PRIMARY KEY (tenant_id, schedule_id, tick_id),
	FOREIGN KEY (tenant_id, schedule_id) REFERENCES @extschema@.schedule_jobs (tenant_id, schedule_id) ON DELETE CASCADE
);
COMMENT ON TABLE @extschema@.schedule_ticks IS
	'what each tick of a schedule did (outcome, why, the plan and run); the last 1,000 per schedule';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.schedule_ticks', '');
SELECT @extschema@._isolate_tenant_table('@extschema@.schedule_ticks');
GRANT SELECT ON @extschema@.schedule_ticks TO ironlayer_viewer;

-- The schema of pg_cron's tables and functions in this database, or NULL
-- when pg_cron is not installed here. (pg_cron's objects live in the schema
-- "cron", which its code names; the extension's own schema is another.)
-- (internal)
CREATE FUNCTION @extschema@._cron_schema() RETURNS name
	LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
	RETURN (SELECT c.relnamespace::pg_catalog.regnamespace::name
			  FROM pg_catalog.pg_extension e
			  JOIN pg_catalog.pg_depend d ON d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
										 AND d.refobjid OPERATOR(pg_catalog.=) e.oid
										 AND d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
										 AND d.deptype OPERATOR(pg_catalog.=) 'e'
			  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) d.objid
			 WHERE e.extname OPERATOR(pg_catalog.=) 'pg_cron' AND c.relname OPERATOR(pg_catalog.=) 'job'
			 LIMIT 1);
REVOKE ALL ON FUNCTION @extschema@._cron_schema() FROM PUBLIC;

-- The spec of a schedule of tenant tid, every key and value checked, as
-- stored: repository, environment, action, branch (deploy),
-- recompute_days (refresh: 3 unless given), lookback_days (when given).
-- Errors show at most 100 characters of what was given. (internal)
CREATE FUNCTION @extschema@._schedule_spec(tid uuid, given jsonb) RETURNS jsonb
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	valid constant text := 'repository, environment, action, branch, recompute_days, lookback_days';
	k text;
	v jsonb;
	repo text;
	env text;
	act text;
	branch text;
	days jsonb;
	out jsonb;
BEGIN
	IF pg_catalog.jsonb_typeof(given) OPERATOR(pg_catalog.<>) 'object' THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = pg_catalog.format('invalid schedule spec %s: give a JSON object',
										pg_catalog.left(@extschema@._scrub(given::text), 100)),
			HINT = 'Keys: ' OPERATOR(pg_catalog.||) valid OPERATOR(pg_catalog.||) '.';
	END IF;
	FOR k, v IN SELECT e.key, e.value FROM pg_catalog.jsonb_each(given) e LOOP
		IF k OPERATOR(pg_catalog.<>) ALL (pg_catalog.string_to_array(valid, ', ')) THEN
			RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
				MESSAGE = pg_catalog.format('"%s" is not a key of a schedule spec', pg_catalog.left(k, 100)),
				HINT = 'Keys: ' OPERATOR(pg_catalog.||) valid OPERATOR(pg_catalog.||) '.';
		END IF;
		IF k OPERATOR(pg_catalog.=) ANY (ARRAY['repository', 'environment', 'action', 'branch'])
		   AND pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.<>) 'string' THEN
			RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
				MESSAGE = pg_catalog.format('invalid %s %s: give a string', k, pg_catalog.left(v::text, 100));
		END IF;
		IF k OPERATOR(pg_catalog.=) ANY (ARRAY['recompute_days', 'lookback_days']) THEN
			-- the form first, then the range (an IF's terms come in no set order)
			IF pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.=) 'number'
			   AND v::text OPERATOR(pg_catalog.~) '^[0-9]{1,4}$' THEN
				days := v;
			ELSE
				days := NULL;
			END IF;
			IF days IS NULL OR days::text::int OPERATOR(pg_catalog.>) 3650
			   OR (k OPERATOR(pg_catalog.=) 'lookback_days' AND days::text::int OPERATOR(pg_catalog.<) 1) THEN
				RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
					MESSAGE = pg_catalog.format('invalid %s %s: give a whole number of days from %s to 3650', k,
												pg_catalog.left(v::text, 100),
												CASE k WHEN 'lookback_days' THEN 1 ELSE 0 END);
			END IF;
		END IF;
	END LOOP;

	act := given OPERATOR(pg_catalog.->>) 'action';
	IF act IS NULL OR act OPERATOR(pg_catalog.<>) ALL (ARRAY['deploy', 'refresh']) THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = CASE WHEN act IS NULL THEN 'a schedule spec needs an action'
						   ELSE pg_catalog.format('invalid action "%s"', pg_catalog.left(act, 100)) END,
			HINT = 'The action is "deploy" (plan the branch head against what the environment deployed, apply it) or "refresh" (plan what is due, apply it).';
	END IF;

	repo := given OPERATOR(pg_catalog.->>) 'repository';
	IF repo IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value', MESSAGE = 'a schedule spec needs a repository';
	END IF;
	PERFORM @extschema@._check_size('the repository name', repo, 63);
	IF NOT EXISTS (SELECT FROM @extschema@.repos r
					WHERE r.tenant_id OPERATOR(pg_catalog.=) tid AND r.name OPERATOR(pg_catalog.=) repo) THEN
		RAISE EXCEPTION USING ERRCODE = 'undefined_object',
			MESSAGE = pg_catalog.format('repository "%s" does not exist', repo),
			HINT = 'ironlayer.repos lists the repositories of the bound tenant.';
	END IF;

	env := given OPERATOR(pg_catalog.->>) 'environment';
	IF env IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value', MESSAGE = 'a schedule spec needs an environment';
	END IF;
	PERFORM @extschema@._check_size('the environment name', env, 63);
	IF NOT EXISTS (SELECT FROM @extschema@.environments e
					WHERE e.tenant_id OPERATOR(pg_catalog.=) tid AND e.name OPERATOR(pg_catalog.=) env) THEN
		RAISE EXCEPTION USING ERRCODE = 'undefined_object',
			MESSAGE = pg_catalog.format('environment "%s" does not exist', env),
			HINT = 'ironlayer.environments lists them; ironlayer.set_environment() makes one.';
	END IF;

	out := pg_catalog.jsonb_build_object('repository', repo, 'environment', env, 'action', act);
	branch := given OPERATOR(pg_catalog.->>) 'branch';
	IF act OPERATOR(pg_catalog.=) 'deploy' THEN
		IF branch IS NULL THEN
			RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
				MESSAGE = 'a deploy schedule needs a branch',
				HINT = 'Give the branch whose head each tick deploys, such as {"branch": "main"}.';
		END IF;
		PERFORM @extschema@._check_size('the branch name', branch, 255);
		-- a name of a branch (or tag), never an expression of git's revision
		-- syntax (~, ^, @{, :): each tick deploys the head of one ref
		IF branch OPERATOR(pg_catalog.!~) '^[A-Za-z0-9_][A-Za-z0-9_./-]*$'
		   OR branch OPERATOR(pg_catalog.~) '(\.\.|//|/\.|\.lock$|[./]$)' THEN
			RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
				MESSAGE = pg_catalog.format('invalid branch "%s"', pg_catalog.left(branch, 100)),
				HINT = 'A branch is a git branch or tag name: letters, digits, "_", ".", "/" and "-".';
		END IF;
		out := out OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('branch', branch);
	ELSIF branch IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = '"branch" is not a key of a refresh schedule',
			HINT = 'A refresh plans at the commit the environment has deployed.';
	END IF;

	days := given OPERATOR(pg_catalog.->) 'recompute_days';
	IF days IS NULL AND act OPERATOR(pg_catalog.=) 'refresh' THEN
		days := '3';
	END IF;
	IF days IS NOT NULL THEN
		out := out OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('recompute_days', days::text::int);
	END IF;
	days := given OPERATOR(pg_catalog.->) 'lookback_days';
	IF days IS NOT NULL THEN
		out := out OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('lookback_days', days::text::int);
	END IF;
	RETURN out;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._schedule_spec(uuid, jsonb) FROM PUBLIC;

CREATE FUNCTION @extschema@.schedule(name text, cron text, spec jsonb) RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tid uuid := @extschema@._require_tenant_role('engineer', 'schedule plans');
	caller name := @extschema@.acting_role();
	nsp name;
	s jsonb;
	sid bigint;
	job bigint;
	is_new boolean;
BEGIN
	IF schedule.name IS NULL OR schedule.cron IS NULL OR schedule.spec IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
			MESSAGE = 'name, cron and spec must not be null';
	END IF;
	PERFORM @extschema@._check_size('the schedule name', schedule.name, 63);
	PERFORM @extschema@._check_size('the cron schedule', schedule.cron, 100);
	PERFORM @extschema@._check_size('the schedule spec', schedule.spec, 4096);
	IF NOT @extschema@._is_slug(schedule.name) THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = pg_catalog.format('invalid schedule name "%s"', schedule.name),
			DETAIL = 'A schedule name has 1 to 63 characters: a lower-case letter, then lower-case letters, digits, "_" or "-".';
	END IF;
	-- pg_cron parses the schedule; what it is given holds only what a cron
	-- schedule may hold
	IF schedule.cron OPERATOR(pg_catalog.!~) '^[0-9A-Za-z*/,@ -]+$' THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = pg_catalog.format('invalid cron schedule "%s"', pg_catalog.left(@extschema@._scrub(schedule.cron), 100)),
			HINT = 'Give five fields "minute hour day month weekday" in UTC, such as "*/5 * * * *", or @hourly, @daily.';
	END IF;
	s := @extschema@._schedule_spec(tid, schedule.spec);

	nsp := @extschema@._cron_schema();
	IF nsp IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
			MESSAGE = pg_catalog.format('pg_cron is not installed in database "%s"', pg_catalog.current_database()),
			DETAIL = 'A schedule is a pg_cron job; ironlayer schedules nothing without it.',
			HINT = 'A superuser adds pg_cron to shared_preload_libraries, sets cron.database_name to this database and runs CREATE EXTENSION pg_cron (docs/schedules.md).';
	END IF;

	-- the tenant's row serializes its schedule() calls, so the count holds
	PERFORM FROM @extschema@.tenants t WHERE t.tenant_id OPERATOR(pg_catalog.=) tid FOR NO KEY UPDATE;
	SELECT j.schedule_id INTO sid FROM @extschema@.schedule_jobs j
	 WHERE j.tenant_id OPERATOR(pg_catalog.=) tid AND j.name OPERATOR(pg_catalog.=) schedule.name
	   FOR UPDATE;
	is_new := sid IS NULL;
	IF is_new THEN
		IF (SELECT pg_catalog.count(*) FROM @extschema@.schedule_jobs j
			 WHERE j.tenant_id OPERATOR(pg_catalog.=) tid) OPERATOR(pg_catalog.>=) 100 THEN
			RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
				MESSAGE = 'a tenant has at most 100 schedules',
				HINT = 'Remove one first (ironlayer.unschedule).';
		END IF;
		INSERT INTO @extschema@.schedule_jobs AS j (tenant_id, name, cron, spec, owner)
		VALUES (tid, schedule.name, schedule.cron, s, caller)
		RETURNING j.schedule_id INTO sid;
	ELSE
		UPDATE @extschema@.schedule_jobs j
		   SET cron = schedule.cron, spec = s, owner = caller, updated_at = pg_catalog.now()
		 WHERE j.tenant_id OPERATOR(pg_catalog.=) tid AND j.schedule_id OPERATOR(pg_catalog.=) sid;
	END IF;

	-- pg_cron's job, named after the schedule's id (an upsert by name), in
	-- this database, as this function's owner; its command holds one integer
	BEGIN
		EXECUTE pg_catalog.format('SELECT %I.schedule_in_database($1, $2, $3, $4)', nsp) INTO job
		  USING 'ironlayer:' OPERATOR(pg_catalog.||) sid, schedule.cron,
				pg_catalog.format('SELECT %I.tick(%s)', '@extschema@', sid), pg_catalog.current_database();
	EXCEPTION WHEN invalid_parameter_value OR internal_error THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = pg_catalog.format('invalid cron schedule "%s"', schedule.cron),
			DETAIL = pg_catalog.format('pg_cron: %s', SQLERRM),
			HINT = 'Give five fields "minute hour day month weekday" in UTC, such as "*/5 * * * *", or @hourly, @daily; pg_cron 1.4 runs a job at most once a minute.';
	END;
	UPDATE @extschema@.schedule_jobs j SET jobid = job
	 WHERE j.tenant_id OPERATOR(pg_catalog.=) tid AND j.schedule_id OPERATOR(pg_catalog.=) sid;
	PERFORM @extschema@._audit(tid, CASE WHEN is_new THEN 'schedule.create' ELSE 'schedule.update' END,
							   'schedule', schedule.name,
							   pg_catalog.jsonb_build_object('cron', schedule.cron, 'spec', s, 'owner', caller));
	RETURN sid;
END
$$;
COMMENT ON FUNCTION @extschema@.schedule(text, text, jsonb) IS
	'create or change a schedule: a pg_cron job whose ticks deploy a branch head or refresh what is due, acting as the caller (engineers and admins)';

-- A schedule's row gone (unschedule, its tenant dropped): its pg_cron job
-- goes too, as the role that made it (this function's owner).
CREATE FUNCTION @extschema@._schedule_jobs_gone() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	nsp name := @extschema@._cron_schema();
	found_job boolean;
BEGIN
	IF nsp IS NULL OR OLD.jobid IS NULL THEN
		RETURN NULL;
	END IF;
	EXECUTE pg_catalog.format('SELECT EXISTS (SELECT FROM %I.job j WHERE j.jobid OPERATOR(pg_catalog.=) $1)', nsp)
	   INTO found_job USING OLD.jobid;
	IF found_job THEN
		EXECUTE pg_catalog.format('SELECT %I.unschedule($1)', nsp) USING OLD.jobid;
	END IF;
	RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._schedule_jobs_gone() FROM PUBLIC;
CREATE TRIGGER schedule_jobs_gone AFTER DELETE ON @extschema@.schedule_jobs
	FOR EACH ROW EXECUTE FUNCTION @extschema@._schedule_jobs_gone();

CREATE FUNCTION @extschema@.unschedule(name text) RETURNS boolean
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tid uuid := @extschema@._require_tenant_role('engineer', 'remove schedules');
	gone @extschema@.schedule_jobs;
BEGIN
	IF unschedule.name IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'name must not be null';
	END IF;
	PERFORM @extschema@._check_size('the schedule name', unschedule.name, 63);
	DELETE FROM @extschema@.schedule_jobs j
	 WHERE j.tenant_id OPERATOR(pg_catalog.=) tid AND j.name OPERATOR(pg_catalog.=) unschedule.name
	RETURNING * INTO gone;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	PERFORM @extschema@._audit(tid, 'schedule.remove', 'schedule', unschedule.name,
							   pg_catalog.jsonb_build_object('cron', gone.cron, 'spec', gone.spec, 'owner', gone.owner));
	RETURN true;
END
$$;
COMMENT ON FUNCTION @extschema@.unschedule(text) IS
	'remove a schedule, its pg_cron job and its ticks (engineers and admins); false when there is none of that name';

-- pg_cron's last run of each of the bound tenant's schedules (its jobs
-- only, whatever the caller may read of cron.job_run_details); nothing
-- without pg_cron. (internal: the view schedules reads it)
CREATE FUNCTION @extschema@._schedule_cron_runs()
	RETURNS TABLE (schedule_id bigint, status text, return_message text, start_time timestamptz, end_time timestamptz)
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	nsp name := @extschema@._cron_schema();
	tid uuid := @extschema@.current_tenant();
BEGIN
	IF nsp IS NULL OR tid IS NULL THEN
		RETURN;
	END IF;
	RETURN QUERY EXECUTE pg_catalog.format(
		'SELECT DISTINCT ON (j.schedule_id) j.schedule_id, d.status, pg_catalog.left(d.return_message, 500),'
		' d.start_time, d.end_time'
		'  FROM @extschema@.schedule_jobs j JOIN %I.job_run_details d ON d.jobid OPERATOR(pg_catalog.=) j.jobid'
		' WHERE j.tenant_id OPERATOR(pg_catalog.=) $1'
		' ORDER BY j.schedule_id, d.runid DESC', nsp) USING tid;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._schedule_cron_runs() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._schedule_cron_runs() TO ironlayer_viewer;

CREATE VIEW @extschema@.schedules WITH (security_invoker = true) AS
SELECT j.name, j.cron, j.spec, j.owner,
	   t.started_at AS last_tick_at, t.outcome AS last_outcome, t.detail AS last_detail,
	   t.plan_id AS last_plan_id, t.run_id AS last_run_id,
	   c.status AS cron_status, c.return_message AS cron_message,
	   j.schedule_id
  FROM @extschema@.schedule_jobs j
  LEFT JOIN LATERAL (SELECT x.started_at, x.outcome, x.detail, x.plan_id, x.run_id
					   FROM @extschema@.schedule_ticks x
					  WHERE x.tenant_id OPERATOR(pg_catalog.=) j.tenant_id
						AND x.schedule_id OPERATOR(pg_catalog.=) j.schedule_id
					  ORDER BY x.tick_id DESC LIMIT 1) t ON true
  LEFT JOIN @extschema@._schedule_cron_runs() c ON c.schedule_id OPERATOR(pg_catalog.=) j.schedule_id;
COMMENT ON VIEW @extschema@.schedules IS
	'one row per schedule of the bound tenant: its cron schedule and spec, its last tick, and pg_cron''s last run of its job';
GRANT SELECT ON @extschema@.schedules TO ironlayer_viewer;

-- The tick of a schedule: the one call of its pg_cron job. It runs as the
-- job's role (a superuser; not a security-definer function, for it sets
-- the role) and acts as the schedule's owner: SET LOCAL ROLE, use_tenant,
-- then plan() or plan_refresh() and apply() as the owner could call them.
-- Every tick is recorded in schedule_ticks with its outcome:
--   refused           the owner is no longer an engineer or admin of the tenant
--   skipped           a run of the repository in the environment is active,
--                     or another apply moved the deployment meanwhile
--   up_to_date        deploy: the branch head is deployed
--   nothing_due       refresh: no step is due
--   applied           a run was started (run_id)
--   waiting_approval  the plan waits at the environment's gate (approval.needed published)
--   failed            planning or applying failed (why in detail)
-- Returns the outcome.
CREATE FUNCTION @extschema@.tick(schedule_id bigint) RETURNS text
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	t0 timestamptz := pg_catalog.clock_timestamp();
	s @extschema@.schedule_jobs;
	tenant text;
	nsp name := @extschema@._cron_schema();
	cron_run bigint;
	member_role text;
	repo text;
	env text;
	act text;
	opts jsonb;
	day date := (pg_catalog.now() AT TIME ZONE 'UTC')::date;
	p json;
	e @extschema@.environments;
	active bigint;
	phase text;
	outcome text;
	why text;
	pid text;
	rid bigint;
	prior record;
	was_bound uuid := @extschema@.current_tenant();
	cut bigint;
BEGIN
	PERFORM @extschema@._refuse_in_model_sql('run schedules');
	IF NOT @extschema@._is_superuser(SESSION_USER) THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = 'permission denied to run a tick',
			DETAIL = 'A tick acts as the schedule''s owner: only the role of its pg_cron job, a superuser, runs it.',
			HINT = 'ironlayer.schedule() makes the job that calls it.';
	END IF;
	IF tick.schedule_id IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'schedule_id must not be null';
	END IF;
	-- the row, held so that the schedule is not changed or removed mid-tick
	SELECT * INTO s FROM @extschema@.schedule_jobs j
	 WHERE j.schedule_id OPERATOR(pg_catalog.=) tick.schedule_id FOR NO KEY UPDATE;
	IF NOT FOUND THEN
		-- a job left behind (its schedule's row is gone): remove it
		IF nsp IS NOT NULL THEN
			EXECUTE pg_catalog.format('SELECT %I.unschedule(j.jobid) FROM %I.job j WHERE j.jobname OPERATOR(pg_catalog.=) $1'
									  ' AND j.username OPERATOR(pg_catalog.=) CURRENT_USER', nsp, nsp)
			  USING 'ironlayer:' OPERATOR(pg_catalog.||) tick.schedule_id;
		END IF;
		RAISE NOTICE 'schedule % does not exist', tick.schedule_id;
		RETURN NULL;
	END IF;
	SELECT t.name INTO tenant FROM @extschema@.tenants t WHERE t.tenant_id OPERATOR(pg_catalog.=) s.tenant_id;
	repo := s.spec OPERATOR(pg_catalog.->>) 'repository';
	env := s.spec OPERATOR(pg_catalog.->>) 'environment';
	act := s.spec OPERATOR(pg_catalog.->>) 'action';
	opts := pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
		'recompute_days', s.spec OPERATOR(pg_catalog.->) 'recompute_days',
		'lookback_days', s.spec OPERATOR(pg_catalog.->) 'lookback_days'));

	-- pg_cron's run that called this tick: the job's unfinished run, when
	-- this backend is one of pg_cron's (it runs one run of a job at a time)
	IF nsp IS NOT NULL AND s.jobid IS NOT NULL
	   AND EXISTS (SELECT FROM pg_catalog.pg_stat_activity a
				    WHERE a.pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid()
					  AND (a.backend_type OPERATOR(pg_catalog.=) 'pg_cron'
						   OR a.application_name OPERATOR(pg_catalog.=) 'pg_cron')) THEN
		EXECUTE pg_catalog.format('SELECT pg_catalog.max(d.runid) FROM %I.job_run_details d'
								  ' WHERE d.jobid OPERATOR(pg_catalog.=) $1'
								  '   AND d.status OPERATOR(pg_catalog.=) ANY (ARRAY[''starting'', ''running''])', nsp)
		   INTO cron_run USING s.jobid;
	END IF;

	-- The owner: a role that still exists and is still an engineer or admin
	-- of the tenant (or a superuser, as use_tenant allows); the membership
	-- row is held so that it is not removed mid-tick. The tenant's row
	-- first, as membership changes take them (tenant, then member): held
	-- the other way round, a member removed while the tick plans deadlocked
	-- with the tick's first write (its key share of the tenant's row).
	PERFORM FROM @extschema@.tenants t WHERE t.tenant_id OPERATOR(pg_catalog.=) s.tenant_id FOR KEY SHARE;
	SELECT m.tenant_role INTO member_role FROM @extschema@.members m
	 WHERE m.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND m.member OPERATOR(pg_catalog.=) s.owner
	   FOR SHARE;
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) s.owner) THEN
		outcome := 'refused';
		why := pg_catalog.format('the owner, role "%s", no longer exists; a member sets the schedule again to own it', s.owner);
	ELSIF member_role IS NULL AND NOT @extschema@._is_superuser(s.owner) THEN
		outcome := 'refused';
		why := pg_catalog.format('the owner, role "%s", is no longer a member of tenant "%s"; an engineer sets the schedule again to own it',
								 s.owner, tenant);
	ELSIF member_role OPERATOR(pg_catalog.=) 'viewer' THEN
		outcome := 'refused';
		why := pg_catalog.format('the owner, role "%s", is now a viewer of tenant "%s", not an engineer or admin; an engineer sets the schedule again to own it',
								 s.owner, tenant);
	END IF;

	-- A run of the repository active in the environment: never overlap it.
	IF outcome IS NULL THEN
		SELECT r.run_id INTO active FROM @extschema@.runs r
		 WHERE r.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND r.repository OPERATOR(pg_catalog.=) repo
		   AND r.environment OPERATOR(pg_catalog.=) env
		   AND r.state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'running', 'cancelling']);
		IF active IS NOT NULL THEN
			outcome := 'skipped';
			rid := active;
			why := pg_catalog.format('run %s of repository "%s" in %s is active', active, repo, env);
		END IF;
	END IF;

	IF outcome IS NULL THEN
		BEGIN
			phase := 'plan';
			EXECUTE pg_catalog.format('SET LOCAL ROLE %I', s.owner);
			PERFORM @extschema@.use_tenant(tenant);
			IF act OPERATOR(pg_catalog.=) 'deploy' THEN
				p := @extschema@.plan(repo, NULL, s.spec OPERATOR(pg_catalog.->>) 'branch', day,
									  opts OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('environment', env));
				pid := p OPERATOR(pg_catalog.->>) 'plan_id';
				IF (p OPERATOR(pg_catalog.->>) 'base') OPERATOR(pg_catalog.=) (p OPERATOR(pg_catalog.->>) 'target') THEN
					outcome := 'up_to_date';
					why := pg_catalog.format('%s of branch %s is deployed in %s', p OPERATOR(pg_catalog.->>) 'target',
											 s.spec OPERATOR(pg_catalog.->>) 'branch', env);
				END IF;
			ELSE
				p := @extschema@.plan_refresh(repo, env, day, opts);
				pid := p OPERATOR(pg_catalog.->>) 'plan_id';
				IF (p OPERATOR(pg_catalog.->) 'summary' OPERATOR(pg_catalog.->>) 'total_steps')::int OPERATOR(pg_catalog.=) 0 THEN
					outcome := 'nothing_due';
					why := pg_catalog.format('no model of %s at %s is due in %s as of %s', repo,
											 p OPERATOR(pg_catalog.->>) 'target', env, pg_catalog.to_char(day, 'YYYY-MM-DD'));
				END IF;
			END IF;
			IF outcome IS NULL THEN
				-- the gate, read with the job's rights; then apply as the owner
				SET LOCAL ROLE NONE;
				SELECT * INTO e FROM @extschema@.environments x
				 WHERE x.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND x.name OPERATOR(pg_catalog.=) env;
				IF NOT FOUND THEN
					RAISE EXCEPTION USING ERRCODE = 'undefined_object',
						MESSAGE = pg_catalog.format('environment "%s" does not exist', env);
				END IF;
				IF @extschema@._gate_open(s.tenant_id, pid, e) THEN
					phase := 'apply';
					EXECUTE pg_catalog.format('SET LOCAL ROLE %I', s.owner);
					rid := @extschema@.apply(pid, env);
					SET LOCAL ROLE NONE;
					outcome := 'applied';
					why := pg_catalog.format('%s plan %s applied in %s: run %s', act, pid, env, rid);
				ELSE
					outcome := 'waiting_approval';
					why := COALESCE(
						(SELECT pg_catalog.format('plan %s was rejected in %s by %s: %s', pid, env, a.approver,
												  pg_catalog.left(a.comment, 500))
						   FROM @extschema@.plan_approvals a
						  WHERE a.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND a.plan_id OPERATOR(pg_catalog.=) pid
							AND a.environment OPERATOR(pg_catalog.=) env AND a.decision OPERATOR(pg_catalog.=) 'reject'
						  ORDER BY a.decided_at LIMIT 1),
						pg_catalog.format('plan %s waits for approval in %s (%s needed)', pid, env, e.approvals_required));
					-- published once per plan: not again while the ticks find it waiting
					SELECT x.outcome, x.plan_id INTO prior FROM @extschema@.schedule_ticks x
					 WHERE x.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND x.schedule_id OPERATOR(pg_catalog.=) s.schedule_id
					 ORDER BY x.tick_id DESC LIMIT 1;
					IF prior.outcome IS DISTINCT FROM 'waiting_approval' OR prior.plan_id IS DISTINCT FROM pid THEN
						PERFORM @extschema@._notify(s.tenant_id, pg_catalog.jsonb_build_object(
							'event', 'approval.needed', 'plan_id', pid, 'environment', env));
					END IF;
				END IF;
			END IF;
		EXCEPTION WHEN OTHERS THEN
			-- apply found a run of the repository started in the environment
			-- meanwhile (55006, or 23505 from the index of active runs), or
			-- refused the plan as stale (PT409: another apply moved the
			-- deployment since this tick planned; the next tick plans from
			-- there): skipped. Anything else failed the tick.
			outcome := CASE WHEN phase OPERATOR(pg_catalog.=) 'apply'
								 AND SQLSTATE OPERATOR(pg_catalog.=) ANY (ARRAY['55006', '23505', 'PT409'])
							THEN 'skipped' ELSE 'failed' END;
			why := pg_catalog.left(SQLSTATE OPERATOR(pg_catalog.||) ': ' OPERATOR(pg_catalog.||) @extschema@._scrub(SQLERRM), 1000);
			IF outcome OPERATOR(pg_catalog.=) 'skipped' THEN
				SELECT r.run_id INTO rid FROM @extschema@.runs r
				 WHERE r.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND r.repository OPERATOR(pg_catalog.=) repo
				   AND r.environment OPERATOR(pg_catalog.=) env
				   AND r.state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'running', 'cancelling']);
			END IF;
		END;
		SET LOCAL ROLE NONE;
		-- the session as it was: the binding of the role that called
		PERFORM @extschema@.use_tenant(NULL);
		IF was_bound IS NOT NULL THEN
			PERFORM @extschema@.use_tenant((SELECT t.name FROM @extschema@.tenants t
											 WHERE t.tenant_id OPERATOR(pg_catalog.=) was_bound));
		END IF;
	END IF;

	INSERT INTO @extschema@.schedule_ticks (tenant_id, schedule_id, started_at, finished_at, outcome, detail,
											 plan_id, run_id, cron_runid)
	VALUES (s.tenant_id, s.schedule_id, t0, pg_catalog.clock_timestamp(), outcome, why, pid, rid, cron_run);

	-- Bounded logs: the last 1,000 ticks of the schedule, pg_cron's last
	-- 100 runs of its job.
	SELECT x.tick_id INTO cut FROM @extschema@.schedule_ticks x
	 WHERE x.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND x.schedule_id OPERATOR(pg_catalog.=) s.schedule_id
	 ORDER BY x.tick_id DESC OFFSET 999 LIMIT 1;
	IF cut IS NOT NULL THEN
		DELETE FROM @extschema@.schedule_ticks x
		 WHERE x.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND x.schedule_id OPERATOR(pg_catalog.=) s.schedule_id
		   AND x.tick_id OPERATOR(pg_catalog.<) cut;
	END IF;
	IF nsp IS NOT NULL AND s.jobid IS NOT NULL THEN
		EXECUTE pg_catalog.format(
			'DELETE FROM %I.job_run_details d WHERE d.jobid OPERATOR(pg_catalog.=) $1'
			' AND d.runid OPERATOR(pg_catalog.<) (SELECT x.runid FROM %I.job_run_details x'
			' WHERE x.jobid OPERATOR(pg_catalog.=) $1 ORDER BY x.runid DESC OFFSET 99 LIMIT 1)', nsp, nsp)
		  USING s.jobid;
	END IF;
	RETURN outcome;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.tick(bigint) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.tick(bigint) IS
	'one tick of a schedule, as its pg_cron job runs it: acts as the schedule''s owner, records the outcome in schedule_ticks';

REVOKE ALL ON FUNCTION @extschema@.schedule(text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.unschedule(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.schedule(text, text, jsonb) TO ironlayer_engineer;
GRANT EXECUTE ON FUNCTION @extschema@.unschedule(text) TO ironlayer_engineer;
