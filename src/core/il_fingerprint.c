/*-------------------------------------------------------------------------
 *
 * il_fingerprint.c
 *	  A fingerprint of SQL that ignores cosmetic changes; see
 *	  il_fingerprint.h.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "il_fingerprint.h"

/*
 * Is c whitespace inside a template block?
 */
static inline bool
tmpl_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/*
 * Writes the normalized template block s[0..len) at d; returns the end.
 * The block came from the lexer, so it starts with "{{" or "{%", ends with
 * "}}" or "%}", and its quotes are balanced.
 */
static char *
put_template(char *d, const char *s, size_t len)
{
	const char *p = s + 2;
	const char *end = s + len - 2;
	bool		space = false;

	*d++ = s[0];
	*d++ = s[1];
	if (p < end && *p == '-')
		*d++ = *p++;
	while (p < end && tmpl_space(*p))
		p++;
	while (p < end)
	{
		char		c = *p;

		if (tmpl_space(c))
		{
			space = true;
			p++;
			continue;
		}
		if (space)
		{
			/* a run of whitespace before the closer (or "-}}") is dropped */
			if (!(c == '-' && p + 1 == end))
				*d++ = ' ';
			space = false;
		}
		if (c == '\'' || c == '"')
		{
			*d++ = *p++;
			while (p < end && *p != c)
			{
				if (*p == '\\' && p + 1 < end)
					*d++ = *p++;
				*d++ = *p++;
			}
			if (p < end)
				*d++ = *p++;
			continue;
		}
		*d++ = *p++;
	}
	*d++ = end[0];
	*d++ = end[1];
	return d;
}

/*
 * Eight bytes with the ASCII letters of [lo, hi] marked by 0x20 in their
 * byte (SWAR: every byte at once, non-ASCII bytes never marked).
 */
static inline uint64_t
letters_mask(uint64_t x, unsigned char lo, unsigned char hi)
{
	const uint64_t ones = 0x0101010101010101ULL;
	uint64_t	low7 = x & (0x7f * ones);
	uint64_t	ge = low7 + (0x80 - lo) * ones;		/* high bit: byte >= lo */
	uint64_t	gt = low7 + (0x7f - hi) * ones;		/* high bit: byte > hi */

	return ((ge & ~gt & ~x) & (0x80 * ones)) >> 2;
}

/*
 * Copies n bytes from s to d, changing the case of ASCII letters (upper:
 * a-z to A-Z, else A-Z to a-z), without a branch on upper. Eight bytes at
 * a time where s may be read that far (s + 8 <= limit); d has 8 bytes of
 * slack.
 */
static inline void
put_case(char *d, const char *s, size_t n, const char *limit, bool upper)
{
	uint64_t	up = (uint64_t) 0 - (uint64_t) upper;	/* all ones when upper */
	size_t		k = 0;

	while (k < n && s + k + 8 <= limit)
	{
		uint64_t	x;

		memcpy(&x, s + k, 8);
		x = (x | (letters_mask(x, 'A', 'Z') & ~up)) & ~(letters_mask(x, 'a', 'z') & up);
		memcpy(d + k, &x, 8);
		k += 8;
	}
	for (; k < n; k++)
	{
		unsigned char c = (unsigned char) s[k];
		unsigned	lower_bit = (unsigned) ((unsigned char) (c - 'A') < 26) << 5;
		unsigned	upper_bit = (unsigned) ((unsigned char) (c - 'a') < 26) << 5;

		d[k] = (char) ((c | (lower_bit & ~(unsigned) up)) & ~(upper_bit & (unsigned) up));
	}
}

/*
 * Copies n bytes from s to d, eight at a time where s may be read that far;
 * d has 8 bytes of slack.
 */
static inline void
put_bytes(char *d, const char *s, size_t n, const char *limit)
{
	if (n <= 8 && s + 8 <= limit)
		memcpy(d, s, 8);
	else
		memcpy(d, s, n);
}

/*
 * Writes the normalized text of token t (not a comment) at d and returns
 * its end. Bytes of src may be read up to limit; d needs il_tok_len(t) + 8 bytes.
 */
