#!/usr/bin/perl
#----------------------------------------------------------------------
#
# gen_keywords.pl
#    Generates the lexer's keyword enum and look-up tables from the
#    keyword list (src/core/il_keywords.txt).
#
#    perl scripts/gen_keywords.pl --enum  src/core/il_keywords.txt > src/core/il_keywords.h
#    perl scripts/gen_keywords.pl --table src/core/il_keywords.txt > src/core/il_keywords_tab.h
#
# --enum writes the enum il_keyword (IL_KW_NONE, then IL_KW_<NAME> in the
# list's order, then IL_KW__COUNT). --table writes, for il_lex.c only:
#  - kw_table: name, length and IL_KWF_* flags of every keyword;
#  - kw_filter: bit (last & 0x1f) of kw_filter[length][first & 0x1f] (bytes
#    OR 0x20) is set when some keyword has that length, first and last byte,
#    a test that most identifiers fail before any hashing;
#  - kw_slots: an open-addressing index of KW_SLOTS slots (a power of two of
#    at least twice the keywords). A keyword's home slot is KW_HASH of its
#    length and of its first, middle and last bytes (OR 0x20 to fold case),
#    so hashing costs the same for any word; linear probing puts every
#    keyword at most KW_MAXPROBE slots from home (the multipliers of the
#    hash are searched until it does), and the last KW_MAXPROBE slots repeat
#    the first ones, so the candidates of any home slot are consecutive. A
#    slot holds the keyword's length and first eight bytes (OR 0x20) so that
#    one 64-bit compare tells most candidates apart.
# The output depends on the list alone (the search is deterministic).
#
#----------------------------------------------------------------------
use strict;
use warnings;

my $MAXPROBE = 3;
my %CATEGORIES = (reserved => 'IL_KWF_RESERVED', guard => 'IL_KWF_GUARD');

my ($mode, $list) = @ARGV;
die "usage: gen_keywords.pl --enum|--table il_keywords.txt\n"
  unless defined $list && ($mode eq '--enum' || $mode eq '--table');

