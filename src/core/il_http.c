/*-------------------------------------------------------------------------
 *
 * il_http.c
 *	  The HTTP transport over libcurl's multi interface (il_http.h says
 *	  what it promises).
 *
 * Each request is one easy handle with its own copy of the body and the
 * headers, kept on the set's list from il_http_add until its answer is
 * taken or it is cancelled. libcurl's messages only mark requests done;
 * il_http_take hands them out.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "il_http.h"

typedef struct http_req
{
	struct http_req *next;
	struct http_req *prev;
	il_http    *set;
	CURL	   *easy;
	uint64_t	id;
	void	   *user;
	struct curl_slist *headers;
	char	   *body;			/* the request body's copy */
	il_buf		resp;
	bool		too_large;
	bool		done;
	CURLcode	code;
	char		retry_after[64];
	char		request_id[128];
	char		errbuf[CURL_ERROR_SIZE];
} http_req;

struct il_http
{
	CURLM	   *multi;
	CURLSH	   *share;			/* the TLS sessions the set's requests share */
	http_req   *head;
	uint64_t	next_id;
	int			count;
	bool		allow_http;
	size_t		max_body;
	char	   *user_agent;
};

il_http *
il_http_create(const il_http_options *opt, il_error *err)
{
	il_http    *h;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
	{
		il_error_set(err, IL_ERR_HTTP_FAILURE, 0, 0, "libcurl could not be initialized");
		return NULL;
	}
	h = il_calloc(1, sizeof(il_http));
	if (h == NULL)
	{
		curl_global_cleanup();
		il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory making an HTTP client");
		return NULL;
	}
	h->user_agent = il_strdup(opt && opt->user_agent ? opt->user_agent : "ironlayer");
	h->multi = curl_multi_init();
	/*
	 * One TLS session cache for every request of the set: a new connection
	 * (every non-idempotent POST opens one) resumes a session the server
	 * gave an earlier one instead of a full handshake. Only the handshake
	 * is shortened: the request is sent once, on that connection, as
	 * before (libcurl sends no TLS early data unless asked to).
	 */
	h->share = curl_share_init();
	if (h->share != NULL &&
		curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK)
	{
		curl_share_cleanup(h->share);
		h->share = NULL;
	}
	if (h->multi == NULL || h->share == NULL || h->user_agent == NULL)
	{
		if (h->multi)
			curl_multi_cleanup(h->multi);
		if (h->share)
			curl_share_cleanup(h->share);
		il_free(h->user_agent);
		il_free(h);
		curl_global_cleanup();
		il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory making an HTTP client");
		return NULL;
	}
	h->next_id = 1;
	h->allow_http = opt ? opt->allow_http : false;
	h->max_body = opt && opt->max_body ? opt->max_body : IL_HTTP_MAX_BODY;
	if (opt && opt->max_connections > 0)
		curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, opt->max_connections);
	return h;
}

/* Whether a header line is "name: ..." (name case-insensitive); *value after it. */
static bool
http_header_is(const char *line, size_t len, const char *name, const char **value, size_t *vlen)
{
	size_t		n = strlen(name);

	if (len <= n || line[n] != ':' || strncasecmp(line, name, n) != 0)
		return false;
	line += n + 1;
	len -= n + 1;
	while (len > 0 && (*line == ' ' || *line == '\t'))
	{
		line++;
		len--;
	}
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n' ||
					   line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	*value = line;
	*vlen = len;
	return true;
}

/* A header value into a fixed field: printable ASCII only, cut to fit. */
static void
http_copy_header(char *dst, size_t cap, const char *v, size_t len)
{
	size_t		i;
	size_t		o = 0;

	for (i = 0; i < len && o + 1 < cap; i++)
		dst[o++] = (v[i] >= 0x20 && v[i] < 0x7f) ? v[i] : '?';
	dst[o] = '\0';
}

