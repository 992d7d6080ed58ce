/*-------------------------------------------------------------------------
 *
 * repo.c
 *	  Git repositories of a tenant and the models in them, as SQL:
 *	  add_repo, models, diff, lineage (src/core/il_git.c, il_repo.h).
 *
 * Parsed records come from the parse cache (cache.c).
 *
 * A repository is confined to ironlayer.repo_root when it is registered and
 * again each time it is opened (il_git_confine), cached handle or not, so
 * a directory swapped for a symbolic link after registration is refused.
 * A repository belongs to the tenants that hold a claim or a grant on its
 * store, the resolved common git directory (ironlayer.repo_claims,
 * docs/repositories.md): the first tenant to register it claims it, and
 * only a superuser shares it (grant_repo, in src/sql/50_repos.sql).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/tuplestore.h"
#include "utils/uuid.h"

#include "il_git.h"
#include "il_plan.h"
#include "il_repo.h"
#include "ironlayer.h"

static char *repo_root = NULL;	/* GUC ironlayer.repo_root */

/* Size limits of the arguments (docs/limits.md). */
#define MAX_NAME_BYTES		63		/* a repository's name */
#define MAX_PATH_BYTES		4096	/* a repository's path (PATH_MAX) */
#define MAX_DIR_BYTES		1024	/* a models directory */
#define MAX_COMMIT_BYTES	1024	/* a commit-ish */
#define MAX_MODEL_BYTES		1024	/* a model's name, in lineage */
#define MAX_DIRECTION_BYTES	16		/* lineage's direction */

/* A JSON string literal of s (palloc'd). */
static char *
json_str(const char *s)
{
	StringInfoData buf;

	initStringInfo(&buf);
	escape_json(&buf, s);
	return buf.data;
}

/* ---------------------------------------------------------------- errors */

/* Raise the core's error (the caller freed its core objects). */
#define core_error(err, hint) ironlayer_raise(err, NULL, NULL, hint)

/* ---------------------------------------------------------------- arguments */

/*
 * 22001 when text argument arg holds more than max bytes, before any other
 * work (docs/limits.md). A NULL passes: require_args checks it next.
 */
static void
check_arg_size(FunctionCallInfo fcinfo, int arg, const char *what, Size max)
{
	if (!PG_ARGISNULL(arg))
		ironlayer_check_size(what, PG_GETARG_DATUM(arg), max);
}

/* 22004 when one of the first n arguments is NULL; names lists them. */
static void
require_args(FunctionCallInfo fcinfo, int n, const char *names)
{
	int			i;

	for (i = 0; i < n; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not be null", names)));
}

/* ---------------------------------------------------------------- repos */

void
ironlayer_repo_init(void)
{
	DefineCustomStringVariable("ironlayer.repo_root",
							   "Directory that every registered git repository must lie in.",
							   "Unset, no repository can be registered or read.",
							   &repo_root,
							   NULL,
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);
}

/* ironlayer.repo_root, or 55000 when it is not set (it may change at reload). */
static const char *
require_root(void)
{
	if (repo_root == NULL || repo_root[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no repository root is configured"),
				 errdetail("Repositories must lie inside the directory named by ironlayer.repo_root, which is not set."),
				 errhint("A superuser sets ironlayer.repo_root in postgresql.conf and reloads the configuration.")));
	return repo_root;
}

/*
 * Raise a failed il_git_confine: 42501 for a repository that reaches out of
 * the root or borrows objects, 22023 for one that is gone (no_such_path).
 */
static void pg_attribute_noreturn()
confine_error(const il_error *err, const char *hint)
{
	ironlayer_raise(err, NULL,
					"A repository and its git, common and objects directories must resolve inside ironlayer.repo_root, and it must hold its own objects; this is checked each time it is opened.",
					il_error_is(err, IL_ERR_NO_SUCH_PATH)
					? "The repository may have moved since it was registered; remove it and add it again."
					: hint);
}

/*
 * The bound tenant's repository by name: its path, models directory and
 * store (palloc'd in the caller's context). Runs inside SPI.
 */
static void
lookup_repo(const pg_uuid_t *tenant, const char *name, MemoryContext cxt,
			char **path, char **models_dir, char **store, int64 *repo_id)
{
	Oid			argtypes[2] = {UUIDOID, TEXTOID};
	Datum		values[2];
	HeapTuple	t;
	TupleDesc	td;

	values[0] = UUIDPGetDatum(tenant);
	values[1] = CStringGetTextDatum(name);
	if (SPI_execute_with_args("SELECT path, models_dir, repo_id, store FROM ironlayer.repos"
							  " WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND name OPERATOR(pg_catalog.=) $2",
							  2, argtypes, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "repository look-up failed");
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("repository \"%s\" does not exist", name),
				 errhint("ironlayer.repos lists the repositories of the bound tenant; ironlayer.add_repo() registers one.")));
	t = SPI_tuptable->vals[0];
	td = SPI_tuptable->tupdesc;
	*path = MemoryContextStrdup(cxt, SPI_getvalue(t, td, 1));
	*models_dir = MemoryContextStrdup(cxt, SPI_getvalue(t, td, 2));
	*store = MemoryContextStrdup(cxt, SPI_getvalue(t, td, 4));
	if (repo_id)
	{
		bool		isnull;

		*repo_id = DatumGetInt64(SPI_getbinval(t, td, 3, &isnull));
	}
}

