/*-------------------------------------------------------------------------
 *
 * error.c
 *	  Raising the core's errors: one function for every glue file.
 *
 * The core reports an il_error: a code from the catalogue
 * src/core/il_errcodes.txt, a lower-case message and, where it knows one, a
 * position. ironlayer_raise turns it into an ERROR with the catalogue's
 * SQLSTATE (so PostgREST answers the status written there), the message
 * (after the caller's context, if any), a detail (the caller's, or the
 * position) and the caller's hint. ironlayer_raise_corrupt is for errors
 * the core finds in data the extension stored itself (an audit entry, a
 * credential's token, the vault's parameters): whatever the code, that is
 * data corruption (XX001), not bad input.
 *
 * Both format on the error stack only: a caller frees its core objects
 * first, and nothing of the core's is touched after the call.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "il_buf.h"

#include "ironlayer.h"

static void
pg_attribute_noreturn()
raise_core(int sqlerrcode, const il_error *err, const char *context, const char *detail, const char *hint)
{
	const char *message = err->message[0] ? err->message : "unknown error";

	ereport(ERROR,
			(errcode(sqlerrcode),
			 context ? errmsg("%s: %s", context, message) : errmsg("%s", message),
			 detail ? errdetail("%s", detail)
			 : err->line > 0 && err->column > 0 ? errdetail("At line %d, column %d.", err->line, err->column)
			 : err->line > 0 ? errdetail("At line %d.", err->line) : 0,
			 hint ? errhint("%s", hint) : 0));
}

/*
 * Raise a core error with the SQLSTATE of its code. context prefixes the
 * message ("context: message"); detail replaces the position; each may be
 * NULL. An error without a code listed in the catalogue is XX000.
 */
void
ironlayer_raise(const il_error *err, const char *context, const char *detail, const char *hint)
{
	const char *s = il_error_sqlstate(err);

	raise_core(MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4]), err, context, detail, hint);
}

/*
 * Raise a core error about data the extension stored: XX001, except for
 * want of memory (53200), which says nothing about the data.
 */
void
ironlayer_raise_corrupt(const il_error *err, const char *context, const char *detail, const char *hint)
{
	raise_core(il_error_is(err, IL_ERR_OUT_OF_MEMORY) ? ERRCODE_OUT_OF_MEMORY : ERRCODE_DATA_CORRUPTED,
		  err, context, detail, hint);
}
