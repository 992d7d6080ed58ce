/*
 * Benchmark of memory per input byte: the peak of the core's live heap
 * (test/bench/memcount.h: every malloc, calloc, realloc and free of the
 * core, a realloc counted as old and new block at once) while it handles
 * one input, divided by the input's size, for every parser entry point
 * that SQL reaches:
 *	parse_model		il_model_parse, then il_model_to_json (what
 *					ironlayer.parse_model() asks of the core)
 *	sql_guard		il_guard_check, then il_guard_to_json
 *	render			il_render_model, a model file rendered from its text (a
 *					small graph whose models s.t and a.a the inputs name;
 *					schema prefix "dev_")
 *	from_rec		il_render_model_edits, as the executor renders it from
 *					the edit list of its parse record (the list, like the
 *					text, not counted); edits/in: that list's size
 *	plan options	il_plan_options_parse (ironlayer.plan()'s options)
 *	_scrub			il_scrub_max to 4096 bytes (ironlayer._scrub())
 *	put_credential	il_seal_open, il_vault_fingerprint, il_fernet_encrypt of a
 *					sealed secret of 64 kB, its limit (the core's part of
 *					ironlayer.put_credential())
 * over inputs built to be as costly as possible (test/bench/adversarial.h;
 * the options and scrubber inputs are below), each of SIZE bytes (1 MiB by
 * default, the limit of parse_model and sql_guard). The input itself is not
 * counted. Prints one row per input:
 *	input            parse_model  sql_guard   render from_rec edits/in  json/in    ms
 *	commas                 12.0x      12.0x    27.0x    14.0x    0.00x    0.00x  20.4
 * and the worst ratio of each entry point last.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adversarial.h"
#include "il_dag.h"
#include "il_fernet.h"
#include "il_guard.h"
#include "il_model.h"
#include "il_plan.h"
#include "il_render.h"
#include "il_scrub.h"
#include "il_seal.h"
#include "il_vault.h"
#include "measure.h"
#include "memcount.h"

#ifndef SIZE
#define SIZE ((size_t) 1 << 20)
#endif

/* The peak over the input of parse_model's core work, and its JSON's size. */
static size_t
peak_parse_model(const il_buf *in, size_t *json_len)
{
	long long	base = memcount_start();
	il_model	m;
	il_error	err;
	il_buf		out = IL_BUF_INIT;

	if (il_model_parse(in->data, in->len, &m, &err) == IL_PARSE_OK)
		il_model_to_json(&m, &out);
	il_model_free(&m);
	*json_len = out.len;
	il_buf_free(&out);
	return memcount_peak_since(base);
}

/* The same for sql_guard. */
static size_t
peak_sql_guard(const il_buf *in, size_t *json_len)
{
	long long	base = memcount_start();
	il_guard_result g;
	il_error	err;
	il_buf		out = IL_BUF_INIT;

	if (il_guard_check(in->data, in->len, &g, &err) == IL_PARSE_OK)
		il_guard_to_json(&g, &out);
	il_guard_free(&g);
	*json_len = out.len;
	il_buf_free(&out);
	return memcount_peak_since(base);
}

/* The graph models are rendered against. */
static const il_dag_model graph[] = {
	{"s.t", NULL, {NULL, 0}, {NULL, 0}, {NULL, 0}},
	{"a.a", NULL, {NULL, 0}, {NULL, 0}, {NULL, 0}},
	{"sales.orders", NULL, {NULL, 0}, {NULL, 0}, {NULL, 0}},
};

/* The executor's way: from the edit list (made before, not counted). */
static size_t
peak_render_edits(const il_dag *dag, const il_buf *in, size_t *edits_len)
{
	long long	base;
	il_error	err;
	il_buf		out = IL_BUF_INIT;
	il_buf		edits = IL_BUF_INIT;
	size_t		peak;

	*edits_len = 0;
	if (il_render_edits_text(in->data, in->len, &edits, &err) != 0)
		return 0;
	*edits_len = edits.len;
	base = memcount_start();
	(void) il_render_model_edits(in->data, in->len, (const uint8_t *) edits.data, edits.len, dag, 0,
								 "dev_", "2024-01-01", "2024-01-31", &out, &err);
	il_buf_free(&out);
	peak = memcount_peak_since(base);
	il_buf_free(&edits);
	return peak;
}

static size_t
peak_render(const il_dag *dag, const il_buf *in)
{
	long long	base = memcount_start();
	il_error	err;
	il_buf		out = IL_BUF_INIT;

	(void) il_render_model(in->data, in->len, dag, 0, "dev_", "2024-01-01", "2024-01-31", &out, &err);
	il_buf_free(&out);
	return memcount_peak_since(base);
}

