/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  The background workers that run the steps of runs (docs/runs.md,
 *	  "Background workers").
 *
 * A launcher, registered at server start, connects to ironlayer.database,
 * waits until the extension (with its executor) is installed there, then
 * keeps ironlayer.max_workers dynamic workers alive. Each worker loops:
 *
 *	1. claim: ironlayer.claim_step(name, lease) in a short transaction;
 *	   claims share the workers fairly between tenants (see claim_step);
 *	2. execute: ironlayer._execute_step(run_id, step_id, name) in a new
 *	   transaction, which records success itself; the worker holds the
 *	   step's row lock for the whole transaction, so a step that outlives
 *	   its lease is not claimed again while it runs (claim_step skips
 *	   locked rows). On a databricks environment the same call hands the
 *	   step to the dispatcher instead (executor.h): it commits the step
 *	   still running under the dispatcher's lease, and the worker, which
 *	   records nothing more of it, goes on to its next claim;
 *	3. on an ERROR: ironlayer.complete_step(..., ok => false, sqlstate,
 *	   message and hint) in a third transaction.
 *
 * Each unit of work starts clean: no tenant binding, no session-level
 * advisory lock and no temporary object left by an earlier step's model
 * SQL (whatever one tenant's model did to the session never reaches the
 * next step, another tenant's perhaps). The worker's own lock waits are
 * bounded (lock_timeout), and so are the model's (the environment's).
 *
 * When there is nothing to claim a worker sleeps on its latch. Transactions
 * that make work (apply, retry, complete_step) call ironlayer._wake_workers(),
 * which sets every worker's latch when they commit; a timeout of half the
 * lease picks up steps whose worker died (their lease expired) and covers
 * wake-ups that cannot happen at commit (PREPARE TRANSACTION).
 *
 * Nothing is lost in a crash: a step's work and its outcome commit
 * together, so a worker that dies leaves the step "running" with a lease
 * that expires, and another worker claims it again (attempts + 1).
 *
 * Shared memory holds one slot per worker (its pid and PGPROC number, for
 * the latch), the launcher's and the dispatcher's, under a spinlock.
 *
 * The launcher also keeps the dispatcher alive (dispatcher.c): the one
 * process that sends the statements of databricks steps. Transactions that
 * hand a step over to it call ironlayer._wake_dispatcher(), which sets its
 * latch when they commit.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "il_buf.h"
#include "il_scrub.h"
#include "ironlayer.h"

#define MAX_WORKERS 64
#define LAUNCHER_IDLE_MS (60 * 1000)	/* recheck workers and the extension */
#define LAUNCHER_WAIT_MS (5 * 1000)	/* while the extension is missing */
#define RESTART_DELAY_MS (5 * 1000) /* between two starts of one slot */
#define WORKER_LOCK_TIMEOUT "60s"	/* the worker's own lock waits */
#define FAILURE_MESSAGE_MAX 8192	/* bytes of an error message recorded */
#define FAILURE_HINT_MAX 2048	/* bytes of its hint */

/* settings */
static char *worker_database = NULL;	/* ironlayer.database */
static int	max_workers = 2;		/* ironlayer.max_workers */
static int	lease_seconds = 60;		/* ironlayer.lease */
static int	tenant_max_running_steps = 0;	/* ironlayer.tenant_max_running_steps */

/* ------------------------------------------------------- shared memory */

typedef struct WorkerSlot
{
	pid_t		pid;			/* 0: free */
	int			procno;			/* its PGPROC, whose latch wakes it */
} WorkerSlot;

typedef struct WorkerShmem
{
	slock_t		mutex;
	pid_t		launcher_pid;	/* 0: no launcher */
	int			launcher_procno;
	bool		launcher_waiting;	/* for the extension: wake it at commit */
	pid_t		dispatcher_pid; /* 0: no dispatcher */
	int			dispatcher_procno;
	int			nslots;
	WorkerSlot	slots[FLEXIBLE_ARRAY_MEMBER];
} WorkerShmem;

static WorkerShmem *wshm = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static Size
worker_shmem_size(void)
{
	return add_size(offsetof(WorkerShmem, slots), mul_size(max_workers, sizeof(WorkerSlot)));
}

static void
worker_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(worker_shmem_size());
}

/*
 * Runs in the postmaster at start and after every crash restart (shared
 * memory is new then: no slot survives a crash).
 */
