/*-------------------------------------------------------------------------
 *
 * args.c
 *	  Argument helpers and the error report shared by the subcommands
 *	  (commands.h).
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

/*
 * Prints a core error as "ironlayer: [prefix: ]message [name]", the name
 * from the catalogue (src/core/il_errcodes.txt), as a compiler names its
 * warning. Returns 1, the exit status of a failed command.
 */
int
il_cli_error(const char *prefix, const il_error *err)
{
	const char *name = err->code != NULL ? err->code : il_errcode_name(IL_ERR_INTERNAL_ERROR);

	if (prefix != NULL)
		fprintf(stderr, "ironlayer: %s: %s [%s]\n", prefix, err->message, name);
	else
		fprintf(stderr, "ironlayer: %s [%s]\n", err->message, name);
	return 1;
}

/*
 * Takes the value of option name from "--name=value" or the next argument.
 * Returns the value, or NULL when argv[*i] is not this option; sets *bad
 * when the option lacks its value.
 */
const char *
il_cli_option_value(int argc, char **argv, int *i, const char *name, bool *bad)
{
	size_t		n = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] != '\0')
		return NULL;
	if (*i + 1 >= argc)
	{
		*bad = true;
		return NULL;
	}
	(*i)++;
	return argv[*i];
}

/*
 * Reads a whole file into buf, at most max bytes (0: no limit); false with
 * errno set when it cannot.
 */
bool
il_cli_read_file(const char *path, il_buf *buf, size_t max)
{
	FILE	   *f = fopen(path, "rb");
	char		chunk[65536];
	size_t		n;
	int			saved;

	if (f == NULL)
		return false;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
	{
		il_buf_append(buf, chunk, n);
		if (buf->oom || (max > 0 && buf->len > max))
		{
			fclose(f);
			errno = buf->oom ? ENOMEM : EFBIG;
			return false;
		}
	}
	if (ferror(f))
	{
		saved = errno ? errno : EIO;
		fclose(f);
		errno = saved;
		return false;
	}
	fclose(f);
	return true;
}
