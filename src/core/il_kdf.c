/*-------------------------------------------------------------------------
 *
 * il_kdf.c
 *	  PBKDF2-HMAC-SHA256 and HKDF-SHA256 over libcrypto.
 *
 *-------------------------------------------------------------------------
 */
#include <limits.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "il_kdf.h"

/*
 * il_pbkdf2_sha256
 *		PKCS5_PBKDF2_HMAC with SHA-256.
 */
int
il_pbkdf2_sha256(const uint8_t *pass, size_t passlen,
				 const uint8_t *salt, size_t saltlen,
				 uint32_t iterations, uint8_t *out, size_t outlen)
{
	static const uint8_t empty[1] = {0};

	if (outlen == 0)
		return -1;
	if (iterations == 0 || iterations > INT_MAX || passlen > INT_MAX ||
		saltlen > INT_MAX || outlen > INT_MAX)
	{
		memset(out, 0, outlen);
		return -1;
	}
	if (PKCS5_PBKDF2_HMAC((const char *) (passlen ? pass : empty), (int) passlen,
						  saltlen ? salt : empty, (int) saltlen,
						  (int) iterations, EVP_sha256(), (int) outlen, out) != 1)
	{
		OPENSSL_cleanse(out, outlen);
		return -1;
	}
	return 0;
}

/*
 * il_hkdf_sha256
 *		EVP_KDF "HKDF" with SHA-256 in extract-and-expand mode.
 */
int
il_hkdf_sha256(const uint8_t *ikm, size_t ikmlen,
			   const uint8_t *salt, size_t saltlen,
			   const uint8_t *info, size_t infolen,
			   uint8_t *out, size_t outlen)
{
	static const uint8_t zero_salt[32] = {0};
	EVP_KDF    *kdf;
	EVP_KDF_CTX *ctx = NULL;
	OSSL_PARAM	params[5];
	OSSL_PARAM *p = params;
	int			ok = 0;

	if (outlen == 0)
		return -1;
	if (outlen > 255 * 32)
	{
		memset(out, 0, outlen);
		return -1;
	}
	kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL);
	if (kdf != NULL)
		ctx = EVP_KDF_CTX_new(kdf);
	if (ctx != NULL)
	{
		/* RFC 5869 2.2: a missing salt is HashLen zeros (same HMAC key). */
		if (saltlen == 0)
		{
			salt = zero_salt;
			saltlen = sizeof(zero_salt);
		}
		*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *) "SHA256", 0);
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *) ikm, ikmlen);
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *) salt, saltlen);
		if (infolen > 0)
			*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *) info, infolen);
		*p = OSSL_PARAM_construct_end();
		ok = EVP_KDF_derive(ctx, out, outlen, params) == 1;
	}
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	if (!ok)
	{
		OPENSSL_cleanse(out, outlen);
		return -1;
	}
	return 0;
}
