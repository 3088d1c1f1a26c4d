//! The harness as a server: what a submission's client program talks to.
//!
//! A client is tested against a server whose behaviour the scenario scripts: it listens on
//! a fresh port of the harness's host (TCP or UDP), keeps everything the client sends for
//! the scenario to check, and answers with a fixed reply, or never (to see that the client
//! gives up by itself instead of hanging). Over UDP it can also play a ping server that
//! drops some pings and answers others late, on a script, and remembers what it did, so the
//! client's report can be checked ping by ping.
//!
//! Over TCP its answer (a `reply`, or an HTTP origin's response) can be cut into slices
//! (`slices = { size = [1, 512], gap_ms = [1, 3] }` on the `listen` step): a client that
//! takes one `recv` for the whole reply then gets only its first piece, as it would on a
//! real network (SPEC upper/3: the client reads until the server closes).

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::{JoinHandle, JoinSet};

use super::{MAX_DATAGRAM, RECEIVED_CAP};
use crate::faults::{SlicePlan, Slicer};
use crate::payload::Payload;
use crate::transcript::{Direction, Transcript};
use crate::wire::{Flow, FlowEnd, FlowId, Protocol, WireAct};
use crate::world::backlog::{Backlog, OpenConnections};
use crate::world::capture::Capture;
use crate::world::sockets::{PeerConnection, PeerDatagram, PeerNet};

/// TCP or UDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    #[default]
    Tcp,
    Udp,
}

/// When a TCP server peer has read the request and answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReadUntil {
    /// Once a `\n` arrived (or the client half-closed).
    #[default]
    Newline,
    /// Once the client half-closed.
    Eof,
    /// Once an HTTP request head ended (its blank line).
    #[serde(skip)]
    BlankLine,
}

/// The longest request head an origin peer looks through for its end.
const MAX_HEAD: usize = 64 * 1024;

/// What a server peer does.
#[derive(Debug, Clone)]
pub struct ServerPlan {
    /// TCP or UDP.
    pub transport: Transport,
    /// What it answers: the scenario's bytes, or a protocol it plays by a script.
    pub speaks: Speaks,
    /// TCP: how the answer (`reply` or the origin's response) is cut into writes; whole
    /// writes unless the scenario says otherwise.
    pub slices: SlicePlan,
    /// The address family it listens on (TCP).
    pub family: crate::world::sockets::Family,
    /// TCP: how long after the step it starts accepting connections (its port is bound
    /// at once, so a client can be given it; until then a connection is refused).
    pub listen_after: Duration,
}

/// What a server peer speaks: each protocol with its own script, one at a time.
#[derive(Debug, Clone)]
pub enum Speaks {
    /// The scenario's bytes: `reply` to every request (TCP: then it closes), or none at all.
    Bytes {
        reply: Option<Payload>,
        /// TCP: when the request is complete.
        read_until: ReadUntil,
        /// TCP: after `reply`, keep the connection open and go on recording what the
        /// client sends, until it closes (a chat client talks on after the server's first
        /// lines).
        keep_open: bool,
    },
    /// UDP: a ping server following this script.
    Ping(PingScript),
    /// TCP: an HTTP origin server.
    Origin(OriginScript),
    /// TCP: a mail server speaking SMTP.
    Smtp(super::smtp::SmtpScript),
}

impl Speaks {
    /// Its reply to every request, if it speaks the scenario's bytes and has one.
    fn reply(&self) -> Option<&Payload> {
        match self {
            Speaks::Bytes { reply, .. } => reply.as_ref(),
            _ => None,
        }
    }

    /// Whether it offers TLS (a mail server with STARTTLS): the programs that talk to it
    /// must then trust the harness's test CA.
    pub fn offers_tls(&self) -> bool {
        matches!(self, Speaks::Smtp(script) if script.starttls)
    }
}

/// How a scripted HTTP origin server answers every request: after reading the request
/// head, it waits `delay`, sends one complete response (`Content-Length`, `Connection:
/// close`, and `X-Socket-Lab: origin` so a relay of the headers can be checked), and closes.
#[derive(Debug, Clone)]
pub struct OriginScript {
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
    pub fn head(&self) -> String {
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

/// How a scripted ping server treats the pings (`Ping <seq> <time>`) it receives: it
/// answers each with the ping uppercased, except the ones it drops, and some late.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PingScript {
    /// Sequence numbers never answered.
    #[serde(default)]
    pub drop: Vec<u64>,
    /// Sequence numbers answered after a delay.
    #[serde(default)]
    pub delay: Vec<PingDelay>,
}

/// One delayed answer.
#[derive(Debug, Clone, Copy, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PingDelay {
    /// The ping's sequence number.
    pub ping: u64,
    /// How long after the ping the answer leaves.
    pub ms: u64,
}

