/*-------------------------------------------------------------------------
 *
 * main.c
 *	  The `ironlayer` command: the product's core, offline, and a client
 *	  that drives a server.
 *
 * It links the same core objects as the extension, so what it prints is what
 * the database prints: --version, --help and the offline subcommands parse,
 * models, diff, lineage and plan. The server subcommands (cmd_server.h:
 * plan --env, backfill, show, approve, reject, apply, runs, retry, cancel,
 * schedule; and credential) connect over libpq.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "cmd_credential.h"
#include "cmd_plan.h"
#include "cmd_repo.h"
#include "cmd_server.h"
#include "commands.h"
#include "il_version.h"

#define EXIT_USAGE 2

static void
print_usage(FILE *out)
{
	fprintf(out,
			"ironlayer %s: deterministic plans for SQL models kept in git\n"
			"\n"
			"Usage: ironlayer COMMAND ARGUMENTS...\n"
			"\n"
			"Offline (a git repository on this machine):\n"
			"  ironlayer parse FILE...  print each model file parsed, as canonical JSON\n"
			"  ironlayer models REPO COMMIT [--models-dir DIR]\n"
			"                         the models at a commit, one JSON line each\n"
			"  ironlayer diff REPO BASE HEAD [--models-dir DIR]\n"
			"                         models added, modified, removed or cosmetic\n"
			"  ironlayer lineage REPO COMMIT MODEL [--direction up|down|both] [--max-depth N]\n"
			"                         the models upstream and downstream of one\n"
			"  ironlayer plan REPO BASE HEAD --as-of DATE [--environment E] [--lookback-days N]\n"
			"                 [--no-skip-cosmetic] [--full-refresh MODEL]... [--watermarks FILE]\n"
			"                 [--models-dir DIR]\n"
			"                         the deterministic plan of BASE..HEAD, as canonical JSON\n"
			"                         (also --refresh and --backfill: ironlayer plan --help)\n"
			"\n"
			"On a server (--db CONNINFO or PGHOST, PGPORT, ...; --tenant NAME; --json):\n"
			"  ironlayer plan REPO [HEAD] --env ENV [--base COMMIT] [--as-of DATE] ...\n"
			"                         plan a registered repository from what ENV deployed\n"
			"  ironlayer plan REPO --refresh --env ENV [--as-of DATE] [--recompute-days N]\n"
			"                         plan what is due in ENV\n"
			"  ironlayer backfill REPO MODEL[,MODEL...] --env ENV --start DATE --end DATE\n"
			"                         plan a backfill of models over a date range\n"
			"  ironlayer show PLAN    a stored plan: header, steps, skipped cosmetic changes\n"
			"  ironlayer approve PLAN [--env ENV] [--comment TEXT]\n"
			"  ironlayer reject PLAN [--env ENV] --reason TEXT\n"
			"                         record a decision at the environment's gate\n"
			"  ironlayer apply PLAN [--env ENV] [--wait] [--timeout SECONDS]\n"
			"                         start a run; --wait follows it to its end\n"
			"  ironlayer runs [--env ENV] [--repo REPO] [--limit N] | runs RUN_ID [--wait]\n"
			"                         recent runs, or one run and its steps (or follow it)\n"
			"  ironlayer retry RUN [--wait]   ironlayer cancel RUN\n"
			"  ironlayer schedule list | add NAME --cron CRON --repo REPO --env ENV\n"
			"                 (--deploy BRANCH | --refresh) | remove NAME\n"
			"  ironlayer credential put NAME --tenant TENANT [--kind KIND] [--db CONNINFO]\n"
			"                         seal the secret on standard input and store it\n"
			"\n"
			"  ironlayer COMMAND --help  that command's usage\n"
			"  ironlayer --version    print the version and exit\n"
			"  ironlayer --help       print this help and exit\n"
			"\n"
			"Exit status: 0 success, 1 the operation failed (a failed run too), 2 bad usage.\n"
			"The same core runs inside PostgreSQL as the extension \"ironlayer\":\n"
			"  CREATE EXTENSION ironlayer;  SELECT ironlayer.version();\n",
			il_version());
}

/* The plan subcommand: the server form with --env, else the offline one. */
static int
plan_command(int argc, char **argv)
{
	int			i;

	if (il_plan_is_server(argc, argv))
		return il_cmd_plan_server(argc, argv);
	for (i = 1; i < argc; i++)
		if (il_is_help(argv[i]))
		{
			il_plan_server_usage(stdout);
			printf("\nOffline (a git repository on this machine):\n");
			return il_cmd_plan(argc, argv);
		}
	return il_cmd_plan(argc, argv);
}

/* parse FILE...; parse --help prints its usage. */
static int
parse_command(int argc, char **argv)
{
	if (argc == 2 && il_is_help(argv[1]))
	{
		printf("Usage:\n"
			   "  ironlayer parse FILE...\n"
			   "\n"
			   "Prints each model file parsed, one line of canonical JSON per file (the\n"
			   "object of ironlayer.parse_model); errors go to standard error as\n"
			   "\"ironlayer: FILE:LINE:COLUMN: message [code]\". Exit status 1 when a file\n"
			   "failed, 2 on bad usage.\n");
		return 0;
	}
	return il_cmd_parse(argc, argv);
}

static const struct
{
	const char *name;
	int			(*run) (int argc, char **argv);
}			commands[] =
{
	{"models", il_cmd_models},
	{"diff", il_cmd_diff},
	{"lineage", il_cmd_lineage},
	{"plan", plan_command},
	{"parse", parse_command},
	{"credential", il_cmd_credential},
	{"backfill", il_cmd_backfill},
	{"show", il_cmd_show},
	{"approve", il_cmd_approve},
	{"reject", il_cmd_reject},
	{"apply", il_cmd_apply},
	{"runs", il_cmd_runs},
	{"retry", il_cmd_retry},
	{"cancel", il_cmd_cancel},
	{"schedule", il_cmd_schedule},
};

int
main(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0))
	{
		printf("ironlayer %s\n", il_version());
		return 0;
	}
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
	{
		print_usage(stdout);
		return 0;
	}
	if (argc >= 2)
	{
		size_t		k;

		for (k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
			if (strcmp(argv[1], commands[k].name) == 0)
				return commands[k].run(argc - 1, argv + 1);
	}
	if (argc < 2)
		fprintf(stderr, "ironlayer: no command given\n");
	else
		fprintf(stderr, "ironlayer: unknown command or option \"%s\"\n", argv[1]);
	fprintf(stderr, "Try \"ironlayer --help\" for more information.\n");
	return EXIT_USAGE;
}
