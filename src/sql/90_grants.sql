-- Privileges. Functions are revoked from PUBLIC and granted to the group
-- roles; what a member may do inside a tenant is then decided by its tenant
-- role (docs/security.md). viewer < engineer < admin by role membership.

REVOKE ALL ON FUNCTION @extschema@.current_tenant() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.current_tenant_role() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.use_tenant(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.my_tenants() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.create_tenant(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.add_member(text, name, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.remove_member(text, name) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION @extschema@.current_tenant() TO ironlayer_viewer;
GRANT EXECUTE ON FUNCTION @extschema@.current_tenant_role() TO ironlayer_viewer;
GRANT EXECUTE ON FUNCTION @extschema@.use_tenant(text) TO ironlayer_viewer;
GRANT EXECUTE ON FUNCTION @extschema@.my_tenants() TO ironlayer_viewer;

GRANT EXECUTE ON FUNCTION @extschema@.create_tenant(text) TO ironlayer_admin;
GRANT EXECUTE ON FUNCTION @extschema@.add_member(text, name, text) TO ironlayer_admin;
GRANT EXECUTE ON FUNCTION @extschema@.remove_member(text, name) TO ironlayer_admin;

REVOKE ALL ON FUNCTION @extschema@.verify_audit() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.audit_export(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.verify_audit() TO ironlayer_viewer;
GRANT EXECUTE ON FUNCTION @extschema@.audit_export(bigint) TO ironlayer_viewer;

REVOKE ALL ON FUNCTION @extschema@.vault_public_key() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.put_credential(text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.check_credentials() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.delete_credential(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.rotate_master_key() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.vault_public_key() TO ironlayer_viewer;
GRANT EXECUTE ON FUNCTION @extschema@.put_credential(text, text, text) TO ironlayer_admin;
GRANT EXECUTE ON FUNCTION @extschema@.check_credentials() TO ironlayer_admin;
GRANT EXECUTE ON FUNCTION @extschema@.delete_credential(text) TO ironlayer_admin;

REVOKE ALL ON FUNCTION @extschema@.add_repo(text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.remove_repo(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.resolve_commit(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.models(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.diff(text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.lineage(text, text, text, text, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.add_repo(text, text, text) TO ironlayer_admin;
GRANT EXECUTE ON FUNCTION @extschema@.remove_repo(text) TO ironlayer_admin;
GRANT EXECUTE ON FUNCTION @extschema@.resolve_commit(text, text) TO ironlayer_viewer;
GRANT EXECUTE ON FUNCTION @extschema@.models(text, text) TO ironlayer_viewer;
GRANT EXECUTE ON FUNCTION @extschema@.diff(text, text, text) TO ironlayer_viewer;
GRANT EXECUTE ON FUNCTION @extschema@.lineage(text, text, text, text, int) TO ironlayer_viewer;
-- superusers only (checked against the acting role as well)
REVOKE ALL ON FUNCTION @extschema@.grant_repo(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.revoke_repo(text, text, boolean) FROM PUBLIC;

REVOKE ALL ON FUNCTION @extschema@.set_watermark(text, text, text, date, date) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.plan(text, text, text, date, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.set_watermark(text, text, text, date, date) TO ironlayer_admin;
GRANT EXECUTE ON FUNCTION @extschema@.plan(text, text, text, date, jsonb) TO ironlayer_engineer;

REVOKE ALL ON FUNCTION @extschema@.set_environment(text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.approve(text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.reject(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.set_environment(text, jsonb) TO ironlayer_admin;
GRANT EXECUTE ON FUNCTION @extschema@.approve(text, text, text) TO ironlayer_engineer;
GRANT EXECUTE ON FUNCTION @extschema@.reject(text, text, text) TO ironlayer_engineer;

REVOKE ALL ON FUNCTION @extschema@.apply(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.cancel(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.retry(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.wait(bigint, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.claim_step(text, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.heartbeat(bigint, text, text, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.complete_step(bigint, text, text, boolean, bigint, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.apply(text, text) TO ironlayer_engineer;
GRANT EXECUTE ON FUNCTION @extschema@.cancel(bigint) TO ironlayer_engineer;
GRANT EXECUTE ON FUNCTION @extschema@.retry(bigint) TO ironlayer_engineer;
GRANT EXECUTE ON FUNCTION @extschema@.wait(bigint, interval) TO ironlayer_viewer;
GRANT USAGE ON SCHEMA @extschema@ TO ironlayer_worker;
GRANT EXECUTE ON FUNCTION @extschema@.claim_step(text, interval) TO ironlayer_worker;
GRANT EXECUTE ON FUNCTION @extschema@.heartbeat(bigint, text, text, interval) TO ironlayer_worker;
GRANT EXECUTE ON FUNCTION @extschema@.complete_step(bigint, text, text, boolean, bigint, text, text, text, text) TO ironlayer_worker;
