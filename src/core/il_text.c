/*-------------------------------------------------------------------------
 *
 * il_text.c
 *	  UTF-8 validation, cutting text at a character, and user text in
 *	  messages (see il_text.h).
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "il_text.h"

/*
 * Is s[0..len) valid UTF-8 (see il_text.h)?
 */
bool
il_utf8_valid(const char *s, size_t len, size_t *bad_offset)
{
	const unsigned char *p = (const unsigned char *) s;
	const unsigned char *end = p + len;
	size_t		i = 0;

	while (i < len)
	{
		int			n;

		/* eight ASCII bytes at a time while they can be read */
		while (len - i >= 8)
		{
			uint64_t	x;

			memcpy(&x, p + i, 8);
			if (x & 0x8080808080808080ULL)
				break;
			i += 8;
		}
		while (i < len && p[i] < 0x80)
			i++;
		if (i >= len)
			break;
		n = il_utf8_char_len(p + i, end);
		if (n == 0)
		{
			if (bad_offset)
				*bad_offset = i;
			return false;
		}
		i += (size_t) n;
	}
	return true;
}

/*
 * The length of s[0..n) without a character its end cuts (see il_text.h).
 */
size_t
il_utf8_trim_partial(const char *s, size_t n)
{
	size_t		i = n;
	unsigned char c;
	size_t		need;

	while (i > 0 && ((unsigned char) s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0)
		return n;
	c = (unsigned char) s[i - 1];
	need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
	return n - (i - 1) < need ? i - 1 : n;
}

/*
 * The character at s[i] as a message shows it (see il_text.h).
 */
size_t
il_quote_char(const unsigned char *s, size_t i, size_t len, size_t *shown)
{
	size_t		n = 1;

	if (s[i] >= 0x80)
		n = (size_t) il_utf8_char_len(s + i, s + len);
	if (n == 0 || s[i] < 0x20 || s[i] == 0x7f)
	{
		*shown = 4;
		return 1;
	}
	*shown = n;
	return n;
}

/*
 * User text for a message (see il_text.h).
 */
void
il_quote_text(char *out, size_t cap, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *) (s ? s : "");
	size_t		i = 0;
	size_t		o = 0;

	if (s == NULL)
		len = 0;
	while (i < len)
	{
		size_t		shown;
		size_t		n = il_quote_char(p, i, len, &shown);

		if (o + shown + 4 >= cap)
			break;
		if (shown != n)
			snprintf(out + o, cap - o, "\\x%02x", p[i]);
		else
			memcpy(out + o, p + i, n);
		o += shown;
		i += n;
	}
	if (i < len)
	{
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/*
 * Line and column of a later byte (see il_text.h).
 */
void
il_text_advance(const char *s, size_t from, size_t to, int *line, int *column)
{
	size_t		i;
	int			l = *line;
	int			c = *column;

	for (i = from; i < to; i++)
	{
		if (s[i] == '\n')
		{
			l++;
			c = 1;
		}
		else if (((unsigned char) s[i] & 0xc0) != 0x80)
			c++;
	}
	*line = l;
	*column = c;
}

int
il_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
