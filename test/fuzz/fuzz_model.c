/*
 * libFuzzer harness of the model parser: lexer (with and without comments),
 * header parser, reference extraction, guard, fingerprint, the whole model
 * and its JSON, over any bytes. Besides the sanitizers it checks:
 *	- tokens lie inside the input, in order, with positions >= 1, and
 *	  parentheses match each other;
 *	- lexing with and without comments gives the same non-comment tokens;
 *	- every status is a known one and every error has a message;
 *	- the model JSON and guard JSON are valid UTF-8 objects, the fingerprint
 *	  is 64 lower-case hex characters, and every listed name is non-empty;
 *	- the model's status is the lexer's when the lexer fails;
 *	- trailing whitespace changes neither the fingerprint nor the JSON;
 *	- parsing twice gives the same bytes;
 *	- the fast normalized text (eight bytes at a time) equals a plain
 *	  byte-by-byte rendering of the tokens;
 *	- the model's fingerprint is SHA-256 of its documented header prefix
 *	  followed by the normalized text;
 *	- the lexer emits at most il_lex_max_tokens tokens, and il_lex_position
 *	  agrees with positions counted token by token;
 *	- at most 101 violations, sorted by line, column and rule, the 101st a
 *	  too_many_violations;
 *	- the JSON texts are reserved once, at their exact length;
 *	- memory: the peak of the core's heap while it parses a model (and
 *	  writes its JSON) or judges SQL stays within 16 bytes per input byte
 *	  plus 64 kB (test/bench/memcount.h), the bound docs/limits.md states;
 *	  one input in eight is also repeated to 32 kB and held to 16 bytes per
 *	  byte plus 8 kB, where the ratio decides.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "il_fingerprint.h"
#include "il_guard.h"
#include "il_header.h"
#include "il_jsonw.h"
#include "il_lex.h"
#include "il_model.h"
#include "il_refs.h"
#include "memcount.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
			abort(); \
		} \
	} while (0)

/*
 * The memory bound of parse_model and sql_guard (docs/limits.md): bytes of
 * the core's heap per input byte, plus a constant; small inputs start
 * their token array from a guess and may take more than the ratio (so the
 * constant is larger for them), inputs repeated to SCALE bytes are held to
 * the ratio and a small constant.
 */
#define MODEL_RATIO 16
#define MODEL_SLACK ((size_t) 64 << 10)
#define SCALE ((size_t) 32 << 10)
#define SCALE_SLACK ((size_t) 8 << 10)

/*
 * Checks the invariants of a token array over an input of size bytes.
 */
