/*-------------------------------------------------------------------------
 *
 * il_seal.c
 *	  Sealed boxes (X25519, HKDF-SHA256, AES-256-GCM) over libcrypto.
 *
 * The construction is specified in il_seal.h.
 *
 *-------------------------------------------------------------------------
 */
#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "il_b64.h"
#include "il_kdf.h"
#include "il_seal.h"

#define SEAL_AAD_LABEL_LEN (sizeof(IL_SEAL_AAD_LABEL) - 1)
/* EVP lengths are int: feed the cipher in pieces no larger than this. */
#define SEAL_CHUNK ((size_t) 1 << 30)

static const char open_failed[] =
"sealed secret could not be opened: wrong vault key or tampered data";

/*
 * x25519_public
 *		The public key of a raw X25519 private key.
 */
static int
x25519_public(const uint8_t priv[32], uint8_t pub[32])
{
	EVP_PKEY   *pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);
	size_t		n = 32;
	int			ok;

	if (pkey == NULL)
		return -1;
	ok = EVP_PKEY_get_raw_public_key(pkey, pub, &n) == 1 && n == 32;
	EVP_PKEY_free(pkey);
	return ok ? 0 : -1;
}

/*
 * x25519_shared
 *		X25519(priv, peer). Fails (-1) on an all-zero result, which libcrypto
 *		refuses: the peer key was a low-order point.
 */
static int
x25519_shared(const uint8_t priv[32], const uint8_t peer[32], uint8_t out[32])
{
	EVP_PKEY   *me = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);
	EVP_PKEY   *them = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, 32);
	EVP_PKEY_CTX *ctx = NULL;
	size_t		n = 32;
	int			ok = 0;

	if (me != NULL && them != NULL)
		ctx = EVP_PKEY_CTX_new(me, NULL);
	if (ctx != NULL &&
		EVP_PKEY_derive_init(ctx) == 1 &&
		EVP_PKEY_derive_set_peer(ctx, them) == 1 &&
		EVP_PKEY_derive(ctx, out, &n) == 1 && n == 32)
		ok = 1;
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(them);
	EVP_PKEY_free(me);
	if (!ok)
		OPENSSL_cleanse(out, 32);
	return ok ? 0 : -1;
}

/*
 * seal_aead_key
 *		key = HKDF-SHA256(shared, eph_pub || server_pub, info AEAD, 32).
 */
static int
seal_aead_key(const uint8_t shared[32], const uint8_t eph_pub[32],
			  const uint8_t server_pub[32], uint8_t key[32])
{
	uint8_t		salt[64];

	memcpy(salt, eph_pub, 32);
	memcpy(salt + 32, server_pub, 32);
	return il_hkdf_sha256(shared, 32, salt, sizeof(salt),
						  (const uint8_t *) IL_SEAL_INFO_AEAD,
						  sizeof(IL_SEAL_INFO_AEAD) - 1, key, 32);
}

/*
 * seal_gcm
 *		AES-256-GCM over in[0..len) into out (len bytes), with
 *		AAD "ilseal1" || eph_pub. Encrypting writes tag; decrypting checks
 *		it. Returns 0, 1 when the tag does not verify, -1 when libcrypto
 *		failed.
 */
static int
seal_gcm(int enc, const uint8_t key[32], const uint8_t nonce[IL_SEAL_NONCE_LEN],
		 const uint8_t eph_pub[32], const uint8_t *in, size_t len,
		 uint8_t *out, uint8_t tag[IL_SEAL_TAG_LEN])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t		aad[SEAL_AAD_LABEL_LEN + 32];
	size_t		done = 0;
	int			n;
	int			rc = -1;

	if (ctx == NULL)
		return -1;
	memcpy(aad, IL_SEAL_AAD_LABEL, SEAL_AAD_LABEL_LEN);
	memcpy(aad + SEAL_AAD_LABEL_LEN, eph_pub, 32);
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, IL_SEAL_NONCE_LEN, NULL) != 1 ||
		EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) != 1 ||
		EVP_CipherUpdate(ctx, NULL, &n, aad, (int) sizeof(aad)) != 1)
		goto done;
	while (done < len)
	{
		size_t		piece = len - done < SEAL_CHUNK ? len - done : SEAL_CHUNK;

		if (EVP_CipherUpdate(ctx, out + done, &n, in + done, (int) piece) != 1 ||
			(size_t) n != piece)
			goto done;
		done += piece;
	}
	if (!enc &&
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, IL_SEAL_TAG_LEN, tag) != 1)
		goto done;
	if (EVP_CipherFinal_ex(ctx, out + done, &n) != 1)
	{
		rc = enc ? -1 : 1;
		goto done;
	}
	if (enc &&
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, IL_SEAL_TAG_LEN, tag) != 1)
		goto done;
	rc = 0;

done:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

/*
 * il_seal_keypair_from_root
 *		Derives the server's X25519 key pair from the vault root key.
 */
