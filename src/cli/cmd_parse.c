/*-------------------------------------------------------------------------
 *
 * cmd_parse.c
 *	  `ironlayer parse FILE...`: parse model files offline.
 *
 * Prints, per file and in the order given, the object ironlayer.parse_model
 * returns, as one line of canonical JSON (RFC 8785). A file that cannot be
 * read or parsed prints nothing on standard output and a line
 * "ironlayer: FILE:LINE:COLUMN: message [code]" on standard error (without the
 * column or line when the error has none); the other files are still
 * parsed. Files are read whole and as bytes (NUL bytes and invalid UTF-8
 * are reported, not truncated).
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "il_model.h"

#define EXIT_USAGE 2

/*
 * Parses one file and prints its line; false when it failed.
 */
static bool
parse_one(const char *path, il_buf *text, il_buf *json)
{
	il_model	model;
	il_error	err;
	il_parse_status st;

	il_buf_reset(text);
	il_buf_reset(json);
	errno = 0;
	if (!il_cli_read_file(path, text, 0))
	{
		fprintf(stderr, "ironlayer: %s: cannot read the file: %s\n", path, strerror(errno));
		return false;
	}
	il_error_clear(&err);
	st = il_model_parse(text->data, text->len, &model, &err);
	if (st != IL_PARSE_OK)
	{
		char		where[4096];

		if (err.line > 0 && err.column > 0)
			snprintf(where, sizeof(where), "%s:%d:%d", path, err.line, err.column);
		else if (err.line > 0)
			snprintf(where, sizeof(where), "%s:%d", path, err.line);
		else
			snprintf(where, sizeof(where), "%s", path);
		il_cli_error(where, &err);
		il_model_free(&model);
		return false;
	}
	il_model_to_json(&model, json);
	il_model_free(&model);
	if (json->oom)
	{
		fprintf(stderr, "ironlayer: %s: out of memory\n", path);
		return false;
	}
	il_buf_putc(json, '\n');
	fwrite(json->data, 1, json->len, stdout);
	return true;
}

/*
 * ironlayer parse FILE...
 */
int
il_cmd_parse(int argc, char **argv)
{
	il_buf		text = IL_BUF_INIT;
	il_buf		json = IL_BUF_INIT;
	int			failed = 0;
	int			i;

	if (argc < 2)
	{
		fprintf(stderr, "ironlayer: parse needs at least one file\n"
				"Usage: ironlayer parse FILE...\n");
		return EXIT_USAGE;
	}
	for (i = 1; i < argc; i++)
		if (!parse_one(argv[i], &text, &json))
			failed++;
	il_buf_free(&text);
	il_buf_free(&json);
	if (fflush(stdout) != 0)
	{
		fprintf(stderr, "ironlayer: cannot write the output: %s\n", strerror(errno));
		return 1;
	}
	return failed > 0 ? 1 : 0;
}
