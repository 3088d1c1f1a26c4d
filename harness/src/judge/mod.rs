//! Judges: the comparisons a step makes between what was expected and what came, below
//! the engine that runs the steps. Each says whether an expectation holds, may still hold
//! (more output may come), or does not hold (a failure with what was expected and what came).
//! A protocol's own judges (HTTP responses, mail, ping reports) live in its pack
//! (`crate::protocols`), above these.

pub mod after_label;
pub(crate) mod bytes;
pub mod clear_text;
// The diffs that show a mismatch are shared with the reports (`run_record::diff`).
pub use run_record::diff;
pub mod exit;
pub(crate) mod line;
pub(crate) mod output;
pub mod whole_match;
