/*-------------------------------------------------------------------------
 *
 * cmd_apply.c
 *	  The gate and the start of a run: ironlayer approve, reject and apply
 *	  PLAN, over ironlayer.approve(), reject() and apply().
 *
 * PLAN is a plan id or a unique prefix of one (as show takes it); the
 * environment defaults to the one the plan was made for. apply --wait
 * follows the run to its end (follow.c).
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "cmd_server.h"
#include "commands.h"
#include "follow.h"
#include "output.h"
#include "pgconn.h"

#define MAX_TIMEOUT 31536000L	/* a year of seconds */

static void
usage(FILE *out, const char *cmd)
{
	if (strcmp(cmd, "approve") == 0)
		fprintf(out,
				"Usage:\n"
				"  ironlayer approve PLAN [--env ENV] [--comment TEXT] [--db CONNINFO] [--tenant NAME] [--json]\n"
				"\n"
				"Records your approval of plan PLAN (an id or a unique prefix of 8+ hex digits)\n"
				"in ENV (default: the environment the plan was made for).\n");
	else if (strcmp(cmd, "reject") == 0)
		fprintf(out,
				"Usage:\n"
				"  ironlayer reject PLAN [--env ENV] --reason TEXT [--db CONNINFO] [--tenant NAME] [--json]\n"
				"\n"
				"Rejects plan PLAN in ENV (default: the plan's environment): it cannot be\n"
				"applied there until the rejection is withdrawn.\n");
	else
		fprintf(out,
				"Usage:\n"
				"  ironlayer apply PLAN [--env ENV] [--wait] [--timeout SECONDS]\n"
				"                 [--db CONNINFO] [--tenant NAME] [--json]\n"
				"\n"
				"Starts a run of plan PLAN in ENV (default: the plan's environment) and prints\n"
				"its run id. With --wait, follows the run until it ends: on a terminal one\n"
				"status line redrawn in place, otherwise a line each time the counts change,\n"
				"then the final state and each failed step's error. Exit status 0 when the\n"
				"run succeeded, 1 when it failed, was cancelled or --timeout passed.\n");
}

/* approve, reject and apply: one parser, one connection. */
static int
gate_command(int argc, char **argv)
{
	const char *cmd = argv[0];
	bool		is_apply = strcmp(cmd, "apply") == 0;
	bool		is_reject = strcmp(cmd, "reject") == 0;
	il_srv_opts o = {0};
	const char *plan = NULL,
			   *env = NULL,
			   *note = NULL,
			   *timeout_text = NULL,
			   *v;
	bool		wait = false,
				bad = false;
	long		timeout = 0;
	char		id[65],
				plan_env[64];
	const char *params[3];
	PGconn	   *conn;
	PGresult   *res;
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
		if ((v = il_cli_option_value(argc, argv, &i, "--env", &bad)) != NULL)
			env = v;
		else if (!is_apply && !is_reject && (v = il_cli_option_value(argc, argv, &i, "--comment", &bad)) != NULL)
			note = v;
		else if (is_reject && (v = il_cli_option_value(argc, argv, &i, "--reason", &bad)) != NULL)
			note = v;
		else if (is_apply && strcmp(argv[i], "--wait") == 0)
			wait = true;
		else if (is_apply && (v = il_cli_option_value(argc, argv, &i, "--timeout", &bad)) != NULL)
			timeout_text = v;
		else if (bad)
			return il_srv_misuse(cmd, "option %s needs a value", argv[i]);
		else if (argv[i][0] == '-' || plan != NULL)
			return il_srv_misuse(cmd, "unexpected argument \"%s\"", argv[i]);
		else
			plan = argv[i];
	}
	if (plan == NULL)
		return il_srv_misuse(cmd, "%s needs PLAN (a plan id or a prefix of one)", cmd);
	if (is_reject && note == NULL)
		return il_srv_misuse(cmd, "reject needs --reason TEXT");
	if (timeout_text != NULL && (!il_srv_parse_count(timeout_text, MAX_TIMEOUT, &timeout) || timeout == 0))
		return il_srv_misuse(cmd, "invalid --timeout \"%s\": give a whole number of seconds", timeout_text);
	if (timeout_text != NULL && !wait)
		return il_srv_misuse(cmd, "--timeout goes with --wait");

	if ((conn = il_srv_connect(&o, &rc)) == NULL)
		return rc;
	if (!il_srv_resolve_plan(conn, plan, id, plan_env))
	{
		PQfinish(conn);
		return IL_EXIT_FAILED;
	}
	params[0] = id;
	params[1] = env ? env : plan_env;
	params[2] = note;
	if (is_apply)
		res = il_srv_exec(conn, "SELECT ironlayer.apply($1, $2)", 2, params);
	else if (is_reject)
		res = il_srv_exec(conn, "SELECT ironlayer.reject($1, $2, $3)", 3, params);
	else
		res = il_srv_exec(conn, "SELECT ironlayer.approve($1, $2, $3)", 3, params);
	if (res == NULL)
	{
		PQfinish(conn);
		return IL_EXIT_FAILED;
	}
	rc = IL_EXIT_OK;
	if (is_apply)
	{
		char		run[32];

		snprintf(run, sizeof(run), "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
		if (wait)
		{
			if (!o.json)
			{
				printf("run %s started: plan %.12s in %s\n", run, id, params[1]);
				fflush(stdout);
			}
			rc = il_follow_run(conn, run, timeout, o.json);
		}
		else if (o.json)
		{
			il_jout		j;

			il_jout_init(&j);
			il_jout_begin_object(&j, NULL);
			il_jout_raw(&j, "run_id", run);
			il_jout_string(&j, "plan_id", id);
			il_jout_string(&j, "environment", params[1]);
			il_jout_end_object(&j);
			if (!il_jout_print(&j))
				rc = IL_EXIT_FAILED;
			il_jout_free(&j);
		}
		else
			printf("%s\n", run);
	}
	else
	{
		PQclear(res);
		if (o.json)
		{
			il_jout		j;

			il_jout_init(&j);
			il_jout_begin_object(&j, NULL);
			il_jout_string(&j, "plan_id", id);
			il_jout_string(&j, "environment", params[1]);
			il_jout_string(&j, "decision", is_reject ? "reject" : "approve");
			il_jout_string(&j, is_reject ? "reason" : "comment", note);
			il_jout_end_object(&j);
			if (!il_jout_print(&j))
				rc = IL_EXIT_FAILED;
			il_jout_free(&j);
		}
		else
			printf("%s plan %s in %s\n", is_reject ? "rejected" : "approved", id, params[1]);
	}
	PQfinish(conn);
	return rc;
}

int
il_cmd_approve(int argc, char **argv)
{
	return gate_command(argc, argv);
}

int
il_cmd_reject(int argc, char **argv)
{
	return gate_command(argc, argv);
}

int
il_cmd_apply(int argc, char **argv)
{
	return gate_command(argc, argv);
}
