/*-------------------------------------------------------------------------
 *
 * il_arena.c
 *	  The loader's arena. See il_arena.h.
 *
 *-------------------------------------------------------------------------
 */
#include "il_alloc.h"
#include "il_arena.h"

#define ARENA_BLOCK (256 * 1024)

/*
 * A new arena with one reference.
 */
il_arena *
il_arena_new(void)
{
	il_arena   *a = il_calloc(1, sizeof(il_arena));

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

		il_free(b);
		b = next;
	}
	il_free(a);
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
		b = il_malloc(sizeof(il_arena_block) + (n > ARENA_BLOCK ? n : ARENA_BLOCK));
		if (b == NULL)
			return NULL;
		b->cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
		b->used = 0;
		b->next = a->head;
		a->head = b;
	}
	p = b->data + b->used;
	b->used += n;
	return p;
}
