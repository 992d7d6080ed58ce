/*-------------------------------------------------------------------------
 *
 * il_kdf.h
 *	  Key derivation: PBKDF2-HMAC-SHA256 (RFC 8018) and HKDF-SHA256
 *	  (RFC 5869), over OpenSSL's libcrypto.
 *
 * Both return 0, or -1 when the arguments are out of range (zero
 * iterations, an empty or oversized output, lengths above INT_MAX for
 * PBKDF2) or libcrypto failed. On failure out is zeroed.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_KDF_H
#define IL_KDF_H

#include <stddef.h>
#include <stdint.h>

/* outlen bytes of PBKDF2-HMAC-SHA256(pass, salt, iterations). */
extern int	il_pbkdf2_sha256(const uint8_t *pass, size_t passlen,
							 const uint8_t *salt, size_t saltlen,
							 uint32_t iterations, uint8_t *out, size_t outlen);

/*
 * outlen bytes (at most 255 * 32) of HKDF-SHA256, extract then expand.
 * An empty salt (saltlen 0) means RFC 5869's default of 32 zero bytes,
 * which gives the same result; an empty info is allowed.
 */
extern int	il_hkdf_sha256(const uint8_t *ikm, size_t ikmlen,
						   const uint8_t *salt, size_t saltlen,
						   const uint8_t *info, size_t infolen,
						   uint8_t *out, size_t outlen);

#endif							/* IL_KDF_H */
