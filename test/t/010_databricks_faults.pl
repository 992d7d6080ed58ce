# The dispatcher against a warehouse that misbehaves (the emulator's
# faults): 429 with Retry-After and 503 on submit are re-sent, 500, HTML
# and 429 answers to polls are retried; a submit answered 500, or whose
# connection dropped after the statement was created, is never re-sent
# blindly: it is looked up in query history (found: followed; not found
# after the grace: sent again under a new request id); a statement that
# hangs past the environment's statement_timeout is cancelled and fails
# 57014; a failing statement fails its step with the warehouse's error,
# scrubbed; cancel() mid-run cancels the statements in flight; a wrong PAT
# fails each step once (one POST each, no retry storm); an OAuth token that
# expires mid-run is fetched again, a refused client fails clearly.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use Time::HiRes qw(time usleep);
use Emulator;
use DbxUtil;

my $emu = dbx_emulator(latency_ms => 100);
my $node = dbx_node('faults', $emu);
dbx_tenant($node);
dbx_env($node, $emu, 'prod');

my $n = 0;
# A new repository f<n> of MODELS (name => SQL, '%.' standing for 'f<n>.') applied in ENV; its run id.
sub run_models
{
	my ($env, %models) = @_;
	$n++;
	my %m = map { my $q = $models{$_}; $q =~ s/%\./f$n./g; ("f$n.$_" => $q) } keys %models;
	models_repo($node, "f$n", %m);
	return apply_repo($node, "f$n", $env);
}

sub reset_faults
{
	$emu->control('DELETE', 'faults');
	$emu->control('DELETE', 'rules');
}

# The emulator's log entries since the last call.
my $log_at = 0;
sub new_log
{
	my $l = $emu->control('GET', "log?since=$log_at");
	$log_at = $l->{next};
	return @{ $l->{entries} };
}

# Executions of each statement of RUN, summed over its request ids.
sub executions
{
	my ($run) = @_;
	my $exec = $emu->control('GET', 'executions')->{executions};
	my @n;
	for my $line (split /\n/, sql($node, "SELECT request_id || ',' || array_to_string(prior_request_ids, ',')"
			  . " FROM ironlayer.remote_statements WHERE run_id = $run ORDER BY step_id, seq"))
	{
		my $k = 0;
		$k += $exec->{$_} // 0 for grep { $_ ne '' } split /,/, $line;
		push @n, $k;
	}
	return join(',', @n);
}

sub stmt
{
	my ($run, $what) = @_;
	return sql($node, "SELECT $what FROM ironlayer.remote_statements WHERE run_id = $run AND seq = 1");
}

# 1. 429 with Retry-After, then 503, on submit: sent again, once each
new_log();
$emu->control('POST', 'faults', { route => 'statements.create', status => 429, retry_after => 1, count => 1 });
$emu->control('POST', 'faults', { route => 'statements.create', status => 503, count => 1 });
my $t0 = time;
my $run = run_models('prod', a => 'SELECT 1 AS x');
is(wait_run($node, $run), 'succeeded', '429 and 503 on submit: the run succeeds') or diag(statements($node, $run));
cmp_ok(time - $t0, '>=', 1, 'Retry-After: 1 was honoured');
my @creates = grep { $_->{route} eq 'statements.create' } new_log();
is(join(',', map { $_->{status} } @creates), '429,503,200,200', 'the refused submit was sent again after each');
is(sql($node, "SELECT sum(http_retries) FROM ironlayer.remote_statements WHERE run_id = $run"), '2',
	'the retries are counted in the telemetry');
is(executions($run), '1,1', 'each statement ran once');
reset_faults();

# 2. 500, HTML 503 and 429 answers to polls: retried
$emu->control('POST', 'faults', { route => 'statements.get', status => 500, count => 1 });
$emu->control('POST', 'faults', { route => 'statements.get', status => 503, body => 'html', count => 1 });
$emu->control('POST', 'faults', { route => 'statements.get', status => 429, count => 1 });
$run = run_models('prod', a => 'SELECT 2 AS x');
is(wait_run($node, $run), 'succeeded', '500, HTML and 429 answers to polls: the run succeeds')
  or diag(statements($node, $run));
my @gets = grep { $_->{route} eq 'statements.get' } new_log();
is(scalar(grep { $_->{status} >= 400 } @gets), 3, 'three polls failed and were retried');
is(executions($run), '1,1', 'each statement ran once');
reset_faults();

