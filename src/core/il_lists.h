/*-------------------------------------------------------------------------
 *
 * il_lists.h
 *	  Lists of strings the parsers hand out (il_strlist), the builder that
 *	  makes several of them at once in one allocation (il_lists_builder),
 *	  and the index of strings it and il_refs find duplicates with
 *	  (il_strindex).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_LISTS_H
#define IL_LISTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A list of strings (names, tags): items[0..n). The memory belongs to the
 * structure that holds the list (one block per il_header, per il_refs).
 */
typedef struct il_strlist
{
	char	  **items;
	size_t		n;
} il_strlist;

#define IL_STRLIST_INIT {NULL, 0}

/*
 * An index of strings kept elsewhere (entries numbered by their owner),
 * to find one by its content: open addressing over entry numbers, 4 bytes
 * a slot, at most half full. The first IL_STRINDEX_FEW entries are only
 * listed and compared one by one, so a small index takes no heap memory.
 * The owner says where an entry's string is with a get callback; a tag
 * (a list number) is part of the key.
 */
#define IL_STRINDEX_FEW 16

typedef const char *(*il_strindex_get) (const void *arg, uint32_t entry, size_t *len, int *tag);

typedef struct il_strindex
{
	uint32_t   *slots;			/* entry + 1; 0 is an empty slot */
	size_t		cap;			/* a power of two, or 0 while few */
	size_t		n;
	uint32_t	few[IL_STRINDEX_FEW];
} il_strindex;

extern void il_strindex_init(il_strindex *x);
/* The entry whose string is s[0..len) with tag, or UINT32_MAX. */
extern uint32_t il_strindex_find(const il_strindex *x, const char *s, size_t len, int tag,
								 il_strindex_get get, const void *arg);
/* Adds an entry (not there yet); false when out of memory. */
extern bool il_strindex_add(il_strindex *x, uint32_t entry, il_strindex_get get, const void *arg);
extern void il_strindex_free(il_strindex *x);

/*
 * Builds up to IL_LB_MAX_LISTS string lists at once and then moves them all
 * into one allocation. Small contents stay in the builder itself (no heap
 * use until il_lb_finish); the builder must not be copied after il_lb_init.
 * Lists named by il_lb_unique drop a string added twice at once, so they
 * take memory for their different strings only.
 */
#define IL_LB_MAX_LISTS 8
#define IL_LB_INLINE_TEXT 1024
#define IL_LB_INLINE_ITEMS 48

typedef struct il_lb_item
{
	uint32_t	off;			/* in text */
	uint32_t	len;
	uint32_t	list;
} il_lb_item;

typedef struct il_lists_builder
{
	char	   *text;
	size_t		len;
	size_t		cap;
	il_lb_item *items;
	size_t		n;
	size_t		icap;
	unsigned	unique;			/* lists without duplicates (il_lb_unique) */
	il_strindex index;			/* their items */
	bool		oom;
	char		text_inline[IL_LB_INLINE_TEXT];
	il_lb_item	items_inline[IL_LB_INLINE_ITEMS];
} il_lists_builder;

extern void il_lb_init(il_lists_builder *b);
/*
 * The lists (bit k for list k) whose duplicates il_lb_add drops; give the
 * same lists to il_lb_finish in sort_unique. Call before the first add.
 */
extern void il_lb_unique(il_lists_builder *b, unsigned lists);
/*
 * Adds s[0..len) (no NUL inside) to list number list, with ASCII letters
 * lower-cased when lower (unless the list is unique and holds it already);
 * false when out of memory, or when the text would pass 4 GiB.
 */
extern bool il_lb_add(il_lists_builder *b, int list, const char *s, size_t len, bool lower);
/*
 * Moves the items into one block, returned in *mem (NULL when there are no
 * items; free it with il_free()), and points out[0..nlists) into it: list k in
 * the order added, or, when bit k of sort_unique is set, sorted by byte
 * value without duplicates. Frees the builder's heap memory. False when out
 * of memory (then *mem is NULL and the lists are empty).
 */
extern bool il_lb_finish(il_lists_builder *b, int nlists, unsigned sort_unique,
						 il_strlist *out, void **mem);
/* Frees the builder's heap memory (after il_lb_finish, or instead of it). */
extern void il_lb_free(il_lists_builder *b);

#endif							/* IL_LISTS_H */