static void
worker_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	wshm = ShmemInitStruct("ironlayer workers", worker_shmem_size(), &found);
	if (!found)
	{
		memset(wshm, 0, worker_shmem_size());
		SpinLockInit(&wshm->mutex);
		wshm->nslots = max_workers;
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Sets the latch of every live worker (and of a launcher waiting for the extension). */
static void
wake_all(void)
{
	int			procnos[MAX_WORKERS + 1];
	int			n = 0;
	int			i;

	if (wshm == NULL)
		return;
	SpinLockAcquire(&wshm->mutex);
	for (i = 0; i < wshm->nslots; i++)
		if (wshm->slots[i].pid != 0 && wshm->slots[i].pid != MyProcPid)
			procnos[n++] = wshm->slots[i].procno;
	if (wshm->launcher_waiting && wshm->launcher_pid != 0)
		procnos[n++] = wshm->launcher_procno;
	SpinLockRelease(&wshm->mutex);
	/* outside the spinlock: SetLatch may signal another process */
	for (i = 0; i < n; i++)
		SetLatch(&GetPGProcByNumber(procnos[i])->procLatch);
}

/* Sets the dispatcher's latch, when there is a dispatcher (not this process). */
static void
wake_dispatcher_now(void)
{
	int			procno = -1;

	if (wshm == NULL)
		return;
	SpinLockAcquire(&wshm->mutex);
	if (wshm->dispatcher_pid != 0 && wshm->dispatcher_pid != MyProcPid)
		procno = wshm->dispatcher_procno;
	SpinLockRelease(&wshm->mutex);
	if (procno >= 0)
		SetLatch(&GetPGProcByNumber(procno)->procLatch);
}

/* ------------------------------------------------------- wake at commit */

static bool wake_callbacks_registered = false;
static bool wake_at_commit = false;
static bool wake_dispatcher_at_commit = false;

/*
 * A transaction that asked for a wake-up and then prepares or aborts wakes
 * nobody (a prepared transaction commits later, elsewhere: the workers'
 * timeout covers it).
 */
static void
wake_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_PREPARE || event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
	{
		wake_at_commit = false;
		wake_dispatcher_at_commit = false;
	}
}

/*
 * The wake-up itself, at the very end of a top-level commit. Not in the
 * XACT_EVENT_COMMIT callback: that runs before the transaction sends its
 * catalog invalidations and releases its locks, so a worker woken there
 * could look up a table the transaction just created and not find it (its
 * negative cache entry not yet invalidated), or queue behind its locks. By
 * the last phase of the resource release, the commit is visible, the
 * invalidations are sent and the locks are gone. Nothing here may fail.
 */
static void
wake_release_callback(ResourceReleasePhase phase, bool isCommit, bool isTopLevel, void *arg)
{
	if (phase != RESOURCE_RELEASE_AFTER_LOCKS || !isTopLevel)
		return;
	if (isCommit && wake_at_commit)
		wake_all();
	if (isCommit && wake_dispatcher_at_commit)
		wake_dispatcher_now();
	wake_at_commit = false;
	wake_dispatcher_at_commit = false;
}

static void
register_wake_callbacks(void)
{
	if (!wake_callbacks_registered)
	{
		RegisterXactCallback(wake_xact_callback, NULL);
		RegisterResourceReleaseCallback(wake_release_callback, NULL);
		wake_callbacks_registered = true;
	}
}

PG_FUNCTION_INFO_V1(ironlayer_wake_workers);
/*
 * ironlayer._wake_workers(): wakes the workers when the calling transaction
 * commits; nothing happens if it aborts. The callbacks are registered once
 * per process and armed once per transaction. Harmless without workers.
 */
