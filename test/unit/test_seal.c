/*
 * Unit tests of il_seal.c: known answers made with an independent
 * implementation of the construction in il_seal.h (python3-cryptography:
 * HKDF, X25519, AESGCM), round trips, wrong keys, tampering, and formats.
 */
#include <stdlib.h>
#include <string.h>

#include "il_b64.h"
#include "il_seal.h"
#include "il_sha256.h"
#include "unit.h"

#define KAT_PUBLIC "ilseal1:PyhLYxsroBdm1p8JeC66lC2Upp3xyzg39GQVkOqmiSI"
#define KAT_SEALED "ilseal1:eaYx7t4b-cmPEgMs3q3Q56B5OY_HhriMyEbsia-FpRpwcXJzdHV2d3h5enuOH5x2pyYa" \
	"Qarekl2hyP3GoH3C6k2eEJJYY3n5rC2XXPA"
#define KAT_SEALED_EMPTY "ilseal1:eaYx7t4b-cmPEgMs3q3Q56B5OY_HhriMyEbsia-FpRpwcXJzdHV2d3h5entXVTfrg6ZQHr2q" \
	"w42XKgyY"
#define OPEN_FAILED "sealed secret could not be opened: wrong vault key or tampered data"

/* Opens text; returns the plaintext or "ERR:<code>". */
static const char *
open_text(const il_seal_key *key, const char *text, size_t len, il_buf *out)
{
	il_error	err;

	il_buf_reset(out);
	if (il_seal_open(key, text, len, out, &err) != 0)
	{
		il_buf_reset(out);
		il_buf_printf(out, "ERR:%s", err.code);
	}
	return il_buf_cstr(out);
}

static void
test_known_answers(void)
{
	uint8_t		root[32];
	uint8_t		eph[32];
	uint8_t		nonce[12];
	il_seal_key key;
	il_buf		b = IL_BUF_INIT;
	il_error	err;
	char		h[65];
	size_t		i;

	for (i = 0; i < 32; i++)
	{
		root[i] = (uint8_t) i;
		eph[i] = (uint8_t) (0x40 + i);
	}
	for (i = 0; i < 12; i++)
		nonce[i] = (uint8_t) (0x70 + i);
	CHECK(il_seal_keypair_from_root(root, &key, &err) == 0, "a key pair derives from a root key");
	il_hex_encode(key.priv, 32, h);
	CHECK_STR(h, "77a70b7cd24f337ee5b0bf905754254d6830aaec3b7ca5381dbc6efe7dab11ac",
			  "the private key is HKDF(root, info \"ironlayer vault seal x25519 v1\")");
	il_seal_public_text(&key, &b);
	CHECK_STR(il_buf_cstr(&b), KAT_PUBLIC, "the public key text");
	CHECK(b.len == IL_SEAL_PUBLIC_TEXT_LEN && b.len == 51, "the public key text has 51 characters");

	il_buf_reset(&b);
	CHECK(il_seal_seal_ex(KAT_PUBLIC, strlen(KAT_PUBLIC), (const uint8_t *) "dapi-secret-token", 17,
						  eph, nonce, &b, &err) == 0, "sealing with a fixed ephemeral key and nonce");
	CHECK_STR(il_buf_cstr(&b), KAT_SEALED, "the sealed text matches the independent implementation");
	il_buf_reset(&b);
	CHECK(il_seal_seal_ex(KAT_PUBLIC, strlen(KAT_PUBLIC), NULL, 0, eph, nonce, &b, &err) == 0,
		  "sealing an empty secret");
	CHECK_STR(il_buf_cstr(&b), KAT_SEALED_EMPTY, "the sealed empty secret matches too");

	CHECK_STR(open_text(&key, KAT_SEALED, strlen(KAT_SEALED), &b), "dapi-secret-token",
			  "the known sealed text opens");
	CHECK(strcmp(open_text(&key, KAT_SEALED_EMPTY, strlen(KAT_SEALED_EMPTY), &b), "") == 0 && b.len == 0,
		  "the known sealed empty secret opens to nothing");

	il_seal_key_clear(&key);
	for (i = 0; i < sizeof(key) && ((uint8_t *) &key)[i] == 0; i++)
		;
	CHECK(i == sizeof(key), "il_seal_key_clear wipes the key pair");
	il_buf_free(&b);
}

