/*-------------------------------------------------------------------------
 *
 * il_git.h
 *	  Reading model files straight from git objects (libgit2): no checkout,
 *	  no working tree, no git command.
 *
 * A repository is opened by path (a working tree with .git, or a bare
 * repository; the path itself, never a parent directory). A commit-ish
 * (full or short id, branch, tag, HEAD~1, main^, ...) resolves to a full
 * 40-hex commit id. The *.sql blobs under a directory of a commit's tree
 * are listed recursively, sorted by path (byte order), with paths relative
 * to the repository root. Blobs are read whole, after a size check that
 * does not inflate them.
 *
 * Error codes (il_error.code; messages are lower-case and name the input):
 *	no_such_path		the path does not exist
 *	not_a_directory		the path is not a directory
 *	not_a_repository	the directory is not a git repository
 *	path_outside_root	il_git_path_inside, il_git_confine: the path (or a
 *						directory of the repository) resolves outside the root
 *	path_changed		il_git_confine: the path no longer resolves to itself
 *	borrowed_objects	il_git_confine: an objects/info/alternates file
 *	unknown_commit		a commit-ish that names nothing
 *	ambiguous_commit	a short id that matches several objects
 *	not_a_commit		a commit-ish that names a tree or a blob
 *	invalid_models_dir	a directory with "..", "." or empty parts, or a
 *						backslash
 *	no_models_dir		the directory does not exist at the commit
 *	models_dir_not_tree	the directory is a file at the commit
 *	invalid_path		a *.sql path that is not valid UTF-8
 *	file_too_large		il_git_read_blob: the blob is larger than the limit
 *	git_error			libgit2 failed (a damaged repository, I/O)
 *	out_of_memory
 * Every function returns 0 on success and -1 with err set on failure, and
 * frees every libgit2 object it made on every path.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_GIT_H
#define IL_GIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "il_buf.h"

/* A git object id as lower-case hex (SHA-1). */
#define IL_GIT_OID_HEX_LEN 40

/*
 * git's null id: no commit. il_repo_diff takes it as a base that has no
 * models (nothing deployed yet); il_git_resolve does not resolve it.
 */
#define IL_GIT_NULL_OID "0000000000000000000000000000000000000000"

/* An open repository (opaque; wraps a git_repository and its object db). */
typedef struct il_git_repo il_git_repo;

/*
 * Initializes libgit2 once per process (later calls do nothing) and sets
 * its process-wide options: no global, XDG or system configuration files
 * are read (results depend on the repository alone), and the owner check
 * of safe.directory is off (the server's user reads repositories that
 * other users own; libgit2 runs no hooks or configured programs, and the
 * extension admits only paths under ironlayer.repo_root). Returns 0, or -1
 * when libgit2 failed to initialize.
 */
extern int	il_git_init(void);

/* Undoes il_git_init (for tests and leak checkers); idempotent. */
extern void il_git_shutdown(void);

/*
 * Opens the repository at path (no search in parent directories). Calls
 * il_git_init. Close it with il_git_close.
 */
extern int	il_git_open(const char *path, il_git_repo **out, il_error *err);
extern void il_git_close(il_git_repo *repo);

/* Is the repository bare? */
extern bool il_git_is_bare(const il_git_repo *repo);

/*
 * Where the repository's data lives, as libgit2 resolved it (ending in
 * "/"): the git directory (path/.git/, or path/ when bare, or where a .git
 * file points) and the common directory (objects and refs; differs for a
 * linked worktree). A caller confining repositories to a root checks them
 * with il_git_confine, which also refuses what il_git_has_alternates
 * tells: an objects/info/alternates file makes the repository read objects
 * from other directories.
 */
extern const char *il_git_gitdir(const il_git_repo *repo);
extern const char *il_git_commondir(const il_git_repo *repo);
extern bool il_git_has_alternates(const il_git_repo *repo);

/*
 * Resolves a commit-ish to the full id of a commit (out: 40 hex characters
 * and a NUL). Annotated tags are peeled to their commit.
 */
extern int	il_git_resolve(il_git_repo *repo, const char *spec,
						   char out[IL_GIT_OID_HEX_LEN + 1], il_error *err);

/*
 * The default models directory: "models" when the root tree of the commit
 * (a full 40-hex id; NULL for HEAD) has a directory "models", else "" (the
 * root). A repository without commits gets "". *out is a static string.
 */
extern int	il_git_default_models_dir(il_git_repo *repo, const char *commit,
									  const char **out, il_error *err);

