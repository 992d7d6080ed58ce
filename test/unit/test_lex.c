/*
 * Unit tests of il_lex.c: tokens, positions, keywords, errors, limits.
 */
#include <stdlib.h>
#include <string.h>

#include "il_lex.h"
#include "unit.h"

static il_tokens toks = IL_TOKENS_INIT;
static il_error err;
static const char *lexed = "";	/* the text toks came from */

/* Lexes s (NUL-terminated) without comments; returns the status. */
static il_parse_status
lex(const char *s)
{
	il_tokens_free(&toks);
	lexed = s;
	return il_lex(s, strlen(s), 0, &toks, &err);
}

/* Lexes s[0..len) with the given flags. */
static il_parse_status
lexn(const char *s, size_t len, unsigned flags)
{
	il_tokens_free(&toks);
	lexed = s;
	return il_lex(s, len, flags, &toks, &err);
}

/* The line of token i of the text lexed last. */
static int
tline(size_t i)
{
	int			line;
	int			col;

	il_lex_position(lexed, toks.tok[i].off, &line, &col);
	return line;
}

/* The column of token i of the text lexed last. */
static int
tcol(size_t i)
{
	int			line;
	int			col;

	il_lex_position(lexed, toks.tok[i].off, &line, &col);
	return col;
}

/* The text of token i of s. */
static const char *
text(const char *s, size_t i)
{
	static char buf[256];
	size_t		len;

	if (i >= toks.n)
		return "(none)";
	len = il_tok_len(&toks.tok[i]) < sizeof(buf) - 1 ? il_tok_len(&toks.tok[i]) : sizeof(buf) - 1;
	memcpy(buf, s + toks.tok[i].off, len);
	buf[len] = '\0';
	return buf;
}

/* Does s lex to exactly n tokens of the given types? */
static int
types_are(const char *s, size_t n, const il_tok_type *types)
{
	size_t		i;

	if (lex(s) != IL_PARSE_OK || toks.n != n)
		return 0;
	for (i = 0; i < n; i++)
		if (toks.tok[i].type != types[i])
			return 0;
	return 1;
}

/* Is s one token of the given type covering all of it? */
static int
one_token(const char *s, il_tok_type type)
{
	return lex(s) == IL_PARSE_OK && toks.n == 1 && toks.tok[0].type == type &&
		il_tok_len(&toks.tok[0]) == strlen(s);
}

/*
 * The SQLSTATE every code of a status has in the catalogue (what
 * docs/model-format.md promises for parse_model).
 */
static const char *
status_sqlstate(il_parse_status st)
{
	switch (st)
	{
		case IL_PARSE_ERR_HEADER:
			return "22023";
		case IL_PARSE_ERR_SYNTAX:
			return "42601";
		case IL_PARSE_ERR_ENCODING:
			return "22021";
		case IL_PARSE_ERR_LIMIT:
			return "22023";
		case IL_PARSE_ERR_NOMEM:
			return "53200";
		default:
			return "00000";
	}
}

/* Does s fail with status st and error code at line:col (and its SQLSTATE)? */
static int
fails(const char *s, size_t len, il_parse_status st, const char *code, int line, int col)
{
	il_parse_status got = lexn(s, len, 0);

	if (got != st || err.code == NULL || strcmp(err.code, code) != 0 ||
		err.line != line || err.column != col || strcmp(il_error_sqlstate(&err), status_sqlstate(st)) != 0)
	{
		printf("#   got status %d code %s at %d:%d (%s)\n", (int) got,
			   err.code ? err.code : "(null)", err.line, err.column, err.message);
		return 0;
	}
	return err.message[0] != '\0' && !(err.message[0] >= 'A' && err.message[0] <= 'Z');
}

