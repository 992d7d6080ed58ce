-- Watermarks and plans (docs/plan-format.md, docs/sql-reference.md).

-- How far each model of a repository has been loaded, per environment. The
-- planner reads the watermarks of the plan's environment.
CREATE TABLE @extschema@.watermarks (
	tenant_id	uuid NOT NULL REFERENCES @extschema@.tenants (tenant_id) ON DELETE CASCADE,
	repo_id		bigint NOT NULL,
	environment	@extschema@.slug NOT NULL,
	model		text NOT NULL CHECK (model OPERATOR(pg_catalog.=) pg_catalog.lower(model)),
	start_date	date NOT NULL,
	end_date	date NOT NULL,
	updated_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	updated_by	name NOT NULL,
	-- the repository's name (repos.name, fixed for its repo_id), written by
	-- _put_watermark so that the table reads without a join
	repository	@extschema@.dotted_slug NOT NULL,
	PRIMARY KEY (tenant_id, repo_id, environment, model),
	FOREIGN KEY (tenant_id, repo_id) REFERENCES @extschema@.repos (tenant_id, repo_id) ON DELETE CASCADE,
	CHECK (start_date OPERATOR(pg_catalog.<=) end_date)
);
COMMENT ON TABLE @extschema@.watermarks IS
	'the date range each model of a repository has been loaded for, per environment';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.watermarks', '');
SELECT @extschema@._isolate_tenant_table('@extschema@.watermarks');
GRANT SELECT ON @extschema@.watermarks TO ironlayer_viewer;

-- The one writer of watermarks (set_watermark, and the executor after a
-- step of a model that keeps history, src/pg/executor.c): checks the days,
-- then stores the range, or with widen grows the stored range to cover the
-- new one too (a step adds to what is loaded). The callers check the rest.
-- (internal)
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
		(tenant_id, repo_id, environment, model, start_date, end_date, updated_by, repository)
	VALUES (tid, rid, env, m, from_day, to_day, actor,
			(SELECT r.name FROM @extschema@.repos r
			  WHERE r.tenant_id OPERATOR(pg_catalog.=) tid AND r.repo_id OPERATOR(pg_catalog.=) rid))
	ON CONFLICT ON CONSTRAINT watermarks_pkey DO UPDATE
		SET start_date = CASE WHEN widen THEN LEAST(w.start_date, EXCLUDED.start_date) ELSE EXCLUDED.start_date END,
			end_date = CASE WHEN widen THEN GREATEST(w.end_date, EXCLUDED.end_date) ELSE EXCLUDED.end_date END,
			updated_at = pg_catalog.now(), updated_by = EXCLUDED.updated_by;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._put_watermark(uuid, bigint, text, text, date, date, name, boolean) FROM PUBLIC;

