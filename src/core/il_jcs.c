/*-------------------------------------------------------------------------
 *
 * il_jcs.c
 *	  JSON parsing and RFC 8785 canonicalization.
 *
 * The parser builds a tree in an arena (blocks that never move, so values
 * can point at each other) with an explicit walk instead of recursion:
 * each value points to its parent, first child and next sibling. When an object closes, its members are sorted by name (UTF-16
 * code unit order) and relinked, and duplicate names are found as equal
 * neighbours. Writing walks the tree the same way.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "il_jcs.h"
#include "il_jsonw.h"
#include "il_text.h"

/* An arena block: data follows the header, suitably aligned. */
typedef struct jcs_block
{
	struct jcs_block *next;
	size_t		used;
	size_t		cap;
	max_align_t data[];
} jcs_block;

#define JCS_BLOCK_MIN 4096
#define JCS_BLOCK_MAX (1024 * 1024)

/* 72 bytes: the input is at most 4 GiB (json_too_large), so counts and
 * offsets are 32 bits, and the parser keeps each open container's last
 * child itself. */
struct il_jcs_value
{
	il_jcs_kind kind;
	uint32_t	count;			/* children of an array or object */
	il_jcs_value *parent;
	il_jcs_value *first;
	il_jcs_value *next;
	const char *name;			/* member name, NUL-terminated, or NULL */
	uint32_t	namelen;
	uint32_t	name_off;		/* byte offset of the name in the input */
	const char *str;			/* string text, or a number's canonical text */
	size_t		len;
	double		num;
};

struct il_jcs_doc
{
	jcs_block  *blocks;
	size_t		next_cap;		/* size of the next block */
	il_jcs_value *root;
};

typedef struct jcs_parser
{
	const char *s;
	size_t		len;
	size_t		pos;
	il_jcs_doc *doc;
	il_buf		scratch;		/* the string being decoded */
	il_error   *err;
} jcs_parser;

/*
 * jcs_alloc
 *		size bytes from the document's arena, aligned to align (a power of
 *		two: 1 for text, the value's alignment for values), or NULL.
 */
static void *
jcs_alloc(il_jcs_doc *doc, size_t size, size_t align)
{
	jcs_block  *b = doc->blocks;
	size_t		at = 0;
	void	   *p;

	if (size > SIZE_MAX - _Alignof(max_align_t) - sizeof(jcs_block))
		return NULL;
	if (b != NULL)
		at = (b->used + align - 1) & ~(align - 1);
	if (b == NULL || at > b->cap || b->cap - at < size)
	{
		size_t		cap = doc->next_cap;

		if (cap < size)
			cap = size;
		b = il_malloc(sizeof(jcs_block) + cap);
		if (b == NULL)
			return NULL;
		b->cap = cap;
		b->used = 0;
		b->next = doc->blocks;
		doc->blocks = b;
		if (doc->next_cap < JCS_BLOCK_MAX)
			doc->next_cap *= 2;
		at = 0;
	}
	p = (char *) b->data + at;
	b->used = at + size;
	return p;
}

/*
 * jcs_fail
 *		Sets the error for the byte at offset off of the input.
 */
static void
jcs_fail(jcs_parser *p, size_t off, il_errcode code, const char *fmt,...)
			__attribute__((format(printf, 4, 5)));

static void
jcs_fail(jcs_parser *p, size_t off, il_errcode code, const char *fmt,...)
{
	va_list		ap;
	char		msg[200];
	size_t		i;
	size_t		line = 1;
	size_t		linestart = 0;
	size_t		col;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (off > p->len)
		off = p->len;
	for (i = 0; i < off; i++)
	{
		if (p->s[i] == '\n')
		{
			line++;
			linestart = i + 1;
		}
	}
	col = off - linestart + 1;
	il_error_set(p->err, code, line > INT32_MAX ? INT32_MAX : (int) line,
				 col > INT32_MAX ? INT32_MAX : (int) col, "%s", msg);
}

/*
 * jcs_oom
 *		Reports an allocation failure.
 */
