/*-------------------------------------------------------------------------
 *
 * cmd_plan.h
 *	  `ironlayer plan`: the deterministic plan of a repository, offline.
 *
 *	ironlayer plan REPO BASE HEAD --as-of DATE [--environment E]
 *				   [--lookback-days N] [--recompute-days N] [--no-skip-cosmetic]
 *				   [--full-refresh MODEL]... [--watermarks FILE]
 *				   [--models-dir DIR]
 *	ironlayer plan REPO COMMIT --refresh --as-of DATE [--environment E]
 *				   [--lookback-days N] [--recompute-days N] [--watermarks FILE]
 *				   [--models-dir DIR]
 *	ironlayer plan REPO COMMIT --backfill MODEL[,MODEL...] --start DATE
 *				   --end DATE --as-of DATE [--batch-days N] [--environment E]
 *				   [--watermarks FILE] [--models-dir DIR]
 *
 * A change plan of BASE..HEAD (BASE may be 40 zeros: nothing deployed), a
 * refresh plan or a backfill plan at COMMIT (--backfill may be repeated).
 * Prints the plan's canonical text (RFC 8785, docs/plan-format.md) and one
 * newline on standard output: the bytes ironlayer.plan() stores, so its
 * plan_id can be checked by anyone. The flags become one options object
 * (with "kind" for --refresh and --backfill) that goes through
 * il_plan_options_parse, as the SQL function's options do: a flag of
 * another kind is refused there, named (exit 2). FILE holds watermarks as
 *	{"<model>": {"start": "YYYY-MM-DD", "end": "YYYY-MM-DD"}, ...}
 * Errors on standard error as "ironlayer: message". Returns 0; 1 on an
 * error of the repository, the watermark file or the plan; 2 on bad usage
 * (a missing or malformed argument, an invalid flag value).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_CMD_PLAN_H
#define IL_CMD_PLAN_H

extern int	il_cmd_plan(int argc, char **argv);

#endif							/* IL_CMD_PLAN_H */
