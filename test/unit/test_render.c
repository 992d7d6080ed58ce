/*
 * Unit tests of il_render.c (a model's SQL rendered for PostgreSQL) and of
 * the one-name resolver it shares with the graph (il_dag_resolve). The
 * graphs are built from il_dag_model inputs directly.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dirent.h>

#include "il_arena.h"
#include "il_dag.h"
#include "il_model.h"
#include "il_render.h"
#include "il_repo_int.h"
#include "unit.h"

static il_dag *dag;				/* the models below */
static il_error err;
static il_buf out = IL_BUF_INIT;

/*
 * The repository: sales.orders, sales.customers, main.finance.revenue (a
 * three-part name), analytics.orders_daily (which reads sales.orders).
 */
static char *daily_refs[] = {"sales.orders"};

static il_dag_model models[] = {
	{"sales.orders", NULL, {NULL, 0}, {NULL, 0}, {NULL, 0}},
	{"sales.customers", NULL, {NULL, 0}, {NULL, 0}, {NULL, 0}},
	{"main.finance.revenue", NULL, {NULL, 0}, {NULL, 0}, {NULL, 0}},
	{"analytics.orders_daily", NULL, {daily_refs, 1}, {NULL, 0}, {NULL, 0}},
};

/* Node of a model name, or IL_RENDER_NO_MODEL. */
static size_t
node_of(const il_dag *g, const char *name)
{
	size_t		i;

	for (i = 0; g != NULL && i < g->n; i++)
		if (strcmp(g->names[i], name) == 0)
			return i;
	return IL_RENDER_NO_MODEL;
}

/*
 * Renders sql with prefix "dev_" and the range start..end; the text, or
 * NULL (then err says why).
 */
static const char *
render_with(const il_dag *g, const char *sql, const char *start, const char *end)
{
	il_buf_reset(&out);
	if (il_render_model(sql, strlen(sql), g, node_of(g, "analytics.orders_daily"), "dev_",
						start, end, &out, &err) != 0)
		return NULL;
	return il_buf_cstr(&out);
}

static const char *
render(const char *sql)
{
	return render_with(dag, sql, "2024-01-01", "2024-01-31");
}

/* Does sql render to want? */
static int
renders(const char *sql, const char *want)
{
	const char *got = render(sql);

	if (got == NULL)
	{
		printf("#   error %s at %d:%d: %s\n", err.code, err.line, err.column, err.message);
		return 0;
	}
	if (strcmp(got, want) != 0)
	{
		printf("#   got  \"%s\"\n#   want \"%s\"\n", got, want);
		return 0;
	}
	return 1;
}

/* Does rendering (with the range, or without) fail with code at line (0: any)? */
static int
fails_range(const char *sql, const char *start, const char *end, const char *code, int line)
{
	const char *got = render_with(dag, sql, start, end);

	if (got != NULL)
	{
		printf("#   rendered \"%s\"\n", got);
		return 0;
	}
	if (strcmp(err.code, code) != 0 || (line != 0 && err.line != line) || err.message[0] == '\0')
	{
		printf("#   error %s at %d:%d: %s\n", err.code, err.line, err.column, err.message);
		return 0;
	}
	return 1;
}

static int
fails(const char *sql, const char *code, int line)
{
	return fails_range(sql, "2024-01-01", "2024-01-31", code, line);
}

/* The message of the last error contains s. */
static int
message_has(const char *s)
{
	if (strstr(err.message, s) == NULL)
	{
		printf("#   message: %s\n", err.message);
		return 0;
	}
	return 1;
}

