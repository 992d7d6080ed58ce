/*-------------------------------------------------------------------------
 *
 * il_record.c
 *	  The parse record of one file: what il_repo_parse_text makes of a
 *	  file's bytes (a model, a skip or an error), how it is written, and
 *	  how the loader decodes it into the arena. The format is in il_repo.h.
 *
 * A record is bytes, checked on every read: it may come from a shared
 * cache, so decoding checks every length and value and rejects what this
 * parser version did not write.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "il_header.h"
#include "il_render.h"
#include "il_repo_int.h"
#include "il_text.h"

/*
 * Appends an unsigned LEB128 varint.
 */
static void
wr_varint(il_buf *b, uint64_t v)
{
	while (v >= 0x80)
	{
		il_buf_putc(b, (char) ((v & 0x7f) | 0x80));
		v >>= 7;
	}
	il_buf_putc(b, (char) v);
}

/*
 * Appends a string: length, bytes.
 */
static void
wr_str(il_buf *b, const char *s)
{
	size_t		n = s ? strlen(s) : 0;

	wr_varint(b, n);
	il_buf_append(b, s ? s : "", n);
}

/*
 * Appends an optional string: 0 for none, else length + 1 and bytes.
 */
static void
wr_ostr(il_buf *b, const char *s)
{
	if (s == NULL)
		wr_varint(b, 0);
	else
	{
		wr_varint(b, strlen(s) + 1);
		il_buf_append(b, s, strlen(s));
	}
}

/*
 * Appends a list: count, strings.
 */
static void
wr_list(il_buf *b, const il_strlist *l)
{
	size_t		i;

	wr_varint(b, l->n);
	for (i = 0; i < l->n; i++)
		wr_str(b, l->items[i]);
}

/*
 * Appends the record header: the parser version and the type.
 */
static void
wr_header(il_buf *b, char type)
{
	wr_str(b, IL_PARSER_VERSION);
	il_buf_putc(b, type);
}

/*
 * Appends an error record.
 */
void
il_record_error(il_buf *b, il_errcode code, const char *pcode, int line, int column, const char *message)
{
	wr_header(b, 'E');
	wr_str(b, il_errcode_name(code));
	wr_str(b, pcode ? pcode : "");
	wr_varint(b, (uint64_t) (line > 0 ? line : 0));
	wr_varint(b, (uint64_t) (column > 0 ? column : 0));
	wr_str(b, message);
}

/* A record being decoded. */
typedef struct rd
{
	const uint8_t *p;
	const uint8_t *end;
	bool		bad;
} rd;

/*
 * Reads a varint (at most 63 bits).
 */
static uint64_t
rd_varint(rd *r)
{
	uint64_t	v = 0;
	int			shift = 0;

	while (!r->bad)
	{
		uint8_t		c;

		if (r->p >= r->end || shift > 56)
		{
			r->bad = true;
			break;
		}
		c = *r->p++;
		v |= (uint64_t) (c & 0x7f) << shift;
		if ((c & 0x80) == 0)
			return v;
		shift += 7;
	}
	return 0;
}

/*
 * Reads one byte.
 */
static int
rd_byte(rd *r)
{
	if (r->bad || r->p >= r->end)
	{
		r->bad = true;
		return 0;
	}
	return *r->p++;
}

/*
 * Reads n bytes of text into the arena (NUL-terminated); the text must be
 * valid UTF-8 without NUL.
 */
static const char *
rd_text(rd *r, il_arena *a, size_t n)
{
	char	   *s;
	size_t		bad;

	if (r->bad || n > (size_t) (r->end - r->p))
	{
		r->bad = true;
		return NULL;
	}
	if (memchr(r->p, '\0', n) != NULL || !il_utf8_valid((const char *) r->p, n, &bad))
	{
		r->bad = true;
		return NULL;
	}
	s = il_arena_alloc(a, n + 1);
	if (s == NULL)
	{
		r->bad = true;
		return NULL;
	}
	memcpy(s, r->p, n);
	s[n] = '\0';
	r->p += n;
	return s;
}

/*
 * Reads a string.
 */
static const char *
rd_str(rd *r, il_arena *a)
{
	uint64_t	n = rd_varint(r);

	return rd_text(r, a, (size_t) n);
}

/*
 * Reads an optional string (NULL for none; check r->bad).
 */
static const char *
rd_ostr(rd *r, il_arena *a)
{
	uint64_t	n = rd_varint(r);

	if (n == 0 || r->bad)
		return NULL;
	return rd_text(r, a, (size_t) (n - 1));
}

/*
 * Reads a list.
 */
