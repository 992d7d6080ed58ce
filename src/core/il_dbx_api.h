/*-------------------------------------------------------------------------
 *
 * il_dbx_api.h
 *	  The Databricks SQL Statement Execution API 2.0, without the network:
 *	  the requests the client sends, the answers it reads, and when it
 *	  tries again.
 *
 * Requests: the ExecuteStatement body (every statement is tagged with the
 * request id twice, as a leading comment and as a query tag, so query
 * history can find it after a crash), the URLs of the statement routes,
 * the query history request and the OAuth M2M token request.
 *
 * Answers: the StatementResponse, HTTP error bodies of every shape seen
 * (JSON, old {"error": ...}, HTML, "CODE: message" text, empty), the
 * Retry-After header, query history pages and OAuth token answers. JSON is
 * read with the core's parser (il_jcs.h): bodies over IL_DBX_MAX_JSON are
 * refused before parsing, nesting is bounded by IL_JCS_MAX_DEPTH, and a
 * parse takes at most about 48 bytes of memory per body byte. Unknown
 * members are ignored; int64 members are accepted as JSON numbers or as
 * strings of digits (proto3 JSON); error_code as a string or a number.
 * Text copied out of an answer (messages, codes) is cut to its field's
 * size at a whole UTF-8 character, with bytes that are not UTF-8 and
 * control characters other than newline and tab replaced, so it can go
 * into PostgreSQL text as is.
 *
 * Retries: il_dbx_retry_decide, one pure function (no clock, no random
 * source: the caller passes both in).
 *
 * No function here keeps state or allocates beyond what it returns in an
 * il_buf; the result structs are plain fixed-size values.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_DBX_API_H
#define IL_DBX_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "il_buf.h"

/* Largest body the parsers read (bytes); larger is dbx_bad_answer. */
#define IL_DBX_MAX_JSON			((size_t) 8 << 20)
/*
 * Most JSON values an answer may hold; more is dbx_bad_answer. Each value
 * is a node of the parsed tree (about 90 bytes), so 8 MiB of "[0,0,..."
 * would otherwise take some 350 MB; a query history page of 1000 queries
 * holds about 40 000.
 */
#define IL_DBX_MAX_VALUES		((size_t) 1 << 18)
/* Sizes of the text fields of the result structs (NUL included). */
#define IL_DBX_ID_MAX			128		/* statement ids, query ids, request ids */
#define IL_DBX_CODE_MAX			64		/* error codes, sql_state, statuses */
#define IL_DBX_CLASS_MAX		128		/* the [ERROR_CLASS] of a message */
#define IL_DBX_MESSAGE_MAX		2048	/* messages, cut at a UTF-8 character */
#define IL_DBX_TOKEN_MAX		8192	/* an OAuth access token */
#define IL_DBX_PAGE_TOKEN_MAX	2048	/* a history page token */
/* Retry-After is honoured up to this many seconds. */
#define IL_DBX_RETRY_AFTER_CAP	60

/* ---------------------------------------------------------------- states */

typedef enum il_dbx_state
{
	IL_DBX_STATE_UNKNOWN = 0,	/* absent or not one of the names below */
	IL_DBX_STATE_PENDING,
	IL_DBX_STATE_RUNNING,
	IL_DBX_STATE_SUCCEEDED,
	IL_DBX_STATE_FAILED,
	IL_DBX_STATE_CANCELED,
	IL_DBX_STATE_CLOSED			/* succeeded, result no longer fetchable */
} il_dbx_state;

/* "PENDING" ... "CLOSED", "UNKNOWN". */
extern const char *il_dbx_state_name(il_dbx_state s);
/* SUCCEEDED, FAILED, CANCELED, CLOSED. */
extern bool il_dbx_state_terminal(il_dbx_state s);

/* -------------------------------------------------------------- requests */

