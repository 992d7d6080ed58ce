/*-------------------------------------------------------------------------
 *
 * il_sources.c
 *	  The declaration of a repository's sources (sources.txt): its parser,
 *	  and whether a reference is declared or unknown. See il_sources.h.
 *
 * A declaration is one sorted array of keys, each a lower-case name with
 * the flags of what it stands for: an entry of two or three parts, a
 * proper suffix of an entry, a declared schema. Keys are gathered while
 * parsing, then sorted (heapsort: n log n whatever the names) and merged;
 * a lookup splits the reference into its parts (a backticked part may hold
 * dots) and finds the few keys the rules name by binary search, comparing
 * without copying (ASCII case ignored), so a lookup never allocates and
 * looks at O(log n) keys. (A hash table of keys was quadratic on names
 * chosen to collide: a repository's author chooses them.)
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "il_sources.h"
#include "il_text.h"

/* What a key stands for. */
#define F_FULL2		0x01		/* an entry s.t */
#define F_FULL3		0x02		/* an entry c.s.t */
#define F_SUFFIX	0x04		/* a proper suffix of an entry */
#define F_SCHEMA	0x08		/* s of an entry s.*, or of a model s.x */
#define F_SCHEMA_C	0x10		/* s of a model c.s.x */
#define F_CATSCHEMA 0x20		/* c.s of a model c.s.x */

#define F_TABLE (F_FULL2 | F_FULL3 | F_SUFFIX)

typedef struct key_slot
{
	uint32_t	off;			/* in text */
	uint32_t	len;
	uint8_t		flags;
} key_slot;

struct il_sources
{
	il_buf		text;			/* the keys' bytes */
	key_slot   *slots;			/* sorted by their bytes once sealed */
	size_t		cap;
	size_t		used;
	size_t		entries;
	size_t		work;			/* keys looked at (il_sources_work) */
};

/* Room for a quoted piece of user text in a message. */
#define QUOTE_CAP 48

static inline unsigned char
lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char) (c + ('a' - 'A')) : c;
}

/*
 * s[0..len) (any case) against key k: <0, 0, >0 as memcmp of the
 * lower-cased bytes, a prefix first.
 */
static int
compare_key(const il_sources *S, const char *s, size_t len, const key_slot *k)
{
	const unsigned char *t = (const unsigned char *) S->text.data + k->off;
	size_t		n = len < k->len ? len : k->len;
	size_t		j;

	for (j = 0; j < n; j++)
	{
		unsigned char a = lower((unsigned char) s[j]);

		if (a != t[j])
			return a < t[j] ? -1 : 1;
	}
	return len < k->len ? -1 : (len > k->len ? 1 : 0);
}

/*
 * The flags of key s[0..len), 0 when absent: a binary search.
 */
