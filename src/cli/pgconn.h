/*-------------------------------------------------------------------------
 *
 * pgconn.h
 *	  The server subcommands' connection: options common to all of them
 *	  (--db, --tenant, --json), connecting over libpq, binding the tenant,
 *	  running a statement with bound parameters and reporting the server's
 *	  errors.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_PGCONN_H
#define IL_PGCONN_H

#include <stdbool.h>
#include <stdio.h>

#include <libpq-fe.h>

/* Exit statuses of every subcommand. */
#define IL_EXIT_OK 0
#define IL_EXIT_FAILED 1
#define IL_EXIT_USAGE 2

/* The options every server subcommand takes. */
typedef struct il_srv_opts
{
	const char *db;				/* --db CONNINFO, or NULL: libpq's PG* variables */
	const char *tenant;			/* --tenant NAME, or NULL: IRONLAYER_TENANT, or the only one */
	bool		json;			/* --json: one JSON document on stdout */
} il_srv_opts;

/*
 * Takes argv[*i] when it is --db, --tenant or --json (advancing *i past a
 * separate value). Returns 1 when taken, 0 when argv[*i] is another
 * argument, -1 (after a message) when the option lacks its value.
 */
extern int	il_srv_common_option(int argc, char **argv, int *i, il_srv_opts *o);

/*
 * Reports bad usage: "ironlayer: message", then "Try ..." naming the
 * subcommand's --help. Returns IL_EXIT_USAGE.
 */
extern int	il_srv_misuse(const char *cmd, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

/* Parses a whole number from 0 to max into *out; false when it is not one. */
extern bool il_srv_parse_count(const char *s, long max, long *out);

/* Is s a calendar date "YYYY-MM-DD"? */
extern bool il_srv_valid_date(const char *s);

/*
 * Connects (client encoding UTF8) and binds the tenant: --tenant, else
 * IRONLAYER_TENANT, else the caller's only membership. NULL after a
 * message on failure, *rc set: IL_EXIT_FAILED (connection, server error),
 * IL_EXIT_USAGE (no tenant or several to choose from).
 */
extern PGconn *il_srv_connect(const il_srv_opts *o, int *rc);

/* Connects without binding a tenant (credential put binds its own). */
extern PGconn *il_srv_connect_plain(const char *conninfo);

/*
 * Runs sql with n text parameters (NULL entries are SQL NULLs). Returns the
 * result, or NULL after reporting the server's error (il_srv_report).
 */
extern PGresult *il_srv_exec(PGconn *conn, const char *sql, int n, const char *const *params);

/*
 * Prints a failed result on stderr: "ironlayer: message [SQLSTATE xxxxx]",
 * then "DETAIL: ..." and "HINT: ..." lines when the server sent them.
 */
extern void il_srv_report(const PGresult *res);

/*
 * Resolves PLAN (an id or a unique prefix of 8 or more hex digits) to the
 * full id of a plan of the bound tenant, written to id[65]; with env not
 * NULL, the plan's environment too (env[64]). False after reporting the
 * server's error (the one show_plan gives for that text).
 */
extern bool il_srv_resolve_plan(PGconn *conn, const char *plan, char id[65], char env[64]);

#endif							/* IL_PGCONN_H */
