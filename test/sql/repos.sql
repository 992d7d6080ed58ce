--
-- Git repositories and the models in them, read from the fixture
-- repositories of test/repos/fixtures.sh (fixed commit ids) under
-- ironlayer.repo_root: registration and its confinement, commit-ishes,
-- models at a commit, diffs by model name, lineage, and the errors of bad
-- repositories, all through SQL. Then who may register a repository (one
-- claim, superusers' grants), and the size limits and NULLs of the
-- arguments.
--
\set SHOW_CONTEXT never
-- try() with the server's repository root written as $ROOT
\set ECHO none
SELECT format('CREATE FUNCTION pg_temp.tryr(sql text) RETURNS text LANGUAGE sql AS %L',
              format('SELECT replace(public.try(sql), %L, %L)',
                     current_setting('ironlayer.repo_root'), '$ROOT')) \gexec
SELECT current_setting('ironlayer.repo_root') AS repo_root \gset
\setenv IL_ROOT :repo_root
\set ECHO all
CREATE ROLE regress_rp_ann; GRANT ironlayer_admin TO regress_rp_ann;
CREATE ROLE regress_rp_eng; GRANT ironlayer_engineer TO regress_rp_eng;
CREATE ROLE regress_rp_dan; GRANT ironlayer_admin TO regress_rp_dan;
SET ROLE regress_rp_ann;
SELECT ironlayer.create_tenant('repos-a') IS NOT NULL AS created;
SELECT ironlayer.add_member('repos-a', 'regress_rp_eng', 'engineer');
SET ROLE regress_rp_dan;
SELECT ironlayer.create_tenant('repos-b') IS NOT NULL AS created;
RESET ROLE;
-- the fixture repository shop is shared by the regression tests' tenants
SELECT ironlayer.grant_repo('repos-a', 'shop');

-- Registration: tenant admins only, paths inside the root only.
SET ROLE regress_rp_eng;
SELECT ironlayer.use_tenant('repos-a') IS NOT NULL AS bound;
SELECT pg_temp.tryr($$SELECT ironlayer.add_repo('shop', 'shop')$$);
SET ROLE regress_rp_ann;
SELECT ironlayer.use_tenant('repos-a') IS NOT NULL AS bound;
SELECT ironlayer.add_repo('shop', 'shop') > 0 AS added;
SELECT ironlayer.add_repo('bare', 'shop.git', 'models') > 0 AS added;
SELECT name, models_dir, right(path, 9) AS path_tail FROM ironlayer.repos ORDER BY name;
SELECT pg_temp.tryr($$SELECT ironlayer.add_repo('shop', 'shop')$$) AS same_name;
SELECT pg_temp.tryr($$SELECT ironlayer.add_repo('up', '../etc')$$) AS dotdot;
SELECT pg_temp.tryr($$SELECT ironlayer.add_repo('abs', '/etc')$$) AS outside;
SELECT pg_temp.tryr($$SELECT ironlayer.add_repo('link', 'escape')$$) AS symlink_out;
SELECT pg_temp.tryr($$SELECT ironlayer.add_repo('plain', 'plain')$$) AS not_a_repository;
SELECT pg_temp.tryr($$SELECT ironlayer.add_repo('missing', 'nowhere')$$) AS missing;
SELECT pg_temp.tryr($$SELECT ironlayer.add_repo('Bad Name', 'shop')$$) AS bad_name;
SELECT pg_temp.tryr($$SELECT ironlayer.add_repo('dir', 'shop', 'a/../b')$$) AS models_dir_dotdot;
SELECT pg_temp.tryr($$SELECT ironlayer.add_repo(NULL, 'shop')$$) AS null_name;
SELECT count(*) AS still_two FROM ironlayer.repos;
-- a models directory that a commit lacks is an error when that commit is read
SELECT ironlayer.add_repo('elsewhere', 'shop', 'nowhere/models') > 0 AS added;
SELECT pg_temp.tryr($$SELECT * FROM ironlayer.models('elsewhere', 'main')$$) AS no_models_dir;
SELECT ironlayer.remove_repo('elsewhere');

-- Commit-ishes resolve to full ids; unknown ones are 22023 naming them.
SELECT c AS commitish, ironlayer.resolve_commit('shop', c) AS commit
  FROM unnest(ARRAY['HEAD', 'main', 'HEAD~1', 'main^', 'v1', 'f3a2ee9', 'F3A2EE9F6883E7CC3354C4E16670E6809B8CB4B7', 'cycle']) c;
SELECT ironlayer.resolve_commit('bare', 'main') AS bare_main;
SELECT pg_temp.tryr($$SELECT ironlayer.resolve_commit('shop', 'nope')$$) AS unknown_commit;
SELECT pg_temp.tryr($$SELECT * FROM ironlayer.models('shop', 'nope')$$) AS unknown_commit;
SELECT pg_temp.tryr($$SELECT * FROM ironlayer.models('shop', 'HEAD~9')$$) AS too_far_back;
SELECT pg_temp.tryr($$SELECT * FROM ironlayer.models('shop', '')$$) AS empty_commit;
SELECT pg_temp.tryr($$SELECT * FROM ironlayer.models('nope', 'HEAD')$$) AS unknown_repo;

-- Models at a commit, ordered by name, with their graph.
SELECT name, path, kind, materialization, time_column, unique_key, upstream, sources
  FROM ironlayer.models('shop', 'main');
SELECT name, left(blob, 12) AS blob, left(fingerprint, 12) AS fingerprint
  FROM ironlayer.models('shop', 'v1');
-- the bare clone reads the same
SELECT (SELECT array_agg(name || blob ORDER BY name) FROM ironlayer.models('shop', 'main')) =
       (SELECT array_agg(name || blob ORDER BY name) FROM ironlayer.models('bare', 'main')) AS bare_same;

-- Diffs by model name: every change kind; a move is no change.
SELECT * FROM ironlayer.diff('shop', 'v1', 'main');
SELECT * FROM ironlayer.diff('shop', 'main', 'v1');
SELECT count(*) AS no_change FROM ironlayer.diff('shop', 'main', 'main');
SELECT * FROM ironlayer.diff('shop', 'main', 'ambiguous');

-- Lineage.
SELECT * FROM ironlayer.lineage('shop', 'main', 'staging.orders');
SELECT * FROM ironlayer.lineage('shop', 'main', 'raw.orders', 'downstream', 1);
SELECT * FROM ironlayer.lineage('shop', 'main', 'customer_summary', 'up');
SELECT pg_temp.tryr($$SELECT * FROM ironlayer.lineage('shop', 'main', 'orders')$$) AS ambiguous_model;
SELECT pg_temp.tryr($$SELECT * FROM ironlayer.lineage('shop', 'main', 'nope')$$) AS unknown_model;
SELECT pg_temp.tryr($$SELECT * FROM ironlayer.lineage('shop', 'main', 'raw.orders', 'sideways')$$) AS bad_direction;
SELECT pg_temp.tryr($$SELECT * FROM ironlayer.lineage('shop', 'main', 'raw.orders', 'both', 0)$$) AS bad_depth;

-- Broken commits: clear errors with deliberate SQLSTATEs.
SELECT pg_temp.tryr($$SELECT * FROM ironlayer.models('shop', 'cycle')$$) AS cycle;
SELECT pg_temp.tryr($$SELECT * FROM ironlayer.models('shop', 'ambiguous')$$) AS ambiguous_reference;
SELECT pg_temp.tryr($$SELECT * FROM ironlayer.models('shop', 'duplicate')$$) AS duplicate_model;
SELECT pg_temp.tryr($$SELECT * FROM ironlayer.models('shop', 'badheader')$$) AS bad_header;
SELECT pg_temp.tryr($$SELECT * FROM ironlayer.diff('shop', 'duplicate', 'main')$$) AS error_at_base;

-- Another tenant sees none of it.
SET ROLE regress_rp_dan;
SELECT ironlayer.use_tenant('repos-b') IS NOT NULL AS bound;
SELECT count(*) AS visible FROM ironlayer.repos;
SELECT pg_temp.tryr($$SELECT * FROM ironlayer.models('shop', 'main')$$) AS other_tenant;

-- A repository belongs to the tenant that registered it first: repos-a
-- claimed shop.git (as "bare"). Another tenant's admin cannot register it,
-- by any spelling of its path or a symbolic link to it, and is not told who
-- holds it.
\! ln -sfn "$IL_ROOT/shop.git" "$IL_ROOT/shop-link"
SELECT pg_temp.tryr($$SELECT ironlayer.add_repo('stolen', 'shop.git')$$) AS claimed;
SELECT pg_temp.tryr($$SELECT ironlayer.add_repo('stolen', './shop.git/')$$) AS claimed_respelled;
SELECT pg_temp.tryr($$SELECT ironlayer.add_repo('stolen', 'shop-link')$$) AS claimed_through_link;
SELECT pg_temp.tryr(format('SELECT ironlayer.add_repo(%L, %L)', 'stolen', :'repo_root' || '/shop.git')) AS claimed_absolute;
SELECT pg_temp.tryr($$SELECT ironlayer.add_repo('shop', 'shop')$$) AS granted_to_others;
SELECT count(*) AS registered FROM ironlayer.repos;
-- the holder may register it under several names
SET ROLE regress_rp_ann;
SELECT ironlayer.use_tenant('repos-a') IS NOT NULL AS bound;
SELECT ironlayer.add_repo('bare2', 'shop-link') > 0 AS added;
SELECT name, right(path, 10) AS path_tail, right(store, 9) AS store_tail FROM ironlayer.repos ORDER BY name;
-- only a superuser shares it, and revokes; the acting role counts, not the
-- owner of a security-definer function around them
SELECT pg_temp.tryr($$SELECT ironlayer.grant_repo('repos-b', 'shop.git')$$) AS admin_grants;
SELECT pg_temp.tryr($$SELECT ironlayer.revoke_repo('repos-a', 'shop.git')$$) AS admin_revokes;
RESET ROLE;
CREATE FUNCTION public.regress_rp_share() RETURNS void LANGUAGE sql SECURITY DEFINER
	RETURN ironlayer.grant_repo('repos-b', 'shop.git');
SET ROLE regress_rp_ann;
SELECT pg_temp.tryr($$SELECT public.regress_rp_share()$$) AS through_definer;
RESET ROLE;
DROP FUNCTION public.regress_rp_share();
SELECT ironlayer.grant_repo('repos-b', 'shop-link');
SELECT pg_temp.tryr($$SELECT ironlayer.grant_repo('nope', 'shop.git')$$) AS unknown_tenant;
SELECT pg_temp.tryr($$SELECT ironlayer.grant_repo('repos-b', 'plain')$$) AS not_a_repository;
SELECT pg_temp.tryr($$SELECT ironlayer.grant_repo('repos-b', 'escape')$$) AS outside;
SET ROLE regress_rp_dan;
SELECT ironlayer.use_tenant('repos-b') IS NOT NULL AS bound;
SELECT ironlayer.add_repo('shared', './shop.git') > 0 AS added;
SELECT count(*) AS models FROM ironlayer.models('shared', 'main');
SELECT action, entity_type, right(entity_id, 9) AS entity_tail,
       replace(details->>'path', :'repo_root', '$ROOT') AS path
  FROM ironlayer.audit_log WHERE action LIKE 'repo.%' ORDER BY seq;
RESET ROLE;
-- a revoke leaves the tenant's registrations unless told to remove them
SELECT pg_temp.tryr($$SELECT ironlayer.revoke_repo('repos-b', 'shop.git')$$) AS still_registered;
SELECT ironlayer.revoke_repo('repos-b', 'shop.git', cascade => true);
SELECT pg_temp.tryr($$SELECT ironlayer.revoke_repo('repos-b', 'shop.git')$$) AS revoked_twice;
SET ROLE regress_rp_dan;
SELECT ironlayer.use_tenant('repos-b') IS NOT NULL AS bound;
SELECT count(*) AS registered FROM ironlayer.repos;
SELECT pg_temp.tryr($$SELECT * FROM ironlayer.models('shared', 'main')$$) AS revoked;
SELECT action, right(entity_id, 9) AS entity_tail, details->>'revoked' AS revoked, details->'removed' AS removed
  FROM ironlayer.audit_log WHERE action IN ('repo.remove', 'repo.revoke') ORDER BY seq;
SELECT pg_temp.tryr($$SELECT ironlayer.add_repo('stolen', 'shop.git')$$) AS claimed_still;

-- Removal: admins only; the name is free again; the last registration of a
-- repository gives up the claim, and another tenant may claim it.
SET ROLE regress_rp_eng;
SELECT ironlayer.use_tenant('repos-a') IS NOT NULL AS bound;
SELECT pg_temp.tryr($$SELECT ironlayer.remove_repo('bare')$$) AS engineer_removes;
SELECT count(*) AS engineer_reads FROM ironlayer.models('shop', 'main');
SET ROLE regress_rp_ann;
SELECT ironlayer.use_tenant('repos-a') IS NOT NULL AS bound;
SELECT ironlayer.remove_repo('bare');
SELECT pg_temp.tryr($$SELECT ironlayer.remove_repo('bare')$$) AS removed_twice;
SELECT name FROM ironlayer.repos ORDER BY name;
SET ROLE regress_rp_dan;
SELECT ironlayer.use_tenant('repos-b') IS NOT NULL AS bound;
SELECT pg_temp.tryr($$SELECT ironlayer.add_repo('stolen', 'shop.git')$$) AS claimed_still;
SET ROLE regress_rp_ann;
SELECT ironlayer.use_tenant('repos-a') IS NOT NULL AS bound;
SELECT ironlayer.remove_repo('bare2');
SELECT details->>'released' AS released FROM ironlayer.audit_log WHERE action = 'repo.remove' ORDER BY seq;
SET ROLE regress_rp_dan;
SELECT ironlayer.use_tenant('repos-b') IS NOT NULL AS bound;
SELECT ironlayer.add_repo('mine', 'shop.git') > 0 AS added;
SELECT ironlayer.remove_repo('mine');
RESET ROLE;
SELECT count(*) AS claims_left FROM ironlayer.repo_claims WHERE store LIKE '%/shop.git';
\! rm -f "$IL_ROOT/shop-link"

-- Sizes are checked first (22001, from the header: a 100 MB argument costs
-- nothing), then NULLs (22004).
SET ROLE regress_rp_ann;
SELECT ironlayer.use_tenant('repos-a') IS NOT NULL AS bound;
SELECT pg_temp.tryr($$SELECT ironlayer.add_repo(repeat('a', 64), 'shop')$$) AS long_name;
SELECT pg_temp.tryr($$SELECT ironlayer.add_repo('x', repeat('p/', 2049))$$) AS long_path;
SELECT pg_temp.tryr($$SELECT ironlayer.add_repo('x', 'shop', repeat('m', 100 * 1024 * 1024))$$) AS models_dir_100mb;
SELECT pg_temp.tryr($$SELECT ironlayer.add_repo(repeat('a', 64), NULL)$$) AS size_before_null;
SELECT pg_temp.tryr($$SELECT ironlayer.remove_repo(repeat('a', 64))$$) AS remove_long_name;
SELECT pg_temp.tryr($$SELECT ironlayer.resolve_commit(repeat('a', 64), 'main')$$) AS resolve_long_repo;
SELECT pg_temp.tryr($$SELECT ironlayer.resolve_commit('shop', repeat('c', 1025))$$) AS resolve_long_commit;
SELECT pg_temp.tryr($$SELECT * FROM ironlayer.models('shop', repeat('c', 1025))$$) AS models_long_commit;
SELECT pg_temp.tryr($$SELECT * FROM ironlayer.diff('shop', repeat('c', 1025), 'main')$$) AS diff_long_base;
SELECT pg_temp.tryr($$SELECT * FROM ironlayer.diff('shop', 'main', repeat('c', 1025))$$) AS diff_long_head;
SELECT pg_temp.tryr($$SELECT * FROM ironlayer.lineage('shop', 'main', repeat('m', 1025))$$) AS lineage_long_model;
SELECT pg_temp.tryr($$SELECT * FROM ironlayer.lineage('shop', 'main', 'raw.orders', repeat('d', 17))$$) AS lineage_long_direction;
-- at the limits, the form is checked
SELECT left(pg_temp.tryr($$SELECT ironlayer.resolve_commit('shop', repeat('c', 1024))$$), 22) AS commit_at_limit;
SELECT pg_temp.tryr($$SELECT * FROM ironlayer.lineage('shop', 'main', 'raw.orders', repeat('d', 16))$$) AS direction_at_limit;
SELECT pg_temp.tryr($$SELECT ironlayer.remove_repo(NULL)$$) AS remove_null;
SELECT pg_temp.tryr($$SELECT ironlayer.resolve_commit('shop', NULL)$$) AS resolve_null;
SELECT pg_temp.tryr($$SELECT * FROM ironlayer.models(NULL, 'main')$$) AS models_null;
SELECT pg_temp.tryr($$SELECT * FROM ironlayer.diff('shop', NULL, 'main')$$) AS diff_null;
SELECT pg_temp.tryr($$SELECT * FROM ironlayer.lineage('shop', 'main', NULL)$$) AS lineage_null;
RESET ROLE;
SELECT pg_temp.tryr($$SELECT ironlayer.grant_repo(repeat('t', 64), 'shop')$$) AS grant_long_tenant;
SELECT pg_temp.tryr($$SELECT ironlayer.grant_repo('repos-b', repeat('p', 4097))$$) AS grant_long_path;
SELECT pg_temp.tryr($$SELECT ironlayer.grant_repo('repos-b', NULL)$$) AS grant_null;
SELECT pg_temp.tryr($$SELECT ironlayer.revoke_repo('repos-b', 'shop', NULL)$$) AS revoke_null;
