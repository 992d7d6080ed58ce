# A hostile tenant through the real background workers (docs/security.md).
#
# 1. Model SQL never binds, reads or acts as a tenant: a table model, a
#    CTE, a view read by a later step and a function the attacker wrote all
#    fail with 42501, with a run_as that holds ironlayer's admin rights; what
#    runs sees run_as and no tenant; the victim's tenant is unchanged.
# 2. A step leaves nothing in the worker's session: a session advisory lock
#    taken by model SQL is released when the step ends.
# 3. Steps are bounded: past the environment's statement_timeout a step
#    fails with 57014, waiting past its lock_timeout with 55P03, quickly, and
#    the same workers run the next run.
# 4. An outsider with nothing but CONNECT cannot stall the executor: the
#    advisory lock the executor used to wait on for a new schema is not
#    taken any more.
# 5. Claims are fair: a 1-step run of one tenant is served while another
#    tenant's 40-step run holds both workers, not after it; an environment's
#    max_running_steps caps its steps running at once.
use strict;
use warnings;
use File::Path qw(make_path);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RepoUtil;
use Time::HiRes qw(time);

my $root = "$PostgreSQL::Test::Utils::tmp_check/repos";
make_path($root);

my $node = PostgreSQL::Test::Cluster->new('hostile');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'ironlayer'
ironlayer.repo_root = '$root'
ironlayer.database = 'postgres'
ironlayer.max_workers = 2
ironlayer.lease = 30
});
$node->start;

$node->safe_psql('postgres', q{
CREATE EXTENSION ironlayer;
CREATE ROLE vic LOGIN; GRANT ironlayer_admin TO vic;
CREATE ROLE atk LOGIN; GRANT ironlayer_admin TO atk;
CREATE ROLE atk_runner; GRANT ironlayer_admin TO atk_runner; GRANT atk_runner TO atk;
CREATE ROLE fair LOGIN; GRANT ironlayer_admin TO fair;
CREATE ROLE outsider LOGIN;
CREATE TABLE public.src AS SELECT 1 AS x;
ALTER TABLE public.src OWNER TO outsider;
GRANT SELECT ON public.src TO PUBLIC;
});

# psql as ROLE bound to TENANT; dies on an error.
sub as
{
	my ($role, $tenant, $q) = @_;
	return $node->safe_psql('postgres', "SELECT FROM ironlayer.use_tenant('$tenant');\n$q",
		extra_params => [ '-U', $role ]);
}

# Registers repository NAME of MODELS for TENANT (as ROLE), plans it and
# applies it in dev; returns the run id.
sub apply_models
{
	my ($role, $tenant, $name, %models) = @_;
	model_repo("$root/$name", %models);
	$node->safe_psql('postgres', "SELECT ironlayer.use_tenant('$tenant'); SELECT ironlayer.add_repo('$name', '$name')");
	return as($role, $tenant,
		"SELECT ironlayer.plan('$name', 'HEAD~1', 'HEAD', '2026-01-15')->>'plan_id' AS p \\gset\n"
		  . "SELECT ironlayer.apply(:'p', 'dev')");
}

sub wait_run
{
	my ($tenant, $run) = @_;
	my ($ret, $out, $err) = $node->psql('postgres',
		"SELECT FROM ironlayer.use_tenant('$tenant'); SELECT ironlayer.wait($run, '90 s')");
	return $ret == 0 ? $out : "error: $err";
}

# model:state:error_class of each step of a run, by model.
sub steps
{
	my ($tenant, $run) = @_;
	return as('postgres', $tenant,
		"SELECT string_agg(model || ':' || state || ':' || coalesce(error_class, ''), ' ' ORDER BY model)"
		  . " FROM ironlayer.run_steps WHERE run_id = $run");
}

sub worker_pids
{
	return $node->safe_psql('postgres',
		"SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity WHERE backend_type = 'ironlayer worker'");
}

$node->poll_query_until('postgres',
	"SELECT count(*) = 2 FROM pg_stat_activity WHERE backend_type = 'ironlayer worker'")
  or die "no workers";

# The victim: members, an audit log.
$node->safe_psql('postgres', "SELECT ironlayer.create_tenant('victim')", extra_params => [ '-U', 'vic' ]);
$node->safe_psql('postgres', "SELECT ironlayer.add_member('victim', 'atk_runner', 'viewer')", extra_params => [ '-U', 'vic' ]);
my $victim_audit = as('vic', 'victim', 'SELECT count(*) FROM ironlayer.audit_log');
my $victim_members = as('vic', 'victim', "SELECT string_agg(member || ':' || tenant_role, ' ' ORDER BY member) FROM ironlayer.members");

