# The Databricks SQL warehouse emulator (test/emulator/emulator.py) for TAP
# tests: start it on free loopback ports with a fresh self-signed certificate,
# wait until it is ready, stop it, and drive its control API (faults, rules,
# settings, request log, table contents, execution counts; documented in
# test/emulator/README.md) over its plain-HTTP control port.
#
#   my $emu = Emulator->new(tokens => ['dapi-test']);
#   $emu->url;          # https://127.0.0.1:PORT, the workspace_url
#   $emu->cert_dir;     # holds cert.pem: ironlayer.databricks_ca_directory, ca_bundle 'cert.pem'
#   $emu->add_fault(route => 'statements.create', status => 429, retry_after => 1, count => 2);
#   $emu->table_rows('main.prod_marts.fct_orders')->{rows};
#   $emu->stop;
package Emulator;

use strict;
use warnings;
use Carp;
use File::Basename qw(dirname);
use File::Spec;
use HTTP::Tiny;
use JSON::PP;
use POSIX ();
use PostgreSQL::Test::Utils;
use Time::HiRes qw(usleep);

my $json = JSON::PP->new->utf8->canonical;

# The emulator's directory: beside test/t in the tests' tree.
sub _emulator_dir
{
	my $t = dirname(File::Spec->rel2abs(__FILE__));
	return File::Spec->catdir(dirname($t), 'emulator');
}