Datum
ironlayer_wake_workers(PG_FUNCTION_ARGS)
{
	if (wshm == NULL)
		PG_RETURN_VOID();
	register_wake_callbacks();
	wake_at_commit = true;
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(ironlayer_wake_dispatcher);
/*
 * ironlayer._wake_dispatcher(): wakes the dispatcher when the calling
 * transaction commits (a step was handed over to it, a statement is ready);
 * nothing happens if it aborts. Harmless without a dispatcher.
 */
Datum
ironlayer_wake_dispatcher(PG_FUNCTION_ARGS)
{
	if (wshm == NULL)
		PG_RETURN_VOID();
	register_wake_callbacks();
	wake_dispatcher_at_commit = true;
	PG_RETURN_VOID();
}

/* ------------------------------------------------------- the dispatcher's slot */

static void
dispatcher_release_slot(int code, Datum arg)
{
	int			launcher = -1;

	if (wshm == NULL)
		return;
	SpinLockAcquire(&wshm->mutex);
	if (wshm->dispatcher_pid == MyProcPid)
	{
		wshm->dispatcher_pid = 0;
		wshm->dispatcher_procno = 0;
	}
	if (wshm->launcher_pid != 0)
		launcher = wshm->launcher_procno;
	SpinLockRelease(&wshm->mutex);
	if (launcher >= 0)
		SetLatch(&GetPGProcByNumber(launcher)->procLatch);
}

/* The dispatcher's slot for this process; false when another dispatcher holds it. */
bool
ironlayer_dispatcher_take_slot(void)
{
	bool		ok = false;

	if (wshm == NULL)
		return false;
	SpinLockAcquire(&wshm->mutex);
	if (wshm->dispatcher_pid == 0)
	{
		wshm->dispatcher_pid = MyProcPid;
		wshm->dispatcher_procno = MyProc->pgprocno;
		ok = true;
	}
	SpinLockRelease(&wshm->mutex);
	if (ok)
		on_shmem_exit(dispatcher_release_slot, (Datum) 0);
	return ok;
}

/* ironlayer.database */
const char *
ironlayer_worker_database(void)
{
	return worker_database;
}

PG_FUNCTION_INFO_V1(ironlayer_written_here);
/*
 * ironlayer._written_here(xid): whether a row version with this xmin was
 * written by the calling transaction or one of its subtransactions, so is
 * invisible to every other session (wait() on a run applied in the same
 * transaction would wait for workers that cannot see it).
 */
Datum
ironlayer_written_here(PG_FUNCTION_ARGS)
{
	TransactionId xid = DatumGetTransactionId(PG_GETARG_DATUM(0));

	PG_RETURN_BOOL(TransactionIdIsCurrentTransactionId(xid));
}

/* ------------------------------------------------------- common */

typedef enum Readiness
{
	READY,
	NOT_INSTALLED,
	NO_EXECUTOR
} Readiness;

/*
 * Whether the extension, with the executor the workers call, is installed
 * in the connected database. Catalog look-ups only; the caller is in a
 * transaction.
 */
static Readiness
extension_readiness(void)
{
	Oid			argtypes[3] = {INT8OID, TEXTOID, TEXTOID};
	List	   *fn;

	if (!OidIsValid(get_extension_oid("ironlayer", true)))
		return NOT_INSTALLED;
	fn = list_make2(makeString("ironlayer"), makeString("_execute_step"));
	if (!OidIsValid(LookupFuncName(fn, 3, argtypes, true)))
		return NO_EXECUTOR;
	return READY;
}

/* Readiness in a transaction of its own. */
static Readiness
check_readiness(void)
{
	Readiness	r;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	r = extension_readiness();
	CommitTransactionCommand();
	return r;
}

static void
reload_config_if_asked(void)
{
	if (ConfigReloadPending)
	{
		ConfigReloadPending = false;
		ProcessConfigFile(PGC_SIGHUP);
	}
}

/* ------------------------------------------------------- workers */

PGDLLEXPORT void ironlayer_worker_main(Datum main_arg);

static int	my_slot = -1;
static char worker_name[64];
static MemoryContext unit_context = NULL;

/* A claimed step. */
typedef struct Claim
{
	pg_uuid_t	tenant_id;
	int64		run_id;
	char	   *step_id;
	int32		attempts;
} Claim;

typedef enum ClaimResult
{
	CLAIMED,
	NOTHING,
	CLAIM_FAILED,
	NOT_READY
} ClaimResult;

static void
worker_release_slot(int code, Datum arg)
{
	int			launcher = -1;

	if (wshm == NULL || my_slot < 0)
		return;
	SpinLockAcquire(&wshm->mutex);
	if (wshm->slots[my_slot].pid == MyProcPid)
	{
		wshm->slots[my_slot].pid = 0;
		wshm->slots[my_slot].procno = 0;
	}
	if (wshm->launcher_pid != 0)
		launcher = wshm->launcher_procno;
	SpinLockRelease(&wshm->mutex);
	my_slot = -1;
	/* the launcher may not hold a handle for us (it restarted): tell it */
	if (launcher >= 0)
		SetLatch(&GetPGProcByNumber(launcher)->procLatch);
}

/* Takes slot i; false when another live worker holds it. */
static bool
worker_take_slot(int i)
{
	bool		ok = false;

	if (wshm == NULL || i < 0 || i >= wshm->nslots)
		return false;
	SpinLockAcquire(&wshm->mutex);
	if (wshm->slots[i].pid == 0)
	{
		wshm->slots[i].pid = MyProcPid;
		wshm->slots[i].procno = MyProc->pgprocno;
		ok = true;
	}
	SpinLockRelease(&wshm->mutex);
	if (ok)
	{
		my_slot = i;
		on_shmem_exit(worker_release_slot, (Datum) 0);
	}
	return ok;
}

/*
 * The name a worker holds leases under: unique per process and server
 * start, "<pid>@<postmaster start, UTC>".
 */
static void
set_worker_name(void)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (timestamp2tm(PgStartTime, NULL, &tm, &fsec, NULL, NULL) != 0)
		snprintf(worker_name, sizeof(worker_name), "%d@" INT64_FORMAT, (int) MyProcPid, (int64) PgStartTime);
	else
		snprintf(worker_name, sizeof(worker_name), "%d@%04d%02d%02dT%02d%02d%02d.%06dZ",
				 (int) MyProcPid, tm.tm_year, tm.tm_mon, tm.tm_mday,
				 tm.tm_hour, tm.tm_min, tm.tm_sec, (int) fsec);
}

