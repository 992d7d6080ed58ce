/*-------------------------------------------------------------------------
 *
 * cmd_credential.c
 *	  ironlayer credential put NAME --tenant TENANT [--kind KIND] [--db CONNINFO]
 *
 * Reads the secret from standard input (one trailing newline removed; with
 * a terminal, without echo), fetches the vault's public key, seals the
 * secret here, and calls ironlayer.put_credential() with the sealed text
 * as a bound parameter. The plaintext never reaches the server: not in SQL
 * text, not in a log, not in pg_stat_activity. The connection comes from
 * the standard libpq environment (PGHOST, PGPORT, PGUSER, PGDATABASE, ...)
 * or --db (--dsn, its older name). Errors are reported as the server
 * subcommands report them (pgconn.c).
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "cmd_credential.h"
#include "commands.h"
#include "il_buf.h"
#include "il_seal.h"
#include "il_vault.h"
#include "pgconn.h"

#define MAX_SECRET (64 * 1024)

static void
usage(FILE *out)
{
	fprintf(out,
			"Usage:\n"
			"  ironlayer credential put NAME --tenant TENANT [--kind KIND] [--db CONNINFO]\n"
			"\n"
			"Reads the secret from standard input, seals it to the vault's public key and\n"
			"stores it as credential NAME of TENANT (kind \"token\" unless --kind). The\n"
			"connection comes from --db (or its older name --dsn) or PGHOST, PGPORT,\n"
			"PGUSER, PGDATABASE, ...\n");
}

/* Read all of standard input (at most MAX_SECRET bytes). */
static int
read_secret(il_buf *secret)
{
	char		chunk[4096];
	size_t		n;
	struct termios saved;
	int			tty = isatty(STDIN_FILENO);

	if (tty)
	{
		struct termios quiet;

		fprintf(stderr, "secret (input is not shown; end with Enter): ");
		if (tcgetattr(STDIN_FILENO, &saved) == 0)
		{
			quiet = saved;
			quiet.c_lflag &= ~(tcflag_t) ECHO;
			tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		}
		if (fgets(chunk, sizeof(chunk), stdin) != NULL)
			il_buf_puts(secret, chunk);
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		fputc('\n', stderr);
	}
	else
	{
		while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		{
			il_buf_append(secret, chunk, n);
			if (secret->len > MAX_SECRET)
				break;
		}
	}
	il_vault_wipe(chunk, sizeof(chunk));
	if (secret->len > MAX_SECRET)
	{
		fprintf(stderr, "ironlayer: the secret is longer than %d bytes\n", MAX_SECRET);
		return -1;
	}
	if (secret->len > 0 && secret->data[secret->len - 1] == '\n')
	{
		secret->len--;
		if (secret->len > 0 && secret->data[secret->len - 1] == '\r')
			secret->len--;
	}
	if (secret->len == 0)
	{
		fprintf(stderr, "ironlayer: no secret on standard input\n");
		return -1;
	}
	return 0;
}

/* Run a query with text parameters; NULL (and the server's error) on failure. */
static PGresult *
run(PGconn *conn, const char *sql, int n, const char *const *params)
{
	return il_srv_exec(conn, sql, n, params);
}

static int
credential_put(const char *name, const char *tenant, const char *kind, const char *dsn)
{
	il_buf		secret = IL_BUF_INIT;
	il_buf		sealed = IL_BUF_INIT;
	il_error	err;
	PGconn	   *conn;
	PGresult   *res;
	const char *params[3];
	int			rc = 1;

	if (read_secret(&secret) != 0)
		goto out;

	if ((conn = il_srv_connect_plain(dsn)) == NULL)
		goto out;
	res = run(conn, "SELECT ironlayer.vault_public_key()", 0, NULL);
	if (res == NULL)
		goto done;
	if (il_seal_seal(PQgetvalue(res, 0, 0), (size_t) PQgetlength(res, 0, 0),
					 (const uint8_t *) secret.data, secret.len, &sealed, &err) != 0)
	{
		il_cli_error("could not seal the secret", &err);
		PQclear(res);
		goto done;
	}
	PQclear(res);
	il_vault_wipe(secret.data, secret.cap);

	params[0] = tenant;
	if ((res = run(conn, "SELECT ironlayer.use_tenant($1)", 1, params)) == NULL)
		goto done;
	PQclear(res);
	params[0] = name;
	params[1] = il_buf_cstr(&sealed);
	params[2] = kind;
	if ((res = run(conn, "SELECT ironlayer.put_credential($1, $2, $3)", 3, params)) == NULL)
		goto done;
	PQclear(res);
	params[0] = name;
	if ((res = run(conn, "SELECT fingerprint FROM ironlayer.credentials WHERE name = $1", 1, params)) == NULL)
		goto done;
	printf("%s %s %s\n", tenant, name, PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "?");
	PQclear(res);
	rc = 0;

done:
	PQfinish(conn);
out:
	if (secret.data)
		il_vault_wipe(secret.data, secret.cap);
	il_buf_free(&secret);
	il_buf_free(&sealed);
	return rc;
}

int
il_cmd_credential(int argc, char **argv)
{
	const char *name = NULL;
	const char *tenant = NULL;
	const char *kind = "token";
	const char *dsn = NULL;
	int			i;

	/* argv[0] is "credential" */
	if (argc < 2 || strcmp(argv[1], "put") != 0)
	{
		if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		{
			usage(stdout);
			return 0;
		}
		usage(stderr);
		return 2;
	}
	for (i = 2; i < argc; i++)
	{
		if (strcmp(argv[i], "--tenant") == 0 && i + 1 < argc)
			tenant = argv[++i];
		else if (strcmp(argv[i], "--kind") == 0 && i + 1 < argc)
			kind = argv[++i];
		else if ((strcmp(argv[i], "--dsn") == 0 || strcmp(argv[i], "--db") == 0) && i + 1 < argc)
			dsn = argv[++i];
		else if (argv[i][0] != '-' && name == NULL)
			name = argv[i];
		else
		{
			fprintf(stderr, "ironlayer: unexpected argument \"%s\"\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (name == NULL || tenant == NULL)
	{
		fprintf(stderr, "ironlayer: credential put needs NAME and --tenant TENANT\n");
		usage(stderr);
		return 2;
	}
	return credential_put(name, tenant, kind, dsn);
}
