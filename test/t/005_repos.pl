# Git-native model discovery with real repositories: registration inside
# ironlayer.repo_root only, models at any commit-ish, diff by model name with
# every change kind, lineage, cycles and ambiguous names as clear errors,
# bare repositories, RLS on repos, and the shared parse cache.
use strict;
use warnings;
use File::Path qw(make_path);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RepoUtil;

my $root = "$PostgreSQL::Test::Utils::tmp_check/repos";
make_path($root);
my $outside = "$PostgreSQL::Test::Utils::tmp_check/outside";
make_path($outside);

sub model
{
	my ($name, $kind, $sql, %h) = @_;
	my $head = "-- name: $name\n-- kind: $kind\n";
	$head .= "-- $_: $h{$_}\n" for sort keys %h;
	return $head . $sql;
}

# shop: raw -> staging -> marts, two commits.
my $shop = "$root/shop";
make_path($shop);
git($shop, 'init', '-q');
write_file("$shop/models/raw/orders.sql", model('raw.orders', 'FULL_REFRESH', "SELECT * FROM landing.orders\n"));
write_file("$shop/models/staging/orders.sql", model('staging.orders', 'INCREMENTAL_BY_TIME_RANGE',
	"SELECT id, amount, order_date FROM raw.orders WHERE amount > 0\n", time_column => 'order_date'));
write_file("$shop/models/marts/revenue.sql", model('marts.revenue', 'FULL_REFRESH',
	"SELECT o.order_date, sum(o.amount) * max(f.rate) AS revenue\nFROM {{ ref('staging.orders') }} o JOIN ext.fx f ON true\nGROUP BY 1\n"));
write_file("$shop/models/marts/gone.sql", model('marts.gone', 'FULL_REFRESH', "SELECT 1 AS x\n"));
write_file("$shop/models/notes.sql", "-- just a scratch query\nSELECT 1\n");
write_file("$shop/README.md", "shop\n");
git($shop, 'add', '-A');
git($shop, 'commit', '-q', '-m', 'initial models');
git($shop, 'tag', 'v1');
# second commit: a logic change, a cosmetic change, a move, an addition, a removal
write_file("$shop/models/staging/orders.sql", model('staging.orders', 'INCREMENTAL_BY_TIME_RANGE',
	"SELECT id, amount, order_date FROM raw.orders WHERE amount >= 0\n", time_column => 'order_date'));
write_file("$shop/models/marts/revenue.sql", model('marts.revenue', 'FULL_REFRESH',
	"-- revenue per day\nselect o.order_date,   sum(o.amount) * max(f.rate) as revenue\nfrom {{ ref('staging.orders') }} o join ext.fx f on true\ngroup by 1;\n"));
git($shop, 'mv', 'models/raw/orders.sql', 'models/raw_orders.sql');
write_file("$shop/models/marts/customers.sql", model('marts.customers', 'MERGE_BY_KEY',
	"SELECT DISTINCT id FROM staging.orders\n", unique_key => 'id'));
git($shop, 'rm', '-q', 'models/marts/gone.sql');
git($shop, 'add', '-A');
git($shop, 'commit', '-q', '-m', 'second');
my $head = git($shop, 'rev-parse', 'HEAD');
my $base = git($shop, 'rev-parse', 'HEAD~1');

# a bare clone, a cycle, an ambiguous short name, not a repository
git($root, 'clone', '-q', '--bare', $shop, "$root/shop.git");
my $cyc = "$root/cycle";
make_path($cyc);
git($cyc, 'init', '-q');
write_file("$cyc/a.sql", model('s.a', 'FULL_REFRESH', "SELECT * FROM s.c\n"));
write_file("$cyc/b.sql", model('s.b', 'FULL_REFRESH', "SELECT * FROM s.a\n"));
write_file("$cyc/c.sql", model('s.c', 'FULL_REFRESH', "SELECT * FROM s.b\n"));
git($cyc, 'add', '-A');
git($cyc, 'commit', '-q', '-m', 'cycle');
my $amb = "$root/ambiguous";
make_path($amb);
git($amb, 'init', '-q');
write_file("$amb/one.sql", model('east.orders', 'FULL_REFRESH', "SELECT 1 AS x\n"));
write_file("$amb/two.sql", model('west.orders', 'FULL_REFRESH', "SELECT 1 AS x\n"));
write_file("$amb/use.sql", model('marts.all_orders', 'FULL_REFRESH', "SELECT * FROM orders\n"));
git($amb, 'add', '-A');
git($amb, 'commit', '-q', '-m', 'ambiguous');
make_path("$root/plain");
# a working tree whose .git file points at a repository outside the root
git($root, 'clone', '-q', $shop, "$outside/stolen");
make_path("$root/gitfile");
write_file("$root/gitfile/.git", "gitdir: $outside/stolen/.git\n");
# a repository that borrows objects through alternates
git($root, 'clone', '-q', '--shared', $shop, "$root/borrowing");
symlink($outside, "$root/escape") or die;
git($outside, 'init', '-q');

