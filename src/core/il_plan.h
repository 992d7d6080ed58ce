/*-------------------------------------------------------------------------
 *
 * il_plan.h
 *	  The deterministic planner: plan format v1 (DESIGN.md section 4).
 *
 * A plan is a function of the diff of two commits (il_repo_diff: base and
 * head models, each change added, modified, removed or cosmetic), a date
 * (as_of), the options and the watermarks, and of nothing else. The same
 * inputs give the same bytes: the canonical text (RFC 8785) of one JSON
 * object, written with keys in sorted order, every number an integer:
 *
 *	{"as_of":"YYYY-MM-DD",
 *	 "base":"<40 hex>",				the base commit, resolved
 *	 "environment":"dev",
 *	 "format":"ironlayer.plan/v1",
 *	 "options":{"environment":"dev","full_refresh":[full names, sorted],
 *				"lookback_days":30,"skip_cosmetic":true},
 *	 "plan_id":"<64 hex>",
 *	 "steps":[step, ...],			ordered by (parallel_group, model)
 *	 "summary":{"cosmetic_changes_skipped":[...],"models_added":[...],
 *				"models_affected":[...],"models_modified":[...],
 *				"models_removed":[...],"total_steps":N},
 *	 "target":"<40 hex>"}			the head commit, resolved
 *
 * and a step:
 *
 *	{"depends_on":[step ids, sorted as strings],
 *	 "input_range":null or {"end":"YYYY-MM-DD","start":"YYYY-MM-DD"},
 *	 "kind":"INCREMENTAL_BY_TIME_RANGE", "materialization":"TABLE",
 *	 "model":"<full name>", "parallel_group":0,
 *	 "reason":"new model added" | "SQL logic changed" | "downstream of X",
 *	 "run_type":"FULL_REFRESH" | "INCREMENTAL",
 *	 "sql_sha256":"<64 hex of the model file at target>",
 *	 "step_id":"<64 hex>"}
 *
 * Names are compared and sorted as byte strings (model names are lower-case
 * UTF-8, so this is code-point order). Node i of the head's graph is the
 * i-th name, so "smallest" below means smallest name.
 *
 * Decisions:
 *	- Directly changed: the models added or modified at head, and the
 *	  cosmetic ones (only whitespace, comments, keyword case or a trailing
 *	  ';' changed: same fingerprint, other blob) when skip_cosmetic is false;
 *	  these are then listed in models_modified and their reason is "SQL
 *	  logic changed". With skip_cosmetic true, every cosmetic model is
 *	  listed in cosmetic_changes_skipped, even one that gets a step as the
 *	  downstream of another change.
 *	- Affected: the directly changed models and all their descendants in
 *	  the head's graph. One step per affected model. Removed models are
 *	  listed in models_removed and never get a step.
 *	- Run type and input_range, in topological order (a model's upstream
 *	  steps are decided first):
 *		FULL_REFRESH, input_range null: an added model; a model of kind
 *		FULL_REFRESH or MERGE_BY_KEY; a model named in the full_refresh
 *		option; a model of kind INCREMENTAL_BY_TIME_RANGE or APPEND_ONLY
 *		with an affected direct upstream whose step is FULL_REFRESH (its
 *		whole history changed).
 *		INCREMENTAL otherwise: start = the model's watermark end (the day
 *		already loaded is loaded again), else as_of - lookback_days (at
 *		least 0001-01-01); then lowered to the smallest planned start of
 *		its affected direct upstream steps (their planned range, not their
 *		watermarks: a downstream step covers what its upstream steps
 *		recompute); end = as_of; start is at most end. Both ends inclusive.
 *	  The full_refresh option changes run types only: it never adds a step.
 *	- parallel_group: the 0-based longest-path depth within the affected
 *	  subgraph (0 when no affected direct upstream; else one more than the
 *	  largest group of its affected direct upstreams).
 *	- depends_on: the step ids of the affected direct upstreams, sorted as
 *	  strings.
 *	- reason: "new model added" for an added model; "SQL logic changed" for
 *	  another directly changed model; else "downstream of X", X the
 *	  smallest directly changed direct upstream, or when there is none the
 *	  smallest directly changed ancestor. The ancestor is found in one
 *	  linear pass in topological order: cause(v) = the smallest of p (when
 *	  p is directly changed) and cause(p) over the affected direct
 *	  upstreams p of v.
 *	- step_id: SHA-256 (hex) of the canonical text of the step without its
 *	  "step_id" member. It covers the model's file (sql_sha256), its run
 *	  type, range, group, reason and, through depends_on, every upstream
 *	  step: a change anywhere upstream changes the id.
 *	- plan_id: SHA-256 (hex) of the canonical text of the plan without its
 *	  "plan_id" member. base = head gives a plan without steps, with an id.
 *
 * Options (il_plan_options; il_plan_options_parse reads them from a JSON
 * object, the one validation path of the SQL function and the command):
 *	environment		string, 1 to 63 bytes: a lower-case ASCII letter, then
 *					lower-case letters, digits, '_' or '-'. Default "dev".
 *	lookback_days	a JSON number with an integral value from 1 to 3650
 *					(30, 30.0 and 3e1 are the same number). Default 30.
 *	skip_cosmetic	true or false. Default true.
 *	full_refresh	an array of model names (non-empty strings without NUL),
 *					each resolved at plan time against the head's models with
 *					il_dag_find (full name, or a unique suffix, any case) and
 *					written as sorted, unique full names. Default [].
 * Any other key, a value of the wrong type or out of range, or a document
 * that is not a JSON object: error invalid_option, naming the key or value
 * and listing the valid keys. An unknown or ambiguous full_refresh name is
 * invalid_option at plan time, naming it.
 *
 * Watermarks (il_plan_watermark): per model, the first and last day already
 * loaded. Any input order gives the same plan (they are sorted by model name
 * inside). Model names are compared after lower-casing their ASCII letters,
 * and must be full names; a name that is not a model at head is ignored.
 * Errors, all invalid_watermark naming the model: a day outside 0001-01-01
 * to 9999-12-31, start after end, or two watermarks of one model. They are
 * checked for every watermark (also those of models not at head), in name
 * order. il_plan_watermarks_parse reads the command's file format:
 *	{"<model>": {"start": "YYYY-MM-DD", "end": "YYYY-MM-DD"}, ...}
 * (exactly those two keys per model).
 *
 * Checks, in this order: as_of a valid date (invalid_date), the options'
 * values (invalid_option), the watermarks, the head's graph (il_repo_build_dag:
 * cycle, ambiguous_reference, unknown_ref), the full_refresh names.
 *
 * Cost: linear in models plus edges, plus the sorts (watermarks, each
 * step's depends_on, the option's names); il_dag_find scans the models
 * for a short name. Every allocation is freed on every path. Functions
 * return 0, or -1 with err set (and out unchanged).
 *
 * Error codes (their SQLSTATEs in src/core/il_errcodes.txt): invalid_option,
 * invalid_watermark and invalid_date are 22023; out_of_memory 53200; and
 * those of il_repo (cycle 42P19).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_PLAN_H
#define IL_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "il_buf.h"
#include "il_date.h"
#include "il_repo.h"
#include "il_sha256.h"

#define IL_PLAN_FORMAT "ironlayer.plan/v1"

#define IL_PLAN_ENVIRONMENT_MAX 63	/* bytes */
#define IL_PLAN_LOOKBACK_MAX 3650	/* days */

