#!/usr/bin/env bash
# Benchmark of how claims share the workers between tenants (docs/runs.md,
# "Which step a claim takes"): tenant "big" applies BENCH_FAIR_BIG (200)
# independent steps of BENCH_FAIR_MS (50) ms; half a second later tenant
# "mid" applies 20 of them, and half a second after that tenant "small"
# applies one; BENCH_FAIR_WORKERS (2) workers run them. Prints, per tenant,
# how long its run waited for its first claim and how long it took, and,
# while "big" and "mid" were both active, the share of the steps each
# started (1.0 each when the workers are shared evenly) with Jain's index
# of those shares (1.0 is perfectly fair). No assertion; the test of the
# same property is test/t/008_hostile.pl.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/scripts/cluster.sh"
BIG=${BENCH_FAIR_BIG:-200}
MS=${BENCH_FAIR_MS:-50}
W=${BENCH_FAIR_WORKERS:-2}

repos=$(mktemp -d "${TMPDIR:-/tmp}/ironlayer-fairness.XXXXXX")
chmod 755 "$repos"
make_repo() {		# make_repo NAME STEPS
	local repo=$repos/$1 i
	mkdir -p "$repo/models/$1"
	g() { git -C "$repo" -c user.name=bench -c user.email=bench@example.invalid -c init.defaultBranch=main \
		-c commit.gpgsign=false "$@"; }
	g init -q
	echo "benchmark models" >"$repo/models/README.md"
	g add -A
	g commit -q -m "no models yet"
	for i in $(seq 1 "$2"); do
		printf -- "-- name: %s.m%04d\n-- kind: FULL_REFRESH\nSELECT pg_sleep(%s) IS NULL AS slept\n" \
			"$1" "$i" "$(awk -v ms="$MS" 'BEGIN { printf "%.3f", ms / 1000 }')" >"$repo/models/$1/m$i.sql"
	done
	g add -A
	g commit -q -m "$2 models"
}
make_repo big "$BIG"
make_repo mid 20
make_repo small 1
[ "$(id -u)" -eq 0 ] && chown -R "$CLUSTER_USER" "$repos"

cluster_start "shared_preload_libraries = 'ironlayer'" "ironlayer.repo_root = '$repos'" \
	"ironlayer.max_workers = $W" "max_worker_processes = $((W + 8))"
trap 'cluster_stop; rm -rf "$repos"' EXIT
cluster_psql -c "CREATE EXTENSION ironlayer" -c "CREATE ROLE bench_runner" >/dev/null
plans=()
for t in big mid small; do
	cluster_psql -tA -c "SELECT ironlayer.create_tenant('$t')" -c "SELECT ironlayer.use_tenant('$t')" \
		-c "SELECT ironlayer.set_environment('dev', '{\"run_as\": \"bench_runner\"}')" \
		-c "SELECT ironlayer.add_repo('$t', '$t')" >/dev/null
	plans+=("$(cluster_psql -tA -c "SELECT FROM ironlayer.use_tenant('$t')" \
		-c "SELECT ironlayer.plan('$t', 'HEAD~1', 'HEAD', '2026-01-15')->>'plan_id'")")
done
for _ in $(seq 100); do
	[ "$(cluster_psql -tA -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'ironlayer worker'")" = "$W" ] && break
	sleep 0.1
done

apply() {		# apply TENANT PLAN: the run id
	cluster_psql -tA -c "SELECT FROM ironlayer.use_tenant('$1')" -c "SELECT ironlayer.apply('$2', 'dev')"
}
big=$(apply big "${plans[0]}")
sleep 0.5
mid=$(apply mid "${plans[1]}")
sleep 0.5
small=$(apply small "${plans[2]}")
for tr in "big $big" "mid $mid" "small $small"; do
	set -- $tr
	cluster_psql -tA -c "SELECT FROM ironlayer.use_tenant('$1')" -c "SELECT ironlayer.wait($2, '600 s')" >/dev/null
done

echo "fairness: tenants big ($BIG steps), mid (20, applied 0.5 s later) and small (1, 1 s later); steps of $MS ms; $W workers; $(nproc) cores"
cluster_psql -tA -F ' ' -c "
	SELECT t.name, count(*),
	       round(extract(epoch FROM min(s.started_at) - r.created_at) * 1000),
	       round(extract(epoch FROM max(s.finished_at) - r.created_at) * 1000)
	  FROM ironlayer.runs r JOIN ironlayer.run_steps s USING (tenant_id, run_id)
	  JOIN ironlayer.tenants t USING (tenant_id)
	 GROUP BY t.name, r.created_at ORDER BY r.created_at" |
	awk '{ printf "  %-5s %4d steps: first claim %5d ms after apply, run done %6d ms after apply\n", $1, $2, $3, $4 }'
# while big and mid were both active: the steps each started
cluster_psql -tA -F ' ' -c "
	WITH w AS (SELECT (SELECT created_at FROM ironlayer.runs WHERE run_id = $mid) AS a,
					  least((SELECT max(finished_at) FROM ironlayer.run_steps WHERE run_id = $mid),
							(SELECT max(finished_at) FROM ironlayer.run_steps WHERE run_id = $big)) AS b),
	     n AS (SELECT count(*) FILTER (WHERE s.run_id = $big) AS big,
					  count(*) FILTER (WHERE s.run_id = $mid) AS mid
			 FROM ironlayer.run_steps s, w WHERE s.started_at >= w.a AND s.started_at < w.b)
	SELECT big, mid FROM n" |
	awk '{ t = $1 + $2; if (t == 0) { print "  no overlap"; exit }
		   sb = $1 / (t / 2); sm = $2 / (t / 2)
		   j = (sb + sm) ^ 2 / (2 * (sb * sb + sm * sm))
		   printf "  while big and mid were both active: big started %d steps, mid %d (shares %.2f and %.2f; Jain index %.3f)\n", $1, $2, sb, sm, j }'
