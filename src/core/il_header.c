/*-------------------------------------------------------------------------
 *
 * il_header.c
 *	  The header directives of a model file ("-- key: value" lines).
 *
 * A line-by-line scan of the top of the file; see il_header.h for the
 * format. Unlike the original system: keys are found case-insensitively and
 * so are the values of kind and materialization; a key given twice, an
 * invalid name and a missing time_column or unique_key are errors naming
 * the line, never a silent overwrite or a load that aborts elsewhere.
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "il_header.h"
#include "il_text.h"

typedef enum hkey
{
	HK_NAME,
	HK_KIND,
	HK_MATERIALIZATION,
	HK_TIME_COLUMN,
	HK_UNIQUE_KEY,
	HK_PARTITION_BY,
	HK_OWNER,
	HK_TAGS,
	HK_DEPENDENCIES,
	HK__COUNT
} hkey;

static const char *const hkey_names[HK__COUNT] = {
	"name", "kind", "materialization", "time_column", "unique_key",
	"partition_by", "owner", "tags", "dependencies"
};

/* The lists of the builder: one per string value, one per list. */
enum
{
	HL_NAME,
	HL_TIME_COLUMN,
	HL_PARTITION_BY,
	HL_OWNER,
	HL_UNIQUE_KEY,
	HL_TAGS,
	HL_DEPENDENCIES,
	HL__COUNT
};

static const char *const kind_names[] = {
	NULL, "FULL_REFRESH", "INCREMENTAL_BY_TIME_RANGE", "APPEND_ONLY", "MERGE_BY_KEY"
};

static const char *const mat_names[] = {
	"TABLE", "VIEW", "MERGE", "INSERT_OVERWRITE"
};

/* The longest piece of a value quoted in a message, in bytes. */
#define QUOTE_MAX 60

/*
 * The name of a model kind, or NULL for IL_KIND_NONE.
 */
const char *
il_model_kind_name(il_model_kind kind)
{
	if ((int) kind <= 0 || (int) kind > IL_KIND_MERGE_BY_KEY)
		return NULL;
	return kind_names[kind];
}

/*
 * The name of a materialization.
 */
const char *
il_materialization_name(il_materialization m)
{
	if ((int) m < 0 || (int) m > IL_MAT_INSERT_OVERWRITE)
		return "TABLE";
	return mat_names[m];
}

/*
 * Frees a header and leaves it empty.
 */
void
il_header_free(il_header *h)
{
	il_free(h->mem);
	memset(h, 0, sizeof(*h));
}

/*
 * Is c a blank (space, tab, carriage return, form feed, vertical tab)?
 */
static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/*
 * Is c a letter, digit or underscore?
 */
static bool
is_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '_';
}

/*
 * Narrows [*a, *b) by removing blanks at both ends.
 */
static void
trim(const char **a, const char **b)
{
	while (*a < *b && is_blank(**a))
		(*a)++;
	while (*b > *a && is_blank((*b)[-1]))
		(*b)--;
}

/*
 * Does s[0..len) equal the word w, ignoring the case of ASCII letters?
 */
static bool
eq_fold(const char *s, size_t len, const char *w)
{
	size_t		i;

	for (i = 0; i < len; i++)
	{
		char		a = s[i];
		char		b = w[i];

		if (b == '\0')
			return false;

		if (a >= 'A' && a <= 'Z')
			a = (char) (a + ('a' - 'A'));
		if (b >= 'A' && b <= 'Z')
			b = (char) (b + ('a' - 'A'));
		if (a != b)
			return false;
	}
	return w[len] == '\0';
}

/*
 * Skips a UTF-8 byte order mark at p.
 */
static const char *
skip_bom(const char *p, const char *end)
{
	if (end - p >= 3 && (unsigned char) p[0] == 0xef && (unsigned char) p[1] == 0xbb &&
		(unsigned char) p[2] == 0xbf)
		p += 3;
	return p;
}

