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
#include "utils/jsonb.h"

#include "il_guard.h"
#include "il_model.h"
#include "ironlayer.h"

/*
 * Raise the error of a failed parse, with the SQLSTATE the core assigns.
 * what names the input ("model", "SQL text").
 */
static void
parse_error(il_parse_status st, const il_error *err, const char *what)
{
	il_buf		text = IL_BUF_INIT;
	const char *state = il_parse_status_sqlstate(st);
	char	   *msg;
	const char *head;

	il_model_error_text(err, &text);
	msg = pstrdup(il_buf_cstr(&text));
	il_buf_free(&text);
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
	ereport(ERROR,
			(errcode(MAKE_SQLSTATE(state[0], state[1], state[2], state[3], state[4])),
			 errmsg("%s: %s", head, msg),
			 st == IL_PARSE_ERR_HEADER
			 ? errhint("A model starts with comment lines \"-- key: value\"; name and kind are required (see docs/model-format.md).")
			 : 0,
			 errcontext("parsing %s", what)));
}

/* Turn canonical JSON text from the core into jsonb; frees buf. */
static Datum
core_jsonb(il_buf *buf)
{
	Datum		d;

	if (buf->oom)
	{
		il_buf_free(buf);
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	}
	d = DirectFunctionCall1(jsonb_in, CStringGetDatum(pstrdup(il_buf_cstr(buf))));
	il_buf_free(buf);
	return d;
}

PG_FUNCTION_INFO_V1(ironlayer_parse_model);
/*
 * ironlayer.parse_model(sql text) returns jsonb
 */
Datum
ironlayer_parse_model(PG_FUNCTION_ARGS)
{
	text	   *sql = PG_GETARG_TEXT_PP(0);
	il_model	m;
	il_error	err;
	il_parse_status st;
	il_buf		out = IL_BUF_INIT;

	il_error_clear(&err);
	st = il_model_parse(VARDATA_ANY(sql), VARSIZE_ANY_EXHDR(sql), &m, &err);
	if (st != IL_PARSE_OK)
	{
		il_model_free(&m);
		parse_error(st, &err, "a model");
	}
	il_model_to_json(&m, &out);
	il_model_free(&m);
	PG_RETURN_DATUM(core_jsonb(&out));
}

PG_FUNCTION_INFO_V1(ironlayer_sql_guard);
/*
 * ironlayer.sql_guard(sql text) returns jsonb: {"ok": bool, "violations": [...]}
 */
Datum
ironlayer_sql_guard(PG_FUNCTION_ARGS)
{
	text	   *sql = PG_GETARG_TEXT_PP(0);
	il_guard_result g;
	il_error	err;
	il_parse_status st;
	il_buf		out = IL_BUF_INIT;

	il_error_clear(&err);
	st = il_guard_check(VARDATA_ANY(sql), VARSIZE_ANY_EXHDR(sql), &g, &err);
	if (st != IL_PARSE_OK)
	{
		il_guard_free(&g);
		parse_error(st, &err, "SQL text");
	}
	il_guard_to_json(&g, &out);
	il_guard_free(&g);
	PG_RETURN_DATUM(core_jsonb(&out));
}
