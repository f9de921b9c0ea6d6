//! The SOQL parser: recursive descent over the lexer's tokens, building a [`Query`].
//!
//! It never panics: tokens are read through bounds-checked look-ups, and nesting (of
//! parentheses, subqueries and function calls) is limited to [`MAX_DEPTH`] levels so no input
//! can exhaust the stack. Error messages follow Salesforce's wording (`unexpected token:
//! 'FORM'`, `expecting a right parentheses, found 'x'`), and the error's [`Span`] says where.

use crate::ast::{
    Condition, Expr, ForClause, GroupBy, Ident, Literal, LiteralKind, OrderItem, Path, Query,
    SelectItem, Span,
};
use crate::lexer::{StringMode, Token, TokenKind, decode_string, split_currency, tokenize};
use crate::sosl::SearchScope;

/// How deeply parentheses, subqueries and function calls may nest.
pub(crate) const MAX_DEPTH: usize = 50;

/// Words that cannot start a field path, be a function name or serve as an alias (unless
/// followed by `.`, as in `Order.Name`). Object names may still be `Group` or `Order`.
const RESERVED: &[&str] = &[
    "AND", "ASC", "BY", "DESC", "ELSE", "END", "EXCLUDES", "FALSE", "FIRST", "FOR", "FROM",
    "GROUP", "HAVING", "IN", "INCLUDES", "LAST", "LIKE", "LIMIT", "NOT", "NULL", "NULLS", "OFFSET",
    "OR", "ORDER", "SELECT", "THEN", "TRUE", "TYPEOF", "USING", "WHEN", "WHERE", "WITH",
];

/// Reserved words that are also the names of standard objects (`SELECT Id FROM Group`).
const RESERVED_OBJECT_NAMES: &[&str] = &["GROUP", "ORDER"];

/// Relative date literals that stand alone: `TODAY`, `LAST_WEEK`…
const PLAIN_DATE_LITERALS: &[&str] = &[
    "YESTERDAY",
    "TODAY",
    "TOMORROW",
    "LAST_WEEK",
    "THIS_WEEK",
    "NEXT_WEEK",
    "LAST_MONTH",
    "THIS_MONTH",
    "NEXT_MONTH",
    "LAST_90_DAYS",
    "NEXT_90_DAYS",
    "THIS_QUARTER",
    "LAST_QUARTER",
    "NEXT_QUARTER",
    "THIS_YEAR",
    "LAST_YEAR",
    "NEXT_YEAR",
    "THIS_FISCAL_QUARTER",
    "LAST_FISCAL_QUARTER",
    "NEXT_FISCAL_QUARTER",
    "THIS_FISCAL_YEAR",
    "LAST_FISCAL_YEAR",
    "NEXT_FISCAL_YEAR",
];

/// Relative date literals that take a count: `LAST_N_DAYS:30`…
const N_DATE_LITERALS: &[&str] = &[
    "LAST_N_DAYS",
    "NEXT_N_DAYS",
    "N_DAYS_AGO",
    "LAST_N_WEEKS",
    "NEXT_N_WEEKS",
    "N_WEEKS_AGO",
    "LAST_N_MONTHS",
    "NEXT_N_MONTHS",
    "N_MONTHS_AGO",
    "LAST_N_QUARTERS",
    "NEXT_N_QUARTERS",
    "N_QUARTERS_AGO",
    "LAST_N_YEARS",
    "NEXT_N_YEARS",
    "N_YEARS_AGO",
    "LAST_N_FISCAL_QUARTERS",
    "NEXT_N_FISCAL_QUARTERS",
    "N_FISCAL_QUARTERS_AGO",
    "LAST_N_FISCAL_YEARS",
    "NEXT_N_FISCAL_YEARS",
    "N_FISCAL_YEARS_AGO",
];

/// A query that could not be parsed: what went wrong, in Salesforce's wording, and where.
/// Displays as `unexpected token: 'FORM' at Row:1:Column:11`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at {span}")]
pub struct ParseError {
    pub message: String,
    pub span: Span,
}

