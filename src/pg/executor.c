/*-------------------------------------------------------------------------
 *
 * executor.c
 *	  ironlayer._execute_step(run_id, step_id, worker): the part of a step
 *	  every executor shares (executor.h; docs/runs.md, "Executors").
 *
 * In the caller's transaction: the arguments checked, the step's row
 * locked and held by the worker (lock_step), its run, plan, environment
 * and repository read (read_run), the model loaded at the plan's target
 * commit (il_repo_load, through the parse cache; a worker keeps the last
 * commit's models) and its file read (il_git_read_blob) and checked to be
 * the text the plan recorded (its SHA-256 is the step's sql_sha256), with
 * an error context that names the step. Then the environment's executor
 * prepares the step: postgres (exec_postgres.c) renders and runs it here;
 * databricks (exec_databricks.c) hands it to the dispatcher. A step that
 * ran here ends with executor_finish: ironlayer._finish_step, the
 * watermark and complete_step() as the last act, so a crash loses nothing
 * and applies nothing twice. Any failure is an ERROR with a deliberate
 * SQLSTATE; the caller rolls back and records it with
 * complete_step(..., false, ...).
 *
 * The SQL function is SECURITY DEFINER with row_security off: the
 * extension owner reads and writes ironlayer's tables across tenants.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "datatype/timestamp.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "il_date.h"
#include "il_git.h"
#include "il_render.h"
#include "il_repo.h"
#include "il_sha256.h"
#include "executor.h"
#include "ironlayer.h"

/* ------------------------------------------------------------- helpers */

/*
 * The models of the last commit this process loaded, with their graph:
 * every step of a run reads the same commit, and a commit never changes,
 * so a worker loads it once per run instead of once per step (12 to 15 ms
 * at 10,000 models). The key is the repository's path, the commit id and
 * the models directory; the parser's version is the library's own. The
 * set and its key live in a context of their own ("ironlayer kept
 * commit", a child of TopMemoryContext), deleted when another commit
 * takes its place.
 */
static MemoryContext kept_cxt = NULL;
static il_repo_models *kept_models = NULL;
static char *kept_key = NULL;
static size_t kept_key_len = 0;

/* The models of commit in the repository at path, kept or loaded. */
static il_repo_models *
models_at(il_git_repo *git, const char *path, const char *commit, const char *models_dir)
{
	size_t		lp = strlen(path) + 1;
	size_t		lc = strlen(commit) + 1;
	size_t		ld = models_dir ? strlen(models_dir) + 1 : 0;
	size_t		len = lp + lc + ld;
	char	   *key = palloc(len + 1);
	il_repo_models *m = NULL;
	MemoryContext cxt;
	MemoryContext old;
	il_error	err;
	int			rc;

	memcpy(key, path, lp);
	memcpy(key + lp, commit, lc);
	if (models_dir)
		memcpy(key + lp + lc, models_dir, ld);
	key[len] = '\0';
	if (kept_models != NULL && kept_key_len == len && memcmp(kept_key, key, len) == 0)
		return kept_models;

	/* loaded into a child of this call's context: on an error it goes with it */
	cxt = AllocSetContextCreate(CurrentMemoryContext, "ironlayer kept commit",
								ALLOCSET_DEFAULT_SIZES);
	il_error_clear(&err);
	old = MemoryContextSwitchTo(cxt);
	rc = il_repo_load(git, commit, models_dir, ironlayer_parse_cache(), IL_REPO_DAG, &m, &err);
	MemoryContextSwitchTo(old);
	ironlayer_parse_cache_flush();
	if (rc != 0)
		ironlayer_raise(&err, NULL, NULL, NULL);
	/* keep it (the previous one goes) */
	kept_key = MemoryContextAlloc(cxt, len);
	memcpy(kept_key, key, len);
	kept_key_len = len;
	if (kept_cxt != NULL)
		MemoryContextDelete(kept_cxt);
	MemoryContextSetParent(cxt, TopMemoryContext);
	kept_cxt = cxt;
	kept_models = m;
	return m;
}

/* The text "YYYY-MM-DD" of a date (what il_render expects). */
static void
format_date(DateADT d, char out[IL_DATE_LEN + 1], const char *what)
{
	/* a day ironlayer_date_to_il returns is one il_date_format writes */
	(void) il_date_format(ironlayer_date_to_il(d, what), out);
}

