/*
 * libFuzzer harness of the planner's input parsers (il_plan.c, il_date.c):
 * the options object of plan() and `ironlayer plan`, the command's
 * watermark file, and dates. The first byte chooses the parser; the rest is
 * its input.
 *
 * Invariants checked (abort on violation):
 *	- options: success gives a kind of the three, a non-empty environment of
 *	  at most 63 bytes, a lookback of 1 to 3650 days, recompute_days 0 to
 *	  3650 (0 in a backfill), non-empty full_refresh names only in a change
 *	  plan, and models only in a backfill, which has 1 to 1000 of them, two
 *	  valid days in order, batch_days 1 to 3650 and at most 1000 batches;
 *	  failure sets an error whose SQLSTATE is 22023 (or out of memory) and
 *	  leaves the defaults (change, "dev", 30, no recompute, true, no names,
 *	  7);
 *	- watermarks: success gives non-empty names, valid dates and start <=
 *	  end; failure sets an error (SQLSTATE 22023) and no items;
 *	- dates: success gives a valid day whose text ("YYYY-MM-DD") parses back
 *	  to the same day; failure sets invalid_date;
 *	- memory: options and watermarks take at most OPTIONS_RATIO and
 *	  WATERMARKS_RATIO bytes of the core's heap per input byte, plus 2 MB.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "il_date.h"
#include "il_plan.h"
#include "memcount.h"

/*
 * Memory (test/bench/memcount.h): the peak of the core's heap per input
 * byte, plus 2 MB. The parsers build a JSON tree of 72 bytes a value ("[]"
 * is a value two bytes) in an arena whose blocks double up to 1 MB, so up
 * to 2 MB of it may be set aside and not yet used.
 */
#define OPTIONS_RATIO 40
#define WATERMARKS_RATIO 48
#define SLACK ((size_t) 2 << 20)

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_plan: invariant violated: %s\n", what);
	abort();
}

/* An error was set, and it is bad input (22023) or out of memory. */
static void
check_error(const il_error *err, const char *what)
{
	const char *state;

	if (err->code == NULL || err->message[0] == '\0')
		fail(what);
	if (il_error_is(err, IL_ERR_OUT_OF_MEMORY))
		return;
	state = il_error_sqlstate(err);
	if (state == NULL || strcmp(state, "22023") != 0)
		fail(what);
}

static void
fuzz_options(const char *text, size_t len)
{
	il_plan_options opts;
	il_error	err;
	size_t		i;
	long long	base;
	int			rc;

	il_plan_options_init(&opts);
	il_error_clear(&err);
	base = memcount_start();
	rc = il_plan_options_parse(text, len, &opts, &err);
	if (memcount_peak_since(base) > OPTIONS_RATIO * len + SLACK)
		fail("options: more memory per input byte than the bound");
	if (rc == 0)
	{
		size_t		elen = strnlen(opts.environment, sizeof(opts.environment));

		if (elen == 0 || elen > IL_PLAN_ENVIRONMENT_MAX)
			fail("options: an empty or too long environment");
		if (opts.lookback_days < 1 || opts.lookback_days > IL_PLAN_LOOKBACK_MAX)
			fail("options: lookback_days out of range");
		for (i = 0; i < opts.n_full_refresh; i++)
			if (opts.full_refresh[i] == NULL || opts.full_refresh[i][0] == '\0')
				fail("options: an empty full_refresh name");
		for (i = 0; i < opts.n_models; i++)
			if (opts.models[i] == NULL || opts.models[i][0] == '\0')
				fail("options: an empty models name");
		if (opts.kind != IL_PLAN_CHANGE && opts.kind != IL_PLAN_REFRESH && opts.kind != IL_PLAN_BACKFILL)
			fail("options: an unknown kind");
		if (opts.recompute_days < 0 || opts.recompute_days > IL_PLAN_RECOMPUTE_MAX)
			fail("options: recompute_days out of range");
		if (opts.kind != IL_PLAN_CHANGE && opts.n_full_refresh != 0)
			fail("options: full_refresh in a plan of another kind");
		if (opts.kind == IL_PLAN_BACKFILL)
		{
			if (opts.n_models < 1 || opts.n_models > IL_PLAN_MODELS_MAX || opts.recompute_days != 0)
				fail("options: a backfill without 1 to 1000 models, or with recompute_days");
			if (!il_date_valid(opts.start) || !il_date_valid(opts.end) || opts.start > opts.end)
				fail("options: a backfill range that is not two days in order");
			if (opts.batch_days < 1 || opts.batch_days > IL_PLAN_BATCH_MAX ||
				((int64_t) opts.end - opts.start) / opts.batch_days + 1 > IL_PLAN_BATCHES_MAX)
				fail("options: batch_days out of range, or too many batches");
		}
		else if (opts.n_models != 0)
			fail("options: models in a plan that is no backfill");
	}
	else
	{
		check_error(&err, "options: a failure without a 22023 error");
		if (strcmp(opts.environment, "dev") != 0 || opts.lookback_days != 30 || !opts.skip_cosmetic ||
			opts.n_full_refresh != 0 || opts.kind != IL_PLAN_CHANGE || opts.recompute_days != 0 ||
			opts.n_models != 0 || opts.batch_days != IL_PLAN_BATCH_DEFAULT)
			fail("options: a failure left something but the defaults");
	}
	il_plan_options_free(&opts);
}

static void
fuzz_watermarks(const char *text, size_t len)
{
	il_plan_watermarks w = IL_PLAN_WATERMARKS_INIT;
	il_error	err;
	size_t		i;
	long long	base;
	int			rc;

	il_error_clear(&err);
	base = memcount_start();
	rc = il_plan_watermarks_parse(text, len, &w, &err);
	if (memcount_peak_since(base) > WATERMARKS_RATIO * len + SLACK)
		fail("watermarks: more memory per input byte than the bound");
	if (rc == 0)
	{
		for (i = 0; i < w.n; i++)
		{
			if (w.items[i].model == NULL || w.items[i].model[0] == '\0')
				fail("watermarks: an empty model name");
			if (!il_date_valid(w.items[i].start) || !il_date_valid(w.items[i].end))
				fail("watermarks: an invalid date");
			if (w.items[i].start > w.items[i].end)
				fail("watermarks: start after end");
		}
	}
	else
	{
		check_error(&err, "watermarks: a failure without a 22023 error");
		if (w.n != 0)
			fail("watermarks: a failure returned items");
	}
	il_plan_watermarks_free(&w);
}

static void
fuzz_date(const char *text, size_t len)
{
	il_date		d;
	il_date		again;
	char		s[IL_DATE_LEN + 1];
	il_error	err;

	il_error_clear(&err);
	if (il_date_parse(text, len, &d, &err) == 0)
	{
		if (!il_date_valid(d) || !il_date_format(d, s))
			fail("date: a parsed day is not valid");
		if (il_date_parse(s, strlen(s), &again, &err) != 0 || again != d)
			fail("date: a day's text does not parse back to it");
	}
	else if (err.code == NULL || strcmp(err.code, "invalid_date") != 0)
		fail("date: a failure without invalid_date");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text;

	if (size < 1)
		return 0;
	/* a copy of exactly the input: overreads are caught */
	text = malloc(size - 1 > 0 ? size - 1 : 1);
	if (text == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	switch (data[0] % 3)
	{
		case 0:
			fuzz_options(text, size - 1);
			break;
		case 1:
			fuzz_watermarks(text, size - 1);
			break;
		default:
			fuzz_date(text, size - 1);
			break;
	}
	free(text);
	return 0;
}
