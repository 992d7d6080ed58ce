/*-------------------------------------------------------------------------
 *
 * il_fernet.c
 *	  Fernet tokens over libcrypto: AES-128-CBC, HMAC-SHA256, RAND_bytes.
 *
 *-------------------------------------------------------------------------
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "il_b64.h"
#include "il_fernet.h"

#define FERNET_VERSION 0x80
#define FERNET_HDR 25			/* version (1) + timestamp (8) + IV (16) */
#define FERNET_MAC 32
#define FERNET_BLOCK 16
#define FERNET_MIN (FERNET_HDR + FERNET_BLOCK + FERNET_MAC)
/* EVP lengths are int: feed the cipher in pieces no larger than this. */
#define FERNET_CHUNK ((size_t) 1 << 30)

/*
 * put_be64
 *		Writes v as 8 big-endian bytes.
 */
static void
put_be64(uint8_t *p, uint64_t v)
{
	int			i;

	for (i = 7; i >= 0; i--)
	{
		p[i] = (uint8_t) (v & 0xff);
		v >>= 8;
	}
}

/*
 * get_be64
 *		Reads 8 big-endian bytes.
 */
static uint64_t
get_be64(const uint8_t *p)
{
	uint64_t	v = 0;
	int			i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/*
 * fernet_mac
 *		HMAC-SHA256 with the signing key (first 16 bytes of key).
 */
static int
fernet_mac(const uint8_t *key, const uint8_t *data, size_t len, uint8_t mac[FERNET_MAC])
{
	unsigned int n = 0;

	if (HMAC(EVP_sha256(), key, 16, data, len, mac, &n) == NULL || n != FERNET_MAC)
		return -1;
	return 0;
}

/*
 * fernet_cipher
 *		AES-128-CBC with PKCS#7 padding over in[0..len), into out.
 *
 * out must have room for len + 16 bytes. Sets *outlen. Returns 0, 1 when
 * decryption found bad padding, or -1 when libcrypto failed.
 */
static int
fernet_cipher(int enc, const uint8_t *key, const uint8_t *iv,
			  const uint8_t *in, size_t len, uint8_t *out, size_t *outlen)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	size_t		done = 0;
	size_t		o = 0;
	int			n;
	int			rc = -1;

	*outlen = 0;
	if (ctx == NULL)
		return -1;
	if (EVP_CipherInit_ex(ctx, EVP_aes_128_cbc(), NULL, key + 16, iv, enc) != 1)
		goto done;
	while (done < len)
	{
		size_t		piece = len - done < FERNET_CHUNK ? len - done : FERNET_CHUNK;

		if (EVP_CipherUpdate(ctx, out + o, &n, in + done, (int) piece) != 1)
			goto done;
		done += piece;
		o += (size_t) n;
	}
	if (EVP_CipherFinal_ex(ctx, out + o, &n) != 1)
	{
		rc = enc ? -1 : 1;
		goto done;
	}
	o += (size_t) n;
	*outlen = o;
	rc = 0;

done:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

/*
 * il_fernet_encrypt
 *		Builds a token for plain at time now, with a random IV unless given.
 */
int
il_fernet_encrypt(const uint8_t key[IL_FERNET_KEY_LEN],
				  const uint8_t *plain, size_t len, uint64_t now,
				  const uint8_t iv[16], il_buf *token, il_error *err)
{
	size_t		ctmax;
	size_t		ctlen = 0;
	size_t		total;
	uint8_t    *raw;
	int			rc;

	if (len > SIZE_MAX - FERNET_MIN - FERNET_BLOCK)
	{
		il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "message of %zu bytes is too long to encrypt", len);
		return -1;
	}
	ctmax = (len / FERNET_BLOCK + 1) * FERNET_BLOCK;
	raw = il_malloc(FERNET_HDR + ctmax + FERNET_BLOCK + FERNET_MAC);
	if (raw == NULL)
	{
		il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory encrypting a fernet token");
		return -1;
	}
	raw[0] = FERNET_VERSION;
	put_be64(raw + 1, now);
	if (iv != NULL)
		memcpy(raw + 9, iv, 16);
	else if (RAND_bytes(raw + 9, 16) != 1)
	{
		il_free(raw);
		il_error_set(err, IL_ERR_CRYPTO_FAILURE, 0, 0, "could not draw a random IV (RAND_bytes failed)");
		return -1;
	}
	rc = fernet_cipher(1, key, raw + 9, plain, len, raw + FERNET_HDR, &ctlen);
	if (rc != 0 || ctlen != ctmax ||
		fernet_mac(key, raw, FERNET_HDR + ctlen, raw + FERNET_HDR + ctlen) != 0)
	{
		OPENSSL_cleanse(raw, FERNET_HDR + ctmax + FERNET_BLOCK + FERNET_MAC);
		il_free(raw);
		il_error_set(err, IL_ERR_CRYPTO_FAILURE, 0, 0, "could not encrypt a fernet token (libcrypto failed)");
		return -1;
	}
	total = FERNET_HDR + ctlen + FERNET_MAC;
	if (!il_buf_reserve(token, il_b64_encoded_len(total, IL_B64_URL)))
	{
		il_free(raw);
		il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory encoding a fernet token");
		return -1;
	}
	il_b64_encode(token, raw, total, IL_B64_URL);
	il_free(raw);
	return 0;
}

