/*
 * Unit tests of memory per input byte: the core's peak live heap
 * (test/bench/memcount.h, a realloc that grows counted as old and new block
 * at once) while it parses or judges each adversarial input of
 * test/bench/adversarial.h, against the bounds docs/limits.md states:
 *	parse_model, sql_guard (core part, JSON text included)	16 x input + 64 kB
 *	plan options (the text JsonbToCString writes)			40 x input + 2 MB
 *	_scrub (4096 bytes kept)								input + 64 kB
 * and that the JSON text is reserved once, at its exact length.
 */
#include <stdlib.h>
#include <string.h>

#include "../bench/adversarial.h"
#include "../bench/memcount.h"
#include "il_guard.h"
#include "il_model.h"
#include "il_plan.h"
#include "il_scrub.h"
#include "unit.h"

#define SIZE ((size_t) 256 << 10)
#define SLACK ((size_t) 64 << 10)
#define MODEL_RATIO 16
#define OPTIONS_RATIO 40
#define ARENA_SLACK ((size_t) 2 << 20)	/* the JSON arena's blocks double up to 1 MB */

int
main(void)
{
	il_buf		in = IL_BUF_INIT;
	size_t		worst_model = 0;
	size_t		worst_guard = 0;
	const char *model_at = "";
	const char *guard_at = "";
	int			exact = 1;
	int			i;
	char		what[160];

	for (i = 0; adv_names[i] != NULL; i++)
	{
		long long	base;
		size_t		peak;
		il_model	m;
		il_guard_result g;
		il_error	err;
		il_buf		out = IL_BUF_INIT;

		adv_build(adv_names[i], SIZE, &in);

		base = memcount_start();
		if (il_model_parse(in.data, in.len, &m, &err) == IL_PARSE_OK)
		{
			il_model_to_json(&m, &out);
			if (out.len != il_model_json_len(&m) || out.cap != out.len + 1)
				exact = 0;
		}
		il_model_free(&m);
		il_buf_free(&out);
		peak = memcount_peak_since(base);
		if (peak * 1000 / in.len > worst_model)
		{
			worst_model = peak * 1000 / in.len;
			model_at = adv_names[i];
		}
		snprintf(what, sizeof(what), "parse_model, %s: %.1f bytes a byte (at most %d)", adv_names[i],
				 (double) peak / (double) in.len, MODEL_RATIO);
		CHECK(peak <= MODEL_RATIO * in.len + SLACK, what);

		base = memcount_start();
		if (il_guard_check(in.data, in.len, &g, &err) == IL_PARSE_OK)
		{
			il_guard_to_json(&g, &out);
			if (out.len != il_guard_json_len(&g) || (out.cap != out.len + 1 && out.cap != 64))
				exact = 0;
		}
		il_guard_free(&g);
		il_buf_free(&out);
		peak = memcount_peak_since(base);
		if (peak * 1000 / in.len > worst_guard)
		{
			worst_guard = peak * 1000 / in.len;
			guard_at = adv_names[i];
		}
		snprintf(what, sizeof(what), "sql_guard, %s: %.1f bytes a byte (at most %d)", adv_names[i],
				 (double) peak / (double) in.len, MODEL_RATIO);
		CHECK(peak <= MODEL_RATIO * in.len + SLACK, what);
		CHECK(memcount_live() == base, "nothing is left allocated");
	}
	CHECK(exact, "the JSON texts are reserved once, at their exact length");
	printf("# worst: parse_model %.1f (%s), sql_guard %.1f (%s)\n", (double) worst_model / 1000, model_at,
		   (double) worst_guard / 1000, guard_at);

	/* The guard lists at most 100 violations, then says there are more. */
	{
		il_guard_result g;
		il_error	err;

		adv_build("statements", SIZE, &in);
		CHECK(il_guard_check(in.data, in.len, &g, &err) == IL_PARSE_OK && !g.ok &&
			  g.n == IL_GUARD_MAX_VIOLATIONS + 1 &&
			  strcmp(g.v[IL_GUARD_MAX_VIOLATIONS].rule, "too_many_violations") == 0 &&
			  strcmp(g.v[IL_GUARD_MAX_VIOLATIONS - 1].rule, "multiple_statements") == 0 &&
			  g.v[IL_GUARD_MAX_VIOLATIONS].line == 3 &&
			  g.v[IL_GUARD_MAX_VIOLATIONS].column == 2 * (IL_GUARD_MAX_VIOLATIONS + 1) + 1,
			  "131,000 statements: 100 violations listed, then too_many_violations where the 101st is");
		il_guard_free(&g);
	}

	/* The options of plan(). */
	{
		static const char *const docs[] = {"same", "distinct", "nesting", "keys", NULL};

		for (i = 0; docs[i] != NULL; i++)
		{
			long long	base;
			size_t		k = 0;
			il_plan_options o;
			il_error	err;

			il_buf_reset(&in);
			if (strcmp(docs[i], "same") == 0)
			{
				il_buf_puts(&in, "{\"full_refresh\": [\"a\"");
				adv_fill(&in, SIZE - 2, ", \"a\"");
				il_buf_puts(&in, "]}");
			}
			else if (strcmp(docs[i], "distinct") == 0)
			{
				il_buf_puts(&in, "{\"full_refresh\": [\"a\"");
				while (in.len + 16 < SIZE)
				{
					il_buf_puts(&in, ", \"");
					adv_name(&in, ++k);
					il_buf_putc(&in, '"');
				}
				il_buf_puts(&in, "]}");
			}
			else if (strcmp(docs[i], "nesting") == 0)
			{
				il_buf_puts(&in, "{\"full_refresh\": [0");
				while (in.len + 2010 < SIZE)
				{
					il_buf_puts(&in, ", ");
					for (k = 0; k < 998; k++)
						il_buf_putc(&in, '[');
					for (k = 0; k < 998; k++)
						il_buf_putc(&in, ']');
				}
				il_buf_puts(&in, "]}");
			}
			else
			{
				il_buf_puts(&in, "{\"a\": 0");
				while (in.len + 24 < SIZE)
				{
					il_buf_puts(&in, ", \"");
					adv_name(&in, ++k);
					il_buf_puts(&in, "\": 0");
				}
				il_buf_putc(&in, '}');
			}
			base = memcount_start();
			il_plan_options_parse(in.data, in.len, &o, &err);
			il_plan_options_free(&o);
			snprintf(what, sizeof(what), "plan options, %s: %.1f bytes a byte (at most %d)", docs[i],
					 (double) memcount_peak_since(base) / (double) in.len, OPTIONS_RATIO);
			CHECK(memcount_peak_since(base) <= OPTIONS_RATIO * in.len + ARENA_SLACK, what);
		}
	}

	/* The scrubber keeps 4096 bytes, whatever it reads. */
	{
		static const char *const units[] = {"a ", "a@b.cd ", "\xff", "'' ", NULL};

		for (i = 0; units[i] != NULL; i++)
		{
			long long	base;
			il_buf		out = IL_BUF_INIT;

			il_buf_reset(&in);
			adv_fill(&in, SIZE, units[i]);
			base = memcount_start();
			il_scrub_max(in.data, in.len, IL_SCRUB_SQL, 4096, &out);
			CHECK(out.len <= 4096, "the scrubbed text is cut to 4096 bytes");
			il_buf_free(&out);
			snprintf(what, sizeof(what), "_scrub, input %d: %zu bytes at the peak for %zu bytes", i,
					 memcount_peak_since(base), in.len);
			CHECK(memcount_peak_since(base) <= SLACK, what);
		}
	}

	il_buf_free(&in);
	return unit_done();
}
