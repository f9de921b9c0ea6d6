//! Bench placeholder
