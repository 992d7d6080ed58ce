/*
 * Benchmark of the model parser: header + lex + references + guard +
 * fingerprint (il_model_parse) over a generated corpus of realistic model
 * files, single-threaded.
 *
 * The corpus is generated in memory from a fixed seed (the same bytes on
 * every run): at least 50 MB of models of 1 to 3 KB, with headers of every
 * kind, CTE chains, joins, subqueries, window functions, QUALIFY, JSON
 * paths, lambdas, MERGE statements, templates and comments. Prints e.g.
 *	parse: 52.4 MB in 0.21 s = 249.5 MB/s (24000 models, 1 core)
 * then what a load does per file on a cache miss (il_repo_parse_text: the
 * parse, the renderer's edit list, the SHA-256, the parse record) and the
 * records' mean size:
 *	record: 52.4 MB in 0.25 s = 209.6 MB/s (...); records 400.0 bytes per model
 * The best of five passes is reported; each pass parses every model once.
 * Time is the process's CPU time (the wall time is printed beside it), so a
 * busy machine does not skew the single-core figure.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "il_model.h"
#include "il_repo.h"

#ifndef CORPUS_BYTES
#define CORPUS_BYTES (52u * 1000u * 1000u)
#endif
#ifndef PASSES
#define PASSES 5
#endif

typedef struct rng
{
	uint64_t	s;
} rng;

/* The next pseudo-random number (xorshift64*). */
static uint64_t
next(rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545F4914F6CDD1DULL;
}

/* A pseudo-random number in [0, n). */
static unsigned
pick(rng *r, unsigned n)
{
	return (unsigned) (next(r) % n);
}

static const char *const schemas[] = {"raw", "staging", "analytics", "finance", "marketing", "ops"};
static const char *const tables[] = {
	"orders", "order_items", "customers", "events", "sessions", "payments", "refunds",
	"products", "inventory", "shipments", "campaigns", "clicks", "users", "accounts"
};
static const char *const cols[] = {
	"id", "user_id", "order_id", "amount", "created_at", "updated_at", "status", "country",
	"event_date", "session_id", "price", "quantity", "currency", "region", "channel"
};
static const char *const aggs[] = {"sum", "avg", "max", "min", "count"};

#define N(a) ((unsigned) (sizeof(a) / sizeof((a)[0])))

