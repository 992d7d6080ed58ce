#!/usr/bin/env bash
# Writes the git repositories the regression tests read into DIR (which
# becomes ironlayer.repo_root). Names, dates and contents are fixed, so
# every commit id is the same on every machine and expected outputs can
# show them.
#
#   shop        main: "initial" (tag v1) then "second": a logic change
#               (staging.orders), a cosmetic change (marts.revenue), a move
#               (raw.orders), an addition (marts.customer_summary), a
#               removal (marts.gone). Branches from main:
#                 cycle      raw.orders reads marts.revenue
#                 ambiguous  marts.bad reads the short name "orders"
#                 duplicate  two files declare staging.orders
#                 badheader  a model without a kind
#                 diamond    marts.both reads marts.revenue and
#                            marts.customer_summary
#   shop.git    a bare clone of shop
#   deploy      four small commits for deployments (below)
#   sources     declared sources (test/sql/sources.sql). Tags:
#                 s1  marts.fct_orders reads marts.dim_user beside the
#                     model marts.dim_users (a typo), and source.orders,
#                     source.users; no sources.txt
#                 s2  models/sources.txt declares source.users only
#                 s3  the typo fixed, sources.txt declares source.*
#                 s4  s3 with a bad line 3 in sources.txt
#                 s5  s3 with 10,001 entries in sources.txt
#   plain       a directory that is not a repository
#   escape      a symbolic link to a directory outside DIR
set -euo pipefail
dir=$1
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

export GIT_AUTHOR_NAME=ironlayer GIT_AUTHOR_EMAIL=tests@ironlayer.invalid
export GIT_COMMITTER_NAME=ironlayer GIT_COMMITTER_EMAIL=tests@ironlayer.invalid
export GIT_CONFIG_NOSYSTEM=1 HOME=$dir/.home TZ=UTC
n=0
g() { git -c init.defaultBranch=main -c commit.gpgsign=false -c core.autocrlf=false "$@"; }
commit() {		# commit MESSAGE: one minute after the previous commit
	n=$((n + 1))
	GIT_AUTHOR_DATE="2026-01-01T00:$(printf %02d $n):00Z" GIT_COMMITTER_DATE="2026-01-01T00:$(printf %02d $n):00Z" \
		g -C "$shop" commit -q -m "$1"
}
put() {			# put PATH: the file's text from standard input
	mkdir -p "$(dirname "$shop/$1")"
	cat >"$shop/$1"
}

shop=$dir/shop
rm -rf "$shop" "$dir/shop.git" "$dir/plain" "$dir/escape" "$dir/.home"
mkdir -p "$shop" "$dir/.home"
g -C "$shop" init -q

put models/raw/orders.sql <<'SQL'
-- name: raw.orders
-- kind: FULL_REFRESH
SELECT id, customer_id, amount, order_date FROM landing.orders
SQL
put models/raw/events.sql <<'SQL'
-- name: raw.events
-- kind: APPEND_ONLY
-- time_column: event_date
SELECT id, customer_id, kind, event_date FROM landing.events
WHERE event_date BETWEEN '{{ start_date }}' AND '{{ end_date }}'
SQL
put models/staging/orders.sql <<'SQL'
-- name: staging.orders
-- kind: INCREMENTAL_BY_TIME_RANGE
-- time_column: order_date
SELECT id, customer_id, amount, order_date
FROM raw.orders
WHERE amount > 0 AND order_date BETWEEN '{{ start_date }}' AND '{{ end_date }}'
SQL
put models/staging/customers.sql <<'SQL'
-- name: staging.customers
-- kind: MERGE_BY_KEY
-- unique_key: id
SELECT c.id, c.name, max(o.order_date) AS last_order
FROM landing.customers c LEFT JOIN raw.orders o ON o.customer_id = c.id
GROUP BY c.id, c.name
SQL
put models/marts/revenue.sql <<'SQL'
-- name: marts.revenue
-- kind: FULL_REFRESH
SELECT o.order_date, sum(o.amount) * max(f.rate) AS revenue
FROM {{ ref('staging.orders') }} o JOIN ext.fx f ON true
GROUP BY 1
SQL
put models/marts/daily_events.sql <<'SQL'
-- name: marts.daily_events
-- kind: INCREMENTAL_BY_TIME_RANGE
-- time_column: event_date
-- materialization: TABLE
SELECT event_date, kind, count(*) AS events
FROM raw.events
WHERE event_date BETWEEN '{{ start_date }}' AND '{{ end_date }}'
GROUP BY 1, 2
SQL
put models/marts/gone.sql <<'SQL'
-- name: marts.gone
-- kind: FULL_REFRESH
SELECT 1 AS x
SQL
put models/notes.sql <<'SQL'
-- a scratch query, not a model
SELECT 1
SQL
echo "shop" >"$shop/README.md"
g -C "$shop" add -A
commit initial
g -C "$shop" tag v1

put models/staging/orders.sql <<'SQL'
-- name: staging.orders
-- kind: INCREMENTAL_BY_TIME_RANGE
-- time_column: order_date
SELECT id, customer_id, amount, order_date
FROM raw.orders
WHERE amount >= 0 AND order_date BETWEEN '{{ start_date }}' AND '{{ end_date }}'
SQL
put models/marts/revenue.sql <<'SQL'
-- name: marts.revenue
-- kind: FULL_REFRESH
-- revenue per day
select o.order_date,   sum(o.amount) * max(f.rate) as revenue
from {{ ref('staging.orders') }} o join ext.fx f on true
group by 1;
SQL
g -C "$shop" mv models/raw/orders.sql models/raw_orders.sql
put models/marts/customer_summary.sql <<'SQL'
-- name: marts.customer_summary
-- kind: FULL_REFRESH
-- materialization: VIEW
SELECT c.id, c.name, count(o.id) AS orders
FROM staging.customers c LEFT JOIN staging.orders o ON o.customer_id = c.id
GROUP BY c.id, c.name
SQL
g -C "$shop" rm -q models/marts/gone.sql
g -C "$shop" add -A
commit second