static unsigned
key_flags(const il_sources *S, const char *s, size_t len)
{
	size_t		lo = 0;
	size_t		hi;

	if (S == NULL || S->used == 0 || len == 0)
		return 0;
	hi = S->used;
	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;
		int			c = compare_key(S, s, len, &S->slots[mid]);

		((il_sources *) S)->work++;
		if (c == 0)
			return S->slots[mid].flags;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

/*
 * Adds flags to key s[0..len) (lower-case already); false when out of
 * memory. Keys are sorted and merged by seal().
 */
static bool
add_key(il_sources *S, const char *s, size_t len, unsigned flags)
{
	key_slot   *k;

	if (len == 0 || len > UINT32_MAX)
		return true;
	if (S->used == S->cap)
	{
		size_t		ncap = S->cap ? 2 * S->cap : 64;
		key_slot   *n = il_realloc(S->slots, ncap * sizeof(key_slot));

		if (n == NULL)
			return false;
		S->slots = n;
		S->cap = ncap;
	}
	if (S->text.len > UINT32_MAX - len)
		return false;
	k = &S->slots[S->used];
	k->off = (uint32_t) S->text.len;
	il_buf_append(&S->text, s, len);
	if (S->text.oom)
		return false;
	k->len = (uint32_t) len;
	k->flags = (uint8_t) flags;
	S->used++;
	return true;
}

/* Key a against key b, counted in the work. */
static int
compare_slots(il_sources *S, const key_slot *a, const key_slot *b)
{
	S->work++;
	return compare_key(S, S->text.data + a->off, a->len, b);
}

/* Heapsort's sift-down of slots[root..n). */
static void
sift_down(il_sources *S, size_t root, size_t n)
{
	key_slot   *v = S->slots;

	for (;;)
	{
		size_t		child = 2 * root + 1;
		key_slot	tmp;

		if (child >= n)
			return;
		if (child + 1 < n && compare_slots(S, &v[child], &v[child + 1]) < 0)
			child++;
		if (compare_slots(S, &v[root], &v[child]) >= 0)
			return;
		tmp = v[root];
		v[root] = v[child];
		v[child] = tmp;
		root = child;
	}
}

/*
 * Sorts the keys (heapsort: n log n comparisons whatever the keys) and
 * merges equal ones, their flags joined.
 */
static void
seal(il_sources *S)
{
	key_slot   *v = S->slots;
	size_t		n = S->used;
	size_t		i,
				w;

	if (n < 2)
		return;
	for (i = n / 2; i-- > 0;)
		sift_down(S, i, n);
	for (i = n - 1; i > 0; i--)
	{
		key_slot	tmp = v[0];

		v[0] = v[i];
		v[i] = tmp;
		sift_down(S, 0, i);
	}
	for (w = 0, i = 1; i < n; i++)
	{
		if (compare_slots(S, &v[i], &v[w]) == 0)
			v[w].flags |= v[i].flags;
		else
			v[++w] = v[i];
	}
	S->used = w + 1;
}

/*
 * Splits a name into parts on the dots outside backticks: part i is
 * s[start[i] .. end[i]). Returns the number of parts, at most 4 (4 means
 * four or more: the rest is not split).
 */
static int
split_parts(const char *s, size_t len, size_t start[4], size_t end[4])
{
	int			n = 0;
	bool		quoted = false;
	size_t		i;

	start[0] = 0;
	for (i = 0; i < len; i++)
	{
		if (s[i] == '`')
			quoted = !quoted;	/* `` inside toggles twice */
		else if (s[i] == '.' && !quoted && n < 3)
		{
			end[n++] = i;
			start[n] = i + 1;
		}
	}
	end[n++] = len;
	return n;
}

/*
 * Is the schema of name (parts as split) declared with the flags of the
 * set?
 */
static bool
schema_holds(const il_sources *S, const char *s, int n, const size_t *start, const size_t *end)
{
	if (n == 2)
		return (key_flags(S, s, end[0]) & (F_SCHEMA | F_SCHEMA_C)) != 0;
	if (n == 3)
		return (key_flags(S, s + start[1], end[1] - start[1]) & F_SCHEMA) != 0 ||
			(key_flags(S, s, end[1]) & F_CATSCHEMA) != 0;
	return false;
}

/*
 * Does the declaration declare ref?
 */
bool
il_sources_declares(const il_sources *S, const char *ref)
{
	size_t		len = strlen(ref);
	size_t		start[4];
	size_t		end[4];
	int			n;

	if (S == NULL || len == 0)
		return false;
	if ((key_flags(S, ref, len) & F_TABLE) != 0)
		return true;
	n = split_parts(ref, len, start, end);
	if (n == 3 && (key_flags(S, ref + start[1], len - start[1]) & F_FULL2) != 0)
		return true;
	return schema_holds(S, ref, n, start, end);
}

/*
 * Is the external reference ref unknown?
 */
bool
il_sources_unknown(const il_sources *decl, const il_sources *schemas, const char *ref)
{
	size_t		start[4];
	size_t		end[4];
	int			n;

	if (decl != NULL)
		return !il_sources_declares(decl, ref);
	if (schemas == NULL)
		return false;
	n = split_parts(ref, strlen(ref), start, end);
	return schema_holds(schemas, ref, n, start, end);
}

size_t
il_sources_count(const il_sources *s)
{
	return s == NULL ? 0 : s->entries;
}

size_t
il_sources_work(const il_sources *s)
{
	return s == NULL ? 0 : s->work;
}

void
il_sources_free(il_sources *s)
{
	if (s == NULL)
		return;
	il_buf_free(&s->text);
	il_free(s->slots);
	il_free(s);
}

static int
nomem(il_error *err)
{
	il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory while reading the sources");
	return -1;
}

/*
 * Adds the keys of a name of n parts written in name[0..len) (lower-case;
 * parts at start/end; wildcard: the last part is '*').
 */
static bool
add_name(il_sources *S, const char *name, int n, const size_t *start, const size_t *end,
		 bool wildcard)
{
	if (wildcard)
		return add_key(S, name, end[0], F_SCHEMA);
	if (n == 2)
		return add_key(S, name, end[1], F_FULL2) &&
			add_key(S, name + start[1], end[1] - start[1], F_SUFFIX);
	return add_key(S, name, end[2], F_FULL3) &&
		add_key(S, name + start[1], end[2] - start[1], F_SUFFIX) &&
		add_key(S, name + start[2], end[2] - start[2], F_SUFFIX);
}

static bool
is_word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '_' || c == '$' || c >= 0x80;
}

