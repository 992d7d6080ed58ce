#!/usr/bin/env bash
# The one test command (`make test`).
#
# On a fresh machine, run as root, it installs what is missing (make deps),
# builds, installs, and runs every suite: the layer checks, C unit tests of
# the core, the fuzzers, then the PGXS suites through their make targets
# (installcheck-regress: test/sql + test/expected; installcheck-isolation:
# test/isolation; prove_installcheck: test/t), one at a time, in a copy of
# the tests owned by an unprivileged user (PostgreSQL refuses root), each in
# throwaway servers. It exits non-zero on any failure and ends with the line
# "N passed, N failed" over all suites.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

PASSED=0
FAILED=0
SUMMARY=()

note() { printf '\n== %s\n' "$*"; }

record() {						# suite passed failed
	PASSED=$((PASSED + $2))
	FAILED=$((FAILED + $3))
	SUMMARY+=("$(printf '%-12s %4d passed, %d failed' "$1" "$2" "$3")")
}

finish() {
	note "summary"
	for line in "${SUMMARY[@]}"; do echo "  $line"; done
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
	exit $?
}

abort() {						# a step before the suites failed
	echo "test: $*" >&2
	record setup 0 1
	finish
}

# ---------------------------------------------------------------- setup
note "dependencies"
if [ "$(id -u)" -eq 0 ]; then
	bash scripts/deps.sh || abort "make deps failed"
else
	bash scripts/deps.sh || abort "missing packages: run 'make deps' as root first"
fi

PG_CONFIG=${PG_CONFIG:-pg_config}
PGBIN=$($PG_CONFIG --bindir)
EXTVERSION=$(make -s --no-print-directory print-version)
# Where `make install` puts the command (on the PATH of a new shell).
IRONLAYER_CLI=$(make -s --no-print-directory print-cli-bindir)/ironlayer

note "build and install (ironlayer $EXTVERSION)"
JOBS=$(nproc 2>/dev/null || echo 2)
make -s -j"$JOBS" all unit test/bench/run_repo >/dev/null || abort "build failed"
# The Databricks emulator's virtual environment (pip, once per requirements.txt).
make -s emulator-venv >/dev/null || abort "make emulator-venv failed (test/emulator/requirements.txt)"
if [ "$(id -u)" -eq 0 ]; then
	make -s install >/dev/null || abort "make install failed"
elif [ -w "$($PG_CONFIG --pkglibdir)" ]; then
	make -s install >/dev/null || abort "make install failed"
else
	sudo -n make -s install >/dev/null || abort "make install needs root: run 'sudo make install' first"
fi

# Servers run as an unprivileged user in a work tree that user owns.
if [ "$(id -u)" -eq 0 ]; then
	RUNUSER=${IRONLAYER_TEST_USER:-postgres}
	id "$RUNUSER" >/dev/null 2>&1 || useradd --system --no-create-home "$RUNUSER" || abort "cannot create user $RUNUSER"
	as_user() { runuser -u "$RUNUSER" -- env PATH="$PGBIN:$PATH" "$@"; }
else
	RUNUSER=$(id -un)
	as_user() { env PATH="$PGBIN:$PATH" "$@"; }
fi

# The PGXS suites run in a copy of what they read (the Makefile, the tests,
# the docs a TAP test checks, the example and the demo script one runs), owned by the servers'
# user. Each make target writes its settings, vault master key and fixture
# repositories under test/tmp/ of the copy first (installcheck-prep).
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ironlayer-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cp -r Makefile README.md test docs examples scripts "$WORK"/
chmod 755 "$WORK"
[ "$(id -u)" -eq 0 ] && chown -R "$RUNUSER" "$WORK"
KEEP=$ROOT/.test				# outputs of failed suites, for reading
rm -rf "$KEEP"

keep() {						# keep NAME PATHS...: copy outputs aside
	local name=$1; shift
	mkdir -p "$KEEP/$name"
	cp -r "$@" "$KEEP/$name/" 2>/dev/null || true
}

suite() {						# suite TARGET [VAR=VALUE...]: run a make target in the copy
	as_user make -C "$WORK" -s --no-print-directory "$@" PG_CONFIG="$PG_CONFIG" \
		CLI_BINDIR="$(dirname "$IRONLAYER_CLI")" 2>&1
}

