/*-------------------------------------------------------------------------
 *
 * il_dbx_api.c
 *	  The Databricks SQL Statement Execution API 2.0 without the network:
 *	  request bodies and URLs, answer parsers, the retry policy
 *	  (il_dbx_api.h says what each promises).
 *
 * JSON is read with il_jcs (the core's one parser) and written with
 * il_jsonw. Nothing here keeps state between calls.
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "il_b64.h"
#include "il_dbx_api.h"
#include "il_jcs.h"
#include "il_jsonw.h"
#include "il_text.h"

#define DBX_TAG_KEY "ironlayer_request_id"

/* ---------------------------------------------------------------- states */

static const char *const dbx_state_names[] = {
	"UNKNOWN", "PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELED", "CLOSED"
};

const char *
il_dbx_state_name(il_dbx_state s)
{
	if ((int) s < 0 || (size_t) s >= sizeof(dbx_state_names) / sizeof(dbx_state_names[0]))
		return "UNKNOWN";
	return dbx_state_names[s];
}

bool
il_dbx_state_terminal(il_dbx_state s)
{
	return s == IL_DBX_STATE_SUCCEEDED || s == IL_DBX_STATE_FAILED ||
		s == IL_DBX_STATE_CANCELED || s == IL_DBX_STATE_CLOSED;
}

static il_dbx_state
dbx_state_parse(const char *s)
{
	size_t		i;

	if (s == NULL)
		return IL_DBX_STATE_UNKNOWN;
	for (i = 1; i < sizeof(dbx_state_names) / sizeof(dbx_state_names[0]); i++)
	{
		if (strcmp(s, dbx_state_names[i]) == 0)
			return (il_dbx_state) i;
	}
	return IL_DBX_STATE_UNKNOWN;
}

/* ------------------------------------------------------------ text helpers */

/* The kind of v; NULL (an absent member) reads as JSON null. */
static il_jcs_kind
dbx_kind(const il_jcs_value *v)
{
	return v == NULL ? IL_JCS_NULL : il_jcs_kind_of(v);
}

/*
 * dbx_copy_text
 *		Copies src[0..len) into dst (cap bytes, NUL-terminated): bytes that
 *		are not UTF-8 become '?', control characters other than newline
 *		and tab become ' ', and the copy stops before a character that
 *		does not fit whole.
 */
static void
dbx_copy_text(char *dst, size_t cap, const char *src, size_t len)
{
	const unsigned char *s = (const unsigned char *) src;
	size_t		i = 0;
	size_t		o = 0;

	if (cap == 0)
		return;
	while (i < len)
	{
		size_t		n;
		bool		ok;

		if (s[i] < 0x80)
			n = 1;
		else if (s[i] >= 0xc2 && s[i] <= 0xdf)
			n = 2;
		else if (s[i] >= 0xe0 && s[i] <= 0xef)
			n = 3;
		else if (s[i] >= 0xf0 && s[i] <= 0xf4)
			n = 4;
		else
			n = 0;
		ok = n > 0 && i + n <= len && il_utf8_valid(src + i, n, NULL);
		if (!ok)
			n = 1;
		if (o + (ok ? n : 1) >= cap)
			break;
		if (!ok)
			dst[o++] = '?';
		else if (n == 1 && (s[i] < 0x20 || s[i] == 0x7f) && s[i] != '\n' && s[i] != '\t')
			dst[o++] = ' ';
		else
		{
			memcpy(dst + o, src + i, n);
			o += n;
		}
		i += n;
	}
	dst[o] = '\0';
}

static bool
dbx_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* dbx_copy_trimmed: dbx_copy_text of src without white space around it. */
static void
dbx_copy_trimmed(char *dst, size_t cap, const char *src, size_t len)
{
	while (len > 0 && dbx_is_space(src[0]))
	{
		src++;
		len--;
	}
	while (len > 0 && dbx_is_space(src[len - 1]))
		len--;
	dbx_copy_text(dst, cap, src, len);
}

