/*-------------------------------------------------------------------------
 *
 * il_seal.h
 *	  Sealed boxes: a client encrypts a secret to the server's public key,
 *	  so that no plaintext secret ever appears in SQL text, logs or
 *	  pg_stat_statements.
 *
 * Construction, version "ilseal1" (X25519, HKDF-SHA256, AES-256-GCM). All
 * base64url below is RFC 4648 section 5 WITHOUT '=' padding, decoded
 * strictly (no other characters, canonical trailing bits).
 *
 * 1. Server key pair. root = the 32-byte vault root key (PBKDF2-HMAC-SHA256
 *	  output derived from the master key, computed once per process).
 *		server_priv = HKDF-SHA256(IKM = root, salt = empty (i.e. 32 zero
 *					  bytes), info = "ironlayer vault seal x25519 v1", L = 32)
 *		server_pub	= X25519(server_priv, base point 9)	(RFC 7748; the
 *					  scalar is clamped by X25519 itself, not beforehand)
 *
 * 2. Public key text: "ilseal1:" || base64url(server_pub)	(8 + 43 chars).
 *
 * 3. Sealing plaintext P (any length, may be empty):
 *		eph_priv, eph_pub = a fresh X25519 key pair
 *		shared = X25519(eph_priv, server_pub)	(all-zero output is an error)
 *		key	   = HKDF-SHA256(IKM = shared, salt = eph_pub || server_pub,
 *						info = "ironlayer vault seal aes-256-gcm v1", L = 32)
 *		nonce  = 12 random bytes
 *		C || T = AES-256-GCM(key, nonce, P, AAD = "ilseal1" || eph_pub),
 *				 T the 16-byte tag, len(C) = len(P)
 *		sealed = "ilseal1:" || base64url(eph_pub || nonce || C || T)
 *	  (the ASCII strings above are used without any terminating NUL; AAD is
 *	  the 7 bytes "ilseal1" then the 32 bytes of eph_pub.)
 *
 * 4. Opening: check the "ilseal1:" prefix, decode, require at least
 *	  32 + 12 + 16 = 60 bytes, recompute shared (with server_priv and
 *	  eph_pub) and key, and decrypt with tag verification. The plaintext is
 *	  returned only when the tag verifies.
 *
 * Error codes (il_error.code), each with a lower-case message:
 *	seal_bad_prefix		text does not start with "ilseal1:"
 *	seal_bad_base64		the rest is not strict unpadded base64url
 *	seal_too_short		sealed data of fewer than 60 bytes
 *	seal_bad_public_key	public key text not of 8 + 43 characters, or not
 *						usable (a low-order point: all-zero shared secret)
 *	seal_open_failed	"sealed secret could not be opened: wrong vault key
 *						or tampered data" (tag mismatch, or a degenerate
 *						ephemeral key)
 *	crypto_failure		libcrypto failed (including RAND_bytes)
 *	out_of_memory
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_SEAL_H
#define IL_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "il_buf.h"

#define IL_SEAL_PREFIX "ilseal1:"
#define IL_SEAL_PREFIX_LEN 8
#define IL_SEAL_AAD_LABEL "ilseal1"
#define IL_SEAL_INFO_X25519 "ironlayer vault seal x25519 v1"
#define IL_SEAL_INFO_AEAD "ironlayer vault seal aes-256-gcm v1"
#define IL_SEAL_KEY_LEN 32
#define IL_SEAL_NONCE_LEN 12
#define IL_SEAL_TAG_LEN 16
#define IL_SEAL_OVERHEAD (IL_SEAL_KEY_LEN + IL_SEAL_NONCE_LEN + IL_SEAL_TAG_LEN)
/* Length of the public key text: "ilseal1:" + 43 characters. */
#define IL_SEAL_PUBLIC_TEXT_LEN (IL_SEAL_PREFIX_LEN + 43)

/* The server's key pair. Wipe with il_seal_key_clear. */
typedef struct il_seal_key
{
	uint8_t		priv[IL_SEAL_KEY_LEN];
	uint8_t		pub[IL_SEAL_KEY_LEN];
} il_seal_key;

/* Derives the server key pair from the vault root key. 0 or -1. */
extern int	il_seal_keypair_from_root(const uint8_t root[32], il_seal_key *key,
									  il_error *err);

/* Appends the public key text "ilseal1:..." (IL_SEAL_PUBLIC_TEXT_LEN chars). */
extern void il_seal_public_text(const il_seal_key *key, il_buf *out);

/*
 * Seals plain[0..plen) to the public key text public_text[0..len) and
 * appends the sealed text to sealed_out. For the command-line client and
 * tests. Returns 0, or -1 with err set (sealed_out unchanged).
 */
extern int	il_seal_seal(const char *public_text, size_t len,
						 const uint8_t *plain, size_t plen,
						 il_buf *sealed_out, il_error *err);

/*
 * As il_seal_seal with the ephemeral private key and the nonce given (NULL
 * for random): for known-answer tests only. Never reuse them in earnest.
 */
extern int	il_seal_seal_ex(const char *public_text, size_t len,
							const uint8_t *plain, size_t plen,
							const uint8_t eph_priv[32],
							const uint8_t nonce[IL_SEAL_NONCE_LEN],
							il_buf *sealed_out, il_error *err);

/*
 * Opens sealed[0..len) with the server key and appends the plaintext to
 * plain_out. Returns 0, or -1 with err set (plain_out unchanged).
 */
extern int	il_seal_open(const il_seal_key *key, const char *sealed, size_t len,
						 il_buf *plain_out, il_error *err);

/* Wipes a key pair (OPENSSL_cleanse). */
extern void il_seal_key_clear(il_seal_key *key);

#endif							/* IL_SEAL_H */
