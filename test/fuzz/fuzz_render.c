/*
 * libFuzzer harness of the PostgreSQL renderer (il_render) and the PII
 * scrubber (il_scrub), over any bytes. Besides the sanitizers it checks:
 *
 * il_render_model, with a small fixed graph, once with a range and once
 * without:
 *	- it returns 0 or -1; an error has a code and a non-empty UTF-8
 *	  message, and leaves out as it was;
 *	- rendered SQL is valid UTF-8, has exactly the newlines of the input
 *	  (lines stay in place), lexes, passes the guard, and holds no backtick
 *	  identifier, template, template comment or ${variable};
 *	- rendering is deterministic;
 *	- text that renders without a range uses no date, so it renders to the
 *	  same bytes with one;
 *	- every model relation written is one of the graph's (checked where
 *	  the input has no quotes, backticks or templates of its own).
 *
 * il_render_model_edits (what the executor renders from a parse record),
 * over the input as a model file (a header line before it):
 *	- the edit list il_model_parse_edits writes is well formed, and
 *	  rendering from it gives what rendering from the text gives (the
 *	  bytes, or the error's code, position and message), with and without
 *	  a range;
 *	- an edit list applied to text it was not made from (the input without
 *	  the header) reads nothing outside that text, and returns 0 or -1.
 *
 * il_scrub, with and without IL_SCRUB_SQL:
 *	- the output is valid UTF-8 whatever the input, and at most three times
 *	  as long (plus a little);
 *	- scrubbing is deterministic, and scrubbing scrubbed text changes
 *	  nothing;
 *	- with IL_SCRUB_SQL every quote in the output opens a '?';
 *	- il_scrub_max gives at most max bytes, the whole scrubbed text when it
 *	  fits, else a prefix of it (at a whole character) and the marker.
 *
 * Memory (test/bench/memcount.h, the peak of the core's heap): rendering
 * takes at most RENDER_RATIO bytes per input byte (plus 64 kB); il_scrub
 * at most 12 (its output, up to three times the input, as it grows);
 * il_scrub_max to 4096 bytes a few times 4096 bytes, whatever the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "il_dag.h"
#include "il_guard.h"
#include "il_jsonw.h"
#include "il_lex.h"
#include "il_model.h"
#include "il_render.h"
#include "il_scrub.h"
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

static char *upstream[] = {"sales.orders", "x"};

/* A small repository: suffixes, a three-part name, an ambiguous short name. */
static const il_dag_model models[] = {
	{"sales.orders", NULL, {NULL, 0}, {NULL, 0}, {NULL, 0}},
	{"sales.customers", NULL, {NULL, 0}, {NULL, 0}, {NULL, 0}},
	{"main.finance.revenue", NULL, {NULL, 0}, {NULL, 0}, {NULL, 0}},
	{"a.x", NULL, {NULL, 0}, {NULL, 0}, {NULL, 0}},
	{"b.x", NULL, {NULL, 0}, {NULL, 0}, {NULL, 0}},
	{"analytics.daily", NULL, {upstream, 1}, {NULL, 0}, {NULL, 0}},
};

static il_dag *dag;

/* Memory bounds, bytes of the core's heap per input byte (plus SLACK). */
#define RENDER_RATIO 64
#define SLACK ((size_t) 64 << 10)

/* Counts the newlines of s[0..len). */
static size_t
newlines(const char *s, size_t len)
{
	size_t		n = 0;
	size_t		i;

	for (i = 0; i < len; i++)
		n += s[i] == '\n';
	return n;
}

/*
 * Renders and checks; returns whether it rendered, with the text in out
 * (after the marker prefix).
 */
