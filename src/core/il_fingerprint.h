/*-------------------------------------------------------------------------
 *
 * il_fingerprint.h
 *	  A fingerprint of SQL that ignores cosmetic changes.
 *
 * The normalized text of a token stream is its tokens, comments dropped,
 * joined by one space, each written as:
 *	keyword				upper case (SELECT)
 *	other word			lower case (ASCII letters only: Orders -> orders)
 *	number				letters upper case (1l -> 1L, 1e3 -> 1E3)
 *	string				as written, prefix normalized (R'x' -> r'x', x'0A' -> X'0A')
 *	{{ }} / {% %}		whitespace after the opener and before the closer
 *						removed, other runs of whitespace outside quotes
 *						collapsed to one space ({{ref('a')}} = {{  ref('a') }})
 *	anything else		as written (`Quoted`, 'text', operators, ${var})
 * and a single ';' at the very end is left out. The fingerprint is the
 * SHA-256 (lower-case hex) of that text. Whitespace, comments, keyword and
 * identifier case and one trailing ';' do not change it; any other change
 * of the tokens does (a string, a backticked name, a number, an operator, a
 * word added, removed or moved).
 *
 * A model's fingerprint (il_model.h) prefixes the header directives that
 * change what the model builds.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_FINGERPRINT_H
#define IL_FINGERPRINT_H

#include "il_buf.h"
#include "il_lex.h"
#include "il_sha256.h"

/* Appends the normalized text of the tokens (of src) to out. */
extern void il_fingerprint_text(const char *src, const il_tokens *toks, il_buf *out);

/*
 * hex = SHA-256 of prefix[0..prefix_len) followed by the normalized text.
 * scratch is a buffer the caller may reuse between calls (reset here).
 */
extern il_parse_status il_fingerprint_tokens(const char *src, const il_tokens *toks,
											 const char *prefix, size_t prefix_len,
											 il_buf *scratch,
											 char hex[IL_SHA256_HEX_LEN + 1],
											 il_error *err);

/*
 * Hashes the normalized text of the tokens (of src) into ctx without
 * writing it out: a 16 kB piece at a time, so it takes no memory that grows
 * with the text (but for a template block longer than a piece, copied once
 * to be normalized). Returns 0, or -1 when out of memory.
 */
extern int	il_fingerprint_update(il_sha256_ctx *ctx, const char *src, const il_tokens *toks);

/* Lexes sql[0..len) and fingerprints it (the lexer's errors pass through). */
extern il_parse_status il_fingerprint(const char *sql, size_t len,
									  char hex[IL_SHA256_HEX_LEN + 1], il_error *err);

#endif							/* IL_FINGERPRINT_H */
