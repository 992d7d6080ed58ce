/*-------------------------------------------------------------------------
 *
 * args.c
 *	  Argument helpers shared by the subcommands (commands.h).
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "commands.h"

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
