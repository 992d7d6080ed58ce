/*-------------------------------------------------------------------------
 *
 * il_lex.c
 *	  The lexer for Databricks (Spark) SQL model files.
 *
 * One forward pass over the bytes. Every loop advances the read pointer,
 * every read is checked against the end of the input, and the only nesting
 * kept is a fixed-size stack of open parentheses and brackets, so any input
 * is lexed in linear time and bounded memory besides the token array.
 *
 * Positions: the lexer keeps the current line, the offset where it starts
 * and the number of UTF-8 continuation bytes passed on it, so a column (in
 * characters) is computed in constant time for any byte it has reached.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "il_lex.h"

/* Character classes (the table below). */
#define C_SPACE		0x01		/* blank other than newline */
#define C_WORD		0x02		/* [A-Za-z0-9_] */
#define C_DIGIT		0x04		/* [0-9] */
#define C_ALPHA		0x08		/* [A-Za-z_] */
#define S_STR		0x10		/* stops a scan of a quoted string */
#define S_LINE		0x20		/* stops a scan of a line comment */
#define S_BLOCK		0x40		/* stops a scan of a block comment */
#define S_TMPL		0x80		/* stops a scan of a template block */

static const uint8_t char_class[256] = {
	0xf0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xf0, 0x01, 0x01, 0x01, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x90, 0x80, 0x00, 0x80, 0x00, 0x90, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x40,
	0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a,
	0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x00, 0x10, 0x00, 0x00, 0x0a,
	0x10, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a,
	0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x00, 0x00, 0x80, 0x00, 0x00,
	0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0,
	0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0,
	0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0,
	0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0,
	0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0,
	0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0,
	0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0,
	0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0,
};

/* Keywords: a table in alphabetical order and an open-addressing hash index. */
#define KWF_RESERVED IL_KWF_RESERVED
#define KWF_GUARD	IL_KWF_GUARD
#define KW_SLOTS	1024
#define KW_MAXLEN	17
#define KW_MAXPROBE	3			/* no keyword is further from its home slot */

/*
 * A filter before the hash look-up: bit (last & 0x1f) of
 * kw_filter[length][first & 0x1f] (bytes OR 0x20) is set when some keyword
 * has that length, first and last byte. Most identifiers fail it.
 */
static const uint32_t kw_filter[KW_MAXLEN + 1][32] = {
	{0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0},
	{0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0},
	{0x0, 0x180000, 0x2000000, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x84040, 0x0, 0x0, 0x0, 0x0, 0x8000, 0x44040, 0x0, 0x0, 0x0, 0x0, 0x8000, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0},
	{0x0, 0x2001018, 0x0, 0x0, 0x2480008, 0x10, 0x40000, 0x0, 0x0, 0x100000, 0x0, 0x0, 0x0, 0x10000, 0x100000, 0x100000, 0x0, 0x0, 0x800000, 0x101000, 0x0, 0x20, 0x40000, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0},
	{0x0, 0x200, 0x120, 0x2141020, 0x9002a, 0x28, 0x3000, 0x0, 0x40000, 0x8000, 0x4000, 0x80000, 0x21108b0, 0x800, 0x1000, 0x2040000, 0x0, 0x0, 0x81030, 0x980228, 0x16020, 0x40000, 0x800010, 0x4900, 0x0, 0x40000, 0x20, 0x0, 0x0, 0x0, 0x0, 0x0},
	{0x0, 0x2040000, 0x4000, 0xc0820, 0x0, 0x0, 0x100120, 0x110000, 0x80000, 0x10c0020, 0x0, 0x0, 0x181000, 0x88120, 0x80000, 0x40000, 0x100020, 0x2000000, 0x180020, 0x100020, 0x120, 0x1040a0, 0x80000, 0x80020, 0x0, 0x80000, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0},
	{0x0, 0x80000, 0x2100020, 0x104020, 0x20, 0x180020, 0x1c0000, 0x1000, 0x80, 0x100120, 0x0, 0x0, 0x0, 0x2080020, 0x0, 0x104000, 0x0, 0x0, 0x54020, 0x1420b2, 0x180000, 0x820, 0x82020, 0x804000, 0x0, 0x0, 0x40000, 0x0, 0x0, 0x0, 0x0, 0x0},
	{0x0, 0x20, 0x84000, 0x1c40a0, 0x141030, 0x104030, 0x4000, 0x0, 0x0, 0xc0020, 0x0, 0x0, 0x1080, 0x80010, 0x1008, 0x2080000, 0x2100080, 0x2040000, 0x1c0120, 0x880000, 0x100000, 0x104020, 0x44000, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0},
	{0x0, 0x0, 0x0, 0x80000, 0x100070, 0x1030, 0x4000, 0x80, 0x0, 0x2001000, 0x0, 0x0, 0x4020, 0x0, 0x0, 0x80020, 0x44000, 0x0, 0x100800, 0x2100000, 0x1000a0, 0x0, 0x20, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0},
	{0x0, 0x0, 0x0, 0x40010, 0x20c0050, 0x4000, 0x80090, 0x10, 0x0, 0x100020, 0x0, 0x0, 0x0, 0x0, 0x20, 0x10020, 0x4080, 0x0, 0x100020, 0x90, 0x2012000, 0x30, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0},
	{0x0, 0x0, 0x0, 0x105000, 0x20, 0x0, 0x100000, 0x0, 0x0, 0x40000, 0x0, 0x0, 0x0, 0x0, 0x80010, 0x0, 0x80000, 0x0, 0x80020, 0x80000, 0x10, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0},
	{0x0, 0x0, 0x0, 0x80020, 0x80000, 0x0, 0x0, 0x0, 0x0, 0x100000, 0x0, 0x0, 0x0, 0x10, 0x80000, 0x0, 0x10, 0x0, 0x0, 0x20, 0x4020, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0},
	{0x0, 0x0, 0x0, 0x40020, 0x80000, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x80010, 0x0, 0x100000, 0x0, 0x0, 0x40000, 0x40000, 0x80010, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0},
	{0x0, 0x4000, 0x0, 0x0, 0x8, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x4080040, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0},
	{0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x4000, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0},
	{0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x100008, 0x0, 0x0, 0x80000, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0},
	{0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0},
	{0x0, 0x0, 0x0, 0x10000, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0},
};

typedef struct il_kw_entry
{
	const char *name;
	uint8_t		len;
	uint8_t		flags;
} il_kw_entry;

/* A slot of the hash index: the first 8 bytes OR 0x20, little-endian. */
typedef struct kw_slot
{
	uint64_t	key8;
	uint16_t	idx;			/* in kw_table; 0 = empty slot */
	uint8_t		len;
} kw_slot;

/*
 * Generated from the keyword list: kw_slots[kw_hash(word) & (KW_SLOTS - 1)]
 * and the following KW_MAXPROBE slots (linear probing, idx 0 = empty) hold
 * the keywords with that hash, with their length and first eight bytes (OR
 * 0x20) so that a comparison is one 64-bit compare. The last KW_MAXPROBE
 * slots repeat the first ones, so the four candidates of any home slot are
 * consecutive. The hash looks at the length and three
 * bytes only (first, middle, last; OR 0x20 to fold case), so it costs the
 * same for any word; no keyword is more than 3 slots from its home. The unit
 * test test_lex checks that every keyword is found and ordinary words are
 * not.
 */