/*
 * A unit of work of a background process (a worker, the dispatcher): a
 * transaction with SPI and a snapshot; its commit reports the process's
 * statistics.
 */
void
ironlayer_unit_begin(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
}

void
ironlayer_unit_commit(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
}

/* A worker's unit ends back in its context. */
static void
unit_commit(void)
{
	ironlayer_unit_commit();
	MemoryContextSwitchTo(unit_context);
}

/*
 * After an ERROR in a worker transaction: copy the error (into the unit
 * context) if asked, clear it, abort the transaction.
 */
static ErrorData *
unit_recover(bool keep)
{
	ErrorData  *edata = NULL;

	HOLD_INTERRUPTS();
	MemoryContextSwitchTo(unit_context);
	if (keep)
		edata = CopyErrorData();
	else
		EmitErrorReport();
	FlushErrorState();
	AbortCurrentTransaction();
	MemoryContextSwitchTo(unit_context);
	RESUME_INTERRUPTS();
	return edata;
}

/*
 * What a step's model SQL may have left in this session, gone: the tenant
 * binding (model SQL cannot bind, but the worker never keeps one either)
 * and session-level advisory locks (outside a transaction); temporary
 * objects when in a transaction.
 */
static void
worker_reset_session(bool in_transaction)
{
	ironlayer_tenant_reset();
	LockReleaseSession(USER_LOCKMETHOD);
	if (in_transaction)
		ResetTempTableNamespace();
}

/* (1) Claim one runnable step, in a transaction of its own. */
static ClaimResult
worker_claim(Claim *c)
{
	volatile ClaimResult result = NOTHING;

	pgstat_report_activity(STATE_RUNNING, "ironlayer: claiming a step");
	PG_TRY();
	{
		Interval   *lease = palloc0(sizeof(Interval));
		Oid			types[2] = {TEXTOID, INTERVALOID};
		Datum		values[2];

		ironlayer_unit_begin();

		/*
		 * The claim need not wait for its WAL flush: lost in a crash, the
		 * step is only pending again, and the executing transaction's
		 * commit flushes the claim along with its own record.
		 */
		(void) set_config_option("synchronous_commit", "off", PGC_SUSET, PGC_S_SESSION,
								 GUC_ACTION_LOCAL, true, 0, false);
		if (extension_readiness() != READY)
			result = NOT_READY;
		else
		{
			lease->time = (int64) lease_seconds * USECS_PER_SEC;
			values[0] = CStringGetTextDatum(worker_name);
			values[1] = IntervalPGetDatum(lease);
			if (SPI_execute_with_args("SELECT tenant_id, run_id, step_id, attempts"
									  " FROM ironlayer.claim_step($1, $2)",
									  2, types, values, NULL, false, 0) != SPI_OK_SELECT)
				elog(ERROR, "ironlayer.claim_step() failed");
			if (SPI_processed > 0)
			{
				HeapTuple	tup = SPI_tuptable->vals[0];
				TupleDesc	desc = SPI_tuptable->tupdesc;
				bool		isnull;
				MemoryContext old = MemoryContextSwitchTo(unit_context);

				c->tenant_id = *DatumGetUUIDP(SPI_getbinval(tup, desc, 1, &isnull));
				c->run_id = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
				c->step_id = TextDatumGetCString(SPI_getbinval(tup, desc, 3, &isnull));
				c->attempts = DatumGetInt32(SPI_getbinval(tup, desc, 4, &isnull));
				MemoryContextSwitchTo(old);
				result = CLAIMED;
			}
		}
		unit_commit();
	}
	PG_CATCH();
	{
		unit_recover(false);
		result = CLAIM_FAILED;
	}
	PG_END_TRY();
	return result;
}

/*
 * Locks the claimed step's row for the rest of the transaction and checks
 * that this worker still holds it; its model name goes to *model.
 */
