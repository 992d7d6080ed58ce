/*
 * Benchmark of the planner (il_plan) over generated repositories.
 *
 * run_plan [N ...]: for each size (default 1,000, 10,000 and 50,000 models;
 * also taken from BENCH_PLAN_SIZES="1000 10000" when no argument is given),
 * generates two repositories (in a child process, so their memory does not
 * count), one whose second commit changes one leaf model and one whose
 * second commit changes the root model (the first raw model, read by many),
 * then measures in this process, single-threaded, wall time, best of
 * several runs:
 *	cold		il_plan_from_git base..main, nothing cached: every blob of
 *				both commits read and parsed, the diff, the graph, the plan
 *	warm		the same with an in-memory parse cache holding every record
 *				(nothing parsed): what a server with a filled cache pays
 *	plan only	il_plan_build on a loaded diff whose graph is built: the
 *				planner's own work (marking, the topological pass, hashing
 *				every step, writing the text)
 *	peak rss	getrusage of this process after the size (it includes the
 *				in-memory cache, printed beside it; it never goes down)
 * and the number of steps and bytes of the plan. Then the plan kinds, on a
 * repository of N models all INCREMENTAL_BY_TIME_RANGE (one commit):
 *	change		the plan from the empty base (40 zeros) to main: every
 *				model added, all N affected
 *	refresh		the refresh plan at main without watermarks: all N due
 *	backfill	the root model (the first raw model: every staging model
 *				and mart is downstream) over 28 days in batches of 7
 * each warm (il_plan_from_git, parse cache filled) and plan only
 * (il_plan_build on the loaded diff), and the ratio refresh / change (the
 * target of issue 15: at most 2). No time is asserted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "genrepo.h"
#include "il_plan.h"

#include "measure.h"
#include "memcache.h"

/* ---- measuring ---- */

/* Exits with a message. */
static void
die(const char *what, const il_error *err)
{
	fprintf(stderr, "run_plan: %s: %s\n", what, err ? err->message : strerror(errno));
	exit(1);
}

/* The repository, generated in a child process (genrepo_in_child). */
static void
generate_in_child(const char *dir, size_t n, gen_change change, int only_kind, gen_result *res)
{
	gen_opts	o = {n, change, 0, 0, only_kind};

	if (genrepo_in_child(dir, &o, res) != 0)
		die("generate", NULL);
}

/*
 * Measures the plans of one repository (base..main).
 */
static void
bench_repo(const char *dir, size_t n, const char *label, il_date as_of)
{
	il_git_repo *git = NULL;
	il_error	err;
	mem_cache	cache = {NULL, 0, 0, 0};
	il_parse_cache cb = {&cache, NULL, mc_get, mc_put};
	il_repo_diff_result *d = NULL;
	il_buf		out = IL_BUF_INIT;
	char		id[IL_SHA256_HEX_LEN + 1];
	char		first_id[IL_SHA256_HEX_LEN + 1];
	double		cold = 1e9,
				warm = 1e9,
				only = 1e9,
				t;
	size_t		steps = 0;
	const char *p;
	int			i;

	if (il_git_open(dir, &git, &err) != 0)
		die("open", &err);

	/* cold: a fresh empty cache each time; the last one stays filled */
	for (i = 0; i < 3; i++)
	{
		mc_free(&cache);
		il_buf_reset(&out);
		t = now();
		if (il_plan_from_git(git, "base", "main", NULL, &cb, as_of, NULL, NULL, 0, &out, id, NULL, &err) != 0)
			die("plan cold", &err);
		t = now() - t;
		if (t < cold)
			cold = t;
	}
	memcpy(first_id, id, sizeof(id));
	for (p = strstr(out.data, "\"step_id\""); p != NULL; p = strstr(p + 1, "\"step_id\""))
		steps++;

	for (i = 0; i < 5; i++)
	{
		il_repo_stats st;

		il_buf_reset(&out);
		t = now();
		if (il_plan_from_git(git, "base", "main", NULL, &cb, as_of, NULL, NULL, 0, &out, id, &st, &err) != 0)
			die("plan warm", &err);
		t = now() - t;
		if (t < warm)
			warm = t;
		if (st.parsed != 0)
			die("plan warm: something was parsed", NULL);
		if (strcmp(id, first_id) != 0)
			die("plan warm: another plan id than cold", NULL);
	}

	/* the planner alone, on a loaded diff with its graph */
	if (il_repo_diff(git, "base", "main", NULL, &cb, &d, &err) != 0 || il_repo_build_dag(d->head, &err) != 0)
		die("diff", &err);
	for (i = 0; i < 10; i++)
	{
		il_buf_reset(&out);
		t = now();
		if (il_plan_build(d, as_of, NULL, NULL, 0, &out, id, &err) != 0)
			die("plan only", &err);
		t = now() - t;
		if (t < only)
			only = t;
	}
	if (strcmp(id, first_id) != 0)
		die("plan only: another plan id", NULL);
	printf("plan %s %zu: %zu steps, %.1f KB; cold %.3f s, warm %.4f s, plan only %.5f s (cache %.1f MB)\n",
		   label, n, steps, (double) out.len / 1024.0, cold, warm, only, (double) cache.bytes / 1e6);
	fflush(stdout);
	il_repo_diff_free(d);
	il_buf_free(&out);
	mc_free(&cache);
	il_git_close(git);
}