/* An id of 1..IL_DBX_ID_MAX-1 characters of [A-Za-z0-9_-]. */
static bool
dbx_id_valid(const char *s, size_t len)
{
	size_t		i;

	if (s == NULL || len == 0 || len >= IL_DBX_ID_MAX)
		return false;
	for (i = 0; i < len; i++)
	{
		char		c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return true;
}

/* A UUID: 8-4-4-4-12 hex digits, either case. */
static bool
dbx_uuid_valid(const char *s)
{
	size_t		i;

	if (s == NULL || strlen(s) != 36)
		return false;
	for (i = 0; i < 36; i++)
	{
		if (i == 8 || i == 13 || i == 18 || i == 23)
		{
			if (s[i] != '-')
				return false;
		}
		else if (il_hex_value(s[i]) < 0)
			return false;
	}
	return true;
}

static void
dbx_lower(char *dst, const char *src, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
		dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? (char) (src[i] - 'A' + 'a') : src[i];
	dst[n] = '\0';
}

static bool
dbx_utf8(const char *s)
{
	return s != NULL && il_utf8_valid(s, strlen(s), NULL);
}

/* -------------------------------------------------------------- requests */

void
il_dbx_request_comment(il_buf *out, const char *request_id)
{
	char		id[37];

	dbx_lower(id, request_id, strlen(request_id) < 36 ? strlen(request_id) : 36);
	il_buf_puts(out, "/* " DBX_TAG_KEY "=");
	il_buf_puts(out, id);
	il_buf_puts(out, " */");
}

int
il_dbx_statement_body(const il_dbx_statement_req *req, il_buf *out, il_error *err)
{
	il_buf		b = IL_BUF_INIT;
	il_buf		stmt = IL_BUF_INIT;
	char		id[37];
	const char *owt;

	if (req->warehouse_id == NULL || req->warehouse_id[0] == '\0' || req->statement == NULL)
	{
		il_error_set(err, IL_ERR_DBX_BAD_REQUEST, 0, 0,
					 "a statement request needs a warehouse id and a statement");
		return -1;
	}
	if (!dbx_uuid_valid(req->request_id))
	{
		il_error_set(err, IL_ERR_DBX_BAD_REQUEST, 0, 0, "the request id is not a UUID");
		return -1;
	}
	owt = req->on_wait_timeout ? req->on_wait_timeout : "CONTINUE";
	if (!dbx_utf8(req->warehouse_id) || !dbx_utf8(req->statement) || !dbx_utf8(owt) ||
		(req->catalog != NULL && !dbx_utf8(req->catalog)))
	{
		il_error_set(err, IL_ERR_DBX_BAD_REQUEST, 0, 0,
					 "a statement request holds text that is not UTF-8");
		return -1;
	}
	dbx_lower(id, req->request_id, 36);

	il_dbx_request_comment(&stmt, id);
	il_buf_putc(&stmt, '\n');
	il_buf_puts(&stmt, req->statement);

	il_buf_putc(&b, '{');
	if (req->catalog != NULL && req->catalog[0] != '\0')
	{
		il_jsonw_key(&b, "catalog");
		il_jsonw_cstring(&b, req->catalog);
		il_buf_putc(&b, ',');
	}
	il_jsonw_key(&b, "disposition");
	il_jsonw_cstring(&b, "INLINE");
	il_buf_putc(&b, ',');
	il_jsonw_key(&b, "format");
	il_jsonw_cstring(&b, "JSON_ARRAY");
	il_buf_putc(&b, ',');
	il_jsonw_key(&b, "on_wait_timeout");
	il_jsonw_cstring(&b, owt);
	il_buf_putc(&b, ',');
	il_jsonw_key(&b, "query_tags");
	il_buf_puts(&b, "[{");
	il_jsonw_key(&b, "key");
	il_jsonw_cstring(&b, DBX_TAG_KEY);
	il_buf_putc(&b, ',');
	il_jsonw_key(&b, "value");
	il_jsonw_cstring(&b, id);
	il_buf_puts(&b, "}],");
	il_jsonw_key(&b, "statement");
	il_jsonw_string(&b, stmt.data, stmt.len);
	il_buf_putc(&b, ',');
	il_jsonw_key(&b, "wait_timeout");
	il_jsonw_cstring(&b, "0s");
	il_buf_putc(&b, ',');
	il_jsonw_key(&b, "warehouse_id");
	il_jsonw_cstring(&b, req->warehouse_id);
	il_buf_putc(&b, '}');

	if (b.oom || stmt.oom)
	{
		il_buf_free(&b);
		il_buf_free(&stmt);
		il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory writing a statement request");
		return -1;
	}
	il_buf_append(out, b.data, b.len);
	il_buf_free(&b);
	il_buf_free(&stmt);
	if (out->oom)
	{
		il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory writing a statement request");
		return -1;
	}
	return 0;
}

/* The workspace URL without trailing slashes; -1 when it is not a URL. */
static int
dbx_base(const char *base, size_t *len, il_error *err)
{
	size_t		n;
	size_t		i;

	if (base == NULL || (strncmp(base, "https://", 8) != 0 && strncmp(base, "http://", 7) != 0))
	{
		il_error_set(err, IL_ERR_DBX_BAD_REQUEST, 0, 0,
					 "a workspace URL must start with https:// (or http:// in tests)");
		return -1;
	}
	n = strlen(base);
	for (i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) base[i];

		if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#')
		{
			il_error_set(err, IL_ERR_DBX_BAD_REQUEST, 0, 0,
						 "a workspace URL must be printable ASCII without a query or fragment");
			return -1;
		}
	}
	while (n > 0 && base[n - 1] == '/')
		n--;
	*len = n;
	return 0;
}

