/*-------------------------------------------------------------------------
 *
 * follow.c
 *	  The run follower of apply --wait and retry --wait (follow.h).
 *
 * It LISTENs on the tenant's events channel (ironlayer.events_channel())
 * and re-reads the run's counts from ironlayer.run_summary after each
 * event, and at least every second in case an event was not sent (events
 * are hints: none is queued while the server's queue is half full). Each
 * read is one autocommit statement: no transaction stays open while
 * waiting.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "follow.h"
#include "output.h"
#include "pgconn.h"

/* Columns of STATUS_SQL. */
enum
{
	C_RUN_ID, C_PLAN_ID, C_ENV, C_REPO, C_STATE, C_RETRY_OF, C_STEPS, C_SUCCEEDED, C_FAILED,
	C_SKIPPED, C_CANCELLED, C_UNFINISHED, C_RUNNING, C_ELAPSED
};

#define STATUS_SQL \
	"SELECT s.run_id, s.plan_id, s.environment, s.repository, s.state, s.retry_of, s.steps," \
	" s.succeeded, s.failed, s.skipped, s.cancelled, s.unfinished," \
	" (SELECT count(*) FROM ironlayer.run_steps x" \
	"   WHERE x.run_id = s.run_id AND x.state = 'running') AS running," \
	" round(extract(epoch FROM coalesce(s.finished_at, now()) - s.created_at)," \
	"       1) AS elapsed_seconds" \
	"  FROM ironlayer.run_summary s WHERE s.run_id = $1"

/* Set by SIGINT while following: stop following (the run goes on). */
static volatile sig_atomic_t interrupted = 0;

static void
on_interrupt(int sig)
{
	interrupted = 1;
}

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

static long
num(const PGresult *res, int col)
{
	return PQgetisnull(res, 0, col) ? 0 : atol(PQgetvalue(res, 0, col));
}

static bool
ended(const char *state)
{
	return strcmp(state, "succeeded") == 0 || strcmp(state, "failed") == 0 ||
		strcmp(state, "cancelled") == 0;
}

/* The status line (without a newline). */
static void
status_line(FILE *out, const PGresult *res)
{
	fprintf(out, "run %s %s: %ld/%ld steps done, %ld running, %ld failed, %ld skipped, %s s elapsed",
			PQgetvalue(res, 0, C_RUN_ID), PQgetvalue(res, 0, C_STATE),
			num(res, C_STEPS) - num(res, C_UNFINISHED), num(res, C_STEPS), num(res, C_RUNNING),
			num(res, C_FAILED), num(res, C_SKIPPED), PQgetvalue(res, 0, C_ELAPSED));
}

bool
il_follow_failed_steps(PGconn *conn, const char *run_id, il_jout *j)
{
	const char *params[1] = {run_id};
	PGresult   *res;
	int			r;

	res = il_srv_exec(conn,
					  "SELECT step_index + 1 AS step, model, step_id, error_class, error_message"
					  "  FROM ironlayer.run_steps WHERE run_id = $1 AND state = 'failed'"
					  " ORDER BY step_index", 1, params);
	if (res == NULL)
		return false;
	if (j != NULL)
		il_jout_rows(j, "failed_steps", res, -1);
	else
		for (r = 0; r < PQntuples(res); r++)
		{
			/* the stored error may quote what the model's SQL made: shown, not sent */
			printf("failed step %s: ", PQgetvalue(res, r, 0));
			il_out_text(stdout, PQgetvalue(res, r, 1), true);
			fputs(": ", stdout);
			il_out_text(stdout, PQgetisnull(res, r, 4) ? "(no error stored)" : PQgetvalue(res, r, 4), false);
			if (!PQgetisnull(res, r, 3))
			{
				fputs(" [", stdout);
				il_out_text(stdout, PQgetvalue(res, r, 3), true);
				fputc(']', stdout);
			}
			fputc('\n', stdout);
		}
	PQclear(res);
	return true;
}

/* LISTEN on the tenant's events channel; false when it cannot (then poll). */
static bool
listen_events(PGconn *conn)
{
	PGresult   *res = il_srv_exec(conn, "SELECT ironlayer.events_channel()", 0, NULL);
	char	   *ident;
	char		sql[256];
	bool		ok = false;

	if (res == NULL)
		return false;
	ident = PQescapeIdentifier(conn, PQgetvalue(res, 0, 0), strlen(PQgetvalue(res, 0, 0)));
	PQclear(res);
	if (ident == NULL)
		return false;
	if (strlen(ident) < sizeof(sql) - 8)
	{
		snprintf(sql, sizeof(sql), "LISTEN %s", ident);
		res = il_srv_exec(conn, sql, 0, NULL);
		ok = res != NULL;
		PQclear(res);
	}
	PQfreemem(ident);
	return ok;
}

/* Waits up to seconds for a notification; false when the connection broke. */
static bool
await_event(PGconn *conn, double seconds)
{
	int			sock = PQsocket(conn);
	fd_set		in;
	struct timeval tv;
	PGnotify   *n;

	if (sock < 0)
		return false;
	FD_ZERO(&in);
	FD_SET(sock, &in);
	tv.tv_sec = (time_t) seconds;
	tv.tv_usec = (suseconds_t) ((seconds - (double) tv.tv_sec) * 1e6);
	if (select(sock + 1, &in, NULL, NULL, &tv) < 0 && errno != EINTR)
		return false;
	if (!PQconsumeInput(conn))
		return false;
	while ((n = PQnotifies(conn)) != NULL)
		PQfreemem(n);
	return true;
}

