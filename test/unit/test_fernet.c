/*
 * Unit tests of il_fernet.c.
 *
 * The Fernet specification's vectors (fernet/spec generate.json,
 * verify.json, invalid.json) are read from <vectors>/fernet/, where
 * <vectors> is the first argument or ../shared/vectors relative to the
 * repository root (the directory the tests run from). Missing vectors are a
 * failure, not a skip. Further known answers were made with
 * python3-cryptography's Fernet._encrypt_from_parts.
 */
#include <stdlib.h>
#include <string.h>

#include "il_b64.h"
#include "il_fernet.h"
#include "il_jcs.h"
#include "il_kdf.h"
#include "unit.h"


/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t		era;
	int64_t		yoe;
	int64_t		doy;
	int64_t		doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Seconds since the epoch of an RFC 3339 time "YYYY-MM-DDTHH:MM:SS(Z|+hh:mm)". */
static int
parse_rfc3339(const char *s, uint64_t *out)
{
	int			y,
				mo,
				d,
				h,
				mi,
				se,
				n = 0;
	int64_t		t;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) != 6)
		return -1;
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
	s += n;
	while (*s == '.' || (*s >= '0' && *s <= '9'))
		s++;					/* fractional seconds */
	if (*s == '+' || *s == '-')
	{
		int			oh,
					om;

		if (sscanf(s + 1, "%2d:%2d", &oh, &om) != 2)
			return -1;
		t += (*s == '+' ? -1 : 1) * (oh * 3600 + om * 60);
	}
	else if (*s != 'Z' && *s != 'z')
		return -1;
	*out = (uint64_t) t;
	return 0;
}

/* Loads <root>/fernet/<name>.json; NULL if missing. */
static il_jcs_doc *
load(const char *root, const char *name)
{
	char		path[1024];
	size_t		len;
	char	   *text;
	il_jcs_doc *doc;
	il_error	err;

	snprintf(path, sizeof(path), "%s/fernet/%s.json", root, name);
	text = unit_read_file(path, &len);
	if (text == NULL)
	{
		printf("#   cannot read %s (give the vectors directory as the first argument)\n", path);
		return NULL;
	}
	doc = il_jcs_parse(text, len, &err);
	if (doc == NULL)
		printf("#   %s: %s\n", path, err.message);
	free(text);
	return doc;
}

static const char *
field(const il_jcs_value *v, const char *name)
{
	return il_jcs_string(il_jcs_get(v, name), NULL);
}

static void
test_generate(const char *root)
{
	il_jcs_doc *doc = load(root, "generate");
	const il_jcs_value *v;
	int			n = 0;
	int			good = 0;

	if (!CHECK(doc != NULL && il_jcs_kind_of(il_jcs_root(doc)) == IL_JCS_ARRAY,
			   "fernet/generate.json is present and an array"))
	{
		il_jcs_free(doc);
		return;
	}
	for (v = il_jcs_first(il_jcs_root(doc)); v != NULL; v = il_jcs_next(v))
	{
		const char *secret = field(v, "secret");
		const char *src = field(v, "src");
		const char *token = field(v, "token");
		const char *now = field(v, "now");
		const il_jcs_value *ivs = il_jcs_get(v, "iv");
		uint8_t		key[32];
		uint8_t		iv[16];
		uint64_t	t = 0;
		il_buf		out = IL_BUF_INIT;
		il_error	err;
		size_t		i;
		char		what[100];

		n++;
		snprintf(what, sizeof(what), "generate vector %d: exact token", n);
		if (secret == NULL || src == NULL || token == NULL || now == NULL || ivs == NULL ||
			il_jcs_count(ivs) != 16 || parse_rfc3339(now, &t) != 0 ||
			il_fernet_key_decode(secret, strlen(secret), key, &err) != 0)
		{
			CHECK(0, what);
			continue;
		}
		for (i = 0; i < 16; i++)
			iv[i] = (uint8_t) il_jcs_number(il_jcs_at(ivs, i));
		if (il_fernet_encrypt(key, (const uint8_t *) src, strlen(src), t, iv, &out, &err) != 0)
			CHECK(0, what);
		else
		{
			CHECK_STR(il_buf_cstr(&out), token, what);
			if (strcmp(il_buf_cstr(&out), token) == 0)
				good++;
		}
		il_buf_free(&out);
	}
	CHECK(n >= 1 && good == n, "all generate vectors pass");
	il_jcs_free(doc);
}

