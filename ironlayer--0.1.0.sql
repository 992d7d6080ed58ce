-- ironlayer 0.1.0 install script, generated from src/sql/ by make: do not edit.
\echo Use "CREATE EXTENSION ironlayer" to load this file. \quit

-- src/sql/00_base.sql
-- Base: refuse to install unless preloaded, the group roles, the schema grants,
-- and the module-level functions.
--
-- Every object is schema-qualified with @extschema@ (the fixed schema
-- "ironlayer"); operators inside function bodies are qualified with
-- OPERATOR(pg_catalog.x). No CREATE OR REPLACE, no IF NOT EXISTS on objects.

CREATE FUNCTION @extschema@.preloaded() RETURNS boolean
	LANGUAGE C STABLE PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'ironlayer_is_preloaded';
COMMENT ON FUNCTION @extschema@.preloaded() IS
	'whether the ironlayer library was loaded through shared_preload_libraries';

CREATE FUNCTION @extschema@.require_preload(feature text) RETURNS void
	LANGUAGE C VOLATILE PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'ironlayer_require_preload_sql';
REVOKE ALL ON FUNCTION @extschema@.require_preload(text) FROM PUBLIC;

SELECT @extschema@.require_preload('CREATE EXTENSION ironlayer');

CREATE FUNCTION @extschema@.version() RETURNS text
	LANGUAGE C STABLE STRICT PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'ironlayer_version';
COMMENT ON FUNCTION @extschema@.version() IS 'the version of the loaded ironlayer library';

-- Group roles are cluster-wide and outlive the extension: create them only
-- once, whichever database installs first. viewer < engineer < admin.
DO $roles$
DECLARE
	r text;
BEGIN
	FOREACH r IN ARRAY ARRAY['ironlayer_viewer', 'ironlayer_engineer', 'ironlayer_admin']
	LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles
					   WHERE rolname OPERATOR(pg_catalog.=) r) THEN
			EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
		END IF;
	END LOOP;
	IF NOT pg_catalog.pg_has_role('ironlayer_engineer', 'ironlayer_viewer', 'MEMBER') THEN
		GRANT ironlayer_viewer TO ironlayer_engineer;
	END IF;
	IF NOT pg_catalog.pg_has_role('ironlayer_admin', 'ironlayer_engineer', 'MEMBER') THEN
		GRANT ironlayer_engineer TO ironlayer_admin;
	END IF;
END
$roles$;

GRANT USAGE ON SCHEMA @extschema@ TO ironlayer_viewer;

-- 54000 when a text, jsonb or bytea value holds more than max_bytes bytes,
-- measured without decompressing it (src/pg/limits.c, docs/limits.md).
-- (internal: API functions call it first)
CREATE FUNCTION @extschema@._check_size(what text, value "any", max_bytes int) RETURNS void
	LANGUAGE C IMMUTABLE PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'ironlayer_check_size_sql';
REVOKE ALL ON FUNCTION @extschema@._check_size(text, "any", int) FROM PUBLIC;

CREATE FUNCTION @extschema@.acting_role() RETURNS name
	LANGUAGE C STABLE STRICT PARALLEL RESTRICTED
	AS 'MODULE_PATHNAME', 'ironlayer_acting_role';
COMMENT ON FUNCTION @extschema@.acting_role() IS
	'the role ironlayer authorizes: the session''s current role, also inside security-definer functions';

-- src/sql/10_tenancy.sql
-- Tenancy: tenants, members, the backend's tenant binding, and row-level
-- security on ironlayer.current_tenant().

