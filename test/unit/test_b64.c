/*
 * Unit tests of il_b64.c: RFC 4648 section 10 test vectors in the three
 * variants, and strict decoding.
 */
#include <stdlib.h>
#include <string.h>

#include "il_b64.h"
#include "unit.h"

static const char *
enc(il_buf *b, const char *s, size_t len, il_b64_variant v)
{
	il_buf_reset(b);
	il_b64_encode(b, (const uint8_t *) s, len, v);
	return il_buf_cstr(b);
}

/* s with control characters written as \xNN, for test names. */
static const char *
shown(char *out, size_t size, const char *s)
{
	size_t		n = 0;

	for (; *s != '\0' && n + 5 < size; s++)
	{
		unsigned char c = (unsigned char) *s;

		if (c >= 0x20 && c < 0x7f)
			out[n++] = (char) c;
		else
			n += (size_t) snprintf(out + n, size - n, "\\x%02x", c);
	}
	out[n] = '\0';
	return out;
}

/* Decoded text, or "ERR:<code>". */
static const char *
dec(il_buf *b, const char *s, il_b64_variant v)
{
	il_error	err;

	il_buf_reset(b);
	if (il_b64_decode(s, strlen(s), v, b, &err) != 0)
	{
		il_buf_reset(b);
		il_buf_printf(b, "ERR:%s", err.code);
	}
	return il_buf_cstr(b);
}

