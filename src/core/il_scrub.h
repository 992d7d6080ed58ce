/*-------------------------------------------------------------------------
 *
 * il_scrub.h
 *	  The PII scrubber: what telemetry keeps of statement text and error
 *	  messages.
 *
 * il_scrub copies text, replacing what could identify a person or open a
 * door. It makes one scan from left to right; at each position the rules
 * are tried in the order below, the first that matches is replaced and the
 * scan goes on after it, and otherwise one character is copied. "On a
 * boundary" means the character before the match (or the start) and the
 * one after it (or the end) do not continue it: they are not in the
 * rule's character class, given with each rule; a '[' right after a match
 * also spoils it (every replacement starts with '[', so a match refused
 * because a letter followed is refused again once that letter's text is
 * replaced). Positions inside a replaced match are never looked at again,
 * and a match's end is a boundary for what follows: scrubbing scrubbed text
 * changes nothing. That needs every rule that refused some text to refuse
 * it again when a later part of it has become a replacement: where a
 * rule's look-ahead could reach a replaced part, a '[' there refuses as
 * the replaced text did (right after a match, and inside an IPv6 address,
 * rule 7).
 *
 *	1. SQL literals (only with IL_SCRUB_SQL): '...' with '' standing for a
 *	   quote becomes '?' as a whole, before any other rule can see its
 *	   content. An unterminated literal runs to the end of the text.
 *	2. Secrets: a name made of [A-Za-z0-9_-] that ends, in any case, with
 *	   password, secret, token, api_key, apikey or access_key (db_password,
 *	   accessToken, X-Auth-Token), optionally followed by a closing '"' (a
 *	   JSON key), then spaces or tabs, '=' or ':', spaces or tabs, and a
 *	   value: the name and separator stay and the value becomes [SECRET]. A
 *	   value in double or single quotes is what is inside them (backslash
 *	   escapes skipped) and keeps its quotes; with IL_SCRUB_SQL a quoted
 *	   value in single quotes becomes '?'; any other value runs to the next
 *	   whitespace. Nothing happens without a value.
 *	3. Bearer tokens: the word bearer (any case, on a [A-Za-z0-9_]
 *	   boundary), spaces or tabs, then a token of [A-Za-z0-9._~+/=-]: the
 *	   word and spaces stay, the token becomes [TOKEN].
 *	4. JWTs: "eyJ" starting a run of [A-Za-z0-9_-] of at least 10, then
 *	   '.' and a second run, then '.' and a third (possibly empty), and any
 *	   further ".run" (encrypted tokens have five parts), on a
 *	   [A-Za-z0-9_.-] boundary: [TOKEN].
 *	5. Databricks tokens: "dapi" (any case) and 32 hexadecimal digits, with
 *	   an optional "-" and up to three digits, on a [A-Za-z0-9_] boundary:
 *	   [TOKEN].
 *	6. Email addresses: a local part of [A-Za-z0-9._%+-] on a boundary of
 *	   that class, '@', and a domain of two or more labels of [A-Za-z0-9-]
 *	   joined by single dots whose last label is two or more letters:
 *	   [EMAIL]. Punctuation around it stays ("<a@b.com>," keeps "<" and
 *	   ">,"; a sentence's final dot is not part of the domain).
 *	7. IPv6 addresses: groups of one to four hexadecimal digits joined by
 *	   ':', with at most one "::"; eight groups, or at most seven with
 *	   "::"; the last two groups may be an IPv4 address (::ffff:10.0.0.1);
 *	   a group that is not one (five digits, or run into a letter) ends
 *	   the address before the ':' that led to it (fe80::1:zzzzz is
 *	   [IP]:zzzzz);
 *	   a '[' where a group or the IPv4 tail's next number would begin
 *	   (after a ':' or a '.') spoils the address (fe80::1:[x] stays): it
 *	   stands where a replacement took text that may have spoiled it (a
 *	   ninth group: 1:2:3:4:5:6:7:8:9 123 456 789 is
 *	   1:2:3:4:5:6:7:8:[NUMBER]; a tail run into a letter);
 *	   at least two colons; a digit or at least three groups (so SQL casts
 *	   such as a::dec stay); on a [A-Za-z0-9_:.] boundary before and a
 *	   [A-Za-z0-9_] boundary after: [IP]. Times (12:30:45) have too few
 *	   groups and stay.
 *	8. IPv4 addresses: four dot-separated numbers 0 to 255 of one to three
 *	   digits, on a [A-Za-z0-9_.] boundary before, and after neither
 *	   [A-Za-z0-9_] nor '.' and a digit: [IP]. So 256.1.1.1, version 1.2.3
 *	   and 1.2.3.4.5 stay; 10.0.0.1:5432 becomes [IP]:5432.
 *	9. Dates: dddd-dd-dd not followed by a digit, on a [A-Za-z0-9_] boundary,
 *	   are copied as they are (so a timestamp's digits do not add up to a
 *	   long number).
 *	10. Long numbers: digits, with single spaces or hyphens between digits,
 *	   nine or more digits in all, optionally after a "(ddd)" area code and
 *	   one space, on a [A-Za-z0-9_] boundary and not right after a digit
	   and '.' (a fraction's digits): [NUMBER]. This covers card
 *	   numbers (4111 1111 1111 1111), social security numbers (123-45-6789,
 *	   123456789) and phone numbers written as digits (555-123-4567,
 *	   (555) 123-4567). When a word character follows directly, the number
 *	   ends at its last separator if nine digits remain, else it stays as
 *	   it is (digits in identifiers: order_123456789x, abc123456789).
 *	11. Key material: a run of 32 or more of [A-Za-z0-9+/=_-] holding both
 *	   letters and digits (base64, hex, UUIDs, long hashes), on a boundary
 *	   of that class: [KEY]. Long identifiers and paths with digits are
 *	   taken too; telemetry keeps structured identifiers in their own
 *	   fields.
 *
 * The output is valid UTF-8 when the input is; an invalid byte becomes
 * U+FFFD (and a NUL byte stays). Time is linear in the input (every rule is
 * tried only where its class begins, and scans at most to its class's end);
 * the same input always gives the same output. Allocation failure sets
 * out->oom, as il_buf does.
 *
 * il_scrub_max bounds the output to max bytes: text that is longer is cut
 * at a whole UTF-8 character to leave room for "...[truncated]" (so the
 * result is at most max bytes and ends with the marker). The cut is made
 * after scrubbing, so it never reveals what a replacement hid. A max below
 * the marker's length is taken as the marker's length. It stops scanning
 * once it has written max + 1 bytes (what follows would be cut), so its
 * memory is max + 1 bytes of output whatever the input's size.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_SCRUB_H
#define IL_SCRUB_H

#include <stddef.h>

#include "il_buf.h"

/* Treat the text as SQL: replace string literals first (rule 1). */
#define IL_SCRUB_SQL 0x01

/* What il_scrub_max puts at the end of cut text. */
#define IL_SCRUB_TRUNCATED "...[truncated]"

/* Appends in[0..len) scrubbed to out. */
extern void il_scrub(const char *in, size_t len, unsigned flags, il_buf *out);

/* The same, at most max bytes appended; see above. */
extern void il_scrub_max(const char *in, size_t len, unsigned flags, size_t max, il_buf *out);

#endif							/* IL_SCRUB_H */
