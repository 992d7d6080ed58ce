/*-------------------------------------------------------------------------
 *
 * cmd_runs.c
 *	  Runs: ironlayer runs (recent runs, newest first), runs RUN_ID (one
 *	  run and its steps), retry RUN and cancel RUN, over
 *	  ironlayer.run_summary, run_steps, retry() and cancel().
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "cmd_server.h"
#include "commands.h"
#include "follow.h"
#include "output.h"
#include "pgconn.h"

#define MAX_LIMIT 100000L
#define MAX_TIMEOUT 31536000L

static void
usage(FILE *out, const char *cmd)
{
	if (strcmp(cmd, "runs") == 0)
		fprintf(out,
				"Usage:\n"
				"  ironlayer runs [--env ENV] [--repo REPO] [--limit N] [--db CONNINFO] [--tenant NAME] [--json]\n"
				"  ironlayer runs RUN_ID [--wait [--timeout SECONDS]] [--db CONNINFO] [--tenant NAME] [--json]\n"
				"\n"
				"Lists recent runs, newest first (--limit, default 20), or shows one run and\n"
				"its steps: state, model, attempts, and the stored error of a failed step.\n"
				"With --wait, follows run RUN_ID until it ends, as apply --wait does.\n");
	else if (strcmp(cmd, "retry") == 0)
		fprintf(out,
				"Usage:\n"
				"  ironlayer retry RUN [--wait] [--timeout SECONDS] [--db CONNINFO] [--tenant NAME] [--json]\n"
				"\n"
				"Starts a new run of the steps of failed or cancelled run RUN that did not\n"
				"succeed and prints its id; --wait follows it as apply --wait does.\n");
	else
		fprintf(out,
				"Usage:\n"
				"  ironlayer cancel RUN [--db CONNINFO] [--tenant NAME] [--json]\n"
				"\n"
				"Cancels run RUN: its steps not started never start; it is \"cancelling\"\n"
				"until its running steps end. Prints the run's state.\n");
}

/*
 * Is s a run id (a positive whole number)? Writes it without leading zeros
 * to out[32].
 */
static bool
run_id_text(const char *s, char *out)
{
	long		n;

	if (!il_srv_parse_count(s, 9223372036854775807L, &n) || n <= 0)
		return false;
	snprintf(out, 32, "%ld", n);
	return true;
}

#define LIST_SQL \
	"SELECT run_id, state, repository, environment, plan_id, retry_of, steps, succeeded, failed," \
	" skipped, cancelled, unfinished, created_by, created_at, started_at, finished_at," \
	" round(extract(epoch FROM finished_at - created_at), 1) AS seconds," \
	" left(plan_id, 12), to_char(created_at, 'YYYY-MM-DD HH24:MI:SS')" \
	"  FROM ironlayer.run_summary" \
	" WHERE ($1::text IS NULL OR environment = $1) AND ($2::text IS NULL OR repository = $2)" \
	" ORDER BY run_id DESC LIMIT $3::int"
#define LIST_JSON_COLS 17

#define ONE_SQL \
	"SELECT run_id, state, repository, environment, plan_id, retry_of, steps, succeeded, failed," \
	" skipped, cancelled, unfinished, created_by, created_at, started_at, finished_at," \
	" round(extract(epoch FROM finished_at - created_at), 1) AS seconds," \
	" to_char(created_at, 'YYYY-MM-DD HH24:MI:SS TZ')" \
	"  FROM ironlayer.run_summary WHERE run_id = $1"
#define ONE_JSON_COLS 17

#define STEPS_SQL \
	"SELECT step_index + 1 AS step, parallel_group, model, run_type, state, attempts," \
	" CASE WHEN start_date IS NOT NULL THEN concat(start_date, ' .. ', end_date) END AS input_range," \
	" rows_affected, round(extract(epoch FROM duration), 1) AS seconds, error_class, error_message, step_id" \
	"  FROM ironlayer.run_steps WHERE run_id = $1 ORDER BY step_index"

