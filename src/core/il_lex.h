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
	IL_PARSE_ERR_LIMIT,			/* nesting too deep or input too large: 54001 */
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

/* Keywords, in alphabetical order (see kw_table in il_lex.c). */
typedef enum il_keyword
{
	IL_KW_NONE = 0,
	IL_KW_ADD,
	IL_KW_AFTER,
	IL_KW_ALL,
	IL_KW_ALTER,
	IL_KW_ALWAYS,
	IL_KW_ANALYZE,
	IL_KW_AND,
	IL_KW_ANTI,
	IL_KW_ANY,
	IL_KW_APPLY,
	IL_KW_ARCHIVE,
	IL_KW_ARRAY,
	IL_KW_AS,
	IL_KW_ASC,
	IL_KW_AT,
	IL_KW_AUTHORIZATION,
	IL_KW_BEGIN,
	IL_KW_BETWEEN,
	IL_KW_BIGINT,
	IL_KW_BINARY,
	IL_KW_BOOLEAN,
	IL_KW_BOTH,
	IL_KW_BROWSE,
	IL_KW_BUCKET,
	IL_KW_BUCKETS,
	IL_KW_BY,
	IL_KW_BYTE,
	IL_KW_CACHE,
	IL_KW_CALL,
	IL_KW_CASCADE,
	IL_KW_CASE,
	IL_KW_CAST,
	IL_KW_CATALOG,
	IL_KW_CATALOGS,
	IL_KW_CHANGE,
	IL_KW_CHAR,
	IL_KW_CHARACTER,
	IL_KW_CHECK,
	IL_KW_CLEAR,
	IL_KW_CLONE,
	IL_KW_CLUSTER,
	IL_KW_CLUSTERED,
	IL_KW_CODEGEN,
	IL_KW_COLLATE,
	IL_KW_COLLECTION,
	IL_KW_COLUMN,
	IL_KW_COLUMNS,
	IL_KW_COMMENT,
	IL_KW_COMMIT,
	IL_KW_COMPACT,
	IL_KW_COMPACTIONS,
	IL_KW_COMPUTE,
	IL_KW_CONCATENATE,
	IL_KW_CONNECTION,
	IL_KW_CONSTRAINT,
	IL_KW_CONTAINS,
	IL_KW_COPY,
	IL_KW_COST,
	IL_KW_CREATE,
	IL_KW_CREDENTIAL,
	IL_KW_CROSS,
	IL_KW_CUBE,
	IL_KW_CURRENT,
	IL_KW_CURRENT_DATE,
	IL_KW_CURRENT_TIME,
	IL_KW_CURRENT_TIMESTAMP,
	IL_KW_CURRENT_USER,
	IL_KW_DATA,
	IL_KW_DATABASE,
	IL_KW_DATABASES,
	IL_KW_DATE,
	IL_KW_DATE_ADD,
	IL_KW_DATE_DIFF,
	IL_KW_DATEADD,
	IL_KW_DATEDIFF,
	IL_KW_DAY,
	IL_KW_DAYOFYEAR,
	IL_KW_DAYS,
	IL_KW_DBPROPERTIES,
	IL_KW_DEC,
	IL_KW_DECIMAL,
	IL_KW_DECLARE,
	IL_KW_DEEP,
	IL_KW_DEFAULT,
	IL_KW_DEFINED,
	IL_KW_DEFINER,
	IL_KW_DELETE,
	IL_KW_DELIMITED,
	IL_KW_DESC,
	IL_KW_DESCRIBE,
	IL_KW_DETERMINISTIC,
	IL_KW_DFS,
	IL_KW_DIRECTORIES,
	IL_KW_DIRECTORY,
	IL_KW_DISTINCT,
	IL_KW_DISTRIBUTE,
	IL_KW_DIV,
	IL_KW_DOUBLE,
	IL_KW_DROP,
	IL_KW_ELSE,
	IL_KW_END,
	IL_KW_ESCAPE,
	IL_KW_ESCAPED,
	IL_KW_EVOLUTION,
	IL_KW_EXCEPT,
	IL_KW_EXCHANGE,
	IL_KW_EXCLUDE,
	IL_KW_EXEC,
	IL_KW_EXECUTE,
	IL_KW_EXISTS,
	IL_KW_EXPLAIN,
	IL_KW_EXPORT,
	IL_KW_EXTENDED,
	IL_KW_EXTERNAL,
	IL_KW_EXTRACT,
	IL_KW_FALSE,
	IL_KW_FETCH,
	IL_KW_FIELDS,
	IL_KW_FILEFORMAT,
	IL_KW_FILTER,
	IL_KW_FIRST,
	IL_KW_FLOAT,
	IL_KW_FOLLOWING,
	IL_KW_FOR,
	IL_KW_FOREIGN,
	IL_KW_FORMAT,
	IL_KW_FORMATTED,
	IL_KW_FROM,
	IL_KW_FULL,
	IL_KW_FUNCTION,
	IL_KW_FUNCTIONS,
	IL_KW_GENERATED,
	IL_KW_GLOBAL,
	IL_KW_GRANT,
	IL_KW_GROUP,
	IL_KW_GROUPING,
	IL_KW_HAVING,
	IL_KW_HOUR,
	IL_KW_HOURS,
	IL_KW_IDENTIFIER,
	IL_KW_IDENTITY,
	IL_KW_IF,
	IL_KW_IGNORE,
	IL_KW_ILIKE,
	IL_KW_IMMEDIATE,
	IL_KW_IMPORT,
	IL_KW_IN,
	IL_KW_INCLUDE,
	IL_KW_INDEX,
	IL_KW_INDEXES,
	IL_KW_INNER,
	IL_KW_INPATH,
	IL_KW_INPUTFORMAT,
	IL_KW_INSERT,
	IL_KW_INT,
	IL_KW_INTEGER,
	IL_KW_INTERSECT,
	IL_KW_INTERVAL,
	IL_KW_INTO,
	IL_KW_INVOKER,
	IL_KW_IS,
	IL_KW_ITEMS,
	IL_KW_JOIN,
	IL_KW_KEYS,
	IL_KW_LANGUAGE,
	IL_KW_LAST,
	IL_KW_LATERAL,
	IL_KW_LAZY,
	IL_KW_LEADING,
	IL_KW_LEFT,
	IL_KW_LIKE,
	IL_KW_LIMIT,
	IL_KW_LINES,
	IL_KW_LIST,
	IL_KW_LIVE,
	IL_KW_LOAD,
	IL_KW_LOCAL,
	IL_KW_LOCATION,
	IL_KW_LOCK,
	IL_KW_LOCKS,
	IL_KW_LOGICAL,
	IL_KW_LONG,
	IL_KW_LOOP,
	IL_KW_MACRO,
	IL_KW_MANAGE,
	IL_KW_MAP,
	IL_KW_MATCHED,
	IL_KW_MATERIALIZED,
	IL_KW_MERGE,
	IL_KW_MICROSECOND,
	IL_KW_MICROSECONDS,
	IL_KW_MILLISECOND,
	IL_KW_MILLISECONDS,
	IL_KW_MINUS,
	IL_KW_MINUTE,
	IL_KW_MINUTES,
	IL_KW_MODIFY,
	IL_KW_MONTH,
	IL_KW_MONTHS,
	IL_KW_MSCK,
	IL_KW_NAMESPACE,
	IL_KW_NAMESPACES,
	IL_KW_NANOSECOND,
	IL_KW_NANOSECONDS,
	IL_KW_NATURAL,
	IL_KW_NO,
	IL_KW_NOT,
	IL_KW_NULL,
	IL_KW_NULLS,
	IL_KW_NUMERIC,
	IL_KW_OF,
	IL_KW_OFFSET,
	IL_KW_ON,
	IL_KW_ONLY,
	IL_KW_OPTIMIZE,
	IL_KW_OPTION,
	IL_KW_OPTIONS,
	IL_KW_OR,
	IL_KW_ORDER,
	IL_KW_OUT,
	IL_KW_OUTER,
	IL_KW_OUTPUTFORMAT,
	IL_KW_OVER,
	IL_KW_OVERLAPS,
	IL_KW_OVERLAY,
	IL_KW_OVERWRITE,
	IL_KW_OWNERSHIP,
	IL_KW_PARTITION,
	IL_KW_PARTITIONED,
	IL_KW_PARTITIONS,
	IL_KW_PERCENT,
	IL_KW_PERCENTILE_CONT,
	IL_KW_PERCENTILE_DISC,
	IL_KW_PIVOT,
	IL_KW_PLACING,
	IL_KW_POSITION,
	IL_KW_PRECEDING,
	IL_KW_PRIMARY,
	IL_KW_PRINCIPALS,
	IL_KW_PRIVILEGES,
	IL_KW_PROPERTIES,
	IL_KW_PROVIDER,
	IL_KW_PURGE,
	IL_KW_QUALIFY,
	IL_KW_QUARTER,
	IL_KW_QUERY,
	IL_KW_RANGE,
	IL_KW_READ,
	IL_KW_REAL,
	IL_KW_RECIPIENT,
	IL_KW_RECORDREADER,
	IL_KW_RECORDWRITER,
	IL_KW_RECOVER,
	IL_KW_RECURSIVE,
	IL_KW_REDUCE,
	IL_KW_REFERENCES,
	IL_KW_REFRESH,
	IL_KW_REGEXP,
	IL_KW_RENAME,
	IL_KW_REPAIR,
	IL_KW_REPEATABLE,
	IL_KW_REPLACE,
	IL_KW_RESET,
	IL_KW_RESPECT,
	IL_KW_RESTRICT,
	IL_KW_RETURN,
	IL_KW_RETURNS,
	IL_KW_REVOKE,
	IL_KW_RIGHT,
	IL_KW_RLIKE,
	IL_KW_ROLE,
	IL_KW_ROLES,
	IL_KW_ROLLBACK,
	IL_KW_ROLLUP,
	IL_KW_ROW,
	IL_KW_ROWS,
	IL_KW_SCHEMA,
	IL_KW_SCHEMAS,
	IL_KW_SECOND,
	IL_KW_SECONDS,
	IL_KW_SECURITY,
	IL_KW_SELECT,
	IL_KW_SEMI,
	IL_KW_SEPARATED,
	IL_KW_SERDE,
	IL_KW_SERDEPROPERTIES,
	IL_KW_SESSION_USER,
	IL_KW_SET,
	IL_KW_SETS,
	IL_KW_SHALLOW,
	IL_KW_SHARE,
	IL_KW_SHORT,
	IL_KW_SHOW,
	IL_KW_SKEWED,
	IL_KW_SMALLINT,
	IL_KW_SOME,
	IL_KW_SORT,
	IL_KW_SORTED,
	IL_KW_SOURCE,
	IL_KW_SQL,
	IL_KW_START,
	IL_KW_STATISTICS,
	IL_KW_STORED,
	IL_KW_STRATIFY,
	IL_KW_STREAM,
	IL_KW_STREAMING,
	IL_KW_STRING,
	IL_KW_STRUCT,
	IL_KW_SUBSTR,
	IL_KW_SUBSTRING,
	IL_KW_SYNC,
	IL_KW_SYSTEM_TIME,
	IL_KW_SYSTEM_VERSION,
	IL_KW_TABLE,
	IL_KW_TABLES,
	IL_KW_TABLESAMPLE,
	IL_KW_TARGET,
	IL_KW_TBLPROPERTIES,
	IL_KW_TEMP,
	IL_KW_TEMPORARY,
	IL_KW_TERMINATED,
	IL_KW_THEN,
	IL_KW_TIME,
	IL_KW_TIMESTAMP,
	IL_KW_TIMESTAMP_LTZ,
	IL_KW_TIMESTAMP_NTZ,
	IL_KW_TIMESTAMPADD,
	IL_KW_TIMESTAMPDIFF,
	IL_KW_TINYINT,
	IL_KW_TO,
	IL_KW_TOUCH,
	IL_KW_TRAILING,
	IL_KW_TRANSACTION,
	IL_KW_TRANSACTIONS,
	IL_KW_TRANSFORM,
	IL_KW_TRIM,
	IL_KW_TRUE,
	IL_KW_TRUNCATE,
	IL_KW_TRY_CAST,
	IL_KW_TYPE,
	IL_KW_UNARCHIVE,
	IL_KW_UNBOUNDED,
	IL_KW_UNCACHE,
	IL_KW_UNION,
	IL_KW_UNIQUE,
	IL_KW_UNKNOWN,
	IL_KW_UNLOCK,
	IL_KW_UNPIVOT,
	IL_KW_UNSET,
	IL_KW_UPDATE,
	IL_KW_USAGE,
	IL_KW_USE,
	IL_KW_USER,
	IL_KW_USING,
	IL_KW_VACUUM,
	IL_KW_VALUES,
	IL_KW_VAR,
	IL_KW_VARCHAR,
	IL_KW_VARIABLE,
	IL_KW_VERSION,
	IL_KW_VIEW,
	IL_KW_VIEWS,
	IL_KW_VOID,
	IL_KW_VOLUME,
	IL_KW_WEEK,
	IL_KW_WEEKS,
	IL_KW_WHEN,
	IL_KW_WHERE,
	IL_KW_WINDOW,
	IL_KW_WITH,
	IL_KW_WITHIN,
	IL_KW_WRITE,
	IL_KW_YEAR,
	IL_KW_YEARS,
	IL_KW_ZONE,
	IL_KW_ZORDER,
	IL_KW__COUNT
} il_keyword;

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