static size_t
http_on_header(char *data, size_t size, size_t n, void *ud)
{
	http_req   *r = ud;
	size_t		len = size * n;
	const char *v;
	size_t		vlen;

	if (len >= 5 && memcmp(data, "HTTP/", 5) == 0)
	{
		/* a new response (after a 1xx): forget the headers of the last */
		r->retry_after[0] = '\0';
		r->request_id[0] = '\0';
	}
	else if (http_header_is(data, len, "retry-after", &v, &vlen))
		http_copy_header(r->retry_after, sizeof(r->retry_after), v, vlen);
	else if (http_header_is(data, len, "x-request-id", &v, &vlen))
		http_copy_header(r->request_id, sizeof(r->request_id), v, vlen);
	return len;
}

static size_t
http_on_body(char *data, size_t size, size_t n, void *ud)
{
	http_req   *r = ud;
	size_t		len = size * n;

	if (len > r->set->max_body - r->resp.len)
	{
		r->too_large = true;
		return 0;				/* libcurl ends the transfer: CURLE_WRITE_ERROR */
	}
	il_buf_append(&r->resp, data, len);
	if (r->resp.oom)
		return 0;
	return len;
}

static void
http_req_free(http_req *r)
{
	if (r->easy)
		curl_easy_cleanup(r->easy);
	if (r->headers)
		curl_slist_free_all(r->headers);
	il_free(r->body);
	il_buf_free(&r->resp);
	il_free(r);
}

static void
http_unlink(il_http *h, http_req *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		h->head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	h->count--;
}

