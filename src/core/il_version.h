/*-------------------------------------------------------------------------
 *
 * il_version.h
 *	  The product's version, shared by the extension and the command.
 *
 * The core is plain C: it never includes postgres.h, so the extension, the
 * `ironlayer` command, the unit tests and the fuzzers link the same code.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_VERSION_H
#define IL_VERSION_H

#ifndef IRONLAYER_VERSION
#error "IRONLAYER_VERSION must be defined by the build (see the Makefile)"
#endif

/* The version string, e.g. "0.1.0". */
extern const char *il_version(void);

/* The plan format this build writes. */
#define IL_PLAN_FORMAT "ironlayer.plan/v1"

#endif							/* IL_VERSION_H */