/* Appends one generated model (about 1 to 3 KB) to b. */
static void
gen_model(rng *r, il_buf *b, unsigned idx)
{
	unsigned	kind = pick(r, 4);
	unsigned	nctes = 2 + pick(r, 6);
	unsigned	i;
	size_t		start = b->len;
	const char *sch = schemas[pick(r, N(schemas))];
	const char *tbl = tables[pick(r, N(tables))];

	il_buf_printf(b, "-- name: %s.%s_%u\n", sch, tbl, idx);
	il_buf_printf(b, "-- kind: %s\n", kind == 0 ? "FULL_REFRESH" : kind == 1 ? "INCREMENTAL_BY_TIME_RANGE" :
				  kind == 2 ? "APPEND_ONLY" : "MERGE_BY_KEY");
	if (kind == 1)
		il_buf_puts(b, "-- materialization: INSERT_OVERWRITE\n-- time_column: event_date\n-- partition_by: event_date\n");
	if (kind == 3)
		il_buf_puts(b, "-- materialization: MERGE\n-- unique_key: id, region\n");
	il_buf_printf(b, "-- owner: team-%u\n-- tags: daily, tier%u, %s\n", pick(r, 20), pick(r, 3), sch);
	if (pick(r, 2))
		il_buf_printf(b, "-- dependencies: %s.%s\n", schemas[pick(r, N(schemas))], tables[pick(r, N(tables))]);
	il_buf_puts(b, "\n/* Generated model: a chain of CTEs over upstream tables,\n   joined and aggregated. */\n");

	if (kind == 3)
		il_buf_printf(b, "MERGE INTO %s.%s_%u AS t\nUSING (\n", sch, tbl, idx);
	il_buf_puts(b, "WITH ");
	for (i = 0; i < nctes || (b->len - start < 900 && i < 12); i++)
	{
		const char *c1 = cols[pick(r, N(cols))];
		const char *c2 = cols[pick(r, N(cols))];

		if (i > 0)
			il_buf_puts(b, ",\n");
		il_buf_printf(b, "step_%u AS (\n", i);
		switch (pick(r, 4))
		{
			case 0:
				il_buf_printf(b, "  SELECT s.%s, s.%s, s.payload:items[0].sku::string AS sku,\n"
							  "         %s(s.amount) OVER (PARTITION BY s.%s ORDER BY s.created_at\n"
							  "           ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running_%u\n"
							  "  FROM %s s\n"
							  "  WHERE s.event_date BETWEEN '{{ start_date }}' AND '{{ end_date }}' -- window\n",
							  c1, c2, aggs[pick(r, N(aggs))], c1, i,
							  i == 0 ? "{{ ref('base_events') }}" : "step_0");
				break;
			case 1:
				il_buf_printf(b, "  SELECT a.%s, b.%s, coalesce(a.amount, 0) * 1.5D AS adj_amount,\n"
							  "         transform(a.tags, t -> lower(t)) AS tags_l\n"
							  "  FROM %s.%s a\n"
							  "  LEFT JOIN %s.%s b ON a.id = b.id AND b.status <> 'deleted'\n"
							  "  WHERE a.%s IS NOT NULL\n",
							  c1, c2, schemas[pick(r, N(schemas))], tables[pick(r, N(tables))],
							  schemas[pick(r, N(schemas))], tables[pick(r, N(tables))], c1);
				break;
			case 2:
				il_buf_printf(b, "  SELECT %s, count(*) AS n, sum(amount) AS total, max(updated_at) AS last_seen\n"
							  "  FROM %s\n"
							  "  WHERE %s IN (SELECT %s FROM %s.%s WHERE status = 'active')\n"
							  "  GROUP BY %s\n"
							  "  QUALIFY row_number() OVER (PARTITION BY %s ORDER BY total DESC) <= 100\n",
							  c1, i == 0 ? "raw.events" : "step_0", c1, c1,
							  schemas[pick(r, N(schemas))], tables[pick(r, N(tables))], c1, c1);
				break;
			default:
				il_buf_printf(b, "  SELECT x.*, y.%s AS y_%s\n"
							  "  FROM (SELECT * FROM %s.%s WHERE created_at >= date_sub(current_date(), 30)) x\n"
							  "  JOIN `%s`.`%s` y USING (id)\n",
							  c2, c2, schemas[pick(r, N(schemas))], tables[pick(r, N(tables))],
							  schemas[pick(r, N(schemas))], tables[pick(r, N(tables))]);
				break;
		}
		il_buf_puts(b, ")");
	}
	il_buf_printf(b, "\nSELECT f.*, CASE WHEN f.%s IS NULL THEN 'unknown' ELSE 'known' END AS flag\n"
				  "FROM step_%u f\n", cols[pick(r, N(cols))], i - 1);
	if (kind == 3)
		il_buf_puts(b, ") AS s\nON t.id = s.id AND t.region = s.region\n"
					"WHEN MATCHED AND s.status = 'deleted' THEN DELETE\n"
					"WHEN MATCHED THEN UPDATE SET *\n"
					"WHEN NOT MATCHED THEN INSERT *\n");
	else
		il_buf_puts(b, "ORDER BY 1;\n");
}

