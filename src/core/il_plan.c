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

/* The valid option keys, for messages. */
#define VALID_KEYS "environment, full_refresh, lookback_days, skip_cosmetic"

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
#define F_DIRECT	0x08		/* directly changed */
#define F_AFFECTED	0x10		/* has a step */
#define F_NAMED		0x20		/* named in the full_refresh option */
#define F_WATERMARK 0x40		/* has a watermark (wm_end) */
#define F_FULL		0x80		/* its step is FULL_REFRESH */

/* The planner's state of one head model (node i = head model i). */
typedef struct plan_node
{
	uint8_t		flags;
	il_date		start;			/* planned start of an INCREMENTAL step */
	il_date		wm_end;			/* with F_WATERMARK */
	size_t		group;			/* parallel_group of an affected model */
	size_t		cause;			/* smallest directly changed ancestor, or NONE */
	size_t		downstream_of;	/* X of the reason "downstream of X", or NONE */
	size_t		ndeps;			/* affected direct upstreams */
	char		id[IL_SHA256_HEX_LEN + 1];	/* step_id, once written */
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

/*
 * The default options.
 */
void
il_plan_options_init(il_plan_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	strcpy(opts->environment, "dev");
	opts->lookback_days = 30;
	opts->skip_cosmetic = true;
}

/*
 * Frees the full_refresh names (the options stay usable, with none).
 */
void
il_plan_options_free(il_plan_options *opts)
{
	if (opts == NULL)
		return;
	il_free(opts->full_refresh);
	opts->full_refresh = NULL;
	opts->n_full_refresh = 0;
}

/*
 * Sets an invalid_option error about key (with its bad value v, or
 * what when v is NULL); returns -1.
 */
static int
bad_option(il_error *err, const char *key, const il_jcs_value *v, const char *what)
{
	il_buf		q = IL_BUF_INIT;

	if (v != NULL)
		il_error_set(err, IL_ERR_INVALID_OPTION, 0, 0, "invalid option %s: %s %s (options: " VALID_KEYS ")",
					 key, quote_value(&q, v), what);
	else
		il_error_set(err, IL_ERR_INVALID_OPTION, 0, 0, "invalid option %s: %s (options: " VALID_KEYS ")",
					 key, what);
	il_buf_free(&q);
	return -1;
}

/*
 * Reads the full_refresh array into o: one block, the pointers and then
 * the names.
 */
static int
parse_full_refresh(const il_jcs_value *v, il_plan_options *o, il_error *err)
{
	const il_jcs_value *e;
	size_t		n = il_jcs_count(v);
	size_t		text = 0;
	char	   *at;

	if (il_jcs_kind_of(v) != IL_JCS_ARRAY)
		return bad_option(err, "full_refresh", v, "is not an array of model names");
	for (e = il_jcs_first(v); e != NULL; e = il_jcs_next(e))
	{
		size_t		len;
		const char *s = il_jcs_string(e, &len);

		if (s == NULL || len == 0 || strlen(s) != len)
			return bad_option(err, "full_refresh", e, "is not a model name (a non-empty string)");
		text += len + 1;
	}
	o->full_refresh = il_malloc((n + 1) * sizeof(char *) + text);
	if (o->full_refresh == NULL)
		return nomem(err);
	at = (char *) (o->full_refresh + n + 1);
	for (e = il_jcs_first(v); e != NULL; e = il_jcs_next(e))
	{
		size_t		len;
		const char *s = il_jcs_string(e, &len);

		memcpy(at, s, len + 1);
		o->full_refresh[o->n_full_refresh++] = at;
		at += len + 1;
	}
	o->full_refresh[n] = NULL;
	return 0;
}

/*
 * Reads the options object; on error *opts holds the defaults.
 */
int
il_plan_options_parse(const char *json, size_t len, il_plan_options *opts, il_error *err)
{
	il_jcs_doc *doc;
	const il_jcs_value *root;
	const il_jcs_value *v;
	il_plan_options o;
	int			ret = -1;

	il_plan_options_init(opts);
	il_plan_options_init(&o);
	il_error_clear(err);
	doc = il_jcs_parse(json != NULL ? json : "", json != NULL ? len : 0, err);
	if (doc == NULL)
		return json_error(err, IL_ERR_INVALID_OPTION, "options", " (options: " VALID_KEYS ")");
	root = il_jcs_root(doc);
	if (il_jcs_kind_of(root) != IL_JCS_OBJECT)
	{
		il_buf		q = IL_BUF_INIT;

		il_error_set(err, IL_ERR_INVALID_OPTION, 0, 0, "options must be a JSON object, not %s (options: " VALID_KEYS ")",
					 quote_value(&q, root));
		il_buf_free(&q);
		goto done;
	}
	/* members come in key order, so the first bad one is always the same */
	for (v = il_jcs_first(root); v != NULL; v = il_jcs_next(v))
	{
		size_t		nlen;
		const char *name = il_jcs_name(v, &nlen);

		if (is_key(name, nlen, "environment"))
		{
			size_t		slen;
			const char *s = il_jcs_string(v, &slen);

			if (s == NULL || !environment_ok(s, slen))
			{
				bad_option(err, "environment", v,
						   "is not an environment name (1 to 63 of a-z, 0-9, '_', '-'; a letter first)");
				goto done;
			}
			memcpy(o.environment, s, slen + 1);
		}
		else if (is_key(name, nlen, "lookback_days"))
		{
			double		d = il_jcs_number(v);

			if (il_jcs_kind_of(v) != IL_JCS_NUMBER || !(d >= 1 && d <= IL_PLAN_LOOKBACK_MAX) || d != (double) (int) d)
			{
				bad_option(err, "lookback_days", v, "is not a whole number of days from 1 to 3650");
				goto done;
			}
			o.lookback_days = (int) d;
		}
		else if (is_key(name, nlen, "skip_cosmetic"))
		{
			if (il_jcs_kind_of(v) != IL_JCS_TRUE && il_jcs_kind_of(v) != IL_JCS_FALSE)
			{
				bad_option(err, "skip_cosmetic", v, "is not true or false");
				goto done;
			}
			o.skip_cosmetic = il_jcs_kind_of(v) == IL_JCS_TRUE;
		}
		else if (is_key(name, nlen, "full_refresh"))
		{
			if (parse_full_refresh(v, &o, err) != 0)
				goto done;
		}
		else
		{
			il_buf		q = IL_BUF_INIT;

			il_error_set(err, IL_ERR_INVALID_OPTION, 0, 0, "unknown option %s (options: " VALID_KEYS ")",
						 quote_name(&q, name, nlen));
			il_buf_free(&q);
			goto done;
		}
	}
	*opts = o;
	o.full_refresh = NULL;
	o.n_full_refresh = 0;
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
	if (!environment_ok(opts->environment, strnlen(opts->environment, sizeof(opts->environment))))
		return bad_option(err, "environment", NULL, "is not an environment name");
	if (opts->lookback_days < 1 || opts->lookback_days > IL_PLAN_LOOKBACK_MAX)
		return bad_option(err, "lookback_days", NULL, "must be from 1 to 3650");
	if (opts->n_full_refresh > 0 && opts->full_refresh == NULL)
		return bad_option(err, "full_refresh", NULL, "the list is missing");
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
			nodes[j].wm_end = ws->keys[i].w->end;
		}
	}
}

