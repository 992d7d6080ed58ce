/*-------------------------------------------------------------------------
 *
 * il_dag.c
 *	  The dependency graph of a repository's models; see il_dag.h.
 *
 * Names are resolved through one open-addressing table that maps every
 * full name and every proper suffix of a name to its models; the graph
 * keeps it, so il_dag_resolve answers for one name in time linear in its
 * length, the same way for the graph's edges, il_dag_find and renderers. Adjacency is
 * kept as compressed rows (offsets + targets) in both directions, sorted,
 * so every walk visits nodes in name order without sorting again. The
 * table's order never reaches the output.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "il_dag.h"
#include "il_text.h"

#define NONE32 UINT32_MAX

/* What a key (a full name or a proper suffix of names) stands for. */
typedef struct name_slot
{
	const char *key;			/* NULL: empty slot */
	uint32_t	hash;
	uint32_t	full;			/* the node whose full name is key, or NONE32 */
	uint32_t	first;			/* the first node (in name order) with key as suffix */
	uint32_t	count;			/* how many nodes have key as a proper suffix */
} name_slot;

typedef struct name_table
{
	name_slot  *slots;
	size_t		mask;
} name_table;

/* The longest list of candidates quoted in a message, in bytes. */
#define CANDIDATES_MAX 150

/* Room for a name or path quoted in a message. */
#define QUOTE_CAP 100

/* User text for a message (il_quote_text of a C string). */
static void
quote_text(char *out, size_t cap, const char *s)
{
	il_quote_text(out, cap, s, s ? strlen(s) : 0);
}

/* ASCII lower case (names are compared after lower-casing their letters). */
static inline unsigned char
lower_byte(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char) (c + ('a' - 'A')) : c;
}

/*
 * FNV-1a of s[0..len) lower-cased.
 */
static uint32_t
hash_str(const char *s, size_t len)
{
	uint32_t	h = 2166136261u;
	size_t		i;

	for (i = 0; i < len; i++)
	{
		h ^= lower_byte((unsigned char) s[i]);
		h *= 16777619u;
	}
	return h;
}

/*
 * Is the key (NUL-terminated, lower-case) s[0..len) lower-cased?
 */
static bool
key_equals(const char *key, const char *s, size_t len)
{
	size_t		i;

	for (i = 0; i < len; i++)
		if (key[i] == '\0' || (unsigned char) key[i] != lower_byte((unsigned char) s[i]))
			return false;
	return key[len] == '\0';
}

/*
 * The slot of key s[0..len) lower-cased (found, or the empty slot where it
 * goes).
 */
static name_slot *
table_slot(const name_table *t, const char *s, size_t len, uint32_t h)
{
	size_t		i = h & t->mask;

	for (;;)
	{
		name_slot  *slot = &t->slots[i];

		if (slot->key == NULL || (slot->hash == h && key_equals(slot->key, s, len)))
			return slot;
		i = (i + 1) & t->mask;
	}
}

/*
 * Looks up s[0..len), any case; NULL when absent.
 */
static const name_slot *
table_find(const name_table *t, const char *s, size_t len)
{
	name_slot  *slot = table_slot(t, s, len, hash_str(s, len));

	return slot->key ? slot : NULL;
}

/*
 * Adds key (a string that outlives the table) for node: as its full name,
 * or as one of its proper suffixes.
 */
static void
table_add(name_table *t, const char *key, uint32_t node, bool full)
{
	size_t		len = strlen(key);
	uint32_t	h = hash_str(key, len);
	name_slot  *slot = table_slot(t, key, len, h);

	if (slot->key == NULL)
	{
		slot->key = key;
		slot->hash = h;
		slot->full = NONE32;
		slot->first = NONE32;
		slot->count = 0;
	}
	if (full)
		slot->full = node;
	else
	{
		if (slot->count == 0)
			slot->first = node;
		slot->count++;
	}
}

/* A comparison with a context, for merge_sort. */
typedef int (*idx_cmp) (size_t a, size_t b, const void *ctx);

/*
 * Sorts a[0..n) stably (bottom-up merge sort; tmp has room for n).
 */
