//! A relay between a submission's client and its server.
//!
//! When two programs of a submission talk to each other, the harness sits in the middle:
//! the client is pointed at the relay's port, and every connection it opens is forwarded
//! to the server. The relay records both directions in the transcript, applies one slice
//! plan to what goes to the server (so a server that is fine on loopback still has to
//! face short reads) and another to what the server answers on its way back to the client
//! (so the client's reading of a reply faces them too), and passes half-closes and resets
//! through.
//!
//! ```toml
//! [[step]]
//! relay = "server"
//! as = "relay"
//! slices = { size = [1, 3], gap_ms = [0, 2] }        # client -> server
//! reply_slices = { size = [1, 3], gap_ms = [0, 2] }  # server -> client
//! ```
//!
//! On the wire a relayed connection is two TCP connections, its two legs: the client
//! program to the relay, and the relay to the server program. Both carry the same bytes;
//! the packet capture shows both ([`crate::pcap`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::{JoinHandle, JoinSet};

use super::read_pacing::ReadPacer;
use crate::faults::SlicePlan;
use crate::transcript::{Direction, Transcript};
use crate::wire::{Flow, FlowEnd, FlowId, Protocol, WireAct};
use crate::world::sockets::{PeerConnection, PeerNet, PeerReader, PeerWriter};

/// A running relay; dropping it stops accepting and cuts every connection.
#[derive(Debug)]
pub struct Relay {
    /// The port clients connect to.
    pub port: u16,
    connections: Arc<AtomicU64>,
    task: JoinHandle<()>,
    /// Asks the accepting task to take every connection already queued ([`Relay::settle`]).
    settle: tokio::sync::mpsc::UnboundedSender<tokio::sync::oneshot::Sender<()>>,
}

impl Relay {
    /// Listens on a fresh port of the harness's host and forwards to `upstream`.
    pub async fn start(
        net: &PeerNet,
        name: &str,
        upstream: (&str, u16),
        (slices, reply_slices): (SlicePlan, SlicePlan),
        seed: u64,
        transcript: Transcript,
    ) -> std::io::Result<Relay> {
        let listener = net.listen(crate::world::sockets::Family::Ipv4).await?;
        let port = listener.port()?;
        let upstream = (upstream.0.to_owned(), upstream.1);
        let net = net.clone();
        let connections = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&connections);
        let name = name.to_owned();
        let (settle, mut settle_asked) =
            tokio::sync::mpsc::unbounded_channel::<tokio::sync::oneshot::Sender<()>>();
        let task = tokio::spawn(async move {
            // Dropping the set (when the relay is dropped) aborts every forwarding task.
            let mut forwards = JoinSet::new();
            let mut start_forward = |downstream: PeerConnection| {
                while forwards.try_join_next().is_some() {}
                let number = counter.fetch_add(1, Ordering::AcqRel) + 1;
                let label = format!("{name}#{number}");
                // Its first leg is on the record from the moment it is accepted.
                let client_leg = record_client_leg(&transcript, &name, &label, &downstream);
                forwards.spawn(forward(
                    net.clone(),
                    (name.clone(), label, client_leg),
                    downstream,
                    upstream.clone(),
                    (slices, reply_slices),
                    seed,
                    transcript.clone(),
                ));
            };
            loop {
                tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok(downstream) => start_forward(downstream),
                        Err(_) => break,
                    },
                    Some(done) = settle_asked.recv() => {
                        while let Some(Ok(downstream)) = listener.queued() {
                            start_forward(downstream);
                        }
                        let _ = done.send(());
                    }
                }
            }
        });
        Ok(Relay {
            port,
            connections,
            task,
            settle,
        })
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Acquire)
    }

    /// Takes every connection a program has opened that the kernel still holds in the
    /// listener's queue, so that each is on the record before the scenario ends: a client
    /// that connected and ended at once (under load, before this task ran) connected all
    /// the same, and a report must not say it never did.
    pub async fn settle(&self) {
        let (done, settled) = tokio::sync::oneshot::channel();
        if self.settle.send(done).is_ok() {
            let _ = settled.await;
        }
    }
}

