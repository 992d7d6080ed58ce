/*
 * Unit tests of il_plan.c against real git repositories made here (with
 * libgit2, in a temporary directory): the plan format v1 and every decision
 * rule, pinned per scenario (added, modified, removed, cosmetic skipped and
 * not, chains, diamonds, incremental ranges with and without watermarks,
 * ranges lowered by upstream steps, full refresh forced by an upstream, by
 * the kind or by the option, reasons, parallel groups, depends_on), two
 * whole canonical texts rebuilt independently here, the empty plan, the
 * cycle error, the options and watermark parsers and their errors,
 * watermark order independence, and a generated repository checked
 * against a naive (quadratic) reimplementation of the rules. Every plan made
 * is also checked for canonical form and for its step and plan ids.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../bench/genrepo.h"
#include "il_jcs.h"
#include "il_plan.h"
#include "unit.h"

static char tmp[] = "/tmp/ironlayer-unit-plan-XXXXXX";
static char ebuf[256];
static int	nrepos = 0;

/* The day of a date text (the tests' own dates are valid). */
static il_date
day(const char *s)
{
	il_date		d = 0;
	il_error	err;

	if (il_date_parse(s, strlen(s), &d, &err) != 0)
		printf("# bad test date %s\n", s);
	return d;
}

/* ---- repositories ---- */

/* A repository with a base and a head commit; its path in path. */
static void
two_commits(char *path, size_t cap, const gen_file *f1, size_t n1, const gen_file *f2, size_t n2,
			char *c1, char *c2)
{
	snprintf(path, cap, "%s/r%d", tmp, nrepos++);
	if (genrepo_commit_files(path, 0, f1, n1, "base\n", 0, c1, ebuf, sizeof(ebuf)) != 0 ||
		genrepo_commit_files(path, 0, f2, n2, "head\n", 1, c2, ebuf, sizeof(ebuf)) != 0)
		printf("# commit failed: %s\n", ebuf);
}

/* ---- checking any plan ---- */

/*
 * Checks what holds for every plan: canonical form, step ids, plan id,
 * order, depends_on pointing at earlier groups, total_steps. Returns the
 * number of problems (each printed).
 */
static int
plan_problems(const char *text, size_t len)
{
	il_buf		canon = IL_BUF_INIT;
	il_buf		b = IL_BUF_INIT;
	il_error	err;
	il_jcs_doc *doc = NULL;
	const il_jcs_value *root;
	const il_jcs_value *s;
	const char *pid;
	const char *at;
	char		hex[IL_SHA256_HEX_LEN + 1];
	int			problems = 0;
	size_t		nsteps = 0;
	const char *prev_model = "";
	double		prev_group = -1;

	if (il_jcs_canonicalize(text, len, &canon, &err) != 0 || canon.len != len || memcmp(canon.data, text, len) != 0)
	{
		printf("#   the plan is not in canonical form\n");
		problems++;
	}
	doc = il_jcs_parse(text, len, &err);
	root = il_jcs_root(doc);
	if (doc == NULL)
	{
		printf("#   the plan is not JSON: %s\n", err.message);
		il_buf_free(&canon);
		return problems + 1;
	}
	for (s = il_jcs_first(il_jcs_get(root, "steps")); s != NULL; s = il_jcs_next(s))
	{
		const char *sid = il_jcs_string(il_jcs_get(s, "step_id"), NULL);
		const char *model = il_jcs_string(il_jcs_get(s, "model"), NULL);
		double		g = il_jcs_number(il_jcs_get(s, "parallel_group"));
		const il_jcs_value *d;

		nsteps++;
		il_buf_reset(&b);
		il_jcs_write(&b, s);
		/* without ,"step_id":"<64>" (the last member) */
		if (sid == NULL || b.len < 78 || strncmp(b.data + b.len - 78, ",\"step_id\":\"", 12) != 0)
		{
			printf("#   a step without step_id as its last member\n");
			problems++;
			continue;
		}
		b.len -= 78;
		il_buf_putc(&b, '}');
		il_sha256_hex(b.data, b.len, hex);
		if (strcmp(hex, sid) != 0)
		{
			printf("#   step %s: step_id is not the hash of the step\n", model);
			problems++;
		}
		if (g < prev_group || (g == prev_group && strcmp(prev_model, model) >= 0))
		{
			printf("#   step %s is out of (parallel_group, model) order\n", model);
			problems++;
		}
		prev_group = g;
		prev_model = model;
		/* every dependency is a step of a smaller group, listed before */
		for (d = il_jcs_first(il_jcs_get(s, "depends_on")); d != NULL; d = il_jcs_next(d))
		{
			const il_jcs_value *u;
			bool		found = false;

			for (u = il_jcs_first(il_jcs_get(root, "steps")); u != NULL && u != s; u = il_jcs_next(u))
				if (strcmp(il_jcs_string(il_jcs_get(u, "step_id"), NULL), il_jcs_string(d, NULL)) == 0 &&
					il_jcs_number(il_jcs_get(u, "parallel_group")) < g)
					found = true;
			if (!found)
			{
				printf("#   step %s depends on an id that is no earlier step\n", model);
				problems++;
			}
			if (il_jcs_next(d) != NULL && strcmp(il_jcs_string(d, NULL), il_jcs_string(il_jcs_next(d), NULL)) >= 0)
			{
				printf("#   step %s: depends_on is not sorted\n", model);
				problems++;
			}
		}
	}
	if ((size_t) il_jcs_number(il_jcs_get(il_jcs_get(root, "summary"), "total_steps")) != nsteps)
	{
		printf("#   total_steps is not the number of steps\n");
		problems++;
	}
	/* the plan id: the text without ,"plan_id":"<64>" */
	pid = il_jcs_string(il_jcs_get(root, "plan_id"), NULL);
	at = strstr(text, ",\"plan_id\":\"");
	if (pid == NULL || at == NULL)
	{
		printf("#   no plan_id\n");
		problems++;
	}
	else
	{
		il_buf_reset(&b);
		il_buf_append(&b, text, (size_t) (at - text));
		il_buf_puts(&b, at + 77);
		il_sha256_hex(b.data, b.len, hex);
		if (strcmp(hex, pid) != 0)
		{
			printf("#   plan_id is not the hash of the plan\n");
			problems++;
		}
	}
	il_jcs_free(doc);
	il_buf_free(&canon);
	il_buf_free(&b);
	return problems;
}

/* s, or "" when NULL. */
static const char *
or_empty(const char *s)
{
	return s != NULL ? s : "";
}

/* The text of a JSON string member of v, or "". */
static const char *
member(const il_jcs_value *v, const char *key)
{
	const char *t = il_jcs_string(il_jcs_get(v, key), NULL);

	return t != NULL ? t : "";
}

/*
 * Checks the planner's result against the plan's text: the ids, the
 * commits, every step's fields in plan order, its upstream steps as in
 * depends_on and its dependents (exactly the steps that list it, in the
 * order of their ids). Returns the number of problems (each printed).
 */
static int
result_problems(const char *text, size_t len, const il_plan_result *res)
{
	il_error	err;
	il_jcs_doc *doc = il_jcs_parse(text, len, &err);
	const il_jcs_value *root = il_jcs_root(doc);
	const il_jcs_value *s;
	int			problems = 0;
	size_t		i = 0;

	if (doc == NULL)
		return 1;
	if (strcmp(member(root, "plan_id"), res->plan_id) != 0 || strcmp(member(root, "base"), res->base) != 0 ||
		strcmp(member(root, "target"), res->target) != 0)
	{
		printf("#   the result's plan_id, base or target is not the text's\n");
		problems++;
	}
	for (s = il_jcs_first(il_jcs_get(root, "steps")); s != NULL; s = il_jcs_next(s), i++)
	{
		const il_plan_step *st = &res->steps[i];
		const il_jcs_value *range = il_jcs_get(s, "input_range");
		const il_jcs_value *d;
		char		start[IL_DATE_LEN + 1] = "";
		char		end[IL_DATE_LEN + 1] = "";
		size_t		k = 0;
		size_t		j;
		size_t		n = 0;
		const char *prev = "";

		if (i >= res->n_steps)
			break;
		if (!st->full_refresh)
		{
			il_date_format(st->start, start);
			il_date_format(st->end, end);
		}
		if (strcmp(member(s, "step_id"), st->step_id) != 0 || strcmp(member(s, "model"), st->model) != 0 ||
			strcmp(member(s, "kind"), st->kind) != 0 ||
			strcmp(member(s, "materialization"), st->materialization) != 0 ||
			strcmp(member(s, "reason"), st->reason) != 0 ||
			strcmp(member(s, "sql_sha256"), st->sql_sha256) != 0 ||
			strcmp(member(s, "run_type"), st->full_refresh ? "FULL_REFRESH" : "INCREMENTAL") != 0 ||
			il_jcs_number(il_jcs_get(s, "parallel_group")) != (double) st->parallel_group ||
			(il_jcs_kind_of(range) == IL_JCS_NULL) != st->full_refresh ||
			(!st->full_refresh && (strcmp(member(range, "start"), start) != 0 ||
								   strcmp(member(range, "end"), end) != 0)))
		{
			printf("#   step %zu of the result is not the text's\n", i);
			problems++;
		}
		for (d = il_jcs_first(il_jcs_get(s, "depends_on")); d != NULL; d = il_jcs_next(d), k++)
			if (k >= st->n_upstream || st->upstream[k] >= i ||
				strcmp(il_jcs_string(d, NULL), res->steps[st->upstream[k]].step_id) != 0)
				break;
		if (d != NULL || k != st->n_upstream)
		{
			printf("#   step %s: the result's upstream steps are not depends_on\n", st->model);
			problems++;
		}
		/* the dependents: the steps that list this one, in id order */
		for (j = 0; j < res->n_steps; j++)
			for (k = 0; k < res->steps[j].n_upstream; k++)
				n += res->steps[j].upstream[k] == i;
		for (k = 0; k < st->n_dependents; k++)
		{
			const il_plan_step *dep = &res->steps[st->dependents[k]];
			bool		lists = false;

			for (j = 0; j < dep->n_upstream; j++)
				lists = lists || dep->upstream[j] == i;
			if (!lists || strcmp(prev, dep->step_id) >= 0)
				break;
			prev = dep->step_id;
		}
		if (k != st->n_dependents || n != st->n_dependents)
		{
			printf("#   step %s: the result's dependents are not the reverse of depends_on\n", st->model);
			problems++;
		}
	}
	if (i != res->n_steps || s != NULL)
	{
		printf("#   the result has %zu steps, the text more or fewer\n", res->n_steps);
		problems++;
	}
	il_jcs_free(doc);
	return problems;
}

/* ---- making plans ---- */

/* The last plan made, parsed. */
static il_jcs_doc *doc = NULL;
static il_buf text = IL_BUF_INIT;
static char plan_id[IL_SHA256_HEX_LEN + 1];
static int	bad_plans = 0;

/*
 * Plans base..head of the repository at path with options given as JSON
 * (NULL: defaults). Returns 0 or -1 (err). The text goes to `text`, the
 * parsed plan to `doc`. Every plan made is checked by plan_problems.
 */
static int
plan(const char *path, const char *base, const char *head, const char *as_of, const char *opts_json,
	 const il_plan_watermark *wms, size_t nwm, il_error *err)
{
	il_git_repo *g = NULL;
	il_plan_options o;
	il_plan_result res = IL_PLAN_RESULT_INIT;
	int			rc;

	il_jcs_free(doc);
	doc = NULL;
	il_buf_reset(&text);
	il_plan_options_init(&o);
	if (opts_json != NULL && il_plan_options_parse(opts_json, strlen(opts_json), &o, err) != 0)
		return -1;
	if (il_git_open(path, &g, err) != 0)
		return -1;
	rc = il_plan_from_git_result(g, base, head, NULL, NULL, day(as_of), &o, wms, nwm, &text, &res, NULL, err);
	il_git_close(g);
	il_plan_options_free(&o);
	memcpy(plan_id, res.plan_id, sizeof(plan_id));
	if (rc == 0)
	{
		if (plan_problems(text.data, text.len) != 0 || result_problems(text.data, text.len, &res) != 0)
		{
			bad_plans++;
			printf("#   in plan %s\n", text.data);
		}
		doc = il_jcs_parse(text.data, text.len, err);
	}
	il_plan_result_free(&res);
	return rc;
}

/* The step of model in the last plan, or NULL. */
static const il_jcs_value *
step(const char *model)
{
	const il_jcs_value *s;

	for (s = il_jcs_first(il_jcs_get(il_jcs_root(doc), "steps")); s != NULL; s = il_jcs_next(s))
		if (strcmp(il_jcs_string(il_jcs_get(s, "model"), NULL), model) == 0)
			return s;
	return NULL;
}

/*
 * The steps of the last plan, one line each:
 * "model group run_type start..end|- reason".
 */
