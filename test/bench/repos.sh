#!/usr/bin/env bash
# Benchmark of git-native discovery through SQL (issue 5): for repositories
# of 1,000, 10,000 and 50,000 generated models (test/bench/run_repo
# --generate; two commits, the second changes one leaf model):
#   models() cold    nothing cached anywhere (empty ironlayer.parse_cache,
#                    server restarted, new session)
#   models() warm    a new session, the shared caches filled
#   models() again   the same session (its process-local cache too)
#   diff() warm      one changed model, a new session, shared cache filled
#   peak memory      VmHWM and RssAnon of the backend after all of the above
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/scripts/cluster.sh"
SIZES=${BENCH_REPO_SIZES:-1000 10000 50000}

make -s -C "$ROOT" test/bench/run_repo >/dev/null
repos=$(mktemp -d "${TMPDIR:-/tmp}/ironlayer-repos.XXXXXX")
chmod 755 "$repos"
for n in $SIZES; do
	"$ROOT/test/bench/run_repo" --generate "$repos/r$n" "$n" --change leaf >/dev/null
done
[ "$(id -u)" -eq 0 ] && chown -R "$CLUSTER_USER" "$repos"
cluster_start "shared_preload_libraries = 'ironlayer'" "ironlayer.repo_root = '$repos'"
trap 'cluster_stop; rm -rf "$repos"' EXIT
cluster_psql -c "CREATE EXTENSION ironlayer" -c "SELECT ironlayer.create_tenant('bench')" >/dev/null

ms() {		# the last psql \timing figure of stdin, in ms
	sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1
}
bound="SELECT FROM ironlayer.use_tenant('bench')"
echo "git-native discovery through SQL, $(nproc) cores:"
for n in $SIZES; do
	cluster_psql -c "$bound" -c "SELECT ironlayer.add_repo('r$n', 'r$n')" >/dev/null
	cluster_psql -c "TRUNCATE ironlayer.parse_cache" >/dev/null
	cluster_restart		# and shared memory
	cold=$(cluster_psql -c "$bound" -c '\timing on' -c "SELECT count(*) FROM ironlayer.models('r$n', 'HEAD')" | ms)
	out=$(cluster_psql -tA -c "$bound" -c '\timing on' \
		-c "SELECT count(*) FROM ironlayer.models('r$n', 'HEAD')" \
		-c "SELECT count(*) FROM ironlayer.models('r$n', 'HEAD')" \
		-c "SELECT pg_backend_pid()")
	warm=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out" | sed -n 1p)
	again=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out" | sed -n 2p)
	out=$(cluster_psql -tA -c "$bound" -c '\timing on' \
		-c "SELECT count(*) FROM ironlayer.diff('r$n', 'HEAD~1', 'HEAD')" \
		-c "SELECT count(*) FROM ironlayer.diff('r$n', 'HEAD~1', 'HEAD')" \
		-c "SELECT pg_backend_pid()")
	diffw=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out" | sed -n 1p)
	diffa=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out" | sed -n 2p)
	# peak memory of one backend doing it all, read before it exits
	mem=$(cluster_psql -tA -c "$bound" \
		-c "SELECT count(*) FROM ironlayer.models('r$n', 'HEAD')" \
		-c "SELECT count(*) FROM ironlayer.diff('r$n', 'HEAD~1', 'HEAD')" \
		-c "SELECT pg_catalog.pg_read_file('/proc/' || pg_backend_pid() || '/status')" \
		| awk '/^VmHWM|^RssAnon/ {printf "%s %.0f MB  ", $1, $2 / 1024}')
	printf '  %6d models: cold %7.0f ms, warm %6.0f ms, again %6.0f ms; diff of one change: warm %5.0f ms, again %5.0f ms; %s\n' \
		"$n" "$cold" "$warm" "$again" "$diffw" "$diffa" "$mem"
done
