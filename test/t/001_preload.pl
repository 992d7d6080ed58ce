# The library must be preloaded: with it in shared_preload_libraries the
# extension installs and answers; without it CREATE EXTENSION fails with a
# clear error and a hint, and leaves nothing behind.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $version = $ENV{IRONLAYER_VERSION} or die "IRONLAYER_VERSION is not set";

# A cluster with ironlayer (and pg_cron) preloaded.
my $node = PostgreSQL::Test::Cluster->new('preloaded');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'ironlayer,pg_cron'
cron.database_name = 'postgres'
});
$node->start;

like($node->safe_psql('postgres', 'SHOW shared_preload_libraries'),
	qr/\bironlayer\b/, 'ironlayer is in shared_preload_libraries');
$node->safe_psql('postgres', 'CREATE EXTENSION ironlayer');
is($node->safe_psql('postgres', 'SELECT ironlayer.version()'),
	$version, "ironlayer.version() answers $version");
is($node->safe_psql('postgres', 'SELECT ironlayer.preloaded()'),
	't', 'the library reports it was preloaded');
is($node->safe_psql('postgres',
		"SELECT extversion FROM pg_extension WHERE extname = 'ironlayer'"),
	$version, 'the install script has the same version');

# A second database installs too: the group roles are shared and reused.
$node->safe_psql('postgres', 'CREATE DATABASE second');
$node->safe_psql('second', 'CREATE EXTENSION ironlayer');
is($node->safe_psql('second',
		"SELECT count(*) FROM pg_roles WHERE rolname LIKE 'ironlayer\\_%'"),
	'4', 'a second database reuses the four group roles');

# The binding is private to a backend: another session does not see it.
$node->safe_psql('postgres', q{SELECT ironlayer.create_tenant('acme')});
is($node->safe_psql('postgres',
		q{SELECT ironlayer.use_tenant('acme') IS NOT NULL; SELECT ironlayer.current_tenant_role()}),
	"t\nadmin", 'a session binds to a tenant');
is($node->safe_psql('postgres', 'SELECT ironlayer.current_tenant() IS NULL'),
	't', 'a new session starts unbound');
$node->stop;

# A cluster without it: the clear error, with the hint, and no extension.
my $bare = PostgreSQL::Test::Cluster->new('bare');
$bare->init;
$bare->start;
my ($ret, $stdout, $stderr) = $bare->psql('postgres', 'CREATE EXTENSION ironlayer');
isnt($ret, 0, 'CREATE EXTENSION fails without the library preloaded');
like($stderr, qr/ERROR:\s+ironlayer must be loaded via shared_preload_libraries/,
	'the error names shared_preload_libraries');
like($stderr, qr/HINT:\s+Add ironlayer to shared_preload_libraries in postgresql.conf and restart the server\./,
	'the error carries the hint');
is($bare->safe_psql('postgres',
		"SELECT count(*) FROM pg_extension WHERE extname = 'ironlayer'"),
	'0', 'nothing was installed');
is($bare->safe_psql('postgres',
		"SELECT count(*) FROM pg_namespace WHERE nspname = 'ironlayer'"),
	'0', 'no schema was left behind');
($ret, $stdout, $stderr) = $bare->psql('postgres',
	'\set VERBOSITY verbose' . "\n" . 'CREATE EXTENSION ironlayer');
like($stderr, qr/ERROR:\s+55000:/, 'the SQLSTATE is 55000 (object_not_in_prerequisite_state)');
$bare->stop;

done_testing();
