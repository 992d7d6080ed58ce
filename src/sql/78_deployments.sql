-- Deployment state and events (docs/runs.md, "Deployments" and "Events"):
-- the commit each environment has deployed per repository, moved by a
-- compare-and-swap when a run of a change plan succeeds; the NOTIFY
-- events of plans and runs on the tenant's channel.

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
	-- the repository's name (repos.name, fixed for its repo_id), written
	-- with the row so that the table reads without a join
	repository	@extschema@.dotted_slug NOT NULL,
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
-- plan that was allowed, a retry of a run the deployment moved after, a
-- refresh or backfill plan) nothing moves.
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
	INSERT INTO @extschema@.deployments (tenant_id, repo_id, environment, repository)
	VALUES (NEW.tenant_id, rid, NEW.environment, NEW.repository)
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
