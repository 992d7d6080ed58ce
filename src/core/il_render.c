/*-------------------------------------------------------------------------
 *
 * il_render.c
 *	  A model's SQL rendered for PostgreSQL, or in the Databricks dialect
 *	  (il_dbx_render.c builds the statements around it); see il_render.h.
 *
 * Two halves. il_render_edits makes a file's edit list from its tokens,
 * once, when the file is parsed (il_model_parse_edits, for the parse
 * record): one pass over the tokens (comments kept) lists the names
 * il_refs' own walker found (il_refs_extract_found), the backticks, the
 * templates and the refusals. render_edits applies an edit list to the
 * text: each name is resolved by il_dag_resolve, so a rewritten name is
 * exactly an edge of the graph and nothing else is touched; the text
 * between edits is copied as it is. The dialect (il_render_target) decides
 * how a relation and a backtick identifier are written and which refusals
 * apply; everything else is shared. Rendering from the text computes the
 * edit list and applies it, so both ways are one implementation. The
 * rendered text is lexed once for the checks that make il_lex's reading of
 * it PostgreSQL's, and judged by the guard.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "il_guard.h"
#include "il_lex.h"
#include "il_refs.h"
#include "il_render.h"
#include "il_repo.h"
#include "il_text.h"

#define lengthof(a) (sizeof(a) / sizeof((a)[0]))

/* Room for user text quoted in a message. */
#define QUOTE_CAP 72

/*
 * Databricks SQL that PostgreSQL cannot run: a keyword, then optionally a
 * second keyword, a data source format word or '('.
 */
#define C_STATEMENT	0x01		/* only where it decides a statement's kind */
#define C_NOT_MERGE	0x02		/* not in a MERGE statement */
#define C_FORMAT	0x04		/* followed by a data source format word */
#define C_PAREN		0x08		/* followed by '(' */

typedef struct construct
{
	const char *name;			/* as named in the message */
	il_keyword	kw;
	il_keyword	next;			/* a second keyword, or IL_KW_NONE */
	unsigned	flags;
	const char *hint;			/* what to write instead */
} construct;

static const construct constructs[] = {
	{"lateral view", IL_KW_LATERAL, IL_KW_VIEW, 0,
	"write a lateral join instead: cross join lateral unnest(...) as u(x)"},
	{"qualify", IL_KW_QUALIFY, IL_KW_NONE, 0,
	"filter on the window function in an outer query instead"},
	{"insert overwrite", IL_KW_INSERT, IL_KW_OVERWRITE, 0,
	"write the query alone: the executor replaces the rows itself (materialization INSERT_OVERWRITE)"},
	{"distribute by", IL_KW_DISTRIBUTE, IL_KW_BY, 0,
	"remove it: postgresql does not distribute rows between tasks"},
	{"cluster by", IL_KW_CLUSTER, IL_KW_BY, 0,
	"remove it: postgresql does not cluster rows between tasks or files"},
	{"sort by", IL_KW_SORT, IL_KW_BY, 0,
	"use order by, or remove it"},
	{"using", IL_KW_USING, IL_KW_NONE, C_FORMAT | C_NOT_MERGE,
	"remove the using clause: the executor builds ordinary postgresql tables"},
	{"optimize", IL_KW_OPTIMIZE, IL_KW_NONE, C_STATEMENT,
	"remove the statement: postgresql maintains its tables itself"},
	{"zorder", IL_KW_ZORDER, IL_KW_NONE, 0,
	"remove it: postgresql has no z-ordering"},
	{"pivot", IL_KW_PIVOT, IL_KW_NONE, C_PAREN,
	"use conditional aggregation instead: sum(x) filter (where k = 'a')"},
	{"unpivot", IL_KW_UNPIVOT, IL_KW_NONE, C_PAREN,
	"use a lateral values list instead: cross join lateral (values ...) as u(k, v)"},
};

/* The data source formats of USING <format> (and of format.`path`). */
static const char *const formats[] = {
	"delta", "parquet", "csv", "json", "orc", "avro", "text", "binaryfile"
};

/* What a name the walker listed becomes. */
typedef enum span_kind
{
	SPAN_KEEP,					/* not a model: stays as written */
	SPAN_MODEL,					/* the relation of node */
	SPAN_SOURCE,				/* {{ source() }} of no model: its parts quoted */
	SPAN_AMBIGUOUS,				/* error ambiguous_reference */
	SPAN_UNKNOWN_REF,			/* error unknown_ref */
	SPAN_PATH					/* error unsupported_construct */
} span_kind;

/* The kinds of edits (il_render.h). */
#define E_ERROR		1
#define E_SPAN		2
#define E_QIDENT	3			/* a backtick identifier */
#define E_STRING	4			/* a string literal with "{{" */
#define E_START		5			/* {{ start_date }} */
#define E_END		6			/* {{ end_date }} */
#define E_TCOMMENT	7			/* a template comment */

#define SPAN_TEMPLATE 0x04		/* span flags: its first token is a template */
#define SPAN_AS_WRITTEN 0x08	/* span flags: the name is the text, no copy */

/* One decoded edit. */
typedef struct edit
{
	int			kind;
	size_t		off;
	size_t		len;			/* not E_ERROR */
	int			flags;			/* E_SPAN */
	const char *name;			/* E_SPAN: the name; E_ERROR: the code */
	size_t		name_len;
	int			mode;			/* E_ERROR: 0 position at, 1 line and column */
	size_t		at;
	int			line;
	int			column;
	const char *msg;			/* E_ERROR */
	size_t		msg_len;
} edit;

/* A reader of an edit list. */
typedef struct edits_rd
{
	const uint8_t *p;
	const uint8_t *end;
	size_t		off;
} edits_rd;

typedef struct renderer
{
	const char *sql;
	size_t		len;
	const il_dag *dag;
	size_t		self;
	const char *prefix;
	const char *catalog;		/* databricks: every relation's catalog */
	il_render_dialect dialect;
	const char *start;
	const char *end;
	il_error   *err;
} renderer;

/* The quote of identifiers the renderer writes for a dialect. */
#define QUOTE_OF(d) ((d) == IL_RENDER_DATABRICKS ? '`' : '"')

/*
 * Sets out_of_memory.
 */
static int
nomem(il_error *err)
{
	il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory while rendering the model");
	return -1;
}

/* User text for a message, in out[0..QUOTE_CAP) (il_quote_text). */
static void
quote_text(char *out, const char *s, size_t len)
{
	il_quote_text(out, QUOTE_CAP, s, len);
}

/*
 * Sets unsupported_construct for name at byte at of s: "name why: hint".
 * With at_out, the position is left to the caller: *at_out is set to at,
 * line and column to 0 (an edit list keeps the byte, not the line).
 */
static int
refuse_at(il_error *err, const char *s, size_t at, size_t *at_out, const char *name,
		  const char *why, const char *hint)
{
	int			line = 0;
	int			col = 0;

	if (at_out != NULL)
		*at_out = at;
	else
		il_lex_position(s, at, &line, &col);
	il_error_set(err, IL_ERR_UNSUPPORTED_CONSTRUCT, line, col, "%s %s: %s", name, why, hint);
	return -1;
}

/* A construct PostgreSQL cannot run (see refuse_at). */
static int
unsupported(il_error *err, const char *s, size_t at, size_t *at_out, const char *name,
			const char *hint)
{
	return refuse_at(err, s, at, at_out, name, "is databricks sql that postgresql cannot run", hint);
}

