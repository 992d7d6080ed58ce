--
-- The hash-chained audit log: entries for every state change, the chain,
-- append-only, verification and export, tampering found at the exact seq.
--
\set SHOW_CONTEXT never
CREATE ROLE regress_au_ann; GRANT ironlayer_admin TO regress_au_ann;
CREATE ROLE regress_au_bob; GRANT ironlayer_viewer TO regress_au_bob;
CREATE ROLE regress_au_dan; GRANT ironlayer_admin TO regress_au_dan;

SET ROLE regress_au_ann;
SELECT ironlayer.create_tenant('audit-a') IS NOT NULL AS created;
SELECT ironlayer.add_member('audit-a', 'regress_au_bob', 'viewer');
SELECT ironlayer.add_member('audit-a', 'regress_au_bob', 'engineer');
SELECT ironlayer.remove_member('audit-a', 'regress_au_bob');
SELECT ironlayer.add_member('audit-a', 'regress_au_bob', 'viewer');
-- A failed call appends nothing.
SELECT try($$SELECT ironlayer.add_member('audit-a', 'regress_au_nobody', 'viewer')$$);
-- A rolled-back transaction appends nothing and leaves no gap.
BEGIN;
SELECT ironlayer.add_member('audit-a', 'regress_au_dan', 'viewer');
ROLLBACK;
SET ROLE regress_au_dan;
SELECT ironlayer.create_tenant('audit-b') IS NOT NULL AS created;

-- Unbound: nothing to verify or read.
SET ROLE regress_au_ann;
SELECT ironlayer.verify_audit();
SELECT count(*) FROM ironlayer.audit_log;

-- The chain of audit-a, as its viewer sees it: 1..5 without a gap, each
-- linked to the previous, the first to 32 zero bytes.
SET ROLE regress_au_bob;
SELECT ironlayer.use_tenant('audit-a') IS NOT NULL AS bound;
SELECT * FROM ironlayer.verify_audit();
SELECT seq, actor, action, entity_type, entity_id, details,
       prev_hash = decode(repeat('00', 32), 'hex') AS first_link,
       prev_hash = lag(hash) OVER (ORDER BY seq) AS linked,
       length(hash) AS hash_bytes
  FROM ironlayer.audit_log ORDER BY seq;
-- Only audit-a's entries are visible (audit-b's first entry is not).
SELECT count(*) AS audit_b_entries FROM ironlayer.audit_log WHERE action = 'tenant.create' AND entity_id = 'audit-b';

-- The export: one object per entry with the canonical keys and the hashes
-- in hex; its hash matches the table; from_seq selects the tail.
SELECT e->>'seq' AS seq, e->>'action' AS action,
       e->>'at' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$' AS at_format,
       e->>'hash' = encode(l.hash, 'hex') AS hash_matches,
       e->>'prev_hash' = encode(l.prev_hash, 'hex') AS prev_matches,
       e->>'tenant_id' = ironlayer.current_tenant()::text AS tenant_matches,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(e) k) AS keys
  FROM ironlayer.audit_export() e
  JOIN ironlayer.audit_log l ON l.seq = (e->>'seq')::bigint
 ORDER BY l.seq;
SELECT count(*) AS tail FROM ironlayer.audit_export(4);
SELECT try($$SELECT ironlayer.audit_export(0)$$);
SELECT try($$SELECT ironlayer.audit_export(NULL)$$) AS null_from_seq;

-- The first entry's hash, recomputed here in SQL from its canonical text
-- (keys sorted, no whitespace, the at format of the chain).
SELECT l.hash = sha256(decode(repeat('00', 32), 'hex') || convert_to(
         '{"action":"tenant.create","actor":"regress_au_ann","at":"' || (e->>'at') ||
         '","details":{"admin":"regress_au_ann","name":"audit-a"},"entity_id":"audit-a",' ||
         '"entity_type":"tenant","seq":1,"tenant_id":"' || ironlayer.current_tenant() || '"}', 'UTF8'))
       AS first_hash_recomputed
  FROM ironlayer.audit_log l, ironlayer.audit_export() e
 WHERE l.seq = 1 AND (e->>'seq')::int = 1;

