--
-- Schedules through SQL: schedule() and its errors without and with
-- pg_cron (the regression cluster preloads it; contrib_regression may
-- create it, and its jobs are never run here, for the launcher reads the
-- jobs of cron.database_name), the pg_cron job it makes, the view, tick()
-- and its outcomes, bounds, privileges and other tenants.
--
\set SHOW_CONTEXT never
CREATE ROLE regress_sc_ann; GRANT ironlayer_admin TO regress_sc_ann;
CREATE ROLE regress_sc_eng; GRANT ironlayer_engineer TO regress_sc_eng;
CREATE ROLE regress_sc_eve; GRANT ironlayer_engineer TO regress_sc_eve;
CREATE ROLE regress_sc_vic; GRANT ironlayer_viewer TO regress_sc_vic;
CREATE ROLE regress_sc_oth; GRANT ironlayer_admin TO regress_sc_oth;
CREATE ROLE regress_sc_runner; GRANT regress_sc_runner TO regress_sc_ann;
SET ROLE regress_sc_ann;
SELECT ironlayer.create_tenant('sched-a') IS NOT NULL AS created;
SELECT ironlayer.add_member('sched-a', 'regress_sc_eng', 'engineer');
SELECT ironlayer.add_member('sched-a', 'regress_sc_eve', 'engineer');
SELECT ironlayer.add_member('sched-a', 'regress_sc_vic', 'viewer');
SET ROLE regress_sc_oth;
SELECT ironlayer.create_tenant('sched-b') IS NOT NULL AS created;
RESET ROLE;
SELECT ironlayer.grant_repo('sched-a', 'shop');
SELECT ironlayer.grant_repo('sched-b', 'shop');
SET ROLE regress_sc_oth;
SELECT ironlayer.use_tenant('sched-b') IS NOT NULL AS bound;
SELECT ironlayer.add_repo('shop-b', 'shop') > 0 AS added;
SET ROLE regress_sc_ann;
SELECT ironlayer.use_tenant('sched-a') IS NOT NULL AS bound;
SELECT ironlayer.add_repo('shop', 'shop') > 0 AS added;
SELECT ironlayer.set_environment('dev', '{"run_as": "regress_sc_runner"}');

-- Without pg_cron in this database: a clear error, and nothing stored.
SET ROLE regress_sc_eng;
SELECT ironlayer.use_tenant('sched-a') IS NOT NULL AS bound;
SELECT try($$SELECT ironlayer.schedule('nightly', '0 3 * * *', '{"repository": "shop", "environment": "dev", "action": "refresh"}')$$) AS no_pg_cron;
SELECT ironlayer.schedule('nightly', '0 3 * * *', '{"repository": "shop", "environment": "dev", "action": "refresh"}');
SELECT count(*) AS schedules FROM ironlayer.schedule_jobs;

