/*
 * Unit tests of il_header.c: the "-- key: value" header of model files.
 */
#include <string.h>

#include "il_header.h"
#include "unit.h"

static il_header h;
static il_error err;

/* Parses s; returns the status. */
static il_parse_status
parse(const char *s)
{
	il_header_free(&h);
	return il_header_parse(s, strlen(s), &h, &err);
}

/* Does s fail as a header problem with code at line? */
static int
fails(const char *s, const char *code, int line)
{
	il_parse_status st = parse(s);

	if (st != IL_PARSE_ERR_HEADER || err.code == NULL || strcmp(err.code, code) != 0 ||
		err.line != line || strcmp(il_error_sqlstate(&err), "22023") != 0)
	{
		printf("#   got status %d code %s line %d (%s)\n", (int) st,
			   err.code ? err.code : "(null)", err.line, err.message);
		return 0;
	}
	return err.message[0] >= 'a' && err.message[0] <= 'z' && h.name == NULL;
}

/* Is the list exactly the comma-separated items in want? */
static int
list_is(const il_strlist *l, const char *want)
{
	char		buf[512] = "";
	size_t		i;

	for (i = 0; i < l->n; i++)
	{
		if (i > 0)
			strcat(buf, ",");
		strcat(buf, l->items[i]);
	}
	if (strcmp(buf, want) != 0)
	{
		printf("#   got list \"%s\", want \"%s\"\n", buf, want);
		return 0;
	}
	return 1;
}

