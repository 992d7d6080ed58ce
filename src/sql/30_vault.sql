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
	name		@extschema@.dotted_slug NOT NULL,
	kind		text NOT NULL CHECK (kind OPERATOR(pg_catalog.~) '^[a-z][a-z0-9_-]{0,31}$'),
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
