//! The harness as a server: what a submission's client program talks to.
//!
//! A client is tested against a server whose behaviour the scenario scripts: it listens on
//! a fresh port of the harness's host (TCP or UDP), keeps everything the client sends for
//! the scenario to check, and answers with a fixed reply, or never (to see that the client
//! gives up by itself instead of hanging), or speaks a protocol by a pack's script (a ping
//! server, an HTTP origin, a mail server: `crate::protocols`), which keeps its own record
//! of what happened, for the pack's judges.
//!
//! Over TCP its answer (a `reply`, or a protocol's) can be cut into slices
//! (`slices = { size = [1, 512], gap_ms = [1, 3] }` on the `listen` step): a client that
//! takes one `recv` for the whole reply then gets only its first piece, as it would on a
//! real network (SPEC upper/3: the client reads until the server closes).

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Deserialize;
use tokio::task::{JoinHandle, JoinSet};

use super::protocol::{ProtocolRecord, ProtocolScript, ProtocolServer};
use super::{Conversation, DatagramAnswer, MAX_DATAGRAM, RECEIVED_CAP};
use crate::faults::SlicePlan;
use crate::payload::Payload;
use crate::transcript::{Direction, Transcript};
use crate::wire::{Flow, FlowEnd, Protocol};
use crate::world::backlog::{Backlog, OpenConnections};
use crate::world::capture::Capture;
use crate::world::sockets::{PeerConnection, PeerDatagram, PeerNet};

/// TCP or UDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// A TCP listener: a connection per client (the default).
    #[default]
    Tcp,
    /// A UDP socket: datagrams instead of connections.
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
}

/// What a server peer does.
#[derive(Debug, Clone)]
pub struct ServerPlan {
    /// TCP or UDP.
    pub transport: Transport,
    /// What it answers: the scenario's bytes, or a protocol it plays by a script.
    pub speaks: Speaks,
    /// TCP: how the answer (`reply` or the protocol's) is cut into writes; whole writes
    /// unless the scenario says otherwise.
    pub slices: SlicePlan,
    /// The address family it listens on (TCP).
    pub family: crate::world::sockets::Family,
    /// TCP: how long after the step it starts accepting connections (its port is bound
    /// at once, so a client can be given it; until then a connection is refused).
    pub listen_after: Duration,
}

/// What a server peer speaks: the scenario's bytes, or one protocol by its pack's script.
#[derive(Debug, Clone)]
pub enum Speaks {
    /// The scenario's bytes: `reply` to every request (TCP: then it closes), or none at all.
    Bytes {
        /// What it sends (`None`: it sends nothing, it only records).
        reply: Option<Payload>,
        /// TCP: when the request is complete.
        read_until: ReadUntil,
        /// TCP: after `reply`, keep the connection open and go on recording what the
        /// client sends, until it closes (a chat client talks on after the server's first
        /// lines).
        keep_open: bool,
    },
    /// A protocol of a pack (`crate::protocols`), by the script its options gave.
    Protocol(Arc<dyn ProtocolScript>),
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
        matches!(self, Speaks::Protocol(script) if script.offers_tls())
    }
}

/// A listening server peer; dropping it closes its socket and every connection.
#[derive(Debug)]
pub struct ServerPeer {
    /// The port it listens on.
    pub port: u16,
    /// The address family it listens on.
    pub family: crate::world::sockets::Family,
    /// It speaks TLS from the first byte (its protocol's script says so).
    pub tls_from_first_byte: bool,
    /// A second port where it speaks TLS from the first byte, though its own port speaks
    /// in clear or offers STARTTLS (see `ProtocolScript::tls_port_too`): where a client
    /// that always connects to IMAPS, POP3S or SMTPS (993, 995, 465) is sent.
    pub tls_port: Option<u16>,
    /// Its protocol's script, for what its clients find in their `HOME`.
    script: Option<Arc<dyn ProtocolScript>>,
    received: Arc<Capture>,
    requests: Arc<AtomicU64>,
    /// The protocol it speaks, with its record (none: the scenario's bytes).
    protocol: Option<Arc<dyn ProtocolServer>>,
    /// TCP connections accepted and still being served.
    open: OpenConnections,
    /// Connections (TCP) or datagrams (UDP) the kernel holds that it has not taken yet.
    backlog: Backlog,
    /// The same for its port of TLS from the first byte.
    tls_backlog: Backlog,
    task: JoinHandle<()>,
    /// The accept loop of its port of TLS from the first byte.
    _tls_accepting: Option<AbortOnDrop>,
}