# Read the list: keyword, then categories.
my @kw;
my %seen;
open(my $fh, '<', $list) or die "gen_keywords.pl: cannot open $list: $!\n";
while (my $line = <$fh>)
{
	chomp $line;
	next if $line =~ /^\s*(#|$)/;
	my ($name, @cats) = split ' ', $line;
	die "$list:$.: \"$name\" is not a keyword in lower case (letters, digits, '_', 1 to 64 bytes)\n"
	  unless $name =~ /^[a-z_][a-z0-9_]{0,63}$/;
	die "$list:$.: \"$name\" is listed twice\n" if $seen{$name}++;
	die "$list:$.: \"$name\" is out of byte order (after \"$kw[-1]{name}\")\n"
	  if @kw && ($kw[-1]{name} cmp $name) > 0;
	for my $c (@cats)
	{
		die "$list:$.: unknown category \"$c\" (known: "
		  . join(', ', sort keys %CATEGORIES) . ")\n"
		  unless exists $CATEGORIES{$c};
	}
	push @kw, { name => $name, cats => [@cats] };
}
close $fh;
die "gen_keywords.pl: $list lists no keyword\n" unless @kw;

my $banner_what = $mode eq '--enum' ? 'The keywords of the lexer' : 'The look-up tables of the lexer\'s keywords (il_lex.c only)';
print <<"EOT";
/*-------------------------------------------------------------------------
 *
 * @{[$mode eq '--enum' ? 'il_keywords.h' : 'il_keywords_tab.h']}
 *	  $banner_what.
 *
 * Generated from src/core/il_keywords.txt by scripts/gen_keywords.pl (run
 * by make): do not edit, edit the list.
 *
 *-------------------------------------------------------------------------
 */
EOT

if ($mode eq '--enum')
{
	print "#ifndef IL_KEYWORDS_H\n#define IL_KEYWORDS_H\n\n";
	print "/* Keywords, in the list's (byte) order. */\n";
	print "typedef enum il_keyword\n{\n\tIL_KW_NONE = 0,\n";
	print "\tIL_KW_\U$_->{name}\E,\n" for @kw;
	print "\tIL_KW__COUNT\n} il_keyword;\n\n#endif\t\t\t\t\t\t\t/* IL_KEYWORDS_H */\n";
	exit 0;
}

# Tables.
my $maxlen = 0;
for (@kw)
{
	$maxlen = length $_->{name} if length $_->{name} > $maxlen;
}
my $slots = 1;
$slots *= 2 while $slots < 2 * @kw;

sub fold { return ord(substr($_[0], $_[1], 1)) | 0x20; }

sub home
{
	my ($name, $m) = @_;
	my $len = length $name;
	return (((fold($name, 0) * $m->[0]) ^ (fold($name, $len - 1) * $m->[1]) ^
			 (fold($name, int($len / 2)) * $m->[2]) ^ ($len * $m->[3])) & ($slots - 1));
}

# Places every keyword (in list order) by linear probing; undef when one
# lands more than $MAXPROBE slots from home.
sub place
{
	my ($m) = @_;
	my @slot = (0) x $slots;
	for my $i (0 .. $#kw)
	{
		my $h = home($kw[$i]{name}, $m);
		my $j = 0;
		$j++ while $j <= $MAXPROBE && $slot[($h + $j) & ($slots - 1)];
		return undef if $j > $MAXPROBE;
		$slot[($h + $j) & ($slots - 1)] = $i + 1;
	}
	return \@slot;
}

# The multipliers: the first candidate that places every keyword (a fixed
# xorshift sequence after the first, so the output depends on the list only).
my @mul = (51, 104, 32, 97);
my $placed = place(\@mul);
my $rng = 0x9e3779b9;
for (my $try = 0; !$placed && $try < 200000; $try++)
{
	for my $k (0 .. 3)
	{
		$rng ^= ($rng << 13) & 0xffffffff;
		$rng ^= $rng >> 17;
		$rng ^= ($rng << 5) & 0xffffffff;
		$mul[$k] = 1 + $rng % 255;
	}
	$placed = place(\@mul);
}
unless ($placed)
{
	# Keywords alike in length, first, middle and last byte share a home
	# slot whatever the multipliers: name the largest such group.
	my %group;
	for my $k (@kw)
	{
		my $n = $k->{name};
		push @{ $group{ join ',', length $n, fold($n, 0), fold($n, int(length($n) / 2)), fold($n, length($n) - 1) } }, $n;
	}
	my ($big) = sort { @$b <=> @$a || $a->[0] cmp $b->[0] } values %group;
	die "gen_keywords.pl: no hash places every keyword within $MAXPROBE slots of home"
	  . (@$big > $MAXPROBE + 1 ? " (these share length, first, middle and last byte: @$big)" : '')
	  . "\n";
}

print "#define KW_SLOTS\t$slots\n";
print "#define KW_MAXLEN\t$maxlen\n";
print "#define KW_MAXPROBE\t$MAXPROBE\t\t\t/* no keyword is further from its home slot */\n\n";
print "/* The home slot of the word s[0..len) (1 <= len <= KW_MAXLEN). */\n";
print "#define KW_HASH(s, len) \\\n";
print "\t(((uint32_t) ((s)[0] | 0x20) * $mul[0] ^ \\\n";
print "\t  (uint32_t) ((s)[(len) - 1] | 0x20) * $mul[1] ^ \\\n";
print "\t  (uint32_t) ((s)[(len) / 2] | 0x20) * $mul[2] ^ \\\n";
print "\t  (uint32_t) (len) * $mul[3]) & (KW_SLOTS - 1))\n\n";

# kw_filter
my @filter;
for my $k (@kw)
{
	my $n = $k->{name};
	my $len = length $n;
	$filter[$len][fold($n, 0) & 0x1f] |= 1 << (fold($n, $len - 1) & 0x1f);
}
print "static const uint32_t kw_filter[KW_MAXLEN + 1][32] = {\n";
for my $len (0 .. $maxlen)
{
	print "\t{" . join(', ', map { sprintf '0x%x', $filter[$len][$_] // 0 } 0 .. 31) . "},\n";
}
print "};\n\n";

# kw_table
print "static const il_kw_entry kw_table[IL_KW__COUNT] = {\n\t{\"\", 0, 0},\n";
for my $k (@kw)
{
	my $flags = @{ $k->{cats} } ? join(' | ', map { $CATEGORIES{$_} } @{ $k->{cats} }) : '0';
	printf "\t{\"%s\", %d, %s},\n", $k->{name}, length $k->{name}, $flags;
}
print "};\n\n";

# kw_slots
print "static const kw_slot kw_slots[KW_SLOTS + KW_MAXPROBE] = {\n";
for my $s (0 .. $slots + $MAXPROBE - 1)
{
	my $i = $placed->[$s & ($slots - 1)];
	next unless $i;
	my $n = $kw[$i - 1]{name};
	my $key8 = 0;
	for my $b (reverse 0 .. (length($n) < 8 ? length($n) : 8) - 1)
	{
		$key8 = ($key8 << 8) | fold($n, $b);
	}
	printf "\t[%d] = {0x%016xULL, %d, %d},\n", $s, $key8, $i, length $n;
}
print "};\n";
