# The background workers: they start once the extension exists, run the
# steps of applied plans without any manual step, in parallel where the
# plan allows, are woken at commit (not by polling), record failures
# (descendants skipped, other branches go on, retry completes), stop at
# cancel(), and lose nothing when a worker is killed with SIGKILL (the
# cluster restarts) or the server is shut down mid-step: the step runs
# again under a new lease and is applied exactly once. An incremental plan
# applied twice leaves the same rows; a run_as role that may not read a
# source fails its step with 42501 and leaves nothing, the workers live on.
#
# Models call public.note(model), which records the model, the process
# and the time in public.applied inside the step's transaction: a row per
# step that committed, none for a step whose transaction died.
use strict;
use warnings;
use File::Path qw(make_path);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RepoUtil;
use Time::HiRes qw(time usleep);

my $root = "$PostgreSQL::Test::Utils::tmp_check/repos";
make_path($root);

# A repository NAME of MODELS (RepoUtil::model_repo).
sub make_repo
{
	my ($name, %models) = @_;
	model_repo("$root/$name", %models);
}

# The SQL of a model that notes itself and takes SECONDS, reading FROM (or nothing).
# A model held (at most a minute) until release($model), then noted.
sub noting_held
{
	my ($model) = @_;
	return "SELECT x FROM (SELECT 1 AS x, public.held('$model') AS h, public.note('$model') AS n) q";
}

sub noting
{
	my ($model, $seconds, $from) = @_;
	my $sql = "SELECT x FROM (SELECT 1 AS x, public.note('$model') AS n, pg_sleep($seconds) AS s) q";
	$sql = "SELECT u.x FROM $from u CROSS JOIN (SELECT public.note('$model') AS n, pg_sleep($seconds) AS s) q"
	  if $from;
	return $sql;
}

my $node = PostgreSQL::Test::Cluster->new('workers');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'ironlayer'
ironlayer.repo_root = '$root'
ironlayer.database = 'postgres'
ironlayer.max_workers = 2
ironlayer.lease = 2
restart_after_crash = on
});
$node->start;

my $bound = "SELECT FROM ironlayer.use_tenant('w');\n";

sub sql
{
	my ($q) = @_;
	return $node->safe_psql('postgres', $bound . $q);
}

sub release
{
	my ($model) = @_;
	$node->safe_psql('postgres', "INSERT INTO public.released VALUES ('$model')");
}

sub workers
{
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'ironlayer worker'");
}

# Plans REPO from its first commit to its second and applies the plan in dev.
sub apply_repo
{
	my ($repo) = @_;
	return sql("SELECT ironlayer.add_repo('$repo', '$repo') > 0 AS added \\gset\n"
		  . "SELECT ironlayer.plan('$repo', 'HEAD~1', 'HEAD', '2026-01-15')->>'plan_id' AS p \\gset\n"
		  . "SELECT ironlayer.apply(:'p', 'dev')");
}

sub wait_run
{
	my ($run, $timeout) = @_;
	$timeout //= '60 s';
	my ($ret, $out, $err) = $node->psql('postgres', $bound . "SELECT ironlayer.wait($run, '$timeout')");
	return $ret == 0 ? $out : "error: $err";
}

sub steps
{
	my ($run) = @_;
	return sql("SELECT string_agg(model || ':' || state || ':' || attempts, ' ' ORDER BY model)"
		  . " FROM ironlayer.run_steps WHERE run_id = $run");
}

sub applied
{
	my ($prefix) = @_;
	return $node->safe_psql('postgres',
		"SELECT coalesce(string_agg(model || '=' || n, ' ' ORDER BY model), '') FROM "
		  . "(SELECT model, count(*) AS n FROM public.applied WHERE model LIKE '$prefix.%' GROUP BY model) c");
}

# Waits until a worker runs MODEL and returns its pid.
sub worker_running
{
	my ($model) = @_;
	my $q = "SELECT pid FROM pg_stat_activity WHERE backend_type = 'ironlayer worker'"
	  . " AND query LIKE '%($model)%'";
	$node->poll_query_until('postgres', "SELECT EXISTS ($q)") or die "no worker runs $model";
	return $node->safe_psql('postgres', $q);
}

# Before the extension: the launcher waits, no worker runs.
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'ironlayer launcher'")
  or die "no launcher";
is(workers(), '0', 'no worker runs before CREATE EXTENSION');

