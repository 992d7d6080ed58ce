/*-------------------------------------------------------------------------
 *
 * il_plan.c
 *	  The deterministic planner. See il_plan.h for the format and the rules.
 *
 * One plan: check the inputs (date, options, watermarks sorted by lower-
 * cased name), build the head's graph, mark each head model from the diff
 * rows (a merge of two name-ordered lists) and from the watermarks and the
 * full_refresh names, then decide every model in one walk of the graph in
 * topological order. At each model every affected direct upstream is
 * already decided, so one look at them gives the model's affected state,
 * group, cause, run type and range; nothing is written yet. The steps are
 * then put in (group, name) order by a counting sort (models within a group
 * stay in name order) and the plan is written in one go: each step's text
 * goes straight into the plan where it belongs and is hashed there (its
 * upstream steps are in earlier groups, so their ids are known by then).
 * Step texts are never written twice: at 40,000 steps a separate copy was
 * 20 MB more to touch. The plan's id is the hash of the text without it,
 * written into the room left for it before "steps".
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "il_jcs.h"
#include "il_jsonw.h"
#include "il_plan.h"
#include "il_text.h"

/* Longest quoted user text in a message, in bytes. */
#define QUOTE_MAX 60

/* No node. */
#define NONE SIZE_MAX

/* the plan_id member, written after the hash of the text without it */
#define PLAN_ID_KEY ",\"plan_id\":\""
#define PLAN_ID_ROOM (sizeof(PLAN_ID_KEY) - 1 + IL_SHA256_HEX_LEN + 1)

/*
 * Room for one step in the plan text but its names and its depends_on ids:
 * the keys and punctuation, a range, the longer run type and reason, a
 * group number of 20 digits, sql_sha256, the step_id member and the comma
 * before the step (366 bytes at most). The text is reserved from this
 * before any step is written, so it must not fall short: the buffer would
 * grow, copying the text.
 */
#define STEP_ROOM 384
/* one id in depends_on: quoted, with its comma */
#define DEP_ROOM (IL_SHA256_HEX_LEN + 3)

/* What a head model is in the plan (plan_node.flags). */
#define F_ADDED		0x01
#define F_MODIFIED	0x02
#define F_COSMETIC	0x04
#define F_DIRECT	0x08		/* directly changed: changed, due or backfilled */
#define F_AFFECTED	0x10		/* has a step */
#define F_NAMED		0x20		/* named in the full_refresh option */
#define F_WATERMARK 0x40		/* has a watermark (wm_start, wm_end) */
#define F_FULL		0x80		/* its step is FULL_REFRESH */

/* The planner's state of one head model (node i = head model i). */
typedef struct plan_node
{
	uint8_t		flags;
	il_date		start;			/* planned start of an INCREMENTAL step */
	il_date		wm_start;		/* with F_WATERMARK */
	il_date		wm_end;
	size_t		group;			/* parallel_group of its first step */
	size_t		cause;			/* smallest directly changed ancestor, or NONE */
	size_t		downstream_of;	/* X of the reason "downstream of X", or NONE */
	size_t		ndeps;			/* affected direct upstreams */
	size_t		first;			/* number of its first step (model-major) */
} plan_node;

/* A watermark with its lower-cased name, for sorting. */
typedef struct wm_key
{
	const char *name;			/* lower-cased */
	const il_plan_watermark *w;
} wm_key;

/* Watermarks sorted by lower-cased name. */
typedef struct wm_sorted
{
	wm_key	   *keys;
	size_t		n;
	char	   *mem;			/* the lower-cased names */
} wm_sorted;

/*
 * Sets the out-of-memory error; returns -1.
 */
static int
nomem(il_error *err)
{
	il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory");
	return -1;
}

/*
 * Cuts b to at most max bytes at a whole UTF-8 character, ending it with
 * "..." when something was cut.
 */
static void
shorten(il_buf *b, size_t max)
{
	size_t		n = b->len;

	if (b->oom || n <= max)
		return;
	n = il_utf8_boundary(b->data, max - 3);
	b->len = n;
	il_buf_puts(b, "...");
}

/*
 * Writes s[0..len) as a JSON string (escaped, so any bytes are safe to
 * print) into q for a message, cut to QUOTE_MAX bytes.
 */
static const char *
quote_name(il_buf *q, const char *s, size_t len)
{
	il_buf_reset(q);
	il_jsonw_string(q, s, len);
	shorten(q, QUOTE_MAX);
	return q->oom ? "(out of memory)" : il_buf_cstr(q);
}

/*
 * Writes the canonical text of a JSON value into q for a message, cut.
 */
static const char *
quote_value(il_buf *q, const il_jcs_value *v)
{
	il_buf_reset(q);
	il_jcs_write(q, v);
	shorten(q, QUOTE_MAX);
	return q->oom ? "(out of memory)" : il_buf_cstr(q);
}

/*
 * Is name[0..len) the key k?
 */
static bool
is_key(const char *name, size_t len, const char *k)
{
	return len == strlen(k) && memcmp(name, k, len) == 0;
}

/*
 * Is s[0..len) an environment name: 1 to 63 bytes, a lower-case ASCII
 * letter, then lower-case letters, digits, '_' or '-'?
 */
