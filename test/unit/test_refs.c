/*
 * Unit tests of il_refs.c: what a model's SQL reads and writes, and its
 * statement kind.
 */
#include <stdlib.h>
#include <string.h>

#include "il_refs.h"
#include "unit.h"

static il_refs r;
static il_error err;

/* The items of l joined by ','. */
static const char *
joined(const il_strlist *l, char *buf, size_t size)
{
	size_t		i;

	buf[0] = '\0';
	for (i = 0; i < l->n; i++)
	{
		if (i > 0)
			strncat(buf, ",", size - strlen(buf) - 1);
		strncat(buf, l->items[i], size - strlen(buf) - 1);
	}
	return buf;
}

/*
 * Does sql give exactly these references, targets, refs and paths (each
 * comma-separated, "" for none)?
 */
static int
lists(const char *sql, const char *references, const char *targets,
	  const char *refs, const char *paths)
{
	char		a[1024],
				b[1024],
				c[1024],
				d[1024];
	il_parse_status st;

	il_refs_free(&r);
	st = il_refs_extract_sql(sql, strlen(sql), &r, &err);
	if (st != IL_PARSE_OK)
	{
		printf("#   status %d: %s\n", (int) st, err.message);
		return 0;
	}
	joined(&r.references, a, sizeof(a));
	joined(&r.targets, b, sizeof(b));
	joined(&r.refs, c, sizeof(c));
	joined(&r.paths, d, sizeof(d));
	if (strcmp(a, references) || strcmp(b, targets) || strcmp(c, refs) || strcmp(d, paths))
	{
		printf("#   got references \"%s\" targets \"%s\" refs \"%s\" paths \"%s\"\n", a, b, c, d);
		return 0;
	}
	return 1;
}

/* Does sql read exactly these relations (and write, ref, path nothing)? */
static int
reads(const char *sql, const char *references)
{
	return lists(sql, references, "", "", "");
}

/* The statement kind of sql, as its name ("none" for none). */
static const char *
stmt(const char *sql)
{
	const char *name;

	il_refs_free(&r);
	if (il_refs_extract_sql(sql, strlen(sql), &r, &err) != IL_PARSE_OK)
		return "(error)";
	name = il_stmt_kind_name(r.statement);
	return name ? name : "none";
}

