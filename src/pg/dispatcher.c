/*-------------------------------------------------------------------------
 *
 * dispatcher.c
 *	  The dispatcher: the one background worker that sends the statements
 *	  of databricks steps to their SQL warehouses and follows them to the
 *	  end (docs/databricks.md, "Dispatch, reconciliation, retries").
 *
 * A worker that runs a databricks step renders it and writes its statements
 * as intent rows (ironlayer.remote_statements, state ready), hands the step
 * to the dispatcher (lease_owner 'ironlayer dispatcher') and wakes it at
 * commit (_wake_dispatcher). The launcher (worker.c) keeps one dispatcher
 * alive per cluster, in ironlayer.database.
 *
 * The loop. A statement is never sent inside a transaction, and every
 * transition is recorded in a short one (the functions of
 * src/sql/77_dispatcher.sql). One database unit, when woken at a commit,
 * when a statement changed state, and at least every second while
 * statements are followed:
 *	1. record what happened since the last unit (statement ids, outcomes,
 *	   cancellations, re-sends), each in a subtransaction;
 *	2. _dispatch_work: the statements to send (their step's earlier
 *	   statements succeeded, their environment below max_in_flight), those
 *	   in flight that this process does not follow (after a restart) and
 *	   those of cancelling runs;
 *	3. _dispatch_submitting for the statements to send, all at once: the
 *	   intents commit BEFORE any POST.
 * Then, outside any transaction, libcurl multi (il_http.h) carries every
 * request at once: submits with wait_timeout 0s, polls every 50 ms for the
 * first quarter second after a submit, then with a backoff that grows to
 * 5 s, cancels, query history look-ups and
 * OAuth token requests. Retries follow il_dbx_retry_decide (il_dbx_api.h):
 * a submit only after 429 or 503, the others also after 5xx and transport
 * errors; never after another 4xx.
 *
 * Exactly once. The intent row commits before the POST and the statement
 * id as soon as the answer brings it. A statement in flight that this
 * process did not send (it died, or the cluster restarted) is reconciled
 * first: read by its statement id when known, else looked up in the
 * workspace's query history by its request id (the leading comment and
 * query tag the client puts on every statement). "Not found yet" is not
 * "never ran": it is looked up again until ironlayer.databricks_history_grace
 * has passed since it was submitted; only then is it sent again, under a
 * new request id (every statement the renderer makes is idempotent, so
 * even a first attempt that history never showed cannot apply twice).
 * Statements of a cancelled run found running are cancelled.
 *
 * Failures. A statement that FAILED fails its step with its scrubbed error;
 * one past the environment's statement_timeout is cancelled and fails
 * (57014); 401/403 fail the step once (28000), with no retry (an OAuth
 * token is fetched again once first). cancel(run) leaves the run
 * cancelling: its statements in flight are cancelled on the warehouse and
 * polled to a final state, then their steps are cancelled.
 *
 * Secrets. A PAT is read from the vault (ironlayer_credential_open) and
 * kept in this process's memory for CRED_PAT_TTL; an OAuth M2M token is
 * kept until shortly before it expires. Both are wiped when dropped and
 * never logged; the client secret lives only while its token request does.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "common/pg_prng.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/ilist.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "il_dbx_api.h"
#include "il_http.h"
#include "ironlayer.h"

#define DISPATCHER_NAME "ironlayer dispatcher"	/* the lease owner of handed-over steps */
#define POLL_FIRST_MS 50		/* first poll after a submit */
#define POLL_DENSE 5			/* the first polls after a submit, this far apart */
#define POLL_AFTER_DENSE_MS 150 /* then this long */
#define POLL_GROWTH 1.5			/* each next poll waits this much longer */
#define POLL_CAP_MS 5000		/* ... up to this */
#define UNIT_GAP_MS 10			/* database units at most this often */
#define FULL_LOOK_MS 1000		/* a full look at the statements at least this often */
#define IDLE_LOOK_MS 100		/* a full look this soon when idle after a partial one */
#define UNIT_BUSY_MS 1000		/* database unit at least this often while following */
#define UNIT_IDLE_MS 30000		/* ... and when idle (a missed wake-up) */
#define HISTORY_RECHECK_MS 1000 /* query history looked at again after */
#define HISTORY_PAGES 10		/* pages of history read per look-up */
#define MAX_RESENDS 3			/* a statement is sent at most 1 + this many times */
#define MAX_SENDS_PER_UNIT 256	/* statements taken per unit */
#define CRED_PAT_TTL_MS (60 * 1000)	/* a PAT is read again from the vault after */
#define CRED_FAILED_MS 2000		/* a credential that failed is not reopened before */
#define CONNECT_TIMEOUT_MS 10000
#define REQUEST_TIMEOUT_MS 60000
#define RECORD_TRIES 3			/* a transition that cannot be recorded is dropped after */
#define SCHEMA_CACHE_MS (10 * 60 * 1000)	/* a schema seen made is not made again for */
#define SCHEMA_PREFIX "CREATE SCHEMA IF NOT EXISTS "

/* settings */
static int	history_grace_ms = 60000;	/* ironlayer.databricks_history_grace */

/* ------------------------------------------------------- what is followed */

typedef enum Phase
{
	PH_INTENT,					/* taken: its intent is being written */
	PH_SUBMIT,					/* POST /statements (again after 429/503) */
	PH_POLL,					/* GET /statements/{id} */
	PH_CANCEL,					/* POST .../cancel, then PH_POLL to a final state */
	PH_HISTORY,					/* query history, by request id */
	PH_DONE						/* its outcome is to be recorded */
} Phase;

typedef enum Record
{
	REC_NONE = 0,
	REC_FINISHED,				/* _dispatch_finished */
	REC_CANCELLED,				/* _dispatch_cancelled */
	REC_RESEND					/* _dispatch_resend */
} Record;

typedef struct Cred Cred;

typedef struct Stmt
{
	dlist_node	node;
	pg_uuid_t	tenant;
	int64		run_id;
	char	   *step_id;
	char	   *model;
	char	   *environment;
	char	   *envkey;			/* "<tenant>/<environment>" */
	int			seq;
	char		request_id[UUID_LEN * 2 + 5];
	char		statement_id[IL_DBX_ID_MAX];
	char	   *statement;
	bool		idempotent;
	int			resends;
	/* the environment's settings, as read when it was taken */
	char	   *workspace_url;
	char	   *warehouse_id;
	char	   *catalog;
	char	   *ca_file;		/* NULL: the system's */
	Cred	   *cred;
	int64		timeout_ms;
	/* where it is */
	Phase		phase;
	bool		busy;			/* a request of its own is in flight */
	TimestampTz due;			/* its next request, not before */
	int			poll_ms;		/* the current poll interval */
	int			dense_polls;	/* polls left before poll_ms grows */
	int			tries;			/* tries of the current request */
	int			http_retries;	/* over its whole life */
	bool		auth_refreshed; /* an OAuth token was fetched again for it */
	bool		started_pending;	/* its statement id is to be stored */
	bool		adopted;		/* taken over in flight: reconcile */
	bool		intent;			/* taken to send: its intent is being written */
	TimestampTz submitted_at;
	TimestampTz deadline;		/* submitted + statement_timeout */
	bool		cancel_wanted;	/* its run is cancelling */
	bool		timed_out;
	char		history_token[IL_DBX_PAGE_TOKEN_MAX];
	int			history_pages;
	/* its outcome, when PH_DONE */
	Record		record;
	int			record_tries;
	bool		ok;
	char	   *remote_state;
	int64		rows;
	int64		bytes;
	char	   *error_class;
	char	   *error_message;
} Stmt;

/* A credential of a tenant, as this process holds it. */
struct Cred
{
	dlist_node	node;
	pg_uuid_t	tenant;
	char	   *name;
	char	   *workspace_url;	/* OAuth: the token endpoint's workspace */
	char	   *ca_file;
	bool		oauth;
	char	   *token;			/* the bearer token (wiped when dropped); NULL none */
	TimestampTz valid_until;
	bool		fetching;		/* an OAuth token request is in flight */
	char	   *basic;			/* while fetching: the Basic authorization header */
	int			tries;
	TimestampTz due;
	char	   *failure;		/* why it cannot be used (no secret in it) */
	char	   *failure_class;
	TimestampTz failed_until;
};

