/*-------------------------------------------------------------------------
 *
 * il_load.c
 *	  Loading the models of a commit (il_repo_load), the graph of a model
 *	  set (il_repo_build_dag), and the snapshots and loader that
 *	  il_repo_diff shares. See il_repo.h.
 *
 * One load: resolve the commit, list the *.sql blobs (il_git), give the
 * cache every distinct blob id at once, then walk the files in path order
 * and make each distinct blob's record once (cache hit, or read + parse +
 * put). A record is always decoded from its bytes, also right after
 * parsing, so a cold load and a warm one take the same path to the result.
 * The decoded strings live in an arena shared (reference-counted) by the
 * model sets of one call, so a diff decodes a blob once for both commits.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "il_repo_int.h"

/*
 * Sets out_of_memory.
 */
int
il_repo_nomem(il_error *err)
{
	il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory while loading the models");
	return -1;
}

/*
 * Prefixes err's message with "at base|head commit X: " for a diff.
 */
void
il_repo_label_error(const snap *s, il_error *err)
{
	il_buf		b = IL_BUF_INIT;

	if (s->label == NULL)
		return;
	il_buf_printf(&b, "at %s commit %.12s: %s", s->label, s->commit, err->message);
	if (!b.oom)
		il_error_set_message(err, b.data);
	il_buf_free(&b);
}

/*
 * Reads the declaration of sources of a snapshot (s->decl stays NULL when
 * the commit has none).
 */
static int
read_sources(il_git_repo *git, snap *s, il_error *err)
{
	il_buf		path = IL_BUF_INIT;
	il_buf		content = IL_BUF_INIT;
	char		id[IL_GIT_OID_HEX_LEN + 1];
	char		q[PATH_CAP];
	uint32_t	mode;
	bool		found;
	size_t		size = 0;
	int			ret = -1;

	if (s->models_dir[0] != '\0')
		il_buf_printf(&path, "%s/", s->models_dir);
	il_buf_puts(&path, IL_SOURCES_FILE);
	if (path.oom)
		return il_repo_nomem(err);
	if (il_git_find_entry(git, s->commit, path.data, &found, id, &mode, err) != 0)
		goto done;
	if (!found)
	{
		ret = 0;
		goto done;
	}
	il_git_format_path(q, sizeof(q), path.data);
	if (mode != IL_GIT_MODE_FILE && mode != IL_GIT_MODE_EXEC)
	{
		il_error_set(err, IL_ERR_INVALID_SOURCES, 0, 0,
					 "%s is not a regular file (a symbolic link, a directory or a submodule): make it a text file with one source a line",
					 q);
		goto done;
	}
	if (il_git_read_blob(git, id, IL_SOURCES_MAX_SIZE, &content, &size, err) != 0)
	{
		if (il_error_is(err, IL_ERR_FILE_TOO_LARGE))
			il_error_set(err, IL_ERR_INVALID_SOURCES, 0, 0,
						 "%s: the file has %zu bytes, more than the %zu a declaration of sources may have",
						 q, size, IL_SOURCES_MAX_SIZE);
		goto done;
	}
	if (il_sources_parse(content.data, content.len, path.data, &s->decl, err) != 0)
		goto done;
	s->decl_path = il_strdup(path.data);
	if (s->decl_path == NULL)
	{
		il_repo_nomem(err);
		goto done;
	}
	ret = 0;
done:
	if (ret != 0)
		il_repo_label_error(s, err);
	il_buf_free(&path);
	il_buf_free(&content);
	return ret;
}

/*
 * Resolves the commit, settles the models directory and lists the files.
 * models_dir NULL: the default of this commit.
 */
int
il_snap_open(il_git_repo *git, const char *spec, const char *models_dir, snap *s, il_error *err)
{
	const char *def;

	if (il_git_resolve(git, spec, s->commit, err) != 0)
		return -1;
	if (models_dir == NULL)
	{
		if (il_git_default_models_dir(git, s->commit, &def, err) != 0)
			return -1;
		models_dir = def;
	}
	if (il_git_normalize_dir(models_dir, &s->models_dir, err) != 0)
		return -1;
	if (il_git_list_sql(git, s->commit, s->models_dir, 0, &s->files, err) != 0)
		return -1;
	return s->read_sources ? read_sources(git, s, err) : 0;
}

/*
 * Frees what a snapshot still owns.
 */
void
il_snap_free(snap *s)
{
	il_free(s->models_dir);
	s->models_dir = NULL;
	il_git_blob_list_free(&s->files);
	il_free(s->entry);
	s->entry = NULL;
	il_sources_free(s->decl);
	s->decl = NULL;
	il_free(s->decl_path);
	s->decl_path = NULL;
	il_repo_models_free(s->out);
	s->out = NULL;
}