static const il_kw_entry kw_table[IL_KW__COUNT] = {
	{"", 0, 0},
	{"add", 3, 0},
	{"after", 5, 0},
	{"all", 3, KWF_RESERVED},
	{"alter", 5, KWF_RESERVED | KWF_GUARD},
	{"always", 6, 0},
	{"analyze", 7, 0},
	{"and", 3, KWF_RESERVED},
	{"anti", 4, KWF_RESERVED},
	{"any", 3, 0},
	{"apply", 5, 0},
	{"archive", 7, 0},
	{"array", 5, 0},
	{"as", 2, KWF_RESERVED},
	{"asc", 3, 0},
	{"at", 2, 0},
	{"authorization", 13, 0},
	{"begin", 5, 0},
	{"between", 7, KWF_RESERVED},
	{"bigint", 6, 0},
	{"binary", 6, 0},
	{"boolean", 7, 0},
	{"both", 4, 0},
	{"browse", 6, 0},
	{"bucket", 6, 0},
	{"buckets", 7, 0},
	{"by", 2, KWF_RESERVED},
	{"byte", 4, 0},
	{"cache", 5, 0},
	{"call", 4, 0},
	{"cascade", 7, 0},
	{"case", 4, KWF_RESERVED},
	{"cast", 4, 0},
	{"catalog", 7, 0},
	{"catalogs", 8, 0},
	{"change", 6, 0},
	{"char", 4, 0},
	{"character", 9, 0},
	{"check", 5, 0},
	{"clear", 5, 0},
	{"clone", 5, 0},
	{"cluster", 7, KWF_RESERVED},
	{"clustered", 9, 0},
	{"codegen", 7, 0},
	{"collate", 7, 0},
	{"collection", 10, 0},
	{"column", 6, 0},
	{"columns", 7, 0},
	{"comment", 7, 0},
	{"commit", 6, 0},
	{"compact", 7, 0},
	{"compactions", 11, 0},
	{"compute", 7, 0},
	{"concatenate", 11, 0},
	{"connection", 10, 0},
	{"constraint", 10, 0},
	{"contains", 8, 0},
	{"copy", 4, 0},
	{"cost", 4, 0},
	{"create", 6, KWF_RESERVED | KWF_GUARD},
	{"credential", 10, 0},
	{"cross", 5, KWF_RESERVED},
	{"cube", 4, 0},
	{"current", 7, 0},
	{"current_date", 12, 0},
	{"current_time", 12, 0},
	{"current_timestamp", 17, 0},
	{"current_user", 12, 0},
	{"data", 4, 0},
	{"database", 8, 0},
	{"databases", 9, 0},
	{"date", 4, 0},
	{"date_add", 8, 0},
	{"date_diff", 9, 0},
	{"dateadd", 7, 0},
	{"datediff", 8, 0},
	{"day", 3, 0},
	{"dayofyear", 9, 0},
	{"days", 4, 0},
	{"dbproperties", 12, 0},
	{"dec", 3, 0},
	{"decimal", 7, 0},
	{"declare", 7, 0},
	{"deep", 4, 0},
	{"default", 7, 0},
	{"defined", 7, 0},
	{"definer", 7, 0},
	{"delete", 6, KWF_RESERVED | KWF_GUARD},
	{"delimited", 9, 0},
	{"desc", 4, 0},
	{"describe", 8, 0},
	{"deterministic", 13, 0},
	{"dfs", 3, 0},
	{"directories", 11, 0},
	{"directory", 9, 0},
	{"distinct", 8, KWF_RESERVED},
	{"distribute", 10, KWF_RESERVED},
	{"div", 3, 0},
	{"double", 6, 0},
	{"drop", 4, KWF_RESERVED | KWF_GUARD},
	{"else", 4, KWF_RESERVED},
	{"end", 3, KWF_RESERVED},
	{"escape", 6, 0},
	{"escaped", 7, 0},
	{"evolution", 9, 0},
	{"except", 6, KWF_RESERVED},
	{"exchange", 8, 0},
	{"exclude", 7, 0},
	{"exec", 4, KWF_GUARD},
	{"execute", 7, KWF_GUARD},
	{"exists", 6, KWF_RESERVED},
	{"explain", 7, 0},
	{"export", 6, 0},
	{"extended", 8, 0},
	{"external", 8, 0},
	{"extract", 7, 0},
	{"false", 5, 0},
	{"fetch", 5, 0},
	{"fields", 6, 0},
	{"fileformat", 10, 0},
	{"filter", 6, 0},
	{"first", 5, 0},
	{"float", 5, 0},
	{"following", 9, 0},
	{"for", 3, 0},
	{"foreign", 7, 0},
	{"format", 6, 0},
	{"formatted", 9, 0},
	{"from", 4, KWF_RESERVED},
	{"full", 4, KWF_RESERVED},
	{"function", 8, 0},
	{"functions", 9, 0},
	{"generated", 9, 0},
	{"global", 6, 0},
	{"grant", 5, KWF_GUARD},
	{"group", 5, KWF_RESERVED},
	{"grouping", 8, 0},
	{"having", 6, KWF_RESERVED},
	{"hour", 4, 0},
	{"hours", 5, 0},
	{"identifier", 10, 0},
	{"identity", 8, 0},
	{"if", 2, 0},
	{"ignore", 6, 0},
	{"ilike", 5, KWF_RESERVED},
	{"immediate", 9, 0},
	{"import", 6, 0},
	{"in", 2, KWF_RESERVED},
	{"include", 7, 0},
	{"index", 5, 0},
	{"indexes", 7, 0},
	{"inner", 5, KWF_RESERVED},
	{"inpath", 6, 0},
	{"inputformat", 11, 0},
	{"insert", 6, KWF_RESERVED},
	{"int", 3, 0},
	{"integer", 7, 0},
	{"intersect", 9, KWF_RESERVED},
	{"interval", 8, 0},
	{"into", 4, KWF_RESERVED},
	{"invoker", 7, 0},
	{"is", 2, KWF_RESERVED},
	{"items", 5, 0},
	{"join", 4, KWF_RESERVED},
	{"keys", 4, 0},
	{"language", 8, 0},
	{"last", 4, 0},
	{"lateral", 7, KWF_RESERVED},
	{"lazy", 4, 0},
	{"leading", 7, 0},
	{"left", 4, KWF_RESERVED},
	{"like", 4, KWF_RESERVED},
	{"limit", 5, KWF_RESERVED},
	{"lines", 5, 0},
	{"list", 4, 0},
	{"live", 4, 0},
	{"load", 4, 0},
	{"local", 5, 0},
	{"location", 8, 0},
	{"lock", 4, 0},
	{"locks", 5, 0},
	{"logical", 7, 0},
	{"long", 4, 0},
	{"loop", 4, 0},
	{"macro", 5, 0},
	{"manage", 6, 0},
	{"map", 3, 0},
	{"matched", 7, 0},
	{"materialized", 12, 0},
	{"merge", 5, KWF_RESERVED},
	{"microsecond", 11, 0},
	{"microseconds", 12, 0},
	{"millisecond", 11, 0},
	{"milliseconds", 12, 0},
	{"minus", 5, KWF_RESERVED},
	{"minute", 6, 0},
	{"minutes", 7, 0},
	{"modify", 6, 0},
	{"month", 5, 0},
	{"months", 6, 0},
	{"msck", 4, 0},
	{"namespace", 9, 0},
	{"namespaces", 10, 0},
	{"nanosecond", 10, 0},
	{"nanoseconds", 11, 0},
	{"natural", 7, KWF_RESERVED},
	{"no", 2, 0},
	{"not", 3, KWF_RESERVED},
	{"null", 4, 0},
	{"nulls", 5, 0},
	{"numeric", 7, 0},
	{"of", 2, 0},
	{"offset", 6, KWF_RESERVED},
	{"on", 2, KWF_RESERVED},
	{"only", 4, 0},
	{"optimize", 8, 0},
	{"option", 6, 0},
	{"options", 7, 0},
	{"or", 2, KWF_RESERVED},
	{"order", 5, KWF_RESERVED},
	{"out", 3, 0},
	{"outer", 5, KWF_RESERVED},
	{"outputformat", 12, 0},
	{"over", 4, KWF_RESERVED},
	{"overlaps", 8, 0},
	{"overlay", 7, 0},
	{"overwrite", 9, KWF_RESERVED},
	{"ownership", 9, 0},
	{"partition", 9, 0},
	{"partitioned", 11, 0},
	{"partitions", 10, 0},
	{"percent", 7, 0},
	{"percentile_cont", 15, 0},
	{"percentile_disc", 15, 0},
	{"pivot", 5, KWF_RESERVED},
	{"placing", 7, 0},
	{"position", 8, 0},
	{"preceding", 9, 0},
	{"primary", 7, 0},
	{"principals", 10, 0},
	{"privileges", 10, 0},
	{"properties", 10, 0},
	{"provider", 8, 0},
	{"purge", 5, 0},
	{"qualify", 7, KWF_RESERVED},
	{"quarter", 7, 0},
	{"query", 5, 0},
	{"range", 5, 0},
	{"read", 4, 0},
	{"real", 4, 0},
	{"recipient", 9, 0},
	{"recordreader", 12, 0},
	{"recordwriter", 12, 0},
	{"recover", 7, 0},
	{"recursive", 9, 0},
	{"reduce", 6, 0},
	{"references", 10, 0},
	{"refresh", 7, 0},
	{"regexp", 6, 0},
	{"rename", 6, 0},
	{"repair", 6, 0},
	{"repeatable", 10, 0},
	{"replace", 7, 0},
	{"reset", 5, 0},
	{"respect", 7, 0},
	{"restrict", 8, 0},
	{"return", 6, 0},
	{"returns", 7, 0},
	{"revoke", 6, KWF_GUARD},
	{"right", 5, KWF_RESERVED},
	{"rlike", 5, KWF_RESERVED},
	{"role", 4, 0},
	{"roles", 5, 0},
	{"rollback", 8, 0},
	{"rollup", 6, 0},
	{"row", 3, 0},
	{"rows", 4, 0},
	{"schema", 6, 0},
	{"schemas", 7, 0},
	{"second", 6, 0},
	{"seconds", 7, 0},
	{"security", 8, 0},
	{"select", 6, KWF_RESERVED},
	{"semi", 4, KWF_RESERVED},
	{"separated", 9, 0},
	{"serde", 5, 0},
	{"serdeproperties", 15, 0},
	{"session_user", 12, 0},
	{"set", 3, KWF_RESERVED},
	{"sets", 4, 0},
	{"shallow", 7, 0},
	{"share", 5, 0},
	{"short", 5, 0},
	{"show", 4, 0},
	{"skewed", 6, 0},
	{"smallint", 8, 0},
	{"some", 4, 0},
	{"sort", 4, KWF_RESERVED},
	{"sorted", 6, 0},
	{"source", 6, 0},
	{"sql", 3, 0},
	{"start", 5, 0},
	{"statistics", 10, 0},
	{"stored", 6, 0},
	{"stratify", 8, 0},
	{"stream", 6, 0},
	{"streaming", 9, 0},
	{"string", 6, 0},
	{"struct", 6, 0},
	{"substr", 6, 0},
	{"substring", 9, 0},
	{"sync", 4, 0},
	{"system_time", 11, 0},
	{"system_version", 14, 0},
	{"table", 5, KWF_RESERVED},
	{"tables", 6, 0},
	{"tablesample", 11, KWF_RESERVED},
	{"target", 6, 0},
	{"tblproperties", 13, 0},
	{"temp", 4, 0},
	{"temporary", 9, 0},
	{"terminated", 10, 0},
	{"then", 4, KWF_RESERVED},
	{"time", 4, 0},
	{"timestamp", 9, 0},
	{"timestamp_ltz", 13, 0},
	{"timestamp_ntz", 13, 0},
	{"timestampadd", 12, 0},
	{"timestampdiff", 13, 0},
	{"tinyint", 7, 0},
	{"to", 2, 0},
	{"touch", 5, 0},
	{"trailing", 8, 0},
	{"transaction", 11, 0},
	{"transactions", 12, 0},
	{"transform", 9, 0},
	{"trim", 4, 0},
	{"true", 4, 0},
	{"truncate", 8, KWF_GUARD},
	{"try_cast", 8, 0},
	{"type", 4, 0},
	{"unarchive", 9, 0},
	{"unbounded", 9, 0},
	{"uncache", 7, 0},
	{"union", 5, KWF_RESERVED},
	{"unique", 6, 0},
	{"unknown", 7, 0},
	{"unlock", 6, 0},
	{"unpivot", 7, KWF_RESERVED},
	{"unset", 5, 0},
	{"update", 6, KWF_RESERVED},
	{"usage", 5, 0},
	{"use", 3, 0},
	{"user", 4, 0},
	{"using", 5, KWF_RESERVED},
	{"vacuum", 6, 0},
	{"values", 6, KWF_RESERVED},
	{"var", 3, 0},
	{"varchar", 7, 0},
	{"variable", 8, 0},
	{"version", 7, 0},
	{"view", 4, 0},
	{"views", 5, 0},
	{"void", 4, 0},
	{"volume", 6, 0},
	{"week", 4, 0},
	{"weeks", 5, 0},
	{"when", 4, KWF_RESERVED},
	{"where", 5, KWF_RESERVED},
	{"window", 6, KWF_RESERVED},
	{"with", 4, KWF_RESERVED},
	{"within", 6, KWF_RESERVED},
	{"write", 5, 0},
	{"year", 4, 0},
	{"years", 5, 0},
	{"zone", 4, 0},
	{"zorder", 6, 0},
};

