-- The approval gate: decisions on plans per environment (docs/runs.md).

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
	'approvals and rejections of plans per environment; a rejection blocks the plan there until it is withdrawn';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.plan_approvals', '');
SELECT @extschema@._isolate_tenant_table('@extschema@.plan_approvals');
GRANT SELECT ON @extschema@.plan_approvals TO ironlayer_viewer;

-- The plan and environment rows of a decision, locked so that decisions
-- and applies of one plan take turns. Errors when either is unknown, and
-- when the plan was made for another environment (its ranges come from
-- that environment's watermarks).
CREATE FUNCTION @extschema@._gate_rows(tid uuid, pid text, env text,
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

-- The rejection of a plan in an environment, if any: who, why, when.
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

-- The error for a plan rejected in an environment: who, why, what next.
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
			DETAIL = pg_catalog.format('%s rejected it; only they or a tenant admin may withdraw it.', r.rejected_by),
			HINT = 'Ask them or a tenant admin: SELECT member FROM ironlayer.members WHERE tenant_role = ''admin'' lists the tenant''s admins.';
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

-- The gate: auto-approval or enough approvals, and no rejection. An
-- approval counts while its approver is an engineer or admin of the tenant
-- (a member removed or made a viewer no longer opens it; schedules apply
-- unattended); a rejection blocks whoever made it.
CREATE FUNCTION @extschema@._gate_open(tid uuid, pid text, e @extschema@.environments) RETURNS boolean
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
REVOKE ALL ON FUNCTION @extschema@._gate_open(uuid, text, @extschema@.environments) FROM PUBLIC;