/*
 * The header line at *p, if the header goes on there: false at the end of
 * the input and at the first line that is neither blank nor a comment
 * ("--" after blanks). Else [*a, *z) is the line without blanks at both
 * ends ("--..." or empty), *eol its end, and *p moves past it.
 */
static bool
next_header_line(const char **p, const char *end, const char **a, const char **z,
				 const char **eol)
{
	const char *e;

	if (*p >= end)
		return false;
	e = memchr(*p, '\n', (size_t) (end - *p));
	if (e == NULL)
		e = end;
	*a = *p;
	*z = e;
	trim(a, z);
	if (*a < *z && (*z - *a < 2 || (*a)[0] != '-' || (*a)[1] != '-'))
		return false;
	*eol = e;
	*p = e + 1;
	return true;
}

/*
 * The directive of a header line [a, z) from next_header_line: the key,
 * with *ka where its text starts and *value just after the colon; HK__COUNT
 * for a blank line, a comment without ':' and a key that is none of ours
 * (all comments).
 */
static hkey
directive_of(const char *a, const char *z, const char **ka, const char **value)
{
	const char *colon;
	const char *kz;
	int			k;

	if (a == z)
		return HK__COUNT;
	a += 2;
	colon = memchr(a, ':', (size_t) (z - a));
	if (colon == NULL)
		return HK__COUNT;
	kz = colon;
	trim(&a, &kz);
	for (k = 0; k < HK__COUNT; k++)
		if (eq_fold(a, (size_t) (kz - a), hkey_names[k]))
			break;
	*ka = a;
	*value = colon + 1;
	return (hkey) k;
}

/*
 * Does the header have a directive?
 */
bool
il_header_has_directive(const char *src, size_t len)
{
	const char *p = src ? src : "";
	const char *end = p + len;
	const char *a;
	const char *z;
	const char *eol;
	const char *ka;
	const char *value;

	p = skip_bom(p, end);
	while (next_header_line(&p, end, &a, &z, &eol))
		if (directive_of(a, z, &ka, &value) != HK__COUNT)
			return true;
	return false;
}

/*
 * How many bytes of s[0..len), at most QUOTE_MAX, can be quoted in a
 * message without cutting a UTF-8 character.
 */
static int
quote_len(const char *s, size_t len)
{
	if (len <= QUOTE_MAX)
		return (int) len;
	return (int) il_utf8_boundary(s, QUOTE_MAX);
}

/*
 * The 1-based column, in characters, of p on the line starting at start.
 */
static int
column_of(const char *start, const char *p)
{
	int			col = 1;

	for (; start < p; start++)
		if (((unsigned char) *start & 0xc0) != 0x80)
			col++;
	return col;
}

/*
 * Is s[0..len) a model name of minparts to maxparts parts separated by
 * '.', each made of letters, digits and underscores?
 */
static bool
valid_name(const char *s, size_t len, int minparts, int maxparts)
{
	int			parts = 1;
	size_t		partlen = 0;
	size_t		i;

	for (i = 0; i < len; i++)
	{
		if (s[i] == '.')
		{
			if (partlen == 0)
				return false;
			parts++;
			partlen = 0;
		}
		else if (is_word_char(s[i]))
			partlen++;
		else
			return false;
	}
	return partlen > 0 && parts >= minparts && parts <= maxparts;
}

/*
 * Is s[0..len) a column: parts separated by '.', each either letters,
 * digits, underscores and non-ASCII characters, or a backtick-quoted name
 * (`` for a backtick) that is not empty?
 */
