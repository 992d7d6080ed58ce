/*
 * Unit tests of il_sources.c (the declaration sources.txt: parser, which
 * references it declares, which are unknown) and of its use by the loader,
 * the diff and the planner (unknown_refs, the plan's unknown_references).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../bench/genrepo.h"
#include "il_plan.h"
#include "il_repo.h"
#include "il_sources.h"
#include "unit.h"

static char tmp[] = "/tmp/ironlayer-unit-sources-XXXXXX";
static char ebuf[256];

/* Parses text; returns the error code ("ok" on success), frees nothing on error. */
static const char *
parse(const char *text, il_sources **s, il_error *err)
{
	*s = NULL;
	if (il_sources_parse(text, strlen(text), "models/sources.txt", s, err) == 0)
		return "ok";
	return err->code ? err->code : "(none)";
}

/* Does the error message contain want? */
static int
says(const il_error *err, const char *want)
{
	if (strstr(err->message, want) != NULL)
		return 1;
	printf("#   message: %s\n", err->message);
	return 0;
}

static void
test_parser(void)
{
	il_sources *s;
	il_error	err;
	il_buf		big = IL_BUF_INIT;
	int			i;

	CHECK_STR(parse("", &s, &err), "ok", "an empty file declares nothing");
	CHECK(s != NULL && il_sources_count(s) == 0 && !il_sources_declares(s, "a.b"), "no entries");
	il_sources_free(s);

	CHECK_STR(parse("# sources\n\n  source.users   # the app's\r\nMain.Sales.Orders\n\traw.*\n", &s, &err), "ok",
			  "comments, blank lines, spaces, CRLF, three parts, a schema");
	CHECK(il_sources_count(s) == 3, "three entries");
	CHECK(il_sources_declares(s, "source.users"), "an entry");
	CHECK(il_sources_declares(s, "SOURCE.Users"), "any case");
	CHECK(il_sources_declares(s, "hive.source.users"), "c.s.t is declared by s.t (the default catalog may be c)");
	CHECK(il_sources_declares(s, "users"), "a one-part suffix of an entry");
	CHECK(!il_sources_declares(s, "source.user"), "a typo is not declared");
	CHECK(!il_sources_declares(s, "source.users.x"), "a longer name is not");
	CHECK(il_sources_declares(s, "main.sales.orders"), "a three-part entry");
	CHECK(il_sources_declares(s, "sales.orders") && il_sources_declares(s, "orders"),
		  "its proper suffixes");
	CHECK(!il_sources_declares(s, "other.sales.orders"), "not under another catalog");
	CHECK(il_sources_declares(s, "raw.anything") && il_sources_declares(s, "c.raw.t"),
		  "schema.* declares every table of the schema, in any catalog");
	CHECK(!il_sources_declares(s, "raw") && !il_sources_declares(s, "raw.a.b"),
		  "but not the schema's name alone, nor raw as a catalog");
	il_sources_free(s);

	CHECK_STR(parse("`My.Db`.t\ns.`we``ird`\ns.`plain`\n", &s, &err), "ok", "backticked parts");
	CHECK(il_sources_declares(s, "`my.db`.t"), "a part with a dot keeps its backticks (lower-cased)");
	CHECK(il_sources_declares(s, "s.`we``ird`"), "a part with a backtick too");
	CHECK(il_sources_declares(s, "s.plain"), "a plain backticked part loses them");
	il_sources_free(s);

	CHECK_STR(parse("a.b\nsource users\n", &s, &err), "invalid_sources", "a space inside a name");
	CHECK(s == NULL && err.line == 2 && says(&err, "models/sources.txt:2: "), "the error names the file and line 2");
	CHECK(strcmp(il_error_sqlstate(&err), "22023") == 0, "invalid_sources is 22023");
	CHECK_STR(parse("users\n", &s, &err), "invalid_sources", "one part");
	CHECK(says(&err, ":1: a name without its schema"), "says the schema is missing");
	CHECK_STR(parse("a.b.c.d\n", &s, &err), "invalid_sources", "four parts");
	CHECK_STR(parse("*.t\n", &s, &err), "invalid_sources", "a star as schema");
	CHECK_STR(parse("c.s.*\n", &s, &err), "invalid_sources", "catalog.schema.* is not a form");
	CHECK_STR(parse("s.*x\n", &s, &err), "invalid_sources", "text after a star");
	CHECK_STR(parse("*\n", &s, &err), "invalid_sources", "a star alone");
	CHECK_STR(parse("a..b\n", &s, &err), "invalid_sources", "an empty part");
	CHECK_STR(parse("a.\n", &s, &err), "invalid_sources", "a trailing dot");
	CHECK_STR(parse(".a\n", &s, &err), "invalid_sources", "a leading dot");
	CHECK_STR(parse("a.``\n", &s, &err), "invalid_sources", "an empty backticked part");
	CHECK_STR(parse("a.`b\n", &s, &err), "invalid_sources", "an unclosed backtick");
	CHECK_STR(parse("a.b;\n", &s, &err), "invalid_sources", "a semicolon");
	CHECK_STR(parse("a.\"b\"\n", &s, &err), "invalid_sources", "double quotes");
	CHECK(says(&err, "unexpected character \"\"\""), "names the character");
	CHECK(il_sources_parse("a.b\nc.\xff\n", 8, "sources.txt", &s, &err) == -1 && err.line == 2 &&
		  says(&err, "invalid UTF-8"), "invalid UTF-8 names its line");
	CHECK(il_sources_parse("a.b\n\nc\0d\n", 9, "sources.txt", &s, &err) == -1 && err.line == 3,
		  "a NUL byte names its line");

	/* bounds */
	for (i = 0; i < IL_SOURCES_MAX_ENTRIES; i++)
		il_buf_printf(&big, "s.t%d\n", i);
	CHECK_STR(parse(il_buf_cstr(&big), &s, &err), "ok", "10,000 entries are accepted");
	CHECK(il_sources_count(s) == 10000 && il_sources_declares(s, "s.t9999") && !il_sources_declares(s, "s.t10000"),
		  "all of them");
	il_sources_free(s);
	il_buf_puts(&big, "# a comment is no entry\n\ns.t10000\n");
	CHECK_STR(parse(il_buf_cstr(&big), &s, &err), "invalid_sources", "10,001 entries are refused");
	CHECK(err.line == 10003 && says(&err, ":10003: more than 10000 entries"), "naming the line of the 10,001st");
	il_buf_reset(&big);
	while (big.len <= IL_SOURCES_MAX_SIZE)
		il_buf_puts(&big, "# padding padding padding padding padding padding padding padding\n");
	CHECK_STR(parse(il_buf_cstr(&big), &s, &err), "invalid_sources", "a file over 1 MiB is refused");
	CHECK(says(&err, "more than the 1048576"), "saying the bound");
	il_buf_free(&big);
}

