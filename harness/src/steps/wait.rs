//! `wait = "c1"`: waits until a harness connection has sent everything it was given.
//!
//! ```toml
//! [[step]]
//! wait = "c1"
//! within_ms = 5000   # optional
//! ```

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::{LoadError, LoadInput, StepAction, StepContext, StepFuture, StepKind};

pub(crate) const KIND: StepKind = StepKind {
    key: "wait",
    load,
    schema: super::schema_of::<RawWait>,
};

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawWait {
    wait: String,
    within_ms: Option<u64>,
}

#[derive(Debug)]
struct Wait {
    peer: String,
    within: Duration,
}

fn load(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let raw = RawWait::deserialize(input.table)?;
    Ok(Arc::new(Wait {
        peer: input.names.peer(&raw.wait)?,
        within: super::within(raw.within_ms),
    }))
}

impl StepAction for Wait {
    fn describe(&self) -> String {
        format!("wait until {} has sent everything", self.peer)
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        context.wait_sent(&self.peer, self.within)
    }
}
