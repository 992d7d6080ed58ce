# Helpers of the databricks TAP tests (test/t/010_databricks*.pl): a
# cluster whose dispatcher may reach the emulator on loopback, a tenant
# with a databricks environment and its credential, repositories of
# models, runs, and the emulator's control API.
package DbxUtil;

use strict;
use warnings;
use Exporter 'import';
use File::Path qw(make_path);
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RepoUtil;
use Time::HiRes qw(time usleep);
use Emulator;

our @EXPORT = qw(dbx_emulator dbx_node dbx_tenant dbx_env put_credential sql apply_repo wait_run steps statements
  emu_rows dispatcher_pid models_repo);

our $TOKEN = 'dapi-emulator-test-token';
our $WAREHOUSE = '0123456789abcdef';
our $bound = "SELECT FROM ironlayer.use_tenant('w');\n";

# An emulator (Emulator.pm) that accepts the tests' PAT and OAuth client, with %opt.
sub dbx_emulator
{
	my (%opt) = @_;
	return Emulator->new(tokens => [$TOKEN], oauth_clients => { 'sp-client-id' => 'sp-client-secret' }, %opt);
}

# A started cluster NAME that preloads ironlayer with the settings the
# dispatcher needs to reach EMU (an Emulator), plus EXTRA lines of
# postgresql.conf; its repositories under $root/repos.
sub dbx_node
{
	my ($name, $emu, $extra) = @_;
	my $root = "$PostgreSQL::Test::Utils::tmp_check/repos_$name";
	make_path($root);
	my $key = "$PostgreSQL::Test::Utils::tmp_check/master_$name.key";
	open(my $fh, '>', $key) or die "$key: $!";
	print $fh "master-key-of-$name-0123456789abcdef\n";
	close($fh);
	chmod(0600, $key);
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'ironlayer'
ironlayer.repo_root = '$root'
ironlayer.master_key_file = '$key'
ironlayer.database = 'postgres'
ironlayer.max_workers = 2
ironlayer.databricks_history_grace = '2s'
ironlayer.databricks_hosts = '127.0.0.1'
ironlayer.databricks_ca_directory = '$emu->{cert_dir}'
restart_after_crash = on
} . ($extra // ''));
	$node->start;
	$node->{repo_root} = $root;
	return $node;
}

# The extension, a run_as role, tenant 'w' (bound in every sql() call)
# with a credential 'dbx' holding SECRET (the emulator's token unless
# given) of KIND.
sub dbx_tenant
{
	my ($node, $secret, $kind) = @_;
	$node->safe_psql('postgres', q{
		CREATE EXTENSION ironlayer;
		CREATE ROLE regress_runner;
		GRANT CREATE ON DATABASE postgres TO regress_runner;
		SELECT ironlayer.create_tenant('w');
	});
	put_credential($node, 'dbx', $secret // $TOKEN, $kind // 'databricks-pat');
}

# Stores credential NAME of tenant w with `ironlayer credential put`.
sub put_credential
{
	my ($node, $name, $secret, $kind) = @_;
	my ($out, $err) = ('', '');
	local $ENV{PGHOST} = $node->host;
	local $ENV{PGPORT} = $node->port;
	local $ENV{PGDATABASE} = 'postgres';
	IPC::Run::run([ $ENV{IRONLAYER_CLI}, 'credential', 'put', $name, '--tenant', 'w', '--kind', $kind ],
		'<', \"$secret\n", '>', \$out, '2>', \$err)
	  or die "credential put $name: $err";
}

# Environment NAME of tenant w on the emulator (databricks settings
# overridden by %dbx, top-level settings by $top).
sub dbx_env
{
	my ($node, $emu, $name, $top, %dbx) = @_;
	my %d = (
		workspace_url => "https://127.0.0.1:$emu->{port}",
		warehouse_id => $WAREHOUSE,
		catalog => 'lake',
		credential => 'dbx',
		auth => 'pat',
		max_in_flight => 16,
		ca_bundle => 'cert.pem',
		%dbx);
	# plans are applied from any base here (stale plans: test/sql/deployments.sql)
	my $settings = { run_as => 'regress_runner', executor => 'databricks', schema_prefix => "${name}_",
		approvals_required => 0, refuse_stale_plans => JSON::PP::false,
		databricks => \%d, %{ $top // {} } };
	my $json = JSON::PP->new->canonical->encode($settings);
	sql($node, "SELECT ironlayer.set_environment('$name', '$json')");
}

sub sql
{
	my ($node, $q) = @_;
	return $node->safe_psql('postgres', $bound . $q);
}

# A repository NAME (RepoUtil::model_repo) in the node's repo_root, registered.
sub models_repo
{
	my ($node, $name, %models) = @_;
	model_repo("$node->{repo_root}/$name", %models);
	sql($node, "SELECT ironlayer.add_repo('$name', '$name')");
}

# Plans REPO from FROM to TO (HEAD~1..HEAD) as of AS_OF for ENV and applies it there; the run id.
sub apply_repo
{
	my ($node, $repo, $env, $from, $to, $as_of) = @_;
	$from //= 'HEAD~1';
	$to //= 'HEAD';
	$as_of //= '2026-01-15';
	return sql($node, "SELECT ironlayer.plan('$repo', '$from', '$to', '$as_of', jsonb_build_object('environment', '$env'))->>'plan_id' AS p \\gset\n"
		  . "SELECT ironlayer.apply(:'p', '$env')");
}

# The run's final state, or "error: ..." when wait() failed.
sub wait_run
{
	my ($node, $run, $timeout) = @_;
	$timeout //= '120 s';
	my ($ret, $out, $err) = $node->psql('postgres', $bound . "SELECT ironlayer.wait($run, '$timeout')");
	return $ret == 0 ? $out : "error: $err";
}

# "model:state" of every step of RUN, by model.
sub steps
{
	my ($node, $run) = @_;
	return sql($node, "SELECT string_agg(model || ':' || state, ' ' ORDER BY model)"
		  . " FROM ironlayer.run_steps WHERE run_id = $run");
}

# The remote statements of RUN, one line each (for diagnostics).
sub statements
{
	my ($node, $run) = @_;
	return sql($node, "SELECT string_agg(concat_ws(' ', s.model, r.seq, r.state, r.remote_state, r.error_class,"
		  . " r.error_message, 'retries=' || r.http_retries, 'resends=' || cardinality(r.prior_request_ids)), E'\\n'"
		  . " ORDER BY s.model, r.seq) FROM ironlayer.remote_statements r JOIN ironlayer.run_steps s"
		  . " USING (tenant_id, run_id, step_id) WHERE r.run_id = $run");
}

# The rows of a table of the emulator (its full name), sorted, each row joined by '|'.
sub emu_rows
{
	my ($emu, $name) = @_;
	my $t = $emu->control('GET', "table?name=$name");
	return undef unless $t->{rows};
	return join("\n", map { join('|', map { $_ // 'NULL' } @$_) } @{ $t->{rows} });
}

# The pid of the dispatcher (waits for one).
sub dispatcher_pid
{
	my ($node) = @_;
	my $q = "SELECT pid FROM pg_stat_activity WHERE backend_type = 'ironlayer dispatcher'";
	$node->poll_query_until('postgres', "SELECT EXISTS ($q)") or die "no dispatcher";
	return $node->safe_psql('postgres', $q);
}

1;
