/*-------------------------------------------------------------------------
 *
 * il_audit.h
 *	  The audit log's canonical entry and hash chain.
 *
 * An entry's canonical text C is the RFC 8785 text of the object with
 * exactly the keys action, actor, at, details, entity_id, entity_type, seq
 * and tenant_id:
 *   - at is "YYYY-MM-DDTHH:MM:SS.ffffffZ" (UTC, microseconds);
 *   - seq is a JSON number; tenant_id the uuid text (lower-case, hyphens);
 *   - a missing entity_type or entity_id is JSON null;
 *   - details is any JSON value, canonicalized (RFC 8785) as well.
 * hash = SHA-256(prev_hash || C); the first entry of a tenant has
 * prev_hash = 32 zero bytes.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_AUDIT_H
#define IL_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "il_buf.h"
#include "il_sha256.h"

typedef struct il_audit_entry
{
	int64_t		seq;
	const char *tenant_id;		/* uuid text */
	const char *at;				/* YYYY-MM-DDTHH:MM:SS.ffffffZ */
	const char *actor;
	const char *action;
	const char *entity_type;	/* NULL: JSON null */
	const char *entity_id;		/* NULL: JSON null */
	const char *details;		/* JSON text; NULL: JSON null */
	size_t		details_len;
} il_audit_entry;

/*
 * Append the canonical text of e to out. With hashes, also the keys hash and
 * prev_hash (lower-case hex), in their sorted places: the export form.
 * Returns 0, or -1 with err set (details is not valid JSON, or a string is
 * not valid UTF-8).
 */
extern int	il_audit_write(il_buf *out, const il_audit_entry *e,
						   const uint8_t *prev_hash, const uint8_t *hash,
						   il_error *err);

/* hash = SHA-256(prev_hash || canonical). Returns 0 or -1. */
extern int	il_audit_hash(const uint8_t prev_hash[IL_SHA256_LEN],
						  const char *canonical, size_t len,
						  uint8_t hash[IL_SHA256_LEN]);

/* Format microseconds since 1970-01-01 UTC as the at text (28 bytes + NUL). */
extern void il_audit_format_at(int64_t unix_micros, char out[32]);

#endif							/* IL_AUDIT_H */
