/*
 * Unit tests of il_scrub.c: every rule, what each must leave alone,
 * UTF-8, truncation, idempotence and linear time.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "il_jsonw.h"
#include "il_scrub.h"
#include "unit.h"

static il_buf out = IL_BUF_INIT;

/* in scrubbed with flags. */
static const char *
scrub_n(const char *in, size_t len, unsigned flags)
{
	il_buf_reset(&out);
	il_scrub(in, len, flags, &out);
	return il_buf_cstr(&out);
}

/*
 * Does in scrub to want (with flags), and does want scrub to itself?
 */
static int
scrubs(const char *in, unsigned flags, const char *want)
{
	const char *got = scrub_n(in, strlen(in), flags);
	char	   *first;
	int			ok;

	if (strcmp(got, want) != 0)
	{
		printf("#   in   \"%s\"\n#   got  \"%s\"\n#   want \"%s\"\n", in, got, want);
		return 0;
	}
	first = strdup(got);
	got = scrub_n(first, strlen(first), flags);
	ok = strcmp(got, first) == 0;
	if (!ok)
		printf("#   not idempotent: \"%s\" -> \"%s\"\n", first, got);
	free(first);
	return ok;
}

/* Text that must come out unchanged. */
static int
kept(const char *in, unsigned flags)
{
	return scrubs(in, flags, in);
}

static void
test_email(void)
{
	CHECK(scrubs("mail john.doe+tag@example.co.uk now", 0, "mail [EMAIL] now"), "an email address");
	CHECK(scrubs("(a@b.io), <x_y@mail-host.example.com>; \"q@r.st\"", 0, "([EMAIL]), <[EMAIL]>; \"[EMAIL]\""),
		  "emails next to punctuation keep the punctuation");
	CHECK(scrubs("write to a@b.io.", 0, "write to [EMAIL]."), "a sentence's final dot is not part of the domain");
	CHECK(scrubs("mailto:a@b.io,c@d.org", 0, "mailto:[EMAIL],[EMAIL]"), "two emails joined by a comma");
	CHECK(scrubs("é a@b.io ü✓", 0, "é [EMAIL] ü✓"), "UTF-8 around an email");
	CHECK(scrubs("üa@b.io", 0, "ü[EMAIL]"), "a non-ASCII letter before the local part stays");
	CHECK(kept("a@b and a@b.c and @handle and a@.io and a@b.i0", 0),
		  "no dot, a one-letter or numeric top label, no local part: not emails");
	CHECK(scrubs("user@10.0.0.1", 0, "user@[IP]"), "an address at an IP is no email, its IP still goes");
}

static void
test_ip(void)
{
	CHECK(scrubs("from 10.0.0.1 and 192.168.001.255", 0, "from [IP] and [IP]"), "IPv4 addresses");
	CHECK(scrubs("host=10.0.0.1:5432 (172.16.0.9).", 0, "host=[IP]:5432 ([IP])."), "IPv4 with a port and punctuation");
	CHECK(kept("256.1.1.1 1.2.3.256 1.2.3 v1.2.3.4 1.2.3.4.5 1.2.3.4a 1234.1.1.1 x.1.2.3.4", 0),
		  "not IPv4: an octet over 255, three parts, version strings, five parts, glued letters");
	CHECK(scrubs("2001:0db8:85a3:0000:0000:8a2e:0370:7334 fe80::1 ::1 2001:db8::8a2e:370:7334", 0,
				 "[IP] [IP] [IP] [IP]"), "IPv6: full and compressed");
	CHECK(scrubs("::ffff:10.0.0.1 and [fe80::a:b:c]:80", 0, "[IP] and [[IP]]:80"),
		  "IPv6 with an IPv4 tail; in brackets with a port");
	CHECK(kept("at 12:30:45, x::date, a::b, 1:2:3:4:5:6:7, 1::2::3, 12345::1, 1::2x", 0),
		  "not IPv6: times, casts, too few groups, two ::, a long group, glued letters");
}

static void
test_numbers(void)
{
	CHECK(scrubs("card 4111 1111 1111 1111, 4111-1111-1111-1111.", 0, "card [NUMBER], [NUMBER]."),
		  "card numbers with spaces or hyphens");
	CHECK(scrubs("ssn 123-45-6789 or 123456789", 0, "ssn [NUMBER] or [NUMBER]"), "SSNs, with and without dashes");
	CHECK(scrubs("call 555-123-4567, (555) 123-4567, +1 555 123 4567", 0, "call [NUMBER], [NUMBER], +[NUMBER]"),
		  "phone numbers");
	CHECK(kept("12345678 order_123456789 abc123456789 123456789abc t1.123456789 1234  5678 9", 0),
		  "not numbers: eight digits, digits in identifiers, two spaces between groups");
	CHECK(kept("on 2024-01-31 12:30:45 and 2024-01-31T12:30:45.123456789Z, 3.14159265358979", 0),
		  "dates and timestamps stay");
	CHECK(scrubs("123 456 789 12x", 0, "[NUMBER] 12x"), "a number glued to a word ends at its last separator");
	CHECK(scrubs("€123456789€ ١٢٣", 0, "€[NUMBER]€ ١٢٣"), "UTF-8 around a number");
	CHECK(scrubs("id=123456789;", 0, "id=[NUMBER];"), "a number after '='");
}

