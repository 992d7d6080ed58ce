/*
 * Unit tests of il_version.c.
 */
#include <ctype.h>

#include "il_version.h"
#include "unit.h"

/* Is s a semantic version MAJOR.MINOR.PATCH of plain digits? */
static int
is_semver(const char *s)
{
	int			parts = 0;

	while (*s)
	{
		if (!isdigit((unsigned char) *s))
			return 0;
		while (isdigit((unsigned char) *s))
			s++;
		parts++;
		if (*s == '.')
			s++;
		else if (*s != '\0')
			return 0;
	}
	return parts == 3;
}

int
main(void)
{
	CHECK_STR(il_version(), IRONLAYER_VERSION, "il_version() is the build's version");
	CHECK(is_semver(il_version()), "the version is MAJOR.MINOR.PATCH");
	CHECK(!is_semver("1.2"), "a two-part version is refused by the check");
	CHECK_STR(IL_PLAN_FORMAT, "ironlayer.plan/v1", "plan format v1");
	return unit_done();
}
