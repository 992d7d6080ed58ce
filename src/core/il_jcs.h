/*-------------------------------------------------------------------------
 *
 * il_jcs.h
 *	  JSON parsing (RFC 8259) and RFC 8785 JSON Canonicalization (JCS).
 *
 * The parser accepts exactly RFC 8259 JSON text restricted to I-JSON
 * (RFC 7493), as RFC 8785 requires, and rejects everything else with an
 * il_error (line and column of the offending byte, 1-based, columns in
 * bytes):
 *	json_syntax				not JSON (unexpected or missing character, empty
 *							input, bad literal or number, unterminated string,
 *							a byte order mark)
 *	json_trailing_data		anything but whitespace after the value
 *	json_invalid_utf8		a string holding bytes that are not UTF-8
 *	json_control_character	an unescaped control character (U+0000..U+001F)
 *							in a string
 *	json_invalid_escape		an unknown escape or a \u without 4 hex digits
 *	json_lone_surrogate		a \uD800..\uDFFF escape that is not part of a
 *							high-low surrogate pair
 *	json_duplicate_key		two members of one object with the same name
 *							(after unescaping)
 *	json_too_deep			arrays/objects nested more than IL_JCS_MAX_DEPTH
 *	json_number_out_of_range a number whose nearest double is infinite
 *	json_too_large			a text of more than 4 GiB
 *	out_of_memory
 *
 * The parser is iterative (no recursion), so the depth bound protects
 * memory, not the C stack.
 *
 * Canonical form (RFC 8785 section 3.2): no whitespace; literals as is;
 * strings with the minimal escaping of il_jsonw_string; numbers as
 * ECMAScript Number.prototype.toString of the nearest IEEE-754 double
 * (shortest round-trip digits; plain notation for 1e-6 <= |x| < 1e21,
 * else d.ddde+N / d.ddde-N; -0 becomes 0); object members sorted by their
 * names compared as arrays of UTF-16 code units; array order kept.
 *
 * Numbers are converted with strtod and snprintf on a digits-and-exponent
 * form that has no decimal point, so the result does not depend on
 * LC_NUMERIC.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_JCS_H
#define IL_JCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "il_buf.h"

/* Deepest nesting of arrays and objects accepted ([[1]] has depth 2). */
#define IL_JCS_MAX_DEPTH 1000

/*
 * Canonicalizes json[0..len) and appends the canonical UTF-8 text to out.
 * Returns 0, or -1 with err set and out unchanged.
 */
extern int	il_jcs_canonicalize(const char *json, size_t len, il_buf *out, il_error *err);

/*
 * Appends the ECMAScript string of a double (JCS number form). Returns 0,
 * or -1 (nothing appended) for NaN and infinities, which JSON cannot hold.
 */
extern int	il_jcs_write_number(il_buf *out, double v);

/*
 * A parsed document, for readers of JSON (configuration, test vectors).
 * Values are owned by the document and valid until il_jcs_free. Object
 * members are kept in canonical (sorted) order; strings are UTF-8 with a
 * length (they may contain NUL) and are also NUL-terminated. The accessors
 * accept NULL (and return NULL or 0), except il_jcs_kind_of, so lookups can
 * be chained: il_jcs_string(il_jcs_get(il_jcs_at(root, 0), "name"), &len).
 */
typedef enum il_jcs_kind
{
	IL_JCS_NULL,
	IL_JCS_FALSE,
	IL_JCS_TRUE,
	IL_JCS_NUMBER,
	IL_JCS_STRING,
	IL_JCS_ARRAY,
	IL_JCS_OBJECT
} il_jcs_kind;

typedef struct il_jcs_doc il_jcs_doc;
typedef struct il_jcs_value il_jcs_value;

/* Parses json[0..len). NULL with err set on failure. */
extern il_jcs_doc *il_jcs_parse(const char *json, size_t len, il_error *err);
extern void il_jcs_free(il_jcs_doc *doc);
extern const il_jcs_value *il_jcs_root(const il_jcs_doc *doc);

extern il_jcs_kind il_jcs_kind_of(const il_jcs_value *v);
/* Number of elements or members (0 for scalars). */
extern size_t il_jcs_count(const il_jcs_value *v);
/* First element or member, and the next sibling; NULL at the end. */
extern const il_jcs_value *il_jcs_first(const il_jcs_value *v);
extern const il_jcs_value *il_jcs_next(const il_jcs_value *v);
/* Element i of an array, or NULL. */
extern const il_jcs_value *il_jcs_at(const il_jcs_value *arr, size_t i);
/* Member of an object by name (NUL-terminated), or NULL. */
extern const il_jcs_value *il_jcs_get(const il_jcs_value *obj, const char *name);
/* A member's name (NULL for a value that is not an object member). */
extern const char *il_jcs_name(const il_jcs_value *v, size_t *len);
/* A string's text (NULL if v is not a string). */
extern const char *il_jcs_string(const il_jcs_value *v, size_t *len);
/* A number's double value (0 if v is not a number). */
extern double il_jcs_number(const il_jcs_value *v);
/* Appends the canonical text of v and everything below it. */
extern void il_jcs_write(il_buf *out, const il_jcs_value *v);

#endif							/* IL_JCS_H */
