/*-------------------------------------------------------------------------
 *
 * vault.c
 *	  The credentials vault: key loading, sealed input, Fernet storage.
 *
 * The master key is read at server start from the file named by the
 * superuser-only setting ironlayer.master_key_file (PGC_POSTMASTER) and kept
 * in process memory only. Each process derives the vault root key once
 * (PBKDF2, il_vault.h) from it and the database's salt in
 * ironlayer.vault_meta, and caches it. Secrets arrive sealed to the vault's
 * public key (il_seal.h), are opened here in C, and are stored only as
 * Fernet tokens. No SQL function returns a plaintext secret: only C
 * callers in the server (the Databricks dispatcher) open one, through
 * ironlayer_credential_open(). The kinds databricks-pat and databricks-oauth
 * have a form, checked before they are stored (il_dbx_cred.h).
 *
 * After rotate_master_key() commits, other processes still hold the old
 * master key: the key check stored beside the salt tells them, and they
 * re-read the key file once.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <time.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"
#include "utils/uuid.h"

#include "il_dbx_cred.h"
#include "il_fernet.h"
#include "il_seal.h"
#include "il_vault.h"
#include "ironlayer.h"

/*
 * Sizes put_credential takes (docs/limits.md). A sealed secret of 64 kB
 * holds a secret of about 48 kB: a token, a password, a key file.
 */
#define CREDENTIAL_NAME_MAX 63
#define CREDENTIAL_KIND_MAX 32
#define CREDENTIAL_SEALED_MAX ((Size) 64 << 10)

static char *master_key_file = NULL;	/* GUC */
static il_buf master = IL_BUF_INIT;		/* the master key, once read */
static MemoryContext master_cxt = NULL; /* master's memory, for the process */
static uint32 master_gen = 0;			/* bumped at every (re)read */
static char master_error[256] = "";		/* why the last read failed */

typedef struct VaultKeys
{
	bool		valid;
	uint8		salt[IL_VAULT_SALT_LEN];
	int32		iterations;
	uint32		gen;
	uint8		root[IL_VAULT_ROOT_LEN];
	il_seal_key seal;
} VaultKeys;

static VaultKeys cache;

/*
 * (Re)read the key file into process memory. Returns true when a key is
 * loaded; on failure keeps the reason in master_error.
 */
static bool
read_master(void)
{
	il_error	err;
	il_buf		key = IL_BUF_INIT;
	MemoryContext old;
	int			rc;

	if (master_key_file == NULL || master_key_file[0] == '\0')
	{
		strlcpy(master_error, "ironlayer.master_key_file is not set", sizeof(master_error));
		return false;
	}
	/* read at server start too, where the current context is the postmaster's */
	if (master_cxt == NULL)
		master_cxt = AllocSetContextCreate(TopMemoryContext, "ironlayer vault master key",
										   ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(master_cxt);
	rc = il_vault_read_master(master_key_file, &key, &err);
	MemoryContextSwitchTo(old);
	if (rc != 0)
	{
		strlcpy(master_error, err.message, sizeof(master_error));
		il_buf_free(&key);
		return false;
	}
	if (master.data)
		il_vault_wipe(master.data, master.cap);
	il_buf_free(&master);
	master = key;
	master_gen++;
	master_error[0] = '\0';
	return true;
}

/*
 * Called from _PG_init in the postmaster: define the setting and read the
 * key once, at server start.
 */
void
ironlayer_vault_init(void)
{
	DefineCustomStringVariable("ironlayer.master_key_file",
							   "File holding the vault's master key.",
							   "Read at server start. Keep it outside the data directory, "
							   "readable by the server's user only.",
							   &master_key_file,
							   NULL,
							   PGC_POSTMASTER,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);
	if (master_key_file != NULL && master_key_file[0] != '\0')
	{
		if (read_master())
			ereport(LOG, (errmsg("ironlayer: vault master key loaded")));
		else
			ereport(WARNING,
					(errmsg("ironlayer: the vault master key was not loaded: %s", master_error),
					 errhint("The vault refuses to store credentials until the key file can be read.")));
	}
}

static void
no_key_error(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("the vault has no master key"),
			 errdetail("%s.", master_error[0] ? master_error : "No key was loaded"),
			 errhint("Set ironlayer.master_key_file in postgresql.conf to a file outside the data directory "
					 "holding at least %d bytes, and restart the server.", IL_VAULT_MIN_MASTER)));
}

