-- ironlayer 0.1.0 -> 0.2.0 upgrade script (ALTER EXTENSION ironlayer UPDATE).
--
-- It turns an install of 0.1.0 into what src/sql/ installs in 0.2.0. Every
-- change to src/sql/ adds its statements here in the same commit, after a
-- line naming the part it changed ("-- src/sql/NN_part.sql"; parts in name
-- order), written as in src/sql/: @extschema@ for the schema,
-- 'MODULE_PATHNAME' for the library, operators qualified. A changed
-- function is CREATE OR REPLACE'd with its new text (same arguments), or
-- dropped and created again with its comment and grants (other arguments,
-- other result); a new object is created with its comment and grants; a
-- dropped one is dropped; a new table under pg_extension_config_dump is
-- registered. A column that changes type takes along what reads it (views,
-- functions with a SQL-standard body): drop them first, make them again
-- after. The regression test test/sql/upgrade.sql compares an updated
-- install with a fresh one, object by object, and lists what this script
-- still misses.
\echo Use "ALTER EXTENSION ironlayer UPDATE TO '0.2.0'" to load this file. \quit

-- src/sql/00_base.sql: the name rules, once (the slug and dotted_slug domains)
CREATE FUNCTION @extschema@._is_slug(t text) RETURNS boolean
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	RETURN t OPERATOR(pg_catalog.~) '^[a-z][a-z0-9_-]{0,62}$';
CREATE DOMAIN @extschema@.slug AS text CHECK (@extschema@._is_slug(VALUE));
COMMENT ON DOMAIN @extschema@.slug IS
	'a tenant or environment name: a lower-case letter, then up to 62 lower-case letters, digits, "_" or "-"';
CREATE DOMAIN @extschema@.dotted_slug AS text CHECK (VALUE OPERATOR(pg_catalog.~) '^[a-z][a-z0-9_.-]{0,62}$');
COMMENT ON DOMAIN @extschema@.dotted_slug IS
	'a repository or credential name: a lower-case letter, then up to 62 lower-case letters, digits, "_", "." or "-"';

-- src/sql/10_tenancy.sql: tenants.name takes the slug domain. my_tenants()
-- reads the column (a SQL-standard body depends on it): it is dropped while
-- the type changes, then made again as src/sql/ makes it, with its grants.
DROP FUNCTION @extschema@.my_tenants();
ALTER TABLE @extschema@.tenants ALTER COLUMN name TYPE @extschema@.slug;
ALTER TABLE @extschema@.tenants DROP CONSTRAINT tenants_name_check;
CREATE FUNCTION @extschema@.my_tenants()
	RETURNS TABLE (tenant text, tenant_id uuid, tenant_role text)
	LANGUAGE sql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT t.name, t.tenant_id, m.tenant_role
	  FROM @extschema@.members m
	  JOIN @extschema@.tenants t ON t.tenant_id OPERATOR(pg_catalog.=) m.tenant_id
	 WHERE m.member OPERATOR(pg_catalog.=) @extschema@.acting_role()
	   AND @extschema@._refuse_in_model_sql('list tenants')
	 ORDER BY t.name;
END;
COMMENT ON FUNCTION @extschema@.my_tenants() IS
	'the tenants the acting role is a member of, with its tenant role';
REVOKE ALL ON FUNCTION @extschema@.my_tenants() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.my_tenants() TO ironlayer_viewer;
CREATE OR REPLACE FUNCTION @extschema@.create_tenant(name text) RETURNS uuid
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	caller name := @extschema@.acting_role();
	tid uuid;
	stem text;
	taken text;
	tries int := 0;
