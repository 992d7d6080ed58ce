--
-- Tenancy: two tenants, the three tenant roles, and every cross-tenant read,
-- write and forge attempt.
--
--   alpha: ann (admin), ben (engineer), cat (viewer)
--   beta:  dan (admin), cat (engineer)
--   eve is a member of no tenant.
--
\set SHOW_CONTEXT never

-- seen(): the binding and the rows the current role can read.
CREATE FUNCTION public.seen() RETURNS text LANGUAGE sql AS $$
	SELECT coalesce(ironlayer.current_tenant_role(), '-') || ' | '
	    || coalesce((SELECT string_agg(name, ',' ORDER BY name) FROM ironlayer.tenants), '') || ' | '
	    || coalesce((SELECT string_agg(member || ':' || tenant_role, ',' ORDER BY member)
	                   FROM ironlayer.members), '')
$$;

CREATE ROLE regress_il_ann; GRANT ironlayer_admin TO regress_il_ann;
CREATE ROLE regress_il_ben; GRANT ironlayer_engineer TO regress_il_ben;
CREATE ROLE regress_il_cat; GRANT ironlayer_viewer TO regress_il_cat;
CREATE ROLE regress_il_dan; GRANT ironlayer_admin TO regress_il_dan;
CREATE ROLE regress_il_eve; GRANT ironlayer_viewer TO regress_il_eve;

-- Set up the tenants through the API, as their admins.
SET ROLE regress_il_ann;
SELECT ironlayer.create_tenant('alpha') IS NOT NULL AS created;
SELECT ironlayer.add_member('alpha', 'regress_il_ben', 'engineer');
SELECT ironlayer.add_member('alpha', 'regress_il_cat', 'viewer');
SET ROLE regress_il_dan;
SELECT ironlayer.create_tenant('beta') IS NOT NULL AS created;
SELECT ironlayer.add_member('beta', 'regress_il_cat', 'engineer');
RESET ROLE;
SELECT tenant_id AS alpha_id FROM ironlayer.tenants WHERE name = 'alpha' \gset
SELECT tenant_id AS beta_id FROM ironlayer.tenants WHERE name = 'beta' \gset

--
-- Unbound: a user sees no rows and cannot write.
--
SET ROLE regress_il_ann;
SELECT ironlayer.current_tenant() IS NULL AS unbound, seen();
SELECT tenant, tenant_role FROM ironlayer.my_tenants();
SELECT try($$INSERT INTO ironlayer.tenants (name, created_by) VALUES ('gamma', 'x')$$);

--
-- Bound to alpha: alpha's rows only.
--
SELECT ironlayer.use_tenant('alpha') = :'alpha_id' AS bound;
SELECT ironlayer.current_tenant() = :'alpha_id' AS is_alpha, seen();
SELECT count(*) AS beta_rows FROM ironlayer.members WHERE tenant_id = :'beta_id';
SELECT count(*) AS beta_rows FROM ironlayer.tenants WHERE name = 'beta';

-- Cross-tenant binding is refused, and the same way for a tenant that does
-- not exist (names are not disclosed). A refusal changes nothing.
SELECT ironlayer.use_tenant('beta');
SELECT ironlayer.use_tenant('no-such-tenant');
SELECT seen();

-- Direct writes are refused to every user role, in and across tenants.
SELECT try(format($$INSERT INTO ironlayer.members VALUES (%L, 'regress_il_ann', 'admin', now(), 'x')$$, :'beta_id'));
SELECT try(format($$INSERT INTO ironlayer.members VALUES (%L, 'regress_il_eve', 'admin', now(), 'x')$$, :'alpha_id'));
SELECT try($$UPDATE ironlayer.members SET tenant_role = 'admin'$$);
SELECT try($$DELETE FROM ironlayer.members$$);
SELECT try($$TRUNCATE ironlayer.members$$);
SELECT try($$UPDATE ironlayer.tenants SET name = 'stolen'$$);

-- Cross-tenant writes through the API are refused.
SELECT ironlayer.add_member('beta', 'regress_il_ann', 'admin');
SELECT try($$SELECT ironlayer.remove_member('beta', 'regress_il_cat')$$);
SELECT try($$SELECT ironlayer.add_member('no-such-tenant', 'regress_il_ann', 'admin')$$);

-- Forge attempts: settings cannot reach the binding.
SET ironlayer.current_tenant = 'beta';
SELECT try(format($$SELECT set_config('ironlayer.tenant_id', %L, false)$$, :'beta_id'));
SELECT try($$SET app.tenant_id = 'beta'$$);
RESET ALL;
SELECT seen();

