/*-------------------------------------------------------------------------
 *
 * cmd_server.h
 *	  The subcommands that drive a server over libpq: plans (plan --env,
 *	  plan --refresh, backfill, show), the gate and runs (approve, reject,
 *	  apply, runs, retry, cancel) and schedules. Each takes the arguments
 *	  after its name (argv[0] is the name) and returns the exit status:
 *	  0 success, 1 the operation failed, 2 bad usage.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_CMD_SERVER_H
#define IL_CMD_SERVER_H

#include <stdbool.h>
#include <stdio.h>

#include <libpq-fe.h>

/* cmd_plans.c */
extern int	il_cmd_plan_server(int argc, char **argv);
extern int	il_cmd_backfill(int argc, char **argv);
extern int	il_cmd_show(int argc, char **argv);
extern void il_plan_server_usage(FILE *out);
/* Does argv hold --env (the server form of plan)? */
extern bool il_plan_is_server(int argc, char **argv);
/* Prints stored plan id (the full id) as show does; the exit status. */
extern int	il_show_plan(PGconn *conn, const char *id, bool json);

/* cmd_apply.c */
extern int	il_cmd_approve(int argc, char **argv);
extern int	il_cmd_reject(int argc, char **argv);
extern int	il_cmd_apply(int argc, char **argv);

/* cmd_runs.c */
extern int	il_cmd_runs(int argc, char **argv);
extern int	il_cmd_retry(int argc, char **argv);
extern int	il_cmd_cancel(int argc, char **argv);

/* cmd_schedule.c */
extern int	il_cmd_schedule(int argc, char **argv);

/* Is argv[i] --help or -h? */
extern bool il_is_help(const char *arg);

#endif							/* IL_CMD_SERVER_H */
