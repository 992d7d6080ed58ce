/*-------------------------------------------------------------------------
 *
 * il_dbx_render.c
 *	  A model's step rendered for Databricks: the statements of its
 *	  materialization around the query; see il_dbx_render.h.
 *
 * The query and the relation come from il_render in its Databricks dialect
 * (one code path with the PostgreSQL renderer); this file owns the shapes
 * of the statements, which statements a step sends, the quoting of the
 * header's columns, and the guard over every statement.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "il_date.h"
#include "il_dbx_render.h"
#include "il_guard.h"
#include "il_lex.h"
#include "il_refs.h"
#include "il_render.h"
#include "il_text.h"

/* Room for user text quoted in a message. */
#define QUOTE_CAP 72

static int
nomem(il_error *err)
{
	il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory while rendering the step's statements");
	return -1;
}

void
il_dbx_statements_init(il_dbx_statements *out)
{
	memset(out, 0, sizeof(*out));
	il_buf_init(&out->buf);
}

void
il_dbx_statements_free(il_dbx_statements *out)
{
	il_buf_free(&out->buf);
	memset(out, 0, sizeof(*out));
}

const char *
il_dbx_shape_name(il_dbx_shape shape)
{
	switch (shape)
	{
		case IL_DBX_SCHEMA:
			return "S";
		case IL_DBX_VIEW:
			return "V";
		case IL_DBX_FULL:
			return "F";
		case IL_DBX_EMPTY:
			return "E";
		case IL_DBX_REPLACE:
			return "R";
		case IL_DBX_APPEND:
			return "A";
		case IL_DBX_MERGE:
			return "M";
	}
	return "?";
}

/* Appends s[0..len) between backticks, '`' doubled. */
static void
put_bq(il_buf *b, const char *s, size_t len)
{
	const char *q;

	il_buf_putc(b, '`');
	while (len > 0 && (q = memchr(s, '`', len)) != NULL)
	{
		il_buf_append(b, s, (size_t) (q - s) + 1);
		il_buf_putc(b, '`');
		len -= (size_t) (q - s) + 1;
		s = q + 1;
	}
	il_buf_append(b, s, len);
	il_buf_putc(b, '`');
}

/* Is s[0..len) valid UTF-8 without control characters? */
static bool
text_ok(const char *s, size_t len)
{
	size_t		i;

	for (i = 0; i < len; i++)
		if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return il_utf8_valid(s, len, NULL);
}

static bool
word_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		c >= 0x80;
}

/*
 * Appends the column written as the header writes it (il_header.h): parts
 * separated by '.', each a word (letters, digits, '_', non-ASCII) or a
 * backtick-quoted name, not empty, `` for a backtick. Each part becomes a
 * backtick-quoted name: a quoted part keeps its bytes (Databricks' quoting
 * is the header's), a word is quoted as written.
 */
static int
column(const char *w, const char *what, il_buf *out, il_error *err)
{
	size_t		len = w ? strlen(w) : 0;
	size_t		i = 0;
	size_t		mark = out->len;
	char		q[QUOTE_CAP];

	if (len == 0 || !text_ok(w, len))
		goto bad;
	for (;;)
	{
		size_t		start;

		if (w[i] == '`')
		{
			start = ++i;
			for (;;)
			{
				if (i >= len)
					goto bad;
				if (w[i] == '`')
				{
					if (i + 1 < len && w[i + 1] == '`')
					{
						i += 2;
						continue;
					}
					break;
				}
				i++;
			}
			if (i == start)
				goto bad;
			il_buf_putc(out, '`');
			il_buf_append(out, w + start, i - start);	/* `` stays `` */
			il_buf_putc(out, '`');
			i++;
		}
		else
		{
			start = i;
			while (i < len && word_char((unsigned char) w[i]))
				i++;
			if (i == start)
				goto bad;
			put_bq(out, w + start, i - start);
		}
		if (i == len)
			return 0;
		if (w[i] != '.' || i + 1 == len)
			goto bad;
		il_buf_putc(out, '.');
		i++;
	}
bad:
	out->len = mark;
	if (out->data != NULL)
		out->data[mark] = '\0';
	il_quote_text(q, sizeof(q), w ? w : "", len);
	il_error_set(err, IL_ERR_INVALID_COLUMN, 0, 0,
				 "invalid column \"%s\" in %s: write a column name (letters, digits, underscores, or `quoted`), "
				 "or a dotted path of them", q, what);
	return -1;
}

