/*-------------------------------------------------------------------------
 *
 * il_repo.h
 *	  The models of a repository at a commit, read from git objects; the
 *	  diff of two commits; lineage. What ironlayer.models(), diff() and
 *	  lineage() return and what `ironlayer models|diff|lineage` print.
 *
 * Discovery (il_repo_load): every blob whose name ends in ".sql" under the
 * models directory of the commit's tree, recursively, in path order. Each
 * distinct blob becomes a parse record (from the cache, or by parsing):
 *	- more than IL_REPO_MAX_FILE_SIZE bytes: error file_too_large (the blob
 *	  is not inflated);
 *	- a NUL byte or invalid UTF-8: error binary_file;
 *	- no header directive at all (il_header_has_directive: no line
 *	  "-- key: value" with a key of il_header.h among the header lines):
 *	  skipped, "no header directive";
 *	- otherwise il_model_parse: a model, or an error (invalid_header,
 *	  syntax_error, parse_limit) whose message names the file and line.
 * A symbolic link named *.sql is skipped ("symbolic link"). Then: two files
 * declaring one model name is the error duplicate_model naming both paths;
 * with IL_REPO_DAG the graph is built (il_dag.h: ambiguous_reference,
 * unknown_ref, cycle). The first error in path order wins.
 *
 * Diff (il_repo_diff): both commits are listed and compared by model name
 * (no graph), rows sorted by name. Head is loaded whole; of base only the
 * blobs head lacks are read (a blob both commits list is the same model,
 * unchanged wherever its file moved), so a problem of base that head
 * shares is reported at head, and the diff's base set holds only those
 * models. Rows:
 *	added		the name exists only at head (path: at head)
 *	removed		the name exists only at base (path: at base)
 *	modified	both, fingerprints differ (path: at head)
 *	cosmetic	both, same fingerprint, different blob (path: at head)
 * A model whose blob is the same at both commits is unchanged wherever its
 * file moved; a move with a text change that keeps the fingerprint is
 * cosmetic. When models_dir is NULL, the default of the head commit is used
 * for both commits. A base whose tree lacks the models directory has no
 * models, and so has the base IL_GIT_NULL_OID (40 zeros, git's null id:
 * nothing deployed yet), whose diff->base->commit is that id: every head
 * model is added. The null id is never a head (unknown_commit), and a head
 * without the models directory is the error no_models_dir.
 *
 * Parse cache. The caller may pass callbacks; records are keyed by blob id
 * (content-addressed), so a record never goes stale except when the parser
 * changes: the caller's key must include IL_PARSER_VERSION, and every
 * record starts with it too (a record of another version is "stale": parsed
 * again and put again). Flow of one call: prefetch(all distinct blob ids,
 * in order of first appearance) once, then get(id) per blob, parse on a
 * miss, put(id, record). A file over IL_REPO_MAX_FILE_SIZE is never put:
 * its size comes from the object header, which git does not verify against
 * the id as it verifies content. Records are bytes (not text): see
 * il_repo_parse_text for the format.
 * The callbacks must return normally (no longjmp): an error inside them
 * should be caught and turned into a miss. A PostgreSQL caller can run one
 * query in prefetch, answer get from what it fetched, collect puts and
 * store them after the call returns.
 *
 * Sources (il_sources.h). A load (and a diff's head, not its base) reads
 * the declaration MODELS_DIR/sources.txt when the commit has one: a file
 * that is no regular blob (a symbolic link, a directory), over 1 MiB, or
 * with a bad line is the error invalid_sources naming it (and the line).
 * When the graph is built, each model's sources (external references)
 * that are unknown are listed in unknown_refs, by the declaration's rule or
 * without one by the schema rule. A diff builds the head's graph for this
 * too; when that fails (a cycle, an ambiguous reference, an unknown ref())
 * the diff still succeeds: after a cycle the unknown references are
 * listed, after the others none (models() and plans report those errors).
 *
 * Error codes (il_error.code; SQLSTATEs in src/core/il_errcodes.txt): those
 * of il_git.h and il_dag.h, and invalid_header, syntax_error, binary_file,
 * file_too_large, parse_limit, duplicate_model, invalid_sources. Functions return 0, or -1
 * with err set.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_REPO_H
#define IL_REPO_H

#include "il_buf.h"
#include "il_dag.h"
#include "il_git.h"
#include "il_model.h"
#include "il_sha256.h"

/*
 * The version of the parse records. Change it whenever what the parser
 * (il_model, il_header, il_refs, il_fingerprint) finds in a file, or the
 * record format, changes: every cached record then becomes stale.
 */
