/*-------------------------------------------------------------------------
 *
 * il_repo_int.h
 *	  What the pieces of the repository loader share, and nothing outside
 *	  them uses: a blob's decoded record, the loader's state and a model
 *	  set's storage. The public interface is il_repo.h.
 *
 * The pieces:
 *	il_arena.c	the arena the strings of one call live in
 *	il_record.c	one file's parse record: made from its bytes, written, read
 *	il_load.c	loading the models of a commit (il_repo_load), the graph
 *	il_diff.c	comparing two commits (il_repo_diff), lineage
 *	il_repo.c	the JSON rows
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_REPO_INT_H
#define IL_REPO_INT_H

#include "il_arena.h"
#include "il_repo.h"
#include "il_sources.h"

/* A distinct blob's record, decoded. */
typedef struct blob_entry
{
	char		type;			/* 0 until made; 'M', 'S' or 'E' */
	unsigned char snaps;		/* bit s: snapshot s lists this blob */
	const il_repo_model *m;		/* 'M': the model slot it was decoded into */
	const char *reason;			/* 'S' */
	const char *code;			/* 'E' */
	const char *pcode;
	int			line;
	int			column;
	const char *message;
} blob_entry;

/* Room for a path in a message. */
#define PATH_CAP 96

/* What a model set keeps besides its public fields. */
typedef struct repo_priv
{
	il_arena   *ar;			/* shared, reference-counted */
	il_git_blob_list files;
	char	   *models_dir;
	const char **up_names;		/* storage of every model's upstream */
	il_sources *decl;			/* sources.txt, NULL when there is none */
	char	   *decl_path;
	const char **unknown;		/* storage of every model's unknown_refs */
	char	   *unknown_mem;	/* their text */
} repo_priv;

/* One commit being loaded. */
typedef struct snap
{
	char		commit[IL_GIT_OID_HEX_LEN + 1];
	char	   *models_dir;
	il_git_blob_list files;
	size_t	   *entry;			/* per file: index into the loader's ids */
	const char *label;			/* "base" or "head" in a diff, else NULL */
	bool		own_only;		/* collect only blobs no other snapshot lists */
	bool		read_sources;	/* read the declaration of sources */
	il_sources *decl;			/* the declaration read, NULL when none */
	char	   *decl_path;
	int			index;			/* in the loader's snapshots */
	il_repo_models *out;		/* being built (il_snap_collect, il_snap_finish) */
} snap;

/* The state of one call. */
typedef struct loader
{
	il_git_repo *git;
	const il_parse_cache *cache;
	il_arena   *ar;
	const char **ids;			/* distinct blob ids, in order of first appearance */
	size_t		nids;
	blob_entry *entries;		/* parallel to ids */
	il_repo_stats stats;
	il_buf		content;
	il_buf		record;
} loader;

/*
 * A hash of a blob id: its first 16 hex digits (object ids are uniformly
 * distributed).
 */
static inline size_t
id_hash(const char *id)
{
	uint64_t	h = 0;
	int			i;

	for (i = 0; i < 16; i++)
	{
		char		c = id[i];

		h = (h << 4) | (uint64_t) (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return (size_t) (h ^ (h >> 29));
}

/* il_record.c */

/* Appends an error record. */
extern void il_record_error(il_buf *b, il_errcode code, const char *pcode, int line,
							int column, const char *message);

/*
 * Decodes a record into e, and a model's into *slot (without its path and
 * blob); false when it is not a valid record of this parser version.
 */
extern bool il_record_decode(const uint8_t *data, size_t len, il_arena *a, blob_entry *e,
							 il_repo_model *slot);

/* il_load.c */

/* Sets out_of_memory; returns -1. */
extern int	il_repo_nomem(il_error *err);

/* Prefixes err's message with "at base|head commit X: " for a diff. */
extern void il_repo_label_error(const snap *s, il_error *err);

/*
 * Resolves the commit, settles the models directory and lists the files.
 * models_dir NULL: the default of this commit.
 */
extern int	il_snap_open(il_git_repo *git, const char *spec, const char *models_dir, snap *s,
						 il_error *err);

/* Frees what a snapshot still owns. */
extern void il_snap_free(snap *s);

/*
 * Collects the distinct blob ids of the snapshots, maps every file to its
 * id, and hands the ids to the cache's prefetch.
 */
extern int	il_loader_prepare(loader *L, snap *snaps, int nsnaps, il_error *err);

/* Makes a listed snapshot's model set (s->out), models in path order. */
extern int	il_snap_collect(loader *L, snap *s, il_error *err);

/* Sorts a collected model set by name, checks names are unique, moves it to *out. */
extern int	il_snap_finish(snap *s, il_repo_models **out, il_error *err);

/* Frees a loader's working memory (the arena keeps its own references). */
extern void il_loader_free(loader *L);

#endif							/* IL_REPO_INT_H */