/* Counts the newlines of s. */
static int
lines_of(const char *s)
{
	int			n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void
test_resolve(void)
{
	size_t		node = 99;
	il_dag	   *g = NULL;
	il_buf		c = IL_BUF_INIT;
	static il_dag_model amb[] = {
		{"a.x", NULL, {NULL, 0}, {NULL, 0}, {NULL, 0}},
		{"b.x", NULL, {NULL, 0}, {NULL, 0}, {NULL, 0}},
		{"c.b.x", NULL, {NULL, 0}, {NULL, 0}, {NULL, 0}},
	};

	CHECK(il_dag_resolve(dag, "sales.orders", 12, &node) == IL_DAG_RESOLVED &&
		  strcmp(dag->names[node], "sales.orders") == 0, "resolve: a full name");
	CHECK(il_dag_resolve(dag, "SALES.Orders", 12, &node) == IL_DAG_RESOLVED &&
		  strcmp(dag->names[node], "sales.orders") == 0, "resolve: any case");
	CHECK(il_dag_resolve(dag, "customers", 9, &node) == IL_DAG_RESOLVED &&
		  strcmp(dag->names[node], "sales.customers") == 0, "resolve: a unique suffix");
	CHECK(il_dag_resolve(dag, "revenue", 7, &node) == IL_DAG_RESOLVED &&
		  il_dag_resolve(dag, "finance.revenue", 15, &node) == IL_DAG_RESOLVED &&
		  strcmp(dag->names[node], "main.finance.revenue") == 0, "resolve: suffixes of a three-part name");
	CHECK(il_dag_resolve(dag, "prod.sales.orders", 17, &node) == IL_DAG_RESOLVED &&
		  strcmp(dag->names[node], "sales.orders") == 0, "resolve: c.s.t finds the two-part model s.t");
	CHECK(il_dag_resolve(dag, "other.finance.revenue", 21, &node) == IL_DAG_UNRESOLVED,
		  "resolve: d.s.t never finds the three-part model c.s.t");
	CHECK(il_dag_resolve(dag, "sales.ordersX", 12, &node) == IL_DAG_RESOLVED,
		  "resolve: only name[0..len) is read");
	CHECK(il_dag_resolve(dag, "raw.events", 10, &node) == IL_DAG_UNRESOLVED &&
		  il_dag_resolve(dag, "", 0, &node) == IL_DAG_UNRESOLVED &&
		  il_dag_resolve(dag, "ders", 4, &node) == IL_DAG_UNRESOLVED,
		  "resolve: unknown names, the empty name, a suffix not on a dot");
	CHECK(il_dag_build(amb, 3, &g, &err) == 0, "a graph with an ambiguous suffix");
	if (g != NULL)
	{
		CHECK(il_dag_resolve(g, "x", 1, &node) == IL_DAG_AMBIGUOUS, "resolve: a suffix of several models");
		CHECK(il_dag_resolve(g, "b.x", 3, &node) == IL_DAG_RESOLVED && strcmp(g->names[node], "b.x") == 0,
			  "resolve: a full name wins over a suffix of another model");
		il_dag_candidates(g, "X", 1, &c);
		CHECK_STR(il_buf_cstr(&c), "a.x, b.x, c.b.x", "candidates of an ambiguous name, in name order");
		CHECK(il_dag_find(g, "x", &node, &err) == -1 && strcmp(err.code, "ambiguous_model") == 0 &&
			  strstr(err.message, "a.x, b.x, c.b.x") != NULL, "il_dag_find reports the same candidates");
		il_dag_free(g);
	}
	il_buf_free(&c);
}

static void
test_references(void)
{
	CHECK(renders("SELECT * FROM sales.orders", "SELECT * FROM \"dev_sales\".\"orders\""),
		  "a two-part reference");
	CHECK(renders("select o.id from orders o join customers c on o.c = c.id",
				  "select o.id from \"dev_sales\".\"orders\" o join \"dev_sales\".\"customers\" c on o.c = c.id"),
		  "short names, joins, aliases and column qualifiers");
	CHECK(renders("SELECT * FROM SALES.Orders", "SELECT * FROM \"dev_sales\".\"orders\""),
		  "names in any case");
	CHECK(renders("SELECT * FROM prod.sales.orders", "SELECT * FROM \"dev_sales\".\"orders\""),
		  "a three-part reference to a two-part model drops the catalog");
	CHECK(renders("SELECT * FROM main.finance.revenue, finance.revenue, revenue",
				  "SELECT * FROM \"dev_finance\".\"revenue\", \"dev_finance\".\"revenue\", \"dev_finance\".\"revenue\""),
		  "a three-part model by its full name and suffixes (comma joins)");
	CHECK(renders("SELECT * FROM other.finance.revenue", "SELECT * FROM other.finance.revenue"),
		  "d.s.t of a three-part model c.s.t stays");
	CHECK(renders("SELECT * FROM `main`.`finance`.`revenue` JOIN `prod`.sales.`orders` USING (id)",
				  "SELECT * FROM \"dev_finance\".\"revenue\" JOIN \"dev_sales\".\"orders\" USING (id)"),
		  "backticks in three-part names");
	CHECK(renders("SELECT * FROM raw.events e JOIN `raw`.`my table` USING (id)",
				  "SELECT * FROM raw.events e JOIN \"raw\".\"my table\" USING (id)"),
		  "references that are not models stay, backticks become double quotes");
	CHECK(renders("SELECT * FROM (SELECT * FROM orders WHERE x IN (SELECT id FROM customers)) s "
				  "UNION ALL SELECT * FROM sales.orders EXCEPT TABLE orders",
				  "SELECT * FROM (SELECT * FROM \"dev_sales\".\"orders\" WHERE x IN (SELECT id FROM "
				  "\"dev_sales\".\"customers\")) s UNION ALL SELECT * FROM \"dev_sales\".\"orders\" "
				  "EXCEPT TABLE \"dev_sales\".\"orders\""),
		  "subqueries at any depth and set operations");
	CHECK(renders("MERGE INTO sales.customers t USING orders s ON t.id = s.id "
				  "WHEN MATCHED THEN UPDATE SET t.n = s.n",
				  "MERGE INTO \"dev_sales\".\"customers\" t USING \"dev_sales\".\"orders\" s ON t.id = s.id "
				  "WHEN MATCHED THEN UPDATE SET t.n = s.n"),
		  "merge: the target and the source (USING)");
	CHECK(renders("INSERT INTO analytics.orders_daily SELECT * FROM analytics.orders_daily",
				  "INSERT INTO \"dev_analytics\".\"orders_daily\" SELECT * FROM \"dev_analytics\".\"orders_daily\""),
		  "the model's own table, as target and as source");
	CHECK(renders("SELECT * FROM sales.orders@v3", "SELECT * FROM \"dev_sales\".\"orders\"@v3"),
		  "a time-travel suffix is not part of the name");
	CHECK(renders("SELECT 'sales.orders', \"orders\" FROM orders -- from orders\n/* join orders */",
				  "SELECT 'sales.orders', \"orders\" FROM \"dev_sales\".\"orders\" -- from orders\n/* join orders */"),
		  "names inside strings and comments are not references");
	CHECK(renders("SELECT orders.id, orders FROM orders", "SELECT orders.id, orders FROM \"dev_sales\".\"orders\""),
		  "a column named like a model is not a reference");
	CHECK(renders("WITH orders AS (SELECT * FROM sales.orders) SELECT * FROM orders",
				  "WITH orders AS (SELECT * FROM \"dev_sales\".\"orders\") SELECT * FROM orders"),
		  "a CTE named like a model's short name is not rewritten");
	CHECK(renders("WITH orders AS (SELECT * FROM orders WHERE ok) SELECT * FROM orders o JOIN orders p USING (id)",
				  "WITH orders AS (SELECT * FROM \"dev_sales\".\"orders\" WHERE ok) SELECT * FROM orders o "
				  "JOIN orders p USING (id)"),
		  "the table a CTE shadows is rewritten inside the CTE's own body only");
	CHECK(renders("WITH c AS (SELECT 1) SELECT * FROM (WITH orders AS (SELECT 2) SELECT * FROM orders) JOIN orders",
				  "WITH c AS (SELECT 1) SELECT * FROM (WITH orders AS (SELECT 2) SELECT * FROM orders) JOIN "
				  "\"dev_sales\".\"orders\""),
		  "a CTE's scope ends with its parentheses");
	CHECK(renders("SELECT *\nFROM sales\n  .orders\nWHERE 1 = 1",
				  "SELECT *\nFROM \"dev_sales\".\"orders\"\n\nWHERE 1 = 1"),
		  "a name over several lines keeps its newlines after it");
	CHECK(renders("SELECT `a``b`, `c\"d`, `é` FROM t", "SELECT \"a`b\", \"c\"\"d\", \"é\" FROM t"),
		  "backtick identifiers: `` becomes `, \" is doubled");
	CHECK(renders("SELECT `a`\"b\" FROM t", "SELECT \"a\" \"b\" FROM t"),
		  "a converted identifier does not run into a following quote");
	CHECK(renders("SELECT \"b\"`a`, U&`c`, \"x\"{{ ref('orders') }} FROM t",
				  "SELECT \"b\" \"a\", U& \"c\", \"x\" \"dev_sales\".\"orders\" FROM t"),
		  "nor into a quote before it, nor into U& (a unicode identifier)");
	CHECK(renders("SELECT 'naïve ✓', `ünï` FROM orders", "SELECT 'naïve ✓', \"ünï\" FROM \"dev_sales\".\"orders\""),
		  "UTF-8 text is kept");
	CHECK(renders("SELECT * FROM range(10), explode(x), VALUES (1), (2) AS v(a)",
				  "SELECT * FROM range(10), explode(x), VALUES (1), (2) AS v(a)"),
		  "table-valued functions and VALUES are not relations");
	CHECK(fails("SELECT * FROM delta.`/mnt/raw/x`", "unsupported_construct", 1) &&
		  message_has("file-path relation"), "a file-path relation is refused");
}

static int	renders_no_range_ok(void);

static void
test_templates(void)
{
	const char *model =
		"-- name: analytics.orders_daily\n"
		"-- kind: INCREMENTAL_BY_TIME_RANGE\n"
		"-- time_column: d\n"
		"SELECT d, count(*) FROM {{ ref('orders') }}\n"
		"WHERE d BETWEEN '{{ start_date }}' AND {{end_date}}\n"
		"GROUP BY d\n";

	CHECK(renders(model,
				  "-- name: analytics.orders_daily\n"
				  "-- kind: INCREMENTAL_BY_TIME_RANGE\n"
				  "-- time_column: d\n"
				  "SELECT d, count(*) FROM \"dev_sales\".\"orders\"\n"
				  "WHERE d BETWEEN '2024-01-01' AND DATE '2024-01-31'\n"
				  "GROUP BY d\n"),
		  "a whole model file: header comments kept, ref and dates rendered");
	CHECK(renders("SELECT * FROM {{ref('orders')}} JOIN {{ ref(\"sales.customers\") }} JOIN {{   ref( 'REVENUE' )   }}",
				  "SELECT * FROM \"dev_sales\".\"orders\" JOIN \"dev_sales\".\"customers\" JOIN \"dev_finance\".\"revenue\""),
		  "{{ ref() }} with any spacing and either quote");
	CHECK(renders("SELECT * FROM {{ ref('pkg', 'orders') }}", "SELECT * FROM \"dev_sales\".\"orders\""),
		  "dbt's two-argument ref");
	CHECK(renders("SELECT * FROM {{ source('raw', 'events') }}, {{ source('sales', 'orders') }}",
				  "SELECT * FROM \"raw\".\"events\", \"dev_sales\".\"orders\""),
		  "{{ source() }}: a model's relation, or the source's quoted name");
	CHECK(renders("SELECT '{{ ref(\"orders\") }}', \"{{ foo }}\" -- {{ ref('nope') }} {{ bar }}\nFROM t",
				  "SELECT '{{ ref(\"orders\") }}', \"{{ foo }}\" -- {{ ref('nope') }} {{ bar }}\nFROM t"),
		  "templates inside strings (other than dates) and comments stay text");
	CHECK(renders("SELECT {{start_date}}, {{- end_date -}}, {{\tstart_date\n}}, x{{ end_date }}'y'",
				  "SELECT DATE '2024-01-01', DATE '2024-01-31', DATE '2024-01-01'\n, x DATE '2024-01-31' 'y'"),
		  "bare dates: any spacing, trim markers, newlines kept, no run-in");
	CHECK(renders("SELECT '{{ start_date }} 00:00:00', '{{end_date}}/{{ start_date }}', '{{\nstart_date}}'",
				  "SELECT '2024-01-01 00:00:00', '2024-01-31/2024-01-01', '2024-01-01'\n"),
		  "dates inside strings: just the date text");
	CHECK(fails_range("SELECT 1\nFROM t\nWHERE d >= {{ start_date }}", NULL, NULL, "missing_range", 3) &&
		  err.column == 12 && message_has("{{ start_date }}"), "a bare date without a range: missing_range");
	CHECK(fails_range("SELECT 1\nWHERE d <= 'x {{ end_date }}'", NULL, NULL, "missing_range", 2) &&
		  err.column == 15 && message_has("{{ end_date }}"), "a date inside a string without a range");
	CHECK(renders_no_range_ok(), "a model without dates renders without a range");
	CHECK(fails("SELECT 1\n\nFROM {{ foo }}", "unknown_template", 3) && message_has("{{ foo }}"),
		  "an unknown template names itself and its line");
	CHECK(fails("{% if x %}SELECT 1{% endif %}", "unknown_template", 1), "{% %} blocks are unknown templates");
	CHECK(fails("SELECT {{ START_DATE }}", "unknown_template", 1), "variable names are case-sensitive");
	CHECK(fails("SELECT {{ ref(orders) }}", "unknown_template", 1), "a ref without quotes is no ref");
	CHECK(fails("SELECT *\nFROM {{ ref('nope') }}", "unknown_ref", 2) && message_has("analytics.orders_daily") &&
		  message_has("nope"), "an unknown ref names the model and the ref");
	CHECK(renders("SELECT 1 {# a comment #} FROM t{#\n#}", "SELECT 1  FROM t\n"),
		  "template comments are removed, their newlines kept");
}

/* The range is only needed where a date is used. */
static int
renders_no_range_ok(void)
{
	const char *got = render_with(dag, "SELECT * FROM orders", NULL, NULL);

	return got != NULL && strcmp(got, "SELECT * FROM \"dev_sales\".\"orders\"") == 0;
}

static void
test_guard(void)
{
	CHECK(fails("SELECT 1;\nDROP TABLE sales.orders", "drop", 2), "the guard: a drop");
	CHECK(fails("SELECT 1; SELECT 2", "multiple_statements", 1), "the guard: two statements");
	CHECK(fails("", "no_statement", 1), "the guard: no statement");
	CHECK(fails("-- name: x.y\n", "no_statement", 1), "the guard: only comments");
	CHECK(fails("SELECT * FROM orders; DROP TABLE t", "drop", 1) && err.column == 23,
		  "guard errors in the file point into the file (not the longer rendered text)");
	CHECK(fails("DROP TABLE {{ ref('orders') }}", "drop", 1), "a drop of a ref is the guard's error");
	CHECK(fails("DR{# x #}OP TABLE sales.orders", "drop", 1),
		  "the guard rejects a drop that appears only after rendering");
	CHECK(fails("\nTRUNC{##}ATE TABLE sales.orders", "truncate", 2),
		  "the guard over the rendered text: a truncate joined by rendering");
	CHECK(fails("-{##}- x\rDR{##}OP TABLE t", "unsupported_construct", 1) &&
		  message_has("carriage return"), "a comment joined by rendering cannot hide a drop behind a CR");
	CHECK(renders("SELECT 1 -- a comment\r\nFROM t\r\n", "SELECT 1 -- a comment\r\nFROM t\r\n"),
		  "CR LF line ends are fine");
	CHECK(fails("SELECT 1 -- a comment\rDROP TABLE t", "unsupported_construct", 1) &&
		  message_has("carriage return"), "a CR inside a -- comment is refused");
	CHECK(fails("SELECT 'it\\'s; DROP TABLE t; --'", "unsupported_construct", 1) && err.column == 11 &&
		  message_has("backslash"), "a backslash escape in a string is refused (postgresql would end it early)");
	CHECK(fails("SELECT \"a\\\"; DROP TABLE t; --\"", "unsupported_construct", 1), "also in a double-quoted string");
	CHECK(fails("SELECT `a\\b` FROM t", "unsupported_construct", 1) && message_has("quoted identifier"),
		  "a backslash in a backtick identifier is refused");
	CHECK(fails("SELECT $$ ' $$; DROP TABLE t; -- '", "unsupported_construct", 1) && message_has("dollar"),
		  "dollar quoting is refused");
	CHECK(fails("SELECT ${var} FROM t", "unsupported_construct", 1), "a ${variable} is refused");
	CHECK(renders("SELECT E'x', U&'y', 'a''b' FROM t", "SELECT E'x', U&'y', 'a''b' FROM t"),
		  "string prefixes and doubled quotes without backslashes are fine");
	CHECK(fails("SELECT 'unterminated", "syntax_error", 1), "a lexer error is syntax_error");
	CHECK(fails("SELECT '\xff'", "invalid_encoding", 1), "invalid UTF-8 is invalid_encoding");
	CHECK(renders("SELECT deleted_at, 'DROP TABLE x', t.drop FROM t",
				  "SELECT deleted_at, 'DROP TABLE x', t.drop FROM t"),
		  "words that only look dangerous pass the guard");
}

static void
test_constructs(void)
{
	static const struct
	{
		const char *sql;
		const char *name;
		int			line;
	}			cases[] = {
		{"SELECT a FROM t\nLATERAL VIEW explode(x) e AS y", "lateral view", 2},
		{"SELECT a FROM t QUALIFY row_number() OVER (ORDER BY a) = 1", "qualify", 1},
		{"INSERT OVERWRITE TABLE sales.orders SELECT 1", "insert overwrite", 1},
		{"SELECT a FROM t DISTRIBUTE BY a", "distribute by", 1},
		{"SELECT a FROM t CLUSTER BY a", "cluster by", 1},
		{"SELECT a FROM t\n\nSORT BY a", "sort by", 3},
		{"CREATE TABLE x USING DELTA AS SELECT 1", "using delta", 1},
		{"CREATE TABLE x USING parquet AS SELECT 1", "using parquet", 1},
		{"OPTIMIZE sales.orders", "optimize", 1},
		{"SELECT 1 FROM t ZORDER BY (a)", "zorder", 1},
		{"SELECT * FROM t PIVOT (sum(x) FOR k IN ('a'))", "pivot", 1},
	};
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char		what[128];

		snprintf(what, sizeof(what), "unsupported: %s", cases[i].name);
		CHECK(fails(cases[i].sql, "unsupported_construct", cases[i].line) && message_has(cases[i].name), what);
	}
	CHECK(renders("SELECT t.qualify, t.optimize, optimize FROM t JOIN u USING (id)",
				  "SELECT t.qualify, t.optimize, optimize FROM t JOIN u USING (id)"),
		  "the same words as names, and JOIN ... USING, are fine");
	CHECK(renders("MERGE INTO sales.orders t USING delta s ON t.id = s.id WHEN MATCHED THEN UPDATE SET t.a = s.a",
				  "MERGE INTO \"dev_sales\".\"orders\" t USING delta s ON t.id = s.id WHEN MATCHED THEN UPDATE SET t.a = s.a"),
		  "MERGE ... USING a table named delta is fine");
	CHECK(renders("SELECT a FROM t ORDER BY a", "SELECT a FROM t ORDER BY a"), "ORDER BY is fine");
}

