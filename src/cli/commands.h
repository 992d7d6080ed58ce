/*-------------------------------------------------------------------------
 *
 * commands.h
 *	  The subcommands of the `ironlayer` command.
 *
 * Each takes the arguments after its name (argv[0] is the subcommand's
 * name) and returns the process exit status.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_COMMANDS_H
#define IL_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>

#include "il_buf.h"

/*
 * ironlayer parse FILE...: one canonical-JSON line per file on standard
 * output (the object of ironlayer.parse_model), errors on standard error as
 * "ironlayer: FILE:LINE:COLUMN: message [code]". Returns 0, 1 when any file
 * failed, 2 on bad usage.
 */
extern int	il_cmd_parse(int argc, char **argv);

/*
 * Prints a core error on standard error as "ironlayer: [prefix: ]message
 * [name]" (name: the error's code in the catalogue); returns 1.
 */
extern int	il_cli_error(const char *prefix, const il_error *err);

/*
 * The value of option name ("--name=value" or "--name value") at argv[*i],
 * advancing *i past a separate value; NULL when argv[*i] is another
 * option, or (with *bad set) when the value is missing.
 */
extern const char *il_cli_option_value(int argc, char **argv, int *i, const char *name, bool *bad);

/*
 * Appends the whole file at path to buf, at most max bytes (0: no limit).
 * False with errno set when it cannot (EFBIG over max, ENOMEM).
 */
extern bool il_cli_read_file(const char *path, il_buf *buf, size_t max);

#endif							/* IL_COMMANDS_H */