/*
 * Sets the error "PATH:LINE: what: write ...".
 */
static int
line_error_hint(il_error *err, const char *path, int line, const char *what, const char *hint)
{
	char		q[QUOTE_CAP * 2];

	il_quote_text(q, sizeof(q), path, strlen(path));
	il_error_set(err, IL_ERR_INVALID_SOURCES, line, 0, "%s:%d: %s: %s", q, line, what, hint);
	return -1;
}

static int
line_error(il_error *err, const char *path, int line, const char *what)
{
	return line_error_hint(err, path, line, what,
						   "write one source a line, as schema.table, catalog.schema.table or schema.*");
}

/*
 * Parses one line s[0..len) (no newline) into S; name is scratch.
 */
static int
parse_line(il_sources *S, const char *s, size_t len, const char *path, int line,
		   il_buf *name, il_error *err)
{
	size_t		i = 0;
	size_t		start[4];
	size_t		end[4];
	int			n = 0;
	bool		star = false;
	char		what[96];
	char		q[QUOTE_CAP];

	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == len || s[i] == '#')
		return 0;
	il_buf_reset(name);
	for (;;)
	{
		size_t		at = name->len;

		if (n == 3)
			return line_error(err, path, line, "more than three parts");
		if (star)
			return line_error(err, path, line, "'*' stands only for the table of schema.*");
		if (i < len && s[i] == '`')
		{
			size_t		j = i + 1;

			while (j < len)
			{
				if (s[j] == '`' && j + 1 < len && s[j + 1] == '`')
					j += 2;
				else if (s[j] == '`')
					break;
				else
					j++;
			}
			if (j >= len)
				return line_error(err, path, line, "a backtick is not closed");
			if (j == i + 1)
				return line_error(err, path, line, "an empty name part");
			if (memchr(s + i + 1, '.', j - i - 1) || memchr(s + i + 1, '`', j - i - 1))
				il_buf_append(name, s + i, j + 1 - i);
			else
				il_buf_append(name, s + i + 1, j - i - 1);
			i = j + 1;
		}
		else if (i < len && s[i] == '*')
		{
			il_buf_putc(name, '*');
			star = true;
			i++;
		}
		else if (i < len && is_word_byte((unsigned char) s[i]))
		{
			size_t		j = i;

			while (j < len && is_word_byte((unsigned char) s[j]))
				j++;
			il_buf_append(name, s + i, j - i);
			i = j;
		}
		else if (i == len || s[i] == '.' || s[i] == ' ' || s[i] == '\t' || s[i] == '#')
			return line_error(err, path, line, "an empty name part");
		else
		{
			size_t		shown;
			size_t		clen = il_quote_char((const unsigned char *) s, i, len, &shown);

			il_quote_text(q, sizeof(q), s + i, clen);
			snprintf(what, sizeof(what), "unexpected character \"%s\" in a name", q);
			return line_error(err, path, line, what);
		}
		if (name->oom)
			return nomem(err);
		start[n] = at;
		end[n] = name->len;
		n++;
		if (i < len && s[i] == '.')
		{
			il_buf_putc(name, '.');
			i++;
			continue;
		}
		break;
	}
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i < len && s[i] != '#')
		return line_error(err, path, line, "text after the name (a name has no spaces)");
	if (n == 1)
		return line_error(err, path, line, star ? "'*' without a schema" : "a name without its schema");
	if (star && n != 2)
		return line_error(err, path, line, "'*' stands only for the table of schema.*");
	if (name->oom)
		return nomem(err);
	if (++S->entries > IL_SOURCES_MAX_ENTRIES)
	{
		snprintf(what, sizeof(what), "more than %d entries", IL_SOURCES_MAX_ENTRIES);
		return line_error_hint(err, path, line, what, "declare whole schemas with schema.*");
	}
	{
		size_t		k;

		for (k = 0; k < name->len; k++)
			name->data[k] = (char) lower((unsigned char) name->data[k]);
	}
	if (!add_name(S, name->data, n, start, end, star))
		return nomem(err);
	return 0;
}