static inline __attribute__((always_inline)) char *
norm_token(char *d, const char *src, const il_token *t, const char *limit)
{
	const char *s = src + t->off;

	switch (t->type)
	{
		case IL_TOK_WORD:
		case IL_TOK_NUMBER:
			put_case(d, s, t->lenm, limit, t->kw != IL_KW_NONE || t->type == IL_TOK_NUMBER);
			return d + t->lenm;
		case IL_TOK_TEMPLATE:
			return put_template(d, s, t->lenm);
		case IL_TOK_STRING:
			put_bytes(d, s, t->lenm, limit);
			if (t->flags & IL_TOKF_RAW)
				d[0] = 'r';
			else if (t->flags & IL_TOKF_HEX)
				d[0] = 'X';
			return d + t->lenm;
		default:
			put_bytes(d, s, il_tok_len(t), limit);
			return d + il_tok_len(t);
	}
}

/*
 * The tokens the fingerprint covers: *n of them (one trailing ';' left
 * out), whose text ends at *limit. False when there are none.
 */
static bool
fp_span(const char *src, const il_tokens *toks, size_t *n, const char **limit)
{
	*n = toks->n;
	while (*n > 0 && toks->tok[*n - 1].type == IL_TOK_COMMENT)
		(*n)--;
	if (*n > 0 && toks->tok[*n - 1].type == IL_TOK_SEMI)
		(*n)--;
	if (toks->n == 0)
		return false;
	*limit = src + toks->tok[toks->n - 1].off + il_tok_len(&toks->tok[toks->n - 1]);
	return true;
}

/*
 * Writes the normalized text of the first n tokens at d, which has room for
 * their span, n spaces and 8 bytes; returns its end.
 */
static char *
fp_write(char *d, const char *src, const il_tokens *toks, size_t n, const char *limit)
{
	bool		first = true;
	size_t		i;

	for (i = 0; i < n; i++)
	{
		const il_token *t = &toks->tok[i];

		if (t->type == IL_TOK_COMMENT)
			continue;
		*d = ' ';
		d += !first;
		first = false;
		d = norm_token(d, src, t, limit);
	}
	return d;
}

/*
 * Appends the normalized text of the tokens to out.
 */
void
il_fingerprint_text(const char *src, const il_tokens *toks, il_buf *out)
{
	size_t		n;
	char	   *d0;
	const char *limit;

	if (!fp_span(src, toks, &n, &limit))
		return;
	/* tokens do not overlap: their lengths add up to at most their span */
	if (!il_buf_reserve(out, (size_t) (limit - (src + toks->tok[0].off)) + n + 8))
		return;
	d0 = out->data + out->len;
	out->len += (size_t) (fp_write(d0, src, toks, n, limit) - d0);
	out->data[out->len] = '\0';
}

/* The piece of normalized text hashed at a time. */
#define FP_CHUNK 16384

/*
 * Hashes the normalized text of token t (not a comment), too long for the
 * chunk buffer, straight from src or piece by piece through buf (FP_CHUNK
 * + 8 bytes). Returns -1 when out of memory.
 */
static int
update_long_token(il_sha256_ctx *ctx, char *buf, const char *src, const il_token *t,
				  const char *limit)
{
	const char *s = src + t->off;
	size_t		len = il_tok_len(t);
	size_t		k;
	char	   *tmp;

	switch (t->type)
	{
		case IL_TOK_WORD:
		case IL_TOK_NUMBER:
			for (k = 0; k < len; k += FP_CHUNK)
			{
				size_t		m = len - k < FP_CHUNK ? len - k : FP_CHUNK;

				put_case(buf, s + k, m, limit, t->kw != IL_KW_NONE || t->type == IL_TOK_NUMBER);
				il_sha256_update(ctx, buf, m);
			}
			return 0;
		case IL_TOK_TEMPLATE:
			tmp = il_malloc(len + 8);
			if (tmp == NULL)
				return -1;
			il_sha256_update(ctx, tmp, (size_t) (put_template(tmp, s, len) - tmp));
			il_free(tmp);
			return 0;
		case IL_TOK_STRING:
			if (t->flags & (IL_TOKF_RAW | IL_TOKF_HEX))
			{
				il_sha256_update(ctx, (t->flags & IL_TOKF_RAW) ? "r" : "X", 1);
				il_sha256_update(ctx, s + 1, len - 1);
				return 0;
			}
			il_sha256_update(ctx, s, len);
			return 0;
		default:
			il_sha256_update(ctx, s, len);
			return 0;
	}
}

