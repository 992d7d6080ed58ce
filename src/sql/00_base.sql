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

-- 22001 when a text, jsonb or bytea value holds more than max_bytes bytes,
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

-- The name rules, each written once. A slug names a tenant or an
-- environment: 1 to 63 characters, a lower-case letter, then lower-case
-- letters, digits, "_" or "-". A dotted slug names a repository or a
-- credential and may also hold ".". Columns take the domains (a bad row is
-- 23514); API functions test _is_slug first to fail with their own message
-- (22023). _is_slug is a pure predicate, left executable by everyone, as a
-- domain check may run as any role.
CREATE FUNCTION @extschema@._is_slug(t text) RETURNS boolean
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	RETURN t OPERATOR(pg_catalog.~) '^[a-z][a-z0-9_-]{0,62}$';
CREATE DOMAIN @extschema@.slug AS text CHECK (@extschema@._is_slug(VALUE));
COMMENT ON DOMAIN @extschema@.slug IS
	'a tenant or environment name: a lower-case letter, then up to 62 lower-case letters, digits, "_" or "-"';
CREATE DOMAIN @extschema@.dotted_slug AS text CHECK (VALUE OPERATOR(pg_catalog.~) '^[a-z][a-z0-9_.-]{0,62}$');
COMMENT ON DOMAIN @extschema@.dotted_slug IS
	'a repository or credential name: a lower-case letter, then up to 62 lower-case letters, digits, "_", "." or "-"';