#define IL_PARSER_VERSION "ironlayer-parse/2"

/* The largest model file, in bytes (1 MiB). */
#define IL_REPO_MAX_FILE_SIZE ((size_t) 1 << 20)

typedef struct il_parse_cache
{
	void	   *arg;
	/* optional: every distinct blob id of the call (first-appearance order), before any get */
	void		(*prefetch) (void *arg, const char *const *ids, size_t n);
	/* optional: the record stored for id, or NULL; valid until the next call */
	const uint8_t *(*get) (void *arg, const char *id, size_t *len);
	/* optional: store a new record for id */
	void		(*put) (void *arg, const char *id, const uint8_t *data, size_t len);
} il_parse_cache;

typedef struct il_repo_stats
{
	size_t		files;			/* *.sql entries listed */
	size_t		blobs;			/* distinct blobs among them */
	size_t		cache_hits;		/* records taken from the cache */
	size_t		parsed;			/* blobs read from git and parsed */
	size_t		stale;			/* cached records rejected (other version, damaged) */
} il_repo_stats;

typedef struct il_repo_model
{
	const char *name;			/* lower-case full name */
	const char *path;			/* relative to the repository root */
	char		blob[IL_GIT_OID_HEX_LEN + 1];
	il_model_kind kind;
	il_materialization materialization;
	const char *kind_name;		/* "FULL_REFRESH", ... */
	const char *materialization_name;	/* "TABLE", ... */
	const char *time_column;	/* NULL when absent */
	const char *partition_by;	/* NULL when absent */
	il_strlist	unique_key;		/* in header order */
	const char *unique_key_text;	/* "a,b" or NULL when there is none */
	char		fingerprint[IL_SHA256_HEX_LEN + 1];
	char		sql_sha256[IL_SHA256_HEX_LEN + 1];	/* of the file's bytes */
	il_stmt_kind statement;
	bool		guard_ok;		/* no guard violation */
	il_strlist	references;		/* as in il_model */
	il_strlist	refs;
	il_strlist	dependencies;
	const uint8_t *render_edits;	/* the renderer's edit list (il_render.h) */
	size_t		render_edits_len;
	/* filled by the graph (IL_REPO_DAG), else empty: */
	const char **upstream;		/* model names, sorted */
	size_t		n_upstream;
	const char **sources;		/* external names, sorted */
	size_t		n_sources;
	/* filled when the graph is built (also when only its order fails): */
	const char **unknown_refs;	/* the sources that are unknown (il_sources.h), sorted */
	size_t		n_unknown_refs;
} il_repo_model;

typedef struct il_repo_skipped
{
	const char *path;
	char		blob[IL_GIT_OID_HEX_LEN + 1];
	const char *reason;			/* "no header directive", "symbolic link" */
} il_repo_skipped;

typedef struct il_repo_models
{
	char		commit[IL_GIT_OID_HEX_LEN + 1];
	const char *models_dir;		/* normalized; "" is the root */
	il_repo_model *models;		/* sorted by name */
	size_t		n;
	il_repo_skipped *skipped;	/* sorted by path */
	size_t		n_skipped;
	il_dag	   *dag;			/* NULL until built; node i is models[i] */
	const char *sources_file;	/* the declaration's path (relative to the
								 * repository root), NULL when there is none */
	size_t		n_declared;		/* its entries */
	il_repo_stats stats;
	void	   *priv;			/* storage */
} il_repo_models;

/* Build the graph too (and fail on a cycle). */
#define IL_REPO_DAG 0x01

/*
 * Loads the models of a commit-ish. models_dir NULL means the default of
 * that commit (il_git_default_models_dir); else it is normalized with
 * il_git_normalize_dir. cache may be NULL. Free *out with
 * il_repo_models_free (NULL on error).
 */
extern int	il_repo_load(il_git_repo *git, const char *commit, const char *models_dir,
						 const il_parse_cache *cache, unsigned flags,
						 il_repo_models **out, il_error *err);

/* Builds the graph and its order if not built yet (cycle: an error). */
extern int	il_repo_build_dag(il_repo_models *m, il_error *err);
extern void il_repo_models_free(il_repo_models *m);

