/*-------------------------------------------------------------------------
 *
 * genrepo.h
 *	  Writes a git repository of N generated models (for tests and
 *	  benchmarks), with libgit2 only. Included by test/bench/bench_repo.c
 *	  and by unit tests; everything is static.
 *
 * The repository (non-bare unless asked; objects only, no checkout: run
 * "git checkout -f main" to see the files):
 *	README.md
 *	models/raw/<system>/src_<entity>_<i>.sql		20 % of the models
 *	models/staging/<entity>/stg_<entity>_<i>.sql	40 %
 *	models/marts/<domain>/<fct|dim|agg>_<entity>_<i>.sql	40 %
 * Raw models read one or two external tables (landing.<entity>_<k>, shared
 * between models). A staging model reads the first raw model and 0 to 2
 * raw or earlier staging models, a mart 1 to 6 staging or earlier marts, so
 * the graph is layered and acyclic. Upstreams are written as full names (most), short names,
 * {{ ref('...') }}, or also listed in the dependencies header; one mart in
 * ten has a three-part name (prod.marts.x). Headers use every kind (and
 * time_column, unique_key, materialization, partition_by, owner, tags).
 * Bodies are 1 to 3 KB: CTEs per upstream, joins, window functions, CASE,
 * incremental filters on {{ start_date }} / {{ end_date }}.
 *
 * Commits: "main" has one commit, or two with a change; the first commit
 * is also the lightweight tag "base". Changes of the second commit:
 *	leaf		the last mart (nothing reads it): a logic change
 *	root		the first raw model, which every staging model reads (so
 *				every staging model and mart is downstream): a logic change
 *	random1pct	max(1, N / 100) models chosen at random: logic changes
 *	cosmetic	max(1, N / 100) models chosen at random: only comments,
 *				keyword case, blank lines and a trailing ';'
 * only_kind makes every model of one kind (the benchmark of refresh plans:
 * all incremental). Everything is a function of N, the change, the seed
 * and only_kind: the same
 * arguments give the same commit ids. Objects are written as one pack.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_GENREPO_H
#define IL_GENREPO_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <git2.h>
#include <git2/odb_backend.h>
#include <git2/sys/mempack.h>

#include "il_buf.h"
#include "il_git.h"

/* Every function: static, and no warning when an includer leaves it unused. */
#define GEN_STATIC static __attribute__((unused))

typedef enum gen_change
{
	GEN_CHANGE_NONE = 0,
	GEN_CHANGE_LEAF,
	GEN_CHANGE_ROOT,
	GEN_CHANGE_RANDOM1PCT,
	GEN_CHANGE_COSMETIC
} gen_change;

typedef struct gen_opts
{
	size_t		n;				/* models, at least 3 */
	gen_change	change;
	int			bare;
	uint64_t	seed;			/* 0: the default seed */
	int			only_kind;		/* 0: every kind, mixed; 1 + k: every model of
								 * kind k (0 FR, 1 INC, 2 APPEND, 3 MERGE) */
} gen_opts;

typedef struct gen_result
{
	char		base[IL_GIT_OID_HEX_LEN + 1];	/* first commit */
	char		head[IL_GIT_OID_HEX_LEN + 1];	/* main (= base without a change) */
	size_t		changed;		/* models the second commit changed */
	char		first_changed[128];	/* the smallest changed model name */
	size_t		sql_bytes;		/* total size of the first commit's models */
} gen_result;

#define GEN_DEFAULT_SEED 0x1b2c3d4e5f60718ULL

typedef struct gen_rng
{
	uint64_t	s;
} gen_rng;

/* The next pseudo-random number (xorshift64*). */
GEN_STATIC uint64_t
gen_next(gen_rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545F4914F6CDD1DULL;
}

/* A pseudo-random number in [0, n). */
GEN_STATIC unsigned
gen_pick(gen_rng *r, unsigned n)
{
	return (unsigned) (gen_next(r) % n);
}

static const char *const gen_entities[] = {
	"orders", "customers", "payments", "events", "sessions", "products", "inventory",
	"shipments", "refunds", "campaigns", "clicks", "accounts", "invoices", "subscriptions",
	"tickets", "users"
};
static const char *const gen_systems[] = {"shopify", "stripe", "segment", "zendesk", "salesforce", "postgres"};
static const char *const gen_domains[] = {"finance", "marketing", "operations", "product", "sales", "support"};
static const char *const gen_marts[] = {"fct", "dim", "agg"};
static const char *const gen_cols[] = {
	"customer_id", "amount", "status", "country", "channel", "currency", "region", "quantity",
	"price", "discount", "session_id", "device", "plan", "source", "campaign_id", "score"
};

#define GEN_N(a) (sizeof(a) / sizeof((a)[0]))

