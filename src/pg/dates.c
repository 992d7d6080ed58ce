/*-------------------------------------------------------------------------
 *
 * dates.c
 *	  Dates between PostgreSQL (DateADT, days from 2000-01-01) and the
 *	  core (il_date, days from 1970-01-01, 0001-01-01 to 9999-12-31).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/date.h"
#include "datatype/timestamp.h"

#include "il_date.h"
#include "ironlayer.h"

#define UNIX_TO_PG_DAYS (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE)

/*
 * The core's day of a date; 22023 naming what when it is infinite or
 * outside the years 1 to 9999.
 */
il_date
ironlayer_date_to_il(DateADT d, const char *what)
{
	int64		days = (int64) d + UNIX_TO_PG_DAYS;

	if (DATE_NOT_FINITE(d) || days < IL_DATE_MIN || days > IL_DATE_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must lie between 0001-01-01 and 9999-12-31", what)));
	return (il_date) days;
}

/* The date of one of the core's days. */
DateADT
ironlayer_date_from_il(il_date d)
{
	return (DateADT) (d - UNIX_TO_PG_DAYS);
}
