/*
 * Unit tests of il_dag.c: name resolution, external sources, the
 * topological order, the canonical cycle, lineage, and the time to build a
 * graph of 50,000 models.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "il_dag.h"
#include "unit.h"

/* A test model: name and up to 4 names in each list. */
typedef struct tmodel
{
	const char *name;
	const char *refs[4];		/* references */
	const char *tref[4];		/* {{ ref() }} */
	const char *deps[4];		/* dependencies */
} tmodel;

static il_dag_model dm[64];

/* Counts a NULL-terminated array (at most 4). */
static il_strlist
list_of(const char *const *a)
{
	il_strlist	l;

	l.items = (char **) a;
	for (l.n = 0; l.n < 4 && a[l.n] != NULL; l.n++)
		;
	return l;
}

/* Builds a graph of models t[0..n). */
static int
build(const tmodel *t, size_t n, il_dag **dag, il_error *err)
{
	size_t		i;

	for (i = 0; i < n; i++)
	{
		dm[i].name = t[i].name;
		dm[i].path = NULL;
		dm[i].references = list_of(t[i].refs);
		dm[i].refs = list_of(t[i].tref);
		dm[i].dependencies = list_of(t[i].deps);
	}
	return il_dag_build(dm, n, dag, err);
}

/* "a,b,c": the upstream names of node i. */
static const char *
ups(const il_dag *dag, size_t i, char *out)
{
	size_t		j;

	out[0] = '\0';
	for (j = dag->up_off[i]; j < dag->up_off[i + 1]; j++)
	{
		if (j > dag->up_off[i])
			strcat(out, ",");
		strcat(out, dag->names[dag->up[j]]);
	}
	return out;
}

/* "a,b": the downstream names of node i. */
static const char *
downs(const il_dag *dag, size_t i, char *out)
{
	size_t		j;

	out[0] = '\0';
	for (j = dag->down_off[i]; j < dag->down_off[i + 1]; j++)
	{
		if (j > dag->down_off[i])
			strcat(out, ",");
		strcat(out, dag->names[dag->down[j]]);
	}
	return out;
}

/* "x,y": the sources of node i. */
static const char *
srcs(const il_dag *dag, size_t i, char *out)
{
	size_t		j;

	out[0] = '\0';
	for (j = dag->src_off[i]; j < dag->src_off[i + 1]; j++)
	{
		if (j > dag->src_off[i])
			strcat(out, ",");
		strcat(out, dag->src[j]);
	}
	return out;
}

/* The node of name, or SIZE_MAX. */
static size_t
node_of(const il_dag *dag, const char *name)
{
	size_t		i;

	for (i = 0; i < dag->n; i++)
		if (strcmp(dag->names[i], name) == 0)
			return i;
	return SIZE_MAX;
}

/* "a b c": the topological order. */
static const char *
order_of(const il_dag *dag, char *out)
{
	size_t		i;

	out[0] = '\0';
	if (dag->order == NULL)
		return "(no order)";
	for (i = 0; i < dag->n; i++)
	{
		if (i > 0)
			strcat(out, " ");
		strcat(out, dag->names[dag->order[i]]);
	}
	return out;
}

/* "d:dir:name;...": lineage rows. */
static const char *
lineage_of(const il_dag *dag, const char *name, unsigned dirs, const int *maxd, char *out)
{
	il_dag_lineage_row *rows = NULL;
	size_t		n = 0;
	size_t		i;
	size_t		node;
	il_error	err;

	out[0] = '\0';
	if (il_dag_find(dag, name, &node, &err) != 0 ||
		il_dag_lineage(dag, node, dirs, maxd, &rows, &n, &err) != 0)
	{
		strcpy(out, "error");
		return out;
	}
	for (i = 0; i < n; i++)
		sprintf(out + strlen(out), "%s%d:%s:%s", i ? ";" : "", rows[i].depth,
				rows[i].direction == IL_DAG_UPSTREAM ? "up" : "down", dag->names[rows[i].node]);
	free(rows);
	return out;
}