/* The comment a cosmetic change adds after the header. */
#define GEN_COSMETIC_COMMENT "-- reviewed: no logic change\n\n"

/* One generated model. */
typedef struct gen_model
{
	char		name[96];		/* full name */
	char		shortname[64];	/* table part */
	char		dir[64];		/* models/<layer>/<group> */
	int			layer;			/* 0 raw, 1 staging, 2 marts */
	size_t		nup;
	size_t		up[6];			/* model indices */
	unsigned	spell[6];		/* 0 full, 1 short, 2 ref(), 3 full + dependencies */
	int			kind;			/* 0 FR, 1 INC, 2 APPEND, 3 MERGE */
	unsigned	salt;			/* drives the body's shape and size */
	int			extra_dep;		/* a dependencies-only upstream, or -1 */
	git_oid		blob;			/* at the first commit */
	git_oid		blob2;			/* at the second commit */
	int			changed;		/* 0 no, 1 logic, 2 cosmetic */
} gen_model;

/*
 * Picks the models, their names, layers and upstreams.
 */
GEN_STATIC void
gen_plan(gen_model *m, size_t n, gen_rng *r)
{
	size_t		nraw = n / 5 > 0 ? n / 5 : 1;
	size_t		nstg = n * 2 / 5 > 0 ? n * 2 / 5 : 1;
	size_t		i;

	for (i = 0; i < n; i++)
	{
		gen_model  *g = &m[i];
		const char *ent = gen_entities[gen_pick(r, GEN_N(gen_entities))];
		size_t		lo,
					hi,
					want,
					k;

		memset(g, 0, sizeof(*g));
		g->layer = i < nraw ? 0 : i < nraw + nstg ? 1 : 2;
		g->salt = (unsigned) gen_next(r);
		g->kind = (int) gen_pick(r, 100);
		g->kind = g->kind < 40 ? 0 : g->kind < 65 ? 1 : g->kind < 80 ? 2 : 3;
		g->extra_dep = -1;
		if (g->layer == 0)
		{
			snprintf(g->shortname, sizeof(g->shortname), "src_%s_%05zu", ent, i);
			snprintf(g->name, sizeof(g->name), "raw.%s", g->shortname);
			snprintf(g->dir, sizeof(g->dir), "models/raw/%s", gen_systems[i % GEN_N(gen_systems)]);
			continue;
		}
		if (g->layer == 1)
		{
			snprintf(g->shortname, sizeof(g->shortname), "stg_%s_%05zu", ent, i);
			snprintf(g->name, sizeof(g->name), "staging.%s", g->shortname);
			snprintf(g->dir, sizeof(g->dir), "models/staging/%s", ent);
			lo = 0;
			hi = i;
			want = 1 + gen_pick(r, 3);
		}
		else
		{
			snprintf(g->shortname, sizeof(g->shortname), "%s_%s_%05zu",
					 gen_marts[gen_pick(r, GEN_N(gen_marts))], ent, i);
			if (gen_pick(r, 10) == 0)
				snprintf(g->name, sizeof(g->name), "prod.marts.%s", g->shortname);
			else
				snprintf(g->name, sizeof(g->name), "marts.%s", g->shortname);
			snprintf(g->dir, sizeof(g->dir), "models/marts/%s", gen_domains[i % GEN_N(gen_domains)]);
			lo = nraw;
			hi = i;
			want = 1 + gen_pick(r, 6);
		}
		/* prefer recent models (locality), like real projects */
		if (hi - lo > 400)
			lo = hi - 400;
		if (want > hi - lo)
			want = hi - lo;
		/*
		 * every staging model reads the first raw model (a calendar, say), so
		 * the root is upstream of every staging model and mart
		 */
		if (g->layer == 1)
		{
			g->up[0] = 0;
			g->spell[0] = 0;
			g->nup = 1;
		}
		while (g->nup < want)
		{
			size_t		u = lo + gen_pick(r, (unsigned) (hi - lo));
			unsigned	s = gen_pick(r, 100);

			for (k = 0; k < g->nup; k++)
				if (g->up[k] == u)
					break;
			if (k < g->nup)
				continue;
			g->up[g->nup] = u;
			g->spell[g->nup] = s < 70 ? 0 : s < 82 ? 1 : s < 92 ? 2 : 3;
			g->nup++;
		}
		if (gen_pick(r, 20) == 0 && i > lo)
		{
			size_t		u = lo + gen_pick(r, (unsigned) (hi - lo));

			for (k = 0; k < g->nup; k++)
				if (g->up[k] == u)
					break;
			if (k == g->nup)
				g->extra_dep = (int) u;
		}
	}
}

/*
 * Appends the SQL text of model i (variant: 0 first commit, 1 logic
 * change, 2 cosmetic change).
 */