/*
 * Sets unsupported_construct for text at byte at of s that PostgreSQL
 * would read otherwise than il_lex (and so than the guard); at_out as for
 * unsupported.
 */
static int
misread(il_error *err, const char *s, size_t at, size_t *at_out, const char *name,
		const char *hint)
{
	return refuse_at(err, s, at, at_out, name, "would be read differently by postgresql", hint);
}

/*
 * Is s[0..len) text that may go between double quotes: valid UTF-8, no
 * control character, no backslash?
 */
static bool
ident_ok(const char *s, size_t len)
{
	size_t		i;

	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c < 0x20 || c == 0x7f || c == '\\')
			return false;
	}
	return il_utf8_valid(s, len, NULL);
}

/*
 * Appends s[0..len) with quote (the identifier quote: '"' or '`') doubled.
 */
static void
put_escaped(il_buf *b, const char *s, size_t len, char quote)
{
	const char *q;

	while (len > 0 && (q = memchr(s, quote, len)) != NULL)
	{
		il_buf_append(b, s, (size_t) (q - s) + 1);
		il_buf_putc(b, quote);
		len -= (size_t) (q - s) + 1;
		s = q + 1;
	}
	il_buf_append(b, s, len);
}

/*
 * Checks a schema prefix.
 */
static int
check_prefix(const char *prefix, il_error *err)
{
	if (!ident_ok(prefix, strlen(prefix)))
	{
		il_error_set(err, IL_ERR_INVALID_SCHEMA_PREFIX, 0, 0,
					 "invalid schema prefix: give utf-8 text without control characters or backslashes");
		return -1;
	}
	return 0;
}

/*
 * Appends the relation of model name[0..len) for a dialect: see
 * il_render_relation (PostgreSQL) and il_render_relation_for (Databricks:
 * `catalog`.`prefix+schema`.`table`, up to IL_RENDER_DBX_MAX_IDENT bytes a
 * name).
 */
static int
relation(const char *name, size_t len, const char *prefix, const char *catalog,
		 il_render_dialect dialect, il_buf *out, il_error *err)
{
	char		quote = QUOTE_OF(dialect);
	size_t		max = dialect == IL_RENDER_DATABRICKS ? IL_RENDER_DBX_MAX_IDENT : IL_RENDER_MAX_IDENT;

	const char *part[3];
	size_t		plen[3];
	size_t		nparts = 0;
	size_t		i = 0;
	size_t		plen_prefix = strlen(prefix);
	char		q[QUOTE_CAP];

	for (;;)
	{
		const char *dot = memchr(name + i, '.', len - i);
		size_t		stop = dot ? (size_t) (dot - name) : len;

		if (nparts == 3)
		{
			nparts = 4;
			break;
		}
		part[nparts] = name + i;
		plen[nparts] = stop - i;
		if (plen[nparts] == 0)
		{
			nparts = 0;
			break;
		}
		nparts++;
		if (dot == NULL)
			break;
		i = stop + 1;
	}
	if (nparts < 2 || nparts > 3 || !ident_ok(name, len))
	{
		quote_text(q, name, len);
		il_error_set(err, IL_ERR_INVALID_MODEL_NAME, 0, 0,
					 "invalid model name \"%s\": give schema.table or catalog.schema.table", q);
		return -1;
	}
	if (plen_prefix + plen[nparts - 2] > max || plen[nparts - 1] > max)
	{
		quote_text(q, name, len);
		if (dialect == IL_RENDER_DATABRICKS)
			il_error_set(err, IL_ERR_IDENTIFIER_TOO_LONG, 0, 0,
						 "the relation of model %s has a schema or table name over %d bytes, which databricks "
						 "refuses: use a shorter schema prefix or model name", q, (int) max);
		else
			il_error_set(err, IL_ERR_IDENTIFIER_TOO_LONG, 0, 0,
						 "the relation of model %s has a schema or table name over %d bytes, which postgresql would cut: "
						 "use a shorter schema prefix or model name", q, (int) max);
		return -1;
	}
	if (dialect == IL_RENDER_DATABRICKS)
	{
		il_buf_putc(out, quote);
		put_escaped(out, catalog, strlen(catalog), quote);
		il_buf_append(out, "`.", 2);
	}
	il_buf_putc(out, quote);
	put_escaped(out, prefix, plen_prefix, quote);
	put_escaped(out, part[nparts - 2], plen[nparts - 2], quote);
	il_buf_putc(out, quote);
	il_buf_putc(out, '.');
	il_buf_putc(out, quote);
	put_escaped(out, part[nparts - 1], plen[nparts - 1], quote);
	il_buf_putc(out, quote);
	return 0;
}

/*
 * Checks a Databricks catalog: a name that may go between backticks, not
 * empty, at most IL_RENDER_DBX_MAX_IDENT bytes.
 */
static int
check_catalog(const char *catalog, il_error *err)
{
	size_t		n = catalog ? strlen(catalog) : 0;

	if (n == 0 || n > IL_RENDER_DBX_MAX_IDENT || !ident_ok(catalog, n))
	{
		il_error_set(err, IL_ERR_INVALID_CATALOG, 0, 0,
					 "invalid catalog: give a name of 1 to %d bytes of utf-8 text without control characters or "
					 "backslashes", IL_RENDER_DBX_MAX_IDENT);
		return -1;
	}
	return 0;
}

/*
 * Checks a target's prefix (and catalog, for Databricks).
 */
static int
check_target(const il_render_target *tg, il_error *err)
{
	if (check_prefix(tg->schema_prefix ? tg->schema_prefix : "", err) != 0)
		return -1;
	if (tg->dialect == IL_RENDER_DATABRICKS && check_catalog(tg->catalog, err) != 0)
		return -1;
	return 0;
}

/*
 * The relation of a model, for callers.
 */
int
il_render_relation(const char *model_name, const char *schema_prefix, il_buf *out, il_error *err)
{
	il_render_target tg = {IL_RENDER_POSTGRESQL, NULL, schema_prefix};

	return il_render_relation_for(&tg, model_name, out, err);
}

int
il_render_relation_for(const il_render_target *tg, const char *model_name, il_buf *out, il_error *err)
{
	const char *schema_prefix = tg->schema_prefix ? tg->schema_prefix : "";
	il_buf		tmp = IL_BUF_INIT;
	int			ret;

	il_error_clear(err);
	if (model_name == NULL)
		model_name = "";
	if (check_target(tg, err) != 0)
		return -1;
	ret = relation(model_name, strlen(model_name), schema_prefix, tg->catalog, tg->dialect, &tmp, err);
	if (ret == 0)
	{
		if (tmp.oom)
			ret = nomem(err);
		else
		{
			il_buf_append(out, tmp.data, tmp.len);
			if (out->oom)
				ret = nomem(err);
		}
	}
	il_buf_free(&tmp);
	return ret;
}

/*
 * Is s a date YYYY-MM-DD of years 0001 to 9999?
 */
static bool
valid_date(const char *s)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int			y = 0,
				m,
				d,
				i,
				dim;

	for (i = 0; i < 10; i++)
	{
		if (i == 4 || i == 7)
		{
			if (s[i] != '-')
				return false;
		}
		else if (s[i] < '0' || s[i] > '9')
			return false;
	}
	if (s[10] != '\0')
		return false;
	for (i = 0; i < 4; i++)
		y = y * 10 + (s[i] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1 || m < 1 || m > 12 || d < 1)
		return false;
	dim = mdays[m - 1];
	if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		dim = 29;
	return d <= dim;
}

/*
 * Checks the step's range.
 */