typedef enum il_change
{
	IL_CHANGE_ADDED,
	IL_CHANGE_MODIFIED,
	IL_CHANGE_REMOVED,
	IL_CHANGE_COSMETIC
} il_change;

/* "added", "modified", "removed", "cosmetic". */
extern const char *il_change_name(il_change change);

typedef struct il_repo_change
{
	const char *model;
	il_change	change;
	const char *path;
	/* the head model's unknown references (none for removed) */
	const char *const *unknown_refs;
	size_t		n_unknown_refs;
} il_repo_change;

typedef struct il_repo_diff_result
{
	il_repo_models *base;		/* owned by the diff: base's models whose blob head lacks */
	il_repo_models *head;
	il_repo_change *rows;		/* sorted by model name */
	size_t		n;
	il_repo_stats stats;		/* of both loads together */
} il_repo_diff_result;

/*
 * Compares two commit-ishes by model name. Free *out with il_repo_diff_free
 * (NULL on error). Errors at one commit name it.
 */
extern int	il_repo_diff(il_git_repo *git, const char *base, const char *head,
						 const char *models_dir, const il_parse_cache *cache,
						 il_repo_diff_result **out, il_error *err);
extern void il_repo_diff_free(il_repo_diff_result *diff);

/*
 * Compares two loaded model sets (the rows point into them; free *rows
 * with il_free()).
 */
extern int	il_repo_compare(const il_repo_models *base, const il_repo_models *head,
							il_repo_change **rows, size_t *nrows, il_error *err);

typedef struct il_repo_lineage_row
{
	const char *model;
	const char *direction;		/* "upstream" or "downstream" */
	int			depth;			/* 1 = direct */
} il_repo_lineage_row;

/*
 * The lineage of a model (full or unique short name) in direction "up",
 * "upstream", "down", "downstream" or "both" (NULL: both), up to
 * *max_depth when max_depth is not NULL. Builds the graph if needed. Rows
 * are ordered by direction (downstream first), depth, name and point into
 * m; free *rows with il_free().
 */
extern int	il_repo_lineage(il_repo_models *m, const char *model, const char *direction,
							const int *max_depth, il_repo_lineage_row **rows,
							size_t *nrows, il_error *err);

/*
 * JSON lines, one RFC 8785 object per row, each ending in "\n":
 *	models	{"blob","fingerprint","kind","materialization","name","path",
 *			 "sources","time_column","unique_key","unknown_refs","upstream"}
 *			(time_column and unique_key null when absent; unique_key is the
 *			comma-joined list; upstream, sources and unknown_refs are []
 *			without a graph)
 *	diff	{"change","model","path","unknown_refs"}
 *	lineage	{"depth","direction","model"}
 */
extern void il_repo_models_json(const il_repo_models *m, il_buf *out);
extern void il_repo_model_json(const il_repo_model *m, il_buf *out);	/* one object, no newline */
extern void il_repo_diff_json(const il_repo_change *rows, size_t n, il_buf *out);
extern void il_repo_lineage_json(const il_repo_lineage_row *rows, size_t n, il_buf *out);

/*
 * Parses one file's bytes into a parse record (appended to record), as
 * il_repo_load does on a cache miss; fails only when out of memory. The
 * record (integers as unsigned LEB128 varints, strings as a varint length
 * and bytes, an optional string as varint length + 1 or 0 for none, a list
 * as a varint count and strings):
 *	varint + IL_PARSER_VERSION, then one type byte:
 *	'M' a model: name, kind (byte, il_model_kind), materialization (byte),
 *	    statement (byte, il_stmt_kind), guard_ok (byte), optional
 *	    time_column, optional partition_by, list unique_key, fingerprint
 *	    (32 bytes), sha256 of the file (32 bytes), list references, list
 *	    refs, list dependencies, the renderer's edit list (varint length
 *	    and bytes, il_render.h: what the executor renders the file from
 *	    without lexing it again)
 *	'S' skipped: reason
 *	'E' an error: code, the parser's code, line, column, message (without
 *	    the path)
 * and nothing after. Decoding checks every length and value.
 */
extern int	il_repo_parse_text(const char *data, size_t len, il_buf *record, il_error *err);

/* The SQLSTATE for an error code of il_git, il_dag or il_repo ("XX000" if unknown). */

#endif							/* IL_REPO_H */
