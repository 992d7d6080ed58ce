/*-------------------------------------------------------------------------
 *
 * cmd_repo.c
 *	  `ironlayer models|diff|lineage`: see cmd_repo.h.
 *
 * Thin: parses the arguments, calls il_repo, prints the JSON lines the core
 * writes. No cache: every run parses the files it lists.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "cmd_repo.h"
#include "il_repo.h"

#define EXIT_USAGE 2

/* The options of the three commands. */
typedef struct repo_args
{
	const char *pos[3];			/* positional arguments */
	int			npos;
	const char *models_dir;		/* NULL: the default */
	const char *direction;		/* NULL: both */
	int			max_depth;
	bool		has_max_depth;
} repo_args;

/*
 * Prints the usage of one command to out.
 */
static void
usage(FILE *out, const char *cmd)
{
	if (strcmp(cmd, "models") == 0)
		fprintf(out, "Usage: ironlayer models REPO COMMIT [--models-dir DIR]\n");
	else if (strcmp(cmd, "diff") == 0)
		fprintf(out, "Usage: ironlayer diff REPO BASE HEAD [--models-dir DIR]\n");
	else
		fprintf(out, "Usage: ironlayer lineage REPO COMMIT MODEL [--direction up|down|both]\n"
				"                         [--max-depth N] [--models-dir DIR]\n");
}


/*
 * Parses the arguments of a command that takes npos positional arguments.
 * Returns -1 to go on, or the exit status (0 after --help, 2 on misuse).
 */
static int
parse_args(int argc, char **argv, int npos, bool lineage, repo_args *a)
{
	const char *cmd = argv[0];
	int			i;

	memset(a, 0, sizeof(*a));
	for (i = 1; i < argc; i++)
	{
		const char *v;
		bool		bad = false;

		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
		{
			usage(stdout, cmd);
			return 0;
		}
		if ((v = il_cli_option_value(argc, argv, &i, "--models-dir", &bad)) != NULL)
			a->models_dir = v;
		else if (lineage && (v = il_cli_option_value(argc, argv, &i, "--direction", &bad)) != NULL)
		{
			unsigned	dirs;
			il_error	err;

			if (il_dag_parse_direction(v, &dirs, &err) != 0)
			{
				il_cli_error(NULL, &err);
				usage(stderr, cmd);
				return EXIT_USAGE;
			}
			a->direction = v;
		}
		else if (lineage && (v = il_cli_option_value(argc, argv, &i, "--max-depth", &bad)) != NULL)
		{
			char	   *end;
			long		d;

			errno = 0;
			d = strtol(v, &end, 10);
			if (errno != 0 || end == v || *end != '\0' || d < 1 || d > INT_MAX)
			{
				/* as lineage() in SQL: 0 lists nothing, so it is a mistake */
				fprintf(stderr, "ironlayer: invalid --max-depth \"%s\": give a whole number, 1 or more\n", v);
				return EXIT_USAGE;
			}
			a->max_depth = (int) d;
			a->has_max_depth = true;
		}
		else if (bad)
		{
			fprintf(stderr, "ironlayer: option %s needs a value\n", argv[i]);
			usage(stderr, cmd);
			return EXIT_USAGE;
		}
		else if (argv[i][0] == '-' && argv[i][1] == '-')
		{
			fprintf(stderr, "ironlayer: unknown option \"%s\" for %s\n", argv[i], cmd);
			usage(stderr, cmd);
			return EXIT_USAGE;
		}
		else if (a->npos < npos)
			a->pos[a->npos++] = argv[i];
		else
		{
			fprintf(stderr, "ironlayer: too many arguments for %s\n", cmd);
			usage(stderr, cmd);
			return EXIT_USAGE;
		}
	}
	if (a->npos < npos)
	{
		fprintf(stderr, "ironlayer: %s needs %d arguments\n", cmd, npos);
		usage(stderr, cmd);
		return EXIT_USAGE;
	}
	return -1;
}

/*
 * Prints out on standard output; returns the exit status.
 */
