/*-------------------------------------------------------------------------
 *
 * ironlayer.h
 *	  Declarations shared by the extension's glue files (src/pg).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IRONLAYER_PG_H
#define IRONLAYER_PG_H

#include "utils/uuid.h"

/* True when the library was loaded through shared_preload_libraries. */
extern bool ironlayer_preloaded;

/* Raise a clear error (55000, with a hint) when not preloaded. */
extern void ironlayer_require_preload(const char *feature);

/* The extension owner, for internal look-ups that must not be tenant-filtered. */
extern Oid	ironlayer_extension_owner(void);

/*
 * error.c: raise a core error with the SQLSTATE of its code in the catalogue
 * (src/core/il_errcodes.txt), "context: message", detail (else the position)
 * and hint, any of them NULL; _corrupt for errors in data we stored (XX001).
 */
struct il_error;
extern void ironlayer_raise(const struct il_error *err, const char *context, const char *detail,
							const char *hint) pg_attribute_noreturn();
extern void ironlayer_raise_corrupt(const struct il_error *err, const char *context,
									const char *detail, const char *hint) pg_attribute_noreturn();

/* repo.c: a text[] of n C strings */
extern Datum ironlayer_text_array(const char *const *items, size_t n);

/* dates.c: DateADT and the core's il_date (22023 for a date il_date cannot hold) */
#include "utils/date.h"
#include "il_date.h"
extern il_date ironlayer_date_to_il(DateADT d, const char *what);
extern DateADT ironlayer_date_from_il(il_date d);

/* memory.c: the core allocates in CurrentMemoryContext (src/core/il_alloc.h) */
extern void ironlayer_memory_init(void);

/* limits.c: 22001 when a varlena argument holds more than max bytes (docs/limits.md) */
extern void ironlayer_check_size(const char *what, Datum d, Size max);
/* limits.c: a lower-case letter, then [a-z0-9_] and extra, at most max bytes */
extern bool ironlayer_valid_name(const char *s, size_t max, const char *extra);

/* bounds.c: the time and memory bounds of model SQL */
struct rlimit;
extern void ironlayer_bounds_init(void);
extern void ironlayer_bounds_start(int ms);
extern bool ironlayer_bounds_stop(void);
extern void ironlayer_memory_limit(struct rlimit *saved);
extern void ironlayer_memory_unlimit(const struct rlimit *saved);

/* tenant.c */
extern void ironlayer_tenant_init(void);
/* The role ironlayer authorizes: the session's role, or run_as in model SQL. */
extern Oid	ironlayer_acting_roleid(void);
/* Model SQL: a step's statements, run as run_as with no tenant bound. */
extern void ironlayer_model_sql_enter(Oid run_as);
extern void ironlayer_model_sql_leave(void);
extern bool ironlayer_in_model_sql(void);
/* 42501 "model SQL cannot <what>" while model SQL runs. */
extern void ironlayer_refuse_in_model_sql(const char *what);
/* Forget the tenant binding (DISCARD ALL; a worker before each unit of work). */
extern void ironlayer_tenant_reset(void);
/* The bound tenant of the acting role; 42501 with a hint when unbound. */
extern void ironlayer_require_tenant(pg_uuid_t *tenant);
/*
 * The bound tenant, when the acting role holds at least min_role there
 * (viewer < engineer < admin); else 42501 saying what was refused.
 */
extern void ironlayer_require_tenant_role(pg_uuid_t *tenant, const char *min_role,
										  const char *action);

/* repo.c */
extern void ironlayer_repo_init(void);

/* repo.c: a repository of the bound tenant, opened; core errors as ereport */
struct il_git_repo;
struct il_error;
extern struct il_git_repo *ironlayer_open_tenant_repo(const char *name, char **models_dir,
													   int64 *repo_id);
/*
 * repo.c: a registered repository by its stored path (any tenant's; the
 * caller checked), confined to ironlayer.repo_root on every call (42501);
 * with its repos.store, also still the repository that was registered.
 */
extern struct il_git_repo *ironlayer_open_repo_store(const char *path, const char *store,
													  const char *hint);
/* repo.c: what the parse cache did, at DEBUG1, for superusers only */
struct il_repo_stats;
extern void ironlayer_report_cache_stats(const struct il_repo_stats *st);

/* cache.c: the parse cache the core loads models through */
struct il_parse_cache;
extern void ironlayer_cache_init(void);
extern const struct il_parse_cache *ironlayer_parse_cache(void);
extern void ironlayer_parse_cache_flush(void);

/* vault.c */
extern void ironlayer_vault_init(void);

/*
 * vault.c: the credential name of tenant, decrypted in this process for the
 * dispatcher (never returned by any SQL function). *kind and *secret are
 * palloc'd in CurrentMemoryContext, NUL-terminated (a secret stops at its
 * first NUL byte; the databricks kinds hold none); the caller wipes *secret
 * (explicit_bzero) when done. Runs inside a transaction; needs no SPI of
 * the caller. ERROR 42704 when the tenant has no such credential, 55000
 * with no master key, 28000 with a wrong one, XX001 when the stored token
 * does not decrypt; no message holds any of the secret.
 */
extern void ironlayer_credential_open(const pg_uuid_t *tenant, const char *name,
									  char **kind, char **secret);

/*
 * dbx_settings.c: ironlayer.databricks_hosts and
 * ironlayer.databricks_ca_directory (PGC_SIGHUP, superusers), checked
 * again at every use.
 */
extern void ironlayer_dbx_settings_init(void);
/*
 * Does ironlayer.databricks_hosts allow host ("name" or "name:port", case
 * ignored; no port means 443), such as an environment's stored
 * workspace_url without its "https://"? False for anything that is not
 * such a host.
 */
extern bool ironlayer_databricks_host_allowed(const char *host);
/*
 * The absolute path of the CA bundle name in
 * ironlayer.databricks_ca_directory, palloc'd; ERROR 22023 when the name is
 * no plain file name, the directory is not set, or the file is not a
 * readable regular file there.
 */
extern char *ironlayer_databricks_ca_path(const char *name);

/* worker.c: settings, shared memory and the launcher of the background workers */
extern void ironlayer_worker_init(void);
/* worker.c: ironlayer.database; the dispatcher's shared memory slot */
extern const char *ironlayer_worker_database(void);
extern bool ironlayer_dispatcher_take_slot(void);
/* worker.c: a background process's unit of work: a transaction with SPI and a snapshot */
extern void ironlayer_unit_begin(void);
extern void ironlayer_unit_commit(void);

/* dispatcher.c: its settings (from ironlayer_worker_init) */
extern void ironlayer_dispatcher_init(void);

/* jsonb.c: the jsonb of JSON text as the core writes it, without jsonb_in's tree */
extern Datum ironlayer_json_to_jsonb(const char *json, Size len);

#endif							/* IRONLAYER_PG_H */
