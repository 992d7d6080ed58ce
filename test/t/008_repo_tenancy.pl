# Repositories among tenants (docs/repositories.md, "Who may register a
# repository" and "Confinement"). A repository belongs to the tenant that
# registered it first, whatever path names it: its directory, its .git
# directory, a symbolic link to it, a linked worktree; another tenant's
# admin is refused without learning who holds it, until the holder removes
# its last registration. And a repository is confined to ironlayer.repo_root
# each time it is opened, not only at add_repo: a directory swapped for a
# symbolic link later, an alternates file, another repository put in its
# place or a changed root is refused (42501) by models() and plan(), in a
# session that had the repository open and in a new one.
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

# ---------------------------------------------------------------- confinement

($out, $err) = run_as('acme', "SELECT ironlayer.add_repo('victim', 'victim') > 0");
is($out, 't', 'acme registers its repository again');
my $models = "SELECT string_agg(name, ',') FROM ironlayer.models('victim', 'HEAD')";
my $plan = "SELECT ironlayer.plan('victim', 'HEAD~1', 'HEAD', '2026-01-15')->>'plan_id' IS NOT NULL";

# A session that has the repository open (its libgit2 handle is kept).
my $bg = $node->background_psql('postgres', on_error_stop => 0);
$bg->query_safe("\\set VERBOSITY verbose\nSET ROLE regress_acme");
$bg->query_safe("SELECT FROM ironlayer.use_tenant('acme')");
is($bg->query_safe($models), 'acme.orders', 'a session reads the repository and keeps it open');
is($bg->query_safe($plan), 't', 'and plans it');

# (stdout, stderr) of SQL in the session that keeps the repository open
sub in_open
{
	my ($sql) = @_;
	$bg->{stderr} = '';
	my $o = $bg->query($sql);
	return ($o, $bg->{stderr});
}

# Swaps: each is refused in the open session and in a new one, by models()
# and plan(), and the repository reads again once it is put back.
sub refused
{
	my ($what, $pattern) = @_;
	for my $sql ($models, $plan)
	{
		my $f = $sql eq $models ? 'models()' : 'plan()';
		my ($o, $e) = in_open($sql);
		like($e, $pattern, "$what: $f is refused in the session that had it open");
		unlike("$o$e", qr/secret|rival\.data|\Q$outside\E|\Q$root\E\/other/,
			"$what: $f reveals nothing of the other repository");
		($o, $e) = run_as('acme', $sql);
		like($e, $pattern, "$what: $f is refused in a new session");
	}
}

sub restored
{
	my ($what) = @_;
	my ($o, $e) = in_open($models);
	is("$o$e", 'acme.orders', "$what put back: the open session reads it again");
}

rename("$root/victim/.git", "$root/victim/.git.saved") or die;
symlink("$outside/secret/.git", "$root/victim/.git") or die;
refused('.git swapped for a link out of the root',
	qr/ERROR:\s+42501: the git directory of repository "[^"]*victim" lies outside the root directory/);
unlink("$root/victim/.git") or die;
rename("$root/victim/.git.saved", "$root/victim/.git") or die;
restored('.git');

rename("$root/victim/.git/objects", "$root/victim/.git/objects.saved") or die;
symlink("$outside/secret/.git/objects", "$root/victim/.git/objects") or die;
refused('objects swapped for a link out of the root',
	qr/ERROR:\s+42501: the objects directory of repository "[^"]*victim" lies outside the root directory/);
unlink("$root/victim/.git/objects") or die;
rename("$root/victim/.git/objects.saved", "$root/victim/.git/objects") or die;
restored('objects');

write_file("$root/victim/.git/objects/info/alternates", "$outside/secret/.git/objects\n");
refused('an alternates file', qr/ERROR:\s+42501: repository "[^"]*victim" borrows objects from other directories/);
unlink("$root/victim/.git/objects/info/alternates") or die;
restored('no alternates');

rename("$root/victim", "$root/victim.saved") or die;
symlink("$root/other", "$root/victim") or die;
refused('the directory swapped for a link to another repository in the root',
	qr/ERROR:\s+42501: repository path "[^"]*victim" no longer resolves to itself/);
unlink("$root/victim") or die;
rename("$root/victim.saved", "$root/victim") or die;
restored('the directory');

rename("$root/victim/.git", "$root/victim/.git.saved") or die;
write_file("$root/victim/.git", "gitdir: $root/other/.git\n");
refused('a .git file pointing at another repository in the root',
	qr/ERROR:\s+42501: repository path "[^"]*victim" holds another repository than the one registered/);
unlink("$root/victim/.git") or die;
rename("$root/victim/.git.saved", "$root/victim/.git") or die;
restored('the .git directory');

# The root may change at a reload.
my $elsewhere = "$PostgreSQL::Test::Utils::tmp_check/elsewhere";
make_path($elsewhere);
$node->append_conf('postgresql.conf', "ironlayer.repo_root = '$elsewhere'\n");
$node->reload;
$node->poll_query_until('postgres', "SELECT current_setting('ironlayer.repo_root') = '$elsewhere'") or die;
refused('a root that no longer holds it', qr/ERROR:\s+42501: repository path "[^"]*victim" lies outside the root directory/);
$node->append_conf('postgresql.conf', "ironlayer.repo_root = ''\n");
$node->reload;
$node->poll_query_until('postgres', "SELECT current_setting('ironlayer.repo_root') = ''") or die;
refused('no root', qr/ERROR:\s+55000: no repository root is configured/);
$node->append_conf('postgresql.conf', "ironlayer.repo_root = '$root'\n");
$node->reload;
$node->poll_query_until('postgres', "SELECT current_setting('ironlayer.repo_root') = '$root'") or die;
restored('the root');

$bg->quit;
$node->stop;
done_testing();