/*
 * A list of strings (names, tags): items[0..n). The memory belongs to the
 * structure that holds the list (one block per il_header, per il_refs).
 */
typedef struct il_strlist
{
	char	  **items;
	size_t		n;
} il_strlist;

#define IL_STRLIST_INIT {NULL, 0}

/*
 * An index of strings kept elsewhere (entries numbered by their owner),
 * to find one by its content: open addressing over entry numbers, 4 bytes
 * a slot, at most half full. The first IL_STRINDEX_FEW entries are only
 * listed and compared one by one, so a small index takes no heap memory.
 * The owner says where an entry's string is with a get callback; a tag
 * (a list number) is part of the key.
 */
#define IL_STRINDEX_FEW 16

typedef const char *(*il_strindex_get) (const void *arg, uint32_t entry, size_t *len, int *tag);

typedef struct il_strindex
{
	uint32_t   *slots;			/* entry + 1; 0 is an empty slot */
	size_t		cap;			/* a power of two, or 0 while few */
	size_t		n;
	uint32_t	few[IL_STRINDEX_FEW];
} il_strindex;

extern void il_strindex_init(il_strindex *x);
/* The entry whose string is s[0..len) with tag, or UINT32_MAX. */
extern uint32_t il_strindex_find(const il_strindex *x, const char *s, size_t len, int tag,
								 il_strindex_get get, const void *arg);
