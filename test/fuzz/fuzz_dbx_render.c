/*
 * libFuzzer harness of the Databricks step renderer (il_dbx_render.h) over
 * any bytes. The first byte chooses the step: kind (bits 0-1), a view (bit
 * 2), run type FULL_REFRESH (bit 3), on_schema_change (bits 4-5: none,
 * fail, append_new_columns, sync_all_columns), whether the first line of
 * the rest names the columns (bit 6: its text, up to the first ',', is the
 * time_column, and its comma-separated items the unique_key), and whether
 * the step has no range (bit 7). The rest is the model's SQL. Besides the
 * sanitizers it checks:
 *	- il_dbx_step_statements returns 0 or -1; an error has a code and a
 *	  non-empty UTF-8 message and leaves no statement;
 *	- the shapes follow the rules (S first; V for a view; F for
 *	  FULL_REFRESH kind or run type; E then R, A or M otherwise), every
 *	  statement idempotent, NUL-terminated at its length;
 *	- each statement is exactly its shape around the query il_dbx_render_query
 *	  gives and the relation il_render_relation_for gives, lexes, passes the
 *	  guard and holds no template, template comment or ${variable};
 *	- rendering is deterministic, and from the edit list il_model_parse_edits
 *	  writes (the input as a model file) gives what the text gives;
 *	- memory (test/bench/memcount.h): at most DBX_RATIO bytes of the core's
 *	  heap per input byte (plus 64 kB), and nothing left allocated.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "il_dag.h"
#include "il_dbx_render.h"
#include "il_guard.h"
#include "il_lex.h"
#include "il_model.h"
#include "il_render.h"
#include "il_text.h"
#include "memcount.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
			abort(); \
		} \
	} while (0)

#define DBX_RATIO 96
#define SLACK ((size_t) 64 << 10)

static char *upstream[] = {"sales.orders"};

static const il_dag_model models[] = {
	{"sales.orders", NULL, {NULL, 0}, {NULL, 0}, {NULL, 0}},
	{"sales.customers", NULL, {NULL, 0}, {NULL, 0}, {NULL, 0}},
	{"main.finance.revenue", NULL, {NULL, 0}, {NULL, 0}, {NULL, 0}},
	{"a.x", NULL, {NULL, 0}, {NULL, 0}, {NULL, 0}},
	{"b.x", NULL, {NULL, 0}, {NULL, 0}, {NULL, 0}},
	{"analytics.daily", NULL, {upstream, 1}, {NULL, 0}, {NULL, 0}},
};

static il_dag *dag;

static const char *const oscs[] = {NULL, "fail", "append_new_columns", "sync_all_columns"};

/* Does s end with the n bytes of t? */
static bool
ends_with(const char *s, size_t len, const char *t, size_t n)
{
	return len >= n && memcmp(s + len - n, t, n) == 0;
}

static bool
starts_with(const char *s, const char *t)
{
	return strncmp(s, t, strlen(t)) == 0;
}

/* Checks one statement: lexes, the guard passes, no template is left. */
static void
statement_checked(const char *t, size_t len)
{
	il_tokens	toks = IL_TOKENS_INIT;
	il_guard_result g;
	il_error	err;
	size_t		i;

	REQUIRE(il_utf8_valid(t, len, NULL));
	REQUIRE(il_lex(t, len, IL_LEX_KEEP_COMMENTS, &toks, &err) == IL_PARSE_OK);
	for (i = 0; i < toks.n; i++)
	{
		REQUIRE(toks.tok[i].type != IL_TOK_TEMPLATE && toks.tok[i].type != IL_TOK_VARIABLE);
		REQUIRE(!(toks.tok[i].type == IL_TOK_COMMENT && (toks.tok[i].flags & IL_TOKF_TEMPLATE_COMMENT)));
	}
	il_tokens_free(&toks);
	REQUIRE(il_guard_check(t, len, &g, &err) == IL_PARSE_OK && g.ok);
	il_guard_free(&g);
}

