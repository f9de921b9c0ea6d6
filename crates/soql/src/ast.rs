//! The SOQL syntax tree. Every node that can be wrong carries the [`Span`] where it was
//! written, so errors point at the text. Spans never take part in equality: two queries are
//! equal when they say the same thing, wherever it was written (the printer relies on this:
//! `parse(print(q)) == q`).

use std::fmt;

/// Where something was written: byte offset, and 1-based row and column (in characters).
#[derive(Debug, Clone, Copy, Default)]
pub struct Span {
    pub offset: usize,
    pub line: u32,
    pub column: u32,
}

impl PartialEq for Span {
    fn eq(&self, _: &Span) -> bool {
        true
    }
}

impl Eq for Span {}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Row:{}:Column:{}", self.line, self.column)
    }
}

/// A name as written (objects, fields, relationships, aliases, functions, keywords of
/// `FIELDS()` and `USING SCOPE`). Matching against metadata is case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub text: String,
    pub span: Span,
}

/// A dotted path: `Name`, `Account.Name`, `Account.Owner.Name`, `c.LastName` (with an alias).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    pub parts: Vec<Ident>,
    pub span: Span,
}

/// A value written in a condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiteralKind {
    /// A quoted string, escapes already decoded (`'O\'Brien'` → `O'Brien`).
    String(String),
    /// A number as written (`10`, `-3.5`, `+2`, `1e3`); the compiler types it by field.
    Number(String),
    Boolean(bool),
    Null,
    /// `2024-01-31`.
    Date(String),
    /// `2024-01-31T10:00:00Z`, `2024-01-31T10:00:00.000+08:00`.
    DateTime(String),
    /// A relative date literal, upper-cased: `TODAY`, `LAST_N_DAYS` with `n`.
    DateLiteral {
        name: String,
        n: Option<i64>,
    },
    /// A currency amount with its ISO code: `USD5000`.
    Currency {
        code: String,
        amount: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Literal {
    pub kind: LiteralKind,
    pub span: Span,
}

/// A field or a function of fields, as used in WHERE, ORDER BY, GROUP BY and HAVING, and
/// (with an optional alias) in the select list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Field(Path),
    /// `COUNT()`, `COUNT(Id)`, `SUM(Amount)`, `CALENDAR_YEAR(CloseDate)`, `toLabel(Status)`,
    /// `convertTimezone(CreatedDate)`… The name is kept as written; arguments are nested
    /// expressions (zero for `COUNT()`).
    Function {
        name: Ident,
        args: Vec<Expr>,
        span: Span,
    },
}

impl Expr {
    pub fn span(&self) -> Span {
        match self {
            Expr::Field(path) => path.span,
            Expr::Function { span, .. } => *span,
        }
    }
}

/// One item of the select list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectItem {
    /// A field, function or aggregate, with an optional alias (`COUNT(Id) cnt`).
    Expr { expr: Expr, alias: Option<Ident> },
    /// `(SELECT … FROM Contacts …)`: a child relationship subquery.
    Subquery(Box<Query>),
    /// `TYPEOF What WHEN Account THEN Name, Phone WHEN Opportunity THEN Amount ELSE Name END`.
    TypeOf {
        relationship: Ident,
        whens: Vec<(Ident, Vec<Path>)>,
        otherwise: Vec<Path>,
        span: Span,
    },
    /// `FIELDS(ALL)`, `FIELDS(STANDARD)`, `FIELDS(CUSTOM)`.
    Fields { kind: Ident, span: Span },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    /// `!=` or `<>` (printed `!=`).
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A WHERE or HAVING condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
    Compare {
        left: Expr,
        op: CompareOp,
        right: Literal,
        span: Span,
    },
    /// `Name LIKE 'Acme%'`, `NOT Name LIKE …` is `Not(Like)`; `Name NOT LIKE …` sets `negated`.
    /// The pattern is a `String` literal in which `%` and `_` are wildcards and a backslash
    /// always escapes the next character: `\_` is a literal `_`, `\%` a literal `%`, `\\` a
    /// literal backslash (the other escapes, `\n`, `\'`, `\uXXXX`…, are decoded as usual).
    Like {
        left: Expr,
        negated: bool,
        pattern: Literal,
        span: Span,
    },
    /// `Industry IN ('Energy', 'Retail')`, `NOT IN`.
    In {
        left: Expr,
        negated: bool,
        values: Vec<Literal>,
        span: Span,
    },
    /// `Id IN (SELECT AccountId FROM Contact …)`, `NOT IN` (a semi- or anti-join).
    InQuery {
        left: Expr,
        negated: bool,
        query: Box<Query>,
        span: Span,
    },
    /// `Interests__c INCLUDES ('a;b', 'c')`, `EXCLUDES`.
    Includes {
        left: Expr,
        excludes: bool,
        values: Vec<Literal>,
        span: Span,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupBy {
    Plain(Vec<Expr>),
    Rollup(Vec<Expr>),
    Cube(Vec<Expr>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderItem {
    pub expr: Expr,
    pub descending: bool,
    /// `Some(true)` for NULLS LAST, `Some(false)` for NULLS FIRST, `None` when not written
    /// (Salesforce then puts nulls first).
    pub nulls_last: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForClause {
    View,
    Reference,
    Update,
}

/// A query (or a subquery, whose `from` is a child relationship name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub select: Vec<SelectItem>,
    pub from: Ident,
    pub alias: Option<Ident>,
    /// `USING SCOPE mine` / `everything` / `team`…
    pub scope: Option<Ident>,
    pub filter: Option<Condition>,
    /// `WITH SECURITY_ENFORCED`, `WITH USER_MODE`, `WITH SYSTEM_MODE`.
    pub with: Option<Ident>,
    pub group_by: Option<GroupBy>,
    pub having: Option<Condition>,
    pub order_by: Vec<OrderItem>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    pub for_clause: Option<ForClause>,
    pub span: Span,
}

impl Query {
    /// `FROM from` and nothing else yet (no fields selected): what a SOSL RETURNING item
    /// starts as.
    pub fn from(from: Ident) -> Query {
        let span = from.span;
        Query {
            select: Vec::new(),
            from,
            alias: None,
            scope: None,
            filter: None,
            with: None,
            group_by: None,
            having: None,
            order_by: Vec::new(),
            limit: None,
            offset: None,
            for_clause: None,
            span,
        }
    }
}
