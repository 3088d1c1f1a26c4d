//! The HTTP origin peer: the server behind a submitted proxy. After reading a request head
//! it waits as scripted, sends one complete response, and closes; the scenario's `slices`
//! cut that response like any answer of a server peer.
//!
//! ```toml
//! [[step]]
//! listen = "upstream"
//! origin = { status = 200, content_type = "text/plain", body = { text = "hello" } }
//! ```

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::payload::{Payload, PayloadSpec};
use crate::peers::{
    Conversation, ProtocolRecord, ProtocolScript, ProtocolServer, Served, Transport,
};
use crate::protocols::{ListenShape, Loaded, OptionsInput};

/// `origin = { status = 200, content_type = "text/plain", body = { ... }, delay_ms = 1000 }`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOrigin {
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

/// Checks that an origin goes with the rest of its `listen` step.
pub(super) fn load(input: OptionsInput<'_, '_, ListenShape>) -> Loaded<Arc<dyn ProtocolScript>> {
    let origin = RawOrigin::deserialize(input.value)?;
    let shape = input.step;
    if shape.transport != Transport::Tcp || shape.reply || shape.read_until.is_some() {
        return Err(
            "`origin` scripts an HTTP origin server: TCP, without `reply` or `read_until`".into(),
        );
    }
    if !(100..=599).contains(&origin.status) {
        return Err("`origin.status` must be from 100 to 599".into());
    }
    Ok(Arc::new(OriginScript {
        status: origin.status,
        content_type: origin.content_type,
        body: origin.body.resolve(input.kit_root)?,
        delay: Duration::from_millis(origin.delay_ms),
        headers: origin.headers.into_iter().collect(),
        pause: Duration::from_millis(origin.pause_ms),
    }))
}

/// How a scripted HTTP origin server answers every request: after reading the request
/// head, it waits `delay`, sends one complete response (`Content-Length`, `Connection:
/// close`, and `X-Socket-Lab: origin` so a relay of the headers can be checked), and closes.
#[derive(Debug, Clone)]
pub(super) struct OriginScript {
    /// The status code.
    pub status: u16,
    /// The `Content-Type`.
    pub content_type: String,
    /// The body.
    pub body: Payload,
    /// How long it thinks before answering (a slow origin).
    pub delay: Duration,
    /// More header fields (`Cache-Control` for a caching proxy).
    pub headers: Vec<(String, String)>,
    /// Time between the head and the body, as from a server that sends its headers before
    /// the body is ready (zero: a small response leaves in one write).
    pub pause: Duration,
}

/// The largest response an origin peer writes at once, head and body together.
const ONE_WRITE: u64 = 16 * 1024;

impl OriginScript {
    /// The response head.
    pub(super) fn head(&self) -> String {
        let reason = match self.status {
            200 => "OK",
            404 => "Not Found",
            500 => "Internal Server Error",
            _ => "Status",
        };
        let extra: String = self
            .headers
            .iter()
            .map(|(name, value)| format!("{name}: {value}\r\n"))
            .collect();
        format!(
            "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{extra}X-Socket-Lab: origin\r\nConnection: close\r\n\r\n",
            self.status,
            self.content_type,
            self.body.len()
        )
    }
}

/// Where an HTTP request head ends (after its blank line), if it has.
fn head_end(bytes: &[u8]) -> Option<usize> {
    let crlf = bytes
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .map(|at| at + 4);
    let lf = bytes
        .windows(2)
        .position(|window| window == b"\n\n")
        .map(|at| at + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The longest request head an origin peer looks through for its end.
const MAX_HEAD: usize = 64 * 1024;

impl ProtocolScript for OriginScript {
    fn describe(&self) -> String {
        let mut text = format!(
            "playing an HTTP origin that answers {} with {}",
            self.status,
            self.body.describe()
        );
        if !self.delay.is_zero() {
            text += &format!(" after {} ms", self.delay.as_millis());
        }
        text
    }

    fn start(&self, _settings: &crate::settings::RunSettings) -> Arc<dyn ProtocolServer> {
        Arc::new(Origin(self.clone()))
    }
}

/// One running origin peer; it records nothing beyond the bytes every server peer keeps.
#[derive(Debug)]
struct Origin(OriginScript);

impl ProtocolServer for Origin {
    fn record(&self) -> &dyn ProtocolRecord {
        &()
    }

    fn converse(self: Arc<Self>, conversation: Conversation) -> Served {
        Box::pin(async move { self.0.answer(conversation).await })
    }
}

impl OriginScript {
    /// Reads one request head, answers it, closes.
    async fn answer(&self, mut conversation: Conversation) {
        // The request so far, to find where its head ends (bounded: heads are small).
        let mut head = Vec::new();
        let whole = |piece: &[u8]| {
            head.extend_from_slice(&piece[..piece.len().min(MAX_HEAD - head.len().min(MAX_HEAD))]);
            head_end(&head).is_some() || head.len() >= MAX_HEAD
        };
        if !conversation.read_request(whole).await {
            return;
        }
        // The request is in: the answer (delayed, sliced) is under way until it is sent.
        let held = conversation.transcript.pending().hold();
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        let head = self.head().into_bytes();
        let written = if self.pause.is_zero() && self.body.len() <= ONE_WRITE {
            // A small response leaves in one write, as one segment (unless the scenario
            // slices it): a proxy's single `recv` gets all of it (its bug shows only where
            // the scenario says so, and then always).
            let mut whole = head;
            whole.extend_from_slice(&self.body.bytes());
            conversation.write(&Payload::Bytes(whole.into())).await
        } else {
            self.write_in_two(&mut conversation, head).await
        };
        if let Err(error) = written {
            conversation.write_failed(&error);
            return;
        }
        drop(held);
        conversation.close().await;
    }

    /// The head, then (after `pause`, if any) the body.
    async fn write_in_two(
        &self,
        conversation: &mut Conversation,
        head: Vec<u8>,
    ) -> std::io::Result<()> {
        conversation.write(&Payload::Bytes(head.into())).await?;
        if !self.pause.is_zero() {
            // The head has surely arrived, alone, before the body leaves.
            tokio::time::sleep(self.pause).await;
        }
        conversation.write(&self.body).await
    }
}