-- Append-only, for users and the owner alike.
SELECT try($$UPDATE ironlayer.audit_log SET actor = 'x'$$);
SELECT try($$DELETE FROM ironlayer.audit_log$$);
SELECT try($$INSERT INTO ironlayer.audit_log SELECT * FROM ironlayer.audit_log$$);
RESET ROLE;
UPDATE ironlayer.audit_log SET actor = 'x' WHERE seq = 2;
DELETE FROM ironlayer.audit_log WHERE seq = 2;
TRUNCATE ironlayer.audit_log;
SELECT try($$DELETE FROM ironlayer.audit_queue$$);
SELECT try($$UPDATE ironlayer.audit_queue SET actor = 'x'$$);

--
-- Tampering by a superuser who bypasses the triggers is found at the exact
-- seq: each field, in turn, on a copy of the chain that is restored after.
--
CREATE TEMP TABLE saved AS SELECT * FROM ironlayer.audit_log;
CREATE FUNCTION public.tamper(what text, target bigint) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	r record;
BEGIN
	SET LOCAL session_replication_role = replica;
	EXECUTE format('UPDATE ironlayer.audit_log SET %s WHERE tenant_id = ironlayer.current_tenant() AND seq = %s',
				   what, target);
	SELECT * INTO r FROM ironlayer.verify_audit();
	-- restore the whole log (a changed tenant_id moves a row elsewhere)
	DELETE FROM ironlayer.audit_log;
	INSERT INTO ironlayer.audit_log SELECT * FROM saved;
	RETURN format('%s %s %s: %s', r.ok, r.entries, r.first_bad_seq, r.reason);
END $$;
SELECT ironlayer.use_tenant('audit-a') IS NOT NULL AS bound;
SELECT tamper('actor = ''mallory''', 3);
SELECT tamper('action = ''member.remove''', 2);
SELECT tamper('at = at + interval ''1 microsecond''', 4);
SELECT tamper('entity_type = NULL', 5);
SELECT tamper('entity_id = ''other''', 1);
SELECT tamper('details = details || ''{"tenant_role": "admin"}''', 2);
SELECT tamper('hash = sha256(hash)', 3);
SELECT tamper('prev_hash = sha256(prev_hash)', 4);
SELECT tamper('tenant_id = gen_random_uuid()', 3);
SELECT tamper('seq = 9', 5);
SELECT * FROM ironlayer.verify_audit();

-- Deleting an entry in the middle, or the last one, is found too.
BEGIN;
SET LOCAL session_replication_role = replica;
DELETE FROM ironlayer.audit_log WHERE tenant_id = ironlayer.current_tenant() AND seq = 3;
SELECT * FROM ironlayer.verify_audit();
ROLLBACK;
BEGIN;
SET LOCAL session_replication_role = replica;
DELETE FROM ironlayer.audit_log WHERE tenant_id = ironlayer.current_tenant() AND seq = 5;
SELECT * FROM ironlayer.verify_audit();
ROLLBACK;
SELECT * FROM ironlayer.verify_audit();

-- The other tenant's chain is its own, starting at 1.
SELECT ironlayer.use_tenant('audit-b') IS NOT NULL AS bound;
SELECT * FROM ironlayer.verify_audit();
SELECT seq, action, entity_id FROM ironlayer.audit_log
 WHERE tenant_id = ironlayer.current_tenant() ORDER BY seq;
SELECT ironlayer.use_tenant(NULL) IS NULL AS unbound;

DROP FUNCTION public.tamper(text, bigint);
DELETE FROM ironlayer.tenants WHERE name IN ('audit-a', 'audit-b');
DROP ROLE regress_au_ann, regress_au_bob, regress_au_dan;