impl ServerPeer {
    /// The files a program told to reach this peer at `host:port` finds in its `HOME`
    /// (see `ProtocolScript::client_home_files`).
    pub fn client_home_files(&self, host: &str, port: u16) -> Vec<(std::path::PathBuf, Vec<u8>)> {
        self.script
            .as_ref()
            .map(|script| script.client_home_files(host, port))
            .unwrap_or_default()
    }

    /// Listens on a fresh port of the harness's host and serves in the background, as a
    /// run with `settings` plays its protocol (who plays a MySQL server, where an SSH
    /// peer's remote machine runs its commands).
    pub async fn start(
        net: &PeerNet,
        name: &str,
        plan: ServerPlan,
        seed: u64,
        transcript: Transcript,
        settings: &crate::settings::RunSettings,
    ) -> io::Result<ServerPeer> {
        let received = Arc::new(Capture::memory(RECEIVED_CAP));
        let requests = Arc::new(AtomicU64::new(0));
        let protocol = match &plan.speaks {
            Speaks::Protocol(script) => Some(script.start(settings)),
            Speaks::Bytes { .. } => None,
        };
        let datagrams_too =
            matches!(&plan.speaks, Speaks::Protocol(script) if script.datagrams_too());
        let tls_from_first_byte =
            matches!(&plan.speaks, Speaks::Protocol(script) if script.tls_from_first_byte());
        // Only on real sockets: the simulated world's programs are the reference, which
        // connects where it is told.
        let tls_port_too = plan.transport == Transport::Tcp
            && matches!(net, PeerNet::Real(_))
            && matches!(&plan.speaks, Speaks::Protocol(script) if script.tls_port_too());
        let script = match &plan.speaks {
            Speaks::Protocol(script) => Some(Arc::clone(script)),
            Speaks::Bytes { .. } => None,
        };
        let state = Shared {
            net: net.clone(),
            protocol: protocol.clone(),
            name: name.to_owned(),
            plan,
            seed,
            transcript,
            received: Arc::clone(&received),
            requests: Arc::clone(&requests),
        };
        let state_family = state.plan.family;
        let (open, backlog) = (OpenConnections::default(), Backlog::default());
        let tls_backlog = Backlog::default();
        let (tls_port, tls_task) = if tls_port_too {
            let (port, listening) = net
                .listen_after(state.plan.family, state.plan.listen_after)
                .await?;
            let task = tokio::spawn(accept_all(
                listening,
                state.clone(),
                (open.clone(), tls_backlog.clone()),
                true,
            ));
            (Some(port), Some(AbortOnDrop(task)))
        } else {
            (None, None)
        };
        let (port, task) = match state.plan.transport {
            Transport::Tcp => {
                // The port is taken now, so a client can be pointed at it; with
                // `listen_after`, connections are refused until then (SPEC wait/1).
                let (port, listening) = net
                    .listen_after(state.plan.family, state.plan.listen_after)
                    .await?;
                let (open, backlog) = (open.clone(), backlog.clone());
                let datagrams = if datagrams_too {
                    let socket = net.bind_udp_at(state.plan.family, port).await?;
                    let unstamped = state.stamp_arrivals(&socket).await;
                    Some(tokio::spawn(
                        state.clone().serve_datagrams(socket, unstamped),
                    ))
                } else {
                    None
                };
                let task = tokio::spawn(async move {
                    // Aborting this task (the peer is dropped) aborts the datagrams' too.
                    let _datagrams = datagrams.map(AbortOnDrop);
                    accept_all(listening, state, (open, backlog), false).await;
                });
                (port, task)
            }
            Transport::Udp => {
                let socket = net.bind_udp().await?;
                backlog.watch_datagrams(&socket);
                let port = socket.port()?;
                let unstamped = state.stamp_arrivals(&socket).await;
                (port, tokio::spawn(state.serve_datagrams(socket, unstamped)))
            }
        };
        Ok(ServerPeer {
            port,
            family: state_family,
            tls_from_first_byte,
            tls_port,
            script,
            received,
            requests,
            protocol,
            open,
            backlog,
            tls_backlog,
            task,
            _tls_accepting: tls_task,
        })
    }