static void
test_tokens(void)
{
	CHECK(scrubs("Authorization: Bearer abc.DEF-123_~+/= next", 0, "Authorization: Bearer [TOKEN] next"),
		  "a bearer token");
	CHECK(scrubs("bearer x and BEARER\t\tyz", 0, "bearer [TOKEN] and BEARER\t\t[TOKEN]"), "bearer in any case");
	CHECK(kept("Bearer, unbearer xyz, Bearer [TOKEN], bearerx y", 0), "not bearer tokens");
	CHECK(scrubs("pat dapi0123456789abcdef0123456789abcdef and DAPI0123456789ABCDEF0123456789ABCDEF-2.", 0,
				 "pat [TOKEN] and [TOKEN]."), "Databricks tokens");
	CHECK(scrubs("xdapi0123456789abcdef0123456789abcdef", 0, "[KEY]"), "dapi inside a word is only key material");
	CHECK(scrubs("jwt=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk!", 0,
				 "jwt=[TOKEN]!"), "a JWT");
	CHECK(scrubs("t eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0. end", 0, "t [TOKEN] end"), "an unsigned JWT");
	CHECK(kept("eyJhbG.x.y eyJhbGciOiJIUzI1NiJ9 eyJhbGciOiJIUzI1NiJ9.", 0), "not JWTs: too short, one part");
}

static void
test_secrets(void)
{
	CHECK(scrubs("password=hunter2 next", 0, "password=[SECRET] next"), "password=");
	CHECK(scrubs("PASSWORD: hunter2", 0, "PASSWORD: [SECRET]"), "any case, ':'");
	CHECK(scrubs("{\"password\": \"a b c\", \"user\": \"x\"}", 0, "{\"password\": \"[SECRET]\", \"user\": \"x\"}"),
		  "a JSON value in quotes keeps its quotes");
	CHECK(scrubs("{\"token\":\"a\\\"b\"}", 0, "{\"token\":\"[SECRET]\"}"), "an escaped quote inside the value");
	CHECK(scrubs("api_key = abc apikey:def access_key\t=\tghi secret=s token=t", 0,
				 "api_key = [SECRET] apikey:[SECRET] access_key\t=\t[SECRET] secret=[SECRET] token=[SECRET]"),
		  "every key, with spaces and tabs");
	CHECK(scrubs("DB_PASSWORD=x accessToken: y X-Auth-Token: z client_secret='w'", 0,
				 "DB_PASSWORD=[SECRET] accessToken: [SECRET] X-Auth-Token: [SECRET] client_secret='[SECRET]'"),
		  "names that end with a key");
	CHECK(kept("password, password is x, tokens=5, max_tokens: 100, token=\"\", password= ", 0),
		  "no value, or not a key");
	CHECK(scrubs("password = 'x y' AND a = 'b'", IL_SCRUB_SQL, "password = '?' AND a = '?'"),
		  "with IL_SCRUB_SQL a quoted value is a literal");
	CHECK(scrubs("url?user=a&token=abc123&x=1", 0, "url?user=a&token=[SECRET]"),
		  "an unquoted value runs to whitespace");
}

static void
test_keys(void)
{
	CHECK(scrubs("sha da39a3ee5e6b4b0d3255bfef95601890afd80709.", 0, "sha [KEY]."), "a SHA-1 in hex");
	CHECK(scrubs("k=dGhpcyBpcyBhIHNlY3JldCBrZXkgbWF0ZXJpYWw0MjQy==,", 0, "[KEY],"), "base64 material");
	CHECK(scrubs("run 550e8400-e29b-41d4-a716-446655440000", 0, "run [KEY]"), "a UUID");
	CHECK(kept("a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d abcdefghijklmnopqrstuvwxyzabcdefghijkl", 0),
		  "31 characters, or no digit: not key material");
	CHECK(scrubs("1234567890123456789012345678901234567890", 0, "[NUMBER]"), "forty digits are a number");
}

/*
 * Text where a rule's look-ahead meets what a later rule replaces: the
 * second scrub must agree with the first (found by fuzz_render).
 */
