/*-------------------------------------------------------------------------
 *
 * il_diff.c
 *	  Comparing the models of two commits by name (il_repo_diff,
 *	  il_repo_compare) and the lineage of a model (il_repo_lineage). See
 *	  il_repo.h.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "il_repo_int.h"

/*
 * The name of a change kind.
 */
const char *
il_change_name(il_change change)
{
	switch (change)
	{
		case IL_CHANGE_ADDED:
			return "added";
		case IL_CHANGE_MODIFIED:
			return "modified";
		case IL_CHANGE_REMOVED:
			return "removed";
		case IL_CHANGE_COSMETIC:
			return "cosmetic";
	}
	return "modified";
}

/* A set of blob ids (open addressing; the ids are not copied). */
typedef struct id_set
{
	const char **slots;
	size_t		cap;			/* a power of two */
} id_set;

static bool
id_set_has(const id_set *set, const char *id)
{
	size_t		h = id_hash(id) & (set->cap - 1);

	while (set->slots[h] != NULL)
	{
		if (strcmp(set->slots[h], id) == 0)
			return true;
		h = (h + 1) & (set->cap - 1);
	}
	return false;
}

/*
 * The blob ids of a listing (symbolic links excluded); false when out of
 * memory.
 */
static bool
id_set_make(id_set *set, const il_git_blob_list *files)
{
	size_t		i;

	set->cap = 16;
	while (set->cap < 2 * files->n)
		set->cap *= 2;
	set->slots = il_calloc(set->cap, sizeof(char *));
	if (set->slots == NULL)
		return false;
	for (i = 0; i < files->n; i++)
	{
		const char *id = files->items[i].id;
		size_t		h;

		if (files->items[i].mode == IL_GIT_MODE_LINK)
			continue;
		h = id_hash(id) & (set->cap - 1);
		while (set->slots[h] != NULL && strcmp(set->slots[h], id) != 0)
			h = (h + 1) & (set->cap - 1);
		set->slots[h] = id;
	}
	return true;
}

/*
 * The error of a base commit that declares a model twice, once in a file
 * head has too (so base's partial set missed it) and once in b.
 */
static int
duplicate_at_base(const il_repo_models *base, const il_repo_model *b, const il_repo_model *h,
				  il_error *err)
{
	const il_git_blob_list *files = &((const repo_priv *) base->priv)->files;
	const char *other = h->path;
	char		p1[PATH_CAP];
	char		p2[PATH_CAP];
	size_t		i;

	for (i = 0; i < files->n; i++)
		if (strcmp(files->items[i].id, h->blob) == 0)
		{
			other = files->items[i].path;
			break;
		}
	if (strcmp(other, b->path) < 0)
	{
		il_git_format_path(p1, sizeof(p1), other);
		il_git_format_path(p2, sizeof(p2), b->path);
	}
	else
	{
		il_git_format_path(p1, sizeof(p1), b->path);
		il_git_format_path(p2, sizeof(p2), other);
	}
	il_error_set(err, IL_ERR_DUPLICATE_MODEL, 0, 0,
				 "at base commit %.12s: model name %.60s is declared twice, in %s and in %s: rename one of them",
				 base->commit, b->name, p1, p2);
	return -1;
}

/*
 * Compares by name. base_blobs NULL: base is a whole model set. Else base
 * holds only the models whose blob head lacks and base_blobs every blob of
 * base: a head model missing from base is unchanged when base has its
 * blob (the same blob is the same model), else added.
 */
static int
compare_sets(const il_repo_models *base, const id_set *base_blobs, const il_repo_models *head,
			 il_repo_change **rows, size_t *nrows, il_error *err)
{
	il_repo_change *r = il_malloc((base->n + head->n + 1) * sizeof(il_repo_change));
	size_t		i = 0;
	size_t		j = 0;
	size_t		n = 0;

	*rows = NULL;
	*nrows = 0;
	il_error_clear(err);
	if (r == NULL)
		return il_repo_nomem(err);
	while (i < base->n || j < head->n)
	{
		int			c;

		if (i == base->n)
			c = 1;
		else if (j == head->n)
			c = -1;
		else
			c = strcmp(base->models[i].name, head->models[j].name);
		if (c < 0)
		{
			r[n].model = base->models[i].name;
			r[n].change = IL_CHANGE_REMOVED;
			r[n].path = base->models[i].path;
			r[n].unknown_refs = NULL;
			r[n].n_unknown_refs = 0;
			n++;
			i++;
		}
		else if (c > 0 && base_blobs != NULL && id_set_has(base_blobs, head->models[j].blob))
			j++;
		else if (c > 0)
		{
			r[n].model = head->models[j].name;
			r[n].change = IL_CHANGE_ADDED;
			r[n].path = head->models[j].path;
			r[n].unknown_refs = head->models[j].unknown_refs;
			r[n].n_unknown_refs = head->models[j].n_unknown_refs;
			n++;
			j++;
		}
		else
		{
			const il_repo_model *b = &base->models[i];
			const il_repo_model *h = &head->models[j];

			if (base_blobs != NULL && id_set_has(base_blobs, h->blob))
			{
				/* base has head's file for this name and b besides */
				il_free(r);
				return duplicate_at_base(base, b, h, err);
			}
			if (strcmp(b->blob, h->blob) != 0)
			{
				r[n].model = h->name;
				r[n].change = strcmp(b->fingerprint, h->fingerprint) != 0 ?
					IL_CHANGE_MODIFIED : IL_CHANGE_COSMETIC;
				r[n].path = h->path;
				r[n].unknown_refs = h->unknown_refs;
				r[n].n_unknown_refs = h->n_unknown_refs;
				n++;
			}
			i++;
			j++;
		}
	}
	if (n == 0)
	{
		il_free(r);
		r = NULL;
	}
	*rows = r;
	*nrows = n;
	return 0;
}

