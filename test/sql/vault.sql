--
-- The credentials vault through SQL: the public key, bad input, privileges,
-- RLS on credentials, and the secret-free view. (Sealing happens on the
-- client: the whole round trip is in test/t/003_vault.pl.)
--
\set SHOW_CONTEXT never
CREATE ROLE regress_va_ann; GRANT ironlayer_admin TO regress_va_ann;
CREATE ROLE regress_va_eng; GRANT ironlayer_engineer TO regress_va_eng;
CREATE ROLE regress_va_dan; GRANT ironlayer_admin TO regress_va_dan;
SET ROLE regress_va_ann;
SELECT ironlayer.create_tenant('vault-a') IS NOT NULL AS created;
SELECT ironlayer.add_member('vault-a', 'regress_va_eng', 'engineer');
SET ROLE regress_va_dan;
SELECT ironlayer.create_tenant('vault-b') IS NOT NULL AS created;
SELECT ironlayer.add_member('vault-b', 'regress_va_ann', 'viewer');
RESET ROLE;

-- The public key: stable, and in the documented form.
SET ROLE regress_va_eng;
SELECT ironlayer.vault_public_key() ~ '^ilseal1:[A-Za-z0-9_-]{43}$' AS public_key_form,
       ironlayer.vault_public_key() = ironlayer.vault_public_key() AS stable;

-- Unbound, or not an admin of the bound tenant: refused.
SELECT ironlayer.put_credential('dbx', 'ilseal1:AAAA');
SELECT ironlayer.use_tenant('vault-a') IS NOT NULL AS bound;
SELECT try($$SELECT ironlayer.put_credential('dbx', 'ilseal1:AAAA')$$);
SELECT try($$SELECT ironlayer.check_credentials()$$);
SELECT try($$SELECT ironlayer.rotate_master_key()$$);
SET ROLE regress_va_ann;
SELECT ironlayer.use_tenant('vault-b') IS NOT NULL AS bound;
SELECT ironlayer.put_credential('dbx', 'ilseal1:AAAA');

-- Bad input, as an admin of the bound tenant: a clear error, nothing stored.
SELECT ironlayer.use_tenant('vault-a') IS NOT NULL AS bound;
SELECT ironlayer.put_credential('dbx', 'not-sealed');
SELECT try($$SELECT ironlayer.put_credential('dbx', 'ilseal1:AAAA')$$);
SELECT try($$SELECT ironlayer.put_credential('dbx', 'ilseal1:' || repeat('A', 120))$$);
SELECT try($$SELECT ironlayer.put_credential('Bad Name', 'ilseal1:AAAA')$$);
SELECT try($$SELECT ironlayer.put_credential('dbx', 'ilseal1:AAAA', 'Not A Kind')$$);
SELECT try($$SELECT ironlayer.put_credential(NULL, 'ilseal1:AAAA')$$);
SELECT try($$SELECT ironlayer.put_credential('dbx', NULL)$$);
SELECT try($$SELECT ironlayer.delete_credential('nope')$$);
SELECT try($$SELECT ironlayer.delete_credential(NULL)$$) AS null_name;
SELECT try($$SELECT ironlayer.rotate_master_key()$$);
SELECT count(*) AS stored FROM ironlayer.credentials;
SELECT * FROM ironlayer.check_credentials();

-- RLS and the token: rows planted by the superuser (tokens here are opaque
-- text; real ones come from the client), one per tenant.
RESET ROLE;
INSERT INTO ironlayer.credential_store (tenant_id, name, kind, token, fingerprint, created_by, updated_by)
SELECT tenant_id, 'dbx', 'token', 'gAAAA-token-of-' || name, '0123456789abcdef', 'regress', 'regress'
  FROM ironlayer.tenants WHERE name IN ('vault-a', 'vault-b');
SET ROLE regress_va_eng;
SELECT ironlayer.use_tenant('vault-a') IS NOT NULL AS bound;
SELECT name, kind, fingerprint, created_by FROM ironlayer.credentials;
SELECT try($$SELECT token FROM ironlayer.credential_store$$);
SELECT try($$SELECT * FROM ironlayer.credential_store$$);
SELECT count(*) AS visible FROM ironlayer.credential_store;
SELECT try($$SELECT * FROM ironlayer.vault_meta$$);
SELECT try($$UPDATE ironlayer.credential_store SET kind = 'x'$$);
SELECT try($$SELECT ironlayer.delete_credential('dbx')$$);
SET ROLE regress_va_ann;
SELECT ironlayer.use_tenant('vault-b') IS NOT NULL AS bound;
SELECT count(*) AS visible_in_b FROM ironlayer.credentials;
SELECT try($$SELECT ironlayer.delete_credential('dbx')$$);
SELECT ironlayer.use_tenant('vault-a') IS NOT NULL AS bound;
SELECT * FROM ironlayer.check_credentials();
SELECT ironlayer.delete_credential('dbx');
SELECT count(*) AS left_in_a FROM ironlayer.credentials;
SELECT action, entity_id, details FROM ironlayer.audit_log
 WHERE action LIKE 'credential.%' ORDER BY seq;
RESET ROLE;
SELECT t.name, count(c.name) AS credentials
  FROM ironlayer.tenants t LEFT JOIN ironlayer.credential_store c USING (tenant_id)
 WHERE t.name LIKE 'vault-%' GROUP BY 1 ORDER BY 1;

-- The view shows no token column, ever.
SELECT attname FROM pg_attribute
 WHERE attrelid = 'ironlayer.credentials'::regclass AND attnum > 0 ORDER BY attnum;

SELECT ironlayer.use_tenant(NULL) IS NULL AS unbound;
DELETE FROM ironlayer.tenants WHERE name IN ('vault-a', 'vault-b');
DROP ROLE regress_va_ann, regress_va_eng, regress_va_dan;
