/*-------------------------------------------------------------------------
 *
 * il_lists.c
 *	  String lists built at once, and the index of strings that finds a
 *	  string added before. See il_lists.h.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "il_alloc.h"
#include "il_lists.h"

/*
 * The hash of a string and its tag (FNV-1a, then the tag mixed in).
 */
static uint32_t
strindex_hash(const char *s, size_t len, int tag)
{
	uint32_t	h = 2166136261u;
	size_t		i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char) s[i]) * 16777619u;
	h ^= (uint32_t) tag * 0x9e3779b9u;
	return h ^ (h >> 15);
}

/*
 * Starts an empty index.
 */
void
il_strindex_init(il_strindex *x)
{
	x->slots = NULL;
	x->cap = 0;
	x->n = 0;
}

/*
 * Frees an index and leaves it empty.
 */
void
il_strindex_free(il_strindex *x)
{
	il_free(x->slots);
	il_strindex_init(x);
}

/*
 * Does entry e hold s[0..len) with tag?
 */
static bool
strindex_is(uint32_t e, const char *s, size_t len, int tag, il_strindex_get get, const void *arg)
{
	size_t		elen;
	int			etag;
	const char *es = get(arg, e, &elen, &etag);

	return etag == tag && elen == len && memcmp(es, s, len) == 0;
}

/*
 * Finds the entry holding a string.
 */
uint32_t
il_strindex_find(const il_strindex *x, const char *s, size_t len, int tag,
				 il_strindex_get get, const void *arg)
{
	size_t		i;

	if (x->cap == 0)
	{
		for (i = 0; i < x->n; i++)
			if (strindex_is(x->few[i], s, len, tag, get, arg))
				return x->few[i];
		return UINT32_MAX;
	}
	for (i = strindex_hash(s, len, tag) & (x->cap - 1); x->slots[i] != 0; i = (i + 1) & (x->cap - 1))
		if (strindex_is(x->slots[i] - 1, s, len, tag, get, arg))
			return x->slots[i] - 1;
	return UINT32_MAX;
}

/*
 * Puts entry e into the slots (there is room).
 */
static void
strindex_put(uint32_t *slots, size_t cap, uint32_t e, il_strindex_get get, const void *arg)
{
	size_t		len;
	int			tag;
	const char *s = get(arg, e, &len, &tag);
	size_t		i;

	for (i = strindex_hash(s, len, tag) & (cap - 1); slots[i] != 0; i = (i + 1) & (cap - 1))
		;
	slots[i] = e + 1;
}

/*
 * Adds an entry, making the table (or a larger one) when it is due.
 */
bool
il_strindex_add(il_strindex *x, uint32_t entry, il_strindex_get get, const void *arg)
{
	if (x->cap == 0 && x->n < IL_STRINDEX_FEW)
	{
		x->few[x->n++] = entry;
		return true;
	}
	if ((x->n + 1) * 2 > x->cap)
	{
		size_t		cap = x->cap ? x->cap * 2 : 4 * IL_STRINDEX_FEW;
		uint32_t   *slots;
		size_t		i;

		if (cap > SIZE_MAX / sizeof(uint32_t) || (slots = il_calloc(cap, sizeof(uint32_t))) == NULL)
			return false;
		if (x->cap == 0)
			for (i = 0; i < x->n; i++)
				strindex_put(slots, cap, x->few[i], get, arg);
		else
			for (i = 0; i < x->cap; i++)
				if (x->slots[i] != 0)
					strindex_put(slots, cap, x->slots[i] - 1, get, arg);
		il_free(x->slots);
		x->slots = slots;
		x->cap = cap;
	}
	strindex_put(x->slots, x->cap, entry, get, arg);
	x->n++;
	return true;
}

/*
 * Starts an empty lists builder.
 */
void
il_lb_init(il_lists_builder *b)
{
	b->text = b->text_inline;
	b->len = 0;
	b->cap = IL_LB_INLINE_TEXT;
	b->items = b->items_inline;
	b->n = 0;
	b->icap = IL_LB_INLINE_ITEMS;
	b->unique = 0;
	il_strindex_init(&b->index);
	b->oom = false;
}

/*
 * Names the lists whose duplicates are dropped as they come.
 */
void
il_lb_unique(il_lists_builder *b, unsigned lists)
{
	b->unique = lists;
}

/*
 * The string of builder item e (il_strindex_get).
 */
static const char *
lb_item_string(const void *arg, uint32_t e, size_t *len, int *tag)
{
	const il_lists_builder *b = arg;

	*len = b->items[e].len;
	*tag = (int) b->items[e].list;
	return b->text + b->items[e].off;
}

/*
 * Adds a string to one of the lists.
 */
