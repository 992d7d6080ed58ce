#!/usr/bin/env bash
# Run every libFuzzer harness (test/fuzz/run_<name>) for FUZZ_SECONDS each,
# starting from its seed corpus test/fuzz/corpus/<name>/ (never modified:
# new inputs go to a scratch copy). Prints, per harness, the executions done
# and whether it found anything; exits non-zero on a finding.
#
# Output: one line per harness "fuzz <name>: N executions in S s, ok|FAILED",
# then "N passed, N failed".
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
SECONDS_EACH=${FUZZ_SECONDS:-60}
JOBS=${FUZZ_JOBS:-1}
passed=0 failed=0
scratch=$(mktemp -d "${TMPDIR:-/tmp}/ironlayer-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
for bin in test/fuzz/run_*; do
	[ -x "$bin" ] || continue
	name=${bin#test/fuzz/run_}
	mkdir -p "$scratch/$name" "$scratch/$name.artifacts"
	[ -d "test/fuzz/corpus/$name" ] && cp -r "test/fuzz/corpus/$name/." "$scratch/$name/"
	dict=()
	[ -f "test/fuzz/$name.dict" ] && dict=(-dict="$ROOT/test/fuzz/$name.dict")
	log=$scratch/$name.log
	(cd "$scratch" && "$ROOT/$bin" -max_total_time="$SECONDS_EACH" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$scratch/$name.artifacts/" "${dict[@]}" \
		-jobs="$JOBS" -workers="$JOBS" "$scratch/$name") >"$log" 2>&1
	rc=$?
	execs=$(grep -h 'stat::number_of_executed_units' "$log" "$scratch"/fuzz-*.log 2>/dev/null \
		| awk '{s += $2} END {print s + 0}')
	if [ $rc -eq 0 ]; then
		echo "fuzz $name: $execs executions in ${SECONDS_EACH}s, ok"
		passed=$((passed + 1))
	else
		echo "fuzz $name: $execs executions, FAILED (exit $rc)"
		grep -E 'ERROR|SUMMARY|runtime error' "$log" | head -20
		mkdir -p "$ROOT/.test/fuzz"
		cp -r "$scratch/$name.artifacts" "$ROOT/.test/fuzz/" 2>/dev/null || true
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
