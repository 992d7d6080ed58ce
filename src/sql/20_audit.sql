-- The hash-chained audit log (docs/audit.md).
--
-- Appending never waits: an entry goes into audit_queue in the transaction
-- that changes state. A deferred constraint trigger seals, at commit, every
-- committed entry of the tenant (and the transaction's own) into audit_log,
-- assigning seq and the hash chain under the tenant's head row, taken with
-- SKIP LOCKED: whoever holds it seals for the others, and what is left is
-- sealed by the next commit, by verify_audit() and audit_export(). Only
-- committed entries ever get a seq, so the chain has no gaps.

CREATE TABLE @extschema@.audit_heads (
	tenant_id	uuid PRIMARY KEY,
	seq			bigint NOT NULL DEFAULT 0,
	hash		bytea NOT NULL DEFAULT pg_catalog.decode(pg_catalog.repeat('00', 32), 'hex')
);
COMMENT ON TABLE @extschema@.audit_heads IS 'the last seq and hash of each tenant''s audit chain';

CREATE TABLE @extschema@.audit_queue (
	tenant_id	uuid NOT NULL,
	qid			bigserial,
	at			timestamptz NOT NULL DEFAULT pg_catalog.now(),
	actor		text NOT NULL,
	action		text NOT NULL,
	entity_type	text,
	entity_id	text,
	details		jsonb NOT NULL DEFAULT '{}',
	PRIMARY KEY (tenant_id, qid)
);
COMMENT ON TABLE @extschema@.audit_queue IS 'committed audit entries not yet sealed into audit_log';

CREATE TABLE @extschema@.audit_log (
	tenant_id	uuid NOT NULL,
	seq			bigint NOT NULL CHECK (seq OPERATOR(pg_catalog.>) 0),
	at			timestamptz NOT NULL,
	actor		text NOT NULL,
	action		text NOT NULL,
	entity_type	text,
	entity_id	text,
	details		jsonb NOT NULL,
	prev_hash	bytea NOT NULL CHECK (pg_catalog.length(prev_hash) OPERATOR(pg_catalog.=) 32),
	hash		bytea NOT NULL CHECK (pg_catalog.length(hash) OPERATOR(pg_catalog.=) 32),
	PRIMARY KEY (tenant_id, seq)
);
COMMENT ON TABLE @extschema@.audit_log IS
	'append-only, hash-chained record of every state change, per tenant';

SELECT pg_catalog.pg_extension_config_dump('@extschema@.audit_heads', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.audit_queue', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.audit_log', '');

SELECT @extschema@._isolate_tenant_table('@extschema@.audit_heads');
SELECT @extschema@._isolate_tenant_table('@extschema@.audit_queue');
SELECT @extschema@._isolate_tenant_table('@extschema@.audit_log');

GRANT SELECT ON @extschema@.audit_log TO ironlayer_viewer;

-- Append-only, for everyone, the owner included (src/pg/audit.c).
CREATE FUNCTION @extschema@._audit_refuse() RETURNS trigger
	LANGUAGE C AS 'MODULE_PATHNAME', 'ironlayer_audit_refuse';
REVOKE ALL ON FUNCTION @extschema@._audit_refuse() FROM PUBLIC;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON @extschema@.audit_log
	FOR EACH ROW EXECUTE FUNCTION @extschema@._audit_refuse();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON @extschema@.audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._audit_refuse();
-- The queue is emptied only by sealing.
CREATE TRIGGER audit_queue_sealed_only BEFORE UPDATE OR DELETE OR TRUNCATE ON @extschema@.audit_queue
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._audit_refuse();

CREATE FUNCTION @extschema@._audit_seal_trigger() RETURNS trigger
	LANGUAGE C SECURITY DEFINER SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'ironlayer_audit_seal_trigger';
REVOKE ALL ON FUNCTION @extschema@._audit_seal_trigger() FROM PUBLIC;
CREATE CONSTRAINT TRIGGER audit_queue_seal AFTER INSERT ON @extschema@.audit_queue
	DEFERRABLE INITIALLY DEFERRED
	FOR EACH ROW EXECUTE FUNCTION @extschema@._audit_seal_trigger();

-- Append an entry for the acting role. (internal: called by the API's
-- security-definer functions, in their transaction)
CREATE FUNCTION @extschema@._audit(tenant uuid, action text, entity_type text,
								   entity_id text, details jsonb DEFAULT '{}')
	RETURNS void
	LANGUAGE sql VOLATILE
	SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	INSERT INTO @extschema@.audit_queue (tenant_id, actor, action, entity_type, entity_id, details)
	VALUES (tenant, @extschema@.acting_role(), action, entity_type, entity_id,
			COALESCE(details, '{}'::jsonb));
END;
REVOKE ALL ON FUNCTION @extschema@._audit(uuid, text, text, text, jsonb) FROM PUBLIC;

CREATE FUNCTION @extschema@.verify_audit(
	OUT ok boolean, OUT entries bigint, OUT first_bad_seq bigint, OUT reason text)
	RETURNS record
	LANGUAGE C VOLATILE PARALLEL RESTRICTED SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'ironlayer_verify_audit';
COMMENT ON FUNCTION @extschema@.verify_audit() IS
	'recompute the current tenant''s audit chain; reports the first bad seq';

CREATE FUNCTION @extschema@.audit_export(from_seq bigint DEFAULT 1)
	RETURNS SETOF jsonb
	LANGUAGE C VOLATILE PARALLEL RESTRICTED SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS 'MODULE_PATHNAME', 'ironlayer_audit_export';
COMMENT ON FUNCTION @extschema@.audit_export(bigint) IS
	'the current tenant''s audit entries from from_seq, one JSON object each, with prev_hash and hash in hex';
