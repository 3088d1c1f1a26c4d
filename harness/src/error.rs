//! The harness's one error type: what went wrong and where.

use std::path::PathBuf;

/// An error that stops the harness before or outside grading (exit status 2).
///
/// Problems of the graded program are never errors: they are verdicts.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file the user gave us is wrong: `file:line: reason`.
    #[error("{}:{line}: {reason}", path.display())]
    BadFile {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    /// Several bad files at once (every one is reported, not just the first).
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Many(Vec<Error>),
    /// The command line asks for something impossible.
    #[error("{0}")]
    Usage(String),
    /// An operating-system operation failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    /// Building the reference binaries failed.
    #[error("cannot build the reference: {0}")]
    Build(String),
}

impl Error {
    /// Wraps an I/O error with what we were doing.
    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let context = context.into();
        move |source| Error::Io { context, source }
    }
}

/// Result with the harness's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// 1-based line of a byte offset.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|byte| *byte == b'\n')
        .count()
        + 1
}
