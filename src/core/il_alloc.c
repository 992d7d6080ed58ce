/*-------------------------------------------------------------------------
 *
 * il_alloc.c
 *	  The core's allocator table and its default, the C library's
 *	  allocator. See il_alloc.h.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "il_alloc.h"

/*
 * The defaults call the C library by name (not through its addresses
 * taken elsewhere), so that -Wl,--wrap=malloc and friends see them.
 */
static void *
libc_malloc(size_t size)
{
	return malloc(size);
}

static void *
libc_calloc(size_t n, size_t size)
{
	return calloc(n, size);
}

static void *
libc_realloc(void *p, size_t size)
{
	return realloc(p, size);
}

static void
libc_free(void *p)
{
	free(p);
}

static const il_allocator libc_allocator = {libc_malloc, libc_calloc, libc_realloc, libc_free};

il_allocator il_allocator_current = {libc_malloc, libc_calloc, libc_realloc, libc_free};

void
il_set_allocator(const il_allocator *a)
{
	il_allocator_current = a != NULL ? *a : libc_allocator;
}

char *
il_strndup(const char *s, size_t n)
{
	size_t		len = strnlen(s, n);
	char	   *r = il_malloc(len + 1);

	if (r == NULL)
		return NULL;
	memcpy(r, s, len);
	r[len] = '\0';
	return r;
}

char *
il_strdup(const char *s)
{
	size_t		len = strlen(s);
	char	   *r = il_malloc(len + 1);

	if (r != NULL)
		memcpy(r, s, len + 1);
	return r;
}

void *
il_grow_inline(void *items, const void *inline_items, size_t used, size_t cap, size_t size)
{
	void	   *n;

	if (size != 0 && cap > SIZE_MAX / size)
		return NULL;
	if (items != inline_items)
		return il_realloc(items, cap * size);
	n = il_malloc(cap * size);
	if (n != NULL)
		memcpy(n, items, used * size);
	return n;
}
