# The credentials vault end to end: `ironlayer credential put` seals a secret
# on the client; the secret appears in no log, no pg_stat_activity row and
# no table (a full pg_dump); the stored token is standard Fernet both ways
# (checked against Python's cryptography package); a wrong or missing key
# is a clear error that changes nothing; rotation re-encrypts everything.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $bindir = $ENV{PGBIN} or die "PGBIN is not set";
my $cli = $ENV{IRONLAYER_CLI} or die "IRONLAYER_CLI is not set";
my $python = '/usr/bin/python3';

my $keyfile = "$PostgreSQL::Test::Utils::tmp_check/vault_master.key";
sub write_key
{
	my ($content) = @_;
	open(my $fh, '>', $keyfile) or die "cannot write $keyfile: $!";
	print $fh "$content\n";
	close($fh);
	chmod(0600, $keyfile);
}
write_key('first-master-key-0123456789abcdef');

my $node = PostgreSQL::Test::Cluster->new('vault');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'ironlayer'
ironlayer.master_key_file = '$keyfile'
log_statement = 'all'
log_min_error_statement = 'info'
});
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION ironlayer;
	SELECT ironlayer.create_tenant('acme');
});

like(slurp_file($node->logfile), qr/ironlayer: vault master key loaded/, 'the key was loaded at server start');
unlike(slurp_file($node->logfile), qr/first-master-key/, 'the key itself is not logged');

local $ENV{PGHOST} = $node->host;
local $ENV{PGPORT} = $node->port;
local $ENV{PGDATABASE} = 'postgres';

sub put
{
	my ($name, $secret, @extra) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ $cli, 'credential', 'put', $name, '--tenant', 'acme', @extra ],
		'<', \"$secret\n", '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

my $secret = 'dapi-SECRET-' . join('', map { ('a' .. 'z')[ rand 26 ] } 1 .. 24);
my ($rc, $out, $err) = put('dbx-token', $secret, '--kind', 'token');
is($rc, 0, 'credential put succeeds') or diag($err);
like($out, qr/^acme dbx-token [0-9a-f]{16}\n\z/, 'it prints the tenant, the name and a fingerprint');
my ($fp) = $out =~ /([0-9a-f]{16})/;

my $bound = "SELECT ironlayer.use_tenant('acme') \\gset\n";
my @rows = split /\n/, $node->safe_psql('postgres', "$bound SELECT name || '|' || kind || '|' || fingerprint FROM ironlayer.credentials");
is($rows[-1], "dbx-token|token|$fp", 'ironlayer.credentials shows name, kind and the fingerprint');

# The secret appears nowhere; the statements were logged, with the sealed text.
my $log = slurp_file($node->logfile);
like($log, qr/execute <unnamed>: SELECT ironlayer\.put_credential/, 'the statement was logged (log_statement = all)');
like($log, qr/parameters: .*'ilseal1:/, 'with its parameters, which hold the sealed text');
unlike($log, qr/\Q$secret\E/, 'the secret is not in the server log');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%' || \$q\$$secret\$q\$ || '%' AND pid <> pg_backend_pid()"),
	'0', 'the secret is in no pg_stat_activity row');
my $dump = '';
IPC::Run::run([ "$bindir/pg_dump", '-h', $node->host, '-p', $node->port, '--data-only', 'postgres' ],
	'>', \$dump, '2>', \my $dump_err);
like($dump, qr/credential_store/, 'a data dump includes the credential table');
unlike($dump, qr/\Q$secret\E/, 'the secret is in no table');

# Standard Fernet, checked with Python's cryptography package.
my ($token, $salt, $iter) = split /\|/, $node->safe_psql('postgres', q{
	SELECT s.token || '|' || encode(m.salt, 'hex') || '|' || m.iterations
	  FROM ironlayer.credential_store s, ironlayer.vault_meta m WHERE s.name = 'dbx-token'});
cmp_ok($iter, '>=', 600000, 'PBKDF2 uses at least 600,000 iterations');
my $py_key = <<'PY';
import base64, hmac, hashlib, sys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from cryptography.fernet import Fernet
master = open(sys.argv[1], 'rb').read()
master = master[:-1] if master.endswith(b'\n') else master
root = PBKDF2HMAC(hashes.SHA256(), 32, bytes.fromhex(sys.argv[2]), int(sys.argv[3])).derive(master)
f = Fernet(base64.urlsafe_b64encode(root))
if sys.argv[4] == 'decrypt':
    sys.stdout.write(f.decrypt(sys.argv[5].encode()).decode())
