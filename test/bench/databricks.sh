#!/usr/bin/env bash
# Benchmark of the databricks executor (docs/databricks.md, "Dispatch,
# reconciliation, retries") against the emulator on loopback
# (test/emulator, its virtual environment made by `make test` or
# `make emulator-venv`):
#   1. BENCH_DBX_SLOW (1,000) steps with no dependencies whose model
#      statement runs BENCH_DBX_MS (200) ms on the warehouse, 64 in flight:
#      the time from apply to the end of the run against the ideal
#      steps / 64 * 200 ms (target: at most 1.5 x the ideal);
#   2. BENCH_DBX_FAST (10,000) trivial steps (target: at most 60 s).
# Each step is two statements (CREATE SCHEMA IF NOT EXISTS, then the
# model's; the first runs at once). A step reaches the dispatcher through
# a worker's claim and handover (render, intent rows), so the figures
# include BENCH_DBX_WORKERS (2) workers' share; they are printed apart:
# the first handover to the last one, and the dispatcher's CPU time per
# statement (utime + stime of its process, /proc/<pid>/stat). No
# assertion on time.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/scripts/cluster.sh"
SLOW=${BENCH_DBX_SLOW:-1000}
FAST=${BENCH_DBX_FAST:-10000}
MS=${BENCH_DBX_MS:-200}
W=${BENCH_DBX_WORKERS:-2}
TIMEOUT=${BENCH_DBX_TIMEOUT:-600}
PY=${IRONLAYER_EMULATOR_PYTHON:-$ROOT/test/emulator/.venv/bin/python}
CLI=${IRONLAYER_CLI:-$ROOT/src/cli/ironlayer}
if [ ! -x "$PY" ]; then
	echo "databricks: skipped, no emulator environment at $PY (make test or make emulator-venv makes it)"
	exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ironlayer-dbx.XXXXXX")
chmod 755 "$work"
emu_pid=
cleanup() { [ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null; cluster_stop; rm -rf "$work"; }
trap cleanup EXIT

# the emulator
"$PY" "$ROOT/test/emulator/emulator.py" --cert-dir "$work/tls" --ready-file "$work/ready.json" \
	--token dapi-bench-token --warehouse 0123456789abcdef >"$work/emulator.log" 2>&1 &
emu_pid=$!
for _ in $(seq 300); do [ -f "$work/ready.json" ] && break; sleep 0.1; done
port=$(sed 's/.*"port": \([0-9]*\).*/\1/' "$work/ready.json")
cport=$(sed 's/.*"control_port": \([0-9]*\).*/\1/' "$work/ready.json")
ctl() { curl -sf -X "$1" "http://127.0.0.1:$cport/_emulator/$2" ${3:+-H 'content-type: application/json' -d "$3"} >/dev/null; }
chmod -R a+rX "$work/tls"

# repositories: a first commit with no model, a second with N models of no dependency
mkrepo() {
	local repo=$work/repos/$1 n=$2
	mkdir -p "$repo/models/b"
	g() { git -C "$repo" -c user.name=bench -c user.email=bench@example.invalid -c init.defaultBranch=main \
		-c commit.gpgsign=false "$@"; }
	g init -q
	echo "benchmark models" >"$repo/models/README.md"
	g add -A
	g commit -q -m "no models yet"
	awk -v n="$n" -v dir="$repo/models/b" -v p="$1" 'BEGIN {
		for (i = 0; i < n; i++) {
			f = sprintf("%s/%s%05d.sql", dir, p, i)
			printf "-- name: b.%s%05d\n-- kind: FULL_REFRESH\nSELECT %d AS x\n", p, i, i > f
			close(f)
		}
	}'
	g add -A
	g commit -q -m "$n models"
}
mkrepo slow "$SLOW"
mkrepo fast "$FAST"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/master.key"
[ "$(id -u)" -eq 0 ] && chown -R "$CLUSTER_USER" "$work"
chmod 600 "$work/master.key"

cluster_start "shared_preload_libraries = 'ironlayer'" "ironlayer.repo_root = '$work/repos'" \
	"ironlayer.master_key_file = '$work/master.key'" \
	"ironlayer.max_workers = $W" "max_worker_processes = $((W + 8))" \
	"ironlayer.databricks_hosts = '127.0.0.1'" "ironlayer.databricks_ca_directory = '$work/tls'" \
	"synchronous_commit = on"
trap cleanup EXIT	# cluster_start set its own
cluster_psql -c "CREATE EXTENSION ironlayer" -c "CREATE ROLE bench_runner" \
	-c "SELECT ironlayer.create_tenant('bench')" >/dev/null
