//! Seeding placeholder