static MemoryContext dispatch_context = NULL;	/* Stmts, Creds: live across units */
static MemoryContext unit_context = NULL;	/* reset per unit */
static dlist_head stmts = DLIST_STATIC_INIT(stmts);
static dlist_head creds = DLIST_STATIC_INIT(creds);
static int	nstmts = 0;
static il_http *http = NULL;
static int	http_active = 0;
static char **dropped = NULL;	/* request ids whose transitions could not be recorded */
static int	ndropped = 0;
static bool unit_soon = false;	/* a credential is to be read: a unit now */

/*
 * Where _dispatch_work stopped reading each environment's ready statements
 * (their ready_seq), and when the next full look (everything, in flight
 * counted by the database, adoptions) is due.
 */
typedef struct Cursor
{
	char	   *envkey;
	int64		at;
} Cursor;

static Cursor *cursors = NULL;
static int	ncursors = 0;
static TimestampTz full_look_due = 0;

/*
 * The last look read only past the cursors: a statement whose ready_seq was
 * drawn before the cursor's but committed after that look is seen only by a
 * full look, which comes when due (FULL_LOOK_MS), IDLE_LOOK_MS later when
 * nothing is followed (not at the 30 s idle unit).
 */
static bool look_owed = false;

/* What a request in flight is for (the user pointer of il_http). */
typedef struct Flight
{
	Stmt	   *stmt;			/* NULL: a token request */
	Cred	   *cred;
	il_dbx_op	op;
} Flight;

/*
 * The CREATE SCHEMA IF NOT EXISTS statements this process saw succeed,
 * by warehouse: every step starts with one, and the same schema's is not
 * sent again within SCHEMA_CACHE_MS (recorded succeeded, remote_state
 * SKIPPED). Any statement that fails empties it.
 */
typedef struct SchemaSeen
{
	dlist_node	node;
	char	   *key;			/* workspace_url, warehouse_id, catalog, statement */
	TimestampTz until;
} SchemaSeen;

static dlist_head schemas_seen = DLIST_STATIC_INIT(schemas_seen);

/* ------------------------------------------------------- helpers */

static char *
dstrdup(const char *s)
{
	return s ? MemoryContextStrdup(dispatch_context, s) : NULL;
}

/* Overwrites a secret, then frees it. */
static void
wipe_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	pfree(s);
}

static void
set_str(char **field, const char *value)
{
	if (*field)
		pfree(*field);
	*field = dstrdup(value);
}

static TimestampTz
after_ms(TimestampTz t, int64 ms)
{
	return t + ms * 1000;
}

static long
ms_until(TimestampTz now, TimestampTz t)
{
	if (t <= now)
		return 0;
	return (long) Min((t - now) / 1000 + 1, (int64) INT_MAX);
}

static double
jitter(void)
{
	return pg_prng_double(&pg_global_prng_state);
}

/* ------------------------------------------------------- schemas seen */

static char *
schema_key(const Stmt *s)
{
	if (!s->idempotent || strncmp(s->statement, SCHEMA_PREFIX, strlen(SCHEMA_PREFIX)) != 0)
		return NULL;
	return psprintf("%s\n%s\n%s\n%s", s->workspace_url, s->warehouse_id, s->catalog ? s->catalog : "",
					s->statement);
}

static bool
schema_seen(const Stmt *s, TimestampTz now)
{
	char	   *key = schema_key(s);
	dlist_iter	it;
	bool		seen = false;

	if (key == NULL)
		return false;
	dlist_foreach(it, &schemas_seen)
	{
		SchemaSeen *e = dlist_container(SchemaSeen, node, it.cur);

		if (strcmp(e->key, key) == 0 && now < e->until)
		{
			seen = true;
			break;
		}
	}
	pfree(key);
	return seen;
}

static void
schema_made(const Stmt *s, TimestampTz now)
{
	char	   *key = schema_key(s);
	dlist_iter	it;
	SchemaSeen *e;

	if (key == NULL)
		return;
	dlist_foreach(it, &schemas_seen)
	{
		e = dlist_container(SchemaSeen, node, it.cur);
		if (strcmp(e->key, key) == 0)
		{
			e->until = after_ms(now, SCHEMA_CACHE_MS);
			pfree(key);
			return;
		}
	}
	e = MemoryContextAllocZero(dispatch_context, sizeof(SchemaSeen));
	e->key = MemoryContextStrdup(dispatch_context, key);
	e->until = after_ms(now, SCHEMA_CACHE_MS);
	dlist_push_tail(&schemas_seen, &e->node);
	pfree(key);
}

static void
schemas_forget(void)
{
	dlist_mutable_iter it;

	dlist_foreach_modify(it, &schemas_seen)
	{
		SchemaSeen *e = dlist_container(SchemaSeen, node, it.cur);

		dlist_delete(&e->node);
		pfree(e->key);
		pfree(e);
	}
}

/* ------------------------------------------------------- outcomes */

/* The statement is over: what to record. */
static void
stmt_done(Stmt *s, Record rec, bool ok, const char *remote_state, int64 rows, int64 bytes,
		  const char *error_class, const char *error_message)
{
	s->phase = PH_DONE;
	s->record = rec;
	s->ok = ok;
	if (rec == REC_FINISHED && ok && remote_state && strcmp(remote_state, "SKIPPED") != 0)
		schema_made(s, GetCurrentTimestamp());
	else if (rec == REC_FINISHED && !ok)
		schemas_forget();
	set_str(&s->remote_state, remote_state);
	s->rows = rows;
	s->bytes = bytes;
	set_str(&s->error_class, error_class);
	set_str(&s->error_message, error_message);
}

static void
stmt_fail(Stmt *s, const char *error_class, const char *fmt,...) pg_attribute_printf(3, 4);

static void
stmt_fail(Stmt *s, const char *error_class, const char *fmt,...)
{
	char		msg[IL_DBX_MESSAGE_MAX + 512];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	stmt_done(s, REC_FINISHED, false, s->remote_state, -1, -1, error_class, msg);
}

/*
 * Poll again after the current interval, which grows, but only after the
 * first POLL_DENSE polls of a submit: a short statement is seen finished
 * within 50 ms of its end (at 200 ms, not 237, for one of 200 ms), at the
 * price of two more polls for one that runs longer than a quarter second.
 */
static void
schedule_poll(Stmt *s, TimestampTz now)
{
	s->phase = PH_POLL;
	s->tries = 0;
	s->due = after_ms(now, s->poll_ms);
	if (s->dense_polls > 0)
	{
		if (--s->dense_polls == 0)
			s->poll_ms = POLL_AFTER_DENSE_MS;
	}
	else
		s->poll_ms = Min((int) (s->poll_ms * POLL_GROWTH), POLL_CAP_MS);
}

static void
start_history(Stmt *s, TimestampTz now, long delay_ms)
{
	s->phase = PH_HISTORY;
	s->tries = 0;
	s->history_token[0] = '\0';
	s->history_pages = 0;
	s->due = after_ms(now, delay_ms);
}

static void
start_cancel(Stmt *s, TimestampTz now)
{
	s->phase = PH_CANCEL;
	s->tries = 0;
	s->due = now;
}

static void
stmt_free(Stmt *s)
{
	dlist_delete(&s->node);
	nstmts--;
	if (s->statement)
		pfree(s->statement);
	if (s->step_id)
		pfree(s->step_id);
	if (s->model)
		pfree(s->model);
	if (s->environment)
		pfree(s->environment);
	if (s->envkey)
		pfree(s->envkey);
	if (s->workspace_url)
		pfree(s->workspace_url);
	if (s->warehouse_id)
		pfree(s->warehouse_id);
	if (s->catalog)
		pfree(s->catalog);
	if (s->ca_file)
		pfree(s->ca_file);
	if (s->remote_state)
		pfree(s->remote_state);
	if (s->error_class)
		pfree(s->error_class);
	if (s->error_message)
		pfree(s->error_message);
	pfree(s);
}

/* ------------------------------------------------------- credentials */

static void
cred_forget_token(Cred *c)
{
	wipe_free(c->token);
	c->token = NULL;
	c->valid_until = 0;
}

