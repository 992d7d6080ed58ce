/*-------------------------------------------------------------------------
 *
 * tenant.c
 *	  The backend's tenant binding.
 *
 * A backend is bound to at most one tenant by a verified act:
 * ironlayer.use_tenant(name) after checking that the acting role is a member.
 * The binding lives in this file's static memory, never in a setting, so no
 * SET, set_config() or RESET can forge or change it. Row-level security
 * policies compare tenant_id with ironlayer.current_tenant().
 *
 * Rules:
 *  - The binding belongs to the role that made it (the session's current
 *    role, as set by login or SET ROLE; security-definer functions do not
 *    change it). Under any other role current_tenant() is NULL.
 *  - It is transactional like SET: a rolled-back transaction or savepoint
 *    restores the binding that was in force before it.
 *  - It is re-validated once per transaction in which it is read, so a
 *    removed membership or a changed tenant role takes effect at the
 *    member's next transaction.
 *  - DISCARD ALL drops it, as it drops every other session state.
 *
 * Model SQL. While the executor runs a step's statements as the
 * environment's run_as role (ironlayer_model_sql_enter/leave), ironlayer's
 * API sees that role as the acting role and no binding at all: the
 * session's own role and binding (a worker's is the bootstrap superuser)
 * never lend their rights to what a tenant wrote, and use_tenant() refuses.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/proc.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/uuid.h"

#include "ironlayer.h"

#define TENANT_ROLE_LEN 16

typedef struct TenantBinding
{
	bool		bound;
	pg_uuid_t	tenant_id;
	Oid			roleid;			/* the acting role that made the binding */
	char		tenant_role[TENANT_ROLE_LEN];	/* admin, engineer or viewer */
} TenantBinding;

/* The binding in force. */
static TenantBinding binding;

/* The local transaction in which the binding was last checked. */
static LocalTransactionId validated_lxid = InvalidLocalTransactionId;

/*
 * Bindings to restore on rollback: one entry per (sub)transaction that
 * changed the binding, innermost first, holding the binding in force before
 * its first change.
 */
typedef struct SavedBinding
{
	SubTransactionId subid;
	TenantBinding saved;
	struct SavedBinding *next;
} SavedBinding;

static SavedBinding *saved_stack = NULL;

static ProcessUtility_hook_type prev_ProcessUtility = NULL;

/*
 * Model SQL in progress: how deep (the executor does not nest, but an error
 * path must not leave it entered) and the role it runs as.
 */
static int	model_sql_depth = 0;
static Oid	model_sql_role = InvalidOid;

static void forget_saved(void);

/*
 * The role ironlayer authorizes: the session's current role (as set by
 * login or SET ROLE; security-definer functions do not change it), or the
 * run_as role while model SQL runs.
 */
Oid
ironlayer_acting_roleid(void)
{
	if (model_sql_depth > 0)
		return model_sql_role;
	return GetOuterUserId();
}

#define acting_roleid ironlayer_acting_roleid

/*
 * The executor enters model SQL before it runs a step's statements as
 * run_as and leaves it on every path after them.
 */
void
ironlayer_model_sql_enter(Oid run_as)
{
	if (model_sql_depth > 0 && model_sql_role != run_as)
		elog(ERROR, "model SQL is already running as another role");
	model_sql_role = run_as;
	model_sql_depth++;
}

void
ironlayer_model_sql_leave(void)
{
	if (model_sql_depth > 0)
		model_sql_depth--;
	if (model_sql_depth == 0)
		model_sql_role = InvalidOid;
}

bool
ironlayer_in_model_sql(void)
{
	return model_sql_depth > 0;
}

/*
 * 42501 when model SQL calls an API function that must not run there
 * (what: "bind a tenant", "claim steps", ...).
 */
void
ironlayer_refuse_in_model_sql(const char *what)
{
	if (model_sql_depth > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("model SQL cannot %s", what),
				 errdetail("A step runs as its environment's run_as role \"%s\" with no tenant bound.",
						   GetUserNameFromId(model_sql_role, false)),
				 errhint("A model reads and writes tables; ironlayer's functions are for its users.")));
}

/*
 * Forget the binding, as DISCARD ALL does. A background worker calls it
 * before every unit of work, so no step starts with a binding.
 */
