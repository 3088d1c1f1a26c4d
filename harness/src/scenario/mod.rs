//! What to check: scenario files and selection.
//!
//! A scenario is one behaviour of one task, checked by an ordered list of steps, citing
//! the SPEC clauses it checks. Files live in `scenarios/<task>/<name>.toml`; the id of a
//! scenario is `<task>/<name>`.

mod adapt;
mod given_file;
mod given_values;
mod loader;
mod model;
mod outcomes;
mod schema;
mod select;

pub use adapt::adapted;
pub use given_file::GivenFile;
pub use given_values::scenario_values;
pub use loader::{Suite, load_suite};
pub use model::{DirTree, Scenario, Step};
pub use outcomes::ScenarioOutcome;
pub use schema::{scenario_schema, scenario_schema_text};
pub use select::Selection;