GEN_STATIC void
gen_sql(const gen_model *m, size_t i, int variant, il_buf *b)
{
	const gen_model *g = &m[i];
	static const char *const kinds[] = {"FULL_REFRESH", "INCREMENTAL_BY_TIME_RANGE", "APPEND_ONLY", "MERGE_BY_KEY"};
	unsigned	salt = g->salt;
	size_t		target = 1000 + salt % 2000;
	size_t		start = b->len;
	size_t		k;
	int			ndeps = 0;
	const char *sel = variant == 2 ? "select" : "SELECT";

	il_buf_printf(b, "-- name: %s\n-- kind: %s\n", g->name, kinds[g->kind]);
	if (g->kind == 1)
		il_buf_puts(b, (salt >> 3) % 2 ? "-- materialization: INSERT_OVERWRITE\n" : "");
	if (g->kind == 3)
		il_buf_puts(b, "-- materialization: MERGE\n");
	if (g->kind == 0 && (salt >> 4) % 5 == 0)
		il_buf_puts(b, "-- materialization: VIEW\n");
	if (g->kind == 1)
		il_buf_puts(b, "-- time_column: event_date\n");
	if (g->kind == 3)
		il_buf_puts(b, (salt >> 5) % 2 ? "-- unique_key: id\n" : "-- unique_key: id, event_date\n");
	if (g->kind == 1 || g->kind == 2)
		il_buf_puts(b, "-- partition_by: event_date\n");
	il_buf_printf(b, "-- owner: team_%s\n-- tags: %s, %s\n", gen_domains[salt % GEN_N(gen_domains)],
				  g->layer == 0 ? "raw" : g->layer == 1 ? "staging" : "marts",
				  gen_entities[(salt >> 7) % GEN_N(gen_entities)]);
	for (k = 0; k < g->nup; k++)
		if (g->spell[k] == 3)
			ndeps++;
	if (ndeps > 0 || g->extra_dep >= 0)
	{
		int			first = 1;

		il_buf_puts(b, "-- dependencies: ");
		for (k = 0; k < g->nup; k++)
			if (g->spell[k] == 3)
			{
				il_buf_printf(b, "%s%s", first ? "" : ", ", m[g->up[k]].name);
				first = 0;
			}
		if (g->extra_dep >= 0)
			il_buf_printf(b, "%s%s", first ? "" : ", ", m[g->extra_dep].name);
		il_buf_putc(b, '\n');
	}
	il_buf_puts(b, "\n");
	if (variant == 2)
	{
		/* a comment; the padding below ignores its length */
		il_buf_puts(b, GEN_COSMETIC_COMMENT);
		start += strlen(GEN_COSMETIC_COMMENT);
	}
	il_buf_puts(b, "WITH\n");

	/* one CTE per input */
	if (g->layer == 0)
	{
		unsigned	nsrc = 1 + salt % 2;

		for (k = 0; k < nsrc; k++)
			il_buf_printf(b,
						  "%s AS (\n    %s\n        id,\n        customer_id,\n        CAST(amount AS DECIMAL(18, 2)) AS amount,\n"
						  "        LOWER(TRIM(status)) AS status,\n        CAST(created_at AS DATE) AS event_date,\n"
						  "        _loaded_at\n    FROM landing.%s_%u\n    WHERE _deleted IS NULL OR _deleted = FALSE\n)%s\n",
						  k == 0 ? "src" : "src_extra", sel, gen_entities[(salt + k) % GEN_N(gen_entities)],
						  (unsigned) ((salt >> 9) + k) % 40, ",");
		il_buf_printf(b, "unioned AS (\n    %s * FROM src%s\n),\n", sel,
					  nsrc > 1 ? "\n    UNION ALL\n    SELECT * FROM src_extra" : "");
	}
	else
	{
		for (k = 0; k < g->nup; k++)
		{
			const gen_model *u = &m[g->up[k]];
			char		ref[128];

			if (g->spell[k] == 1)
				snprintf(ref, sizeof(ref), "%s", u->shortname);
			else if (g->spell[k] == 2)
				snprintf(ref, sizeof(ref), "{{ ref('%s') }}", u->name);
			else
				snprintf(ref, sizeof(ref), "%s", u->name);
			il_buf_printf(b,
						  "u%zu AS (\n    %s\n        id,\n        customer_id,\n        amount,\n        status,\n"
						  "        event_date\n    FROM %s\n", k, sel, ref);
			if (g->kind == 1 || g->kind == 2)
				il_buf_puts(b, "    WHERE event_date BETWEEN '{{ start_date }}' AND '{{ end_date }}'\n");
			il_buf_puts(b, "),\n");
		}
		il_buf_printf(b, "unioned AS (\n    %s\n        u0.id,\n        u0.customer_id,\n        u0.event_date,\n"
					  "        COALESCE(u0.amount, 0) AS amount,\n        u0.status", sel);
		for (k = 1; k < g->nup; k++)
			il_buf_printf(b, ",\n        u%zu.amount AS amount_%zu", k, k);
		il_buf_puts(b, "\n    FROM u0\n");
		for (k = 1; k < g->nup; k++)
			il_buf_printf(b, "    %s JOIN u%zu ON u0.id = u%zu.id AND u0.event_date = u%zu.event_date\n",
						  (salt >> k) % 3 == 0 ? "INNER" : "LEFT", k, k, k);
		il_buf_puts(b, "),\n");
	}
	il_buf_printf(b, "final AS (\n    %s\n        *,\n"
				  "        ROW_NUMBER() OVER (PARTITION BY id ORDER BY event_date DESC) AS rn,\n"
				  "        SUM(amount) OVER (PARTITION BY customer_id ORDER BY event_date\n"
				  "            ROWS BETWEEN 6 PRECEDING AND CURRENT ROW) AS amount_7d,\n"
				  "        CASE WHEN status IN ('active', 'paid') THEN 1 ELSE 0 END AS is_active", sel);
	/* pad with derived columns up to the target size */
	k = 0;
	while (b->len - start < target - 120)
	{
		const char *c = gen_cols[(salt + k) % GEN_N(gen_cols)];

		switch ((salt + k) % 4)
		{
			case 0:
				il_buf_printf(b, ",\n        COALESCE(CAST(amount AS DOUBLE), 0.0) * %zu AS %s_x%zu", k + 2, c, k);
				break;
			case 1:
				il_buf_printf(b, ",\n        CASE WHEN amount > %zu THEN 'high' WHEN amount > %zu THEN 'mid' ELSE 'low' END AS %s_band%zu",
							  100 * (k + 1), 10 * (k + 1), c, k);
				break;
			case 2:
				il_buf_printf(b, ",\n        DATE_TRUNC('%s', event_date) AS %s_period%zu", k % 2 ? "MONTH" : "WEEK", c, k);
				break;
			default:
				il_buf_printf(b, ",\n        LAG(amount, %zu) OVER (PARTITION BY customer_id ORDER BY event_date) AS %s_lag%zu",
							  k % 5 + 1, c, k);
				break;
		}
		k++;
	}
	il_buf_puts(b, "\n    FROM unioned\n)\n");
	il_buf_printf(b, "%s * FROM final WHERE rn = 1%s%s\n", sel,
				  variant == 1 ? " AND amount IS NOT NULL" : "",
				  variant == 2 ? ";\n\n" : "");
}

