/*-------------------------------------------------------------------------
 *
 * il_arena.c
 *	  The loader's arena and its pool of freed blocks. See il_arena.h.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>

#include "il_arena.h"

#define ARENA_BLOCK (256 * 1024)

/*
 * Freed blocks kept for the next load of this process, up to POOL_MAX
 * bytes: fresh memory costs a page fault per page on first touch, which
 * was a third of a warm load's time. Not thread-safe, like the rest of the
 * loader's callers (one backend, one command).
 */
#define POOL_MAX ((size_t) 64 << 20)
static il_arena_block *pool = NULL;
static size_t pool_bytes = 0;

/* A block of at least cap bytes: from the pool (first fit), else new. */
static il_arena_block *
block_get(size_t cap)
{
	il_arena_block **pp;

	for (pp = &pool; *pp != NULL; pp = &(*pp)->next)
	{
		il_arena_block *b = *pp;

		if (b->cap >= cap && b->cap <= 2 * cap + ARENA_BLOCK)
		{
			*pp = b->next;
			pool_bytes -= b->cap;
			return b;
		}
	}
	pp = malloc(sizeof(il_arena_block) + cap);
	if (pp == NULL)
		return NULL;
	((il_arena_block *) pp)->cap = cap;
	return (il_arena_block *) pp;
}

/* Back to the pool, or freed when the pool is full. */
static void
block_put(il_arena_block *b)
{
	if (pool_bytes + b->cap > POOL_MAX)
	{
		free(b);
		return;
	}
	b->next = pool;
	pool = b;
	pool_bytes += b->cap;
}

/*
 * A new arena with one reference.
 */
il_arena *
il_arena_new(void)
{
	il_arena   *a = calloc(1, sizeof(il_arena));

	if (a)
		a->refs = 1;
	return a;
}

/*
 * Drops a reference; frees the arena with the last one.
 */
void
il_arena_release(il_arena *a)
{
	il_arena_block *b;

	if (a == NULL || --a->refs > 0)
		return;
	b = a->head;
	while (b)
	{
		il_arena_block *next = b->next;

		block_put(b);
		b = next;
	}
	free(a);
}

/*
 * n bytes aligned to 8 (NULL when out of memory).
 */
void *
il_arena_alloc(il_arena *a, size_t n)
{
	il_arena_block *b = a->head;
	void	   *p;

	n = (n + 7) & ~(size_t) 7;
	if (b == NULL || b->cap - b->used < n)
	{
		b = block_get(n > ARENA_BLOCK ? n : ARENA_BLOCK);
		if (b == NULL)
			return NULL;
		b->used = 0;
		b->next = a->head;
		a->head = b;
	}
	p = b->data + b->used;
	b->used += n;
	return p;
}