impl ParseError {
    pub(crate) fn new(message: impl Into<String>, span: Span) -> ParseError {
        ParseError {
            message: message.into(),
            span,
        }
    }
}

/// Parses one SOQL query. The whole text must be the query: anything after it is an error.
pub fn parse(text: &str) -> std::result::Result<Query, ParseError> {
    let mut parser = Parser::new(tokenize(text));
    let query = parser.query()?;
    parser.expect_end()?;
    Ok(query)
}

type Result<T> = std::result::Result<T, ParseError>;

fn is_reserved(word: &str) -> bool {
    RESERVED.iter().any(|kw| kw.eq_ignore_ascii_case(word))
}

fn lookup(list: &[&str], word: &str) -> bool {
    list.iter().any(|name| name.eq_ignore_ascii_case(word))
}

fn is_kw(token: &Token, kw: &str) -> bool {
    token.kind == TokenKind::Ident && token.text.eq_ignore_ascii_case(kw)
}

fn ident_of(token: &Token) -> Ident {
    Ident {
        text: token.text.clone(),
        span: token.span,
    }
}

/// The error for finding `token` where it does not belong.
fn unexpected(token: &Token) -> ParseError {
    match &token.kind {
        TokenKind::Error(error) => (**error).clone(),
        TokenKind::Eof => ParseError::new("unexpected end of query", token.span),
        _ => ParseError::new(format!("unexpected token: '{}'", token.text), token.span),
    }
}

/// The error for finding `token` where `what` was expected.
fn expecting(token: &Token, what: &str) -> ParseError {
    match &token.kind {
        TokenKind::Error(error) => (**error).clone(),
        TokenKind::Eof => {
            ParseError::new(format!("expecting {what}, found end of query"), token.span)
        }
        _ => ParseError::new(
            format!("expecting {what}, found '{}'", token.text),
            token.span,
        ),
    }
}

pub(crate) struct Parser {
    tokens: Vec<Token>,
    index: usize,
    depth: usize,
    /// Returned for look-ups past the end; a copy of the last token.
    eof: Token,
}

impl Parser {
    pub(crate) fn new(tokens: Vec<Token>) -> Parser {
        let fallback = Token {
            kind: TokenKind::Eof,
            text: String::new(),
            span: Span::default(),
        };
        let eof = tokens.last().cloned().unwrap_or(fallback);
        Parser {
            tokens,
            index: 0,
            depth: 0,
            eof,
        }
    }

    // ----- token access -----

    fn peek(&self) -> &Token {
        self.peek_at(0)
    }

    fn peek_at(&self, n: usize) -> &Token {
        self.tokens
            .get(self.index.saturating_add(n))
            .unwrap_or(&self.eof)
    }

    fn bump(&mut self) -> Token {
        let token = self.peek().clone();
        if self.index < self.tokens.len() {
            self.index += 1;
        }
        token
    }

    fn at(&self, kind: &TokenKind) -> bool {
        &self.peek().kind == kind
    }

    fn eat(&mut self, kind: &TokenKind) -> bool {
        let found = self.at(kind);
        if found {
            self.bump();
        }
        found
    }

    /// Whether the current token is keyword `kw` (not followed by `.`, which would make it
    /// the start of a path such as `Order.Name`).
    fn at_kw(&self, kw: &str) -> bool {
        is_kw(self.peek(), kw) && self.peek_at(1).kind != TokenKind::Dot
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        let found = self.at_kw(kw);
        if found {
            self.bump();
        }
        found
    }

    fn expect_kw(&mut self, kw: &str) -> Result<Span> {
        if self.at_kw(kw) {
            Ok(self.bump().span)
        } else {
            Err(self.unexpected())
        }
    }

    fn expect(&mut self, kind: &TokenKind, what: &str) -> Result<Span> {
        if self.at(kind) {
            Ok(self.bump().span)
        } else {
            Err(expecting(self.peek(), what))
        }
    }

    fn expect_lparen(&mut self) -> Result<Span> {
        self.expect(&TokenKind::LParen, "a left parentheses")
    }