static void
test_inputs(void)
{
	il_dag	   *g = NULL;
	static il_dag_model amb[] = {
		{"a.x", NULL, {NULL, 0}, {NULL, 0}, {NULL, 0}},
		{"b.x", NULL, {NULL, 0}, {NULL, 0}, {NULL, 0}},
	};
	char		longp[80];

	CHECK(fails_range("SELECT 1", "2024-02-01", "2024-01-31", "invalid_range", 0), "start after end");
	CHECK(fails_range("SELECT 1", "2024-02-30", "2024-03-01", "invalid_range", 0), "not a date");
	CHECK(fails_range("SELECT 1", "2023-02-29", "2024-03-01", "invalid_range", 0) &&
		  render_with(dag, "SELECT 1", "2024-02-29", "2024-02-29") != NULL, "leap days");
	CHECK(fails_range("SELECT 1", "2024-01-01", NULL, "invalid_range", 0), "only one end of the range");
	CHECK(fails_range("SELECT 1", "24-01-01", "2024-01-01", "invalid_range", 0) &&
		  fails_range("SELECT 1", "0000-01-01", "2024-01-01", "invalid_range", 0) &&
		  fails_range("SELECT 1", "2024-01-01 ", "2024-01-02", "invalid_range", 0), "malformed dates");

	il_buf_reset(&out);
	CHECK(il_render_model("SELECT * FROM orders", 20, dag, 0, "a\"b", NULL, NULL, &out, &err) == 0 &&
		  strcmp(out.data, "SELECT * FROM \"a\"\"bsales\".\"orders\"") == 0, "a quote in the prefix is doubled");
	il_buf_reset(&out);
	CHECK(il_render_model("SELECT * FROM orders", 20, dag, 0, NULL, NULL, NULL, &out, &err) == 0 &&
		  strcmp(out.data, "SELECT * FROM \"sales\".\"orders\"") == 0, "no prefix");
	CHECK(il_render_model("SELECT 1", 8, dag, 0, "a\\", NULL, NULL, &out, &err) == -1 &&
		  strcmp(err.code, "invalid_schema_prefix") == 0, "a backslash in the prefix");
	memset(longp, 'p', 60);
	longp[60] = '\0';
	CHECK(il_render_model("SELECT * FROM orders", 20, dag, 0, longp, NULL, NULL, &out, &err) == -1 &&
		  strcmp(err.code, "identifier_too_long") == 0 && err.line == 1 && err.column == 15,
		  "a schema name over 63 bytes is refused, at the reference");
	il_buf_reset(&out);
	il_buf_puts(&out, "keep");
	CHECK(il_render_model("SELECT * FROM {{ ref('nope') }}", 31, dag, 0, "", NULL, NULL, &out, &err) == -1 &&
		  strcmp(out.data, "keep") == 0, "on an error out is unchanged");
	CHECK(il_render_model("SELECT * FROM orders", 20, NULL, IL_RENDER_NO_MODEL, "x", NULL, NULL, &out, &err) == 0 &&
		  strcmp(out.data, "keepSELECT * FROM orders") == 0, "without a graph nothing resolves");
	CHECK(il_render_model("SELECT * FROM {{ ref('a') }}", 28, NULL, IL_RENDER_NO_MODEL, "x", NULL, NULL,
						  &out, &err) == -1 && strcmp(err.code, "unknown_ref") == 0 &&
		  strstr(err.message, "names no model") != NULL, "without a graph every ref is unknown");
	{
		const char *q = ";\n-- a; b\nSELECT ';' AS s, (1) FROM orders /* ; */;\n;";

		il_buf_reset(&out);
		CHECK(il_render_query(q, strlen(q), dag, 0, "", NULL, NULL, &out, &err) == 0 &&
			  strcmp(out.data, " \n-- a; b\nSELECT ';' AS s, (1) FROM \"sales\".\"orders\" /* ; */ \n ") == 0,
			  "il_render_query: the rendering, each ';' token a space (not those in strings and comments)");
		il_buf_reset(&out);
		CHECK(il_render_query("SELECT 1; DROP TABLE x", 22, dag, 0, "", NULL, NULL, &out, &err) == -1 &&
			  out.len == 0, "il_render_query: the guard first");
	}
	il_buf_reset(&out);
	CHECK(il_render_model("SELECT 1 FROM ordersXYZ", 20, dag, 0, "", NULL, NULL, &out, &err) == 0 &&
		  strcmp(out.data, "SELECT 1 FROM \"sales\".\"orders\"") == 0, "only sql[0..len) is read");

	CHECK(il_dag_build(amb, 2, &g, &err) == 0, "a graph with two models named x");
	CHECK(g && render_with(g, "SELECT * FROM x", NULL, NULL) == NULL &&
		  strcmp(err.code, "ambiguous_reference") == 0 && strstr(err.message, "a.x, b.x") != NULL,
		  "an ambiguous reference lists the models it matches");
	CHECK(g && render_with(g, "SELECT * FROM a.x JOIN {{ ref('b.x') }}", NULL, NULL) != NULL,
		  "full names are not ambiguous");
	il_dag_free(g);
}

