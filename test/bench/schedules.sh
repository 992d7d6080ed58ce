#!/usr/bin/env bash
# Benchmark of a schedule's tick (issue 15): the overhead from pg_cron's
# start of the job to the run being applied. A deploy schedule of one
# minute over a generated repository of N models (nothing deployed, so each
# tick plans and applies every model) ticks BENCH_TICKS times (3); after
# each tick the test cancels the run (no workers run it), so the next tick
# finds no active run. For each tick, from pg_cron's own record
# (cron.job_run_details) and ironlayer's (schedule_ticks):
#   launch    pg_cron's start of the job to the tick's first statement
#             (a background worker started, connected, the command parsed)
#   tick      the tick itself: checks, plan(), the gate, apply()
#   applied   pg_cron's start to the run applied (launch + tick)
#   end       pg_cron's start to pg_cron's end of the job (commit included)
# Ticks come once a minute (pg_cron 1.4's finest schedule): this takes
# about BENCH_TICKS + 1 minutes. Then what a tick's clean-up of pg_cron's
# log costs as that log grows (below).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/scripts/cluster.sh"
N=${BENCH_TICK_MODELS:-1000}
TICKS=${BENCH_TICKS:-3}

make -s -C "$ROOT" test/bench/run_repo >/dev/null
repos=$(mktemp -d "${TMPDIR:-/tmp}/ironlayer-ticks.XXXXXX")
chmod 755 "$repos"
"$ROOT/test/bench/run_repo" --generate "$repos/r" "$N" --change leaf >/dev/null
[ "$(id -u)" -eq 0 ] && chown -R "$CLUSTER_USER" "$repos"
cluster_start "shared_preload_libraries = 'ironlayer,pg_cron'" "cron.database_name = 'postgres'" \
	"cron.use_background_workers = on" "max_worker_processes = 16" \
	"ironlayer.repo_root = '$repos'" "ironlayer.max_workers = 0"
trap 'cluster_stop; rm -rf "$repos"' EXIT
cluster_psql -c "CREATE EXTENSION ironlayer" -c "CREATE EXTENSION pg_cron" -c "CREATE ROLE bench_run" \
	-c "SELECT ironlayer.create_tenant('bench')" -c "SELECT ironlayer.use_tenant('bench')" \
	-c "SELECT ironlayer.set_environment('dev', '{\"run_as\": \"bench_run\"}')" \
	-c "SELECT ironlayer.add_repo('r', 'r')" >/dev/null
bound="SELECT FROM ironlayer.use_tenant('bench')"
sid=$(cluster_psql -tA -c "$bound" -c "SELECT ironlayer.schedule('bench', '* * * * *',
	'{\"repository\": \"r\", \"environment\": \"dev\", \"action\": \"deploy\", \"branch\": \"HEAD\"}')")

echo "a deploy tick of pg_cron over $N models (nothing deployed: every model added), $(nproc) cores (ms):"
seen=0
for i in $(seq 1 "$TICKS"); do
	# the next tick, its run cancelled for the next one
	while :; do
		row=$(cluster_psql -tA -F ' ' -c "SELECT t.tick_id, t.outcome, t.run_id FROM ironlayer.schedule_ticks t
			WHERE t.tick_id > $seen ORDER BY t.tick_id LIMIT 1")
		[ -n "$row" ] && break
		sleep 1
	done
	read -r seen outcome run <<<"$row"
	[ -n "$run" ] && cluster_psql -c "$bound" -c "SELECT ironlayer.cancel($run)" >/dev/null
	# pg_cron's end of the job
	while [ "$(cluster_psql -tA -c "SELECT d.status FROM cron.job_run_details d JOIN ironlayer.schedule_ticks t
			ON d.runid = t.cron_runid WHERE t.tick_id = $seen")" = running ]; do sleep 0.2; done
	cluster_psql -tA -F ' ' -c "
		SELECT round(extract(epoch FROM t.started_at - d.start_time) * 1000, 1),
			   round(extract(epoch FROM t.finished_at - t.started_at) * 1000, 1),
			   round(extract(epoch FROM t.finished_at - d.start_time) * 1000, 1),
			   round(extract(epoch FROM d.end_time - d.start_time) * 1000, 1)
		  FROM ironlayer.schedule_ticks t JOIN cron.job_run_details d ON d.runid = t.cron_runid
		 WHERE t.tick_id = $seen" | {
		read -r launch tick applied end
		printf '  tick %d (%s): launch %7s, tick %7s, applied %7s, end %7s\n' \
			"$i" "$outcome" "$launch" "$tick" "$applied" "$end"
	}
done

# What keeping pg_cron's log bounded costs a tick: cron.job_run_details has
# no index on jobid (pg_cron 1.4), so each tick's clean-up of its job's runs
# reads the table whole. A tick that does nothing else (its owner is gone:
# refused), called directly, the median of five, with the log holding the
# last 100 runs of 10, 1,000 and 10,000 jobs.
cluster_psql -c "SELECT cron.unschedule(jobid) FROM cron.job" -c "CREATE ROLE bench_gone" \
	-c "UPDATE ironlayer.schedule_jobs SET owner = 'bench_gone'" >/dev/null
echo "a tick's clean-up of pg_cron's log (a refused tick, ms):"
for jobs in 10 1000 10000; do
	rows=$((jobs * 100))
	cluster_psql -c "TRUNCATE cron.job_run_details" -c "INSERT INTO cron.job_run_details
		(jobid, runid, database, username, command, status, start_time, end_time)
		SELECT 1000000 + i % $jobs, nextval('cron.runid_seq'), 'postgres', 'x', 'SELECT 1', 'succeeded', now(), now()
		  FROM generate_series(1, $rows) i" -c "VACUUM ANALYZE cron.job_run_details" >/dev/null
	q="SELECT ironlayer.tick($sid)"
	ms=$(cluster_psql -c '\timing on' -c "$q" -c "$q" -c "$q" -c "$q" -c "$q" -c "$q" |
		sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | sed -n 2,6p | sort -n | sed -n 3p)
	printf '  %7d rows (%5d jobs): %6s\n' "$rows" "$jobs" "$ms"
done