static int
check_range(const char *start, const char *end, il_error *err)
{
	char		q[QUOTE_CAP];

	if (start == NULL && end == NULL)
		return 0;
	if (start == NULL || end == NULL)
	{
		il_error_set(err, IL_ERR_INVALID_RANGE, 0, 0,
					 "invalid range: give both start and end dates, or neither");
		return -1;
	}
	if (!valid_date(start) || !valid_date(end))
	{
		const char *bad = valid_date(start) ? end : start;

		quote_text(q, bad, strlen(bad));
		il_error_set(err, IL_ERR_INVALID_RANGE, 0, 0,
					 "invalid range date \"%s\": write a date as YYYY-MM-DD", q);
		return -1;
	}
	if (strcmp(start, end) > 0)
	{
		il_error_set(err, IL_ERR_INVALID_RANGE, 0, 0,
					 "invalid range: start %s is after end %s", start, end);
		return -1;
	}
	return 0;
}

/*
 * Turns the lexer's error into ours: its message and position, our code.
 */
static int
lex_failed(il_parse_status st, il_error *err)
{
	switch (st)
	{
		case IL_PARSE_ERR_ENCODING:
			err->code = il_errcode_name(IL_ERR_INVALID_ENCODING);
			break;
		case IL_PARSE_ERR_LIMIT:
			err->code = il_errcode_name(IL_ERR_PARSE_LIMIT);
			break;
		case IL_PARSE_ERR_NOMEM:
			return nomem(err);
		default:
			err->code = il_errcode_name(IL_ERR_SYNTAX_ERROR);
			break;
	}
	return -1;
}

/*
 * Lexes src[0..len) once, comments kept, into all, and puts the tokens
 * without comments (what il_lex without IL_LEX_KEEP_COMMENTS gives: the
 * same tokens, the partners of brackets renumbered) into toks, which the
 * guard and il_refs' walker read. Comments change nothing else in the
 * lexer's reading (they never count as the previous token), so the two
 * lists are those of two lexings, for one.
 */
il_parse_status
il_render_lex(const char *src, size_t len, il_tokens *all, il_tokens *toks, il_error *err)
{
	il_parse_status st = il_lex(src, len, IL_LEX_KEEP_COMMENTS, all, err);
	size_t		n = 0;
	size_t		k = 0;
	size_t		i;

	if (st != IL_PARSE_OK)
		return st;
	for (i = 0; i < all->n; i++)
		n += all->tok[i].type != IL_TOK_COMMENT;
	toks->tok = il_malloc((n + 1) * sizeof(il_token));
	if (toks->tok == NULL)
		return IL_PARSE_ERR_NOMEM;
	toks->cap = n + 1;
	for (i = 0; i < all->n; i++)
	{
		il_token   *t = &all->tok[i];

		if (t->type == IL_TOK_COMMENT)
			continue;
		toks->tok[k] = *t;
		if (t->type == IL_TOK_LPAREN || t->type == IL_TOK_LBRACKET)
		{
			/* the closer, still ahead, keeps this one's new index meanwhile */
			toks->tok[k].lenm = (uint32_t) i;
			all->tok[t->lenm].lenm = (uint32_t) k;
		}
		else if (t->type == IL_TOK_RPAREN || t->type == IL_TOK_RBRACKET)
		{
			uint32_t	open = t->lenm;

			t->lenm = toks->tok[open].lenm;
			toks->tok[open].lenm = (uint32_t) k;
			toks->tok[k].lenm = open;
		}
		k++;
	}
	toks->n = n;
	return IL_PARSE_OK;
}

/*
 * Runs the guard over tokens of src and turns its first violation into
 * the error.
 */
static int
guard(const char *src, const il_tokens *toks, il_error *err)
{
	il_guard_result g;
	il_parse_status st;
	int			ret = 0;

	st = il_guard_check_tokens(src, toks, &g, err);
	if (st != IL_PARSE_OK)
		ret = lex_failed(st, err);
	else if (!g.ok && g.n > 0)
	{
		il_error_set(err, il_errcode_lookup(g.v[0].rule), g.v[0].line, g.v[0].column, "%s", g.v[0].message);
		ret = -1;
	}
	il_guard_free(&g);
	return ret;
}

/*
 * The checks that make il_lex's reading of token t of s PostgreSQL's (see
 * il_render.h), for the model file and again for the rendered text (where,
 * unlike in the file, no template may be left).
 */
static int
lexical_check(const char *s, const il_token *t, bool rendered, il_render_dialect dialect,
			  il_error *err, size_t *at_out)
{
	const char *p = s + t->off;
	size_t		len = il_tok_len(t);

	/*
	 * Databricks reads the text as il_lex does (backslash escapes,
	 * backticks, comments): only what no dialect runs is refused.
	 */
	if (dialect == IL_RENDER_DATABRICKS)
	{
		if (t->type == IL_TOK_VARIABLE)
			return refuse_at(err, s, t->off, at_out, "a ${...} variable",
							 "is not substituted by the statement execution api", "write the value itself");
		if (!rendered)
			return 0;
		if (t->type == IL_TOK_TEMPLATE)
			return refuse_at(err, s, t->off, at_out, "a template block formed by rendering",
							 "is not sql", "do not build template syntax out of pieces");
		if (t->type == IL_TOK_COMMENT && (t->flags & IL_TOKF_TEMPLATE_COMMENT))
			return refuse_at(err, s, t->off, at_out, "a template comment formed by rendering",
							 "is not sql", "do not build template syntax out of pieces");
		return 0;
	}
	switch (t->type)
	{
		case IL_TOK_STRING:
			if (memchr(p, '\\', len) != NULL)
			{
				return misread(err, s, (size_t) ((const char *) memchr(p, '\\', len) - s), at_out,
							   "a backslash escape in a string literal",
							   "postgresql reads a backslash in a string as itself; write the character "
							   "itself ('' for a quote)");
			}
			return 0;
		case IL_TOK_QIDENT:
			if (memchr(p, '\\', len) != NULL)
				return misread(err, s, t->off, at_out, "a backslash in a quoted identifier",
							   "rename the column or table");
			return 0;
		case IL_TOK_OP:
			if (memchr(p, '$', len) != NULL)
				return misread(err, s, t->off, at_out, "a dollar sign",
							   "postgresql reads it as dollar quoting or a parameter; remove it");
			return 0;
		case IL_TOK_VARIABLE:
			return misread(err, s, t->off, at_out, "a ${...} variable",
						   "write the value itself");
		case IL_TOK_TEMPLATE:
			if (!rendered)
				return 0;
			return misread(err, s, t->off, at_out, "a template block formed by rendering",
						   "do not build template syntax out of pieces");
		case IL_TOK_COMMENT:
			if ((t->flags & IL_TOKF_TEMPLATE_COMMENT) && !rendered)
				return 0;
			if (t->flags & IL_TOKF_TEMPLATE_COMMENT)
				return misread(err, s, t->off, at_out, "a template comment formed by rendering",
							   "do not build template syntax out of pieces");
			if (len >= 2 && p[0] == '-' && p[1] == '-')
			{
				size_t		i;

				for (i = 2; i < len; i++)
				{
					/*
					 * A CR as the comment's last byte (before the newline or
					 * the end) ends it in both readings.
					 */
					if (p[i] == '\r' && i + 1 < len)
					{
						return misread(err, s, t->off + i, at_out, "a carriage return inside a -- comment",
									   "postgresql ends the comment there; use newlines (or CR LF) only");
					}
				}
			}
			return 0;
		default:
			return 0;
	}
}

