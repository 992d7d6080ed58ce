/*
 * Unit tests of the error catalogue (src/core/il_errcodes.txt, il_errcode.c):
 * every entry has a valid name and SQLSTATE, the HTTP status written beside
 * it is the one PostgREST's mapping gives that SQLSTATE (so nothing a user
 * can cause is a 5xx by accident), names are sorted and found; docs/errors.md
 * lists exactly the catalogue; and no source file spells a code as a string
 * instead of taking it from the catalogue. Run from the top of the checkout
 * (it reads docs/ and src/).
 */
#include <ctype.h>
#include <glob.h>

#include "il_buf.h"
#include "unit.h"

/*
 * PostgREST's status for a SQLSTATE (docs/errors.md, "HTTP status"; its
 * error table and the extra cases of its Error.hs).
 */
static int
postgrest_status(const char *s)
{
	static const struct
	{
		const char *prefix;
		int			status;
	}			map[] = {
		/* exact codes before their class */
		{"21000", 500}, {"23503", 409}, {"23505", 409}, {"25006", 405},
		{"42883", 404}, {"42P01", 404}, {"42P17", 500}, {"42501", 403},
		{"53400", 500}, {"57P01", 503}, {"P0001", 400},
		{"08", 503}, {"09", 500}, {"0L", 403}, {"0P", 403}, {"25", 500},
		{"28", 403}, {"2D", 500}, {"38", 500}, {"39", 500}, {"3B", 500},
		{"40", 500}, {"53", 503}, {"54", 500}, {"55", 500}, {"57", 500},
		{"58", 500}, {"F0", 500}, {"HV", 500}, {"XX", 500}, {"P0", 500},
	};
	size_t		i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strncmp(s, map[i].prefix, strlen(map[i].prefix)) == 0)
			return map[i].status;
	if (strncmp(s, "PT", 2) == 0 && isdigit((unsigned char) s[2]) &&
		isdigit((unsigned char) s[3]) && isdigit((unsigned char) s[4]))
		return atoi(s + 2);
	return 400;
}

static int
valid_name(const char *s)
{
	if (s == NULL || !islower((unsigned char) *s))
		return 0;
	for (; *s; s++)
		if (!islower((unsigned char) *s) && !isdigit((unsigned char) *s) && *s != '_')
			return 0;
	return 1;
}

static int
valid_sqlstate(const char *s)
{
	int			i;

	for (i = 0; i < 5; i++)
		if (!isdigit((unsigned char) s[i]) && !isupper((unsigned char) s[i]))
			return 0;
	/* not success, warning or no data */
	return s[5] == '\0' && strncmp(s, "00", 2) != 0 && strncmp(s, "01", 2) != 0 &&
		strncmp(s, "02", 2) != 0;
}

/* The catalogue itself. */
static void
test_table(void)
{
	int			bad_name = 0,
				bad_state = 0,
				bad_http = 0,
				unsorted = 0,
				not_found = 0,
				internal = 0;
	int			c;

	CHECK(IL_ERR_COUNT > 50, "the catalogue lists the core's codes");
	for (c = IL_ERR_NONE + 1; c < IL_ERR_COUNT; c++)
	{
		const char *name = il_errcode_name((il_errcode) c);
		const char *state = il_errcode_sqlstate((il_errcode) c);
		int			http = il_errcode_http((il_errcode) c);

		if (!valid_name(name) || il_errcode_meaning((il_errcode) c) == NULL)
			bad_name++;
		if (!valid_sqlstate(state))
			bad_state++;
		if (http != postgrest_status(state) || http < 400 || http > 599)
		{
			bad_http++;
			printf("#   %s: %s is %d under PostgREST, the catalogue says %d\n", name, state,
				   postgrest_status(state), http);
		}
		/* internal errors only for what no input causes */
		if (strncmp(state, "XX", 2) == 0 && strcmp(name, "internal_error") != 0 &&
			strcmp(name, "crypto_failure") != 0 && strcmp(name, "kdf_failed") != 0)
			internal++;
		if (c > IL_ERR_NONE + 1 && strcmp(il_errcode_name((il_errcode) (c - 1)), name) >= 0)
			unsorted++;
		if (il_errcode_lookup(name) != (il_errcode) c)
			not_found++;
	}
	CHECK(bad_name == 0, "every name is lower-case letters, digits and '_', with a meaning");
	CHECK(bad_state == 0, "every SQLSTATE is five digits or upper-case letters, an error class");
	CHECK(bad_http == 0, "every HTTP status is the one PostgREST gives the SQLSTATE, 4xx or 5xx");
	CHECK(internal == 0, "XX only for libcrypto failures and the renderer's invariants");
	CHECK(unsorted == 0 && not_found == 0, "names are sorted and unique, and each is found");
	CHECK(il_errcode_lookup("nonsense") == IL_ERR_NONE && il_errcode_lookup(NULL) == IL_ERR_NONE &&
		  il_errcode_lookup("") == IL_ERR_NONE, "an unknown name is IL_ERR_NONE");
	CHECK(il_errcode_name(IL_ERR_NONE) == NULL && strcmp(il_errcode_sqlstate(IL_ERR_NONE), "XX000") == 0 &&
		  il_errcode_name(IL_ERR_COUNT) == NULL && il_errcode_http((il_errcode) -1) == 500,
		  "no code, or one out of range: no name, XX000");
	CHECK_STR(il_errcode_sqlstate(IL_ERR_OUT_OF_MEMORY), "53200", "out_of_memory is 53200");
	CHECK(il_errcode_http(IL_ERR_CYCLE) == 400 && il_errcode_http(IL_ERR_UNKNOWN_REF) == 400 &&
		  il_errcode_http(IL_ERR_AMBIGUOUS_REFERENCE) == 400,
		  "a repository's broken definitions are 400 (no longer 42P17, a 500)");
	CHECK(il_errcode_http(IL_ERR_PATH_OUTSIDE_ROOT) == 403 && il_errcode_http(IL_ERR_OUT_OF_MEMORY) == 503,
		  "a confinement refusal is 403, want of memory 503");
}

