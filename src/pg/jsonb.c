/*-------------------------------------------------------------------------
 *
 * jsonb.c
 *	  jsonb straight from the JSON text the core writes, for the functions
 *	  that return it (parse_model, sql_guard).
 *
 * jsonb_in parses text into a tree of JsonbValue (32 bytes a value, in
 * arrays that double as they grow, each string copied) and then serializes
 * the tree: about 100 bytes of memory for a list element of a few bytes.
 * Here the binary form is written directly, in two passes over the text:
 * the first measures, the second writes into one palloc of the exact size.
 * Besides the text and the result, only the members of the object being
 * written are kept (jsonb orders an object's keys by length, then bytes,
 * so they are sorted).
 *
 * The text must be JSON as the core writes it (il_jsonw.h: no whitespace,
 * minimal escapes, integers); anything else is an internal error. The
 * layout is jsonb's own (utils/jsonb.h; convertToJsonb in jsonb_util.c): a
 * container is a header word, a JEntry per child (an object's keys first,
 * then its values) and the children's data; every JB_OFFSET_STRIDE'th
 * JEntry holds the end offset of its child instead of its length, and
 * numbers and containers start at a 4-byte boundary, the padding counted
 * in their length.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "ironlayer.h"
#include "il_text.h"

typedef struct jb_writer
{
	const char *start;			/* the text */
	const char *p;				/* its next byte */
	const char *end;
	char	   *out;			/* the jsonb written; NULL while measuring */
	Size		len;			/* bytes written (or measured) so far */
} jb_writer;

/* A member of an object: its key, decoded, and where its value starts. */
typedef struct jb_member
{
	char	   *key;
	Size		keylen;
	const char *value;
} jb_member;

static JEntry jb_value(jb_writer *w);

/*
 * Text the core cannot have written.
 */
static void
pg_attribute_noreturn()
jb_bad(const jb_writer *w, const char *p)
{
	elog(ERROR, "unexpected JSON text from the core at byte %d", (int) (p - w->start));
}

/*
 * A size jsonb cannot hold.
 */
static void
pg_attribute_noreturn()
jb_too_large(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("the result is too large for jsonb"),
			 errdetail("A jsonb value holds at most %d bytes.", JENTRY_OFFLENMASK)));
}

/*
 * Appends n bytes (or counts them).
 */
static void
jb_put(jb_writer *w, const void *s, Size n)
{
	if (w->out != NULL)
		memcpy(w->out + w->len, s, n);
	w->len += n;
}

/*
 * Pads the output to a 4-byte boundary; returns the padding.
 */
static int
jb_pad(jb_writer *w)
{
	int			pad = (int) (INTALIGN(w->len) - w->len);

	if (w->out != NULL && pad > 0)
		memset(w->out + w->len, 0, pad);
	w->len += pad;
	return pad;
}

/*
 * The byte after the string whose opening quote is at p.
 */
static const char *
skip_string(const jb_writer *w, const char *p)
{
	const char *q = p + 1;

	while (q < w->end && *q != '"')
		q += *q == '\\' ? 2 : 1;
	if (q >= w->end)
		jb_bad(w, p);
	return q + 1;
}

/*
 * The byte after the value starting at p.
 */
static const char *
skip_value(const jb_writer *w, const char *p)
{
	int			depth = 0;

	if (p >= w->end)
		jb_bad(w, p);
	if (*p == '"')
		return skip_string(w, p);
	if (*p != '[' && *p != '{')
	{
		while (p < w->end && *p != ',' && *p != ']' && *p != '}')
			p++;
		return p;
	}
	do
	{
		if (p >= w->end)
			jb_bad(w, p);
		if (*p == '"')
		{
			p = skip_string(w, p);
			continue;
		}
		if (*p == '[' || *p == '{')
			depth++;
		else if (*p == ']' || *p == '}')
			depth--;
		p++;
	} while (depth > 0);
	return p;
}

/*
 * Decodes the string whose opening quote is at w->p into dst (when not
 * NULL); returns its length and moves past it.
 */