/*
 * Best wall time of runs il_plan_from_git (warm: cache filled) and of
 * il_plan_build on the loaded diff base..head; the steps and plan id.
 */
static void
time_kind(il_git_repo *git, const char *base, const char *head, const il_plan_options *opts,
		  il_date as_of, il_parse_cache *cb, double *warm, double *only, size_t *steps, char *id)
{
	il_repo_diff_result *d = NULL;
	il_buf		out = IL_BUF_INIT;
	il_error	err;
	char		id2[IL_SHA256_HEX_LEN + 1];
	const char *p;
	double		t;
	int			i;

	*warm = *only = 1e9;
	/* the first run fills the cache */
	for (i = 0; i < 6; i++)
	{
		il_buf_reset(&out);
		t = now();
		if (il_plan_from_git(git, base, head, NULL, cb, as_of, opts, NULL, 0, &out, id, NULL, &err) != 0)
			die("plan kind warm", &err);
		t = now() - t;
		if (i > 0 && t < *warm)
			*warm = t;
	}
	*steps = 0;
	for (p = strstr(out.data, "\"step_id\""); p != NULL; p = strstr(p + 1, "\"step_id\""))
		(*steps)++;
	if (il_repo_diff(git, base != NULL ? base : head, head, NULL, cb, &d, &err) != 0 ||
		il_repo_build_dag(d->head, &err) != 0)
		die("diff", &err);
	for (i = 0; i < 10; i++)
	{
		il_buf_reset(&out);
		t = now();
		if (il_plan_build(d, as_of, opts, NULL, 0, &out, id2, &err) != 0)
			die("plan kind only", &err);
		t = now() - t;
		if (t < *only)
			*only = t;
	}
	if (strcmp(id, id2) != 0)
		die("plan kind only: another plan id", NULL);
	il_repo_diff_free(d);
	il_buf_free(&out);
}

/*
 * The plan kinds on n models, all incremental.
 */
static void
bench_kinds(size_t n, il_date as_of)
{
	char		tmpl[] = "/tmp/ironlayer-bench-plan-XXXXXX";
	char	   *dir = mkdtemp(tmpl);
	gen_result	res;
	il_git_repo *git = NULL;
	il_error	err;
	mem_cache	cache = {NULL, 0, 0, 0};
	il_parse_cache cb = {&cache, NULL, mc_get, mc_put};
	il_plan_options change,
				refresh,
				backfill;
	double		cw,
				co,
				rw,
				ro,
				bw,
				bo;
	size_t		cs,
				rs,
				bs;
	char		id[IL_SHA256_HEX_LEN + 1];
	char		js[4096];
	size_t		k;
	size_t		len;

	if (dir == NULL)
		die("mkdtemp", NULL);
	generate_in_child(dir, n, GEN_CHANGE_NONE, 2, &res);
	if (il_git_open(dir, &git, &err) != 0)
		die("open", &err);
	il_plan_options_init(&change);
	if (il_plan_options_parse("{\"kind\":\"refresh\"}", 18, &refresh, &err) != 0)
		die("options", &err);
	time_kind(git, IL_GIT_NULL_OID, "main", &change, as_of, &cb, &cw, &co, &cs, id);
	time_kind(git, NULL, "main", &refresh, as_of, &cb, &rw, &ro, &rs, id);
	{
		/* a backfill needs watermarks covering its range: plan it with them */
		il_plan_watermark *wms = calloc(n, sizeof(il_plan_watermark));
		il_repo_diff_result *d = NULL;
		il_buf		out = IL_BUF_INIT;
		size_t		i;
		double		t;
		int			r;

		if (wms == NULL || il_repo_diff(git, "main", "main", NULL, &cb, &d, &err) != 0 ||
			il_repo_build_dag(d->head, &err) != 0)
			die("backfill setup", &err);
		/* the root: the first raw model, which every staging model reads */
		len = (size_t) snprintf(js, sizeof(js), "{\"kind\":\"backfill\",\"start\":\"2025-05-01\","
								"\"end\":\"2025-05-28\",\"models\":[");
		for (i = 0, k = 0; i < d->head->n && k < 1; i++)
			if (strncmp(d->head->models[i].name, "raw.", 4) == 0 &&
				strcmp(d->head->models[i].name + strlen(d->head->models[i].name) - 6, "_00000") == 0)
				len += (size_t) snprintf(js + len, sizeof(js) - len, "%s\"%s\"", k++ ? "," : "",
										 d->head->models[i].name);
		len += (size_t) snprintf(js + len, sizeof(js) - len, "]}");
		if (len >= sizeof(js) || il_plan_options_parse(js, len, &backfill, &err) != 0)
			die("options", &err);
		for (i = 0; i < d->head->n; i++)
		{
			wms[i].model = d->head->models[i].name;
			wms[i].start = as_of - 365;
			wms[i].end = as_of - 1;
		}
		bw = bo = 1e9;
		for (r = 0; r < 6; r++)
		{
			il_buf_reset(&out);
			t = now();
			if (il_plan_from_git(git, NULL, "main", NULL, &cb, as_of, &backfill, wms, d->head->n, &out, id,
								 NULL, &err) != 0)
				die("backfill warm", &err);
			t = now() - t;
			if (r > 0 && t < bw)
				bw = t;
			il_buf_reset(&out);
			t = now();
			if (il_plan_build(d, as_of, &backfill, wms, d->head->n, &out, id, &err) != 0)
				die("backfill only", &err);
			t = now() - t;
			if (t < bo)
				bo = t;
		}
		bs = 0;
		{
			const char *p;

			for (p = strstr(out.data, "\"step_id\""); p != NULL; p = strstr(p + 1, "\"step_id\""))
				bs++;
		}
		il_buf_free(&out);
		il_repo_diff_free(d);
		free(wms);
	}
	printf("kinds %zu models, all incremental:\n"
		   "  change from the empty base: %zu steps; warm %.4f s, plan only %.5f s\n"
		   "  refresh, all due:           %zu steps; warm %.4f s, plan only %.5f s\n"
		   "  backfill of the root, 28 days in 4 batches: %zu steps; warm %.4f s, plan only %.5f s\n"
		   "  refresh / change: warm %.2f x, plan only %.2f x (target: at most 2 x)\n",
		   n, cs, cw, co, rs, rw, ro, bs, bw, bo, rw / cw, ro / co);
	fflush(stdout);
	il_plan_options_free(&refresh);
	il_plan_options_free(&backfill);
	mc_free(&cache);
	il_git_close(git);
	if (genrepo_rmtree(dir) != 0)
		fprintf(stderr, "run_plan: could not remove %s\n", dir);
}

