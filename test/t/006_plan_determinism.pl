# The planner's promise: the same two commits (or one, for refresh and
# backfill plans), watermarks and options give the same plan bytes anywhere. Plans the same inputs in two clusters made
# differently (other OIDs, watermark rows inserted in another order, an ICU
# collation and another DateStyle in the second), compares the bytes with
# each other and with `ironlayer plan`, and recomputes every step_id and the
# plan_id from the text with Python, independently of the planner's code.
use strict;
use warnings;
use File::Path qw(make_path);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $bindir = $ENV{PGBIN} or die "PGBIN is not set";
my $testdir = $ENV{TESTDIR} or die "TESTDIR is not set";
my $cli = $ENV{IRONLAYER_CLI} or die "IRONLAYER_CLI is not set";

# repositories: the fixtures and a generated one of 400 models with 1 % changed
my $root = "$PostgreSQL::Test::Utils::tmp_check/repos";
make_path($root);
system('bash', "$testdir/repos/fixtures.sh", $root) == 0 or die "fixtures failed";
my $gen = "$testdir/bench/run_repo";
my $have_gen = -x $gen;
if ($have_gen)
{
	system("$gen --generate $root/gen 400 --change random1pct --seed 7 >/dev/null") == 0 or die "generator failed";
}

my $as_of = '2026-02-01';
my @wm = (
	[ 'dev', 'staging.orders', '2025-11-01', '2026-01-20' ],
	[ 'dev', 'marts.daily_events', '2025-12-01', '2026-01-25' ],
	[ 'dev', 'raw.events', '2025-10-01', '2026-01-31' ],
	[ 'prod', 'staging.orders', '2024-01-01', '2025-06-30' ],
);
my @options = ('{}', '{"environment": "prod", "lookback_days": 90}',
	'{"skip_cosmetic": false, "full_refresh": ["raw.events"]}');

sub setup
{
	my ($node, $reverse) = @_;
	my $sql = "SELECT ironlayer.create_tenant('det');\nSELECT ironlayer.use_tenant('det');\n"
	  . "SELECT ironlayer.add_repo('shop', 'shop');\n";
	$sql .= "SELECT ironlayer.add_repo('gen', 'gen');\n" if $have_gen;
	my @rows = $reverse ? reverse(@wm) : @wm;
	$sql .= "SELECT ironlayer.set_watermark('shop', '$_->[0]', '$_->[1]', '$_->[2]', '$_->[3]');\n" for @rows;
	$node->safe_psql('postgres', $sql);
}

sub plan_text
{
	my ($node, $repo, $base, $head, $options) = @_;
	return $node->safe_psql('postgres',
		"SELECT FROM ironlayer.use_tenant('det');\n"
		  . "SELECT ironlayer.plan('$repo', '$base', '$head', '$as_of', '$options')");
}

my $a = PostgreSQL::Test::Cluster->new('a');
$a->init;
$a->append_conf('postgresql.conf', "shared_preload_libraries = 'ironlayer'\nironlayer.repo_root = '$root'\n");
$a->start;
$a->safe_psql('postgres', 'CREATE EXTENSION ironlayer');
setup($a, 0);

my $b = PostgreSQL::Test::Cluster->new('b');
$b->init(extra => [ '--locale-provider=icu', '--icu-locale=en-US', '--locale=C.UTF-8' ]);
$b->append_conf('postgresql.conf', "shared_preload_libraries = 'ironlayer'\nironlayer.repo_root = '$root'\n"
	  . "DateStyle = 'SQL, DMY'\nTimeZone = 'Pacific/Kiritimati'\nextra_float_digits = 0\n");
$b->start;
# other OIDs: objects made before the extension
$b->safe_psql('postgres', join('', map { "CREATE TABLE pad_$_ (a int); CREATE FUNCTION padf_$_() RETURNS int LANGUAGE sql AS 'SELECT $_';\n" } 1 .. 40));
$b->safe_psql('postgres', 'CREATE EXTENSION ironlayer');
setup($b, 1);
is($b->safe_psql('postgres', "SELECT datlocprovider FROM pg_database WHERE datname = 'postgres'"), 'i',
	'the second cluster collates with ICU');
isnt($a->safe_psql('postgres', "SELECT 'ironlayer.plans'::regclass::oid"),
	$b->safe_psql('postgres', "SELECT 'ironlayer.plans'::regclass::oid"), 'and its OIDs differ');

