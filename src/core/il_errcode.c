/*-------------------------------------------------------------------------
 *
 * il_errcode.c
 *	  The catalogue of the core's errors: names, SQLSTATEs and HTTP statuses.
 *
 * The rows come from il_errcodes.h, generated from il_errcodes.txt (sorted
 * by name, which il_errcode_lookup relies on). Nothing here allocates.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "il_buf.h"

typedef struct errcode_row
{
	const char *name;
	const char *sqlstate;
	int			http;
	const char *meaning;
} errcode_row;

#define IL_ERRCODE_ROW(id, name, sqlstate, http, meaning) [id] = {name, sqlstate, http, meaning},
static const errcode_row rows[IL_ERR_COUNT] = {
	[IL_ERR_NONE] = {NULL, "XX000", 500, NULL},
	IL_ERRCODE_ROWS(IL_ERRCODE_ROW)
};

static const errcode_row *
row(il_errcode code)
{
	return (int) code > IL_ERR_NONE && code < IL_ERR_COUNT ? &rows[code] : &rows[IL_ERR_NONE];
}

const char *
il_errcode_name(il_errcode code)
{
	return row(code)->name;
}

const char *
il_errcode_sqlstate(il_errcode code)
{
	return row(code)->sqlstate;
}

int
il_errcode_http(il_errcode code)
{
	return row(code)->http;
}

const char *
il_errcode_meaning(il_errcode code)
{
	return row(code)->meaning;
}

il_errcode
il_errcode_lookup(const char *name)
{
	int			lo = IL_ERR_NONE + 1;
	int			hi = IL_ERR_COUNT;

	if (name == NULL)
		return IL_ERR_NONE;
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;
		int			c = strcmp(rows[mid].name, name);

		if (c == 0)
			return (il_errcode) mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return IL_ERR_NONE;
}

il_errcode
il_error_code(const il_error *err)
{
	return err == NULL ? IL_ERR_NONE : il_errcode_lookup(err->code);
}

bool
il_error_is(const il_error *err, il_errcode code)
{
	return err != NULL && err->code != NULL && code != IL_ERR_NONE &&
		strcmp(err->code, il_errcode_name(code)) == 0;
}

const char *
il_error_sqlstate(const il_error *err)
{
	return il_errcode_sqlstate(il_error_code(err));
}
