--
-- Catalog-driven invariants that must hold for every table, view and function
-- the extension ever ships. They read the catalogs, so a new object that
-- breaks a rule fails here without anyone writing a new test.
--
-- The global allow-list: tables without tenant data. Keep it in step with
-- docs/security.md ("Global tables").
CREATE TEMP TABLE global_allow_list (relname name PRIMARY KEY);
INSERT INTO global_allow_list VALUES ('vault_meta'), ('parse_cache'), ('repo_claims'), ('claim_lock');

CREATE TEMP VIEW ext_objects AS
SELECT d.classid, d.objid
  FROM pg_depend d
 WHERE d.refclassid = 'pg_extension'::regclass
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'ironlayer')
   AND d.deptype = 'e';

CREATE TEMP VIEW ext_tables AS
SELECT c.oid, c.relname, c.relkind, c.relrowsecurity, c.relforcerowsecurity
  FROM ext_objects o JOIN pg_class c ON o.classid = 'pg_class'::regclass AND o.objid = c.oid
 WHERE c.relkind IN ('r', 'p');

-- The checks below are not vacuous: the extension has tables and functions.
SELECT count(*) > 0 AS has_tables FROM ext_tables;
SELECT count(*) > 0 AS has_security_definer_functions
  FROM ext_objects o JOIN pg_proc p ON o.classid = 'pg_proc'::regclass AND o.objid = p.oid
 WHERE p.prosecdef;

-- 1. Every table is on the allow-list, or has tenant_id, RLS enabled and
--    forced, and policies that all compare with ironlayer.current_tenant().
--    Expect no rows.
SELECT t.relname,
       EXISTS (SELECT 1 FROM pg_attribute a
                WHERE a.attrelid = t.oid AND a.attname = 'tenant_id'
                  AND a.atttypid = 'uuid'::regtype AND a.attnotnull AND NOT a.attisdropped) AS has_tenant_id,
       t.relrowsecurity, t.relforcerowsecurity,
       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = t.oid) AS policies
  FROM ext_tables t
 WHERE t.relname NOT IN (SELECT relname FROM global_allow_list)
   AND NOT (EXISTS (SELECT 1 FROM pg_attribute a
                     WHERE a.attrelid = t.oid AND a.attname = 'tenant_id'
                       AND a.atttypid = 'uuid'::regtype AND a.attnotnull AND NOT a.attisdropped)
            AND t.relrowsecurity AND t.relforcerowsecurity
            AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = t.oid))
 ORDER BY 1;

-- 2. Every policy of a tenant table is bound to the current tenant in both
--    directions (USING and WITH CHECK), and is not permissive-for-all.
--    Expect no rows.
SELECT c.relname, p.polname, p.polcmd,
       pg_get_expr(p.polqual, p.polrelid) AS using_expr,
       pg_get_expr(p.polwithcheck, p.polrelid) AS check_expr
  FROM pg_policy p JOIN ext_tables c ON c.oid = p.polrelid
 WHERE c.relname NOT IN (SELECT relname FROM global_allow_list)
   AND NOT (coalesce(pg_get_expr(p.polqual, p.polrelid), '') ~ 'tenant_id = ironlayer\.current_tenant\(\)'
            AND (p.polcmd IN ('r', 'd')
                 OR coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '') ~ 'tenant_id = ironlayer\.current_tenant\(\)'))
 ORDER BY 1, 2;

-- 3. Every tenant table has an index that leads with tenant_id. Expect no rows.
SELECT t.relname
  FROM ext_tables t
 WHERE t.relname NOT IN (SELECT relname FROM global_allow_list)
   AND NOT EXISTS (SELECT 1 FROM pg_index i
                    WHERE i.indrelid = t.oid
                      AND i.indkey[0] = (SELECT attnum FROM pg_attribute
                                          WHERE attrelid = t.oid AND attname = 'tenant_id'))
 ORDER BY 1;

-- 4. Users write only through functions: no table grants INSERT, UPDATE,
--    DELETE, TRUNCATE, REFERENCES or TRIGGER to anyone but its owner.
--    Expect no rows.
SELECT t.relname, a.grantee::regrole, a.privilege_type
  FROM ext_tables t JOIN pg_class c ON c.oid = t.oid,
       LATERAL aclexplode(c.relacl) a
 WHERE a.grantee <> c.relowner
   AND a.privilege_type <> 'SELECT'
 ORDER BY 1, 2, 3;

