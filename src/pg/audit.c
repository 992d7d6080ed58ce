/*-------------------------------------------------------------------------
 *
 * audit.c
 *	  Sealing, verifying and exporting the hash-chained audit log.
 *
 * Entries are appended to ironlayer.audit_queue by the API functions, in
 * the transaction that changes state; a deferred constraint trigger seals
 * them into ironlayer.audit_log at commit (see src/sql/20_audit.sql for the
 * protocol). The canonical text and hash of an entry come from the core
 * (src/core/il_audit.c), so an offline verifier computes the same bytes.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/jsonb.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/uuid.h"

#include "il_audit.h"
#include "ironlayer.h"

/* True while this backend empties the queue for sealing. */
static bool sealing = false;

/*
 * Tenants this transaction has already tried to seal. The trigger fires once
 * per queued row; the first firing of a tenant seals all of them (or finds
 * the head busy), and the rest have nothing to do.
 */
#define MAX_TRIED 16
static LocalTransactionId tried_lxid = InvalidLocalTransactionId;
static pg_uuid_t tried_tenants[MAX_TRIED];
static int	n_tried = 0;

static SPIPlanPtr insert_plan = NULL;

#define FETCH_BATCH 10000

/* Microseconds since 1970 of a timestamptz. */
static int64
unix_micros(TimestampTz ts)
{
	return ts + (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
}

static char *
uuid_text(const pg_uuid_t *id)
{
	return DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(id)));
}

static char *
text_or_null(HeapTuple tup, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

/*
 * Report a core error while writing an entry as an internal error: the
 * entry came from our own tables.
 */
static void
pg_attribute_noreturn()
entry_error(int64 seq, const il_error *err)
{
	ironlayer_raise_corrupt(err, psprintf("audit entry %lld cannot be canonicalized", (long long) seq), NULL, NULL);
}

/*
 * The seal's statements, prepared once per process (plans are re-planned by
 * the plan cache when the tables change).
 */
typedef enum SealStmt
{
	SEAL_LOCK_WAIT,
	SEAL_LOCK_SKIP,
	SEAL_HEAD_EXISTS,
	SEAL_HEAD_CREATE,
	SEAL_TAKE_QUEUE,
	SEAL_HEAD_UPDATE,
	SEAL_NSTMTS
} SealStmt;

static const char *const seal_sql[SEAL_NSTMTS] = {
	"SELECT seq, hash FROM ironlayer.audit_heads"
	"  WHERE tenant_id OPERATOR(pg_catalog.=) $1 FOR UPDATE",
	"SELECT seq, hash FROM ironlayer.audit_heads"
	"  WHERE tenant_id OPERATOR(pg_catalog.=) $1 FOR UPDATE SKIP LOCKED",
	"SELECT 1 FROM ironlayer.audit_heads WHERE tenant_id OPERATOR(pg_catalog.=) $1",
	"INSERT INTO ironlayer.audit_heads (tenant_id) VALUES ($1) ON CONFLICT DO NOTHING",
	"WITH d AS (DELETE FROM ironlayer.audit_queue"
	"  WHERE tenant_id OPERATOR(pg_catalog.=) $1"
	"  RETURNING qid, at, actor, action, entity_type, entity_id, details)"
	" SELECT at, actor, action, entity_type, entity_id, details,"
	"        details::pg_catalog.text FROM d ORDER BY qid",
	"UPDATE ironlayer.audit_heads SET seq = $2, hash = $3"
	" WHERE tenant_id OPERATOR(pg_catalog.=) $1",
};

static SPIPlanPtr seal_plans[SEAL_NSTMTS];

/* Run one of the seal's statements: $1 uuid, $2 bigint, $3 bytea. */
static int
seal_exec(SealStmt which, Datum *values, long count)
{
	static Oid	types[3] = {UUIDOID, INT8OID, BYTEAOID};

	if (seal_plans[which] == NULL)
	{
		int			nargs = which == SEAL_HEAD_UPDATE ? 3 : 1;
		SPIPlanPtr	plan = SPI_prepare(seal_sql[which], nargs, types);

		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "could not prepare an audit statement: %s",
				 SPI_result_code_string(SPI_result));
		seal_plans[which] = plan;
	}
	return SPI_execute_plan(seal_plans[which], values, NULL, false, count);
}

