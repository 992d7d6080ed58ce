/*-------------------------------------------------------------------------
 *
 * il_b64.c
 *	  Base64 and base64url, strict decoding.
 *
 * The mapping between 6-bit values and characters is computed with masks
 * instead of table lookups or branches on the value, so that encoding or
 * decoding a key does not leak its bits through the cache or the branch
 * predictor. (Validation of the text still branches on whether a character
 * is valid, which reveals nothing about a valid key.)
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "il_b64.h"

/*
 * The character for a 6-bit value. Each term adds a correction when x is
 * past a boundary of the alphabet: ((k - x) >> 8) is all ones when x > k.
 */
static char
b64_char(unsigned int x, il_b64_variant v)
{
	int			xi = (int) x;
	int			c = 'A';
	bool		std = (v == IL_B64_STD);

	c += ((25 - xi) >> 8) & 6;	/* 26..51: 'a'.. */
	c -= ((51 - xi) >> 8) & 75; /* 52..61: '0'.. */
	c -= ((61 - xi) >> 8) & (std ? 15 : 13);	/* 62: '+' or '-' */
	c += ((62 - xi) >> 8) & (std ? 3 : 49); /* 63: '/' or '_' */
	return (char) (xi + c);
}

/*
 * The 6-bit value of a character, or -1 when it is not in the variant's
 * alphabet. Each term is non-zero only inside its range: (lo - c) & (c - hi)
 * is negative exactly when lo < c < hi, so its shift by 8 is all ones.
 */
static int
b64_value(unsigned char ch, il_b64_variant v)
{
	int			c = ch;
	int			r = -1;

	r += (((0x40 - c) & (c - 0x5b)) >> 8) & (c - 64);	/* A-Z: 0..25 */
	r += (((0x60 - c) & (c - 0x7b)) >> 8) & (c - 70);	/* a-z: 26..51 */
	r += (((0x2f - c) & (c - 0x3a)) >> 8) & (c + 5);	/* 0-9: 52..61 */
	if (v == IL_B64_STD)
	{
		r += (((0x2a - c) & (c - 0x2c)) >> 8) & 63; /* '+': 62 */
		r += (((0x2e - c) & (c - 0x30)) >> 8) & 64; /* '/': 63 */
	}
	else
	{
		r += (((0x2c - c) & (c - 0x2e)) >> 8) & 63; /* '-': 62 */
		r += (((0x5e - c) & (c - 0x60)) >> 8) & 64; /* '_': 63 */
	}
	return r;
}

/*
 * il_b64_encoded_len
 *		Characters needed for len bytes.
 */
size_t
il_b64_encoded_len(size_t len, il_b64_variant v)
{
	size_t		full = len / 3 * 4;

	if (len % 3 == 0)
		return full;
	if (v == IL_B64_URL_NOPAD)
		return full + len % 3 + 1;
	return full + 4;
}

/*
 * il_b64_encode
 *		Appends the text for in[0..len) to out.
 */
void
il_b64_encode(il_buf *out, const uint8_t *in, size_t len, il_b64_variant v)
{
	size_t		n = il_b64_encoded_len(len, v);
	size_t		i;
	char	   *p;

	if (n == 0 || !il_buf_reserve(out, n))
		return;
	p = out->data + out->len;
	for (i = 0; i + 3 <= len; i += 3)
	{
		uint32_t	w = ((uint32_t) in[i] << 16) | ((uint32_t) in[i + 1] << 8) | in[i + 2];

		*p++ = b64_char((w >> 18) & 63, v);
		*p++ = b64_char((w >> 12) & 63, v);
		*p++ = b64_char((w >> 6) & 63, v);
		*p++ = b64_char(w & 63, v);
	}
	if (len - i == 1)
	{
		uint32_t	w = (uint32_t) in[i] << 16;

		*p++ = b64_char((w >> 18) & 63, v);
		*p++ = b64_char((w >> 12) & 63, v);
		if (v != IL_B64_URL_NOPAD)
		{
			*p++ = '=';
			*p++ = '=';
		}
	}
	else if (len - i == 2)
	{
		uint32_t	w = ((uint32_t) in[i] << 16) | ((uint32_t) in[i + 1] << 8);

		*p++ = b64_char((w >> 18) & 63, v);
		*p++ = b64_char((w >> 12) & 63, v);
		*p++ = b64_char((w >> 6) & 63, v);
		if (v != IL_B64_URL_NOPAD)
			*p++ = '=';
	}
	out->len += n;
	out->data[out->len] = '\0';
}

