/*
 * Unit tests of il_git.c: opening repositories, resolving commit-ishes,
 * the default models directory, listing *.sql blobs, reading blobs, path
 * checks. Every repository is made here, in a temporary directory, with
 * libgit2 (test/bench/genrepo.h); nothing is checked out.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../bench/genrepo.h"
#include "il_git.h"
#include "unit.h"

static char tmp[] = "/tmp/ironlayer-unit-git-XXXXXX";
static char ebuf[256];

/* tmp/name (a static buffer per call site is enough here). */
static const char *
in_tmp(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", tmp, name);
	return buf;
}

/* Does err have code and a message containing what? */
static int
err_is(const il_error *err, const char *code, const char *what)
{
	return err->code != NULL && strcmp(err->code, code) == 0 &&
		(what == NULL || strstr(err->message, what) != NULL);
}

int
main(void)
{
	char		repo[512];
	char		bare[512];
	char		p[600];
	char		c1[IL_GIT_OID_HEX_LEN + 1];
	char		c2[IL_GIT_OID_HEX_LEN + 1];
	char		c3[IL_GIT_OID_HEX_LEN + 1];
	char		id[IL_GIT_OID_HEX_LEN + 1];
	char		shortid[8];
	char		unknown_full[IL_GIT_OID_HEX_LEN + 1];
	char	   *norm = NULL;
	char	   *resolved = NULL;
	const char *dir = NULL;
	il_git_repo *g = NULL;
	il_git_repo *gb = NULL;
	il_error	err;
	il_git_blob_list l = IL_GIT_BLOB_LIST_INIT;
	il_buf		b = IL_BUF_INIT;
	size_t		size = 0;
	size_t		i;
	char	   *big;
	FILE	   *f;

	if (mkdtemp(tmp) == NULL)
	{
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	CHECK(il_git_init() == 0, "il_git_init succeeds");
	CHECK(il_git_init() == 0, "il_git_init is idempotent");

	/* A repository of three commits; nothing is ever checked out. */
	in_tmp(repo, sizeof(repo), "work");
	{
		gen_file	f1[] = {
			{"README.md", "# readme\n", 0, 0},
			{"models/a.sql", "-- name: s.a\n-- kind: FULL_REFRESH\nSELECT 1\n", 0, 0},
			{"models/sub/b.sql", "-- name: s.b\n-- kind: FULL_REFRESH\nSELECT * FROM s.a\n", 0, 0},
		};
		gen_file	f2[] = {
			{"README.md", "# readme 2\n", 0, 0},
			{"models/a.sql", "-- name: s.a\n-- kind: FULL_REFRESH\nSELECT 2\n", 0, 0},
			{"models/sub/b.sql", "-- name: s.b\n-- kind: FULL_REFRESH\nSELECT * FROM s.a\n", 0, 0},
			{"models/B.sql", "x", 0, 0},
			{"models/a-b.sql", "x", 0, 0},
			{"models/a.SQL", "not listed", 0, 0},
			{"models/notes.txt", "not listed", 0, 0},
			{"models/run.sql", "-- exec", 0, GIT_FILEMODE_BLOB_EXECUTABLE},
			{"models/link.sql", "a.sql", 0, GIT_FILEMODE_LINK},
			{"models/z/y/x/w/v/u/t/deep.sql", "deep", 0, 0},
			{"analysis/outside.sql", "select 1", 0, 0},
		};
		gen_file	f3[] = {
			{"top.sql", "select 1", 0, 0},
			{"models", "a file named models", 0, 0},
			{"sql/models/m.sql", "select 2", 0, 0},
		};

		CHECK(genrepo_commit_files(repo, 0, f1, 3, "one\n", 0, c1, ebuf, sizeof(ebuf)) == 0, "commit 1 written");
		CHECK(genrepo_commit_files(repo, 0, f2, sizeof(f2) / sizeof(f2[0]), "two\n", 1, c2, ebuf, sizeof(ebuf)) == 0,
			  "commit 2 written");
		CHECK(genrepo_commit_files(repo, 0, f3, 3, "three\n", 2, c3, ebuf, sizeof(ebuf)) == 0, "commit 3 written");
		CHECK(genrepo_tag(repo, "v1", c1, 0, ebuf, sizeof(ebuf)) == 0, "lightweight tag v1");
		CHECK(genrepo_tag(repo, "v2", c2, 1, ebuf, sizeof(ebuf)) == 0, "annotated tag v2");
	}

	/* Opening. */
	CHECK(il_git_open(in_tmp(p, sizeof(p), "missing"), &g, &err) == -1 && g == NULL &&
		  err_is(&err, "no_such_path", "missing"), "a missing path: no_such_path naming it");
	in_tmp(p, sizeof(p), "plainfile");
	f = fopen(p, "w");
	if (f)
		fclose(f);
	CHECK(il_git_open(p, &g, &err) == -1 && err_is(&err, "not_a_directory", "plainfile"),
		  "a file: not_a_directory");
	in_tmp(p, sizeof(p), "plaindir");
	mkdir(p, 0700);
	CHECK(il_git_open(p, &g, &err) == -1 && err_is(&err, "not_a_repository", "plaindir"),
		  "a directory that is no repository: not_a_repository naming it");
	snprintf(p, sizeof(p), "%s/.git/objects", repo);
	CHECK(il_git_open(p, &g, &err) == -1 && err_is(&err, "not_a_repository", NULL),
		  "a directory inside a repository is not the repository (no search upwards)");
	CHECK(il_git_open("", &g, &err) == -1 && err_is(&err, "no_such_path", NULL), "an empty path is refused");
	CHECK(il_git_open(repo, &g, &err) == 0 && g != NULL, "a working-tree repository opens");
	CHECK(!il_git_is_bare(g), "it is not bare");
	snprintf(p, sizeof(p), "%s/models", repo);
	CHECK(access(p, F_OK) != 0, "no working tree was written (models/ does not exist on disk)");
	CHECK(strstr(il_git_gitdir(g), "/work/.git/") != NULL && strcmp(il_git_gitdir(g), il_git_commondir(g)) == 0,
		  "the git and common directories");
	CHECK(!il_git_has_alternates(g), "no alternates");
	snprintf(p, sizeof(p), "%s/.git/objects/info/alternates", repo);
	f = fopen(p, "w");
	if (f)
	{
		fprintf(f, "/elsewhere/objects\n");
		fclose(f);
	}
	CHECK(il_git_has_alternates(g), "an alternates file is seen");
	unlink(p);

	/* Resolving commit-ishes. */
	CHECK(il_git_resolve(g, c2, id, &err) == 0 && strcmp(id, c2) == 0, "a full id resolves to itself");
	memcpy(shortid, c1, 7);
	shortid[7] = '\0';
	CHECK(il_git_resolve(g, shortid, id, &err) == 0 && strcmp(id, c1) == 0, "a 7-character short id");
	CHECK(il_git_resolve(g, "main", id, &err) == 0 && strcmp(id, c3) == 0, "a branch");
	CHECK(il_git_resolve(g, "refs/heads/main", id, &err) == 0 && strcmp(id, c3) == 0, "a full ref name");
	CHECK(il_git_resolve(g, "HEAD", id, &err) == 0 && strcmp(id, c3) == 0, "HEAD");
	CHECK(il_git_resolve(g, "HEAD~1", id, &err) == 0 && strcmp(id, c2) == 0, "HEAD~1");
	CHECK(il_git_resolve(g, "main^", id, &err) == 0 && strcmp(id, c2) == 0, "main^");
	CHECK(il_git_resolve(g, "main~2", id, &err) == 0 && strcmp(id, c1) == 0, "main~2");
	CHECK(il_git_resolve(g, "v1", id, &err) == 0 && strcmp(id, c1) == 0, "a lightweight tag");
	CHECK(il_git_resolve(g, "v2", id, &err) == 0 && strcmp(id, c2) == 0, "an annotated tag is peeled to its commit");
	CHECK(strlen(id) == 40, "ids are 40 hex characters");
	CHECK(il_git_resolve(g, "nope", id, &err) == -1 && err_is(&err, "unknown_commit", "\"nope\"") && id[0] == '\0',
		  "an unknown name: unknown_commit naming it");
	memcpy(unknown_full, "0123456789abcdef0123456789abcdef01234567", sizeof(unknown_full));
	CHECK(il_git_resolve(g, unknown_full, id, &err) == -1 && err_is(&err, "unknown_commit", unknown_full),
		  "an unknown full id: unknown_commit naming it");
	CHECK(il_git_resolve(g, "HEAD~10", id, &err) == -1 && err_is(&err, "unknown_commit", "HEAD~10"),
		  "HEAD~10 past the first commit: unknown_commit");
	CHECK(il_git_resolve(g, "", id, &err) == -1 && err_is(&err, "unknown_commit", NULL), "an empty commit-ish");
	CHECK(il_git_resolve(g, "main^{tree}", id, &err) == -1 && err_is(&err, "not_a_commit", "tree"),
		  "a tree is not a commit");
	CHECK(il_git_resolve(g, "v1:README.md", id, &err) == -1 && err_is(&err, "not_a_commit", "blob"),
		  "a blob is not a commit");
	CHECK(il_git_resolve(g, "bad\001name", id, &err) == -1 && err_is(&err, "unknown_commit", "\\x01"),
		  "control characters are escaped in the message");

	/* Default models directory. */
	CHECK(il_git_default_models_dir(g, c1, &dir, &err) == 0 && strcmp(dir, "models") == 0,
		  "a commit with models/ at its root: \"models\"");
	CHECK(il_git_default_models_dir(g, c3, &dir, &err) == 0 && strcmp(dir, "") == 0,
		  "a commit whose \"models\" is a file: the root");
	CHECK(il_git_default_models_dir(g, NULL, &dir, &err) == 0 && strcmp(dir, "") == 0,
		  "HEAD (commit 3) has no models directory: the root");
	CHECK(il_git_default_models_dir(g, "zz", &dir, &err) == -1 && err_is(&err, "unknown_commit", NULL),
		  "the default of a non-id is an error");

	/* Normalizing a models directory. */
	CHECK(il_git_normalize_dir("models", &norm, &err) == 0 && strcmp(norm, "models") == 0, "models");
	free(norm);
	CHECK(il_git_normalize_dir("./models/", &norm, &err) == 0 && strcmp(norm, "models") == 0, "./models/");
	free(norm);
	CHECK(il_git_normalize_dir("/sql//models/./x/", &norm, &err) == 0 && strcmp(norm, "sql/models/x") == 0,
		  "slashes and dots collapse");
	free(norm);
	CHECK(il_git_normalize_dir("", &norm, &err) == 0 && strcmp(norm, "") == 0, "empty is the root");
	free(norm);
	CHECK(il_git_normalize_dir("./", &norm, &err) == 0 && strcmp(norm, "") == 0, "./ is the root");
	free(norm);
	norm = NULL;
	CHECK(il_git_normalize_dir("../x", &norm, &err) == -1 && norm == NULL && err_is(&err, "invalid_models_dir", ".."),
		  "..: invalid_models_dir");
	CHECK(il_git_normalize_dir("a/../../b", &norm, &err) == -1 && err_is(&err, "invalid_models_dir", NULL),
		  ".. inside: refused");
	CHECK(il_git_normalize_dir("a\\b", &norm, &err) == -1 && err_is(&err, "invalid_models_dir", NULL),
		  "a backslash: refused");
	CHECK(il_git_normalize_dir("a\xff", &norm, &err) == -1 && err_is(&err, "invalid_models_dir", "\\xff"),
		  "invalid utf-8: refused, escaped in the message");

	/* Listing. */
	CHECK(il_git_list_sql(g, c2, "models", 0, &l, &err) == 0, "list models/ at commit 2");
	CHECK(l.n == 7, "seven *.sql entries (not .SQL, not .txt, not outside models/)");
	if (l.n == 7)
	{
		const char *want[] = {
			"models/B.sql", "models/a-b.sql", "models/a.sql", "models/link.sql", "models/run.sql",
			"models/sub/b.sql", "models/z/y/x/w/v/u/t/deep.sql"
		};
		int			ok = 1;

		for (i = 0; i < 7; i++)
			if (strcmp(l.items[i].path, want[i]) != 0)
				ok = 0;
		CHECK(ok, "paths relative to the root, sorted by byte order, nested directories included");
		CHECK(l.items[3].mode == IL_GIT_MODE_LINK, "a symbolic link is listed with its mode");
		CHECK(l.items[4].mode == IL_GIT_MODE_EXEC, "an executable file is listed");
		CHECK(l.items[0].mode == IL_GIT_MODE_FILE, "a plain file");
		CHECK(l.items[2].size == -1, "no sizes unless asked");
		CHECK(strlen(l.items[2].id) == 40, "blob ids are 40 hex characters");
	}
	else
	{
		for (i = 0; i < 6; i++)
			CHECK(0, "listing");
	}
	il_git_blob_list_free(&l);
	CHECK(l.items == NULL && l.n == 0, "a freed list is empty");
	CHECK(il_git_list_sql(g, c2, "", IL_GIT_LIST_SIZES, &l, &err) == 0 && l.n == 8 &&
		  strcmp(l.items[0].path, "analysis/outside.sql") == 0, "listing the root includes every directory");
	for (i = 0; i < l.n; i++)
		if (strcmp(l.items[i].path, "models/a.sql") == 0)
			break;
	CHECK(i < l.n && l.items[i].size == (int64_t) strlen("-- name: s.a\n-- kind: FULL_REFRESH\nSELECT 2\n"),
		  "with IL_GIT_LIST_SIZES each entry has its size");
	il_git_blob_list_free(&l);
	CHECK(il_git_list_sql(g, c1, "models/sub", 0, &l, &err) == 0 && l.n == 1 &&
		  strcmp(l.items[0].path, "models/sub/b.sql") == 0, "a nested models directory");
	il_git_blob_list_free(&l);
	CHECK(il_git_list_sql(g, c1, "nothere", 0, &l, &err) == -1 && err_is(&err, "no_models_dir", "nothere"),
		  "a missing directory: no_models_dir naming it");
	CHECK(il_git_list_sql(g, c3, "models", 0, &l, &err) == -1 && err_is(&err, "models_dir_not_tree", "models"),
		  "a directory that is a file: models_dir_not_tree");
	CHECK(il_git_list_sql(g, "main", "models", 0, &l, &err) == -1 && err_is(&err, "unknown_commit", "40 hex"),
		  "listing wants a full commit id");
	CHECK(il_git_list_sql(g, unknown_full, "", 0, &l, &err) == -1 && err_is(&err, "unknown_commit", NULL),
		  "listing an unknown commit");

	/* Reading blobs. */
	CHECK(il_git_list_sql(g, c1, "models", 0, &l, &err) == 0 && l.n == 2, "list commit 1");
	CHECK(l.n == 2 && il_git_read_blob(g, l.items[0].id, 1 << 20, &b, &size, &err) == 0 &&
		  strcmp(il_buf_cstr(&b), "-- name: s.a\n-- kind: FULL_REFRESH\nSELECT 1\n") == 0 && size == b.len,
		  "a blob's bytes");
	il_buf_reset(&b);
	CHECK(l.n == 2 && il_git_read_blob(g, l.items[0].id, 10, &b, &size, &err) == -1 &&
		  err_is(&err, "file_too_large", "more than the limit of 10") && b.len == 0 && size == 44,
		  "over the limit: file_too_large, nothing read, size reported");
	CHECK(il_git_read_blob(g, "xyz", 10, &b, NULL, &err) == -1 && err_is(&err, "git_error", NULL),
		  "not an id: an error");
	CHECK(il_git_read_blob(g, unknown_full, 10, &b, NULL, &err) == -1 && err_is(&err, "git_error", NULL),
		  "an unknown blob: an error");
	CHECK(il_git_read_blob(g, c1, 1 << 20, &b, NULL, &err) == -1 && err_is(&err, "git_error", "commit"),
		  "a commit is not a file");
	il_git_blob_list_free(&l);

	/* A large blob is refused by size without being inflated. */
	big = malloc((1 << 20) + 2);
	if (big != NULL)
	{
		gen_file	fb[] = {{"models/big.sql", big, (1 << 20) + 1, 0}};
		char		cb[IL_GIT_OID_HEX_LEN + 1];

		memset(big, 'x', (1 << 20) + 1);
		big[(1 << 20) + 1] = '\0';
		CHECK(genrepo_commit_files(in_tmp(p, sizeof(p), "bigrepo"), 1, fb, 1, "big\n", 0, cb, ebuf, sizeof(ebuf)) == 0,
			  "a repository with a file of 1 MiB + 1");
		il_git_close(gb);
		gb = NULL;
		CHECK(il_git_open(p, &gb, &err) == 0 && il_git_list_sql(gb, cb, "models", 0, &l, &err) == 0 && l.n == 1,
			  "listed");
		il_buf_reset(&b);
		CHECK(l.n == 1 && il_git_read_blob(gb, l.items[0].id, 1 << 20, &b, &size, &err) == -1 &&
			  err_is(&err, "file_too_large", NULL) && size == (1 << 20) + 1, "refused at 1 MiB");
		il_git_blob_list_free(&l);
		il_git_close(gb);
		gb = NULL;
		free(big);
	}

	/* A file name that is not UTF-8. */
	{
		gen_file	fu[] = {{"models/caf\xe9.sql", "x", 0, 0}};
		char		cu[IL_GIT_OID_HEX_LEN + 1];

		CHECK(genrepo_commit_files(in_tmp(p, sizeof(p), "latin1"), 0, fu, 1, "latin1\n", 0, cu, ebuf, sizeof(ebuf)) == 0,
			  "a repository with a latin-1 file name");
		CHECK(il_git_open(p, &gb, &err) == 0 && il_git_list_sql(gb, cu, "models", 0, &l, &err) == -1 &&
			  err_is(&err, "invalid_path", "caf\\xe9.sql"), "invalid_path, escaped in the message");
		il_git_close(gb);
		gb = NULL;
	}

	/* A bare repository. */
	in_tmp(bare, sizeof(bare), "bare.git");
	{
		gen_file	fb[] = {{"models/x.sql", "-- name: s.x\n-- kind: FULL_REFRESH\nSELECT 1\n", 0, 0}};
		char		cb[IL_GIT_OID_HEX_LEN + 1];

		CHECK(genrepo_commit_files(bare, 1, fb, 1, "bare\n", 0, cb, ebuf, sizeof(ebuf)) == 0, "a bare repository");
		CHECK(il_git_open(bare, &gb, &err) == 0 && il_git_is_bare(gb), "it opens, and is bare");
		CHECK(il_git_resolve(gb, "HEAD", id, &err) == 0 && strcmp(id, cb) == 0, "HEAD of a bare repository");
		CHECK(il_git_default_models_dir(gb, NULL, &dir, &err) == 0 && strcmp(dir, "models") == 0,
			  "its default models directory");
		CHECK(il_git_list_sql(gb, id, "models", 0, &l, &err) == 0 && l.n == 1, "its files are listed");
		il_git_blob_list_free(&l);
		il_git_close(gb);
		gb = NULL;
	}

	/* An empty repository. */
	{
		git_repository *r = NULL;

		in_tmp(p, sizeof(p), "empty");
		CHECK(git_repository_init(&r, p, 0) == 0, "an empty repository");
		git_repository_free(r);
		CHECK(il_git_open(p, &gb, &err) == 0, "it opens");
		CHECK(il_git_default_models_dir(gb, NULL, &dir, &err) == 0 && strcmp(dir, "") == 0,
			  "no commits: the root");
		CHECK(il_git_resolve(gb, "HEAD", id, &err) == -1 && err_is(&err, "unknown_commit", "HEAD"),
			  "HEAD of an empty repository is unknown");
		il_git_close(gb);
		gb = NULL;
	}

	/* Paths inside a root. */
	{
		char		root[512];
		char		out[600];
		char		link[600];

		in_tmp(root, sizeof(root), "root");
		mkdir(root, 0700);
		snprintf(p, sizeof(p), "%s/repos", root);
		mkdir(p, 0700);
		snprintf(out, sizeof(out), "%s/outside", tmp);
		mkdir(out, 0700);
		snprintf(link, sizeof(link), "%s/repos/escape", root);
		CHECK(symlink(out, link) == 0, "a symbolic link out of the root");
		snprintf(p, sizeof(p), "%s/repos", root);
		CHECK(il_git_path_inside(root, p, &resolved, &err) == 0 && resolved != NULL &&
			  strstr(resolved, "/root/repos") != NULL, "a directory inside the root, resolved");
		free(resolved);
		resolved = NULL;
		CHECK(il_git_path_inside(root, "repos", &resolved, &err) == 0 && strstr(resolved, "/root/repos") != NULL,
			  "a relative path is taken under the root");
		free(resolved);
		resolved = NULL;
		CHECK(il_git_path_inside(root, root, NULL, &err) == 0, "the root itself is inside");
		CHECK(il_git_path_inside(root, link, &resolved, &err) == -1 && resolved == NULL &&
			  err_is(&err, "path_outside_root", "escape"), "a symbolic link out of the root: path_outside_root");
		snprintf(p, sizeof(p), "%s/repos/../../outside", root);
		CHECK(il_git_path_inside(root, p, NULL, &err) == -1 && err_is(&err, "path_outside_root", NULL),
			  ".. out of the root: path_outside_root");
		CHECK(il_git_path_inside(root, "../outside", NULL, &err) == -1 && err_is(&err, "path_outside_root", NULL),
			  "a relative .. out of the root");
		snprintf(p, sizeof(p), "%s2", root);
		mkdir(p, 0700);
		CHECK(il_git_path_inside(root, p, NULL, &err) == -1 && err_is(&err, "path_outside_root", NULL),
			  "a sibling sharing the root's name as a prefix is outside");
		CHECK(il_git_path_inside(root, "nothere", NULL, &err) == -1 && err_is(&err, "no_such_path", "nothere"),
			  "a missing path: no_such_path");
		CHECK(il_git_path_inside("/nonexistent-root-x", "/tmp", NULL, &err) == -1 &&
			  err_is(&err, "no_such_path", "root"), "a missing root: no_such_path");
	}

	/* Confinement of an open repository to a root (il_git_confine). */
	{
		char		croot[600];
		char		out[600];
		char		r[700];
		char		gitdir[700];
		char		q2[700];
		char	   *rroot;
		char	   *store = NULL;
		char	   *store2 = NULL;
		char		id0[IL_GIT_OID_HEX_LEN + 1];
		il_git_repo *h = NULL;
		il_git_repo *h2 = NULL;
		git_repository *raw = NULL;
		git_worktree *wt = NULL;
		gen_file	f0[] = {{"models/a.sql", "-- name: s.a\n-- kind: FULL_REFRESH\nSELECT 1\n", 0, 0}};

		snprintf(croot, sizeof(croot), "%s/croot", tmp);
		mkdir(croot, 0700);
		rroot = realpath(croot, NULL);
		snprintf(r, sizeof(r), "%s/r", rroot);
		snprintf(out, sizeof(out), "%s/cout", tmp);
		CHECK(genrepo_commit_files(r, 0, f0, 1, "one\n", 0, id0, ebuf, sizeof(ebuf)) == 0 &&
			  genrepo_commit_files(out, 0, f0, 1, "one\n", 0, id0, ebuf, sizeof(ebuf)) == 0,
			  "a repository inside the root and one outside it");
		CHECK(il_git_open(r, &h, &err) == 0 && il_git_confine(h, croot, r, &store, &err) == 0 && store != NULL,
			  "a repository inside the root is confined");
		snprintf(gitdir, sizeof(gitdir), "%s/.git", r);
		CHECK(store != NULL && strcmp(store, gitdir) == 0, "its store is its resolved .git directory, without a trailing /");
		CHECK(il_git_open(gitdir, &h2, &err) == 0 && il_git_confine(h2, croot, gitdir, &store2, &err) == 0 &&
			  store2 != NULL && strcmp(store, store2) == 0, "its .git directory is the same store");
		il_git_close(h2);
		free(store2);
		store2 = NULL;
		snprintf(q2, sizeof(q2), "%s/wt", rroot);
		CHECK(git_repository_open(&raw, r) == 0 && git_worktree_add(&wt, raw, "wt", q2, NULL) == 0,
			  "a linked worktree inside the root");
		git_worktree_free(wt);
		git_repository_free(raw);
		CHECK(il_git_open(q2, &h2, &err) == 0 && il_git_confine(h2, croot, q2, &store2, &err) == 0 &&
			  store2 != NULL && strcmp(store, store2) == 0, "a linked worktree is the same store");
		il_git_close(h2);
		free(store2);
		store2 = NULL;
		snprintf(q2, sizeof(q2), "%s/link", rroot);
		CHECK(symlink(r, q2) == 0 && il_git_open(q2, &h2, &err) == 0 &&
			  il_git_confine(h2, croot, q2, &store2, &err) == -1 && store2 == NULL &&
			  err_is(&err, "path_changed", "link"), "a path that does not resolve to itself: path_changed");
		il_git_close(h2);
		CHECK(il_git_confine(h, out, r, NULL, &err) == -1 && err_is(&err, "path_outside_root", "/r\""),
			  "another root: path_outside_root");
		CHECK(il_git_confine(h, "/nonexistent-root-x", r, NULL, &err) == -1 && err_is(&err, "no_such_path", "root"),
			  "a missing root: no_such_path");

		/* swaps under an open handle */
		snprintf(q2, sizeof(q2), "%s/.git.saved", r);
		snprintf(p, sizeof(p), "%s/.git", out);
		CHECK(rename(gitdir, q2) == 0 && symlink(p, gitdir) == 0 &&
			  il_git_confine(h, croot, r, NULL, &err) == -1 && err_is(&err, "path_outside_root", "git directory"),
			  ".git swapped for a link out of the root: path_outside_root");
		CHECK(unlink(gitdir) == 0 && rename(q2, gitdir) == 0 && il_git_confine(h, croot, r, NULL, &err) == 0,
			  "confined again once restored");
		snprintf(q2, sizeof(q2), "%s/.git/objects.saved", r);
		snprintf(p, sizeof(p), "%s/.git/objects", r);
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "/.git/objects");
		CHECK(rename(p, q2) == 0 && symlink(out, p) == 0 &&
			  il_git_confine(h, croot, r, NULL, &err) == -1 && err_is(&err, "path_outside_root", "objects directory"),
			  "objects swapped for a link out of the root: path_outside_root");
		CHECK(unlink(p) == 0 && rename(q2, p) == 0, "objects restored");
		snprintf(p, sizeof(p), "%s/.git/objects/info", r);
		mkdir(p, 0700);
		snprintf(p, sizeof(p), "%s/.git/objects/info/alternates", r);
		f = fopen(p, "w");
		if (f)
		{
			fprintf(f, "%s\n", out);
			fclose(f);
		}
		CHECK(il_git_confine(h, croot, r, NULL, &err) == -1 && err_is(&err, "borrowed_objects", NULL),
			  "an alternates file: borrowed_objects");
		unlink(p);
		snprintf(q2, sizeof(q2), "%s/r.moved", rroot);
		CHECK(rename(r, q2) == 0 && il_git_confine(h, croot, r, NULL, &err) == -1 && err_is(&err, "no_such_path", NULL),
			  "a repository gone: no_such_path");
		il_git_close(h);
		free(store);
		free(rroot);
	}

	/* Message formatting. */
	{
		char		q[16];
		char		longp[300];

		il_git_format_path(q, sizeof(q), "a\tb");
		CHECK_STR(q, "a\\x09b", "a tab is escaped");
		memset(longp, 'a', sizeof(longp) - 6);
		strcpy(longp + sizeof(longp) - 6, "z.sql");
		il_git_format_path(q, sizeof(q), longp);
		CHECK(strncmp(q, "...", 3) == 0 && strstr(q, "z.sql") != NULL && strlen(q) < sizeof(q),
			  "a long path keeps its end after ...");
		il_git_format_path(q, sizeof(q), "\xc3\xa9t\xc3\xa9");
		CHECK_STR(q, "\xc3\xa9t\xc3\xa9", "valid utf-8 is kept");
	}

	il_git_close(g);
	il_git_close(NULL);
	il_buf_free(&b);
	CHECK(genrepo_rmtree(tmp) == 0 && access(tmp, F_OK) != 0, "the temporary directory is removed");
	il_git_shutdown();
	il_git_shutdown();
	return unit_done();
}
