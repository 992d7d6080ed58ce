/*-------------------------------------------------------------------------
 *
 * exec_postgres.c
 *	  The local executor, postgres: a claimed step's model rendered for
 *	  PostgreSQL and run on this server, inside the caller's transaction
 *	  (executor.h; docs/runs.md, "The local executor").
 *
 * executor.c has locked the step, read its run and checked the model's
 * text. prepare renders the query from the edit list the model's parse
 * record holds, without lexing it again (il_render_query_edits: model
 * references to "<schema_prefix><schema>"."<table>", date templates,
 * constructs PostgreSQL cannot run refused by name, the guard on the
 * rendered text, ';' blanked), checks run_as and makes the model's schema;
 * submit (run_as_role) wraps the query in the statements of the model's
 * materialization and runs them with SPI as the environment's run_as role.
 *
 * Identities. The extension owner creates missing target schemas (owned by
 * run_as). Model SQL runs as run_as (never a superuser, checked again
 * here), inside a security-restricted operation, with search_path
 * "pg_catalog, pg_temp" and row_security on; settings it changes are
 * undone when it returns. While it runs, ironlayer's API sees run_as as
 * the acting role and no tenant binding (tenant.c, "model SQL"), whoever
 * called the executor.
 *
 * Bounds. Each statement of model SQL runs under the environment's
 * statement_timeout (bounds.c: a timer of its own, so a caller's statement
 * timeout is left alone; 57014 when it fires, the process ended if the
 * statement goes on) and lock_timeout (55P03), and within the step's memory
 * limit; the executor's own lock waits are bounded by the function's
 * lock_timeout. It writes only schemas and relations run_as owns.
 * No lock it waits on can be taken by a role without ironlayer's rights: a
 * missing target schema is created under a row of ironlayer.target_schemas,
 * which only ironlayer writes (two steps that make one new schema take
 * turns: the second waits for the first step's commit, at most the
 * environment's statement_timeout).
 *
 * Errors. An error raised while the model's statements run leaves with the
 * step's context (step_error_context; run_steps stores its message and
 * hint): one that does not name the model says "(model M ran as role R)";
 * PostgreSQL's "permission denied for table t" names t with its schema when
 * the model reads one relation of that name, and gets the GRANT run_as
 * needs as its hint. String work only, on what prepare gathered.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/resource.h>

#include "access/relation.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "datatype/timestamp.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "nodes/value.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/uuid.h"

#include "il_render.h"
#include "il_sha256.h"
#include "executor.h"
#include "ironlayer.h"

/* Suffix of the table a full refresh builds before it takes the old one's place. */
#define NEW_SUFFIX "__ironlayer_new"

/* ------------------------------------------------------------- helpers */

/*
 * A column named in the header (time_column, an item of unique_key) as
 * PostgreSQL names the query's result column: `quoted` keeps its case, a
 * plain name is folded to lower case, as PostgreSQL folds an unquoted
 * alias. A dotted path (a struct field in Databricks) is refused.
 */
static char *
header_column(const Step *st, const char *written, const char *key)
{
	size_t		n = strlen(written);
	StringInfoData b;
	size_t		i;

	initStringInfo(&b);
	if (n >= 2 && written[0] == '`' && written[n - 1] == '`')
	{
		for (i = 1; i + 1 < n; i++)
		{
			if (written[i] == '`')
			{
				if (i + 2 < n && written[i + 1] == '`')
				{
					appendStringInfoChar(&b, '`');
					i++;
					continue;
				}
				goto dotted;
			}
			appendStringInfoChar(&b, written[i]);
		}
		return b.data;
	}
	for (i = 0; i < n; i++)
	{
		char		c = written[i];

		if (c == '.' || c == '`')
			goto dotted;
		appendStringInfoChar(&b, (c >= 'A' && c <= 'Z') ? (char) (c + ('a' - 'A')) : c);
	}
	return b.data;

dotted:
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("model %s: %s %s is a path into a nested column, which the postgres executor cannot use",
					st->model, key, written),
			 errhint("Name a column of the model's result.")));
	return NULL;				/* keep the compiler quiet */
}

/* Is name among the columns (a List of char *)? */
static bool
has_column(List *columns, const char *name)
{
	ListCell   *lc;

	foreach(lc, columns)
		if (strcmp((const char *) lfirst(lc), name) == 0)
			return true;
	return false;
}

/* "a, b, c" of a List of char *, for messages. */
static char *
column_list(List *columns)
{
	StringInfoData b;
	ListCell   *lc;

	initStringInfo(&b);
	foreach(lc, columns)
		appendStringInfo(&b, "%s%s", b.len ? ", " : "", (const char *) lfirst(lc));
	return b.data;
}

/* ------------------------------------------- the postgres executor's prepare */

/*
 * The run_as role of the environment: set, existing, and (checked again
 * here, as roles change) fit to run model SQL.
 */
static void
check_run_as(Step *st)
{
	Oid			types[1] = {NAMEOID};
	Datum		values[1];

	if (st->run_as_name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("environment \"%s\" has no run_as role", st->environment),
				 errhint("A tenant admin sets one: ironlayer.set_environment(name, '{\"run_as\": \"role\"}').")));
	st->run_as = get_role_oid(st->run_as_name, true);
	if (!OidIsValid(st->run_as))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("run_as role \"%s\" of environment \"%s\" does not exist",
						st->run_as_name, st->environment)));
	values[0] = DirectFunctionCall1(namein, CStringGetDatum(st->run_as_name));
	if (SPI_execute_with_args("SELECT ironlayer._check_run_as($1)", 1, types, values, NULL, false, 0)
		!= SPI_OK_SELECT)
		elog(ERROR, "run_as check failed");
}

static void ensure_schema(const Step *st);

/*
 * What the model reads, as PostgreSQL names it: its upstream models'
 * relations (with the environment's schema prefix) and its external
 * sources (a catalog dropped, as rendering drops it), each a list of two
 * String nodes (schema, table). A source of one part names no schema and
 * is left out. Only the context of the step's errors uses it.
 */
