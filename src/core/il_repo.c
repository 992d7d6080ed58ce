/*-------------------------------------------------------------------------
 *
 * il_repo.c
 *	  The models of a repository at a commit; diff; lineage. See il_repo.h.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "il_jsonw.h"
#include "il_repo.h"

/* ---- arena ---- */

typedef struct arena_block
{
	struct arena_block *next;
	size_t		used;
	size_t		cap;
	char		data[];
} arena_block;

typedef struct arena
{
	arena_block *head;
	int			refs;
} arena;

#define ARENA_BLOCK (256 * 1024)

/*
 * Freed blocks kept for the next load of this process, up to POOL_MAX
 * bytes: fresh memory costs a page fault per page on first touch, which
 * was a third of a warm load's time. Not thread-safe, like the rest of the
 * loader's callers (one backend, one command).
 */
#define POOL_MAX ((size_t) 64 << 20)
static arena_block *pool = NULL;
static size_t pool_bytes = 0;

/* A block of at least cap bytes: from the pool (first fit), else new. */
static arena_block *
block_get(size_t cap)
{
	arena_block **pp;

	for (pp = &pool; *pp != NULL; pp = &(*pp)->next)
	{
		arena_block *b = *pp;

		if (b->cap >= cap && b->cap <= 2 * cap + ARENA_BLOCK)
		{
			*pp = b->next;
			pool_bytes -= b->cap;
			return b;
		}
	}
	pp = malloc(sizeof(arena_block) + cap);
	if (pp == NULL)
		return NULL;
	((arena_block *) pp)->cap = cap;
	return (arena_block *) pp;
}

/* Back to the pool, or freed when the pool is full. */
static void
block_put(arena_block *b)
{
	if (pool_bytes + b->cap > POOL_MAX)
	{
		free(b);
		return;
	}
	b->next = pool;
	pool = b;
	pool_bytes += b->cap;
}

/*
 * A new arena with one reference.
 */
static arena *
arena_new(void)
{
	arena	   *a = calloc(1, sizeof(arena));

	if (a)
		a->refs = 1;
	return a;
}

/*
 * Drops a reference; frees the arena with the last one.
 */
static void
arena_release(arena *a)
{
	arena_block *b;

	if (a == NULL || --a->refs > 0)
		return;
	b = a->head;
	while (b)
	{
		arena_block *next = b->next;

		block_put(b);
		b = next;
	}
	free(a);
}

/*
 * n bytes aligned to 8 (NULL when out of memory).
 */
static void *
arena_alloc(arena *a, size_t n)
{
	arena_block *b = a->head;
	void	   *p;

	n = (n + 7) & ~(size_t) 7;
	if (b == NULL || b->cap - b->used < n)
	{
		b = block_get(n > ARENA_BLOCK ? n : ARENA_BLOCK);
		if (b == NULL)
			return NULL;
		b->used = 0;
		b->next = a->head;
		a->head = b;
	}
	p = b->data + b->used;
	b->used += n;
	return p;
}

/* ---- records ---- */

/*
 * Appends an unsigned LEB128 varint.
 */
static void
wr_varint(il_buf *b, uint64_t v)
{
	while (v >= 0x80)
	{
		il_buf_putc(b, (char) ((v & 0x7f) | 0x80));
		v >>= 7;
	}
	il_buf_putc(b, (char) v);
}

/*
 * Appends a string: length, bytes.
 */
static void
wr_str(il_buf *b, const char *s)
{
	size_t		n = s ? strlen(s) : 0;

	wr_varint(b, n);
	il_buf_append(b, s ? s : "", n);
}

/*
 * Appends an optional string: 0 for none, else length + 1 and bytes.
 */
static void
wr_ostr(il_buf *b, const char *s)
{
	if (s == NULL)
		wr_varint(b, 0);
	else
	{
		wr_varint(b, strlen(s) + 1);
		il_buf_append(b, s, strlen(s));
	}
}

/*
 * Appends a list: count, strings.
 */
static void
wr_list(il_buf *b, const il_strlist *l)
{
	size_t		i;

	wr_varint(b, l->n);
	for (i = 0; i < l->n; i++)
		wr_str(b, l->items[i]);
}

/*
 * Appends the record header: the parser version and the type.
 */
static void
wr_header(il_buf *b, char type)
{
	wr_str(b, IL_PARSER_VERSION);
	il_buf_putc(b, type);
}