    fn expect_rparen(&mut self) -> Result<Span> {
        self.expect(&TokenKind::RParen, "a right parentheses")
    }

    fn expect_end(&self) -> Result<()> {
        if self.at(&TokenKind::Eof) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn unexpected(&self) -> ParseError {
        unexpected(self.peek())
    }

    /// Enters one level of nesting opened at `span`.
    fn enter(&mut self, span: Span) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let message =
                format!("query is nested too deeply: more than {MAX_DEPTH} levels of parentheses");
            return Err(ParseError::new(message, span));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    // ----- names -----

    /// Any identifier, keywords included.
    fn any_ident(&mut self) -> Result<Ident> {
        if self.at(&TokenKind::Ident) {
            Ok(ident_of(&self.bump()))
        } else {
            Err(self.unexpected())
        }
    }

    /// An identifier that is not a reserved word.
    fn name(&mut self) -> Result<Ident> {
        if self.at(&TokenKind::Ident) && !is_reserved(&self.peek().text) {
            Ok(ident_of(&self.bump()))
        } else {
            Err(self.unexpected())
        }
    }

    /// Whether the current token could be an alias: a non-reserved identifier.
    fn at_alias(&self) -> bool {
        self.at(&TokenKind::Ident) && !is_reserved(&self.peek().text)
    }

    // ----- SOSL clauses -----

    /// `FIND` (its term already taken out) `[IN … FIELDS] [RETURNING …] [LIMIT n]`.
    pub(crate) fn search_clauses(&mut self) -> Result<(SearchScope, Vec<Query>, Option<u64>)> {
        self.expect_kw("FIND")?;
        let scope = if self.eat_kw("IN") {
            let token = self.peek().clone();
            let scope = match token.text.to_ascii_uppercase().as_str() {
                _ if token.kind != TokenKind::Ident => None,
                "ALL" => Some(SearchScope::All),
                "NAME" => Some(SearchScope::Name),
                "EMAIL" => Some(SearchScope::Email),
                "PHONE" => Some(SearchScope::Phone),
                "SIDEBAR" => Some(SearchScope::Sidebar),
                _ => None,
            };
            let Some(scope) = scope else {
                return Err(expecting(&token, "ALL, NAME, EMAIL, PHONE or SIDEBAR"));
            };
            self.bump();
            self.expect_kw("FIELDS")?;
            scope
        } else {
            SearchScope::All
        };
        let mut returning = Vec::new();
        if self.eat_kw("RETURNING") {
            returning.push(self.returning_item()?);
            while self.eat(&TokenKind::Comma) {
                returning.push(self.returning_item()?);
            }
        }
        let limit = if self.eat_kw("LIMIT") {
            Some(self.count()?)
        } else {
            None
        };
        self.expect_end()?;
        Ok((scope, returning, limit))
    }

    /// `Account` or `Account(Id, Name [WHERE …] [ORDER BY …] [LIMIT n] [OFFSET n])`.
    fn returning_item(&mut self) -> Result<Query> {
        let mut query = Query::from(self.object_name()?);
        if self.at(&TokenKind::LParen) {
            let open = self.expect_lparen()?;
            self.enter(open)?;
            query.select = self.select_list()?;
            if self.eat_kw("WHERE") {
                query.filter = Some(self.condition()?);
            }
            query.order_by = self.order_by()?;
            if self.eat_kw("LIMIT") {
                query.limit = Some(self.count()?);
            }
            if self.eat_kw("OFFSET") {
                query.offset = Some(self.count()?);
            }
            self.expect_rparen()?;
            self.leave();
        }
        Ok(query)
    }

    // ----- query -----

    fn query(&mut self) -> Result<Query> {
        let span = self.expect_kw("SELECT")?;
        let select = self.select_list()?;
        self.expect_kw("FROM")?;
        let from = self.object_name()?;
        let alias = if self.at_alias() {
            Some(ident_of(&self.bump()))
        } else {
            None
        };
        let scope = self.using_scope()?;
        let filter = if self.eat_kw("WHERE") {
            Some(self.condition()?)
        } else {
            None
        };
        let with = if self.eat_kw("WITH") {
            Some(self.name()?)
        } else {
            None
        };
        let group_by = self.group_by()?;
        let having = if self.eat_kw("HAVING") {
            Some(self.condition()?)
        } else {
            None
        };
        let order_by = self.order_by()?;
        let limit = if self.eat_kw("LIMIT") {
            Some(self.count()?)
        } else {
            None
        };
        let offset = if self.eat_kw("OFFSET") {
            Some(self.count()?)
        } else {
            None
        };
        let for_clause = self.for_clause()?;
        Ok(Query {
            select,
            from,
            alias,
            scope,
            filter,
            with,
            group_by,
            having,
            order_by,
            limit,
            offset,
            for_clause,
            span,
        })
    }

    fn object_name(&mut self) -> Result<Ident> {
        let token = self.peek();
        let reserved = is_reserved(&token.text) && !lookup(RESERVED_OBJECT_NAMES, &token.text);
        if token.kind == TokenKind::Ident && !reserved {
            Ok(ident_of(&self.bump()))
        } else {
            Err(self.unexpected())
        }
    }

    fn using_scope(&mut self) -> Result<Option<Ident>> {
        if !self.eat_kw("USING") {
            return Ok(None);
        }
        self.expect_kw("SCOPE")?;
        Ok(Some(self.name()?))
    }

    fn group_by(&mut self) -> Result<Option<GroupBy>> {
        if !self.eat_kw("GROUP") {
            return Ok(None);
        }
        self.expect_kw("BY")?;
        let grouping = |parser: &Parser, kw: &str| {
            is_kw(parser.peek(), kw) && parser.peek_at(1).kind == TokenKind::LParen
        };
        if grouping(self, "ROLLUP") {
            return Ok(Some(GroupBy::Rollup(self.grouping_list()?)));
        }
        if grouping(self, "CUBE") {
            return Ok(Some(GroupBy::Cube(self.grouping_list()?)));
        }
        Ok(Some(GroupBy::Plain(self.expr_list()?)))
    }

    /// `ROLLUP(a, b)` or `CUBE(a, b)`, the keyword still to be read.
    fn grouping_list(&mut self) -> Result<Vec<Expr>> {
        self.bump();
        let open = self.expect_lparen()?;
        self.enter(open)?;
        let exprs = self.expr_list()?;
        self.expect_rparen()?;
        self.leave();
        Ok(exprs)
    }

    fn expr_list(&mut self) -> Result<Vec<Expr>> {
        let mut exprs = vec![self.expr()?];
        while self.eat(&TokenKind::Comma) {
            exprs.push(self.expr()?);
        }
        Ok(exprs)
    }

    fn order_by(&mut self) -> Result<Vec<OrderItem>> {
        if !self.eat_kw("ORDER") {
            return Ok(Vec::new());
        }
        self.expect_kw("BY")?;
        let mut items = vec![self.order_item()?];
        while self.eat(&TokenKind::Comma) {
            items.push(self.order_item()?);
        }
        Ok(items)
    }

    fn order_item(&mut self) -> Result<OrderItem> {
        let expr = self.expr()?;
        let descending = if self.eat_kw("DESC") {
            true
        } else {
            self.eat_kw("ASC");
            false
        };
        let nulls_last = if self.eat_kw("NULLS") {
            if self.eat_kw("LAST") {
                Some(true)
            } else {
                self.expect_kw("FIRST")?;
                Some(false)
            }
        } else {
            None
        };
        Ok(OrderItem {
            expr,
            descending,
            nulls_last,
        })
    }

    /// A LIMIT or OFFSET count: a non-negative integer.
    fn count(&mut self) -> Result<u64> {
        let token = self.peek();
        let digits_only = !token.text.is_empty() && token.text.chars().all(|c| c.is_ascii_digit());
        if token.kind != TokenKind::Number || !digits_only {
            return Err(expecting(token, "a non-negative integer"));
        }
        let value = token.text.parse::<u64>().map_err(|_| {
            ParseError::new(format!("number too large: '{}'", token.text), token.span)
        })?;
        self.bump();
        Ok(value)
    }

    fn for_clause(&mut self) -> Result<Option<ForClause>> {
        if !self.eat_kw("FOR") {
            return Ok(None);
        }
        let clause = if self.eat_kw("VIEW") {
            ForClause::View
        } else if self.eat_kw("REFERENCE") {
            ForClause::Reference
        } else if self.eat_kw("UPDATE") {
            ForClause::Update
        } else {
            return Err(expecting(self.peek(), "VIEW, REFERENCE or UPDATE"));
        };
        Ok(Some(clause))
    }

    // ----- select list -----

    fn select_list(&mut self) -> Result<Vec<SelectItem>> {
        let mut items = vec![self.select_item()?];
        while self.eat(&TokenKind::Comma) {
            items.push(self.select_item()?);
        }
        Ok(items)
    }

    fn select_item(&mut self) -> Result<SelectItem> {
        if self.at(&TokenKind::LParen) {
            return Ok(SelectItem::Subquery(self.subquery()?));
        }
        if self.at_kw("TYPEOF") {
            return self.type_of();
        }
        if is_kw(self.peek(), "FIELDS") && self.peek_at(1).kind == TokenKind::LParen {
            return self.fields();
        }
        let expr = self.expr()?;
        let alias = self.item_alias();
        Ok(SelectItem::Expr { expr, alias })
    }

    /// An alias after a select item: a non-reserved identifier that ends the item (followed
    /// by `,`, `FROM` or the end). Anything else is left for the caller to reject, so
    /// `SELECT Id FORM Account` fails at `FORM`.
    fn item_alias(&mut self) -> Option<Ident> {
        let next = self.peek_at(1);
        let ends_item =
            next.kind == TokenKind::Comma || next.kind == TokenKind::Eof || is_kw(next, "FROM");
        if self.at_alias() && ends_item {
            Some(ident_of(&self.bump()))
        } else {
            None
        }
    }

    /// `( SELECT … )`, the current token being the `(`.
    fn subquery(&mut self) -> Result<Box<Query>> {
        let open = self.bump().span;
        self.enter(open)?;
        let query = self.query()?;
        self.expect_rparen()?;
        self.leave();
        Ok(Box::new(query))
    }

    fn type_of(&mut self) -> Result<SelectItem> {
        let span = self.bump().span;
        let relationship = self.name()?;
        let mut whens = Vec::new();
        while self.eat_kw("WHEN") {
            let type_name = self.name()?;
            self.expect_kw("THEN")?;
            whens.push((type_name, self.path_list()?));
        }
        if whens.is_empty() {
            return Err(expecting(self.peek(), "WHEN"));
        }
        let otherwise = if self.eat_kw("ELSE") {
            self.path_list()?
        } else {
            Vec::new()
        };
        if !self.at_kw("END") {
            return Err(expecting(self.peek(), "WHEN, ELSE or END"));
        }
        self.bump();
        Ok(SelectItem::TypeOf {
            relationship,
            whens,
            otherwise,
            span,
        })
    }

    fn path_list(&mut self) -> Result<Vec<Path>> {
        let mut paths = vec![self.path()?];
        while self.eat(&TokenKind::Comma) {
            paths.push(self.path()?);
        }
        Ok(paths)
    }

    /// `FIELDS(ALL | STANDARD | CUSTOM)`, the current token being `FIELDS`.
    fn fields(&mut self) -> Result<SelectItem> {
        let span = self.bump().span;
        self.expect_lparen()?;
        let token = self.peek();
        let known = ["ALL", "STANDARD", "CUSTOM"]
            .iter()
            .any(|kw| is_kw(token, kw));
        if !known {
            return Err(expecting(token, "ALL, STANDARD or CUSTOM"));
        }
        let kind = ident_of(&self.bump());
        self.expect_rparen()?;
        Ok(SelectItem::Fields { kind, span })
    }

    // ----- expressions -----

    /// A field path, or a function call (any name followed by `(`).
    fn expr(&mut self) -> Result<Expr> {
        if self.peek_at(1).kind == TokenKind::LParen {
            self.function()
        } else {
            Ok(Expr::Field(self.path()?))
        }
    }

    fn function(&mut self) -> Result<Expr> {
        let name = self.name()?;
        let open = self.expect_lparen()?;
        self.enter(open)?;
        let mut args = Vec::new();
        if !self.at(&TokenKind::RParen) {
            args = self.expr_list()?;
        }
        self.expect_rparen()?;
        self.leave();
        let span = name.span;
        Ok(Expr::Function { name, args, span })
    }

    /// `Name`, `Account.Owner.Name`. The first part may be a reserved word only when a `.`
    /// follows (`Order.Name`); later parts may be any identifier.
    fn path(&mut self) -> Result<Path> {
        let first_ok = self.at(&TokenKind::Ident)
            && (!is_reserved(&self.peek().text) || self.peek_at(1).kind == TokenKind::Dot);
        if !first_ok {
            return Err(self.unexpected());
        }
        let first = ident_of(&self.bump());
        let span = first.span;
        let mut parts = vec![first];
        while self.eat(&TokenKind::Dot) {
            parts.push(self.any_ident()?);
        }
        Ok(Path { parts, span })
    }

    // ----- conditions -----

    /// Terms joined by all-`AND` or all-`OR`; mixing the two needs parentheses.
    fn condition(&mut self) -> Result<Condition> {
        let first = self.condition_term()?;
        let joiner = if self.at_kw("AND") {
            "AND"
        } else if self.at_kw("OR") {
            "OR"
        } else {
            return Ok(first);
        };
        let other = if joiner == "AND" { "OR" } else { "AND" };
        let mut terms = vec![first];
        while self.eat_kw(joiner) {
            terms.push(self.condition_term()?);
        }
        if self.at_kw(other) {
            let token = self.peek();
            let message = format!(
                "unexpected token: '{}' (use parentheses when mixing AND and OR)",
                token.text
            );
            return Err(ParseError::new(message, token.span));
        }
        Ok(if joiner == "AND" {
            Condition::And(terms)
        } else {
            Condition::Or(terms)
        })
    }

    /// `[NOT] ( condition )` or `[NOT] simpleCondition`.
    fn condition_term(&mut self) -> Result<Condition> {
        if self.eat_kw("NOT") {
            return Ok(Condition::Not(Box::new(self.unnegated_term()?)));
        }
        self.unnegated_term()
    }

    fn unnegated_term(&mut self) -> Result<Condition> {
        if !self.at(&TokenKind::LParen) {
            return self.simple_condition();
        }
        let open = self.bump().span;
        self.enter(open)?;
        let inner = self.condition()?;
        self.expect_rparen()?;
        self.leave();
        Ok(inner)
    }

    fn simple_condition(&mut self) -> Result<Condition> {
        let left = self.expr()?;
        let span = left.span();
        if let TokenKind::Op(op) = self.peek().kind {
            self.bump();
            let right = self.literal(StringMode::Plain)?;
            return Ok(Condition::Compare {
                left,
                op,
                right,
                span,
            });
        }
        let negated = self.eat_kw("NOT");
        if self.at_kw("LIKE") {
            self.bump();
            let pattern = self.like_pattern()?;
            return Ok(Condition::Like {
                left,
                negated,
                pattern,
                span,
            });
        }
        if self.at_kw("IN") {
            return self.in_condition(left, negated, span);
        }
        if negated {
            return Err(expecting(self.peek(), "LIKE or IN"));
        }
        let excludes = self.at_kw("EXCLUDES");
        if excludes || self.at_kw("INCLUDES") {
            self.bump();
            let values = self.literal_list()?;
            return Ok(Condition::Includes {
                left,
                excludes,
                values,
                span,
            });
        }
        Err(self.unexpected())
    }

    fn like_pattern(&mut self) -> Result<Literal> {
        if !matches!(self.peek().kind, TokenKind::String(_)) {
            return Err(expecting(self.peek(), "a string pattern"));
        }
        self.literal(StringMode::Like)
    }

    /// `IN ( values )` or `IN ( SELECT … )`, the current token being `IN`.
    fn in_condition(&mut self, left: Expr, negated: bool, span: Span) -> Result<Condition> {
        self.bump();
        if self.at(&TokenKind::LParen) && is_kw(self.peek_at(1), "SELECT") {
            let query = self.subquery()?;
            return Ok(Condition::InQuery {
                left,
                negated,
                query,
                span,
            });
        }
        let values = self.literal_list()?;
        Ok(Condition::In {
            left,
            negated,
            values,
            span,
        })
    }

    /// `( literal {, literal} )`.
    fn literal_list(&mut self) -> Result<Vec<Literal>> {
        self.expect_lparen()?;
        let mut values = vec![self.literal(StringMode::Plain)?];
        while self.eat(&TokenKind::Comma) {
            values.push(self.literal(StringMode::Plain)?);
        }
        self.expect_rparen()?;
        Ok(values)
    }

    // ----- literals -----

    fn literal(&mut self, mode: StringMode) -> Result<Literal> {
        let token = self.peek().clone();
        let kind = match &token.kind {
            TokenKind::String(raw) => LiteralKind::String(decode_string(raw, token.span, mode)?),
            TokenKind::Number => LiteralKind::Number(token.text.clone()),
            TokenKind::Date => LiteralKind::Date(token.text.clone()),
            TokenKind::DateTime => LiteralKind::DateTime(token.text.clone()),
            TokenKind::Currency { code, amount } => LiteralKind::Currency {
                code: code.clone(),
                amount: amount.clone(),
            },
            TokenKind::Ident => return self.word_literal(),
            _ => return Err(self.unexpected()),
        };
        self.bump();
        Ok(Literal {
            kind,
            span: token.span,
        })
    }

    /// A literal written as a word: `TRUE`, `FALSE`, `NULL`, a relative date literal, or a
    /// whole currency amount (`USD5000`).
    fn word_literal(&mut self) -> Result<Literal> {
        let token = self.peek().clone();
        let upper = token.text.to_ascii_uppercase();
        let kind = match upper.as_str() {
            "TRUE" => LiteralKind::Boolean(true),
            "FALSE" => LiteralKind::Boolean(false),
            "NULL" => LiteralKind::Null,
            name if lookup(PLAIN_DATE_LITERALS, name) => LiteralKind::DateLiteral {
                name: upper.clone(),
                n: None,
            },
            name if lookup(N_DATE_LITERALS, name) => return self.n_date_literal(upper.clone()),
            _ => match split_currency(&token.text) {
                Some((code, amount)) => LiteralKind::Currency { code, amount },
                None if self.peek_at(1).kind == TokenKind::Colon => {
                    return Err(ParseError::new(
                        format!("unknown date literal: '{}'", token.text),
                        token.span,
                    ));
                }
                None => return Err(self.unexpected()),
            },
        };
        self.bump();
        if matches!(kind, LiteralKind::DateLiteral { .. }) && self.at(&TokenKind::Colon) {
            let message = format!("date literal {upper} does not take a number");
            return Err(ParseError::new(message, self.peek().span));
        }
        Ok(Literal {
            kind,
            span: token.span,
        })
    }

    /// `LAST_N_DAYS:30`, the name (upper-cased) still to be read.
    fn n_date_literal(&mut self, name: String) -> Result<Literal> {
        let span = self.bump().span;
        self.expect(&TokenKind::Colon, "a colon")?;
        let token = self.peek();
        let is_integer = token.kind == TokenKind::Number && {
            let digits = token.text.trim_start_matches(['+', '-']);
            !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
        };
        if !is_integer {
            return Err(expecting(token, "an integer"));
        }
        let n = token.text.parse::<i64>().map_err(|_| {
            ParseError::new(format!("number too large: '{}'", token.text), token.span)
        })?;
        self.bump();
        Ok(Literal {
            kind: LiteralKind::DateLiteral { name, n: Some(n) },
            span,
        })
    }
}