static List *
model_reads(const Step *st, const il_repo_model *m)
{
	List	   *reads = NIL;
	il_buf		rel;
	il_error	err;
	size_t		i;

	for (i = 0; i < m->n_upstream + m->n_sources; i++)
	{
		bool		upstream = i < m->n_upstream;
		const char *name = upstream ? m->upstream[i] : m->sources[i - m->n_upstream];
		List	   *parts;

		il_buf_init(&rel);
		il_error_clear(&err);
		if (il_render_relation(name, upstream ? st->schema_prefix : "", &rel, &err) == 0 && rel.data)
		{
			parts = stringToQualifiedNameList(rel.data);
			if (list_length(parts) == 2)
				reads = lappend(reads, parts);
		}
		il_buf_free(&rel);
	}
	return reads;
}

/*
 * The query rendered for PostgreSQL from the edit list the parse record
 * holds, without lexing the file again (load_model made sure the record is
 * this text's), its ';' blanked (lines and columns stay the file's); the
 * model's relation; run_as checked; the model's schema made.
 */
static ExecState
postgres_prepare(Step *st, const ModelText *text)
{
	il_buf		sql;
	il_buf		relation;
	il_error	err;

	check_run_as(st);
	il_buf_init(&sql);
	il_buf_init(&relation);
	il_error_clear(&err);
	if (il_render_query_edits(text->text, text->len, text->m->render_edits, text->m->render_edits_len,
							  text->models->dag, text->node, st->schema_prefix,
							  st->start[0] ? st->start : NULL, st->end[0] ? st->end : NULL, &sql, &err) != 0)
		executor_render_error(st, text->m->path, &err);
	if (il_render_relation(text->m->name, st->schema_prefix, &relation, &err) != 0)
		executor_render_error(st, text->m->path, &err);
	st->sql = pstrdup(sql.data ? sql.data : "");
	st->relation = pstrdup(relation.data);
	il_buf_free(&sql);
	il_buf_free(&relation);

	/* "schema"."table" as PostgreSQL reads it */
	{
		List	   *parts = stringToQualifiedNameList(st->relation);

		if (list_length(parts) != 2)
			elog(ERROR, "unexpected relation %s", st->relation);
		st->schema = pstrdup(strVal(linitial(parts)));
		st->table = pstrdup(strVal(lsecond(parts)));
	}
	st->reads = model_reads(st, text->m);
	ensure_schema(st);
	return EXEC_HERE;
}

/* ------------------------------------------------------------- running */

/*
 * 42501 unless run_as owns what the model writes into (what: 'schema "s"',
 * 'relation "s"."t"').
 */
static void
require_owned(const Step *st, Oid owner, const char *what, const char *hint)
{
	char	   *name;

	if (owner == st->run_as)
		return;
	name = GetUserNameFromId(owner, true);
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("%s of model %s belongs to role \"%s\", not to the environment's run_as \"%s\"",
					what, st->model, name ? name : "?", st->run_as_name),
			 errdetail("The executor writes only into what its run_as role owns."),
			 errhint("%s", hint)));
}

/*
 * A schema the model's relation goes into must be run_as's: another role's
 * (made in advance by anyone who may create schemas) could hold objects
 * that act on what the step writes.
 */
static void
check_schema_owner(const Step *st, Oid nsp)
{
	HeapTuple	tup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nsp));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		return;					/* dropped meanwhile: the step fails later */
	owner = ((Form_pg_namespace) GETSTRUCT(tup))->nspowner;
	ReleaseSysCache(tup);
	require_owned(st, owner, psprintf("schema \"%s\"", st->schema),
				  "A superuser can make run_as its owner: ALTER SCHEMA ... OWNER TO ...");
}

/*
 * Creates the model's schema, owned by run_as, when it does not exist.
 * Runs as the extension owner. The schema's row in ironlayer.target_schemas
 * goes in first: two transactions that create one schema take turns on its
 * key (the second finds the schema made) instead of the second failing on
 * pg_namespace's unique index, and no role without ironlayer's rights can
 * hold that key (an advisory lock could be held by anyone who can connect).
 * A schema that ironlayer made for another tenant is refused.
 */
static void
ensure_schema(const Step *st)
{
	Oid			types[3] = {UUIDOID, TEXTOID, TEXTOID};
	Datum		values[3];
	char	   *sql;
	char		wait[32];
	int			save_nestlevel;
	Oid			nsp = get_namespace_oid(st->schema, true);

	if (OidIsValid(nsp))
	{
		check_schema_owner(st, nsp);
		return;
	}
	values[0] = UUIDPGetDatum(&st->tenant);
	values[1] = CStringGetTextDatum(st->schema);
	values[2] = CStringGetTextDatum(st->environment);
	/* another step making the schema holds its key until it commits */
	snprintf(wait, sizeof(wait), "%dms", st->statement_timeout);
	save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("lock_timeout", wait, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	if (SPI_execute_with_args("INSERT INTO ironlayer.target_schemas (tenant_id, schema, environment)"
							  " VALUES ($1, $2, $3) ON CONFLICT (schema) DO NOTHING",
							  3, types, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "target schema insert failed");
	AtEOXact_GUC(true, save_nestlevel);
	if (SPI_processed == 0)
	{
		/* made by another step's transaction, which has committed by now */
		if (SPI_execute_with_args("SELECT 1 FROM ironlayer.target_schemas"
								  " WHERE schema OPERATOR(pg_catalog.=) $2"
								  "   AND tenant_id OPERATOR(pg_catalog.<>) $1",
								  2, types, values, NULL, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "target schema look-up failed");
		if (SPI_processed > 0)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("schema \"%s\" of model %s belongs to another tenant", st->schema, st->model),
					 errhint("Each tenant's environments write under their own schema prefix; see ironlayer.environments.")));
		AcceptInvalidationMessages();
		nsp = get_namespace_oid(st->schema, true);
		if (OidIsValid(nsp))
		{
			check_schema_owner(st, nsp);
			return;
		}
	}
	sql = psprintf("CREATE SCHEMA IF NOT EXISTS %s AUTHORIZATION %s",
				   quote_identifier(st->schema), quote_identifier(st->run_as_name));
	if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "schema creation failed");
}

