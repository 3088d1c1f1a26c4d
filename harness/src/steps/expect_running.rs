//! `expect_running = "waiter"`: the program is still running after a while: it must not
//! give up, or claim success, too early (SPEC wait/1: it waits until the service is up;
//! wait/2: until its timeout).
//!
//! ```toml
//! [[step]]
//! expect_running = "waiter"
//! for_ms = 800
//! ```
//!
//! It fails as soon as the program ends, so only a program that ends too early waits less
//! than `for_ms` here.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::{LoadError, LoadInput, POLL, StepAction, StepContext, StepFuture, StepKind};
use crate::outcome::StepFailure;

pub(crate) const KIND: StepKind = StepKind {
    key: "expect_running",
    load,
    schema: super::schema_of::<RawExpectRunning>,
};

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawExpectRunning {
    expect_running: String,
    for_ms: u64,
}

#[derive(Debug)]
struct ExpectRunning {
    program: String,
    duration: Duration,
}

fn load(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let raw = RawExpectRunning::deserialize(input.table)?;
    if !(1..=60_000).contains(&raw.for_ms) {
        return Err("`for_ms` is 1 to 60000".into());
    }
    Ok(Arc::new(ExpectRunning {
        program: input.names.program(&raw.expect_running)?,
        duration: Duration::from_millis(raw.for_ms),
    }))
}

impl StepAction for ExpectRunning {
    fn describe(&self) -> String {
        format!(
            "{} is still running after {} ms",
            self.program,
            self.duration.as_millis()
        )
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        Box::pin(async move {
            let started = Instant::now();
            while started.elapsed() < self.duration {
                if context.has_exited(&self.program) {
                    return Err(StepFailure::fail(
                        format!(
                            "{} to keep running for {} ms",
                            self.program,
                            self.duration.as_millis()
                        ),
                        format!("it ended after {} ms", started.elapsed().as_millis()),
                    ));
                }
                tokio::time::sleep(POLL).await;
            }
            Ok(())
        })
    }
}
