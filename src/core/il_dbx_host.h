/*-------------------------------------------------------------------------
 *
 * il_dbx_host.h
 *	  Where a Databricks environment may send requests: the workspace URL's
 *	  strict form, the host patterns of ironlayer.databricks_hosts, and the
 *	  file names a CA bundle may have (docs/databricks.md).
 *
 * Pure functions, no allocation but the caller's il_buf. Each check
 * returns NULL when its input is good, else a short reason (a static
 * sentence fragment that never repeats the input, so callers may show it).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_DBX_HOST_H
#define IL_DBX_HOST_H

#include <stdbool.h>
#include <stddef.h>

#include "il_buf.h"

/* The longest workspace URL, host pattern list and CA file name taken. */
#define IL_DBX_URL_MAX 300
#define IL_DBX_HOSTS_MAX 4096
#define IL_DBX_CA_NAME_MAX 255

/*
 * A workspace URL: "https://" (any case), a host, an optional ":port"
 * (1-65535) and an optional final "/"; nothing else (no user info, path,
 * query or fragment). The host is a DNS name (labels of ASCII letters,
 * digits and "-", not starting or ending with "-", the last one starting
 * with a letter; no trailing dot) or a dotted-quad IPv4 address in its
 * canonical form. On success the normalized origin ("https://" + host in
 * lower case + ":port" unless 443) replaces origin's content when origin is
 * not NULL, the host (lower case, no port) is written to host (size
 * host_size, at least 254) when not NULL, and *port is set when not NULL.
 */
extern const char *il_dbx_url_check(const char *url, size_t len, il_buf *origin,
									char *host, size_t host_size, int *port);

/*
 * An authority "host" or "host:port" as above (any case); the port is 443
 * when absent. host must have room for 254 bytes.
 */
extern const char *il_dbx_authority_check(const char *authority, size_t len,
										  char *host, size_t host_size, int *port);

/*
 * A comma-separated list of host patterns (blanks around items ignored,
 * empty list allowed): each "host", "host:port", "*.domain" or
 * "*.domain:port", with host and domain as above (case ignored).
 */
extern const char *il_dbx_patterns_check(const char *patterns);

/*
 * Does host (case ignored, no port) on port match one
 * of the patterns? "host" matches itself only; "*.domain" matches a DNS
 * name ending in "." + domain (one label or more before it), never an IPv4
 * address; a pattern's port must equal port, no port matches any. A list
 * that fails il_dbx_patterns_check matches nothing.
 */
extern bool il_dbx_host_match(const char *patterns, const char *host, int port);

/*
 * A CA bundle's file name: 1-255 bytes of ASCII letters, digits, ".", "_"
 * and "-", not starting with ".".
 */
extern const char *il_dbx_ca_name_check(const char *name, size_t len);

#endif							/* IL_DBX_HOST_H */
