/*
 * Benchmark of model discovery from git (il_repo) and the repository
 * generator.
 *
 * run_repo (no arguments): for 1,000, 10,000 and 50,000 models, generates a
 * repository (in a child process, so its memory does not count) with a
 * second commit that changes one leaf model, then measures in this process,
 * single-threaded, wall time, best of several runs:
 *	models cold		il_repo_load of main with the graph, nothing cached
 *					(every blob read and parsed)
 *	models warm		the same with an in-memory parse cache holding every
 *					record (nothing parsed)
 *	dag				il_dag_build + il_dag_sort over the loaded models
 *	diff			il_repo_diff base..main (one changed model): the first
 *					one (parses the one blob only base has), then warm
 *	peak rss		getrusage of this process (includes the in-memory cache,
 *					printed beside it)
 * and prints the targets. The temporary repositories are removed.
 *
 * run_repo --generate DIR N [--change leaf|root|random1pct|cosmetic]
 *			[--bare] [--seed S]
 * writes the repository and prints "base <id>", "head <id>",
 * "changed <count> <first model>" (tests and the SQL benchmark use it).
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
#include "il_repo.h"

#include "measure.h"
#include "memcache.h"

/* ---- measuring ---- */

/* A measurement: best wall and best CPU time of several runs. */
typedef struct timing
{
	double		wall;
	double		cpu;
	double		w0;
	double		c0;
} timing;

/* Starts a run. */
static void
t_start(timing *t)
{
	t->w0 = now();
	t->c0 = cpu_now();
}

/* Ends a run, keeping the best. */
static void
t_stop(timing *t)
{
	double		w = now() - t->w0;
	double		c = cpu_now() - t->c0;

	if (w < t->wall)
		t->wall = w;
	if (c < t->cpu)
		t->cpu = c;
}

#define TIMING_INIT {1e9, 1e9, 0, 0}

/* Exits with a message. */
static void
die(const char *what, const il_error *err)
{
	fprintf(stderr, "run_repo: %s: %s\n", what, err ? err->message : strerror(errno));
	exit(1);
}

/* Figures of one size. */
typedef struct figures
{
	timing		cold;
	timing		warm;
	timing		dag;
	timing		diff_first;
	timing		diff_warm;
	double		rss;
} figures;

/* The repository, with a leaf changed, generated in a child process. */
static void
generate_in_child(const char *dir, size_t n, gen_result *res)
{
	gen_opts	o = {n, GEN_CHANGE_LEAF, 0, 0, 0};

	if (genrepo_in_child(dir, &o, res) != 0)
		die("generate", NULL);
}

/*
 * Runs the measurements for n models.
 */
static void
bench_size(size_t n, figures *f)
{
	char		tmpl[] = "/tmp/ironlayer-bench-XXXXXX";
	char	   *dir = mkdtemp(tmpl);
	gen_result	res;
	il_git_repo *git = NULL;
	il_error	err;
	mem_cache	cache = {NULL, 0, 0, 0};
	il_parse_cache cb = {&cache, NULL, mc_get, mc_put};
	il_repo_models *m = NULL;
	il_repo_diff_result *d = NULL;
	double		t0,
				gen_s;
	size_t		edges = 0;
	int			i;

	if (dir == NULL)
		die("mkdtemp", NULL);
	t0 = now();
	generate_in_child(dir, n, &res);
	gen_s = now() - t0;
	if (il_git_open(dir, &git, &err) != 0)
		die("open", &err);
	printf("repo %zu models: %.1f MB of SQL, generated in %.2f s\n", n, (double) res.sql_bytes / 1e6, gen_s);

	/* cold: a fresh empty cache each time; the last one stays filled */
	f->cold = (timing) TIMING_INIT;
	for (i = 0; i < 3; i++)
	{
		mc_free(&cache);
		t_start(&f->cold);
		if (il_repo_load(git, "main", NULL, &cb, IL_REPO_DAG, &m, &err) != 0)
			die("models cold", &err);
		t_stop(&f->cold);
		if (m->stats.parsed != m->n)
			die("models cold: not every model was parsed", NULL);
		il_repo_models_free(m);
	}
	printf("models cold %zu: %.3f s (%.3f s cpu), %zu files parsed\n", n, f->cold.wall, f->cold.cpu, n);

	f->warm = (timing) TIMING_INIT;
	for (i = 0; i < 5; i++)
	{
		t_start(&f->warm);
		if (il_repo_load(git, "main", NULL, &cb, IL_REPO_DAG, &m, &err) != 0)
			die("models warm", &err);
		t_stop(&f->warm);
		if (m->stats.parsed != 0)
			die("models warm: something was parsed", NULL);
		if (i < 4)
			il_repo_models_free(m);
	}
	printf("models warm %zu: %.3f s (%.3f s cpu), 0 parsed\n", n, f->warm.wall, f->warm.cpu);

	/* the graph alone, over the loaded models */
	f->dag = (timing) TIMING_INIT;
	for (i = 0; i < 3; i++)
	{
		il_dag_model *dm = malloc(m->n * sizeof(il_dag_model));
		il_dag	   *dag = NULL;
		size_t		k;

		if (dm == NULL)
			die("dag", NULL);
		for (k = 0; k < m->n; k++)
		{
			dm[k].name = m->models[k].name;
			dm[k].path = m->models[k].path;
			dm[k].references = m->models[k].references;
			dm[k].refs = m->models[k].refs;
			dm[k].dependencies = m->models[k].dependencies;
		}
		t_start(&f->dag);
		if (il_dag_build(dm, m->n, &dag, &err) != 0 || il_dag_sort(dag, &err) != 0)
			die("dag", &err);
		t_stop(&f->dag);
		edges = dag->n_edges;
		il_dag_free(dag);
		free(dm);
	}
	il_repo_models_free(m);
	printf("dag build+sort %zu: %.4f s (%.4f s cpu), %zu edges\n", n, f->dag.wall, f->dag.cpu, edges);

	f->diff_first = (timing) TIMING_INIT;
	t_start(&f->diff_first);
	if (il_repo_diff(git, "base", "main", NULL, &cb, &d, &err) != 0)
		die("diff", &err);
	t_stop(&f->diff_first);
	if (d->n != 1 || d->stats.parsed != 1)
		die("diff: expected one change and one parse", NULL);
	il_repo_diff_free(d);
	f->diff_warm = (timing) TIMING_INIT;
	for (i = 0; i < 5; i++)
	{
		t_start(&f->diff_warm);
		if (il_repo_diff(git, "base", "main", NULL, &cb, &d, &err) != 0)
			die("diff", &err);
		t_stop(&f->diff_warm);
		if (d->n != 1 || d->stats.parsed != 0)
			die("diff warm: expected one change and no parse", NULL);
		il_repo_diff_free(d);
	}
	printf("diff 1 change %zu: first %.3f s (1 parsed), warm %.3f s (%.3f s cpu, 0 parsed)\n", n,
		   f->diff_first.wall, f->diff_warm.wall, f->diff_warm.cpu);
	f->rss = peak_rss_mb();
	printf("peak rss after %zu: %.1f MB (the in-memory cache holds %.1f MB of records)\n", n, f->rss,
		   (double) cache.bytes / 1e6);
	fflush(stdout);

	mc_free(&cache);
	il_git_close(git);
	if (genrepo_rmtree(dir) != 0)
		fprintf(stderr, "run_repo: could not remove %s\n", dir);
}