static const kw_slot kw_slots[KW_SLOTS + KW_MAXPROBE] = {
	[2] = {0x00006574656c6564ULL, 87, 6},
	[9] = {0x00736e7275746572ULL, 267, 7},
	[12] = {0x0000007472617473ULL, 301, 5},
	[14] = {0x7562697274736964ULL, 96, 10},
	[16] = {0x00000000006c6c61ULL, 3, 3},
	[17] = {0x006e61656c6f6f62ULL, 21, 7},
	[18] = {0x0068736572666572ULL, 257, 7},
	[24] = {0x00000000676e6f6cULL, 182, 4},
	[25] = {0x0000656b6f766572ULL, 268, 6},
	[26] = {0x6e657461636e6f63ULL, 53, 11},
	[30] = {0x6f72706564726573ULL, 286, 15},
	[31] = {0x0000000000766964ULL, 97, 3},
	[33] = {0x0000657461647075ULL, 350, 6},
	[40] = {0x0000000000637361ULL, 14, 3},
	[48] = {0x0000000063736564ULL, 89, 4},
	[52] = {0x0072657472617571ULL, 245, 7},
	[59] = {0x0000000072657375ULL, 353, 4},
	[62] = {0x00746361706d6f63ULL, 50, 7},
	[65] = {0x6e69646563657270ULL, 237, 9},
	[67] = {0x00006e6968746977ULL, 371, 6},
	[68] = {0x0000006564726573ULL, 285, 5},
	[71] = {0x00006d6165727473ULL, 305, 6},
	[72] = {0x000000736b656577ULL, 366, 5},
	[74] = {0x0000000000746573ULL, 288, 3},
	[75] = {0x797469746e656469ULL, 141, 8},
	[76] = {0x676e696c69617274ULL, 332, 8},
	[77] = {0x0000000072616863ULL, 36, 4},
	[81] = {0x696669746e656469ULL, 140, 10},
	[84] = {0x0073657865646e69ULL, 150, 7},
	[85] = {0x676e6970756f7267ULL, 136, 8},
	[87] = {0x0000676e69727473ULL, 307, 6},
	[89] = {0x00006574756e696dULL, 195, 6},
	[91] = {0x6f69746974726170ULL, 229, 11},
	[92] = {0x0000000000646e65ULL, 101, 3},
	[93] = {0x000000006c6c6163ULL, 29, 4},
	[95] = {0x6d6173656c626174ULL, 316, 11},
	[96] = {0x00000000706f6f6cULL, 183, 4},
	[99] = {0x006c61726574616cULL, 167, 7},
	[101] = {0x00000000696d6573ULL, 283, 4},
	[104] = {0x00000000656b696cULL, 171, 4},
	[107] = {0x00000073656c6f72ULL, 272, 5},
	[109] = {0x000074726f706d69ULL, 146, 6},
	[118] = {0x0065646163736163ULL, 30, 7},
	[120] = {0x6e696d6165727473ULL, 306, 9},
	[126] = {0x00746e6572727563ULL, 63, 7},
	[127] = {0x000000006d6f7266ULL, 128, 4},
	[128] = {0x0000000064616f6cULL, 176, 4},
	[129] = {0x007972616d697270ULL, 238, 7},
	[130] = {0x0000007377656976ULL, 362, 5},
	[140] = {0x007966696c617571ULL, 244, 7},
	[147] = {0x0000007468676972ULL, 269, 5},
	[148] = {0x000074616d726f66ULL, 126, 6},
	[152] = {0x006e776f6e6b6e75ULL, 346, 7},
	[153] = {0x000074726f707865ULL, 112, 6},
	[154] = {0x006563616c706572ULL, 262, 7},
	[159] = {0x0000727473627573ULL, 309, 6},
	[163] = {0x697463656c6c6f63ULL, 45, 10},
	[164] = {0x697463656e6e6f63ULL, 54, 10},
	[169] = {0x6f69746974726170ULL, 228, 9},
	[172] = {0x0000007261656c63ULL, 39, 5},
	[183] = {0x0000000000736664ULL, 92, 3},
	[188] = {0x0072656765746e69ULL, 156, 7},
	[189] = {0x7f746e6572727563ULL, 64, 12},
	[190] = {0x7f746e6572727563ULL, 65, 12},
	[191] = {0x6e6f697461636f6cULL, 178, 8},
	[192] = {0x7261726f706d6574ULL, 320, 9},
	[193] = {0x0065686361636e75ULL, 343, 7},
	[200] = {0x00007972616e6962ULL, 20, 6},
	[203] = {0x0064656e69666564ULL, 85, 7},
	[205] = {0x0000687461706e69ULL, 152, 6},
	[209] = {0x0000000000726176ULL, 357, 3},
	[215] = {0x0000657461657263ULL, 59, 6},
	[216] = {0x0000007473726966ULL, 121, 5},
	[217] = {0x0000726564726f7aULL, 376, 6},
	[222] = {0x7463697274736572ULL, 265, 8},
	[226] = {0x0000656c62756f64ULL, 98, 6},
	[230] = {0x00676f6c61746163ULL, 33, 7},
	[240] = {0x000070756c6c6f72ULL, 274, 6},
	[241] = {0x0000000000007369ULL, 161, 2},
	[242] = {0x000000006c616572ULL, 249, 4},
	[253] = {0x0000006567727570ULL, 243, 5},
	[255] = {0x6e65697069636572ULL, 250, 9},
	[256] = {0x00000070756f7267ULL, 135, 5},
	[258] = {0x00000000656e6f7aULL, 375, 4},
	[259] = {0x0000000063657865ULL, 108, 4},
	[260] = {0x00000073736f7263ULL, 61, 5},
	[261] = {0x0000000000657375ULL, 352, 3},
	[262] = {0x00736e6d756c6f63ULL, 47, 7},
	[266] = {0x000000006e696f6aULL, 163, 4},
	[268] = {0x65746172656e6567ULL, 132, 9},
	[270] = {0x006e656765646f63ULL, 43, 7},
	[275] = {0x69617274736e6f63ULL, 55, 10},
	[276] = {0x6666696465746164ULL, 75, 8},
	[277] = {0x0000000079706f63ULL, 57, 4},
	[283] = {0x000074657366666fULL, 212, 6},
	[292] = {0x65676175676e616cULL, 165, 8},
	[294] = {0x000000656b696c69ULL, 144, 5},
	[296] = {0x000000726564726fULL, 219, 5},
	[298] = {0x0000006f7263616dULL, 184, 5},
	[299] = {0x0000776f646e6977ULL, 369, 6},
	[300] = {0x000073646c656966ULL, 118, 6},
	[301] = {0x0000747265736e69ULL, 154, 6},
	[302] = {0x0072657473756c63ULL, 41, 7},
	[303] = {0x0000746375727473ULL, 308, 6},
	[304] = {0x0000000065757274ULL, 337, 4},
	[305] = {0x0074636570736572ULL, 264, 7},
	[308] = {0x000000000070616dULL, 186, 3},
	[311] = {0x000065676e616863ULL, 35, 6},
	[319] = {0x00000065736c6166ULL, 116, 5},
	[320] = {0x000000007473616cULL, 166, 4},
	[321] = {0x000000007473696cULL, 174, 4},
	[325] = {0x0000007372756f68ULL, 139, 5},
	[328] = {0x746361736e617274ULL, 334, 12},
	[330] = {0x69746361706d6f63ULL, 51, 11},
	[331] = {0x0064646165746164ULL, 74, 7},
	[332] = {0x0000000000007962ULL, 26, 2},
	[333] = {0x000000007379656bULL, 164, 4},
	[334] = {0x0000007865646e69ULL, 149, 5},
	[335] = {0x00676e6963616c70ULL, 235, 7},
	[336] = {0x7669686372616e75ULL, 341, 9},
	[341] = {0x0000000065736163ULL, 31, 4},
	[344] = {0x6d726f66656c6966ULL, 119, 10},
	[345] = {0x0000000000006e69ULL, 147, 2},
	[354] = {0x69747265706f7270ULL, 241, 10},
	[355] = {0x00006c61626f6c67ULL, 133, 6},
	[358] = {0x6f6974756c6f7665ULL, 104, 9},
	[361] = {0x000000007265766fULL, 223, 4},
	[362] = {0x6e6f6974636e7566ULL, 130, 8},
	[369] = {0x6f6674757074756fULL, 222, 12},
	[375] = {0x0000006863746566ULL, 117, 5},
	[376] = {0x7265706f72706264ULL, 79, 12},
	[380] = {0x00657a796c616e61ULL, 6, 7},
	[381] = {0x657461636e757274ULL, 338, 8},
	[388] = {0x0000006b63656863ULL, 38, 5},
	[389] = {0x6574696d696c6564ULL, 88, 9},
	[394] = {0x0000000065747962ULL, 27, 4},
	[400] = {0x0000000065707974ULL, 340, 4},
	[406] = {0x006574616c6c6f63ULL, 44, 7},
	[407] = {0x00776f6c6c616873ULL, 290, 7},
	[409] = {0x0000000000006669ULL, 142, 2},
	[414] = {0x000000796c707061ULL, 10, 5},
	[418] = {0x6f69746974726170ULL, 230, 10},
	[419] = {0x656c626169726176ULL, 359, 8},
	[428] = {0x6573616261746164ULL, 69, 8},
	[438] = {0x74616e696d726574ULL, 321, 10},
	[443] = {0x6c6169726574616dULL, 188, 12},
	[444] = {0x00746e69796e6974ULL, 329, 7},
	[445] = {0x657a696d6974706fULL, 215, 8},
	[451] = {0x006572616c636564ULL, 82, 7},
	[459] = {0x00006e6f6974706fULL, 216, 6},
	[460] = {0x0000000072756f68ULL, 138, 4},
	[461] = {0x726f746365726964ULL, 94, 9},
	[462] = {0x00000074726f6873ULL, 292, 5},
	[464] = {0x0000000000006f6eULL, 206, 2},
	[465] = {0x0000707865676572ULL, 258, 6},
	[471] = {0x767f6d6574737973ULL, 313, 14},
	[472] = {0x0000656d616e6572ULL, 259, 6},
	[473] = {0x0000747065637865ULL, 105, 6},
	[476] = {0x00007365756c6176ULL, 356, 6},
	[478] = {0x0000007961727261ULL, 12, 5},
	[480] = {0x0000000065746164ULL, 71, 4},
	[483] = {0x006c616369676f6cULL, 181, 7},
	[489] = {0x000000006b656577ULL, 365, 4},
	[491] = {0x63617073656d616eULL, 201, 9},
	[495] = {0x0000646e6f636573ULL, 279, 6},
	[501] = {0x7f6e6f6973736573ULL, 287, 12},
	[507] = {0x6974736974617473ULL, 302, 10},
	[508] = {0x0065766968637261ULL, 11, 7},
	[509] = {0x0072656b6f766e69ULL, 160, 7},
	[511] = {0x69746e6563726570ULL, 232, 15},
	[514] = {0x617069636e697270ULL, 239, 10},
	[518] = {0x0000676e69766168ULL, 137, 6},
	[520] = {0x00000000706f7264ULL, 99, 4},
	[521] = {0x0000000000746f6eULL, 207, 3},
	[522] = {0x74616964656d6d69ULL, 145, 9},
	[523] = {0x00000000006c7173ULL, 300, 3},
	[525] = {0x006c61727574616eULL, 205, 7},
	[526] = {0x000000006c6c756eULL, 208, 4},
	[527] = {0x0000000074726f73ULL, 297, 4},
	[531] = {0x0000007465736572ULL, 263, 5},
	[533] = {0x6669647f65746164ULL, 73, 9},
	[534] = {0x00657475706d6f63ULL, 52, 7},
	[535] = {0x616579666f796164ULL, 77, 9},
	[537] = {0x6e696d7265746564ULL, 91, 13},
	[538] = {0x0000006863756f74ULL, 331, 5},
	[544] = {0x6f6365736f6e616eULL, 203, 10},
	[545] = {0x0000657571696e75ULL, 345, 6},
	[546] = {0x000000006e656877ULL, 367, 4},
	[548] = {0x0000006572616873ULL, 291, 5},
	[550] = {0x65646e756f626e75ULL, 342, 9},
	[552] = {0x00006573776f7262ULL, 23, 6},
	[553] = {0x736e6961746e6f63ULL, 56, 8},
	[554] = {0x72656469766f7270ULL, 242, 8},
	[555] = {0x657264726f636572ULL, 251, 12},
	[557] = {0x7370616c7265766fULL, 224, 8},
	[558] = {0x7a69726f68747561ULL, 16, 13},
	[559] = {0x0000000000776f72ULL, 275, 3},
	[560] = {0x006564756c637865ULL, 107, 7},
	[561] = {0x0000000000007461ULL, 15, 2},
	[562] = {0x00000000656d6974ULL, 323, 4},
	[563] = {0x0000006e69676562ULL, 17, 5},
	[568] = {0x0064657061637365ULL, 103, 7},
	[571] = {0x0072656e69666564ULL, 86, 7},
	[575] = {0x65676e6168637865ULL, 106, 8},
	[577] = {0x6d617473656d6974ULL, 325, 13},
	[578] = {0x6d617473656d6974ULL, 326, 13},
	[579] = {0x6c61767265746e69ULL, 158, 8},
	[581] = {0x000065726f6e6769ULL, 143, 6},
	[585] = {0x7966697461727473ULL, 304, 8},
	[587] = {0x00746c7561666564ULL, 84, 7},
	[591] = {0x00006465726f7473ULL, 303, 6},
	[592] = {0x0000000000646461ULL, 1, 3},
	[594] = {0x000000676e697375ULL, 354, 5},
	[595] = {0x69746e6564657263ULL, 60, 10},
	[597] = {0x000000746f766970ULL, 234, 5},
	[598] = {0x0073616d65686373ULL, 278, 7},
	[599] = {0x0000000000636564ULL, 80, 3},
	[605] = {0x726f66736e617274ULL, 335, 9},
	[608] = {0x000000746e617267ULL, 134, 5},
	[610] = {0x000073656c626174ULL, 315, 6},
	[614] = {0x0000007265746661ULL, 2, 5},
	[615] = {0x0000007265746c61ULL, 4, 5},
	[616] = {0x00000000797a616cULL, 168, 4},
	[618] = {0x747f6d6574737973ULL, 312, 11},
	[620] = {0x0000656d756c6f76ULL, 364, 6},
	[631] = {0x6465646e65747865ULL, 113, 8},
	[632] = {0x0000006574697277ULL, 372, 5},
	[635] = {0x00676e696461656cULL, 169, 7},
	[637] = {0x6573616261746164ULL, 70, 9},
	[640] = {0x0000726961706572ULL, 260, 6},
	[641] = {0x0000737473697865ULL, 110, 6},
	[646] = {0x6b6361626c6c6f72ULL, 273, 8},
	[648] = {0x000000006e656874ULL, 322, 4},
	[649] = {0x7974697275636573ULL, 281, 8},
	[650] = {0x727764726f636572ULL, 252, 12},
	[655] = {0x0000646574726f73ULL, 298, 6},
	[661] = {0x00000000636e7973ULL, 311, 4},
	[663] = {0x7669737275636572ULL, 254, 9},
	[664] = {0x0000000000796e61ULL, 9, 3},
	[665] = {0x63617073656d616eULL, 202, 10},
	[666] = {0x0000746567726174ULL, 317, 6},
	[668] = {0x746972777265766fULL, 226, 9},
	[670] = {0x00000072656e6e69ULL, 151, 5},
	[672] = {0x6574636172616863ULL, 37, 9},
	[673] = {0x6d617473656d6974ULL, 328, 13},
	[674] = {0x67656c6976697270ULL, 240, 10},
	[692] = {0x000000656e6f6c63ULL, 40, 5},
	[693] = {0x69687372656e776fULL, 227, 9},
	[695] = {0x6c616e7265747865ULL, 114, 8},
	[696] = {0x00000000706d6574ULL, 319, 4},
	[697] = {0x000000736b636f6cULL, 180, 5},
	[702] = {0x000000000074756fULL, 220, 3},
	[705] = {0x0000000000726f66ULL, 124, 3},
	[706] = {0x0000000068746f62ULL, 22, 4},
	[708] = {0x00007265746c6966ULL, 120, 6},
	[709] = {0x006564756c636e69ULL, 148, 7},
	[712] = {0x7f746e6572727563ULL, 66, 17},
	[719] = {0x000000000000726fULL, 218, 2},
	[725] = {0x00000000776f6873ULL, 293, 4},
	[728] = {0x6e69727473627573ULL, 310, 9},
	[729] = {0x00006567616e616dULL, 185, 6},
	[736] = {0x00006e7275746572ULL, 266, 6},
	[737] = {0x00000074696d696cULL, 172, 5},
	[738] = {0x6365737265746e69ULL, 157, 9},
	[740] = {0x74636e6974736964ULL, 95, 8},
	[741] = {0x006e676965726f66ULL, 125, 7},
	[743] = {0x69746e6563726570ULL, 233, 15},
	[750] = {0x0000007972657571ULL, 246, 5},
	[751] = {0x0000646577656b73ULL, 294, 6},
	[752] = {0x6572657473756c63ULL, 42, 9},
	[753] = {0x0000000068746977ULL, 370, 4},
	[755] = {0x0000000065736c65ULL, 100, 4},
	[756] = {0x6261746165706572ULL, 261, 10},
	[759] = {0x000000006f746e69ULL, 159, 4},
	[761] = {0x007374656b637562ULL, 25, 7},
	[766] = {0x0000000077656976ULL, 361, 4},
	[767] = {0x0000000069746e61ULL, 8, 4},
	[771] = {0x6e69776f6c6c6f66ULL, 123, 9},
	[772] = {0x6e6f6974636e7566ULL, 131, 9},
	[776] = {0x00736574756e696dULL, 196, 7},
	[784] = {0x0000000000646e61ULL, 7, 3},
	[785] = {0x6d617473656d6974ULL, 327, 12},
	[789] = {0x0072616863726176ULL, 358, 7},
	[790] = {0x000000736d657469ULL, 162, 5},
	[791] = {0x0073646e6f636573ULL, 280, 7},
	[792] = {0x000000006b636f6cULL, 179, 4},
	[793] = {0x00000073656e696cULL, 173, 5},
	[794] = {0x000000656772656dULL, 189, 5},
	[800] = {0x726f667475706e69ULL, 153, 11},
	[802] = {0x00736e6f6974706fULL, 217, 7},
	[803] = {0x6365736f7263696dULL, 191, 12},
	[804] = {0x636573696c6c696dULL, 193, 12},
	[806] = {0x0000000000006f74ULL, 330, 2},
	[808] = {0x0000000000746e69ULL, 155, 3},
	[809] = {0x000000726574756fULL, 221, 5},
	[810] = {0x00000073756e696dULL, 194, 5},
	[811] = {0x000000006b63736dULL, 200, 4},
	[812] = {0x00006d7575636176ULL, 355, 6},
	[815] = {0x00007463656c6573ULL, 282, 6},
	[817] = {0x00000000796c6e6fULL, 214, 4},
	[820] = {0x0000006568636163ULL, 28, 5},
	[823] = {0x000000736c6c756eULL, 209, 5},
	[826] = {0x0000006e6f696e75ULL, 344, 5},
	[833] = {0x746e696c6c616d73ULL, 295, 8},
	[840] = {0x0000000070656564ULL, 83, 4},
	[841] = {0x0000000000007361ULL, 13, 2},
	[842] = {0x65706f72706c6274ULL, 318, 13},
	[852] = {0x747361637f797274ULL, 339, 8},
	[853] = {0x0000000073746573ULL, 289, 4},
	[856] = {0x0000656375646572ULL, 255, 6},
	[860] = {0x6365736f7263696dULL, 190, 11},
	[861] = {0x636573696c6c696dULL, 192, 11},
	[864] = {0x6574617261706573ULL, 284, 9},
	[868] = {0x636e657265666572ULL, 256, 10},
	[870] = {0x0000007372616579ULL, 374, 5},
	[871] = {0x0000616d65686373ULL, 277, 6},
	[872] = {0x6e6f697469736f70ULL, 236, 8},
	[874] = {0x0000000073776f72ULL, 276, 4},
	[879] = {0x000000000000666fULL, 211, 2},
	[881] = {0x006e656577746562ULL, 18, 7},
	[882] = {0x0000657061637365ULL, 102, 6},
	[885] = {0x0000000065627563ULL, 62, 4},
	[887] = {0x00000074616f6c66ULL, 122, 5},
	[891] = {0x000000656b696c72ULL, 270, 5},
	[893] = {0x0000000074736163ULL, 32, 4},
	[894] = {0x0000000074736f63ULL, 58, 4},
	[895] = {0x000074696d6d6f63ULL, 49, 6},
	[896] = {0x000074656b637562ULL, 24, 6},
	[897] = {0x0000000061746164ULL, 68, 4},
	[898] = {0x0000006567617375ULL, 351, 5},
	[902] = {0x0000000064696f76ULL, 363, 4},
	[904] = {0x006e69616c707865ULL, 111, 7},
	[905] = {0x73676f6c61746163ULL, 34, 8},
	[907] = {0x006c616d69636564ULL, 81, 7},
	[909] = {0x0000737961776c61ULL, 5, 6},
	[913] = {0x00006b636f6c6e75ULL, 347, 6},
	[917] = {0x6d617473656d6974ULL, 324, 9},
	[923] = {0x00000065676e6172ULL, 247, 5},
	[926] = {0x00746e656d6d6f63ULL, 48, 7},
	[929] = {0x007265766f636572ULL, 253, 7},
	[932] = {0x6464617f65746164ULL, 72, 8},
	[935] = {0x746361736e617274ULL, 333, 11},
	[940] = {0x6562697263736564ULL, 90, 8},
	[943] = {0x0000000000006e6fULL, 213, 2},
	[945] = {0x000000656c626174ULL, 314, 5},
	[946] = {0x0000000064616572ULL, 248, 4},
	[950] = {0x000000006c6c7566ULL, 129, 4},
	[951] = {0x00746e6563726570ULL, 231, 7},
	[954] = {0x00000000656c6f72ULL, 271, 4},
	[955] = {0x657474616d726f66ULL, 127, 9},
	[960] = {0x0000746e69676962ULL, 19, 6},
	[965] = {0x00000000656d6f73ULL, 296, 4},
	[967] = {0x0000000000796164ULL, 76, 3},
	[968] = {0x000000006576696cULL, 175, 4},
	[969] = {0x00007368746e6f6dULL, 199, 6},
	[976] = {0x0065747563657865ULL, 109, 7},
	[977] = {0x006465686374616dULL, 187, 7},
	[978] = {0x00000068746e6f6dULL, 198, 5},
	[979] = {0x0079616c7265766fULL, 225, 7},
	[981] = {0x00636972656d756eULL, 210, 7},
	[984] = {0x0074636172747865ULL, 115, 7},
	[985] = {0x6f6365736f6e616eULL, 204, 11},
	[992] = {0x000000007466656cULL, 170, 4},
	[993] = {0x0000006c61636f6cULL, 177, 5},
	[997] = {0x7f746e6572727563ULL, 67, 12},
	[999] = {0x0000656372756f73ULL, 299, 6},
	[1000] = {0x00746f7669706e75ULL, 348, 7},
	[1002] = {0x0000007465736e75ULL, 349, 5},
	[1007] = {0x00006e6d756c6f63ULL, 46, 6},
	[1008] = {0x0000000073796164ULL, 78, 4},
	[1009] = {0x000000006d697274ULL, 336, 4},
	[1010] = {0x0000000072616579ULL, 373, 4},
	[1013] = {0x006e6f6973726576ULL, 360, 7},
	[1016] = {0x0000006572656877ULL, 368, 5},
	[1017] = {0x0000796669646f6dULL, 197, 6},
	[1023] = {0x726f746365726964ULL, 93, 11},
	[1026] = {0x00006574656c6564ULL, 87, 6},
};