# Emulator->new(%options) starts one. Options: tokens => [PATs],
# oauth_clients => { id => secret }, warehouses => [ids] (default one:
# '0123456789abcdef'; any well-formed id when given []), latency_ms,
# token_ttl (s), history_lag_ms, port and control_port (default free ones;
# give the old ones and the old dir to restart it where clients expect it),
# dir (where its certificate, ready file and log go; default a fresh
# temporary directory). Tables live as long as the process.
sub new
{
	my ($class, %o) = @_;
	my $edir = _emulator_dir();
	my $python = $ENV{IRONLAYER_EMULATOR_PYTHON} // "$edir/.venv/bin/python";
	croak "no emulator python at $python: run 'make emulator-venv'" unless -x $python;
	my $dir = $o{dir} // PostgreSQL::Test::Utils::tempdir('emulator');
	my $self = bless {
		dir => $dir,
		cert_dir => "$dir/tls",
		log_file => "$dir/emulator.log",
		http => HTTP::Tiny->new(timeout => 60, keep_alive => 1),
	}, $class;
	my $ready = "$dir/ready.json";
	unlink $ready;
	my @cmd = ($python, "$edir/emulator.py", '--cert-dir', $self->{cert_dir}, '--ready-file', $ready,
		'--exit-with-parent');
	push @cmd, '--token', $_ for @{ $o{tokens} // ['dapi-emulator-token'] };
	push @cmd, '--oauth-client', "$_:$o{oauth_clients}{$_}" for sort keys %{ $o{oauth_clients} // {} };
	push @cmd, '--warehouse', $_ for @{ $o{warehouses} // ['0123456789abcdef'] };
	push @cmd, '--port', $o{port} if defined $o{port};
	push @cmd, '--control-port', $o{control_port} if defined $o{control_port};
	push @cmd, '--latency-ms', $o{latency_ms} if defined $o{latency_ms};
	push @cmd, '--token-ttl', $o{token_ttl} if defined $o{token_ttl};
	push @cmd, '--history-lag-ms', $o{history_lag_ms} if defined $o{history_lag_ms};

	my $pid = fork();
	croak "fork: $!" unless defined $pid;
	if ($pid == 0)
	{
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>>', $self->{log_file}) or POSIX::_exit(126);
		open(STDERR, '>&', \*STDOUT);
		exec(@cmd) or POSIX::_exit(127);
	}
	$self->{pid} = $pid;
	$self->{owner} = $$;			# a forked child of the test never stops it
	my $deadline = time() + 60;
	until (-e $ready)
	{
		if (waitpid($pid, POSIX::WNOHANG()) == $pid || time() > $deadline)
		{
			delete $self->{pid};
			croak "the emulator did not start; its log:\n" . (eval { slurp_file($self->{log_file}) } // '');
		}
		usleep(50_000);
	}
	my $info = $json->decode(slurp_file($ready));
	@$self{qw(port control_port cert)} = @$info{qw(port control_port cert)};
	return $self;
}

sub port         { $_[0]{port} }
sub control_port { $_[0]{control_port} }
sub url          { "https://127.0.0.1:$_[0]{port}" }
sub host         { '127.0.0.1' }
sub cert         { $_[0]{cert} }
sub cert_dir     { $_[0]{cert_dir} }
sub log_file     { $_[0]{log_file} }
sub pid          { $_[0]{pid} }

# Stops it (SIGTERM, then SIGKILL after 10 s). Safe to call twice.
sub stop
{
	my ($self) = @_;
	my $pid = delete $self->{pid} or return;
	kill 'TERM', $pid;
	for (1 .. 200)
	{
		return if waitpid($pid, POSIX::WNOHANG()) == $pid;
		usleep(50_000);
	}
	kill 'KILL', $pid;
	waitpid($pid, 0);
}

sub DESTROY { my ($self) = @_; $self->stop if ($self->{owner} // 0) == $$ }

# control(METHOD, WHAT, BODY) calls /_emulator/WHAT with BODY as JSON and
# returns the decoded answer; dies on an answer other than 200.
sub control
{
	my ($self, $method, $what, $body) = @_;
	my %req = (headers => { 'Content-Type' => 'application/json' });
	$req{content} = $json->encode($body) if defined $body;
	my $r = $self->{http}->request($method, "http://127.0.0.1:$self->{control_port}/_emulator/$what", \%req);
	croak "emulator control $method $what: $r->{status} $r->{content}" unless $r->{status} == 200;
	return $json->decode($r->{content});
}

sub _q { my $s = shift; $s =~ s/([^A-Za-z0-9_.~-])/sprintf('%%%02X', ord($1))/ge; $s }

# Clears faults, rules, settings, the request log, counts and statements;
# with data => 1 also every table.
sub reset          { my ($s, %o) = @_; $s->control('POST', 'reset', { data => $o{data} ? JSON::PP::true : JSON::PP::false }) }
# config(latency_ms => 200, token_ttl_s => 5, history_lag_ms => 2000, chunk_rows => 100,
#        statement_expiry_s => 60, byte_counts => 1, tokens => [...], oauth_clients => {...}, warehouses => [...])
sub config         { my ($s, %c) = @_; $s->control('POST', 'config', \%c) }
# add_rule(match => 'text' | request_id => UUID, action => 'fail'|'hang'|'latency',
#          error_class =>, sql_state =>, message =>, latency_ms =>, times =>)
sub add_rule       { my ($s, %r) = @_; $s->control('POST', 'rules', \%r) }
sub clear_rules    { $_[0]->control('DELETE', 'rules') }
# add_fault(route => 'statements.create'|'statements.get'|'statements.cancel'|'statements.delete'|
#           'statements.chunk'|'history'|'token'|'wellknown'|'hostmeta'|'*', count => K,
#           action => 'respond'|'drop'|'drop_after_create', status => 429, retry_after => N,
#           body => 'json'|'html'|'plain'|'empty', error_code =>, message =>, delay_ms =>)
sub add_fault      { my ($s, %f) = @_; $s->control('POST', 'faults', \%f) }
sub clear_faults   { $_[0]->control('DELETE', 'faults') }
# The request log from entry SINCE on: [{method, path, route, status, statement, query_tags, request_id,
# statement_id, fault, auth, client_id, time_ms}]
sub requests       { my ($s, $since) = @_; $s->control('GET', 'log?since=' . ($since // 0))->{entries} }
# How many times the engine ran the statement of a request id (0 when never).
sub executions     { my ($s, $rid) = @_; $s->control('GET', 'executions?request_id=' . _q($rid))->{count} }
sub all_executions { $_[0]->control('GET', 'executions')->{executions} }
# Statements the emulator knows: [{statement_id, state, request_id, statement, executed, error_class, ...}]
sub statements     { my ($s, $rid) = @_; $s->control('GET', 'statements' . (defined $rid ? '?request_id=' . _q($rid) : ''))->{statements} }
# A table's contents: {columns => [...], types => [...], rows => [[strings or undef]...]} sorted.
sub table_rows     { my ($s, $name) = @_; $s->control('GET', 'table?name=' . _q($name)) }
# Runs one Databricks SQL statement at once (no API, not logged or counted): {columns, rows}.
sub sql            { my ($s, $stmt, %o) = @_; $s->control('POST', 'sql', { statement => $stmt, catalog => $o{catalog} // 'main' }) }
# Loads a CSV file with a header line into catalog.schema.table (replaced); types => {column => 'DUCKDB TYPE'}.
sub load_csv       { my ($s, $table, $path, %o) = @_; $s->control('POST', 'load_csv', { table => $table, path => $path, types => $o{types} // {} })->{rows} }
# Every OAuth access token issued so far expires now.
sub expire_tokens  { $_[0]->control('POST', 'expire_tokens', {}) }

1;