    /// Whether nothing more can reach it from programs that have all ended: no connection
    /// open, none waiting to be accepted, no datagram waiting to be read. `None` where the
    /// world cannot tell (simulated).
    pub fn drained(&self) -> Option<bool> {
        let empty = self.backlog.empty()? && self.tls_backlog.empty()?;
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

    /// What the protocol it speaks recorded, for the pack's judges (none: it speaks the
    /// scenario's bytes).
    pub fn record(&self) -> Option<&dyn ProtocolRecord> {
        self.protocol.as_deref().map(|protocol| protocol.record())
    }
}

impl Drop for ServerPeer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Accepts the connections of `listening` once it listens, each served by `state`, until
/// the peer is dropped; `tls_first`: the port where it speaks TLS from the first byte.
async fn accept_all(
    listening: impl std::future::Future<Output = io::Result<crate::world::sockets::PeerListener>>,
    state: Shared,
    (open, backlog): (OpenConnections, Backlog),
    tls_first: bool,
) {
    // Listening later (`listen_after`) is the peer's own doing.
    let held = state.transcript.pending().hold();
    let listening = listening.await;
    drop(held);
    let Ok(listener) = listening else {
        return;
    };
    backlog.watch_listener(&listener);
    // Dropping the set (when the peer is dropped) aborts every connection.
    let mut connections = JoinSet::new();
    while let Ok(connection) = listener.accept().await {
        // Counted before the connection task is spawned, uncounted when it ends or is
        // aborted.
        let serving = open.hold();
        while connections.try_join_next().is_some() {}
        let state = state.clone();
        connections.spawn(async move {
            let _serving = serving;
            state.serve_connection(connection, tls_first).await;
        });
    }
}

/// A task that ends with its owner.
#[derive(Debug)]
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What every connection of one server peer shares.
#[derive(Debug, Clone)]
struct Shared {
    name: String,
    /// Where its sockets live (a protocol may open more: FTP's data connections).
    net: PeerNet,
    plan: ServerPlan,
    /// The run's seed, for the slices of the answers.
    seed: u64,
    transcript: Transcript,
    received: Arc<Capture>,
    requests: Arc<AtomicU64>,
    protocol: Option<Arc<dyn ProtocolServer>>,
}

impl Shared {
    /// One TCP client: read its request, answer, close; or the protocol's dialogue.
    async fn serve_connection(self, connection: PeerConnection, tls_first: bool) {
        let number = self.requests.fetch_add(1, Ordering::AcqRel) + 1;
        let label = format!("{}#{number}", self.name);
        let flow = Flow::opened_by_program(
            &label,
            Protocol::Tcp,
            self.transcript.client_end(&self.name, connection.remote),
            FlowEnd::harness(&self.name, connection.local),
        );
        let flow = self
            .transcript
            .opened(Direction::FromProgram, "connected", flow);
        // Each connection's answer is cut by a plan of its own, replayable from the seed.
        let slicer = self.plan.slices.is_sliced().then(|| {
            self.plan
                .slices
                .slicer(self.seed, &format!("{label}/answer"))
        });
        let conversation = Conversation {
            label,
            reader: connection.reader,
            writer: connection.writer,
            transcript: self.transcript.clone(),
            received: Arc::clone(&self.received),
            flow,
            slicer,
            local: connection.local,
            net: self.net.clone(),
            tls_from_first_byte: tls_first,
        };
        match (&self.protocol, &self.plan.speaks) {
            (Some(protocol), _) => Arc::clone(protocol).converse(conversation).await,
            (
                None,
                Speaks::Bytes {
                    reply, read_until, ..
                },
            ) => {
                // Without a reply there is nothing to wait for: read until the client is
                // done.
                let until = if reply.is_some() {
                    *read_until
                } else {
                    ReadUntil::Eof
                };
                self.answer_bytes(conversation, until).await;
            }
            (None, Speaks::Protocol(_)) => unreachable!("a protocol peer starts its protocol"),
        }
    }