void
ironlayer_tenant_reset(void)
{
	memset(&binding, 0, sizeof(binding));
	forget_saved();
	validated_lxid = InvalidLocalTransactionId;
}

/*
 * Remember the binding in force before the first change made in the current
 * subtransaction.
 */
static void
remember_binding(void)
{
	SubTransactionId subid = GetCurrentSubTransactionId();
	SavedBinding *s;

	if (saved_stack != NULL && saved_stack->subid == subid)
		return;
	s = MemoryContextAlloc(TopMemoryContext, sizeof(SavedBinding));
	s->subid = subid;
	s->saved = binding;
	s->next = saved_stack;
	saved_stack = s;
}

static void
forget_saved(void)
{
	while (saved_stack != NULL)
	{
		SavedBinding *next = saved_stack->next;

		pfree(saved_stack);
		saved_stack = next;
	}
}

static void
tenant_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			/* the executor leaves model SQL on its error path; be sure */
			model_sql_depth = 0;
			model_sql_role = InvalidOid;
			if (saved_stack != NULL)
			{
				SavedBinding *oldest = saved_stack;

				while (oldest->next != NULL)
					oldest = oldest->next;
				binding = oldest->saved;
			}
			forget_saved();
			validated_lxid = InvalidLocalTransactionId;
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			forget_saved();
			break;
		default:
			break;
	}
}

static void
tenant_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						SubTransactionId parentSubid, void *arg)
{
	SavedBinding *top = saved_stack;

	if (top == NULL || top->subid != mySubid)
		return;

	switch (event)
	{
		case SUBXACT_EVENT_ABORT_SUB:
			binding = top->saved;
			saved_stack = top->next;
			pfree(top);
			validated_lxid = InvalidLocalTransactionId;
			break;
		case SUBXACT_EVENT_COMMIT_SUB:
			if (top->next != NULL && top->next->subid == parentSubid)
			{
				/* the parent already holds an older state */
				saved_stack = top->next;
				pfree(top);
			}
			else
				top->subid = parentSubid;
			break;
		default:
			break;
	}
}

/*
 * DISCARD ALL resets every session state; the binding is one.
 */
static void
tenant_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
					  bool readOnlyTree, ProcessUtilityContext context,
					  ParamListInfo params, QueryEnvironment *queryEnv,
					  DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *stmt = pstmt->utilityStmt;

	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString, readOnlyTree, context,
							params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);

	if (IsA(stmt, DiscardStmt) && ((DiscardStmt *) stmt)->target == DISCARD_ALL)
	{
		/* DISCARD ALL cannot run in a transaction block: no rollback to mind */
		ironlayer_tenant_reset();
	}
}

void
ironlayer_tenant_init(void)
{
	memset(&binding, 0, sizeof(binding));
	RegisterXactCallback(tenant_xact_callback, NULL);
	RegisterSubXactCallback(tenant_subxact_callback, NULL);
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = tenant_ProcessUtility;
}

/*
 * Look up a membership as the extension owner (tenant data is not filtered
 * for it), with search_path pinned. By tenant name when name is given, else
 * by tenant id. Returns false when the tenant does not exist; *role is set to
 * the member's tenant role, or "" when the role is no member.
 */
