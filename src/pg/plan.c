/*-------------------------------------------------------------------------
 *
 * plan.c
 *	  ironlayer.plan(): the deterministic plan of a tenant's repository
 *	  (src/core/il_plan.c), stored in ironlayer.plans.
 *
 * Thin: checks the caller, converts the arguments, takes a NULL base or
 * head from what the plan's environment deployed (ironlayer.deployments),
 * reads the watermarks of that environment, lets the core plan, stores the canonical text
 * under its id (one row however often the same plan is made), with a row of
 * ironlayer.plan_steps per step, and returns the text itself, byte for
 * byte, as json. What is stored besides the text (the commits, the steps,
 * their edges both ways) comes from the planner's result (il_plan_result),
 * never from reading the text back.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "datatype/timestamp.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
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
		w[i].start = ironlayer_date_to_il(DatumGetDateADT(SPI_getbinval(t, td, 2, &isnull)), "a watermark");
		w[i].end = ironlayer_date_to_il(DatumGetDateADT(SPI_getbinval(t, td, 3, &isnull)), "a watermark");
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
 * The commit of the repository the environment deployed (palloc'd), or
 * NULL when nothing is deployed there. Runs inside SPI.
 */
static char *
deployed_commit(const pg_uuid_t *tenant, int64 repo_id, const char *environment)
{
	Oid			argtypes[3] = {UUIDOID, INT8OID, TEXTOID};
	Datum		values[3];

	values[0] = UUIDPGetDatum(tenant);
	values[1] = Int64GetDatum(repo_id);
	values[2] = CStringGetTextDatum(environment);
	if (SPI_execute_with_args("SELECT ironlayer._deployed_commit($1, $2, $3)",
							  3, argtypes, values, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "deployment look-up failed");
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

/* The text of a text[] of the ids of steps at[0..n): "{id,id}". */
static char *
ids_literal(const il_plan_result *res, const size_t *at, size_t n)
{
	StringInfoData b;
	size_t		i;

	initStringInfo(&b);
	appendStringInfoChar(&b, '{');
	for (i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoChar(&b, ',');
		appendBinaryStringInfo(&b, res->steps[at[i]].step_id, IL_SHA256_HEX_LEN);
	}
	appendStringInfoChar(&b, '}');
	return b.data;
}

/*
 * The rows of ironlayer.plan_steps of a new plan, from the planner's
 * result (the fields of each step, its depends_on and dependents), in one
 * statement. Runs inside SPI.
 */
static void
store_steps(const pg_uuid_t *tenant, const il_plan_result *res)
{
	size_t		n = res->n_steps;
	Oid			argtypes[14] = {UUIDOID, TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
		TEXTARRAYOID, TEXTARRAYOID, DATEARRAYOID, DATEARRAYOID, INT4ARRAYOID, TEXTARRAYOID,
	TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID};
	Datum		values[14];
	const char **text[9];
	Datum	   *starts = palloc(sizeof(Datum) * Max(n, 1));
	Datum	   *ends = palloc(sizeof(Datum) * Max(n, 1));
	Datum	   *groups = palloc(sizeof(Datum) * Max(n, 1));
	bool	   *nulls = palloc(sizeof(bool) * Max(n, 1));
	int			dims[1] = {(int) n};
	int			lbs[1] = {1};
	size_t		i;
	int			k;

	if (n == 0)
		return;
	for (k = 0; k < 9; k++)
		text[k] = palloc(sizeof(char *) * n);
	for (i = 0; i < n; i++)
	{
		const il_plan_step *st = &res->steps[i];

		text[0][i] = st->step_id;
		text[1][i] = st->model;
		text[2][i] = st->kind;
		text[3][i] = st->materialization;
		text[4][i] = st->full_refresh ? "FULL_REFRESH" : "INCREMENTAL";
		text[5][i] = st->reason;
		text[6][i] = st->sql_sha256;
		text[7][i] = ids_literal(res, st->upstream, st->n_upstream);
		text[8][i] = ids_literal(res, st->dependents, st->n_dependents);
		nulls[i] = st->full_refresh;
		starts[i] = nulls[i] ? (Datum) 0 : DateADTGetDatum(ironlayer_date_from_il(st->start));
		ends[i] = nulls[i] ? (Datum) 0 : DateADTGetDatum(ironlayer_date_from_il(st->end));
		groups[i] = Int32GetDatum((int32) st->parallel_group);
	}
	values[0] = UUIDPGetDatum(tenant);
	values[1] = CStringGetTextDatum(res->plan_id);
	for (k = 0; k < 5; k++)
		values[2 + k] = ironlayer_text_array(text[k], n);
	values[7] = PointerGetDatum(construct_md_array(starts, nulls, 1, dims, lbs, DATEOID, 4, true, TYPALIGN_INT));
	values[8] = PointerGetDatum(construct_md_array(ends, nulls, 1, dims, lbs, DATEOID, 4, true, TYPALIGN_INT));
	values[9] = PointerGetDatum(construct_array(groups, (int) n, INT4OID, 4, true, TYPALIGN_INT));
	values[10] = ironlayer_text_array(text[5], n);
	values[11] = ironlayer_text_array(text[6], n);
	/* depends_on and dependents: each step's as the text of a text[] */
	values[12] = ironlayer_text_array(text[7], n);
	values[13] = ironlayer_text_array(text[8], n);
	if (SPI_execute_with_args("INSERT INTO ironlayer.plan_steps (tenant_id, plan_id, step_index, step_id, model,"
							  "       kind, materialization, run_type, start_date, end_date, parallel_group,"
							  "       depends_on, reason, sql_sha256, dependents)"
							  " SELECT $1, $2, (u.i OPERATOR(pg_catalog.-) 1)::int, u.step_id, u.model, u.kind,"
							  "        u.materialization, u.run_type, u.start_date, u.end_date, u.parallel_group,"
							  "        u.depends_on::text[], u.reason, u.sql_sha256, u.dependents::text[]"
							  "   FROM ROWS FROM (pg_catalog.unnest($3), pg_catalog.unnest($4), pg_catalog.unnest($5),"
							  "                   pg_catalog.unnest($6), pg_catalog.unnest($7), pg_catalog.unnest($8),"
							  "                   pg_catalog.unnest($9), pg_catalog.unnest($10), pg_catalog.unnest($11),"
							  "                   pg_catalog.unnest($12), pg_catalog.unnest($13), pg_catalog.unnest($14))"
							  "        WITH ORDINALITY AS u(step_id, model, kind, materialization, run_type, start_date,"
							  "                             end_date, parallel_group, reason, sql_sha256, depends_on,"
							  "                             dependents, i)",
							  14, argtypes, values, NULL, false, 0) != SPI_OK_INSERT || SPI_processed != n)
		elog(ERROR, "storing the plan's steps failed");
}

/*
 * Keep a new plan (data[0..len), also as the varlena plan_text); say so in the audit
 * log. A plan stored already is left alone without building a row of its
 * text (tens of MB for tens of thousands of steps). Runs inside SPI.
 */
static void
store_plan(const pg_uuid_t *tenant, const il_plan_result *res, const char *repo, text *plan_text,
		   const char *environment, il_date as_of, const char *kind)
{
	Oid			argtypes[9] = {UUIDOID, TEXTOID, TEXTOID, TEXTOID, DATEOID, JSONOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[9];
	int			ret;

	values[0] = UUIDPGetDatum(tenant);
	values[1] = CStringGetTextDatum(res->plan_id);
	if (SPI_execute_with_args("SELECT FROM ironlayer.plans"
							  " WHERE tenant_id OPERATOR(pg_catalog.=) $1 AND plan_id OPERATOR(pg_catalog.=) $2",
							  2, argtypes, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "plan look-up failed");
	if (SPI_processed == 1)
		return;
	values[2] = CStringGetTextDatum(repo);
	values[3] = CStringGetTextDatum(environment);
	values[4] = DateADTGetDatum(ironlayer_date_from_il(as_of));
	values[5] = PointerGetDatum(plan_text);
	values[6] = CStringGetTextDatum(res->base);
	values[7] = CStringGetTextDatum(res->target);
	values[8] = CStringGetTextDatum(kind);
	ret = SPI_execute_with_args("INSERT INTO ironlayer.plans AS p (tenant_id, plan_id, repository, base, target,"
								"                                  environment, as_of, plan, created_by, kind)"
								" VALUES ($1, $2, $3, $7, $8, $4, $5, $6, ironlayer.acting_role(), $9)"
								" ON CONFLICT (tenant_id, plan_id) DO NOTHING",
								9, argtypes, values, NULL, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "storing the plan failed");
	if (SPI_processed == 1)
	{
		Oid			atypes[3] = {UUIDOID, TEXTOID, JSONBOID};
		Datum		avalues[3];
		char	   *details = psprintf("{\"repository\": \"%s\", \"environment\": \"%s\", \"kind\": \"%s\"}",
									   repo, environment, kind);

		store_steps(tenant, res);
		avalues[0] = UUIDPGetDatum(tenant);
		avalues[1] = CStringGetTextDatum(res->plan_id);
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
 *
 * A change plan's NULL base is the commit the environment deployed, or
 * git's null id (nothing: every model is added) when it deployed none. A
 * refresh or backfill plan takes no base; its NULL head is the deployed
 * commit, and nothing deployed is a conflict (PT409, HTTP 409).
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
	il_plan_result res = IL_PLAN_RESULT_INIT;
	il_repo_stats stats;
	il_error	err;
	text	   *result;
	MemoryContext outer = CurrentMemoryContext;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(3) || PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("repo, as_of and options must not be null")));
	/* sizes first, read from the datums' headers (docs/limits.md) */
	ironlayer_check_size("the repository name", PG_GETARG_DATUM(0), 63);
	if (!PG_ARGISNULL(1))
		ironlayer_check_size("the base revision", PG_GETARG_DATUM(1), PLAN_REVISION_MAX);
	if (!PG_ARGISNULL(2))
		ironlayer_check_size("the head revision", PG_GETARG_DATUM(2), PLAN_REVISION_MAX);
	ironlayer_check_size("the options object", PG_GETARG_DATUM(4), PLAN_OPTIONS_MAX);
	ironlayer_require_tenant_role(&tenant, "engineer", "make plans");
	repo = text_to_cstring(PG_GETARG_TEXT_PP(0));
	base = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	head = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	as_of = ironlayer_date_to_il(PG_GETARG_DATEADT(3), "as_of");
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
	if (opts.kind == IL_PLAN_CHANGE)
	{
		if (head == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("a change plan needs a head revision"),
					 errhint("A NULL base is what the environment deployed; the head is the commit to deploy.")));
		if (base == NULL)
		{
			base = deployed_commit(&tenant, repo_id, opts.environment);
			if (base == NULL)
				base = pstrdup(IL_PLAN_NULL_BASE);
		}
	}
	else
	{
		if (base != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a %s plan takes no base revision", il_plan_kind_name(opts.kind)),
					 errdetail("A %s plan is made at one commit: the head, or what the environment deployed.",
							   il_plan_kind_name(opts.kind)),
					 errhint("Give NULL as the base.")));
		if (head == NULL)
		{
			head = deployed_commit(&tenant, repo_id, opts.environment);
			if (head == NULL)
				ereport(ERROR,
						(errcode(MAKE_SQLSTATE('P', 'T', '4', '0', '9')),
						 errmsg("nothing of repository \"%s\" is deployed in %s", repo, opts.environment),
						 errdetail("A %s plan with no head is made at the commit the environment deployed.",
								   il_plan_kind_name(opts.kind)),
						 errhint("Deploy first: apply a change plan made with a NULL base, ironlayer.plan(repo, NULL, head, as_of, '{\"environment\": \"%s\"}'); or give a head.",
								 opts.environment)));
		}
	}
	wms = read_watermarks(&tenant, repo_id, opts.environment, &nwm);
	/* out and res live in SPI's memory: freed here before SPI_finish */
	if (il_plan_from_git_result(git, base, head, dir, ironlayer_parse_cache(), as_of, &opts, wms, nwm,
								&out, &res, &stats, &err) != 0 || out.oom)
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
	store_plan(&tenant, &res, repo, result, opts.environment, as_of, il_plan_kind_name(opts.kind));
	il_buf_free(&out);
	il_plan_result_free(&res);
	SPI_finish();
	il_plan_options_free(&opts);
	ironlayer_parse_cache_flush();
	PG_RETURN_TEXT_P(result);
}