int
main(void)
{
	const char *full =
		"-- name: analytics.orders_daily\n"
		"-- kind: INCREMENTAL_BY_TIME_RANGE\n"
		"-- materialization: INSERT_OVERWRITE\n"
		"-- time_column: order_date\n"
		"-- partition_by: order_date\n"
		"-- owner:  data-team \n"
		"-- tags: sla, finance , sla,dashboard\n"
		"-- dependencies: Raw.Orders, staging.customers\n"
		"SELECT 1\n";

	CHECK(parse(full) == IL_PARSE_OK, "a full header parses");
	CHECK_STR(h.name, "analytics.orders_daily", "name");
	CHECK(h.kind == IL_KIND_INCREMENTAL_BY_TIME_RANGE, "kind");
	CHECK(h.materialization == IL_MAT_INSERT_OVERWRITE, "materialization");
	CHECK_STR(h.time_column, "order_date", "time_column");
	CHECK_STR(h.partition_by, "order_date", "partition_by");
	CHECK_STR(h.owner, "data-team", "owner is trimmed");
	CHECK(list_is(&h.tags, "dashboard,finance,sla"), "tags are split, trimmed, sorted and unique");
	CHECK(list_is(&h.dependencies, "raw.orders,staging.customers"),
		  "dependencies are lower-cased and sorted");
	CHECK(h.lines == 8, "the header is eight lines");
	CHECK_STR(il_model_kind_name(h.kind), "INCREMENTAL_BY_TIME_RANGE", "kind name");
	CHECK_STR(il_materialization_name(h.materialization), "INSERT_OVERWRITE", "materialization name");

	CHECK(parse("-- name: s.t\n-- kind: FULL_REFRESH\nselect 1") == IL_PARSE_OK &&
		  h.materialization == IL_MAT_TABLE && h.time_column == NULL && h.owner == NULL &&
		  h.partition_by == NULL && h.tags.n == 0 && h.dependencies.n == 0 && h.unique_key.n == 0,
		  "absent values: TABLE, NULL and empty lists");
	CHECK(parse("-- NAME: S.T\n--kind:append_only\n") == IL_PARSE_OK &&
		  h.kind == IL_KIND_APPEND_ONLY && strcmp(h.name, "s.t") == 0,
		  "keys and kind values in any case, no space needed");
	CHECK(parse("-- name: c.s.t\n-- Kind: Full_Refresh\n-- Materialization: view\n") == IL_PARSE_OK &&
		  h.kind == IL_KIND_FULL_REFRESH && h.materialization == IL_MAT_VIEW,
		  "three-part names, mixed-case values");
	CHECK(parse("\n\n   -- name: a.b\n--\n-- a plain comment\n\n-- kind: FULL_REFRESH\nselect 1") ==
		  IL_PARSE_OK && h.lines == 7, "blank lines, bare -- and plain comments stay in the header");
	CHECK(parse("-- note: this model is nice\n-- contract_mode: STRICT\n-- tests: not_null(id)\n"
				"-- name: a.b\n-- kind: FULL_REFRESH\n") == IL_PARSE_OK,
		  "other keys (prose, the original's contract keys) are ignored");
	CHECK(parse("-- name: a.b\r\n-- kind: FULL_REFRESH\r\n-- owner: me\r\nselect 1\r\n") == IL_PARSE_OK &&
		  strcmp(h.owner, "me") == 0, "CRLF line endings");
	CHECK(parse("\xef\xbb\xbf-- name: a.b\n-- kind: FULL_REFRESH\n") == IL_PARSE_OK,
		  "a byte order mark before the header");
	CHECK(parse("-- name: a.b\n-- kind: FULL_REFRESH\n-- owner: team:data\n") == IL_PARSE_OK &&
		  strcmp(h.owner, "team:data") == 0, "a value may contain a colon");
	CHECK(parse("-- name: a.b\n-- kind: FULL_REFRESH\n-- owner:\n-- tags: , ,\n") == IL_PARSE_OK &&
		  h.owner == NULL && h.tags.n == 0, "an empty owner is null, an empty tag list is empty");
	CHECK(parse("-- name: a.b\n-- kind: MERGE_BY_KEY\n-- unique_key: order_id , `Region`\n") ==
		  IL_PARSE_OK && list_is(&h.unique_key, "order_id,`Region`"),
		  "unique_key is a list in the order written");
	CHECK(parse("-- name: a.b\n-- kind: INCREMENTAL_BY_TIME_RANGE\n-- time_column: `Event Time`\n") ==
		  IL_PARSE_OK && strcmp(h.time_column, "`Event Time`") == 0, "a backticked time column");
	CHECK(parse("-- name: a.b\n-- kind: FULL_REFRESH\n-- dependencies: orders, S.T, c.s.t\n") ==
		  IL_PARSE_OK && list_is(&h.dependencies, "c.s.t,orders,s.t"),
		  "dependencies may be short names");
	CHECK(parse("-- name: a.b\nselect 1\n-- kind: FULL_REFRESH\n") == IL_PARSE_ERR_HEADER &&
		  strcmp(err.code, "missing_kind") == 0, "the first SQL line ends the header");
	CHECK(parse("-- name: a.b\n/* block */\n-- kind: FULL_REFRESH\n") == IL_PARSE_ERR_HEADER,
		  "a block comment ends the header too");

	/* Problems. */
	CHECK(fails("-- kind: FULL_REFRESH\nselect 1", "missing_name", 1), "missing name");
	CHECK(strstr(err.message, "-- name:") != NULL, "the message says what to add");
	CHECK(fails("-- name: a.b\nselect 1", "missing_kind", 1), "missing kind");
	CHECK(fails("", "missing_name", 1), "an empty file has no name");
	CHECK(fails("-- name: a.b\n-- kind: FULL\n", "invalid_kind", 2), "an invalid kind");
	CHECK(strstr(err.message, "'FULL'") && strstr(err.message, "MERGE_BY_KEY") && err.column == 10,
		  "the message quotes the value and lists the valid ones; the column is the value's");
	CHECK(fails("-- name: a.b\n-- kind: FULL_REFRESH\n-- materialization: EPHEMERAL\n",
				"invalid_materialization", 3), "an invalid materialization");
	CHECK(fails("-- name: a.b\n\n-- kind: INCREMENTAL_BY_TIME_RANGE\n", "missing_time_column", 3),
		  "INCREMENTAL_BY_TIME_RANGE needs time_column (reported on the kind's line)");
	CHECK(strstr(err.message, "-- time_column:") != NULL, "and says how to add it");
	CHECK(fails("-- kind: MERGE_BY_KEY\n-- name: a.b\n", "missing_unique_key", 1),
		  "MERGE_BY_KEY needs unique_key");
	CHECK(fails("-- name: a.b\n-- kind: MERGE_BY_KEY\n-- unique_key: ,\n", "empty_value", 3),
		  "a unique_key without columns");
	CHECK(fails("-- name: a.b\n-- kind: FULL_REFRESH\n-- kind: APPEND_ONLY\n", "duplicate_key", 3),
		  "a key given twice");
	CHECK(strstr(err.message, "line 2") != NULL, "the message names the first line");
	CHECK(fails("-- name: orders\n-- kind: FULL_REFRESH\n", "invalid_name", 1), "a one-part name");
	CHECK(fails("-- name: a.b.c.d\n-- kind: FULL_REFRESH\n", "invalid_name", 1), "a four-part name");
	CHECK(fails("-- name: my schema.t\n-- kind: FULL_REFRESH\n", "invalid_name", 1), "a name with a space");
	CHECK(fails("-- name: a..b\n-- kind: FULL_REFRESH\n", "invalid_name", 1), "a name with an empty part");
	CHECK(fails("-- name:\n-- kind: FULL_REFRESH\n", "empty_value", 1), "an empty name");
	CHECK(fails("-- name: a.b\n-- kind:   \n", "empty_value", 2), "an empty kind");
	CHECK(fails("-- name: a.b\n-- kind: INCREMENTAL_BY_TIME_RANGE\n-- time_column: a b\n",
				"invalid_column", 3), "a time column with a space");
	CHECK(fails("-- name: a.b\n-- kind: MERGE_BY_KEY\n-- unique_key: id, a-b\n", "invalid_column", 3),
		  "a unique key column with a dash");
	CHECK(fails("-- name: a.b\n-- kind: FULL_REFRESH\n-- dependencies: x, a..b\n",
				"invalid_dependency", 3), "an invalid dependency");
	CHECK(parse("-- name: a.b\n-- kind: FULL_REFRESH\n-- owner: \xff\n") == IL_PARSE_ERR_ENCODING &&
		  err.line == 3 && err.column == 11, "invalid UTF-8 in the header");
	CHECK(il_header_parse("-- name: a.b\0\n", 14, &h, &err) == IL_PARSE_ERR_ENCODING &&
		  strcmp(err.code, "nul_byte") == 0, "a NUL byte in the header");
	CHECK(parse("-- name: " "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij"
				"abcdefghijabcdefghij x\n") == IL_PARSE_ERR_HEADER && strlen(err.message) < 250,
		  "a long value is shortened in the message");

	/* Has the header a directive? (what the loader asks before parsing) */
#define HAS(s) il_header_has_directive((s), strlen(s))
	CHECK(HAS("-- name: a.b\nselect 1\n"), "a directive: yes");
	CHECK(HAS("\xef\xbb\xbf\n  \t\n  --  OWNER\t:  x"), "after a byte order mark and blank lines, any case, no newline: yes");
	CHECK(HAS("-- a comment\n-- note: prose\n--tags:"), "after comments, an empty value: yes");
	CHECK(!HAS("-- a comment\n-- note: prose\n-- owner\nselect 1\n"), "comments, other keys, a key without ':': no");
	CHECK(!HAS("select 1\n-- name: a.b\n"), "a directive after the first line of SQL: no");
	CHECK(!HAS("- name: a.b\n"), "one dash is no comment: no");
	CHECK(!HAS("-- owners: x\n-- nam: x\n") && !HAS("") && !il_header_has_directive(NULL, 0),
		  "a key that only starts or ends like one, nothing: no");
	CHECK(il_header_has_directive("-- name: a.b\0\xff", 14) && !HAS("\n\n\n"),
		  "the bytes are not checked; blank lines only: no");
#undef HAS

	/* Many items: the builder's heap paths and qsort. */
	{
		char		buf[8192];
		size_t		len;
		int			k;
		int			sorted = 1;
		size_t		j;

		len = (size_t) snprintf(buf, sizeof(buf), "-- name: a.b\n-- kind: FULL_REFRESH\n-- tags: ");
		for (k = 99; k >= 0; k--)
			len += (size_t) snprintf(buf + len, sizeof(buf) - len, "tag_with_a_longish_name_%02d, ", k % 60);
		snprintf(buf + len, sizeof(buf) - len, "\nselect 1\n");
		CHECK(parse(buf) == IL_PARSE_OK && h.tags.n == 60, "100 tags, 60 distinct, past the builder's inline room");
		for (j = 1; j < h.tags.n; j++)
			if (strcmp(h.tags.items[j - 1], h.tags.items[j]) >= 0)
				sorted = 0;
		CHECK(sorted && strcmp(h.tags.items[0], "tag_with_a_longish_name_00") == 0, "and they are sorted");
	}

	il_header_free(&h);
	return unit_done();
}
