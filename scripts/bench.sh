#!/usr/bin/env bash
# `make bench`: build and run every benchmark program; each prints its own
# figures. Core benchmarks are test/bench/bench_*.c; database benchmarks are
# test/bench/*.sh (they start their own throwaway cluster).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(uname -m)"
make -s bench-build
for b in test/bench/run_*; do
	[ -x "$b" ] || continue
	echo "== ${b#test/bench/run_}"
	"$b"
done
for s in test/bench/*.sh; do
	[ -f "$s" ] || continue
	echo "== $(basename "$s" .sh)"
	bash "$s"
done