typedef struct il_plan_options
{
	char		environment[IL_PLAN_ENVIRONMENT_MAX + 1];
	int			lookback_days;
	bool		skip_cosmetic;
	char	  **full_refresh;	/* names as given, resolved at plan time: one
								 * block (the pointers, then the names) */
	size_t		n_full_refresh;
} il_plan_options;

/* The defaults: "dev", 30, true, no full_refresh. */
extern void il_plan_options_init(il_plan_options *opts);

/*
 * Sets *opts to the defaults, then to the members of the JSON object
 * json[0..len). On error (invalid_option, or out_of_memory) *opts holds the
 * defaults. Free with il_plan_options_free.
 */
extern int	il_plan_options_parse(const char *json, size_t len, il_plan_options *opts,
								  il_error *err);
extern void il_plan_options_free(il_plan_options *opts);

typedef struct il_plan_watermark
{
	const char *model;			/* a full model name, any case */
	il_date		start;			/* first day loaded */
	il_date		end;			/* last day loaded */
} il_plan_watermark;

typedef struct il_plan_watermarks
{
	il_plan_watermark *items;	/* in the file's (sorted) key order */
	size_t		n;
	char	   *mem;			/* the names */
} il_plan_watermarks;

#define IL_PLAN_WATERMARKS_INIT {NULL, 0, NULL}