-- The binding belongs to the role that made it: under another role it is
-- not in force, and that role cannot bind where it is no member.
RESET ROLE;
SET ROLE regress_il_eve;
SELECT ironlayer.current_tenant() IS NULL AS unbound, seen();
SELECT try($$SELECT ironlayer.use_tenant('alpha')$$);
SELECT tenant FROM ironlayer.my_tenants();
RESET ROLE;
SET ROLE regress_il_ann;
SELECT seen();

--
-- A member of two tenants: the tenant role follows the binding.
--
SET ROLE regress_il_cat;
SELECT tenant, tenant_role FROM ironlayer.my_tenants();
SELECT ironlayer.use_tenant('alpha') IS NOT NULL AS bound, seen();
SELECT ironlayer.use_tenant('beta') IS NOT NULL AS bound, seen();

-- Viewers and engineers cannot manage tenants (no EXECUTE), whatever their
-- tenant role.
SELECT try($$SELECT ironlayer.add_member('beta', 'regress_il_eve', 'viewer')$$);
SELECT try($$SELECT ironlayer.create_tenant('gamma')$$);
SET ROLE regress_il_ben;
SELECT try($$SELECT ironlayer.create_tenant('gamma')$$);
SELECT try($$SELECT ironlayer.remove_member('alpha', 'regress_il_cat')$$);

-- The binding is read in the leader only (PARALLEL RESTRICTED): forcing a
-- parallel plan returns the same rows.
SET ROLE regress_il_cat;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET force_parallel_mode = on;
SELECT count(*) AS beta_members FROM ironlayer.members;
RESET force_parallel_mode;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;

--
-- The binding is transactional, like SET.
--
SELECT ironlayer.use_tenant('alpha') IS NOT NULL AS bound;
BEGIN;
SELECT ironlayer.use_tenant('beta') IS NOT NULL AS bound, ironlayer.current_tenant_role();
ROLLBACK;
SELECT ironlayer.current_tenant_role(), ironlayer.current_tenant() = :'alpha_id' AS is_alpha;
BEGIN;
SAVEPOINT s1;
SELECT ironlayer.use_tenant('beta') IS NOT NULL AS bound;
SAVEPOINT s2;
SELECT ironlayer.use_tenant(NULL) IS NULL AS unbound;
ROLLBACK TO SAVEPOINT s2;
SELECT ironlayer.current_tenant_role();
ROLLBACK TO SAVEPOINT s1;
SELECT ironlayer.current_tenant_role();
SELECT ironlayer.use_tenant('beta') IS NOT NULL AS bound;
COMMIT;
SELECT ironlayer.current_tenant_role(), ironlayer.current_tenant() = :'beta_id' AS is_beta;
-- A statement that fails after binding leaves the old binding.
SELECT ironlayer.use_tenant('alpha') IS NOT NULL, 1 / 0;
SELECT ironlayer.current_tenant() = :'beta_id' AS is_beta;

-- Unbinding.
SELECT ironlayer.use_tenant(NULL) IS NULL AS unbound, seen();

-- DISCARD ALL drops the binding with every other session state.
SELECT ironlayer.use_tenant('alpha') IS NOT NULL AS bound;
RESET ROLE;
DISCARD ALL;
SET ROLE regress_il_cat;
SELECT ironlayer.current_tenant() IS NULL AS unbound, seen();

--
-- Membership changes reach a bound member at its next transaction.
--
SELECT ironlayer.use_tenant('alpha') IS NOT NULL AS bound, ironlayer.current_tenant_role();
SET ROLE regress_il_ann;
SELECT ironlayer.add_member('alpha', 'regress_il_cat', 'engineer');
SET ROLE regress_il_cat;
SELECT ironlayer.current_tenant_role();
SET ROLE regress_il_ann;
SELECT ironlayer.remove_member('alpha', 'regress_il_cat');
SET ROLE regress_il_cat;
SELECT ironlayer.current_tenant() IS NULL AS unbound, seen();
SELECT try($$SELECT ironlayer.use_tenant('alpha')$$);

