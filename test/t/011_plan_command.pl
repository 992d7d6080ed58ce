# `ironlayer plan` for the three plan kinds, offline (no cluster): refresh
# and backfill plans at one commit, the empty base, --recompute-days; the same
# bytes for the same inputs given otherwise (watermark file order, a branch
# or its commit id, model names in another order or case); every step_id
# and plan_id recomputed from the text with Python; the examples of
# docs/plan-format.md are what the command prints; usage errors exit 2 and
# errors of the plan exit 1, naming what is wrong.
use strict;
use warnings;
use File::Path qw(make_path);
use PostgreSQL::Test::Utils;
use Test::More;

my $cli = $ENV{IRONLAYER_CLI} or die "IRONLAYER_CLI is not set";
my $testdir = $ENV{TESTDIR} or die "TESTDIR is not set";
my $tmp = $PostgreSQL::Test::Utils::tmp_check;
my $root = "$tmp/plan_command_repos";
make_path($root);
system('bash', "$testdir/repos/fixtures.sh", $root) == 0 or die "fixtures failed";
my $shop = "$root/shop";

# the watermark file of docs/plan-format.md, and the same in another order
sub write_text
{
	my ($path, $text) = @_;
	open(my $fh, '>', $path) or die "$path: $!";
	print $fh $text;
	close($fh);
}
my $wm = "$tmp/wm.json";
my $wm_rev = "$tmp/wm_rev.json";
write_text($wm, '{"staging.orders": {"start": "2025-11-01", "end": "2026-01-20"}, '
	  . '"marts.daily_events": {"start": "2025-12-01", "end": "2026-01-25"}, '
	  . '"raw.events": {"start": "2025-10-01", "end": "2026-01-31"}}');
write_text($wm_rev, '{"raw.events": {"end": "2026-01-31", "start": "2025-10-01"}, '
	  . '"MARTS.DAILY_EVENTS": {"start": "2025-12-01", "end": "2026-01-25"}, '
	  . '"staging.orders": {"start": "2025-11-01", "end": "2026-01-20"}}');

# runs the command; returns (exit code, stdout, stderr)
sub plan
{
	my ($out, $err) = ('', '');
	IPC::Run::run([ $cli, 'plan', @_ ], '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

my @texts;
my $main = `git -C $shop rev-parse main`;
chomp $main;

# refresh
my ($rc, $refresh, $err) = plan($shop, 'main', '--refresh', '--as-of', '2026-02-01', '--recompute-days', '3',
	'--watermarks', $wm);
is($rc, 0, 'a refresh plan') or diag($err);
push @texts, $refresh;
like($refresh, qr/^\{"as_of":"2026-02-01","base":"$main","environment":"dev","format":"ironlayer.plan\/v1","kind":"refresh","options":\{"environment":"dev","lookback_days":30,"recompute_days":3\},/,
	'kind refresh, base the commit, its options');
like($refresh, qr/"summary":\{"models_affected":\["marts.customer_summary","marts.daily_events","marts.revenue","raw.events","raw.orders","staging.customers","staging.orders"\],"models_due":\["marts.daily_events","raw.events","raw.orders","staging.orders"\],"total_steps":7\},"target":"$main"\}\n\z/,
	'its summary, target the commit, one newline');
like($refresh, qr/"input_range":\{"end":"2026-02-01","start":"2026-01-29"\},"kind":"APPEND_ONLY","materialization":"TABLE","model":"raw.events","parallel_group":0,"reason":"new data due"/,
	'recompute_days lowers a start to as_of - N');
my ($rc2, $again) = plan($shop, $main, '--as-of', '2026-02-01', '--watermarks', $wm_rev, '--recompute-days', '3',
	'--refresh');
is($again, $refresh, 'the same bytes: the commit id for the branch, flags and watermarks in another order');
my (undef, $none) = plan($shop, 'main', '--refresh', '--as-of', '2025-06-01', '--watermarks', $wm);
like($none, qr/"models_due":\[\],"total_steps":0\}/, 'nothing due before the watermarks end: no step');
push @texts, $none;

# backfill
my ($rc3, $backfill, $err3) = plan($shop, 'main', '--backfill', 'staging.orders', '--start', '2026-01-01',
	'--end', '2026-01-14', '--batch-days', '7', '--as-of', '2026-02-01', '--watermarks', $wm);
is($rc3, 0, 'a backfill plan') or diag($err3);
push @texts, $backfill;
like($backfill, qr/"kind":"backfill","options":\{"batch_days":7,"end":"2026-01-14","environment":"dev","models":\["staging.orders"\],"start":"2026-01-01"\},/,
	'kind backfill and its options');
like($backfill, qr/"summary":\{"batches":2,"models_affected":\["marts.customer_summary","marts.revenue","staging.orders"\],"total_steps":4\}/,
	'its summary');
my @windows = $backfill =~ /"input_range":\{"end":"([0-9-]+)","start":"([0-9-]+)"\},"kind":"INCREMENTAL_BY_TIME_RANGE","materialization":"TABLE","model":"staging.orders"/g;
is("@windows", '2026-01-07 2026-01-01 2026-01-14 2026-01-08', 'two windows of 7 days, in date order');
my (undef, $two) = plan($shop, 'main', '--backfill', 'STAGING.Orders', '--backfill', 'raw.events,staging.orders',
	'--start', '2026-01-01', '--end', '2026-01-14', '--as-of', '2026-02-01', '--watermarks', $wm_rev);
like($two, qr/"models":\["raw.events","staging.orders"\]/,
	'--backfill repeated and comma-separated, names resolved in any case, written once, sorted');
push @texts, $two;

# the empty base; recompute_days in a change plan
my (undef, $empty) = plan($shop, '0000000000000000000000000000000000000000', 'main', '--as-of', '2026-02-01');
like($empty, qr/"base":"0{40}".*"models_added":\["marts.customer_summary","marts.daily_events","marts.revenue","raw.events","raw.orders","staging.customers","staging.orders"\]/,
	'from the null commit every model is added');
push @texts, $empty;
my (undef, $change) = plan($shop, 'v1', 'main', '--as-of', '2026-02-01', '--watermarks', $wm);
my (undef, $change0) = plan($shop, 'v1', 'main', '--as-of', '2026-02-01', '--watermarks', $wm, '--recompute-days', '0');
is($change0, $change, '--recompute-days 0 leaves a change plan as it was, byte for byte');
unlike($change, qr/recompute_days|"kind":"change"/, 'a change plan has no kind and no recompute_days');
my (undef, $change5) = plan($shop, 'v1', 'main', '--as-of', '2026-02-01', '--watermarks', $wm, '--recompute-days', '5');
like($change5, qr/"lookback_days":30,"recompute_days":5,"skip_cosmetic":true\}/, '--recompute-days 5 is written');
push @texts, $change, $change5;

