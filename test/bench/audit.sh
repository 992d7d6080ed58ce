#!/usr/bin/env bash
# Benchmark of the audit log (issue 3):
#  1. appends per second, 8 clients, all in one tenant and spread over 8
#     tenants, beside plain INSERTs of the same rows into an unchained table
#     in the same run (pgbench, 10 s each, default server settings);
#  2. verify_audit() over 1,000,000 entries.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/scripts/cluster.sh"
SECS=${BENCH_SECONDS:-10}
ENTRIES=${BENCH_AUDIT_ENTRIES:-1000000}

# shared_buffers large enough to hold the 1,000,000-entry chain (about 400 MB)
cluster_start "shared_preload_libraries = 'ironlayer'" "shared_buffers = '1GB'"
work=$CLUSTER_DIR
cluster_psql <<'SQL'
CREATE EXTENSION ironlayer;
SELECT count(ironlayer.create_tenant('bench-' || g)) FROM generate_series(1, 8) g;
CREATE TABLE bench_tenants AS
	SELECT row_number() OVER (ORDER BY name) AS i, tenant_id FROM ironlayer.tenants;
CREATE UNIQUE INDEX ON bench_tenants (i);
CREATE TABLE bench_plain (LIKE ironlayer.audit_queue INCLUDING DEFAULTS);
ALTER TABLE bench_plain ADD PRIMARY KEY (tenant_id, qid);
CREATE FUNCTION bench_tenant(int) RETURNS uuid LANGUAGE sql STABLE
	AS $$ SELECT tenant_id FROM bench_tenants WHERE i = $1 $$;
SQL
cat >"$work/plain.sql" <<'SQL'
\set t random(1, :tenants)
INSERT INTO bench_plain (tenant_id, actor, action, entity_type, entity_id, details)
VALUES (bench_tenant(:t), 'bench', 'bench.append', 'bench', 'e', '{"n": 1, "why": "benchmark"}');
SQL
cat >"$work/chained.sql" <<'SQL'
\set t random(1, :tenants)
SELECT ironlayer._audit(bench_tenant(:t), 'bench.append', 'bench', 'e', '{"n": 1, "why": "benchmark"}');
SQL
chmod 644 "$work"/*.sql

tps() {		# script tenants
	"$PGBIN/pgbench" -n -c 8 -j 2 -T "$SECS" -D tenants="$2" -f "$work/$1.sql" 2>/dev/null \
		| sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}
echo "audit appends, 8 clients, ${SECS} s each, $(nproc) cores:"
for tenants in 1 8; do
	plain=$(tps plain $tenants)
	chained=$(tps chained $tenants)
	ratio=$(awk -v c="$chained" -v p="$plain" 'BEGIN { printf "%.2f", c / p }')
	printf '  %d tenant(s): plain INSERT %8.0f rows/s, chained append %8.0f entries/s, ratio %s\n' \
		"$tenants" "$plain" "$chained" "$ratio"
done
cluster_psql -tAc "SELECT ironlayer.use_tenant('bench-1') IS NOT NULL; SELECT 'chain check after the run: ok=' || ok || ', ' || entries || ' entries' FROM ironlayer.verify_audit()" | tail -1 | sed 's/^/  /'

# verify_audit() over ENTRIES entries of one tenant.
cluster_psql -c "SELECT ironlayer.create_tenant('big')" >/dev/null
seal=$( { cluster_psql -tA <<SQL
\timing on
SELECT count(ironlayer._audit(tenant_id, 'bench.append', 'bench', 'e' || g, jsonb_build_object('n', g, 'why', 'benchmark')))
  FROM ironlayer.tenants, generate_series(1, $ENTRIES) g WHERE name = 'big';
SQL
} | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1)
out=$(cluster_psql -tA <<'SQL'
SELECT ironlayer.use_tenant('big') IS NOT NULL;
VACUUM ironlayer.audit_queue;
\timing on
SELECT ok, entries FROM ironlayer.verify_audit();
SELECT ok, entries FROM ironlayer.verify_audit();
SQL
)
first=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out" | sed -n 1p)
again=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out" | sed -n 2p)
result=$(grep '|' <<<"$out" | tail -1)
printf '  appending and sealing %d entries in one transaction: %.1f s\n' "$ENTRIES" "$(awk -v m="$seal" 'BEGIN { print m / 1000 }')"
printf '  verify_audit() over %d entries: %.2f s first, %.2f s again (ok|entries = %s)\n' "$ENTRIES" \
	"$(awk -v m="$first" 'BEGIN { print m / 1000 }')" "$(awk -v m="$again" 'BEGIN { print m / 1000 }')" "$result"
