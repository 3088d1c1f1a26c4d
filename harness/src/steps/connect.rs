//! `connect = "server"`: the harness connects to a program (or relay) as a client, sends
//! in the background, and keeps what comes back for later steps to check.
//!
//! ```toml
//! [[step]]
//! connect = "server"
//! as = "c1"
//! send = { file = "fixtures/payloads/text-20k.txt" }   # optional: nothing, to only open
//! slices = { size = [1, 3], gap_ms = [0, 2] }           # optional: how writes are cut
//! then = "write"          # after sending: half-close (default), "full", "reset", "keep"
//! read_slices = { size = 1, gap_ms = 5 }                # optional: a slow reader
//! family = "ipv6"         # optional: to the program at ::1 (real world)
//! ```
//!
//! `send` may name the harness's own servers (`{host:origin}`, `{port:origin}`): they are
//! filled in when the step runs.

use std::sync::Arc;

use serde::Deserialize;

use super::{LoadError, LoadInput, StepAction, StepContext, StepFuture, StepKind};
use crate::faults::SlicePlan;
use crate::payload::{Payload, PayloadSpec};
use crate::peers::client::ClientPlan;
use crate::peers::client::CloseHow;
use crate::world::sockets::Family;

pub(crate) const KIND: StepKind = StepKind {
    key: "connect",
    load,
    schema: super::schema_of::<RawConnect>,
};

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawConnect {
    connect: String,
    #[serde(rename = "as")]
    name: Option<String>,
    send: Option<PayloadSpec>,
    slices: Option<SlicePlan>,
    then: Option<CloseHow>,
    read_slices: Option<SlicePlan>,
    family: Option<Family>,
}

#[derive(Debug)]
struct Connect {
    endpoint: String,
    plan: ClientPlan,
    family: Family,
}

fn load(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let raw = RawConnect::deserialize(input.table)?;
    let names = input.names;
    let endpoint = names.listener(&raw.connect)?;
    let name = raw
        .name
        .ok_or("`connect` needs `as = NAME` to name the connection")?;
    names.fresh(&name)?;
    names.peers.insert(name.clone());
    let send = match raw.send {
        Some(spec) => spec.resolve(input.kit_root)?,
        None => Payload::empty(),
    };
    for (_, target) in crate::payload::placeholders(&send) {
        if target != "unused" {
            names.client_target(&target)?;
        }
    }
    let then = raw.then.unwrap_or(CloseHow::Write);
    if then == CloseHow::Keep {
        names.kept.insert(name.clone());
    }
    Ok(Arc::new(Connect {
        endpoint,
        plan: ClientPlan {
            name,
            send,
            slices: super::checked_plan(raw.slices)?,
            then,
            read_slices: super::checked_plan(raw.read_slices)?,
        },
        family: raw.family.unwrap_or_default(),
    }))
}

impl StepAction for Connect {
    fn describe(&self) -> String {
        let Connect {
            endpoint, family, ..
        } = self;
        let ClientPlan {
            name,
            send,
            slices,
            then,
            ..
        } = &self.plan;
        let over = match family {
            Family::Ipv4 => "",
            Family::Ipv6 => " over IPv6",
        };
        if send.is_empty() && *then == CloseHow::Keep {
            return format!("connect to {endpoint}{over} as {name} and keep the connection open");
        }
        format!(
            "connect to {endpoint}{over} as {name}, send {} in {}, then {}",
            // Addresses in it are filled in when it runs: its size is not known yet.
            if crate::payload::placeholders(send).is_empty() {
                send.describe()
            } else {
                "a request naming addresses known when it runs".to_owned()
            },
            slices.describe(),
            match then {
                CloseHow::Write => "half-close",
                CloseHow::Full => "close",
                CloseHow::Reset => "reset",
                CloseHow::Keep => "keep open",
            }
        )
    }

    fn unplayable(&self, _settings: &crate::settings::RunSettings) -> Option<String> {
        (self.family == Family::Ipv6)
            .then(crate::world::sockets::ipv6_refused)
            .flatten()
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        context.connect(&self.endpoint, &self.plan, self.family)
    }
}