# ids recomputed from the text alone
my ($pyout, $pyerr) = ('', '');
my $input = join('', @texts);
IPC::Run::run([ 'python3', "$testdir/t/plan_ids.py" ], '<', \$input, '>', \$pyout, '2>', \$pyerr);
chomp $pyout;
my $ids = scalar(@texts);
$ids += () = /"step_id"/g for @texts;
is($pyout, $ids, "every step_id and plan_id recomputes from the canonical text ($ids ids)") or diag($pyerr);

# the examples of docs/plan-format.md are real outputs
open(my $doc, '<', "$testdir/../docs/plan-format.md") or die "plan-format.md: $!";
my $docs = do { local $/; <$doc> };
close($doc);
for my $t ([ 'refresh', $refresh ], [ 'backfill', $backfill ])
{
	my ($id) = $t->[1] =~ /"plan_id":"([0-9a-f]{64})"/;
	ok(index($docs, "\"plan_id\": \"$id\"") >= 0, "docs/plan-format.md shows the $t->[0] plan the command prints");
}

# errors
my @errors = (
	[ [ $shop, 'v1', 'main', '--refresh', '--as-of', '2026-02-01' ], 2, qr/--refresh or --backfill needs 2 arguments: REPO COMMIT/ ],
	[ [ $shop, 'main', '--as-of', '2026-02-01' ], 2, qr/plan needs 3 arguments/ ],
	[ [ $shop, 'v1', 'main', '--as-of', '2026-02-01', '--start', '2026-01-01' ], 2, qr/start is not an option of change plans/ ],
	[ [ $shop, 'main', '--refresh', '--backfill', 'raw.events', '--as-of', '2026-02-01' ], 2, qr/--refresh or --backfill, not both/ ],
	[ [ $shop, 'main', '--refresh', '--full-refresh', 'raw.orders', '--as-of', '2026-02-01' ], 2, qr/full_refresh is not an option of refresh plans/ ],
	[ [ $shop, 'main', '--backfill', 'staging.orders', '--start', '2026-01-01', '--as-of', '2026-02-01' ], 2, qr/backfill plans need models, start and end/ ],
	[ [ $shop, 'main', '--backfill', 'staging.orders', '--start', '2020-01-01', '--end', '2026-01-01', '--batch-days', '1', '--as-of', '2026-02-01' ], 2, qr/invalid option batch_days: 1 days make 2193 batches/ ],
	[ [ $shop, 'main', '--backfill', 'staging.orders', '--start', '2025-10-01', '--end', '2025-12-20', '--as-of', '2026-02-01', '--watermarks', $wm ], 1,
		qr/range 2025-10-01\.\.2025-12-20 of staging\.orders starts before its history \(first day loaded 2025-11-01\) \[invalid_backfill\]/ ],
	[ [ $shop, 'main', '--backfill', 'staging.orders', '--start', '2026-01-01', '--end', '2026-02-02', '--as-of', '2026-02-01', '--watermarks', $wm ], 1,
		qr/of staging\.orders ends after as_of 2026-02-01 \[invalid_backfill\]/ ],
	[ [ $shop, 'main', '--backfill', 'raw.orders', '--start', '2026-01-01', '--end', '2026-01-02', '--as-of', '2026-02-01', '--watermarks', $wm ], 1,
		qr/raw\.orders is FULL_REFRESH: it has no date range \[invalid_backfill\]/ ],
	[ [ $shop, 'main', '--backfill', 'nope', '--start', '2026-01-01', '--end', '2026-01-02', '--as-of', '2026-02-01' ], 1,
		qr/invalid option models: .*nope.* \[invalid_option\]/ ],
	[ [ $shop, 'main', '0000000000000000000000000000000000000000', '--as-of', '2026-02-01' ], 1, qr/never a head \[unknown_commit\]/ ],
);
for my $e (@errors)
{
	my ($code, $out, $stderr) = plan(@{ $e->[0] });
	is($code, $e->[1], "exit $e->[1]: @{$e->[0]}[1 .. $#{$e->[0]}]");
	like($stderr, $e->[2], '  and says why');
	is($out, '', '  and prints no plan');
}

done_testing();