int
main(void)
{
	char	   *big;
	size_t		i;
	size_t		len;

	/* FROM and JOIN. */
	CHECK(reads("SELECT a FROM t", "t"), "a plain FROM");
	CHECK(reads("select * from s.t", "s.t"), "a two-part name");
	CHECK(reads("select * from c.s.t", "c.s.t"), "a three-part name");
	CHECK(reads("SELECT * FROM a JOIN b ON a.id = b.id", "a,b"), "JOIN");
	CHECK(reads("SELECT * FROM a INNER JOIN b ON 1=1 LEFT OUTER JOIN c ON 1=1 RIGHT JOIN d ON 1=1 "
				"FULL OUTER JOIN e ON 1=1 CROSS JOIN f NATURAL JOIN g", "a,b,c,d,e,f,g"),
		  "inner, left outer, right, full outer, cross, natural joins");
	CHECK(reads("SELECT * FROM a LEFT SEMI JOIN b ON a.x = b.x LEFT ANTI JOIN c USING (x) "
				"SEMI JOIN d ON 1=1 ANTI JOIN e ON 1=1", "a,b,c,d,e"), "semi and anti joins");
	CHECK(reads("SELECT * FROM a, b x, c AS y WHERE a.i = x.i", "a,b,c"), "comma joins with aliases");
	CHECK(reads("SELECT * FROM a JOIN b ON a.x = b.x, c", "a,b,c"), "a comma after an ON condition");
	CHECK(reads("SELECT * FROM (a JOIN b ON a.x = b.x) JOIN c ON 1=1", "a,b,c"), "a parenthesized join");
	CHECK(reads("SELECT * FROM a JOIN b USING (id, region)", "a,b"), "JOIN USING columns are not tables");
	CHECK(reads("SELECT * FROM t1 AS a(x, y)", "t1"), "an alias with column names");
	CHECK(reads("SELECT * FROM a TABLESAMPLE (10 PERCENT) s JOIN b ON 1=1", "a,b"), "TABLESAMPLE");
	CHECK(reads("SELECT * FROM date, events, data.source", "data.source,date,events"),
		  "non-reserved keywords can name tables");

	/* Subqueries. */
	CHECK(reads("SELECT * FROM (SELECT * FROM (SELECT * FROM (SELECT x FROM deep) a) b) c", "deep"),
		  "nested subqueries in FROM");
	CHECK(reads("SELECT * FROM t WHERE x IN (SELECT y FROM u) AND EXISTS (SELECT 1 FROM v WHERE v.a = t.a)",
				"t,u,v"), "IN and EXISTS subqueries");
	CHECK(reads("SELECT (SELECT max(x) FROM m) AS mx, coalesce((SELECT 1 FROM n), 0) FROM t", "m,n,t"),
		  "scalar subqueries in the select list");
	CHECK(reads("SELECT * FROM a, LATERAL (SELECT * FROM b WHERE b.x = a.x) l", "a,b"), "LATERAL subqueries");
	CHECK(reads("SELECT * FROM a JOIN LATERAL (SELECT * FROM b) l ON true", "a,b"), "JOIN LATERAL");
	CHECK(reads("SELECT * FROM t WHERE a > (SELECT avg(a) FROM (SELECT a FROM u WHERE b IN (SELECT b FROM w)))",
				"t,u,w"), "subqueries inside subqueries in WHERE");
	CHECK(reads("SELECT * FROM ((SELECT a FROM x) UNION (SELECT a FROM y)) z", "x,y"),
		  "a parenthesized set operation in FROM");

	/* CTEs. */
	CHECK(reads("WITH c AS (SELECT * FROM s.a) SELECT x FROM c JOIN cat.s.b ON 1=1 "
				"LEFT JOIN (SELECT * FROM d) sq ON 1=1", "cat.s.b,d,s.a"),
		  "the original system's example: CTE names are not references");
	CHECK(reads("WITH a AS (SELECT * FROM src), b AS (SELECT * FROM a), c AS (SELECT * FROM b) "
				"SELECT * FROM c", "src"), "a CTE chain");
	CHECK(reads("WITH t AS (SELECT 1) SELECT * FROM t", ""), "a CTE shadows a table of the same name");
	CHECK(reads("SELECT * FROM (WITH t AS (SELECT 1 FROM x) SELECT * FROM t) q JOIN t ON 1=1", "t,x"),
		  "a CTE shadows only inside its WITH");
	CHECK(reads("WITH t AS (SELECT * FROM t) SELECT * FROM t", "t"),
		  "a non-recursive CTE's body reads the table of the same name");
	CHECK(reads("WITH a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a", "b"),
		  "a CTE is not visible in the CTEs before it");
	CHECK(reads("WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r WHERE n < 10) "
				"SELECT * FROM r", ""), "a recursive CTE reads itself");
	CHECK(reads("WITH RECURSIVE r (n) AS (SELECT 1 FROM seed UNION ALL SELECT n + 1 FROM r) SELECT * FROM r",
				"seed"), "a recursive CTE with column names");
	CHECK(reads("WITH c (x, y) AS (SELECT 1, 2 FROM base) SELECT * FROM c", "base"), "CTE column names");
	CHECK(reads("WITH c AS (SELECT 1 FROM a) SELECT * FROM c UNION ALL SELECT * FROM c JOIN b ON 1=1",
				"a,b"), "a CTE is visible across a set operation");
	CHECK(reads("WITH `My Cte` AS (SELECT 1 FROM a) SELECT * FROM `my cte`", "a"),
		  "CTE names compare without case");
	CHECK(reads("WITH x AS (SELECT 1 FROM a) SELECT * FROM s.x", "a,s.x"), "a qualified name is never a CTE");
	CHECK(reads("SELECT * FROM (SELECT * FROM (WITH q AS (SELECT 1 FROM a) SELECT * FROM q) i) o, q", "a,q"),
		  "a WITH in a nested subquery does not leak out");
	CHECK(reads("SELECT a, count(*) FROM t GROUP BY a WITH ROLLUP", "t"), "WITH ROLLUP is not a CTE");

	/* Set operations. */
	CHECK(reads("SELECT a FROM x UNION SELECT a FROM y UNION ALL SELECT a FROM z", "x,y,z"), "UNION");
	CHECK(reads("SELECT a FROM x INTERSECT SELECT a FROM y EXCEPT SELECT a FROM z MINUS SELECT a FROM w",
				"w,x,y,z"), "INTERSECT, EXCEPT, MINUS");
	CHECK(reads("(SELECT a FROM x) UNION ALL (SELECT a FROM y)", "x,y"), "parenthesized operands");

	/* Writes. */
	CHECK(lists("MERGE INTO tgt t USING src s ON t.id = s.id WHEN MATCHED THEN UPDATE SET * "
				"WHEN NOT MATCHED THEN INSERT *", "src", "tgt", "", ""), "MERGE INTO ... USING");
	CHECK(lists("MERGE INTO a.tgt USING (SELECT * FROM x JOIN y ON 1=1) s ON a.tgt.id = s.id "
				"WHEN MATCHED AND s.op = 'D' THEN DELETE WHEN MATCHED THEN UPDATE SET v = s.v "
				"WHEN NOT MATCHED THEN INSERT (id, v) VALUES (s.id, s.v) "
				"WHEN NOT MATCHED BY SOURCE THEN DELETE", "x,y", "a.tgt", "", ""),
		  "MERGE with a subquery source and several clauses");
	CHECK(lists("MERGE WITH SCHEMA EVOLUTION INTO t USING s ON t.k = s.k WHEN MATCHED THEN UPDATE SET *",
				"s", "t", "", ""), "MERGE WITH SCHEMA EVOLUTION");
	CHECK(lists("INSERT INTO t SELECT * FROM s", "s", "t", "", ""), "INSERT INTO ... SELECT");
	CHECK(lists("INSERT OVERWRITE TABLE db.t PARTITION (d = '2024-01-01') SELECT a FROM s WHERE d = '2024-01-01'",
				"s", "db.t", "", ""), "INSERT OVERWRITE TABLE ... PARTITION");
	CHECK(lists("INSERT INTO t (a, b) VALUES (1, 2), (3, 4)", "", "t", "", ""), "INSERT ... VALUES reads nothing");
	CHECK(lists("INSERT INTO t TABLE s", "s", "t", "", ""), "INSERT INTO ... TABLE s");
	CHECK(lists("INSERT INTO t REPLACE WHERE d >= '2024-01-01' SELECT * FROM s", "s", "t", "", ""),
		  "INSERT ... REPLACE WHERE");
	CHECK(lists("WITH c AS (SELECT * FROM s) INSERT INTO t SELECT * FROM c", "s", "t", "", ""),
		  "WITH before INSERT");
	CHECK(lists("INSERT INTO t WITH c AS (SELECT * FROM s) SELECT * FROM c", "s", "t", "", ""),
		  "WITH after INSERT INTO");
	CHECK(lists("FROM src INSERT INTO a SELECT x INSERT INTO b SELECT y", "src", "a,b", "", ""),
		  "a FROM-first multi-insert");
	CHECK(lists("INSERT OVERWRITE DIRECTORY '/tmp/x' USING parquet SELECT * FROM s", "s", "", "", ""),
		  "INSERT OVERWRITE DIRECTORY has no table target");
	CHECK(lists("CREATE OR REPLACE TABLE a.b AS SELECT * FROM c", "c", "a.b", "", ""), "CREATE TABLE AS");
	CHECK(lists("CREATE TABLE IF NOT EXISTS a.b (x INT, y STRING) USING delta", "", "a.b", "", ""),
		  "CREATE TABLE with columns: USING delta is a format");
	CHECK(lists("CREATE OR REPLACE TEMPORARY VIEW v AS SELECT * FROM t", "t", "v", "", ""), "CREATE VIEW");
	CHECK(lists("CREATE TABLE t SHALLOW CLONE s.src", "s.src", "t", "", ""), "CLONE reads its source");
	CHECK(lists("UPDATE t SET a = (SELECT max(b) FROM s) WHERE c = 1", "s", "t", "", ""), "UPDATE");
	CHECK(lists("DELETE FROM t WHERE x IN (SELECT y FROM s)", "s", "t", "", ""), "DELETE FROM");
	CHECK(lists("COPY INTO t FROM '/mnt/files' FILEFORMAT = CSV", "", "t", "", ""), "COPY INTO");
	CHECK(lists("INSERT INTO t SELECT * FROM t", "t", "t", "", ""), "a target may also be read");

	/* Other relation forms. */
	CHECK(reads("TABLE t", "t"), "TABLE t");
	CHECK(reads("SELECT * FROM a UNION ALL TABLE b", "a,b"), "TABLE t in a set operation");
	CHECK(reads("SELECT * FROM t LATERAL VIEW explode(arr) e AS x, y LATERAL VIEW OUTER posexplode(m) p AS i, v",
				"t"), "LATERAL VIEW: functions and column aliases are not tables");
	CHECK(reads("SELECT * FROM sales PIVOT (sum(amount) FOR quarter IN ('Q1' AS q1, 'Q2' AS q2)) p", "sales"),
		  "PIVOT");
	CHECK(reads("SELECT * FROM wide UNPIVOT (val FOR col IN (a, b, c)) u", "wide"), "UNPIVOT");
	CHECK(reads("SELECT * FROM t VERSION AS OF 3 JOIN u TIMESTAMP AS OF '2024-01-01' ON 1=1", "t,u"),
		  "time travel with VERSION and TIMESTAMP AS OF");
	CHECK(reads("SELECT * FROM t@v3, u@20240101000000000", "t,u"), "time travel with @");
	CHECK(reads("SELECT * FROM t FOR SYSTEM_TIME AS OF current_timestamp() - INTERVAL 1 DAY", "t"),
		  "FOR SYSTEM_TIME AS OF");
	CHECK(reads("SELECT * FROM VALUES (1, 'a'), (2, 'b') AS v(id, name)", ""), "VALUES in FROM is not a relation");
	CHECK(reads("SELECT * FROM (VALUES (1), (2)) AS v(x) JOIN t ON 1=1", "t"), "parenthesized VALUES");
	CHECK(reads("VALUES (1, 2), (3, 4)", ""), "a VALUES statement");
	CHECK(reads("SELECT * FROM range(10)", ""), "range() is a function, not a relation");
	CHECK(reads("SELECT * FROM read_files('s3://bucket/path', format => 'json')", ""), "read_files()");
	CHECK(reads("SELECT * FROM t, explode(t.arr) AS e(x)", "t"), "explode() after a comma");
	CHECK(reads("SELECT * FROM STREAM(live.events) JOIN STREAM live.users ON 1=1", "live.events,live.users"),
		  "Delta Live Tables STREAM");
	CHECK(lists("SELECT * FROM delta.`/mnt/data/events` JOIN parquet.`s3://b/p` ON 1=1", "", "", "",
				"delta.`/mnt/data/events`,parquet.`s3://b/p`"), "file-path relations are paths");
	CHECK(reads("SELECT * FROM delta.`events`", "delta.events"),
		  "a backticked name without a path is a table of schema delta");

	/* Templates. */
	CHECK(lists("SELECT * FROM {{ ref('orders') }} o JOIN {{ref(\"Customers\")}} c ON 1=1", "", "", "customers,orders", ""),
		  "{{ ref() }} in single and double quotes, lower-cased");
	CHECK(lists("SELECT * FROM {{ ref('analytics.orders') }} JOIN {{ ref('pkg', 'items') }} ON 1=1", "", "",
				"analytics.orders,items", ""), "a full-name ref and dbt's two-argument ref");
	CHECK(lists("SELECT * FROM {{- ref('a') -}}", "", "", "a", ""), "whitespace control markers");
	CHECK(lists("SELECT * FROM {{ source('raw', 'Orders') }}", "raw.orders", "", "", ""),
		  "{{ source('s', 't') }} is the reference s.t");
	CHECK(reads("SELECT * FROM {{ target_schema }}.orders JOIN ${db}.users ON 1=1 WHERE d >= '{{ start_date }}'",
				""), "names built from templates or variables are unknown");
	CHECK(reads("SELECT '{{ ref(\"x\") }}' AS s FROM t", "t"), "a ref inside a string is text");
	CHECK(lists("SELECT * FROM a {% if full %} JOIN b ON 1=1 {% endif %}", "a,b", "", "", ""),
		  "{% %} blocks between clauses");

	/* Normalization. */
	CHECK(reads("SELECT * FROM Sales.Orders", "sales.orders"), "unquoted parts are lower-cased");
	CHECK(reads("SELECT * FROM `Cat`.sch.`TBL`", "Cat.sch.TBL"), "backticked parts keep their case");
	CHECK(reads("SELECT * FROM `a``b`", "`a``b`"),
		  "a part with a backtick is kept quoted");
	CHECK(reads("SELECT * FROM `my.table`", "`my.table`"), "a part with a dot is kept quoted");
	CHECK(reads("SELECT * FROM b, a, B, `b`", "a,b"), "sorted and without duplicates");
	CHECK(reads("SELECT a AS b, f(x), 'FROM y' AS s, t.from, raw:from FROM t -- FROM z\n /* JOIN q */", "t"),
		  "columns, aliases, functions, strings and comments are not references");
	CHECK(reads("SELECT extract(year FROM ts), trim(BOTH ' ' FROM s), trim(FROM s), substring(s FROM 2 FOR 3), "
				"overlay(s PLACING 'x' FROM 2) FROM t", "t"), "FROM inside functions");
	CHECK(reads("SELECT * FROM t WHERE a IS DISTINCT FROM b OR a IS NOT DISTINCT FROM c", "t"),
		  "IS [NOT] DISTINCT FROM");
	CHECK(reads("SELECT * EXCEPT (a, b) FROM t", "t"), "SELECT * EXCEPT (columns)");
	CHECK(reads("FROM t SELECT a", "t"), "FROM-first queries");

	/* Real-world shapes. */
	CHECK(lists(
				"-- name: analytics.daily\n-- kind: INCREMENTAL_BY_TIME_RANGE\n-- time_column: d\n"
				"WITH events AS (\n"
				"  SELECT e.*, e.payload:user.id::string AS user_id, e.payload:items[0].sku AS sku\n"
				"  FROM raw.events e WHERE e.d BETWEEN '{{ start_date }}' AND '{{ end_date }}'\n"
				"), ranked AS (\n"
				"  SELECT *, row_number() OVER (PARTITION BY user_id ORDER BY ts DESC) AS rn,\n"
				"         sum(amount) OVER (PARTITION BY user_id ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running\n"
				"  FROM events QUALIFY rn = 1\n"
				"), enriched AS (\n"
				"  SELECT r.*, u.country, transform(r.tags, t -> upper(t)) AS utags,\n"
				"         filter(r.items, (x, i) -> x.qty > 0 AND i < 10) AS items,\n"
				"         aggregate(r.amounts, 0D, (acc, x) -> acc + x) AS total\n"
				"  FROM ranked r LEFT JOIN {{ ref('dim_users') }} u ON r.user_id = u.id\n"
				"  WHERE NOT EXISTS (SELECT 1 FROM ops.blocklist b WHERE b.user_id = r.user_id)\n"
				"), final AS (SELECT * FROM enriched)\n"
				"SELECT d, country, count(DISTINCT user_id) AS users, sum(total) AS revenue\n"
				"FROM final GROUP BY d, country", "ops.blocklist,raw.events", "", "dim_users", ""),
		  "a CTE chain with JSON paths, windows, QUALIFY and lambdas");
	CHECK(lists("-- name: a.b\n-- kind: MERGE_BY_KEY\n-- unique_key: id\n"
				"MERGE INTO analytics.customers AS t\n"
				"USING (\n  WITH latest AS (SELECT *, row_number() OVER (PARTITION BY id ORDER BY updated_at DESC) rn\n"
				"                 FROM staging.customer_changes)\n  SELECT * FROM latest WHERE rn = 1\n) AS s\n"
				"ON t.id = s.id\n"
				"WHEN MATCHED AND s.op = 'delete' THEN DELETE\n"
				"WHEN MATCHED AND s.updated_at > t.updated_at THEN UPDATE SET t.name = s.name, t.updated_at = s.updated_at\n"
				"WHEN NOT MATCHED AND s.op <> 'delete' THEN INSERT (id, name, updated_at) VALUES (s.id, s.name, s.updated_at)\n"
				"WHEN NOT MATCHED BY SOURCE AND t.active THEN UPDATE SET t.active = false",
				"staging.customer_changes", "analytics.customers", "", ""), "a MERGE model with several clauses");

	/* Statement kinds. */
	CHECK_STR(stmt("SELECT 1"), "SELECT", "SELECT");
	CHECK_STR(stmt("WITH a AS (SELECT 1) SELECT * FROM a"), "SELECT", "WITH ... SELECT");
	CHECK_STR(stmt("(SELECT 1) UNION (SELECT 2)"), "SELECT", "a parenthesized query");
	CHECK_STR(stmt("VALUES (1)"), "SELECT", "VALUES");
	CHECK_STR(stmt("TABLE t"), "SELECT", "TABLE t");
	CHECK_STR(stmt("FROM t SELECT a"), "SELECT", "FROM-first");
	CHECK_STR(stmt("{% set x = 1 %} SELECT 1"), "SELECT", "a leading {% %} block");
	CHECK_STR(stmt("INSERT OVERWRITE t SELECT 1"), "INSERT", "INSERT OVERWRITE");
	CHECK_STR(stmt("WITH a AS (SELECT 1) INSERT INTO t SELECT * FROM a"), "INSERT", "WITH ... INSERT");
	CHECK_STR(stmt("FROM s INSERT INTO t SELECT a"), "INSERT", "FROM-first INSERT");
	CHECK_STR(stmt("MERGE INTO t USING s ON 1=1 WHEN MATCHED THEN DELETE"), "MERGE", "MERGE");
	CHECK_STR(stmt("UPDATE t SET a = 1"), "UPDATE", "UPDATE");
	CHECK_STR(stmt("DELETE FROM t"), "DELETE", "DELETE");
	CHECK_STR(stmt("CREATE TABLE t (a INT)"), "CREATE_TABLE", "CREATE TABLE");
	CHECK_STR(stmt("CREATE OR REPLACE TABLE t AS SELECT 1"), "CREATE_TABLE_AS", "CREATE TABLE AS");
	CHECK_STR(stmt("CREATE TABLE t (a INT GENERATED ALWAYS AS (1)) USING delta"), "CREATE_TABLE",
			  "an AS inside the column list is not CREATE TABLE AS");
	CHECK_STR(stmt("REPLACE TABLE t AS SELECT 1"), "CREATE_TABLE_AS", "REPLACE TABLE AS");
	CHECK_STR(stmt("CREATE OR REFRESH STREAMING TABLE t AS SELECT * FROM STREAM(s)"), "CREATE_TABLE_AS",
			  "a streaming table");
	CHECK_STR(stmt("CREATE MATERIALIZED VIEW v AS SELECT 1"), "CREATE_VIEW", "CREATE MATERIALIZED VIEW");
	CHECK_STR(stmt("CREATE USER bob"), "CREATE_USER", "CREATE USER");
	CHECK_STR(stmt("CREATE ROLE admin"), "CREATE_ROLE", "CREATE ROLE");
	CHECK_STR(stmt("CREATE SCHEMA s"), "CREATE", "another CREATE");
	CHECK_STR(stmt("drop table t"), "DROP", "DROP");
	CHECK_STR(stmt("TRUNCATE TABLE t"), "TRUNCATE", "TRUNCATE");
	CHECK_STR(stmt("ALTER TABLE t ADD COLUMN c INT"), "ALTER", "ALTER");
	CHECK_STR(stmt("GRANT SELECT ON t TO u"), "GRANT", "GRANT");
	CHECK_STR(stmt("REVOKE SELECT ON t FROM u"), "REVOKE", "REVOKE");
	CHECK_STR(stmt("EXECUTE IMMEDIATE 'SELECT 1'"), "EXECUTE_IMMEDIATE", "EXECUTE IMMEDIATE");
	CHECK_STR(stmt("OPTIMIZE t ZORDER BY (a)"), "OTHER", "anything else is OTHER");
	CHECK_STR(stmt("-- nothing\n"), "none", "no statement");
	CHECK_STR(stmt(";; SELECT 1"), "SELECT", "empty statements are skipped");
	CHECK(lists("REVOKE SELECT ON t FROM someone; SELECT * FROM x", "x", "", "", ""),
		  "statements that read nothing are not walked");

	/* Depth. */
	len = 0;
	big = malloc(64 * 1000 + 100);
	for (i = 0; i < 900; i++)
		len += (size_t) sprintf(big + len, "(SELECT * FROM ");
	len += (size_t) sprintf(big + len, "innermost");
	for (i = 0; i < 900; i++)
		len += (size_t) sprintf(big + len, ")");
	memmove(big + 14, big, len + 1);
	memcpy(big, "SELECT * FROM ", 14);
	CHECK(reads(big, "innermost"), "900 nested subqueries");
	len = 0;
	for (i = 0; i < 300; i++)
		len += (size_t) sprintf(big + len, "WITH c%zu AS (", i);
	len += (size_t) sprintf(big + len, "SELECT * FROM base");
	for (i = 300; i-- > 0;)
		len += (size_t) sprintf(big + len, ") SELECT * FROM c%zu", i);
	CHECK(reads(big, "base"), "300 nested WITH clauses");
	free(big);
	big = malloc(2000 * 48 + 100);
	len = (size_t) sprintf(big, "WITH c0 AS (SELECT * FROM src)");
	for (i = 1; i < 2000; i++)
		len += (size_t) sprintf(big + len, ", c%zu AS (SELECT * FROM c%zu)", i, i - 1);
	sprintf(big + len, " SELECT * FROM c1999");
	CHECK(reads(big, "src"), "a chain of 2,000 CTEs");
	free(big);
	big = malloc(40 * 40 + 400);
	len = (size_t) sprintf(big, "SELECT * FROM t39");
	for (i = 39; i-- > 0;)
		len += (size_t) sprintf(big + len, " JOIN s.t%02zu ON 1=1", i);
	CHECK(lists(big, "s.t00,s.t01,s.t02,s.t03,s.t04,s.t05,s.t06,s.t07,s.t08,s.t09,s.t10,s.t11,s.t12,s.t13,"
				"s.t14,s.t15,s.t16,s.t17,s.t18,s.t19,s.t20,s.t21,s.t22,s.t23,s.t24,s.t25,s.t26,s.t27,s.t28,"
				"s.t29,s.t30,s.t31,s.t32,s.t33,s.t34,s.t35,s.t36,s.t37,s.t38,t39", "", "", ""),
		  "40 joined tables, sorted");
	free(big);
	{
		char		longname[301];
		char		sql[520];
		char		want[420];

		memset(longname, 'q', 300);
		longname[300] = '\0';
		snprintf(sql, sizeof(sql), "SELECT * FROM Sch.%s", longname);
		snprintf(want, sizeof(want), "sch.%s", longname);
		CHECK(reads(sql, want), "a 300-character name");
	}
	il_refs_free(&r);
	CHECK(il_refs_extract_sql("SELECT * FROM (t", 16, &r, &err) == IL_PARSE_ERR_SYNTAX,
		  "text that does not lex is an error");

	il_refs_free(&r);
	return unit_done();
}