/*
 * Appends an error record.
 */
static void
wr_error(il_buf *b, const char *code, const char *pcode, int line, int column, const char *message)
{
	wr_header(b, 'E');
	wr_str(b, code);
	wr_str(b, pcode ? pcode : "");
	wr_varint(b, (uint64_t) (line > 0 ? line : 0));
	wr_varint(b, (uint64_t) (column > 0 ? column : 0));
	wr_str(b, message);
}

/* A record being decoded. */
typedef struct rd
{
	const uint8_t *p;
	const uint8_t *end;
	bool		bad;
} rd;

/*
 * Reads a varint (at most 63 bits).
 */
static uint64_t
rd_varint(rd *r)
{
	uint64_t	v = 0;
	int			shift = 0;

	while (!r->bad)
	{
		uint8_t		c;

		if (r->p >= r->end || shift > 56)
		{
			r->bad = true;
			break;
		}
		c = *r->p++;
		v |= (uint64_t) (c & 0x7f) << shift;
		if ((c & 0x80) == 0)
			return v;
		shift += 7;
	}
	return 0;
}

/*
 * Reads one byte.
 */
static int
rd_byte(rd *r)
{
	if (r->bad || r->p >= r->end)
	{
		r->bad = true;
		return 0;
	}
	return *r->p++;
}

/*
 * Reads n bytes of text into the arena (NUL-terminated); the text must be
 * valid UTF-8 without NUL.
 */
static const char *
rd_text(rd *r, arena *a, size_t n)
{
	char	   *s;
	size_t		bad;

	if (r->bad || n > (size_t) (r->end - r->p))
	{
		r->bad = true;
		return NULL;
	}
	if (memchr(r->p, '\0', n) != NULL || !il_utf8_valid((const char *) r->p, n, &bad))
	{
		r->bad = true;
		return NULL;
	}
	s = arena_alloc(a, n + 1);
	if (s == NULL)
	{
		r->bad = true;
		return NULL;
	}
	memcpy(s, r->p, n);
	s[n] = '\0';
	r->p += n;
	return s;
}

/*
 * Reads a string.
 */
static const char *
rd_str(rd *r, arena *a)
{
	uint64_t	n = rd_varint(r);

	return rd_text(r, a, (size_t) n);
}

/*
 * Reads an optional string (NULL for none; check r->bad).
 */
static const char *
rd_ostr(rd *r, arena *a)
{
	uint64_t	n = rd_varint(r);

	if (n == 0 || r->bad)
		return NULL;
	return rd_text(r, a, (size_t) (n - 1));
}

/*
 * Reads a list.
 */
static void
rd_list(rd *r, arena *a, il_strlist *l)
{
	uint64_t	n = rd_varint(r);
	size_t		i;

	l->items = NULL;
	l->n = 0;
	if (r->bad)
		return;
	if (n > (uint64_t) (r->end - r->p))
	{
		r->bad = true;
		return;
	}
	if (n == 0)
		return;
	l->items = arena_alloc(a, (size_t) n * sizeof(char *));
	if (l->items == NULL)
	{
		r->bad = true;
		return;
	}
	for (i = 0; i < n && !r->bad; i++)
		l->items[i] = (char *) rd_str(r, a);
	l->n = r->bad ? 0 : (size_t) n;
}

/* A distinct blob's record, decoded. */
typedef struct blob_entry
{
	char		type;			/* 0 until made; 'M', 'S' or 'E' */
	unsigned char snaps;		/* bit s: snapshot s lists this blob */
	const il_repo_model *m;		/* 'M': the model slot it was decoded into */
	const char *reason;			/* 'S' */
	const char *code;			/* 'E' */
	const char *pcode;
	int			line;
	int			column;
	const char *message;
} blob_entry;

/*
 * Decodes a record into e, and a model's into *slot (without its path and
 * blob); false when it is not a valid record of this parser version.
 */
