/*-------------------------------------------------------------------------
 *
 * cmd_schedule.c
 *	  ironlayer schedule list | add | remove: the tenant's schedules, over
 *	  ironlayer.schedules, schedule() and unschedule() (docs/schedules.md).
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "cmd_server.h"
#include "commands.h"
#include "output.h"
#include "pgconn.h"

static void
usage(FILE *out)
{
	fprintf(out,
			"Usage:\n"
			"  ironlayer schedule list [--db CONNINFO] [--tenant NAME] [--json]\n"
			"  ironlayer schedule add NAME --cron CRON --repo REPO --env ENV (--deploy BRANCH | --refresh)\n"
			"                 [--recompute-days N] [--lookback-days N] [--db CONNINFO] [--tenant NAME] [--json]\n"
			"  ironlayer schedule remove NAME [--db CONNINFO] [--tenant NAME] [--json]\n"
			"\n"
			"A schedule plans and applies on a cron schedule (UTC, run by pg_cron): --deploy\n"
			"BRANCH deploys the branch's head to ENV, --refresh plans and applies what is due.\n"
			"add replaces a schedule of the same name.\n");
}

#define LIST_SQL \
	"SELECT name, cron, spec ->> 'action' AS action, spec ->> 'repository' AS repository," \
	" spec ->> 'environment' AS environment, spec, owner, last_tick_at, last_outcome, last_detail," \
	" last_plan_id, last_run_id, cron_status, cron_message," \
	" spec ->> 'branch' AS branch, to_char(last_tick_at, 'YYYY-MM-DD HH24:MI:SS')" \
	"  FROM ironlayer.schedules ORDER BY name"
#define LIST_JSON_COLS 14

int
il_cmd_schedule(int argc, char **argv)
{
	il_srv_opts o = {0};
	const char *sub = NULL,
			   *name = NULL,
			   *cron = NULL,
			   *repo = NULL,
			   *env = NULL,
			   *branch = NULL,
			   *recompute = NULL,
			   *lookback = NULL,
			   *v;
	bool		refresh = false,
				bad = false;
	long		n;
	const char *params[8];
	PGconn	   *conn;
	PGresult   *res;
	int			i,
				t,
				rc;

	for (i = 1; i < argc; i++)
	{
		if (il_is_help(argv[i]))
		{
			usage(stdout);
			return IL_EXIT_OK;
		}
		if ((t = il_srv_common_option(argc, argv, &i, &o)) != 0)
		{
			if (t < 0)
				return il_srv_misuse("schedule", "option %s needs a value", argv[i]);
			continue;
		}
		if (strcmp(argv[i], "--refresh") == 0)
			refresh = true;
		else if ((v = il_cli_option_value(argc, argv, &i, "--cron", &bad)) != NULL)
			cron = v;
		else if ((v = il_cli_option_value(argc, argv, &i, "--repo", &bad)) != NULL)
			repo = v;
		else if ((v = il_cli_option_value(argc, argv, &i, "--env", &bad)) != NULL)
			env = v;
		else if ((v = il_cli_option_value(argc, argv, &i, "--deploy", &bad)) != NULL)
			branch = v;
		else if ((v = il_cli_option_value(argc, argv, &i, "--recompute-days", &bad)) != NULL)
			recompute = v;
		else if ((v = il_cli_option_value(argc, argv, &i, "--lookback-days", &bad)) != NULL)
			lookback = v;
		else if (bad)
			return il_srv_misuse("schedule", "option %s needs a value", argv[i]);
		else if (argv[i][0] == '-')
			return il_srv_misuse("schedule", "unknown option \"%s\" for schedule", argv[i]);
		else if (sub == NULL)
			sub = argv[i];
		else if (name == NULL)
			name = argv[i];
		else
			return il_srv_misuse("schedule", "unexpected argument \"%s\"", argv[i]);
	}
	if (sub == NULL)
		return il_srv_misuse("schedule", "schedule needs list, add or remove");
	if (strcmp(sub, "list") == 0)
	{
		if (name || cron || repo || env || branch || refresh || recompute || lookback)
			return il_srv_misuse("schedule", "schedule list takes no arguments");
	}
	else if (strcmp(sub, "remove") == 0)
	{
		if (name == NULL)
			return il_srv_misuse("schedule", "schedule remove needs NAME");
		if (cron || repo || env || branch || refresh || recompute || lookback)
			return il_srv_misuse("schedule", "schedule remove takes only NAME");
	}
	else if (strcmp(sub, "add") == 0)
	{
		if (name == NULL || cron == NULL || repo == NULL || env == NULL)
			return il_srv_misuse("schedule", "schedule add needs NAME, --cron, --repo and --env");
		if ((branch != NULL) == refresh)
			return il_srv_misuse("schedule", "schedule add needs one of --deploy BRANCH and --refresh");
		if ((recompute && !il_srv_parse_count(recompute, 1000000, &n)) ||
			(lookback && !il_srv_parse_count(lookback, 1000000, &n)))
			return il_srv_misuse("schedule", "--recompute-days and --lookback-days take a whole number of days");
	}
	else
		return il_srv_misuse("schedule", "unknown schedule command \"%s\": give list, add or remove", sub);

	if ((conn = il_srv_connect(&o, &rc)) == NULL)
		return rc;
	rc = IL_EXIT_OK;
	if (strcmp(sub, "list") == 0)
	{
		if ((res = il_srv_exec(conn, LIST_SQL, 0, NULL)) == NULL)
			rc = IL_EXIT_FAILED;
		else if (o.json)
		{
			il_jout		j;

			il_jout_init(&j);
			il_jout_rows(&j, NULL, res, LIST_JSON_COLS);
			if (!il_jout_print(&j))
				rc = IL_EXIT_FAILED;
			il_jout_free(&j);
		}
		else
		{
			static const int cols[] = {0, 1, 2, 3, 4, 14, 6, 15, 8, 11};
			static const char *const heads[] = {"name", "cron", "action", "repository", "environment",
			"branch", "owner", "last tick", "outcome", "run"};

			il_out_table(stdout, res, cols, heads, 10);
		}
		PQclear(res);
	}
	else if (strcmp(sub, "remove") == 0)
	{
		params[0] = name;
		if ((res = il_srv_exec(conn, "SELECT ironlayer.unschedule($1)", 1, params)) == NULL)
			rc = IL_EXIT_FAILED;
		else
		{
			bool		removed = PQgetvalue(res, 0, 0)[0] == 't';

			PQclear(res);
			if (o.json && removed)
			{
				il_jout		j;

				il_jout_init(&j);
				il_jout_begin_object(&j, NULL);
				il_jout_string(&j, "name", name);
				il_jout_bool(&j, "removed", true);
				il_jout_end_object(&j);
				if (!il_jout_print(&j))
					rc = IL_EXIT_FAILED;
				il_jout_free(&j);
			}
			if (!removed)
			{
				fprintf(stderr, "ironlayer: schedule \"%s\" does not exist [SQLSTATE 42704]\n", name);
				rc = IL_EXIT_FAILED;
			}
			else if (!o.json)
				printf("removed schedule %s\n", name);
		}
	}
	else
	{
		params[0] = name;
		params[1] = cron;
		params[2] = repo;
		params[3] = env;
		params[4] = refresh ? "refresh" : "deploy";
		params[5] = branch;
		params[6] = recompute;
		params[7] = lookback;
		res = il_srv_exec(conn,
						  "SELECT ironlayer.schedule($1, $2, jsonb_strip_nulls(jsonb_build_object("
						  "'repository', $3::text, 'environment', $4::text, 'action', $5::text,"
						  " 'branch', $6::text, 'recompute_days', $7::int, 'lookback_days', $8::int)))",
						  8, params);
		if (res == NULL)
			rc = IL_EXIT_FAILED;
		else
		{
			if (o.json)
			{
				il_jout		j;

				il_jout_init(&j);
				il_jout_begin_object(&j, NULL);
				il_jout_string(&j, "name", name);
				il_jout_raw(&j, "schedule_id", PQgetvalue(res, 0, 0));
				il_jout_end_object(&j);
				if (!il_jout_print(&j))
					rc = IL_EXIT_FAILED;
				il_jout_free(&j);
			}
			else if (refresh)
				printf("schedule %s: refresh %s in %s at \"%s\" (UTC)\n", name, repo, env, cron);
			else
				printf("schedule %s: deploy branch %s of %s to %s at \"%s\" (UTC)\n", name, branch, repo, env, cron);
			PQclear(res);
		}
	}
	PQfinish(conn);
	return rc;
}