static bool
render_checked(const char *s, size_t size, const char *start, const char *end, il_buf *out)
{
	static const char marker[] = "before:";
	il_error	err;
	int			rc;
	il_tokens	toks = IL_TOKENS_INIT;
	il_guard_result g;
	il_buf		again = IL_BUF_INIT;
	const char *r;
	size_t		rlen;
	size_t		i;
	long long	base;

	il_buf_reset(out);
	il_buf_puts(out, marker);
	base = memcount_start();
	rc = il_render_model(s, size, dag, 5, "dev_", start, end, out, &err);
	REQUIRE(memcount_peak_since(base) <= RENDER_RATIO * size + SLACK);
	REQUIRE(rc == 0 || rc == -1);
	if (rc != 0)
	{
		REQUIRE(err.code != NULL && err.message[0] != '\0');
		REQUIRE(il_utf8_valid(err.message, strlen(err.message), NULL));
		REQUIRE(out->len == sizeof(marker) - 1 && memcmp(out->data, marker, out->len) == 0);
		return false;
	}
	REQUIRE(!out->oom);
	r = out->data + sizeof(marker) - 1;
	rlen = out->len - (sizeof(marker) - 1);
	REQUIRE(il_utf8_valid(r, rlen, NULL));
	REQUIRE(newlines(r, rlen) == newlines(s, size));

	/* what PostgreSQL gets lexes, passes the guard, and has no templates */
	REQUIRE(il_lex(r, rlen, IL_LEX_KEEP_COMMENTS, &toks, &err) == IL_PARSE_OK);
	for (i = 0; i < toks.n; i++)
	{
		const il_token *t = &toks.tok[i];

		REQUIRE(t->type != IL_TOK_QIDENT && t->type != IL_TOK_TEMPLATE && t->type != IL_TOK_VARIABLE);
		REQUIRE(!(t->type == IL_TOK_COMMENT && (t->flags & IL_TOKF_TEMPLATE_COMMENT)));
		if (t->type == IL_TOK_STRING)
			REQUIRE(memchr(r + t->off, '\\', il_tok_len(t)) == NULL);
		/* "dev_..." starts only the relations of models */
		if (t->type == IL_TOK_STRING && il_tok_len(t) > 5 && memcmp(r + t->off, "\"dev_", 5) == 0 &&
			memchr(s, '"', size) == NULL && memchr(s, '`', size) == NULL && memchr(s, '{', size) == NULL &&
			i + 2 < toks.n && toks.tok[i + 1].type == IL_TOK_DOT)
		{
			const il_token *tt = &toks.tok[i + 2];
			char		name[160];
			size_t		n1 = il_tok_len(t) - 6;
			size_t		n2 = il_tok_len(tt) - 2;
			size_t		m;
			bool		found = false;

			REQUIRE(tt->type == IL_TOK_STRING && n1 + n2 + 1 < sizeof(name));
			memcpy(name, r + t->off + 5, n1);
			name[n1] = '.';
			memcpy(name + n1 + 1, r + tt->off + 1, n2);
			name[n1 + 1 + n2] = '\0';
			for (m = 0; m < dag->n && !found; m++)
			{
				size_t		nl = strlen(dag->names[m]);

				found = nl >= strlen(name) && strcmp(dag->names[m] + nl - strlen(name), name) == 0 &&
					(nl == strlen(name) || dag->names[m][nl - strlen(name) - 1] == '.');
			}
			REQUIRE(found);
		}
	}
	il_tokens_free(&toks);
	REQUIRE(il_guard_check(r, rlen, &g, &err) == IL_PARSE_OK && g.ok);
	il_guard_free(&g);

	/* deterministic */
	REQUIRE(il_render_model(s, size, dag, 5, "dev_", start, end, &again, &err) == 0);
	REQUIRE(again.len == rlen && memcmp(again.data, r, rlen) == 0);
	il_buf_free(&again);
	return true;
}

/*
 * Checks that rendering s[0..size), as a model file, from its edit list is
 * rendering it from its text.
 */
static void
edits_checked(const char *s, size_t size)
{
	static const char header[] = "-- name: analytics.daily\n-- kind: FULL_REFRESH\n";
	static const char *args[][2] = {{"2024-01-01", "2024-01-31"}, {NULL, NULL}};
	il_buf		text = IL_BUF_INIT;
	il_buf		edits = IL_BUF_INIT;
	il_model	m;
	il_error	err;
	int			a;

	il_buf_append(&text, header, sizeof(header) - 1);
	il_buf_append(&text, s, size);
	REQUIRE(!text.oom);
	if (il_model_parse_edits(text.data, text.len, &m, &edits, &err) == IL_PARSE_OK)
	{
		const uint8_t *e = (const uint8_t *) edits.data;

		REQUIRE(!edits.oom && il_render_edits_valid(e, edits.len));
		for (a = 0; a < 2; a++)
		{
			il_buf		o1 = IL_BUF_INIT;
			il_buf		o2 = IL_BUF_INIT;
			il_error	e1;
			il_error	e2;
			int			r1 = il_render_model(text.data, text.len, dag, 5, "dev_", args[a][0], args[a][1],
											 &o1, &e1);
			int			r2 = il_render_model_edits(text.data, text.len, e, edits.len, dag, 5, "dev_",
												   args[a][0], args[a][1], &o2, &e2);

			REQUIRE(r1 == r2);
			if (r1 == 0)
				REQUIRE(o1.len == o2.len && memcmp(o1.data, o2.data, o1.len) == 0);
			else
				REQUIRE(e1.code != NULL && e2.code != NULL && strcmp(e1.code, e2.code) == 0 &&
						e1.line == e2.line && e1.column == e2.column &&
						strcmp(e1.message, e2.message) == 0);
			il_buf_free(&o1);
			il_buf_free(&o2);
		}
		/* the edits of another text: bounds hold */
		{
			il_buf		o3 = IL_BUF_INIT;
			int			r3 = il_render_model_edits(s, size, e, edits.len, dag, 5, "dev_", NULL, NULL,
												   &o3, &err);

			REQUIRE(r3 == 0 || r3 == -1);
			il_buf_free(&o3);
		}
	}
	il_model_free(&m);
	il_buf_free(&edits);
	il_buf_free(&text);
}