static Cred *
cred_find(const pg_uuid_t *tenant, const char *name)
{
	dlist_iter	it;

	dlist_foreach(it, &creds)
	{
		Cred	   *c = dlist_container(Cred, node, it.cur);

		if (memcmp(&c->tenant, tenant, sizeof(pg_uuid_t)) == 0 && strcmp(c->name, name) == 0)
			return c;
	}
	return NULL;
}

static void
cred_set_failure(Cred *c, const char *error_class, const char *message, TimestampTz now)
{
	set_str(&c->failure_class, error_class);
	set_str(&c->failure, message);
	c->failed_until = after_ms(now, CRED_FAILED_MS);
}

/*
 * Makes sure the credential can give a token: reads it from the vault when
 * it is not held (a PAT: the token; OAuth: the client id and secret, turned
 * into the token request at once). In a transaction; errors of the vault
 * are caught (in a subtransaction) and kept as the credential's failure.
 */
static void
cred_load(Cred *c, TimestampTz now)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	char	   *volatile kind = NULL;
	char	   *volatile secret = NULL;

	if (c->fetching)
		return;
	if (c->token != NULL && now < c->valid_until)
		return;
	if (c->failure != NULL && now < c->failed_until)
		return;
	cred_forget_token(c);
	set_str(&c->failure, NULL);
	set_str(&c->failure_class, NULL);

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(unit_context);
	PG_TRY();
	{
		char	   *k = NULL;
		char	   *sec = NULL;

		ironlayer_credential_open(&c->tenant, c->name, &k, &sec);
		kind = k;
		secret = sec;
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(unit_context);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		cred_set_failure(c, unpack_sql_state(edata->sqlerrcode), edata->message, now);
		return;
	}
	PG_END_TRY();

	if (!c->oauth)
	{
		if (strcmp(kind, "databricks-pat") != 0)
			cred_set_failure(c, "28000",
							 psprintf("credential \"%s\" is of kind \"%s\", not \"databricks-pat\" as auth \"pat\" needs",
									  c->name, kind), now);
		else
		{
			c->token = dstrdup(secret);
			c->valid_until = after_ms(now, CRED_PAT_TTL_MS);
		}
	}
	else if (strcmp(kind, "databricks-oauth") != 0)
		cred_set_failure(c, "28000",
						 psprintf("credential \"%s\" is of kind \"%s\", not \"databricks-oauth\" as auth \"oauth-m2m\" needs",
								  c->name, kind), now);
	else
	{
		/* {"client_id": "...", "client_secret": "..."}: the token request, now */
		Datum		j = DirectFunctionCall1(jsonb_in, CStringGetDatum(secret));
		char	   *id = NULL;
		char	   *sec = NULL;
		il_buf		url = IL_BUF_INIT;
		il_buf		auth = IL_BUF_INIT;
		il_buf		body = IL_BUF_INIT;
		il_error	err;

		PG_TRY();
		{
			id = TextDatumGetCString(DirectFunctionCall2(jsonb_object_field_text, j,
														 CStringGetTextDatum("client_id")));
			sec = TextDatumGetCString(DirectFunctionCall2(jsonb_object_field_text, j,
														  CStringGetTextDatum("client_secret")));
		}
		PG_CATCH();
		{
			FlushErrorState();
			id = sec = NULL;
		}
		PG_END_TRY();
		if (id == NULL || sec == NULL)
			cred_set_failure(c, "28000",
							 psprintf("credential \"%s\" holds no client_id and client_secret", c->name), now);
		else if (il_dbx_token_request(c->workspace_url, id, sec, &url, &auth, &body, &err) != 0)
			cred_set_failure(c, "28000",
							 psprintf("credential \"%s\" cannot make a token request: %s", c->name, err.message), now);
		else
		{
			c->basic = dstrdup(auth.data);
			c->fetching = true;
			c->tries = 0;
			c->due = now;
		}
		if (sec)
			explicit_bzero(sec, strlen(sec));
		if (auth.data)
			explicit_bzero(auth.data, auth.len);
		il_buf_free(&url);
		il_buf_free(&auth);
		il_buf_free(&body);
		/* the jsonb copy of the secret lives in unit_context, reset after the unit */
		explicit_bzero(DatumGetPointer(j), VARSIZE_ANY(DatumGetPointer(j)));
	}
	if (secret)
		explicit_bzero(secret, strlen(secret));
}

static Cred *
cred_get(const pg_uuid_t *tenant, const char *name, const char *auth, const char *workspace_url,
		 const char *ca_file)
{
	Cred	   *c = cred_find(tenant, name);
	bool		oauth = auth != NULL && strcmp(auth, "oauth-m2m") == 0;

	if (c != NULL && (c->oauth != oauth || strcmp(c->workspace_url, workspace_url) != 0))
	{
		/* the environment changed how it uses the credential: start again */
		if (!c->fetching)
		{
			cred_forget_token(c);
			c->oauth = oauth;
			set_str(&c->workspace_url, workspace_url);
			set_str(&c->ca_file, ca_file);
		}
	}
	if (c == NULL)
	{
		c = MemoryContextAllocZero(dispatch_context, sizeof(Cred));
		c->tenant = *tenant;
		c->name = dstrdup(name);
		c->oauth = oauth;
		c->workspace_url = dstrdup(workspace_url);
		c->ca_file = dstrdup(ca_file);
		dlist_push_tail(&creds, &c->node);
	}
	return c;
}

/* ------------------------------------------------------- requests */

static void
http_send(Stmt *s, Cred *c, il_dbx_op op, const char *method, const char *url, const char *body,
		  const char *auth_header, const char *content_type, const char *ca_file)
{
	il_http_request req;
	Flight	   *f;
	const char *headers[4];
	int			n = 0;
	il_error	err;
	uint64_t	id;
	MemoryContext old;
	bool		added;

	f = MemoryContextAllocZero(dispatch_context, sizeof(Flight));
	f->stmt = s;
	f->cred = c;
	f->op = op;
	if (auth_header)
		headers[n++] = auth_header;
	headers[n++] = "Accept: application/json";
	if (content_type)
		headers[n++] = content_type;
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = url;
	req.headers = headers;
	req.nheaders = n;
	req.body = body;
	req.body_len = body ? strlen(body) : 0;
	req.ca_file = ca_file;
	req.connect_timeout_ms = CONNECT_TIMEOUT_MS;
	req.timeout_ms = REQUEST_TIMEOUT_MS;
	req.user = f;
	/* a submit never goes on a kept connection (libcurl would re-send it by itself) */
	req.idempotent = op != IL_DBX_OP_SUBMIT;
	/* the set keeps copies of the request until it is taken: not in unit_context */
	old = MemoryContextSwitchTo(dispatch_context);
	added = il_http_add(http, &req, &id, &err) == 0;
	MemoryContextSwitchTo(old);
	if (!added)
	{
		pfree(f);
		if (s)
			stmt_fail(s, "08006", "could not start a request to %s: %s", s->workspace_url, err.message);
		else
			cred_set_failure(c, "08006", psprintf("could not start a token request: %s", err.message),
							 GetCurrentTimestamp());
		return;
	}
	http_active++;
	if (s)
		s->busy = true;
}

/* The Authorization header line of a statement's credential; NULL: none yet. */
static char *
bearer_header(Stmt *s)
{
	if (s->cred == NULL || s->cred->token == NULL)
		return NULL;
	return psprintf("Authorization: Bearer %s", s->cred->token);
}

