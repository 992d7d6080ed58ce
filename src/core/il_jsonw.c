/*-------------------------------------------------------------------------
 *
 * il_jsonw.c
 *	  Writing JSON text in RFC 8785 (JCS) form.
 *
 * RFC 8785 section 3.2.2.2: in strings, escape '"' and '\\', write U+0008,
 * U+0009, U+000A, U+000C and U+000D as \b \t \n \f \r, every other control
 * character below U+0020 as \u00xx with lower-case hex, and everything else
 * (including '/', DEL and all non-ASCII) as itself.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "il_jsonw.h"

void
il_jsonw_string(il_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t		i;
	size_t		run = 0;		/* start of the pending run of plain bytes */

	il_buf_putc(b, '"');
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];
		char		esc[7];
		size_t		n = 0;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		il_buf_append(b, s + run, i - run);
		run = i + 1;
		esc[n++] = '\\';
		switch (c)
		{
			case '"':
				esc[n++] = '"';
				break;
			case '\\':
				esc[n++] = '\\';
				break;
			case '\b':
				esc[n++] = 'b';
				break;
			case '\t':
				esc[n++] = 't';
				break;
			case '\n':
				esc[n++] = 'n';
				break;
			case '\f':
				esc[n++] = 'f';
				break;
			case '\r':
				esc[n++] = 'r';
				break;
			default:
				esc[n++] = 'u';
				esc[n++] = '0';
				esc[n++] = '0';
				esc[n++] = hex[c >> 4];
				esc[n++] = hex[c & 0x0f];
				break;
		}
		il_buf_append(b, esc, n);
	}
	il_buf_append(b, s + run, len - run);
	il_buf_putc(b, '"');
}

void
il_jsonw_cstring(il_buf *b, const char *s)
{
	if (s == NULL)
		il_jsonw_null(b);
	else
		il_jsonw_string(b, s, strlen(s));
}

void
il_jsonw_int(il_buf *b, int64_t v)
{
	char		buf[24];
	int			i = (int) sizeof(buf);
	uint64_t	u = v < 0 ? (uint64_t) 0 - (uint64_t) v : (uint64_t) v;

	do
	{
		buf[--i] = (char) ('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (v < 0)
		buf[--i] = '-';
	il_buf_append(b, buf + i, sizeof(buf) - (size_t) i);
}

void
il_jsonw_bool(il_buf *b, bool v)
{
	il_buf_puts(b, v ? "true" : "false");
}

void
il_jsonw_null(il_buf *b)
{
	il_buf_puts(b, "null");
}

void
il_jsonw_key(il_buf *b, const char *key)
{
	il_jsonw_string(b, key, strlen(key));
	il_buf_putc(b, ':');
}

size_t
il_jsonw_string_len(const char *s, size_t len)
{
	size_t		n = len + 2;
	size_t		i;

	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		/* \" \\ \b \t \n \f \r, or \u00xx */
		n += (c == '"' || c == '\\' || c == '\b' || c == '\t' || c == '\n' || c == '\f' ||
			  c == '\r') ? 1 : 5;
	}
	return n;
}

size_t
il_jsonw_cstring_len(const char *s)
{
	return s == NULL ? 4 : il_jsonw_string_len(s, strlen(s));
}

size_t
il_jsonw_int_len(int64_t v)
{
	uint64_t	u = v < 0 ? (uint64_t) 0 - (uint64_t) v : (uint64_t) v;
	size_t		n = v < 0 ? 2 : 1;

	while (u >= 10)
	{
		u /= 10;
		n++;
	}
	return n;
}

size_t
il_jsonw_key_len(const char *key)
{
	return il_jsonw_string_len(key, strlen(key)) + 1;
}