/* Adds an entry (not there yet); false when out of memory. */
extern bool il_strindex_add(il_strindex *x, uint32_t entry, il_strindex_get get, const void *arg);
extern void il_strindex_free(il_strindex *x);

/*
 * Builds up to IL_LB_MAX_LISTS string lists at once and then moves them all
 * into one allocation. Small contents stay in the builder itself (no heap
 * use until il_lb_finish); the builder must not be copied after il_lb_init.
 * Lists named by il_lb_unique drop a string added twice at once, so they
 * take memory for their different strings only.
 */
#define IL_LB_MAX_LISTS 8
#define IL_LB_INLINE_TEXT 1024
#define IL_LB_INLINE_ITEMS 48

typedef struct il_lb_item
{
	uint32_t	off;			/* in text */
	uint32_t	len;
	uint32_t	list;
} il_lb_item;

typedef struct il_lists_builder
{
	char	   *text;
	size_t		len;
	size_t		cap;
	il_lb_item *items;
	size_t		n;
	size_t		icap;
	unsigned	unique;			/* lists without duplicates (il_lb_unique) */
	il_strindex index;			/* their items */
	bool		oom;
	char		text_inline[IL_LB_INLINE_TEXT];
	il_lb_item	items_inline[IL_LB_INLINE_ITEMS];
} il_lists_builder;