-- 5. Global tables are readable by no user role. Expect no rows.
SELECT t.relname, r.rolname
  FROM ext_tables t
  JOIN global_allow_list g ON g.relname = t.relname
 CROSS JOIN (VALUES ('ironlayer_viewer'), ('ironlayer_engineer'), ('ironlayer_admin'), ('public')) r(rolname)
 WHERE has_table_privilege(r.rolname, t.oid, 'SELECT')
 ORDER BY 1, 2;

-- 6. Every view reads with the caller's rights (security_invoker), so RLS
--    applies to the caller and not to the view's owner. Expect no rows.
SELECT c.relname
  FROM ext_objects o JOIN pg_class c ON o.classid = 'pg_class'::regclass AND o.objid = c.oid
 WHERE c.relkind = 'v'
   AND NOT coalesce('security_invoker=true' = ANY (c.reloptions), false)
 ORDER BY 1;

-- 7. Every SECURITY DEFINER function pins search_path to trusted schemas
--    only (pg_catalog, pg_temp last, or empty) and is not executable by
--    PUBLIC. Expect no rows.
SELECT p.oid::regprocedure AS function,
       coalesce(array_to_string(p.proconfig, ', '), '') AS config,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute
  FROM ext_objects o JOIN pg_proc p ON o.classid = 'pg_proc'::regclass AND o.objid = p.oid
 WHERE p.prosecdef
   AND (NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c
                     WHERE c IN ('search_path=pg_catalog, pg_temp', 'search_path=""'))
        OR has_function_privilege('public', p.oid, 'EXECUTE'))
 ORDER BY 1;

-- 8. No function, table or view in schema ironlayer lives outside the
--    extension (nothing stray, nothing a user could have planted). Expect no rows.
SELECT 'function' AS kind, p.oid::regprocedure::text AS name
  FROM pg_proc p
 WHERE p.pronamespace = 'ironlayer'::regnamespace
   AND NOT EXISTS (SELECT 1 FROM ext_objects o WHERE o.classid = 'pg_proc'::regclass AND o.objid = p.oid)
UNION ALL
SELECT 'relation', c.oid::regclass::text
  FROM pg_class c
 WHERE c.relnamespace = 'ironlayer'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
   AND NOT EXISTS (SELECT 1 FROM ext_objects o WHERE o.classid = 'pg_class'::regclass AND o.objid = c.oid)
 ORDER BY 1, 2;

-- 9. Functions that read the backend's binding are PARALLEL RESTRICTED or
--    UNSAFE (parallel workers do not share it). Expect no rows.
SELECT p.oid::regprocedure
  FROM pg_proc p
 WHERE p.pronamespace = 'ironlayer'::regnamespace
   AND p.proname IN ('current_tenant', 'current_tenant_role', 'use_tenant', 'acting_role')
   AND p.proparallel = 's';

-- 10. The group roles exist, cannot log in, and nest viewer < engineer < admin.
SELECT rolname, rolcanlogin, rolsuper, rolbypassrls
  FROM pg_roles WHERE rolname IN ('ironlayer_viewer', 'ironlayer_engineer', 'ironlayer_admin', 'ironlayer_worker')
 ORDER BY 1;
SELECT pg_has_role('ironlayer_admin', 'ironlayer_engineer', 'MEMBER') AS admin_is_engineer,
       pg_has_role('ironlayer_engineer', 'ironlayer_viewer', 'MEMBER') AS engineer_is_viewer,
       pg_has_role('ironlayer_viewer', 'ironlayer_engineer', 'MEMBER') AS viewer_is_engineer;

-- 10b. The roles made for environments (their default run_as) cannot log
--      in, have no attribute and belong to no role and no role to them:
--      what model SQL may touch is what the DBA grants. Expect no rows.
SELECT ironlayer.create_tenant('catalog-roles') IS NOT NULL AS created;
SELECT e.name, r.rolname
  FROM ironlayer.environments e JOIN pg_roles r ON r.rolname = e.default_run_as
 WHERE r.rolcanlogin OR r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolbypassrls OR r.rolreplication
    OR EXISTS (SELECT FROM pg_auth_members m WHERE m.member = r.oid OR m.roleid = r.oid);
SELECT count(*) > 0 AS has_environment_roles FROM ironlayer.environments WHERE default_run_as IS NOT NULL;

-- 11. The schema grants USAGE only to the viewer group and CREATE to no one
--     but its owner. Expect no rows for CREATE.
SELECT a.grantee::regrole, a.privilege_type
  FROM pg_namespace n, LATERAL aclexplode(n.nspacl) a
 WHERE n.nspname = 'ironlayer' AND a.grantee <> n.nspowner
 ORDER BY 1, 2;