-- Bad input: 22023, 22001 or 42704 before anything is scheduled.
SELECT try($$SELECT ironlayer.schedule('Nightly', '0 3 * * *', '{"repository": "shop", "environment": "dev", "action": "refresh"}')$$) AS bad_name;
SELECT try($$SELECT ironlayer.schedule(NULL, '0 3 * * *', '{}')$$) AS null_name;
SELECT try($$SELECT ironlayer.schedule(repeat('n', 64), '0 3 * * *', '{}')$$) AS long_name;
SELECT try($$SELECT ironlayer.schedule('n', $c$0 3 * * *'); DROP TABLE ironlayer.runs; --$c$, '{"repository": "shop", "environment": "dev", "action": "refresh"}')$$) AS sql_in_cron;
SELECT try($$SELECT ironlayer.schedule('n', repeat('* ', 51), '{"repository": "shop", "environment": "dev", "action": "refresh"}')$$) AS long_cron;
SELECT try($$SELECT ironlayer.schedule('n', '* * * * *', '[1]')$$) AS spec_not_object;
SELECT try($$SELECT ironlayer.schedule('n', '* * * * *', jsonb_build_object('repository', repeat('r', 5000)))$$) AS long_spec;
SELECT try($$SELECT ironlayer.schedule('n', '* * * * *', '{"repository": "shop", "environment": "dev", "action": "refresh", "command": "SELECT 1"}')$$) AS unknown_key;
SELECT try($$SELECT ironlayer.schedule('n', '* * * * *', '{"repository": "shop", "environment": "dev"}')$$) AS no_action;
SELECT try($$SELECT ironlayer.schedule('n', '* * * * *', '{"repository": "shop", "environment": "dev", "action": "drop"}')$$) AS bad_action;
SELECT try($$SELECT ironlayer.schedule('n', '* * * * *', '{"environment": "dev", "action": "refresh"}')$$) AS no_repository;
SELECT try($$SELECT ironlayer.schedule('n', '* * * * *', '{"repository": "nope", "environment": "dev", "action": "refresh"}')$$) AS unknown_repository;
SELECT try($$SELECT ironlayer.schedule('n', '* * * * *', '{"repository": "shop-b", "environment": "dev", "action": "refresh"}')$$) AS other_tenants_repository;
SELECT try($$SELECT ironlayer.schedule('n', '* * * * *', '{"repository": "shop", "environment": "qa", "action": "refresh"}')$$) AS unknown_environment;
SELECT try($$SELECT ironlayer.schedule('n', '* * * * *', '{"repository": "shop", "environment": 7, "action": "refresh"}')$$) AS environment_not_text;
SELECT try($$SELECT ironlayer.schedule('n', '* * * * *', '{"repository": "shop", "environment": "dev", "action": "deploy"}')$$) AS deploy_without_branch;
SELECT try($$SELECT ironlayer.schedule('n', '* * * * *', '{"repository": "shop", "environment": "dev", "action": "deploy", "branch": "main~1"}')$$) AS branch_expression;
SELECT try($$SELECT ironlayer.schedule('n', '* * * * *', '{"repository": "shop", "environment": "dev", "action": "deploy", "branch": "a..b"}')$$) AS branch_dots;
SELECT try($$SELECT ironlayer.schedule('n', '* * * * *', '{"repository": "shop", "environment": "dev", "action": "deploy", "branch": "-x"}')$$) AS branch_option;
SELECT try($$SELECT ironlayer.schedule('n', '* * * * *', '{"repository": "shop", "environment": "dev", "action": "refresh", "branch": "main"}')$$) AS refresh_with_branch;
SELECT try($$SELECT ironlayer.schedule('n', '* * * * *', '{"repository": "shop", "environment": "dev", "action": "refresh", "recompute_days": 3651}')$$) AS recompute_too_many;
SELECT try($$SELECT ironlayer.schedule('n', '* * * * *', '{"repository": "shop", "environment": "dev", "action": "refresh", "recompute_days": 1.5}')$$) AS recompute_fraction;
SELECT try($$SELECT ironlayer.schedule('n', '* * * * *', '{"repository": "shop", "environment": "dev", "action": "refresh", "recompute_days": "3"}')$$) AS recompute_text;
SELECT try($$SELECT ironlayer.schedule('n', '* * * * *', '{"repository": "shop", "environment": "dev", "action": "refresh", "lookback_days": 0}')$$) AS lookback_zero;
SET ROLE regress_sc_vic;
SELECT ironlayer.use_tenant('sched-a') IS NOT NULL AS bound;
SELECT try($$SELECT ironlayer.schedule('n', '* * * * *', '{"repository": "shop", "environment": "dev", "action": "refresh"}')$$) AS viewer_schedules;
SELECT try($$SELECT ironlayer.unschedule('n')$$) AS viewer_unschedules;
SELECT try($$SELECT ironlayer.tick(1)$$) AS viewer_ticks;
SET ROLE regress_sc_eng;
SELECT ironlayer.use_tenant('sched-a') IS NOT NULL AS bound;
SELECT try($$SELECT ironlayer.tick(1)$$) AS engineer_ticks;

-- With pg_cron: a job named after the schedule's id, in this database, as
-- the extension's owner, whose command is one call with one integer.
RESET ROLE;
CREATE EXTENSION pg_cron;
-- the install script scheduled nothing
SELECT count(*) AS jobs_before_any_schedule FROM cron.job;
SET ROLE regress_sc_eng;
SELECT ironlayer.use_tenant('sched-a') IS NOT NULL AS bound;
SELECT ironlayer.schedule('nightly', '0 3 * * *', '{"repository": "shop", "environment": "dev", "action": "refresh"}') AS nightly \gset
SELECT ironlayer.schedule('deploy-main', '*/5 * * * *', '{"repository": "shop", "environment": "prod", "action": "deploy", "branch": "main", "lookback_days": 7}') AS deploy_main \gset
SELECT name, cron, spec, owner, jobid IS NOT NULL AS has_job FROM ironlayer.schedule_jobs ORDER BY name;
RESET ROLE;
SELECT j.jobname = 'ironlayer:' || s.schedule_id AS named_by_id, j.schedule,
       j.command = format('SELECT ironlayer.tick(%s)', s.schedule_id) AS one_call,
       j.database = current_database() AS here, j.username = (SELECT extowner::regrole::name FROM pg_extension WHERE extname = 'ironlayer') AS as_owner,
       j.active
  FROM cron.job j JOIN ironlayer.schedule_jobs s ON s.jobid = j.jobid ORDER BY s.name;
SELECT count(*) AS commands_with_text FROM cron.job WHERE command !~ '^SELECT ironlayer\.tick\([0-9]+\)$';
-- set again by name: the same schedule and job, the new cron and spec, and
-- the one who set it owns it now
SET ROLE regress_sc_eve;
SELECT ironlayer.use_tenant('sched-a') IS NOT NULL AS bound;
SELECT ironlayer.schedule('nightly', '30 2 * * *', '{"repository": "shop", "environment": "dev", "action": "refresh", "recompute_days": 0}') = :nightly AS same_id;
SELECT name, cron, spec, owner FROM ironlayer.schedule_jobs WHERE name = 'nightly';
RESET ROLE;
SELECT count(*) AS jobs, min(schedule) AS schedule FROM cron.job WHERE jobname = 'ironlayer:' || :nightly;
-- pg_cron parses the schedule: what it refuses is 22023
SET ROLE regress_sc_eng;
SELECT ironlayer.use_tenant('sched-a') IS NOT NULL AS bound;
SELECT try($$SELECT ironlayer.schedule('n', '10 seconds', '{"repository": "shop", "environment": "dev", "action": "refresh"}')$$) AS seconds;
SELECT try($$SELECT ironlayer.schedule('n', '61 * * * *', '{"repository": "shop", "environment": "dev", "action": "refresh"}')$$) AS minute_61;
SELECT count(*) AS schedules FROM ironlayer.schedule_jobs;

-- The view: never a tick yet.
SELECT name, cron, owner, last_tick_at, last_outcome, last_detail, last_plan_id, last_run_id, cron_status, cron_message
  FROM ironlayer.schedules ORDER BY name;
SET ROLE regress_sc_vic;
SELECT ironlayer.use_tenant('sched-a') IS NOT NULL AS bound;
SELECT count(*) AS viewer_sees FROM ironlayer.schedules;
-- another tenant sees none of it, pg_cron's runs included
SET ROLE regress_sc_oth;
SELECT ironlayer.use_tenant('sched-b') IS NOT NULL AS bound;
SELECT count(*) AS other_tenant_sees FROM ironlayer.schedules;
SELECT count(*) AS other_tenant_ticks FROM ironlayer.schedule_ticks;
SELECT ironlayer.unschedule('nightly') AS other_tenant_unschedules;
SELECT try($$SELECT count(*) FROM cron.job_run_details$$) AS cron_log_of_others;
RESET ROLE;
-- pg_cron's run of a job, as the view shows it (the launcher writes these)
INSERT INTO cron.job_run_details (jobid, runid, job_pid, database, username, command, status, return_message, start_time, end_time)
SELECT jobid, nextval('cron.runid_seq'), 1, current_database(), 'x', 'SELECT ironlayer.tick(' || schedule_id || ')', 'failed',
       'server restarted', now(), now()
  FROM ironlayer.schedule_jobs WHERE name = 'nightly';
SET ROLE regress_sc_oth;
SELECT ironlayer.use_tenant('sched-b') IS NOT NULL AS bound;
SELECT count(*) AS other_tenant_cron_runs FROM ironlayer._schedule_cron_runs();
SET ROLE regress_sc_eng;
SELECT ironlayer.use_tenant('sched-a') IS NOT NULL AS bound;
SELECT name, cron_status, cron_message FROM ironlayer.schedules ORDER BY name;

-- Ticks (called here directly, as pg_cron's job does, by a superuser).
-- The owner of nightly (eve) leaves the tenant: the tick does nothing and
-- says why.
RESET ROLE;
SELECT ironlayer.use_tenant('sched-b') IS NOT NULL AS superuser_bound;
SET ROLE regress_sc_ann;
SELECT ironlayer.remove_member('sched-a', 'regress_sc_eve');
RESET ROLE;
SELECT ironlayer.tick(:nightly) AS owner_removed;
SELECT ironlayer.current_tenant() = (SELECT tenant_id FROM ironlayer.tenants WHERE name = 'sched-b') AS still_bound;
SET ROLE regress_sc_ann;
SELECT ironlayer.add_member('sched-a', 'regress_sc_eve', 'viewer');
RESET ROLE;
SELECT ironlayer.tick(:nightly) AS owner_viewer;
DROP OWNED BY regress_sc_eve;
SET ROLE regress_sc_ann;
SELECT ironlayer.remove_member('sched-a', 'regress_sc_eve');
RESET ROLE;
DROP ROLE regress_sc_eve;
SELECT ironlayer.tick(:nightly) AS owner_dropped;
SET ROLE regress_sc_eng;
SELECT ironlayer.use_tenant('sched-a') IS NOT NULL AS bound;
SELECT outcome, detail, plan_id, run_id FROM ironlayer.schedule_ticks ORDER BY tick_id;
SELECT name, last_outcome, last_detail FROM ironlayer.schedules WHERE name = 'nightly';

-- An active run of the repository in the environment: skipped, recorded.
SET ROLE regress_sc_eng;
SELECT ironlayer.use_tenant('sched-a') IS NOT NULL AS bound;
SELECT ironlayer.schedule('nightly', '30 2 * * *', '{"repository": "shop", "environment": "dev", "action": "refresh"}') = :nightly AS same_id;
SELECT ironlayer.apply(ironlayer.plan('shop', 'v1', 'main', '2026-01-15')->>'plan_id', 'dev') AS active_run \gset
RESET ROLE;
SELECT ironlayer.tick(:nightly) AS during_run;
SET ROLE regress_sc_eng;
SELECT ironlayer.use_tenant('sched-a') IS NOT NULL AS bound;
SELECT outcome, regexp_replace(detail, 'run \d+ ', 'run N ') AS detail, run_id = :active_run AS the_active_run
  FROM ironlayer.schedule_ticks ORDER BY tick_id DESC LIMIT 1;
SELECT ironlayer.cancel(:active_run);

-- Deploy and refresh ticks. (The ticks plan as of the day they run, so
-- plan ids and dates are not shown; no worker runs here, so the runs stay
-- pending until cancelled.) A refresh before anything is deployed fails,
-- saying so.
RESET ROLE;
SELECT ironlayer.tick(:nightly) AS refresh_before_deploy;
SET ROLE regress_sc_eng;
SELECT ironlayer.use_tenant('sched-a') IS NOT NULL AS bound;
SELECT outcome, detail, plan_id IS NULL AS no_plan FROM ironlayer.schedule_ticks ORDER BY tick_id DESC LIMIT 1;
-- a deploy in dev (auto-approved): the plan from nothing deployed to the
-- branch head, applied as the owner
SELECT ironlayer.schedule('deploy-dev', '*/10 * * * *', '{"repository": "shop", "environment": "dev", "action": "deploy", "branch": "main"}') AS deploy_dev \gset
RESET ROLE;
SELECT ironlayer.tick(:deploy_dev) AS deploy_in_dev;
SET ROLE regress_sc_eng;
SELECT ironlayer.use_tenant('sched-a') IS NOT NULL AS bound;
SELECT t.outcome, regexp_replace(t.detail, '[0-9a-f]{64}|\d+$', 'N', 'g') AS detail,
       p.kind, p.base = repeat('0', 40) AS from_nothing, p.target = ironlayer.resolve_commit('shop', 'main') AS to_head,
       p.environment, p.created_by AS planned_by, r.created_by AS applied_by, r.state
  FROM ironlayer.schedule_ticks t JOIN ironlayer.plans p USING (tenant_id, plan_id) JOIN ironlayer.runs r USING (tenant_id, run_id)
 ORDER BY t.tick_id DESC LIMIT 1;
-- its run succeeds (by hand: no worker runs in this cluster), and the
-- environment has deployed the branch head: the next tick is up to date
RESET ROLE;
UPDATE ironlayer.run_steps SET state = 'succeeded' WHERE run_id = (SELECT max(run_id) FROM ironlayer.schedule_ticks WHERE schedule_id = :deploy_dev);
UPDATE ironlayer.runs SET state = 'succeeded', finished_at = now() WHERE run_id = (SELECT max(run_id) FROM ironlayer.schedule_ticks WHERE schedule_id = :deploy_dev);
SELECT ironlayer.tick(:deploy_dev) AS deploy_again;
SET ROLE regress_sc_eng;
SELECT ironlayer.use_tenant('sched-a') IS NOT NULL AS bound;
SELECT commit = ironlayer.resolve_commit('shop', 'main') AS head_deployed, deployed_by FROM ironlayer.deployed_commits WHERE environment = 'dev';
SELECT outcome, replace(detail, ironlayer.resolve_commit('shop', 'main'), 'HEAD') AS detail, run_id FROM ironlayer.schedule_ticks ORDER BY tick_id DESC LIMIT 1;
-- a refresh at the deployed commit re-loads the last 3 days of every
-- incremental model (recompute_days 3)
RESET ROLE;
SELECT ironlayer.tick(:nightly) AS refresh;
SET ROLE regress_sc_eng;
SELECT ironlayer.use_tenant('sched-a') IS NOT NULL AS bound;
SELECT t.outcome, p.kind, p.base = p.target AND p.target = ironlayer.resolve_commit('shop', 'main') AS at_deployed,
       p.plan->'options'->'recompute_days' AS recompute_days, r.created_by, r.state
  FROM ironlayer.schedule_ticks t JOIN ironlayer.plans p USING (tenant_id, plan_id) JOIN ironlayer.runs r USING (tenant_id, run_id)
 ORDER BY t.tick_id DESC LIMIT 1;
SELECT ironlayer.cancel(run_id) FROM ironlayer.schedule_ticks ORDER BY tick_id DESC LIMIT 1;
-- with every incremental model loaded up to the tick's day, a refresh
-- that recomputes nothing has nothing to do
SET ROLE regress_sc_ann;
SELECT ironlayer.use_tenant('sched-a') IS NOT NULL AS bound;
SELECT count(ironlayer.set_watermark('shop', 'dev', model, '2025-01-01', (now() AT TIME ZONE 'UTC')::date)) AS watermarks
  FROM (SELECT DISTINCT s.model FROM ironlayer.plan_steps s JOIN ironlayer.plans p USING (tenant_id, plan_id)
         WHERE p.kind = 'refresh' AND s.kind IN ('INCREMENTAL_BY_TIME_RANGE', 'APPEND_ONLY')) m;
SET ROLE regress_sc_eng;
SELECT ironlayer.use_tenant('sched-a') IS NOT NULL AS bound;
SELECT ironlayer.schedule('nightly', '30 2 * * *', '{"repository": "shop", "environment": "dev", "action": "refresh", "recompute_days": 0}') = :nightly AS same_id;
RESET ROLE;
SELECT ironlayer.tick(:nightly) AS refresh_nothing_due;
SET ROLE regress_sc_eng;
SELECT ironlayer.use_tenant('sched-a') IS NOT NULL AS bound;
SELECT outcome, regexp_replace(replace(detail, ironlayer.resolve_commit('shop', 'main'), 'HEAD'), '\d{4}-\d\d-\d\d', 'TODAY') AS detail,
       plan_id IS NOT NULL AS planned, run_id FROM ironlayer.schedule_ticks ORDER BY tick_id DESC LIMIT 1;
SELECT ironlayer.schedule('nightly', '30 2 * * *', '{"repository": "shop", "environment": "dev", "action": "refresh"}') = :nightly AS same_id;
-- a deploy in prod waits for approval (author and approver must differ);
-- the next tick finds the same plan waiting; approved, the next applies it
RESET ROLE;
SELECT ironlayer.tick(:deploy_main) AS deploy_in_prod, ironlayer.tick(:deploy_main) AS again;
SET ROLE regress_sc_eng;
SELECT ironlayer.use_tenant('sched-a') IS NOT NULL AS bound;
SELECT outcome, regexp_replace(detail, '[0-9a-f]{64}', 'P') AS detail, run_id
  FROM ironlayer.schedule_ticks WHERE schedule_id = :deploy_main ORDER BY tick_id;
SELECT count(DISTINCT plan_id) AS one_plan FROM ironlayer.schedule_ticks WHERE schedule_id = :deploy_main;
SELECT try(format($$SELECT ironlayer.approve(%L, 'prod')$$, plan_id)) AS author_approves
  FROM ironlayer.schedule_ticks WHERE schedule_id = :deploy_main ORDER BY tick_id DESC LIMIT 1;
SET ROLE regress_sc_ann;
SELECT ironlayer.use_tenant('sched-a') IS NOT NULL AS bound;
SELECT ironlayer.approve(plan_id, 'prod') FROM ironlayer.schedule_ticks WHERE schedule_id = :deploy_main ORDER BY tick_id DESC LIMIT 1;
RESET ROLE;
SELECT ironlayer.tick(:deploy_main) AS approved;
SET ROLE regress_sc_eng;
SELECT ironlayer.use_tenant('sched-a') IS NOT NULL AS bound;
SELECT r.environment, r.created_by, r.state FROM ironlayer.schedule_ticks t JOIN ironlayer.runs r USING (tenant_id, run_id)
 WHERE t.schedule_id = :deploy_main AND t.outcome = 'applied';
SELECT ironlayer.cancel(run_id) FROM ironlayer.schedule_ticks WHERE schedule_id = :deploy_main AND outcome = 'applied';
-- a rejected plan: the ticks say who rejected it and why
SET ROLE regress_sc_ann;
SELECT ironlayer.use_tenant('sched-a') IS NOT NULL AS bound;
SELECT ironlayer.schedule('deploy-prod-7', '0 6 * * *', '{"repository": "shop", "environment": "prod", "action": "deploy", "branch": "main", "lookback_days": 8}') AS deploy_prod_7 \gset
RESET ROLE;
SELECT ironlayer.tick(:deploy_prod_7) AS waiting;
SET ROLE regress_sc_eng;
SELECT ironlayer.use_tenant('sched-a') IS NOT NULL AS bound;
SELECT ironlayer.reject(plan_id, 'prod', 'not on a Friday') FROM ironlayer.schedule_ticks WHERE schedule_id = :deploy_prod_7;
RESET ROLE;
SELECT ironlayer.tick(:deploy_prod_7) AS rejected;
SET ROLE regress_sc_eng;
SELECT ironlayer.use_tenant('sched-a') IS NOT NULL AS bound;
SELECT outcome, regexp_replace(detail, '[0-9a-f]{64}', 'P') AS detail FROM ironlayer.schedule_ticks
 WHERE schedule_id = :deploy_prod_7 ORDER BY tick_id;
-- a branch that does not exist (any more): failed, saying so
SELECT ironlayer.schedule('deploy-gone', '0 6 * * *', '{"repository": "shop", "environment": "dev", "action": "deploy", "branch": "no-such-branch"}') AS deploy_gone \gset
RESET ROLE;
SELECT ironlayer.tick(:deploy_gone) AS unknown_branch;
SET ROLE regress_sc_eng;
SELECT ironlayer.use_tenant('sched-a') IS NOT NULL AS bound;
SELECT outcome, detail FROM ironlayer.schedule_ticks WHERE schedule_id = :deploy_gone;
SELECT ironlayer.unschedule('deploy-gone'), ironlayer.unschedule('deploy-prod-7'), ironlayer.unschedule('deploy-dev');

-- A tick of a schedule that does not exist does nothing (and removes a
-- job left behind under its name).
RESET ROLE;
SELECT ironlayer.tick(-1) AS no_schedule;

-- Bounded logs: the last 1,000 ticks of a schedule, pg_cron's last 100
-- runs of its job.
SET ROLE regress_sc_ann;
SELECT ironlayer.add_member('sched-a', 'regress_sc_eng', 'viewer');
RESET ROLE;
SELECT count(ironlayer.tick(:nightly)) AS ticks FROM generate_series(1, 1005);
INSERT INTO cron.job_run_details (jobid, runid, job_pid, database, username, command, status, return_message, start_time, end_time)
SELECT s.jobid, nextval('cron.runid_seq'), 1, current_database(), 'x', 'SELECT 1', 'succeeded', 'SELECT 1', now(), now()
  FROM ironlayer.schedule_jobs s, generate_series(1, 150) WHERE s.name = 'nightly';
SELECT ironlayer.tick(:nightly) AS one_more;
SELECT count(*) AS ticks_kept, count(DISTINCT outcome) AS outcomes FROM ironlayer.schedule_ticks WHERE schedule_id = :nightly;
SELECT count(*) AS cron_runs_kept FROM cron.job_run_details WHERE jobid = (SELECT jobid FROM ironlayer.schedule_jobs WHERE name = 'nightly');
SET ROLE regress_sc_ann;
SELECT ironlayer.add_member('sched-a', 'regress_sc_eng', 'engineer');

-- At most 100 schedules a tenant.
SET ROLE regress_sc_eng;
SELECT ironlayer.use_tenant('sched-a') IS NOT NULL AS bound;
SELECT count(ironlayer.schedule('s' || i, '0 0 * * *', '{"repository": "shop", "environment": "dev", "action": "refresh"}'))
  FROM generate_series(1, 98) i;
SELECT try($$SELECT ironlayer.schedule('s99', '0 0 * * *', '{"repository": "shop", "environment": "dev", "action": "refresh"}')$$) AS schedule_101;
SELECT ironlayer.schedule('s1', '0 1 * * *', '{"repository": "shop", "environment": "dev", "action": "refresh"}') > 0 AS changing_one_is_fine;

-- unschedule: the schedule, its ticks and its job go; the audit log has it all.
SELECT ironlayer.unschedule('nightly') AS removed, ironlayer.unschedule('nightly') AS again;
SELECT count(*) AS ticks_left FROM ironlayer.schedule_ticks WHERE schedule_id = :nightly;
SELECT count(ironlayer.unschedule('s' || i)) FROM generate_series(1, 98) i;
RESET ROLE;
SELECT count(*) AS jobs_left, min(jobname) = 'ironlayer:' || :deploy_main AS the_deploy_one FROM cron.job;
SELECT action, entity_id, details->>'owner' AS owner, details->>'cron' AS cron FROM ironlayer.audit_log
 WHERE action LIKE 'schedule.%' AND entity_id IN ('nightly', 'deploy-main') ORDER BY seq;
-- a job of a schedule whose row is gone is removed by its next tick
SELECT cron.schedule('ironlayer:-7', '0 0 * * *', 'SELECT ironlayer.tick(-7)') > 0 AS stray_job;
SELECT ironlayer.tick(-7) AS stray_tick;
SELECT count(*) AS stray_jobs_left FROM cron.job WHERE jobname = 'ironlayer:-7';
-- a dropped tenant's schedules and jobs go with it
SET ROLE regress_sc_oth;
SELECT ironlayer.use_tenant('sched-b') IS NOT NULL AS bound;
SELECT ironlayer.schedule('b-nightly', '0 3 * * *', '{"repository": "shop-b", "environment": "dev", "action": "refresh"}') > 0 AS scheduled;
RESET ROLE;
SELECT count(*) AS jobs FROM cron.job;
DELETE FROM ironlayer.tenants WHERE name = 'sched-b';
SELECT count(*) AS jobs_after_drop FROM cron.job;
DROP EXTENSION pg_cron;
