/*
 * Unit tests of il_dbx_render.c (a model's step rendered for Databricks:
 * the statements of each materialization) and of il_render's Databricks
 * dialect behind it: exact statement texts for every shape and kind,
 * quoting, templates, the guard, the errors, the parse record's edit list,
 * and memory (every allocation failing in turn: an error, nothing left).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "il_alloc.h"
#include "il_dag.h"
#include "il_dbx_render.h"
#include "il_model.h"
#include "il_render.h"
#include "unit.h"

static il_dag *dag;
static il_error err;
static il_dbx_statements st;
static il_buf joined = IL_BUF_INIT;

static char *daily_refs[] = {"sales.orders"};

static il_dag_model models[] = {
	{"sales.orders", NULL, {NULL, 0}, {NULL, 0}, {NULL, 0}},
	{"sales.customers", NULL, {NULL, 0}, {NULL, 0}, {NULL, 0}},
	{"main.finance.revenue", NULL, {NULL, 0}, {NULL, 0}, {NULL, 0}},
	{"analytics.daily", NULL, {daily_refs, 1}, {NULL, 0}, {NULL, 0}},
};

/* A step of analytics.daily: catalog main, prefix dev_, range 2024-01-01..02. */
static il_dbx_step
step(const char *sql, il_model_kind kind)
{
	il_dbx_step s;

	memset(&s, 0, sizeof(s));
	s.sql = sql;
	s.len = strlen(sql);
	s.dag = dag;
	s.self_node = 3;
	s.model_name = "analytics.daily";
	s.kind = kind;
	s.materialization = IL_MAT_TABLE;
	s.run_type = IL_DBX_RUN_INCREMENTAL;
	s.start = "2024-01-01";
	s.end = "2024-01-02";
	s.catalog = "main";
	s.schema_prefix = "dev_";
	return s;
}

/*
 * The statements of s, each "<shape>|<text>" and joined by "\n----\n"; NULL
 * on an error (err says which). Checks the flags and the texts' ends.
 */
static const char *
statements(const il_dbx_step *s)
{
	size_t		i;

	il_buf_reset(&joined);
	if (il_dbx_step_statements(s, &st, &err) != 0)
	{
		if (st.n != 0)
			return "error left statements behind";
		return NULL;
	}
	for (i = 0; i < st.n; i++)
	{
		if (!st.stmt[i].idempotent || st.stmt[i].text[st.stmt[i].len] != '\0' ||
			strlen(st.stmt[i].text) != st.stmt[i].len)
			return "bad statement flags or text";
		if (i > 0)
			il_buf_puts(&joined, "\n----\n");
		il_buf_printf(&joined, "%s|%s", il_dbx_shape_name(st.stmt[i].shape), st.stmt[i].text);
	}
	return il_buf_cstr(&joined);
}

static int
gives(const il_dbx_step *s, const char *want)
{
	const char *got = statements(s);

	if (got == NULL)
	{
		printf("#   error %s at %d:%d: %s\n", err.code, err.line, err.column, err.message);
		return 0;
	}
	if (strcmp(got, want) != 0)
	{
		printf("#   got:\n%s\n#   want:\n%s\n", got, want);
		return 0;
	}
	return 1;
}

static int
fails(const il_dbx_step *s, const char *code)
{
	const char *got = statements(s);

	if (got != NULL)
	{
		printf("#   rendered:\n%s\n", got);
		return 0;
	}
	if (strcmp(err.code, code) != 0 || err.message[0] == '\0')
	{
		printf("#   error %s: %s\n", err.code, err.message);
		return 0;
	}
	return 1;
}

#define REL "`main`.`dev_analytics`.`daily`"
#define SCH "S|CREATE SCHEMA IF NOT EXISTS `main`.`dev_analytics`\n----\n"
#define Q "SELECT * FROM `main`.`dev_sales`.`orders` WHERE d >= DATE '2024-01-01'"
#define QSQL "SELECT * FROM sales.orders WHERE d >= {{ start_date }}"
#define E_STMT "E|CREATE TABLE IF NOT EXISTS " REL " AS\nSELECT * FROM (\n" Q "\n) AS q WHERE 1 = 0\n----\n"