/* Checks the statements of a step that rendered. */
static void
statements_checked(const il_dbx_step *in, const il_dbx_statements *o)
{
	il_buf		q = IL_BUF_INIT;
	il_buf		rel = IL_BUF_INIT;
	il_buf		want = IL_BUF_INIT;
	il_error	err;
	il_render_target tg = {IL_RENDER_DATABRICKS, in->catalog, in->schema_prefix};
	bool		full = in->kind == IL_KIND_FULL_REFRESH || in->run_type == IL_DBX_RUN_FULL_REFRESH;
	size_t		i;

	REQUIRE(il_dbx_render_query(in, &q, &err) == 0);
	REQUIRE(il_render_relation_for(&tg, in->model_name, &rel, &err) == 0);
	if (q.data == NULL)
		il_buf_puts(&q, "");
	REQUIRE(o->n == (in->materialization == IL_MAT_VIEW || full ? 2 : 3));
	for (i = 0; i < o->n; i++)
	{
		const il_dbx_statement *s = &o->stmt[i];

		REQUIRE(s->idempotent && s->text != NULL && s->text[s->len] == '\0');
		statement_checked(s->text, s->len);
	}
	REQUIRE(o->stmt[0].shape == IL_DBX_SCHEMA && starts_with(o->stmt[0].text, "CREATE SCHEMA IF NOT EXISTS `"));
	il_buf_reset(&want);
	if (in->materialization == IL_MAT_VIEW || full)
	{
		REQUIRE(o->stmt[1].shape == (in->materialization == IL_MAT_VIEW ? IL_DBX_VIEW : IL_DBX_FULL));
		il_buf_puts(&want, in->materialization == IL_MAT_VIEW ? "CREATE OR REPLACE VIEW " : "CREATE OR REPLACE TABLE ");
		il_buf_append(&want, rel.data, rel.len);
		il_buf_puts(&want, " AS\n");
		il_buf_append(&want, q.data, q.len);
		REQUIRE(o->stmt[1].len == want.len && memcmp(o->stmt[1].text, want.data, want.len) == 0);
	}
	else
	{
		const il_dbx_statement *s = &o->stmt[2];
		il_buf		tail = IL_BUF_INIT;
		bool		evolve = in->on_schema_change != NULL && strcmp(in->on_schema_change, "append_new_columns") == 0;

		il_buf_puts(&want, "CREATE TABLE IF NOT EXISTS ");
		il_buf_append(&want, rel.data, rel.len);
		il_buf_puts(&want, " AS\nSELECT * FROM (\n");
		il_buf_append(&want, q.data, q.len);
		il_buf_puts(&want, "\n) AS q WHERE 1 = 0");
		REQUIRE(o->stmt[1].shape == IL_DBX_EMPTY && o->stmt[1].len == want.len &&
				memcmp(o->stmt[1].text, want.data, want.len) == 0);
		il_buf_puts(&tail, "\nSELECT * FROM (\n");
		il_buf_append(&tail, q.data, q.len);
		il_buf_puts(&tail, "\n) AS q");
		if (in->kind == IL_KIND_MERGE_BY_KEY)
		{
			il_buf_reset(&want);
			il_buf_puts(&want, evolve ? "MERGE WITH SCHEMA EVOLUTION INTO " : "MERGE INTO ");
			il_buf_append(&want, rel.data, rel.len);
			il_buf_puts(&want, " AS t\nUSING (\n");
			il_buf_append(&want, q.data, q.len);
			il_buf_puts(&want, "\n) AS s\nON t.`");
			REQUIRE(s->shape == IL_DBX_MERGE && s->len > want.len && memcmp(s->text, want.data, want.len) == 0);
			REQUIRE(ends_with(s->text, s->len, "\nWHEN MATCHED THEN UPDATE SET *\nWHEN NOT MATCHED THEN INSERT *", 62));
		}
		else if (in->kind == IL_KIND_APPEND_ONLY && in->time_column == NULL)
		{
			il_buf_reset(&want);
			il_buf_puts(&want, "INSERT INTO ");
			il_buf_append(&want, rel.data, rel.len);
			il_buf_append(&want, tail.data, tail.len);
			il_buf_puts(&want, "\nEXCEPT\nSELECT * FROM ");
			il_buf_append(&want, rel.data, rel.len);
			REQUIRE(s->shape == IL_DBX_APPEND && s->len == want.len && memcmp(s->text, want.data, want.len) == 0);
		}
		else
		{
			il_buf_reset(&want);
			il_buf_puts(&want, evolve ? "INSERT WITH SCHEMA EVOLUTION INTO " : "INSERT INTO ");
			il_buf_append(&want, rel.data, rel.len);
			il_buf_puts(&want, " REPLACE WHERE `");
			REQUIRE(s->shape == IL_DBX_REPLACE && starts_with(s->text, want.data));
			REQUIRE(ends_with(s->text, s->len, tail.data, tail.len));
			REQUIRE(strstr(s->text, in->start) != NULL);
		}
		il_buf_free(&tail);
	}
	il_buf_free(&q);
	il_buf_free(&rel);
	il_buf_free(&want);
}

