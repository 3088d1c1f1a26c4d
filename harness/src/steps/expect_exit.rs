//! `expect_exit = "client"`: the program ends, with the status the scenario expects.
//!
//! ```toml
//! [[step]]
//! expect_exit = "client"
//! success = true            # or false (any failure, a signal included), or code = 2,
//!                           # or any_status = true (either, but by itself, no signal)
//! within_ms = 5000          # optional
//! ```

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
    within_ms: Option<u64>,
}

#[derive(Debug)]
struct ExpectExit {
    program: String,
    expected: ExitExpectation,
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
    Ok(Arc::new(ExpectExit {
        program: input.names.program(&raw.expect_exit)?,
        expected,
        within: super::within(raw.within_ms),
    }))
}

impl StepAction for ExpectExit {
    fn describe(&self) -> String {
        format!("check {}'s exit status", self.program)
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        context.expect_exit(&self.program, self.expected, self.within)
    }
}