CREATE TABLE @extschema@.tenants (
	tenant_id	uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
	name		text NOT NULL UNIQUE
				CONSTRAINT tenants_name_check
				CHECK (name OPERATOR(pg_catalog.~) '^[a-z][a-z0-9_-]{0,62}$'),
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
			HINT = 'Only an admin of the tenant or a superuser can change its members.';
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
	IF create_tenant.name OPERATOR(pg_catalog.!~) '^[a-z][a-z0-9_-]{0,62}$' THEN
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

-- src/sql/20_audit.sql
-- The hash-chained audit log (docs/audit.md).
--
-- Appending never waits: an entry goes into audit_queue in the transaction
-- that changes state. A deferred constraint trigger seals, at commit, every
-- committed entry of the tenant (and the transaction's own) into audit_log,
-- assigning seq and the hash chain under the tenant's head row, taken with
-- SKIP LOCKED: whoever holds it seals for the others, and what is left is
-- sealed by the next commit, by verify_audit() and audit_export(). Only
-- committed entries ever get a seq, so the chain has no gaps.

CREATE TABLE @extschema@.audit_heads (
	tenant_id	uuid PRIMARY KEY,
	seq			bigint NOT NULL DEFAULT 0,
	hash		bytea NOT NULL DEFAULT pg_catalog.decode(pg_catalog.repeat('00', 32), 'hex')
);
COMMENT ON TABLE @extschema@.audit_heads IS 'the last seq and hash of each tenant''s audit chain';

CREATE TABLE @extschema@.audit_queue (
	tenant_id	uuid NOT NULL,
	qid			bigserial,
	at			timestamptz NOT NULL DEFAULT pg_catalog.now(),
	actor		text NOT NULL,
	action		text NOT NULL,
	entity_type	text,
	entity_id	text,
	details		jsonb NOT NULL DEFAULT '{}',
	PRIMARY KEY (tenant_id, qid)
);
COMMENT ON TABLE @extschema@.audit_queue IS 'committed audit entries not yet sealed into audit_log';

CREATE TABLE @extschema@.audit_log (
	tenant_id	uuid NOT NULL,
	seq			bigint NOT NULL CHECK (seq OPERATOR(pg_catalog.>) 0),
	at			timestamptz NOT NULL,
	actor		text NOT NULL,
	action		text NOT NULL,
	entity_type	text,
	entity_id	text,
	details		jsonb NOT NULL,
	prev_hash	bytea NOT NULL CHECK (pg_catalog.length(prev_hash) OPERATOR(pg_catalog.=) 32),
	hash		bytea NOT NULL CHECK (pg_catalog.length(hash) OPERATOR(pg_catalog.=) 32),
	PRIMARY KEY (tenant_id, seq)
);
COMMENT ON TABLE @extschema@.audit_log IS
	'append-only, hash-chained record of every state change, per tenant';

SELECT pg_catalog.pg_extension_config_dump('@extschema@.audit_heads', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.audit_queue', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.audit_log', '');

SELECT @extschema@._isolate_tenant_table('@extschema@.audit_heads');
SELECT @extschema@._isolate_tenant_table('@extschema@.audit_queue');
SELECT @extschema@._isolate_tenant_table('@extschema@.audit_log');

GRANT SELECT ON @extschema@.audit_log TO ironlayer_viewer;

-- Append-only, for everyone, the owner included (src/pg/audit.c).
CREATE FUNCTION @extschema@._audit_refuse() RETURNS trigger
	LANGUAGE C AS 'MODULE_PATHNAME', 'ironlayer_audit_refuse';
REVOKE ALL ON FUNCTION @extschema@._audit_refuse() FROM PUBLIC;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON @extschema@.audit_log
	FOR EACH ROW EXECUTE FUNCTION @extschema@._audit_refuse();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON @extschema@.audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._audit_refuse();
-- The queue is emptied only by sealing.
CREATE TRIGGER audit_queue_sealed_only BEFORE UPDATE OR DELETE OR TRUNCATE ON @extschema@.audit_queue
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._audit_refuse();

CREATE FUNCTION @extschema@._audit_seal_trigger() RETURNS trigger
	LANGUAGE C SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'ironlayer_audit_seal_trigger';
REVOKE ALL ON FUNCTION @extschema@._audit_seal_trigger() FROM PUBLIC;
CREATE CONSTRAINT TRIGGER audit_queue_seal AFTER INSERT ON @extschema@.audit_queue
	DEFERRABLE INITIALLY DEFERRED
	FOR EACH ROW EXECUTE FUNCTION @extschema@._audit_seal_trigger();

-- Append an entry for the acting role. (internal: called by the API's
-- security-definer functions, in their transaction)
CREATE FUNCTION @extschema@._audit(tenant uuid, action text, entity_type text,
								   entity_id text, details jsonb DEFAULT '{}')
	RETURNS void
	LANGUAGE sql VOLATILE
	SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	INSERT INTO @extschema@.audit_queue (tenant_id, actor, action, entity_type, entity_id, details)
	VALUES (tenant, @extschema@.acting_role(), action, entity_type, entity_id,
			COALESCE(details, '{}'::jsonb));
END;
REVOKE ALL ON FUNCTION @extschema@._audit(uuid, text, text, text, jsonb) FROM PUBLIC;

CREATE FUNCTION @extschema@.verify_audit(
	OUT ok boolean, OUT entries bigint, OUT first_bad_seq bigint, OUT reason text)
	RETURNS record
	LANGUAGE C VOLATILE PARALLEL RESTRICTED SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'ironlayer_verify_audit';
COMMENT ON FUNCTION @extschema@.verify_audit() IS
	'recompute the current tenant''s audit chain; reports the first bad seq';

CREATE FUNCTION @extschema@.audit_export(from_seq bigint DEFAULT 1)
	RETURNS SETOF jsonb
	LANGUAGE C VOLATILE PARALLEL RESTRICTED SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'ironlayer_audit_export';
COMMENT ON FUNCTION @extschema@.audit_export(bigint) IS
	'the current tenant''s audit entries from from_seq, one JSON object each, with prev_hash and hash in hex';

-- src/sql/30_vault.sql
-- The credentials vault (docs/security.md, "Credentials").

-- Global (allow-listed): one row per database, created on first use, so a
-- dump and restore keeps the salt its tokens need. Readable by no user role.
CREATE TABLE @extschema@.vault_meta (
	singleton	boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	salt		bytea NOT NULL CHECK (pg_catalog.length(salt) OPERATOR(pg_catalog.=) 16),
	iterations	integer NOT NULL CHECK (iterations OPERATOR(pg_catalog.>=) 600000),
	key_check	bytea CHECK (pg_catalog.length(key_check) OPERATOR(pg_catalog.=) 32),
	rotated_at	timestamptz
);
COMMENT ON TABLE @extschema@.vault_meta IS
	'PBKDF2 salt and iterations of the vault key, and a check value to tell a wrong master key';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.vault_meta', '');

CREATE TABLE @extschema@.credential_store (
	tenant_id	uuid NOT NULL REFERENCES @extschema@.tenants (tenant_id) ON DELETE CASCADE,
	name		text NOT NULL CHECK (name OPERATOR(pg_catalog.~) '^[a-z][a-z0-9_.-]{0,62}$'),
	kind		text NOT NULL CHECK (kind OPERATOR(pg_catalog.~) '^[a-z][a-z0-9_]{0,31}$'),
	token		text NOT NULL,
	fingerprint	text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	created_by	name NOT NULL,
	updated_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	updated_by	name NOT NULL,
	PRIMARY KEY (tenant_id, name)
);
COMMENT ON TABLE @extschema@.credential_store IS
	'credentials as Fernet tokens; users read ironlayer.credentials, which has no token';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.credential_store', '');

SELECT @extschema@._isolate_tenant_table('@extschema@.credential_store');

-- Every column but the token.
GRANT SELECT (tenant_id, name, kind, fingerprint, created_at, created_by, updated_at, updated_by)
	ON @extschema@.credential_store TO ironlayer_viewer;

CREATE VIEW @extschema@.credentials WITH (security_invoker = true) AS
	SELECT name, kind, fingerprint, created_at, created_by, updated_at, updated_by
	  FROM @extschema@.credential_store;
COMMENT ON VIEW @extschema@.credentials IS
	'the bound tenant''s credentials: name, kind, a short fingerprint and times, never the secret';
GRANT SELECT ON @extschema@.credentials TO ironlayer_viewer;

CREATE FUNCTION @extschema@.vault_public_key() RETURNS text
	LANGUAGE C VOLATILE PARALLEL RESTRICTED SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'ironlayer_vault_public_key';
COMMENT ON FUNCTION @extschema@.vault_public_key() IS
	'the public key that secrets are sealed to before put_credential (X25519; see docs/security.md)';

CREATE FUNCTION @extschema@.put_credential(name text, sealed text, kind text DEFAULT 'token')
	RETURNS void
	LANGUAGE C VOLATILE PARALLEL RESTRICTED SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'ironlayer_put_credential';
COMMENT ON FUNCTION @extschema@.put_credential(text, text, text) IS
	'store or replace a credential of the bound tenant from a sealed secret (tenant admins)';

CREATE FUNCTION @extschema@.check_credentials()
	RETURNS TABLE (name text, ok boolean, reason text)
	LANGUAGE C VOLATILE PARALLEL RESTRICTED SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'ironlayer_check_credentials';
COMMENT ON FUNCTION @extschema@.check_credentials() IS
	'whether each credential of the bound tenant decrypts and matches its fingerprint (tenant admins)';

CREATE FUNCTION @extschema@.rotate_master_key() RETURNS bigint
	LANGUAGE C VOLATILE PARALLEL UNSAFE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'ironlayer_rotate_master_key';
COMMENT ON FUNCTION @extschema@.rotate_master_key() IS
	're-encrypt every credential under the key file''s new content (superusers)';

CREATE FUNCTION @extschema@.delete_credential(name text) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tid uuid := @extschema@._require_tenant_role('admin', 'delete credentials');
	kind text;
BEGIN
	IF delete_credential.name IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'credential name must not be null';
	END IF;
	PERFORM @extschema@._check_size('the credential name', delete_credential.name, 63);
	DELETE FROM @extschema@.credential_store c
	 WHERE c.tenant_id OPERATOR(pg_catalog.=) tid
	   AND c.name OPERATOR(pg_catalog.=) delete_credential.name
	RETURNING c.kind INTO kind;
	IF kind IS NULL THEN
		RAISE EXCEPTION USING
			ERRCODE = 'undefined_object',
			MESSAGE = pg_catalog.format('credential "%s" does not exist', delete_credential.name);
	END IF;
	PERFORM @extschema@._audit(tid, 'credential.delete', 'credential', delete_credential.name,
							   pg_catalog.jsonb_build_object('kind', kind));
END
$$;
COMMENT ON FUNCTION @extschema@.delete_credential(text) IS
	'delete a credential of the bound tenant (tenant admins)';

-- src/sql/40_model.sql
-- Model files: the parser and the SQL guard of the core (docs/model-format.md).
-- Pure functions of their input: immutable, parallel safe, open to everyone.

CREATE FUNCTION @extschema@.parse_model(sql text) RETURNS jsonb
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'ironlayer_parse_model';
COMMENT ON FUNCTION @extschema@.parse_model(text) IS
	'parse a model file: header, references, statement kind, SQL guard and fingerprint';

CREATE FUNCTION @extschema@.sql_guard(sql text) RETURNS jsonb
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'ironlayer_sql_guard';
COMMENT ON FUNCTION @extschema@.sql_guard(text) IS
	'judge SQL text: exactly one statement, nothing destructive; {"ok", "violations"}';

-- src/sql/50_repos.sql
-- Git repositories of a tenant, who may register them, and the shared parse
-- cache (docs/repositories.md).

-- Global (allow-listed): the tenants that may register each repository. A
-- repository is known by its store, the resolved path of its common git
-- directory (objects and refs), so its working tree, its .git directory, a
-- symbolic link to either and a linked worktree are one repository. The
-- first tenant to register it claims it (granted false; at most one claim
-- per store), and gives the claim up when it removes its last registration
-- of it; a superuser grants it to more tenants (granted true) and revokes.
-- Read and written only by ironlayer's functions.
CREATE TABLE @extschema@.repo_claims (
	store		text NOT NULL CHECK (store OPERATOR(pg_catalog.^@) '/'),
	tenant_id	uuid NOT NULL REFERENCES @extschema@.tenants (tenant_id) ON DELETE CASCADE,
	granted		boolean NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	created_by	name NOT NULL,
	PRIMARY KEY (store, tenant_id)
);
CREATE UNIQUE INDEX repo_claims_one_claim ON @extschema@.repo_claims (store) WHERE NOT granted;
CREATE INDEX repo_claims_tenant_idx ON @extschema@.repo_claims (tenant_id);
COMMENT ON TABLE @extschema@.repo_claims IS
	'tenants that may register a repository (by its resolved common git directory): one claim, or grants by a superuser';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.repo_claims', '');

CREATE TABLE @extschema@.repos (
	tenant_id	uuid NOT NULL REFERENCES @extschema@.tenants (tenant_id) ON DELETE CASCADE,
	repo_id		bigint GENERATED ALWAYS AS IDENTITY,
	name		text NOT NULL CHECK (name OPERATOR(pg_catalog.~) '^[a-z][a-z0-9_.-]{0,62}$'),
	path		text NOT NULL,
	models_dir	text NOT NULL,
	store		text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	created_by	name NOT NULL,
	PRIMARY KEY (tenant_id, repo_id),
	UNIQUE (tenant_id, name),
	-- a registration exists only while its tenant holds a claim or a grant
	FOREIGN KEY (store, tenant_id) REFERENCES @extschema@.repo_claims (store, tenant_id)
);
CREATE INDEX repos_store_idx ON @extschema@.repos (tenant_id, store);
COMMENT ON TABLE @extschema@.repos IS
	'git repositories of a tenant: a canonical path inside ironlayer.repo_root, the models directory and the store (resolved common git directory)';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.repos', '');
SELECT @extschema@._isolate_tenant_table('@extschema@.repos');
GRANT SELECT ON @extschema@.repos TO ironlayer_viewer;

-- Global (allow-listed): parsed model metadata by git blob id and parser
-- version. Content-addressed, so shared by every tenant and session; read
-- and written only by ironlayer's functions.
CREATE TABLE @extschema@.parse_cache (
	blob			text NOT NULL CHECK (blob OPERATOR(pg_catalog.~) '^[0-9a-f]{40}$'),
	parser_version	text NOT NULL,
	summary			bytea NOT NULL,
	PRIMARY KEY (blob, parser_version)
);
COMMENT ON TABLE @extschema@.parse_cache IS
	'parsed model metadata by git blob id and parser version (content-addressed, shared)';

CREATE FUNCTION @extschema@.add_repo(name text, path text, models_dir text DEFAULT NULL)
	RETURNS bigint
	LANGUAGE C VOLATILE PARALLEL RESTRICTED SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'ironlayer_add_repo';
COMMENT ON FUNCTION @extschema@.add_repo(text, text, text) IS
	'register a git repository inside ironlayer.repo_root for the bound tenant (tenant admins)';

CREATE FUNCTION @extschema@.remove_repo(name text) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tid uuid;
	removed text;
	removed_store text;
	released boolean := false;
BEGIN
	PERFORM @extschema@._check_size('the repository name', remove_repo.name, 63);
	IF remove_repo.name IS NULL THEN
		RAISE EXCEPTION USING
			ERRCODE = 'null_value_not_allowed',
			MESSAGE = 'name must not be null';
	END IF;
	tid := @extschema@._require_tenant_role('admin', 'remove repositories');
	DELETE FROM @extschema@.repos r
	 WHERE r.tenant_id OPERATOR(pg_catalog.=) tid
	   AND r.name OPERATOR(pg_catalog.=) remove_repo.name
	RETURNING r.path, r.store INTO removed, removed_store;
	IF removed IS NULL THEN
		RAISE EXCEPTION USING
			ERRCODE = 'undefined_object',
			MESSAGE = pg_catalog.format('repository "%s" does not exist', remove_repo.name),
			HINT = 'ironlayer.repos lists the repositories of the bound tenant.';
	END IF;
	-- The claim goes with the tenant's last registration of the repository
	-- (a grant stays). Locking the claim first waits for an add_repo of the
	-- same repository by this tenant, whose registration is then counted.
	PERFORM FROM @extschema@.repo_claims c
	 WHERE c.store OPERATOR(pg_catalog.=) removed_store AND c.tenant_id OPERATOR(pg_catalog.=) tid
	   FOR UPDATE;
	IF NOT EXISTS (SELECT FROM @extschema@.repos r
					WHERE r.tenant_id OPERATOR(pg_catalog.=) tid
					  AND r.store OPERATOR(pg_catalog.=) removed_store) THEN
		DELETE FROM @extschema@.repo_claims c
		 WHERE c.store OPERATOR(pg_catalog.=) removed_store AND c.tenant_id OPERATOR(pg_catalog.=) tid
		   AND NOT c.granted;
		released := FOUND;
	END IF;
	PERFORM @extschema@._audit(tid, 'repo.remove', 'repo', remove_repo.name,
							   pg_catalog.jsonb_build_object('path', removed, 'store', removed_store,
															 'released', released));
END
$$;
COMMENT ON FUNCTION @extschema@.remove_repo(text) IS
	'forget a repository of the bound tenant (tenant admins); the repository itself is untouched; the last registration of a repository gives up its claim';

-- The store of the repository at a path, resolved and confined as add_repo
-- does (src/pg/repo.c). (internal, for grant_repo and revoke_repo)
CREATE FUNCTION @extschema@._repo_store(path text) RETURNS text
	LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED
	AS 'MODULE_PATHNAME', 'ironlayer_repo_store';
REVOKE ALL ON FUNCTION @extschema@._repo_store(text) FROM PUBLIC;

-- 42501 unless the acting role is a superuser. (internal)
CREATE FUNCTION @extschema@._require_superuser(action text) RETURNS void
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT @extschema@._is_superuser(@extschema@.acting_role()) THEN
		RAISE EXCEPTION USING
			ERRCODE = 'insufficient_privilege',
			MESSAGE = pg_catalog.format('permission denied to %s', action),
			DETAIL = pg_catalog.format('Role "%s" is not a superuser.', @extschema@.acting_role()),
			HINT = 'Only a superuser shares a repository between tenants.';
	END IF;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._require_superuser(text) FROM PUBLIC;

CREATE FUNCTION @extschema@.grant_repo(tenant text, path text) RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tid uuid;
	st text;
	before boolean;
BEGIN
	PERFORM @extschema@._check_size('the tenant name', grant_repo.tenant, 63);
	PERFORM @extschema@._check_size('the repository path', grant_repo.path, 4096);
	IF grant_repo.tenant IS NULL OR grant_repo.path IS NULL THEN
		RAISE EXCEPTION USING
			ERRCODE = 'null_value_not_allowed',
			MESSAGE = 'tenant and path must not be null';
	END IF;
	PERFORM @extschema@._require_superuser('grant repositories');
	tid := @extschema@._lock_tenant_for_admin(grant_repo.tenant);
	st := @extschema@._repo_store(grant_repo.path);
	SELECT c.granted INTO before FROM @extschema@.repo_claims c
	 WHERE c.store OPERATOR(pg_catalog.=) st AND c.tenant_id OPERATOR(pg_catalog.=) tid
	   FOR UPDATE;
	INSERT INTO @extschema@.repo_claims AS c (store, tenant_id, granted, created_by)
	VALUES (st, tid, true, @extschema@.acting_role())
	ON CONFLICT ON CONSTRAINT repo_claims_pkey DO UPDATE SET granted = true;
	PERFORM @extschema@._audit(tid, 'repo.grant', 'repo_store', st,
							   pg_catalog.jsonb_build_object('path', grant_repo.path,
															 'previously', CASE WHEN before THEN 'granted'
																				WHEN NOT before THEN 'claimed' END));
END
$$;
COMMENT ON FUNCTION @extschema@.grant_repo(text, text) IS
	'let a tenant register a repository, whoever else claimed or was granted it (superusers)';

CREATE FUNCTION @extschema@.revoke_repo(tenant text, path text, cascade boolean DEFAULT false)
	RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tid uuid;
	st text;
	names text[];
	r record;
BEGIN
	PERFORM @extschema@._check_size('the tenant name', revoke_repo.tenant, 63);
	PERFORM @extschema@._check_size('the repository path', revoke_repo.path, 4096);
	IF revoke_repo.tenant IS NULL OR revoke_repo.path IS NULL OR revoke_repo.cascade IS NULL THEN
		RAISE EXCEPTION USING
			ERRCODE = 'null_value_not_allowed',
			MESSAGE = 'tenant, path and cascade must not be null';
	END IF;
	PERFORM @extschema@._require_superuser('revoke repositories');
	tid := @extschema@._lock_tenant_for_admin(revoke_repo.tenant);
	-- a store as listed in repo_claims, for a repository gone from disk
	SELECT c.store INTO st FROM @extschema@.repo_claims c
	 WHERE c.store OPERATOR(pg_catalog.=) revoke_repo.path AND c.tenant_id OPERATOR(pg_catalog.=) tid
	   FOR UPDATE;
	IF st IS NULL THEN
		st := @extschema@._repo_store(revoke_repo.path);
		PERFORM FROM @extschema@.repo_claims c
		 WHERE c.store OPERATOR(pg_catalog.=) st AND c.tenant_id OPERATOR(pg_catalog.=) tid
		   FOR UPDATE;
		IF NOT FOUND THEN
			RAISE EXCEPTION USING
				ERRCODE = 'undefined_object',
				MESSAGE = pg_catalog.format('tenant "%s" holds no claim or grant on repository "%s"',
											revoke_repo.tenant, revoke_repo.path);
		END IF;
	END IF;
	SELECT pg_catalog.array_agg(g.name ORDER BY g.name) INTO names FROM @extschema@.repos g
	 WHERE g.tenant_id OPERATOR(pg_catalog.=) tid AND g.store OPERATOR(pg_catalog.=) st;
	IF names IS NOT NULL AND NOT revoke_repo.cascade THEN
		RAISE EXCEPTION USING
			ERRCODE = 'dependent_objects_still_exist',
			MESSAGE = pg_catalog.format('tenant "%s" still has repositories on "%s": %s', revoke_repo.tenant,
										revoke_repo.path, pg_catalog.array_to_string(names, ', ')),
			HINT = 'The tenant''s admins remove them with ironlayer.remove_repo(), or revoke with cascade => true to remove them too.';
	END IF;
	FOR r IN DELETE FROM @extschema@.repos g
			  WHERE g.tenant_id OPERATOR(pg_catalog.=) tid AND g.store OPERATOR(pg_catalog.=) st
			 RETURNING g.name, g.path LOOP
		PERFORM @extschema@._audit(tid, 'repo.remove', 'repo', r.name,
								   pg_catalog.jsonb_build_object('path', r.path, 'store', st, 'revoked', true));
	END LOOP;
	DELETE FROM @extschema@.repo_claims c
	 WHERE c.store OPERATOR(pg_catalog.=) st AND c.tenant_id OPERATOR(pg_catalog.=) tid;
	PERFORM @extschema@._audit(tid, 'repo.revoke', 'repo_store', st,
							   pg_catalog.jsonb_build_object('path', revoke_repo.path,
															 'removed', pg_catalog.to_jsonb(coalesce(names, '{}'))));
END
$$;
COMMENT ON FUNCTION @extschema@.revoke_repo(text, text, boolean) IS
	'take a repository away from a tenant, its claim or its grant (superusers); cascade also removes its registrations';

CREATE FUNCTION @extschema@.resolve_commit(repo text, "commit" text) RETURNS text
	LANGUAGE C VOLATILE PARALLEL RESTRICTED SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'ironlayer_resolve_commit';
COMMENT ON FUNCTION @extschema@.resolve_commit(text, text) IS
	'the full id of a commit-ish (SHA, short SHA, branch, tag, HEAD~1, main^) of a repository';

CREATE FUNCTION @extschema@.models(repo text, "commit" text)
	RETURNS TABLE (name text, path text, kind text, materialization text, time_column text,
				   unique_key text, blob text, fingerprint text, upstream text[], sources text[])
	LANGUAGE C VOLATILE PARALLEL RESTRICTED SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'ironlayer_models';
COMMENT ON FUNCTION @extschema@.models(text, text) IS
	'the models of a repository at a commit, read from git objects, with their upstream models and sources';

CREATE FUNCTION @extschema@.diff(repo text, base text, head text)
	RETURNS TABLE (model text, change text, path text)
	LANGUAGE C VOLATILE PARALLEL RESTRICTED SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'ironlayer_diff';
COMMENT ON FUNCTION @extschema@.diff(text, text, text) IS
	'models added, modified, removed or changed only cosmetically between two commits';

CREATE FUNCTION @extschema@.lineage(repo text, "commit" text, model text,
								   direction text DEFAULT 'both', max_depth int DEFAULT NULL)
	RETURNS TABLE (model text, direction text, depth int)
	LANGUAGE C VOLATILE PARALLEL RESTRICTED SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'ironlayer_lineage';
COMMENT ON FUNCTION @extschema@.lineage(text, text, text, text, int) IS
	'the models upstream and/or downstream of a model at a commit, with their depth';

-- src/sql/60_plans.sql
-- Watermarks and plans (docs/plan-format.md, docs/sql-reference.md).

-- How far each model of a repository has been loaded, per environment. The
-- planner reads the watermarks of the plan's environment.
CREATE TABLE @extschema@.watermarks (
	tenant_id	uuid NOT NULL REFERENCES @extschema@.tenants (tenant_id) ON DELETE CASCADE,
	repo_id		bigint NOT NULL,
	environment	text NOT NULL CHECK (environment OPERATOR(pg_catalog.~) '^[a-z][a-z0-9_-]{0,62}$'),
	model		text NOT NULL CHECK (model OPERATOR(pg_catalog.=) pg_catalog.lower(model)),
	start_date	date NOT NULL,
	end_date	date NOT NULL,
	updated_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	updated_by	name NOT NULL,
	PRIMARY KEY (tenant_id, repo_id, environment, model),
	FOREIGN KEY (tenant_id, repo_id) REFERENCES @extschema@.repos (tenant_id, repo_id) ON DELETE CASCADE,
	CHECK (start_date OPERATOR(pg_catalog.<=) end_date)
);
COMMENT ON TABLE @extschema@.watermarks IS
	'the date range each model of a repository has been loaded for, per environment';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.watermarks', '');
SELECT @extschema@._isolate_tenant_table('@extschema@.watermarks');
GRANT SELECT ON @extschema@.watermarks TO ironlayer_viewer;

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
	IF environment OPERATOR(pg_catalog.!~) '^[a-z][a-z0-9_-]{0,62}$' THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = pg_catalog.format('invalid environment name "%s"', environment),
			HINT = 'An environment name is 1 to 63 characters: a lower-case letter, then lower-case letters, digits, "_" or "-".';
	END IF;
	IF m OPERATOR(pg_catalog.!~) '^[^.[:space:]]+(\.[^.[:space:]]+){1,2}$' THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = pg_catalog.format('invalid model name "%s"', set_watermark.model),
			HINT = 'Give the full name of a model: schema.table or catalog.schema.table.';
	END IF;
	IF NOT pg_catalog.isfinite(start_date) OR NOT pg_catalog.isfinite(end_date)
	   OR start_date OPERATOR(pg_catalog.<) DATE '0001-01-01' OR end_date OPERATOR(pg_catalog.>) DATE '9999-12-31' THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'watermark dates must lie between 0001-01-01 and 9999-12-31';
	END IF;
	IF start_date OPERATOR(pg_catalog.>) end_date THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = pg_catalog.format('watermark start %s is after its end %s', start_date, end_date);
	END IF;
	INSERT INTO @extschema@.watermarks AS w
		(tenant_id, repo_id, environment, model, start_date, end_date, updated_by)
	VALUES (tid, rid, environment, m, start_date, end_date, @extschema@.acting_role())
	ON CONFLICT ON CONSTRAINT watermarks_pkey DO UPDATE
		SET start_date = EXCLUDED.start_date, end_date = EXCLUDED.end_date,
			updated_at = pg_catalog.now(), updated_by = EXCLUDED.updated_by;
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
	'the deterministic plan from base to head (canonical JSON text), stored in ironlayer.plans (engineers and admins)';

-- One row per step of each stored plan, the step's fields as columns.
CREATE VIEW @extschema@.plan_steps WITH (security_invoker = true) AS
SELECT p.tenant_id,
	   p.plan_id,
	   s.ord::int OPERATOR(pg_catalog.-) 1 AS step_index,
	   s.step OPERATOR(pg_catalog.->>) 'step_id' AS step_id,
	   s.step OPERATOR(pg_catalog.->>) 'model' AS model,
	   s.step OPERATOR(pg_catalog.->>) 'kind' AS kind,
	   s.step OPERATOR(pg_catalog.->>) 'materialization' AS materialization,
	   s.step OPERATOR(pg_catalog.->>) 'run_type' AS run_type,
	   ((s.step OPERATOR(pg_catalog.->) 'input_range') OPERATOR(pg_catalog.->>) 'start')::date AS start_date,
	   ((s.step OPERATOR(pg_catalog.->) 'input_range') OPERATOR(pg_catalog.->>) 'end')::date AS end_date,
	   (s.step OPERATOR(pg_catalog.->>) 'parallel_group')::int AS parallel_group,
	   ARRAY(SELECT pg_catalog.json_array_elements_text(s.step OPERATOR(pg_catalog.->) 'depends_on')) AS depends_on,
	   s.step OPERATOR(pg_catalog.->>) 'reason' AS reason,
	   s.step OPERATOR(pg_catalog.->>) 'sql_sha256' AS sql_sha256
  FROM @extschema@.plans p
 CROSS JOIN LATERAL pg_catalog.json_array_elements(p.plan OPERATOR(pg_catalog.->) 'steps')
	   WITH ORDINALITY AS s(step, ord);
COMMENT ON VIEW @extschema@.plan_steps IS
	'one row per step of each stored plan, in plan order (step_index from 0)';
GRANT SELECT ON @extschema@.plan_steps TO ironlayer_viewer;

-- src/sql/70_runs.sql
-- Environments, the approval gate, runs and their steps (docs/runs.md).

-- Where and how plans run. A new tenant gets dev and prod.
CREATE TABLE @extschema@.environments (
	tenant_id	uuid NOT NULL REFERENCES @extschema@.tenants (tenant_id) ON DELETE CASCADE,
	name		text NOT NULL CHECK (name OPERATOR(pg_catalog.~) '^[a-z][a-z0-9_-]{0,62}$'),
	executor	text NOT NULL DEFAULT 'postgres' CHECK (executor OPERATOR(pg_catalog.=) 'postgres'),
	auto_approve boolean NOT NULL DEFAULT false,
	approvals_required int NOT NULL DEFAULT 1
		CHECK (approvals_required OPERATOR(pg_catalog.>=) 0 AND approvals_required OPERATOR(pg_catalog.<=) 10),
	approver_must_differ boolean NOT NULL DEFAULT true,
	schema_prefix text NOT NULL DEFAULT '' CHECK (schema_prefix OPERATOR(pg_catalog.~) '^([a-z_][a-z0-9_]{0,29})?$'),
	run_as		name,
	-- the role ironlayer made for the environment (docs/security.md)
	default_run_as name,
	-- bounds of each statement of model SQL
	statement_timeout interval NOT NULL DEFAULT '1 hour'
		CHECK (statement_timeout OPERATOR(pg_catalog.>=) '1 ms' AND statement_timeout OPERATOR(pg_catalog.<=) '7 days'),
	lock_timeout interval NOT NULL DEFAULT '1 min'
		CHECK (lock_timeout OPERATOR(pg_catalog.>=) '1 ms' AND lock_timeout OPERATOR(pg_catalog.<=) '7 days'),
	-- the most steps of the environment's runs that run at once (NULL: no cap)
	max_running_steps int CHECK (max_running_steps OPERATOR(pg_catalog.>=) 1),
	settings	jsonb NOT NULL DEFAULT '{}',
	updated_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	updated_by	name NOT NULL,
	PRIMARY KEY (tenant_id, name)
);
COMMENT ON TABLE @extschema@.environments IS
	'where plans of a tenant run: executor, approval rules, schema prefix, the role model SQL runs as and its bounds';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.environments', '');
SELECT @extschema@._isolate_tenant_table('@extschema@.environments');
GRANT SELECT ON @extschema@.environments TO ironlayer_viewer;

-- A role that may run model SQL: it exists, is no superuser, has no
-- attribute and no predefined role that reaches past its own grants (every
-- tenant's rows, other roles, files, other backends), and is none of the
-- roles shared by every tenant (schemas it owns would be theirs too).
CREATE FUNCTION @extschema@._check_run_as(r name) RETURNS void
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	a pg_catalog.pg_roles;
	p text;
BEGIN
	IF r IS NULL THEN
		RETURN;
	END IF;
	SELECT * INTO a FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) r;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'undefined_object',
			MESSAGE = pg_catalog.format('role "%s" does not exist', r);
	END IF;
	IF a.rolsuper THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = pg_catalog.format('run_as role "%s" is a superuser', r),
			DETAIL = 'Model SQL never runs with superuser rights.',
			HINT = 'Create a role that owns the target schemas and give it only the rights the models need.';
	END IF;
	IF a.rolbypassrls OR a.rolcreaterole OR a.rolreplication THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = pg_catalog.format('run_as role "%s" has the attribute %s', r,
				CASE WHEN a.rolbypassrls THEN 'BYPASSRLS' WHEN a.rolcreaterole THEN 'CREATEROLE' ELSE 'REPLICATION' END),
			DETAIL = 'Model SQL never runs with rights over other tenants'' rows or over roles.',
			HINT = 'Use the environment''s own role, or a role with only the rights the models need.';
	END IF;
	IF r OPERATOR(pg_catalog.~) '^pg_'
	   OR r OPERATOR(pg_catalog.=) ANY (ARRAY['ironlayer_viewer', 'ironlayer_engineer', 'ironlayer_admin', 'ironlayer_worker']) THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = pg_catalog.format('run_as role "%s" is shared by every tenant', r),
			DETAIL = 'The schemas model SQL makes belong to run_as: they would belong to every member of this role.',
			HINT = 'Use the environment''s own role, or a role only this tenant''s people are members of.';
	END IF;
	FOREACH p IN ARRAY ARRAY['pg_read_all_data', 'pg_write_all_data', 'pg_read_server_files', 'pg_write_server_files',
							 'pg_execute_server_program', 'pg_signal_backend', 'ironlayer_worker'] LOOP
		IF pg_catalog.pg_has_role(r, p, 'MEMBER') THEN
			RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
				MESSAGE = pg_catalog.format('run_as role "%s" is a member of %s', r, p),
				DETAIL = 'Model SQL never runs with rights over every tenant''s data, the server''s files or other sessions.',
				HINT = 'Use the environment''s own role, or a role with only the rights the models need.';
		END IF;
	END LOOP;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._check_run_as(name) FROM PUBLIC;

-- Does a schema prefix overlap the schemas of a tenant other than tid (its
-- stem, or a prefix of one of its environments)? Two prefixes overlap when
-- one starts with the other: both could name one schema. (internal)
CREATE FUNCTION @extschema@._schema_prefix_taken(tid uuid, prefix text) RETURNS boolean
	LANGUAGE sql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	RETURN EXISTS (SELECT FROM @extschema@.tenants t
					WHERE t.tenant_id IS DISTINCT FROM tid
					  AND (pg_catalog.starts_with(t.schema_stem, prefix) OR pg_catalog.starts_with(prefix, t.schema_stem)))
		OR EXISTS (SELECT FROM @extschema@.environments e
					WHERE e.tenant_id IS DISTINCT FROM tid
					  AND (pg_catalog.starts_with(e.schema_prefix, prefix) OR pg_catalog.starts_with(prefix, e.schema_prefix)));
REVOKE ALL ON FUNCTION @extschema@._schema_prefix_taken(uuid, text) FROM PUBLIC;

-- The role model SQL of a new environment runs as: made for it, without
-- login, member of nothing and with no rights of its own; the DBA grants it
-- what its models read. Named ironlayer_<tenant>_<environment> ("-" as
-- "_") when that name is free and fits, else with a random suffix (a role
-- someone made in advance under the name is never used). (internal)
CREATE FUNCTION @extschema@._make_environment_role(tenant text, env text) RETURNS name
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	stem text := pg_catalog.replace(tenant OPERATOR(pg_catalog.||) '_' OPERATOR(pg_catalog.||) env, '-', '_');
	r text := 'ironlayer_' OPERATOR(pg_catalog.||) stem;
BEGIN
	WHILE pg_catalog.octet_length(r) OPERATOR(pg_catalog.>) 63
		  OR EXISTS (SELECT FROM pg_catalog.pg_roles x WHERE x.rolname OPERATOR(pg_catalog.=) r) LOOP
		r := 'ironlayer_' OPERATOR(pg_catalog.||) pg_catalog.left(stem, 40)
			 OPERATOR(pg_catalog.||) '_' OPERATOR(pg_catalog.||) pg_catalog.left(pg_catalog.md5(pg_catalog.gen_random_uuid()::text), 8);
	END LOOP;
	EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
	EXECUTE pg_catalog.format('COMMENT ON ROLE %I IS %L', r,
		pg_catalog.format('ironlayer: model SQL of environment %s of tenant %s', env, tenant));
	RETURN r;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._make_environment_role(text, text) FROM PUBLIC;

-- dev and prod for every new tenant, each with a role of its own for model
-- SQL and a schema prefix under the tenant's stem.
CREATE FUNCTION @extschema@._default_environments() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	dev name := @extschema@._make_environment_role(NEW.name, 'dev');
	prod name := @extschema@._make_environment_role(NEW.name, 'prod');
BEGIN
	INSERT INTO @extschema@.environments
		(tenant_id, name, auto_approve, approvals_required, approver_must_differ, schema_prefix,
		 run_as, default_run_as, updated_by)
	VALUES (NEW.tenant_id, 'dev', true, 0, false, NEW.schema_stem OPERATOR(pg_catalog.||) 'dev_', dev, dev, NEW.created_by),
		   (NEW.tenant_id, 'prod', false, 1, true, NEW.schema_stem, prod, prod, NEW.created_by);
	RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._default_environments() FROM PUBLIC;
CREATE TRIGGER tenants_default_environments AFTER INSERT ON @extschema@.tenants
	FOR EACH ROW EXECUTE FUNCTION @extschema@._default_environments();

CREATE FUNCTION @extschema@.set_environment(name text, settings jsonb) RETURNS void
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
	IF set_environment.name OPERATOR(pg_catalog.!~) '^[a-z][a-z0-9_-]{0,62}$' THEN
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
			RAISE EXCEPTION USING ERRCODE = 'program_limit_exceeded',
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
COMMENT ON FUNCTION @extschema@.set_environment(text, jsonb) IS
	'create or change an environment of the bound tenant (tenant admins); unknown keys and bad values are errors';

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
	'approvals and rejections of plans per environment; a rejection blocks the plan there for good';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.plan_approvals', '');
SELECT @extschema@._isolate_tenant_table('@extschema@.plan_approvals');
GRANT SELECT ON @extschema@.plan_approvals TO ironlayer_viewer;

-- The plan and environment rows of a decision, locked so that decisions
-- and applies of one plan take turns. Errors when either is unknown.
CREATE FUNCTION @extschema@._gate_rows(tid uuid, pid text, env text,
									   OUT plan_author name, OUT e @extschema@.environments)
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@._check_size('plan_id', pid, 64);
	PERFORM @extschema@._check_size('the environment name', env, 63);
	SELECT p.created_by INTO plan_author FROM @extschema@.plans p
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
END
$$;
REVOKE ALL ON FUNCTION @extschema@._gate_rows(uuid, text, text) FROM PUBLIC;

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
			DETAIL = 'A rejection is final for that plan in that environment.';
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
	'reject a stored plan in an environment for good (engineers and admins)';

-- Runs: one per apply of a plan in an environment, one step row per plan step.
CREATE TABLE @extschema@.runs (
	tenant_id	uuid NOT NULL REFERENCES @extschema@.tenants (tenant_id) ON DELETE CASCADE,
	run_id		bigint GENERATED ALWAYS AS IDENTITY,
	plan_id		text NOT NULL,
	environment	text NOT NULL,
	repository	text NOT NULL,
	state		text NOT NULL DEFAULT 'pending'
		CHECK (state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'running', 'succeeded', 'failed', 'cancelled'])),
	retry_of	bigint,
	created_by	name NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	started_at	timestamptz,
	finished_at	timestamptz,
	PRIMARY KEY (tenant_id, run_id),
	FOREIGN KEY (tenant_id, plan_id) REFERENCES @extschema@.plans (tenant_id, plan_id),
	FOREIGN KEY (tenant_id, environment) REFERENCES @extschema@.environments (tenant_id, name)
);
COMMENT ON TABLE @extschema@.runs IS 'applies of plans: one run per apply, its state';
-- at most one active run per repository and environment
CREATE UNIQUE INDEX runs_one_active ON @extschema@.runs (tenant_id, repository, environment)
	WHERE state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'running']);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.runs', '');
