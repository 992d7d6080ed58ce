/*-------------------------------------------------------------------------
 *
 * il_lex.h
 *	  The lexer for Databricks (Spark) SQL model files.
 *
 * il_lex turns any byte string into tokens, or reports the first problem
 * with its line and column. It never reads past the input, never recurses,
 * runs in time linear in the input, and bounds the nesting of parentheses
 * and brackets (IL_LEX_MAX_DEPTH).
 *
 * Tokens:
 *	- words: unquoted identifiers and keywords (letters, digits, '_' and any
 *	  non-ASCII character); kw is the keyword, or IL_KW_NONE, also for a
 *	  word right after '.', ':' or '::' (a name there: t.from, x::date). A
 *	  run that starts with a digit right after a '.' is a word too
 *	  (db.2024_sales).
 *	- quoted identifiers: `...` with `` standing for one backtick.
 *	- strings: '...' and "..." with backslash escapes, raw strings r'...' and
 *	  R"..." (no escapes), hex strings X'...'.
 *	- numbers: 1, 1.5, .5, 1e3, 1.5E-3, and suffixes (1L, 2.5D, 10BD, 1Y...).
 *	- punctuation and operators: ( ) [ ] , ; . : :: and every other operator
 *	  as IL_TOK_OP (-> => <=> <= >= <> != == || |> << >> >>> and single
 *	  characters).
 *	- template blocks {{ ... }} and {% ... %} as one token each, quotes inside
 *	  them respected; {# ... #} is a template comment.
 *	- variables ${name}.
 *	- comments: -- to the end of the line and nested block comments; they are
 *	  tokens only with IL_LEX_KEEP_COMMENTS.
 *
 * Lines and columns are 1-based; a column counts characters (UTF-8 code
 * points), not bytes. A UTF-8 byte order mark at the very start is skipped.
 *
 * Errors (the first one in the text wins):
 *	- IL_PARSE_ERR_ENCODING: invalid UTF-8 or a NUL byte anywhere (codes
 *	  "invalid_utf8", "nul_byte");
 *	- IL_PARSE_ERR_SYNTAX: an unterminated string, quoted identifier,
 *	  comment, template block or variable (reported where it starts), an
 *	  unbalanced or mismatched parenthesis or bracket, a control character
 *	  outside strings and comments;
 *	- IL_PARSE_ERR_LIMIT: nesting deeper than IL_LEX_MAX_DEPTH ("too_deep"),
 *	  input larger than IL_LEX_MAX_INPUT ("too_large");
 *	- IL_PARSE_ERR_NOMEM: out of memory.
 * The message is lower-case, says how to fix the problem, and does not repeat
 * the position (it is in err->line and err->column).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_LEX_H
#define IL_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "il_buf.h"

/* Deepest nesting of parentheses and brackets. */
#define IL_LEX_MAX_DEPTH 1000
/* Largest input, in bytes (1 GiB, PostgreSQL's largest text value). */
#define IL_LEX_MAX_INPUT ((size_t) 1 << 30)

/*
 * The outcome of lexing and of everything built on it (header, references,
 * guard, fingerprint, model). The error's code names the SQLSTATE
 * (il_error_sqlstate; the status's class is given beside each value).
 */
typedef enum il_parse_status
{
	IL_PARSE_OK = 0,
	IL_PARSE_ERR_HEADER,		/* a header directive is missing or wrong: 22023 */
	IL_PARSE_ERR_SYNTAX,		/* the text does not lex: 42601 */
	IL_PARSE_ERR_ENCODING,		/* invalid UTF-8 or a NUL byte: 22021 */
	IL_PARSE_ERR_LIMIT,			/* nesting too deep or input too large: 22023 / 22001 */
	IL_PARSE_ERR_NOMEM			/* out of memory: 53200 */
} il_parse_status;

typedef enum il_tok_type
{
	IL_TOK_WORD = 1,			/* unquoted identifier or keyword */
	IL_TOK_QIDENT,				/* `quoted identifier` */
	IL_TOK_STRING,				/* '...', "...", r'...', X'...' */
	IL_TOK_NUMBER,
	IL_TOK_LPAREN,
	IL_TOK_RPAREN,
	IL_TOK_LBRACKET,
	IL_TOK_RBRACKET,
	IL_TOK_COMMA,
	IL_TOK_SEMI,
	IL_TOK_DOT,
	IL_TOK_COLON,				/* ':' (JSON paths, parameters) */
	IL_TOK_DCOLON,				/* '::' (casts) */
	IL_TOK_OP,					/* every other operator or punctuation */
	IL_TOK_TEMPLATE,			/* {{ ... }} or {% ... %} */
	IL_TOK_VARIABLE,			/* ${...} */
	IL_TOK_COMMENT				/* -- ..., block comment, {# ... #} */
} il_tok_type;

/*
 * Keywords: the enum il_keyword (IL_KW_NONE, IL_KW_ADD, ..., IL_KW__COUNT),
 * generated from the list il_keywords.txt by make.
 */
#include "il_keywords.h"
#include "il_lists.h"