/*
 * Milliseconds of a timeout setting (an interval set_environment checked to
 * lie between 1 ms and 7 days), kept within what a timer takes.
 */
static int
interval_ms(Datum d)
{
	Interval   *i = DatumGetIntervalP(d);
	int64		us = i->time + (int64) i->day * USECS_PER_DAY
		+ (int64) i->month * DAYS_PER_MONTH * USECS_PER_DAY;
	int64		ms = us / 1000;

	return (int) Max(Min(ms, (int64) PG_INT32_MAX), 1);
}

/* A text column of the current SPI result (palloc'd in the caller's context), or NULL. */
static char *
spi_text(int col, MemoryContext cxt)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col, &isnull);

	if (isnull)
		return NULL;
	return MemoryContextStrdup(cxt, TextDatumGetCString(d));
}

/* ------------------------------------------------------ the step's rows */

/*
 * Locks the step's row for the rest of the transaction and checks that the
 * worker holds it: while the lock is held, claim_step (SKIP LOCKED) cannot
 * hand the step to another worker, even once the lease has expired.
 */
static void
lock_step(Step *st, MemoryContext cxt)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		values[2];
	bool		isnull;
	char	   *state;
	char	   *owner;
	char	   *run_type;
	HeapTuple	t;
	TupleDesc	td;

	values[0] = Int64GetDatum(st->run_id);
	values[1] = CStringGetTextDatum(st->step_id);
	if (SPI_execute_with_args("SELECT s.tenant_id, s.model, s.run_type, s.start_date, s.end_date,"
							  "       s.state, s.lease_owner, s.step_index"
							  "  FROM ironlayer.run_steps s"
							  " WHERE s.run_id OPERATOR(pg_catalog.=) $1"
							  "   AND s.step_id OPERATOR(pg_catalog.=) $2"
							  "   FOR UPDATE",
							  2, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "step look-up failed");
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("step %s of run " INT64_FORMAT " does not exist", st->step_id, st->run_id)));
	t = SPI_tuptable->vals[0];
	td = SPI_tuptable->tupdesc;
	state = spi_text(6, cxt);
	owner = spi_text(7, cxt);
	if (strcmp(state, "running") != 0 || owner == NULL || strcmp(owner, st->worker) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("step %s of run " INT64_FORMAT " is not held by worker %s",
						st->step_id, st->run_id, st->worker),
				 owner ? errdetail("The step is %s; worker %s holds its lease.", state, owner)
				 : errdetail("The step is %s; no worker holds it.", state),
				 errhint("A worker runs only the steps it holds: claim one with ironlayer.claim_step(worker).")));
	memcpy(&st->tenant, DatumGetUUIDP(SPI_getbinval(t, td, 1, &isnull)), sizeof(pg_uuid_t));
	st->model = spi_text(2, cxt);
	run_type = spi_text(3, cxt);
	st->full_refresh = strcmp(run_type, "FULL_REFRESH") == 0;
	st->step_start = DatumGetDateADT(SPI_getbinval(t, td, 4, &isnull));
	st->step_range = !isnull;
	st->step_end = DatumGetDateADT(SPI_getbinval(t, td, 5, &isnull));
	st->step_range = st->step_range && !isnull;
	st->step_index = DatumGetInt32(SPI_getbinval(t, td, 8, &isnull));
}

/*
 * The run, its plan and the plan's row of the step, environment and
 * repository.
 */
