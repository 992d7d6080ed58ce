--
-- Deployment state through SQL (docs/runs.md, "Deployments"): the first
-- deployment of a repository from nothing, change plans from what is
-- deployed (a NULL base), the compare-and-swap when a run succeeds, stale
-- plans refused where the environment says so (apply and retry), plans
-- bound to their environment, a rejection withdrawn, the refresh and
-- backfill entry points, the events channel; and what another tenant can
-- reach of all this (nothing).
--
\set SHOW_CONTEXT never
CREATE ROLE regress_dp_ann; GRANT ironlayer_admin TO regress_dp_ann;
CREATE ROLE regress_dp_eng; GRANT ironlayer_engineer TO regress_dp_eng;
CREATE ROLE regress_dp_eve; GRANT ironlayer_engineer TO regress_dp_eve;
CREATE ROLE regress_dp_vic; GRANT ironlayer_viewer TO regress_dp_vic;
CREATE ROLE regress_dp_mal; GRANT ironlayer_admin TO regress_dp_mal;
SET ROLE regress_dp_ann;
SELECT ironlayer.create_tenant('deploy-a') IS NOT NULL AS created;
SELECT ironlayer.add_member('deploy-a', 'regress_dp_eng', 'engineer');
SELECT ironlayer.add_member('deploy-a', 'regress_dp_eve', 'engineer');
SELECT ironlayer.add_member('deploy-a', 'regress_dp_vic', 'viewer');
RESET ROLE;
SELECT ironlayer.grant_repo('deploy-a', 'deploy');
SET ROLE regress_dp_ann;
SELECT ironlayer.use_tenant('deploy-a') IS NOT NULL AS bound;
SELECT ironlayer.add_repo('deploy', 'deploy') > 0 AS added;
-- the fixture's commits, by tag
SELECT ironlayer.resolve_commit('deploy', 'd0') AS d0, ironlayer.resolve_commit('deploy', 'd1') AS d1,
       ironlayer.resolve_commit('deploy', 'd2') AS d2, ironlayer.resolve_commit('deploy', 'd3') AS d3 \gset

-- A worker that runs every ready step of a run and records each outcome
-- (no background workers here): the superuser claims as workers do.
RESET ROLE;
CREATE FUNCTION public.work(rid bigint, ok boolean DEFAULT true) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	s record;
BEGIN
	LOOP
		SELECT * INTO s FROM ironlayer.claim_step('regress_dp_worker') c WHERE c.run_id = rid;
		EXIT WHEN NOT FOUND;
		PERFORM ironlayer.complete_step(rid, s.step_id, 'regress_dp_worker', ok, 1, repeat('0', 64), 'postgres',
										CASE WHEN ok THEN NULL ELSE '42P01' END, CASE WHEN ok THEN NULL ELSE 'failed here' END);
	END LOOP;
	RETURN (SELECT state FROM ironlayer.runs r WHERE r.run_id = rid);
END $$;

-- full(sql): the SQLSTATE, message, detail and hint of the error sql raises.
CREATE FUNCTION public.full_error(sql text) RETURNS TABLE (state text, message text, detail text, hint text)
	LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE sql;
	state := 'ok';
	RETURN NEXT;
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL,
							hint = PG_EXCEPTION_HINT;
	RETURN NEXT;
END $$;
GRANT EXECUTE ON FUNCTION public.full_error(text) TO PUBLIC;

-- refuse_stale_plans: false in dev, true in prod and in new environments.
SET ROLE regress_dp_ann;
SELECT ironlayer.use_tenant('deploy-a') IS NOT NULL AS bound;
SELECT ironlayer.set_environment('qa', '{"auto_approve": true}');
SELECT name, auto_approve, refuse_stale_plans FROM ironlayer.environments ORDER BY name;
SELECT try($$SELECT ironlayer.set_environment('qa', '{"refuse_stale_plans": "yes"}')$$) AS not_boolean;
SELECT ironlayer.set_environment('dev', '{"refuse_stale_plans": false}');