static void
test_shapes(void)
{
	il_dbx_step s;
	const char *keys[] = {"id", "Region", "id"};

	s = step(QSQL, IL_KIND_FULL_REFRESH);
	CHECK(gives(&s, SCH "F|CREATE OR REPLACE TABLE " REL " AS\n" Q), "FULL_REFRESH: S, F");

	s = step(QSQL, IL_KIND_FULL_REFRESH);
	s.materialization = IL_MAT_VIEW;
	CHECK(gives(&s, SCH "V|CREATE OR REPLACE VIEW " REL " AS\n" Q), "a view: S, V");
	s.kind = IL_KIND_MERGE_BY_KEY;
	s.unique_key = keys;
	s.unique_key_n = 1;
	CHECK(gives(&s, SCH "V|CREATE OR REPLACE VIEW " REL " AS\n" Q), "a view of any kind: S, V");

	s = step(QSQL, IL_KIND_INCREMENTAL_BY_TIME_RANGE);
	s.time_column = "d";
	CHECK(gives(&s, SCH E_STMT "R|INSERT INTO " REL " REPLACE WHERE `d` >= DATE'2024-01-01' AND `d` < DATE'2024-01-03'\n"
				"SELECT * FROM (\n" Q "\n) AS q"),
		  "INCREMENTAL_BY_TIME_RANGE: S, E, R up to the day after end");
	s.on_schema_change = "append_new_columns";
	CHECK(gives(&s, SCH E_STMT "R|INSERT WITH SCHEMA EVOLUTION INTO " REL " REPLACE WHERE `d` >= DATE'2024-01-01' AND `d` < DATE'2024-01-03'\n"
				"SELECT * FROM (\n" Q "\n) AS q"),
		  "append_new_columns: INSERT WITH SCHEMA EVOLUTION");
	s.on_schema_change = "fail";
	s.run_type = IL_DBX_RUN_FULL_REFRESH;
	CHECK(gives(&s, SCH "F|CREATE OR REPLACE TABLE " REL " AS\n" Q), "INCREMENTAL_BY_TIME_RANGE, run type FULL_REFRESH: S, F");

	s = step("SELECT 1 AS d", IL_KIND_INCREMENTAL_BY_TIME_RANGE);
	s.time_column = "d";
	s.start = "2024-02-28";
	s.end = "2024-02-28";
	CHECK(gives(&s, SCH "E|CREATE TABLE IF NOT EXISTS " REL " AS\nSELECT * FROM (\nSELECT 1 AS d\n) AS q WHERE 1 = 0\n----\n"
				"R|INSERT INTO " REL " REPLACE WHERE `d` >= DATE'2024-02-28' AND `d` < DATE'2024-02-29'\n"
				"SELECT * FROM (\nSELECT 1 AS d\n) AS q"), "end + 1 in a leap February");
	s.start = "2023-12-31";
	s.end = "2023-12-31";
	CHECK(statements(&s) != NULL && strstr(joined.data, "`d` < DATE'2024-01-01'\n") != NULL, "end + 1 over a year's end");
	s.end = "9999-12-31";
	CHECK(statements(&s) != NULL && strstr(joined.data, "REPLACE WHERE `d` >= DATE'2023-12-31'\nSELECT") != NULL,
		  "end 9999-12-31: no upper bound");

	s = step(QSQL, IL_KIND_APPEND_ONLY);
	s.time_column = "d";
	CHECK(gives(&s, SCH E_STMT "R|INSERT INTO " REL " REPLACE WHERE `d` >= DATE'2024-01-01' AND `d` < DATE'2024-01-03'\n"
				"SELECT * FROM (\n" Q "\n) AS q"),
		  "APPEND_ONLY with a time_column: S, E, R (its range replaced)");
	s.time_column = NULL;
	CHECK(gives(&s, SCH E_STMT "A|INSERT INTO " REL "\nSELECT * FROM (\n" Q "\n) AS q\nEXCEPT\nSELECT * FROM " REL),
		  "APPEND_ONLY without one: S, E, A (only rows not there)");
	s.on_schema_change = "append_new_columns";
	CHECK(gives(&s, SCH E_STMT "A|INSERT INTO " REL "\nSELECT * FROM (\n" Q "\n) AS q\nEXCEPT\nSELECT * FROM " REL),
		  "A has no schema evolution variant");
	s.run_type = IL_DBX_RUN_FULL_REFRESH;
	CHECK(gives(&s, SCH "F|CREATE OR REPLACE TABLE " REL " AS\n" Q), "APPEND_ONLY, run type FULL_REFRESH: S, F");

	s = step(QSQL, IL_KIND_MERGE_BY_KEY);
	s.unique_key = keys;
	s.unique_key_n = 3;
	CHECK(gives(&s, SCH E_STMT "M|MERGE INTO " REL " AS t\nUSING (\n" Q "\n) AS s\nON t.`id` = s.`id` AND t.`Region` = s.`Region`\n"
				"WHEN MATCHED THEN UPDATE SET *\nWHEN NOT MATCHED THEN INSERT *"),
		  "MERGE_BY_KEY: S, E, M on each key once");
	s.on_schema_change = "append_new_columns";
	CHECK(gives(&s, SCH E_STMT "M|MERGE WITH SCHEMA EVOLUTION INTO " REL " AS t\nUSING (\n" Q "\n) AS s\nON t.`id` = s.`id` AND t.`Region` = s.`Region`\n"
				"WHEN MATCHED THEN UPDATE SET *\nWHEN NOT MATCHED THEN INSERT *"),
		  "append_new_columns: MERGE WITH SCHEMA EVOLUTION");
	s.run_type = IL_DBX_RUN_FULL_REFRESH;
	CHECK(gives(&s, SCH "F|CREATE OR REPLACE TABLE " REL " AS\n" Q), "MERGE_BY_KEY, run type FULL_REFRESH: rebuilt (S, F)");
	s.start = s.end = NULL;
	s.sql = "SELECT 1 AS id";
	s.len = strlen(s.sql);
	CHECK(gives(&s, SCH "F|CREATE OR REPLACE TABLE " REL " AS\nSELECT 1 AS id"), "a full refresh needs no range");
}