static void
test_relation(void)
{
	il_buf		b = IL_BUF_INIT;

	CHECK(il_render_relation("sales.orders", "dev_", &b, &err) == 0 &&
		  strcmp(b.data, "\"dev_sales\".\"orders\"") == 0, "relation of a two-part name");
	il_buf_reset(&b);
	CHECK(il_render_relation("main.sales.orders", "", &b, &err) == 0 &&
		  strcmp(b.data, "\"sales\".\"orders\"") == 0, "relation of a three-part name drops the catalog");
	il_buf_reset(&b);
	CHECK(il_render_relation("a\"b.c\"d", NULL, &b, &err) == 0 && strcmp(b.data, "\"a\"\"b\".\"c\"\"d\"") == 0,
		  "quotes in names are doubled");
	il_buf_reset(&b);
	CHECK(il_render_relation("orders", "", &b, &err) == -1 && strcmp(err.code, "invalid_model_name") == 0 &&
		  il_render_relation("a.b.c.d", "", &b, &err) == -1 &&
		  il_render_relation("a..b", "", &b, &err) == -1 &&
		  il_render_relation("a.", "", &b, &err) == -1 &&
		  il_render_relation(".a", "", &b, &err) == -1 &&
		  il_render_relation("a.b\n", "", &b, &err) == -1 && b.len == 0,
		  "one part, four parts, empty parts and control characters are refused");
	CHECK(il_render_relation("s.t", "x\x01", &b, &err) == -1 && strcmp(err.code, "invalid_schema_prefix") == 0,
		  "a control character in the prefix");
	CHECK(il_render_relation("s.ttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt", "", &b, &err) == -1 &&
		  strcmp(err.code, "identifier_too_long") == 0, "a table name over 63 bytes");
	CHECK(il_render_relation("s.ttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt", "", &b, &err) == 0,
		  "a table name of 63 bytes");
	CHECK(strcmp(il_errcode_sqlstate(IL_ERR_UNSUPPORTED_CONSTRUCT), "0A000") == 0 &&
		  strcmp(il_errcode_sqlstate(il_errcode_lookup("drop")), "42501") == 0 &&
		  strcmp(il_errcode_sqlstate(IL_ERR_UNKNOWN_REF), "42704") == 0 &&
		  strcmp(il_errcode_sqlstate(IL_ERR_MISSING_RANGE), "22023") == 0 &&
		  strcmp(il_errcode_sqlstate(il_errcode_lookup("nope")), "XX000") == 0, "SQLSTATEs");
	il_buf_free(&b);
}

