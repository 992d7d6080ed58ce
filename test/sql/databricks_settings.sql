--
-- Environments on Databricks (docs/databricks.md): every key of the
-- "databricks" settings, good and bad, as a hostile tenant would try them
-- (SSRF through workspace_url, traversal through ca_bundle, oversize
-- values, another tenant's credential); the two superuser settings; and
-- switching executors. test/regress.conf allows the default hosts plus
-- 127.0.0.1 and localhost:8443, and makes the data directory the CA
-- directory (PG_VERSION stands in for a bundle).
--
\set SHOW_CONTEXT never
-- try_hint(sql): like try(), with the hint.
CREATE FUNCTION public.try_hint(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	h text;
BEGIN
	EXECUTE sql;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
	RETURN SQLSTATE || ': ' || SQLERRM || ' / ' || h;
END $$;
-- dbx(databricks): try set_environment('prod') with executor databricks and
-- that databricks object.
CREATE FUNCTION public.dbx(d jsonb) RETURNS text LANGUAGE sql
	RETURN try(format('SELECT ironlayer.set_environment(''prod'', %L)',
					  jsonb_build_object('executor', 'databricks', 'databricks', d)));
-- good(key, value): the good object with key set to value (NULL removes it).
CREATE FUNCTION public.good(k text, v jsonb) RETURNS jsonb LANGUAGE sql
	RETURN CASE WHEN v IS NULL THEN
		'{"workspace_url": "https://adb-1234.5.azuredatabricks.net", "warehouse_id": "0123456789abcdef",
		  "catalog": "main", "credential": "dbx-pat"}'::jsonb - k
	ELSE jsonb_set('{"workspace_url": "https://adb-1234.5.azuredatabricks.net", "warehouse_id": "0123456789abcdef",
		  "catalog": "main", "credential": "dbx-pat"}'::jsonb, ARRAY[k], v) END;

CREATE ROLE regress_dx_ann; GRANT ironlayer_admin TO regress_dx_ann;
CREATE ROLE regress_dx_bob; GRANT ironlayer_admin TO regress_dx_bob;
CREATE ROLE regress_dx_eve; GRANT ironlayer_engineer TO regress_dx_eve;
SET ROLE regress_dx_ann;
SELECT ironlayer.create_tenant('dbx-a') IS NOT NULL AS created;
SELECT ironlayer.add_member('dbx-a', 'regress_dx_eve', 'engineer');
SET ROLE regress_dx_bob;
SELECT ironlayer.create_tenant('dbx-b') IS NOT NULL AS created;
RESET ROLE;
-- Credentials planted by the superuser (real ones come sealed; the kinds
-- are what matters here).
INSERT INTO ironlayer.credential_store (tenant_id, name, kind, token, fingerprint, created_by, updated_by)
SELECT t.tenant_id, c.name, c.kind, 'gAAAA-opaque', '0123456789abcdef', 'regress', 'regress'
  FROM ironlayer.tenants t
  JOIN (VALUES ('dbx-a', 'dbx-pat', 'databricks-pat'), ('dbx-a', 'dbx-oauth', 'databricks-oauth'),
			   ('dbx-a', 'plain', 'token'), ('dbx-b', 'b-secret', 'databricks-pat')) c (tenant, name, kind)
	ON c.tenant = t.name;

-- The settings: superusers only, reloaded (not SET), defaults documented.
SELECT name, boot_val, context FROM pg_settings WHERE name LIKE 'ironlayer.databricks%' ORDER BY name;
SELECT current_setting('ironlayer.databricks_ca_directory') AS ca_directory;
SELECT try($$SET ironlayer.databricks_hosts = '*'$$);
SELECT try($$SET ironlayer.databricks_ca_directory = '/tmp'$$);
-- bad values are refused before they reach postgresql.auto.conf
ALTER SYSTEM SET ironlayer.databricks_hosts = '*';
ALTER SYSTEM SET ironlayer.databricks_hosts = 'a.com,,b.com';
ALTER SYSTEM SET ironlayer.databricks_hosts = '*.10.0.0.1';
ALTER SYSTEM SET ironlayer.databricks_hosts = 'https://a.com';
ALTER SYSTEM SET ironlayer.databricks_ca_directory = E'/etc\nx';
SET ROLE regress_dx_ann;
SELECT try($$SHOW ironlayer.databricks_hosts$$);
SELECT try($$SHOW ironlayer.databricks_ca_directory$$);
SELECT ironlayer.use_tenant('dbx-a') IS NOT NULL AS bound;

-- Good settings, stored normalized with the defaults filled in.
SELECT dbx(good('workspace_url', NULL) || '{"workspace_url": "HTTPS://ADB-1234.5.AzureDatabricks.NET:443/"}');
SELECT executor, jsonb_pretty(databricks) FROM ironlayer.environments WHERE name = 'prod';
SELECT dbx(good('catalog', '"Sales_2026"') || '{"credential": "dbx-oauth", "auth": "oauth-m2m", "max_in_flight": 256,
		   "ca_bundle": "PG_VERSION", "workspace_url": "https://127.0.0.1"}');
SELECT executor, databricks FROM ironlayer.environments WHERE name = 'prod';
SELECT dbx(good('workspace_url', '"https://localhost:8443"') || '{"max_in_flight": 1, "ca_bundle": null, "auth": "pat"}');
SELECT databricks FROM ironlayer.environments WHERE name = 'prod';
SELECT dbx(good('workspace_url', '"https://dbc-0a1b2c3d-4e5f.cloud.databricks.com"'));
SELECT dbx(good('workspace_url', '"https://1234567890123456.7.gcp.databricks.com/"'));
SELECT databricks ->> 'workspace_url' AS url FROM ironlayer.environments WHERE name = 'prod';

-- workspace_url: https, a host the server allows, nothing else.
SELECT v AS workspace_url, dbx(good('workspace_url', to_jsonb(v))) AS result FROM (VALUES
	('http://adb-1234.5.azuredatabricks.net'),
	('ftp://adb-1234.5.azuredatabricks.net'),
	('adb-1234.5.azuredatabricks.net'),
	('https://'),
	('https://user@adb-1234.5.azuredatabricks.net'),
	('https://user:pw@adb-1234.5.azuredatabricks.net'),
	('https://adb-1234.5.azuredatabricks.net@169.254.169.254'),
	('https://adb-1234.5.azuredatabricks.net/api/2.0'),
	('https://adb-1234.5.azuredatabricks.net/?o=1'),
	('https://adb-1234.5.azuredatabricks.net#x'),
	('https://adb-1234.5.azuredatabricks.net.'),
	('https://adb-1234.5.azuredatabricks.net.evil.com'),
	('https://evilazuredatabricks.net'),
	('https://azuredatabricks.net'),
	('https://169.254.169.254'),
	('https://10.0.0.1'),
	('https://127.0.0.2'),
	('https://2130706433'),
	('https://0x7f.0.0.1'),
	('https://127.1'),
	('https://0177.0.0.1'),
	('https://[::1]'),
	('https://[::ffff:127.0.0.1]'),
	('https://localhost'),
	('https://localhost:8444'),
	('https://127.0.0.1:0'),
	('https://127.0.0.1:99999'),
	('https://adb-1234.5.azuredatabricks.net:'),
	('https://adb-1234.5.azurédatabricks.net'),
	('https://xn--adb-1234.5.azuredatabricks.net.evil.com'),
	('https://adb%2d1234.5.azuredatabricks.net'),
	('https://adb-1234.5.azuredatabricks.net\@evil.com'),
	(E'https://adb-1234.5.azuredatabricks.net\r\nHost: evil.com'),
	(' https://adb-1234.5.azuredatabricks.net'),
	('https://-adb.azuredatabricks.net'),
	('https://a..azuredatabricks.net')
) x (v);
-- a refusal never repeats what precedes an "@" (a password, a token), cut or not
SELECT dbx(good('workspace_url', '"http://u:hunter2@adb-1234.5.azuredatabricks.net"'));
SELECT dbx(good('workspace_url', '"u:hunter2@adb-1234.5.azuredatabricks.net/x"'));
SELECT dbx(good('workspace_url', to_jsonb('https://token:' || repeat('d', 120) || '@adb-1234.5.azuredatabricks.net')));
-- a token pasted where a name goes is neither stored nor repeated
SELECT try_hint(format('SELECT ironlayer.set_environment(''prod'', %L)', jsonb_build_object('executor', 'databricks',
	'databricks', good('credential', '"dapi0123456789abcdef0123456789abcdef"'))));
SELECT dbx(good('catalog', '"dapi0123456789abcdef0123456789abcdef"'));
SELECT dbx(good('ca_bundle', '"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"'));
SELECT dbx('"dapi0123456789abcdef0123456789abcdef"');
SELECT count(*) AS stored FROM ironlayer.environments WHERE databricks::text LIKE '%dapi%';
SELECT dbx(good('workspace_url', '42'));
SELECT dbx(good('workspace_url', 'null'));
SELECT dbx(good('workspace_url', '["https://adb-1234.5.azuredatabricks.net"]'));
-- oversize: refused, and the message shows a bounded prefix only
SELECT length(r) < 260 AS bounded, left(r, 60) FROM
	(SELECT dbx(good('workspace_url', to_jsonb('https://' || repeat('a', 5000) || '.azuredatabricks.net'))) AS r) x;
SELECT length(r) < 260 AS bounded, left(r, 60) FROM
	(SELECT dbx(good('workspace_url', to_jsonb('https://' || repeat('a.', 120) || 'azuredatabricks.net'))) AS r) x;

-- warehouse_id: 16 lower-case hexadecimal digits.
SELECT v AS warehouse_id, dbx(good('warehouse_id', v)) AS result FROM (VALUES
	('"0123456789ABCDEF"'::jsonb), ('"0123456789abcde"'), ('"0123456789abcdef0"'), ('"0123456789abcdeg"'),
	('"/../../api/2.0"'), ('"0123456789abcdef\n"'), ('1234567890123456'), ('null'), ('""')
) x (v);

-- catalog: an identifier.
SELECT v AS catalog, dbx(good('catalog', v)) AS result FROM (VALUES
	('"1main"'::jsonb), ('"my-catalog"'), ('"main`; DROP"'), ('"main.sch"'), ('""'), ('"café"'), ('7'), ('null')
) x (v);
SELECT dbx(good('catalog', to_jsonb(repeat('c', 255)))) AS c255,
	   dbx(good('catalog', to_jsonb(repeat('c', 256)))) AS c256;

-- credential: one of the tenant's own, of the kind auth takes.
SELECT v AS credential, dbx(good('credential', v)) AS result FROM (VALUES
	('"Dbx-Pat"'::jsonb), ('"../dbx-pat"'), ('"nope"'), ('"b-secret"'), ('"plain"'), ('"dbx-oauth"'), ('1'), ('""')
) x (v);
SELECT try_hint(format('SELECT ironlayer.set_environment(''prod'', %L)',
	jsonb_build_object('executor', 'databricks', 'databricks', good('credential', '"nope"'))));
SELECT try_hint(format('SELECT ironlayer.set_environment(''prod'', %L)',
	jsonb_build_object('executor', 'databricks', 'databricks', good('credential', '"dbx-pat"') || '{"auth": "oauth-m2m"}')));
-- tenant b names tenant a's credential, and a names b's: "does not exist"
SET ROLE regress_dx_bob;
SELECT ironlayer.use_tenant('dbx-b') IS NOT NULL AS bound;
SELECT dbx(good('credential', '"dbx-pat"'));
SELECT dbx(good('credential', '"b-secret"'));
SELECT name, executor, databricks ->> 'credential' AS credential FROM ironlayer.environments WHERE name = 'prod';
SET ROLE regress_dx_ann;
SELECT ironlayer.use_tenant('dbx-a') IS NOT NULL AS bound;

-- auth, max_in_flight.
SELECT v AS auth, dbx(good('auth', v)) AS result FROM (VALUES
	('"PAT"'::jsonb), ('"basic"'), ('"oauth"'), ('"oauth-m2m"'), ('null'), ('1')
) x (v);
SELECT v AS max_in_flight, dbx(good('max_in_flight', v)) AS result FROM (VALUES
	('0'::jsonb), ('257'), ('-1'), ('1.5'), ('16.0'), ('"16"'), ('1e2'), ('99999999999'), ('null'), ('true')
) x (v);
SELECT databricks -> 'max_in_flight' AS max_in_flight FROM ironlayer.environments WHERE name = 'prod';

-- ca_bundle: a plain name of a readable file in the CA directory.
SELECT v AS ca_bundle, dbx(good('ca_bundle', v)) AS result FROM (VALUES
	('"nope.pem"'::jsonb), ('"base"'), ('"../PG_VERSION"'), ('"./PG_VERSION"'), ('"/etc/ssl/certs/ca-certificates.crt"'),
	('".."'), ('"."'), ('".hidden"'), ('""'), ('"a\\b"'), ('"café.pem"'), ('"PG_VERSION/"'), ('1'), ('["PG_VERSION"]')
) x (v);
SELECT left(dbx(good('ca_bundle', to_jsonb(repeat('x', 300)))), 200);

-- Unknown keys, wrong shapes.
SELECT try_hint(format('SELECT ironlayer.set_environment(''prod'', %L)',
	jsonb_build_object('executor', 'databricks', 'databricks', good('token', '"dapi123"'))));
SELECT dbx(good('Workspace_URL', '"x"'));
SELECT dbx('"https://adb-1234.5.azuredatabricks.net"');
SELECT dbx('[]');
SELECT dbx('{}');
SELECT dbx(good('catalog', NULL) - 'credential');

-- Executors: databricks needs its object; the object needs databricks;
-- other keys keep the object; postgres clears it.
SELECT try_hint($$SELECT ironlayer.set_environment('dev', '{"executor": "databricks"}')$$);
SELECT try_hint($$SELECT ironlayer.set_environment('dev', '{"executor": "spark"}')$$);
SELECT try(format('SELECT ironlayer.set_environment(''dev'', %L)', jsonb_build_object('databricks', good('x', NULL))));
SELECT try(format('SELECT ironlayer.set_environment(''dev'', %L)',
	jsonb_build_object('executor', 'postgres', 'databricks', good('x', NULL))));
SELECT try_hint($$SELECT ironlayer.set_environment('dev', '{"executr": "databricks"}')$$);
SELECT dbx(good('x', NULL));
SELECT ironlayer.set_environment('prod', '{"auto_approve": true, "statement_timeout": "2h"}');
SELECT executor, auto_approve, statement_timeout, databricks ->> 'credential' AS credential
  FROM ironlayer.environments WHERE name = 'prod';
SELECT ironlayer.set_environment('prod', jsonb_build_object('databricks', good('catalog', '"other"')));
SELECT databricks ->> 'catalog' AS catalog FROM ironlayer.environments WHERE name = 'prod';
SELECT ironlayer.set_environment('prod', '{"executor": "postgres"}');
SELECT executor, databricks FROM ironlayer.environments WHERE name = 'prod';
SELECT ironlayer.set_environment('prod', '{"executor": "postgres", "databricks": null}');
SELECT try($$SELECT ironlayer.set_environment('prod', '{"executor": "databricks", "databricks": null}')$$);
-- a new environment on Databricks at once
SELECT ironlayer.set_environment('staging', jsonb_build_object('executor', 'databricks', 'databricks', good('x', NULL)));
SELECT name, executor, databricks ->> 'warehouse_id' AS warehouse FROM ironlayer.environments ORDER BY name;
-- a refused change leaves the row as it was
SELECT dbx(good('warehouse_id', '"nothex"'));
SELECT databricks ->> 'warehouse_id' AS warehouse FROM ironlayer.environments WHERE name = 'staging';
-- on_schema_change: Databricks takes fail and append_new_columns, not sync_all_columns
SELECT try_hint($$SELECT ironlayer.set_environment('staging', '{"on_schema_change": "sync_all_columns"}')$$);
SELECT ironlayer.set_environment('staging', '{"on_schema_change": "append_new_columns"}');
SELECT on_schema_change FROM ironlayer.environments WHERE name = 'staging';

-- Engineers may not configure environments.
SET ROLE regress_dx_eve;
SELECT ironlayer.use_tenant('dbx-a') IS NOT NULL AS bound;
SELECT dbx(good('x', NULL));
SELECT try($$SELECT ironlayer._databricks_settings(ironlayer.current_tenant(), '{}')$$);
SELECT try($$SELECT * FROM ironlayer._databricks_url('https://localhost:8443')$$);
SELECT try($$SELECT ironlayer._databricks_ca_problem('PG_VERSION')$$);
SET ROLE regress_dx_ann;
SELECT ironlayer.use_tenant('dbx-a') IS NOT NULL AS bound;

-- The audit log holds what was given: the credential's name, no secret.
SELECT details FROM ironlayer.audit_log
 WHERE action = 'environment.set' AND entity_id = 'staging' ORDER BY seq;
RESET ROLE;

-- The table keeps executor and settings together, whoever writes.
SELECT try($$UPDATE ironlayer.environments SET executor = 'databricks' WHERE name = 'dev'$$);
SELECT try($$UPDATE ironlayer.environments SET databricks = '{}' WHERE name = 'dev' AND executor = 'postgres'$$);
SELECT try($$UPDATE ironlayer.environments SET executor = 'spark' WHERE name = 'dev'$$);

-- Credential kinds may hold "-": the kind passes, the (fake) seal does not.
SET ROLE regress_dx_ann;
SELECT try($$SELECT ironlayer.put_credential('dbx2', 'ilseal1:AAAA', 'databricks-pat')$$);
SELECT try($$SELECT ironlayer.put_credential('dbx2', 'ilseal1:AAAA', 'databricks-oauth')$$);
SELECT try($$SELECT ironlayer.put_credential('dbx2', 'ilseal1:AAAA', '-pat')$$);
RESET ROLE;
DROP FUNCTION public.dbx(jsonb), public.good(text, jsonb), public.try_hint(text);
