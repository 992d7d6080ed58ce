/*-------------------------------------------------------------------------
 *
 * il_guard.h
 *	  The SQL guard: what a model's SQL may not do.
 *
 * A model is exactly one statement that reads its upstreams and builds its
 * own table. The guard works on tokens, so comments, case, whitespace and
 * quoting cannot hide anything from it (drop/ ** /table, DrOp, a ';' after a
 * comment), and words inside strings, comments, templates, backticks or
 * other identifiers (deleted_at, 'DROP TABLE', `drop`, t.drop) are never
 * violations.
 *
 * Rules, all of severity "critical":
 *	drop				DROP of any object
 *	truncate			TRUNCATE
 *	delete				DELETE (the statement; MERGE's "THEN DELETE" clause only
 *						deletes rows of the model's own target and is allowed)
 *	alter				ALTER of any object
 *	grant, revoke		GRANT, REVOKE
 *	create_user			CREATE [OR REPLACE] USER
 *	create_role			CREATE [OR REPLACE] ROLE
 *	execute_immediate	EXECUTE IMMEDIATE (and EXECUTE / EXEC starting a
 *						statement)
 *	multiple_statements	a second (third, ...) statement: every ';' outside
 *						strings and comments ends a statement, at any depth;
 *						one violation at the first token of each extra
 *						statement (empty statements, as in "select 1;;", do
 *						not count)
 *	no_statement		the text has no statement at all (at line 1, column 1)
 *	too_many_violations	more than IL_GUARD_MAX_VIOLATIONS (100) were found:
 *						the first 100 are listed, and this one takes the
 *						place (line and column) of the 101st
 * A keyword is a violation where it starts a statement (after any WITH list,
 * leading parentheses and {% %} blocks), and anywhere in a statement when it
 * is followed by what makes it a command: DROP + an object word (TABLE,
 * VIEW, SCHEMA, DATABASE, CATALOG, FUNCTION, IF, TEMPORARY, ...),
 * TRUNCATE TABLE, DELETE FROM, ALTER + an object word, GRANT / REVOKE + a
 * privilege, CREATE [OR REPLACE] USER|ROLE, EXECUTE IMMEDIATE.
 *
 * A violation's line and column are those of the keyword (of the first
 * token of the extra statement for multiple_statements). Violations are
 * sorted by line, column and rule, and at most 101 are listed (the last a
 * too_many_violations), so memory and the JSON stay small whatever the
 * text: "1;1;1;..." is a violation per two bytes. Text that does not lex is
 * not judged: il_guard_check returns the lexer's status and error instead
 * (the SQL function raises it as an error, as parse_model does).
 *
 * JSON (il_guard_to_json, RFC 8785):
 *	{"ok":true,"violations":[]}
 *	{"ok":false,"violations":[{"column":1,"line":2,"message":"...",
 *	  "rule":"drop","severity":"critical"}]}
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_GUARD_H
#define IL_GUARD_H

#include "il_buf.h"
#include "il_lex.h"

/* The most violations listed (then a too_many_violations closes the list). */
#define IL_GUARD_MAX_VIOLATIONS 100

typedef struct il_violation
{
	const char *rule;			/* "drop", ..., static */
	const char *severity;		/* "critical", static */
	const char *message;		/* lower-case, says what to do; static */
	int			line;
	int			column;
} il_violation;

typedef struct il_guard_result
{
	bool		ok;				/* no violation */
	il_violation *v;
	size_t		n;
	size_t		cap;
} il_guard_result;

/*
 * Judges SQL text. result needs no initialization; free it with
 * il_guard_free whatever the status.
 */
extern il_parse_status il_guard_check(const char *sql, size_t len,
									  il_guard_result *result, il_error *err);
/* The same over tokens from il_lex (without comments). */
extern il_parse_status il_guard_check_tokens(const char *src, const il_tokens *toks,
											 il_guard_result *result, il_error *err);
/* Appends the guard object as canonical JSON (reserving its length once). */
extern void il_guard_to_json(const il_guard_result *result, il_buf *out);
/* The length of that JSON text. */
extern size_t il_guard_json_len(const il_guard_result *result);
extern void il_guard_free(il_guard_result *result);

#endif							/* IL_GUARD_H */