/*
 * Runs the measurements for n models.
 */
static void
bench_size(size_t n, il_date as_of)
{
	static const gen_change changes[] = {GEN_CHANGE_LEAF, GEN_CHANGE_ROOT};
	static const char *const labels[] = {"leaf", "root"};
	int			k;

	for (k = 0; k < 2; k++)
	{
		char		tmpl[] = "/tmp/ironlayer-bench-plan-XXXXXX";
		char	   *dir = mkdtemp(tmpl);
		gen_result	res;
		double		t0;

		if (dir == NULL)
			die("mkdtemp", NULL);
		t0 = now();
		generate_in_child(dir, n, changes[k], 0, &res);
		printf("repo %zu models, %s change (%s): %.1f MB of SQL, generated in %.2f s\n", n, labels[k],
			   res.first_changed, (double) res.sql_bytes / 1e6, now() - t0);
		bench_repo(dir, n, labels[k], as_of);
		if (genrepo_rmtree(dir) != 0)
			fprintf(stderr, "run_plan: could not remove %s\n", dir);
	}
	bench_kinds(n, as_of);
	printf("peak rss after %zu: %.1f MB\n", n, peak_rss_mb());
	fflush(stdout);
}

/*
 * Parses a size; 0 when it is not one.
 */
static size_t
parse_size(const char *s)
{
	char	   *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 3 || v > 10000000)
		return 0;
	return (size_t) v;
}

int
main(int argc, char **argv)
{
	size_t		sizes[32] = {1000, 10000, 50000};
	int			nsizes = 3;
	il_date		as_of;
	il_error	err;
	int			i;
	const char *env = getenv("BENCH_PLAN_SIZES");

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
	{
		printf("Usage: run_plan [N ...]   (default 1000 10000 50000, or $BENCH_PLAN_SIZES)\n");
		return 0;
	}
	if (argc > 1 || (env != NULL && env[0] != '\0'))
	{
		char		copy[512];
		char	   *tok;
		char	   *save = NULL;

		nsizes = 0;
		if (argc > 1)
		{
			for (i = 1; i < argc && nsizes < 32; i++)
				if ((sizes[nsizes++] = parse_size(argv[i])) == 0)
				{
					fprintf(stderr, "run_plan: invalid size \"%s\" (3 to 10000000 models)\n", argv[i]);
					return 2;
				}
		}
		else
		{
			snprintf(copy, sizeof(copy), "%s", env);
			for (tok = strtok_r(copy, " ,", &save); tok != NULL && nsizes < 32; tok = strtok_r(NULL, " ,", &save))
				if ((sizes[nsizes++] = parse_size(tok)) == 0)
				{
					fprintf(stderr, "run_plan: invalid size \"%s\" in BENCH_PLAN_SIZES\n", tok);
					return 2;
				}
		}
	}
	if (il_date_parse("2025-06-15", 10, &as_of, &err) != 0)
		die("as_of", &err);
	printf("planner: libgit2 %d.%d, one thread; best of 3 (cold), 5 (warm) or 10 (plan only) runs\n",
		   LIBGIT2_VER_MAJOR, LIBGIT2_VER_MINOR);
	for (i = 0; i < nsizes; i++)
		bench_size(sizes[i], as_of);
	il_git_shutdown();
	return 0;
}
