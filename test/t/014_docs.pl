# The docs hold: every fenced block of README.md and docs/*.md whose info
# string is `sql runnable` runs without an error, and every `sql runnable
# error` block fails, against a cluster prepared the way `make demo`
# prepares one (tenant demo, repository shop, the shop's models deployed to
# dev, the next day refreshed): scripts/demo.sh itself prepares it, told by
# IRONLAYER_DEMO_DIR, PGPORT and IRONLAYER_DEMO_INSTALL=no to use a directory
# and a port of this test and to install nothing.
#
# Blocks are found, not listed: a new runnable block in any of those files is
# run without a change here. The blocks of one file run in order in one psql
# session as the demo tenant's admin, ironlayer_demo, connected as the demo
# tells a newcomer to connect (no tenant bound until a block binds one);
# files run one after another in name order (README.md first) on the same
# cluster. The test prints how many blocks of each file ran.
#
# The demo's own output is checked too: it prints each statement before its
# output, and shows plans with ironlayer.show_plan().
use strict;
use warnings;
use File::Basename qw(dirname);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $testdir = $ENV{TESTDIR} or die "TESTDIR is not set";
my $root = dirname($testdir);
for my $need ('README.md', 'docs', 'examples/shop', 'scripts/demo.sh')
{
	die "$root/$need is missing: this test reads the checkout's docs and runs its demo" unless -e "$root/$need";
}
my $pgbin = $ENV{PGBIN} // '';
my $pg_config = -x "$pgbin/pg_config" ? "$pgbin/pg_config" : 'pg_config';
my $psql = -x "$pgbin/psql" ? "$pgbin/psql" : 'psql';

# ---------------------------------------------------------------- the blocks