-- Nothing is deployed: the view is empty, a refresh has nothing to refresh.
SET ROLE regress_dp_eng;
SELECT ironlayer.use_tenant('deploy-a') IS NOT NULL AS bound;
SELECT count(*) AS deployed FROM ironlayer.deployed_commits;
SELECT try($$SELECT ironlayer.plan_refresh('deploy', 'prod', '2026-01-15')$$) AS nothing_deployed;

-- The first deployment to prod: the base is git's null id, every model is
-- added. eve approves it, eng applies it, a worker runs it: the run's
-- success deploys d1 (and says so in the audit log).
SELECT ironlayer.plan('deploy', NULL, 'd1', '2026-01-15', '{"environment": "prod"}') AS first \gset
SELECT p->>'base' AS base, p->>'target' = :'d1' AS target_d1, p->'summary'->'models_added' AS added
  FROM (SELECT :'first'::json AS p) x;
SELECT :'first'::json->>'plan_id' AS first \gset
SET ROLE regress_dp_eve;
SELECT ironlayer.use_tenant('deploy-a') IS NOT NULL AS bound;
SELECT ironlayer.approve(:'first', 'prod');
SET ROLE regress_dp_eng;
SELECT ironlayer.use_tenant('deploy-a') IS NOT NULL AS bound;
SELECT ironlayer.apply(:'first', 'prod') AS run1 \gset
RESET ROLE;
SELECT public.work(:run1) AS run1_state;
SET ROLE regress_dp_vic;
SELECT ironlayer.use_tenant('deploy-a') IS NOT NULL AS bound;
SELECT repository, environment, commit = :'d1' AS is_d1, plan_id = :'first' AS by_plan,
       run_id = :run1 AS by_run, deployed_by, deployed_at IS NOT NULL AS dated
  FROM ironlayer.deployed_commits;

-- A change from what is deployed: a NULL base is d1 now. Two such plans
-- (to d2, to d3) have no steps, so each run succeeds inside apply. The
-- first deploys d2; the second starts from d1, no longer deployed: prod
-- refuses it, naming both commits, before anything starts.
SET ROLE regress_dp_eng;
SELECT ironlayer.use_tenant('deploy-a') IS NOT NULL AS bound;
SELECT ironlayer.plan('deploy', NULL, 'd2', '2026-01-15', '{"environment": "prod"}')->>'plan_id' AS to_d2 \gset
SELECT ironlayer.plan('deploy', NULL, 'd3', '2026-01-15', '{"environment": "prod"}')->>'plan_id' AS to_d3 \gset
SELECT base = :'d1' AS from_d1, target = :'d2' AS to_d2, kind, jsonb_array_length(plan::jsonb->'steps') AS steps
  FROM ironlayer.plans WHERE plan_id = :'to_d2';
SET ROLE regress_dp_eve;
SELECT ironlayer.use_tenant('deploy-a') IS NOT NULL AS bound;
SELECT ironlayer.approve(:'to_d2', 'prod'), ironlayer.approve(:'to_d3', 'prod');
SET ROLE regress_dp_eng;
SELECT ironlayer.use_tenant('deploy-a') IS NOT NULL AS bound;
SELECT ironlayer.wait(ironlayer.apply(:'to_d2', 'prod')) AS to_d2_run;
SELECT commit = :'d2' AS is_d2, plan_id = :'to_d2' AS by_plan FROM ironlayer.deployed_commits WHERE environment = 'prod';
SELECT count(*) AS runs_before FROM ironlayer.runs \gset
SELECT state, replace(replace(message, :'d1', '<d1>'), :'d2', '<d2>') AS message, detail, hint
  FROM public.full_error(format($$SELECT ironlayer.apply(%L, 'prod')$$, :'to_d3'));
SELECT count(*) = :runs_before AS no_run_started FROM ironlayer.runs;
SELECT commit = :'d2' AS still_d2 FROM ironlayer.deployed_commits WHERE environment = 'prod';

