//! SOSL, the search language: `FIND {term} [IN ALL|NAME|EMAIL|PHONE|SIDEBAR FIELDS]
//! [RETURNING Object [(fields [WHERE …] [ORDER BY …] [LIMIT n] [OFFSET n])], …] [LIMIT n]`.
//!
//! The term between the braces has its own small grammar (words, `"phrases"`, a trailing `*`,
//! `AND`, `OR`, `AND NOT`, parentheses, `\` escapes), parsed here. The clauses after it reuse
//! the SOQL lexer and parser: a RETURNING item is a SOQL query without the SELECT keyword.

use crate::ast::{Query, Span};
use crate::lexer::{advance, start_position, tokenize};
use crate::parser::{ParseError, Parser};

/// A parsed SOSL search.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    pub term: SearchTerm,
    pub scope: SearchScope,
    /// The objects to search, each as a query (its select list empty when none was given).
    /// Empty: every searchable object, ids only.
    pub returning: Vec<Query>,
    /// Most records in the whole result.
    pub limit: Option<u64>,
}

/// `IN … FIELDS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchScope {
    All,
    Name,
    Email,
    Phone,
    /// The fields the UI's search box looks in: here the same as ALL.
    Sidebar,
}

/// The search term.
#[derive(Debug, Clone, PartialEq)]
pub enum SearchTerm {
    /// A word; `wildcard` when it ended in `*` (the `*` is not in `text`).
    Word {
        text: String,
        wildcard: bool,
    },
    /// A quoted phrase: its words must follow each other.
    Phrase(String),
    And(Vec<SearchTerm>),
    Or(Vec<SearchTerm>),
    /// Matches of the first that do not match the second.
    AndNot(Box<SearchTerm>, Box<SearchTerm>),
}

/// Deepest nesting of parentheses in a term.
const MAX_TERM_DEPTH: usize = 32;

/// The message Salesforce gives when the braces are missing.
const NO_TERM: &str = "No search term found. The search term must be enclosed in braces.";

/// Parses one SOSL search.
pub fn parse_search(text: &str) -> Result<Search, ParseError> {
    let (open, close) = braces(text)?;
    let before = &text[..open];
    if !before.trim().eq_ignore_ascii_case("FIND") {
        return Err(ParseError::new(NO_TERM, position(text, 0)));
    }
    let term = TermParser::new(text, open + 1, close).parse()?;
    // The clauses after the term, lexed with the term blanked out so positions stay true.
    let masked: String = text
        .char_indices()
        .map(|(i, c)| {
            if (open..=close).contains(&i) && c != '\n' {
                ' '
            } else {
                c
            }
        })
        .collect();
    let mut parser = Parser::new(tokenize(&masked));
    let (scope, returning, limit) = parser.search_clauses()?;
    Ok(Search {
        term,
        scope,
        returning,
        limit,
    })
}

/// The byte offsets of the term's `{` and its closing `}` (escaped braces do not close it).
fn braces(text: &str) -> Result<(usize, usize), ParseError> {
    let Some(open) = text.find('{') else {
        return Err(ParseError::new(NO_TERM, position(text, 0)));
    };
    let mut escaped = false;
    for (i, c) in text[open + 1..].char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '}' => return Ok((open, open + 1 + i)),
            _ => {}
        }
    }
    Err(ParseError::new(
        "the search term has no closing brace '}'",
        position(text, open),
    ))
}

/// The row and column of byte `offset`.
fn position(text: &str, offset: usize) -> Span {
    let mut pos = start_position();
    for c in text[..offset.min(text.len())].chars() {
        advance(&mut pos, c);
    }
    pos
}

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Open,
    Close,
    Word { text: String, wildcard: bool },
    Phrase(String),
}

struct TermParser<'t> {
    text: &'t str,
    pieces: Vec<(Piece, usize)>,
    index: usize,
    end: usize,
    depth: usize,
}

