/*-------------------------------------------------------------------------
 *
 * il_guard.c
 *	  The SQL guard; see il_guard.h.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "il_guard.h"
#include "il_jsonw.h"
#include "il_refs.h"

#define SEVERITY_CRITICAL "critical"

static const char msg_drop[] =
"drop is not allowed in model sql: a model only reads its upstreams and builds its own table; remove the drop";
static const char msg_truncate[] =
"truncate is not allowed in model sql: a full refresh already replaces the table's rows; remove the truncate";
static const char msg_delete[] =
"delete is not allowed in model sql: filter the rows in the query, or use a merge model (kind MERGE_BY_KEY)";
static const char msg_alter[] =
"alter is not allowed in model sql: change table definitions outside the model";
static const char msg_grant[] =
"grant is not allowed in model sql: manage privileges outside the model";
static const char msg_revoke[] =
"revoke is not allowed in model sql: manage privileges outside the model";
static const char msg_create_user[] =
"create user is not allowed in model sql: manage principals outside the model";
static const char msg_create_role[] =
"create role is not allowed in model sql: manage principals outside the model";
static const char msg_execute[] =
"execute immediate (dynamic sql) is not allowed in model sql: write the statement itself";
static const char msg_multiple[] =
"a model must be exactly one statement: remove this statement and the ';' before it";
_Static_assert(IL_GUARD_MAX_VIOLATIONS == 100, "msg_too_many names the limit");
static const char msg_too_many[] =
"more than 100 violations: only the first 100 are listed; fix them and judge the text again";
static const char msg_none[] =
"a model must be exactly one statement and this text has none: write a select (or insert, merge) statement";

/*
 * Frees a guard result and leaves it empty.
 */
void
il_guard_free(il_guard_result *result)
{
	il_free(result->v);
	result->v = NULL;
	result->n = 0;
	result->cap = 0;
	result->ok = true;
}

/*
 * A violation found, before its position is known: the byte offset of its
 * token. Found in token order but for a statement's own kind, so they are
 * kept in a small array, cut to the first IL_GUARD_MAX_VIOLATIONS + 1
 * whenever it fills: the memory does not grow with the text.
 */
typedef struct found
{
	uint32_t	off;
	const char *rule;
	const char *message;
} found;

#define FOUND_CAP (2 * (IL_GUARD_MAX_VIOLATIONS + 1))

typedef struct collector
{
	found		f[FOUND_CAP];
	size_t		n;
} collector;

/*
 * Orders found violations by offset and rule (qsort callback): the order of
 * line, column and rule.
 */
static int
found_cmp(const void *a, const void *b)
{
	const found *x = a;
	const found *y = b;

	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return strcmp(x->rule, y->rule);
}

/*
 * Sorts the found violations and keeps the first IL_GUARD_MAX_VIOLATIONS + 1
 * (one more than are listed, to know that there are more).
 */
static void
cut_found(collector *c)
{
	if (c->n > 1)
		qsort(c->f, c->n, sizeof(found), found_cmp);
	if (c->n > IL_GUARD_MAX_VIOLATIONS + 1)
		c->n = IL_GUARD_MAX_VIOLATIONS + 1;
}

/*
 * Notes a violation at the token starting at byte off.
 */
static void
add_violation(collector *c, const char *rule, const char *message, uint32_t off)
{
	if (c->n == FOUND_CAP)
		cut_found(c);
	c->f[c->n].off = off;
	c->f[c->n].rule = rule;
	c->f[c->n].message = message;
	c->n++;
}

/*
 * Is k an object that DROP or ALTER acts on?
 */