static void
check_tokens(const char *src, const il_tokens *t, size_t size, il_parse_status st)
{
	size_t		i;
	size_t		at = 0;
	int			line = 1;
	int			col = 1;

	REQUIRE(t->n <= il_lex_max_tokens(src, size));
	for (i = 0; i < t->n; i++)
	{
		const il_token *k = &t->tok[i];

		REQUIRE((size_t) k->off + il_tok_len(k) <= size);
		REQUIRE(il_tok_len(k) > 0);
		REQUIRE(k->type >= IL_TOK_WORD && k->type <= IL_TOK_COMMENT);
		REQUIRE(k->kw < IL_KW__COUNT);
		if (i > 0)
			REQUIRE(k->off >= t->tok[i - 1].off + il_tok_len(&t->tok[i - 1]));
		/* positions, counted from token to token (a BOM is no column) */
		if (at == 0 && k->off >= 3 && memcmp(src, "\xef\xbb\xbf", 3) == 0)
			at = 3;
		il_text_advance(src, at, k->off, &line, &col);
		at = k->off;
		REQUIRE(line >= 1 && col >= 1);
		if (i == 0 || i + 1 == t->n || i % 997 == 0)
		{
			int			l2;
			int			c2;

			il_lex_position(src, k->off, &l2, &c2);
			REQUIRE(l2 == line && c2 == col);
		}
		if (k->type == IL_TOK_WORD && !(k->flags & IL_TOKF_HIGH))
		{
			/* a whole word: word bytes only, not followed by one */
			const unsigned char *w = (const unsigned char *) src + k->off;
			size_t		j;
			il_keyword	want;
			uint8_t		prev = 0;

			for (j = i; j > 0; j--)
				if (t->tok[j - 1].type != IL_TOK_COMMENT)
				{
					prev = t->tok[j - 1].type;
					break;
				}

			for (j = 0; j < k->lenm; j++)
				REQUIRE((w[j] >= 'a' && w[j] <= 'z') || (w[j] >= 'A' && w[j] <= 'Z') ||
						(w[j] >= '0' && w[j] <= '9') || w[j] == '_');
			if (k->off + k->lenm < size)
			{
				unsigned char c = w[k->lenm];

				REQUIRE(!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
						  (c >= '0' && c <= '9') || c == '_' || c >= 0x80));
			}
			want = il_keyword_lookup((const char *) w, k->lenm);
			if (prev == IL_TOK_DOT || prev == IL_TOK_COLON || prev == IL_TOK_DCOLON)
				want = IL_KW_NONE;
			REQUIRE(k->kw == want);
			REQUIRE(((k->flags & IL_TOKF_RESERVED) != 0) ==
					(want != IL_KW_NONE && (il_keyword_flags(want) & IL_KWF_RESERVED) != 0));
		}
		if (st == IL_PARSE_OK && (k->type == IL_TOK_LPAREN || k->type == IL_TOK_LBRACKET))
		{
			uint32_t	m = il_tok_match(k);

			REQUIRE(m > i && m < t->n);
			REQUIRE(il_tok_match(&t->tok[m]) == i);
			REQUIRE(t->tok[m].type == (k->type == IL_TOK_LPAREN ? IL_TOK_RPAREN : IL_TOK_RBRACKET));
		}
	}
}

/*
 * Checks a string list: items non-empty and valid UTF-8.
 */
static void
check_list(const il_strlist *l, bool sorted)
{
	size_t		i;

	for (i = 0; i < l->n; i++)
	{
		REQUIRE(l->items[i][0] != '\0');
		REQUIRE(il_utf8_valid(l->items[i], strlen(l->items[i]), NULL));
		if (sorted && i > 0)
			REQUIRE(strcmp(l->items[i - 1], l->items[i]) < 0);
	}
}

/*
 * Checks that a status is known and, if it is an error, explained.
 */
static void
check_status(il_parse_status st, const il_error *err)
{
	REQUIRE(st >= IL_PARSE_OK && st <= IL_PARSE_ERR_NOMEM);
	if (st != IL_PARSE_OK)
	{
		REQUIRE(err->message[0] != '\0');
		REQUIRE(err->code != NULL);
		REQUIRE(il_utf8_valid(err->message, strlen(err->message), NULL));
	}
}

/*
 * Checks a guard result: ok when it lists nothing, at most 101 violations
 * sorted by line, column and rule, the 101st (only) a too_many_violations.
 */
static void
check_guard(const il_guard_result *g)
{
	size_t		i;

	REQUIRE(g->ok == (g->n == 0));
	REQUIRE(g->n <= IL_GUARD_MAX_VIOLATIONS + 1);
	for (i = 0; i < g->n; i++)
	{
		const il_violation *v = &g->v[i];

		REQUIRE(v->line >= 1 && v->column >= 1 && strcmp(v->severity, "critical") == 0);
		REQUIRE((strcmp(v->rule, "too_many_violations") == 0) == (i == IL_GUARD_MAX_VIOLATIONS));
		if (i > 0)
		{
			const il_violation *u = &g->v[i - 1];

			REQUIRE(u->line < v->line || (u->line == v->line && u->column < v->column) ||
					(u->line == v->line && u->column == v->column && strcmp(u->rule, v->rule) <= 0));
		}
	}
}

/*
 * Checks a JSON object text: valid UTF-8, braces at both ends.
 */