/* The cycle error of models t[0..n) ("" when it builds and sorts). */
static const char *
cycle_of(const tmodel *t, size_t n, char *out)
{
	il_dag	   *dag = NULL;
	il_error	err;

	out[0] = '\0';
	if (build(t, n, &dag, &err) != 0)
		strcpy(out, "build failed");
	else if (il_dag_sort(dag, &err) != 0)
		strcpy(out, err.message);
	il_dag_free(dag);
	return out;
}

/* Splitmix64 for the big graph. */
static uint64_t
mix(uint64_t *s)
{
	uint64_t	z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

int
main(void)
{
	il_dag	   *dag = NULL;
	il_error	err;
	char		s[1024];
	size_t		i;
	int			depth;

	/* Resolution: full names, short names, catalogs, case, self, sources. */
	{
		tmodel		t[] = {
			{"staging.orders", {"raw.orders", "RAW.Customers", "staging.orders"}, {NULL}, {NULL}},
			{"raw.orders", {"landing.orders", "landing.orders"}, {NULL}, {NULL}},
			{"raw.customers", {"Landing.Customers"}, {NULL}, {NULL}},
			{"marts.fct_orders", {"orders_enriched", "main.staging.orders"}, {"raw.customers"}, {"ext.thing", "raw.orders"}},
			{"prod.marts.orders_enriched", {"staging.orders", "customers"}, {NULL}, {NULL}},
			{"marts.report", {"marts.orders_enriched", "prod.marts.fct_orders", "other.marts.orders_enriched"}, {NULL}, {NULL}},
		};

		CHECK(build(t, 6, &dag, &err) == 0, "a graph of six models builds");
		CHECK(dag && dag->n == 6, "six nodes");
		CHECK_STR(dag->names[0], "marts.fct_orders", "nodes are in name order (first)");
		CHECK_STR(dag->names[5], "staging.orders", "nodes are in name order (last)");
		CHECK(dag->input[node_of(dag, "raw.orders")] == 1, "input maps a node to its model");
		CHECK_STR(ups(dag, node_of(dag, "staging.orders"), s), "raw.customers,raw.orders",
				  "full names resolve; case is ignored; the self-reference is dropped");
		CHECK_STR(srcs(dag, node_of(dag, "raw.orders"), s), "landing.orders", "a source is kept once");
		CHECK_STR(srcs(dag, node_of(dag, "raw.customers"), s), "landing.customers",
				  "sources are lower-cased (il_refs keeps the case of `quoted` parts)");
		CHECK_STR(ups(dag, node_of(dag, "marts.fct_orders"), s), "prod.marts.orders_enriched,raw.customers,raw.orders,staging.orders",
				  "short name, ref(), dependencies and a catalog-qualified name of a two-part model");
		CHECK_STR(srcs(dag, node_of(dag, "marts.fct_orders"), s), "ext.thing",
				  "an unknown dependency is an external source");
		CHECK_STR(ups(dag, node_of(dag, "prod.marts.orders_enriched"), s), "raw.customers,staging.orders",
				  "a short name of a two-part model from a three-part one");
		CHECK_STR(ups(dag, node_of(dag, "marts.report"), s), "marts.fct_orders,prod.marts.orders_enriched",
				  "a two-part suffix matches the three-part model; c.s.t matches the two-part s.t");
		CHECK_STR(srcs(dag, node_of(dag, "marts.report"), s), "other.marts.orders_enriched",
				  "another catalog never matches a three-part model");
		CHECK_STR(downs(dag, node_of(dag, "raw.orders"), s), "marts.fct_orders,staging.orders",
				  "downstream lists, in name order");
		CHECK(dag->n_edges == 10, "ten edges, duplicates merged");
		CHECK(il_dag_sort(dag, &err) == 0, "it sorts");
		CHECK_STR(order_of(dag, s), "raw.customers raw.orders staging.orders prod.marts.orders_enriched marts.fct_orders marts.report",
				  "Kahn's order, smallest name first among the ready");
		CHECK(il_dag_sort(dag, &err) == 0, "sorting twice is fine");
		CHECK(il_dag_find(dag, "fct_orders", &i, &err) == 0 && strcmp(dag->names[i], "marts.fct_orders") == 0,
			  "find by short name");
		CHECK(il_dag_find(dag, "MARTS.REPORT", &i, &err) == 0 && strcmp(dag->names[i], "marts.report") == 0,
			  "find by full name, any case");
		CHECK(il_dag_find(dag, "marts.orders_enriched", &i, &err) == 0 &&
			  strcmp(dag->names[i], "prod.marts.orders_enriched") == 0, "find by a two-part suffix");
		CHECK(il_dag_find(dag, "x.raw.orders", &i, &err) == 0 && strcmp(dag->names[i], "raw.orders") == 0,
			  "find c.s.t as the two-part s.t");
		CHECK(il_dag_find(dag, "orders", &i, &err) == -1 && strcmp(err.code, "ambiguous_model") == 0 &&
			  strstr(err.message, "raw.orders, staging.orders") != NULL, "an ambiguous name lists its candidates");
		CHECK(il_dag_find(dag, "nothing", &i, &err) == -1 && strcmp(err.code, "unknown_model") == 0 &&
			  strstr(err.message, "nothing") != NULL, "an unknown name");
		il_dag_free(dag);
		dag = NULL;
	}

	/* Full name first: s.t beats the suffix of c.s.t. */
	{
		tmodel		t[] = {
			{"a.t", {NULL}, {NULL}, {NULL}},
			{"c.a.t", {NULL}, {NULL}, {NULL}},
			{"x.y", {"a.t"}, {NULL}, {NULL}},
		};

		CHECK(build(t, 3, &dag, &err) == 0 && strcmp(ups(dag, node_of(dag, "x.y"), s), "a.t") == 0,
			  "an exact full name wins over a longer model with that suffix");
		il_dag_free(dag);
		dag = NULL;
	}

	/* Ambiguity and unknown ref(). */
	{
		tmodel		t[] = {
			{"staging.events", {NULL}, {NULL}, {NULL}},
			{"raw.events", {NULL}, {NULL}, {NULL}},
			{"c.x.events", {NULL}, {NULL}, {NULL}},
			{"marts.daily", {"Events"}, {NULL}, {NULL}},
		};
		tmodel		u[] = {
			{"a.b", {NULL}, {"missing_model"}, {NULL}},
		};
		tmodel		d[] = {
			{"a.b", {NULL}, {NULL}, {NULL}},
			{"a.b", {NULL}, {NULL}, {NULL}},
		};

		CHECK(build(t, 4, &dag, &err) == -1 && dag == NULL, "an ambiguous short name fails the build");
		CHECK(strcmp(err.code, "ambiguous_reference") == 0, "code ambiguous_reference");
		CHECK(strstr(err.message, "model marts.daily references events") != NULL, "the message names the model and name");
		CHECK(strstr(err.message, "c.x.events, raw.events, staging.events") != NULL,
			  "the candidates, sorted");
		dm[3].path = "models/daily.sql";
		CHECK(il_dag_build(dm, 4, &dag, &err) == -1 && strstr(err.message, "models/daily.sql: model marts.daily") != NULL,
			  "with a path, the message starts with it");
		CHECK(build(u, 1, &dag, &err) == -1 && strcmp(err.code, "unknown_ref") == 0 &&
			  strstr(err.message, "{{ ref('missing_model') }}") != NULL, "an unknown ref() is an error");
		CHECK(build(d, 2, &dag, &err) == -1 && strcmp(err.code, "duplicate_model") == 0, "duplicate names");
		CHECK(build(t, 0, &dag, &err) == 0 && dag->n == 0 && il_dag_sort(dag, &err) == 0, "an empty graph");
		il_dag_free(dag);
		dag = NULL;
		il_dag_free(NULL);
	}

	/* One model naming another many times (more names than models). */
	{
		char		names[40][16];
		char	   *items[40];
		il_dag_model two[2];

		for (i = 0; i < 40; i++)
		{
			snprintf(names[i], sizeof(names[i]), "c%zu.s.a", i);
			items[i] = names[i];
		}
		memset(two, 0, sizeof(two));
		two[0].name = "s.a";
		two[1].name = "s.b";
		two[1].references.items = items;
		two[1].references.n = 40;
		CHECK(il_dag_build(two, 2, &dag, &err) == 0 && dag->n_edges == 1 &&
			  strcmp(ups(dag, 1, s), "s.a") == 0, "forty catalog spellings of one model: one edge");
		il_dag_free(dag);
		dag = NULL;
	}

	/* Cycles: the canonical one. */
	{
		tmodel		c3[] = {
			{"s.c", {"s.b"}, {NULL}, {NULL}},
			{"s.a", {"s.c"}, {NULL}, {NULL}},
			{"s.b", {"s.a"}, {NULL}, {NULL}},
		};
		tmodel		c3r[] = {
			{"s.b", {"s.a"}, {NULL}, {NULL}},
			{"s.c", {"s.b"}, {NULL}, {NULL}},
			{"s.a", {"s.c"}, {NULL}, {NULL}},
		};
		/* s.a reads the cycle x <-> y but is not on it */
		tmodel		down[] = {
			{"s.a", {"s.x"}, {NULL}, {NULL}},
			{"s.x", {"s.y"}, {NULL}, {NULL}},
			{"s.y", {"s.x"}, {NULL}, {NULL}},
		};
		/* two cycles: one through s.m, one through s.d; s.d is smaller */
		tmodel		two[] = {
			{"s.m", {"s.n"}, {NULL}, {NULL}},
			{"s.n", {"s.m"}, {NULL}, {NULL}},
			{"s.d", {"s.e"}, {NULL}, {NULL}},
			{"s.e", {"s.f"}, {NULL}, {NULL}},
			{"s.f", {"s.d"}, {NULL}, {NULL}},
		};
		/* through s.a: a long way a->b->c->d->a and a short one a->e->a */
		tmodel		shortest[] = {
			{"s.b", {"s.a"}, {NULL}, {NULL}},
			{"s.c", {"s.b"}, {NULL}, {NULL}},
			{"s.d", {"s.c"}, {NULL}, {NULL}},
			{"s.a", {"s.d", "s.e"}, {NULL}, {NULL}},
			{"s.e", {"s.a"}, {NULL}, {NULL}},
		};
		/* two shortest cycles through s.a: via s.b or via s.c; s.b is smaller */
		tmodel		tie[] = {
			{"s.c", {"s.a"}, {NULL}, {NULL}},
			{"s.b", {"s.a"}, {NULL}, {NULL}},
			{"s.a", {"s.c", "s.b"}, {NULL}, {NULL}},
		};
		/* a cycle through refs and dependencies, with short names */
		tmodel		mixed[] = {
			{"x.one", {NULL}, {"two"}, {NULL}},
			{"x.two", {NULL}, {NULL}, {"x.one"}},
		};
		il_buf		full = IL_BUF_INIT;

		CHECK_STR(cycle_of(c3, 3, s), "dependency cycle: s.a -> s.b -> s.c -> s.a",
				  "a three-model cycle starts at the smallest name and follows the data");
		CHECK_STR(cycle_of(c3r, 3, s), "dependency cycle: s.a -> s.b -> s.c -> s.a",
				  "the same cycle whatever the input order");
		CHECK_STR(cycle_of(down, 3, s), "dependency cycle: s.x -> s.y -> s.x",
				  "a model downstream of a cycle is not named in it");
		CHECK_STR(cycle_of(two, 5, s), "dependency cycle: s.d -> s.f -> s.e -> s.d",
				  "of two cycles, the one through the smallest name");
		CHECK_STR(cycle_of(shortest, 5, s), "dependency cycle: s.a -> s.e -> s.a", "the shortest cycle through it");
		CHECK_STR(cycle_of(tie, 3, s), "dependency cycle: s.a -> s.b -> s.a",
				  "among the shortest, the smallest sequence of names");
		CHECK_STR(cycle_of(mixed, 2, s), "dependency cycle: x.one -> x.two -> x.one",
				  "edges from ref() and dependencies count");
		CHECK(build(c3, 3, &dag, &err) == 0 && il_dag_sort(dag, &err) == -1 && strcmp(err.code, "cycle") == 0 &&
			  dag->order == NULL, "the code is cycle, and there is no order");
		CHECK(il_dag_cycle(dag, &full) && strcmp(il_buf_cstr(&full), "s.a -> s.b -> s.c -> s.a") == 0,
			  "il_dag_cycle gives the cycle whole");
		il_dag_free(dag);
		dag = NULL;
		il_buf_reset(&full);
		CHECK(build(down, 1, &dag, &err) == 0 && !il_dag_cycle(dag, &full) && full.len == 0,
			  "no cycle: il_dag_cycle returns false");
		il_dag_free(dag);
		dag = NULL;
		il_buf_free(&full);
	}

	/* Lineage. */
	{
		/* a -> b -> c -> d, a -> d, e -> c */
		tmodel		t[] = {
			{"s.a", {NULL}, {NULL}, {NULL}},
			{"s.b", {"s.a"}, {NULL}, {NULL}},
			{"s.c", {"s.b", "s.e"}, {NULL}, {NULL}},
			{"s.d", {"s.c", "s.a"}, {NULL}, {NULL}},
			{"s.e", {NULL}, {NULL}, {NULL}},
		};
		int			one = 1;
		int			zero = 0;
		int			neg = -1;
		unsigned	dirs = 0;
		il_dag_lineage_row *rows = NULL;
		size_t		n = 0;

		CHECK(build(t, 5, &dag, &err) == 0, "a small graph");
		CHECK_STR(lineage_of(dag, "s.a", IL_DAG_DOWNSTREAM, NULL, s), "1:down:s.b;1:down:s.d;2:down:s.c",
				  "downstream with the shortest depth (s.d at 1, not 3), by depth then name");
		CHECK_STR(lineage_of(dag, "d", IL_DAG_UPSTREAM, NULL, s), "1:up:s.a;1:up:s.c;2:up:s.b;2:up:s.e",
				  "upstream");
		CHECK_STR(lineage_of(dag, "s.c", IL_DAG_BOTH, NULL, s), "1:down:s.d;1:up:s.b;1:up:s.e;2:up:s.a",
				  "both: downstream rows first");
		CHECK_STR(lineage_of(dag, "s.d", IL_DAG_UPSTREAM, &one, s), "1:up:s.a;1:up:s.c", "max depth 1");
		CHECK_STR(lineage_of(dag, "s.d", IL_DAG_UPSTREAM, &zero, s), "", "max depth 0: nothing");
		CHECK_STR(lineage_of(dag, "s.e", IL_DAG_UPSTREAM, NULL, s), "", "a root has no upstream");
		CHECK(il_dag_lineage(dag, 0, IL_DAG_BOTH, &neg, &rows, &n, &err) == -1 &&
			  strcmp(err.code, "invalid_max_depth") == 0, "a negative max depth is refused");
		CHECK(il_dag_parse_direction("up", &dirs, &err) == 0 && dirs == IL_DAG_UPSTREAM, "up");
		CHECK(il_dag_parse_direction("Downstream", &dirs, &err) == 0 && dirs == IL_DAG_DOWNSTREAM, "Downstream");
		CHECK(il_dag_parse_direction("both", &dirs, &err) == 0 && dirs == IL_DAG_BOTH, "both");
		CHECK(il_dag_parse_direction("sideways", &dirs, &err) == -1 && strcmp(err.code, "invalid_direction") == 0 &&
			  strstr(err.message, "sideways") != NULL, "an invalid direction");
		CHECK(il_dag_parse_direction("upstream-and-more-text", &dirs, &err) == -1, "a long invalid direction");
		CHECK_STR(il_dag_direction_name(IL_DAG_UPSTREAM), "upstream", "direction names");
		il_dag_free(dag);
		dag = NULL;
	}

	/* 50,000 models with 6 upstreams each, by full and short names. */
	{
		size_t		n = 50000;
		char	  (*names)[32] = malloc(n * sizeof(*names));
		char	  (*refs)[6][32] = malloc(n * sizeof(*refs));
		char	  **ptrs = malloc(n * 6 * sizeof(char *));
		il_dag_model *big = malloc(n * sizeof(il_dag_model));
		uint64_t	seed = 42;
		clock_t		t0;
		double		secs;
		char		first[4096];
		char		again[4096];

		if (!names || !refs || !ptrs || !big)
		{
			printf("Bail out! out of memory\n");
			return 1;
		}
		for (i = 0; i < n; i++)
			snprintf(names[i], sizeof(names[i]), "s%zu.model_%06zu", i % 7, i);
		for (i = 0; i < n; i++)
		{
			int			k;

			big[i].name = names[i];
			big[i].path = NULL;
			for (k = 0; k < 6; k++)
			{
				size_t		u = i > 0 ? (size_t) (mix(&seed) % i) : 0;

				if (i == 0)
					snprintf(refs[i][k], sizeof(refs[i][k]), "ext.table_%d", k);
				else if (k % 2)
					snprintf(refs[i][k], sizeof(refs[i][k]), "model_%06zu", u);
				else
					snprintf(refs[i][k], sizeof(refs[i][k]), "%s", names[u]);
				ptrs[i * 6 + k] = refs[i][k];
			}
			big[i].references.items = &ptrs[i * 6];
			big[i].references.n = 6;
			big[i].refs.items = NULL;
			big[i].refs.n = 0;
			big[i].dependencies.items = NULL;
			big[i].dependencies.n = 0;
		}
		t0 = clock();
		CHECK(il_dag_build(big, n, &dag, &err) == 0 && il_dag_sort(dag, &err) == 0,
			  "50,000 models with 6 references each build and sort");
		secs = (double) (clock() - t0) / CLOCKS_PER_SEC;
		printf("# 50,000 models, %zu edges: %.3f s of CPU\n", dag ? dag->n_edges : 0, secs);
		CHECK(secs < 1.0, "in under a second of CPU");
		CHECK(dag && dag->src_off[dag->n] == 6, "the first model's six sources");
		/* the order respects every edge */
		if (dag)
		{
			size_t	   *pos = malloc(n * sizeof(size_t));
			int			ok = pos != NULL;

			for (i = 0; ok && i < n; i++)
				pos[dag->order[i]] = i;
			for (i = 0; ok && i < n; i++)
			{
				size_t		j;

				for (j = dag->up_off[i]; j < dag->up_off[i + 1]; j++)
					if (pos[dag->up[j]] >= pos[i])
						ok = 0;
			}
			CHECK(ok, "every upstream comes before its model in the order");
			free(pos);
			CHECK_STR(lineage_of(dag, "model_000005", IL_DAG_UPSTREAM, NULL, first), lineage_of(dag, "model_000005", IL_DAG_UPSTREAM, NULL, again),
					  "lineage is deterministic");
		}
		il_dag_free(dag);
		dag = NULL;
		/* a long cycle through all: the walk is iterative */
		for (i = 0; i < n; i++)
		{
			snprintf(refs[i][0], sizeof(refs[i][0]), "%s", names[(i + 1) % n]);
			big[i].references.n = 1;
		}
		CHECK(il_dag_build(big, n, &dag, &err) == 0 && il_dag_sort(dag, &err) == -1 &&
			  strcmp(err.code, "cycle") == 0, "a cycle through 50,000 models is found (no recursion)");
		CHECK(strncmp(err.message, "dependency cycle: s0.model_000000 -> s5.model_049999 -> ",
					  strlen("dependency cycle: s0.model_000000 -> s5.model_049999 -> ")) == 0 &&
			  strstr(err.message, " ...") != NULL, "its message starts at the smallest name and is cut with ...");
		depth = 0;
		if (dag)
		{
			il_buf		full = IL_BUF_INIT;

			if (il_dag_cycle(dag, &full))
			{
				const char *p;

				for (p = full.data; (p = strstr(p, " -> ")) != NULL; p += 4)
					depth++;
			}
			il_buf_free(&full);
		}
		CHECK(depth == 50000, "the whole cycle has 50,000 arrows");
		il_dag_free(dag);
		dag = NULL;
		free(names);
		free(refs);
		free(ptrs);
		free(big);
	}
	return unit_done();
}
