//! The SOQL printer: `Display` for every syntax node, writing canonical SOQL. Keywords are
//! upper-case, names are kept as written, items are separated by `, `, strings are
//! re-escaped, `<>` is written `!=`, and nested `AND`/`OR` groups get parentheses, so that
//! parsing the printed text gives back the same tree: `parse(&q.to_string()) == Ok(q)`.

use std::fmt::{self, Display, Formatter, Write};

use crate::ast::{
    CompareOp, Condition, Expr, ForClause, GroupBy, Ident, Literal, LiteralKind, OrderItem, Path,
    Query, SelectItem,
};

/// Writes `items` separated by `, `.
fn write_list<T: Display>(f: &mut Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

/// Writes one character of a string literal's content, escaped.
fn write_escaped_char(f: &mut Formatter<'_>, ch: char) -> fmt::Result {
    match ch {
        '\\' => f.write_str("\\\\"),
        '\'' => f.write_str("\\'"),
        '\n' => f.write_str("\\n"),
        '\r' => f.write_str("\\r"),
        '\t' => f.write_str("\\t"),
        '\u{8}' => f.write_str("\\b"),
        '\u{c}' => f.write_str("\\f"),
        other => f.write_char(other),
    }
}

/// Writes a decoded string as a quoted SOQL string literal.
fn write_string(f: &mut Formatter<'_>, text: &str) -> fmt::Result {
    f.write_char('\'')?;
    for ch in text.chars() {
        write_escaped_char(f, ch)?;
    }
    f.write_char('\'')
}

/// A text as a quoted SOQL string literal (`O'Brien` → `'O\'Brien'`), for SOQL that code
/// writes around a user's values.
pub fn quote_string(text: &str) -> String {
    struct Quoted<'a>(&'a str);
    impl fmt::Display for Quoted<'_> {
        fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
            write_string(f, self.0)
        }
    }
    Quoted(text).to_string()
}

/// Writes a `LIKE` pattern (see `StringMode::Like`): its pattern escapes `\\`, `\_` and
/// `\%` are written as they are; everything else is escaped as in any string.
fn write_like_pattern(f: &mut Formatter<'_>, pattern: &str) -> fmt::Result {
    f.write_char('\'')?;
    let mut chars = pattern.chars().peekable();
    while let Some(ch) = chars.next() {
        match (ch, chars.peek().copied()) {
            ('\\', Some(next @ ('\\' | '_' | '%'))) => {
                chars.next();
                f.write_char('\\')?;
                f.write_char(next)?;
            }
            _ => write_escaped_char(f, ch)?,
        }
    }
    f.write_char('\'')
}

fn is_junction(condition: &Condition) -> bool {
    matches!(condition, Condition::And(_) | Condition::Or(_))
}

/// Writes the terms of an `AND` or `OR`, parenthesising nested groups.
fn write_junction(f: &mut Formatter<'_>, terms: &[Condition], joiner: &str) -> fmt::Result {
    for (i, term) in terms.iter().enumerate() {
        if i > 0 {
            f.write_str(joiner)?;
        }
        if is_junction(term) {
            write!(f, "({term})")?;
        } else {
            write!(f, "{term}")?;
        }
    }
    Ok(())
}

impl Display for Ident {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Display for Path {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, part) in self.parts.iter().enumerate() {
            if i > 0 {
                f.write_char('.')?;
            }
            write!(f, "{part}")?;
        }
        Ok(())
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Field(path) => write!(f, "{path}"),
            Expr::Function { name, args, .. } => {
                write!(f, "{name}(")?;
                write_list(f, args)?;
                f.write_char(')')
            }
        }
    }
}

impl Display for LiteralKind {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            LiteralKind::String(text) => write_string(f, text),
            LiteralKind::Number(text) | LiteralKind::Date(text) | LiteralKind::DateTime(text) => {
                f.write_str(text)
            }
            LiteralKind::Boolean(true) => f.write_str("TRUE"),
            LiteralKind::Boolean(false) => f.write_str("FALSE"),
            LiteralKind::Null => f.write_str("NULL"),
            LiteralKind::DateLiteral { name, n: None } => f.write_str(name),
            LiteralKind::DateLiteral { name, n: Some(n) } => write!(f, "{name}:{n}"),
            LiteralKind::Currency { code, amount } => write!(f, "{code}{amount}"),
        }
    }
}

impl Display for Literal {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)
    }
}

impl Display for CompareOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CompareOp::Eq => "=",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        })
    }
}