echo dapi-bench-token | cluster_as env PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER=postgres PGDATABASE=postgres \
	"$CLI" credential put dbx --tenant bench --kind databricks-pat >/dev/null
bound="SELECT FROM ironlayer.use_tenant('bench')"
settings="{\"run_as\": \"bench_runner\", \"executor\": \"databricks\", \"approvals_required\": 0, \"refuse_stale_plans\": false,
	\"databricks\": {\"workspace_url\": \"https://127.0.0.1:$port\", \"warehouse_id\": \"0123456789abcdef\",
	\"catalog\": \"bench\", \"credential\": \"dbx\", \"max_in_flight\": 64, \"ca_bundle\": \"cert.pem\"}}"
cluster_psql -c "$bound" -c "SELECT ironlayer.set_environment('dbx', '$settings')" >/dev/null
cluster_psql -c "$bound" -c "SELECT ironlayer.add_repo('slow', 'slow')" -c "SELECT ironlayer.add_repo('fast', 'fast')" >/dev/null
for _ in $(seq 100); do
	[ "$(cluster_psql -tA -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'ironlayer dispatcher'")" = 1 ] && break
	sleep 0.1
done
dpid=$(cluster_psql -tA -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'ironlayer dispatcher'")
ticks=$(getconf CLK_TCK)
cpu() { awk '{ print $14 + $15 }' "/proc/$dpid/stat"; }
now() { date +%s.%N; }

# one measured run of REPO; prints its figures
measure() {
	local repo=$1 n=$2 ideal=$3 plan run t0 t1 c0 c1
	plan=$(cluster_psql -tA -c "$bound" -c "SELECT ironlayer.plan('$repo', 'HEAD~1', 'HEAD', '2026-01-15', '{\"environment\": \"dbx\"}')->>'plan_id'")
	c0=$(cpu)
	t0=$(now)
	run=$(cluster_psql -tA -c "$bound" -c "SELECT ironlayer.apply('$plan', 'dbx')")
	cluster_psql -tA -c "$bound" -c "SELECT ironlayer.wait($run, '$TIMEOUT s')" >/dev/null 2>&1 || true
	t1=$(now)
	c1=$(cpu)
	cluster_psql -tA -F ' ' -c "$bound" -c "
		SELECT r.state,
			   (SELECT count(*) FROM ironlayer.run_steps s WHERE s.run_id = r.run_id),
			   (SELECT count(*) FROM ironlayer.run_steps s WHERE s.run_id = r.run_id AND s.state = 'succeeded'),
			   (SELECT extract(epoch FROM max(s.started_at) - min(s.started_at)) FROM ironlayer.run_steps s
				 WHERE s.run_id = r.run_id),
			   (SELECT count(*) FROM ironlayer.remote_statements x WHERE x.run_id = r.run_id),
			   (SELECT coalesce(sum(http_retries), 0) FROM ironlayer.remote_statements x WHERE x.run_id = r.run_id)
		  FROM ironlayer.runs r WHERE r.run_id = $run" |
		awk -v t0="$t0" -v t1="$t1" -v ideal="$ideal" -v c0="$c0" -v c1="$c1" -v hz="$ticks" '{
			total = t1 - t0
			printf "  run %s: %d steps, %d succeeded, %d statements, %d HTTP retries\n", $1, $2, $3, $5, $6
			printf "  apply to the end of the run: %.2f s", total
			if (ideal > 0) printf " (ideal %.2f s: %.2f x; target at most 1.5 x)", ideal, total / ideal
			printf "\n  first to last claim by a worker: %.2f s\n", $4
			printf "  dispatcher CPU: %.2f s, %.3f ms per statement\n", (c1 - c0) / hz, (c1 - c0) / hz * 1000 / $5
		}'
}

echo "databricks executor: emulator on loopback, $W workers, $(nproc) cores"
# the model statements of the slow run take MS ms; CREATE SCHEMA takes none
ctl POST rules "{\"match\": \"CREATE OR REPLACE TABLE\", \"action\": \"latency\", \"latency_ms\": $MS}"
echo "1. $SLOW steps of $MS ms, no dependencies, 64 in flight"
measure slow "$SLOW" "$(awk -v n="$SLOW" -v ms="$MS" 'BEGIN { printf "%.3f", n / 64 * ms / 1000 }')"
ctl DELETE rules
echo "2. $FAST trivial steps (target: at most 60 s)"
measure fast "$FAST" 0
