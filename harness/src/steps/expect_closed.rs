//! `expect_closed = "c1"`: the program ends a harness connection (a clean close or a
//! reset both count) within the deadline. A forwarder whose remote is down must not leave
//! its client waiting on an open connection (SPEC fwd/2).
//!
//! ```toml
//! [[step]]
//! expect_closed = "c1"
//! within_ms = 5000      # optional
//! ```
//!
//! It passes as soon as the connection ends: only a program that keeps it open waits out
//! the deadline.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::{Deadline, LoadError, LoadInput, POLL, StepAction, StepContext, StepFuture, StepKind};
use crate::outcome::StepFailure;

pub(crate) const KIND: StepKind = StepKind {
    key: "expect_closed",
    load,
    schema: super::schema_of::<RawExpectClosed>,
};

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawExpectClosed {
    expect_closed: String,
    within_ms: Option<u64>,
}

#[derive(Debug)]
struct ExpectClosed {
    connection: String,
    within: Duration,
}

fn load(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let raw = RawExpectClosed::deserialize(input.table)?;
    Ok(Arc::new(ExpectClosed {
        connection: input.names.peer(&raw.expect_closed)?,
        within: super::within(raw.within_ms),
    }))
}

impl StepAction for ExpectClosed {
    fn describe(&self) -> String {
        format!("{}'s connection is closed by the program", self.connection)
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        Box::pin(async move {
            let mut deadline = Deadline::start(&*context, self.within);
            loop {
                let view = context.read_stream(&self.connection, 0, 0);
                if let Some(reason) = view.ended {
                    context.note(format!("{}: {reason}", self.connection));
                    return Ok(());
                }
                let expected = || {
                    format!(
                        "the program to close {}'s connection within {} ms",
                        self.connection,
                        self.within.as_millis()
                    )
                };
                // Nothing can close it, unless an alarm kills the program.
                if let Some(still) = view
                    .still
                    .filter(|_| !crate::world::real::blocked::alarm_may_be_set())
                {
                    return Err(StepFailure::fail(
                        expected(),
                        format!("it is still open, and nothing can close it any more ({still})"),
                    ));
                }
                if deadline.passed(&*context) {
                    return Err(StepFailure::fail(
                        expected(),
                        "it was still open: the client would wait forever".to_owned(),
                    ));
                }
                tokio::time::sleep(POLL).await;
            }
        })
    }
}
