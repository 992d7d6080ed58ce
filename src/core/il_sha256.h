/*-------------------------------------------------------------------------
 *
 * il_sha256.h
 *	  SHA-256 (OpenSSL's libcrypto underneath).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_SHA256_H
#define IL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define IL_SHA256_LEN 32
#define IL_SHA256_HEX_LEN 64

/* Incremental hashing. */
typedef struct il_sha256_ctx il_sha256_ctx;

extern il_sha256_ctx *il_sha256_new(void);	/* NULL when out of memory */
extern void il_sha256_update(il_sha256_ctx *ctx, const void *data, size_t len);
/* Writes the digest and frees ctx; returns 0, or -1 when libcrypto failed. */
extern int	il_sha256_final(il_sha256_ctx *ctx, uint8_t out[IL_SHA256_LEN]);

/* One-shot digest; returns 0, or -1 when libcrypto failed. */
extern int	il_sha256(const void *data, size_t len, uint8_t out[IL_SHA256_LEN]);

/* One-shot digest as 64 lower-case hex characters and a NUL. */
extern int	il_sha256_hex(const void *data, size_t len, char out[IL_SHA256_HEX_LEN + 1]);

/* Lower-case hex of len bytes into out (2 * len + 1 bytes). */
extern void il_hex_encode(const uint8_t *in, size_t len, char *out);

#endif							/* IL_SHA256_H */