/*
 * A megabyte of references and strings renders in linear time, and the
 * lines stay where they were.
 */
static void
test_scale(void)
{
	il_buf		big = IL_BUF_INIT;
	clock_t		t0;
	double		secs;
	const char *got;
	size_t		n = 0;
	size_t		i;

	il_buf_puts(&big, "SELECT 1 FROM orders");
	while (big.len < ((size_t) 1 << 20) - 200)
	{
		il_buf_puts(&big, "\nUNION ALL SELECT '{{ start_date }}' FROM sales.orders JOIN `x` USING (id)");
		n++;
	}
	t0 = clock();
	got = render(big.data);
	secs = (double) (clock() - t0) / CLOCKS_PER_SEC;
	CHECK(got != NULL && lines_of(got) == (int) n, "a 1 MiB model renders, lines kept");
	printf("# rendered %zu bytes in %.3f s\n", big.len, secs);
	CHECK(secs < 2.0, "rendering 1 MiB takes less than 2 s");

	/* many "{{" inside one string and no "}}": no quadratic search */
	il_buf_reset(&big);
	il_buf_puts(&big, "SELECT '");
	for (i = 0; i < 400000; i++)
		il_buf_puts(&big, "{{");
	il_buf_puts(&big, "' FROM t");
	t0 = clock();
	got = render(big.data);
	secs = (double) (clock() - t0) / CLOCKS_PER_SEC;
	CHECK(got != NULL && strlen(got) == big.len, "a string of 800,000 braces renders unchanged");
	CHECK(secs < 2.0, "and quickly");

	/* many "{{" before one "}}" after a long run of spaces */
	il_buf_reset(&big);
	il_buf_puts(&big, "SELECT '");
	for (i = 0; i < 150000; i++)
		il_buf_puts(&big, "{{ ");
	for (i = 0; i < 400000; i++)
		il_buf_putc(&big, ' ');
	il_buf_puts(&big, "}}' FROM t");
	t0 = clock();
	got = render(big.data);
	secs = (double) (clock() - t0) / CLOCKS_PER_SEC;
	CHECK(got != NULL && strlen(got) == big.len && secs < 2.0,
		  "150,000 \"{{\" sharing one \"}}\" after 400,000 spaces: linear");
	il_buf_free(&big);
}