/* ------------------------------------------- model SQL, bounded in time */

static void
step_timeout_error(const Step *st)
{
	ereport(ERROR,
			(errcode(ERRCODE_QUERY_CANCELED),
			 errmsg("canceling statement of model %s: it ran past the statement_timeout of environment \"%s\" (%d ms)",
					st->model, st->environment, st->statement_timeout),
			 errhint("A tenant admin can raise it: ironlayer.set_environment(name, '{\"statement_timeout\": \"2h\"}').")));
}

/* What one bounded statement does: run it, or prepare it (result_columns). */
typedef enum BoundedOp
{
	BOUNDED_EXECUTE,
	BOUNDED_PREPARE
} BoundedOp;

/*
 * SPI_execute(sql) or SPI_prepare(sql) under the step's statement timeout
 * (bounds.c). Returns SPI_execute's result code, or sets *plan.
 */
static int
bounded(const Step *st, BoundedOp op, const char *sql, SPIPlanPtr *plan)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile int ret = 0;

	ironlayer_bounds_start(st->statement_timeout);
	PG_TRY();
	{
		if (op == BOUNDED_EXECUTE)
			ret = SPI_execute(sql, false, 0);
		else
			*plan = SPI_prepare(sql, 0, NULL);
	}
	PG_CATCH();
	{
		if (ironlayer_bounds_stop())
		{
			/* the cancel was ours: say so, with the code of a timeout */
			MemoryContextSwitchTo(cxt);
			FlushErrorState();
			step_timeout_error(st);
		}
		PG_RE_THROW();
	}
	PG_END_TRY();
	/* fired as the statement ended: it took the whole timeout anyway */
	if (ironlayer_bounds_stop())
		step_timeout_error(st);
	return ret;
}

/* Runs one statement of the model (as run_as, bounded) and keeps its text for the hash. */
static uint64
run(const Step *st, StringInfo log, const char *sql, int expect)
{
	int			ret = bounded(st, BOUNDED_EXECUTE, sql, NULL);

	if (ret != expect)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("a statement of model %s did not do what it was written to do (%s)",
						st->model, SPI_result_code_string(ret)),
				 errhint("A rule on the model's relation may rewrite it; the executor writes relations without rules.")));
	appendStringInfoString(log, sql);
	appendStringInfoString(log, ";\n");
	return SPI_processed;
}

/*
 * The query's result description (a copy: names, types, typmods,
 * collations), from its plan (the query is parsed and planned, not run).
 * Two result columns of one name are refused.
 */
static TupleDesc
result_desc(const Step *st)
{
	SPIPlanPtr	plan = NULL;
	List	   *sources;
	CachedPlanSource *src;
	TupleDesc	desc;
	int			i;
	int			j;

	(void) bounded(st, BOUNDED_PREPARE, st->sql, &plan);
	if (plan == NULL)
		elog(ERROR, "could not prepare the query of model %s: %s", st->model,
			 SPI_result_code_string(SPI_result));
	sources = SPI_plan_get_plan_sources(plan);
	if (list_length(sources) != 1)
		elog(ERROR, "the query of model %s is not one statement", st->model);
	src = (CachedPlanSource *) linitial(sources);
	if (src->resultDesc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("model %s returns no rows", st->model),
				 errhint("Write the model as one query.")));
	desc = CreateTupleDescCopy(src->resultDesc);
	SPI_freeplan(plan);
	for (i = 0; i < desc->natts; i++)
		for (j = 0; j < i; j++)
			if (strcmp(NameStr(TupleDescAttr(desc, i)->attname), NameStr(TupleDescAttr(desc, j)->attname)) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_COLUMN),
						 errmsg("model %s returns two columns named \"%s\"", st->model,
								NameStr(TupleDescAttr(desc, i)->attname)),
						 errhint("Give every column of the query its own name.")));
	return desc;
}

/* The names of the columns of a description, in order. */
static List *
desc_columns(TupleDesc desc)
{
	List	   *columns = NIL;
	int			i;

	for (i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped)
			columns = lappend(columns, pstrdup(NameStr(TupleDescAttr(desc, i)->attname)));
	return columns;
}

/*
 * The model's relation as it exists now: its oid (InvalidOid if none) and
 * kind. The executor writes only what run_as owns and no rule rewrites:
 * a relation that another role made where the model's goes (with the
 * rights to make it there), or one with rules, is refused before anything
 * runs on it.
 */
static Oid
existing_relation(const Step *st, char *relkind)
{
	Oid			nsp = get_namespace_oid(st->schema, true);
	Oid			rel = OidIsValid(nsp) ? get_relname_relid(st->table, nsp) : InvalidOid;
	HeapTuple	tup;
	Oid			owner;
	bool		rules;

	*relkind = '\0';
	if (!OidIsValid(rel))
		return InvalidOid;
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(rel));
	if (!HeapTupleIsValid(tup))
		return InvalidOid;		/* dropped since the name was looked up */
	*relkind = ((Form_pg_class) GETSTRUCT(tup))->relkind;
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	rules = ((Form_pg_class) GETSTRUCT(tup))->relhasrules;
	ReleaseSysCache(tup);
	require_owned(st, owner, psprintf("relation %s", st->relation),
				  "Drop or rename the relation, or make run_as its owner.");
	if (rules && *relkind != RELKIND_VIEW)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("relation %s of model %s has rules", st->relation, st->model),
				 errdetail("A rule could rewrite what the executor writes into it."),
				 errhint("Drop the rules of the relation.")));
	return rel;
}