static void
read_run(Step *st, MemoryContext cxt)
{
	Oid			types[3] = {UUIDOID, INT8OID, INT4OID};
	Datum		values[3];
	char	   *plan_step;
	char	   *plan_model;
	bool		isnull;
	char	   *executor;
	HeapTuple	t;
	TupleDesc	td;

	values[0] = UUIDPGetDatum(&st->tenant);
	values[1] = Int64GetDatum(st->run_id);
	values[2] = Int32GetDatum(st->step_index);
	if (SPI_execute_with_args("SELECT r.environment, p.repository, r.created_by::text, p.target, p.as_of,"
							  "       e.schema_prefix, e.run_as::text, e.executor,"
							  "       g.repo_id, g.path, g.models_dir, e.name,"
							  "       e.statement_timeout, e.lock_timeout, g.store,"
							  "       p.plan_id, ps.step_id, ps.sql_sha256, ps.model,"
							  "       e.databricks OPERATOR(pg_catalog.->>) 'catalog', e.on_schema_change"
							  "  FROM ironlayer.runs r"
							  "  JOIN ironlayer.plans p ON p.tenant_id OPERATOR(pg_catalog.=) r.tenant_id"
							  "                        AND p.plan_id OPERATOR(pg_catalog.=) r.plan_id"
							  "  LEFT JOIN ironlayer.plan_steps ps ON ps.tenant_id OPERATOR(pg_catalog.=) r.tenant_id"
							  "                                  AND ps.plan_id OPERATOR(pg_catalog.=) r.plan_id"
							  "                                  AND ps.step_index OPERATOR(pg_catalog.=) $3"
							  "  LEFT JOIN ironlayer.environments e ON e.tenant_id OPERATOR(pg_catalog.=) r.tenant_id"
							  "                                    AND e.name OPERATOR(pg_catalog.=) r.environment"
							  "  LEFT JOIN ironlayer.repos g ON g.tenant_id OPERATOR(pg_catalog.=) r.tenant_id"
							  "                             AND g.name OPERATOR(pg_catalog.=) p.repository"
							  " WHERE r.tenant_id OPERATOR(pg_catalog.=) $1 AND r.run_id OPERATOR(pg_catalog.=) $2",
							  3, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "run look-up failed");
	if (SPI_processed != 1)
		elog(ERROR, "run " INT64_FORMAT " of step %s not found", st->run_id, st->step_id);
	t = SPI_tuptable->vals[0];
	td = SPI_tuptable->tupdesc;
	st->environment = spi_text(1, cxt);
	st->repository = spi_text(2, cxt);
	st->applied_by = spi_text(3, cxt);
	st->target = spi_text(4, cxt);
	st->as_of = DatumGetDateADT(SPI_getbinval(t, td, 5, &isnull));
	st->schema_prefix = spi_text(6, cxt);
	st->run_as_name = spi_text(7, cxt);
	executor = spi_text(8, cxt);
	st->repo_id = DatumGetInt64(SPI_getbinval(t, td, 9, &isnull));
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("repository \"%s\" of run " INT64_FORMAT " no longer exists", st->repository, st->run_id),
				 errhint("Register the repository again under the same name, or cancel the run.")));
	st->repo_path = spi_text(10, cxt);
	st->models_dir = spi_text(11, cxt);
	(void) SPI_getbinval(t, td, 12, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("environment \"%s\" of run " INT64_FORMAT " does not exist", st->environment, st->run_id)));
	st->statement_timeout = interval_ms(SPI_getbinval(t, td, 13, &isnull));
	st->lock_timeout = interval_ms(SPI_getbinval(t, td, 14, &isnull));
	st->repo_store = spi_text(15, cxt);
	st->plan_id = spi_text(16, cxt);
	plan_step = spi_text(17, cxt);
	st->sql_sha256 = spi_text(18, cxt);
	plan_model = spi_text(19, cxt);
	st->catalog = spi_text(20, cxt);
	st->on_schema_change = spi_text(21, cxt);
	/* the run's step is the plan's step of that index, of the same model */
	if (plan_step == NULL || strcmp(plan_step, st->step_id) != 0 || st->sql_sha256 == NULL ||
		plan_model == NULL || strcmp(plan_model, st->model) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("step %s of run " INT64_FORMAT " is not a step of its plan", st->step_id, st->run_id),
				 errdetail("Step %d of plan %s is %s, of model %s; the run's is of model %s.", st->step_index,
						   st->plan_id, plan_step ? plan_step : "missing", plan_model ? plan_model : "none",
						   st->model),
				 errhint("Plan again and apply the new plan.")));
	if (strcmp(executor, ironlayer_postgres_executor.name) == 0)
		st->ops = &ironlayer_postgres_executor;
	else if (strcmp(executor, ironlayer_databricks_executor.name) == 0)
		st->ops = &ironlayer_databricks_executor;
	else
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("environment \"%s\" runs steps on executor \"%s\", which this server does not know",
						st->environment, executor)));
}

/* ------------------------------------------------- the model, rendered */

/*
 * Raise an error of il_render for the step's model. The message (which the
 * run keeps) names the model and line; the detail the file and commit.
 */
void
executor_render_error(const Step *st, const char *path, const il_error *err)
{
	if (err->line > 0)
		ironlayer_raise(err, psprintf("model %s, line %d", st->model, err->line),
						psprintf("In %s at commit %s, line %d, column %d.", path, st->target, err->line, err->column),
						NULL);
	ironlayer_raise(err, psprintf("model %s", st->model), NULL, NULL);
}

