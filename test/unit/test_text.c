/*
 * Unit tests of il_text.c: UTF-8 validation, cutting at a character, user
 * text in messages.
 */
#include <stdint.h>

#include "il_text.h"
#include "unit.h"

/*
 * The length of the valid UTF-8 character at s[0..len) by the definition
 * (decode, then refuse overlong forms, surrogates and what is above
 * U+10FFFF), or 0: what il_utf8_char_len must agree with.
 */
static int
reference_len(const unsigned char *s, size_t len)
{
	int			n;
	uint32_t	cp;
	uint32_t	min;
	int			k;

	if ((s[0] & 0xe0) == 0xc0)
		n = 2, cp = s[0] & 0x1f, min = 0x80;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, cp = s[0] & 0x0f, min = 0x800;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, cp = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (len < (size_t) n)
		return 0;
	for (k = 1; k < n; k++)
	{
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static const char *
quote(char *out, size_t cap, const char *s)
{
	il_quote_text(out, cap, s, strlen(s));
	return out;
}

int
main(void)
{
	static const unsigned char tails[] = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xff};
	unsigned char s[4];
	unsigned	a,
				b,
				c,
				d;
	unsigned	bad = 0;
	unsigned	valid = 0;
	size_t		off = 0;
	size_t		shown;
	char		out[64];

	/* every lead and second byte, with third and fourth bytes of each kind */
	for (a = 0x80; a <= 0xff; a++)
		for (b = 0; b <= 0xff; b++)
			for (c = 0; c < sizeof(tails); c++)
				for (d = 0; d < sizeof(tails); d++)
				{
					size_t		len;

					s[0] = (unsigned char) a;
					s[1] = (unsigned char) b;
					s[2] = tails[c];
					s[3] = tails[d];
					for (len = 1; len <= 4; len++)
					{
						int			want = reference_len(s, len);

						valid += want != 0;
						/* valid: the character, and nothing else; invalid: the text */
						if (il_utf8_char_len(s, s + len) != want ||
							(want != 0 && !il_utf8_valid((const char *) s, (size_t) want, NULL)) ||
							(want == 0 && il_utf8_valid((const char *) s, len, NULL)))
							bad++;
					}
				}
	CHECK(bad == 0 && valid > 0, "il_utf8_char_len and il_utf8_valid agree with the definition of UTF-8");

	CHECK(il_utf8_valid("abc\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 12, NULL), "valid 1- to 4-byte sequences");
	CHECK(!il_utf8_valid("ab\xc0\xaf", 4, &off) && off == 2, "an overlong encoding is invalid, at its offset");
	CHECK(!il_utf8_valid("0123456789abcdef\xed\xa0\x80", 19, &off) && off == 16,
		  "an encoded surrogate is invalid, at its offset after a long ASCII run");
	CHECK(!il_utf8_valid("\xf4\x90\x80\x80", 4, NULL), "above U+10FFFF is invalid");
	CHECK(!il_utf8_valid("\xe2\x82", 2, NULL), "a truncated sequence is invalid");
	CHECK(!il_utf8_valid("\x80", 1, NULL), "a lone continuation byte is invalid");
	CHECK(!il_utf8_valid("\xff", 1, NULL), "0xff is invalid");
	CHECK(il_utf8_valid("a\0b", 3, NULL), "NUL is valid UTF-8 (callers decide whether to allow it)");

	CHECK(il_utf8_boundary("a\xe2\x82\xac", 3) == 1 && il_utf8_boundary("a\xe2\x82\xac", 1) == 1 &&
		  il_utf8_boundary("ab", 1) == 1, "a cut moves back to the start of the character it is in");
	CHECK(il_utf8_trim_partial("a\xe2\x82", 3) == 1 && il_utf8_trim_partial("a\xe2\x82\xac", 4) == 4 &&
		  il_utf8_trim_partial("ab", 2) == 2 && il_utf8_trim_partial("a\xf0\x9f\x98", 4) == 1,
		  "a character cut by the end is dropped, a whole one kept");

	CHECK(il_quote_char((const unsigned char *) "\xc3\xa9", 0, 2, &shown) == 2 && shown == 2,
		  "a character is shown as itself");
	CHECK(il_quote_char((const unsigned char *) "\x01", 0, 1, &shown) == 1 && shown == 4 &&
		  il_quote_char((const unsigned char *) "\xc3", 0, 1, &shown) == 1 && shown == 4,
		  "a control character or an invalid byte is shown as \\xNN");
	CHECK_STR(quote(out, sizeof(out), "t\xc3\xa9\x01\xff"), "t\xc3\xa9\\x01\\xff",
			  "user text: UTF-8 as is, control characters and invalid bytes as \\xNN");
	CHECK_STR(quote(out, 10, "ab\xe2\x82\xac\xe2\x82\xac"), "ab\xe2\x82\xac...",
			  "user text is cut at a whole character, with ...");
	il_quote_text(out, sizeof(out), NULL, 3);
	CHECK_STR(out, "", "no text is empty");
	return unit_done();
}