static const char *
steps_text(void)
{
	static il_buf b = IL_BUF_INIT;
	const il_jcs_value *s;

	il_buf_reset(&b);
	if (doc == NULL)
		return "(no plan)";
	for (s = il_jcs_first(il_jcs_get(il_jcs_root(doc), "steps")); s != NULL; s = il_jcs_next(s))
	{
		const il_jcs_value *r = il_jcs_get(s, "input_range");

		il_buf_printf(&b, "%s %d %s ", il_jcs_string(il_jcs_get(s, "model"), NULL),
					  (int) il_jcs_number(il_jcs_get(s, "parallel_group")),
					  il_jcs_string(il_jcs_get(s, "run_type"), NULL));
		if (il_jcs_kind_of(r) == IL_JCS_NULL)
			il_buf_puts(&b, "-");
		else
			il_buf_printf(&b, "%s..%s", il_jcs_string(il_jcs_get(r, "start"), NULL),
						  il_jcs_string(il_jcs_get(r, "end"), NULL));
		il_buf_printf(&b, " %s\n", il_jcs_string(il_jcs_get(s, "reason"), NULL));
	}
	return il_buf_cstr(&b);
}

/* A summary list of the last plan, comma-joined. */
static const char *
summary(const char *key)
{
	static il_buf b = IL_BUF_INIT;
	const il_jcs_value *v;

	il_buf_reset(&b);
	for (v = il_jcs_first(il_jcs_get(il_jcs_get(il_jcs_root(doc), "summary"), key)); v != NULL; v = il_jcs_next(v))
	{
		if (b.len > 0)
			il_buf_putc(&b, ',');
		il_buf_puts(&b, il_jcs_string(v, NULL));
	}
	return il_buf_cstr(&b);
}

/* A member of the step of model, as text ("(none)" when missing). */
static const char *
field(const char *model, const char *key)
{
	static il_buf b = IL_BUF_INIT;
	const il_jcs_value *v = il_jcs_get(step(model), key);

	il_buf_reset(&b);
	if (v == NULL)
		return "(none)";
	if (il_jcs_kind_of(v) == IL_JCS_STRING)
		return il_jcs_string(v, NULL);
	il_jcs_write(&b, v);
	return il_buf_cstr(&b);
}

/* Are the depends_on of model exactly the step ids of the models listed (comma-separated)? */
static int
depends_on(const char *model, const char *ups)
{
	const char *want[16];
	int			n = 0;
	int			i;
	char		copy[512];
	char	   *tok;
	char	   *save = NULL;
	const il_jcs_value *d = il_jcs_get(step(model), "depends_on");

	if (d == NULL)
		return 0;
	snprintf(copy, sizeof(copy), "%s", ups);
	for (tok = strtok_r(copy, ",", &save); tok != NULL && n < 16; tok = strtok_r(NULL, ",", &save))
		want[n++] = il_jcs_string(il_jcs_get(step(tok), "step_id"), NULL);
	if ((int) il_jcs_count(d) != n)
		return 0;
	for (i = 0; i < n; i++)
	{
		const il_jcs_value *e;
		bool		found = false;

		for (e = il_jcs_first(d); e != NULL; e = il_jcs_next(e))
			if (want[i] != NULL && strcmp(il_jcs_string(e, NULL), want[i]) == 0)
				found = true;
		if (!found)
			return 0;
	}
	return 1;
}

/* Does err have code and a message containing what? */
static int
err_is(const il_error *err, const char *code, const char *what)
{
	int			ok = err->code != NULL && strcmp(err->code, code) == 0 &&
		(what == NULL || strstr(err->message, what) != NULL);

	if (!ok)
		printf("#   error: %s: %s\n", err->code ? err->code : "(none)", err->message);
	return ok;
}

/* Does parsing options json fail with invalid_option and a message containing what and the keys? */
static int
option_fails(const char *json, const char *what)
{
	il_plan_options o;
	il_error	err;
	int			ok;

	ok = il_plan_options_parse(json, strlen(json), &o, &err) == -1 && err_is(&err, "invalid_option", what) &&
		strstr(err.message, "options") != NULL && strstr(err.message, "environment, ") != NULL &&
		o.kind == IL_PLAN_CHANGE && strcmp(o.environment, "dev") == 0 && o.lookback_days == 30 &&
		o.recompute_days == 0 && o.skip_cosmetic && o.n_full_refresh == 0 && o.n_models == 0 &&
		o.batch_days == 7;
	il_plan_options_free(&o);
	return ok;
}

/* il_plan_options_parse of a C string. */
static int
parse_options(const char *json, il_plan_options *o, il_error *err)
{
	return il_plan_options_parse(json, strlen(json), o, err);
}

/* Does parsing a watermark file fail with invalid_watermark and a message containing what? */
static int
watermarks_fail(const char *json, const char *what)
{
	il_plan_watermarks w;
	il_error	err;
	int			ok;

	ok = il_plan_watermarks_parse(json, strlen(json), &w, &err) == -1 && err_is(&err, "invalid_watermark", what) &&
		w.n == 0 && w.items == NULL;
	il_plan_watermarks_free(&w);
	return ok;
}

/* sha-256 hex of a C string (static buffer, two in turn). */
static const char *
sha(const char *s)
{
	static char out[2][IL_SHA256_HEX_LEN + 1];
	static int	k = 0;

	k ^= 1;
	il_sha256_hex(s, strlen(s), out[k]);
	return out[k];
}

/* ---- model files ---- */

#define FR(name, sql) "-- name: " name "\n-- kind: FULL_REFRESH\n" sql "\n"
#define INC(name, sql) "-- name: " name "\n-- kind: INCREMENTAL_BY_TIME_RANGE\n-- time_column: day\n" sql "\n"
#define APP(name, sql) "-- name: " name "\n-- kind: APPEND_ONLY\n" sql "\n"
#define MRG(name, sql) "-- name: " name "\n-- kind: MERGE_BY_KEY\n-- unique_key: id\n" sql "\n"

#define RAW_A1 FR("raw.a", "SELECT 1 AS id FROM landing.a")
#define RAW_A2 FR("raw.a", "SELECT 2 AS id FROM landing.a")
#define S_B FR("s.b", "SELECT id FROM raw.a")
#define M_C FR("m.c", "SELECT id FROM s.b")
#define OLD_X FR("old.x", "SELECT 3 AS y")
#define NEW_N "-- name: new.n\n-- kind: FULL_REFRESH\n-- materialization: VIEW\nSELECT id FROM {{ ref('c') }}\n"

/*
 * Appends the text of a step without step_id, as the format says, and
 * returns its id (static, four in turn).
 */
static const char *
want_step(il_buf *all, const char *deps, const char *range, const char *kind, const char *mat,
		  const char *model, int group, const char *reason, const char *run_type, const char *sql)
{
	static char ids[4][IL_SHA256_HEX_LEN + 1];
	static int	k = 0;
	il_buf		b = IL_BUF_INIT;

	k = (k + 1) % 4;
	il_buf_printf(&b, "{\"depends_on\":[%s],\"input_range\":%s,\"kind\":\"%s\",\"materialization\":\"%s\","
				  "\"model\":\"%s\",\"parallel_group\":%d,\"reason\":\"%s\",\"run_type\":\"%s\",\"sql_sha256\":\"%s\"}",
				  deps, range, kind, mat, model, group, reason, run_type, sha(sql));
	il_sha256_hex(b.data, b.len, ids[k]);
	if (all->len > 0)
		il_buf_putc(all, ',');
	il_buf_append(all, b.data, b.len - 1);
	il_buf_printf(all, ",\"step_id\":\"%s\"}", ids[k]);
	il_buf_free(&b);
	return ids[k];
}

/* ---- a naive reimplementation, for generated repositories ---- */

/*
 * Checks the plan of diff d (in doc) against the rules computed the slow
 * way: affected = reachable from a directly changed model; group = longest
 * path from an affected model with no affected upstream; reason from the
 * full ancestor set of each model. Returns the number of mismatches.
 */
static int
naive_mismatches(const il_repo_diff_result *d, bool skip_cosmetic)
{
	const il_repo_models *h = d->head;
	const il_dag *g = h->dag;
	size_t		n = h->n;
	char	   *direct = calloc(n + 1, 1);
	char	   *added = calloc(n + 1, 1);
	char	   *affected = calloc(n + 1, 1);
	char	   *seen = calloc(n + 1, 1);
	int		   *group = calloc(n + 1, sizeof(int));
	size_t	   *stack = malloc((n + 1) * sizeof(size_t));
	size_t		i,
				r,
				k,
				e;
	int			bad = 0;
	size_t		nsteps = 0;
	bool		changed;

	for (r = 0; r < d->n; r++)
		for (i = 0; i < n; i++)
			if (strcmp(h->models[i].name, d->rows[r].model) == 0)
			{
				if (d->rows[r].change == IL_CHANGE_ADDED || d->rows[r].change == IL_CHANGE_MODIFIED ||
					(d->rows[r].change == IL_CHANGE_COSMETIC && !skip_cosmetic))
					direct[i] = 1;
				added[i] = d->rows[r].change == IL_CHANGE_ADDED;
			}
	/* affected: a walk down from each directly changed model */
	for (i = 0; i < n; i++)
	{
		size_t		top = 0;

		if (!direct[i])
			continue;
		stack[top++] = i;
		while (top > 0)
		{
			size_t		v = stack[--top];

			if (affected[v])
				continue;
			affected[v] = 1;
			for (e = g->down_off[v]; e < g->down_off[v + 1]; e++)
				stack[top++] = g->down[e];
		}
	}
	/* groups: relax until nothing changes */
	do
	{
		changed = false;
		for (i = 0; i < n; i++)
			if (affected[i])
				for (e = g->up_off[i]; e < g->up_off[i + 1]; e++)
					if (affected[g->up[e]] && group[g->up[e]] + 1 > group[i])
					{
						group[i] = group[g->up[e]] + 1;
						changed = true;
					}
	} while (changed);
	for (i = 0; i < n; i++)
	{
		const il_jcs_value *s;
		char		want[256];
		const char *cause = NULL;

		if (!affected[i])
		{
			if (step(h->models[i].name) != NULL)
			{
				printf("#   %s has a step but is not affected\n", h->models[i].name);
				bad++;
			}
			continue;
		}
		nsteps++;
		s = step(h->models[i].name);
		if (s == NULL)
		{
			printf("#   %s is affected but has no step\n", h->models[i].name);
			bad++;
			continue;
		}
		if ((int) il_jcs_number(il_jcs_get(s, "parallel_group")) != group[i])
		{
			printf("#   %s: group %d, want %d\n", h->models[i].name,
				   (int) il_jcs_number(il_jcs_get(s, "parallel_group")), group[i]);
			bad++;
		}
		if (added[i])
			snprintf(want, sizeof(want), "new model added");
		else if (direct[i])
			snprintf(want, sizeof(want), "SQL logic changed");
		else
		{
			/* the smallest directly changed parent, else ancestor (a full walk up) */
			for (e = g->up_off[i]; e < g->up_off[i + 1] && cause == NULL; e++)
				if (direct[g->up[e]])
					cause = h->models[g->up[e]].name;
			if (cause == NULL)
			{
				size_t		top = 0;

				memset(seen, 0, n);
				stack[top++] = i;
				while (top > 0)
				{
					size_t		v = stack[--top];

					for (e = g->up_off[v]; e < g->up_off[v + 1]; e++)
					{
						size_t		u = g->up[e];

						if (seen[u])
							continue;
						seen[u] = 1;
						stack[top++] = u;
					}
				}
				for (k = 0; k < n && cause == NULL; k++)
					if (seen[k] && direct[k])
						cause = h->models[k].name;
			}
			snprintf(want, sizeof(want), "downstream of %s", cause ? cause : "?");
		}
		if (strcmp(il_jcs_string(il_jcs_get(s, "reason"), NULL), want) != 0)
		{
			printf("#   %s: reason \"%s\", want \"%s\"\n", h->models[i].name,
				   il_jcs_string(il_jcs_get(s, "reason"), NULL), want);
			bad++;
		}
		/* an incremental step never has a full refresh upstream step */
		if (strcmp(il_jcs_string(il_jcs_get(s, "run_type"), NULL), "INCREMENTAL") == 0)
			for (e = g->up_off[i]; e < g->up_off[i + 1]; e++)
			{
				const il_jcs_value *u = step(h->models[g->up[e]].name);

				if (u != NULL && strcmp(il_jcs_string(il_jcs_get(u, "run_type"), NULL), "FULL_REFRESH") == 0)
				{
					printf("#   %s is incremental below a full refresh\n", h->models[i].name);
					bad++;
				}
			}
		if (strcmp(il_jcs_string(il_jcs_get(s, "sql_sha256"), NULL), h->models[i].sql_sha256) != 0)
		{
			printf("#   %s: sql_sha256\n", h->models[i].name);
			bad++;
		}
	}
	if (nsteps != il_jcs_count(il_jcs_get(il_jcs_root(doc), "steps")))
		bad++;
	free(direct);
	free(added);
	free(affected);
	free(seen);
	free(group);
	free(stack);
	return bad;
}

