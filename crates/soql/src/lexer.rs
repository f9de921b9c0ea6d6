//! The SOQL lexer: turns query text into [`Token`]s, each with the [`Span`] where it starts.
//!
//! The lexer never fails outright: a lexical error (an unterminated string, a malformed
//! datetime) becomes a [`TokenKind::Error`] token followed by the end, so the parser reports
//! whichever problem comes first in the text. Keywords are not recognised here: they are
//! plain identifiers, and the parser decides by context (SOQL keywords are case-insensitive
//! and several of them double as object or field names, such as `Group` and `Order`).

use crate::ast::{CompareOp, Span};
use crate::parser::ParseError;

/// What a token is. Its text as written is in [`Token::text`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// A name or keyword: a letter or `_`, then letters, digits and `_`.
    Ident,
    /// A single-quoted string; the payload is the raw text between the quotes, escapes
    /// undecoded (the parser decodes it, differently inside `LIKE`).
    String(String),
    /// A number with optional sign, fraction and exponent: `10`, `-3.5`, `+2`, `.5`, `1e3`.
    Number,
    /// `2024-01-31`.
    Date,
    /// `2024-01-31T10:00:00Z`, `2024-01-31T10:00:00.000+08:00`.
    DateTime,
    /// A currency amount with a fraction, `CNY1.5` (whole amounts such as `USD5000` lex as
    /// identifiers, since they may just as well be field names).
    Currency {
        code: String,
        amount: String,
    },
    Comma,
    Dot,
    LParen,
    RParen,
    Colon,
    Op(CompareOp),
    /// Any other single character (`;`, `*`, `@`, a letter outside ASCII…).
    Other,
    /// A lexical error; always followed by [`TokenKind::Eof`].
    Error(Box<ParseError>),
    Eof,
}

/// One token: its kind, its text as written and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub text: String,
    pub span: Span,
}

/// Moves `pos` past `ch`: bytes for the offset, characters for the column, `\n` for rows.
pub(crate) fn advance(pos: &mut Span, ch: char) {
    pos.offset = pos.offset.saturating_add(ch.len_utf8());
    if ch == '\n' {
        pos.line = pos.line.saturating_add(1);
        pos.column = 1;
    } else {
        pos.column = pos.column.saturating_add(1);
    }
}

/// The position of the first character of a text.
pub(crate) fn start_position() -> Span {
    Span {
        offset: 0,
        line: 1,
        column: 1,
    }
}

/// Splits an identifier-shaped currency amount (`USD5000`) into code and amount: three
/// ASCII upper-case letters followed by one or more digits.
pub(crate) fn split_currency(text: &str) -> Option<(String, String)> {
    let code: String = text.chars().take(3).collect();
    let amount: String = text.chars().skip(3).collect();
    let code_ok = code.chars().count() == 3 && code.chars().all(|c| c.is_ascii_uppercase());
    let amount_ok = !amount.is_empty() && amount.chars().all(|c| c.is_ascii_digit());
    (code_ok && amount_ok).then_some((code, amount))
}

/// Splits the whole text into tokens. The last token is always [`TokenKind::Eof`].
pub(crate) fn tokenize(text: &str) -> Vec<Token> {
    let mut lexer = Lexer {
        chars: text.chars().collect(),
        index: 0,
        pos: start_position(),
    };
    let mut tokens = Vec::new();
    loop {
        lexer.skip_whitespace();
        let start = lexer.pos;
        match lexer.next_token() {
            Ok(Some(token)) => tokens.push(token),
            Ok(None) => break,
            Err(message) => {
                let error = ParseError {
                    message,
                    span: start,
                };
                tokens.push(Token {
                    kind: TokenKind::Error(Box::new(error)),
                    text: String::new(),
                    span: start,
                });
                lexer.skip_to_end();
                break;
            }
        }
    }
    tokens.push(Token {
        kind: TokenKind::Eof,
        text: String::new(),
        span: lexer.pos,
    });
    tokens
}

struct Lexer {
    chars: Vec<char>,
    index: usize,
    pos: Span,
}