int
il_dbx_url(const char *base, il_dbx_route route, const char *statement_id,
		   il_buf *out, il_error *err)
{
	size_t		n;

	if (dbx_base(base, &n, err) != 0)
		return -1;
	if (route != IL_DBX_ROUTE_SUBMIT &&
		(statement_id == NULL || !dbx_id_valid(statement_id, strlen(statement_id))))
	{
		il_error_set(err, IL_ERR_DBX_BAD_REQUEST, 0, 0,
					 "a statement id must be 1 to 127 characters of letters, digits, '-' and '_'");
		return -1;
	}
	il_buf_append(out, base, n);
	il_buf_puts(out, "/api/2.0/sql/statements");
	if (route != IL_DBX_ROUTE_SUBMIT)
	{
		il_buf_putc(out, '/');
		il_buf_puts(out, statement_id);
		if (route == IL_DBX_ROUTE_CANCEL)
			il_buf_puts(out, "/cancel");
	}
	if (out->oom)
	{
		il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory writing a URL");
		return -1;
	}
	return 0;
}

/* Percent-encodes everything but RFC 3986's unreserved characters. */
static void
dbx_percent(il_buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			c == '-' || c == '_' || c == '.' || c == '~')
			il_buf_putc(out, (char) c);
		else
		{
			char		e[3] = {'%', hex[c >> 4], hex[c & 15]};

			il_buf_append(out, e, 3);
		}
	}
}

int
il_dbx_history_url(const char *base, const char *warehouse_id,
				   int64_t start_time_ms, int64_t end_time_ms,
				   int max_results, const char *page_token,
				   il_buf *out, il_error *err)
{
	size_t		n;

	if (dbx_base(base, &n, err) != 0)
		return -1;
	if (warehouse_id == NULL || !dbx_id_valid(warehouse_id, strlen(warehouse_id)) ||
		start_time_ms < 0 || end_time_ms < start_time_ms || max_results < 1 || max_results > 1000)
	{
		il_error_set(err, IL_ERR_DBX_BAD_REQUEST, 0, 0,
					 "a history request needs a warehouse id, a time range in order and 1 to 1000 results");
		return -1;
	}
	il_buf_append(out, base, n);
	il_buf_puts(out, "/api/2.0/sql/history/queries?filter_by.warehouse_ids=");
	il_buf_puts(out, warehouse_id);
	il_buf_printf(out, "&filter_by.query_start_time_range.start_time_ms=%" PRId64
				  "&filter_by.query_start_time_range.end_time_ms=%" PRId64
				  "&max_results=%d&include_metrics=false",
				  start_time_ms, end_time_ms, max_results);
	if (page_token != NULL && page_token[0] != '\0')
	{
		il_buf_puts(out, "&page_token=");
		dbx_percent(out, page_token);
	}
	if (out->oom)
	{
		il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory writing a URL");
		return -1;
	}
	return 0;
}

int
il_dbx_token_request(const char *base, const char *client_id,
					 const char *client_secret, il_buf *url,
					 il_buf *authorization, il_buf *body, il_error *err)
{
	il_buf		pair = IL_BUF_INIT;
	size_t		n;
	const char *p;

	if (dbx_base(base, &n, err) != 0)
		return -1;
	if (client_id == NULL || client_secret == NULL || client_id[0] == '\0' ||
		client_secret[0] == '\0' || strchr(client_id, ':') != NULL)
	{
		il_error_set(err, IL_ERR_DBX_BAD_REQUEST, 0, 0,
					 "an OAuth credential needs a client id without ':' and a client secret");
		return -1;
	}
	for (p = client_id; *p; p++)
		if ((unsigned char) *p < 0x20 || *p == 0x7f)
			break;
	if (*p == '\0')
		for (p = client_secret; *p; p++)
			if ((unsigned char) *p < 0x20 || *p == 0x7f)
				break;
	if (*p != '\0')
	{
		il_error_set(err, IL_ERR_DBX_BAD_REQUEST, 0, 0,
					 "an OAuth credential holds a control character");
		return -1;
	}
	il_buf_append(url, base, n);
	il_buf_puts(url, "/oidc/v1/token");
	il_buf_puts(&pair, client_id);
	il_buf_putc(&pair, ':');
	il_buf_puts(&pair, client_secret);
	il_buf_puts(authorization, "Authorization: Basic ");
	if (!pair.oom)
		il_b64_encode(authorization, (const uint8_t *) pair.data, pair.len, IL_B64_STD);
	il_buf_puts(body, "grant_type=client_credentials&scope=all-apis");
	if (pair.data != NULL)
		explicit_bzero(pair.data, pair.cap);
	if (pair.oom || url->oom || authorization->oom || body->oom)
	{
		il_buf_free(&pair);
		il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory writing a token request");
		return -1;
	}
	il_buf_free(&pair);
	return 0;
}

