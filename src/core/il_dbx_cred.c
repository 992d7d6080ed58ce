/*-------------------------------------------------------------------------
 *
 * il_dbx_cred.c
 *	  Checks of the Databricks credential kinds' secrets (il_dbx_cred.h).
 *
 * A strict little reader rather than a general JSON parser: it copies
 * nothing but the two values it returns (into the caller's buffers), so no
 * stray copy of a secret is left in memory it does not own.
 *
 *-------------------------------------------------------------------------
 */
#include "il_dbx_cred.h"
#include "il_text.h"

#include <stdbool.h>
#include <string.h>

static bool
printable(unsigned char c)
{
	return c > 0x20 && c < 0x7f;
}

const char *
il_dbx_pat_check(const char *secret, size_t len)
{
	size_t		i;

	if (len == 0)
		return "the token is empty";
	if (len > IL_DBX_SECRET_VALUE_MAX)
		return "the token is longer than 4096 characters";
	for (i = 0; i < len; i++)
		if (!printable((unsigned char) secret[i]))
			return "the token may hold only printable ASCII characters, no space or line break";
	return NULL;
}

typedef struct reader
{
	const char *p;
	const char *end;
} reader;

static void
skip_ws(reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

/* A string at r->p ('"' included) into out (when not NULL); its length in *n. */
static const char *
read_string(reader *r, il_buf *out, size_t *n)
{
	*n = 0;
	if (r->p >= r->end || *r->p != '"')
		return "the secret is not a JSON object of two strings";
	r->p++;
	while (r->p < r->end && *r->p != '"')
	{
		unsigned char c = (unsigned char) *r->p++;

		if (c == '\\')
		{
			if (r->p >= r->end)
				break;
			c = (unsigned char) *r->p++;
			if (c == 'u')
			{
				int			v = 0;
				int			i;

				for (i = 0; i < 4; i++)
				{
					int			h = r->p < r->end ? il_hex_value(*r->p++) : -1;

					if (h < 0)
						return "the secret holds a bad \\u escape";
					v = v * 16 + h;
				}
				c = (unsigned char) v;
				if (v > 0x7f)
					c = 0;		/* refused below */
			}
			else if (c != '"' && c != '\\' && c != '/')
				c = 0;
		}
		if (!printable(c))
			return "client_id and client_secret may hold only printable ASCII characters, no space or line break";
		if (++*n > IL_DBX_SECRET_VALUE_MAX)
			return "client_id or client_secret is longer than 4096 characters";
		if (out)
			il_buf_putc(out, (char) c);
	}
	if (r->p >= r->end)
		return "the secret is not a JSON object of two strings";
	r->p++;
	return NULL;
}

const char *
il_dbx_oauth_parse(const char *secret, size_t len, il_buf *client_id, il_buf *client_secret)
{
	reader		r = {secret, secret + len};
	bool		seen_id = false;
	bool		seen_secret = false;

	if (client_id)
		il_buf_reset(client_id);
	if (client_secret)
		il_buf_reset(client_secret);
	skip_ws(&r);
	if (r.p >= r.end || *r.p != '{')
		return "the secret is not a JSON object of two strings";
	r.p++;
	for (;;)
	{
		const char *key;
		const char *why;
		size_t		n;
		bool		is_id;

		skip_ws(&r);
		key = r.p;
		if (r.p < r.end && *r.p == '}' && !seen_id && !seen_secret)
			break;
		if ((why = read_string(&r, NULL, &n)) != NULL)
			return why;
		if (r.p - key == 11 && memcmp(key, "\"client_id\"", 11) == 0)
			is_id = true;
		else if (r.p - key == 15 && memcmp(key, "\"client_secret\"", 15) == 0)
			is_id = false;
		else
			return "the secret has a member other than client_id and client_secret";
		if (is_id ? seen_id : seen_secret)
			return "the secret names client_id or client_secret twice";
		skip_ws(&r);
		if (r.p >= r.end || *r.p != ':')
			return "the secret is not a JSON object of two strings";
		r.p++;
		skip_ws(&r);
		if ((why = read_string(&r, is_id ? client_id : client_secret, &n)) != NULL)
			return why;
		if (n == 0)
			return "client_id or client_secret is empty";
		if (is_id)
			seen_id = true;
		else
			seen_secret = true;
		skip_ws(&r);
		if (r.p < r.end && *r.p == ',')
		{
			r.p++;
			continue;
		}
		if (r.p < r.end && *r.p == '}')
			break;
		return "the secret is not a JSON object of two strings";
	}
	r.p++;
	skip_ws(&r);
	if (r.p != r.end)
		return "the secret has more after its JSON object";
	if (!seen_id || !seen_secret)
		return "the secret must hold both client_id and client_secret";
	return NULL;
}