static bool
lock_claimed_step(const Claim *c, char **model)
{
	Oid			types[3] = {UUIDOID, INT8OID, TEXTOID};
	Datum		values[3];
	HeapTuple	tup;
	TupleDesc	desc;
	char	   *owner;
	char	   *state;

	values[0] = UUIDPGetDatum(&c->tenant_id);
	values[1] = Int64GetDatum(c->run_id);
	values[2] = CStringGetTextDatum(c->step_id);
	if (SPI_execute_with_args("SELECT lease_owner, state, model FROM ironlayer.run_steps"
							  " WHERE tenant_id OPERATOR(pg_catalog.=) $1"
							  " AND run_id OPERATOR(pg_catalog.=) $2"
							  " AND step_id OPERATOR(pg_catalog.=) $3 FOR UPDATE",
							  3, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not lock the step");
	if (SPI_processed != 1)
		return false;
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	owner = SPI_getvalue(tup, desc, 1);
	state = SPI_getvalue(tup, desc, 2);
	*model = MemoryContextStrdup(unit_context, SPI_getvalue(tup, desc, 3));
	return owner != NULL && state != NULL && strcmp(owner, worker_name) == 0 &&
		strcmp(state, "running") == 0;
}

/*
 * (3) Record a failed step, in a transaction of its own. The stored message
 * is the error's message and, when it has one, its hint on a line of its
 * own ("Hint: ..."). Each is scrubbed here, as complete_step scrubs them
 * (the message as SQL text, the hint as prose), and cut after scrubbing
 * (il_scrub_max: FAILURE_MESSAGE_MAX and FAILURE_HINT_MAX bytes): cut
 * first, a key or a number the cut splits would be kept in part, too short
 * for the scrubber to know it. complete_step scrubs again, which changes
 * nothing of scrubbed text but makes it safe from any caller.
 */
static void
worker_record_failure(const Claim *c, const char *sqlstate, const char *message, const char *hint)
{
	PG_TRY();
	{
		Oid			types[5] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
		Datum		values[5];
		char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
		bool		isnull;
		bool		recorded;

		ironlayer_unit_begin();
		values[0] = Int64GetDatum(c->run_id);
		values[1] = CStringGetTextDatum(c->step_id);
		values[2] = CStringGetTextDatum(worker_name);
		values[3] = CStringGetTextDatum(sqlstate);
		if (message)
		{
			/*
			 * an error message can be as long as what a model made it quote:
			 * scrubbed, then cut, into memory of the bounds' size
			 */
			text	   *stored = palloc(VARHDRSZ + FAILURE_MESSAGE_MAX + FAILURE_HINT_MAX + 16);
			il_buf		m = IL_BUF_INIT;
			bool		oom;

			/* nothing raises an ERROR while the core's buffer is held */
			il_scrub_max(message, strlen(message), IL_SCRUB_SQL, FAILURE_MESSAGE_MAX, &m);
			if (hint)
			{
				il_buf_puts(&m, "\nHint: ");
				il_scrub_max(hint, strlen(hint), 0, FAILURE_HINT_MAX, &m);
			}
			oom = m.oom || m.len > FAILURE_MESSAGE_MAX + FAILURE_HINT_MAX + 16;
			if (!oom)
			{
				memcpy(VARDATA(stored), m.data ? m.data : "", m.len);
				SET_VARSIZE(stored, VARHDRSZ + m.len);
			}
			il_buf_free(&m);
			if (oom)
				ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
			values[4] = PointerGetDatum(stored);
		}
		else
			nulls[4] = 'n';
		/* the executor of the step's environment, as telemetry */
		if (SPI_execute_with_args("SELECT ironlayer.complete_step($1, $2, $3, false, NULL, NULL,"
								  " COALESCE((SELECT e.executor FROM ironlayer.runs r"
								  "   JOIN ironlayer.environments e ON e.tenant_id OPERATOR(pg_catalog.=) r.tenant_id"
								  "                                AND e.name OPERATOR(pg_catalog.=) r.environment"
								  "  WHERE r.run_id OPERATOR(pg_catalog.=) $1), 'postgres'), $4, $5)",
								  5, types, values, nulls, false, 0) != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "ironlayer.complete_step() failed");
		recorded = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		unit_commit();
		if (!recorded)
			ereport(LOG,
					(errmsg("ironlayer worker %s lost the lease of step %s of run " INT64_FORMAT
							" before recording its failure", worker_name, c->step_id, c->run_id)));
	}
	PG_CATCH();
	{
		unit_recover(false);
		ereport(WARNING,
				(errmsg("ironlayer worker %s could not record the failure of step %s of run " INT64_FORMAT,
						worker_name, c->step_id, c->run_id),
				 errdetail("The step stays running until its lease expires; it is then claimed again.")));
	}
	PG_END_TRY();
}

/* (2) Run a claimed step; on an ERROR, record the failure (3). */
static void
worker_execute(const Claim *c)
{
	ErrorData  *volatile edata = NULL;
	volatile bool held = true;
	char		activity[256];

	snprintf(activity, sizeof(activity), "ironlayer: run " INT64_FORMAT ", step %.16s, attempt %d",
			 c->run_id, c->step_id, c->attempts);
	pgstat_report_activity(STATE_RUNNING, activity);
	PG_TRY();
	{
		Oid			types[3] = {INT8OID, TEXTOID, TEXTOID};
		Datum		values[3];
		char	   *model = NULL;

		ironlayer_unit_begin();
		worker_reset_session(true);
		held = lock_claimed_step(c, &model);
		if (held)
		{
			snprintf(activity, sizeof(activity), "ironlayer: run " INT64_FORMAT ", step %.16s (%s), attempt %d",
					 c->run_id, c->step_id, model, c->attempts);
			pgstat_report_activity(STATE_RUNNING, activity);
			values[0] = Int64GetDatum(c->run_id);
			values[1] = CStringGetTextDatum(c->step_id);
			values[2] = CStringGetTextDatum(worker_name);
			if (SPI_execute_with_args("SELECT ironlayer._execute_step($1, $2, $3)",
									  3, types, values, NULL, false, 0) != SPI_OK_SELECT)
				elog(ERROR, "ironlayer._execute_step() failed");
		}
		unit_commit();
	}
	PG_CATCH();
	{
		edata = unit_recover(true);
	}
	PG_END_TRY();
	worker_reset_session(false);

	if (!held)
	{
		ereport(LOG,
				(errmsg("ironlayer worker %s no longer holds step %s of run " INT64_FORMAT ": not run",
						worker_name, c->step_id, c->run_id)));
		return;
	}
	if (edata == NULL)
		return;
	/* the message itself goes to run_steps, scrubbed; the log gets its class */
	ereport(LOG,
			(errmsg("ironlayer worker %s: step %s of run " INT64_FORMAT " failed with SQLSTATE %s",
					worker_name, c->step_id, c->run_id, unpack_sql_state(edata->sqlerrcode)),
			 errdetail("ironlayer.run_steps holds the error message.")));
	pgstat_report_activity(STATE_RUNNING, "ironlayer: recording a failed step");
	worker_record_failure(c, unpack_sql_state(edata->sqlerrcode), edata->message, edata->hint);
}

/*
 * Entry point of a dynamic worker; main_arg is its slot.
 */
void
ironlayer_worker_main(Datum main_arg)
{
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	if (!worker_take_slot(DatumGetInt32(main_arg)))
		proc_exit(0);			/* a worker of an earlier launcher still holds it */

	BackgroundWorkerInitializeConnection(worker_database, NULL, 0);
	pgstat_report_appname("ironlayer worker");
	/* the worker's own transactions read committed, whatever the default */
	SetConfigOption("default_transaction_isolation", "read committed", PGC_SUSET, PGC_S_OVERRIDE);
	/* and never wait on a lock without end (functions may set their own) */
	SetConfigOption("lock_timeout", WORKER_LOCK_TIMEOUT, PGC_SUSET, PGC_S_OVERRIDE);
	set_worker_name();
	unit_context = AllocSetContextCreate(TopMemoryContext, "ironlayer worker unit",
										 ALLOCSET_DEFAULT_SIZES);
	ereport(LOG, (errmsg("ironlayer worker %s started in database \"%s\"", worker_name, worker_database)));

	for (;;)
	{
		ClaimResult r = NOTHING;
		long		timeout;

		/* reset before looking for work: a wake-up from now on is not lost */
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		reload_config_if_asked();

		/* run steps while there are some */
		for (;;)
		{
			Claim		c;

			MemoryContextSwitchTo(unit_context);
			MemoryContextReset(unit_context);
			r = worker_claim(&c);
			if (r != CLAIMED)
				break;
			worker_execute(&c);
			CHECK_FOR_INTERRUPTS();
			reload_config_if_asked();
		}
		if (r == NOT_READY)
		{
			ereport(LOG,
					(errmsg("ironlayer worker %s stops: the extension or its executor is not installed in database \"%s\"",
							worker_name, worker_database)));
			proc_exit(0);
		}
		pgstat_report_activity(STATE_IDLE, NULL);
		/* statistics not yet sent (they go at most once a second) go now */
		pgstat_report_stat(true);

		/*
		 * Sleep until woken at a commit, or for half a lease: a step whose
		 * worker died becomes claimable when its lease expires.
		 */
		timeout = Max((long) lease_seconds * 500L, 100L);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 timeout, PG_WAIT_EXTENSION);
	}
}

/* ------------------------------------------------------- launcher */

PGDLLEXPORT void ironlayer_launcher_main(Datum main_arg);

typedef struct LaunchSlot
{
	BackgroundWorkerHandle *handle; /* NULL: none started by this launcher */
	TimestampTz started;		/* last start, 0: never */
} LaunchSlot;

static LaunchSlot *launch_slots = NULL;
static LaunchSlot dispatcher_slot;
static bool warned_no_room = false;

static void
launcher_release(int code, Datum arg)
{
	if (wshm == NULL)
		return;
	SpinLockAcquire(&wshm->mutex);
	if (wshm->launcher_pid == MyProcPid)
	{
		wshm->launcher_pid = 0;
		wshm->launcher_waiting = false;
	}
	SpinLockRelease(&wshm->mutex);
}

static void
launcher_set_waiting(bool waiting)
{
	SpinLockAcquire(&wshm->mutex);
	wshm->launcher_waiting = waiting;
	SpinLockRelease(&wshm->mutex);
}

static bool
slot_occupied(int i)
{
	bool		busy;

	SpinLockAcquire(&wshm->mutex);
	busy = wshm->slots[i].pid != 0;
	SpinLockRelease(&wshm->mutex);
	return busy;
}

static bool
dispatcher_running(void)
{
	bool		busy;

	SpinLockAcquire(&wshm->mutex);
	busy = wshm->dispatcher_pid != 0;
	SpinLockRelease(&wshm->mutex);
	return busy;
}

/*
 * Starts the dispatcher when none runs (as launcher_start_workers does a
 * worker). Returns how long to sleep before the next look.
 */
static long
launcher_start_dispatcher(void)
{
	LaunchSlot *ls = &dispatcher_slot;
	TimestampTz now = GetCurrentTimestamp();
	BackgroundWorker w;
	pid_t		pid;
	long		wait_ms;

	if (ls->handle != NULL)
	{
		BgwHandleStatus st = GetBackgroundWorkerPid(ls->handle, &pid);

		if (st == BGWH_POSTMASTER_DIED)
			proc_exit(1);
		if (st != BGWH_STOPPED)
			return LAUNCHER_IDLE_MS;
		pfree(ls->handle);
		ls->handle = NULL;
	}
	if (dispatcher_running())
		return LAUNCHER_IDLE_MS;	/* one from before this launcher started */
	wait_ms = RESTART_DELAY_MS - (long) ((now - ls->started) / 1000);
	if (ls->started != 0 && wait_ms > 0)
		return wait_ms;
	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "ironlayer");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "ironlayer_dispatcher_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "ironlayer dispatcher");
	snprintf(w.bgw_type, BGW_MAXLEN, "ironlayer dispatcher");
	w.bgw_notify_pid = MyProcPid;
	ls->started = now;
	if (!RegisterDynamicBackgroundWorker(&w, &ls->handle))
	{
		ls->handle = NULL;
		if (!warned_no_room)
			ereport(WARNING,
					(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
					 errmsg("ironlayer launcher could not start the dispatcher"),
					 errdetail("No background worker slot is free."),
					 errhint("Raise max_worker_processes (it counts the launcher, the workers, the "
							 "dispatcher and other extensions' workers).")));
		warned_no_room = true;
		return RESTART_DELAY_MS;
	}
	return LAUNCHER_IDLE_MS;
}

