/*-------------------------------------------------------------------------
 *
 * exec_databricks.c
 *	  The databricks executor's part of a step in the worker's transaction:
 *	  the handover (docs/databricks.md, "How a step runs remotely").
 *
 * Once executor.c has locked the step, read its run and checked the
 * model's text, prepare renders the step's statements for Databricks
 * (il_dbx_step_statements: CREATE SCHEMA, then the statements of the
 * model's materialization, each idempotent), writes one intent row per
 * statement into ironlayer.remote_statements (state 'ready', a new request
 * id each, the SHA-256 of the statement as stored), gives the step's lease
 * to the dispatcher (lease_owner 'ironlayer dispatcher', lease_until
 * 'infinity': claim_step never takes it back) and wakes the dispatcher when
 * the transaction commits. All of that commits with the worker's
 * transaction or not at all, and nothing is sent from here: the worker is
 * free at once, and _execute_step returns 0 with the step still running.
 *
 * submit, poll and cancel are the dispatcher's (dispatcher.c, with the
 * functions of 77_dispatcher.sql), outside any long transaction; it ends
 * the step with ironlayer._finish_step, the finish every executor shares.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "il_dbx_render.h"
#include "executor.h"
#include "ironlayer.h"

/* The lease owner of every step the dispatcher holds. */
#define DISPATCHER_OWNER "ironlayer dispatcher"

/* One 'ready' row per statement, in order, for the step's current attempt. */
static void
insert_intents(const Step *st, const il_dbx_statements *out)
{
	Oid			types[5] = {INT8OID, TEXTOID, TEXTOID, TEXTARRAYOID, BOOLARRAYOID};
	Datum		values[5];
	Datum	   *sql = palloc(sizeof(Datum) * out->n);
	Datum	   *idem = palloc(sizeof(Datum) * out->n);
	size_t		i;

	for (i = 0; i < out->n; i++)
	{
		sql[i] = PointerGetDatum(cstring_to_text_with_len(out->stmt[i].text, (int) out->stmt[i].len));
		idem[i] = BoolGetDatum(out->stmt[i].idempotent);
	}
	values[0] = Int64GetDatum(st->run_id);
	values[1] = CStringGetTextDatum(st->step_id);
	values[2] = CStringGetTextDatum(st->environment);
	values[3] = PointerGetDatum(construct_array(sql, (int) out->n, TEXTOID, -1, false, TYPALIGN_INT));
	values[4] = PointerGetDatum(construct_array(idem, (int) out->n, BOOLOID, 1, true, TYPALIGN_CHAR));
	if (SPI_execute_with_args("INSERT INTO ironlayer.remote_statements"
							  "       (tenant_id, run_id, step_id, attempt, seq, request_id, environment,"
							  "        statement, statement_sha256, idempotent)"
							  " SELECT s.tenant_id, s.run_id, s.step_id, s.attempts,"
							  "        (t.n OPERATOR(pg_catalog.-) 1)::pg_catalog.int4, pg_catalog.gen_random_uuid(), $3,"
							  "        t.statement, pg_catalog.encode(pg_catalog.sha256("
							  "            pg_catalog.convert_to(t.statement, 'UTF8')), 'hex'), t.idempotent"
							  "   FROM ironlayer.run_steps s,"
							  "        ROWS FROM (pg_catalog.unnest($4), pg_catalog.unnest($5))"
							  "          WITH ORDINALITY AS t(statement, idempotent, n)"
							  "  WHERE s.run_id OPERATOR(pg_catalog.=) $1 AND s.step_id OPERATOR(pg_catalog.=) $2",
							  5, types, values, NULL, false, 0) != SPI_OK_INSERT || SPI_processed != out->n)
		elog(ERROR, "intent rows of step %s not written", st->step_id);
}

/* The step's lease goes to the dispatcher, which wakes at commit. */
static void
hand_over(const Step *st)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		values[2];

	values[0] = Int64GetDatum(st->run_id);
	values[1] = CStringGetTextDatum(st->step_id);
	if (SPI_execute_with_args("UPDATE ironlayer.run_steps"
							  "   SET lease_owner = '" DISPATCHER_OWNER "', lease_until = 'infinity',"
							  "       executor = 'databricks'"
							  " WHERE run_id OPERATOR(pg_catalog.=) $1 AND step_id OPERATOR(pg_catalog.=) $2",
							  2, types, values, NULL, false, 0) != SPI_OK_UPDATE || SPI_processed != 1)
		elog(ERROR, "step %s not handed over", st->step_id);
	if (SPI_execute("SELECT ironlayer._wake_dispatcher()", false, 0) != SPI_OK_SELECT)
		elog(ERROR, "_wake_dispatcher failed");
}

/*
 * Renders the step's statements (seam 2), writes their intent rows and
 * hands the step over.
 */
static ExecState
databricks_prepare(Step *st, const ModelText *text)
{
	il_dbx_step in;
	il_dbx_statements out;
	il_error	err;

	if (st->catalog == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("environment \"%s\" runs on executor \"databricks\" and has no databricks settings",
						st->environment),
				 errhint("A tenant admin sets them: ironlayer.set_environment(name, '{\"executor\": \"databricks\", \"databricks\": {...}}'); see docs/databricks.md.")));
	memset(&in, 0, sizeof(in));
	in.sql = text->text;
	in.len = text->len;
	in.edits = text->m->render_edits;
	in.edits_len = text->m->render_edits_len;
	in.dag = text->models->dag;
	in.self_node = text->node;
	in.model_name = text->m->name;
	in.kind = text->m->kind;
	in.materialization = text->m->materialization;
	in.time_column = text->m->time_column;
	in.unique_key = (const char *const *) text->m->unique_key.items;
	in.unique_key_n = text->m->unique_key.n;
	in.run_type = st->full_refresh ? IL_DBX_RUN_FULL_REFRESH : IL_DBX_RUN_INCREMENTAL;
	in.start = st->start[0] ? st->start : NULL;
	in.end = st->end[0] ? st->end : NULL;
	in.catalog = st->catalog;
	in.schema_prefix = st->schema_prefix;
	in.on_schema_change = st->on_schema_change;

	il_dbx_statements_init(&out);
	il_error_clear(&err);
	if (il_dbx_step_statements(&in, &out, &err) != 0)
		executor_render_error(st, text->m->path, &err);
	insert_intents(st, &out);
	il_dbx_statements_free(&out);
	hand_over(st);
	return EXEC_HANDED_OVER;
}

/*
 * The databricks executor. submit, poll and cancel are the dispatcher's
 * (dispatcher.c); finish is the shared one, which the dispatcher reaches
 * through ironlayer._finish_step.
 */
const ExecutorOps ironlayer_databricks_executor = {
	.name = "databricks",
	.prepare = databricks_prepare,
	.submit = NULL,
	.poll = NULL,
	.cancel = NULL,
	.finish = executor_finish,
};