static void
test_round_trips(void)
{
	uint8_t		root[32];
	uint8_t		root2[32];
	uint8_t		msg[300];
	il_seal_key key;
	il_seal_key other;
	il_buf		pub = IL_BUF_INIT;
	il_buf		s1 = IL_BUF_INIT;
	il_buf		s2 = IL_BUF_INIT;
	il_buf		out = IL_BUF_INIT;
	il_error	err;
	size_t		len;
	size_t		i;
	int			ok = 1;

	memset(root, 0x11, sizeof(root));
	memcpy(root2, root, sizeof(root));
	root2[31] ^= 1;
	il_seal_keypair_from_root(root, &key, &err);
	il_seal_keypair_from_root(root2, &other, &err);
	il_seal_public_text(&key, &pub);
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t) (i * 7 + 3);
	for (len = 0; len <= sizeof(msg); len += (len < 40 ? 1 : 37))
	{
		il_buf_reset(&s1);
		il_buf_reset(&out);
		if (il_seal_seal(pub.data, pub.len, msg, len, &s1, &err) != 0 ||
			s1.len != 8 + il_b64_encoded_len(60 + len, IL_B64_URL_NOPAD) ||
			il_seal_open(&key, s1.data, s1.len, &out, &err) != 0 ||
			out.len != len || (len > 0 && memcmp(out.data, msg, len) != 0))
			ok = 0;
	}
	CHECK(ok, "secrets of 0..300 bytes round-trip");

	il_buf_reset(&s1);
	il_seal_seal(pub.data, pub.len, msg, 10, &s1, &err);
	il_seal_seal(pub.data, pub.len, msg, 10, &s2, &err);
	CHECK(strcmp(il_buf_cstr(&s1), il_buf_cstr(&s2)) != 0, "two seals of one secret differ");

	il_buf_reset(&out);
	il_buf_puts(&out, "keep");
	CHECK(il_seal_open(&other, s1.data, s1.len, &out, &err) == -1 &&
		  strcmp(err.code, "seal_open_failed") == 0 && strcmp(err.message, OPEN_FAILED) == 0 &&
		  strcmp(il_buf_cstr(&out), "keep") == 0,
		  "a wrong vault key fails with seal_open_failed, output unchanged");

	/* Every bit of the decoded box, flipped: refused. */
	{
		il_buf		raw = IL_BUF_INIT;
		il_buf		t = IL_BUF_INIT;
		int			total = 0;
		int			refused = 0;

		il_b64_decode(s1.data + 8, s1.len - 8, IL_B64_URL_NOPAD, &raw, &err);
		for (i = 0; i < raw.len; i++)
		{
			int			bit;

			for (bit = 0; bit < 8; bit++)
			{
				raw.data[i] ^= (char) (1 << bit);
				il_buf_reset(&t);
				il_buf_puts(&t, IL_SEAL_PREFIX);
				il_b64_encode(&t, (const uint8_t *) raw.data, raw.len, IL_B64_URL_NOPAD);
				raw.data[i] ^= (char) (1 << bit);
				total++;
				if (strcmp(open_text(&key, t.data, t.len, &out), "ERR:seal_open_failed") == 0)
					refused++;
			}
		}
		CHECK(total == 8 * 70 && refused == total,
			  "every single-bit change of the sealed bytes fails with seal_open_failed");
		il_buf_free(&raw);
		il_buf_free(&t);
	}
	/* Every character of the text replaced: refused. */
	{
		const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/.";
		il_buf		t = IL_BUF_INIT;
		int			total = 0;
		int			refused = 0;
		const char *a;

		for (i = 0; i < s1.len; i++)
		{
			for (a = alphabet; *a; a++)
			{
				if (*a == s1.data[i])
					continue;
				il_buf_reset(&t);
				il_buf_append(&t, s1.data, s1.len);
				t.data[i] = *a;
				total++;
				if (strncmp(open_text(&key, t.data, t.len, &out), "ERR:", 4) == 0)
					refused++;
			}
		}
		CHECK(total > 0 && refused == total, "every single-character change of the sealed text is refused");
		il_buf_free(&t);
	}
	CHECK(strncmp(open_text(&key, s1.data, s1.len - 1, &out), "ERR:", 4) == 0 &&
		  strncmp(open_text(&key, s1.data, s1.len - 2, &out), "ERR:", 4) == 0,
		  "truncated texts are refused");

	il_seal_key_clear(&key);
	il_seal_key_clear(&other);
	il_buf_free(&pub);
	il_buf_free(&s1);
	il_buf_free(&s2);
	il_buf_free(&out);
}

