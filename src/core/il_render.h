/*-------------------------------------------------------------------------
 *
 * il_render.h
 *	  A model's SQL rendered for PostgreSQL: what the local executor runs.
 *
 * il_render_model takes a model file's text (header comments included; they
 * stay comments) and writes the same text with these changes, and no other:
 *
 *	references	every name il_refs lists as read or written (il_refs.h: FROM,
 *				JOIN, MERGE ... USING, subqueries, set operations, INSERT
 *				and MERGE targets, ...; CTE names excluded; backticks and
 *				three-part names understood) that resolves to a model of the
 *				graph, by il_dag_resolve (full name, unique suffix, c.s.t for
 *				the two-part model s.t, any case), becomes that model's
 *				relation (il_render_relation). So do {{ ref('x') }} and
 *				{{ ref("x") }}, any spacing, and {{ source('s', 't') }} of a
 *				model; another source becomes "s"."t". A name that resolves
 *				to the rendered model itself is rewritten too (a model may
 *				read its own table). Other names stay as written.
 *	backticks	every `quoted identifier` anywhere becomes "quoted identifier"
 *				(`` becomes `, " becomes "").
 *	dates		{{ start_date }} and {{ end_date }} (any spacing, also with
 *				the trim markers {{- -}}, which strip nothing) become the
 *				step's dates: DATE 'YYYY-MM-DD' where the template stands
 *				alone, the bare date text inside a string literal
 *				('{{ start_date }}' -> '2024-01-31'). Inside string literals
 *				nothing else is a template: '{{ ref('x') }}' stays text.
 *	comments	{# template comments #} are removed (as Jinja does; what they
 *				separated is joined, and the guard then judges the result);
 *				other comments, whitespace, string literals and case are kept
 *				byte for byte.
 * Newlines are kept everywhere (a replaced name or template that spanned
 * lines is followed by its newlines), so a line of the rendered SQL is the
 * same line of the model file. A replacement that would run into a quote
 * next to it ("a""b", 'x''y') is separated from it by one space.
 *
 * The rendered SQL must mean to PostgreSQL what it means to il_lex, so that
 * the guard's verdict holds for what PostgreSQL runs. It is refused
 * (unsupported_construct) when it contains a string literal with a
 * backslash (Databricks reads escapes, PostgreSQL does not: 'a\'' would end
 * early there), a backtick identifier with a backslash, a '$' (PostgreSQL's
 * dollar quoting and parameters), a ${variable}, a carriage return inside a
 * -- comment other than just before its newline (PostgreSQL ends the comment
 * there), or a template block left over. The guard (il_guard.h) then judges
 * the model file and the rendered SQL; a violation is an error whose code
 * is the guard's rule ("drop", "multiple_statements", ...) and whose message
 * is the guard's.
 *
 * Databricks SQL that PostgreSQL cannot run is refused with
 * unsupported_construct naming it (the table "constructs" in il_render.c):
 *	LATERAL VIEW, QUALIFY, INSERT OVERWRITE, DISTRIBUTE BY, CLUSTER BY,
 *	SORT BY, USING <format> (delta, parquet, csv, json, orc, avro, text,
 *	binaryfile; not in MERGE, where USING names the source), OPTIMIZE (a
 *	statement), ZORDER, PIVOT (...), UNPIVOT (...), and file-path relations
 *	(delta.`/path`).
 *
 * Errors (il_error.code; il_error_sqlstate gives the SQLSTATE). err->line
 * and err->column say where (1-based; in the model file, or for the guard's
 * second look and the checks of the rendered text, in the rendered SQL,
 * whose lines are the file's); messages do not repeat the position:
 *	missing_range			{{ start_date }} or {{ end_date }} used, and the
 *							step has no range (a full refresh)
 *	unknown_template		any other {{ ... }}, and every {% ... %}
 *	unknown_ref				{{ ref('x') }} naming no model
 *	ambiguous_reference		a name that is a suffix of several models
 *	unsupported_construct	see above
 *	invalid_range			start or end not a date YYYY-MM-DD (0001-9999), only
 *							one of them given, or start after end
 *	invalid_schema_prefix	a control character, a backslash or invalid UTF-8
 *	invalid_model_name		(il_render_relation) not 2 or 3 non-empty parts
 *	identifier_too_long		prefix + schema, or table, over 63 bytes
 *							(PostgreSQL would cut it, and two models could meet)
 *	syntax_error, invalid_encoding, parse_limit		the lexer's errors (its
 *							message; invalid UTF-8 or a NUL byte is
 *							invalid_encoding)
 *	drop, truncate, ...		the guard's rules
 *	out_of_memory
 * The first error found wins: the arguments' (prefix, range), the lexer's,
 * the guard's over the file, then the rendering's in text order, then the
 * checks of the rendered text and the guard over it.
 *
 * Time and memory are linear in the input; nothing outside sql[0..len) is
 * read. On an error out is unchanged.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_RENDER_H
#define IL_RENDER_H

#include <stddef.h>

#include "il_buf.h"
#include "il_dag.h"
#include "il_guard.h"
#include "il_lex.h"
#include "il_refs.h"

/* PostgreSQL's longest identifier, in bytes (NAMEDATALEN - 1). */
#define IL_RENDER_MAX_IDENT 63

