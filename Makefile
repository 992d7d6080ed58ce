# ironlayer: PostgreSQL extension (PGXS) plus the `ironlayer` command.
#
# The one version number of the product lives here. It feeds the control file,
# the install script's name, ironlayer.version() and `ironlayer --version`
# (META.json repeats it; `make test` checks they agree). A release ships the
# upgrade script from the previous one, ironlayer--<previous>--<EXTVERSION>.sql
# (docs/testing.md, "Upgrades").
EXTENSION  = ironlayer
EXTVERSION = 0.5.0

PG_CONFIG ?= pg_config

CORE_SRCS = $(sort $(wildcard src/core/*.c))
PG_SRCS   = $(sort $(wildcard src/pg/*.c))
CLI_SRCS  = $(sort $(wildcard src/cli/*.c))
CORE_OBJS = $(CORE_SRCS:.c=.o)
CLI_OBJS  = $(CLI_SRCS:.c=.o)
CLI       = src/cli/ironlayer

# The install script is generated from the ordered parts under src/sql/.
SQL_PARTS = $(sort $(wildcard src/sql/*.sql))

MODULE_big = ironlayer
OBJS       = $(CORE_OBJS) $(PG_SRCS:.c=.o)
# The current version's install script is built; the scripts shipped with it
# are the first version's, frozen as released (0.1.0), and the upgrade chain.
DATA_built = $(EXTENSION)--$(EXTVERSION).sql
DATA       = $(filter-out $(DATA_built), $(wildcard $(EXTENSION)--*.sql))
DOCS       =

PG_CPPFLAGS = -Isrc/core -I$(shell $(PG_CONFIG) --includedir) -DIRONLAYER_VERSION=\"$(EXTVERSION)\"
PG_CFLAGS   = -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
              -Wno-sign-compare -Wno-missing-field-initializers
# Libraries of the core (Debian packages; see scripts/deps.sh).
CORE_LIBS   = -lgit2 -lcrypto -lcurl
SHLIB_LINK  = $(CORE_LIBS)
CLI_LIBS    = $(CORE_LIBS) -lpq

# Tests the PGXS way (docs/testing.md): `make installcheck` runs pg_regress
# (test/sql, test/expected), the isolation specs (test/isolation) and the TAP
# tests (test/t) against the installed files. pg_regress and the isolation
# tester start a throwaway server of their own (as pg_cron's installcheck
# does): the library must be preloaded, and the tests need a vault master key
# and the fixture repositories, which installcheck-prep writes under test/tmp/
# with the server's settings (test/regress.conf plus those two paths).
TESTS          = $(sort $(wildcard test/sql/*.sql))
REGRESS        = $(patsubst test/sql/%.sql,%,$(TESTS))
TEST_TMP       = test/tmp
TEST_CONF      = $(TEST_TMP)/regress.conf
REGRESS_PREP   = installcheck-prep
REGRESS_OPTS   = --inputdir=test --temp-instance=./tmp_check --temp-config=$(TEST_CONF) \
                 --load-extension=$(EXTENSION)
ISOLATION      = $(patsubst test/isolation/specs/%.spec,%,$(sort $(wildcard test/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test/isolation --temp-instance=./tmp_check_iso --temp-config=$(TEST_CONF) \
                 --load-extension=$(EXTENSION)
TAP_TESTS      = 1

EXTRA_CLEAN = $(EXTENSION).control $(CLI) $(CLI_OBJS) $(GEN_HEADERS) test/unit/*.o test/unit/run_* \
              test/fuzz/run_* test/bench/run_* $(TEST_TMP) test/tmp_check

# On a fresh machine PGXS may be missing until `make deps` has run: the
# targets that only call scripts (deps, test, demo, stop) work without it.
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
else
all install installcheck installcheck-regress installcheck-isolation prove_installcheck unit:
	@echo "PostgreSQL's PGXS is missing (no postgresql-server-dev-15): run 'make deps' first" >&2; exit 1
endif

all: $(EXTENSION).control $(CLI)

$(EXTENSION).control: $(EXTENSION).control.in Makefile
	sed 's/@EXTVERSION@/$(EXTVERSION)/g' $< > $@

# The list of parts is a prerequisite too, so removing or renaming one rebuilds
# the script (a file's time stamp alone would not show that).
SQL_LIST = src/sql/.parts
$(SQL_LIST): FORCE
	@echo '$(SQL_PARTS)' | cmp -s - $@ || echo '$(SQL_PARTS)' > $@
FORCE:

$(DATA_built): $(SQL_PARTS) $(SQL_LIST) Makefile
	{ printf -- '-- ironlayer %s install script, generated from src/sql/ by make: do not edit.\n' '$(EXTVERSION)'; \
	  printf '\\echo Use "CREATE EXTENSION ironlayer" to load this file. \\quit\n'; \
	  for f in $(SQL_PARTS); do printf '\n-- %s\n' "$$f"; cat "$$f"; done; } > $@

# The error catalogue: the header of the core's error codes is generated from
# the list src/core/il_errcodes.txt (as PostgreSQL's errcodes.h is from
# errcodes.txt). il_buf.h includes it, so everything that compiles a source of
# ours depends on it: the objects below, the unit tests, fuzzers and benchmarks.
ERRCODES_H = src/core/il_errcodes.h
$(ERRCODES_H): src/core/il_errcodes.txt scripts/gen_errcodes.pl
	perl scripts/gen_errcodes.pl $< > $@.tmp && mv $@.tmp $@

# The lexer's keyword enum (il_keywords.h, included by il_lex.h) and look-up
# tables (il_keywords_tab.h, il_lex.c's) are generated from the keyword list
# src/core/il_keywords.txt, with the same dependents.
KEYWORDS_H = src/core/il_keywords.h src/core/il_keywords_tab.h
src/core/il_keywords.h: src/core/il_keywords.txt scripts/gen_keywords.pl
	perl scripts/gen_keywords.pl --enum $< > $@.tmp && mv $@.tmp $@
src/core/il_keywords_tab.h: src/core/il_keywords.txt scripts/gen_keywords.pl
	perl scripts/gen_keywords.pl --table $< > $@.tmp && mv $@.tmp $@

GEN_HEADERS = $(ERRCODES_H) $(KEYWORDS_H)

# Every object depends on every header of ours (coarse, but never stale).
# (Not PGXS's HEADERS, which names headers to install; the bitcode PGXS
# compiles beside the objects when PostgreSQL has LLVM too.)
CORE_HEADERS = $(sort $(wildcard src/core/*.h) $(GEN_HEADERS))
OUR_HEADERS = $(CORE_HEADERS) $(wildcard src/pg/*.h src/cli/*.h)
$(CORE_OBJS) $(PG_SRCS:.c=.o) $(CLI_OBJS) $(OBJS:.o=.bc): $(OUR_HEADERS)
# The version reaches the code as -DIRONLAYER_VERSION: a new one rebuilds it.
src/core/il_version.o src/core/il_version.bc: Makefile

# The command shares the core objects with the extension: same code, same bytes.
$(CLI): $(CLI_OBJS) $(CORE_OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(CLI_LIBS)

# The command goes where a new shell finds it (Debian does not put the
# server's bindir on PATH); PGXS's bindir is the server's, not ours.
CLI_BINDIR ?= /usr/local/bin

install: install-cli
install-cli: $(CLI)
	$(MKDIR_P) '$(DESTDIR)$(CLI_BINDIR)'
	$(INSTALL_PROGRAM) $(CLI) '$(DESTDIR)$(CLI_BINDIR)/ironlayer'

uninstall: uninstall-cli
uninstall-cli:
	rm -f '$(DESTDIR)$(CLI_BINDIR)/ironlayer'

# The server settings of the throwaway test servers, with a fresh vault master
# key (readable by the server's user only) and the fixture repositories
# (ironlayer.repo_root), made anew for each run: the tests write to both.
installcheck-prep:
	rm -rf $(TEST_TMP)
	mkdir -p $(TEST_TMP)
	(umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > $(TEST_TMP)/master.key)
	bash test/repos/fixtures.sh $(TEST_TMP)/repos > /dev/null
	{ cat test/regress.conf; \
	  printf "ironlayer.master_key_file = '%s'\n" '$(CURDIR)/$(TEST_TMP)/master.key'; \
	  printf "ironlayer.repo_root = '%s'\n" '$(CURDIR)/$(TEST_TMP)/repos'; } > $(TEST_CONF)

# One suite at a time (scripts/test.sh counts each); `make installcheck` runs
# the three in a row. Subsets: REGRESS='00_helpers runs', ISOLATION=claim_race,
# PROVE_TESTS=t/007_workers.pl.
ifneq ($(wildcard $(PGXS)),)
installcheck-regress: $(REGRESS_PREP)
	$(pg_regress_installcheck) $(REGRESS_OPTS) $(REGRESS)

installcheck-isolation: $(REGRESS_PREP)
	$(pg_isolation_regress_installcheck) $(ISOLATION_OPTS) $(ISOLATION)

# The TAP tests live in test/t and run from test/ (TESTDIR; their clusters
# under test/tmp_check), with the version, the server's programs and the
# installed command.
define prove_installcheck
rm -rf '$(CURDIR)'/test/tmp_check && \
cd test && \
   TESTDIR='$(CURDIR)/test' PATH="$(bindir):$$PATH" PGPORT='6$(DEF_PGPORT)' \
   PG_REGRESS='$(top_builddir)/src/test/regress/pg_regress' \
   IRONLAYER_VERSION='$(EXTVERSION)' PGBIN='$(bindir)' IRONLAYER_CLI='$(CLI_BINDIR)/ironlayer' \
   $(PROVE) $(PG_PROVE_FLAGS) -I t $(PROVE_FLAGS) $(if $(PROVE_TESTS),$(PROVE_TESTS),t/*.pl)
endef

prove_installcheck:
	$(prove_installcheck)
endif

# Programs that count the core's memory (test/bench/memcount.h) route every
# allocation of the objects they link through the counting allocator.
MEMCOUNT_LDFLAGS =
MEMCOUNT_WRAP = -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free
test/bench/run_memory test/unit/run_memory test/unit/run_dbx_api: MEMCOUNT_LDFLAGS = $(MEMCOUNT_WRAP)

# C unit tests of the core: each test/unit/test_*.c is linked with the core alone.
UNIT_SRCS = $(sort $(wildcard test/unit/test_*.c))
UNIT_BINS = $(patsubst test/unit/test_%.c,test/unit/run_%,$(UNIT_SRCS))

test/unit/run_%: test/unit/test_%.c test/unit/unit.h $(wildcard test/bench/*.h) $(CORE_HEADERS) $(CORE_OBJS)
	$(CC) $(CFLAGS) $(PG_CPPFLAGS) -Itest/unit -o $@ $< $(CORE_OBJS) $(LDFLAGS) $(CLI_LIBS) $(MEMCOUNT_LDFLAGS)

unit: $(UNIT_BINS)

# libFuzzer harnesses: test/fuzz/fuzz_<name>.c -> test/fuzz/run_<name>, built
# with clang and the address and undefined-behaviour sanitizers over the core
# sources. `make fuzz` runs each for FUZZ_SECONDS from its seed corpus
# test/fuzz/corpus/<name>/ (scripts/fuzz.sh). Every allocation goes through
# test/bench/memcount.h, so the harnesses check memory per input byte.
FUZZ_SRCS   = $(sort $(wildcard test/fuzz/fuzz_*.c))
FUZZ_BINS   = $(patsubst test/fuzz/fuzz_%.c,test/fuzz/run_%,$(FUZZ_SRCS))
FUZZ_CC     = clang
FUZZ_CFLAGS = -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
              -fno-sanitize-recover=undefined -Isrc/core -DIRONLAYER_VERSION=\"$(EXTVERSION)\"
FUZZ_SECONDS ?= 60

test/fuzz/run_%: test/fuzz/fuzz_%.c $(CORE_SRCS) $(CORE_HEADERS) test/bench/memcount.h
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Itest/bench -o $@ $< $(CORE_SRCS) $(CORE_LIBS) $(MEMCOUNT_WRAP)

fuzz-build: $(FUZZ_BINS)
fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz.sh

# The Databricks warehouse emulator's Python (test/emulator/README.md): a
# virtual environment of the system's python3 with the pinned packages of
# requirements.txt, rebuilt only when that file changes. The emulator's own
# tests (its fidelity against the official databricks-sdk) run with it.
EMULATOR_VENV = test/emulator/.venv
EMULATOR_PY   = $(EMULATOR_VENV)/bin/python

$(EMULATOR_VENV)/.requirements: test/emulator/requirements.txt
	rm -rf $(EMULATOR_VENV)
	/usr/bin/python3 -m venv $(EMULATOR_VENV)
	$(EMULATOR_PY) -m pip install -q --disable-pip-version-check -r test/emulator/requirements.txt
	cp test/emulator/requirements.txt $@

emulator-venv: $(EMULATOR_VENV)/.requirements

emulator-test: emulator-venv
	cd test/emulator && .venv/bin/python -m unittest -v test_sdk test_engine

# Benchmarks: programs that print figures (scripts/bench.sh).
BENCH_SRCS  = $(sort $(wildcard test/bench/bench_*.c))
BENCH_BINS  = $(patsubst test/bench/bench_%.c,test/bench/run_%,$(BENCH_SRCS))

test/bench/run_%: test/bench/bench_%.c $(wildcard test/bench/*.h) $(CORE_HEADERS) $(CORE_OBJS)
	$(CC) -O2 -g -std=gnu11 -Wall -Wextra -Werror -Isrc/core -Itest/bench \
		-DIRONLAYER_VERSION=\"$(EXTVERSION)\" -o $@ $< $(CORE_OBJS) $(CORE_LIBS) $(MEMCOUNT_LDFLAGS)

bench-build: $(BENCH_BINS)
bench:
	bash scripts/bench.sh

.PHONY: FORCE deps test demo stop unit install-cli uninstall-cli fuzz fuzz-build bench bench-build \
        emulator-venv emulator-test \
        installcheck-prep installcheck-regress installcheck-isolation prove_installcheck

deps:
	bash scripts/deps.sh

test:
	bash scripts/test.sh

demo:
	bash scripts/demo.sh start

stop:
	bash scripts/demo.sh stop

print-version:
	@echo $(EXTVERSION)

print-cli-bindir:
	@echo $(CLI_BINDIR)