impl Display for Condition {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Condition::And(terms) => write_junction(f, terms, " AND "),
            Condition::Or(terms) => write_junction(f, terms, " OR "),
            Condition::Not(inner) if is_junction(inner) || matches!(**inner, Condition::Not(_)) => {
                write!(f, "NOT ({inner})")
            }
            Condition::Not(inner) => write!(f, "NOT {inner}"),
            Condition::Compare {
                left, op, right, ..
            } => write!(f, "{left} {op} {right}"),
            Condition::Like {
                left,
                negated,
                pattern,
                ..
            } => {
                write!(f, "{left} {}LIKE ", if *negated { "NOT " } else { "" })?;
                match &pattern.kind {
                    LiteralKind::String(text) => write_like_pattern(f, text),
                    other => write!(f, "{other}"),
                }
            }
            Condition::In {
                left,
                negated,
                values,
                ..
            } => {
                write!(f, "{left} {}IN (", if *negated { "NOT " } else { "" })?;
                write_list(f, values)?;
                f.write_char(')')
            }
            Condition::InQuery {
                left,
                negated,
                query,
                ..
            } => {
                write!(
                    f,
                    "{left} {}IN ({query})",
                    if *negated { "NOT " } else { "" }
                )
            }
            Condition::Includes {
                left,
                excludes,
                values,
                ..
            } => {
                write!(
                    f,
                    "{left} {} (",
                    if *excludes { "EXCLUDES" } else { "INCLUDES" }
                )?;
                write_list(f, values)?;
                f.write_char(')')
            }
        }
    }
}

impl Display for SelectItem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            SelectItem::Expr { expr, alias: None } => write!(f, "{expr}"),
            SelectItem::Expr {
                expr,
                alias: Some(alias),
            } => write!(f, "{expr} {alias}"),
            SelectItem::Subquery(query) => write!(f, "({query})"),
            SelectItem::TypeOf {
                relationship,
                whens,
                otherwise,
                ..
            } => {
                write!(f, "TYPEOF {relationship}")?;
                for (type_name, fields) in whens {
                    write!(f, " WHEN {type_name} THEN ")?;
                    write_list(f, fields)?;
                }
                if !otherwise.is_empty() {
                    f.write_str(" ELSE ")?;
                    write_list(f, otherwise)?;
                }
                f.write_str(" END")
            }
            SelectItem::Fields { kind, .. } => write!(f, "FIELDS({kind})"),
        }
    }
}

impl Display for GroupBy {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            GroupBy::Plain(exprs) => write_list(f, exprs),
            GroupBy::Rollup(exprs) => {
                f.write_str("ROLLUP(")?;
                write_list(f, exprs)?;
                f.write_char(')')
            }
            GroupBy::Cube(exprs) => {
                f.write_str("CUBE(")?;
                write_list(f, exprs)?;
                f.write_char(')')
            }
        }
    }
}

impl Display for OrderItem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.expr)?;
        if self.descending {
            f.write_str(" DESC")?;
        }
        match self.nulls_last {
            Some(true) => f.write_str(" NULLS LAST"),
            Some(false) => f.write_str(" NULLS FIRST"),
            None => Ok(()),
        }
    }
}

impl Display for ForClause {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ForClause::View => "VIEW",
            ForClause::Reference => "REFERENCE",
            ForClause::Update => "UPDATE",
        })
    }
}

impl Display for Query {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("SELECT ")?;
        write_list(f, &self.select)?;
        write!(f, " FROM {}", self.from)?;
        if let Some(alias) = &self.alias {
            write!(f, " {alias}")?;
        }
        if let Some(scope) = &self.scope {
            write!(f, " USING SCOPE {scope}")?;
        }
        if let Some(filter) = &self.filter {
            write!(f, " WHERE {filter}")?;
        }
        if let Some(with) = &self.with {
            write!(f, " WITH {with}")?;
        }
        if let Some(group_by) = &self.group_by {
            write!(f, " GROUP BY {group_by}")?;
        }
        if let Some(having) = &self.having {
            write!(f, " HAVING {having}")?;
        }
        if !self.order_by.is_empty() {
            f.write_str(" ORDER BY ")?;
            write_list(f, &self.order_by)?;
        }
        if let Some(limit) = self.limit {
            write!(f, " LIMIT {limit}")?;
        }
        if let Some(offset) = self.offset {
            write!(f, " OFFSET {offset}")?;
        }
        if let Some(for_clause) = self.for_clause {
            write!(f, " FOR {for_clause}")?;
        }
        Ok(())
    }
}