typedef struct il_dbx_statement_req
{
	const char *warehouse_id;	/* required, non-empty */
	const char *catalog;		/* NULL or "" omits the member */
	const char *statement;		/* required, UTF-8, without the comment */
	const char *request_id;		/* required: a UUID, 8-4-4-4-12 hex digits */
	const char *on_wait_timeout;	/* NULL: "CONTINUE" */
} il_dbx_statement_req;

/*
 * Appends the ExecuteStatement body to out: one JSON object with its
 * members in sorted order, no white space:
 *	{"catalog":..,"disposition":"INLINE","format":"JSON_ARRAY",
 *	 "on_wait_timeout":"CONTINUE","query_tags":[{"key":"ironlayer_request_id",
 *	 "value":"<uuid>"}],"statement":"/\* ironlayer_request_id=<uuid> *\/\n<sql>",
 *	 "wait_timeout":"0s","warehouse_id":..}
 * The request id is written in lower case. Returns 0, or -1 with err
 * (dbx_bad_request: a missing field, a request id that is not a UUID, text
 * that is not UTF-8; out_of_memory) and out unchanged.
 */
extern int	il_dbx_statement_body(const il_dbx_statement_req *req, il_buf *out, il_error *err);

/* The leading line the body builder puts before the statement (no newline). */
extern void il_dbx_request_comment(il_buf *out, const char *request_id);

typedef enum il_dbx_route
{
	IL_DBX_ROUTE_SUBMIT,		/* POST {base}/api/2.0/sql/statements */
	IL_DBX_ROUTE_GET,			/* GET  {base}/api/2.0/sql/statements/{id} */
	IL_DBX_ROUTE_CANCEL			/* POST {base}/api/2.0/sql/statements/{id}/cancel */
} il_dbx_route;

/*
 * Appends the URL of a route. base is the workspace URL (a trailing slash
 * is dropped); statement_id (not for SUBMIT) must be 1..127 characters of
 * [A-Za-z0-9_-]. Returns 0, or -1 with err (dbx_bad_request).
 */
extern int	il_dbx_url(const char *base, il_dbx_route route, const char *statement_id,
					   il_buf *out, il_error *err);

/*
 * The query history request: GET {base}/api/2.0/sql/history/queries with
 * the filter in the query string (filter_by.warehouse_ids,
 * filter_by.query_start_time_range.start_time_ms / end_time_ms),
 * max_results (1..1000), include_metrics=false, and page_token when not
 * NULL (percent-encoded). Returns 0, or -1 with err (dbx_bad_request).
 */
extern int	il_dbx_history_url(const char *base, const char *warehouse_id,
							   int64_t start_time_ms, int64_t end_time_ms,
							   int max_results, const char *page_token,
							   il_buf *out, il_error *err);

/*
 * The OAuth M2M token request (POST {base}/oidc/v1/token):
 * url gets the token endpoint, authorization the whole header line
 * "Authorization: Basic base64(client_id:client_secret)", body
 * "grant_type=client_credentials&scope=all-apis" (to send with
 * Content-Type: application/x-www-form-urlencoded). client_id must not
 * hold ':' or control characters. Returns 0, or -1 with err. The caller
 * wipes authorization after use (it holds the secret).
 */
extern int	il_dbx_token_request(const char *base, const char *client_id,
								 const char *client_secret, il_buf *url,
								 il_buf *authorization, il_buf *body, il_error *err);

/* --------------------------------------------------------------- answers */

typedef struct il_dbx_statement
{
	char		statement_id[IL_DBX_ID_MAX];	/* "" when absent */
	il_dbx_state state;
	char		error_code[IL_DBX_CODE_MAX];	/* status.error.error_code; a number as digits */
	char		error_class[IL_DBX_CLASS_MAX];	/* "PARSE_SYNTAX_ERROR" from "[PARSE_SYNTAX_ERROR] ..." */
	char		sql_state[IL_DBX_CODE_MAX];
	char		message[IL_DBX_MESSAGE_MAX];	/* white space around it trimmed */
	int64_t		rows_affected;	/* num_affected_rows, else num_inserted_rows; -1 unknown */
	int64_t		total_row_count;	/* manifest.total_row_count; -1 unknown */
	int64_t		total_byte_count;	/* manifest.total_byte_count; -1 unknown */
} il_dbx_statement;