extern void il_lb_init(il_lists_builder *b);
/*
 * The lists (bit k for list k) whose duplicates il_lb_add drops; give the
 * same lists to il_lb_finish in sort_unique. Call before the first add.
 */
extern void il_lb_unique(il_lists_builder *b, unsigned lists);
/*
 * Adds s[0..len) (no NUL inside) to list number list, with ASCII letters
 * lower-cased when lower (unless the list is unique and holds it already);
 * false when out of memory, or when the text would pass 4 GiB.
 */
extern bool il_lb_add(il_lists_builder *b, int list, const char *s, size_t len, bool lower);
/*
 * Moves the items into one block, returned in *mem (NULL when there are no
 * items; free it with free()), and points out[0..nlists) into it: list k in
 * the order added, or, when bit k of sort_unique is set, sorted by byte
 * value without duplicates. Frees the builder's heap memory. False when out
 * of memory (then *mem is NULL and the lists are empty).
 */
extern bool il_lb_finish(il_lists_builder *b, int nlists, unsigned sort_unique,
						 il_strlist *out, void **mem);
/* Frees the builder's heap memory (after il_lb_finish, or instead of it). */
extern void il_lb_free(il_lists_builder *b);

/*
 * Advances *line and *column (1-based; a column counts UTF-8 characters)
 * over s[from..to): the position of byte to, given that of byte from.
 */
extern void il_text_advance(const char *s, size_t from, size_t to, int *line, int *column);

#endif							/* IL_LEX_H */