BEGIN
	PERFORM @extschema@._refuse_in_model_sql('manage tenants');
	IF NOT (@extschema@._is_superuser(caller)
			OR pg_catalog.pg_has_role(caller, 'ironlayer_admin', 'MEMBER')) THEN
		RAISE EXCEPTION USING
			ERRCODE = 'insufficient_privilege',
			MESSAGE = 'permission denied to create a tenant',
			DETAIL = pg_catalog.format('Role "%s" is neither a superuser nor a member of ironlayer_admin.', caller),
			HINT = 'A superuser can GRANT ironlayer_admin TO the role.';
	END IF;
	IF create_tenant.name IS NULL THEN
		RAISE EXCEPTION USING
			ERRCODE = 'null_value_not_allowed',
			MESSAGE = 'tenant name must not be null';
	END IF;
	PERFORM @extschema@._check_size('the tenant name', create_tenant.name, 63);
	IF NOT @extschema@._is_slug(create_tenant.name) THEN
		RAISE EXCEPTION USING
			ERRCODE = 'invalid_parameter_value',
			MESSAGE = pg_catalog.format('invalid tenant name "%s"', create_tenant.name),
			DETAIL = 'A tenant name has 1 to 63 characters: a lower-case letter, then lower-case letters, digits, "_" or "-".';
	END IF;

	-- The tenant's schema stem: its name without "-" and "_", cut to 16
	-- characters, and "_" (stems of that form never start with one another,
	-- so distinct stems are all it takes, and the unique index holds that
	-- whatever runs at the same time); a random one when the name's is
	-- taken, would overlap a prefix a superuser set, or is "pg_" (reserved).
	stem := pg_catalog.left(pg_catalog.regexp_replace(create_tenant.name, '[-_]', '', 'g'), 16);
	stem := CASE WHEN stem OPERATOR(pg_catalog.=) 'pg' THEN NULL ELSE stem OPERATOR(pg_catalog.||) '_' END;
	LOOP
		tries := tries OPERATOR(pg_catalog.+) 1;
		IF tries OPERATOR(pg_catalog.>) 9 THEN
			RAISE EXCEPTION USING
				ERRCODE = 'program_limit_exceeded',
				MESSAGE = 'no schema stem is free for a new tenant',
				DETAIL = 'A superuser gave an environment a schema prefix that covers every new stem.',
				HINT = 'A superuser can give that environment a longer schema_prefix.';
		END IF;
		IF stem IS NULL OR @extschema@._schema_prefix_taken(NULL, stem) THEN
			stem := 't' OPERATOR(pg_catalog.||)
					pg_catalog.left(pg_catalog.md5(pg_catalog.gen_random_uuid()::text), 12) OPERATOR(pg_catalog.||) '_';
			CONTINUE WHEN @extschema@._schema_prefix_taken(NULL, stem);
		END IF;
		BEGIN
			INSERT INTO @extschema@.tenants AS t (name, schema_stem, created_by)
			VALUES (create_tenant.name, stem, caller)
			RETURNING t.tenant_id INTO tid;
			EXIT;
		EXCEPTION WHEN unique_violation THEN
			GET STACKED DIAGNOSTICS taken = CONSTRAINT_NAME;
			IF taken OPERATOR(pg_catalog.<>) 'tenants_schema_stem_key' THEN
				RAISE EXCEPTION USING
					ERRCODE = 'unique_violation',
					MESSAGE = pg_catalog.format('tenant "%s" already exists', create_tenant.name);
			END IF;
		END;
		stem := NULL;
	END LOOP;

	INSERT INTO @extschema@.members (tenant_id, member, tenant_role, added_by)
	VALUES (tid, caller, 'admin', caller);
	INSERT INTO @extschema@.audit_heads (tenant_id) VALUES (tid);
	PERFORM @extschema@._audit(tid, 'tenant.create', 'tenant', create_tenant.name,
							   pg_catalog.jsonb_build_object('name', create_tenant.name,
															 'admin', caller));
	RETURN tid;
END
$$;

-- src/sql/30_vault.sql: credential_store.name takes the dotted_slug domain;
-- the credentials view shows the column, so it is made again around it.
DROP VIEW @extschema@.credentials;
ALTER TABLE @extschema@.credential_store ALTER COLUMN name TYPE @extschema@.dotted_slug;
ALTER TABLE @extschema@.credential_store DROP CONSTRAINT credential_store_name_check;
CREATE VIEW @extschema@.credentials WITH (security_invoker = true) AS
	SELECT name, kind, fingerprint, created_at, created_by, updated_at, updated_by
	  FROM @extschema@.credential_store;
