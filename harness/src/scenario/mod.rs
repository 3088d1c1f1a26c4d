//! What to check: scenario files, the task catalogue, and selection.
//!
//! A scenario is one behaviour of one task, checked by an ordered list of steps, citing
//! the SPEC clauses it checks. Files live in `scenarios/<task>/<name>.toml`; the id of a
//! scenario is `<task>/<name>`. The catalogue `scenarios/tasks.toml` names every task's
//! roles and their canonical command lines.

mod catalogue;
mod loader;
mod model;
mod schema;
mod select;

pub use catalogue::{Catalogue, TaskInfo};
pub use loader::{Suite, load_suite};
pub use model::{
    Category, CloseHow, Endpoint, ExitExpectation, OutputExpectation, OutputStream, PortChoice,
    Scenario, Step, Visibility,
};
pub use schema::{scenario_schema, scenario_schema_text};
pub use select::Selection;

/// 1-based line of a byte offset.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|byte| *byte == b'\n')
        .count()
        + 1
}