/* Sends the statement's next request (its phase says which). */
static void
stmt_request(Stmt *s, TimestampTz now)
{
	il_buf		url = IL_BUF_INIT;
	il_buf		body = IL_BUF_INIT;
	il_error	err;
	char	   *auth;
	MemoryContext old = MemoryContextSwitchTo(unit_context);

	if (s->cred->token == NULL || (s->cred->oauth && now >= s->cred->valid_until))
	{
		/* the token: a failed credential fails the statement; else wait for it */
		if (s->cred->failure != NULL && !s->cred->fetching)
			stmt_fail(s, s->cred->failure_class ? s->cred->failure_class : "28000",
					  "%s", s->cred->failure);
		else
		{
			unit_soon = true;	/* cred_load in the next unit */
			s->due = after_ms(now, 50);
		}
		MemoryContextSwitchTo(old);
		return;
	}
	auth = bearer_header(s);
	switch (s->phase)
	{
		case PH_SUBMIT:
			{
				il_dbx_statement_req r;

				memset(&r, 0, sizeof(r));
				r.warehouse_id = s->warehouse_id;
				r.catalog = s->catalog;
				r.statement = s->statement;
				r.request_id = s->request_id;
				if (il_dbx_url(s->workspace_url, IL_DBX_ROUTE_SUBMIT, NULL, &url, &err) != 0 ||
					il_dbx_statement_body(&r, &body, &err) != 0)
				{
					stmt_fail(s, "22023", "the statement of model %s cannot be sent: %s", s->model, err.message);
					break;
				}
				http_send(s, NULL, IL_DBX_OP_SUBMIT, "POST", url.data, body.data, auth,
						  "Content-Type: application/json", s->ca_file);
				break;
			}
		case PH_POLL:
			if (il_dbx_url(s->workspace_url, IL_DBX_ROUTE_GET, s->statement_id, &url, &err) != 0)
			{
				stmt_fail(s, "22023", "statement %s cannot be read: %s", s->statement_id, err.message);
				break;
			}
			http_send(s, NULL, IL_DBX_OP_POLL, "GET", url.data, NULL, auth, NULL, s->ca_file);
			break;
		case PH_CANCEL:
			if (il_dbx_url(s->workspace_url, IL_DBX_ROUTE_CANCEL, s->statement_id, &url, &err) != 0)
			{
				stmt_fail(s, "22023", "statement %s cannot be cancelled: %s", s->statement_id, err.message);
				break;
			}
			http_send(s, NULL, IL_DBX_OP_CANCEL, "POST", url.data, "{}", auth,
					  "Content-Type: application/json", s->ca_file);
			break;
		case PH_HISTORY:
			{
				int64		start = (s->submitted_at != 0 ? s->submitted_at : now) / 1000 + (int64) 946684800000 - 3600 * 1000;
				int64		end = now / 1000 + (int64) 946684800000 + 3600 * 1000;

				if (il_dbx_history_url(s->workspace_url, s->warehouse_id, start, end, 1000,
									   s->history_token[0] ? s->history_token : NULL, &url, &err) != 0)
				{
					stmt_fail(s, "22023", "query history cannot be read: %s", err.message);
					break;
				}
				http_send(s, NULL, IL_DBX_OP_HISTORY, "GET", url.data, NULL, auth, NULL, s->ca_file);
				break;
			}
		default:
			break;
	}
	if (auth)
		wipe_free(auth);
	il_buf_free(&url);
	il_buf_free(&body);
	MemoryContextSwitchTo(old);
}

static void
cred_request(Cred *c)
{
	il_buf		url = IL_BUF_INIT;
	il_error	err;
	MemoryContext old = MemoryContextSwitchTo(unit_context);

	if (il_dbx_url(c->workspace_url, IL_DBX_ROUTE_SUBMIT, NULL, &url, &err) == 0)
	{
		/* the token endpoint of the workspace */
		il_buf		tok = IL_BUF_INIT;
		const char *base = c->workspace_url;
		size_t		blen = strlen(base);

		while (blen > 0 && base[blen - 1] == '/')
			blen--;
		il_buf_append(&tok, base, blen);
		il_buf_puts(&tok, "/oidc/v1/token");
		http_send(NULL, c, IL_DBX_OP_TOKEN, "POST", tok.data, "grant_type=client_credentials&scope=all-apis",
				  c->basic, "Content-Type: application/x-www-form-urlencoded", c->ca_file);
		il_buf_free(&tok);
	}
	il_buf_free(&url);
	MemoryContextSwitchTo(old);
}

/* ------------------------------------------------------- answers */

/* The statement's state from a StatementResponse: go on, or done. */
static void
on_statement(Stmt *s, const il_dbx_statement *st, TimestampTz now)
{
	if (st->statement_id[0] && strcmp(st->statement_id, s->statement_id) != 0)
	{
		strlcpy(s->statement_id, st->statement_id, sizeof(s->statement_id));
		s->started_pending = true;
	}
	/* the last state seen is the telemetry's remote_state */
	set_str(&s->remote_state, il_dbx_state_name(st->state));
	switch (st->state)
	{
		case IL_DBX_STATE_SUCCEEDED:
		case IL_DBX_STATE_CLOSED:
			stmt_done(s, REC_FINISHED, true, il_dbx_state_name(st->state), st->rows_affected,
					  st->total_byte_count, NULL, NULL);
			return;
		case IL_DBX_STATE_FAILED:
			{
				char		msg[IL_DBX_MESSAGE_MAX + 256];

				snprintf(msg, sizeof(msg), "statement %d of model %s failed on the warehouse: %s",
						 s->seq, s->model, st->message[0] ? st->message : st->error_code);
				stmt_done(s, REC_FINISHED, false, "FAILED", -1, -1,
						  strlen(st->sql_state) == 5 ? st->sql_state : "58000", msg);
				return;
			}
		case IL_DBX_STATE_CANCELED:
			if (s->cancel_wanted)
				stmt_done(s, REC_CANCELLED, false, "CANCELED", -1, -1, NULL, NULL);
			else if (s->timed_out)
				stmt_fail(s, "57014",
						  "canceling statement %d of model %s: it ran past the statement_timeout of environment \"%s\" (" INT64_FORMAT " ms)",
						  s->seq, s->model, s->environment, s->timeout_ms);
			else
				stmt_fail(s, "57014", "statement %d of model %s was cancelled on the warehouse", s->seq, s->model);
			return;
		default:
			break;
	}
	/* not finished */
	if (s->cancel_wanted && s->phase != PH_CANCEL && s->record == REC_NONE && !s->timed_out)
	{
		start_cancel(s, now);
		return;
	}
	if (!s->timed_out && s->deadline != 0 && now >= s->deadline)
	{
		s->timed_out = true;
		start_cancel(s, now);
		return;
	}
	schedule_poll(s, now);
}