/*
 * Collects the distinct blob ids of the snapshots in order of first
 * appearance (path order, snapshot by snapshot), maps every file to its
 * id, and hands the ids to the cache's prefetch.
 */
int
il_loader_prepare(loader *L, snap *snaps, int nsnaps, il_error *err)
{
	size_t		total = 0;
	size_t		cap = 16;
	size_t	   *table;
	size_t		i;
	int			s;

	for (s = 0; s < nsnaps; s++)
		total += snaps[s].files.n;
	while (cap < 2 * total)
		cap *= 2;
	L->ids = il_malloc((total + 1) * sizeof(char *));
	table = il_malloc(cap * sizeof(size_t));
	if (L->ids == NULL || table == NULL)
	{
		il_free(table);
		return il_repo_nomem(err);
	}
	for (i = 0; i < cap; i++)
		table[i] = SIZE_MAX;
	L->nids = 0;
	for (s = 0; s < nsnaps; s++)
	{
		snap	   *sn = &snaps[s];

		sn->entry = il_malloc((sn->files.n + 1) * sizeof(size_t));
		if (sn->entry == NULL)
		{
			il_free(table);
			return il_repo_nomem(err);
		}
		for (i = 0; i < sn->files.n; i++)
		{
			const char *id = sn->files.items[i].id;
			size_t		h;

			sn->entry[i] = SIZE_MAX;
			if (sn->files.items[i].mode == IL_GIT_MODE_LINK)
				continue;
			h = id_hash(id) & (cap - 1);
			while (table[h] != SIZE_MAX && strcmp(L->ids[table[h]], id) != 0)
				h = (h + 1) & (cap - 1);
			if (table[h] == SIZE_MAX)
			{
				table[h] = L->nids;
				L->ids[L->nids++] = id;
			}
			sn->entry[i] = table[h];
		}
		L->stats.files += sn->files.n;
	}
	il_free(table);
	L->entries = il_calloc(L->nids + 1, sizeof(blob_entry));
	if (L->entries == NULL)
		return il_repo_nomem(err);
	for (s = 0; s < nsnaps; s++)
		for (i = 0; i < snaps[s].files.n; i++)
			if (snaps[s].entry[i] != SIZE_MAX)
				L->entries[snaps[s].entry[i]].snaps |= (unsigned char) (1u << s);
	L->stats.blobs = L->nids;
	if (L->cache != NULL && L->cache->prefetch != NULL && L->nids > 0)
		L->cache->prefetch(L->cache->arg, L->ids, L->nids);
	return 0;
}

/*
 * Makes the record of blob k: from the cache, or by reading and parsing it
 * (then put into the cache). A model is decoded into *slot.
 */
static int
entry_make(loader *L, size_t k, il_repo_model *slot, il_error *err)
{
	const char *id = L->ids[k];
	blob_entry *e = &L->entries[k];
	const il_parse_cache *c = L->cache;
	bool		too_large = false;

	if (c != NULL && c->get != NULL)
	{
		size_t		len = 0;
		const uint8_t *rec = c->get(c->arg, id, &len);

		if (rec != NULL)
		{
			if (il_record_decode(rec, len, L->ar, e, slot))
			{
				L->stats.cache_hits++;
				return 0;
			}
			L->stats.stale++;
		}
	}
	il_buf_reset(&L->content);
	il_buf_reset(&L->record);
	if (il_git_read_blob(L->git, id, IL_REPO_MAX_FILE_SIZE, &L->content, NULL, err) != 0)
	{
		if (!il_error_is(err, IL_ERR_FILE_TOO_LARGE))
			return -1;
		il_record_error(&L->record, IL_ERR_FILE_TOO_LARGE, il_errcode_name(IL_ERR_FILE_TOO_LARGE), 0, 0, err->message);
		il_error_clear(err);
		if (L->record.oom)
			return il_repo_nomem(err);
		/*
		 * Not cached: the size comes from the object's header, which git
		 * does not check against the id the way it checks the content, so
		 * a crafted object must not speak for its id in a shared cache.
		 */
		too_large = true;
	}
	else if (il_repo_parse_text(L->content.data, L->content.len, &L->record, err) != 0)
		return -1;
	L->stats.parsed++;
	if (!il_record_decode((const uint8_t *) L->record.data, L->record.len, L->ar, e, slot))
		return il_repo_nomem(err);		/* our own record: only memory can fail */
	if (c != NULL && c->put != NULL && !too_large)
		c->put(c->arg, id, (const uint8_t *) L->record.data, L->record.len);
	return 0;
}

