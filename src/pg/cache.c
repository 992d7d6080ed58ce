/*-------------------------------------------------------------------------
 *
 * cache.c
 *	  The parse cache of the extension: the il_parse_cache callbacks the
 *	  core calls while it loads models (src/core/il_repo.h).
 *
 * Records are keyed by git blob id, so a record never goes stale except
 * when the parser changes (IL_PARSER_VERSION; the core rejects records of
 * another version). Three layers, fastest first:
 *
 *	1. process-local: a hash table of records this process has read from
 *	   the table or parsed; it keeps them only until they are in shared
 *	   memory (or for good, when there is no shared memory);
 *	2. shared memory (when the library is preloaded and
 *	   ironlayer.parse_cache_memory > 0): a log-structured ring of records
 *	   with an open-addressing index, shared by every session of the
 *	   server; the oldest records are overwritten when the ring is full;
 *	3. the table ironlayer.parse_cache, which survives restarts.
 *
 * Flow of one core call: prefetch(ids) looks up the ids this process lacks
 * in shared memory under one shared lock, then the rest in the table (one
 * query, in a subtransaction); get(id) answers from the local table, else
 * copies the record out of shared memory under a shared lock; put(id)
 * keeps a new record locally. After the core returns,
 * ironlayer_parse_cache_flush() copies new records into shared memory and
 * the table, and records that came from the table into shared memory.
 * Nothing here may throw while the core runs (it holds libgit2 objects):
 * failures inside the callbacks are caught and become cache misses.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "il_git.h"
#include "il_repo.h"
#include "ironlayer.h"

/* ------------------------------------------------------- shared memory */

#define SHM_TRANCHE "ironlayer parse cache"
#define OID_LEN 20				/* a SHA-1 object id, binary */
#define PROBES 8				/* slots looked at per id */
#define AVG_RECORD 512			/* bytes per record, to size the index */

/*
 * An index slot: small, so that a new process touches few pages of the
 * index. The ring holds each entry as the full id then the record.
 */
typedef struct ShmSlot
{
	uint32		tag;			/* the id's first 4 bytes */
	uint32		len;			/* of the record; 0: never used */
	uint64		pos;			/* where the entry starts in the log */
} ShmSlot;

typedef struct ShmCache
{
	LWLock	   *lock;
	uint64		head;			/* next log position to write */
	uint64		size;			/* bytes of the ring */
	uint32		nslots;			/* a power of two */
	ShmSlot		slots[FLEXIBLE_ARRAY_MEMBER];
	/* then the ring: size bytes */
} ShmCache;

static int	cache_memory_mb = 64;	/* GUC ironlayer.parse_cache_memory */
static ShmCache *shm = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static uint32
shm_nslots(void)
{
	uint64		want = ((uint64) cache_memory_mb << 20) / AVG_RECORD;
	uint32		n = 1024;

	while (n < want && n < (UINT32_C(1) << 30))
		n <<= 1;
	return n;
}

static Size
shm_size(void)
{
	if (cache_memory_mb <= 0)
		return 0;
	return add_size(offsetof(ShmCache, slots),
					add_size(mul_size(shm_nslots(), sizeof(ShmSlot)),
							 (Size) cache_memory_mb << 20));
}

static uint8 *
shm_ring(void)
{
	return (uint8 *) &shm->slots[shm->nslots];
}

static void
cache_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	if (cache_memory_mb > 0)
	{
		RequestAddinShmemSpace(shm_size());
		RequestNamedLWLockTranche(SHM_TRANCHE, 1);
	}
}

