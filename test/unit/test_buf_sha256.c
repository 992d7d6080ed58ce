/*
 * Unit tests of il_buf.c and il_sha256.c.
 */
#include <stdlib.h>

#include "il_buf.h"
#include "il_jsonw.h"
#include "il_sha256.h"
#include "unit.h"

int
main(void)
{
	il_buf		b = IL_BUF_INIT;
	il_error	err;
	char		hex[IL_SHA256_HEX_LEN + 1];
	il_sha256_ctx *ctx;
	uint8_t		d[IL_SHA256_LEN];
	char	   *big;
	int			i;

	CHECK_STR(il_buf_cstr(&b), "", "an empty buffer reads as the empty string");
	il_buf_puts(&b, "ab");
	il_buf_putc(&b, 'c');
	il_buf_printf(&b, "%d-%s", 42, "x");
	CHECK_STR(il_buf_cstr(&b), "abc42-x", "puts, putc and printf append");
	CHECK(b.len == 7, "the length counts the bytes");
	il_buf_append(&b, "\0z", 2);
	CHECK(b.len == 9 && b.data[7] == '\0' && b.data[8] == 'z', "binary data with NUL bytes is kept");
	il_buf_reset(&b);
	CHECK(b.len == 0 && b.data[0] == '\0', "reset empties the buffer");
	for (i = 0; i < 100000; i++)
		il_buf_putc(&b, 'a' + (i % 26));
	CHECK(b.len == 100000 && !b.oom && b.data[99999] == 'a' + (99999 % 26), "the buffer grows");
	CHECK(!il_buf_reserve(&b, SIZE_MAX) && b.oom, "an impossible size sets oom instead of overflowing");
	il_buf_free(&b);
	CHECK(b.data == NULL && b.len == 0, "free leaves an empty buffer");

	il_error_set(&err, IL_ERR_INVALID_DATE, 3, 7, "bad thing %s", "here");
	CHECK(err.line == 3 && err.column == 7, "an error keeps line and column");
	CHECK_STR(err.code, "invalid_date", "an error's code is the catalogue's name");
	CHECK_STR(err.message, "bad thing here", "an error formats its message");
	il_error_clear(&err);
	CHECK(err.code == NULL && err.message[0] == '\0', "clear empties the error");
	{
		char		euros[3 * 200 + 2];

		/* 1 + 3k bytes never ends on a character boundary at 255 */
		euros[0] = 'x';
		for (i = 0; i < 200; i++)
			memcpy(euros + 1 + 3 * i, "\xe2\x82\xac", 3);
		euros[1 + 3 * 200] = '\0';
		il_error_set(&err, IL_ERR_INVALID_UTF8, 0, 0, "%s", euros);
		CHECK(il_utf8_valid(err.message, strlen(err.message), NULL) && strlen(err.message) < 255,
			  "a message cut to fit ends at a whole UTF-8 character");
		il_error_set_message(&err, euros);
		CHECK(il_utf8_valid(err.message, strlen(err.message), NULL) && strcmp(err.code, "invalid_utf8") == 0,
			  "set_message cuts the same way and keeps the code");
	}

	/* FIPS 180-2 test vectors */
	il_sha256_hex("", 0, hex);
	CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sha256 of the empty string");
	il_sha256_hex("abc", 3, hex);
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256 of \"abc\"");
	il_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", "sha256 of the two-block vector");

	big = malloc(1000000);
	for (i = 0; i < 1000000; i++)
		big[i] = 'a';
	ctx = il_sha256_new();
	for (i = 0; i < 1000; i++)
		il_sha256_update(ctx, big + i * 1000, 1000);
	il_sha256_final(ctx, d);
	il_hex_encode(d, IL_SHA256_LEN, hex);
	CHECK_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", "incremental sha256 of a million 'a'");
	free(big);
	return unit_done();
}
