/*-------------------------------------------------------------------------
 *
 * il_arena.h
 *	  The arena of the repository loader: the strings and model slots that
 *	  the model sets of one call share, freed together.
 *
 * An arena is reference-counted: every model set made by one load or diff
 * takes a reference (refs++), and the last il_arena_release frees its
 * blocks (il_free: the program's allocator keeps or returns them; nothing
 * is kept here across calls).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_ARENA_H
#define IL_ARENA_H

#include <stddef.h>

typedef struct il_arena_block
{
	struct il_arena_block *next;
	size_t		used;
	size_t		cap;
	char		data[];
} il_arena_block;

typedef struct il_arena
{
	il_arena_block *head;
	int			refs;
} il_arena;

/* A new arena with one reference (NULL when out of memory). */
extern il_arena *il_arena_new(void);

/* Drops a reference; frees the arena with the last one (NULL is allowed). */
extern void il_arena_release(il_arena *a);

/* n bytes aligned to 8 (NULL when out of memory). */
extern void *il_arena_alloc(il_arena *a, size_t n);

#endif							/* IL_ARENA_H */