/*
 * What il_render's single lexing rests on: il_lex with comments kept, its
 * comments left out, gives the tokens il_lex gives without them (the same
 * offsets, lengths, keywords and flags; brackets matched to the same
 * partners), whatever the comments (--, nested block comments, template
 * comments) around dots, casts, brackets and keywords.
 */
static bool
same_without_comments(const char *sql)
{
	il_tokens	all = IL_TOKENS_INIT;
	il_tokens	toks = IL_TOKENS_INIT;
	il_error	e;
	size_t		len = strlen(sql);
	size_t		k = 0;
	size_t		i;
	bool		same;

	same = il_lex(sql, len, IL_LEX_KEEP_COMMENTS, &all, &e) == IL_PARSE_OK &&
		il_lex(sql, len, 0, &toks, &e) == IL_PARSE_OK;
	for (i = 0; same && i < all.n; i++)
	{
		const il_token *a = &all.tok[i];
		const il_token *b;

		if (a->type == IL_TOK_COMMENT)
			continue;
		b = &toks.tok[k];
		same = k < toks.n && a->off == b->off && a->type == b->type && a->kw == b->kw &&
			a->flags == b->flags && il_tok_len(a) == il_tok_len(b) &&
			(!il_tok_is_bracket(a) || all.tok[a->lenm].off == toks.tok[b->lenm].off);
		k++;
	}
	same = same && k == toks.n;
	il_tokens_free(&all);
	il_tokens_free(&toks);
	return same;
}