int
il_dbx_column(const char *written, il_buf *out, il_error *err)
{
	il_buf		tmp = IL_BUF_INIT;
	int			ret;

	il_error_clear(err);
	ret = column(written, "the column", &tmp, err);
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

/* The target of a step. */
static il_render_target
target_of(const il_dbx_step *in)
{
	il_render_target tg = {IL_RENDER_DATABRICKS, in->catalog, in->schema_prefix};

	return tg;
}

/*
 * Checks the range (as il_render does: both or neither, dates, in order)
 * and sets *end1 to the day after end ("" for 9999-12-31: no upper bound).
 */
static int
check_range(const il_dbx_step *in, char end1[IL_DATE_LEN + 1], il_error *err)
{
	il_date		s,
				e;
	il_error	derr;
	char		q[QUOTE_CAP];

	end1[0] = '\0';
	if (in->start == NULL && in->end == NULL)
		return 0;
	if (in->start == NULL || in->end == NULL)
	{
		il_error_set(err, IL_ERR_INVALID_RANGE, 0, 0,
					 "invalid range: give both start and end dates, or neither");
		return -1;
	}
	if (il_date_parse(in->start, strlen(in->start), &s, &derr) != 0 ||
		il_date_parse(in->end, strlen(in->end), &e, &derr) != 0)
	{
		const char *bad = il_date_parse(in->start, strlen(in->start), &s, &derr) != 0 ? in->start : in->end;

		il_quote_text(q, sizeof(q), bad, strlen(bad));
		il_error_set(err, IL_ERR_INVALID_RANGE, 0, 0,
					 "invalid range date \"%s\": write a date as YYYY-MM-DD", q);
		return -1;
	}
	if (s > e)
	{
		il_error_set(err, IL_ERR_INVALID_RANGE, 0, 0,
					 "invalid range: start %s is after end %s", in->start, in->end);
		return -1;
	}
	if (e < IL_DATE_MAX)
		(void) il_date_format(il_date_add_days(e, 1), end1);
	return 0;
}

/*
 * The checks of the arguments, in the order il_dbx_render.h lists them,
 * up to the columns; the relation into rel, the schema into sch.
 */
static int
check_step(const il_dbx_step *in, bool *evolve, il_buf *rel, il_buf *sch, char end1[IL_DATE_LEN + 1],
		   il_error *err)
{
	il_render_target tg = target_of(in);
	const char *osc = in->on_schema_change;
	const char *name = in->model_name ? in->model_name : "";
	const char *dot;
	const char *schema;
	char		q[QUOTE_CAP];

	*evolve = false;
	if (il_render_relation_for(&tg, name, rel, err) != 0)
		return -1;
	/* the model name is valid: its schema is the part before the last dot */
	dot = strrchr(name, '.');
	schema = dot - 1;
	while (schema > name && schema[-1] != '.')
		schema--;
	put_bq(sch, in->catalog, strlen(in->catalog));
	il_buf_putc(sch, '.');
	{
		il_buf		tmp = IL_BUF_INIT;

		il_buf_puts(&tmp, in->schema_prefix ? in->schema_prefix : "");
		il_buf_append(&tmp, schema, (size_t) (dot - schema));
		put_bq(sch, tmp.data ? tmp.data : "", tmp.len);
		if (tmp.oom)
			sch->oom = true;
		il_buf_free(&tmp);
	}
	if (check_range(in, end1, err) != 0)
		return -1;
	if (osc != NULL && strcmp(osc, "fail") != 0)
	{
		if (strcmp(osc, "append_new_columns") == 0)
			*evolve = true;
		else if (strcmp(osc, "sync_all_columns") == 0)
		{
			il_error_set(err, IL_ERR_UNSUPPORTED_SCHEMA_CHANGE, 0, 0,
						 "on_schema_change sync_all_columns is not supported by the databricks executor: "
						 "use fail or append_new_columns");
			return -1;
		}
		else
		{
			il_quote_text(q, sizeof(q), osc, strlen(osc));
			il_error_set(err, IL_ERR_INVALID_ON_SCHEMA_CHANGE, 0, 0,
						 "invalid on_schema_change \"%s\": use fail, append_new_columns or sync_all_columns", q);
			return -1;
		}
	}
	if (in->kind != IL_KIND_FULL_REFRESH && in->kind != IL_KIND_INCREMENTAL_BY_TIME_RANGE &&
		in->kind != IL_KIND_APPEND_ONLY && in->kind != IL_KIND_MERGE_BY_KEY)
	{
		il_error_set(err, IL_ERR_INVALID_KIND, 0, 0,
					 "model %s has no kind: give FULL_REFRESH, INCREMENTAL_BY_TIME_RANGE, APPEND_ONLY or "
					 "MERGE_BY_KEY", name);
		return -1;
	}
	if (in->kind == IL_KIND_INCREMENTAL_BY_TIME_RANGE && in->time_column == NULL)
	{
		il_error_set(err, IL_ERR_MISSING_TIME_COLUMN, 0, 0,
					 "model %s of kind INCREMENTAL_BY_TIME_RANGE has no time_column: name the column "
					 "its range is replaced by", name);
		return -1;
	}
	if (in->kind == IL_KIND_MERGE_BY_KEY && in->unique_key_n == 0)
	{
		il_error_set(err, IL_ERR_MISSING_UNIQUE_KEY, 0, 0,
					 "model %s of kind MERGE_BY_KEY has no unique_key: name the columns its rows are merged on",
					 name);
		return -1;
	}
	return 0;
}

/* Renders the query into q. */
static int
render_query(const il_dbx_step *in, il_buf *q, il_error *err)
{
	il_render_target tg = target_of(in);

	return il_render_query_for(&tg, in->sql, in->len, in->edits, in->edits ? in->edits_len : 0,
							   in->dag, in->self_node, in->start, in->end, q, err);
}

int
il_dbx_render_query(const il_dbx_step *in, il_buf *out, il_error *err)
{
	il_buf		rel = IL_BUF_INIT;
	il_buf		sch = IL_BUF_INIT;
	il_buf		q = IL_BUF_INIT;
	bool		evolve;
	char		end1[IL_DATE_LEN + 1];
	int			ret = -1;

	il_error_clear(err);
	if (check_step(in, &evolve, &rel, &sch, end1, err) == 0 && render_query(in, &q, err) == 0)
	{
		il_buf_append(out, q.data ? q.data : "", q.len);
		ret = out->oom || rel.oom || sch.oom ? nomem(err) : 0;
	}
	il_buf_free(&rel);
	il_buf_free(&sch);
	il_buf_free(&q);
	return ret;
}

/*
 * Is the query one query (SELECT, VALUES, WITH ... SELECT, ...)? The
 * statements wrap it.
 */
static int
check_query(const il_dbx_step *in, const il_buf *q, il_error *err)
{
	il_tokens	toks = IL_TOKENS_INIT;
	il_parse_status st;
	il_stmt_kind kind;
	int			ret = 0;

	st = il_lex(q->data ? q->data : "", q->len, 0, &toks, err);
	if (st == IL_PARSE_ERR_NOMEM)
		return nomem(err);
	if (st != IL_PARSE_OK)
		return -1;				/* the renderer lexed it: not reached */
	kind = il_stmt_classify(&toks, 0, NULL);
	if (kind != IL_STMT_SELECT)
	{
		const char *kname = il_stmt_kind_name(kind);

		il_error_set(err, IL_ERR_NOT_A_QUERY, 0, 0,
					 "model %s is not a query: its statement is %s, and the databricks executor runs queries "
					 "only; write the model as one query (SELECT, VALUES or WITH ... SELECT)",
					 in->model_name, kname ? kname : "empty");
		ret = -1;
	}
	il_tokens_free(&toks);
	return ret;
}

/* Starts a statement of shape in o->buf. */
static void
begin(il_dbx_statements *o, il_dbx_shape shape)
{
	o->stmt[o->n].shape = shape;
	o->stmt[o->n].idempotent = true;
	o->stmt[o->n].len = o->buf.len;	/* its start, until end() */
}

/* Ends the statement begun last. */
static void
end(il_dbx_statements *o)
{
	o->stmt[o->n].len = o->buf.len - o->stmt[o->n].len;
	il_buf_putc(&o->buf, '\0');
	o->n++;
}

/* "\nSELECT * FROM (\n<q>\n) AS q" */
static void
put_wrapped(il_buf *b, const il_buf *q)
{
	il_buf_puts(b, "\nSELECT * FROM (\n");
	il_buf_append(b, q->data ? q->data : "", q->len);
	il_buf_puts(b, "\n) AS q");
}

/*
 * Checks the columns and the range the statements need, renders the query
 * into q and writes the statements into o (empty). Returns 0, or -1 with
 * err set.
 */
static int
write_statements(const il_dbx_step *in, bool evolve, const il_buf *rel, const il_buf *sch,
				 const char *end1, il_buf *q, il_dbx_statements *o, il_error *err)
{
	il_buf	   *b = &o->buf;
	bool		full = in->kind == IL_KIND_FULL_REFRESH || in->run_type == IL_DBX_RUN_FULL_REFRESH;
	il_dbx_shape second;
	il_buf		cols = IL_BUF_INIT;
	il_buf		tc = IL_BUF_INIT;
	int			ret = -1;
	size_t		i;
	size_t		offs[IL_DBX_MAX_STATEMENTS];

	/* the columns first: their errors come before the statements' */
	if (in->time_column != NULL &&
		(in->kind == IL_KIND_INCREMENTAL_BY_TIME_RANGE || in->kind == IL_KIND_APPEND_ONLY) &&
		column(in->time_column, "time_column", &tc, err) != 0)
		goto done;
	if (in->kind == IL_KIND_MERGE_BY_KEY)
	{
		for (i = 0; i < in->unique_key_n; i++)
		{
			il_buf		k = IL_BUF_INIT;
			size_t		j;
			bool		dup = false;

			if (column(in->unique_key[i], "unique_key", &k, err) != 0)
			{
				il_buf_free(&k);
				goto done;
			}
			/* a key named twice is compared once */
			for (j = 0; j < i && !dup; j++)
			{
				il_buf		k2 = IL_BUF_INIT;
				il_error	e2;

				if (column(in->unique_key[j], "unique_key", &k2, &e2) == 0 && k2.len == k.len &&
					(k.len == 0 || memcmp(k.data, k2.data, k.len) == 0))
					dup = true;
				il_buf_free(&k2);
			}
			if (!dup)
			{
				il_buf_puts(&cols, cols.len > 0 ? " AND t." : "t.");
				il_buf_append(&cols, k.data, k.len);
				il_buf_puts(&cols, " = s.");
				il_buf_append(&cols, k.data, k.len);
			}
			il_buf_free(&k);
		}
	}
	if (in->materialization == IL_MAT_VIEW)
		second = IL_DBX_VIEW;
	else if (full)
		second = IL_DBX_FULL;
	else if (in->kind == IL_KIND_MERGE_BY_KEY)
		second = IL_DBX_MERGE;
	else if (in->kind == IL_KIND_APPEND_ONLY && in->time_column == NULL)
		second = IL_DBX_APPEND;
	else
		second = IL_DBX_REPLACE;
	if (second == IL_DBX_REPLACE && in->start == NULL)
	{
		il_error_set(err, IL_ERR_MISSING_RANGE, 0, 0,
					 "the incremental step of model %s replaces a range of dates, and it has none: "
					 "give the step's start and end", in->model_name);
		goto done;
	}
	if (render_query(in, q, err) != 0 || check_query(in, q, err) != 0)
		goto done;

	begin(o, IL_DBX_SCHEMA);
	il_buf_puts(b, "CREATE SCHEMA IF NOT EXISTS ");
	il_buf_append(b, sch->data, sch->len);
	end(o);
	switch (second)
	{
		case IL_DBX_VIEW:
		case IL_DBX_FULL:
			begin(o, second);
			il_buf_puts(b, second == IL_DBX_VIEW ? "CREATE OR REPLACE VIEW " : "CREATE OR REPLACE TABLE ");
			il_buf_append(b, rel->data, rel->len);
			il_buf_puts(b, " AS\n");
			il_buf_append(b, q->data ? q->data : "", q->len);
			end(o);
			break;
		default:
			begin(o, IL_DBX_EMPTY);
			il_buf_puts(b, "CREATE TABLE IF NOT EXISTS ");
			il_buf_append(b, rel->data, rel->len);
			il_buf_puts(b, " AS");
			put_wrapped(b, q);
			il_buf_puts(b, " WHERE 1 = 0");
			end(o);
			begin(o, second);
			if (second == IL_DBX_REPLACE)
			{
				il_buf_puts(b, evolve ? "INSERT WITH SCHEMA EVOLUTION INTO " : "INSERT INTO ");
				il_buf_append(b, rel->data, rel->len);
				il_buf_puts(b, " REPLACE WHERE ");
				il_buf_append(b, tc.data, tc.len);
				il_buf_printf(b, " >= DATE'%s'", in->start);
				if (end1[0] != '\0')
				{
					il_buf_puts(b, " AND ");
					il_buf_append(b, tc.data, tc.len);
					il_buf_printf(b, " < DATE'%s'", end1);
				}
				put_wrapped(b, q);
			}
			else if (second == IL_DBX_APPEND)
			{
				il_buf_puts(b, "INSERT INTO ");
				il_buf_append(b, rel->data, rel->len);
				put_wrapped(b, q);
				il_buf_puts(b, "\nEXCEPT\nSELECT * FROM ");
				il_buf_append(b, rel->data, rel->len);
			}
			else
			{
				il_buf_puts(b, evolve ? "MERGE WITH SCHEMA EVOLUTION INTO " : "MERGE INTO ");
				il_buf_append(b, rel->data, rel->len);
				il_buf_puts(b, " AS t\nUSING (\n");
				il_buf_append(b, q->data ? q->data : "", q->len);
				il_buf_puts(b, "\n) AS s\nON ");
				il_buf_append(b, cols.data, cols.len);
				il_buf_puts(b, "\nWHEN MATCHED THEN UPDATE SET *\nWHEN NOT MATCHED THEN INSERT *");
			}
			end(o);
			break;
	}
	if (b->oom || cols.oom || tc.oom)
	{
		nomem(err);
		goto done;
	}

	/* the texts, now that the buffer no longer moves; each judged by the guard */
	for (i = 0, offs[0] = 0; i < o->n; i++)
	{
		il_guard_result g;
		il_parse_status st;

		if (i > 0)
			offs[i] = offs[i - 1] + o->stmt[i - 1].len + 1;
		o->stmt[i].text = b->data + offs[i];
		st = il_guard_check(o->stmt[i].text, o->stmt[i].len, &g, err);
		if (st == IL_PARSE_ERR_NOMEM)
		{
			il_guard_free(&g);
			nomem(err);
			goto done;
		}
		if (st != IL_PARSE_OK || (!g.ok && g.n > 0))
		{
			if (st == IL_PARSE_OK)
				il_error_set(err, il_errcode_lookup(g.v[0].rule), 0, 0, "%s statement of model %s: %s",
							 il_dbx_shape_name(o->stmt[i].shape), in->model_name, g.v[0].message);
			il_guard_free(&g);
			goto done;
		}
		il_guard_free(&g);
	}
	ret = 0;
done:
	il_buf_free(&cols);
	il_buf_free(&tc);
	return ret;
}

int
il_dbx_step_statements(const il_dbx_step *in, il_dbx_statements *out, il_error *err)
{
	il_buf		rel = IL_BUF_INIT;
	il_buf		sch = IL_BUF_INIT;
	il_buf		q = IL_BUF_INIT;
	bool		evolve;
	char		end1[IL_DATE_LEN + 1];
	int			ret = -1;

	il_error_clear(err);
	il_dbx_statements_free(out);
	il_dbx_statements_init(out);
	if (check_step(in, &evolve, &rel, &sch, end1, err) != 0)
		goto done;
	if (rel.oom || sch.oom)
	{
		nomem(err);
		goto done;
	}
	if (write_statements(in, evolve, &rel, &sch, end1, &q, out, err) != 0)
		goto done;
	ret = 0;
done:
	if (ret != 0)
	{
		il_dbx_statements_free(out);
		il_dbx_statements_init(out);
	}
	il_buf_free(&rel);
	il_buf_free(&sch);
	il_buf_free(&q);
	return ret;
}