/*
 * Checks il_scrub with flags over s[0..size).
 */
static void
scrub_checked(const char *s, size_t size, unsigned flags)
{
	il_buf		a = IL_BUF_INIT;
	il_buf		b = IL_BUF_INIT;
	il_buf		c = IL_BUF_INIT;
	size_t		max;
	size_t		i;
	long long	base;

	base = memcount_start();
	il_scrub(s, size, flags, &a);
	REQUIRE(memcount_peak_since(base) <= 12 * size + SLACK);
	REQUIRE(!a.oom);
	REQUIRE(il_utf8_valid(a.data ? a.data : "", a.len, NULL));
	REQUIRE(a.len <= 3 * size + 8);

	il_scrub(s, size, flags, &b);
	REQUIRE(a.len == b.len && memcmp(a.data ? a.data : "", b.data ? b.data : "", a.len) == 0);

	il_scrub(a.data, a.len, flags, &c);
	if (c.len != a.len || memcmp(a.data ? a.data : "", c.data ? c.data : "", a.len) != 0)
	{
		fprintf(stderr, "not idempotent:\n once:  %.*s\n twice: %.*s\n", (int) a.len, a.data,
				(int) c.len, c.data);
		abort();
	}

	if (flags & IL_SCRUB_SQL)
	{
		for (i = 0; i < a.len; i++)
			if (a.data[i] == '\'')
			{
				REQUIRE(i + 2 < a.len && a.data[i + 1] == '?' && a.data[i + 2] == '\'');
				i += 2;
			}
	}

	/* a bound from the input's first byte */
	max = size > 0 ? (unsigned char) s[0] : 0;
	il_buf_reset(&b);
	il_scrub_max(s, size, flags, max, &b);
	if (max < strlen(IL_SCRUB_TRUNCATED))
		max = strlen(IL_SCRUB_TRUNCATED);
	REQUIRE(b.len <= max);
	REQUIRE(il_utf8_valid(b.data ? b.data : "", b.len, NULL));
	if (a.len <= max)
		REQUIRE(b.len == a.len && memcmp(a.data ? a.data : "", b.data ? b.data : "", a.len) == 0);
	else
	{
		size_t		kept = b.len - strlen(IL_SCRUB_TRUNCATED);

		REQUIRE(memcmp(b.data + kept, IL_SCRUB_TRUNCATED, strlen(IL_SCRUB_TRUNCATED)) == 0);
		REQUIRE(memcmp(b.data, a.data, kept) == 0);
		REQUIRE(kept + 4 > max - strlen(IL_SCRUB_TRUNCATED));	/* cut at most one character short */
	}

	/* what telemetry keeps: 4096 bytes, in a few times that of memory */
	il_buf_free(&b);
	base = memcount_start();
	il_scrub_max(s, size, flags, 4096, &b);
	REQUIRE(memcount_peak_since(base) <= 4 * 4096 + 4096);
	REQUIRE(b.len <= 4096);
	if (a.len <= 4096)
		REQUIRE(b.len == a.len && memcmp(a.data ? a.data : "", b.data ? b.data : "", a.len) == 0);
	else
		REQUIRE(memcmp(b.data, a.data, b.len - strlen(IL_SCRUB_TRUNCATED)) == 0);
	il_buf_free(&a);
	il_buf_free(&b);
	il_buf_free(&c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *) data;
	il_buf		with = IL_BUF_INIT;
	il_buf		without = IL_BUF_INIT;
	il_error	err;

	if (dag == NULL)
		REQUIRE(il_dag_build(models, sizeof(models) / sizeof(models[0]), &dag, &err) == 0);

	if (render_checked(s, size, NULL, NULL, &without))
	{
		/* no date is used: a range changes nothing */
		REQUIRE(render_checked(s, size, "2024-01-01", "2024-01-31", &with));
		REQUIRE(with.len == without.len && memcmp(with.data, without.data, with.len) == 0);
	}
	else
		(void) render_checked(s, size, "2024-01-01", "2024-01-31", &with);
	edits_checked(s, size);

	scrub_checked(s, size, 0);
	scrub_checked(s, size, IL_SCRUB_SQL);

	il_buf_free(&with);
	il_buf_free(&without);
	return 0;
}