/* --------------------------------------------------------------- answers */

/*
 * dbx_parse_json
 *		The parsed body, or NULL with err dbx_bad_answer (what) when it is
 *		too large, not JSON or not an object.
 */
/*
 * More JSON values in body[0..len) than IL_DBX_MAX_VALUES? Every value but
 * the first follows a "[", "{" or "," outside strings, so counting those
 * bounds the nodes il_jcs_parse would make, in one pass without memory.
 */
static bool
dbx_too_many_values(const char *body, size_t len)
{
	size_t		n = 1;
	bool		in_string = false;
	size_t		i;

	for (i = 0; i < len; i++)
	{
		char		c = body[i];

		if (in_string)
		{
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
		}
		else if (c == '"')
			in_string = true;
		else if ((c == '[' || c == '{' || c == ',') && ++n > IL_DBX_MAX_VALUES)
			return true;
	}
	return false;
}

static il_jcs_doc *
dbx_parse_json(const char *body, size_t len, const char *what, il_error *err)
{
	il_jcs_doc *doc;
	il_error	perr;

	if (len > IL_DBX_MAX_JSON)
	{
		il_error_set(err, IL_ERR_DBX_BAD_ANSWER, 0, 0,
					 "%s of %zu bytes is over the limit of %zu bytes", what, len, IL_DBX_MAX_JSON);
		return NULL;
	}
	if (body != NULL && dbx_too_many_values(body, len))
	{
		il_error_set(err, IL_ERR_DBX_BAD_ANSWER, 0, 0,
					 "%s holds more than %zu JSON values", what, IL_DBX_MAX_VALUES);
		return NULL;
	}
	il_error_clear(&perr);
	doc = il_jcs_parse(body ? body : "", body ? len : 0, &perr);
	if (doc == NULL)
	{
		if (il_error_is(&perr, IL_ERR_OUT_OF_MEMORY))
			il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory reading %s", what);
		else
			il_error_set(err, IL_ERR_DBX_BAD_ANSWER, perr.line, perr.column,
						 "%s is not JSON: %s", what, perr.message);
		return NULL;
	}
	if (dbx_kind(il_jcs_root(doc)) != IL_JCS_OBJECT)
	{
		il_jcs_free(doc);
		il_error_set(err, IL_ERR_DBX_BAD_ANSWER, 0, 0, "%s is not a JSON object", what);
		return NULL;
	}
	return doc;
}

/*
 * dbx_int64
 *		A non-negative int64 from a JSON number (integral, below 2^63) or a
 *		string of decimal digits; -1 otherwise.
 */
static int64_t
dbx_int64(const il_jcs_value *v)
{
	if (v == NULL)
		return -1;
	if (dbx_kind(v) == IL_JCS_NUMBER)
	{
		double		d = il_jcs_number(v);

		if (d >= 0 && d < 9223372036854775808.0 && d == floor(d))
			return (int64_t) d;
		return -1;
	}
	if (dbx_kind(v) == IL_JCS_STRING)
	{
		size_t		len;
		const char *s = il_jcs_string(v, &len);
		int64_t		r = 0;
		size_t		i;

		if (len == 0 || len > 19)
			return -1;
		for (i = 0; i < len; i++)
		{
			if (s[i] < '0' || s[i] > '9')
				return -1;
			if (r > (INT64_MAX - (s[i] - '0')) / 10)
				return -1;
			r = r * 10 + (s[i] - '0');
		}
		return r;
	}
	return -1;
}

/* Copies a string member (trimmed), or a number's canonical text, into dst. */
static void
dbx_copy_value(char *dst, size_t cap, const il_jcs_value *v)
{
	size_t		len;
	const char *s;

	dst[0] = '\0';
	if (v == NULL)
		return;
	if (dbx_kind(v) == IL_JCS_STRING)
	{
		s = il_jcs_string(v, &len);
		dbx_copy_trimmed(dst, cap, s, len);
	}
	else if (dbx_kind(v) == IL_JCS_NUMBER)
	{
		il_buf		b = IL_BUF_INIT;

		il_jcs_write(&b, v);
		if (!b.oom)
			dbx_copy_text(dst, cap, b.data, b.len);
		il_buf_free(&b);
	}
}

/* The class of a message "[CLASS] text" (after white space), or "". */
static void
dbx_error_class(char *dst, size_t cap, const char *msg)
{
	const char *p = msg;
	size_t		n = 0;

	dst[0] = '\0';
	while (dbx_is_space(*p))
		p++;
	if (*p != '[')
		return;
	p++;
	while ((p[n] >= 'A' && p[n] <= 'Z') || (p[n] >= '0' && p[n] <= '9') ||
		   p[n] == '_' || p[n] == '.')
		n++;
	if (n == 0 || p[n] != ']' || n >= cap)
		return;
	memcpy(dst, p, n);
	dst[n] = '\0';
}