static void
test_classify(void)
{
	const char *models[] = {"marts.dim_users", "hive.gold.kpis", "odd"};
	il_sources *schemas;
	il_sources *decl;
	il_error	err;

	CHECK(il_sources_model_schemas(models, 3, &schemas, &err) == 0, "the schemas of the models");
	CHECK(il_sources_unknown(NULL, schemas, "marts.dim_user"), "no declaration: a typo beside a model is unknown");
	CHECK(il_sources_unknown(NULL, schemas, "main.marts.dim_user"), "with a catalog too");
	CHECK(!il_sources_unknown(NULL, schemas, "source.users"), "a schema without models stays a source");
	CHECK(!il_sources_unknown(NULL, schemas, "users"), "a one-part name stays a source");
	CHECK(il_sources_unknown(NULL, schemas, "gold.x") && il_sources_unknown(NULL, schemas, "hive.gold.x"),
		  "the schema of a three-part model, with or without its catalog");
	CHECK(!il_sources_unknown(NULL, schemas, "other.gold.x"), "not under another catalog");
	CHECK(!il_sources_unknown(NULL, NULL, "marts.x"), "no schemas: nothing is unknown");
	CHECK_STR(parse("source.users\n", &decl, &err), "ok", "a declaration");
	CHECK(!il_sources_unknown(decl, schemas, "source.users"), "a declared source is not unknown");
	CHECK(il_sources_unknown(decl, schemas, "source.orders"), "with a declaration, any other is unknown");
	CHECK(il_sources_unknown(decl, schemas, "users2"), "a one-part name too");
	il_sources_free(decl);
	il_sources_free(schemas);
}

#define DIM "-- name: marts.dim_users\n-- kind: FULL_REFRESH\nSELECT id FROM source.users\n"
#define FCT "-- name: marts.fct_orders\n-- kind: FULL_REFRESH\n" \
	"SELECT o.id FROM source.orders o JOIN marts.dim_user u ON u.id = o.user_id JOIN ext.fx f ON true\n"