int
il_seal_keypair_from_root(const uint8_t root[32], il_seal_key *key, il_error *err)
{
	if (il_hkdf_sha256(root, 32, NULL, 0,
					   (const uint8_t *) IL_SEAL_INFO_X25519,
					   sizeof(IL_SEAL_INFO_X25519) - 1,
					   key->priv, sizeof(key->priv)) != 0 ||
		x25519_public(key->priv, key->pub) != 0)
	{
		il_seal_key_clear(key);
		il_error_set(err, IL_ERR_CRYPTO_FAILURE, 0, 0,
					 "could not derive the vault seal key pair (libcrypto failed)");
		return -1;
	}
	return 0;
}

/*
 * il_seal_public_text
 *		"ilseal1:" and the unpadded base64url of the public key.
 */
void
il_seal_public_text(const il_seal_key *key, il_buf *out)
{
	il_buf_append(out, IL_SEAL_PREFIX, IL_SEAL_PREFIX_LEN);
	il_b64_encode(out, key->pub, sizeof(key->pub), IL_B64_URL_NOPAD);
}

/*
 * seal_check_prefix
 *		Does text start with "ilseal1:"? Sets err when not.
 */
static int
seal_check_prefix(const char *text, size_t len, const char *what, il_error *err)
{
	if (len < IL_SEAL_PREFIX_LEN || memcmp(text, IL_SEAL_PREFIX, IL_SEAL_PREFIX_LEN) != 0)
	{
		il_error_set(err, IL_ERR_SEAL_BAD_PREFIX, 0, 0,
					 "%s does not start with \"%s\"", what, IL_SEAL_PREFIX);
		return -1;
	}
	return 0;
}

/*
 * il_seal_seal
 *		Seals with a fresh ephemeral key and nonce.
 */
int
il_seal_seal(const char *public_text, size_t len,
			 const uint8_t *plain, size_t plen,
			 il_buf *sealed_out, il_error *err)
{
	return il_seal_seal_ex(public_text, len, plain, plen, NULL, NULL, sealed_out, err);
}

/*
 * il_seal_seal_ex
 *		Seals with the given (or random) ephemeral private key and nonce.
 */
int
il_seal_seal_ex(const char *public_text, size_t len,
				const uint8_t *plain, size_t plen,
				const uint8_t eph_priv[32],
				const uint8_t nonce[IL_SEAL_NONCE_LEN],
				il_buf *sealed_out, il_error *err)
{
	uint8_t		server_pub[IL_SEAL_KEY_LEN];
	uint8_t		priv[32];
	uint8_t		shared[32];
	uint8_t		key[32];
	uint8_t    *box = NULL;
	size_t		n = 0;
	size_t		boxlen;
	il_error	e;
	int			rc = -1;

	il_error_clear(&e);
	if (seal_check_prefix(public_text, len, "vault public key", err) != 0)
		return -1;
	if (len - IL_SEAL_PREFIX_LEN != 43)
	{
		il_error_set(err, IL_ERR_SEAL_BAD_PUBLIC_KEY, 0, 0,
					 "vault public key must be \"%s\" and 43 characters, not %zu",
					 IL_SEAL_PREFIX, len - IL_SEAL_PREFIX_LEN);
		return -1;
	}
	if (il_b64_decode_to(public_text + IL_SEAL_PREFIX_LEN, len - IL_SEAL_PREFIX_LEN,
						 IL_B64_URL_NOPAD, server_pub, sizeof(server_pub), &n, &e) != 0 ||
		n != IL_SEAL_KEY_LEN)
	{
		il_error_set(err, IL_ERR_SEAL_BAD_BASE64, 0, 0,
					 "vault public key is not valid base64url: %s", e.message);
		return -1;
	}
	if (plen > SIZE_MAX - IL_SEAL_OVERHEAD)
	{
		il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "secret of %zu bytes is too long to seal", plen);
		return -1;
	}
	boxlen = IL_SEAL_OVERHEAD + plen;
	box = OPENSSL_malloc(boxlen);
	if (box == NULL)
	{
		il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory sealing a secret");
		return -1;
	}

	/* Ephemeral key pair and nonce. */
	if (eph_priv != NULL)
		memcpy(priv, eph_priv, 32);
	else if (RAND_bytes(priv, 32) != 1)
		goto rand_failed;
	if (nonce != NULL)
		memcpy(box + 32, nonce, IL_SEAL_NONCE_LEN);
	else if (RAND_bytes(box + 32, IL_SEAL_NONCE_LEN) != 1)
		goto rand_failed;
	if (x25519_public(priv, box) != 0)
		goto crypto_failed;

	if (x25519_shared(priv, server_pub, shared) != 0)
	{
		il_error_set(err, IL_ERR_SEAL_BAD_PUBLIC_KEY, 0, 0,
					 "vault public key is not usable (low-order point)");
		goto done;
	}
	if (seal_aead_key(shared, box, server_pub, key) != 0 ||
		seal_gcm(1, key, box + 32, box, plain, plen, box + 44,
				 box + 44 + plen) != 0)
		goto crypto_failed;

	if (!il_buf_reserve(sealed_out, IL_SEAL_PREFIX_LEN +
						il_b64_encoded_len(boxlen, IL_B64_URL_NOPAD)))
	{
		il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory sealing a secret");
		goto done;
	}
	il_buf_append(sealed_out, IL_SEAL_PREFIX, IL_SEAL_PREFIX_LEN);
	il_b64_encode(sealed_out, box, boxlen, IL_B64_URL_NOPAD);
	rc = 0;
	goto done;