/* The rows the result's first row reports in num_affected_rows (else num_inserted_rows). */
static int64_t
dbx_rows_affected(const il_jcs_value *root)
{
	const il_jcs_value *cols = il_jcs_get(il_jcs_get(il_jcs_get(root, "manifest"), "schema"), "columns");
	const il_jcs_value *row = il_jcs_at(il_jcs_get(il_jcs_get(root, "result"), "data_array"), 0);
	static const char *const wanted[] = {"num_affected_rows", "num_inserted_rows"};
	size_t		w;

	if (dbx_kind(cols) != IL_JCS_ARRAY || dbx_kind(row) != IL_JCS_ARRAY)
		return -1;
	for (w = 0; w < 2; w++)
	{
		const il_jcs_value *c;
		size_t		i = 0;

		for (c = il_jcs_first(cols); c != NULL; c = il_jcs_next(c), i++)
		{
			const char *name = il_jcs_string(il_jcs_get(c, "name"), NULL);
			int64_t		pos;

			if (name == NULL || strcmp(name, wanted[w]) != 0)
				continue;
			/* position when given, else the column's index */
			pos = dbx_int64(il_jcs_get(c, "position"));
			if (pos < 0)
				pos = (int64_t) i;
			if ((uint64_t) pos >= il_jcs_count(row))
				return -1;
			return dbx_int64(il_jcs_at(row, (size_t) pos));
		}
	}
	return -1;
}

int
il_dbx_parse_statement(const char *body, size_t len, il_dbx_statement *out, il_error *err)
{
	il_jcs_doc *doc;
	const il_jcs_value *root;
	const il_jcs_value *status;
	const il_jcs_value *error;
	const il_jcs_value *v;
	const il_jcs_value *manifest;
	const char *state;
	size_t		n;

	memset(out, 0, sizeof(*out));
	out->rows_affected = out->total_row_count = out->total_byte_count = -1;
	doc = dbx_parse_json(body, len, "a statement answer", err);
	if (doc == NULL)
		return -1;
	root = il_jcs_root(doc);
	v = il_jcs_get(root, "statement_id");
	if (v != NULL && dbx_kind(v) != IL_JCS_NULL)
	{
		const char *id = il_jcs_string(v, &n);

		if (!dbx_id_valid(id, n))
		{
			il_jcs_free(doc);
			il_error_set(err, IL_ERR_DBX_BAD_ANSWER, 0, 0,
						 "a statement answer has a statement_id that is not an id");
			return -1;
		}
		memcpy(out->statement_id, id, n);
		out->statement_id[n] = '\0';
	}
	status = il_jcs_get(root, "status");
	state = il_jcs_string(il_jcs_get(status, "state"), NULL);
	if (state == NULL)
	{
		il_jcs_free(doc);
		il_error_set(err, IL_ERR_DBX_BAD_ANSWER, 0, 0, "a statement answer has no status.state");
		return -1;
	}
	out->state = dbx_state_parse(state);
	error = il_jcs_get(status, "error");
	dbx_copy_value(out->error_code, sizeof(out->error_code), il_jcs_get(error, "error_code"));
	dbx_copy_value(out->message, sizeof(out->message), il_jcs_get(error, "message"));
	dbx_copy_value(out->sql_state, sizeof(out->sql_state), il_jcs_get(status, "sql_state"));
	dbx_error_class(out->error_class, sizeof(out->error_class), out->message);
	manifest = il_jcs_get(root, "manifest");
	out->total_row_count = dbx_int64(il_jcs_get(manifest, "total_row_count"));
	out->total_byte_count = dbx_int64(il_jcs_get(manifest, "total_byte_count"));
	out->rows_affected = dbx_rows_affected(root);
	il_jcs_free(doc);
	return 0;
}

il_dbx_failure
il_dbx_classify(int http_status)
{
	if (http_status >= 200 && http_status <= 299)
		return IL_DBX_FAIL_NONE;
	if (http_status <= 0)
		return IL_DBX_FAIL_TRANSPORT;
	if (http_status == 401 || http_status == 403)
		return IL_DBX_FAIL_AUTH;
	if (http_status == 404)
		return IL_DBX_FAIL_NOT_FOUND;
	if (http_status == 429)
		return IL_DBX_FAIL_THROTTLED;
	if (http_status == 503)
		return IL_DBX_FAIL_UNAVAILABLE;
	if (http_status >= 500 && http_status <= 599)
		return IL_DBX_FAIL_SERVER;
	return IL_DBX_FAIL_REQUEST;
}