static void
test_formats(void)
{
	uint8_t		root[32] = {0};
	il_seal_key key;
	il_buf		b = IL_BUF_INIT;
	il_buf		t = IL_BUF_INIT;
	il_error	err;
	uint8_t		box[60];
	const char *pub = KAT_PUBLIC;

	il_seal_keypair_from_root(root, &key, &err);
	CHECK_STR(open_text(&key, "", 0, &b), "ERR:seal_bad_prefix", "an empty text has no prefix");
	CHECK_STR(open_text(&key, "ilseal2:AAAA", 12, &b), "ERR:seal_bad_prefix", "another version is refused");
	CHECK_STR(open_text(&key, "ILSEAL1:AAAA", 12, &b), "ERR:seal_bad_prefix", "the prefix is case-sensitive");
	CHECK_STR(open_text(&key, "ilseal1", 7, &b), "ERR:seal_bad_prefix", "the colon is required");
	CHECK_STR(open_text(&key, "ilseal1:", 8, &b), "ERR:seal_too_short", "nothing after the prefix is too short");
	CHECK_STR(open_text(&key, "ilseal1:AA==", 12, &b), "ERR:seal_bad_base64", "padding is refused");
	CHECK_STR(open_text(&key, "ilseal1:A+/A", 12, &b), "ERR:seal_bad_base64", "the standard alphabet is refused");
	CHECK_STR(open_text(&key, "ilseal1: AAA", 12, &b), "ERR:seal_bad_base64", "spaces are refused");
	memset(box, 0x5a, sizeof(box));
	il_buf_puts(&t, IL_SEAL_PREFIX);
	il_b64_encode(&t, box, 59, IL_B64_URL_NOPAD);
	CHECK_STR(open_text(&key, t.data, t.len, &b), "ERR:seal_too_short", "59 bytes are too short");
	il_buf_reset(&t);
	il_buf_puts(&t, IL_SEAL_PREFIX);
	il_b64_encode(&t, box, 60, IL_B64_URL_NOPAD);
	CHECK_STR(open_text(&key, t.data, t.len, &b), "ERR:seal_open_failed", "60 random bytes do not open");
	/* A low-order ephemeral key (all zeros) gives an all-zero shared secret. */
	memset(box, 0, 32);
	il_buf_reset(&t);
	il_buf_puts(&t, IL_SEAL_PREFIX);
	il_b64_encode(&t, box, 60, IL_B64_URL_NOPAD);
	CHECK_STR(open_text(&key, t.data, t.len, &b), "ERR:seal_open_failed", "a low-order ephemeral key is refused");

	/* Public key text. */
	il_buf_reset(&b);
	CHECK(il_seal_seal("ilseal2:PyhLYxsroBdm1p8JeC66lC2Upp3xyzg39GQVkOqmiSI", 51, (const uint8_t *) "x", 1, &b, &err) == -1 &&
		  strcmp(err.code, "seal_bad_prefix") == 0, "a public key with another prefix is refused");
	CHECK(il_seal_seal(pub, 50, (const uint8_t *) "x", 1, &b, &err) == -1 &&
		  strcmp(err.code, "seal_bad_public_key") == 0, "a truncated public key is refused");
	CHECK(il_seal_seal("ilseal1:PyhLYxsroBdm1p8JeC66lC2Upp3xyzg39GQVkOqmiSJ", 51, (const uint8_t *) "x", 1, &b, &err) == -1 &&
		  strcmp(err.code, "seal_bad_base64") == 0, "a public key with non-zero unused bits is refused");
	CHECK(il_seal_seal("ilseal1:PyhLYxsroBdm1p8JeC66lC2Upp3xyzg39GQVkOqmi+I", 51, (const uint8_t *) "x", 1, &b, &err) == -1 &&
		  strcmp(err.code, "seal_bad_base64") == 0, "a public key with a character outside base64url is refused");
	CHECK(il_seal_seal("ilseal1:PyhLYxsroBdm1p8JeC66lC2Upp3xyzg39GQVkOqmiSIA", 52, (const uint8_t *) "x", 1, &b, &err) == -1,
		  "a public key with an extra character is refused");
	CHECK(il_seal_seal("ilseal1:PyhLYxsroBdm1p8JeC66lC2Upp3xyzg39GQVkOqmiSIAAA", 54, (const uint8_t *) "x", 1, &b, &err) == -1 &&
		  strcmp(err.code, "seal_bad_public_key") == 0, "a public key of 34 bytes is refused");
	CHECK(il_seal_seal("ilseal1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 51, (const uint8_t *) "x", 1, &b, &err) == -1 &&
		  strcmp(err.code, "seal_bad_public_key") == 0, "the all-zero (low-order) public key is refused");
	CHECK(il_seal_seal("ilseal1:AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 51, (const uint8_t *) "x", 1, &b, &err) == -1 &&
		  strcmp(err.code, "seal_bad_public_key") == 0, "the point 1 (low order) is refused");
	CHECK(b.len == 0, "failed seals leave the output empty");

	il_seal_key_clear(&key);
	il_buf_free(&b);
	il_buf_free(&t);
}

int
main(void)
{
	test_known_answers();
	test_round_trips();
	test_formats();
	return unit_done();
}