/*
 * fernet_parse
 *		Decodes a token and checks its structure (not its HMAC).
 *
 * On success raw holds the decoded bytes; on failure it is freed.
 */
static int
fernet_parse(const char *token, size_t len, il_buf *raw, il_error *err)
{
	il_error	e;

	il_buf_init(raw);
	if (il_b64_decode(token, len, IL_B64_URL, raw, &e) != 0)
	{
		il_buf_free(raw);
		if (il_error_is(&e, IL_ERR_OUT_OF_MEMORY))
			il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory decoding a fernet token");
		else
			il_error_set(err, IL_ERR_FERNET_BAD_BASE64, e.line, e.column,
						 "fernet token is not valid base64url: %s", e.message);
		return -1;
	}
	if (raw->len < FERNET_MIN)
	{
		il_error_set(err, IL_ERR_FERNET_TOO_SHORT, 0, 0,
					 "fernet token is too short: %zu bytes, at least %d expected",
					 raw->len, FERNET_MIN);
		il_buf_free(raw);
		return -1;
	}
	if ((uint8_t) raw->data[0] != FERNET_VERSION)
	{
		il_error_set(err, IL_ERR_FERNET_BAD_VERSION, 0, 0,
					 "fernet token has version byte 0x%02x, expected 0x80",
					 (uint8_t) raw->data[0]);
		il_buf_free(raw);
		return -1;
	}
	if ((raw->len - FERNET_HDR - FERNET_MAC) % FERNET_BLOCK != 0)
	{
		il_error_set(err, IL_ERR_FERNET_BAD_LENGTH, 0, 0,
					 "fernet token ciphertext of %zu bytes is not a whole number of 16-byte blocks",
					 raw->len - FERNET_HDR - FERNET_MAC);
		il_buf_free(raw);
		return -1;
	}
	return 0;
}

/*
 * il_fernet_decrypt
 *		Verifies a token and appends its plaintext.
 */