CREATE FUNCTION @extschema@.set_watermark(repo text, environment text, model text,
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
COMMENT ON FUNCTION @extschema@.set_watermark(text, text, text, date, date) IS
	'record that a model of a repository is loaded from start_date to end_date in an environment (tenant admins)';

-- Stored plans: content-addressed and immutable.
CREATE TABLE @extschema@.plans (
	tenant_id	uuid NOT NULL REFERENCES @extschema@.tenants (tenant_id) ON DELETE CASCADE,
	plan_id		text NOT NULL CHECK (plan_id OPERATOR(pg_catalog.~) '^[0-9a-f]{64}$'),
	repository	text NOT NULL,
	base		text NOT NULL CHECK (base OPERATOR(pg_catalog.~) '^[0-9a-f]{40}$'),
	target		text NOT NULL CHECK (target OPERATOR(pg_catalog.~) '^[0-9a-f]{40}$'),
	environment	text NOT NULL,
	as_of		date NOT NULL,
	plan		json NOT NULL,
	created_by	name NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	-- change (from base to target), refresh or backfill (at one commit)
	kind		text NOT NULL DEFAULT 'change'
		CONSTRAINT plans_kind_check
		CHECK (kind OPERATOR(pg_catalog.=) ANY (ARRAY['change', 'refresh', 'backfill'])),
	PRIMARY KEY (tenant_id, plan_id)
);
COMMENT ON TABLE @extschema@.plans IS
	'plans made by ironlayer.plan(): the canonical text, keyed by its SHA-256; never updated';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.plans', '');
SELECT @extschema@._isolate_tenant_table('@extschema@.plans');
GRANT SELECT ON @extschema@.plans TO ironlayer_viewer;

CREATE FUNCTION @extschema@._plans_immutable() RETURNS trigger
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
		MESSAGE = 'stored plans are immutable',
		DETAIL = 'A plan is identified by the SHA-256 of its text; plan again to make another one.';
END
$$;
REVOKE ALL ON FUNCTION @extschema@._plans_immutable() FROM PUBLIC;
CREATE TRIGGER plans_immutable BEFORE UPDATE ON @extschema@.plans
	FOR EACH ROW EXECUTE FUNCTION @extschema@._plans_immutable();

CREATE FUNCTION @extschema@.plan(repo text, base text, head text,
								 as_of date DEFAULT CURRENT_DATE,
								 options jsonb DEFAULT '{}') RETURNS json
	LANGUAGE C VOLATILE PARALLEL RESTRICTED SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'ironlayer_plan';
COMMENT ON FUNCTION @extschema@.plan(text, text, text, date, jsonb) IS
	'the deterministic plan of a kind (change from base to head; refresh or backfill at head), stored in ironlayer.plans (engineers and admins); a NULL base or head is what the environment deployed';

-- The options of plan_refresh() and plan_backfill(): the caller's options
-- with kind, environment and the wrapper's own keys, which the caller's
-- options must not hold. (internal)
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

-- Dates of a backfill as the plan options write them. (internal)
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

-- show_plan(): a stored plan's steps as a table, in plan order: what
-- `ironlayer show` prints and what the demo prints. The plan is named by its
-- id or by a prefix of it of at least 8 hex digits that only one plan of the
-- bound tenant has. Security invoker: plans and plan_steps keep their row
-- level security.
CREATE FUNCTION @extschema@.show_plan(plan_id text)
	RETURNS TABLE (step int, parallel_group int, model text, run_type text, input_range text, reason text,
				   step_id text)
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	pid text;
	n bigint;
BEGIN
	IF show_plan.plan_id IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'plan_id must not be null';
	END IF;
	IF show_plan.plan_id OPERATOR(pg_catalog.!~) '^[0-9a-f]{8,64}$' THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = pg_catalog.format('invalid plan id "%s"', pg_catalog.left(show_plan.plan_id, 80)),
			DETAIL = 'A plan id is 64 lower-case hex digits; a prefix of at least 8 of them names the one plan that has it.';
	END IF;
	SELECT pg_catalog.min(p.plan_id), pg_catalog.count(*) INTO pid, n
	  FROM @extschema@.plans p
	 WHERE pg_catalog.starts_with(p.plan_id, show_plan.plan_id)
	   AND p.tenant_id OPERATOR(pg_catalog.=) @extschema@.current_tenant();
	IF n OPERATOR(pg_catalog.=) 0 THEN
		RAISE EXCEPTION USING ERRCODE = 'undefined_object',
			MESSAGE = pg_catalog.format('plan %s does not exist', show_plan.plan_id),
			HINT = 'ironlayer.plans lists the plans of the bound tenant (ironlayer.use_tenant() binds one).';
	ELSIF n OPERATOR(pg_catalog.>) 1 THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = pg_catalog.format('plan id prefix %s is ambiguous: %s plans start with it', show_plan.plan_id, n),
			HINT = 'Give more digits of the plan id.';
	END IF;
	RETURN QUERY
		SELECT s.step_index OPERATOR(pg_catalog.+) 1, s.parallel_group, s.model, s.run_type,
			   CASE WHEN s.start_date IS NOT NULL
					THEN pg_catalog.to_char(s.start_date, 'YYYY-MM-DD') OPERATOR(pg_catalog.||) ' .. '
						 OPERATOR(pg_catalog.||) pg_catalog.to_char(s.end_date, 'YYYY-MM-DD') END,
			   s.reason, s.step_id
		  FROM @extschema@.plan_steps s
		 WHERE s.tenant_id OPERATOR(pg_catalog.=) @extschema@.current_tenant()
		   AND s.plan_id OPERATOR(pg_catalog.=) pid
		 ORDER BY s.step_index;
END
$$;
COMMENT ON FUNCTION @extschema@.show_plan(text) IS
	'a stored plan''s steps in plan order (step from 1): group, model, run type, input range, reason; the plan named by its id or a unique prefix of 8 or more hex digits';
REVOKE ALL ON FUNCTION @extschema@.show_plan(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.show_plan(text) TO ironlayer_viewer;