static void
test_verify(const char *root)
{
	il_jcs_doc *doc = load(root, "verify");
	const il_jcs_value *v;
	int			n = 0;
	int			good = 0;

	if (!CHECK(doc != NULL && il_jcs_kind_of(il_jcs_root(doc)) == IL_JCS_ARRAY,
			   "fernet/verify.json is present and an array"))
	{
		il_jcs_free(doc);
		return;
	}
	for (v = il_jcs_first(il_jcs_root(doc)); v != NULL; v = il_jcs_next(v))
	{
		const char *secret = field(v, "secret");
		const char *src = field(v, "src");
		const char *token = field(v, "token");
		const char *now = field(v, "now");
		int64_t		ttl = (int64_t) il_jcs_number(il_jcs_get(v, "ttl_sec"));
		uint8_t		key[32];
		uint64_t	t = 0;
		il_buf		out = IL_BUF_INIT;
		il_error	err;
		char		what[100];

		n++;
		snprintf(what, sizeof(what), "verify vector %d: decrypts to src", n);
		if (secret == NULL || src == NULL || token == NULL || now == NULL ||
			parse_rfc3339(now, &t) != 0 ||
			il_fernet_key_decode(secret, strlen(secret), key, &err) != 0)
		{
			CHECK(0, what);
			continue;
		}
		if (il_fernet_decrypt(key, token, strlen(token), t, ttl, &out, &err) != 0)
		{
			CHECK(0, what);
			printf("#   %s: %s\n", err.code, err.message);
		}
		else if (CHECK(out.len == strlen(src) && memcmp(out.data, src, out.len) == 0, what))
			good++;
		il_buf_free(&out);
	}
	CHECK(n >= 1 && good == n, "all verify vectors pass");
	il_jcs_free(doc);
}

/* The error codes each invalid vector may give (by its "desc"). */
static const char *
expected_code(const char *desc)
{
	static const char *const map[][2] = {
		{"incorrect mac", "fernet_bad_hmac"},
		{"too short", "fernet_too_short"},
		{"invalid base64", "fernet_bad_base64"},
		{"payload size not multiple of block size", "fernet_too_short fernet_bad_length"},
		{"payload padding error", "fernet_bad_padding"},
		{"far-future TS (unacceptable clock skew)", "fernet_future"},
		{"expired TTL", "fernet_expired"},
		{"incorrect IV (causes padding error)", "fernet_bad_padding"},
	};
	size_t		i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
	{
		if (strcmp(desc, map[i][0]) == 0)
			return map[i][1];
	}
	return NULL;
}

static void
test_invalid(const char *root)
{
	il_jcs_doc *doc = load(root, "invalid");
	const il_jcs_value *v;
	int			n = 0;
	int			good = 0;

	if (!CHECK(doc != NULL && il_jcs_kind_of(il_jcs_root(doc)) == IL_JCS_ARRAY,
			   "fernet/invalid.json is present and an array"))
	{
		il_jcs_free(doc);
		return;
	}
	for (v = il_jcs_first(il_jcs_root(doc)); v != NULL; v = il_jcs_next(v))
	{
		const char *secret = field(v, "secret");
		const char *token = field(v, "token");
		const char *now = field(v, "now");
		const char *desc = field(v, "desc");
		const char *codes = desc ? expected_code(desc) : NULL;
		int64_t		ttl = (int64_t) il_jcs_number(il_jcs_get(v, "ttl_sec"));
		uint8_t		key[32];
		uint64_t	t = 0;
		il_buf		out = IL_BUF_INIT;
		il_error	err;
		char		what[160];

		n++;
		snprintf(what, sizeof(what), "invalid vector %d (%s) is rejected%s%s", n,
				 desc ? desc : "?", codes ? " with " : "", codes ? codes : "");
		if (secret == NULL || token == NULL || now == NULL || parse_rfc3339(now, &t) != 0 ||
			il_fernet_key_decode(secret, strlen(secret), key, &err) != 0)
		{
			CHECK(0, what);
			continue;
		}
		il_buf_puts(&out, "unchanged");
		if (il_fernet_decrypt(key, token, strlen(token), t, ttl, &out, &err) == 0)
			CHECK(0, what);
		else if (CHECK(strcmp(il_buf_cstr(&out), "unchanged") == 0 &&
					   (codes == NULL || strstr(codes, err.code) != NULL), what))
			good++;
		else
			printf("#   got %s: %s\n", err.code, err.message);
		il_buf_free(&out);
	}
	CHECK(n >= 8 && good == n, "all eight or more invalid vectors are rejected");
	il_jcs_free(doc);
}