# 3. 500 on submit: not re-sent blindly; history does not know it, so once
# the grace has passed it is sent again under a new request id
$emu->control('POST', 'faults', { route => 'statements.create', status => 500, count => 1 });
$run = run_models('prod', a => 'SELECT 3 AS x');
is(wait_run($node, $run), 'succeeded', '500 on submit: the run succeeds') or diag(statements($node, $run));
my @l = new_log();
cmp_ok(scalar(grep { $_->{route} eq 'history' } @l), '>=', 1, 'the statement was looked for in query history');
is(sql($node, "SELECT string_agg(cardinality(prior_request_ids)::text, ',' ORDER BY step_id, seq)"
	  . " FROM ironlayer.remote_statements WHERE run_id = $run"), '1,0',
	'the statement refused with 500 was sent again under a new request id, the old one kept');
is(executions($run), '1,1', 'each statement ran once');
reset_faults();

# 4. the connection drops after the statement was created: found in
# history, followed, not sent again
$emu->control('POST', 'faults', { route => 'statements.create', action => 'drop_after_create', count => 1 });
$run = run_models('prod', a => 'SELECT 4 AS x');
is(wait_run($node, $run), 'succeeded', 'dropped connection after create: the run succeeds')
  or diag(statements($node, $run));
is(sql($node, "SELECT sum(cardinality(prior_request_ids)) FROM ironlayer.remote_statements WHERE run_id = $run"),
	'0', 'nothing was sent again');
is(executions($run), '1,1', 'each statement ran once');
ok(defined(emu_rows($emu, "lake.prod_f$n.a")), 'the table exists');
new_log();
reset_faults();

# 5. a statement that hangs past the environment's statement_timeout:
# cancelled on the warehouse, the step fails 57014
dbx_env($node, $emu, 'slow', { statement_timeout => '2s' });
$emu->control('POST', 'rules', { match => 'hang_me', action => 'hang' });
$run = run_models('slow', a => 'SELECT 5 AS hang_me', b => 'SELECT 6 AS y');
is(wait_run($node, $run), 'failed', 'a statement past the statement_timeout fails its run');
is(steps($node, $run), "f$n.a:failed f$n.b:succeeded", 'its step failed, the other one succeeded');
like(sql($node, "SELECT error_class || ' ' || error_message || ' ' || remote_state FROM ironlayer.remote_statements"
	  . " WHERE run_id = $run AND state = 'failed'"),
	qr/^57014 .*statement_timeout.* CANCELED$/, 'with 57014, cancelled on the warehouse');
ok((grep { $_->{route} eq 'statements.cancel' } new_log()), 'a cancel was sent');
reset_faults();

# 6. a failing statement fails its step with the warehouse's error, scrubbed
$emu->control('POST', 'rules', { match => 'fail_me', action => 'fail', error_class => 'DIVIDE_BY_ZERO',
	sql_state => '22012',
	message => '[DIVIDE_BY_ZERO] Division by zero for alice@example.com, api_token=s3cr3tvalue' });
$run = run_models('prod', a => 'SELECT 1 / 0 AS fail_me', b => 'SELECT 7 AS z');
is(wait_run($node, $run), 'failed', 'a failing statement fails the run');
my $err = sql($node, "SELECT error_class || ' ' || error_message FROM ironlayer.run_steps"
	  . " WHERE run_id = $run AND state = 'failed'");
like($err, qr/^22012 .*DIVIDE_BY_ZERO/, 'the step holds the warehouse\'s SQLSTATE and error class');
unlike($err, qr/alice\@example\.com|s3cr3tvalue/, 'scrubbed of the e-mail address and the secret');
unlike(stmt($run, 'error_message'), qr/alice\@example\.com|s3cr3tvalue/, 'in the telemetry too');
reset_faults();

# 7. cancel() mid-run: the statements in flight are cancelled on the warehouse
$emu->control('POST', 'rules', { match => 'slow_me', action => 'latency', latency_ms => 30000 });
$run = run_models('prod', a => 'SELECT 8 AS slow_me', b => 'SELECT 9 AS slow_me', c => 'SELECT x FROM %.a');
$node->poll_query_until('postgres',
	"SELECT count(*) = 2 FROM ironlayer.remote_statements WHERE run_id = $run AND seq = 1 AND state = 'running'")
  or diag(statements($node, $run));