static int
show_run(PGconn *conn, const char *run, bool json)
{
	const char *params[1] = {run};
	PGresult   *one;
	PGresult   *steps;
	int			rc = IL_EXIT_OK;

	if ((one = il_srv_exec(conn, ONE_SQL, 1, params)) == NULL)
		return IL_EXIT_FAILED;
	if (PQntuples(one) != 1)
	{
		fprintf(stderr, "ironlayer: run %s does not exist [SQLSTATE 42704]\n", run);
		PQclear(one);
		return IL_EXIT_FAILED;
	}
	if ((steps = il_srv_exec(conn, STEPS_SQL, 1, params)) == NULL)
	{
		PQclear(one);
		return IL_EXIT_FAILED;
	}
	if (json)
	{
		il_jout		j;
		int			c;

		il_jout_init(&j);
		il_jout_begin_object(&j, NULL);
		for (c = 0; c < ONE_JSON_COLS; c++)
			il_jout_field(&j, PQfname(one, c), one, 0, c);
		il_jout_rows(&j, "run_steps", steps, -1);
		il_jout_end_object(&j);
		if (!il_jout_print(&j))
			rc = IL_EXIT_FAILED;
		il_jout_free(&j);
	}
	else
	{
		static const int cols[] = {0, 2, 3, 4, 6, 5, 8, 10};
		static const char *const heads[] = {"step", "model", "run type", "state", "range", "attempts",
		"seconds", "error"};

		printf("run          %s (%s)\n", PQgetvalue(one, 0, 0), PQgetvalue(one, 0, 1));
		printf("plan         %s\n", PQgetvalue(one, 0, 4));
		printf("repository   %s\n", PQgetvalue(one, 0, 2));
		printf("environment  %s\n", PQgetvalue(one, 0, 3));
		if (!PQgetisnull(one, 0, 5))
			printf("retry of     %s\n", PQgetvalue(one, 0, 5));
		fputs("created by   ", stdout);
		il_out_text(stdout, PQgetvalue(one, 0, 12), true);
		printf(" at %s\n", PQgetvalue(one, 0, 17));
		printf("steps        %s: %s succeeded, %s failed, %s skipped, %s cancelled, %s unfinished\n\n",
			   PQgetvalue(one, 0, 6), PQgetvalue(one, 0, 7), PQgetvalue(one, 0, 8),
			   PQgetvalue(one, 0, 9), PQgetvalue(one, 0, 10), PQgetvalue(one, 0, 11));
		il_out_table(stdout, steps, cols, heads, 8);
	}
	PQclear(steps);
	PQclear(one);
	return rc;
}

int
il_cmd_runs(int argc, char **argv)
{
	il_srv_opts o = {0};
	const char *run = NULL,
			   *env = NULL,
			   *repo = NULL,
			   *limit = "20",
			   *timeout_text = NULL,
			   *v;
	bool		bad = false,
				wait = false;
	long		n,
				timeout = 0;
	char		runbuf[32];
	PGconn	   *conn;
	PGresult   *res;
	const char *params[3];
	int			i,
				t,
				rc;

	for (i = 1; i < argc; i++)
	{
		if (il_is_help(argv[i]))
		{
			usage(stdout, "runs");
			return IL_EXIT_OK;
		}
		if ((t = il_srv_common_option(argc, argv, &i, &o)) != 0)
		{
			if (t < 0)
				return il_srv_misuse("runs", "option %s needs a value", argv[i]);
			continue;
		}
		if ((v = il_cli_option_value(argc, argv, &i, "--env", &bad)) != NULL)
			env = v;
		else if ((v = il_cli_option_value(argc, argv, &i, "--repo", &bad)) != NULL)
			repo = v;
		else if ((v = il_cli_option_value(argc, argv, &i, "--limit", &bad)) != NULL)
			limit = v;
		else if (strcmp(argv[i], "--wait") == 0)
			wait = true;
		else if ((v = il_cli_option_value(argc, argv, &i, "--timeout", &bad)) != NULL)
			timeout_text = v;
		else if (bad)
			return il_srv_misuse("runs", "option %s needs a value", argv[i]);
		else if (argv[i][0] == '-' || run != NULL)
			return il_srv_misuse("runs", "unexpected argument \"%s\"", argv[i]);
		else
			run = argv[i];
	}
	if (run != NULL && !run_id_text(run, runbuf))
		return il_srv_misuse("runs", "invalid run id \"%s\"", run);
	if (run != NULL)
		run = runbuf;
	if (!il_srv_parse_count(limit, MAX_LIMIT, &n) || n == 0)
		return il_srv_misuse("runs", "invalid --limit \"%s\": give a number from 1 to %ld", limit, MAX_LIMIT);
	if (run != NULL && (env != NULL || repo != NULL))
		return il_srv_misuse("runs", "runs RUN_ID takes no --env or --repo");
	if (wait && run == NULL)
		return il_srv_misuse("runs", "--wait follows one run: give RUN_ID");
	if (timeout_text != NULL && (!wait || !il_srv_parse_count(timeout_text, MAX_TIMEOUT, &timeout) || timeout == 0))
		return il_srv_misuse("runs", "--timeout takes a whole number of seconds and goes with --wait");
	if ((conn = il_srv_connect(&o, &rc)) == NULL)
		return rc;
	if (run != NULL)
	{
		rc = wait ? il_follow_run(conn, run, timeout, o.json) : show_run(conn, run, o.json);
		PQfinish(conn);
		return rc;
	}
	params[0] = env;
	params[1] = repo;
	params[2] = limit;
	if ((res = il_srv_exec(conn, LIST_SQL, 3, params)) == NULL)
	{
		PQfinish(conn);
		return IL_EXIT_FAILED;
	}
	if (o.json)
	{
		il_jout		j;

		il_jout_init(&j);
		il_jout_rows(&j, NULL, res, LIST_JSON_COLS);
		rc = il_jout_print(&j) ? IL_EXIT_OK : IL_EXIT_FAILED;
		il_jout_free(&j);
	}
	else
	{
		static const int cols[] = {0, 1, 2, 3, 17, 6, 7, 8, 9, 16, 18};
		static const char *const heads[] = {"run", "state", "repository", "environment", "plan", "steps",
		"succeeded", "failed", "skipped", "seconds", "created"};

		il_out_table(stdout, res, cols, heads, 11);
	}
	PQclear(res);
	PQfinish(conn);
	return rc;
}

