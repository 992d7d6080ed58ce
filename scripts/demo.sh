#!/usr/bin/env bash
# `make demo` / `make stop`: a persistent local cluster for trying ironlayer.
#
#   start  install what is missing, build and install ironlayer, start a
#          cluster (data under .demo/ in the checkout, ignored by git) with
#          ironlayer and pg_cron preloaded, create the database "ironlayer",
#          the extension and a demo tenant, and print how to connect.
#   stop   stop that cluster.
#
# The port is $PGPORT, else 5499. The server runs as an unprivileged user
# (postgres when run as root), since PostgreSQL refuses to run as root.
# The environment may also set (test/t/014_docs.pl does, to run the docs'
# SQL against a cluster prepared exactly like the demo's):
#   IRONLAYER_DEMO_DIR      where the demo keeps its data, key and
#                           repositories (default .demo in the checkout)
#   IRONLAYER_DEMO_INSTALL  no: install nothing, build nothing, never sudo;
#                           use the ironlayer installed in PG_CONFIG's
#                           PostgreSQL as it is (default yes)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

PORT=${PGPORT:-5499}
DEMO=${IRONLAYER_DEMO_DIR:-$ROOT/.demo}
SHOWN=${IRONLAYER_DEMO_DIR:-.demo}			# how messages name it
INSTALL=${IRONLAYER_DEMO_INSTALL:-yes}
PG_CONFIG=${PG_CONFIG:-pg_config}
DB=ironlayer

if [ "$(id -u)" -eq 0 ]; then
	RUNUSER=${IRONLAYER_DEMO_USER:-postgres}
	as_user() { (cd / && runuser -u "$RUNUSER" -- "$@"); }
else
	RUNUSER=$(id -un)
	as_user() { "$@"; }
fi

# Where the data lives: .demo/data, unless the server's user cannot reach the
# checkout (say, a root-only home); then a directory of its own, linked from
# .demo/data.
data_dir() {
	mkdir -p "$DEMO"
	if [ -L "$DEMO/data" ] || [ -d "$DEMO/data" ]; then
		echo "$DEMO/data"
		return
	fi
	if [ "$(id -u)" -ne 0 ] || runuser -u "$RUNUSER" -- test -x "$DEMO"; then
		mkdir -p "$DEMO/data"
	else
		local alt
		alt=/var/tmp/ironlayer-demo-$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1)
		mkdir -p "$alt/data"
		ln -s "$alt/data" "$DEMO/data"
		echo "demo: $RUNUSER cannot reach $DEMO; the data lives in $alt (linked from $SHOWN/data)" >&2
	fi
	echo "$DEMO/data"
}

psql_demo() {						# psql against the demo cluster as its superuser
	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h localhost -p "$PORT" -U postgres "$@"
}

# psql as USER on the demo database, echoing each statement before its
# output (variables already substituted), so that what the demo prints can
# be typed again in psql.
psql_shown() {
	local user=$1; shift
	"$PGBIN/psql" -X -q -e -v ON_ERROR_STOP=1 -h localhost -p "$PORT" -U "$user" -d "$DB" "$@"
}

