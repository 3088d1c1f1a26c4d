//! What the user sees: the terminal report, and the byte diffs it shows.

pub mod diff;
pub mod terminal;

pub use terminal::{Style, TerminalReport};
