# The shop example (examples/shop) end to end on the emulator: its source
# tables seeded in PostgreSQL (seed.sql) and loaded into the emulator's
# catalog, its initial models planned and applied, then its change
# (change.sh), both in a local environment (the postgres executor) and in a
# databricks one. After each run, every model's table or view holds the
# same rows on the warehouse as in PostgreSQL (the warehouse's rows are read
# back into the local table's column types and compared as multisets).
use strict;
use warnings;
use File::Path qw(make_path);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use RepoUtil;
use Emulator;
use DbxUtil;

my $root_dir = "$ENV{TESTDIR}/..";
my $emu = dbx_emulator();
my $node = dbx_node('shop', $emu);
dbx_tenant($node);
dbx_env($node, $emu, 'prod');
sql($node, q{SELECT ironlayer.set_environment('dev', '{"run_as": "regress_runner", "schema_prefix": "dev_", "approvals_required": 0}')});

# the repository: a start without models, the shop's models, the change
my $repo = "$node->{repo_root}/shop";
make_path("$repo/models");
git($repo, 'init', '-q');
write_file("$repo/README.md", "shop\n");
write_file("$repo/models/.keep", '');
git($repo, 'add', '-A');
git($repo, 'commit', '-q', '-m', 'start');
system('cp', '-r', "$root_dir/examples/shop/models/.", "$repo/models/") == 0 or die 'cp';
git($repo, 'add', '-A');
git($repo, 'commit', '-q', '-m', 'the shop');
system("cd '$repo' && bash '$root_dir/examples/shop/change.sh' >/dev/null") == 0 or die 'change.sh';
git($repo, 'add', '-A');
git($repo, 'commit', '-q', '-m', 'the change');
sql($node, "SELECT ironlayer.add_repo('shop', 'shop')");

# the sources: seeded here, granted to the local run_as, copied to the emulator
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'),
	'-f', "$root_dir/examples/shop/seed.sql" ], 'seed.sql');
$node->safe_psql('postgres', q{
	GRANT USAGE ON SCHEMA source TO regress_runner;
	GRANT SELECT ON ALL TABLES IN SCHEMA source TO regress_runner;
});
my %duck = (integer => 'INTEGER', bigint => 'BIGINT', text => 'VARCHAR', boolean => 'BOOLEAN',
	date => 'DATE', 'timestamp without time zone' => 'TIMESTAMP', 'double precision' => 'DOUBLE');
