/*-------------------------------------------------------------------------
 *
 * telemetry.c
 *	  ironlayer._scrub(): the core's PII scrubber (src/core/il_scrub.c) for
 *	  text that telemetry stores (error messages, statements).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "il_scrub.h"

/* Longest scrubbed text kept, in bytes (cut at a whole character). */
#define SCRUB_MAX 4096

PG_FUNCTION_INFO_V1(ironlayer_scrub);
/*
 * ironlayer._scrub(t text, is_sql boolean DEFAULT false) returns text
 *
 * No size limit of its own (docs/limits.md): it keeps at most SCRUB_MAX
 * bytes and the core stops scrubbing once it has them, so its memory is
 * its argument and a few kilobytes, and it never fails its caller
 * (complete_step) for a long message.
 */
Datum
ironlayer_scrub(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	bool		is_sql = PG_GETARG_BOOL(1);
	il_buf		out = IL_BUF_INIT;
	text	   *result;

	char		kept[SCRUB_MAX];
	size_t		len;

	il_scrub_max(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), is_sql ? IL_SCRUB_SQL : 0, SCRUB_MAX, &out);
	if (out.oom)
	{
		il_buf_free(&out);
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	}
	/* the core's buffer is freed before anything here can fail */
	len = Min(out.len, SCRUB_MAX);
	memcpy(kept, out.data ? out.data : "", len);
	il_buf_free(&out);
	result = cstring_to_text_with_len(kept, (int) len);
	PG_RETURN_TEXT_P(result);
}
