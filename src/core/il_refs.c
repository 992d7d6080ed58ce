/*-------------------------------------------------------------------------
 *
 * il_refs.c
 *	  Reference extraction and statement kinds; see il_refs.h.
 *
 * The walker keeps one frame per open parenthesis (an explicit array, as
 * deep as the lexer allows), each with a small state machine:
 *
 *	NONE			nothing pending
 *	FROM_EXPECT		after FROM, JOIN, a comma of a FROM list, MERGE's USING:
 *					the next name is a relation, '(' opens a subquery or a
 *					parenthesized join
 *	FROM_AFTER		after a relation: aliases, time travel, ON, PIVOT ... are
 *					skipped; a comma or JOIN expects the next relation
 *	FROM_VALUES		inside FROM VALUES rows: commas separate rows
 *	LATERAL_VIEW	after LATERAL VIEW: commas separate column aliases
 *	WITH_NAME, WITH_AFTER_NAME, WITH_AFTER_BODY		inside a WITH list
 *
 * CTE names live on a stack of (name, frame depth, active); a frame that
 * closes drops the CTEs defined in it, and a non-recursive CTE becomes
 * active when its body closes.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "il_refs.h"

typedef enum wstate
{
	ST_NONE,
	ST_FROM_EXPECT,
	ST_FROM_AFTER,
	ST_FROM_VALUES,
	ST_LATERAL_VIEW,
	ST_WITH_NAME,
	ST_WITH_AFTER_NAME,
	ST_WITH_AFTER_BODY
} wstate;

typedef struct frame
{
	uint8_t		state;			/* wstate */
	uint8_t		resume;			/* the parent's state once this frame closes */
	bool		query;			/* a SELECT (or FROM-first query) is at this level */
	bool		is_call;		/* the parenthesis follows a function name */
	bool		merge_using;	/* after MERGE INTO: USING names the source */
	bool		insert_pending; /* after INSERT's target: TABLE t is a query */
	bool		recursive;		/* WITH RECURSIVE */
	bool		in_create;		/* in CREATE ...: CLONE names a source */
	size_t		start;			/* index of the first token inside */
	long		cte;			/* CTE to activate when this body closes, or -1 */
	long		cte_pending;	/* CTE whose name was read last */
} frame;

/*
 * A CTE in scope: its name (a key) and the frame depth of its WITH. The
 * names are kept once each, with how many CTEs of that name in scope are
 * active, so a name is looked up in constant time (a long WITH list and
 * many references would otherwise cost their product).
 */
typedef struct cte
{
	uint32_t	key;			/* index in keys */
	uint16_t	depth;			/* frame depth of its WITH (at most IL_LEX_MAX_DEPTH) */
	bool		active;
} cte;

typedef struct cte_key
{
	uint32_t	off;			/* lower-cased name in keytext */
	uint32_t	len;
	uint32_t	active;			/* active CTEs of this name in scope */
} cte_key;

/* A small growable byte buffer that starts inside the walker. */
#define SBUF_INLINE 256

typedef struct sbuf
{
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		oom;
	char		inl[SBUF_INLINE];
} sbuf;

#define FRAMES_INLINE 64
#define CTES_INLINE 32
#define KEYS_INLINE 16

enum
{
	L_REFERENCES,
	L_TARGETS,
	L_REFS,
	L_PATHS,
	L__COUNT
};

typedef struct walker
{
	const char *src;
	const il_tokens *tk;
	const il_token *t;
	size_t		n;
	frame	   *fr;
	size_t		depth;
	size_t		fcap;
	cte		   *ctes;			/* a stack: the CTEs in scope */
	size_t		nctes;
	size_t		ccap;
	cte_key    *keys;			/* every CTE name seen, once */
	size_t		nkeys;
	size_t		kcap;
	sbuf		keytext;		/* their text, lower-cased */
	il_strindex keyindex;
	sbuf		name;			/* the name read last, normalized */
	il_lists_builder lb;		/* references, targets, refs, paths */
	size_t		name_first;		/* the tokens w->name was read from */
	size_t		name_last;
	il_refs_found_fn found;		/* optional: told of every name listed */
	void	   *found_arg;
	bool		oom;
	frame		fr_inline[FRAMES_INLINE];
	cte			ctes_inline[CTES_INLINE];
	cte_key		keys_inline[KEYS_INLINE];
} walker;

/*
 * Starts an empty sbuf.
 */
static void
sb_init(sbuf *b)
{
	b->data = b->inl;
	b->len = 0;
	b->cap = SBUF_INLINE;
	b->oom = false;
}

/*
 * Frees an sbuf's heap memory.
 */
static void
sb_free(sbuf *b)
{
	if (b->data != b->inl)
		il_free(b->data);
	sb_init(b);
}

/*
 * Appends bytes to an sbuf (sets oom and drops them when out of memory).
 */