-- dev allows stale plans, and a stale plan that succeeds deploys nothing:
-- dev has deployed nothing, a plan from d1 is not a plan from nothing.
SELECT ironlayer.plan('deploy', 'd1', 'd3', '2026-01-15')->>'plan_id' AS dev_d3 \gset
SELECT ironlayer.wait(ironlayer.apply(:'dev_d3', 'dev')) AS stale_in_dev;
SELECT environment FROM ironlayer.deployed_commits ORDER BY 1;
-- deployments names its repository (repo_id stays): the rows _start_run
-- makes as lock targets, and those a deployment moved
SELECT repository, environment, commit IS NOT NULL AS deployed, repo_id IS NOT NULL AS has_id
  FROM ironlayer.deployments ORDER BY environment;

-- Stale plans and retry: qa refuses them. A first deployment fails; another
-- deployment (to d2) succeeds meanwhile; the retry of the failed run would
-- start from nothing again, and is refused.
SELECT ironlayer.plan('deploy', NULL, 'd1', '2026-01-15', '{"environment": "qa"}')->>'plan_id' AS qa_d1 \gset
SELECT ironlayer.plan('deploy', NULL, 'd2', '2026-01-15', '{"environment": "qa"}')->>'plan_id' AS qa_d2 \gset
SELECT ironlayer.apply(:'qa_d1', 'qa') AS run_f \gset
RESET ROLE;
SELECT public.work(:run_f, false) AS failed;
SET ROLE regress_dp_eng;
SELECT ironlayer.use_tenant('deploy-a') IS NOT NULL AS bound;
SELECT ironlayer.apply(:'qa_d2', 'qa') AS run_q \gset
RESET ROLE;
SELECT public.work(:run_q) AS succeeded;
SET ROLE regress_dp_eng;
SELECT ironlayer.use_tenant('deploy-a') IS NOT NULL AS bound;
SELECT commit = :'d2' AS qa_is_d2 FROM ironlayer.deployed_commits WHERE environment = 'qa';
SELECT replace(replace(try(format($$SELECT ironlayer.retry(%s)$$, :run_f)), '0000000000000000000000000000000000000000', '<null id>'),
               :'d2', '<d2>') AS stale_retry;
-- where stale plans are allowed, the retry runs (and deploys nothing)
SET ROLE regress_dp_ann;
SELECT ironlayer.use_tenant('deploy-a') IS NOT NULL AS bound;
SELECT ironlayer.set_environment('qa', '{"refuse_stale_plans": false}');
SELECT ironlayer.retry(:run_f) AS run_r \gset
RESET ROLE;
SELECT public.work(:run_r) AS retried;
SET ROLE regress_dp_eng;
SELECT ironlayer.use_tenant('deploy-a') IS NOT NULL AS bound;
SELECT commit = :'d2' AS qa_still_d2 FROM ironlayer.deployed_commits WHERE environment = 'qa';

-- Plans belong to their environment: applied, approved, rejected only there.
SELECT try(format($$SELECT ironlayer.apply(%L, 'dev')$$, :'to_d3')) AS apply_elsewhere;
SELECT try(format($$SELECT ironlayer.approve(%L, 'qa')$$, :'to_d3')) AS approve_elsewhere;
SELECT try(format($$SELECT ironlayer.reject(%L, 'qa', 'no')$$, :'to_d3')) AS reject_elsewhere;

-- A rejection withdrawn: by the one who made it or a tenant admin, with a
-- reason; the apply error of a rejected plan says who, why, and what next.
SET ROLE regress_dp_eve;
SELECT ironlayer.use_tenant('deploy-a') IS NOT NULL AS bound;
SELECT ironlayer.plan('deploy', 'd2', 'd3', '2026-01-15', '{"environment": "prod"}')->>'plan_id' AS d2_d3 \gset
SET ROLE regress_dp_eng;
SELECT ironlayer.use_tenant('deploy-a') IS NOT NULL AS bound;
SELECT ironlayer.reject(:'d2_d3', 'prod', 'not before the release');
SET ROLE regress_dp_eve;
SELECT ironlayer.use_tenant('deploy-a') IS NOT NULL AS bound;
SELECT state, message, regexp_replace(detail, 'Rejected at .*\. A', 'Rejected at <time>. A') AS detail, hint
  FROM public.full_error(format($$SELECT ironlayer.apply(%L, 'prod')$$, :'d2_d3'));
