/*
 * Unit tests of il_jcs.c: RFC 8785 canonicalization and the JSON parser.
 *
 * The RFC 8785 test data (cyberphone/json-canonicalization testdata) is read
 * from <vectors>/jcs/{input,output}/, where <vectors> is the first argument
 * or ../shared/vectors relative to the repository root (the directory the
 * tests run from). Missing vectors are a failure, not a skip.
 *
 * Expected number strings come from RFC 8785 (section 3.2.2.3 and appendix
 * B) and were checked against V8's Number.prototype.toString.
 */
#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "il_jcs.h"
#include "il_jsonw.h"
#include "unit.h"


/* Canonical text of s, or "ERR:<code>". */
static const char *
canon(il_buf *b, const char *s, size_t len)
{
	il_error	err;

	il_buf_reset(b);
	if (il_jcs_canonicalize(s, len, b, &err) != 0)
	{
		il_buf_reset(b);
		il_buf_printf(b, "ERR:%s", err.code);
	}
	return il_buf_cstr(b);
}

static const char *
canon_s(il_buf *b, const char *s)
{
	return canon(b, s, strlen(s));
}

/* The shared vectors: every input/X.json canonicalizes to output/X.json. */
static void
test_vectors(const char *root)
{
	char		dir[1024];
	char		path[2048];
	DIR		   *d;
	struct dirent *e;
	int			files = 0;
	int			good = 0;
	il_buf		b = IL_BUF_INIT;
	il_buf		again = IL_BUF_INIT;

	snprintf(dir, sizeof(dir), "%s/jcs/input", root);
	d = opendir(dir);
	if (!CHECK(d != NULL, "the RFC 8785 vectors directory jcs/input exists"))
	{
		printf("#   cannot open %s (give the vectors directory as the first argument)\n", dir);
		return;
	}
	while ((e = readdir(d)) != NULL)
	{
		size_t		nl = strlen(e->d_name);
		size_t		inlen;
		size_t		outlen;
		char	   *in;
		char	   *want;
		il_error	err;
		char		what[512];

		if (nl < 6 || strcmp(e->d_name + nl - 5, ".json") != 0)
			continue;
		files++;
		snprintf(path, sizeof(path), "%s/jcs/input/%s", root, e->d_name);
		in = unit_read_file(path, &inlen);
		snprintf(path, sizeof(path), "%s/jcs/output/%s", root, e->d_name);
		want = unit_read_file(path, &outlen);
		snprintf(what, sizeof(what), "vector %s canonicalizes byte for byte", e->d_name);
		il_buf_reset(&b);
		if (in == NULL || want == NULL)
			CHECK(0, what);
		else if (il_jcs_canonicalize(in, inlen, &b, &err) != 0)
		{
			CHECK(0, what);
			printf("#   error %s at %d:%d: %s\n", err.code, err.line, err.column, err.message);
		}
		else if (CHECK(b.len == outlen && memcmp(b.data, want, outlen) == 0, what))
		{
			good++;
			il_buf_reset(&again);
			snprintf(what, sizeof(what), "vector %s output is a fixed point", e->d_name);
			CHECK(il_jcs_canonicalize(want, outlen, &again, &err) == 0 &&
				  again.len == outlen && memcmp(again.data, want, outlen) == 0, what);
		}
		else
			printf("#   got  %s\n#   want %.*s\n", il_buf_cstr(&b), (int) outlen, want);
		free(in);
		free(want);
	}
	closedir(d);
	CHECK(files >= 6 && good == files, "all six or more RFC 8785 vector files present and passing");
	il_buf_free(&b);
	il_buf_free(&again);
}