static void
sb_append(sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (n > b->cap - b->len)
	{
		size_t		cap = b->cap;
		char	   *nd;

		while (cap - b->len < n)
		{
			if (cap > SIZE_MAX / 2)
			{
				b->oom = true;
				return;
			}
			cap *= 2;
		}
		if (b->data == b->inl)
		{
			nd = il_malloc(cap);
			if (nd != NULL)
				memcpy(nd, b->data, b->len);
		}
		else
			nd = il_realloc(b->data, cap);
		if (nd == NULL)
		{
			b->oom = true;
			return;
		}
		b->data = nd;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
}

/*
 * Appends one byte to an sbuf.
 */
static void
sb_putc(sbuf *b, char c)
{
	sb_append(b, &c, 1);
}

static const char *const stmt_names[] = {
	NULL, "SELECT", "INSERT", "MERGE", "UPDATE", "DELETE", "CREATE_TABLE",
	"CREATE_TABLE_AS", "CREATE_VIEW", "CREATE_USER", "CREATE_ROLE", "CREATE",
	"DROP", "TRUNCATE", "ALTER", "GRANT", "REVOKE", "EXECUTE_IMMEDIATE", "OTHER"
};

/*
 * The name of a statement kind, or NULL for none.
 */
const char *
il_stmt_kind_name(il_stmt_kind kind)
{
	if ((int) kind <= 0 || (int) kind > IL_STMT_OTHER)
		return NULL;
	return stmt_names[kind];
}

/*
 * The index after the parenthesis group opened at i (the end when the
 * tokens are not balanced, which il_lex never returns with success).
 */
static size_t
skip_group(const il_tokens *tk, size_t i)
{
	size_t		m = il_tok_match(&tk->tok[i]);

	return m > i && m < tk->n ? m + 1 : tk->n;
}

/*
 * Does token j start a query (SELECT, WITH, VALUES, FROM, TABLE, '(')?
 */
static bool
starts_query(const il_tokens *tk, size_t j)
{
	il_keyword	k = il_tok_keyword(tk, j);

	if (j >= tk->n)
		return false;
	return k == IL_KW_SELECT || k == IL_KW_WITH || k == IL_KW_VALUES ||
		k == IL_KW_FROM || k == IL_KW_TABLE || tk->tok[j].type == IL_TOK_LPAREN;
}

/*
 * If a WITH at j starts a list of CTEs, the index of the first token after
 * the list; else j.
 */
static size_t
skip_with(const il_tokens *tk, size_t j)
{
	const il_token *t = tk->tok;
	size_t		n = tk->n;
	size_t		i = j + 1;

	if (il_tok_keyword(tk, i) == IL_KW_RECURSIVE)
		i++;
	for (;;)
	{
		if (i >= n || (t[i].type != IL_TOK_WORD && t[i].type != IL_TOK_QIDENT))
			return j;
		i++;
		if (i < n && t[i].type == IL_TOK_LPAREN && !starts_query(tk, i + 1))
			i = skip_group(tk, i);
		if (il_tok_keyword(tk, i) == IL_KW_AS)
			i++;
		if (i >= n || t[i].type != IL_TOK_LPAREN)
			return j;
		i = skip_group(tk, i);
		if (i < n && t[i].type == IL_TOK_COMMA)
		{
			i++;
			continue;
		}
		return i;
	}
}

/*
 * The index of the first token at parenthesis depth 0 from j on with
 * keyword kw, before the statement ends; or the end.
 */
static size_t
find_top_keyword(const il_tokens *tk, size_t j, il_keyword kw)
{
	while (j < tk->n && tk->tok[j].type != IL_TOK_SEMI)
	{
		if (tk->tok[j].type == IL_TOK_LPAREN)
		{
			j = skip_group(tk, j);
			continue;
		}
		if (il_tok_keyword(tk, j) == kw)
			return j;
		j++;
	}
	return tk->n;
}

/*
 * The kind of CREATE statement whose words after CREATE start at j.
 */
static il_stmt_kind
classify_create(const il_tokens *tk, size_t j, bool replace)
{
	il_keyword	k;

	for (;;)
	{
		k = il_tok_keyword(tk, j);
		if (k == IL_KW_OR || k == IL_KW_REPLACE || k == IL_KW_REFRESH ||
			k == IL_KW_TEMPORARY || k == IL_KW_TEMP || k == IL_KW_GLOBAL ||
			k == IL_KW_EXTERNAL || k == IL_KW_STREAMING || k == IL_KW_LIVE ||
			k == IL_KW_MATERIALIZED)
			j++;
		else
			break;
	}
	if (k == IL_KW_TABLE)
	{
		size_t		as = j + 1;

		for (;;)
		{
			as = find_top_keyword(tk, as, IL_KW_AS);
			if (as >= tk->n)
				return replace ? IL_STMT_OTHER : IL_STMT_CREATE_TABLE;
			if (starts_query(tk, as + 1))
				return IL_STMT_CREATE_TABLE_AS;
			as++;
		}
	}
	if (replace)
		return IL_STMT_OTHER;
	if (k == IL_KW_VIEW)
		return IL_STMT_CREATE_VIEW;
	if (k == IL_KW_USER)
		return IL_STMT_CREATE_USER;
	if (k == IL_KW_ROLE)
		return IL_STMT_CREATE_ROLE;
	return IL_STMT_CREATE;
}

/*
 * The kind of the statement starting at token start.
 */
il_stmt_kind
il_stmt_classify(const il_tokens *tk, size_t start, size_t *kw_at)
{
	const il_token *t = tk->tok;
	size_t		n = tk->n;
	size_t		j = start;
	il_keyword	k;

	if (kw_at)
		*kw_at = start;
	while (j < n && (t[j].type == IL_TOK_TEMPLATE || t[j].type == IL_TOK_LPAREN))
		j++;
	if (j >= n || t[j].type == IL_TOK_SEMI)
		return j == start ? IL_STMT_NONE : IL_STMT_OTHER;
	k = il_tok_keyword(tk, j);
	if (k == IL_KW_WITH)
	{
		size_t		after = skip_with(tk, j);

		if (after != j)
		{
			j = after;
			while (j < n && t[j].type == IL_TOK_LPAREN)
				j++;
			k = il_tok_keyword(tk, j);
		}
	}
	if (kw_at)
		*kw_at = j < n ? j : start;
	switch (k)
	{
		case IL_KW_SELECT:
		case IL_KW_VALUES:
		case IL_KW_TABLE:
			return IL_STMT_SELECT;
		case IL_KW_FROM:
			{
				size_t		ins = find_top_keyword(tk, j + 1, IL_KW_INSERT);

				if (ins < n)
				{
					if (kw_at)
						*kw_at = ins;
					return IL_STMT_INSERT;
				}
				return IL_STMT_SELECT;
			}
		case IL_KW_INSERT:
			return IL_STMT_INSERT;
		case IL_KW_MERGE:
			return IL_STMT_MERGE;
		case IL_KW_UPDATE:
			return IL_STMT_UPDATE;
		case IL_KW_DELETE:
			return IL_STMT_DELETE;
		case IL_KW_CREATE:
			return classify_create(tk, j + 1, false);
		case IL_KW_REPLACE:
			return classify_create(tk, j + 1, true);
		case IL_KW_DROP:
			return IL_STMT_DROP;
		case IL_KW_TRUNCATE:
			return IL_STMT_TRUNCATE;
		case IL_KW_ALTER:
			return IL_STMT_ALTER;
		case IL_KW_GRANT:
			return IL_STMT_GRANT;
		case IL_KW_REVOKE:
			return IL_STMT_REVOKE;
		case IL_KW_EXECUTE:
		case IL_KW_EXEC:
			return IL_STMT_EXECUTE_IMMEDIATE;
		default:
			return IL_STMT_OTHER;
	}
}

/*
 * Is the state one of a FROM clause?
 */
static bool
in_from(uint8_t state)
{
	return state == ST_FROM_EXPECT || state == ST_FROM_AFTER ||
		state == ST_FROM_VALUES || state == ST_LATERAL_VIEW;
}

/*
 * The keyword of token i (see il_tok_keyword).
 */
static il_keyword
kw(const walker *w, size_t i)
{
	return il_tok_keyword(w->tk, i);
}

/*
 * Can token j start a relation name (a backticked name, or a word that is
 * not a reserved keyword)?
 */
static bool
name_start(const walker *w, size_t j)
{
	if (j >= w->n)
		return false;
	return w->t[j].type == IL_TOK_QIDENT ||
		(w->t[j].type == IL_TOK_WORD && !(w->t[j].flags & IL_TOKF_RESERVED));
}

/*
 * Is the word token a data source format (for format.`path`)?
 */
static bool
is_format(const walker *w, const il_token *tok)
{
	static const struct
	{
		const char *name;
		size_t		len;
	}			formats[] = {
		{"delta", 5}, {"parquet", 7}, {"csv", 3}, {"json", 4}, {"orc", 3},
		{"avro", 4}, {"text", 4}, {"binaryfile", 10}
	};
	const char *s = w->src + tok->off;
	size_t		f;

	if (tok->type != IL_TOK_WORD)
		return false;
	for (f = 0; f < sizeof(formats) / sizeof(formats[0]); f++)
	{
		size_t		i;

		if (formats[f].len != il_tok_len(tok))
			continue;
		for (i = 0; i < il_tok_len(tok); i++)
			if ((s[i] | 0x20) != formats[f].name[i])
				break;
		if (i == il_tok_len(tok))
			return true;
	}
	return false;
}

/*
 * Appends the normalized form of a name part (a word or a backticked
 * name) to w->name.
 */
static void
append_part(walker *w, const il_token *tok)
{
	const char *s = w->src + tok->off;

	if (tok->type == IL_TOK_WORD)
	{
		size_t		i;
		size_t		at = w->name.len;

		sb_append(&w->name, s, il_tok_len(tok));
		if (w->name.oom)
			return;
		for (i = at; i < w->name.len; i++)
			if (w->name.data[i] >= 'A' && w->name.data[i] <= 'Z')
				w->name.data[i] = (char) (w->name.data[i] + ('a' - 'A'));
	}
	else
	{
		const char *in = s + 1;
		size_t		inlen = il_tok_len(tok) - 2;

		if (inlen == 0 || memchr(in, '.', inlen) || memchr(in, '`', inlen))
			sb_append(&w->name, s, il_tok_len(tok));
		else
			sb_append(&w->name, in, inlen);
	}
}

/*
 * Reads the relation name starting at token i (name_start(i) holds) into
 * w->name. Returns the index after it (and after a t@v3 time-travel
 * suffix). *nparts is the number of parts; *is_path says it is a file-path
 * relation (then w->name is format.`path`); *unknown says a template or
 * variable is part of it.
 */
static size_t
read_name(walker *w, size_t i, int *nparts, bool *is_path, bool *unknown)
{
	const il_token *t = w->t;
	size_t		j = i;
	size_t		next;

	w->name.len = 0;
	*nparts = 0;
	*is_path = false;
	*unknown = false;
	for (;;)
	{
		if (*nparts > 0)
			sb_putc(&w->name, '.');
		append_part(w, &t[j]);
		(*nparts)++;
		if (j + 2 < w->n && t[j + 1].type == IL_TOK_DOT &&
			(t[j + 2].type == IL_TOK_WORD || t[j + 2].type == IL_TOK_QIDENT))
		{
			j += 2;
			continue;
		}
		break;
	}
	w->name_first = i;
	w->name_last = j;
	next = j + 1;
	while (next + 1 < w->n && t[next].type == IL_TOK_DOT &&
		   (t[next + 1].type == IL_TOK_TEMPLATE || t[next + 1].type == IL_TOK_VARIABLE ||
			t[next + 1].type == IL_TOK_WORD || t[next + 1].type == IL_TOK_QIDENT))
	{
		*unknown = true;
		next += 2;
	}
	if (*nparts == 2 && t[j].type == IL_TOK_QIDENT && is_format(w, &t[i]))
	{
		const char *in = w->src + t[j].off + 1;
		size_t		inlen = il_tok_len(&t[j]) - 2;

		if (memchr(in, '/', inlen) || memchr(in, ':', inlen))
		{
			*is_path = true;
			w->name.len = 0;
			append_part(w, &t[i]);
			sb_putc(&w->name, '.');
			sb_append(&w->name, w->src + t[j].off, il_tok_len(&t[j]));
		}
	}
	if (next + 1 < w->n && t[next].type == IL_TOK_OP && il_tok_len(&t[next]) == 1 &&
		w->src[t[next].off] == '@' &&
		(t[next + 1].type == IL_TOK_WORD || t[next + 1].type == IL_TOK_NUMBER))
		next += 2;
	if (w->name.oom)
		w->oom = true;
	return next;
}

/*
 * Adds w->name (read from tokens w->name_first..w->name_last) to a list,
 * and tells the caller's callback.
 */
static void
add_name(walker *w, int list)
{
	if (w->name.oom || !il_lb_add(&w->lb, list, w->name.data, w->name.len, false))
	{
		w->oom = true;
		return;
	}
	if (w->found != NULL)
	{
		il_refs_found f;

		f.list = (il_refs_list) list;
		f.first = w->name_first;
		f.last = w->name_last;
		f.name = w->name.data;
		f.len = w->name.len;
		w->found(w->found_arg, &f);
	}
}

/*
 * The key of a CTE name (il_strindex_get).
 */
static const char *
key_string(const void *arg, uint32_t e, size_t *len, int *tag)
{
	const walker *w = arg;

	*len = w->keys[e].len;
	*tag = 0;
	return w->keytext.data + w->keys[e].off;
}

/*
 * The key of the name s[0..len) (backticked when quoted: `` stands for one
 * backtick), lower-cased; a new key when it has none, or UINT32_MAX when
 * out of memory (or, with add false, when there is no such key).
 */
static uint32_t
cte_key_of(walker *w, const char *s, size_t len, bool quoted, bool add)
{
	size_t		at = w->keytext.len;
	size_t		k;
	uint32_t	key;

	/* the lower-cased name goes after the keys' text, and stays if new */
	sb_append(&w->keytext, s, len);
	if (w->keytext.oom || len > UINT32_MAX || at > UINT32_MAX)
	{
		w->oom = true;
		return UINT32_MAX;
	}
	{
		char	   *d = w->keytext.data + at;
		size_t		n = 0;

		for (k = 0; k < len; k++)
		{
			char		c = d[k];

			if (quoted && c == '`')
				k++;			/* `` stands for one backtick */
			d[n++] = (c >= 'A' && c <= 'Z') ? (char) (c + ('a' - 'A')) : c;
		}
		w->keytext.len = at + n;
	}
	key = il_strindex_find(&w->keyindex, w->keytext.data + at, w->keytext.len - at, 0,
						   key_string, w);
	if (key != UINT32_MAX || !add)
	{
		w->keytext.len = at;
		return key;
	}
	if (w->nkeys == w->kcap)
	{
		size_t		cap = w->kcap * 2;
		cte_key    *nk;

		nk = il_grow_inline(w->keys, w->keys_inline, w->nkeys, cap, sizeof(cte_key));
		if (nk == NULL)
		{
			w->oom = true;
			return UINT32_MAX;
		}
		w->keys = nk;
		w->kcap = cap;
	}
	key = (uint32_t) w->nkeys;
	w->keys[key].off = (uint32_t) at;
	w->keys[key].len = (uint32_t) (w->keytext.len - at);
	w->keys[key].active = 0;
	if (!il_strindex_add(&w->keyindex, key, key_string, w))
	{
		w->oom = true;
		return UINT32_MAX;
	}
	w->nkeys++;
	return key;
}

/*
 * Marks CTE c active.
 */
static void
cte_activate(walker *w, size_t c)
{
	if (!w->ctes[c].active)
	{
		w->ctes[c].active = true;
		w->keys[w->ctes[c].key].active++;
	}
}

/*
 * Drops the CTEs in scope down to n.
 */
static void
cte_pop(walker *w, size_t n)
{
	while (w->nctes > n)
	{
		const cte  *e = &w->ctes[--w->nctes];

		if (e->active)
			w->keys[e->key].active--;
	}
}

/*
 * Is the one-part name in w->name an active CTE?
 */
static bool
cte_visible(walker *w)
{
	uint32_t	key;

	if (w->nctes == 0)
		return false;
	key = cte_key_of(w, w->name.data, w->name.len, false, false);
	return key != UINT32_MAX && w->keys[key].active > 0;
}

/*
 * Lists the name just read as read: a path, or a reference unless it is
 * one part naming a CTE in scope.
 */
static void
list_read(walker *w, int nparts, bool path)
{
	if (path)
		add_name(w, L_PATHS);
	else if (!(nparts == 1 && cte_visible(w)))
		add_name(w, L_REFERENCES);
}

/*
 * Reads a relation name at i and lists it as read. Returns the index of
 * its last token.
 */
static size_t
read_relation(walker *w, size_t i)
{
	int			nparts;
	bool		path;
	bool		unknown;
	size_t		next = read_name(w, i, &nparts, &path, &unknown);

	if (!unknown)
		list_read(w, nparts, path);
	return next - 1;
}

/*
 * Reads a name at i and lists it as written. Returns the index of its last
 * token.
 */
static size_t
read_target(walker *w, size_t i)
{
	int			nparts;
	bool		path;
	bool		unknown;
	size_t		next = read_name(w, i, &nparts, &path, &unknown);

	if (!unknown)
		add_name(w, path ? L_PATHS : L_TARGETS);
	return next - 1;
}

/*
 * A relation in a FROM list at token i: a name (a relation, or a
 * table-valued function when '(' follows). Returns the last token used.
 */
static size_t
table_factor(walker *w, size_t i)
{
	frame	   *f = &w->fr[w->depth];
	int			nparts;
	bool		path;
	bool		unknown;
	size_t		next = read_name(w, i, &nparts, &path, &unknown);

	f->state = ST_FROM_AFTER;
	if (!unknown && !(next < w->n && w->t[next].type == IL_TOK_LPAREN))
		list_read(w, nparts, path);	/* not a table-valued function */
	return next - 1;
}

/*
 * Lists the model or source named by a {{ ref(...) }} or
 * {{ source(...) }} template block.
 */
static void
on_template(walker *w, const il_token *tok)
{
	const char *p = w->src + tok->off;
	const char *end = p + il_tok_len(tok);
	const char *fn;
	size_t		fnlen;
	const char *arg[2];
	size_t		arglen[2];
	int			nargs = 0;
	int			a;

	if (il_tok_len(tok) < 4 || p[1] != '{')
		return;
	p += 2;
	end -= 2;
	if (p < end && *p == '-')
		p++;
	if (end > p && end[-1] == '-')
		end--;
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	fn = p;
	while (p < end && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
					   (*p >= '0' && *p <= '9') || *p == '_'))
		p++;
	fnlen = (size_t) (p - fn);
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	if (p >= end || *p != '(')
		return;
	p++;
	for (;;)
	{
		char		q;
		const char *s;

		while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
			p++;
		if (p >= end || (*p != '\'' && *p != '"') || nargs == 2)
			return;
		q = *p++;
		s = p;
		while (p < end && *p != q)
			p += (*p == '\\' && p + 1 < end) ? 2 : 1;
		if (p >= end || p == s)
			return;
		arg[nargs] = s;
		arglen[nargs] = (size_t) (p - s);
		nargs++;
		p++;
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
			p++;
		if (p < end && *p == ',')
		{
			p++;
			continue;
		}
		if (p < end && *p == ')')
		{
			p++;
			break;
		}
		return;
	}
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	if (p != end)
		return;
	w->name.len = 0;
	if (fnlen == 3 && memcmp(fn, "ref", 3) == 0)
		sb_append(&w->name, arg[nargs - 1], arglen[nargs - 1]);
	else if (fnlen == 6 && memcmp(fn, "source", 6) == 0 && nargs == 2)
	{
		sb_append(&w->name, arg[0], arglen[0]);
		sb_putc(&w->name, '.');
		sb_append(&w->name, arg[1], arglen[1]);
	}
	else
		return;
	if (w->name.oom)
	{
		w->oom = true;
		return;
	}
	for (a = 0; (size_t) a < w->name.len; a++)
		if (w->name.data[a] >= 'A' && w->name.data[a] <= 'Z')
			w->name.data[a] = (char) (w->name.data[a] + ('a' - 'A'));
	w->name_first = w->name_last = (size_t) (tok - w->t);
	add_name(w, fn[0] == 'r' ? L_REFS : L_REFERENCES);
}