/*
 * The contract of the stored plan: the step runs the model text whose
 * SHA-256 the plan recorded for it (plan_steps.sql_sha256, the planner's
 * sql_sha256 of the model file at target), and nothing else. The bytes
 * read now are hashed, and so must the parse record the load took them
 * from (what the rendering reads besides the text).
 */
static void
check_text(const Step *st, const il_repo_model *m, const char *text, size_t len)
{
	char		found[IL_SHA256_HEX_LEN + 1];

	if (il_sha256_hex(text, len, found) != 0)
		elog(ERROR, "SHA-256 failed");
	if (strcmp(found, st->sql_sha256) != 0 || strcmp(m->sql_sha256, st->sql_sha256) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("model %s at commit %s is not the text the plan recorded for step %s",
						st->model, st->target, st->step_id),
				 errdetail("Plan %s expects the model file's SHA-256 %s; %s at commit %s has SHA-256 %s%s.",
						   st->plan_id, st->sql_sha256, m->path, st->target, found,
						   strcmp(m->sql_sha256, found) != 0 ? " (its parse record says otherwise)" : ""),
				 errhint("Nothing of the step ran. Plan again from the repository as it is, and apply the new plan.")));
}

static int
model_cmp(const void *key, const void *elem)
{
	return strcmp((const char *) key, ((const il_repo_model *) elem)->name);
}

/*
 * Loads the models at the plan's target, finds the step's model, reads its
 * file and checks it is the text of the plan; copies what the rest needs
 * into st, and what the executor renders from into *text: the model's
 * parse record (in the kept set of models, not freed here) and the file's
 * bytes in blob (the caller frees it; on an error it goes with the step's
 * memory).
 */
static void
load_model(Step *st, MemoryContext cxt, il_buf *blob, ModelText *text)
{
	il_git_repo *git;
	il_error	err;
	const il_repo_models *models;
	const il_repo_model *m;
	size_t		i;

	git = ironlayer_open_repo_store(st->repo_path, st->repo_store,
								   "The repository may have moved since it was registered; remove it and add it again.");
	models = models_at(git, st->repo_path, st->target, st->models_dir);
	m = bsearch(st->model, models->models, models->n, sizeof(il_repo_model), model_cmp);
	if (m == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model %s does not exist at commit %s of repository \"%s\"",
						st->model, st->target, st->repository)));
	st->path = MemoryContextStrdup(cxt, m->path);
	st->kind = m->kind;
	st->materialization = m->materialization;
	st->time_column = m->time_column ? MemoryContextStrdup(cxt, m->time_column) : NULL;
	for (i = 0; i < m->unique_key.n; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(cxt);

		st->unique_key = lappend(st->unique_key, pstrdup(m->unique_key.items[i]));
		MemoryContextSwitchTo(old);
	}

	/*
	 * The range: an incremental step's own; all history up to as_of for a
	 * full refresh of a model that keeps history; none otherwise.
	 */
	st->start[0] = st->end[0] = '\0';
	if (!st->full_refresh)
	{
		if (!st->step_range)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("incremental step %s of run " INT64_FORMAT " has no date range",
							st->step_id, st->run_id)));
		format_date(st->step_start, st->start, "a step's start_date");
		format_date(st->step_end, st->end, "a step's end_date");
	}
	else if (m->kind == IL_KIND_INCREMENTAL_BY_TIME_RANGE || m->kind == IL_KIND_APPEND_ONLY)
	{
		strlcpy(st->start, "0001-01-01", sizeof(st->start));
		format_date(st->as_of, st->end, "the plan's as_of");
	}

	il_error_clear(&err);
	if (il_git_read_blob(git, m->blob, IL_REPO_MAX_FILE_SIZE, blob, NULL, &err) != 0)
		ironlayer_raise(&err, NULL, NULL, NULL);
	check_text(st, m, blob->data ? blob->data : "", blob->len);

	/* a query, which the executor's statements wrap */
	if (m->statement != IL_STMT_SELECT)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("model %s is not a query: its statement is %s, and the %s executor runs queries only",
						st->model, il_stmt_kind_name(m->statement) ? il_stmt_kind_name(m->statement) : "empty",
						st->ops->name),
				 errdetail("In %s at commit %s.", m->path, st->target),
				 errhint("Write the model as one query (SELECT, VALUES or WITH ... SELECT): the executor creates, fills or merges its table itself.")));

	text->m = m;
	text->models = models;
	text->node = (size_t) (m - models->models);
	text->text = blob->data ? blob->data : "";
	text->len = blob->len;
}