static bool
valid_column(const char *s, size_t len)
{
	size_t		i = 0;

	if (len == 0)
		return false;
	for (;;)
	{
		if (i < len && s[i] == '`')
		{
			size_t		start = ++i;

			for (;;)
			{
				if (i >= len)
					return false;
				if (s[i] == '`')
				{
					if (i + 1 < len && s[i + 1] == '`')
					{
						i += 2;
						continue;
					}
					break;
				}
				i++;
			}
			if (i == start)
				return false;
			i++;
		}
		else
		{
			size_t		start = i;

			while (i < len && (is_word_char(s[i]) || (unsigned char) s[i] >= 0x80))
				i++;
			if (i == start)
				return false;
		}
		if (i == len)
			return true;
		if (s[i] != '.')
			return false;
		i++;
	}
}

/* The state of one header parse. */
typedef struct hparse
{
	il_header  *h;
	il_error   *err;
	int			line;
	const char *line_start;
	il_parse_status status;
	il_lists_builder lb;		/* every string value and list */
} hparse;

/*
 * Sets a header error at the current line, column of p (or no column when p
 * is NULL).
 */
static il_parse_status
herror(hparse *hp, const char *p, il_errcode code, const char *fmt,...)
			__attribute__((format(printf, 4, 5)));

static il_parse_status
herror(hparse *hp, const char *p, il_errcode code, const char *fmt,...)
{
	va_list		ap;
	char		msg[256];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	il_error_set(hp->err, code, hp->line, p ? column_of(hp->line_start, p) : 0, "%s", msg);
	hp->status = IL_PARSE_ERR_HEADER;
	return hp->status;
}

/*
 * Reports that the heap is exhausted.
 */
static il_parse_status
hnomem(hparse *hp)
{
	il_error_set(hp->err, IL_ERR_OUT_OF_MEMORY, hp->line, 0, "out of memory while reading the header");
	hp->status = IL_PARSE_ERR_NOMEM;
	return hp->status;
}

/*
 * Splits the value v[0..vlen) at commas into trimmed, non-empty items and
 * adds them to the key's list, checking each with the key's rule.
 */