int
il_fernet_decrypt(const uint8_t key[IL_FERNET_KEY_LEN],
				  const char *token, size_t len, uint64_t now,
				  int64_t ttl, il_buf *plain, il_error *err)
{
	il_buf		raw;
	const uint8_t *r;
	size_t		signed_len;
	size_t		ctlen;
	size_t		outlen = 0;
	uint64_t	ts;
	uint8_t		mac[FERNET_MAC];
	uint8_t    *dst;
	int			rc;

	if (fernet_parse(token, len, &raw, err) != 0)
		return -1;
	r = (const uint8_t *) raw.data;
	signed_len = raw.len - FERNET_MAC;
	ctlen = signed_len - FERNET_HDR;
	ts = get_be64(r + 1);
	if (ttl > 0)
	{
		if (now > ts && now - ts > (uint64_t) ttl)
		{
			il_error_set(err, IL_ERR_FERNET_EXPIRED, 0, 0,
						 "fernet token has expired: issued %llu s ago, time to live %lld s",
						 (unsigned long long) (now - ts), (long long) ttl);
			il_buf_free(&raw);
			return -1;
		}
		if (ts > now && ts - now > IL_FERNET_MAX_CLOCK_SKEW)
		{
			il_error_set(err, IL_ERR_FERNET_FUTURE, 0, 0,
						 "fernet token timestamp is %llu s in the future (at most %d s of clock skew allowed)",
						 (unsigned long long) (ts - now), IL_FERNET_MAX_CLOCK_SKEW);
			il_buf_free(&raw);
			return -1;
		}
	}
	if (fernet_mac(key, r, signed_len, mac) != 0)
	{
		il_error_set(err, IL_ERR_CRYPTO_FAILURE, 0, 0, "could not compute a fernet HMAC (libcrypto failed)");
		il_buf_free(&raw);
		return -1;
	}
	if (CRYPTO_memcmp(mac, r + signed_len, FERNET_MAC) != 0)
	{
		OPENSSL_cleanse(mac, sizeof(mac));
		il_error_set(err, IL_ERR_FERNET_BAD_HMAC, 0, 0,
					 "fernet token signature does not match: wrong key or tampered token");
		il_buf_free(&raw);
		return -1;
	}
	OPENSSL_cleanse(mac, sizeof(mac));

	/* Decrypt in place at the end of plain: no other copy of the plaintext. */
	if (!il_buf_reserve(plain, ctlen + FERNET_BLOCK))
	{
		il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory decrypting a fernet token");
		il_buf_free(&raw);
		return -1;
	}
	dst = (uint8_t *) plain->data + plain->len;
	rc = fernet_cipher(0, key, r + 9, r + FERNET_HDR, ctlen, dst, &outlen);
	il_buf_free(&raw);
	if (rc != 0)
	{
		OPENSSL_cleanse(dst, ctlen + FERNET_BLOCK);
		plain->data[plain->len] = '\0';
		if (rc > 0)
			il_error_set(err, IL_ERR_FERNET_BAD_PADDING, 0, 0,
						 "fernet token has invalid padding after decryption");
		else
			il_error_set(err, IL_ERR_CRYPTO_FAILURE, 0, 0,
						 "could not decrypt a fernet token (libcrypto failed)");
		return -1;
	}
	/* Wipe what the cipher wrote beyond the plaintext (the padding block). */
	OPENSSL_cleanse(dst + outlen, ctlen + FERNET_BLOCK - outlen);
	plain->len += outlen;
	plain->data[plain->len] = '\0';
	return 0;
}

/*
 * il_fernet_timestamp
 *		The unverified timestamp of a well-formed token.
 */
int
il_fernet_timestamp(const char *token, size_t len, uint64_t *ts, il_error *err)
{
	il_buf		raw;

	*ts = 0;
	if (fernet_parse(token, len, &raw, err) != 0)
		return -1;
	*ts = get_be64((const uint8_t *) raw.data + 1);
	il_buf_free(&raw);
	return 0;
}

/*
 * il_fernet_key_decode
 *		Parses the 44-character text of a key.
 */
int
il_fernet_key_decode(const char *text, size_t len,
					 uint8_t key[IL_FERNET_KEY_LEN], il_error *err)
{
	uint8_t		tmp[IL_FERNET_KEY_LEN + 3];
	size_t		n = 0;
	il_error	e;

	memset(key, 0, IL_FERNET_KEY_LEN);
	if (len != IL_FERNET_KEY_TEXT_LEN)
	{
		il_error_set(err, IL_ERR_FERNET_BAD_KEY, 0, 0,
					 "fernet key must be 44 characters of base64url, not %zu", len);
		return -1;
	}
	if (il_b64_decode_to(text, len, IL_B64_URL, tmp, sizeof(tmp), &n, &e) != 0 ||
		n != IL_FERNET_KEY_LEN)
	{
		OPENSSL_cleanse(tmp, sizeof(tmp));
		il_error_set(err, IL_ERR_FERNET_BAD_KEY, 0, 0,
					 "fernet key is not base64url of 32 bytes");
		return -1;
	}
	memcpy(key, tmp, IL_FERNET_KEY_LEN);
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return 0;
}

/*
 * il_fernet_key_encode
 *		Appends the text form of a key.
 */
void
il_fernet_key_encode(const uint8_t key[IL_FERNET_KEY_LEN], il_buf *out)
{
	il_b64_encode(out, key, IL_FERNET_KEY_LEN, IL_B64_URL);
}

/*
 * il_fernet_key_generate
 *		32 random bytes from the CSPRNG.
 */
int
il_fernet_key_generate(uint8_t key[IL_FERNET_KEY_LEN], il_error *err)
{
	if (RAND_bytes(key, IL_FERNET_KEY_LEN) != 1)
	{
		OPENSSL_cleanse(key, IL_FERNET_KEY_LEN);
		il_error_set(err, IL_ERR_CRYPTO_FAILURE, 0, 0, "could not draw a random key (RAND_bytes failed)");
		return -1;
	}
	return 0;
}