/* ------------------------------------------------------------- finish */

/*
 * The end of a step, shared by the executors: ironlayer._finish_step (the
 * watermark of a model that keeps history, then complete_step) in this
 * transaction. The dispatcher ends a remote step with the same function.
 * An ERROR when the worker no longer holds the step (nothing stays).
 */
void
executor_finish(const Step *st, bool ok, int64 rows, const char *sha)
{
	Oid			types[6] = {INT8OID, TEXTOID, TEXTOID, BOOLOID, INT8OID, TEXTOID};
	Datum		values[6];
	bool		isnull;

	values[0] = Int64GetDatum(st->run_id);
	values[1] = CStringGetTextDatum(st->step_id);
	values[2] = CStringGetTextDatum(st->worker);
	values[3] = BoolGetDatum(ok);
	values[4] = Int64GetDatum(rows);
	values[5] = CStringGetTextDatum(sha);
	if (SPI_execute_with_args(psprintf("SELECT ironlayer._finish_step($1, $2, $3, $4, $5, $6, %s, NULL, NULL)",
									   quote_literal_cstr(st->ops->name)),
							  6, types, values, NULL, false, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "_finish_step failed");
	if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) || isnull)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("step %s of run " INT64_FORMAT " is no longer held by worker %s",
						st->step_id, st->run_id, st->worker)));
}

/* Names the step in the context of every error raised while it runs. */
static void
step_error_context(void *arg)
{
	const Step *st = arg;

	if (st->step_id == NULL)
		return;					/* the arguments were refused */
	if (st->path != NULL)
		errcontext("ironlayer step %s of run " INT64_FORMAT ", model %s (%s at commit %s)",
				   st->step_id, st->run_id, st->model, st->path, st->target);
	else if (st->model != NULL)
		errcontext("ironlayer step %s of run " INT64_FORMAT ", model %s",
				   st->step_id, st->run_id, st->model);
	else
		errcontext("ironlayer step %s of run " INT64_FORMAT, st->step_id, st->run_id);
}

/*
 * The arguments and the step's rows (locked, read). The caller has pushed
 * the error context.
 */
static void
step_begin(FunctionCallInfo fcinfo, Step *st, MemoryContext cxt)
{
	ironlayer_refuse_in_model_sql("run steps");
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("run_id, step_id and worker must not be null")));
	ironlayer_check_size("step_id", PG_GETARG_DATUM(1), 64);
	ironlayer_check_size("the worker name", PG_GETARG_DATUM(2), 256);
	st->run_id = PG_GETARG_INT64(0);
	st->step_id = text_to_cstring(PG_GETARG_TEXT_PP(1));
	st->worker = text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	lock_step(st, cxt);
	read_run(st, cxt);
}

PG_FUNCTION_INFO_V1(ironlayer_execute_step);
/*
 * ironlayer._execute_step(run_id bigint, step_id text, worker text)
 * returns bigint: the rows written, or 0 for a step handed to the
 * dispatcher (still running: the dispatcher finishes it).
 */
Datum
ironlayer_execute_step(PG_FUNCTION_ARGS)
{
	Step	   *st = palloc0(sizeof(Step));
	ErrorContextCallback errcb;
	StringInfoData log;
	char		sha[IL_SHA256_HEX_LEN + 1];
	int64		rows = 0;
	il_buf		blob;
	ModelText	text;
	ExecState	where;
	MemoryContext cxt = CurrentMemoryContext;

	initStringInfo(&log);
	errcb.callback = step_error_context;
	errcb.arg = st;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	step_begin(fcinfo, st, cxt);
	il_buf_init(&blob);
	load_model(st, cxt, &blob, &text);
	where = st->ops->prepare(st, &text);
	il_buf_free(&blob);
	if (where == EXEC_HERE)
	{
		rows = st->ops->submit(st, &log);
		if (il_sha256_hex(log.data, log.len, sha) != 0)
			elog(ERROR, "SHA-256 failed");
		st->ops->finish(st, true, rows, sha);
	}
	SPI_finish();

	error_context_stack = errcb.previous;
	PG_RETURN_INT64(rows);
}
