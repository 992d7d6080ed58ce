/*-------------------------------------------------------------------------
 *
 * il_dag.h
 *	  The dependency graph of a repository's models.
 *
 * Nodes are models, numbered in name order (byte order): node i has the
 * i-th smallest name. An edge u -> v means v reads u (u is upstream of v).
 *
 * Edges come from three lists of each model: references (table names found
 * in the SQL, as il_refs writes them), refs ({{ ref('x') }}) and
 * dependencies (the header). Each name is resolved against the model names
 * after lower-casing its ASCII letters (Databricks names are case-
 * insensitive; model names are stored lower-case), in this order:
 *	1. a model whose full name is the name;
 *	2. else the models of which the name is a proper suffix on a dot
 *	   boundary ("orders" and "sales.orders" are suffixes of
 *	   "main.sales.orders"): exactly one is the model; more than one is the
 *	   error ambiguous_reference, listing the candidates in name order;
 *	3. else, for a three-part name c.s.t, the two-part model s.t (a model
 *	   named without its catalog lives in the default catalog, which may
 *	   be c). A three-part model c.s.t is never matched by d.s.t.
 * A name that resolves to the model itself is ignored (a model may read
 * its own table). An unresolved name from references or dependencies is
 * an external source of the model (kept lower-cased; sorted, unique); an
 * unresolved ref() is the error unknown_ref, since ref() names a model.
 * Duplicate edges are merged.
 *
 * Topological order (il_dag_sort): Kahn's algorithm, always taking the
 * smallest name among the models whose upstreams are all placed.
 *
 * The cycle reported when there is one: let s be the smallest name among
 * the models that lie on a cycle (in a strongly connected component of
 * more than one model). The cycle is the shortest cycle through s,
 * following edges downstream (s -> x means x reads s); among the shortest
 * ones, the one whose sequence of names is smallest (a breadth-first search
 * from s visiting successors in name order). It is written
 * "s -> x -> ... -> s". The same graph always gives the same cycle.
 *
 * Lineage (il_dag_lineage): the models upstream and/or downstream of a
 * model, each with its depth (length of the shortest path; 1 = direct),
 * optionally up to a maximum depth; the model itself is not listed. Rows
 * are ordered by direction ("downstream" before "upstream"), depth, name.
 *
 * Errors (il_error.code): duplicate_model, ambiguous_reference, unknown_ref,
 * cycle, unknown_model, ambiguous_model, invalid_direction,
 * invalid_max_depth, too_many_models, out_of_memory. Functions return 0 or
 * -1 with err set.
 *
 * Every walk is iterative; time is linear in models plus edges (times a
 * log for the ordering heap).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_DAG_H
#define IL_DAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "il_buf.h"
#include "il_lex.h"

/* One model as input to il_dag_build (the strings are not copied). */
typedef struct il_dag_model
{
	const char *name;			/* lower-case full name */
	const char *path;			/* for messages; may be NULL */
	il_strlist	references;
	il_strlist	refs;
	il_strlist	dependencies;
} il_dag_model;

typedef struct il_dag
{
	size_t		n;				/* models */
	size_t		n_edges;
	const char **names;			/* names[i]: node i's name (the input's string) */
	size_t	   *input;			/* input[i]: node i came from models[input[i]] */
	/* upstream of i: up[up_off[i] .. up_off[i + 1]), ascending (name order) */
	size_t	   *up_off;
	size_t	   *up;
	/* downstream of i: down[down_off[i] .. down_off[i + 1]), ascending */
	size_t	   *down_off;
	size_t	   *down;
	/* external sources of i: src[src_off[i] .. src_off[i + 1]), sorted, unique */
	size_t	   *src_off;
	const char **src;
	/* topological order once il_dag_sort succeeded, else NULL */
	size_t	   *order;
	char	   *src_mem;		/* the sources' text */
	void	   *index;			/* private: the name table of il_dag_resolve */
} il_dag;

/*
 * Builds the graph of models[0..n) (names must be unique). The strings of
 * models must outlive the graph. Free *out with il_dag_free (NULL on
 * error).
 */
extern int	il_dag_build(const il_dag_model *models, size_t n, il_dag **out, il_error *err);
extern void il_dag_free(il_dag *dag);

/*
 * Computes dag->order, or fails with the error "cycle" whose message is
 * "dependency cycle: a -> b -> a" (cut with "..." when it does not fit;
 * il_dag_cycle gives it whole).
 */
extern int	il_dag_sort(il_dag *dag, il_error *err);

/*
 * Appends the canonical cycle "a -> b -> ... -> a" to out and returns true,
 * or returns false when the graph has no cycle (out unchanged).
 */
extern bool il_dag_cycle(const il_dag *dag, il_buf *out);

/* What one name resolves to (il_dag_resolve). */
typedef enum il_dag_resolution
{
	IL_DAG_RESOLVED = 0,		/* *node is the model */
	IL_DAG_UNRESOLVED,			/* no model: an external source */
	IL_DAG_AMBIGUOUS			/* a suffix of several models, none named so */
} il_dag_resolution;

/*
 * Resolves name[0..len) (any case, not NUL-terminated) by the rules above:
 * what il_dag_build does for every name of every model, and what
 * il_dag_find and the renderer (il_render.h) use. A name that resolves to
 * the asking model itself is RESOLVED here (il_dag_build then drops the
 * edge). Time linear in len.
 */
extern il_dag_resolution il_dag_resolve(const il_dag *dag, const char *name, size_t len,
										size_t *node);

/*
 * Appends, for a message, the models name[0..len) is a proper suffix of:
 * "a.x, b.x", in name order, cut with ", ..." after about 150 bytes.
 */
extern void il_dag_candidates(const il_dag *dag, const char *name, size_t len, il_buf *out);

/*
 * Finds a model by a name a user gave: full name, or a unique suffix, as
 * for references (case-insensitive). Errors unknown_model, ambiguous_model.
 */
extern int	il_dag_find(const il_dag *dag, const char *name, size_t *node, il_error *err);

/* Directions of lineage. */
#define IL_DAG_UPSTREAM		0x01
#define IL_DAG_DOWNSTREAM	0x02
#define IL_DAG_BOTH			(IL_DAG_UPSTREAM | IL_DAG_DOWNSTREAM)

/*
 * Parses a direction: "up" or "upstream", "down" or "downstream", "both"
 * (ASCII case ignored). Error invalid_direction.
 */
extern int	il_dag_parse_direction(const char *s, unsigned *dirs, il_error *err);

typedef struct il_dag_lineage_row
{
	size_t		node;
	unsigned	direction;		/* IL_DAG_UPSTREAM or IL_DAG_DOWNSTREAM */
	int			depth;			/* 1 = direct */
} il_dag_lineage_row;

/* "upstream" or "downstream". */
extern const char *il_dag_direction_name(unsigned direction);

/*
 * The lineage of node in the given directions, up to *max_depth when
 * max_depth is not NULL (it must be >= 0, else invalid_max_depth). *rows is
 * allocated with il_malloc (free it with il_free(); NULL when there are none).
 */
extern int	il_dag_lineage(const il_dag *dag, size_t node, unsigned dirs, const int *max_depth,
						   il_dag_lineage_row **rows, size_t *nrows, il_error *err);

#endif							/* IL_DAG_H */