SELECT try(format($$SELECT ironlayer.withdraw_rejection(%L, 'prod', 'released')$$, :'d2_d3')) AS not_the_rejecter;
SELECT hint FROM public.full_error(format($$SELECT ironlayer.withdraw_rejection(%L, 'prod', 'released')$$, :'d2_d3'));
SELECT try(format($$SELECT ironlayer.withdraw_rejection(%L, 'prod', ' ')$$, :'d2_d3')) AS no_reason;
SET ROLE regress_dp_eng;
SELECT ironlayer.use_tenant('deploy-a') IS NOT NULL AS bound;
SELECT try(format($$SELECT ironlayer.withdraw_rejection(%L, 'prod', repeat('r', 8193))$$, :'d2_d3')) AS long_reason;
SELECT try(format($$SELECT ironlayer.withdraw_rejection(%L, 'dev', 'released')$$, :'d2_d3')) AS other_environment;
SELECT try($$SELECT ironlayer.withdraw_rejection(NULL, 'prod', 'released')$$) AS null_plan;
SELECT ironlayer.withdraw_rejection(:'d2_d3', 'prod', 'released on Monday');
SELECT try(format($$SELECT ironlayer.withdraw_rejection(%L, 'prod', 'again')$$, :'d2_d3')) AS nothing_to_withdraw;
-- eve rejects it again; an admin withdraws eve's rejection
SET ROLE regress_dp_eve;
SELECT ironlayer.use_tenant('deploy-a') IS NOT NULL AS bound;
SELECT ironlayer.reject(:'d2_d3', 'prod', 'wrong commit');
SET ROLE regress_dp_vic;
SELECT ironlayer.use_tenant('deploy-a') IS NOT NULL AS bound;
SELECT try(format($$SELECT ironlayer.withdraw_rejection(%L, 'prod', 'mine')$$, :'d2_d3')) AS viewer_withdraws;
SET ROLE regress_dp_ann;
SELECT ironlayer.use_tenant('deploy-a') IS NOT NULL AS bound;
SELECT ironlayer.withdraw_rejection(:'d2_d3', 'prod', 'the admin says go');
SET ROLE regress_dp_eng;
SELECT ironlayer.use_tenant('deploy-a') IS NOT NULL AS bound;
SELECT ironlayer.approve(:'d2_d3', 'prod');
SELECT ironlayer.wait(ironlayer.apply(:'d2_d3', 'prod')) AS approved_after_withdrawal;
SELECT commit = :'d3' AS prod_is_d3 FROM ironlayer.deployed_commits WHERE environment = 'prod';
RESET ROLE;
SELECT ironlayer.use_tenant('deploy-a') IS NOT NULL AS bound;
SELECT actor, details->>'environment' AS environment, details->>'rejected_by' AS rejected_by,
       details->>'rejection_reason' AS rejection_reason, details->>'reason' AS reason
  FROM ironlayer.audit_log WHERE action = 'plan.rejection_withdrawn' ORDER BY seq;
SELECT entity_id, details->>'commit' = :'d1' AS d1, details->>'previous' IS NULL AS from_nothing
  FROM ironlayer.audit_log WHERE action = 'deployment.set' ORDER BY seq LIMIT 1;
SELECT entity_id, count(*) FROM ironlayer.audit_log WHERE action = 'deployment.set' GROUP BY 1 ORDER BY 1;

-- Refresh and backfill plans through their entry points: at the deployed
-- commit (or a head given to plan()), kind stored with the plan. Their
-- runs (base = target) never move a deployment.
SET ROLE regress_dp_ann;
SELECT ironlayer.use_tenant('deploy-a') IS NOT NULL AS bound;
SELECT ironlayer.set_watermark('deploy', 'prod', 'm.daily', '2025-12-01', '2026-01-12');
SET ROLE regress_dp_eng;
SELECT ironlayer.use_tenant('deploy-a') IS NOT NULL AS bound;
SELECT p->>'kind' AS kind, p->>'base' = :'d3' AS at_d3, p->>'target' = :'d3' AS same,
       p->'options' AS options, p->'summary' AS summary
  FROM ironlayer.plan_refresh('deploy', 'prod', '2026-01-15', '{"recompute_days": 3}') p;