impl Lexer {
    fn peek(&self) -> Option<char> {
        self.peek_at(0)
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.index.saturating_add(n)).copied()
    }

    fn peek_is(&self, n: usize, test: impl Fn(char) -> bool) -> bool {
        self.peek_at(n).is_some_and(test)
    }

    /// Takes the next character, appending it to `text`.
    fn bump_into(&mut self, text: &mut String) {
        if let Some(ch) = self.peek() {
            text.push(ch);
            advance(&mut self.pos, ch);
            self.index += 1;
        }
    }

    /// Takes characters into `text` while `test` holds.
    fn bump_while(&mut self, text: &mut String, test: impl Fn(char) -> bool) {
        while self.peek_is(0, &test) {
            self.bump_into(text);
        }
    }

    fn skip_whitespace(&mut self) {
        let mut ignored = String::new();
        self.bump_while(&mut ignored, char::is_whitespace);
    }

    fn skip_to_end(&mut self) {
        let mut ignored = String::new();
        self.bump_while(&mut ignored, |_| true);
    }

    /// The next token, `None` at the end, or a lexical error message.
    fn next_token(&mut self) -> Result<Option<Token>, String> {
        let span = self.pos;
        let Some(ch) = self.peek() else {
            return Ok(None);
        };
        let mut text = String::new();
        let kind = match ch {
            '\'' => self.string(&mut text)?,
            '0'..='9' => self.number_or_date(&mut text)?,
            '.' if self.peek_is(1, |c| c.is_ascii_digit()) => self.number(&mut text),
            '+' | '-' if self.starts_signed_number() => self.number(&mut text),
            c if c.is_ascii_alphabetic() || c == '_' => self.word(&mut text),
            _ => self.punctuation(&mut text),
        };
        Ok(Some(Token { kind, text, span }))
    }

    fn starts_signed_number(&self) -> bool {
        let digit = |c: char| c.is_ascii_digit();
        self.peek_is(1, digit) || (self.peek_at(1) == Some('.') && self.peek_is(2, digit))
    }

    fn punctuation(&mut self, text: &mut String) -> TokenKind {
        let first = self.peek();
        let second = self.peek_at(1);
        let (kind, len) = match (first, second) {
            (Some('('), _) => (TokenKind::LParen, 1),
            (Some(')'), _) => (TokenKind::RParen, 1),
            (Some(','), _) => (TokenKind::Comma, 1),
            (Some('.'), _) => (TokenKind::Dot, 1),
            (Some(':'), _) => (TokenKind::Colon, 1),
            (Some('='), _) => (TokenKind::Op(CompareOp::Eq), 1),
            (Some('!'), Some('=')) => (TokenKind::Op(CompareOp::Ne), 2),
            (Some('<'), Some('>')) => (TokenKind::Op(CompareOp::Ne), 2),
            (Some('<'), Some('=')) => (TokenKind::Op(CompareOp::Le), 2),
            (Some('<'), _) => (TokenKind::Op(CompareOp::Lt), 1),
            (Some('>'), Some('=')) => (TokenKind::Op(CompareOp::Ge), 2),
            (Some('>'), _) => (TokenKind::Op(CompareOp::Gt), 1),
            _ => (TokenKind::Other, 1),
        };
        for _ in 0..len {
            self.bump_into(text);
        }
        kind
    }

    /// A quoted string. A backslash protects the next character (so `\'` does not end it);
    /// escapes are checked and decoded later by the parser.
    fn string(&mut self, text: &mut String) -> Result<TokenKind, String> {
        self.bump_into(text);
        let mut raw = String::new();
        loop {
            match self.peek() {
                None => {
                    return Err("unterminated string literal: missing closing quote".to_string());
                }
                Some('\'') => {
                    text.push_str(&raw);
                    self.bump_into(text);
                    return Ok(TokenKind::String(raw));
                }
                Some('\\') => {
                    self.bump_into(&mut raw);
                    self.bump_into(&mut raw);
                }
                Some(_) => self.bump_into(&mut raw),
            }
        }
    }

    /// A number: optional sign, digits, optional fraction, optional exponent.
    fn number(&mut self, text: &mut String) -> TokenKind {
        let digit = |c: char| c.is_ascii_digit();
        if self.peek_is(0, |c| c == '+' || c == '-') {
            self.bump_into(text);
        }
        self.bump_while(text, digit);
        if self.peek() == Some('.') && self.peek_is(1, digit) {
            self.bump_into(text);
            self.bump_while(text, digit);
        }
        let exponent_sign = self.peek_is(1, |c| c == '+' || c == '-');
        let exponent_digits_at = if exponent_sign { 2 } else { 1 };
        if self.peek_is(0, |c| c == 'e' || c == 'E') && self.peek_is(exponent_digits_at, digit) {
            self.bump_into(text);
            if exponent_sign {
                self.bump_into(text);
            }
            self.bump_while(text, digit);
        }
        TokenKind::Number
    }

    /// A date (`YYYY-MM-DD`), a datetime (a date, `T` and a time with zone), or a number.
    fn number_or_date(&mut self, text: &mut String) -> Result<TokenKind, String> {
        if !self.matches_shape(0, "dddd-dd-dd") {
            return Ok(self.number(text));
        }
        for _ in 0..10 {
            self.bump_into(text);
        }
        if self.peek() != Some('T') {
            return Ok(TokenKind::Date);
        }
        let len = self.datetime_tail_len().ok_or_else(|| {
            "invalid datetime literal: expecting YYYY-MM-DDThh:mm:ss(.sss)?(Z|+hh:mm|-hh:mm)"
                .to_string()
        })?;
        for _ in 0..len {
            self.bump_into(text);
        }
        Ok(TokenKind::DateTime)
    }

    /// Whether the characters from `at` on have `shape` (`d` is a digit, anything else
    /// itself).
    fn matches_shape(&self, at: usize, shape: &str) -> bool {
        shape.chars().enumerate().all(|(i, want)| {
            self.peek_is(at.saturating_add(i), |c| {
                if want == 'd' {
                    c.is_ascii_digit()
                } else {
                    c == want
                }
            })
        })
    }

    /// The length of `Thh:mm:ss(.s+)?(Z|±hh:mm|±hhmm)` at the cursor, if it is one.
    fn datetime_tail_len(&self) -> Option<usize> {
        if !self.matches_shape(0, "Tdd:dd:dd") {
            return None;
        }
        let mut len = 9;
        if self.peek_at(len) == Some('.') && self.peek_is(len + 1, |c| c.is_ascii_digit()) {
            len += 1;
            while self.peek_is(len, |c| c.is_ascii_digit()) {
                len += 1;
            }
        }
        match self.peek_at(len) {
            Some('Z') => Some(len + 1),
            Some('+' | '-') if self.matches_shape(len + 1, "dd:dd") => Some(len + 6),
            Some('+' | '-') if self.matches_shape(len + 1, "dddd") => Some(len + 5),
            _ => None,
        }
    }

    /// An identifier, or a currency amount with a fraction (`CNY1.5`).
    fn word(&mut self, text: &mut String) -> TokenKind {
        self.bump_while(text, |c| c.is_ascii_alphanumeric() || c == '_');
        let Some((code, mut amount)) = split_currency(text) else {
            return TokenKind::Ident;
        };
        if self.peek() == Some('.') && self.peek_is(1, |c| c.is_ascii_digit()) {
            let mut fraction = String::new();
            self.bump_into(&mut fraction);
            self.bump_while(&mut fraction, |c| c.is_ascii_digit());
            text.push_str(&fraction);
            amount.push_str(&fraction);
            return TokenKind::Currency { code, amount };
        }
        TokenKind::Ident
    }
}