static void
rd_list(rd *r, il_arena *a, il_strlist *l)
{
	uint64_t	n = rd_varint(r);
	size_t		i;

	l->items = NULL;
	l->n = 0;
	if (r->bad)
		return;
	if (n > (uint64_t) (r->end - r->p))
	{
		r->bad = true;
		return;
	}
	if (n == 0)
		return;
	l->items = il_arena_alloc(a, (size_t) n * sizeof(char *));
	if (l->items == NULL)
	{
		r->bad = true;
		return;
	}
	for (i = 0; i < n && !r->bad; i++)
		l->items[i] = (char *) rd_str(r, a);
	l->n = r->bad ? 0 : (size_t) n;
}


/*
 * Decodes a record into e, and a model's into *slot (without its path and
 * blob); false when it is not a valid record of this parser version.
 */
bool
il_record_decode(const uint8_t *data, size_t len, il_arena *a, blob_entry *e, il_repo_model *slot)
{
	rd			r = {data, data + len, false};
	uint64_t	vlen = rd_varint(&r);
	int			type;

	memset(e, 0, sizeof(*e));
	if (r.bad || vlen != strlen(IL_PARSER_VERSION) || (size_t) (r.end - r.p) < vlen ||
		memcmp(r.p, IL_PARSER_VERSION, vlen) != 0)
		return false;
	r.p += vlen;
	type = rd_byte(&r);
	if (type == 'M')
	{
		il_repo_model *m = slot;
		uint8_t		raw[IL_SHA256_LEN];
		uint64_t	elen;
		int			kind,
					mat,
					stmt,
					guard;
		size_t		i;

		memset(m, 0, sizeof(*m));
		e->m = m;
		m->name = rd_str(&r, a);
		kind = rd_byte(&r);
		mat = rd_byte(&r);
		stmt = rd_byte(&r);
		guard = rd_byte(&r);
		m->time_column = rd_ostr(&r, a);
		m->partition_by = rd_ostr(&r, a);
		rd_list(&r, a, &m->unique_key);
		if (r.bad || kind < IL_KIND_FULL_REFRESH || kind > IL_KIND_MERGE_BY_KEY ||
			mat < IL_MAT_TABLE || mat > IL_MAT_INSERT_OVERWRITE ||
			stmt < IL_STMT_NONE || stmt > IL_STMT_OTHER || guard > 1 ||
			m->name == NULL || m->name[0] == '\0' || (size_t) (r.end - r.p) < 2 * IL_SHA256_LEN)
			return false;
		memcpy(raw, r.p, IL_SHA256_LEN);
		il_hex_encode(raw, IL_SHA256_LEN, m->fingerprint);
		memcpy(raw, r.p + IL_SHA256_LEN, IL_SHA256_LEN);
		il_hex_encode(raw, IL_SHA256_LEN, m->sql_sha256);
		r.p += 2 * IL_SHA256_LEN;
		rd_list(&r, a, &m->references);
		rd_list(&r, a, &m->refs);
		rd_list(&r, a, &m->dependencies);
		elen = rd_varint(&r);
		if (r.bad || elen > (uint64_t) (r.end - r.p) ||
			!il_render_edits_valid(r.p, (size_t) elen))
			return false;
		if (elen > 0)
		{
			uint8_t    *ed = il_arena_alloc(a, (size_t) elen);

			if (ed == NULL)
				return false;
			memcpy(ed, r.p, (size_t) elen);
			m->render_edits = ed;
		}
		m->render_edits_len = (size_t) elen;
		r.p += elen;
		m->kind = (il_model_kind) kind;
		m->materialization = (il_materialization) mat;
		m->kind_name = il_model_kind_name(m->kind);
		m->materialization_name = il_materialization_name(m->materialization);
		m->statement = (il_stmt_kind) stmt;
		m->guard_ok = guard == 1;
		if (m->unique_key.n > 0)
		{
			size_t		total = 0;
			char	   *t;

			for (i = 0; i < m->unique_key.n; i++)
				total += strlen(m->unique_key.items[i]) + 1;
			t = il_arena_alloc(a, total);
			if (t == NULL)
				return false;
			t[0] = '\0';
			m->unique_key_text = t;
			for (i = 0; i < m->unique_key.n; i++)
			{
				size_t		n = strlen(m->unique_key.items[i]);

				if (i > 0)
					*t++ = ',';
				memcpy(t, m->unique_key.items[i], n + 1);
				t += n;
			}
		}
	}
	else if (type == 'S')
	{
		e->reason = rd_str(&r, a);
		if (e->reason == NULL)
			return false;
	}
	else if (type == 'E')
	{
		uint64_t	line,
					col;

		e->code = rd_str(&r, a);
		e->pcode = rd_str(&r, a);
		line = rd_varint(&r);
		col = rd_varint(&r);
		e->message = rd_str(&r, a);
		if (r.bad || line > 0x7fffffff || col > 0x7fffffff || e->code == NULL || e->code[0] == '\0')
			return false;
		e->line = (int) line;
		e->column = (int) col;
	}
	else
		return false;
	if (r.bad || r.p != r.end)
		return false;
	e->type = (char) type;
	return true;
}

