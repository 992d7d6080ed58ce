/*-------------------------------------------------------------------------
 *
 * cmd_plans.c
 *	  Plans on a server: ironlayer plan REPO [HEAD] --env ENV (a change
 *	  plan), plan REPO --refresh --env ENV, backfill, and show PLAN.
 *
 * plan and backfill call ironlayer.plan(), plan_refresh() and
 * plan_backfill(), which store the plan; they print it as show does, or
 * with --json the plan's canonical text exactly as the server returned
 * it. show prints a stored plan: a header, its steps from
 * ironlayer.show_plan() in plan order, the cosmetic changes it skipped and
 * its unknown references.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "cmd_server.h"
#include "commands.h"
#include "output.h"
#include "pgconn.h"

#define MAX_DAYS 1000000

bool
il_is_help(const char *arg)
{
	return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

bool
il_plan_is_server(int argc, char **argv)
{
	int			i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--env") == 0 || strncmp(argv[i], "--env=", 6) == 0)
			return true;
	return false;
}

void
il_plan_server_usage(FILE *out)
{
	fprintf(out,
			"Usage (on a server):\n"
			"  ironlayer plan REPO [HEAD] --env ENV [--base COMMIT] [--as-of DATE]\n"
			"                 [--full-refresh MODEL]... [--no-skip-cosmetic]\n"
			"                 [--lookback-days N] [--recompute-days N] [--db CONNINFO] [--tenant NAME] [--json]\n"
			"  ironlayer plan REPO --refresh --env ENV [--as-of DATE] [--recompute-days N]\n"
			"                 [--lookback-days N] [--db CONNINFO] [--tenant NAME] [--json]\n"
			"\n"
			"Plans registered repository REPO for environment ENV and stores the plan:\n"
			"a change plan from what ENV deployed (or --base) to HEAD (default HEAD), or\n"
			"with --refresh the incremental models of what ENV deployed whose data is due.\n"
			"--as-of defaults to the server's current date. Prints the plan as\n"
			"\"ironlayer show\" does; --json prints the plan's canonical text.\n"
			"The connection comes from --db or PGHOST, PGPORT, PGDATABASE, PGUSER, ...;\n"
			"the tenant from --tenant, IRONLAYER_TENANT, or the caller's only tenant.\n");
}

static void
backfill_usage(FILE *out)
{
	fprintf(out,
			"Usage:\n"
			"  ironlayer backfill REPO MODEL[,MODEL...] --env ENV --start DATE --end DATE\n"
			"                 [--batch-days N] [--as-of DATE] [--db CONNINFO] [--tenant NAME] [--json]\n"
			"\n"
			"Plans a backfill of the named models (and their downstream) over START..END\n"
			"at the commit ENV deployed, in batches of --batch-days, and stores the plan.\n"
			"Prints it as \"ironlayer show\" does; --json prints the plan's canonical text.\n");
}

static void
show_usage(FILE *out)
{
	fprintf(out,
			"Usage:\n"
			"  ironlayer show PLAN [--db CONNINFO] [--tenant NAME] [--json]\n"
			"\n"
			"Prints stored plan PLAN (its id, or a prefix of 8 or more hex digits that\n"
			"names one plan): a header, its steps in plan order (group, model, run type,\n"
			"range, reason), the cosmetic changes it skipped and its unknown references.\n");
}

#define HEADER_SQL \
	"SELECT p.plan_id, p.kind, p.repository, p.environment, p.base, p.target, p.as_of," \
	" p.created_by, p.created_at," \
	" coalesce(p.plan -> 'summary' -> 'cosmetic_changes_skipped', '[]'::json) AS cosmetic_changes_skipped," \
	" coalesce(p.plan -> 'unknown_references', '[]'::json) AS unknown_references," \
	" (SELECT string_agg(x, ', ') FROM json_array_elements_text(" \
	"     CASE WHEN json_typeof(p.plan -> 'summary' -> 'cosmetic_changes_skipped') = 'array'" \
	"          THEN p.plan -> 'summary' -> 'cosmetic_changes_skipped' END) x)," \
	" (SELECT string_agg(concat(u ->> 'model', ' -> ', u ->> 'reference'), ', ')" \
	"    FROM json_array_elements(CASE WHEN json_typeof(p.plan -> 'unknown_references') = 'array'" \
	"                                  THEN p.plan -> 'unknown_references' END) u)," \
	" to_char(p.created_at, 'YYYY-MM-DD HH24:MI:SS TZ')" \
	"  FROM ironlayer.plans p WHERE p.plan_id = $1 AND p.tenant_id = ironlayer.current_tenant()"
#define HEADER_JSON_COLS 11

int
il_show_plan(PGconn *conn, const char *id, bool json)
{
	const char *params[1] = {id};
	PGresult   *head;
	PGresult   *steps;
	int			rc = IL_EXIT_OK;

	if ((head = il_srv_exec(conn, HEADER_SQL, 1, params)) == NULL)
		return IL_EXIT_FAILED;
	if (PQntuples(head) != 1)
	{
		fprintf(stderr, "ironlayer: plan %s does not exist [SQLSTATE 42704]\n", id);
		PQclear(head);
		return IL_EXIT_FAILED;
	}
	steps = il_srv_exec(conn,
						"SELECT step, parallel_group, model, run_type, input_range, reason, step_id"
						"  FROM ironlayer.show_plan($1)", 1, params);
	if (steps == NULL)
	{
		PQclear(head);
		return IL_EXIT_FAILED;
	}
	if (json)
	{
		il_jout		j;
		int			c;

		il_jout_init(&j);
		il_jout_begin_object(&j, NULL);
		for (c = 0; c < HEADER_JSON_COLS; c++)
		{
			if (c == 9)
				il_jout_rows(&j, "steps", steps, -1);
			il_jout_field(&j, PQfname(head, c), head, 0, c);
		}
		il_jout_end_object(&j);
		if (!il_jout_print(&j))
			rc = IL_EXIT_FAILED;
		il_jout_free(&j);
	}
	else
	{
		static const int cols[] = {0, 1, 2, 3, 4, 5};
		static const char *const heads[] = {"step", "group", "model", "run type", "range", "reason"};
		const char *base = PQgetvalue(head, 0, 4);
		const char *target = PQgetvalue(head, 0, 5);

		printf("plan         %s\n", PQgetvalue(head, 0, 0));
		printf("kind         %s\n", PQgetvalue(head, 0, 1));
		printf("repository   %s\n", PQgetvalue(head, 0, 2));
		printf("environment  %s\n", PQgetvalue(head, 0, 3));
		if (strcmp(base, target) == 0)
			printf("commit       %.12s\n", target);
		else
			printf("commits      %.12s..%.12s\n", base, target);
		printf("as of        %s\n", PQgetvalue(head, 0, 6));
		fputs("created by   ", stdout);
		il_out_text(stdout, PQgetvalue(head, 0, 7), true);
		printf(" at %s\n", PQgetvalue(head, 0, 13));
		printf("steps        %d\n\n", PQntuples(steps));
		il_out_table(stdout, steps, cols, heads, 6);
		if (!PQgetisnull(head, 0, 11))
		{
			fputs("\ncosmetic changes skipped: ", stdout);
			il_out_text(stdout, PQgetvalue(head, 0, 11), true);
			fputc('\n', stdout);
		}
		if (!PQgetisnull(head, 0, 12))
		{
			fputs("\nunknown references: ", stdout);
			il_out_text(stdout, PQgetvalue(head, 0, 12), true);
			fputc('\n', stdout);
		}
	}
	PQclear(steps);
	PQclear(head);
	return rc;
}

int
il_cmd_show(int argc, char **argv)
{
	il_srv_opts o = {0};
	const char *plan = NULL;
	PGconn	   *conn;
	char		id[65];
	int			i,
				rc,
				t;

	for (i = 1; i < argc; i++)
	{
		if (il_is_help(argv[i]))
		{
			show_usage(stdout);
			return IL_EXIT_OK;
		}
		if ((t = il_srv_common_option(argc, argv, &i, &o)) != 0)
		{
			if (t < 0)
				return il_srv_misuse("show", "missing value");
			continue;
		}
		if (argv[i][0] == '-' || plan != NULL)
			return il_srv_misuse("show", "unexpected argument \"%s\"", argv[i]);
		plan = argv[i];
	}
	if (plan == NULL)
		return il_srv_misuse("show", "show needs PLAN (a plan id or a prefix of one)");
	if ((conn = il_srv_connect(&o, &rc)) == NULL)
		return rc;
	rc = il_srv_resolve_plan(conn, plan, id, NULL) ? il_show_plan(conn, id, o.json) : IL_EXIT_FAILED;
	PQfinish(conn);
	return rc;
}

/*
 * Runs a planning statement whose result is the plan (json) and its id;
 * prints the plan's text (json) or the plan as show does.
 */