const char *
il_dbx_failure_name(il_dbx_failure f)
{
	switch (f)
	{
		case IL_DBX_FAIL_NONE:
			return "none";
		case IL_DBX_FAIL_TRANSPORT:
			return "transport";
		case IL_DBX_FAIL_AUTH:
			return "auth";
		case IL_DBX_FAIL_NOT_FOUND:
			return "not_found";
		case IL_DBX_FAIL_THROTTLED:
			return "throttled";
		case IL_DBX_FAIL_UNAVAILABLE:
			return "unavailable";
		case IL_DBX_FAIL_SERVER:
			return "server";
		case IL_DBX_FAIL_REQUEST:
			return "request";
	}
	return "request";
}

/* Case-insensitive search of needle (lower case) in s[0..len). */
static const char *
dbx_find_ci(const char *s, size_t len, const char *needle)
{
	size_t		n = strlen(needle);
	size_t		i;

	if (n > len)
		return NULL;
	for (i = 0; i + n <= len; i++)
	{
		size_t		j;

		for (j = 0; j < n; j++)
		{
			char		c = s[i + j];

			if (c >= 'A' && c <= 'Z')
				c = (char) (c - 'A' + 'a');
			if (c != needle[j])
				break;
		}
		if (j == n)
			return s + i;
	}
	return NULL;
}

/* The text between <tag ...> and </tag> (case-insensitive); false if none. */
static bool
dbx_html_element(const char *body, size_t len, const char *open, const char *close,
				 const char **text, size_t *tlen)
{
	const char *a = dbx_find_ci(body, len, open);
	const char *gt;
	const char *b;

	if (a == NULL)
		return false;
	gt = memchr(a, '>', len - (size_t) (a - body));
	if (gt == NULL)
		return false;
	gt++;
	b = dbx_find_ci(gt, len - (size_t) (gt - body), close);
	if (b == NULL)
		return false;
	*text = gt;
	*tlen = (size_t) (b - gt);
	return true;
}

void
il_dbx_parse_error(int http_status, const char *body, size_t len, il_dbx_error *out)
{
	size_t		i = 0;
	il_error	err;

	memset(out, 0, sizeof(*out));
	out->http_status = http_status;
	out->failure = il_dbx_classify(http_status);
	if (body == NULL)
		len = 0;
	while (i < len && dbx_is_space(body[i]))
		i++;
	if (i < len && body[i] == '{' && len <= IL_DBX_MAX_JSON)
	{
		il_jcs_doc *doc = dbx_parse_json(body, len, "an error answer", &err);

		if (doc != NULL)
		{
			const il_jcs_value *root = il_jcs_root(doc);
			const il_jcs_value *e = il_jcs_get(root, "error");
			const il_jcs_value *d;

			dbx_copy_value(out->error_code, sizeof(out->error_code), il_jcs_get(root, "error_code"));
			if (out->error_code[0] == '\0')
				dbx_copy_value(out->error_code, sizeof(out->error_code), il_jcs_get(root, "errorCode"));
			dbx_copy_value(out->message, sizeof(out->message), il_jcs_get(root, "message"));
			if (out->message[0] == '\0')
			{
				/* the old {"error": "..."}, or OAuth's {"error": <its code>, "error_description": <text>} */
				const il_jcs_value *desc = il_jcs_get(root, "error_description");

				if (dbx_kind(desc) == IL_JCS_STRING)
				{
					dbx_copy_value(out->message, sizeof(out->message), desc);
					if (out->error_code[0] == '\0')
						dbx_copy_value(out->error_code, sizeof(out->error_code), e);
				}
				else
					dbx_copy_value(out->message, sizeof(out->message), e);
			}
			for (d = il_jcs_first(il_jcs_get(root, "details")); d != NULL; d = il_jcs_next(d))
			{
				size_t		n;
				const char *rid = il_jcs_string(il_jcs_get(d, "request_id"), &n);

				if (rid != NULL && dbx_id_valid(rid, n))
				{
					memcpy(out->request_id, rid, n);
					out->request_id[n] = '\0';
					break;
				}
			}
			il_jcs_free(doc);
			goto done;
		}
	}
	if (i < len && body[i] == '<')
	{
		const char *t;
		size_t		tl;

		if (dbx_html_element(body, len, "<pre", "</pre>", &t, &tl) ||
			dbx_html_element(body, len, "<title", "</title>", &t, &tl))
			dbx_copy_trimmed(out->message, sizeof(out->message), t, tl);
		goto done;
	}
	if (i < len)
	{
		/* "CODE: message" or any text */
		size_t		j = i;

		while (j < len && ((body[j] >= 'A' && body[j] <= 'Z') ||
						   (body[j] >= '0' && body[j] <= '9') || body[j] == '_'))
			j++;
		if (j > i && j + 1 < len && body[j] == ':' && body[j + 1] == ' ' &&
			j - i < sizeof(out->error_code))
		{
			memcpy(out->error_code, body + i, j - i);
			out->error_code[j - i] = '\0';
			dbx_copy_trimmed(out->message, sizeof(out->message), body + j + 2, len - j - 2);
		}
		else
			dbx_copy_trimmed(out->message, sizeof(out->message), body + i, len - i);
	}
done:
	if (out->message[0] == '\0')
		snprintf(out->message, sizeof(out->message), "HTTP %d", http_status);
}