my $csv_dir = "$PostgreSQL::Test::Utils::tmp_check/shop_csv";
make_path($csv_dir);
chmod(0777, $csv_dir);
$emu->control('POST', 'sql', { statement => 'CREATE SCHEMA IF NOT EXISTS lake.source' });
for my $t (split /\n/, $node->safe_psql('postgres',
		"SELECT relname FROM pg_class WHERE relnamespace = 'source'::regnamespace AND relkind = 'r' ORDER BY 1"))
{
	# every value quoted, NULL as an unquoted \N: an empty string stays one
	$node->safe_psql('postgres', "COPY source.$t TO '$csv_dir/$t.csv' (FORMAT csv, HEADER, FORCE_QUOTE *, NULL '\\N')");
	my %types;
	for my $c (split /\n/, $node->safe_psql('postgres',
			"SELECT attname || '|' || format_type(atttypid, atttypmod) FROM pg_attribute"
			  . " WHERE attrelid = 'source.$t'::regclass AND attnum > 0 AND NOT attisdropped"))
	{
		my ($name, $type) = split /\|/, $c;
		$types{$name} = $type =~ /^numeric(\(.*\))$/ ? "DECIMAL$1" : ($duck{$type} // die "type $type");
	}
	my $types = join(', ', map { "'$_': '$types{$_}'" } sort keys %types);
	$emu->control('POST', 'sql', { dialect => 'duckdb', statement => "CREATE OR REPLACE TABLE lake.source.$t AS"
		  . " SELECT * FROM read_csv('$csv_dir/$t.csv', header = true, types = {$types}, nullstr = '\\N',"
		  . " allow_quoted_nulls = false)" });
	my $n = $emu->control('POST', 'sql', { dialect => 'duckdb', statement => "SELECT count(*) FROM lake.source.$t" });
	is($n->{rows}[0][0], $node->safe_psql('postgres', "SELECT count(*) FROM source.$t"), "source.$t loaded into the emulator");
}

# The models of the plan and whether the warehouse holds each one's rows as PostgreSQL does.
sub compare
{
	my ($plan, $what) = @_;
	for my $m (split /\n/, sql($node, "SELECT model FROM ironlayer.plan_steps WHERE plan_id = '$plan' ORDER BY model"))
	{
		my ($s, $t) = split /\./, $m;
		my $remote = $emu->control('GET', "table?name=lake.prod_$s.$t");
		my $cols = $remote->{columns};
		my @objs = map { my $r = $_; +{ map { ($cols->[$_] => $r->[$_]) } 0 .. $#$cols } } @{ $remote->{rows} };
		my $json = encode_json(\@objs);
		$json =~ s/'/''/g;
		my $local_cols = $node->safe_psql('postgres', "SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute"
			  . " WHERE attrelid = 'dev_$s.$t'::regclass AND attnum > 0 AND NOT attisdropped");
		is(join(',', @$cols), $local_cols, "$what: $m has the same columns");
		# Rows paired in the order of every column but the decimals with a
		# scale (their last digit may differ: the emulator divides decimals
		# in binary floating point), which must then agree within 0.01.
		my @attrs = map { [ split /\|/ ] } split /\n/, $node->safe_psql('postgres',
			"SELECT attname || '|' || (format_type(atttypid, atttypmod) ~ '^numeric\\(\\d+,[1-9]') FROM pg_attribute"
			  . " WHERE attrelid = 'dev_$s.$t'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum");
		my @exact = map { "x.\"$_->[0]\"" } grep { $_->[1] eq 'false' } @attrs;
		my @near = map { $_->[0] } grep { $_->[1] eq 'true' } @attrs;
		my $order = join(', ', (map { $_ . '::text' } @exact), (map { "x.\"$_\"" } @near));
		my $same = join(' AND ', (map { my $c = $_; $c =~ s/^x\.//; "l.$c IS NOT DISTINCT FROM r.$c" } @exact),
			(map { "abs(l.\"$_\" - r.\"$_\") <= 0.01" } @near)) || 'true';
		my $n = $node->safe_psql('postgres', "SELECT count(*) FROM dev_$s.$t");
		my $diff = $node->safe_psql('postgres', qq{
			CREATE TEMP TABLE cmp AS SELECT * FROM json_populate_recordset(NULL::dev_$s.$t, '$json');
			SELECT count(*) FROM (SELECT row_number() OVER (ORDER BY $order) AS i, x.* FROM dev_$s.$t x) l
			  FULL JOIN (SELECT row_number() OVER (ORDER BY $order) AS i, x.* FROM cmp x) r USING (i)
			 WHERE l.i IS NULL OR r.i IS NULL OR NOT ($same);
		});
		is($diff, '0', "$what: $m holds the same $n rows on the warehouse as in PostgreSQL")
		  or diag($node->safe_psql('postgres', qq{
			CREATE TEMP TABLE cmp AS SELECT * FROM json_populate_recordset(NULL::dev_$s.$t, '$json');
			(SELECT 'remote', * FROM (TABLE cmp EXCEPT ALL TABLE dev_$s.$t) a LIMIT 3)
			UNION ALL (SELECT 'local', * FROM (TABLE dev_$s.$t EXCEPT ALL TABLE cmp) b LIMIT 3);
		}));
	}
}

for my $change ([ 'HEAD~2', 'HEAD~1', 'the initial models' ], [ 'HEAD~1', 'HEAD', 'the change' ])
{
	my ($from, $to, $what) = @$change;
	# one plan per environment (the same steps: neither has watermarks yet)
	my $plan = sql($node, "SELECT ironlayer.plan('shop', '$from', '$to', '2026-01-31')->>'plan_id'");
	my $prod_plan = sql($node, "SELECT ironlayer.plan('shop', '$from', '$to', '2026-01-31', '{\"environment\": \"prod\"}')->>'plan_id'");
	my $local = sql($node, "SELECT ironlayer.apply('$plan', 'dev')");
	my $remote = sql($node, "SELECT ironlayer.apply('$prod_plan', 'prod')");
	is(wait_run($node, $local), 'succeeded', "$what: the local run succeeds");
	is(wait_run($node, $remote), 'succeeded', "$what: the run on the warehouse succeeds")
	  or diag(statements($node, $remote));
	compare($plan, $what);
}

$node->stop;
$emu->stop;
done_testing();