/* Numbers as JSON text. */
static void
test_numbers(void)
{
	static const char *const cases[][2] = {
		/* RFC 8785 3.2.2.3 and the testdata values.json */
		{"333333333.33333329", "333333333.3333333"},
		{"1E30", "1e+30"},
		{"4.50", "4.5"},
		{"2e-3", "0.002"},
		{"0.000000000000000000000000001", "1e-27"},
		/* protocols.md 4.1 */
		{"1e20", "100000000000000000000"},
		{"1e21", "1e+21"},
		{"1e-6", "0.000001"},
		{"1e-7", "1e-7"},
		{"-0", "0"},
		{"-0.0", "0"},
		{"56.0", "56"},
		{"9007199254740993", "9007199254740992"},
		/* more, checked against V8 */
		{"0", "0"},
		{"0.1e1", "1"},
		{"100e-2", "1"},
		{"1E+2", "100"},
		{"1e-0", "1"},
		{"-1.5e-10", "-1.5e-10"},
		{"123e18", "123000000000000000000"},
		{"123e19", "1.23e+21"},
		{"8.41e21", "8.41e+21"},
		{"1e23", "1e+23"},
		{"0.0000001234", "1.234e-7"},
		{"0.30000000000000004", "0.30000000000000004"},
		{"123456789012345678901234567890", "1.2345678901234568e+29"},
		{"12345678901234567890123", "1.2345678901234568e+22"},
		{"2.2250738585072011e-308", "2.225073858507201e-308"},
		{"2.2250738585072012e-308", "2.2250738585072014e-308"},
		{"4.9406564584124654e-324", "5e-324"},
		{"2.4703282292062327e-324", "0"},
		{"2.4703282292062328e-324", "5e-324"},
		{"1e-324", "0"},
		{"1e-400", "0"},
		{"-1e-400", "0"},
		{"0e999999", "0"},
		{"0e99999999999999999999999", "0"},
		{"1e-99999999999999999999999", "0"},
		{"1.7976931348623157e308", "1.7976931348623157e+308"},
		{"1.7976931348623158e308", "1.7976931348623157e+308"},
		{"1.00000000000000011102230246251565404236316680908203125", "1"},
		{"1.00000000000000011102230246251565404236316680908203126", "1.0000000000000002"},
		{"1.00000000000000011102230246251565404236316680908203124", "1"},
		{"9007199254740993.0000000000000000000001", "9007199254740994"},
		{"-9007199254740993", "-9007199254740992"},
		{"0.000000000000000000000000000000000000000000000000001e51", "1"},
		{"1000000000000000000000000000000000000000e-40", "0.1"},
		/* out of range */
		{"1e309", "ERR:json_number_out_of_range"},
		{"-1e309", "ERR:json_number_out_of_range"},
		{"1.7976931348623159e308", "ERR:json_number_out_of_range"},
		{"1e99999999999999999999999", "ERR:json_number_out_of_range"},
	};
	il_buf		b = IL_BUF_INIT;
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char		what[200];

		snprintf(what, sizeof(what), "number %s -> %s", cases[i][0], cases[i][1]);
		CHECK_STR(canon_s(&b, cases[i][0]), cases[i][1], what);
	}
	il_buf_free(&b);
}

/* il_jcs_write_number on exact doubles: RFC 8785 appendix B. */
static void
test_doubles(void)
{
	static const struct
	{
		uint64_t	bits;
		const char *want;
	}			cases[] = {
		{0x0000000000000000, "0"},
		{0x8000000000000000, "0"},
		{0x0000000000000001, "5e-324"},
		{0x8000000000000001, "-5e-324"},
		{0x7fefffffffffffff, "1.7976931348623157e+308"},
		{0xffefffffffffffff, "-1.7976931348623157e+308"},
		{0x4340000000000000, "9007199254740992"},
		{0xc340000000000000, "-9007199254740992"},
		{0x4430000000000000, "295147905179352830000"},
		{0x44b52d02c7e14af5, "9.999999999999997e+22"},
		{0x44b52d02c7e14af6, "1e+23"},
		{0x44b52d02c7e14af7, "1.0000000000000001e+23"},
		{0x444b1ae4d6e2ef4e, "999999999999999700000"},
		{0x444b1ae4d6e2ef4f, "999999999999999900000"},
		{0x444b1ae4d6e2ef50, "1e+21"},
		{0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"},
		{0x3eb0c6f7a0b5ed8d, "0.000001"},
		{0x41b3de4355555553, "333333333.3333332"},
		{0x41b3de4355555554, "333333333.33333325"},
		{0x41b3de4355555555, "333333333.3333333"},
		{0x41b3de4355555556, "333333333.3333334"},
		{0x41b3de4355555557, "333333333.33333343"},
		{0xbecbf647612f3696, "-0.0000033333333333333333"},
		{0x43143ff3c1cb0959, "1424953923781206.2"},
		{0x0010000000000000, "2.2250738585072014e-308"},
		{0x000fffffffffffff, "2.225073858507201e-308"},
		/* powers of two where the nearest 16-digit decimal does not read back */
		{0x0060000000000000, "7.120236347223045e-307"},
		{0x0100000000000000, "7.291122019556398e-304"},
	};
	il_buf		b = IL_BUF_INIT;
	size_t		i;
	double		d;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char		what[200];

		memcpy(&d, &cases[i].bits, sizeof(d));
		il_buf_reset(&b);
		snprintf(what, sizeof(what), "double %016" PRIx64 " -> %s", cases[i].bits, cases[i].want);
		CHECK_STR(il_jcs_write_number(&b, d) == 0 ? il_buf_cstr(&b) : "ERR", cases[i].want, what);
	}
	il_buf_reset(&b);
	CHECK(il_jcs_write_number(&b, NAN) == -1 && b.len == 0, "NaN is refused, nothing written");
	CHECK(il_jcs_write_number(&b, INFINITY) == -1 && b.len == 0, "Infinity is refused");
	CHECK(il_jcs_write_number(&b, -INFINITY) == -1 && b.len == 0, "-Infinity is refused");
	il_buf_free(&b);
}