static Size
jb_decode(jb_writer *w, char *dst)
{
	const char *p = w->p + 1;
	Size		n = 0;

	for (;;)
	{
		const char *run = p;
		char		c;

		while (p < w->end && *p != '"' && *p != '\\')
			p++;
		if (dst != NULL)
			memcpy(dst + n, run, p - run);
		n += p - run;
		if (p >= w->end)
			jb_bad(w, w->p);
		if (*p == '"')
			break;
		if (w->end - p < 2)
			jb_bad(w, p);
		switch (p[1])
		{
			case '"':
			case '\\':
			case '/':
				c = p[1];
				break;
			case 'b':
				c = '\b';
				break;
			case 'f':
				c = '\f';
				break;
			case 'n':
				c = '\n';
				break;
			case 'r':
				c = '\r';
				break;
			case 't':
				c = '\t';
				break;
			case 'u':
				{
					int			v = 0;
					int			k;

					/* the core writes only control characters this way */
					if (w->end - p < 6)
						jb_bad(w, p);
					for (k = 2; k < 6; k++)
					{
						int			d = il_hex_value(p[k]);

						if (d < 0)
							jb_bad(w, p);
						v = v * 16 + d;
					}
					if (v == 0 || v >= 0x80)
						jb_bad(w, p);
					c = (char) v;
					p += 4;
					break;
				}
			default:
				jb_bad(w, p);
		}
		if (dst != NULL)
			dst[n] = c;
		n++;
		p += 2;
	}
	w->p = p + 1;
	return n;
}

/*
 * A string value: its decoded bytes.
 */
static JEntry
jb_string(jb_writer *w)
{
	Size		n = jb_decode(w, w->out != NULL ? w->out + w->len : NULL);

	if (n > JENTRY_OFFLENMASK)
		jb_too_large();
	w->len += n;
	return JENTRY_ISSTRING | (JEntry) n;
}

/*
 * A number: numeric_in's result, as jsonb_in stores it.
 */
static JEntry
jb_number(jb_writer *w)
{
	const char *q = w->p;
	char	   *s;
	Numeric		num;
	int			pad;
	Size		numlen;

	while (q < w->end && (isdigit((unsigned char) *q) || *q == '-' || *q == '+' ||
						  *q == '.' || *q == 'e' || *q == 'E'))
		q++;
	if (q == w->p)
		jb_bad(w, w->p);
	s = pnstrdup(w->p, q - w->p);
	num = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(s),
											  ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
	pad = jb_pad(w);
	numlen = VARSIZE_ANY(num);
	jb_put(w, num, numlen);
	pfree(num);
	pfree(s);
	w->p = q;
	return JENTRY_ISNUMERIC | (JEntry) (pad + numlen);
}

/*
 * Stores the JEntry of child i (of those after the header word at
 * entries), its length turned into an end offset every JB_OFFSET_STRIDE
 * children; total is the children's data so far, this one's included.
 */
static void
jb_entry(jb_writer *w, Size entries, uint32 i, JEntry meta, Size total)
{
	if (total > JENTRY_OFFLENMASK)
		jb_too_large();
	if (i % JB_OFFSET_STRIDE == 0)
		meta = (meta & JENTRY_TYPEMASK) | (JEntry) total | JENTRY_HAS_OFF;
	if (w->out != NULL)
		memcpy(w->out + entries + i * sizeof(JEntry), &meta, sizeof(JEntry));
}

/*
 * An array.
 */
static JEntry
jb_array(jb_writer *w)
{
	Size		base = w->len;
	const char *p = w->p + 1;
	uint32		n = 0;
	uint32		header;
	Size		entries;
	Size		total = 0;
	uint32		i;

	if (p < w->end && *p != ']')
	{
		for (;;)
		{
			p = skip_value(w, p);
			n++;
			if (p < w->end && *p == ',')
				p++;
			else if (p < w->end && *p == ']')
				break;
			else
				jb_bad(w, p);
		}
	}
	if (n > JB_CMASK)
		jb_too_large();
	jb_pad(w);
	header = n | JB_FARRAY;
	jb_put(w, &header, sizeof(header));
	entries = w->len;
	w->len += (Size) n * sizeof(JEntry);
	w->p++;
	for (i = 0; i < n; i++)
	{
		JEntry		meta = jb_value(w);

		total += JBE_OFFLENFLD(meta);
		jb_entry(w, entries, i, meta, total);
		if (w->p < w->end && *w->p == ',')
			w->p++;
	}
	if (w->p >= w->end || *w->p != ']')
		jb_bad(w, w->p);
	w->p++;
	if (w->len - base > JENTRY_OFFLENMASK)
		jb_too_large();
	return JENTRY_ISCONTAINER | (JEntry) (w->len - base);
}

/*
 * Orders members as jsonb orders an object's keys: by length, then bytes.
 */
static int
member_cmp(const void *a, const void *b)
{
	const jb_member *x = a;
	const jb_member *y = b;

	if (x->keylen != y->keylen)
		return x->keylen < y->keylen ? -1 : 1;
	return memcmp(x->key, y->key, x->keylen);
}

