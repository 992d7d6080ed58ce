# The Databricks emulator as TAP tests drive it (test/t/Emulator.pm): it
# starts on free loopback ports with a certificate a client can trust, answers
# the Statement Execution API over TLS, and its control API sets faults and
# rules and reads back the request log, execution counts and table contents.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use Emulator;

my $emu = Emulator->new(tokens => ['dapi-tap'], oauth_clients => { 'sp-id' => 'sp-secret' });
ok($emu->port > 0 && $emu->control_port > 0, 'the emulator started on two ports');
ok(-f $emu->cert_dir . '/cert.pem', 'its certificate is in cert_dir');
like($emu->url, qr{^https://127\.0\.0\.1:\d+$}, 'url is https on 127.0.0.1');

# A client over TLS that trusts only cert.pem: the venv's python, as a
# stand-in for the C client.
my $python = $ENV{IRONLAYER_EMULATOR_PYTHON} // "$ENV{TESTDIR}/emulator/.venv/bin/python";
sub api
{
	my ($method, $path, $body, $token) = @_;
	my $script = <<'PY';
import http.client, json, ssl, sys
port, cafile, method, path, body, token = sys.argv[1:7]
c = http.client.HTTPSConnection('127.0.0.1', int(port), context=ssl.create_default_context(cafile=cafile))
c.request(method, path, body=body or None, headers={'Authorization': 'Bearer ' + token,
          'Content-Type': 'application/json'})
r = c.getresponse()
print(r.status, r.read().decode())
PY
	my ($out, $err) = ('', '');
	IPC::Run::run([ $python, '-c', $script, $emu->port, $emu->cert, $method, $path, $body // '', $token // 'dapi-tap' ],
		'>', \$out, '2>', \$err) or die "client: $err";
	chomp $out;
	my ($status, $json) = split / /, $out, 2;
	return ($status, $json ? JSON::PP->new->decode($json) : undef);
}

my $rid = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
my ($st, $ans) = api('POST', '/api/2.0/sql/statements', JSON::PP->new->encode({
	warehouse_id => '0123456789abcdef', catalog => 'main', wait_timeout => '10s',
	statement => "/* ironlayer_request_id=$rid */\nCREATE OR REPLACE TABLE `main`.`s`.`t` AS SELECT 1 AS a",
	query_tags => [ { key => 'ironlayer_request_id', value => $rid } ] }));
is($st, 200, 'POST /statements over TLS');
is($ans->{status}{state}, 'FAILED', 'a table in a schema that does not exist fails');
like($ans->{status}{error}{message}, qr/^\[SCHEMA_NOT_FOUND\]/, 'with the error class first');

$emu->sql('CREATE SCHEMA IF NOT EXISTS `main`.`s`');
($st, $ans) = api('POST', '/api/2.0/sql/statements', JSON::PP->new->encode({
	warehouse_id => '0123456789abcdef', catalog => 'main', wait_timeout => '10s',
	statement => "/* ironlayer_request_id=$rid */\nCREATE OR REPLACE TABLE `main`.`s`.`t` AS SELECT 1 AS a UNION ALL SELECT NULL",
	query_tags => [ { key => 'ironlayer_request_id', value => $rid } ] }));
is($ans->{status}{state}, 'SUCCEEDED', 'then it succeeds');
is_deeply($emu->table_rows('main.s.t'), { columns => ['a'], types => ['INT'], rows => [ [undef], ['1'] ] },
	'table_rows: sorted strings, NULL as undef');
is($emu->executions($rid), 2, 'executions counts both runs of the request id');
my $log = $emu->requests;
is(scalar @$log, 2, 'the request log has both POSTs');
is($log->[1]{request_id}, $rid, 'with the request id');
is_deeply($log->[1]{query_tags}, [ { key => 'ironlayer_request_id', value => $rid } ], 'and the tags');

($st) = api('GET', '/api/2.0/sql/statements/' . $ans->{statement_id}, undef, 'dapi-wrong');
is($st, 403, 'a wrong token is refused with 403');

$emu->add_fault(route => 'statements.get', status => 429, retry_after => 7, count => 1);
($st, $ans) = api('GET', '/api/2.0/sql/statements/' . $ans->{statement_id});
is($st, 429, 'add_fault: the next GET is throttled');
is($ans->{error_code}, 'REQUEST_LIMIT_EXCEEDED', 'with a JSON error body');

$emu->add_rule(match => 'SELECT 42', action => 'fail', error_class => 'DIVIDE_BY_ZERO', sql_state => '22012');
($st, $ans) = api('POST', '/api/2.0/sql/statements', JSON::PP->new->encode({
	warehouse_id => '0123456789abcdef', statement => 'SELECT 42', wait_timeout => '10s' }));
is($ans->{status}{sql_state}, '22012', 'add_rule: a matching statement fails as told');

my $csv = $emu->{dir} . '/src.csv';
open(my $fh, '>', $csv) or die;
print $fh "id,at\n1,2024-01-02 03:04:05\n2,\n";
close $fh;
is($emu->load_csv('main.source.events', $csv, types => { at => 'TIMESTAMPTZ' }), 2, 'load_csv loads rows');
is_deeply($emu->sql('SELECT id, at FROM source.events ORDER BY id')->{rows},
	[ [ '1', '2024-01-02T03:04:05.000Z' ], [ '2', undef ] ], 'sql reads them back as the API encodes them');

$emu->config(latency_ms => 100);
is($emu->control('GET', 'config')->{latency_ms}, 100, 'config sets the simulated run time');
$emu->reset(data => 1);
is(scalar @{ $emu->requests }, 0, 'reset clears the log');
is($emu->control('GET', 'config')->{latency_ms}, 0, 'and the settings');

my $pid = $emu->pid;
my ($port, $dir, $cert) = ($emu->port, $emu->{dir}, PostgreSQL::Test::Utils::slurp_file($emu->cert));
$emu->stop;
ok(!kill(0, $pid), 'stop ends the process');

$emu = Emulator->new(tokens => ['dapi-tap'], port => $port, dir => $dir);
is($emu->port, $port, 'a restart can take the same port');
is(PostgreSQL::Test::Utils::slurp_file($emu->cert), $cert, 'and keeps the certificate of its directory');
($st) = api('GET', '/api/2.0/sql/statements/aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee');
is($st, 404, 'a restarted emulator has forgotten every statement');
$emu->stop;

done_testing();