/* Structure, strings, sorting. */
static void
test_structure(void)
{
	il_buf		b = IL_BUF_INIT;

	CHECK_STR(canon_s(&b, " { \"b\" : [ 1 , 2 ] , \"a\" : { } } \n"), "{\"a\":{},\"b\":[1,2]}",
			  "whitespace removed, keys sorted");
	CHECK_STR(canon_s(&b, "\"x\""), "\"x\"", "a top-level string");
	CHECK_STR(canon_s(&b, "true"), "true", "a top-level literal");
	CHECK_STR(canon_s(&b, " null "), "null", "null with whitespace");
	CHECK_STR(canon_s(&b, "[]"), "[]", "empty array");
	CHECK_STR(canon_s(&b, "{}"), "{}", "empty object");
	CHECK_STR(canon_s(&b, "[[],{},[[]]]"), "[[],{},[[]]]", "nested empties");
	CHECK_STR(canon_s(&b, "[false,true,null]"), "[false,true,null]", "literals in an array");
	CHECK_STR(canon_s(&b, "{\"a\":{\"z\":1,\"y\":{\"c\":3,\"b\":2}},\"0\":[{\"k\":1,\"j\":0}]}"),
			  "{\"0\":[{\"j\":0,\"k\":1}],\"a\":{\"y\":{\"b\":2,\"c\":3},\"z\":1}}",
			  "members sorted at every level, arrays kept in order");
	CHECK_STR(canon_s(&b, "\"\\u0041\\/\\b\\f\\n\\r\\t\\\"\\\\\\u001F\\u007f\\u00e9\""),
			  "\"A/\\b\\f\\n\\r\\t\\\"\\\\\\u001f\x7f\xc3\xa9\"",
			  "escapes decoded and re-escaped minimally");
	CHECK_STR(canon_s(&b, "\"\\u2028\\u2029\""), "\"\xe2\x80\xa8\xe2\x80\xa9\"",
			  "U+2028 and U+2029 written raw");
	CHECK_STR(canon_s(&b, "\"\\ud83d\\ude02\""), "\"\xf0\x9f\x98\x82\"", "a surrogate pair becomes one code point");
	CHECK_STR(canon_s(&b, "\"\\uD83D\\uDE02\""), "\"\xf0\x9f\x98\x82\"", "upper-case hex escapes");
	CHECK_STR(canon_s(&b, "\"a\\u0000b\""), "\"a\\u0000b\"", "NUL inside a string survives");
	CHECK_STR(canon(&b, "{\"a\\u0000\":1,\"a\":2}", 19), "{\"a\":2,\"a\\u0000\":1}",
			  "a name with NUL sorts after its prefix");
	/* UTF-16 order: U+1F602 (D83D DE02) < U+FB33 < ... ; U+00E9 > 'z'. */
	CHECK_STR(canon_s(&b, "{\"\\ufb33\":1,\"\\ud83d\\ude02\":2,\"\\u00e9\":3,\"z\":4,\"\\uffff\":5,\"\\ue000\":6}"),
			  "{\"z\":4,\"\xc3\xa9\":3,\"\xf0\x9f\x98\x82\":2,\"\xee\x80\x80\":6,\"\xef\xac\xb3\":1,\"\xef\xbf\xbf\":5}",
			  "names sorted by UTF-16 code units, not code points");
	CHECK_STR(canon_s(&b, "{\"\xf4\x8f\xbf\xbf\":1,\"\xf0\x90\x80\x80\":2,\"\xf0\x90\x80\x81\":3}"),
			  "{\"\xf0\x90\x80\x80\":2,\"\xf0\x90\x80\x81\":3,\"\xf4\x8f\xbf\xbf\":1}",
			  "supplementary names sorted among themselves");
	CHECK_STR(canon_s(&b, "{\"b\":1,\"a\":2,\"ab\":3,\"\":4,\"B\":5}"),
			  "{\"\":4,\"B\":5,\"a\":2,\"ab\":3,\"b\":1}", "prefixes and case order");
	CHECK_STR(canon_s(&b, "\"A\xcc\x8a\""), "\"A\xcc\x8a\"", "no Unicode normalization");
	il_buf_free(&b);
}