int
il_dbx_retry_after(const char *value)
{
	long		v = 0;
	const char *p = value;

	if (p == NULL)
		return -1;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9')
	{
		if (v <= IL_DBX_RETRY_AFTER_CAP)
			v = v * 10 + (*p - '0');
		p++;
	}
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (*p != '\0')
		return -1;
	return v > IL_DBX_RETRY_AFTER_CAP ? IL_DBX_RETRY_AFTER_CAP : (int) v;
}

/* Whether history item it carries request id (lower case, 36 characters). */
static bool
dbx_history_match(const il_jcs_value *it, const char *id)
{
	const il_jcs_value *t;
	const char *text;
	size_t		len;
	il_buf		c = IL_BUF_INIT;
	bool		match = false;
	size_t		i = 0;

	for (t = il_jcs_first(il_jcs_get(it, "query_tags")); t != NULL; t = il_jcs_next(t))
	{
		const char *k = il_jcs_string(il_jcs_get(t, "key"), NULL);
		const char *v = il_jcs_string(il_jcs_get(t, "value"), &len);

		if (k != NULL && v != NULL && strcmp(k, DBX_TAG_KEY) == 0 && len == 36 &&
			dbx_find_ci(v, len, id) == v)
			return true;
	}
	text = il_jcs_string(il_jcs_get(it, "query_text"), &len);
	if (text == NULL)
		return false;
	while (i < len && dbx_is_space(text[i]))
		i++;
	il_dbx_request_comment(&c, id);
	if (!c.oom && len - i >= c.len && dbx_find_ci(text + i, c.len, c.data) == text + i)
		match = true;
	il_buf_free(&c);
	return match;
}

int
il_dbx_parse_history(const char *body, size_t len, const char *request_id,
					 il_dbx_history *out, il_error *err)
{
	il_jcs_doc *doc;
	const il_jcs_value *root;
	const il_jcs_value *res;
	const il_jcs_value *it;
	const il_jcs_value *v;
	char		id[37];
	size_t		n;

	memset(out, 0, sizeof(*out));
	if (!dbx_uuid_valid(request_id))
	{
		il_error_set(err, IL_ERR_DBX_BAD_REQUEST, 0, 0, "the request id is not a UUID");
		return -1;
	}
	dbx_lower(id, request_id, 36);
	doc = dbx_parse_json(body, len, "a query history answer", err);
	if (doc == NULL)
		return -1;
	root = il_jcs_root(doc);
	res = il_jcs_get(root, "res");
	if (res != NULL && dbx_kind(res) != IL_JCS_ARRAY && dbx_kind(res) != IL_JCS_NULL)
	{
		il_jcs_free(doc);
		il_error_set(err, IL_ERR_DBX_BAD_ANSWER, 0, 0, "a query history answer has a res that is not an array");
		return -1;
	}
	out->items = (int) (il_jcs_count(res) > INT32_MAX ? INT32_MAX : il_jcs_count(res));
	for (it = il_jcs_first(res); it != NULL; it = il_jcs_next(it))
	{
		const char *qid;

		if (!dbx_history_match(it, id))
			continue;
		qid = il_jcs_string(il_jcs_get(it, "query_id"), &n);
		if (!dbx_id_valid(qid, n))
		{
			il_jcs_free(doc);
			il_error_set(err, IL_ERR_DBX_BAD_ANSWER, 0, 0,
						 "a query history item of the request has no valid query_id");
			return -1;
		}
		out->found = true;
		memcpy(out->query_id, qid, n);
		out->query_id[n] = '\0';
		dbx_copy_value(out->status, sizeof(out->status), il_jcs_get(it, "status"));
		if (strcmp(out->status, "FINISHED") == 0)
			out->state = IL_DBX_STATE_SUCCEEDED;
		else if (strcmp(out->status, "FAILED") == 0)
			out->state = IL_DBX_STATE_FAILED;
		else if (strcmp(out->status, "CANCELED") == 0)
			out->state = IL_DBX_STATE_CANCELED;
		else if (strcmp(out->status, "QUEUED") == 0)
			out->state = IL_DBX_STATE_PENDING;
		else if (out->status[0] != '\0')
			out->state = IL_DBX_STATE_RUNNING;
		break;
	}
	v = il_jcs_get(root, "has_next_page");
	out->has_next_page = dbx_kind(v) == IL_JCS_TRUE;
	v = il_jcs_get(root, "next_page_token");
	if (dbx_kind(v) == IL_JCS_STRING)
	{
		const char *t = il_jcs_string(v, &n);

		if (n >= sizeof(out->next_page_token) || memchr(t, '\0', n) != NULL)
		{
			il_jcs_free(doc);
			il_error_set(err, IL_ERR_DBX_BAD_ANSWER, 0, 0,
						 "a query history answer has a next_page_token over %zu bytes",
						 sizeof(out->next_page_token) - 1);
			return -1;
		}
		memcpy(out->next_page_token, t, n);
		out->next_page_token[n] = '\0';
	}
	if (out->next_page_token[0] == '\0')
		out->has_next_page = false;
	il_jcs_free(doc);
	return 0;
}