static void
merge_sort(size_t *a, size_t *tmp, size_t n, idx_cmp cmp, const void *ctx)
{
	size_t		width;
	size_t		lo;
	size_t		i;

	/* runs of 16 by insertion, then merges of doubling width */
	for (lo = 0; lo < n; lo += 16)
	{
		size_t		hi = lo + 16 < n ? lo + 16 : n;

		for (i = lo + 1; i < hi; i++)
		{
			size_t		v = a[i];
			size_t		j = i;

			while (j > lo && cmp(a[j - 1], v, ctx) > 0)
			{
				a[j] = a[j - 1];
				j--;
			}
			a[j] = v;
		}
	}
	for (width = 16; width < n; width *= 2)
	{
		for (lo = 0; lo < n; lo += 2 * width)
		{
			size_t		mid = lo + width < n ? lo + width : n;
			size_t		hi = lo + 2 * width < n ? lo + 2 * width : n;
			size_t		p = lo,
						q = mid,
						o = lo;

			while (p < mid && q < hi)
				tmp[o++] = cmp(a[q], a[p], ctx) < 0 ? a[q++] : a[p++];
			while (p < mid)
				tmp[o++] = a[p++];
			while (q < hi)
				tmp[o++] = a[q++];
		}
		memcpy(a, tmp, n * sizeof(size_t));
	}
}

/*
 * Orders model indices by name.
 */
static int
cmp_model_name(size_t a, size_t b, const void *ctx)
{
	const il_dag_model *m = ctx;

	return strcmp(m[a].name, m[b].name);
}

/*
 * Orders source offsets by their text.
 */
static int
cmp_src(size_t a, size_t b, const void *ctx)
{
	const char *mem = ctx;

	return strcmp(mem + a, mem + b);
}

/*
 * Orders node indices.
 */
static int
cmp_size(size_t a, size_t b, const void *ctx)
{
	(void) ctx;
	return a < b ? -1 : a > b;
}

/*
 * Frees a graph (NULL is allowed).
 */
void
il_dag_free(il_dag *dag)
{
	if (dag == NULL)
		return;
	il_free(dag->names);
	il_free(dag->input);
	il_free(dag->up_off);
	il_free(dag->up);
	il_free(dag->down_off);
	il_free(dag->down);
	il_free(dag->src_off);
	il_free(dag->src);
	il_free(dag->order);
	il_free(dag->src_mem);
	if (dag->index != NULL)
		il_free(((name_table *) dag->index)->slots);
	il_free(dag->index);
	il_free(dag);
}

/*
 * Sets out_of_memory.
 */
static int
nomem(il_error *err)
{
	il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory while building the dependency graph");
	return -1;
}

/*
 * Is suffix a proper suffix of name on a dot boundary?
 */
static bool
is_dot_suffix(const char *name, const char *suffix, size_t slen)
{
	size_t		nlen = strlen(name);

	return nlen > slen && name[nlen - slen - 1] == '.' && memcmp(name + nlen - slen, suffix, slen) == 0;
}

/*
 * Appends the names of the nodes that have q (lower-case) as a proper
 * suffix, ", " between them, cut with "..." after CANDIDATES_MAX bytes.
 */
static void
list_candidates(const il_dag *dag, const char *q, il_buf *out)
{
	size_t		qlen = strlen(q);
	size_t		start = out->len;
	size_t		i;
	bool		first = true;

	for (i = 0; i < dag->n; i++)
	{
		if (!is_dot_suffix(dag->names[i], q, qlen))
			continue;
		if (out->len - start > CANDIDATES_MAX)
		{
			il_buf_puts(out, ", ...");
			break;
		}
		if (!first)
			il_buf_puts(out, ", ");
		il_buf_puts(out, dag->names[i]);
		first = false;
	}
}

/*
 * Writes s lower-cased (ASCII) into b (reset first); returns its text.
 */
static const char *
lower_into(il_buf *b, const char *s)
{
	size_t		i;

	il_buf_reset(b);
	if (!il_buf_reserve(b, strlen(s)))
		return NULL;
	il_buf_puts(b, s);
	b->data[b->len] = '\0';
	if (b->oom)
		return NULL;
	for (i = 0; i < b->len; i++)
		if (b->data[i] >= 'A' && b->data[i] <= 'Z')
			b->data[i] = (char) (b->data[i] + ('a' - 'A'));
	return b->data;
}

/*
 * Resolves one name by the rules of il_dag.h: the one place they live.
 */
