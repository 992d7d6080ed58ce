/*-------------------------------------------------------------------------
 *
 * il_scrub.c
 *	  The PII scrubber; see il_scrub.h.
 *
 * A rule is a function that looks at one position and either describes a
 * match (what to keep, what to write, where it ends) or declines. The scan
 * copies unmatched text in runs. Each rule first checks that the position
 * starts its character class (the byte before is outside it, or a match
 * just ended there); since those runs do not overlap, and a rule scans no
 * further than its class (plus a bounded tail), every rule reads each byte
 * a bounded number of times, whatever the text. Long numbers that fail
 * remember where they stopped, so the groups after their separators are
 * not tried again.
 *
 *-------------------------------------------------------------------------
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "il_scrub.h"
#include "il_text.h"

/* One match: keep in[at..keep), write repl then suffix, go on at end. */
typedef struct match
{
	size_t		keep;
	const char *repl;
	const char *suffix;
	size_t		end;
} match;

typedef struct scanner
{
	const unsigned char *s;
	size_t		len;
	unsigned	flags;
	size_t		fresh;			/* a match ended here: a boundary */
	size_t		num_skip;		/* no long number starts before this */
} scanner;

static inline bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static inline bool
is_alpha(unsigned char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static inline bool
is_alnum(unsigned char c)
{
	return is_digit(c) || is_alpha(c);
}

static inline bool
is_word(unsigned char c)
{
	return is_alnum(c) || c == '_';
}

static inline bool
is_hex(unsigned char c)
{
	return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* [A-Za-z0-9_-]: secret names, base64url */
static inline bool
is_b64url(unsigned char c)
{
	return is_word(c) || c == '-';
}

/* [A-Za-z0-9._%+-]: an email's local part */
static inline bool
is_local(unsigned char c)
{
	return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

/* [A-Za-z0-9+/=_-]: key material */
static inline bool
is_key(unsigned char c)
{
	return is_b64url(c) || c == '+' || c == '/' || c == '=';
}

/* [A-Za-z0-9._~+/=-]: a bearer token */
static inline bool
is_bearer(unsigned char c)
{
	return is_key(c) || c == '.' || c == '~';
}

static inline bool
is_blank(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* A class predicate. */
typedef bool (*char_class) (unsigned char c);

/*
 * Does position p start a run of class cls: in it, and the byte before is
 * not (or a match ended at p)?
 */
static inline bool
starts(const scanner *sc, size_t p, char_class cls)
{
	if (!cls(sc->s[p]))
		return false;
	return p == 0 || p == sc->fresh || !cls(sc->s[p - 1]);
}

/*
 * Is the byte before p outside class cls (or the start, or a match's end)?
 */
static inline bool
after_boundary(const scanner *sc, size_t p, char_class cls)
{
	return p == 0 || p == sc->fresh || !cls(sc->s[p - 1]);
}

/*
 * Does the text go on at q in a way that spoils a match ending there: a
 * byte of class cls, or '[' (which starts every replacement, so that a
 * match refused before a later replacement is refused again when the
 * scrubbed text is scrubbed)?
 */
static inline bool
goes_on(const scanner *sc, size_t q, char_class cls)
{
	return q < sc->len && (cls(sc->s[q]) || sc->s[q] == '[');
}

/* The end of the run of class cls from p. */
static inline size_t
run_end(const scanner *sc, size_t p, char_class cls)
{
	while (p < sc->len && cls(sc->s[p]))
		p++;
	return p;
}

/*
 * Does s[p..p+n) spell the lower-case word w in any case?
 */
static bool
spells(const scanner *sc, size_t p, const char *w, size_t n)
{
	size_t		i;

	if (n > sc->len - p)
		return false;
	for (i = 0; i < n; i++)
	{
		unsigned char c = sc->s[p + i];

		if ((c >= 'A' && c <= 'Z' ? (unsigned char) (c | 0x20) : c) != (unsigned char) w[i])
			return false;
	}
	return true;
}

/*
 * Fills m for a plain replacement of s[p..end).
 */
static bool
replace(match *m, size_t p, const char *repl, size_t end)
{
	m->keep = p;
	m->repl = repl;
	m->suffix = "";
	m->end = end;
	return true;
}

/*
 * Rule 1: a SQL literal.
 */
static bool
sql_literal(const scanner *sc, size_t p, match *m)
{
	size_t		q = p + 1;

	if (!(sc->flags & IL_SCRUB_SQL) || sc->s[p] != '\'')
		return false;
	while (q < sc->len)
	{
		if (sc->s[q] == '\'')
		{
			if (q + 1 < sc->len && sc->s[q + 1] == '\'')
			{
				q += 2;
				continue;
			}
			q++;
			return replace(m, p, "'?'", q);
		}
		q++;
	}
	return replace(m, p, "'?'", sc->len);
}

/*
 * Rule 2: a secret's value after its name.
 */
static bool
secret(const scanner *sc, size_t p, match *m)
{
	static const struct
	{
		const char *w;
		size_t		n;
	}			keys[] = {
		{"password", 8}, {"secret", 6}, {"token", 5}, {"api_key", 7}, {"apikey", 6},
		{"access_key", 10}
	};
	const unsigned char *s = sc->s;
	size_t		q;
	size_t		r;
	size_t		k;
	bool		named = false;

	if (!starts(sc, p, is_b64url))
		return false;
	q = run_end(sc, p, is_b64url);
	for (k = 0; k < sizeof(keys) / sizeof(keys[0]) && !named; k++)
		named = q - p >= keys[k].n && spells(sc, q - keys[k].n, keys[k].w, keys[k].n);
	if (!named)
		return false;
	r = q;
	if (r < sc->len && s[r] == '"')
		r++;
	while (r < sc->len && is_blank(s[r]))
		r++;
	if (r >= sc->len || (s[r] != '=' && s[r] != ':'))
		return false;
	r++;
	while (r < sc->len && is_blank(s[r]))
		r++;
	if (r >= sc->len)
		return false;
	if (s[r] == '\'' && (sc->flags & IL_SCRUB_SQL))
	{
		match		lit;

		sql_literal(sc, r, &lit);
		m->keep = r;
		m->repl = "'?'";
		m->suffix = "";
		m->end = lit.end;
		return true;
	}
	if (s[r] == '"' || s[r] == '\'')
	{
		unsigned char quote = s[r];
		size_t		v = r + 1;

		while (v < sc->len && s[v] != quote)
			v += (s[v] == '\\' && v + 1 < sc->len) ? 2 : 1;
		if (v == r + 1)
			return false;		/* empty: nothing to hide */
		m->keep = r + 1;
		m->repl = "[SECRET]";
		m->suffix = quote == '"' ? "\"" : "'";
		m->end = v < sc->len ? v + 1 : sc->len;
		return true;
	}
	q = r;
	while (q < sc->len && s[q] > ' ' && s[q] != 0x7f)
		q++;
	if (q == r)
		return false;
	m->keep = r;
	m->repl = "[SECRET]";
	m->suffix = "";
	m->end = q;
	return true;
}

/*
 * Rule 3: a bearer token.
 */
static bool
bearer(const scanner *sc, size_t p, match *m)
{
	size_t		q = p + 6;
	size_t		t;

	if ((sc->s[p] | 0x20) != 'b' || !after_boundary(sc, p, is_word) || !spells(sc, p, "bearer", 6))
		return false;
	if (q >= sc->len || !is_blank(sc->s[q]))
		return false;
	while (q < sc->len && is_blank(sc->s[q]))
		q++;
	t = run_end(sc, q, is_bearer);
	if (t == q)
		return false;
	m->keep = q;
	m->repl = "[TOKEN]";
	m->suffix = "";
	m->end = t;
	return true;
}

/*
 * Is c in [A-Za-z0-9_.-] (the boundary of a JWT)?
 */
static bool
is_jwt_edge(unsigned char c)
{
	return is_b64url(c) || c == '.';
}

/*
 * Rule 4: a JSON web token.
 */
static bool
jwt(const scanner *sc, size_t p, match *m)
{
	size_t		q;

	if (sc->s[p] != 'e' || !after_boundary(sc, p, is_jwt_edge) || p + 3 > sc->len ||
		sc->s[p + 1] != 'y' || sc->s[p + 2] != 'J')
		return false;
	q = run_end(sc, p, is_b64url);
	if (q - p < 10 || q >= sc->len || sc->s[q] != '.')
		return false;
	/* the second part: at least one character */
	if (q + 1 >= sc->len || !is_b64url(sc->s[q + 1]))
		return false;
	q = run_end(sc, q + 1, is_b64url);
	if (q >= sc->len || sc->s[q] != '.')
		return false;
	/* the third part may be empty; more parts may follow */
	q = run_end(sc, q + 1, is_b64url);
	while (q + 1 < sc->len && sc->s[q] == '.' && is_b64url(sc->s[q + 1]))
		q = run_end(sc, q + 1, is_b64url);
	return replace(m, p, "[TOKEN]", q);
}

/*
 * Rule 5: a Databricks personal access token.
 */
static bool
dapi(const scanner *sc, size_t p, match *m)
{
	size_t		q = p + 4;
	size_t		i;

	if ((sc->s[p] | 0x20) != 'd' || !after_boundary(sc, p, is_word) || !spells(sc, p, "dapi", 4))
		return false;
	if (sc->len - q < 32)
		return false;
	for (i = 0; i < 32; i++)
		if (!is_hex(sc->s[q + i]))
			return false;
	q += 32;
	if (q + 1 < sc->len && sc->s[q] == '-' && is_digit(sc->s[q + 1]))
	{
		size_t		d = q + 1;

		while (d < sc->len && d < q + 4 && is_digit(sc->s[d]))
			d++;
		q = d;
	}
	if (goes_on(sc, q, is_word))
		return false;
	return replace(m, p, "[TOKEN]", q);
}

/*
 * Is c in [A-Za-z0-9-] (a domain label)?
 */
static bool
is_label(unsigned char c)
{
	return is_alnum(c) || c == '-';
}

/*
 * Rule 6: an email address.
 */
static bool
email(const scanner *sc, size_t p, match *m)
{
	size_t		q;
	size_t		last;
	size_t		labels = 0;
	size_t		i;

	if (!starts(sc, p, is_local))
		return false;
	q = run_end(sc, p, is_local);
	if (q >= sc->len || sc->s[q] != '@')
		return false;
	q++;
	last = q;
	for (;;)
	{
		size_t		e = run_end(sc, q, is_label);

		if (e == q)
			break;
		labels++;
		last = q;
		q = e;
		if (q + 1 < sc->len && sc->s[q] == '.' && is_label(sc->s[q + 1]))
		{
			q++;
			continue;
		}
		break;
	}
	if (labels < 2 || q - last < 2)
		return false;
	/* ".[": another label that a replacement took */
	if (q < sc->len && sc->s[q] == '.' && goes_on(sc, q + 1, is_label))
		return false;
	for (i = last; i < q; i++)
		if (!is_alpha(sc->s[i]))
			return false;
	return replace(m, p, "[EMAIL]", q);
}

/*
 * Parses an IPv4 address at p (no boundary checks): its end, or 0. Sets
 * *cut (when given) if it fails on a '[' where a number after a '.'
 * should begin.
 */
static size_t
ipv4_at(const scanner *sc, size_t p, bool *cut)
{
	size_t		q = p;
	int			octet;

	for (octet = 0; octet < 4; octet++)
	{
		size_t		d = q;
		int			v = 0;

		if (octet > 0)
		{
			if (q >= sc->len || sc->s[q] != '.')
				return 0;
			d = ++q;
			if (cut && q < sc->len && sc->s[q] == '[')
				*cut = true;
		}
		while (q < sc->len && q < d + 3 && is_digit(sc->s[q]))
			v = v * 10 + (sc->s[q++] - '0');
		if (q == d || v > 255 || (q < sc->len && is_digit(sc->s[q])))
			return 0;
	}
	return q;
}

/*
 * Is c in [A-Za-z0-9_:.] (before an IPv6 address)?
 */
static bool
is_ip6_edge(unsigned char c)
{
	return is_word(c) || c == ':' || c == '.';
}

/*
 * Rule 7: an IPv6 address. A group that is not one (too long, or run into
 * a letter) ends the address before the separator that led to it. A '['
 * where a group or the IPv4 tail's next number should begin is where a
 * replacement cut the text: whatever stood there, the address is refused,
 * as it may have been before the cut (too many groups, a tail run into a
 * letter); that keeps scrubbing scrubbed text a no-op.
 */
static bool
ipv6(const scanner *sc, size_t p, match *m)
{
	const unsigned char *s = sc->s;
	size_t		q = p;
	size_t		back = SIZE_MAX;	/* where the separator before this group began */
	bool		back_double = false;
	int			groups = 0;
	int			colons = 0;
	bool		compressed = false;
	bool		digit = false;

	if (!(is_hex(s[p]) || s[p] == ':') || !after_boundary(sc, p, is_ip6_edge))
		return false;
	if (s[q] == ':')
	{
		if (q + 1 >= sc->len || s[q + 1] != ':')
			return false;
		compressed = true;
		colons = 2;
		q += 2;
	}
	while (q < sc->len && is_hex(s[q]))
	{
		size_t		h = q;
		size_t		v4 = 0;
		bool		cut = false;

		while (h < sc->len && is_hex(s[h]) && h - q < 5)
			h++;
		/* an IPv4 address as the last two groups */
		if (h - q <= 3 && h < sc->len && s[h] == '.' && (groups > 0 || compressed) &&
			(v4 = ipv4_at(sc, q, &cut)) == 0 && cut)
			return false;
		if (v4 != 0)
		{
			groups += 2;
			digit = true;
			q = v4;
			break;
		}
		if (h - q > 4 || goes_on(sc, h, is_word))
		{
			if (back == SIZE_MAX)
				return false;
			q = back;
			colons -= back_double ? 2 : 1;
			if (back_double)
				compressed = false;
			break;
		}
		groups++;
		for (; q < h; q++)
			digit |= is_digit(s[q]);
		if (q + 1 < sc->len && s[q] == ':' && s[q + 1] == ':')
		{
			if (compressed)
				return false;
			back = q;
			back_double = true;
			compressed = true;
			colons += 2;
			q += 2;
			continue;
		}
		if (q + 1 < sc->len && s[q] == ':' && s[q + 1] == '[')
			return false;
		if (q + 1 < sc->len && s[q] == ':' && is_hex(s[q + 1]))
		{
			back = q;
			back_double = false;
			colons++;
			q++;
			continue;
		}
		break;
	}
	if (colons < 2 || groups == 0 || (compressed ? groups > 7 : groups != 8))
		return false;
	if (!digit && groups < 3)
		return false;
	if (goes_on(sc, q, is_word))
		return false;
	return replace(m, p, "[IP]", q);
}

/*
 * Is c in [A-Za-z0-9_.] (before an IPv4 address)?
 */
static bool
is_ip4_edge(unsigned char c)
{
	return is_word(c) || c == '.';
}

/*
 * Rule 8: an IPv4 address.
 */
static bool
ipv4(const scanner *sc, size_t p, match *m)
{
	size_t		q;

	if (!is_digit(sc->s[p]) || !after_boundary(sc, p, is_ip4_edge))
		return false;
	q = ipv4_at(sc, p, NULL);
	if (q == 0 || goes_on(sc, q, is_word))
		return false;
	if (q < sc->len && sc->s[q] == '.' && goes_on(sc, q + 1, is_digit))
		return false;
	return replace(m, p, "[IP]", q);
}

/*
 * Rule 9: a date, copied: its end, or 0.
 */
static size_t
date(const scanner *sc, size_t p)
{
	const unsigned char *s = sc->s + p;
	static const char shape[] = "dddd-dd-dd";
	size_t		i;

	if (sc->len - p < 10 || !after_boundary(sc, p, is_word))
		return 0;
	for (i = 0; i < 10; i++)
		if (shape[i] == 'd' ? !is_digit(s[i]) : s[i] != '-')
			return 0;
	if (p + 10 < sc->len && is_digit(s[10]))
		return 0;
	return p + 10;
}

/*
 * Rule 10: a long number. Sets *stop to where a failed number ended.
 */
static bool
number(const scanner *sc, size_t p, match *m, size_t *stop)
{
	const unsigned char *s = sc->s;
	size_t		q = p;
	size_t		digits = 0;
	size_t		last_sep = 0;
	size_t		digits_before_sep = 0;

	*stop = 0;
	if (p < sc->num_skip || !after_boundary(sc, p, is_word))
		return false;
	/* the digits of a fraction (3.14159265358) are no number of their own */
	if (p >= 2 && p != sc->fresh && p - 1 != sc->fresh && s[p - 1] == '.' && is_digit(s[p - 2]))
		return false;
	if (s[p] == '(')
	{
		if (sc->len - p < 6 || !is_digit(s[p + 1]) || !is_digit(s[p + 2]) || !is_digit(s[p + 3]) ||
			s[p + 4] != ')')
			return false;
		digits = 3;
		q = p + 5;
		if (q + 1 < sc->len && s[q] == ' ' && is_digit(s[q + 1]))
			q++;
		if (q >= sc->len || !is_digit(s[q]))
			return false;
	}
	else if (!is_digit(s[p]))
		return false;
	for (;;)
	{
		while (q < sc->len && is_digit(s[q]))
		{
			digits++;
			q++;
		}
		if (q + 1 < sc->len && (s[q] == ' ' || s[q] == '-') && is_digit(s[q + 1]))
		{
			last_sep = q;
			digits_before_sep = digits;
			q++;
			continue;
		}
		break;
	}
	if (digits >= 9 && !goes_on(sc, q, is_word))
		return replace(m, p, "[NUMBER]", q);
	if (digits >= 9 && last_sep > p && digits_before_sep >= 9)
		return replace(m, p, "[NUMBER]", last_sep);
	*stop = q;
	return false;
}

/*
 * Rule 11: key material.
 */
static bool
key(const scanner *sc, size_t p, match *m)
{
	size_t		q;
	size_t		i;
	bool		letter = false;
	bool		digit = false;

	if (!starts(sc, p, is_key))
		return false;
	q = run_end(sc, p, is_key);
	if (q - p < 32)
		return false;
	for (i = p; i < q && !(letter && digit); i++)
	{
		letter |= is_alpha(sc->s[i]);
		digit |= is_digit(sc->s[i]);
	}
	if (!(letter && digit))
		return false;
	return replace(m, p, "[KEY]", q);
}

/*
 * The length of the valid UTF-8 character at p, or 0.
 */
static size_t
utf8_char(const scanner *sc, size_t p)
{
	return (size_t) il_utf8_char_len(sc->s + p, sc->s + sc->len);
}

/*
 * Appends s[0..n) to out, but never more than what makes the output (from
 * start) cap bytes long.
 */
static void
put_capped(il_buf *out, size_t start, size_t cap, const void *s, size_t n)
{
	size_t		have = out->len - start;

	if (have >= cap)
		return;
	il_buf_append(out, s, n < cap - have ? n : cap - have);
}

/*
 * Scrubs in[0..len) onto out, stopping once the output (from where it
 * starts) is cap bytes long: those bytes are what a full scrub writes
 * first, since the scan never goes back (a position once passed is copied
 * or replaced for good).
 */
static void
scrub_capped(const char *in, size_t len, unsigned flags, size_t cap, il_buf *out)
{
	scanner		sc;
	size_t		p = 0;
	size_t		copy = 0;		/* unmatched text from here is pending */
	size_t		start = out->len;

	sc.s = (const unsigned char *) (in ? in : "");
	sc.len = in ? len : 0;
	sc.flags = flags;
	sc.fresh = 0;
	sc.num_skip = 0;
	while (p < sc.len)
	{
		unsigned char c = sc.s[p];
		match		m;
		size_t		stop = 0;
		size_t		d;
		bool		hit;

		if (out->len - start + (p - copy) >= cap)
			break;				/* what follows would be cut */
		if (c >= 0x80)
		{
			size_t		n = utf8_char(&sc, p);

			if (n == 0)
			{
				put_capped(out, start, cap, sc.s + copy, p - copy);
				put_capped(out, start, cap, "\xef\xbf\xbd", 3);
				copy = ++p;
			}
			else
				p += n;
			continue;
		}
		if (!is_alnum(c) && c != '\'' && c != '(' && c != ':' && !is_key(c) && !is_local(c))
		{
			p++;
			continue;
		}
		hit = sql_literal(&sc, p, &m) || secret(&sc, p, &m) || bearer(&sc, p, &m) ||
			jwt(&sc, p, &m) || dapi(&sc, p, &m) || email(&sc, p, &m) ||
			ipv6(&sc, p, &m) || ipv4(&sc, p, &m);
		if (!hit && (d = date(&sc, p)) != 0)
		{
			p = d;
			continue;
		}
		if (!hit)
		{
			hit = number(&sc, p, &m, &stop);
			if (stop > sc.num_skip)
				sc.num_skip = stop;
		}
		if (!hit)
			hit = key(&sc, p, &m);
		if (!hit)
		{
			p++;
			continue;
		}
		put_capped(out, start, cap, sc.s + copy, m.keep - copy);
		put_capped(out, start, cap, m.repl, strlen(m.repl));
		put_capped(out, start, cap, m.suffix, strlen(m.suffix));
		p = copy = sc.fresh = m.end;
	}
	put_capped(out, start, cap, sc.s + copy, p - copy);
}

/*
 * Scrubs; see il_scrub.h.
 */
void
il_scrub(const char *in, size_t len, unsigned flags, il_buf *out)
{
	scrub_capped(in, len, flags, SIZE_MAX, out);
}

/*
 * Scrubs, then cuts to max bytes; see il_scrub.h.
 */
void
il_scrub_max(const char *in, size_t len, unsigned flags, size_t max, il_buf *out)
{
	size_t		marker = strlen(IL_SCRUB_TRUNCATED);
	size_t		start = out->len;
	size_t		cut;

	if (max < marker)
		max = marker;
	/* one byte more than max tells that the text is cut */
	scrub_capped(in, len, flags, max < SIZE_MAX ? max + 1 : SIZE_MAX, out);
	if (out->oom || out->len - start <= max)
		return;
	cut = start + max - marker;
	/* back to the start of a character */
	cut = il_utf8_boundary(out->data, cut);
	if (cut < start)
		cut = start;
	out->len = cut;
	il_buf_append(out, IL_SCRUB_TRUNCATED, marker);
}
