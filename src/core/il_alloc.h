/*-------------------------------------------------------------------------
 *
 * il_alloc.h
 *	  The one allocator of the core: every block the core allocates comes
 *	  from il_malloc, il_calloc, il_realloc (or il_strdup, il_strndup) and
 *	  goes back through il_free.
 *
 * The functions go through one table of function pointers, set once by
 * the program before it calls the core (il_set_allocator). By default it
 * is the C library's malloc, calloc, realloc and free, called by name, so
 * a program linked with -Wl,--wrap=malloc,... (test/bench/memcount.h)
 * still sees every allocation: the command, the unit tests, the fuzzers
 * and the benchmarks keep that default.
 *
 * The extension points the table at PostgreSQL's memory contexts
 * (src/pg/memory.c): a block lives in the context current when it was
 * allocated, so what a core call leaves behind goes with the caller's
 * context, also when the caller raises an error, and long-lived objects
 * live in contexts the caller chose for them.
 *
 * The contract the core relies on, whatever the table holds:
 *	- a failed allocation returns NULL (never exits, never longjmps); the
 *	  core reports it by return value like any other error;
 *	- il_free(NULL) does nothing; il_realloc(NULL, n) is il_malloc(n);
 *	- a block is freed by il_free or grown by il_realloc only, never by the
 *	  C library's free or realloc (nor is a block of the C library, such as
 *	  libgit2's, given to il_free);
 *	- no block outlives the memory the program put it in: the core keeps no
 *	  allocation in a static variable across calls.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_ALLOC_H
#define IL_ALLOC_H

#include <stddef.h>

typedef struct il_allocator
{
	void	   *(*malloc_fn) (size_t size);
	void	   *(*calloc_fn) (size_t n, size_t size);
	void	   *(*realloc_fn) (void *p, size_t size);
	void		(*free_fn) (void *p);
} il_allocator;

/* The table in use; read through the functions below. */
extern il_allocator il_allocator_current;

/*
 * Install an allocator (copied; every member must be set), or the C
 * library's again with NULL. Call it before any block is allocated, or
 * after every block is freed: a block must go back to the allocator that
 * gave it.
 */
extern void il_set_allocator(const il_allocator *a);

static inline void *
il_malloc(size_t size)
{
	return il_allocator_current.malloc_fn(size);
}

static inline void *
il_calloc(size_t n, size_t size)
{
	return il_allocator_current.calloc_fn(n, size);
}

static inline void *
il_realloc(void *p, size_t size)
{
	return il_allocator_current.realloc_fn(p, size);
}

static inline void
il_free(void *p)
{
	il_allocator_current.free_fn(p);
}

/* A copy of s (of its first n bytes at most, NUL-terminated); NULL when out of memory. */
extern char *il_strdup(const char *s);
extern char *il_strndup(const char *s, size_t n);

/*
 * Grows an array that starts in storage of its holder (inline_items) to cap
 * elements of size bytes, used of them in use: the first time into a new
 * block (the inline elements copied), later by il_realloc. Returns the
 * array, or NULL (items untouched) when out of memory or when cap * size
 * overflows.
 */
extern void *il_grow_inline(void *items, const void *inline_items, size_t used,
							size_t cap, size_t size);

#endif							/* IL_ALLOC_H */