static bool
environment_ok(const char *s, size_t len)
{
	size_t		i;

	if (len < 1 || len > IL_PLAN_ENVIRONMENT_MAX || s[0] < 'a' || s[0] > 'z')
		return false;
	for (i = 1; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

/*
 * Turns a JSON parse error into the error code of the document (options or
 * watermarks), keeping its position.
 */
static int
json_error(il_error *err, il_errcode code, const char *what, const char *suffix)
{
	char		msg[sizeof(err->message)];

	if (il_error_is(err, IL_ERR_OUT_OF_MEMORY))
		return -1;
	memcpy(msg, err->message, sizeof(msg));
	il_error_set(err, code, err->line, err->column, "%s are not valid JSON: line %d, column %d: %s%s",
				 what, err->line, err->column, msg, suffix);
	return -1;
}

/* ---- options ---- */

/* The plan kinds that take an option (a bit per il_plan_kind). */
#define FOR_CHANGE		(1u << IL_PLAN_CHANGE)
#define FOR_REFRESH		(1u << IL_PLAN_REFRESH)
#define FOR_BACKFILL	(1u << IL_PLAN_BACKFILL)
#define FOR_ALL			(FOR_CHANGE | FOR_REFRESH | FOR_BACKFILL)

/* The option keys in key order, and the kinds that take each. */
static const struct
{
	const char *name;
	unsigned	kinds;
}			option_keys[] =
{
	{"batch_days", FOR_BACKFILL},
	{"end", FOR_BACKFILL},
	{"environment", FOR_ALL},
	{"full_refresh", FOR_CHANGE},
	{"kind", FOR_ALL},
	{"lookback_days", FOR_CHANGE | FOR_REFRESH},
	{"models", FOR_BACKFILL},
	{"recompute_days", FOR_CHANGE | FOR_REFRESH},
	{"skip_cosmetic", FOR_CHANGE},
	{"start", FOR_BACKFILL},
};

#define N_OPTION_KEYS (sizeof(option_keys) / sizeof(option_keys[0]))

/* The valid keys of each kind, for messages (as option_keys says). */
static const char *const valid_keys[] = {
	[IL_PLAN_CHANGE] = "options of change plans: environment, full_refresh, kind, lookback_days, recompute_days, skip_cosmetic",
	[IL_PLAN_REFRESH] = "options of refresh plans: environment, kind, lookback_days, recompute_days",
	[IL_PLAN_BACKFILL] = "options of backfill plans: batch_days, end, environment, kind, models, start",
};

/*
 * The name of a plan kind.
 */
const char *
il_plan_kind_name(il_plan_kind kind)
{
	switch (kind)
	{
		case IL_PLAN_CHANGE:
			return "change";
		case IL_PLAN_REFRESH:
			return "refresh";
		case IL_PLAN_BACKFILL:
			return "backfill";
	}
	return "change";
}

/*
 * Is kind one of the three?
 */
static bool
kind_ok(il_plan_kind kind)
{
	return kind == IL_PLAN_CHANGE || kind == IL_PLAN_REFRESH || kind == IL_PLAN_BACKFILL;
}

/*
 * The default options.
 */
void
il_plan_options_init(il_plan_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->kind = IL_PLAN_CHANGE;
	strcpy(opts->environment, "dev");
	opts->lookback_days = 30;
	opts->skip_cosmetic = true;
	opts->batch_days = IL_PLAN_BATCH_DEFAULT;
}

/*
 * Frees the full_refresh and models names (the options stay usable, with
 * none).
 */
void
il_plan_options_free(il_plan_options *opts)
{
	if (opts == NULL)
		return;
	il_free(opts->full_refresh);
	opts->full_refresh = NULL;
	opts->n_full_refresh = 0;
	il_free(opts->models);
	opts->models = NULL;
	opts->n_models = 0;
}

/*
 * Sets an invalid_option error about key of a plan of kind (with its bad
 * value v, or what when v is NULL); returns -1.
 */
static int
bad_option(il_error *err, il_plan_kind kind, const char *key, const il_jcs_value *v, const char *what)
{
	il_buf		q = IL_BUF_INIT;
	const char *valid = valid_keys[kind_ok(kind) ? kind : IL_PLAN_CHANGE];

	if (v != NULL)
		il_error_set(err, IL_ERR_INVALID_OPTION, 0, 0, "invalid option %s: %s %s (%s)",
					 key, quote_value(&q, v), what, valid);
	else
		il_error_set(err, IL_ERR_INVALID_OPTION, 0, 0, "invalid option %s: %s (%s)", key, what, valid);
	il_buf_free(&q);
	return -1;
}

/*
 * Reads an array of model names (full_refresh, models) into *list and *n:
 * one block, the pointers and then the names. At most max names, and at
 * least one when min is 1.
 */
static int
parse_names(const il_jcs_value *v, il_plan_kind kind, const char *key, size_t min, size_t max,
			char ***list, size_t *count, il_error *err)
{
	const il_jcs_value *e;
	size_t		n = il_jcs_count(v);
	size_t		text = 0;
	char	   *at;
	char		what[96];

	snprintf(what, sizeof(what), "is not an array of %s%zu model names", min > 0 ? "1 to " : "at most ", max);
	if (il_jcs_kind_of(v) != IL_JCS_ARRAY || n < min || n > max)
		return bad_option(err, kind, key, v, what);
	for (e = il_jcs_first(v); e != NULL; e = il_jcs_next(e))
	{
		size_t		len;
		const char *s = il_jcs_string(e, &len);

		if (s == NULL || len == 0 || strlen(s) != len)
			return bad_option(err, kind, key, e, "is not a model name (a non-empty string)");
		text += len + 1;
	}
	*list = il_malloc((n + 1) * sizeof(char *) + text);
	if (*list == NULL)
		return nomem(err);
	at = (char *) (*list + n + 1);
	*count = 0;
	for (e = il_jcs_first(v); e != NULL; e = il_jcs_next(e))
	{
		size_t		len;
		const char *s = il_jcs_string(e, &len);

		memcpy(at, s, len + 1);
		(*list)[(*count)++] = at;
		at += len + 1;
	}
	(*list)[n] = NULL;
	return 0;
}

/*
 * Reads a whole number of days from lo to hi.
 */
static int
parse_days(const il_jcs_value *v, il_plan_kind kind, const char *key, int lo, int hi, int *out,
		   il_error *err)
{
	double		d = il_jcs_number(v);
	char		what[64];

	if (il_jcs_kind_of(v) != IL_JCS_NUMBER || !(d >= lo && d <= hi) || d != (double) (int) d)
	{
		snprintf(what, sizeof(what), "is not a whole number of days from %d to %d", lo, hi);
		return bad_option(err, kind, key, v, what);
	}
	*out = (int) d;
	return 0;
}

/*
 * Reads a day "YYYY-MM-DD".
 */
static int
parse_day(const il_jcs_value *v, il_plan_kind kind, const char *key, il_date *out, il_error *err)
{
	size_t		len;
	const char *s = il_jcs_string(v, &len);
	il_error	e2;

	if (s == NULL || il_date_parse(s, len, out, &e2) != 0)
		return bad_option(err, kind, key, v, "is not a day YYYY-MM-DD");
	return 0;
}

/*
 * The number of windows of batch_days days from start to end (both
 * included), start <= end.
 */
static int64_t
batch_count(il_date start, il_date end, int batch_days)
{
	int64_t		days = (int64_t) end - start + 1;

	return (days + batch_days - 1) / batch_days;
}

/*
 * The checks of the values together, for parsed options and for options
 * a caller made: the kind, the ranges, no list of another kind, no
 * recompute_days in a backfill, a backfill's models, range and batches.
 */
static int
check_options(const il_plan_options *o, il_error *err)
{
	il_plan_kind kind = o->kind;
	char		what[160];

	if (!kind_ok(kind))
		return bad_option(err, IL_PLAN_CHANGE, "kind", NULL, "is not change, refresh or backfill");
	if (!environment_ok(o->environment, strnlen(o->environment, sizeof(o->environment))))
		return bad_option(err, kind, "environment", NULL, "is not an environment name");
	if (o->lookback_days < 1 || o->lookback_days > IL_PLAN_LOOKBACK_MAX)
		return bad_option(err, kind, "lookback_days", NULL, "must be from 1 to 3650");
	if (o->recompute_days < 0 || o->recompute_days > IL_PLAN_RECOMPUTE_MAX)
		return bad_option(err, kind, "recompute_days", NULL, "must be from 0 to 3650");
	if (o->n_full_refresh > 0 && o->full_refresh == NULL)
		return bad_option(err, kind, "full_refresh", NULL, "the list is missing");
	if (o->n_models > 0 && o->models == NULL)
		return bad_option(err, kind, "models", NULL, "the list is missing");
	if (kind != IL_PLAN_CHANGE && o->n_full_refresh > 0)
		return bad_option(err, kind, "full_refresh", NULL, kind == IL_PLAN_REFRESH ?
						  "is not an option of refresh plans" : "is not an option of backfill plans");
	if (kind == IL_PLAN_BACKFILL && o->recompute_days != 0)
		return bad_option(err, kind, "recompute_days", NULL, "is not an option of backfill plans");
	if (kind != IL_PLAN_BACKFILL && o->n_models > 0)
		return bad_option(err, kind, "models", NULL, kind == IL_PLAN_CHANGE ?
						  "is not an option of change plans" : "is not an option of refresh plans");
	if (kind != IL_PLAN_BACKFILL)
		return 0;
	if (o->n_models == 0 || o->n_models > IL_PLAN_MODELS_MAX)
		return bad_option(err, kind, "models", NULL, "backfill plans need 1 to 1000 model names");
	if (!il_date_valid(o->start) || !il_date_valid(o->end))
		return bad_option(err, kind, il_date_valid(o->start) ? "end" : "start", NULL,
						  "backfill plans need a start and an end day");
	if (o->start > o->end)
	{
		char		s[IL_DATE_LEN + 1];
		char		e[IL_DATE_LEN + 1];

		il_date_format(o->start, s);
		il_date_format(o->end, e);
		snprintf(what, sizeof(what), "start %s is after end %s", s, e);
		return bad_option(err, kind, "start", NULL, what);
	}
	if (o->batch_days < 1 || o->batch_days > IL_PLAN_BATCH_MAX)
		return bad_option(err, kind, "batch_days", NULL, "must be from 1 to 3650");
	if (batch_count(o->start, o->end, o->batch_days) > IL_PLAN_BATCHES_MAX)
	{
		snprintf(what, sizeof(what), "%d days make %lld batches of the range (at most %d): give more days a batch",
				 o->batch_days, (long long) batch_count(o->start, o->end, o->batch_days), IL_PLAN_BATCHES_MAX);
		return bad_option(err, kind, "batch_days", NULL, what);
	}
	return 0;
}

/*
 * Reads the options object; on error *opts holds the defaults.
 */
int
il_plan_options_parse(const char *json, size_t len, il_plan_options *opts, il_error *err)
{
	static const char *const all_keys =
		"options: batch_days, end, environment, full_refresh, kind, lookback_days, models, recompute_days, skip_cosmetic, start";
	il_jcs_doc *doc;
	const il_jcs_value *root;
	const il_jcs_value *v;
	il_plan_options o;
	int			ret = -1;

	il_plan_options_init(opts);
	il_plan_options_init(&o);
	il_error_clear(err);
	o.start = o.end = IL_DATE_MIN - 1;
	doc = il_jcs_parse(json != NULL ? json : "", json != NULL ? len : 0, err);
	if (doc == NULL)
	{
		char		suffix[160];

		snprintf(suffix, sizeof(suffix), " (%s)", all_keys);
		return json_error(err, IL_ERR_INVALID_OPTION, "options", suffix);
	}
	root = il_jcs_root(doc);
	if (il_jcs_kind_of(root) != IL_JCS_OBJECT)
	{
		il_buf		q = IL_BUF_INIT;

		il_error_set(err, IL_ERR_INVALID_OPTION, 0, 0, "options must be a JSON object, not %s (%s)",
					 quote_value(&q, root), all_keys);
		il_buf_free(&q);
		goto done;
	}
	/* the kind first: it decides which keys are valid */
	if ((v = il_jcs_get(root, "kind")) != NULL)
	{
		size_t		slen;
		const char *s = il_jcs_string(v, &slen);

		if (s != NULL && is_key(s, slen, "refresh"))
			o.kind = IL_PLAN_REFRESH;
		else if (s != NULL && is_key(s, slen, "backfill"))
			o.kind = IL_PLAN_BACKFILL;
		else if (s == NULL || !is_key(s, slen, "change"))
		{
			il_buf		q = IL_BUF_INIT;

			il_error_set(err, IL_ERR_INVALID_OPTION, 0, 0,
						 "invalid option kind: %s is not a plan kind (give \"change\", \"refresh\" or \"backfill\"; %s)",
						 quote_value(&q, v), all_keys);
			il_buf_free(&q);
			goto done;
		}
	}
	/* members come in key order, so the first bad one is always the same */
	for (v = il_jcs_first(root); v != NULL; v = il_jcs_next(v))
	{
		size_t		nlen;
		const char *name = il_jcs_name(v, &nlen);
		size_t		k;

		for (k = 0; k < N_OPTION_KEYS; k++)
			if (is_key(name, nlen, option_keys[k].name))
				break;
		if (k == N_OPTION_KEYS)
		{
			il_buf		q = IL_BUF_INIT;

			il_error_set(err, IL_ERR_INVALID_OPTION, 0, 0, "unknown option %s (%s)",
						 quote_name(&q, name, nlen), valid_keys[o.kind]);
			il_buf_free(&q);
			goto done;
		}
		if ((option_keys[k].kinds & (1u << o.kind)) == 0)
		{
			char		what[64];

			snprintf(what, sizeof(what), "%s is not an option of %s plans", option_keys[k].name,
					 il_plan_kind_name(o.kind));
			bad_option(err, o.kind, option_keys[k].name, NULL, what);
			goto done;
		}
		if (is_key(name, nlen, "environment"))
		{
			size_t		slen;
			const char *s = il_jcs_string(v, &slen);

			if (s == NULL || !environment_ok(s, slen))
			{
				bad_option(err, o.kind, "environment", v,
						   "is not an environment name (1 to 63 of a-z, 0-9, '_', '-'; a letter first)");
				goto done;
			}
			memcpy(o.environment, s, slen + 1);
		}
		else if (is_key(name, nlen, "lookback_days"))
		{
			if (parse_days(v, o.kind, "lookback_days", 1, IL_PLAN_LOOKBACK_MAX, &o.lookback_days, err) != 0)
				goto done;
		}
		else if (is_key(name, nlen, "recompute_days"))
		{
			if (parse_days(v, o.kind, "recompute_days", 0, IL_PLAN_RECOMPUTE_MAX, &o.recompute_days, err) != 0)
				goto done;
		}
		else if (is_key(name, nlen, "batch_days"))
		{
			if (parse_days(v, o.kind, "batch_days", 1, IL_PLAN_BATCH_MAX, &o.batch_days, err) != 0)
				goto done;
		}
		else if (is_key(name, nlen, "skip_cosmetic"))
		{
			if (il_jcs_kind_of(v) != IL_JCS_TRUE && il_jcs_kind_of(v) != IL_JCS_FALSE)
			{
				bad_option(err, o.kind, "skip_cosmetic", v, "is not true or false");
				goto done;
			}
			o.skip_cosmetic = il_jcs_kind_of(v) == IL_JCS_TRUE;
		}
		else if (is_key(name, nlen, "full_refresh"))
		{
			if (parse_names(v, o.kind, "full_refresh", 0, SIZE_MAX / 2, &o.full_refresh, &o.n_full_refresh, err) != 0)
				goto done;
		}
		else if (is_key(name, nlen, "models"))
		{
			if (parse_names(v, o.kind, "models", 1, IL_PLAN_MODELS_MAX, &o.models, &o.n_models, err) != 0)
				goto done;
		}
		else if (is_key(name, nlen, "start"))
		{
			if (parse_day(v, o.kind, "start", &o.start, err) != 0)
				goto done;
		}
		else if (is_key(name, nlen, "end"))
		{
			if (parse_day(v, o.kind, "end", &o.end, err) != 0)
				goto done;
		}
	}
	if (o.kind == IL_PLAN_BACKFILL && (o.n_models == 0 || !il_date_valid(o.start) || !il_date_valid(o.end)))
	{
		bad_option(err, o.kind, o.n_models == 0 ? "models" : !il_date_valid(o.start) ? "start" : "end", NULL,
				   "backfill plans need models, start and end");
		goto done;
	}
	if (o.kind != IL_PLAN_BACKFILL)
		o.start = o.end = 0;
	if (check_options(&o, err) != 0)
		goto done;
	*opts = o;
	o.full_refresh = NULL;
	o.n_full_refresh = 0;
	o.models = NULL;
	o.n_models = 0;
	ret = 0;
done:
	il_plan_options_free(&o);
	il_jcs_free(doc);
	return ret;
}

/* ---- watermarks ---- */

/*
 * Frees parsed watermarks (also after a failed parse).
 */
void
il_plan_watermarks_free(il_plan_watermarks *w)
{
	if (w == NULL)
		return;
	il_free(w->items);
	il_free(w->mem);
	w->items = NULL;
	w->mem = NULL;
	w->n = 0;
}

/*
 * Sets an invalid_watermark error about model name[0..len); returns -1.
 */
static int
bad_watermark(il_error *err, const char *name, size_t len, const char *what)
{
	il_buf		q = IL_BUF_INIT;

	il_error_set(err, IL_ERR_INVALID_WATERMARK, 0, 0, "invalid watermark of model %s: %s", quote_name(&q, name, len), what);
	il_buf_free(&q);
	return -1;
}

/*
 * Reads the command's watermark file format.
 */
int
il_plan_watermarks_parse(const char *json, size_t len, il_plan_watermarks *out, il_error *err)
{
	static const char *const form = "give {\"start\": \"YYYY-MM-DD\", \"end\": \"YYYY-MM-DD\"}";
	il_jcs_doc *doc;
	const il_jcs_value *root;
	const il_jcs_value *v;
	size_t		bytes = 0;
	size_t		used = 0;
	int			ret = -1;

	memset(out, 0, sizeof(*out));
	il_error_clear(err);
	doc = il_jcs_parse(json != NULL ? json : "", json != NULL ? len : 0, err);
	if (doc == NULL)
		return json_error(err, IL_ERR_INVALID_WATERMARK, "watermarks", "");
	root = il_jcs_root(doc);
	if (il_jcs_kind_of(root) != IL_JCS_OBJECT)
	{
		il_error_set(err, IL_ERR_INVALID_WATERMARK, 0, 0,
					 "watermarks must be a JSON object: {\"<model>\": {\"start\": \"YYYY-MM-DD\", \"end\": \"YYYY-MM-DD\"}, ...}");
		goto done;
	}
	for (v = il_jcs_first(root); v != NULL; v = il_jcs_next(v))
	{
		size_t		nlen;

		il_jcs_name(v, &nlen);
		bytes += nlen + 1;
	}
	out->items = il_calloc(il_jcs_count(root) + 1, sizeof(il_plan_watermark));
	out->mem = il_malloc(bytes + 1);
	if (out->items == NULL || out->mem == NULL)
	{
		nomem(err);
		goto done;
	}
	for (v = il_jcs_first(root); v != NULL; v = il_jcs_next(v))
	{
		size_t		nlen;
		const char *name = il_jcs_name(v, &nlen);
		const il_jcs_value *s = il_jcs_get(v, "start");
		const il_jcs_value *e = il_jcs_get(v, "end");
		const char *st;
		const char *en;
		size_t		slen = 0;
		size_t		elen = 0;
		il_plan_watermark *w = &out->items[out->n];

		if (nlen == 0 || strlen(name) != nlen)
		{
			bad_watermark(err, name, nlen, "a model name must be a non-empty string");
			goto done;
		}
		st = il_jcs_string(s, &slen);
		en = il_jcs_string(e, &elen);
		if (il_jcs_kind_of(v) != IL_JCS_OBJECT || il_jcs_count(v) != 2 || st == NULL || en == NULL)
		{
			bad_watermark(err, name, nlen, form);
			goto done;
		}
		if (il_date_parse(st, slen, &w->start, err) != 0 || il_date_parse(en, elen, &w->end, err) != 0)
		{
			char		msg[sizeof(err->message)];

			memcpy(msg, err->message, sizeof(msg));
			bad_watermark(err, name, nlen, msg);
			goto done;
		}
		if (w->start > w->end)
		{
			char		what[64];

			snprintf(what, sizeof(what), "start %.10s is after end %.10s", st, en);
			bad_watermark(err, name, nlen, what);
			goto done;
		}
		memcpy(out->mem + used, name, nlen + 1);
		w->model = out->mem + used;
		used += nlen + 1;
		out->n++;
	}
	ret = 0;
done:
	if (ret != 0)
		il_plan_watermarks_free(out);
	il_jcs_free(doc);
	return ret;
}

/*
 * Orders watermark keys by name.
 */
static int
cmp_wm_key(const void *a, const void *b)
{
	return strcmp(((const wm_key *) a)->name, ((const wm_key *) b)->name);
}

/*
 * Sorts the watermarks by lower-cased name and checks them in that order:
 * days in range, start not after end, one per model.
 */
static int
wm_prepare(const il_plan_watermark *wms, size_t nwm, wm_sorted *ws, il_error *err)
{
	size_t		bytes = 0;
	size_t		used = 0;
	size_t		i;

	memset(ws, 0, sizeof(*ws));
	for (i = 0; i < nwm; i++)
		bytes += strlen(wms[i].model ? wms[i].model : "") + 1;
	ws->keys = il_malloc((nwm + 1) * sizeof(wm_key));
	ws->mem = il_malloc(bytes + 1);
	if (ws->keys == NULL || ws->mem == NULL)
		return nomem(err);
	for (i = 0; i < nwm; i++)
	{
		const char *s = wms[i].model ? wms[i].model : "";
		char	   *d = ws->mem + used;
		size_t		k;

		for (k = 0; s[k] != '\0'; k++)
			d[k] = (s[k] >= 'A' && s[k] <= 'Z') ? (char) (s[k] + ('a' - 'A')) : s[k];
		d[k] = '\0';
		used += k + 1;
		ws->keys[i].name = d;
		ws->keys[i].w = &wms[i];
	}
	ws->n = nwm;
	if (nwm > 1)
		qsort(ws->keys, nwm, sizeof(wm_key), cmp_wm_key);
	for (i = 0; i < nwm; i++)
	{
		const il_plan_watermark *w = ws->keys[i].w;
		const char *name = ws->keys[i].name;

		if (name[0] == '\0')
			return bad_watermark(err, name, 0, "a model name must be a non-empty string");
		if (!il_date_valid(w->start) || !il_date_valid(w->end))
			return bad_watermark(err, name, strlen(name), "a day is outside 0001-01-01 to 9999-12-31");
		if (w->start > w->end)
		{
			char		what[64];
			char		s[IL_DATE_LEN + 1];
			char		e[IL_DATE_LEN + 1];

			il_date_format(w->start, s);
			il_date_format(w->end, e);
			snprintf(what, sizeof(what), "start %s is after end %s", s, e);
			return bad_watermark(err, name, strlen(name), what);
		}
		if (i > 0 && strcmp(ws->keys[i - 1].name, name) == 0)
			return bad_watermark(err, name, strlen(name), "the model has two watermarks");
	}
	return 0;
}

/*
 * Frees sorted watermarks.
 */
static void
wm_free(wm_sorted *ws)
{
	il_free(ws->keys);
	il_free(ws->mem);
	memset(ws, 0, sizeof(*ws));
}

/* ---- the plan ---- */

/*
 * One plan being made. Steps are numbered model-major (the steps of an
 * affected model, window after window, then those of the next model in
 * name order): step number nodes[v].first + k is window k of model v. A
 * model whose step is INCREMENTAL has `windows` steps (1 but in a
 * backfill), a FULL_REFRESH one has one.
 */
typedef struct planner
{
	const il_repo_diff_result *diff;
	const il_repo_models *head;
	const il_plan_options *opts;
	il_date		as_of;
	plan_node  *nodes;
	size_t		windows;		/* steps of an INCREMENTAL model */
	size_t		nsteps;
	size_t	   *order;			/* plan order: step numbers */
	size_t	   *node_of;		/* step number -> model */
	char		(*ids)[IL_SHA256_HEX_LEN + 1];	/* by step number, once written */
	size_t	   *up;				/* room for one step's upstream step numbers */
	const char **deps;			/* room for one step's depends_on */
	char		direct_reason[48];	/* of a directly changed, not added model */
	il_buf		scratch;
} planner;

/*
 * Checks the inputs that do not need the repository: as_of, the options'
 * values, the watermarks (sorted into *ws).
 */
static int
check_inputs(il_date as_of, const il_plan_options *opts, const il_plan_watermark *wms, size_t nwm,
			 wm_sorted *ws, il_error *err)
{
	memset(ws, 0, sizeof(*ws));
	if (!il_date_valid(as_of))
	{
		il_error_set(err, IL_ERR_INVALID_DATE, 0, 0, "invalid as_of: day %ld is outside 0001-01-01 to 9999-12-31",
					 (long) as_of);
		return -1;
	}
	if (check_options(opts, err) != 0)
		return -1;
	return wm_prepare(wms, nwm, ws, err);
}

/*
 * Orders step ids (pointers to 64 hex characters).
 */
static int
cmp_id(const void *a, const void *b)
{
	return memcmp(*(const char *const *) a, *(const char *const *) b, IL_SHA256_HEX_LEN);
}

/*
 * Appends a JSON array of the names of the head models whose flags have
 * all the bits of want, in name order.
 */
static void
put_names(il_buf *b, const il_repo_models *head, const plan_node *nodes, uint8_t want)
{
	size_t		i;
	bool		first = true;

	il_buf_putc(b, '[');
	for (i = 0; i < head->n; i++)
		if ((nodes[i].flags & want) == want)
		{
			if (!first)
				il_buf_putc(b, ',');
			il_jsonw_cstring(b, head->models[i].name);
			first = false;
		}
	il_buf_putc(b, ']');
}

/*
 * Appends a date as a JSON string.
 */
static void
put_date(il_buf *b, il_date d)
{
	char		s[IL_DATE_LEN + 1];

	il_date_format(d, s);
	il_buf_putc(b, '"');
	il_buf_append(b, s, IL_DATE_LEN);
	il_buf_putc(b, '"');
}

/*
 * The kind of a model as its step names it.
 */
static const char *
kind_name(const il_repo_model *md)
{
	return md->kind_name != NULL ? md->kind_name : "FULL_REFRESH";
}

/*
 * The materialization of a model as its step names it.
 */
static const char *
materialization_name(const il_repo_model *md)
{
	return md->materialization_name != NULL ? md->materialization_name : "TABLE";
}

/*
 * Is a model of a kind with date ranges (INCREMENTAL_BY_TIME_RANGE or
 * APPEND_ONLY)?
 */
static bool
is_incremental(const il_repo_model *md)
{
	return md->kind == IL_KIND_INCREMENTAL_BY_TIME_RANGE || md->kind == IL_KIND_APPEND_ONLY;
}

/*
 * Marks the head models from the diff rows (both in name order).
 */
static void
mark_changes(const il_repo_diff_result *diff, plan_node *nodes, bool skip_cosmetic)
{
	const il_repo_models *head = diff->head;
	size_t		j = 0;
	size_t		r;

	for (r = 0; r < diff->n; r++)
	{
		const il_repo_change *row = &diff->rows[r];
		int			c = 1;

		if (row->change == IL_CHANGE_REMOVED)
			continue;
		while (j < head->n && (c = strcmp(head->models[j].name, row->model)) < 0)
			j++;
		if (j == head->n || c != 0)
			continue;
		switch (row->change)
		{
			case IL_CHANGE_ADDED:
				nodes[j].flags |= F_ADDED | F_DIRECT;
				break;
			case IL_CHANGE_MODIFIED:
				nodes[j].flags |= F_MODIFIED | F_DIRECT;
				break;
			case IL_CHANGE_COSMETIC:
				nodes[j].flags |= F_COSMETIC;
				if (!skip_cosmetic)
					nodes[j].flags |= F_DIRECT;
				break;
			case IL_CHANGE_REMOVED:
				break;
		}
	}
}

/*
 * Marks the head models that have a watermark (both lists in name order).
 */
static void
mark_watermarks(const il_repo_models *head, const wm_sorted *ws, plan_node *nodes)
{
	size_t		j = 0;
	size_t		i;

	for (i = 0; i < ws->n; i++)
	{
		int			c = 1;

		while (j < head->n && (c = strcmp(head->models[j].name, ws->keys[i].name)) < 0)
			j++;
		if (j == head->n)
			break;
		if (c == 0)
		{
			nodes[j].flags |= F_WATERMARK;
			nodes[j].wm_start = ws->keys[i].w->start;
			nodes[j].wm_end = ws->keys[i].w->end;
		}
	}
}

/*
 * Resolves the names of an option (full_refresh, models) against the
 * head's graph and marks their models with flag.
 */
static int
mark_named(const il_repo_models *head, char *const *names, size_t n, const char *key, uint8_t flag,
		   plan_node *nodes, il_error *err)
{
	size_t		i;

	for (i = 0; i < n; i++)
	{
		size_t		node;

		if (il_dag_find(head->dag, names[i], &node, err) != 0)
		{
			char		msg[sizeof(err->message)];

			if (il_error_is(err, IL_ERR_OUT_OF_MEMORY))
				return -1;
			memcpy(msg, err->message, sizeof(msg));
			il_error_set(err, IL_ERR_INVALID_OPTION, 0, 0, "invalid option %s: %s", key, msg);
			return -1;
		}
		nodes[node].flags |= flag;
	}
	return 0;
}

/*
 * Marks the models due in a refresh: every model with date ranges that has
 * no watermark or one ending before as_of, or any such model when the
 * last days are recomputed; then every model without date ranges that
 * reads sources (tables that are no models) and feeds a due model, directly
 * or through others: its sources may hold new rows too, and a due model
 * must not load its new days from a stale copy of them. The second part is
 * one pass in reverse topological order (a model feeds a due model when
 * one of its direct downstreams is due or feeds one).
 */
static int
mark_due(const il_repo_models *head, plan_node *nodes, il_date as_of, int recompute_days, il_error *err)
{
	const il_dag *dag = head->dag;
	uint8_t    *feeds;
	size_t		i;

	for (i = 0; i < head->n; i++)
		if (is_incremental(&head->models[i]) &&
			(recompute_days > 0 || (nodes[i].flags & F_WATERMARK) == 0 || nodes[i].wm_end < as_of))
			nodes[i].flags |= F_DIRECT;
	feeds = il_calloc(head->n + 1, 1);
	if (feeds == NULL)
	{
		nomem(err);
		return -1;
	}
	for (i = head->n; i-- > 0;)
	{
		size_t		v = dag->order[i];
		size_t		e;

		for (e = dag->down_off[v]; e < dag->down_off[v + 1] && !feeds[v]; e++)
			if ((nodes[dag->down[e]].flags & F_DIRECT) != 0 || feeds[dag->down[e]])
				feeds[v] = 1;
		if (feeds[v] && !is_incremental(&head->models[v]) && dag->src_off[v + 1] > dag->src_off[v])
			nodes[v].flags |= F_DIRECT;
	}
	il_free(feeds);
	return 0;
}

/*
 * Checks each model named in a backfill, in name order: it has date
 * ranges, the range ends by as_of and lies within its history.
 */
static int
check_backfill(const planner *P, il_error *err)
{
	const il_plan_options *o = P->opts;
	char		s[IL_DATE_LEN + 1];
	char		e[IL_DATE_LEN + 1];
	char		d[IL_DATE_LEN + 1];
	size_t		i;

	il_date_format(o->start, s);
	il_date_format(o->end, e);
	for (i = 0; i < P->head->n; i++)
	{
		const il_repo_model *md = &P->head->models[i];
		const plan_node *nv = &P->nodes[i];
		const char *name = md->name;

		if ((nv->flags & F_DIRECT) == 0)
			continue;
		if (!is_incremental(md))
		{
			il_error_set(err, IL_ERR_INVALID_BACKFILL, 0, 0,
						 "range %s..%s of %s cannot be backfilled: %s is %s: it has no date range", s, e,
						 name, name, kind_name(md));
			return -1;
		}
		if (o->end > P->as_of)
		{
			il_date_format(P->as_of, d);
			il_error_set(err, IL_ERR_INVALID_BACKFILL, 0, 0, "range %s..%s of %s ends after as_of %s", s, e,
						 name, d);
			return -1;
		}
		if ((nv->flags & F_WATERMARK) == 0)
		{
			il_error_set(err, IL_ERR_INVALID_BACKFILL, 0, 0,
						 "range %s..%s of %s is beyond its history: nothing of it is loaded yet (no watermark)",
						 s, e, name);
			return -1;
		}
		if (o->start < nv->wm_start)
		{
			il_date_format(nv->wm_start, d);
			il_error_set(err, IL_ERR_INVALID_BACKFILL, 0, 0,
						 "range %s..%s of %s starts before its history (first day loaded %s)", s, e, name, d);
			return -1;
		}
		if (o->end > nv->wm_end)
		{
			il_date_format(nv->wm_end, d);
			il_error_set(err, IL_ERR_INVALID_BACKFILL, 0, 0,
						 "range %s..%s of %s ends after its history (last day loaded %s)", s, e, name, d);
			return -1;
		}
	}
	return 0;
}

/*
 * The number of steps of decided, affected model v.
 */
static size_t
windows_of(const planner *P, size_t v)
{
	return (P->nodes[v].flags & F_FULL) != 0 ? 1 : P->windows;
}

/*
 * Decides model v, all its upstreams decided: whether it is affected, its
 * group, cause, run type and range, and what its steps' text will need
 * (the number of its upstream steps, the model its reason names). Nothing
 * is written here: the text goes into the plan in the plan's order
 * (write_step), which is only known once every model is decided.
 *
 * The group is that of v's first step. Window k of an INCREMENTAL model is
 * in its group + k (window k depends on window k - 1 and on window k of
 * each INCREMENTAL upstream, whose group + k is smaller), so a
 * FULL_REFRESH model, which waits for the last window of each upstream, is
 * one group after the largest group + windows - 1 of them.
 */
static void
decide_model(planner *P, size_t v)
{
	const il_repo_models *head = P->head;
	const il_dag *dag = head->dag;
	const il_repo_model *md = &head->models[v];
	plan_node  *nodes = P->nodes;
	plan_node  *nv = &nodes[v];
	bool		affected = (nv->flags & F_DIRECT) != 0;
	bool		full_up = false;
	il_date		up_start = IL_DATE_MAX;
	size_t		group_first = 0;
	size_t		group_last = 0;
	size_t		direct_parent = NONE;
	size_t		cause = NONE;
	size_t		ndeps = 0;
	size_t		e;

	for (e = dag->up_off[v]; e < dag->up_off[v + 1]; e++)
	{
		size_t		p = dag->up[e];
		const plan_node *np = &nodes[p];

		if ((np->flags & F_AFFECTED) == 0)
			continue;
		affected = true;
		if (np->group + 1 > group_first)
			group_first = np->group + 1;
		if (np->group + windows_of(P, p) > group_last)
			group_last = np->group + windows_of(P, p);
		if ((np->flags & F_FULL) != 0)
			full_up = true;
		else if (np->start < up_start)
			up_start = np->start;
		if ((np->flags & F_DIRECT) != 0)
		{
			/* upstreams are in name order: the first is the smallest */
			if (direct_parent == NONE)
				direct_parent = p;
			if (p < cause)
				cause = p;
		}
		if (np->cause < cause)
			cause = np->cause;
		ndeps++;
	}
	if (!affected)
		return;
	nv->flags |= F_AFFECTED;
	nv->cause = cause;
	nv->ndeps = ndeps;
	/* only a step that is not directly changed is "downstream of" */
	if ((nv->flags & F_DIRECT) == 0)
		nv->downstream_of = direct_parent != NONE ? direct_parent : cause;

	/* run type and range */
	if (P->opts->kind == IL_PLAN_BACKFILL && (nv->flags & F_DIRECT) != 0)
		;						/* a named model: its windows */
	else if ((nv->flags & (F_ADDED | F_NAMED)) != 0 || !is_incremental(md)
			 || (full_up && P->opts->kind == IL_PLAN_CHANGE))
		nv->flags |= F_FULL;
	if ((nv->flags & F_FULL) == 0 && P->opts->kind != IL_PLAN_BACKFILL)
	{
		il_date		start = (nv->flags & F_WATERMARK) != 0 ? nv->wm_end :
			il_date_add_days(P->as_of, -(int64_t) P->opts->lookback_days);

		if (P->opts->recompute_days > 0)
		{
			il_date		r = il_date_add_days(P->as_of, -(int64_t) P->opts->recompute_days);

			if (r < start)
				start = r;
		}
		if (up_start < start)
			start = up_start;
		if (start > P->as_of)
			start = P->as_of;
		nv->start = start;
	}
	nv->group = (nv->flags & F_FULL) != 0 ? group_last : group_first;
}

/*
 * The upstream steps of window k of model v (step numbers, into up): the
 * window before it; then per affected direct upstream p, in name order:
 * p's step when p is FULL_REFRESH, else p's last window when v is
 * FULL_REFRESH, else p's window k. With one window a model, the steps of
 * the affected direct upstreams.
 */
static size_t
step_upstream(const planner *P, size_t v, size_t k, size_t *up)
{
	const il_dag *dag = P->head->dag;
	const plan_node *nv = &P->nodes[v];
	size_t		n = 0;
	size_t		e;

	if (k > 0)
		up[n++] = nv->first + k - 1;
	for (e = dag->up_off[v]; e < dag->up_off[v + 1]; e++)
	{
		const plan_node *np = &P->nodes[dag->up[e]];

		if ((np->flags & F_AFFECTED) == 0)
			continue;
		if ((np->flags & F_FULL) != 0)
			up[n++] = np->first;
		else if ((nv->flags & F_FULL) != 0)
			up[n++] = np->first + P->windows - 1;
		else
			up[n++] = np->first + k;
	}
	return n;
}

/*
 * The range of window k of INCREMENTAL model v: in a backfill the k-th
 * window of batch_days days of the range, else the model's planned start
 * to as_of.
 */
static void
step_range(const planner *P, size_t v, size_t k, il_date *start, il_date *end)
{
	const il_plan_options *o = P->opts;

	if (o->kind == IL_PLAN_BACKFILL)
	{
		*start = il_date_add_days(o->start, (int64_t) k * o->batch_days);
		*end = il_date_add_days(*start, o->batch_days - 1);
		if (*end > o->end)
			*end = o->end;
	}
	else
	{
		*start = P->nodes[v].start;
		*end = P->as_of;
	}
}

/*
 * The most bytes the steps of decided model v take in the plan text, with
 * their step_ids and the commas before them, unless names need escaping.
 */
static size_t
step_room(const planner *P, size_t v)
{
	const il_repo_model *md = &P->head->models[v];
	const plan_node *nv = &P->nodes[v];
	size_t		room = STEP_ROOM + strlen(P->direct_reason) + strlen(kind_name(md)) +
		strlen(materialization_name(md)) + strlen(md->name) + (nv->ndeps + 1) * DEP_ROOM;

	if (nv->downstream_of != NONE)
		room += strlen(P->head->models[nv->downstream_of].name);
	return room * windows_of(P, v);
}

/*
 * Appends step number s to out: its text without step_id (keys in order,
 * ending in '}'), hashed where it lies into its id, then that closing
 * brace turned into the step_id member (the last key). Its upstream steps
 * are in earlier groups, so they are written and their ids known.
 */
static int
write_step(planner *P, size_t s, il_buf *out, il_error *err)
{
	const il_repo_models *head = P->head;
	size_t		v = P->node_of[s];
	size_t		k = s - P->nodes[v].first;
	const il_repo_model *md = &head->models[v];
	const plan_node *nv = &P->nodes[v];
	il_buf	   *scratch = &P->scratch;
	size_t		off = out->len;
	size_t		ndeps = step_upstream(P, v, k, P->up);
	size_t		i;

	for (i = 0; i < ndeps; i++)
		P->deps[i] = P->ids[P->up[i]];
	if (ndeps > 1)
		qsort(P->deps, ndeps, sizeof(char *), cmp_id);

	il_buf_puts(out, "{\"depends_on\":[");
	for (i = 0; i < ndeps; i++)
	{
		if (i > 0)
			il_buf_putc(out, ',');
		il_buf_putc(out, '"');
		il_buf_append(out, P->deps[i], IL_SHA256_HEX_LEN);
		il_buf_putc(out, '"');
	}
	il_buf_puts(out, "],\"input_range\":");
	if ((nv->flags & F_FULL) != 0)
		il_jsonw_null(out);
	else
	{
		il_date		start;
		il_date		end;

		step_range(P, v, k, &start, &end);
		il_buf_puts(out, "{\"end\":");
		put_date(out, end);
		il_buf_puts(out, ",\"start\":");
		put_date(out, start);
		il_buf_putc(out, '}');
	}
	il_buf_puts(out, ",\"kind\":");
	il_jsonw_cstring(out, kind_name(md));
	il_buf_puts(out, ",\"materialization\":");
	il_jsonw_cstring(out, materialization_name(md));
	il_buf_puts(out, ",\"model\":");
	il_jsonw_cstring(out, md->name);
	il_buf_puts(out, ",\"parallel_group\":");
	il_jsonw_int(out, (int64_t) (nv->group + k));
	il_buf_puts(out, ",\"reason\":");
	if ((nv->flags & F_ADDED) != 0)
		il_jsonw_cstring(out, "new model added");
	else if ((nv->flags & F_DIRECT) != 0)
		il_jsonw_cstring(out, P->direct_reason);
	else
	{
		il_buf_reset(scratch);
		il_buf_puts(scratch, "downstream of ");
		il_buf_puts(scratch, head->models[nv->downstream_of].name);
		il_jsonw_string(out, scratch->data, scratch->len);
	}
	il_buf_puts(out, ",\"run_type\":");
	il_jsonw_cstring(out, (nv->flags & F_FULL) != 0 ? "FULL_REFRESH" : "INCREMENTAL");
	il_buf_puts(out, ",\"sql_sha256\":");
	il_jsonw_cstring(out, md->sql_sha256);
	il_buf_putc(out, '}');
	if (out->oom || scratch->oom)
		return nomem(err);
	/* an offset, not a pointer: out may have moved if it grew */
	if (il_sha256_hex(out->data + off, out->len - off, P->ids[s]) != 0)
	{
		il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "sha-256 failed");
		return -1;
	}
	out->len--;
	il_buf_puts(out, ",\"step_id\":\"");
	il_buf_append(out, P->ids[s], IL_SHA256_HEX_LEN);
	il_buf_puts(out, "\"}");
	return 0;
}

/*
 * Writes the options member of the plan: those of its kind.
 */
static void
write_options(const planner *P, il_buf *out)
{
	const il_plan_options *opts = P->opts;

	il_buf_puts(out, ",\"options\":{");
	switch (opts->kind)
	{
		case IL_PLAN_CHANGE:
			il_buf_puts(out, "\"environment\":");
			il_jsonw_cstring(out, opts->environment);
			il_buf_puts(out, ",\"full_refresh\":");
			put_names(out, P->head, P->nodes, F_NAMED);
			il_buf_puts(out, ",\"lookback_days\":");
			il_jsonw_int(out, opts->lookback_days);
			/* only when set: every plan made before the option keeps its bytes */
			if (opts->recompute_days > 0)
			{
				il_buf_puts(out, ",\"recompute_days\":");
				il_jsonw_int(out, opts->recompute_days);
			}
			il_buf_puts(out, ",\"skip_cosmetic\":");
			il_jsonw_bool(out, opts->skip_cosmetic);
			break;
		case IL_PLAN_REFRESH:
			il_buf_puts(out, "\"environment\":");
			il_jsonw_cstring(out, opts->environment);
			il_buf_puts(out, ",\"lookback_days\":");
			il_jsonw_int(out, opts->lookback_days);
			il_buf_puts(out, ",\"recompute_days\":");
			il_jsonw_int(out, opts->recompute_days);
			break;
		case IL_PLAN_BACKFILL:
			il_buf_puts(out, "\"batch_days\":");
			il_jsonw_int(out, opts->batch_days);
			il_buf_puts(out, ",\"end\":");
			put_date(out, opts->end);
			il_buf_puts(out, ",\"environment\":");
			il_jsonw_cstring(out, opts->environment);
			il_buf_puts(out, ",\"models\":");
			put_names(out, P->head, P->nodes, F_DIRECT);
			il_buf_puts(out, ",\"start\":");
			put_date(out, opts->start);
			break;
	}
	il_buf_putc(out, '}');
}

/*
 * Writes the summary member of the plan: that of its kind.
 */
static void
write_summary(const planner *P, il_buf *out)
{
	const il_repo_diff_result *diff = P->diff;
	const il_repo_models *head = P->head;
	const plan_node *nodes = P->nodes;
	const il_plan_options *opts = P->opts;
	bool		first;
	size_t		i;

	il_buf_puts(out, ",\"summary\":{");
	if (opts->kind == IL_PLAN_REFRESH)
	{
		il_buf_puts(out, "\"models_affected\":");
		put_names(out, head, nodes, F_AFFECTED);
		il_buf_puts(out, ",\"models_due\":");
		put_names(out, head, nodes, F_DIRECT);
	}
	else if (opts->kind == IL_PLAN_BACKFILL)
	{
		il_buf_puts(out, "\"batches\":");
		il_jsonw_int(out, (int64_t) P->windows);
		il_buf_puts(out, ",\"models_affected\":");
		put_names(out, head, nodes, F_AFFECTED);
	}
	else
	{
		il_buf_puts(out, "\"cosmetic_changes_skipped\":");
		if (opts->skip_cosmetic)
			put_names(out, head, nodes, F_COSMETIC);
		else
			il_buf_puts(out, "[]");
		il_buf_puts(out, ",\"models_added\":");
		put_names(out, head, nodes, F_ADDED);
		il_buf_puts(out, ",\"models_affected\":");
		put_names(out, head, nodes, F_AFFECTED);
		il_buf_puts(out, ",\"models_modified\":[");
		first = true;
		for (i = 0; i < head->n; i++)
			if ((nodes[i].flags & F_MODIFIED) != 0 ||
				((nodes[i].flags & F_COSMETIC) != 0 && !opts->skip_cosmetic))
			{
				if (!first)
					il_buf_putc(out, ',');
				il_jsonw_cstring(out, head->models[i].name);
				first = false;
			}
		il_buf_puts(out, "],\"models_removed\":[");
		first = true;
		for (i = 0; i < diff->n; i++)
			if (diff->rows[i].change == IL_CHANGE_REMOVED)
			{
				if (!first)
					il_buf_putc(out, ',');
				il_jsonw_cstring(out, diff->rows[i].model);
				first = false;
			}
		il_buf_putc(out, ']');
	}
	il_buf_puts(out, ",\"total_steps\":");
	il_jsonw_int(out, (int64_t) P->nsteps);
	il_buf_putc(out, '}');
}

/*
 * Writes ,"unknown_references":[{"model","reference"}, ...] over every
 * model at the target (models in name order, each one's references
 * sorted), only when there is one: a plan without keeps its bytes.
 */
static void
write_unknown_references(const il_repo_models *head, il_buf *out)
{
	bool		first = true;
	size_t		i;
	size_t		k;

	for (i = 0; i < head->n; i++)
	{
		const il_repo_model *m = &head->models[i];

		for (k = 0; k < m->n_unknown_refs; k++)
		{
			il_buf_puts(out, first ? ",\"unknown_references\":[" : ",");
			first = false;
			il_buf_puts(out, "{\"model\":");
			il_jsonw_cstring(out, m->name);
			il_buf_puts(out, ",\"reference\":");
			il_jsonw_cstring(out, m->unknown_refs[k]);
			il_buf_putc(out, '}');
		}
	}
	if (!first)
		il_buf_putc(out, ']');
}

/*
 * Writes the plan (steps in P->order, at most steps_room bytes with their
 * ids) to out, with its id.
 */
static int
write_plan(planner *P, size_t steps_room, il_buf *out, char plan_id[IL_SHA256_HEX_LEN + 1],
		   il_error *err)
{
	const il_repo_diff_result *diff = P->diff;
	const il_repo_models *head = P->head;
	const il_plan_options *opts = P->opts;
	size_t		start = out->len;
	size_t		mid;
	size_t		i;
	size_t		need;
	il_sha256_ctx *ctx;
	uint8_t		digest[IL_SHA256_LEN];
	char		hex[IL_SHA256_HEX_LEN + 1];

	/*
	 * One allocation for the whole text, estimated: the steps and their ids
	 * (at most steps_room), the lists of options and summary (a name is in
	 * two at most: affected, and added, modified, cosmetic, due or
	 * backfilled), the fixed parts (the buffer still grows if names need
	 * escaping). A plan of 40,000 steps is 22 MB: growing by doubling would
	 * copy it again and touch twice the memory. What is reserved but not
	 * written is never touched.
	 */
	need = 1024 + strlen(opts->environment) * 4 + steps_room;
	for (i = 0; i < head->n; i++)
		need += 2 * (strlen(head->models[i].name) + 3);
	for (i = 0; i < diff->n; i++)
		if (diff->rows[i].change == IL_CHANGE_REMOVED)
			need += 2 * strlen(diff->rows[i].model) + 3;
	if (!il_buf_reserve(out, need))
		return nomem(err);

	il_buf_puts(out, "{\"as_of\":");
	put_date(out, P->as_of);
	il_buf_puts(out, ",\"base\":");
	il_jsonw_cstring(out, diff->base->commit);
	il_buf_puts(out, ",\"environment\":");
	il_jsonw_cstring(out, opts->environment);
	il_buf_puts(out, ",\"format\":\"" IL_PLAN_FORMAT "\"");
	/* a change plan has no kind member: it keeps its bytes */
	if (opts->kind != IL_PLAN_CHANGE)
	{
		il_buf_puts(out, ",\"kind\":");
		il_jsonw_cstring(out, il_plan_kind_name(opts->kind));
	}
	write_options(P, out);
	/* room for ,"plan_id":"<64 hex>": the id is of the text without it */
	mid = out->len;
	il_buf_puts(out, PLAN_ID_KEY);
	for (i = 0; i < IL_SHA256_HEX_LEN; i++)
		il_buf_putc(out, '0');
	il_buf_putc(out, '"');

	il_buf_puts(out, ",\"steps\":[");
	for (i = 0; i < P->nsteps; i++)
	{
		if (i > 0)
			il_buf_putc(out, ',');
		if (write_step(P, P->order[i], out, err) != 0)
			return -1;
	}
	il_buf_putc(out, ']');
	write_summary(P, out);
	il_buf_puts(out, ",\"target\":");
	il_jsonw_cstring(out, head->commit);
	write_unknown_references(head, out);
	il_buf_putc(out, '}');
	if (out->oom)
		return nomem(err);

	/* the id of the text without plan_id, written into its room */
	ctx = il_sha256_new();
	if (ctx == NULL)
		return nomem(err);
	il_sha256_update(ctx, out->data + start, mid - start);
	il_sha256_update(ctx, out->data + mid + PLAN_ID_ROOM, out->len - mid - PLAN_ID_ROOM);
	il_sha256_final(ctx, digest);
	il_hex_encode(digest, IL_SHA256_LEN, hex);
	memcpy(out->data + mid + sizeof(PLAN_ID_KEY) - 1, hex, IL_SHA256_HEX_LEN);
	memcpy(plan_id, hex, IL_SHA256_HEX_LEN + 1);
	return 0;
}

/*
 * Frees a plan's result (also one never filled); it stays usable, empty.
 */
void
il_plan_result_free(il_plan_result *res)
{
	if (res == NULL)
		return;
	il_free(res->steps);
	il_free(res->edges);
	il_free(res->names);
	memset(res, 0, sizeof(*res));
}

/*
 * Writes a, then b, then a NUL at p; returns the byte after the NUL.
 */
static char *
put_text(char *p, const char *a, const char *b)
{
	size_t		la = strlen(a);
	size_t		lb = strlen(b);

	memcpy(p, a, la);
	memcpy(p + la, b, lb);
	p[la + lb] = '\0';
	return p + la + lb + 1;
}

/*
 * Orders steps (pointers) by their ids.
 */
static int
cmp_step(const void *a, const void *b)
{
	return memcmp((*(const il_plan_step *const *) a)->step_id,
				  (*(const il_plan_step *const *) b)->step_id, IL_SHA256_HEX_LEN);
}

/*
 * Puts the list of step indices at[0..n) in the order of the steps' ids
 * (by), the order of depends_on. sorter has room for n.
 */
static void
sort_by_id(size_t *at, size_t n, const il_plan_step *steps, const il_plan_step **sorter)
{
	size_t		i;

	if (n < 2)
		return;
	for (i = 0; i < n; i++)
		sorter[i] = &steps[at[i]];
	qsort(sorter, n, sizeof(*sorter), cmp_step);
	for (i = 0; i < n; i++)
		at[i] = (size_t) (sorter[i] - steps);
}

/*
 * The plan's result, from the decided and written steps (their ids
 * known): each step in plan order, its upstream steps (as in depends_on)
 * and their reverse, the dependents.
 */
static int
fill_result(const planner *P, il_plan_result *res, il_error *err)
{
	const il_repo_models *head = P->head;
	size_t		nsteps = P->nsteps;
	size_t	   *pos = NULL;
	size_t	   *fill = NULL;
	const il_plan_step **sorter = NULL;
	const char *direct_reason;
	size_t		nedges = 0;
	size_t		text = strlen(P->direct_reason) + 1;
	size_t		at;
	size_t		i;
	size_t		e;
	char	   *p;

	memcpy(res->base, P->diff->base->commit, sizeof(res->base));
	memcpy(res->target, head->commit, sizeof(res->target));
	for (i = 0; i < nsteps; i++)
	{
		size_t		v = P->node_of[P->order[i]];
		const plan_node *nv = &P->nodes[v];

		nedges += nv->ndeps + 1;
		text += strlen(head->models[v].name) + 1;
		if ((nv->flags & (F_ADDED | F_DIRECT)) == 0)
			text += strlen("downstream of ") + strlen(head->models[nv->downstream_of].name) + 1;
	}
	res->steps = il_calloc(nsteps + 1, sizeof(il_plan_step));
	res->edges = il_malloc((2 * nedges + 1) * sizeof(size_t));
	res->names = il_malloc(text + 1);
	pos = il_malloc((nsteps + 1) * sizeof(size_t));
	fill = il_calloc(nsteps + 1, sizeof(size_t));
	if (res->steps == NULL || res->edges == NULL || res->names == NULL || pos == NULL || fill == NULL)
		goto oom;
	for (i = 0; i < nsteps; i++)
		pos[P->order[i]] = i;

	/* each step; its upstream steps, and the room for its dependents */
	at = 0;
	p = res->names;
	direct_reason = p;
	p = put_text(p, P->direct_reason, "");
	for (i = 0; i < nsteps; i++)
	{
		size_t		sn = P->order[i];
		size_t		v = P->node_of[sn];
		size_t		k = sn - P->nodes[v].first;
		const plan_node *nv = &P->nodes[v];
		const il_repo_model *md = &head->models[v];
		il_plan_step *s = &res->steps[i];
		size_t	   *up = res->edges + at;

		memcpy(s->step_id, P->ids[sn], sizeof(s->step_id));
		memcpy(s->sql_sha256, md->sql_sha256, sizeof(s->sql_sha256));
		s->model = p;
		p = put_text(p, md->name, "");
		s->kind = kind_name(md);
		s->materialization = materialization_name(md);
		if ((nv->flags & F_ADDED) != 0)
			s->reason = "new model added";
		else if ((nv->flags & F_DIRECT) != 0)
			s->reason = direct_reason;
		else
		{
			s->reason = p;
			p = put_text(p, "downstream of ", head->models[nv->downstream_of].name);
		}
		s->full_refresh = (nv->flags & F_FULL) != 0;
		if (!s->full_refresh)
			step_range(P, v, k, &s->start, &s->end);
		s->parallel_group = nv->group + k;
		s->n_upstream = step_upstream(P, v, k, up);
		for (e = 0; e < s->n_upstream; e++)
		{
			up[e] = pos[up[e]];
			res->steps[up[e]].n_dependents++;
		}
		s->upstream = up;
		at += s->n_upstream;
	}
	for (i = 0; i < nsteps; i++)
	{
		res->steps[i].dependents = res->edges + at;
		at += res->steps[i].n_dependents;
	}
	/* the dependents, in plan order, then in the order of their ids */
	for (i = 0; i < nsteps; i++)
		for (e = 0; e < res->steps[i].n_upstream; e++)
		{
			size_t		u = res->steps[i].upstream[e];

			((size_t *) res->steps[u].dependents)[fill[u]++] = i;
		}
	res->n_steps = nsteps;
	sorter = il_malloc((nsteps + 1) * sizeof(*sorter));
	if (sorter == NULL)
		goto oom;
	for (i = 0; i < nsteps; i++)
	{
		sort_by_id((size_t *) res->steps[i].upstream, res->steps[i].n_upstream, res->steps, sorter);
		sort_by_id((size_t *) res->steps[i].dependents, res->steps[i].n_dependents, res->steps, sorter);
	}
	il_free(sorter);
	il_free(pos);
	il_free(fill);
	return 0;
oom:
	il_free(sorter);
	il_free(pos);
	il_free(fill);
	return nomem(err);
}

/*
 * Plans a diff: checks, marks, the decisions in one topological pass, the
 * steps numbered and put in order by a counting sort, the text; and the
 * result when res is not NULL.
 */
static int
plan_build(il_repo_diff_result *diff, il_date as_of, const il_plan_options *opts,
		   const il_plan_watermark *wms, size_t nwm, il_buf *out,
		   char plan_id[IL_SHA256_HEX_LEN + 1], il_plan_result *res, il_error *err)
{
	il_plan_options defaults;
	wm_sorted	ws;
	il_repo_models *head = diff->head;
	planner		P;
	size_t	   *count = NULL;
	size_t		start = out->len;
	bool		was_oom = out->oom;
	size_t		steps_room = 0;
	size_t		maxup = 0;
	size_t		maxgroup = 0;
	size_t		i;
	size_t		k;
	int			ret = -1;

	il_error_clear(err);
	plan_id[0] = '\0';
	memset(&P, 0, sizeof(P));
	P.scratch = (il_buf) IL_BUF_INIT;
	if (opts == NULL)
	{
		il_plan_options_init(&defaults);
		opts = &defaults;
	}
	if (check_inputs(as_of, opts, wms, nwm, &ws, err) != 0)
		goto done;
	if (opts->kind != IL_PLAN_CHANGE && strcmp(diff->base->commit, head->commit) != 0)
	{
		il_error_set(err, IL_ERR_INVALID_OPTION, 0, 0,
					 "a %s plan is made at one commit, not between %.12s and %.12s: give no base",
					 il_plan_kind_name(opts->kind), diff->base->commit, head->commit);
		goto done;
	}
	if (il_repo_build_dag(head, err) != 0)
		goto done;
	P.diff = diff;
	P.head = head;
	P.opts = opts;
	P.as_of = as_of;
	P.windows = opts->kind == IL_PLAN_BACKFILL ?
		(size_t) batch_count(opts->start, opts->end, opts->batch_days) : 1;
	P.nodes = il_calloc(head->n + 1, sizeof(plan_node));
	if (P.nodes == NULL)
	{
		nomem(err);
		goto done;
	}
	for (i = 0; i < head->n; i++)
	{
		P.nodes[i].cause = NONE;
		P.nodes[i].downstream_of = NONE;
		if (head->dag->up_off[i + 1] - head->dag->up_off[i] > maxup)
			maxup = head->dag->up_off[i + 1] - head->dag->up_off[i];
	}
	mark_watermarks(head, &ws, P.nodes);
	switch (opts->kind)
	{
		case IL_PLAN_CHANGE:
			strcpy(P.direct_reason, "SQL logic changed");
			if (mark_named(head, opts->full_refresh, opts->n_full_refresh, "full_refresh", F_NAMED,
						   P.nodes, err) != 0)
				goto done;
			mark_changes(diff, P.nodes, opts->skip_cosmetic);
			break;
		case IL_PLAN_REFRESH:
			strcpy(P.direct_reason, "new data due");
			if (mark_due(head, P.nodes, as_of, opts->recompute_days, err) != 0)
				goto done;
			break;
		case IL_PLAN_BACKFILL:
			{
				char		s[IL_DATE_LEN + 1];
				char		e[IL_DATE_LEN + 1];

				il_date_format(opts->start, s);
				il_date_format(opts->end, e);
				snprintf(P.direct_reason, sizeof(P.direct_reason), "backfill %s to %s", s, e);
				if (mark_named(head, opts->models, opts->n_models, "models", F_DIRECT, P.nodes, err) != 0 ||
					check_backfill(&P, err) != 0)
					goto done;
				break;
			}
	}

	/* the decisions, in topological order; the room their text will take */
	for (i = 0; i < head->n; i++)
	{
		size_t		v = head->dag->order[i];

		decide_model(&P, v);
		if ((P.nodes[v].flags & F_AFFECTED) != 0)
		{
			steps_room += step_room(&P, v);
			if (P.nodes[v].group + windows_of(&P, v) - 1 > maxgroup)
				maxgroup = P.nodes[v].group + windows_of(&P, v) - 1;
		}
	}
	/* the steps, numbered model-major */
	for (i = 0; i < head->n; i++)
		if ((P.nodes[i].flags & F_AFFECTED) != 0)
		{
			P.nodes[i].first = P.nsteps;
			P.nsteps += windows_of(&P, i);
		}

	/*
	 * A backfill has a step per window of every affected incremental
	 * model: bounded, before any of them is made (1,000 windows of 1,000
	 * models would be a million steps and gigabytes of memory)
	 */
	if (opts->kind == IL_PLAN_BACKFILL && P.nsteps > IL_PLAN_STEPS_MAX)
	{
		char		what[200];

		snprintf(what, sizeof(what),
				 "%d days make %zu batches, %zu steps in all (at most %d): give more days a batch, "
				 "a shorter range or fewer models", opts->batch_days, P.windows, P.nsteps, IL_PLAN_STEPS_MAX);
		bad_option(err, opts->kind, "batch_days", NULL, what);
		goto done;
	}

	/*
	 * steps by (group, model, start): a counting sort by group, models in
	 * name order within a group (a model has one step a group)
	 */
	P.order = il_malloc((P.nsteps + 1) * sizeof(size_t));
	P.node_of = il_malloc((P.nsteps + 1) * sizeof(size_t));
	P.ids = il_malloc((P.nsteps + 1) * sizeof(*P.ids));
	P.up = il_malloc((maxup + 2) * sizeof(size_t));
	P.deps = il_malloc((maxup + 2) * sizeof(char *));
	count = il_calloc(maxgroup + 2, sizeof(size_t));
	if (P.order == NULL || P.node_of == NULL || P.ids == NULL || P.up == NULL || P.deps == NULL ||
		count == NULL)
	{
		nomem(err);
		goto done;
	}
	for (i = 0; i < head->n; i++)
		if ((P.nodes[i].flags & F_AFFECTED) != 0)
			for (k = 0; k < windows_of(&P, i); k++)
			{
				P.node_of[P.nodes[i].first + k] = i;
				count[P.nodes[i].group + k + 1]++;
			}
	for (i = 1; i <= maxgroup + 1; i++)
		count[i] += count[i - 1];
	for (i = 0; i < head->n; i++)
		if ((P.nodes[i].flags & F_AFFECTED) != 0)
			for (k = 0; k < windows_of(&P, i); k++)
				P.order[count[P.nodes[i].group + k]++] = P.nodes[i].first + k;

	/* the text, each step written and hashed in that order */
	if (write_plan(&P, steps_room, out, plan_id, err) != 0)
		goto done;
	if (res != NULL)
	{
		memcpy(res->plan_id, plan_id, sizeof(res->plan_id));
		if (fill_result(&P, res, err) != 0)
			goto done;
	}
	ret = 0;
done:
	if (ret != 0)
	{
		/* out as it was */
		if (out->data != NULL && out->cap > start)
		{
			out->len = start;
			out->data[start] = '\0';
		}
		out->oom = was_oom;
		plan_id[0] = '\0';
		il_plan_result_free(res);
	}
	wm_free(&ws);
	il_free(P.nodes);
	il_free(P.order);
	il_free(P.node_of);
	il_free(P.ids);
	il_free(P.up);
	il_free(P.deps);
	il_free(count);
	il_buf_free(&P.scratch);
	return ret;
}

/*
 * Plans a diff.
 */
int
il_plan_build(il_repo_diff_result *diff, il_date as_of, const il_plan_options *opts,
			  const il_plan_watermark *wms, size_t nwm, il_buf *out,
			  char plan_id[IL_SHA256_HEX_LEN + 1], il_error *err)
{
	return plan_build(diff, as_of, opts, wms, nwm, out, plan_id, NULL, err);
}

/*
 * Plans a diff, with the plan's result.
 */
int
il_plan_build_result(il_repo_diff_result *diff, il_date as_of, const il_plan_options *opts,
					 const il_plan_watermark *wms, size_t nwm, il_buf *out,
					 il_plan_result *res, il_error *err)
{
	char		plan_id[IL_SHA256_HEX_LEN + 1];

	il_plan_result_free(res);
	return plan_build(diff, as_of, opts, wms, nwm, out, plan_id, res, err);
}

/*
 * Checks the inputs, diffs the two commits (a refresh or backfill: head
 * with itself), plans.
 */
static int
plan_from_git(il_git_repo *git, const char *base, const char *head, const char *models_dir,
			  const il_parse_cache *cache, il_date as_of, const il_plan_options *opts,
			  const il_plan_watermark *wms, size_t nwm, il_buf *out,
			  char plan_id[IL_SHA256_HEX_LEN + 1], il_plan_result *res, il_repo_stats *stats,
			  il_error *err)
{
	il_plan_options defaults;
	il_repo_diff_result *diff = NULL;
	wm_sorted	ws;
	int			ret;

	il_error_clear(err);
	plan_id[0] = '\0';
	if (stats != NULL)
		memset(stats, 0, sizeof(*stats));
	if (opts == NULL)
	{
		il_plan_options_init(&defaults);
		opts = &defaults;
	}
	/* bad input fails before the repository is read */
	ret = check_inputs(as_of, opts, wms, nwm, &ws, err);
	wm_free(&ws);
	if (ret != 0)
		return -1;
	if (opts->kind != IL_PLAN_CHANGE && base == NULL)
		base = head;
	if (il_repo_diff(git, base, head, models_dir, cache, &diff, err) != 0)
		return -1;
	if (stats != NULL)
		*stats = diff->stats;
	ret = plan_build(diff, as_of, opts, wms, nwm, out, plan_id, res, err);
	il_repo_diff_free(diff);
	return ret;
}

int
il_plan_from_git(il_git_repo *git, const char *base, const char *head, const char *models_dir,
				 const il_parse_cache *cache, il_date as_of, const il_plan_options *opts,
				 const il_plan_watermark *wms, size_t nwm, il_buf *out,
				 char plan_id[IL_SHA256_HEX_LEN + 1], il_repo_stats *stats, il_error *err)
{
	return plan_from_git(git, base, head, models_dir, cache, as_of, opts, wms, nwm, out, plan_id,
						 NULL, stats, err);
}

int
il_plan_from_git_result(il_git_repo *git, const char *base, const char *head,
						const char *models_dir, const il_parse_cache *cache, il_date as_of,
						const il_plan_options *opts, const il_plan_watermark *wms, size_t nwm,
						il_buf *out, il_plan_result *res, il_repo_stats *stats, il_error *err)
{
	char		plan_id[IL_SHA256_HEX_LEN + 1];

	il_plan_result_free(res);
	return plan_from_git(git, base, head, models_dir, cache, as_of, opts, wms, nwm, out, plan_id,
						 res, stats, err);
}