impl<'t> TermParser<'t> {
    fn new(text: &'t str, start: usize, end: usize) -> TermParser<'t> {
        TermParser {
            text,
            pieces: Vec::new(),
            index: start,
            end,
            depth: 0,
        }
    }

    fn error(&self, message: impl Into<String>, offset: usize) -> ParseError {
        ParseError::new(message, position(self.text, offset))
    }

    /// Splits the term into pieces.
    fn lex(&mut self) -> Result<(), ParseError> {
        let term = &self.text[self.index..self.end];
        let base = self.index;
        let mut chars = term.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            let at = base + i;
            match c {
                c if c.is_whitespace() => {}
                '(' => self.pieces.push((Piece::Open, at)),
                ')' => self.pieces.push((Piece::Close, at)),
                '"' => {
                    let mut phrase = String::new();
                    let mut closed = false;
                    while let Some((_, c)) = chars.next() {
                        match c {
                            '\\' => {
                                if let Some((_, next)) = chars.next() {
                                    phrase.push(next);
                                }
                            }
                            '"' => {
                                closed = true;
                                break;
                            }
                            _ => phrase.push(c),
                        }
                    }
                    if !closed {
                        return Err(self.error("the phrase has no closing quote '\"'", at));
                    }
                    self.pieces.push((Piece::Phrase(phrase), at));
                }
                _ => {
                    let mut word = String::new();
                    let mut wildcard = false;
                    let mut current = Some((i, c));
                    while let Some((j, c)) = current {
                        if wildcard {
                            return Err(self.error("a wildcard '*' may only end a word", base + j));
                        }
                        match c {
                            '\\' => {
                                if let Some((_, next)) = chars.next() {
                                    word.push(next);
                                }
                            }
                            '*' => wildcard = true,
                            '?' => {
                                return Err(self.error(
                                    "the '?' wildcard is not supported; use '*' at the end of a word",
                                    base + j,
                                ));
                            }
                            _ => word.push(c),
                        }
                        current = match chars.peek() {
                            Some(&(_, n)) if n.is_whitespace() || matches!(n, '(' | ')' | '"') => {
                                None
                            }
                            _ => chars.next(),
                        };
                    }
                    self.pieces.push((
                        Piece::Word {
                            text: word,
                            wildcard,
                        },
                        at,
                    ));
                }
            }
        }
        self.index = 0;
        Ok(())
    }

    fn parse(mut self) -> Result<SearchTerm, ParseError> {
        let open = self.index.saturating_sub(1);
        self.lex()?;
        if self.pieces.is_empty() {
            return Err(self.error(NO_TERM, open));
        }
        let letters: usize = self
            .pieces
            .iter()
            .map(|(p, _)| match p {
                Piece::Word { text, .. } | Piece::Phrase(text) => {
                    text.chars().filter(|c| c.is_alphanumeric()).count()
                }
                _ => 0,
            })
            .sum();
        if letters < 2 {
            return Err(self.error("search term must be longer than one character", open));
        }
        let term = self.or()?;
        if let Some((_, at)) = self.pieces.get(self.index) {
            return Err(self.error("unexpected ')' in the search term", *at));
        }
        Ok(term)
    }

    fn peek(&self) -> Option<&Piece> {
        self.pieces.get(self.index).map(|(p, _)| p)
    }

    fn at_operator(&self, op: &str) -> bool {
        matches!(self.peek(), Some(Piece::Word { text, wildcard: false }) if text.eq_ignore_ascii_case(op))
    }

    fn offset(&self) -> usize {
        self.pieces.get(self.index).map_or(self.end, |(_, at)| *at)
    }