static void
test_quoting(void)
{
	il_dbx_step s;
	il_buf		b = IL_BUF_INIT;
	const char *keys[] = {"`order id`", "a.`b``c`"};

	s = step("SELECT 1 AS x", IL_KIND_FULL_REFRESH);
	s.catalog = "c`t";
	s.schema_prefix = "p`";
	CHECK(gives(&s, "S|CREATE SCHEMA IF NOT EXISTS `c``t`.`p``analytics`\n----\n"
				"F|CREATE OR REPLACE TABLE `c``t`.`p``analytics`.`daily` AS\nSELECT 1 AS x"),
		  "backticks in the catalog and prefix are doubled");
	s.catalog = "kätalog";
	s.schema_prefix = "зд_";
	CHECK(gives(&s, "S|CREATE SCHEMA IF NOT EXISTS `kätalog`.`зд_analytics`\n----\n"
				"F|CREATE OR REPLACE TABLE `kätalog`.`зд_analytics`.`daily` AS\nSELECT 1 AS x"),
		  "unicode names are kept");
	s.schema_prefix = NULL;
	s.catalog = "main";
	s.model_name = "other.schema1.t";
	CHECK(gives(&s, "S|CREATE SCHEMA IF NOT EXISTS `main`.`schema1`\n----\n"
				"F|CREATE OR REPLACE TABLE `main`.`schema1`.`t` AS\nSELECT 1 AS x"),
		  "a three-part model name: its catalog is the environment's, no prefix");

	s = step("SELECT 1 AS x", IL_KIND_MERGE_BY_KEY);
	s.unique_key = keys;
	s.unique_key_n = 2;
	CHECK(statements(&s) != NULL &&
		  strstr(joined.data, "\nON t.`order id` = s.`order id` AND t.`a`.`b``c` = s.`a`.`b``c`\n") != NULL,
		  "unique_key: quoted names and dotted paths");

	s = step("SELECT 1 AS x", IL_KIND_INCREMENTAL_BY_TIME_RANGE);
	s.time_column = "`event`.ts";
	CHECK(statements(&s) != NULL &&
		  strstr(joined.data, "REPLACE WHERE `event`.`ts` >= DATE'2024-01-01' AND `event`.`ts` < DATE'2024-01-03'") != NULL,
		  "time_column: a dotted path");

	CHECK(il_dbx_column("zeït", &b, &err) == 0 && strcmp(b.data, "`zeït`") == 0, "a unicode column");
	il_buf_reset(&b);
	CHECK(il_dbx_column("`a.b`.c", &b, &err) == 0 && strcmp(b.data, "`a.b`.`c`") == 0, "a dot inside backticks");
	il_buf_reset(&b);
	CHECK(il_dbx_column("`x``y`", &b, &err) == 0 && strcmp(b.data, "`x``y`") == 0, "a doubled backtick stays doubled");
	il_buf_reset(&b);
	il_buf_puts(&b, "keep");
	CHECK(il_dbx_column("a b", &b, &err) != 0 && strcmp(err.code, "invalid_column") == 0 &&
		  strcmp(b.data, "keep") == 0, "a column with a space is refused, out unchanged");
	CHECK(il_dbx_column("`ab", &b, &err) != 0 && strcmp(err.code, "invalid_column") == 0, "an unclosed backtick");
	CHECK(il_dbx_column("a..b", &b, &err) != 0, "an empty part");
	CHECK(il_dbx_column("a.", &b, &err) != 0, "a trailing dot");
	CHECK(il_dbx_column("``", &b, &err) != 0, "an empty quoted name");
	CHECK(il_dbx_column("`a\nb`", &b, &err) != 0, "a control character");
	CHECK(il_dbx_column("`a`b", &b, &err) != 0, "text after a quoted part");
	CHECK(il_dbx_column("", &b, &err) != 0 && il_dbx_column(NULL, &b, &err) != 0, "empty and NULL");
	il_buf_free(&b);
}

