//! `wait_listening = "server"`: waits until a program listens on its port (TCP) or has
//! bound it (UDP), read from `/proc` without a probe connection, so the program's first
//! client is the scenario's own.
//!
//! ```toml
//! [[step]]
//! wait_listening = "server"
//! within_ms = 5000          # optional
//! ```

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::{LoadError, LoadInput, StepAction, StepContext, StepFuture, StepKind};

pub(crate) const KIND: StepKind = StepKind {
    key: "wait_listening",
    load,
};

#[derive(Deserialize)]
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
        within: super::within(raw.within_ms),
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
