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
 * and the number of steps and bytes of the plan. No time is asserted.
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
generate_in_child(const char *dir, size_t n, gen_change change, gen_result *res)
{
	gen_opts	o = {n, change, 0, 0};

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
		generate_in_child(dir, n, changes[k], &res);
		printf("repo %zu models, %s change (%s): %.1f MB of SQL, generated in %.2f s\n", n, labels[k],
			   res.first_changed, (double) res.sql_bytes / 1e6, now() - t0);
		bench_repo(dir, n, labels[k], as_of);
		if (genrepo_rmtree(dir) != 0)
			fprintf(stderr, "run_plan: could not remove %s\n", dir);
	}
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