/*
 * Resolves the full_refresh names against the head's graph.
 */
static int
mark_full_refresh(const il_repo_models *head, const il_plan_options *opts, plan_node *nodes,
				  il_error *err)
{
	size_t		i;

	for (i = 0; i < opts->n_full_refresh; i++)
	{
		size_t		node;

		if (il_dag_find(head->dag, opts->full_refresh[i], &node, err) != 0)
		{
			char		msg[sizeof(err->message)];

			if (il_error_is(err, IL_ERR_OUT_OF_MEMORY))
				return -1;
			memcpy(msg, err->message, sizeof(msg));
			il_error_set(err, IL_ERR_INVALID_OPTION, 0, 0, "invalid option full_refresh: %s", msg);
			return -1;
		}
		nodes[node].flags |= F_NAMED;
	}
	return 0;
}

/*
 * Decides model v, all its upstreams decided: whether it is affected, its
 * group, cause, run type and range, and what its step's text will need
 * (the number of its upstream steps, the model its reason names). Nothing
 * is written here: the text goes into the plan in the plan's order
 * (write_step), which is only known once every model is decided.
 */
static void
decide_model(const il_repo_models *head, plan_node *nodes, size_t v, il_date as_of,
			 const il_plan_options *opts)
{
	const il_dag *dag = head->dag;
	const il_repo_model *md = &head->models[v];
	plan_node  *nv = &nodes[v];
	bool		affected = (nv->flags & F_DIRECT) != 0;
	bool		full_up = false;
	il_date		up_start = IL_DATE_MAX;
	size_t		group = 0;
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
		if (np->group + 1 > group)
			group = np->group + 1;
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
	nv->group = group;
	nv->cause = cause;
	nv->ndeps = ndeps;
	/* only a step that is not directly changed is "downstream of" */
	if ((nv->flags & F_DIRECT) == 0)
		nv->downstream_of = direct_parent != NONE ? direct_parent : cause;

	/* run type and range */
	if ((nv->flags & (F_ADDED | F_NAMED)) != 0 || full_up ||
		(md->kind != IL_KIND_INCREMENTAL_BY_TIME_RANGE && md->kind != IL_KIND_APPEND_ONLY))
		nv->flags |= F_FULL;
	else
	{
		il_date		start = (nv->flags & F_WATERMARK) != 0 ? nv->wm_end :
			il_date_add_days(as_of, -(int64_t) opts->lookback_days);

		if (up_start < start)
			start = up_start;
		if (start > as_of)
			start = as_of;
		nv->start = start;
	}
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
 * The most bytes the step of decided node v takes in the plan text, with
 * its step_id and the comma before it, unless its names need escaping.
 */
static size_t
step_room(const il_repo_models *head, const plan_node *nodes, size_t v)
{
	const il_repo_model *md = &head->models[v];
	const plan_node *nv = &nodes[v];
	size_t		room = STEP_ROOM + strlen(kind_name(md)) + strlen(materialization_name(md)) +
		strlen(md->name) + nv->ndeps * DEP_ROOM;

	if (nv->downstream_of != NONE)
		room += strlen(head->models[nv->downstream_of].name);
	return room;
}

/*
 * Appends the step of decided node v to out: its text without step_id
 * (keys in order, ending in '}'), hashed where it lies into its id, then
 * that closing brace turned into the step_id member (the last key). Its
 * upstream steps are in earlier groups, so they are written and their ids
 * known. deps has room for v's upstreams.
 */
static int
write_step(const il_repo_models *head, plan_node *nodes, size_t v, il_date as_of,
		   const char **deps, il_buf *out, il_buf *scratch, il_error *err)
{
	const il_dag *dag = head->dag;
	const il_repo_model *md = &head->models[v];
	plan_node  *nv = &nodes[v];
	size_t		off = out->len;
	size_t		ndeps = 0;
	size_t		e;
	size_t		i;

	for (e = dag->up_off[v]; e < dag->up_off[v + 1]; e++)
		if ((nodes[dag->up[e]].flags & F_AFFECTED) != 0)
			deps[ndeps++] = nodes[dag->up[e]].id;
	if (ndeps > 1)
		qsort(deps, ndeps, sizeof(char *), cmp_id);

	il_buf_puts(out, "{\"depends_on\":[");
	for (i = 0; i < ndeps; i++)
	{
		if (i > 0)
			il_buf_putc(out, ',');
		il_buf_putc(out, '"');
		il_buf_append(out, deps[i], IL_SHA256_HEX_LEN);
		il_buf_putc(out, '"');
	}
	il_buf_puts(out, "],\"input_range\":");
	if ((nv->flags & F_FULL) != 0)
		il_jsonw_null(out);
	else
	{
		il_buf_puts(out, "{\"end\":");
		put_date(out, as_of);
		il_buf_puts(out, ",\"start\":");
		put_date(out, nv->start);
		il_buf_putc(out, '}');
	}
	il_buf_puts(out, ",\"kind\":");
	il_jsonw_cstring(out, kind_name(md));
	il_buf_puts(out, ",\"materialization\":");
	il_jsonw_cstring(out, materialization_name(md));
	il_buf_puts(out, ",\"model\":");
	il_jsonw_cstring(out, md->name);
	il_buf_puts(out, ",\"parallel_group\":");
	il_jsonw_int(out, (int64_t) nv->group);
	il_buf_puts(out, ",\"reason\":");
	if ((nv->flags & F_ADDED) != 0)
		il_jsonw_cstring(out, "new model added");
	else if ((nv->flags & F_DIRECT) != 0)
		il_jsonw_cstring(out, "SQL logic changed");
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
	if (il_sha256_hex(out->data + off, out->len - off, nv->id) != 0)
	{
		il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "sha-256 failed");
		return -1;
	}
	out->len--;
	il_buf_puts(out, ",\"step_id\":\"");
	il_buf_append(out, nv->id, IL_SHA256_HEX_LEN);
	il_buf_puts(out, "\"}");
	return 0;
}