static bool
decode_record(const uint8_t *data, size_t len, arena *a, blob_entry *e, il_repo_model *slot)
{
	rd			r = {data, data + len, false};
	uint64_t	vlen = rd_varint(&r);
	int			type;

	memset(e, 0, sizeof(*e));
	if (r.bad || vlen != strlen(IL_PARSER_VERSION) || (size_t) (r.end - r.p) < vlen ||
		memcmp(r.p, IL_PARSER_VERSION, vlen) != 0)
		return false;
	r.p += vlen;
	type = rd_byte(&r);
	if (type == 'M')
	{
		il_repo_model *m = slot;
		uint8_t		raw[IL_SHA256_LEN];
		int			kind,
					mat,
					stmt,
					guard;
		size_t		i;

		memset(m, 0, sizeof(*m));
		e->m = m;
		m->name = rd_str(&r, a);
		kind = rd_byte(&r);
		mat = rd_byte(&r);
		stmt = rd_byte(&r);
		guard = rd_byte(&r);
		m->time_column = rd_ostr(&r, a);
		m->partition_by = rd_ostr(&r, a);
		rd_list(&r, a, &m->unique_key);
		if (r.bad || kind < IL_KIND_FULL_REFRESH || kind > IL_KIND_MERGE_BY_KEY ||
			mat < IL_MAT_TABLE || mat > IL_MAT_INSERT_OVERWRITE ||
			stmt < IL_STMT_NONE || stmt > IL_STMT_OTHER || guard > 1 ||
			m->name == NULL || m->name[0] == '\0' || (size_t) (r.end - r.p) < 2 * IL_SHA256_LEN)
			return false;
		memcpy(raw, r.p, IL_SHA256_LEN);
		il_hex_encode(raw, IL_SHA256_LEN, m->fingerprint);
		memcpy(raw, r.p + IL_SHA256_LEN, IL_SHA256_LEN);
		il_hex_encode(raw, IL_SHA256_LEN, m->sql_sha256);
		r.p += 2 * IL_SHA256_LEN;
		rd_list(&r, a, &m->references);
		rd_list(&r, a, &m->refs);
		rd_list(&r, a, &m->dependencies);
		if (r.bad)
			return false;
		m->kind = (il_model_kind) kind;
		m->materialization = (il_materialization) mat;
		m->kind_name = il_model_kind_name(m->kind);
		m->materialization_name = il_materialization_name(m->materialization);
		m->statement = (il_stmt_kind) stmt;
		m->guard_ok = guard == 1;
		if (m->unique_key.n > 0)
		{
			size_t		total = 0;
			char	   *t;

			for (i = 0; i < m->unique_key.n; i++)
				total += strlen(m->unique_key.items[i]) + 1;
			t = arena_alloc(a, total);
			if (t == NULL)
				return false;
			t[0] = '\0';
			m->unique_key_text = t;
			for (i = 0; i < m->unique_key.n; i++)
			{
				size_t		n = strlen(m->unique_key.items[i]);

				if (i > 0)
					*t++ = ',';
				memcpy(t, m->unique_key.items[i], n + 1);
				t += n;
			}
		}
	}
	else if (type == 'S')
	{
		e->reason = rd_str(&r, a);
		if (e->reason == NULL)
			return false;
	}
	else if (type == 'E')
	{
		uint64_t	line,
					col;

		e->code = rd_str(&r, a);
		e->pcode = rd_str(&r, a);
		line = rd_varint(&r);
		col = rd_varint(&r);
		e->message = rd_str(&r, a);
		if (r.bad || line > 0x7fffffff || col > 0x7fffffff || e->code == NULL || e->code[0] == '\0')
			return false;
		e->line = (int) line;
		e->column = (int) col;
	}
	else
		return false;
	if (r.bad || r.p != r.end)
		return false;
	e->type = (char) type;
	return true;
}

/* ---- parsing one file ---- */

/* The directive keys of il_header.h. */
static const char *const directive_keys[] = {
	"name", "kind", "materialization", "time_column", "unique_key",
	"partition_by", "owner", "tags", "dependencies"
};

/*
 * Is c a blank, as il_header counts them?
 */
static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/*
 * Does the file have at least one header directive: among the header
 * lines (the leading run of blank lines and lines starting with "--", as
 * il_header.h defines it), a line "-- key: value" whose key is one of
 * il_header's keys (any case)?
 */