rand_failed:
	il_error_set(err, IL_ERR_CRYPTO_FAILURE, 0, 0, "could not draw random bytes (RAND_bytes failed)");
	goto done;
crypto_failed:
	il_error_set(err, IL_ERR_CRYPTO_FAILURE, 0, 0, "could not seal a secret (libcrypto failed)");
done:
	OPENSSL_cleanse(priv, sizeof(priv));
	OPENSSL_cleanse(shared, sizeof(shared));
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_clear_free(box, boxlen);
	return rc;
}

/*
 * il_seal_open
 *		Opens a sealed text with the server key.
 */
int
il_seal_open(const il_seal_key *key, const char *sealed, size_t len,
			 il_buf *plain_out, il_error *err)
{
	il_buf		raw = IL_BUF_INIT;
	const uint8_t *r;
	uint8_t		shared[32];
	uint8_t		aead[32];
	uint8_t		tag[IL_SEAL_TAG_LEN];
	uint8_t    *dst;
	size_t		clen;
	il_error	e;
	int			rc;

	if (seal_check_prefix(sealed, len, "sealed secret", err) != 0)
		return -1;
	if (il_b64_decode(sealed + IL_SEAL_PREFIX_LEN, len - IL_SEAL_PREFIX_LEN,
					  IL_B64_URL_NOPAD, &raw, &e) != 0)
	{
		if (il_error_is(&e, IL_ERR_OUT_OF_MEMORY))
			il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory opening a sealed secret");
		else
			il_error_set(err, IL_ERR_SEAL_BAD_BASE64, 0, 0,
						 "sealed secret is not valid base64url: %s", e.message);
		il_buf_free(&raw);
		return -1;
	}
	if (raw.len < IL_SEAL_OVERHEAD)
	{
		il_error_set(err, IL_ERR_SEAL_TOO_SHORT, 0, 0,
					 "sealed secret is too short: %zu bytes, at least %d expected",
					 raw.len, IL_SEAL_OVERHEAD);
		il_buf_free(&raw);
		return -1;
	}
	r = (const uint8_t *) raw.data;
	clen = raw.len - IL_SEAL_OVERHEAD;
	if (x25519_shared(key->priv, r, shared) != 0)
	{
		/* A low-order ephemeral key: nobody could have sealed this. */
		il_error_set(err, IL_ERR_SEAL_OPEN_FAILED, 0, 0, "%s", open_failed);
		il_buf_free(&raw);
		return -1;
	}
	if (seal_aead_key(shared, r, key->pub, aead) != 0)
	{
		OPENSSL_cleanse(shared, sizeof(shared));
		il_error_set(err, IL_ERR_CRYPTO_FAILURE, 0, 0, "could not open a sealed secret (libcrypto failed)");
		il_buf_free(&raw);
		return -1;
	}
	OPENSSL_cleanse(shared, sizeof(shared));
	if (!il_buf_reserve(plain_out, clen))
	{
		OPENSSL_cleanse(aead, sizeof(aead));
		il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory opening a sealed secret");
		il_buf_free(&raw);
		return -1;
	}
	/* Decrypt in place at the end of plain_out; wipe it unless verified. */
	memcpy(tag, r + 44 + clen, IL_SEAL_TAG_LEN);
	dst = (uint8_t *) plain_out->data + plain_out->len;
	rc = seal_gcm(0, aead, r + 32, r, r + 44, clen, dst, tag);
	OPENSSL_cleanse(aead, sizeof(aead));
	il_buf_free(&raw);
	if (rc != 0)
	{
		OPENSSL_cleanse(dst, clen);
		plain_out->data[plain_out->len] = '\0';
		if (rc > 0)
			il_error_set(err, IL_ERR_SEAL_OPEN_FAILED, 0, 0, "%s", open_failed);
		else
			il_error_set(err, IL_ERR_CRYPTO_FAILURE, 0, 0, "could not open a sealed secret (libcrypto failed)");
		return -1;
	}
	plain_out->len += clen;
	plain_out->data[plain_out->len] = '\0';
	return 0;
}

/*
 * il_seal_key_clear
 *		Wipes a key pair.
 */
void
il_seal_key_clear(il_seal_key *key)
{
	OPENSSL_cleanse(key, sizeof(*key));
}