/*
 * Records a CTE name (token i) in the current frame's WITH.
 */
static void
add_cte(walker *w, size_t i)
{
	frame	   *f = &w->fr[w->depth];
	const il_token *tok = &w->t[i];
	const char *s = w->src + tok->off;
	size_t		len = il_tok_len(tok);
	uint32_t	key;
	cte		   *e;

	if (tok->type == IL_TOK_QIDENT)
	{
		s++;
		len -= 2;
	}
	if (w->nctes == w->ccap)
	{
		size_t		cap = w->ccap * 2;
		cte		   *nc;

		nc = il_grow_inline(w->ctes, w->ctes_inline, w->nctes, cap, sizeof(cte));
		if (nc == NULL)
		{
			w->oom = true;
			return;
		}
		w->ctes = nc;
		w->ccap = cap;
	}
	key = cte_key_of(w, s, len, tok->type == IL_TOK_QIDENT, true);
	if (key == UINT32_MAX)
		return;
	e = &w->ctes[w->nctes];
	e->key = key;
	e->depth = (uint16_t) w->depth;
	e->active = false;
	f->cte_pending = (long) w->nctes;
	w->nctes++;
	if (f->recursive)
		cte_activate(w, w->nctes - 1);
}

/*
 * Opens the frame of the parenthesis at token i.
 */