/*
 * Seal the tenant's committed queued entries (and this transaction's own)
 * into the chain. With wait, block on the tenant's head; without, give up
 * when another transaction holds it. Returns the number sealed, or -1 when
 * the head was busy.
 */
static int64
audit_seal(const pg_uuid_t *tenant, bool wait)
{
	Datum		values[10];
	char		nulls[10];
	int64		seq;
	uint8		hash[IL_SHA256_LEN];
	SPITupleTable *queued;
	uint64		n;
	uint64		i;
	il_buf		canon = IL_BUF_INIT;
	char	   *tenant_text = uuid_text(tenant);
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	values[0] = UUIDPGetDatum(tenant);
	ret = seal_exec(wait ? SEAL_LOCK_WAIT : SEAL_LOCK_SKIP, values, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "audit head look-up failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
	{
		/*
		 * Busy, or absent (create_tenant makes the head, so only for a
		 * tenant older than that). Look without a lock first: inserting
		 * over a head another transaction is updating would wait for it.
		 */
		ret = seal_exec(SEAL_HEAD_EXISTS, values, 1);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "audit head look-up failed: %s", SPI_result_code_string(ret));
		if (SPI_processed == 1 && !wait)
		{
			SPI_finish();
			return -1;
		}
		ret = seal_exec(SEAL_HEAD_CREATE, values, 0);
		if (ret != SPI_OK_INSERT)
			elog(ERROR, "audit head creation failed: %s", SPI_result_code_string(ret));
		ret = seal_exec(SEAL_LOCK_WAIT, values, 1);
		if (ret != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "audit head of tenant %s is missing", tenant_text);
	}
	{
		bool		isnull;
		bytea	   *h;

		seq = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		h = DatumGetByteaPP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
		if (VARSIZE_ANY_EXHDR(h) != IL_SHA256_LEN)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("audit head of tenant %s has a hash of %d bytes", tenant_text,
							(int) VARSIZE_ANY_EXHDR(h))));
		memcpy(hash, VARDATA_ANY(h), IL_SHA256_LEN);
	}

	sealing = true;
	PG_TRY();
	{
		ret = seal_exec(SEAL_TAKE_QUEUE, values, 0);
	}
	PG_FINALLY();
	{
		sealing = false;
	}
	PG_END_TRY();
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "audit queue read failed: %s", SPI_result_code_string(ret));
	queued = SPI_tuptable;
	n = SPI_processed;

	if (insert_plan == NULL && n > 0)
	{
		Oid			types[10] = {UUIDOID, INT8OID, TIMESTAMPTZOID, TEXTOID, TEXTOID,
		TEXTOID, TEXTOID, JSONBOID, BYTEAOID, BYTEAOID};
		SPIPlanPtr	plan = SPI_prepare("INSERT INTO ironlayer.audit_log"
									   " (tenant_id, seq, at, actor, action, entity_type,"
									   "  entity_id, details, prev_hash, hash)"
									   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
									   10, types);

		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "could not prepare the audit insert: %s", SPI_result_code_string(SPI_result));
		insert_plan = plan;
	}

	for (i = 0; i < n; i++)
	{
		HeapTuple	tup = queued->vals[i];
		TupleDesc	desc = queued->tupdesc;
		il_audit_entry e;
		il_error	err;
		char		at[32];
		bool		isnull;
		TimestampTz ts;
		uint8		next[IL_SHA256_LEN];
		bytea	   *prev_b;
		bytea	   *hash_b;

		ts = DatumGetTimestampTz(SPI_getbinval(tup, desc, 1, &isnull));
		il_audit_format_at(unix_micros(ts), at);
		e.seq = ++seq;
		e.tenant_id = tenant_text;
		e.at = at;
		e.actor = text_or_null(tup, desc, 2);
		e.action = text_or_null(tup, desc, 3);
		e.entity_type = text_or_null(tup, desc, 4);
		e.entity_id = text_or_null(tup, desc, 5);
		e.details = text_or_null(tup, desc, 7);
		e.details_len = e.details ? strlen(e.details) : 0;

		il_buf_reset(&canon);
		if (il_audit_write(&canon, &e, NULL, NULL, &err) != 0)
		{
			il_buf_free(&canon);
			entry_error(e.seq, &err);
		}
		if (il_audit_hash(hash, canon.data, canon.len, next) != 0)
		{
			il_buf_free(&canon);
			elog(ERROR, "SHA-256 failed");
		}

		prev_b = palloc(VARHDRSZ + IL_SHA256_LEN);
		SET_VARSIZE(prev_b, VARHDRSZ + IL_SHA256_LEN);
		memcpy(VARDATA(prev_b), hash, IL_SHA256_LEN);
		hash_b = palloc(VARHDRSZ + IL_SHA256_LEN);
		SET_VARSIZE(hash_b, VARHDRSZ + IL_SHA256_LEN);
		memcpy(VARDATA(hash_b), next, IL_SHA256_LEN);

		values[0] = UUIDPGetDatum(tenant);
		values[1] = Int64GetDatum(e.seq);
		values[2] = TimestampTzGetDatum(ts);
		values[3] = CStringGetTextDatum(e.actor);
		values[4] = CStringGetTextDatum(e.action);
		values[5] = e.entity_type ? CStringGetTextDatum(e.entity_type) : (Datum) 0;
		values[6] = e.entity_id ? CStringGetTextDatum(e.entity_id) : (Datum) 0;
		values[7] = SPI_getbinval(tup, desc, 6, &isnull);
		values[8] = PointerGetDatum(prev_b);
		values[9] = PointerGetDatum(hash_b);
		memset(nulls, ' ', sizeof(nulls));
		if (e.entity_type == NULL)
			nulls[5] = 'n';
		if (e.entity_id == NULL)
			nulls[6] = 'n';

		ret = SPI_execute_plan(insert_plan, values, nulls, false, 0);
		if (ret != SPI_OK_INSERT)
		{
			il_buf_free(&canon);
			elog(ERROR, "audit insert failed: %s", SPI_result_code_string(ret));
		}
		memcpy(hash, next, IL_SHA256_LEN);
	}
	il_buf_free(&canon);

	if (n > 0)
	{
		bytea	   *hash_b = palloc(VARHDRSZ + IL_SHA256_LEN);

		SET_VARSIZE(hash_b, VARHDRSZ + IL_SHA256_LEN);
		memcpy(VARDATA(hash_b), hash, IL_SHA256_LEN);
		values[0] = UUIDPGetDatum(tenant);
		values[1] = Int64GetDatum(seq);
		values[2] = PointerGetDatum(hash_b);
		ret = seal_exec(SEAL_HEAD_UPDATE, values, 0);
		if (ret != SPI_OK_UPDATE || SPI_processed != 1)
			elog(ERROR, "audit head update failed");
	}
	SPI_finish();
	return (int64) n;
}