static void
cache_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	if (cache_memory_mb <= 0)
		return;
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shm = ShmemInitStruct(SHM_TRANCHE, shm_size(), &found);
	if (!found)
	{
		memset(shm, 0, offsetof(ShmCache, slots) + shm_nslots() * sizeof(ShmSlot));
		shm->lock = &(GetNamedLWLockTranche(SHM_TRANCHE))->lock;
		shm->size = (uint64) cache_memory_mb << 20;
		shm->nslots = shm_nslots();
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * Called from _PG_init while preloading.
 */
void
ironlayer_cache_init(void)
{
	DefineCustomIntVariable("ironlayer.parse_cache_memory",
							"Shared memory for parsed model records, shared by all sessions.",
							"0 keeps records in each process and in ironlayer.parse_cache only.",
							&cache_memory_mb,
							64, 0, 16384,
							PGC_POSTMASTER,
							GUC_UNIT_MB,
							NULL, NULL, NULL);
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = cache_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = cache_shmem_startup;
}

/* hex digit values; 0xff for anything else (lower case only, as git writes) */
static uint8 hexval[256];
static bool hexval_ready = false;

static void
hexval_init(void)
{
	int			i;

	memset(hexval, 0xff, sizeof(hexval));
	for (i = 0; i < 10; i++)
		hexval['0' + i] = (uint8) i;
	for (i = 0; i < 6; i++)
		hexval['a' + i] = (uint8) (10 + i);
	hexval_ready = true;
}

/* The binary form of a 40-hex id; false if it is not one. */
static bool
oid_from_hex(const char *hex, uint8 *oid)
{
	const unsigned char *h = (const unsigned char *) hex;
	int			i;

	if (!hexval_ready)
		hexval_init();
	for (i = 0; i < OID_LEN; i++)
	{
		uint8		hi = hexval[h[2 * i]];
		uint8		lo = hexval[h[2 * i + 1]];

		if (hi > 15 || lo > 15)
			return false;
		oid[i] = (uint8) (hi << 4 | lo);
	}
	return h[2 * OID_LEN] == '\0';
}

static uint32
oid_tag(const uint8 *oid)
{
	uint32		t;

	memcpy(&t, oid, sizeof(t));
	return t;
}

/* The first slot to probe for an id (ids are uniformly distributed). */
static uint32
shm_home(const uint8 *oid)
{
	uint32		h;

	memcpy(&h, oid + 4, sizeof(h));
	return h & (shm->nslots - 1);
}

/* A slot's entry is still in the ring (not overwritten since). */
static bool
shm_live(const ShmSlot *s)
{
	return s->len > 0 && s->pos + shm->size >= shm->head;
}

/* Where a slot's record starts (after the id). */
static const uint8 *
shm_record(const ShmSlot *s)
{
	return shm_ring() + s->pos % shm->size + OID_LEN;
}

/* The slot holding oid's live record, or NULL. Caller holds the lock. */
static ShmSlot *
shm_find(const uint8 *oid)
{
	uint32		h = shm_home(oid);
	uint32		tag = oid_tag(oid);
	int			i;

	for (i = 0; i < PROBES; i++)
	{
		ShmSlot    *s = &shm->slots[(h + i) & (shm->nslots - 1)];

		if (s->tag == tag && shm_live(s) &&
			memcmp(shm_ring() + s->pos % shm->size, oid, OID_LEN) == 0)
			return s;
	}
	return NULL;
}

/*
 * Appends an entry (the id, then the record) to the ring and indexes it: in
 * oid's slot if it has one, else in a free or dead slot of its window, else
 * in the window's oldest.
 * Caller holds the lock exclusively.
 */
static void
shm_insert(const uint8 *oid, const uint8 *data, size_t len)
{
	ShmSlot    *victim;
	uint64		off;
	size_t		total = OID_LEN + len;
	int			i;

	if (len == 0 || total > shm->size / 16)
		return;
	victim = shm_find(oid);
	if (victim == NULL)
	{
		uint32		h = shm_home(oid);

		for (i = 0; i < PROBES; i++)
		{
			ShmSlot    *s = &shm->slots[(h + i) & (shm->nslots - 1)];

			if (!shm_live(s))
			{
				victim = s;
				break;
			}
			if (victim == NULL || s->pos < victim->pos)
				victim = s;
		}
	}
	/* records never wrap: skip the ring's tail when one does not fit */
	off = shm->head % shm->size;
	if (off + total > shm->size)
		shm->head += shm->size - off;
	memcpy(shm_ring() + shm->head % shm->size, oid, OID_LEN);
	memcpy(shm_ring() + shm->head % shm->size + OID_LEN, data, len);
	victim->tag = oid_tag(oid);
	victim->len = (uint32) len;
	victim->pos = shm->head;
	shm->head += total;
}

/* ------------------------------------------------------- process-local */

typedef struct CacheEntry
{
	char		blob[IL_GIT_OID_HEX_LEN + 1];	/* key */
	uint8	   *data;
	size_t		len;
} CacheEntry;

static HTAB *local_cache = NULL;
static MemoryContext cache_cxt = NULL;
static long local_entries = 0;

#define LOCAL_CACHE_MAX 200000	/* records; about 60 MB at the most */

/* Ids whose records the flush copies out (the local table keeps the data). */
typedef struct Pending
{
	char		blob[IL_GIT_OID_HEX_LEN + 1];
	bool		to_table;		/* parsed here: the table lacks it */
} Pending;

static Pending *pending = NULL;
static int	npending = 0;
static int	pending_cap = 0;

static void
cache_reset(void)
{
	HASHCTL		ctl;

	if (cache_cxt)
		MemoryContextDelete(cache_cxt);
	cache_cxt = AllocSetContextCreate(TopMemoryContext, "ironlayer parse cache",
									  ALLOCSET_DEFAULT_SIZES);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = IL_GIT_OID_HEX_LEN + 1;
	ctl.entrysize = sizeof(CacheEntry);
	ctl.hcxt = cache_cxt;
	local_cache = hash_create("ironlayer parse cache", 1024, &ctl,
							  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	local_entries = 0;
	pending = NULL;
	npending = pending_cap = 0;
}

static void
cache_store(const char *id, const uint8 *data, size_t len)
{
	CacheEntry *e;
	bool		found;

	if (local_cache == NULL || local_entries >= LOCAL_CACHE_MAX)
		cache_reset();
	e = hash_search(local_cache, id, HASH_ENTER, &found);
	if (found)
		pfree(e->data);
	else
		local_entries++;
	e->data = MemoryContextAlloc(cache_cxt, Max(len, 1));
	memcpy(e->data, data, len);
	e->len = len;
}

static void
pending_add(const char *id, bool to_table)
{
	if (npending == pending_cap)
	{
		int			cap = Max(64, 2 * pending_cap);

		pending = pending == NULL
			? MemoryContextAlloc(cache_cxt, cap * sizeof(Pending))
			: repalloc(pending, cap * sizeof(Pending));
		pending_cap = cap;
	}
	strlcpy(pending[npending].blob, id, sizeof(pending[npending].blob));
	pending[npending].to_table = to_table;
	npending++;
}

/* --------------------------------------------------------- callbacks */

/*
 * Brings the records of ids this process lacks: from shared memory, then
 * from the table. A failure is a miss, never an error escaping through
 * the core.
 */
static void
cache_prefetch(void *arg, const char *const *ids, size_t n)
{
	const char **missing;
	size_t		i;
	size_t		m = 0;
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;

	if (local_cache == NULL)
		cache_reset();
	missing = palloc(sizeof(char *) * Max(n, 1));
	for (i = 0; i < n; i++)
		if (hash_search(local_cache, ids[i], HASH_FIND, NULL) == NULL)
			missing[m++] = ids[i];
	if (m == 0)
		return;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		size_t		left = 0;

		if (shm != NULL)
		{
			/* get() copies these out one by one; only the others are fetched */
			LWLockAcquire(shm->lock, LW_SHARED);
			for (i = 0; i < m; i++)
			{
				uint8		oid[OID_LEN];

				if (!oid_from_hex(missing[i], oid) || shm_find(oid) == NULL)
					missing[left++] = missing[i];
			}
			LWLockRelease(shm->lock);
			m = left;
		}
		if (m > 0)
		{
			Datum	   *elems = palloc(sizeof(Datum) * m);
			Oid			argtypes[2] = {TEXTOID, TEXTARRAYOID};
			Datum		values[2];
			uint64		k;

			for (i = 0; i < m; i++)
				elems[i] = CStringGetTextDatum(missing[i]);
			values[0] = CStringGetTextDatum(IL_PARSER_VERSION);
			values[1] = PointerGetDatum(construct_array(elems, (int) m, TEXTOID, -1, false, TYPALIGN_INT));
			if (SPI_connect() != SPI_OK_CONNECT)
				elog(ERROR, "SPI_connect failed");
			if (SPI_execute_with_args("SELECT blob, summary FROM ironlayer.parse_cache"
									  " WHERE parser_version OPERATOR(pg_catalog.=) $1"
									  "   AND blob OPERATOR(pg_catalog.=) ANY ($2)",
									  2, argtypes, values, NULL, true, 0) != SPI_OK_SELECT)
				elog(ERROR, "parse cache look-up failed");
			for (k = 0; k < SPI_processed; k++)
			{
				bool		isnull;
				char	   *blob = TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[k], SPI_tuptable->tupdesc, 1, &isnull));
				bytea	   *rec = DatumGetByteaPP(SPI_getbinval(SPI_tuptable->vals[k], SPI_tuptable->tupdesc, 2, &isnull));

				if (strlen(blob) != IL_GIT_OID_HEX_LEN)
					continue;
				cache_store(blob, (const uint8 *) VARDATA_ANY(rec), VARSIZE_ANY_EXHDR(rec));
				if (shm != NULL)
					pending_add(blob, false);
			}
			SPI_finish();
		}
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		SPI_restore_connection();
	}
	PG_END_TRY();
}