int
il_dbx_parse_token(const char *body, size_t len, il_dbx_token *out, il_error *err)
{
	il_jcs_doc *doc;
	const il_jcs_value *root;
	const char *tok;
	size_t		n;
	size_t		i;

	memset(out, 0, sizeof(*out));
	out->expires_in = -1;
	doc = dbx_parse_json(body, len, "a token answer", err);
	if (doc == NULL)
		return -1;
	root = il_jcs_root(doc);
	dbx_copy_value(out->error, sizeof(out->error), il_jcs_get(root, "error"));
	if (out->error[0] == '\0')
		dbx_copy_value(out->error, sizeof(out->error), il_jcs_get(root, "errorCode"));
	dbx_copy_value(out->error_description, sizeof(out->error_description),
				   il_jcs_get(root, "error_description"));
	if (out->error_description[0] == '\0')
		dbx_copy_value(out->error_description, sizeof(out->error_description),
					   il_jcs_get(root, "errorSummary"));
	if (out->error[0] != '\0' || out->error_description[0] != '\0')
	{
		il_jcs_free(doc);
		il_error_set(err, IL_ERR_DBX_AUTH_FAILED, 0, 0, "the token endpoint answered %s: %s",
					 out->error[0] ? out->error : "an error", out->error_description);
		return -1;
	}
	tok = il_jcs_string(il_jcs_get(root, "access_token"), &n);
	for (i = 0; tok != NULL && i < n; i++)
		if ((unsigned char) tok[i] <= 0x20 || (unsigned char) tok[i] >= 0x7f)
			break;
	if (tok == NULL || n == 0 || i < n || n >= sizeof(out->access_token))
	{
		il_jcs_free(doc);
		il_error_set(err, IL_ERR_DBX_AUTH_FAILED, 0, 0,
					 "the token endpoint answered without a usable access_token");
		return -1;
	}
	memcpy(out->access_token, tok, n);
	out->access_token[n] = '\0';
	out->expires_in = dbx_int64(il_jcs_get(root, "expires_in"));
	/* the copy of the token in the document goes with it; wipe it */
	explicit_bzero((void *) tok, n);
	il_jcs_free(doc);
	return 0;
}

void
il_dbx_token_wipe(il_dbx_token *t)
{
	explicit_bzero(t, sizeof(*t));
}

/* --------------------------------------------------------------- retries */

il_dbx_retry_out
il_dbx_retry_decide(const il_dbx_retry_in *in)
{
	il_dbx_retry_out r = {false, 0};
	int			s = in->http_status;
	bool		transport = in->transport != IL_DBX_TRANSPORT_NONE;
	double		j = in->jitter;
	int64_t		b;
	int64_t		delay;
	int			k;

	if (!(j >= 0 && j < 1))
		j = 0;
	if (in->attempt >= IL_DBX_MAX_ATTEMPTS)
		return r;
	if (!transport && s >= 200 && s <= 299)
		return r;
	if (in->op == IL_DBX_OP_SUBMIT)
		r.retry = transport ? in->transport == IL_DBX_TRANSPORT_CONNECT
			: (s == 429 || s == 503);
	else
		r.retry = transport || s == 429 || (s >= 500 && s <= 599 && s != 501);
	if (!r.retry)
		return r;
	b = IL_DBX_BACKOFF_BASE_MS;
	for (k = 1; k < in->attempt && b < IL_DBX_BACKOFF_CAP_MS; k++)
		b *= 2;
	if (b > IL_DBX_BACKOFF_CAP_MS)
		b = IL_DBX_BACKOFF_CAP_MS;
	delay = b / 2 + (int64_t) (j * (double) (b / 2));
	if (!transport && in->retry_after >= 0)
	{
		int64_t		ra = (int64_t) (in->retry_after > IL_DBX_RETRY_AFTER_CAP ?
									IL_DBX_RETRY_AFTER_CAP : in->retry_after) * 1000 +
			(int64_t) (j * 250);

		if (ra > delay)
			delay = ra;
	}
	r.delay_ms = (int) delay;
	return r;
}