/* Do two tables have the same columns (names, types, collations) in the same order? */
static bool
same_columns(Oid a, Oid b)
{
	Relation	ra = relation_open(a, AccessShareLock);
	Relation	rb = relation_open(b, AccessShareLock);
	TupleDesc	da = RelationGetDescr(ra);
	TupleDesc	db = RelationGetDescr(rb);
	int			i = 0;
	int			j = 0;
	bool		same = true;

	for (;;)
	{
		Form_pg_attribute x;
		Form_pg_attribute y;

		while (i < da->natts && TupleDescAttr(da, i)->attisdropped)
			i++;
		while (j < db->natts && TupleDescAttr(db, j)->attisdropped)
			j++;
		if (i == da->natts || j == db->natts)
		{
			same = i == da->natts && j == db->natts;
			break;
		}
		x = TupleDescAttr(da, i++);
		y = TupleDescAttr(db, j++);
		if (strcmp(NameStr(x->attname), NameStr(y->attname)) != 0 || x->atttypid != y->atttypid
			|| x->atttypmod != y->atttypmod || x->attcollation != y->attcollation)
		{
			same = false;
			break;
		}
	}
	relation_close(ra, NoLock);
	relation_close(rb, NoLock);
	return same;
}

/*
 * The objects that depend on a relation from outside it (views, foreign
 * keys, functions with SQL bodies), for a message; NULL when there are none.
 */
static char *
dependents(Oid relid)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1];
	bool		isnull;
	Datum		d;

	values[0] = ObjectIdGetDatum(relid);
	if (SPI_execute_with_args("SELECT pg_catalog.string_agg(DISTINCT o, ', ')"
							  "  FROM (SELECT CASE WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass"
							  "                    THEN (SELECT 'view ' OPERATOR(pg_catalog.||) r.ev_class::pg_catalog.regclass::text"
							  "                            FROM pg_catalog.pg_rewrite r WHERE r.oid OPERATOR(pg_catalog.=) d.objid)"
							  "                    ELSE pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid) END AS o"
							  "          FROM pg_catalog.pg_depend d"
							  "         WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
							  "           AND d.refobjid OPERATOR(pg_catalog.=) $1"
							  "           AND d.deptype OPERATOR(pg_catalog.=) 'n') x",
							  1, types, values, NULL, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "dependency look-up failed");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? NULL : TextDatumGetCString(d);
}

/* DROP of the model's existing relation, by its kind; nothing may depend on it. */
static void
drop_existing(const Step *st, Oid relid, char relkind, StringInfo log)
{
	const char *what;
	char	   *deps;

	switch (relkind)
	{
		case RELKIND_RELATION:
		case RELKIND_PARTITIONED_TABLE:
			what = "TABLE";
			break;
		case RELKIND_VIEW:
			what = "VIEW";
			break;
		case RELKIND_MATVIEW:
			what = "MATERIALIZED VIEW";
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("relation %s of model %s exists and is not a table or a view", st->relation, st->model),
					 errhint("Drop or rename it; the executor builds a table or a view there.")));
			return;
	}
	deps = dependents(relid);
	if (deps != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("cannot replace %s of model %s while other objects depend on it: %s",
						st->relation, st->model, deps),
				 errdetail("The model's columns changed, so the new rows cannot go into the existing relation."),
				 errhint("Drop the dependent objects (views of models are made again by their steps), then retry the run.")));
	run(st, log, psprintf("DROP %s %s", what, st->relation), SPI_OK_UTILITY);
}

/*
 * A table name with the suffix. A name too long for it is cut at a whole
 * character and told apart from the other names cut alike by 8 hex digits
 * of its SHA-256.
 */
static char *
new_table_name(const char *table)
{
	int			room = NAMEDATALEN - 1 - (int) strlen(NEW_SUFFIX);
	int			len = (int) strlen(table);
	char		sha[IL_SHA256_HEX_LEN + 1];

	if (len <= room)
		return psprintf("%s%s", table, NEW_SUFFIX);
	if (il_sha256_hex(table, len, sha) != 0)
		elog(ERROR, "SHA-256 failed");
	len = pg_mbcliplen(table, len, room - 9);
	return psprintf("%.*s_%.8s%s", len, table, sha, NEW_SUFFIX);
}

/* Column names quoted, joined by ", ", each with a prefix ("s." or ""). */
static char *
quoted_columns(List *columns, const char *prefix)
{
	StringInfoData b;
	ListCell   *lc;

	initStringInfo(&b);
	foreach(lc, columns)
		appendStringInfo(&b, "%s%s%s", b.len ? ", " : "", prefix, quote_identifier((const char *) lfirst(lc)));
	return b.data;
}

/* The attribute of a description named name, or NULL. */
static Form_pg_attribute
desc_column(TupleDesc desc, const char *name)
{
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(desc, i);

		if (!a->attisdropped && strcmp(NameStr(a->attname), name) == 0)
			return a;
	}
	return NULL;
}

/*
 * The rows of an incremental step or a merge go into the existing table by
 * column name. When the query gained or lost columns against the table,
 * the environment's on_schema_change decides (as dbt's):
 *   fail (the default): the step fails (42703), nothing written;
 *   append_new_columns: the new columns are added to the table (existing
 *     rows hold NULL there); columns the query lost stay, NULL in new rows;
 *   sync_all_columns: the new columns are added, the lost ones dropped,
 *     and a column whose type changed takes the query's type.
 * The ALTER TABLE statements run as run_as, like the rest of the step, and
 * count in its statement_sha256.
 */
