/*
 * memcache.h
 *	  An in-memory parse cache (il_parse_cache callbacks) for the benchmark
 *	  programs: open addressing on the blob id; what "warm" means there.
 */
#ifndef IL_BENCH_MEMCACHE_H
#define IL_BENCH_MEMCACHE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "il_repo.h"


typedef struct mem_entry
{
	char		id[IL_GIT_OID_HEX_LEN + 1];
	uint8_t    *data;
	size_t		len;
} mem_entry;

typedef struct mem_cache
{
	mem_entry  *slots;
	size_t		cap;			/* a power of two */
	size_t		n;
	size_t		bytes;
} mem_cache;

/* Hash of a hex id: its first 16 hex digits are random enough. */
static size_t
mc_hash(const char *id)
{
	size_t		h = 0;
	int			i;

	for (i = 0; i < 16; i++)
		h = (h << 4) | (size_t) (id[i] <= '9' ? id[i] - '0' : id[i] - 'a' + 10);
	return h;
}

/* The slot of id (found or empty). */
static mem_entry *
mc_slot(mem_cache *c, const char *id)
{
	size_t		i = mc_hash(id) & (c->cap - 1);

	while (c->slots[i].data != NULL && strcmp(c->slots[i].id, id) != 0)
		i = (i + 1) & (c->cap - 1);
	return &c->slots[i];
}

/* get callback. */
static const uint8_t *
mc_get(void *arg, const char *id, size_t *len)
{
	mem_cache  *c = arg;
	mem_entry  *e;

	if (c->cap == 0)
		return NULL;
	e = mc_slot(c, id);
	*len = e->len;
	return e->data;
}

/* put callback. */
static void
mc_put(void *arg, const char *id, const uint8_t *data, size_t len)
{
	mem_cache  *c = arg;
	mem_entry  *e;

	if (c->n * 2 >= c->cap)
	{
		mem_cache	bigger = {NULL, c->cap ? c->cap * 2 : 1024, 0, c->bytes};
		size_t		i;

		bigger.slots = calloc(bigger.cap, sizeof(mem_entry));
		if (bigger.slots == NULL)
			return;
		for (i = 0; i < c->cap; i++)
			if (c->slots[i].data != NULL)
			{
				*mc_slot(&bigger, c->slots[i].id) = c->slots[i];
				bigger.n++;
			}
		free(c->slots);
		*c = bigger;
	}
	e = mc_slot(c, id);
	if (e->data != NULL)
	{
		c->bytes -= e->len;
		free(e->data);
		c->n--;
	}
	e->data = malloc(len ? len : 1);
	if (e->data == NULL)
		return;
	memcpy(e->data, data, len);
	e->len = len;
	memcpy(e->id, id, sizeof(e->id));
	c->n++;
	c->bytes += len;
}

/* Frees the cache. */
static void
mc_free(mem_cache *c)
{
	size_t		i;

	for (i = 0; i < c->cap; i++)
		free(c->slots[i].data);
	free(c->slots);
	memset(c, 0, sizeof(*c));
}

#endif							/* IL_BENCH_MEMCACHE_H */
