//! A program's exit: what a step expects of it, and whether it came.

use crate::world::real::process::ExitKind;

/// What a program's exit must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitExpectation {
    /// This exact status.
    Code(i32),
    /// Status 0.
    Success,
    /// Anything but status 0 (a non-zero status, or death by a signal).
    Failure,
    /// Any status, as long as it ends by itself (not by a signal): a step whose outcome
    /// may be either, judged by what else it did (a second run that fails cleanly or
    /// changes nothing).
    Ended,
}

impl ExitExpectation {
    /// What is wanted of the program `name`, for the report.
    pub fn wanted(self, name: &str) -> String {
        match self {
            ExitExpectation::Code(code) => format!("{name} to exit with status {code}"),
            ExitExpectation::Success => format!("{name} to exit with status 0"),
            ExitExpectation::Failure => format!("{name} to exit with a non-zero status"),
            ExitExpectation::Ended => format!("{name} to exit by itself, with either status"),
        }
    }

    /// Whether an exit of this kind meets it.
    pub fn holds(self, kind: ExitKind) -> bool {
        match (self, kind) {
            (ExitExpectation::Code(code), ExitKind::Code(actual)) => code == actual,
            (ExitExpectation::Success, ExitKind::Code(actual)) => actual == 0,
            (ExitExpectation::Failure, ExitKind::Code(actual)) => actual != 0,
            (ExitExpectation::Failure, ExitKind::Signal(_)) => true,
            (ExitExpectation::Ended, ExitKind::Code(_)) => true,
            (_, ExitKind::Signal(_)) => false,
        }
    }
}
