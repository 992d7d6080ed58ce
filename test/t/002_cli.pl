# The `ironlayer` command is installed where a new shell finds it and
# answers --version and --help; bad usage is an error with exit code 2.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;

my $version = $ENV{IRONLAYER_VERSION} or die "IRONLAYER_VERSION is not set";
my $cli = $ENV{IRONLAYER_CLI} or die "IRONLAYER_CLI is not set";

ok(-x $cli, 'ironlayer is installed');
command_like([ $cli, '--version' ], qr/^ironlayer \Q$version\E\n\z/, '--version prints the version');
command_like([ $cli, '--help' ], qr/Usage:.*--version.*--help/s, '--help prints the usage');

my ($stdout, $stderr);
my $ok = IPC::Run::run([ $cli, '--bogus' ], '>', \$stdout, '2>', \$stderr);
my $code = $? >> 8;
ok(!$ok, 'an unknown option fails');
is($code, 2, 'with exit code 2');
like($stderr, qr/unknown command or option "--bogus"/, 'and says what was wrong');
IPC::Run::run([ $cli ], '>', \$stdout, '2>', \$stderr);
is($? >> 8, 2, 'no command at all is a usage error too');

done_testing();