/// How a string literal's escapes are decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StringMode {
    /// Everywhere but `LIKE`: `\n \r \t \b \f \" \' \\ \uXXXX`.
    Plain,
    /// A `LIKE` pattern: the same escapes, but `\_`, `\%` and `\\` (also written `\u005C`) stay
    /// escaped, so the result is a pattern in which a backslash always escapes the next
    /// character and `%` / `_` alone are wildcards.
    Like,
}

/// Decodes the raw text of a string literal whose opening quote is at `quote`. Errors point
/// at the offending backslash.
pub(crate) fn decode_string(
    raw: &str,
    quote: Span,
    mode: StringMode,
) -> Result<String, ParseError> {
    let mut pos = quote;
    advance(&mut pos, '\'');
    let mut out = String::new();
    let mut chars = raw.chars();
    while let Some(ch) = chars.next() {
        let at = pos;
        advance(&mut pos, ch);
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        let escape = chars.next();
        if let Some(escape) = escape {
            advance(&mut pos, escape);
        }
        match escape {
            Some('u') => {
                let decoded = decode_unicode(&mut chars, &mut pos, at)?;
                push_decoded(&mut out, decoded, mode);
            }
            Some(escape) => decode_simple_escape(&mut out, escape, mode, at)?,
            None => return Err(bad_escape("\\".to_string(), at)),
        }
    }
    Ok(out)
}

fn push_decoded(out: &mut String, ch: char, mode: StringMode) {
    if ch == '\\' && mode == StringMode::Like {
        out.push('\\');
    }
    out.push(ch);
}

fn decode_simple_escape(
    out: &mut String,
    escape: char,
    mode: StringMode,
    at: Span,
) -> Result<(), ParseError> {
    let decoded = match escape {
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'b' => '\u{8}',
        'f' => '\u{c}',
        '"' | '\'' | '\\' => escape,
        '_' | '%' if mode == StringMode::Like => {
            out.push('\\');
            escape
        }
        other => return Err(bad_escape(format!("\\{other}"), at)),
    };
    push_decoded(out, decoded, mode);
    Ok(())
}