/* Reads one finished request. */
static void
on_answer(il_http_answer *a, TimestampTz now)
{
	Flight	   *f = (Flight *) a->user;
	Stmt	   *s = f->stmt;
	il_dbx_retry_in rin;
	il_dbx_retry_out rout;
	il_dbx_error e;
	il_error	err;
	il_dbx_failure fail;
	int			status = a->fail == IL_HTTP_FAIL_NONE ? (int) a->status : 0;
	MemoryContext old = MemoryContextSwitchTo(unit_context);

	http_active--;
	if (s)
		s->busy = false;

	fail = status == 0 ? IL_DBX_FAIL_TRANSPORT : il_dbx_classify(status);

	/* the retry policy first */
	memset(&rin, 0, sizeof(rin));
	rin.op = f->op;
	rin.http_status = status;
	rin.transport = status != 0 ? IL_DBX_TRANSPORT_NONE :
		(a->fail == IL_HTTP_FAIL_CONNECT ? IL_DBX_TRANSPORT_CONNECT : IL_DBX_TRANSPORT_OTHER);
	rin.attempt = (s ? s->tries : f->cred->tries) + 1;
	rin.retry_after = il_dbx_retry_after(a->retry_after);
	rin.jitter = jitter();
	rout = il_dbx_retry_decide(&rin);
	if (fail != IL_DBX_FAIL_NONE)
	{
		il_dbx_parse_error(status, a->body ? a->body : "", a->body ? a->body_len : 0, &e);
		if (status == 0)
			snprintf(e.message, sizeof(e.message), "%s", a->error[0] ? a->error : "no answer");
	}

	if (s == NULL)
	{
		/* an OAuth token request */
		Cred	   *c = f->cred;
		il_dbx_token t;

		if (fail == IL_DBX_FAIL_NONE && il_dbx_parse_token(a->body, a->body_len, &t, &err) == 0)
		{
			int64		ttl = t.expires_in > 0 ? t.expires_in : 3600;
			int64		margin = Min(ttl / 4, 60);

			c->token = dstrdup(t.access_token);
			c->valid_until = after_ms(now, (ttl - margin) * 1000);
			c->fetching = false;
			wipe_free(c->basic);
			c->basic = NULL;
		}
		else if (fail != IL_DBX_FAIL_NONE && rout.retry)
		{
			/* fetching stays set: start_due sends it again when due */
			c->tries++;
			c->due = after_ms(now, rout.delay_ms);
		}
		else
		{
			char	   *why = fail == IL_DBX_FAIL_NONE ?
				psprintf("%s%s%s", t.error[0] ? t.error : "no access token in the answer",
						 t.error_description[0] ? ": " : "", t.error_description) :
				psprintf("HTTP %d: %s", status, e.message);

			c->fetching = false;
			wipe_free(c->basic);
			c->basic = NULL;
			cred_set_failure(c, "28000",
							 psprintf("the token endpoint of %s refused credential \"%s\": %s",
									  c->workspace_url, c->name, why), now);
		}
		if (fail == IL_DBX_FAIL_NONE)
			il_dbx_token_wipe(&t);
		pfree(f);
		MemoryContextSwitchTo(old);
		return;
	}

	if (fail != IL_DBX_FAIL_NONE && f->op != IL_DBX_OP_TOKEN)
	{
		if (rout.retry)
		{
			s->tries++;
			s->http_retries++;
			s->due = after_ms(now, rout.delay_ms);
			pfree(f);
			MemoryContextSwitchTo(old);
			return;
		}
		if (fail == IL_DBX_FAIL_AUTH)
		{
			/* an OAuth token may have expired early: once more with a new one */
			if (s->cred->oauth && !s->auth_refreshed)
			{
				s->auth_refreshed = true;
				cred_forget_token(s->cred);
				s->due = now;
			}
			else
			{
				cred_forget_token(s->cred);
				stmt_fail(s, "28000",
						  "the warehouse refused credential \"%s\" of environment \"%s\" (HTTP %d): %s",
						  s->cred->name, s->environment, status, e.message);
			}
			pfree(f);
			MemoryContextSwitchTo(old);
			return;
		}
	}

	switch (f->op)
	{
		case IL_DBX_OP_SUBMIT:
			if (fail == IL_DBX_FAIL_NONE)
			{
				il_dbx_statement st;

				if (il_dbx_parse_statement(a->body, a->body_len, &st, &err) != 0 || !st.statement_id[0])
					start_history(s, now, 0);	/* it was read, maybe run: find it */
				else
				{
					s->poll_ms = POLL_FIRST_MS;
					s->dense_polls = POLL_DENSE;
					on_statement(s, &st, now);
				}
			}
			else if (fail == IL_DBX_FAIL_TRANSPORT || fail == IL_DBX_FAIL_SERVER ||
					 fail == IL_DBX_FAIL_THROTTLED || fail == IL_DBX_FAIL_UNAVAILABLE)
			{
				/* no answer, or one that does not say it did not run: find it */
				s->http_retries++;
				start_history(s, now, 0);
			}
			else
				stmt_fail(s, "58000", "the warehouse refused statement %d of model %s (HTTP %d): %s",
						  s->seq, s->model, status, e.message);
			break;
		case IL_DBX_OP_POLL:
			if (fail == IL_DBX_FAIL_NONE)
			{
				il_dbx_statement st;

				if (il_dbx_parse_statement(a->body, a->body_len, &st, &err) != 0)
				{
					s->http_retries++;
					schedule_poll(s, now);
				}
				else
					on_statement(s, &st, now);
			}
			else if (fail == IL_DBX_FAIL_NOT_FOUND)
				start_history(s, now, 0);	/* expired, or never known here */
			else if (s->deadline != 0 && now >= s->deadline)
				stmt_fail(s, "57014", "statement %d of model %s could not be followed past the statement_timeout of environment \"%s\": %s",
						  s->seq, s->model, s->environment, e.message);
			else
			{
				/* retries exhausted: keep following, slowly */
				s->http_retries++;
				s->poll_ms = POLL_CAP_MS;
				s->dense_polls = 0;
				schedule_poll(s, now);
			}
			break;
		case IL_DBX_OP_CANCEL:
			/* received (or not): poll to a final state */
			s->poll_ms = POLL_FIRST_MS;
			s->dense_polls = 0;
			schedule_poll(s, now);
			break;
		case IL_DBX_OP_HISTORY:
			if (fail == IL_DBX_FAIL_NONE)
			{
				il_dbx_history h;

				if (il_dbx_parse_history(a->body, a->body_len, s->request_id, &h, &err) != 0)
				{
					s->http_retries++;
					start_history(s, now, HISTORY_RECHECK_MS);
				}
				else if (h.found)
				{
					strlcpy(s->statement_id, h.query_id, sizeof(s->statement_id));
					s->started_pending = true;
					s->poll_ms = POLL_FIRST_MS;
					if (s->cancel_wanted)
						start_cancel(s, now);
					else
					{
						s->phase = PH_POLL;
						s->tries = 0;
						s->due = now;
					}
				}
				else if (h.has_next_page && h.next_page_token[0] && ++s->history_pages < HISTORY_PAGES)
				{
					strlcpy(s->history_token, h.next_page_token, sizeof(s->history_token));
					s->tries = 0;
					s->due = now;
				}
				else if (s->submitted_at != 0 &&
						 now < after_ms(s->submitted_at, history_grace_ms))
					start_history(s, now, HISTORY_RECHECK_MS);	/* not yet: history lags */
				else if (s->cancel_wanted)
					stmt_done(s, REC_CANCELLED, false, NULL, -1, -1, NULL, NULL);
				else if (s->resends >= MAX_RESENDS)
					stmt_fail(s, "08006", "statement %d of model %s was sent %d times and the warehouse never ran it",
							  s->seq, s->model, s->resends + 1);
				else
					stmt_done(s, REC_RESEND, false, NULL, -1, -1, NULL, NULL);
			}
			else if (s->deadline != 0 && now >= s->deadline)
				stmt_fail(s, "57014", "statement %d of model %s has no known outcome after the statement_timeout of environment \"%s\": %s",
						  s->seq, s->model, s->environment, e.message);
			else
				start_history(s, now, POLL_CAP_MS);
			break;
		default:
			break;
	}
	pfree(f);
	MemoryContextSwitchTo(old);
}

/* ------------------------------------------------------- database units */

/*
 * Runs one query of the dispatcher's functions in a subtransaction;
 * false (and a LOG line) on an ERROR, which is rolled back alone.
 */
