# Schedules with pg_cron preloaded (background-worker mode) and a schedule
# of one minute: ticks that deploy a new commit, ticks that refresh the next
# day's data (the tables then hold what the sources say), a tick during an
# active run (skipped, recorded), a tick after the owner was removed
# (refused, recorded, nothing run), the server restarted between ticks;
# each pg_cron run linked to ironlayer's tick and pg_cron's log bounded.
#
# A tick comes at the start of a minute, so the test waits for each one
# (up to two minutes). Between phases the schedule is paused (a cron
# schedule of once a year) while the test prepares the next state, so that
# no tick sees half of it.
use strict;
use warnings;
use File::Path qw(make_path remove_tree);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RepoUtil;

my $root = "$PostgreSQL::Test::Utils::tmp_check/repos";
make_path($root);
# (tmp_check/repos is shared by the TAP tests: a directory of this test's own)
my $repo = "$root/schedules_shop";
remove_tree($repo);

my $node = PostgreSQL::Test::Cluster->new('schedules');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'ironlayer,pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 20
ironlayer.repo_root = '$root'
ironlayer.database = 'postgres'
ironlayer.max_workers = 2
});
$node->start;

# The models: raw.orders loads source rows by day, marts.daily sums them.
model_repo($repo,
	'raw.orders' => "-- kind: INCREMENTAL_BY_TIME_RANGE\n-- time_column: order_date\n"
	  . "SELECT id, amount, order_date FROM src.orders\n"
	  . "WHERE order_date BETWEEN '{{ start_date }}' AND '{{ end_date }}'",
	'marts.daily' => "SELECT order_date, count(*) AS orders FROM raw.orders GROUP BY order_date");

$node->safe_psql('postgres', q{
CREATE EXTENSION ironlayer;
CREATE EXTENSION pg_cron;
CREATE ROLE regress_runner;
CREATE ROLE regress_owner;
CREATE ROLE regress_admin;
GRANT ironlayer_engineer TO regress_owner;
GRANT ironlayer_admin TO regress_admin;
GRANT regress_runner TO regress_admin;
GRANT CREATE ON DATABASE postgres TO regress_runner;
CREATE SCHEMA src;
CREATE TABLE src.orders (id int PRIMARY KEY, amount numeric NOT NULL, order_date date NOT NULL);
GRANT USAGE ON SCHEMA src TO regress_runner;
GRANT SELECT ON src.orders TO regress_runner;
-- five days of orders up to yesterday (UTC, as the ticks count days)
INSERT INTO src.orders
SELECT i, i * 10, (now() AT TIME ZONE 'UTC')::date - 1 - (i % 5) FROM generate_series(1, 50) i;
SET ROLE regress_admin;
SELECT ironlayer.create_tenant('t');
SELECT ironlayer.add_member('t', 'regress_owner', 'engineer');
RESET ROLE;
SELECT ironlayer.use_tenant('t');
SELECT ironlayer.set_environment('dev', '{"run_as": "regress_runner", "schema_prefix": "dev_", "lock_timeout": "5 min"}');
SELECT ironlayer.add_repo('shop', 'schedules_shop');
});

# SQL as the schedule's owner, bound to the tenant.
sub owner_sql
{
	my ($q) = @_;
	return $node->safe_psql('postgres',
		"SET ROLE regress_owner; SELECT FROM ironlayer.use_tenant('t');\n$q");
}

sub su
{
	return $node->safe_psql('postgres', $_[0]);
}

my $deploy = '{"repository": "shop", "environment": "dev", "action": "deploy", "branch": "main"}';
my $refresh = '{"repository": "shop", "environment": "dev", "action": "refresh", "recompute_days": 2}';
my $sid;

# Sets the schedule (as its owner): CRON, SPEC.
sub set_schedule
{
	my ($cron, $spec) = @_;
	$sid = owner_sql("SELECT ironlayer.schedule('every-minute', '$cron', '$spec')");
}

sub last_tick_id
{
	return su("SELECT coalesce(max(tick_id), 0) FROM ironlayer.schedule_ticks");
}

# Resumes the schedule with SPEC (a tick a minute) and waits for the first
# tick after tick AFTER; pauses it again. Returns "outcome|detail|run_id|cron_runid".
sub next_tick
{
	my ($spec, $after) = @_;
	set_schedule('* * * * *', $spec);
	$node->poll_query_until('postgres',
		"SELECT EXISTS (SELECT FROM ironlayer.schedule_ticks WHERE tick_id > $after)")
	  or die "no tick within the timeout";
	set_schedule('0 0 1 1 *', $spec);
	return su("SELECT outcome || '|' || coalesce(detail, '') || '|' || coalesce(run_id::text, '') || '|'"
		  . " || coalesce(cron_runid::text, '') FROM ironlayer.schedule_ticks WHERE tick_id > $after"
		  . " ORDER BY tick_id LIMIT 1");
}

