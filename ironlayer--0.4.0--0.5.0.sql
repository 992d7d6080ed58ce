-- ironlayer 0.4.0 -> 0.5.0 upgrade script (ALTER EXTENSION ironlayer UPDATE).
--
-- It turns an install of 0.4.0 into what src/sql/ installs in 0.5.0. Every
-- change to src/sql/ adds its statements here in the same commit, after a
-- line naming the part it changed ("-- src/sql/NN_part.sql"; parts in name
-- order), written as in src/sql/: @extschema@ for the schema,
-- 'MODULE_PATHNAME' for the library, operators qualified. The rules of
-- ironlayer--0.1.0--0.2.0.sql hold here too; test/sql/upgrade.sql compares
-- an install updated along the chain with a fresh one. 0.5.0 is unreleased
-- until it ships: one definition per function here.
\echo Use "ALTER EXTENSION ironlayer UPDATE TO '0.5.0'" to load this file. \quit

-- src/sql/60_plans.sql: show_plan(), a stored plan's steps as a table
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