PG_FUNCTION_INFO_V1(ironlayer_audit_seal_trigger);
/*
 * Deferred constraint trigger on audit_queue: at commit, seal the tenant's
 * chain unless another transaction is sealing it right now. Transactions
 * with a transaction-wide snapshot leave sealing to others (emptying the
 * queue could fail them with a serialization error).
 */
Datum
ironlayer_audit_seal_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	bool		isnull;
	Datum		d;
	pg_uuid_t	tenant;
	int			i;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "ironlayer_audit_seal_trigger: not called as a trigger");
	if (IsolationUsesXactSnapshot())
		return PointerGetDatum(NULL);

	d = heap_getattr(td->tg_trigtuple,
					 SPI_fnumber(RelationGetDescr(td->tg_relation), "tenant_id"),
					 RelationGetDescr(td->tg_relation), &isnull);
	if (isnull)
		return PointerGetDatum(NULL);
	memcpy(&tenant, DatumGetUUIDP(d), sizeof(pg_uuid_t));

	if (tried_lxid != MyProc->lxid)
	{
		tried_lxid = MyProc->lxid;
		n_tried = 0;
	}
	for (i = 0; i < n_tried; i++)
		if (memcmp(&tried_tenants[i], &tenant, sizeof(pg_uuid_t)) == 0)
			return PointerGetDatum(NULL);
	if (n_tried < MAX_TRIED)
		tried_tenants[n_tried++] = tenant;

	/*
	 * With SET CONSTRAINTS ... IMMEDIATE this fires after each statement;
	 * entries of later statements then wait for the next seal, as when the
	 * head is busy.
	 */
	(void) audit_seal(&tenant, false);
	return PointerGetDatum(NULL);
}