sub wait_run
{
	my ($run) = @_;
	return owner_sql("SELECT ironlayer.wait($run, '60 s')");
}

# pg_cron's record of the run that called the tick.
sub cron_run
{
	my ($runid) = @_;
	$node->poll_query_until('postgres',
		"SELECT status NOT IN ('starting', 'running') FROM cron.job_run_details WHERE runid = $runid")
	  or die "pg_cron's run $runid did not end";
	return su("SELECT status || ' ' || return_message || ' ' || command FROM cron.job_run_details WHERE runid = $runid");
}

# Do the tables of dev hold what the sources say?
sub tables_match
{
	return su(q{
		SELECT (SELECT count(*) FROM ((SELECT * FROM src.orders EXCEPT SELECT * FROM dev_raw.orders)
									  UNION ALL (SELECT * FROM dev_raw.orders EXCEPT SELECT * FROM src.orders)) d)
			|| ' ' ||
			   (SELECT count(*) FROM ((SELECT order_date, count(*) FROM src.orders GROUP BY 1
									   EXCEPT SELECT order_date, orders FROM dev_marts.daily)
									  UNION ALL (SELECT order_date, orders FROM dev_marts.daily
									   EXCEPT SELECT order_date, count(*) FROM src.orders GROUP BY 1)) d)});
}

sub deployed
{
	return su("SELECT commit FROM ironlayer.deployed_commits WHERE repository = 'shop' AND environment = 'dev'");
}

# 1. A schedule is one pg_cron job whose command is one call with one integer.
set_schedule('0 0 1 1 *', $deploy);
is(su("SELECT command FROM cron.job WHERE jobname = 'ironlayer:$sid'"),
	"SELECT ironlayer.tick($sid)", 'the job runs one schema-qualified call with the schedule id');

# 2. The first deploy (nothing deployed: every model added), by a tick
# called as pg_cron calls it; the run is the owner's.
my ($outcome, $detail, $run) = split /\|/, su("SELECT FROM ironlayer.tick($sid);"
	  . " SELECT outcome || '|' || coalesce(detail, '') || '|' || coalesce(run_id::text, '') FROM ironlayer.schedule_ticks ORDER BY tick_id DESC LIMIT 1");
is($outcome, 'applied', "a deploy tick with nothing deployed applies the branch head ($detail)");
is(wait_run($run), 'succeeded', 'its run succeeds');
is(su("SELECT created_by FROM ironlayer.runs WHERE run_id = $run"), 'regress_owner', 'the run is the owner\'s');
my $head = git($repo, 'rev-parse', 'HEAD');
is(deployed(), $head, 'the branch head is deployed in dev');
is(tables_match(), '0 0', 'the tables hold what the sources say');

# 3. A new commit, deployed by the next tick of pg_cron.
write_file("$repo/models/marts/daily.sql",
	"-- name: marts.daily\n-- kind: FULL_REFRESH\nSELECT order_date, count(*) AS orders FROM raw.orders GROUP BY order_date ORDER BY 1\n");
git($repo, 'commit', '-q', '-am', 'marts.daily ordered');
$head = git($repo, 'rev-parse', 'HEAD');
my $cron_runid;
($outcome, $detail, $run, $cron_runid) = split /\|/, next_tick($deploy, last_tick_id());
is($outcome, 'applied', "a tick of pg_cron deploys the new commit ($detail)");
is(wait_run($run), 'succeeded', 'its run succeeds');
is(deployed(), $head, 'the new commit is deployed');
like(cron_run($cron_runid), qr/^succeeded SELECT 1 SELECT ironlayer\.tick\($sid\)$/,
	'pg_cron recorded the run that called the tick');
is(su("SELECT ironlayer.tick($sid)"), 'up_to_date', 'the next tick finds the branch head deployed');

# 4. The server restarts between ticks; the next day's data arrives
# (today's orders and a late one of yesterday); a refresh tick loads it.
$node->restart;
su(q{INSERT INTO src.orders
	 SELECT 100 + i, i, (now() AT TIME ZONE 'UTC')::date - (i % 2) FROM generate_series(1, 20) i});
isnt(tables_match(), '0 0', 'the sources have rows the tables lack');
($outcome, $detail, $run, $cron_runid) = split /\|/, next_tick($refresh, last_tick_id());
is($outcome, 'applied', "after a restart, a refresh tick of pg_cron applies what is due ($detail)");
is(wait_run($run), 'succeeded', 'its run succeeds');
is(tables_match(), '0 0', 'the tables hold what the sources say, the late row included');
like(cron_run($cron_runid), qr/^succeeded /, 'pg_cron recorded the run');