il_dag_resolution
il_dag_resolve(const il_dag *dag, const char *name, size_t len, size_t *node)
{
	const name_table *t = dag->index;
	const name_slot *slot;
	const char *dot1;
	const char *dot2;

	if (t == NULL)
		return IL_DAG_UNRESOLVED;
	slot = table_find(t, name, len);
	if (slot != NULL && slot->full != NONE32)
	{
		*node = slot->full;
		return IL_DAG_RESOLVED;
	}
	if (slot != NULL && slot->count == 1)
	{
		*node = slot->first;
		return IL_DAG_RESOLVED;
	}
	if (slot != NULL && slot->count > 1)
		return IL_DAG_AMBIGUOUS;
	/* c.s.t matches the two-part model s.t */
	dot1 = memchr(name, '.', len);
	dot2 = dot1 ? memchr(dot1 + 1, '.', (size_t) (name + len - dot1 - 1)) : NULL;
	if (dot2 != NULL && memchr(dot2 + 1, '.', (size_t) (name + len - dot2 - 1)) == NULL)
	{
		slot = table_find(t, dot1 + 1, (size_t) (name + len - dot1 - 1));
		if (slot != NULL && slot->full != NONE32)
		{
			*node = slot->full;
			return IL_DAG_RESOLVED;
		}
	}
	return IL_DAG_UNRESOLVED;
}

/*
 * Appends the models a name matches several of, for messages.
 */
void
il_dag_candidates(const il_dag *dag, const char *name, size_t len, il_buf *out)
{
	il_buf		q = IL_BUF_INIT;
	size_t		i;

	il_buf_append(&q, name, len);
	if (q.oom)
	{
		il_buf_free(&q);
		return;
	}
	for (i = 0; i < q.len; i++)
		q.data[i] = (char) lower_byte((unsigned char) q.data[i]);
	list_candidates(dag, il_buf_cstr(&q), out);
	il_buf_free(&q);
}

/*
 * Formats "PATH: model NAME" (or "model NAME") into out.
 */
static void
who(const il_dag_model *m, char *out, size_t cap)
{
	char		p[QUOTE_CAP];
	char		n[QUOTE_CAP];

	quote_text(n, sizeof(n), m->name);
	if (m->path != NULL)
	{
		quote_text(p, sizeof(p), m->path);
		snprintf(out, cap, "%s: model %s", p, n);
	}
	else
		snprintf(out, cap, "model %s", n);
}

/*
 * Builds the graph.
 */