int
main(void)
{
	static const char *const rfc[][3] = {
		/* RFC 4648 section 10: input, padded, unpadded */
		{"", "", ""},
		{"f", "Zg==", "Zg"},
		{"fo", "Zm8=", "Zm8"},
		{"foo", "Zm9v", "Zm9v"},
		{"foob", "Zm9vYg==", "Zm9vYg"},
		{"fooba", "Zm9vYmE=", "Zm9vYmE"},
		{"foobar", "Zm9vYmFy", "Zm9vYmFy"},
	};
	static const char *const bad_url[] = {
		"Zg=", "Zg", "Z===", "Zg==Zg==", "Zm9v=", "Z", "Zh==", "Zm9=", "Zm+v", "Zm/v",
		"Zm9 v", "Zm9\nv", "Zm9v\n", "====", "Zg=a", "Zm8%", "=Zg=",
	};
	static const char *const bad_nopad[] = {
		"Zg==", "Zm8=", "Z", "Zm9vY", "Zh", "Zm9", "Zm+v", "Zm 9v", "Zg=",
	};
	static const char *const bad_std[] = {
		"Zm-v", "Zm_v", "Zg", "Zh==", "Zm9v\r\n",
	};
	il_buf		b = IL_BUF_INIT;
	il_buf		c = IL_BUF_INIT;
	il_error	err;
	uint8_t		all[256];
	uint8_t		small[4];
	size_t		n;
	size_t		i;
	size_t		len;
	int			ok;

	for (i = 0; i < sizeof(rfc) / sizeof(rfc[0]); i++)
	{
		char		what[100];

		len = strlen(rfc[i][0]);
		snprintf(what, sizeof(what), "RFC 4648 \"%s\" standard", rfc[i][0]);
		CHECK_STR(enc(&b, rfc[i][0], len, IL_B64_STD), rfc[i][1], what);
		snprintf(what, sizeof(what), "RFC 4648 \"%s\" url padded", rfc[i][0]);
		CHECK_STR(enc(&b, rfc[i][0], len, IL_B64_URL), rfc[i][1], what);
		snprintf(what, sizeof(what), "RFC 4648 \"%s\" url unpadded", rfc[i][0]);
		CHECK_STR(enc(&b, rfc[i][0], len, IL_B64_URL_NOPAD), rfc[i][2], what);
		CHECK(il_b64_encoded_len(len, IL_B64_URL) == strlen(rfc[i][1]) &&
			  il_b64_encoded_len(len, IL_B64_URL_NOPAD) == strlen(rfc[i][2]), "encoded_len agrees");
		snprintf(what, sizeof(what), "decode \"%s\" back (all variants)", rfc[i][1]);
		CHECK(strcmp(dec(&b, rfc[i][1], IL_B64_STD), rfc[i][0]) == 0 &&
			  strcmp(dec(&b, rfc[i][1], IL_B64_URL), rfc[i][0]) == 0 &&
			  strcmp(dec(&b, rfc[i][2], IL_B64_URL_NOPAD), rfc[i][0]) == 0, what);
	}

	/* The alphabets differ at 62 and 63. */
	CHECK_STR(enc(&b, "\xfb\xff\xbf", 3, IL_B64_STD), "+/+/", "standard alphabet + and /");
	CHECK_STR(enc(&b, "\xfb\xff\xbf", 3, IL_B64_URL), "-_-_", "url alphabet - and _");
	CHECK_STR(enc(&b, "\xff", 1, IL_B64_URL), "_w==", "url with padding");
	CHECK_STR(enc(&b, "\xff", 1, IL_B64_URL_NOPAD), "_w", "url without padding");

	/* Every byte value round-trips in every variant, at every length mod 3. */
	for (i = 0; i < sizeof(all); i++)
		all[i] = (uint8_t) (255 - i);
	ok = 1;
	for (len = 0; len <= sizeof(all); len++)
	{
		il_b64_variant v;

		for (v = IL_B64_STD; v <= IL_B64_URL_NOPAD; v++)
		{
			il_buf_reset(&b);
			il_buf_reset(&c);
			il_b64_encode(&b, all, len, v);
			if (b.len != il_b64_encoded_len(len, v) ||
				il_b64_decode(b.data ? b.data : "", b.len, v, &c, &err) != 0 ||
				c.len != len || (len > 0 && memcmp(c.data, all, len) != 0))
				ok = 0;
		}
	}
	CHECK(ok, "all byte values and lengths 0..256 round-trip in all three variants");

	/* Strict decoding. */
	for (i = 0; i < sizeof(bad_url) / sizeof(bad_url[0]); i++)
	{
		char		what[100];
		char		sh[40];

		snprintf(what, sizeof(what), "url padded rejects \"%s\"", shown(sh, sizeof(sh), bad_url[i]));
		CHECK_STR(dec(&b, bad_url[i], IL_B64_URL), "ERR:invalid_base64", what);
	}
	for (i = 0; i < sizeof(bad_nopad) / sizeof(bad_nopad[0]); i++)
	{
		char		what[100];
		char		sh[40];

		snprintf(what, sizeof(what), "url unpadded rejects \"%s\"", shown(sh, sizeof(sh), bad_nopad[i]));
		CHECK_STR(dec(&b, bad_nopad[i], IL_B64_URL_NOPAD), "ERR:invalid_base64", what);
	}
	for (i = 0; i < sizeof(bad_std) / sizeof(bad_std[0]); i++)
	{
		char		what[100];
		char		sh[40];

		snprintf(what, sizeof(what), "standard rejects \"%s\"", shown(sh, sizeof(sh), bad_std[i]));
		CHECK_STR(dec(&b, bad_std[i], IL_B64_STD), "ERR:invalid_base64", what);
	}
	CHECK(il_b64_decode("Zm\0v", 4, IL_B64_URL, &b, &err) == -1 && err.column == 3,
		  "a NUL byte is rejected at its column");
	CHECK(il_b64_decode("Zm9v\xc3\xa9", 6, IL_B64_URL_NOPAD, &b, &err) == -1,
		  "non-ASCII is rejected");
	CHECK(il_b64_decode("Zm*v", 4, IL_B64_STD, &b, &err) == -1 &&
		  strstr(err.message, "'*'") != NULL && err.column == 3, "the message names the bad character");

	/* decode_to: bounded output, zeroed on error. */
	memset(small, 0xaa, sizeof(small));
	CHECK(il_b64_decode_to("Zm9vYg==", 8, IL_B64_URL, small, sizeof(small), &n, &err) == 0 &&
		  n == 4 && memcmp(small, "foob", 4) == 0, "decode_to fills an exact buffer");
	memset(small, 0xaa, sizeof(small));
	CHECK(il_b64_decode_to("Zm9vYmE=", 8, IL_B64_URL, small, sizeof(small), &n, &err) == -1 &&
		  n == 0 && small[0] == 0 && small[3] == 0 && strcmp(err.code, "invalid_base64") == 0,
		  "decode_to refuses output above its capacity and zeroes the buffer");
	CHECK(il_b64_decode_to("", 0, IL_B64_URL_NOPAD, small, sizeof(small), &n, &err) == 0 && n == 0,
		  "decode_to of the empty text");

	/* Decode appends; failure leaves the buffer as it was. */
	il_buf_reset(&b);
	il_buf_puts(&b, "x:");
	CHECK(il_b64_decode("Zm8", 3, IL_B64_URL_NOPAD, &b, &err) == 0 &&
		  strcmp(il_buf_cstr(&b), "x:fo") == 0, "decode appends");
	CHECK(il_b64_decode("Zm8=", 4, IL_B64_URL_NOPAD, &b, &err) == -1 &&
		  strcmp(il_buf_cstr(&b), "x:fo") == 0, "failed decode leaves the buffer unchanged");

	il_buf_free(&b);
	il_buf_free(&c);
	return unit_done();
}
