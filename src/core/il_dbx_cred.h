/*-------------------------------------------------------------------------
 *
 * il_dbx_cred.h
 *	  The secrets of the vault's Databricks credential kinds
 *	  (docs/databricks.md): "databricks-pat", a personal access token, and
 *	  "databricks-oauth", {"client_id": "...", "client_secret": "..."} of a
 *	  service principal (OAuth machine-to-machine).
 *
 * Both end up in HTTP headers or a form body, so every value is 1 to
 * IL_DBX_SECRET_VALUE_MAX printable ASCII characters without a space. The
 * functions return NULL when the secret is good, else a reason that never
 * repeats any of the secret.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_DBX_CRED_H
#define IL_DBX_CRED_H

#include <stddef.h>

#include "il_buf.h"

#define IL_DBX_SECRET_VALUE_MAX 4096

/* A personal access token. */
extern const char *il_dbx_pat_check(const char *secret, size_t len);

/*
 * The JSON object of an OAuth client: exactly the string members client_id
 * and client_secret (escapes \" \\ \/ and \u00XX allowed), nothing else.
 * When client_id / client_secret are not NULL their content is replaced by
 * the decoded values (the caller wipes client_secret).
 */
extern const char *il_dbx_oauth_parse(const char *secret, size_t len,
									  il_buf *client_id, il_buf *client_secret);

#endif							/* IL_DBX_CRED_H */