/*
 * The catalogue's code of a file error record (the record's string lives in
 * the arena, which may be gone when the caller reads the error; and a record
 * names one of five codes, any other is read as parse_limit).
 */
static il_errcode
record_code(const char *code)
{
	il_errcode	c = il_errcode_lookup(code);

	switch (c)
	{
		case IL_ERR_BINARY_FILE:
		case IL_ERR_FILE_TOO_LARGE:
		case IL_ERR_INVALID_HEADER:
		case IL_ERR_SYNTAX_ERROR:
			return c;
		default:
			return IL_ERR_PARSE_LIMIT;
	}
}

/*
 * Reports a file's error record: "PATH:LINE:COLUMN: message".
 */
static int
file_error(const snap *s, const char *path, const blob_entry *e, il_error *err)
{
	char		q[PATH_CAP];
	il_errcode	code = record_code(e->code);
	il_buf		b = IL_BUF_INIT;

	il_git_format_path(q, sizeof(q), path);
	if (e->line > 0 && e->column > 0)
		il_buf_printf(&b, "%s:%d:%d: %s", q, e->line, e->column, e->message);
	else if (e->line > 0)
		il_buf_printf(&b, "%s:%d: %s", q, e->line, e->message);
	else
		il_buf_printf(&b, "%s: %s", q, e->message);
	il_error_set(err, code, e->line, e->line > 0 ? e->column : 0, "out of memory");
	if (!b.oom)
		il_error_set_message(err, b.data);
	il_buf_free(&b);
	il_repo_label_error(s, err);
	return -1;
}

/* A model's sort key: its name, its path, where it is. */
typedef struct model_key
{
	const char *name;
	const char *path;
	size_t		entry;			/* the model's slot before sorting */
} model_key;

/*
 * Orders model keys by name, then path.
 */
static int
cmp_model_key(const void *a, const void *b)
{
	const model_key *x = a;
	const model_key *y = b;
	int			c = strcmp(x->name, y->name);

	return c != 0 ? c : strcmp(x->path, y->path);
}

/*
 * Frees a model set (NULL is allowed).
 */
void
il_repo_models_free(il_repo_models *m)
{
	repo_priv  *p;

	if (m == NULL)
		return;
	p = m->priv;
	if (p != NULL)
	{
		il_arena_release(p->ar);
		il_git_blob_list_free(&p->files);
		il_free(p->models_dir);
		il_free(p->up_names);
		il_sources_free(p->decl);
		il_free(p->decl_path);
		il_free(p->unknown);
		il_free(p->unknown_mem);
		il_free(p);
	}
	il_dag_free(m->dag);
	/* models and skipped live in the arena */
	il_free(m);
}

/*
 * Makes a listed snapshot's model set (s->out), models still in path
 * order: makes every file's record in path order (so the first failing
 * file is reported), decoding each model into its slot, or copying it from
 * the slot where another file with the same blob was decoded. Slots do not
 * move until il_snap_finish, so the pointers of the entries stay valid across
 * the snapshots of one call.
 */
int
il_snap_collect(loader *L, snap *s, il_error *err)
{
	il_repo_models *m;
	repo_priv  *p;
	size_t		i;

	m = il_calloc(1, sizeof(il_repo_models));
	p = il_calloc(1, sizeof(repo_priv));
	if (m == NULL || p == NULL)
	{
		il_free(m);
		il_free(p);
		return il_repo_nomem(err);
	}
	m->priv = p;
	s->out = m;
	p->ar = L->ar;
	L->ar->refs++;
	p->files = s->files;
	memset(&s->files, 0, sizeof(s->files));
	p->models_dir = s->models_dir;
	s->models_dir = NULL;
	memcpy(m->commit, s->commit, sizeof(m->commit));
	m->models_dir = p->models_dir;
	p->decl = s->decl;
	s->decl = NULL;
	p->decl_path = s->decl_path;
	s->decl_path = NULL;
	m->sources_file = p->decl_path;
	m->n_declared = il_sources_count(p->decl);
	/* room for every file; pages of unused slots are never touched */
	/* in the arena, whose blocks the process reuses */
	m->models = il_arena_alloc(L->ar, (p->files.n + 1) * sizeof(il_repo_model));
	m->skipped = il_arena_alloc(L->ar, (p->files.n + 1) * sizeof(il_repo_skipped));
	if (m->models == NULL || m->skipped == NULL)
		return il_repo_nomem(err);
	for (i = 0; i < p->files.n; i++)
	{
		const il_git_blob *f = &p->files.items[i];
		size_t		k = s->entry[i];
		blob_entry *e = k == SIZE_MAX ? NULL : &L->entries[k];
		il_repo_model *slot = &m->models[m->n];

		if (s->own_only && (e == NULL || e->snaps != (1u << s->index)))
			continue;
		if (e != NULL && e->type == 0)
		{
			if (entry_make(L, k, slot, err) != 0)
			{
				il_repo_label_error(s, err);
				return -1;
			}
		}
		else if (e != NULL && e->type == 'M')
			*slot = *e->m;
		if (e != NULL && e->type == 'E')
			return file_error(s, f->path, e, err);
		if (e == NULL || e->type == 'S')
		{
			il_repo_skipped *sk = &m->skipped[m->n_skipped++];

			sk->path = f->path;
			memcpy(sk->blob, f->id, sizeof(sk->blob));
			sk->reason = e == NULL ? "symbolic link" : e->reason;
			continue;
		}
		slot->path = f->path;
		memcpy(slot->blob, f->id, sizeof(slot->blob));
		slot->unknown_refs = NULL;
		slot->n_unknown_refs = 0;
		m->n++;
	}
	return 0;
}