static void
open_frame(walker *w, size_t i)
{
	frame	   *parent;
	frame	   *child;

	if (w->depth + 1 >= w->fcap)
	{
		size_t		cap = w->fcap * 2;
		frame	   *nf;

		nf = il_grow_inline(w->fr, w->fr_inline, w->fcap, cap, sizeof(frame));
		if (nf == NULL)
		{
			w->oom = true;
			return;
		}
		w->fr = nf;
		w->fcap = cap;
	}
	parent = &w->fr[w->depth];
	child = &w->fr[w->depth + 1];
	memset(child, 0, sizeof(*child));
	child->start = i + 1;
	child->cte = -1;
	child->cte_pending = -1;
	child->state = ST_NONE;
	if (parent->state == ST_FROM_EXPECT)
	{
		/* a subquery or a parenthesized join */
		child->state = ST_FROM_EXPECT;
		child->resume = ST_FROM_AFTER;
	}
	else if (parent->state == ST_WITH_AFTER_NAME)
	{
		if (starts_query(w->tk, i + 1))
		{
			child->query = true;
			child->cte = parent->cte_pending;
			child->resume = ST_WITH_AFTER_BODY;
		}
		else
			child->resume = ST_WITH_AFTER_NAME;	/* column names */
	}
	else
	{
		child->resume = parent->state;
		if (i > 0)
		{
			const il_token *p = &w->t[i - 1];

			child->is_call = p->type == IL_TOK_QIDENT ||
				(p->type == IL_TOK_WORD && !(p->flags & IL_TOKF_RESERVED));
		}
	}
	w->depth++;
}

