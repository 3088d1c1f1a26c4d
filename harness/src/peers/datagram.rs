//! The harness as a UDP client: sends one datagram to the program and keeps every datagram
//! that comes back.
//!
//! UDP keeps message boundaries: what the program receives is exactly the one datagram, and
//! each of its replies arrives whole (or not at all). Replies are appended in arrival order
//! to what the scenario checks, and counted, so "one reply of 2048 bytes" and "two replies
//! of 1024" can be told apart.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::task::JoinHandle;

use super::{MAX_DATAGRAM, RECEIVED_CAP};
use crate::payload::Payload;
use crate::transcript::{Direction, Transcript};
use crate::wire::{Flow, FlowEnd, Protocol};
use crate::world::backlog::Backlog;
use crate::world::capture::Capture;
use crate::world::sockets::PeerNet;

/// A datagram the harness sent, and the replies it collects; dropping it closes the socket.
#[derive(Debug)]
pub struct DatagramPeer {
    received: Arc<Capture>,
    replies: Arc<AtomicU64>,
    /// Replies the kernel holds that the peer has not read yet.
    backlog: Backlog,
    task: JoinHandle<()>,
}

impl DatagramPeer {
    /// Sends `payload` as one datagram to `host:port`, then listens for replies.
    pub async fn send(
        net: &PeerNet,
        name: &str,
        (host, port): (&str, u16),
        payload: &Payload,
        transcript: Transcript,
    ) -> io::Result<DatagramPeer> {
        let socket = net.bind_udp().await?;
        let backlog = Backlog::default();
        backlog.watch_datagrams(&socket);
        let target = net.resolve(host, port).await?;
        let mut datagram = vec![0u8; payload.len() as usize];
        payload.read_at(0, &mut datagram)?;
        socket.send_to(&datagram, target).await?;
        // Its address, for the capture (0.0.0.0:0 if the socket cannot tell).
        let local = socket
            .local_addr()
            .unwrap_or_else(|_| std::net::SocketAddr::from(([0, 0, 0, 0], 0)));
        let flow = transcript.flow(Flow::opened_by_harness(
            name,
            Protocol::Udp,
            FlowEnd::harness(name, local),
            transcript.program_end(name, target),
        ));
        transcript.datagram(flow, Direction::ToProgram, &datagram);
        transcript.event(name, Direction::ToProgram, "end of datagram");

        let received = Arc::new(Capture::memory(RECEIVED_CAP));
        let replies = Arc::new(AtomicU64::new(0));
        let task = {
            let (received, replies, name) =
                (Arc::clone(&received), Arc::clone(&replies), name.to_owned());
            tokio::spawn(async move {
                let mut buffer = vec![0u8; MAX_DATAGRAM];
                while let Ok((size, sender)) = socket.recv_from(&mut buffer).await {
                    // The flow written to, unless the reply comes from elsewhere.
                    let flow = transcript.flow(Flow::opened_by_harness(
                        &name,
                        Protocol::Udp,
                        FlowEnd::harness(&name, local),
                        transcript.program_end(&name, sender),
                    ));
                    transcript.datagram(flow, Direction::FromProgram, &buffer[..size]);
                    transcript.event(&name, Direction::FromProgram, "end of datagram");
                    // Kept before it is counted: a reply counted is a reply readable.
                    if received.append(&buffer[..size]).is_err() {
                        break;
                    }
                    replies.fetch_add(1, Ordering::AcqRel);
                }
            })
        };
        Ok(DatagramPeer {
            received,
            replies,
            backlog,
            task,
        })
    }

    /// Whether every reply that came has been read (`None` where the world cannot tell).
    pub fn drained(&self) -> Option<bool> {
        self.backlog.empty()
    }

    /// Every reply so far, one after another.
    pub fn received(&self) -> &Capture {
        &self.received
    }

    /// How many replies arrived.
    pub fn replies(&self) -> u64 {
        self.replies.load(Ordering::Acquire)
    }
}

impl Drop for DatagramPeer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