my $schemas = join('', map { "CREATE SCHEMA dev_s$_ AUTHORIZATION regress_runner;\n" } 1 .. 8);
$node->safe_psql('postgres', qq{
CREATE EXTENSION ironlayer;
CREATE ROLE regress_runner;
GRANT CREATE ON DATABASE postgres TO regress_runner;
$schemas
CREATE TABLE public.applied (model text NOT NULL, pid int NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE FUNCTION public.note(m text) RETURNS int LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog
	AS \$\$ INSERT INTO public.applied (model, pid) VALUES (m, pg_backend_pid()) RETURNING 1 \$\$;
-- a step held until the test releases its model (a row in public.released,
-- which the step sees as soon as it commits): the test interrupts the held
-- try however slowly it gets there (a step of a few seconds could finish
-- first on a loaded machine, and then nothing would run twice)
CREATE TABLE public.released (model text PRIMARY KEY);
CREATE FUNCTION public.held(m text) RETURNS int LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog AS \$\$
BEGIN
	FOR i IN 1 .. 1200 LOOP
		EXIT WHEN EXISTS (SELECT FROM public.released WHERE model = m);
		PERFORM pg_sleep(0.05);
	END LOOP;
	RETURN 1;
END \$\$;
SELECT ironlayer.create_tenant('w');
SELECT ironlayer.use_tenant('w');
SELECT ironlayer.set_environment('dev', '{"run_as": "regress_runner", "schema_prefix": "dev_"}');
});

# 1. The launcher notices the extension (it checks every few seconds) and starts two workers.
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 2 FROM pg_stat_activity WHERE backend_type = 'ironlayer worker'"),
	'two workers start once the extension exists');

make_repo('s1',
	's1.a' => noting('s1.a', 0),
	's1.b' => noting('s1.b', 0, 's1.a'),
	's1.c' => noting('s1.c', 0, 's1.a'));
my $run = apply_repo('s1');
is(wait_run($run), 'succeeded', 'a run applied in dev completes with no manual step');
is(steps($run), 's1.a:succeeded:1 s1.b:succeeded:1 s1.c:succeeded:1', 'every step succeeded at the first attempt');
is(applied('s1'), 's1.a=1 s1.b=1 s1.c=1', 'and was applied once');
is($node->safe_psql('postgres', "SELECT to_regclass('dev_s1.b') IS NOT NULL"), 't',
	'the models are in the environment\'s schemas');
is(sql("SELECT count(*) FROM ironlayer.run_steps WHERE run_id = $run AND (lease_owner IS NOT NULL OR executor <> 'postgres')"),
	'0', 'no lease is left, the executor is recorded');

# 2. Two independent slow steps run at the same time, in two workers.
make_repo('s2', 's2.p' => noting('s2.p', 2), 's2.q' => noting('s2.q', 2));
my $t0 = time;
$run = apply_repo('s2');
is(wait_run($run), 'succeeded', 'a run of two independent steps completes');
my $took = time - $t0;
is($node->safe_psql('postgres', q{
	SELECT count(DISTINCT pid) = 2 AND max(at) - min(at) < interval '1.5 s'
	  FROM public.applied WHERE model LIKE 's2.%'}),
	't', 'its steps ran concurrently in two workers');
cmp_ok($took, '<', 3.9, sprintf('two 2-second steps took %.1f s', $took));

# 3. Wake-up at commit: with a 10-minute lease, idle workers would look for
# work every 5 minutes, so a run finishing within seconds was woken.
$node->safe_psql('postgres', "ALTER SYSTEM SET ironlayer.lease = 600; SELECT pg_reload_conf()");
sleep(2);		# the workers reread the settings (SIGHUP) and sleep again
make_repo('s3',
	's3.a' => noting('s3.a', 0),
	's3.b' => noting('s3.b', 0, 's3.a'),
	's3.c' => noting('s3.c', 0, 's3.b'));
$t0 = time;
$run = apply_repo('s3');
is(wait_run($run, '30 s'), 'succeeded', 'a run completes with a 10-minute lease');
$took = time - $t0;
cmp_ok($took, '<', 3, sprintf('three chained steps finished %.2f s after apply: woken at commit', $took));
$node->safe_psql('postgres', "ALTER SYSTEM RESET ironlayer.lease; SELECT pg_reload_conf()");
sleep(1);

# 4. A failing step fails the run; its descendants are skipped, the other
# branch completes; retry() after the cause is fixed completes the run.
make_repo('s4',
	's4.f' => "SELECT x FROM ext.src",
	's4.g' => noting('s4.g', 0, 's4.f'),
	's4.h' => noting('s4.h', 0));