int
main(void)
{
	char		p[512];
	char		c1[IL_GIT_OID_HEX_LEN + 1];
	char		c2[IL_GIT_OID_HEX_LEN + 1];
	il_error	err;
	il_buf		want = IL_BUF_INIT;
	il_buf		all = IL_BUF_INIT;

	if (mkdtemp(tmp) == NULL)
	{
		printf("Bail out! mkdtemp\n");
		return 1;
	}

	/* ---- a chain, an added and a removed model: the whole text ---- */
	{
		gen_file	f1[] = {
			{"models/raw/a.sql", RAW_A1, 0, 0},
			{"models/s/b.sql", S_B, 0, 0},
			{"models/m/c.sql", M_C, 0, 0},
			{"models/old/x.sql", OLD_X, 0, 0},
		};
		gen_file	f2[] = {
			{"models/raw/a.sql", RAW_A2, 0, 0},
			{"models/s/b.sql", S_B, 0, 0},
			{"models/m/c.sql", M_C, 0, 0},
			{"models/new/n.sql", NEW_N, 0, 0},
		};
		const char *id_a,
				   *id_b,
				   *id_c;
		char		deps[80];
		char		ida[IL_SHA256_HEX_LEN + 1];
		char		plan_hex[IL_SHA256_HEX_LEN + 1];
		size_t		at;

		two_commits(p, sizeof(p), f1, 4, f2, 4, c1, c2);
		CHECK(plan(p, c1, c2, "2025-06-15", NULL, NULL, 0, &err) == 0, "a plan of a chain, an added and a removed model");
		CHECK_STR(steps_text(),
				  "raw.a 0 FULL_REFRESH - SQL logic changed\n"
				  "s.b 1 FULL_REFRESH - downstream of raw.a\n"
				  "m.c 2 FULL_REFRESH - downstream of raw.a\n"
				  "new.n 3 FULL_REFRESH - new model added\n",
				  "chain: groups 0..3, ordered by group; a grandchild is downstream of the changed ancestor");
		CHECK_STR(summary("models_added"), "new.n", "models_added");
		CHECK_STR(summary("models_modified"), "raw.a", "models_modified");
		CHECK_STR(summary("models_removed"), "old.x", "models_removed: listed, no step");
		CHECK(step("old.x") == NULL, "a removed model has no step");
		CHECK_STR(summary("models_affected"), "m.c,new.n,raw.a,s.b", "models_affected, sorted by name");
		CHECK_STR(field("new.n", "materialization"), "VIEW", "materialization from the header");
		CHECK_STR(field("raw.a", "sql_sha256"), sha(RAW_A2), "sql_sha256 is the hash of the file at target");
		CHECK(depends_on("s.b", "raw.a") && depends_on("m.c", "s.b") && depends_on("new.n", "m.c") &&
			  depends_on("raw.a", ""), "depends_on: the step ids of the affected direct upstreams");

		/* rebuilt here from the format description */
		il_buf_reset(&all);
		id_a = want_step(&all, "", "null", "FULL_REFRESH", "TABLE", "raw.a", 0, "SQL logic changed",
						 "FULL_REFRESH", RAW_A2);
		memcpy(ida, id_a, sizeof(ida));
		snprintf(deps, sizeof(deps), "\"%s\"", ida);
		id_b = want_step(&all, deps, "null", "FULL_REFRESH", "TABLE", "s.b", 1, "downstream of raw.a",
						 "FULL_REFRESH", S_B);
		snprintf(deps, sizeof(deps), "\"%s\"", id_b);
		id_c = want_step(&all, deps, "null", "FULL_REFRESH", "TABLE", "m.c", 2, "downstream of raw.a",
						 "FULL_REFRESH", M_C);
		snprintf(deps, sizeof(deps), "\"%s\"", id_c);
		want_step(&all, deps, "null", "FULL_REFRESH", "VIEW", "new.n", 3, "new model added", "FULL_REFRESH", NEW_N);
		il_buf_reset(&want);
		il_buf_printf(&want, "{\"as_of\":\"2025-06-15\",\"base\":\"%s\",\"environment\":\"dev\","
					  "\"format\":\"ironlayer.plan/v1\",\"options\":{\"environment\":\"dev\",\"full_refresh\":[],"
					  "\"lookback_days\":30,\"skip_cosmetic\":true}", c1);
		at = want.len;
		il_buf_printf(&want, ",\"steps\":[%s],\"summary\":{\"cosmetic_changes_skipped\":[],\"models_added\":[\"new.n\"],"
					  "\"models_affected\":[\"m.c\",\"new.n\",\"raw.a\",\"s.b\"],\"models_modified\":[\"raw.a\"],"
					  "\"models_removed\":[\"old.x\"],\"total_steps\":4},\"target\":\"%s\"}", all.data, c2);
		il_sha256_hex(want.data, want.len, plan_hex);
		{
			il_buf		w2 = IL_BUF_INIT;

			il_buf_append(&w2, want.data, at);
			il_buf_printf(&w2, ",\"plan_id\":\"%s\"", plan_hex);
			il_buf_puts(&w2, want.data + at);
			CHECK_STR(il_buf_cstr(&text), il_buf_cstr(&w2), "the whole canonical text, rebuilt from the format");
			il_buf_reset(&want);
			il_buf_puts(&want, il_buf_cstr(&w2));	/* the whole text, for below */
			il_buf_free(&w2);
		}
		CHECK_STR(plan_id, plan_hex, "plan_id is returned too");
		printf("# golden plan id: %s\n", plan_id);
		CHECK_STR(plan_id, "8d4e4189040aa57a2f79d963414420546ee3d8f99e5826a0d11ad4760c18ad47",
				  "the golden plan id is unchanged (if the format changed on purpose: a new format version)");
		{
			il_buf		c = IL_BUF_INIT;

			CHECK(il_jcs_canonicalize(text.data, text.len, &c, &err) == 0 && c.len == text.len &&
				  memcmp(c.data, text.data, c.len) == 0, "the plan equals il_jcs_canonicalize(plan)");
			il_buf_free(&c);
		}

		/* same inputs, same bytes; another date, other ids */
		{
			il_buf		first = IL_BUF_INIT;
			char		first_id[IL_SHA256_HEX_LEN + 1];

			il_buf_puts(&first, il_buf_cstr(&text));
			memcpy(first_id, plan_id, sizeof(first_id));
			plan(p, c1, "main", "2025-06-15", NULL, NULL, 0, &err);
			CHECK_STR(il_buf_cstr(&text), il_buf_cstr(&first), "the same plan again, head given as a branch name");
			plan(p, c1, c2, "2025-06-16", NULL, NULL, 0, &err);
			CHECK(strcmp(plan_id, first_id) != 0 && strcmp(field("raw.a", "step_id"), ida) == 0,
				  "another as_of: another plan id (a full refresh step does not depend on the date)");
			plan(p, c1, c2, "2025-06-15", "{\"environment\":\"prod\"}", NULL, 0, &err);
			CHECK(strcmp(plan_id, first_id) != 0 && strstr(text.data, "\"environment\":\"prod\",\"format\"") != NULL &&
				  strstr(text.data, "\"options\":{\"environment\":\"prod\"") != NULL,
				  "the environment is in the plan and its options");
			il_buf_free(&first);
		}

		/* il_plan_build directly: appends, defaults with NULL options */
		{
			il_git_repo *g = NULL;
			il_repo_diff_result *d = NULL;
			il_buf		out = IL_BUF_INIT;
			char		id2[IL_SHA256_HEX_LEN + 1];

			il_buf_puts(&out, "prefix:");
			CHECK(il_git_open(p, &g, &err) == 0 && il_repo_diff(g, c1, c2, NULL, NULL, &d, &err) == 0 &&
				  d->head->dag != NULL, "a diff builds the head's graph (for its unknown references)");
			CHECK(d && il_plan_build(d, day("2025-06-15"), NULL, NULL, 0, &out, id2, &err) == 0 &&
				  strcmp(id2, plan_hex) == 0 && d->head->dag != NULL,
				  "il_plan_build with NULL options: the default plan, on the diff's graph");
			CHECK(strncmp(il_buf_cstr(&out), "prefix:{\"as_of\":", 16) == 0 && strcmp(out.data + 7, want.data) == 0 &&
				  out.len == 7 + want.len, "the plan is appended to out");
			CHECK(d && il_plan_build(d, IL_DATE_MAX + 1, NULL, NULL, 0, &out, id2, &err) == -1 &&
				  err_is(&err, "invalid_date", "as_of") && out.len == 7 + want.len && id2[0] == '\0',
				  "an as_of out of range: invalid_date, out unchanged");
			CHECK_STR(il_error_sqlstate(&err), "22023", "invalid_date is 22023");
			il_repo_diff_free(d);
			il_git_close(g);
			il_buf_free(&out);
		}
	}

	/* ---- the empty plan ---- */
	{
		gen_file	f1[] = {{"models/raw/a.sql", RAW_A1, 0, 0}, {"models/s/b.sql", S_B, 0, 0}};
		char		hex[IL_SHA256_HEX_LEN + 1];

		two_commits(p, sizeof(p), f1, 2, f1, 2, c1, c2);
		CHECK(plan(p, c1, c1, "2025-06-15", NULL, NULL, 0, &err) == 0, "base = head plans");
		il_buf_reset(&want);
		il_buf_printf(&want, "{\"as_of\":\"2025-06-15\",\"base\":\"%s\",\"environment\":\"dev\","
					  "\"format\":\"ironlayer.plan/v1\",\"options\":{\"environment\":\"dev\",\"full_refresh\":[],"
					  "\"lookback_days\":30,\"skip_cosmetic\":true},\"steps\":[],\"summary\":{\"cosmetic_changes_skipped\":[],"
					  "\"models_added\":[],\"models_affected\":[],\"models_modified\":[],\"models_removed\":[],"
					  "\"total_steps\":0},\"target\":\"%s\"}", c1, c1);
		il_sha256_hex(want.data, want.len, hex);
		{
			char	   *at = strstr(want.data, ",\"steps\"");
			il_buf		w2 = IL_BUF_INIT;

			il_buf_append(&w2, want.data, (size_t) (at - want.data));
			il_buf_printf(&w2, ",\"plan_id\":\"%s\"%s", hex, at);
			CHECK_STR(il_buf_cstr(&text), il_buf_cstr(&w2), "the empty plan, whole text, with a valid id");
			il_buf_free(&w2);
		}
		CHECK(plan(p, c1, c2, "2025-06-15", NULL, NULL, 0, &err) == 0 &&
			  il_jcs_count(il_jcs_get(il_jcs_root(doc), "steps")) == 0 && strcmp(plan_id, hex) != 0,
			  "two commits with the same models: no step (another target, another id)");
	}

	/* ---- every model removed: no model at head ---- */
	{
		gen_file	f1[] = {{"models/raw/a.sql", RAW_A1, 0, 0}, {"models/s/b.sql", S_B, 0, 0}};
		gen_file	f2[] = {{"models/README.sql", "-- the models are gone\nSELECT 1\n", 0, 0}};
		il_git_repo *g = NULL;
		il_repo_stats st;

		two_commits(p, sizeof(p), f1, 2, f2, 1, c1, c2);
		CHECK(plan(p, c1, c2, "2025-06-15", NULL, NULL, 0, &err) == 0 && strcmp(steps_text(), "") == 0 &&
			  strcmp(summary("models_removed"), "raw.a,s.b") == 0 && strcmp(summary("models_affected"), "") == 0,
			  "no model left at head: both removed, no step");
		CHECK(il_git_open(p, &g, &err) == 0 &&
			  il_plan_from_git(g, c1, c2, NULL, NULL, day("2025-06-15"), NULL, NULL, 0, &text, plan_id, &st, &err) == 0 &&
			  st.files == 3 && st.parsed == 3, "il_plan_from_git reports the diff's counts");
		il_git_close(g);
	}

	/* ---- diamonds ---- */
	{
		gen_file	f1[] = {
			{"models/a.sql", FR("d.a", "SELECT 1 AS id"), 0, 0},
			{"models/b.sql", FR("d.b", "SELECT id FROM d.a"), 0, 0},
			{"models/c.sql", FR("d.c", "SELECT id FROM d.a"), 0, 0},
			{"models/e.sql", FR("d.e", "SELECT 5 AS id"), 0, 0},
			{"models/d.sql", FR("d.d", "SELECT * FROM d.b JOIN d.c USING (id) JOIN d.e USING (id)"), 0, 0},
			{"models/x.sql", FR("d.x", "SELECT id FROM d.a"), 0, 0},
			{"models/y.sql", FR("d.y", "SELECT id FROM d.x"), 0, 0},
			{"models/z.sql", FR("d.z", "SELECT * FROM d.y JOIN d.a USING (id)"), 0, 0},
		};
		gen_file	f2[8];

		memcpy(f2, f1, sizeof(f1));
		f2[0].content = FR("d.a", "SELECT 2 AS id");
		two_commits(p, sizeof(p), f1, 8, f2, 8, c1, c2);
		CHECK(plan(p, c1, c2, "2025-06-15", NULL, NULL, 0, &err) == 0, "a plan of diamonds");
		CHECK_STR(steps_text(),
				  "d.a 0 FULL_REFRESH - SQL logic changed\n"
				  "d.b 1 FULL_REFRESH - downstream of d.a\n"
				  "d.c 1 FULL_REFRESH - downstream of d.a\n"
				  "d.x 1 FULL_REFRESH - downstream of d.a\n"
				  "d.d 2 FULL_REFRESH - downstream of d.a\n"
				  "d.y 2 FULL_REFRESH - downstream of d.a\n"
				  "d.z 3 FULL_REFRESH - downstream of d.a\n",
				  "diamonds: the join of two branches in group 2; the uneven one in group 3 (longest path)");
		CHECK(depends_on("d.d", "d.b,d.c"), "diamond: depends_on holds both branches, not the unaffected d.e");
		CHECK(step("d.e") == NULL, "an unaffected upstream has no step");
		CHECK(strstr(steps_text(), "d.z 3 FULL_REFRESH - downstream of d.a\n") != NULL && depends_on("d.z", "d.a,d.y"),
			  "uneven diamond: the longest path decides the group (3, not 1); the direct parent is the reason");
		CHECK(strstr(steps_text(), "d.y 2 FULL_REFRESH - downstream of d.a\n") != NULL,
			  "a grandchild without a changed parent: the changed ancestor");
	}

	/* ---- reasons: the direct parent beats a smaller ancestor; causes pass through changed models ---- */
	{
		gen_file	f1[] = {
			{"models/1.sql", FR("a.x", "SELECT 1 AS id"), 0, 0},
			{"models/2.sql", FR("b.y", "SELECT id FROM a.x"), 0, 0},
			{"models/3.sql", FR("c.z", "SELECT 3 AS id"), 0, 0},
			{"models/4.sql", FR("d.t", "SELECT * FROM b.y JOIN c.z USING (id)"), 0, 0},
			{"models/5.sql", FR("e.m", "SELECT id FROM a.x"), 0, 0},
			{"models/6.sql", FR("f.w", "SELECT id FROM e.m"), 0, 0},
			{"models/7.sql", FR("g.v", "SELECT id FROM f.w"), 0, 0},
			{"models/8.sql", FR("p.c", "SELECT 8 AS id"), 0, 0},
			{"models/9.sql", FR("r.c", "SELECT id FROM p.c"), 0, 0},
			{"models/10.sql", FR("q.b", "SELECT id FROM a.x"), 0, 0},
			{"models/11.sql", FR("s.d", "SELECT * FROM r.c JOIN q.b USING (id)"), 0, 0},
		};
		gen_file	f2[11];

		memcpy(f2, f1, sizeof(f1));
		f2[0].content = FR("a.x", "SELECT 10 AS id");
		f2[2].content = FR("c.z", "SELECT 30 AS id");
		f2[4].content = FR("e.m", "SELECT id + 1 AS id FROM a.x");
		f2[7].content = FR("p.c", "SELECT 80 AS id");
		two_commits(p, sizeof(p), f1, 11, f2, 11, c1, c2);
		CHECK(plan(p, c1, c2, "2025-06-15", NULL, NULL, 0, &err) == 0, "a plan for the reason rules");
		CHECK_STR(field("d.t", "reason"), "downstream of c.z",
				  "the smallest directly changed direct parent (c.z) beats a smaller changed ancestor (a.x)");
		CHECK_STR(field("b.y", "reason"), "downstream of a.x", "a direct parent");
		CHECK_STR(field("e.m", "reason"), "SQL logic changed", "a changed model below another is itself changed");
		CHECK_STR(field("g.v", "reason"), "downstream of a.x",
				  "the smallest changed ancestor is found through a changed model (a.x above e.m)");
		CHECK_STR(field("s.d", "reason"), "downstream of a.x",
				  "no changed parent: the smallest changed ancestor of several (a.x < p.c)");
		CHECK_STR(field("f.w", "reason"), "downstream of e.m", "the direct parent, not the smaller ancestor a.x");
	}

	/* ---- incremental ranges ---- */
	{
		gen_file	f1[] = {
			{"models/up.sql", INC("i.up", "SELECT day, 1 AS v FROM landing.up"), 0, 0},
			{"models/down.sql", INC("i.down", "SELECT day, v FROM i.up"), 0, 0},
			{"models/app.sql", APP("i.app", "SELECT day, v FROM i.down"), 0, 0},
			{"models/solo.sql", INC("i.solo", "SELECT day, 1 AS v FROM landing.solo"), 0, 0},
			{"models/other.sql", INC("i.other", "SELECT day, 2 AS v FROM landing.other"), 0, 0},
			{"models/both.sql", INC("i.both", "SELECT * FROM i.solo JOIN i.other USING (day)"), 0, 0},
		};
		gen_file	f2[6];
		il_plan_watermark wm[5];

		memcpy(f2, f1, sizeof(f1));
		f2[0].content = INC("i.up", "SELECT day, 2 AS v FROM landing.up");
		f2[3].content = INC("i.solo", "SELECT day, 3 AS v FROM landing.solo");
		f2[4].content = INC("i.other", "SELECT day, 4 AS v FROM landing.other");
		two_commits(p, sizeof(p), f1, 6, f2, 6, c1, c2);

		CHECK(plan(p, c1, c2, "2025-06-15", NULL, NULL, 0, &err) == 0, "incremental models without watermarks");
		CHECK_STR(steps_text(),
				  "i.other 0 INCREMENTAL 2025-05-16..2025-06-15 SQL logic changed\n"
				  "i.solo 0 INCREMENTAL 2025-05-16..2025-06-15 SQL logic changed\n"
				  "i.up 0 INCREMENTAL 2025-05-16..2025-06-15 SQL logic changed\n"
				  "i.both 1 INCREMENTAL 2025-05-16..2025-06-15 downstream of i.other\n"
				  "i.down 1 INCREMENTAL 2025-05-16..2025-06-15 downstream of i.up\n"
				  "i.app 2 INCREMENTAL 2025-05-16..2025-06-15 downstream of i.up\n",
				  "no watermark: as_of - 30 days .. as_of; a changed incremental model stays incremental");
		CHECK_STR(field("i.app", "kind"), "APPEND_ONLY", "APPEND_ONLY is planned like an incremental model");
		CHECK_STR(field("i.up", "input_range"), "{\"end\":\"2025-06-15\",\"start\":\"2025-05-16\"}",
				  "input_range is {end, start}");

		CHECK(plan(p, c1, c2, "2025-06-15", "{\"lookback_days\": 7}", NULL, 0, &err) == 0 &&
			  strcmp(field("i.up", "input_range"), "{\"end\":\"2025-06-15\",\"start\":\"2025-06-08\"}") == 0 &&
			  strstr(text.data, "\"lookback_days\":7") != NULL, "lookback_days 7");

		/* watermarks: own end; lowered to the upstream's planned start, not its watermark start */
		wm[0] = (il_plan_watermark) {"i.up", day("2024-01-01"), day("2025-06-01")};
		wm[1] = (il_plan_watermark) {"i.down", day("2025-01-01"), day("2025-06-10")};
		wm[2] = (il_plan_watermark) {"i.app", day("2025-01-01"), day("2025-07-01")};
		wm[3] = (il_plan_watermark) {"i.solo", day("2025-01-01"), day("2025-06-12")};
		wm[4] = (il_plan_watermark) {"i.both", day("2025-01-01"), day("2025-06-14")};
		CHECK(plan(p, c1, c2, "2025-06-15", NULL, wm, 5, &err) == 0, "incremental models with watermarks");
		CHECK_STR(steps_text(),
				  "i.other 0 INCREMENTAL 2025-05-16..2025-06-15 SQL logic changed\n"
				  "i.solo 0 INCREMENTAL 2025-06-12..2025-06-15 SQL logic changed\n"
				  "i.up 0 INCREMENTAL 2025-06-01..2025-06-15 SQL logic changed\n"
				  "i.both 1 INCREMENTAL 2025-05-16..2025-06-15 downstream of i.other\n"
				  "i.down 1 INCREMENTAL 2025-06-01..2025-06-15 downstream of i.up\n"
				  "i.app 2 INCREMENTAL 2025-06-01..2025-06-15 downstream of i.up\n",
				  "start = own watermark end, lowered to the smallest planned start of the upstream steps");
		CHECK_STR(field("i.up", "input_range"), "{\"end\":\"2025-06-15\",\"start\":\"2025-06-01\"}",
				  "the resume point is the watermark end itself (reloaded)");
		CHECK_STR(field("i.down", "input_range"), "{\"end\":\"2025-06-15\",\"start\":\"2025-06-01\"}",
				  "lowered to the upstream step's start 2025-06-01, not its watermark start 2024-01-01");
		CHECK_STR(field("i.app", "input_range"), "{\"end\":\"2025-06-15\",\"start\":\"2025-06-01\"}",
				  "a watermark after as_of is lowered by the upstream step (else clamped to as_of)");
		CHECK_STR(field("i.both", "input_range"), "{\"end\":\"2025-06-15\",\"start\":\"2025-05-16\"}",
				  "two upstream steps: the smallest start (i.other's 2025-05-16, not i.solo's 2025-06-12 "
				  "nor its own 2025-06-14)");

		/* order independence and case */
		{
			il_buf		first = IL_BUF_INIT;
			il_plan_watermark rev[5] = {wm[3], wm[4], wm[2], wm[1], wm[0]};

			il_buf_puts(&first, text.data);
			CHECK(plan(p, c1, c2, "2025-06-15", NULL, rev, 5, &err) == 0 && strcmp(text.data, first.data) == 0,
				  "watermarks in another order: the same bytes");
			rev[0].model = "I.SOLO";
			rev[3].model = "i.Down";
			CHECK(plan(p, c1, c2, "2025-06-15", NULL, rev, 5, &err) == 0 && strcmp(text.data, first.data) == 0,
				  "model names of watermarks are compared lower-cased");
			{
				il_plan_watermark more[7] = {wm[0], wm[1], {"nowhere.x", 0, 5}, wm[2], wm[3], {"up", 0, 1}, wm[4]};

				CHECK(plan(p, c1, c2, "2025-06-15", NULL, more, 7, &err) == 0 && strcmp(text.data, first.data) == 0,
					  "watermarks of models not at head, and short names, are ignored");
			}
			{
				il_plan_watermark dup[3] = {wm[0], wm[1], {"I.UP", 0, 1}};

				CHECK(plan(p, c1, c2, "2025-06-15", NULL, dup, 3, &err) == -1 &&
					  err_is(&err, "invalid_watermark", "i.up") && strstr(err.message, "two watermarks") != NULL,
					  "two watermarks of one model (any case): invalid_watermark naming it");
				CHECK_STR(il_error_sqlstate(&err), "22023", "invalid_watermark is 22023");
				dup[2] = (il_plan_watermark) {"z.gone", day("2025-02-02"), day("2025-02-01")};
				CHECK(plan(p, c1, c2, "2025-06-15", NULL, dup, 3, &err) == -1 &&
					  err_is(&err, "invalid_watermark", "\"z.gone\": start 2025-02-02 is after end 2025-02-01"),
					  "start after end: invalid_watermark naming the model (even one not at head)");
				dup[2] = (il_plan_watermark) {"i.solo", IL_DATE_MIN - 1, 0};
				CHECK(plan(p, c1, c2, "2025-06-15", NULL, dup, 3, &err) == -1 &&
					  err_is(&err, "invalid_watermark", "outside"), "a day out of range");
			}
			il_buf_free(&first);
		}

		/* a watermark after as_of alone: start clamped to as_of */
		{
			il_plan_watermark late = {"i.solo", day("2025-06-01"), day("2025-07-01")};

			CHECK(plan(p, c1, c2, "2025-06-15", NULL, &late, 1, &err) == 0 &&
				  strcmp(field("i.solo", "input_range"), "{\"end\":\"2025-06-15\",\"start\":\"2025-06-15\"}") == 0,
				  "a watermark end after as_of: start clamped to end");
		}

		/* the whole text of one step with a range */
		il_buf_reset(&all);
		CHECK(plan(p, c1, c2, "2025-06-15", NULL, wm, 1, &err) == 0, "one watermark");
		want_step(&all, "", "{\"end\":\"2025-06-15\",\"start\":\"2025-06-01\"}", "INCREMENTAL_BY_TIME_RANGE", "TABLE",
				  "i.up", 0, "SQL logic changed", "INCREMENTAL", INC("i.up", "SELECT day, 2 AS v FROM landing.up"));
		il_buf_reset(&want);
		il_buf_puts(&want, "{\"depends_on\":[],");
		il_buf_puts(&want, strstr(all.data, "\"input_range\""));
		{
			il_buf		got = IL_BUF_INIT;

			il_jcs_write(&got, step("i.up"));
			CHECK_STR(il_buf_cstr(&got), il_buf_cstr(&want), "an incremental step, whole text");
			il_buf_free(&got);
		}

		/* as_of near the first day: the lookback stops at 0001-01-01 */
		CHECK(plan(p, c1, c2, "0001-01-20", NULL, NULL, 0, &err) == 0 &&
			  strcmp(field("i.up", "input_range"), "{\"end\":\"0001-01-20\",\"start\":\"0001-01-01\"}") == 0,
			  "as_of - lookback is clamped at 0001-01-01");
	}

	/* ---- full refresh: by an upstream, by kind, by addition, by the option ---- */
	{
		gen_file	f1[] = {
			{"models/fr.sql", FR("f.root", "SELECT 1 AS id, day FROM landing.r"), 0, 0},
			{"models/i1.sql", INC("f.inc1", "SELECT id, day FROM f.root"), 0, 0},
			{"models/i2.sql", INC("f.inc2", "SELECT id, day FROM f.inc1"), 0, 0},
			{"models/mg.sql", MRG("f.merge", "SELECT 1 AS id, day FROM landing.m"), 0, 0},
			{"models/i3.sql", APP("f.inc3", "SELECT id, day FROM f.merge"), 0, 0},
			{"models/i4.sql", INC("f.inc4", "SELECT 4 AS id, day FROM landing.x"), 0, 0},
			{"models/i5.sql", INC("f.inc5", "SELECT id, day FROM f.inc4"), 0, 0},
			{"models/i6.sql", INC("f.idle", "SELECT 6 AS id, day FROM landing.y"), 0, 0},
		};
		gen_file	f2[9];

		memcpy(f2, f1, sizeof(f1));
		f2[0].content = FR("f.root", "SELECT 2 AS id, day FROM landing.r");
		f2[3].content = MRG("f.merge", "SELECT 2 AS id, day FROM landing.m");
		f2[5].content = INC("f.inc4", "SELECT 40 AS id, day FROM landing.x");
		f2[8] = (gen_file) {"models/new.sql", INC("f.new", "SELECT id, day FROM f.inc5"), 0, 0};
		two_commits(p, sizeof(p), f1, 8, f2, 9, c1, c2);
		CHECK(plan(p, c1, c2, "2025-06-15", NULL, NULL, 0, &err) == 0, "a plan with full refreshes");
		CHECK_STR(steps_text(),
				  "f.inc4 0 INCREMENTAL 2025-05-16..2025-06-15 SQL logic changed\n"
				  "f.merge 0 FULL_REFRESH - SQL logic changed\n"
				  "f.root 0 FULL_REFRESH - SQL logic changed\n"
				  "f.inc1 1 FULL_REFRESH - downstream of f.root\n"
				  "f.inc3 1 FULL_REFRESH - downstream of f.merge\n"
				  "f.inc5 1 INCREMENTAL 2025-05-16..2025-06-15 downstream of f.inc4\n"
				  "f.inc2 2 FULL_REFRESH - downstream of f.root\n"
				  "f.new 2 FULL_REFRESH - new model added\n",
				  "FULL_REFRESH and MERGE_BY_KEY kinds are full; an incremental model below a full refresh is full "
				  "(also two levels down); an added incremental model is full");
		CHECK_STR(field("f.merge", "kind"), "MERGE_BY_KEY", "kind MERGE_BY_KEY");
		CHECK_STR(field("f.inc1", "input_range"), "null", "a full refresh has no range");

		CHECK(plan(p, c1, c2, "2025-06-15", "{\"full_refresh\":[\"F.INC4\",\"idle\",\"f.inc4\",\"inc4\"]}", NULL, 0, &err) == 0,
			  "the full_refresh option");
		CHECK_STR(steps_text(),
				  "f.inc4 0 FULL_REFRESH - SQL logic changed\n"
				  "f.merge 0 FULL_REFRESH - SQL logic changed\n"
				  "f.root 0 FULL_REFRESH - SQL logic changed\n"
				  "f.inc1 1 FULL_REFRESH - downstream of f.root\n"
				  "f.inc3 1 FULL_REFRESH - downstream of f.merge\n"
				  "f.inc5 1 FULL_REFRESH - downstream of f.inc4\n"
				  "f.inc2 2 FULL_REFRESH - downstream of f.root\n"
				  "f.new 2 FULL_REFRESH - new model added\n",
				  "a named model is a full refresh, and so its incremental downstream; nothing else changes");
		CHECK(step("f.idle") == NULL, "naming an unaffected model adds no step");
		CHECK(strstr(text.data, "\"full_refresh\":[\"f.idle\",\"f.inc4\"]") != NULL,
			  "the option is recorded as sorted unique full names (any case, short names)");
		CHECK(plan(p, c1, c2, "2025-06-15", "{\"full_refresh\":[\"nothere\"]}", NULL, 0, &err) == -1 &&
			  err_is(&err, "invalid_option", "full_refresh") && strstr(err.message, "nothere") != NULL,
			  "an unknown full_refresh name: invalid_option naming it");
		CHECK(plan(p, c1, c2, "2025-06-15", "{\"full_refresh\":[\"inc\"]}", NULL, 0, &err) == -1 &&
			  err_is(&err, "invalid_option", "unknown model inc"), "a name that is no suffix at a dot is unknown");
		CHECK(plan(p, c1, c2, "2025-06-15", "{\"full_refresh\":[\"f.inc1\",\"f.inc2\"]}", NULL, 0, &err) == 0 &&
			  strstr(text.data, "\"full_refresh\":[\"f.inc1\",\"f.inc2\"]") != NULL, "two names");
	}
	{
		gen_file	f[] = {
			{"models/a.sql", FR("x.orders", "SELECT 1 AS id"), 0, 0},
			{"models/b.sql", FR("y.orders", "SELECT 2 AS id"), 0, 0},
		};

		two_commits(p, sizeof(p), f, 2, f, 2, c1, c2);
		CHECK(plan(p, c1, c2, "2025-06-15", "{\"full_refresh\":[\"orders\"]}", NULL, 0, &err) == -1 &&
			  err_is(&err, "invalid_option", "ambiguous") && strstr(err.message, "orders") != NULL,
			  "an ambiguous full_refresh name: invalid_option naming it");
	}

	/* ---- cosmetic changes ---- */
	{
		gen_file	f1[] = {
			{"models/a.sql", FR("c.a", "SELECT id FROM landing.a"), 0, 0},
			{"models/b.sql", FR("c.b", "SELECT id FROM c.a"), 0, 0},
			{"models/m.sql", FR("c.m", "SELECT 1 AS id"), 0, 0},
			{"models/n.sql", FR("c.n", "SELECT id FROM c.m"), 0, 0},
		};
		gen_file	f2[4];

		memcpy(f2, f1, sizeof(f1));
		f2[0].content = FR("c.a", "-- only a comment\nselect id\n  from landing.a;");
		f2[2].content = FR("c.m", "SELECT 2 AS id");
		f2[3].content = FR("c.n", "select id from c.m -- nothing new");
		two_commits(p, sizeof(p), f1, 4, f2, 4, c1, c2);
		CHECK(plan(p, c1, c2, "2025-06-15", NULL, NULL, 0, &err) == 0, "cosmetic changes skipped");
		CHECK_STR(steps_text(),
				  "c.m 0 FULL_REFRESH - SQL logic changed\n"
				  "c.n 1 FULL_REFRESH - downstream of c.m\n",
				  "a cosmetic model alone gets no step; one below a change is planned as a downstream");
		CHECK_STR(summary("cosmetic_changes_skipped"), "c.a,c.n",
				  "every cosmetic model is listed as skipped, also the one with a step");
		CHECK_STR(summary("models_modified"), "c.m", "cosmetic models are not modified");
		CHECK_STR(field("c.n", "sql_sha256"), sha(f2[3].content), "the step carries the new file's hash");
		CHECK(plan(p, c1, c2, "2025-06-15", "{\"skip_cosmetic\":false}", NULL, 0, &err) == 0,
			  "cosmetic changes not skipped");
		CHECK_STR(steps_text(),
				  "c.a 0 FULL_REFRESH - SQL logic changed\n"
				  "c.m 0 FULL_REFRESH - SQL logic changed\n"
				  "c.b 1 FULL_REFRESH - downstream of c.a\n"
				  "c.n 1 FULL_REFRESH - SQL logic changed\n",
				  "not skipped: cosmetic models are directly changed");
		CHECK_STR(summary("cosmetic_changes_skipped"), "", "nothing skipped");
		CHECK_STR(summary("models_modified"), "c.a,c.m,c.n", "and they are listed as modified");
		CHECK(strstr(text.data, "\"skip_cosmetic\":false") != NULL, "the option is in the plan");
	}

	/* ---- errors of the head ---- */
	{
		gen_file	f1[] = {
			{"models/a.sql", FR("s.a", "SELECT 1"), 0, 0},
			{"models/b.sql", FR("s.b", "SELECT * FROM s.a"), 0, 0},
		};
		gen_file	f2[] = {
			{"models/a.sql", FR("s.a", "SELECT * FROM s.b"), 0, 0},
			{"models/b.sql", FR("s.b", "SELECT * FROM s.a"), 0, 0},
		};

		two_commits(p, sizeof(p), f1, 2, f2, 2, c1, c2);
		CHECK(plan(p, c1, c2, "2025-06-15", NULL, NULL, 0, &err) == -1 && err_is(&err, "cycle", "s.a -> s.b -> s.a"),
			  "a cycle at head: the error cycle naming it");
		{
			il_git_repo *g = NULL;
			il_repo_diff_result *d = NULL;
			il_buf		out = IL_BUF_INIT;
			char		id2[IL_SHA256_HEX_LEN + 1] = "x";

			il_buf_puts(&out, "keep");
			CHECK(il_git_open(p, &g, &err) == 0 && il_repo_diff(g, c1, c2, NULL, NULL, &d, &err) == 0 &&
				  il_plan_build(d, day("2025-06-15"), NULL, NULL, 0, &out, id2, &err) == -1 &&
				  err_is(&err, "cycle", NULL) && strcmp(il_buf_cstr(&out), "keep") == 0 && id2[0] == '\0',
				  "il_plan_build on a cycle: out unchanged, no id");
			il_repo_diff_free(d);
			il_git_close(g);
			il_buf_free(&out);
		}
		CHECK_STR(il_error_sqlstate(&err), "42P19", "cycle is 42P19 (invalid_recursion, 400 under PostgREST)");
		CHECK(plan(p, c2, c1, "2025-06-15", NULL, NULL, 0, &err) == 0 &&
			  strcmp(steps_text(), "s.a 0 FULL_REFRESH - SQL logic changed\ns.b 1 FULL_REFRESH - downstream of s.a\n") == 0,
			  "a cycle only at base does not matter");
		CHECK(plan(p, c1, "nope", "2025-06-15", NULL, NULL, 0, &err) == -1 && err_is(&err, "unknown_commit", "nope"),
			  "an unknown commit");
		CHECK_STR(il_error_sqlstate(&err), "22023", "unknown_commit is 22023");
	}
	{
		gen_file	f1[] = {{"models/a.sql", FR("s.a", "SELECT 1"), 0, 0}};
		gen_file	f2[] = {{"models/a.sql", FR("s.a", "SELECT * FROM {{ ref('nothing') }}"), 0, 0}};

		two_commits(p, sizeof(p), f1, 1, f2, 1, c1, c2);
		CHECK(plan(p, c1, c2, "2025-06-15", NULL, NULL, 0, &err) == -1 && err_is(&err, "unknown_ref", "nothing"),
			  "an unknown ref() at head");
	}

	/* ---- options ---- */
	{
		il_plan_options o;
		char		env64[80];
		char		js[160];

		CHECK(il_plan_options_parse(NULL, 0, &o, &err) == -1 && err_is(&err, "invalid_option", "not valid JSON"),
			  "no text at all");
		CHECK(il_plan_options_parse("{}", 2, &o, &err) == 0 && strcmp(o.environment, "dev") == 0 &&
			  o.lookback_days == 30 && o.skip_cosmetic && o.n_full_refresh == 0, "{} gives the defaults");
		il_plan_options_free(&o);
		snprintf(js, sizeof(js), "{\"environment\":\"prod_eu-1\",\"lookback_days\":3650,\"skip_cosmetic\":false,"
				 "\"full_refresh\":[\"a\",\"b.c\"]}");
		CHECK(il_plan_options_parse(js, strlen(js), &o, &err) == 0 &&
			  strcmp(o.environment, "prod_eu-1") == 0 && o.lookback_days == 3650 && !o.skip_cosmetic &&
			  o.n_full_refresh == 2 && strcmp(o.full_refresh[1], "b.c") == 0, "every option");
		il_plan_options_free(&o);
		CHECK(il_plan_options_parse(" { \"lookback_days\" : 1 } ", 25, &o, &err) == 0 && o.lookback_days == 1,
			  "1 day; whitespace is fine");
		CHECK(il_plan_options_parse("{\"lookback_days\":30.0}", 22, &o, &err) == 0 && o.lookback_days == 30 &&
			  il_plan_options_parse("{\"lookback_days\":3e1}", 21, &o, &err) == 0 && o.lookback_days == 30,
			  "30.0 and 3e1 are the number 30");
		memset(env64, 'a', 63);
		env64[63] = '\0';
		snprintf(js, sizeof(js), "{\"environment\":\"%s\"}", env64);
		CHECK(il_plan_options_parse(js, strlen(js), &o, &err) == 0 && strlen(o.environment) == 63, "a 63-byte environment");
		CHECK(option_fails("{\"lookback\":30}", "unknown option \"lookback\" (options of change plans: environment, "
						   "full_refresh, kind, lookback_days, recompute_days, skip_cosmetic)"),
			  "an unknown key, named, with the valid keys");
		CHECK(option_fails("{\"Environment\":\"dev\"}", "\"Environment\""), "keys are case-sensitive");
		env64[63] = 'a';
		env64[64] = '\0';
		snprintf(js, sizeof(js), "{\"environment\":\"%s\"}", env64);
		CHECK(option_fails(js, "invalid option environment"), "a 64-byte environment");
		CHECK(option_fails("{\"environment\":\"Prod\"}", "\"Prod\" is not an environment name"), "upper case, named");
		CHECK(option_fails("{\"environment\":\"\"}", "environment"), "an empty environment");
		CHECK(option_fails("{\"environment\":\"1prod\"}", "\"1prod\""), "a digit first");
		CHECK(option_fails("{\"environment\":\"pr od\"}", "environment") &&
			  option_fails("{\"environment\":\"pr\\u0000od\"}", "environment") &&
			  option_fails("{\"environment\":\"pr\xc3\xa9od\"}", "environment"), "space, NUL, non-ASCII");
		CHECK(option_fails("{\"environment\":7}", "7 is not"), "a number as environment");
		CHECK(option_fails("{\"lookback_days\":0}", "0 is not a whole number of days from 1 to 3650"), "0 days");
		CHECK(option_fails("{\"lookback_days\":3651}", "3651"), "3651 days");
		CHECK(option_fails("{\"lookback_days\":1.5}", "1.5"), "1.5 days");
		CHECK(option_fails("{\"lookback_days\":-30}", "-30"), "-30 days");
		CHECK(option_fails("{\"lookback_days\":\"30\"}", "\"30\""), "a string of digits");
		CHECK(option_fails("{\"lookback_days\":1e400}", "not valid JSON"), "a number out of range");
		CHECK(option_fails("{\"skip_cosmetic\":\"yes\"}", "\"yes\" is not true or false") &&
			  option_fails("{\"skip_cosmetic\":1}", "skip_cosmetic") && option_fails("{\"skip_cosmetic\":null}", "null"),
			  "skip_cosmetic must be a boolean");
		CHECK(option_fails("{\"full_refresh\":\"a.b\"}", "\"a.b\" is not an array"), "full_refresh not an array");
		CHECK(option_fails("{\"full_refresh\":[\"a\",3]}", "3 is not a model name") &&
			  option_fails("{\"full_refresh\":[\"\"]}", "\"\" is not a model name") &&
			  option_fails("{\"full_refresh\":[\"a\\u0000b\"]}", "full_refresh"),
			  "full_refresh names: strings, non-empty, no NUL");
		CHECK(option_fails("[]", "must be a JSON object, not []") && option_fails("null", "not null") &&
			  option_fails("\"dev\"", "not \"dev\""), "not an object");
		CHECK(option_fails("{\"environment\":\"dev\",}", "not valid JSON: line 1, column 22") &&
			  option_fails("", "not valid JSON") && option_fails("{\"a\":1,\"a\":2}", "duplicate"),
			  "not JSON: invalid_option with the position");
		CHECK(option_fails("{\"zzz\":1,\"environment\":\"BAD\"}", "environment"),
			  "the first bad key in key order is reported");
		{
			il_plan_options bad;

			il_plan_options_init(&bad);
			bad.lookback_days = 0;
			CHECK(il_plan_from_git(NULL, "a", "b", NULL, NULL, 0, &bad, NULL, 0, &text, plan_id, NULL, &err) == -1 &&
				  err_is(&err, "invalid_option", "lookback_days"), "options made by hand are checked too, before git");
			bad.lookback_days = 30;
			strcpy(bad.environment, "A");
			CHECK(il_plan_from_git(NULL, "a", "b", NULL, NULL, 0, &bad, NULL, 0, &text, plan_id, NULL, &err) == -1 &&
				  err_is(&err, "invalid_option", "environment"), "a bad environment made by hand");
		}
		CHECK_STR(il_errcode_sqlstate(IL_ERR_INVALID_OPTION), "22023", "invalid_option is 22023");
		CHECK_STR(il_errcode_sqlstate(IL_ERR_OUT_OF_MEMORY), "53200", "out_of_memory is 53200");
	}

	/* ---- plan kinds: refresh, backfill, recompute_days, the empty base ---- */
	{
		gen_file	f1[] = {
			{"models/raw/e.sql", INC("raw.e", "SELECT id, day FROM landing.e"), 0, 0},
			{"models/raw/ap.sql", APP("raw.ap", "SELECT id, day FROM landing.ap"), 0, 0},
			{"models/s/f.sql", FR("s.f", "SELECT id FROM raw.e"), 0, 0},
			{"models/s/g.sql", INC("s.g", "SELECT id, day FROM raw.e"), 0, 0},
			{"models/s/h.sql", INC("s.h", "SELECT id, day FROM s.f"), 0, 0},
			{"models/s/k.sql", MRG("s.k", "SELECT id FROM raw.ap"), 0, 0},
			{"models/d/z.sql", FR("d.z", "SELECT 1 AS id"), 0, 0},
		};
		gen_file	f2[7];
		il_plan_watermark wm[] = {
			{"raw.e", 0, 0}, {"raw.ap", 0, 0}, {"s.g", 0, 0},
		};
		il_plan_watermark wm_rev[3];
		il_plan_watermark wm_all[] = {
			{"raw.e", 0, 0}, {"raw.ap", 0, 0}, {"s.g", 0, 0}, {"s.h", 0, 0},
		};
		il_buf		first = IL_BUF_INIT;
		char		first_id[IL_SHA256_HEX_LEN + 1];
		il_plan_options o;
		size_t		i;

		memcpy(f2, f1, sizeof(f1));
		f2[0].content = INC("raw.e", "SELECT id, day, 2 AS v FROM landing.e");
		wm[0].start = day("2025-05-01");
		wm[0].end = day("2025-06-10");
		wm[1].start = day("2025-05-01");
		wm[1].end = day("2025-06-15");
		wm[2].start = day("2025-05-01");
		wm[2].end = day("2025-06-14");
		for (i = 0; i < 3; i++)
			wm_rev[i] = wm[2 - i];
		for (i = 0; i < 4; i++)
		{
			wm_all[i].start = day("2025-05-01");
			wm_all[i].end = day("2025-06-15");
		}
		two_commits(p, sizeof(p), f1, 7, f2, 7, c1, c2);

		/* refresh */
		CHECK(plan(p, NULL, c2, "2025-06-15", "{\"kind\":\"refresh\"}", wm, 3, &err) == 0, "a refresh plan");
		CHECK_STR(steps_text(),
				  "raw.e 0 INCREMENTAL 2025-06-10..2025-06-15 new data due\n"
				  "s.f 1 FULL_REFRESH - downstream of raw.e\n"
				  "s.g 1 INCREMENTAL 2025-06-10..2025-06-15 new data due\n"
				  "s.h 2 INCREMENTAL 2025-05-16..2025-06-15 new data due\n",
				  "refresh: due = incremental without a watermark or with one ending before as_of; "
				  "downstream as the change planner's rules, except that a FULL_REFRESH step above an incremental "
				  "model (s.h under s.f) leaves it incremental: no history changed");
		CHECK_STR(summary("models_due"), "raw.e,s.g,s.h", "models_due");
		CHECK_STR(summary("models_affected"), "raw.e,s.f,s.g,s.h", "models_affected");
		CHECK(strstr(text.data, "\"format\":\"ironlayer.plan/v1\",\"kind\":\"refresh\",\"options\":{\"environment\":"
					 "\"dev\",\"lookback_days\":30,\"recompute_days\":0},") != NULL &&
			  strstr(text.data, "\"summary\":{\"models_affected\":[\"raw.e\",\"s.f\",\"s.g\",\"s.h\"],\"models_due\":"
					 "[\"raw.e\",\"s.g\",\"s.h\"],\"total_steps\":4},\"target\":") != NULL,
			  "refresh: kind, its options and its summary in the text");
		CHECK(strncmp(text.data + strlen("{\"as_of\":\"2025-06-15\",\"base\":\""), c2, 40) == 0 &&
			  strcmp(member(il_jcs_root(doc), "target"), c2) == 0, "refresh: base and target are the commit");
		il_buf_reset(&first);
		il_buf_puts(&first, text.data);
		memcpy(first_id, plan_id, sizeof(first_id));
		CHECK(plan(p, NULL, c2, "2025-06-15", "{\"kind\":\"refresh\"}", wm_rev, 3, &err) == 0 &&
			  strcmp(text.data, first.data) == 0 && strcmp(plan_id, first_id) == 0,
			  "refresh: the same bytes again, watermarks in another order");
		CHECK(plan(p, c2, c2, "2025-06-15", "{\"kind\":\"refresh\"}", wm, 3, &err) == 0 &&
			  strcmp(text.data, first.data) == 0, "refresh: base = head gives the same plan as no base");
		CHECK(plan(p, c1, c2, "2025-06-15", "{\"kind\":\"refresh\"}", wm, 3, &err) == -1 &&
			  err_is(&err, "invalid_option", "a refresh plan is made at one commit"), "refresh: two commits are refused");
		CHECK(plan(p, NULL, c2, "2025-06-15", "{\"kind\":\"refresh\",\"recompute_days\":3}", wm, 3, &err) == 0,
			  "a refresh plan with recompute_days");
		CHECK_STR(steps_text(),
				  "raw.ap 0 INCREMENTAL 2025-06-12..2025-06-15 new data due\n"
				  "raw.e 0 INCREMENTAL 2025-06-10..2025-06-15 new data due\n"
				  "s.f 1 FULL_REFRESH - downstream of raw.e\n"
				  "s.g 1 INCREMENTAL 2025-06-10..2025-06-15 new data due\n"
				  "s.k 1 FULL_REFRESH - downstream of raw.ap\n"
				  "s.h 2 INCREMENTAL 2025-05-16..2025-06-15 new data due\n",
				  "recompute_days: every incremental model due, starts lowered to as_of - N when earlier");
		CHECK(plan(p, NULL, c2, "2025-06-15", "{\"kind\":\"refresh\"}", wm_all, 4, &err) == 0 &&
			  strcmp(steps_text(), "") == 0 && strcmp(summary("models_due"), "") == 0,
			  "refresh: nothing due, no step");
		CHECK(plan(p, NULL, c2, "2025-06-15", "{\"kind\":\"refresh\",\"lookback_days\":7}", wm + 1, 2, &err) == 0 &&
			  strcmp(field("raw.e", "input_range"), "{\"end\":\"2025-06-15\",\"start\":\"2025-06-08\"}") == 0,
			  "refresh: without a watermark, as_of - lookback_days");

		/* refresh: a table without date ranges that reads sources and feeds a due model is re-read */
		{
			char		q[256];
			char		q1[IL_GIT_OID_HEX_LEN + 1];
			char		q2[IL_GIT_OID_HEX_LEN + 1];
			gen_file	r[] = {
				{"models/raw/c.sql", FR("raw.c", "SELECT id FROM landing.c"), 0, 0},
				{"models/raw/p.sql", FR("raw.p", "SELECT id FROM landing.p"), 0, 0},
				{"models/raw/o.sql", INC("raw.o", "SELECT id, day FROM landing.o"), 0, 0},
				{"models/m/f.sql", INC("m.f", "SELECT o.id, o.day FROM raw.o o JOIN raw.c c ON c.id = o.id"), 0, 0},
				{"models/d/q.sql", FR("d.q", "SELECT id FROM raw.p"), 0, 0},
			};
			il_plan_watermark cur[] = {{"raw.o", 0, 0}, {"m.f", 0, 0}};

			cur[0].start = cur[1].start = day("2025-05-01");
			cur[0].end = cur[1].end = day("2025-06-15");
			two_commits(q, sizeof(q), r, 5, r, 5, q1, q2);
			CHECK(plan(q, NULL, q2, "2025-06-15", "{\"kind\":\"refresh\"}", NULL, 0, &err) == 0 &&
				  strcmp(steps_text(),
						 "raw.c 0 FULL_REFRESH - new data due\n"
						 "raw.o 0 INCREMENTAL 2025-05-16..2025-06-15 new data due\n"
						 "m.f 1 INCREMENTAL 2025-05-16..2025-06-15 new data due\n") == 0 &&
				  strcmp(summary("models_due"), "m.f,raw.c,raw.o") == 0,
				  "refresh: raw.c (reads a source, feeds due m.f) is re-read; raw.p and d.q feed nothing due");
			CHECK(plan(q, NULL, q2, "2025-06-15", "{\"kind\":\"refresh\"}", cur, 2, &err) == 0 &&
				  strcmp(steps_text(), "") == 0,
				  "refresh: nothing incremental due, no table re-read");
		}

		/* recompute_days in a change plan */
		CHECK(plan(p, c1, c2, "2025-06-15", NULL, wm, 3, &err) == 0, "a change plan");
		il_buf_reset(&first);
		il_buf_puts(&first, text.data);
		CHECK(strcmp(field("raw.e", "input_range"), "{\"end\":\"2025-06-15\",\"start\":\"2025-06-10\"}") == 0 &&
			  strstr(text.data, "recompute_days") == NULL &&
			  strstr(text.data, "\"format\":\"ironlayer.plan/v1\",\"options\":") != NULL,
			  "a change plan has no kind and no recompute_days");
		CHECK(plan(p, c1, c2, "2025-06-15", "{\"recompute_days\":0,\"kind\":\"change\"}", wm, 3, &err) == 0 &&
			  strcmp(text.data, first.data) == 0, "recompute_days 0 and kind change: the same bytes");
		CHECK(plan(p, c1, c2, "2025-06-15", "{\"recompute_days\":7}", wm, 3, &err) == 0 &&
			  strcmp(field("raw.e", "input_range"), "{\"end\":\"2025-06-15\",\"start\":\"2025-06-08\"}") == 0 &&
			  strcmp(field("s.g", "input_range"), "{\"end\":\"2025-06-15\",\"start\":\"2025-06-08\"}") == 0 &&
			  strstr(text.data, "\"lookback_days\":30,\"recompute_days\":7,\"skip_cosmetic\":true}") != NULL,
			  "recompute_days 7 in a change plan: starts lowered, written in options");
		CHECK(plan(p, c1, c2, "2025-06-15", "{\"recompute_days\":2}", wm, 3, &err) == 0 &&
			  strcmp(field("raw.e", "input_range"), "{\"end\":\"2025-06-15\",\"start\":\"2025-06-10\"}") == 0,
			  "recompute_days never raises a start");

		/* backfill */
		CHECK(plan(p, NULL, c2, "2025-06-15",
				   "{\"kind\":\"backfill\",\"models\":[\"RAW.E\",\"e\"],\"start\":\"2025-06-01\",\"end\":\"2025-06-10\","
				   "\"batch_days\":4}", wm, 3, &err) == 0, "a backfill plan");
		CHECK_STR(steps_text(),
				  "raw.e 0 INCREMENTAL 2025-06-01..2025-06-04 backfill 2025-06-01 to 2025-06-10\n"
				  "raw.e 1 INCREMENTAL 2025-06-05..2025-06-08 backfill 2025-06-01 to 2025-06-10\n"
				  "s.g 1 INCREMENTAL 2025-06-01..2025-06-04 downstream of raw.e\n"
				  "raw.e 2 INCREMENTAL 2025-06-09..2025-06-10 backfill 2025-06-01 to 2025-06-10\n"
				  "s.g 2 INCREMENTAL 2025-06-05..2025-06-08 downstream of raw.e\n"
				  "s.f 3 FULL_REFRESH - downstream of raw.e\n"
				  "s.g 3 INCREMENTAL 2025-06-09..2025-06-10 downstream of raw.e\n"
				  "s.h 4 INCREMENTAL 2025-06-01..2025-06-04 downstream of raw.e\n"
				  "s.h 5 INCREMENTAL 2025-06-05..2025-06-08 downstream of raw.e\n"
				  "s.h 6 INCREMENTAL 2025-06-09..2025-06-10 downstream of raw.e\n",
				  "backfill: windows of batch_days, the last one shorter; downstream batched (also below a "
				  "FULL_REFRESH step: no history outside the range changed) or one step; groups the longest path");
		CHECK(strstr(text.data, "\"kind\":\"backfill\",\"options\":{\"batch_days\":4,\"end\":\"2025-06-10\","
					 "\"environment\":\"dev\",\"models\":[\"raw.e\"],\"start\":\"2025-06-01\"},") != NULL &&
			  strstr(text.data, "\"summary\":{\"batches\":3,\"models_affected\":[\"raw.e\",\"s.f\",\"s.g\",\"s.h\"],"
					 "\"total_steps\":10},") != NULL,
			  "backfill: kind, options (names resolved, sorted, unique), summary");
		{
			/* depends_on of each window, by the ids in the text */
			const il_jcs_value *st[10];
			const il_jcs_value *s;
			int			n = 0;

			for (s = il_jcs_first(il_jcs_get(il_jcs_root(doc), "steps")); s != NULL && n < 10; s = il_jcs_next(s))
				st[n++] = s;
#define ID(i) member(st[i], "step_id")
#define DEPS(i) il_jcs_get(st[i], "depends_on")
#define DEP0(i) or_empty(il_jcs_string(il_jcs_first(DEPS(i)), NULL))
			CHECK(n == 10 && il_jcs_count(DEPS(0)) == 0 &&
				  il_jcs_count(DEPS(1)) == 1 && strcmp(DEP0(1), ID(0)) == 0 &&
				  il_jcs_count(DEPS(2)) == 1 && strcmp(DEP0(2), ID(0)) == 0 &&
				  il_jcs_count(DEPS(4)) == 2 &&
				  il_jcs_count(DEPS(5)) == 1 && strcmp(DEP0(5), ID(3)) == 0 &&
				  il_jcs_count(DEPS(7)) == 1 && strcmp(DEP0(7), ID(5)) == 0 &&
				  il_jcs_count(DEPS(8)) == 2 && il_jcs_count(DEPS(9)) == 2,
				  "backfill: a window depends on the one before and on the upstream's window; "
				  "a FULL_REFRESH step on the upstream's last window; a window below a FULL_REFRESH step on "
				  "that step");
			CHECK((strcmp(DEP0(4), ID(1)) == 0 || strcmp(DEP0(4), ID(2)) == 0) &&
				  (strcmp(or_empty(il_jcs_string(il_jcs_next(il_jcs_first(DEPS(4))), NULL)), ID(1)) == 0 ||
				   strcmp(or_empty(il_jcs_string(il_jcs_next(il_jcs_first(DEPS(4))), NULL)), ID(2)) == 0) &&
				  strcmp(DEP0(4), or_empty(il_jcs_string(il_jcs_next(il_jcs_first(DEPS(4))), NULL))) != 0,
				  "backfill: window 1 of s.g on window 0 of s.g and window 1 of raw.e");
#undef ID
#undef DEPS
#undef DEP0
		}
		il_buf_reset(&first);
		il_buf_puts(&first, text.data);
		CHECK(plan(p, NULL, c2, "2025-06-15",
				   "{\"kind\":\"backfill\",\"models\":[\"raw.e\"],\"start\":\"2025-06-01\",\"end\":\"2025-06-10\","
				   "\"batch_days\":4}", wm_rev, 3, &err) == 0 && strcmp(text.data, first.data) == 0,
			  "backfill: the same bytes again (names given otherwise, watermarks in another order)");
		CHECK(plan(p, NULL, c2, "2025-06-15",
				   "{\"kind\":\"backfill\",\"models\":[\"raw.e\"],\"start\":\"2025-06-01\",\"end\":\"2025-06-10\"}",
				   wm, 3, &err) == 0 && strcmp(summary("batches"), "") == 0 &&
			  il_jcs_number(il_jcs_get(il_jcs_get(il_jcs_root(doc), "summary"), "batches")) == 2 &&
			  strcmp(field("raw.e", "input_range"), "{\"end\":\"2025-06-07\",\"start\":\"2025-06-01\"}") == 0,
			  "backfill: batch_days defaults to 7");
		CHECK(plan(p, NULL, c2, "2025-06-15",
				   "{\"kind\":\"backfill\",\"models\":[\"s.f\"],\"start\":\"2025-06-01\",\"end\":\"2025-06-10\"}",
				   wm, 3, &err) == -1 &&
			  err_is(&err, "invalid_backfill", "range 2025-06-01..2025-06-10 of s.f cannot be backfilled: s.f is "
					 "FULL_REFRESH: it has no date range"), "backfill of a FULL_REFRESH model: invalid_backfill");
		CHECK(plan(p, NULL, c2, "2025-06-15",
				   "{\"kind\":\"backfill\",\"models\":[\"raw.e\"],\"start\":\"2025-06-01\",\"end\":\"2025-06-16\"}",
				   wm, 3, &err) == -1 &&
			  err_is(&err, "invalid_backfill", "range 2025-06-01..2025-06-16 of raw.e ends after as_of 2025-06-15"),
			  "backfill ending after as_of");
		CHECK(plan(p, NULL, c2, "2025-06-15",
				   "{\"kind\":\"backfill\",\"models\":[\"raw.e\"],\"start\":\"2025-04-30\",\"end\":\"2025-06-10\"}",
				   wm, 3, &err) == -1 &&
			  err_is(&err, "invalid_backfill", "of raw.e starts before its history (first day loaded 2025-05-01)"),
			  "backfill starting before the history");
		CHECK(plan(p, NULL, c2, "2025-06-15",
				   "{\"kind\":\"backfill\",\"models\":[\"raw.e\"],\"start\":\"2025-06-01\",\"end\":\"2025-06-11\"}",
				   wm, 3, &err) == -1 &&
			  err_is(&err, "invalid_backfill", "of raw.e ends after its history (last day loaded 2025-06-10)"),
			  "backfill ending after the history");
		CHECK(plan(p, NULL, c2, "2025-06-15",
				   "{\"kind\":\"backfill\",\"models\":[\"raw.e\",\"s.h\"],\"start\":\"2025-06-01\",\"end\":\"2025-06-02\"}",
				   wm, 3, &err) == -1 &&
			  err_is(&err, "invalid_backfill", "of s.h is beyond its history: nothing of it is loaded yet"),
			  "backfill of a model without a watermark");
		CHECK(plan(p, NULL, c2, "2025-06-15",
				   "{\"kind\":\"backfill\",\"models\":[\"nope\"],\"start\":\"2025-06-01\",\"end\":\"2025-06-02\"}",
				   wm, 3, &err) == -1 && err_is(&err, "invalid_option", "invalid option models: "),
			  "backfill of an unknown model: invalid_option naming models");
		CHECK_STR(il_errcode_sqlstate(IL_ERR_INVALID_BACKFILL), "22023", "invalid_backfill is 22023");

		/* the options of the kinds */
		CHECK(parse_options("{\"kind\":\"backfill\",\"models\":[\"a.b\"],\"start\":\"2025-01-01\","
									"\"end\":\"2025-01-31\",\"batch_days\":10,\"environment\":\"prod\"}", &o, &err) == 0 &&
			  o.kind == IL_PLAN_BACKFILL && o.n_models == 1 && strcmp(o.models[0], "a.b") == 0 &&
			  o.start == day("2025-01-01") && o.end == day("2025-01-31") && o.batch_days == 10 &&
			  strcmp(o.environment, "prod") == 0, "backfill options");
		il_plan_options_free(&o);
		CHECK(parse_options("{\"kind\":\"refresh\",\"recompute_days\":3650,\"lookback_days\":2}", &o, &err) == 0 &&
			  o.kind == IL_PLAN_REFRESH && o.recompute_days == 3650 && o.lookback_days == 2, "refresh options");
		il_plan_options_free(&o);
		CHECK(option_fails("{\"kind\":\"full\"}", "\"full\" is not a plan kind") &&
			  option_fails("{\"kind\":1}", "1 is not a plan kind"), "an unknown kind");
		CHECK(option_fails("{\"kind\":\"refresh\",\"skip_cosmetic\":true}",
						   "skip_cosmetic is not an option of refresh plans (options of refresh plans: environment, "
						   "kind, lookback_days, recompute_days)") &&
			  option_fails("{\"kind\":\"refresh\",\"full_refresh\":[]}", "full_refresh is not an option of refresh plans") &&
			  option_fails("{\"kind\":\"refresh\",\"models\":[\"a\"]}", "models is not an option of refresh plans") &&
			  option_fails("{\"models\":[\"a\"]}", "models is not an option of change plans") &&
			  option_fails("{\"start\":\"2025-01-01\"}", "start is not an option of change plans") &&
			  option_fails("{\"batch_days\":3}", "batch_days is not an option of change plans"),
			  "a key of another kind is refused, named");
		CHECK(option_fails("{\"kind\":\"backfill\",\"models\":[\"a\"],\"start\":\"2025-01-01\",\"end\":\"2025-01-02\","
						   "\"lookback_days\":3}", "lookback_days is not an option of backfill plans") &&
			  option_fails("{\"kind\":\"backfill\",\"models\":[\"a\"],\"start\":\"2025-01-01\",\"end\":\"2025-01-02\","
						   "\"recompute_days\":3}", "recompute_days is not an option of backfill plans") &&
			  option_fails("{\"kind\":\"backfill\",\"models\":[\"a\"],\"start\":\"2025-01-01\",\"end\":\"2025-01-02\","
						   "\"skip_cosmetic\":true}", "skip_cosmetic is not an option of backfill plans"),
			  "change options in a backfill are refused");
		CHECK(option_fails("{\"recompute_days\":-1}", "-1 is not a whole number of days from 0 to 3650") &&
			  option_fails("{\"recompute_days\":3651}", "3651") && option_fails("{\"recompute_days\":0.5}", "0.5") &&
			  option_fails("{\"kind\":\"refresh\",\"recompute_days\":\"3\"}", "\"3\""), "recompute_days 0 to 3650");
		CHECK(option_fails("{\"kind\":\"backfill\",\"start\":\"2025-01-01\",\"end\":\"2025-01-02\"}",
						   "backfill plans need models, start and end") &&
			  option_fails("{\"kind\":\"backfill\",\"models\":[\"a\"],\"end\":\"2025-01-02\"}", "invalid option start") &&
			  option_fails("{\"kind\":\"backfill\",\"models\":[\"a\"],\"start\":\"2025-01-02\"}", "invalid option end"),
			  "a backfill needs models, start and end");
		CHECK(option_fails("{\"kind\":\"backfill\",\"models\":[],\"start\":\"2025-01-01\",\"end\":\"2025-01-02\"}",
						   "[] is not an array of 1 to 1000 model names") &&
			  option_fails("{\"kind\":\"backfill\",\"models\":\"a\",\"start\":\"2025-01-01\",\"end\":\"2025-01-02\"}",
						   "models") &&
			  option_fails("{\"kind\":\"backfill\",\"models\":[\"\"],\"start\":\"2025-01-01\",\"end\":\"2025-01-02\"}",
						   "\"\" is not a model name"), "models: 1 to 1000 non-empty names");
		{
			il_buf		big = IL_BUF_INIT;
			int			n;

			il_buf_puts(&big, "{\"end\":\"2025-01-02\",\"kind\":\"backfill\",\"models\":[");
			for (n = 0; n < 1001; n++)
				il_buf_printf(&big, "%s\"m.x%d\"", n ? "," : "", n);
			il_buf_puts(&big, "],\"start\":\"2025-01-01\"}");
			CHECK(option_fails(big.data, "invalid option models"), "1001 models are refused");
			il_buf_free(&big);
		}
		CHECK(option_fails("{\"kind\":\"backfill\",\"models\":[\"a\"],\"start\":\"2025-01-03\",\"end\":\"2025-01-02\"}",
						   "start 2025-01-03 is after end 2025-01-02") &&
			  option_fails("{\"kind\":\"backfill\",\"models\":[\"a\"],\"start\":\"2025-02-30\",\"end\":\"2025-03-02\"}",
						   "\"2025-02-30\" is not a day YYYY-MM-DD") &&
			  option_fails("{\"kind\":\"backfill\",\"models\":[\"a\"],\"start\":20250101,\"end\":\"2025-03-02\"}",
						   "20250101 is not a day"), "start and end: days in order");
		CHECK(option_fails("{\"kind\":\"backfill\",\"models\":[\"a\"],\"start\":\"2020-01-01\",\"end\":\"2025-01-01\","
						   "\"batch_days\":1}", "invalid option batch_days: 1 days make 1828 batches") &&
			  option_fails("{\"kind\":\"backfill\",\"models\":[\"a\"],\"start\":\"2020-01-01\",\"end\":\"2025-01-01\","
						   "\"batch_days\":0}", "0 is not a whole number of days from 1 to 3650"),
			  "batch_days 1 to 3650, at most 1000 batches");
		CHECK(parse_options("{\"kind\":\"backfill\",\"models\":[\"a\"],\"start\":\"2020-01-01\","
									"\"end\":\"2022-09-26\",\"batch_days\":1}", &o, &err) == 0,
			  "exactly 1000 batches");
		il_plan_options_free(&o);
		il_plan_options_init(&o);
		o.kind = (il_plan_kind) 7;
		CHECK(il_plan_from_git(NULL, "a", "b", NULL, NULL, 0, &o, NULL, 0, &text, plan_id, NULL, &err) == -1 &&
			  err_is(&err, "invalid_option", "kind"), "a kind made by hand is checked");
		o.kind = IL_PLAN_BACKFILL;
		CHECK(il_plan_from_git(NULL, "a", "b", NULL, NULL, 0, &o, NULL, 0, &text, plan_id, NULL, &err) == -1 &&
			  err_is(&err, "invalid_option", "backfill plans need 1 to 1000 model names"),
			  "a backfill made by hand without models");
		o.kind = IL_PLAN_REFRESH;
		o.recompute_days = 3651;
		CHECK(il_plan_from_git(NULL, "a", "b", NULL, NULL, 0, &o, NULL, 0, &text, plan_id, NULL, &err) == -1 &&
			  err_is(&err, "invalid_option", "recompute_days"), "recompute_days made by hand is checked");

		/* the empty base */
		CHECK(plan(p, IL_GIT_NULL_OID, c2, "2025-06-15", NULL, NULL, 0, &err) == 0,
			  "a change plan from the null commit");
		CHECK_STR(summary("models_added"), "d.z,raw.ap,raw.e,s.f,s.g,s.h,s.k", "the null base: every model added");
		CHECK(strcmp(member(il_jcs_root(doc), "base"), IL_GIT_NULL_OID) == 0 &&
			  strcmp(field("raw.e", "reason"), "new model added") == 0 &&
			  strcmp(field("raw.e", "run_type"), "FULL_REFRESH") == 0, "the null base is the plan's base");
		CHECK(plan(p, c2, IL_GIT_NULL_OID, "2025-06-15", NULL, NULL, 0, &err) == -1 &&
			  err_is(&err, "unknown_commit", "never a head"), "the null commit is never a head");
		il_buf_free(&first);
	}
	{
		gen_file	f1[] = {{"README.md", "nothing yet\n", 0, 0}};
		gen_file	f2[] = {{"models/raw/a.sql", RAW_A1, 0, 0}, {"models/s/b.sql", S_B, 0, 0}};

		two_commits(p, sizeof(p), f1, 1, f2, 2, c1, c2);
		CHECK(plan(p, c1, c2, "2025-06-15", NULL, NULL, 0, &err) == 0 &&
			  strcmp(summary("models_added"), "raw.a,s.b") == 0 && strcmp(member(il_jcs_root(doc), "base"), c1) == 0,
			  "a base commit without the models directory has no models");
		{
			il_git_repo *g = NULL;
			il_repo_diff_result *d = NULL;

			CHECK(il_git_open(p, &g, &err) == 0 &&
				  il_plan_from_git(g, c2, c1, "models", NULL, day("2025-06-15"), NULL, NULL, 0, &text, plan_id,
								   NULL, &err) == -1 && err_is(&err, "no_models_dir", NULL) &&
				  il_repo_diff(g, c2, c1, "models", NULL, &d, &err) == -1, "a head without it stays an error");
			il_git_close(g);
		}
	}

	/* ---- the watermark file ---- */
	{
		il_plan_watermarks w;
		const char *js = "{\"b.y\": {\"start\": \"2025-01-01\", \"end\": \"2025-06-01\"},"
			" \"A.X\": {\"end\": \"2024-12-31\", \"start\": \"2024-12-31\"}}";

		CHECK(il_plan_watermarks_parse(js, strlen(js), &w, &err) == 0 && w.n == 2 &&
			  strcmp(w.items[0].model, "A.X") == 0 && w.items[0].start == day("2024-12-31") &&
			  w.items[0].end == w.items[0].start && strcmp(w.items[1].model, "b.y") == 0 &&
			  w.items[1].start == day("2025-01-01") && w.items[1].end == day("2025-06-01"),
			  "a watermark file: two models, dates parsed, names as written");
		il_plan_watermarks_free(&w);
		CHECK(il_plan_watermarks_parse("{}", 2, &w, &err) == 0 && w.n == 0, "an empty object");
		il_plan_watermarks_free(&w);
		CHECK(watermarks_fail("{\"a.b\": {\"start\": \"2025-01-02\", \"end\": \"2025-01-01\"}}",
							  "\"a.b\": start 2025-01-02 is after end 2025-01-01"), "start after end");
		CHECK(watermarks_fail("{\"a.b\": {\"start\": \"2025-01-01\"}}", "\"a.b\": give {\"start\""), "end missing");
		CHECK(watermarks_fail("{\"a.b\": {\"start\": \"2025-01-01\", \"end\": \"2025-01-01\", \"x\": 1}}", "a.b"),
			  "an extra key");
		CHECK(watermarks_fail("{\"a.b\": {\"start\": \"2025-01-01\", \"stop\": \"2025-01-01\"}}", "a.b"), "a wrong key");
		CHECK(watermarks_fail("{\"a.b\": {\"start\": 20250101, \"end\": \"2025-01-01\"}}", "a.b"), "a number");
		CHECK(watermarks_fail("{\"a.b\": [\"2025-01-01\", \"2025-01-02\"]}", "a.b"), "an array");
		CHECK(watermarks_fail("{\"a.b\": {\"start\": \"2025-02-30\", \"end\": \"2025-03-01\"}}",
							  "\"a.b\": invalid date \"2025-02-30\""), "a day that does not exist");
		CHECK(watermarks_fail("{\"\": {\"start\": \"2025-01-01\", \"end\": \"2025-01-01\"}}", "non-empty"), "an empty name");
		CHECK(watermarks_fail("[]", "must be a JSON object") && watermarks_fail("{", "not valid JSON"), "not an object");
	}

	/* ---- a generated repository against the naive rules ---- */
	{
		static const gen_change changes[] = {GEN_CHANGE_RANDOM1PCT, GEN_CHANGE_ROOT, GEN_CHANGE_COSMETIC};
		size_t		k;

		for (k = 0; k < 3; k++)
		{
			gen_opts	o = {400, changes[k], 0, 11};
			gen_result	r;
			il_git_repo *g = NULL;
			il_repo_diff_result *d = NULL;
			int			skip;
			char		what[128];

			snprintf(p, sizeof(p), "%s/r%d", tmp, nrepos++);
			CHECK(genrepo_write(p, &o, &r, ebuf, sizeof(ebuf)) == 0, "a generated repository of 400 models");
			for (skip = 1; skip >= 0; skip--)
			{
				int			mism;

				CHECK(plan(p, "base", "main", "2025-06-15", skip ? NULL : "{\"skip_cosmetic\":false}", NULL, 0, &err) == 0,
					  "it plans");
				CHECK(il_git_open(p, &g, &err) == 0 && il_repo_diff(g, "base", "main", NULL, NULL, &d, &err) == 0 &&
					  il_repo_build_dag(d->head, &err) == 0, "its diff and graph");
				mism = d ? naive_mismatches(d, skip) : 1;
				snprintf(what, sizeof(what), "change %d, skip_cosmetic %d: steps, groups and reasons as the naive rules say (%zu steps)",
						 (int) changes[k], skip, il_jcs_count(il_jcs_get(il_jcs_root(doc), "steps")));
				CHECK(mism == 0, what);
				il_repo_diff_free(d);
				d = NULL;
				il_git_close(g);
				g = NULL;
			}
			if (changes[k] == GEN_CHANGE_ROOT)
				CHECK(il_jcs_count(il_jcs_get(il_jcs_root(doc), "steps")) > 20, "a root change affects many models");
			if (changes[k] == GEN_CHANGE_COSMETIC)
			{
				plan(p, "base", "main", "2025-06-15", NULL, NULL, 0, &err);
				CHECK(il_jcs_count(il_jcs_get(il_jcs_root(doc), "steps")) == 0 &&
					  strlen(summary("cosmetic_changes_skipped")) > 0, "cosmetic edits only: no step, all listed");
			}
		}
	}

	CHECK(bad_plans == 0, "every plan made here is canonical, with valid step and plan ids, in order");
	il_jcs_free(doc);
	il_buf_free(&text);
	il_buf_free(&want);
	il_buf_free(&all);
	CHECK(genrepo_rmtree(tmp) == 0 && access(tmp, F_OK) != 0, "the temporary directory is removed");
	il_git_shutdown();
	return unit_done();
}