static bool
has_directive(const char *p, size_t len)
{
	const char *end = p + len;

	if (len >= 3 && (unsigned char) p[0] == 0xef && (unsigned char) p[1] == 0xbb &&
		(unsigned char) p[2] == 0xbf)
		p += 3;
	while (p < end)
	{
		const char *eol = memchr(p, '\n', (size_t) (end - p));
		const char *a = p;
		const char *z;
		const char *colon;
		size_t		k;

		if (eol == NULL)
			eol = end;
		z = eol;
		p = eol + 1;
		while (a < z && is_blank(*a))
			a++;
		while (z > a && is_blank(z[-1]))
			z--;
		if (a == z)
			continue;
		if (z - a < 2 || a[0] != '-' || a[1] != '-')
			return false;
		a += 2;
		colon = memchr(a, ':', (size_t) (z - a));
		if (colon == NULL)
			continue;
		z = colon;
		while (a < z && is_blank(*a))
			a++;
		while (z > a && is_blank(z[-1]))
			z--;
		for (k = 0; k < sizeof(directive_keys) / sizeof(directive_keys[0]); k++)
		{
			size_t		kl = strlen(directive_keys[k]);
			size_t		i;

			if ((size_t) (z - a) != kl)
				continue;
			for (i = 0; i < kl; i++)
			{
				char		c = a[i];

				if (c >= 'A' && c <= 'Z')
					c = (char) (c + ('a' - 'A'));
				if (c != directive_keys[k][i])
					break;
			}
			if (i == kl)
				return true;
		}
	}
	return false;
}

/*
 * The 1-based line and column (in characters) of byte offset off.
 */
static void
position_of(const char *data, size_t off, int *line, int *column)
{
	*line = 1;
	*column = 1;
	il_text_advance(data, 0, off, line, column);
}

/*
 * The value of a lower-case hex digit.
 */
static int
hex_value(char c)
{
	return c <= '9' ? c - '0' : c - 'a' + 10;
}

/*
 * Parses one file's bytes into a record.
 */
int
il_repo_parse_text(const char *data, size_t len, il_buf *record, il_error *err)
{
	const char *nul;
	size_t		bad = 0;
	int			line;
	int			column;
	il_model	m;
	il_parse_status st;
	uint8_t		digest[IL_SHA256_LEN];
	uint8_t		raw[IL_SHA256_LEN];
	size_t		i;

	il_error_clear(err);
	if (data == NULL)
		data = "";
	nul = memchr(data, '\0', len);
	if (nul != NULL)
	{
		position_of(data, (size_t) (nul - data), &line, &column);
		wr_error(record, "binary_file", "nul_byte", line, column,
				 "the file is binary (it has a nul byte), not a model: remove it or rename it so it does not end in .sql");
	}
	else if (!il_utf8_valid(data, len, &bad))
	{
		position_of(data, bad, &line, &column);
		wr_error(record, "binary_file", "invalid_utf8", line, column,
				 "the file is not valid utf-8 text: save it as utf-8");
	}
	else if (!has_directive(data, len))
	{
		wr_header(record, 'S');
		wr_str(record, "no header directive");
	}
	else
	{
		il_error	perr;

		il_error_clear(&perr);
		st = il_model_parse(data, len, &m, &perr);
		if (st == IL_PARSE_ERR_NOMEM)
		{
			il_model_free(&m);
			il_error_set(err, "out_of_memory", 0, 0, "out of memory while parsing a model");
			return -1;
		}
		if (st != IL_PARSE_OK)
			wr_error(record,
					 st == IL_PARSE_ERR_HEADER ? "invalid_header" :
					 st == IL_PARSE_ERR_SYNTAX ? "syntax_error" :
					 st == IL_PARSE_ERR_ENCODING ? "binary_file" : "parse_limit",
					 perr.code, perr.line, perr.column, perr.message);
		else if (il_sha256(data, len, digest) != 0)
		{
			il_model_free(&m);
			il_error_set(err, "out_of_memory", 0, 0, "cannot compute sha-256 of a model");
			return -1;
		}
		else
		{
			wr_header(record, 'M');
			wr_str(record, m.header.name);
			il_buf_putc(record, (char) m.header.kind);
			il_buf_putc(record, (char) m.header.materialization);
			il_buf_putc(record, (char) m.refs.statement);
			il_buf_putc(record, (char) (m.guard.ok ? 1 : 0));
			wr_ostr(record, m.header.time_column);
			wr_ostr(record, m.header.partition_by);
			wr_list(record, &m.header.unique_key);
			for (i = 0; i < IL_SHA256_LEN; i++)
				raw[i] = (uint8_t) (hex_value(m.fingerprint[2 * i]) << 4 | hex_value(m.fingerprint[2 * i + 1]));
			il_buf_append(record, raw, IL_SHA256_LEN);
			il_buf_append(record, digest, IL_SHA256_LEN);
			wr_list(record, &m.refs.references);
			wr_list(record, &m.refs.refs);
			wr_list(record, &m.header.dependencies);
		}
		il_model_free(&m);
	}
	if (record->oom)
	{
		il_error_set(err, "out_of_memory", 0, 0, "out of memory while writing a parse record");
		return -1;
	}
	return 0;
}

