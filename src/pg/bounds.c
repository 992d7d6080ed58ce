/*-------------------------------------------------------------------------
 *
 * bounds.c
 *	  The bounds of model SQL: time and memory (docs/security.md, "Model
 *	  SQL"; docs/runs.md, "Bounds").
 *
 * Time. Each statement of a step runs under the environment's
 * statement_timeout, on a timer of this file (a user timeout, so a session
 * that calls the executor keeps its own statement timeout). When it fires,
 * the statement is cancelled as by a query cancel (57014). Model SQL can
 * catch a cancel (PL/pgSQL's EXCEPTION WHEN query_canceled) and go on; so
 * a second timer, BOUNDS_GRACE_MS later, ends the process as
 * pg_terminate_backend does, which nothing can catch. A background worker
 * so ended is started again by the launcher; its step's lease expires and
 * claim_step gives up on a step after its third attempt.
 *
 * Memory. While model SQL runs, the process's address space may grow by at
 * most ironlayer.step_memory_limit (a soft RLIMIT_AS over what it has):
 * past it an allocation fails and PostgreSQL reports "out of memory"
 * (53200) for the step, instead of the kernel's OOM killer taking down the
 * whole server.
 *
 * Neither can stop code that never checks for interrupts (some functions
 * of PostgreSQL's own, libxml2's XPath evaluation among them): such a
 * statement runs until it returns, as it would under PostgreSQL's own
 * statement_timeout.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>
#include <sys/resource.h>
#include <unistd.h>

#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/timeout.h"

#include "ironlayer.h"

/* After the cancel, how long a statement has to end before the process is ended. */
#define BOUNDS_GRACE_MS 10000

static int	step_memory_limit = 4096;	/* MB; ironlayer.step_memory_limit */

static TimeoutId cancel_timer = MAX_TIMEOUTS;	/* not registered yet */
static TimeoutId end_timer = MAX_TIMEOUTS;
static volatile sig_atomic_t cancel_fired = false;

/* Signal handlers: what a query cancel and a termination request do. */
static void
cancel_handler(void)
{
	cancel_fired = true;
	InterruptPending = true;
	QueryCancelPending = true;
	SetLatch(MyLatch);
}

static void
end_handler(void)
{
	InterruptPending = true;
	ProcDiePending = true;
	SetLatch(MyLatch);
}

void
ironlayer_bounds_init(void)
{
	DefineCustomIntVariable("ironlayer.step_memory_limit",
							"How much memory a step's model SQL may take.",
							"The process's address space may grow by this much while model SQL runs; "
							"past it the step fails with out of memory. 0 sets no limit.",
							&step_memory_limit,
							4096, 0, INT_MAX / 2,
							PGC_SIGHUP,
							GUC_UNIT_MB | GUC_SUPERUSER_ONLY,
							NULL, NULL, NULL);
}

/* Arms the timers of one statement: cancel after ms, end BOUNDS_GRACE_MS later. */
void
ironlayer_bounds_start(int ms)
{
	if (cancel_timer == MAX_TIMEOUTS)
	{
		cancel_timer = RegisterTimeout(USER_TIMEOUT, cancel_handler);
		end_timer = RegisterTimeout(USER_TIMEOUT, end_handler);
	}
	cancel_fired = false;
	enable_timeout_after(cancel_timer, ms);
	enable_timeout_after(end_timer, (int) Min((int64) ms + BOUNDS_GRACE_MS, (int64) INT_MAX));
}

/*
 * Disarms them; true when the cancel fired (the statement ran past its
 * time, whether or not it was cancelled). A cancel still pending is
 * withdrawn: the caller reports the timeout itself.
 */
bool
ironlayer_bounds_stop(void)
{
	if (cancel_timer == MAX_TIMEOUTS)
		return false;
	disable_timeout(end_timer, false);
	disable_timeout(cancel_timer, false);
	if (!cancel_fired)
		return false;
	QueryCancelPending = false;
	return true;
}

/* The process's address space now, in bytes (0 when unknown). */
static rlim_t
address_space(void)
{
	FILE	   *f = fopen("/proc/self/statm", "r");
	unsigned long pages = 0;

	if (f == NULL)
		return 0;
	if (fscanf(f, "%lu", &pages) != 1)
		pages = 0;
	fclose(f);
	return (rlim_t) pages * (rlim_t) sysconf(_SC_PAGESIZE);
}

/*
 * Limits the address space to what it is now plus ironlayer.step_memory_limit;
 * *saved gets the limit to put back (RLIM_INFINITY over 0 when nothing was
 * changed).
 */
void
ironlayer_memory_limit(struct rlimit *saved)
{
	struct rlimit lim;
	rlim_t		now;

	saved->rlim_cur = RLIM_INFINITY;
	saved->rlim_max = 0;
	if (step_memory_limit <= 0 || getrlimit(RLIMIT_AS, &lim) != 0)
		return;
	now = address_space();
	if (now == 0)
		return;
	*saved = lim;
	lim.rlim_cur = now + (rlim_t) step_memory_limit * 1024 * 1024;
	if (saved->rlim_cur != RLIM_INFINITY && lim.rlim_cur > saved->rlim_cur)
		lim.rlim_cur = saved->rlim_cur;
	if (setrlimit(RLIMIT_AS, &lim) != 0)
	{
		saved->rlim_cur = RLIM_INFINITY;
		saved->rlim_max = 0;
	}
}

/* Puts back the limit ironlayer_memory_limit replaced. Never fails. */
void
ironlayer_memory_unlimit(const struct rlimit *saved)
{
	if (saved->rlim_max == 0 && saved->rlim_cur == RLIM_INFINITY)
		return;
	(void) setrlimit(RLIMIT_AS, saved);
}
