/*-------------------------------------------------------------------------
 *
 * plan.c
 *	  ironlayer.plan(): the deterministic plan of two commits of a tenant's
 *	  repository (src/core/il_plan.c), stored in ironlayer.plans.
 *
 * Thin: checks the caller, converts the arguments, reads the watermarks of
 * the plan's environment, lets the core plan, stores the canonical text
 * under its id (one row however often the same plan is made) and returns
 * the text itself, byte for byte, as json.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "datatype/timestamp.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/uuid.h"

#include "il_date.h"
#include "il_plan.h"
#include "ironlayer.h"

/*
 * The largest revision (a commit id, a branch or tag, main~2, ...) and
 * options object (its jsonb; the options parser takes at most 20 bytes of
 * memory a byte of it, docs/benchmarks.md) plan() takes.
 */
#define PLAN_REVISION_MAX 1024
#define PLAN_OPTIONS_MAX ((Size) 1 << 20)

/* il_date counts days from 1970-01-01, DateADT from 2000-01-01 */
#define UNIX_TO_PG_DAYS (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE)

static il_date
date_to_il(DateADT d, const char *what)
{
	int64		days = (int64) d + UNIX_TO_PG_DAYS;

	if (DATE_NOT_FINITE(d) || days < IL_DATE_MIN || days > IL_DATE_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must lie between 0001-01-01 and 9999-12-31", what)));
	return (il_date) days;
}

static DateADT
il_to_date(il_date d)
{
	return (DateADT) (d - UNIX_TO_PG_DAYS);
}

/*
 * The watermarks of a repository in an environment (palloc'd; order does
 * not matter to the core, which sorts them).
 */
static il_plan_watermark *
read_watermarks(const pg_uuid_t *tenant, int64 repo_id, const char *environment, size_t *n)
{
	Oid			argtypes[3] = {UUIDOID, INT8OID, TEXTOID};
	Datum		values[3];
	il_plan_watermark *w;
	uint64		i;

	values[0] = UUIDPGetDatum(tenant);
	values[1] = Int64GetDatum(repo_id);
	values[2] = CStringGetTextDatum(environment);
	if (SPI_execute_with_args("SELECT model, start_date, end_date FROM ironlayer.watermarks"
							  " WHERE tenant_id OPERATOR(pg_catalog.=) $1"
							  "   AND repo_id OPERATOR(pg_catalog.=) $2"
							  "   AND environment OPERATOR(pg_catalog.=) $3",
							  3, argtypes, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "watermark look-up failed");
	w = palloc(sizeof(il_plan_watermark) * Max(SPI_processed, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		isnull;

		w[i].model = SPI_getvalue(t, td, 1);
		w[i].start = date_to_il(DatumGetDateADT(SPI_getbinval(t, td, 2, &isnull)), "a watermark");
		w[i].end = date_to_il(DatumGetDateADT(SPI_getbinval(t, td, 3, &isnull)), "a watermark");
	}
	*n = SPI_processed;
	return w;
}

/*
 * A plan is made for an environment of the tenant that exists (its
 * watermarks shape the plan, and only there can it be applied). Runs
 * inside SPI.
 */
static void
require_environment(const pg_uuid_t *tenant, const char *environment)
{
	Oid			argtypes[2] = {UUIDOID, TEXTOID};
	Datum		values[2];

	values[0] = UUIDPGetDatum(tenant);
	values[1] = CStringGetTextDatum(environment);
	if (SPI_execute_with_args("SELECT FROM ironlayer.environments"
							  " WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND name OPERATOR(pg_catalog.=) $2",
							  2, argtypes, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "environment look-up failed");
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("environment \"%s\" does not exist", environment),
				 errhint("ironlayer.environments lists them; the plan option \"environment\" names one (default dev).")));
}

/*
 * The commit id after key ("base" or "target") in a plan's canonical text,
 * found without parsing it (a plan of 40,000 steps is 22 MB): keys are
 * sorted, so "base" comes right after "as_of" and "target" is the last.
 */
static char *
commit_of(const char *text, size_t len, const char *key)
{
	size_t		klen = strlen(key);
	size_t		at;

	if (strcmp(key, "\"target\":\"") == 0)
		at = len >= klen + 42 ? len - klen - 42 : 0;
	else
		at = strlen("{\"as_of\":\"YYYY-MM-DD\",");
	if (at + klen + 42 > len || memcmp(text + at, key, klen) != 0 || text[at + klen + 40] != '"')
		elog(ERROR, "unexpected plan text");
	return pnstrdup(text + at + klen, 40);
}

/*
 * Keep a new plan (data[0..len), also as the varlena plan_text); say so in the audit
 * log. A plan stored already is left alone without building a row of its
 * text (tens of MB for tens of thousands of steps). Runs inside SPI.
 */
static void
store_plan(const pg_uuid_t *tenant, const char *plan_id, const char *repo, const char *data,
		   size_t len, text *plan_text, const char *environment, il_date as_of)
{
	Oid			argtypes[8] = {UUIDOID, TEXTOID, TEXTOID, TEXTOID, DATEOID, JSONOID, TEXTOID, TEXTOID};
	Datum		values[8];
	int			ret;

	values[0] = UUIDPGetDatum(tenant);
	values[1] = CStringGetTextDatum(plan_id);
	if (SPI_execute_with_args("SELECT FROM ironlayer.plans"
							  " WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND plan_id OPERATOR(pg_catalog.=) $2",
							  2, argtypes, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "plan look-up failed");
	if (SPI_processed == 1)
		return;
	values[2] = CStringGetTextDatum(repo);
	values[3] = CStringGetTextDatum(environment);
	values[4] = DateADTGetDatum(il_to_date(as_of));
	values[5] = PointerGetDatum(plan_text);
	values[6] = CStringGetTextDatum(commit_of(data, len, "\"base\":\""));
	values[7] = CStringGetTextDatum(commit_of(data, len, "\"target\":\""));
	ret = SPI_execute_with_args("INSERT INTO ironlayer.plans AS p (tenant_id, plan_id, repository, base, target,"
								"                                  environment, as_of, plan, created_by)"
								" VALUES ($1, $2, $3, $7, $8, $4, $5, $6, ironlayer.acting_role())"
								" ON CONFLICT (tenant_id, plan_id) DO NOTHING",
								8, argtypes, values, NULL, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "storing the plan failed");
	if (SPI_processed == 1)
	{
		Oid			atypes[3] = {UUIDOID, TEXTOID, JSONBOID};
		Datum		avalues[3];
		char	   *details = psprintf("{\"repository\": \"%s\", \"environment\": \"%s\"}", repo, environment);

		avalues[0] = UUIDPGetDatum(tenant);
		avalues[1] = CStringGetTextDatum(plan_id);
		avalues[2] = DirectFunctionCall1(jsonb_in, CStringGetDatum(details));
		if (SPI_execute_with_args("SELECT ironlayer._audit($1, 'plan.create', 'plan', $2, $3)",
								  3, atypes, avalues, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "audit append failed");
	}
}

PG_FUNCTION_INFO_V1(ironlayer_plan);
/*
 * ironlayer.plan(repo text, base text, head text, as_of date DEFAULT
 * current_date, options jsonb DEFAULT '{}') returns json
 */
Datum
ironlayer_plan(PG_FUNCTION_ARGS)
{
	pg_uuid_t	tenant;
	char	   *repo;
	char	   *base;
	char	   *head;
	il_date		as_of;
	char	   *options;
	char	   *dir;
	int64		repo_id = 0;
	il_git_repo *git;
	il_plan_options opts;
	il_plan_watermark *wms;
	size_t		nwm;
	il_buf		out = IL_BUF_INIT;
	char		plan_id[IL_SHA256_HEX_LEN + 1];
	il_repo_stats stats;
	il_error	err;
	text	   *result;
	MemoryContext outer = CurrentMemoryContext;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3) || PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("repo, base, head, as_of and options must not be null")));
	/* sizes first, read from the datums' headers (docs/limits.md) */
	ironlayer_check_size("the repository name", PG_GETARG_DATUM(0), 63);
	ironlayer_check_size("the base revision", PG_GETARG_DATUM(1), PLAN_REVISION_MAX);
	ironlayer_check_size("the head revision", PG_GETARG_DATUM(2), PLAN_REVISION_MAX);
	ironlayer_check_size("the options object", PG_GETARG_DATUM(4), PLAN_OPTIONS_MAX);
	ironlayer_require_tenant_role(&tenant, "engineer", "make plans");
	repo = text_to_cstring(PG_GETARG_TEXT_PP(0));
	base = text_to_cstring(PG_GETARG_TEXT_PP(1));
	head = text_to_cstring(PG_GETARG_TEXT_PP(2));
	as_of = date_to_il(PG_GETARG_DATEADT(3), "as_of");
	{
		Jsonb	   *jb = PG_GETARG_JSONB_P(4);

		options = JsonbToCString(NULL, &jb->root, VARSIZE(jb));
	}

	git = ironlayer_open_tenant_repo(repo, &dir, &repo_id);

	/* the core's memory (opts, out) goes with this call's, error or not */
	il_plan_options_init(&opts);
	il_error_clear(&err);
	if (il_plan_options_parse(options, strlen(options), &opts, &err) != 0)
		ironlayer_raise(&err, NULL, NULL, NULL);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	require_environment(&tenant, opts.environment);
	wms = read_watermarks(&tenant, repo_id, opts.environment, &nwm);
	/* out lives in SPI's memory: freed here before SPI_finish */
	if (il_plan_from_git(git, base, head, dir, ironlayer_parse_cache(), as_of, &opts, wms, nwm,
						 &out, plan_id, &stats, &err) != 0 || out.oom)
	{
		ironlayer_parse_cache_flush();
		if (err.code == NULL)
			il_error_set(&err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory while planning");
		ironlayer_raise(&err, NULL, NULL, NULL);
	}
	ironlayer_report_cache_stats(&stats);
	/* the result outlives SPI's memory */
	{
		MemoryContext old = MemoryContextSwitchTo(outer);

		result = cstring_to_text_with_len(out.data, (int) out.len);
		MemoryContextSwitchTo(old);
	}
	store_plan(&tenant, plan_id, repo, out.data, out.len, result, opts.environment, as_of);
	il_buf_free(&out);
	SPI_finish();
	il_plan_options_free(&opts);
	ironlayer_parse_cache_flush();
	PG_RETURN_TEXT_P(result);
}