int
il_dag_build(const il_dag_model *models, size_t n, il_dag **out, il_error *err)
{
	il_dag	   *dag;
	name_table *t;
	size_t	   *tmp = NULL;
	size_t		tmp_cap = 0;
	size_t		up_cap;
	size_t		nsrc = 0;
	size_t		src_cap = 0;
	size_t	   *src_offs = NULL;	/* offsets into src text, per source */
	il_buf		srcmem = IL_BUF_INIT;
	il_buf		scratch = IL_BUF_INIT;
	size_t	   *pos = NULL;
	size_t		i;
	size_t		keys;
	size_t		cap;
	int			ret = -1;

	*out = NULL;
	il_error_clear(err);
	if (n >= (size_t) NONE32 - 1)
	{
		il_error_set(err, IL_ERR_TOO_MANY_MODELS, 0, 0, "too many models: at most %u", NONE32 - 2);
		return -1;
	}
	dag = il_calloc(1, sizeof(il_dag));
	if (dag == NULL)
		return nomem(err);
	dag->n = n;
	dag->names = il_malloc((n + 1) * sizeof(char *));
	dag->input = il_malloc((n + 1) * sizeof(size_t));
	dag->up_off = il_calloc(n + 1, sizeof(size_t));
	dag->down_off = il_calloc(n + 1, sizeof(size_t));
	dag->src_off = il_calloc(n + 1, sizeof(size_t));
	dag->index = t = il_calloc(1, sizeof(name_table));
	tmp = il_malloc((n + 1) * sizeof(size_t));
	tmp_cap = n + 1;
	if (!dag->names || !dag->input || !dag->up_off || !dag->down_off || !dag->src_off ||
		!dag->index || !tmp)
	{
		nomem(err);
		goto done;
	}

	/* Nodes in name order; names must be unique. */
	for (i = 0; i < n; i++)
		dag->input[i] = i;
	merge_sort(dag->input, tmp, n, cmp_model_name, models);
	for (i = 0; i < n; i++)
	{
		dag->names[i] = models[dag->input[i]].name;
		if (i > 0 && strcmp(dag->names[i - 1], dag->names[i]) == 0)
		{
			char		qn[QUOTE_CAP];

			quote_text(qn, sizeof(qn), dag->names[i]);
			il_error_set(err, IL_ERR_DUPLICATE_MODEL, 0, 0, "model name %s is declared twice", qn);
			goto done;
		}
	}

	/* The table of full names and suffixes (load at most 1/2). */
	keys = 0;
	for (i = 0; i < n; i++)
	{
		const char *p;

		keys++;
		for (p = dag->names[i]; *p; p++)
			if (*p == '.')
				keys++;
	}
	cap = 16;
	while (cap < 2 * keys)
		cap *= 2;
	t->slots = il_calloc(cap, sizeof(name_slot));
	t->mask = cap - 1;
	if (t->slots == NULL)
	{
		nomem(err);
		goto done;
	}
	for (i = 0; i < n; i++)
	{
		const char *p;

		table_add(t, dag->names[i], (uint32_t) i, true);
		for (p = dag->names[i]; *p; p++)
			if (*p == '.' && p[1] != '\0')
				table_add(t, p + 1, (uint32_t) i, false);
	}

	/* Resolve every name of every model, node by node. */
	up_cap = n * 4 + 16;
	dag->up = il_malloc(up_cap * sizeof(size_t));
	if (dag->up == NULL)
	{
		nomem(err);
		goto done;
	}
	for (i = 0; i < n; i++)
	{
		const il_dag_model *m = &models[dag->input[i]];
		const il_strlist *lists[3];
		size_t		start = dag->up_off[i];
		size_t		k = start;
		size_t		src_start = nsrc;
		size_t		l;
		size_t		j;

		lists[0] = &m->references;
		lists[1] = &m->refs;
		lists[2] = &m->dependencies;
		for (l = 0; l < 3; l++)
		{
			for (j = 0; j < lists[l]->n; j++)
			{
				const char *q = lower_into(&scratch, lists[l]->items[j]);
				size_t		target = 0;
				il_dag_resolution r;
				char		w[256];
				char		qq[QUOTE_CAP];

				if (q == NULL)
				{
					nomem(err);
					goto done;
				}
				r = il_dag_resolve(dag, q, strlen(q), &target);
				if (r == IL_DAG_AMBIGUOUS)
				{
					il_buf		cands = IL_BUF_INIT;

					list_candidates(dag, q, &cands);
					who(m, w, sizeof(w));
					quote_text(qq, 64, q);
					il_error_set(err, IL_ERR_AMBIGUOUS_REFERENCE, 0, 0,
								 "%s references %s, which matches several models (%s): write the full name",
								 w, qq, il_buf_cstr(&cands));
					il_buf_free(&cands);
					goto done;
				}
				if (r == IL_DAG_UNRESOLVED && l == 1)
				{
					who(m, w, sizeof(w));
					quote_text(qq, 64, q);
					il_error_set(err, IL_ERR_UNKNOWN_REF, 0, 0,
								 "%s uses {{ ref('%s') }}, but no model of the repository has that name",
								 w, qq);
					goto done;
				}
				if (r == IL_DAG_UNRESOLVED)
				{
					if (nsrc == src_cap)
					{
						size_t		ncap = src_cap ? 2 * src_cap : 256;
						size_t	   *ns = il_realloc(src_offs, ncap * sizeof(size_t));

						if (ns == NULL)
						{
							nomem(err);
							goto done;
						}
						src_offs = ns;
						src_cap = ncap;
					}
					src_offs[nsrc++] = srcmem.len;
					il_buf_append(&srcmem, q, strlen(q) + 1);
					if (srcmem.oom)
					{
						nomem(err);
						goto done;
					}
					continue;
				}
				if (target == i)
					continue;	/* a model may read its own table */
				if (k == up_cap)
				{
					size_t	   *nu = il_realloc(dag->up, 2 * up_cap * sizeof(size_t));

					if (nu == NULL)
					{
						nomem(err);
						goto done;
					}
					dag->up = nu;
					up_cap *= 2;
				}
				dag->up[k++] = target;
			}
		}
		/* sort and merge this node's upstreams */
		if (k - start > 1)
		{
			size_t		o = start + 1;

			/* one model may name another many times: tmp may be too small */
			if (k - start > tmp_cap)
			{
				size_t	   *nt = il_realloc(tmp, (k - start) * sizeof(size_t));

				if (nt == NULL)
				{
					nomem(err);
					goto done;
				}
				tmp = nt;
				tmp_cap = k - start;
			}
			merge_sort(dag->up + start, tmp, k - start, cmp_size, NULL);
			for (j = start + 1; j < k; j++)
				if (dag->up[j] != dag->up[o - 1])
					dag->up[o++] = dag->up[j];
			k = o;
		}
		dag->up_off[i + 1] = k;
		/* sort and merge its sources (text offsets) */
		if (nsrc - src_start > 1)
		{
			size_t		o = src_start + 1;
			size_t	   *stmp = il_malloc((nsrc - src_start) * sizeof(size_t));

			if (stmp == NULL)
			{
				nomem(err);
				goto done;
			}
			merge_sort(src_offs + src_start, stmp, nsrc - src_start, cmp_src, srcmem.data);
			il_free(stmp);
			for (j = src_start + 1; j < nsrc; j++)
				if (strcmp(srcmem.data + src_offs[j], srcmem.data + src_offs[o - 1]) != 0)
					src_offs[o++] = src_offs[j];
			nsrc = o;
		}
		dag->src_off[i + 1] = nsrc;
	}
	dag->n_edges = dag->up_off[n];

	/* Sources as pointers. */
	dag->src = il_malloc((nsrc + 1) * sizeof(char *));
	if (dag->src == NULL)
	{
		nomem(err);
		goto done;
	}
	for (i = 0; i < nsrc; i++)
		dag->src[i] = srcmem.data + src_offs[i];
	dag->src_mem = srcmem.data;
	srcmem.data = NULL;

	/* Downstream rows: counting, then filling in ascending order of v. */
	dag->down = il_malloc((dag->n_edges + 1) * sizeof(size_t));
	pos = il_calloc(n + 1, sizeof(size_t));
	if (dag->down == NULL || pos == NULL)
	{
		nomem(err);
		goto done;
	}
	for (i = 0; i < dag->n_edges; i++)
		dag->down_off[dag->up[i] + 1]++;
	for (i = 0; i < n; i++)
		dag->down_off[i + 1] += dag->down_off[i];
	memcpy(pos, dag->down_off, n * sizeof(size_t));
	for (i = 0; i < n; i++)
	{
		size_t		j;

		for (j = dag->up_off[i]; j < dag->up_off[i + 1]; j++)
			dag->down[pos[dag->up[j]]++] = i;
	}
	*out = dag;
	dag = NULL;
	ret = 0;
done:
	il_dag_free(dag);
	il_free(tmp);
	il_free(src_offs);
	il_free(pos);
	il_buf_free(&srcmem);
	il_buf_free(&scratch);
	return ret;
}

