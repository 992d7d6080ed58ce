/*-------------------------------------------------------------------------
 *
 * il_http.h
 *	  A thin HTTP client over libcurl's multi interface: many requests in
 *	  flight on one thread, driven by the caller.
 *
 * The caller adds requests, calls il_http_perform with the longest wait it
 * can afford (curl_multi_poll), and takes the finished answers one by one.
 * Nothing blocks longer than the wait given; no signal is used (so it can
 * run inside a PostgreSQL backend).
 *
 * What it refuses to do:
 *	- follow redirects (a 3xx is an answer like any other, so a credential
 *	  header never reaches another host);
 *	- speak anything but HTTPS, unless the set was made with allow_http
 *	  (only tests do: a loopback server without TLS);
 *	- keep a body over max_body bytes: the request ends with fail
 *	  IL_HTTP_FAIL_TOO_LARGE (decompressed bytes count: gzip is accepted).
 * TLS peers and host names are always verified, against ca_file when
 * given, else the system's store. Connections are kept and reused between
 * requests to the same host (libcurl's connection cache of the set).
 *
 * Memory: the set, its requests and the answers' bodies come from il_alloc
 * (the host's allocator); libcurl's own memory is libcurl's (its default
 * allocator: its connection cache outlives any one of the host's memory
 * contexts). il_http_add and il_http_perform allocate (a body grows while
 * it is read), so under PostgreSQL every call on one set runs with the same
 * memory context current, one that lives as long as the set; an answer
 * taken is the caller's (il_http_answer_free). il_http_free releases
 * everything.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_HTTP_H
#define IL_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "il_buf.h"

/* Default cap of an answer's body. */
#define IL_HTTP_MAX_BODY		((size_t) 64 << 20)
/* Headers of one request at most. */
#define IL_HTTP_MAX_HEADERS		16

typedef struct il_http il_http;

typedef struct il_http_options
{
	bool		allow_http;		/* also plain http:// (tests only) */
	size_t		max_body;		/* 0: IL_HTTP_MAX_BODY */
	long		max_connections;	/* per host; 0: libcurl's default */
	const char *user_agent;		/* NULL: "ironlayer" */
} il_http_options;

typedef struct il_http_request
{
	const char *method;			/* "GET", "POST", "DELETE" */
	const char *url;
	const char *const *headers;	/* "Name: value" lines, copied */
	int			nheaders;		/* 0..IL_HTTP_MAX_HEADERS */
	const char *body;			/* copied; NULL: none (a POST sends an empty body) */
	size_t		body_len;
	const char *ca_file;		/* NULL: the system's CA store */
	long		connect_timeout_ms;	/* 0: 10 s */
	long		timeout_ms;		/* the whole request; 0: 60 s */
	void	   *user;			/* given back in the answer */
	bool		idempotent;		/* a POST that may be sent twice (cancel, token) */
} il_http_request;

/*
 * libcurl sends a request again, silently, when a kept connection dies
 * before any byte of the answer came back, whatever the method (the unit
 * test shows it). The server may have read the first copy and, for a
 * submit, started the statement. So a POST goes on a new connection
 * (which libcurl never re-sends on) unless the caller marks it idempotent;
 * GET and DELETE reuse kept connections. The new connection is kept for
 * the next requests like any other.
 */

/* Why a request has no HTTP status. */
typedef enum il_http_fail
{
	IL_HTTP_FAIL_NONE = 0,		/* status is set */
	IL_HTTP_FAIL_CONNECT,		/* no connection made (DNS, refused, TLS handshake): not sent */
	IL_HTTP_FAIL_TIMEOUT,		/* a timeout after the connection was made: maybe read */
	IL_HTTP_FAIL_TOO_LARGE,		/* the body went over max_body */
	IL_HTTP_FAIL_OTHER			/* anything else (reset, bad answer): maybe read */
} il_http_fail;

typedef struct il_http_answer
{
	uint64_t	id;				/* il_http_add's id */
	void	   *user;
	long		status;			/* HTTP status; 0 when fail != NONE */
	il_http_fail fail;
	int			curl_code;		/* CURLcode; 0 when fine */
	char		error[256];		/* libcurl's text, "" when fine */
	char	   *body;			/* il_alloc'd, NUL-terminated (never NULL after a take) */
	size_t		body_len;
	char		retry_after[64];	/* the Retry-After header, "" when absent */
	char		request_id[128];	/* the X-Request-Id header, "" when absent */
	double		seconds;		/* total time of the request */
} il_http_answer;

/* A set of requests (a libcurl multi handle). NULL with err on failure. */
extern il_http *il_http_create(const il_http_options *opt, il_error *err);

/*
 * Adds a request; it starts in the next il_http_perform. Returns 0 and its
 * id (never 0), or -1 with err: http_failure (a URL that is not https://,
 * or http:// without allow_http; too many headers; libcurl refused an
 * option), out_of_memory.
 */
extern int	il_http_add(il_http *h, const il_http_request *req, uint64_t *id, il_error *err);

/*
 * Moves every request on, waiting at most wait_ms for network activity
 * (0: do not wait). Returns the number of requests still in flight, or -1
 * with err when libcurl's multi handle failed.
 */
extern int	il_http_perform(il_http *h, int wait_ms, il_error *err);

/*
 * Takes one finished request's answer into *out (the caller frees it with
 * il_http_answer_free). Returns false when none is finished.
 */
extern bool il_http_take(il_http *h, il_http_answer *out);
extern void il_http_answer_free(il_http_answer *a);

/* Stops a request in flight (or drops its finished answer); false when unknown. */
extern bool il_http_cancel(il_http *h, uint64_t id);

/* Requests added and not yet taken (in flight or finished). */
extern int	il_http_pending(const il_http *h);

/* Wakes an il_http_perform waiting in another thread or a signal handler. */
extern void il_http_wakeup(il_http *h);

/* Frees the set, cancelling whatever is in flight. */
extern void il_http_free(il_http *h);

#endif							/* IL_HTTP_H */