/*
 * Starts a worker for every slot without one. Returns how long to sleep
 * before the next look (a slot that stopped right after starting is
 * restarted no sooner than RESTART_DELAY_MS after its last start).
 */
static long
launcher_start_workers(void)
{
	TimestampTz now = GetCurrentTimestamp();
	long		next = LAUNCHER_IDLE_MS;
	int			i;

	for (i = 0; i < max_workers; i++)
	{
		LaunchSlot *ls = &launch_slots[i];
		BackgroundWorker w;
		pid_t		pid;
		long		wait_ms;

		if (ls->handle != NULL)
		{
			BgwHandleStatus st = GetBackgroundWorkerPid(ls->handle, &pid);

			if (st == BGWH_POSTMASTER_DIED)
				proc_exit(1);
			if (st != BGWH_STOPPED)
				continue;		/* running, or about to */
			pfree(ls->handle);
			ls->handle = NULL;
		}
		if (slot_occupied(i))
			continue;			/* a worker from before this launcher started */
		wait_ms = RESTART_DELAY_MS - (long) ((now - ls->started) / 1000);
		if (ls->started != 0 && wait_ms > 0)
		{
			next = Min(next, wait_ms);
			continue;
		}

		memset(&w, 0, sizeof(w));
		w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
		w.bgw_start_time = BgWorkerStart_RecoveryFinished;
		w.bgw_restart_time = BGW_NEVER_RESTART;
		snprintf(w.bgw_library_name, BGW_MAXLEN, "ironlayer");
		snprintf(w.bgw_function_name, BGW_MAXLEN, "ironlayer_worker_main");
		snprintf(w.bgw_name, BGW_MAXLEN, "ironlayer worker %d", i + 1);
		snprintf(w.bgw_type, BGW_MAXLEN, "ironlayer worker");
		w.bgw_main_arg = Int32GetDatum(i);
		w.bgw_notify_pid = MyProcPid;	/* its start and exit set our latch */
		ls->started = now;
		if (!RegisterDynamicBackgroundWorker(&w, &ls->handle))
		{
			ls->handle = NULL;
			if (!warned_no_room)
				ereport(WARNING,
						(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
						 errmsg("ironlayer launcher could not start worker %d of %d", i + 1, max_workers),
						 errdetail("No background worker slot is free."),
						 errhint("Raise max_worker_processes (it counts the launcher, the workers and "
								 "other extensions' workers), or lower ironlayer.max_workers.")));
			warned_no_room = true;
			next = Min(next, RESTART_DELAY_MS);
			break;
		}
		warned_no_room = false;
	}
	return next;
}

