/*
 * Unit tests of il_repo.h against real git repositories made here (with
 * libgit2, in a temporary directory): discovery, skipped files, every
 * error, the graph, diff (every change kind, moves, renames), lineage, the
 * parse cache and its records, the JSON lines, and repositories from the
 * generator (bare, every kind of change).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../bench/genrepo.h"
#include "il_repo.h"
#include "unit.h"

static char tmp[] = "/tmp/ironlayer-unit-repo-XXXXXX";
static char ebuf[256];
static int	nrepos = 0;

/* ---- a small in-memory cache that counts ---- */

typedef struct tcache
{
	char		ids[256][IL_GIT_OID_HEX_LEN + 1];
	uint8_t    *data[256];
	size_t		len[256];
	size_t		n;
	int			gets;
	int			puts;
	int			prefetches;
	size_t		prefetched;
	int			corrupt;		/* get returns damaged records */
} tcache;

/* prefetch callback. */
static void
tc_prefetch(void *arg, const char *const *ids, size_t n)
{
	tcache	   *c = arg;

	(void) ids;
	c->prefetches++;
	c->prefetched = n;
}

/* get callback. */
static const uint8_t *
tc_get(void *arg, const char *id, size_t *len)
{
	tcache	   *c = arg;
	size_t		i;

	c->gets++;
	for (i = 0; i < c->n; i++)
		if (strcmp(c->ids[i], id) == 0)
		{
			*len = c->len[i];
			if (c->corrupt && c->len[i] > 2)
				c->data[i][1] ^= 0x20;	/* a byte of the version string */
			return c->data[i];
		}
	return NULL;
}

/* put callback. */
static void
tc_put(void *arg, const char *id, const uint8_t *data, size_t len)
{
	tcache	   *c = arg;
	size_t		i;

	c->puts++;
	for (i = 0; i < c->n; i++)
		if (strcmp(c->ids[i], id) == 0)
			break;
	if (i == c->n)
	{
		if (c->n == 256)
			return;
		c->n++;
		c->data[i] = NULL;
	}
	free(c->data[i]);
	c->data[i] = malloc(len);
	memcpy(c->data[i], data, len);
	c->len[i] = len;
	memcpy(c->ids[i], id, sizeof(c->ids[i]));
}

/* Empties the cache. */
static void
tc_clear(tcache *c)
{
	size_t		i;

	for (i = 0; i < c->n; i++)
		free(c->data[i]);
	memset(c, 0, sizeof(*c));
}

/* ---- helpers ---- */

/* A new repository path under tmp. */
static const char *
new_repo(char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/r%d", tmp, nrepos++);
	return buf;
}

/* Commits files into a new repository; returns its path (buf), id in id. */
static const char *
one_commit(char *buf, size_t cap, const gen_file *files, size_t n, char *id)
{
	new_repo(buf, cap);
	if (genrepo_commit_files(buf, 0, files, n, "test\n", 0, id, ebuf, sizeof(ebuf)) != 0)
		printf("# commit failed: %s\n", ebuf);
	return buf;
}

/* Loads the commit of a one-commit repository; returns the error (code or "ok"). */
static const char *
load_code(const char *path, const char *commit, unsigned flags, il_error *err)
{
	il_git_repo *g = NULL;
	il_repo_models *m = NULL;
	const char *code = "ok";

	if (il_git_open(path, &g, err) != 0 || il_repo_load(g, commit, NULL, NULL, flags, &m, err) != 0)
		code = err->code;
	il_repo_models_free(m);
	il_git_close(g);
	return code;
}

/* The model named name in m, or NULL. */
static const il_repo_model *
model(const il_repo_models *m, const char *name)
{
	size_t		i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->models[i].name, name) == 0)
			return &m->models[i];
	return NULL;
}

/* "a,b": names joined. */
static const char *
joined(const char *const *items, size_t n, char *out)
{
	size_t		i;

	out[0] = '\0';
	for (i = 0; i < n; i++)
	{
		if (i > 0)
			strcat(out, ",");
		strcat(out, items[i]);
	}
	return out;
}

/* The git blob id of text. */
static const char *
blob_id(const char *text, char *out)
{
	git_oid		oid;

	git_odb_hash(&oid, text, strlen(text), GIT_OBJECT_BLOB);
	git_oid_tostr(out, IL_GIT_OID_HEX_LEN + 1, &oid);
	return out;
}

/* Does err have code and a message containing what? */
static int
err_is(const il_error *err, const char *code, const char *what)
{
	return err->code != NULL && strcmp(err->code, code) == 0 &&
		(what == NULL || strstr(err->message, what) != NULL);
}

#define ORDERS_V1 "-- name: staging.orders\n-- kind: FULL_REFRESH\n" \
	"SELECT o.id, c.name FROM raw.orders o JOIN raw.customers c ON o.cid = c.id\n"
#define ORDERS_V2 "-- name: staging.orders\n-- kind: FULL_REFRESH\n" \
	"SELECT o.id, c.name FROM raw.orders o JOIN raw.customers c ON o.cid = c.id WHERE o.id > 0\n"
#define DAILY_V1 "-- name: marts.daily\n-- kind: INCREMENTAL_BY_TIME_RANGE\n-- time_column: day\n" \
	"SELECT day, count(*) FROM {{ ref('orders') }} GROUP BY day\n"
#define DAILY_V2 "-- name: marts.daily\n-- kind: INCREMENTAL_BY_TIME_RANGE\n-- time_column: day\n" \
	"-- counts orders per day\nselect day,\n       COUNT(*)\n  from {{ ref('orders') }}\n group by day;\n"
#define CUSTOMERS "-- name: marts.customers\n-- kind: MERGE_BY_KEY\n-- unique_key: id, region\n" \
	"-- dependencies: marts.daily\nSELECT * FROM staging.orders\n"
#define OLD "-- name: marts.old\n-- kind: APPEND_ONLY\nSELECT 1 AS x\n"
#define LEGACY "-- name: marts.legacy\n-- kind: FULL_REFRESH\nSELECT 2 AS y\n"
#define MODERN "-- name: marts.modern\n-- kind: FULL_REFRESH\nSELECT 2 AS y\n"
#define X_V1 "-- name: marts.x\n-- kind: FULL_REFRESH\nSELECT a FROM marts.daily\n"
#define X_V2 "-- name: marts.x\n-- kind: FULL_REFRESH\n\nSELECT a\nFROM marts.daily\n"
#define NEW "-- name: marts.new\n-- kind: FULL_REFRESH\n-- materialization: view\nSELECT * FROM marts.x\n"

