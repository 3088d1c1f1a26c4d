//! `listen = NAME`: the harness listens as a server (TCP or UDP) that client programs are
//! pointed at (`to = NAME` on their `start`). What it speaks is one of:
//!
//! - the scenario's bytes: `reply` to every request (TCP: once `read_until` says the
//!   request is whole, then it closes, or with `keep_open` records on), or never;
//! - a protocol of a pack (`crate::protocols`), by the options under the pack's key:
//!   `ping = { ... }` a UDP ping server that drops and delays pings as scripted,
//!   `origin = { ... }` an HTTP origin server (a proxy's upstream), `smtp = { ... }` a
//!   mail server with STARTTLS and AUTH if asked. The pack checks its options, and that
//!   they go with the rest of the step.
//!
//! `slices` cuts a TCP answer into pieces, `family = "ipv6"` listens on `::1`,
//! `listen_after_ms` refuses connections for a while (the port is bound at once).
//!
//! ```toml
//! [[step]]
//! listen = "upstream"
//! origin = { status = 200, content_type = "text/plain", body = { text = "hello" } }
//! ```

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::{LoadError, LoadInput, StepAction, StepContext, StepFuture, StepKind};
use crate::faults::SlicePlan;
use crate::payload::PayloadSpec;
use crate::peers::{ReadUntil, ServerPlan, Speaks, Transport};
use crate::protocols::{ListenShape, OptionsInput};

pub(crate) const KIND: StepKind = StepKind {
    key: "listen",
    load,
    schema: listen_shape,
};

// The step's own keys; a pack's key (`smtp`) is read by its pack (`split_off`).
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawListen {
    listen: String,
    transport: Option<Transport>,
    reply: Option<PayloadSpec>,
    read_until: Option<ReadUntil>,
    slices: Option<SlicePlan>,
    family: Option<crate::world::sockets::Family>,
    listen_after_ms: Option<u64>,
    keep_open: Option<bool>,
}

/// [`RawListen`]'s schema, with every pack's options under its key.
fn listen_shape(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let shape = super::schema_of::<RawListen>(generator);
    let packs: Vec<(&str, serde_json::Value)> = crate::protocols::servers()
        .map(|(_, server)| (server.key, (server.schema)(generator).to_value()))
        .collect();
    super::with_pack_options(generator, shape, "RawListen", packs)
}

/// A checked `listen` step.
#[derive(Debug)]
struct Listen {
    name: String,
    plan: ServerPlan,
}

fn load(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let keys: Vec<&'static str> = crate::protocols::servers()
        .map(|(_, server)| server.key)
        .collect();
    let (table, mut protocols) = super::split_off(input.raw, &keys);
    let raw = RawListen::deserialize(table)?;
    let name = raw.listen.clone();
    input.names.fresh(&name)?;
    input.names.servers.insert(name.clone());
    let transport = raw.transport.unwrap_or_default();
    generic_rules(&raw, transport)?;
    let speaks = match protocols.len() {
        0 => None,
        1 => {
            let (key, value) = protocols.remove(0);
            let (pack, server) = crate::protocols::servers()
                .find(|(_, server)| server.key == key)
                .expect("split off by its key");
            let shape = ListenShape {
                transport,
                reply: raw.reply.is_some(),
                read_until: raw.read_until,
                slices: raw.slices.is_some(),
            };
            let script = (server.load)(OptionsInput {
                value,
                kit_root: input.kit_root,
                step: shape,
            })?;
            input.names.speaking.insert(name.clone(), pack.key);
            Some(Speaks::Protocol(script))
        }
        _ => {
            let keys: Vec<String> = protocols
                .iter()
                .map(|(key, _)| format!("`{key}`"))
                .collect();
            return Err(format!(
                "a `listen` peer speaks one protocol, this one has {}",
                keys.join(" and ")
            )
            .into());
        }
    };
    Ok(checked(raw, transport, speaks, input.kit_root)?)
}

/// What holds whatever the peer speaks: options that need TCP, and a reply a datagram
/// can carry.
fn generic_rules(raw: &RawListen, transport: Transport) -> Result<(), String> {
    if transport == Transport::Udp && raw.listen_after_ms.is_some() {
        return Err("`listen_after_ms` is for TCP: a UDP port has no listening state".into());
    }
    if transport == Transport::Udp && raw.read_until.is_some() {
        return Err("`read_until` is for TCP: a datagram is always whole".into());
    }
    Ok(())
}

