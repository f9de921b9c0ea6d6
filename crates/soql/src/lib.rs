//! SOQL, the one query language inside Rapport: a lexer and recursive-descent parser that
//! turn query text into a [`Query`] with source positions, and a printer that writes a query
//! back in canonical form. Pure: no SQL, no IO. Never panics on any input; errors carry the
//! row and column where the query went wrong.
#![forbid(unsafe_code)]

pub mod ast;
mod lexer;
mod parser;
mod printer;
mod sosl;
#[cfg(test)]
mod tests;

pub use ast::*;
pub use parser::{ParseError, parse};
pub use printer::quote_string;
pub use sosl::{Search, SearchScope, SearchTerm, parse_search};