/*
 * Repositories this process has open, by path: opening one maps its pack
 * files, which costs more than a warm diff itself, so handles are kept for
 * the life of the process (libgit2 re-reads references on every resolve and
 * finds new pack files on a miss, so a kept handle sees new commits).
 * Each handle and its path live in a context of their own, a child of
 * TopMemoryContext while kept (libgit2's objects are its own allocator's).
 */
#define OPEN_REPOS 4
static struct
{
	MemoryContext cxt;			/* "ironlayer repository": path and git */
	char	   *path;
	il_git_repo *git;
} open_repos[OPEN_REPOS];
static int	open_next = 0;

/* Close and forget open_repos[i]. */
static void
drop_open_repo(int i)
{
	il_git_close(open_repos[i].git);
	MemoryContextDelete(open_repos[i].cxt);
	open_repos[i].cxt = NULL;
	open_repos[i].git = NULL;
	open_repos[i].path = NULL;
}

/*
 * A registered repository by its stored path, from this process's handles
 * or opened now, after checking on every call that it is still confined
 * to ironlayer.repo_root (il_git_confine: the directories may have been
 * swapped since the last call, the root changed at a reload) and, when
 * store is given, that it is still the repository registered (its
 * resolved common directory). A handle that fails is closed and forgotten.
 */
