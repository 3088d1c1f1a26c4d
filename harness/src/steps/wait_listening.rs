//! `wait_listening = "server"`: waits until a program listens on its port (TCP) or has
//! bound it (UDP), read from `/proc` without a probe connection, so the program's first
//! client is the scenario's own.
//!
//! ```toml
//! [[step]]
//! wait_listening = "server"
//! within_ms = 15000         # optional; the default
//! ```
//!
//! The default is longer than other steps' (15 s, not 5): a program's start-up is the
//! machine's speed, not the program's merit. An interpreter or a JVM starting on a loaded
//! grading machine took more than 5 s in the kit's soak test (two busy loops on both
//! cores), and a correct program must not fail for it. A program that exits instead of
//! listening ends the wait at once.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::{LoadError, LoadInput, StepAction, StepContext, StepFuture, StepKind};

pub(crate) const KIND: StepKind = StepKind {
    key: "wait_listening",
    load,
    schema: super::schema_of::<RawWaitListening>,
};

/// How long a program may take to listen when the scenario does not say.
const DEFAULT_WITHIN_MS: u64 = 15_000;

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawWaitListening {
    wait_listening: String,
    within_ms: Option<u64>,
}

#[derive(Debug)]
struct WaitListening {
    program: String,
    within: Duration,
}

fn load(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let raw = RawWaitListening::deserialize(input.table)?;
    Ok(Arc::new(WaitListening {
        program: input.names.program(&raw.wait_listening)?,
        within: Duration::from_millis(raw.within_ms.unwrap_or(DEFAULT_WITHIN_MS)),
    }))
}

impl StepAction for WaitListening {
    fn describe(&self) -> String {
        format!("wait until {} listens", self.program)
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        context.wait_listening(&self.program, self.within)
    }
}
