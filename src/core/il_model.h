/*-------------------------------------------------------------------------
 *
 * il_model.h
 *	  One model file, parsed: header, references, statement kind, guard and
 *	  fingerprint. What ironlayer.parse_model() and `ironlayer parse` print.
 *
 * il_model_parse runs, in order: the lexer over the whole file (so encoding
 * and lexing errors come first, in text order), the header parser, the
 * reference walker, the guard and the fingerprint. Status and SQLSTATE
 * (il_error_sqlstate of the error's code, src/core/il_errcodes.txt):
 *	IL_PARSE_OK				parsed; the guard may still have violations
 *	IL_PARSE_ERR_HEADER		22023  a header problem; err->line names the line
 *	IL_PARSE_ERR_SYNTAX		42601  the text does not lex; err->line:err->column
 *	IL_PARSE_ERR_ENCODING	22021  invalid UTF-8 or a NUL byte; line:column
 *	IL_PARSE_ERR_LIMIT		22023  nesting deeper than IL_LEX_MAX_DEPTH, or more
 *								   than IL_LEX_MAX_INPUT bytes
 *	IL_PARSE_ERR_NOMEM		53200  out of memory
 * err->message is lower-case, says how to fix the problem and does not
 * repeat the position; il_model_error_text formats "line L, column C: ...".
 *
 * JSON (il_model_to_json, RFC 8785: keys sorted, no whitespace), all keys
 * always present:
 *	dependencies	array of strings (header, sorted)
 *	fingerprint		64 lower-case hex characters
 *	guard			{"ok":bool,"violations":[...]} (il_guard.h)
 *	kind			"FULL_REFRESH" | "INCREMENTAL_BY_TIME_RANGE" | "APPEND_ONLY" |
 *					"MERGE_BY_KEY"
 *	materialization	"TABLE" (also when absent) | "VIEW" | "MERGE" | "INSERT_OVERWRITE"
 *	name			string (lower-case)
 *	owner			string or null
 *	partition_by	string or null
 *	paths			array of strings (il_refs.h)
 *	references		array of strings
 *	refs			array of strings
 *	statement		"SELECT", "INSERT", ... (il_refs.h) or null
 *	tags			array of strings
 *	targets			array of strings
 *	time_column		string or null
 *	unique_key		array of strings (in header order)
 *
 * The model's fingerprint is the SHA-256 of the text
 *	"name=<name>\nkind=<kind>\nmaterialization=<m>\ntime_column=<c>\n"
 *	"unique_key=<k1,k2>\npartition_by=<p>\n\n"
 * (absent values empty) followed by the normalized token stream of the whole
 * file (il_fingerprint.h; the header lines are comments there). So a change
 * to what the model builds (its SQL, kind, materialization, time column,
 * unique key, partitioning or name) changes it, while whitespace, comments,
 * keyword case, a trailing ';', owner, tags and dependencies do not.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_MODEL_H
#define IL_MODEL_H

#include "il_buf.h"
#include "il_guard.h"
#include "il_header.h"
#include "il_lex.h"
#include "il_refs.h"
#include "il_sha256.h"

typedef struct il_model
{
	il_header	header;
	il_refs		refs;
	il_guard_result guard;
	char		fingerprint[IL_SHA256_HEX_LEN + 1];
} il_model;

/*
 * Parses a model file. out needs no initialization; free it with
 * il_model_free whatever the status (on an error it is already empty).
 */
extern il_parse_status il_model_parse(const char *sql, size_t len, il_model *out,
									  il_error *err);

/*
 * il_model_parse that also appends to edits the renderer's edit list of the
 * file (il_render.h), from the same lexing; what a parse record keeps.
 */
extern il_parse_status il_model_parse_edits(const char *sql, size_t len, il_model *out,
											il_buf *edits, il_error *err);
/*
 * Appends the parse_model object as canonical JSON (no newline), reserving
 * its length (il_model_json_len) once: the text is never copied to grow.
 */
extern void il_model_to_json(const il_model *m, il_buf *out);
extern size_t il_model_json_len(const il_model *m);
extern void il_model_free(il_model *m);

/* Appends "line L, column C: message" (or "line L: ...", or just the message). */
extern void il_model_error_text(const il_error *err, il_buf *out);

#endif							/* IL_MODEL_H */