/*
 * Kahn's algorithm with a min-heap: fills order[0..) and returns how many
 * nodes it placed (fewer than n when there is a cycle). placed, when not
 * NULL, marks the placed nodes.
 */
static size_t
kahn(const il_dag *dag, size_t *order, bool *placed, bool *oom)
{
	size_t		n = dag->n;
	size_t	   *indeg = il_malloc((n + 1) * sizeof(size_t));
	size_t	   *heap = il_malloc((n + 1) * sizeof(size_t));
	size_t		hn = 0;
	size_t		done = 0;
	size_t		i;

	*oom = false;
	if (indeg == NULL || heap == NULL)
	{
		il_free(indeg);
		il_free(heap);
		*oom = true;
		return 0;
	}
	/* nodes are pushed in ascending order, so the array is a heap already */
	for (i = 0; i < n; i++)
	{
		indeg[i] = dag->up_off[i + 1] - dag->up_off[i];
		if (indeg[i] == 0)
			heap[hn++] = i;
	}
	while (hn > 0)
	{
		size_t		u = heap[0];
		size_t		j;
		size_t		k;

		/* pop the smallest */
		heap[0] = heap[--hn];
		k = 0;
		for (;;)
		{
			size_t		l = 2 * k + 1;
			size_t		r = l + 1;
			size_t		s = k;
			size_t		sw;

			if (l < hn && heap[l] < heap[s])
				s = l;
			if (r < hn && heap[r] < heap[s])
				s = r;
			if (s == k)
				break;
			sw = heap[s];
			heap[s] = heap[k];
			heap[k] = sw;
			k = s;
		}
		order[done++] = u;
		if (placed)
			placed[u] = true;
		for (j = dag->down_off[u]; j < dag->down_off[u + 1]; j++)
		{
			size_t		v = dag->down[j];

			if (--indeg[v] == 0)
			{
				/* push */
				k = hn++;
				heap[k] = v;
				while (k > 0 && heap[(k - 1) / 2] > heap[k])
				{
					size_t		sw = heap[(k - 1) / 2];

					heap[(k - 1) / 2] = heap[k];
					heap[k] = sw;
					k = (k - 1) / 2;
				}
			}
		}
	}
	il_free(indeg);
	il_free(heap);
	return done;
}