# a watermark file for the command: the dev rows
my $wmfile = "$PostgreSQL::Test::Utils::tmp_check/watermarks.json";
open(my $fh, '>', $wmfile) or die;
print $fh '{' . join(',', map { "\"$_->[1]\": {\"start\": \"$_->[2]\", \"end\": \"$_->[3]\"}" } grep { $_->[0] eq 'dev' } @wm) . "}\n";
close($fh);

my @cases = ([ 'shop', 'v1', 'main' ], [ 'shop', 'main', 'v1' ], [ 'shop', 'main', 'main' ]);
push @cases, [ 'gen', 'HEAD~1', 'HEAD' ] if $have_gen;
my @texts;
for my $c (@cases)
{
	my @opts = @options;
	$opts[2] = '{"skip_cosmetic": false, "lookback_days": 1}' if $c->[0] eq 'gen';
	for my $o (@opts)
	{
		my $ta = plan_text($a, @$c, $o);
		my $tb = plan_text($b, @$c, $o);
		is($tb, $ta, "same bytes in both clusters: @$c $o");
		push @texts, $ta;
	}
	# the command, with the dev watermarks and default options
	my ($out, $err) = ('', '');
	IPC::Run::run([ $cli, 'plan', "$root/$c->[0]", $c->[1], $c->[2], '--as-of', $as_of,
		'--watermarks', $wmfile ], '>', \$out, '2>', \$err);
	is($out, plan_text($a, @$c, '{}') . "\n", "ironlayer plan prints the same text and a newline: @$c")
	  or diag($err);
}

# refresh and backfill plans (at one commit, the head given: nothing is
# deployed in these clusters), through plan() and the wrappers' options
sub kind_text
{
	my ($node, $repo, $head, $options) = @_;
	return $node->safe_psql('postgres',
		"SELECT FROM ironlayer.use_tenant('det');\n"
		  . "SELECT ironlayer.plan('$repo', NULL, '$head', '$as_of', '$options')");
}
my @kinds = (
	[ 'shop', 'main', '{"kind": "refresh"}' ],
	[ 'shop', 'main', '{"kind": "refresh", "environment": "prod", "lookback_days": 90, "recompute_days": 3}' ],
	[ 'shop', 'v1', '{"kind": "refresh", "recompute_days": 10}' ],
	[ 'shop', 'main', '{"kind": "backfill", "models": ["staging.orders"], "start": "2025-11-05", "end": "2026-01-10", "batch_days": 10}' ],
	[ 'shop', 'main', '{"kind": "backfill", "models": ["RAW.events", "staging.orders", "raw.events"], "start": "2025-11-01", "end": "2025-12-31"}' ]);
push @kinds, [ 'gen', 'HEAD', '{"kind": "refresh", "recompute_days": 2}' ] if $have_gen;
for my $k (@kinds)
{
	my $ta = kind_text($a, @$k);
	my $tb = kind_text($b, @$k);
	is($tb, $ta, "same bytes in both clusters: @$k");
	push @texts, $ta;
}
ok((grep { /"kind":"refresh"/ } @texts) >= 3, 'refresh plans say their kind');
ok((grep { /"kind":"backfill"/ && /"batches":7/ } @texts) > 0, 'a backfill plan is cut into batches');
ok((grep { /"run_type":"INCREMENTAL"/ } @texts) > 0, 'the plans include incremental steps');
ok((grep { /"start":"2026-01-20"/ } @texts) > 0, 'whose ranges come from watermarks');

# ids recomputed from the text alone
my ($out, $err) = ('', '');
my $input = join("\n", @texts) . "\n";
IPC::Run::run([ 'python3', "$testdir/t/plan_ids.py" ], '<', \$input, '>', \$out, '2>', \$err);
chomp $out;
my $steps = 0;
$steps += () = /"step_id"/g for @texts;
is($out, $steps + scalar(@texts), "every step_id and plan_id recomputes from the canonical text ($out ids)")
  or diag($err);

# stored once per distinct plan, identical in both clusters
is($a->safe_psql('postgres', "SELECT FROM ironlayer.use_tenant('det'); SELECT string_agg(plan_id, ',' ORDER BY plan_id) FROM ironlayer.plans"),
	$b->safe_psql('postgres', "SELECT FROM ironlayer.use_tenant('det'); SELECT string_agg(plan_id, ',' ORDER BY plan_id) FROM ironlayer.plans"),
	'both clusters stored the same plans');

$a->stop;
$b->stop;
done_testing();