/* self_node when the rendered text is not one of the graph's models. */
#define IL_RENDER_NO_MODEL ((size_t) -1)

/*
 * Renders sql[0..len), the file of model self_node of dag (named in
 * messages; IL_RENDER_NO_MODEL for none), for PostgreSQL and appends it to
 * out. dag may be NULL (no name then resolves). schema_prefix (NULL: "") is
 * put before every model's schema, as written. start and end are the
 * step's range (YYYY-MM-DD, both inclusive), or both NULL. Returns 0, or
 * -1 with err set.
 */
extern int	il_render_model(const char *sql, size_t len, const il_dag *dag, size_t self_node,
							const char *schema_prefix, const char *start, const char *end,
							il_buf *out, il_error *err);

/*
 * il_render_model, then every ';' token of the result (empty statements
 * around the one statement the guard lets through) made a space: the query
 * alone, which the executor wraps in the statements of its materialization.
 * Lines and columns stay the file's.
 */
extern int	il_render_query(const char *sql, size_t len, const il_dag *dag, size_t self_node,
							const char *schema_prefix, const char *start, const char *end,
							il_buf *out, il_error *err);

/*
 * Appends the relation of a model: "<schema_prefix><schema>"."<table>" for
 * the model name schema.table or catalog.schema.table (the catalog is
 * dropped, so models that differ only in it meet), each identifier in
 * double quotes with '"' doubled. Errors invalid_model_name,
 * invalid_schema_prefix, identifier_too_long (out unchanged).
 */
extern int	il_render_relation(const char *model_name, const char *schema_prefix,
							   il_buf *out, il_error *err);

/*
 * The edit list: what rendering does to one file, found once from the
 * file's tokens when it is parsed (il_model_parse_edits, kept in the parse
 * record) so that rendering does not lex the file again. It holds, in text
 * order, the spans to rewrite (every name il_refs lists, with its list and
 * normalized name: resolving it against the graph, and so whether it is
 * rewritten, is the rendering's), the backtick identifiers, the strings
 * holding a template, the date templates, the template comments, and the
 * refusals that do not depend on the graph, the prefix or the range (the
 * guard's verdict over the file; unsupported constructs, misread text and
 * unknown templates, with their position). A refusal inside a name that is
 * rewritten does not count, as rendering from the text skips that text.
 * Rendering from the edits and from the text is the same function: the
 * text is rendered by computing its edits and applying them.
 *
 * The encoding (bytes; integers as unsigned LEB128 varints, strings as a
 * varint length and bytes), per edit: a kind byte, the offset as the
 * difference from the previous edit's, then
 *	span			length, flags byte (il_refs_list, | 4 when the name is a
 *					template, | 8 when the name is the span's text as written,
 *					which is then not repeated), name unless 8
 *	error			code name, mode (0: varint byte offset of the position
 *					from the edit's; 1: varint line, varint column), message
 *	others			length
 */

/* What il_refs_extract_found reports, kept for il_render_edits. */
typedef struct il_render_span
{
	uint32_t	start;			/* bytes of the model text */
	uint32_t	end;
	uint32_t	name_off;		/* the normalized name, in names */
	uint32_t	name_len;
	uint8_t		list;			/* il_refs_list */
	bool		tmpl;			/* its first token is a template */
} il_render_span;

typedef struct il_render_names
{
	const il_tokens *toks;		/* the walker's (no comments) */
	il_render_span *spans;		/* in text order */
	size_t		n;
	size_t		cap;
	il_buf		names;
	bool		oom;
	bool		unordered;
} il_render_names;

extern void il_render_names_init(il_render_names *nm, const il_tokens *toks);
extern void il_render_names_free(il_render_names *nm);
/* The il_refs_found_fn that fills an il_render_names (arg). */
extern void il_render_found(void *arg, const il_refs_found *found);

