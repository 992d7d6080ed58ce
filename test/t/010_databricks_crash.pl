# Exactly once on the warehouse, whatever dies: the dispatcher is killed
# with SIGKILL again and again while statements are in flight (each time
# the postmaster restarts every process, and the new dispatcher reconciles
# the statements it finds submitting or running: by statement id, else in
# query history), and the run still completes with every table holding
# its rows exactly once. The emulator counts the executions of each
# request id: every statement ran once, counting the request ids a
# re-send left behind.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use Time::HiRes qw(time usleep);
use Emulator;
use DbxUtil;

my $emu = dbx_emulator(latency_ms => 400);
my $node = dbx_node('crash', $emu);
dbx_tenant($node);
dbx_env($node, $emu, 'prod');

# 18 models in chains of three: APPEND_ONLY without a time column (only
# rows not there yet are added), INCREMENTAL_BY_TIME_RANGE (the step's
# range replaced) and FULL_REFRESH, each reading the one before.
my %models;
for my $i (1 .. 6)
{
	$models{"c$i.app"} = "-- kind: APPEND_ONLY\nSELECT * FROM (VALUES ($i, 'a'), ($i, 'b'), ($i, 'c')) AS t(k, v)";
	$models{"c$i.inc"} = "-- kind: INCREMENTAL_BY_TIME_RANGE\n-- time_column: d\n"
	  . "SELECT d, k, v FROM (SELECT DATE'2026-01-15' AS d, k, v FROM c$i.app) q"
	  . " WHERE d BETWEEN '{{ start_date }}' AND '{{ end_date }}'";
	$models{"c$i.full"} = "SELECT k, count(*) AS n FROM c$i.inc GROUP BY k";
}
models_repo($node, 'r', %models);

my $run = apply_repo($node, 'r', 'prod');
my $kills = 0;
my $deadline = time + 90;
while ($kills < 4 && time < $deadline)
{
	my $pid = dispatcher_pid($node);
	# statements in flight: wait for some, then kill
	$node->poll_query_until('postgres',
		"SELECT count(*) > 0 FROM ironlayer.remote_statements WHERE state IN ('submitting', 'running')")
	  or last;
	usleep(150_000 + int(rand(300_000)));
	kill 'KILL', $pid;
	$kills++;
	# the postmaster restarts everything; wait until it serves again
	$node->poll_query_until('postgres', 'SELECT 1', '1') or die 'the cluster did not come back';
}
cmp_ok($kills, '>=', 3, "the dispatcher was killed $kills times with statements in flight");
is(wait_run($node, $run, '180 s'), 'succeeded', 'the run completes') or diag(statements($node, $run));
is(steps($node, $run), join(' ', map { "$_:succeeded" } sort keys %models), 'every step succeeded');

# every table holds its rows once
for my $i (1 .. 6)
{
	is(emu_rows($emu, "lake.prod_c$i.app"), "$i|a\n$i|b\n$i|c", "c$i.app holds its three rows once");
	is(emu_rows($emu, "lake.prod_c$i.inc"), "2026-01-15|$i|a\n2026-01-15|$i|b\n2026-01-15|$i|c",
		"c$i.inc holds its range once");
	is(emu_rows($emu, "lake.prod_c$i.full"), "$i|3", "c$i.full counts three rows");
}

# every statement was executed once on the warehouse, under whichever request id
my $exec = $emu->control('GET', 'executions')->{executions};
my @twice;
my @never;
for my $line (split /\n/, sql($node, "SELECT remote_state || ',' || request_id || ',' || array_to_string(prior_request_ids, ',')"
		  . " FROM ironlayer.remote_statements WHERE run_id = $run"))
{
	my ($remote_state, @ids) = split /,/, $line;
	my $n = 0;
	$n += $exec->{$_} // 0 for @ids;
	push @twice, $line if $n > 1;
	# a CREATE SCHEMA the dispatcher saw succeed already is not sent again
	push @never, $line if $n < 1 && $remote_state ne 'SKIPPED';
}
is(scalar(@twice), 0, 'no statement was executed twice') or diag(join("\n", @twice));
is(scalar(@never), 0, 'every statement was executed (but schemas known to exist)') or diag(join("\n", @never));
is(sql($node, "SELECT count(*) FROM ironlayer.remote_statements WHERE run_id = $run AND state <> 'succeeded'"),
	'0', 'every remote statement succeeded');
like(slurp_file($node->logfile), qr/ironlayer dispatcher reconciles statement/,
	'a restarted dispatcher reconciled statements it found in flight');

$node->stop;
$emu->stop;
done_testing();