/// Records the first leg of a relayed connection: the client program connected to the
/// relay.
fn record_client_leg(
    transcript: &Transcript,
    name: &str,
    label: &str,
    downstream: &PeerConnection,
) -> FlowId {
    let client_leg = Flow {
        to_program_from: crate::wire::Side::Client,
        ..Flow::opened_by_program(
            label,
            Protocol::Tcp,
            transcript.client_end(name, downstream.remote),
            FlowEnd::harness(name, downstream.local),
        )
    };
    transcript.opened(
        Direction::ToProgram,
        "client connected to relay",
        client_leg,
    )
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(
    net: PeerNet,
    (name, label, client_leg): (String, String, FlowId),
    downstream: PeerConnection,
    (upstream_host, upstream_port): (String, u16),
    (slices, reply_slices): (SlicePlan, SlicePlan),
    seed: u64,
    transcript: Transcript,
) {
    let upstream = net
        .connect(&upstream_host, upstream_port, slices.is_sliced())
        .await;
    let upstream = match upstream {
        Ok(upstream) => upstream,
        Err(error) => {
            transcript.event(
                &label,
                Direction::ToProgram,
                format!("cannot reach the server: {error}"),
            );
            let _ = downstream.writer.reset();
            // The relay is the client program's server: it answers "from the program".
            transcript.on_wire(
                &label,
                Some(client_leg),
                Direction::FromProgram,
                WireAct::Reset,
            );
            return;
        }
    };
    // The second leg: the relay connected to the server program.
    let server_leg = transcript.flow(Flow {
        relay_slices: Some(slices.is_sliced()),
        ..Flow::opened_by_harness(
            &label,
            Protocol::Tcp,
            FlowEnd::harness(&name, upstream.local),
            transcript.program_end(&name, upstream.remote),
        )
    });
    let PeerConnection {
        reader: down_read,
        writer: down_write,
        ..
    } = downstream;
    let PeerConnection {
        reader: up_read,
        writer: up_write,
        ..
    } = upstream;
    let slicer_seed = (seed, format!("{label}/to-server"));
    let to_server = pump(
        down_read,
        up_write,
        slices.is_sliced().then_some((slices, slicer_seed)),
        (label.clone(), client_leg, server_leg),
        Direction::ToProgram,
        transcript.clone(),
    );
    // The client leg was accepted with TCP_NODELAY: the answer's slices leave one by one.
    let to_client = pump(
        up_read,
        down_write,
        reply_slices
            .is_sliced()
            .then(|| (reply_slices, (seed, format!("{label}/to-client")))),
        (label, server_leg, client_leg),
        Direction::FromProgram,
        transcript,
    );
    tokio::pin!(to_server, to_client);
    let (mut to_server_done, mut to_client_done) = (false, false);
    while !(to_server_done && to_client_done) {
        let end = tokio::select! {
            end = &mut to_server, if !to_server_done => { to_server_done = true; end }
            end = &mut to_client, if !to_client_done => { to_client_done = true; end }
        };
        if end == PumpEnd::Reset {
            // Dropping the other direction closes both sockets; the one whose linger was
            // set to zero sends RST, so the reset reaches the other side as a reset.
            break;
        }
    }
}

/// How one direction of a relayed connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PumpEnd {
    /// End of stream, passed on as a half-close.
    Finished,
    /// An error (a reset), passed on as a reset.
    Reset,
}

/// Copies one direction, slicing if asked; passes end-of-stream on as a half-close and an
/// error on as a reset. `legs`: the connection's label, the leg read from, the leg written
/// to.
async fn pump(
    mut from: PeerReader,
    mut to: PeerWriter,
    slicing: Option<(SlicePlan, (u64, String))>,
    (label, from_leg, to_leg): (String, FlowId, FlowId),
    direction: Direction,
    transcript: Transcript,
) -> PumpEnd {
    let mut slicer = slicing.map(|(plan, (seed, name))| plan.slicer(seed, &name));
    let addresses = slicer
        .as_ref()
        .filter(|slicer| slicer.is_sliced())
        .and_then(|_| to.real_addresses());
    let mut pacer = ReadPacer::new(addresses);
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let received = match from.read(&mut buffer).await {
            Ok(0) => {
                let _ = to.shutdown().await;
                // FIN on both legs: received on one, passed on along the other.
                transcript.fin(&label, direction, "half-closed (FIN)");
                return PumpEnd::Finished;
            }
            Ok(received) => received,
            Err(error) => {
                // The socket must end with the RST alone, no FIN before it.
                let _ = to.reset();
                transcript.reset(&label, direction, format!("reset ({error})"));
                return PumpEnd::Reset;
            }
        };
        // Passed on in slices, with pauses between them: under way until the last leaves.
        let _held = transcript.pending().hold();
        let mut offset = 0;
        while offset < received {
            let size = slicer.as_mut().map_or(received - offset, |slicer| {
                slicer.next_size().min(received - offset)
            });
            if to.write_all(&buffer[offset..offset + size]).await.is_err() {
                transcript.event(&label, direction, "the other side is gone");
                // It reset the leg written to; the relay then closes the other leg.
                let back = match direction {
                    Direction::ToProgram => Direction::FromProgram,
                    Direction::FromProgram => Direction::ToProgram,
                };
                transcript.on_wire(&label, Some(to_leg), back, WireAct::Reset);
                transcript.on_wire(&label, Some(from_leg), back, WireAct::Close);
                return PumpEnd::Reset;
            }
            transcript.data(&label, direction, &buffer[offset..offset + size]);
            offset += size;
            pacer.after_slice().await;
            if let Some(slicer) = slicer.as_mut() {
                let gap = slicer.next_gap();
                if !gap.is_zero() {
                    tokio::time::sleep(gap).await;
                }
            }
        }
    }
}