SELECT @extschema@._isolate_tenant_table('@extschema@.runs');
GRANT SELECT ON @extschema@.runs TO ironlayer_viewer;

CREATE TABLE @extschema@.run_steps (
	tenant_id	uuid NOT NULL,
	run_id		bigint NOT NULL,
	step_id		text NOT NULL,
	step_index	int NOT NULL,
	model		text NOT NULL,
	kind		text NOT NULL,
	materialization text NOT NULL,
	run_type	text NOT NULL,
	start_date	date,
	end_date	date,
	parallel_group int NOT NULL,
	depends_on	text[] NOT NULL,
	-- the steps of this run that depend on this one, and how many of this
	-- step's upstream steps have not succeeded yet: a step is ready when
	-- pending with none waiting (kept by complete_step)
	dependents	text[] NOT NULL DEFAULT '{}',
	waiting		int NOT NULL DEFAULT 0,
	state		text NOT NULL DEFAULT 'pending'
		CHECK (state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'running', 'succeeded', 'failed', 'skipped', 'cancelled'])),
	attempts	int NOT NULL DEFAULT 0,
	lease_owner	text,
	lease_until	timestamptz,
	started_at	timestamptz,
	finished_at	timestamptz,
	duration	interval GENERATED ALWAYS AS (finished_at OPERATOR(pg_catalog.-) started_at) STORED,
	-- telemetry (scrubbed before storage)
	executor	text,
	rows_affected bigint,
	statement_sha256 text,
	error_class	text,
	error_message text,
	PRIMARY KEY (tenant_id, run_id, step_id),
	FOREIGN KEY (tenant_id, run_id) REFERENCES @extschema@.runs (tenant_id, run_id) ON DELETE CASCADE
);
COMMENT ON TABLE @extschema@.run_steps IS
	'the steps of runs: state, attempts, lease, timings and scrubbed telemetry';