typedef struct lexer
{
	const unsigned char *src;
	const unsigned char *end;
	const unsigned char *line_start;	/* first byte of the current line */
	uint32_t	line;
	uint32_t	cont;			/* continuation bytes passed on this line */
	unsigned	flags;
	il_tokens  *out;
	il_error   *err;
	il_parse_status status;
	uint8_t		last_type;		/* type of the last token other than a comment */
	bool		bounded;		/* the token array was sized by il_lex_max_tokens */
	uint32_t	depth;
	uint32_t	stack[IL_LEX_MAX_DEPTH];	/* open ( and [ token indexes */
} lexer;

/*
 * The name of a token type.
 */
const char *
il_tok_type_name(il_tok_type type)
{
	switch (type)
	{
		case IL_TOK_WORD:
			return "word";
		case IL_TOK_QIDENT:
			return "quoted identifier";
		case IL_TOK_STRING:
			return "string";
		case IL_TOK_NUMBER:
			return "number";
		case IL_TOK_LPAREN:
			return "(";
		case IL_TOK_RPAREN:
			return ")";
		case IL_TOK_LBRACKET:
			return "[";
		case IL_TOK_RBRACKET:
			return "]";
		case IL_TOK_COMMA:
			return ",";
		case IL_TOK_SEMI:
			return ";";
		case IL_TOK_DOT:
			return ".";
		case IL_TOK_COLON:
			return ":";
		case IL_TOK_DCOLON:
			return "::";
		case IL_TOK_OP:
			return "operator";
		case IL_TOK_TEMPLATE:
			return "template";
		case IL_TOK_VARIABLE:
			return "variable";
		case IL_TOK_COMMENT:
			return "comment";
	}
	return "?";
}