static il_git_repo *
open_repo_checked(const char *path, const char *store, const char *hint)
{
	const char *root = require_root();
	il_git_repo *git = NULL;
	MemoryContext cxt = NULL;
	char	   *found = NULL;
	char	   *copy;
	il_error	err;
	int			slot = -1;
	int			i;

	for (i = 0; i < OPEN_REPOS; i++)
		if (open_repos[i].path != NULL && strcmp(open_repos[i].path, path) == 0)
		{
			slot = i;
			git = open_repos[i].git;
			break;
		}
again:
	il_error_clear(&err);
	if (git == NULL)
	{
		/* a child of this call's context until it is kept below */
		MemoryContext old;
		int			rc;

		cxt = AllocSetContextCreate(CurrentMemoryContext, "ironlayer repository",
									ALLOCSET_SMALL_SIZES);
		old = MemoryContextSwitchTo(cxt);
		rc = il_git_open(path, &git, &err);
		MemoryContextSwitchTo(old);
		if (rc != 0)
			core_error(&err, hint);
	}
	if (il_git_confine(git, root, path, &found, &err) != 0 ||
		(store != NULL && strcmp(found, store) != 0))
	{
		bool		moved = err.code == NULL;
		char		q[120];

		il_free(found);
		found = NULL;
		if (slot >= 0)
		{
			/* judge what is there now, as a new session would */
			drop_open_repo(slot);
			slot = -1;
			git = NULL;
			goto again;
		}
		il_git_close(git);
		if (!moved)
			confine_error(&err, "A superuser must put the repository's directories back inside ironlayer.repo_root (no symbolic link out of it, no alternates file); or remove the repository.");
		il_git_format_path(q, sizeof(q), path);
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("repository path \"%s\" holds another repository than the one registered", q),
				 errdetail("Its common git directory resolves elsewhere than when it was registered: a .git directory or file was replaced."),
				 errhint("Remove the repository; adding it again claims the repository now there.")));
	}
	il_free(found);
	if (slot >= 0)
		return git;

	i = open_next;
	open_next = (open_next + 1) % OPEN_REPOS;
	if (open_repos[i].path != NULL)
		drop_open_repo(i);
	copy = MemoryContextAllocExtended(cxt, strlen(path) + 1, MCXT_ALLOC_NO_OOM);
	if (copy == NULL)
	{
		il_git_close(git);
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	}
	strcpy(copy, path);
	MemoryContextSetParent(cxt, TopMemoryContext);
	open_repos[i].cxt = cxt;
	open_repos[i].path = copy;
	open_repos[i].git = git;
	return git;
}

/* Open a repository for the core (hint: for a failure, or NULL). */
static il_git_repo *
open_repo(const char *path, const char *hint)
{
	il_git_repo *git = NULL;
	il_error	err;

	il_error_clear(&err);
	if (il_git_open(path, &git, &err) != 0)
		core_error(&err, hint);
	return git;
}

/*
 * The repository at a path given to add_repo or grant_repo (relative to
 * ironlayer.repo_root, or absolute inside it), opened and confined: its
 * resolved path and its store (palloc'd). The repository's data must lie
 * inside the root too: a ".git" file, a linked worktree or an alternates
 * file could otherwise read the objects of any repository on the server,
 * another tenant's included. The caller closes the handle.
 */
static il_git_repo *
open_to_register(const char *path, char **resolved, char **store)
{
	const char *root = require_root();
	il_git_repo *git;
	char	   *r = NULL;
	il_error	err;

	if (strstr(path, "..") != NULL && (strcmp(path, "..") == 0 || strncmp(path, "../", 3) == 0
									   || strstr(path, "/../") != NULL
									   || (strlen(path) >= 3 && strcmp(path + strlen(path) - 3, "/..") == 0)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("repository path \"%s\" contains \"..\"", path),
				 errhint("Give the path inside ironlayer.repo_root without \"..\" parts.")));
	il_error_clear(&err);
	if (il_git_path_inside(root, path, &r, &err) != 0)
		core_error(&err, "Repositories must lie inside ironlayer.repo_root; symbolic links are followed before the check.");
	*resolved = r;				/* the core's memory is this call's */
	git = open_repo(*resolved, NULL);
	r = NULL;
	if (il_git_confine(git, root, *resolved, &r, &err) != 0)
	{
		il_git_close(git);
		confine_error(&err, il_error_is(&err, IL_ERR_BORROWED_OBJECTS)
					  ? "Register a repository that holds its own objects (git repack -a -d, then remove the alternates file)."
					  : "A repository's git directory must lie inside ironlayer.repo_root as well.");
	}
	*store = r;
	return git;
}

/*
 * Make sure the bound tenant may register the repository of this store:
 * it holds a claim or a grant on it already, or no other tenant holds one
 * and it claims it now. A store has at most one claim (the unique index
 * repo_claims_one_claim), so of two tenants claiming at once the second
 * waits for the first and is refused if it commits. The tenant's row is
 * locked until the transaction ends, so remove_repo cannot release it
 * meanwhile. given names the path in the error. Runs inside SPI.
 */