#define HTTP_SET(opt, val) \
	do { if (ok && curl_easy_setopt(r->easy, opt, val) != CURLE_OK) { ok = false; what = #opt; } } while (0)

int
il_http_add(il_http *h, const il_http_request *req, uint64_t *id, il_error *err)
{
	http_req   *r;
	bool		https;
	bool		ok = true;
	const char *what = "";
	int			i;
	const char *m = req->method ? req->method : "GET";

	https = req->url != NULL && strncasecmp(req->url, "https://", 8) == 0;
	if (!https && !(h->allow_http && req->url != NULL && strncasecmp(req->url, "http://", 7) == 0))
	{
		il_error_set(err, IL_ERR_HTTP_FAILURE, 0, 0, "only https:// URLs are allowed");
		return -1;
	}
	if (req->nheaders < 0 || req->nheaders > IL_HTTP_MAX_HEADERS)
	{
		il_error_set(err, IL_ERR_HTTP_FAILURE, 0, 0, "a request has more than %d headers",
					 IL_HTTP_MAX_HEADERS);
		return -1;
	}
	r = il_calloc(1, sizeof(http_req));
	if (r == NULL)
		goto oom;
	r->set = h;
	r->user = req->user;
	il_buf_init(&r->resp);
	r->body = il_malloc(req->body_len + 1);
	if (r->body == NULL)
		goto oom;
	if (req->body_len > 0)
		memcpy(r->body, req->body, req->body_len);
	r->body[req->body_len] = '\0';
	for (i = 0; i < req->nheaders; i++)
	{
		struct curl_slist *s;

		if (strchr(req->headers[i], '\r') || strchr(req->headers[i], '\n'))
		{
			http_req_free(r);
			il_error_set(err, IL_ERR_HTTP_FAILURE, 0, 0, "a request header holds a line break");
			return -1;
		}
		s = curl_slist_append(r->headers, req->headers[i]);
		if (s == NULL)
			goto oom;
		r->headers = s;
	}
	{
		/* no "Expect: 100-continue" round trip for larger bodies */
		struct curl_slist *s = curl_slist_append(r->headers, "Expect:");

		if (s == NULL)
			goto oom;
		r->headers = s;
	}
	r->easy = curl_easy_init();
	if (r->easy == NULL)
		goto oom;

	HTTP_SET(CURLOPT_PRIVATE, r);
	HTTP_SET(CURLOPT_SHARE, h->share);
	HTTP_SET(CURLOPT_URL, req->url);
#if LIBCURL_VERSION_NUM >= 0x075500
	HTTP_SET(CURLOPT_PROTOCOLS_STR, h->allow_http ? "http,https" : "https");
	HTTP_SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
#else
	HTTP_SET(CURLOPT_PROTOCOLS, h->allow_http ? (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS) : (long) CURLPROTO_HTTPS);
#endif
	HTTP_SET(CURLOPT_FOLLOWLOCATION, 0L);
	HTTP_SET(CURLOPT_NOSIGNAL, 1L);
	HTTP_SET(CURLOPT_SSL_VERIFYPEER, 1L);
	HTTP_SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (req->ca_file != NULL)
		HTTP_SET(CURLOPT_CAINFO, req->ca_file);
	HTTP_SET(CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms > 0 ? req->connect_timeout_ms : 10000L);
	HTTP_SET(CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : 60000L);
	HTTP_SET(CURLOPT_TCP_KEEPALIVE, 1L);
	if (strcmp(m, "POST") == 0 && !req->idempotent)
		HTTP_SET(CURLOPT_FRESH_CONNECT, 1L);
	HTTP_SET(CURLOPT_ACCEPT_ENCODING, "");
	HTTP_SET(CURLOPT_USERAGENT, h->user_agent);
	HTTP_SET(CURLOPT_HTTPHEADER, r->headers);
	HTTP_SET(CURLOPT_ERRORBUFFER, r->errbuf);
	HTTP_SET(CURLOPT_WRITEFUNCTION, http_on_body);
	HTTP_SET(CURLOPT_WRITEDATA, r);
	HTTP_SET(CURLOPT_HEADERFUNCTION, http_on_header);
	HTTP_SET(CURLOPT_HEADERDATA, r);
	HTTP_SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) h->max_body);
	if (strcmp(m, "GET") == 0)
		HTTP_SET(CURLOPT_HTTPGET, 1L);
	else if (strcmp(m, "POST") == 0)
	{
		HTTP_SET(CURLOPT_POST, 1L);
		HTTP_SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) req->body_len);
		HTTP_SET(CURLOPT_POSTFIELDS, r->body);
	}
	else
	{
		const char *p;

		for (p = m; *p; p++)
			if (*p < 'A' || *p > 'Z')
				break;
		if (*p != '\0' || p == m)
		{
			http_req_free(r);
			il_error_set(err, IL_ERR_HTTP_FAILURE, 0, 0, "an HTTP method must be upper-case letters");
			return -1;
		}
		HTTP_SET(CURLOPT_CUSTOMREQUEST, m);
		if (req->body != NULL)
		{
			HTTP_SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) req->body_len);
			HTTP_SET(CURLOPT_POSTFIELDS, r->body);
		}
	}
	if (!ok)
	{
		http_req_free(r);
		il_error_set(err, IL_ERR_HTTP_FAILURE, 0, 0, "libcurl refused the option %s", what);
		return -1;
	}
	if (curl_multi_add_handle(h->multi, r->easy) != CURLM_OK)
	{
		http_req_free(r);
		il_error_set(err, IL_ERR_HTTP_FAILURE, 0, 0, "libcurl refused a request");
		return -1;
	}
	r->id = h->next_id++;
	r->next = h->head;
	if (h->head)
		h->head->prev = r;
	h->head = r;
	h->count++;
	if (id)
		*id = r->id;
	return 0;

oom:
	if (r)
		http_req_free(r);
	il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory adding an HTTP request");
	return -1;
}

int
il_http_perform(il_http *h, int wait_ms, il_error *err)
{
	int			running = 0;
	CURLMcode	mc;
	CURLMsg    *msg;
	int			left;

	mc = curl_multi_perform(h->multi, &running);
	if (mc == CURLM_OK && running > 0 && wait_ms > 0)
	{
		mc = curl_multi_poll(h->multi, NULL, 0, wait_ms, NULL);
		if (mc == CURLM_OK)
			mc = curl_multi_perform(h->multi, &running);
	}
	if (mc != CURLM_OK)
	{
		il_error_set(err, IL_ERR_HTTP_FAILURE, 0, 0, "libcurl failed: %s", curl_multi_strerror(mc));
		return -1;
	}
	while ((msg = curl_multi_info_read(h->multi, &left)) != NULL)
	{
		http_req   *r = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &r);
		if (r == NULL)
			continue;
		r->done = true;
		r->code = msg->data.result;
	}
	return running;
}

