/*-------------------------------------------------------------------------
 *
 * unit.h
 *	  A minimal TAP producer for the core's C unit tests.
 *
 * Each check prints "ok N - what" or "not ok N - what"; the run ends with a
 * plan line "1..N" and exits non-zero if any check failed.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_UNIT_H
#define IL_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int	unit_count = 0;
static int	unit_failed = 0;

static inline int
unit_check(int cond, const char *what, const char *file, int line)
{
	unit_count++;
	if (cond)
		printf("ok %d - %s\n", unit_count, what);
	else
	{
		unit_failed++;
		printf("not ok %d - %s\n#   at %s:%d\n", unit_count, what, file, line);
	}
	return cond;
}

#define CHECK(cond, what) unit_check((cond) ? 1 : 0, (what), __FILE__, __LINE__)
#define CHECK_STR(got, want, what) \
	do { \
		const char *g_ = (got), *w_ = (want); \
		if (!CHECK(g_ != NULL && strcmp(g_, w_) == 0, (what))) \
			printf("#   got \"%s\", want \"%s\"\n", g_ ? g_ : "(null)", w_); \
	} while (0)

/* Read a whole file (NUL-terminated, binary-safe); NULL if unreadable. */
static inline char *
unit_read_file(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	char	   *data = NULL;
	long		n;

	*len = 0;
	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0)
	{
		data = malloc((size_t) n + 1);
		if (data != NULL && fread(data, 1, (size_t) n, f) == (size_t) n)
		{
			data[n] = '\0';
			*len = (size_t) n;
		}
		else
		{
			free(data);
			data = NULL;
		}
	}
	fclose(f);
	return data;
}

static inline int
unit_done(void)
{
	printf("1..%d\n", unit_count);
	return unit_failed == 0 ? 0 : 1;
}

#endif							/* IL_UNIT_H */
