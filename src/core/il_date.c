/*-------------------------------------------------------------------------
 *
 * il_date.c
 *	  Calendar dates as day numbers. See il_date.h.
 *
 * The conversions count days from 0001-01-01 (day 0 of the "ordinal"),
 * where every quantity is non-negative, and shift by the 719162 days
 * between 0001-01-01 and 1970-01-01. A 400-year cycle has 146097 days, a
 * century 36524 (36525 for the one that starts a cycle), a 4-year cycle
 * 1461 (1460 when it holds a non-leap century year), a year 365 or 366.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "il_date.h"

/* Days from 0001-01-01 to 1970-01-01. */
#define EPOCH_ORDINAL 719162

/* Days before the first of each month in a common year. */
static const int days_before[13] = {0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};

/*
 * Is year a leap year (Gregorian rules)?
 */
static bool
is_leap(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

/*
 * The number of days of a month.
 */
static int
month_days(int year, int month)
{
	static const int days[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return month == 2 && is_leap(year) ? 29 : days[month];
}

/*
 * Is d a day of the years 1 to 9999?
 */
bool
il_date_valid(il_date d)
{
	return d >= IL_DATE_MIN && d <= IL_DATE_MAX;
}

/*
 * The day number of a calendar day.
 */
bool
il_date_from_ymd(int year, int month, int day, il_date *out)
{
	int32_t		y;
	int32_t		ord;

	if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 || day > month_days(year, month))
		return false;
	y = year - 1;
	ord = 365 * y + y / 4 - y / 100 + y / 400 + days_before[month] +
		(month > 2 && is_leap(year) ? 1 : 0) + day - 1;
	*out = ord - EPOCH_ORDINAL;
	return true;
}

/*
 * The calendar day of a day number: whole 400-year cycles, then
 * centuries, 4-year cycles and years, then the month.
 */
void
il_date_to_ymd(il_date d, int *year, int *month, int *day)
{
	int32_t		n = d + EPOCH_ORDINAL;	/* days since 0001-01-01, >= 0 */
	int32_t		cycles400,
				centuries,
				cycles4,
				years;
	int			y,
				m,
				leap;

	cycles400 = n / 146097;
	n %= 146097;
	centuries = n / 36524;
	if (centuries == 4)			/* the last day of a 400-year cycle */
		centuries = 3;
	n -= centuries * 36524;
	cycles4 = n / 1461;
	n %= 1461;
	years = n / 365;
	if (years == 4)				/* the last day of a leap year */
		years = 3;
	n -= years * 365;
	y = (int) (cycles400 * 400 + centuries * 100 + cycles4 * 4 + years) + 1;
	/* n is now the 0-based day of year y */
	leap = is_leap(y) ? 1 : 0;
	for (m = 12; m > 1; m--)
		if (n >= days_before[m] + (m > 2 ? leap : 0))
			break;
	n -= days_before[m] + (m > 2 ? leap : 0);
	*year = y;
	*month = m;
	*day = (int) n + 1;
}

/*
 * Writes at most 40 bytes of user text s[0..len) for a message: printable
 * ASCII as is, every other byte as \xNN, "..." when cut.
 */
static void
quote_date_text(char *out, size_t cap, const char *s, size_t len)
{
	size_t		o = 0;
	size_t		i;

	for (i = 0; i < len && i < 40; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (o + 8 >= cap)
			break;
		if (c >= 0x20 && c < 0x7f)
			out[o++] = (char) c;
		else
			o += (size_t) snprintf(out + o, cap - o, "\\x%02x", c);
	}
	if (i < len && o + 4 <= cap)
	{
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/*
 * The value of n ASCII digits, or -1 when one is not a digit.
 */
static int
digits(const char *s, int n)
{
	int			v = 0;
	int			i;

	for (i = 0; i < n; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/*
 * Parses "YYYY-MM-DD" strictly.
 */
int
il_date_parse(const char *s, size_t len, il_date *out, il_error *err)
{
	char		q[200];
	int			y,
				m,
				d;

	il_error_clear(err);
	if (s == NULL)
		s = "";
	if (len != IL_DATE_LEN || s[4] != '-' || s[7] != '-' ||
		(y = digits(s, 4)) < 0 || (m = digits(s + 5, 2)) < 0 || (d = digits(s + 8, 2)) < 0)
	{
		quote_date_text(q, sizeof(q), s, len);
		il_error_set(err, IL_ERR_INVALID_DATE, 0, 0, "invalid date \"%s\": give a date as YYYY-MM-DD", q);
		return -1;
	}
	quote_date_text(q, sizeof(q), s, len);
	if (y < 1)
	{
		il_error_set(err, IL_ERR_INVALID_DATE, 0, 0, "invalid date \"%s\": years run from 0001 to 9999", q);
		return -1;
	}
	if (m < 1 || m > 12)
	{
		il_error_set(err, IL_ERR_INVALID_DATE, 0, 0, "invalid date \"%s\": there is no month %02d", q, m);
		return -1;
	}
	if (d < 1 || d > month_days(y, m))
	{
		il_error_set(err, IL_ERR_INVALID_DATE, 0, 0, "invalid date \"%s\": %04d-%02d has no day %02d", q, y, m, d);
		return -1;
	}
	il_date_from_ymd(y, m, d, out);
	return 0;
}

/*
 * Writes "YYYY-MM-DD".
 */
bool
il_date_format(il_date d, char out[IL_DATE_LEN + 1])
{
	int			y,
				m,
				day;

	if (!il_date_valid(d))
	{
		out[0] = '\0';
		return false;
	}
	il_date_to_ymd(d, &y, &m, &day);
	/* digit by digit: the compiler cannot prove the width, and it is cheap */
	out[0] = (char) ('0' + y / 1000);
	out[1] = (char) ('0' + y / 100 % 10);
	out[2] = (char) ('0' + y / 10 % 10);
	out[3] = (char) ('0' + y % 10);
	out[4] = '-';
	out[5] = (char) ('0' + m / 10);
	out[6] = (char) ('0' + m % 10);
	out[7] = '-';
	out[8] = (char) ('0' + day / 10);
	out[9] = (char) ('0' + day % 10);
	out[10] = '\0';
	return true;
}

/*
 * Adds days, saturating at the first and last day.
 */
il_date
il_date_add_days(il_date d, int64_t days)
{
	int64_t		r;

	/* beyond the whole range either way: no overflow in the sum below */
	if (days > (int64_t) IL_DATE_MAX - IL_DATE_MIN)
		return IL_DATE_MAX;
	if (days < (int64_t) IL_DATE_MIN - IL_DATE_MAX)
		return IL_DATE_MIN;
	r = (int64_t) d + days;
	if (r < IL_DATE_MIN)
		return IL_DATE_MIN;
	if (r > IL_DATE_MAX)
		return IL_DATE_MAX;
	return (il_date) r;
}
