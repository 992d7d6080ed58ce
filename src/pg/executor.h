/*-------------------------------------------------------------------------
 *
 * executor.h
 *	  The executor interface: what runs one step of a run, whatever runs
 *	  its statements (docs/runs.md, "Executors"; DESIGN.md section 6).
 *
 * ironlayer._execute_step (executor.c) does the part every executor shares
 * in the worker's transaction: it checks the arguments, locks the step's
 * row (lock_step), reads its run, plan and environment (read_run), loads
 * the model at the plan's target commit and checks that its text is the
 * one the plan recorded (load_model). Then the environment's executor
 * takes over through its operations:
 *
 *	prepare	what the step needs before its statements go, from the
 *			model's checked text. postgres (exec_postgres.c): the query
 *			rendered for PostgreSQL, run_as checked, the target schema
 *			made. databricks (exec_databricks.c): the step's statements
 *			rendered for Databricks (il_dbx_render.h), one intent row each
 *			in ironlayer.remote_statements, the step's lease given to the
 *			dispatcher; the step is then the dispatcher's (EXEC_HANDED_OVER).
 *	submit	runs the prepared statements: postgres runs them here, as
 *			run_as, and returns with their outcome. NULL for databricks:
 *			the dispatcher (dispatcher.c) submits them.
 *	poll	whether submitted statements finished: NULL for both (postgres's
 *			submit returns finished; the dispatcher polls remote ones).
 *	cancel	stops a step's running statements: NULL for both (a local step
 *			runs to its end in its transaction, cancel() stops the steps
 *			not started; the dispatcher cancels remote statements).
 *	finish	the end of the step, shared: executor_finish(), that is
 *			ironlayer._finish_step (watermark and complete_step), which the
 *			dispatcher calls too when a remote step's last statement ends.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IRONLAYER_EXECUTOR_H
#define IRONLAYER_EXECUTOR_H

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "utils/date.h"
#include "utils/uuid.h"

#include "il_date.h"
#include "il_repo.h"

struct ExecutorOps;

/* What the executor knows of the step, gathered before anything runs. */
typedef struct Step
{
	/* the arguments */
	int64		run_id;
	char	   *step_id;
	char	   *worker;

	/* ironlayer.run_steps, runs, plans, environments, repos */
	pg_uuid_t	tenant;
	int32		step_index;
	char	   *model;			/* lower-case full name */
	bool		full_refresh;	/* run_type FULL_REFRESH (else INCREMENTAL) */
	bool		step_range;		/* the step has start_date and end_date */
	DateADT		step_start;
	DateADT		step_end;
	char	   *environment;
	char	   *repository;
	char	   *applied_by;		/* runs.created_by */
	char	   *plan_id;
	char	   *target;			/* the plan's target commit */
	char	   *sql_sha256;		/* the step's, as stored with the plan */
	DateADT		as_of;
	char	   *schema_prefix;
	char	   *run_as_name;
	Oid			run_as;
	int			statement_timeout;	/* ms, > 0 */
	int			lock_timeout;	/* ms, > 0 */
	int64		repo_id;
	char	   *repo_path;
	char	   *repo_store;		/* the repository's identity at registration */
	char	   *models_dir;
	const struct ExecutorOps *ops;	/* the environment's executor */
	char	   *catalog;		/* databricks: the environment's catalog */
	char	   *on_schema_change;	/* fail, append_new_columns, sync_all_columns */

	/* the model at the target commit (copied out of the core's memory) */
	char	   *path;
	il_model_kind kind;
	il_materialization materialization;
	char	   *time_column;	/* NULL when the header has none */
	List	   *unique_key;		/* of char *, as written in the header */

	/* the range the step covers, "YYYY-MM-DD", or both empty */
	char		start[IL_DATE_LEN + 1];
	char		end[IL_DATE_LEN + 1];

	/* postgres: the rendered query (no ';') and the model's relation */
	char	   *sql;
	char	   *relation;		/* "schema"."table" */
	char	   *schema;			/* unquoted */
	char	   *table;			/* unquoted */
	List	   *reads;			/* of List * (schema, table String nodes):
								 * what the model reads as PostgreSQL names
								 * it, for the context of its errors */
} Step;

/* The model's file at the target commit, its text checked (load_model). */
typedef struct ModelText
{
	const il_repo_model *m;		/* its parse record */
	const il_repo_models *models;	/* the commit's models and graph */
	size_t		node;			/* m's node in models->dag */
	const char *text;			/* the file's bytes */
	size_t		len;
} ModelText;

typedef enum ExecState
{
	EXEC_HERE,					/* the statements run in this transaction: submit follows */
	EXEC_HANDED_OVER			/* another process runs them and finishes the step */
} ExecState;

/* The operations of an executor (see the banner). */
typedef struct ExecutorOps
{
	const char *name;			/* environments.executor */
	ExecState	(*prepare) (Step *st, const ModelText *text);
	int64		(*submit) (const Step *st, StringInfo log);
	bool		(*poll) (const Step *st);
	void		(*cancel) (const Step *st);
	void		(*finish) (const Step *st, bool ok, int64 rows, const char *sha);
} ExecutorOps;

extern const ExecutorOps ironlayer_postgres_executor;	/* exec_postgres.c */
extern const ExecutorOps ironlayer_databricks_executor; /* exec_databricks.c */

/* executor.c: the shared part */
extern void executor_finish(const Step *st, bool ok, int64 rows, const char *sha);
extern void executor_render_error(const Step *st, const char *path, const struct il_error *err)
			pg_attribute_noreturn();

#endif							/* IRONLAYER_EXECUTOR_H */