/*
 * Entry point of the launcher (registered at server start).
 */
void
ironlayer_launcher_main(Datum main_arg)
{
	Readiness	last = READY;
	bool		first = true;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	BackgroundWorkerInitializeConnection(worker_database, NULL, 0);
	pgstat_report_appname("ironlayer launcher");

	SpinLockAcquire(&wshm->mutex);
	wshm->launcher_pid = MyProcPid;
	wshm->launcher_procno = MyProc->pgprocno;
	wshm->launcher_waiting = true;
	SpinLockRelease(&wshm->mutex);
	on_shmem_exit(launcher_release, (Datum) 0);

	launch_slots = MemoryContextAllocZero(TopMemoryContext, sizeof(LaunchSlot) * Max(max_workers, 1));

	for (;;)
	{
		Readiness	r;
		long		timeout;

		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		reload_config_if_asked();

		r = check_readiness();
		launcher_set_waiting(r != READY);
		if (r != last || first)
		{
			if (r == NOT_INSTALLED)
				ereport(LOG,
						(errmsg("ironlayer launcher is waiting for the extension in database \"%s\"", worker_database),
						 errhint("Run CREATE EXTENSION ironlayer there, or set ironlayer.database.")));
			else if (r == NO_EXECUTOR)
				ereport(LOG,
						(errmsg("ironlayer launcher is waiting for ironlayer._execute_step() in database \"%s\"",
								worker_database),
						 errhint("Update the extension: ALTER EXTENSION ironlayer UPDATE.")));
			else
				ereport(LOG,
						(errmsg("ironlayer launcher starts %d worker(s) in database \"%s\"",
								max_workers, worker_database)));
			last = r;
			first = false;
		}
		if (r == READY)
		{
			pgstat_report_activity(STATE_RUNNING, "ironlayer: keeping workers running");
			timeout = launcher_start_workers();
			timeout = Min(timeout, launcher_start_dispatcher());
		}
		else
			timeout = LAUNCHER_WAIT_MS;
		pgstat_report_activity(STATE_IDLE, NULL);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 timeout, PG_WAIT_EXTENSION);
	}
}