--
-- Bad input: a clear error with a deliberate SQLSTATE, and nothing changed.
--
SET ROLE regress_il_ann;
SELECT ironlayer.create_tenant('Bad Name');
SELECT try($$SELECT ironlayer.create_tenant(NULL)$$);
SELECT try($$SELECT ironlayer.create_tenant('')$$);
SELECT try($$SELECT ironlayer.create_tenant(repeat('a', 63) || '!')$$);
SELECT try($$SELECT ironlayer.create_tenant(repeat('a', 64))$$);
SELECT try($$SELECT ironlayer.use_tenant(repeat('a', 100000))$$);
-- The tables hold the same name rules, as domains any role may use.
SELECT try($$SELECT 'a-b_1'::ironlayer.slug$$) AS slug, try($$SELECT 'a.b'::ironlayer.slug$$) AS dot;
SELECT try($$SELECT 'a.b-c_1'::ironlayer.dotted_slug$$) AS dotted,
       try($$SELECT repeat('a', 64)::ironlayer.dotted_slug$$) AS too_long;
SELECT ironlayer.create_tenant('alpha');
SELECT try($$SELECT ironlayer.create_tenant('beta')$$);
SELECT try($$SELECT ironlayer.add_member('alpha', 'regress_il_nobody', 'viewer')$$);
SELECT ironlayer.add_member('alpha', 'regress_il_eve', 'owner');
SELECT try($$SELECT ironlayer.add_member('alpha', 'regress_il_eve', NULL)$$);
SELECT try($$SELECT ironlayer.add_member(NULL, 'regress_il_eve', 'viewer')$$);
SELECT try($$SELECT ironlayer.add_member('alpha', NULL, 'viewer')$$);
SELECT try($$SELECT ironlayer.remove_member(NULL, 'regress_il_eve')$$);
SELECT try($$SELECT ironlayer.remove_member('alpha', NULL)$$);
SELECT try($$SELECT ironlayer.add_member('alpha', 'regress_il_eve', repeat('x', 64))$$);
SELECT try($$SELECT ironlayer.remove_member('alpha', 'regress_il_eve')$$);
SELECT ironlayer.remove_member('alpha', 'regress_il_ann');
SELECT try($$SELECT ironlayer.add_member('alpha', 'regress_il_ann', 'viewer')$$);
-- With a second admin, the first may step down; the second restores her
-- and leaves.
SELECT ironlayer.add_member('alpha', 'regress_il_dan', 'admin');
SELECT ironlayer.add_member('alpha', 'regress_il_ann', 'viewer');
SELECT try($$SELECT ironlayer.add_member('alpha', 'regress_il_ann', 'admin')$$);
SET ROLE regress_il_dan;
SELECT ironlayer.add_member('alpha', 'regress_il_ann', 'admin');
SELECT ironlayer.remove_member('alpha', 'regress_il_dan');

-- The whole state, read as superuser (who bypasses RLS): exactly what the
-- successful calls above made.
RESET ROLE;
SELECT name, created_by FROM ironlayer.tenants WHERE name IN ('alpha', 'beta') ORDER BY name;
SELECT t.name, m.member, m.tenant_role, m.added_by
  FROM ironlayer.members m JOIN ironlayer.tenants t USING (tenant_id)
 WHERE t.name IN ('alpha', 'beta')
 ORDER BY 1, 2;

-- A superuser may bind to any tenant, as admin.
SELECT ironlayer.use_tenant('beta') IS NOT NULL AS bound, ironlayer.current_tenant_role();
SELECT ironlayer.use_tenant(NULL) IS NULL AS unbound;

-- Refused by its tenant role, a member learns who can do it and where to
-- find them (ironlayer.members). ann holds the cluster role ironlayer_admin
-- (EXECUTE on set_environment) but is only an engineer of beta; ben is an
-- engineer role but only a viewer of beta.
SET ROLE regress_il_dan;
SELECT ironlayer.add_member('beta', 'regress_il_ann', 'engineer');
SELECT ironlayer.add_member('beta', 'regress_il_ben', 'viewer');
SET ROLE regress_il_ann;
SELECT ironlayer.use_tenant('beta') IS NOT NULL AS bound;
SELECT ironlayer.set_environment('dev', '{}');
SET ROLE regress_il_ben;
SELECT ironlayer.use_tenant('beta') IS NOT NULL AS bound;
SELECT ironlayer.cancel(1);
-- Without the cluster role, PostgreSQL refuses before ironlayer runs (no
-- hint of ours: docs/errors.md explains it).
SELECT ironlayer.set_environment('dev', '{}');
SELECT ironlayer.use_tenant(NULL) IS NULL AS unbound;
RESET ROLE;

-- Clean up.
DELETE FROM ironlayer.tenants;
DROP FUNCTION public.seen();
DROP ROLE regress_il_ann, regress_il_ben, regress_il_cat, regress_il_dan, regress_il_eve;
