/*-------------------------------------------------------------------------
 *
 * model.c
 *	  ironlayer.parse_model() and ironlayer.sql_guard(): the core's model
 *	  parser and SQL guard (src/core/il_model.c, il_guard.c), as SQL.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "il_guard.h"
#include "il_model.h"
#include "il_repo.h"
#include "ironlayer.h"

/* The largest text parse_model and sql_guard take: a repository's largest model file. */
#define IRONLAYER_MODEL_MAX IL_REPO_MAX_FILE_SIZE

/*
 * Raise the error of a failed parse: the catalogue's SQLSTATE of its code,
 * a message that names the kind of problem, the position as the detail.
 */
static void
pg_attribute_noreturn()
parse_error(il_parse_status st, const il_error *err)
{
	const char *head;

	switch (st)
	{
		case IL_PARSE_ERR_HEADER:
			head = "invalid model header";
			break;
		case IL_PARSE_ERR_SYNTAX:
			head = "syntax error in model SQL";
			break;
		case IL_PARSE_ERR_ENCODING:
			head = "invalid byte sequence in model SQL";
			break;
		case IL_PARSE_ERR_LIMIT:
			head = "model SQL is too complex";
			break;
		default:
			head = "could not parse model SQL";
			break;
	}
	ironlayer_raise(err, head, NULL,
					st == IL_PARSE_ERR_HEADER
					? "A model starts with comment lines \"-- key: value\"; name and kind are required (see docs/model-format.md)."
					: NULL);
}

/*
 * Turn canonical JSON text from the core into jsonb, and free the text
 * (on an error it goes with the function's memory).
 */
static Datum
core_jsonb(il_buf *buf)
{
	Datum		d;

	if (buf->oom)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	d = ironlayer_json_to_jsonb(buf->data, buf->len);
	il_buf_free(buf);
	return d;
}

PG_FUNCTION_INFO_V1(ironlayer_parse_model);
/*
 * ironlayer.parse_model(sql text) returns jsonb
 *
 * The text may hold IRONLAYER_MODEL_MAX bytes, like a model file of a
 * repository. Memory: the core's (docs/benchmarks.md), in the function's
 * context, freed as soon as it is used, then the JSON text and the jsonb.
 */
Datum
ironlayer_parse_model(PG_FUNCTION_ARGS)
{
	text	   *sql;
	il_model	m;
	il_error	err;
	il_parse_status st;
	il_buf		out = IL_BUF_INIT;

	ironlayer_check_size("the model text", PG_GETARG_DATUM(0), IRONLAYER_MODEL_MAX);
	sql = PG_GETARG_TEXT_PP(0);
	il_error_clear(&err);
	st = il_model_parse(VARDATA_ANY(sql), VARSIZE_ANY_EXHDR(sql), &m, &err);
	if (st != IL_PARSE_OK)
	{
		il_model_free(&m);
		parse_error(st, &err);
	}
	il_model_to_json(&m, &out);
	il_model_free(&m);
	PG_RETURN_DATUM(core_jsonb(&out));
}

PG_FUNCTION_INFO_V1(ironlayer_sql_guard);
/*
 * ironlayer.sql_guard(sql text) returns jsonb: {"ok": bool, "violations": [...]}
 *
 * The same size limit as parse_model; at most IL_GUARD_MAX_VIOLATIONS
 * violations are listed.
 */
Datum
ironlayer_sql_guard(PG_FUNCTION_ARGS)
{
	text	   *sql;
	il_guard_result g;
	il_error	err;
	il_parse_status st;
	il_buf		out = IL_BUF_INIT;

	ironlayer_check_size("the SQL text", PG_GETARG_DATUM(0), IRONLAYER_MODEL_MAX);
	sql = PG_GETARG_TEXT_PP(0);
	il_error_clear(&err);
	st = il_guard_check(VARDATA_ANY(sql), VARSIZE_ANY_EXHDR(sql), &g, &err);
	if (st != IL_PARSE_OK)
	{
		il_guard_free(&g);
		parse_error(st, &err);
	}
	il_guard_to_json(&g, &out);
	il_guard_free(&g);
	PG_RETURN_DATUM(core_jsonb(&out));
}