static void
test_templates(void)
{
	il_dbx_step s;
	il_buf		q = IL_BUF_INIT;

	s = step("SELECT o.*, c.name, '{{ end_date }}' AS e, {{ start_date }}AS s\n"
			 "FROM {{ ref('sales.orders') }} o JOIN `sales`.`customers` c USING (id)\n"
			 "JOIN {{ source('raw', 'ev`x') }} r ON r.id = o.id {# gone #}\n"
			 "JOIN main.finance.revenue f ON true JOIN daily d ON true",
			 IL_KIND_FULL_REFRESH);
	CHECK(il_dbx_render_query(&s, &q, &err) == 0 &&
		  strcmp(q.data, "SELECT o.*, c.name, '2024-01-02' AS e, DATE '2024-01-01'AS s\n"
				 "FROM `main`.`dev_sales`.`orders` o JOIN `main`.`dev_sales`.`customers` c USING (id)\n"
				 "JOIN `raw`.`ev``x` r ON r.id = o.id \n"
				 "JOIN `main`.`dev_finance`.`revenue` f ON true JOIN `main`.`dev_analytics`.`daily` d ON true") == 0,
		  "ref(), backtick and three-part references, source(), dates, template comments, the model itself");

	il_buf_reset(&q);
	s = step("SELECT `a``b`, \"dq\" FROM `x`{{ ref('sales.orders') }}`y`", IL_KIND_FULL_REFRESH);
	CHECK(il_dbx_render_query(&s, &q, &err) == 0 &&
		  strcmp(q.data, "SELECT `a``b`, \"dq\" FROM `x` `main`.`dev_sales`.`orders` `y`") == 0,
		  "backticks stay as written; a relation next to one is spaced from it");

	il_buf_reset(&q);
	s = step("SELECT 'a\\'b' AS s, x FROM t LATERAL VIEW explode(arr) AS x QUALIFY row_number() OVER (ORDER BY x) = 1;",
			 IL_KIND_FULL_REFRESH);
	CHECK(il_dbx_render_query(&s, &q, &err) == 0 &&
		  strcmp(q.data, "SELECT 'a\\'b' AS s, x FROM t LATERAL VIEW explode(arr) AS x QUALIFY row_number() OVER (ORDER BY x) = 1 ") == 0,
		  "no refusal of postgresql's: backslash escapes, LATERAL VIEW, QUALIFY; the ';' blanked");

	il_buf_reset(&q);
	s = step("SELECT * FROM delta.`/mnt/x` WHERE p = '$1' OR q = $2", IL_KIND_FULL_REFRESH);
	CHECK(il_dbx_render_query(&s, &q, &err) == 0 && strcmp(q.data, s.sql) == 0,
		  "a file-path relation and '$' stay as written");

	s = step("SELECT ${var} AS x", IL_KIND_FULL_REFRESH);
	CHECK(fails(&s, "unsupported_construct") && strstr(err.message, "${...}") != NULL, "a ${variable} is refused");
	s = step("SELECT {{ config(x) }} AS x", IL_KIND_FULL_REFRESH);
	CHECK(fails(&s, "unknown_template"), "an unknown template is refused");
	s = step("SELECT 1 FROM {{ ref('nope') }}", IL_KIND_FULL_REFRESH);
	CHECK(fails(&s, "unknown_ref"), "a ref() of no model");
	s = step(QSQL, IL_KIND_FULL_REFRESH);
	s.start = s.end = NULL;
	CHECK(fails(&s, "missing_range"), "{{ start_date }} without a range");
	s = step("SELECT {#x#}{{#y#}{ 1", IL_KIND_FULL_REFRESH);
	CHECK(statements(&s) == NULL, "template syntax formed by rendering is refused");
	il_buf_free(&q);
}

