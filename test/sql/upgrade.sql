--
-- Upgrades: an install of the first shipped version (0.1.0), updated along
-- the chain of ironlayer--<from>--<to>.sql scripts to the current version,
-- holds the same objects as a fresh install of the current version.
--
-- Two databases made from one template that holds the view describing the
-- extension: "fresh" installs the current version, "updated" installs
-- 0.1.0 and runs ALTER EXTENSION ironlayer UPDATE. The fresh description
-- travels to the updated database as a psql variable, and the last query
-- lists every line that differs (expected: none). When it lists some, the
-- upgrade script misses them: "only in fresh" is what the script must
-- create or change, "only in updated" what it must drop or change back.
--

-- ironlayer_objects: one row per aspect of every object of the extension
-- (pg_depend deptype 'e'), plus its schema and its pg_dump configuration:
-- definitions, owners, privileges, comments; columns, constraints, indexes,
-- triggers, policies and row level security of tables; the rows the install
-- writes. Identities come from pg_describe_object, never from OIDs.
SELECT current_database() AS regress_database \gset
CREATE DATABASE ironlayer_describe;
\c ironlayer_describe
CREATE VIEW ironlayer_objects (object, aspect, value) AS
WITH ext AS (
	SELECT oid, extnamespace FROM pg_extension WHERE extname = 'ironlayer'
), member AS (
	SELECT d.classid, d.objid, pg_describe_object(d.classid, d.objid, 0) AS object
	  FROM pg_depend d JOIN ext ON d.refobjid = ext.oid
	 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
), fn AS (
	SELECT m.object, p.* FROM member m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid
), rel AS (
	SELECT m.object, c.* FROM member m JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid
), typ AS (
	SELECT m.object, t.* FROM member m JOIN pg_type t ON m.classid = 'pg_type'::regclass AND t.oid = m.objid
), col AS (
	SELECT r.object, r.relkind, a.* FROM rel r JOIN pg_attribute a ON a.attrelid = r.oid
	 WHERE a.attnum > 0 AND NOT a.attisdropped
), aspects (object, aspect, value) AS (
-- every member, its comment and its initial privileges (pg_init_privs)
SELECT object, 'member', NULL FROM member
UNION ALL
SELECT m.object, 'comment', d.description
  FROM member m JOIN pg_description d ON d.classoid = m.classid AND d.objoid = m.objid AND d.objsubid = 0
UNION ALL
SELECT m.object, 'initial privileges' || CASE WHEN i.objsubid = 0 THEN '' ELSE ' of column ' || a.attname END,
	   i.initprivs::text
  FROM member m JOIN pg_init_privs i ON i.classoid = m.classid AND i.objoid = m.objid
  LEFT JOIN pg_attribute a ON i.objsubid > 0 AND a.attrelid = i.objoid AND a.attnum = i.objsubid
UNION ALL
-- the extension: its schema and the tables pg_dump dumps (in any order)
SELECT 'extension ironlayer', 'schema', extnamespace::regnamespace::text FROM ext
UNION ALL
SELECT 'extension ironlayer', 'dumped table ' || c.relid::regclass::text, c.condition
  FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS c(relid, condition)
 WHERE e.extname = 'ironlayer'
UNION ALL
SELECT 'schema ' || n.nspname, a.aspect, a.value
  FROM ext JOIN pg_namespace n ON n.oid = ext.extnamespace,
	   LATERAL (VALUES ('owner', pg_get_userbyid(n.nspowner)::text),
					   ('acl', n.nspacl::text),
					   ('comment', obj_description(n.oid, 'pg_namespace')),
					   ('initial privileges', (SELECT initprivs::text FROM pg_init_privs
												WHERE classoid = 'pg_namespace'::regclass AND objoid = n.oid)))
			AS a(aspect, value)
UNION ALL
-- functions and procedures
SELECT f.object, a.aspect, a.value
  FROM fn f,
	   LATERAL (VALUES ('definition', CASE WHEN f.prokind = 'a'
											THEN 'aggregate of ' || (SELECT aggtransfn::text FROM pg_aggregate WHERE aggfnoid = f.oid)
											ELSE pg_get_functiondef(f.oid) END),
					   ('owner', pg_get_userbyid(f.proowner)::text),
					   ('acl', f.proacl::text),
					   ('security definer', f.prosecdef::text),
					   ('config', f.proconfig::text)) AS a(aspect, value)
UNION ALL
-- tables, views, sequences, composite types
SELECT r.object, a.aspect, a.value
  FROM rel r,
	   LATERAL (VALUES ('kind', r.relkind::text || ' ' || r.relpersistence::text),
					   ('owner', pg_get_userbyid(r.relowner)::text),
					   ('acl', r.relacl::text),
					   ('options', r.reloptions::text),
					   ('row level security', r.relrowsecurity::text || ', forced ' || r.relforcerowsecurity::text),
					   ('replica identity', r.relreplident::text),
					   ('columns', (SELECT string_agg(c.attname::text, ', ' ORDER BY c.attnum) FROM col c WHERE c.attrelid = r.oid)),
					   ('view definition', CASE WHEN r.relkind IN ('v', 'm') THEN pg_get_viewdef(r.oid) END),
					   ('rows', CASE WHEN r.relkind IN ('r', 'p') THEN
								(xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %s', r.oid::regclass),
																	  false, true, '')))[1]::text END)) AS a(aspect, value)
