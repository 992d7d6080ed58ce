-- Tenancy: tenants, members, the backend's tenant binding, and row-level
-- security on ironlayer.current_tenant().

CREATE TABLE @extschema@.tenants (
	tenant_id	uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
	name		@extschema@.slug NOT NULL UNIQUE,
	-- every schema the tenant's environments write starts with its stem
	-- (docs/security.md, "Schemas"): letters and digits, then one "_", so
	-- no stem starts with another and distinct stems (the unique index)
	-- never name one schema
	schema_stem	text NOT NULL
				CONSTRAINT tenants_schema_stem_key UNIQUE
				CONSTRAINT tenants_schema_stem_check
				CHECK (schema_stem OPERATOR(pg_catalog.~) '^[a-z][a-z0-9]{0,15}_$'),
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	created_by	name NOT NULL
);
COMMENT ON TABLE @extschema@.tenants IS 'tenants; a user sees only the tenant the backend is bound to';

CREATE TABLE @extschema@.members (
	tenant_id	uuid NOT NULL REFERENCES @extschema@.tenants (tenant_id) ON DELETE CASCADE,
	member		name NOT NULL,
	tenant_role	text NOT NULL
				CONSTRAINT members_tenant_role_check
				CHECK (tenant_role OPERATOR(pg_catalog.=) ANY (ARRAY['admin', 'engineer', 'viewer'])),
	added_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	added_by	name NOT NULL,
	PRIMARY KEY (tenant_id, member)
);
CREATE INDEX members_member_idx ON @extschema@.members (member);
COMMENT ON TABLE @extschema@.members IS 'PostgreSQL roles that are members of a tenant, with their tenant role';

