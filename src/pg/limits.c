/*-------------------------------------------------------------------------
 *
 * limits.c
 *	  Size limits of the SQL entry points (docs/limits.md), and the rule
 *	  of the names the C entry points take.
 *
 * Every SQL function that takes text, bytes or JSON checks the size of each
 * such argument before any other work, and answers an argument over its
 * limit with SQLSTATE 22001 (string_data_right_truncation, what PostgreSQL
 * answers a value too long for varchar(n)), which PostgREST maps to 400. The size is read from the datum's header (a toasted value is not
 * decompressed to be measured), so an oversized argument costs nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "ironlayer.h"

/*
 * Raise 22001 when the varlena datum d (text, bytea, json, jsonb) holds
 * more than max bytes. what names the argument in the message
 * ("the model text", "settings").
 */
void
ironlayer_check_size(const char *what, Datum d, Size max)
{
	Size		size = toast_raw_datum_size(d) - VARHDRSZ;

	if (size > max)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("%s is too long", what),
				 errdetail("It has %zu bytes; the limit is %zu bytes.", size, max),
				 errhint("docs/limits.md lists the size limit of every argument.")));
}

PG_FUNCTION_INFO_V1(ironlayer_check_size_sql);
/*
 * ironlayer._check_size(what text, value "any", max_bytes int) returns void:
 * ironlayer_check_size for SQL-language API functions, for a value of any
 * variable-length type (text, jsonb, bytea). A NULL value passes (the caller
 * checks NULLs itself).
 */
Datum
ironlayer_check_size_sql(PG_FUNCTION_ARGS)
{
	Oid			type = get_fn_expr_argtype(fcinfo->flinfo, 1);

	if (PG_ARGISNULL(1))
		PG_RETURN_VOID();
	if (PG_ARGISNULL(0) || PG_ARGISNULL(2) || PG_GETARG_INT32(2) < 0
		|| !OidIsValid(type) || get_typlen(type) != -1)
		elog(ERROR, "_check_size needs a name, a variable-length value and a limit");
	ironlayer_check_size(text_to_cstring(PG_GETARG_TEXT_PP(0)), PG_GETARG_DATUM(1),
						 (Size) PG_GETARG_INT32(2));
	PG_RETURN_VOID();
}

/*
 * Is s a name: a lower-case letter, then lower-case letters, digits, '_'
 * and the characters of extra, at most max bytes? The rule of the domains
 * ironlayer.slug and ironlayer.dotted_slug (extra "_-", "_.-"), checked
 * first so that a bad name gets its function's own 22023 message.
 */
bool
ironlayer_valid_name(const char *s, size_t max, const char *extra)
{
	size_t		n = 0;

	if (!(*s >= 'a' && *s <= 'z'))
		return false;
	for (; *s; s++, n++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || strchr(extra, *s)))
			return false;
	return n <= max;
}
