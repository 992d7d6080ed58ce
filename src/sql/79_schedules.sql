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