else:
    secret = sys.argv[5].encode()
    fp = hmac.new(root, b'ironlayer vault fingerprint v1\x00' + secret, hashlib.sha256).hexdigest()[:16]
    sys.stdout.write(f.encrypt(secret).decode() + '|' + fp)
PY
my ($py_out, $py_err) = ('', '');
IPC::Run::run([ $python, '-c', $py_key, $keyfile, $salt, $iter, 'decrypt', $token ], '>', \$py_out, '2>', \$py_err);
is($py_out, $secret, 'Python\'s Fernet decrypts the stored token to the secret') or diag($py_err);

($py_out, $py_err) = ('', '');
IPC::Run::run([ $python, '-c', $py_key, $keyfile, $salt, $iter, 'encrypt', 'made-by-python' ], '>', \$py_out, '2>', \$py_err);
my ($py_token, $py_fp) = split /\|/, $py_out;
ok(defined $py_fp && length($py_fp) == 16, 'Python made a token and a fingerprint') or diag($py_err);
$node->safe_psql('postgres', qq{
	UPDATE ironlayer.credential_store SET token = '$py_token', fingerprint = '$py_fp' WHERE name = 'dbx-token'});
is($node->safe_psql('postgres', "$bound SELECT ok::text || coalesce(reason, '') FROM ironlayer.check_credentials()"),
	"true", 'a token made by Python decrypts here and matches its fingerprint');

# Tampering with a token is found.
my $tampered = substr($py_token, 0, 60) . (substr($py_token, 60, 1) eq 'A' ? 'B' : 'A') . substr($py_token, 61);
$node->safe_psql('postgres', qq{UPDATE ironlayer.credential_store SET token = '$tampered' WHERE name = 'dbx-token'});
like($node->safe_psql('postgres', "$bound SELECT ok::text || ' ' || reason FROM ironlayer.check_credentials()"),
	qr/^false the token does not decrypt/, 'a tampered token is reported');
($rc, $out, $err) = put('dbx-token', $secret);
is($rc, 0, 'storing the credential again replaces it');

# Rotation: the file gets a new key while the server still holds the old.
write_key('second-master-key-fedcba9876543210');
is($node->safe_psql('postgres', 'SELECT ironlayer.rotate_master_key()'), '1', 'rotation re-encrypts one credential');
is($node->safe_psql('postgres', "$bound SELECT ok FROM ironlayer.check_credentials()"), 't', 'it decrypts after rotation');
($token, $salt, $iter) = split /\|/, $node->safe_psql('postgres', q{
	SELECT s.token || '|' || encode(m.salt, 'hex') || '|' || m.iterations
	  FROM ironlayer.credential_store s, ironlayer.vault_meta m WHERE s.name = 'dbx-token'});
($py_out, $py_err) = ('', '');
IPC::Run::run([ $python, '-c', $py_key, $keyfile, $salt, $iter, 'decrypt', $token ], '>', \$py_out, '2>', \$py_err);
is($py_out, $secret, 'the rotated token decrypts with the new key');
my $audit = $node->safe_psql('postgres', "$bound SELECT string_agg(action, ',' ORDER BY seq) FROM ironlayer.audit_log WHERE tenant_id = ironlayer.current_tenant()");
is($audit, 'tenant.create,credential.put,credential.put,vault.rotate', 'puts and the rotation are audited');
unlike($node->safe_psql('postgres', "$bound SELECT string_agg(details::text, ' ') FROM ironlayer.audit_log"),
	qr/\Q$secret\E/, 'the audit log never holds the secret');

# Another session (holding the old key from server start) follows the rotation.
($rc, $out, $err) = put('second', 'another-secret-value');
is($rc, 0, 'a new session stores under the rotated key') or diag($err);
$node->restart;
is($node->safe_psql('postgres', "$bound SELECT string_agg(ok::text, ',') FROM ironlayer.check_credentials()"),
	'true,true', 'after a restart the new key file is read and everything decrypts');

