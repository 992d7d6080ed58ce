/*
 * Unit tests of il_model.c: whole model files, their JSON, errors and
 * fingerprint.
 */
#include <stdlib.h>
#include <string.h>

#include "il_fingerprint.h"
#include "il_jsonw.h"
#include "il_model.h"
#include "unit.h"

static il_model m;
static il_error err;
static il_buf json = IL_BUF_INIT;

/* Parses s[0..len); returns the status and leaves the JSON in json. */
static il_parse_status
parsen(const char *s, size_t len)
{
	il_parse_status st;

	il_model_free(&m);
	il_buf_reset(&json);
	st = il_model_parse(s, len, &m, &err);
	if (st == IL_PARSE_OK)
		il_model_to_json(&m, &json);
	return st;
}

/* Parses s (NUL-terminated). */
static il_parse_status
parse(const char *s)
{
	return parsen(s, strlen(s));
}

/* The fingerprint of model s (or "" on error), copied into out. */
static const char *
fpr(const char *s, char *out)
{
	out[0] = '\0';
	if (parse(s) == IL_PARSE_OK)
		strcpy(out, m.fingerprint);
	return out;
}

int
main(void)
{
	const char *simple =
		"-- name: analytics.orders\n"
		"-- kind: FULL_REFRESH\n"
		"SELECT id FROM raw.orders\n";
	char		expect_fp[IL_SHA256_HEX_LEN + 1];
	char		a[IL_SHA256_HEX_LEN + 1];
	char		b2[IL_SHA256_HEX_LEN + 1];
	const char *p;
	il_buf		want = IL_BUF_INIT;
	il_buf		first = IL_BUF_INIT;
	char	   *big;

	/* The JSON object. */
	CHECK(parse(simple) == IL_PARSE_OK, "a simple model parses");
	il_sha256_hex("name=analytics.orders\nkind=FULL_REFRESH\nmaterialization=TABLE\ntime_column=\n"
				  "unique_key=\npartition_by=\n\nSELECT id FROM raw . orders",
				  strlen("name=analytics.orders\nkind=FULL_REFRESH\nmaterialization=TABLE\ntime_column=\n"
						 "unique_key=\npartition_by=\n\nSELECT id FROM raw . orders"), expect_fp);
	CHECK_STR(m.fingerprint, expect_fp, "the model fingerprint is SHA-256 of the header prefix and the tokens");
	il_buf_printf(&want,
				  "{\"dependencies\":[],\"fingerprint\":\"%s\",\"guard\":{\"ok\":true,\"violations\":[]},"
				  "\"kind\":\"FULL_REFRESH\",\"materialization\":\"TABLE\",\"name\":\"analytics.orders\","
				  "\"owner\":null,\"partition_by\":null,\"paths\":[],\"references\":[\"raw.orders\"],\"refs\":[],"
				  "\"statement\":\"SELECT\",\"tags\":[],\"targets\":[],\"time_column\":null,\"unique_key\":[]}",
				  expect_fp);
	CHECK_STR(il_buf_cstr(&json), il_buf_cstr(&want), "the canonical JSON: every key, sorted, nulls and []");

	CHECK(parse("-- name: Analytics.Events\n"
				"-- kind: incremental_by_time_range\n"
				"-- materialization: insert_overwrite\n"
				"-- time_column: event_date\n"
				"-- partition_by: event_date\n"
				"-- owner: data-platform\n"
				"-- tags: pii, daily\n"
				"-- dependencies: analytics.users\n"
				"INSERT OVERWRITE TABLE analytics.events\n"
				"SELECT e.*, u.country FROM {{ ref('raw_events') }} e\n"
				"JOIN analytics.users u ON e.user_id = u.id\n"
				"JOIN delta.`/mnt/lookup/geo` g ON g.ip = e.ip\n"
				"WHERE e.event_date BETWEEN '{{ start_date }}' AND '{{ end_date }}'\n") == IL_PARSE_OK,
		  "a full incremental model parses");
	p = il_buf_cstr(&json);
	CHECK(strstr(p, "\"dependencies\":[\"analytics.users\"]") && strstr(p, "\"kind\":\"INCREMENTAL_BY_TIME_RANGE\"") &&
		  strstr(p, "\"materialization\":\"INSERT_OVERWRITE\"") && strstr(p, "\"name\":\"analytics.events\"") &&
		  strstr(p, "\"owner\":\"data-platform\"") && strstr(p, "\"partition_by\":\"event_date\"") &&
		  strstr(p, "\"tags\":[\"daily\",\"pii\"]") && strstr(p, "\"time_column\":\"event_date\""),
		  "header values in the JSON");
	CHECK(strstr(p, "\"paths\":[\"delta.`/mnt/lookup/geo`\"]") && strstr(p, "\"references\":[\"analytics.users\"]") &&
		  strstr(p, "\"refs\":[\"raw_events\"]") && strstr(p, "\"statement\":\"INSERT\"") &&
		  strstr(p, "\"targets\":[\"analytics.events\"]"), "references, refs, paths, targets, statement");
	CHECK(strstr(p, "\"dependencies\"") < strstr(p, "\"fingerprint\"") &&
		  strstr(p, "\"fingerprint\"") < strstr(p, "\"guard\"") &&
		  strstr(p, "\"partition_by\"") < strstr(p, "\"paths\"") &&
		  strstr(p, "\"references\"") < strstr(p, "\"refs\"") &&
		  strstr(p, "\"tags\"") < strstr(p, "\"targets\"") &&
		  strstr(p, "\"targets\"") < strstr(p, "\"time_column\"") &&
		  strstr(p, "\"time_column\"") < strstr(p, "\"unique_key\""), "keys in RFC 8785 order");
	CHECK(il_utf8_valid(json.data, json.len, NULL), "the JSON is valid UTF-8");
	CHECK(strstr(p, ", ") == NULL && strstr(p, ": ") == NULL && p[json.len - 1] == '}',
		  "no whitespace between tokens, no trailing newline");

	CHECK(parse("-- name: a.merge_target\n-- kind: MERGE_BY_KEY\n-- materialization: MERGE\n-- unique_key: id, region\n"
				"MERGE INTO a.merge_target t USING (SELECT * FROM staging.changes) s\n"
				"ON t.id = s.id AND t.region = s.region\n"
				"WHEN MATCHED AND s.deleted THEN DELETE\n"
				"WHEN MATCHED THEN UPDATE SET *\n"
				"WHEN NOT MATCHED THEN INSERT *\n") == IL_PARSE_OK &&
		  strstr(il_buf_cstr(&json), "\"unique_key\":[\"id\",\"region\"]") &&
		  strstr(il_buf_cstr(&json), "\"statement\":\"MERGE\"") &&
		  strstr(il_buf_cstr(&json), "\"references\":[\"staging.changes\"]") &&
		  strstr(il_buf_cstr(&json), "\"guard\":{\"ok\":true,") && m.guard.ok,
		  "a merge model: unique_key list, MERGE, its source, guard ok");

	CHECK(parse("-- name: a.b\n-- kind: FULL_REFRESH\nSELECT 1;\nDROP TABLE a.b") == IL_PARSE_OK && !m.guard.ok &&
		  m.guard.n == 2 && strstr(il_buf_cstr(&json), "\"rule\":\"drop\"") &&
		  strstr(il_buf_cstr(&json), "\"line\":4"), "a dangerous model parses, with guard violations");
	CHECK(parse("-- name: a.b\n-- kind: FULL_REFRESH\n") == IL_PARSE_OK && m.refs.statement == IL_STMT_NONE &&
		  strstr(il_buf_cstr(&json), "\"statement\":null") && strstr(il_buf_cstr(&json), "\"rule\":\"no_statement\""),
		  "a model without SQL: statement null, guard no_statement");

	/* Errors and their statuses. */
	CHECK(parse("-- name: a.b\n-- kind: SOMETIMES\nSELECT 1") == IL_PARSE_ERR_HEADER && err.line == 2 &&
		  strcmp(il_error_sqlstate(&err), "22023") == 0, "a header problem: 22023, its line");
	CHECK(parse("-- kind: FULL_REFRESH\nSELECT 1") == IL_PARSE_ERR_HEADER && strcmp(err.code, "missing_name") == 0,
		  "a missing name");
	CHECK(parse("-- name: a.b\n-- kind: FULL_REFRESH\nSELECT 'oops\n") == IL_PARSE_ERR_SYNTAX &&
		  err.line == 3 && err.column == 8 && strcmp(il_error_sqlstate(&err), "42601") == 0,
		  "a lexing error: 42601 with line and column");
	CHECK(parse("-- name: a.b\n-- kind: FULL_REFRESH\nSELECT \xc3\x28") == IL_PARSE_ERR_ENCODING &&
		  err.line == 3 && err.column == 8 && strcmp(il_error_sqlstate(&err), "22021") == 0,
		  "invalid UTF-8: 22021 with line and column");
	CHECK(parsen("-- name: a.b\n-- kind: FULL_REFRESH\nSELECT 1\0", 44) == IL_PARSE_ERR_ENCODING &&
		  strcmp(err.code, "nul_byte") == 0 && strcmp(il_error_sqlstate(&err), "22021") == 0, "a NUL byte: 22021");
	CHECK(parse("-- name: a.b\n-- kind: BAD\nSELECT 'x") == IL_PARSE_ERR_SYNTAX,
		  "lexing errors come before header problems");
	big = malloc(100001);
	memset(big, '(', 100000);
	big[100000] = '\0';
	CHECK(parse(big) == IL_PARSE_ERR_LIMIT && strcmp(il_error_sqlstate(&err), "22023") == 0,
		  "100,000 open parentheses: a resource limit");
	free(big);
	CHECK(m.header.name == NULL && m.refs.references.n == 0 && m.guard.n == 0 && m.fingerprint[0] == '\0',
		  "after an error the model is empty");
	il_model_free(&m);
	il_model_free(&m);
	CHECK(m.header.name == NULL, "il_model_free twice is harmless");

	il_buf_reset(&want);
	err.line = 3;
	err.column = 7;
	strcpy(err.message, "unterminated string literal");
	il_model_error_text(&err, &want);
	CHECK_STR(il_buf_cstr(&want), "line 3, column 7: unterminated string literal", "error text with a position");
	il_buf_reset(&want);
	err.column = 0;
	il_model_error_text(&err, &want);
	CHECK_STR(il_buf_cstr(&want), "line 3: unterminated string literal", "error text with a line only");

	/* Determinism and the fingerprint. */
	parse(simple);
	il_buf_append(&first, json.data, json.len);
	parse(simple);
	CHECK(first.len == json.len && memcmp(first.data, json.data, json.len) == 0, "the same input gives the same bytes");
	fpr(simple, a);
	CHECK_STR(fpr("-- name: analytics.orders\n-- this model lists orders\n-- kind: FULL_REFRESH\n"
				  "-- owner: someone\n-- tags: x\n\nselect ID\n  from RAW.ORDERS;  -- all of them\n", b2), a,
			  "comments, owner, tags, case, whitespace and a trailing ';' keep the fingerprint");
	CHECK(strcmp(fpr("-- name: analytics.orders\n-- kind: FULL_REFRESH\n-- materialization: VIEW\n"
					 "SELECT id FROM raw.orders\n", b2), a) != 0, "a materialization change changes it");
	CHECK(strcmp(fpr("-- name: analytics.orders\n-- kind: APPEND_ONLY\nSELECT id FROM raw.orders\n", b2), a) != 0,
		  "a kind change changes it");
	CHECK(strcmp(fpr("-- name: analytics.orders\n-- kind: FULL_REFRESH\n-- partition_by: d\n"
					 "SELECT id FROM raw.orders\n", b2), a) != 0, "a partition_by change changes it");
	CHECK(strcmp(fpr("-- name: analytics.orders\n-- kind: FULL_REFRESH\nSELECT id FROM raw.orders WHERE id > 0\n", b2),
				 a) != 0, "a SQL change changes it");

	/* A header prefix longer than the room reserved for it. */
	{
		il_buf		src = IL_BUF_INIT;
		il_buf		pre = IL_BUF_INIT;
		char		hex[IL_SHA256_HEX_LEN + 1];
		int			k;

		il_buf_puts(&src, "-- name: a.b\n-- kind: FULL_REFRESH\n-- partition_by: ");
		for (k = 0; k < 70; k++)
			il_buf_puts(&src, "col_abcdef,");
		il_buf_puts(&src, "x\nSELECT 1\n");
		CHECK(parse(il_buf_cstr(&src)) == IL_PARSE_OK && strlen(m.header.partition_by) == 771,
			  "a 771-character partition_by");
		il_buf_printf(&pre, "name=a.b\nkind=FULL_REFRESH\nmaterialization=TABLE\ntime_column=\nunique_key=\n"
					  "partition_by=%s\n\nSELECT 1", m.header.partition_by);
		il_sha256_hex(pre.data, pre.len, hex);
		CHECK_STR(m.fingerprint, hex, "a long header prefix is hashed the same way");
		il_buf_free(&src);
		il_buf_free(&pre);
	}

	il_model_free(&m);
	il_buf_free(&json);
	il_buf_free(&want);
	il_buf_free(&first);
	return unit_done();
}