COMMENT ON VIEW @extschema@.credentials IS
	'the bound tenant''s credentials: name, kind, a short fingerprint and times, never the secret';
GRANT SELECT ON @extschema@.credentials TO ironlayer_viewer;

-- src/sql/50_repos.sql: repos.name takes the dotted_slug domain
ALTER TABLE @extschema@.repos ALTER COLUMN name TYPE @extschema@.dotted_slug;
ALTER TABLE @extschema@.repos DROP CONSTRAINT repos_name_check;

-- src/sql/60_plans.sql: watermarks.environment takes the slug domain; one
-- writer of watermarks, _put_watermark
ALTER TABLE @extschema@.watermarks ALTER COLUMN environment TYPE @extschema@.slug;
ALTER TABLE @extschema@.watermarks DROP CONSTRAINT watermarks_environment_check;
CREATE FUNCTION @extschema@._put_watermark(tid uuid, rid bigint, env text, m text,
										   from_day date, to_day date, actor name,
										   widen boolean) RETURNS void
	LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT pg_catalog.isfinite(from_day) OR NOT pg_catalog.isfinite(to_day)
	   OR from_day OPERATOR(pg_catalog.<) DATE '0001-01-01' OR to_day OPERATOR(pg_catalog.>) DATE '9999-12-31' THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'watermark dates must lie between 0001-01-01 and 9999-12-31';
	END IF;
	IF from_day OPERATOR(pg_catalog.>) to_day THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = pg_catalog.format('watermark start %s is after its end %s', from_day, to_day);
	END IF;
	INSERT INTO @extschema@.watermarks AS w
		(tenant_id, repo_id, environment, model, start_date, end_date, updated_by)
	VALUES (tid, rid, env, m, from_day, to_day, actor)
	ON CONFLICT ON CONSTRAINT watermarks_pkey DO UPDATE
		SET start_date = CASE WHEN widen THEN LEAST(w.start_date, EXCLUDED.start_date) ELSE EXCLUDED.start_date END,
			end_date = CASE WHEN widen THEN GREATEST(w.end_date, EXCLUDED.end_date) ELSE EXCLUDED.end_date END,
			updated_at = pg_catalog.now(), updated_by = EXCLUDED.updated_by;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._put_watermark(uuid, bigint, text, text, date, date, name, boolean) FROM PUBLIC;

CREATE OR REPLACE FUNCTION @extschema@.set_watermark(repo text, environment text, model text,
										  start_date date, end_date date) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tid uuid := @extschema@._require_tenant_role('admin', 'set watermarks');
	rid bigint;
	m text;
BEGIN
	IF repo IS NULL OR environment IS NULL OR model IS NULL OR start_date IS NULL OR end_date IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
			MESSAGE = 'repo, environment, model, start_date and end_date must not be null';
	END IF;
	PERFORM @extschema@._check_size('the repository name', repo, 63);
	PERFORM @extschema@._check_size('the environment name', environment, 63);
	PERFORM @extschema@._check_size('the model name', model, 1024);
	m := pg_catalog.lower(set_watermark.model);
	SELECT r.repo_id INTO rid FROM @extschema@.repos r
	 WHERE r.tenant_id OPERATOR(pg_catalog.=) tid AND r.name OPERATOR(pg_catalog.=) set_watermark.repo;
	IF rid IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'undefined_object',
			MESSAGE = pg_catalog.format('repository "%s" does not exist', set_watermark.repo),
			HINT = 'ironlayer.repos lists the repositories of the bound tenant.';
	END IF;
	IF NOT @extschema@._is_slug(environment) THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = pg_catalog.format('invalid environment name "%s"', environment),
			HINT = 'An environment name is 1 to 63 characters: a lower-case letter, then lower-case letters, digits, "_" or "-".';
	END IF;
	IF m OPERATOR(pg_catalog.!~) '^[^.[:space:]]+(\.[^.[:space:]]+){1,2}$' THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = pg_catalog.format('invalid model name "%s"', set_watermark.model),
			HINT = 'Give the full name of a model: schema.table or catalog.schema.table.';
	END IF;
	PERFORM @extschema@._put_watermark(tid, rid, environment, m, start_date, end_date,
									   @extschema@.acting_role(), false);
	PERFORM @extschema@._audit(tid, 'watermark.set', 'watermark',
							   repo OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) environment
							   OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) m,
							   pg_catalog.jsonb_build_object('start_date', start_date, 'end_date', end_date));
