//! `request = "server"`: the harness as a client of a protocol pack (`crate::protocols`),
//! sending one request to a program and judging its answer: `xmlrpc = { ... }` (the
//! XML-RPC pack) says what to send and what must come back. `resume = NAME` finishes a
//! request that was paused.
//!
//! ```toml
//! [[step]]
//! request = "server"
//! as = "c1"
//! xmlrpc = { call = "add", params = [2, 3], returns = 5 }
//! within_ms = 2000          # optional: the answer, counted from the connection
//! pause = "mid-request"     # optional: send the head and half the body, and hold the rest
//!                           #   ("before-answer": send it all, judge the answer later)
//!
//! [[step]]
//! resume = "c1"             # the rest of the request, if held, then the answer judged
//! within_ms = 3000
//! since = "c0"              # optional: the deadline counted from c0's connection
//! ```
//!
//! The request goes on an ordinary harness connection (kept open, as a real client
//! does): the transcript, the capture and the "every program is blocked for good" rule
//! are the ones every connection has. A server that serves one client at a time, holding
//! a request half-sent, is seen waiting in `recv` at once.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::{LoadError, LoadInput, StepAction, StepContext, StepFuture, StepKind};
use crate::faults::SlicePlan;
use crate::judge::output::OutputExpectation;
use crate::payload::Payload;
use crate::peers::client::{ClientPlan, CloseHow};
use crate::protocols::OptionsInput;
use crate::requests::Watched;
use crate::world::sockets::Family;

pub(crate) const REQUEST: StepKind = StepKind {
    key: "request",
    load,
    schema: request_shape,
};

pub(crate) const RESUME: StepKind = StepKind {
    key: "resume",
    load: load_resume,
    schema: super::schema_of::<RawResume>,
};

// The step's own keys; a pack's key (`xmlrpc`) is read by its pack (`split_off`).
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawRequest {
    request: String,
    #[serde(rename = "as")]
    name: Option<String>,
    pause: Option<Pause>,
    within_ms: Option<u64>,
    slices: Option<SlicePlan>,
}