impl PingScript {
    /// What happens to ping `seq`: `None` if dropped, else the delay of its answer.
    pub fn fate(&self, seq: u64) -> Option<Duration> {
        if self.drop.contains(&seq) {
            return None;
        }
        let delay = self.delay.iter().find(|delay| delay.ping == seq);
        Some(Duration::from_millis(delay.map_or(0, |delay| delay.ms)))
    }
}

/// A ping the scripted server received, and what it did with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PingRecord {
    /// Its sequence number.
    pub seq: u64,
    /// `None`: dropped; else how long after the ping the answer left.
    pub answered_after: Option<Duration>,
}

/// The sequence number of `Ping <seq> ...` (any case), if the datagram is a ping.
pub fn ping_sequence(datagram: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(datagram).ok()?;
    let mut words = text.split_whitespace();
    if !words.next()?.eq_ignore_ascii_case("ping") {
        return None;
    }
    words.next()?.parse().ok()
}

/// A listening server peer; dropping it closes its socket and every connection.
#[derive(Debug)]
pub struct ServerPeer {
    /// The port it listens on.
    pub port: u16,
    /// The address family it listens on.
    pub family: crate::world::sockets::Family,
    received: Arc<Capture>,
    requests: Arc<AtomicU64>,
    pings: Arc<Mutex<Vec<PingRecord>>>,
    mail: super::smtp::Sessions,
    /// TCP connections accepted and still being served.
    open: OpenConnections,
    /// Connections (TCP) or datagrams (UDP) the kernel holds that it has not taken yet.
    backlog: Backlog,
    task: JoinHandle<()>,
}

impl ServerPeer {
    /// Listens on a fresh port of the harness's host and serves in the background.
    pub async fn start(
        net: &PeerNet,
        name: &str,
        plan: ServerPlan,
        seed: u64,
        transcript: Transcript,
    ) -> io::Result<ServerPeer> {
        let received = Arc::new(Capture::memory(RECEIVED_CAP));
        let requests = Arc::new(AtomicU64::new(0));
        let pings = Arc::new(Mutex::new(Vec::new()));
        let mail = super::smtp::Sessions::default();
        let state = Shared {
            mail: Arc::clone(&mail),
            name: name.to_owned(),
            plan,
            seed,
            transcript,
            received: Arc::clone(&received),
            requests: Arc::clone(&requests),
            pings: Arc::clone(&pings),
        };
        let state_family = state.plan.family;
        let (open, backlog) = (OpenConnections::default(), Backlog::default());
        let (port, task) = match state.plan.transport {
            Transport::Tcp => {
                // The port is taken now, so a client can be pointed at it; with
                // `listen_after`, connections are refused until then (SPEC wait/1).
                let (port, listening) = net
                    .listen_after(state.plan.family, state.plan.listen_after)
                    .await?;
                let (open, backlog) = (open.clone(), backlog.clone());
                // Listening later (`listen_after`) is the peer's own doing.
                let held = state.transcript.pending().hold();
                let task = tokio::spawn(async move {
                    let listening = listening.await;
                    drop(held);
                    let Ok(listener) = listening else {
                        return;
                    };
                    backlog.watch_listener(&listener);
                    // Dropping the set (when the peer is dropped) aborts every connection.
                    let mut connections = JoinSet::new();
                    while let Ok(connection) = listener.accept().await {
                        // Counted before the connection task is spawned, uncounted when it
                        // ends or is aborted.
                        let serving = open.hold();
                        while connections.try_join_next().is_some() {}
                        let state = state.clone();
                        connections.spawn(async move {
                            let _serving = serving;
                            state.serve_connection(connection).await;
                        });
                    }
                });
                (port, task)
            }
            Transport::Udp => {
                let socket = net.bind_udp().await?;
                backlog.watch_datagrams(&socket);
                let port = socket.port()?;
                (port, tokio::spawn(state.serve_datagrams(socket)))
            }
        };
        Ok(ServerPeer {
            port,
            family: state_family,
            received,
            requests,
            pings,
            mail,
            open,
            backlog,
            task,
        })
    }

