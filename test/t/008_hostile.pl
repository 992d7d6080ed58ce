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
#    max_running_steps, and the DBA's ironlayer.tenant_max_running_steps,
#    cap the steps running at once.
# 6. An outsider holding ROW EXCLUSIVE on ironlayer's tables (nextval's lock
#    before its checks) holds up no claim, tenant or schema claim.
# 7. A model that catches its cancels is ended after a grace period, and its
#    step is given up after three attempts.
# 8. Past ironlayer.step_memory_limit a step fails with out of memory; model
#    SQL's warnings stay out of the server log.
# 9. The shared parse cache's statistics are for superusers only.
# 10. A failed step's stored message is scrubbed before it is cut.
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
ironlayer.lease = 2
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
	"atk.bind: model SQL cannot bind a tenant (model atk.bind ran as role atk_runner)\nHint: A model reads and writes tables; ironlayer's functions are for its users."
	  . " | atk.fn: model SQL cannot bind a tenant (model atk.fn ran as role atk_runner)\nHint: A model reads and writes tables; ironlayer's functions are for its users."
	  . " | atk.read_view: no tenant is bound to this session (model atk.read_view ran as role atk_runner)\nHint: Call ironlayer.use_tenant(name) first.",
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
sub concurrency
{
	my ($run) = @_;
	return $node->safe_psql('postgres', qq{
	SELECT max(n) FROM (SELECT (SELECT count(*) FROM ironlayer.run_steps y
								 WHERE y.run_id = x.run_id AND y.started_at <= x.started_at AND y.finished_at > x.started_at) AS n
						  FROM ironlayer.run_steps x WHERE x.run_id = $run) c});
}
is(concurrency($big), '1', 'with one step running at a time');
# The DBA's cap of every tenant (a tenant sets its own environments' caps).
as('fair', 'big', q{SELECT ironlayer.set_environment('dev', '{"max_running_steps": null}')});
$node->safe_psql('postgres', "ALTER SYSTEM SET ironlayer.tenant_max_running_steps = 1; SELECT pg_reload_conf()");
%big = map { sprintf('tcap.m%02d', $_) => 'SELECT pg_sleep(0.2) IS NULL AS slept' } 1 .. 6;
$big = apply_models('fair', 'big', 'tcapped', %big);
is(wait_run('big', $big), 'succeeded', 'a run under ironlayer.tenant_max_running_steps = 1 succeeds');
is(concurrency($big), '1', 'with one step running at a time');
$node->safe_psql('postgres', "ALTER SYSTEM RESET ironlayer.tenant_max_running_steps; SELECT pg_reload_conf()");


# 6. An outsider with nothing but CONNECT takes ROW EXCLUSIVE on ironlayer's
# tables by their oids (nextval() locks a relation before it checks
# anything, and the lock outlives the error): claims, tenant creation and
# schema claims take no table lock that conflicts with it.
my %oid = map { $_ => $node->safe_psql('postgres', "SELECT 'ironlayer.$_'::regclass::oid") }
  qw(claim_lock claim_turns tenants environments runs run_steps);
$holder = $node->background_psql('postgres', extra_params => [ '-U', 'outsider' ]);
$holder->query_safe('BEGIN');
for my $t (sort keys %oid)
{
	$holder->query_safe("DO \$\$ BEGIN PERFORM nextval($oid{$t}::regclass); EXCEPTION WHEN others THEN NULL; END \$\$");
}
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
		  . " WHERE a.usename = 'outsider' AND l.mode = 'RowExclusiveLock' AND l.relation IN ("
		  . join(', ', values %oid) . ")"),
	scalar(keys %oid), 'an outsider holds ROW EXCLUSIVE on ironlayer\'s tables');
$t0 = time;
$run = apply_models('atk', 'attacker', 'outlocked', 'outl.t' => 'SELECT 1 AS x');
is(wait_run('attacker', $run), 'succeeded', 'runs are claimed and run meanwhile');
$node->safe_psql('postgres', "SELECT ironlayer.create_tenant('locked-out')", extra_params => [ '-U', 'fair' ]);
$node->safe_psql('postgres', q{SELECT ironlayer.use_tenant('locked-out'); SELECT ironlayer.set_environment('prod', '{"schema_prefix": "lockedout_"}')});
cmp_ok(time - $t0, '<', 20, 'a tenant is made and its prefix set meanwhile');
$holder->quit;