/*
 * Parses a declaration.
 */
int
il_sources_parse(const char *data, size_t len, const char *path, il_sources **out,
				 il_error *err)
{
	il_sources *S;
	il_buf		name = IL_BUF_INIT;
	size_t		bad;
	const char *nul;
	size_t		pos = 0;
	int			line = 1;
	char		q[QUOTE_CAP * 2];

	*out = NULL;
	il_error_clear(err);
	if (path == NULL)
		path = IL_SOURCES_FILE;
	if (len > IL_SOURCES_MAX_SIZE)
	{
		il_quote_text(q, sizeof(q), path, strlen(path));
		il_error_set(err, IL_ERR_INVALID_SOURCES, 0, 0,
					 "%s: the file has %zu bytes, more than the %zu a declaration of sources may have",
					 q, len, IL_SOURCES_MAX_SIZE);
		return -1;
	}
	nul = memchr(data, '\0', len);
	if (!il_utf8_valid(data, len, &bad))
		bad = nul != NULL && (size_t) (nul - data) < bad ? (size_t) (nul - data) : bad;
	else if (nul != NULL)
		bad = (size_t) (nul - data);
	else
		bad = SIZE_MAX;
	if (bad != SIZE_MAX)
	{
		size_t		k;

		for (k = 0; k < bad && k < len; k++)
			if (data[k] == '\n')
				line++;
		return line_error(err, path, line, "a NUL byte or invalid UTF-8");
	}
	S = il_calloc(1, sizeof(il_sources));
	if (S == NULL)
		return nomem(err);
	while (pos < len)
	{
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t		eol = nl ? (size_t) (nl - data) : len;
		size_t		l = eol - pos;

		if (l > 0 && data[pos + l - 1] == '\r')
			l--;
		if (parse_line(S, data + pos, l, path, line, &name, err) != 0)
		{
			il_buf_free(&name);
			il_sources_free(S);
			return -1;
		}
		pos = eol + 1;
		line++;
	}
	il_buf_free(&name);
	seal(S);
	*out = S;
	return 0;
}

/*
 * The schemas that hold the models.
 */
int
il_sources_model_schemas(const char *const *names, size_t n, il_sources **out, il_error *err)
{
	il_sources *S;
	size_t		i;

	*out = NULL;
	il_error_clear(err);
	S = il_calloc(1, sizeof(il_sources));
	if (S == NULL)
		return nomem(err);
	for (i = 0; i < n; i++)
	{
		const char *s = names[i];
		size_t		start[4];
		size_t		end[4];
		int			k = split_parts(s, strlen(s), start, end);
		bool		ok = true;

		if (k == 2)
			ok = add_key(S, s, end[0], F_SCHEMA);
		else if (k == 3)
			ok = add_key(S, s + start[1], end[1] - start[1], F_SCHEMA_C) &&
				add_key(S, s, end[1], F_CATSCHEMA);
		if (!ok)
		{
			il_sources_free(S);
			return nomem(err);
		}
	}
	seal(S);
	*out = S;
	return 0;
}
