/*
 * libFuzzer harness of il_dbx_api.c: every answer parser on arbitrary bytes.
 *
 * Each input goes through the statement, error (as HTTP 400, 403 and 503),
 * query history and token parsers, il_dbx_retry_after, and the retry
 * policy driven by the first bytes. Invariants checked (abort on
 * violation):
 *	- every text field is NUL-terminated inside its array, and the ones
 *	  copied from the answer (messages, codes, classes) are valid UTF-8
 *	  without control characters other than newline and tab;
 *	- a parser that fails sets an error code and message; one that
 *	  succeeds gives counts of -1 or more and a state in the enum;
 *	- an error answer's message is never empty; its failure class
 *	  matches its status;
 *	- Retry-After is -1 or 0..IL_DBX_RETRY_AFTER_CAP; a retry's delay is
 *	  0..max(backoff cap, Retry-After cap + 1 s);
 *	- memory: every parser gives back all it took (no leak), and none
 *	  takes more than 48 bytes of the core's heap per input byte plus
 *	  2 MB (il_jcs's tree, test/bench/memcount.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "il_dbx_api.h"
#include "il_text.h"
#include "memcount.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_dbx_api: invariant violated: %s\n", what);
	abort();
}

/* A field's text: terminated inside cap; clean when copied from an answer. */
static void
check_text(const char *s, size_t cap, bool clean, const char *what)
{
	size_t		n = strnlen(s, cap);
	size_t		i;

	if (n >= cap)
		fail(what);
	if (!clean)
		return;
	if (!il_utf8_valid(s, n, NULL))
		fail(what);
	for (i = 0; i < n; i++)
		if (((unsigned char) s[i] < 0x20 && s[i] != '\n' && s[i] != '\t') || s[i] == 0x7f)
			fail(what);
}

static void
check_error(const il_error *err)
{
	if (err->code == NULL || err->message[0] == '\0')
		fail("an error without code or message");
}