static bool
is_object(il_keyword k, bool drop)
{
	switch (k)
	{
		case IL_KW_TABLE:
		case IL_KW_VIEW:
		case IL_KW_SCHEMA:
		case IL_KW_DATABASE:
		case IL_KW_NAMESPACE:
		case IL_KW_CATALOG:
		case IL_KW_FUNCTION:
		case IL_KW_TEMPORARY:
		case IL_KW_TEMP:
		case IL_KW_MATERIALIZED:
		case IL_KW_STREAMING:
		case IL_KW_LIVE:
		case IL_KW_EXTERNAL:
		case IL_KW_USER:
		case IL_KW_ROLE:
		case IL_KW_INDEX:
		case IL_KW_SHARE:
		case IL_KW_RECIPIENT:
		case IL_KW_PROVIDER:
		case IL_KW_CONNECTION:
		case IL_KW_CREDENTIAL:
		case IL_KW_LOCATION:
		case IL_KW_VOLUME:
		case IL_KW_VARIABLE:
		case IL_KW_GLOBAL:
			return true;
		case IL_KW_IF:
		case IL_KW_COLUMN:
		case IL_KW_COLUMNS:
		case IL_KW_PARTITION:
		case IL_KW_CONSTRAINT:
		case IL_KW_PRIMARY:
		case IL_KW_FOREIGN:
			return drop;
		default:
			return false;
	}
}

/*
 * Is k a privilege that GRANT or REVOKE names?
 */
static bool
is_privilege(il_keyword k)
{
	switch (k)
	{
		case IL_KW_SELECT:
		case IL_KW_ALL:
		case IL_KW_MODIFY:
		case IL_KW_USAGE:
		case IL_KW_CREATE:
		case IL_KW_READ:
		case IL_KW_WRITE:
		case IL_KW_EXECUTE:
		case IL_KW_APPLY:
		case IL_KW_USE:
		case IL_KW_INSERT:
		case IL_KW_UPDATE:
		case IL_KW_DELETE:
		case IL_KW_OWNERSHIP:
		case IL_KW_REFRESH:
		case IL_KW_MANAGE:
		case IL_KW_BROWSE:
		case IL_KW_ALTER:
		case IL_KW_DROP:
		case IL_KW_ROLE:
		case IL_KW_PRIVILEGES:
			return true;
		default:
			return false;
	}
}

/*
 * The rule and message for a statement kind that is not allowed.
 */
static const char *
kind_rule(il_stmt_kind kind, const char **message)
{
	switch (kind)
	{
		case IL_STMT_DROP:
			*message = msg_drop;
			return il_errcode_name(IL_ERR_DROP);
		case IL_STMT_TRUNCATE:
			*message = msg_truncate;
			return il_errcode_name(IL_ERR_TRUNCATE);
		case IL_STMT_DELETE:
			*message = msg_delete;
			return il_errcode_name(IL_ERR_DELETE);
		case IL_STMT_ALTER:
			*message = msg_alter;
			return il_errcode_name(IL_ERR_ALTER);
		case IL_STMT_GRANT:
			*message = msg_grant;
			return il_errcode_name(IL_ERR_GRANT);
		case IL_STMT_REVOKE:
			*message = msg_revoke;
			return il_errcode_name(IL_ERR_REVOKE);
		case IL_STMT_CREATE_USER:
			*message = msg_create_user;
			return il_errcode_name(IL_ERR_CREATE_USER);
		case IL_STMT_CREATE_ROLE:
			*message = msg_create_role;
			return il_errcode_name(IL_ERR_CREATE_ROLE);
		case IL_STMT_EXECUTE_IMMEDIATE:
			*message = msg_execute;
			return il_errcode_name(IL_ERR_EXECUTE_IMMEDIATE);
		default:
			return NULL;
	}
}

/*
 * Judges the statement starting at token s (number nstmt, 1-based); returns
 * the index of the ';' that ends it (or the end).
 */
