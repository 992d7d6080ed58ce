/*-------------------------------------------------------------------------
 *
 * output.c
 *	  Tables and JSON documents of the server subcommands (output.h).
 *
 * JSON goes through il_jsonw (the writer of plans and parse results), so
 * strings are escaped as everywhere else in the product. Column types come
 * from the result: integers and numerics as numbers, booleans as true or
 * false, json and jsonb as they are, everything else as a string.
 *
 * Text for a terminal (il_out_text) shows control characters instead of
 * sending them: what the server returns may quote what a model's SQL made
 * (an error message holding ESC sequences would otherwise clear the screen,
 * set the window title or overwrite the line it is on).
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "il_jsonw.h"
#include "il_text.h"
#include "output.h"

/* Type OIDs of the built-in types (pg_type.dat); fixed for all time. */
#define OID_BOOL 16
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_JSON 114
#define OID_NUMERIC 1700
#define OID_JSONB 3802

void
il_jout_init(il_jout *j)
{
	il_buf_init(&j->buf);
	j->depth = 0;
	j->first[0] = true;
}

void
il_jout_free(il_jout *j)
{
	il_buf_free(&j->buf);
}

/* The separator and key before a value. */
static void
lead(il_jout *j, const char *key)
{
	if (j->depth > 0)
	{
		if (!j->first[j->depth])
			il_buf_putc(&j->buf, ',');
		j->first[j->depth] = false;
	}
	if (key != NULL)
		il_jsonw_key(&j->buf, key);
}

static void
jopen(il_jout *j, const char *key, char c)
{
	lead(j, key);
	il_buf_putc(&j->buf, c);
	if (j->depth + 1 < IL_JOUT_DEPTH)
		j->depth++;
	j->first[j->depth] = true;
}

static void
jclose(il_jout *j, char c)
{
	il_buf_putc(&j->buf, c);
	if (j->depth > 0)
		j->depth--;
}

void
il_jout_begin_object(il_jout *j, const char *key)
{
	jopen(j, key, '{');
}

void
il_jout_end_object(il_jout *j)
{
	jclose(j, '}');
}

void
il_jout_begin_array(il_jout *j, const char *key)
{
	jopen(j, key, '[');
}

void
il_jout_end_array(il_jout *j)
{
	jclose(j, ']');
}

void
il_jout_string(il_jout *j, const char *key, const char *value)
{
	lead(j, key);
	il_jsonw_cstring(&j->buf, value);
}

void
il_jout_int(il_jout *j, const char *key, int64_t value)
{
	lead(j, key);
	il_jsonw_int(&j->buf, value);
}

void
il_jout_bool(il_jout *j, const char *key, bool value)
{
	lead(j, key);
	il_jsonw_bool(&j->buf, value);
}

void
il_jout_raw(il_jout *j, const char *key, const char *json)
{
	lead(j, key);
	if (json == NULL)
		il_jsonw_null(&j->buf);
	else
		il_buf_puts(&j->buf, json);
}

