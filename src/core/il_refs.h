/*-------------------------------------------------------------------------
 *
 * il_refs.h
 *	  What a model's SQL reads and writes: reference extraction, and the
 *	  kind of statement.
 *
 * il_refs_extract walks the token stream once, with an explicit stack of
 * parenthesis frames (no recursion), and lists:
 *
 *	references	every relation the SQL reads: FROM and JOIN (all join kinds,
 *				comma joins, parenthesized joins, LATERAL subqueries),
 *				subqueries at any depth, set operations, MERGE ... USING, the
 *				sources of INSERT, TABLE t, CREATE TABLE ... CLONE t,
 *				{{ source('s', 't') }} (as s.t). Time travel (VERSION AS OF,
 *				TIMESTAMP AS OF, t@v3) does not change the name. CTE names
 *				are not references while they are in scope: a CTE is visible
 *				in the later CTEs of its WITH and in the query the WITH belongs
 *				to, down to the end of the enclosing parentheses or statement;
 *				in WITH RECURSIVE also in its own body. VALUES, table-valued
 *				functions (range(10), read_files('...'), explode(...)) and
 *				the functions of LATERAL VIEW are not relations.
 *	targets		what the statement writes: INSERT INTO / INSERT OVERWRITE
 *				[TABLE] t, MERGE INTO t, UPDATE t, DELETE FROM t,
 *				CREATE [OR REPLACE] ... TABLE|VIEW t, REPLACE TABLE t,
 *				COPY INTO t.
 *	refs		the model names of {{ ref('x') }} (and of dbt's two-argument
 *				form, {{ ref('package', 'x') }}: x), lower-cased.
 *	paths		file-path relations: format.`path` where format is delta,
 *				parquet, csv, json, orc, avro, text or binaryfile and the
 *				backticked part contains '/' or ':'; written as
 *				format.`path` with the format lower-cased.
 *
 * Names are normalized: an unquoted part is lower-cased, a backticked part
 * keeps its case and loses its backticks (`` becomes `), parts are joined
 * with '.', and one-, two- and three-part names stay as written. A part
 * that contains '.' or '`' (only possible when backticked) is written back
 * in backticks so the name stays unambiguous. Templates {{ ... }} and
 * variables ${...} inside a name make it unknown: it is not listed.
 * Each list is sorted by byte value and has no duplicates. Column names,
 * aliases, function names, strings, comments and words inside templates
 * never appear.
 *
 * Statement kinds (il_stmt_kind_name): the kind of the first statement,
 * found after any WITH clause, leading parentheses and leading {% %} blocks:
 *	SELECT				SELECT, VALUES, TABLE t, FROM t SELECT ..., (query)
 *	INSERT				INSERT INTO and INSERT OVERWRITE (also FROM t INSERT ...)
 *	MERGE, UPDATE, DELETE
 *	CREATE_TABLE		CREATE TABLE without a query
 *	CREATE_TABLE_AS		CREATE [OR REPLACE] TABLE ... AS query, REPLACE TABLE
 *						... AS query (also STREAMING/LIVE tables)
 *	CREATE_VIEW			CREATE [OR REPLACE] [MATERIALIZED] VIEW
 *	CREATE_USER, CREATE_ROLE
 *	CREATE				any other CREATE (schema, function, ...)
 *	DROP, TRUNCATE, ALTER, GRANT, REVOKE
 *	EXECUTE_IMMEDIATE	EXECUTE IMMEDIATE, and EXECUTE / EXEC of anything
 *	OTHER				anything else (SET, USE, OPTIMIZE, ...)
 * and none (NULL, JSON null) when the text has no statement.
 *
 * The walker expects tokens from il_lex without IL_LEX_KEEP_COMMENTS.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_REFS_H
#define IL_REFS_H

#include "il_lex.h"

typedef enum il_stmt_kind
{
	IL_STMT_NONE = 0,
	IL_STMT_SELECT,
	IL_STMT_INSERT,
	IL_STMT_MERGE,
	IL_STMT_UPDATE,
	IL_STMT_DELETE,
	IL_STMT_CREATE_TABLE,
	IL_STMT_CREATE_TABLE_AS,
	IL_STMT_CREATE_VIEW,
	IL_STMT_CREATE_USER,
	IL_STMT_CREATE_ROLE,
	IL_STMT_CREATE,
	IL_STMT_DROP,
	IL_STMT_TRUNCATE,
	IL_STMT_ALTER,
	IL_STMT_GRANT,
	IL_STMT_REVOKE,
	IL_STMT_EXECUTE_IMMEDIATE,
	IL_STMT_OTHER
} il_stmt_kind;

/* "SELECT", "CREATE_TABLE_AS", ...; NULL for IL_STMT_NONE. */
extern const char *il_stmt_kind_name(il_stmt_kind kind);

/*
 * The kind of the statement whose first token is start (it ends at the
 * next ';' outside parentheses, or at the end). *kw_at, when not NULL, is
 * set to the index of the token that decided it (the SELECT, INSERT, DROP,
 * ... keyword), or to start.
 */
extern il_stmt_kind il_stmt_classify(const il_tokens *toks, size_t start, size_t *kw_at);

typedef struct il_refs
{
	il_strlist	references;
	il_strlist	targets;
	il_strlist	refs;
	il_strlist	paths;
	il_stmt_kind statement;		/* of the first statement */
	void	   *mem;			/* one block holding the lists */
} il_refs;

/*
 * Lists what the token stream (of src) reads and writes. Fails only when out
 * of memory. out needs no initialization; free it with il_refs_free
 * whatever the result.
 */
extern il_parse_status il_refs_extract(const char *src, const il_tokens *toks,
									   il_refs *out, il_error *err);
/* The lists of il_refs, for il_refs_found. */
typedef enum il_refs_list
{
	IL_REFS_REFERENCES = 0,
	IL_REFS_TARGETS,
	IL_REFS_REFS,
	IL_REFS_PATHS
} il_refs_list;

/*
 * One name as the walker lists it, with the tokens it was read from:
 * first..last are indices into the token array (the first and last part of
 * a dotted name, without a t@v3 suffix; for {{ ref() }} and {{ source() }}
 * the template token). name[0..len) is the normalized name (not
 * NUL-terminated), valid only during the call.
 */
typedef struct il_refs_found
{
	il_refs_list list;
	size_t		first;
	size_t		last;
	const char *name;
	size_t		len;
} il_refs_found;

typedef void (*il_refs_found_fn) (void *arg, const il_refs_found *found);

/*
 * il_refs_extract that also calls found (when not NULL) for every name it
 * lists, duplicates included, in token order; what rewriters use to change
 * exactly the names the lists hold (il_render).
 */
extern il_parse_status il_refs_extract_found(const char *src, const il_tokens *toks,
											 il_refs_found_fn found, void *found_arg,
											 il_refs *out, il_error *err);
/* Lexes sql[0..len) and extracts from it (the lexer's errors pass through). */
extern il_parse_status il_refs_extract_sql(const char *sql, size_t len,
										   il_refs *out, il_error *err);
extern void il_refs_free(il_refs *refs);

#endif							/* IL_REFS_H */