PG_FUNCTION_INFO_V1(ironlayer_audit_refuse);
/*
 * Trigger: the audit log is append-only for everyone, the owner included;
 * the queue is emptied only by sealing.
 */
Datum
ironlayer_audit_refuse(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	const char *rel;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "ironlayer_audit_refuse: not called as a trigger");
	rel = RelationGetRelationName(td->tg_relation);
	if (sealing && strcmp(rel, "audit_queue") == 0 && TRIGGER_FIRED_BY_DELETE(td->tg_event))
		return PointerGetDatum(NULL);
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("the audit log is append-only"),
			 errdetail("%s on ironlayer.%s is refused for every role, its owner included.",
					   TRIGGER_FIRED_BY_TRUNCATE(td->tg_event) ? "TRUNCATE" :
					   TRIGGER_FIRED_BY_DELETE(td->tg_event) ? "DELETE" : "UPDATE", rel)));
	return PointerGetDatum(NULL);
}

/*
 * Open a cursor over the tenant's chain from from_seq, in seq order.
 */
static Portal
open_chain(const pg_uuid_t *tenant, int64 from_seq)
{
	Oid			argtypes[2] = {UUIDOID, INT8OID};
	Datum		values[2];
	Portal		portal;

	values[0] = UUIDPGetDatum(tenant);
	values[1] = Int64GetDatum(from_seq);
	portal = SPI_cursor_open_with_args(NULL,
									   "SELECT seq, at, actor, action, entity_type, entity_id,"
									   "       details::pg_catalog.text, prev_hash, hash"
									   "  FROM ironlayer.audit_log"
									   " WHERE tenant_id OPERATOR(pg_catalog.=) $1"
									   "   AND seq OPERATOR(pg_catalog.>=) $2"
									   " ORDER BY seq",
									   2, argtypes, values, NULL, false, CURSOR_OPT_NO_SCROLL);
	if (portal == NULL)
		elog(ERROR, "could not open the audit chain: %s", SPI_result_code_string(SPI_result));
	return portal;
}

/*
 * Read one chain row into e (strings palloc'd in the current context) and
 * its stored hashes. Returns false when a hash has the wrong length.
 */
static bool
read_row(HeapTuple tup, TupleDesc desc, const char *tenant_text, il_audit_entry *e,
		 char *at, const uint8 **prev, const uint8 **hash)
{
	bool		isnull;
	bytea	   *p;
	bytea	   *h;

	e->seq = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
	il_audit_format_at(unix_micros(DatumGetTimestampTz(SPI_getbinval(tup, desc, 2, &isnull))), at);
	e->tenant_id = tenant_text;
	e->at = at;
	e->actor = text_or_null(tup, desc, 3);
	e->action = text_or_null(tup, desc, 4);
	e->entity_type = text_or_null(tup, desc, 5);
	e->entity_id = text_or_null(tup, desc, 6);
	e->details = text_or_null(tup, desc, 7);
	e->details_len = e->details ? strlen(e->details) : 0;
	p = DatumGetByteaPP(SPI_getbinval(tup, desc, 8, &isnull));
	h = DatumGetByteaPP(SPI_getbinval(tup, desc, 9, &isnull));
	*prev = (const uint8 *) VARDATA_ANY(p);
	*hash = (const uint8 *) VARDATA_ANY(h);
	return VARSIZE_ANY_EXHDR(p) == IL_SHA256_LEN && VARSIZE_ANY_EXHDR(h) == IL_SHA256_LEN;
}

