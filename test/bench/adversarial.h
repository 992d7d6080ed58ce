/*-------------------------------------------------------------------------
 *
 * adversarial.h
 *	  Inputs built to make the model parser and the SQL guard use as much
 *	  memory per input byte as they can, each filled to a given size; for
 *	  test/bench/bench_memory.c and test/unit/test_memory.c. Everything is
 *	  static.
 *
 * Each input but the header ones starts with a valid header, so that
 * il_model_parse gets to the SQL; sql_guard reads the same text (the
 * header lines are comments to it). Inputs, by name:
 *	commas			",,,,": one token per byte
 *	parens			"()()": one token per byte, a frame each
 *	nesting			"((( ... )))" 1000 deep, over and over
 *	statements		"1;1;": a violation (multiple_statements) per two bytes
 *	violations		"drop table;truncate table;..." every rule, over and over
 *	references		"from a,b,...,ab,...": as many different names as fit
 *	same_reference	"from a,a,a": one name, listed over and over
 *	long_name		"from aaaa...": one name as long as the input
 *	escaped_names	"from `\x01...`": names that JSON writes six bytes a byte
 *	dotted			"from a.a.a.a...": one name of many parts
 *	ctes			"with a(()),a(()),...": a CTE per six bytes
 *	cte_names		"with a(()),b(()),...": as many different CTE names as fit,
 *					then as many references to a name that is none of them
 *	templates		"{{ ref('a') }},{{ ref('b') }}": many refs
 *	targets			"insert into a select 1;insert into b ...": many targets
 *	paths			"from delta.`/a`,delta.`/b`": many paths
 *	header_lines	"--\n--\n": header lines only
 *	header_lists	"-- unique_key: a,a,a,..." and long tag and dependency lists
 *	unique_key		"-- unique_key: a,a,a,...": one list item per two bytes
 *	header_values	"-- owner: \x01\x01...": a value JSON writes six bytes a byte
 *	string			one string literal as long as the input
 *	newlines		"\n\n\n": lines only
 *	unicode			"select é,é,é": non-ASCII words
 *	late_error		tokens, then an unterminated string at the very end
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_BENCH_ADVERSARIAL_H
#define IL_BENCH_ADVERSARIAL_H

#include <stdio.h>
#include <string.h>

#include "il_buf.h"

#define ADV_HEADER "-- name: s.t\n-- kind: FULL_REFRESH\n"

/* Appends the name number k over the alphabet [a-z_] (a, b, ..., _, aa, ab, ...). */
static inline void
adv_name(il_buf *b, size_t k)
{
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyz_";
	char		tmp[32];
	int			n = 0;

	k++;
	while (k > 0)
	{
		k--;
		tmp[n++] = alpha[k % 27];
		k /= 27;
	}
	while (n > 0)
		il_buf_putc(b, tmp[--n]);
}

/* Appends unit until b holds size bytes (never more). */
static inline void
adv_fill(il_buf *b, size_t size, const char *unit)
{
	size_t		n = strlen(unit);

	while (b->len + n <= size)
		il_buf_append(b, unit, n);
}

/* The names of the inputs, NULL-terminated. */
static const char *const adv_names[] = {
	"commas", "parens", "nesting", "statements", "violations", "references",
	"same_reference", "long_name", "escaped_names", "dotted", "ctes", "cte_names",
	"templates", "targets", "paths", "header_lines", "header_lists", "unique_key",
	"header_values", "string", "newlines", "unicode", "late_error", NULL
};

/*
 * Builds input name (one of adv_names) of at most size bytes into b (reset
 * first). Returns 0, or -1 for an unknown name.
 */