static bool
lookup_membership(const char *name, const pg_uuid_t *tenant_id, Oid roleid,
				  pg_uuid_t *found_id, char *role)
{
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
	Oid			argtypes[2];
	Datum		values[2];
	const char *sql;
	bool		found = false;
	int			ret;

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(ironlayer_extension_owner(),
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	argtypes[1] = NAMEOID;
	values[1] = CStringGetDatum(GetUserNameFromId(roleid, false));
	if (name != NULL)
	{
		sql = "SELECT t.tenant_id, m.tenant_role"
			" FROM ironlayer.tenants t"
			" LEFT JOIN ironlayer.members m"
			"   ON m.tenant_id OPERATOR(pg_catalog.=) t.tenant_id"
			"  AND m.member OPERATOR(pg_catalog.=) $2"
			" WHERE t.name OPERATOR(pg_catalog.=) $1";
		argtypes[0] = TEXTOID;
		values[0] = CStringGetTextDatum(name);
	}
	else
	{
		sql = "SELECT t.tenant_id, m.tenant_role"
			" FROM ironlayer.tenants t"
			" LEFT JOIN ironlayer.members m"
			"   ON m.tenant_id OPERATOR(pg_catalog.=) t.tenant_id"
			"  AND m.member OPERATOR(pg_catalog.=) $2"
			" WHERE t.tenant_id OPERATOR(pg_catalog.=) $1";
		argtypes[0] = UUIDOID;
		values[0] = UUIDPGetDatum(tenant_id);
	}

	ret = SPI_execute_with_args(sql, 2, argtypes, values, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "membership look-up failed: %s", SPI_result_code_string(ret));

	role[0] = '\0';
	if (SPI_processed == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		d;

		found = true;
		d = SPI_getbinval(tup, desc, 1, &isnull);
		memcpy(found_id, DatumGetUUIDP(d), sizeof(pg_uuid_t));
		d = SPI_getbinval(tup, desc, 2, &isnull);
		if (!isnull)
			strlcpy(role, TextDatumGetCString(d), TENANT_ROLE_LEN);
	}

	SPI_finish();
	AtEOXact_GUC(true, save_nestlevel);
	SetUserIdAndSecContext(save_userid, save_sec_context);
	return found;
}

/*
 * Is the binding in force for the acting role? Re-validates it once per
 * transaction.
 */
static bool
binding_visible(void)
{
	pg_uuid_t	id;
	char		role[TENANT_ROLE_LEN];

	if (!binding.bound || model_sql_depth > 0 || acting_roleid() != binding.roleid)
		return false;
	if (!IsTransactionState() || validated_lxid == MyProc->lxid)
		return true;

	/* mark first: the look-up below may read our policies again */
	validated_lxid = MyProc->lxid;
	if (!lookup_membership(NULL, &binding.tenant_id, binding.roleid, &id, role))
		memset(&binding, 0, sizeof(binding));	/* tenant gone */
	else if (role[0] != '\0')
		strlcpy(binding.tenant_role, role, TENANT_ROLE_LEN);
	else if (superuser_arg(binding.roleid))
		strlcpy(binding.tenant_role, "admin", TENANT_ROLE_LEN);
	else
		memset(&binding, 0, sizeof(binding));	/* membership removed */
	return binding.bound;
}

/*
 * The bound tenant, or a clear error when there is none.
 */
void
ironlayer_require_tenant(pg_uuid_t *tenant)
{
	if (!binding_visible())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("no tenant is bound to this session"),
				 errhint("Call ironlayer.use_tenant(name) first.")));
	memcpy(tenant, &binding.tenant_id, sizeof(pg_uuid_t));
}

/* Rank of a tenant role: viewer 1, engineer 2, admin 3, else 0. */
static int
role_rank(const char *role)
{
	if (strcmp(role, "admin") == 0)
		return 3;
	if (strcmp(role, "engineer") == 0)
		return 2;
	if (strcmp(role, "viewer") == 0)
		return 1;
	return 0;
}

void
ironlayer_require_tenant_role(pg_uuid_t *tenant, const char *min_role, const char *action)
{
	ironlayer_require_tenant(tenant);
	if (role_rank(binding.tenant_role) < role_rank(min_role))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s", action),
				 errdetail("This needs the tenant role %s; role \"%s\" is %s %s of the bound tenant.",
						   min_role, GetUserNameFromId(binding.roleid, false),
						   binding.tenant_role[0] == 'a' || binding.tenant_role[0] == 'e' ? "an" : "a",
						   binding.tenant_role),
				 role_rank(min_role) >= 3 ?
				 errhint("A tenant admin can do it, or make the role an admin with ironlayer.add_member(); "
						 "SELECT member FROM ironlayer.members WHERE tenant_role = 'admin' lists the tenant's admins.") :
				 role_rank(min_role) < 2 ? 0 :
				 errhint("An engineer or admin of the tenant can do it, or a tenant admin can make the role an engineer "
						 "with ironlayer.add_member(); SELECT member, tenant_role FROM ironlayer.members lists them.")));
}

PG_FUNCTION_INFO_V1(ironlayer_use_tenant);
/*
 * ironlayer.use_tenant(tenant text) returns uuid
 *
 * Bind this backend to the named tenant after checking that the acting role
 * is a member of it (superusers may bind to any tenant, as admin). NULL
 * unbinds. Returns the bound tenant's id, or NULL.
 */