/*
 * Closes the innermost frame.
 */
static void
close_frame(walker *w)
{
	frame	   *child;
	frame	   *parent;

	if (w->depth == 0)
		return;
	child = &w->fr[w->depth];
	{
		size_t		keep = w->nctes;

		while (keep > 0 && w->ctes[keep - 1].depth >= w->depth)
			keep--;
		cte_pop(w, keep);
	}
	w->depth--;
	parent = &w->fr[w->depth];
	if (child->cte >= 0 && (size_t) child->cte < w->nctes)
		cte_activate(w, (size_t) child->cte);
	parent->state = child->resume;
}

/*
 * Is TABLE at token i the query TABLE t (rather than CREATE TABLE etc.)?
 */
static bool
table_query_position(const walker *w, size_t i)
{
	const frame *f = &w->fr[w->depth];
	il_keyword	pk;
	uint8_t		pt;

	if (i == f->start || f->insert_pending)
		return true;
	if (i == 0)
		return false;
	pt = w->t[i - 1].type;
	if (pt == IL_TOK_LPAREN || pt == IL_TOK_COMMA)
		return true;
	pk = kw(w, i - 1);
	if (pk == IL_KW_UNION || pk == IL_KW_INTERSECT || pk == IL_KW_EXCEPT ||
		pk == IL_KW_MINUS || pk == IL_KW_AS)
		return true;
	if ((pk == IL_KW_ALL || pk == IL_KW_DISTINCT) && i >= 2)
	{
		il_keyword	ppk = kw(w, i - 2);

		return ppk == IL_KW_UNION || ppk == IL_KW_INTERSECT ||
			ppk == IL_KW_EXCEPT || ppk == IL_KW_MINUS;
	}
	if (pt == IL_TOK_RPAREN)
	{
		size_t		o = il_tok_match(&w->t[i - 1]);

		return o > 0 && o < i - 1 && kw(w, o - 1) == IL_KW_AS;
	}
	return false;
}

