//! `expect_exit = "client"`: the program ends, with the status the scenario expects.
//!
//! ```toml
//! [[step]]
//! expect_exit = "client"
//! success = true            # or false (any failure, a signal included), or code = 2,
//!                           # or any_status = true (either, but by itself, no signal)
//! crash = false             # an error the program must report: not a crash either
//! within_ms = 5000          # optional
//! ```
//!
//! `crash = false` is SPEC's rule for errors (its conventions: an error is a message,
//! never a crash), one for every task and language: an exit that may be a failure
//! (`success = false`, `code`, `any_status`) must not be a death by a signal, nor end with
//! an uncaught exception, a stack trace or a panic on stderr (`run_record::crash`). The
//! failure's cause names the crash in the language's words, then the last words of stderr
//! (`client crashed: Python raised ConnectionRefusedError (uncaught), not an error message;
//! its stderr ends with: ...`). Every scenario whose program must report an error says it.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::{LoadError, LoadInput, StepAction, StepContext, StepFuture, StepKind};
use crate::judge::exit::ExitExpectation;

pub(crate) const KIND: StepKind = StepKind {
    key: "expect_exit",
    load,
    schema: super::schema_of::<RawExpectExit>,
};

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawExpectExit {
    expect_exit: String,
    code: Option<i32>,
    success: Option<bool>,
    #[serde(default)]
    any_status: bool,
    /// `false`: the exit is an error the program reports, never a crash (SPEC, conventions).
    crash: Option<bool>,
    within_ms: Option<u64>,
}

#[derive(Debug)]
struct ExpectExit {
    program: String,
    expected: ExitExpectation,
    /// Whether a crash fails the step (`crash = false`).
    refuse_crash: bool,
    within: Duration,
}

fn load(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let raw = RawExpectExit::deserialize(input.table)?;
    let expected = match (raw.code, raw.success, raw.any_status) {
        (Some(code), None, false) => ExitExpectation::Code(code),
        (None, Some(true), false) => ExitExpectation::Success,
        (None, Some(false), false) => ExitExpectation::Failure,
        (None, None, true) => ExitExpectation::Ended,
        (None, None, false) => {
            return Err(
                "`expect_exit` needs `code = N`, `success = true/false` or `any_status = true`"
                    .into(),
            );
        }
        _ => {
            return Err("`expect_exit` takes one of `code`, `success`, `any_status`".into());
        }
    };
    let refuse_crash = match (raw.crash, expected) {
        (None, _) => false,
        (Some(true), _) => {
            return Err(
                "`crash = true` is not something to expect: write `crash = false` (an error the program reports, never a crash) or leave it out"
                    .into(),
            );
        }
        (Some(false), ExitExpectation::Success) => {
            return Err(
                "`crash = false` goes with an exit that may be a failure (`success = false`, `code = N`, `any_status = true`): status 0 is no crash"
                    .into(),
            );
        }
        (Some(false), _) => true,
    };
    Ok(Arc::new(ExpectExit {
        program: input.names.program(&raw.expect_exit)?,
        expected,
        refuse_crash,
        within: super::within(raw.within_ms),
    }))
}

impl StepAction for ExpectExit {
    fn describe(&self) -> String {
        if self.refuse_crash {
            format!(
                "check {}'s exit status, and that it did not crash",
                self.program
            )
        } else {
            format!("check {}'s exit status", self.program)
        }
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        Box::pin(async move {
            context
                .expect_exit(&self.program, self.expected, self.within)
                .await?;
            if self.refuse_crash {
                context.refuse_crash(&self.program).await?;
            }
            Ok(())
        })
    }
}
