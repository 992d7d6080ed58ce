/*-------------------------------------------------------------------------
 *
 * il_jsonw.h
 *	  Writing JSON text in RFC 8785 (JCS) form, piece by piece.
 *
 * For producers that know their keys (plans, parse results): write the keys
 * of an object in sorted order yourself and use these for the values.
 * Strings are written with JCS's minimal escaping; the input must be valid
 * UTF-8 (check with il_utf8_valid, il_text.h, first). Arbitrary JSON is
 * canonicalized by il_jcs (parse, then write).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_JSONW_H
#define IL_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "il_buf.h"
#include "il_text.h"		/* il_utf8_valid: the input must be UTF-8 */

/* A JSON string: '"', the escaped text, '"'. */
extern void il_jsonw_string(il_buf *b, const char *s, size_t len);
extern void il_jsonw_cstring(il_buf *b, const char *s);	/* NULL writes null */
/* An integer (JCS writes integers of magnitude below 2^53 exactly). */
extern void il_jsonw_int(il_buf *b, int64_t v);
extern void il_jsonw_bool(il_buf *b, bool v);
extern void il_jsonw_null(il_buf *b);
/* A key and its colon: "key": */
extern void il_jsonw_key(il_buf *b, const char *key);

/*
 * The bytes the writers above append, for a writer that reserves its
 * output once: il_jsonw_string (quotes included), il_jsonw_cstring (null
 * for NULL), il_jsonw_int, il_jsonw_key (colon included).
 */
extern size_t il_jsonw_string_len(const char *s, size_t len);
extern size_t il_jsonw_cstring_len(const char *s);
extern size_t il_jsonw_int_len(int64_t v);
extern size_t il_jsonw_key_len(const char *key);

#endif							/* IL_JSONW_H */