/* ---- loading ---- */

/* Room for a path in a message. */
#define PATH_CAP 96

/* What a model set keeps besides its public fields. */
typedef struct repo_priv
{
	arena	   *ar;				/* shared, reference-counted */
	il_git_blob_list files;
	char	   *models_dir;
	const char **up_names;		/* storage of every model's upstream */
} repo_priv;

/* One commit being loaded. */
typedef struct snap
{
	char		commit[IL_GIT_OID_HEX_LEN + 1];
	char	   *models_dir;
	il_git_blob_list files;
	size_t	   *entry;			/* per file: index into the loader's ids */
	const char *label;			/* "base" or "head" in a diff, else NULL */
	bool		own_only;		/* collect only blobs no other snapshot lists */
	int			index;			/* in the loader's snapshots */
	il_repo_models *out;		/* being built (snap_collect, snap_finish) */
} snap;

/* The state of one call. */
typedef struct loader
{
	il_git_repo *git;
	const il_parse_cache *cache;
	arena	   *ar;
	const char **ids;			/* distinct blob ids, in order of first appearance */
	size_t		nids;
	blob_entry *entries;		/* parallel to ids */
	il_repo_stats stats;
	il_buf		content;
	il_buf		record;
} loader;

/*
 * Sets out_of_memory.
 */
static int
nomem(il_error *err)
{
	il_error_set(err, "out_of_memory", 0, 0, "out of memory while loading the models");
	return -1;
}

/*
 * Prefixes err's message with "at base|head commit X: " for a diff.
 */
static void
label_error(const snap *s, il_error *err)
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
 * Resolves the commit, settles the models directory and lists the files.
 * models_dir NULL: the default of this commit.
 */
static int
snap_open(il_git_repo *git, const char *spec, const char *models_dir, snap *s, il_error *err)
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
	return il_git_list_sql(git, s->commit, s->models_dir, 0, &s->files, err);
}

/*
 * Frees what a snapshot still owns.
 */
static void
snap_free(snap *s)
{
	free(s->models_dir);
	s->models_dir = NULL;
	il_git_blob_list_free(&s->files);
	free(s->entry);
	s->entry = NULL;
	il_repo_models_free(s->out);
	s->out = NULL;
}

/*
 * A hash of a blob id: its first 16 hex digits (object ids are uniformly
 * distributed).
 */
