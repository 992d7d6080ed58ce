/*
 * libFuzzer harness of il_fernet.c, il_seal.c and il_b64.c.
 *
 * The first input byte picks a mode; the rest is the payload:
 *	0: decrypt the payload as a Fernet token text (fixed key, with a TTL)
 *	1: take the payload as raw token bytes, give it a valid HMAC, encode it
 *	   and decrypt: exercises the decryption and padding paths. A token that
 *	   decrypts must be reproduced exactly by encrypting its plaintext with
 *	   its timestamp and IV (Fernet is deterministic given those).
 *	2: open the payload as a sealed text with a fixed vault key
 *	3: seal the payload to the fixed public key, open it: same bytes
 *	4: decode the payload in each base64 variant; what decodes must encode
 *	   back to the same text (strict decoding is canonical)
 *	5: encrypt the payload with a random IV and decrypt it: same bytes
 * Anything else: all of 0, 2 and 4. Nothing may crash or leak; invariants
 * abort on violation. Memory: decrypting a token and opening a sealed text
 * (what put_credential does) take at most 4 bytes of the core's heap per
 * input byte, plus 64 kB (test/bench/memcount.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "il_b64.h"
#include "il_fernet.h"
#include "il_seal.h"
#include "memcount.h"

#define RATIO 4
#define SLACK ((size_t) 64 << 10)

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The Fernet spec's test key, so that its token (a seed) verifies. */
static const uint8_t fkey[32] = {
	0x73, 0x0f, 0xf4, 0xc7, 0xaf, 0x3d, 0x46, 0x92, 0x3e, 0x8e, 0xd4, 0x51, 0xee, 0x81, 0x3c, 0x87,
	0xf7, 0x90, 0xb0, 0xa2, 0x26, 0xbc, 0x96, 0xa9, 0x2d, 0xe4, 0x9b, 0x5e, 0x9c, 0x05, 0xe1, 0xee,
};
static const uint8_t root[32] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
};
#define NOW 499162801			/* the spec vectors' time */

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_fernet: invariant violated: %s\n", what);
	abort();
}

static void
decrypt_text(const uint8_t *p, size_t n)
{
	il_buf		out = IL_BUF_INIT;
	il_error	err;
	long long	base;

	il_buf_puts(&out, "k");
	if (il_fernet_decrypt(fkey, (const char *) p, n, NOW, 60, &out, &err) != 0 &&
		(out.len != 1 || err.code == NULL))
		fail("failed decryption changed the output or set no code");
	il_buf_free(&out);
	il_buf_init(&out);
	base = memcount_start();
	il_fernet_decrypt(fkey, (const char *) p, n, NOW, 0, &out, &err);
	if (memcount_peak_since(base) > RATIO * n + SLACK)
		fail("decryption took more memory per input byte than the bound");
	il_buf_free(&out);
}

static void
resigned(const uint8_t *p, size_t n)
{
	uint8_t    *raw;
	unsigned int maclen = 0;
	il_buf		tok = IL_BUF_INIT;
	il_buf		out = IL_BUF_INIT;
	il_buf		again = IL_BUF_INIT;
	il_error	err;

	if (n < 32 || n > 4096)
		return;
	raw = malloc(n);
	memcpy(raw, p, n);
	HMAC(EVP_sha256(), fkey, 16, raw, n - 32, raw + n - 32, &maclen);
	il_b64_encode(&tok, raw, n, IL_B64_URL);
	if (il_fernet_decrypt(fkey, il_buf_cstr(&tok), tok.len, NOW, 0, &out, &err) == 0)
	{
		uint64_t	ts = 0;
		int			i;

		for (i = 1; i <= 8; i++)
			ts = (ts << 8) | raw[i];
		if (il_fernet_encrypt(fkey, (const uint8_t *) out.data, out.len, ts, raw + 9, &again, &err) != 0 ||
			again.len != tok.len || memcmp(again.data, tok.data, tok.len) != 0)
			fail("a decrypted token is not reproduced by encryption");
	}
	else if (n >= 73 && raw[0] == 0x80 && (n - 57) % 16 == 0 &&
			 strcmp(err.code, "fernet_bad_padding") != 0)
		fail("a well-formed signed token failed other than by padding");
	free(raw);
	il_buf_free(&tok);
	il_buf_free(&out);
	il_buf_free(&again);
}

static void
seal_open(const il_seal_key *key, const uint8_t *p, size_t n)
{
	il_buf		out = IL_BUF_INIT;
	il_error	err;
	long long	base = memcount_start();

	if (il_seal_open(key, (const char *) p, n, &out, &err) != 0 && out.len != 0)
		fail("a failed open wrote output");
	if (memcount_peak_since(base) > RATIO * n + SLACK)
		fail("opening took more memory per input byte than the bound");
	il_buf_free(&out);
}

static void
seal_round_trip(const il_seal_key *key, const uint8_t *p, size_t n)
{
	il_buf		pub = IL_BUF_INIT;
	il_buf		sealed = IL_BUF_INIT;
	il_buf		out = IL_BUF_INIT;
	il_error	err;

	il_seal_public_text(key, &pub);
	if (il_seal_seal(pub.data, pub.len, p, n, &sealed, &err) != 0 ||
		il_seal_open(key, sealed.data, sealed.len, &out, &err) != 0 ||
		out.len != n || (n > 0 && memcmp(out.data, p, n) != 0))
		fail("seal and open do not round-trip");
	il_buf_free(&pub);
	il_buf_free(&sealed);
	il_buf_free(&out);
}

static void
b64_canonical(const uint8_t *p, size_t n)
{
	il_b64_variant v;

	for (v = IL_B64_STD; v <= IL_B64_URL_NOPAD; v++)
	{
		il_buf		dec = IL_BUF_INIT;
		il_buf		enc = IL_BUF_INIT;
		il_error	err;

		if (il_b64_decode((const char *) p, n, v, &dec, &err) == 0)
		{
			il_b64_encode(&enc, (const uint8_t *) dec.data, dec.len, v);
			if (enc.len != n || (n > 0 && memcmp(enc.data, p, n) != 0))
				fail("a decoded text does not encode back to itself");
		}
		il_buf_free(&dec);
		il_buf_free(&enc);
	}
}

static void
fernet_round_trip(const uint8_t *p, size_t n)
{
	il_buf		tok = IL_BUF_INIT;
	il_buf		out = IL_BUF_INIT;
	il_error	err;

	if (il_fernet_encrypt(fkey, p, n, NOW, NULL, &tok, &err) != 0 ||
		il_fernet_decrypt(fkey, tok.data, tok.len, NOW, 60, &out, &err) != 0 ||
		out.len != n || (n > 0 && memcmp(out.data, p, n) != 0))
		fail("encrypt and decrypt do not round-trip");
	il_buf_free(&tok);
	il_buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	il_seal_key key;
	il_error	err;
	const uint8_t *p = data + 1;
	size_t		n = size - 1;

	if (size == 0)
		return 0;
	if (il_seal_keypair_from_root(root, &key, &err) != 0)
		fail("key derivation failed");
	switch (data[0])
	{
		case 0:
			decrypt_text(p, n);
			break;
		case 1:
			resigned(p, n);
			break;
		case 2:
			seal_open(&key, p, n);
			break;
		case 3:
			seal_round_trip(&key, p, n);
			break;
		case 4:
			b64_canonical(p, n);
			break;
		case 5:
			fernet_round_trip(p, n);
			break;
		default:
			decrypt_text(data, size);
			seal_open(&key, data, size);
			b64_canonical(data, size);
			break;
	}
	il_seal_key_clear(&key);
	return 0;
}