/*
 * Formats libgit2's last error into errbuf.
 */
GEN_STATIC int
gen_fail(char *errbuf, size_t errlen, const char *what)
{
	const git_error *e = git_error_last();

	snprintf(errbuf, errlen, "%s: %s", what, e && e->message ? e->message : "failed");
	return -1;
}

/* A model's place in the tree, for sorting. */
typedef struct gen_place
{
	int			layer;
	const char *dir;
	const char *file;
	size_t		idx;
} gen_place;

/* Orders places by layer, directory, file. */
GEN_STATIC int
gen_cmp_place(const void *a, const void *b)
{
	const gen_place *x = a;
	const gen_place *y = b;
	int			c;

	if (x->layer != y->layer)
		return x->layer < y->layer ? -1 : 1;
	c = strcmp(x->dir, y->dir);
	return c != 0 ? c : strcmp(x->file, y->file);
}

/*
 * Writes the root tree of one commit (second: use blob2) into *out.
 * order lists the models by directory.
 */
GEN_STATIC int
gen_tree(git_repository *repo, const gen_model *m, const size_t *order, size_t n, int second,
		 const git_oid *readme, git_oid *out, char *errbuf, size_t errlen)
{
	static const char *const layers[] = {"raw", "staging", "marts"};
	git_treebuilder *root = NULL,
			   *models = NULL,
			   *layer = NULL,
			   *dir = NULL;
	git_oid		oid;
	size_t		i = 0;
	int			L;
	int			ret = -1;

	if (git_treebuilder_new(&root, repo, NULL) < 0 || git_treebuilder_new(&models, repo, NULL) < 0)
	{
		gen_fail(errbuf, errlen, "treebuilder");
		goto done;
	}
	for (L = 0; L < 3; L++)
	{
		if (git_treebuilder_new(&layer, repo, NULL) < 0)
		{
			gen_fail(errbuf, errlen, "treebuilder");
			goto done;
		}
		while (i < n && m[order[i]].layer == L)
		{
			const char *d = m[order[i]].dir;
			const char *group = strrchr(d, '/') + 1;

			if (git_treebuilder_new(&dir, repo, NULL) < 0)
			{
				gen_fail(errbuf, errlen, "treebuilder");
				goto done;
			}
			while (i < n && strcmp(m[order[i]].dir, d) == 0)
			{
				const gen_model *g = &m[order[i]];
				char		file[80];

				snprintf(file, sizeof(file), "%s.sql", g->shortname);
				if (git_treebuilder_insert(NULL, dir, file, second ? &g->blob2 : &g->blob,
										   GIT_FILEMODE_BLOB) < 0)
				{
					gen_fail(errbuf, errlen, "tree insert");
					goto done;
				}
				i++;
			}
			if (git_treebuilder_write(&oid, dir) < 0 ||
				git_treebuilder_insert(NULL, layer, group, &oid, GIT_FILEMODE_TREE) < 0)
			{
				gen_fail(errbuf, errlen, "tree write");
				goto done;
			}
			git_treebuilder_free(dir);
			dir = NULL;
		}
		if (git_treebuilder_write(&oid, layer) < 0 ||
			git_treebuilder_insert(NULL, models, layers[L], &oid, GIT_FILEMODE_TREE) < 0)
		{
			gen_fail(errbuf, errlen, "tree write");
			goto done;
		}
		git_treebuilder_free(layer);
		layer = NULL;
	}
	if (git_treebuilder_write(&oid, models) < 0 ||
		git_treebuilder_insert(NULL, root, "models", &oid, GIT_FILEMODE_TREE) < 0 ||
		git_treebuilder_insert(NULL, root, "README.md", readme, GIT_FILEMODE_BLOB) < 0 ||
		git_treebuilder_write(out, root) < 0)
	{
		gen_fail(errbuf, errlen, "tree write");
		goto done;
	}
	ret = 0;
done:
	git_treebuilder_free(dir);
	git_treebuilder_free(layer);
	git_treebuilder_free(models);
	git_treebuilder_free(root);
	return ret;
}

