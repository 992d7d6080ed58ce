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
 *	 "target":"<40 hex>",			the head commit, resolved
 *	 "unknown_references":[{"model","reference"}, ...]}
 *
 * "unknown_references" (every kind) is written only when there is one: the
 * unknown_refs of every model at the head (il_repo.h, il_sources.h), sorted
 * by model then reference; without any, the plan keeps its bytes. And a
 * step:
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
 *		whole history changed; change plans only: in a refresh or a
 *		backfill no history changed, and the model stays INCREMENTAL).
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
 * Plan kinds (option kind). The above is a change plan. Two more kinds are
 * planned at one commit C (the graph of C; base NULL or equal to head; the
 * plan's base and target are both C) by the same machinery: the same
 * topological pass decides affected, run type, range, group and cause,
 * with "directly changed" replaced, no model "added", and a FULL_REFRESH
 * upstream step leaving an incremental model INCREMENTAL (no logic changed,
 * so its history stands: a daily refresh never rebuilds the marts below a
 * merged or rebuilt table):
 *	refresh		directly changed = due: every INCREMENTAL_BY_TIME_RANGE or
 *				APPEND_ONLY model without a watermark, or with one ending
 *				before as_of, or any such model when recompute_days > 0;
 *				and every model of another kind that reads sources (tables
 *				that are no models) and feeds a due model, directly or
 *				through others (its sources may have new rows: a due model
 *				must not load its new days from a stale copy).
 *				Reason "new data due". The text gets "kind":"refresh" (after
 *				"format"), options {"environment","lookback_days",
 *				"recompute_days"}, summary {"models_affected","models_due",
 *				"total_steps"}.
 *	backfill	directly changed = the models named in the option models
 *				(each must have date ranges, a watermark with wm.start <=
 *				start and end <= wm.end, and end <= as_of: else the error
 *				invalid_backfill naming the model and the bound). The range
 *				is cut into K windows of batch_days (the last one shorter);
 *				a named model is INCREMENTAL, and every INCREMENTAL affected
 *				model gets one step per window (range = the window), a
 *				FULL_REFRESH one one step. Window k depends on window k - 1
 *				of the same model and, per affected direct upstream p, on
 *				p's window k (p INCREMENTAL) or p's step; a FULL_REFRESH
 *				step depends on each upstream's last window (or step).
 *				parallel_group is the longest path in this step graph
 *				(window k of a model: its first group + k). Reason "backfill
 *				S to E" for the named models. The text gets
 *				"kind":"backfill", options {"batch_days","end","environment",
 *				"models" (sorted unique full names),"start"}, summary
 *				{"batches":K,"models_affected","total_steps"}.
 * Steps are ordered by (parallel_group, model, start) in every kind (a model
 * has at most one step a group). A change plan has no "kind" member, and
 * "recompute_days" in its options only when it is > 0: every change plan
 * made before the kinds keeps its bytes.
 *	recompute_days N > 0 (change, refresh): an INCREMENTAL step's start is
 *	lowered to as_of - N when that is earlier, before the lowering to its
 *	upstream steps' start.
 * The base IL_PLAN_NULL_BASE (40 zeros) is a base without models: every
 * head model is added (il_repo_diff); so is a base without the models
 * directory.
 *
 * Options (il_plan_options; il_plan_options_parse reads them from a JSON
 * object, the one validation path of the SQL function and the command):
 *	kind			"change" (default), "refresh" or "backfill". Read first: a
 *					key the kind does not take is invalid_option ("x is not
 *					an option of refresh plans").
 *	environment		all kinds. String, 1 to 63 bytes: a lower-case ASCII
 *					letter, then lower-case letters, digits, '_' or '-'.
 *					Default "dev".
 *	lookback_days	change, refresh. A JSON number with an integral value
 *					from 1 to 3650 (30, 30.0 and 3e1 are the same number).
 *					Default 30.
 *	recompute_days	change, refresh. Integral, 0 to 3650. Default 0.
 *	skip_cosmetic	change. true or false. Default true.
 *	full_refresh	change. An array of model names (non-empty strings
 *					without NUL), each resolved at plan time against the
 *					head's models with il_dag_find (full name, or a unique
 *					suffix, any case) and written as sorted, unique full
 *					names. Default [].
 *	models			backfill, required: an array of 1 to 1000 model names,
 *					resolved as full_refresh.
 *	start, end		backfill, required: days "YYYY-MM-DD", start <= end.
 *	batch_days		backfill. Integral, 1 to 3650, at most 1000 windows;
 *					at plan time, at most 100,000 steps (windows of the
 *					affected incremental models): else invalid_option.
 *					Default 7.
 * Any other key, a value of the wrong type or out of range, or a document
 * that is not a JSON object: error invalid_option, naming the key or value
 * and listing the valid keys (of the kind). An unknown or ambiguous
 * full_refresh or models name is invalid_option at plan time, naming it.
 * Options a caller fills in by hand are checked the same way (the values,
 * no list of another kind) before anything is read.
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
 * values (invalid_option), the watermarks, one commit for a refresh or
 * backfill (invalid_option), the head's graph (il_repo_build_dag: cycle,
 * ambiguous_reference, unknown_ref), the full_refresh or models names, the
 * backfill's bounds per named model in name order (invalid_backfill).
 *
 * Cost: linear in models plus edges, plus the sorts (watermarks, each
 * step's depends_on, the option's names); il_dag_find scans the models
 * for a short name. Every allocation is freed on every path. Functions
 * return 0, or -1 with err set (and out unchanged).
 *
 * Error codes (their SQLSTATEs in src/core/il_errcodes.txt): invalid_option,
 * invalid_watermark, invalid_backfill and invalid_date are 22023; out_of_memory 53200; and
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
#define IL_PLAN_RECOMPUTE_MAX 3650	/* days */
#define IL_PLAN_BATCH_MAX 3650		/* days */
#define IL_PLAN_BATCH_DEFAULT 7		/* days */
#define IL_PLAN_BATCHES_MAX 1000	/* windows of a backfill */
#define IL_PLAN_MODELS_MAX 1000		/* names of a backfill */
#define IL_PLAN_STEPS_MAX 100000	/* steps of a backfill (windows of its affected models) */

/* The base of a plan when nothing is deployed: git's null id, no models. */
#define IL_PLAN_NULL_BASE IL_GIT_NULL_OID

typedef enum il_plan_kind
{
	IL_PLAN_CHANGE,				/* what changed between two commits */
	IL_PLAN_REFRESH,			/* what is due at one commit */
	IL_PLAN_BACKFILL			/* named models over a date range, in batches */
} il_plan_kind;

typedef struct il_plan_options
{
	il_plan_kind kind;
	char		environment[IL_PLAN_ENVIRONMENT_MAX + 1];
	int			lookback_days;	/* change, refresh */
	int			recompute_days; /* change, refresh: 0 = none */
	bool		skip_cosmetic;	/* change */
	char	  **full_refresh;	/* change: names as given, resolved at plan
								 * time: one block (the pointers, then the
								 * names) */
	size_t		n_full_refresh;
	char	  **models;			/* backfill: names as given, one block too */
	size_t		n_models;
	il_date		start;			/* backfill: the range, both days included */
	il_date		end;
	int			batch_days;		/* backfill */
} il_plan_options;

/* The name of a kind: "change", "refresh", "backfill". */
extern const char *il_plan_kind_name(il_plan_kind kind);

/* The defaults: change, "dev", 30, no recompute, true, no full_refresh, batches of 7 days. */
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
 * A refresh or backfill with base NULL is planned at head.
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