/* Malformed inputs: each fails with its code, and out is untouched. */
static void
test_errors(void)
{
	static const struct
	{
		const char *in;
		size_t		len;		/* 0: strlen */
		const char *code;
	}			cases[] = {
		{"", 0, "json_syntax"},
		{"   ", 0, "json_syntax"},
		{"[", 0, "json_syntax"},
		{"[1", 0, "json_syntax"},
		{"[1,", 0, "json_syntax"},
		{"[1,]", 0, "json_syntax"},
		{"[,1]", 0, "json_syntax"},
		{"{", 0, "json_syntax"},
		{"{\"a\"", 0, "json_syntax"},
		{"{\"a\":", 0, "json_syntax"},
		{"{\"a\":1,}", 0, "json_syntax"},
		{"{\"a\" 1}", 0, "json_syntax"},
		{"{a:1}", 0, "json_syntax"},
		{"{'a':1}", 0, "json_syntax"},
		{"{1:1}", 0, "json_syntax"},
		{"[1 2]", 0, "json_syntax"},
		{"]", 0, "json_syntax"},
		{"}", 0, "json_syntax"},
		{"[}", 0, "json_syntax"},
		{"{]", 0, "json_syntax"},
		{"tru", 0, "json_syntax"},
		{"nul", 0, "json_syntax"},
		{"True", 0, "json_syntax"},
		{"NaN", 0, "json_syntax"},
		{"Infinity", 0, "json_syntax"},
		{"-Infinity", 0, "json_syntax"},
		{"+1", 0, "json_syntax"},
		{"01", 0, "json_syntax"},
		{"-01", 0, "json_syntax"},
		{"1.", 0, "json_syntax"},
		{".5", 0, "json_syntax"},
		{"1e", 0, "json_syntax"},
		{"1e+", 0, "json_syntax"},
		{"-", 0, "json_syntax"},
		{"0x10", 0, "json_trailing_data"},
		{"\"abc", 0, "json_syntax"},
		{"\"abc\\", 0, "json_syntax"},
		{"\"\\", 0, "json_syntax"},
		{"\xef\xbb\xbf{}", 0, "json_syntax"},
		{"/* c */ 1", 0, "json_syntax"},
		{"\xc3\xa9", 0, "json_syntax"},
		{"1 2", 0, "json_trailing_data"},
		{"{} {}", 0, "json_trailing_data"},
		{"[]x", 0, "json_trailing_data"},
		{"null\0", 5, "json_trailing_data"},
		{"truex", 0, "json_trailing_data"},
		{"\"a\tb\"", 0, "json_control_character"},
		{"\"a\nb\"", 0, "json_control_character"},
		{"\"a\0b\"", 5, "json_control_character"},
		{"\"\\x41\"", 0, "json_invalid_escape"},
		{"\"\\'\"", 0, "json_invalid_escape"},
		{"\"\\u12\"", 0, "json_invalid_escape"},
		{"\"\\u12g4\"", 0, "json_invalid_escape"},
		{"\"\\U0041\"", 0, "json_invalid_escape"},
		{"\"\\ud800\"", 0, "json_lone_surrogate"},
		{"\"\\udc00\"", 0, "json_lone_surrogate"},
		{"\"\\ud800\\u0041\"", 0, "json_lone_surrogate"},
		{"\"\\ud800\\ud800\"", 0, "json_lone_surrogate"},
		{"\"\\ude02\\ud83d\"", 0, "json_lone_surrogate"},
		{"\"\\ud800x\"", 0, "json_lone_surrogate"},
		{"\"\xff\"", 0, "json_invalid_utf8"},
		{"\"\x80\"", 0, "json_invalid_utf8"},
		{"\"\xc0\xaf\"", 0, "json_invalid_utf8"},
		{"\"\xed\xa0\x80\"", 0, "json_invalid_utf8"},
		{"\"\xf4\x90\x80\x80\"", 0, "json_invalid_utf8"},
		{"\"\xe2\x82\"", 0, "json_invalid_utf8"},
		{"{\"\xe2\x82\":1}", 0, "json_invalid_utf8"},
		{"{\"a\":1,\"a\":2}", 0, "json_duplicate_key"},
		{"{\"a\":1,\"\\u0061\":2}", 0, "json_duplicate_key"},
		{"{\"x\":{},\"y\":[{\"k\":1,\"j\":2,\"k\":3}]}", 0, "json_duplicate_key"},
		{"{\"\":1,\"\":1}", 0, "json_duplicate_key"},
	};
	il_buf		b = IL_BUF_INIT;
	size_t		i;
	il_error	err;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char		what[200];
		char		want[64];
		size_t		len = cases[i].len ? cases[i].len : strlen(cases[i].in);
		char		shown[64];
		size_t		k;
		size_t		n = 0;

		for (k = 0; k < len && n < sizeof(shown) - 5; k++)
		{
			unsigned char c = (unsigned char) cases[i].in[k];

			if (c >= 0x20 && c < 0x7f)
				shown[n++] = (char) c;
			else
				n += (size_t) snprintf(shown + n, sizeof(shown) - n, "\\x%02x", c);
		}
		shown[n] = '\0';
		snprintf(what, sizeof(what), "malformed %s fails with %s", shown, cases[i].code);
		snprintf(want, sizeof(want), "ERR:%s", cases[i].code);
		CHECK_STR(canon(&b, cases[i].in, len), want, what);
	}

	/* the error leaves out as it was and carries a position */
	il_buf_reset(&b);
	il_buf_puts(&b, "keep");
	CHECK(il_jcs_canonicalize("{\n  \"a\": 1,\n  \"a\": 2\n}", 22, &b, &err) == -1 &&
		  strcmp(il_buf_cstr(&b), "keep") == 0, "on error the output buffer is unchanged");
	CHECK(err.line == 3 && err.column == 3, "the duplicate key is reported at line 3, column 3");
	CHECK(strstr(err.message, "\"a\"") != NULL, "the message names the duplicate key");
	CHECK(il_jcs_canonicalize("[1,\n 2,\n 03]", 12, &b, &err) == -1 &&
		  strcmp(err.code, "json_syntax") == 0 && err.line == 3 && err.column == 2,
		  "a leading zero is reported at its line and column");
	CHECK(il_jcs_canonicalize("[1] [", 5, &b, &err) == -1 && err.line == 1 && err.column == 5,
		  "trailing data is reported where it starts");
	il_buf_reset(&b);
	il_buf_puts(&b, "x");
	CHECK(il_jcs_canonicalize("[2]", 3, &b, &err) == 0 && strcmp(il_buf_cstr(&b), "x[2]") == 0,
		  "success appends to the output buffer");
	il_buf_free(&b);
}