static void
schema_change(const Step *st, Oid relid, TupleDesc query, StringInfo log)
{
	Relation	r = relation_open(relid, AccessShareLock);
	TupleDesc	table = CreateTupleDescCopy(RelationGetDescr(r));
	List	   *gained = NIL;
	List	   *lost = NIL;
	List	   *retyped = NIL;
	List	   *statements = NIL;
	bool		sync = strcmp(st->on_schema_change, "sync_all_columns") == 0;
	bool		append = sync || strcmp(st->on_schema_change, "append_new_columns") == 0;
	ListCell   *lc;
	int			i;

	relation_close(r, NoLock);
	for (i = 0; i < query->natts; i++)
	{
		Form_pg_attribute q = TupleDescAttr(query, i);
		Form_pg_attribute t = desc_column(table, NameStr(q->attname));

		if (t == NULL)
			gained = lappend(gained, q);
		else if (sync && (t->atttypid != q->atttypid || t->atttypmod != q->atttypmod))
			retyped = lappend(retyped, q);
	}
	for (i = 0; i < table->natts; i++)
	{
		Form_pg_attribute t = TupleDescAttr(table, i);

		if (!t->attisdropped && desc_column(query, NameStr(t->attname)) == NULL)
			lost = lappend(lost, pstrdup(NameStr(t->attname)));
	}
	if (gained == NIL && lost == NIL && retyped == NIL)
		return;
	if (!append)
	{
		StringInfoData names;

		initStringInfo(&names);
		foreach(lc, gained)
			appendStringInfo(&names, "%s%s", names.len ? ", " : "", NameStr(((Form_pg_attribute) lfirst(lc))->attname));
		if (gained != NIL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("model %s returns column%s %s, which table %s lacks", st->model,
							list_length(gained) > 1 ? "s" : "", names.data, st->relation),
					 errdetail("The table has: %s.", column_list(desc_columns(table))),
					 errhint("Set on_schema_change of the environment to append_new_columns or sync_all_columns (ironlayer.set_environment) and retry the run, or rebuild the table: a change plan with the option full_refresh naming %s.", st->model)));
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("model %s no longer returns column%s %s of table %s", st->model,
						list_length(lost) > 1 ? "s" : "", column_list(lost), st->relation),
				 errdetail("The query returns: %s.", column_list(desc_columns(query))),
				 errhint("Set on_schema_change of the environment to append_new_columns or sync_all_columns (ironlayer.set_environment) and retry the run, or rebuild the table: a change plan with the option full_refresh naming %s.", st->model)));
	}
	foreach(lc, gained)
	{
		Form_pg_attribute q = lfirst(lc);

		statements = lappend(statements,
							 psprintf("ALTER TABLE %s ADD COLUMN %s %s", st->relation,
									  quote_identifier(NameStr(q->attname)),
									  format_type_with_typemod(q->atttypid, q->atttypmod)));
	}
	if (sync)
	{
		foreach(lc, lost)
			statements = lappend(statements,
								 psprintf("ALTER TABLE %s DROP COLUMN %s", st->relation,
										  quote_identifier((const char *) lfirst(lc))));
		foreach(lc, retyped)
		{
			Form_pg_attribute q = lfirst(lc);
			const char *c = quote_identifier(NameStr(q->attname));
			char	   *type = format_type_with_typemod(q->atttypid, q->atttypmod);

			statements = lappend(statements,
								 psprintf("ALTER TABLE %s ALTER COLUMN %s TYPE %s USING %s::%s",
										  st->relation, c, type, c, type));
		}
	}
	foreach(lc, statements)
		run(st, log, (const char *) lfirst(lc), SPI_OK_UTILITY);
}

/*
 * The foreign keys of other tables that reference a table, for a message
 * ("constraint k on table t, ..."); NULL when there are none.
 */
static char *
referencing_keys(Oid relid)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1];
	bool		isnull;
	Datum		d;

	values[0] = ObjectIdGetDatum(relid);
	if (SPI_execute_with_args("SELECT pg_catalog.string_agg(pg_catalog.format('constraint %s on table %s', c.conname,"
							  "                                              c.conrelid::pg_catalog.regclass),"
							  "                            ', ' ORDER BY c.conname)"
							  "  FROM pg_catalog.pg_constraint c"
							  " WHERE c.contype OPERATOR(pg_catalog.=) 'f'"
							  "   AND c.confrelid OPERATOR(pg_catalog.=) $1"
							  "   AND c.conrelid OPERATOR(pg_catalog.<>) $1",
							  1, types, values, NULL, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "foreign key look-up failed");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? NULL : TextDatumGetCString(d);
}

/*
 * The privileges granted on the table a full refresh replaces, granted on
 * the table that takes its place (the new table is run_as's, like the old
 * one): what its default privileges gave the new table is revoked, then
 * each grantee gets what it had, with the grant option where it had it.
 * run_as grants them, whoever granted them first. Column privileges are
 * not carried over (the columns may have changed). An old table with the
 * default privileges (no ACL) leaves the new table's as they are.
 */