/* ------------------------------------------------------- set-up */

/*
 * Called from _PG_init while preloading: settings, shared memory, the
 * launcher.
 */
void
ironlayer_worker_init(void)
{
	BackgroundWorker w;

	DefineCustomStringVariable("ironlayer.database",
							   "Database the background workers run steps in.",
							   "The extension must be installed there; read at server start.",
							   &worker_database,
							   "postgres",
							   PGC_POSTMASTER,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);
	DefineCustomIntVariable("ironlayer.max_workers",
							"Number of background workers that run steps.",
							"0 starts no launcher and no worker.",
							&max_workers,
							2, 0, MAX_WORKERS,
							PGC_POSTMASTER,
							0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("ironlayer.lease",
							"How long a claimed step is reserved for its worker.",
							"When a worker dies, its step is claimed again once the lease expired; "
							"idle workers look for such steps every half lease.",
							&lease_seconds,
							60, 1, 86400,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	ironlayer_dispatcher_init();

	DefineCustomIntVariable("ironlayer.tenant_max_running_steps",
							"The most steps of one tenant that run at once.",
							"claim_step leaves a tenant's steps pending while this many of its steps run, "
							"so no tenant holds every worker. 0 sets no cap.",
							&tenant_max_running_steps,
							0, 0, 10000,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = worker_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = worker_shmem_startup;

	if (max_workers == 0 || IsBinaryUpgrade)
		return;
	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = 5;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "ironlayer");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "ironlayer_launcher_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "ironlayer launcher");
	snprintf(w.bgw_type, BGW_MAXLEN, "ironlayer launcher");
	RegisterBackgroundWorker(&w);
}