# ---------------------------------------------------------------- layers
note "layer checks"
p=0 f=0
# The core is pure C: no PostgreSQL header anywhere in src/core.
if grep -nE '#\s*include\s*[<"](postgres|postgres_fe|fmgr|c)\.h[>"]|#\s*include\s*[<"](utils|catalog|access|executor|nodes|storage|utils)/' src/core/*.[ch]; then
	echo "not ok - src/core includes PostgreSQL headers"; f=$((f + 1))
else
	echo "ok - src/core includes no PostgreSQL header"; p=$((p + 1))
fi
# One version: Makefile, control file, META.json, library, command.
meta=$(sed -n '/"meta-spec"/,$!s/^ *"version" *: *"\([^"]*\)".*/\1/p' META.json | sort -u)
cli=$("$IRONLAYER_CLI" --version 2>/dev/null | awk '{print $2}')
ctl=$(sed -n "s/^default_version = '\(.*\)'/\1/p" ironlayer.control)
if [ "$meta" = "$EXTVERSION" ] && [ "$cli" = "$EXTVERSION" ] && [ "$ctl" = "$EXTVERSION" ]; then
	echo "ok - one version $EXTVERSION in Makefile, META.json, control file and command"; p=$((p + 1))
else
	echo "not ok - versions differ: Makefile $EXTVERSION, META.json '$meta', control '$ctl', command '$cli'"; f=$((f + 1))
fi
# The command is on the PATH of a new login shell (of root and of others).
found=$(env -i HOME=/ TERM=dumb bash -lc 'command -v ironlayer' 2>/dev/null)
if [ "$found" = "$IRONLAYER_CLI" ]; then
	echo "ok - a new shell finds the ironlayer command ($found)"; p=$((p + 1))
else
	echo "not ok - a new shell finds '${found:-no ironlayer command}', not $IRONLAYER_CLI"; f=$((f + 1))
fi
# What META.json says is provided and documented exists.
missing=
for file in $(sed -n 's/^ *"\(file\|docfile\)" *: *"\([^"]*\)".*/\2/p' META.json) LICENSE; do
	[ -f "$file" ] || missing="$missing $file"
done
if [ -z "$missing" ]; then
	echo "ok - META.json's files and LICENSE exist"; p=$((p + 1))
else
	echo "not ok - missing:$missing"; f=$((f + 1))
fi
# Every release ships its upgrade script: from the previous version a
# shipped script names (ironlayer--V.sql, ironlayer--A--V.sql) to this one.
prev=$({ ls ironlayer--*.sql | grep -oE '[0-9]+\.[0-9]+\.[0-9]+'; echo "$EXTVERSION"; } | sort -uV |
	grep -B1 -Fx "$EXTVERSION" | grep -vFx "$EXTVERSION")
if [ -z "$prev" ]; then
	echo "not ok - no shipped script of a version before $EXTVERSION (ironlayer--0.1.0.sql is the first)"; f=$((f + 1))
elif [ -f "ironlayer--$prev--$EXTVERSION.sql" ]; then
	echo "ok - $EXTVERSION ships its upgrade script ironlayer--$prev--$EXTVERSION.sql"; p=$((p + 1))
else
	echo "not ok - $EXTVERSION ships no upgrade script from $prev: write ironlayer--$prev--$EXTVERSION.sql"; f=$((f + 1))
fi
# The shipped scripts of earlier versions still install and update with
# this library: every C function they name is in it.
missing=
exported=$(nm -D --defined-only ironlayer.so | awk '{ print $3 }')
for sym in $(grep -ohE "'MODULE_PATHNAME', *'[A-Za-z0-9_]+'" $(ls ironlayer--*.sql | grep -vFx "ironlayer--$EXTVERSION.sql") |
		sed -E "s/.*, *'([^']+)'/\1/" | sort -u); do
	grep -qFx "$sym" <<<"$exported" || missing="$missing $sym"
done
if [ -z "$missing" ]; then
	echo "ok - the library exports every C function the shipped scripts of earlier versions name"; p=$((p + 1))
else
	echo "not ok - ironlayer.so lacks C functions that shipped scripts name (keep them, a stub is enough):$missing"; f=$((f + 1))
fi
record layers $p $f