int
main(void)
{
	char		repo[512];
	char		p[512];
	char		c1[IL_GIT_OID_HEX_LEN + 1];
	char		c2[IL_GIT_OID_HEX_LEN + 1];
	char		id[IL_GIT_OID_HEX_LEN + 1];
	char		s[2048];
	il_git_repo *g = NULL;
	il_repo_models *m = NULL;
	il_repo_models *m2 = NULL;
	il_repo_diff_result *d = NULL;
	il_repo_lineage_row *rows = NULL;
	size_t		nrows = 0;
	il_error	err;
	il_buf		json = IL_BUF_INIT;
	il_buf		json2 = IL_BUF_INIT;
	tcache	   *tc = calloc(1, sizeof(tcache));
	il_parse_cache cache = {tc, tc_prefetch, tc_get, tc_put};
	const il_repo_model *md;

	if (mkdtemp(tmp) == NULL || tc == NULL)
	{
		printf("Bail out! mkdtemp\n");
		return 1;
	}

	/* ---- a project in two commits ---- */
	new_repo(repo, sizeof(repo));
	{
		gen_file	f1[] = {
			{"README.md", "# project\n", 0, 0},
			{"analysis/adhoc.sql", "-- name: x.y\n-- kind: SOMETIMES\nSELECT 1\n", 0, 0},
			{"models/README.sql", "-- This directory holds the models.\n-- note: nothing here\nSELECT 1\n", 0, 0},
			{"models/macros/util.sql", "SELECT 1\n", 0, 0},
			{"models/notes.txt", "not a model\n", 0, 0},
			{"models/staging/orders.sql", ORDERS_V1, 0, 0},
			{"models/marts/daily.sql", DAILY_V1, 0, 0},
			{"models/marts/customers.sql", CUSTOMERS, 0, 0},
			{"models/old.sql", OLD, 0, 0},
			{"models/legacy.sql", LEGACY, 0, 0},
			{"models/x.sql", X_V1, 0, 0},
		};
		gen_file	f2[] = {
			{"README.md", "# project\n", 0, 0},
			{"analysis/adhoc.sql", "-- name: x.y\n-- kind: SOMETIMES\nSELECT 1\n", 0, 0},
			{"models/README.sql", "-- This directory holds the models.\n-- note: nothing here\nSELECT 1\n", 0, 0},
			{"models/staging/orders.sql", ORDERS_V2, 0, 0},
			{"models/marts/daily.sql", DAILY_V2, 0, 0},
			{"models/marts/core/customers.sql", CUSTOMERS, 0, 0},
			{"models/legacy.sql", MODERN, 0, 0},
			{"models/y/x2.sql", X_V2, 0, 0},
			{"models/marts/new.sql", NEW, 0, 0},
		};

		CHECK(genrepo_commit_files(repo, 0, f1, sizeof(f1) / sizeof(f1[0]), "one\n", 0, c1, ebuf, sizeof(ebuf)) == 0 &&
			  genrepo_commit_files(repo, 0, f2, sizeof(f2) / sizeof(f2[0]), "two\n", 1, c2, ebuf, sizeof(ebuf)) == 0,
			  "a project repository of two commits");
	}
	CHECK(il_git_open(repo, &g, &err) == 0, "it opens");

	/* Models at the first commit. */
	CHECK(il_repo_load(g, "HEAD~1", NULL, NULL, IL_REPO_DAG, &m, &err) == 0, "models at HEAD~1 load");
	if (m == NULL)
	{
		printf("Bail out! %s\n", err.message);
		genrepo_rmtree(tmp);
		return 1;
	}
	CHECK_STR(m->commit, c1, "the commit is resolved to its full id");
	CHECK_STR(m->models_dir, "models", "models/ is the default directory");
	CHECK(m->n == 6, "six models (analysis/ is outside the models directory)");
	CHECK(m->n == 6 && strcmp(m->models[0].name, "marts.customers") == 0 && strcmp(m->models[5].name, "staging.orders") == 0,
		  "ordered by name");
	CHECK(m->n_skipped == 2, "two files skipped");
	CHECK(m->n_skipped == 2 && strcmp(m->skipped[0].path, "models/README.sql") == 0 &&
		  strcmp(m->skipped[1].path, "models/macros/util.sql") == 0, "skipped files in path order");
	CHECK(m->n_skipped == 2 && strcmp(m->skipped[0].reason, "no header directive") == 0,
		  "a file of comments without a directive is skipped, with the reason");
	CHECK(m->stats.files == 8 && m->stats.blobs == 8 && m->stats.parsed == 8 && m->stats.cache_hits == 0,
		  "stats: 8 files, 8 blobs, 8 parsed, no cache");
	md = model(m, "marts.customers");
	CHECK(md && strcmp(joined(md->upstream, md->n_upstream, s), "marts.daily,staging.orders") == 0,
		  "upstream from the dependencies header and from the SQL");
	CHECK(md && md->unique_key_text && strcmp(md->unique_key_text, "id,region") == 0 && md->unique_key.n == 2,
		  "unique_key joined with commas");
	CHECK(md && strcmp(md->kind_name, "MERGE_BY_KEY") == 0 && md->kind == IL_KIND_MERGE_BY_KEY, "kind");
	md = model(m, "marts.daily");
	CHECK(md && strcmp(joined(md->upstream, md->n_upstream, s), "staging.orders") == 0,
		  "upstream from {{ ref('orders') }} by short name");
	CHECK(md && md->time_column && strcmp(md->time_column, "day") == 0, "time_column");
	md = model(m, "staging.orders");
	CHECK(md && md->n_upstream == 0 && strcmp(joined(md->sources, md->n_sources, s), "raw.customers,raw.orders") == 0,
		  "references to non-models are sources, sorted");
	CHECK(md && strcmp(md->path, "models/staging/orders.sql") == 0, "the path is relative to the repository root");
	CHECK(md && strcmp(md->blob, blob_id(ORDERS_V1, id)) == 0, "the blob is the git id of the file");
	if (md)
	{
		il_model	pm;
		char		sha[IL_SHA256_HEX_LEN + 1];

		CHECK(il_model_parse(ORDERS_V1, strlen(ORDERS_V1), &pm, &err) == IL_PARSE_OK &&
			  strcmp(pm.fingerprint, md->fingerprint) == 0, "the fingerprint is il_model's");
		il_model_free(&pm);
		il_sha256_hex(ORDERS_V1, strlen(ORDERS_V1), sha);
		CHECK_STR(md->sql_sha256, sha, "sql_sha256 is the sha-256 of the file");
		CHECK(md->guard_ok && md->statement == IL_STMT_SELECT, "guard and statement kind");
	}
	CHECK(m->dag != NULL && m->dag->order != NULL, "the graph and its order are built");
	md = model(m, "marts.daily");
	il_buf_reset(&json);
	if (md)
		il_repo_model_json(md, &json);
	{
		il_model	pm;
		il_buf		want = IL_BUF_INIT;

		il_model_parse(DAILY_V1, strlen(DAILY_V1), &pm, &err);
		il_buf_printf(&want, "{\"blob\":\"%s\",\"fingerprint\":\"%s\",\"kind\":\"INCREMENTAL_BY_TIME_RANGE\","
					  "\"materialization\":\"TABLE\",\"name\":\"marts.daily\",\"path\":\"models/marts/daily.sql\","
					  "\"sources\":[],\"time_column\":\"day\",\"unique_key\":null,\"unknown_refs\":[],"
					  "\"upstream\":[\"staging.orders\"]}",
					  blob_id(DAILY_V1, id), pm.fingerprint);
		CHECK_STR(il_buf_cstr(&json), il_buf_cstr(&want), "a models row as canonical JSON");
		il_model_free(&pm);
		il_buf_free(&want);
	}
	il_buf_reset(&json);
	il_repo_models_json(m, &json);
	{
		const char *q;
		int			lines = 0;

		for (q = il_buf_cstr(&json); *q; q++)
			lines += *q == '\n';
		CHECK(lines == 6 && strncmp(il_buf_cstr(&json), "{\"blob\":", 8) == 0, "one JSON line per model");
		CHECK(strstr(il_buf_cstr(&json), "\"unique_key\":\"id,region\"") != NULL, "unique_key as text in JSON");
	}

	/* Lineage. */
	CHECK(il_repo_lineage(m, "daily", "both", NULL, &rows, &nrows, &err) == 0 && nrows == 3, "lineage of daily");
	il_buf_reset(&json);
	il_repo_lineage_json(rows, nrows, &json);
	CHECK_STR(il_buf_cstr(&json),
			  "{\"depth\":1,\"direction\":\"downstream\",\"model\":\"marts.customers\"}\n"
			  "{\"depth\":1,\"direction\":\"downstream\",\"model\":\"marts.x\"}\n"
			  "{\"depth\":1,\"direction\":\"upstream\",\"model\":\"staging.orders\"}\n",
			  "lineage rows as JSON lines");
	free(rows);
	rows = NULL;
	CHECK(il_repo_lineage(m, "staging.orders", "down", NULL, &rows, &nrows, &err) == 0 && nrows == 3 &&
		  rows[2].depth == 2 && strcmp(rows[2].model, "marts.x") == 0, "downstream, depth 2 via the shortest path");
	free(rows);
	rows = NULL;
	{
		int			one = 1;

		CHECK(il_repo_lineage(m, "staging.orders", NULL, &one, &rows, &nrows, &err) == 0 && nrows == 2,
			  "max depth 1");
		free(rows);
		rows = NULL;
	}
	CHECK(il_repo_lineage(m, "daily", "around", NULL, &rows, &nrows, &err) == -1 &&
		  err_is(&err, "invalid_direction", "around"), "invalid direction");
	CHECK(il_repo_lineage(m, "nope", NULL, NULL, &rows, &nrows, &err) == -1 && err_is(&err, "unknown_model", "nope"),
		  "unknown model");
	il_repo_models_free(m);
	m = NULL;

	/* Without the graph, and built later. */
	CHECK(il_repo_load(g, c1, NULL, NULL, 0, &m, &err) == 0 && m->dag == NULL && model(m, "marts.daily")->n_upstream == 0,
		  "without IL_REPO_DAG there is no graph and no upstream");
	CHECK(il_repo_build_dag(m, &err) == 0 && m->dag != NULL && model(m, "marts.daily")->n_upstream == 1,
		  "il_repo_build_dag fills upstream");
	il_repo_models_free(m);
	m = NULL;

	/* The root as models directory: analysis/adhoc.sql has a bad header. */
	CHECK(il_repo_load(g, c1, "", NULL, 0, &m, &err) == -1 && m == NULL &&
		  err_is(&err, "invalid_header", "analysis/adhoc.sql:2:") && err.line == 2,
		  "the whole tree: the bad header of analysis/adhoc.sql is an error naming file and line");
	CHECK(strstr(err.message, "invalid kind 'SOMETIMES'") != NULL, "with the parser's message");
	CHECK(il_repo_load(g, c1, "models/marts/", NULL, 0, &m, &err) == 0 && m->n == 2 &&
		  strcmp(m->models_dir, "models/marts") == 0, "an explicit models directory, normalized");
	il_repo_models_free(m);
	m = NULL;
	CHECK(il_repo_load(g, c1, "../x", NULL, 0, &m, &err) == -1 && err_is(&err, "invalid_models_dir", NULL),
		  "an invalid models directory");
	CHECK(il_repo_load(g, c1, "nothere", NULL, 0, &m, &err) == -1 && err_is(&err, "no_models_dir", "nothere"),
		  "a missing models directory");
	CHECK(il_repo_load(g, "nope", NULL, NULL, 0, &m, &err) == -1 && err_is(&err, "unknown_commit", "\"nope\""),
		  "an unknown commit names it");
	CHECK(strcmp(il_error_sqlstate(&err), "22023") == 0, "unknown_commit is SQLSTATE 22023");

	/* Diff: every kind of change. */
	CHECK(il_repo_diff(g, c1, "main", NULL, NULL, &d, &err) == 0, "diff of the two commits");
	il_buf_reset(&json);
	if (d)
		il_repo_diff_json(d->rows, d->n, &json);
	CHECK_STR(il_buf_cstr(&json),
			  "{\"change\":\"cosmetic\",\"model\":\"marts.daily\",\"path\":\"models/marts/daily.sql\",\"unknown_refs\":[]}\n"
			  "{\"change\":\"removed\",\"model\":\"marts.legacy\",\"path\":\"models/legacy.sql\",\"unknown_refs\":[]}\n"
			  "{\"change\":\"added\",\"model\":\"marts.modern\",\"path\":\"models/legacy.sql\",\"unknown_refs\":[]}\n"
			  "{\"change\":\"added\",\"model\":\"marts.new\",\"path\":\"models/marts/new.sql\",\"unknown_refs\":[]}\n"
			  "{\"change\":\"removed\",\"model\":\"marts.old\",\"path\":\"models/old.sql\",\"unknown_refs\":[]}\n"
			  "{\"change\":\"cosmetic\",\"model\":\"marts.x\",\"path\":\"models/y/x2.sql\",\"unknown_refs\":[]}\n"
			  "{\"change\":\"modified\",\"model\":\"staging.orders\",\"path\":\"models/staging/orders.sql\",\"unknown_refs\":[]}\n",
			  "added, removed, modified, cosmetic; a moved file is no change; a rename is removed + added");
	CHECK(d && d->n == 7 && d->rows[0].change == IL_CHANGE_COSMETIC && d->rows[6].change == IL_CHANGE_MODIFIED,
		  "seven rows with their kinds");
	CHECK(d && strcmp(d->base->commit, c1) == 0 && strcmp(d->head->commit, c2) == 0, "both commits resolved");
	CHECK(d && d->stats.files == 8 + 7 && d->stats.parsed == d->stats.blobs, "each distinct blob parsed once");
	CHECK(d && d->stats.blobs == 8 + 5, "blobs shared by both commits counted once");
	il_repo_diff_free(d);
	d = NULL;
	CHECK(il_repo_diff(g, "main", "main", NULL, NULL, &d, &err) == 0 && d->n == 0 && d->rows == NULL,
		  "a commit against itself: no change");
	il_repo_diff_free(d);
	d = NULL;
	CHECK(il_repo_diff(g, "nope", "main", NULL, NULL, &d, &err) == -1 && d == NULL &&
		  err_is(&err, "unknown_commit", "nope"), "diff with an unknown base");
	CHECK(il_repo_diff(g, c1, "zzzz", NULL, NULL, &d, &err) == -1 && err_is(&err, "unknown_commit", "zzzz"),
		  "diff with an unknown head");
	CHECK(il_repo_diff(g, c1, "main", "", NULL, &d, &err) == -1 &&
		  err_is(&err, "invalid_header", "at head commit") && strstr(err.message, "analysis/adhoc.sql:2:") != NULL,
		  "a broken file both commits share is reported at head (base reads only what head lacks)");
	/* il_repo_compare on loaded sets, swapped */
	CHECK(il_repo_load(g, c1, NULL, NULL, 0, &m, &err) == 0 && il_repo_load(g, c2, NULL, NULL, 0, &m2, &err) == 0,
		  "both commits loaded");
	if (m && m2)
	{
		il_repo_change *ch = NULL;
		size_t		nch = 0;

		CHECK(il_repo_compare(m2, m, &ch, &nch, &err) == 0 && nch == 7 && ch[0].change == IL_CHANGE_COSMETIC &&
			  strcmp(ch[0].path, "models/marts/daily.sql") == 0 && ch[1].change == IL_CHANGE_ADDED &&
			  strcmp(ch[1].model, "marts.legacy") == 0, "compared the other way, removed becomes added");
		free(ch);
	}
	il_repo_models_free(m);
	il_repo_models_free(m2);
	m = m2 = NULL;
	CHECK_STR(il_change_name(IL_CHANGE_REMOVED), "removed", "change names");

	/* ---- the parse cache ---- */
	CHECK(il_repo_load(g, c1, NULL, &cache, IL_REPO_DAG, &m, &err) == 0, "a load with an empty cache");
	CHECK(m && m->stats.parsed == 8 && m->stats.cache_hits == 0 && tc->puts == 8 && tc->n == 8,
		  "every blob parsed and put (models and skipped files)");
	CHECK(tc->prefetches == 1 && tc->prefetched == 8, "prefetch once with every distinct blob");
	il_buf_reset(&json);
	if (m)
		il_repo_models_json(m, &json);
	il_repo_models_free(m);
	m = NULL;
	CHECK(il_repo_load(g, c1, NULL, &cache, IL_REPO_DAG, &m, &err) == 0 && m->stats.parsed == 0 &&
		  m->stats.cache_hits == 8 && tc->puts == 8, "the second time parses nothing");
	il_buf_reset(&json2);
	if (m)
		il_repo_models_json(m, &json2);
	CHECK(json.len > 0 && strcmp(il_buf_cstr(&json), il_buf_cstr(&json2)) == 0, "cold and warm give the same bytes");
	il_repo_models_free(m);
	m = NULL;
	tc->corrupt = 1;
	CHECK(il_repo_load(g, c1, NULL, &cache, IL_REPO_DAG, &m, &err) == 0 && m->stats.stale == 8 &&
		  m->stats.parsed == 8 && m->stats.cache_hits == 0, "damaged or other-version records are stale: parsed again");
	tc->corrupt = 0;
	il_buf_reset(&json2);
	if (m)
		il_repo_models_json(m, &json2);
	CHECK(strcmp(il_buf_cstr(&json), il_buf_cstr(&json2)) == 0, "with the same result");
	il_repo_models_free(m);
	m = NULL;
	CHECK(il_repo_load(g, c1, NULL, &cache, 0, &m, &err) == 0 && m->stats.parsed == 0,
		  "the records were put again");
	il_repo_models_free(m);
	m = NULL;
	CHECK(il_repo_diff(g, c1, c2, NULL, &cache, &d, &err) == 0 && d->stats.parsed == 5 && d->stats.cache_hits == 8,
		  "a diff parses only the blobs new at head");
	il_repo_diff_free(d);
	d = NULL;
	CHECK(il_repo_diff(g, c1, c2, NULL, &cache, &d, &err) == 0 && d->stats.parsed == 0 && d->n == 7,
		  "the same diff again parses nothing");
	il_repo_diff_free(d);
	d = NULL;
	il_git_close(g);
	g = NULL;

	/* One changed file parses one file. */
	{
		gen_file	f1[] = {
			{"models/a.sql", "-- name: s.a\n-- kind: FULL_REFRESH\nSELECT 1\n", 0, 0},
			{"models/b.sql", "-- name: s.b\n-- kind: FULL_REFRESH\nSELECT * FROM s.a\n", 0, 0},
			{"models/c.sql", "-- name: s.c\n-- kind: FULL_REFRESH\nSELECT * FROM s.b\n", 0, 0},
		};
		gen_file	f2[] = {
			{"models/a.sql", "-- name: s.a\n-- kind: FULL_REFRESH\nSELECT 2\n", 0, 0},
			{"models/b.sql", "-- name: s.b\n-- kind: FULL_REFRESH\nSELECT * FROM s.a\n", 0, 0},
			{"models/c.sql", "-- name: s.c\n-- kind: FULL_REFRESH\nSELECT * FROM s.b\n", 0, 0},
		};

		tc_clear(tc);
		new_repo(p, sizeof(p));
		genrepo_commit_files(p, 0, f1, 3, "1\n", 0, c1, ebuf, sizeof(ebuf));
		genrepo_commit_files(p, 0, f2, 3, "2\n", 1, c2, ebuf, sizeof(ebuf));
		CHECK(il_git_open(p, &g, &err) == 0 && il_repo_load(g, c1, NULL, &cache, IL_REPO_DAG, &m, &err) == 0 &&
			  m->stats.parsed == 3, "three models parsed");
		il_repo_models_free(m);
		m = NULL;
		CHECK(il_repo_load(g, c2, NULL, &cache, IL_REPO_DAG, &m, &err) == 0 && m->stats.parsed == 1 &&
			  m->stats.cache_hits == 2, "a one-file change parses one file");
		il_repo_models_free(m);
		m = NULL;
		il_git_close(g);
		g = NULL;
	}

	/* Records. */
	{
		il_buf		rec = IL_BUF_INIT;
		char		hex[IL_SHA256_HEX_LEN + 1];
		const char *golden = "-- name: analytics.orders\n-- kind: MERGE_BY_KEY\n-- unique_key: id\n"
			"-- dependencies: raw.extra\nSELECT o.id FROM raw.orders o JOIN {{ ref('customers') }} c ON o.c = c.id\n";

		CHECK(il_repo_parse_text(golden, strlen(golden), &rec, &err) == 0, "a record of a model");
		CHECK(rec.len > 20 && rec.data[0] == (char) strlen(IL_PARSER_VERSION) &&
			  memcmp(rec.data + 1, IL_PARSER_VERSION, strlen(IL_PARSER_VERSION)) == 0 &&
			  rec.data[1 + strlen(IL_PARSER_VERSION)] == 'M', "it starts with the parser version and type M");
		il_sha256_hex(rec.data, rec.len, hex);
		printf("# golden record sha-256: %s (%zu bytes)\n", hex, rec.len);
		CHECK_STR(hex, "7a85ced8e7930dab8f15e1ff1549d91bdc94fe67b6f1b3572599b342a2843e10",
				  "the golden record is unchanged (if the parser changed on purpose: bump IL_PARSER_VERSION and update this)");
		il_buf_reset(&rec);
		CHECK(il_repo_parse_text("select 1\n", 9, &rec, &err) == 0 && rec.data[1 + strlen(IL_PARSER_VERSION)] == 'S',
			  "a file without directives: a skipped record");
		il_buf_reset(&rec);
		CHECK(il_repo_parse_text("a\0b", 3, &rec, &err) == 0 && rec.data[1 + strlen(IL_PARSER_VERSION)] == 'E',
			  "a binary file: an error record");
		il_buf_reset(&rec);
		CHECK(il_repo_parse_text("", 0, &rec, &err) == 0 && rec.data[1 + strlen(IL_PARSER_VERSION)] == 'S',
			  "an empty file is skipped");
		il_buf_free(&rec);
	}

	/* ---- errors, each in its own repository ---- */
	{
		gen_file	f[] = {
			{"models/good.sql", "-- name: a.good\n-- kind: FULL_REFRESH\nSELECT 1\n", 0, 0},
			{"models/bad.sql", "-- name: a.b\n-- kind: SOMETIMES\nSELECT 1\n", 0, 0},
			{"models/zbad.sql", "-- name: a.z\n-- kind: NEVER\nSELECT 1\n", 0, 0},
		};

		one_commit(p, sizeof(p), f, 3, id);
		CHECK(strcmp(load_code(p, "main", 0, &err), "invalid_header") == 0 && err.line == 2 && err.column > 0,
			  "a bad kind: invalid_header at its line");
		CHECK(strncmp(err.message, "models/bad.sql:2:", 17) == 0, "the message starts with file:line (the first bad file)");
		CHECK(strcmp(il_error_sqlstate(&err), "22023") == 0, "invalid_header is 22023");
	}
	{
		gen_file	f[] = {{"models/noname.sql", "-- kind: FULL_REFRESH\nSELECT 1\n", 0, 0}};

		one_commit(p, sizeof(p), f, 1, id);
		CHECK(strcmp(load_code(p, "main", 0, &err), "invalid_header") == 0 &&
			  strstr(err.message, "models/noname.sql:1: missing header 'name'") != NULL,
			  "a kind without a name: an error, not skipped");
	}
	{
		gen_file	f[] = {{"models/owner.sql", "-- Owner: data team\nSELECT 1\n", 0, 0}};

		one_commit(p, sizeof(p), f, 1, id);
		CHECK(strcmp(load_code(p, "main", 0, &err), "invalid_header") == 0 && strstr(err.message, "models/owner.sql:1:") != NULL,
			  "any directive (owner, any case) makes the file a model, so it needs a name");
	}
	{
		gen_file	f[] = {
			{"models/a.sql", "-- name: s.same\n-- kind: FULL_REFRESH\nSELECT 1\n", 0, 0},
			{"models/b/a2.sql", "-- name: S.Same\n-- kind: FULL_REFRESH\nSELECT 2\n", 0, 0},
		};

		one_commit(p, sizeof(p), f, 2, id);
		CHECK(strcmp(load_code(p, "main", 0, &err), "duplicate_model") == 0 &&
			  strstr(err.message, "in models/a.sql and in models/b/a2.sql") != NULL &&
			  strstr(err.message, "s.same") != NULL, "two files, one model name: duplicate_model naming both paths");
		CHECK(strcmp(il_error_sqlstate(&err), "42710") == 0, "duplicate_model is 42710");
	}
	{
		gen_file	f[] = {{"models/bin.sql", "-- name: a.b\n-- kind: FULL_REFRESH\nSEL\0ECT", 42, 0}};

		one_commit(p, sizeof(p), f, 1, id);
		CHECK(strcmp(load_code(p, "main", 0, &err), "binary_file") == 0 && strstr(err.message, "models/bin.sql:3:4:") != NULL &&
			  strstr(err.message, "nul byte") != NULL, "a NUL byte: binary_file naming file, line and column");
	}
	{
		gen_file	f[] = {{"models/latin1.sql", "-- name: a.b\n-- kind: FULL_REFRESH\nSELECT 'caf\xe9'\n", 0, 0}};

		one_commit(p, sizeof(p), f, 1, id);
		CHECK(strcmp(load_code(p, "main", 0, &err), "binary_file") == 0 && strstr(err.message, "models/latin1.sql:3:") != NULL &&
			  strstr(err.message, "utf-8") != NULL, "invalid UTF-8: binary_file");
		CHECK(strcmp(il_error_sqlstate(&err), "22021") == 0, "binary_file is 22021");
	}
	{
		gen_file	f[] = {{"models/q.sql", "-- name: a.b\n-- kind: FULL_REFRESH\nSELECT 'open\n", 0, 0}};

		one_commit(p, sizeof(p), f, 1, id);
		CHECK(strcmp(load_code(p, "main", 0, &err), "syntax_error") == 0 && strstr(err.message, "models/q.sql:3:8:") != NULL,
			  "an unterminated string: syntax_error at line and column");
		CHECK(strcmp(il_error_sqlstate(&err), "42601") == 0, "syntax_error is 42601");
	}
	{
		size_t		n = (1 << 20) + 1;
		char	   *big = malloc(n + 1);
		const char *hdr = "-- name: a.big\n-- kind: FULL_REFRESH\nSELECT 1\n";

		if (big)
		{
			gen_file	f[] = {{"models/huge.sql", big, n, 0}};

			memset(big, ' ', n);
			memcpy(big, hdr, strlen(hdr));
			big[n] = '\0';
			one_commit(p, sizeof(p), f, 1, id);
			CHECK(strcmp(load_code(p, "main", 0, &err), "file_too_large") == 0 &&
				  strstr(err.message, "models/huge.sql: the file has 1048577 bytes") != NULL,
				  "over 1 MiB: file_too_large naming the file");
			CHECK(strcmp(il_error_sqlstate(&err), "22001") == 0, "file_too_large is 22001");
			tc_clear(tc);
			CHECK(il_git_open(p, &g, &err) == 0 && il_repo_load(g, "main", NULL, &cache, 0, &m, &err) == -1 &&
				  err_is(&err, "file_too_large", NULL) && tc->puts == 0,
				  "file_too_large is not cached (decided from the unverified object header)");
			il_git_close(g);
			g = NULL;
			f[0].len = n - 1;
			one_commit(p, sizeof(p), f, 1, id);
			CHECK(strcmp(load_code(p, "main", 0, &err), "ok") == 0, "exactly 1 MiB is a model");
			free(big);
		}
	}
	{
		gen_file	f[] = {
			{"models/raw_events.sql", "-- name: raw.events\n-- kind: FULL_REFRESH\nSELECT 1\n", 0, 0},
			{"models/stg_events.sql", "-- name: staging.events\n-- kind: FULL_REFRESH\nSELECT 1\n", 0, 0},
			{"models/daily.sql", "-- name: marts.daily\n-- kind: FULL_REFRESH\nSELECT * FROM events\n", 0, 0},
		};

		one_commit(p, sizeof(p), f, 3, id);
		CHECK(strcmp(load_code(p, "main", IL_REPO_DAG, &err), "ambiguous_reference") == 0 &&
			  strstr(err.message, "models/daily.sql: model marts.daily references events") != NULL &&
			  strstr(err.message, "(raw.events, staging.events)") != NULL,
			  "an ambiguous short name: the file, the name and the sorted candidates");
		CHECK(strcmp(load_code(p, "main", 0, &err), "ok") == 0, "without the graph it loads");
	}
	{
		gen_file	f[] = {{"models/a.sql", "-- name: a.a\n-- kind: FULL_REFRESH\nSELECT * FROM {{ ref('b') }}\n", 0, 0}};

		one_commit(p, sizeof(p), f, 1, id);
		CHECK(strcmp(load_code(p, "main", IL_REPO_DAG, &err), "unknown_ref") == 0 &&
			  strstr(err.message, "models/a.sql: model a.a uses {{ ref('b') }}") != NULL, "an unknown ref() is an error");
	}
	{
		gen_file	f[] = {
			{"models/c.sql", "-- name: s.c\n-- kind: FULL_REFRESH\nSELECT * FROM s.b\n", 0, 0},
			{"models/a.sql", "-- name: s.a\n-- kind: FULL_REFRESH\nSELECT * FROM c\n", 0, 0},
			{"models/b.sql", "-- name: s.b\n-- kind: FULL_REFRESH\n-- dependencies: s.a\nSELECT 1\n", 0, 0},
			{"models/d.sql", "-- name: s.d\n-- kind: FULL_REFRESH\nSELECT * FROM s.c\n", 0, 0},
		};
		gen_file	moved[] = {
			{"x/1.sql", "-- name: s.c\n-- kind: FULL_REFRESH\nSELECT * FROM s.b\n", 0, 0},
			{"y/2.sql", "-- name: s.a\n-- kind: FULL_REFRESH\nSELECT * FROM c\n", 0, 0},
			{"z/3.sql", "-- name: s.b\n-- kind: FULL_REFRESH\n-- dependencies: s.a\nSELECT 1\n", 0, 0},
			{"a.sql", "-- name: s.d\n-- kind: FULL_REFRESH\nSELECT * FROM s.c\n", 0, 0},
		};
		char		first[256];

		one_commit(p, sizeof(p), f, 4, id);
		CHECK(strcmp(load_code(p, "main", IL_REPO_DAG, &err), "cycle") == 0, "a cycle is an error");
		CHECK_STR(err.message, "dependency cycle: s.a -> s.b -> s.c -> s.a", "the canonical cycle");
		CHECK(strcmp(il_error_sqlstate(&err), "42P19") == 0, "cycle is 42P19");
		strcpy(first, err.message);
		load_code(p, "main", IL_REPO_DAG, &err);
		CHECK_STR(err.message, first, "the same cycle the second time");
		one_commit(p, sizeof(p), moved, 4, id);
		load_code(p, "main", IL_REPO_DAG, &err);
		CHECK_STR(err.message, first, "the same cycle when the files move (root models directory)");
	}
	{
		gen_file	f[] = {
			{"models/a.sql", "-- name: s.a\n-- kind: FULL_REFRESH\nSELECT 1\n", 0, 0},
			{"models/link.sql", "a.sql", 0, GIT_FILEMODE_LINK},
		};

		one_commit(p, sizeof(p), f, 2, id);
		CHECK(il_git_open(p, &g, &err) == 0 && il_repo_load(g, "main", NULL, NULL, 0, &m, &err) == 0 &&
			  m->n == 1 && m->n_skipped == 1 && strcmp(m->skipped[0].reason, "symbolic link") == 0 &&
			  strcmp(m->skipped[0].path, "models/link.sql") == 0, "a symbolic link is skipped with its reason");
		il_repo_models_free(m);
		m = NULL;
		il_git_close(g);
		g = NULL;
	}
	{
		gen_file	f[] = {
			{"a.sql", "-- name: s.a\n-- kind: FULL_REFRESH\nSELECT 1\n", 0, 0},
			{"deep/er/b.sql", "-- name: s.b\n-- kind: FULL_REFRESH\nSELECT * FROM a\n", 0, 0},
		};

		one_commit(p, sizeof(p), f, 2, id);
		CHECK(il_git_open(p, &g, &err) == 0 && il_repo_load(g, id, NULL, NULL, IL_REPO_DAG, &m, &err) == 0 &&
			  m->n == 2 && strcmp(m->models_dir, "") == 0 && strcmp(m->models[1].path, "deep/er/b.sql") == 0,
			  "no models/ directory: the root, recursively");
		il_repo_models_free(m);
		m = NULL;
		il_git_close(g);
		g = NULL;
	}
	/* A failing file's record is cached too. */
	{
		gen_file	f[] = {{"models/bad.sql", "-- name: a.b\n-- kind: SOMETIMES\nSELECT 1\n", 0, 0}};
		char		first[256];

		tc_clear(tc);
		one_commit(p, sizeof(p), f, 1, id);
		CHECK(il_git_open(p, &g, &err) == 0 && il_repo_load(g, "main", NULL, &cache, 0, &m, &err) == -1 &&
			  tc->puts == 1, "the error record is put");
		strcpy(first, err.message);
		CHECK(il_repo_load(g, "main", NULL, &cache, 0, &m, &err) == -1 && strcmp(err.message, first) == 0 &&
			  tc->puts == 1 && err.line == 2, "and the same error comes from the cache");
		il_git_close(g);
		g = NULL;
	}
	/* The base lacks the head's default models directory. */
	{
		gen_file	f1[] = {{"a.sql", "-- name: s.a\n-- kind: FULL_REFRESH\nSELECT 1\n", 0, 0}};
		gen_file	f2[] = {{"models/a.sql", "-- name: s.a\n-- kind: FULL_REFRESH\nSELECT 1\n", 0, 0}};

		new_repo(p, sizeof(p));
		genrepo_commit_files(p, 0, f1, 1, "1\n", 0, c1, ebuf, sizeof(ebuf));
		genrepo_commit_files(p, 0, f2, 1, "2\n", 1, c2, ebuf, sizeof(ebuf));
		CHECK(il_git_open(p, &g, &err) == 0 && il_repo_diff(g, c1, c2, NULL, NULL, &d, &err) == 0 &&
			  d->base->n == 0 && strcmp(d->base->commit, c1) == 0 && d->n == 1 &&
			  d->rows[0].change == IL_CHANGE_ADDED && strcmp(d->rows[0].model, "s.a") == 0,
			  "the head's models directory is missing at the base: the base has no models, s.a is added");
		il_repo_diff_free(d);
		d = NULL;
		CHECK(il_repo_diff(g, IL_GIT_NULL_OID, c2, NULL, NULL, &d, &err) == 0 && d->base->n == 0 &&
			  strcmp(d->base->commit, IL_GIT_NULL_OID) == 0 && strcmp(d->head->commit, c2) == 0 && d->n == 1 &&
			  d->rows[0].change == IL_CHANGE_ADDED, "the null commit as base: nothing at base, every model added");
		il_repo_diff_free(d);
		d = NULL;
		CHECK(il_repo_diff(g, c2, IL_GIT_NULL_OID, NULL, NULL, &d, &err) == -1 &&
			  err_is(&err, "unknown_commit", "never a head") && d == NULL, "the null commit is never a head");
		CHECK(il_repo_diff(g, c2, c1, "models", NULL, &d, &err) == -1 && err_is(&err, "no_models_dir", NULL),
			  "a head without the models directory stays an error");
		CHECK(il_repo_diff(g, c1, c2, "", NULL, &d, &err) == 0 && d->n == 0,
			  "with the root for both, a move into models/ is no change");
		il_repo_diff_free(d);
		d = NULL;
		il_git_close(g);
		g = NULL;
	}

	/* ---- generated repositories ---- */
	{
		gen_opts	o = {200, GEN_CHANGE_RANDOM1PCT, 1, 0};
		gen_result	r1,
					r2;
		char		p2[512];

		new_repo(p, sizeof(p));
		CHECK(genrepo_write(p, &o, &r1, ebuf, sizeof(ebuf)) == 0, "a bare generated repository of 200 models");
		new_repo(p2, sizeof(p2));
		CHECK(genrepo_write(p2, &o, &r2, ebuf, sizeof(ebuf)) == 0 && strcmp(r1.head, r2.head) == 0 &&
			  strcmp(r1.base, r2.base) == 0, "the generator is deterministic");
		CHECK(r1.changed == 2, "1 % of 200 is 2 changed models");
		CHECK(il_git_open(p, &g, &err) == 0 && il_git_is_bare(g), "it is bare");
		CHECK(il_repo_load(g, "main", NULL, NULL, IL_REPO_DAG, &m, &err) == 0 && m->n == 200 && m->n_skipped == 0,
			  "200 models, none skipped, the graph builds");
		if (m)
		{
			size_t		i;
			size_t		edges = m->dag->n_edges;
			size_t		srcs = 0;
			int			kinds[5] = {0, 0, 0, 0, 0};
			size_t		maxup = 0;

			for (i = 0; i < m->n; i++)
			{
				kinds[m->models[i].kind]++;
				srcs += m->models[i].n_sources;
				if (m->models[i].n_upstream > maxup)
					maxup = m->models[i].n_upstream;
			}
			CHECK(kinds[1] && kinds[2] && kinds[3] && kinds[4], "every kind is generated");
			CHECK(edges > 200 && maxup <= 7 && maxup >= 4, "fan-in up to about 6");
			CHECK(srcs >= 40, "raw models read external sources");
			CHECK(strncmp(m->models[0].name, "marts.", 6) == 0 && strncmp(m->models[m->n - 1].name, "staging.", 8) == 0,
				  "names are layered (marts, prod.marts, raw, staging)");
		}
		il_repo_models_free(m);
		m = NULL;
		CHECK(il_repo_diff(g, "base", "main", NULL, NULL, &d, &err) == 0 && d->n == 2 &&
			  d->rows[0].change == IL_CHANGE_MODIFIED && d->rows[1].change == IL_CHANGE_MODIFIED &&
			  strcmp(d->rows[0].model, r1.first_changed) == 0, "random1pct: two modified models");
		il_repo_diff_free(d);
		d = NULL;
		il_git_close(g);
		g = NULL;
	}
	{
		gen_opts	o = {300, GEN_CHANGE_COSMETIC, 0, 7};
		gen_result	r;
		size_t		i;
		int			all = 1;

		new_repo(p, sizeof(p));
		CHECK(genrepo_write(p, &o, &r, ebuf, sizeof(ebuf)) == 0 && r.changed == 3, "cosmetic edits of 3 models");
		CHECK(il_git_open(p, &g, &err) == 0 && il_repo_diff(g, "HEAD~1", "HEAD", NULL, NULL, &d, &err) == 0 &&
			  d->n == 3, "three rows");
		for (i = 0; d && i < d->n; i++)
			all &= d->rows[i].change == IL_CHANGE_COSMETIC;
		CHECK(d && all, "all cosmetic");
		il_repo_diff_free(d);
		d = NULL;
		il_git_close(g);
		g = NULL;
	}
	{
		gen_opts	o = {100, GEN_CHANGE_LEAF, 0, 0};
		gen_result	r;

		new_repo(p, sizeof(p));
		CHECK(genrepo_write(p, &o, &r, ebuf, sizeof(ebuf)) == 0 && r.changed == 1, "a leaf change");
		CHECK(il_git_open(p, &g, &err) == 0 && il_repo_diff(g, "base", "main", NULL, NULL, &d, &err) == 0 &&
			  d->n == 1 && d->rows[0].change == IL_CHANGE_MODIFIED && strcmp(d->rows[0].model, r.first_changed) == 0,
			  "one modified row: the leaf");
		il_repo_diff_free(d);
		d = NULL;
		CHECK(il_repo_load(g, "main", NULL, NULL, IL_REPO_DAG, &m, &err) == 0 &&
			  il_repo_lineage(m, r.first_changed, "down", NULL, &rows, &nrows, &err) == 0 && nrows == 0,
			  "nothing is downstream of the leaf");
		free(rows);
		rows = NULL;
		il_repo_models_free(m);
		m = NULL;
		il_git_close(g);
		g = NULL;
	}
	{
		gen_opts	o = {100, GEN_CHANGE_ROOT, 0, 0};
		gen_result	r;

		new_repo(p, sizeof(p));
		CHECK(genrepo_write(p, &o, &r, ebuf, sizeof(ebuf)) == 0 && r.changed == 1, "a root change");
		CHECK(il_git_open(p, &g, &err) == 0 && il_repo_load(g, "main", NULL, NULL, IL_REPO_DAG, &m, &err) == 0 &&
			  (md = model(m, r.first_changed)) != NULL && md->n_upstream == 0 && md->n_sources > 0,
			  "the root reads only external sources");
		CHECK(m && il_repo_lineage(m, r.first_changed, "downstream", NULL, &rows, &nrows, &err) == 0 && nrows > 0,
			  "and has models downstream");
		free(rows);
		rows = NULL;
		il_repo_models_free(m);
		m = NULL;
		CHECK(il_repo_diff(g, "base", "main", NULL, NULL, &d, &err) == 0 && d->n == 1 &&
			  strcmp(d->rows[0].model, r.first_changed) == 0, "one modified row: the root");
		il_repo_diff_free(d);
		d = NULL;
		il_git_close(g);
		g = NULL;
	}

	CHECK(strcmp(il_errcode_sqlstate(IL_ERR_AMBIGUOUS_REFERENCE), "42P09") == 0 &&
		  strcmp(il_errcode_sqlstate(IL_ERR_UNKNOWN_REF), "42704") == 0 &&
		  strcmp(il_errcode_sqlstate(IL_ERR_OUT_OF_MEMORY), "53200") == 0,
		  "repository definition errors are 4xx under PostgREST (42P09, 42704), out of memory 53200");

	tc_clear(tc);
	free(tc);
	il_buf_free(&json);
	il_buf_free(&json2);
	CHECK(genrepo_rmtree(tmp) == 0 && access(tmp, F_OK) != 0, "the temporary directory is removed");
	il_git_shutdown();
	return unit_done();
}