start() {
	PGBIN=$($PG_CONFIG --bindir)
	if [ "$INSTALL" != no ]; then
		bash scripts/deps.sh
		make -s -j"$(nproc 2>/dev/null || echo 2)" all >/dev/null
		if [ "$(id -u)" -eq 0 ] || [ -w "$($PG_CONFIG --pkglibdir)" ]; then
			make -s install >/dev/null
		else
			sudo make -s install >/dev/null
		fi
	fi

	local data
	data=$(readlink -f "$(data_dir)")	# the real place: the link may sit where the server's user cannot go
	[ "$(id -u)" -eq 0 ] && chown -R "$RUNUSER" "$data"
	chmod 700 "$data"

	if [ ! -f "$data/PG_VERSION" ]; then
		echo "demo: creating a cluster in $SHOWN/data"
		as_user "$PGBIN/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C >/dev/null
		# beside the data directory: the vault's master key and the repository root
		local base
		base=$(dirname "$data")
		head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$base/master.key"
		mkdir -p "$base/repos"
		if [ "$(id -u)" -eq 0 ]; then chown "$RUNUSER" "$base/master.key" "$base/repos"; fi
		chmod 600 "$base/master.key"
		cat >>"$data/postgresql.conf" <<-CONF

		# ironlayer demo
		listen_addresses = 'localhost'
		unix_socket_directories = ''
		shared_preload_libraries = 'ironlayer,pg_cron'
		cron.database_name = '$DB'
		max_worker_processes = 16
		ironlayer.master_key_file = '$base/master.key'
		ironlayer.repo_root = '$base/repos'
		CONF
	fi
	# the background workers run the demo database's plans (clusters made
	# by an earlier version lack these settings)
	if ! grep -q '^ironlayer.database' "$data/postgresql.conf"; then
		printf "ironlayer.database = '%s'\nironlayer.max_workers = 2\n" "$DB" | as_user tee -a "$data/postgresql.conf" >/dev/null
		as_user "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1 \
			&& as_user "$PGBIN/pg_ctl" -D "$data" -l "$data/server.log" -o "-p $PORT" -m fast -w restart >/dev/null
	fi
	# the port may change between runs: keep it out of postgresql.conf
	if as_user "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
		echo "demo: the cluster is already running"
	else
		if ! as_user "$PGBIN/pg_ctl" -D "$data" -l "$data/server.log" -o "-p $PORT" -w start >/dev/null; then
			echo "demo: the server did not start; the end of its log:" >&2
			tail -n 20 "$data/server.log" >&2
			exit 1
		fi
	fi

	psql_demo -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1 \
		|| psql_demo -d postgres -c "CREATE DATABASE $DB"
	psql_demo -d "$DB" >/dev/null <<-'SQL'
		SET client_min_messages = warning;
		CREATE EXTENSION IF NOT EXISTS ironlayer;
		CREATE EXTENSION IF NOT EXISTS pg_cron;
		DO $$
		BEGIN
			IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ironlayer_demo') THEN
				CREATE ROLE ironlayer_demo LOGIN;
				GRANT ironlayer_admin TO ironlayer_demo;
			END IF;
		END $$;
		SET ROLE ironlayer_demo;
		SELECT ironlayer.create_tenant('demo')
		 WHERE NOT EXISTS (SELECT 1 FROM ironlayer.my_tenants() WHERE tenant = 'demo');
	SQL

	# The pipeline runs once, on the cluster it made: run again, it would
	# plan back to HEAD~1 and re-seed the sources under what dev built.
	if [ -n "$(psql_demo -d "$DB" -tAc "SELECT 1 FROM ironlayer.repos r JOIN ironlayer.tenants t USING (tenant_id)
			WHERE t.name = 'demo' AND r.name = 'shop'")" ]; then
		echo "demo: the shop's pipeline ran when this cluster was made (to see it again: make stop; rm -rf $SHOWN; make demo)"
	else
		pipeline "$(dirname "$data")"
		local failed
		failed=$(psql_demo -d "$DB" -tAc "SELECT string_agg(run_id || ' ' || state, ', ') FROM ironlayer.runs WHERE state <> 'succeeded'")
		if [ -n "$failed" ]; then
			echo "demo: a run did not succeed ($failed): see ironlayer.run_steps" >&2
			exit 1
		fi
	fi

	local version
	version=$(psql_demo -d "$DB" -tAc 'SELECT ironlayer.version()')
	cat <<-EOF2

	ironlayer $version is running on localhost:$PORT (data in $SHOWN/data).

	Connect as the demo tenant's admin:
	  psql "host=localhost port=$PORT dbname=$DB user=ironlayer_demo"
	then:
	  SELECT ironlayer.version();
	  SELECT ironlayer.use_tenant('demo');
	  SELECT * FROM ironlayer.members;

	Connect as the superuser:  psql "host=localhost port=$PORT dbname=$DB user=postgres"
	Git repositories go under: $(dirname "$(readlink -f "$DEMO/data")")/repos
	Stop the cluster:          make stop
	EOF2
}

