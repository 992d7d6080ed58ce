/*-------------------------------------------------------------------------
 *
 * il_audit.c
 *	  The audit log's canonical entry and hash chain.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "il_audit.h"
#include "il_jcs.h"
#include "il_jsonw.h"

/* A string member value: must be valid UTF-8. */
static int
put_string(il_buf *out, const char *key, const char *s, il_error *err)
{
	il_jsonw_key(out, key);
	if (s == NULL)
	{
		il_jsonw_null(out);
		return 0;
	}
	if (!il_utf8_valid(s, strlen(s), NULL))
	{
		il_error_set(err, IL_ERR_INVALID_UTF8, 0, 0, "audit field \"%s\" is not valid UTF-8", key);
		return -1;
	}
	il_jsonw_cstring(out, s);
	return 0;
}

static void
put_hex(il_buf *out, const char *key, const uint8_t *h)
{
	char		hex[IL_SHA256_HEX_LEN + 1];

	il_hex_encode(h, IL_SHA256_LEN, hex);
	il_jsonw_key(out, key);
	il_jsonw_cstring(out, hex);
}

int
il_audit_write(il_buf *out, const il_audit_entry *e,
			   const uint8_t *prev_hash, const uint8_t *hash, il_error *err)
{
	bool		hashes = prev_hash != NULL && hash != NULL;

	/* keys in RFC 8785 order (all ASCII, so byte order) */
	il_buf_putc(out, '{');
	if (put_string(out, "action", e->action, err) != 0)
		return -1;
	il_buf_putc(out, ',');
	if (put_string(out, "actor", e->actor, err) != 0)
		return -1;
	il_buf_putc(out, ',');
	if (put_string(out, "at", e->at, err) != 0)
		return -1;
	il_buf_putc(out, ',');
	il_jsonw_key(out, "details");
	if (e->details == NULL)
		il_jsonw_null(out);
	else if (il_jcs_canonicalize(e->details, e->details_len, out, err) != 0)
		return -1;
	il_buf_putc(out, ',');
	if (put_string(out, "entity_id", e->entity_id, err) != 0)
		return -1;
	il_buf_putc(out, ',');
	if (put_string(out, "entity_type", e->entity_type, err) != 0)
		return -1;
	if (hashes)
	{
		il_buf_putc(out, ',');
		put_hex(out, "hash", hash);
		il_buf_putc(out, ',');
		put_hex(out, "prev_hash", prev_hash);
	}
	il_buf_putc(out, ',');
	il_jsonw_key(out, "seq");
	il_jsonw_int(out, e->seq);
	il_buf_putc(out, ',');
	if (put_string(out, "tenant_id", e->tenant_id, err) != 0)
		return -1;
	il_buf_putc(out, '}');
	if (out->oom)
	{
		il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory");
		return -1;
	}
	return 0;
}

int
il_audit_hash(const uint8_t prev_hash[IL_SHA256_LEN],
			  const char *canonical, size_t len, uint8_t hash[IL_SHA256_LEN])
{
	il_sha256_ctx *ctx = il_sha256_new();

	if (ctx == NULL)
		return -1;
	il_sha256_update(ctx, prev_hash, IL_SHA256_LEN);
	il_sha256_update(ctx, canonical, len);
	il_sha256_final(ctx, hash);
	return 0;
}

/* Write v as exactly n decimal digits (v >= 0, fits). */
static void
put_digits(char *out, int v, int n)
{
	while (n-- > 0)
	{
		out[n] = (char) ('0' + v % 10);
		v /= 10;
	}
}

/* Days since 1970-01-01 to a civil date (proleptic Gregorian). */
static void
civil_from_days(int64_t z, int *y, int *m, int *d)
{
	int64_t		era;
	int64_t		doe;
	int64_t		yoe;
	int64_t		doy;
	int64_t		mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int) (doy - (153 * mp + 2) / 5 + 1);
	*m = (int) (mp < 10 ? mp + 3 : mp - 9);
	*y = (int) (yoe + era * 400 + (*m <= 2));
}

void
il_audit_format_at(int64_t unix_micros, char out[32])
{
	int64_t		secs = unix_micros / 1000000;
	int64_t		us = unix_micros % 1000000;
	int64_t		days;
	int64_t		sod;
	int			y,
				m,
				d;

	if (us < 0)
	{
		us += 1000000;
		secs -= 1;
	}
	days = secs / 86400;
	sod = secs % 86400;
	if (sod < 0)
	{
		sod += 86400;
		days -= 1;
	}
	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999)
	{
		snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
				 y, m, d, (int) (sod / 3600), (int) (sod / 60 % 60), (int) (sod % 60), (int) us);
		return;
	}
	/* the common case without printf: YYYY-MM-DDTHH:MM:SS.ffffffZ */
	put_digits(out, y, 4);
	out[4] = '-';
	put_digits(out + 5, m, 2);
	out[7] = '-';
	put_digits(out + 8, d, 2);
	out[10] = 'T';
	put_digits(out + 11, (int) (sod / 3600), 2);
	out[13] = ':';
	put_digits(out + 14, (int) (sod / 60 % 60), 2);
	out[16] = ':';
	put_digits(out + 17, (int) (sod % 60), 2);
	out[19] = '.';
	put_digits(out + 20, (int) us, 6);
	out[26] = 'Z';
	out[27] = '\0';
}