Datum
ironlayer_use_tenant(PG_FUNCTION_ARGS)
{
	Oid			roleid = acting_roleid();
	char	   *name;
	pg_uuid_t	id;
	char		role[TENANT_ROLE_LEN];
	pg_uuid_t  *result;

	ironlayer_refuse_in_model_sql("bind a tenant");
	if (PG_ARGISNULL(0))
	{
		remember_binding();
		memset(&binding, 0, sizeof(binding));
		PG_RETURN_NULL();
	}

	ironlayer_check_size("the tenant name", PG_GETARG_DATUM(0), NAMEDATALEN - 1);
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (!lookup_membership(name, NULL, roleid, &id, role) ||
		(role[0] == '\0' && !superuser_arg(roleid)))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for tenant \"%s\"", name),
				 errdetail("Role \"%s\" is not a member of tenant \"%s\".",
						   GetUserNameFromId(roleid, false), name),
				 errhint("A tenant admin can add the role with ironlayer.add_member().")));
	if (role[0] == '\0')
		strlcpy(role, "admin", TENANT_ROLE_LEN);

	remember_binding();
	binding.bound = true;
	binding.tenant_id = id;
	binding.roleid = roleid;
	strlcpy(binding.tenant_role, role, TENANT_ROLE_LEN);
	validated_lxid = MyProc->lxid;

	result = palloc(sizeof(pg_uuid_t));
	memcpy(result, &id, sizeof(pg_uuid_t));
	PG_RETURN_UUID_P(result);
}

PG_FUNCTION_INFO_V1(ironlayer_current_tenant);
/*
 * ironlayer.current_tenant() returns uuid: the bound tenant, or NULL.
 */
Datum
ironlayer_current_tenant(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *result;

	if (!binding_visible())
		PG_RETURN_NULL();
	result = palloc(sizeof(pg_uuid_t));
	memcpy(result, &binding.tenant_id, sizeof(pg_uuid_t));
	PG_RETURN_UUID_P(result);
}

PG_FUNCTION_INFO_V1(ironlayer_current_tenant_role);
/*
 * ironlayer.current_tenant_role() returns text: admin, engineer, viewer or
 * NULL when unbound.
 */
Datum
ironlayer_current_tenant_role(PG_FUNCTION_ARGS)
{
	if (!binding_visible())
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(binding.tenant_role));
}

PG_FUNCTION_INFO_V1(ironlayer_acting_role);
/*
 * ironlayer.acting_role() returns name: the role ironlayer authorizes, i.e.
 * the session's current role even inside security-definer functions.
 */
Datum
ironlayer_acting_role(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(DirectFunctionCall1(namein,
										CStringGetDatum(GetUserNameFromId(acting_roleid(), false))));
}

PG_FUNCTION_INFO_V1(ironlayer_require_tenant_role_sql);
/*
 * ironlayer._require_tenant_role(min_role text, action text) returns uuid:
 * the bound tenant when the acting role holds at least min_role there, else
 * the error of ironlayer_require_tenant_role. For SQL-language API functions.
 */
Datum
ironlayer_require_tenant_role_sql(PG_FUNCTION_ARGS)
{
	pg_uuid_t	tenant;
	pg_uuid_t  *result;

	ironlayer_require_tenant_role(&tenant, text_to_cstring(PG_GETARG_TEXT_PP(0)),
								  text_to_cstring(PG_GETARG_TEXT_PP(1)));
	result = palloc(sizeof(pg_uuid_t));
	memcpy(result, &tenant, sizeof(pg_uuid_t));
	PG_RETURN_UUID_P(result);
}

PG_FUNCTION_INFO_V1(ironlayer_refuse_in_model_sql_sql);
/*
 * ironlayer._refuse_in_model_sql(what text) returns boolean: true, or 42501
 * while model SQL runs. For SQL-language API functions that authorize by
 * the acting role alone (membership management, the worker API).
 */
Datum
ironlayer_refuse_in_model_sql_sql(PG_FUNCTION_ARGS)
{
	ironlayer_refuse_in_model_sql(PG_ARGISNULL(0) ? "call this function" : text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PG_RETURN_BOOL(true);
}