/*
 * Hashes the normalized text of the tokens into ctx, a chunk at a time.
 */
int
il_fingerprint_update(il_sha256_ctx *ctx, const char *src, const il_tokens *toks)
{
	char		buf[FP_CHUNK + 8];
	size_t		used = 0;
	size_t		n;
	size_t		i;
	const char *limit;
	bool		first = true;

	if (!fp_span(src, toks, &n, &limit))
		return 0;
	/* tokens do not overlap: when their span and a space each fit, one piece */
	if ((size_t) (limit - (src + toks->tok[0].off)) + n + 8 <= FP_CHUNK)
	{
		il_sha256_update(ctx, buf, (size_t) (fp_write(buf, src, toks, n, limit) - buf));
		return 0;
	}
	for (i = 0; i < n; i++)
	{
		const il_token *t = &toks->tok[i];
		size_t		len = il_tok_len(t);

		if (t->type == IL_TOK_COMMENT)
			continue;
		/* room for a space, the token and the 8 bytes norm_token may write past it */
		if (len + 1 + 8 > FP_CHUNK - used)
		{
			il_sha256_update(ctx, buf, used);
			used = 0;
		}
		if (!first)
			buf[used++] = ' ';
		first = false;
		if (len + 8 <= FP_CHUNK - used)
			used = (size_t) (norm_token(buf + used, src, t, limit) - buf);
		else
		{
			il_sha256_update(ctx, buf, used);
			used = 0;
			if (update_long_token(ctx, buf, src, t, limit) != 0)
				return -1;
		}
	}
	il_sha256_update(ctx, buf, used);
	return 0;
}

/*
 * Fingerprints a prefix and the normalized text of the tokens.
 */
il_parse_status
il_fingerprint_tokens(const char *src, const il_tokens *toks,
					  const char *prefix, size_t prefix_len, il_buf *scratch,
					  char hex[IL_SHA256_HEX_LEN + 1], il_error *err)
{
	il_buf_reset(scratch);
	il_buf_reserve(scratch, prefix_len + toks->n + (toks->n ? toks->tok[toks->n - 1].off + il_tok_len(&toks->tok[toks->n - 1]) : 0));
	if (prefix_len > 0)
		il_buf_append(scratch, prefix, prefix_len);
	il_fingerprint_text(src, toks, scratch);
	if (scratch->oom)
	{
		hex[0] = '\0';
		il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory while computing the fingerprint");
		return IL_PARSE_ERR_NOMEM;
	}
	if (il_sha256_hex(scratch->data ? scratch->data : "", scratch->len, hex) != 0)
	{
		hex[0] = '\0';
		il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "sha-256 failed while computing the fingerprint");
		return IL_PARSE_ERR_NOMEM;
	}
	return IL_PARSE_OK;
}

/*
 * Lexes and fingerprints SQL text.
 */
il_parse_status
il_fingerprint(const char *sql, size_t len, char hex[IL_SHA256_HEX_LEN + 1], il_error *err)
{
	il_tokens	toks = IL_TOKENS_INIT;
	il_parse_status st;

	hex[0] = '\0';
	st = il_lex(sql, len, 0, &toks, err);
	if (st == IL_PARSE_OK)
	{
		il_sha256_ctx *ctx = il_sha256_new();
		uint8_t		digest[IL_SHA256_LEN];

		if (ctx == NULL)
			st = IL_PARSE_ERR_NOMEM;
		else if (il_fingerprint_update(ctx, sql, &toks) != 0)
		{
			il_sha256_final(ctx, digest);
			st = IL_PARSE_ERR_NOMEM;
		}
		else if (il_sha256_final(ctx, digest) != 0)
			st = IL_PARSE_ERR_NOMEM;
		else
			il_hex_encode(digest, IL_SHA256_LEN, hex);
		if (st != IL_PARSE_OK)
			il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory while computing the fingerprint");
	}
	il_tokens_free(&toks);
	return st;
}