static size_t
peak_options(const il_buf *in)
{
	long long	base = memcount_start();
	il_plan_options o;
	il_error	err;

	il_plan_options_parse(in->data, in->len, &o, &err);
	il_plan_options_free(&o);
	return memcount_peak_since(base);
}

static size_t
peak_scrub(const il_buf *in, unsigned flags)
{
	long long	base = memcount_start();
	il_buf		out = IL_BUF_INIT;

	il_scrub_max(in->data, in->len, flags, 4096, &out);
	il_buf_free(&out);
	return memcount_peak_since(base);
}

/*
 * put_credential's core work for a secret sealed into sealed[0..len):
 * open, fingerprint, encrypt.
 */
static size_t
peak_credential(const il_seal_key *key, const uint8_t *root, const il_buf *sealed)
{
	long long	base = memcount_start();
	il_buf		plain = IL_BUF_INIT;
	il_buf		token = IL_BUF_INIT;
	il_error	err;
	char		fp[IL_VAULT_FINGERPRINT_LEN + 1];

	if (il_seal_open(key, sealed->data, sealed->len, &plain, &err) == 0 &&
		il_vault_fingerprint(root, (const uint8_t *) plain.data, plain.len, fp) == 0)
		(void) il_fernet_encrypt(root, (const uint8_t *) plain.data, plain.len, 0, NULL, &token, &err);
	il_buf_free(&plain);
	il_buf_free(&token);
	return memcount_peak_since(base);
}

/* Options documents (ironlayer.plan()'s jsonb, as JsonbToCString writes it). */
static const char *const option_inputs[] = {
	"same_name", "names", "long_name", "nesting", "unknown_keys", NULL
};

static void
build_options(const char *name, size_t size, il_buf *b)
{
	size_t		k = 0;

	il_buf_reset(b);
	if (strcmp(name, "same_name") == 0)
	{
		il_buf_puts(b, "{\"full_refresh\": [\"a\"");
		adv_fill(b, size - 2, ", \"a\"");
		il_buf_puts(b, "]}");
	}
	else if (strcmp(name, "names") == 0)
	{
		il_buf_puts(b, "{\"full_refresh\": [\"a\"");
		while (b->len + 16 <= size)
		{
			il_buf_puts(b, ", \"");
			adv_name(b, ++k);
			il_buf_putc(b, '"');
		}
		il_buf_puts(b, "]}");
	}
	else if (strcmp(name, "long_name") == 0)
	{
		il_buf_puts(b, "{\"full_refresh\": [\"");
		adv_fill(b, size - 3, "a");
		il_buf_puts(b, "\"]}");
	}
	else if (strcmp(name, "nesting") == 0)
	{
		/* as deep as the parser allows, over and over, in one array */
		il_buf_puts(b, "{\"full_refresh\": [0");
		while (b->len + 2010 <= size)
		{
			il_buf_puts(b, ", ");
			for (k = 0; k < 998; k++)
				il_buf_putc(b, '[');
			for (k = 0; k < 998; k++)
				il_buf_putc(b, ']');
		}
		il_buf_puts(b, "]}");
	}
	else
	{
		/* many members: the parser reads them all before judging a key */
		il_buf_puts(b, "{\"a\": 0");
		while (b->len + 24 <= size)
		{
			il_buf_puts(b, ", \"");
			adv_name(b, ++k);
			il_buf_puts(b, "\": 0");
		}
		il_buf_putc(b, '}');
	}
}

/* Scrubber inputs: text its rules replace, or grow. */
static const char *const scrub_inputs[] = {
	"plain", "emails", "invalid_utf8", "literals", "keys", NULL
};

static void
build_scrub(const char *name, size_t size, il_buf *b)
{
	il_buf_reset(b);
	if (strcmp(name, "plain") == 0)
		adv_fill(b, size, "a ");
	else if (strcmp(name, "emails") == 0)
		adv_fill(b, size, "a@b.cd ");
	else if (strcmp(name, "invalid_utf8") == 0)
		adv_fill(b, size, "\xff");
	else if (strcmp(name, "literals") == 0)
		adv_fill(b, size, "'' ");
	else
		adv_fill(b, size, "0123456789abcdef0123456789abcdef ");
}

