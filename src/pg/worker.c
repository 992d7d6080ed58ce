/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  Background workers that run the steps of runs (being built; see
 *	  docs/runs.md). For now only the wake-up hook exists, so that apply()
 *	  and complete_step() can call it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

PG_FUNCTION_INFO_V1(ironlayer_wake_workers);
/*
 * ironlayer._wake_workers(): wakes the workers when the calling
 * transaction commits. No workers yet: nothing to do.
 */
Datum
ironlayer_wake_workers(PG_FUNCTION_ARGS)
{
	PG_RETURN_VOID();
}
