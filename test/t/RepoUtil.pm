# Helpers for TAP tests that make git repositories of models: git with a
# fixed identity and branch, and writing files (directories made as needed).
package RepoUtil;

use strict;
use warnings;
use Exporter 'import';
use File::Path qw(make_path);
use IPC::Run;

our @EXPORT = qw(git write_file model_repo);

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

# A repository in DIR whose first commit has no model and whose second adds
# MODELS: { 'schema.table' => 'SELECT ...' } (kind FULL_REFRESH unless the
# text starts with header lines of its own), each in models/schema/table.sql.
sub model_repo
{
	my ($dir, %models) = @_;
	make_path("$dir/models");
	git($dir, 'init', '-q');
	write_file("$dir/README.md", "models\n");
	write_file("$dir/models/README.md", "the models\n");
	git($dir, 'add', '-A');
	git($dir, 'commit', '-q', '-m', 'no models yet');
	for my $m (sort keys %models)
	{
		my ($schema, $table) = split /\./, $m;
		my $text = $models{$m} =~ /^-- kind:/m ? $models{$m} : "-- kind: FULL_REFRESH\n$models{$m}";
		write_file("$dir/models/$schema/$table.sql", "-- name: $m\n$text\n");
	}
	git($dir, 'add', '-A');
	git($dir, 'commit', '-q', '-m', 'models');
}

1;
