/*-------------------------------------------------------------------------
 *
 * il_git.c
 *	  Reading model files straight from git objects; see il_git.h.
 *
 * Only libgit2's object database is used: commits, trees and blobs are
 * looked up by id, never checked out. Every function frees what it looked
 * up on every path (the "done:" label of each function).
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <git2.h>

#include "il_git.h"
#include "il_text.h"

struct il_git_repo
{
	git_repository *repo;
	git_odb    *odb;
};

/* Whether il_git_init has run (libgit2's own state is process-wide too). */
static bool git_initialized = false;

/* Room for a path or a commit-ish quoted in a message. */
#define QUOTE_CAP 120

/*
 * Initializes libgit2 and its process-wide options, once.
 */
int
il_git_init(void)
{
	int			level;
	static const int levels[] = {
		GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_XDG, GIT_CONFIG_LEVEL_GLOBAL,
		GIT_CONFIG_LEVEL_PROGRAMDATA
	};

	if (git_initialized)
		return 0;
	if (git_libgit2_init() < 0)
		return -1;
	for (level = 0; level < (int) (sizeof(levels) / sizeof(levels[0])); level++)
		(void) git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, levels[level], "");
	(void) git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
	git_initialized = true;
	return 0;
}

/*
 * Shuts libgit2 down if il_git_init started it.
 */
void
il_git_shutdown(void)
{
	if (!git_initialized)
		return;
	git_libgit2_shutdown();
	git_initialized = false;
}

/*
 * Writes path for a message: escaped, and only its end when too long.
 */
void
il_git_format_path(char *out, size_t cap, const char *path)
{
	const unsigned char *s = (const unsigned char *) (path ? path : "");
	size_t		len = strlen((const char *) s);
	size_t		total = 0;
	size_t		start = 0;
	size_t		o = 0;
	size_t		i;
	size_t		esc;

	for (i = 0; i < len; i += il_quote_char(s, i, len, &esc))
	{
		il_quote_char(s, i, len, &esc);
		total += esc;
	}
	if (total > cap - 1)
	{
		/* drop whole characters from the front until the rest fits after "..." */
		while (start < len && total > cap - 1 - 3)
		{
			start += il_quote_char(s, start, len, &esc);
			total -= esc;
		}
		memcpy(out, "...", 3);
		o = 3;
	}
	for (i = start; i < len;)
	{
		size_t		n = il_quote_char(s, i, len, &esc);

		if (esc == 4 && n == 1 && !(s[i] >= 0x20 && s[i] < 0x7f))
			snprintf(out + o, cap - o, "\\x%02x", s[i]);
		else
			memcpy(out + o, s + i, n);
		o += esc;
		i += n;
	}
	out[o] = '\0';
}

/*
 * Sets a git_error from libgit2's last error, after what.
 */
static int
git_fail(il_error *err, const char *what)
{
	const git_error *e = git_error_last();
	char		msg[QUOTE_CAP];

	il_git_format_path(msg, sizeof(msg), e && e->message ? e->message : "unknown error");
	il_error_set(err, IL_ERR_GIT_ERROR, 0, 0, "%s: %s", what, msg);
	return -1;
}

/*
 * Sets out_of_memory.
 */
static int
nomem(il_error *err)
{
	il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory while reading the repository");
	return -1;
}

/*
 * Opens the repository at path.
 */