/*
 * x as loaded from little-endian bytes.
 */
static inline uint64_t
le64(uint64_t x)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return __builtin_bswap64(x);
#else
	return x;
#endif
}

/*
 * The bytes of x (little-endian) that are not ASCII letters, digits or '_',
 * as their high bit (SWAR: every byte at once).
 */
static inline uint64_t
non_word_mask(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ULL;
	const uint64_t high = 0x80 * ones;
	uint64_t	low7 = x & (0x7f * ones);
	uint64_t	folded = low7 | (0x20 * ones);	/* A-Z to a-z, '_' to 0x7f */
	uint64_t	letter = (folded + (0x80 - 'a') * ones) & ~(folded + (0x7f - 'z') * ones);
	uint64_t	digit = (low7 + (0x80 - '0') * ones) & ~(low7 + (0x7f - '9') * ones);
	uint64_t	under = ~((low7 ^ ('_' * ones)) + (0x7f * ones));	/* high bit: byte == '_' */
	uint64_t	word = (letter | digit | under) & ~x & high;

	return ~word & high;
}

/*
 * Finds the keyword spelled by the word s[0..len) (1 <= len <= KW_MAXLEN,
 * ASCII word characters), in any case; bytes up to end may be read.
 */
static inline il_keyword
kw_find(const unsigned char *s, size_t len, const unsigned char *end)
{
	uint32_t	slot = (((uint32_t) (s[0] | 0x20) * 51) ^
						((uint32_t) (s[len - 1] | 0x20) * 104) ^
						((uint32_t) (s[len / 2] | 0x20) * 32) ^
						((uint32_t) len * 97)) & (KW_SLOTS - 1);
	uint64_t	key8 = 0;
	size_t		i;
	uint32_t	j;

	if (!((kw_filter[len][(s[0] | 0x20) & 0x1f] >> ((s[len - 1] | 0x20) & 0x1f)) & 1))
		return IL_KW_NONE;
	if (s + 8 <= end)
	{
		memcpy(&key8, s, 8);
		key8 = le64(key8) | 0x2020202020202020ULL;
		if (len < 8)
			key8 &= ((uint64_t) 1 << (8 * len)) - 1;
	}
	else
	{
		for (i = 0; i < len && i < 8; i++)
			key8 |= (uint64_t) (s[i] | 0x20) << (8 * i);
	}
	for (j = 0; j <= KW_MAXPROBE; j++)
	{
		const kw_slot *e = &kw_slots[slot + j];

		if (e->idx == 0)
			break;
		if (e->key8 == key8 && e->len == len)
		{
			const char *name = kw_table[e->idx].name;

			for (i = 8; i < len; i++)
				if ((s[i] | 0x20) != (unsigned char) (name[i] | 0x20))
					break;
			if (i >= len)
				return (il_keyword) e->idx;
		}
	}
	return IL_KW_NONE;
}

/*
 * The keyword spelled by s[0..len), in any case, or IL_KW_NONE.
 */
il_keyword
il_keyword_lookup(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *) s;
	size_t		i;

	if (len == 0 || len > KW_MAXLEN)
		return IL_KW_NONE;
	for (i = 0; i < len; i++)
		if (!(char_class[u[i]] & C_WORD))
			return IL_KW_NONE;
	return kw_find(u, len, u + len);
}

/*
 * The lower-case spelling of a keyword.
 */
const char *
il_keyword_name(il_keyword kw)
{
	if ((int) kw <= 0 || kw >= IL_KW__COUNT)
		return "";
	return kw_table[kw].name;
}

/*
 * The IL_KWF_* flags of a keyword.
 */
unsigned
il_keyword_flags(il_keyword kw)
{
	if ((int) kw <= 0 || kw >= IL_KW__COUNT)
		return 0;
	return kw_table[kw].flags;
}

/*
 * Frees a token array and leaves it empty.
 */
void
il_tokens_free(il_tokens *toks)
{
	free(toks->tok);
	toks->tok = NULL;
	toks->n = 0;
	toks->cap = 0;
}

/*
 * The length of the valid UTF-8 sequence (2 to 4 bytes) starting with the
 * non-ASCII byte at p, or 0 if it is not one: no overlong forms, no
 * surrogates, nothing above U+10FFFF, not cut by the end of the input.
 */
