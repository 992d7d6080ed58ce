#!/usr/bin/env bash
# Benchmark of ironlayer.plan() (issue 6): for repositories of 1,000, 10,000
# and 50,000 generated models (test/bench/run_repo --generate), one whose
# second commit changes one leaf model and one whose second commit changes
# one root model (so everything downstream is affected), plan HEAD~1..HEAD:
#   cold     nothing cached (empty ironlayer.parse_cache, server restarted)
#   warm     a new session, the shared caches filled
#   again    the same session once more (the median of five times)
# then the backend's peak memory (VmHWM) after planning both.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/scripts/cluster.sh"
SIZES=${BENCH_PLAN_SIZES:-1000 10000 50000}

make -s -C "$ROOT" test/bench/run_repo >/dev/null
repos=$(mktemp -d "${TMPDIR:-/tmp}/ironlayer-plans.XXXXXX")
chmod 755 "$repos"
for n in $SIZES; do
	for c in leaf root; do
		"$ROOT/test/bench/run_repo" --generate "$repos/$c$n" "$n" --change "$c" >/dev/null
	done
done
[ "$(id -u)" -eq 0 ] && chown -R "$CLUSTER_USER" "$repos"
cluster_start "shared_preload_libraries = 'ironlayer'" "ironlayer.repo_root = '$repos'"
trap 'cluster_stop; rm -rf "$repos"' EXIT
cluster_psql -c "CREATE EXTENSION ironlayer" -c "SELECT ironlayer.create_tenant('bench')" >/dev/null

times() {	# the psql \timing figures of stdin, in ms, one per line
	sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'
}
bound="SELECT FROM ironlayer.use_tenant('bench')"
echo "ironlayer.plan() through SQL, $(nproc) cores (ms; steps in the plan):"
for n in $SIZES; do
	for c in leaf root; do
		r=$c$n
		# IS NOT NULL: the plan is made and stored, not sent or copied again (a plan of 40,001 steps is 23 MB)
		q="SELECT ironlayer.plan('$r', 'HEAD~1', 'HEAD', '2026-01-15') IS NOT NULL"
		cluster_psql -c "$bound" -c "SELECT ironlayer.add_repo('$r', '$r')" >/dev/null
		cluster_psql -c "TRUNCATE ironlayer.parse_cache" >/dev/null
		cluster_restart
		cold=$(cluster_psql -c "$bound" -c '\timing on' -c "$q" | times | tail -1)
		out=$(cluster_psql -tA -c "$bound" -c '\timing on' -c "$q" -c "$q" -c "$q" -c "$q" -c "$q" -c "$q" \
			-c "SELECT pg_catalog.pg_read_file('/proc/' || pg_backend_pid() || '/status')")
		warm=$(times <<<"$out" | sed -n 1p)
		again=$(times <<<"$out" | sed -n 2,6p | sort -n | sed -n 3p)	# the median of five
		steps=$(cluster_psql -tA -c "SELECT count(*) FROM ironlayer.plan_steps s JOIN ironlayer.plans p USING (tenant_id, plan_id) WHERE p.repository = '$r'")
		mem=$(awk '/^VmHWM/ {printf "%.0f MB", $2 / 1024}' <<<"$out")
		printf '  %6d models, one %-4s changed (%5s steps): cold %7.0f, warm %6.0f, again %6.0f; peak %s\n' \
			"$n" "$c" "$steps" "$cold" "$warm" "$again" "$mem"
	done
done
