/*-------------------------------------------------------------------------
 *
 * il_buf.h
 *	  A growable byte buffer, and the core's error report.
 *
 * The core allocates through il_alloc.h (the C library's malloc unless the
 * program installed another allocator; the extension's is PostgreSQL's
 * memory contexts) and reports failure by return value; it never exits,
 * never longjmps and never prints. Callers (the extension, the command)
 * turn an il_error into their own error reporting.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_BUF_H
#define IL_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "il_alloc.h"
#include "il_errcodes.h"

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
 * position". code is the stable name of an entry of the catalogue
 * src/core/il_errcodes.txt (e.g. "unterminated_string"), NULL when clear.
 */
typedef struct il_error
{
	const char *code;
	int			line;
	int			column;
	char		message[256];
} il_error;

/* Sets code to il_errcode_name(code), the position and the message. */
extern void il_error_set(il_error *err, il_errcode code, int line, int column,
						 const char *fmt,...)
			__attribute__((format(printf, 5, 6)));
/* Replace only the message (cut to fit, at a whole UTF-8 character). */
extern void il_error_set_message(il_error *err, const char *text);
extern void il_error_clear(il_error *err);

/*
 * The catalogue (il_errcode.c). The name, SQLSTATE, HTTP status and meaning
 * of a code; NULL, "XX000", 500 and NULL for IL_ERR_NONE or a value out of
 * range. il_errcode_lookup finds a name (IL_ERR_NONE when unknown).
 */
extern const char *il_errcode_name(il_errcode code);
extern const char *il_errcode_sqlstate(il_errcode code);
extern int	il_errcode_http(il_errcode code);
extern const char *il_errcode_meaning(il_errcode code);
extern il_errcode il_errcode_lookup(const char *name);
/* The code of an error (IL_ERR_NONE when clear), whether it is code. */
extern il_errcode il_error_code(const il_error *err);
extern bool il_error_is(const il_error *err, il_errcode code);
/* The SQLSTATE of an error's code ("XX000" when clear or not listed). */
extern const char *il_error_sqlstate(const il_error *err);

#endif							/* IL_BUF_H */
