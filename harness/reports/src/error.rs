//! The reports' one error type: a recording that cannot be read, a report that cannot be
//! written. The harness turns it into its own (`harness::Error`), with the same words.

use std::path::PathBuf;

use run_record::escape::escaped;

/// An error reading a recorded run or writing a report.
///
/// What it quotes (a path, a line of a recording) may hold a submission's bytes: its
/// message shows them escaped (`run_record::escape`), so that printing it puts no raw
/// control character on the grader's terminal and forges no line.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A recording is wrong: `file:line: reason`.
    #[error("{}:{line}: {}", escaped(&path.display().to_string()), escaped(reason))]
    BadFile {
        /// The recording.
        path: PathBuf,
        /// The 1-based line the reason is about.
        line: usize,
        /// What is wrong there.
        reason: String,
    },
    /// An operating-system operation failed.
    #[error("{}: {}", escaped(context), escaped(&source.to_string()))]
    Io {
        /// What the reports were doing (`cannot write report.json`).
        context: String,
        /// What the operating system said.
        source: std::io::Error,
    },
}

impl Error {
    /// Wraps an I/O error with what we were doing.
    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let context = context.into();
        move |source| Error::Io { context, source }
    }
}

/// Result with the reports' error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
