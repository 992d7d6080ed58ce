# The audit chain under load, across a crash, and checked from outside:
# 8 concurrent clients appending in two tenants with random rollbacks leave
# gapless, valid chains holding exactly the committed entries; entries that
# were committed but not yet sealed survive a crash; and the independent
# verifier of docs/audit.md accepts the exports and names a tampered entry.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $bindir = $ENV{PGBIN} or die "PGBIN is not set";

# The verifier, exactly as the documentation shows it.
my $doc = slurp_file("$ENV{TESTDIR}/../docs/audit.md");
my ($verifier) = $doc =~ /```js\n(.*?)```/s;
ok(defined $verifier && $verifier =~ /createHash/, 'docs/audit.md holds the verifier');
my $vfile = "$PostgreSQL::Test::Utils::tmp_check/verify_audit.js";
open(my $vf, '>', $vfile) or die;
print $vf $verifier;
close($vf);

my $node = PostgreSQL::Test::Cluster->new('audit');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'ironlayer'\nmax_connections = 40\n");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION ironlayer;
	SELECT ironlayer.create_tenant('one'), ironlayer.create_tenant('two');
	CREATE TABLE markers (tenant text, client int);
	CREATE FUNCTION tenant_of(text) RETURNS uuid LANGUAGE sql STABLE
		AS $$ SELECT tenant_id FROM ironlayer.tenants WHERE name = $1 $$;
});

my $script = "$PostgreSQL::Test::Utils::tmp_check/append.sql";
open(my $sf, '>', $script) or die;
print $sf <<'SQL';
\set t random(1, 2)
\set r random(1, 4)
BEGIN;
SELECT ironlayer._audit(tenant_of(CASE :t WHEN 1 THEN 'one' ELSE 'two' END), 'load.append', 'client', :client_id::text, jsonb_build_object('r', :r));
INSERT INTO markers VALUES (CASE :t WHEN 1 THEN 'one' ELSE 'two' END, :client_id);
\if :r = 1
ROLLBACK;
\else
COMMIT;
\endif
SQL
close($sf);
my ($out, $err) = ('', '');
IPC::Run::run([ "$bindir/pgbench", '-n', '-c', '8', '-j', '2', '-t', '250', '-f', $script,
		'-h', $node->host, '-p', $node->port, 'postgres' ], '>', \$out, '2>', \$err);
like($out, qr/number of transactions actually processed: 2000\/2000/, '8 clients ran 2000 transactions') or diag($err);

sub chain
{
	my ($tenant) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT ironlayer.use_tenant('$tenant') \\gset
		SELECT r.ok || '|' || r.entries || '|' || (SELECT count(*) FROM markers WHERE tenant = '$tenant')
		  || '|' || (SELECT max(seq) FROM ironlayer.audit_log WHERE tenant_id = tenant_of('$tenant'))
		  || '|' || (SELECT count(DISTINCT seq) FROM ironlayer.audit_log WHERE tenant_id = tenant_of('$tenant'))
		  FROM ironlayer.verify_audit() r});
}
for my $tenant ('one', 'two')
{
	my ($ok, $entries, $markers, $max, $distinct) = split /\|/, chain($tenant);
	is($ok, 'true', "tenant $tenant: the chain verifies");
	is($entries, $markers + 1, "tenant $tenant: exactly the committed appends (and the creation) are in it");
	ok($max == $entries && $distinct == $entries, "tenant $tenant: seq runs 1..$entries without a gap");
}
cmp_ok($node->safe_psql('postgres', 'SELECT count(*) FROM markers'), '<', 2000, 'some transactions rolled back');
is($node->safe_psql('postgres', 'SELECT count(*) FROM ironlayer.audit_queue'), '0', 'nothing is left unsealed');

# Committed but not yet sealed entries survive a crash.
my $holder = $node->background_psql('postgres');
$holder->query_safe(q{BEGIN; SET CONSTRAINTS ALL IMMEDIATE;
	SELECT ironlayer._audit(tenant_of('one'), 'crash.holder', 'client', 'holder')});
$node->safe_psql('postgres', q{SELECT ironlayer._audit(tenant_of('one'), 'crash.queued', 'client', 'a');
	SELECT ironlayer._audit(tenant_of('one'), 'crash.queued', 'client', 'b')});
is($node->safe_psql('postgres', 'SELECT count(*) FROM ironlayer.audit_queue'), '2',
	'two committed entries wait in the queue while another transaction holds the head');
$node->stop('immediate');
$holder->quit;
$node->start;
my ($ok, $entries) = split /\|/, chain('one');
is($ok, 'true', 'after the crash the chain verifies');
is($node->safe_psql('postgres', q{SELECT string_agg(action || ':' || entity_id, ',' ORDER BY seq)
	FROM ironlayer.audit_log WHERE tenant_id = tenant_of('one') AND action LIKE 'crash.%'}),
	'crash.queued:a,crash.queued:b', 'the committed entries were sealed, the crashed one is gone');

# The independent verifier on real exports.
sub export_verify
{
	my ($tenant) = @_;
	my $export = $node->safe_psql('postgres',
		"SELECT ironlayer.use_tenant('$tenant') \\gset\nSELECT e FROM ironlayer.audit_export() e");
	my ($stdout, $stderr) = ('', '');
	IPC::Run::run([ 'node', $vfile ], '<', \$export, '>', \$stdout, '2>', \$stderr);
	return ($? >> 8, $stdout . $stderr);
}
for my $tenant ('one', 'two')
{
	my ($rc, $msg) = export_verify($tenant);
	my $n = (split /\|/, chain($tenant))[1];
	is($rc, 0, "the independent verifier accepts the export of tenant $tenant");
	like($msg, qr/^ok: $n entries, last hash [0-9a-f]{64}$/m, "and counts its $n entries");
}
$node->safe_psql('postgres', q{
	SET session_replication_role = replica;
	UPDATE ironlayer.audit_log SET entity_id = 'forged' WHERE tenant_id = tenant_of('two') AND seq = 7});
my ($rc, $msg) = export_verify('two');
is($rc, 1, 'the independent verifier rejects a tampered export');
like($msg, qr/FAILED: entry 7: the hash does not match its content/, 'and names the entry');
like(chain('two'), qr/^false\|/, 'verify_audit() agrees');

$node->stop;
done_testing();