/* Derive root and its key check from the current master key. */
static void
derive(const uint8 *salt, int32 iterations, uint8 root[IL_VAULT_ROOT_LEN], uint8 check[32])
{
	il_error	err;

	if (il_vault_derive((const uint8 *) master.data, master.len, salt, IL_VAULT_SALT_LEN,
						(uint32) iterations, root, &err) != 0)
		ironlayer_raise_corrupt(&err, "could not derive the vault key", NULL, NULL);
	if (il_vault_key_check(root, check) != 0)
		elog(ERROR, "HMAC-SHA256 failed");
}

static bytea *
make_bytea(const uint8 *p, size_t len)
{
	bytea	   *b = palloc(VARHDRSZ + len);

	SET_VARSIZE(b, VARHDRSZ + len);
	memcpy(VARDATA(b), p, len);
	return b;
}

/*
 * The vault keys of this database, derived once per process. Must run
 * inside SPI, as the extension owner (the callers are security definer).
 */
static const VaultKeys *
vault_keys(void)
{
	int			ret;
	bool		isnull;
	Datum		d;
	bytea	   *salt_b;
	uint8		salt[IL_VAULT_SALT_LEN];
	int32		iterations;
	bool		has_check;
	uint8		stored_check[32];
	uint8		root[IL_VAULT_ROOT_LEN];
	uint8		check[32];
	il_error	err;

	ret = SPI_execute("SELECT salt, iterations, key_check FROM ironlayer.vault_meta", false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "vault_meta look-up failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
	{
		/* first use in this database: a fresh random salt */
		Oid			argtypes[2] = {BYTEAOID, INT4OID};
		Datum		values[2];

		if (!pg_strong_random(salt, sizeof(salt)))
			elog(ERROR, "could not generate random bytes");
		values[0] = PointerGetDatum(make_bytea(salt, sizeof(salt)));
		values[1] = Int32GetDatum(IL_VAULT_MIN_ITERATIONS);
		ret = SPI_execute_with_args("INSERT INTO ironlayer.vault_meta (salt, iterations)"
									" VALUES ($1, $2) ON CONFLICT DO NOTHING",
									2, argtypes, values, NULL, false, 0);
		if (ret != SPI_OK_INSERT)
			elog(ERROR, "vault_meta creation failed");
		ret = SPI_execute("SELECT salt, iterations, key_check FROM ironlayer.vault_meta", false, 1);
		if (ret != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "vault_meta is missing");
	}
	salt_b = DatumGetByteaPP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (VARSIZE_ANY_EXHDR(salt_b) != IL_VAULT_SALT_LEN)
		ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("the vault salt is not %d bytes", IL_VAULT_SALT_LEN)));
	memcpy(salt, VARDATA_ANY(salt_b), IL_VAULT_SALT_LEN);
	iterations = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &has_check);
	has_check = !has_check;
	if (has_check)
	{
		bytea	   *c = DatumGetByteaPP(d);

		if (VARSIZE_ANY_EXHDR(c) != 32)
			ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("the vault key check is not 32 bytes")));
		memcpy(stored_check, VARDATA_ANY(c), 32);
	}

	if (cache.valid && cache.gen == master_gen && cache.iterations == iterations
		&& memcmp(cache.salt, salt, sizeof(salt)) == 0)
		return &cache;

	if (master.len == 0 && !read_master())
		no_key_error();
	derive(salt, iterations, root, check);
	if (has_check && memcmp(check, stored_check, 32) != 0)
	{
		/* perhaps the key was rotated since this process read it */
		uint32		gen = master_gen;

		if (read_master() && master_gen != gen)
			derive(salt, iterations, root, check);
		if (memcmp(check, stored_check, 32) != 0)
		{
			il_vault_wipe(root, sizeof(root));
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
					 errmsg("the vault master key does not match this database"),
					 errdetail("The key in ironlayer.master_key_file is not the key this database's credentials were stored with."),
					 errhint("Restore the previous key file. To change keys, put the new key in the file and call ironlayer.rotate_master_key() while the server still holds the old one.")));
		}
	}
	if (!has_check)
	{
		Oid			argtypes[1] = {BYTEAOID};
		Datum		values[1];

		values[0] = PointerGetDatum(make_bytea(check, 32));
		ret = SPI_execute_with_args("UPDATE ironlayer.vault_meta SET key_check = $1",
									1, argtypes, values, NULL, false, 0);
		if (ret != SPI_OK_UPDATE)
			elog(ERROR, "vault_meta update failed");
	}

	memset(&cache, 0, sizeof(cache));
	memcpy(cache.salt, salt, sizeof(salt));
	cache.iterations = iterations;
	cache.gen = master_gen;
	memcpy(cache.root, root, sizeof(root));
	il_vault_wipe(root, sizeof(root));
	if (il_seal_keypair_from_root(cache.root, &cache.seal, &err) != 0)
		ironlayer_raise(&err, "could not derive the vault key pair", NULL, NULL);
	cache.valid = true;
	return &cache;
}