/*
 * Normalizes a models directory as given by a user: "/" at either end,
 * repeated "/" and "." parts removed, so "", ".", "/" and "./" are the root
 * ("") and "./models/" is "models". A ".." part, a backslash or invalid
 * UTF-8 is refused (invalid_models_dir). *out is allocated with il_malloc.
 */
extern int	il_git_normalize_dir(const char *dir, char **out, il_error *err);

/*
 * Checks that path lies inside the directory root once both are resolved
 * (symbolic links followed, "." and ".." removed): the resolved path is
 * root itself or below it. A relative path is taken relative to root.
 * *resolved (allocated with il_malloc; pass NULL when not wanted) is the resolved path.
 * Errors: no_such_path (root or path), path_outside_root.
 */
extern int	il_git_path_inside(const char *root, const char *path, char **resolved,
							   il_error *err);

/*
 * Checks that an open repository is still confined to the directory root,
 * as a caller must before each use of a repository it keeps open (the
 * directories may have been swapped since the last use, or root changed):
 *	- path (a resolved path, as il_git_path_inside gave it when the
 *	  repository was admitted) still resolves to itself, so no directory on
 *	  it has become a symbolic link (path_changed), and lies inside root;
 *	- the git directory, the common directory, its objects directory and
 *	  objects/pack (when present) resolve inside root;
 *	- objects/info/alternates does not exist (borrowed_objects).
 * Errors: no_such_path (root, path or one of those directories missing),
 * path_changed, path_outside_root, borrowed_objects, out_of_memory.
 * Messages name path, never where a link points. *store (allocated with il_malloc; pass
 * NULL when not wanted) is the repository's identity: its resolved common
 * directory, without a trailing "/"; a working tree, its .git directory,
 * symbolic links to either and its linked worktrees share it.
 */
extern int	il_git_confine(const il_git_repo *repo, const char *root, const char *path,
						   char **store, il_error *err);

/*
 * Writes path (or any user text) into out[0..cap) for a message: control
 * characters and bytes of invalid UTF-8 as \xNN, and, when too long, only
 * its end after "...". cap must be at least 16.
 */
extern void il_git_format_path(char *out, size_t cap, const char *path);

/* Modes of listed entries. */
#define IL_GIT_MODE_FILE	0100644
#define IL_GIT_MODE_EXEC	0100755
#define IL_GIT_MODE_LINK	0120000

/* One *.sql entry of a tree. */
typedef struct il_git_blob
{
	const char *path;			/* relative to the repository root */
	char		id[IL_GIT_OID_HEX_LEN + 1];
	uint32_t	mode;			/* IL_GIT_MODE_* (a symbolic link's blob is its target) */
	int64_t		size;			/* bytes; -1 unless IL_GIT_LIST_SIZES */
} il_git_blob;

typedef struct il_git_blob_list
{
	il_git_blob *items;			/* sorted by path, byte order */
	size_t		n;
	char	   *mem;			/* the paths */
} il_git_blob_list;

#define IL_GIT_BLOB_LIST_INIT {NULL, 0, NULL}

/* Also read each blob's size (one object header read per blob). */
#define IL_GIT_LIST_SIZES 0x01

/*
 * Lists every blob whose name ends in ".sql" under directory dir (as from
 * il_git_normalize_dir; "" is the root) of the tree of commit (a full
 * 40-hex id), recursively. Symbolic links are listed with their mode;
 * submodules are not listed. out needs no initialization; free it with
 * il_git_blob_list_free whatever the result.
 */
extern int	il_git_list_sql(il_git_repo *repo, const char *commit, const char *dir,
							unsigned flags, il_git_blob_list *out, il_error *err);
extern void il_git_blob_list_free(il_git_blob_list *list);

/*
 * Looks up the entry at path (relative to the root, "/" between parts) in
 * the tree of commit (a full 40-hex id): *found false when there is none;
 * else its object id (40 hex) and mode (IL_GIT_MODE_*, or 040000 for a
 * directory, 0160000 for a submodule).
 */
extern int	il_git_find_entry(il_git_repo *repo, const char *commit, const char *path,
							  bool *found, char id[IL_GIT_OID_HEX_LEN + 1], uint32_t *mode,
							  il_error *err);

/*
 * Reads the blob (a full 40-hex id) into out (appended, NUL-terminated).
 * When the blob has more than max bytes nothing is read and the error is
 * file_too_large (err->message gives the size). *size, when not NULL, is
 * set to the blob's size in both cases.
 */
extern int	il_git_read_blob(il_git_repo *repo, const char *id, size_t max,
							 il_buf *out, size_t *size, il_error *err);

#endif							/* IL_GIT_H */