static bool
sub_exec(const char *query, int nargs, Oid *types, Datum *values, const char *nulls, bool *result)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	volatile bool ok = true;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		bool		isnull;

		if (SPI_execute_with_args(query, nargs, types, values, nulls, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "dispatcher query failed: %s", query);
		if (result)
		{
			Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

			*result = !isnull && DatumGetBool(d);
		}
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(unit_context);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		ereport(LOG,
				(errmsg("ironlayer dispatcher could not record a statement's transition: %s", edata->message)));
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

static Datum
text_or_null(const char *s, char *null)
{
	if (s == NULL)
	{
		*null = 'n';
		return (Datum) 0;
	}
	*null = ' ';
	return CStringGetTextDatum(s);
}

/* Records what happened to one statement; true when it is no longer followed. */
static bool
record_stmt(Stmt *s)
{
	Oid			types[9] = {TEXTOID, BOOLOID, TEXTOID, INT8OID, INT8OID, TEXTOID, TEXTOID, INT4OID, TEXTOID};
	Datum		values[9];
	char		nulls[10] = "         ";
	bool		ok = true;

	values[0] = CStringGetTextDatum(s->request_id);
	if (s->started_pending && s->record != REC_FINISHED)
	{
		values[1] = CStringGetTextDatum(s->statement_id);
		if (sub_exec("SELECT ironlayer._dispatch_started($1::uuid, $2)", 2,
					 (Oid[]) {TEXTOID, TEXTOID}, values, NULL, NULL))
			s->started_pending = false;
	}
	switch (s->record)
	{
		case REC_NONE:
			return false;
		case REC_FINISHED:
			values[1] = BoolGetDatum(s->ok);
			values[2] = text_or_null(s->remote_state, &nulls[2]);
			values[3] = Int64GetDatum(s->rows);
			nulls[3] = s->rows < 0 ? 'n' : ' ';
			values[4] = Int64GetDatum(s->bytes);
			nulls[4] = s->bytes < 0 ? 'n' : ' ';
			values[5] = text_or_null(s->error_class, &nulls[5]);
			values[6] = text_or_null(s->error_message, &nulls[6]);
			values[7] = Int32GetDatum(s->http_retries);
			/* the statement id too, when not stored yet */
			values[8] = text_or_null(s->started_pending && s->statement_id[0] ? s->statement_id : NULL, &nulls[8]);
			ok = sub_exec("SELECT ironlayer._dispatch_finished($1::uuid, $2, $3, $4, $5, $6, $7, $8, $9)",
						  9, types, values, nulls, NULL);
			if (ok)
				s->started_pending = false;
			if (ok && !s->ok)
				ereport(LOG,
						(errmsg("ironlayer dispatcher: statement %d of step %s of run " INT64_FORMAT " failed with SQLSTATE %s",
								s->seq, s->step_id, s->run_id, s->error_class ? s->error_class : "?"),
						 errdetail("ironlayer.remote_statements holds the error message.")));
			break;
		case REC_CANCELLED:
			ok = sub_exec("SELECT ironlayer._dispatch_cancelled($1::uuid)", 1, types, values, NULL, NULL);
			break;
		case REC_RESEND:
			ok = sub_exec("SELECT ironlayer._dispatch_resend($1::uuid) IS NOT NULL", 1, types, values, NULL, NULL);
			break;
	}
	if (ok)
		return true;
	if (++s->record_tries < RECORD_TRIES)
		return false;
	/* given up: not followed any more, and not taken over again by this process */
	ereport(WARNING,
			(errmsg("ironlayer dispatcher gives up recording statement %s of step %s of run " INT64_FORMAT,
					s->request_id, s->step_id, s->run_id),
			 errdetail("It stays as it is in ironlayer.remote_statements until the dispatcher restarts.")));
	dropped = dropped ? repalloc(dropped, sizeof(char *) * (ndropped + 1)) :
		MemoryContextAlloc(dispatch_context, sizeof(char *));
	dropped[ndropped++] = dstrdup(s->request_id);
	return true;
}

static Stmt *
stmt_find(const char *request_id)
{
	dlist_iter	it;

	dlist_foreach(it, &stmts)
	{
		Stmt	   *s = dlist_container(Stmt, node, it.cur);

		if (strcmp(s->request_id, request_id) == 0)
			return s;
	}
	return NULL;
}

/* The request ids followed (or given up), as a uuid[] literal. */
static char *
known_literal(void)
{
	StringInfoData b;
	dlist_iter	it;
	bool		first = true;
	int			i;

	initStringInfo(&b);
	appendStringInfoChar(&b, '{');
	dlist_foreach(it, &stmts)
	{
		Stmt	   *s = dlist_container(Stmt, node, it.cur);

		appendStringInfoString(&b, first ? "" : ",");
		appendStringInfoString(&b, s->request_id);
		first = false;
	}
	for (i = 0; i < ndropped; i++)
	{
		appendStringInfoString(&b, first ? "" : ",");
		appendStringInfoString(&b, dropped[i]);
		first = false;
	}
	appendStringInfoChar(&b, '}');
	return b.data;
}

/*
 * Settings are re-checked when used: the host must still be allowed and
 * the CA bundle resolvable. NULL when fine, else why not.
 */
static char *
check_environment(const char *workspace_url, const char *ca_bundle, char **ca_file)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	char	   *volatile why = NULL;
	char		host[256];
	const char *p;
	size_t		n = 0;

	*ca_file = NULL;
	if (workspace_url == NULL || strncmp(workspace_url, "https://", 8) != 0)
		return pstrdup("its workspace_url is not an https URL");
	p = workspace_url + 8;
	while (*p && *p != '/' && n < sizeof(host) - 1)	/* "host" or "host:port" */
		host[n++] = *p++;
	host[n] = '\0';
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(unit_context);
	PG_TRY();
	{
		if (!ironlayer_databricks_host_allowed(host))
			why = psprintf("host \"%s\" is not allowed by ironlayer.databricks_hosts", host);
		else if (ca_bundle != NULL)
			*ca_file = ironlayer_databricks_ca_path(ca_bundle);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(unit_context);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		why = pstrdup(edata->message);
	}
	PG_END_TRY();
	return why;
}

/* A row of _dispatch_work as a new Stmt (not yet in the list). */
static Stmt *
stmt_from_row(HeapTuple tup, TupleDesc desc, TimestampTz now)
{
	Stmt	   *s = MemoryContextAllocZero(dispatch_context, sizeof(Stmt));
	bool		isnull;
	Datum		d;
	char	   *v;
	char	   *ca_bundle;

#define COL(name) SPI_fnumber(desc, name)
#define TXT(name) SPI_getvalue(tup, desc, COL(name))
	s->tenant = *DatumGetUUIDP(SPI_getbinval(tup, desc, COL("tenant_id"), &isnull));
	s->run_id = DatumGetInt64(SPI_getbinval(tup, desc, COL("run_id"), &isnull));
	s->step_id = dstrdup(TXT("step_id"));
	s->model = dstrdup(TXT("model"));
	s->environment = dstrdup(TXT("environment"));
	s->envkey = MemoryContextStrdup(dispatch_context, psprintf("%s/%s", TXT("tenant_id"), s->environment));
	s->seq = DatumGetInt32(SPI_getbinval(tup, desc, COL("seq"), &isnull));
	strlcpy(s->request_id, TXT("request_id"), sizeof(s->request_id));
	v = TXT("statement_id");
	if (v)
		strlcpy(s->statement_id, v, sizeof(s->statement_id));
	s->statement = dstrdup(TXT("statement"));
	s->idempotent = DatumGetBool(SPI_getbinval(tup, desc, COL("idempotent"), &isnull));
	s->resends = DatumGetInt32(SPI_getbinval(tup, desc, COL("resends"), &isnull));
	s->http_retries = DatumGetInt32(SPI_getbinval(tup, desc, COL("http_retries"), &isnull));
	d = SPI_getbinval(tup, desc, COL("submitted_at"), &isnull);
	s->submitted_at = isnull ? 0 : DatumGetTimestampTz(d);
	d = SPI_getbinval(tup, desc, COL("statement_timeout_ms"), &isnull);
	s->timeout_ms = isnull ? 3600 * 1000 : DatumGetInt64(d);
	s->workspace_url = dstrdup(TXT("workspace_url"));
	s->warehouse_id = dstrdup(TXT("warehouse_id"));
	s->catalog = dstrdup(TXT("catalog"));
	ca_bundle = TXT("ca_bundle");
	s->poll_ms = POLL_FIRST_MS;
	s->due = now;
	{
		char	   *ca_file = NULL;
		char	   *why = check_environment(s->workspace_url, ca_bundle, &ca_file);
		char	   *cred = TXT("credential");

		s->ca_file = dstrdup(ca_file);
		if (why == NULL && cred == NULL)
			why = pstrdup("it names no credential");
		if (why != NULL)
		{
			dlist_push_tail(&stmts, &s->node);
			nstmts++;
			stmt_fail(s, "22023", "environment \"%s\" cannot reach its warehouse: %s", s->environment, why);
			return s;
		}
		s->cred = cred_get(&s->tenant, cred, TXT("auth"), s->workspace_url, s->ca_file);
	}
#undef COL
#undef TXT
	dlist_push_tail(&stmts, &s->node);
	nstmts++;
	return s;
}

static void
cursor_set(const char *envkey, int64 at)
{
	int			i;

	for (i = 0; i < ncursors; i++)
		if (strcmp(cursors[i].envkey, envkey) == 0)
		{
			cursors[i].at = at;
			return;
		}
	cursors = cursors ? repalloc(cursors, sizeof(Cursor) * (ncursors + 1)) :
		MemoryContextAlloc(dispatch_context, sizeof(Cursor));
	cursors[ncursors].envkey = MemoryContextStrdup(dispatch_context, envkey);
	cursors[ncursors].at = at;
	ncursors++;
}