# 7. A model that catches the cancel of its statement_timeout and goes on is
# ended 10 s later, nothing can catch that; its step is claimed again when
# its lease expires, and given up after the third attempt.
$node->safe_psql('postgres', q{
CREATE FUNCTION public.stubborn(seconds float8) RETURNS int LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
	WHILE clock_timestamp() < t0 + make_interval(secs => seconds) LOOP
		BEGIN PERFORM pg_sleep(0.2); EXCEPTION WHEN query_canceled THEN NULL; END;
	END LOOP;
	RETURN 1;
END $$;
});
as('atk', 'attacker', q{SELECT ironlayer.set_environment('dev', '{"statement_timeout": "1s"}')});
$pids = worker_pids();
$t0 = time;
$run = apply_models('atk', 'attacker', 'stubborn', 'stb.loop' => 'SELECT public.stubborn(600) AS x');
is(wait_run('attacker', $run), 'failed', 'a model that catches its cancels fails');
$elapsed = time - $t0;
is(steps('attacker', $run), 'stb.loop:failed:57P01', 'given up (57P01)');
is(as('atk', 'attacker', "SELECT attempts || ' ' || error_message FROM ironlayer.run_steps WHERE run_id = $run"),
	'3 the step was given up after 3 attempts: each time its worker ended before it finished'
	  . ' (killed, crashed, or stopped past the statement_timeout)',
	'after three attempts, each ended');
cmp_ok($elapsed, '<', 80, sprintf('in %.0f s, for a model that would run 600 s', $elapsed));
isnt(worker_pids(), $pids, 'the workers that ran it were ended and replaced');
$node->poll_query_until('postgres',
	"SELECT count(*) = 2 FROM pg_stat_activity WHERE backend_type = 'ironlayer worker'") or die "no workers";
$run = apply_models('atk', 'attacker', 'after', 'aft.t' => 'SELECT 1 AS x');
is(wait_run('attacker', $run), 'succeeded', 'the new workers run the next run');
as('atk', 'attacker', q{SELECT ironlayer.set_environment('dev', '{"statement_timeout": "1h"}')});

# 8. Memory: past ironlayer.step_memory_limit a step fails with out of
# memory (53200); the worker lives on. Model SQL's warnings stay out of the
# server log.
$node->safe_psql('postgres', "ALTER SYSTEM SET ironlayer.step_memory_limit = '256MB'; SELECT pg_reload_conf()");
$pids = worker_pids();
my $log_offset = -s $node->logfile;
$run = apply_models('atk', 'attacker', 'hungry',
	'hgr.big' => "SELECT cardinality(a) AS n FROM (SELECT array_agg(repeat('x', 1000000)) AS a FROM generate_series(1, 1000)) s",
	'hgr.noisy' => 'SELECT count(pg_terminate_backend(1)) AS n FROM generate_series(1, 200)');
is(wait_run('attacker', $run), 'failed', 'a model that takes 1 GB fails');
is(steps('attacker', $run), 'hgr.big:failed:53200 hgr.noisy:succeeded:', 'with out of memory (53200)');
is(worker_pids(), $pids, 'the workers live on');
my $log = slurp_file($node->logfile, $log_offset);
unlike($log, qr/is not a PostgreSQL server process/, 'the 200 warnings of model SQL are not in the server log');
$node->safe_psql('postgres', "ALTER SYSTEM RESET ironlayer.step_memory_limit; SELECT pg_reload_conf()");

# 9. The parse cache is shared: what it did is told to superusers only.
my ($ret, $out, $err) = $node->psql('postgres',
	"SET client_min_messages = debug1; SELECT FROM ironlayer.use_tenant('attacker'); SELECT count(*) FROM ironlayer.models('attack', 'HEAD')",
	extra_params => [ '-U', 'atk' ]);
unlike($err, qr/from the cache/, 'a member is not told what the parse cache holds');
($ret, $out, $err) = $node->psql('postgres',
	"SET client_min_messages = debug1; SELECT FROM ironlayer.use_tenant('attacker'); SELECT count(*) FROM ironlayer.models('attack', 'HEAD')");
like($err, qr/from the cache/, 'a superuser is');

# 10. A failed step's stored message is scrubbed before it is cut (8 kB): a
# key that the cut would split is hidden whole, never kept in part. The
# error quotes the cast text: 40 bytes, 6,000 x, a line "Hint: " (where the
# stored message's hint starts), 2,124 y and a space: the key starts 20
# bytes before the cut.
my $key = '0123456789abcdef' x 4;
$run = apply_models('atk', 'attacker', 'cutter',
	'cut.key' => "SELECT (repeat('x', 6000) || chr(10) || 'Hint: ' || repeat('y', 2124) || ' $key')::int AS y");
is(wait_run('attacker', $run), 'failed', 'a model whose error quotes a key at the cut fails');
my $stored = as('atk', 'attacker', "SELECT error_message FROM ironlayer.run_steps WHERE run_id = $run");
like($stored, qr/^invalid input syntax for type integer: "x+\.\.\.\[truncated\]\nHint: y{2124} /,
	'its message is stored (the part before the hint line cut at 4 kB)');
unlike($stored, qr/0123456789/, 'no part of the key is');

$node->stop;
done_testing();
