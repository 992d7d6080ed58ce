/*-------------------------------------------------------------------------
 *
 * il_sha256.c
 *	  SHA-256 over OpenSSL's EVP interface.
 *
 *-------------------------------------------------------------------------
 */
#include <openssl/evp.h>

#include "il_sha256.h"

/*
 * OpenSSL 3 looks an algorithm up (under a lock) whenever EVP_sha256() is
 * used to start a digest; fetching it once saves that on every hash. The
 * fetched object is immutable and shared; it is never freed (one per
 * process, like OpenSSL's own tables).
 */
static const EVP_MD *
sha256_md(void)
{
	static EVP_MD *md = NULL;

	if (md == NULL)
		md = EVP_MD_fetch(NULL, "SHA256", NULL);
	return md != NULL ? md : EVP_sha256();
}

struct il_sha256_ctx
{
	EVP_MD_CTX *md;
	int			failed;
};

il_sha256_ctx *
il_sha256_new(void)
{
	il_sha256_ctx *ctx = OPENSSL_zalloc(sizeof(il_sha256_ctx));

	if (ctx == NULL)
		return NULL;
	ctx->md = EVP_MD_CTX_new();
	if (ctx->md == NULL || EVP_DigestInit_ex(ctx->md, sha256_md(), NULL) != 1)
	{
		EVP_MD_CTX_free(ctx->md);
		OPENSSL_free(ctx);
		return NULL;
	}
	return ctx;
}

void
il_sha256_update(il_sha256_ctx *ctx, const void *data, size_t len)
{
	if (len > 0 && EVP_DigestUpdate(ctx->md, data, len) != 1)
		ctx->failed = 1;
}

int
il_sha256_final(il_sha256_ctx *ctx, uint8_t out[IL_SHA256_LEN])
{
	unsigned int n = 0;
	int			failed;

	if (EVP_DigestFinal_ex(ctx->md, out, &n) != 1 || n != IL_SHA256_LEN)
		ctx->failed = 1;
	failed = ctx->failed;
	EVP_MD_CTX_free(ctx->md);
	OPENSSL_free(ctx);
	return failed ? -1 : 0;
}

int
il_sha256(const void *data, size_t len, uint8_t out[IL_SHA256_LEN])
{
	unsigned int n = 0;

	if (EVP_Digest(data, len, out, &n, sha256_md(), NULL) != 1 || n != IL_SHA256_LEN)
		return -1;
	return 0;
}

void
il_hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t		i;

	for (i = 0; i < len; i++)
	{
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

int
il_sha256_hex(const void *data, size_t len, char out[IL_SHA256_HEX_LEN + 1])
{
	uint8_t		d[IL_SHA256_LEN];

	if (il_sha256(data, len, d) != 0)
		return -1;
	il_hex_encode(d, IL_SHA256_LEN, out);
	return 0;
}
