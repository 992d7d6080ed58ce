/*
 * Unit tests of il_guard.c: the SQL guard.
 */
#include <string.h>

#include "il_guard.h"
#include "unit.h"

static il_guard_result g;
static il_error err;
static char rules[512];

/*
 * Guards sql and returns its violations as "rule@line:col" joined by
 * spaces ("" when ok), or "error".
 */
static const char *
guard(const char *sql)
{
	size_t		i;

	il_guard_free(&g);
	rules[0] = '\0';
	if (il_guard_check(sql, strlen(sql), &g, &err) != IL_PARSE_OK)
		return "error";
	for (i = 0; i < g.n; i++)
	{
		char		one[64];

		snprintf(one, sizeof(one), "%s%s@%d:%d", i ? " " : "", g.v[i].rule, g.v[i].line, g.v[i].column);
		strncat(rules, one, sizeof(rules) - strlen(rules) - 1);
	}
	if (g.ok != (g.n == 0))
		return "inconsistent";
	return rules;
}

int
main(void)
{
	il_buf		b = IL_BUF_INIT;
	size_t		i;
	int			all;

	CHECK_STR(guard("SELECT a FROM t"), "", "a select is fine");
	CHECK(g.ok, "ok is true");
	il_guard_to_json(&g, &b);
	CHECK_STR(il_buf_cstr(&b), "{\"ok\":true,\"violations\":[]}", "the JSON of a clean guard");

	/* Each rule. */
	CHECK_STR(guard("DROP TABLE t"), "drop@1:1", "DROP TABLE");
	CHECK_STR(guard("drop view if exists v"), "drop@1:1", "DROP VIEW");
	CHECK_STR(guard("DROP SCHEMA s CASCADE"), "drop@1:1", "DROP SCHEMA");
	CHECK_STR(guard("DROP FUNCTION f"), "drop@1:1", "DROP FUNCTION");
	CHECK_STR(guard("DROP CATALOG c"), "drop@1:1", "DROP CATALOG");
	CHECK_STR(guard("TRUNCATE TABLE t"), "truncate@1:1", "TRUNCATE");
	CHECK_STR(guard("DELETE FROM t WHERE a = 1"), "delete@1:1", "DELETE");
	CHECK_STR(guard("ALTER TABLE t ADD COLUMN c INT"), "alter@1:1", "ALTER");
	CHECK_STR(guard("GRANT SELECT ON TABLE t TO `user@x.com`"), "grant@1:1", "GRANT");
	CHECK_STR(guard("REVOKE ALL PRIVILEGES ON SCHEMA s FROM g"), "revoke@1:1", "REVOKE");
	CHECK_STR(guard("CREATE USER bob"), "create_user@1:1", "CREATE USER");
	CHECK_STR(guard("CREATE ROLE analyst"), "create_role@1:1", "CREATE ROLE");
	CHECK_STR(guard("EXECUTE IMMEDIATE 'DROP TABLE t'"), "execute_immediate@1:1", "EXECUTE IMMEDIATE");
	CHECK_STR(guard("SELECT 1; SELECT 2"), "multiple_statements@1:11", "a second statement");
	CHECK_STR(guard(""), "no_statement@1:1", "empty text has no statement");
	CHECK_STR(guard("-- just a comment\n/* and another */"), "no_statement@1:1", "only comments");

	/* The violation object. */
	guard("SELECT 1;\n  drop table x");
	il_buf_reset(&b);
	il_guard_to_json(&g, &b);
	CHECK_STR(il_buf_cstr(&b),
			  "{\"ok\":false,\"violations\":["
			  "{\"column\":3,\"line\":2,\"message\":\"drop is not allowed in model sql: a model only reads its upstreams and builds its own table; remove the drop\",\"rule\":\"drop\",\"severity\":\"critical\"},"
			  "{\"column\":3,\"line\":2,\"message\":\"a model must be exactly one statement: remove this statement and the ';' before it\",\"rule\":\"multiple_statements\",\"severity\":\"critical\"}]}",
			  "the JSON of violations: keys sorted, sorted by position and rule");
	all = 1;
	for (i = 0; i < g.n; i++)
		if (strcmp(g.v[i].severity, "critical") != 0 || g.v[i].message[0] < 'a' || g.v[i].message[0] > 'z')
			all = 0;
	CHECK(all && g.n == 2, "every violation is critical with a lower-case message");

	/* Tricks that must not get past. */
	CHECK_STR(guard("drop/**/table t"), "drop@1:1", "a comment between the words");
	CHECK_STR(guard("DrOp TaBlE t"), "drop@1:1", "mixed case");
	CHECK_STR(guard("\n\n\t  DROP\n\n TABLE\tt"), "drop@3:4", "whitespace and newlines");
	CHECK_STR(guard("SELECT 1 -- harmless\n; DROP TABLE t"), "drop@2:3 multiple_statements@2:3",
			  "a ';' after a comment");
	CHECK_STR(guard("SELECT 1 /* ; */ ; DELETE FROM t"), "delete@1:20 multiple_statements@1:20",
			  "a ';' after a block comment");
	CHECK_STR(guard("SELECT * FROM t;TRUNCATE TABLE t"), "multiple_statements@1:17 truncate@1:17",
			  "no space after the ';'");
	CHECK_STR(guard("WITH x AS (SELECT 1) DELETE FROM t"), "delete@1:22", "DELETE after a WITH list");
	CHECK_STR(guard("(DROP TABLE x)"), "drop@1:2", "DROP in parentheses");
	CHECK_STR(guard("SELECT * FROM (DROP TABLE x)"), "drop@1:16", "DROP TABLE inside a query");
	CHECK_STR(guard("SELECT (1; DROP TABLE x)"), "drop@1:12 multiple_statements@1:12",
			  "a ';' inside parentheses still ends a statement");
	CHECK_STR(guard("SELECT 1; SELECT 2; SELECT 3"), "multiple_statements@1:11 multiple_statements@1:21",
			  "one violation per extra statement");
	CHECK_STR(guard("CREATE OR REPLACE ROLE r"), "create_role@1:1", "CREATE OR REPLACE ROLE");
	CHECK_STR(guard("SELECT 1 FROM t WHERE EXISTS (SELECT 1) GRANT SELECT ON t TO u"), "grant@1:41",
			  "GRANT with a privilege anywhere");
	CHECK_STR(guard("{% if x %} DROP TABLE t {% endif %}"), "drop@1:12", "DROP after a template block");
	CHECK_STR(guard("EXEC sp_who"), "execute_immediate@1:1", "EXEC starting a statement");
	CHECK_STR(guard("SELECT * FROM t; {{ ref('x') }}"), "multiple_statements@1:18",
			  "a template after a ';' is a second statement");

	/* Words that are not violations. */
	CHECK_STR(guard("SELECT deleted_at, dropped, alter_ego, truncated FROM t"), "",
			  "identifiers containing the words");
	CHECK_STR(guard("SELECT 'DROP TABLE t; DELETE FROM x' AS s, \"truncate table\" FROM t"), "",
			  "words inside strings");
	CHECK_STR(guard("SELECT `drop`, `delete` FROM t -- DROP TABLE t\n/* ALTER TABLE t; */"), "",
			  "backticked identifiers and comments");
	CHECK_STR(guard("SELECT t.drop, t.delete, raw:alter, x::grant FROM t"), "",
			  "words after '.', ':' and '::' are names");
	CHECK_STR(guard("SELECT drop FROM t ORDER BY drop"), "", "a column named drop used as a column");
	CHECK_STR(guard("SELECT {{ 'drop table x' }} FROM t"), "", "words inside a template");
	CHECK_STR(guard("MERGE INTO t USING s ON t.k = s.k WHEN MATCHED AND s.del THEN DELETE "
					"WHEN NOT MATCHED THEN INSERT *"), "", "MERGE's DELETE clause is allowed");
	CHECK_STR(guard("SELECT 1;"), "", "one trailing ';'");
	CHECK_STR(guard("SELECT 1;;\n;"), "", "empty statements do not count");
	CHECK_STR(guard("SELECT 'a;b', `c;d` FROM t"), "", "';' inside strings and identifiers");
	CHECK_STR(guard("INSERT OVERWRITE TABLE t SELECT * FROM s"), "", "INSERT OVERWRITE is a model's job");
	CHECK_STR(guard("CREATE OR REPLACE TABLE t AS SELECT 1"), "", "CREATE TABLE AS is allowed");

	/* Text that does not lex. */
	CHECK_STR(guard("SELECT 'unterminated"), "error", "an unterminated string is an error, not a verdict");
	CHECK(strcmp(err.code, "unterminated_string") == 0 && err.line == 1 && err.column == 8,
		  "with the lexer's code and position");
	CHECK(il_guard_check("a\xff", 2, &g, &err) == IL_PARSE_ERR_ENCODING, "invalid UTF-8 is an encoding error");

	il_guard_free(&g);
	il_buf_free(&b);
	return unit_done();
}