/* A frame of the iterative Tarjan walk. */
typedef struct tarjan_frame
{
	size_t		v;
	size_t		next;			/* index into down[] of the next edge */
} tarjan_frame;

/*
 * The smallest node that lies on a cycle among the nodes Kahn could not
 * place (Tarjan's strongly connected components, iteratively); SIZE_MAX
 * when there is none or memory ran out.
 */
static size_t
smallest_on_cycle(const il_dag *dag, const bool *placed)
{
	size_t		n = dag->n;
	size_t	   *index = il_malloc((n + 1) * sizeof(size_t));
	size_t	   *low = il_malloc((n + 1) * sizeof(size_t));
	bool	   *on = il_calloc(n + 1, sizeof(bool));
	size_t	   *stack = il_malloc((n + 1) * sizeof(size_t));
	tarjan_frame *calls = il_malloc((n + 1) * sizeof(tarjan_frame));
	size_t		sp = 0;
	size_t		counter = 0;
	size_t		best = SIZE_MAX;
	size_t		s;

	if (!index || !low || !on || !stack || !calls)
		goto done;
	for (s = 0; s < n; s++)
		index[s] = SIZE_MAX;
	for (s = 0; s < n; s++)
	{
		size_t		cp = 0;

		if (placed[s] || index[s] != SIZE_MAX)
			continue;
		index[s] = low[s] = counter++;
		stack[sp++] = s;
		on[s] = true;
		calls[cp].v = s;
		calls[cp].next = dag->down_off[s];
		cp++;
		while (cp > 0)
		{
			tarjan_frame *f = &calls[cp - 1];
			size_t		v = f->v;

			if (f->next < dag->down_off[v + 1])
			{
				size_t		w = dag->down[f->next++];

				if (placed[w])
					continue;
				if (index[w] == SIZE_MAX)
				{
					index[w] = low[w] = counter++;
					stack[sp++] = w;
					on[w] = true;
					calls[cp].v = w;
					calls[cp].next = dag->down_off[w];
					cp++;
				}
				else if (on[w] && index[w] < low[v])
					low[v] = index[w];
				continue;
			}
			cp--;
			if (low[v] == index[v])
			{
				size_t		size = 0;
				size_t		minv = SIZE_MAX;
				size_t		w;

				do
				{
					w = stack[--sp];
					on[w] = false;
					size++;
					if (w < minv)
						minv = w;
				} while (w != v);
				if (size > 1 && minv < best)
					best = minv;
			}
			if (cp > 0 && low[v] < low[calls[cp - 1].v])
				low[calls[cp - 1].v] = low[v];
		}
	}
done:
	il_free(index);
	il_free(low);
	il_free(on);
	il_free(stack);
	il_free(calls);
	return best;
}

/*
 * Appends the canonical cycle, if any.
 */
