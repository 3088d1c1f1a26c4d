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
//!
//! With `from_first_connect = true`, `for_ms` counts from the program's first connection
//! attempt (the first SYN of the scenario's own network namespace, `ActiveOpens`), not from
//! the step's start: on a loaded machine an interpreter may take most of a second to start,
//! and a program that tries once and gives up would then still be running at 0.7 s by
//! luck. Where the scenario has no namespace of its own (the simulated world, where nothing
//! is slow to start, or a shared loopback) the clock starts with the step.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::{LoadError, LoadInput, POLL, StepAction, StepContext, StepFuture, StepKind};
use crate::outcome::{StepFailure, harness_trouble};

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
    /// Count `for_ms` from the program's first connection attempt.
    #[serde(default)]
    from_first_connect: bool,
}

#[derive(Debug)]
struct ExpectRunning {
    program: String,
    duration: Duration,
    from_first_connect: bool,
}

/// How long a program has to make its first connection attempt (an interpreter or a JVM
/// starting on a loaded machine).
const FIRST_CONNECT_WITHIN: Duration = Duration::from_secs(15);

fn load(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let raw = RawExpectRunning::deserialize(input.table)?;
    if !(1..=60_000).contains(&raw.for_ms) {
        return Err("`for_ms` is 1 to 60000".into());
    }
    Ok(Arc::new(ExpectRunning {
        program: input.names.program(&raw.expect_running)?,
        duration: Duration::from_millis(raw.for_ms),
        from_first_connect: raw.from_first_connect,
    }))
}

impl StepAction for ExpectRunning {
    fn describe(&self) -> String {
        format!(
            "{} is still running after {} ms{}",
            self.program,
            self.duration.as_millis(),
            if self.from_first_connect {
                " from its first connection attempt"
            } else {
                ""
            }
        )
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        Box::pin(async move {
            if self.from_first_connect && context.own_network() {
                self.wait_for_first_connect(context).await?;
            }
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

impl ExpectRunning {
    /// Waits until the scenario's network has seen a connection attempt (one made before
    /// the step counts: the program is up), failing if the program ends first.
    async fn wait_for_first_connect(
        &self,
        context: &mut (dyn StepContext + Send),
    ) -> Result<(), StepFailure> {
        let asked = Instant::now();
        loop {
            let attempts = super::expect_connect_rate::active_opens().map_err(harness_trouble)?;
            if attempts > 0 {
                context.note(format!(
                    "{} tried to connect after {} ms: counting from there",
                    self.program,
                    asked.elapsed().as_millis()
                ));
                return Ok(());
            }
            if context.has_exited(&self.program) {
                return Err(StepFailure::fail(
                    format!("{} to try to connect, and keep trying", self.program),
                    "it ended without trying to connect".to_owned(),
                ));
            }
            if asked.elapsed() >= FIRST_CONNECT_WITHIN {
                return Err(StepFailure::fail(
                    format!("{} to try to connect", self.program),
                    format!(
                        "no connection attempt in {} s",
                        FIRST_CONNECT_WITHIN.as_secs()
                    ),
                ));
            }
            tokio::time::sleep(POLL).await;
        }
    }
}