/* Is s a JSON number (as a numeric prints one: no NaN, no Infinity)? */
static bool
json_number(const char *s)
{
	const char *p = s;

	if (*p == '-')
		p++;
	if (*p < '0' || *p > '9')
		return false;
	for (; *p; p++)
		if (!((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' || *p == 'E' || *p == '+' || *p == '-'))
			return false;
	return true;
}

void
il_jout_field(il_jout *j, const char *key, const PGresult *res, int row, int col)
{
	const char *v;

	if (PQgetisnull(res, row, col))
	{
		il_jout_raw(j, key, NULL);
		return;
	}
	v = PQgetvalue(res, row, col);
	switch (PQftype(res, col))
	{
		case OID_BOOL:
			il_jout_bool(j, key, v[0] == 't');
			break;
		case OID_INT2:
		case OID_INT4:
		case OID_INT8:
		case OID_NUMERIC:
			if (json_number(v))
				il_jout_raw(j, key, v);
			else
				il_jout_string(j, key, v);
			break;
		case OID_JSON:
		case OID_JSONB:
			il_jout_raw(j, key, v);
			break;
		default:
			il_jout_string(j, key, v);
			break;
	}
}

void
il_jout_row(il_jout *j, const char *key, const PGresult *res, int row, int ncols)
{
	int			c;

	if (ncols < 0 || ncols > PQnfields(res))
		ncols = PQnfields(res);
	il_jout_begin_object(j, key);
	for (c = 0; c < ncols; c++)
		il_jout_field(j, PQfname(res, c), res, row, c);
	il_jout_end_object(j);
}

void
il_jout_rows(il_jout *j, const char *key, const PGresult *res, int ncols)
{
	int			r;

	il_jout_begin_array(j, key);
	for (r = 0; r < PQntuples(res); r++)
		il_jout_row(j, NULL, res, r, ncols);
	il_jout_end_array(j);
}

bool
il_jout_print(il_jout *j)
{
	if (j->buf.oom)
	{
		fprintf(stderr, "ironlayer: out of memory writing JSON\n");
		return false;
	}
	if (!il_utf8_valid(j->buf.data ? j->buf.data : "", j->buf.len, NULL))
	{
		fprintf(stderr, "ironlayer: the server's answer is not valid UTF-8\n");
		return false;
	}
	fwrite(j->buf.data ? j->buf.data : "", 1, j->buf.len, stdout);
	fputc('\n', stdout);
	return fflush(stdout) == 0;
}

size_t
il_out_text(FILE *out, const char *s, bool oneline)
{
	return il_out_textn(out, s ? s : "", s ? strlen(s) : 0, oneline);
}

size_t
il_out_textn(FILE *out, const char *s, size_t len, bool oneline)
{
	const unsigned char *p = (const unsigned char *) s;
	const unsigned char *end = p + len;
	size_t		w = 0;

	while (p < end)
	{
		size_t		shown;
		size_t		n = il_quote_char(p, 0, (size_t) (end - p), &shown);

		if (shown != n && (oneline || (*p != '\n' && *p != '\t')))
		{
			/* as messages quote it (il_quote_char): a C0 control, DEL or a byte that is not UTF-8 */
			if (out)
				fprintf(out, "\\x%02x", *p);
			w += 4;
			p++;
			continue;
		}
		if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)
		{
			/* a C1 control (U+0080 to U+009F; U+009B is a CSI) */
			if (out)
				fprintf(out, "\\u%04x", p[1]);
			w += 6;
			p += 2;
			continue;
		}
		if (out)
			fwrite(p, 1, n, out);
		w++;
		p += n;
	}
	return w;
}

/* Characters of a cell as il_out_text shows it on one line. */
static size_t
width(const char *s)
{
	return il_out_text(NULL, s, true);
}

static const char *
cell(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? "-" : PQgetvalue(res, row, col);
}

void
il_out_table(FILE *out, const PGresult *res, const int *cols, const char *const *heads, int n)
{
	size_t	   *w = calloc((size_t) n, sizeof(size_t));
	int			rows = PQntuples(res);
	int			r,
				c;

	if (w == NULL)
		return;
	for (c = 0; c < n; c++)
	{
		w[c] = width(heads[c]);
		for (r = 0; r < rows; r++)
		{
			size_t		x = width(cell(res, r, cols[c]));

			if (x > w[c])
				w[c] = x;
		}
	}
	for (r = -1; r < rows; r++)
	{
		for (c = 0; c < n; c++)
		{
			const char *v = r < 0 ? heads[c] : cell(res, r, cols[c]);

			size_t		shown = il_out_text(out, v, true);

			if (c < n - 1)
				fprintf(out, "%*s", (int) (w[c] - shown + 2), "");
		}
		fputc('\n', out);
	}
	if (rows == 0)
		fputs("  (none)\n", out);
	free(w);
}
