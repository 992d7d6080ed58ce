/*-------------------------------------------------------------------------
 *
 * il_repo.c
 *	  The rows of the repository functions as JSON lines. See il_repo.h.
 *
 * The rest of il_repo.h lives in il_arena.c, il_record.c, il_load.c and
 * il_diff.c (il_repo_int.h lists them).
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "il_jsonw.h"
#include "il_repo.h"

/* ---- JSON ---- */

/*
 * Appends a JSON array of strings.
 */
static void
put_names(il_buf *b, const char *const *items, size_t n)
{
	size_t		i;

	il_buf_putc(b, '[');
	for (i = 0; i < n; i++)
	{
		if (i > 0)
			il_buf_putc(b, ',');
		il_jsonw_cstring(b, items[i]);
	}
	il_buf_putc(b, ']');
}

/*
 * Appends one model's row object.
 */
void
il_repo_model_json(const il_repo_model *m, il_buf *out)
{
	il_buf_putc(out, '{');
	il_jsonw_key(out, "blob");
	il_jsonw_cstring(out, m->blob);
	il_buf_putc(out, ',');
	il_jsonw_key(out, "fingerprint");
	il_jsonw_cstring(out, m->fingerprint);
	il_buf_putc(out, ',');
	il_jsonw_key(out, "kind");
	il_jsonw_cstring(out, m->kind_name);
	il_buf_putc(out, ',');
	il_jsonw_key(out, "materialization");
	il_jsonw_cstring(out, m->materialization_name);
	il_buf_putc(out, ',');
	il_jsonw_key(out, "name");
	il_jsonw_cstring(out, m->name);
	il_buf_putc(out, ',');
	il_jsonw_key(out, "path");
	il_jsonw_cstring(out, m->path);
	il_buf_putc(out, ',');
	il_jsonw_key(out, "sources");
	put_names(out, m->sources, m->n_sources);
	il_buf_putc(out, ',');
	il_jsonw_key(out, "time_column");
	il_jsonw_cstring(out, m->time_column);
	il_buf_putc(out, ',');
	il_jsonw_key(out, "unique_key");
	il_jsonw_cstring(out, m->unique_key_text);
	il_buf_putc(out, ',');
	il_jsonw_key(out, "unknown_refs");
	put_names(out, m->unknown_refs, m->n_unknown_refs);
	il_buf_putc(out, ',');
	il_jsonw_key(out, "upstream");
	put_names(out, m->upstream, m->n_upstream);
	il_buf_putc(out, '}');
}

/*
 * Appends every model's row, one per line.
 */
void
il_repo_models_json(const il_repo_models *m, il_buf *out)
{
	size_t		i;

	for (i = 0; i < m->n; i++)
	{
		il_repo_model_json(&m->models[i], out);
		il_buf_putc(out, '\n');
	}
}

/*
 * Appends diff rows, one per line.
 */
void
il_repo_diff_json(const il_repo_change *rows, size_t n, il_buf *out)
{
	size_t		i;

	for (i = 0; i < n; i++)
	{
		il_buf_putc(out, '{');
		il_jsonw_key(out, "change");
		il_jsonw_cstring(out, il_change_name(rows[i].change));
		il_buf_putc(out, ',');
		il_jsonw_key(out, "model");
		il_jsonw_cstring(out, rows[i].model);
		il_buf_putc(out, ',');
		il_jsonw_key(out, "path");
		il_jsonw_cstring(out, rows[i].path);
		il_buf_putc(out, ',');
		il_jsonw_key(out, "unknown_refs");
		put_names(out, rows[i].unknown_refs, rows[i].n_unknown_refs);
		il_buf_puts(out, "}\n");
	}
}

/*
 * Appends lineage rows, one per line.
 */
void
il_repo_lineage_json(const il_repo_lineage_row *rows, size_t n, il_buf *out)
{
	size_t		i;

	for (i = 0; i < n; i++)
	{
		il_buf_putc(out, '{');
		il_jsonw_key(out, "depth");
		il_jsonw_int(out, rows[i].depth);
		il_buf_putc(out, ',');
		il_jsonw_key(out, "direction");
		il_jsonw_cstring(out, rows[i].direction);
		il_buf_putc(out, ',');
		il_jsonw_key(out, "model");
		il_jsonw_cstring(out, rows[i].model);
		il_buf_puts(out, "}\n");
	}
}