SELECT ironlayer.plan_refresh('deploy', 'prod', '2026-01-15', '{"recompute_days": 3}')->>'plan_id' AS refresh \gset
SELECT model, run_type, start_date, end_date, reason FROM ironlayer.plan_steps WHERE plan_id = :'refresh';
SELECT p->>'kind' AS kind, p->'options' AS options, p->'summary' AS summary
  FROM ironlayer.plan_backfill('deploy', 'prod', ARRAY['m.daily'], '2026-01-01', '2026-01-10', '2026-01-15',
                               '{"batch_days": 5}') p;
SELECT ironlayer.plan('deploy', NULL, 'd1', '2026-01-15', '{"kind": "refresh", "environment": "prod"}')->>'target' = :'d1'
       AS at_a_given_head;
SELECT kind, count(*) FROM ironlayer.plans GROUP BY 1 ORDER BY 1;
SET ROLE regress_dp_eve;
SELECT ironlayer.use_tenant('deploy-a') IS NOT NULL AS bound;
SELECT ironlayer.approve(:'refresh', 'prod');
SELECT ironlayer.apply(:'refresh', 'prod') AS run_refresh \gset
RESET ROLE;
SELECT public.work(:run_refresh) AS refreshed;
SET ROLE regress_dp_eng;
SELECT ironlayer.use_tenant('deploy-a') IS NOT NULL AS bound;
SELECT commit = :'d3' AS still_d3, plan_id = :'d2_d3' AS by_the_change FROM ironlayer.deployed_commits
 WHERE environment = 'prod';
SELECT try($$SELECT ironlayer.plan('deploy', 'd1', NULL, '2026-01-15', '{"kind": "refresh"}')$$) AS refresh_with_base;
SELECT try($$SELECT ironlayer.plan('deploy', NULL, NULL, '2026-01-15')$$) AS change_without_head;
SELECT try($$SELECT ironlayer.plan_refresh('deploy', 'prod', '2026-01-15', '{"kind": "change"}')$$) AS kind_given;
SELECT try($$SELECT ironlayer.plan_refresh('deploy', 'prod', '2026-01-15', '{"environment": "dev"}')$$) AS environment_given;
SELECT try($$SELECT ironlayer.plan_backfill('deploy', 'prod', ARRAY['m.daily'], '2026-01-01', '2026-01-10',
                                             '2026-01-15', '{"start": "2026-01-02"}')$$) AS start_given;
SELECT try($$SELECT ironlayer.plan_refresh('deploy', NULL)$$) AS null_environment;
SELECT try($$SELECT ironlayer.plan_refresh('deploy', repeat('e', 64))$$) AS long_environment;
SELECT try($$SELECT ironlayer.plan_refresh('deploy', 'prod', '2026-01-15', '[]')$$) AS not_an_object;
SELECT try($$SELECT ironlayer.plan_backfill('deploy', 'prod', NULL, '2026-01-01', '2026-01-10')$$) AS null_models;
SELECT try($$SELECT ironlayer.plan_backfill('deploy', 'prod', ARRAY['m.daily'], '2026-01-01', 'infinity')$$) AS infinite;
SELECT try($$SELECT ironlayer.plan_refresh('deploy', 'nowhere', '2026-01-15')$$) AS unknown_environment;
SET ROLE regress_dp_vic;
SELECT ironlayer.use_tenant('deploy-a') IS NOT NULL AS bound;
SELECT try($$SELECT ironlayer.plan_refresh('deploy', 'prod', '2026-01-15')$$) AS viewer_plans;