static size_t
check_statement(const il_tokens *tk, size_t s, int nstmt, collector *r)
{
	const il_token *t = tk->tok;
	size_t		n = tk->n;
	size_t		kwi;
	il_stmt_kind kind;
	const char *message = NULL;
	const char *stmt_rule;
	size_t		j;

	if (nstmt >= 2)
		add_violation(r, il_errcode_name(IL_ERR_MULTIPLE_STATEMENTS), msg_multiple, t[s].off);
	kind = il_stmt_classify(tk, s, &kwi);
	stmt_rule = kind_rule(kind, &message);
	if (stmt_rule && kwi < n)
		add_violation(r, stmt_rule, message, t[kwi].off);

	/* Tokens after a keyword have no keyword when they are ';' or absent. */
	for (j = s; j < n && t[j].type != IL_TOK_SEMI; j++)
	{
		il_keyword	k;
		il_keyword	k2;
		const char *rule = NULL;

		if (!(t[j].flags & IL_TOKF_GUARD) || (stmt_rule && j == kwi))
			continue;
		k = (il_keyword) t[j].kw;
		k2 = il_tok_keyword(tk, j + 1);
		switch (k)
		{
			case IL_KW_DROP:
				if (is_object(k2, true))
					rule = kind_rule(IL_STMT_DROP, &message);
				break;
			case IL_KW_TRUNCATE:
				if (k2 == IL_KW_TABLE)
					rule = kind_rule(IL_STMT_TRUNCATE, &message);
				break;
			case IL_KW_DELETE:
				if (k2 == IL_KW_FROM)
					rule = kind_rule(IL_STMT_DELETE, &message);
				break;
			case IL_KW_ALTER:
				if (is_object(k2, false))
					rule = kind_rule(IL_STMT_ALTER, &message);
				break;
			case IL_KW_GRANT:
				if (is_privilege(k2))
					rule = kind_rule(IL_STMT_GRANT, &message);
				break;
			case IL_KW_REVOKE:
				if (is_privilege(k2) || k2 == IL_KW_GRANT)
					rule = kind_rule(IL_STMT_REVOKE, &message);
				break;
			case IL_KW_CREATE:
				{
					size_t		m = j + 1;

					if (k2 == IL_KW_OR && il_tok_keyword(tk, m + 1) == IL_KW_REPLACE)
						m += 2;
					if (il_tok_keyword(tk, m) == IL_KW_USER)
						rule = kind_rule(IL_STMT_CREATE_USER, &message);
					else if (il_tok_keyword(tk, m) == IL_KW_ROLE)
						rule = kind_rule(IL_STMT_CREATE_ROLE, &message);
					break;
				}
			case IL_KW_EXECUTE:
			case IL_KW_EXEC:
				if (k2 == IL_KW_IMMEDIATE)
					rule = kind_rule(IL_STMT_EXECUTE_IMMEDIATE, &message);
				break;
			default:
				break;
		}
		if (rule)
			add_violation(r, rule, message, t[j].off);
	}
	return j;
}

/*
 * Judges a token stream.
 */
