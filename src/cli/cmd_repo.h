/*-------------------------------------------------------------------------
 *
 * cmd_repo.h
 *	  `ironlayer models`, `ironlayer diff`, `ironlayer lineage`: models read
 *	  straight from a git repository's objects, offline.
 *
 * Each takes the arguments after "ironlayer" (argv[0] is the subcommand's
 * name), prints one canonical-JSON object per line on standard output (the
 * rows of ironlayer.models(), diff() and lineage()), errors on standard
 * error as "ironlayer: message", and returns 0, 1 on an error, 2 on bad
 * usage.
 *
 *	ironlayer models REPO COMMIT [--models-dir DIR]
 *	ironlayer diff REPO BASE HEAD [--models-dir DIR]
 *	ironlayer lineage REPO COMMIT MODEL [--direction up|down|both]
 *					  [--max-depth N] [--models-dir DIR]
 *
 * REPO is the path of a repository (working tree or bare); COMMIT, BASE and
 * HEAD are commit-ishes (id, short id, branch, tag, HEAD~1, ...). The models
 * directory defaults to "models" when the commit (HEAD for diff) has one at
 * its root, else the root. Files skipped as not models are noted on
 * standard error.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_CMD_REPO_H
#define IL_CMD_REPO_H

extern int	il_cmd_models(int argc, char **argv);
extern int	il_cmd_diff(int argc, char **argv);
extern int	il_cmd_lineage(int argc, char **argv);

#endif							/* IL_CMD_REPO_H */