static void
test_guard(void)
{
	il_dbx_step s;

	s = step("DROP TABLE sales.orders", IL_KIND_FULL_REFRESH);
	CHECK(fails(&s, "drop"), "the guard refuses DROP");
	s = step("SELECT 1; SELECT 2", IL_KIND_FULL_REFRESH);
	CHECK(fails(&s, "multiple_statements"), "the guard refuses a second statement");
	s = step("SELECT 1; DELETE FROM x", IL_KIND_FULL_REFRESH);
	CHECK(fails(&s, "delete") || strcmp(err.code, "multiple_statements") == 0, "and DELETE");
	s = step("INSERT INTO sales.orders SELECT 1", IL_KIND_FULL_REFRESH);
	CHECK(fails(&s, "not_a_query"), "a model that is not a query");
	s = step("-- only a comment\n", IL_KIND_FULL_REFRESH);
	CHECK(fails(&s, "no_statement"), "a model without a statement");
	s = step("WITH a AS (SELECT 1 AS x) SELECT * FROM a", IL_KIND_FULL_REFRESH);
	CHECK(statements(&s) != NULL, "WITH ... SELECT is a query");
	s = step("VALUES (1), (2)", IL_KIND_FULL_REFRESH);
	CHECK(statements(&s) != NULL, "VALUES is a query");
}

static void
test_errors(void)
{
	il_dbx_step s;
	const char *bad_keys[] = {"a b"};
	char		longp[300];

	s = step("SELECT 1 AS d", IL_KIND_INCREMENTAL_BY_TIME_RANGE);
	CHECK(fails(&s, "missing_time_column"), "INCREMENTAL_BY_TIME_RANGE without time_column");
	s = step("SELECT 1 AS d", IL_KIND_MERGE_BY_KEY);
	CHECK(fails(&s, "missing_unique_key"), "MERGE_BY_KEY without unique_key");
	s.unique_key = bad_keys;
	s.unique_key_n = 1;
	CHECK(fails(&s, "invalid_column"), "a unique_key that is not a column");
	s = step("SELECT 1 AS d", IL_KIND_INCREMENTAL_BY_TIME_RANGE);
	s.time_column = "`d";
	CHECK(fails(&s, "invalid_column"), "a time_column that is not a column");
	s.time_column = "d";
	s.on_schema_change = "sync_all_columns";
	CHECK(fails(&s, "unsupported_schema_change"), "sync_all_columns is refused on databricks");
	s.on_schema_change = "Fail";
	CHECK(fails(&s, "invalid_on_schema_change"), "an unknown on_schema_change");
	s.on_schema_change = NULL;
	s.start = s.end = NULL;
	CHECK(fails(&s, "missing_range"), "an incremental step without a range");
	s.start = "2024-01-03";
	s.end = "2024-01-02";
	CHECK(fails(&s, "invalid_range"), "start after end");
	s.start = "2024-02-30";
	CHECK(fails(&s, "invalid_range"), "a date that is no day");
	s.start = NULL;
	CHECK(fails(&s, "invalid_range"), "only one date");
	s = step("SELECT 1", IL_KIND_NONE);
	CHECK(fails(&s, "invalid_kind"), "no kind");
	s = step("SELECT 1", IL_KIND_FULL_REFRESH);
	s.catalog = "";
	CHECK(fails(&s, "invalid_catalog"), "an empty catalog");
	s.catalog = NULL;
	CHECK(fails(&s, "invalid_catalog"), "no catalog");
	s.catalog = "a\nb";
	CHECK(fails(&s, "invalid_catalog"), "a catalog with a control character");
	s.catalog = "main";
	s.schema_prefix = "a\\b";
	CHECK(fails(&s, "invalid_schema_prefix"), "a prefix with a backslash");
	memset(longp, 'p', 250);
	longp[250] = '\0';
	s.schema_prefix = longp;
	CHECK(fails(&s, "identifier_too_long"), "prefix + schema over 255 bytes");
	longp[200] = '\0';
	CHECK(statements(&s) != NULL, "prefix + schema of 210 bytes (over postgresql's 63) is fine");
	s.schema_prefix = "dev_";
	s.model_name = "nodot";
	CHECK(fails(&s, "invalid_model_name"), "a model name without a schema");
}