-- Events: the bound tenant's channel (test/isolation/specs/deploy_race.spec
-- listens to it).
SELECT ironlayer.events_channel() = 'ironlayer_' || replace(ironlayer.current_tenant()::text, '-', '') AS own_channel;
SELECT length(ironlayer.events_channel()) AS length;
SELECT ironlayer.events_channel() AS channel_a \gset
RESET ROLE;
SELECT ironlayer.use_tenant(NULL);
SET ROLE regress_dp_vic;
SELECT try($$SELECT ironlayer.events_channel()$$) AS unbound;

-- An approval counts only while its approver is an engineer or admin of
-- the tenant: a member removed (or made a viewer) no longer opens the gate,
-- which ticks would otherwise pass unattended.
SET ROLE regress_dp_eng;
SELECT ironlayer.use_tenant('deploy-a') IS NOT NULL AS bound;
SELECT ironlayer.plan('deploy', 'd0', 'd3', '2026-01-16', '{"environment": "prod"}')->>'plan_id' AS gate_plan \gset
SET ROLE regress_dp_eve;
SELECT ironlayer.use_tenant('deploy-a') IS NOT NULL AS bound;
SELECT ironlayer.approve(:'gate_plan', 'prod');
RESET ROLE;
CREATE FUNCTION pg_temp.gate(pid text) RETURNS boolean LANGUAGE sql
	RETURN (SELECT ironlayer._gate_open(e.tenant_id, pid, e) FROM ironlayer.environments e
			  JOIN ironlayer.tenants t USING (tenant_id) WHERE t.name = 'deploy-a' AND e.name = 'prod');
SELECT pg_temp.gate(:'gate_plan') AS approved;
SET ROLE regress_dp_ann;
SELECT ironlayer.add_member('deploy-a', 'regress_dp_eve', 'viewer');
RESET ROLE;
SELECT pg_temp.gate(:'gate_plan') AS approved_by_a_viewer;
SET ROLE regress_dp_ann;
SELECT ironlayer.remove_member('deploy-a', 'regress_dp_eve');
RESET ROLE;
SELECT pg_temp.gate(:'gate_plan') AS approved_by_a_former_member;
SET ROLE regress_dp_ann;
SELECT ironlayer.add_member('deploy-a', 'regress_dp_eve', 'engineer');
RESET ROLE;
SELECT pg_temp.gate(:'gate_plan') AS approved_again;

-- Another tenant's admin reaches none of it: no rows, no functions, no
-- plan, no rejection, not the channel.
RESET ROLE;
SET ROLE regress_dp_mal;
SELECT ironlayer.create_tenant('deploy-b') IS NOT NULL AS created;
SELECT ironlayer.use_tenant('deploy-b') IS NOT NULL AS bound;
SELECT count(*) AS deployments FROM ironlayer.deployments;
SELECT count(*) AS deployed FROM ironlayer.deployed_commits;
SELECT try(format($$SELECT ironlayer.apply(%L, 'prod')$$, :'d2_d3')) AS apply_theirs;
SELECT try(format($$SELECT ironlayer.withdraw_rejection(%L, 'prod', 'mine now')$$, :'d2_d3')) AS withdraw_theirs;
SELECT try($$SELECT ironlayer._deployed_commit(t.tenant_id, 1, 'prod') FROM ironlayer.tenants t$$) AS internal_lookup;
SELECT try($$SELECT ironlayer._notify(ironlayer.current_tenant(), '{"event": "run.finished"}')$$) AS internal_notify;
SELECT try($$INSERT INTO ironlayer.deployments (tenant_id, repo_id, environment) VALUES (ironlayer.current_tenant(), 1, 'prod')$$) AS write_row;
SELECT try($$SELECT ironlayer.plan_refresh('deploy', 'prod')$$) AS their_repository;
SELECT ironlayer.events_channel() <> :'channel_a' AS own_channel_only,
       (SELECT count(*) FROM ironlayer.tenants WHERE name = 'deploy-a') AS sees_other_tenant;
RESET ROLE;
DROP FUNCTION public.work(bigint, boolean);
DROP FUNCTION public.full_error(text);