static void
test_single_lexing(void)
{
	static const char *const texts[] = {
		"SELECT a./* c */b, x::/* c */int, (1 -- c\n), [2 /* c */] FROM s.t",
		"SELECT {# c #} a FROM {{ ref('x') }} -- c\nWHERE b = '{{ start_date }}' /* a /* nested */ c */ ;",
		"WITH q AS (/* c */ SELECT 1) SELECT * FROM q /* c */ JOIN `a`.`b` ON (x = y) --",
		"MERGE INTO t USING /* c */ s ON (t.a = s.a) WHEN MATCHED THEN UPDATE SET b = s.b",
		"SELECT ((((1)))) /* c */, f(a, -- c\n b), $x, ${y} FROM t LATERAL VIEW explode(a) -- c",
	};
	size_t		i;
	bool		ok = true;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		ok = ok && same_without_comments(texts[i]);
	CHECK(ok, "the tokens with comments, less the comments, are those without (what il_render lexes once for)");
}

/*
 * Renders text both ways, from the text and from edits, with and without a
 * range, as a model and as a query; true when every result (bytes, or the
 * error's code, position and message) is the same.
 */
static bool
same_both_ways(const il_dag *g, size_t self, const char *text, size_t len,
			   const uint8_t *edits, size_t elen)
{
	static const char *args[][3] = {{"dev_", "2024-01-01", "2024-01-31"}, {"", NULL, NULL}};
	bool		same = true;
	int			a,
				q;

	for (a = 0; a < 2; a++)
		for (q = 0; q < 2; q++)
		{
			il_buf		o1 = IL_BUF_INIT;
			il_buf		o2 = IL_BUF_INIT;
			il_error	e1,
						e2;
			int			r1,
						r2;

			r1 = (q ? il_render_query : il_render_model) (text, len, g, self, args[a][0],
														  args[a][1], args[a][2], &o1, &e1);
			r2 = (q ? il_render_query_edits : il_render_model_edits) (text, len, edits, elen, g, self,
																	  args[a][0], args[a][1], args[a][2],
																	  &o2, &e2);
			if (r1 != r2 ||
				(r1 == 0 && (o1.len != o2.len || memcmp(o1.data, o2.data, o1.len) != 0)) ||
				(r1 != 0 && (e1.code == NULL || e2.code == NULL || strcmp(e1.code, e2.code) != 0 ||
							 e1.line != e2.line || e1.column != e2.column ||
							 strcmp(e1.message, e2.message) != 0)))
			{
				same = false;
				printf("#   differs (range %d, query %d): rc %d/%d, %s/%s at %d:%d/%d:%d\n", a, q, r1, r2,
					   r1 && e1.code ? e1.code : "-", r2 && e2.code ? e2.code : "-",
					   e1.line, e1.column, e2.line, e2.column);
			}
			il_buf_free(&o1);
			il_buf_free(&o2);
		}
	return same;
}