/*
 * Reads the command's watermark file format (see above) from
 * json[0..len). Errors: invalid_watermark (not JSON, not an object, a
 * member that is not {"start","end"} with two dates, start after end),
 * out_of_memory. Free *out with il_plan_watermarks_free whatever the result.
 */
extern int	il_plan_watermarks_parse(const char *json, size_t len, il_plan_watermarks *out,
									 il_error *err);
extern void il_plan_watermarks_free(il_plan_watermarks *w);

/*
 * Plans the diff base..head: appends the canonical text of the plan to out
 * (no newline) and writes its id into plan_id (64 hex and a NUL). Builds
 * the head's graph when the diff has none (diff->head->dag). opts NULL
 * means the defaults; wms may be NULL when nwm is 0.
 */
extern int	il_plan_build(il_repo_diff_result *diff, il_date as_of, const il_plan_options *opts,
						  const il_plan_watermark *wms, size_t nwm, il_buf *out,
						  char plan_id[IL_SHA256_HEX_LEN + 1], il_error *err);

/*
 * What a plan holds, as the planner made it (not read back from its text):
 * the commits, the id, and each step in plan order with its edges both
 * ways. The extension stores plan_steps rows from it (docs/plan-format.md),
 * and a run copies their edges.
 */
typedef struct il_plan_step
{
	char		step_id[IL_SHA256_HEX_LEN + 1];
	char		sql_sha256[IL_SHA256_HEX_LEN + 1];	/* of the model file at target */
	const char *model;			/* full name */
	const char *kind;			/* "FULL_REFRESH", ... */
	const char *materialization;	/* "TABLE", ... */
	const char *reason;
	bool		full_refresh;	/* run_type FULL_REFRESH, else INCREMENTAL */
	il_date		start;			/* INCREMENTAL: the range, both days included */
	il_date		end;
	size_t		parallel_group;
	const size_t *upstream;		/* depends_on: step indices, in the order of their ids */
	size_t		n_upstream;
	const size_t *dependents;	/* the steps that depend on this one, in the order of their ids */
	size_t		n_dependents;
} il_plan_step;

typedef struct il_plan_result
{
	char		plan_id[IL_SHA256_HEX_LEN + 1];
	char		base[IL_GIT_OID_HEX_LEN + 1];
	char		target[IL_GIT_OID_HEX_LEN + 1];
	il_plan_step *steps;		/* in plan order */
	size_t		n_steps;
	size_t	   *edges;			/* storage of upstream and dependents */
	char	   *names;			/* storage of model and reason */
} il_plan_result;

#define IL_PLAN_RESULT_INIT {{0}, {0}, {0}, NULL, 0, NULL, NULL}

/*
 * il_plan_build, and the plan's result into *res (freed first; free it
 * with il_plan_result_free whatever the outcome).
 */
extern int	il_plan_build_result(il_repo_diff_result *diff, il_date as_of, const il_plan_options *opts,
								 const il_plan_watermark *wms, size_t nwm, il_buf *out,
								 il_plan_result *res, il_error *err);
extern void il_plan_result_free(il_plan_result *res);

/*
 * il_repo_diff of base..head (models_dir and cache as there), then
 * il_plan_build. *stats, when stats is not NULL, gets the diff's counts.
 */
extern int	il_plan_from_git(il_git_repo *git, const char *base, const char *head,
							 const char *models_dir, const il_parse_cache *cache, il_date as_of,
							 const il_plan_options *opts, const il_plan_watermark *wms, size_t nwm,
							 il_buf *out, char plan_id[IL_SHA256_HEX_LEN + 1],
							 il_repo_stats *stats, il_error *err);

/* il_plan_from_git with the plan's result (as il_plan_build_result). */
extern int	il_plan_from_git_result(il_git_repo *git, const char *base, const char *head,
									const char *models_dir, const il_parse_cache *cache, il_date as_of,
									const il_plan_options *opts, const il_plan_watermark *wms,
									size_t nwm, il_buf *out, il_plan_result *res,
									il_repo_stats *stats, il_error *err);

/* The SQLSTATE of an error code of the planner or of il_repo ("XX000" if unknown). */

#endif							/* IL_PLAN_H */