/*
 * Appends the newlines of s[from..to): what keeps lines in place when that
 * text is replaced.
 */
static void
put_newlines(il_buf *o, const char *s, size_t from, size_t to)
{
	const char *p = s + from;
	const char *e = s + to;

	while (p < e && (p = memchr(p, '\n', (size_t) (e - p))) != NULL)
	{
		il_buf_putc(o, '\n');
		p++;
	}
}

/*
 * Before a replacement that starts with quote: a space after the same
 * quote (it would continue that identifier) or, for '"', a '&' (U&"..." is
 * a unicode identifier in PostgreSQL).
 */
static void
space_before_quote(il_buf *o, char quote)
{
	if (o->len > 0 && (o->data[o->len - 1] == quote || (quote == '"' && o->data[o->len - 1] == '&')))
		il_buf_putc(o, ' ');
}

/*
 * After a replacement that ends with quote: a space when the text goes on
 * with the same quote.
 */
static void
space_after_quote(const renderer *r, size_t next, char quote, il_buf *o)
{
	if (next < r->len && r->sql[next] == quote)
		il_buf_putc(o, ' ');
}

/*
 * If the {{ ... }} block p[0..len) is just a name (trim markers and
 * spacing allowed), sets *name, *nlen and returns true. It reads forward
 * only and stops at the first byte that does not fit, so trying every
 * "{{" of a string before one "}}" stays linear.
 */
static bool
template_var(const char *p, size_t len, const char **name, size_t *nlen)
{
	size_t		i = 2;
	size_t		n0;

	if (len < 4 || p[0] != '{' || p[1] != '{' || p[len - 2] != '}' || p[len - 1] != '}')
		return false;
	len -= 2;					/* the closer */
	if (i < len && p[i] == '-')
		i++;
	while (i < len && strchr(" \t\n\r\f\v", p[i]) != NULL)
		i++;
	n0 = i;
	while (i < len && ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
					   (p[i] >= '0' && p[i] <= '9') || p[i] == '_'))
		i++;
	if (i == n0 || (p[n0] >= '0' && p[n0] <= '9'))
		return false;
	*name = p + n0;
	*nlen = i - n0;
	while (i < len && strchr(" \t\n\r\f\v", p[i]) != NULL)
		i++;
	if (i < len && p[i] == '-')
		i++;
	return i == len;
}

/*
 * The date a template variable stands for: 0 with *date set (NULL when it
 * is not start_date or end_date), or -1 with missing_range.
 */
static int
template_date(const renderer *r, const char *name, size_t nlen, size_t at,
			  const char **date)
{
	const char *which = NULL;
	int			line;
	int			col;

	*date = NULL;
	if (nlen == 10 && memcmp(name, "start_date", 10) == 0)
	{
		which = "start_date";
		*date = r->start;
	}
	else if (nlen == 8 && memcmp(name, "end_date", 8) == 0)
	{
		which = "end_date";
		*date = r->end;
	}
	if (which != NULL && *date == NULL)
	{
		il_lex_position(r->sql, at, &line, &col);
		il_error_set(r->err, IL_ERR_MISSING_RANGE, line, col,
					 "{{ %s }} needs the step's date range, and this step has none (a full refresh): "
					 "use the template only in models that run incrementally", which);
		return -1;
	}
	return 0;
}

/*
 * Sets unknown_template for the block at off (its position left to the
 * caller, as the edit list keeps the byte).
 */
static void
unknown_template(il_error *err, const char *sql, size_t off, size_t len)
{
	char		q[QUOTE_CAP];

	quote_text(q, sql + off, len);
	il_error_set(err, IL_ERR_UNKNOWN_TEMPLATE, 0, 0,
				 "unknown template %s: only {{ ref('model') }}, {{ source('schema', 'table') }}, "
				 "{{ start_date }} and {{ end_date }} are rendered", q);
}

/*
 * Does the text s[0..len) hold "{{"?
 */
static bool
has_template(const char *s, size_t len)
{
	const char *p = s;
	const char *e = s + len;

	while (p < e && (p = memchr(p, '{', (size_t) (e - p))) != NULL)
	{
		if (p + 1 < e && p[1] == '{')
			return true;
		p++;
	}
	return false;
}

/*
 * Writes the string literal token at off, its {{ start_date }} and {{ end_date }}
 * replaced by the bare date; other text stays.
 */
static int
put_string(const renderer *r, size_t off, size_t len, il_buf *o)
{
	const char *s = r->sql;
	size_t		p = off;
	size_t		stop = off + len;
	size_t		close = p;		/* where the next "}}" was last looked for */
	size_t		copied = p;
	size_t		newlines = 0;	/* of the replaced templates */

	while (p + 1 < stop)
	{
		const char *name;
		const char *date;
		size_t		nlen;
		size_t		end;

		if (s[p] != '{' || s[p + 1] != '{')
		{
			p++;
			continue;
		}
		/* the first "}}" after p + 2; it only moves forward */
		if (close < p + 2)
			close = p + 2;
		while (close + 1 < stop && !(s[close] == '}' && s[close + 1] == '}'))
			close++;
		if (close + 1 >= stop)
			break;
		end = close + 2;
		if (!template_var(s + p, end - p, &name, &nlen))
		{
			p++;
			continue;
		}
		if (template_date(r, name, nlen, p, &date) != 0)
			return -1;
		if (date == NULL)
		{
			p++;
			continue;
		}
		il_buf_append(o, s + copied, p - copied);
		il_buf_puts(o, date);
		for (; p < end; p++)
			newlines += s[p] == '\n';
		copied = end;
	}
	il_buf_append(o, s + copied, stop - copied);
	while (newlines-- > 0)
		il_buf_putc(o, '\n');
	return 0;
}

/*
 * Writes the backtick identifier at off (len >= 2) as a double-quoted one.
 */
static void
put_qident(const renderer *r, size_t off, size_t len, il_buf *o)
{
	const char *p = r->sql + off + 1;
	const char *e = r->sql + off + len - 1;

	space_before_quote(o, '"');
	il_buf_putc(o, '"');
	while (p < e)
	{
		const char *q = p;

		while (q < e && *q != '`' && *q != '"')
			q++;
		il_buf_append(o, p, (size_t) (q - p));
		if (q >= e)
			break;
		if (*q == '`')
		{
			il_buf_putc(o, '`');
			q += 2;				/* `` stands for one backtick */
		}
		else
		{
			il_buf_append(o, "\"\"", 2);
			q++;
		}
		p = q;
	}
	il_buf_putc(o, '"');
	space_after_quote(r, off + len, '"', o);
}

/*
 * Is token j a data source format word?
 */
static const char *
format_at(const il_tokens *tk, const char *s, size_t j)
{
	size_t		f;

	if (j >= tk->n || tk->tok[j].type != IL_TOK_WORD)
		return NULL;
	for (f = 0; f < lengthof(formats); f++)
	{
		size_t		n = strlen(formats[f]);
		size_t		i;

		if (il_tok_len(&tk->tok[j]) != n)
			continue;
		for (i = 0; i < n; i++)
			if ((s[tk->tok[j].off + i] | 0x20) != formats[f][i])
				break;
		if (i == n)
			return formats[f];
	}
	return NULL;
}

/*
 * Fails on a construct of the table at token j (without comments) of a
 * statement of this kind whose deciding keyword is kw_at.
 */
