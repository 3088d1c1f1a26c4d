//! The outcome model (`run_record::outcome`: what one scenario run produced, as every
//! reporter, the event stream and the grading read it), and what the engine's steps return
//! while they fill it in (`StepFailure`).

pub use run_record::outcome::*;

/// Why a step did not hold.
#[derive(Debug)]
pub(crate) struct StepFailure {
    pub(crate) status: Status,
    pub(crate) expected: String,
    pub(crate) seen: String,
    pub(crate) diff: Option<String>,
}

impl StepFailure {
    pub(crate) fn fail(expected: impl Into<String>, seen: impl Into<String>) -> StepFailure {
        StepFailure {
            status: Status::Fail,
            expected: expected.into(),
            seen: seen.into(),
            diff: None,
        }
    }

    /// The step cannot be played on this machine (no browser, no network namespace): the
    /// scenario is not run here, counted neither for nor against the submission.
    pub(crate) fn not_run_here(expected: impl Into<String>, why: impl Into<String>) -> StepFailure {
        StepFailure {
            status: Status::Skipped,
            expected: expected.into(),
            seen: why.into(),
            diff: None,
        }
    }
}

/// What a step returns: its value, or why it did not hold.
pub(crate) type StepResult<T = ()> = Result<T, StepFailure>;

/// A failure of the harness itself during a step (a port it could not get).
pub(crate) fn harness_trouble(message: String) -> StepFailure {
    StepFailure {
        status: Status::Error,
        expected: "the harness to set up this step".into(),
        seen: message,
        diff: None,
    }
}
