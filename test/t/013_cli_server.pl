# The command driving a server: every server subcommand of `ironlayer`
# against a real cluster whose background workers run the steps. A first
# deployment to dev, a refresh, a backfill, a prod plan through its gate
# (refused, approved by another engineer, rejected), runs and their steps,
# a failed run (exit 1, the failed step named with its error), retry,
# cancel, schedules; the tenant chosen or asked for; --json parsed back;
# exit statuses 0, 1 and 2; the progress display redrawn in place under a
# pseudo-terminal and plain lines without one.
use strict;
use warnings;
use File::Path qw(make_path remove_tree);
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RepoUtil;

my $cli = $ENV{IRONLAYER_CLI} or die "IRONLAYER_CLI is not set";
my $root = "$PostgreSQL::Test::Utils::tmp_check/repos";
make_path($root);
my $repo = "$root/cli_shop";
remove_tree($repo);
remove_tree("$root/cli_broken");
remove_tree("$root/cli_slow");

my $node = PostgreSQL::Test::Cluster->new('cli_server');
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

# shop: raw.orders loads source rows by day; marts.daily sums them (and
# takes a second, so that a follower sees the run go on).
model_repo($repo,
	'raw.orders' => "-- kind: INCREMENTAL_BY_TIME_RANGE\n-- time_column: order_date\n"
	  . "SELECT id, amount, order_date FROM src.orders\n"
	  . "WHERE order_date BETWEEN '{{ start_date }}' AND '{{ end_date }}'",
	'marts.daily' => "SELECT o.order_date, count(*) AS orders FROM raw.orders o\n"
	  . "CROSS JOIN (SELECT pg_sleep(1.5) AS s) w GROUP BY o.order_date");
# broken: its second model divides by zero; slow: one model of 20 seconds.
model_repo("$root/cli_broken",
	'raw.fine' => "SELECT 1 AS x",
	'raw.bad' => "SELECT 1 / (x - 1) AS y FROM raw.fine");
# hostile: its model's error quotes terminal control sequences (a cast of
# text holding ESC, BEL, CR and a C1 CSI)
model_repo("$root/cli_hostile",
	'raw.esc' => "SELECT (chr(27) || '[2J' || chr(27) || ']0;pwned' || chr(7) || chr(13) || chr(155) || '31m')::int AS y");
model_repo("$root/cli_slow",
	'raw.slow' => "SELECT 1 AS x FROM (SELECT pg_sleep(20) AS s) w");

$node->safe_psql('postgres', q{
CREATE EXTENSION ironlayer;
CREATE EXTENSION pg_cron;
CREATE ROLE regress_admin LOGIN;
CREATE ROLE regress_eng1 LOGIN;
CREATE ROLE regress_eng2 LOGIN;
CREATE ROLE regress_nobody LOGIN;
CREATE ROLE regress_lonely LOGIN;
CREATE ROLE regress_viewer LOGIN;
GRANT ironlayer_admin TO regress_admin;
GRANT ironlayer_engineer TO regress_eng1, regress_eng2, regress_lonely;
GRANT ironlayer_viewer TO regress_viewer;
CREATE SCHEMA src;
CREATE TABLE src.orders (id int PRIMARY KEY, amount numeric NOT NULL, order_date date NOT NULL);
INSERT INTO src.orders SELECT i, i * 10, DATE '2025-06-01' + (i % 14) FROM generate_series(1, 70) i;
SET ROLE regress_admin;
SELECT ironlayer.create_tenant('t');
SELECT ironlayer.create_tenant('t2');
SELECT ironlayer.add_member('t', 'regress_eng1', 'engineer');
SELECT ironlayer.add_member('t', 'regress_eng2', 'engineer');
SELECT ironlayer.add_member('t2', 'regress_eng2', 'engineer');
SELECT ironlayer.add_member('t', 'regress_viewer', 'viewer');
SELECT ironlayer.use_tenant('t');
SELECT ironlayer.add_repo('shop', 'cli_shop');
SELECT ironlayer.add_repo('broken', 'cli_broken');
SELECT ironlayer.add_repo('slow', 'cli_slow');
SELECT ironlayer.add_repo('hostile', 'cli_hostile');
RESET ROLE;
});
# the environments' roles may read the source (as a DBA grants it)
for my $role (split /\n/, $node->safe_psql('postgres',
		"SELECT run_as FROM ironlayer.environments e JOIN ironlayer.tenants t USING (tenant_id) WHERE t.name = 't'"))
{
	$node->safe_psql('postgres', qq{GRANT USAGE ON SCHEMA src TO "$role"; GRANT SELECT ON src.orders TO "$role";});
}