static int
check_construct(const char *sql, const il_tokens *tk, size_t j, il_stmt_kind kind, size_t kw_at,
				il_error *err, size_t *at_out)
{
	il_keyword	k = il_tok_keyword(tk, j);
	size_t		c;

	/* most keywords start no construct: decided without the table */
	switch (k)
	{
		case IL_KW_LATERAL:
		case IL_KW_QUALIFY:
		case IL_KW_INSERT:
		case IL_KW_DISTRIBUTE:
		case IL_KW_CLUSTER:
		case IL_KW_SORT:
		case IL_KW_USING:
		case IL_KW_OPTIMIZE:
		case IL_KW_ZORDER:
		case IL_KW_PIVOT:
		case IL_KW_UNPIVOT:
			break;
		default:
			return 0;
	}
	for (c = 0; c < lengthof(constructs); c++)
	{
		const construct *x = &constructs[c];
		const char *format = NULL;

		if (x->kw != k)
			continue;
		if (x->next != IL_KW_NONE && il_tok_keyword(tk, j + 1) != x->next)
			continue;
		if ((x->flags & C_FORMAT) && (format = format_at(tk, sql, j + 1)) == NULL)
			continue;
		if ((x->flags & C_STATEMENT) && kw_at != j)
			continue;
		if ((x->flags & C_NOT_MERGE) && kind == IL_STMT_MERGE)
			continue;
		if ((x->flags & C_PAREN) && !(j + 1 < tk->n && tk->tok[j + 1].type == IL_TOK_LPAREN))
			continue;
		if (format != NULL)
		{
			char		what[32];

			snprintf(what, sizeof(what), "%s %s", x->name, format);
			return unsupported(err, sql, tk->tok[j].off, at_out, what, x->hint);
		}
		return unsupported(err, sql, tk->tok[j].off, at_out, x->name, x->hint);
	}
	return 0;
}

/* ---- the names the walker lists ---- */

void
il_render_names_init(il_render_names *nm, const il_tokens *toks)
{
	memset(nm, 0, sizeof(*nm));
	nm->toks = toks;
	il_buf_init(&nm->names);
}

void
il_render_names_free(il_render_names *nm)
{
	il_free(nm->spans);
	nm->spans = NULL;
	nm->n = nm->cap = 0;
	il_buf_free(&nm->names);
}

/*
 * Records one name the walker listed (il_refs_found_fn). Whether it is
 * rewritten is decided when the edits are applied, against the graph.
 */
void
il_render_found(void *arg, const il_refs_found *f)
{
	il_render_names *nm = arg;
	const il_token *a = &nm->toks->tok[f->first];
	const il_token *b = &nm->toks->tok[f->last];
	il_render_span *s;

	if (nm->oom)
		return;
	if (nm->n > 0 && a->off < nm->spans[nm->n - 1].end)
	{
		nm->unordered = true;
		return;
	}
	if (nm->n == nm->cap)
	{
		size_t		cap = nm->cap ? nm->cap * 2 : 16;
		il_render_span *ns = il_realloc(nm->spans, cap * sizeof(il_render_span));

		if (ns == NULL)
		{
			nm->oom = true;
			return;
		}
		nm->spans = ns;
		nm->cap = cap;
	}
	if (nm->names.len + f->len > UINT32_MAX)
	{
		nm->oom = true;
		return;
	}
	s = &nm->spans[nm->n++];
	s->start = a->off;
	s->end = b->off + il_tok_len(b);
	s->list = (uint8_t) f->list;
	s->tmpl = a->type == IL_TOK_TEMPLATE;
	s->name_off = (uint32_t) nm->names.len;
	s->name_len = (uint32_t) f->len;
	il_buf_append(&nm->names, f->name, f->len);
	if (nm->names.oom)
		nm->oom = true;
}

/* ---- the edit list: written ---- */

/* Appends an unsigned LEB128 varint. */
static void
put_varint(il_buf *b, uint64_t v)
{
	while (v >= 0x80)
	{
		il_buf_putc(b, (char) ((v & 0x7f) | 0x80));
		v >>= 7;
	}
	il_buf_putc(b, (char) v);
}

/* Appends a string: length, bytes. */
static void
put_str(il_buf *b, const char *s, size_t n)
{
	put_varint(b, n);
	il_buf_append(b, s, n);
}

/* An edit list being written. */
typedef struct planner
{
	const char *sql;
	const il_tokens *toks;
	il_buf	   *out;
	size_t		last;			/* the previous edit's offset */
} planner;

/* Appends an edit's kind and offset. */
static void
put_edit(planner *p, int kind, size_t off)
{
	il_buf_putc(p->out, (char) kind);
	put_varint(p->out, off - p->last);
	p->last = off;
}

/* Appends an edit of a token. */
static void
put_token_edit(planner *p, int kind, const il_token *t)
{
	put_edit(p, kind, t->off);
	put_varint(p->out, il_tok_len(t));
}

/*
 * Appends the error err found at byte at (the token at off) as a refusal.
 */
static void
put_error(planner *p, size_t off, const il_error *err, size_t at)
{
	put_edit(p, E_ERROR, off);
	put_str(p->out, err->code, strlen(err->code));
	put_varint(p->out, 0);
	put_varint(p->out, at - off);
	put_str(p->out, err->message, strlen(err->message));
}

/*
 * The edit list of a file; see il_render.h. One pass over the tokens
 * (comments kept), in the order rendering from the text judged them: a
 * token's checks, then the name starting at it, then its own rewriting.
 * A refusal outside every name ends the list (rendering stops there); one
 * inside a name counts only if the name is not rewritten, so the pass
 * goes on.
 */
