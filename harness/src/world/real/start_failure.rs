//! Whose a failure to start a program is: the submission's when the command it names does
//! not exist, else the harness's own (its folders, its sandbox, the files of its output),
//! which a report never blames on the program (issue 50 §1).

use std::io;

/// Why a program could not be started when the cause is the submission's (the command it
/// names does not exist), not a step of the harness's own (its folders, its sandbox, the
/// files of its output): carried inside the `io::Error` that
/// [`super::process::ChildProcess::spawn`] returns, and told by [`is_the_programs`].
#[derive(Debug)]
struct ProgramsOwn(String);

impl std::fmt::Display for ProgramsOwn {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl std::error::Error for ProgramsOwn {}

/// `error`, marked as the program's own doing.
pub(super) fn programs_own(error: io::Error) -> io::Error {
    io::Error::new(error.kind(), ProgramsOwn(error.to_string()))
}

/// Whether a program could not be started because of what the submission names (its
/// command does not exist), rather than because a step of the harness's own failed.
pub fn is_the_programs(error: &io::Error) -> bool {
    error
        .get_ref()
        .is_some_and(|inner| inner.is::<ProgramsOwn>())
}