static int
run_plan(PGconn *conn, const char *sql, int n, const char *const *params, bool json)
{
	PGresult   *res = il_srv_exec(conn, sql, n, params);
	char		id[65];
	int			rc;

	if (res == NULL)
		return IL_EXIT_FAILED;
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0))
	{
		fprintf(stderr, "ironlayer: the server returned no plan\n");
		PQclear(res);
		return IL_EXIT_FAILED;
	}
	if (json)
	{
		fwrite(PQgetvalue(res, 0, 0), 1, (size_t) PQgetlength(res, 0, 0), stdout);
		fputc('\n', stdout);
		PQclear(res);
		return fflush(stdout) == 0 ? IL_EXIT_OK : IL_EXIT_FAILED;
	}
	snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 1));
	PQclear(res);
	rc = il_show_plan(conn, id, false);
	return rc;
}

/* Adds the days option key when given; false when it is no count. */
static bool
put_days(il_jout *j, const char *key, const char *v)
{
	long		n;

	if (v == NULL)
		return true;
	if (!il_srv_parse_count(v, MAX_DAYS, &n))
		return false;
	il_jout_int(j, key, n);
	return true;
}

int
il_cmd_plan_server(int argc, char **argv)
{
	il_srv_opts o = {0};
	const char *repo = NULL,
			   *head = NULL,
			   *env = NULL,
			   *base = NULL,
			   *as_of = NULL,
			   *lookback = NULL,
			   *recompute = NULL,
			   *v;
	const char **full = calloc((size_t) argc, sizeof(char *));
	int			nfull = 0;
	bool		refresh = false,
				no_skip = false,
				bad = false;
	il_jout		opts;
	PGconn	   *conn;
	int			i,
				k,
				t,
				rc = IL_EXIT_USAGE;
	const char *params[5];

	if (full == NULL)
		return IL_EXIT_FAILED;
	il_jout_init(&opts);
	for (i = 1; i < argc; i++)
	{
		if (il_is_help(argv[i]))
		{
			il_plan_server_usage(stdout);
			rc = IL_EXIT_OK;
			goto out;
		}
		if ((t = il_srv_common_option(argc, argv, &i, &o)) != 0)
		{
			if (t < 0)
				goto misuse_value;
			continue;
		}
		if (strcmp(argv[i], "--refresh") == 0)
			refresh = true;
		else if (strcmp(argv[i], "--no-skip-cosmetic") == 0)
			no_skip = true;
		else if ((v = il_cli_option_value(argc, argv, &i, "--env", &bad)) != NULL)
			env = v;
		else if ((v = il_cli_option_value(argc, argv, &i, "--base", &bad)) != NULL)
			base = v;
		else if ((v = il_cli_option_value(argc, argv, &i, "--as-of", &bad)) != NULL)
			as_of = v;
		else if ((v = il_cli_option_value(argc, argv, &i, "--lookback-days", &bad)) != NULL)
			lookback = v;
		else if ((v = il_cli_option_value(argc, argv, &i, "--recompute-days", &bad)) != NULL)
			recompute = v;
		else if ((v = il_cli_option_value(argc, argv, &i, "--full-refresh", &bad)) != NULL)
			full[nfull++] = v;
		else if (bad)
			goto misuse_value;
		else if (argv[i][0] == '-')
		{
			rc = il_srv_misuse("plan", "unknown option \"%s\" for plan --env", argv[i]);
			goto out;
		}
		else if (repo == NULL)
			repo = argv[i];
		else if (head == NULL)
			head = argv[i];
		else
		{
			rc = il_srv_misuse("plan", "unexpected argument \"%s\"", argv[i]);
			goto out;
		}
	}
	if (repo == NULL || env == NULL)
	{
		rc = il_srv_misuse("plan", "plan on a server needs REPO and --env ENV");
		goto out;
	}
	if (as_of != NULL && !il_srv_valid_date(as_of))
	{
		rc = il_srv_misuse("plan", "invalid --as-of \"%s\": give a date YYYY-MM-DD", as_of);
		goto out;
	}
	if (refresh && (head != NULL || base != NULL || nfull > 0 || no_skip))
	{
		rc = il_srv_misuse("plan", "plan --refresh takes no HEAD, --base, --full-refresh or --no-skip-cosmetic");
		goto out;
	}

	/* the options object, keys in order */
	il_jout_begin_object(&opts, NULL);
	if (!refresh)
	{
		il_jout_string(&opts, "environment", env);
		il_jout_begin_array(&opts, "full_refresh");
		for (k = 0; k < nfull; k++)
			il_jout_string(&opts, NULL, full[k]);
		il_jout_end_array(&opts);
	}
	if (!put_days(&opts, "lookback_days", lookback) || !put_days(&opts, "recompute_days", recompute))
	{
		rc = il_srv_misuse("plan", "--lookback-days and --recompute-days take a whole number of days");
		goto out;
	}
	if (no_skip)
		il_jout_bool(&opts, "skip_cosmetic", false);
	il_jout_end_object(&opts);

	if ((conn = il_srv_connect(&o, &rc)) == NULL)
		goto out;
	params[0] = repo;
	if (refresh)
	{
		params[1] = env;
		params[2] = il_buf_cstr(&opts.buf);
		params[3] = as_of;
		rc = run_plan(conn, as_of
					  ? "SELECT p, p ->> 'plan_id' FROM ironlayer.plan_refresh(repo => $1, environment => $2,"
					  " options => $3::jsonb, as_of => $4::date) AS p"
					  : "SELECT p, p ->> 'plan_id' FROM ironlayer.plan_refresh(repo => $1, environment => $2,"
					  " options => $3::jsonb) AS p",
					  as_of ? 4 : 3, params, o.json);
	}
	else
	{
		params[1] = base;
		params[2] = head ? head : "HEAD";
		params[3] = il_buf_cstr(&opts.buf);
		params[4] = as_of;
		rc = run_plan(conn, as_of
					  ? "SELECT p, p ->> 'plan_id' FROM ironlayer.plan(repo => $1, base => $2, head => $3,"
					  " options => $4::jsonb, as_of => $5::date) AS p"
					  : "SELECT p, p ->> 'plan_id' FROM ironlayer.plan(repo => $1, base => $2, head => $3,"
					  " options => $4::jsonb) AS p",
					  as_of ? 5 : 4, params, o.json);
	}
	PQfinish(conn);
	goto out;

misuse_value:
	rc = il_srv_misuse("plan", "option %s needs a value", argv[i]);
out:
	il_jout_free(&opts);
	free(full);
	return rc;
}