/* Depth bound: 1000 levels are fine, 1001 and far deeper fail cleanly. */
static void
test_depth(void)
{
	size_t		deep = 200000;
	char	   *s = malloc(2 * deep + 1);
	il_buf		b = IL_BUF_INIT;
	il_buf		nest = IL_BUF_INIT;
	il_error	err;
	size_t		i;

	if (!CHECK(s != NULL, "memory for the depth tests"))
		return;
	for (i = 0; i < IL_JCS_MAX_DEPTH; i++)
	{
		s[i] = '[';
		s[IL_JCS_MAX_DEPTH + i] = ']';
	}
	CHECK(il_jcs_canonicalize(s, 2 * IL_JCS_MAX_DEPTH, &b, &err) == 0 &&
		  b.len == 2 * IL_JCS_MAX_DEPTH && memcmp(b.data, s, b.len) == 0,
		  "arrays nested 1000 deep are accepted");
	for (i = 0; i < IL_JCS_MAX_DEPTH + 1; i++)
	{
		s[i] = '[';
		s[IL_JCS_MAX_DEPTH + 1 + i] = ']';
	}
	CHECK(il_jcs_canonicalize(s, 2 * (IL_JCS_MAX_DEPTH + 1), &b, &err) == -1 &&
		  strcmp(err.code, "json_too_deep") == 0 && err.column == IL_JCS_MAX_DEPTH + 1,
		  "arrays nested 1001 deep fail with json_too_deep at the 1001st bracket");
	/* {"":{"":{"":... */
	for (i = 0; i < deep / 5; i++)
		il_buf_puts(&nest, "{\"\":");
	CHECK(il_jcs_canonicalize(nest.data, nest.len, &b, &err) == -1 &&
		  strcmp(err.code, "json_too_deep") == 0, "objects nested 40000 deep fail without recursion");
	memset(s, '[', deep);
	CHECK(il_jcs_canonicalize(s, deep, &b, &err) == -1 && strcmp(err.code, "json_too_deep") == 0,
		  "200000 open brackets fail with json_too_deep");
	free(s);
	il_buf_free(&b);
	il_buf_free(&nest);
}