$run = apply_repo('s4');
is(wait_run($run), 'failed', 'a run with a failing step fails');
is(steps($run), 's4.f:failed:1 s4.g:skipped:0 s4.h:succeeded:1', 'its descendant is skipped, the other branch completes');
is(sql("SELECT error_class || ' ' || error_message FROM ironlayer.run_steps WHERE run_id = $run AND state = 'failed'"),
	'42P01 relation "ext.src" does not exist (model s4.f ran as role regress_runner)',
	'the failure is recorded with its SQLSTATE and message, and the model and role it ran as');
$node->safe_psql('postgres', q{
	CREATE SCHEMA ext;
	CREATE TABLE ext.src AS SELECT 1 AS x;
	GRANT USAGE ON SCHEMA ext TO regress_runner;
	GRANT SELECT ON ext.src TO regress_runner;
});
my $retry = sql("SELECT ironlayer.retry($run)");
is(wait_run($retry), 'succeeded', 'retry() after fixing the cause completes');
is(steps($retry), 's4.f:succeeded:1 s4.g:succeeded:1', 'running what did not succeed');
is(applied('s4'), 's4.g=1 s4.h=1', 'each step applied once');

# 5. cancel() mid-run: the running step finishes, the others never start.
make_repo('s5',
	's5.a' => noting('s5.a', 2),
	's5.b' => noting('s5.b', 0, 's5.a'),
	's5.c' => noting('s5.c', 0, 's5.b'));
$run = apply_repo('s5');
worker_running('s5.a');
is(sql("SELECT ironlayer.cancel($run)"), 'cancelling', 'a run with a step running is cancelling');
my ($ret, $out, $err) = $node->psql('postgres',
	$bound . "SELECT ironlayer.apply(plan_id, 'dev') FROM ironlayer.runs WHERE run_id = $run");
like($err, qr/is still active/, 'no new run of the repository while the cancelled run\'s step runs');
is(wait_run($run), 'cancelled', 'wait() returns cancelled once the running step ended');
is(sql("SELECT count(*) FROM ironlayer.run_steps WHERE run_id = $run AND state = 'running'"), '0',
	'nothing of the run is running when wait() returns');
sleep(1);
is(steps($run), 's5.a:succeeded:1 s5.b:cancelled:0 s5.c:cancelled:0', 'the running step finished, the rest never ran');
is(applied('s5'), 's5.a=1', 'nothing after the cancel was applied');

# 6. SIGKILL of a worker running a step: the postmaster restarts the
# cluster, the step's transaction never committed, its lease expires and
# it runs again.
make_repo('s6',
	's6.slow' => noting_held('s6.slow'),
	's6.next' => noting('s6.next', 0, 's6.slow'),
	's6.other' => noting('s6.other', 0));
$run = apply_repo('s6');
my $pid = worker_running('s6.slow');
like(sql("SELECT lease_owner FROM ironlayer.run_steps WHERE run_id = $run AND model = 's6.slow'"),
	qr/^$pid\@\d{8}T\d{6}\.\d{6}Z$/, 'the lease is held under "<pid>@<server start>"');
# The claim commits without waiting for its WAL flush (lost in a crash, the
# step is only pending again): a synchronous commit here flushes it first,
# so that the crash cannot take it back and attempts counts both tries.
$node->safe_psql('postgres', 'SELECT pg_catalog.txid_current()');
my $log_offset = -s $node->logfile;
kill 'KILL', $pid;
$node->wait_for_log(qr/all server processes terminated; reinitializing/, $log_offset);
$node->poll_query_until('postgres', 'SELECT true') or die "the server did not come back";
release('s6.slow');
is(wait_run($run), 'succeeded', 'after a worker was killed, the run completes');
is(applied('s6'), 's6.next=1 s6.other=1 s6.slow=1', 'every step applied exactly once');
is(sql("SELECT attempts FROM ironlayer.run_steps WHERE run_id = $run AND model = 's6.slow'"), '2',
	'the killed step ran a second time');

# 7. Fast shutdown mid-step, then start: the run resumes and completes.
make_repo('s7',
	's7.slow' => noting_held('s7.slow'),
	's7.next' => noting('s7.next', 0, 's7.slow'));
$run = apply_repo('s7');
worker_running('s7.slow');
$t0 = time;
$node->stop('fast');
$took = time - $t0;
cmp_ok($took, '<', 5, sprintf('a fast shutdown stops the worker mid-step (%.1f s)', $took));
$node->start;
release('s7.slow');
is(wait_run($run), 'succeeded', 'after a restart, the interrupted run completes');
is(applied('s7'), 's7.next=1 s7.slow=1', 'every step applied exactly once');
is(sql("SELECT attempts FROM ironlayer.run_steps WHERE run_id = $run AND model = 's7.slow'"), '2',
	'the interrupted step ran a second time');