CREATE INDEX runs_by_id ON @extschema@.runs (run_id);
CREATE INDEX run_steps_by_run ON @extschema@.run_steps (run_id, step_id);
-- the claim's ordered scan of a run's ready steps, and of expired leases
CREATE INDEX run_steps_ready ON @extschema@.run_steps (run_id, parallel_group, step_index)
	WHERE state OPERATOR(pg_catalog.=) 'pending' AND waiting OPERATOR(pg_catalog.=) 0;
CREATE INDEX run_steps_leases ON @extschema@.run_steps (lease_until)
	WHERE state OPERATOR(pg_catalog.=) 'running';
CREATE INDEX run_steps_runnable ON @extschema@.run_steps (tenant_id, run_id, state)
	WHERE state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'running']);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.run_steps', '');
SELECT @extschema@._isolate_tenant_table('@extschema@.run_steps');
GRANT SELECT ON @extschema@.run_steps TO ironlayer_viewer;

CREATE VIEW @extschema@.run_summary WITH (security_invoker = true) AS
SELECT r.tenant_id, r.run_id, r.plan_id, r.environment, r.repository, r.state, r.retry_of,
	   r.created_by, r.created_at, r.started_at, r.finished_at,
	   r.finished_at OPERATOR(pg_catalog.-) r.started_at AS duration,
	   count(s.step_id) AS steps,
	   count(s.step_id) FILTER (WHERE s.state OPERATOR(pg_catalog.=) 'succeeded') AS succeeded,
	   count(s.step_id) FILTER (WHERE s.state OPERATOR(pg_catalog.=) 'failed') AS failed,
	   count(s.step_id) FILTER (WHERE s.state OPERATOR(pg_catalog.=) 'skipped') AS skipped,
	   count(s.step_id) FILTER (WHERE s.state OPERATOR(pg_catalog.=) 'cancelled') AS cancelled,
	   count(s.step_id) FILTER (WHERE s.state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'running'])) AS unfinished,
	   sum(s.rows_affected) AS rows_affected,
	   sum(s.attempts) AS attempts
  FROM @extschema@.runs r
  LEFT JOIN @extschema@.run_steps s USING (tenant_id, run_id)
 GROUP BY r.tenant_id, r.run_id;