static void
check_json(const il_buf *b)
{
	REQUIRE(!b->oom);
	REQUIRE(b->len >= 2 && b->data[0] == '{' && b->data[b->len - 1] == '}');
	REQUIRE(il_utf8_valid(b->data, b->len, NULL));
	REQUIRE(memchr(b->data, '\n', b->len) == NULL);
}

/*
 * The normalized text of the tokens, written plainly (the definition in
 * il_fingerprint.h), for comparison with il_fingerprint_text.
 */
static void
reference_text(const char *s, const il_tokens *t, il_buf *out)
{
	size_t		n = t->n;
	size_t		i;
	bool		first = true;

	while (n > 0 && t->tok[n - 1].type == IL_TOK_COMMENT)
		n--;
	if (n > 0 && t->tok[n - 1].type == IL_TOK_SEMI)
		n--;
	for (i = 0; i < n; i++)
	{
		const il_token *k = &t->tok[i];
		const char *p = s + k->off;
		const char *end = p + il_tok_len(k);
		size_t		j;

		if (k->type == IL_TOK_COMMENT)
			continue;
		if (!first)
			il_buf_putc(out, ' ');
		first = false;
		if (k->type == IL_TOK_WORD || k->type == IL_TOK_NUMBER)
		{
			bool		upper = k->type == IL_TOK_NUMBER || k->kw != IL_KW_NONE;

			for (j = 0; j < k->lenm; j++)
			{
				char		c = p[j];

				if (upper && c >= 'a' && c <= 'z')
					c = (char) (c - 32);
				else if (!upper && c >= 'A' && c <= 'Z')
					c = (char) (c + 32);
				il_buf_putc(out, c);
			}
		}
		else if (k->type == IL_TOK_STRING && (k->flags & (IL_TOKF_RAW | IL_TOKF_HEX)))
		{
			il_buf_putc(out, (k->flags & IL_TOKF_RAW) ? 'r' : 'X');
			il_buf_append(out, p + 1, k->lenm - 1);
		}
		else if (k->type == IL_TOK_TEMPLATE)
		{
			/* opener, trim marker, content with whitespace runs collapsed
			 * outside quotes and trimmed at both ends, closer */
			const char *q = p + 2;
			const char *z = end - 2;
			bool		pending = false;

			il_buf_append(out, p, 2);
			if (q < z && *q == '-')
				il_buf_putc(out, *q++);
			while (q < z && strchr(" \t\n\r\f\v", *q))
				q++;
			while (q < z)
			{
				if (strchr(" \t\n\r\f\v", *q))
				{
					pending = true;
					q++;
					continue;
				}
				if (pending && !(*q == '-' && q + 1 == z))
					il_buf_putc(out, ' ');
				pending = false;
				if (*q == '\'' || *q == '"')
				{
					char		quote = *q;

					il_buf_putc(out, *q++);
					while (q < z && *q != quote)
					{
						if (*q == '\\' && q + 1 < z)
							il_buf_putc(out, *q++);
						il_buf_putc(out, *q++);
					}
					if (q < z)
						il_buf_putc(out, *q++);
					continue;
				}
				il_buf_putc(out, *q++);
			}
			il_buf_append(out, z, 2);
		}
		else
			il_buf_append(out, p, il_tok_len(k));
	}
}

/*
 * The model's fingerprint prefix as il_model.h defines it.
 */