# The main job on the embedded default: a model repository built from
# examples/shop (a start, the initial models, then a change to one upstream
# model and one new model), its source tables seeded, the initial models
# deployed to dev (nothing deployed before: every model is added), then the
# change planned in dev against what dev has deployed, printed, applied
# (auto-approved), waited for, its run summary and dev's deployed commit
# printed; then the next day's source rows and a refresh plan as of that day
# (no code change: the incremental models that are due), applied, and the
# mart's last days printed.
pipeline() {
	local base=$1 repo=$1/repos/shop n=0
	commit() {
		n=$((n + 1))
		GIT_AUTHOR_NAME=ironlayer GIT_AUTHOR_EMAIL=demo@ironlayer.invalid \
		GIT_COMMITTER_NAME=ironlayer GIT_COMMITTER_EMAIL=demo@ironlayer.invalid \
		GIT_AUTHOR_DATE="2026-01-31T00:0$n:00Z" GIT_COMMITTER_DATE="2026-01-31T00:0$n:00Z" \
			git -C "$repo" -c commit.gpgsign=false commit -q -m "$1"
	}
	rm -rf "$repo"
	mkdir -p "$repo"
	git -C "$repo" -c init.defaultBranch=main init -q
	echo "shop: the ironlayer demo's models" >"$repo/README.md"
	mkdir -p "$repo/models" && touch "$repo/models/.keep"	# a models directory without models yet
	git -C "$repo" add -A && commit "start"
	cp -r examples/shop/models/. "$repo/models/"
	git -C "$repo" add -A && commit "the shop's models"
	(cd "$repo" && bash "$ROOT/examples/shop/change.sh" >/dev/null)
	git -C "$repo" add -A && commit "returns are not revenue; product sales"
	[ "$(id -u)" -eq 0 ] && chown -R "$RUNUSER" "$repo"

	echo "demo: seeding the source tables: psql -f examples/shop/seed.sql"
	psql_demo -d "$DB" -f examples/shop/seed.sql >/dev/null 2>&1
	echo "demo: as the superuser (postgres), the DBA's grants: the dev environment's role may read the"
	echo "demo: sources, and the demo's admin may read what that role builds"
	echo
	psql_shown postgres <<-'SQL'
		SELECT run_as FROM ironlayer.environments e JOIN ironlayer.tenants t USING (tenant_id)
		 WHERE t.name = 'demo' AND e.name = 'dev' \gset
		GRANT USAGE ON SCHEMA source TO :"run_as";
		GRANT SELECT ON ALL TABLES IN SCHEMA source TO :"run_as";
		ALTER DEFAULT PRIVILEGES FOR ROLE :"run_as" GRANT USAGE ON SCHEMAS TO ironlayer_demo;
		ALTER DEFAULT PRIVILEGES FOR ROLE :"run_as" GRANT SELECT ON TABLES TO ironlayer_demo;
	SQL
	echo
	echo "demo: from here on as the demo tenant's admin:"
	echo "demo:   psql \"host=localhost port=$PORT dbname=$DB user=ironlayer_demo\""
	echo "demo: the repository (under ironlayer.repo_root), and the shop's models deployed to dev (nothing"
	echo "demo: deployed yet: plan NULL..HEAD~1 as of 2026-01-31, apply, wait)"
	echo
	psql_shown ironlayer_demo <<-'SQL'
		SELECT ironlayer.use_tenant('demo') AS tenant \gset
		SELECT ironlayer.add_repo('shop', 'shop')
		 WHERE NOT EXISTS (SELECT FROM ironlayer.repos WHERE name = 'shop');
		SELECT ironlayer.plan('shop', NULL, 'HEAD~1', '2026-01-31')->>'plan_id' AS plan_id \gset
		SELECT ironlayer.apply(:'plan_id', 'dev') AS run_id \gset
		SELECT ironlayer.wait(:run_id, '2 min') AS final_state;
	SQL
	echo
	echo "demo: the change, planned in dev against what dev has deployed (plan NULL..HEAD as of 2026-01-31),"
	echo "demo: shown, applied (dev is auto-approved) and waited for:"
	echo
	psql_shown ironlayer_demo <<-'SQL'
		SELECT ironlayer.use_tenant('demo') AS tenant \gset
		SELECT ironlayer.plan('shop', NULL, 'HEAD', '2026-01-31')->>'plan_id' AS plan_id \gset
		SELECT parallel_group AS "group", model, run_type, input_range, reason FROM ironlayer.show_plan(:'plan_id');
		SELECT ironlayer.apply(:'plan_id', 'dev') AS run_id \gset
		SELECT ironlayer.wait(:run_id, '2 min') AS final_state;
		SELECT run_id, state, steps, succeeded, failed, skipped, rows_affected,
		       round(extract(epoch FROM duration) * 1000) AS ms
		  FROM ironlayer.run_summary WHERE run_id = :run_id;
		SELECT model, state, attempts, rows_affected,
		       round(extract(epoch FROM finished_at - started_at) * 1000, 1) AS ms
		  FROM ironlayer.run_steps WHERE run_id = :run_id ORDER BY step_index;
		SELECT repository, environment, left(commit, 12) AS commit, left(plan_id, 12) AS plan, run_id
		  FROM ironlayer.deployed_commits ORDER BY repository, environment;
	SQL

	echo "demo: the next day's source rows: psql -f examples/shop/next_day.sql"
	psql_demo -d "$DB" -f examples/shop/next_day.sql >/dev/null 2>&1
	echo "demo: a refresh as of 2026-02-01 (no code change: what is due), shown, applied, waited for; then the"
	echo "demo: mart's last three days"
	echo
	psql_shown ironlayer_demo <<-'SQL'
		SELECT ironlayer.use_tenant('demo') AS tenant \gset
		SELECT ironlayer.plan_refresh('shop', 'dev', '2026-02-01')->>'plan_id' AS plan_id \gset
		SELECT parallel_group AS "group", model, run_type, input_range, reason FROM ironlayer.show_plan(:'plan_id');
		SELECT ironlayer.apply(:'plan_id', 'dev') AS run_id \gset
		SELECT ironlayer.wait(:run_id, '2 min') AS final_state;
		SELECT run_id, state, steps, succeeded, failed, rows_affected FROM ironlayer.run_summary WHERE run_id = :run_id;
		SELECT order_date, channel, revenue_orders, gross_item_sales, item_discounts, net_item_sales,
		       shipping_charged, amount_billed, item_margin
		  FROM demo_dev_marts.mrt_daily_revenue ORDER BY order_date DESC, channel LIMIT 9;
	SQL
}

stop() {
	PGBIN=$($PG_CONFIG --bindir)
	local data
	data=$(readlink -f "$DEMO/data" || true)
	if [ -n "$data" ] && [ -f "$data/PG_VERSION" ] && as_user "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
		as_user "$PGBIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null
		echo "demo: stopped"
	else
		echo "demo: not running"
	fi
}

case "${1:-start}" in
	start) start ;;
	stop) stop ;;
	*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