/* The files of dir (not recursive) ending in .sql or .txt, into names. */
static size_t
list_files(const char *dir, char names[][256], size_t cap)
{
	DIR		   *d = opendir(dir);
	struct dirent *e;
	size_t		n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL && n < cap)
	{
		size_t		nl = strlen(e->d_name);

		if (nl > 4 && (strcmp(e->d_name + nl - 4, ".sql") == 0 || strcmp(e->d_name + nl - 4, ".txt") == 0))
			snprintf(names[n++], 256, "%s/%s", dir, e->d_name);
	}
	closedir(d);
	return n;
}

/*
 * Rendering from a parse record's edit list (what the executor does)
 * equals rendering from the text, for the fuzz corpus of the renderer
 * (its edits as il_model_parse_edits computes them for a record) and the
 * shop example's models (through their records, in their own graph).
 */
static void
test_record_edits(void)
{
	static char files[64][256];
	static const char *const shop[] = {"examples/shop/models/raw", "examples/shop/models/staging",
	"examples/shop/models/marts"};
	size_t		n;
	size_t		i;
	size_t		d;
	size_t		done = 0;
	bool		ok = true;
	il_arena   *arena = il_arena_new();
	il_repo_model shop_models[64];
	char	   *shop_text[64];
	size_t		shop_len[64];
	il_dag_model dm[64];
	il_dag	   *shop_dag = NULL;
	size_t		nshop = 0;

	n = list_files("test/fuzz/corpus/render", files, 64);
	for (i = 0; i < n; i++)
	{
		size_t		len;
		char	   *body = unit_read_file(files[i], &len);
		il_buf		text = IL_BUF_INIT;
		il_model	m;
		il_buf		edits = IL_BUF_INIT;
		il_error	e;

		if (body == NULL)
			continue;
		/* a model file: a header, then the corpus text */
		il_buf_puts(&text, "-- name: analytics.orders_daily\n-- kind: FULL_REFRESH\n");
		il_buf_append(&text, body, len);
		if (il_model_parse_edits(text.data, text.len, &m, &edits, &e) == IL_PARSE_OK)
		{
			ok = ok && same_both_ways(dag, 3, text.data, text.len, (const uint8_t *) edits.data, edits.len);
			done++;
		}
		il_model_free(&m);
		il_buf_free(&edits);
		il_buf_free(&text);
		free(body);
	}
	printf("# %zu corpus files, %zu of them models with a header\n", n, done);
	CHECK(n >= 5 && done >= 5 && ok,
		  "the fuzz corpus of render renders from its edits as from its text");

	/* the shop's models, through their parse records, in their graph */
	for (d = 0; d < sizeof(shop) / sizeof(shop[0]); d++)
	{
		n = list_files(shop[d], files, 64);
		for (i = 0; i < n && nshop < 64; i++)
		{
			il_buf		rec = IL_BUF_INIT;
			blob_entry	be;
			il_error	e;

			shop_text[nshop] = unit_read_file(files[i], &shop_len[nshop]);
			if (shop_text[nshop] == NULL)
				continue;
			if (il_repo_parse_text(shop_text[nshop], shop_len[nshop], &rec, &e) == 0 &&
				il_record_decode((const uint8_t *) rec.data, rec.len, arena, &be, &shop_models[nshop]) &&
				be.type == 'M')
			{
				memset(&dm[nshop], 0, sizeof(dm[nshop]));
				dm[nshop].name = shop_models[nshop].name;
				nshop++;
			}
			else
				free(shop_text[nshop]);
			il_buf_free(&rec);
		}
	}
	if (CHECK(nshop >= 10 && il_dag_build(dm, nshop, &shop_dag, &err) == 0,
			  "the shop's models parse into records and a graph"))
	{
		ok = true;
		for (i = 0; i < nshop; i++)
		{
			size_t		node = 0;

			(void) il_dag_resolve(shop_dag, shop_models[i].name, strlen(shop_models[i].name), &node);
			ok = ok && shop_models[i].render_edits_len > 0 &&
				same_both_ways(shop_dag, node, shop_text[i], shop_len[i],
							   shop_models[i].render_edits, shop_models[i].render_edits_len);
		}
		CHECK(ok, "the shop's models render from their records' edits as from their text");
	}
	for (i = 0; i < nshop; i++)
		free(shop_text[i]);
	il_dag_free(shop_dag);
	il_arena_release(arena);
}

int
main(void)
{
	if (il_dag_build(models, sizeof(models) / sizeof(models[0]), &dag, &err) != 0)
	{
		printf("not ok 1 - graph: %s\n", err.message);
		return 1;
	}
	test_resolve();
	test_references();
	test_templates();
	test_guard();
	test_constructs();
	test_inputs();
	test_relation();
	test_scale();
	test_single_lexing();
	test_record_edits();
	il_dag_free(dag);
	il_buf_free(&out);
	return unit_done();
}
