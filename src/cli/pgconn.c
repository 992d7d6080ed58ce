/*-------------------------------------------------------------------------
 *
 * pgconn.c
 *	  Connection, tenant binding and error reporting of the server
 *	  subcommands (pgconn.h).
 *
 * The connection comes from --db (a conninfo string or a URI) or from
 * libpq's PG* variables. Every value goes to the server as a parameter of
 * PQexecParams, never into SQL text. The session runs in autocommit: no
 * transaction stays open between statements.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "il_date.h"
#include "output.h"
#include "pgconn.h"

int
il_srv_common_option(int argc, char **argv, int *i, il_srv_opts *o)
{
	const char *a = argv[*i];
	const char **slot = NULL;
	size_t		n = 0;

	if (strcmp(a, "--json") == 0)
	{
		o->json = true;
		return 1;
	}
	if (strncmp(a, "--db", 4) == 0 && (a[4] == '\0' || a[4] == '='))
	{
		slot = &o->db;
		n = 4;
	}
	else if (strncmp(a, "--tenant", 8) == 0 && (a[8] == '\0' || a[8] == '='))
	{
		slot = &o->tenant;
		n = 8;
	}
	else
		return 0;
	if (a[n] == '=')
		*slot = a + n + 1;
	else if (*i + 1 < argc)
		*slot = argv[++(*i)];
	else
	{
		fprintf(stderr, "ironlayer: option %s needs a value\n", a);
		return -1;
	}
	return 1;
}

int
il_srv_misuse(const char *cmd, const char *fmt,...)
{
	va_list		ap;

	fputs("ironlayer: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry \"ironlayer %s --help\" for more information.\n", cmd);
	return IL_EXIT_USAGE;
}

bool
il_srv_parse_count(const char *s, long max, long *out)
{
	char	   *end;
	long		v;
	const char *p;

	if (s == NULL || *s == '\0')
		return false;
	for (p = s; *p; p++)
		if (!isdigit((unsigned char) *p))
			return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v > max)
		return false;
	*out = v;
	return true;
}

bool
il_srv_valid_date(const char *s)
{
	il_date		d;
	il_error	err;
	bool		ok;

	il_error_clear(&err);
	ok = il_date_parse(s, strlen(s), &d, &err) == 0;
	il_error_clear(&err);
	return ok;
}

void
il_srv_report(const PGresult *res)
{
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	const char *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;

	if (msg == NULL)
	{
		/* no server message: a lost connection or a client-side failure */
		const char *m = res ? PQresultErrorMessage(res) : "out of memory";
		size_t		len = strlen(m);

		while (len > 0 && m[len - 1] == '\n')
			len--;
		fputs("ironlayer: ", stderr);
		il_out_textn(stderr, len ? m : "the statement failed", len ? len : strlen("the statement failed"), false);
		fputc('\n', stderr);
		return;
	}
	/* a message may quote what a model or a repository holds: shown, not sent */
	fputs("ironlayer: ", stderr);
	il_out_text(stderr, msg, false);
	if (state != NULL)
	{
		fputs(" [SQLSTATE ", stderr);
		il_out_text(stderr, state, true);
		fputc(']', stderr);
	}
	fputc('\n', stderr);
	if (detail != NULL)
	{
		fputs("DETAIL: ", stderr);
		il_out_text(stderr, detail, false);
		fputc('\n', stderr);
	}
	if (hint != NULL)
	{
		fputs("HINT: ", stderr);
		il_out_text(stderr, hint, false);
		fputc('\n', stderr);
	}
	else if (state != NULL && strcmp(state, "42501") == 0 &&
			 strncmp(msg, "permission denied for function ", 31) == 0)

		/*
		 * PostgreSQL refused EXECUTE before any ironlayer code ran, so the
		 * server could not say what the function needs (docs/errors.md).
		 */
		fprintf(stderr, "HINT: Your role lacks the cluster role the function is granted to: ironlayer_admin for "
				"a tenant admin's functions, ironlayer_engineer for an engineer's. Ask a tenant admin (SELECT member "
				"FROM ironlayer.members WHERE tenant_role = 'admin') to do it, or a superuser to grant the role.\n");
}

PGresult *
il_srv_exec(PGconn *conn, const char *sql, int n, const char *const *params)
{
	PGresult   *res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
	{
		il_srv_report(res);
		PQclear(res);
		return NULL;
	}
	return res;
}

