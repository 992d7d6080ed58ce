/*
 * Unit tests of il_dbx_cred.c: the secrets of databricks-pat and
 * databricks-oauth credentials, good and bad, and that a reason never
 * repeats the secret.
 */
#include <stdlib.h>
#include <string.h>

#include "il_dbx_cred.h"
#include "unit.h"

static int
oauth_ok(const char *s, const char *want_id, const char *want_secret)
{
	il_buf		id = IL_BUF_INIT;
	il_buf		sec = IL_BUF_INIT;
	int			ok = il_dbx_oauth_parse(s, strlen(s), &id, &sec) == NULL
		&& strcmp(il_buf_cstr(&id), want_id) == 0 && strcmp(il_buf_cstr(&sec), want_secret) == 0;

	il_buf_free(&id);
	il_buf_free(&sec);
	return ok;
}

static int
oauth_bad(const char *s)
{
	const char *why = il_dbx_oauth_parse(s, strlen(s), NULL, NULL);

	/* never repeats the secret's values */
	return why != NULL && strstr(why, "s3cr3t") == NULL;
}

int
main(void)
{
	char		big[5000];
	static const char *const bad[] = {
		"",
		"[]",
		"\"x\"",
		"{}",
		"{\"client_id\": \"a\"}",
		"{\"client_secret\": \"s3cr3t\"}",
		"{\"client_id\": \"a\", \"client_secret\": \"s3cr3t\", \"x\": \"y\"}",
		"{\"client_id\": \"a\", \"client_id\": \"b\", \"client_secret\": \"s3cr3t\"}",
		"{\"client_id\": \"\", \"client_secret\": \"s3cr3t\"}",
		"{\"client_id\": \"a\", \"client_secret\": \"\"}",
		"{\"client_id\": 1, \"client_secret\": \"s3cr3t\"}",
		"{\"client_id\": \"a\", \"client_secret\": null}",
		"{\"client_id\": \"a b\", \"client_secret\": \"s3cr3t\"}",
		"{\"client_id\": \"a\", \"client_secret\": \"s3cr3t\\n\"}",
		"{\"client_id\": \"a\", \"client_secret\": \"s3cr3t\\r\\nX-Evil: 1\"}",
		"{\"client_id\": \"a\", \"client_secret\": \"s3cr3t\\u000a\"}",
		"{\"client_id\": \"a\", \"client_secret\": \"s3cr3t\\u00e9\"}",
		"{\"client_id\": \"a\", \"client_secret\": \"s3cr3t\\u12\"}",
		"{\"client_id\": \"a\", \"client_secret\": \"caf\xc3\xa9s3cr3t\"}",
		"{\"client_id\": \"a\", \"client_secret\": \"s3cr3t\"} x",
		"{\"client_id\": \"a\", \"client_secret\": \"s3cr3t\",}",
		"{\"client_id\": \"a\" \"client_secret\": \"s3cr3t\"}",
		"{\"client_id\": \"a\", \"client_secret\": \"s3cr3t",
		"{\"client_id\": \"a\", \"client_secret\": \"s3cr3t\"",
		"{\"client_id\": \"a\", \"client_secret\": {\"s3cr3t\": 1}}",
		"{\"client_id\": \"a\", \"client_secret\": [\"s3cr3t\"]}",
		"{\"CLIENT_ID\": \"a\", \"client_secret\": \"s3cr3t\"}",
	};
	size_t		i;

	CHECK(il_dbx_pat_check("dapi0123456789abcdef", 20) == NULL, "a token");
	CHECK(il_dbx_pat_check("", 0) != NULL, "refused: empty token");
	CHECK(il_dbx_pat_check("dapi 1", 6) != NULL, "refused: a space");
	CHECK(il_dbx_pat_check("dapi1\r\nX-Evil: 1", 16) != NULL, "refused: a line break (header injection)");
	CHECK(il_dbx_pat_check("dapi\0" "1", 6) != NULL, "refused: a NUL");
	CHECK(il_dbx_pat_check("dapi\xc3\xa9", 6) != NULL, "refused: non-ASCII");
	memset(big, 'a', sizeof(big));
	CHECK(il_dbx_pat_check(big, 4096) == NULL && il_dbx_pat_check(big, 4097) != NULL, "4096 characters at most");

	CHECK(oauth_ok("{\"client_id\": \"6f1c-id\", \"client_secret\": \"dose-s3cr3t\"}", "6f1c-id", "dose-s3cr3t"), "an OAuth client");
	CHECK(oauth_ok(" \n{\"client_secret\":\"x\\\"y\\\\z\\/\\u0041\",\"client_id\":\"i\"}\n", "i", "x\"y\\z/A"),
		  "either order, escapes, blanks around");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		char		what[200];

		snprintf(what, sizeof(what), "refused without echo: %s", bad[i]);
		CHECK(oauth_bad(bad[i]), what);
	}
	{
		char		s[5100];

		memset(big, 'a', sizeof(big));
		big[4097] = '\0';
		snprintf(s, sizeof(s), "{\"client_id\": \"a\", \"client_secret\": \"%s\"}", big);
		CHECK(oauth_bad(s), "refused: a secret of 4097 characters");
		big[4096] = '\0';
		snprintf(s, sizeof(s), "{\"client_id\": \"a\", \"client_secret\": \"%s\"}", big);
		CHECK(il_dbx_oauth_parse(s, strlen(s), NULL, NULL) == NULL, "a secret of 4096 characters");
	}
	printf("1..%d\n", unit_count);
	return unit_failed ? 1 : 0;
}