    /// Whether nothing more can reach it from programs that have all ended: no connection
    /// open, none waiting to be accepted, no datagram waiting to be read. `None` where the
    /// world cannot tell (simulated).
    pub fn drained(&self) -> Option<bool> {
        let empty = self.backlog.empty()?;
        Some(empty && self.open.count() == 0)
    }

    /// Everything the program sent, in arrival order (every connection, every datagram).
    pub fn received(&self) -> &Capture {
        &self.received
    }

    /// Connections accepted (TCP) or datagrams received (UDP).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Acquire)
    }

    /// What a mail server peer's clients did, one session per connection.
    pub fn mail_sessions(&self) -> Vec<super::smtp::SmtpSession> {
        self.mail
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The pings a scripted ping server received, in arrival order.
    pub fn pings(&self) -> Vec<PingRecord> {
        self.pings
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

impl Drop for ServerPeer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What every connection of one server peer shares.
#[derive(Debug, Clone)]
struct Shared {
    name: String,
    plan: ServerPlan,
    /// The run's seed, for the slices of the answers.
    seed: u64,
    transcript: Transcript,
    received: Arc<Capture>,
    requests: Arc<AtomicU64>,
    pings: Arc<Mutex<Vec<PingRecord>>>,
    mail: super::smtp::Sessions,
}

impl Shared {
    /// One TCP client: read its request, answer, close.
    async fn serve_connection(self, connection: PeerConnection) {
        let number = self.requests.fetch_add(1, Ordering::AcqRel) + 1;
        let label = format!("{}#{number}", self.name);
        let flow = Flow::opened_by_program(
            &label,
            Protocol::Tcp,
            self.transcript.client_end(&self.name, connection.remote),
            FlowEnd::harness(&self.name, connection.local),
        );
        if let Speaks::Smtp(script) = &self.plan.speaks {
            self.transcript
                .opened(Direction::FromProgram, "connected", flow);
            let (script, transcript) = (script.clone(), self.transcript.clone());
            let (received, mail) = (Arc::clone(&self.received), Arc::clone(&self.mail));
            super::smtp::serve(connection, label, script, transcript, received, mail).await;
            return;
        }
        let PeerConnection {
            mut reader,
            mut writer,
            ..
        } = connection;
        let flow = self
            .transcript
            .opened(Direction::FromProgram, "connected", flow);
        // Without a reply there is nothing to wait for: read until the client is done.
        let until = match &self.plan.speaks {
            Speaks::Origin(_) => ReadUntil::BlankLine,
            Speaks::Bytes {
                reply: Some(_),
                read_until,
                ..
            } => *read_until,
            _ => ReadUntil::Eof,
        };
        let mut buffer = vec![0u8; 64 * 1024];
        // The request so far, to find where an HTTP head ends (bounded: heads are small).
        let mut head = Vec::new();
        loop {
            match reader.read(&mut buffer).await {
                Ok(0) => {
                    self.transcript
                        .fin(&label, Direction::FromProgram, "half-closed (FIN)");
                    break;
                }
                Ok(count) => {
                    let piece = &buffer[..count];
                    self.transcript.data(&label, Direction::FromProgram, piece);
                    if self.received.append(piece).is_err() {
                        return;
                    }
                    if until == ReadUntil::Newline && piece.contains(&b'\n') {
                        break;
                    }
                    if until == ReadUntil::BlankLine {
                        head.extend_from_slice(
                            &piece[..piece.len().min(MAX_HEAD - head.len().min(MAX_HEAD))],
                        );
                        if head_end(&head).is_some() || head.len() >= MAX_HEAD {
                            break;
                        }
                    }
                }
                Err(error) => {
                    let text = format!("error: {error}");
                    if error.kind() == io::ErrorKind::ConnectionReset {
                        self.transcript.reset(&label, Direction::FromProgram, text);
                    } else {
                        self.transcript.event(&label, Direction::FromProgram, text);
                    }
                    return;
                }
            }
        }
        // The request is in: the answer (delayed, sliced) is under way until it is sent.
        let held = self.transcript.pending().hold();
        // Each connection's answer is cut by a plan of its own, replayable from the seed.
        let mut slicer = self.plan.slices.is_sliced().then(|| {
            self.plan
                .slices
                .slicer(self.seed, &format!("{label}/answer"))
        });
        if let Speaks::Origin(origin) = &self.plan.speaks {
            if !origin.delay.is_zero() {
                tokio::time::sleep(origin.delay).await;
            }
            let head = origin.head().into_bytes();
            let written = async {
                if origin.pause.is_zero() && origin.body.len() <= ONE_WRITE {
                    // A small response leaves in one write, as one segment (unless the
                    // scenario slices it): a proxy's single `recv` gets all of it (its bug
                    // shows only where the scenario says so, and then always).
                    let mut whole = head;
                    whole.extend_from_slice(&origin.body.bytes());
                    let whole = Payload::Bytes(whole.into());
                    return write_payload(
                        &mut writer,
                        &whole,
                        &label,
                        &self.transcript,
                        &mut slicer,
                    )
                    .await;
                }
                let head = Payload::Bytes(head.into());
                write_payload(&mut writer, &head, &label, &self.transcript, &mut slicer).await?;
                if !origin.pause.is_zero() {
                    // The head has surely arrived, alone, before the body leaves.
                    tokio::time::sleep(origin.pause).await;
                }
                write_payload(
                    &mut writer,
                    &origin.body,
                    &label,
                    &self.transcript,
                    &mut slicer,
                )
                .await
            };
            if let Err(error) = written.await {
                self.write_failed(&label, flow, &error);
                return;
            }
        }
        if let Some(reply) = self.plan.speaks.reply()
            && let Err(error) =
                write_payload(&mut writer, reply, &label, &self.transcript, &mut slicer).await
        {
            self.write_failed(&label, flow, &error);
            return;
        }
        drop(held);
        if let Speaks::Bytes {
            keep_open: true, ..
        } = self.plan.speaks
        {
            self.read_until_closed(&mut reader, &label, &mut buffer)
                .await;
        }
        // A close after the answer: the client's read returns 0, its cue that the reply is whole.
        if writer.shutdown().await.is_ok() {
            self.transcript
                .closed(&label, Direction::ToProgram, "closed");
        }
    }

    /// Records what the client sends until it closes (or resets) the connection.
    async fn read_until_closed<R: tokio::io::AsyncRead + Unpin>(
        &self,
        reader: &mut R,
        label: &str,
        buffer: &mut [u8],
    ) {
        loop {
            match reader.read(buffer).await {
                Ok(0) => {
                    self.transcript
                        .fin(label, Direction::FromProgram, "half-closed (FIN)");
                    return;
                }
                Ok(count) => {
                    let piece = &buffer[..count];
                    self.transcript.data(label, Direction::FromProgram, piece);
                    if self.received.append(piece).is_err() {
                        return;
                    }
                }
                Err(error) => {
                    let text = format!("error: {error}");
                    if error.kind() == io::ErrorKind::ConnectionReset {
                        self.transcript.reset(label, Direction::FromProgram, text);
                    } else {
                        self.transcript.event(label, Direction::FromProgram, text);
                    }
                    return;
                }
            }
        }
    }

    /// Writing to the client failed: said as it was, and, when the client had reset the
    /// connection (what makes a write fail), its RST on the wire.
    fn write_failed(&self, label: &str, flow: FlowId, error: &io::Error) {
        self.transcript
            .event(label, Direction::ToProgram, format!("error: {error}"));
        if matches!(
            error.kind(),
            io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
        ) {
            self.transcript
                .on_wire(label, Some(flow), Direction::FromProgram, WireAct::Reset);
        }
    }

    /// UDP: answer every datagram to its sender.
    async fn serve_datagrams(self, socket: PeerDatagram) {
        let mut buffer = vec![0u8; MAX_DATAGRAM];
        let reply = self.plan.speaks.reply().map(Payload::bytes);
        // Its address, for the capture (0.0.0.0:0 if the socket cannot tell).
        let local = socket
            .local_addr()
            .unwrap_or_else(|_| std::net::SocketAddr::from(([0, 0, 0, 0], 0)));
        let socket = Arc::new(socket);
        // Late answers leave from their own tasks; dropping the set cancels them.
        let mut late_answers = JoinSet::new();
        while let Ok((size, sender)) = socket.recv_from(&mut buffer).await {
            let datagram = &buffer[..size];
            self.requests.fetch_add(1, Ordering::AcqRel);
            // One flow per program socket that writes to this one.
            let flow = self.transcript.flow(Flow::opened_by_program(
                &self.name,
                Protocol::Udp,
                self.transcript.client_end(&self.name, sender),
                FlowEnd::harness(&self.name, local),
            ));
            self.transcript
                .datagram(flow, Direction::FromProgram, datagram);
            self.transcript
                .event(&self.name, Direction::FromProgram, "end of datagram");
            if self.received.append(datagram).is_err() {
                return;
            }
            if let Speaks::Ping(script) = &self.plan.speaks {
                let Some(seq) = ping_sequence(datagram) else {
                    self.transcript.event(
                        &self.name,
                        Direction::FromProgram,
                        "not a ping (`Ping <seq> <time>`): ignored",
                    );
                    continue;
                };
                let answered_after = script.fate(seq);
                self.pings
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .push(PingRecord {
                        seq,
                        answered_after,
                    });
                let Some(delay) = answered_after else {
                    self.transcript.event(
                        &self.name,
                        Direction::ToProgram,
                        format!("ping {seq} dropped on purpose"),
                    );
                    continue;
                };
                let answer = datagram.to_ascii_uppercase();
                let (socket, transcript, name) = (
                    Arc::clone(&socket),
                    self.transcript.clone(),
                    self.name.clone(),
                );
                let held = self.transcript.pending().hold();
                late_answers.spawn(async move {
                    let _held = held;
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    if socket.send_to(&answer, sender).await.is_ok() {
                        transcript.datagram(flow, Direction::ToProgram, &answer);
                        let note = if delay.is_zero() {
                            "end of datagram".to_owned()
                        } else {
                            format!(
                                "end of datagram (answer to ping {seq}, held {} ms)",
                                delay.as_millis()
                            )
                        };
                        transcript.event(&name, Direction::ToProgram, note);
                    }
                });
                while late_answers.try_join_next().is_some() {}
                continue;
            }
            if let Some(reply) = &reply
                && socket.send_to(reply, sender).await.is_ok()
            {
                self.transcript.datagram(flow, Direction::ToProgram, reply);
                self.transcript
                    .event(&self.name, Direction::ToProgram, "end of datagram");
            }
        }
    }
}

/// Writes a whole payload, piece by piece (it may be larger than memory wants to hold);
/// with a slicer, in the slices it draws, pausing between them.
async fn write_payload(
    writer: &mut crate::world::sockets::PeerWriter,
    payload: &Payload,
    label: &str,
    transcript: &Transcript,
    slicer: &mut Option<Slicer>,
) -> io::Result<()> {
    let mut buffer = vec![0u8; 64 * 1024];
    let mut offset = 0;
    while offset < payload.len() {
        let filled = payload.read_at(offset, &mut buffer)?;
        let mut written = 0;
        while written < filled {
            let size = slicer.as_mut().map_or(filled - written, |slicer| {
                slicer.next_size().min(filled - written)
            });
            let piece = &buffer[written..written + size];
            writer.write_all(piece).await?;
            transcript.data(label, Direction::ToProgram, piece);
            written += size;
            if let Some(slicer) = slicer.as_mut() {
                let gap = slicer.next_gap();
                if !gap.is_zero() {
                    tokio::time::sleep(gap).await;
                }
            }
        }
        offset += filled as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A TCP server peer that records what comes until the client closes.
    async fn recording_peer() -> ServerPeer {
        let plan = ServerPlan {
            transport: Transport::Tcp,
            speaks: Speaks::Bytes {
                reply: None,
                read_until: ReadUntil::Eof,
                keep_open: false,
            },
            slices: SlicePlan::WHOLE,
            family: crate::world::sockets::Family::Ipv4,
            listen_after: Duration::ZERO,
        };
        let transcript = Transcript::new(tokio::time::Instant::now());
        ServerPeer::start(&PeerNet::Real, "srv", plan, 1, transcript)
            .await
            .expect("listens")
    }

    /// Polls `holds` every millisecond, at most 5 s.
    async fn eventually(holds: impl Fn() -> bool) -> bool {
        for _ in 0..5000 {
            if holds() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        false
    }

    #[tokio::test]
    async fn a_peer_is_drained_only_once_every_connection_has_ended() {
        let peer = recording_peer().await;
        assert_eq!(peer.drained(), Some(true));
        let mut client = std::net::TcpStream::connect(("127.0.0.1", peer.port)).unwrap();
        client.write_all(b"first").unwrap();
        // Accepted and read: still open, so more may come.
        assert!(eventually(|| peer.received().len() == 5).await);
        assert_eq!(peer.drained(), Some(false));
        client.write_all(b" second").unwrap();
        drop(client);
        assert!(eventually(|| peer.drained() == Some(true)).await);
        assert_eq!(peer.received().head(64), b"first second");
    }
}