static size_t
id_hash(const char *id)
{
	uint64_t	h = 0;
	int			i;

	for (i = 0; i < 16; i++)
	{
		char		c = id[i];

		h = (h << 4) | (uint64_t) (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return (size_t) (h ^ (h >> 29));
}

/*
 * Collects the distinct blob ids of the snapshots in order of first
 * appearance (path order, snapshot by snapshot), maps every file to its
 * id, and hands the ids to the cache's prefetch.
 */
static int
loader_prepare(loader *L, snap *snaps, int nsnaps, il_error *err)
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
	L->ids = malloc((total + 1) * sizeof(char *));
	table = malloc(cap * sizeof(size_t));
	if (L->ids == NULL || table == NULL)
	{
		free(table);
		return nomem(err);
	}
	for (i = 0; i < cap; i++)
		table[i] = SIZE_MAX;
	L->nids = 0;
	for (s = 0; s < nsnaps; s++)
	{
		snap	   *sn = &snaps[s];

		sn->entry = malloc((sn->files.n + 1) * sizeof(size_t));
		if (sn->entry == NULL)
		{
			free(table);
			return nomem(err);
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
	free(table);
	L->entries = calloc(L->nids + 1, sizeof(blob_entry));
	if (L->entries == NULL)
		return nomem(err);
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
			if (decode_record(rec, len, L->ar, e, slot))
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
		if (err->code == NULL || strcmp(err->code, "file_too_large") != 0)
			return -1;
		wr_error(&L->record, "file_too_large", "file_too_large", 0, 0, err->message);
		il_error_clear(err);
		if (L->record.oom)
			return nomem(err);
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
	if (!decode_record((const uint8_t *) L->record.data, L->record.len, L->ar, e, slot))
		return nomem(err);		/* our own record: only memory can fail */
	if (c != NULL && c->put != NULL && !too_large)
		c->put(c->arg, id, (const uint8_t *) L->record.data, L->record.len);
	return 0;
}

/*
 * The static spelling of a file error's code (the record's string lives in
 * the arena, which may be gone when the caller reads the error).
 */
static const char *
static_code(const char *code)
{
	static const char *const codes[] = {
		"binary_file", "file_too_large", "invalid_header", "syntax_error", "parse_limit"
	};
	size_t		i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(code, codes[i]) == 0)
			return codes[i];
	return "parse_limit";
}

/*
 * Reports a file's error record: "PATH:LINE:COLUMN: message".
 */
static int
file_error(const snap *s, const char *path, const blob_entry *e, il_error *err)
{
	char		q[PATH_CAP];
	const char *code = static_code(e->code);
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
	label_error(s, err);
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
		arena_release(p->ar);
		il_git_blob_list_free(&p->files);
		free(p->models_dir);
		free(p->up_names);
		free(p);
	}
	il_dag_free(m->dag);
	/* models and skipped live in the arena */
	free(m);
}

/*
 * Makes a listed snapshot's model set (s->out), models still in path
 * order: makes every file's record in path order (so the first failing
 * file is reported), decoding each model into its slot, or copying it from
 * the slot where another file with the same blob was decoded. Slots do not
 * move until snap_finish, so the pointers of the entries stay valid across
 * the snapshots of one call.
 */
static int
snap_collect(loader *L, snap *s, il_error *err)
{
	il_repo_models *m;
	repo_priv  *p;
	size_t		i;

	m = calloc(1, sizeof(il_repo_models));
	p = calloc(1, sizeof(repo_priv));
	if (m == NULL || p == NULL)
	{
		free(m);
		free(p);
		return nomem(err);
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
	/* room for every file; pages of unused slots are never touched */
	/* in the arena, whose blocks the process reuses */
	m->models = arena_alloc(L->ar, (p->files.n + 1) * sizeof(il_repo_model));
	m->skipped = arena_alloc(L->ar, (p->files.n + 1) * sizeof(il_repo_skipped));
	if (m->models == NULL || m->skipped == NULL)
		return nomem(err);
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
				label_error(s, err);
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
		m->n++;
	}
	return 0;
}

/*
 * Sorts a collected model set by name (small keys sorted, then the models
 * permuted in place) and checks that names are unique. On success the set
 * moves to *out.
 */
static int
snap_finish(snap *s, il_repo_models **out, il_error *err)
{
	il_repo_models *m = s->out;
	model_key  *keys = malloc((m->n + 1) * sizeof(model_key));
	size_t		i;

	if (keys == NULL)
		return nomem(err);
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
	free(keys);
	for (i = 1; i < m->n; i++)
	{
		if (strcmp(m->models[i - 1].name, m->models[i].name) == 0)
		{
			char		a[PATH_CAP];
			char		b[PATH_CAP];

			il_git_format_path(a, sizeof(a), m->models[i - 1].path);
			il_git_format_path(b, sizeof(b), m->models[i].path);
			il_error_set(err, "duplicate_model", 0, 0,
						 "model name %.60s is declared twice, in %s and in %s: rename one of them",
						 m->models[i].name, a, b);
			label_error(s, err);
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
static void
loader_free(loader *L)
{
	free(L->ids);
	free(L->entries);
	il_buf_free(&L->content);
	il_buf_free(&L->record);
	arena_release(L->ar);
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
	dm = malloc((m->n + 1) * sizeof(il_dag_model));
	if (dm == NULL)
		return nomem(err);
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
		free(dm);
		return -1;
	}
	free(dm);
	if (il_dag_sort(dag, err) != 0)
	{
		il_dag_free(dag);
		return -1;
	}
	free(p->up_names);
	p->up_names = malloc((dag->n_edges + 1) * sizeof(char *));
	if (p->up_names == NULL)
	{
		il_dag_free(dag);
		return nomem(err);
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
	L.ar = arena_new();
	if (L.ar == NULL)
		return nomem(err);
	if (snap_open(git, commit, models_dir, &s, err) != 0 ||
		loader_prepare(&L, &s, 1, err) != 0 ||
		snap_collect(&L, &s, err) != 0 ||
		snap_finish(&s, out, err) != 0)
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
	snap_free(&s);
	loader_free(&L);
	return ret;
}

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
	set->slots = calloc(set->cap, sizeof(char *));
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
	il_error_set(err, "duplicate_model", 0, 0,
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
	il_repo_change *r = malloc((base->n + head->n + 1) * sizeof(il_repo_change));
	size_t		i = 0;
	size_t		j = 0;
	size_t		n = 0;

	*rows = NULL;
	*nrows = 0;
	il_error_clear(err);
	if (r == NULL)
		return nomem(err);
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
				free(r);
				return duplicate_at_base(base, b, h, err);
			}
			if (strcmp(b->blob, h->blob) != 0)
			{
				r[n].model = h->name;
				r[n].change = strcmp(b->fingerprint, h->fingerprint) != 0 ?
					IL_CHANGE_MODIFIED : IL_CHANGE_COSMETIC;
				r[n].path = h->path;
				n++;
			}
			i++;
			j++;
		}
	}
	if (n == 0)
	{
		free(r);
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
	free(diff->rows);
	free(diff);
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
	L.ar = arena_new();
	d = calloc(1, sizeof(il_repo_diff_result));
	if (L.ar == NULL || d == NULL)
	{
		nomem(err);
		goto done;
	}
	s[0].label = "base";
	s[1].label = "head";
	/* base: only what head lacks (a blob both list is the same model) */
	s[0].own_only = true;
	s[0].index = 0;
	s[1].index = 1;
	/* the head decides the default models directory for both */
	if (snap_open(git, head, models_dir, &s[1], err) != 0)
		goto done;
	if (snap_open(git, base, s[1].models_dir, &s[0], err) != 0)
	{
		if (err->code != NULL && strcmp(err->code, "no_models_dir") == 0)
			label_error(&s[0], err);
		goto done;
	}
	if (loader_prepare(&L, s, 2, err) != 0 ||
		snap_collect(&L, &s[0], err) != 0 ||
		snap_collect(&L, &s[1], err) != 0 ||
		snap_finish(&s[0], &d->base, err) != 0 ||
		snap_finish(&s[1], &d->head, err) != 0)
		goto done;
	if (!id_set_make(&base_blobs, &((repo_priv *) d->base->priv)->files))
	{
		nomem(err);
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
	free(base_blobs.slots);
	il_repo_diff_free(d);
	snap_free(&s[0]);
	snap_free(&s[1]);
	loader_free(&L);
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
	r = malloc(n * sizeof(il_repo_lineage_row));
	if (r == NULL)
	{
		free(dr);
		return nomem(err);
	}
	for (i = 0; i < n; i++)
	{
		r[i].model = m->models[dr[i].node].name;
		r[i].direction = il_dag_direction_name(dr[i].direction);
		r[i].depth = dr[i].depth;
	}
	free(dr);
	*rows = r;
	*nrows = n;
	return 0;
}

/* ---- JSON ---- */

/*
 * Appends a JSON array of strings.
 */
static void
put_names(il_buf *b, const char *const *items, size_t n)
{
	size_t		i;

	il_buf_putc(b, '[');
	for (i = 0; i < n; i++)
	{
		if (i > 0)
			il_buf_putc(b, ',');
		il_jsonw_cstring(b, items[i]);
	}
	il_buf_putc(b, ']');
}

/*
 * Appends one model's row object.
 */
void
il_repo_model_json(const il_repo_model *m, il_buf *out)
{
	il_buf_putc(out, '{');
	il_jsonw_key(out, "blob");
	il_jsonw_cstring(out, m->blob);
	il_buf_putc(out, ',');
	il_jsonw_key(out, "fingerprint");
	il_jsonw_cstring(out, m->fingerprint);
	il_buf_putc(out, ',');
	il_jsonw_key(out, "kind");
	il_jsonw_cstring(out, m->kind_name);
	il_buf_putc(out, ',');
	il_jsonw_key(out, "materialization");
	il_jsonw_cstring(out, m->materialization_name);
	il_buf_putc(out, ',');
	il_jsonw_key(out, "name");
	il_jsonw_cstring(out, m->name);
	il_buf_putc(out, ',');
	il_jsonw_key(out, "path");
	il_jsonw_cstring(out, m->path);
	il_buf_putc(out, ',');
	il_jsonw_key(out, "sources");
	put_names(out, m->sources, m->n_sources);
	il_buf_putc(out, ',');
	il_jsonw_key(out, "time_column");
	il_jsonw_cstring(out, m->time_column);
	il_buf_putc(out, ',');
	il_jsonw_key(out, "unique_key");
	il_jsonw_cstring(out, m->unique_key_text);
	il_buf_putc(out, ',');
	il_jsonw_key(out, "upstream");
	put_names(out, m->upstream, m->n_upstream);
	il_buf_putc(out, '}');
}

/*
 * Appends every model's row, one per line.
 */
void
il_repo_models_json(const il_repo_models *m, il_buf *out)
{
	size_t		i;

	for (i = 0; i < m->n; i++)
	{
		il_repo_model_json(&m->models[i], out);
		il_buf_putc(out, '\n');
	}
}

/*
 * Appends diff rows, one per line.
 */
void
il_repo_diff_json(const il_repo_change *rows, size_t n, il_buf *out)
{
	size_t		i;

	for (i = 0; i < n; i++)
	{
		il_buf_putc(out, '{');
		il_jsonw_key(out, "change");
		il_jsonw_cstring(out, il_change_name(rows[i].change));
		il_buf_putc(out, ',');
		il_jsonw_key(out, "model");
		il_jsonw_cstring(out, rows[i].model);
		il_buf_putc(out, ',');
		il_jsonw_key(out, "path");
		il_jsonw_cstring(out, rows[i].path);
		il_buf_puts(out, "}\n");
	}
}

/*
 * Appends lineage rows, one per line.
 */
void
il_repo_lineage_json(const il_repo_lineage_row *rows, size_t n, il_buf *out)
{
	size_t		i;

	for (i = 0; i < n; i++)
	{
		il_buf_putc(out, '{');
		il_jsonw_key(out, "depth");
		il_jsonw_int(out, rows[i].depth);
		il_buf_putc(out, ',');
		il_jsonw_key(out, "direction");
		il_jsonw_cstring(out, rows[i].direction);
		il_buf_putc(out, ',');
		il_jsonw_key(out, "model");
		il_jsonw_cstring(out, rows[i].model);
		il_buf_puts(out, "}\n");
	}
}

/* ---- SQLSTATEs ---- */

typedef struct code_state
{
	const char *code;
	const char *sqlstate;
} code_state;

static const code_state code_states[] = {
	{"ambiguous_commit", "22023"},
	{"ambiguous_model", "22023"},
	{"ambiguous_reference", "42P17"},
	{"binary_file", "22021"},
	{"borrowed_objects", "42501"},
	{"cycle", "42P17"},
	{"duplicate_model", "42710"},
	{"file_too_large", "54000"},
	{"git_error", "58030"},
	{"invalid_direction", "22023"},
	{"invalid_header", "22023"},
	{"invalid_max_depth", "22023"},
	{"invalid_models_dir", "22023"},
	{"invalid_path", "22021"},
	{"models_dir_not_tree", "22023"},
	{"no_models_dir", "22023"},
	{"no_such_path", "22023"},
	{"not_a_commit", "22023"},
	{"not_a_directory", "22023"},
	{"not_a_repository", "22023"},
	{"out_of_memory", "53200"},
	{"parse_limit", "54001"},
	{"path_changed", "42501"},
	{"path_outside_root", "42501"},
	{"syntax_error", "42601"},
	{"too_many_models", "54000"},
	{"unknown_commit", "22023"},
	{"unknown_model", "22023"},
	{"unknown_ref", "42P17"},
};

/*
 * The SQLSTATE of an error code.
 */
const char *
il_repo_sqlstate(const char *code)
{
	size_t		lo = 0;
	size_t		hi = sizeof(code_states) / sizeof(code_states[0]);

	if (code == NULL)
		return "XX000";
	while (lo < hi)
	{
		size_t		mid = (lo + hi) / 2;
		int			c = strcmp(code_states[mid].code, code);

		if (c == 0)
			return code_states[mid].sqlstate;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return "XX000";
}