/// Checks that the bytes the peer answers go with its transport and options; `speaks`:
/// the protocol a pack already loaded, if any.
fn checked(
    raw: RawListen,
    transport: Transport,
    speaks: Option<Speaks>,
    kit_root: &std::path::Path,
) -> Result<Arc<dyn StepAction>, String> {
    let reply = raw.reply.map(|spec| spec.resolve(kit_root)).transpose()?;
    if raw.keep_open.is_some() && (transport == Transport::Udp || reply.is_none()) {
        return Err(
            "`keep_open` keeps a TCP connection open after its `reply`, reading on until the client closes"
                .into(),
        );
    }
    if transport == Transport::Udp
        && let Some(reply) = &reply
        && reply.len() > crate::peers::MAX_DATAGRAM as u64
    {
        return Err(format!(
            "a datagram holds at most {} bytes; this reply has {}",
            crate::peers::MAX_DATAGRAM,
            reply.len()
        ));
    }
    if raw.slices.is_some() && transport != Transport::Tcp {
        return Err(
            "`slices` cuts a TCP answer (`reply` or `origin`) into pieces; a mail server peer has `byte_replies`"
                .into(),
        );
    }
    let speaks = speaks.unwrap_or(Speaks::Bytes {
        reply,
        read_until: raw.read_until.unwrap_or_default(),
        keep_open: raw.keep_open.unwrap_or(false),
    });
    Ok(Arc::new(Listen {
        name: raw.listen,
        plan: ServerPlan {
            transport,
            speaks,
            slices: super::checked_plan(raw.slices)?,
            family: raw.family.unwrap_or_default(),
            listen_after: Duration::from_millis(raw.listen_after_ms.unwrap_or(0)),
        },
    }))
}

impl Listen {
    /// The step's line, its protocol's script described by `script_line` (with or without
    /// the run's settings).
    fn line(
        &self,
        script_line: impl FnOnce(&dyn crate::peers::ProtocolScript) -> String,
    ) -> String {
        let (name, plan) = (&self.name, &self.plan);
        let transport = match (plan.transport, plan.family) {
            (Transport::Tcp, crate::world::sockets::Family::Ipv6) => "TCP over IPv6",
            (Transport::Tcp, _) => "TCP",
            (Transport::Udp, _) => "UDP",
        };
        let answer = match &plan.speaks {
            Speaks::Protocol(script) => script_line(script.as_ref()),
            Speaks::Bytes {
                reply: Some(reply), ..
            } => format!("answering {}", reply.describe()),
            Speaks::Bytes { reply: None, .. } => "never answering".into(),
        };
        let mut text = format!("listen as {name} ({transport}), {answer}");
        if let Speaks::Bytes {
            keep_open: true, ..
        } = plan.speaks
        {
            text += ", the connection kept open until the client closes it";
        }
        if plan.slices.is_sliced() {
            text += &format!(", written in {}", plan.slices.describe());
        }
        if !plan.listen_after.is_zero() {
            text += &format!(
                "; its port refuses connections for the first {} ms",
                plan.listen_after.as_millis()
            );
        }
        text
    }
}

impl StepAction for Listen {
    fn describe(&self) -> String {
        self.line(|script| script.describe())
    }

    fn describe_in_run(&self, settings: &crate::settings::RunSettings) -> String {
        self.line(|script| script.describe_in_run(settings))
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        context.listen(&self.name, &self.plan)
    }

    fn offers_tls(&self) -> bool {
        self.plan.speaks.offers_tls()
    }

    fn unplayable(&self, settings: &crate::settings::RunSettings) -> Option<String> {
        if self.plan.family == crate::world::sockets::Family::Ipv6
            && let Some(refused) = crate::world::sockets::ipv6_refused()
        {
            return Some(refused);
        }
        match &self.plan.speaks {
            Speaks::Protocol(script) => script.unplayable(settings),
            Speaks::Bytes { .. } => None,
        }
    }
}