PG_FUNCTION_INFO_V1(ironlayer_verify_audit);
/*
 * ironlayer.verify_audit() returns (ok, entries, first_bad_seq, reason)
 *
 * Seals what is queued, then walks the current tenant's chain: seq must run
 * 1, 2, 3 ... without a gap, each prev_hash must be the previous hash (32
 * zero bytes first), each hash must be recomputed exactly, and the chain
 * must end where its head says (so a deleted last entry is seen).
 */
Datum
ironlayer_verify_audit(PG_FUNCTION_ARGS)
{
	pg_uuid_t	tenant;
	char	   *tenant_text;
	TupleDesc	tupdesc;
	Datum		result[4];
	bool		rnulls[4] = {false, false, true, true};
	int64		expected = 1;
	int64		entries = 0;
	int64		bad_seq = 0;
	char	   *reason = NULL;
	uint8		last[IL_SHA256_LEN];
	Portal		portal;
	MemoryContext rowcxt;
	MemoryContext oldcxt;
	MemoryContext callercxt = CurrentMemoryContext;

	ironlayer_require_tenant(&tenant);
	tenant_text = uuid_text(&tenant);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "verify_audit: return type must be a row type");

	if (!IsolationUsesXactSnapshot())
		(void) audit_seal(&tenant, true);

	memset(last, 0, sizeof(last));
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "audit verify rows", ALLOCSET_DEFAULT_SIZES);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	portal = open_chain(&tenant, 1);
	for (;;)
	{
		uint64		i;

		SPI_cursor_fetch(portal, true, FETCH_BATCH);
		if (SPI_processed == 0)
			break;
		for (i = 0; i < SPI_processed && reason == NULL; i++)
		{
			il_audit_entry e;
			il_error	err;
			char		at[32];
			const uint8 *prev;
			const uint8 *stored;
			uint8		computed[IL_SHA256_LEN];
			il_buf		canon = IL_BUF_INIT;	/* the core's: in rowcxt */

			oldcxt = MemoryContextSwitchTo(rowcxt);
			entries++;
			if (!read_row(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, tenant_text, &e, at, &prev, &stored))
			{
				bad_seq = e.seq;
				reason = psprintf("entry %lld has a hash that is not 32 bytes", (long long) e.seq);
			}
			else if (e.seq != expected)
			{
				bad_seq = expected;
				reason = e.seq > expected
					? psprintf("entry %lld is missing (the next entry is %lld)", (long long) expected, (long long) e.seq)
					: psprintf("entry %lld appears out of order", (long long) e.seq);
			}
			else if (memcmp(prev, last, IL_SHA256_LEN) != 0)
			{
				bad_seq = e.seq;
				reason = psprintf("entry %lld: prev_hash does not match the hash of entry %lld",
								  (long long) e.seq, (long long) e.seq - 1);
			}
			else
			{
				if (il_audit_write(&canon, &e, NULL, NULL, &err) != 0)
				{
					bad_seq = e.seq;
					reason = psprintf("entry %lld cannot be canonicalized: %s", (long long) e.seq, err.message);
				}
				else if (il_audit_hash(last, canon.data, canon.len, computed) != 0)
					elog(ERROR, "SHA-256 failed");
				else if (memcmp(computed, stored, IL_SHA256_LEN) != 0)
				{
					bad_seq = e.seq;
					reason = psprintf("entry %lld: the stored hash does not match its content", (long long) e.seq);
				}
				else
					memcpy(last, stored, IL_SHA256_LEN);
			}
			MemoryContextSwitchTo(oldcxt);
			if (reason != NULL)
				reason = MemoryContextStrdup(callercxt, reason);
			MemoryContextReset(rowcxt);
			expected++;
		}
		SPI_freetuptable(SPI_tuptable);
		if (reason != NULL)
			break;
	}
	SPI_cursor_close(portal);

	/* The head must agree with the end of the chain. */
	if (reason == NULL)
	{
		Oid			argtypes[1] = {UUIDOID};
		Datum		values[1];
		int			ret;

		values[0] = UUIDPGetDatum(&tenant);
		ret = SPI_execute_with_args("SELECT seq, hash FROM ironlayer.audit_heads"
									" WHERE tenant_id OPERATOR(pg_catalog.=) $1",
									1, argtypes, values, NULL, false, 1);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "audit head look-up failed");
		if (SPI_processed == 1)
		{
			bool		isnull;
			int64		head_seq = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
			bytea	   *h = DatumGetByteaPP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));

			if (head_seq != entries)
			{
				bad_seq = entries + 1;
				reason = head_seq > entries
					? psprintf("the chain ends at entry %lld but %lld entries were sealed: entry %lld and later are missing",
							   (long long) entries, (long long) head_seq, (long long) entries + 1)
					: psprintf("the chain has %lld entries but its head records %lld",
							   (long long) entries, (long long) head_seq);
			}
			else if (VARSIZE_ANY_EXHDR(h) != IL_SHA256_LEN || memcmp(VARDATA_ANY(h), last, IL_SHA256_LEN) != 0)
			{
				bad_seq = entries;
				reason = psprintf("entry %lld: its hash does not match the chain's head", (long long) entries);
			}
		}
		else if (entries > 0)
		{
			bad_seq = 1;
			reason = pstrdup("the chain has entries but no head");
		}
		if (reason != NULL)
			reason = MemoryContextStrdup(callercxt, reason);
	}
	SPI_finish();
	MemoryContextDelete(rowcxt);

	result[0] = BoolGetDatum(reason == NULL);
	result[1] = Int64GetDatum(entries);
	if (reason != NULL)
	{
		result[2] = Int64GetDatum(bad_seq);
		result[3] = CStringGetTextDatum(reason);
		rnulls[2] = rnulls[3] = false;
	}
	tupdesc = BlessTupleDesc(tupdesc);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, result, rnulls)));
}