static inline int
adv_build(const char *name, size_t size, il_buf *b)
{
	size_t		k = 0;

	il_buf_reset(b);
	if (strcmp(name, "header_lines") == 0)
	{
		adv_fill(b, size - 64, "--\n");
		il_buf_puts(b, ADV_HEADER "select 1");
		return 0;
	}
	if (strcmp(name, "header_lists") == 0)
	{
		size_t		third = size / 3;

		il_buf_puts(b, ADV_HEADER "-- unique_key: a");
		adv_fill(b, third, ",a");
		il_buf_puts(b, "\n-- tags: a");
		while (b->len + 40 < 2 * third)
		{
			il_buf_putc(b, ',');
			adv_name(b, k++);
		}
		il_buf_puts(b, "\n-- dependencies: a");
		k = 0;
		while (b->len + 40 < size)
		{
			il_buf_putc(b, ',');
			adv_name(b, k++);
		}
		il_buf_puts(b, "\nselect 1");
		return 0;
	}
	if (strcmp(name, "unique_key") == 0)
	{
		il_buf_puts(b, ADV_HEADER "-- unique_key: a");
		adv_fill(b, size - 16, ",a");
		il_buf_puts(b, "\nselect 1");
		return 0;
	}
	if (strcmp(name, "header_values") == 0)
	{
		il_buf_puts(b, ADV_HEADER "-- owner: a");
		adv_fill(b, size / 2, "\x01");
		il_buf_puts(b, "\n-- partition_by: a");
		adv_fill(b, size - 16, "\"");
		il_buf_puts(b, "\nselect 1");
		return 0;
	}
	if (strcmp(name, "newlines") == 0)
	{
		il_buf_puts(b, ADV_HEADER "select 1");
		adv_fill(b, size, "\n");
		return 0;
	}
	il_buf_puts(b, ADV_HEADER);
	if (strcmp(name, "commas") == 0)
		adv_fill(b, size, ",");
	else if (strcmp(name, "parens") == 0)
		adv_fill(b, size, "()");
	else if (strcmp(name, "nesting") == 0)
	{
		while (b->len + 2000 <= size)
		{
			for (k = 0; k < 1000; k++)
				il_buf_putc(b, '(');
			for (k = 0; k < 1000; k++)
				il_buf_putc(b, ')');
		}
	}
	else if (strcmp(name, "statements") == 0)
		adv_fill(b, size, "1;");
	else if (strcmp(name, "violations") == 0)
		adv_fill(b, size, "drop table;truncate table;delete from;alter table;grant all;revoke all;"
				 "create user;create role;execute immediate;");
	else if (strcmp(name, "references") == 0)
	{
		il_buf_puts(b, "select 1 from a");
		while (b->len + 16 <= size)
		{
			il_buf_putc(b, ',');
			adv_name(b, ++k);
		}
	}
	else if (strcmp(name, "same_reference") == 0)
	{
		il_buf_puts(b, "select 1 from a");
		adv_fill(b, size, ",a");
	}
	else if (strcmp(name, "long_name") == 0)
	{
		il_buf_puts(b, "select 1 from a");
		adv_fill(b, size, "a");
	}
	else if (strcmp(name, "escaped_names") == 0)
	{
		il_buf_puts(b, "select 1 from `");
		adv_fill(b, size - 1, "\x01");
		il_buf_putc(b, '`');
	}
	else if (strcmp(name, "dotted") == 0)
	{
		il_buf_puts(b, "select 1 from a");
		adv_fill(b, size, ".a");
	}
	else if (strcmp(name, "ctes") == 0)
	{
		il_buf_puts(b, "with a(())");
		adv_fill(b, size - 16, ",a(())");
		il_buf_puts(b, " select 1 from a");
	}
	else if (strcmp(name, "cte_names") == 0)
	{
		il_buf_puts(b, "with a(())");
		while (b->len + 16 <= size / 2)
		{
			il_buf_putc(b, ',');
			adv_name(b, ++k);
			il_buf_puts(b, "(())");
		}
		il_buf_puts(b, " select 1 from _0");
		adv_fill(b, size, ",_0");
	}
	else if (strcmp(name, "templates") == 0)
	{
		il_buf_puts(b, "select 1 from {{ref('a')}}");
		while (b->len + 32 <= size)
		{
			il_buf_puts(b, ",{{ref('");
			adv_name(b, ++k);
			il_buf_puts(b, "')}}");
		}
	}
	else if (strcmp(name, "targets") == 0)
	{
		while (b->len + 48 <= size)
		{
			il_buf_puts(b, "insert into ");
			adv_name(b, k++);
			il_buf_puts(b, " table a;");
		}
	}
	else if (strcmp(name, "paths") == 0)
	{
		il_buf_puts(b, "select 1 from delta.`/a`");
		while (b->len + 40 <= size)
		{
			il_buf_puts(b, ",delta.`/");
			adv_name(b, ++k);
			il_buf_putc(b, '`');
		}
	}
	else if (strcmp(name, "string") == 0)
	{
		il_buf_puts(b, "select '");
		adv_fill(b, size - 1, "x");
		il_buf_putc(b, '\'');
	}
	else if (strcmp(name, "unicode") == 0)
	{
		il_buf_puts(b, "select \xc3\xa9");
		adv_fill(b, size, ",\xc3\xa9");
	}
	else if (strcmp(name, "late_error") == 0)
	{
		adv_fill(b, size - 2, ",");
		il_buf_puts(b, "'x");
	}
	else
		return -1;
	return 0;
}

#endif							/* IL_BENCH_ADVERSARIAL_H */