# 8. A worker that exits is replaced; a terminated launcher comes back and
# does not start more workers than ironlayer.max_workers.
$node->poll_query_until('postgres',
	"SELECT count(*) = 2 FROM pg_stat_activity WHERE backend_type = 'ironlayer worker'") or die;
my $old = $node->safe_psql('postgres',
	"SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity WHERE backend_type = 'ironlayer worker'");
$node->safe_psql('postgres',
	"SELECT pg_terminate_backend(min(pid)) FROM pg_stat_activity WHERE backend_type = 'ironlayer worker'");
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 2 AND string_agg(pid::text, ',' ORDER BY pid) <> '$old'"
		  . " FROM pg_stat_activity WHERE backend_type = 'ironlayer worker'"),
	'a terminated worker is replaced');
my $launcher = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 'ironlayer launcher'");
$node->safe_psql('postgres', "SELECT pg_terminate_backend($launcher)");
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'ironlayer launcher' AND pid <> $launcher"),
	'a terminated launcher is restarted');
sleep(1);
is(workers(), '2', 'and keeps the workers it finds');
make_repo('s8', 's8.a' => noting('s8.a', 0));
$run = apply_repo('s8');
is(wait_run($run), 'succeeded', 'they still run steps');

# 9. An incremental re-run of the same range leaves the same rows: an
# INCREMENTAL_BY_TIME_RANGE step deletes its range before inserting it, so
# applying one plan twice neither duplicates nor loses a row, and the rows
# before the range stay as they were.
$node->safe_psql('postgres', q{
	CREATE TABLE public.events (event_date date NOT NULL, user_id int NOT NULL);
	INSERT INTO public.events VALUES
		('2026-01-11', 1), ('2026-01-11', 2), ('2026-01-12', 1),
		('2026-01-13', 1), ('2026-01-13', 2), ('2026-01-13', 3),
		('2026-01-14', 2), ('2026-01-14', 3), ('2026-01-15', 1), ('2026-01-16', 4);
	GRANT SELECT ON public.events TO regress_runner;
});
# i1: no model, then i1.daily writing version 1, then the same writing version 2.
sub daily_model
{
	my ($version) = @_;
	return "-- name: i1.daily\n-- kind: INCREMENTAL_BY_TIME_RANGE\n-- time_column: event_date\n"
	  . "SELECT event_date, count(*) AS events, $version AS version FROM public.events\n"
	  . "WHERE event_date BETWEEN '{{ start_date }}' AND '{{ end_date }}' GROUP BY event_date\n";
}
my $i1 = "$root/i1";
make_path($i1);
git($i1, 'init', '-q');
write_file("$i1/README.md", "i1\n");
write_file("$i1/models/README.md", "models of i1\n");
git($i1, 'add', '-A');
git($i1, 'commit', '-q', '-m', 'no models yet');
for my $version (1, 2)
{
	write_file("$i1/models/i1/daily.sql", daily_model($version));
	git($i1, 'add', '-A');
	git($i1, 'commit', '-q', '-m', "daily, version $version");
}
sub daily_rows
{
	return $node->safe_psql('postgres',
		"SELECT string_agg(event_date || ':' || events || ':' || version, ' ' ORDER BY event_date, events, version)"
		  . " FROM dev_i1.daily");
}
$run = sql("SELECT ironlayer.add_repo('i1', 'i1') > 0 AS added \\gset\n"
	  . "SELECT ironlayer.apply(ironlayer.plan('i1', 'HEAD~2', 'HEAD~1', '2026-01-13')->>'plan_id', 'dev')");
is(wait_run($run), 'succeeded', 'an incremental model is built in full up to as_of');
is(daily_rows(), '2026-01-11:2:1 2026-01-12:1:1 2026-01-13:3:1', 'with the rows up to as_of');
my $plan = sql("SELECT ironlayer.plan('i1', 'HEAD~1', 'HEAD', '2026-01-15')->>'plan_id'");
is(sql("SELECT string_agg(run_type || ' ' || start_date || '..' || end_date, ' ') FROM ironlayer.plan_steps"
		  . " WHERE plan_id = '$plan'"),
	'INCREMENTAL 2026-01-13..2026-01-15', 'its change is planned incremental, from the watermark end to as_of');
$run = sql("SELECT ironlayer.apply('$plan', 'dev')");
is(wait_run($run), 'succeeded', 'the incremental run succeeds');
my $rows = daily_rows();
is($rows, '2026-01-11:2:1 2026-01-12:1:1 2026-01-13:3:2 2026-01-14:2:2 2026-01-15:1:2',
	'it replaces the rows of its range and keeps those before it');