/*
 * b64_check
 *		Validates text and computes the decoded length, without decoding.
 *
 * Sets *datalen to the number of alphabet characters (padding excluded)
 * and *outlen to the number of bytes they decode to.
 */
static int
b64_check(const char *text, size_t len, il_b64_variant v,
		  size_t *datalen, size_t *outlen, il_error *err)
{
	size_t		data = len;
	size_t		i;
	size_t		rem;

	if (v != IL_B64_URL_NOPAD)
	{
		if (len % 4 != 0)
		{
			il_error_set(err, IL_ERR_INVALID_BASE64, 0, 0,
						 "invalid base64: length %zu is not a multiple of 4", len);
			return -1;
		}
		while (data > 0 && len - data < 2 && text[data - 1] == '=')
			data--;
	}
	for (i = 0; i < data; i++)
	{
		if (b64_value((unsigned char) text[i], v) < 0)
		{
			unsigned char c = (unsigned char) text[i];

			if (c == '=')
				il_error_set(err, IL_ERR_INVALID_BASE64, 1, (int) (i < INT32_MAX ? i + 1 : 0),
							 "invalid base64: misplaced padding at offset %zu", i);
			else if (c >= 0x21 && c < 0x7f)
				il_error_set(err, IL_ERR_INVALID_BASE64, 1, (int) (i < INT32_MAX ? i + 1 : 0),
							 "invalid base64: character '%c' at offset %zu is not in the alphabet", c, i);
			else
				il_error_set(err, IL_ERR_INVALID_BASE64, 1, (int) (i < INT32_MAX ? i + 1 : 0),
							 "invalid base64: byte 0x%02x at offset %zu is not in the alphabet", c, i);
			return -1;
		}
	}
	rem = data % 4;
	if (rem == 1)
	{
		il_error_set(err, IL_ERR_INVALID_BASE64, 0, 0,
					 "invalid base64: %zu characters cannot encode whole bytes", data);
		return -1;
	}
	/* Unused low bits of the last character must be zero (canonical form). */
	if ((rem == 2 && (b64_value((unsigned char) text[data - 1], v) & 0x0f) != 0) ||
		(rem == 3 && (b64_value((unsigned char) text[data - 1], v) & 0x03) != 0))
	{
		il_error_set(err, IL_ERR_INVALID_BASE64, 1, (int) (data < INT32_MAX ? data : 0),
					 "invalid base64: non-zero unused bits in the last character");
		return -1;
	}
	*datalen = data;
	*outlen = data / 4 * 3 + (rem == 0 ? 0 : rem - 1);
	return 0;
}

/*
 * b64_decode_raw
 *		Decodes data alphabet characters already validated by b64_check.
 */
static void
b64_decode_raw(const char *text, size_t data, il_b64_variant v, uint8_t *out)
{
	size_t		i;
	size_t		o = 0;
	uint32_t	w = 0;
	int			bits = 0;

	for (i = 0; i < data; i++)
	{
		w = (w << 6) | (uint32_t) b64_value((unsigned char) text[i], v);
		bits += 6;
		if (bits >= 8)
		{
			bits -= 8;
			out[o++] = (uint8_t) (w >> bits);
			w &= (1u << bits) - 1;
		}
	}
}

/*
 * il_b64_decode_to
 *		Decodes into a caller-provided buffer of cap bytes.
 */
int
il_b64_decode_to(const char *text, size_t len, il_b64_variant v,
				 uint8_t *out, size_t cap, size_t *outlen, il_error *err)
{
	size_t		data;
	size_t		n;

	*outlen = 0;
	if (cap > 0)
		memset(out, 0, cap);
	if (b64_check(text, len, v, &data, &n, err) != 0)
		return -1;
	if (n > cap)
	{
		il_error_set(err, IL_ERR_INVALID_BASE64, 0, 0,
					 "invalid base64: decodes to %zu bytes, more than %zu", n, cap);
		return -1;
	}
	b64_decode_raw(text, data, v, out);
	*outlen = n;
	return 0;
}

/*
 * il_b64_decode
 *		Decodes and appends to a growable buffer.
 */
int
il_b64_decode(const char *text, size_t len, il_b64_variant v,
			  il_buf *out, il_error *err)
{
	size_t		data;
	size_t		n;

	if (b64_check(text, len, v, &data, &n, err) != 0)
		return -1;
	if (!il_buf_reserve(out, n))
	{
		il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory decoding base64");
		return -1;
	}
	b64_decode_raw(text, data, v, (uint8_t *) out->data + out->len);
	out->len += n;
	out->data[out->len] = '\0';
	return 0;
}
