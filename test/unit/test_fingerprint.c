/*
 * Unit tests of il_fingerprint.c: cosmetic changes keep the fingerprint,
 * changes of meaning change it.
 */
#include <string.h>

#include "il_fingerprint.h"
#include "unit.h"

static il_error err;

/* The fingerprint of s (or "error"). */
static const char *
fp(const char *s, char *hex)
{
	if (il_fingerprint(s, strlen(s), hex, &err) != IL_PARSE_OK)
		strcpy(hex, "error");
	return hex;
}

/* Do a and b have the same fingerprint? */
static int
same(const char *a, const char *b)
{
	char		x[IL_SHA256_HEX_LEN + 1];
	char		y[IL_SHA256_HEX_LEN + 1];

	fp(a, x);
	fp(b, y);
	return strcmp(x, "error") != 0 && strcmp(x, y) == 0;
}

/* Do a and b both fingerprint, differently? */
static int
differ(const char *a, const char *b)
{
	char		x[IL_SHA256_HEX_LEN + 1];
	char		y[IL_SHA256_HEX_LEN + 1];

	fp(a, x);
	fp(b, y);
	return strcmp(x, "error") != 0 && strcmp(y, "error") != 0 && strcmp(x, y) != 0;
}

/* The normalized text of s. */
static const char *
norm(const char *s, il_buf *b)
{
	il_tokens	t = IL_TOKENS_INIT;

	il_buf_reset(b);
	if (il_lex(s, strlen(s), 0, &t, &err) == IL_PARSE_OK)
		il_fingerprint_text(s, &t, b);
	il_tokens_free(&t);
	return il_buf_cstr(b);
}

