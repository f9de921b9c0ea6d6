//! The integration suite: one test binary (each file in `tests/` would be another binary to
//! link). Every scenario runs on SQLite and, when `RAPPORT_TEST_PG` is set, on PostgreSQL,
//! each test in a database of its own.
#![allow(clippy::unwrap_used)]

mod support;

mod browser;
mod clients;
mod conformance;
mod convert;
mod custom;
mod forecast;
mod mass;
mod pipeline;
mod processes;
mod products;
mod query;
mod records;
mod recycle;
mod rest;
mod rest_sharing;
mod search;
mod security;
mod setup;
mod shares;
mod tally;
mod web_sessions;
mod webdriver;
