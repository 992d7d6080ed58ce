/*
 * Unit tests of il_date.c: day numbers of known dates, every day of the
 * years 0001 to 9999 against a day-by-day walk of the calendar, leap years
 * (1900, 2000, 2024), the bounds, strict parsing (garbage of every kind),
 * formatting and saturating addition.
 */
#include <stdint.h>

#include "il_date.h"
#include "unit.h"

/* Does parsing s fail with invalid_date? */
static int
rejects(const char *s, size_t len)
{
	il_date		d = 12345;
	il_error	err;

	return il_date_parse(s, len, &d, &err) == -1 && err.code != NULL &&
		strcmp(err.code, "invalid_date") == 0 && d == 12345;
}

/* Parses s; INT32_MIN on failure. */
static il_date
parse(const char *s)
{
	il_date		d;
	il_error	err;

	if (il_date_parse(s, strlen(s), &d, &err) != 0)
		return INT32_MIN;
	return d;
}

/* Formats d into a static buffer. */
static const char *
fmt(il_date d)
{
	static char out[IL_DATE_LEN + 1];

	il_date_format(d, out);
	return out;
}

int
main(void)
{
	il_date		d;
	il_error	err;
	char		out[IL_DATE_LEN + 1];

	/* known day numbers */
	CHECK(parse("1970-01-01") == 0, "1970-01-01 is day 0");
	CHECK(parse("1970-01-02") == 1 && parse("1969-12-31") == -1, "the days around the epoch");
	CHECK(parse("2000-01-01") == 10957, "2000-01-01 is day 10957 (PostgreSQL's date epoch)");
	CHECK(parse("2025-06-15") == 20254, "2025-06-15 is day 20254");
	CHECK(parse("0001-01-01") == IL_DATE_MIN && IL_DATE_MIN == -719162, "0001-01-01 is IL_DATE_MIN");
	CHECK(parse("9999-12-31") == IL_DATE_MAX && IL_DATE_MAX == 2932896, "9999-12-31 is IL_DATE_MAX");

	/* every day, against a walk of the calendar */
	{
		int			y = 1,
					m = 1,
					dd = 1;
		int			bad = 0;
		il_date		k;
		static const int ml[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

		for (k = IL_DATE_MIN; k <= IL_DATE_MAX; k++)
		{
			int			yy,
						mm,
						ddd;
			il_date		back = INT32_MIN;
			int			leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
			int			len = m == 2 && leap ? 29 : ml[m];

			il_date_to_ymd(k, &yy, &mm, &ddd);
			if (yy != y || mm != m || ddd != dd || !il_date_from_ymd(y, m, dd, &back) || back != k)
			{
				if (bad++ < 3)
					printf("#   day %d: got %04d-%02d-%02d, want %04d-%02d-%02d (back %d)\n",
						   (int) k, yy, mm, ddd, y, m, dd, (int) back);
			}
			if (++dd > len)
			{
				dd = 1;
				if (++m > 12)
				{
					m = 1;
					y++;
				}
			}
		}
		CHECK(bad == 0 && y == 10000 && m == 1 && dd == 1,
			  "every day of 0001..9999 converts both ways as a day-by-day walk of the calendar says");
	}

	/* leap years */
	CHECK(parse("2024-02-29") == parse("2024-02-28") + 1 && parse("2024-03-01") == parse("2024-02-29") + 1,
		  "2024 is a leap year");
	CHECK(rejects("2023-02-29", 10), "2023 is not: no February 29");
	CHECK(parse("2000-02-29") != INT32_MIN, "2000 is a leap year (divisible by 400)");
	CHECK(rejects("1900-02-29", 10), "1900 is not (divisible by 100, not by 400)");
	CHECK(rejects("2100-02-29", 10) && parse("2400-02-29") != INT32_MIN, "2100 is not, 2400 is");
	CHECK(parse("0004-02-29") != INT32_MIN && rejects("0100-02-29", 10),
		  "the Gregorian rules hold before 1582 too (proleptic)");
	CHECK(parse("2001-01-01") - parse("2000-01-01") == 366 && parse("1901-01-01") - parse("1900-01-01") == 365,
		  "2000 has 366 days, 1900 has 365");

	/* days of months */
	CHECK(rejects("2024-04-31", 10) && rejects("2024-06-31", 10) && rejects("2024-09-31", 10) &&
		  rejects("2024-11-31", 10), "30-day months have no day 31");
	CHECK(parse("2024-01-31") != INT32_MIN && parse("2024-12-31") != INT32_MIN, "31-day months have one");
	CHECK(rejects("2024-00-10", 10) && rejects("2024-13-01", 10), "month 00 and 13");
	CHECK(rejects("2024-01-00", 10) && rejects("2024-01-32", 10), "day 00 and 32");

	/* bounds */
	CHECK(rejects("0000-12-31", 10), "year 0000 is not a date");
	CHECK(rejects("10000-01-01", 11), "a five-digit year is not a date");
	CHECK(rejects("-0001-01-01", 11) && rejects("+2024-01-01", 11), "no sign");

	/* garbage */
	CHECK(rejects("", 0) && rejects(NULL, 0), "empty");
	CHECK(rejects("2024-1-05", 9) && rejects("2024-01-5", 9) && rejects("24-01-05", 8), "digits missing");
	CHECK(rejects("2024/01/05", 10) && rejects("2024-01/05", 10) && rejects("20240105  ", 10), "other separators");
	CHECK(rejects(" 2024-01-05", 11) && rejects("2024-01-05 ", 11) && rejects("2024-01-05\n", 11),
		  "whitespace around");
	CHECK(rejects("2024-01-05T00:00:00", 19) && rejects("2024-01-05Z", 11), "no time or zone");
	CHECK(rejects("2024-0a-05", 10) && rejects("2O24-01-05", 10) && rejects("2024-01-0\xd9\xa5", 11),
		  "letters and non-ASCII digits");
	CHECK(rejects("2024-01-05\0", 11) && rejects("2024-0\0-05", 10), "NUL bytes");
	CHECK(rejects("2024-01-05", 9), "the length given counts, not strlen");
	CHECK(parse("2024-01-05") != INT32_MIN && il_date_parse("2024-01-05xyz", 10, &d, &err) == 0 && d == parse("2024-01-05"),
		  "exactly len bytes are read");
	il_date_parse("2023-02-29", 10, &d, &err);
	CHECK_STR(err.message, "invalid date \"2023-02-29\": 2023-02 has no day 29", "the message names the date and why");
	il_date_parse("2024-13-01", 10, &d, &err);
	CHECK_STR(err.message, "invalid date \"2024-13-01\": there is no month 13", "a bad month");
	il_date_parse("tomorrow\x01", 9, &d, &err);
	CHECK_STR(err.message, "invalid date \"tomorrow\\x01\": give a date as YYYY-MM-DD",
			  "garbage is quoted with control bytes escaped");
	il_date_parse("0000-01-01", 10, &d, &err);
	CHECK(strstr(err.message, "0001 to 9999") != NULL, "year 0000 says the range");

	/* format */
	CHECK_STR(fmt(0), "1970-01-01", "format of day 0");
	CHECK_STR(fmt(IL_DATE_MIN), "0001-01-01", "format of the first day");
	CHECK_STR(fmt(IL_DATE_MAX), "9999-12-31", "format of the last day");
	CHECK_STR(fmt(parse("0987-07-09")), "0987-07-09", "leading zeros");
	CHECK(!il_date_format(IL_DATE_MIN - 1, out) && out[0] == '\0' && !il_date_format(IL_DATE_MAX + 1, out) &&
		  !il_date_format(INT32_MIN, out), "outside the range nothing is written");
	CHECK(il_date_valid(IL_DATE_MIN) && il_date_valid(IL_DATE_MAX) && !il_date_valid(IL_DATE_MIN - 1) &&
		  !il_date_valid(IL_DATE_MAX + 1), "il_date_valid");
	CHECK(!il_date_from_ymd(0, 1, 1, &d) && !il_date_from_ymd(10000, 1, 1, &d) && !il_date_from_ymd(2023, 2, 29, &d),
		  "il_date_from_ymd refuses what is not a day");

	/* add days */
	CHECK_STR(fmt(il_date_add_days(parse("2025-01-10"), -30)), "2024-12-11", "30 days before 2025-01-10");
	CHECK_STR(fmt(il_date_add_days(parse("2024-02-28"), 1)), "2024-02-29", "into a leap day");
	CHECK_STR(fmt(il_date_add_days(parse("2024-03-01"), -366)), "2023-03-01", "back over a leap day");
	CHECK_STR(fmt(il_date_add_days(parse("2025-06-15"), -30)), "2025-05-16", "the reference planner's example");
	CHECK(il_date_add_days(parse("0001-01-10"), -30) == IL_DATE_MIN, "saturates at 0001-01-01");
	CHECK(il_date_add_days(parse("9999-12-30"), 5) == IL_DATE_MAX, "saturates at 9999-12-31");
	CHECK(il_date_add_days(0, INT64_MAX) == IL_DATE_MAX && il_date_add_days(0, INT64_MIN) == IL_DATE_MIN,
		  "huge steps saturate without overflow");
	CHECK(il_date_add_days(100, 0) == 100, "adding 0");
	return unit_done();
}