int
il_follow_run(PGconn *conn, const char *run_id, long timeout, bool json)
{
	const char *params[1] = {run_id};
	bool		tty = !json && isatty(STDOUT_FILENO);
	double		start = now_seconds();
	char		last[256] = "";
	PGresult   *res = NULL;
	bool		timed_out = false;
	bool		drawn = false;
	int			rc;
	struct sigaction sa,
				old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_interrupt;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old);	/* no SA_RESTART: select() returns */

	listen_events(conn);
	for (;;)
	{
		char		counts[256];

		PQclear(res);
		if ((res = il_srv_exec(conn, STATUS_SQL, 1, params)) == NULL)
		{
			sigaction(SIGINT, &old, NULL);
			if (drawn)
				fputc('\n', stdout);
			return IL_EXIT_FAILED;
		}
		if (PQntuples(res) != 1)
		{
			sigaction(SIGINT, &old, NULL);
			PQclear(res);
			fprintf(stderr, "ironlayer: run %s does not exist [SQLSTATE 42704]\n", run_id);
			return IL_EXIT_FAILED;
		}
		if (tty)
		{
			fputs("\r", stdout);
			status_line(stdout, res);
			fputs("\033[K", stdout);
			fflush(stdout);
			drawn = true;
		}
		else if (!json && !ended(PQgetvalue(res, 0, C_STATE)))
		{
			snprintf(counts, sizeof(counts), "%s %ld %ld %ld %ld %ld", PQgetvalue(res, 0, C_STATE),
					 num(res, C_UNFINISHED), num(res, C_RUNNING), num(res, C_FAILED),
					 num(res, C_SKIPPED), num(res, C_CANCELLED));
			if (strcmp(counts, last) != 0)
			{
				status_line(stdout, res);
				fputc('\n', stdout);
				fflush(stdout);
				memcpy(last, counts, sizeof(last));
			}
		}
		if (ended(PQgetvalue(res, 0, C_STATE)))
			break;
		if (timeout > 0 && now_seconds() - start >= (double) timeout)
		{
			timed_out = true;
			break;
		}
		if (interrupted)
			break;
		{
			double		wait = tty ? 0.5 : 1.0;
			double		left = timeout > 0 ? (double) timeout - (now_seconds() - start) : wait;

			if (left < wait)
				wait = left > 0.05 ? left : 0.05;
			if (!await_event(conn, wait))
			{
				sigaction(SIGINT, &old, NULL);
				if (drawn)
					fputc('\n', stdout);
				fprintf(stderr, "ironlayer: lost the connection while following run %s: ", run_id);
				il_out_text(stderr, PQerrorMessage(conn), false);
				PQclear(res);
				return IL_EXIT_FAILED;
			}
		}
	}
	sigaction(SIGINT, &old, NULL);
	if (drawn)
		fputc('\n', stdout);
	if (interrupted && !timed_out && !ended(PQgetvalue(res, 0, C_STATE)))
	{
		fprintf(stderr, "ironlayer: interrupted: stopped following run %s (the run goes on)\n", run_id);
		PQclear(res);
		return IL_EXIT_FAILED;
	}

	rc = (!timed_out && strcmp(PQgetvalue(res, 0, C_STATE), "succeeded") == 0) ? IL_EXIT_OK : IL_EXIT_FAILED;
	if (json)
	{
		il_jout	j;
		int			c;

		il_jout_init(&j);
		il_jout_begin_object(&j, NULL);
		for (c = 0; c < PQnfields(res); c++)
			il_jout_field(&j, PQfname(res, c), res, 0, c);
		il_jout_bool(&j, "timed_out", timed_out);
		if (!il_follow_failed_steps(conn, run_id, &j))
			rc = IL_EXIT_FAILED;
		il_jout_end_object(&j);
		if (!il_jout_print(&j))
			rc = IL_EXIT_FAILED;
		il_jout_free(&j);
	}
	else if (timed_out)
	{
		printf("run %s is still %s after %ld s: stopped waiting (the run goes on)\n",
			   run_id, PQgetvalue(res, 0, C_STATE), timeout);
	}
	else
	{
		printf("run %s %s: %ld steps, %ld succeeded, %ld failed, %ld skipped, %ld cancelled (%s s)\n",
			   run_id, PQgetvalue(res, 0, C_STATE), num(res, C_STEPS), num(res, C_SUCCEEDED),
			   num(res, C_FAILED), num(res, C_SKIPPED), num(res, C_CANCELLED),
			   PQgetvalue(res, 0, C_ELAPSED));
		if (num(res, C_FAILED) > 0 && !il_follow_failed_steps(conn, run_id, NULL))
			rc = IL_EXIT_FAILED;
	}
	if (timed_out && !json)
		fprintf(stderr, "ironlayer: timed out after %ld s waiting for run %s\n", timeout, run_id);
	PQclear(res);
	return rc;
}