/*
 * Handles a WITH at i: the start of a CTE list, or something else (WITH
 * ROLLUP, MERGE WITH SCHEMA EVOLUTION). Returns the last token used.
 */
static size_t
on_with(walker *w, size_t i)
{
	frame	   *f = &w->fr[w->depth];
	size_t		j = i + 1;
	bool		rec = false;

	if (kw(w, j) == IL_KW_RECURSIVE)
	{
		rec = true;
		j++;
	}
	if (j + 1 < w->n && (w->t[j].type == IL_TOK_WORD || w->t[j].type == IL_TOK_QIDENT) &&
		(kw(w, j + 1) == IL_KW_AS || w->t[j + 1].type == IL_TOK_LPAREN))
	{
		f->state = ST_WITH_NAME;
		f->recursive = rec;
		f->insert_pending = false;
		return j - 1;
	}
	return i;
}

/*
 * Handles CREATE (or a statement's REPLACE) whose next words start at j:
 * the target of CREATE ... TABLE|VIEW name. Returns the last token used.
 */
static size_t
on_create(walker *w, size_t i, size_t j)
{
	frame	   *f = &w->fr[w->depth];
	il_keyword	k;

	f->in_create = true;
	for (;;)
	{
		k = kw(w, j);
		if (k == IL_KW_OR || k == IL_KW_REPLACE || k == IL_KW_REFRESH ||
			k == IL_KW_TEMPORARY || k == IL_KW_TEMP || k == IL_KW_GLOBAL ||
			k == IL_KW_EXTERNAL || k == IL_KW_STREAMING || k == IL_KW_LIVE ||
			k == IL_KW_MATERIALIZED)
			j++;
		else
			break;
	}
	if (k != IL_KW_TABLE && k != IL_KW_VIEW)
		return i;
	j++;
	if (kw(w, j) == IL_KW_IF && kw(w, j + 1) == IL_KW_NOT && kw(w, j + 2) == IL_KW_EXISTS)
		j += 3;
	if (!name_start(w, j))
		return i;
	return read_target(w, j);
}

/*
 * Handles a word at token i. Returns the last token used.
 */
