/*-------------------------------------------------------------------------
 *
 * il_fernet.h
 *	  Fernet symmetric tokens (https://github.com/fernet/spec, Spec.md).
 *
 * Key: 32 bytes, signing key (first 16) || encryption key (last 16); its
 * text form is base64url with padding (44 characters).
 *
 * Token: base64url with padding of
 *		0x80 || timestamp (8 bytes, big-endian seconds since the epoch)
 *		|| IV (16) || AES-128-CBC(encryption key, IV, PKCS#7(plain))
 *		|| HMAC-SHA256(signing key, everything before it) (32)
 *
 * Decryption checks, in the spec's order: base64url; length at least
 * 1+8+16+16+32 = 73 bytes; version byte 0x80; ciphertext a whole number of
 * 16-byte blocks; then, only when a TTL is given (ttl > 0), that
 * timestamp + ttl >= now (else "expired") and timestamp <= now + 60 (else
 * "from the future", the spec's clock skew); then the HMAC, compared in
 * constant time; only then AES-CBC decryption and the PKCS#7 padding. With
 * ttl <= 0 there is no time check at all, as in python-cryptography.
 *
 * Error codes (il_error.code), each with a lower-case message:
 *	fernet_bad_key		a key text that is not base64url of 32 bytes
 *	fernet_bad_base64	the token is not strict padded base64url
 *	fernet_too_short	fewer than 73 bytes
 *	fernet_bad_version	first byte is not 0x80
 *	fernet_bad_length	ciphertext is not a whole number of blocks
 *	fernet_expired		older than the TTL
 *	fernet_future		timestamp more than 60 s ahead of now
 *	fernet_bad_hmac		the HMAC does not match (wrong key or tampering)
 *	fernet_bad_padding	the PKCS#7 padding is wrong after decryption
 *	crypto_failure		libcrypto failed (including RAND_bytes)
 *	out_of_memory
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_FERNET_H
#define IL_FERNET_H

#include <stddef.h>
#include <stdint.h>

#include "il_buf.h"

#define IL_FERNET_KEY_LEN 32
#define IL_FERNET_KEY_TEXT_LEN 44
#define IL_FERNET_MAX_CLOCK_SKEW 60

/*
 * Encrypts plain[0..len) at time now (seconds since the epoch) and appends
 * the token text to token. iv NULL draws a random IV with RAND_bytes; a
 * given iv is for tests and known-answer vectors only. Returns 0, or -1
 * with err set (token unchanged).
 */
extern int	il_fernet_encrypt(const uint8_t key[IL_FERNET_KEY_LEN],
							  const uint8_t *plain, size_t len, uint64_t now,
							  const uint8_t iv[16], il_buf *token, il_error *err);

/*
 * Verifies and decrypts token[0..len) and appends the plaintext to plain.
 * now is the current time (seconds since the epoch); ttl <= 0 disables the
 * time checks. Returns 0, or -1 with err set (plain unchanged). The bytes
 * appended may contain NULs; plain->len counts them.
 */
extern int	il_fernet_decrypt(const uint8_t key[IL_FERNET_KEY_LEN],
							  const char *token, size_t len, uint64_t now,
							  int64_t ttl, il_buf *plain, il_error *err);

/*
 * The timestamp of a token, without verifying it (0 or -1 with err set as
 * il_fernet_decrypt would for a malformed token). For display only: trust
 * nothing from an unverified token.
 */
extern int	il_fernet_timestamp(const char *token, size_t len, uint64_t *ts,
								il_error *err);

/* Parses a key text (base64url with padding of 32 bytes): fernet_bad_key. */
extern int	il_fernet_key_decode(const char *text, size_t len,
								 uint8_t key[IL_FERNET_KEY_LEN], il_error *err);

/* Appends the 44-character text of a key. */
extern void il_fernet_key_encode(const uint8_t key[IL_FERNET_KEY_LEN], il_buf *out);

/* A new random key (RAND_bytes). Returns 0, or -1 with err set. */
extern int	il_fernet_key_generate(uint8_t key[IL_FERNET_KEY_LEN], il_error *err);

#endif							/* IL_FERNET_H */
