/*-------------------------------------------------------------------------
 *
 * ironlayer.c
 *	  Module entry point and small SQL-callable helpers.
 *
 * The extension is meant to be preloaded (shared_preload_libraries): its
 * background workers and shared state are set up at server start. The
 * install script refuses to run otherwise, with a hint. Loading the library
 * into a single backend is harmless, so tools that merely LOAD it work.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/rel.h"

#include "il_git.h"
#include "il_version.h"
#include "ironlayer.h"

PG_MODULE_MAGIC;

bool		ironlayer_preloaded = false;

void		_PG_init(void);

/*
 * Module load. Runs once in the postmaster when preloaded, else once in the
 * backend that first calls one of our functions.
 */
void
_PG_init(void)
{
	ironlayer_preloaded = process_shared_preload_libraries_in_progress;

	/* first: the core allocates from here on (the vault reads its key) */
	ironlayer_memory_init();

	/* settings that are read at server start exist only when preloaded */
	if (ironlayer_preloaded)
	{
		ironlayer_vault_init();
		ironlayer_cache_init();
		ironlayer_worker_init();

		/*
		 * libgit2's start-up (it loads the system's certificates) costs
		 * about 12 ms: pay it once here, and backends inherit it at fork.
		 * Nothing of libgit2 runs a thread or holds a lock at that point.
		 */
		if (il_git_init() != 0)
			ereport(WARNING,
					(errmsg("ironlayer could not initialize libgit2 at server start"),
					 errdetail("Each session will try again when it first reads a repository.")));
	}

	ironlayer_repo_init();
	ironlayer_bounds_init();
	ironlayer_dbx_settings_init();

	/*
	 * Reserve our prefix: "SET ironlayer.anything" is an error rather than a
	 * placeholder variable that could pass for state of ours.
	 */
	MarkGUCPrefixReserved("ironlayer");

	ironlayer_tenant_init();
}

/*
 * Raise the standard "must be preloaded" error for a feature that needs it.
 */
void
ironlayer_require_preload(const char *feature)
{
	if (ironlayer_preloaded)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("ironlayer must be loaded via shared_preload_libraries"),
			 errdetail("%s needs the ironlayer library loaded at server start.", feature),
			 errhint("Add ironlayer to shared_preload_libraries in postgresql.conf and restart the server.")));
}

/*
 * Owner of the installed extension in this database.
 */
Oid
ironlayer_extension_owner(void)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			owner;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum("ironlayer"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("extension \"ironlayer\" is not installed in this database"),
				 errhint("Run CREATE EXTENSION ironlayer.")));
	owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return owner;
}

PG_FUNCTION_INFO_V1(ironlayer_version);
/*
 * ironlayer.version(): the version of the loaded library.
 */
Datum
ironlayer_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(il_version()));
}

PG_FUNCTION_INFO_V1(ironlayer_is_preloaded);
/*
 * ironlayer.preloaded(): whether the library came in through
 * shared_preload_libraries.
 */
Datum
ironlayer_is_preloaded(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(ironlayer_preloaded);
}

PG_FUNCTION_INFO_V1(ironlayer_require_preload_sql);
/*
 * ironlayer.require_preload(feature text): raise the preload error if the
 * library was not preloaded. The install script calls it.
 */
Datum
ironlayer_require_preload_sql(PG_FUNCTION_ARGS)
{
	char	   *feature = PG_ARGISNULL(0) ? "ironlayer" : text_to_cstring(PG_GETARG_TEXT_PP(0));

	ironlayer_require_preload(feature);
	PG_RETURN_VOID();
}