    /// The scenario's bytes: the request, then `reply` (if any), then perhaps the rest of
    /// what the client says, then the close.
    async fn answer_bytes(&self, mut conversation: Conversation, until: ReadUntil) {
        let whole = |piece: &[u8]| until == ReadUntil::Newline && piece.contains(&b'\n');
        if !conversation.read_request(whole).await {
            return;
        }
        // The request is in: the answer (sliced) is under way until it is sent.
        let held = self.transcript.pending().hold();
        if let Some(reply) = self.plan.speaks.reply()
            && let Err(error) = conversation.write(reply).await
        {
            conversation.write_failed(&error);
            return;
        }
        drop(held);
        if let Speaks::Bytes {
            keep_open: true, ..
        } = self.plan.speaks
        {
            conversation.read_until_closed().await;
        }
        conversation.close().await;
    }

    /// Where a protocol answers datagrams, asks the kernel to stamp their arrivals and waits
    /// until it does (see `harness_machine::pktinfo`): a scripted answer held for a while
    /// counts that while from the datagram's arrival. Done before the peer is started, so
    /// before any program may send it a datagram: none waits unread meanwhile. What went
    /// wrong, if anything, for the log.
    async fn stamp_arrivals(&self, socket: &PeerDatagram) -> Option<io::Error> {
        self.protocol.as_ref()?;
        socket.stamp_arrivals().await.err()
    }

    /// UDP: answer every datagram to its sender. `unstamped`: why the kernel does not stamp
    /// their arrivals, where it does not ([`Self::stamp_arrivals`]).
    async fn serve_datagrams(self, socket: PeerDatagram, unstamped: Option<io::Error>) {
        let mut buffer = vec![0u8; MAX_DATAGRAM];
        let reply = self.plan.speaks.reply().map(Payload::bytes);
        // Its address, for the capture (0.0.0.0:0 if the socket cannot tell).
        let local = socket
            .local_addr()
            .unwrap_or_else(|_| std::net::SocketAddr::from(([0, 0, 0, 0], 0)));
        if let Some(error) = unstamped {
            self.transcript.event(
                &self.name,
                Direction::ToProgram,
                format!("the kernel cannot stamp datagrams' arrivals ({error}): held answers count from their reading"),
            );
        }
        let socket = Arc::new(socket);
        // Late answers leave from their own tasks; dropping the set cancels them.
        let mut late_answers = JoinSet::new();
        while let Ok((size, sender, arrived)) = socket.recv_stamped(&mut buffer).await {
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
            if let Some(protocol) = &self.protocol {
                let mut answer = DatagramAnswer {
                    name: &self.name,
                    socket: &socket,
                    sender,
                    arrived,
                    flow,
                    transcript: &self.transcript,
                    late: &mut late_answers,
                };
                protocol.datagram(datagram, &mut answer);
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
        let settings = crate::settings::RunSettings::machine_defaults();
        ServerPeer::start(
            &PeerNet::Real(Default::default()),
            "srv",
            plan,
            1,
            transcript,
            &settings,
        )
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
