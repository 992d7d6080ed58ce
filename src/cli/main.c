/*-------------------------------------------------------------------------
 *
 * main.c
 *	  The `ironlayer` command: the product's core, offline.
 *
 * It links the same core objects as the extension, so what it prints is what
 * the database prints: --version, --help and the subcommands parse,
 * models, diff, lineage, plan and credential.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "cmd_credential.h"
#include "cmd_plan.h"
#include "cmd_repo.h"
#include "commands.h"
#include "il_version.h"

#define EXIT_USAGE 2

static void
print_usage(FILE *out)
{
	fprintf(out,
			"ironlayer %s: deterministic plans for SQL models kept in git\n"
			"\n"
			"Usage:\n"
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
			"  ironlayer credential put NAME --tenant TENANT [--kind KIND] [--dsn DSN]\n"
			"                         seal the secret on standard input and store it\n"
			"  ironlayer --version    print the version and exit\n"
			"  ironlayer --help       print this help and exit\n"
			"\n"
			"The same core runs inside PostgreSQL as the extension \"ironlayer\":\n"
			"  CREATE EXTENSION ironlayer;  SELECT ironlayer.version();\n",
			il_version());
}

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
	if (argc >= 2 && strcmp(argv[1], "models") == 0)
		return il_cmd_models(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "diff") == 0)
		return il_cmd_diff(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "lineage") == 0)
		return il_cmd_lineage(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "plan") == 0)
		return il_cmd_plan(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "parse") == 0)
		return il_cmd_parse(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "credential") == 0)
		return il_cmd_credential(argc - 1, argv + 1);
	if (argc < 2)
		fprintf(stderr, "ironlayer: no command given\n");
	else
		fprintf(stderr, "ironlayer: unknown command or option \"%s\"\n", argv[1]);
	fprintf(stderr, "Try \"ironlayer --help\" for more information.\n");
	return EXIT_USAGE;
}