static void
test_idempotent(void)
{
	CHECK(scrubs("fe80::1pr2222222222222222222222222222222222222222222od", 0, "fe80::[KEY]"),
		  "an IPv6 run into a letter stays, the key after it goes");
	CHECK(scrubs("fe80::1:2g1g1g1g1g1g1g1g1g1g1g1g1g1g1g1g1g1g", 0, "[IP]:[KEY]"),
		  "an IPv6 address ends before a group that is not one");
	CHECK(scrubs("fe80::1.123456789", 0, "[IP].[NUMBER]"), "digits after a replaced address are no fraction");
	CHECK(scrubs("1.2.3.4.5a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6", 0, "1.2.3.4.[KEY]"),
		  "an IPv4 followed by '.' and a replaced key stays");
	CHECK(scrubs("a@b.io.x1x2x3x4x5x6x7x8x9x0x1x2x3x4x5x6x7x8", 0, "a@b.io.[KEY]"),
		  "an email whose last label is replaced stays");
	CHECK(scrubs("123 456 789 1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f", 0, "[NUMBER] [KEY]"),
		  "a number before a key ends at its separator");
	CHECK(scrubs("10.0.0.1[x] fe80::1[x]", 0, "10.0.0.1[x] fe80::1[x]"), "'[' right after an address spoils it");
	CHECK(scrubs("::0.0.0.1iiiiiiiiiiiiiiiiiiiiiiiiiiiiITH", 0, "::0.0.0.[KEY]"),
		  "an IPv6 address whose IPv4 tail runs into a key stays, cut by the key's replacement too");
	CHECK(scrubs("'::0.0.0.1iiiiiiiiiiiiiiiiiiiiiiiiiiiiITH'", 0, "'::0.0.0.[KEY]'"),
		  "the same in quotes, without IL_SCRUB_SQL");
	CHECK(scrubs("fe80::1:0.0.0.1xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx fe80::1.2.3.4a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6", 0,
				 "fe80::1:0.0.0.[KEY] fe80::1.2.3.[KEY]"),
		  "IPv4 tails after groups, run into keys");
	CHECK(scrubs("1:2:3:4:5:6:7:8:9 123 456 789", 0, "1:2:3:4:5:6:7:8:[NUMBER]"),
		  "nine groups stay when a number takes the ninth");
	CHECK(scrubs("1::2:3:4:5:6:7:8/da39a3ee5e6b4b0d3255bfef95601890afd80709", 0, "1::2:3:4:5:6:7:[KEY]"),
		  "eight groups with \"::\" stay when a key takes the eighth");
	CHECK(scrubs("1::1:1:1:1:1:1.1.1.1 1:2:3:4:5:6:7:8:a@b.io", 0, "1::1:1:1:1:1:[IP] 1:2:3:4:5:6:7:8:[EMAIL]"),
		  "an IPv4 tail or an email one group too many");
	CHECK(kept("fe80::1:[x] fe80::1.[x] ::ffff:1.2.[x]", 0), "'[' where a group or a tail's number begins spoils an address");
}

static void
test_sql(void)
{
	CHECK(scrubs("WHERE e = 'x@y.com' AND n = 'O''Brien' AND d > '2024-01-01'", IL_SCRUB_SQL,
				 "WHERE e = '?' AND n = '?' AND d > '?'"), "SQL literals become '?'");
	CHECK(scrubs("WHERE e = 'x@y.com' AND n = 'O''Brien'", 0, "WHERE e = '[EMAIL]' AND n = 'O''Brien'"),
		  "without IL_SCRUB_SQL the rules look inside quotes");
	CHECK(scrubs("SELECT 'a', x FROM t WHERE s = 'unterminated 123456789", IL_SCRUB_SQL,
				 "SELECT '?', x FROM t WHERE s = '?'"), "an unterminated literal runs to the end");
	CHECK(scrubs("SELECT '' , 'é', \"col\" FROM t -- 10.0.0.1", IL_SCRUB_SQL,
				 "SELECT '?' , '?', \"col\" FROM t -- [IP]"), "empty and UTF-8 literals; identifiers and comments stay");
	CHECK(kept("SELECT '?' FROM t", IL_SCRUB_SQL), "a scrubbed literal stays");
}