static void
test_repo(void)
{
	char		path[256];
	char		c1[IL_GIT_OID_HEX_LEN + 1];
	char		c2[IL_GIT_OID_HEX_LEN + 1];
	char		c3[IL_GIT_OID_HEX_LEN + 1];
	char		c4[IL_GIT_OID_HEX_LEN + 1];
	gen_file	f1[] = {{"models/marts/dim_users.sql", DIM, 0, 0}, {"models/marts/fct_orders.sql", FCT, 0, 0}};
	gen_file	f2[] = {{"models/marts/dim_users.sql", DIM, 0, 0}, {"models/marts/fct_orders.sql", FCT, 0, 0},
	{"models/sources.txt", "source.*\next.fx\n", 0, 0}};
	gen_file	f3[] = {{"models/marts/dim_users.sql", DIM, 0, 0}, {"models/marts/fct_orders.sql", FCT, 0, 0},
	{"models/sources.txt", "source.*\n\next fx\n", 0, 0}};
	gen_file	f4[] = {{"models/marts/dim_users.sql", DIM, 0, 0}, {"models/marts/fct_orders.sql", FCT, 0, 0},
	{"models/sources.txt", "models/other.txt", 0, GIT_FILEMODE_LINK}};
	il_git_repo *g = NULL;
	il_repo_models *m = NULL;
	il_repo_diff_result *d = NULL;
	il_error	err;
	il_buf		out = IL_BUF_INIT;
	char		id[IL_SHA256_HEX_LEN + 1];
	il_plan_options opts;
	il_date		asof = 0;

	il_date_from_ymd(2026, 1, 15, &asof);
	snprintf(path, sizeof(path), "%s/r", tmp);
	CHECK(genrepo_commit_files(path, 0, f1, 2, "1\n", 0, c1, ebuf, sizeof(ebuf)) == 0 &&
		  genrepo_commit_files(path, 0, f2, 3, "2\n", 1, c2, ebuf, sizeof(ebuf)) == 0 &&
		  genrepo_commit_files(path, 0, f3, 3, "3\n", 2, c3, ebuf, sizeof(ebuf)) == 0 &&
		  genrepo_commit_files(path, 0, f4, 3, "4\n", 3, c4, ebuf, sizeof(ebuf)) == 0, "a repository of four commits");
	CHECK(il_git_open(path, &g, &err) == 0, "it opens");

	CHECK(il_repo_load(g, c1, NULL, NULL, IL_REPO_DAG, &m, &err) == 0 && m->n == 2, "models without sources.txt");
	if (m != NULL)
	{
		CHECK(m->sources_file == NULL, "no declaration");
		CHECK(m->models[1].n_sources == 3 && m->models[1].n_unknown_refs == 1 &&
			  strcmp(m->models[1].unknown_refs[0], "marts.dim_user") == 0,
			  "the typo beside marts.dim_users is unknown; ext.fx and source.orders stay sources");
		CHECK(m->models[0].n_unknown_refs == 0, "dim_users has none");
	}
	il_repo_models_free(m);
	m = NULL;
	CHECK(il_repo_load(g, c2, NULL, NULL, 0, &m, &err) == 0 && m->models[1].n_unknown_refs == 0,
		  "without the graph nothing is classified");
	il_repo_models_free(m);
	m = NULL;
	CHECK(il_repo_load(g, c2, NULL, NULL, IL_REPO_DAG, &m, &err) == 0, "models with sources.txt");
	if (m != NULL)
	{
		CHECK_STR(m->sources_file, "models/sources.txt", "the declaration's path");
		CHECK(m->n_declared == 2, "two entries");
		CHECK(m->models[1].n_unknown_refs == 1 && strcmp(m->models[1].unknown_refs[0], "marts.dim_user") == 0,
			  "only the typo is unknown");
	}
	il_repo_models_free(m);
	m = NULL;
	CHECK(il_repo_load(g, c3, NULL, NULL, IL_REPO_DAG, &m, &err) == -1 && strcmp(err.code, "invalid_sources") == 0 &&
		  says(&err, "models/sources.txt:3: "), "a bad line fails the load, naming file and line");
	CHECK(il_repo_load(g, c4, NULL, NULL, IL_REPO_DAG, &m, &err) == -1 && strcmp(err.code, "invalid_sources") == 0 &&
		  says(&err, "not a regular file"), "a symbolic link is refused");

	/* the diff: the head's unknown references; a bad base declaration is not read */
	CHECK(il_repo_diff(g, c3, c1, NULL, NULL, &d, &err) == 0, "a diff from a commit with a bad sources.txt");
	if (d != NULL)
	{
		il_repo_diff_json(d->rows, d->n, &out);
		CHECK(d->n == 0, "no model changed");
	}
	il_repo_diff_free(d);
	d = NULL;
	CHECK(il_repo_diff(g, IL_GIT_NULL_OID, c1, NULL, NULL, &d, &err) == 0 && d->n == 2, "everything added");
	if (d != NULL)
		CHECK(d->rows[1].n_unknown_refs == 1 && strcmp(d->rows[1].unknown_refs[0], "marts.dim_user") == 0 &&
			  d->rows[0].n_unknown_refs == 0, "the diff row has the head model's unknown references");
	il_repo_diff_free(d);
	d = NULL;
	CHECK(il_repo_diff(g, c1, c3, NULL, NULL, &d, &err) == -1 && says(&err, "at head commit"),
		  "a bad head declaration fails the diff, naming the head");

	/* plans: the member only when there is one */
	il_plan_options_init(&opts);
	il_buf_reset(&out);
	CHECK(il_plan_from_git(g, IL_GIT_NULL_OID, c1, NULL, NULL, asof, &opts, NULL, 0, &out, id,
						   NULL, &err) == 0, "a change plan of c1");
	CHECK(strstr(il_buf_cstr(&out), ",\"target\":\"") != NULL &&
		  strstr(il_buf_cstr(&out), "\",\"unknown_references\":[{\"model\":\"marts.fct_orders\",\"reference\":\"marts.dim_user\"}]}") != NULL,
		  "the plan ends with unknown_references after target");
	il_buf_reset(&out);
	opts.kind = IL_PLAN_REFRESH;
	CHECK(il_plan_from_git(g, NULL, c1, NULL, NULL, asof, &opts, NULL, 0, &out, id,
						   NULL, &err) == 0 && strstr(il_buf_cstr(&out), "\"unknown_references\":[{") != NULL,
		  "a refresh plan has it too");
	il_buf_reset(&out);
	opts.kind = IL_PLAN_CHANGE;
	CHECK(il_plan_from_git(g, c1, c2, NULL, NULL, asof, &opts, NULL, 0, &out, id,
						   NULL, &err) == 0 && strstr(il_buf_cstr(&out), "unknown_references\":[{\"model\":\"marts.fct_orders\",\"reference\":\"marts.dim_user\"}]}") != NULL,
		  "with a declaration: the undeclared reference only");
	il_buf_free(&out);
	il_plan_options_free(&opts);
	il_git_close(g);
}

