/*-------------------------------------------------------------------------
 *
 * il_dbx_host.c
 *	  The workspace URL, host patterns and CA file names of Databricks
 *	  environments (il_dbx_host.h).
 *
 * Strict on purpose: the URL is where a tenant's credential is sent, so
 * only one plain form is taken (no user info, no path, no IPv6 or numeric
 * host spellings other than a canonical dotted quad, no trailing dot, no
 * non-ASCII), and a host is allowed only by an exact or "*." pattern of
 * the superuser's list.
 *
 *-------------------------------------------------------------------------
 */
#include "il_dbx_host.h"

#include <string.h>

#define HOST_MAX 253

static char
lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char) (c - 'A' + 'a') : c;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alpha(char c)
{
	c = lower(c);
	return c >= 'a' && c <= 'z';
}

/* A canonical dotted quad: four numbers 0-255 without leading zeros. */
static bool
is_ipv4(const char *s, size_t len)
{
	int			parts = 0;
	size_t		i = 0;

	while (i <= len)
	{
		size_t		start = i;
		int			v = 0;

		while (i < len && is_digit(s[i]))
		{
			v = v * 10 + (s[i] - '0');
			if (v > 255)
				return false;
			i++;
		}
		if (i == start || i - start > 3 || (s[start] == '0' && i - start > 1))
			return false;
		parts++;
		if (i == len)
			break;
		if (s[i] != '.' || parts == 4)
			return false;
		i++;
	}
	return parts == 4;
}

/*
 * A host (case ignored): a DNS name whose last label starts with a letter,
 * or a canonical IPv4 address. *ip tells which.
 */
static const char *
host_check(const char *s, size_t len, bool *ip)
{
	size_t		i;
	size_t		label = 0;
	size_t		last_start = 0;

	*ip = false;
	if (len == 0)
		return "the host is empty";
	if (len > HOST_MAX)
		return "the host is longer than 253 characters";
	for (i = 0; i < len; i++)
	{
		char		c = s[i];

		if (c == '.')
		{
			if (label == 0)
				return "the host has an empty label (two dots, or a dot at either end)";
			if (s[i - 1] == '-')
				return "a label of the host ends with \"-\"";
			label = 0;
			last_start = i + 1;
			continue;
		}
		if (!(is_alpha(c) || is_digit(c) || c == '-'))
			return "the host may hold only ASCII letters, digits, \"-\" and \".\"";
		if (c == '-' && label == 0)
			return "a label of the host starts with \"-\"";
		if (++label > 63)
			return "a label of the host is longer than 63 characters";
	}
	if (label == 0)
		return "the host has an empty label (two dots, or a dot at either end)";
	if (s[len - 1] == '-')
		return "a label of the host ends with \"-\"";
	if (is_alpha(s[last_start]))
		return NULL;
	if (is_ipv4(s, len))
	{
		*ip = true;
		return NULL;
	}
	return "the host is neither a DNS name (its last label starts with a letter) nor a dotted-quad IPv4 address";
}

