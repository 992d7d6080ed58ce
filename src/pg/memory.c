/*-------------------------------------------------------------------------
 *
 * memory.c
 *	  The core's allocator in the extension: PostgreSQL's memory contexts.
 *
 * _PG_init points the core's allocator (src/core/il_alloc.h) at the
 * functions below, so every block the core allocates is a chunk of
 * CurrentMemoryContext at the time of the call:
 *
 *	- what a core call returns, and what it leaves behind when the glue
 *	  raises an error, goes with the caller's context (a function's
 *	  per-call memory, an SRF's per-query memory): no glue code frees core
 *	  memory on the way out of an error, and none needs PG_TRY for it;
 *	- what must outlive a call (the executor's loaded commit, the open
 *	  repositories, the vault's master key) is allocated with a context of
 *	  its own current, a child of TopMemoryContext, named, and deleted when
 *	  it is dropped (MemoryContextSwitchTo around the core call);
 *	- glibc's own behaviour is left alone (no mallopt): large chunks are
 *	  the C library's blocks as for any other PostgreSQL code.
 *
 * The core must never see an error thrown: it holds libgit2 and OpenSSL
 * objects of their own allocators between its allocations, and a longjmp
 * out of it would leak them. So every function here returns NULL where
 * palloc would raise an error (MCXT_ALLOC_NO_OOM, sizes checked first),
 * and the core reports it by return value; the glue then raises it.
 *
 * PostgreSQL 15 has no repalloc that returns NULL (repalloc_extended came
 * in 16): core_realloc catches the out-of-memory error of repalloc_huge, the
 * only one it raises for a valid chunk and a valid size, and answers NULL.
 * Going through repalloc keeps its growth in place for large chunks (a
 * plan's text grows to tens of megabytes), which a copy into a new chunk
 * would not.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "il_alloc.h"
#include "ironlayer.h"

static void *
core_malloc(size_t size)
{
	if (!AllocHugeSizeIsValid(size))
		return NULL;
	return MemoryContextAllocExtended(CurrentMemoryContext, size,
									  MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
}

static void *
core_calloc(size_t n, size_t size)
{
	if (size != 0 && n > MaxAllocHugeSize / size)
		return NULL;
	return MemoryContextAllocExtended(CurrentMemoryContext, n * size,
									  MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM | MCXT_ALLOC_ZERO);
}

static void *
core_realloc(void *p, size_t size)
{
	MemoryContext cxt = CurrentMemoryContext;
	void	   *volatile q = NULL;

	if (p == NULL)
		return core_malloc(size);
	if (!AllocHugeSizeIsValid(size))
		return NULL;
#if PG_VERSION_NUM >= 160000
	q = repalloc_extended(p, size, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
#else
	PG_TRY();
	{
		q = repalloc_huge(p, size);
	}
	PG_CATCH();
	{
		/* out of memory: p is unchanged, as realloc leaves it */
		MemoryContextSwitchTo(cxt);
		FlushErrorState();
		q = NULL;
	}
	PG_END_TRY();
#endif
	(void) cxt;
	return q;
}

static void
core_free(void *p)
{
	if (p != NULL)
		pfree(p);
}

static const il_allocator pg_allocator = {core_malloc, core_calloc, core_realloc, core_free};

/*
 * Called first from _PG_init: before the core allocates anything (the
 * vault reads its master key at server start).
 */
void
ironlayer_memory_init(void)
{
	il_set_allocator(&pg_allocator);
}
