//! `say = "c1"`: the next turn of a conversation, sent on a connection that a `connect`
//! step kept open (`then = "keep"`).
//!
//! ```toml
//! [[step]]
//! say = "c1"
//! send = { text = "1 + 2\n" }
//! slices = { size = 1, gap_ms = 2 }   # optional: one byte per segment
//! within_ms = 20000                    # optional: the program must take it all by then
//! ```
//!
//! A big turn (megabytes) only leaves as fast as the program reads it: `within_ms` turns
//! a program that stopped reading into a failure of this step, with its reason.

use std::sync::Arc;

use serde::Deserialize;

use super::{LoadError, LoadInput, StepAction, StepContext, StepFuture, StepKind};
use crate::faults::SlicePlan;
use crate::payload::{Payload, PayloadSpec};

pub(crate) const KIND: StepKind = StepKind {
    key: "say",
    load,
    schema: super::schema_of::<RawSay>,
};

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawSay {
    say: String,
    send: PayloadSpec,
    slices: Option<SlicePlan>,
    within_ms: Option<u64>,
}

#[derive(Debug)]
struct Say {
    connection: String,
    send: Payload,
    slices: SlicePlan,
    within: Option<std::time::Duration>,
}

fn load(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let raw = RawSay::deserialize(input.table)?;
    input.names.peer(&raw.say)?;
    if !input.names.kept.contains(&raw.say) {
        return Err(format!(
            "`say` sends on a connection kept open: give `{}`'s `connect` step `then = \"keep\"` (and close it before only at the end)",
            raw.say
        )
        .into());
    }
    let slices = raw.slices.unwrap_or(SlicePlan::WHOLE);
    slices.validate()?;
    Ok(Arc::new(Say {
        connection: raw.say,
        send: raw.send.resolve(input.kit_root)?,
        slices,
        within: raw.within_ms.map(std::time::Duration::from_millis),
    }))
}

/// A conversation's turn as the log shows it: short text quoted (`"6 * 7\n"`), anything
/// else described (`1048576 bytes of generated text`).
fn shown(payload: &Payload) -> String {
    const QUOTED: u64 = 60;
    if payload.len() <= QUOTED {
        let mut bytes = vec![0; payload.len() as usize];
        if let Ok(filled) = payload.read_at(0, &mut bytes)
            && let Ok(text) = std::str::from_utf8(&bytes[..filled])
        {
            return format!("{text:?}");
        }
    }
    payload.describe()
}

impl StepAction for Say {
    fn describe(&self) -> String {
        let cut = if self.slices.is_sliced() {
            format!(", {}", self.slices.describe())
        } else {
            String::new()
        };
        let within = match self.within {
            Some(within) => format!(" (taken within {} ms)", within.as_millis()),
            None => String::new(),
        };
        format!(
            "{} sends {}{cut}{within}",
            self.connection,
            shown(&self.send)
        )
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        let Some(within) = self.within else {
            return context.send_on(&self.connection, &self.send, &self.slices);
        };
        Box::pin(async move {
            let sending = context.send_on(&self.connection, &self.send, &self.slices);
            match tokio::time::timeout(within, sending).await {
                Ok(sent) => sent,
                Err(_) => Err(crate::outcome::StepFailure::fail(
                    format!(
                        "{} to send {} within {} ms",
                        self.connection,
                        self.send.describe(),
                        within.as_millis()
                    ),
                    "the program had not taken it all: it stopped reading this connection, or reads it far too slowly (a program that copies everything it holds for each piece it receives takes minutes over megabytes)"
                        .to_owned(),
                )),
            }
        })
    }
}