$node->safe_psql('postgres', "SELECT ironlayer.create_tenant('attacker')", extra_params => [ '-U', 'atk' ]);
as('atk', 'attacker', q{SELECT ironlayer.set_environment('dev', '{"run_as": "atk_runner"}')});

$node->safe_psql('postgres', q{
CREATE FUNCTION public.steal(t text) RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog
AS $$ BEGIN PERFORM ironlayer.use_tenant(t); RETURN (SELECT count(*) FROM ironlayer.audit_export()); END $$;
ALTER FUNCTION public.steal(text) OWNER TO atk;
});

# 1. Every way in, through the workers.
my $run = apply_models('atk', 'attacker', 'attack',
	'atk.who' => 'SELECT ironlayer.acting_role()::text AS acting, ironlayer.current_tenant() IS NULL AS unbound,'
	  . ' (SELECT count(*) FROM ironlayer.members) AS members, (SELECT count(*) FROM ironlayer.audit_log) AS audit',
	'atk.bind' => "SELECT e::text AS e FROM (SELECT ironlayer.use_tenant('victim') AS u) b"
	  . ' CROSS JOIN LATERAL ironlayer.audit_export() e',
	'atk.cte' => "WITH b AS (SELECT ironlayer.use_tenant('victim') AS u) SELECT u FROM b",
	'atk.view' => "-- kind: FULL_REFRESH\n-- materialization: VIEW\nSELECT e::text AS e FROM ironlayer.audit_export() e",
	'atk.read_view' => 'SELECT e FROM atk.view',
	'atk.fn' => "SELECT public.steal('victim') AS entries",
	'atk.tenants' => 'SELECT tenant FROM ironlayer.my_tenants()',
	'atk.member' => "SELECT ironlayer.add_member('victim', 'atk', 'admin')::text AS added");
is(wait_run('attacker', $run), 'failed', 'a run of attacks fails');
is(steps('attacker', $run),
	'atk.bind:failed:42501 atk.cte:failed:42501 atk.fn:failed:42501 atk.member:failed:42501'
	  . ' atk.read_view:failed:42501 atk.tenants:failed:42501 atk.view:succeeded: atk.who:succeeded:',
	'every attack fails with 42501: table, CTE, function, membership, a view read by a later step');
is(as('atk', 'attacker', q{SELECT string_agg(model || ': ' || error_message, ' | ' ORDER BY model)
	FROM ironlayer.run_steps WHERE run_id = } . $run . q{ AND model IN ('atk.bind', 'atk.fn', 'atk.read_view')}),
	'atk.bind: model SQL cannot bind a tenant | atk.fn: model SQL cannot bind a tenant'
	  . ' | atk.read_view: no tenant is bound to this session',
	'the errors say why');
is($node->safe_psql('postgres', 'SELECT acting || unbound || members || audit FROM attacker_dev_atk.who'),
	'atk_runnertrue00', 'model SQL sees run_as, no tenant and no tenant rows');
is(as('vic', 'victim', 'SELECT count(*) FROM ironlayer.audit_log'), $victim_audit, 'the victim\'s audit log is unchanged');
is(as('vic', 'victim', "SELECT string_agg(member || ':' || tenant_role, ' ' ORDER BY member) FROM ironlayer.members"),
	$victim_members, 'and so are its members');

# 2. A session advisory lock taken by model SQL ends with its step.
my $pids = worker_pids();
$run = apply_models('atk', 'attacker', 'locker',
	'lck.hold' => 'SELECT pg_advisory_lock(4242) IS NOT NULL AS held');
is(wait_run('attacker', $run), 'succeeded', 'a model takes a session advisory lock');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
		  . " WHERE a.backend_type = 'ironlayer worker' AND l.locktype = 'advisory'"),
	'0', 'no worker holds it after the step');

# 3. Timeouts: the step fails quickly, the workers go on.
as('atk', 'attacker', q{SELECT ironlayer.set_environment('dev', '{"statement_timeout": "1s", "lock_timeout": "500ms"}')});
$node->safe_psql('postgres', 'GRANT SELECT ON public.src TO atk_runner');
my $holder = $node->background_psql('postgres', extra_params => [ '-U', 'outsider' ]);
$holder->query_safe('BEGIN; LOCK TABLE public.src IN ACCESS EXCLUSIVE MODE;');
my $t0 = time;
$run = apply_models('atk', 'attacker', 'slow',
	'slw.sleep' => 'SELECT pg_sleep(120) IS NULL AS slept',
	'slw.locked' => 'SELECT x FROM public.src');
is(wait_run('attacker', $run), 'failed', 'a run past its bounds fails');
my $elapsed = time - $t0;
is(steps('attacker', $run), 'slw.locked:failed:55P03 slw.sleep:failed:57014',
	'past statement_timeout: 57014; waiting past lock_timeout: 55P03');