END
$$;

-- plan_steps: a view of the plan text in 0.1.0, now the rows plan() stores
-- from the planner's result, with each step's dependents.
DROP VIEW @extschema@.plan_steps;
-- One row per step of each stored plan, the step's fields as columns and
-- the steps that depend on it: written by ironlayer.plan() with the plan,
-- from the planner's own structures (src/pg/plan.c), never updated. A run
-- copies its steps and their edges from here (_start_run).
CREATE TABLE @extschema@.plan_steps (
	tenant_id	uuid NOT NULL,
	plan_id		text NOT NULL,
	step_index	int NOT NULL,
	step_id		text NOT NULL,
	model		text NOT NULL,
	kind		text NOT NULL,
	materialization text NOT NULL,
	run_type	text NOT NULL,
	start_date	date,
	end_date	date,
	parallel_group int NOT NULL,
	depends_on	text[] NOT NULL,
	reason		text NOT NULL,
	sql_sha256	text NOT NULL,
	dependents	text[] NOT NULL,
	PRIMARY KEY (tenant_id, plan_id, step_index),
	FOREIGN KEY (tenant_id, plan_id) REFERENCES @extschema@.plans (tenant_id, plan_id) ON DELETE CASCADE
);
COMMENT ON TABLE @extschema@.plan_steps IS
	'one row per step of each stored plan, in plan order (step_index from 0), with the steps that depend on it';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.plan_steps', '');
SELECT @extschema@._isolate_tenant_table('@extschema@.plan_steps');
GRANT SELECT ON @extschema@.plan_steps TO ironlayer_viewer;
CREATE TRIGGER plan_steps_immutable BEFORE UPDATE ON @extschema@.plan_steps
	FOR EACH ROW EXECUTE FUNCTION @extschema@._plans_immutable();
-- the steps of the plans stored before: from their text, once, and each
-- step's dependents (the steps whose depends_on lists it, in id order)
WITH s AS (
	SELECT p.tenant_id, p.plan_id, x.ord, x.step
	  FROM @extschema@.plans p
	 CROSS JOIN LATERAL pg_catalog.json_array_elements(p.plan OPERATOR(pg_catalog.->) 'steps')
		   WITH ORDINALITY AS x(step, ord)),
r AS (
	SELECT s.tenant_id, s.plan_id, u.id,
		   pg_catalog.array_agg(s.step OPERATOR(pg_catalog.->>) 'step_id'
								ORDER BY (s.step OPERATOR(pg_catalog.->>) 'step_id') COLLATE "C") AS ids
	  FROM s CROSS JOIN LATERAL pg_catalog.json_array_elements_text(s.step OPERATOR(pg_catalog.->) 'depends_on') u(id)
	 GROUP BY s.tenant_id, s.plan_id, u.id)
INSERT INTO @extschema@.plan_steps (tenant_id, plan_id, step_index, step_id, model, kind, materialization, run_type,
									start_date, end_date, parallel_group, depends_on, reason, sql_sha256, dependents)