/*
 * Lexes src once, comments kept, into all, and puts into toks the tokens
 * without comments (what il_lex without IL_LEX_KEEP_COMMENTS gives).
 */
extern il_parse_status il_render_lex(const char *src, size_t len, il_tokens *all,
									 il_tokens *toks, il_error *err);

/*
 * Appends the edit list of sql[0..len) to out from its tokens (all: with
 * comments; toks: without), the names the walker found over toks and the
 * guard's result over toks. Returns 0, or -1 with out_of_memory.
 */
extern int	il_render_edits(const char *sql, size_t len, const il_tokens *all,
							const il_tokens *toks, const il_render_names *names,
							const il_guard_result *guard, il_buf *out, il_error *err);

/*
 * Appends the edit list of sql[0..len) to edits, from its text (one
 * lexing, the guard, the walker; no header needed). Errors: the lexer's
 * (syntax_error, invalid_encoding, parse_limit), out_of_memory.
 */
extern int	il_render_edits_text(const char *sql, size_t len, il_buf *edits, il_error *err);

/* Is e[0..n) a well-formed edit list? (Offsets are checked when applied.) */
extern bool il_render_edits_valid(const uint8_t *e, size_t n);

/*
 * il_render_model and il_render_query from the file's edit list instead
 * of its tokens: the same result and errors for the same file, which is
 * not lexed. An edit list that does not fit the text is internal_error.
 */
extern int	il_render_model_edits(const char *sql, size_t len, const uint8_t *edits, size_t elen,
								  const il_dag *dag, size_t self_node, const char *schema_prefix,
								  const char *start, const char *end, il_buf *out, il_error *err);
extern int	il_render_query_edits(const char *sql, size_t len, const uint8_t *edits, size_t elen,
								  const il_dag *dag, size_t self_node, const char *schema_prefix,
								  const char *start, const char *end, il_buf *out, il_error *err);

/*
 * Rendering for another target than PostgreSQL: the same edit list, the
 * same code path, with the target's names and checks.
 *
 * IL_RENDER_DATABRICKS (il_dbx_render.h builds the statements around it):
 *	references	a model becomes `catalog`.`<schema_prefix><schema>`.`<table>`
 *				(the model's own catalog, if any, dropped; '`' doubled in
 *				each name; up to IL_RENDER_DBX_MAX_IDENT bytes a name); a
 *				{{ source() }} of no model becomes `s`.`t`; a file-path
 *				relation (delta.`/path`) stays as written.
 *	backticks	stay as written (they are Databricks' own quoting).
 *	dates		as for PostgreSQL: DATE 'YYYY-MM-DD', the bare date in a
 *				string.
 *	refusals	none of PostgreSQL's (LATERAL VIEW, QUALIFY, backslash
 *				escapes, '$', ...: Databricks runs Databricks SQL). A
 *				${variable} is refused (unsupported_construct: nothing
 *				substitutes it), and so are templates left over, unknown
 *				templates and the guard's violations, as for PostgreSQL.
 * An edit list made for PostgreSQL (the parse record's) serves: when it
 * holds a refusal of PostgreSQL's (which ends the list), the list is made
 * again from the text in this dialect. The catalog must be 1 to
 * IL_RENDER_DBX_MAX_IDENT bytes of UTF-8 without control characters or
 * backslashes (invalid_catalog).
 */
typedef enum il_render_dialect
{
	IL_RENDER_POSTGRESQL = 0,
	IL_RENDER_DATABRICKS
} il_render_dialect;

/* Databricks' longest name (Unity Catalog: 255 characters), in bytes. */
#define IL_RENDER_DBX_MAX_IDENT 255

typedef struct il_render_target
{
	il_render_dialect dialect;
	const char *catalog;		/* databricks: every relation's catalog */
	const char *schema_prefix;	/* NULL: "" */
} il_render_target;

/*
 * il_render_query_edits for a target; edits NULL: made from the text (one
 * lexing more).
 */
extern int	il_render_query_for(const il_render_target *target, const char *sql, size_t len,
								const uint8_t *edits, size_t elen, const il_dag *dag, size_t self_node,
								const char *start, const char *end, il_buf *out, il_error *err);

/* il_render_relation for a target (errors also invalid_catalog). */
extern int	il_render_relation_for(const il_render_target *target, const char *model_name,
								   il_buf *out, il_error *err);


#endif							/* IL_RENDER_H */