/*
 * An object.
 */
static JEntry
jb_object(jb_writer *w)
{
	Size		base = w->len;
	const char *p = w->p + 1;
	uint32		n = 0;
	jb_member  *m;
	uint32		header;
	Size		entries;
	Size		total = 0;
	const char *after;
	uint32		i;

	/* count the members, then read their keys and where their values start */
	if (p < w->end && *p != '}')
	{
		for (;;)
		{
			if (p >= w->end || *p != '"')
				jb_bad(w, p);
			p = skip_string(w, p);
			if (p >= w->end || *p != ':')
				jb_bad(w, p);
			p = skip_value(w, p + 1);
			n++;
			if (p < w->end && *p == ',')
				p++;
			else if (p < w->end && *p == '}')
				break;
			else
				jb_bad(w, p);
		}
	}
	after = p + 1;
	if (n > JB_CMASK)
		jb_too_large();
	m = palloc(Max(n, 1) * sizeof(jb_member));
	p = w->p + 1;
	for (i = 0; i < n; i++)
	{
		w->p = p;
		m[i].keylen = jb_decode(w, NULL);
		m[i].key = palloc(m[i].keylen + 1);
		w->p = p;
		jb_decode(w, m[i].key);
		m[i].value = w->p + 1;
		p = skip_value(w, m[i].value) + 1;
	}
	qsort(m, n, sizeof(jb_member), member_cmp);
	for (i = 1; i < n; i++)
		if (member_cmp(&m[i - 1], &m[i]) == 0)
			jb_bad(w, m[i].value);

	jb_pad(w);
	header = n | JB_FOBJECT;
	jb_put(w, &header, sizeof(header));
	entries = w->len;
	w->len += (Size) n * 2 * sizeof(JEntry);
	for (i = 0; i < n; i++)
	{
		jb_put(w, m[i].key, m[i].keylen);
		total += m[i].keylen;
		jb_entry(w, entries, i, JENTRY_ISSTRING | (JEntry) m[i].keylen, total);
	}
	for (i = 0; i < n; i++)
	{
		JEntry		meta;

		w->p = m[i].value;
		meta = jb_value(w);
		total += JBE_OFFLENFLD(meta);
		jb_entry(w, entries, n + i, meta, total);
	}
	for (i = 0; i < n; i++)
		pfree(m[i].key);
	pfree(m);
	w->p = after;
	if (w->len - base > JENTRY_OFFLENMASK)
		jb_too_large();
	return JENTRY_ISCONTAINER | (JEntry) (w->len - base);
}

/*
 * Any value at w->p: appends its data and returns its JEntry.
 */
static JEntry
jb_value(jb_writer *w)
{
	check_stack_depth();
	if (w->p >= w->end)
		jb_bad(w, w->p);
	switch (*w->p)
	{
		case '{':
			return jb_object(w);
		case '[':
			return jb_array(w);
		case '"':
			return jb_string(w);
		case 't':
			if (w->end - w->p < 4 || memcmp(w->p, "true", 4) != 0)
				jb_bad(w, w->p);
			w->p += 4;
			return JENTRY_ISBOOL_TRUE;
		case 'f':
			if (w->end - w->p < 5 || memcmp(w->p, "false", 5) != 0)
				jb_bad(w, w->p);
			w->p += 5;
			return JENTRY_ISBOOL_FALSE;
		case 'n':
			if (w->end - w->p < 4 || memcmp(w->p, "null", 4) != 0)
				jb_bad(w, w->p);
			w->p += 4;
			return JENTRY_ISNULL;
		default:
			return jb_number(w);
	}
}

/*
 * The jsonb of json[0..len), an object or array as the core writes it.
 */
Datum
ironlayer_json_to_jsonb(const char *json, Size len)
{
	jb_writer	w;
	Size		size;
	char	   *result;

	w.start = w.p = json;
	w.end = json + len;
	w.out = NULL;
	w.len = VARHDRSZ;
	if (len == 0 || (*json != '{' && *json != '['))
		jb_bad(&w, json);
	(void) jb_value(&w);
	if (w.p != w.end)
		jb_bad(&w, w.p);
	size = w.len;
	if (!AllocSizeIsValid(size))
		jb_too_large();

	result = palloc(size);
	w.p = json;
	w.out = result;
	w.len = VARHDRSZ;
	(void) jb_value(&w);
	Assert(w.len == size);
	SET_VARSIZE(result, size);
	return PointerGetDatum(result);
}
