/*
 * Unit tests of il_jsonw.c.
 */
#include "il_jsonw.h"
#include "unit.h"

static const char *
str(il_buf *b, const char *s, size_t len)
{
	il_buf_reset(b);
	il_jsonw_string(b, s, len);
	return il_buf_cstr(b);
}

int
main(void)
{
	il_buf		b = IL_BUF_INIT;

	CHECK_STR(str(&b, "abc", 3), "\"abc\"", "plain text is quoted");
	CHECK_STR(str(&b, "a\"b\\c", 5), "\"a\\\"b\\\\c\"", "quote and backslash are escaped");
	CHECK_STR(str(&b, "\b\t\n\f\r", 5), "\"\\b\\t\\n\\f\\r\"", "the five short escapes");
	CHECK_STR(str(&b, "\x01\x1f", 2), "\"\\u0001\\u001f\"", "other controls as lower-case \\u00xx");
	CHECK_STR(str(&b, "a\0b", 3), "\"a\\u0000b\"", "a NUL byte is escaped, not a terminator");
	CHECK_STR(str(&b, "/\x7f", 2), "\"/\x7f\"", "solidus and DEL stay as they are");
	CHECK_STR(str(&b, "\xe2\x82\xac", 3), "\"\xe2\x82\xac\"", "non-ASCII stays as UTF-8");
	CHECK_STR(str(&b, "", 0), "\"\"", "the empty string");
	il_buf_reset(&b);
	il_buf_putc(&b, '{');
	il_jsonw_key(&b, "a");
	il_jsonw_int(&b, -9007199254740991LL);
	il_buf_putc(&b, ',');
	il_jsonw_key(&b, "b");
	il_jsonw_bool(&b, true);
	il_buf_putc(&b, ',');
	il_jsonw_key(&b, "c");
	il_jsonw_cstring(&b, NULL);
	il_buf_putc(&b, '}');
	CHECK_STR(il_buf_cstr(&b), "{\"a\":-9007199254740991,\"b\":true,\"c\":null}", "keys, integers, booleans, null");
	il_buf_free(&b);
	return unit_done();
}