COMMENT ON VIEW @extschema@.run_summary IS 'one row per run: its state, timing and step counts';
GRANT SELECT ON @extschema@.run_summary TO ironlayer_viewer;

-- Wakes the background workers when the calling transaction commits
-- (src/pg/worker.c); harmless without them.
CREATE FUNCTION @extschema@._wake_workers() RETURNS void
	LANGUAGE C VOLATILE AS 'MODULE_PATHNAME', 'ironlayer_wake_workers';
REVOKE ALL ON FUNCTION @extschema@._wake_workers() FROM PUBLIC;

-- Scrubs text of personal data and secrets before it is stored (src/core/il_scrub.c).
CREATE FUNCTION @extschema@._scrub(t text, is_sql boolean DEFAULT false) RETURNS text
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'ironlayer_scrub';
REVOKE ALL ON FUNCTION @extschema@._scrub(text, boolean) FROM PUBLIC;

-- The gate: auto-approval or enough approvals, and no rejection.
CREATE FUNCTION @extschema@._gate_open(tid uuid, pid text, e @extschema@.environments) RETURNS boolean
	LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
	SELECT NOT EXISTS (SELECT FROM @extschema@.plan_approvals a
						WHERE a.tenant_id OPERATOR(pg_catalog.=) tid AND a.plan_id OPERATOR(pg_catalog.=) pid
						  AND a.environment OPERATOR(pg_catalog.=) e.name AND a.decision OPERATOR(pg_catalog.=) 'reject')
	   AND (e.auto_approve
			OR (SELECT count(*) FROM @extschema@.plan_approvals a
				 WHERE a.tenant_id OPERATOR(pg_catalog.=) tid AND a.plan_id OPERATOR(pg_catalog.=) pid
				   AND a.environment OPERATOR(pg_catalog.=) e.name AND a.decision OPERATOR(pg_catalog.=) 'approve')
			   OPERATOR(pg_catalog.>=) e.approvals_required)