int
il_git_open(const char *path, il_git_repo **out, il_error *err)
{
	struct stat st;
	git_repository *repo = NULL;
	char		q[QUOTE_CAP];
	int			rc;

	*out = NULL;
	il_error_clear(err);
	il_git_format_path(q, sizeof(q), path);
	if (il_git_init() != 0)
		return git_fail(err, "cannot initialize libgit2");
	if (path == NULL || path[0] == '\0')
	{
		il_error_set(err, IL_ERR_NO_SUCH_PATH, 0, 0, "empty repository path: give the directory of a git repository");
		return -1;
	}
	if (stat(path, &st) != 0)
	{
		if (errno == ENOENT || errno == ENOTDIR)
			il_error_set(err, IL_ERR_NO_SUCH_PATH, 0, 0, "repository path \"%s\" does not exist", q);
		else
			il_error_set(err, IL_ERR_NO_SUCH_PATH, 0, 0, "cannot access repository path \"%s\": %s", q, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
	{
		il_error_set(err, IL_ERR_NOT_A_DIRECTORY, 0, 0, "repository path \"%s\" is not a directory", q);
		return -1;
	}
	rc = git_repository_open_ext(&repo, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
	if (rc == GIT_ENOTFOUND)
	{
		il_error_set(err, IL_ERR_NOT_A_REPOSITORY, 0, 0,
					 "\"%s\" is not a git repository: give the top directory of a working tree (with .git) or a bare repository",
					 q);
		return -1;
	}
	if (rc < 0)
		return git_fail(err, "cannot open the repository");
	*out = il_calloc(1, sizeof(il_git_repo));
	if (*out == NULL)
	{
		git_repository_free(repo);
		return nomem(err);
	}
	(*out)->repo = repo;
	if (git_repository_odb(&(*out)->odb, repo) < 0)
	{
		git_fail(err, "cannot open the object database");
		il_git_close(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/*
 * Closes a repository (NULL is allowed).
 */
void
il_git_close(il_git_repo *repo)
{
	if (repo == NULL)
		return;
	git_odb_free(repo->odb);
	git_repository_free(repo->repo);
	il_free(repo);
}

/*
 * Is the repository bare?
 */
bool
il_git_is_bare(const il_git_repo *repo)
{
	return git_repository_is_bare(repo->repo) != 0;
}

/*
 * The git directory.
 */
const char *
il_git_gitdir(const il_git_repo *repo)
{
	return git_repository_path(repo->repo);
}

/*
 * The common directory (objects, refs).
 */
const char *
il_git_commondir(const il_git_repo *repo)
{
	return git_repository_commondir(repo->repo);
}

/*
 * Does the object database name alternates (objects/info/alternates)?
 */
bool
il_git_has_alternates(const il_git_repo *repo)
{
	const char *dir = git_repository_commondir(repo->repo);
	char	   *path;
	struct stat st;
	bool		found;

	if (dir == NULL)
		return false;
	path = il_malloc(strlen(dir) + sizeof("/objects/info/alternates"));
	if (path == NULL)
		return true;			/* cannot tell: the cautious answer */
	sprintf(path, "%s%sobjects/info/alternates", dir, dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/");
	found = stat(path, &st) == 0;
	il_free(path);
	return found;
}

/*
 * Resolves a commit-ish to a full commit id.
 */
int
il_git_resolve(il_git_repo *repo, const char *spec, char out[IL_GIT_OID_HEX_LEN + 1], il_error *err)
{
	git_object *obj = NULL;
	git_object *commit = NULL;
	char		q[QUOTE_CAP];
	int			rc;
	int			ret = -1;

	out[0] = '\0';
	il_error_clear(err);
	il_git_format_path(q, sizeof(q), spec);
	if (spec == NULL || spec[0] == '\0')
	{
		il_error_set(err, IL_ERR_UNKNOWN_COMMIT, 0, 0, "empty commit: give a commit id, branch or tag");
		return -1;
	}
	rc = git_revparse_single(&obj, repo->repo, spec);
	if (rc == GIT_EAMBIGUOUS)
	{
		il_error_set(err, IL_ERR_AMBIGUOUS_COMMIT, 0, 0,
					 "commit \"%s\" is ambiguous: give more characters of the commit id", q);
		goto done;
	}
	if (rc < 0)
	{
		il_error_set(err, IL_ERR_UNKNOWN_COMMIT, 0, 0,
					 "unknown commit \"%s\": no commit, branch or tag of the repository has that name", q);
		goto done;
	}
	if (git_object_peel(&commit, obj, GIT_OBJECT_COMMIT) < 0)
	{
		il_error_set(err, IL_ERR_NOT_A_COMMIT, 0, 0, "\"%s\" names a %s, not a commit", q,
					 git_object_type2string(git_object_type(obj)));
		goto done;
	}
	git_oid_tostr(out, IL_GIT_OID_HEX_LEN + 1, git_object_id(commit));
	ret = 0;
done:
	git_object_free(commit);
	git_object_free(obj);
	return ret;
}

/*
 * Is s exactly 40 lower- or upper-case hex characters?
 */
static bool
is_oid_hex(const char *s)
{
	int			i;

	if (s == NULL)
		return false;
	for (i = 0; i < IL_GIT_OID_HEX_LEN; i++)
	{
		char		c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return s[IL_GIT_OID_HEX_LEN] == '\0';
}

/*
 * Looks up the root tree of a commit given as a full id.
 */
static int
commit_tree(il_git_repo *repo, const char *commit, git_tree **tree, il_error *err)
{
	git_oid		oid;
	git_commit *c = NULL;
	char		q[QUOTE_CAP];
	int			rc;

	*tree = NULL;
	il_git_format_path(q, sizeof(q), commit);
	if (!is_oid_hex(commit) || git_oid_fromstr(&oid, commit) < 0)
	{
		il_error_set(err, IL_ERR_UNKNOWN_COMMIT, 0, 0, "\"%s\" is not a full commit id (40 hex characters)", q);
		return -1;
	}
	rc = git_commit_lookup(&c, repo->repo, &oid);
	if (rc == GIT_ENOTFOUND)
	{
		il_error_set(err, IL_ERR_UNKNOWN_COMMIT, 0, 0, "unknown commit \"%s\": the repository has no such commit", q);
		return -1;
	}
	if (rc < 0)
		return git_fail(err, "cannot read the commit");
	rc = git_commit_tree(tree, c);
	git_commit_free(c);
	if (rc < 0)
		return git_fail(err, "cannot read the commit's tree");
	return 0;
}

/*
 * The default models directory of a commit (or of HEAD).
 */
int
il_git_default_models_dir(il_git_repo *repo, const char *commit, const char **out,
						  il_error *err)
{
	char		head[IL_GIT_OID_HEX_LEN + 1];
	git_tree   *tree = NULL;
	const git_tree_entry *e;

	*out = "";
	il_error_clear(err);
	if (commit == NULL)
	{
		if (git_repository_head_unborn(repo->repo) == 1 || git_repository_is_empty(repo->repo) == 1)
			return 0;
		if (il_git_resolve(repo, "HEAD", head, err) != 0)
			return -1;
		commit = head;
	}
	if (commit_tree(repo, commit, &tree, err) != 0)
		return -1;
	e = git_tree_entry_byname(tree, "models");
	if (e != NULL && git_tree_entry_type(e) == GIT_OBJECT_TREE)
		*out = "models";
	git_tree_free(tree);
	return 0;
}

/*
 * Looks up one entry of a commit's tree by path.
 */
int
il_git_find_entry(il_git_repo *repo, const char *commit, const char *path, bool *found,
				  char id[IL_GIT_OID_HEX_LEN + 1], uint32_t *mode, il_error *err)
{
	git_tree   *tree = NULL;
	git_tree_entry *e = NULL;
	int			rc;

	*found = false;
	id[0] = '\0';
	*mode = 0;
	il_error_clear(err);
	if (commit_tree(repo, commit, &tree, err) != 0)
		return -1;
	rc = git_tree_entry_bypath(&e, tree, path);
	git_tree_free(tree);
	if (rc == GIT_ENOTFOUND)
		return 0;
	if (rc < 0)
		return git_fail(err, "cannot read the tree");
	git_oid_tostr(id, IL_GIT_OID_HEX_LEN + 1, git_tree_entry_id(e));
	*mode = (uint32_t) git_tree_entry_filemode(e);
	*found = true;
	git_tree_entry_free(e);
	return 0;
}

/*
 * Normalizes a user's models directory.
 */
int
il_git_normalize_dir(const char *dir, char **out, il_error *err)
{
	const char *p = dir ? dir : "";
	size_t		len = strlen(p);
	char	   *r;
	size_t		o = 0;
	size_t		bad;
	char		q[QUOTE_CAP];

	*out = NULL;
	il_error_clear(err);
	il_git_format_path(q, sizeof(q), p);
	if (!il_utf8_valid(p, len, &bad) || strchr(p, '\\') != NULL)
	{
		il_error_set(err, IL_ERR_INVALID_MODELS_DIR, 0, 0,
					 "invalid models directory \"%s\": use a relative path with \"/\" between parts", q);
		return -1;
	}
	r = il_malloc(len + 1);
	if (r == NULL)
		return nomem(err);
	while (*p)
	{
		const char *slash = strchr(p, '/');
		size_t		n = slash ? (size_t) (slash - p) : strlen(p);

		if (n == 2 && p[0] == '.' && p[1] == '.')
		{
			il_free(r);
			il_error_set(err, IL_ERR_INVALID_MODELS_DIR, 0, 0,
						 "invalid models directory \"%s\": \"..\" is not allowed, give a directory inside the repository",
						 q);
			return -1;
		}
		if (n > 0 && !(n == 1 && p[0] == '.'))
		{
			if (o > 0)
				r[o++] = '/';
			memcpy(r + o, p, n);
			o += n;
		}
		p += n;
		if (*p == '/')
			p++;
	}
	r[o] = '\0';
	*out = r;
	return 0;
}

/*
 * realpath() of path, in the core's allocator (realpath's own result
 * would be the C library's); NULL with errno set.
 */
static char *
resolve_path(const char *path)
{
	char		buf[PATH_MAX];
	char	   *r;

	if (realpath(path, buf) == NULL)
		return NULL;
	r = il_strdup(buf);
	if (r == NULL)
		errno = ENOMEM;
	return r;
}

/*
 * Is rpath (resolved) the directory rroot (resolved) or below it? Never a
 * sibling that merely shares rroot's name as a prefix.
 */
static bool
resolved_below(const char *rroot, const char *rpath)
{
	size_t		n = strlen(rroot);

	return strcmp(rroot, "/") == 0 ||
		(strncmp(rpath, rroot, n) == 0 && (rpath[n] == '\0' || rpath[n] == '/'));
}

/*
 * Does path lie inside root once both are resolved?
 */
int
il_git_path_inside(const char *root, const char *path, char **resolved, il_error *err)
{
	char	   *rroot = NULL;
	char	   *rpath = NULL;
	char	   *joined = NULL;
	char		q[QUOTE_CAP];
	int			ret = -1;

	if (resolved)
		*resolved = NULL;
	il_error_clear(err);
	if (root == NULL || root[0] == '\0' || (rroot = resolve_path(root)) == NULL)
	{
		il_git_format_path(q, sizeof(q), root);
		il_error_set(err, IL_ERR_NO_SUCH_PATH, 0, 0, "root directory \"%s\" does not exist", q);
		goto done;
	}
	il_git_format_path(q, sizeof(q), path);
	if (path == NULL || path[0] == '\0')
	{
		il_error_set(err, IL_ERR_NO_SUCH_PATH, 0, 0, "empty path: give a directory inside the root");
		goto done;
	}
	if (path[0] != '/')
	{
		joined = il_malloc(strlen(rroot) + strlen(path) + 2);
		if (joined == NULL)
		{
			nomem(err);
			goto done;
		}
		sprintf(joined, "%s/%s", rroot, path);
	}
	rpath = resolve_path(joined ? joined : path);
	if (rpath == NULL)
	{
		il_error_set(err, IL_ERR_NO_SUCH_PATH, 0, 0, "path \"%s\" does not exist", q);
		goto done;
	}
	if (!resolved_below(rroot, rpath))
	{
		il_error_set(err, IL_ERR_PATH_OUTSIDE_ROOT, 0, 0,
					 "path \"%s\" lies outside the root directory once symbolic links and \"..\" are resolved",
					 q);
		goto done;
	}
	if (resolved)
	{
		*resolved = rpath;
		rpath = NULL;
	}
	ret = 0;
done:
	il_free(rroot);
	il_free(rpath);
	il_free(joined);
	return ret;
}

/*
 * realpath() of dir joined with name (name may be "" for dir itself), or
 * NULL with errno set.
 */
static char *
resolve_in(const char *dir, const char *name)
{
	size_t		n = strlen(dir);
	char	   *joined = il_malloc(n + strlen(name) + 2);
	char	   *r;
	int			saved;

	if (joined == NULL)
		return NULL;
	sprintf(joined, "%s%s%s", dir, n > 0 && dir[n - 1] == '/' ? "" : "/", name);
	r = resolve_path(joined);
	saved = errno;
	il_free(joined);
	errno = saved;
	return r;
}

/*
 * Is an open repository still confined to root? See il_git.h.
 */
int
il_git_confine(const il_git_repo *repo, const char *root, const char *path, char **store,
			   il_error *err)
{
	static const struct
	{
		const char *what;
		int			dir;		/* 0 the git directory, 1 the common directory */
		const char *name;		/* below it */
		bool		optional;	/* may be missing */
	}			dirs[] = {
		{"git directory", 0, "", false},
		{"common directory", 1, "", false},
		{"objects directory", 1, "objects", false},
		{"pack directory", 1, "objects/pack", true},
	};
	const char *gitdir = git_repository_path(repo->repo);
	const char *commondir = git_repository_commondir(repo->repo);
	char	   *rroot = NULL;
	char	   *rpath = NULL;
	char	   *rcommon = NULL;
	char	   *robjects = NULL;
	char	   *alt = NULL;
	char		q[QUOTE_CAP];
	struct stat st;
	size_t		i;
	int			ret = -1;

	if (store)
		*store = NULL;
	il_error_clear(err);
	il_git_format_path(q, sizeof(q), path);
	if (root == NULL || root[0] == '\0' || (rroot = resolve_path(root)) == NULL)
	{
		char		qr[QUOTE_CAP];

		il_git_format_path(qr, sizeof(qr), root);
		il_error_set(err, IL_ERR_NO_SUCH_PATH, 0, 0, "root directory \"%s\" does not exist", qr);
		goto done;
	}
	if (path == NULL || (rpath = resolve_path(path)) == NULL)
	{
		il_error_set(err, IL_ERR_NO_SUCH_PATH, 0, 0, "repository path \"%s\" does not exist", q);
		goto done;
	}
	if (strcmp(rpath, path) != 0)
	{
		il_error_set(err, IL_ERR_PATH_CHANGED, 0, 0,
					 "repository path \"%s\" no longer resolves to itself: a directory on it was moved or replaced by a symbolic link",
					 q);
		goto done;
	}
	if (!resolved_below(rroot, rpath))
	{
		il_error_set(err, IL_ERR_PATH_OUTSIDE_ROOT, 0, 0,
					 "repository path \"%s\" lies outside the root directory", q);
		goto done;
	}
	if (gitdir == NULL || commondir == NULL)
	{
		il_error_set(err, IL_ERR_NOT_A_REPOSITORY, 0, 0, "\"%s\" has no git directory", q);
		goto done;
	}
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
	{
		const char *base = dirs[i].dir == 0 ? gitdir : commondir;
		char	   *r;

		/* the common directory is the git directory but in linked worktrees */
		if (i == 1 && rcommon != NULL)
			continue;
		r = resolve_in(base, dirs[i].name);
		if (r == NULL)
		{
			if (errno == ENOMEM)
			{
				nomem(err);
				goto done;
			}
			if (dirs[i].optional && (errno == ENOENT || errno == ENOTDIR))
				continue;
			il_error_set(err, IL_ERR_NO_SUCH_PATH, 0, 0, "the %s of repository \"%s\" does not exist",
						 dirs[i].what, q);
			goto done;
		}
		if (!resolved_below(rroot, r))
		{
			il_free(r);
			il_error_set(err, IL_ERR_PATH_OUTSIDE_ROOT, 0, 0,
						 "the %s of repository \"%s\" lies outside the root directory once symbolic links are resolved",
						 dirs[i].what, q);
			goto done;
		}
		if ((i == 0 && strcmp(gitdir, commondir) == 0) || i == 1)
			rcommon = r;
		else if (i == 2)
			robjects = r;
		else
			il_free(r);
	}
	alt = il_malloc(strlen(robjects) + sizeof("/info/alternates"));
	if (alt == NULL)
	{
		nomem(err);
		goto done;
	}
	sprintf(alt, "%s/info/alternates", robjects);
	if (lstat(alt, &st) == 0 || (errno != ENOENT && errno != ENOTDIR))
	{
		il_error_set(err, IL_ERR_BORROWED_OBJECTS, 0, 0,
					 "repository \"%s\" borrows objects from other directories", q);
		goto done;
	}
	if (store)
	{
		*store = rcommon;
		rcommon = NULL;
	}
	ret = 0;
done:
	il_free(rroot);
	il_free(rpath);
	il_free(rcommon);
	il_free(robjects);
	il_free(alt);
	return ret;
}

/* A directory being listed: its tree, its path (allocated with il_malloc), the next entry. */
typedef struct walk_frame
{
	git_tree   *tree;
	char	   *prefix;
	size_t		next;
} walk_frame;

/*
 * Orders blobs by path.
 */
static int
cmp_blob_path(const void *a, const void *b)
{
	return strcmp(((const il_git_blob *) a)->path, ((const il_git_blob *) b)->path);
}

/*
 * Does name end in ".sql"?
 */
static bool
is_sql_name(const char *name, size_t n)
{
	return n >= 4 && memcmp(name + n - 4, ".sql", 4) == 0;
}

/* The state of one listing. */
typedef struct lister
{
	il_git_repo *repo;
	unsigned	flags;
	il_buf		paths;			/* every path, NUL-terminated */
	size_t	   *offs;			/* per item: its path's offset in paths */
	il_git_blob *items;
	size_t		n;
	size_t		cap;
	walk_frame *stack;
	size_t		depth;
	size_t		stack_cap;
} lister;

/*
 * Pushes the directory tree (taking it over) with its path prefix[0..plen)
 * + "/" + name (or just name at the top); false with err set on failure.
 */
static bool
push_dir(lister *L, git_tree *tree, const char *prefix, size_t plen, const char *name,
		 size_t nlen, il_error *err)
{
	walk_frame *f;

	if (L->depth == L->stack_cap)
	{
		size_t		ncap = L->stack_cap ? 2 * L->stack_cap : 16;
		walk_frame *ns = il_realloc(L->stack, ncap * sizeof(walk_frame));

		if (ns == NULL)
		{
			git_tree_free(tree);
			nomem(err);
			return false;
		}
		L->stack = ns;
		L->stack_cap = ncap;
	}
	f = &L->stack[L->depth];
	f->prefix = il_malloc(plen + nlen + 2);
	if (f->prefix == NULL)
	{
		git_tree_free(tree);
		nomem(err);
		return false;
	}
	if (plen > 0)
	{
		memcpy(f->prefix, prefix, plen);
		f->prefix[plen] = '/';
		memcpy(f->prefix + plen + 1, name, nlen + 1);
	}
	else
		memcpy(f->prefix, name, nlen + 1);
	f->tree = tree;
	f->next = 0;
	L->depth++;
	return true;
}

/*
 * Adds the *.sql entry e of directory prefix; false with err set on failure.
 */
static bool
add_blob(lister *L, const char *prefix, const git_tree_entry *e, const char *name, size_t nlen,
		 git_filemode_t mode, il_error *err)
{
	size_t		plen = strlen(prefix);
	size_t		off = L->paths.len;
	size_t		bad;
	il_git_blob *item;

	if (L->n == L->cap)
	{
		size_t		ncap = L->cap ? 2 * L->cap : 256;
		il_git_blob *ni = il_realloc(L->items, ncap * sizeof(il_git_blob));
		size_t	   *no;

		if (ni == NULL)
		{
			nomem(err);
			return false;
		}
		L->items = ni;
		no = il_realloc(L->offs, ncap * sizeof(size_t));
		if (no == NULL)
		{
			nomem(err);
			return false;
		}
		L->offs = no;
		L->cap = ncap;
	}
	if (plen > 0)
	{
		il_buf_append(&L->paths, prefix, plen);
		il_buf_putc(&L->paths, '/');
	}
	il_buf_append(&L->paths, name, nlen + 1);	/* with its NUL */
	if (L->paths.oom)
	{
		nomem(err);
		return false;
	}
	if (!il_utf8_valid(L->paths.data + off, L->paths.len - off - 1, &bad))
	{
		char		q[QUOTE_CAP];

		il_git_format_path(q, sizeof(q), L->paths.data + off);
		il_error_set(err, IL_ERR_INVALID_PATH, 0, 0, "file name \"%s\" is not valid utf-8: rename the file", q);
		return false;
	}
	item = &L->items[L->n];
	L->offs[L->n] = off;
	git_oid_tostr(item->id, IL_GIT_OID_HEX_LEN + 1, git_tree_entry_id(e));
	item->mode = (uint32_t) mode;
	item->size = -1;
	item->path = NULL;
	if ((L->flags & IL_GIT_LIST_SIZES) != 0)
	{
		size_t		sz;
		git_object_t type;

		if (git_odb_read_header(&sz, &type, L->repo->odb, git_tree_entry_id(e)) < 0)
		{
			git_fail(err, "cannot read a file of the tree");
			return false;
		}
		item->size = (int64_t) sz;
	}
	L->n++;
	return true;
}

/*
 * Lists the *.sql blobs under a directory of a commit's tree: a depth-first
 * walk with an explicit stack, entries in tree order (which is path order:
 * git sorts a directory's entries as if directory names ended in "/"; the
 * result is checked and sorted when it is not).
 */
int
il_git_list_sql(il_git_repo *repo, const char *commit, const char *dir, unsigned flags,
				il_git_blob_list *out, il_error *err)
{
	git_tree   *root = NULL;
	git_tree   *top = NULL;
	git_tree_entry *dentry = NULL;
	lister		L;
	size_t		i;
	bool		sorted = true;
	char		q[QUOTE_CAP];
	int			ret = -1;

	memset(out, 0, sizeof(*out));
	memset(&L, 0, sizeof(L));
	L.repo = repo;
	L.flags = flags;
	il_error_clear(err);
	if (dir == NULL)
		dir = "";
	if (commit_tree(repo, commit, &root, err) != 0)
		return -1;

	if (dir[0] == '\0')
	{
		top = root;
		root = NULL;
	}
	else
	{
		int			rc = git_tree_entry_bypath(&dentry, root, dir);

		il_git_format_path(q, sizeof(q), dir);
		if (rc == GIT_ENOTFOUND)
		{
			il_error_set(err, IL_ERR_NO_MODELS_DIR, 0, 0, "models directory \"%s\" does not exist at commit %.12s",
						 q, commit);
			goto done;
		}
		if (rc < 0)
		{
			git_fail(err, "cannot read the models directory");
			goto done;
		}
		if (git_tree_entry_type(dentry) != GIT_OBJECT_TREE)
		{
			il_error_set(err, IL_ERR_MODELS_DIR_NOT_TREE, 0, 0,
						 "models directory \"%s\" is a file at commit %.12s, not a directory", q, commit);
			goto done;
		}
		if (git_tree_lookup(&top, repo->repo, git_tree_entry_id(dentry)) < 0)
		{
			git_fail(err, "cannot read the models directory");
			goto done;
		}
	}
	if (!push_dir(&L, top, "", 0, dir, strlen(dir), err))
		goto done;

	while (L.depth > 0)
	{
		walk_frame *f = &L.stack[L.depth - 1];
		char	   *prefix = f->prefix;	/* the frame may move, its text does not */
		const git_tree_entry *e;
		const char *name;
		size_t		nlen;
		git_filemode_t mode;

		if (f->next >= git_tree_entrycount(f->tree))
		{
			git_tree_free(f->tree);
			il_free(f->prefix);
			L.depth--;
			continue;
		}
		e = git_tree_entry_byindex(f->tree, f->next++);
		name = git_tree_entry_name(e);
		nlen = strlen(name);
		mode = git_tree_entry_filemode(e);
		if (mode == GIT_FILEMODE_TREE)
		{
			git_tree   *sub;

			if (git_tree_lookup(&sub, repo->repo, git_tree_entry_id(e)) < 0)
			{
				git_fail(err, "cannot read a directory of the tree");
				goto done;
			}
			if (!push_dir(&L, sub, prefix, strlen(prefix), name, nlen, err))
				goto done;
		}
		else if ((mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE ||
				  mode == GIT_FILEMODE_LINK) && is_sql_name(name, nlen))
		{
			if (!add_blob(&L, prefix, e, name, nlen, mode, err))
				goto done;
		}
	}

	for (i = 0; i < L.n; i++)
	{
		L.items[i].path = L.paths.data + L.offs[i];
		if (i > 0 && sorted && strcmp(L.items[i - 1].path, L.items[i].path) > 0)
			sorted = false;
	}
	if (!sorted)
		qsort(L.items, L.n, sizeof(il_git_blob), cmp_blob_path);
	out->items = L.items;
	out->n = L.n;
	out->mem = L.paths.data;
	L.items = NULL;
	L.paths.data = NULL;
	ret = 0;
done:
	while (L.depth > 0)
	{
		L.depth--;
		git_tree_free(L.stack[L.depth].tree);
		il_free(L.stack[L.depth].prefix);
	}
	il_free(L.stack);
	il_free(L.offs);
	il_free(L.items);
	il_buf_free(&L.paths);
	git_tree_entry_free(dentry);
	git_tree_free(root);
	return ret;
}

/*
 * Frees a blob list and leaves it empty.
 */
void
il_git_blob_list_free(il_git_blob_list *list)
{
	il_free(list->items);
	il_free(list->mem);
	memset(list, 0, sizeof(*list));
}

/*
 * Reads a blob, after checking its size.
 */
int
il_git_read_blob(il_git_repo *repo, const char *id, size_t max, il_buf *out, size_t *size,
				 il_error *err)
{
	git_oid		oid;
	git_odb_object *obj = NULL;
	git_object_t type;
	size_t		len;
	char		q[QUOTE_CAP];

	if (size)
		*size = 0;
	il_error_clear(err);
	if (!is_oid_hex(id) || git_oid_fromstr(&oid, id) < 0)
	{
		il_git_format_path(q, sizeof(q), id);
		il_error_set(err, IL_ERR_GIT_ERROR, 0, 0, "\"%s\" is not a full object id", q);
		return -1;
	}
	if (git_odb_read_header(&len, &type, repo->odb, &oid) < 0)
		return git_fail(err, "cannot read a file of the tree");
	if (size)
		*size = len;
	if (type != GIT_OBJECT_BLOB)
	{
		il_error_set(err, IL_ERR_GIT_ERROR, 0, 0, "object %s is a %s, not a file", id, git_object_type2string(type));
		return -1;
	}
	if (len > max)
	{
		il_error_set(err, IL_ERR_FILE_TOO_LARGE, 0, 0, "the file has %zu bytes, more than the limit of %zu", len, max);
		return -1;
	}
	if (git_odb_read(&obj, repo->odb, &oid) < 0)
		return git_fail(err, "cannot read a file of the tree");
	il_buf_append(out, git_odb_object_data(obj), git_odb_object_size(obj));
	if (out->data == NULL && il_buf_reserve(out, 0))
		out->data[out->len] = '\0';
	git_odb_object_free(obj);
	if (out->oom)
		return nomem(err);
	return 0;
}
