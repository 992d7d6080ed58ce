/*
 * Unit tests of il_dbx_host.c: the workspace URL's one form, host
 * patterns (exact, "*.", ports, addresses) and CA file names, with the
 * spellings a hostile tenant would try.
 */
#include <stdlib.h>
#include <string.h>

#include "il_dbx_host.h"
#include "unit.h"

/* The normalized origin, or "ERR". */
static const char *
url(il_buf *b, const char *u)
{
	char		host[254];
	int			port;

	if (il_dbx_url_check(u, strlen(u), b, host, sizeof(host), &port) != NULL)
		return "ERR";
	return il_buf_cstr(b);
}

int
main(void)
{
	il_buf		b = IL_BUF_INIT;
	char		host[254];
	int			port = 0;
	char		big[400];
	static const char *const bad_urls[] = {
		"http://adb-1.2.azuredatabricks.net",
		"https//adb-1.2.azuredatabricks.net",
		"https://",
		"https://user@adb-1.2.azuredatabricks.net",
		"https://user:pw@adb-1.2.azuredatabricks.net/",
		"https://adb-1.2.azuredatabricks.net@evil.com",
		"https://adb-1.2.azuredatabricks.net/api",
		"https://adb-1.2.azuredatabricks.net//",
		"https://adb-1.2.azuredatabricks.net?x=1",
		"https://adb-1.2.azuredatabricks.net/#f",
		"https://adb-1.2.azuredatabricks.net.",
		"https://adb-1.2.azuredatabricks.net./",
		"https://.azuredatabricks.net",
		"https://a..azuredatabricks.net",
		"https://-a.azuredatabricks.net",
		"https://a-.azuredatabricks.net",
		"https://[::1]",
		"https://[::ffff:127.0.0.1]:443",
		"https://2130706433",
		"https://0x7f.0.0.1",
		"https://0177.0.0.1",
		"https://127.1",
		"https://256.0.0.1",
		"https://127.0.0.01",
		"https://1.2.3.4.5",
		"https://exa%6dple.com",
		"https://example.com\\@evil.com",
		"https://xn--bcher-kva.example\xc3\xa9",
		"https://b\xc3\xbc" "cher.example",
		"https://example.com:0",
		"https://example.com:65536",
		"https://example.com:08443",
		"https://example.com:",
		"https://example.com:443:443",
		"https://example.com:abc",
		"https://exa mple.com",
		"https://example.com /",
		" https://example.com",
		"https://example.com\t",
		"https://example.123",
	};
	size_t		i;

	/* good URLs, normalized */
	CHECK_STR(url(&b, "https://adb-1234.5.azuredatabricks.net"), "https://adb-1234.5.azuredatabricks.net", "plain");
	CHECK_STR(url(&b, "HTTPS://ADB-1234.5.AzureDatabricks.NET/"), "https://adb-1234.5.azuredatabricks.net", "case and final slash");
	CHECK_STR(url(&b, "https://dbc-1.cloud.databricks.com:443"), "https://dbc-1.cloud.databricks.com", "port 443 dropped");
	CHECK_STR(url(&b, "https://127.0.0.1:8443/"), "https://127.0.0.1:8443", "an address and a port");
	CHECK_STR(url(&b, "https://localhost:1"), "https://localhost:1", "port 1");
	CHECK_STR(url(&b, "https://xn--bcher-kva.example"), "https://xn--bcher-kva.example", "punycode");
	CHECK(il_dbx_url_check("https://LocalHost:65535", 23, NULL, host, sizeof(host), &port) == NULL
		  && strcmp(host, "localhost") == 0 && port == 65535, "host and port out");
	CHECK(il_dbx_url_check("https://example.com", 19, NULL, NULL, 0, &port) == NULL && port == 443, "default port 443");

	for (i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++)
	{
		char		what[160];

		snprintf(what, sizeof(what), "refused: %.120s", bad_urls[i]);
		CHECK(strcmp(url(&b, bad_urls[i]), "ERR") == 0, what);
	}
	CHECK(il_dbx_url_check("https://a.com\0.evil", 19, &b, NULL, 0, NULL) != NULL, "refused: a NUL inside");
	memset(big, 'a', sizeof(big));
	memcpy(big, "https://", 8);
	CHECK(il_dbx_url_check(big, sizeof(big), &b, NULL, 0, NULL) != NULL, "refused: over 300 characters");
	{
		/* a 64-character label */
		char		u[100] = "https://";

		memset(u + 8, 'a', 64);
		strcpy(u + 72, ".com");
		CHECK(strcmp(url(&b, u), "ERR") == 0, "refused: a label of 64 characters");
		strcpy(u + 71, ".com");
		CHECK(strcmp(url(&b, u), "ERR") != 0, "a label of 63 characters");
	}

	/* authorities */
	CHECK(il_dbx_authority_check("Example.COM:8443", 16, host, sizeof(host), &port) == NULL
		  && strcmp(host, "example.com") == 0 && port == 8443, "authority with a port");
	CHECK(il_dbx_authority_check("example.com", 11, host, sizeof(host), &port) == NULL && port == 443,
		  "authority without a port");
	CHECK(il_dbx_authority_check("a@example.com", 13, host, sizeof(host), &port) != NULL, "authority with @ refused");

	/* pattern lists */
	CHECK(il_dbx_patterns_check("*.cloud.databricks.com,*.azuredatabricks.net,*.gcp.databricks.com") == NULL, "the default list");
	CHECK(il_dbx_patterns_check("") == NULL && il_dbx_patterns_check("  ") == NULL, "an empty list");
	CHECK(il_dbx_patterns_check(" 127.0.0.1 , localhost:8443,*.Example.com:9 ") == NULL, "blanks, ports, case");
	CHECK(il_dbx_patterns_check("a.com,,b.com") != NULL, "refused: an empty item");
	CHECK(il_dbx_patterns_check("a.com,") != NULL, "refused: a final comma");
	CHECK(il_dbx_patterns_check(",a.com") != NULL, "refused: a first comma");
	CHECK(il_dbx_patterns_check("*") != NULL, "refused: a bare *");
	CHECK(il_dbx_patterns_check("*.*.com") != NULL, "refused: two stars");
	CHECK(il_dbx_patterns_check("a*.com") != NULL, "refused: a star inside");
	CHECK(il_dbx_patterns_check("*.0.0.1") != NULL && il_dbx_patterns_check("*.10.0.0.1") != NULL,
		  "refused: a star on an address");
	CHECK(il_dbx_patterns_check("https://a.com") != NULL, "refused: a URL");
	CHECK(il_dbx_patterns_check("a.com/x") != NULL, "refused: a path");
	CHECK(il_dbx_patterns_check("a.com.") != NULL, "refused: a trailing dot");

	/* matching */
	{
		const char *def = "*.cloud.databricks.com,*.azuredatabricks.net,*.gcp.databricks.com";

		CHECK(il_dbx_host_match(def, "adb-1.5.azuredatabricks.net", 443), "two labels under a star");
		CHECK(il_dbx_host_match(def, "dbc-1.cloud.databricks.com", 8443), "a pattern without port matches any port");
		CHECK(!il_dbx_host_match(def, "azuredatabricks.net", 443), "a star needs a label");
		CHECK(!il_dbx_host_match(def, "evilazuredatabricks.net", 443), "a star needs a dot");
		CHECK(!il_dbx_host_match(def, "azuredatabricks.net.evil.com", 443), "a suffix, not a prefix");
		CHECK(!il_dbx_host_match(def, "adb-1.azuredatabricks.net.", 443), "a trailing dot matches nothing");
		CHECK(il_dbx_host_match(def, "ADB-1.azuredatabricks.net", 443), "host case ignored");
		CHECK(!il_dbx_host_match(def, "adb-1.azuredatabricks.net:443", 443), "host must carry no port");
		CHECK(!il_dbx_host_match(def, "127.0.0.1", 443), "an address against the default");
		CHECK(il_dbx_host_match("127.0.0.1,localhost", "127.0.0.1", 40000), "an exact address");
		CHECK(!il_dbx_host_match("127.0.0.1", "127.0.0.2", 443), "another address");
		CHECK(il_dbx_host_match("*.example.com", "1.example.com", 443), "a name with a digit label");
		CHECK(il_dbx_host_match("localhost:8443", "localhost", 8443), "a port that matches");
		CHECK(!il_dbx_host_match("localhost:8443", "localhost", 443), "a port that does not");
		CHECK(il_dbx_host_match("*.Example.COM:9", "a.example.com", 9), "pattern case ignored");
		CHECK(!il_dbx_host_match("", "localhost", 443), "an empty list allows nothing");
		CHECK(!il_dbx_host_match("localhost,,", "localhost", 443), "a bad list allows nothing");
		CHECK(!il_dbx_host_match(NULL, "localhost", 443), "no list allows nothing");
		CHECK(!il_dbx_host_match("localhost", NULL, 443), "no host");
	}

	/* CA file names */
	CHECK(il_dbx_ca_name_check("corp-ca.pem", 11) == NULL, "a file name");
	CHECK(il_dbx_ca_name_check("Corp_CA.2026.crt", 16) == NULL, "capitals, digits, dots");
	CHECK(il_dbx_ca_name_check("", 0) != NULL, "refused: empty");
	CHECK(il_dbx_ca_name_check(".hidden", 7) != NULL, "refused: leading dot");
	CHECK(il_dbx_ca_name_check("..", 2) != NULL, "refused: ..");
	CHECK(il_dbx_ca_name_check("../etc/passwd", 13) != NULL, "refused: traversal");
	CHECK(il_dbx_ca_name_check("a/b.pem", 7) != NULL, "refused: a slash");
	CHECK(il_dbx_ca_name_check("a\\b.pem", 7) != NULL, "refused: a backslash");
	CHECK(il_dbx_ca_name_check("a\0b", 3) != NULL, "refused: a NUL");
	CHECK(il_dbx_ca_name_check("caf\xc3\xa9.pem", 9) != NULL, "refused: non-ASCII");
	memset(big, 'a', 256);
	CHECK(il_dbx_ca_name_check(big, 256) != NULL && il_dbx_ca_name_check(big, 255) == NULL, "255 bytes at most");

	il_buf_free(&b);
	printf("1..%d\n", unit_count);
	return unit_failed ? 1 : 0;
}
