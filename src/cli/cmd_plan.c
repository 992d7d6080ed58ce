/*-------------------------------------------------------------------------
 *
 * cmd_plan.c
 *	  `ironlayer plan`: see cmd_plan.h.
 *
 * Thin: parses the arguments, writes the flags as an options object (keys
 * in order, with "kind" for --refresh and --backfill) for
 * il_plan_options_parse, reads the watermark file with
 * il_plan_watermarks_parse, and prints what il_plan_from_git writes (a
 * refresh or backfill with no base: at COMMIT). A flag of another kind
 * reaches the options parser, which names it ("start is not an option of
 * change plans"). No cache: every run parses the files it lists.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "cmd_plan.h"
#include "il_jsonw.h"
#include "il_plan.h"

#define EXIT_USAGE 2

/* The largest watermark file read (64 MiB). */
#define MAX_WATERMARK_FILE ((size_t) 64 << 20)

/* The arguments of the command. */
typedef struct plan_args
{
	const char *pos[3];			/* REPO BASE HEAD, or REPO COMMIT */
	int			npos;
	const char *as_of;
	const char *environment;
	const char *lookback;
	const char *recompute;
	bool		no_skip_cosmetic;
	const char **full_refresh;	/* argv pointers */
	int			n_full_refresh;
	bool		refresh;
	const char **backfill;		/* argv pointers, each MODEL[,MODEL...] */
	int			n_backfill;
	const char *start;
	const char *end;
	const char *batch_days;
	const char *watermarks;
	const char *models_dir;
} plan_args;

/*
 * Prints the usage to out.
 */
static void
usage(FILE *out)
{
	fprintf(out, "Usage: ironlayer plan REPO BASE HEAD --as-of DATE [--environment E] [--lookback-days N]\n"
			"                      [--recompute-days N] [--no-skip-cosmetic] [--full-refresh MODEL]...\n"
			"                      [--watermarks FILE] [--models-dir DIR]\n"
			"       ironlayer plan REPO COMMIT --refresh --as-of DATE [--environment E] [--lookback-days N]\n"
			"                      [--recompute-days N] [--watermarks FILE] [--models-dir DIR]\n"
			"       ironlayer plan REPO COMMIT --backfill MODEL[,MODEL...] --start DATE --end DATE\n"
			"                      --as-of DATE [--batch-days N] [--environment E] [--watermarks FILE]\n"
			"                      [--models-dir DIR]\n");
}

/*
 * Reports a usage error; returns EXIT_USAGE.
 */
static int
misuse(const char *fmt, const char *arg)
{
	fprintf(stderr, "ironlayer: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	usage(stderr);
	return EXIT_USAGE;
}

/*
 * Sets a single-valued option, refusing it twice.
 */
static int
set_once(const char **slot, const char *v, const char *name)
{
	if (*slot != NULL)
		return misuse("option %s given twice", name);
	*slot = v;
	return -1;
}

/*
 * Parses the arguments. Returns -1 to go on, or the exit status (0 after
 * --help, 2 on misuse).
 */
static int
parse_args(int argc, char **argv, plan_args *a)
{
	int			i;
	int			rc;
	int			want;

	memset(a, 0, sizeof(*a));
	a->full_refresh = calloc((size_t) argc + 1, sizeof(char *));
	a->backfill = calloc((size_t) argc + 1, sizeof(char *));
	if (a->full_refresh == NULL || a->backfill == NULL)
	{
		fprintf(stderr, "ironlayer: out of memory\n");
		return 1;
	}
	for (i = 1; i < argc; i++)
	{
		const char *v;
		bool		bad = false;

		rc = -1;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
		{
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "--no-skip-cosmetic") == 0)
			a->no_skip_cosmetic = true;
		else if (strcmp(argv[i], "--refresh") == 0)
			a->refresh = true;
		else if ((v = il_cli_option_value(argc, argv, &i, "--as-of", &bad)) != NULL)
			rc = set_once(&a->as_of, v, "--as-of");
		else if ((v = il_cli_option_value(argc, argv, &i, "--environment", &bad)) != NULL)
			rc = set_once(&a->environment, v, "--environment");
		else if ((v = il_cli_option_value(argc, argv, &i, "--lookback-days", &bad)) != NULL)
			rc = set_once(&a->lookback, v, "--lookback-days");
		else if ((v = il_cli_option_value(argc, argv, &i, "--recompute-days", &bad)) != NULL)
			rc = set_once(&a->recompute, v, "--recompute-days");
		else if ((v = il_cli_option_value(argc, argv, &i, "--start", &bad)) != NULL)
			rc = set_once(&a->start, v, "--start");
		else if ((v = il_cli_option_value(argc, argv, &i, "--end", &bad)) != NULL)
			rc = set_once(&a->end, v, "--end");
		else if ((v = il_cli_option_value(argc, argv, &i, "--batch-days", &bad)) != NULL)
			rc = set_once(&a->batch_days, v, "--batch-days");
		else if ((v = il_cli_option_value(argc, argv, &i, "--watermarks", &bad)) != NULL)
			rc = set_once(&a->watermarks, v, "--watermarks");
		else if ((v = il_cli_option_value(argc, argv, &i, "--models-dir", &bad)) != NULL)
			rc = set_once(&a->models_dir, v, "--models-dir");
		else if ((v = il_cli_option_value(argc, argv, &i, "--full-refresh", &bad)) != NULL)
			a->full_refresh[a->n_full_refresh++] = v;
		else if ((v = il_cli_option_value(argc, argv, &i, "--backfill", &bad)) != NULL)
			a->backfill[a->n_backfill++] = v;
		else if (bad)
			return misuse("option %s needs a value", argv[i]);
		else if (argv[i][0] == '-' && argv[i][1] == '-')
			return misuse("unknown option \"%s\" for plan", argv[i]);
		else if (a->npos < 3)
			a->pos[a->npos++] = argv[i];
		else
			return misuse("too many arguments for %s", "plan");
		if (rc >= 0)
			return rc;
	}
	if (a->refresh && a->n_backfill > 0)
		return misuse("%s: give --refresh or --backfill, not both", "plan");
	want = a->refresh || a->n_backfill > 0 ? 2 : 3;
	if (a->npos != want)
		return misuse(want == 2 ? "%s --refresh or --backfill needs 2 arguments: REPO COMMIT" :
					  "%s needs 3 arguments: REPO BASE HEAD", "plan");
	if (a->as_of == NULL)
		return misuse("%s needs --as-of DATE (the plan's date, YYYY-MM-DD)", "plan");
	return -1;
}