# Returns the runnable blocks of FILE: [{ line, error, sql }], in file order.
# A fence may be indented (a block inside a list item); its body loses that
# indentation.
sub runnable_blocks
{
	my ($file) = @_;
	open(my $fh, '<', $file) or die "$file: $!";
	my (@blocks, $open, $indent);
	my $n = 0;
	while (my $line = <$fh>)
	{
		$n++;
		if (!$open)
		{
			# any fence opens a block (runnable or not), so that a fence
			# inside another kind of block is not taken for one
			next unless $line =~ /^( *)(```+)\s*(.*?)\s*$/;
			($indent, my $info) = ($1, $3);
			$open = { line => $n, sql => '', runnable => 0, fence => $2 };
			if ($info =~ /^sql\s+runnable(?:\s+(error))?$/)
			{
				$open->{runnable} = 1;
				$open->{error} = defined $1 ? 1 : 0;
			}
			elsif ($info =~ /\brunnable\b/)
			{
				die "$file:$n: unknown info string \"$info\": use \"sql runnable\" or \"sql runnable error\"";
			}
			next;
		}
		if ($line =~ /^ *\Q$open->{fence}\E\s*$/)
		{
			push @blocks, $open if $open->{runnable};
			undef $open;
			next;
		}
		$line =~ s/^ {0,@{[length $indent]}}//;
		$open->{sql} .= $line;
	}
	close($fh);
	die "$file:$open->{line}: the block opened here is never closed" if $open;
	return @blocks;
}

my @files = ('README.md', map { s{^\Q$root\E/}{}r } sort glob("$root/docs/*.md"));
my %blocks = map { ($_ => [ runnable_blocks("$root/$_") ]) } @files;
my $total = 0;
$total += @{ $blocks{$_} } for @files;
cmp_ok($total, '>', 0, "README.md and docs/*.md hold runnable SQL blocks ($total)");

# ---------------------------------------------------------------- the cluster

my $port = PostgreSQL::Test::Cluster::get_free_port();
my $dir = "$PostgreSQL::Test::Utils::tmp_check/docs_demo";
my %demo_env = (PG_CONFIG => $pg_config, PGPORT => $port, IRONLAYER_DEMO_DIR => $dir,
	IRONLAYER_DEMO_INSTALL => 'no');

sub demo
{
	my ($action) = @_;
	local @ENV{ keys %demo_env } = values %demo_env;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'bash', "$root/scripts/demo.sh", $action ], '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

END
{
	# stop the demo's server however the test ends; $? is the test's
	local $?;
	demo('stop') if defined $dir && -d "$dir/data";
}

my ($rc, $out, $err) = demo('start');
is($rc, 0, 'scripts/demo.sh prepares a cluster (IRONLAYER_DEMO_DIR, PGPORT, IRONLAYER_DEMO_INSTALL=no)')
  or BAIL_OUT("the demo failed:\n$out\n$err");
like($out, qr/^SELECT parallel_group AS "group", model, run_type, input_range, reason FROM ironlayer\.show_plan\('[0-9a-f]{64}'\);\n group \|\s+model\s+\|\s+run_type\s+\|\s+input_range\s+\|\s+reason\s*\n/m,
	'the demo prints the statement before its output, and shows a plan with show_plan()');
like($out, qr/^SELECT ironlayer\.apply\('[0-9a-f]{64}', 'dev'\) AS run_id \n/m,
	'the statements are printed as run (the plan id written out), so they can be typed again');
like($out, qr/^ 2026-02-01 \| app\s+\|.*\n/m, "the demo ends with the mart's last days");
unlike($out . $err, qr/ERROR/, 'the demo printed no error');

# ---------------------------------------------------------------- the docs

# One session per file: the blocks are sent one at a time, each followed by a
# marker on stdout and on stderr (\echo and \warn); what psql wrote between
# two markers is the block's output. A block failed when psql reported an
# error for one of its lines (ERROR, FATAL or psql's own complaint; notices
# and warnings are no failure).
for my $file (@files)
{
	my @b = @{ $blocks{$file} };
	next unless @b;
	my ($in, $o, $e) = ('', '', '');
	my $timer = IPC::Run::timer(300);
	# -f -: psql reads the blocks from standard input as from a file, so
	# that each message it prints starts with psql:<stdin>:LINE:
	my $h = IPC::Run::start([ $psql, '-X', '-q', '-v', 'ON_ERROR_STOP=0', '-f', '-',
			"host=localhost port=$port dbname=ironlayer user=ironlayer_demo" ],
		'<', \$in, '>', \$o, '2>', \$e, $timer);
	my ($i, $ran) = (0, 0);
	for my $block (@b)
	{
		$i++;
		my $mark = "\@\@ironlayer-docs-block-$i\@\@";
		my $where = "$file:$block->{line}";
		# the last statement must be finished (psql would otherwise carry it
		# into the next block): a ';' or a meta-command ends the last line
		# that is not blank or a comment
		my ($last) = grep { !/^\s*(--.*)?$/ } reverse split /\n/, $block->{sql};
		if (!defined $last || $last !~ /(;\s*(--.*)?|\\\w+[^']*)$/)
		{
			fail("$where: the block ends its last statement (with ; or a psql meta-command)");
			next;
		}
		$in .= $block->{sql} . "\\echo $mark\n\\warn $mark\n";
		$ran++;
		$timer->start(300);
		eval { $h->pump until ($o =~ /\Q$mark\E\n/ && $e =~ /\Q$mark\E\n/) || $timer->is_expired; };
		my ($bo) = $o =~ /\A(.*?)\Q$mark\E\n/s;
		my ($be) = $e =~ /\A(.*?)\Q$mark\E\n/s;
		$o =~ s/\A.*?\Q$mark\E\n//s;
		$e =~ s/\A.*?\Q$mark\E\n//s;
		if (!defined $bo || !defined $be)
		{
			fail("$where: the block finished within 300 s") or diag("psql said:\n$o\n$e");
			last;
		}
		my @errors = grep { /^psql:[^\n]*?:\d+: (?!(?:NOTICE|WARNING|INFO|LOG|DEBUG\d?):)/ } split /\n/, $be;
		if ($block->{error})
		{
			ok(@errors > 0, "$where: the block marked \"sql runnable error\" fails")
			  or diag("its output:\n$bo$be");
		}
		else
		{
			ok(@errors == 0, "$where: the block runs")
			  or diag("psql said:\n$be\nthe block:\n$block->{sql}");
		}
	}
	$in .= "\\q\n";
	eval { $h->finish; };
	note(sprintf('%s: %d runnable block%s ran', $file, $ran, $ran == 1 ? '' : 's'));
}
diag(join("\n", 'runnable blocks that ran, per file:',
	(map { sprintf('  %-24s %d', $_, scalar @{ $blocks{$_} }) } grep { @{ $blocks{$_} } } @files),
	"  total                    $total"));

done_testing();
