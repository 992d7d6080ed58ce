/*-------------------------------------------------------------------------
 *
 * dbx_settings.c
 *	  The server's side of Databricks environments: the superuser settings
 *	  ironlayer.databricks_hosts and ironlayer.databricks_ca_directory, the
 *	  checks set_environment runs on a workspace URL and a CA bundle name,
 *	  and the same checks for the dispatcher when it uses them
 *	  (ironlayer_databricks_host_allowed, ironlayer_databricks_ca_path).
 *
 * The settings are PGC_SIGHUP: a setting stored earlier is checked again
 * each time it is used, so a host or file the superuser withdrew is
 * refused from the next reload on. The rules themselves are in
 * src/core/il_dbx_host.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>
#include <unistd.h>

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "il_dbx_host.h"
#include "ironlayer.h"

#define DEFAULT_HOSTS "*.cloud.databricks.com,*.azuredatabricks.net,*.gcp.databricks.com"

static char *databricks_hosts = NULL;	/* GUC */
static char *databricks_ca_directory = NULL;	/* GUC */

static bool
check_hosts(char **newval, void **extra, GucSource source)
{
	const char *why = il_dbx_patterns_check(*newval);

	if (why)
	{
		GUC_check_errdetail("In the list, %s.", why);
		GUC_check_errhint("Give a comma-separated list of host names or addresses, each with an optional \":port\"; "
						  "\"*.domain\" allows every name under domain.");
		return false;
	}
	return true;
}

static bool
check_ca_directory(char **newval, void **extra, GucSource source)
{
	const char *d = *newval;
	const char *c;

	if (d == NULL || d[0] == '\0')
		return true;
	if (strlen(d) + 1 + IL_DBX_CA_NAME_MAX >= MAXPGPATH)
	{
		GUC_check_errdetail("The path is longer than %d bytes.", MAXPGPATH - 2 - IL_DBX_CA_NAME_MAX);
		return false;
	}
	for (c = d; *c; c++)
		if ((unsigned char) *c < 0x20 || *c == 0x7f)
		{
			GUC_check_errdetail("The path holds a control character.");
			return false;
		}
	return true;
}

/*
 * Called from _PG_init: both settings exist in every process that loads
 * the library (the dispatcher and backends read them).
 */
void
ironlayer_dbx_settings_init(void)
{
	DefineCustomStringVariable("ironlayer.databricks_hosts",
							   "Hosts a Databricks environment's workspace_url may name.",
							   "A comma-separated list of host names or IPv4 addresses, each with an "
							   "optional \":port\"; \"*.domain\" allows every name under domain.",
							   &databricks_hosts,
							   DEFAULT_HOSTS,
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY | GUC_LIST_INPUT,
							   check_hosts, NULL, NULL);
	DefineCustomStringVariable("ironlayer.databricks_ca_directory",
							   "Directory of the CA bundles a Databricks environment's ca_bundle may name.",
							   "A relative path is taken from the data directory. Empty (the default) refuses every ca_bundle.",
							   &databricks_ca_directory,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   check_ca_directory, NULL, NULL);
}

bool
ironlayer_databricks_host_allowed(const char *host)
{
	char		h[256];
	int			port;

	if (host == NULL || il_dbx_authority_check(host, strlen(host), h, sizeof(h), &port) != NULL)
		return false;
	return il_dbx_host_match(databricks_hosts, h, port);
}

/*
 * Why a CA bundle name is unusable now, or NULL; the path into *path when
 * usable. The reason never names the directory (tenants do not see the
 * superuser's settings).
 */
static const char *
ca_problem(const char *name, size_t len, char **path)
{
	const char *why;
	struct stat st;
	char	   *p;

	*path = NULL;
	if ((why = il_dbx_ca_name_check(name, len)) != NULL)
		return why;
	if (databricks_ca_directory == NULL || databricks_ca_directory[0] == '\0')
		return "this server takes no ca_bundle: ironlayer.databricks_ca_directory is not set";
	/* a relative directory is the data directory's, as for ssl_ca_file */
	if (is_absolute_path(databricks_ca_directory))
		p = psprintf("%s/%.*s", databricks_ca_directory, (int) len, name);
	else
		p = psprintf("%s/%s/%.*s", DataDir, databricks_ca_directory, (int) len, name);
	if (stat(p, &st) != 0)
		return "no file of that name is in ironlayer.databricks_ca_directory";
	if (!S_ISREG(st.st_mode))
		return "that name in ironlayer.databricks_ca_directory is not a regular file";
	if (access(p, R_OK) != 0)
		return "the server cannot read that file in ironlayer.databricks_ca_directory";
	*path = p;
	return NULL;
}

/* Up to 100 bytes of what the user wrote, printable ASCII, others as "?". */
static char *
shown(const char *s)
{
	size_t		n = strnlen(s, 100);
	char	   *out = palloc(n + 4);
	size_t		i;

	for (i = 0; i < n; i++)
		out[i] = ((unsigned char) s[i] >= 0x20 && (unsigned char) s[i] < 0x7f) ? s[i] : '?';
	strcpy(out + n, s[n] ? "..." : "");
	return out;
}

char *
ironlayer_databricks_ca_path(const char *name)
{
	char	   *path;
	const char *why;

	if (name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the CA bundle name must not be null")));
	why = ca_problem(name, strlen(name), &path);
	if (why)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid ca_bundle \"%s\": %s", shown(name), why),
				 errhint("A superuser puts CA bundles in the directory named by ironlayer.databricks_ca_directory.")));
	return path;
}

PG_FUNCTION_INFO_V1(ironlayer_databricks_url_sql);
/*
 * ironlayer._databricks_url(url text, OUT origin text, OUT allowed boolean,
 * OUT problem text): the normalized origin of a workspace URL and whether
 * ironlayer.databricks_hosts allows its host, or why it is no workspace URL
 * (origin NULL). (internal)
 */
Datum
ironlayer_databricks_url_sql(PG_FUNCTION_ARGS)
{
	text	   *url = PG_GETARG_TEXT_PP(0);
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	il_buf		origin = IL_BUF_INIT;
	char		host[256];
	int			port;
	const char *why;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	why = il_dbx_url_check(VARDATA_ANY(url), VARSIZE_ANY_EXHDR(url), &origin, host, sizeof(host), &port);
	if (why)
	{
		nulls[0] = nulls[1] = true;
		values[2] = CStringGetTextDatum(why);
	}
	else
	{
		values[0] = CStringGetTextDatum(il_buf_cstr(&origin));
		values[1] = BoolGetDatum(il_dbx_host_match(databricks_hosts, host, port));
		nulls[2] = true;
	}
	il_buf_free(&origin);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

PG_FUNCTION_INFO_V1(ironlayer_databricks_ca_problem_sql);
/*
 * ironlayer._databricks_ca_problem(name text) returns text: NULL when the
 * server can use the CA bundle of that name, else why not. (internal)
 */
Datum
ironlayer_databricks_ca_problem_sql(PG_FUNCTION_ARGS)
{
	text	   *name = PG_GETARG_TEXT_PP(0);
	char	   *path;
	const char *why;

	why = ca_problem(VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name), &path);
	if (why == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(why));
}