PGconn *
il_srv_connect_plain(const char *conninfo)
{
	PGconn	   *conn = PQconnectdb(conninfo ? conninfo : "");
	const char *m;
	size_t		len;

	if (conn == NULL)
	{
		fprintf(stderr, "ironlayer: could not connect: out of memory\n");
		return NULL;
	}
	if (PQstatus(conn) != CONNECTION_OK)
	{
		m = PQerrorMessage(conn);
		len = strlen(m);
		while (len > 0 && m[len - 1] == '\n')
			len--;
		/* libpq's text may quote what the server sent: shown, not sent */
		fputs("ironlayer: could not connect: ", stderr);
		il_out_textn(stderr, m, len, false);
		fputc('\n', stderr);
		fprintf(stderr, "HINT: Give the server with --db CONNINFO or the PGHOST, PGPORT, PGDATABASE and PGUSER variables.\n");
		PQfinish(conn);
		return NULL;
	}
	if (PQsetClientEncoding(conn, "UTF8") != 0)
	{
		fprintf(stderr, "ironlayer: could not set the client encoding to UTF8\n");
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/* The tenant to bind: given, IRONLAYER_TENANT, or the caller's only one. */
static bool
choose_tenant(PGconn *conn, const il_srv_opts *o, char *name, size_t cap, int *rc)
{
	const char *t = o->tenant;
	PGresult   *res;
	int			n,
				k;

	if (t == NULL || *t == '\0')
		t = getenv("IRONLAYER_TENANT");
	if (t != NULL && *t != '\0')
	{
		snprintf(name, cap, "%s", t);
		return true;
	}
	res = il_srv_exec(conn, "SELECT tenant FROM ironlayer.my_tenants() ORDER BY tenant", 0, NULL);
	if (res == NULL)
	{
		*rc = IL_EXIT_FAILED;
		return false;
	}
	n = PQntuples(res);
	if (n == 1)
	{
		snprintf(name, cap, "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
		return true;
	}
	if (n == 0)
		fprintf(stderr, "ironlayer: role \"%s\" is a member of no tenant\n", PQuser(conn));
	else
	{
		fprintf(stderr, "ironlayer: role \"%s\" is a member of %d tenants:", PQuser(conn), n);
		for (k = 0; k < n && k < 10; k++)
		{
			fputc(' ', stderr);
			il_out_text(stderr, PQgetvalue(res, k, 0), true);
		}
		fprintf(stderr, "%s\n", n > 10 ? " ..." : "");
	}
	fprintf(stderr, "HINT: Pass --tenant NAME (or set IRONLAYER_TENANT).\n");
	PQclear(res);
	*rc = IL_EXIT_USAGE;
	return false;
}

PGconn *
il_srv_connect(const il_srv_opts *o, int *rc)
{
	PGconn	   *conn;
	PGresult   *res;
	char		tenant[256];
	const char *params[1];

	*rc = IL_EXIT_FAILED;
	if ((conn = il_srv_connect_plain(o->db)) == NULL)
		return NULL;
	if (!choose_tenant(conn, o, tenant, sizeof(tenant), rc))
	{
		PQfinish(conn);
		return NULL;
	}
	params[0] = tenant;
	if ((res = il_srv_exec(conn, "SELECT ironlayer.use_tenant($1)", 1, params)) == NULL)
	{
		PQfinish(conn);
		*rc = IL_EXIT_FAILED;
		return NULL;
	}
	PQclear(res);
	*rc = IL_EXIT_OK;
	return conn;
}

/* Is s 8 to 64 lower-case hex digits? */
static bool
plan_text(const char *s)
{
	size_t		n = strlen(s);
	size_t		k;

	if (n < 8 || n > 64)
		return false;
	for (k = 0; k < n; k++)
		if (!((s[k] >= '0' && s[k] <= '9') || (s[k] >= 'a' && s[k] <= 'f')))
			return false;
	return true;
}

bool
il_srv_resolve_plan(PGconn *conn, const char *plan, char id[65], char env[64])
{
	const char *params[1] = {plan};
	PGresult   *res;

	if (plan_text(plan))
	{
		res = il_srv_exec(conn,
						  "SELECT plan_id, environment FROM ironlayer.plans"
						  " WHERE starts_with(plan_id, $1) AND tenant_id = ironlayer.current_tenant()"
						  " LIMIT 2", 1, params);
		if (res == NULL)
			return false;
		if (PQntuples(res) == 1)
		{
			snprintf(id, 65, "%s", PQgetvalue(res, 0, 0));
			if (env != NULL)
				snprintf(env, 64, "%s", PQgetvalue(res, 0, 1));
			PQclear(res);
			return true;
		}
		PQclear(res);
	}
	/* none, several, or malformed: the server says which, as show_plan does */
	res = il_srv_exec(conn, "SELECT count(*) FROM ironlayer.show_plan($1)", 1, params);
	if (res != NULL)
	{
		fprintf(stderr, "ironlayer: plan %s does not exist [SQLSTATE 42704]\n", plan);
		PQclear(res);
	}
	return false;
}