UNION ALL
SELECT c.object, 'column ' || c.attname,
	   concat_ws(' ', format_type(c.atttypid, c.atttypmod),
				 CASE WHEN c.attcollation <> 0 AND c.attcollation <> (SELECT typcollation FROM pg_type WHERE oid = c.atttypid)
					  THEN 'collate ' || c.attcollation::regcollation::text END,
				 CASE WHEN c.attnotnull THEN 'not null' END,
				 CASE WHEN c.attidentity <> '' THEN 'identity ' || c.attidentity::text END,
				 CASE WHEN c.attgenerated <> '' THEN 'generated ' || c.attgenerated::text END,
				 'default ' || pg_get_expr(d.adbin, d.adrelid),
				 'acl ' || c.attacl::text,
				 'comment ' || quote_literal(col_description(c.attrelid, c.attnum)))
  FROM col c LEFT JOIN pg_attrdef d ON d.adrelid = c.attrelid AND d.adnum = c.attnum
UNION ALL
SELECT r.object, 'constraint ' || k.conname,
	   concat_ws(' ', pg_get_constraintdef(k.oid), 'comment ' || quote_literal(obj_description(k.oid, 'pg_constraint')))
  FROM rel r JOIN pg_constraint k ON k.conrelid = r.oid
UNION ALL
SELECT r.object, 'index ' || i.indexrelid::regclass::text,
	   concat_ws(' ', pg_get_indexdef(i.indexrelid), 'comment ' || quote_literal(obj_description(i.indexrelid, 'pg_class')))
  FROM rel r JOIN pg_index i ON i.indrelid = r.oid
UNION ALL
SELECT r.object, 'trigger ' || t.tgname,
	   concat_ws(' ', pg_get_triggerdef(t.oid), 'enabled ' || t.tgenabled::text, 'comment ' || quote_literal(obj_description(t.oid, 'pg_trigger')))
  FROM rel r JOIN pg_trigger t ON t.tgrelid = r.oid AND NOT t.tgisinternal
UNION ALL
SELECT r.object, 'policy ' || p.polname,
	   concat_ws(' ', 'for ' || p.polcmd::text, CASE WHEN p.polpermissive THEN 'permissive' ELSE 'restrictive' END,
				 'to ' || (SELECT string_agg(CASE WHEN o = 0 THEN 'public' ELSE pg_get_userbyid(o)::text END, ', ' ORDER BY 1)
							 FROM unnest(p.polroles) AS o),
				 'using ' || pg_get_expr(p.polqual, p.polrelid),
				 'with check ' || pg_get_expr(p.polwithcheck, p.polrelid),
				 'comment ' || quote_literal(obj_description(p.oid, 'pg_policy')))
  FROM rel r JOIN pg_policy p ON p.polrelid = r.oid