int
il_cmd_backfill(int argc, char **argv)
{
	il_srv_opts o = {0};
	const char *repo = NULL,
			   *models = NULL,
			   *env = NULL,
			   *start = NULL,
			   *end = NULL,
			   *as_of = NULL,
			   *batch = NULL,
			   *v;
	bool		bad = false;
	il_jout		opts;
	PGconn	   *conn;
	const char *params[7];
	int			i,
				t,
				rc;

	for (i = 1; i < argc; i++)
	{
		if (il_is_help(argv[i]))
		{
			backfill_usage(stdout);
			return IL_EXIT_OK;
		}
		if ((t = il_srv_common_option(argc, argv, &i, &o)) != 0)
		{
			if (t < 0)
				return il_srv_misuse("backfill", "option %s needs a value", argv[i]);
			continue;
		}
		if ((v = il_cli_option_value(argc, argv, &i, "--env", &bad)) != NULL)
			env = v;
		else if ((v = il_cli_option_value(argc, argv, &i, "--start", &bad)) != NULL)
			start = v;
		else if ((v = il_cli_option_value(argc, argv, &i, "--end", &bad)) != NULL)
			end = v;
		else if ((v = il_cli_option_value(argc, argv, &i, "--as-of", &bad)) != NULL)
			as_of = v;
		else if ((v = il_cli_option_value(argc, argv, &i, "--batch-days", &bad)) != NULL)
			batch = v;
		else if (bad)
			return il_srv_misuse("backfill", "option %s needs a value", argv[i]);
		else if (argv[i][0] == '-')
			return il_srv_misuse("backfill", "unknown option \"%s\" for backfill", argv[i]);
		else if (repo == NULL)
			repo = argv[i];
		else if (models == NULL)
			models = argv[i];
		else
			return il_srv_misuse("backfill", "unexpected argument \"%s\"", argv[i]);
	}
	if (repo == NULL || models == NULL || env == NULL || start == NULL || end == NULL)
		return il_srv_misuse("backfill", "backfill needs REPO, MODEL[,MODEL...], --env, --start and --end");
	if (!il_srv_valid_date(start) || !il_srv_valid_date(end) || (as_of && !il_srv_valid_date(as_of)))
		return il_srv_misuse("backfill", "--start, --end and --as-of take a date YYYY-MM-DD");
	il_jout_init(&opts);
	il_jout_begin_object(&opts, NULL);
	if (!put_days(&opts, "batch_days", batch))
	{
		il_jout_free(&opts);
		return il_srv_misuse("backfill", "--batch-days takes a whole number of days");
	}
	il_jout_end_object(&opts);
	if ((conn = il_srv_connect(&o, &rc)) == NULL)
	{
		il_jout_free(&opts);
		return rc;
	}
	params[0] = repo;
	params[1] = env;
	params[2] = models;
	params[3] = start;
	params[4] = end;
	params[5] = il_buf_cstr(&opts.buf);
	params[6] = as_of;
	rc = run_plan(conn, as_of
				  ? "SELECT p, p ->> 'plan_id' FROM ironlayer.plan_backfill(repo => $1, environment => $2,"
				  " models => string_to_array($3, ','), start_date => $4::date, end_date => $5::date,"
				  " options => $6::jsonb, as_of => $7::date) AS p"
				  : "SELECT p, p ->> 'plan_id' FROM ironlayer.plan_backfill(repo => $1, environment => $2,"
				  " models => string_to_array($3, ','), start_date => $4::date, end_date => $5::date,"
				  " options => $6::jsonb) AS p",
				  as_of ? 7 : 6, params, o.json);
	PQfinish(conn);
	il_jout_free(&opts);
	return rc;
}
