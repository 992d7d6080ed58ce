# Memory of parse_model() and sql_guard() (issue 12): for inputs of 1 MiB
# built to cost the most, the backend's peak resident memory (VmHWM) grows
# by at most 16 bytes per input byte plus 8 MB (what the backend touches
# anyway); an argument of more than 1 MiB is 22001 at once, not a parse;
# and calls that succeed or fail, over and over, leave nothing behind, also
# when the error is raised while the core's memory of the call is held (a
# loaded repository, src/pg/memory.c).
# Reads /proc/<backend pid>/status (Linux).
use strict;
use warnings;
use File::Path qw(make_path);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

plan skip_all => 'needs /proc/<pid>/status' unless -r '/proc/self/status';

# a generated repository of 3,000 models, when the generator is built
my $testdir = $ENV{TESTDIR} // '.';
my $gen = "$testdir/bench/run_repo";
my $root = "$PostgreSQL::Test::Utils::tmp_check/repos";
make_path($root);
my $have_gen = -x $gen && system("$gen --generate $root/gen 3000 >/dev/null") == 0;

my $node = PostgreSQL::Test::Cluster->new('memory');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'ironlayer'\nironlayer.repo_root = '$root'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION ironlayer');

my $MiB = 1024 * 1024;
my $header = q{E'-- name: s.t\n-- kind: FULL_REFRESH\n'};

# Runs $calls in one session after making the input $input (an SQL
# expression) into inp(t) and running $warm; returns the growth of VmHWM
# and of VmRSS (kB) from before the calls to after them, and psql's stderr.
sub measure
{
	my ($input, $calls, $warm) = @_;
	$warm //= '';
	my ($out, $err) = ('', '');
	$node->psql('postgres', <<SQL, stdout => \$out, stderr => \$err, on_error_stop => 0);
SELECT pg_backend_pid() AS pid \\gset
\\setenv PID :pid
CREATE TEMP TABLE inp AS SELECT ($input)::text AS t;
SELECT octet_length(t) > 0 FROM inp;
SELECT ironlayer.sql_guard('SELECT 1') IS NOT NULL;
$warm
\\! awk '/VmHWM|VmRSS/ {printf "%s ", \$2}' /proc/\$PID/status; echo
$calls
\\! awk '/VmHWM|VmRSS/ {printf "%s ", \$2}' /proc/\$PID/status; echo
SQL
	my @kb = $out =~ /^(\d+) (\d+) $/mg;
	die "no memory figures in: $out $err" unless @kb == 4;
	return ($kb[2] - $kb[0], $kb[3] - $kb[1], $err);
}

my $bound = (16 * $MiB + 8 * $MiB) / 1024;	# kB
my %inputs = (
	statements     => "$header || repeat('1;', (1048576 - 35) / 2)",
	commas         => "$header || repeat(',', 1048576 - 35)",
	dotted         => "$header || 'SELECT 1 FROM a' || repeat('.a', (1048576 - 50) / 2)",
	escaped_names  => "$header || 'SELECT 1 FROM `' || repeat(chr(1), 1048576 - 51) || '`'",
	unique_key     => "$header || '-- unique_key: a' || repeat(',a', (1048576 - 60) / 2) || E'\\nSELECT 1'",
	cte_names      => "$header || 'WITH ' || (SELECT string_agg('c' || i || '(())', ',') FROM generate_series(1, 50000) i)"
	  . " || ' SELECT 1 FROM x' || repeat(',x', 200000)",
);
foreach my $name (sort keys %inputs)
{
	foreach my $fn ('parse_model', 'sql_guard')
	{
		my ($hwm, $rss, $err) = measure($inputs{$name},
			"SELECT octet_length(t) <= $MiB AS fits, pg_column_size(ironlayer.$fn(t)) FROM inp;");
		is($err, '', "$fn of $name: no error");
		cmp_ok($hwm, '<=', $bound, "$fn of $name (1 MiB): the peak grows by $hwm kB, at most 16 x 1 MiB + 8 MB");
	}
}

# More than 1 MiB: 22001 before any work (before: a parse of 16 MB, several
# GB of memory, XX000 past 1 GB of output, and that memory never freed).
my ($hwm, $rss, $err) = measure(q{repeat('1;', 8388608)},
	'SELECT pg_column_size(ironlayer.sql_guard(t)) FROM inp;');
like($err, qr/ERROR:\s+the SQL text is too long/, '16 MB to sql_guard: 22001, the text is too long');
cmp_ok($hwm, '<=', 1024, "and no memory is spent on it ($hwm kB)");
cmp_ok($rss, '<=', 1024, "nor kept ($rss kB)");

# Over and over, parses that succeed and parses that fail late (the tokens
# of 1 MiB built, then a string left open, raised as an ERROR while the
# core's memory is still held): what a call takes it gives back, error or
# not (the core allocates in the call's memory context, src/pg/memory.c),
# so after a few calls (the allocator keeps what it got) 60 more add nothing.
my $again = "SELECT sum(pg_column_size(ironlayer.parse_model(t))) FROM inp, generate_series(1, 20);\n"
  . "SELECT ironlayer.sql_guard(t || '''') FROM inp;\n" x 20
  . "SELECT ironlayer.parse_model(t || '''') FROM inp;\n" x 20;
($hwm, $rss, $err) = measure("$header || repeat('1;', 500000)", $again, $again);
my $failed = () = $err =~ /unterminated string literal/g;
is($failed, 80, 'the failing calls (sql_guard and parse_model) fail for their text');
unlike($err, qr/XX000|internal|out of memory/i, 'and for nothing else');
cmp_ok($rss, '<=', 1024, "60 more calls of 1 MiB keep nothing more resident ($rss kB)");
cmp_ok($hwm, '<=', 1024, "nor reach a higher peak ($hwm kB)");

# Errors raised while the core holds a loaded repository (lineage of a
# model the commit lacks: the models of 3,000 files are loaded, then the
# look-up fails): nothing of the load outlives the call.
SKIP:
{
	skip 'the repository generator (test/bench/run_repo) is not built', 3 unless $have_gen;
	$node->safe_psql('postgres', "SELECT ironlayer.create_tenant('mem'); SELECT ironlayer.use_tenant('mem');"
		  . " SELECT ironlayer.add_repo('gen', 'gen');");
	my $fail = "SELECT * FROM ironlayer.lineage('gen', 'HEAD', 'no.such_model');\n" x 30;
	($hwm, $rss, $err) = measure("'x'", $fail, "SELECT ironlayer.use_tenant('mem') IS NOT NULL;\n" . $fail);
	my $n = () = $err =~ /ERROR:.*no\.such_model/g;
	is($n, 60, 'lineage of a missing model fails after loading the repository, every time');
	cmp_ok($rss, '<=', 1024, "30 more such errors keep nothing more resident ($rss kB)");
	cmp_ok($hwm, '<=', 1024, "nor reach a higher peak ($hwm kB)");
}

$node->stop;
done_testing();
