/*
 * libFuzzer harness of il_sources.c: parse arbitrary bytes as sources.txt,
 * then look up every line of the input as a reference.
 *
 * Invariants checked (abort on violation):
 *	- success: the input is at most 1 MiB of UTF-8 without NUL bytes, with
 *	  at most 10,000 entries; a line that is a plain entry (two or three
 *	  words of [a-z0-9_] joined by dots, nothing else) is declared, in any
 *	  case; il_sources_unknown with the declaration is the negation of
 *	  il_sources_declares; parsing again gives the same count;
 *	- failure: the code is invalid_sources (or out_of_memory), the message
 *	  starts with the file's path, and the line is within the input;
 *	- lookups never fail, whatever the text (also as model names for
 *	  il_sources_model_schemas);
 *	- memory: at most 8 bytes of the core's heap per input byte plus 4 MB
 *	  (test/bench/memcount.h; the keys' text, a table of at most 30,000
 *	  keys).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "il_sources.h"
#include "il_text.h"
#include "memcount.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PATH "models/sources.txt"

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_sources: invariant violated: %s\n", what);
	abort();
}

/* Is s[0..n) a plain entry: 2 or 3 words of [a-z0-9_] joined by dots? */
static int
plain_entry(const char *s, size_t n)
{
	int			parts = 1;
	size_t		i;
	size_t		run = 0;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
	{
		char		c = s[i];

		if (c == '.')
		{
			if (run == 0)
				return 0;
			parts++;
			run = 0;
		}
		else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')
			run++;
		else
			return 0;
	}
	return run > 0 && (parts == 2 || parts == 3);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *) data;
	il_sources *decl = NULL;
	il_sources *again = NULL;
	il_sources *schemas = NULL;
	il_error	err;
	long long	base;
	int			rc;
	size_t		lines = 1;
	size_t		pos = 0;
	size_t		nnames = 0;
	char	  **names = NULL;
	size_t		i;

	for (i = 0; i < size; i++)
		if (s[i] == '\n')
			lines++;
	il_error_clear(&err);
	base = memcount_start();
	rc = il_sources_parse(s, size, PATH, &decl, &err);
	if (memcount_peak_since(base) > 8 * (long long) size + ((long long) 4 << 20))
		fail("more memory per input byte than the bound");
	if (rc == 0)
	{
		if (decl == NULL)
			fail("success without a declaration");
		if (size > IL_SOURCES_MAX_SIZE || !il_utf8_valid(s, size, NULL) || memchr(s, '\0', size) != NULL)
			fail("accepted a file it must refuse");
		if (il_sources_count(decl) > IL_SOURCES_MAX_ENTRIES)
			fail("more entries than the bound");
		if (il_sources_parse(s, size, PATH, &again, &err) != 0 ||
			il_sources_count(again) != il_sources_count(decl))
			fail("parsing again differs");
		il_sources_free(again);
	}
	else
	{
		if (decl != NULL)
			fail("a declaration on error");
		if (err.code == NULL || (strcmp(err.code, "invalid_sources") != 0 && strcmp(err.code, "out_of_memory") != 0))
			fail("an unexpected error code");
		if (strncmp(err.message, PATH, strlen(PATH)) != 0 && strcmp(err.code, "out_of_memory") != 0)
			fail("the message does not name the file");
		if (err.line < 0 || (size_t) err.line > lines)
			fail("the error's line is outside the input");
	}

	/* every line as a reference, and as a model name */
	names = malloc((lines + 1) * sizeof(char *));
	if (names == NULL)
		return 0;
	while (pos <= size && nnames < lines)
	{
		const char *nl = memchr(s + pos, '\n', size - pos);
		size_t		end = nl ? (size_t) (nl - s) : size;
		char	   *line = malloc(end - pos + 1);

		if (line == NULL)
			break;
		memcpy(line, s + pos, end - pos);
		line[end - pos] = '\0';
		names[nnames++] = line;
		if (decl != NULL && strlen(line) == end - pos)
		{
			bool		d = il_sources_declares(decl, line);

			if (il_sources_unknown(decl, NULL, line) == d)
				fail("unknown is not the negation of declared");
			if (plain_entry(line, end - pos) && !d)
				fail("a plain entry of the file is not declared");
		}
		pos = end + 1;
	}
	if (il_sources_model_schemas((const char *const *) names, nnames, &schemas, &err) == 0)
	{
		for (i = 0; i < nnames; i++)
			(void) il_sources_unknown(NULL, schemas, names[i]);
		il_sources_free(schemas);
	}
	for (i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	il_sources_free(decl);
	return 0;
}