/*
 * Sorts a collected model set by name (small keys sorted, then the models
 * permuted in place) and checks that names are unique. On success the set
 * moves to *out.
 */
int
il_snap_finish(snap *s, il_repo_models **out, il_error *err)
{
	il_repo_models *m = s->out;
	model_key  *keys = il_malloc((m->n + 1) * sizeof(model_key));
	size_t		i;

	if (keys == NULL)
		return il_repo_nomem(err);
	for (i = 0; i < m->n; i++)
	{
		keys[i].name = m->models[i].name;
		keys[i].path = m->models[i].path;
		keys[i].entry = i;
	}
	if (m->n > 1)
		qsort(keys, m->n, sizeof(model_key), cmp_model_key);
	/* position i takes the model at keys[i].entry: follow each cycle once */
	for (i = 0; i < m->n; i++)
	{
		size_t		j = i;
		il_repo_model tmp;

		if (keys[i].entry == i || keys[i].entry == SIZE_MAX)
			continue;
		tmp = m->models[i];
		for (;;)
		{
			size_t		from = keys[j].entry;

			keys[j].entry = SIZE_MAX;
			if (from == i)
			{
				m->models[j] = tmp;
				break;
			}
			m->models[j] = m->models[from];
			j = from;
		}
	}
	il_free(keys);
	for (i = 1; i < m->n; i++)
	{
		if (strcmp(m->models[i - 1].name, m->models[i].name) == 0)
		{
			char		a[PATH_CAP];
			char		b[PATH_CAP];

			il_git_format_path(a, sizeof(a), m->models[i - 1].path);
			il_git_format_path(b, sizeof(b), m->models[i].path);
			il_error_set(err, IL_ERR_DUPLICATE_MODEL, 0, 0,
						 "model name %.60s is declared twice, in %s and in %s: rename one of them",
						 m->models[i].name, a, b);
			il_repo_label_error(s, err);
			return -1;
		}
	}
	*out = m;
	s->out = NULL;
	return 0;
}

/*
 * Frees a loader's working memory (the arena keeps its own references).
 */
void
il_loader_free(loader *L)
{
	il_free(L->ids);
	il_free(L->entries);
	il_buf_free(&L->content);
	il_buf_free(&L->record);
	il_arena_release(L->ar);
}

/*
 * Lists each model's unknown references (the sources of node i of dag,
 * which is model i), copied out of the graph: they stay when its order
 * fails.
 */
