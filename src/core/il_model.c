/*-------------------------------------------------------------------------
 *
 * il_model.c
 *	  One model file, parsed; see il_model.h.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "il_fingerprint.h"
#include "il_jsonw.h"
#include "il_model.h"

/*
 * Frees a parsed model and leaves it empty.
 */
void
il_model_free(il_model *m)
{
	il_header_free(&m->header);
	il_refs_free(&m->refs);
	il_guard_free(&m->guard);
	m->fingerprint[0] = '\0';
}

/* Room left before the normalized text for the fingerprint's header prefix. */
#define PREFIX_ROOM 512

/*
 * Writes s at d (when d is not NULL); returns its length.
 */
static size_t
put_str(char *d, const char *s)
{
	size_t		n = strlen(s);

	if (d != NULL)
		memcpy(d, s, n);
	return n;
}

/*
 * Writes the fingerprint's header prefix at d (when d is not NULL, with
 * room for it) and returns its length:
 * "name=...\nkind=...\nmaterialization=...\ntime_column=...\n"
 * "unique_key=a,b\npartition_by=...\n\n".
 */
static size_t
header_prefix(const il_header *h, char *d)
{
	size_t		n = 0;
	size_t		i;

#define PUT(str) (n += put_str(d ? d + n : NULL, (str)))
	PUT("name=");
	PUT(h->name ? h->name : "");
	PUT("\nkind=");
	PUT(il_model_kind_name(h->kind) ? il_model_kind_name(h->kind) : "");
	PUT("\nmaterialization=");
	PUT(il_materialization_name(h->materialization));
	PUT("\ntime_column=");
	PUT(h->time_column ? h->time_column : "");
	PUT("\nunique_key=");
	for (i = 0; i < h->unique_key.n; i++)
	{
		if (i > 0)
			PUT(",");
		PUT(h->unique_key.items[i]);
	}
	PUT("\npartition_by=");
	PUT(h->partition_by ? h->partition_by : "");
	PUT("\n\n");
#undef PUT
	return n;
}

/*
 * Parses a model file: lexer, header, references, guard, fingerprint.
 */
il_parse_status
il_model_parse(const char *sql, size_t len, il_model *out, il_error *err)
{
	il_tokens	toks = IL_TOKENS_INIT;
	il_buf		text = IL_BUF_INIT;
	il_parse_status st;

	memset(out, 0, sizeof(*out));
	out->guard.ok = true;
	if (sql == NULL)
		sql = "";
	/* The normalized text will go after room for the header prefix. */
	if (!il_buf_reserve(&text, PREFIX_ROOM + len + len / 8 + 64))
	{
		il_error_set(err, "out_of_memory", 0, 0, "out of memory while parsing the model");
		return IL_PARSE_ERR_NOMEM;
	}
	text.len = PREFIX_ROOM;
	st = il_lex(sql, len, 0, &toks, err);
	if (st == IL_PARSE_OK)
		st = il_header_parse(sql, len, &out->header, err);
	if (st == IL_PARSE_OK)
		st = il_refs_extract(sql, &toks, &out->refs, err);
	if (st == IL_PARSE_OK)
		st = il_guard_check_tokens(sql, &toks, &out->guard, err);
	if (st == IL_PARSE_OK)
	{
		size_t		plen;
		const char *hashed;
		size_t		hashed_len;
		il_buf		joined = IL_BUF_INIT;

		il_fingerprint_text(sql, &toks, &text);
		plen = header_prefix(&out->header, NULL);
		if (text.oom)
		{
			hashed = NULL;
			hashed_len = 0;
		}
		else if (plen <= PREFIX_ROOM)
		{
			header_prefix(&out->header, text.data + PREFIX_ROOM - plen);
			hashed = text.data + PREFIX_ROOM - plen;
			hashed_len = text.len - (PREFIX_ROOM - plen);
		}
		else if (il_buf_reserve(&joined, plen + text.len - PREFIX_ROOM))
		{
			header_prefix(&out->header, joined.data);
			memcpy(joined.data + plen, text.data + PREFIX_ROOM, text.len - PREFIX_ROOM);
			joined.len = plen + text.len - PREFIX_ROOM;
			hashed = joined.data;
			hashed_len = joined.len;
		}
		else
		{
			hashed = NULL;
			hashed_len = 0;
		}
		if (hashed == NULL || il_sha256_hex(hashed, hashed_len, out->fingerprint) != 0)
		{
			il_error_set(err, "out_of_memory", 0, 0, "out of memory while computing the fingerprint");
			st = IL_PARSE_ERR_NOMEM;
		}
		il_buf_free(&joined);
	}
	il_tokens_free(&toks);
	il_buf_free(&text);
	if (st != IL_PARSE_OK)
		il_model_free(out);
	return st;
}