/* il_error carries the catalogue's name. */
static void
test_error(void)
{
	il_error	err;

	il_error_clear(&err);
	CHECK(il_error_code(&err) == IL_ERR_NONE && !il_error_is(&err, IL_ERR_CYCLE) &&
		  strcmp(il_error_sqlstate(&err), "XX000") == 0, "a clear error has no code");
	il_error_set(&err, IL_ERR_CYCLE, 2, 3, "dependency cycle: %s", "a -> a");
	CHECK(err.code == il_errcode_name(IL_ERR_CYCLE) && strcmp(err.code, "cycle") == 0 &&
		  il_error_code(&err) == IL_ERR_CYCLE && il_error_is(&err, IL_ERR_CYCLE) &&
		  !il_error_is(&err, IL_ERR_NONE) && strcmp(il_error_sqlstate(&err), "42P19") == 0,
		  "il_error_set stores the name; code, test and SQLSTATE come back");
	CHECK(!il_error_is(NULL, IL_ERR_CYCLE) && il_error_code(NULL) == IL_ERR_NONE, "a NULL error is none");
}

/*
 * docs/errors.md lists every code once, as "| `name` | SQLSTATE | HTTP | ...",
 * with the catalogue's SQLSTATE and status, and nothing else.
 */
static void
test_docs(void)
{
	size_t		len;
	char	   *doc = unit_read_file("docs/errors.md", &len);
	int			seen[IL_ERR_COUNT] = {0};
	int			rows = 0,
				wrong = 0,
				missing = 0;
	char	   *line;
	int			c;

	if (!CHECK(doc != NULL, "docs/errors.md is readable (run from the top of the checkout)"))
		return;
	for (line = strtok(doc, "\n"); line != NULL; line = strtok(NULL, "\n"))
	{
		char		name[64],
					state[16];
		int			http;
		il_errcode	code;

		if (sscanf(line, "| `%63[a-z0-9_]` | %15[0-9A-Z] | %d |", name, state, &http) != 3)
			continue;
		rows++;
		code = il_errcode_lookup(name);
		if (code == IL_ERR_NONE || seen[code]++ ||
			strcmp(state, il_errcode_sqlstate(code)) != 0 || http != il_errcode_http(code))
		{
			wrong++;
			printf("#   docs/errors.md: %s %s %d\n", name, state, http);
		}
	}
	for (c = IL_ERR_NONE + 1; c < IL_ERR_COUNT; c++)
		if (!seen[c])
		{
			missing++;
			printf("#   docs/errors.md does not list %s\n", il_errcode_name((il_errcode) c));
		}
	CHECK(rows > 0 && wrong == 0 && missing == 0,
		  "docs/errors.md lists every code once with its SQLSTATE and HTTP status");
	free(doc);
}

/*
 * No source names a code by a string of its own: codes are set with
 * il_error_set(err, IL_ERR_...) (the compiler checks those), and compared
 * with il_error_is. Looks for '.code = "', '->code = "' and 'code, "' (a
 * strcmp against a literal) in src/.
 */
static void
test_sources(void)
{
	static const char *const patterns[] = {"src/core/*.c", "src/pg/*.c", "src/cli/*.c"};
	static const char *const spellings[] = {".code = \"", "->code = \"", "code, \""};
	size_t		i,
				j,
				k;
	int			files = 0,
				hits = 0;

	for (i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++)
	{
		glob_t		g;

		if (glob(patterns[i], 0, NULL, &g) != 0)
			continue;
		for (j = 0; j < g.gl_pathc; j++)
		{
			size_t		len;
			char	   *text = unit_read_file(g.gl_pathv[j], &len);

			if (text == NULL)
				continue;
			files++;
			for (k = 0; k < sizeof(spellings) / sizeof(spellings[0]); k++)
			{
				const char *p = text;

				while ((p = strstr(p, spellings[k])) != NULL)
				{
					hits++;
					printf("#   %s spells a code: ...%.40s\n", g.gl_pathv[j], p);
					p++;
				}
			}
			free(text);
		}
		globfree(&g);
	}
	CHECK(files > 40 && hits == 0, "no source spells an error code as a string of its own");
}

int
main(void)
{
	test_table();
	test_error();
	test_docs();
	test_sources();
	return unit_done();
}