# ---------------------------------------------------------------- unit
note "C unit tests (core)"
# The official test vectors live in ../shared/vectors beside the checkout;
# a clone elsewhere finds them beside the repository it was cloned from.
VECTORS=
for cand in "$ROOT/../shared" "$(git -C "$ROOT" config --get remote.origin.url 2>/dev/null)/../shared"; do
	if [ -d "$cand/vectors" ]; then VECTORS=$(cd "$cand/vectors" && pwd); break; fi
done
[ -n "$VECTORS" ] || echo "test: no shared/vectors found: the vector tests will fail"
p=0 f=0
for t in test/unit/run_*; do
	[ -x "$t" ] || continue
	out=$("$t" ${VECTORS:+"$VECTORS"} 2>&1); rc=$?
	echo "$out"
	tp=$(grep -c '^ok ' <<<"$out")
	tf=$(grep -c '^not ok ' <<<"$out")
	if [ $rc -ne 0 ] && [ "$tf" -eq 0 ]; then tf=1; echo "not ok - $t exited with $rc"; fi
	p=$((p + tp)); f=$((f + tf))
done
record unit $p $f

# ---------------------------------------------------------------- fuzz
if ls test/fuzz/fuzz_*.c >/dev/null 2>&1; then
	note "fuzzing (bounded: ${IRONLAYER_FUZZ_SECONDS:-10} s per harness, from the seed corpus)"
	out=$(make -s --no-print-directory fuzz FUZZ_SECONDS="${IRONLAYER_FUZZ_SECONDS:-10}" 2>&1)
	rc=$?
	echo "$out"
	p=$(grep -cE '^fuzz .*, ok$' <<<"$out")
	f=$(grep -cE '^fuzz .*FAILED' <<<"$out")
	[ $rc -ne 0 ] && [ "$f" -eq 0 ] && f=1
	record fuzz "$p" "$f"
fi

# ---------------------------------------------------------------- emulator
note "Databricks emulator against the official databricks-sdk (test/emulator: make emulator-test)"
out=$(make -s --no-print-directory emulator-test 2>&1)
rc=$?
echo "$out"
p=$(grep -cE ' \.\.\. ok$' <<<"$out")
f=$(grep -cE ' \.\.\. (FAIL|ERROR)$' <<<"$out")
[ $rc -ne 0 ] && [ "$f" -eq 0 ] && f=1
record emulator "$p" "$f"

# ---------------------------------------------------------------- regress
note "pg_regress (test/sql, test/expected: make installcheck-regress)"
out=$(suite installcheck-regress)
rc=$?
echo "$out"
p=$(grep -cE '\.\.\. ok|^ok [0-9]+' <<<"$out")
f=$(grep -cE '\.\.\. FAILED|\.\.\. failed|^not ok [0-9]+' <<<"$out")
if [ $rc -ne 0 ]; then
	[ "$f" -eq 0 ] && f=1
	[ -f "$WORK/regression.diffs" ] && cat "$WORK/regression.diffs"
	keep regress_out "$WORK/results" "$WORK/regression.diffs" "$WORK/regression.out" "$WORK/tmp_check/log"
fi
record regress "$p" "$f"

# ---------------------------------------------------------------- isolation
note "isolation specs (test/isolation: make installcheck-isolation)"
out=$(suite installcheck-isolation)
rc=$?
echo "$out"
p=$(grep -cE '\.\.\. ok|^ok [0-9]+' <<<"$out")
f=$(grep -cE '\.\.\. FAILED|\.\.\. failed|^not ok [0-9]+' <<<"$out")
if [ $rc -ne 0 ]; then
	[ "$f" -eq 0 ] && f=1
	[ -f "$WORK/output_iso/regression.diffs" ] && cat "$WORK/output_iso/regression.diffs"
	keep isolation_out "$WORK/output_iso/." "$WORK/tmp_check_iso/log"
fi
record isolation "$p" "$f"

# ---------------------------------------------------------------- TAP
note "TAP tests (test/t: make prove_installcheck)"
out=$(suite prove_installcheck PROVE_FLAGS=-v)
rc=$?
echo "$out"
p=$(grep -cE '^ *ok [0-9]+' <<<"$out")
f=$(grep -cE '^ *not ok [0-9]+' <<<"$out")
if [ $rc -ne 0 ]; then
	[ "$f" -eq 0 ] && f=1
	keep tmp_check "$WORK/test/tmp_check/."
fi
record tap "$p" "$f"

finish