static void
claim_store(const pg_uuid_t *tenant, const char *store, const char *given)
{
	Oid			types[2] = {TEXTOID, UUIDOID};
	Datum		values[2];
	const char *held = "SELECT 1 FROM ironlayer.repo_claims"
		" WHERE store OPERATOR(pg_catalog.=) $1 AND tenant_id OPERATOR(pg_catalog.=) $2 FOR SHARE";

	values[0] = CStringGetTextDatum(store);
	values[1] = UUIDPGetDatum(tenant);
	if (SPI_execute_with_args(held, 2, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "repository claim look-up failed");
	if (SPI_processed == 1)
		return;
	if (SPI_execute_with_args("INSERT INTO ironlayer.repo_claims (store, tenant_id, granted, created_by)"
							  " VALUES ($1, $2, false, ironlayer.acting_role()) ON CONFLICT DO NOTHING",
							  2, types, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "repository claim failed");
	if (SPI_processed == 1)
	{
		/* claimed: unless another tenant was granted it */
		if (SPI_execute_with_args("SELECT 1 FROM ironlayer.repo_claims"
								  " WHERE store OPERATOR(pg_catalog.=) $1 AND tenant_id OPERATOR(pg_catalog.<>) $2"
								  " LIMIT 1", 2, types, values, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "repository claim look-up failed");
		if (SPI_processed == 0)
			return;
	}
	else
	{
		/* the conflict may be this tenant's own claim, committed meanwhile */
		if (SPI_execute_with_args(held, 2, types, values, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "repository claim look-up failed");
		if (SPI_processed == 1)
			return;
	}
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("repository \"%s\" is registered by another tenant", given),
			 errdetail("A repository belongs to the tenant that registered it first, whichever path names it: its directory, its .git directory, a symbolic link to either or a linked worktree."),
			 errhint("A superuser can share it with ironlayer.grant_repo(tenant, path).")));
}

PG_FUNCTION_INFO_V1(ironlayer_add_repo);
/*
 * ironlayer.add_repo(name text, path text, models_dir text DEFAULT NULL)
 * returns bigint
 */
Datum
ironlayer_add_repo(PG_FUNCTION_ARGS)
{
	pg_uuid_t	tenant;
	char	   *name;
	char	   *path;
	char	   *resolved = NULL;
	char	   *store = NULL;
	char	   *dir = NULL;
	const char *default_dir = NULL;
	il_git_repo *git = NULL;
	il_error	err;
	Oid			argtypes[5] = {UUIDOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[5];
	int64		repo_id;
	bool		isnull;
	int			ret;

	check_arg_size(fcinfo, 0, "the repository name", MAX_NAME_BYTES);
	check_arg_size(fcinfo, 1, "the repository path", MAX_PATH_BYTES);
	check_arg_size(fcinfo, 2, "the models directory", MAX_DIR_BYTES);
	require_args(fcinfo, 2, "name and path");
	ironlayer_require_tenant_role(&tenant, "admin", "register repositories");
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	path = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (!ironlayer_valid_name(name, MAX_NAME_BYTES, "_.-"))	/* ironlayer.dotted_slug */
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid repository name \"%s\"", name),
				 errhint("A name is 1 to 63 characters: a lower-case letter, then lower-case letters, digits, \"_\", \".\" or \"-\".")));

	git = open_to_register(path, &resolved, &store);
	il_error_clear(&err);
	if (!PG_ARGISNULL(2))
	{
		char	   *given = text_to_cstring(PG_GETARG_TEXT_PP(2));

		if (il_git_normalize_dir(given, &dir, &err) != 0)
		{
			il_git_close(git);
			core_error(&err, NULL);
		}
	}
	else if (il_git_default_models_dir(git, NULL, &default_dir, &err) != 0)
	{
		il_git_close(git);
		core_error(&err, NULL);
	}
	else
		dir = pstrdup(default_dir ? default_dir : "");
	il_git_close(git);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	claim_store(&tenant, store, path);
	values[0] = UUIDPGetDatum(&tenant);
	values[1] = CStringGetTextDatum(name);
	values[2] = CStringGetTextDatum(resolved);
	values[3] = CStringGetTextDatum(dir);
	values[4] = CStringGetTextDatum(store);
	ret = SPI_execute_with_args("INSERT INTO ironlayer.repos (tenant_id, name, path, models_dir, store, created_by)"
								" VALUES ($1, $2, $3, $4, $5, ironlayer.acting_role())"
								" ON CONFLICT (tenant_id, name) DO NOTHING RETURNING repo_id",
								5, argtypes, values, NULL, false, 0);
	if (ret != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "repository insert failed");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("repository \"%s\" already exists", name),
				 errhint("Remove it with ironlayer.remove_repo() first, or choose another name.")));
	repo_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	argtypes[2] = JSONBOID;
	values[2] = DirectFunctionCall1(jsonb_in, CStringGetDatum(
								psprintf("{\"path\": %s, \"models_dir\": %s, \"store\": %s}",
										 json_str(resolved), json_str(dir), json_str(store))));
	if (SPI_execute_with_args("SELECT ironlayer._audit($1, 'repo.add', 'repo', $2, $3)",
							  3, argtypes, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "audit append failed");
	SPI_finish();
	PG_RETURN_INT64(repo_id);
}