/*
 * Writes the plan (steps in order[0..nsteps), at most steps_room bytes
 * with their ids) to out, with its id. deps has room for any model's
 * upstreams.
 */
static int
write_plan(const il_repo_diff_result *diff, plan_node *nodes, const size_t *order, size_t nsteps,
		   size_t steps_room, il_date as_of, const il_plan_options *opts, const char **deps,
		   il_buf *scratch, il_buf *out, char plan_id[IL_SHA256_HEX_LEN + 1], il_error *err)
{
	const il_repo_models *head = diff->head;
	size_t		start = out->len;
	size_t		mid;
	size_t		i;
	bool		first;
	size_t		need;
	il_sha256_ctx *ctx;
	uint8_t		digest[IL_SHA256_LEN];
	char		hex[IL_SHA256_HEX_LEN + 1];

	/*
	 * One allocation for the whole text, estimated: the steps and their ids
	 * (at most steps_room), the summary's lists (a name is in two at most:
	 * affected, and added, modified or cosmetic), the fixed parts (the
	 * buffer still grows if names need escaping). A plan of 40,000 steps is
	 * 22 MB: growing by doubling would copy it again and touch twice the
	 * memory. What is reserved but not written is never touched.
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
	put_date(out, as_of);
	il_buf_puts(out, ",\"base\":");
	il_jsonw_cstring(out, diff->base->commit);
	il_buf_puts(out, ",\"environment\":");
	il_jsonw_cstring(out, opts->environment);
	il_buf_puts(out, ",\"format\":\"" IL_PLAN_FORMAT "\",\"options\":{\"environment\":");
	il_jsonw_cstring(out, opts->environment);
	il_buf_puts(out, ",\"full_refresh\":");
	put_names(out, head, nodes, F_NAMED);
	il_buf_puts(out, ",\"lookback_days\":");
	il_jsonw_int(out, opts->lookback_days);
	il_buf_puts(out, ",\"skip_cosmetic\":");
	il_jsonw_bool(out, opts->skip_cosmetic);
	il_buf_putc(out, '}');
	/* room for ,"plan_id":"<64 hex>": the id is of the text without it */
	mid = out->len;
	il_buf_puts(out, PLAN_ID_KEY);
	for (i = 0; i < IL_SHA256_HEX_LEN; i++)
		il_buf_putc(out, '0');
	il_buf_putc(out, '"');

	il_buf_puts(out, ",\"steps\":[");
	for (i = 0; i < nsteps; i++)
	{
		if (i > 0)
			il_buf_putc(out, ',');
		if (write_step(head, nodes, order[i], as_of, deps, out, scratch, err) != 0)
			return -1;
	}
	il_buf_puts(out, "],\"summary\":{\"cosmetic_changes_skipped\":");
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
	il_buf_puts(out, "],\"total_steps\":");
	il_jsonw_int(out, (int64_t) nsteps);
	il_buf_puts(out, "},\"target\":");
	il_jsonw_cstring(out, head->commit);
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
 * The plan's result, from the decided and written nodes (their ids known):
 * each step in plan order (order[0..nsteps)), its upstream steps (as in
 * depends_on) and their reverse, the dependents.
 */
static int
fill_result(const il_repo_diff_result *diff, const plan_node *nodes, const size_t *order,
			size_t nsteps, il_date as_of, il_plan_result *res, il_error *err)
{
	const il_repo_models *head = diff->head;
	const il_dag *dag = head->dag;
	size_t	   *step_of = NULL;
	size_t	   *fill = NULL;
	const il_plan_step **sorter = NULL;
	size_t		nedges = 0;
	size_t		text = 0;
	size_t		maxup = 0;
	size_t		at;
	size_t		i;
	size_t		e;
	char	   *p;

	memcpy(res->base, diff->base->commit, sizeof(res->base));
	memcpy(res->target, head->commit, sizeof(res->target));
	for (i = 0; i < nsteps; i++)
	{
		const plan_node *nv = &nodes[order[i]];

		nedges += nv->ndeps;
		if (nv->ndeps > maxup)
			maxup = nv->ndeps;
		text += strlen(head->models[order[i]].name) + 1;
		if ((nv->flags & (F_ADDED | F_DIRECT)) == 0)
			text += strlen("downstream of ") + strlen(head->models[nv->downstream_of].name) + 1;
	}
	res->steps = il_calloc(nsteps + 1, sizeof(il_plan_step));
	res->edges = il_malloc((2 * nedges + 1) * sizeof(size_t));
	res->names = il_malloc(text + 1);
	step_of = il_malloc((head->n + 1) * sizeof(size_t));
	fill = il_calloc(nsteps + 1, sizeof(size_t));
	if (res->steps == NULL || res->edges == NULL || res->names == NULL || step_of == NULL || fill == NULL)
		goto oom;
	for (i = 0; i < nsteps; i++)
		step_of[order[i]] = i;

	/* each step; its upstream steps, and the room for its dependents */
	at = 0;
	p = res->names;
	for (i = 0; i < nsteps; i++)
	{
		size_t		v = order[i];
		const plan_node *nv = &nodes[v];
		const il_repo_model *md = &head->models[v];
		il_plan_step *s = &res->steps[i];
		size_t	   *up = res->edges + at;

		memcpy(s->step_id, nv->id, sizeof(s->step_id));
		memcpy(s->sql_sha256, md->sql_sha256, sizeof(s->sql_sha256));
		s->model = p;
		p = put_text(p, md->name, "");
		s->kind = kind_name(md);
		s->materialization = materialization_name(md);
		if ((nv->flags & F_ADDED) != 0)
			s->reason = "new model added";
		else if ((nv->flags & F_DIRECT) != 0)
			s->reason = "SQL logic changed";
		else
		{
			s->reason = p;
			p = put_text(p, "downstream of ", head->models[nv->downstream_of].name);
		}
		s->full_refresh = (nv->flags & F_FULL) != 0;
		if (!s->full_refresh)
		{
			s->start = nv->start;
			s->end = as_of;
		}
		s->parallel_group = nv->group;
		s->n_upstream = 0;
		for (e = dag->up_off[v]; e < dag->up_off[v + 1]; e++)
			if ((nodes[dag->up[e]].flags & F_AFFECTED) != 0)
			{
				up[s->n_upstream++] = step_of[dag->up[e]];
				res->steps[step_of[dag->up[e]]].n_dependents++;
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
	il_free(step_of);
	il_free(fill);
	return 0;
oom:
	il_free(sorter);
	il_free(step_of);
	il_free(fill);
	return nomem(err);
}

/*
 * Plans a diff: checks, marks, the decisions in one topological pass, the
 * counting sort, the text; and the result when res is not NULL.
 */
static int
plan_build(il_repo_diff_result *diff, il_date as_of, const il_plan_options *opts,
		   const il_plan_watermark *wms, size_t nwm, il_buf *out,
		   char plan_id[IL_SHA256_HEX_LEN + 1], il_plan_result *res, il_error *err)
{
	il_plan_options defaults;
	wm_sorted	ws;
	il_repo_models *head = diff->head;
	plan_node  *nodes = NULL;
	const char **deps = NULL;
	size_t	   *order = NULL;
	size_t	   *count = NULL;
	il_buf		scratch = IL_BUF_INIT;
	size_t		start = out->len;
	bool		was_oom = out->oom;
	size_t		nsteps = 0;
	size_t		steps_room = 0;
	size_t		maxup = 0;
	size_t		maxgroup = 0;
	size_t		i;
	int			ret = -1;

	il_error_clear(err);
	plan_id[0] = '\0';
	if (opts == NULL)
	{
		il_plan_options_init(&defaults);
		opts = &defaults;
	}
	if (check_inputs(as_of, opts, wms, nwm, &ws, err) != 0 ||
		il_repo_build_dag(head, err) != 0)
		goto done;
	nodes = il_calloc(head->n + 1, sizeof(plan_node));
	if (nodes == NULL)
	{
		nomem(err);
		goto done;
	}
	for (i = 0; i < head->n; i++)
	{
		nodes[i].cause = NONE;
		nodes[i].downstream_of = NONE;
		if (head->dag->up_off[i + 1] - head->dag->up_off[i] > maxup)
			maxup = head->dag->up_off[i + 1] - head->dag->up_off[i];
	}
	if (mark_full_refresh(head, opts, nodes, err) != 0)
		goto done;
	mark_changes(diff, nodes, opts->skip_cosmetic);
	mark_watermarks(head, &ws, nodes);

	/* the decisions, in topological order; the room their text will take */
	for (i = 0; i < head->n; i++)
	{
		size_t		v = head->dag->order[i];

		decide_model(head, nodes, v, as_of, opts);
		if ((nodes[v].flags & F_AFFECTED) != 0)
		{
			nsteps++;
			steps_room += step_room(head, nodes, v);
			if (nodes[v].group > maxgroup)
				maxgroup = nodes[v].group;
		}
	}

	/* steps by (group, name): a counting sort, name order kept within a group */
	order = il_malloc((nsteps + 1) * sizeof(size_t));
	count = il_calloc(maxgroup + 2, sizeof(size_t));
	deps = il_malloc((maxup + 1) * sizeof(char *));
	if (order == NULL || count == NULL || deps == NULL)
	{
		nomem(err);
		goto done;
	}
	for (i = 0; i < head->n; i++)
		if ((nodes[i].flags & F_AFFECTED) != 0)
			count[nodes[i].group + 1]++;
	for (i = 1; i <= maxgroup + 1; i++)
		count[i] += count[i - 1];
	for (i = 0; i < head->n; i++)
		if ((nodes[i].flags & F_AFFECTED) != 0)
			order[count[nodes[i].group]++] = i;

	/* the text, each step written and hashed in that order */
	if (write_plan(diff, nodes, order, nsteps, steps_room, as_of, opts, deps, &scratch, out,
				   plan_id, err) != 0)
		goto done;
	if (res != NULL)
	{
		memcpy(res->plan_id, plan_id, sizeof(res->plan_id));
		if (fill_result(diff, nodes, order, nsteps, as_of, res, err) != 0)
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
	il_free(nodes);
	il_free(deps);
	il_free(order);
	il_free(count);
	il_buf_free(&scratch);
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
 * Checks the inputs, diffs the two commits, plans.
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
