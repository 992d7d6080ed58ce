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

/*
 * ironlayer parse FILE...: one canonical-JSON line per file on standard
 * output (the object of ironlayer.parse_model), errors on standard error as
 * "ironlayer: FILE:LINE:COLUMN: message". Returns 0, 1 when any file
 * failed, 2 on bad usage.
 */
extern int	il_cmd_parse(int argc, char **argv);

#endif							/* IL_COMMANDS_H */