/* {"<tenant>/<env>": ready_seq, ...} */
static char *
cursors_json(void)
{
	StringInfoData b;
	int			i;

	initStringInfo(&b);
	appendStringInfoChar(&b, '{');
	for (i = 0; i < ncursors; i++)
		appendStringInfo(&b, "%s\"%s\": " INT64_FORMAT, i ? ", " : "", cursors[i].envkey, cursors[i].at);
	appendStringInfoChar(&b, '}');
	return b.data;
}

/* {"<tenant>/<env>": statements followed, ...} */
static char *
flying_json(void)
{
	StringInfoData b;
	dlist_iter	it;
	int			i;
	int			n = 0;
	const char **keys = palloc(sizeof(char *) * (nstmts + 1));
	int		   *counts = palloc0(sizeof(int) * (nstmts + 1));

	dlist_foreach(it, &stmts)
	{
		Stmt	   *s = dlist_container(Stmt, node, it.cur);

		for (i = 0; i < n; i++)
			if (strcmp(keys[i], s->envkey) == 0)
				break;
		if (i == n)
			keys[n++] = s->envkey;
		counts[i]++;
	}
	initStringInfo(&b);
	appendStringInfoChar(&b, '{');
	for (i = 0; i < n; i++)
		appendStringInfo(&b, "%s\"%s\": %d", i ? ", " : "", keys[i], counts[i]);
	appendStringInfoChar(&b, '}');
	return b.data;
}

/*
 * One database unit: record, take work, write the intents. Returns the
 * number of statements newly taken.
 */