/* retry and cancel */
static int
run_command(int argc, char **argv)
{
	const char *cmd = argv[0];
	bool		is_retry = strcmp(cmd, "retry") == 0;
	il_srv_opts o = {0};
	const char *run = NULL,
			   *timeout_text = NULL,
			   *v;
	bool		wait = false,
				bad = false;
	long		timeout = 0;
	const char *params[1];
	PGconn	   *conn;
	PGresult   *res;
	char		out[32],
				runbuf[32];
	int			i,
				t,
				rc;

	for (i = 1; i < argc; i++)
	{
		if (il_is_help(argv[i]))
		{
			usage(stdout, cmd);
			return IL_EXIT_OK;
		}
		if ((t = il_srv_common_option(argc, argv, &i, &o)) != 0)
		{
			if (t < 0)
				return il_srv_misuse(cmd, "option %s needs a value", argv[i]);
			continue;
		}
		if (is_retry && strcmp(argv[i], "--wait") == 0)
			wait = true;
		else if (is_retry && (v = il_cli_option_value(argc, argv, &i, "--timeout", &bad)) != NULL)
			timeout_text = v;
		else if (bad)
			return il_srv_misuse(cmd, "option %s needs a value", argv[i]);
		else if (argv[i][0] == '-' || run != NULL)
			return il_srv_misuse(cmd, "unexpected argument \"%s\"", argv[i]);
		else
			run = argv[i];
	}
	if (run == NULL)
		return il_srv_misuse(cmd, "%s needs RUN (a run id)", cmd);
	if (!run_id_text(run, runbuf))
		return il_srv_misuse(cmd, "invalid run id \"%s\"", run);
	run = runbuf;
	if (timeout_text != NULL && (!il_srv_parse_count(timeout_text, MAX_TIMEOUT, &timeout) || timeout == 0))
		return il_srv_misuse(cmd, "invalid --timeout \"%s\": give a whole number of seconds", timeout_text);
	if (timeout_text != NULL && !wait)
		return il_srv_misuse(cmd, "--timeout goes with --wait");
	if ((conn = il_srv_connect(&o, &rc)) == NULL)
		return rc;
	params[0] = run;
	res = il_srv_exec(conn, is_retry ? "SELECT ironlayer.retry($1::bigint)" : "SELECT ironlayer.cancel($1::bigint)",
					  1, params);
	if (res == NULL)
	{
		PQfinish(conn);
		return IL_EXIT_FAILED;
	}
	snprintf(out, sizeof(out), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	rc = IL_EXIT_OK;
	if (is_retry && wait)
	{
		if (!o.json)
		{
			printf("run %s started: a retry of run %s\n", out, run);
			fflush(stdout);
		}
		rc = il_follow_run(conn, out, timeout, o.json);
	}
	else if (o.json)
	{
		il_jout		j;

		il_jout_init(&j);
		il_jout_begin_object(&j, NULL);
		if (is_retry)
		{
			il_jout_raw(&j, "run_id", out);
			il_jout_raw(&j, "retry_of", run);
		}
		else
		{
			il_jout_raw(&j, "run_id", run);
			il_jout_string(&j, "state", out);
		}
		il_jout_end_object(&j);
		if (!il_jout_print(&j))
			rc = IL_EXIT_FAILED;
		il_jout_free(&j);
	}
	else if (is_retry)
		printf("%s\n", out);
	else
		printf("run %s %s\n", run, out);
	PQfinish(conn);
	return rc;
}

int
il_cmd_retry(int argc, char **argv)
{
	return run_command(argc, argv);
}

int
il_cmd_cancel(int argc, char **argv)
{
	return run_command(argc, argv);
}