bool
il_dag_cycle(const il_dag *dag, il_buf *out)
{
	size_t		n = dag->n;
	size_t	   *order = il_malloc((n + 1) * sizeof(size_t));
	bool	   *placed = il_calloc(n + 1, sizeof(bool));
	size_t	   *parent = NULL;
	size_t	   *queue = NULL;
	size_t	   *path = NULL;
	size_t		s;
	size_t		qh = 0;
	size_t		qt = 0;
	size_t		last = SIZE_MAX;
	bool		oom;
	bool		found = false;

	if (order == NULL || placed == NULL)
		goto done;
	if (kahn(dag, order, placed, &oom) == n || oom)
		goto done;
	s = smallest_on_cycle(dag, placed);
	if (s == SIZE_MAX)
		goto done;
	/* breadth-first from s, successors in name order, until an edge to s */
	parent = il_malloc((n + 1) * sizeof(size_t));
	queue = il_malloc((n + 1) * sizeof(size_t));
	path = il_malloc((n + 1) * sizeof(size_t));
	if (!parent || !queue || !path)
		goto done;
	for (qh = 0; qh < n; qh++)
		parent[qh] = SIZE_MAX;
	qh = 0;
	parent[s] = s;
	queue[qt++] = s;
	while (qh < qt && last == SIZE_MAX)
	{
		size_t		u = queue[qh++];
		size_t		j;

		for (j = dag->down_off[u]; j < dag->down_off[u + 1]; j++)
		{
			size_t		v = dag->down[j];

			if (v == s)
			{
				last = u;
				break;
			}
			if (parent[v] == SIZE_MAX)
			{
				parent[v] = u;
				queue[qt++] = v;
			}
		}
	}
	if (last != SIZE_MAX)
	{
		size_t		len = 0;
		size_t		v;

		for (v = last; v != s; v = parent[v])
			path[len++] = v;
		il_buf_puts(out, dag->names[s]);
		while (len > 0)
		{
			il_buf_puts(out, " -> ");
			il_buf_puts(out, dag->names[path[--len]]);
		}
		il_buf_puts(out, " -> ");
		il_buf_puts(out, dag->names[s]);
		found = true;
	}
done:
	il_free(order);
	il_free(placed);
	il_free(parent);
	il_free(queue);
	il_free(path);
	return found;
}

/*
 * Computes the topological order, or reports the cycle.
 */
int
il_dag_sort(il_dag *dag, il_error *err)
{
	size_t	   *order;
	bool		oom;
	il_buf		cyc = IL_BUF_INIT;

	il_error_clear(err);
	if (dag->order != NULL)
		return 0;
	order = il_malloc((dag->n + 1) * sizeof(size_t));
	if (order == NULL)
		return nomem(err);
	if (kahn(dag, order, NULL, &oom) == dag->n)
	{
		dag->order = order;
		return 0;
	}
	il_free(order);
	if (oom)
		return nomem(err);
	if (!il_dag_cycle(dag, &cyc) || cyc.oom)
	{
		il_buf_free(&cyc);
		return nomem(err);
	}
	/* names are ASCII (il_header checks them) */
	if (cyc.len > 200)
		il_error_set(err, IL_ERR_CYCLE, 0, 0, "dependency cycle: %.190s ...", cyc.data);
	else
		il_error_set(err, IL_ERR_CYCLE, 0, 0, "dependency cycle: %s", cyc.data);
	il_buf_free(&cyc);
	return -1;
}

/*
 * Finds a model by a user's name.
 */
int
il_dag_find(const il_dag *dag, const char *name, size_t *node, il_error *err)
{
	il_buf		q = IL_BUF_INIT;
	const char *s;
	char		qq[QUOTE_CAP];
	il_dag_resolution r;

	il_error_clear(err);
	if (name == NULL)
		name = "";
	r = il_dag_resolve(dag, name, strlen(name), node);
	if (r == IL_DAG_RESOLVED)
		return 0;
	s = lower_into(&q, name);
	if (s == NULL)
		return nomem(err);
	if (r == IL_DAG_AMBIGUOUS)
	{
		il_buf		cands = IL_BUF_INIT;

		list_candidates(dag, s, &cands);
		quote_text(qq, 64, s);
		il_error_set(err, IL_ERR_AMBIGUOUS_MODEL, 0, 0,
					 "model name %s is ambiguous: it matches %s; give the full name", qq, il_buf_cstr(&cands));
		il_buf_free(&cands);
	}
	else
	{
		quote_text(qq, sizeof(qq), s);
		il_error_set(err, IL_ERR_UNKNOWN_MODEL, 0, 0, "unknown model %s: no model of the repository has that name", qq);
	}
	il_buf_free(&q);
	return -1;
}

/*
 * Parses a lineage direction.
 */