static int
utf8_seq(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0];
	size_t		avail = (size_t) (end - p);

	if (c >= 0xc2 && c <= 0xdf)
		return (avail >= 2 && (p[1] & 0xc0) == 0x80) ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef)
	{
		unsigned char lo = 0x80,
					hi = 0xbf;

		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		if (avail < 3 || p[1] < lo || p[1] > hi || (p[2] & 0xc0) != 0x80)
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4)
	{
		unsigned char lo = 0x80,
					hi = 0xbf;

		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		if (avail < 4 || p[1] < lo || p[1] > hi ||
			(p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
			return 0;
		return 4;
	}
	return 0;
}

/*
 * The column (1-based, in characters) of a byte on the current line that
 * the lexer has reached.
 */
static uint32_t
col_of(const lexer *lx, const unsigned char *q)
{
	return (uint32_t) (q - lx->line_start) - lx->cont + 1;
}

/*
 * Records that the byte at q is a newline.
 */
static void
newline(lexer *lx, const unsigned char *q)
{
	lx->line++;
	lx->line_start = q + 1;
	lx->cont = 0;
}

/*
 * Sets the lexer's error (the first one wins).
 */
static void
fail(lexer *lx, il_parse_status st, il_errcode code, uint32_t line,
	 uint32_t col, const char *msg)
{
	if (lx->status != IL_PARSE_OK)
		return;
	lx->status = st;
	il_error_set(lx->err, code, (int) line, (int) col, "%s", msg);
}

/*
 * Reports a byte that may not appear at q: NUL or invalid UTF-8.
 */
static void
fail_byte(lexer *lx, const unsigned char *q)
{
	if (lx->status != IL_PARSE_OK)
		return;
	lx->status = IL_PARSE_ERR_ENCODING;
	if (*q == 0)
		il_error_set(lx->err, IL_ERR_NUL_BYTE, (int) lx->line, (int) col_of(lx, q),
					 "nul byte (0x00) in sql text: remove it");
	else
		il_error_set(lx->err, IL_ERR_INVALID_UTF8, (int) lx->line, (int) col_of(lx, q),
					 "invalid utf-8 byte sequence starting with byte 0x%02x: save the file as utf-8",
					 (unsigned) *q);
}

/*
 * Passes the non-ASCII character at q: returns its length, or 0 after
 * reporting invalid UTF-8.
 */
static int
pass_high(lexer *lx, const unsigned char *q)
{
	int			n = utf8_seq(q, lx->end);

	if (n == 0)
	{
		fail_byte(lx, q);
		return 0;
	}
	lx->cont += (uint32_t) (n - 1);
	return n;
}

/*
 * Makes room for more tokens; false (with the error set) when out of memory.
 */
static bool
grow_tokens(lexer *lx, uint32_t line, uint32_t col)
{
	il_tokens  *t = lx->out;
	size_t		len = (size_t) (lx->end - lx->src);
	size_t		cap;
	il_token   *nt;

	if (len >= IL_LEX_BOUND_MIN && !lx->bounded)
	{
		/* once: room for every token the text can hold (also in an array reused) */
		lx->bounded = true;
		cap = il_lex_max_tokens((const char *) lx->src, len) + 1;
		if (cap <= t->cap)
			cap = t->cap * 2;
	}
	else if (t->cap > 0)
		cap = t->cap * 2;		/* small inputs (and never past a bound) */
	else
		cap = len / 4 + 32;

	if (cap > SIZE_MAX / sizeof(il_token))
		nt = NULL;
	else
		nt = realloc(t->tok, cap * sizeof(il_token));
	if (nt == NULL)
	{
		fail(lx, IL_PARSE_ERR_NOMEM, IL_ERR_OUT_OF_MEMORY, line, col,
			 "out of memory while lexing");
		return false;
	}
	t->tok = nt;
	t->cap = cap;
	return true;
}

/*
 * Appends a token; false when out of memory.
 */
static inline bool
emit(lexer *lx, il_tok_type type, const unsigned char *start,
	 const unsigned char *stop, uint32_t line, uint32_t col, uint16_t kw,
	 uint8_t flags)
{
	il_tokens  *t = lx->out;
	il_token   *tok;

	if (t->n == t->cap && !grow_tokens(lx, line, col))
		return false;
	tok = &t->tok[t->n++];
	tok->off = (uint32_t) (start - lx->src);
	tok->lenm = (uint32_t) (stop - start);
	tok->kw = kw;
	tok->type = (uint8_t) type;
	tok->flags = flags;
	if (type != IL_TOK_COMMENT)
		lx->last_type = (uint8_t) type;
	return true;
}

/*
 * Scans a quoted string or identifier whose opening quote is just before q.
 * Returns the byte after the closing quote, or NULL: then either an encoding
 * error is set, or (status still OK) the input ended first. Backslash
 * escapes apply unless raw; in a backtick identifier a doubled backtick
 * stands for one.
 */
static const unsigned char *
scan_quoted(lexer *lx, const unsigned char *q, unsigned char quote, bool raw)
{
	const unsigned char *end = lx->end;

	for (;;)
	{
		unsigned char c;

		while (q < end && !(char_class[*q] & S_STR))
			q++;
		if (q >= end)
			return NULL;
		c = *q;
		if (c == quote)
		{
			if (quote == '`' && q + 1 < end && q[1] == '`')
			{
				q += 2;
				continue;
			}
			return q + 1;
		}
		if (c == '\\' && !raw)
		{
			q++;
			if (q >= end)
				return NULL;
			c = *q;
			if (c < 0x80 && c != '\n' && c != 0)
			{
				q++;
				continue;
			}
		}
		if (c == '\n')
			newline(lx, q);
		else if (c == 0)
		{
			fail_byte(lx, q);
			return NULL;
		}
		else if (c >= 0x80)
		{
			int			n = pass_high(lx, q);

			if (n == 0)
				return NULL;
			q += n;
			continue;
		}
		q++;
	}
}

/*
 * Scans a block comment whose opening slash-star ends just before q;
 * comments nest. Returns the byte after the closing star-slash, or NULL
 * (see scan_quoted).
 */
static const unsigned char *
scan_block_comment(lexer *lx, const unsigned char *q)
{
	const unsigned char *end = lx->end;
	size_t		depth = 1;

	for (;;)
	{
		unsigned char c;

		while (q < end && !(char_class[*q] & S_BLOCK))
			q++;
		if (q >= end)
			return NULL;
		c = *q;
		if (c == '*' && q + 1 < end && q[1] == '/')
		{
			q += 2;
			if (--depth == 0)
				return q;
			continue;
		}
		if (c == '/' && q + 1 < end && q[1] == '*')
		{
			q += 2;
			depth++;
			continue;
		}
		if (c == '\n')
			newline(lx, q);
		else if (c == 0)
		{
			fail_byte(lx, q);
			return NULL;
		}
		else if (c >= 0x80)
		{
			int			n = pass_high(lx, q);

			if (n == 0)
				return NULL;
			q += n;
			continue;
		}
		q++;
	}
}

/*
 * Scans a template block whose two-byte opener ends just before q, up to
 * the closer (close then '}'). In {{ }} and {% %} quoted strings are
 * skipped, so a '}}' inside one does not end the block. Returns the byte
 * after the closer, or NULL (see scan_quoted).
 */
static const unsigned char *
scan_template(lexer *lx, const unsigned char *q, unsigned char close, bool quotes)
{
	const unsigned char *end = lx->end;

	for (;;)
	{
		unsigned char c;

		while (q < end && !(char_class[*q] & S_TMPL))
			q++;
		if (q >= end)
			return NULL;
		c = *q;
		if (c == close && q + 1 < end && q[1] == '}')
			return q + 2;
		if (quotes && (c == '\'' || c == '"'))
		{
			q = scan_quoted(lx, q + 1, c, false);
			if (q == NULL)
				return NULL;
			continue;
		}
		if (c == '\n')
			newline(lx, q);
		else if (c == 0)
		{
			fail_byte(lx, q);
			return NULL;
		}
		else if (c >= 0x80)
		{
			int			n = pass_high(lx, q);

			if (n == 0)
				return NULL;
			q += n;
			continue;
		}
		q++;
	}
}

/*
 * Scans a line comment from q (after the two dashes) to the end of the
 * line (the newline is not part of it). Returns its end, or NULL after an
 * encoding error.
 */
static const unsigned char *
scan_line_comment(lexer *lx, const unsigned char *q)
{
	const unsigned char *end = lx->end;

	for (;;)
	{
		while (q < end && !(char_class[*q] & S_LINE))
			q++;
		if (q >= end || *q == '\n')
			return q;
		if (*q == 0)
		{
			fail_byte(lx, q);
			return NULL;
		}
		else
		{
			int			n = pass_high(lx, q);

			if (n == 0)
				return NULL;
			q += n;
		}
	}
}

/*
 * Scans a word (identifier or keyword) starting at p and emits it.
 * Returns the byte after it, or NULL on error. A word right after '.', ':'
 * or '::' is a name, never a keyword.
 */
static const unsigned char *
lex_word(lexer *lx, const unsigned char *p, uint32_t line, uint32_t col)
{
	const unsigned char *end = lx->end;
	const unsigned char *q = p;
	bool		high = false;
	il_keyword	kw = IL_KW_NONE;
	uint8_t		flags = 0;

	for (;;)
	{
		/* eight bytes at a time while they can be read */
		while (q + 8 <= end)
		{
			uint64_t	x;
			uint64_t	stop;

			memcpy(&x, q, 8);
			stop = non_word_mask(le64(x));
			if (stop != 0)
			{
				q += (unsigned) __builtin_ctzll(stop) / 8;
				break;
			}
			q += 8;
		}
		while (q < end && (char_class[*q] & C_WORD))
			q++;
		if (q < end && *q >= 0x80)
		{
			int			n = pass_high(lx, q);

			if (n == 0)
				return NULL;
			q += n;
			high = true;
		}
		else
			break;
	}
	if (high)
		flags = IL_TOKF_HIGH;
	else if ((size_t) (q - p) <= KW_MAXLEN && lx->last_type != IL_TOK_DOT &&
			 lx->last_type != IL_TOK_COLON && lx->last_type != IL_TOK_DCOLON)
	{
		kw = kw_find(p, (size_t) (q - p), end);
		if (kw != IL_KW_NONE)
			flags = ((kw_table[kw].flags & KWF_RESERVED) ? IL_TOKF_RESERVED : 0) |
				((kw_table[kw].flags & KWF_GUARD) ? IL_TOKF_GUARD : 0);
	}
	if (!emit(lx, IL_TOK_WORD, p, q, line, col, (uint16_t) kw, flags))
		return NULL;
	return q;
}

/*
 * Scans a number starting at p (a digit, or a '.' before a digit): digits,
 * a fraction, an exponent, then any suffix letters (1L, 2.5D, 10BD).
 */
static const unsigned char *
lex_number(lexer *lx, const unsigned char *p, uint32_t line, uint32_t col)
{
	const unsigned char *end = lx->end;
	const unsigned char *q = p;

	while (q < end && (char_class[*q] & C_DIGIT))
		q++;
	if (q < end && *q == '.')
	{
		q++;
		while (q < end && (char_class[*q] & C_DIGIT))
			q++;
	}
	if (q < end && (*q | 0x20) == 'e')
	{
		if (q + 1 < end && (char_class[q[1]] & C_DIGIT))
			q += 2;
		else if (q + 2 < end && (q[1] == '+' || q[1] == '-') &&
				 (char_class[q[2]] & C_DIGIT))
			q += 3;
		while (q < end && (char_class[*q] & C_DIGIT))
			q++;
	}
	while (q < end && (char_class[*q] & C_WORD))
		q++;
	if (!emit(lx, IL_TOK_NUMBER, p, q, line, col, IL_KW_NONE, 0))
		return NULL;
	return q;
}

/*
 * Lexes src[0..len) into out.
 */
il_parse_status
il_lex(const char *src, size_t len, unsigned flags, il_tokens *out, il_error *err)
{
	lexer		state;
	lexer	   *lx = &state;
	const unsigned char *p;
	const unsigned char *end;

	il_error_clear(err);
	if (len > IL_LEX_MAX_INPUT)
	{
		il_error_set(err, IL_ERR_TOO_LARGE, 0, 0,
					 "sql text of %zu bytes is larger than the limit of %zu bytes: split the model",
					 len, IL_LEX_MAX_INPUT);
		return IL_PARSE_ERR_LIMIT;
	}
	lx->src = (const unsigned char *) (src ? src : "");
	lx->end = lx->src + len;
	lx->line_start = lx->src;
	lx->line = 1;
	lx->cont = 0;
	lx->flags = flags;
	lx->out = out;
	lx->err = err;
	lx->status = IL_PARSE_OK;
	lx->last_type = 0;
	lx->bounded = false;
	lx->depth = 0;
	p = lx->src;
	end = lx->end;

	/* A byte order mark at the start is not part of the text. */
	if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
	{
		p += 3;
		lx->line_start = p;
	}

	while (p < end)
	{
		unsigned char c = *p;
		const unsigned char *start = p;
		const unsigned char *q;
		uint32_t	line;
		uint32_t	col;

		if (char_class[c] & C_SPACE)
		{
			p++;
			while (p < end && (char_class[*p] & C_SPACE))
				p++;
			continue;
		}
		if (c == '\n')
		{
			newline(lx, p);
			p++;
			continue;
		}
		line = lx->line;
		col = col_of(lx, p);

		if (char_class[c] & C_ALPHA)
		{
			/* r'raw', R"raw", X'hex' */
			if (p + 1 < end && (p[1] == '\'' || p[1] == '"') &&
				((c | 0x20) == 'r' || ((c | 0x20) == 'x' && p[1] == '\'')))
			{
				bool		raw = (c | 0x20) == 'r';

				q = scan_quoted(lx, p + 2, p[1], raw);
				if (q == NULL)
				{
					fail(lx, IL_PARSE_ERR_SYNTAX, IL_ERR_UNTERMINATED_STRING, line, col,
						 "unterminated string literal: close it with the quote it starts with");
					break;
				}
				if (!emit(lx, IL_TOK_STRING, start, q, line, col, IL_KW_NONE,
						  raw ? IL_TOKF_RAW : IL_TOKF_HEX))
					break;
				p = q;
				continue;
			}
			p = lex_word(lx, p, line, col);
			if (p == NULL)
				break;
			continue;
		}
		if (char_class[c] & C_DIGIT)
		{
			/* After a '.', a part of a name may start with a digit. */
			if (lx->last_type == IL_TOK_DOT)
				p = lex_word(lx, p, line, col);
			else
				p = lex_number(lx, p, line, col);
			if (p == NULL)
				break;
			continue;
		}
		if (c >= 0x80)
		{
			p = lex_word(lx, p, line, col);
			if (p == NULL)
				break;
			continue;
		}

		switch (c)
		{
			case '\'':
			case '"':
			case '`':
				q = scan_quoted(lx, p + 1, c, false);
				if (q == NULL)
				{
					if (c == '`')
						fail(lx, IL_PARSE_ERR_SYNTAX, IL_ERR_UNTERMINATED_IDENTIFIER, line, col,
							 "unterminated quoted identifier: close it with a backtick (write `` for a backtick inside)");
					else
						fail(lx, IL_PARSE_ERR_SYNTAX, IL_ERR_UNTERMINATED_STRING, line, col,
							 "unterminated string literal: close it with the quote it starts with");
					break;
				}
				if (!emit(lx, c == '`' ? IL_TOK_QIDENT : IL_TOK_STRING, start, q,
						  line, col, IL_KW_NONE, 0))
					break;
				p = q;
				continue;

			case '(':
			case '[':
				if (lx->depth >= IL_LEX_MAX_DEPTH)
				{
					fail(lx, IL_PARSE_ERR_LIMIT, IL_ERR_TOO_DEEP, line, col,
						 "parentheses and brackets nested more than 1000 deep: simplify the query");
					break;
				}
				if (!emit(lx, c == '(' ? IL_TOK_LPAREN : IL_TOK_LBRACKET, start, p + 1,
						  line, col, IL_KW_NONE, 0))
					break;
				lx->out->tok[lx->out->n - 1].lenm = 0;	/* no match yet */
				lx->stack[lx->depth++] = (uint32_t) (lx->out->n - 1);
				p++;
				continue;

			case ')':
			case ']':
				{
					il_tok_type want = c == ')' ? IL_TOK_LPAREN : IL_TOK_LBRACKET;
					uint32_t	open;

					if (lx->depth == 0)
					{
						fail(lx, IL_PARSE_ERR_SYNTAX, IL_ERR_UNBALANCED_PARENTHESIS, line, col,
							 c == ')' ? "')' without a matching '(': remove it or add the '('"
							 : "']' without a matching '[': remove it or add the '['");
						break;
					}
					open = lx->stack[lx->depth - 1];
					if (lx->out->tok[open].type != want)
					{
						fail(lx, IL_PARSE_ERR_SYNTAX, IL_ERR_MISMATCHED_BRACKET, line, col,
							 c == ')' ? "')' closes a '[': close the '[' with ']' first"
							 : "']' closes a '(': close the '(' with ')' first");
						break;
					}
					if (!emit(lx, c == ')' ? IL_TOK_RPAREN : IL_TOK_RBRACKET, start, p + 1,
							  line, col, IL_KW_NONE, 0))
						break;
					lx->depth--;
					lx->out->tok[open].lenm = (uint32_t) (lx->out->n - 1);
					lx->out->tok[lx->out->n - 1].lenm = open;
					p++;
					continue;
				}

			case ',':
			case ';':
				if (!emit(lx, c == ',' ? IL_TOK_COMMA : IL_TOK_SEMI, start, p + 1,
						  line, col, IL_KW_NONE, 0))
					break;
				p++;
				continue;

			case '.':
				if (p + 1 < end && (char_class[p[1]] & C_DIGIT) &&
					lx->last_type != IL_TOK_WORD && lx->last_type != IL_TOK_QIDENT &&
					lx->last_type != IL_TOK_RPAREN && lx->last_type != IL_TOK_RBRACKET &&
					lx->last_type != IL_TOK_TEMPLATE && lx->last_type != IL_TOK_VARIABLE)
				{
					p = lex_number(lx, p, line, col);
					if (p == NULL)
						break;
					continue;
				}
				if (!emit(lx, IL_TOK_DOT, start, p + 1, line, col, IL_KW_NONE, 0))
					break;
				p++;
				continue;

			case ':':
				q = (p + 1 < end && p[1] == ':') ? p + 2 : p + 1;
				if (!emit(lx, q == p + 2 ? IL_TOK_DCOLON : IL_TOK_COLON, start, q,
						  line, col, IL_KW_NONE, 0))
					break;
				p = q;
				continue;

			case '-':
				if (p + 1 < end && p[1] == '-')
				{
					q = scan_line_comment(lx, p + 2);
					if (q == NULL)
						break;
					if ((lx->flags & IL_LEX_KEEP_COMMENTS) &&
						!emit(lx, IL_TOK_COMMENT, start, q, line, col, IL_KW_NONE, 0))
						break;
					p = q;
					continue;
				}
				q = (p + 1 < end && p[1] == '>') ? p + 2 : p + 1;
				break;

			case '/':
				if (p + 1 < end && p[1] == '*')
				{
					q = scan_block_comment(lx, p + 2);
					if (q == NULL)
					{
						fail(lx, IL_PARSE_ERR_SYNTAX, IL_ERR_UNTERMINATED_COMMENT, line, col,
							 "unterminated block comment: close it with */ (block comments nest)");
						break;
					}
					if ((lx->flags & IL_LEX_KEEP_COMMENTS) &&
						!emit(lx, IL_TOK_COMMENT, start, q, line, col, IL_KW_NONE, 0))
						break;
					p = q;
					continue;
				}
				q = p + 1;
				break;

			case '{':
				if (p + 1 < end && (p[1] == '{' || p[1] == '%' || p[1] == '#'))
				{
					unsigned char close = p[1] == '{' ? '}' : p[1];

					q = scan_template(lx, p + 2, close, close != '#');
					if (q == NULL)
					{
						if (close == '}')
							fail(lx, IL_PARSE_ERR_SYNTAX, IL_ERR_UNTERMINATED_TEMPLATE, line, col,
								 "unterminated template block: close '{{' with '}}'");
						else if (close == '%')
							fail(lx, IL_PARSE_ERR_SYNTAX, IL_ERR_UNTERMINATED_TEMPLATE, line, col,
								 "unterminated template block: close '{%' with '%}'");
						else
							fail(lx, IL_PARSE_ERR_SYNTAX, IL_ERR_UNTERMINATED_TEMPLATE, line, col,
								 "unterminated template comment: close '{#' with '#}'");
						break;
					}
					if (close == '#')
					{
						if ((lx->flags & IL_LEX_KEEP_COMMENTS) &&
							!emit(lx, IL_TOK_COMMENT, start, q, line, col, IL_KW_NONE,
								  IL_TOKF_TEMPLATE_COMMENT))
							break;
					}
					else if (!emit(lx, IL_TOK_TEMPLATE, start, q, line, col, IL_KW_NONE, 0))
						break;
					p = q;
					continue;
				}
				q = p + 1;
				break;

			case '$':
				if (p + 1 < end && p[1] == '{')
				{
					q = p + 2;
					while (q < end && *q != '}' && *q != '\n')
					{
						if (*q == 0)
						{
							fail_byte(lx, q);
							break;
						}
						if (*q >= 0x80)
						{
							int			n = pass_high(lx, q);

							if (n == 0)
								break;
							q += n;
							continue;
						}
						q++;
					}
					if (lx->status != IL_PARSE_OK)
						break;
					if (q >= end || *q != '}')
					{
						fail(lx, IL_PARSE_ERR_SYNTAX, IL_ERR_UNTERMINATED_VARIABLE, line, col,
							 "unterminated variable: close '${' with '}' on the same line");
						break;
					}
					if (!emit(lx, IL_TOK_VARIABLE, start, q + 1, line, col, IL_KW_NONE, 0))
						break;
					p = q + 1;
					continue;
				}
				q = p + 1;
				break;

			case '<':
				if (p + 2 < end && p[1] == '=' && p[2] == '>')
					q = p + 3;
				else if (p + 1 < end && (p[1] == '=' || p[1] == '>' || p[1] == '<'))
					q = p + 2;
				else
					q = p + 1;
				break;

			case '>':
				if (p + 2 < end && p[1] == '>' && p[2] == '>')
					q = p + 3;
				else if (p + 1 < end && (p[1] == '=' || p[1] == '>'))
					q = p + 2;
				else
					q = p + 1;
				break;

			case '=':
				q = (p + 1 < end && (p[1] == '=' || p[1] == '>')) ? p + 2 : p + 1;
				break;

			case '!':
				q = (p + 1 < end && p[1] == '=') ? p + 2 : p + 1;
				break;

			case '|':
				q = (p + 1 < end && (p[1] == '|' || p[1] == '>')) ? p + 2 : p + 1;
				break;

			default:
				if (c == 0)
				{
					fail_byte(lx, p);
					break;
				}
				if (c < 0x20 || c == 0x7f)
				{
					if (lx->status == IL_PARSE_OK)
					{
						lx->status = IL_PARSE_ERR_SYNTAX;
						il_error_set(err, IL_ERR_UNEXPECTED_CHARACTER, (int) line, (int) col,
									 "unexpected control character 0x%02x outside a string: remove it",
									 (unsigned) c);
					}
					break;
				}
				q = p + 1;
				break;
		}
		if (lx->status != IL_PARSE_OK)
			break;
		/* An operator or punctuation character from start to q. */
		if (!emit(lx, IL_TOK_OP, start, q, line, col, IL_KW_NONE, 0))
			break;
		p = q;
	}

	if (lx->status == IL_PARSE_OK && lx->depth > 0)
	{
		const il_token *open = &lx->out->tok[lx->stack[lx->depth - 1]];
		int			oline;
		int			ocol;

		il_lex_position(src, open->off, &oline, &ocol);
		fail(lx, IL_PARSE_ERR_SYNTAX, IL_ERR_UNCLOSED_PARENTHESIS, (uint32_t) oline, (uint32_t) ocol,
			 open->type == IL_TOK_LPAREN ? "'(' is never closed: add the matching ')'"
			 : "'[' is never closed: add the matching ']'");
	}
	/* give back what a bound or a guess set aside and no token used */
	if (lx->status == IL_PARSE_OK && out->cap - out->n > out->n / 4 + 256)
	{
		il_token   *nt = realloc(out->tok, (out->n ? out->n : 1) * sizeof(il_token));

		if (nt != NULL)
		{
			out->tok = nt;
			out->cap = out->n ? out->n : 1;
		}
	}
	return lx->status;
}

/*
 * The hash of a string and its tag (FNV-1a, then the tag mixed in).
 */
static uint32_t
strindex_hash(const char *s, size_t len, int tag)
{
	uint32_t	h = 2166136261u;
	size_t		i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char) s[i]) * 16777619u;
	h ^= (uint32_t) tag * 0x9e3779b9u;
	return h ^ (h >> 15);
}

