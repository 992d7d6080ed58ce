/*-------------------------------------------------------------------------
 *
 * il_sources.h
 *	  A repository's declared sources (the file sources.txt at the root of
 *	  the models directory) and the classification of a model's external
 *	  references as unknown.
 *
 * The file: UTF-8 text, at most IL_SOURCES_MAX_SIZE bytes, one entry per
 * line:
 *	schema.table			a table (or view) that is no model
 *	catalog.schema.table	the same with its catalog
 *	schema.*				every table of a schema
 * '#' starts a comment (outside backticks), blank lines are ignored,
 * spaces and tabs around an entry too; a line may end in "\r\n". A part is
 * a word of ASCII letters, digits, '_' and '$' or of non-ASCII characters,
 * or a backticked name (`` stands for one backtick); names are lower-cased
 * and written as references are (il_refs.h: a backticked part keeps its
 * backticks only when it holds '.' or '`'). At most IL_SOURCES_MAX_ENTRIES
 * entries (lines with an entry; a repeated entry counts again). Anything
 * else (one part, four, a '*' elsewhere, a space inside a name, an empty
 * part, a NUL byte or invalid UTF-8, a larger file, more entries) is the
 * error invalid_sources, "PATH:LINE: what is wrong" (PATH as given, LINE
 * 1-based; no line for the file's size).
 *
 * A reference is declared when, its parts compared after lower-casing:
 *	- it is an entry, or a proper suffix of one on a part boundary
 *	  ("orders" and "sales.orders" are declared by "main.sales.orders"), or
 *	  it is c.s.t and s.t is an entry (a two-part name lives in the default
 *	  catalog, which may be c): the rules by which references find models
 *	  (il_dag.h);
 *	- or its schema is declared: s.t or c.s.t by "s.*".
 *
 * Unknown (il_sources_unknown): an external reference of a model (one that
 * names no model of the commit: il_dag's sources) is unknown
 *	- with a declaration, when the declaration does not declare it;
 *	- without one, when its schema holds a model at that commit: s.t when a
 *	  model s.x or c.s.x exists, c.s.t when a model s.x or c.s.x exists (a
 *	  typo such as marts.dim_user beside the model marts.dim_users). A
 *	  one-part name is then never unknown (its schema is not written).
 *
 * Cost: parsing is linear in the file and sorts its keys (n log n, names
 * chosen to collide or not); a lookup binary-searches at most five keys of
 * the reference. Memory: about 150 bytes per entry. Functions return 0,
 * or -1 with err set (invalid_sources, out_of_memory).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_SOURCES_H
#define IL_SOURCES_H

#include <stdbool.h>
#include <stddef.h>

#include "il_buf.h"

/* The file's name, in the models directory. */
#define IL_SOURCES_FILE "sources.txt"

/* The largest file, in bytes (1 MiB), and the most entries. */
#define IL_SOURCES_MAX_SIZE ((size_t) 1 << 20)
#define IL_SOURCES_MAX_ENTRIES 10000

typedef struct il_sources il_sources;

/*
 * Parses a declaration data[0..len) (not NUL-terminated; any bytes); path
 * names the file in messages. Free *out with il_sources_free (NULL on
 * error).
 */
extern int	il_sources_parse(const char *data, size_t len, const char *path,
							 il_sources **out, il_error *err);

/*
 * The schemas that hold the models names[0..n) (lower-case full names of
 * two or three parts; others are ignored): the set the rule without a
 * declaration uses. Free with il_sources_free.
 */
extern int	il_sources_model_schemas(const char *const *names, size_t n, il_sources **out,
									 il_error *err);

/* Entries of a parsed declaration (lines with an entry). */
extern size_t il_sources_count(const il_sources *s);

/*
 * The keys looked at so far by parsing and lookups (for tests and
 * benchmarks): at most a small multiple of log2 of the keys per key added
 * or probed, whatever the keys are.
 */
extern size_t il_sources_work(const il_sources *s);

/* Does the declaration declare ref (any case)? */
extern bool il_sources_declares(const il_sources *s, const char *ref);

/*
 * Is the external reference ref unknown? decl: the parsed declaration, or
 * NULL when the repository has none; schemas: from
 * il_sources_model_schemas (used only when decl is NULL).
 */
extern bool il_sources_unknown(const il_sources *decl, const il_sources *schemas,
							   const char *ref);

extern void il_sources_free(il_sources *s);

#endif							/* IL_SOURCES_H */
