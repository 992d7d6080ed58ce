/*-------------------------------------------------------------------------
 *
 * il_b64.h
 *	  Base64 (RFC 4648 section 4) and base64url (section 5), strict.
 *
 * Three variants:
 *	IL_B64_STD		 alphabet A-Z a-z 0-9 + /, '=' padding to a multiple of 4
 *	IL_B64_URL		 alphabet A-Z a-z 0-9 - _, '=' padding (Fernet keys, tokens)
 *	IL_B64_URL_NOPAD alphabet A-Z a-z 0-9 - _, no padding (JWT, sealed secrets)
 *
 * Decoding is strict, so that every byte string has exactly one accepted
 * text: characters outside the variant's alphabet (including whitespace and
 * line breaks), missing, extra or misplaced padding, a length that no
 * encoding has (4n+1 characters unpadded, not a multiple of 4 padded), and
 * non-zero unused bits in the last character are all errors, with the code
 * "invalid_base64".
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_B64_H
#define IL_B64_H

#include <stddef.h>
#include <stdint.h>

#include "il_buf.h"

typedef enum il_b64_variant
{
	IL_B64_STD,
	IL_B64_URL,
	IL_B64_URL_NOPAD
} il_b64_variant;

/* Length of the text that encodes len bytes (without a NUL). */
extern size_t il_b64_encoded_len(size_t len, il_b64_variant v);

/* Appends the encoding of in[0..len) to out. */
extern void il_b64_encode(il_buf *out, const uint8_t *in, size_t len, il_b64_variant v);

/*
 * Decodes text[0..len) into out[0..cap), setting *outlen. Returns 0, or -1
 * with err set ("invalid_base64"; column is the 1-based offending character
 * when there is one). A decoded length above cap is an error too
 * ("invalid_base64", "decodes to more than N bytes"), checked before
 * anything is written; out is left zeroed on every error.
 */
extern int	il_b64_decode_to(const char *text, size_t len, il_b64_variant v,
							 uint8_t *out, size_t cap, size_t *outlen, il_error *err);

/*
 * Decodes text[0..len) and appends the bytes to out. Returns 0, or -1 with
 * err set and out unchanged ("invalid_base64", or "out_of_memory").
 */
extern int	il_b64_decode(const char *text, size_t len, il_b64_variant v,
						  il_buf *out, il_error *err);

#endif							/* IL_B64_H */