/* ---- parsing one file ---- */

/*
 * The 1-based line and column (in characters) of byte offset off.
 */
static void
position_of(const char *data, size_t off, int *line, int *column)
{
	*line = 1;
	*column = 1;
	il_text_advance(data, 0, off, line, column);
}

/*
 * The value of a lower-case hex digit.
 */
static int
hex_value(char c)
{
	return c <= '9' ? c - '0' : c - 'a' + 10;
}

/*
 * Parses one file's bytes into a record.
 */
int
il_repo_parse_text(const char *data, size_t len, il_buf *record, il_error *err)
{
	const char *nul;
	size_t		bad = 0;
	int			line;
	int			column;
	il_model	m;
	il_parse_status st;
	uint8_t		digest[IL_SHA256_LEN];
	uint8_t		raw[IL_SHA256_LEN];
	size_t		i;

	il_error_clear(err);
	if (data == NULL)
		data = "";
	nul = memchr(data, '\0', len);
	if (nul != NULL)
	{
		position_of(data, (size_t) (nul - data), &line, &column);
		il_record_error(record, IL_ERR_BINARY_FILE, il_errcode_name(IL_ERR_NUL_BYTE), line, column,
				 "the file is binary (it has a nul byte), not a model: remove it or rename it so it does not end in .sql");
	}
	else if (!il_utf8_valid(data, len, &bad))
	{
		position_of(data, bad, &line, &column);
		il_record_error(record, IL_ERR_BINARY_FILE, il_errcode_name(IL_ERR_INVALID_UTF8), line, column,
				 "the file is not valid utf-8 text: save it as utf-8");
	}
	else if (!il_header_has_directive(data, len))
	{
		wr_header(record, 'S');
		wr_str(record, "no header directive");
	}
	else
	{
		il_error	perr;
		il_buf		edits;

		il_error_clear(&perr);
		il_buf_init(&edits);
		st = il_model_parse_edits(data, len, &m, &edits, &perr);
		if (st == IL_PARSE_ERR_NOMEM || edits.oom)
		{
			il_model_free(&m);
			il_buf_free(&edits);
			il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory while parsing a model");
			return -1;
		}
		if (st != IL_PARSE_OK)
			il_record_error(record,
					 st == IL_PARSE_ERR_HEADER ? IL_ERR_INVALID_HEADER :
					 st == IL_PARSE_ERR_SYNTAX ? IL_ERR_SYNTAX_ERROR :
					 st == IL_PARSE_ERR_ENCODING ? IL_ERR_BINARY_FILE : IL_ERR_PARSE_LIMIT,
					 perr.code, perr.line, perr.column, perr.message);
		else if (il_sha256(data, len, digest) != 0)
		{
			il_model_free(&m);
			il_buf_free(&edits);
			il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "cannot compute sha-256 of a model");
			return -1;
		}
		else
		{
			wr_header(record, 'M');
			wr_str(record, m.header.name);
			il_buf_putc(record, (char) m.header.kind);
			il_buf_putc(record, (char) m.header.materialization);
			il_buf_putc(record, (char) m.refs.statement);
			il_buf_putc(record, (char) (m.guard.ok ? 1 : 0));
			wr_ostr(record, m.header.time_column);
			wr_ostr(record, m.header.partition_by);
			wr_list(record, &m.header.unique_key);
			for (i = 0; i < IL_SHA256_LEN; i++)
				raw[i] = (uint8_t) (hex_value(m.fingerprint[2 * i]) << 4 | hex_value(m.fingerprint[2 * i + 1]));
			il_buf_append(record, raw, IL_SHA256_LEN);
			il_buf_append(record, digest, IL_SHA256_LEN);
			wr_list(record, &m.refs.references);
			wr_list(record, &m.refs.refs);
			wr_list(record, &m.header.dependencies);
			wr_varint(record, edits.len);
			if (edits.len > 0)
				il_buf_append(record, edits.data, edits.len);
		}
		il_model_free(&m);
		il_buf_free(&edits);
	}
	if (record->oom)
	{
		il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory while writing a parse record");
		return -1;
	}
	return 0;
}