/* The parse record's edit list gives what the text gives, also past a postgresql refusal. */
static void
test_edits(void)
{
	static const char *const files[] = {
		"-- name: analytics.daily\n-- kind: INCREMENTAL_BY_TIME_RANGE\n-- time_column: `day`\n"
		"SELECT * FROM {{ ref('sales.orders') }} WHERE `day` BETWEEN {{ start_date }} AND {{ end_date }};\n",
		"-- name: analytics.daily\n-- kind: MERGE_BY_KEY\n-- unique_key: id, `k``2`\n"
		"SELECT id, 'a\\'b' AS `k``2` FROM sales.orders QUALIFY row_number() OVER (PARTITION BY id ORDER BY id) = 1\n"
		"UNION ALL SELECT 1, `sales`.`customers`.x FROM sales.customers\n",
		"-- name: analytics.daily\n-- kind: APPEND_ONLY\n"
		"SELECT x FROM sales.orders LATERAL VIEW explode(a) AS x WHERE y = '$' AND z = \"{{ start_date }}\"\n",
	};
	size_t		i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
	{
		il_model	m;
		il_buf		edits = IL_BUF_INIT;
		il_buf		from_text = IL_BUF_INIT;
		il_dbx_step s;
		char		what[96];

		if (!CHECK(il_model_parse_edits(files[i], strlen(files[i]), &m, &edits, &err) == IL_PARSE_OK,
				   "a model file parses with its edit list"))
			continue;
		s = step(files[i], m.header.kind);
		s.materialization = m.header.materialization;
		s.time_column = m.header.time_column;
		s.unique_key = (const char *const *) m.header.unique_key.items;
		s.unique_key_n = m.header.unique_key.n;
		if (statements(&s) != NULL)
			il_buf_puts(&from_text, joined.data);
		s.edits = (const uint8_t *) edits.data;
		s.edits_len = edits.len;
		snprintf(what, sizeof(what), "file %zu: the edit list renders what the text renders", i);
		CHECK(from_text.len > 0 && statements(&s) != NULL && strcmp(joined.data, from_text.data) == 0, what);
		if (i == 0)
			CHECK(strstr(from_text.data, "SELECT * FROM `main`.`dev_sales`.`orders` WHERE `day` BETWEEN DATE '2024-01-01' AND DATE '2024-01-02' \n") != NULL &&
				  strstr(from_text.data, "REPLACE WHERE `day` >= DATE'2024-01-01' AND `day` < DATE'2024-01-03'\n") != NULL,
				  "file 0: its query and its range");
		if (i == 1)
			CHECK(strstr(from_text.data, "ON t.`id` = s.`id` AND t.`k``2` = s.`k``2`\n") != NULL &&
				  strstr(from_text.data, "UNION ALL SELECT 1, `sales`.`customers`.x FROM `main`.`dev_sales`.`customers`\n") != NULL,
				  "file 1: past the refusal, the names are rewritten");
		if (i == 2)
			CHECK(strstr(from_text.data, "A|INSERT INTO ") != NULL && strstr(from_text.data, "z = \"2024-01-01\"") != NULL,
				  "file 2: APPEND_ONLY without time_column; a date in a double-quoted string");
		/* the postgresql renderer still refuses files 1 and 2 */
		if (i > 0)
		{
			il_buf		pg = IL_BUF_INIT;

			CHECK(il_render_query_edits(files[i], strlen(files[i]), (const uint8_t *) edits.data, edits.len,
										dag, 3, "dev_", "2024-01-01", "2024-01-02", &pg, &err) != 0 &&
				  strcmp(err.code, "unsupported_construct") == 0,
				  "the postgresql renderer still refuses it");
			il_buf_free(&pg);
		}
		il_model_free(&m);
		il_buf_free(&edits);
		il_buf_free(&from_text);
	}
}