/*
 * The --generate mode.
 */
static int
generate_main(int argc, char **argv)
{
	gen_opts	o = {0, GEN_CHANGE_NONE, 0, 0, 0};
	gen_result	r;
	char		e[256];
	char	   *end;
	int			i;

	if (argc < 4)
		goto usage;
	o.n = (size_t) strtoul(argv[3], &end, 10);
	if (*end != '\0' || o.n < 3)
		goto usage;
	for (i = 4; i < argc; i++)
	{
		if (strcmp(argv[i], "--change") == 0 && i + 1 < argc)
		{
			if (genrepo_parse_change(argv[++i], &o.change) != 0)
				goto usage;
		}
		else if (strcmp(argv[i], "--bare") == 0)
			o.bare = 1;
		else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
			o.seed = strtoull(argv[++i], NULL, 0);
		else
			goto usage;
	}
	if (genrepo_write(argv[2], &o, &r, e, sizeof(e)) != 0)
	{
		fprintf(stderr, "run_repo: %s\n", e);
		return 1;
	}
	printf("base %s\nhead %s\nchanged %zu %s\n", r.base, r.head, r.changed,
		   r.changed ? r.first_changed : "-");
	il_git_shutdown();
	return 0;
usage:
	fprintf(stderr, "Usage: run_repo --generate DIR N [--change none|leaf|root|random1pct|cosmetic] [--bare] [--seed S]\n");
	return 2;
}

/*
 * The benchmark, or --generate.
 */
int
main(int argc, char **argv)
{
	static const size_t sizes[] = {1000, 10000, 50000};
	figures		f[3];
	int			i;

	if (argc >= 2 && strcmp(argv[1], "--generate") == 0)
		return generate_main(argc, argv);
	if (argc != 1)
	{
		fprintf(stderr, "Usage: run_repo | run_repo --generate DIR N [options]\n");
		return 2;
	}
	printf("models from git: libgit2 %d.%d, one thread, best of 3 (cold) or 5 (warm) runs\n",
		   LIBGIT2_VER_MAJOR, LIBGIT2_VER_MINOR);
	for (i = 0; i < 3; i++)
		bench_size(sizes[i], &f[i]);
	printf("targets (wall): cold at 10000 %.3f s (<= 1 s) %s; warm diff at 10000 %.3f s (<= 0.050 s) %s;\n"
		   "  50000 / 10000: cold %.1f, warm %.1f, warm diff %.1f (<= 6); peak rss at 50000 %.0f MB (<= 200 MB) %s\n",
		   f[1].cold.wall, f[1].cold.wall <= 1.0 ? "ok" : "MISSED",
		   f[1].diff_warm.wall, f[1].diff_warm.wall <= 0.050 ? "ok" : "MISSED",
		   f[2].cold.wall / f[1].cold.wall, f[2].warm.wall / f[1].warm.wall,
		   f[2].diff_warm.wall / f[1].diff_warm.wall,
		   f[2].rss, f[2].rss <= 200.0 ? "ok" : "MISSED");
	il_git_shutdown();
	return 0;
}