# 5. A tick during an active run: the run waits on a lock of its source,
# the tick is skipped and says which run.
my $locker = $node->background_psql('postgres');
$locker->query_safe('BEGIN; LOCK TABLE src.orders IN ACCESS EXCLUSIVE MODE;');
my $manual = owner_sql(q{SELECT ironlayer.apply(ironlayer.plan_refresh('shop', 'dev', (now() AT TIME ZONE 'UTC')::date,
	'{"recompute_days": 1}')->>'plan_id', 'dev')});
my $runs_before = su('SELECT count(*) FROM ironlayer.runs');
($outcome, $detail) = split /\|/, next_tick($refresh, last_tick_id());
is($outcome, 'skipped', 'a tick during an active run is skipped');
like($detail, qr/^run $manual of repository "shop" in dev is active$/, 'and says which run');
is(su('SELECT count(*) FROM ironlayer.runs'), $runs_before, 'no run was started');
$locker->query_safe('COMMIT');
$locker->quit;
is(wait_run($manual), 'succeeded', 'the run goes on once its source is free');

# 6. The owner leaves the tenant: the tick does nothing and says why.
$node->safe_psql('postgres', q{SET ROLE regress_admin; SELECT ironlayer.remove_member('t', 'regress_owner')});
$runs_before = su('SELECT count(*) FROM ironlayer.runs');
my $after = last_tick_id();
su(qq{UPDATE cron.job SET schedule = '* * * * *' WHERE jobname = 'ironlayer:$sid'});
$node->poll_query_until('postgres', "SELECT EXISTS (SELECT FROM ironlayer.schedule_ticks WHERE tick_id > $after)")
  or die "no tick";
su(qq{UPDATE cron.job SET schedule = '0 0 1 1 *' WHERE jobname = 'ironlayer:$sid'});
($outcome, $detail) = split /\|/,
  su("SELECT outcome || '|' || detail FROM ironlayer.schedule_ticks WHERE tick_id > $after ORDER BY tick_id LIMIT 1");
is($outcome, 'refused', 'a tick of a schedule whose owner left the tenant is refused');
like($detail, qr/regress_owner.*no longer a member of tenant "t"/, 'and says why');
is(su('SELECT count(*) FROM ironlayer.runs'), $runs_before, 'nothing ran');

# 7. The view shows the last tick and pg_cron's last run; pg_cron's log
# of the job is kept to its last 100 runs.
is(su(qq{SELECT ironlayer.use_tenant('t') IS NOT NULL;
	SELECT last_outcome || ' ' || cron_status FROM ironlayer.schedules WHERE name = 'every-minute'}),
	"t\nrefused succeeded", 'the view shows the last tick and pg_cron\'s run');
su(qq{INSERT INTO cron.job_run_details (jobid, runid, database, username, command, status, start_time, end_time)
	SELECT jobid, nextval('cron.runid_seq'), 'postgres', 'x', 'SELECT 1', 'succeeded', now(), now()
	  FROM cron.job, generate_series(1, 200) WHERE jobname = 'ironlayer:$sid'});
su("SELECT ironlayer.tick($sid)");
is(su(qq{SELECT count(*) FROM cron.job_run_details d JOIN cron.job j USING (jobid) WHERE j.jobname = 'ironlayer:$sid'}),
	'100', 'a tick keeps pg_cron\'s log of its job to the last 100 runs');

# 8. A deploy in prod waits for approval: approval.needed is published on
# the tenant's channel once for the plan, not again by the next tick that
# finds it waiting.
$node->safe_psql('postgres', q{SET ROLE regress_admin; SELECT ironlayer.add_member('t', 'regress_owner', 'engineer')});
my $prod = owner_sql(q{SELECT ironlayer.schedule('prod-deploy', '0 0 1 1 *',
	'{"repository": "shop", "environment": "prod", "action": "deploy", "branch": "main"}')});
my $channel = owner_sql('SELECT ironlayer.events_channel()');
my $heard = su(qq{LISTEN $channel; SELECT ironlayer.tick($prod); SELECT ironlayer.tick($prod);});
is(join(' ', $heard =~ /^(waiting_approval)$/mg), 'waiting_approval waiting_approval', 'both ticks leave the plan waiting');
my $plan = su("SELECT plan_id FROM ironlayer.schedule_ticks WHERE schedule_id = $prod ORDER BY tick_id DESC LIMIT 1");
my @needed = $heard =~ /"event": "approval\.needed"/g;
is(scalar(@needed), 1, 'approval.needed is published once');
like($heard, qr/\{"event": "approval\.needed", "plan_id": "$plan", "environment": "prod"\}/, 'naming the plan and the environment');

$node->stop;
done_testing();
