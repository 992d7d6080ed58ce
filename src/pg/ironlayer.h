/*-------------------------------------------------------------------------
 *
 * ironlayer.h
 *	  Declarations shared by the extension's glue files (src/pg).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IRONLAYER_PG_H
#define IRONLAYER_PG_H

/* True when the library was loaded through shared_preload_libraries. */
extern bool ironlayer_preloaded;

/* Raise a clear error (55000, with a hint) when not preloaded. */
extern void ironlayer_require_preload(const char *feature);

/* The extension owner, for internal look-ups that must not be tenant-filtered. */
extern Oid	ironlayer_extension_owner(void);

/* tenant.c */
extern void ironlayer_tenant_init(void);

#endif							/* IRONLAYER_PG_H */
