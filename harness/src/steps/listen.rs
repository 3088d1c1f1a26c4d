//! `listen = NAME`: the harness listens as a server (TCP or UDP) that client programs are
//! pointed at (`to = NAME` on their `start`). What it speaks is one of:
//!
//! - the scenario's bytes: `reply` to every request (TCP: once `read_until` says the
//!   request is whole, then it closes, or with `keep_open` records on), or never;
//! - `ping = { ... }`: a UDP ping server that drops and delays pings as scripted;
//! - `origin = { ... }`: an HTTP origin server (a proxy's upstream);
//! - `smtp = { ... }`: a mail server (`crate::peers::smtp`), with STARTTLS and AUTH if asked.
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
use crate::peers::{OriginScript, PingScript, ReadUntil, ServerPlan, Speaks, Transport};

pub(crate) const KIND: StepKind = StepKind {
    key: "listen",
    load,
    schema: super::schema_of::<RawListen>,
};

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawListen {
    listen: String,
    transport: Option<Transport>,
    reply: Option<PayloadSpec>,
    read_until: Option<ReadUntil>,
    ping: Option<PingScript>,
    origin: Option<RawOrigin>,
    smtp: Option<crate::peers::smtp::SmtpScript>,
    slices: Option<SlicePlan>,
    family: Option<crate::world::sockets::Family>,
    listen_after_ms: Option<u64>,
    keep_open: Option<bool>,
}

/// `origin = { status = 200, content_type = "text/plain", body = { ... }, delay_ms = 1000 }`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawOrigin {
    #[serde(default = "default_origin_status")]
    status: u16,
    #[serde(default = "default_origin_type")]
    content_type: String,
    body: PayloadSpec,
    #[serde(default)]
    delay_ms: u64,
    #[serde(default)]
    pause_ms: u64,
    /// More header fields, as `{ "Cache-Control" = "max-age=3600" }`.
    #[serde(default)]
    headers: std::collections::BTreeMap<String, String>,
}

fn default_origin_status() -> u16 {
    200
}

fn default_origin_type() -> String {
    "application/octet-stream".into()
}

/// A checked `listen` step.
#[derive(Debug)]
struct Listen {
    name: String,
    plan: ServerPlan,
}

fn load(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let raw = RawListen::deserialize(input.table)?;
    Ok(checked(raw, input.names, input.kit_root)?)
}

/// Checks that what the peer speaks goes with its transport and options.
fn checked(
    raw: RawListen,
    context: &mut super::Names,
    kit_root: &std::path::Path,
) -> Result<Arc<dyn StepAction>, String> {
    let name = raw.listen;
    context.fresh(&name)?;
    context.servers.insert(name.clone());
    if raw.smtp.is_some() {
        context.mail_servers.insert(name.clone());
    }
    let transport = raw.transport.unwrap_or_default();
    if transport == Transport::Udp && raw.listen_after_ms.is_some() {
        return Err("`listen_after_ms` is for TCP: a UDP port has no listening state".into());
    }
    if transport == Transport::Udp && raw.read_until.is_some() {
        return Err("`read_until` is for TCP: a datagram is always whole".into());
    }
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
    if raw.ping.is_some() && (transport != Transport::Udp || reply.is_some()) {
        return Err(
            "`ping` scripts a UDP ping server: it needs `transport = \"udp\"` and no `reply`"
                .into(),
        );
    }
    if raw.origin.is_some()
        && (transport != Transport::Tcp || reply.is_some() || raw.read_until.is_some())
    {
        return Err(
            "`origin` scripts an HTTP origin server: TCP, without `reply` or `read_until`".into(),
        );
    }
    if raw.smtp.is_some()
        && (transport != Transport::Tcp
            || reply.is_some()
            || raw.read_until.is_some()
            || raw.origin.is_some())
    {
        return Err(
            "`smtp` plays a mail server: TCP, without `reply`, `read_until` or `origin`".into(),
        );
    }
    if raw.slices.is_some() && (transport != Transport::Tcp || raw.smtp.is_some()) {
        return Err(
            "`slices` cuts a TCP answer (`reply` or `origin`) into pieces; a mail server peer has `byte_replies`"
                .into(),
        );
    }
    let origin = match raw.origin {
        None => None,
        Some(origin) => {
            if !(100..=599).contains(&origin.status) {
                return Err("`origin.status` must be from 100 to 599".into());
            }
            Some(OriginScript {
                status: origin.status,
                content_type: origin.content_type,
                body: origin.body.resolve(kit_root)?,
                delay: Duration::from_millis(origin.delay_ms),
                headers: origin.headers.into_iter().collect(),
                pause: Duration::from_millis(origin.pause_ms),
            })
        }
    };
    let speaks = if let Some(script) = raw.ping {
        Speaks::Ping(script)
    } else if let Some(origin) = origin {
        Speaks::Origin(origin)
    } else if let Some(script) = raw.smtp {
        Speaks::Smtp(script)
    } else {
        Speaks::Bytes {
            reply,
            read_until: raw.read_until.unwrap_or_default(),
            keep_open: raw.keep_open.unwrap_or(false),
        }
    };
    Ok(Arc::new(Listen {
        name,
        plan: ServerPlan {
            transport,
            speaks,
            slices: super::checked_plan(raw.slices)?,
            family: raw.family.unwrap_or_default(),
            listen_after: Duration::from_millis(raw.listen_after_ms.unwrap_or(0)),
        },
    }))
}

impl StepAction for Listen {
    fn describe(&self) -> String {
        let (name, plan) = (&self.name, &self.plan);
        let transport = match (plan.transport, plan.family) {
            (Transport::Tcp, crate::world::sockets::Family::Ipv6) => "TCP over IPv6",
            (Transport::Tcp, _) => "TCP",
            (Transport::Udp, _) => "UDP",
        };
        let answer = match &plan.speaks {
            Speaks::Smtp(script) => {
                let mut offers = Vec::new();
                if script.starttls {
                    offers.push("STARTTLS".to_owned());
                }
                if script.auth {
                    offers.push("AUTH".to_owned());
                }
                let mut text = "playing a mail server".to_owned();
                if !offers.is_empty() {
                    text += &format!(" that offers {}", offers.join(" and "));
                }
                for (verb, code) in &script.replies {
                    text += &format!("; it answers {verb} with {code}");
                }
                if script.byte_replies {
                    text += "; every reply one byte per segment";
                }
                text
            }
            Speaks::Origin(origin) => {
                let mut text = format!(
                    "playing an HTTP origin that answers {} with {}",
                    origin.status,
                    origin.body.describe()
                );
                if !origin.delay.is_zero() {
                    text += &format!(" after {} ms", origin.delay.as_millis());
                }
                text
            }
            Speaks::Ping(script) => {
                let mut parts =
                    vec!["playing a ping server that answers pings uppercased".to_owned()];
                if !script.drop.is_empty() {
                    let dropped: Vec<String> = script.drop.iter().map(u64::to_string).collect();
                    parts.push(format!("drops {}", dropped.join(", ")));
                }
                for delay in &script.delay {
                    parts.push(format!("answers {} after {} ms", delay.ping, delay.ms));
                }
                parts.join("; ")
            }
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

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        context.listen(&self.name, &self.plan)
    }

    fn offers_tls(&self) -> bool {
        self.plan.speaks.offers_tls()
    }
}