static void
test_utf8(void)
{
	const char *got;

	got = scrub_n("a\xff" "b\xc0\xaf" "c\xe2\x82", 8, 0);
	CHECK(strcmp(got, "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd") == 0,
		  "every invalid byte becomes U+FFFD (bad bytes, overlongs, a cut character)");
	got = scrub_n("\xed\xa0\x80 \xf4\x90\x80\x80", 9, 0);
	CHECK(il_utf8_valid(got, strlen(got), NULL) && strstr(got, "\xed\xa0") == NULL,
		  "surrogates and code points over U+10FFFF become U+FFFD");
	got = scrub_n("x\0y", 3, 0);
	CHECK(out.len == 3 && got[1] == '\0', "a NUL byte stays");
	CHECK(kept("日本語のテキスト ✓ 😀 Ωmega", 0), "valid UTF-8 is kept");
	il_buf_reset(&out);
	il_buf_puts(&out, "prefix:");
	il_scrub("a@b.io", 6, 0, &out);
	CHECK(strcmp(out.data, "prefix:[EMAIL]") == 0, "il_scrub appends");
	il_buf_reset(&out);
	il_scrub(NULL, 0, 0, &out);
	CHECK(out.len == 0, "no text");
}

static void
test_max(void)
{
	il_buf		b = IL_BUF_INIT;

	il_scrub_max("hello world", 11, 0, 11, &b);
	CHECK(strcmp(il_buf_cstr(&b), "hello world") == 0, "text that fits is not cut");
	il_buf_reset(&b);
	il_scrub_max("hello world, hello world", 24, 0, 20, &b);
	CHECK(strcmp(il_buf_cstr(&b), "hello ...[truncated]") == 0 && b.len == 20, "cut to max bytes with the marker");
	il_buf_reset(&b);
	il_scrub_max("ééééééééééé", 22, 0, 21, &b);
	CHECK(strcmp(il_buf_cstr(&b), "ééé...[truncated]") == 0, "cut at a whole character");
	il_buf_reset(&b);
	il_scrub_max("contact john.doe@example.com now", 32, 0, 22, &b);
	CHECK(strcmp(il_buf_cstr(&b), "contact [EMAIL] now") == 0, "the length counts after scrubbing");
	il_buf_reset(&b);
	il_scrub_max("x john.doe@example.com yyyyyyyyyyyy", 35, 0, 20, &b);
	CHECK(strcmp(il_buf_cstr(&b), "x [EMA...[truncated]") == 0, "a cut never shows what was replaced");
	il_buf_reset(&b);
	il_scrub_max("abcdefghijklmnopqrstuvwxyz", 26, 0, 3, &b);
	CHECK(strcmp(il_buf_cstr(&b), IL_SCRUB_TRUNCATED) == 0, "a max below the marker's length");
	il_buf_reset(&b);
	il_buf_puts(&b, "kept ");
	il_scrub_max("abcdefghijklmnopqrstuvwxyz", 26, 0, 16, &b);
	CHECK(strcmp(il_buf_cstr(&b), "kept ab...[truncated]") == 0, "max counts only the appended text");
	il_buf_free(&b);
}

/* Times scrubbing of about 1 MiB of repeated unit; true if under a second. */
static bool
fast(const char *unit, unsigned flags, double *secs)
{
	il_buf		big = IL_BUF_INIT;
	clock_t		t0;

	while (big.len < ((size_t) 1 << 20))
		il_buf_puts(&big, unit);
	t0 = clock();
	il_buf_reset(&out);
	il_scrub(big.data, big.len, flags, &out);
	*secs = (double) (clock() - t0) / CLOCKS_PER_SEC;
	il_buf_free(&big);
	return *secs < 1.0 && !out.oom;
}

static void
test_linear(void)
{
	static const struct
	{
		const char *unit;
		unsigned	flags;
	}			cases[] = {
		{"1 ", 0}, {"1-1-1-1-1-1-1-1-1-1x ", 0}, {"1 2 3 4 5 6 7 8 ", 0}, {"a.", 0},
		{"a", 0}, {"eyJaaaaaaaaaaa.", 0}, {"a:", 0}, {"1.", 0}, {"x@", 0},
		{"password", 0}, {"bearer ", 0}, {"'", IL_SCRUB_SQL}, {"dapi", 0}, {"a1", 0},
		{"(555) ", 0}, {"::", 0}, {"1:", 0}, {"é", 0}, {"\xff", 0},
	};
	size_t		i;
	double		worst = 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		double		secs;
		char		what[96];

		snprintf(what, sizeof(what), "1 MiB of \"%s\" in linear time", cases[i].unit[0] == '\xff' ? "\\xff" : cases[i].unit);
		CHECK(fast(cases[i].unit, cases[i].flags, &secs), what);
		if (secs > worst)
			worst = secs;
	}
	printf("# slowest 1 MiB scrub: %.3f s\n", worst);
}

int
main(void)
{
	test_email();
	test_ip();
	test_numbers();
	test_tokens();
	test_secrets();
	test_keys();
	test_idempotent();
	test_sql();
	test_utf8();
	test_max();
	test_linear();
	il_buf_free(&out);
	return unit_done();
}