/* The tree API. */
static void
test_tree(void)
{
	const char *text = "{\"name\":\"x\\u00e9\",\"list\":[1,2.5,\"s\",null,true,false,{}],\"n\":-0}";
	il_error	err;
	il_jcs_doc *doc = il_jcs_parse(text, strlen(text), &err);
	const il_jcs_value *root;
	const il_jcs_value *list;
	const il_jcs_value *v;
	size_t		len = 0;
	il_buf		b = IL_BUF_INIT;
	int			n = 0;

	if (!CHECK(doc != NULL, "a document parses"))
		return;
	root = il_jcs_root(doc);
	CHECK(il_jcs_kind_of(root) == IL_JCS_OBJECT && il_jcs_count(root) == 3, "root is an object of 3 members");
	CHECK_STR(il_jcs_name(il_jcs_first(root), NULL), "list", "members are in canonical order");
	CHECK_STR(il_jcs_string(il_jcs_get(root, "name"), &len), "x\xc3\xa9", "a string member, unescaped");
	CHECK(len == 3, "its length in bytes");
	CHECK(il_jcs_get(root, "nope") == NULL, "a missing member is NULL");
	list = il_jcs_get(root, "list");
	CHECK(list != NULL && il_jcs_kind_of(list) == IL_JCS_ARRAY && il_jcs_count(list) == 7, "an array member");
	CHECK(il_jcs_number(il_jcs_at(list, 1)) == 2.5, "a number element");
	CHECK(il_jcs_kind_of(il_jcs_at(list, 3)) == IL_JCS_NULL &&
		  il_jcs_kind_of(il_jcs_at(list, 4)) == IL_JCS_TRUE &&
		  il_jcs_kind_of(il_jcs_at(list, 5)) == IL_JCS_FALSE, "literal elements");
	CHECK(il_jcs_at(list, 7) == NULL && il_jcs_at(root, 0) == NULL, "out of range and non-array at() give NULL");
	CHECK(il_jcs_string(il_jcs_at(list, 0), NULL) == NULL, "string() of a number is NULL");
	for (v = il_jcs_first(list); v != NULL; v = il_jcs_next(v))
		n++;
	CHECK(n == 7, "first/next walk all elements");
	CHECK(il_jcs_number(il_jcs_get(root, "n")) == 0 && !signbit(il_jcs_number(il_jcs_get(root, "n"))),
		  "-0 is held as 0");
	il_jcs_write(&b, list);
	CHECK_STR(il_buf_cstr(&b), "[1,2.5,\"s\",null,true,false,{}]", "a subtree is written canonically");
	il_buf_reset(&b);
	il_jcs_write(&b, il_jcs_at(list, 2));
	CHECK_STR(il_buf_cstr(&b), "\"s\"", "a scalar member is written without its name");
	il_jcs_free(doc);
	il_jcs_free(NULL);
	CHECK(il_jcs_parse("[1,", 3, &err) == NULL && strcmp(err.code, "json_syntax") == 0,
		  "a parse error gives NULL and the code");
	il_buf_free(&b);
}

int
main(int argc, char **argv)
{
	test_vectors(argc > 1 ? argv[1] : "../shared/vectors");
	test_numbers();
	test_doubles();
	test_structure();
	test_errors();
	test_depth();
	test_tree();
	return unit_done();
}
