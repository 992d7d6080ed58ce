# Repositories among tenants (docs/repositories.md, "Who may register a
# repository"). A repository belongs to the tenant that registered it
# first, whatever path names it: its directory, its .git directory, a
# symbolic link to it, a linked worktree; another tenant's admin is refused
# without learning who holds it, until the holder removes its last
# registration.
use strict;
use warnings;
use File::Path qw(make_path);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RepoUtil;

my $root = "$PostgreSQL::Test::Utils::tmp_check/repos";
my $outside = "$PostgreSQL::Test::Utils::tmp_check/outside";
make_path($root, $outside);

# A repository at DIR with a model NAME in two commits (HEAD~1, HEAD).
sub make_repo
{
	my ($dir, $name) = @_;
	make_path($dir);
	git($dir, 'init', '-q');
	write_file("$dir/models/m.sql", "-- name: $name\n-- kind: FULL_REFRESH\nSELECT 1 AS x\n");
	git($dir, 'add', '-A');
	git($dir, 'commit', '-q', '-m', 'one');
	write_file("$dir/models/m.sql", "-- name: $name\n-- kind: FULL_REFRESH\nSELECT 2 AS x\n");
	git($dir, 'commit', '-q', '-am', 'two');
}

make_repo("$root/victim", 'acme.orders');
git("$root/victim", 'worktree', 'add', '-q', '--detach', "$root/victim-wt");
symlink("$root/victim", "$root/victim-link") or die;
make_repo("$root/other", 'rival.data');	# another repository inside the root
make_repo("$outside/secret", 'secret.payroll');	# and one outside it

my $node = PostgreSQL::Test::Cluster->new('tenancy');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'ironlayer'\nironlayer.repo_root = '$root'\n");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION ironlayer;
	CREATE ROLE regress_acme;
	CREATE ROLE regress_rival;
	GRANT ironlayer_admin TO regress_acme, regress_rival;
	SET ROLE regress_acme;
	SELECT ironlayer.create_tenant('acme');
	SET ROLE regress_rival;
	SELECT ironlayer.create_tenant('rival');
});
my %as = (
	acme => "\\set VERBOSITY verbose\nSET ROLE regress_acme;\nSELECT FROM ironlayer.use_tenant('acme') \\gset\n",
	rival => "\\set VERBOSITY verbose\nSET ROLE regress_rival;\nSELECT FROM ironlayer.use_tenant('rival') \\gset\n");

# (stdout, stderr) of SQL run by a tenant's admin in a new session
sub run_as
{
	my ($tenant, $sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', $as{$tenant} . $sql);
	return ($out, $err);
}

# ---------------------------------------------------------------- claims

my ($out, $err) = run_as('acme', "SELECT ironlayer.add_repo('victim', 'victim') > 0");
is($out, 't', 'acme registers its repository');
for my $path ('victim', 'victim/', 'victim/.git', 'victim-link', 'victim-wt', "$root/victim")
{
	($out, $err) = run_as('rival', "SELECT ironlayer.add_repo('mine', '$path')");
	like($err, qr/ERROR:\s+42501: repository "\Q$path\E" is registered by another tenant/,
		"another tenant cannot register it as '$path'");
	unlike($err, qr/acme/, 'and is not told which tenant holds it');
}
($out, $err) = run_as('rival', "SELECT ironlayer.add_repo('theirs', 'other') > 0");
is($out, 't', 'another repository is free to claim');
($out, $err) = run_as('acme', "SELECT ironlayer.add_repo('wt', 'victim-wt') > 0, ironlayer.add_repo('link', 'victim-link') > 0, ironlayer.add_repo('dotgit', 'victim/.git') > 0");
is($out, 't|t|t', 'the holder registers the same repository under several names');
($out, $err) = run_as('acme', "SELECT count(*), count(DISTINCT store), bool_and(store = '$root/victim/.git') FROM ironlayer.repos");
is($out, '4|1|t', 'all four are one store: the resolved common git directory');
($out, $err) = run_as('acme', "SELECT count(*) FROM ironlayer.models('wt', 'HEAD')");
is($out, '1', 'the linked worktree reads the repository');
run_as('acme', "SELECT ironlayer.remove_repo('victim'), ironlayer.remove_repo('wt'), ironlayer.remove_repo('dotgit')");
($out, $err) = run_as('rival', "SELECT ironlayer.add_repo('mine', 'victim')");
like($err, qr/42501: .*registered by another tenant/, 'the claim holds while one registration is left');
run_as('acme', "SELECT ironlayer.remove_repo('link')");
($out, $err) = run_as('rival', "SELECT ironlayer.add_repo('mine', 'victim-wt') > 0");
is($out, 't', 'the last removal gives the claim up: another tenant may claim it');
($out, $err) = run_as('acme', "SELECT ironlayer.add_repo('victim', 'victim')");
like($err, qr/42501: .*registered by another tenant/, 'and then it is theirs');
run_as('rival', "SELECT ironlayer.remove_repo('mine')");

$node->stop;
done_testing();