static int
write_edits(const char *sql, size_t len, const il_tokens *all, const il_tokens *toks,
			const il_render_names *nm, const il_guard_result *g, il_render_dialect dialect,
			il_buf *out, il_error *err)
{
	planner		p = {sql, toks, out, 0};
	il_error	e;
	size_t		span_end = 0;	/* of the last name */
	size_t		si = 0;
	size_t		j = 0;
	size_t		i;
	size_t		stmt_start = 0;
	size_t		kw_at = 0;
	size_t		depth = 0;
	size_t		at;
	il_stmt_kind kind = IL_STMT_NONE;

	il_error_clear(err);
	if (sql == NULL)
		sql = "";
	if (g != NULL && !g->ok && g->n > 0)
	{
		const char *code = il_errcode_name(il_errcode_lookup(g->v[0].rule));

		put_edit(&p, E_ERROR, 0);
		put_str(out, code ? code : "", code ? strlen(code) : 0);
		put_varint(out, 1);
		put_varint(out, (uint64_t) (g->v[0].line > 0 ? g->v[0].line : 0));
		put_varint(out, (uint64_t) (g->v[0].column > 0 ? g->v[0].column : 0));
		put_str(out, g->v[0].message, strlen(g->v[0].message));
		goto done;
	}
	if (nm->unordered)
	{
		il_error_set(&e, IL_ERR_INTERNAL_ERROR, 0, 0, "references were found out of text order");
		put_error(&p, 0, &e, 0);
		goto done;
	}
	for (i = 0; i < all->n; i++)
	{
		const il_token *t = &all->tok[i];
		size_t		tj = j;
		bool		inner = t->off < span_end;	/* inside a name, not its first token */
		int			bad;

		if (t->type != IL_TOK_COMMENT)
			j++;
		il_error_clear(&e);
		bad = lexical_check(sql, t, false, dialect, &e, &at);
		if (t->type != IL_TOK_COMMENT)
		{
			if (tj == stmt_start)
				kind = il_stmt_classify(toks, tj, &kw_at);
			if (bad == 0 && dialect == IL_RENDER_POSTGRESQL)
				bad = check_construct(sql, toks, tj, kind, kw_at, &e, &at);
			if (t->type == IL_TOK_LPAREN)
				depth++;
			else if (t->type == IL_TOK_RPAREN && depth > 0)
				depth--;
			else if (t->type == IL_TOK_SEMI && depth == 0)
				stmt_start = tj + 1;
		}
		if (bad != 0)
		{
			put_error(&p, t->off, &e, at);
			if (!inner)
				goto done;
			continue;
		}
		if (si < nm->n && nm->spans[si].start == t->off)
		{
			const il_render_span *sp = &nm->spans[si];

			const char *name = nm->names.data + sp->name_off;
			bool		as_written = sp->name_len == sp->end - sp->start &&
				memcmp(name, sql + sp->start, sp->name_len) == 0;

			put_edit(&p, E_SPAN, t->off);
			put_varint(out, sp->end - sp->start);
			il_buf_putc(out, (char) (sp->list | (sp->tmpl ? SPAN_TEMPLATE : 0) |
									 (as_written ? SPAN_AS_WRITTEN : 0)));
			if (!as_written)
				put_str(out, name, sp->name_len);
			span_end = sp->end;
			inner = true;		/* its own rewriting counts only if it stays */
			si++;
			if (sp->tmpl)
				continue;		/* a template name never stays (put_span) */
		}
		switch (t->type)
		{
			case IL_TOK_QIDENT:
				put_token_edit(&p, E_QIDENT, t);
				break;
			case IL_TOK_STRING:
				if (has_template(sql + t->off, il_tok_len(t)))
					put_token_edit(&p, E_STRING, t);
				break;
			case IL_TOK_TEMPLATE:
				{
					const char *name;
					size_t		nlen;

					if (sql[t->off + 1] == '{' && template_var(sql + t->off, il_tok_len(t), &name, &nlen))
					{
						if (nlen == 10 && memcmp(name, "start_date", 10) == 0)
						{
							put_token_edit(&p, E_START, t);
							break;
						}
						if (nlen == 8 && memcmp(name, "end_date", 8) == 0)
						{
							put_token_edit(&p, E_END, t);
							break;
						}
					}
					unknown_template(&e, sql, t->off, il_tok_len(t));
					put_error(&p, t->off, &e, t->off);
					if (!inner)
						goto done;
					break;
				}
			case IL_TOK_COMMENT:
				if (t->flags & IL_TOKF_TEMPLATE_COMMENT)
					put_token_edit(&p, E_TCOMMENT, t);
				break;
			default:
				break;
		}
	}
	if (si < nm->n)
	{
		il_error_set(&e, IL_ERR_INTERNAL_ERROR, 0, 0, "a reference lies outside the model's tokens");
		put_error(&p, len, &e, len);
	}
done:
	if (out->oom)
		return nomem(err);
	return 0;
}

int
il_render_edits(const char *sql, size_t len, const il_tokens *all, const il_tokens *toks,
				const il_render_names *nm, const il_guard_result *g, il_buf *out, il_error *err)
{
	return write_edits(sql, len, all, toks, nm, g, IL_RENDER_POSTGRESQL, out, err);
}

/* ---- the edit list: read ---- */

/* Reads a varint (at most 63 bits); false at a malformed one. */
static bool
get_varint(edits_rd *r, uint64_t *v)
{
	int			shift = 0;

	*v = 0;
	while (r->p < r->end && shift <= 56)
	{
		uint8_t		c = *r->p++;

		*v |= (uint64_t) (c & 0x7f) << shift;
		if ((c & 0x80) == 0)
			return true;
		shift += 7;
	}
	return false;
}

/* Reads a size (below 2^31: a file is at most 1 GiB). */
static bool
get_size(edits_rd *r, size_t *v)
{
	uint64_t	x;

	if (!get_varint(r, &x) || x > 0x7fffffff)
		return false;
	*v = (size_t) x;
	return true;
}

/* Reads a string, valid UTF-8 without NUL. */
static bool
get_str(edits_rd *r, const char **s, size_t *n)
{
	if (!get_size(r, n) || *n > (size_t) (r->end - r->p))
		return false;
	*s = (const char *) r->p;
	if (memchr(*s, '\0', *n) != NULL || !il_utf8_valid(*s, *n, NULL))
		return false;
	r->p += *n;
	return true;
}

/*
 * Reads the next edit: 1, 0 at the end, -1 when malformed.
 */
static int
next_edit(edits_rd *r, edit *e)
{
	size_t		delta;

	if (r->p >= r->end)
		return 0;
	memset(e, 0, sizeof(*e));
	e->kind = *r->p++;
	if (!get_size(r, &delta) || delta > 0x7fffffff - r->off)
		return -1;
	r->off += delta;
	e->off = r->off;
	switch (e->kind)
	{
		case E_ERROR:
			{
				size_t		mode;

				if (!get_str(r, &e->name, &e->name_len) || !get_size(r, &mode) || mode > 1)
					return -1;
				e->mode = (int) mode;
				if (mode == 0)
				{
					if (!get_size(r, &e->at) || e->at > 0x7fffffff - e->off)
						return -1;
					e->at += e->off;
				}
				else
				{
					size_t		line,
								col;

					if (!get_size(r, &line) || !get_size(r, &col))
						return -1;
					e->line = (int) line;
					e->column = (int) col;
				}
				if (!get_str(r, &e->msg, &e->msg_len) || e->msg_len >= sizeof(((il_error *) 0)->message))
					return -1;
				return 1;
			}
		case E_SPAN:
			if (!get_size(r, &e->len) || e->len == 0 || r->p >= r->end)
				return -1;
			e->flags = *r->p++;
			if ((e->flags & ~(SPAN_TEMPLATE | SPAN_AS_WRITTEN | 3)) != 0)
				return -1;
			if (!(e->flags & SPAN_AS_WRITTEN) &&
				(!get_str(r, &e->name, &e->name_len) || e->name_len >= 0x7fffffff))
				return -1;
			return 1;
		case E_QIDENT:
		case E_STRING:
		case E_START:
		case E_END:
		case E_TCOMMENT:
			if (!get_size(r, &e->len) || (e->kind == E_QIDENT && e->len < 2))
				return -1;
			return 1;
		default:
			return -1;
	}
}

bool
il_render_edits_valid(const uint8_t *e, size_t n)
{
	static const uint8_t none[1];
	edits_rd	r = {e ? e : none, (e ? e : none) + (e ? n : 0), 0};
	edit		x;
	int			rc;

	while ((rc = next_edit(&r, &x)) == 1)
		;
	return rc == 0;
}

/* ---- the edit list: applied ---- */

/*
 * Writes what a listed name becomes: 0 with *kept when it stays as
 * written, or -1 with the error.
 */