int
il_dag_parse_direction(const char *s, unsigned *dirs, il_error *err)
{
	char		low[16];
	size_t		i;

	il_error_clear(err);
	for (i = 0; s != NULL && s[i] != '\0' && i < sizeof(low) - 1; i++)
		low[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char) (s[i] + ('a' - 'A')) : s[i];
	low[i] = '\0';
	if (s != NULL && s[i] == '\0')
	{
		if (strcmp(low, "up") == 0 || strcmp(low, "upstream") == 0)
		{
			*dirs = IL_DAG_UPSTREAM;
			return 0;
		}
		if (strcmp(low, "down") == 0 || strcmp(low, "downstream") == 0)
		{
			*dirs = IL_DAG_DOWNSTREAM;
			return 0;
		}
		if (strcmp(low, "both") == 0)
		{
			*dirs = IL_DAG_BOTH;
			return 0;
		}
	}
	{
		char		qq[32];

		quote_text(qq, sizeof(qq), s);
		il_error_set(err, IL_ERR_INVALID_DIRECTION, 0, 0,
					 "invalid direction \"%s\": use upstream, downstream or both", qq);
	}
	return -1;
}

/*
 * The name of one direction.
 */
const char *
il_dag_direction_name(unsigned direction)
{
	return direction == IL_DAG_UPSTREAM ? "upstream" : "downstream";
}

/*
 * Orders lineage rows by depth, then node (within one direction).
 */
static int
cmp_row(const void *a, const void *b)
{
	const il_dag_lineage_row *x = a;
	const il_dag_lineage_row *y = b;

	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	return x->node < y->node ? -1 : x->node > y->node;
}

/*
 * The lineage of a node.
 */
int
il_dag_lineage(const il_dag *dag, size_t node, unsigned dirs, const int *max_depth,
			   il_dag_lineage_row **rows, size_t *nrows, il_error *err)
{
	int		   *depth = NULL;
	size_t	   *queue = NULL;
	il_dag_lineage_row *r = NULL;
	size_t		nr = 0;
	int			pass;
	size_t		i;

	*rows = NULL;
	*nrows = 0;
	il_error_clear(err);
	if (max_depth != NULL && *max_depth < 0)
	{
		il_error_set(err, IL_ERR_INVALID_MAX_DEPTH, 0, 0, "invalid max_depth %d: give 0 or more, or null for no limit",
					 *max_depth);
		return -1;
	}
	if (node >= dag->n || (dirs & IL_DAG_BOTH) == 0)
	{
		il_error_set(err, IL_ERR_UNKNOWN_MODEL, 0, 0, "no such model in the graph");
		return -1;
	}
	depth = il_malloc((dag->n + 1) * sizeof(int));
	queue = il_malloc((dag->n + 1) * sizeof(size_t));
	r = il_malloc((2 * dag->n + 1) * sizeof(il_dag_lineage_row));
	if (!depth || !queue || !r)
	{
		il_free(depth);
		il_free(queue);
		il_free(r);
		return nomem(err);
	}
	/* downstream first, then upstream: the rows' order */
	for (pass = 0; pass < 2; pass++)
	{
		unsigned	dir = pass == 0 ? IL_DAG_DOWNSTREAM : IL_DAG_UPSTREAM;
		const size_t *off = dir == IL_DAG_DOWNSTREAM ? dag->down_off : dag->up_off;
		const size_t *adj = dir == IL_DAG_DOWNSTREAM ? dag->down : dag->up;
		size_t		qh = 0;
		size_t		qt = 0;
		size_t		start = nr;

		if ((dirs & dir) == 0)
			continue;
		for (i = 0; i < dag->n; i++)
			depth[i] = -1;
		depth[node] = 0;
		queue[qt++] = node;
		while (qh < qt)
		{
			size_t		u = queue[qh++];
			size_t		j;

			if (max_depth != NULL && depth[u] >= *max_depth)
				continue;
			for (j = off[u]; j < off[u + 1]; j++)
			{
				size_t		v = adj[j];

				if (depth[v] >= 0)
					continue;
				depth[v] = depth[u] + 1;
				queue[qt++] = v;
				r[nr].node = v;
				r[nr].direction = dir;
				r[nr].depth = depth[v];
				nr++;
			}
		}
		if (nr - start > 1)
			qsort(r + start, nr - start, sizeof(il_dag_lineage_row), cmp_row);
	}
	il_free(depth);
	il_free(queue);
	if (nr == 0)
	{
		il_free(r);
		r = NULL;
	}
	*rows = r;
	*nrows = nr;
	return 0;
}