il_parse_status
il_guard_check_tokens(const char *src, const il_tokens *toks,
					  il_guard_result *result, il_error *err)
{
	collector	c;
	size_t		i = 0;
	int			nstmt = 0;
	size_t		k;
	size_t		at = 0;
	int			line = 1;
	int			column = 1;

	memset(result, 0, sizeof(*result));
	result->ok = true;
	il_error_clear(err);
	if (src == NULL)
		src = "";
	c.n = 0;
	while (i < toks->n)
	{
		if (toks->tok[i].type == IL_TOK_SEMI)
		{
			i++;				/* an empty statement */
			continue;
		}
		i = check_statement(toks, i, ++nstmt, &c);
		/* later statements come after every violation kept: stop */
		if (c.n >= IL_GUARD_MAX_VIOLATIONS + 1)
			break;
	}
	if (nstmt == 0)
		add_violation(&c, il_errcode_name(IL_ERR_NO_STATEMENT), msg_none, 0);
	cut_found(&c);
	if (c.n == 0)
		return IL_PARSE_OK;
	result->cap = c.n;
	result->v = il_malloc(c.n * sizeof(il_violation));
	if (result->v == NULL)
	{
		il_guard_free(result);
		il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory in the sql guard");
		return IL_PARSE_ERR_NOMEM;
	}
	/* positions, in one pass over the text up to the last violation */
	for (k = 0; k < c.n; k++)
	{
		il_violation *v = &result->v[k];
		size_t		off = c.f[k].off;

		if (at == 0 && off >= 3 && (unsigned char) src[0] == 0xef &&
			(unsigned char) src[1] == 0xbb && (unsigned char) src[2] == 0xbf)
			at = 3;				/* a byte order mark is not a column */
		il_text_advance(src, at, off, &line, &column);
		at = off;
		v->rule = c.f[k].rule;
		v->severity = SEVERITY_CRITICAL;
		v->message = c.f[k].message;
		v->line = line;
		v->column = column;
	}
	result->n = c.n;
	if (c.n > IL_GUARD_MAX_VIOLATIONS)
	{
		/* the first one not listed tells that more were found */
		il_violation *v = &result->v[IL_GUARD_MAX_VIOLATIONS];

		v->rule = il_errcode_name(IL_ERR_TOO_MANY_VIOLATIONS);
		v->message = msg_too_many;
	}
	result->ok = false;
	return IL_PARSE_OK;
}

/*
 * Lexes and judges SQL text.
 */
il_parse_status
il_guard_check(const char *sql, size_t len, il_guard_result *result, il_error *err)
{
	il_tokens	toks = IL_TOKENS_INIT;
	il_parse_status st;

	memset(result, 0, sizeof(*result));
	result->ok = true;
	st = il_lex(sql, len, 0, &toks, err);
	if (st == IL_PARSE_OK)
		st = il_guard_check_tokens(sql, &toks, result, err);
	il_tokens_free(&toks);
	return st;
}

/*
 * The length of the guard object in canonical form.
 */
size_t
il_guard_json_len(const il_guard_result *result)
{
	size_t		n = strlen("{\"ok\":,\"violations\":[]}") + (result->ok ? 4 : 5);
	size_t		i;

	for (i = 0; i < result->n; i++)
	{
		const il_violation *v = &result->v[i];

		n += (i > 0) + strlen("{\"column\":,\"line\":,\"message\":,\"rule\":,\"severity\":}") +
			il_jsonw_int_len(v->column) + il_jsonw_int_len(v->line) +
			il_jsonw_cstring_len(v->message) + il_jsonw_cstring_len(v->rule) +
			il_jsonw_cstring_len(v->severity);
	}
	return n;
}

/*
 * Appends {"ok":...,"violations":[...]} in canonical form.
 */
void
il_guard_to_json(const il_guard_result *result, il_buf *out)
{
	size_t		i;

	il_buf_reserve(out, il_guard_json_len(result));

	il_buf_putc(out, '{');
	il_jsonw_key(out, "ok");
	il_jsonw_bool(out, result->ok);
	il_buf_putc(out, ',');
	il_jsonw_key(out, "violations");
	il_buf_putc(out, '[');
	for (i = 0; i < result->n; i++)
	{
		const il_violation *v = &result->v[i];

		if (i > 0)
			il_buf_putc(out, ',');
		il_buf_putc(out, '{');
		il_jsonw_key(out, "column");
		il_jsonw_int(out, v->column);
		il_buf_putc(out, ',');
		il_jsonw_key(out, "line");
		il_jsonw_int(out, v->line);
		il_buf_putc(out, ',');
		il_jsonw_key(out, "message");
		il_jsonw_cstring(out, v->message);
		il_buf_putc(out, ',');
		il_jsonw_key(out, "rule");
		il_jsonw_cstring(out, v->rule);
		il_buf_putc(out, ',');
		il_jsonw_key(out, "severity");
		il_jsonw_cstring(out, v->severity);
		il_buf_putc(out, '}');
	}
	il_buf_putc(out, ']');
	il_buf_putc(out, '}');
}
