/*-------------------------------------------------------------------------
 *
 * il_dbx_render.h
 *	  A model's step rendered for Databricks: the ordered statements the
 *	  dispatcher sends to a SQL warehouse (docs/databricks.md, "What each
 *	  materialization sends").
 *
 * The query is rendered by il_render's one code path in its Databricks
 * dialect (il_render.h, il_render_query_for): from the parse record's edit
 * list, references and {{ ref() }} become `catalog`.`prefix+schema`.`table`,
 * {{ start_date }} and {{ end_date }} the step's dates as for PostgreSQL,
 * no refusal of PostgreSQL's applies. il_dbx_step_statements wraps it in
 * the statements of the model's materialization (<q> is the query, REL the
 * model's relation, SCH `catalog`.`prefix+schema`, TC the time_column, K
 * the unique_key columns, all backtick-quoted):
 *
 *	S	CREATE SCHEMA IF NOT EXISTS SCH
 *	V	CREATE OR REPLACE VIEW REL AS\n<q>
 *	F	CREATE OR REPLACE TABLE REL AS\n<q>
 *	E	CREATE TABLE IF NOT EXISTS REL AS\nSELECT * FROM (\n<q>\n) AS q WHERE 1 = 0
 *	R	INSERT INTO REL REPLACE WHERE TC >= DATE'<start>' AND TC < DATE'<end + 1>'
 *		\nSELECT * FROM (\n<q>\n) AS q
 *	A	INSERT INTO REL\nSELECT * FROM (\n<q>\n) AS q\nEXCEPT\nSELECT * FROM REL
 *	M	MERGE INTO REL AS t\nUSING (\n<q>\n) AS s\nON t.K1 = s.K1 AND ...
 *		\nWHEN MATCHED THEN UPDATE SET *\nWHEN NOT MATCHED THEN INSERT *
 *
 * With on_schema_change append_new_columns, R and M are written
 * "INSERT WITH SCHEMA EVOLUTION INTO" and "MERGE WITH SCHEMA EVOLUTION INTO".
 * R's upper bound is the day after end, so a TIMESTAMP time_column covers
 * the whole end day; for end 9999-12-31 R has no upper bound.
 *
 * A step is S, then: materialization VIEW: V; kind FULL_REFRESH, or run
 * type FULL_REFRESH (any table model, MERGE_BY_KEY included): F;
 * INCREMENTAL_BY_TIME_RANGE: E, R; APPEND_ONLY with a time_column: E, R;
 * APPEND_ONLY without: E, A; MERGE_BY_KEY: E, M. Every statement is
 * idempotent: running it again after it succeeded changes nothing.
 *
 * Errors (il_error.code), the first found in this order:
 *	invalid_catalog, invalid_schema_prefix, invalid_model_name,
 *	identifier_too_long			the relation (il_render_relation_for)
 *	invalid_range				start or end not a date, one of them only, or
 *								start after end
 *	invalid_on_schema_change	not NULL, fail, append_new_columns or
 *								sync_all_columns
 *	unsupported_schema_change	sync_all_columns (Delta cannot drop columns
 *								in place)
 *	invalid_kind				IL_KIND_NONE or out of range
 *	missing_time_column			INCREMENTAL_BY_TIME_RANGE without time_column
 *	missing_unique_key			MERGE_BY_KEY without unique_key
 *	invalid_column				a time_column or unique_key item that is not
 *								a column as the header writes it (il_header.h),
 *								or holds a control character or invalid UTF-8
 *	missing_range				R needed (an incremental step) and no range
 *	the rendering's errors		(il_render.h; missing_range for a date
 *								template without a range)
 *	not_a_query					the model's statement is not a query
 *	the guard's rules			a statement the guard refuses
 *	out_of_memory
 *
 * Memory: il_alloc (the host's). out is the caller's: initialize it once
 * with il_dbx_statements_init, free it with il_dbx_statements_free; a call
 * replaces what it held (empty on an error).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_DBX_RENDER_H
#define IL_DBX_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "il_buf.h"
#include "il_dag.h"
#include "il_header.h"

typedef enum il_dbx_run_type
{
	IL_DBX_RUN_INCREMENTAL = 0,
	IL_DBX_RUN_FULL_REFRESH
} il_dbx_run_type;

/* The shapes; the letters of the list above. */
typedef enum il_dbx_shape
{
	IL_DBX_SCHEMA = 'S',
	IL_DBX_VIEW = 'V',
	IL_DBX_FULL = 'F',
	IL_DBX_EMPTY = 'E',
	IL_DBX_REPLACE = 'R',
	IL_DBX_APPEND = 'A',
	IL_DBX_MERGE = 'M'
} il_dbx_shape;

/* A step has at most this many statements. */
#define IL_DBX_MAX_STATEMENTS 3

typedef struct il_dbx_step
{
	const char *sql;			/* the model file */
	size_t		len;
	const uint8_t *edits;		/* its parse record's edit list; NULL: from sql */
	size_t		edits_len;
	const il_dag *dag;			/* NULL: no name resolves */
	size_t		self_node;		/* IL_RENDER_NO_MODEL for none */
	const char *model_name;		/* schema.table or catalog.schema.table */
	il_model_kind kind;
	il_materialization materialization;
	const char *time_column;	/* as the header writes it; NULL when none */
	const char *const *unique_key;	/* as the header writes them */
	size_t		unique_key_n;
	il_dbx_run_type run_type;
	const char *start;			/* YYYY-MM-DD, both inclusive, or both NULL */
	const char *end;
	const char *catalog;		/* the environment's */
	const char *schema_prefix;	/* NULL: "" */
	const char *on_schema_change;	/* NULL: "fail" */
} il_dbx_step;

typedef struct il_dbx_statement
{
	il_dbx_shape shape;
	bool		idempotent;
	const char *text;			/* NUL-terminated, no trailing ';', in out->buf */
	size_t		len;
} il_dbx_statement;

typedef struct il_dbx_statements
{
	il_dbx_statement stmt[IL_DBX_MAX_STATEMENTS];
	size_t		n;
	il_buf		buf;			/* the texts, one after another */
} il_dbx_statements;

extern void il_dbx_statements_init(il_dbx_statements *out);
extern void il_dbx_statements_free(il_dbx_statements *out);

/* The statements of one step (see above). Returns 0, or -1 with err set. */
extern int	il_dbx_step_statements(const il_dbx_step *in, il_dbx_statements *out, il_error *err);

/*
 * The step's query alone, as the statements hold it (no statement around
 * it, its ';' blanked), appended to out. Errors: the arguments' and the
 * rendering's above.
 */
extern int	il_dbx_render_query(const il_dbx_step *in, il_buf *out, il_error *err);

/*
 * Appends a column as the header writes it (name, `quoted name`, a dotted
 * path of them) quoted for Databricks: `name`, `quoted name`, `a`.`b`
 * (backticks doubled inside). Error invalid_column (out unchanged).
 */
extern int	il_dbx_column(const char *written, il_buf *out, il_error *err);

/* "S", "V", ... as a string (for logs and tests); "?" when unknown. */
extern const char *il_dbx_shape_name(il_dbx_shape shape);

#endif							/* IL_DBX_RENDER_H */