/* FNV-1a, as a hash table of keys might use it (the attack's model). */
static unsigned
fnv1a(const char *s)
{
	unsigned	h = 2166136261u;

	for (; *s; s++)
	{
		h ^= (unsigned char) *s;
		h *= 16777619u;
	}
	return h;
}

/*
 * A declaration whose keys all share the low 13 bits of FNV-1a (each table
 * name, and each schema.table, found by trying names): a hash table of
 * them probes one cluster, quadratic work. The work stays n log n.
 */
static void
test_adversarial(void)
{
	enum
	{
		N = 2000, MASK = 0x1fff
	};
	il_sources *s;
	il_error	err;
	il_buf		text = IL_BUF_INIT;
	char		t[32];
	char		st[64];
	unsigned long c = 0;
	size_t		parsed;
	int			i,
				unknown = 0;

	for (i = 0; i < N; i++)
	{
		unsigned long d = 0;

		do
			snprintf(t, sizeof(t), "t%lx", c++);
		while ((fnv1a(t) & MASK) != 0x123);
		do
			snprintf(st, sizeof(st), "s%lx.%s", d++, t);
		while ((fnv1a(st) & MASK) != 0x123);
		il_buf_printf(&text, "%s\n", st);
	}
	CHECK(il_sources_parse(text.data, text.len, "sources.txt", &s, &err) == 0 && il_sources_count(s) == N,
		  "colliding keys parse");
	parsed = il_sources_work(s);
	CHECK(parsed < (size_t) 2 * N * 64, "parsing colliding keys looks at O(n log n) keys");
	if (parsed >= (size_t) 2 * N * 64)
		printf("#   %zu keys looked at for %d entries\n", parsed, N);
	/* lookups of references that collide too */
	c = 0;
	for (i = 0; i < N; i++)
	{
		do
			snprintf(st, sizeof(st), "zz.q%lx", c++);
		while ((fnv1a(st) & MASK) != 0x123);
		unknown += il_sources_unknown(s, NULL, st);
	}
	CHECK(unknown == N, "colliding references are unknown");
	CHECK(il_sources_work(s) - parsed < (size_t) N * 5 * 64, "and looking them up is O(log n) each");
	if (il_sources_work(s) - parsed >= (size_t) N * 5 * 64)
		printf("#   %zu keys looked at for %d lookups\n", il_sources_work(s) - parsed, N);
	il_sources_free(s);
	il_buf_free(&text);
}

int
main(void)
{
	if (mkdtemp(tmp) == NULL)
	{
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	il_git_init();
	test_parser();
	test_classify();
	test_adversarial();
	test_repo();
	il_git_shutdown();
	CHECK(genrepo_rmtree(tmp) == 0, "the temporary directory is removed");
	return unit_done();
}
