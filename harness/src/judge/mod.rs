//! Judges: the comparisons a step makes between what was expected and what came, below
//! the engine that runs the steps. Each says whether an expectation holds, may still hold
//! (more output may come), or does not hold (a failure with what was expected and what came).

pub mod after_label;
pub(crate) mod bytes;
pub mod clear_text;
pub mod diff;
pub mod exit;
pub mod http;
pub(crate) mod line;
pub mod mail;
pub(crate) mod output;
pub mod ping_report;
pub mod whole_match;
