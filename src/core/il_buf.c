/*-------------------------------------------------------------------------
 *
 * il_buf.c
 *	  A growable byte buffer, and the core's error report.
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "il_buf.h"
#include "il_text.h"

void
il_buf_init(il_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->oom = false;
}

void
il_buf_free(il_buf *b)
{
	il_free(b->data);
	il_buf_init(b);
}

void
il_buf_reset(il_buf *b)
{
	b->len = 0;
	b->oom = false;
	if (b->data)
		b->data[0] = '\0';
}

/* Make room for extra more bytes plus a NUL. */
bool
il_buf_reserve(il_buf *b, size_t extra)
{
	size_t		need;
	size_t		cap;
	char	   *p;

	if (b->oom)
		return false;
	if (extra > SIZE_MAX - b->len - 1)
	{
		b->oom = true;
		return false;
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return true;
	/* twice as much, or what is asked when that is more (a reservation of
	 * a known size takes that size, not the next power of two) */
	cap = b->cap > SIZE_MAX / 2 ? SIZE_MAX : b->cap * 2;
	if (cap < 64)
		cap = 64;
	if (cap < need)
		cap = need;
	p = il_realloc(b->data, cap);
	if (p == NULL)
	{
		b->oom = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

void
il_buf_append_slow(il_buf *b, const void *data, size_t len)
{
	if (len == 0 || !il_buf_reserve(b, len))
		return;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void
il_buf_puts(il_buf *b, const char *s)
{
	il_buf_append(b, s, strlen(s));
}


void
il_buf_printf(il_buf *b, const char *fmt,...)
{
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !il_buf_reserve(b, (size_t) n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t) n;
}

const char *
il_buf_cstr(il_buf *b)
{
	return b->data ? b->data : "";
}

void
il_error_set_message(il_error *err, const char *text)
{
	size_t		n = strlen(text);

	if (err == NULL)
		return;
	if (n >= sizeof(err->message))
		n = sizeof(err->message) - 1;
	memcpy(err->message, text, n);
	err->message[n] = '\0';
	/* cut to fit, it may end inside a character: drop that one */
	err->message[il_utf8_trim_partial(err->message, n)] = '\0';
}

void
il_error_set(il_error *err, il_errcode code, int line, int column,
			 const char *fmt,...)
{
	va_list		ap;

	if (err == NULL)
		return;
	err->code = il_errcode_name(code);
	err->line = line;
	err->column = column;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	/* cut to fit, it may end inside a character: drop that one */
	err->message[il_utf8_trim_partial(err->message, strlen(err->message))] = '\0';
}

void
il_error_clear(il_error *err)
{
	if (err == NULL)
		return;
	err->code = NULL;
	err->line = 0;
	err->column = 0;
	err->message[0] = '\0';
}