/// Decodes the hex digits of `\uXXXX` (the `\u` already read), joining a UTF-16 surrogate
/// pair written as two escapes.
fn decode_unicode(
    chars: &mut std::str::Chars<'_>,
    pos: &mut Span,
    at: Span,
) -> Result<char, ParseError> {
    let high = read_hex4(chars, pos).ok_or_else(|| bad_unicode(at))?;
    if !(0xD800..0xDC00).contains(&high) {
        return char::from_u32(high).ok_or_else(|| bad_unicode(at));
    }
    let mut lookahead = chars.clone();
    let mut after = *pos;
    let low = match (lookahead.next(), lookahead.next()) {
        (Some('\\'), Some('u')) => {
            advance(&mut after, '\\');
            advance(&mut after, 'u');
            read_hex4(&mut lookahead, &mut after).filter(|low| (0xDC00..0xE000).contains(low))
        }
        _ => None,
    };
    let low = low.ok_or_else(|| bad_unicode(at))?;
    *chars = lookahead;
    *pos = after;
    char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
        .ok_or_else(|| bad_unicode(at))
}

fn read_hex4(chars: &mut std::str::Chars<'_>, pos: &mut Span) -> Option<u32> {
    let mut value = 0;
    for _ in 0..4 {
        let ch = chars.next()?;
        advance(pos, ch);
        value = value * 16 + ch.to_digit(16)?;
    }
    Some(value)
}

fn bad_escape(sequence: String, at: Span) -> ParseError {
    ParseError {
        message: format!("invalid escape sequence '{sequence}' in string literal"),
        span: at,
    }
}

fn bad_unicode(at: Span) -> ParseError {
    let message =
        "invalid unicode escape in string literal: expecting \\uXXXX with four hex digits"
            .to_string();
    ParseError { message, span: at }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        tokenize(text).into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn lexes_operators_and_punctuation() {
        use CompareOp::*;
        let got = kinds("= != <> < <= > >= ( ) , . : ;");
        let want = vec![
            TokenKind::Op(Eq),
            TokenKind::Op(Ne),
            TokenKind::Op(Ne),
            TokenKind::Op(Lt),
            TokenKind::Op(Le),
            TokenKind::Op(Gt),
            TokenKind::Op(Ge),
            TokenKind::LParen,
            TokenKind::RParen,
            TokenKind::Comma,
            TokenKind::Dot,
            TokenKind::Colon,
            TokenKind::Other,
            TokenKind::Eof,
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn lexes_numbers_dates_and_currency() {
        let tokens =
            tokenize("-3.5 +2 .5 1e3 2024-01-31 2024-01-31T10:00:00.000+0800 CNY1.5 USD5000");
        let texts: Vec<&str> = tokens.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "-3.5",
                "+2",
                ".5",
                "1e3",
                "2024-01-31",
                "2024-01-31T10:00:00.000+0800",
                "CNY1.5",
                "USD5000",
                ""
            ]
        );
        assert_eq!(tokens[4].kind, TokenKind::Date);
        assert_eq!(tokens[5].kind, TokenKind::DateTime);
        assert_eq!(
            tokens[6].kind,
            TokenKind::Currency {
                code: "CNY".to_string(),
                amount: "1.5".to_string()
            }
        );
        assert_eq!(tokens[7].kind, TokenKind::Ident);
    }

    #[test]
    fn tracks_rows_and_character_columns() {
        let tokens = tokenize("'华为'\n  x");
        assert_eq!((tokens[0].span.line, tokens[0].span.column), (1, 1));
        assert_eq!(
            (
                tokens[1].span.line,
                tokens[1].span.column,
                tokens[1].span.offset
            ),
            (2, 3, 11)
        );
    }

    #[test]
    fn string_keeps_raw_escapes() {
        let tokens = tokenize(r"'O\'Brien\\'");
        assert_eq!(tokens[0].kind, TokenKind::String(r"O\'Brien\\".to_string()));
        assert_eq!(tokens[0].text, r"'O\'Brien\\'");
    }

    #[test]
    fn unterminated_string_is_an_error_token() {
        let tokens = tokenize("x 'abc");
        assert!(matches!(tokens[1].kind, TokenKind::Error(_)));
        assert_eq!(tokens[1].span.column, 3);
        assert_eq!(tokens[2].kind, TokenKind::Eof);
    }
}