static void
keep_grants(const Step *st, Oid old_relid, Oid new_relid, const char *new_rel, StringInfo log)
{
	Oid			types[2] = {OIDOID, OIDOID};
	Datum		values[2];
	uint64		i;
	uint64		n;
	List	   *statements = NIL;
	ListCell   *lc;

	values[0] = ObjectIdGetDatum(old_relid);
	values[1] = ObjectIdGetDatum(new_relid);
	/*
	 * kind 0: a grantee of the new table's own ACL (revoked); kind 1: a
	 * grantee's privileges on the old table, without and with the grant
	 * option. The owner (run_as) keeps its own.
	 */
	if (SPI_execute_with_args("SELECT k, a.grantee, a.is_grantable,"
							  "       pg_catalog.string_agg(a.privilege_type, ', ' ORDER BY a.privilege_type)"
							  "  FROM (SELECT 0 AS k, x.* FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) x"
							  "         WHERE c.oid OPERATOR(pg_catalog.=) $2"
							  "           AND x.grantee OPERATOR(pg_catalog.<>) c.relowner"
							  "        UNION ALL"
							  "        SELECT 1, x.* FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) x"
							  "         WHERE c.oid OPERATOR(pg_catalog.=) $1"
							  "           AND x.grantee OPERATOR(pg_catalog.<>) c.relowner) a"
							  " WHERE EXISTS (SELECT FROM pg_catalog.pg_class o"
							  "                WHERE o.oid OPERATOR(pg_catalog.=) $1 AND o.relacl IS NOT NULL)"
							  " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
							  2, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "privilege look-up failed");
	n = SPI_processed;
	for (i = 0; i < n; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		isnull;
		int			kind = DatumGetInt32(SPI_getbinval(t, td, 1, &isnull));
		Oid			grantee = DatumGetObjectId(SPI_getbinval(t, td, 2, &isnull));
		bool		grantable = DatumGetBool(SPI_getbinval(t, td, 3, &isnull));
		char	   *privileges = TextDatumGetCString(SPI_getbinval(t, td, 4, &isnull));
		const char *who = "PUBLIC";

		if (OidIsValid(grantee))
		{
			char	   *name = GetUserNameFromId(grantee, true);

			if (name == NULL)
				continue;		/* dropped meanwhile */
			who = quote_identifier(name);
		}
		if (kind == 0)
			statements = lappend(statements, psprintf("REVOKE ALL ON %s FROM %s", new_rel, who));
		else
			statements = lappend(statements, psprintf("GRANT %s ON %s TO %s%s", privileges, new_rel, who,
													  grantable ? " WITH GRANT OPTION" : ""));
	}
	foreach(lc, statements)
		run(st, log, (const char *) lfirst(lc), SPI_OK_UTILITY);
}

/*
 * A full refresh: the query's rows replace the table's, all in this
 * transaction, so readers see the old rows or the new ones, never a half.
 * The new table is built beside the old one, which is then dropped and
 * the new one renamed into its place with the old one's grants
 * (keep_grants); when other objects (views of other models) depend on the
 * old table and the columns did not change, the old table keeps its
 * identity, and its grants, and takes the new rows instead.
 */
static int64
full_refresh(const Step *st, Oid relid, char relkind, StringInfo log)
{
	char	   *new_table;
	char	   *new_rel;
	Oid			new_relid;
	int64		rows;

	if (!OidIsValid(relid))
		return (int64) run(st, log, psprintf("CREATE TABLE %s AS\n%s\n", st->relation, st->sql), SPI_OK_UTILITY);

	new_table = new_table_name(st->table);
	new_rel = psprintf("%s.%s", quote_identifier(st->schema), quote_identifier(new_table));
	rows = (int64) run(st, log, psprintf("CREATE TABLE %s AS\n%s\n", new_rel, st->sql), SPI_OK_UTILITY);
	if ((relkind == RELKIND_RELATION || relkind == RELKIND_PARTITIONED_TABLE) && dependents(relid) != NULL)
	{
		new_relid = get_relname_relid(new_table, get_namespace_oid(st->schema, false));
		if (same_columns(relid, new_relid))
		{
			char	   *keys = referencing_keys(relid);

			/* TRUNCATE refuses them, and no DELETE could take every row */
			if (keys != NULL)
				ereport(ERROR,
						(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
						 errmsg("cannot refresh %s of model %s while foreign keys of other tables reference it: %s",
								st->relation, st->model, keys),
						 errdetail("A full refresh replaces every row of the table."),
						 errhint("Drop the foreign keys, then retry the run.")));
			run(st, log, psprintf("TRUNCATE %s", st->relation), SPI_OK_UTILITY);
			run(st, log, psprintf("INSERT INTO %s SELECT * FROM %s", st->relation, new_rel), SPI_OK_INSERT);
			run(st, log, psprintf("DROP TABLE %s", new_rel), SPI_OK_UTILITY);
			return rows;
		}
	}
	if (relkind == RELKIND_RELATION || relkind == RELKIND_PARTITIONED_TABLE)
		keep_grants(st, relid, get_relname_relid(new_table, get_namespace_oid(st->schema, false)), new_rel, log);
	drop_existing(st, relid, relkind, log);
	run(st, log, psprintf("ALTER TABLE %s RENAME TO %s", new_rel, quote_identifier(st->table)), SPI_OK_UTILITY);
	return rows;
}

/* MERGE_BY_KEY into the existing table: update rows of known keys, insert the others. */
static int64
merge(const Step *st, Oid relid, StringInfo log)
{
	TupleDesc	desc = result_desc(st);
	List	   *columns = desc_columns(desc);
	List	   *keys = NIL;
	List	   *others = NIL;
	StringInfoData sql;
	ListCell   *lc;
	bool		first = true;

	foreach(lc, st->unique_key)
	{
		char	   *k = header_column(st, (const char *) lfirst(lc), "unique_key");

		if (!has_column(columns, k))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("unique_key column \"%s\" is not a column of model %s", k, st->model),
					 errdetail("The query returns: %s.", column_list(columns))));
		if (!has_column(keys, k))
			keys = lappend(keys, k);
	}
	schema_change(st, relid, desc, log);
	foreach(lc, columns)
		if (!has_column(keys, (const char *) lfirst(lc)))
			others = lappend(others, lfirst(lc));
	initStringInfo(&sql);
	appendStringInfo(&sql, "MERGE INTO %s AS t\nUSING (\n%s\n) AS s\nON ", st->relation, st->sql);
	foreach(lc, keys)
	{
		const char *q = quote_identifier((const char *) lfirst(lc));

		appendStringInfo(&sql, "%st.%s = s.%s", first ? "" : " AND ", q, q);
		first = false;
	}
	if (others != NIL)
	{
		appendStringInfoString(&sql, "\nWHEN MATCHED THEN UPDATE SET ");
		first = true;
		foreach(lc, others)
		{
			const char *q = quote_identifier((const char *) lfirst(lc));

			appendStringInfo(&sql, "%s%s = s.%s", first ? "" : ", ", q, q);
			first = false;
		}
	}
	appendStringInfo(&sql, "\nWHEN NOT MATCHED THEN INSERT (%s) VALUES (%s)",
					 quoted_columns(columns, ""), quoted_columns(columns, "s."));
	return (int64) run(st, log, sql.data, SPI_OK_MERGE);
}