$$;
REVOKE ALL ON FUNCTION @extschema@._gate_open(uuid, text, @extschema@.environments) FROM PUBLIC;

-- A new run of the given steps of a plan (all of them, or those of a run
-- that did not succeed); the caller holds the plan's row.
CREATE FUNCTION @extschema@._start_run(tid uuid, pid text, e @extschema@.environments, repo text,
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
		RAISE EXCEPTION USING ERRCODE = 'program_limit_exceeded',
			MESSAGE = 'a tenant has at most 100 active runs',
			HINT = 'Wait for runs to finish (ironlayer.wait), or cancel some (ironlayer.cancel).';
	END IF;
	INSERT INTO @extschema@.runs (tenant_id, plan_id, environment, repository, retry_of, created_by)
	VALUES (tid, pid, e.name, repo, prior, caller)
	RETURNING run_id INTO rid;
	IF prior IS NULL THEN
		INSERT INTO @extschema@.run_steps (tenant_id, run_id, step_id, step_index, model, kind, materialization,
										   run_type, start_date, end_date, parallel_group, depends_on)
		SELECT tid, rid, s.step_id, s.step_index, s.model, s.kind, s.materialization, s.run_type,
			   s.start_date, s.end_date, s.parallel_group, s.depends_on
		  FROM @extschema@.plan_steps s
		 WHERE s.tenant_id OPERATOR(pg_catalog.=) tid AND s.plan_id OPERATOR(pg_catalog.=) pid;
	ELSE
		-- the steps of the prior run that did not succeed
		INSERT INTO @extschema@.run_steps (tenant_id, run_id, step_id, step_index, model, kind, materialization,
										   run_type, start_date, end_date, parallel_group, depends_on)
		SELECT tid, rid, p.step_id, p.step_index, p.model, p.kind, p.materialization, p.run_type,
			   p.start_date, p.end_date, p.parallel_group, p.depends_on
		  FROM @extschema@.run_steps p
		 WHERE p.tenant_id OPERATOR(pg_catalog.=) tid AND p.run_id OPERATOR(pg_catalog.=) prior
		   AND p.state OPERATOR(pg_catalog.<>) 'succeeded';
		-- upstream steps that succeeded before are satisfied already
		UPDATE @extschema@.run_steps s
		   SET depends_on = ARRAY(SELECT d FROM pg_catalog.unnest(s.depends_on) d
								   WHERE d OPERATOR(pg_catalog.=) ANY (ARRAY(
										SELECT x.step_id FROM @extschema@.run_steps x
										 WHERE x.tenant_id OPERATOR(pg_catalog.=) tid
										   AND x.run_id OPERATOR(pg_catalog.=) rid)))
		 WHERE s.tenant_id OPERATOR(pg_catalog.=) tid AND s.run_id OPERATOR(pg_catalog.=) rid;
	END IF;
	-- what each step waits for, and the reverse edges
	UPDATE @extschema@.run_steps s SET waiting = pg_catalog.cardinality(s.depends_on)
	 WHERE s.tenant_id OPERATOR(pg_catalog.=) tid AND s.run_id OPERATOR(pg_catalog.=) rid
	   AND s.depends_on OPERATOR(pg_catalog.<>) '{}';
	UPDATE @extschema@.run_steps s SET dependents = d.ids
	  FROM (SELECT u.step_id, pg_catalog.array_agg(x.step_id ORDER BY x.step_id) AS ids
			  FROM @extschema@.run_steps x
			 CROSS JOIN LATERAL pg_catalog.unnest(x.depends_on) u(step_id)
			 WHERE x.tenant_id OPERATOR(pg_catalog.=) tid AND x.run_id OPERATOR(pg_catalog.=) rid
			 GROUP BY u.step_id) d
	 WHERE s.tenant_id OPERATOR(pg_catalog.=) tid AND s.run_id OPERATOR(pg_catalog.=) rid
	   AND s.step_id OPERATOR(pg_catalog.=) d.step_id;
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

CREATE FUNCTION @extschema@.apply(plan_id text, environment text) RETURNS bigint
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

-- The run row of the bound tenant, locked; an error when there is none.
CREATE FUNCTION @extschema@._run_row(tid uuid, rid bigint) RETURNS @extschema@.runs
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r @extschema@.runs;
BEGIN
	IF rid IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'run_id must not be null';
	END IF;
	SELECT * INTO r FROM @extschema@.runs x
	 WHERE x.tenant_id OPERATOR(pg_catalog.=) tid AND x.run_id OPERATOR(pg_catalog.=) rid FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'undefined_object', MESSAGE = pg_catalog.format('run %s does not exist', rid);
	END IF;
	RETURN r;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._run_row(uuid, bigint) FROM PUBLIC;

CREATE FUNCTION @extschema@.cancel(run_id bigint) RETURNS text
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tid uuid := @extschema@._require_tenant_role('engineer', 'cancel runs');
	r @extschema@.runs := @extschema@._run_row(tid, cancel.run_id);
BEGIN
	IF r.state OPERATOR(pg_catalog.<>) ALL (ARRAY['pending', 'running']) THEN
		RETURN r.state;
	END IF;
	-- steps not started never start; a running step finishes and is recorded
	UPDATE @extschema@.run_steps s SET state = 'cancelled', finished_at = pg_catalog.now()
	 WHERE s.tenant_id OPERATOR(pg_catalog.=) tid AND s.run_id OPERATOR(pg_catalog.=) r.run_id
	   AND s.state OPERATOR(pg_catalog.=) 'pending';
	UPDATE @extschema@.runs x SET state = 'cancelled', finished_at = pg_catalog.now()
	 WHERE x.tenant_id OPERATOR(pg_catalog.=) tid AND x.run_id OPERATOR(pg_catalog.=) r.run_id;
	PERFORM @extschema@._audit(tid, 'run.cancel', 'run', r.run_id::text, '{}');
	RETURN 'cancelled';
END
$$;
COMMENT ON FUNCTION @extschema@.cancel(bigint) IS
	'cancel a run: its steps not yet started never start (engineers and admins); returns the run''s state';

CREATE FUNCTION @extschema@.retry(run_id bigint) RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tid uuid := @extschema@._require_tenant_role('engineer', 'retry runs');
	r @extschema@.runs := @extschema@._run_row(tid, retry.run_id);
	g record;
BEGIN
	IF r.state OPERATOR(pg_catalog.<>) ALL (ARRAY['failed', 'cancelled']) THEN
		RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = pg_catalog.format('run %s is %s: only a failed or cancelled run is retried', r.run_id, r.state);
	END IF;
	g := @extschema@._gate_rows(tid, r.plan_id, r.environment);
	IF NOT @extschema@._gate_open(tid, r.plan_id, g.e) THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = pg_catalog.format('plan %s is no longer approved for %s', r.plan_id, r.environment);
	END IF;
	RETURN @extschema@._start_run(tid, r.plan_id, g.e, r.repository, r.run_id);
END
$$;
COMMENT ON FUNCTION @extschema@.retry(bigint) IS
	'a new run of the steps of a failed or cancelled run that did not succeed (engineers and admins)';

-- Whether a row version was written by the calling transaction (src/pg/worker.c).
CREATE FUNCTION @extschema@._written_here(xmin xid) RETURNS boolean
	LANGUAGE C VOLATILE STRICT AS 'MODULE_PATHNAME', 'ironlayer_written_here';
REVOKE ALL ON FUNCTION @extschema@._written_here(xid) FROM PUBLIC;

CREATE FUNCTION @extschema@.wait(run_id bigint, timeout interval DEFAULT '5 min') RETURNS text
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	tid uuid := @extschema@._require_tenant_role('viewer', 'wait for runs');
	deadline timestamptz := pg_catalog.clock_timestamp() OPERATOR(pg_catalog.+) timeout;
	s text;
	here boolean;
BEGIN
	IF run_id IS NULL OR timeout IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed', MESSAGE = 'run_id and timeout must not be null';
	END IF;
	LOOP
		SELECT r.state, @extschema@._written_here(r.xmin) INTO s, here FROM @extschema@.runs r
		 WHERE r.tenant_id OPERATOR(pg_catalog.=) tid AND r.run_id OPERATOR(pg_catalog.=) wait.run_id;
		IF s IS NULL THEN
			RAISE EXCEPTION USING ERRCODE = 'undefined_object', MESSAGE = pg_catalog.format('run %s does not exist', run_id);
		END IF;
		IF s OPERATOR(pg_catalog.<>) ALL (ARRAY['pending', 'running']) THEN
			RETURN s;
		END IF;
		-- the workers cannot see a run this transaction applied or changed
		IF here THEN
			RAISE EXCEPTION USING ERRCODE = 'invalid_transaction_state',
				MESSAGE = pg_catalog.format('run %s was applied or changed in this transaction, so no worker can see it yet', run_id),
				HINT = 'Commit, then wait for the run.';
		END IF;
		IF pg_catalog.clock_timestamp() OPERATOR(pg_catalog.>=) deadline THEN
			RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
				MESSAGE = pg_catalog.format('run %s is still %s after waiting %s', run_id, s, timeout),
				HINT = 'Wait again, or look at ironlayer.run_steps.';
		END IF;
		PERFORM pg_catalog.pg_sleep(0.05);
	END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.wait(bigint, interval) IS
	'wait until a run is final and return its state; an error after the timeout';

-- Execution API, for the background workers and any external worker
-- (members of ironlayer_worker): claim a runnable step under a lease, keep
-- the lease, record the outcome. Tenants are crossed here, so these are
-- not for users.
DO $roles$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'ironlayer_worker') THEN
		CREATE ROLE ironlayer_worker NOLOGIN;
	END IF;