static size_t
on_word(walker *w, size_t i)
{
	frame	   *f = &w->fr[w->depth];
	il_keyword	k = kw(w, i);
	bool		reserved = (w->t[i].flags & IL_TOKF_RESERVED) != 0;

	/* The common case: a name or alias where no relation is expected. */
	if (k == IL_KW_NONE && f->state != ST_FROM_EXPECT && f->state != ST_FROM_VALUES)
		return i;
	if (f->state == ST_FROM_EXPECT)
	{
		if (k == IL_KW_LATERAL)
			return i;
		if (k == IL_KW_STREAM &&
			((i + 1 < w->n && w->t[i + 1].type == IL_TOK_LPAREN) ||
			 (name_start(w, i + 1) && i + 2 < w->n && w->t[i + 2].type == IL_TOK_DOT)))
			return i;
		if (k == IL_KW_VALUES)
		{
			f->state = ST_FROM_VALUES;
			return i;
		}
		if (!reserved)
			return table_factor(w, i);
		f->state = ST_NONE;
	}
	else if (f->state == ST_FROM_VALUES)
	{
		if (k == IL_KW_AS ||
			(!reserved && i > 0 && w->t[i - 1].type == IL_TOK_RPAREN))
		{
			f->state = ST_FROM_AFTER;
			return i;
		}
	}

	switch (k)
	{
		case IL_KW_SELECT:
			f->query = true;
			f->insert_pending = false;
			f->state = ST_NONE;
			break;
		case IL_KW_FROM:
			if (i >= 2 && kw(w, i - 1) == IL_KW_DISTINCT &&
				(kw(w, i - 2) == IL_KW_IS ||
				 (kw(w, i - 2) == IL_KW_NOT && i >= 3 && kw(w, i - 3) == IL_KW_IS)))
				break;			/* IS [NOT] DISTINCT FROM */
			if (f->query || (i == f->start && !f->is_call))
			{
				f->query = true;
				f->insert_pending = false;
				f->state = ST_FROM_EXPECT;
			}
			break;
		case IL_KW_JOIN:
			if (f->query || in_from(f->state))
				f->state = ST_FROM_EXPECT;
			break;
		case IL_KW_USING:
			if (f->merge_using)
			{
				f->merge_using = false;
				f->state = ST_FROM_EXPECT;
			}
			break;
		case IL_KW_WITH:
			return on_with(w, i);
		case IL_KW_VALUES:
			f->insert_pending = false;
			break;
		case IL_KW_TABLE:
			if (table_query_position(w, i) && name_start(w, i + 1))
			{
				f->insert_pending = false;
				return read_relation(w, i + 1);
			}
			break;
		case IL_KW_LATERAL:
			if (kw(w, i + 1) == IL_KW_VIEW)
			{
				f->state = ST_LATERAL_VIEW;
				return i + 1;
			}
			break;
		case IL_KW_INSERT:
			{
				size_t		j = i + 1;
				il_keyword	k2 = kw(w, j);

				if (k2 != IL_KW_INTO && k2 != IL_KW_OVERWRITE)
					break;		/* MERGE's INSERT */
				f->state = ST_NONE;
				f->insert_pending = true;
				j++;
				if (kw(w, j) == IL_KW_TABLE)
					j++;
				if (kw(w, j) == IL_KW_DIRECTORY || kw(w, j) == IL_KW_LOCAL || !name_start(w, j))
					return j - 1;
				return read_target(w, j);
			}
		case IL_KW_MERGE:
			{
				size_t		j = i + 1;

				if (kw(w, j) == IL_KW_WITH && kw(w, j + 1) == IL_KW_SCHEMA &&
					kw(w, j + 2) == IL_KW_EVOLUTION)
					j += 3;
				if (kw(w, j) != IL_KW_INTO)
					break;
				j++;
				f->merge_using = true;
				if (!name_start(w, j))
					return j - 1;
				return read_target(w, j);
			}
		case IL_KW_UPDATE:
			if (name_start(w, i + 1) && kw(w, i + 1) != IL_KW_SET)
				return read_target(w, i + 1);
			break;
		case IL_KW_DELETE:
			if (kw(w, i + 1) == IL_KW_FROM && name_start(w, i + 2))
				return read_target(w, i + 2);
			break;
		case IL_KW_CREATE:
			return on_create(w, i, i + 1);
		case IL_KW_REPLACE:
			if (w->depth == 0 && i == f->start)
				return on_create(w, i, i);
			break;
		case IL_KW_COPY:
			if (kw(w, i + 1) == IL_KW_INTO && name_start(w, i + 2))
				return read_target(w, i + 2);
			break;
		case IL_KW_CLONE:
			if (f->in_create)
				f->state = ST_FROM_EXPECT;
			break;
		case IL_KW_WHERE:
		case IL_KW_GROUP:
		case IL_KW_HAVING:
		case IL_KW_ORDER:
		case IL_KW_LIMIT:
		case IL_KW_OFFSET:
		case IL_KW_WINDOW:
		case IL_KW_QUALIFY:
		case IL_KW_UNION:
		case IL_KW_INTERSECT:
		case IL_KW_EXCEPT:
		case IL_KW_MINUS:
		case IL_KW_CLUSTER:
		case IL_KW_DISTRIBUTE:
		case IL_KW_SORT:
		case IL_KW_WHEN:
		case IL_KW_SET:
			if (in_from(f->state))
				f->state = ST_NONE;
			break;
		default:
			break;
	}
	return i;
}

/*
 * The index of the ';' that ends the statement starting at i (at
 * parenthesis depth 0), or the end.
 */
static size_t
statement_end(const walker *w, size_t i)
{
	while (i < w->n && w->t[i].type != IL_TOK_SEMI)
	{
		if (w->t[i].type == IL_TOK_LPAREN)
			i = skip_group(w->tk, i);
		else
			i++;
	}
	return i;
}

/*
 * Skips the ".part" tokens after a template or variable at i that starts a
 * name ({{ target }}.orders); returns the last one.
 */
static size_t
skip_name_tail(const walker *w, size_t i)
{
	while (i + 2 < w->n && w->t[i + 1].type == IL_TOK_DOT &&
		   (w->t[i + 2].type == IL_TOK_WORD || w->t[i + 2].type == IL_TOK_QIDENT ||
			w->t[i + 2].type == IL_TOK_TEMPLATE || w->t[i + 2].type == IL_TOK_VARIABLE))
		i += 2;
	return i;
}

/*
 * Resets the outermost frame for a new statement starting at token start.
 */
static void
reset_statement(walker *w, size_t start)
{
	frame	   *f = &w->fr[0];

	memset(f, 0, sizeof(*f));
	f->state = ST_NONE;
	f->query = true;
	f->start = start;
	f->cte = -1;
	f->cte_pending = -1;
	cte_pop(w, 0);
}

/*
 * Frees the lists of a reference result and leaves it empty.
 */
void
il_refs_free(il_refs *refs)
{
	il_free(refs->mem);
	memset(refs, 0, sizeof(*refs));
}

/*
 * Walks the tokens and lists the references; see il_refs.h.
 */
il_parse_status
il_refs_extract(const char *src, const il_tokens *tk, il_refs *out, il_error *err)
{
	return il_refs_extract_found(src, tk, NULL, NULL, out, err);
}

/*
 * The same, telling found of every name as it is listed.
 */