/*
 * Appends a JSON array of strings.
 */
static void
put_list(il_buf *b, const il_strlist *l)
{
	size_t		i;

	il_buf_putc(b, '[');
	for (i = 0; i < l->n; i++)
	{
		if (i > 0)
			il_buf_putc(b, ',');
		il_jsonw_cstring(b, l->items[i]);
	}
	il_buf_putc(b, ']');
}

/*
 * Appends the parse_model object, keys in RFC 8785 order.
 */
void
il_model_to_json(const il_model *m, il_buf *out)
{
	const il_header *h = &m->header;

	il_buf_putc(out, '{');
	il_jsonw_key(out, "dependencies");
	put_list(out, &h->dependencies);
	il_buf_putc(out, ',');
	il_jsonw_key(out, "fingerprint");
	il_jsonw_cstring(out, m->fingerprint);
	il_buf_putc(out, ',');
	il_jsonw_key(out, "guard");
	il_guard_to_json(&m->guard, out);
	il_buf_putc(out, ',');
	il_jsonw_key(out, "kind");
	il_jsonw_cstring(out, il_model_kind_name(h->kind));
	il_buf_putc(out, ',');
	il_jsonw_key(out, "materialization");
	il_jsonw_cstring(out, il_materialization_name(h->materialization));
	il_buf_putc(out, ',');
	il_jsonw_key(out, "name");
	il_jsonw_cstring(out, h->name);
	il_buf_putc(out, ',');
	il_jsonw_key(out, "owner");
	il_jsonw_cstring(out, h->owner);
	il_buf_putc(out, ',');
	il_jsonw_key(out, "partition_by");
	il_jsonw_cstring(out, h->partition_by);
	il_buf_putc(out, ',');
	il_jsonw_key(out, "paths");
	put_list(out, &m->refs.paths);
	il_buf_putc(out, ',');
	il_jsonw_key(out, "references");
	put_list(out, &m->refs.references);
	il_buf_putc(out, ',');
	il_jsonw_key(out, "refs");
	put_list(out, &m->refs.refs);
	il_buf_putc(out, ',');
	il_jsonw_key(out, "statement");
	il_jsonw_cstring(out, il_stmt_kind_name(m->refs.statement));
	il_buf_putc(out, ',');
	il_jsonw_key(out, "tags");
	put_list(out, &h->tags);
	il_buf_putc(out, ',');
	il_jsonw_key(out, "targets");
	put_list(out, &m->refs.targets);
	il_buf_putc(out, ',');
	il_jsonw_key(out, "time_column");
	il_jsonw_cstring(out, h->time_column);
	il_buf_putc(out, ',');
	il_jsonw_key(out, "unique_key");
	put_list(out, &h->unique_key);
	il_buf_putc(out, '}');
}

/*
 * Appends an error with its position.
 */
void
il_model_error_text(const il_error *err, il_buf *out)
{
	if (err->line > 0 && err->column > 0)
		il_buf_printf(out, "line %d, column %d: %s", err->line, err->column, err->message);
	else if (err->line > 0)
		il_buf_printf(out, "line %d: %s", err->line, err->message);
	else
		il_buf_puts(out, err->message);
}