    fn or(&mut self) -> Result<SearchTerm, ParseError> {
        let mut items = vec![self.and()?];
        while self.at_operator("OR") {
            self.index += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            SearchTerm::Or(items)
        })
    }

    fn and(&mut self) -> Result<SearchTerm, ParseError> {
        let mut term = self.unary()?;
        let mut items: Vec<SearchTerm> = Vec::new();
        loop {
            match self.peek() {
                None | Some(Piece::Close) => break,
                _ if self.at_operator("OR") => break,
                _ => {}
            }
            let mut negated = false;
            if self.at_operator("AND") {
                self.index += 1;
                if self.at_operator("NOT") {
                    self.index += 1;
                    negated = true;
                }
            } else if self.at_operator("NOT") {
                self.index += 1;
                negated = true;
            }
            let next = self.unary()?;
            if negated {
                let left = if items.is_empty() {
                    term
                } else {
                    items.push(term);
                    SearchTerm::And(std::mem::take(&mut items))
                };
                term = SearchTerm::AndNot(Box::new(left), Box::new(next));
            } else {
                items.push(term);
                term = next;
            }
        }
        Ok(if items.is_empty() {
            term
        } else {
            items.push(term);
            SearchTerm::And(items)
        })
    }

    fn unary(&mut self) -> Result<SearchTerm, ParseError> {
        let at = self.offset();
        let Some(piece) = self.peek().cloned() else {
            return Err(self.error("the search term ends where a word was expected", at));
        };
        self.index += 1;
        match piece {
            Piece::Open => {
                self.depth += 1;
                if self.depth > MAX_TERM_DEPTH {
                    return Err(self.error("the search term is nested too deeply", at));
                }
                let inner = self.or()?;
                if self.peek() != Some(&Piece::Close) {
                    return Err(self.error("missing ')' in the search term", self.offset()));
                }
                self.index += 1;
                self.depth -= 1;
                Ok(inner)
            }
            Piece::Close => Err(self.error("unexpected ')' in the search term", at)),
            Piece::Word { text, wildcard }
                if !wildcard
                    && ["AND", "OR", "NOT"]
                        .iter()
                        .any(|op| op.eq_ignore_ascii_case(&text)) =>
            {
                Err(self.error(
                    format!("'{text}' needs a word on each side in the search term"),
                    at,
                ))
            }
            Piece::Word { text, wildcard } => Ok(SearchTerm::Word { text, wildcard }),
            Piece::Phrase(text) => Ok(SearchTerm::Phrase(text)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str) -> SearchTerm {
        SearchTerm::Word {
            text: text.into(),
            wildcard: false,
        }
    }

    fn term(text: &str) -> SearchTerm {
        parse_search(text).unwrap().term
    }

    fn error(text: &str) -> String {
        parse_search(text).unwrap_err().to_string()
    }

    #[test]
    fn terms_combine_words_phrases_and_operators() {
        assert_eq!(term("FIND {acme}"), word("acme"));
        assert_eq!(
            term("find {acme corp}"),
            SearchTerm::And(vec![word("acme"), word("corp")])
        );
        assert_eq!(
            term("FIND {acme OR globex AND NOT \"big co\"}"),
            SearchTerm::Or(vec![
                word("acme"),
                SearchTerm::AndNot(
                    Box::new(word("globex")),
                    Box::new(SearchTerm::Phrase("big co".into()))
                )
            ])
        );
        assert_eq!(
            term("FIND {(a1 OR b1) c1*}"),
            SearchTerm::And(vec![
                SearchTerm::Or(vec![word("a1"), word("b1")]),
                SearchTerm::Word {
                    text: "c1".into(),
                    wildcard: true
                }
            ])
        );
        assert_eq!(
            term(r"FIND {john\-smith \}x}"),
            SearchTerm::And(vec![word("john-smith"), word("}x")])
        );
        assert_eq!(term("FIND {华为}"), word("华为"));
    }

    #[test]
    fn clauses_follow_the_term() {
        let search = parse_search(
            "FIND {acme} IN NAME FIELDS RETURNING Account(Id, Name WHERE Industry = 'Energy' ORDER BY Name LIMIT 5), Contact LIMIT 20",
        )
        .unwrap();
        assert_eq!(search.scope, SearchScope::Name);
        assert_eq!(search.limit, Some(20));
        assert_eq!(search.returning.len(), 2);
        assert_eq!(search.returning[0].from.text, "Account");
        assert_eq!(search.returning[0].select.len(), 2);
        assert!(search.returning[0].filter.is_some());
        assert_eq!(search.returning[0].limit, Some(5));
        assert!(search.returning[1].select.is_empty());
    }

    #[test]
    fn mistakes_are_named_with_their_position() {
        assert_eq!(error("FIND acme"), format!("{NO_TERM} at Row:1:Column:1"));
        assert_eq!(
            error("FIND {a}"),
            "search term must be longer than one character at Row:1:Column:6"
        );
        assert_eq!(
            error("FIND {acme} RETURNING Account(Id FORM)"),
            "expecting a right parentheses, found 'FORM' at Row:1:Column:34"
        );
        assert_eq!(
            error("FIND {acme} IN BODY FIELDS"),
            "expecting ALL, NAME, EMAIL, PHONE or SIDEBAR, found 'BODY' at Row:1:Column:16"
        );
        assert_eq!(
            error("FIND {ac*me}"),
            "a wildcard '*' may only end a word at Row:1:Column:10"
        );
        assert_eq!(
            error("FIND {acme"),
            "the search term has no closing brace '}' at Row:1:Column:6"
        );
        assert_eq!(
            error("FIND {acme AND}"),
            "the search term ends where a word was expected at Row:1:Column:15"
        );
        assert_eq!(
            error("FIND {\"acme}"),
            "the phrase has no closing quote '\"' at Row:1:Column:7"
        );
    }

    #[test]
    fn no_text_makes_it_panic() {
        for text in [
            "FIND {",
            "FIND {}",
            "{}",
            "FIND {((((}",
            "FIND {\\",
            "FIND {a\\}",
            "FIND {华} RETURNING",
            "FIND {ab} RETURNING Account(",
            "FIND {ab} LIMIT x",
        ] {
            let _ = parse_search(text);
        }
    }
}