#define MEM_BOUND(size) (48 * (size) + ((size_t) 2 << 20))

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *) data;
	static il_dbx_statement st;
	static il_dbx_error er;
	static il_dbx_history hi;
	static il_dbx_token tk;
	il_error	err;
	long long	base;
	static const int statuses[] = {400, 403, 503};
	size_t		i;

	/* statement answer */
	il_error_clear(&err);
	base = memcount_start();
	if (il_dbx_parse_statement(s, size, &st, &err) == 0)
	{
		if ((int) st.state < IL_DBX_STATE_UNKNOWN || st.state > IL_DBX_STATE_CLOSED)
			fail("state out of the enum");
		if (st.rows_affected < -1 || st.total_row_count < -1 || st.total_byte_count < -1)
			fail("a count below -1");
	}
	else
		check_error(&err);
	if (memcount_peak_since(base) > MEM_BOUND(size))
		fail("statement parser: memory over the bound");
	if (memcount_live() != base)
		fail("statement parser: leak");
	check_text(st.statement_id, sizeof(st.statement_id), true, "statement_id");
	check_text(st.error_code, sizeof(st.error_code), true, "error_code");
	check_text(st.error_class, sizeof(st.error_class), true, "error_class");
	check_text(st.sql_state, sizeof(st.sql_state), true, "sql_state");
	check_text(st.message, sizeof(st.message), true, "message");

	/* error answers */
	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
	{
		base = memcount_start();
		il_dbx_parse_error(statuses[i], s, size, &er);
		if (memcount_peak_since(base) > MEM_BOUND(size))
			fail("error parser: memory over the bound");
		if (memcount_live() != base)
			fail("error parser: leak");
		if (er.message[0] == '\0')
			fail("error answer with an empty message");
		if (er.http_status != statuses[i] || er.failure != il_dbx_classify(statuses[i]))
			fail("error answer's status or class");
		check_text(er.error_code, sizeof(er.error_code), true, "error code");
		check_text(er.message, sizeof(er.message), true, "error message");
		check_text(er.request_id, sizeof(er.request_id), true, "error request id");
	}

	/* history page */
	il_error_clear(&err);
	base = memcount_start();
	if (il_dbx_parse_history(s, size, "0f8fad5b-d9cb-469f-a165-70867728950e", &hi, &err) == 0)
	{
		if (hi.found && hi.query_id[0] == '\0')
			fail("history: found without a query id");
		if (hi.has_next_page && hi.next_page_token[0] == '\0')
			fail("history: next page without a token");
		if (hi.items < 0)
			fail("history: negative items");
	}
	else
		check_error(&err);
	if (memcount_peak_since(base) > MEM_BOUND(size))
		fail("history parser: memory over the bound");
	if (memcount_live() != base)
		fail("history parser: leak");
	check_text(hi.query_id, sizeof(hi.query_id), true, "history query id");
	check_text(hi.status, sizeof(hi.status), true, "history status");
	check_text(hi.next_page_token, sizeof(hi.next_page_token), false, "history page token");

	/* token answer */
	il_error_clear(&err);
	base = memcount_start();
	if (il_dbx_parse_token(s, size, &tk, &err) == 0)
	{
		size_t		n = strnlen(tk.access_token, sizeof(tk.access_token));

		if (n == 0 || n >= sizeof(tk.access_token))
			fail("token: empty or unterminated");
		for (i = 0; i < n; i++)
			if ((unsigned char) tk.access_token[i] <= 0x20 || (unsigned char) tk.access_token[i] >= 0x7f)
				fail("token: a character that cannot go into a header");
		if (tk.expires_in < -1)
			fail("token: expires_in below -1");
	}
	else
		check_error(&err);
	if (memcount_peak_since(base) > MEM_BOUND(size))
		fail("token parser: memory over the bound");
	if (memcount_live() != base)
		fail("token parser: leak");
	check_text(tk.error, sizeof(tk.error), true, "token error");
	check_text(tk.error_description, sizeof(tk.error_description), true, "token error description");
	il_dbx_token_wipe(&tk);

	/* Retry-After on the input as a header value, and the retry policy */
	if (size < 64 && memchr(s, '\0', size) == NULL)
	{
		char		v[64];
		int			ra;

		memcpy(v, s, size);
		v[size] = '\0';
		ra = il_dbx_retry_after(v);
		if (ra < -1 || ra > IL_DBX_RETRY_AFTER_CAP)
			fail("Retry-After out of range");
	}
	if (size >= 8)
	{
		il_dbx_retry_in in;
		il_dbx_retry_out out;
		uint16_t	st16;
		int16_t		ra16;

		memcpy(&st16, data + 2, 2);
		memcpy(&ra16, data + 4, 2);
		in.op = (il_dbx_op) (data[0] % 5);
		in.transport = (il_dbx_transport) (data[1] % 3);
		in.http_status = in.transport == IL_DBX_TRANSPORT_NONE ? st16 % 700 : 0;
		in.attempt = (int8_t) data[6];
		in.retry_after = ra16;
		in.jitter = data[7] / 256.0;
		out = il_dbx_retry_decide(&in);
		if (out.retry)
		{
			if (out.delay_ms < 0 ||
				out.delay_ms > (IL_DBX_BACKOFF_CAP_MS > IL_DBX_RETRY_AFTER_CAP * 1000 + 250 ?
								IL_DBX_BACKOFF_CAP_MS : IL_DBX_RETRY_AFTER_CAP * 1000 + 250))
				fail("retry delay out of range");
			if (in.op == IL_DBX_OP_SUBMIT && in.transport == IL_DBX_TRANSPORT_NONE &&
				in.http_status != 429 && in.http_status != 503)
				fail("a submit retried after a status other than 429 or 503");
			if (in.op == IL_DBX_OP_SUBMIT && in.transport == IL_DBX_TRANSPORT_OTHER)
				fail("a submit retried after it may have been delivered");
			if (in.transport == IL_DBX_TRANSPORT_NONE && in.http_status >= 400 && in.http_status < 500 &&
				in.http_status != 429)
				fail("a 4xx other than 429 retried");
			if (in.http_status == 501)
				fail("a 501 retried");
		}
	}
	return 0;
}