/* Tokens made by python3-cryptography, and its passphrase-derived key. */
static void
test_python_answers(void)
{
	static const char *const cases[][4] = {
		{"ironlayer credentials \\0\\xff", "1700000000",
			"gAAAAABlU_EAoKGio6SlpqeoqaqrrK2ur4JY6H9aCJW0TqQu419u4A_7a47Wejlt8kXO_3qPES-VZu9N8nofzjt9"
		"QEWfSPDhfI4STbslQsDhaPnCQzb4vZY="},
		{"", "1700000000",
			"gAAAAABlU_EAoKGio6SlpqeoqaqrrK2ur9O7erZFnrP5QdmHcSLL6VFXYIixxl1AmTRA6zW1v27gD2v8Il0NNOcH"
		"T_InaMMxDQ=="},
		{"0123456789abcdef", "4102444800",
			"gAAAAAD0hlcAAAAAAAAAAAAAAAAAAAAAAMgqKdDVLj65FlyNOPNsVyJ4NuGYMDWwt6uEwa96LIFkmgeVh3jfkMAC"
		"ZdsMaN3e6Vg7_2w0pM8mj57wYkcP3uE="},
	};
	static const uint8_t msg1[] = "ironlayer credentials \0\xff";
	const char *keytext = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
	uint8_t		key[32];
	uint8_t		iv[16];
	uint8_t		derived[32];
	il_buf		out = IL_BUF_INIT;
	il_error	err;
	size_t		i;

	CHECK(il_fernet_key_decode(keytext, strlen(keytext), key, &err) == 0 &&
		  key[0] == 0 && key[31] == 31, "a key text decodes to its bytes");
	il_fernet_key_encode(key, &out);
	CHECK_STR(il_buf_cstr(&out), keytext, "a key encodes to its text");
	for (i = 0; i < 3; i++)
	{
		const uint8_t *m = i == 0 ? msg1 : (const uint8_t *) cases[i][0];
		size_t		mlen = i == 0 ? sizeof(msg1) - 1 : strlen(cases[i][0]);
		uint64_t	now = strtoull(cases[i][1], NULL, 10);
		size_t		k;
		char		what[100];

		for (k = 0; k < 16; k++)
			iv[k] = i < 2 ? (uint8_t) (0xa0 + k) : 0;
		il_buf_reset(&out);
		snprintf(what, sizeof(what), "python3-cryptography token %zu, encrypted", i + 1);
		CHECK_STR(il_fernet_encrypt(key, m, mlen, now, iv, &out, &err) == 0 ?
				  il_buf_cstr(&out) : err.message, cases[i][2], what);
		il_buf_reset(&out);
		snprintf(what, sizeof(what), "python3-cryptography token %zu, decrypted", i + 1);
		CHECK(il_fernet_decrypt(key, cases[i][2], strlen(cases[i][2]), now, 0, &out, &err) == 0 &&
			  out.len == mlen && memcmp(out.data, m, mlen) == 0, what);
	}

	/* protocols.md 2.3: passphrase "passphrase", salt "salt", 600000 iterations. */
	il_buf_reset(&out);
	if (il_pbkdf2_sha256((const uint8_t *) "passphrase", 10, (const uint8_t *) "salt", 4,
						 600000, derived, sizeof(derived)) == 0)
		il_fernet_key_encode(derived, &out);
	CHECK_STR(il_buf_cstr(&out), "oWaeosurDxXyne07fJaDvJE8jZL1mL3CX-ptwT8Zdxc=",
			  "PBKDF2-derived Fernet key agrees with Python and Node");
	il_buf_free(&out);
}