branch() {		# branch NAME: from main, one commit made by the caller's edits
	g -C "$shop" checkout -q -b "$1" main
}
branch cycle
put models/raw_orders.sql <<'SQL'
-- name: raw.orders
-- kind: FULL_REFRESH
SELECT * FROM marts.revenue
SQL
g -C "$shop" add -A
commit "a cycle"
branch ambiguous
put models/marts/bad.sql <<'SQL'
-- name: marts.bad
-- kind: FULL_REFRESH
SELECT * FROM orders
SQL
g -C "$shop" add -A
commit "an ambiguous name"
branch duplicate
put models/staging/orders_v2.sql <<'SQL'
-- name: staging.orders
-- kind: FULL_REFRESH
SELECT 1 AS id
SQL
g -C "$shop" add -A
commit "a duplicate model"
branch badheader
put models/marts/nokind.sql <<'SQL'
-- name: marts.nokind
SELECT 1 AS id
SQL
g -C "$shop" add -A
commit "a header without kind"
branch diamond
put models/marts/both.sql <<'SQL'
-- name: marts.both
-- kind: FULL_REFRESH
SELECT r.order_date, c.customer_id
FROM marts.revenue r CROSS JOIN marts.customer_summary c
SQL
g -C "$shop" add -A
commit "a model reading two marts"
g -C "$shop" checkout -q main

# deploy: deployments (test/sql/deployments.sql, deploy_race.spec). Tags:
#   d0  a README, no models directory (nothing to deploy yet)
#   d1  two models: m.one (FULL_REFRESH) and m.daily (INCREMENTAL_BY_TIME_RANGE)
#   d2  d1 with another README (main): a change plan d1..d2 has no steps
#   d3  d1 with a third README (branch hotfix): as d2, another target
dep=$dir/deploy
rm -rf "$dep"
mkdir -p "$dep"
g -C "$dep" init -q
dcommit() {		# dcommit MESSAGE TAG
	n=$((n + 1))
	g -C "$dep" add -A
	GIT_AUTHOR_DATE="2026-01-01T00:$(printf %02d $n):00Z" GIT_COMMITTER_DATE="2026-01-01T00:$(printf %02d $n):00Z" \
		g -C "$dep" commit -q -m "$1"
	g -C "$dep" tag "$2"
}
echo "deploy" >"$dep/README.md"
dcommit "nothing yet" d0
mkdir -p "$dep/models/m"
printf '%s\n' '-- name: m.one' '-- kind: FULL_REFRESH' 'SELECT 1 AS x' >"$dep/models/m/one.sql"
printf '%s\n' '-- name: m.daily' '-- kind: INCREMENTAL_BY_TIME_RANGE' '-- time_column: day' \
	"SELECT d::date AS day, x FROM m.one CROSS JOIN generate_series('{{ start_date }}'::date, '{{ end_date }}'::date, '1 day') d" \
	>"$dep/models/m/daily.sql"
dcommit "two models" d1
echo "deploy: the README changed" >"$dep/README.md"
dcommit "a README change" d2
g -C "$dep" checkout -q -b hotfix d1
echo "deploy: another README" >"$dep/README.md"
dcommit "another README change" d3
g -C "$dep" checkout -q main

# sources: declared sources and unknown references (header above)
src=$dir/sources
rm -rf "$src"
mkdir -p "$src/models/marts"
g -C "$src" init -q
scommit() {		# scommit MESSAGE TAG
	n=$((n + 1))
	g -C "$src" add -A
	GIT_AUTHOR_DATE="2026-01-01T00:$(printf %02d $n):00Z" GIT_COMMITTER_DATE="2026-01-01T00:$(printf %02d $n):00Z" \
		g -C "$src" commit -q -m "$1"
	g -C "$src" tag "$2"
}
printf '%s\n' '-- name: marts.dim_users' '-- kind: FULL_REFRESH' 'SELECT id, name FROM source.users' \
	>"$src/models/marts/dim_users.sql"
printf '%s\n' '-- name: marts.fct_orders' '-- kind: FULL_REFRESH' \
	'SELECT o.id, u.name FROM source.orders o JOIN marts.dim_user u ON u.id = o.user_id' \
	>"$src/models/marts/fct_orders.sql"
scommit "a typo: marts.dim_user" s1
printf '%s\n' '# the tables the models read that are no models' '' 'Source.Users   # loaded by the app' \
	>"$src/models/sources.txt"
scommit "sources.txt declares source.users" s2
printf '%s\n' '-- name: marts.fct_orders' '-- kind: FULL_REFRESH' \
	'SELECT o.id, u.name FROM source.orders o JOIN marts.dim_users u ON u.id = o.user_id' \
	>"$src/models/marts/fct_orders.sql"
printf '%s\n' '# every table of the schema source' 'source.*' >"$src/models/sources.txt"
scommit "the typo fixed, source.* declared" s3
printf '%s\n' '# every table of the schema source' 'source.*' 'source users' >"$src/models/sources.txt"
scommit "a bad line" s4
g -C "$src" checkout -q s3
seq 1 10001 | sed 's/^/source.t/' >"$src/models/sources.txt"
scommit "10,001 entries" s5
g -C "$src" checkout -q main

g clone -q --bare "$shop" "$dir/shop.git"
mkdir -p "$dir/plain"
echo "not a repository" >"$dir/plain/README"
ln -s /tmp "$dir/escape"
rm -rf "$dir/.home"
