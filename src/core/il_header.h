/*-------------------------------------------------------------------------
 *
 * il_header.h
 *	  The header directives of a model file ("-- key: value" lines).
 *
 * The header is the run of lines at the top of the file that are blank,
 * or whose text (leading and trailing blanks removed) starts with "--".
 * The first other line ends it; later "-- key: value" lines are ordinary
 * comments. In a header line the text after "--" is split at its first ':'
 * into a key (blanks removed, case-insensitive) and a value (blanks
 * removed); a line without ':' is a plain comment.
 *
 * Keys:
 *	name			required; schema.table or catalog.schema.table, each part
 *					letters, digits and '_'; lower-cased (Databricks names are
 *					case-insensitive)
 *	kind			required; FULL_REFRESH, INCREMENTAL_BY_TIME_RANGE,
 *					APPEND_ONLY or MERGE_BY_KEY (any case; stored upper-case)
 *	materialization	TABLE (the default), VIEW, MERGE or INSERT_OVERWRITE
 *	time_column		a column (name, `quoted name`, or a dotted path of them);
 *					required for INCREMENTAL_BY_TIME_RANGE
 *	unique_key		a comma-separated list of columns, in the order written;
 *					required for MERGE_BY_KEY
 *	partition_by	text
 *	owner			text
 *	tags			a comma-separated list; sorted, duplicates removed
 *	dependencies	a comma-separated list of model names (full or short, 1 to 3
 *					parts), lower-cased, sorted, duplicates removed
 * List items are trimmed and empty items dropped. Other keys are ignored
 * (including the original system's incremental_strategy, contract_mode,
 * tests, ...), so prose comments such as "-- note: ..." are harmless.
 *
 * Problems (IL_PARSE_ERR_HEADER, err->line is the line, err->column where
 * the value starts, err->code a stable identifier):
 *	missing_name, missing_kind			(line 1)
 *	empty_value							name, kind, materialization,
 *										time_column or unique_key without a value
 *	invalid_name, invalid_kind, invalid_materialization, invalid_column,
 *	invalid_dependency
 *	duplicate_key						a key given twice (the second line)
 *	missing_time_column, missing_unique_key	(the kind's line)
 * Invalid UTF-8 or a NUL byte in the header lines is IL_PARSE_ERR_ENCODING.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_HEADER_H
#define IL_HEADER_H

#include "il_buf.h"
#include "il_lex.h"

typedef enum il_model_kind
{
	IL_KIND_NONE = 0,
	IL_KIND_FULL_REFRESH,
	IL_KIND_INCREMENTAL_BY_TIME_RANGE,
	IL_KIND_APPEND_ONLY,
	IL_KIND_MERGE_BY_KEY
} il_model_kind;

typedef enum il_materialization
{
	IL_MAT_TABLE = 0,			/* the default */
	IL_MAT_VIEW,
	IL_MAT_MERGE,
	IL_MAT_INSERT_OVERWRITE
} il_materialization;

typedef struct il_header
{
	char	   *name;			/* lower-cased; NULL only when parsing failed */
	il_model_kind kind;
	il_materialization materialization;
	char	   *time_column;	/* NULL when absent */
	char	   *partition_by;	/* NULL when absent or empty */
	char	   *owner;			/* NULL when absent or empty */
	il_strlist	unique_key;		/* in the order written */
	il_strlist	tags;			/* sorted, unique */
	il_strlist	dependencies;	/* lower-cased, sorted, unique */
	int			lines;			/* number of header lines */
	void	   *mem;			/* one block holding all the strings above */
} il_header;

/*
 * Parses the header of src[0..len) into out (which needs no initialization
 * and must be freed with il_header_free whatever the result).
 */
extern il_parse_status il_header_parse(const char *src, size_t len,
									   il_header *out, il_error *err);
extern void il_header_free(il_header *h);

/*
 * Does the header of src[0..len) hold at least one directive: a header
 * line "-- key: value" with one of the keys above (any case)? A file
 * without one is no model (the loader skips it, il_repo.h). Checks nothing
 * else: no values, no encoding.
 */
extern bool il_header_has_directive(const char *src, size_t len);

/* "FULL_REFRESH", ...; NULL for IL_KIND_NONE. */
extern const char *il_model_kind_name(il_model_kind kind);
/* "TABLE", "VIEW", "MERGE", "INSERT_OVERWRITE". */
extern const char *il_materialization_name(il_materialization m);

#endif							/* IL_HEADER_H */
