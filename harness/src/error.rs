//! The harness's one error type: what went wrong and where.

use std::path::PathBuf;

/// An error that stops the harness before or outside grading (exit status 2).
///
/// Problems of the graded program are never errors: they are verdicts.
///
/// What an error quotes (a path, a submission's manifest text, a command line) may hold a
/// submission's bytes: its message shows them escaped ([`crate::escape`]), so that printing
/// it puts no raw control character on the grader's terminal and forges no line. Only
/// [`Error::Many`] and a failed build's output span several lines.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file the user gave us is wrong: `file:line: reason`.
    #[error("{}:{line}: {}", shown(&path.display().to_string()), shown(reason))]
    BadFile {
        /// The file.
        path: PathBuf,
        /// The 1-based line the reason is about.
        line: usize,
        /// What is wrong there.
        reason: String,
    },
    /// Several bad files at once (every one is reported, not just the first).
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Many(Vec<Error>),
    /// The command line asks for something impossible.
    #[error("{}", shown(.0))]
    Usage(String),
    /// An operating-system operation failed.
    #[error("{}: {}", shown(context), shown(&source.to_string()))]
    Io {
        /// What the harness was doing (`cannot read scenarios/message/01.toml`).
        context: String,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// Building the reference binaries failed.
    #[error("cannot build the reference: {}", crate::escape::escaped_lines(.0))]
    Build(String),
}

/// Text an error quotes, on one line with its control characters escaped.
fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    crate::escape::escaped(text)
}

impl Error {
    /// Wraps an I/O error with what we were doing.
    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let context = context.into();
        move |source| Error::Io { context, source }
    }
}

impl From<crate::report::Error> for Error {
    /// A report's error in the harness's words (the same ones).
    fn from(error: crate::report::Error) -> Error {
        match error {
            crate::report::Error::BadFile { path, line, reason } => {
                Error::BadFile { path, line, reason }
            }
            crate::report::Error::Io { context, source } => Error::Io { context, source },
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_an_error_quotes_is_shown_escaped_on_its_line() {
        let bad = Error::BadFile {
            path: PathBuf::from("/subs/alice\u{1b}[2J/submission.toml"),
            line: 3,
            reason: "`python3 'x\u{1b}]52;c;cm0=\u{7}\n19 passed, 0 failed'` names no file".into(),
        };
        assert_eq!(
            bad.to_string(),
            "/subs/alice\\x1b[2J/submission.toml:3: `python3 'x\\x1b]52;c;cm0=\\x07\\n19 passed, 0 failed'` names no file"
        );
        // Several errors keep their own lines, and only those.
        let many = Error::Many(vec![bad, Error::Usage("target `\r\u{202e}`".into())]);
        let text = many.to_string();
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.ends_with("target `\\r\\u{202e}`"), "{text}");
    }
}
