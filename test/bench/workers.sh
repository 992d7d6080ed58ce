#!/usr/bin/env bash
# Benchmark of the background workers (docs/runs.md, "Background workers"):
# a repository whose first commit has no model and whose second adds
# BENCH_WORKERS_MODELS (10,000) trivial models (SELECT 1 AS x) in three
# parallel groups (every 100th model is a root, every 10th reads its root,
# the rest read their tenth), planned from the first commit to the second,
# applied in dev and run by BENCH_WORKERS_N (2) workers. Prints the time
# from apply to the end of the run (ironlayer.wait(), at most
# BENCH_WORKERS_TIMEOUT seconds, 900), the time per step, and where it
# goes: the mean time per call of claim_step, _execute_step and
# complete_step (pg_stat_user_functions), and the median of finished_at -
# started_at of the steps (both are transaction start times, the claim's
# and the executing transaction's: the hand-off from claim to execution,
# not the model's run time). No assertion on time; the target is at most
# 60 s for 10,000 steps with 2 workers.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/scripts/cluster.sh"
N=${BENCH_WORKERS_MODELS:-10000}
W=${BENCH_WORKERS_N:-2}
TIMEOUT=${BENCH_WORKERS_TIMEOUT:-900}

repos=$(mktemp -d "${TMPDIR:-/tmp}/ironlayer-workers.XXXXXX")
chmod 755 "$repos"
repo=$repos/trivial
mkdir -p "$repo/models/b"
g() { git -C "$repo" -c user.name=bench -c user.email=bench@example.invalid -c init.defaultBranch=main \
	-c commit.gpgsign=false "$@"; }
g init -q
echo "benchmark models" >"$repo/models/README.md"
g add -A
g commit -q -m "no models yet"
awk -v n="$N" -v dir="$repo/models/b" 'BEGIN {
	for (i = 0; i < n; i++) {
		f = sprintf("%s/m%05d.sql", dir, i)
		printf "-- name: b.m%05d\n-- kind: FULL_REFRESH\n", i > f
		if (i % 100 == 0)
			print "SELECT 1 AS x" > f
		else if (i % 10 == 0)
			printf "SELECT 1 AS x FROM b.m%05d\n", i - i % 100 > f
		else
			printf "SELECT 1 AS x FROM b.m%05d\n", i - i % 10 > f
		close(f)
	}
}'
g add -A
g commit -q -m "$N models"
[ "$(id -u)" -eq 0 ] && chown -R "$CLUSTER_USER" "$repos"

cluster_start "shared_preload_libraries = 'ironlayer'" "ironlayer.repo_root = '$repos'" \
	"ironlayer.max_workers = $W" "max_worker_processes = $((W + 8))" "track_functions = 'all'"
trap 'cluster_stop; rm -rf "$repos"' EXIT
cluster_psql -c "CREATE EXTENSION ironlayer" -c "CREATE ROLE bench_runner" \
	-c "SELECT ironlayer.create_tenant('bench')" -c "SELECT ironlayer.use_tenant('bench')" \
	-c "SELECT ironlayer.set_environment('dev', '{\"run_as\": \"bench_runner\"}')" \
	-c "SELECT ironlayer.add_repo('trivial', 'trivial')" >/dev/null
# the launcher notices the extension within seconds
for _ in $(seq 100); do
	[ "$(cluster_psql -tA -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'ironlayer worker'")" = "$W" ] && break
	sleep 0.1
done

now() { date +%s.%N; }
bound="SELECT FROM ironlayer.use_tenant('bench')"
t0=$(now)
plan=$(cluster_psql -tA -c "$bound" -c "SELECT ironlayer.plan('trivial', 'HEAD~1', 'HEAD', '2026-01-15')->>'plan_id'")
t1=$(now)
run=$(cluster_psql -tA -c "$bound" -c "SELECT ironlayer.apply('$plan', 'dev')")
cluster_psql -tA -c "$bound" -c "SELECT ironlayer.wait($run, '$TIMEOUT s')" >/dev/null 2>&1 || true
t2=$(now)
left=$(cluster_psql -tA -c "SELECT count(*) FROM ironlayer.run_steps WHERE run_id = $run AND state IN ('pending', 'running')")
state=$(cluster_psql -tA -c "SELECT state FROM ironlayer.runs WHERE run_id = $run")
sleep 0.5	# idle workers send their last statistics

echo "background workers: $N trivial models, $W workers, $(nproc) cores"
cluster_psql -tA -F ' ' -c "$bound" -c "
	SELECT count(*), count(DISTINCT parallel_group), count(*) FILTER (WHERE state = 'succeeded'), sum(attempts)
	  FROM ironlayer.run_steps WHERE run_id = $run" |
	awk -v s="$state" '{ printf "  run %s: %d steps in %d parallel groups, %d succeeded, %d attempts\n", s, $1, $2, $3, $4 }'
[ "$left" != 0 ] && echo "  $left steps still unfinished after $TIMEOUT s: the figures below cover the steps done by then"
done=$((N - left))
awk -v p="$t0" -v a="$t1" -v e="$t2" -v n="$done" -v w="$W" 'BEGIN {
	printf "  plan %.1f s; apply to the end of the run %.1f s (target: at most 60 s)\n", a - p, e - a
	if (n > 0) printf "  %.0f steps/s; %.2f ms per step per worker\n", n / (e - a), (e - a) * 1000 * w / n
}'
cluster_psql -tA -F ' ' -c "
	SELECT funcname, calls, total_time / greatest(calls, 1), self_time / greatest(calls, 1)
	  FROM pg_stat_user_functions
	 WHERE schemaname = 'ironlayer' AND funcname IN ('claim_step', '_execute_step', 'complete_step')
	 ORDER BY funcname" |
	awk '{ printf "  %-14s %6d calls, %7.2f ms per call (%.2f ms in itself)\n", $1, $2, $3, $4 }'
cluster_psql -tA -c "$bound" -c "
	SELECT round(extract(epoch FROM percentile_cont(0.5) WITHIN GROUP (ORDER BY finished_at - started_at)) * 1000, 2)
	  FROM ironlayer.run_steps WHERE run_id = $run" |
	awk '{ printf "  median claim-to-execution hand-off (finished_at - started_at): %s ms\n", $1 }'
