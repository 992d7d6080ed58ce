/*-------------------------------------------------------------------------
 *
 * il_vault.h
 *	  Keys of the credentials vault.
 *
 * The master key is the content of a file kept outside the database (at
 * least IL_VAULT_MIN_MASTER bytes once one trailing newline is removed).
 * From it and a per-database random salt comes the vault root key:
 *
 *   root = PBKDF2-HMAC-SHA256(master, salt, iterations, 32)
 *
 * The root is the Fernet key of stored credentials (bytes 0-15 sign, 16-31
 * encrypt), and the X25519 key of sealed boxes is derived from it (il_seal).
 * Two public values are derived from the root as well:
 *
 *   key_check   = HMAC-SHA256(root, "ironlayer vault key check v1")
 *                 stored beside the salt, to tell a wrong master key
 *   fingerprint = first 8 bytes, in hex, of
 *                 HMAC-SHA256(root, "ironlayer vault fingerprint v1" || 0x00 || secret)
 *                 shown to users to tell secrets apart; not invertible
 *                 without the root
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_VAULT_H
#define IL_VAULT_H

#include <stddef.h>
#include <stdint.h>

#include "il_buf.h"

#define IL_VAULT_ROOT_LEN 32
#define IL_VAULT_SALT_LEN 16
#define IL_VAULT_MIN_ITERATIONS 600000
#define IL_VAULT_MIN_MASTER 16
#define IL_VAULT_MAX_MASTER 4096
#define IL_VAULT_FINGERPRINT_LEN 16	/* hex characters */

/*
 * Read the master key file into key (binary-safe; one trailing "\n" or
 * "\r\n" removed). Returns 0, or -1 with err set: unreadable, empty, too
 * short or too long. Never puts key material into err.
 */
extern int	il_vault_read_master(const char *path, il_buf *key, il_error *err);

/* root = PBKDF2-HMAC-SHA256(master, salt, iterations, 32). */
extern int	il_vault_derive(const uint8_t *master, size_t len,
							const uint8_t *salt, size_t saltlen, uint32_t iterations,
							uint8_t root[IL_VAULT_ROOT_LEN], il_error *err);

extern int	il_vault_key_check(const uint8_t root[IL_VAULT_ROOT_LEN], uint8_t out[32]);

extern int	il_vault_fingerprint(const uint8_t root[IL_VAULT_ROOT_LEN],
								 const uint8_t *secret, size_t len,
								 char out[IL_VAULT_FINGERPRINT_LEN + 1]);

/* Overwrite memory that held key material. */
extern void il_vault_wipe(void *p, size_t len);

#endif							/* IL_VAULT_H */