/* Replaces token's 57 + 16k byte raw form by fn's change, re-encoded. */
static void
reencode(const char *token, il_buf *out, size_t pos, uint8_t xor, int extra)
{
	il_buf		raw = IL_BUF_INIT;
	il_error	err;

	il_buf_reset(out);
	if (il_b64_decode(token, strlen(token), IL_B64_URL, &raw, &err) != 0)
		return;
	if (pos < raw.len)
		raw.data[pos] ^= (char) xor;
	if (extra > 0)
		il_buf_putc(&raw, 'x');
	else if (extra < 0)
		raw.len -= (size_t) -extra;
	il_b64_encode(out, (const uint8_t *) raw.data, raw.len, IL_B64_URL);
	il_buf_free(&raw);
}

static void
test_round_trips_and_tampering(void)
{
	uint8_t		key[32];
	uint8_t		key2[32];
	uint8_t		msg[100];
	il_buf		tok = IL_BUF_INIT;
	il_buf		tok2 = IL_BUF_INIT;
	il_buf		out = IL_BUF_INIT;
	il_error	err;
	size_t		len;
	size_t		i;
	int			ok;
	int			detected;
	int			total;
	const uint64_t now = 1750000000;
	const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=";
	uint64_t	ts;

	CHECK(il_fernet_key_generate(key, &err) == 0 && il_fernet_key_generate(key2, &err) == 0 &&
		  memcmp(key, key2, 32) != 0, "two generated keys differ");
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t) (i * 37);
	ok = 1;
	for (len = 0; len <= sizeof(msg); len++)
	{
		il_buf_reset(&tok);
		il_buf_reset(&out);
		if (il_fernet_encrypt(key, msg, len, now, NULL, &tok, &err) != 0 ||
			tok.len != il_b64_encoded_len(57 + (len / 16 + 1) * 16, IL_B64_URL) ||
			il_fernet_decrypt(key, tok.data, tok.len, now, 0, &out, &err) != 0 ||
			out.len != len || (len > 0 && memcmp(out.data, msg, len) != 0))
			ok = 0;
	}
	CHECK(ok, "messages of 0..100 bytes (with NUL bytes) round-trip with random IVs");

	il_buf_reset(&tok);
	il_buf_reset(&tok2);
	il_fernet_encrypt(key, msg, 20, now, NULL, &tok, &err);
	il_fernet_encrypt(key, msg, 20, now, NULL, &tok2, &err);
	CHECK(strcmp(il_buf_cstr(&tok), il_buf_cstr(&tok2)) != 0, "random IVs make different tokens");
	CHECK(il_fernet_timestamp(tok.data, tok.len, &ts, &err) == 0 && ts == now, "the timestamp is readable");

	CHECK(il_fernet_decrypt(key2, tok.data, tok.len, now, 0, &out, &err) == -1 &&
		  strcmp(err.code, "fernet_bad_hmac") == 0, "a wrong key fails with fernet_bad_hmac");

	/* Every byte of the decoded token, every bit: detected. */
	detected = 0;
	total = 0;
	{
		il_buf		raw = IL_BUF_INIT;
		size_t		rawlen;

		il_b64_decode(tok.data, tok.len, IL_B64_URL, &raw, &err);
		rawlen = raw.len;
		il_buf_free(&raw);
		for (i = 0; i < rawlen; i++)
		{
			int			bit;

			for (bit = 0; bit < 8; bit++)
			{
				reencode(il_buf_cstr(&tok), &tok2, i, (uint8_t) (1 << bit), 0);
				il_buf_reset(&out);
				total++;
				if (il_fernet_decrypt(key, tok2.data, tok2.len, now, 0, &out, &err) == -1 &&
					out.len == 0)
					detected++;
			}
		}
	}
	CHECK(total == 8 * (57 + 32) && detected == total, "every single-bit change of the token bytes is detected");

	/* Every character of the token text replaced by every other one: detected. */
	detected = 0;
	total = 0;
	for (i = 0; i < tok.len; i++)
	{
		const char *a;

		for (a = alphabet; *a; a++)
		{
			if (*a == tok.data[i])
				continue;
			il_buf_reset(&tok2);
			il_buf_append(&tok2, tok.data, tok.len);
			tok2.data[i] = *a;
			il_buf_reset(&out);
			total++;
			if (il_fernet_decrypt(key, tok2.data, tok2.len, now, 0, &out, &err) == -1)
				detected++;
		}
	}
	CHECK(total > 0 && detected == total, "every single-character change of the token text is detected");

	/* Truncation and extension. */
	reencode(il_buf_cstr(&tok), &tok2, SIZE_MAX, 0, 1);
	CHECK(il_fernet_decrypt(key, tok2.data, tok2.len, now, 0, &out, &err) == -1 &&
		  strcmp(err.code, "fernet_bad_length") == 0, "an extra byte fails with fernet_bad_length");
	reencode(il_buf_cstr(&tok), &tok2, SIZE_MAX, 0, -16);
	CHECK(il_fernet_decrypt(key, tok2.data, tok2.len, now, 0, &out, &err) == -1 &&
		  strcmp(err.code, "fernet_bad_hmac") == 0, "a block cut off fails with fernet_bad_hmac");
	reencode(il_buf_cstr(&tok), &tok2, 0, 0x01, 0);
	CHECK(il_fernet_decrypt(key, tok2.data, tok2.len, now, 0, &out, &err) == -1 &&
		  strcmp(err.code, "fernet_bad_version") == 0, "version 0x81 fails with fernet_bad_version");
	CHECK(il_fernet_decrypt(key, tok.data, tok.len - 1, now, 0, &out, &err) == -1 &&
		  strcmp(err.code, "fernet_bad_base64") == 0, "a token without its padding fails as bad base64");
	il_buf_reset(&tok2);
	il_buf_append(&tok2, tok.data, tok.len);
	il_buf_putc(&tok2, '\n');
	CHECK(il_fernet_decrypt(key, tok2.data, tok2.len, now, 0, &out, &err) == -1 &&
		  strcmp(err.code, "fernet_bad_base64") == 0, "a trailing newline fails as bad base64");
	CHECK(il_fernet_decrypt(key, "", 0, now, 0, &out, &err) == -1 &&
		  strcmp(err.code, "fernet_too_short") == 0, "an empty token is too short");

	/* Time checks, only with a TTL. */
	il_buf_reset(&out);
	CHECK(il_fernet_decrypt(key, tok.data, tok.len, now + 100, 100, &out, &err) == 0,
		  "a token exactly ttl seconds old is accepted");
	CHECK(il_fernet_decrypt(key, tok.data, tok.len, now + 101, 100, &out, &err) == -1 &&
		  strcmp(err.code, "fernet_expired") == 0, "one second more is fernet_expired");
	il_buf_reset(&out);
	CHECK(il_fernet_decrypt(key, tok.data, tok.len, now - 60, 100, &out, &err) == 0,
		  "a timestamp 60 s ahead is accepted (clock skew)");
	CHECK(il_fernet_decrypt(key, tok.data, tok.len, now - 61, 100, &out, &err) == -1 &&
		  strcmp(err.code, "fernet_future") == 0, "61 s ahead is fernet_future");
	il_buf_reset(&out);
	CHECK(il_fernet_decrypt(key, tok.data, tok.len, 0, 0, &out, &err) == 0 &&
		  il_fernet_decrypt(key, tok.data, tok.len, UINT64_MAX, -5, &out, &err) == 0,
		  "without a TTL there is no time check");
	il_buf_reset(&tok2);
	CHECK(il_fernet_encrypt(key, msg, 3, UINT64_MAX, NULL, &tok2, &err) == 0 &&
		  il_fernet_decrypt(key, tok2.data, tok2.len, 0, INT64_MAX, &out, &err) == -1 &&
		  strcmp(err.code, "fernet_future") == 0, "extreme timestamps do not overflow the checks");

	/* Keys. */
	CHECK(il_fernet_key_decode("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", 43, key2, &err) == -1 &&
		  strcmp(err.code, "fernet_bad_key") == 0, "a key without padding is refused");
	CHECK(il_fernet_key_decode("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+=", 44, key2, &err) == -1 &&
		  strcmp(err.code, "fernet_bad_key") == 0, "a key in the standard alphabet is refused");
	CHECK(il_fernet_key_decode("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8AAAA=", 48, key2, &err) == -1,
		  "a key of 35 bytes is refused");

	il_buf_free(&tok);
	il_buf_free(&tok2);
	il_buf_free(&out);
}

int
main(int argc, char **argv)
{
	const char *root = argc > 1 ? argv[1] : "../shared/vectors";

	test_generate(root);
	test_verify(root);
	test_invalid(root);
	test_python_answers();
	test_round_trips_and_tampering();
	return unit_done();
}