/// Where a request stops until its `resume` step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
enum Pause {
    /// The head and half the body sent, the rest held.
    MidRequest,
    /// All of it sent; the answer judged at `resume`.
    BeforeAnswer,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawResume {
    resume: String,
    within_ms: Option<u64>,
    since: Option<String>,
}

/// [`RawRequest`]'s schema, with every client pack's options under its key.
fn request_shape(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let shape = super::schema_of::<RawRequest>(generator);
    let packs: Vec<(&str, serde_json::Value)> = crate::protocols::clients()
        .map(|(_, client)| (client.key, (client.schema)(generator).to_value()))
        .collect();
    super::with_pack_options(generator, shape, "RawRequest", packs)
}

/// A request paused by its `request` step, for its `resume` step.
#[derive(Debug, Clone)]
pub(crate) struct Paused {
    /// What is still to send.
    rest: Option<Payload>,
    /// The judge of the answer.
    answer: OutputExpectation,
    /// The request in words.
    describe: String,
}

#[derive(Debug)]
struct Request {
    endpoint: String,
    plan: ClientPlan,
    describe: String,
    pause: Option<Pause>,
    answer: OutputExpectation,
    within: Duration,
}

fn load(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let keys: Vec<&'static str> = crate::protocols::clients()
        .map(|(_, client)| client.key)
        .collect();
    let (table, mut protocols) = super::split_off(input.raw, &keys);
    let raw = RawRequest::deserialize(table)?;
    let names = input.names;
    let endpoint = names.listener(&raw.request)?;
    let name = raw
        .name
        .ok_or("`request` needs `as = NAME` to name the connection")?;
    names.fresh(&name)?;
    names.peers.insert(name.clone());
    if protocols.len() != 1 {
        return Err(format!(
            "a `request` step says what to send under one protocol's key: {}",
            keys.join(", ")
        )
        .into());
    }
    let (key, value) = protocols.remove(0);
    let (_, client) = crate::protocols::clients()
        .find(|(_, client)| client.key == key)
        .expect("split off by its key");
    let request = (client.load)(OptionsInput {
        value,
        kit_root: input.kit_root,
        step: (),
    })?;
    let whole = Payload::Bytes(Arc::clone(&request.bytes));
    let answer = OutputExpectation::Protocol(request.answer);
    let send = match raw.pause {
        Some(Pause::MidRequest) => {
            let (first, rest) = request.bytes.split_at(request.midway);
            names.paused.insert(
                name.clone(),
                Paused {
                    rest: Some(Payload::Bytes(rest.into())),
                    answer: answer.clone(),
                    describe: request.describe.clone(),
                },
            );
            names.kept.insert(name.clone());
            Payload::Bytes(first.into())
        }
        Some(Pause::BeforeAnswer) => {
            names.paused.insert(
                name.clone(),
                Paused {
                    rest: None,
                    answer: answer.clone(),
                    describe: request.describe.clone(),
                },
            );
            whole
        }
        None => whole,
    };
    if raw.pause.is_some() && raw.within_ms.is_some() {
        return Err(
            "a paused request is judged at its `resume` step: give `within_ms` there".into(),
        );
    }
    Ok(Arc::new(Request {
        endpoint,
        plan: ClientPlan {
            name,
            send,
            slices: super::checked_plan(raw.slices)?,
            // A real client keeps its connection open while it waits for the answer.
            then: CloseHow::Keep,
            read_slices: SlicePlan::WHOLE,
        },
        describe: request.describe,
        pause: raw.pause,
        answer,
        within: super::within(raw.within_ms),
    }))
}

impl StepAction for Request {
    fn describe(&self) -> String {
        let Request {
            endpoint,
            plan,
            describe,
            pause,
            within,
            ..
        } = self;
        let name = &plan.name;
        let cut = if plan.slices.is_sliced() {
            format!(" ({})", plan.slices.describe())
        } else {
            String::new()
        };
        match pause {
            None => format!(
                "{name} sends {describe} to {endpoint}{cut}, answer within {} ms",
                within.as_millis()
            ),
            Some(Pause::MidRequest) => format!(
                "{name} sends the head and half the body of {describe} to {endpoint}{cut}, and holds the rest"
            ),
            Some(Pause::BeforeAnswer) => {
                format!("{name} sends {describe} to {endpoint}{cut}; its answer is judged later")
            }
        }
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        Box::pin(async move {
            context
                .connect(&self.endpoint, &self.plan, Family::Ipv4)
                .await?;
            if self.pause.is_some() {
                return Ok(());
            }
            let name = self.plan.name.as_str();
            context
                .expect_output(
                    Watched::Received { name },
                    &self.answer,
                    self.within,
                    Some(name),
                )
                .await
        })
    }
}

#[derive(Debug)]
struct Resume {
    name: String,
    paused: Paused,
    within: Duration,
    since: Option<String>,
}

fn load_resume(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let raw = RawResume::deserialize(input.table)?;
    let names = input.names;
    let paused = names.paused.remove(&raw.resume).ok_or_else(|| {
        format!(
            "no request named `{}` was paused (`pause = ...` on a `request` step) and not yet resumed",
            raw.resume
        )
    })?;
    if let Some(since) = &raw.since {
        names.peer(since)?;
    }
    Ok(Arc::new(Resume {
        name: raw.resume,
        paused,
        within: super::within(raw.within_ms),
        since: raw.since,
    }))
}

impl StepAction for Resume {
    fn describe(&self) -> String {
        let Resume {
            name,
            paused,
            within,
            since,
        } = self;
        let sends = match paused.rest {
            Some(_) => format!("{name} sends the rest of {}", paused.describe),
            None => format!("{name} waits for the answer to {}", paused.describe),
        };
        let from = match since {
            Some(since) => format!(" of {since}'s connection"),
            None => String::new(),
        };
        format!("{sends}, answer within {} ms{from}", within.as_millis())
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        Box::pin(async move {
            if let Some(rest) = &self.paused.rest {
                context.send_on(&self.name, rest, &SlicePlan::WHOLE).await?;
            }
            context
                .expect_output(
                    Watched::Received { name: &self.name },
                    &self.paused.answer,
                    self.within,
                    self.since.as_deref(),
                )
                .await
        })
    }
}