SELECT pg_catalog.pg_extension_config_dump('@extschema@.tenants', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.members', '');

-- The binding (src/pg/tenant.c).
CREATE FUNCTION @extschema@.current_tenant() RETURNS uuid
	LANGUAGE C STABLE PARALLEL RESTRICTED
	AS 'MODULE_PATHNAME', 'ironlayer_current_tenant';
COMMENT ON FUNCTION @extschema@.current_tenant() IS
	'the tenant this backend is bound to for the acting role, or NULL';

CREATE FUNCTION @extschema@.current_tenant_role() RETURNS text
	LANGUAGE C STABLE PARALLEL RESTRICTED
	AS 'MODULE_PATHNAME', 'ironlayer_current_tenant_role';
COMMENT ON FUNCTION @extschema@.current_tenant_role() IS
	'the acting role''s role in the bound tenant (admin, engineer, viewer), or NULL';

CREATE FUNCTION @extschema@.use_tenant(tenant text) RETURNS uuid
	LANGUAGE C VOLATILE PARALLEL RESTRICTED SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'ironlayer_use_tenant';
COMMENT ON FUNCTION @extschema@.use_tenant(text) IS
	'bind this backend to a tenant the acting role is a member of; NULL unbinds';

-- true, or 42501 while model SQL runs (src/pg/tenant.c): for functions that
-- authorize by the acting role alone. (internal)
CREATE FUNCTION @extschema@._refuse_in_model_sql(what text) RETURNS boolean
	LANGUAGE C VOLATILE PARALLEL RESTRICTED
	AS 'MODULE_PATHNAME', 'ironlayer_refuse_in_model_sql_sql';
REVOKE ALL ON FUNCTION @extschema@._refuse_in_model_sql(text) FROM PUBLIC;

-- The bound tenant, when the acting role holds at least min_role in it;
-- else 42501 saying what was refused. (internal, for API functions)
CREATE FUNCTION @extschema@._require_tenant_role(min_role text, action text) RETURNS uuid
	LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED
	AS 'MODULE_PATHNAME', 'ironlayer_require_tenant_role_sql';
REVOKE ALL ON FUNCTION @extschema@._require_tenant_role(text, text) FROM PUBLIC;

-- Row-level security, the one way every tenant table gets it: enabled,
-- forced (so the owner is filtered too), and one policy binding reads and
-- writes to the current tenant. Install and upgrade scripts call this for
-- each table holding tenant data; sql/catalog.sql checks that they did.
CREATE FUNCTION @extschema@._isolate_tenant_table(tbl regclass) RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
	EXECUTE pg_catalog.format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
	EXECUTE pg_catalog.format(
		'CREATE POLICY tenant_isolation ON %s'
		' USING (tenant_id OPERATOR(pg_catalog.=) @extschema@.current_tenant())'
		' WITH CHECK (tenant_id OPERATOR(pg_catalog.=) @extschema@.current_tenant())', tbl);
END
$$;
REVOKE ALL ON FUNCTION @extschema@._isolate_tenant_table(regclass) FROM PUBLIC;

SELECT @extschema@._isolate_tenant_table('@extschema@.tenants');
SELECT @extschema@._isolate_tenant_table('@extschema@.members');

-- Users read through RLS and write only through the functions below.
GRANT SELECT ON @extschema@.tenants, @extschema@.members TO ironlayer_viewer;

-- Is the role a superuser? (internal)
CREATE FUNCTION @extschema@._is_superuser(rolename name) RETURNS boolean
	LANGUAGE sql STABLE STRICT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	RETURN COALESCE((SELECT r.rolsuper FROM pg_catalog.pg_roles r
					 WHERE r.rolname OPERATOR(pg_catalog.=) rolename), false);
REVOKE ALL ON FUNCTION @extschema@._is_superuser(name) FROM PUBLIC;

-- Number of admins of a tenant. (internal)
CREATE FUNCTION @extschema@._admin_count(tid uuid) RETURNS bigint
	LANGUAGE sql STABLE STRICT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	RETURN (SELECT pg_catalog.count(*) FROM @extschema@.members m
			 WHERE m.tenant_id OPERATOR(pg_catalog.=) tid
			   AND m.tenant_role OPERATOR(pg_catalog.=) 'admin');
REVOKE ALL ON FUNCTION @extschema@._admin_count(uuid) FROM PUBLIC;

-- Lock the named tenant's row and check that the acting role may manage its
-- members: a superuser, or an admin of the tenant. Returns the tenant id.
-- The row lock serializes every membership change of one tenant. (internal)
CREATE FUNCTION @extschema@._lock_tenant_for_admin(tenant text) RETURNS uuid
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	caller name := @extschema@.acting_role();
	tid uuid;
BEGIN
	PERFORM @extschema@._refuse_in_model_sql('manage tenants');
	IF tenant IS NULL THEN
		RAISE EXCEPTION USING
			ERRCODE = 'null_value_not_allowed',
			MESSAGE = 'tenant name must not be null';
	END IF;
	PERFORM @extschema@._check_size('the tenant name', tenant, 63);
	SELECT t.tenant_id INTO tid FROM @extschema@.tenants t
	 WHERE t.name OPERATOR(pg_catalog.=) _lock_tenant_for_admin.tenant
	   FOR UPDATE;
	IF @extschema@._is_superuser(caller) THEN
		IF tid IS NULL THEN
			RAISE EXCEPTION USING
				ERRCODE = 'undefined_object',
				MESSAGE = pg_catalog.format('tenant "%s" does not exist', tenant),
				HINT = 'Create it with ironlayer.create_tenant().';
		END IF;
		RETURN tid;
	END IF;
	IF tid IS NULL OR NOT EXISTS (
		SELECT 1 FROM @extschema@.members m
		 WHERE m.tenant_id OPERATOR(pg_catalog.=) tid
		   AND m.member OPERATOR(pg_catalog.=) caller
		   AND m.tenant_role OPERATOR(pg_catalog.=) 'admin') THEN
		RAISE EXCEPTION USING
			ERRCODE = 'insufficient_privilege',
			MESSAGE = pg_catalog.format('permission denied for tenant "%s"', tenant),
			DETAIL = pg_catalog.format('Role "%s" is not an admin of tenant "%s".', caller, tenant),
			HINT = 'Only an admin of the tenant or a superuser can change its members; the tenant''s members find its admins with SELECT member FROM ironlayer.members WHERE tenant_role = ''admin''.';
	END IF;
	RETURN tid;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._lock_tenant_for_admin(text) FROM PUBLIC;

CREATE FUNCTION @extschema@.create_tenant(name text) RETURNS uuid
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
COMMENT ON FUNCTION @extschema@.create_tenant(text) IS
	'create a tenant; the acting role becomes its first admin';

CREATE FUNCTION @extschema@.add_member(tenant text, member name, tenant_role text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	caller name := @extschema@.acting_role();
	tid uuid := @extschema@._lock_tenant_for_admin(tenant);
	old_role text;
BEGIN
	IF add_member.tenant_role IS NULL OR add_member.member IS NULL THEN
		RAISE EXCEPTION USING
			ERRCODE = 'null_value_not_allowed',
			MESSAGE = 'member and tenant role must not be null';
	END IF;
	PERFORM @extschema@._check_size('the tenant role', add_member.tenant_role, 63);
	IF add_member.tenant_role OPERATOR(pg_catalog.<>) ALL (ARRAY['admin', 'engineer', 'viewer']) THEN
		RAISE EXCEPTION USING
			ERRCODE = 'invalid_parameter_value',
			MESSAGE = pg_catalog.format('invalid tenant role "%s"', add_member.tenant_role),
			DETAIL = 'A tenant role is admin, engineer or viewer.';
	END IF;
	IF NOT EXISTS (
		SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) add_member.member) THEN
		RAISE EXCEPTION USING
			ERRCODE = 'undefined_object',
			MESSAGE = pg_catalog.format('role "%s" does not exist', add_member.member);
	END IF;

	SELECT m.tenant_role INTO old_role FROM @extschema@.members m
	 WHERE m.tenant_id OPERATOR(pg_catalog.=) tid
	   AND m.member OPERATOR(pg_catalog.=) add_member.member;
	IF old_role OPERATOR(pg_catalog.=) 'admin'
	   AND add_member.tenant_role OPERATOR(pg_catalog.<>) 'admin'
	   AND @extschema@._admin_count(tid) OPERATOR(pg_catalog.=) 1 THEN
		RAISE EXCEPTION USING
			ERRCODE = 'check_violation',
			MESSAGE = pg_catalog.format('cannot demote the last admin of tenant "%s"', tenant),
			HINT = 'Add another admin first.';
	END IF;

	INSERT INTO @extschema@.members AS m (tenant_id, member, tenant_role, added_by)
	VALUES (tid, add_member.member, add_member.tenant_role, caller)
	ON CONFLICT ON CONSTRAINT members_pkey
	DO UPDATE SET tenant_role = EXCLUDED.tenant_role;
	PERFORM @extschema@._audit(tid,
		CASE WHEN old_role IS NULL THEN 'member.add' ELSE 'member.update' END,
		'member', add_member.member::text,
		pg_catalog.jsonb_build_object('tenant_role', add_member.tenant_role,
									  'previous_role', old_role));
END
$$;
COMMENT ON FUNCTION @extschema@.add_member(text, name, text) IS
	'make a role a member of a tenant, or change its tenant role (tenant admins)';

CREATE FUNCTION @extschema@.remove_member(tenant text, member name) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tid uuid := @extschema@._lock_tenant_for_admin(tenant);
	old_role text;
BEGIN
	IF remove_member.member IS NULL THEN
		RAISE EXCEPTION USING
			ERRCODE = 'null_value_not_allowed',
			MESSAGE = 'member must not be null';
	END IF;
	SELECT m.tenant_role INTO old_role FROM @extschema@.members m
	 WHERE m.tenant_id OPERATOR(pg_catalog.=) tid
	   AND m.member OPERATOR(pg_catalog.=) remove_member.member;
	IF old_role IS NULL THEN
		RAISE EXCEPTION USING
			ERRCODE = 'undefined_object',
			MESSAGE = pg_catalog.format('role "%s" is not a member of tenant "%s"', remove_member.member, tenant);
	END IF;
	IF old_role OPERATOR(pg_catalog.=) 'admin' AND @extschema@._admin_count(tid) OPERATOR(pg_catalog.=) 1 THEN
		RAISE EXCEPTION USING
			ERRCODE = 'check_violation',
			MESSAGE = pg_catalog.format('cannot remove the last admin of tenant "%s"', tenant),
			HINT = 'Add another admin first.';
	END IF;
	DELETE FROM @extschema@.members m
	 WHERE m.tenant_id OPERATOR(pg_catalog.=) tid
	   AND m.member OPERATOR(pg_catalog.=) remove_member.member;
	PERFORM @extschema@._audit(tid, 'member.remove', 'member', remove_member.member::text,
							   pg_catalog.jsonb_build_object('tenant_role', old_role));
END
$$;
COMMENT ON FUNCTION @extschema@.remove_member(text, name) IS
	'remove a role from a tenant (tenant admins); the last admin stays';

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