int
main(void)
{
	rng			r = {0x9E3779B97F4A7C15ULL};
	il_buf		corpus = IL_BUF_INIT;
	size_t	   *starts = NULL;
	size_t		nmodels = 0;
	size_t		cap = 0;
	size_t		minlen = SIZE_MAX;
	size_t		maxlen = 0;
	double		best = 1e30;
	double		best_wall = 1e30;
	int			pass;
	size_t		i;
	unsigned	violations = 0;
	size_t		record_bytes = 0;

	while (corpus.len < CORPUS_BYTES)
	{
		size_t		before = corpus.len;

		if (nmodels == cap)
		{
			cap = cap ? cap * 2 : 1024;
			starts = realloc(starts, (cap + 1) * sizeof(size_t));
			if (starts == NULL)
				return 1;
		}
		starts[nmodels++] = before;
		gen_model(&r, &corpus, (unsigned) nmodels);
		if (corpus.oom)
		{
			fprintf(stderr, "bench_parse: out of memory\n");
			return 1;
		}
		if (corpus.len - before < minlen)
			minlen = corpus.len - before;
		if (corpus.len - before > maxlen)
			maxlen = corpus.len - before;
	}
	starts[nmodels] = corpus.len;

	for (pass = 0; pass < PASSES; pass++)
	{
		struct timespec t0;
		struct timespec t1;
		struct timespec w0;
		struct timespec w1;
		double		secs;

		violations = 0;
		clock_gettime(CLOCK_MONOTONIC, &w0);
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
		for (i = 0; i < nmodels; i++)
		{
			il_model	m;
			il_error	err;

			if (il_model_parse(corpus.data + starts[i], starts[i + 1] - starts[i], &m, &err) != IL_PARSE_OK)
			{
				fprintf(stderr, "bench_parse: model %zu does not parse: line %d: %s\n", i, err.line, err.message);
				return 1;
			}
			violations += m.guard.ok ? 0 : 1;
			il_model_free(&m);
		}
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
		clock_gettime(CLOCK_MONOTONIC, &w1);
		secs = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
		if (secs < best)
			best = secs;
		secs = (double) (w1.tv_sec - w0.tv_sec) + (double) (w1.tv_nsec - w0.tv_nsec) / 1e9;
		if (secs < best_wall)
			best_wall = secs;
	}
	if (violations != 0)
	{
		fprintf(stderr, "bench_parse: %u generated models have guard violations\n", violations);
		return 1;
	}
	printf("parse: %.1f MB in %.3f s = %.1f MB/s (%zu models of %zu to %zu bytes, 1 core, best of %d; "
		   "CPU time, wall %.3f s)\n",
		   (double) corpus.len / 1e6, best, (double) corpus.len / 1e6 / best, nmodels, minlen, maxlen,
		   PASSES, best_wall);

	/*
	 * What loading a repository does per file on a cache miss: the parse
	 * record (il_repo_parse_text: the parse, the renderer's edit list, the
	 * file's SHA-256), and the record's size, which the parse cache keeps.
	 */
	best = best_wall = 1e30;
	for (pass = 0; pass < PASSES; pass++)
	{
		struct timespec t0;
		struct timespec t1;
		struct timespec w0;
		struct timespec w1;
		double		secs;
		il_buf		rec = IL_BUF_INIT;
		il_error	err;

		record_bytes = 0;
		clock_gettime(CLOCK_MONOTONIC, &w0);
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
		for (i = 0; i < nmodels; i++)
		{
			il_buf_reset(&rec);
			if (il_repo_parse_text(corpus.data + starts[i], starts[i + 1] - starts[i], &rec, &err) != 0)
			{
				fprintf(stderr, "bench_parse: model %zu: %s\n", i, err.message);
				return 1;
			}
			record_bytes += rec.len;
		}
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
		clock_gettime(CLOCK_MONOTONIC, &w1);
		il_buf_free(&rec);
		secs = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
		if (secs < best)
			best = secs;
		secs = (double) (w1.tv_sec - w0.tv_sec) + (double) (w1.tv_nsec - w0.tv_nsec) / 1e9;
		if (secs < best_wall)
			best_wall = secs;
	}
	printf("record: %.1f MB in %.3f s = %.1f MB/s (il_repo_parse_text, best of %d; CPU time, wall %.3f s); "
		   "records %.1f bytes per model (%.1f%% of the text)\n",
		   (double) corpus.len / 1e6, best, (double) corpus.len / 1e6 / best, PASSES, best_wall,
		   (double) record_bytes / (double) nmodels, 100.0 * (double) record_bytes / (double) corpus.len);
	free(starts);
	il_buf_free(&corpus);
	return 0;
}
