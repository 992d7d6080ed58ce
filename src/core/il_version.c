/*-------------------------------------------------------------------------
 *
 * il_version.c
 *	  The product's version.
 *
 *-------------------------------------------------------------------------
 */
#include "il_version.h"

const char *
il_version(void)
{
	return IRONLAYER_VERSION;
}
