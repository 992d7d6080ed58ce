/*-------------------------------------------------------------------------
 *
 * il_text.h
 *	  UTF-8 and user text in messages: the rules every part of the core
 *	  shares.
 *
 * One definition of valid UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF) for the lexer, the header and
 * repository loaders, the JSON parser, the scrubber and the message
 * writers; one way to cut text at a character; one way to show user text
 * in a message (il_quote_text).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_TEXT_H
#define IL_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The length (2 to 4) of the valid UTF-8 character whose first byte, not
 * ASCII, is at p, or 0 when it is not one (also when end cuts it).
 * Inline: the lexer calls it for every non-ASCII character.
 */
static inline int
il_utf8_char_len(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0];
	size_t		avail = (size_t) (end - p);

	if (c >= 0xc2 && c <= 0xdf)
		return (avail >= 2 && (p[1] & 0xc0) == 0x80) ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef)
	{
		unsigned char lo = 0x80,
					hi = 0xbf;

		if (c == 0xe0)
			lo = 0xa0;			/* overlong */
		else if (c == 0xed)
			hi = 0x9f;			/* surrogates */
		if (avail < 3 || p[1] < lo || p[1] > hi || (p[2] & 0xc0) != 0x80)
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4)
	{
		unsigned char lo = 0x80,
					hi = 0xbf;

		if (c == 0xf0)
			lo = 0x90;			/* overlong */
		else if (c == 0xf4)
			hi = 0x8f;			/* above U+10FFFF */
		if (avail < 4 || p[1] < lo || p[1] > hi ||
			(p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
			return 0;
		return 4;
	}
	return 0;
}

/*
 * Is s[0..len) valid UTF-8? If not, *bad_offset (when not NULL) is where
 * the first invalid sequence starts.
 */
extern bool il_utf8_valid(const char *s, size_t len, size_t *bad_offset);

/*
 * Where to cut text at or before byte n so that no character is cut: n
 * moved back over continuation bytes (s[n] must be readable).
 */
static inline size_t
il_utf8_boundary(const char *s, size_t n)
{
	while (n > 0 && ((unsigned char) s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/*
 * The length of s[0..n) without a character that its end cuts: for text
 * that was cut at byte n without looking.
 */
extern size_t il_utf8_trim_partial(const char *s, size_t n);

/*
 * The character at s[i] of s[0..len) as a message shows it: returns its
 * length in bytes, and *shown the bytes it takes in the message (4 when it
 * is written \xNN: a control character, or a byte of invalid UTF-8 taken
 * alone).
 */
extern size_t il_quote_char(const unsigned char *s, size_t i, size_t len, size_t *shown);

/*
 * Writes user text s[0..len) into out[0..cap) for an error message:
 * control characters and bytes that are not UTF-8 as \xNN, cut at a whole
 * character with "..." when it does not fit. cap must be at least 8.
 */
extern void il_quote_text(char *out, size_t cap, const char *s, size_t len);

/*
 * Advances *line and *column (1-based; a column counts UTF-8 characters)
 * over s[from..to): the position of byte to, given that of byte from.
 */
extern void il_text_advance(const char *s, size_t from, size_t to, int *line, int *column);

/* The value of a hexadecimal digit of either case, or -1. */
extern int	il_hex_value(char c);

#endif							/* IL_TEXT_H */
