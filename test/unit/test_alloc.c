/*
 * Unit tests of the core's allocator (il_alloc.h): with a counting
 * allocator installed by il_set_allocator, every block the core allocates
 * while it parses, judges, writes JSON and resolves paths comes from it and
 * goes back to it (a block the core got elsewhere, such as realpath()'s,
 * would fail the tag check); an allocator that fails makes the core report
 * an error, never crash, and leave nothing behind; NULL restores malloc.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "il_alloc.h"
#include "il_git.h"
#include "il_guard.h"
#include "il_model.h"
#include "unit.h"

#define TAG UINT64_C(0x494c414c4c4f4321)	/* "ILALLOC!" */
#define HDR 16							/* keeps malloc's alignment */

static long allocs;				/* successful allocations */
static long live;				/* blocks not yet freed */
static long foreign;			/* frees of blocks not from here */
static long fail_after = -1;	/* allocations left before failing; -1 never */

static void *
count_malloc(size_t size)
{
	unsigned char *p;

	if (fail_after == 0)
		return NULL;
	if (fail_after > 0)
		fail_after--;
	p = malloc(HDR + size);
	if (p == NULL)
		return NULL;
	memcpy(p, &(uint64_t) {TAG}, sizeof(uint64_t));
	memcpy(p + 8, &size, sizeof(size_t));
	allocs++;
	live++;
	return p + HDR;
}

static void *
count_calloc(size_t n, size_t size)
{
	void	   *p;

	if (size != 0 && n > SIZE_MAX / size - HDR)
		return NULL;
	p = count_malloc(n * size);
	if (p != NULL)
		memset(p, 0, n * size);
	return p;
}

static int
ours(const void *p)
{
	uint64_t	t;

	memcpy(&t, (const unsigned char *) p - HDR, sizeof(t));
	return t == TAG;
}

static void
count_free(void *p)
{
	if (p == NULL)
		return;
	if (!ours(p))
	{
		foreign++;
		return;					/* leaked rather than freed wrongly */
	}
	memset((unsigned char *) p - HDR, 0, sizeof(uint64_t));
	live--;
	free((unsigned char *) p - HDR);
}

static void *
count_realloc(void *p, size_t size)
{
	size_t		old;
	void	   *q;

	if (p == NULL)
		return count_malloc(size);
	if (!ours(p))
	{
		foreign++;
		return NULL;
	}
	q = count_malloc(size);
	if (q == NULL)
		return NULL;
	memcpy(&old, (unsigned char *) p - HDR + 8, sizeof(size_t));
	memcpy(q, p, old < size ? old : size);
	count_free(p);
	return q;
}

static const il_allocator counting = {count_malloc, count_calloc, count_realloc, count_free};

static const char model[] =
	"-- name: analytics.orders\n"
	"-- kind: INCREMENTAL_BY_TIME_RANGE\n"
	"-- time_column: order_date\n"
	"SELECT o.id, o.order_date, c.name FROM raw.orders o JOIN raw.customers c ON c.id = o.customer_id\n"
	"WHERE o.order_date BETWEEN @start_date AND @end_date;\n";

int
main(void)
{
	il_model	m;
	il_guard_result g;
	il_error	err;
	il_buf		out = IL_BUF_INIT;
	char	   *s;
	char	   *resolved = NULL;
	long		k;
	long		failures = 0;
	long		leaks = 0;
	int			reached_ok = 0;

	il_set_allocator(&counting);

	/* the core's own calls */
	CHECK(il_model_parse(model, strlen(model), &m, &err) == IL_PARSE_OK, "a model parses with the counting allocator");
	il_model_to_json(&m, &out);
	CHECK(out.len > 0 && ours(out.data), "the JSON text is a block of the installed allocator");
	il_model_free(&m);
	il_buf_free(&out);
	CHECK(il_guard_check(model, strlen(model), &g, &err) == IL_PARSE_OK, "the guard judges it");
	il_guard_to_json(&g, &out);
	il_guard_free(&g);
	il_buf_free(&out);
	CHECK(allocs > 0, "the core allocated through the hooks");
	CHECK(live == 0, "and gave every block back");

	s = il_strndup("abcdef", 3);
	CHECK(s != NULL && ours(s) && strcmp(s, "abc") == 0, "il_strndup allocates through the hooks");
	il_free(s);
	s = il_strdup("abc");
	CHECK(s != NULL && ours(s) && strcmp(s, "abc") == 0, "il_strdup allocates through the hooks");
	il_free(s);

	/* realpath()'s result is copied into the core's allocator */
	CHECK(il_git_path_inside("/", "/tmp", &resolved, &err) == 0 && resolved != NULL && ours(resolved),
		  "a resolved path is a block of the installed allocator");
	il_free(resolved);
	CHECK(il_git_normalize_dir("./models//daily/", &s, &err) == 0 && ours(s) && strcmp(s, "models/daily") == 0,
		  "a normalized models directory too");
	il_free(s);
	CHECK(live == 0 && foreign == 0, "no block leaked, none freed that was not the allocator's");

	/* every allocation failing in turn: an error, no crash, nothing left */
	for (k = 0; k < 100000 && !reached_ok; k++)
	{
		il_parse_status st;

		fail_after = k;
		st = il_model_parse(model, strlen(model), &m, &err);
		if (st == IL_PARSE_OK)
		{
			il_model_to_json(&m, &out);
			if (out.oom)
				failures++;
			else
				reached_ok = 1;
			il_buf_free(&out);
		}
		else
			failures++;
		il_model_free(&m);
		if (live != 0)
			leaks++;
		live = 0;
	}
	fail_after = -1;
	CHECK(reached_ok && failures > 0, "a failing allocator makes parse_model report an error, every time");
	CHECK(leaks == 0, "and each failed parse leaves no block behind");
	CHECK(foreign == 0, "no block given back was not the allocator's");

	/* back to the C library's */
	il_set_allocator(NULL);
	k = allocs;
	s = il_malloc(16);
	CHECK(s != NULL && allocs == k, "il_set_allocator(NULL) restores malloc");
	il_free(s);

	printf("1..%d\n", unit_count);
	return unit_failed ? 1 : 0;
}
