//! The MySQL pack's embedded SQL engine: what plays a scenario's MySQL server where no
//! MariaDB is installed (the harness's `protocols/mysql`, which speaks the protocol and
//! judges, asks it; `--mysql embedded` insists on it).
//!
//! | module | what |
//! |---|---|
//! | [`SqlEngine`] (`engine.rs`) | databases of gluesql's memory storage; MySQL's own statements answered, the rest run by gluesql, errors given MySQL's codes |
//! | [`dialect`] | a statement's literals, placeholders and identifiers; MySQL's spelling rewritten into gluesql's |
//! | `create_table.rs` | `CREATE TABLE` read into columns and keys, and rewritten |
//! | `insert.rs` | MySQL's `INSERT` forms gluesql lacks (`AUTO_INCREMENT`, `IGNORE`, `ON DUPLICATE KEY UPDATE`, `REPLACE`) |
//!
//! It knows nothing of the harness (no network, no scenario): a crate of its own, so that
//! the compiler keeps that boundary, and so that it compiles beside the harness.

#![forbid(unsafe_code)]

mod create_table;
pub mod dialect;
mod engine;
mod insert;

pub use engine::{SqlEngine, SqlError, SqlOutcome, SqlRows, SqlSnapshot};