UNION ALL
SELECT r.object, 'rule ' || w.rulename, pg_get_ruledef(w.oid)
  FROM rel r JOIN pg_rewrite w ON w.ev_class = r.oid AND w.rulename <> '_RETURN'
UNION ALL
SELECT r.object, 'sequence',
	   format('%s start %s increment %s min %s max %s cache %s cycle %s owned by %s', s.seqtypid::regtype, s.seqstart,
			  s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle,
			  (SELECT string_agg(pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid), ', ')
				 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = r.oid
				  AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))
  FROM rel r JOIN pg_sequence s ON s.seqrelid = r.oid
UNION ALL
-- types and domains
SELECT t.object, a.aspect, a.value
  FROM typ t,
	   LATERAL (VALUES ('type', t.typtype::text || CASE WHEN t.typtype = 'd' THEN ' over ' || format_type(t.typbasetype, t.typtypmod) ELSE '' END),
					   ('owner', pg_get_userbyid(t.typowner)::text),
					   ('acl', t.typacl::text),
					   ('not null', t.typnotnull::text),
					   ('default', t.typdefault),
					   ('labels', (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
									 FROM pg_enum e WHERE e.enumtypid = t.oid)),
					   ('attributes', (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
										 FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped)))
			AS a(aspect, value)
UNION ALL
SELECT t.object, 'constraint ' || k.conname, pg_get_constraintdef(k.oid)
  FROM typ t JOIN pg_constraint k ON k.contypid = t.oid
)
SELECT object, aspect, value FROM aspects WHERE value IS NOT NULL OR aspect = 'member';

CREATE DATABASE ironlayer_fresh TEMPLATE ironlayer_describe;
CREATE DATABASE ironlayer_updated TEMPLATE ironlayer_describe;

-- A fresh install of the current version.
\c ironlayer_fresh
CREATE EXTENSION ironlayer;
SELECT extversion = (SELECT default_version FROM pg_available_extensions WHERE name = 'ironlayer') AS current_version
  FROM pg_extension WHERE extname = 'ironlayer';
SELECT count(*) > 100 AS described FROM ironlayer_objects;
SELECT jsonb_agg(o) AS fresh_objects FROM ironlayer_objects o \gset

-- The first shipped version, then the chain of upgrade scripts.
\c ironlayer_updated
CREATE EXTENSION ironlayer VERSION '0.1.0';
SELECT extversion FROM pg_extension WHERE extname = 'ironlayer';
SELECT path FROM pg_extension_update_paths('ironlayer')
 WHERE source = '0.1.0' AND target = (SELECT default_version FROM pg_available_extensions WHERE name = 'ironlayer');
ALTER EXTENSION ironlayer UPDATE;
SELECT extversion = (SELECT default_version FROM pg_available_extensions WHERE name = 'ironlayer') AS current_version
  FROM pg_extension WHERE extname = 'ironlayer';

-- What differs: nothing.
WITH fresh AS (
	SELECT * FROM jsonb_to_recordset(:'fresh_objects') AS f(object text, aspect text, value text)
), updated AS (
	SELECT object, aspect, value FROM ironlayer_objects
)
SELECT * FROM (
	(SELECT 'only in fresh' AS side, * FROM fresh EXCEPT SELECT 'only in fresh', * FROM updated)
	UNION ALL
	(SELECT 'only in updated', * FROM updated EXCEPT SELECT 'only in updated', * FROM fresh)
) AS diff
ORDER BY object, aspect, side;

\c :regress_database
DROP DATABASE ironlayer_fresh;
DROP DATABASE ironlayer_updated;
DROP DATABASE ironlayer_describe;