/*
 * get()'s copy of a record from shared memory, in a context of its own
 * (made by ironlayer_parse_cache, before the core runs).
 */
static MemoryContext get_cxt = NULL;
static uint8 *get_buf = NULL;
static size_t get_cap = 0;

/*
 * The record of id: from this process's table, else copied out of shared
 * memory (valid until the next call, as the core expects).
 */
static const uint8_t *
cache_get(void *arg, const char *id, size_t *len)
{
	CacheEntry *e;
	uint8		oid[OID_LEN];
	ShmSlot    *s;
	const uint8_t *found = NULL;

	if (local_cache != NULL && local_entries > 0)
	{
		e = hash_search(local_cache, id, HASH_FIND, NULL);
		if (e != NULL)
		{
			*len = e->len;
			return e->data;
		}
	}
	if (shm == NULL || !oid_from_hex(id, oid))
		return NULL;
	LWLockAcquire(shm->lock, LW_SHARED);
	s = shm_find(oid);
	if (s != NULL && s->len <= get_cap)
	{
		memcpy(get_buf, shm_record(s), s->len);
		*len = s->len;
		found = get_buf;
	}
	else if (s != NULL)
	{
		/* grow outside the lock; a miss this once */
		size_t		want = s->len;

		LWLockRelease(shm->lock);
		if (want <= shm->size / 16)
		{
			uint8	   *b = MemoryContextAllocExtended(get_cxt, Max(want, 4096), MCXT_ALLOC_NO_OOM);

			if (b != NULL)
			{
				if (get_buf != NULL)
					pfree(get_buf);
				get_buf = b;
				get_cap = Max(want, 4096);
				return cache_get(arg, id, len);
			}
		}
		return NULL;
	}
	LWLockRelease(shm->lock);
	return found;
}