/*
 * Writes the repository into dir (created if missing). Returns 0, or -1
 * with a message in errbuf.
 */
GEN_STATIC int
genrepo_write(const char *path, const gen_opts *o, gen_result *res, char *errbuf, size_t errlen)
{
	git_repository *repo = NULL;
	git_odb    *odb = NULL;
	git_odb_backend *mempack = NULL;
	git_odb_writepack *wp = NULL;
	git_packbuilder *pb = NULL;
	git_buf		pack = {NULL, 0, 0};
	git_indexer_progress stats;
	git_signature *sig = NULL;
	git_repository_init_options io;
	gen_model  *m = NULL;
	size_t	   *order = NULL;
	gen_place  *places = NULL;
	gen_rng		r;
	il_buf		b = IL_BUF_INIT;
	git_oid		readme,
				tree,
				c1,
				c2;
	git_tree   *t = NULL;
	git_commit *parent = NULL;
	git_reference *ref = NULL;
	size_t		n = o->n;
	size_t		i;
	size_t		nchange = 0;
	int			ret = -1;

	memset(res, 0, sizeof(*res));
	errbuf[0] = '\0';
	if (n < 3)
	{
		snprintf(errbuf, errlen, "at least 3 models");
		return -1;
	}
	if (il_git_init() != 0)
		return gen_fail(errbuf, errlen, "libgit2");
	r.s = o->seed ? o->seed : GEN_DEFAULT_SEED;
	m = calloc(n, sizeof(gen_model));
	order = malloc(n * sizeof(size_t));
	if (m == NULL || order == NULL)
	{
		snprintf(errbuf, errlen, "out of memory");
		goto done;
	}
	gen_plan(m, n, &r);
	if (o->only_kind > 0)
	{
		size_t		i;

		/* after the draws, so the rest of the repository stays as it is */
		for (i = 0; i < n; i++)
			m[i].kind = o->only_kind - 1;
	}

	/* which models the second commit changes */
	if (o->change == GEN_CHANGE_LEAF)
		m[n - 1].changed = 1;
	else if (o->change == GEN_CHANGE_ROOT)
		m[0].changed = 1;
	else if (o->change == GEN_CHANGE_RANDOM1PCT || o->change == GEN_CHANGE_COSMETIC)
	{
		size_t		want = n / 100 > 0 ? n / 100 : 1;

		while (nchange < want)
		{
			size_t		k = gen_pick(&r, (unsigned) n);

			if (m[k].changed)
				continue;
			m[k].changed = o->change == GEN_CHANGE_COSMETIC ? 2 : 1;
			nchange++;
		}
	}

	git_repository_init_options_init(&io, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	io.flags = GIT_REPOSITORY_INIT_MKPATH;
	if (o->bare)
		io.flags |= GIT_REPOSITORY_INIT_BARE;
	io.initial_head = "main";
	if (git_repository_init_ext(&repo, path, &io) < 0 ||
		git_repository_odb(&odb, repo) < 0 ||
		git_mempack_new(&mempack) < 0 ||
		git_odb_add_backend(odb, mempack, 999) < 0)
	{
		gen_fail(errbuf, errlen, "cannot create the repository");
		goto done;
	}
	if (git_signature_new(&sig, "ironlayer bench", "bench@ironlayer.invalid", 1704067200, 0) < 0)
	{
		gen_fail(errbuf, errlen, "signature");
		goto done;
	}
	il_buf_puts(&b, "# generated models\n\nWritten by test/bench/genrepo.h.\n");
	if (git_odb_write(&readme, odb, b.data, b.len, GIT_OBJECT_BLOB) < 0)
	{
		gen_fail(errbuf, errlen, "blob");
		goto done;
	}
	for (i = 0; i < n; i++)
	{
		il_buf_reset(&b);
		gen_sql(m, i, 0, &b);
		res->sql_bytes += b.len;
		if (b.oom || git_odb_write(&m[i].blob, odb, b.data, b.len, GIT_OBJECT_BLOB) < 0)
		{
			gen_fail(errbuf, errlen, "blob");
			goto done;
		}
		m[i].blob2 = m[i].blob;
		if (m[i].changed)
		{
			il_buf_reset(&b);
			gen_sql(m, i, m[i].changed, &b);
			if (b.oom || git_odb_write(&m[i].blob2, odb, b.data, b.len, GIT_OBJECT_BLOB) < 0)
			{
				gen_fail(errbuf, errlen, "blob");
				goto done;
			}
			res->changed++;
			if (res->first_changed[0] == '\0' || strcmp(m[i].name, res->first_changed) < 0)
				snprintf(res->first_changed, sizeof(res->first_changed), "%s", m[i].name);
		}
	}
	/* models by layer (raw, staging, marts), then directory */
	places = malloc(n * sizeof(gen_place));
	if (places == NULL)
	{
		snprintf(errbuf, errlen, "out of memory");
		goto done;
	}
	for (i = 0; i < n; i++)
	{
		places[i].layer = m[i].layer;
		places[i].dir = m[i].dir;
		places[i].file = m[i].shortname;
		places[i].idx = i;
	}
	qsort(places, n, sizeof(gen_place), gen_cmp_place);
	for (i = 0; i < n; i++)
		order[i] = places[i].idx;

	if (gen_tree(repo, m, order, n, 0, &readme, &tree, errbuf, errlen) != 0)
		goto done;
	if (git_tree_lookup(&t, repo, &tree) < 0 ||
		git_commit_create(&c1, repo, NULL, sig, sig, NULL, "Generated models\n", t, 0, NULL) < 0)
	{
		gen_fail(errbuf, errlen, "commit");
		goto done;
	}
	git_tree_free(t);
	t = NULL;
	c2 = c1;
	if (o->change != GEN_CHANGE_NONE)
	{
		if (gen_tree(repo, m, order, n, 1, &readme, &tree, errbuf, errlen) != 0)
			goto done;
		if (git_tree_lookup(&t, repo, &tree) < 0 ||
			git_commit_lookup(&parent, repo, &c1) < 0 ||
			git_commit_create(&c2, repo, NULL, sig, sig, NULL, "Change models\n", t, 1,
							  (const git_commit **) &parent) < 0)
		{
			gen_fail(errbuf, errlen, "commit");
			goto done;
		}
	}

	/*
	 * The objects into one pack, as git gc would pack them (newest commit
	 * first, entries with their names so deltas pair similar files), then
	 * the references.
	 */
	if (git_packbuilder_new(&pb, repo) < 0 ||
		(git_packbuilder_set_threads(pb, 1), 0) ||
		(o->change != GEN_CHANGE_NONE && git_packbuilder_insert_commit(pb, &c2) < 0) ||
		git_packbuilder_insert_commit(pb, &c1) < 0 ||
		git_packbuilder_write_buf(&pack, pb) < 0 ||
		git_odb_write_pack(&wp, odb, NULL, NULL) < 0 ||
		wp->append(wp, pack.ptr, pack.size, &stats) < 0 ||
		wp->commit(wp, &stats) < 0)
	{
		gen_fail(errbuf, errlen, "pack");
		goto done;
	}
	if (git_reference_create(&ref, repo, "refs/heads/main", &c2, 1, NULL) < 0)
	{
		gen_fail(errbuf, errlen, "reference");
		goto done;
	}
	git_reference_free(ref);
	ref = NULL;
	if (git_reference_create(&ref, repo, "refs/tags/base", &c1, 1, NULL) < 0)
	{
		gen_fail(errbuf, errlen, "reference");
		goto done;
	}
	git_oid_tostr(res->base, sizeof(res->base), &c1);
	git_oid_tostr(res->head, sizeof(res->head), &c2);
	ret = 0;
done:
	if (wp)
		wp->free(wp);
	git_packbuilder_free(pb);
	if (mempack)
		git_mempack_reset(mempack);
	git_buf_dispose(&pack);
	git_reference_free(ref);
	git_commit_free(parent);
	git_tree_free(t);
	git_signature_free(sig);
	git_odb_free(odb);
	git_repository_free(repo);
	il_buf_free(&b);
	free(m);
	free(order);
	free(places);
	return ret;
}

/*
 * Parses a change option; -1 when unknown.
 */
GEN_STATIC int
genrepo_parse_change(const char *s, gen_change *out)
{
	static const char *const names[] = {"none", "leaf", "root", "random1pct", "cosmetic"};
	int			i;

	for (i = 0; i < (int) GEN_N(names); i++)
		if (strcmp(s, names[i]) == 0)
		{
			*out = (gen_change) i;
			return 0;
		}
	return -1;
}

/*
 * Removes a directory tree (files, links, directories), without following
 * symbolic links and without recursion: files go at once, directories are
 * collected and removed deepest first. Returns 0, or -1 when something
 * could not be removed.
 */
GEN_STATIC int
genrepo_rmtree(const char *path)
{
	char	  **dirs = NULL;
	size_t		ndirs = 0;
	size_t		cap = 0;
	size_t		next = 0;
	int			ret = 0;
	struct stat st;

	if (lstat(path, &st) != 0)
		return -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	cap = 64;
	dirs = malloc(cap * sizeof(char *));
	if (dirs == NULL || (dirs[0] = strdup(path)) == NULL)
	{
		free(dirs);
		return -1;
	}
	ndirs = 1;
	/* breadth-first: every directory is listed after its parent */
	while (next < ndirs)
	{
		DIR		   *d = opendir(dirs[next]);
		struct dirent *e;

		if (d == NULL)
		{
			ret = -1;
			next++;
			continue;
		}
		while ((e = readdir(d)) != NULL)
		{
			char	   *p;

			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			p = malloc(strlen(dirs[next]) + strlen(e->d_name) + 2);
			if (p == NULL)
			{
				ret = -1;
				break;
			}
			sprintf(p, "%s/%s", dirs[next], e->d_name);
			if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			{
				if (ndirs == cap)
				{
					char	  **nd = realloc(dirs, 2 * cap * sizeof(char *));

					if (nd == NULL)
					{
						free(p);
						ret = -1;
						break;
					}
					dirs = nd;
					cap *= 2;
				}
				dirs[ndirs++] = p;
			}
			else
			{
				if (unlink(p) != 0)
					ret = -1;
				free(p);
			}
		}
		closedir(d);
		next++;
	}
	while (ndirs > 0)
	{
		ndirs--;
		if (rmdir(dirs[ndirs]) != 0)
			ret = -1;
		free(dirs[ndirs]);
	}
	free(dirs);
	return ret;
}

/* ---- small fixtures for tests: commits of given files ---- */

typedef struct gen_file
{
	const char *path;			/* relative to the root, "/" between parts */
	const char *content;		/* NULL: the file is left out */
	size_t		len;			/* 0: strlen(content) */
	unsigned	mode;			/* 0: a plain file; or GIT_FILEMODE_LINK, ... */
} gen_file;

/*
 * Commits files[0..n) (the whole tree: nothing else is in it) on branch
 * "main" of the repository at path, creating the repository (bare when
 * bare) if needed; the new commit's parent is main's tip, if any. The
 * commit id goes to out. Times are fixed (time_step seconds after a fixed
 * date) so ids are reproducible. Returns 0, or -1 with a message.
 */
GEN_STATIC int
genrepo_commit_files(const char *path, int bare, const gen_file *files, size_t n,
					 const char *message, int time_step, char out[IL_GIT_OID_HEX_LEN + 1],
					 char *errbuf, size_t errlen)
{
	git_repository *repo = NULL;
	git_repository_init_options io;
	git_treebuilder *tb = NULL;
	git_tree   *empty = NULL;
	git_tree   *tree = NULL;
	git_commit *parent = NULL;
	git_reference *head = NULL;
	git_signature *sig = NULL;
	git_tree_update *up = NULL;
	git_oid		empty_id,
				tree_id,
				commit_id;
	size_t		i,
				k = 0;
	int			ret = -1;

	errbuf[0] = '\0';
	if (il_git_init() != 0)
		return gen_fail(errbuf, errlen, "libgit2");
	if (git_repository_open_ext(&repo, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
	{
		git_repository_init_options_init(&io, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
		io.flags = GIT_REPOSITORY_INIT_MKPATH | (bare ? GIT_REPOSITORY_INIT_BARE : 0);
		io.initial_head = "main";
		if (git_repository_init_ext(&repo, path, &io) < 0)
			return gen_fail(errbuf, errlen, "init");
	}
	up = calloc(n + 1, sizeof(git_tree_update));
	if (up == NULL)
	{
		snprintf(errbuf, errlen, "out of memory");
		goto done;
	}
	for (i = 0; i < n; i++)
	{
		if (files[i].content == NULL)
			continue;
		if (git_blob_create_from_buffer(&up[k].id, repo, files[i].content,
										files[i].len ? files[i].len : strlen(files[i].content)) < 0)
		{
			gen_fail(errbuf, errlen, "blob");
			goto done;
		}
		up[k].action = GIT_TREE_UPDATE_UPSERT;
		up[k].filemode = files[i].mode ? (git_filemode_t) files[i].mode : GIT_FILEMODE_BLOB;
		up[k].path = files[i].path;
		k++;
	}
	if (git_treebuilder_new(&tb, repo, NULL) < 0 || git_treebuilder_write(&empty_id, tb) < 0 ||
		git_tree_lookup(&empty, repo, &empty_id) < 0 ||
		git_tree_create_updated(&tree_id, repo, empty, k, up) < 0 ||
		git_tree_lookup(&tree, repo, &tree_id) < 0)
	{
		gen_fail(errbuf, errlen, "tree");
		goto done;
	}
	if (git_reference_lookup(&head, repo, "refs/heads/main") == 0)
	{
		if (git_commit_lookup(&parent, repo, git_reference_target(head)) < 0)
		{
			gen_fail(errbuf, errlen, "parent");
			goto done;
		}
	}
	if (git_signature_new(&sig, "ironlayer test", "test@ironlayer.invalid",
						  1704067200 + 60 * (git_time_t) time_step, 0) < 0 ||
		git_commit_create(&commit_id, repo, "refs/heads/main", sig, sig, NULL, message, tree,
						  parent ? 1 : 0, (const git_commit **) &parent) < 0)
	{
		gen_fail(errbuf, errlen, "commit");
		goto done;
	}
	git_oid_tostr(out, IL_GIT_OID_HEX_LEN + 1, &commit_id);
	ret = 0;
done:
	free(up);
	git_signature_free(sig);
	git_reference_free(head);
	git_commit_free(parent);
	git_tree_free(tree);
	git_tree_free(empty);
	git_treebuilder_free(tb);
	git_repository_free(repo);
	return ret;
}

/*
 * Creates tag name on commit target (a full id): lightweight, or annotated
 * when annotated. Returns 0, or -1 with a message.
 */
GEN_STATIC int
genrepo_tag(const char *path, const char *name, const char *target, int annotated,
			char *errbuf, size_t errlen)
{
	git_repository *repo = NULL;
	git_object *obj = NULL;
	git_signature *sig = NULL;
	git_oid		oid;
	int			ret = -1;

	if (git_repository_open_ext(&repo, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0 ||
		git_revparse_single(&obj, repo, target) < 0 ||
		git_signature_new(&sig, "ironlayer test", "test@ironlayer.invalid", 1704067200, 0) < 0)
	{
		gen_fail(errbuf, errlen, "tag");
		goto done;
	}
	if (annotated ? git_tag_create(&oid, repo, name, obj, sig, "a tag\n", 0) < 0
		: git_tag_create_lightweight(&oid, repo, name, obj, 0) < 0)
	{
		gen_fail(errbuf, errlen, "tag");
		goto done;
	}
	ret = 0;
done:
	git_signature_free(sig);
	git_object_free(obj);
	git_repository_free(repo);
	return ret;
}

/*
 * genrepo_write in a child process, so that the generator's memory does not
 * count in the caller's peak RSS. Returns 0, or -1 with a message on
 * standard error.
 */
GEN_STATIC int
genrepo_in_child(const char *path, const gen_opts *o, gen_result *res)
{
	int			fds[2];
	pid_t		pid;
	int			status;
	int			ok;

	if (pipe(fds) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
	{
		gen_result	r;
		char		e[256];
		int			rc = genrepo_write(path, o, &r, e, sizeof(e));

		if (rc != 0)
			fprintf(stderr, "generate: %s\n", e);
		else if (write(fds[1], &r, sizeof(r)) != (ssize_t) sizeof(r))
			rc = -1;
		_exit(rc == 0 ? 0 : 1);
	}
	close(fds[1]);
	ok = read(fds[0], res, sizeof(*res)) == (ssize_t) sizeof(*res);
	close(fds[0]);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

#endif							/* IL_GENREPO_H */
