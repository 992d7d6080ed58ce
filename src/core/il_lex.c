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
#include "il_text.h"

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

/*
 * Keywords: kw_table (name, length, flags), the kw_filter test and the
 * kw_slots hash index, generated from il_keywords.txt by
 * scripts/gen_keywords.pl (see there how they work). The unit test test_lex
 * checks that every keyword is found and ordinary words are not.
 */
#define KWF_RESERVED IL_KWF_RESERVED
#define KWF_GUARD	IL_KWF_GUARD

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

#include "il_keywords_tab.h"

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
	uint32_t	slot = KW_HASH(s, len);
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
	il_free(toks->tok);
	toks->tok = NULL;
	toks->n = 0;
	toks->cap = 0;
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
 * The byte scanners share these: skip_while and skip_until pass a run of
 * bytes by their class, and pass_byte passes one byte that is none of the
 * scanner's own delimiters, which is where lines are counted and UTF-8 and
 * NUL bytes are checked for every token.
 */

/* The first byte from q on (or end) whose class has no bit of mask. */
static inline const unsigned char *
skip_while(const unsigned char *q, const unsigned char *end, uint8_t mask)
{
	while (q < end && (char_class[*q] & mask))
		q++;
	return q;
}

/* The first byte from q on (or end) whose class has a bit of mask. */
static inline const unsigned char *
skip_until(const unsigned char *q, const unsigned char *end, uint8_t mask)
{
	while (q < end && !(char_class[*q] & mask))
		q++;
	return q;
}

/*
 * Passes the byte at q (q < end): a non-ASCII character whole, a newline
 * (counting the line), any other byte but NUL. Returns the byte after it,
 * or NULL after reporting NUL or invalid UTF-8.
 */
static inline const unsigned char *
pass_byte(lexer *lx, const unsigned char *q)
{
	unsigned char c = *q;

	if (c >= 0x80)
	{
		int			n = il_utf8_char_len(q, lx->end);

		if (n == 0)
		{
			fail_byte(lx, q);
			return NULL;
		}
		lx->cont += (uint32_t) (n - 1);
		return q + n;
	}
	if (c == '\n')
		newline(lx, q);
	else if (c == 0)
	{
		fail_byte(lx, q);
		return NULL;
	}
	return q + 1;
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
		nt = il_realloc(t->tok, cap * sizeof(il_token));
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
		q = skip_until(q, end, S_STR);
		if (q >= end)
			return NULL;
		if (*q == quote)
		{
			if (quote == '`' && q + 1 < end && q[1] == '`')
			{
				q += 2;
				continue;
			}
			return q + 1;
		}
		if (*q == '\\' && !raw)
		{
			q++;				/* the escaped byte is passed, whatever it is */
			if (q >= end)
				return NULL;
		}
		q = pass_byte(lx, q);
		if (q == NULL)
			return NULL;
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
		q = skip_until(q, end, S_BLOCK);
		if (q >= end)
			return NULL;
		if (*q == '*' && q + 1 < end && q[1] == '/')
		{
			q += 2;
			if (--depth == 0)
				return q;
			continue;
		}
		if (*q == '/' && q + 1 < end && q[1] == '*')
		{
			q += 2;
			depth++;
			continue;
		}
		q = pass_byte(lx, q);
		if (q == NULL)
			return NULL;
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
		q = skip_until(q, end, S_TMPL);
		if (q >= end)
			return NULL;
		if (*q == close && q + 1 < end && q[1] == '}')
			return q + 2;
		if (quotes && (*q == '\'' || *q == '"'))
			q = scan_quoted(lx, q + 1, *q, false);
		else
			q = pass_byte(lx, q);
		if (q == NULL)
			return NULL;
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
		q = skip_until(q, end, S_LINE);
		if (q >= end || *q == '\n')
			return q;
		q = pass_byte(lx, q);
		if (q == NULL)
			return NULL;
	}
}

/*
 * Scans a variable whose opening '${' ends just before q, to its '}' on
 * the same line. Returns the closing '}' or where the line or the input
 * ends, or NULL after an encoding error.
 */
static const unsigned char *
scan_variable(lexer *lx, const unsigned char *q)
{
	const unsigned char *end = lx->end;

	while (q < end && *q != '}' && *q != '\n')
	{
		q = pass_byte(lx, q);
		if (q == NULL)
			return NULL;
	}
	return q;
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
		q = skip_while(q, end, C_WORD);
		if (q >= end || *q < 0x80)
			break;
		q = pass_byte(lx, q);
		if (q == NULL)
			return NULL;
		high = true;
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

	q = skip_while(q, end, C_DIGIT);
	if (q < end && *q == '.')
		q = skip_while(q + 1, end, C_DIGIT);
	if (q < end && (*q | 0x20) == 'e')
	{
		if (q + 1 < end && (char_class[q[1]] & C_DIGIT))
			q = skip_while(q + 2, end, C_DIGIT);
		else if (q + 2 < end && (q[1] == '+' || q[1] == '-') &&
				 (char_class[q[2]] & C_DIGIT))
			q = skip_while(q + 3, end, C_DIGIT);
	}
	q = skip_while(q, end, C_WORD);
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
			p = skip_while(p + 1, end, C_SPACE);
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
					q = scan_variable(lx, p + 2);
					if (q == NULL)
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
		il_token   *nt = il_realloc(out->tok, (out->n ? out->n : 1) * sizeof(il_token));

		if (nt != NULL)
		{
			out->tok = nt;
			out->cap = out->n ? out->n : 1;
		}
	}
	return lx->status;
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