il_parse_status
il_refs_extract_found(const char *src, const il_tokens *tk, il_refs_found_fn found,
					  void *found_arg, il_refs *out, il_error *err)
{
	walker		w;
	size_t		i;
	bool		first = true;
	bool		ok = true;

	memset(out, 0, sizeof(*out));
	il_error_clear(err);
	w.src = src ? src : "";
	w.tk = tk;
	w.t = tk->tok;
	w.n = tk->n;
	w.depth = 0;
	w.fr = w.fr_inline;
	w.fcap = FRAMES_INLINE;
	w.ctes = w.ctes_inline;
	w.nctes = 0;
	w.keys = w.keys_inline;
	w.nkeys = 0;
	w.kcap = KEYS_INLINE;
	il_strindex_init(&w.keyindex);
	w.ccap = CTES_INLINE;
	w.name_first = 0;
	w.name_last = 0;
	w.found = found;
	w.found_arg = found_arg;
	w.oom = false;
	sb_init(&w.keytext);
	sb_init(&w.name);
	il_lb_init(&w.lb);
	il_lb_unique(&w.lb, 0xf);
	reset_statement(&w, 0);

	for (i = 0; i < w.n && !w.oom; i++)
	{
		const il_token *tok = &w.t[i];
		frame	   *f = &w.fr[w.depth];

		if (w.depth == 0 && i == f->start)
		{
			il_stmt_kind kind = il_stmt_classify(tk, i, NULL);

			if (first && kind != IL_STMT_NONE)
			{
				out->statement = kind;
				first = false;
			}
			switch (kind)
			{
				case IL_STMT_DROP:
				case IL_STMT_TRUNCATE:
				case IL_STMT_ALTER:
				case IL_STMT_GRANT:
				case IL_STMT_REVOKE:
				case IL_STMT_CREATE_USER:
				case IL_STMT_CREATE_ROLE:
				case IL_STMT_EXECUTE_IMMEDIATE:
					/* reads nothing; skip to its end */
					i = statement_end(&w, i);
					if (i >= w.n)
						continue;
					tok = &w.t[i];
					break;
				default:
					break;
			}
		}

		if (tok->type == IL_TOK_COMMENT)
			continue;

		/* The WITH list's own grammar (the last three states). */
		if (f->state >= ST_WITH_NAME)
		{
			if (f->state == ST_WITH_AFTER_BODY)
			{
				if (tok->type == IL_TOK_COMMA)
				{
					f->state = ST_WITH_NAME;
					continue;
				}
				f->state = ST_NONE;
			}
			else if (f->state == ST_WITH_NAME)
			{
				if (tok->type == IL_TOK_WORD || tok->type == IL_TOK_QIDENT)
				{
					add_cte(&w, i);
					f->state = ST_WITH_AFTER_NAME;
					continue;
				}
				f->state = ST_NONE;
			}
			else
			{
				if (kw(&w, i) == IL_KW_AS)
					continue;
				if (tok->type != IL_TOK_LPAREN)
					f->state = ST_NONE;
			}
		}

		/* an if chain by frequency: better predicted than a jump table */
		if (tok->type == IL_TOK_WORD)
			i = on_word(&w, i);
		else if (tok->type == IL_TOK_COMMA)
		{
			if (f->state == ST_FROM_AFTER)
				f->state = ST_FROM_EXPECT;
		}
		else if (tok->type == IL_TOK_LPAREN)
			open_frame(&w, i);
		else if (tok->type == IL_TOK_RPAREN)
			close_frame(&w);
		else if (tok->type == IL_TOK_QIDENT)
		{
			if (f->state == ST_FROM_EXPECT)
				i = table_factor(&w, i);
			else if (f->state == ST_FROM_VALUES && i > 0 &&
					 w.t[i - 1].type == IL_TOK_RPAREN)
				f->state = ST_FROM_AFTER;
		}
		else if (tok->type == IL_TOK_SEMI)
		{
			if (w.depth == 0)
				reset_statement(&w, i + 1);
		}
		else if (tok->type == IL_TOK_TEMPLATE)
		{
			on_template(&w, tok);
			if (f->state == ST_FROM_EXPECT && w.src[tok->off + 1] == '{')
			{
				i = skip_name_tail(&w, i);
				f->state = ST_FROM_AFTER;
			}
		}
		else if (tok->type == IL_TOK_VARIABLE)
		{
			if (f->state == ST_FROM_EXPECT)
			{
				i = skip_name_tail(&w, i);
				f->state = ST_FROM_AFTER;
			}
		}
		else if (tok->type == IL_TOK_STRING)
		{
			if (f->state == ST_FROM_EXPECT)
				f->state = ST_FROM_AFTER;
		}
	}

	ok = !w.oom;
	if (ok)
	{
		il_strlist	lists[L__COUNT];

		ok = il_lb_finish(&w.lb, L__COUNT, 0xf, lists, &out->mem);
		out->references = lists[L_REFERENCES];
		out->targets = lists[L_TARGETS];
		out->refs = lists[L_REFS];
		out->paths = lists[L_PATHS];
	}
	il_lb_free(&w.lb);
	if (w.fr != w.fr_inline)
		il_free(w.fr);
	if (w.ctes != w.ctes_inline)
		il_free(w.ctes);
	if (w.keys != w.keys_inline)
		il_free(w.keys);
	il_strindex_free(&w.keyindex);
	sb_free(&w.keytext);
	sb_free(&w.name);
	if (!ok)
	{
		il_refs_free(out);
		il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory while extracting references");
		return IL_PARSE_ERR_NOMEM;
	}
	return IL_PARSE_OK;
}

/*
 * Lexes SQL text and extracts its references.
 */
il_parse_status
il_refs_extract_sql(const char *sql, size_t len, il_refs *out, il_error *err)
{
	il_tokens	toks = IL_TOKENS_INIT;
	il_parse_status st;

	memset(out, 0, sizeof(*out));
	st = il_lex(sql, len, 0, &toks, err);
	if (st == IL_PARSE_OK)
		st = il_refs_extract(sql, &toks, out, err);
	il_tokens_free(&toks);
	return st;
}