static il_parse_status
split_list(hparse *hp, hkey key, const char *v, size_t vlen)
{
	const char *p = v;
	const char *end = v + vlen;
	int			list = key == HK_UNIQUE_KEY ? HL_UNIQUE_KEY : key == HK_TAGS ? HL_TAGS : HL_DEPENDENCIES;

	while (p <= end)
	{
		const char *comma = memchr(p, ',', (size_t) (end - p));
		const char *a = p;
		const char *z = comma ? comma : end;

		trim(&a, &z);
		if (a < z)
		{
			size_t		n = (size_t) (z - a);

			if (key == HK_UNIQUE_KEY && !valid_column(a, n))
				return herror(hp, a, IL_ERR_INVALID_COLUMN,
							  "invalid column '%.*s' in unique_key: write column names (letters, digits, underscores, or `quoted`) separated by commas",
							  quote_len(a, n), a);
			if (key == HK_DEPENDENCIES && !valid_name(a, n, 1, 3))
				return herror(hp, a, IL_ERR_INVALID_DEPENDENCY,
							  "invalid dependency '%.*s': write model names (table, schema.table or catalog.schema.table) separated by commas",
							  quote_len(a, n), a);
			if (!il_lb_add(&hp->lb, list, a, n, key == HK_DEPENDENCIES))
				return hnomem(hp);
		}
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return IL_PARSE_OK;
}

/*
 * Stores the value v[0..vlen) (trimmed) of a known key.
 */
static il_parse_status
set_value(hparse *hp, hkey key, const char *v, size_t vlen)
{
	il_header  *h = hp->h;
	int			i;
	size_t		before;

	if (vlen == 0 && (key == HK_NAME || key == HK_KIND || key == HK_MATERIALIZATION ||
					  key == HK_TIME_COLUMN || key == HK_UNIQUE_KEY))
		return herror(hp, v, IL_ERR_EMPTY_VALUE,
					  "header '%s' has no value: write a value after the colon or remove the line",
					  hkey_names[key]);
	switch (key)
	{
		case HK_NAME:
			if (!valid_name(v, vlen, 2, 3))
				return herror(hp, v, IL_ERR_INVALID_NAME,
							  "invalid model name '%.*s': write schema.table or catalog.schema.table, with letters, digits and underscores",
							  quote_len(v, vlen), v);
			if (!il_lb_add(&hp->lb, HL_NAME, v, vlen, true))
				return hnomem(hp);
			break;
		case HK_KIND:
			for (i = 1; i <= IL_KIND_MERGE_BY_KEY; i++)
			{
				if (eq_fold(v, vlen, kind_names[i]))
				{
					h->kind = (il_model_kind) i;
					break;
				}
			}
			if (h->kind == IL_KIND_NONE)
				return herror(hp, v, IL_ERR_INVALID_KIND,
							  "invalid kind '%.*s': use FULL_REFRESH, INCREMENTAL_BY_TIME_RANGE, APPEND_ONLY or MERGE_BY_KEY",
							  quote_len(v, vlen), v);
			break;
		case HK_MATERIALIZATION:
			for (i = 0; i <= IL_MAT_INSERT_OVERWRITE; i++)
				if (eq_fold(v, vlen, mat_names[i]))
					break;
			if (i > IL_MAT_INSERT_OVERWRITE)
				return herror(hp, v, IL_ERR_INVALID_MATERIALIZATION,
							  "invalid materialization '%.*s': use TABLE, VIEW, MERGE or INSERT_OVERWRITE (or leave the line out for TABLE)",
							  quote_len(v, vlen), v);
			h->materialization = (il_materialization) i;
			break;
		case HK_TIME_COLUMN:
			if (!valid_column(v, vlen))
				return herror(hp, v, IL_ERR_INVALID_COLUMN,
							  "invalid column '%.*s' in time_column: write one column name (letters, digits, underscores, or `quoted`)",
							  quote_len(v, vlen), v);
			if (!il_lb_add(&hp->lb, HL_TIME_COLUMN, v, vlen, false))
				return hnomem(hp);
			break;
		case HK_PARTITION_BY:
		case HK_OWNER:
			if (vlen > 0 &&
				!il_lb_add(&hp->lb, key == HK_OWNER ? HL_OWNER : HL_PARTITION_BY, v, vlen, false))
				return hnomem(hp);
			break;
		case HK_UNIQUE_KEY:
		case HK_TAGS:
		case HK_DEPENDENCIES:
			before = hp->lb.n;
			if (split_list(hp, key, v, vlen) != IL_PARSE_OK)
				return hp->status;
			if (key == HK_UNIQUE_KEY && hp->lb.n == before)
				return herror(hp, v, IL_ERR_EMPTY_VALUE,
							  "header 'unique_key' has no column: write column names separated by commas");
			break;
		case HK__COUNT:
			break;
	}
	return IL_PARSE_OK;
}

/*
 * Parses the header of a model file.
 */
il_parse_status
il_header_parse(const char *src, size_t len, il_header *out, il_error *err)
{
	hparse		hp;
	const char *p = src ? src : "";
	const char *end = p + len;
	int			seen[HK__COUNT];
	int			k;

	memset(out, 0, sizeof(*out));
	memset(seen, 0, sizeof(seen));
	il_error_clear(err);
	hp.h = out;
	hp.err = err;
	hp.line = 0;
	hp.line_start = p;
	hp.status = IL_PARSE_OK;
	il_lb_init(&hp.lb);
	il_lb_unique(&hp.lb, (1u << HL_TAGS) | (1u << HL_DEPENDENCIES));

	p = skip_bom(p, end);
	for (;;)
	{
		const char *line = p;
		const char *eol;
		const char *a;
		const char *z;
		const char *ka;
		const char *nul;
		size_t		bad = 0;
		bool		valid;

		if (!next_header_line(&p, end, &a, &z, &eol))
			break;				/* the end, or the first line of SQL */
		hp.line++;
		hp.line_start = line;
		nul = memchr(line, '\0', (size_t) (eol - line));
		valid = il_utf8_valid(line, (size_t) (eol - line), &bad);
		if (nul != NULL || !valid)
		{
			const char *q = nul;

			if (!valid && (q == NULL || (size_t) (q - line) > bad))
				q = line + bad;
			il_error_set(err, *q ? IL_ERR_INVALID_UTF8 : IL_ERR_NUL_BYTE, hp.line, column_of(line, q),
						 *q ? "invalid utf-8 byte sequence in the header: save the file as utf-8"
						 : "nul byte (0x00) in the header: remove it");
			il_lb_free(&hp.lb);
			il_header_free(out);
			return IL_PARSE_ERR_ENCODING;
		}
		out->lines = hp.line;
		k = directive_of(a, z, &ka, &a);
		if (k == HK__COUNT)
			continue;			/* blank, or a comment */
		if (seen[k])
		{
			herror(&hp, ka, IL_ERR_DUPLICATE_KEY,
				   "header '%s' is given twice (first on line %d): keep one of the lines",
				   hkey_names[k], seen[k]);
			il_lb_free(&hp.lb);
			il_header_free(out);
			return hp.status;
		}
		seen[k] = hp.line;
		trim(&a, &z);
		if (set_value(&hp, (hkey) k, a, (size_t) (z - a)) != IL_PARSE_OK)
		{
			il_lb_free(&hp.lb);
			il_header_free(out);
			return hp.status;
		}
	}

	hp.line_start = NULL;
	if (!seen[HK_NAME])
	{
		hp.line = 1;
		herror(&hp, NULL, IL_ERR_MISSING_NAME,
			   "missing header 'name': add a line '-- name: schema.table' at the top of the file");
	}
	else if (out->kind == IL_KIND_NONE)
	{
		hp.line = 1;
		herror(&hp, NULL, IL_ERR_MISSING_KIND,
			   "missing header 'kind': add a line '-- kind: FULL_REFRESH' (or INCREMENTAL_BY_TIME_RANGE, APPEND_ONLY, MERGE_BY_KEY) at the top of the file");
	}
	else if (out->kind == IL_KIND_INCREMENTAL_BY_TIME_RANGE && !seen[HK_TIME_COLUMN])
	{
		hp.line = seen[HK_KIND];
		herror(&hp, NULL, IL_ERR_MISSING_TIME_COLUMN,
			   "kind INCREMENTAL_BY_TIME_RANGE needs a time column: add a line '-- time_column: <column>' to the header");
	}
	else if (out->kind == IL_KIND_MERGE_BY_KEY && !seen[HK_UNIQUE_KEY])
	{
		hp.line = seen[HK_KIND];
		herror(&hp, NULL, IL_ERR_MISSING_UNIQUE_KEY,
			   "kind MERGE_BY_KEY needs a unique key: add a line '-- unique_key: <column>[, <column>...]' to the header");
	}
	if (hp.status == IL_PARSE_OK)
	{
		il_strlist	lists[HL__COUNT];

		if (!il_lb_finish(&hp.lb, HL__COUNT, (1u << HL_TAGS) | (1u << HL_DEPENDENCIES), lists, &out->mem))
			hnomem(&hp);
		else
		{
			out->name = lists[HL_NAME].n ? lists[HL_NAME].items[0] : NULL;
			out->time_column = lists[HL_TIME_COLUMN].n ? lists[HL_TIME_COLUMN].items[0] : NULL;
			out->partition_by = lists[HL_PARTITION_BY].n ? lists[HL_PARTITION_BY].items[0] : NULL;
			out->owner = lists[HL_OWNER].n ? lists[HL_OWNER].items[0] : NULL;
			out->unique_key = lists[HL_UNIQUE_KEY];
			out->tags = lists[HL_TAGS];
			out->dependencies = lists[HL_DEPENDENCIES];
		}
	}
	il_lb_free(&hp.lb);
	if (hp.status != IL_PARSE_OK)
		il_header_free(out);
	return hp.status;
}