my $again = sql("SELECT ironlayer.apply('$plan', 'dev')");
isnt($again, $run, 'the same plan is applied again, as a new run');
is(wait_run($again), 'succeeded', 'the re-run of the same range succeeds');
is(steps($again), 'i1.daily:succeeded:1', 'its step succeeded at the first attempt');
is(daily_rows(), $rows, 'an incremental re-run of the same range leaves the same rows');
is(sql("SELECT string_agg(run_type || ' ' || start_date || '..' || end_date || ' ' || rows_affected, ', ' ORDER BY run_id)"
		  . " FROM ironlayer.run_steps WHERE run_id IN ($run, $again)"),
	'INCREMENTAL 2026-01-13..2026-01-15 3, INCREMENTAL 2026-01-13..2026-01-15 3',
	'both runs wrote the same range, three rows each');
is(sql("SELECT start_date || '..' || end_date FROM ironlayer.watermarks WHERE environment = 'dev' AND model = 'i1.daily'"),
	'0001-01-01..2026-01-15', 'the watermark covers the history up to as_of');

# 10. A run_as role without the privilege to read a source: the step fails
# cleanly with PostgreSQL's 42501, nothing of it is left, and the workers
# survive and run the next run.
$node->safe_psql('postgres', q{
	CREATE SCHEMA locked;
	CREATE TABLE locked.secret AS SELECT 7 AS x;
	GRANT USAGE ON SCHEMA locked TO regress_runner;
	REVOKE ALL ON locked.secret FROM PUBLIC;
});
my $pids = $node->safe_psql('postgres',
	"SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity WHERE backend_type = 'ironlayer worker'");
make_repo('p1', 'p1.leak' => 'SELECT x FROM locked.secret');
$log_offset = -s $node->logfile;
$run = apply_repo('p1');
is(wait_run($run), 'failed', 'a run whose run_as role may not read a source fails');
is(steps($run), 'p1.leak:failed:1', 'its step failed at the first attempt');
is(sql("SELECT error_class || ' ' || error_message FROM ironlayer.run_steps WHERE run_id = $run"),
	"42501 permission denied for table locked.secret (model p1.leak ran as role regress_runner)\n"
	  . 'Hint: Grant it SELECT on locked.secret (GRANT SELECT ON locked.secret TO regress_runner).',
	'the failure is recorded as 42501, naming the table with its schema, the role, and the GRANT it needs');
is(sql("SELECT rows_affected IS NULL AND statement_sha256 IS NULL AND lease_owner IS NULL"
		  . " FROM ironlayer.run_steps WHERE run_id = $run"),
	't', 'with no rows, statements or lease');
is($node->safe_psql('postgres', "SELECT to_regclass('dev_p1.leak') IS NULL AND to_regnamespace('dev_p1') IS NULL"),
	't', 'nothing of the failed step was created, not even its schema');
my $log = slurp_file($node->logfile, $log_offset);
like($log, qr/step \w+ of run $run failed with SQLSTATE 42501/, 'the server log names the SQLSTATE');
unlike($log, qr/permission denied/, 'but not the message');
is($node->safe_psql('postgres',
		"SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity WHERE backend_type = 'ironlayer worker'"),
	$pids, 'the workers survive the failure: the same processes');
is(workers(), '2', 'as many as configured');
$node->safe_psql('postgres', 'GRANT SELECT ON locked.secret TO regress_runner');
$retry = sql("SELECT ironlayer.retry($run)");
is(wait_run($retry), 'succeeded', 'a later run succeeds once the role may read the source');
is($node->safe_psql('postgres', 'SELECT string_agg(x::text, \',\') FROM dev_p1.leak'), '7', 'and builds the model');

# The stored error of a failed step carries its hint, after its message.
make_repo('p2', 'p2.ins' => 'INSERT INTO p2.ins SELECT 1');
$run = apply_repo('p2');
is(wait_run($run), 'failed', 'a model that is not a query fails');
is(sql("SELECT error_class || ' ' || error_message FROM ironlayer.run_steps WHERE run_id = $run"),
	"0A000 model p2.ins is not a query: its statement is INSERT, and the postgres executor runs queries only\n"
	  . 'Hint: Write the model as one query (SELECT, VALUES or WITH ... SELECT): the executor creates, fills or merges its table itself.',
	'the stored error is the message and the hint');

# 11. Without the extension the workers stop, and the launcher waits.
$node->safe_psql('postgres', 'DROP EXTENSION ironlayer CASCADE');
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'ironlayer worker'"),
	'the workers stop when the extension is dropped');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'ironlayer launcher'"),
	'1', 'the launcher stays, waiting');

$node->stop;
done_testing();