int
main(void)
{
	char		hex[IL_SHA256_HEX_LEN + 1];
	char		want[IL_SHA256_HEX_LEN + 1];
	il_buf		b = IL_BUF_INIT;
	const char *model =
		"WITH base AS (SELECT id, amount FROM raw.orders WHERE d >= '{{ start_date }}')\n"
		"SELECT id, sum(amount) AS total FROM base GROUP BY id";
	size_t		i;
	int			hexok = 1;

	/* Definition. */
	fp("SELECT 1", hex);
	il_sha256_hex("SELECT 1", 8, want);
	CHECK_STR(hex, want, "the fingerprint is SHA-256 of the normalized text");
	for (i = 0; i < IL_SHA256_HEX_LEN; i++)
		if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
			hexok = 0;
	CHECK(strlen(hex) == 64 && hexok, "64 lower-case hex characters");
	fp("  -- nothing\n", hex);
	il_sha256_hex("", 0, want);
	CHECK_STR(hex, want, "text without tokens hashes the empty string");
	CHECK_STR(norm("select  A,B as Bee\nfrom Sch.Tbl -- c\nwhere x=1;", &b),
			  "SELECT a , b AS bee FROM sch . tbl WHERE x = 1", "normalized text of the original's example");
	CHECK_STR(norm("SELECT `MixedCase`, 'Text', \"Dq\", 1l, 2.5d, 1e3, r'x', X'0a', ${Var} FROM t", &b),
			  "SELECT `MixedCase` , 'Text' , \"Dq\" , 1L , 2.5D , 1E3 , r'x' , X'0a' , ${Var} FROM t",
			  "quoted things stay as written; numbers and prefixes are normalized");
	CHECK_STR(norm("SELECT * FROM {{   ref( 'a' )   }} WHERE d = {{-start_date -}}", &b),
			  "SELECT * FROM {{ref( 'a' )}} WHERE d = {{-start_date-}}", "template whitespace is normalized");
	CHECK_STR(norm("{% if  x  %}{{ f('a  b') }}", &b), "{%if x%} {{f('a  b')}}",
			  "whitespace inside template strings is kept");
	CHECK_STR(norm("SELECT 1;;", &b), "SELECT 1 ;", "only one trailing ';' is dropped");
	CHECK_STR(norm("SeLeCt A_Very_Long_Identifier_Name_ÄÖ, `KeepMe`, QUALIFY_Not_A_Keyword FrOm Tbl_With_Long_Name", &b),
			  "SELECT a_very_long_identifier_name_ÄÖ , `KeepMe` , qualify_not_a_keyword FROM tbl_with_long_name",
			  "long words are folded in full; non-ASCII letters are kept");
	CHECK_STR(norm("x", &b), "x", "a one-byte text");

	/* Cosmetic changes. */
	CHECK(same(model, "with base as (select id, amount from raw.orders where d >= '{{ start_date }}') "
			   "select id, sum(amount) as total from base group by id"), "keyword case and layout");
	CHECK(same(model, "-- a header comment\n/* block */ WITH base AS (SELECT id, amount -- the amount\n"
			   "FROM raw.orders WHERE d >= '{{ start_date }}') SELECT id, sum(amount) AS total FROM base "
			   "GROUP BY id -- end"), "comments");
	CHECK(same(model, "WITH\tbase\tAS\n(\nSELECT\nid\n,\namount\nFROM\nraw\n.\norders\nWHERE\nd\n>=\n"
			   "'{{ start_date }}'\n)\nSELECT id,sum(amount)AS total FROM base GROUP BY id\n\n"),
		  "whitespace anywhere between tokens");
	CHECK(same("SELECT 1", "SELECT 1;"), "a trailing ';'");
	CHECK(same("SELECT 1", "SELECT 1 ; -- done"), "a trailing ';' before a comment");
	CHECK(same("SELECT A FROM T", "select a from t"), "unquoted identifier case");
	CHECK(same("SELECT * FROM {{ref('x')}}", "SELECT * FROM {{  ref('x')  }}"), "template spacing");
	CHECK(same("SELECT 1L", "select 1l"), "number suffix case");
	CHECK(same("SELECT a FROM t", "SELECT a FROM t {# a template comment #}"), "template comments");

	/* Changes of meaning. */
	CHECK(differ("SELECT 1", "SELECT 2"), "a number");
	CHECK(differ("SELECT a FROM t", "SELECT b FROM t"), "a column");
	CHECK(differ("SELECT a, b FROM t", "SELECT b, a FROM t"), "column order");
	CHECK(differ("SELECT * FROM t WHERE x = 1", "SELECT * FROM t WHERE x <> 1"), "an operator");
	CHECK(differ("SELECT 'abc'", "SELECT 'ABC'"), "string case");
	CHECK(differ("SELECT 'a b'", "SELECT 'a  b'"), "whitespace inside a string");
	CHECK(differ("SELECT `Col`", "SELECT `col`"), "a backticked identifier's case");
	CHECK(differ("SELECT a b", "SELECT ab"), "joining two words");
	CHECK(differ("SELECT * FROM {{ ref('a') }}", "SELECT * FROM {{ ref('b') }}"), "a ref");
	CHECK(differ("SELECT 1", "SELECT 1;;"), "a second ';' is not cosmetic");
	CHECK(differ("SELECT a FROM t", "SELECT a FROM t WHERE true"), "a clause added");
	CHECK(differ("SELECT * FROM a JOIN b", "SELECT * FROM a LEFT JOIN b"), "a join kind");
	CHECK(differ("SELECT x::int", "SELECT x::bigint"), "a cast type");
	CHECK(differ("SELECT \"a\"", "SELECT 'a'"), "the quote character");

	/*
	 * Hashed a piece at a time: the same digest as the normalized text in
	 * one, for texts of many pieces and tokens longer than a piece (16 kB)
	 * of every kind.
	 */
	{
		static const char *const kinds[] = {
			"SELECT %s FROM t", "SELECT 'x%s' FROM t", "SELECT r'x%s', X'0%s'",
			"SELECT `x%s`", "SELECT {{  ref('a%s')   }} , {%% x %s %%}", "SELECT 1e5%s",
			"SELECT a, b %s;", NULL
		};
		il_buf		text = IL_BUF_INIT;
		il_buf		filler = IL_BUF_INIT;
		size_t		k;
		int			ok = 1;

		for (k = 0; kinds[k] != NULL; k++)
		{
			size_t		sizes[] = {10, 16370, 16384, 40000};
			size_t		z;

			for (z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++)
			{
				char		streamed[IL_SHA256_HEX_LEN + 1];
				char		whole[IL_SHA256_HEX_LEN + 1];

				il_buf_reset(&filler);
				for (i = 0; i < sizes[z]; i++)
					il_buf_putc(&filler, "aBc ,1"[k == 0 || k == 5 ? i % 3 : i % 6]);
				il_buf_reset(&text);
				il_buf_printf(&text, kinds[k], il_buf_cstr(&filler), il_buf_cstr(&filler));
				fp(il_buf_cstr(&text), streamed);
				norm(il_buf_cstr(&text), &b);
				if (il_sha256_hex(b.data ? b.data : "", b.len, whole) != 0 ||
					strcmp(streamed, "error") == 0 || strcmp(streamed, whole) != 0)
					ok = 0;
			}
		}
		CHECK(ok, "hashed in pieces of 16 kB, long words, strings, raw and hex strings, backticks, templates and "
			  "numbers give the digest of the whole text");
		il_buf_free(&text);
		il_buf_free(&filler);
	}

	/* Errors. */
	CHECK_STR(fp("SELECT 'x", hex), "error", "text that does not lex has no fingerprint");
	CHECK(strcmp(err.code, "unterminated_string") == 0, "and reports the lexer's error");

	il_buf_free(&b);
	return unit_done();
}