static int
put_span(const renderer *r, const edit *sp, il_buf *o, bool *kept)
{
	const char *name = sp->name;
	il_dag_resolution res = IL_DAG_UNRESOLVED;
	size_t		node = 0;
	span_kind	kind;
	char		q[QUOTE_CAP];
	int			line;
	int			col;

	*kept = false;
	if ((sp->flags & 3) == IL_REFS_PATHS && r->dialect == IL_RENDER_DATABRICKS)
	{
		*kept = true;			/* a file-path relation: databricks reads it */
		return 0;
	}
	if ((sp->flags & 3) == IL_REFS_PATHS)
		kind = SPAN_PATH;
	else
	{
		if (r->dag != NULL)
			res = il_dag_resolve(r->dag, name, sp->name_len, &node);
		if (res == IL_DAG_RESOLVED)
			kind = SPAN_MODEL;
		else if (res == IL_DAG_AMBIGUOUS)
			kind = SPAN_AMBIGUOUS;
		else if ((sp->flags & 3) == IL_REFS_REFS)
			kind = SPAN_UNKNOWN_REF;
		else if (sp->flags & SPAN_TEMPLATE)
			kind = SPAN_SOURCE;
		else
		{
			*kept = true;		/* not a model: stays as written */
			return 0;
		}
	}
	if (kind != SPAN_MODEL && kind != SPAN_SOURCE)
		quote_text(q, name, sp->name_len);	/* for the message */
	switch (kind)
	{
		case SPAN_KEEP:
			break;
		case SPAN_MODEL:
			{
				const char *mname = r->dag->names[node];

				space_before_quote(o, QUOTE_OF(r->dialect));
				if (relation(mname, strlen(mname), r->prefix, r->catalog, r->dialect, o, r->err) != 0)
				{
					il_lex_position(r->sql, sp->off, &r->err->line, &r->err->column);
					return -1;
				}
				break;
			}
		case SPAN_SOURCE:
			{
				size_t		i = 0;

				if (!ident_ok(name, sp->name_len))
					return misread(r->err, r->sql, sp->off, NULL,
								   "a control character or backslash in a source name",
								   "name the source plainly");
				space_before_quote(o, QUOTE_OF(r->dialect));
				while (i <= sp->name_len)
				{
					const char *dot = memchr(name + i, '.', sp->name_len - i);
					size_t		stop = dot ? (size_t) (dot - name) : sp->name_len;

					if (i > 0)
						il_buf_putc(o, '.');
					il_buf_putc(o, QUOTE_OF(r->dialect));
					put_escaped(o, name + i, stop - i, QUOTE_OF(r->dialect));
					il_buf_putc(o, QUOTE_OF(r->dialect));
					i = stop + 1;
				}
				break;
			}
		case SPAN_AMBIGUOUS:
			{
				il_buf		cands = IL_BUF_INIT;

				il_dag_candidates(r->dag, name, sp->name_len, &cands);
				il_lex_position(r->sql, sp->off, &line, &col);
				il_error_set(r->err, IL_ERR_AMBIGUOUS_REFERENCE, line, col,
							 "%s matches several models (%s): write the full name", q, il_buf_cstr(&cands));
				il_buf_free(&cands);
				return -1;
			}
		case SPAN_UNKNOWN_REF:
			il_lex_position(r->sql, sp->off, &line, &col);
			if (r->dag != NULL && r->self < r->dag->n)
				il_error_set(r->err, IL_ERR_UNKNOWN_REF, line, col,
							 "model %s uses {{ ref('%s') }}, but no model of the repository has that name",
							 r->dag->names[r->self], q);
			else
				il_error_set(r->err, IL_ERR_UNKNOWN_REF, line, col,
							 "{{ ref('%s') }} names no model of the repository", q);
			return -1;
		case SPAN_PATH:
			{
				char		what[QUOTE_CAP + 32];

				snprintf(what, sizeof(what), "the file-path relation %s", q);
				return unsupported(r->err, r->sql, sp->off, NULL, what,
								   "load the files into a table and read that");
			}
	}
	put_newlines(o, r->sql, sp->off, sp->off + sp->len);
	space_after_quote(r, sp->off + sp->len, QUOTE_OF(r->dialect), o);
	return 0;
}

/*
 * Copies the model text into o with the edits applied: the text between
 * edits (and an edit inside a name that was rewritten) as it is.
 */
static int
apply_edits(const renderer *r, const uint8_t *edits, size_t elen, il_buf *o)
{
	static const uint8_t none[1];
	edits_rd	rd = {edits ? edits : none, (edits ? edits : none) + (edits ? elen : 0), 0};
	edit		e;
	size_t		pos = 0;
	int			rc;

	while ((rc = next_edit(&rd, &e)) == 1)
	{
		if (e.off > r->len || (e.kind != E_ERROR && e.len > r->len - e.off))
			break;
		if (e.off < pos)
			continue;			/* inside a rewritten name */
		il_buf_append(o, r->sql + pos, e.off - pos);
		pos = e.off;
		switch (e.kind)
		{
			case E_ERROR:
				{
					int			line = e.line;
					int			col = e.column;
					char		code[64];

					if (e.mode == 0)
					{
						if (e.at > r->len)
							goto damaged;
						il_lex_position(r->sql, e.at, &line, &col);
					}
					if (e.name_len >= sizeof(code))
						goto damaged;
					memcpy(code, e.name, e.name_len);
					code[e.name_len] = '\0';
					il_error_set(r->err, il_errcode_lookup(code), line, col, "%.*s",
								 (int) e.msg_len, e.msg);
					return -1;
				}
			case E_SPAN:
				{
					bool		kept;

					if (e.flags & SPAN_AS_WRITTEN)
					{
						e.name = r->sql + e.off;
						e.name_len = e.len;
					}
					if (put_span(r, &e, o, &kept) != 0)
						return -1;
					if (!kept)
						pos = e.off + e.len;
					continue;
				}
			case E_QIDENT:
				if (r->dialect == IL_RENDER_DATABRICKS)
					il_buf_append(o, r->sql + e.off, e.len);	/* databricks' own quoting */
				else
					put_qident(r, e.off, e.len, o);
				break;
			case E_STRING:
				if (put_string(r, e.off, e.len, o) != 0)
					return -1;
				break;
			case E_START:
			case E_END:
				{
					const char *date = e.kind == E_START ? r->start : r->end;
					size_t		next = e.off + e.len;

					if (date == NULL)
					{
						int			line;
						int			col;

						il_lex_position(r->sql, e.off, &line, &col);
						il_error_set(r->err, IL_ERR_MISSING_RANGE, line, col,
									 "{{ %s }} needs the step's date range, and this step has none (a full refresh): "
									 "use the template only in models that run incrementally",
									 e.kind == E_START ? "start_date" : "end_date");
						return -1;
					}
					if (o->len > 0)
					{
						unsigned char c = (unsigned char) o->data[o->len - 1];

						if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
							c == '_' || c >= 0x80)
							il_buf_putc(o, ' ');
					}
					il_buf_printf(o, "DATE '%s'", date);
					put_newlines(o, r->sql, e.off, next);
					space_after_quote(r, next, '\'', o);
					break;
				}
			case E_TCOMMENT:
				put_newlines(o, r->sql, e.off, e.off + e.len);
				break;
		}
		pos = e.off + e.len;
	}
	if (rc != 0)
		goto damaged;
	il_buf_append(o, r->sql + pos, r->len - pos);
	return o->oom ? nomem(r->err) : 0;
damaged:
	il_error_set(r->err, IL_ERR_INTERNAL_ERROR, 0, 0,
				 "the model's rendering edits do not fit its text: parse the repository again");
	return -1;
}

/*
 * Does the edit list hold a refusal of PostgreSQL's dialect
 * (unsupported_construct: what PostgreSQL cannot run or would misread)?
 * Such a refusal ends the list (il_render_edits), so Databricks rendering
 * makes the list again from the text in its own dialect.
 */