/*
 * Starts an empty index.
 */
void
il_strindex_init(il_strindex *x)
{
	x->slots = NULL;
	x->cap = 0;
	x->n = 0;
}

/*
 * Frees an index and leaves it empty.
 */
void
il_strindex_free(il_strindex *x)
{
	free(x->slots);
	il_strindex_init(x);
}

/*
 * Does entry e hold s[0..len) with tag?
 */
static bool
strindex_is(uint32_t e, const char *s, size_t len, int tag, il_strindex_get get, const void *arg)
{
	size_t		elen;
	int			etag;
	const char *es = get(arg, e, &elen, &etag);

	return etag == tag && elen == len && memcmp(es, s, len) == 0;
}

/*
 * Finds the entry holding a string.
 */
uint32_t
il_strindex_find(const il_strindex *x, const char *s, size_t len, int tag,
				 il_strindex_get get, const void *arg)
{
	size_t		i;

	if (x->cap == 0)
	{
		for (i = 0; i < x->n; i++)
			if (strindex_is(x->few[i], s, len, tag, get, arg))
				return x->few[i];
		return UINT32_MAX;
	}
	for (i = strindex_hash(s, len, tag) & (x->cap - 1); x->slots[i] != 0; i = (i + 1) & (x->cap - 1))
		if (strindex_is(x->slots[i] - 1, s, len, tag, get, arg))
			return x->slots[i] - 1;
	return UINT32_MAX;
}