static void
spi_begin(void)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

PG_FUNCTION_INFO_V1(ironlayer_vault_public_key);
/*
 * ironlayer.vault_public_key() returns text: "ilseal1:" and the X25519
 * public key, for sealing secrets on their way in.
 */
Datum
ironlayer_vault_public_key(PG_FUNCTION_ARGS)
{
	const VaultKeys *keys;
	il_buf		out = IL_BUF_INIT;
	text	   *result;

	ironlayer_require_preload("The vault");
	spi_begin();
	keys = vault_keys();
	SPI_finish();
	/* after SPI_finish: out is the core's, in this call's memory */
	il_seal_public_text(&keys->seal, &out);
	result = cstring_to_text_with_len(out.data, out.len);
	il_buf_free(&out);
	PG_RETURN_TEXT_P(result);
}

/*
 * The kinds whose secret the dispatcher reads have a form
 * (docs/databricks.md): refuse a secret that does not have it, before it
 * is stored. Wipes plain on the way out of an error; the reason never
 * holds any of the secret.
 */
static void
check_secret_of_kind(const char *kind, il_buf *plain)
{
	const char *why = NULL;
	const char *form = NULL;

	if (strcmp(kind, "databricks-pat") == 0)
	{
		why = il_dbx_pat_check(plain->data, plain->len);
		form = "The secret of a databricks-pat credential is a personal access token: 1 to 4096 printable ASCII characters, no space.";
	}
	else if (strcmp(kind, "databricks-oauth") == 0)
	{
		why = il_dbx_oauth_parse(plain->data, plain->len, NULL, NULL);
		form = "The secret of a databricks-oauth credential is the JSON object {\"client_id\": \"...\", \"client_secret\": \"...\"} of a service principal.";
	}
	if (why == NULL)
		return;
	il_vault_wipe(plain->data, plain->cap);
	il_buf_free(plain);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid secret for a %s credential: %s", kind, why),
			 errdetail("%s", form),
			 errhint("Nothing was stored. Seal the secret again in that form.")));
}

PG_FUNCTION_INFO_V1(ironlayer_put_credential);
/*
 * ironlayer.put_credential(name text, sealed text, kind text DEFAULT 'token')
 *
 * Tenant admins store (or replace) a credential of the bound tenant. The
 * secret arrives sealed to vault_public_key(); it is opened here and stored
 * only as a Fernet token.
 */