PG_FUNCTION_INFO_V1(ironlayer_repo_store);
/*
 * ironlayer._repo_store(path text) returns text: the store of the
 * repository at path (its resolved common git directory), which must be
 * registrable as add_repo requires. For grant_repo and revoke_repo, which
 * check its size first. (internal, strict)
 */
Datum
ironlayer_repo_store(PG_FUNCTION_ARGS)
{
	char	   *resolved;
	char	   *store;

	il_git_close(open_to_register(text_to_cstring(PG_GETARG_TEXT_PP(0)), &resolved, &store));
	PG_RETURN_TEXT_P(cstring_to_text(store));
}

/* A text[] of n C strings (ironlayer.h). */
Datum
ironlayer_text_array(const char *const *items, size_t n)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
	size_t		i;

	for (i = 0; i < n; i++)
		elems[i] = CStringGetTextDatum(items[i]);
	return PointerGetDatum(construct_array(elems, (int) n, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * Open a registered repository by its stored path (kept open for the life
 * of the process, see open_repo_checked), for callers that found the path
 * themselves: the executor, which crosses tenants. Confinement to
 * ironlayer.repo_root is checked on every call, and the repository must
 * still be the one registered: store is repos.store of the registration.
 * hint is for a failure, or NULL.
 */
il_git_repo *
ironlayer_open_repo_store(const char *path, const char *store, const char *hint)
{
	return open_repo_checked(path, store, hint);
}

/*
 * Open the bound tenant's repository by name for a read function: its
 * libgit2 handle and models directory. Runs SPI itself.
 */
il_git_repo *
ironlayer_open_tenant_repo(const char *name, char **models_dir, int64 *repo_id)
{
	pg_uuid_t	tenant;
	char	   *path;
	char	   *store;
	MemoryContext cxt = CurrentMemoryContext;

	ironlayer_require_tenant(&tenant);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	lookup_repo(&tenant, name, cxt, &path, models_dir, &store, repo_id);
	SPI_finish();
	return ironlayer_open_repo_store(path, store,
									 "The repository may have moved since it was registered; remove it and add it again.");
}

/*
 * Say what the parse cache did (DEBUG1), for tests and tuning, to
 * superusers only: the cache is shared, so its hits would tell a tenant
 * that another tenant has a file of the same content.
 */
void
ironlayer_report_cache_stats(const il_repo_stats *st)
{
	if (!superuser_arg(ironlayer_acting_roleid()))
		return;
	elog(DEBUG1, "ironlayer: %zu files, %zu blobs, %zu from the cache, %zu parsed, %zu stale",
		 st->files, st->blobs, st->cache_hits, st->parsed, st->stale);
}

#define report_stats ironlayer_report_cache_stats

/*
 * The models of the bound tenant's repository at a commit, with their
 * graph; a clear error otherwise. Free with il_repo_models_free.
 */
static il_repo_models *
load_models(const char *repo, const char *commit)
{
	char	   *dir;
	il_git_repo *git = ironlayer_open_tenant_repo(repo, &dir, NULL);
	il_repo_models *m = NULL;
	il_error	err;

	il_error_clear(&err);
	if (il_repo_load(git, commit, dir, ironlayer_parse_cache(), IL_REPO_DAG, &m, &err) != 0)
	{
		ironlayer_parse_cache_flush();
		core_error(&err, NULL);
	}
	report_stats(&m->stats);
	return m;
}

PG_FUNCTION_INFO_V1(ironlayer_resolve_commit);
/*
 * ironlayer.resolve_commit(repo text, commit text) returns text: the full
 * id of a commit-ish.
 */
Datum
ironlayer_resolve_commit(PG_FUNCTION_ARGS)
{
	char	   *dir;
	il_git_repo *git;
	char		id[IL_GIT_OID_HEX_LEN + 1];
	il_error	err;

	check_arg_size(fcinfo, 0, "the repository name", MAX_NAME_BYTES);
	check_arg_size(fcinfo, 1, "the commit", MAX_COMMIT_BYTES);
	require_args(fcinfo, 2, "repo and commit");
	git = ironlayer_open_tenant_repo(text_to_cstring(PG_GETARG_TEXT_PP(0)), &dir, NULL);
	il_error_clear(&err);
	if (il_git_resolve(git, text_to_cstring(PG_GETARG_TEXT_PP(1)), id, &err) != 0)
		core_error(&err, NULL);
	PG_RETURN_TEXT_P(cstring_to_text(id));
}

PG_FUNCTION_INFO_V1(ironlayer_models);
/*
 * ironlayer.models(repo text, commit text) returns table (name, path, kind,
 * materialization, time_column, unique_key, blob, fingerprint, upstream,
 * sources, unknown_refs), ordered by name.
 */
Datum
ironlayer_models(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	il_repo_models *m = NULL;
	size_t		i;

	check_arg_size(fcinfo, 0, "the repository name", MAX_NAME_BYTES);
	check_arg_size(fcinfo, 1, "the commit", MAX_COMMIT_BYTES);
	require_args(fcinfo, 2, "repo and commit");
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	m = load_models(text_to_cstring(PG_GETARG_TEXT_PP(0)), text_to_cstring(PG_GETARG_TEXT_PP(1)));
	for (i = 0; i < m->n; i++)
	{
		const il_repo_model *r = &m->models[i];
		Datum		values[11];
		bool		nulls[11] = {false};

		values[0] = CStringGetTextDatum(r->name);
		values[1] = CStringGetTextDatum(r->path);
		values[2] = CStringGetTextDatum(r->kind_name);
		values[3] = CStringGetTextDatum(r->materialization_name);
		if (r->time_column)
			values[4] = CStringGetTextDatum(r->time_column);
		else
			nulls[4] = true;
		if (r->unique_key_text)
			values[5] = CStringGetTextDatum(r->unique_key_text);
		else
			nulls[5] = true;
		values[6] = CStringGetTextDatum(r->blob);
		values[7] = CStringGetTextDatum(r->fingerprint);
		values[8] = ironlayer_text_array(r->upstream, r->n_upstream);
		values[9] = ironlayer_text_array(r->sources, r->n_sources);
		values[10] = ironlayer_text_array(r->unknown_refs, r->n_unknown_refs);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	il_repo_models_free(m);
	ironlayer_parse_cache_flush();
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(ironlayer_diff);
/*
 * ironlayer.diff(repo text, base text, head text) returns table (model,
 * change, path, unknown_refs), ordered by model.
 */
Datum
ironlayer_diff(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *repo;
	char	   *base;
	char	   *head;
	char	   *dir;
	il_git_repo *git;
	il_repo_diff_result *d = NULL;
	il_error	err;
	size_t		i;

	check_arg_size(fcinfo, 0, "the repository name", MAX_NAME_BYTES);
	check_arg_size(fcinfo, 1, "the base commit", MAX_COMMIT_BYTES);
	check_arg_size(fcinfo, 2, "the head commit", MAX_COMMIT_BYTES);
	require_args(fcinfo, 3, "repo, base and head");
	repo = text_to_cstring(PG_GETARG_TEXT_PP(0));
	base = text_to_cstring(PG_GETARG_TEXT_PP(1));
	head = text_to_cstring(PG_GETARG_TEXT_PP(2));
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	git = ironlayer_open_tenant_repo(repo, &dir, NULL);
	il_error_clear(&err);
	if (il_repo_diff(git, base, head, dir, ironlayer_parse_cache(), &d, &err) != 0)
	{
		ironlayer_parse_cache_flush();
		core_error(&err, NULL);
	}
	report_stats(&d->stats);
	for (i = 0; i < d->n; i++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = CStringGetTextDatum(d->rows[i].model);
		values[1] = CStringGetTextDatum(il_change_name(d->rows[i].change));
		values[2] = CStringGetTextDatum(d->rows[i].path);
		values[3] = ironlayer_text_array(d->rows[i].unknown_refs, d->rows[i].n_unknown_refs);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	il_repo_diff_free(d);
	ironlayer_parse_cache_flush();
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(ironlayer_lineage);
/*
 * ironlayer.lineage(repo text, commit text, model text, direction text
 * DEFAULT 'both', max_depth int DEFAULT NULL) returns table (model,
 * direction, depth)
 */
Datum
ironlayer_lineage(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *repo;
	char	   *commit;
	char	   *model;
	char	   *direction;
	int			max_depth = 0;
	il_repo_models *m = NULL;
	il_repo_lineage_row *rows = NULL;
	size_t		nrows = 0;
	il_error	err;
	size_t		i;

	check_arg_size(fcinfo, 0, "the repository name", MAX_NAME_BYTES);
	check_arg_size(fcinfo, 1, "the commit", MAX_COMMIT_BYTES);
	check_arg_size(fcinfo, 2, "the model name", MAX_MODEL_BYTES);
	check_arg_size(fcinfo, 3, "the direction", MAX_DIRECTION_BYTES);
	require_args(fcinfo, 3, "repo, commit and model");
	repo = text_to_cstring(PG_GETARG_TEXT_PP(0));
	commit = text_to_cstring(PG_GETARG_TEXT_PP(1));
	model = text_to_cstring(PG_GETARG_TEXT_PP(2));
	direction = PG_ARGISNULL(3) ? "both" : text_to_cstring(PG_GETARG_TEXT_PP(3));
	if (!PG_ARGISNULL(4))
	{
		max_depth = PG_GETARG_INT32(4);
		if (max_depth < 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("max_depth must be at least 1, not %d", max_depth)));
	}

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	m = load_models(repo, commit);
	il_error_clear(&err);
	if (il_repo_lineage(m, model, direction, PG_ARGISNULL(4) ? NULL : &max_depth,
						&rows, &nrows, &err) != 0)
	{
		/* m goes with this call's memory */
		ironlayer_parse_cache_flush();
		core_error(&err, NULL);
	}
	for (i = 0; i < nrows; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = CStringGetTextDatum(rows[i].model);
		values[1] = CStringGetTextDatum(rows[i].direction);
		values[2] = Int32GetDatum(rows[i].depth);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	il_free(rows);
	il_repo_models_free(m);
	ironlayer_parse_cache_flush();
	return (Datum) 0;
}