static void
jcs_oom(jcs_parser *p)
{
	il_error_set(p->err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory parsing JSON");
}

/*
 * jcs_describe
 *		A printable description of the byte at pos (or the end of input).
 */
static const char *
jcs_describe(jcs_parser *p, size_t pos, char *buf, size_t size)
{
	unsigned char c;

	if (pos >= p->len)
		return "end of input";
	c = (unsigned char) p->s[pos];
	if (c > 0x20 && c < 0x7f)
		snprintf(buf, size, "character '%c'", c);
	else
		snprintf(buf, size, "byte 0x%02x", c);
	return buf;
}

/*
 * jcs_skip_ws
 *		Skips JSON whitespace: space, tab, line feed, carriage return.
 */
static void
jcs_skip_ws(jcs_parser *p)
{
	while (p->pos < p->len)
	{
		char		c = p->s[p->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

/*
 * jcs_hex4
 *		The value of 4 hexadecimal digits (either case), or -1.
 */
static int
jcs_hex4(const char *s, uint32_t *out)
{
	uint32_t	v = 0;
	int			i;

	for (i = 0; i < 4; i++)
	{
		int			d = il_hex_value(s[i]);

		if (d < 0)
			return -1;
		v = (v << 4) | (uint32_t) d;
	}
	*out = v;
	return 0;
}

/*
 * jcs_put_utf8
 *		Appends the UTF-8 encoding of a code point (not a surrogate).
 */
static void
jcs_put_utf8(il_buf *b, uint32_t cp)
{
	char		u[4];
	size_t		n;

	if (cp < 0x80)
	{
		u[0] = (char) cp;
		n = 1;
	}
	else if (cp < 0x800)
	{
		u[0] = (char) (0xc0 | (cp >> 6));
		u[1] = (char) (0x80 | (cp & 0x3f));
		n = 2;
	}
	else if (cp < 0x10000)
	{
		u[0] = (char) (0xe0 | (cp >> 12));
		u[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char) (0x80 | (cp & 0x3f));
		n = 3;
	}
	else
	{
		u[0] = (char) (0xf0 | (cp >> 18));
		u[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char) (0x80 | (cp & 0x3f));
		n = 4;
	}
	il_buf_append(b, u, n);
}

/*
 * jcs_string
 *		Parses the string starting at the '"' at p->pos and stores its
 *		decoded UTF-8 text, NUL-terminated, in the arena.
 */
static int
jcs_string(jcs_parser *p, const char **out, size_t *outlen)
{
	const char *s = p->s;
	size_t		start = p->pos;
	size_t		i = p->pos + 1;
	size_t		run;
	char	   *copy;
	char		what[32];

	il_buf_reset(&p->scratch);
	for (;;)
	{
		unsigned char c;

		run = i;
		while (i < p->len)
		{
			c = (unsigned char) s[i];
			if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80)
				break;
			i++;
		}
		il_buf_append(&p->scratch, s + run, i - run);
		if (i >= p->len)
		{
			jcs_fail(p, start, IL_ERR_JSON_SYNTAX, "unterminated string");
			return -1;
		}
		c = (unsigned char) s[i];
		if (c == '"')
			break;
		if (c < 0x20)
		{
			jcs_fail(p, i, IL_ERR_JSON_CONTROL_CHARACTER,
					 "unescaped control character 0x%02x in a string", c);
			return -1;
		}
		if (c >= 0x80)
		{
			size_t		n = (size_t) il_utf8_char_len((const unsigned char *) s + i,
													  (const unsigned char *) s + p->len);

			if (n == 0)
			{
				jcs_fail(p, i, IL_ERR_JSON_INVALID_UTF8, "invalid UTF-8 in a string");
				return -1;
			}
			il_buf_append(&p->scratch, s + i, n);
			i += n;
			continue;
		}
		/* A backslash escape. */
		if (p->len - i < 2)
		{
			jcs_fail(p, start, IL_ERR_JSON_SYNTAX, "unterminated string");
			return -1;
		}
		switch (s[i + 1])
		{
			case '"':
			case '\\':
			case '/':
				il_buf_putc(&p->scratch, s[i + 1]);
				i += 2;
				continue;
			case 'b':
				il_buf_putc(&p->scratch, '\b');
				i += 2;
				continue;
			case 'f':
				il_buf_putc(&p->scratch, '\f');
				i += 2;
				continue;
			case 'n':
				il_buf_putc(&p->scratch, '\n');
				i += 2;
				continue;
			case 'r':
				il_buf_putc(&p->scratch, '\r');
				i += 2;
				continue;
			case 't':
				il_buf_putc(&p->scratch, '\t');
				i += 2;
				continue;
			case 'u':
				break;
			default:
				jcs_fail(p, i, IL_ERR_JSON_INVALID_ESCAPE,
						 "invalid escape sequence in a string: backslash followed by %s",
						 jcs_describe(p, i + 1, what, sizeof(what)));
				return -1;
		}
		{
			uint32_t	cp;
			uint32_t	lo;

			if (p->len - i < 6 || jcs_hex4(s + i + 2, &cp) != 0)
			{
				jcs_fail(p, i, IL_ERR_JSON_INVALID_ESCAPE, "\\u must be followed by 4 hexadecimal digits");
				return -1;
			}
			if (cp >= 0xdc00 && cp <= 0xdfff)
			{
				jcs_fail(p, i, IL_ERR_JSON_LONE_SURROGATE,
						 "lone low surrogate \\u%04" PRIx32 " in a string", cp);
				return -1;
			}
			if (cp >= 0xd800 && cp <= 0xdbff)
			{
				if (p->len - i < 12 || s[i + 6] != '\\' || s[i + 7] != 'u' ||
					jcs_hex4(s + i + 8, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
				{
					jcs_fail(p, i, IL_ERR_JSON_LONE_SURROGATE,
							 "high surrogate \\u%04" PRIx32 " is not followed by a low surrogate", cp);
					return -1;
				}
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				i += 6;
			}
			jcs_put_utf8(&p->scratch, cp);
			i += 6;
		}
	}
	p->pos = i + 1;
	if (p->scratch.oom)
	{
		jcs_oom(p);
		return -1;
	}
	copy = jcs_alloc(p->doc, p->scratch.len + 1, 1);
	if (copy == NULL)
	{
		jcs_oom(p);
		return -1;
	}
	if (p->scratch.len > 0)
		memcpy(copy, p->scratch.data, p->scratch.len);
	copy[p->scratch.len] = '\0';
	*out = copy;
	*outlen = p->scratch.len;
	return 0;
}

/*
 * jcs_digits_value
 *		The double nearest to digits[0..n) x 10^e10, or +inf.
 */
static double
jcs_digits_value(const char *digits, size_t n, int64_t e10, char *tmp)
{
	memmove(tmp, digits, n);
	snprintf(tmp + n, 24, "e%" PRId64, e10);
	return strtod(tmp, NULL);
}

/*
 * jcs_digits_increment
 *		Adds one unit in the last place to digits[0..*nd) x 10^*e10 (the
 *		first digit's power), carrying; "99" becomes "10" one power up.
 */
static bool
jcs_digits_increment(char *digits, size_t *nd, int *e10)
{
	size_t		i = *nd;

	while (i > 0)
	{
		i--;
		if (digits[i] != '9')
		{
			digits[i]++;
			return true;
		}
		digits[i] = '0';
	}
	digits[0] = '1';
	(*e10)++;
	return true;
}

/*
 * il_jcs_write_number
 *		ECMAScript Number::toString for a finite double.
 *
 * The shortest decimal that reads back as v is found by trying 1 to 17
 * significant digits, each rounded correctly by snprintf's %e; among the
 * candidates with as few digits, the one nearest to v is the correctly
 * rounded one, as ECMAScript requires. (If it does not read back, only the
 * next one up can, at a power of two: see below.) The digits and the exponent are
 * then laid out by the rules of ECMA-262 Number::toString.
 */
int
il_jcs_write_number(il_buf *out, double v)
{
	char		sci[48];
	char		digits[24];
	char		tmp[48];
	size_t		nd = 0;
	int			e10 = 0;
	int			prec;
	int			n;

	if (!isfinite(v))
		return -1;
	if (v == 0)
	{
		il_buf_putc(out, '0');	/* also for -0 */
		return 0;
	}
	if (v < 0)
	{
		il_buf_putc(out, '-');
		v = -v;
	}
	/*
	 * Fast path: an integer below 2^53 is exact in a double, and ECMAScript
	 * writes it as its plain digits.
	 */
	if (v < 9007199254740992.0 && v == (double) (uint64_t) v)
	{
		uint64_t	u = (uint64_t) v;
		char		buf[20];
		int			i = (int) sizeof(buf);

		do
		{
			buf[--i] = (char) ('0' + u % 10);
			u /= 10;
		} while (u > 0);
		il_buf_append(out, buf + i, sizeof(buf) - (size_t) i);
		return 0;
	}
	for (prec = 1; prec <= 17; prec++)
	{
		const char *c;

		snprintf(sci, sizeof(sci), "%.*e", prec - 1, v);
		/* Digits up to the 'e', whatever the locale's decimal point. */
		nd = 0;
		for (c = sci; *c != '\0' && *c != 'e'; c++)
		{
			if (*c >= '0' && *c <= '9' && nd < sizeof(digits))
				digits[nd++] = *c;
		}
		e10 = *c == 'e' ? (int) strtol(c + 1, NULL, 10) : 0;
		if (jcs_digits_value(digits, nd, (int64_t) e10 - (int64_t) nd + 1, tmp) == v)
			break;

		/*
		 * When v is a power of two, the doubles below it are closer than
		 * those above, so the nearest prec-digit decimal can miss while
		 * the next one up reads back as v: try it too.
		 */
		if (prec < 17 && jcs_digits_increment(digits, &nd, &e10) &&
			jcs_digits_value(digits, nd, (int64_t) e10 - (int64_t) nd + 1, tmp) == v)
			break;
	}
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;

	/* v = 0.d1d2...dk x 10^n in ECMA-262's terms: n = e10 + 1, k = nd. */
	n = e10 + 1;
	if ((int) nd <= n && n <= 21)
	{
		il_buf_append(out, digits, nd);
		while (n-- > (int) nd)
			il_buf_putc(out, '0');
	}
	else if (0 < n && n <= 21)
	{
		il_buf_append(out, digits, (size_t) n);
		il_buf_putc(out, '.');
		il_buf_append(out, digits + n, nd - (size_t) n);
	}
	else if (-6 < n && n <= 0)
	{
		il_buf_puts(out, "0.");
		while (n++ < 0)
			il_buf_putc(out, '0');
		il_buf_append(out, digits, nd);
	}
	else
	{
		il_buf_putc(out, digits[0]);
		if (nd > 1)
		{
			il_buf_putc(out, '.');
			il_buf_append(out, digits + 1, nd - 1);
		}
		snprintf(tmp, sizeof(tmp), "e%c%d", n - 1 < 0 ? '-' : '+', n - 1 < 0 ? 1 - n : n - 1);
		il_buf_puts(out, tmp);
	}
	return 0;
}

/*
 * jcs_number
 *		Parses the number at p->pos into v: its double and canonical text.
 */
static int
jcs_number(jcs_parser *p, il_jcs_value *v)
{
	const char *s = p->s;
	size_t		start = p->pos;
	size_t		i = p->pos;
	size_t		int_start;
	size_t		int_len;
	size_t		frac_start = 0;
	size_t		frac_len = 0;
	int64_t		exp = 0;
	bool		exp_neg = false;
	char	   *all;
	size_t		alen;
	size_t		a;
	size_t		b;
	double		d;
	char	   *text;

	if (s[i] == '-')
		i++;
	if (i >= p->len || s[i] < '0' || s[i] > '9')
	{
		jcs_fail(p, i, IL_ERR_JSON_SYNTAX, "a number needs a digit after '-'");
		return -1;
	}
	int_start = i;
	if (s[i] == '0')
	{
		i++;
		if (i < p->len && s[i] >= '0' && s[i] <= '9')
		{
			jcs_fail(p, start, IL_ERR_JSON_SYNTAX, "a number must not have a leading zero");
			return -1;
		}
	}
	else
	{
		while (i < p->len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	int_len = i - int_start;
	if (i < p->len && s[i] == '.')
	{
		i++;
		frac_start = i;
		while (i < p->len && s[i] >= '0' && s[i] <= '9')
			i++;
		frac_len = i - frac_start;
		if (frac_len == 0)
		{
			jcs_fail(p, i, IL_ERR_JSON_SYNTAX, "a number needs a digit after '.'");
			return -1;
		}
	}
	if (i < p->len && (s[i] == 'e' || s[i] == 'E'))
	{
		size_t		exp_start;

		i++;
		if (i < p->len && (s[i] == '+' || s[i] == '-'))
		{
			exp_neg = s[i] == '-';
			i++;
		}
		exp_start = i;
		while (i < p->len && s[i] >= '0' && s[i] <= '9')
		{
			/* Saturate: beyond 10^15 the value is 0 or infinite anyway. */
			if (exp < INT64_C(1000000000000000))
				exp = exp * 10 + (s[i] - '0');
			i++;
		}
		if (i == exp_start)
		{
			jcs_fail(p, i, IL_ERR_JSON_SYNTAX, "a number needs a digit in its exponent");
			return -1;
		}
		if (exp_neg)
			exp = -exp;
	}
	p->pos = i;

	/* The significant digits, as one string, and the power of ten. */
	alen = int_len + frac_len;
	all = il_malloc(alen + 32);
	if (all == NULL)
	{
		jcs_oom(p);
		return -1;
	}
	memcpy(all, s + int_start, int_len);
	if (frac_len > 0)
		memcpy(all + int_len, s + frac_start, frac_len);
	for (a = 0; a < alen && all[a] == '0'; a++)
		;
	if (a == alen)
		d = 0;
	else
	{
		int64_t		e10;
		int64_t		mag;

		for (b = alen; all[b - 1] == '0'; b--)
			;
		/* value = all[a..b) x 10^e10 */
		e10 = exp - (int64_t) frac_len + (int64_t) (alen - b);
		mag = (int64_t) (b - a) + e10;	/* 10^(mag-1) <= value < 10^mag */
		if (mag > 310)
			d = HUGE_VAL;
		else if (mag < -330)
			d = 0;
		else
		{
			memmove(all, all + a, b - a);
			d = jcs_digits_value(all, b - a, e10, all);
		}
	}
	il_free(all);
	if (isinf(d))
	{
		jcs_fail(p, start, IL_ERR_JSON_NUMBER_OUT_OF_RANGE,
				 "number is out of the range of an IEEE-754 double");
		return -1;
	}
	v->kind = IL_JCS_NUMBER;
	v->num = d == 0 ? 0.0 : (s[start] == '-' ? -d : d);
	il_buf_reset(&p->scratch);
	il_jcs_write_number(&p->scratch, v->num);
	if (p->scratch.oom || (text = jcs_alloc(p->doc, p->scratch.len + 1, 1)) == NULL)
	{
		jcs_oom(p);
		return -1;
	}
	memcpy(text, p->scratch.data, p->scratch.len + 1);
	v->str = text;
	v->len = p->scratch.len;
	return 0;
}

/*
 * jcs_utf8_next
 *		Decodes the code point at s (valid UTF-8), returning its length.
 */
static size_t
jcs_utf8_next(const unsigned char *s, uint32_t *cp)
{
	if (s[0] < 0x80)
	{
		*cp = s[0];
		return 1;
	}
	if (s[0] < 0xe0)
	{
		*cp = ((uint32_t) (s[0] & 0x1f) << 6) | (s[1] & 0x3f);
		return 2;
	}
	if (s[0] < 0xf0)
	{
		*cp = ((uint32_t) (s[0] & 0x0f) << 12) | ((uint32_t) (s[1] & 0x3f) << 6) | (s[2] & 0x3f);
		return 3;
	}
	*cp = ((uint32_t) (s[0] & 0x07) << 18) | ((uint32_t) (s[1] & 0x3f) << 12) |
		((uint32_t) (s[2] & 0x3f) << 6) | (s[3] & 0x3f);
	return 4;
}

/*
 * jcs_utf16_cmp
 *		Compares two valid UTF-8 strings as sequences of UTF-16 code units.
 *
 * Code points compare like their UTF-16 forms except that a supplementary
 * code point (a surrogate pair, first unit 0xD800..0xDBFF) sorts before
 * BMP code points 0xE000..0xFFFF. Comparing first units, then code points,
 * gives exactly the UTF-16 order.
 */
static int
jcs_utf16_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	const unsigned char *x = (const unsigned char *) a;
	const unsigned char *y = (const unsigned char *) b;
	size_t		i = 0;
	size_t		j = 0;

	while (i < alen && j < blen)
	{
		uint32_t	ca;
		uint32_t	cb;

		if (x[i] < 0x80 && y[j] < 0x80)
		{
			if (x[i] != y[j])
				return x[i] < y[j] ? -1 : 1;
			i++;
			j++;
			continue;
		}
		i += jcs_utf8_next(x + i, &ca);
		j += jcs_utf8_next(y + j, &cb);
		if (ca != cb)
		{
			uint32_t	ua = ca >= 0x10000 ? 0xd800 + ((ca - 0x10000) >> 10) : ca;
			uint32_t	ub = cb >= 0x10000 ? 0xd800 + ((cb - 0x10000) >> 10) : cb;

			if (ua != ub)
				return ua < ub ? -1 : 1;
			return ca < cb ? -1 : 1;
		}
	}
	if (i < alen)
		return 1;
	if (j < blen)
		return -1;
	return 0;
}

/*
 * jcs_member_cmp
 *		qsort comparator of object members by name.
 */
static int
jcs_member_cmp(const void *l, const void *r)
{
	const il_jcs_value *a = *(const il_jcs_value *const *) l;
	const il_jcs_value *b = *(const il_jcs_value *const *) r;

	return jcs_utf16_cmp(a->name, a->namelen, b->name, b->namelen);
}

/*
 * jcs_close_object
 *		Sorts the members of obj, rejects duplicate names, relinks them.
 */
static int
jcs_close_object(jcs_parser *p, il_jcs_value *obj)
{
	il_jcs_value **m;
	il_jcs_value *c;
	size_t		i;

	if (obj->count < 2)
		return 0;
	if ((m = il_malloc((size_t) obj->count * sizeof(*m))) == NULL)
	{
		jcs_oom(p);
		return -1;
	}
	for (i = 0, c = obj->first; c != NULL; c = c->next)
		m[i++] = c;
	qsort(m, obj->count, sizeof(*m), jcs_member_cmp);
	for (i = 1; i < obj->count; i++)
	{
		if (m[i - 1]->namelen == m[i]->namelen &&
			memcmp(m[i - 1]->name, m[i]->name, m[i]->namelen) == 0)
		{
			const il_jcs_value *later = m[i - 1]->name_off > m[i]->name_off ? m[i - 1] : m[i];
			il_buf		shown = IL_BUF_INIT;

			if (later->namelen <= 64)
				il_jsonw_string(&shown, later->name, later->namelen);
			jcs_fail(p, later->name_off, IL_ERR_JSON_DUPLICATE_KEY,
					 "duplicate object key %s", shown.len ? il_buf_cstr(&shown) : "(a long name)");
			il_buf_free(&shown);
			il_free(m);
			return -1;
		}
	}
	obj->first = m[0];
	for (i = 1; i < obj->count; i++)
		m[i - 1]->next = m[i];
	m[obj->count - 1]->next = NULL;
	il_free(m);
	return 0;
}

/*
 * jcs_member_name
 *		Parses '"name"' and ':' before a member's value.
 */
static int
jcs_member_name(jcs_parser *p, const char **name, size_t *namelen, size_t *off)
{
	char		what[32];

	jcs_skip_ws(p);
	if (p->pos >= p->len || p->s[p->pos] != '"')
	{
		jcs_fail(p, p->pos, IL_ERR_JSON_SYNTAX, "expected a member name in double quotes, found %s",
				 jcs_describe(p, p->pos, what, sizeof(what)));
		return -1;
	}
	*off = p->pos;
	if (jcs_string(p, name, namelen) != 0)
		return -1;
	jcs_skip_ws(p);
	if (p->pos >= p->len || p->s[p->pos] != ':')
	{
		jcs_fail(p, p->pos, IL_ERR_JSON_SYNTAX, "expected ':' after a member name, found %s",
				 jcs_describe(p, p->pos, what, sizeof(what)));
		return -1;
	}
	p->pos++;
	return 0;
}

/*
 * jcs_parse_text
 *		Parses the whole input into p->doc->root.
 *
 * The loop alternates between "read a value" and "after a value: a comma,
 * or the end of the enclosing containers". cur is the innermost open
 * array or object (NULL at the top level).
 */
static int
jcs_parse_text(jcs_parser *p)
{
	il_jcs_value *cur = NULL;
	int			depth = 0;
	il_jcs_value *tail[IL_JCS_MAX_DEPTH + 1];	/* last child of each open container */
	const char *name = NULL;
	size_t		namelen = 0;
	size_t		name_off = 0;
	char		what[32];

	if (p->len >= 3 && memcmp(p->s, "\xef\xbb\xbf", 3) == 0)
	{
		jcs_fail(p, 0, IL_ERR_JSON_SYNTAX, "a byte order mark is not allowed");
		return -1;
	}
	if (p->len > UINT32_MAX)
	{
		jcs_fail(p, 0, IL_ERR_JSON_TOO_LARGE, "the JSON text is larger than 4 GiB");
		return -1;
	}
	for (;;)
	{
		il_jcs_value *v;
		char		c;
		bool		opened = false;

		/* A value. */
		jcs_skip_ws(p);
		if (p->pos >= p->len)
		{
			jcs_fail(p, p->pos, IL_ERR_JSON_SYNTAX, "expected a JSON value, found the end of input");
			return -1;
		}
		v = jcs_alloc(p->doc, sizeof(il_jcs_value), _Alignof(il_jcs_value));
		if (v == NULL)
		{
			jcs_oom(p);
			return -1;
		}
		memset(v, 0, sizeof(*v));
		v->parent = cur;
		if (cur == NULL)
			p->doc->root = v;
		else
		{
			if (tail[depth])
				tail[depth]->next = v;
			else
				cur->first = v;
			tail[depth] = v;
			cur->count++;
			if (cur->kind == IL_JCS_OBJECT)
			{
				v->name = name;
				v->namelen = (uint32_t) namelen;
				v->name_off = (uint32_t) name_off;
			}
		}
		c = p->s[p->pos];
		switch (c)
		{
			case '[':
			case '{':
				if (depth >= IL_JCS_MAX_DEPTH)
				{
					jcs_fail(p, p->pos, IL_ERR_JSON_TOO_DEEP,
							 "arrays and objects are nested more than %d deep", IL_JCS_MAX_DEPTH);
					return -1;
				}
				v->kind = c == '[' ? IL_JCS_ARRAY : IL_JCS_OBJECT;
				p->pos++;
				depth++;
				tail[depth] = NULL;
				cur = v;
				jcs_skip_ws(p);
				if (p->pos < p->len && p->s[p->pos] == (c == '[' ? ']' : '}'))
				{
					/* Empty: closed below like any other container. */
					break;
				}
				if (c == '{' && jcs_member_name(p, &name, &namelen, &name_off) != 0)
					return -1;
				opened = true;
				break;
			case '"':
				v->kind = IL_JCS_STRING;
				if (jcs_string(p, &v->str, &v->len) != 0)
					return -1;
				break;
			case 't':
			case 'f':
			case 'n':
				{
					const char *lit = c == 't' ? "true" : c == 'f' ? "false" : "null";
					size_t		n = strlen(lit);

					if (p->len - p->pos < n || memcmp(p->s + p->pos, lit, n) != 0)
					{
						jcs_fail(p, p->pos, IL_ERR_JSON_SYNTAX, "invalid literal (expected %s)", lit);
						return -1;
					}
					v->kind = c == 't' ? IL_JCS_TRUE : c == 'f' ? IL_JCS_FALSE : IL_JCS_NULL;
					p->pos += n;
					break;
				}
			default:
				if (c == '-' || (c >= '0' && c <= '9'))
				{
					if (jcs_number(p, v) != 0)
						return -1;
					break;
				}
				jcs_fail(p, p->pos, IL_ERR_JSON_SYNTAX, "expected a JSON value, found %s",
						 jcs_describe(p, p->pos, what, sizeof(what)));
				return -1;
		}
		if (opened)
			continue;

		/*
		 * After a value: close containers whose closing bracket follows (an
		 * empty container left open above closes first), until a comma asks
		 * for the next value.
		 */
		for (;;)
		{
			char		close;

			jcs_skip_ws(p);
			if (cur == NULL)
			{
				if (p->pos < p->len)
				{
					jcs_fail(p, p->pos, IL_ERR_JSON_TRAILING_DATA,
							 "unexpected %s after the JSON value",
							 jcs_describe(p, p->pos, what, sizeof(what)));
					return -1;
				}
				return 0;
			}
			close = cur->kind == IL_JCS_ARRAY ? ']' : '}';
			if (p->pos < p->len && p->s[p->pos] == close)
			{
				p->pos++;
				if (cur->kind == IL_JCS_OBJECT && jcs_close_object(p, cur) != 0)
					return -1;
				cur = cur->parent;
				depth--;
				continue;
			}
			if (p->pos < p->len && p->s[p->pos] == ',')
			{
				p->pos++;
				if (cur->kind == IL_JCS_OBJECT &&
					jcs_member_name(p, &name, &namelen, &name_off) != 0)
					return -1;
				break;
			}
			jcs_fail(p, p->pos, IL_ERR_JSON_SYNTAX, "expected ',' or '%c', found %s",
					 close, jcs_describe(p, p->pos, what, sizeof(what)));
			return -1;
		}
	}
}

/*
 * il_jcs_parse
 *		Parses JSON text into a document.
 */
il_jcs_doc *
il_jcs_parse(const char *json, size_t len, il_error *err)
{
	jcs_parser	p;
	il_jcs_doc *doc = il_calloc(1, sizeof(il_jcs_doc));

	if (doc == NULL)
	{
		il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory parsing JSON");
		return NULL;
	}
	doc->next_cap = JCS_BLOCK_MIN;
	p.s = json;
	p.len = len;
	p.pos = 0;
	p.doc = doc;
	p.err = err;
	il_buf_init(&p.scratch);
	if (jcs_parse_text(&p) != 0)
	{
		il_buf_free(&p.scratch);
		il_jcs_free(doc);
		return NULL;
	}
	il_buf_free(&p.scratch);
	return doc;
}

/*
 * il_jcs_free
 *		Frees a document and all its values.
 */
void
il_jcs_free(il_jcs_doc *doc)
{
	jcs_block  *b;

	if (doc == NULL)
		return;
	b = doc->blocks;
	while (b != NULL)
	{
		jcs_block  *next = b->next;

		il_free(b);
		b = next;
	}
	il_free(doc);
}

/*
 * il_jcs_write
 *		Appends the canonical text of v, walking the tree without recursion.
 */
void
il_jcs_write(il_buf *out, const il_jcs_value *root)
{
	const il_jcs_value *v = root;

	for (;;)
	{
		if (v != root && v->parent->kind == IL_JCS_OBJECT)
		{
			il_jsonw_string(out, v->name, v->namelen);
			il_buf_putc(out, ':');
		}
		switch (v->kind)
		{
			case IL_JCS_NULL:
				il_buf_puts(out, "null");
				break;
			case IL_JCS_FALSE:
				il_buf_puts(out, "false");
				break;
			case IL_JCS_TRUE:
				il_buf_puts(out, "true");
				break;
			case IL_JCS_NUMBER:
				il_buf_append(out, v->str, v->len);
				break;
			case IL_JCS_STRING:
				il_jsonw_string(out, v->str, v->len);
				break;
			case IL_JCS_ARRAY:
			case IL_JCS_OBJECT:
				il_buf_putc(out, v->kind == IL_JCS_ARRAY ? '[' : '{');
				if (v->first != NULL)
				{
					v = v->first;
					continue;
				}
				il_buf_putc(out, v->kind == IL_JCS_ARRAY ? ']' : '}');
				break;
		}
		/* v is written: go to its next sibling, closing finished parents. */
		while (v != root && v->next == NULL)
		{
			v = v->parent;
			il_buf_putc(out, v->kind == IL_JCS_ARRAY ? ']' : '}');
		}
		if (v == root)
			return;
		il_buf_putc(out, ',');
		v = v->next;
	}
}

/*
 * il_jcs_canonicalize
 *		Parses json and appends its RFC 8785 canonical form to out.
 */
int
il_jcs_canonicalize(const char *json, size_t len, il_buf *out, il_error *err)
{
	il_jcs_doc *doc;
	size_t		orig = out->len;

	if (out->oom)
	{
		il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory canonicalizing JSON");
		return -1;
	}
	doc = il_jcs_parse(json, len, err);
	if (doc == NULL)
		return -1;
	il_jcs_write(out, doc->root);
	il_jcs_free(doc);
	if (out->oom)
	{
		out->oom = false;
		out->len = orig;
		if (out->data)
			out->data[orig] = '\0';
		il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory canonicalizing JSON");
		return -1;
	}
	return 0;
}

/*
 * Accessors of a parsed document: see il_jcs.h. Each takes a value of the
 * document and returns what it holds, or NULL/0 where it holds none.
 */
const il_jcs_value *
il_jcs_root(const il_jcs_doc *doc)
{
	return doc->root;
}

il_jcs_kind
il_jcs_kind_of(const il_jcs_value *v)
{
	return v->kind;
}

size_t
il_jcs_count(const il_jcs_value *v)
{
	return v != NULL ? v->count : 0;
}

const il_jcs_value *
il_jcs_first(const il_jcs_value *v)
{
	return v != NULL ? v->first : NULL;
}

const il_jcs_value *
il_jcs_next(const il_jcs_value *v)
{
	return v != NULL ? v->next : NULL;
}

const il_jcs_value *
il_jcs_at(const il_jcs_value *arr, size_t i)
{
	const il_jcs_value *c;

	if (arr == NULL || arr->kind != IL_JCS_ARRAY || i >= arr->count)
		return NULL;
	for (c = arr->first; i > 0; i--)
		c = c->next;
	return c;
}

const il_jcs_value *
il_jcs_get(const il_jcs_value *obj, const char *name)
{
	const il_jcs_value *c;
	size_t		n = strlen(name);

	if (obj == NULL || obj->kind != IL_JCS_OBJECT)
		return NULL;
	for (c = obj->first; c != NULL; c = c->next)
	{
		if (c->namelen == n && memcmp(c->name, name, n) == 0)
			return c;
	}
	return NULL;
}

const char *
il_jcs_name(const il_jcs_value *v, size_t *len)
{
	if (len)
		*len = v != NULL && v->name ? v->namelen : 0;
	return v != NULL ? v->name : NULL;
}

const char *
il_jcs_string(const il_jcs_value *v, size_t *len)
{
	if (v == NULL || v->kind != IL_JCS_STRING)
	{
		if (len)
			*len = 0;
		return NULL;
	}
	if (len)
		*len = v->len;
	return v->str;
}

double
il_jcs_number(const il_jcs_value *v)
{
	return v != NULL && v->kind == IL_JCS_NUMBER ? v->num : 0;
}