/* A record parsed by this call (possibly replacing a stale one). */
static void
cache_put(void *arg, const char *id, const uint8_t *data, size_t len)
{
	cache_store(id, data, len);
	pending_add(id, true);
}

static const il_parse_cache pg_cache = {NULL, cache_prefetch, cache_get, cache_put};

/*
 * The callbacks, for a core call; what they need is made here, where an
 * error may still be raised.
 */
const il_parse_cache *
ironlayer_parse_cache(void)
{
	if (get_cxt == NULL)
		get_cxt = AllocSetContextCreate(TopMemoryContext, "ironlayer parse cache copy",
										ALLOCSET_SMALL_SIZES);
	return &pg_cache;
}

/*
 * After a core call: copies the records it parsed into shared memory and
 * ironlayer.parse_cache (not the table in a read-only transaction or on a
 * standby: they stay in memory then), and the records it read from the
 * table into shared memory.
 */
void
ironlayer_parse_cache_flush(void)
{
	int			i;
	SPIPlanPtr	plan = NULL;
	bool		table_ok = !XactReadOnly && !RecoveryInProgress();

	if (npending == 0)
		return;
	if (shm != NULL)
	{
		LWLockAcquire(shm->lock, LW_EXCLUSIVE);
		for (i = 0; i < npending; i++)
		{
			CacheEntry *e = hash_search(local_cache, pending[i].blob, HASH_FIND, NULL);
			uint8		oid[OID_LEN];

			if (e != NULL && oid_from_hex(e->blob, oid))
				shm_insert(oid, e->data, e->len);
		}
		LWLockRelease(shm->lock);
	}
	if (table_ok)
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		for (i = 0; i < npending; i++)
		{
			Oid			types[3] = {TEXTOID, TEXTOID, BYTEAOID};
			Datum		values[3];
			CacheEntry *e;
			bytea	   *b;

			if (!pending[i].to_table)
				continue;
			e = hash_search(local_cache, pending[i].blob, HASH_FIND, NULL);
			if (e == NULL)
				continue;
			if (plan == NULL)
			{
				plan = SPI_prepare("INSERT INTO ironlayer.parse_cache (blob, parser_version, summary)"
								   " VALUES ($1, $2, $3)"
								   " ON CONFLICT (blob, parser_version) DO UPDATE SET summary = EXCLUDED.summary",
								   3, types);
				if (plan == NULL)
					elog(ERROR, "could not prepare the parse cache insert");
			}
			b = palloc(VARHDRSZ + e->len);
			SET_VARSIZE(b, VARHDRSZ + e->len);
			memcpy(VARDATA(b), e->data, e->len);
			values[0] = CStringGetTextDatum(e->blob);
			values[1] = CStringGetTextDatum(IL_PARSER_VERSION);
			values[2] = PointerGetDatum(b);
			if (SPI_execute_plan(plan, values, NULL, false, 0) != SPI_OK_INSERT)
				elog(ERROR, "parse cache insert failed");
		}
		SPI_finish();
		npending = 0;
		/* shared memory serves these records now */
		if (shm != NULL)
			cache_reset();
	}
	else
	{
		int			k = 0;

		/* keep what the table lacks for a later, writable call */
		for (i = 0; i < npending; i++)
			if (pending[i].to_table)
				pending[k++] = pending[i];
		npending = k;
	}
}