int
main(void)
{
	il_buf		in = IL_BUF_INIT;
	double		worst_model = 0;
	double		worst_guard = 0;
	double		worst_render = 0;
	double		worst_options = 0;
	double		worst_scrub = 0;
	const char *worst_model_at = "";
	const char *worst_guard_at = "";
	const char *worst_render_at = "";
	il_dag	   *dag;
	il_error	err;
	const char *worst_options_at = "";
	const char *worst_scrub_at = "";
	int			i;

	if (il_dag_build(graph, sizeof(graph) / sizeof(graph[0]), &dag, &err) != 0)
		return 1;
	printf("core memory per input byte, inputs of %zu bytes (peak live heap / input size)\n", (size_t) SIZE);
	printf("%-16s %11s %10s %8s %8s %8s %8s %8s\n", "input", "parse_model", "sql_guard", "render", "from_rec",
		   "edits/in", "json/in", "ms");
	for (i = 0; adv_names[i] != NULL; i++)
	{
		size_t		json_model;
		size_t		json_guard;
		double		t0;
		double		rm;
		double		rg;
		double		rr;
		double		re;
		size_t		elen;
		double		ms;

		adv_build(adv_names[i], SIZE, &in);
		t0 = now();
		rm = (double) peak_parse_model(&in, &json_model) / (double) in.len;
		ms = (now() - t0) * 1000;
		rg = (double) peak_sql_guard(&in, &json_guard) / (double) in.len;
		rr = (double) peak_render(dag, &in) / (double) in.len;
		re = (double) peak_render_edits(dag, &in, &elen) / (double) in.len;
		if (json_guard > json_model)
			json_model = json_guard;
		printf("%-16s %10.1fx %9.1fx %7.1fx %7.1fx %7.2fx %7.2fx %8.1f\n", adv_names[i], rm, rg, rr, re,
			   (double) elen / (double) in.len, (double) json_model / (double) in.len, ms);
		if (rr > worst_render)
		{
			worst_render = rr;
			worst_render_at = adv_names[i];
		}
		if (rm > worst_model)
		{
			worst_model = rm;
			worst_model_at = adv_names[i];
		}
		if (rg > worst_guard)
		{
			worst_guard = rg;
			worst_guard_at = adv_names[i];
		}
	}
	printf("\n%-16s %11s\n", "options input", "plan options");
	for (i = 0; option_inputs[i] != NULL; i++)
	{
		double		r;

		build_options(option_inputs[i], SIZE, &in);
		r = (double) peak_options(&in) / (double) in.len;
		printf("%-16s %10.1fx\n", option_inputs[i], r);
		if (r > worst_options)
		{
			worst_options = r;
			worst_options_at = option_inputs[i];
		}
	}
	printf("\n%-16s %11s %10s\n", "scrub input", "_scrub", "_scrub sql");
	for (i = 0; scrub_inputs[i] != NULL; i++)
	{
		double		r;
		double		rs;

		build_scrub(scrub_inputs[i], SIZE, &in);
		r = (double) peak_scrub(&in, 0) / (double) in.len;
		rs = (double) peak_scrub(&in, IL_SCRUB_SQL) / (double) in.len;
		printf("%-16s %10.2fx %9.2fx\n", scrub_inputs[i], r, rs);
		if (r > worst_scrub || rs > worst_scrub)
		{
			worst_scrub = r > rs ? r : rs;
			worst_scrub_at = scrub_inputs[i];
		}
	}
	{
		uint8_t		root[32] = {0};
		il_seal_key key;
		il_buf		pub = IL_BUF_INIT;
		il_buf		plain = IL_BUF_INIT;
		il_buf		sealed = IL_BUF_INIT;
		size_t		n = 48 << 10;

		/* the largest secret whose sealed text fits in 64 kB */
		if (il_seal_keypair_from_root(root, &key, &err) != 0)
			return 1;
		il_seal_public_text(&key, &pub);
		for (;;)
		{
			il_buf_reset(&plain);
			adv_fill(&plain, n, "s");
			il_buf_reset(&sealed);
			if (il_seal_seal(pub.data, pub.len, (const uint8_t *) plain.data, plain.len, &sealed, &err) != 0)
				return 1;
			if (sealed.len > (64 << 10))
				break;
			n += 256;
		}
		n -= 256;
		il_buf_reset(&plain);
		adv_fill(&plain, n, "s");
		il_buf_reset(&sealed);
		il_seal_seal(pub.data, pub.len, (const uint8_t *) plain.data, plain.len, &sealed, &err);
		printf("\nput_credential: a sealed secret of %zu bytes (%zu bytes of secret): %.2fx\n",
			   sealed.len, plain.len, (double) peak_credential(&key, root, &sealed) / (double) sealed.len);
		il_buf_free(&pub);
		il_buf_free(&plain);
		il_buf_free(&sealed);
	}
	printf("\nworst: parse_model %.1fx (%s), sql_guard %.1fx (%s), render %.1fx (%s), plan options %.1fx (%s), _scrub %.2fx (%s)\n",
		   worst_model, worst_model_at, worst_guard, worst_guard_at, worst_render, worst_render_at,
		   worst_options, worst_options_at, worst_scrub, worst_scrub_at);
	il_dag_free(dag);
	il_buf_free(&in);
	return 0;
}