static int
db_unit(TimestampTz now)
{
	dlist_mutable_iter it;
	int			taken = 0;
	uint64		i;
	MemoryContext old;
	StringInfoData intents;

	pgstat_report_activity(STATE_RUNNING, "ironlayer: dispatching");
	old = MemoryContextSwitchTo(unit_context);
	initStringInfo(&intents);
	appendStringInfoChar(&intents, '{');
	ironlayer_unit_begin();

	/* 1. what happened */
	dlist_foreach_modify(it, &stmts)
	{
		Stmt	   *s = dlist_container(Stmt, node, it.cur);

		if ((s->started_pending || s->record != REC_NONE) && record_stmt(s) && s->record != REC_NONE)
			stmt_free(s);
	}

	/*
	 * 2. what to do: a full look now and then (at the start: adoptions),
	 * else only what became ready since the last look
	 */
	{
		Oid			types[4] = {INT4OID, TEXTOID, TEXTOID, TEXTOID};
		Datum		values[4];
		char		nulls[4] = {' ', ' ', 'n', 'n'};

		values[0] = Int32GetDatum(MAX_SENDS_PER_UNIT);
		values[1] = CStringGetTextDatum(known_literal());
		look_owed = now < full_look_due;
		if (!look_owed)
			full_look_due = after_ms(now, FULL_LOOK_MS);
		else
		{
			values[2] = CStringGetTextDatum(cursors_json());
			values[3] = CStringGetTextDatum(flying_json());
			nulls[2] = nulls[3] = ' ';
		}
		if (SPI_execute_with_args("SELECT * FROM ironlayer._dispatch_work($1, $2::uuid[], $3::jsonb, $4::jsonb)",
								  4, types, values, nulls, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "ironlayer._dispatch_work() failed");
	}
	{
		SPITupleTable *tt = SPI_tuptable;
		uint64		n = SPI_processed;

		for (i = 0; i < n; i++)
		{
			HeapTuple	tup = tt->vals[i];
			TupleDesc	desc = tt->tupdesc;
			char	   *action = SPI_getvalue(tup, desc, SPI_fnumber(desc, "action"));
			char	   *rid = SPI_getvalue(tup, desc, SPI_fnumber(desc, "request_id"));
			char	   *state = SPI_getvalue(tup, desc, SPI_fnumber(desc, "state"));
			Stmt	   *s;

			if (strcmp(action, "cursor") == 0)
			{
				bool		isnull;
				Datum		d = SPI_getbinval(tup, desc, SPI_fnumber(desc, "ready_seq"), &isnull);

				if (!isnull)
					cursor_set(psprintf("%s/%s", SPI_getvalue(tup, desc, SPI_fnumber(desc, "tenant_id")),
										SPI_getvalue(tup, desc, SPI_fnumber(desc, "environment"))),
							   DatumGetInt64(d));
				continue;
			}
			s = stmt_find(rid);

			if (strcmp(action, "cancel") == 0)
			{
				if (s != NULL)
				{
					if (!s->cancel_wanted)
					{
						s->cancel_wanted = true;
						if (s->phase == PH_POLL && s->statement_id[0])
							start_cancel(s, now);
						else if (s->phase == PH_SUBMIT && !s->busy)
							stmt_done(s, REC_CANCELLED, false, NULL, -1, -1, NULL, NULL);	/* never sent */
					}
				}
				else if (strcmp(state, "ready") == 0)
				{
					Oid			t[1] = {TEXTOID};
					Datum		v[1] = {CStringGetTextDatum(rid)};

					(void) sub_exec("SELECT ironlayer._dispatch_cancelled($1::uuid)", 1, t, v, NULL, NULL);
				}
				else
				{
					/* in flight and not followed: take it over to cancel it */
					s = stmt_from_row(tup, desc, now);
					s->adopted = true;
					s->cancel_wanted = true;
					if (s->phase != PH_DONE)
					{
						if (s->statement_id[0])
							start_cancel(s, now);
						else
							start_history(s, now, 0);
					}
				}
				continue;
			}
			if (s != NULL)
				continue;		/* followed already */
			s = stmt_from_row(tup, desc, now);
			if (strcmp(action, "send") == 0)
			{
				/*
				 * Its intent is written below, for all at once (one that
				 * cannot be sent fails its step then, as submitted).
				 */
				s->intent = true;
				if (s->phase != PH_DONE)
					s->phase = PH_INTENT;
				appendStringInfo(&intents, "%s%s", intents.len > 1 ? "," : "", s->request_id);
				continue;
			}
			if (s->phase == PH_DONE)
				continue;		/* its environment cannot be used */
			if (strcmp(action, "adopt") == 0)
			{
				/* the outcome is unknown: by its id, else by history */
				s->adopted = true;
				s->deadline = s->submitted_at ? after_ms(s->submitted_at, s->timeout_ms) : 0;
				if (s->statement_id[0])
				{
					s->phase = PH_POLL;
					s->due = now;
				}
				else
					start_history(s, now, 0);
				ereport(LOG,
						(errmsg("ironlayer dispatcher reconciles statement %d of step %s of run " INT64_FORMAT " (%s)",
								s->seq, s->step_id, s->run_id,
								s->statement_id[0] ? "by its statement id" : "in query history")));
			}
		}
	}

	/* 3. the intents, in this transaction, committed before any POST */
	if (intents.len > 1)
	{
		Oid			t[1] = {TEXTOID};
		Datum		v[1];
		dlist_mutable_iter si;
		uint64		k;
		TimestampTz at = GetCurrentTimestamp();

		appendStringInfoChar(&intents, '}');
		v[0] = CStringGetTextDatum(intents.data);
		if (SPI_execute_with_args("SELECT ironlayer._dispatch_submitting($1::uuid[])::text",
								  1, t, v, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "ironlayer._dispatch_submitting() failed");
		dlist_foreach_modify(si, &stmts)
		{
			Stmt	   *s = dlist_container(Stmt, node, si.cur);
			bool		marked = false;

			if (!s->intent)
				continue;
			s->intent = false;
			for (k = 0; k < SPI_processed && !marked; k++)
				marked = strcmp(SPI_getvalue(SPI_tuptable->vals[k], SPI_tuptable->tupdesc, 1), s->request_id) == 0;
			if (!marked)
			{
				stmt_free(s);	/* no longer ready (cancelled meanwhile) */
				continue;
			}
			if (s->phase == PH_DONE)
				continue;		/* failed already: recorded in the next unit */
			s->submitted_at = at;
			s->deadline = after_ms(s->submitted_at, s->timeout_ms);
			s->phase = PH_SUBMIT;
			s->due = now;
			taken++;
			if (schema_seen(s, now))
				stmt_done(s, REC_FINISHED, true, "SKIPPED", -1, -1, NULL, NULL);
		}
	}

	/* 4. credentials the new statements need, read while in the transaction */
	{
		dlist_iter	ci;

		dlist_foreach(ci, &creds)
		{
			Cred	   *c = dlist_container(Cred, node, ci.cur);
			dlist_iter	si;
			bool		needed = false;

			if (c->fetching || (c->token != NULL && now < c->valid_until))
				continue;
			dlist_foreach(si, &stmts)
			{
				Stmt	   *s = dlist_container(Stmt, node, si.cur);

				if (s->cred == c && s->phase != PH_DONE)
				{
					needed = true;
					break;
				}
			}
			if (needed)
				cred_load(c, now);
		}
	}
	/*
	 * Only an intent must be on disk before its POST. Losing any other
	 * transition in a crash costs a reconciliation (the statement is read
	 * again by its id, or found in history), so those units do not wait
	 * for their WAL flush.
	 */
	if (taken == 0)
		(void) set_config_option("synchronous_commit", "off", PGC_SUSET, PGC_S_SESSION,
								 GUC_ACTION_LOCAL, true, 0, false);
	ironlayer_unit_commit();
	MemoryContextSwitchTo(old);
	return taken;
}

/* ------------------------------------------------------- the loop */

/* Starts the requests that are due; the time of the next one due. */
static TimestampTz
start_due(TimestampTz now)
{
	dlist_iter	it;
	TimestampTz next = DT_NOEND;

	dlist_foreach(it, &creds)
	{
		Cred	   *c = dlist_container(Cred, node, it.cur);

		if (c->fetching && c->basic != NULL && c->due != DT_NOEND)
		{
			if (c->due <= now)
			{
				c->due = DT_NOEND;	/* in flight */
				cred_request(c);
			}
			else
				next = Min(next, c->due);
		}
	}
	dlist_foreach(it, &stmts)
	{
		Stmt	   *s = dlist_container(Stmt, node, it.cur);

		if (s->busy || s->phase == PH_DONE)
			continue;
		if (s->due > now)
		{
			next = Min(next, s->due);
			continue;
		}
		/* a deadline passed while waiting between polls */
		if (s->phase == PH_POLL && !s->timed_out && !s->cancel_wanted && s->deadline != 0 && now >= s->deadline)
		{
			s->timed_out = true;
			s->phase = PH_CANCEL;
			s->tries = 0;
		}
		stmt_request(s, now);
		if (!s->busy && s->phase != PH_DONE)
			next = Min(next, s->due);
	}
	return next;
}

static bool
has_records(void)
{
	dlist_iter	it;

	dlist_foreach(it, &stmts)
	{
		Stmt	   *s = dlist_container(Stmt, node, it.cur);

		if (s->record != REC_NONE || s->started_pending)
			return true;
	}
	return false;
}

static bool
functions_installed(void)
{
	Oid			argtypes[4] = {INT4OID, UUIDARRAYOID, JSONBOID, JSONBOID};
	bool		ok;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	ok = OidIsValid(get_extension_oid("ironlayer", true)) &&
		OidIsValid(LookupFuncName(list_make2(makeString("ironlayer"), makeString("_dispatch_work")),
								  4, argtypes, true));
	CommitTransactionCommand();
	return ok;
}

PGDLLEXPORT void ironlayer_dispatcher_main(Datum main_arg);

void
ironlayer_dispatcher_main(Datum main_arg)
{
	TimestampTz next_unit = 0;
	TimestampTz last_unit = 0;
	bool		pending = false;
	volatile bool woken = true;
	il_error	err;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	if (!ironlayer_dispatcher_take_slot())
		proc_exit(0);			/* another dispatcher runs */

	BackgroundWorkerInitializeConnection(ironlayer_worker_database(), NULL, 0);
	pgstat_report_appname(DISPATCHER_NAME);
	SetConfigOption("default_transaction_isolation", "read committed", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("lock_timeout", "60s", PGC_SUSET, PGC_S_OVERRIDE);
	dispatch_context = AllocSetContextCreate(TopMemoryContext, "ironlayer dispatcher", ALLOCSET_DEFAULT_SIZES);
	unit_context = AllocSetContextCreate(TopMemoryContext, "ironlayer dispatcher unit", ALLOCSET_DEFAULT_SIZES);

	{
		MemoryContext old = MemoryContextSwitchTo(dispatch_context);

		il_http_options opt;

		memset(&opt, 0, sizeof(opt));
		opt.user_agent = "ironlayer/" IRONLAYER_VERSION;
		http = il_http_create(&opt, &err);
		MemoryContextSwitchTo(old);
		if (http == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_SYSTEM_ERROR),
					 errmsg("ironlayer dispatcher could not start its HTTP client: %s", err.message)));
	}

	/* until the extension has the dispatcher's functions, wait */
	while (!functions_installed())
	{
		CHECK_FOR_INTERRUPTS();
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 5000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
	}
	ereport(LOG, (errmsg("ironlayer dispatcher started in database \"%s\"", ironlayer_worker_database())));

	for (;;)
	{
		volatile TimestampTz now;
		TimestampTz next;
		long		wait_ms;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		now = GetCurrentTimestamp();
		pending = woken || unit_soon || has_records();
		if ((pending && now >= after_ms(last_unit, UNIT_GAP_MS)) || now >= next_unit)
		{
			ResetLatch(MyLatch);
			woken = false;
			unit_soon = false;
			PG_TRY();
			{
				(void) db_unit(now);
			}
			PG_CATCH();
			{
				/* logged; the transaction is gone, what is followed stays */
				HOLD_INTERRUPTS();
				MemoryContextSwitchTo(TopMemoryContext);
				EmitErrorReport();
				FlushErrorState();
				AbortCurrentTransaction();
				RESUME_INTERRUPTS();
				pg_usleep(1000L * 1000L);
			}
			PG_END_TRY();
			MemoryContextSwitchTo(TopMemoryContext);
			MemoryContextReset(unit_context);
			now = GetCurrentTimestamp();
			last_unit = now;
			pending = false;
			next_unit = after_ms(now, nstmts > 0 ? UNIT_BUSY_MS : UNIT_IDLE_MS);
			if (look_owed)
			{
				if (nstmts == 0)
					full_look_due = Min(full_look_due, after_ms(now, IDLE_LOOK_MS));
				next_unit = Min(next_unit, full_look_due);
			}
			pgstat_report_activity(STATE_IDLE, NULL);
		}

		next = start_due(now);
		MemoryContextReset(unit_context);
		/* what waits for a unit (records, a wake-up) is taken up to UNIT_GAP_MS later, together */
		if (pending || has_records())
			next = Min(next, after_ms(last_unit, UNIT_GAP_MS));
		next = Min(next, next_unit);
		wait_ms = ms_until(now, next);

		if (http_active > 0)
		{
			il_http_answer a;
			MemoryContext old = MemoryContextSwitchTo(dispatch_context);

			if (il_http_perform(http, (int) Min(wait_ms, 100L), &err) < 0)
				ereport(LOG, (errmsg("ironlayer dispatcher: HTTP client: %s", err.message)));
			now = GetCurrentTimestamp();
			while (il_http_take(http, &a))
			{
				on_answer(&a, now);
				il_http_answer_free(&a);
			}
			MemoryContextSwitchTo(old);
			MemoryContextReset(unit_context);
			if (MyLatch->is_set)
			{
				ResetLatch(MyLatch);
				woken = true;
			}
		}
		else
		{
			int			rc;

			rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						   Max(wait_ms, 1L), PG_WAIT_EXTENSION);
			if (rc & WL_LATCH_SET)
			{
				ResetLatch(MyLatch);	/* remembered in woken until the unit */
				woken = true;
			}
		}
	}
}

/* ------------------------------------------------------- set-up */

void
ironlayer_dispatcher_init(void)
{
	DefineCustomIntVariable("ironlayer.databricks_history_grace",
							"How long a statement sent without a known outcome is looked for in query history.",
							"After a crash or a lost answer, a statement not found in the workspace's query "
							"history is sent again only when this long has passed since it was first sent "
							"(query history lags).",
							&history_grace_ms,
							60000, 0, 3600 * 1000,
							PGC_SIGHUP,
							GUC_UNIT_MS | GUC_SUPERUSER_ONLY,
							NULL, NULL, NULL);
}
