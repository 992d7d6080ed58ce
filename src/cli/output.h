/*-------------------------------------------------------------------------
 *
 * output.h
 *	  What the server subcommands print: readable tables of query results,
 *	  and JSON documents (--json) written with the core's JSON writer
 *	  (il_jsonw.h), values typed from the result's column types.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_OUTPUT_H
#define IL_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <libpq-fe.h>

#include "il_buf.h"

#define IL_JOUT_DEPTH 16

/*
 * A JSON document under construction: nested objects and arrays, the comma
 * between members kept here. A key is given for the members of an object
 * and NULL for the elements of an array.
 */
typedef struct il_jout
{
	il_buf		buf;
	int			depth;
	bool		first[IL_JOUT_DEPTH];
} il_jout;

extern void il_jout_init(il_jout *j);
extern void il_jout_free(il_jout *j);
extern void il_jout_begin_object(il_jout *j, const char *key);
extern void il_jout_end_object(il_jout *j);
extern void il_jout_begin_array(il_jout *j, const char *key);
extern void il_jout_end_array(il_jout *j);
extern void il_jout_string(il_jout *j, const char *key, const char *value);	/* NULL: null */
extern void il_jout_int(il_jout *j, const char *key, int64_t value);
extern void il_jout_bool(il_jout *j, const char *key, bool value);
/* JSON text as it is (a json or jsonb value of the server); NULL: null */
extern void il_jout_raw(il_jout *j, const char *key, const char *json);

/* Field (row, col) of res as a typed member: numbers, booleans, JSON, text. */
extern void il_jout_field(il_jout *j, const char *key, const PGresult *res, int row, int col);
/*
 * Row of res as an object whose keys are the column names: its first ncols
 * columns (-1: all; the columns after them are for the text output only).
 */
extern void il_jout_row(il_jout *j, const char *key, const PGresult *res, int row, int ncols);
/* Every row of res as an array of such objects. */
extern void il_jout_rows(il_jout *j, const char *key, const PGresult *res, int ncols);

/*
 * Prints the document and a newline on stdout; false (after a message)
 * when memory ran out or a text was not UTF-8.
 */
extern bool il_jout_print(il_jout *j);

/*
 * Writes UTF-8 text s to out for a terminal, its control characters shown
 * rather than sent: C0 controls, DEL and bytes that are not UTF-8 as \xNN,
 * C1 controls as \uNNNN; newlines and tabs stay unless oneline. Returns the
 * characters shown; out NULL only counts them.
 */
extern size_t il_out_text(FILE *out, const char *s, bool oneline);
extern size_t il_out_textn(FILE *out, const char *s, size_t len, bool oneline);	/* s[0..len) */

/*
 * Prints columns cols[0..n) of res as a table under the given headings:
 * columns padded to their widest value, two spaces apart; NULL shows as
 * "-". Prints "(none)" indented by two when there is no row.
 */
extern void il_out_table(FILE *out, const PGresult *res, const int *cols, const char *const *heads, int n);

#endif							/* IL_OUTPUT_H */