/*
 * Puts entry e into the slots (there is room).
 */
static void
strindex_put(uint32_t *slots, size_t cap, uint32_t e, il_strindex_get get, const void *arg)
{
	size_t		len;
	int			tag;
	const char *s = get(arg, e, &len, &tag);
	size_t		i;

	for (i = strindex_hash(s, len, tag) & (cap - 1); slots[i] != 0; i = (i + 1) & (cap - 1))
		;
	slots[i] = e + 1;
}

/*
 * Adds an entry, making the table (or a larger one) when it is due.
 */
bool
il_strindex_add(il_strindex *x, uint32_t entry, il_strindex_get get, const void *arg)
{
	if (x->cap == 0 && x->n < IL_STRINDEX_FEW)
	{
		x->few[x->n++] = entry;
		return true;
	}
	if ((x->n + 1) * 2 > x->cap)
	{
		size_t		cap = x->cap ? x->cap * 2 : 4 * IL_STRINDEX_FEW;
		uint32_t   *slots;
		size_t		i;

		if (cap > SIZE_MAX / sizeof(uint32_t) || (slots = calloc(cap, sizeof(uint32_t))) == NULL)
			return false;
		if (x->cap == 0)
			for (i = 0; i < x->n; i++)
				strindex_put(slots, cap, x->few[i], get, arg);
		else
			for (i = 0; i < x->cap; i++)
				if (x->slots[i] != 0)
					strindex_put(slots, cap, x->slots[i] - 1, get, arg);
		free(x->slots);
		x->slots = slots;
		x->cap = cap;
	}
	strindex_put(x->slots, x->cap, entry, get, arg);
	x->n++;
	return true;
}

/*
 * Starts an empty lists builder.
 */
void
il_lb_init(il_lists_builder *b)
{
	b->text = b->text_inline;
	b->len = 0;
	b->cap = IL_LB_INLINE_TEXT;
	b->items = b->items_inline;
	b->n = 0;
	b->icap = IL_LB_INLINE_ITEMS;
	b->unique = 0;
	il_strindex_init(&b->index);
	b->oom = false;
}

/*
 * Names the lists whose duplicates are dropped as they come.
 */
void
il_lb_unique(il_lists_builder *b, unsigned lists)
{
	b->unique = lists;
}

/*
 * The string of builder item e (il_strindex_get).
 */
static const char *
lb_item_string(const void *arg, uint32_t e, size_t *len, int *tag)
{
	const il_lists_builder *b = arg;

	*len = b->items[e].len;
	*tag = (int) b->items[e].list;
	return b->text + b->items[e].off;
}

/*
 * Adds a string to one of the lists.
 */
bool
il_lb_add(il_lists_builder *b, int list, const char *s, size_t len, bool lower)
{
	size_t		i;
	bool		unique;

	if (b->oom || list < 0 || list >= IL_LB_MAX_LISTS)
		return false;
	unique = (b->unique >> list) & 1;
	if (b->n == b->icap)
	{
		size_t		cap = b->icap * 2;
		il_lb_item *ni;

		if (b->items == b->items_inline)
		{
			ni = malloc(cap * sizeof(il_lb_item));
			if (ni != NULL)
				memcpy(ni, b->items, b->n * sizeof(il_lb_item));
		}
		else
			ni = realloc(b->items, cap * sizeof(il_lb_item));
		if (ni == NULL)
		{
			b->oom = true;
			return false;
		}
		b->items = ni;
		b->icap = cap;
	}
	if (len > UINT32_MAX - b->len || b->n >= UINT32_MAX - 1)
	{
		b->oom = true;
		return false;
	}
	if (b->len + len > b->cap)
	{
		size_t		cap = b->cap * 2;
		char	   *nt;

		while (cap < b->len + len)
			cap *= 2;
		if (b->text == b->text_inline)
		{
			nt = malloc(cap);
			if (nt != NULL)
				memcpy(nt, b->text, b->len);
		}
		else
			nt = realloc(b->text, cap);
		if (nt == NULL)
		{
			b->oom = true;
			return false;
		}
		b->text = nt;
		b->cap = cap;
	}
	/* the string goes at the end of the text; dropped again if a duplicate */
	memcpy(b->text + b->len, s, len);
	if (lower)
		for (i = b->len; i < b->len + len; i++)
			if (b->text[i] >= 'A' && b->text[i] <= 'Z')
				b->text[i] = (char) (b->text[i] + ('a' - 'A'));
	b->items[b->n].off = (uint32_t) b->len;
	b->items[b->n].len = (uint32_t) len;
	b->items[b->n].list = (uint32_t) list;
	/*
	 * The first IL_LB_INLINE_ITEMS items are kept as they come (il_lb_finish
	 * drops their duplicates); from then on the unique lists' items are
	 * indexed, and a duplicate is dropped at once.
	 */
	if (unique && b->n >= IL_LB_INLINE_ITEMS)
	{
		if (b->n == IL_LB_INLINE_ITEMS || b->index.n == 0)
		{
			for (i = 0; i < b->n; i++)
				if (((b->unique >> b->items[i].list) & 1) &&
					il_strindex_find(&b->index, b->text + b->items[i].off, b->items[i].len,
									 (int) b->items[i].list, lb_item_string, b) == UINT32_MAX &&
					!il_strindex_add(&b->index, (uint32_t) i, lb_item_string, b))
				{
					b->oom = true;
					return false;
				}
		}
		if (il_strindex_find(&b->index, b->text + b->len, len, list,
							 lb_item_string, b) != UINT32_MAX)
			return true;
		if (!il_strindex_add(&b->index, (uint32_t) b->n, lb_item_string, b))
		{
			b->oom = true;
			return false;
		}
	}
	b->n++;
	b->len += len;
	return true;
}

/*
 * Orders two list items by byte value (qsort callback).
 */
static int
strptr_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * Moves the lists into one block: the pointer arrays, list by list, then
 * the strings with their NULs.
 */
bool
il_lb_finish(il_lists_builder *b, int nlists, unsigned sort_unique,
			 il_strlist *out, void **mem)
{
	size_t		count[IL_LB_MAX_LISTS] = {0};
	size_t		at[IL_LB_MAX_LISTS];
	char	  **ptrs;
	char	   *text;
	size_t		i;
	int			k;

	*mem = NULL;
	for (k = 0; k < nlists; k++)
	{
		out[k].items = NULL;
		out[k].n = 0;
	}
	if (b->oom || nlists > IL_LB_MAX_LISTS)
	{
		il_lb_free(b);
		return false;
	}
	if (b->n == 0)
	{
		il_lb_free(b);
		return true;
	}
	il_strindex_free(&b->index);	/* not needed any more: room for the block */
	for (i = 0; i < b->n; i++)
		if (b->items[i].list < (uint32_t) nlists)
			count[b->items[i].list]++;
	ptrs = malloc(b->n * sizeof(char *) + b->len + b->n);
	if (ptrs == NULL)
	{
		il_lb_free(b);
		return false;
	}
	text = (char *) (ptrs + b->n);
	at[0] = 0;
	for (k = 1; k < nlists; k++)
		at[k] = at[k - 1] + count[k - 1];
	for (k = 0; k < nlists; k++)
		out[k].items = count[k] ? ptrs + at[k] : NULL;
	for (i = 0; i < b->n; i++)
	{
		const il_lb_item *it = &b->items[i];

		if (it->list >= (uint32_t) nlists)
			continue;
		memcpy(text, b->text + it->off, it->len);
		text[it->len] = '\0';
		ptrs[at[it->list] + out[it->list].n++] = text;
		text += it->len + 1;
	}
	for (k = 0; k < nlists; k++)
	{
		if ((sort_unique & (1u << k)) && out[k].n > 1)
		{
			char	  **items = out[k].items;
			size_t		m = 1;

			if (out[k].n <= 16)
			{
				/* insertion sort: cheaper than qsort for the usual few names */
				for (i = 1; i < out[k].n; i++)
				{
					char	   *v = items[i];
					size_t		j = i;

					while (j > 0 && strcmp(items[j - 1], v) > 0)
					{
						items[j] = items[j - 1];
						j--;
					}
					items[j] = v;
				}
			}
			else
				qsort(items, out[k].n, sizeof(char *), strptr_cmp);
			for (i = 1; i < out[k].n; i++)
				if (strcmp(items[i], items[m - 1]) != 0)
					items[m++] = items[i];
			out[k].n = m;
		}
	}
	*mem = ptrs;
	il_lb_free(b);
	return true;
}

/*
 * Frees a builder's heap memory and leaves it empty.
 */
void
il_lb_free(il_lists_builder *b)
{
	unsigned	unique = b->unique;

	if (b->text != b->text_inline)
		free(b->text);
	if (b->items != b->items_inline)
		free(b->items);
	il_strindex_free(&b->index);
	il_lb_init(b);
	b->unique = unique;
}

/*
 * An upper bound of the tokens of a text (see il_lex.h): the bytes that
 * can start one.
 */
size_t
il_lex_max_tokens(const char *src, size_t len)
{
	const unsigned char *p = (const unsigned char *) src;
	size_t		n = 0;
	size_t		i;
	unsigned	prev = 0;		/* 1: an ASCII word byte, 2: a non-ASCII byte */

	for (i = 0; i < len; i++)
	{
		unsigned char c = p[i];
		unsigned	cur;

		if (c >= 0x80)
			cur = 2;
		else if (char_class[c] & C_WORD)
			cur = 1;
		else
		{
			cur = 0;
			/* blanks and newlines start nothing */
			n += !((char_class[c] & C_SPACE) || c == '\n');
			prev = cur;
			continue;
		}
		/* a word byte after a word byte continues it, but for a non-ASCII
		 * byte after an ASCII one (a number ends before it) */
		n += prev == 0 || (cur == 2 && prev == 1);
		prev = cur;
	}
	return n;
}

/*
 * The position of a byte as il_lex reports it (see il_lex.h).
 */
void
il_lex_position(const char *src, size_t off, int *line, int *column)
{
	const unsigned char *p = (const unsigned char *) src;
	size_t		from = 0;

	*line = 1;
	*column = 1;
	if (off >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		from = 3;
	il_text_advance(src, from, off, line, column);
}

/*
 * Line and column of a later byte (see il_lex.h).
 */
void
il_text_advance(const char *s, size_t from, size_t to, int *line, int *column)
{
	size_t		i;
	int			l = *line;
	int			c = *column;

	for (i = from; i < to; i++)
	{
		if (s[i] == '\n')
		{
			l++;
			c = 1;
		}
		else if (((unsigned char) s[i] & 0xc0) != 0x80)
			c++;
	}
	*line = l;
	*column = c;
}