/*
 * An incremental step of an INCREMENTAL_BY_TIME_RANGE model, or of an
 * APPEND_ONLY one with a time_column: the step's range is replaced, so
 * running it again (the planner loads the watermark's last day again)
 * never duplicates rows. The range is `time_column >= start AND
 * time_column < end + 1`, so a timestamp column's whole end day is in it.
 * An APPEND_ONLY model without a time_column adds only the rows the table
 * does not hold yet (a set difference). The table is created empty, in
 * the query's shape, when missing.
 */
static int64
incremental(const Step *st, Oid relid, char relkind, StringInfo log)
{
	TupleDesc	desc = result_desc(st);
	List	   *columns = desc_columns(desc);
	char	   *cols = quoted_columns(columns, "");
	char	   *tc = NULL;

	if (st->kind == IL_KIND_INCREMENTAL_BY_TIME_RANGE && st->time_column == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model %s of kind INCREMENTAL_BY_TIME_RANGE has no time_column", st->model)));
	if (st->time_column != NULL)
	{
		tc = header_column(st, st->time_column, "time_column");
		if (!has_column(columns, tc))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("time_column \"%s\" is not a column of model %s", tc, st->model),
					 errdetail("The query returns: %s.", column_list(columns))));
	}
	if (!OidIsValid(relid))
		run(st, log, psprintf("CREATE TABLE %s AS SELECT * FROM (\n%s\n) AS q WITH NO DATA",
						  st->relation, st->sql), SPI_OK_UTILITY);
	else if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("relation %s of model %s is not a table", st->relation, st->model),
				 errhint("Run a full refresh of the model (the plan option full_refresh) to rebuild it.")));
	else
		schema_change(st, relid, desc, log);
	/* the range is replaced: running it again never duplicates rows */
	if (tc != NULL)
	{
		run(st, log, psprintf("DELETE FROM %s WHERE %s >= DATE '%s' AND %s < DATE '%s' + 1",
						  st->relation, quote_identifier(tc), st->start, quote_identifier(tc), st->end),
			SPI_OK_DELETE);
		return (int64) run(st, log, psprintf("INSERT INTO %s (%s)\nSELECT %s FROM (\n%s\n) AS q",
										 st->relation, cols, cols, st->sql), SPI_OK_INSERT);
	}
	/* no range to replace: only the rows not there yet */
	return (int64) run(st, log, psprintf("INSERT INTO %s (%s)\nSELECT %s FROM (\n%s\n) AS q\nEXCEPT\nSELECT %s FROM %s",
									 st->relation, cols, cols, st->sql, cols, st->relation), SPI_OK_INSERT);
}

/*
 * The statements of the model's materialization, as run_as. Returns the
 * rows written (the new table's, inserted or merged; 0 for a view).
 */
static int64
materialize(const Step *st, StringInfo log)
{
	char		relkind;
	Oid			relid = existing_relation(st, &relkind);
	bool		is_table = relkind == RELKIND_RELATION || relkind == RELKIND_PARTITIONED_TABLE;

	if (st->materialization == IL_MAT_VIEW)
	{
		/* a table of the model becomes a view once its materialization says so */
		if (OidIsValid(relid) && relkind != RELKIND_VIEW)
			drop_existing(st, relid, relkind, log);
		run(st, log, psprintf("CREATE OR REPLACE VIEW %s AS\n%s\n", st->relation, st->sql), SPI_OK_UTILITY);
		return 0;
	}
	/* a MERGE_BY_KEY model is rebuilt when its step is a full refresh */
	if (st->kind == IL_KIND_MERGE_BY_KEY && is_table && !st->full_refresh)
		return merge(st, relid, log);
	if (st->kind == IL_KIND_MERGE_BY_KEY)
		return full_refresh(st, relid, relkind, log);
	if (st->full_refresh || st->kind == IL_KIND_FULL_REFRESH)
		return full_refresh(st, relid, relkind, log);
	return incremental(st, relid, relkind, log);
}

/* ------------------------------------------------ the context of errors */

/* What "permission denied for <kind> <name>" (PostgreSQL's aclcheck) names. */
typedef struct DeniedKind
{
	const char *kind;			/* as the message says it */
	const char *privilege;		/* what run_as lacks, in the usual case */
	bool		relation;		/* resolved against what the model reads */
} DeniedKind;

static const DeniedKind denied_kinds[] = {
	{"materialized view", "SELECT", true},
	{"foreign table", "SELECT", true},
	{"table", "SELECT", true},
	{"view", "SELECT", true},
	{"sequence", "USAGE", false},
	{"schema", "USAGE", false},
	{"function", "EXECUTE", false},
	{"procedure", "EXECUTE", false},
};

/* "schema.table" of the reads whose table is `name`, distinct, in order. */
static List *
reads_named(const Step *st, const char *name)
{
	List	   *found = NIL;
	ListCell   *lc;

	foreach(lc, st->reads)
	{
		List	   *parts = (List *) lfirst(lc);
		const char *schema = strVal(linitial(parts));
		ListCell   *f;
		bool		seen = false;

		if (strcmp(strVal(lsecond(parts)), name) != 0)
			continue;
		foreach(f, found)
			seen = seen || strcmp(strVal(linitial((List *) lfirst(f))), schema) == 0;
		if (!seen)
			found = lappend(found, parts);
	}
	return found;
}

/*
 * A 42501 of PostgreSQL's privilege checks, "permission denied for table
 * users": the message names the object with its schema when the model
 * reads exactly one relation of that name (its references are
 * schema-qualified), and the hint says what to grant run_as. Pure string
 * work on what prepare gathered: no catalog access on the error's path.
 * The hint has no "name: value" (the scrubber would take a table named
 * like a secret for one, and the GRANT after it for its value).
 * Returns the new message, or NULL when the message is not of that form.
 */