/* ---- memory: a counting allocator that can fail ---- */

static long live;
static long fail_after = -1;

static void *
c_malloc(size_t n)
{
	void	   *p;

	if (fail_after == 0)
		return NULL;
	if (fail_after > 0)
		fail_after--;
	p = malloc(n);
	if (p != NULL)
		live++;
	return p;
}

static void *
c_calloc(size_t n, size_t size)
{
	void	   *p;

	if (fail_after == 0)
		return NULL;
	if (fail_after > 0)
		fail_after--;
	p = calloc(n, size);
	if (p != NULL)
		live++;
	return p;
}

static void *
c_realloc(void *p, size_t n)
{
	void	   *q;

	if (p == NULL)
		return c_malloc(n);
	if (fail_after == 0)
		return NULL;
	if (fail_after > 0)
		fail_after--;
	q = realloc(p, n);
	return q;
}

static void
c_free(void *p)
{
	if (p != NULL)
		live--;
	free(p);
}

static const il_allocator counting = {c_malloc, c_calloc, c_realloc, c_free};

static void
test_memory(void)
{
	static const char *const file =
		"-- name: analytics.daily\n-- kind: MERGE_BY_KEY\n-- unique_key: id, `k`\n"
		"SELECT id, 1 AS k FROM {{ ref('sales.orders') }} QUALIFY true\n";
	il_model	m;
	il_buf		edits = IL_BUF_INIT;
	il_dbx_statements o;
	il_dbx_step s;
	long		k;
	long		failures = 0;
	long		leaks = 0;
	long		wrong = 0;
	int			reached = 0;

	/* a graph of the counting allocator's own */
	il_dag	   *g = NULL;

	il_set_allocator(&counting);
	if (il_dag_build(models, 4, &g, &err) != 0 ||
		il_model_parse_edits(file, strlen(file), &m, &edits, &err) != IL_PARSE_OK)
	{
		CHECK(0, "setup with the counting allocator");
		return;
	}
	s = step(file, IL_KIND_MERGE_BY_KEY);
	s.dag = g;
	s.unique_key = (const char *const *) m.header.unique_key.items;
	s.unique_key_n = m.header.unique_key.n;
	s.edits = (const uint8_t *) edits.data;
	s.edits_len = edits.len;
	for (k = 0; k < 100000 && !reached; k++)
	{
		long		before = live;

		il_dbx_statements_init(&o);
		fail_after = k;
		if (il_dbx_step_statements(&s, &o, &err) == 0)
			reached = o.n == 3;
		else
		{
			failures++;
			if (strcmp(err.code, "out_of_memory") != 0 || o.n != 0)
				wrong++;
		}
		fail_after = -1;
		il_dbx_statements_free(&o);
		if (live != before)
			leaks++;
	}
	CHECK(reached && failures > 0, "every allocation failing in turn: out_of_memory, then the statements");
	CHECK(wrong == 0, "each failure is out_of_memory with no statement left");
	CHECK(leaks == 0, "and leaves no block behind");
	il_model_free(&m);
	il_buf_free(&edits);
	il_dag_free(g);
	CHECK(live == 0, "everything allocated is freed");
	il_set_allocator(NULL);
}

int
main(void)
{
	if (il_dag_build(models, sizeof(models) / sizeof(models[0]), &dag, &err) != 0)
	{
		printf("Bail out! %s\n", err.message);
		return 1;
	}
	il_dbx_statements_init(&st);
	test_shapes();
	test_quoting();
	test_templates();
	test_guard();
	test_errors();
	test_edits();
	il_dbx_statements_free(&st);
	il_buf_free(&joined);
	il_dag_free(dag);
	test_memory();
	return unit_done();
}
