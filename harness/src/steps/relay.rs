//! `relay = "server"`: a recording relay in front of a program. A client started `to` the
//! relay goes through it; what passes is recorded, and can be cut into slices on the way.
//!
//! ```toml
//! [[step]]
//! relay = "server"
//! as = "relay"
//! slices = { size = [1, 3], gap_ms = [0, 2] }        # optional: towards the program
//! reply_slices = { size = [1, 3], gap_ms = [2, 4] }  # optional: its answers, back
//! ```

use std::sync::Arc;

use serde::Deserialize;

use super::{LoadError, LoadInput, StepAction, StepContext, StepFuture, StepKind};
use crate::faults::SlicePlan;

pub(crate) const KIND: StepKind = StepKind {
    key: "relay",
    load,
    schema: super::schema_of::<RawRelay>,
};

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawRelay {
    relay: String,
    #[serde(rename = "as")]
    name: Option<String>,
    slices: Option<SlicePlan>,
    reply_slices: Option<SlicePlan>,
}

#[derive(Debug)]
struct Relay {
    endpoint: String,
    name: String,
    slices: SlicePlan,
    reply_slices: SlicePlan,
}

fn load(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let raw = RawRelay::deserialize(input.table)?;
    let endpoint = input.names.program(&raw.relay)?;
    let name = raw
        .name
        .ok_or("`relay` needs `as = NAME` to name the relay")?;
    input.names.fresh(&name)?;
    input.names.relays.insert(name.clone());
    Ok(Arc::new(Relay {
        endpoint,
        name,
        slices: super::checked_plan(raw.slices)?,
        reply_slices: super::checked_plan(raw.reply_slices)?,
    }))
}

impl StepAction for Relay {
    fn describe(&self) -> String {
        let mut text = format!(
            "relay {} in front of {}, forwarding in {}",
            self.name,
            self.endpoint,
            self.slices.describe()
        );
        if self.reply_slices.is_sliced() {
            text += &format!(", answers back in {}", self.reply_slices.describe());
        }
        text
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        context.start_relay(&self.name, &self.endpoint, (self.slices, self.reply_slices))
    }
}