/* Renders and checks; returns the statements joined (for comparisons) in all. */
static int
step_checked(const il_dbx_step *in, il_buf *all, il_error *err)
{
	il_dbx_statements o;
	long long	base;
	long long	live;
	int			rc;
	size_t		i;

	il_dbx_statements_init(&o);
	/* what is live, all (the caller's, which grows here) left out */
	live = memcount_live() - (long long) (all->data ? malloc_usable_size(all->data) : 0);
	base = memcount_start();
	rc = il_dbx_step_statements(in, &o, err);
	REQUIRE(memcount_peak_since(base) <= DBX_RATIO * in->len + SLACK);
	REQUIRE(rc == 0 || rc == -1);
	if (rc != 0)
	{
		REQUIRE(err->code != NULL && err->message[0] != '\0');
		REQUIRE(il_utf8_valid(err->message, strlen(err->message), NULL));
		REQUIRE(o.n == 0);
	}
	else
	{
		REQUIRE(!o.buf.oom);
		statements_checked(in, &o);
		for (i = 0; i < o.n; i++)
		{
			il_buf_append(all, o.stmt[i].text, o.stmt[i].len);
			il_buf_putc(all, '\0');
		}
	}
	il_dbx_statements_free(&o);
	REQUIRE(memcount_live() - (long long) (all->data ? malloc_usable_size(all->data) : 0) == live);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char header[] = "-- name: analytics.daily\n-- kind: FULL_REFRESH\n";
	il_error	err;
	il_error	err2;
	il_dbx_step in;
	unsigned	b0;
	const char *s;
	size_t		len;
	char		line[65];
	const char *keys[3];
	char		keybuf[3][65];
	size_t		nkeys = 0;
	il_buf		a1 = IL_BUF_INIT;
	il_buf		a2 = IL_BUF_INIT;
	il_buf		text = IL_BUF_INIT;
	il_buf		edits = IL_BUF_INIT;
	il_model	m;
	int			r1;
	int			r2;

	if (dag == NULL)
		REQUIRE(il_dag_build(models, sizeof(models) / sizeof(models[0]), &dag, &err) == 0);
	if (size == 0)
		return 0;
	b0 = data[0];
	s = (const char *) data + 1;
	len = size - 1;

	memset(&in, 0, sizeof(in));
	in.kind = (il_model_kind) (1 + (b0 & 3));
	in.materialization = (b0 & 4) ? IL_MAT_VIEW : IL_MAT_TABLE;
	in.run_type = (b0 & 8) ? IL_DBX_RUN_FULL_REFRESH : IL_DBX_RUN_INCREMENTAL;
	in.on_schema_change = oscs[(b0 >> 4) & 3];
	if (b0 & 0x40)
	{
		const char *nl = memchr(s, '\n', len);
		size_t		n = nl ? (size_t) (nl - s) : len;
		size_t		i = 0;

		if (n > 64)
			n = 64;
		memcpy(line, s, n);
		line[n] = '\0';
		if (strlen(line) == n)	/* no NUL inside */
		{
			/* time_column: up to the first ','; unique_key: the items */
			while (nkeys < 3)
			{
				size_t		j = i;

				while (j < n && line[j] != ',')
					j++;
				memcpy(keybuf[nkeys], line + i, j - i);
				keybuf[nkeys][j - i] = '\0';
				keys[nkeys] = keybuf[nkeys];
				nkeys++;
				if (j >= n)
					break;
				i = j + 1;
			}
			in.time_column = keys[0];
			in.unique_key = keys;
			in.unique_key_n = nkeys;
		}
		if (nl != NULL)
		{
			len -= (size_t) (nl - s) + 1;
			s = nl + 1;
		}
		else
			len = 0;
	}
	if (!(b0 & 0x80))
	{
		in.start = "2024-01-01";
		in.end = "2024-01-31";
	}
	in.sql = s;
	in.len = len;
	in.dag = dag;
	in.self_node = 5;
	in.model_name = "analytics.daily";
	in.catalog = "main";
	in.schema_prefix = "dev_";

	/* from the text, twice: the same */
	r1 = step_checked(&in, &a1, &err);
	r2 = step_checked(&in, &a2, &err2);
	REQUIRE(r1 == r2);
	if (r1 == 0)
		REQUIRE(a1.len == a2.len && memcmp(a1.data, a2.data, a1.len) == 0);
	else
		REQUIRE(strcmp(err.code, err2.code) == 0 && strcmp(err.message, err2.message) == 0);

	/* from the parse record's edit list: what the text gives */
	il_buf_append(&text, header, sizeof(header) - 1);
	il_buf_append(&text, s, len);
	REQUIRE(!text.oom);
	if (il_model_parse_edits(text.data, text.len, &m, &edits, &err) == IL_PARSE_OK)
	{
		il_dbx_step e = in;

		e.sql = text.data;
		e.len = text.len;
		il_buf_reset(&a1);
		il_buf_reset(&a2);
		r1 = step_checked(&e, &a1, &err);
		e.edits = (const uint8_t *) edits.data;
		e.edits_len = edits.len;
		r2 = step_checked(&e, &a2, &err2);
		REQUIRE(r1 == r2);
		if (r1 == 0)
			REQUIRE(a1.len == a2.len && memcmp(a1.data, a2.data, a1.len) == 0);
		else
			REQUIRE(strcmp(err.code, err2.code) == 0 && err.line == err2.line &&
					err.column == err2.column && strcmp(err.message, err2.message) == 0);

		/* an edit list applied to another text: bounds hold */
		e.sql = s;
		e.len = len;
		il_buf_reset(&a1);
		(void) step_checked(&e, &a1, &err);
	}
	il_model_free(&m);
	il_buf_free(&edits);
	il_buf_free(&text);
	il_buf_free(&a1);
	il_buf_free(&a2);
	return 0;
}