$ENV{PGHOST} = $node->host;
$ENV{PGPORT} = $node->port;
$ENV{PGDATABASE} = 'postgres';
delete $ENV{IRONLAYER_TENANT};

# Runs the command as ROLE (PGUSER): returns (exit status, stdout, stderr).
sub cli_as
{
	my ($role, @args) = @_;
	my ($out, $err) = ('', '');
	local $ENV{PGUSER} = $role;
	IPC::Run::run([ $cli, @args ], '<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

sub cli { return cli_as('regress_eng1', @_); }

# Runs the command and parses its stdout as one JSON document.
sub cli_json
{
	my ($role, @args) = @_;
	my ($rc, $out, $err) = cli_as($role, @args, '--json');
	my $doc = eval { JSON::PP->new->decode($out) };
	ok(defined $doc, "@args --json prints one JSON document") or diag("rc $rc\nout: $out\nerr: $err");
	return ($rc, $doc, $err);
}

# --- help and usage --------------------------------------------------------
my ($rc, $out, $err) = cli('--help');
is($rc, 0, '--help exits 0');
for my $c (qw(plan backfill show approve reject apply runs retry cancel schedule credential parse models diff lineage))
{
	like($out, qr/ironlayer $c\b/, "--help lists $c");
	my ($hrc, $hout) = cli($c, '--help');
	is($hrc, 0, "$c --help exits 0");
	like($hout, qr/Usage/, "$c --help prints its usage");
}
($rc, $out) = cli('plan', '--help');
like($out, qr/--env ENV.*Offline/s, 'plan --help shows the server form and the offline form');

for my $bad ([ 'show' ], [ 'show', 'abcd1234', '--bogus' ], [ 'plan', 'shop', '--env' ],
	[ 'plan', 'shop', '--env', 'dev', '--as-of', '2025-13-01' ],
	[ 'plan', 'shop', '--env', 'dev', '--lookback-days', 'ten' ],
	[ 'backfill', 'shop', 'raw.orders', '--env', 'dev', '--start', '2025-06-01' ],
	[ 'reject', 'abcd1234' ], [ 'apply', 'abcd1234', '--timeout', '5' ],
	[ 'runs', '--limit', '0' ], [ 'runs', 'x1' ], [ 'cancel' ], [ 'retry', '-3' ],
	[ 'schedule', 'add', 'n', '--cron', '* * * * *', '--repo', 'shop', '--env', 'dev' ],
	[ 'schedule', 'frobnicate' ])
{
	($rc, $out, $err) = cli(@$bad);
	is($rc, 2, "bad usage exits 2: @$bad");
	like($err, qr/^ironlayer: /, "bad usage says why: @$bad");
	is($out, '', "bad usage prints nothing on stdout: @$bad");
}

# --- connection and tenant -------------------------------------------------
($rc, $out, $err) = cli('runs', '--db', 'host=/nonexistent port=1 dbname=postgres connect_timeout=2');
is($rc, 1, 'a connection failure exits 1');
like($err, qr/^ironlayer: could not connect/, 'a connection failure says so');
($rc, $out, $err) = cli_as('regress_eng2', 'runs');
is($rc, 2, 'a member of two tenants without --tenant exits 2');
like($err, qr/t, t2|t t2/, 'it names the tenants');
like($err, qr/--tenant/, 'it says to pass --tenant');
($rc, $out, $err) = cli_as('regress_lonely', 'runs');
is($rc, 2, 'a member of no tenant exits 2');
like($err, qr/member of no tenant.*\nHINT: Pass --tenant/s, 'and is told to pass --tenant');
($rc) = cli_as('regress_eng2', 'runs', '--tenant', 't');
is($rc, 0, '--tenant chooses the tenant');
{
	local $ENV{IRONLAYER_TENANT} = 't2';
	($rc) = cli_as('regress_eng2', 'runs');
	is($rc, 0, 'IRONLAYER_TENANT chooses the tenant');
}
($rc, $out, $err) = cli('runs', '--tenant', 'nope');
is($rc, 1, 'an unknown tenant exits 1');
like($err, qr/^ironlayer: .* \[SQLSTATE [0-9A-Z]{5}\]$/m, 'a server error carries its SQLSTATE');
my $connstr = $node->connstr('postgres') . ' user=regress_eng1';
($rc) = cli_as('regress_nobody', 'runs', '--db', $connstr);
is($rc, 0, '--db CONNINFO is the connection');

# --- a first deployment to dev -------------------------------------------------
($rc, $out, $err) = cli('plan', 'shop', '--env', 'dev', '--as-of', '2025-06-15');
is($rc, 0, 'plan --env exits 0') or diag($err);
my ($dev_plan) = $out =~ /^plan\s+([0-9a-f]{64})$/m;
ok($dev_plan, 'plan prints the plan id in its header');
like($out, qr/^kind\s+change$/m, 'the header has the kind');
like($out, qr/^environment\s+dev$/m, 'the header has the environment');
like($out, qr/^step\s+group\s+model\s+run type\s+range\s+reason$/m, 'the steps table has its headings');
like($out, qr/^1\s+0\s+raw\.orders\s+FULL_REFRESH\s+-\s+new model added$/m, 'raw.orders is step 1 (a new model: no range)');
like($out, qr/^2\s+1\s+marts\.daily\s/m, 'marts.daily is step 2 in group 1');

my ($jrc, $plan) = cli_json('regress_eng1', 'plan', 'shop', '--env', 'dev', '--as-of', '2025-06-15');
is($jrc, 0, 'plan --json exits 0');
is($plan->{plan_id}, $dev_plan, 'plan --json is the same plan (same id)');
is(scalar @{ $plan->{steps} }, 2, 'the plan text has its two steps');
# the bytes: as the server stores them
($rc, $out) = cli('plan', 'shop', '--env', 'dev', '--as-of', '2025-06-15', '--json');
my $stored = $node->safe_psql('postgres', "SELECT plan FROM ironlayer.plans WHERE plan_id = '$dev_plan'");
is($out, "$stored\n", 'plan --json prints the canonical text exactly');

($rc, $out) = cli('show', substr($dev_plan, 0, 10));
is($rc, 0, 'show PREFIX exits 0');
like($out, qr/^plan\s+$dev_plan$/m, 'show names the plan of the prefix');
my ($src, $show) = cli_json('regress_eng1', 'show', $dev_plan);
is($show->{kind}, 'change', 'show --json: kind');
is($show->{repository}, 'shop', 'show --json: repository');
is($show->{as_of}, '2025-06-15', 'show --json: as_of');
is_deeply([ map { $_->{model} } @{ $show->{steps} } ], [ 'raw.orders', 'marts.daily' ], 'show --json: steps in plan order');
is($show->{steps}[0]{step}, 1, 'show --json: step numbers are numbers');
is_deeply($show->{cosmetic_changes_skipped}, [], 'show --json: no cosmetic changes skipped');
is_deeply($show->{unknown_references}, [], 'show --json: no unknown references');
($rc, $out, $err) = cli('show', '0000000000');
is($rc, 1, 'show of an unknown plan exits 1');
like($err, qr/^ironlayer: plan 0000000000 does not exist \[SQLSTATE 42704\]$/m, 'show says which plan does not exist');
like($err, qr/^HINT: /m, 'with the server\'s hint');

# apply --wait without a terminal: plain lines
($rc, $out, $err) = cli('apply', substr($dev_plan, 0, 12), '--wait', '--timeout', '120');
is($rc, 0, 'apply --wait of a run that succeeds exits 0') or diag("$out\n$err");
my ($dev_run) = $out =~ /^run (\d+) started: plan [0-9a-f]{12} in dev$/m;
ok($dev_run, 'apply --wait names the run it started');
unlike($out, qr/[\r\e]/, 'without a terminal: no carriage return, no escape sequence');
like($out, qr/^run $dev_run running: \d\/2 steps done, \d running, 0 failed, 0 skipped, [\d.]+ s elapsed$/m,
	'without a terminal: plain status lines');
like($out, qr/\nrun $dev_run succeeded: 2 steps, 2 succeeded, 0 failed, 0 skipped, 0 cancelled \([\d.]+ s\)\n\z/,
	'the last line is the final state');

# runs
($rc, $out) = cli('runs');
is($rc, 0, 'runs exits 0');
like($out, qr/^run\s+state\s+repository\s+environment\s+plan\s+steps/m, 'runs prints its headings');
like($out, qr/^$dev_run\s+succeeded\s+shop\s+dev\s+[0-9a-f]{12}\s+2\s+2\s+0\s+0\s/m, 'runs lists the run');
my ($rrc, $runs) = cli_json('regress_eng1', 'runs', '--env', 'dev', '--repo', 'shop', '--limit', '5');
is(ref $runs, 'ARRAY', 'runs --json is an array');
is($runs->[0]{run_id}, $dev_run, 'runs --json: the newest first');
is($runs->[0]{plan_id}, $dev_plan, 'runs --json: full plan id');
($rrc, $runs) = cli_json('regress_eng1', 'runs', '--env', 'prod');
is_deeply($runs, [], 'runs --env prod: none yet');
($rc, $out) = cli('runs', $dev_run);
is($rc, 0, 'runs RUN_ID exits 0');
like($out, qr/^run\s+$dev_run \(succeeded\)$/m, 'runs RUN_ID: the run and its state');
like($out, qr/^2\s+marts\.daily\s+\S+\s+succeeded\s/m, 'runs RUN_ID: its steps');
my ($orc, $one) = cli_json('regress_eng1', 'runs', $dev_run);
is($one->{state}, 'succeeded', 'runs RUN_ID --json: state');
is($one->{steps}, 2, 'runs RUN_ID --json: its step count');
is_deeply([ map { $_->{model} } @{ $one->{run_steps} } ], [ 'raw.orders', 'marts.daily' ], 'runs RUN_ID --json: its steps');
($rc, $out, $err) = cli('runs', '999999');
is($rc, 1, 'runs of an unknown run exits 1');

# a cosmetic change (a comment, spacing): show lists it as skipped; --base and HEAD
write_file("$repo/models/marts/daily.sql", "-- name: marts.daily\n-- kind: FULL_REFRESH\n"
	  . "-- the orders of each day\nSELECT   o.order_date,  count(*) AS orders FROM raw.orders o\n"
	  . "CROSS JOIN (SELECT pg_sleep(1.5) AS s) w\nGROUP BY o.order_date\n");
git($repo, 'commit', '-q', '-am', 'a comment');
($rc, $out, $err) = cli('plan', 'shop', 'HEAD', '--env', 'dev', '--base', 'HEAD~1', '--as-of', '2025-06-15');
is($rc, 0, 'plan HEAD --base COMMIT exits 0') or diag($err);
like($out, qr/^steps\s+0$/m, 'a cosmetic change has no step');
like($out, qr/^cosmetic changes skipped: marts\.daily$/m, 'show names the cosmetic change it skipped');
my ($cosmetic) = $out =~ /^plan\s+([0-9a-f]{64})$/m;
my ($crc, $cshow) = cli_json('regress_eng1', 'show', $cosmetic);
is_deeply($cshow->{cosmetic_changes_skipped}, [ 'marts.daily' ], 'show --json: cosmetic_changes_skipped');
is_deeply($cshow->{steps}, [], 'show --json: no steps');

# --- a refresh and a backfill ---------------------------------------------------
my ($frc, $refresh) = cli_json('regress_eng1', 'plan', 'shop', '--refresh', '--env', 'dev', '--as-of', '2025-06-17',
	'--recompute-days', '2');
is($frc, 0, 'plan --refresh exits 0');
my ($krc, $kshow) = cli_json('regress_eng1', 'show', $refresh->{plan_id});
is($kshow->{kind}, 'refresh', 'plan --refresh makes a refresh plan');
like($kshow->{steps}[0]{input_range}, qr/^2025-06-\d\d \.\. 2025-06-17$/, 'its first step has a range');
ok(scalar @{ $refresh->{steps} } >= 1, 'the refresh has steps due');
($rc, $out) = cli('apply', $refresh->{plan_id}, '--wait', '--timeout', '120');
is($rc, 0, 'the refresh runs') or diag($out);

($rc, $out, $err) = cli('backfill', 'shop', 'raw.orders', '--env', 'dev', '--start', '2025-06-01', '--end', '2025-06-10',
	'--batch-days', '5', '--as-of', '2025-06-17');
is($rc, 0, 'backfill exits 0') or diag($err);
like($out, qr/^kind\s+backfill$/m, 'backfill prints a backfill plan');
like($out, qr/raw\.orders\s+\S+\s+2025-06-01 \.\. 2025-06-05/, 'the first batch');
like($out, qr/raw\.orders\s+\S+\s+2025-06-06 \.\. 2025-06-10/, 'the second batch');
my ($backfill) = $out =~ /^plan\s+([0-9a-f]{64})$/m;
my ($arc, $done) = cli_json('regress_eng1', 'apply', $backfill, '--wait', '--timeout', '120');
is($arc, 0, 'apply --wait --json of the backfill exits 0');
is($done->{state}, 'succeeded', 'apply --wait --json: the final state');
is_deeply($done->{failed_steps}, [], 'apply --wait --json: no failed step');

# --- prod: the gate -----------------------------------------------------------
($rc, $out, $err) = cli('plan', 'shop', '--env', 'prod', '--as-of', '2025-06-15');
is($rc, 0, 'plan for prod');
my ($prod_plan) = $out =~ /^plan\s+([0-9a-f]{64})$/m;
($rc, $out, $err) = cli('apply', $prod_plan);
is($rc, 1, 'apply of a plan not approved exits 1');
like($err, qr/is not approved for prod \[SQLSTATE 42501\]/, 'and says why, with the SQLSTATE');
like($err, qr/^HINT: /m, 'and the server\'s hint');
($rc, $out, $err) = cli('approve', $prod_plan);
is($rc, 1, 'the author cannot approve the plan in prod');
like($err, qr/cannot approve/, 'and is told so');
my ($aprc, $approval) = cli_json('regress_eng2', 'approve', substr($prod_plan, 0, 8), '--comment', 'looks right',
	'--tenant', 't');
is($aprc, 0, 'another engineer approves (plan prefix, environment from the plan)');
is($approval->{environment}, 'prod', 'approve --json: the plan\'s environment');
is($approval->{decision}, 'approve', 'approve --json: the decision');

# apply --wait on a terminal: one status line redrawn in place
{
	local $ENV{PGUSER} = 'regress_eng1';
	my ($in, $tty) = ('', '');
	IPC::Run::run([ $cli, 'apply', $prod_plan, '--wait', '--timeout', '120' ],
		'<pty<', \$in, '>pty>', \$tty);
	is($? >> 8, 0, 'apply --wait on a terminal exits 0');
	my @draws = $tty =~ /\r(run \d+ (?:pending|running|succeeded): \d\/2 steps done[^\r\n]*?)\e\[K/g;
	cmp_ok(scalar @draws, '>=', 2, 'on a terminal the status line is drawn again in place ('
		  . scalar(@draws) . ' times)') or diag($tty);
	like($tty, qr/^run \d+ succeeded: 2 steps, 2 succeeded/m, 'then the final line');
}

# reject: a second prod plan, rejected, cannot be applied
($rc, $out) = cli('plan', 'shop', '--env', 'prod', '--as-of', '2025-06-16', '--full-refresh', 'raw.orders');
my ($prod2) = $out =~ /^plan\s+([0-9a-f]{64})$/m;
($rc, $out, $err) = cli('reject', $prod2, '--reason', 'not this week');
is($rc, 0, 'reject exits 0');
like($out, qr/^rejected plan $prod2 in prod$/m, 'reject says what it did');
($rc, $out, $err) = cli_as('regress_eng2', 'approve', $prod2, '--tenant', 't');
is($rc, 1, 'a rejected plan cannot be approved');
like($err, qr/was rejected in prod \[SQLSTATE 55000\]/, 'and is told so');

# --- a failed run, retry, cancel -------------------------------------------------
($rc, $out) = cli('plan', 'broken', '--env', 'dev', '--as-of', '2025-06-15');
my ($broken) = $out =~ /^plan\s+([0-9a-f]{64})$/m;
($rc, $out, $err) = cli('apply', $broken, '--wait', '--timeout', '120');
is($rc, 1, 'apply --wait of a run that fails exits 1');
note($out);
my ($failed_run) = $out =~ /^run (\d+) started/m;
like($out, qr/^run $failed_run failed: 2 steps, 1 succeeded, 1 failed, 0 skipped, 0 cancelled/m, 'the final line says failed');
like($out, qr/^failed step 2: raw\.bad: .*division by zero/m, 'it names the failed step and its error');
($rc, $out) = cli('runs', $failed_run);
like($out, qr/^2\s+raw\.bad\s+\S+\s+failed\s.*division by zero/m, 'runs RUN_ID shows the stored error');
my ($rtc, $retry) = cli_json('regress_eng1', 'retry', $failed_run);
is($rtc, 0, 'retry exits 0');
is($retry->{retry_of}, $failed_run, 'retry --json: the run it retries');
like($retry->{run_id}, qr/^\d+$/, 'retry --json: the new run');

# a hostile model's error reaches the terminal with its control characters
# shown, never sent (ESC, BEL, CR, C1 CSI: a cleared screen, a window
# title, an overwritten line); --json keeps the exact text
($rc, $out) = cli('plan', 'hostile', '--env', 'dev', '--as-of', '2025-06-15');
my ($hostile) = $out =~ /^plan\s+([0-9a-f]{64})$/m;
($rc, $out, $err) = cli('apply', $hostile, '--wait', '--timeout', '120');
is($rc, 1, 'apply --wait of a hostile model exits 1');
my ($hostile_run) = $out =~ /^run (\d+) started/m;
like($out, qr/^failed step 1: raw\.esc: .*\\x1b\[2J\\x1b\]0;pwned\\x07\\x0d\\u009b31m/m,
	'apply --wait: the error\'s control characters are shown escaped');
unlike($out, qr/[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]/, 'apply --wait: no control character reaches the terminal');
($rc, $out) = cli('runs', $hostile_run);
like($out, qr/^1\s+raw\.esc\s.*failed\s.*\\x1b\[2J/m, 'runs RUN_ID: the error shown escaped');
unlike($out, qr/[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]/, 'runs RUN_ID: no control character reaches the terminal');
my ($hrc, $hdoc) = cli_json('regress_eng1', 'runs', $hostile_run);
like($hdoc->{run_steps}[0]{error_message}, qr/\x1b\[2J\x1b\]0;pwned\x07\r(?:\x{9b}|\xc2\x9b)31m/, 'runs RUN_ID --json: the exact text');
($rc, $out, $err) = cli('schedule', 'add', 'esc', '--cron', "\e]0;pwned\a", '--repo', 'shop', '--env', 'dev', '--refresh');
is($rc, 1, 'a server error quoting control characters exits 1');
like($err, qr/invalid cron schedule "\\x1b\]0;pwned\\x07"/, 'its message shows them escaped');
unlike($err, qr/[\x00-\x09\x0b-\x1f\x7f]/, 'and sends none to the terminal');

# Waits (in SQL) until run ID ends; returns its state.
sub wait_run
{
	my ($id) = @_;
	return $node->safe_psql('postgres',
		"SET ROLE regress_eng1; SELECT FROM ironlayer.use_tenant('t'); SELECT ironlayer.wait($id, '60 s')");
}
is(wait_run($retry->{run_id}), 'failed', 'the retry fails as the run did');
($rc, $out) = cli('apply', $broken);
is($rc, 0, 'apply without --wait exits 0');
like($out, qr/^\d+\n\z/, 'apply without --wait prints the run id');
chomp(my $again = $out);
wait_run($again);

($rc, $out) = cli('plan', 'slow', '--env', 'dev', '--as-of', '2025-06-15');
my ($slow) = $out =~ /^plan\s+([0-9a-f]{64})$/m;
# interrupted: the command stops following, the run goes on
{
	local $ENV{PGUSER} = 'regress_eng1';
	my ($in, $o, $e) = ('', '', '');
	my $h = IPC::Run::start([ $cli, 'apply', $slow, '--wait' ], '<', \$in, '>', \$o, '2>', \$e,
		IPC::Run::timeout(60));
	IPC::Run::pump($h) until $o =~ /running: /;
	$h->signal('INT');
	$h->finish;
	is($h->result(0), 1, 'apply --wait interrupted exits 1');
	like($e, qr/^ironlayer: interrupted: stopped following run \d+ \(the run goes on\)$/m, 'and says the run goes on');
	($out) = $o;
}
my ($slow_run) = $out =~ /^run (\d+) started/m;
($rc, $out) = cli('runs', $slow_run);
like($out, qr/^run\s+$slow_run \(running\)$/m, 'the run goes on');
($rc, $out, $err) = cli('runs', $slow_run, '--wait', '--timeout', '2');
is($rc, 1, 'runs RUN_ID --wait past --timeout exits 1');
like($out, qr/^run $slow_run is still running after 2 s: stopped waiting \(the run goes on\)$/m, 'and says it stopped waiting');
like($err, qr/timed out after 2 s/, 'and why on stderr');
($rc, $out, $err) = cli('apply', $slow);
is($rc, 1, 'a second active run of the repository is refused');
($rc, $out, $err) = cli('retry', $slow_run);
is($rc, 1, 'retry of a running run exits 1');
like($err, qr/only a failed or cancelled run is retried \[SQLSTATE 55000\]/, 'and says why');
($rc, $out, $err) = cli('cancel', $slow_run);
is($rc, 0, 'cancel exits 0');
like($out, qr/^run $slow_run (cancelling|cancelled)$/m, 'cancel prints the state');
($rc, $out) = cli('cancel', $slow_run, '--json');
like($out, qr/^\{"run_id":$slow_run,"state":"cancell(ing|ed)"\}$/, 'cancel --json');

# a viewer refused an engineer's function by PostgreSQL itself (no EXECUTE):
# the command says what is missing and who can help
($rc, $out, $err) = cli_as('regress_viewer', 'cancel', '1');
is($rc, 1, 'a viewer cancelling a run: exit 1');
like($err, qr/permission denied for function cancel \[SQLSTATE 42501\]\nHINT: Your role lacks the cluster role.*tenant_role = 'admin'/s,
	'PostgreSQL\'s refusal of EXECUTE gets a hint naming the cluster roles and the tenant\'s admins');

# --- schedules --------------------------------------------------------------
($rc, $out, $err) = cli('schedule', 'add', 'nightly', '--cron', '0 0 1 1 *', '--repo', 'shop', '--env', 'dev',
	'--refresh', '--recompute-days', '2');
is($rc, 0, 'schedule add exits 0') or diag($err);
($rc, $out, $err) = cli('schedule', 'add', 'deploy-main', '--cron', '0 0 1 1 *', '--repo', 'shop', '--env', 'dev',
	'--deploy', 'main', '--json');
is($rc, 0, 'schedule add --deploy exits 0') or diag($err);
($rc, $out) = cli('schedule', 'list');
like($out, qr/^deploy-main\s+0 0 1 1 \*\s+deploy\s+shop\s+dev\s+main\s/m, 'schedule list: the deploy schedule');
like($out, qr/^nightly\s+0 0 1 1 \*\s+refresh\s+shop\s+dev\s/m, 'schedule list: the refresh schedule');
my ($slc, $list) = cli_json('regress_eng1', 'schedule', 'list');
is_deeply([ map { $_->{name} } @$list ], [ 'deploy-main', 'nightly' ], 'schedule list --json');
is($list->[1]{spec}{recompute_days}, 2, 'schedule list --json: the spec as JSON');
($rc, $out, $err) = cli('schedule', 'add', 'bad', '--cron', '0 0 1 1 *', '--repo', 'nope', '--env', 'dev', '--refresh');
is($rc, 1, 'schedule add of an unknown repository exits 1');
like($err, qr/repository "nope" does not exist \[SQLSTATE 42704\]/, 'and names it');
($rc, $out) = cli('schedule', 'remove', 'nightly');
is($rc, 0, 'schedule remove exits 0');
($rc, $out, $err) = cli('schedule', 'remove', 'nightly');
is($rc, 1, 'removing a schedule that does not exist exits 1');
($slc, $list) = cli_json('regress_eng1', 'schedule', 'list');
is(scalar @$list, 1, 'one schedule left');

$node->stop;
done_testing();