cmp_ok($elapsed, '<', 20, sprintf('and quickly (%.1f s for a 120 s statement and a lock held for good)', $elapsed));
like(as('atk', 'attacker', "SELECT error_message FROM ironlayer.run_steps WHERE run_id = $run AND model = 'slw.sleep'"),
	qr/statement_timeout of environment "dev" \(1000 ms\)/, 'the message names the setting');
$holder->query_safe('COMMIT');
$holder->quit;
is(worker_pids(), $pids, 'the same workers live on');
as('atk', 'attacker', q{SELECT ironlayer.set_environment('dev', '{"statement_timeout": "1h", "lock_timeout": "1min"}')});

# 4. An outsider holds the advisory lock the executor took for a new schema
# (two keys: 'iron' and the schema's hash). The run does not wait for it.
$holder = $node->background_psql('postgres', extra_params => [ '-U', 'outsider' ]);
$holder->query_safe("SELECT pg_advisory_lock(1769107310, hashtext('attacker_dev_fresh'))");
$t0 = time;
$run = apply_models('atk', 'attacker', 'fresh', 'fresh.t' => 'SELECT 1 AS x');
is(wait_run('attacker', $run), 'succeeded', 'an outsider\'s advisory lock does not stall the executor');
cmp_ok(time - $t0, '<', 20, 'the run was not held up');
$holder->quit;
# Two steps that make one new schema at once take turns on its row in
# ironlayer.target_schemas: both succeed (neither fails on pg_namespace's
# unique index), and the schema is the tenant's.
$run = apply_models('atk', 'attacker', 'twin',
	'twin.a' => 'SELECT pg_sleep(0.5) IS NULL AS slept', 'twin.b' => 'SELECT pg_sleep(0.5) IS NULL AS slept');
is(wait_run('attacker', $run), 'succeeded', 'two steps of one new schema both succeed');
is(as('atk', 'attacker', "SELECT string_agg(schema || ':' || environment, ' ') FROM ironlayer.target_schemas WHERE schema = 'attacker_dev_twin'"),
	'attacker_dev_twin:dev', 'the schema is recorded for the tenant');

# 5. Fairness. Tenant "big" applies 40 independent steps of 0.25 s; while
# both workers run them, tenant "small" applies one step.
$node->safe_psql('postgres', "SELECT ironlayer.create_tenant('big'); SELECT ironlayer.create_tenant('small')",
	extra_params => [ '-U', 'fair' ]);
my %big = map { sprintf('big.m%02d', $_) => 'SELECT pg_sleep(0.25) IS NULL AS slept' } 1 .. 40;
my $big = apply_models('fair', 'big', 'big', %big);
$node->poll_query_until('postgres',
	"SELECT count(*) >= 4 FROM ironlayer.run_steps WHERE run_id = $big AND state = 'succeeded'")
  or die "the big run does not start";
my $small = apply_models('fair', 'small', 'small', 'small.one' => 'SELECT 1 AS x');
is(wait_run('small', $small), 'succeeded', 'the small run succeeds');
is(wait_run('big', $big), 'succeeded', 'the big run succeeds');
my ($after, $wait, $big_left) = split /\|/, $node->safe_psql('postgres', qq{
	SELECT (SELECT count(*) FROM ironlayer.run_steps b WHERE b.run_id = $big AND b.started_at > s.started_at),
	       round(extract(epoch FROM s.started_at - r.created_at) * 1000),
	       round(extract(epoch FROM (SELECT max(finished_at) FROM ironlayer.run_steps WHERE run_id = $big) - r.created_at) * 1000)
	  FROM ironlayer.run_steps s JOIN ironlayer.runs r USING (tenant_id, run_id) WHERE s.run_id = $small});
cmp_ok($after, '>', 10, "the small run's step was claimed before most of the big run ($after of 40 steps started after it)");
diag("fairness: the small run waited $wait ms for a worker; the big run went on for $big_left ms after it was applied");

# The cap: at most one step of an environment with max_running_steps 1.
as('fair', 'big', q{SELECT ironlayer.set_environment('dev', '{"max_running_steps": 1}')});
%big = map { sprintf('cap.m%02d', $_) => 'SELECT pg_sleep(0.2) IS NULL AS slept' } 1 .. 6;
$big = apply_models('fair', 'big', 'capped', %big);
is(wait_run('big', $big), 'succeeded', 'a capped run succeeds');
is($node->safe_psql('postgres', qq{
	SELECT max(n) FROM (SELECT (SELECT count(*) FROM ironlayer.run_steps y
								 WHERE y.run_id = x.run_id AND y.started_at <= x.started_at AND y.finished_at > x.started_at) AS n
						  FROM ironlayer.run_steps x WHERE x.run_id = $big) c}),
	'1', 'with one step running at a time');

$node->stop;
done_testing();