static int
emit(il_buf *out)
{
	if (out->oom)
	{
		fprintf(stderr, "ironlayer: out of memory\n");
		return 1;
	}
	if (out->len > 0)
		fwrite(out->data, 1, out->len, stdout);
	if (fflush(stdout) != 0)
	{
		fprintf(stderr, "ironlayer: cannot write the output: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

/*
 * Notes the skipped files on standard error.
 */
static void
note_skipped(const il_repo_models *m)
{
	size_t		i;

	for (i = 0; i < m->n_skipped; i++)
		fprintf(stderr, "ironlayer: skipped %s: %s\n", m->skipped[i].path, m->skipped[i].reason);
}

/*
 * Says on stderr which references are unknown (also in the rows'
 * unknown_refs): neither a model nor a declared source.
 */
static void
note_unknown(const il_repo_models *m)
{
	size_t		i;
	size_t		k;

	for (i = 0; i < m->n; i++)
		for (k = 0; k < m->models[i].n_unknown_refs; k++)
		{
			if (m->sources_file != NULL)
				fprintf(stderr, "ironlayer: unknown reference: %s reads %s, neither a model nor declared in %s\n",
						m->models[i].name, m->models[i].unknown_refs[k], m->sources_file);
			else
				fprintf(stderr, "ironlayer: unknown reference: %s reads %s, no model, in a schema of models"
						" (a source there must be declared in sources.txt)\n",
						m->models[i].name, m->models[i].unknown_refs[k]);
		}
}

/*
 * Reports an error; returns 1.
 */
static int
fail(const il_error *err)
{
	return il_cli_error(NULL, err);
}

/*
 * ironlayer models REPO COMMIT
 */
int
il_cmd_models(int argc, char **argv)
{
	repo_args	a;
	il_git_repo *git = NULL;
	il_repo_models *m = NULL;
	il_error	err;
	il_buf		out = IL_BUF_INIT;
	int			rc = parse_args(argc, argv, 2, false, &a);

	if (rc >= 0)
		return rc;
	if (il_git_open(a.pos[0], &git, &err) != 0)
		return fail(&err);
	if (il_repo_load(git, a.pos[1], a.models_dir, NULL, IL_REPO_DAG, &m, &err) != 0)
		rc = fail(&err);
	else
	{
		note_skipped(m);
		note_unknown(m);
		il_repo_models_json(m, &out);
		rc = emit(&out);
	}
	il_repo_models_free(m);
	il_git_close(git);
	il_buf_free(&out);
	return rc;
}

/*
 * ironlayer diff REPO BASE HEAD
 */
int
il_cmd_diff(int argc, char **argv)
{
	repo_args	a;
	il_git_repo *git = NULL;
	il_repo_diff_result *d = NULL;
	il_error	err;
	il_buf		out = IL_BUF_INIT;
	int			rc = parse_args(argc, argv, 3, false, &a);

	if (rc >= 0)
		return rc;
	if (il_git_open(a.pos[0], &git, &err) != 0)
		return fail(&err);
	if (il_repo_diff(git, a.pos[1], a.pos[2], a.models_dir, NULL, &d, &err) != 0)
		rc = fail(&err);
	else
	{
		il_repo_diff_json(d->rows, d->n, &out);
		rc = emit(&out);
	}
	il_repo_diff_free(d);
	il_git_close(git);
	il_buf_free(&out);
	return rc;
}

/*
 * ironlayer lineage REPO COMMIT MODEL
 */
int
il_cmd_lineage(int argc, char **argv)
{
	repo_args	a;
	il_git_repo *git = NULL;
	il_repo_models *m = NULL;
	il_repo_lineage_row *rows = NULL;
	size_t		n = 0;
	il_error	err;
	il_buf		out = IL_BUF_INIT;
	int			rc = parse_args(argc, argv, 3, true, &a);

	if (rc >= 0)
		return rc;
	if (il_git_open(a.pos[0], &git, &err) != 0)
		return fail(&err);
	if (il_repo_load(git, a.pos[1], a.models_dir, NULL, IL_REPO_DAG, &m, &err) != 0 ||
		il_repo_lineage(m, a.pos[2], a.direction, a.has_max_depth ? &a.max_depth : NULL,
						&rows, &n, &err) != 0)
		rc = fail(&err);
	else
	{
		il_repo_lineage_json(rows, n, &out);
		rc = emit(&out);
	}
	free(rows);
	il_repo_models_free(m);
	il_git_close(git);
	il_buf_free(&out);
	return rc;
}