Datum
ironlayer_put_credential(PG_FUNCTION_ARGS)
{
	pg_uuid_t	tenant;
	char	   *name;
	char	   *kind;
	text	   *sealed;
	const VaultKeys *keys;
	il_buf		plain = IL_BUF_INIT;
	il_buf		token = IL_BUF_INIT;
	il_error	err;
	char		fp[IL_VAULT_FINGERPRINT_LEN + 1];
	Oid			argtypes[5] = {UUIDOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[5];
	int			ret;
	bool		replaced;

	ironlayer_require_preload("The vault");
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("name, sealed secret and kind must not be null")));
	/* sizes first, read from the datums' headers (docs/limits.md) */
	ironlayer_check_size("the credential name", PG_GETARG_DATUM(0), CREDENTIAL_NAME_MAX);
	ironlayer_check_size("the sealed secret", PG_GETARG_DATUM(1), CREDENTIAL_SEALED_MAX);
	ironlayer_check_size("the credential kind", PG_GETARG_DATUM(2), CREDENTIAL_KIND_MAX);
	ironlayer_require_tenant_role(&tenant, "admin", "store credentials");
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	sealed = PG_GETARG_TEXT_PP(1);
	kind = text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (!ironlayer_valid_name(name, CREDENTIAL_NAME_MAX, "_.-"))	/* ironlayer.dotted_slug */
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid credential name \"%s\"", name),
				 errdetail("A credential name has 1 to 63 characters: a lower-case letter, then lower-case letters, digits, \"_\", \".\" or \"-\".")));
	if (!ironlayer_valid_name(kind, CREDENTIAL_KIND_MAX, "_-"))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid credential kind \"%s\"", kind),
				 errdetail("A kind has 1 to 32 characters: a lower-case letter, then lower-case letters, digits, \"_\" or \"-\" (for example token, password or databricks-pat).")));

	spi_begin();
	keys = vault_keys();
	il_error_clear(&err);
	if (il_seal_open(&keys->seal, VARDATA_ANY(sealed), VARSIZE_ANY_EXHDR(sealed), &plain, &err) != 0)
	{
		il_buf_free(&plain);
		ironlayer_raise(&err, NULL, NULL,
						"Seal the secret with the key from ironlayer.vault_public_key(); it changes when the master key is rotated.");
	}
	if (plain.len == 0)
	{
		il_buf_free(&plain);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the sealed secret is empty")));
	}
	check_secret_of_kind(kind, &plain);
	if (il_vault_fingerprint(keys->root, (const uint8 *) plain.data, plain.len, fp) != 0
		|| il_fernet_encrypt(keys->root, (const uint8 *) plain.data, plain.len,
							 (uint64) time(NULL), NULL, &token, &err) != 0)
	{
		il_vault_wipe(plain.data, plain.cap);
		il_buf_free(&plain);
		il_buf_free(&token);
		if (err.code == NULL)
			elog(ERROR, "HMAC-SHA256 failed");
		ironlayer_raise(&err, "could not encrypt the credential", NULL, NULL);
	}
	il_vault_wipe(plain.data, plain.cap);
	il_buf_free(&plain);

	values[0] = UUIDPGetDatum(&tenant);
	values[1] = CStringGetTextDatum(name);
	values[2] = CStringGetTextDatum(kind);
	values[4] = CStringGetTextDatum(fp);
	values[3] = PointerGetDatum(cstring_to_text_with_len(token.data, token.len));
	il_buf_free(&token);
	ret = SPI_execute_with_args("INSERT INTO ironlayer.credential_store AS c"
								" (tenant_id, name, kind, token, fingerprint, created_by, updated_by)"
								" VALUES ($1, $2, $3, $4, $5, ironlayer.acting_role(), ironlayer.acting_role())"
								" ON CONFLICT (tenant_id, name) DO UPDATE"
								" SET kind = EXCLUDED.kind, token = EXCLUDED.token,"
								"     fingerprint = EXCLUDED.fingerprint,"
								"     updated_at = pg_catalog.now(), updated_by = EXCLUDED.updated_by"
								" RETURNING (c.xmax OPERATOR(pg_catalog.<>) '0'::pg_catalog.xid)",
								5, argtypes, values, NULL, false, 0);
	if (ret != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
		elog(ERROR, "credential store failed: %s", SPI_result_code_string(ret));
	{
		bool		isnull;

		replaced = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}

	argtypes[3] = JSONBOID;
	values[3] = DirectFunctionCall1(jsonb_in,
									CStringGetDatum(psprintf("{\"kind\": \"%s\", \"fingerprint\": \"%s\", \"replaced\": %s}",
															 kind, fp, replaced ? "true" : "false")));
	ret = SPI_execute_with_args("SELECT ironlayer._audit($1, 'credential.put', 'credential', $2, $4)",
								4, argtypes, values, NULL, false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "audit append failed");
	SPI_finish();
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(ironlayer_check_credentials);
/*
 * ironlayer.check_credentials() returns table (name, ok, reason)
 *
 * For tenant admins: does every credential of the bound tenant decrypt
 * under the current key, and does it still match its fingerprint? Nothing
 * decrypted leaves this function.
 */
Datum
ironlayer_check_credentials(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	pg_uuid_t	tenant;
	const VaultKeys *keys;
	Oid			argtypes[1] = {UUIDOID};
	Datum		args[1];
	uint64		i;
	int			ret;
	SPITupleTable *tt;
	uint64		n;

	ironlayer_require_preload("The vault");
	ironlayer_require_tenant_role(&tenant, "admin", "check credentials");
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	spi_begin();
	keys = vault_keys();
	args[0] = UUIDPGetDatum(&tenant);
	ret = SPI_execute_with_args("SELECT name, token, fingerprint FROM ironlayer.credential_store"
								" WHERE tenant_id OPERATOR(pg_catalog.=) $1 ORDER BY name",
								1, argtypes, args, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "credential look-up failed");
	tt = SPI_tuptable;
	n = SPI_processed;
	for (i = 0; i < n; i++)
	{
		char	   *name = SPI_getvalue(tt->vals[i], tt->tupdesc, 1);
		char	   *token = SPI_getvalue(tt->vals[i], tt->tupdesc, 2);
		char	   *fp = SPI_getvalue(tt->vals[i], tt->tupdesc, 3);
		il_buf		plain = IL_BUF_INIT;
		il_error	err;
		char		computed[IL_VAULT_FINGERPRINT_LEN + 1];
		Datum		values[3];
		bool		nulls[3] = {false, false, false};
		const char *reason;

		if (il_fernet_decrypt(keys->root, token, strlen(token), (uint64) time(NULL), 0, &plain, &err) != 0)
			reason = psprintf("the token does not decrypt: %s", err.message);
		else if (il_vault_fingerprint(keys->root, (const uint8 *) plain.data, plain.len, computed) != 0)
			reason = "the fingerprint could not be computed";
		else if (strcmp(computed, fp) != 0)
			reason = "the secret does not match its fingerprint";
		else
			reason = NULL;
		if (plain.data)
			il_vault_wipe(plain.data, plain.cap);
		il_buf_free(&plain);

		values[0] = CStringGetTextDatum(name);
		values[1] = BoolGetDatum(reason == NULL);
		if (reason)
			values[2] = CStringGetTextDatum(reason);
		else
			nulls[2] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(ironlayer_rotate_master_key);
/*
 * ironlayer.rotate_master_key() returns bigint
 *
 * Superusers: re-encrypt every credential of every tenant under the key
 * file's new content (with a new salt), in one transaction. The server must
 * still hold the old key (read at start); after a restart it reads the new.
 */
Datum
ironlayer_rotate_master_key(PG_FUNCTION_ARGS)
{
	const VaultKeys *old;
	il_buf		newkey = IL_BUF_INIT;
	il_error	err;
	uint8		salt[IL_VAULT_SALT_LEN];
	uint8		root[IL_VAULT_ROOT_LEN];
	uint8		check[32];
	uint8		old_root[IL_VAULT_ROOT_LEN];
	int32		iterations;
	SPITupleTable *tt;
	uint64		n;
	uint64		i;
	int			ret;

	ironlayer_require_preload("The vault");
	if (!superuser_arg(ironlayer_acting_roleid()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to rotate the vault master key"),
				 errdetail("Only superusers can rotate the master key.")));
	if (master_key_file == NULL || master_key_file[0] == '\0')
		no_key_error();

	spi_begin();
	old = vault_keys();
	memcpy(old_root, old->root, sizeof(old_root));
	iterations = Max(old->iterations, IL_VAULT_MIN_ITERATIONS);

	if (il_vault_read_master(master_key_file, &newkey, &err) != 0)
		ironlayer_raise(&err, "could not read the new master key", NULL, NULL);
	if (!pg_strong_random(salt, sizeof(salt)))
		elog(ERROR, "could not generate random bytes");
	if (il_vault_derive((const uint8 *) newkey.data, newkey.len, salt, sizeof(salt),
						(uint32) iterations, root, &err) != 0)
		ironlayer_raise(&err, "could not derive the new vault key", NULL, NULL);
	if (il_vault_key_check(root, check) != 0)
		elog(ERROR, "HMAC-SHA256 failed");
	il_vault_wipe(newkey.data, newkey.cap);
	il_buf_free(&newkey);
	ret = SPI_execute("SELECT tenant_id, name, token FROM ironlayer.credential_store"
					  " ORDER BY tenant_id, name FOR UPDATE", false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "credential look-up failed");
	tt = SPI_tuptable;
	n = SPI_processed;
	for (i = 0; i < n; i++)
	{
		bool		isnull;
		Datum		tenant = SPI_getbinval(tt->vals[i], tt->tupdesc, 1, &isnull);
		char	   *name = SPI_getvalue(tt->vals[i], tt->tupdesc, 2);
		char	   *token = SPI_getvalue(tt->vals[i], tt->tupdesc, 3);
		il_buf		plain = IL_BUF_INIT;
		il_buf		newtoken = IL_BUF_INIT;
		char		fp[IL_VAULT_FINGERPRINT_LEN + 1];
		Oid			argtypes[4] = {UUIDOID, TEXTOID, TEXTOID, TEXTOID};
		Datum		values[4];

		if (il_fernet_decrypt(old_root, token, strlen(token), (uint64) time(NULL), 0, &plain, &err) != 0)
			ironlayer_raise_corrupt(&err, psprintf("credential \"%s\" does not decrypt under the current key", name),
									"Nothing was changed.",
									"Find it with ironlayer.check_credentials() as an admin of its tenant, and store it again or delete it.");
		if (il_vault_fingerprint(root, (const uint8 *) plain.data, plain.len, fp) != 0)
			elog(ERROR, "HMAC-SHA256 failed");
		if (il_fernet_encrypt(root, (const uint8 *) plain.data, plain.len, (uint64) time(NULL),
							  NULL, &newtoken, &err) != 0)
			ironlayer_raise(&err, "could not re-encrypt a credential", NULL, NULL);
		il_vault_wipe(plain.data, plain.cap);
		il_buf_free(&plain);
		values[0] = tenant;
		values[1] = CStringGetTextDatum(name);
		values[2] = PointerGetDatum(cstring_to_text_with_len(newtoken.data, newtoken.len));
		values[3] = CStringGetTextDatum(fp);
		il_buf_free(&newtoken);
		ret = SPI_execute_with_args("UPDATE ironlayer.credential_store SET token = $3, fingerprint = $4"
									" WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND name OPERATOR(pg_catalog.=) $2",
									4, argtypes, values, NULL, false, 0);
		if (ret != SPI_OK_UPDATE || SPI_processed != 1)
			elog(ERROR, "credential update failed");
	}

	{
		Oid			argtypes[3] = {BYTEAOID, INT4OID, BYTEAOID};
		Datum		values[3];

		values[0] = PointerGetDatum(make_bytea(salt, sizeof(salt)));
		values[1] = Int32GetDatum(iterations);
		values[2] = PointerGetDatum(make_bytea(check, sizeof(check)));
		ret = SPI_execute_with_args("UPDATE ironlayer.vault_meta SET salt = $1, iterations = $2,"
									" key_check = $3, rotated_at = pg_catalog.now()",
									3, argtypes, values, NULL, false, 0);
		if (ret != SPI_OK_UPDATE || SPI_processed != 1)
			elog(ERROR, "vault_meta update failed");
		ret = SPI_execute("SELECT ironlayer._audit(c.tenant_id, 'vault.rotate', 'vault', NULL,"
						  "   pg_catalog.jsonb_build_object('credentials', pg_catalog.count(*)))"
						  "  FROM ironlayer.credential_store c GROUP BY c.tenant_id", false, 0);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "audit append failed");
	}
	SPI_finish();

	/*
	 * This process uses the new key from now on; if the transaction aborts,
	 * the salt in vault_meta no longer matches and the cache is redone from
	 * the old key still in memory.
	 */
	memset(&cache, 0, sizeof(cache));
	memcpy(cache.salt, salt, sizeof(salt));
	cache.iterations = iterations;
	cache.gen = master_gen;
	memcpy(cache.root, root, sizeof(root));
	if (il_seal_keypair_from_root(cache.root, &cache.seal, &err) != 0)
		ironlayer_raise(&err, "could not derive the vault key pair", NULL, NULL);
	cache.valid = true;
	il_vault_wipe(root, sizeof(root));
	il_vault_wipe(old_root, sizeof(old_root));
	PG_RETURN_INT64((int64) n);
}

/*
 * ironlayer_credential_open (ironlayer.h): a tenant's credential, decrypted
 * here for the dispatcher. Reads the store as the extension owner with
 * search_path pinned (as a SECURITY DEFINER function would), whoever the
 * caller is, and only the row of the tenant it is given.
 */
void
ironlayer_credential_open(const pg_uuid_t *tenant, const char *name, char **kind, char **secret)
{
	MemoryContext caller_cxt = CurrentMemoryContext;
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
	const VaultKeys *keys;
	Oid			argtypes[2] = {UUIDOID, TEXTOID};
	Datum		values[2];
	int			ret;
	char	   *token;
	char	   *k;
	il_buf		plain = IL_BUF_INIT;
	il_error	err;

	if (tenant == NULL || name == NULL || kind == NULL || secret == NULL)
		elog(ERROR, "ironlayer_credential_open: an argument is NULL");
	ironlayer_require_preload("The vault");
	if (!ironlayer_valid_name(name, CREDENTIAL_NAME_MAX, "_.-"))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid credential name \"%.63s\"", name)));

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(ironlayer_extension_owner(),
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	spi_begin();
	keys = vault_keys();
	values[0] = UUIDPGetDatum(tenant);
	values[1] = CStringGetTextDatum(name);
	ret = SPI_execute_with_args("SELECT kind, token FROM ironlayer.credential_store"
								" WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND name OPERATOR(pg_catalog.=) $2",
								2, argtypes, values, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "credential look-up failed: %s", SPI_result_code_string(ret));
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("credential \"%s\" does not exist", name),
				 errhint("A tenant admin stores it with ironlayer.put_credential() or `ironlayer credential put`.")));
	k = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	token = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);

	/* the plaintext goes straight to the caller's context, wiped here */
	if (il_fernet_decrypt(keys->root, token, strlen(token), (uint64) time(NULL), 0, &plain, &err) != 0)
	{
		if (plain.data)
			il_vault_wipe(plain.data, plain.cap);
		il_buf_free(&plain);
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("credential \"%s\" does not decrypt under the vault's key", name),
				 errdetail("%s.", err.message),
				 errhint("Find it with ironlayer.check_credentials() as an admin of its tenant, and store it again.")));
	}
	*kind = MemoryContextStrdup(caller_cxt, k);
	*secret = MemoryContextAlloc(caller_cxt, plain.len + 1);
	memcpy(*secret, plain.data, plain.len);
	(*secret)[plain.len] = '\0';
	il_vault_wipe(plain.data, plain.cap);
	il_buf_free(&plain);
	SPI_finish();
	AtEOXact_GUC(true, save_nestlevel);
	SetUserIdAndSecContext(save_userid, save_sec_context);
}