static bool
has_postgresql_refusal(const uint8_t *edits, size_t elen)
{
	static const uint8_t none[1];
	const char *code = il_errcode_name(IL_ERR_UNSUPPORTED_CONSTRUCT);
	edits_rd	rd = {edits ? edits : none, (edits ? edits : none) + (edits ? elen : 0), 0};
	edit		e;

	while (next_edit(&rd, &e) == 1)
		if (e.kind == E_ERROR && e.name_len == strlen(code) && memcmp(e.name, code, e.name_len) == 0)
			return true;
	return false;
}

static int	edits_text(const char *sql, size_t len, il_render_dialect dialect, il_buf *edits,
					   il_error *err);

/*
 * Renders a model from its edit list for a target; see il_render.h. With
 * blank_semis, every ';' token of the result becomes a space
 * (il_render_query). edits NULL: the list is made from the text.
 */
static int
render_edits(const il_render_target *tg, const char *sql, size_t len, const uint8_t *edits, size_t elen,
			 const il_dag *dag, size_t self_node, const char *start, const char *end,
			 bool blank_semis, il_buf *out, il_error *err)
{
	il_tokens	all = IL_TOKENS_INIT;
	il_tokens	rtoks = IL_TOKENS_INIT;
	renderer	r;
	il_buf		o = IL_BUF_INIT;
	il_buf		own = IL_BUF_INIT;
	il_parse_status st;
	size_t		i;
	int			ret = -1;

	il_error_clear(err);
	if (sql == NULL)
		sql = "";
	/* the arguments' errors come first */
	if (check_target(tg, err) != 0 || check_range(start, end, err) != 0)
		return -1;
	if (edits == NULL || (tg->dialect == IL_RENDER_DATABRICKS && has_postgresql_refusal(edits, elen)))
	{
		if (edits_text(sql, len, tg->dialect, &own, err) != 0)
			goto done;
		edits = (const uint8_t *) own.data;
		elen = own.len;
	}

	r.sql = sql;
	r.len = len;
	r.dag = dag;
	r.self = self_node;
	r.prefix = tg->schema_prefix ? tg->schema_prefix : "";
	r.catalog = tg->catalog;
	r.dialect = tg->dialect;
	r.start = start;
	r.end = end;
	r.err = err;
	if (apply_edits(&r, edits, elen, &o) != 0)
		goto done;

	/*
	 * What the target will read: the same as il_lex, and safe. The result
	 * is lexed (once) because rendering can make tokens the file did not
	 * have: removing a template comment joins what it separated ("-{# #}-"
	 * is a "--" comment, "{{# #}{" a template), and a replacement puts
	 * quotes next to the text around it; the guard's verdict and the checks
	 * that the target reads it as il_lex does must hold for these bytes.
	 */
	st = il_render_lex(o.data ? o.data : "", o.len, &all, &rtoks, err);
	if (st != IL_PARSE_OK)
	{
		lex_failed(st, err);
		goto done;
	}
	for (i = 0; i < all.n; i++)
		if (lexical_check(o.data, &all.tok[i], true, tg->dialect, err, NULL) != 0)
			goto done;
	il_tokens_free(&all);
	if (guard(o.data ? o.data : "", &rtoks, err) != 0)
		goto done;
	/* the guard let one statement through at most: ';' are empty statements */
	if (blank_semis)
		for (i = 0; i < rtoks.n; i++)
			if (rtoks.tok[i].type == IL_TOK_SEMI)
				o.data[rtoks.tok[i].off] = ' ';

	il_buf_append(out, o.data ? o.data : "", o.len);
	if (out->oom)
	{
		nomem(err);
		goto done;
	}
	ret = 0;
done:
	il_tokens_free(&all);
	il_tokens_free(&rtoks);
	il_buf_free(&o);
	il_buf_free(&own);
	return ret;
}

/*
 * The edit list of a file from its text in a dialect: one lexing, the
 * guard, the walker (as il_model_parse_edits, without the header).
 * Errors: the lexer's.
 */
static int
edits_text(const char *sql, size_t len, il_render_dialect dialect, il_buf *edits, il_error *err)
{
	il_tokens	toks = IL_TOKENS_INIT;
	il_tokens	all = IL_TOKENS_INIT;
	il_refs		refs;
	il_render_names nm;
	il_guard_result g;
	il_parse_status st;
	int			ret = -1;

	il_error_clear(err);
	if (sql == NULL)
		sql = "";
	il_render_names_init(&nm, &toks);
	st = il_render_lex(sql, len, &all, &toks, err);
	if (st != IL_PARSE_OK)
	{
		lex_failed(st, err);
		goto done;
	}
	st = il_guard_check_tokens(sql, &toks, &g, err);
	if (st != IL_PARSE_OK)
	{
		lex_failed(st, err);
		goto done;
	}
	if (g.ok || g.n == 0)
	{
		st = il_refs_extract_found(sql, &toks, il_render_found, &nm, &refs, err);
		il_refs_free(&refs);
		if (st != IL_PARSE_OK || nm.oom)
		{
			il_guard_free(&g);
			nomem(err);
			goto done;
		}
	}
	ret = write_edits(sql, len, &all, &toks, &nm, &g, dialect, edits, err);
	il_guard_free(&g);
done:
	il_tokens_free(&toks);
	il_tokens_free(&all);
	il_render_names_free(&nm);
	return ret;
}

int
il_render_edits_text(const char *sql, size_t len, il_buf *edits, il_error *err)
{
	return edits_text(sql, len, IL_RENDER_POSTGRESQL, edits, err);
}

int
il_render_model(const char *sql, size_t len, const il_dag *dag, size_t self_node,
				const char *schema_prefix, const char *start, const char *end,
				il_buf *out, il_error *err)
{
	il_render_target tg = {IL_RENDER_POSTGRESQL, NULL, schema_prefix};

	return render_edits(&tg, sql, len, NULL, 0, dag, self_node, start, end, false, out, err);
}

int
il_render_query(const char *sql, size_t len, const il_dag *dag, size_t self_node,
				const char *schema_prefix, const char *start, const char *end,
				il_buf *out, il_error *err)
{
	il_render_target tg = {IL_RENDER_POSTGRESQL, NULL, schema_prefix};

	return render_edits(&tg, sql, len, NULL, 0, dag, self_node, start, end, true, out, err);
}

int
il_render_model_edits(const char *sql, size_t len, const uint8_t *edits, size_t elen,
					  const il_dag *dag, size_t self_node, const char *schema_prefix,
					  const char *start, const char *end, il_buf *out, il_error *err)
{
	il_render_target tg = {IL_RENDER_POSTGRESQL, NULL, schema_prefix};
	static const uint8_t none[1];

	/* an empty list is a list (NULL asks for the text's) */
	return render_edits(&tg, sql, len, edits ? edits : none, edits ? elen : 0, dag, self_node,
						start, end, false, out, err);
}

int
il_render_query_edits(const char *sql, size_t len, const uint8_t *edits, size_t elen,
					  const il_dag *dag, size_t self_node, const char *schema_prefix,
					  const char *start, const char *end, il_buf *out, il_error *err)
{
	il_render_target tg = {IL_RENDER_POSTGRESQL, NULL, schema_prefix};
	static const uint8_t none[1];

	return render_edits(&tg, sql, len, edits ? edits : none, edits ? elen : 0, dag, self_node,
						start, end, true, out, err);
}

int
il_render_query_for(const il_render_target *tg, const char *sql, size_t len,
					const uint8_t *edits, size_t elen, const il_dag *dag, size_t self_node,
					const char *start, const char *end, il_buf *out, il_error *err)
{
	return render_edits(tg, sql, len, edits, elen, dag, self_node, start, end, true, out, err);
}