/*
 * Compares two model sets by name.
 */
int
il_repo_compare(const il_repo_models *base, const il_repo_models *head,
				il_repo_change **rows, size_t *nrows, il_error *err)
{
	return compare_sets(base, NULL, head, rows, nrows, err);
}

/*
 * Frees a diff (NULL is allowed).
 */
void
il_repo_diff_free(il_repo_diff_result *diff)
{
	if (diff == NULL)
		return;
	il_repo_models_free(diff->base);
	il_repo_models_free(diff->head);
	il_free(diff->rows);
	il_free(diff);
}

/*
 * Compares two commits by model name.
 */
int
il_repo_diff(il_git_repo *git, const char *base, const char *head, const char *models_dir,
			 const il_parse_cache *cache, il_repo_diff_result **out, il_error *err)
{
	loader		L;
	snap		s[2];
	il_repo_diff_result *d = NULL;
	id_set		base_blobs = {NULL, 0};
	int			ret = -1;

	*out = NULL;
	il_error_clear(err);
	memset(&L, 0, sizeof(L));
	memset(s, 0, sizeof(s));
	L.git = git;
	L.cache = cache;
	L.ar = il_arena_new();
	d = il_calloc(1, sizeof(il_repo_diff_result));
	if (L.ar == NULL || d == NULL)
	{
		il_repo_nomem(err);
		goto done;
	}
	s[0].label = "base";
	s[1].label = "head";
	/* base: only what head lacks (a blob both list is the same model) */
	s[0].own_only = true;
	s[0].index = 0;
	s[1].index = 1;
	s[1].read_sources = true;
	if (head != NULL && strcmp(head, IL_GIT_NULL_OID) == 0)
	{
		il_error_set(err, IL_ERR_UNKNOWN_COMMIT, 0, 0,
					 "the null commit " IL_GIT_NULL_OID " has no models: it can be a base, never a head");
		goto done;
	}
	/* the head decides the default models directory for both */
	if (il_snap_open(git, head, models_dir, &s[1], err) != 0)
		goto done;
	if (base != NULL && strcmp(base, IL_GIT_NULL_OID) == 0)
	{
		/* nothing deployed: a base without models */
		memcpy(s[0].commit, IL_GIT_NULL_OID, sizeof(s[0].commit));
		if (il_git_normalize_dir(s[1].models_dir, &s[0].models_dir, err) != 0)
			goto done;
	}
	else if (il_snap_open(git, base, s[1].models_dir, &s[0], err) != 0)
	{
		/* a base whose tree lacks the models directory has no models */
		if (!il_error_is(err, IL_ERR_NO_MODELS_DIR))
			goto done;
		il_error_clear(err);
	}
	if (il_loader_prepare(&L, s, 2, err) != 0 ||
		il_snap_collect(&L, &s[0], err) != 0 ||
		il_snap_collect(&L, &s[1], err) != 0 ||
		il_snap_finish(&s[0], &d->base, err) != 0 ||
		il_snap_finish(&s[1], &d->head, err) != 0)
		goto done;
	/* the head's unknown references need its graph; its errors are not the diff's */
	if (il_repo_build_dag(d->head, err) != 0)
	{
		if (il_error_is(err, IL_ERR_OUT_OF_MEMORY))
			goto done;
		il_error_clear(err);
	}
	if (!id_set_make(&base_blobs, &((repo_priv *) d->base->priv)->files))
	{
		il_repo_nomem(err);
		goto done;
	}
	if (compare_sets(d->base, &base_blobs, d->head, &d->rows, &d->n, err) != 0)
		goto done;
	d->stats = L.stats;
	d->base->stats = L.stats;
	d->head->stats = L.stats;
	*out = d;
	d = NULL;
	ret = 0;
done:
	il_free(base_blobs.slots);
	il_repo_diff_free(d);
	il_snap_free(&s[0]);
	il_snap_free(&s[1]);
	il_loader_free(&L);
	return ret;
}

/*
 * The lineage of a model.
 */
int
il_repo_lineage(il_repo_models *m, const char *model, const char *direction,
				const int *max_depth, il_repo_lineage_row **rows, size_t *nrows, il_error *err)
{
	unsigned	dirs = IL_DAG_BOTH;
	size_t		node;
	il_dag_lineage_row *dr = NULL;
	size_t		n = 0;
	size_t		i;
	il_repo_lineage_row *r;

	*rows = NULL;
	*nrows = 0;
	il_error_clear(err);
	if (direction != NULL && il_dag_parse_direction(direction, &dirs, err) != 0)
		return -1;
	if (il_repo_build_dag(m, err) != 0 ||
		il_dag_find(m->dag, model, &node, err) != 0 ||
		il_dag_lineage(m->dag, node, dirs, max_depth, &dr, &n, err) != 0)
		return -1;
	if (n == 0)
		return 0;
	r = il_malloc(n * sizeof(il_repo_lineage_row));
	if (r == NULL)
	{
		il_free(dr);
		return il_repo_nomem(err);
	}
	for (i = 0; i < n; i++)
	{
		r[i].model = m->models[dr[i].node].name;
		r[i].direction = il_dag_direction_name(dr[i].direction);
		r[i].depth = dr[i].depth;
	}
	il_free(dr);
	*rows = r;
	*nrows = n;
	return 0;
}