END
$roles$;

-- Claims take turns on the one row of this table, so each sees the steps
-- the others claimed. A row lock: no role without ironlayer's rights can
-- hold it (a role can take a weak lock on any table, by its oid, before
-- PostgreSQL checks its rights: a table lock stronger than ROW EXCLUSIVE
-- could be held up that way; a row lock cannot). Global, read by nobody.
CREATE TABLE @extschema@.claim_lock (
	singleton	boolean PRIMARY KEY DEFAULT true CHECK (singleton)
);
INSERT INTO @extschema@.claim_lock DEFAULT VALUES;
COMMENT ON TABLE @extschema@.claim_lock IS 'the one row that claim_step locks: claims take turns';

-- When each tenant was last given a step: the claim serves the tenant
-- served longest ago among those with the fewest steps running (round
-- robin). Only claim_step writes it, and no user reads it.
CREATE TABLE @extschema@.claim_turns (
	tenant_id	uuid PRIMARY KEY REFERENCES @extschema@.tenants (tenant_id) ON DELETE CASCADE,
	last_claim	timestamptz NOT NULL
);
COMMENT ON TABLE @extschema@.claim_turns IS
	'when claim_step last gave each tenant a step (the round robin of the workers)';
SELECT @extschema@._isolate_tenant_table('@extschema@.claim_turns');

