//! The database. SQLite (embedded default) and PostgreSQL behind one interface; the only crate
//! that speaks SQL. Statements are built with [`sql::Sql`], every value bound.
#![forbid(unsafe_code)]

pub mod auth;
pub mod bench;
pub mod ddl;
pub mod lead_map;
pub mod lease;
pub mod metadata;
pub mod migrate;
pub mod plan;
pub mod query;
pub mod recent;
pub mod records;
pub mod search;
pub mod sessions;
pub mod shares;
pub mod sql;
pub mod views;

mod backend;
mod error;
pub mod ids;
mod pipeline;
mod tally;

pub use backend::{Store, Tx, redact_url, split_password};
pub use error::StoreError;
pub use plan::{Filter, Op, Select};
pub use sql::{Col, Dialect, Param, Sql};

/// Shorthand for results of this crate.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