my $node = PostgreSQL::Test::Cluster->new('repos');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'ironlayer'\n");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION ironlayer;
	SELECT ironlayer.create_tenant('acme'), ironlayer.create_tenant('other');
	CREATE ROLE regress_other;
	GRANT ironlayer_viewer TO regress_other;
	SELECT ironlayer.add_member('other', 'regress_other', 'viewer');
});
my $acme = "SELECT ironlayer.use_tenant('acme') \\gset\n";

sub err_of
{
	my ($sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$acme$sql");
	return $err;
}

like(err_of("SELECT ironlayer.add_repo('shop', '$shop')"),
	qr/55000: no repository root is configured.*HINT:\s+A superuser sets ironlayer.repo_root/s,
	'without ironlayer.repo_root registration is refused with a hint');
$node->append_conf('postgresql.conf', "ironlayer.repo_root = '$root'\n");
$node->reload;

is($node->safe_psql('postgres', "${acme}SELECT ironlayer.add_repo('shop', 'shop') > 0"), 't',
	'a repository inside the root registers (relative path)');
is($node->safe_psql('postgres', "${acme}SELECT ironlayer.add_repo('bare', '$root/shop.git', 'models') > 0"), 't',
	'a bare repository registers');
is($node->safe_psql('postgres', "${acme}SELECT name || ':' || models_dir FROM ironlayer.repos ORDER BY name"),
	"bare:models\nshop:models", 'models/ is the default models directory when it exists');
like(err_of("SELECT ironlayer.add_repo('x', '$outside')"), qr/ERROR:\s+\w+: .*outside/, 'a path outside the root is refused');
like(err_of("SELECT ironlayer.add_repo('x', 'escape')"), qr/ERROR:\s+\w+: .*outside/, 'a symbolic link out of the root is refused');
like(err_of("SELECT ironlayer.add_repo('x', 'shop/../shop')"), qr/22023: repository path "shop\/..\/shop" contains ".."/, '".." is refused');
like(err_of("SELECT ironlayer.add_repo('x', 'gitfile')"), qr/ERROR:\s+42501: .*outside/, 'a .git file pointing out of the root is refused');
like(err_of("SELECT ironlayer.add_repo('x', 'borrowing')"), qr/42501: repository .* borrows objects from other directories/, 'a repository with alternates is refused');
like(err_of("SELECT ironlayer.add_repo('x', 'plain')"), qr/ERROR:\s+\w+: .*(not a git repository|repository)/i, 'a directory that is no repository is refused');
like(err_of("SELECT ironlayer.add_repo('x', 'nothing-here')"), qr/ERROR:\s+\w+: /, 'a missing path is refused');
like(err_of("SELECT ironlayer.add_repo('shop', 'shop')"), qr/23505: repository "shop" already exists/, 'a name is registered once per tenant');
is($node->safe_psql('postgres', "SET ROLE regress_other;\nSELECT ironlayer.use_tenant('other') \\gset\nSELECT count(*) FROM ironlayer.repos"),
	'0', 'a member of another tenant sees none of them');
{
	my ($r, $o, $e) = $node->psql('postgres', "SET ROLE regress_other;\nSELECT ironlayer.use_tenant('other') \\gset\nSELECT * FROM ironlayer.models('shop', 'HEAD')");
	like($e, qr/repository "shop" does not exist/, 'nor can use them');
}

# models at commit-ishes
my $rows = $node->safe_psql('postgres', "${acme}SELECT name || '|' || path || '|' || kind || '|' || coalesce(time_column, '-') || '|' || array_to_string(upstream, ',') || '|' || array_to_string(sources, ',') FROM ironlayer.models('shop', 'v1')");
is($rows, join("\n",
	'marts.gone|models/marts/gone.sql|FULL_REFRESH|-||',
	'marts.revenue|models/marts/revenue.sql|FULL_REFRESH|-|staging.orders|ext.fx',
	'raw.orders|models/raw/orders.sql|FULL_REFRESH|-||landing.orders',
	'staging.orders|models/staging/orders.sql|INCREMENTAL_BY_TIME_RANGE|order_date|raw.orders|'),
	'models at a tag: paths, kinds, upstream models and external sources; the scratch file is no model');
for my $spec ('HEAD~1', 'main^', substr($base, 0, 8), $base, 'v1')
{
	is($node->safe_psql('postgres', "${acme}SELECT count(*) FROM ironlayer.models('shop', '$spec')"), '4', "'$spec' resolves to the first commit");
}
is($node->safe_psql('postgres', "${acme}SELECT count(*) FROM ironlayer.models('bare', 'main')"), '4', 'the bare repository reads the same objects');
like(err_of("SELECT * FROM ironlayer.models('shop', 'no-such-branch')"), qr/22023: .*no-such-branch/, 'an unknown commit is 22023 and named');

# diff by model name
is($node->safe_psql('postgres', "${acme}SELECT model || ':' || change || ':' || path FROM ironlayer.diff('shop', 'HEAD~1', 'HEAD')"),
	join("\n",
	'marts.customers:added:models/marts/customers.sql',
	'marts.gone:removed:models/marts/gone.sql',
	'marts.revenue:cosmetic:models/marts/revenue.sql',
	'staging.orders:modified:models/staging/orders.sql'),
	'diff: added, removed, cosmetic and modified; the moved raw.orders is no change');
is($node->safe_psql('postgres', "${acme}SELECT count(*) FROM ironlayer.diff('shop', 'HEAD', 'HEAD')"), '0', 'a commit against itself has no change');

# lineage
is($node->safe_psql('postgres', "${acme}SELECT model || ':' || direction || ':' || depth FROM ironlayer.lineage('shop', 'HEAD', 'staging.orders')"),
	"marts.customers:downstream:1\nmarts.revenue:downstream:1\nraw.orders:upstream:1", 'lineage both ways');
is($node->safe_psql('postgres', "${acme}SELECT string_agg(model || ':' || depth, ',') FROM ironlayer.lineage('shop', 'HEAD', 'marts.revenue', 'upstream')"),
	'staging.orders:1,raw.orders:2', 'upstream with depth');
is($node->safe_psql('postgres', "${acme}SELECT count(*) FROM ironlayer.lineage('shop', 'HEAD', 'marts.revenue', 'upstream', 1)"),
	'1', 'max_depth limits it');

# cycles and ambiguity
$node->safe_psql('postgres', "${acme}SELECT ironlayer.add_repo('cycle', 'cycle'), ironlayer.add_repo('ambiguous', 'ambiguous')");
my $c1 = err_of("SELECT * FROM ironlayer.models('cycle', 'HEAD')");
like($c1, qr/42P19: .*s\.a -> s\.\w -> s\.\w -> s\.a/, 'a cycle is 42P19 and named');
is(err_of("SELECT * FROM ironlayer.models('cycle', 'HEAD')"), $c1, 'always the same cycle');
like(err_of("SELECT * FROM ironlayer.models('ambiguous', 'HEAD')"), qr/orders.*east\.orders.*west\.orders/s,
	'an ambiguous short name lists its candidates');

# the shared parse cache: nothing parsed the second time, one file for a one-file change
my $count = sub { $node->safe_psql('postgres', 'SELECT count(*) FROM ironlayer.parse_cache') };
my $before = $count->();
cmp_ok($before, '>', 0, 'parse records are kept in ironlayer.parse_cache');
my ($ret, $out, $err) = $node->psql('postgres', "SET client_min_messages = debug1;\n${acme}SELECT count(*) FROM ironlayer.models('shop', 'HEAD')");
like($err, qr/ironlayer: 5 files, 5 blobs, 5 from the cache, 0 parsed/, 'a new session parses nothing for a known commit');
write_file("$shop/models/marts/customers.sql", model('marts.customers', 'MERGE_BY_KEY',
	"SELECT DISTINCT id FROM staging.orders WHERE id IS NOT NULL\n", unique_key => 'id'));
git($shop, 'commit', '-q', '-am', 'third');
($ret, $out, $err) = $node->psql('postgres', "SET client_min_messages = debug1;\n${acme}SELECT count(*) FROM ironlayer.models('shop', 'HEAD')");
like($err, qr/ironlayer: 5 files, 5 blobs, 4 from the cache, 1 parsed/, 'a one-file change parses one file');
is($count->(), $before + 1, 'and adds one record');

# the command prints the same rows, as JSON lines
{
	my $cli = $ENV{IRONLAYER_CLI} or die "IRONLAYER_CLI is not set";
	my ($o, $e) = ('', '');
	IPC::Run::run([ $cli, 'diff', $shop, 'HEAD~2', 'HEAD~1' ], '>', \$o, '2>', \$e);
	my $sql = $node->safe_psql('postgres', "${acme}SELECT string_agg(jsonb_build_object('change', change, 'model', model, 'path', path)::text, E'\\n' ORDER BY model) FROM ironlayer.diff('shop', 'HEAD~2', 'HEAD~1')");
	my @cli_rows = map { my %h = /"(\w+)":"([^"]*)"/g; "$h{model}:$h{change}:$h{path}" } split /\n/, $o;
	my @sql_rows = map { my %h = /"(\w+)": "([^"]*)"/g; "$h{model}:$h{change}:$h{path}" } split /\n/, $sql;
	is_deeply(\@cli_rows, \@sql_rows, 'ironlayer diff prints the rows of ironlayer.diff()');
	is(scalar(@cli_rows), 4, 'four changes');
	IPC::Run::run([ $cli, 'models', $shop, 'HEAD' ], '>', \$o, '2>', \$e);
	is(scalar(split /\n/, $o), $node->safe_psql('postgres', "${acme}SELECT count(*) FROM ironlayer.models('shop', 'HEAD')"),
		'ironlayer models prints one line per model');
	like($o, qr/^\{"blob":"[0-9a-f]{40}","fingerprint":"[0-9a-f]{64}","kind":/m, 'as canonical JSON');
	# lineage's depth bound as in SQL: 1 or more (0 would list nothing)
	IPC::Run::run([ $cli, 'lineage', $shop, 'HEAD', 'marts.revenue', '--direction', 'up', '--max-depth', '1' ],
		'>', \$o, '2>', \$e);
	is(scalar(split /\n/, $o), $node->safe_psql('postgres',
			"${acme}SELECT count(*) FROM ironlayer.lineage('shop', 'HEAD', 'marts.revenue', 'upstream', 1)"),
		'ironlayer lineage --max-depth 1 prints the rows of lineage(..., 1)');
	IPC::Run::run([ $cli, 'lineage', $shop, 'HEAD', 'marts.revenue', '--max-depth', '0' ], '>', \$o, '2>', \$e);
	is($? >> 8, 2, 'ironlayer lineage --max-depth 0 is bad usage (exit 2), as lineage(..., 0) is 22023');
	like($e, qr/invalid --max-depth "0": give a whole number, 1 or more/, 'and says what it takes');
}

# removal
$node->safe_psql('postgres', "${acme}SELECT ironlayer.remove_repo('bare')");
is($node->safe_psql('postgres', "${acme}SELECT string_agg(name, ',' ORDER BY name) FROM ironlayer.repos"), 'ambiguous,cycle,shop', 'remove_repo forgets one');
is($node->safe_psql('postgres', "${acme}SELECT string_agg(action || ':' || entity_id, ',' ORDER BY seq) FROM ironlayer.audit_log WHERE action LIKE 'repo.%'"),
	'repo.add:shop,repo.add:bare,repo.add:cycle,repo.add:ambiguous,repo.remove:bare', 'registrations are audited');

$node->stop;
done_testing();