PG_FUNCTION_INFO_V1(ironlayer_audit_export);
/*
 * ironlayer.audit_export(from_seq bigint DEFAULT 1) returns setof jsonb
 *
 * One object per entry of the current tenant: the canonical keys plus
 * prev_hash and hash in hex. An independent verifier recomputes the chain
 * from these (docs/audit.md).
 */
Datum
ironlayer_audit_export(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		from_seq;
	pg_uuid_t	tenant;
	char	   *tenant_text;
	Portal		portal;
	MemoryContext rowcxt;

	ironlayer_require_tenant(&tenant);
	tenant_text = uuid_text(&tenant);
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("from_seq must not be null"),
				 errhint("Export the whole chain with ironlayer.audit_export() or ironlayer.audit_export(1).")));
	from_seq = PG_GETARG_INT64(0);
	if (from_seq < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("from_seq must be at least 1")));
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);

	if (!IsolationUsesXactSnapshot())
		(void) audit_seal(&tenant, true);

	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "audit export rows", ALLOCSET_DEFAULT_SIZES);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	portal = open_chain(&tenant, from_seq);
	for (;;)
	{
		uint64		i;

		SPI_cursor_fetch(portal, true, FETCH_BATCH);
		if (SPI_processed == 0)
			break;
		for (i = 0; i < SPI_processed; i++)
		{
			il_audit_entry e;
			il_error	err;
			char		at[32];
			const uint8 *prev;
			const uint8 *hash;
			Datum		value;
			bool		isnull = false;
			il_buf		out = IL_BUF_INIT;	/* the core's: in rowcxt */
			MemoryContext oldcxt = MemoryContextSwitchTo(rowcxt);

			if (!read_row(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, tenant_text, &e, at, &prev, &hash))
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("audit entry %lld has a hash that is not 32 bytes", (long long) e.seq),
						 errhint("Run ironlayer.verify_audit().")));
			if (il_audit_write(&out, &e, prev, hash, &err) != 0)
				entry_error(e.seq, &err);
			value = DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data));
			MemoryContextSwitchTo(oldcxt);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
			MemoryContextReset(rowcxt);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	SPI_finish();
	MemoryContextDelete(rowcxt);
	return (Datum) 0;
}
