/*
 * libFuzzer harness of il_jcs.c: canonicalize arbitrary bytes.
 *
 * Invariants checked (abort on violation):
 *	- success: the output is valid UTF-8, canonicalizing it again gives the
 *	  same bytes, and the parsed tree writes the same bytes;
 *	- failure: an error code and message are set and the output is untouched;
 *	- the first 8 bytes as a double: a finite value writes a number text
 *	  that reads back as the same double and is already canonical;
 *	- memory: canonicalizing takes at most 48 bytes of the core's heap per
 *	  input byte, plus 2 MB (test/bench/memcount.h; a tree of 72 bytes a
 *	  value, "[]" a value two bytes, in an arena whose blocks double up to
 *	  1 MB, and the output).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "il_jcs.h"
#include "il_jsonw.h"
#include "memcount.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_jcs: invariant violated: %s\n", what);
	abort();
}

static void
check_number(const uint8_t *data, size_t size)
{
	double		d;
	il_buf		b = IL_BUF_INIT;
	il_buf		c = IL_BUF_INIT;
	il_error	err;

	if (size < 8)
		return;
	memcpy(&d, data, sizeof(d));
	if (il_jcs_write_number(&b, d) != 0)
	{
		if (isfinite(d))
			fail("a finite double was refused");
		il_buf_free(&b);
		return;
	}
	if (!isfinite(d))
		fail("a non-finite double was written");
	if (strtod(il_buf_cstr(&b), NULL) != d && !(d == 0))
		fail("a number text does not read back as its double");
	if (il_jcs_canonicalize(b.data, b.len, &c, &err) != 0 ||
		c.len != b.len || memcmp(c.data, b.data, b.len) != 0)
		fail("a number text is not canonical");
	il_buf_free(&b);
	il_buf_free(&c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *) data;
	il_buf		out = IL_BUF_INIT;
	il_buf		again = IL_BUF_INIT;
	il_buf		tree = IL_BUF_INIT;
	il_error	err;
	il_jcs_doc *doc;
	long long	base;
	int			rc;

	il_error_clear(&err);
	base = memcount_start();
	rc = il_jcs_canonicalize(s, size, &out, &err);
	if (memcount_peak_since(base) > 48 * size + ((size_t) 2 << 20))
		fail("more memory per input byte than the bound");
	if (rc == 0)
	{
		if (!il_utf8_valid(il_buf_cstr(&out), out.len, NULL))
			fail("output is not valid UTF-8");
		if (il_jcs_canonicalize(il_buf_cstr(&out), out.len, &again, &err) != 0)
			fail("output does not parse again");
		if (again.len != out.len || memcmp(again.data, out.data, out.len) != 0)
			fail("canonicalization is not idempotent");
		doc = il_jcs_parse(s, size, &err);
		if (doc == NULL)
			fail("parse fails where canonicalize succeeded");
		il_jcs_write(&tree, il_jcs_root(doc));
		if (tree.len != out.len || memcmp(tree.data, out.data, out.len) != 0)
			fail("the tree writes different bytes");
		il_jcs_free(doc);
	}
	else
	{
		if (err.code == NULL || err.message[0] == '\0')
			fail("an error without code or message");
		if (out.len != 0)
			fail("output written on error");
		if (err.line < 0 || err.column < 0)
			fail("negative error position");
	}
	il_buf_free(&out);
	il_buf_free(&again);
	il_buf_free(&tree);
	check_number(data, size);
	return 0;
}