/* ":port" digits: 1-65535, no leading zero. */
static const char *
port_check(const char *s, size_t len, int *port)
{
	size_t		i;
	long		v = 0;

	if (len == 0 || len > 5 || s[0] == '0')
		return "the port is not a number from 1 to 65535";
	for (i = 0; i < len; i++)
	{
		if (!is_digit(s[i]))
			return "the port is not a number from 1 to 65535";
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return "the port is not a number from 1 to 65535";
	*port = (int) v;
	return NULL;
}

/* host[:port] into host (lower case) and *port (0 when absent). */
static const char *
authority_split(const char *s, size_t len, char *host, size_t host_size, int *port, bool *ip)
{
	const char *colon = memchr(s, ':', len);
	size_t		hlen = colon ? (size_t) (colon - s) : len;
	const char *why;
	size_t		i;

	*port = 0;
	if ((why = host_check(s, hlen, ip)) != NULL)
		return why;
	if (colon && (why = port_check(colon + 1, len - hlen - 1, port)) != NULL)
		return why;
	if (host_size < hlen + 1)
		return "the host is too long";
	for (i = 0; i < hlen; i++)
		host[i] = lower(s[i]);
	host[hlen] = '\0';
	return NULL;
}

const char *
il_dbx_authority_check(const char *authority, size_t len, char *host, size_t host_size, int *port)
{
	bool		ip;
	int			p;
	const char *why;

	if (memchr(authority, '\0', len) != NULL)
		return "the host holds a NUL byte";
	why = authority_split(authority, len, host, host_size, &p, &ip);
	if (why)
		return why;
	if (port)
		*port = p ? p : 443;
	return NULL;
}

const char *
il_dbx_url_check(const char *url, size_t len, il_buf *origin, char *host, size_t host_size, int *port)
{
	static const char scheme[] = "https://";
	char		h[HOST_MAX + 1];
	size_t		i;
	size_t		end;
	int			p;
	bool		ip;
	const char *why;

	if (len > IL_DBX_URL_MAX)
		return "the URL is longer than 300 characters";
	if (memchr(url, '\0', len) != NULL)
		return "the URL holds a NUL byte";
	if (len < sizeof(scheme) - 1)
		return "the URL does not start with https://";
	for (i = 0; i < sizeof(scheme) - 1; i++)
		if (lower(url[i]) != scheme[i])
			return "the URL does not start with https://";
	url += sizeof(scheme) - 1;
	len -= sizeof(scheme) - 1;
	/* the authority ends at the first "/", "?", "#" or the end */
	for (end = 0; end < len && url[end] != '/' && url[end] != '?' && url[end] != '#'; end++)
	{
		if (url[end] == '@')
			return "the URL holds user information (\"@\"): give only https:// and the host";
		if (url[end] == '[' || url[end] == ']')
			return "the URL names an IPv6 address: give a host name";
		if (url[end] == '%' || url[end] == '\\')
			return "the URL holds an escape (\"%\" or \"\\\"): give the host as it is";
	}
	if (end < len)
	{
		if (url[end] != '/')
			return "the URL holds a query or fragment: give only https:// and the host";
		if (end + 1 != len)
			return "the URL holds a path: give only https:// and the host";
	}
	why = authority_split(url, end, h, sizeof(h), &p, &ip);
	if (why)
		return why;
	if (origin)
	{
		il_buf_reset(origin);
		il_buf_puts(origin, "https://");
		il_buf_puts(origin, h);
		if (p != 0 && p != 443)
			il_buf_printf(origin, ":%d", p);
	}
	if (host)
	{
		if (host_size < strlen(h) + 1)
			return "the host is too long";
		memcpy(host, h, strlen(h) + 1);
	}
	if (port)
		*port = p ? p : 443;
	return NULL;
}

/* One pattern item (trimmed): its host part, whether "*.", and its port (0: any). */
static const char *
pattern_parse(const char *s, size_t len, char *host, bool *wild, int *port)
{
	bool		ip;
	const char *why;

	*wild = false;
	if (memchr(s, '/', len) != NULL)
		return "an item holds \"/\": give host names, not URLs";
	if (len >= 2 && s[0] == '*' && s[1] == '.')
	{
		*wild = true;
		s += 2;
		len -= 2;
	}
	why = authority_split(s, len, host, HOST_MAX + 1, port, &ip);
	if (why)
		return why;
	if (*wild && ip)
		return "a \"*.\" pattern names an IPv4 address";
	return NULL;
}

static bool
blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Walk the items of a list: for each, fn(item host, wild, port, arg);
 * stops at the first item fn says true for. Returns the reason the list is
 * bad, else NULL; *hit when fn said true.
 */
typedef bool (*pattern_fn) (const char *host, bool wild, int port, const void *arg);

static const char *
patterns_walk(const char *patterns, pattern_fn fn, const void *arg, bool *hit)
{
	const char *p = patterns;

	*hit = false;
	if (patterns == NULL)
		return NULL;
	if (strlen(patterns) > IL_DBX_HOSTS_MAX)
		return "it is longer than 4096 characters";
	for (;;)
	{
		const char *start;
		const char *end;
		char		host[HOST_MAX + 1];
		bool		wild;
		int			port;
		const char *why;

		while (blank(*p))
			p++;
		start = p;
		while (*p != '\0' && *p != ',')
			p++;
		end = p;
		while (end > start && blank(end[-1]))
			end--;
		if (end == start)
		{
			/* an empty list is fine; an empty item between commas is not */
			if (*p == ',' || start != patterns + strspn(patterns, " \t"))
				return "an item is empty";
		}
		else
		{
			why = pattern_parse(start, (size_t) (end - start), host, &wild, &port);
			if (why)
				return why;
			if (fn && !*hit && fn(host, wild, port, arg))
				*hit = true;
		}
		if (*p == '\0')
			break;
		p++;
	}
	return NULL;
}

const char *
il_dbx_patterns_check(const char *patterns)
{
	bool		hit;

	return patterns_walk(patterns, NULL, NULL, &hit);
}

typedef struct match_arg
{
	const char *host;
	int			port;
	bool		ip;
} match_arg;

static bool
match_one(const char *pat, bool wild, int port, const void *arg)
{
	const match_arg *m = arg;
	size_t		hl = strlen(m->host);
	size_t		pl = strlen(pat);

	if (port != 0 && port != m->port)
		return false;
	if (!wild)
		return strcmp(pat, m->host) == 0;
	/* "*.domain": at least one label, then ".domain"; never an address */
	return !m->ip && hl > pl + 1 && m->host[hl - pl - 1] == '.'
		&& strcmp(m->host + hl - pl, pat) == 0;
}

bool
il_dbx_host_match(const char *patterns, const char *host, int port)
{
	match_arg	m;
	char		h[HOST_MAX + 1];
	int			p;
	bool		hit;

	if (host == NULL || authority_split(host, strlen(host), h, sizeof(h), &p, &m.ip) != NULL
		|| p != 0)
		return false;
	m.host = h;
	m.port = port;
	if (patterns_walk(patterns, match_one, &m, &hit) != NULL)
		return false;
	return hit;
}

const char *
il_dbx_ca_name_check(const char *name, size_t len)
{
	size_t		i;

	if (len == 0)
		return "the file name is empty";
	if (len > IL_DBX_CA_NAME_MAX)
		return "the file name is longer than 255 characters";
	if (name[0] == '.')
		return "the file name starts with \".\"";
	for (i = 0; i < len; i++)
	{
		char		c = name[i];

		if (!(is_alpha(c) || is_digit(c) || c == '.' || c == '_' || c == '-'))
			return "the file name may hold only ASCII letters, digits, \".\", \"_\" and \"-\" (no \"/\")";
	}
	return NULL;
}