SELECT s.tenant_id, s.plan_id, s.ord::int OPERATOR(pg_catalog.-) 1,
	   s.step OPERATOR(pg_catalog.->>) 'step_id', s.step OPERATOR(pg_catalog.->>) 'model',
	   s.step OPERATOR(pg_catalog.->>) 'kind', s.step OPERATOR(pg_catalog.->>) 'materialization',
	   s.step OPERATOR(pg_catalog.->>) 'run_type',
	   ((s.step OPERATOR(pg_catalog.->) 'input_range') OPERATOR(pg_catalog.->>) 'start')::date,
	   ((s.step OPERATOR(pg_catalog.->) 'input_range') OPERATOR(pg_catalog.->>) 'end')::date,
	   (s.step OPERATOR(pg_catalog.->>) 'parallel_group')::int,
	   ARRAY(SELECT pg_catalog.json_array_elements_text(s.step OPERATOR(pg_catalog.->) 'depends_on')),
	   s.step OPERATOR(pg_catalog.->>) 'reason', s.step OPERATOR(pg_catalog.->>) 'sql_sha256',
	   COALESCE(r.ids, '{}')
  FROM s LEFT JOIN r ON r.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND r.plan_id OPERATOR(pg_catalog.=) s.plan_id
					AND r.id OPERATOR(pg_catalog.=) (s.step OPERATOR(pg_catalog.->>) 'step_id');

-- src/sql/70_environments.sql: environments.name takes the slug domain
ALTER TABLE @extschema@.environments ALTER COLUMN name TYPE @extschema@.slug;
ALTER TABLE @extschema@.environments DROP CONSTRAINT environments_name_check;
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
	valid constant text := 'approvals_required, approver_must_differ, auto_approve, executor, lock_timeout, max_running_steps, run_as, schema_prefix, settings, statement_timeout';
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

-- src/sql/72_runs.sql
DROP INDEX @extschema@.run_steps_runnable;
-- a run's unfinished steps, those claimed last first: complete_step's test
-- for a step left finds one of them at once, not after the entries of every
-- step finished since the oldest snapshot (which a held snapshot keeps)
CREATE INDEX run_steps_runnable ON @extschema@.run_steps
	(tenant_id, run_id, state, parallel_group DESC, step_index DESC)
	WHERE state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'running']);

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

-- src/sql/73_queue.sql
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
	-- A running step whose lease expired (its worker died: its transaction
	-- never committed) comes first; one whose workers died three times
	-- (killed, crashed, or ended past the statement_timeout) is not tried
	-- again: it fails (completed in the name of the lease's owner: the row
	-- is locked here once, and written once, by complete_step).
	LOOP
		SELECT x.tenant_id, x.run_id, x.step_id, x.attempts, x.lease_owner INTO s
		  FROM @extschema@.run_steps x
		 WHERE x.state OPERATOR(pg_catalog.=) 'running' AND x.lease_until OPERATOR(pg_catalog.<) pg_catalog.now()
		 ORDER BY x.lease_until
		 LIMIT 1
		   FOR UPDATE SKIP LOCKED;
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
BEGIN
	PERFORM @extschema@._refuse_in_model_sql('complete steps');
	-- telemetry is cut when stored (scrubbed to 4 kB); what comes in is bounded too
	PERFORM @extschema@._check_size('step_id', complete_step.step_id, 64);
	PERFORM @extschema@._check_size('the worker name', worker, 256);
	PERFORM @extschema@._check_size('executor', complete_step.executor, 64);
	PERFORM @extschema@._check_size('statement_sha256', complete_step.statement_sha256, 64);
	PERFORM @extschema@._check_size('error_class', complete_step.error_class, 64);
	PERFORM @extschema@._check_size('error_message', complete_step.error_message, 65536);
	-- the outcome, written by the one statement that locks the step's row,
	-- if this worker still holds it
	UPDATE @extschema@.run_steps x
	   SET state = CASE WHEN ok THEN 'succeeded' ELSE 'failed' END,
		   finished_at = pg_catalog.clock_timestamp(), lease_owner = NULL, lease_until = NULL,
		   rows_affected = complete_step.rows_affected, statement_sha256 = complete_step.statement_sha256,
		   executor = complete_step.executor,
		   error_class = @extschema@._scrub(complete_step.error_class),
		   error_message = @extschema@._scrub(complete_step.error_message, true)
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