new_log();
sql($node, "SELECT ironlayer.cancel($run)");
is(wait_run($node, $run, '30 s'), 'cancelled', 'cancel() mid-run: the run is cancelled');
$node->poll_query_until('postgres', "SELECT count(*) = 0 FROM ironlayer.run_steps WHERE run_id = $run AND state = 'running'");
is(steps($node, $run), "f$n.a:cancelled f$n.b:cancelled f$n.c:cancelled", 'every step is cancelled');
is(sql($node, "SELECT string_agg(DISTINCT state || '/' || coalesce(remote_state, '-'), ',')"
	  . " FROM ironlayer.remote_statements WHERE run_id = $run AND seq = 1"),
	'cancelled/CANCELED', 'the statements in flight were cancelled on the warehouse');
is(scalar(grep { $_->{route} eq 'statements.cancel' } new_log()), 2, 'one cancel each');
reset_faults();

# 8. a wrong PAT: each step fails once, 28000, one POST each
put_credential($node, 'wrong', 'dapi-wrong-token', 'databricks-pat');
dbx_env($node, $emu, 'badpat', undef, credential => 'wrong');
new_log();
$run = run_models('badpat', a => 'SELECT 1 AS x', b => 'SELECT 2 AS x', c => 'SELECT x FROM %.a');
is(wait_run($node, $run), 'failed', 'a wrong PAT fails the run');
is(steps($node, $run), "f$n.a:failed f$n.b:failed f$n.c:skipped", 'each step failed, its dependent skipped');
like(sql($node, "SELECT error_class || ' ' || error_message FROM ironlayer.run_steps WHERE run_id = $run"
	  . " AND model = 'f$n.a'"), qr/^28000 .*credential "wrong".*403/, 'with 28000 and a clear message');
@l = grep { ($_->{auth} // '') eq 'invalid' } new_log();
is(join(',', map { $_->{route} } @l), 'statements.create,statements.create',
	'two requests with the wrong token in all: one POST per step, no retry');
unlike(slurp_file($node->logfile), qr/dapi-wrong-token|dapi-emulator-test-token/, 'no token in the server log');

# 9. OAuth M2M: a token that expires mid-run is fetched again; a refused client fails clearly
put_credential($node, 'sp', '{"client_id": "sp-client-id", "client_secret": "sp-client-secret"}', 'databricks-oauth');
dbx_env($node, $emu, 'oauth', undef, credential => 'sp', auth => 'oauth-m2m');
$emu->control('POST', 'rules', { match => 'slow_me', action => 'latency', latency_ms => 1500 });
new_log();
$run = run_models('oauth', a => 'SELECT 1 AS slow_me', b => 'SELECT slow_me FROM %.a');
$node->poll_query_until('postgres',
	"SELECT count(*) > 0 FROM ironlayer.remote_statements WHERE run_id = $run AND seq = 1 AND state = 'running'");
$emu->control('POST', 'expire_tokens', {});
is(wait_run($node, $run), 'succeeded', 'an OAuth token expired mid-run: the run succeeds')
  or diag(statements($node, $run));
@l = new_log();
cmp_ok(scalar(grep { $_->{route} eq 'token' } @l), '>=', 2, 'a new token was fetched');
cmp_ok(scalar(grep { ($_->{auth} // '') eq 'expired' } @l), '>=', 1, 'after the warehouse refused the old one');
reset_faults();

put_credential($node, 'spbad', '{"client_id": "sp-client-id", "client_secret": "wrong-secret"}', 'databricks-oauth');
dbx_env($node, $emu, 'oauthbad', undef, credential => 'spbad', auth => 'oauth-m2m');
$run = run_models('oauthbad', a => 'SELECT 1 AS x');
is(wait_run($node, $run), 'failed', 'a refused OAuth client fails the run');
like(sql($node, "SELECT error_class || ' ' || error_message FROM ironlayer.run_steps WHERE run_id = $run"),
	qr/^28000 .*token endpoint.*"spbad"/, 'with 28000, naming the credential');
unlike(slurp_file($node->logfile), qr/sp-client-secret|wrong-secret/, 'no client secret in the server log');

$node->stop;
$emu->stop;
done_testing();
