/*
 * Unit tests of il_kdf.c: PBKDF2-HMAC-SHA256 and HKDF-SHA256 known answers
 * (RFC 6070-style vectors for SHA-256 as published with RFC 7914 and
 * elsewhere; RFC 5869 appendix A.1-A.3), cross-checked with Python's
 * hashlib and cryptography.
 */
#include <string.h>

#include "il_kdf.h"
#include "il_sha256.h"
#include "unit.h"

static const char *
hex(const uint8_t *p, size_t n, char *out)
{
	il_hex_encode(p, n, out);
	return out;
}

static size_t
unhex(const char *s, uint8_t *out)
{
	size_t		n = strlen(s) / 2;
	size_t		i;

	for (i = 0; i < n; i++)
	{
		unsigned int v = 0;

		sscanf(s + 2 * i, "%2x", &v);
		out[i] = (uint8_t) v;
	}
	return n;
}

static void
test_pbkdf2(void)
{
	static const struct
	{
		const char *pass;
		size_t		passlen;
		const char *salt;
		size_t		saltlen;
		uint32_t	iter;
		size_t		outlen;
		const char *want;
	}			cases[] = {
		{"password", 8, "salt", 4, 1, 32,
		"120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b"},
		{"password", 8, "salt", 4, 4096, 32,
		"c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a"},
		{"passwordPASSWORDpassword", 24, "saltSALTsaltSALTsaltSALTsaltSALTsalt", 36, 4096, 40,
		"348c89dbcbd32b2f32d814b8116e84cf2b17347ebc1800181c4e2a1fb8dd53e1c635518c7dac47e9"},
		{"pass\0word", 9, "sa\0lt", 5, 4096, 16,
		"89b69d0516f829893c696226650a8687"},
		/* RFC 7914 section 11 */
		{"passwd", 6, "salt", 4, 1, 64,
			"55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
		"49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"},
		{"Password", 8, "NaCl", 4, 80000, 64,
			"4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
		"a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"},
		{"", 0, "salt", 4, 1, 32,
		"f135c27993baf98773c5cdb40a5706ce6a345cde61b000a67858650cd6a324d7"},
	};
	uint8_t		out[64];
	char		h[129];
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char		what[160];

		snprintf(what, sizeof(what), "PBKDF2-HMAC-SHA256 case %zu (%u iterations, %zu bytes)",
				 i + 1, cases[i].iter, cases[i].outlen);
		CHECK_STR(il_pbkdf2_sha256((const uint8_t *) cases[i].pass, cases[i].passlen,
								   (const uint8_t *) cases[i].salt, cases[i].saltlen,
								   cases[i].iter, out, cases[i].outlen) == 0 ?
				  hex(out, cases[i].outlen, h) : "ERR", cases[i].want, what);
	}
	memset(out, 0xaa, 32);
	CHECK(il_pbkdf2_sha256((const uint8_t *) "p", 1, (const uint8_t *) "s", 1, 0, out, 32) == -1 &&
		  out[0] == 0 && out[31] == 0, "zero iterations is an error and zeroes the output");
	CHECK(il_pbkdf2_sha256((const uint8_t *) "p", 1, (const uint8_t *) "s", 1, 1, out, 0) == -1,
		  "an empty output is an error");
}

static void
test_hkdf(void)
{
	uint8_t		ikm[80];
	uint8_t		salt[80];
	uint8_t		info[80];
	uint8_t		out[82];
	static uint8_t big[255 * 32 + 1];
	char		h[165];
	size_t		n;
	size_t		i;

	/* RFC 5869 A.1 */
	memset(ikm, 0x0b, 22);
	n = unhex("000102030405060708090a0b0c", salt);
	unhex("f0f1f2f3f4f5f6f7f8f9", info);
	CHECK_STR(il_hkdf_sha256(ikm, 22, salt, n, info, 10, out, 42) == 0 ? hex(out, 42, h) : "ERR",
			  "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
			  "HKDF-SHA256 RFC 5869 A.1");
	/* RFC 5869 A.2: long inputs */
	for (i = 0; i < 80; i++)
	{
		ikm[i] = (uint8_t) i;
		salt[i] = (uint8_t) (0x60 + i);
		info[i] = (uint8_t) (0xb0 + i);
	}
	CHECK_STR(il_hkdf_sha256(ikm, 80, salt, 80, info, 80, out, 82) == 0 ? hex(out, 82, h) : "ERR",
			  "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
			  "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
			  "cc30c58179ec3e87c14c01d5c1f3434f1d87",
			  "HKDF-SHA256 RFC 5869 A.2");
	/* RFC 5869 A.3: empty salt and info */
	memset(ikm, 0x0b, 22);
	CHECK_STR(il_hkdf_sha256(ikm, 22, NULL, 0, NULL, 0, out, 42) == 0 ? hex(out, 42, h) : "ERR",
			  "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
			  "HKDF-SHA256 RFC 5869 A.3 (empty salt, empty info)");
	memset(salt, 0, 32);
	CHECK_STR(il_hkdf_sha256(ikm, 22, salt, 32, NULL, 0, out, 42) == 0 ? hex(out, 42, h) : "ERR",
			  "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
			  "an empty salt equals 32 zero bytes");
	CHECK(il_hkdf_sha256(ikm, 22, NULL, 0, NULL, 0, out, 0) == -1, "an empty output is an error");
	CHECK(il_hkdf_sha256(ikm, 22, NULL, 0, NULL, 0, big, sizeof(big)) == -1,
		  "more than 255 blocks is an error");
	CHECK(il_hkdf_sha256(ikm, 22, NULL, 0, NULL, 0, big, 255 * 32) == 0,
		  "exactly 255 blocks is fine");
}

int
main(void)
{
	test_pbkdf2();
	test_hkdf();
	return unit_done();
}
