/*-------------------------------------------------------------------------
 *
 * follow.h
 *	  Following a run until it ends (apply --wait, retry --wait).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_FOLLOW_H
#define IL_FOLLOW_H

#include <stdbool.h>

#include <libpq-fe.h>

/*
 * Follows run run_id of the bound tenant until it ends or timeout seconds
 * pass (0: no limit). Text: on a terminal one status line redrawn in place,
 * otherwise a line each time the counts change; then a final line with the
 * state, and each failed step's model and stored error. json: one document
 * at the end. Returns 0 when the run succeeded, 1 when it failed, was
 * cancelled, the wait timed out or the server failed.
 */
extern int	il_follow_run(PGconn *conn, const char *run_id, long timeout, bool json);

/*
 * Prints the failed steps of run_id as "failed step N: MODEL: error" lines
 * (text) or adds them as the array "failed_steps" (json, when j is not
 * NULL). False after a server error.
 */
struct il_jout;
extern bool il_follow_failed_steps(PGconn *conn, const char *run_id, struct il_jout *j);

#endif							/* IL_FOLLOW_H */