/* The keyword is reserved here: it cannot start a table name or an alias. */
#define IL_KWF_RESERVED 0x01
/* The keyword can start a command the SQL guard forbids (DROP, ...). */
#define IL_KWF_GUARD 0x02

/*
 * A token: 12 bytes, since an input can be a token a byte (",,,,"). Read
 * its length with il_tok_len and, for ( ) [ ], its partner with
 * il_tok_match: those four are always one byte long, so lenm holds the
 * index of the matching token instead. Its line and column are not kept:
 * il_lex_position computes them from off.
 */
typedef struct il_token
{
	uint32_t	off;			/* byte offset of the first byte */
	uint32_t	lenm;			/* length in bytes, quotes and delimiters
								 * included; for ( ) [ ] the index of the
								 * matching token */
	uint16_t	kw;				/* il_keyword of a word (not after . : ::), else IL_KW_NONE */
	uint8_t		type;			/* il_tok_type */
	uint8_t		flags;			/* IL_TOKF_* */
} il_token;

/* Is the token ( ) [ or ]? */
static inline bool
il_tok_is_bracket(const il_token *t)
{
	return (unsigned) t->type - IL_TOK_LPAREN <= IL_TOK_RBRACKET - IL_TOK_LPAREN;
}

/* The token's length in bytes. */
static inline uint32_t
il_tok_len(const il_token *t)
{
	return il_tok_is_bracket(t) ? 1 : t->lenm;
}

/*
 * The index of the token matching a ( ) [ or ] (after a successful il_lex;
 * 0 for a bracket left open by a failed one).
 */
static inline uint32_t
il_tok_match(const il_token *t)
{
	return il_tok_is_bracket(t) ? t->lenm : 0;
}

/* A word or number with a non-ASCII byte (never a keyword). */
#define IL_TOKF_HIGH 0x01
/* A word that is a reserved keyword (IL_KWF_RESERVED). */
#define IL_TOKF_RESERVED 0x10
/* A word that is a keyword with IL_KWF_GUARD. */
#define IL_TOKF_GUARD 0x20
/* A string with an r/R prefix (raw) or an x/X prefix (hex). */
#define IL_TOKF_RAW 0x02
#define IL_TOKF_HEX 0x04
/* A comment token that is a template comment {# ... #}. */
#define IL_TOKF_TEMPLATE_COMMENT 0x08

typedef struct il_tokens
{
	il_token   *tok;
	size_t		n;
	size_t		cap;
} il_tokens;

#define IL_TOKENS_INIT {NULL, 0, 0}

/* Flags of il_lex. */
#define IL_LEX_KEEP_COMMENTS 0x01

/*
 * Lexes src[0..len) into out (which must be empty, e.g. IL_TOKENS_INIT, or
 * reset by the caller). On an error, out holds the tokens before the error
 * and err describes the problem. Free out with il_tokens_free.
 *
 * Memory: the token array only, 12 bytes a token. For an input of
 * IL_LEX_BOUND_MIN bytes or more it is sized once, to il_lex_max_tokens,
 * when it first needs room (also an array reset and given again), and cut
 * to what it holds at the end, so it never exceeds 12 bytes per input byte;
 * smaller inputs start from a guess and grow.
 */
extern il_parse_status il_lex(const char *src, size_t len, unsigned flags,
							  il_tokens *out, il_error *err);
extern void il_tokens_free(il_tokens *toks);

/* Inputs from this size on get a token array sized by il_lex_max_tokens. */
#define IL_LEX_BOUND_MIN 4096

/*
 * At least as many tokens as il_lex can emit from src[0..len) (with or
 * without comments): the bytes that can start one, that is every byte but
 * blanks, newlines, an ASCII letter, digit or '_' right after one of those
 * or a non-ASCII byte, and a non-ASCII byte right after another (a token
 * never starts inside a word; a number followed by a non-ASCII letter is
 * the one place where a word starts right after a word character). One
 * pass, no allocation.
 */
extern size_t il_lex_max_tokens(const char *src, size_t len);

/*
 * The line and column (1-based; a column counts characters) of byte off of
 * src, as il_lex reports positions: a byte order mark at the very start is
 * not counted. Time linear in off.
 */
extern void il_lex_position(const char *src, size_t off, int *line, int *column);


/* The keyword spelled by s[0..len) in any case, or IL_KW_NONE. */
extern il_keyword il_keyword_lookup(const char *s, size_t len);
/* The keyword's lower-case spelling ("" for IL_KW_NONE). */
extern const char *il_keyword_name(il_keyword kw);
/* The keyword's IL_KWF_* flags. */
extern unsigned il_keyword_flags(il_keyword kw);
/* The name of a token type, e.g. "word" (for messages and tests). */
extern const char *il_tok_type_name(il_tok_type type);

/*
 * The keyword of token i (IL_KW_NONE past the end). The lexer gives a word
 * a keyword only when it acts as one: never right after '.', ':' or '::',
 * where it is a name (t.from, raw:select, x::date).
 */
static inline il_keyword
il_tok_keyword(const il_tokens *toks, size_t i)
{
	return i < toks->n ? (il_keyword) toks->tok[i].kw : IL_KW_NONE;
}

#endif							/* IL_LEX_H */