CREATE FUNCTION @extschema@.claim_step(worker text, lease interval DEFAULT '1 min')
	RETURNS TABLE (tenant_id uuid, run_id bigint, step_id text, attempts int)
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	SET row_security = off SET lock_timeout = '1min'
AS $$
DECLARE
	s record;
	c record;
	sole record;
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
	-- again: it fails.
	LOOP
		SELECT x.tenant_id, x.run_id, x.step_id, x.attempts INTO s
		  FROM @extschema@.run_steps x
		 WHERE x.state OPERATOR(pg_catalog.=) 'running' AND x.lease_until OPERATOR(pg_catalog.<) pg_catalog.now()
		 ORDER BY x.lease_until
		 LIMIT 1
		   FOR UPDATE SKIP LOCKED;
		EXIT WHEN NOT FOUND OR s.attempts OPERATOR(pg_catalog.<) 3;
		UPDATE @extschema@.run_steps x SET lease_owner = worker
		 WHERE x.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND x.run_id OPERATOR(pg_catalog.=) s.run_id
		   AND x.step_id OPERATOR(pg_catalog.=) s.step_id;
		PERFORM @extschema@.complete_step(s.run_id, s.step_id, worker, false, NULL, NULL, NULL, '57P01',
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
	   AND x.step_id OPERATOR(pg_catalog.=) s.step_id;
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
	RETURN QUERY SELECT x.tenant_id, x.run_id, x.step_id, x.attempts FROM @extschema@.run_steps x
	 WHERE x.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND x.run_id OPERATOR(pg_catalog.=) s.run_id
	   AND x.step_id OPERATOR(pg_catalog.=) s.step_id;
END
$$;
COMMENT ON FUNCTION @extschema@.claim_step(text, interval) IS
	'claim one runnable step under a lease (workers); no row when there is none';

CREATE FUNCTION @extschema@.heartbeat(run_id bigint, step_id text, worker text, lease interval DEFAULT '1 min')
	RETURNS boolean
	LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET row_security = off
	SET lock_timeout = '1min'
BEGIN ATOMIC
	WITH u AS (
		UPDATE @extschema@.run_steps x SET lease_until = pg_catalog.now() OPERATOR(pg_catalog.+) lease
		 WHERE x.run_id OPERATOR(pg_catalog.=) heartbeat.run_id AND x.step_id OPERATOR(pg_catalog.=) heartbeat.step_id
		   AND x.state OPERATOR(pg_catalog.=) 'running' AND x.lease_owner OPERATOR(pg_catalog.=) worker
		   AND @extschema@._refuse_in_model_sql('keep leases')
		RETURNING 1)
	SELECT EXISTS (SELECT FROM u);
END;
COMMENT ON FUNCTION @extschema@.heartbeat(bigint, text, text, interval) IS
	'extend the lease of a step this worker runs; false when it no longer holds it';

CREATE FUNCTION @extschema@.complete_step(run_id bigint, step_id text, worker text, ok boolean,
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
	SELECT * INTO s FROM @extschema@.run_steps x
	 WHERE x.run_id OPERATOR(pg_catalog.=) complete_step.run_id AND x.step_id OPERATOR(pg_catalog.=) complete_step.step_id
	   FOR UPDATE;
	IF NOT FOUND OR s.state OPERATOR(pg_catalog.<>) 'running' OR s.lease_owner IS DISTINCT FROM worker THEN
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
	UPDATE @extschema@.run_steps x
	   SET state = CASE WHEN ok THEN 'succeeded' ELSE 'failed' END,
		   finished_at = pg_catalog.clock_timestamp(), lease_owner = NULL, lease_until = NULL,
		   rows_affected = complete_step.rows_affected, statement_sha256 = complete_step.statement_sha256,
		   executor = complete_step.executor,
		   error_class = @extschema@._scrub(complete_step.error_class),
		   error_message = @extschema@._scrub(complete_step.error_message, true)
	 WHERE x.tenant_id OPERATOR(pg_catalog.=) s.tenant_id AND x.run_id OPERATOR(pg_catalog.=) s.run_id
	   AND x.step_id OPERATOR(pg_catalog.=) s.step_id;
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
COMMENT ON FUNCTION @extschema@.complete_step(bigint, text, text, boolean, bigint, text, text, text, text) IS
	'record the outcome of a claimed step (workers); false when the lease was lost';

-- src/sql/75_executor.sql
-- The schemas the executor made, by tenant: a missing schema is made under
-- its row here (the executor's turn-taking, which no other role can hold).
CREATE TABLE @extschema@.target_schemas (
	tenant_id	uuid NOT NULL REFERENCES @extschema@.tenants (tenant_id) ON DELETE CASCADE,
	schema		name PRIMARY KEY,
	environment	text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX target_schemas_tenant ON @extschema@.target_schemas (tenant_id, schema);
COMMENT ON TABLE @extschema@.target_schemas IS
	'schemas the executor created for a tenant''s environments, owned by their run_as role';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.target_schemas', '');
SELECT @extschema@._isolate_tenant_table('@extschema@.target_schemas');
GRANT SELECT ON @extschema@.target_schemas TO ironlayer_viewer;

-- The local executor (src/pg/executor.c, docs/runs.md "The local executor"):
-- runs one claimed step on this server inside the caller's transaction and
-- records it with complete_step(), so the model's data, its watermark and
-- the step's state commit together. For the background workers and any
-- external worker (members of ironlayer_worker); it crosses tenants, so it
-- is not for users.
--
-- Its own lock waits are bounded by lock_timeout below; model SQL runs
-- under the environment's statement_timeout and lock_timeout.

CREATE FUNCTION @extschema@._execute_step(run_id bigint, step_id text, worker text) RETURNS bigint
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	SET row_security = off
	SET lock_timeout = '1min'
	AS 'MODULE_PATHNAME', 'ironlayer_execute_step';
COMMENT ON FUNCTION @extschema@._execute_step(bigint, text, text) IS
	'run a step this worker claimed, as the environment''s run_as role, and record it with complete_step (workers); returns the rows written';
REVOKE ALL ON FUNCTION @extschema@._execute_step(bigint, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._execute_step(bigint, text, text) TO ironlayer_worker;

-- src/sql/90_grants.sql
-- Privileges. Functions are revoked from PUBLIC and granted to the group
-- roles; what a member may do inside a tenant is then decided by its tenant
-- role (docs/security.md). viewer < engineer < admin by role membership.

REVOKE ALL ON FUNCTION @extschema@.current_tenant() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.current_tenant_role() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.use_tenant(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.my_tenants() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.create_tenant(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.add_member(text, name, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.remove_member(text, name) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION @extschema@.current_tenant() TO ironlayer_viewer;
GRANT EXECUTE ON FUNCTION @extschema@.current_tenant_role() TO ironlayer_viewer;
GRANT EXECUTE ON FUNCTION @extschema@.use_tenant(text) TO ironlayer_viewer;
GRANT EXECUTE ON FUNCTION @extschema@.my_tenants() TO ironlayer_viewer;

GRANT EXECUTE ON FUNCTION @extschema@.create_tenant(text) TO ironlayer_admin;
GRANT EXECUTE ON FUNCTION @extschema@.add_member(text, name, text) TO ironlayer_admin;
GRANT EXECUTE ON FUNCTION @extschema@.remove_member(text, name) TO ironlayer_admin;

REVOKE ALL ON FUNCTION @extschema@.verify_audit() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.audit_export(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.verify_audit() TO ironlayer_viewer;
GRANT EXECUTE ON FUNCTION @extschema@.audit_export(bigint) TO ironlayer_viewer;

REVOKE ALL ON FUNCTION @extschema@.vault_public_key() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.put_credential(text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.check_credentials() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.delete_credential(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.rotate_master_key() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.vault_public_key() TO ironlayer_viewer;
GRANT EXECUTE ON FUNCTION @extschema@.put_credential(text, text, text) TO ironlayer_admin;
GRANT EXECUTE ON FUNCTION @extschema@.check_credentials() TO ironlayer_admin;
GRANT EXECUTE ON FUNCTION @extschema@.delete_credential(text) TO ironlayer_admin;

REVOKE ALL ON FUNCTION @extschema@.add_repo(text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.remove_repo(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.resolve_commit(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.models(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.diff(text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.lineage(text, text, text, text, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.add_repo(text, text, text) TO ironlayer_admin;
GRANT EXECUTE ON FUNCTION @extschema@.remove_repo(text) TO ironlayer_admin;
GRANT EXECUTE ON FUNCTION @extschema@.resolve_commit(text, text) TO ironlayer_viewer;
GRANT EXECUTE ON FUNCTION @extschema@.models(text, text) TO ironlayer_viewer;
GRANT EXECUTE ON FUNCTION @extschema@.diff(text, text, text) TO ironlayer_viewer;
GRANT EXECUTE ON FUNCTION @extschema@.lineage(text, text, text, text, int) TO ironlayer_viewer;
-- superusers only (checked against the acting role as well)
REVOKE ALL ON FUNCTION @extschema@.grant_repo(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.revoke_repo(text, text, boolean) FROM PUBLIC;

REVOKE ALL ON FUNCTION @extschema@.set_watermark(text, text, text, date, date) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.plan(text, text, text, date, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.set_watermark(text, text, text, date, date) TO ironlayer_admin;
GRANT EXECUTE ON FUNCTION @extschema@.plan(text, text, text, date, jsonb) TO ironlayer_engineer;

REVOKE ALL ON FUNCTION @extschema@.set_environment(text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.approve(text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.reject(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.set_environment(text, jsonb) TO ironlayer_admin;
GRANT EXECUTE ON FUNCTION @extschema@.approve(text, text, text) TO ironlayer_engineer;
GRANT EXECUTE ON FUNCTION @extschema@.reject(text, text, text) TO ironlayer_engineer;

REVOKE ALL ON FUNCTION @extschema@.apply(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.cancel(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.retry(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.wait(bigint, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.claim_step(text, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.heartbeat(bigint, text, text, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.complete_step(bigint, text, text, boolean, bigint, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.apply(text, text) TO ironlayer_engineer;
GRANT EXECUTE ON FUNCTION @extschema@.cancel(bigint) TO ironlayer_engineer;
GRANT EXECUTE ON FUNCTION @extschema@.retry(bigint) TO ironlayer_engineer;
GRANT EXECUTE ON FUNCTION @extschema@.wait(bigint, interval) TO ironlayer_viewer;
GRANT USAGE ON SCHEMA @extschema@ TO ironlayer_worker;
GRANT EXECUTE ON FUNCTION @extschema@.claim_step(text, interval) TO ironlayer_worker;
GRANT EXECUTE ON FUNCTION @extschema@.heartbeat(bigint, text, text, interval) TO ironlayer_worker;
GRANT EXECUTE ON FUNCTION @extschema@.complete_step(bigint, text, text, boolean, bigint, text, text, text, text) TO ironlayer_worker;