bool
il_lb_add(il_lists_builder *b, int list, const char *s, size_t len, bool lower)
{
	size_t		i;
	bool		unique;

	if (b->oom || list < 0 || list >= IL_LB_MAX_LISTS)
		return false;
	unique = (b->unique >> list) & 1;
	if (b->n == b->icap)
	{
		size_t		cap = b->icap * 2;
		il_lb_item *ni;

		ni = il_grow_inline(b->items, b->items_inline, b->n, cap, sizeof(il_lb_item));
		if (ni == NULL)
		{
			b->oom = true;
			return false;
		}
		b->items = ni;
		b->icap = cap;
	}
	if (len > UINT32_MAX - b->len || b->n >= UINT32_MAX - 1)
	{
		b->oom = true;
		return false;
	}
	if (b->len + len > b->cap)
	{
		size_t		cap = b->cap * 2;
		char	   *nt;

		while (cap < b->len + len)
			cap *= 2;
		nt = il_grow_inline(b->text, b->text_inline, b->len, cap, 1);
		if (nt == NULL)
		{
			b->oom = true;
			return false;
		}
		b->text = nt;
		b->cap = cap;
	}
	/* the string goes at the end of the text; dropped again if a duplicate */
	memcpy(b->text + b->len, s, len);
	if (lower)
		for (i = b->len; i < b->len + len; i++)
			if (b->text[i] >= 'A' && b->text[i] <= 'Z')
				b->text[i] = (char) (b->text[i] + ('a' - 'A'));
	b->items[b->n].off = (uint32_t) b->len;
	b->items[b->n].len = (uint32_t) len;
	b->items[b->n].list = (uint32_t) list;
	/*
	 * The first IL_LB_INLINE_ITEMS items are kept as they come (il_lb_finish
	 * drops their duplicates); from then on the unique lists' items are
	 * indexed, and a duplicate is dropped at once.
	 */
	if (unique && b->n >= IL_LB_INLINE_ITEMS)
	{
		if (b->n == IL_LB_INLINE_ITEMS || b->index.n == 0)
		{
			for (i = 0; i < b->n; i++)
				if (((b->unique >> b->items[i].list) & 1) &&
					il_strindex_find(&b->index, b->text + b->items[i].off, b->items[i].len,
									 (int) b->items[i].list, lb_item_string, b) == UINT32_MAX &&
					!il_strindex_add(&b->index, (uint32_t) i, lb_item_string, b))
				{
					b->oom = true;
					return false;
				}
		}
		if (il_strindex_find(&b->index, b->text + b->len, len, list,
							 lb_item_string, b) != UINT32_MAX)
			return true;
		if (!il_strindex_add(&b->index, (uint32_t) b->n, lb_item_string, b))
		{
			b->oom = true;
			return false;
		}
	}
	b->n++;
	b->len += len;
	return true;
}

/*
 * Orders two list items by byte value (qsort callback).
 */
static int
strptr_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * Moves the lists into one block: the pointer arrays, list by list, then
 * the strings with their NULs.
 */
bool
il_lb_finish(il_lists_builder *b, int nlists, unsigned sort_unique,
			 il_strlist *out, void **mem)
{
	size_t		count[IL_LB_MAX_LISTS] = {0};
	size_t		at[IL_LB_MAX_LISTS];
	char	  **ptrs;
	char	   *text;
	size_t		i;
	int			k;

	*mem = NULL;
	for (k = 0; k < nlists; k++)
	{
		out[k].items = NULL;
		out[k].n = 0;
	}
	if (b->oom || nlists > IL_LB_MAX_LISTS)
	{
		il_lb_free(b);
		return false;
	}
	if (b->n == 0)
	{
		il_lb_free(b);
		return true;
	}
	il_strindex_free(&b->index);	/* not needed any more: room for the block */
	for (i = 0; i < b->n; i++)
		if (b->items[i].list < (uint32_t) nlists)
			count[b->items[i].list]++;
	ptrs = il_malloc(b->n * sizeof(char *) + b->len + b->n);
	if (ptrs == NULL)
	{
		il_lb_free(b);
		return false;
	}
	text = (char *) (ptrs + b->n);
	at[0] = 0;
	for (k = 1; k < nlists; k++)
		at[k] = at[k - 1] + count[k - 1];
	for (k = 0; k < nlists; k++)
		out[k].items = count[k] ? ptrs + at[k] : NULL;
	for (i = 0; i < b->n; i++)
	{
		const il_lb_item *it = &b->items[i];

		if (it->list >= (uint32_t) nlists)
			continue;
		memcpy(text, b->text + it->off, it->len);
		text[it->len] = '\0';
		ptrs[at[it->list] + out[it->list].n++] = text;
		text += it->len + 1;
	}
	for (k = 0; k < nlists; k++)
	{
		if ((sort_unique & (1u << k)) && out[k].n > 1)
		{
			char	  **items = out[k].items;
			size_t		m = 1;

			if (out[k].n <= 16)
			{
				/* insertion sort: cheaper than qsort for the usual few names */
				for (i = 1; i < out[k].n; i++)
				{
					char	   *v = items[i];
					size_t		j = i;

					while (j > 0 && strcmp(items[j - 1], v) > 0)
					{
						items[j] = items[j - 1];
						j--;
					}
					items[j] = v;
				}
			}
			else
				qsort(items, out[k].n, sizeof(char *), strptr_cmp);
			for (i = 1; i < out[k].n; i++)
				if (strcmp(items[i], items[m - 1]) != 0)
					items[m++] = items[i];
			out[k].n = m;
		}
	}
	*mem = ptrs;
	il_lb_free(b);
	return true;
}

/*
 * Frees a builder's heap memory and leaves it empty.
 */
void
il_lb_free(il_lists_builder *b)
{
	unsigned	unique = b->unique;

	if (b->text != b->text_inline)
		il_free(b->text);
	if (b->items != b->items_inline)
		il_free(b->items);
	il_strindex_free(&b->index);
	il_lb_init(b);
	b->unique = unique;
}
