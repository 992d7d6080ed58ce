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
#include "il_render.h"

#define lengthof_keys(a) (sizeof(a) / sizeof((a)[0]))

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

/* The prefix's pieces, gathered so that most prefixes are one update. */
typedef struct prefix_writer
{
	il_sha256_ctx *ctx;
	size_t		n;
	char		buf[512];
} prefix_writer;

/*
 * Adds s to the prefix.
 */
static void
put_piece(prefix_writer *w, const char *s)
{
	size_t		len = strlen(s);

	if (len > sizeof(w->buf) - w->n)
	{
		il_sha256_update(w->ctx, w->buf, w->n);
		w->n = 0;
		if (len > sizeof(w->buf))
		{
			il_sha256_update(w->ctx, s, len);
			return;
		}
	}
	memcpy(w->buf + w->n, s, len);
	w->n += len;
}

/*
 * Hashes the fingerprint's header prefix:
 * "name=...\nkind=...\nmaterialization=...\ntime_column=...\n"
 * "unique_key=a,b\npartition_by=...\n\n".
 */
static void
hash_prefix(il_sha256_ctx *ctx, const il_header *h)
{
	prefix_writer w;
	size_t		i;

	w.ctx = ctx;
	w.n = 0;
#define PUT(str) put_piece(&w, (str))
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
	il_sha256_update(ctx, w.buf, w.n);
}

/*
 * Parses a model file: lexer, header, references, guard, fingerprint; with
 * edits, also the renderer's edit list, from the same lexing (comments
 * kept, the list without them taken from it).
 * Memory: the tokens (12 bytes each; twice with edits), the header's and
 * the references' lists, and at most IL_GUARD_MAX_VIOLATIONS violations;
 * the fingerprint is hashed as it is normalized, never written out.
 */
il_parse_status
il_model_parse_edits(const char *sql, size_t len, il_model *out, il_buf *edits, il_error *err)
{
	il_tokens	toks = IL_TOKENS_INIT;
	il_tokens	all = IL_TOKENS_INIT;
	il_render_names nm;
	il_parse_status st;

	memset(out, 0, sizeof(*out));
	out->guard.ok = true;
	if (sql == NULL)
		sql = "";
	il_render_names_init(&nm, &toks);
	if (edits != NULL)
		st = il_render_lex(sql, len, &all, &toks, err);
	else
		st = il_lex(sql, len, 0, &toks, err);
	if (st == IL_PARSE_OK)
		st = il_header_parse(sql, len, &out->header, err);
	if (st == IL_PARSE_OK)
		st = il_refs_extract_found(sql, &toks, edits != NULL ? il_render_found : NULL, &nm,
								   &out->refs, err);
	if (st == IL_PARSE_OK && nm.oom)
	{
		il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory while parsing a model");
		st = IL_PARSE_ERR_NOMEM;
	}
	if (st == IL_PARSE_OK)
		st = il_guard_check_tokens(sql, &toks, &out->guard, err);
	if (st == IL_PARSE_OK && edits != NULL &&
		il_render_edits(sql, len, &all, &toks, &nm, &out->guard, edits, err) != 0)
		st = IL_PARSE_ERR_NOMEM;
	il_tokens_free(&all);
	il_render_names_free(&nm);
	if (st == IL_PARSE_OK)
	{
		il_sha256_ctx *ctx = il_sha256_new();
		uint8_t		digest[IL_SHA256_LEN];
		bool		failed = ctx == NULL;

		if (ctx != NULL)
		{
			hash_prefix(ctx, &out->header);
			failed = il_fingerprint_update(ctx, sql, &toks) != 0;
			failed = il_sha256_final(ctx, digest) != 0 || failed;
		}
		if (failed)
		{
			il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory while computing the fingerprint");
			st = IL_PARSE_ERR_NOMEM;
		}
		else
			il_hex_encode(digest, IL_SHA256_LEN, out->fingerprint);
	}
	il_tokens_free(&toks);
	if (st != IL_PARSE_OK)
		il_model_free(out);
	return st;
}

il_parse_status
il_model_parse(const char *sql, size_t len, il_model *out, il_error *err)
{
	return il_model_parse_edits(sql, len, out, NULL, err);
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
 * The length of a JSON array of strings.
 */
static size_t
list_len(const il_strlist *l)
{
	size_t		n = 2;
	size_t		i;

	for (i = 0; i < l->n; i++)
		n += (i > 0) + il_jsonw_cstring_len(l->items[i]);
	return n;
}

/*
 * The length of the parse_model object in canonical form.
 */
size_t
il_model_json_len(const il_model *m)
{
	const il_header *h = &m->header;
	static const char *const keys[] = {
		"dependencies", "fingerprint", "guard", "kind", "materialization", "name", "owner",
		"partition_by", "paths", "references", "refs", "statement", "tags", "targets",
		"time_column", "unique_key"
	};
	size_t		n = 2 + lengthof_keys(keys) - 1;	/* braces and commas */
	size_t		i;

	for (i = 0; i < lengthof_keys(keys); i++)
		n += il_jsonw_key_len(keys[i]);
	n += list_len(&h->dependencies) + il_jsonw_cstring_len(m->fingerprint) +
		il_guard_json_len(&m->guard) + il_jsonw_cstring_len(il_model_kind_name(h->kind)) +
		il_jsonw_cstring_len(il_materialization_name(h->materialization)) +
		il_jsonw_cstring_len(h->name) + il_jsonw_cstring_len(h->owner) +
		il_jsonw_cstring_len(h->partition_by) + list_len(&m->refs.paths) +
		list_len(&m->refs.references) + list_len(&m->refs.refs) +
		il_jsonw_cstring_len(il_stmt_kind_name(m->refs.statement)) + list_len(&h->tags) +
		list_len(&m->refs.targets) + il_jsonw_cstring_len(h->time_column) +
		list_len(&h->unique_key);
	return n;
}

/*
 * Appends the parse_model object, keys in RFC 8785 order, into room
 * reserved once (il_model_json_len).
 */
void
il_model_to_json(const il_model *m, il_buf *out)
{
	const il_header *h = &m->header;

	il_buf_reserve(out, il_model_json_len(m));

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