static il_http_fail
http_fail_of(http_req *r)
{
	curl_off_t	pre = 0;

	if (r->code == CURLE_OK)
		return IL_HTTP_FAIL_NONE;
	if (r->too_large || r->code == CURLE_FILESIZE_EXCEEDED)
		return IL_HTTP_FAIL_TOO_LARGE;
	switch (r->code)
	{
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_RESOLVE_PROXY:
		case CURLE_COULDNT_CONNECT:
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_SSL_CERTPROBLEM:
		case CURLE_UNSUPPORTED_PROTOCOL:
		case CURLE_URL_MALFORMAT:
			return IL_HTTP_FAIL_CONNECT;
		case CURLE_OPERATION_TIMEDOUT:
			/* before the request was about to be sent: it never left */
			if (curl_easy_getinfo(r->easy, CURLINFO_PRETRANSFER_TIME_T, &pre) == CURLE_OK && pre == 0)
				return IL_HTTP_FAIL_CONNECT;
			return IL_HTTP_FAIL_TIMEOUT;
		default:
			return IL_HTTP_FAIL_OTHER;
	}
}

bool
il_http_take(il_http *h, il_http_answer *out)
{
	http_req   *r;
	http_req   *oldest = NULL;

	/* the list is newest first: hand out the oldest finished request */
	for (r = h->head; r != NULL; r = r->next)
		if (r->done)
			oldest = r;
	memset(out, 0, sizeof(*out));
	if (oldest == NULL)
		return false;
	r = oldest;
	out->id = r->id;
	out->user = r->user;
	out->curl_code = (int) r->code;
	out->fail = http_fail_of(r);
	if (out->fail == IL_HTTP_FAIL_NONE)
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &out->status);
	else
	{
		const char *t = r->too_large ? "the answer's body is over the cap"
			: r->resp.oom ? "out of memory reading the answer"
			: r->errbuf[0] ? r->errbuf : curl_easy_strerror(r->code);

		snprintf(out->error, sizeof(out->error), "%s", t);
	}
	{
		double		s = 0;

		curl_easy_getinfo(r->easy, CURLINFO_TOTAL_TIME, &s);
		out->seconds = s;
	}
	memcpy(out->retry_after, r->retry_after, sizeof(out->retry_after));
	memcpy(out->request_id, r->request_id, sizeof(out->request_id));
	if (out->fail == IL_HTTP_FAIL_NONE && r->resp.data != NULL)
	{
		/* hand the body over */
		out->body = r->resp.data;
		out->body_len = r->resp.len;
		il_buf_init(&r->resp);
	}
	else
	{
		out->body = il_malloc(1);
		if (out->body != NULL)
			out->body[0] = '\0';
		out->body_len = 0;
	}
	curl_multi_remove_handle(h->multi, r->easy);
	http_unlink(h, r);
	http_req_free(r);
	return true;
}

void
il_http_answer_free(il_http_answer *a)
{
	il_free(a->body);
	a->body = NULL;
	a->body_len = 0;
}

bool
il_http_cancel(il_http *h, uint64_t id)
{
	http_req   *r;

	for (r = h->head; r != NULL; r = r->next)
	{
		if (r->id == id)
		{
			curl_multi_remove_handle(h->multi, r->easy);
			http_unlink(h, r);
			http_req_free(r);
			return true;
		}
	}
	return false;
}

int
il_http_pending(const il_http *h)
{
	return h->count;
}

void
il_http_wakeup(il_http *h)
{
	curl_multi_wakeup(h->multi);
}

void
il_http_free(il_http *h)
{
	if (h == NULL)
		return;
	while (h->head != NULL)
	{
		http_req   *r = h->head;

		curl_multi_remove_handle(h->multi, r->easy);
		http_unlink(h, r);
		http_req_free(r);
	}
	curl_multi_cleanup(h->multi);
	curl_share_cleanup(h->share);
	il_free(h->user_agent);
	il_free(h);
	curl_global_cleanup();
}
