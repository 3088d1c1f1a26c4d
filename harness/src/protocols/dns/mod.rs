//! The DNS pack: the harness as the name server a submitted `mx-lookup` is pointed at
//! with `--dns HOST:PORT` (SPEC mx/1–3).
//!
//! The server is the one every scenario's network namespace has on port 53
//! (`crate::peers::dns`: the zone, the answers), here on a port of its own, and both ways
//! on that one port as RFC 1035 §4.2 says: UDP first, TCP for an answer too large for a
//! datagram (the truncation bit) or for a client that prefers it. What it knows is the
//! standard zone (every name the loopback, `invalid.` missing) and the master files the
//! scenario names, for which it is authoritative (`fixtures/zones/*.zone`).
//!
//! ```toml
//! [[step]]
//! listen = "ns"
//! dns = { zones = ["mail-lab"] }
//!
//! [[step]]
//! start = "lookup"
//! to = "ns"
//! args = "alice@ties.example.com --dns {host}:{port}"
//! ```
//!
//! Options: `zones` (master files of `fixtures/zones/`, by stem), `silent = true` (a
//! server that reads every question and answers none: the program must give up by
//! itself, SPEC mx/2). `slices` cuts each TCP answer into pieces (the client must read
//! the two length bytes, then exactly that many).
//!
//! The transcript shows every question and answer; the judges are the program's output
//! (what it printed is what it understood).

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use tokio::io::AsyncReadExt;

use super::{ListenShape, Loaded, OptionsInput, Pack, ServerOptions};
use crate::payload::Payload;
use crate::peers::dns::Zone;
use crate::peers::dns::answer::{Question, answer};
use crate::peers::{
    Conversation, DatagramAnswer, ProtocolRecord, ProtocolScript, ProtocolServer, Served, Transport,
};
use crate::transcript::Direction;

/// The pack, for the registry (`super::REGISTRY`).
pub(super) const PACK: Pack = Pack {
    key: "dns",
    server: Some(ServerOptions {
        key: "dns",
        load,
        schema: |generator| generator.subschema_for::<RawDns>(),
        keeps_clear_text: false,
    }),
    expectations: &[],
    checks: &[],
    client: None,
    setting: None,
    login: None,
};

/// `dns = { zones = ["mail-lab"], silent = false }`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawDns {
    /// Master files of `fixtures/zones/` (by stem) the server is authoritative for.
    #[serde(default)]
    zones: Vec<String>,
    /// Read every question, answer none (a server that is down or unreachable).
    #[serde(default)]
    silent: bool,
}

/// The name server peer's zone, and whether it answers at all.
#[derive(Debug, Clone)]
pub(super) struct DnsScript {
    zones: Vec<String>,
    zone: Arc<Zone>,
    silent: bool,
}

/// Checks that a name server goes with the rest of its `listen` step.
fn load(input: OptionsInput<'_, '_, ListenShape>) -> Loaded<Arc<dyn ProtocolScript>> {
    let raw = RawDns::deserialize(input.value)?;
    let shape = input.step;
    if shape.transport != Transport::Tcp || shape.reply || shape.read_until.is_some() {
        return Err(
            "`dns` plays a name server on UDP and TCP of one port: leave out `transport`, `reply` and `read_until`"
                .into(),
        );
    }
    let zone = Zone::with_kit_files(input.kit_root, &raw.zones)?;
    Ok(Arc::new(DnsScript {
        zones: raw.zones,
        zone: Arc::new(zone),
        silent: raw.silent,
    }))
}

impl ProtocolScript for DnsScript {
    fn describe(&self) -> String {
        let mut text = "playing a name server (UDP and TCP)".to_owned();
        if !self.zones.is_empty() {
            text += &format!(", authoritative for {}", self.zones.join(", "));
        }
        if self.silent {
            text += "; it answers nothing";
        }
        text
    }

    fn datagrams_too(&self) -> bool {
        true
    }

    fn start(&self, _settings: &crate::settings::RunSettings) -> Arc<dyn ProtocolServer> {
        Arc::new(NameServer {
            script: self.clone(),
        })
    }
}

/// One running name server peer.
#[derive(Debug)]
struct NameServer {
    script: DnsScript,
}

/// What the transcript says of a question and its answer.
fn shown(question: Option<&Question>, carrier: &str) -> String {
    match question {
        Some(question) => format!(
            "{carrier} question {} {}: answered {}",
            question.kind, question.name, question.answer
        ),
        None => format!("{carrier}: not a DNS question, answered FORMERR"),
    }
}

impl ProtocolServer for NameServer {
    fn record(&self) -> &dyn ProtocolRecord {
        &()
    }

    fn datagram(&self, datagram: &[u8], reply: &mut DatagramAnswer<'_>) {
        if self.script.silent {
            reply.note(
                Direction::FromProgram,
                "a question: left unanswered (silent)",
            );
            return;
        }
        if let Some((bytes, question)) = answer(datagram, &self.script.zone, true) {
            let note = shown(question.as_ref(), "UDP");
            reply.send_after(Duration::ZERO, bytes, note, |_| {});
        }
    }

    fn converse(self: Arc<Self>, conversation: Conversation) -> Served {
        Box::pin(converse(self, conversation))
    }
}

/// DNS over TCP (RFC 1035 §4.2.2, RFC 7766): each message after its length in two bytes,
/// several questions on one connection, until the client closes it.
async fn converse(server: Arc<NameServer>, mut conversation: Conversation) {
    loop {
        let mut length = [0u8; 2];
        if read_recorded(&mut conversation, &mut length).await.is_err() {
            break;
        }
        let mut request = vec![0u8; usize::from(u16::from_be_bytes(length))];
        if read_recorded(&mut conversation, &mut request)
            .await
            .is_err()
        {
            break;
        }
        if server.script.silent {
            conversation.transcript.event(
                &conversation.label,
                Direction::FromProgram,
                "a question: left unanswered (silent)",
            );
            continue;
        }
        let Some((reply, question)) = answer(&request, &server.script.zone, false) else {
            continue;
        };
        conversation.transcript.event(
            &conversation.label,
            Direction::ToProgram,
            shown(question.as_ref(), "TCP"),
        );
        let mut framed = Vec::with_capacity(2 + reply.len());
        framed.extend_from_slice(&(reply.len() as u16).to_be_bytes());
        framed.extend_from_slice(&reply);
        if let Err(error) = conversation.write(&Payload::Bytes(framed.into())).await {
            conversation.write_failed(&error);
            return;
        }
    }
    conversation.close().await;
}

/// Reads exactly `buffer.len()` bytes, each piece into the transcript and the capture as
/// it comes; the end of the stream or an error ends the conversation (recorded).
async fn read_recorded(conversation: &mut Conversation, buffer: &mut [u8]) -> std::io::Result<()> {
    let mut filled = 0;
    while filled < buffer.len() {
        let read = conversation.reader.read(&mut buffer[filled..]).await;
        match read {
            Ok(0) => {
                conversation.transcript.fin(
                    &conversation.label,
                    Direction::FromProgram,
                    "closed (FIN)",
                );
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            Ok(size) => {
                let piece = &buffer[filled..filled + size];
                conversation
                    .transcript
                    .data(&conversation.label, Direction::FromProgram, piece);
                let _ = conversation.received.append(piece);
                filled += size;
            }
            Err(error) => {
                conversation.transcript.event(
                    &conversation.label,
                    Direction::FromProgram,
                    format!("error: {error}"),
                );
                return Err(error);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