/*
 * Parses a StatementResponse (the answer of submit and of get). out is
 * always filled (empty fields, counts -1) first. Returns 0, or -1 with err
 * dbx_bad_answer: not JSON, over IL_DBX_MAX_JSON, not an object, no
 * status.state string, or a statement_id that is not [A-Za-z0-9_-]{1,127}.
 * A state name not listed gives IL_DBX_STATE_UNKNOWN (not an error). A
 * count that is negative, fractional or beyond int64 stays -1.
 */
extern int	il_dbx_parse_statement(const char *body, size_t len, il_dbx_statement *out,
								   il_error *err);

/* What an HTTP status means to the client. */
typedef enum il_dbx_failure
{
	IL_DBX_FAIL_NONE = 0,		/* 2xx */
	IL_DBX_FAIL_TRANSPORT,		/* no HTTP answer (status 0) */
	IL_DBX_FAIL_AUTH,			/* 401, 403: bad or missing credential, or no permission */
	IL_DBX_FAIL_NOT_FOUND,		/* 404: unknown or expired statement, unknown route */
	IL_DBX_FAIL_THROTTLED,		/* 429 */
	IL_DBX_FAIL_UNAVAILABLE,	/* 503 */
	IL_DBX_FAIL_SERVER,			/* other 5xx (501 too: it is not retried) */
	IL_DBX_FAIL_REQUEST			/* any other status: the request was refused */
} il_dbx_failure;

extern il_dbx_failure il_dbx_classify(int http_status);
/* "none", "transport", "auth", "not_found", "throttled", "unavailable", "server", "request". */
extern const char *il_dbx_failure_name(il_dbx_failure f);

typedef struct il_dbx_error
{
	int			http_status;
	il_dbx_failure failure;
	char		error_code[IL_DBX_CODE_MAX];	/* "" when the body has none */
	char		message[IL_DBX_MESSAGE_MAX];	/* never empty: "HTTP 503" at least */
	char		request_id[IL_DBX_ID_MAX];	/* details[].request_id, when present */
} il_dbx_error;

/*
 * Reads an error body of any shape; never fails. JSON {error_code (string
 * or number), message, details} or {"error": ..., "error_description":
 * ...}; HTML: the text of the first <pre>, else of <title>; text
 * "CODE: message" (CODE of [A-Z0-9_]); other text as the message; empty:
 * "HTTP <status>".
 */
extern void il_dbx_parse_error(int http_status, const char *body, size_t len, il_dbx_error *out);

/*
 * The seconds of a Retry-After header value: an integer of digits (white
 * space around it allowed), capped at IL_DBX_RETRY_AFTER_CAP; -1 when
 * NULL, empty, negative or not an integer (the HTTP-date form included).
 */
extern int	il_dbx_retry_after(const char *value);

typedef struct il_dbx_history
{
	bool		found;			/* an item carries the request id */
	char		query_id[IL_DBX_ID_MAX];	/* the statement id of that item */
	char		status[IL_DBX_CODE_MAX];	/* its status: QUEUED, RUNNING, FINISHED, FAILED, CANCELED, ... */
	il_dbx_state state;			/* status as a statement state (FINISHED: SUCCEEDED) */
	int			items;			/* items on the page */
	bool		has_next_page;
	char		next_page_token[IL_DBX_PAGE_TOKEN_MAX];	/* "" when none */
} il_dbx_history;

/*
 * Parses a query history page and looks for the item of request_id: a
 * query_tags entry {"key": "ironlayer_request_id", "value": <id>} or a
 * query_text that starts (after white space) with the request comment.
 * The id is compared without regard to case. Returns 0 (found or not), or
 * -1 with err dbx_bad_answer (not JSON, too large, not an object, "res"
 * present but not an array, a matching item without a valid query_id, a
 * next page token too long).
 */