# The Databricks kinds have a form (docs/databricks.md), checked on the
# opened secret before anything is stored; a refusal repeats none of it.
my $pat = 'dapi' . join('', map { ('a' .. 'f', 0 .. 9)[ rand 16 ] } 1 .. 32);
($rc, $out, $err) = put('dbx-pat', $pat, '--kind', 'databricks-pat');
is($rc, 0, 'a personal access token is stored as databricks-pat') or diag($err);
my $client_secret = 'dose' . join('', map { ('a' .. 'z')[ rand 26 ] } 1 .. 24);
($rc, $out, $err) = put('dbx-oauth',
	qq({"client_id": "6f1c0c6a-1b2c-4d5e-8f90-0123456789ab", "client_secret": "$client_secret"}),
	'--kind', 'databricks-oauth');
is($rc, 0, 'an OAuth client is stored as databricks-oauth') or diag($err);
my $marker = 'NEVERSHOWN' . join('', map { ('A' .. 'Z')[ rand 26 ] } 1 .. 12);
foreach my $bad (
	[ 'databricks-pat', "dapi $marker", 'a token with a space' ],
	[ 'databricks-pat', "dapi$marker
X-Evil: 1", 'a token with a line break' ],
	[ 'databricks-oauth', $marker, 'an OAuth secret that is no JSON' ],
	[ 'databricks-oauth', qq({"client_id": "$marker"}), 'an OAuth secret without client_secret' ],
	[ 'databricks-oauth', qq({"client_id": "a", "client_secret": "$marker", "x": 1}), 'an OAuth secret with another member' ],
	[ 'databricks-oauth', qq({"client_id": "a", "client_secret": "$marker\n"}), 'an OAuth secret with a line break' ])
{
	my ($kind, $value, $what) = @$bad;
	($rc, $out, $err) = put('dbx-bad', $value, '--kind', $kind);
	isnt($rc, 0, "refused: $what");
	like($err, qr/invalid secret for a \Q$kind\E credential/, "  with a clear error");
	unlike($err, qr/$marker/, '  that repeats none of the secret');
}
is($node->safe_psql('postgres', "$bound SELECT string_agg(name || ':' || kind, ',' ORDER BY name) FROM ironlayer.credentials"),
	'dbx-oauth:databricks-oauth,dbx-pat:databricks-pat,dbx-token:token,second:token',
	'the good ones are stored, the refused ones are not');
is($node->safe_psql('postgres', "$bound SELECT string_agg(ok::text, ',') FROM ironlayer.check_credentials()"),
	'true,true,true,true', 'and decrypt');
$log = slurp_file($node->logfile);
unlike($log, qr/\Q$pat\E|\Q$client_secret\E|$marker/, 'no Databricks secret, good or refused, is in the server log');

# A wrong key: a clear error, and nothing changes.
$node->stop;
write_key('a-completely-wrong-master-key-000');
$node->start;
my $before = $node->safe_psql('postgres', q{SELECT string_agg(token, ',' ORDER BY name) FROM ironlayer.credential_store});
my ($ret, $stdout, $stderr) = $node->psql('postgres', 'SELECT ironlayer.vault_public_key()');
like($stderr, qr/the vault master key does not match this database/, 'a wrong key is named as such');
($rc, $out, $err) = put('dbx-token', 'overwrite-attempt');
isnt($rc, 0, 'credential put fails with a wrong key');
like($err, qr/does not match this database/, 'and says why');
is($node->safe_psql('postgres', q{SELECT string_agg(token, ',' ORDER BY name) FROM ironlayer.credential_store}),
	$before, 'nothing was changed');
($ret, $stdout, $stderr) = $node->psql('postgres', 'SELECT ironlayer.rotate_master_key()');
like($stderr, qr/does not match this database/, 'rotation refuses to start from a wrong key');
$node->stop;

# No key file at all.
my $bare = PostgreSQL::Test::Cluster->new('nokey');
$bare->init;
$bare->append_conf('postgresql.conf', "shared_preload_libraries = 'ironlayer'\n");
$bare->start;
$bare->safe_psql('postgres', "CREATE EXTENSION ironlayer; SELECT ironlayer.create_tenant('acme')");
($ret, $stdout, $stderr) = $bare->psql('postgres', '\set VERBOSITY verbose' . "\n" . 'SELECT ironlayer.vault_public_key()');
like($stderr, qr/ERROR:\s+55000: the vault has no master key/, 'without a key file: 55000, the vault has no master key');
like($stderr, qr/HINT:\s+Set ironlayer.master_key_file/, 'with a hint naming the setting');
is($bare->safe_psql('postgres', 'SELECT count(*) FROM ironlayer.vault_meta'), '0', 'and nothing was written');
$bare->stop;

done_testing();