static char *
denied_context(const Step *st, ErrorData *edata, const char *tail)
{
	static const char prefix[] = "permission denied for ";
	const char *rest;
	const char *role = quote_identifier(st->run_as_name);
	size_t		i;

	if (edata->sqlerrcode != ERRCODE_INSUFFICIENT_PRIVILEGE ||
		strncmp(edata->message, prefix, sizeof(prefix) - 1) != 0)
		return NULL;
	rest = edata->message + sizeof(prefix) - 1;
	for (i = 0; i < lengthof(denied_kinds); i++)
	{
		const DeniedKind *k = &denied_kinds[i];
		size_t		klen = strlen(k->kind);
		const char *name = rest + klen + 1;
		List	   *found;
		char	   *hint;

		if (strncmp(rest, k->kind, klen) != 0 || rest[klen] != ' ' || *name == '\0')
			continue;
		if (!k->relation)
		{
			if (strcmp(k->kind, "schema") == 0)
				hint = psprintf("Grant it USAGE on schema %s (GRANT USAGE ON SCHEMA %s TO %s).",
								name, quote_identifier(name), role);
			else
				hint = psprintf("Grant it %s on %s %s.", k->privilege, k->kind, name);
			if (edata->hint == NULL)
				edata->hint = hint;
			return psprintf("%s%s", edata->message, tail);
		}
		found = reads_named(st, name);
		if (list_length(found) == 1)
		{
			List	   *parts = (List *) linitial(found);
			const char *schema = strVal(linitial(parts));

			if (edata->hint == NULL)
				edata->hint = psprintf("Grant it %s on %s.%s (GRANT %s ON %s TO %s).",
									   k->privilege, schema, name, k->privilege,
									   quote_qualified_identifier(schema, name), role);
			return psprintf("%s%s %s.%s%s", prefix, k->kind, schema, name, tail);
		}
		if (edata->hint == NULL)
		{
			StringInfoData b;
			ListCell   *lc;

			initStringInfo(&b);
			foreach(lc, found)
				appendStringInfo(&b, "%s%s.%s", b.len ? ", " : "",
								 strVal(linitial((List *) lfirst(lc))), name);
			if (found != NIL)
				edata->hint = psprintf("Grant it %s on whichever of %s it cannot read.", k->privilege, b.data);
			else
				edata->hint = psprintf("Grant it %s on %s %s, in the schema the model reads it from.",
									   k->privilege, k->kind, name);
		}
		return psprintf("%s%s", edata->message, tail);
	}
	return NULL;
}

/* Does the message name the step's model ("model <name>", a whole name)? */
static bool
names_model(const Step *st, const char *message)
{
	char	   *needle = psprintf("model %s", st->model);
	size_t		n = strlen(needle);
	const char *p;

	for (p = strstr(message, needle); p; p = strstr(p + 1, needle))
	{
		char		next = p[n];

		/* not a longer name: "model a.b" is not in "model a.bc" nor "model a.b.c" */
		if (next == '.' && (isalnum((unsigned char) p[n + 1]) || p[n + 1] == '_'))
			continue;
		if (!(isalnum((unsigned char) next) || next == '_' || next == '-'))
			return true;
	}
	return false;
}

/*
 * The context a failed step's error gets (it is what run_steps stores):
 * an error that does not name the model already (PostgreSQL's, and
 * ironlayer's refusals of what model SQL called) says which model ran as
 * which role; a privilege error names the object with its schema and the
 * GRANT run_as needs (denied_context). Errors of the executor's own checks
 * name the model and are left as they are.
 */
static void
step_error_context(const Step *st, ErrorData *edata)
{
	char	   *tail;
	char	   *message;

	if (edata->message == NULL || st->run_as_name == NULL || names_model(st, edata->message))
		return;
	tail = psprintf(" (model %s ran as role %s)", st->model, st->run_as_name);
	message = denied_context(st, edata, tail);
	edata->message = message ? message : psprintf("%s%s", edata->message, tail);
}

/*
 * Runs the model's statements as run_as, in a security-restricted
 * operation with a fixed search_path, row security on, the environment's
 * lock_timeout and the step's memory limit (bounds.c), as model SQL
 * (tenant.c: ironlayer's API sees run_as and no tenant). The user, security
 * context, memory limit and model SQL state are restored on every path, the
 * settings on success (an error's rollback restores them otherwise).
 */
static int64
run_as_role(const Step *st, StringInfo log)
{
	MemoryContext cxt = CurrentMemoryContext;
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
	volatile int64 rows = 0;
	char		lock_timeout[32];
	struct rlimit saved_limit;

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	save_nestlevel = NewGUCNestLevel();
	snprintf(lock_timeout, sizeof(lock_timeout), "%dms", st->lock_timeout);
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("row_security", "on", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("lock_timeout", lock_timeout, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	/* what model SQL says (RAISE WARNING in a loop) does not fill the server log */
	(void) set_config_option("log_min_messages", "error", PGC_SUSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	ironlayer_model_sql_enter(st->run_as);
	ironlayer_memory_limit(&saved_limit);
	SetUserIdAndSecContext(st->run_as,
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	PG_TRY();
	{
		rows = materialize(st, log);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		SetUserIdAndSecContext(save_userid, save_sec_context);
		ironlayer_memory_unlimit(&saved_limit);
		ironlayer_model_sql_leave();
		/* the error, with the step's context (its message is what run_steps keeps) */
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		step_error_context(st, edata);
		ReThrowError(edata);
	}
	PG_END_TRY();
	SetUserIdAndSecContext(save_userid, save_sec_context);
	ironlayer_memory_unlimit(&saved_limit);
	ironlayer_model_sql_leave();
	/* whatever the model's SQL set (set_config(..., false) too) ends here */
	AtEOXact_GUC(false, save_nestlevel);
	return rows;
}

/* The postgres executor: the step's statements run here, in its transaction. */
const ExecutorOps ironlayer_postgres_executor = {
	.name = "postgres",
	.prepare = postgres_prepare,
	.submit = run_as_role,
	.poll = NULL,				/* submit returns with the outcome */
	.cancel = NULL,				/* a running step ends with its transaction */
	.finish = executor_finish,
};