extern int	il_dbx_parse_history(const char *body, size_t len, const char *request_id,
								 il_dbx_history *out, il_error *err);

typedef struct il_dbx_token
{
	char		access_token[IL_DBX_TOKEN_MAX];	/* "" on error */
	int64_t		expires_in;		/* seconds; -1 when absent */
	char		error[IL_DBX_CODE_MAX];	/* "error" or "errorCode" */
	char		error_description[IL_DBX_MESSAGE_MAX];	/* "error_description" or "errorSummary" */
} il_dbx_token;

/*
 * Parses an OAuth token answer. Returns 0 with access_token set; -1 with
 * err dbx_auth_failed when the answer names an error (error fields set)
 * or carries no usable access_token (not a string of visible ASCII, or too
 * long); -1 with err dbx_bad_answer when it is not JSON. The caller wipes
 * out (il_dbx_token_wipe) when done with it.
 */
extern int	il_dbx_parse_token(const char *body, size_t len, il_dbx_token *out, il_error *err);
extern void il_dbx_token_wipe(il_dbx_token *t);

/* --------------------------------------------------------------- retries */

typedef enum il_dbx_op
{
	IL_DBX_OP_SUBMIT,			/* POST /statements: may run the statement */
	IL_DBX_OP_POLL,				/* GET /statements/{id} */
	IL_DBX_OP_CANCEL,			/* POST /statements/{id}/cancel */
	IL_DBX_OP_HISTORY,			/* GET /history/queries */
	IL_DBX_OP_TOKEN				/* POST /oidc/v1/token */
} il_dbx_op;

/* How a request without an HTTP answer failed (il_http_answer.fail maps onto it). */
typedef enum il_dbx_transport
{
	IL_DBX_TRANSPORT_NONE = 0,	/* there is an HTTP status */
	IL_DBX_TRANSPORT_CONNECT,	/* no connection was made: the request never left */
	IL_DBX_TRANSPORT_OTHER		/* timeout, reset, TLS, ...: it may have been read */
} il_dbx_transport;

/* Backoff: base * 2^(attempt-1), capped, with jitter (see il_dbx_retry_decide). */
#define IL_DBX_BACKOFF_BASE_MS	500
#define IL_DBX_BACKOFF_CAP_MS	30000
/* Tries of one request, the first one included. */
#define IL_DBX_MAX_ATTEMPTS		8

typedef struct il_dbx_retry_in
{
	il_dbx_op	op;
	int			http_status;	/* 0 when transport != NONE */
	il_dbx_transport transport;
	int			attempt;		/* tries made so far, this one included (1 after the first) */
	int			retry_after;	/* il_dbx_retry_after of the answer, or -1 */
	double		jitter;			/* uniform in [0, 1) */
} il_dbx_retry_in;

typedef struct il_dbx_retry_out
{
	bool		retry;
	int			delay_ms;		/* when retry: wait this long before the next try */
} il_dbx_retry_out;

/*
 * Whether to send the request again, and when.
 * - 2xx: no. attempt >= IL_DBX_MAX_ATTEMPTS: no.
 * - SUBMIT: only after 429 or 503 (the server refused it before running
 *	 it) or a connection that was never made; never after another status
 *	 or a transport failure that may have delivered it (the caller then
 *	 looks the request id up in query history).
 * - POLL, CANCEL, HISTORY, TOKEN: after 429, 5xx except 501, and any
 *	 transport failure. Never after another status (401/403 included).
 * - Delay: b = min(CAP, BASE * 2^(attempt-1)); delay = b/2 + jitter * b/2;
 *	 with Retry-After r >= 0: max(delay, r * 1000 + jitter * 250).
 */
extern il_dbx_retry_out il_dbx_retry_decide(const il_dbx_retry_in *in);

#endif							/* IL_DBX_API_H */
