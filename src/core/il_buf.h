/*-------------------------------------------------------------------------
 *
 * il_buf.h
 *	  A growable byte buffer, and the core's error report.
 *
 * The core allocates with malloc and reports failure by return value; it
 * never exits, never longjmps and never prints. Callers (the extension, the
 * command) turn an il_error into their own error reporting.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_BUF_H
#define IL_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct il_buf
{
	char	   *data;			/* NUL-terminated when len > 0 or after il_buf_cstr */
	size_t		len;
	size_t		cap;
	bool		oom;			/* an allocation failed; contents are truncated */
} il_buf;

#define IL_BUF_INIT {NULL, 0, 0, false}

extern void il_buf_init(il_buf *b);
extern void il_buf_free(il_buf *b);
extern void il_buf_reset(il_buf *b);
extern bool il_buf_reserve(il_buf *b, size_t extra);
extern void il_buf_append_slow(il_buf *b, const void *data, size_t len);
extern void il_buf_puts(il_buf *b, const char *s);

/* Append len bytes (kept NUL-terminated). */
static inline void
il_buf_append(il_buf *b, const void *data, size_t len)
{
	if (len < b->cap - b->len && b->data != NULL)
	{
		memcpy(b->data + b->len, data, len);
		b->len += len;
		b->data[b->len] = '\0';
	}
	else
		il_buf_append_slow(b, data, len);
}

/* Append one byte. */
static inline void
il_buf_putc(il_buf *b, char c)
{
	if (b->data != NULL && b->len + 1 < b->cap)
	{
		b->data[b->len++] = c;
		b->data[b->len] = '\0';
	}
	else
		il_buf_append_slow(b, &c, 1);
}
extern void il_buf_printf(il_buf *b, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));
/* The contents as a NUL-terminated string ("" when empty). */
extern const char *il_buf_cstr(il_buf *b);

/*
 * An error with a position. The message is cut to fit, never inside a
 * UTF-8 character. line and column are 1-based; 0 means "no
 * position". code is a short stable identifier (e.g. "unterminated_string").
 */
typedef struct il_error
{
	const char *code;
	int			line;
	int			column;
	char		message[256];
} il_error;

extern void il_error_set(il_error *err, const char *code, int line, int column,
						 const char *fmt,...)
			__attribute__((format(printf, 5, 6)));
/* Replace only the message (cut to fit, at a whole UTF-8 character). */
extern void il_error_set_message(il_error *err, const char *text);
extern void il_error_clear(il_error *err);

#endif							/* IL_BUF_H */
