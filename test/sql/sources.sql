--
-- Declared sources and unknown references, through SQL, over the fixture
-- repository sources (test/repos/fixtures.sh): without sources.txt a
-- reference into a schema of models that names no model is unknown (the
-- typo marts.dim_user beside marts.dim_users); with one, every reference
-- it does not declare is. models(), diff() and plans report them (plans
-- only when there are some, so other plans keep their bytes); a bad
-- sources.txt is 22023 naming the file and line; 10,001 entries are
-- refused.
--
\set SHOW_CONTEXT never
CREATE ROLE regress_src_ann; GRANT ironlayer_admin TO regress_src_ann;
CREATE ROLE regress_src_eng; GRANT ironlayer_engineer TO regress_src_eng;
SET ROLE regress_src_ann;
SELECT ironlayer.create_tenant('sources-a') IS NOT NULL AS created;
SELECT ironlayer.add_member('sources-a', 'regress_src_eng', 'engineer');
RESET ROLE;
SELECT ironlayer.grant_repo('sources-a', 'sources');
SET ROLE regress_src_ann;
SELECT ironlayer.use_tenant('sources-a') IS NOT NULL AS bound;
SELECT ironlayer.add_repo('src', 'sources') > 0 AS added;
SET ROLE regress_src_eng;
SELECT ironlayer.use_tenant('sources-a') IS NOT NULL AS bound;

-- s1, no sources.txt: the typo is unknown, source.* stays an implicit source.
SELECT name, sources, unknown_refs, upstream FROM ironlayer.models('src', 's1');
SELECT model, change, unknown_refs FROM ironlayer.diff('src', '0000000000000000000000000000000000000000', 's1');

-- s2, sources.txt declares source.users (as Source.Users): declared, not
-- reported; source.orders is now unknown too.
SELECT name, sources, unknown_refs FROM ironlayer.models('src', 's2');
-- s2..s3 fixes the typo and declares source.*: nothing is unknown at s3
SELECT model, change, unknown_refs FROM ironlayer.diff('src', 's2', 's3');
SELECT model, change, unknown_refs FROM ironlayer.diff('src', 's3', 's2');
SELECT name, unknown_refs FROM ironlayer.models('src', 's3');

-- Plans: the member over every model at the target, written only when not
-- empty; the id is still the SHA-256 of the text without plan_id.
SELECT ironlayer.plan('src', NULL, 's1', '2026-01-15')->'unknown_references' AS change_plan;
SELECT ironlayer.plan('src', 's1', 's2', '2026-01-15')->'unknown_references' AS no_change_still_reported;
SELECT ironlayer.plan('src', NULL, 's2', '2026-01-15', '{"kind": "refresh"}')->'unknown_references' AS refresh_plan;
SELECT ironlayer.plan('src', 's2', 's3', '2026-01-15')::jsonb ? 'unknown_references' AS member_at_s3;
SELECT right(plan::text, 130) AS text_end FROM ironlayer.plans
 WHERE plan->>'target' = ironlayer.resolve_commit('src', 's1');
SELECT bool_and(plan_id = encode(sha256(convert_to(
         regexp_replace(plan::text, ',"plan_id":"[0-9a-f]{64}"', ''), 'UTF8')), 'hex')) AS ids_are_sha256
  FROM ironlayer.plans;

-- A bad line: 22023 naming the file and the line (models, diff, plan).
SELECT try($$SELECT * FROM ironlayer.models('src', 's4')$$);
SELECT try($$SELECT * FROM ironlayer.diff('src', 's3', 's4')$$);
SELECT try($$SELECT ironlayer.plan('src', 's3', 's4', '2026-01-15')$$);
-- only the head's declaration is read: s4 as a base is fine
SELECT model, change, unknown_refs FROM ironlayer.diff('src', 's4', 's3');
-- 10,001 entries are refused, naming the line of the last
SELECT try($$SELECT * FROM ironlayer.models('src', 's5')$$);

RESET ROLE;