static void
reference_prefix(const il_header *h, il_buf *out)
{
	size_t		i;

	il_buf_printf(out, "name=%s\nkind=%s\nmaterialization=%s\ntime_column=%s\nunique_key=",
				  h->name ? h->name : "", il_model_kind_name(h->kind) ? il_model_kind_name(h->kind) : "",
				  il_materialization_name(h->materialization), h->time_column ? h->time_column : "");
	for (i = 0; i < h->unique_key.n; i++)
		il_buf_printf(out, "%s%s", i ? "," : "", h->unique_key.items[i]);
	il_buf_printf(out, "\npartition_by=%s\n\n", h->partition_by ? h->partition_by : "");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *) data;
	il_tokens	all = IL_TOKENS_INIT;
	il_tokens	toks = IL_TOKENS_INIT;
	il_error	err;
	il_error	err2;
	il_parse_status st_all;
	il_parse_status st;
	il_header	h;
	il_refs		refs;
	il_guard_result g;
	il_model	m;
	il_buf		json = IL_BUF_INIT;
	il_buf		json2 = IL_BUF_INIT;
	char		hex[IL_SHA256_HEX_LEN + 1];
	size_t		i;
	size_t		j;
	long long	base;

	/* The lexer, with and without comments. */
	st_all = il_lex(s, size, IL_LEX_KEEP_COMMENTS, &all, &err);
	check_status(st_all, &err);
	check_tokens(s, &all, size, st_all);
	st = il_lex(s, size, 0, &toks, &err2);
	check_status(st, &err2);
	check_tokens(s, &toks, size, st);
	REQUIRE(st == st_all);
	if (st == IL_PARSE_OK)
	{
		for (i = 0, j = 0; i < all.n; i++)
		{
			if (all.tok[i].type == IL_TOK_COMMENT)
				continue;
			REQUIRE(j < toks.n);
			REQUIRE(all.tok[i].off == toks.tok[j].off &&
					il_tok_len(&all.tok[i]) == il_tok_len(&toks.tok[j]) &&
					all.tok[i].type == toks.tok[j].type && all.tok[i].kw == toks.tok[j].kw);
			j++;
		}
		REQUIRE(j == toks.n);
	}
	else
	{
		REQUIRE(err.line == err2.line && err.column == err2.column);
		REQUIRE(strcmp(err.code, err2.code) == 0);
	}

	/* The header parser alone, over any bytes. */
	st = il_header_parse(s, size, &h, &err);
	check_status(st, &err);
	REQUIRE(st == IL_PARSE_OK || st == IL_PARSE_ERR_HEADER || st == IL_PARSE_ERR_ENCODING ||
			st == IL_PARSE_ERR_NOMEM);
	if (st == IL_PARSE_OK)
	{
		REQUIRE(h.name != NULL && h.kind != IL_KIND_NONE);
		check_list(&h.tags, true);
		check_list(&h.dependencies, true);
		check_list(&h.unique_key, false);
	}
	il_header_free(&h);

	/* Extraction, guard and fingerprint over the tokens. */
	if (st_all == IL_PARSE_OK)
	{
		il_buf		scratch = IL_BUF_INIT;

		REQUIRE(il_refs_extract(s, &toks, &refs, &err) == IL_PARSE_OK);
		check_list(&refs.references, true);
		check_list(&refs.targets, true);
		check_list(&refs.refs, true);
		check_list(&refs.paths, true);
		il_refs_free(&refs);

		REQUIRE(il_guard_check_tokens(s, &toks, &g, &err) == IL_PARSE_OK);
		check_guard(&g);
		il_guard_to_json(&g, &json);
		check_json(&json);
		il_guard_free(&g);

		REQUIRE(il_fingerprint_tokens(s, &toks, NULL, 0, &scratch, hex, &err) == IL_PARSE_OK);
		REQUIRE(strlen(hex) == IL_SHA256_HEX_LEN);
		il_buf_reset(&json);
		reference_text(s, &toks, &json);
		REQUIRE(!json.oom && !scratch.oom);
		REQUIRE(json.len == scratch.len && memcmp(json.data ? json.data : "", scratch.data ? scratch.data : "", json.len) == 0);
		il_buf_reset(&json);
		il_buf_free(&scratch);
	}
	il_tokens_free(&all);
	il_tokens_free(&toks);

	/* The whole model, as parse_model asks for it: within the memory bound. */
	base = memcount_start();
	st = il_model_parse(s, size, &m, &err);
	if (st == IL_PARSE_OK)
	{
		il_buf		sized = IL_BUF_INIT;

		il_model_to_json(&m, &sized);
		REQUIRE(sized.len == il_model_json_len(&m) && sized.cap == sized.len + 1);
		il_buf_free(&sized);
	}
	REQUIRE(memcount_peak_since(base) <= MODEL_RATIO * size + MODEL_SLACK);
	check_status(st, &err);
	if (st_all != IL_PARSE_OK)
		REQUIRE(st == st_all);
	if (st == IL_PARSE_OK)
	{
		char	   *more;
		il_model	m2;

		REQUIRE(strlen(m.fingerprint) == IL_SHA256_HEX_LEN);
		for (i = 0; i < IL_SHA256_HEX_LEN; i++)
			REQUIRE((m.fingerprint[i] >= '0' && m.fingerprint[i] <= '9') ||
					(m.fingerprint[i] >= 'a' && m.fingerprint[i] <= 'f'));
		{
			il_tokens	t2 = IL_TOKENS_INIT;
			il_buf		pre = IL_BUF_INIT;
			il_buf		scratch = IL_BUF_INIT;

			REQUIRE(il_lex(s, size, 0, &t2, &err) == IL_PARSE_OK);
			reference_prefix(&m.header, &pre);
			REQUIRE(il_fingerprint_tokens(s, &t2, pre.data, pre.len, &scratch, hex, &err) == IL_PARSE_OK);
			REQUIRE(strcmp(hex, m.fingerprint) == 0);
			il_buf_free(&pre);
			il_buf_free(&scratch);
			il_tokens_free(&t2);
		}
		il_buf_reset(&json);
		il_model_to_json(&m, &json);
		check_json(&json);

		/* Trailing whitespace is cosmetic; parsing is deterministic. */
		more = malloc(size + 2);
		REQUIRE(more != NULL);
		if (size > 0)
			memcpy(more, data, size);
		more[size] = ' ';
		more[size + 1] = '\n';
		REQUIRE(il_model_parse(more, size + 2, &m2, &err) == IL_PARSE_OK);
		REQUIRE(strcmp(m.fingerprint, m2.fingerprint) == 0);
		il_model_to_json(&m2, &json2);
		REQUIRE(json.len == json2.len && memcmp(json.data, json2.data, json.len) == 0);
		il_model_free(&m2);
		free(more);
	}
	il_model_free(&m);

	/* The guard as sql_guard calls it, within the memory bound. */
	il_buf_free(&json);
	base = memcount_start();
	st = il_guard_check(s, size, &g, &err);
	if (st == IL_PARSE_OK)
	{
		il_guard_to_json(&g, &json);
		REQUIRE(json.len == il_guard_json_len(&g) && (json.cap == json.len + 1 || json.cap == 64));
	}
	REQUIRE(memcount_peak_since(base) <= MODEL_RATIO * size + MODEL_SLACK);
	check_status(st, &err);
	if (st == IL_PARSE_OK)
	{
		check_guard(&g);
		check_json(&json);
	}
	il_guard_free(&g);

	/*
	 * One input in eight, repeated to 32 kB or more: memory at a size where
	 * the per-byte bound, not the constant, decides.
	 */
	if (size > 0 && size < SCALE && data[0] % 8 == 0)
	{
		size_t		n = 0;
		char	   *big = malloc(SCALE + size);

		REQUIRE(big != NULL);
		while (n < SCALE)
		{
			memcpy(big + n, data, size);
			n += size;
		}
		base = memcount_start();
		if (il_model_parse(big, n, &m, &err) == IL_PARSE_OK)
			il_model_to_json(&m, &json);
		il_model_free(&m);
		il_buf_free(&json);
		REQUIRE(memcount_peak_since(base) <= MODEL_RATIO * n + SCALE_SLACK);
		base = memcount_start();
		if (il_guard_check(big, n, &g, &err) == IL_PARSE_OK)
			il_guard_to_json(&g, &json);
		il_guard_free(&g);
		il_buf_free(&json);
		REQUIRE(memcount_peak_since(base) <= MODEL_RATIO * n + SCALE_SLACK);
		free(big);
	}

	il_buf_free(&json);
	il_buf_free(&json2);
	return 0;
}