/*
 * Is s a whole number the JSON writer can take as is (an optional '-' and
 * 1 to 15 digits)?
 */
static bool
small_integer(const char *s)
{
	size_t		i = s[0] == '-' ? 1 : 0;
	size_t		start = i;

	for (; s[i] != '\0'; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return i > start && i - start <= 15;
}

/*
 * Writes the key of the next member (a comma before all but the first).
 */
static void
put_key(il_buf *b, bool *any, const char *key)
{
	if (*any)
		il_buf_putc(b, ',');
	il_jsonw_key(b, key);
	*any = true;
}

/*
 * Writes a member whose value is a number of days: the number when the
 * flag is a plain whole number, else the flag as a string, so the options
 * parser names it in its error. Nothing when the flag was not given.
 */
static void
put_days(il_buf *b, bool *any, const char *key, const char *v)
{
	if (v == NULL)
		return;
	put_key(b, any, key);
	if (small_integer(v))
		il_jsonw_int(b, strtoll(v, NULL, 10));
	else
		il_jsonw_cstring(b, v);
}

/*
 * Writes a member whose value is a string, when the flag was given.
 */
static void
put_string(il_buf *b, bool *any, const char *key, const char *v)
{
	if (v == NULL)
		return;
	put_key(b, any, key);
	il_jsonw_cstring(b, v);
}

/*
 * Writes the flags as an options object (keys in order; only the flags
 * given, and the kind of --refresh or --backfill). The names of
 * --backfill are split at commas.
 */
static void
options_json(const plan_args *a, il_buf *b)
{
	int			i;
	bool		any = false;

	il_buf_putc(b, '{');
	put_days(b, &any, "batch_days", a->batch_days);
	put_string(b, &any, "end", a->end);
	put_string(b, &any, "environment", a->environment);
	if (a->n_full_refresh > 0)
	{
		put_key(b, &any, "full_refresh");
		il_buf_putc(b, '[');
		for (i = 0; i < a->n_full_refresh; i++)
		{
			if (i > 0)
				il_buf_putc(b, ',');
			il_jsonw_cstring(b, a->full_refresh[i]);
		}
		il_buf_putc(b, ']');
	}
	if (a->refresh || a->n_backfill > 0)
		put_string(b, &any, "kind", a->refresh ? "refresh" : "backfill");
	put_days(b, &any, "lookback_days", a->lookback);
	if (a->n_backfill > 0)
	{
		bool		first = true;

		put_key(b, &any, "models");
		il_buf_putc(b, '[');
		for (i = 0; i < a->n_backfill; i++)
		{
			const char *p = a->backfill[i];

			for (;;)
			{
				const char *comma = strchr(p, ',');
				size_t		len = comma != NULL ? (size_t) (comma - p) : strlen(p);

				if (!first)
					il_buf_putc(b, ',');
				il_jsonw_string(b, p, len);
				first = false;
				if (comma == NULL)
					break;
				p = comma + 1;
			}
		}
		il_buf_putc(b, ']');
	}
	put_days(b, &any, "recompute_days", a->recompute);
	if (a->no_skip_cosmetic)
	{
		put_key(b, &any, "skip_cosmetic");
		il_jsonw_bool(b, false);
	}
	put_string(b, &any, "start", a->start);
	il_buf_putc(b, '}');
}

/*
 * Checks that the text flags are UTF-8 (the options are JSON text).
 */
static int
check_utf8(const plan_args *a)
{
	static const struct
	{
		const char *flag;
		size_t		off;
	}			flags[] =
	{
		{"--environment", offsetof(plan_args, environment)},
		{"--lookback-days", offsetof(plan_args, lookback)},
		{"--recompute-days", offsetof(plan_args, recompute)},
		{"--start", offsetof(plan_args, start)},
		{"--end", offsetof(plan_args, end)},
		{"--batch-days", offsetof(plan_args, batch_days)},
	};
	size_t		k;
	int			i;

	for (k = 0; k < sizeof(flags) / sizeof(flags[0]); k++)
	{
		const char *v = *(const char *const *) ((const char *) a + flags[k].off);

		if (v != NULL && !il_utf8_valid(v, strlen(v), NULL))
		{
			fprintf(stderr, "ironlayer: %s: the value is not valid UTF-8\n", flags[k].flag);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	for (i = 0; i < a->n_full_refresh; i++)
		if (!il_utf8_valid(a->full_refresh[i], strlen(a->full_refresh[i]), NULL))
			return misuse("--full-refresh %s is not valid UTF-8", "value");
	for (i = 0; i < a->n_backfill; i++)
		if (!il_utf8_valid(a->backfill[i], strlen(a->backfill[i]), NULL))
			return misuse("--backfill %s is not valid UTF-8", "value");
	return -1;
}

/*
 * ironlayer plan REPO BASE HEAD --as-of DATE ..., or REPO COMMIT --refresh
 * or --backfill ...
 */
int
il_cmd_plan(int argc, char **argv)
{
	plan_args	a;
	il_plan_options opts;
	il_plan_watermarks wms = IL_PLAN_WATERMARKS_INIT;
	il_git_repo *git = NULL;
	il_buf		json = IL_BUF_INIT;
	il_buf		out = IL_BUF_INIT;
	il_error	err;
	il_date		as_of;
	char		plan_id[IL_SHA256_HEX_LEN + 1];
	int			rc;

	il_plan_options_init(&opts);
	il_error_clear(&err);
	rc = parse_args(argc, argv, &a);
	if (rc >= 0 || (rc = check_utf8(&a)) >= 0)
		goto done;
	if (il_date_parse(a.as_of, strlen(a.as_of), &as_of, &err) != 0)
	{
		il_cli_error("--as-of", &err);
		usage(stderr);
		rc = EXIT_USAGE;
		goto done;
	}
	options_json(&a, &json);
	if (json.oom)
	{
		fprintf(stderr, "ironlayer: out of memory\n");
		rc = 1;
		goto done;
	}
	if (il_plan_options_parse(json.data, json.len, &opts, &err) != 0)
	{
		if (il_error_is(&err, IL_ERR_OUT_OF_MEMORY))
			rc = il_cli_error(NULL, &err);
		else
		{
			il_cli_error(NULL, &err);
			usage(stderr);
			rc = EXIT_USAGE;
		}
		goto done;
	}
	if (a.watermarks != NULL)
	{
		il_buf_reset(&json);
		if (!il_cli_read_file(a.watermarks, &json, MAX_WATERMARK_FILE))
		{
			fprintf(stderr, "ironlayer: cannot read the watermark file %s: %s\n", a.watermarks,
					errno == EFBIG ? "larger than 64 MiB" : strerror(errno));
			rc = 1;
			goto done;
		}
		if (il_plan_watermarks_parse(json.data, json.len, &wms, &err) != 0)
		{
			rc = il_cli_error(a.watermarks, &err);
			goto done;
		}
	}
	if (il_git_open(a.pos[0], &git, &err) != 0 ||
		il_plan_from_git(git, a.npos == 3 ? a.pos[1] : NULL, a.pos[a.npos - 1], a.models_dir, NULL, as_of, &opts,
						 wms.items, wms.n, &out, plan_id, NULL, &err) != 0)
	{
		rc = il_cli_error(NULL, &err);
		goto done;
	}
	il_buf_putc(&out, '\n');
	if (out.oom)
	{
		fprintf(stderr, "ironlayer: out of memory\n");
		rc = 1;
		goto done;
	}
	fwrite(out.data, 1, out.len, stdout);
	if (fflush(stdout) != 0)
	{
		fprintf(stderr, "ironlayer: cannot write the output: %s\n", strerror(errno));
		rc = 1;
		goto done;
	}
	rc = 0;
done:
	free(a.full_refresh);
	free(a.backfill);
	il_plan_options_free(&opts);
	il_plan_watermarks_free(&wms);
	il_git_close(git);
	il_buf_free(&json);
	il_buf_free(&out);
	return rc;
}
