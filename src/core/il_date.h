/*-------------------------------------------------------------------------
 *
 * il_date.h
 *	  Calendar dates as day numbers (proleptic Gregorian calendar).
 *
 * A date is the number of days since 1970-01-01 (negative before it), so
 * date arithmetic is integer arithmetic and a day number means the same
 * day everywhere. Only the years 0001 to 9999 are dates: from
 * IL_DATE_MIN (0001-01-01) to IL_DATE_MAX (9999-12-31). The Gregorian
 * rules apply to every year, also before 1582: a year is a leap year when
 * it is divisible by 4 and not by 100, or divisible by 400 (2000 is, 1900
 * is not).
 *
 * The text form is exactly "YYYY-MM-DD": ten bytes, four-digit year, two-
 * digit month and day, ASCII '-' between them, and a real calendar day
 * (2023-02-29 and 2024-04-31 are not dates). Nothing else is accepted: no
 * sign, no surrounding or inner whitespace, no time, no "T", no "2024-1-5",
 * no year 0000. Parsing failures have the code "invalid_date".
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_DATE_H
#define IL_DATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "il_buf.h"

/* Days since 1970-01-01. */
typedef int32_t il_date;

#define IL_DATE_MIN (-719162)	/* 0001-01-01 */
#define IL_DATE_MAX 2932896		/* 9999-12-31 */

/* Length of "YYYY-MM-DD". */
#define IL_DATE_LEN 10

/* Is d between IL_DATE_MIN and IL_DATE_MAX? */
extern bool il_date_valid(il_date d);

/*
 * The day number of year-month-day; false (and *out untouched) when that
 * is not a calendar day of the years 1 to 9999.
 */
extern bool il_date_from_ymd(int year, int month, int day, il_date *out);

/* Year, month (1-12) and day (1-31) of a valid date. */
extern void il_date_to_ymd(il_date d, int *year, int *month, int *day);

/*
 * Parses s[0..len) as "YYYY-MM-DD". Returns 0, or -1 with err set
 * ("invalid_date", naming the text).
 */
extern int	il_date_parse(const char *s, size_t len, il_date *out, il_error *err);

/*
 * Writes "YYYY-MM-DD" and a NUL into out. A day outside the valid range
 * writes "" and returns false.
 */
extern bool il_date_format(il_date d, char out[IL_DATE_LEN + 1]);

/*
 * d plus days (negative: earlier), saturating at IL_DATE_MIN and
 * IL_DATE_MAX.
 */
extern il_date il_date_add_days(il_date d, int64_t days);

#endif							/* IL_DATE_H */