int
main(void)
{
	int			i;
	int			bad;
	char	   *big;
	size_t		n;

	/* Keywords. */
	bad = 0;
	for (i = 1; i < IL_KW__COUNT; i++)
	{
		const char *name = il_keyword_name((il_keyword) i);

		if (il_keyword_lookup(name, strlen(name)) != (il_keyword) i)
			bad++;
	}
	CHECK(bad == 0, "every keyword is found by its name");
	CHECK(il_keyword_lookup("SeLeCt", 6) == IL_KW_SELECT, "keywords are found in any case");
	CHECK(il_keyword_lookup("orders", 6) == IL_KW_NONE &&
		  il_keyword_lookup("selectx", 7) == IL_KW_NONE &&
		  il_keyword_lookup("sel", 3) == IL_KW_NONE &&
		  il_keyword_lookup("select_", 7) == IL_KW_NONE,
		  "ordinary words are not keywords");
	CHECK(il_keyword_flags(IL_KW_FROM) & IL_KWF_RESERVED, "FROM is reserved");
	CHECK(!(il_keyword_flags(IL_KW_DATE) & IL_KWF_RESERVED), "DATE is not reserved (it can name a table)");

	/* Basic tokens and positions. */
	{
		static const il_tok_type t[] = {IL_TOK_WORD, IL_TOK_WORD, IL_TOK_WORD, IL_TOK_WORD};

		CHECK(types_are("SELECT a FROM t", 4, t), "select a from t is four words");
		CHECK(toks.tok[0].kw == IL_KW_SELECT && toks.tok[1].kw == IL_KW_NONE &&
			  toks.tok[2].kw == IL_KW_FROM, "keywords are marked on words");
	}
	lex("select\n  a,\n\tb");
	CHECK(toks.n == 4 && tline(1) == 2 && tcol(1) == 3 &&
		  tline(3) == 3 && tcol(3) == 2, "tokens have line and column");
	lex("'\xc3\xa9\xc3\xa9' x");
	CHECK(toks.n == 2 && tcol(1) == 6, "columns count characters, not bytes");
	lex("a\r\nb\r\n  c");
	CHECK(toks.n == 3 && tline(2) == 3 && tcol(2) == 3, "CRLF line endings");
	lex("\xef\xbb\xbfSELECT 1");
	CHECK(toks.n == 2 && toks.tok[0].kw == IL_KW_SELECT && tcol(0) == 1,
		  "a byte order mark at the start is skipped");
	CHECK(lex("") == IL_PARSE_OK && toks.n == 0, "empty text has no tokens");
	CHECK(lex("  -- only\n /* comments */ ") == IL_PARSE_OK && toks.n == 0,
		  "comments are not tokens by default");
	CHECK(lexn("a -- c\n/* d */ b", 16, IL_LEX_KEEP_COMMENTS) == IL_PARSE_OK && toks.n == 4 &&
		  toks.tok[1].type == IL_TOK_COMMENT && toks.tok[2].type == IL_TOK_COMMENT,
		  "comments are tokens with IL_LEX_KEEP_COMMENTS");

	/* Identifiers. */
	CHECK(one_token("`a``b`", IL_TOK_QIDENT), "a backtick identifier with a doubled backtick");
	CHECK(one_token("`select`", IL_TOK_QIDENT), "a backticked keyword is an identifier");
	CHECK(one_token("caf\xc3\xa9", IL_TOK_WORD) && (toks.tok[0].flags & IL_TOKF_HIGH),
		  "non-ASCII letters belong to words");
	CHECK(one_token("_x1", IL_TOK_WORD), "an identifier may start with an underscore");
	lex("db.2024_sales");
	CHECK(toks.n == 3 && toks.tok[2].type == IL_TOK_WORD && il_tok_len(&toks.tok[2]) == 10,
		  "after a dot, a part may start with a digit");

	/* Strings. */
	CHECK(one_token("'it\\'s'", IL_TOK_STRING), "a backslash escapes a quote");
	CHECK(one_token("\"double \\\" quoted\"", IL_TOK_STRING), "double-quoted strings");
	CHECK(one_token("'a\\\\'", IL_TOK_STRING), "an escaped backslash before the closing quote");
	CHECK(one_token("r'C:\\'", IL_TOK_STRING) && (toks.tok[0].flags & IL_TOKF_RAW),
		  "a raw string has no escapes");
	CHECK(one_token("R\"x\\\"", IL_TOK_STRING), "raw strings in double quotes and upper case R");
	CHECK(one_token("X'0aFF'", IL_TOK_STRING) && (toks.tok[0].flags & IL_TOKF_HEX), "hex strings");
	lex("'line1\nline2' x");
	CHECK(toks.n == 2 && tline(1) == 2 && tcol(1) == 8, "strings may span lines");
	CHECK(one_token("'a\x01" "b'", IL_TOK_STRING), "control characters are allowed in strings");
	lex("'a''b'");
	CHECK(toks.n == 2, "two adjacent strings are two tokens");

	/* Numbers. */
	CHECK(one_token("1L", IL_TOK_NUMBER), "1L");
	CHECK(one_token("2.5D", IL_TOK_NUMBER), "2.5D");
	CHECK(one_token("1e3", IL_TOK_NUMBER), "1e3");
	CHECK(one_token("1.5E-3", IL_TOK_NUMBER), "1.5E-3");
	CHECK(one_token("10BD", IL_TOK_NUMBER), "10BD");
	CHECK(one_token("42", IL_TOK_NUMBER), "an integer");
	lex("x = .5");
	CHECK(toks.n == 3 && toks.tok[2].type == IL_TOK_NUMBER && il_tok_len(&toks.tok[2]) == 2, ".5 is a number");
	lex("t.5");
	CHECK(toks.n == 3 && toks.tok[1].type == IL_TOK_DOT, "a dot after a name is a dot");

	/* Comments. */
	lex("a /* x /* nested */ still comment */ b");
	CHECK(toks.n == 2 && strcmp(text("a /* x /* nested */ still comment */ b", 1), "b") == 0,
		  "block comments nest");
	lex("a -- comment ; drop\nb");
	CHECK(toks.n == 2 && tline(1) == 2, "a line comment ends at the newline");
	lex("a--b");
	CHECK(toks.n == 1, "-- starts a comment even without a space");
	lex("a - -b");
	CHECK(toks.n == 4, "a minus sign and a negation are not a comment");

	/* Operators. */
	{
		static const il_tok_type t[] = {IL_TOK_WORD, IL_TOK_COLON, IL_TOK_WORD, IL_TOK_LBRACKET,
			IL_TOK_NUMBER, IL_TOK_RBRACKET, IL_TOK_DOT, IL_TOK_WORD, IL_TOK_DCOLON, IL_TOK_WORD};

		CHECK(types_are("raw:items[0].price::double", 10, t), "JSON paths and :: casts");
	}
	lex("a <=> b");
	CHECK(toks.n == 3 && toks.tok[1].type == IL_TOK_OP && il_tok_len(&toks.tok[1]) == 3, "<=> is one operator");
	lex("x -> x + 1");
	CHECK(toks.n == 5 && il_tok_len(&toks.tok[1]) == 2, "-> is one operator");
	lex("f(a => 1)");
	CHECK(toks.n == 6 && il_tok_len(&toks.tok[3]) == 2, "=> is one operator");
	lex("a >>> 2 || b |> c != d <> e <= f >= g == h");
	CHECK(toks.n == 17 && il_tok_len(&toks.tok[1]) == 3 && il_tok_len(&toks.tok[3]) == 2 && il_tok_len(&toks.tok[5]) == 2 &&
		  il_tok_len(&toks.tok[7]) == 2 && il_tok_len(&toks.tok[9]) == 2, "multi-character operators");
	lex("t@v3");
	CHECK(toks.n == 3 && toks.tok[1].type == IL_TOK_OP, "t@v3 is a name, @ and a version");
	lex("$ # ? ~");
	CHECK(toks.n == 4, "other punctuation is an operator token");
	lex("(a[b])");
	CHECK(toks.n == 6 && il_tok_match(&toks.tok[0]) == 5 && il_tok_match(&toks.tok[5]) == 0 &&
		  il_tok_match(&toks.tok[2]) == 4 && il_tok_match(&toks.tok[4]) == 2, "parentheses and brackets know their match");

	/* Templates and variables. */
	CHECK(one_token("{{ ref('orders') }}", IL_TOK_TEMPLATE), "{{ }} is one token");
	CHECK(one_token("{% if x > 1 %}", IL_TOK_TEMPLATE), "{% %} is one token");
	CHECK(one_token("{{ f('}}') }}", IL_TOK_TEMPLATE), "quotes inside a template are respected");
	CHECK(one_token("{{ a\n b }}", IL_TOK_TEMPLATE), "a template may span lines");
	CHECK(lex("{# a jinja comment #} x") == IL_PARSE_OK && toks.n == 1, "{# #} is a comment");
	CHECK(one_token("${env}", IL_TOK_VARIABLE), "${var} is one token");
	lex("{ x }");
	CHECK(toks.n == 3, "a single brace is punctuation");

	/* Errors. */
	CHECK(fails("select 'abc", 11, IL_PARSE_ERR_SYNTAX, "unterminated_string", 1, 8),
		  "an unterminated string is reported where it starts");
	CHECK(fails("a\nb\n  \"x\ny", 10, IL_PARSE_ERR_SYNTAX, "unterminated_string", 3, 3),
		  "an unterminated string on line 3");
	CHECK(fails("select 'a\\", 10, IL_PARSE_ERR_SYNTAX, "unterminated_string", 1, 8),
		  "a string ending in a backslash");
	CHECK(fails("select `abc", 11, IL_PARSE_ERR_SYNTAX, "unterminated_identifier", 1, 8),
		  "an unterminated backtick identifier");
	CHECK(fails("a /* b /* c */", 14, IL_PARSE_ERR_SYNTAX, "unterminated_comment", 1, 3),
		  "an unterminated nested comment");
	CHECK(fails("x {{ ref('a')", 13, IL_PARSE_ERR_SYNTAX, "unterminated_template", 1, 3),
		  "an unterminated {{ template");
	CHECK(fails("{% if x", 7, IL_PARSE_ERR_SYNTAX, "unterminated_template", 1, 1),
		  "an unterminated {% template");
	CHECK(fails("{{ 'a }}", 8, IL_PARSE_ERR_SYNTAX, "unterminated_template", 1, 1),
		  "an unterminated quote inside a template");
	CHECK(fails("{# c", 4, IL_PARSE_ERR_SYNTAX, "unterminated_template", 1, 1),
		  "an unterminated template comment");
	CHECK(fails("${var\n}", 7, IL_PARSE_ERR_SYNTAX, "unterminated_variable", 1, 1),
		  "a variable must close on its line");
	CHECK(fails("select a)", 9, IL_PARSE_ERR_SYNTAX, "unbalanced_parenthesis", 1, 9),
		  "a ')' without '('");
	CHECK(fails("f(a]", 4, IL_PARSE_ERR_SYNTAX, "mismatched_bracket", 1, 4),
		  "a ']' closing a '('");
	CHECK(fails("(a, (b)", 7, IL_PARSE_ERR_SYNTAX, "unclosed_parenthesis", 1, 1),
		  "an unclosed '(' is reported where it opens");
	CHECK(fails("a \x01 b", 5, IL_PARSE_ERR_SYNTAX, "unexpected_character", 1, 3),
		  "a control character outside strings");

	/* Encoding. */
	CHECK(fails("ab\0cd", 5, IL_PARSE_ERR_ENCODING, "nul_byte", 1, 3), "a NUL byte");
	CHECK(fails("'a\0'", 4, IL_PARSE_ERR_ENCODING, "nul_byte", 1, 3), "a NUL byte inside a string");
	CHECK(fails("-- x\0\n", 6, IL_PARSE_ERR_ENCODING, "nul_byte", 1, 5), "a NUL byte inside a comment");
	CHECK(fails("x\n  \xff", 5, IL_PARSE_ERR_ENCODING, "invalid_utf8", 2, 3), "the byte 0xff");
	CHECK(fails("'\xc3\xa9\xc0\xaf'", 6, IL_PARSE_ERR_ENCODING, "invalid_utf8", 1, 3),
		  "an overlong sequence inside a string, column in characters");
	CHECK(fails("/* \xed\xa0\x80 */", 9, IL_PARSE_ERR_ENCODING, "invalid_utf8", 1, 4),
		  "an encoded surrogate inside a comment");
	CHECK(fails("`a\xe2\x82", 4, IL_PARSE_ERR_ENCODING, "invalid_utf8", 1, 3),
		  "a sequence cut by the end of the input");
	CHECK(fails("caf\xc3", 4, IL_PARSE_ERR_ENCODING, "invalid_utf8", 1, 4),
		  "a truncated sequence inside a word");
	CHECK(fails("{{ \x80 }}", 7, IL_PARSE_ERR_ENCODING, "invalid_utf8", 1, 4),
		  "a lone continuation byte inside a template");

	/* Limits. */
	n = 100000;
	big = malloc(n + 1);
	memset(big, '(', n);
	big[n] = '\0';
	CHECK(fails(big, n, IL_PARSE_ERR_LIMIT, "too_deep", 1, IL_LEX_MAX_DEPTH + 1),
		  "100,000 open parentheses: a clear error, no crash");
	memset(big, '[', n);
	CHECK(lexn(big, n, 0) == IL_PARSE_ERR_LIMIT, "100,000 open brackets too");
	for (i = 0; i < IL_LEX_MAX_DEPTH; i++)
	{
		big[i] = '(';
		big[2 * IL_LEX_MAX_DEPTH - 1 - i] = ')';
	}
	CHECK(lexn(big, 2 * IL_LEX_MAX_DEPTH, 0) == IL_PARSE_OK &&
		  toks.n == 2 * IL_LEX_MAX_DEPTH, "nesting up to the limit is fine");
	memset(big, '/', n);
	for (i = 1; i < (int) n; i += 2)
		big[i] = '*';
	CHECK(lexn(big, n, 0) == IL_PARSE_ERR_SYNTAX && strcmp(err.code, "unterminated_comment") == 0,
		  "50,000 nested comment openers: unterminated, no crash");
	free(big);

	/* Any bytes: never a crash, tokens always inside the input. */
	{
		unsigned	seed = 12345;
		char		buf[200];
		int			round;
		int			wrong = 0;
		static const char alphabet[] = "ab1 .,;:()[]{}%#$'\"`\\-/*\n\r\t\0\x80\xc3\xa9\xff@<>=|!";

		for (round = 0; round < 20000; round++)
		{
			size_t		len = (size_t) (round % 199) + 1;
			size_t		k;
			il_parse_status st;

			for (k = 0; k < len; k++)
			{
				seed = seed * 1103515245u + 12345u;
				buf[k] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
			}
			st = lexn(buf, len, round & 1 ? IL_LEX_KEEP_COMMENTS : 0);
			if ((int) st < 0 || st > IL_PARSE_ERR_NOMEM)
				wrong++;
			for (k = 0; k < toks.n; k++)
				if ((size_t) toks.tok[k].off + il_tok_len(&toks.tok[k]) > len || tline(k) == 0 ||
					tcol(k) == 0 || (k > 0 && toks.tok[k].off < toks.tok[k - 1].off))
					wrong++;
			if (st != IL_PARSE_OK && (err.line <= 0 || err.message[0] == '\0' ||
									  strcmp(il_error_sqlstate(&err), status_sqlstate(st)) != 0))
				wrong++;
			if (toks.n > il_lex_max_tokens(buf, len))
				wrong++;
		}
		CHECK(wrong == 0, "20,000 random byte strings: statuses, positions, errors and the token bound are sane");
	}

	CHECK(strcmp(il_tok_type_name(IL_TOK_QIDENT), "quoted identifier") == 0 &&
		  strcmp(il_keyword_name(IL_KW_QUALIFY), "qualify") == 0 && il_keyword_name(IL_KW_NONE)[0] == '\0',
		  "names of token types and keywords");
	lex("t.From, x::DATE, raw:select");
	CHECK(toks.n == 11 && toks.tok[2].kw == IL_KW_NONE && toks.tok[6].kw == IL_KW_NONE &&
		  toks.tok[10].kw == IL_KW_NONE, "a word after '.', '::' or ':' is a name, not a keyword");
	lex("averyveryverylongidentifier_with_more_than_eight_bytes x");
	CHECK(toks.n == 2 && il_tok_len(&toks.tok[0]) == 54 && toks.tok[1].off == 55,
		  "a long word ends at the right byte");

	/* Memory: 12 bytes a token, the array sized once for large inputs. */
	CHECK(sizeof(il_token) == 12, "a token takes 12 bytes");
	lex("1\xc3\xa9 x");
	CHECK(toks.n == 3 && toks.tok[1].type == IL_TOK_WORD && il_lex_max_tokens("1\xc3\xa9 x", 5) >= 3,
		  "a number then a non-ASCII letter: two tokens, and the bound counts both");
	CHECK(il_lex_max_tokens("select a.b, c  from t", 21) == 8 && il_lex_max_tokens("", 0) == 0,
		  "the bound counts the bytes that can start a token");
	{
		size_t		n = (size_t) 1 << 16;
		char	   *big = malloc(n);

		memset(big, ',', n);
		CHECK(lexn(big, n, 0) == IL_PARSE_OK && toks.n == n && toks.cap <= n + 1,
			  "64 kB of commas: one token a byte, the array sized by the bound, never grown");
		{
			il_tokens	reused = IL_TOKENS_INIT;

			il_lex("a b c", 5, 0, &reused, &err);
			reused.n = 0;
			CHECK(il_lex(big, n, 0, &reused, &err) == IL_PARSE_OK && reused.n == n && reused.cap <= n + 1,
				  "an array reset and given again is sized by the bound too");
			il_tokens_free(&reused);
		}
		memset(big, ' ', n);
		memcpy(big, "select 1 -- ", 12);
		CHECK(lexn(big, n, 0) == IL_PARSE_OK && toks.n == 2 && toks.cap <= 2 + 256,
			  "what the bound set aside and no token used is given back");
		big[n - 3] = '\n';
		big[n - 1] = '(';
		CHECK(lexn(big, n, 0) == IL_PARSE_ERR_SYNTAX && strcmp(err.code, "unclosed_parenthesis") == 0 &&
			  err.line == 2 && err.column == 2, "an unclosed parenthesis is reported where it is");
		free(big);
	}
	lex("\xef\xbb\xbf\xc3\xa9 (");
	CHECK(err.line == 1 && err.column == 3, "an unclosed parenthesis' column counts characters, not the BOM");

	il_tokens_free(&toks);
	return unit_done();
}
