# Helpers for TAP tests that make git repositories of models: git with a
# fixed identity and branch, and writing files (directories made as needed).
package RepoUtil;

use strict;
use warnings;
use Exporter 'import';
use File::Path qw(make_path);
use IPC::Run;

our @EXPORT = qw(git write_file);

# git -C DIR ARGS..., dying with git's message on failure; returns stdout
# without its last newline.
sub git
{
	my ($dir, @args) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'git', '-C', $dir, '-c', 'user.name=test', '-c', 'user.email=test@example.invalid',
			'-c', 'init.defaultBranch=main', '-c', 'commit.gpgsign=false', @args ],
		'>', \$out, '2>', \$err) or die "git @args: $err";
	chomp $out;
	return $out;
}

# Writes TEXT to PATH, making its directory.
sub write_file
{
	my ($path, $text) = @_;
	my ($dir) = $path =~ m{^(.*)/};
	make_path($dir);
	open(my $fh, '>', $path) or die "$path: $!";
	print $fh $text;
	close($fh);
}

1;