static int
classify_sources(il_repo_models *m, const il_dag *dag, il_error *err)
{
	repo_priv  *p = m->priv;
	il_sources *schemas = NULL;
	const char **names;
	size_t		count = 0;
	size_t		bytes = 0;
	size_t		i;
	size_t		k;
	char	   *w;
	int			pass;
	int			rc;

	il_free(p->unknown);
	il_free(p->unknown_mem);
	p->unknown = NULL;
	p->unknown_mem = NULL;
	for (i = 0; i < m->n; i++)
	{
		m->models[i].unknown_refs = NULL;
		m->models[i].n_unknown_refs = 0;
	}
	if (dag->src_off[m->n] == 0)
		return 0;				/* no external reference at all */
	if (p->decl == NULL)
	{
		names = il_malloc((m->n + 1) * sizeof(char *));
		if (names == NULL)
			return il_repo_nomem(err);
		for (i = 0; i < m->n; i++)
			names[i] = m->models[i].name;
		rc = il_sources_model_schemas(names, m->n, &schemas, err);
		il_free(names);
		if (rc != 0)
			return -1;
	}
	/* pass 0 counts, pass 1 copies */
	w = NULL;
	for (pass = 0; pass < 2; pass++)
	{
		size_t		at = 0;

		for (i = 0; i < m->n; i++)
		{
			il_repo_model *md = &m->models[i];

			if (pass == 1)
				md->unknown_refs = p->unknown + at;
			for (k = dag->src_off[i]; k < dag->src_off[i + 1]; k++)
			{
				const char *r = dag->src[k];

				if (!il_sources_unknown(p->decl, schemas, r))
					continue;
				if (pass == 0)
				{
					count++;
					bytes += strlen(r) + 1;
					continue;
				}
				p->unknown[at++] = w;
				memcpy(w, r, strlen(r) + 1);
				w += strlen(r) + 1;
				md->n_unknown_refs++;
			}
			if (pass == 1 && md->n_unknown_refs == 0)
				md->unknown_refs = NULL;
		}
		if (pass == 0)
		{
			if (count == 0)
				break;
			p->unknown = il_malloc(count * sizeof(char *));
			p->unknown_mem = il_malloc(bytes);
			if (p->unknown == NULL || p->unknown_mem == NULL)
			{
				il_sources_free(schemas);
				return il_repo_nomem(err);
			}
			w = p->unknown_mem;
		}
	}
	il_sources_free(schemas);
	return 0;
}

/*
 * Builds the graph of a model set and its order.
 */
int
il_repo_build_dag(il_repo_models *m, il_error *err)
{
	repo_priv  *p = m->priv;
	il_dag_model *dm;
	il_dag	   *dag = NULL;
	size_t		i;

	il_error_clear(err);
	if (m->dag != NULL)
		return 0;
	dm = il_malloc((m->n + 1) * sizeof(il_dag_model));
	if (dm == NULL)
		return il_repo_nomem(err);
	for (i = 0; i < m->n; i++)
	{
		dm[i].name = m->models[i].name;
		dm[i].path = m->models[i].path;
		dm[i].references = m->models[i].references;
		dm[i].refs = m->models[i].refs;
		dm[i].dependencies = m->models[i].dependencies;
	}
	if (il_dag_build(dm, m->n, &dag, err) != 0)
	{
		il_free(dm);
		return -1;
	}
	il_free(dm);
	if (classify_sources(m, dag, err) != 0)
	{
		il_dag_free(dag);
		return -1;
	}
	if (il_dag_sort(dag, err) != 0)
	{
		il_dag_free(dag);
		return -1;
	}
	il_free(p->up_names);
	p->up_names = il_malloc((dag->n_edges + 1) * sizeof(char *));
	if (p->up_names == NULL)
	{
		il_dag_free(dag);
		return il_repo_nomem(err);
	}
	for (i = 0; i < dag->n_edges; i++)
		p->up_names[i] = dag->names[dag->up[i]];
	for (i = 0; i < m->n; i++)
	{
		il_repo_model *md = &m->models[i];

		/* names are unique and both are in name order: node i is model i */
		md->upstream = p->up_names + dag->up_off[i];
		md->n_upstream = dag->up_off[i + 1] - dag->up_off[i];
		md->sources = dag->src + dag->src_off[i];
		md->n_sources = dag->src_off[i + 1] - dag->src_off[i];
	}
	m->dag = dag;
	return 0;
}

/*
 * Loads the models of a commit.
 */
int
il_repo_load(il_git_repo *git, const char *commit, const char *models_dir,
			 const il_parse_cache *cache, unsigned flags, il_repo_models **out, il_error *err)
{
	loader		L;
	snap		s;
	int			ret = -1;

	*out = NULL;
	il_error_clear(err);
	memset(&L, 0, sizeof(L));
	memset(&s, 0, sizeof(s));
	L.git = git;
	L.cache = cache;
	L.ar = il_arena_new();
	if (L.ar == NULL)
		return il_repo_nomem(err);
	s.read_sources = true;
	if (il_snap_open(git, commit, models_dir, &s, err) != 0 ||
		il_loader_prepare(&L, &s, 1, err) != 0 ||
		il_snap_collect(&L, &s, err) != 0 ||
		il_snap_finish(&s, out, err) != 0)
		goto done;
	(*out)->stats = L.stats;
	if ((flags & IL_REPO_DAG) != 0 && il_repo_build_dag(*out, err) != 0)
	{
		il_repo_models_free(*out);
		*out = NULL;
		goto done;
	}
	ret = 0;
done:
	il_snap_free(&s);
	il_loader_free(&L);
	return ret;
}
