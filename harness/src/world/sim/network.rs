//! The network a simulated program sees: turmoil's sockets on its own host, with every
//! stream made short and resettable, and every bound port recorded (the simulated
//! counterpart of reading `/proc/net/tcp`: the harness knows when a program listens).

use std::collections::BTreeSet;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use reference::net::{Cork, Listener, Network, Turmoil};

use super::reset::{ResetBoard, Resettable};
use crate::faults::{DatagramPlan, FaultyDatagrams, ShortIo, SlicePlan};

/// A stream of a simulated program.
pub(super) type SimStream = Resettable<ShortIo<FinWithRoom>>;

/// The simulated network moves whole writes, not packets: nothing to gather.
impl Cork for SimStream {
    fn set_cork(&self, _: bool) -> io::Result<()> {
        Ok(())
    }
}

/// turmoil's stream, whose shutdown waits for room at the receiver before its FIN leaves.
///
/// turmoil 0.7 lets a data segment leave only with a credit (a free place in the
/// receiver's queue), but sends a FIN without one. A FIN that arrives while the queue is
/// full is parked behind it, and only the arrival of a later segment moves parked ones
/// along: after a FIN none comes, so the receiver never reads its end. It happens when many
/// small writes fill the queue just before a shutdown (a forwarder passing a half-close
/// on, one byte per write). Waiting for a credit first leaves the FIN its place.
pub struct FinWithRoom(turmoil::net::TcpStream);

impl AsyncRead for FinWithRoom {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for FinWithRoom {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // `writable` registers this task to be woken when a credit comes back (and is
        // cancel safe: a new one each poll is fine). An error (the stream is already shut
        // down) is left for turmoil's own shutdown to report.
        let waiting = std::pin::pin!(self.0.writable()).poll(cx).is_pending();
        if waiting {
            return Poll::Pending;
        }
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// What the harness needs to build a simulated program's streams.
#[derive(Debug, Clone)]
pub struct StreamFaults {
    /// How reads and writes are cut (`None`: as turmoil delivers them).
    pub short_io: Option<SlicePlan>,
    /// What happens to the datagrams the program sends.
    pub datagrams: DatagramPlan,
    /// The run's seed.
    pub seed: u64,
    /// Where resets are posted.
    pub board: ResetBoard,
}

/// The network of one simulated host.
#[derive(Debug, Clone)]
pub struct SimNetwork {
    /// The host's name.
    pub host: String,
    faults: StreamFaults,
    listening: Arc<Mutex<BTreeSet<u16>>>,
}

impl SimNetwork {
    /// The network of `host`; ports it listens on are added to `listening`.
    pub fn new(host: &str, faults: StreamFaults, listening: Arc<Mutex<BTreeSet<u16>>>) -> Self {
        SimNetwork {
            host: host.to_owned(),
            faults,
            listening,
        }
    }

    fn wrap(&self, stream: turmoil::net::TcpStream) -> io::Result<SimStream> {
        let local = stream.local_addr()?;
        let remote = stream.peer_addr()?;
        // Every stream draws its own sizes, named by its two ends (deterministic: turmoil
        // hands out addresses and ephemeral ports from the seeded simulation).
        let plan = self.faults.short_io.unwrap_or(SlicePlan::WHOLE);
        let name = format!("{}:{local}<->{remote}", self.host);
        let short = ShortIo::new(FinWithRoom(stream), plan, self.faults.seed, &name);
        Ok(self.faults.board.watch(short, local, remote))
    }
}

/// A listening socket of a simulated program.
pub struct SimListener {
    inner: turmoil::net::TcpListener,
    network: SimNetwork,
}

impl Listener for SimListener {
    type Stream = SimStream;

    async fn accept(&self) -> io::Result<(SimStream, SocketAddr)> {
        let (stream, peer) = self.inner.accept().await?;
        Ok((self.network.wrap(stream)?, peer))
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

impl Network for SimNetwork {
    type Stream = SimStream;
    type Listener = SimListener;
    type Datagram = FaultyDatagrams<turmoil::net::UdpSocket>;

    async fn bind_tcp(&self, port: u16) -> io::Result<SimListener> {
        let inner = Turmoil.bind_tcp(port).await?;
        let bound = inner.local_addr()?.port();
        self.listening
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(bound);
        Ok(SimListener {
            inner,
            network: self.clone(),
        })
    }

    async fn connect_tcp(&self, host: &str, port: u16) -> io::Result<SimStream> {
        let stream = Turmoil.connect_tcp(host, port).await?;
        self.wrap(stream)
    }

    async fn bind_udp(&self, port: u16) -> io::Result<Self::Datagram> {
        let socket = Turmoil.bind_udp(port).await?;
        let bound = socket.local_addr()?.port();
        // A bound UDP socket is a ready UDP server (it has no LISTEN state).
        self.listening
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(bound);
        let name = format!("{}:{bound}/udp", self.host);
        Ok(FaultyDatagrams::new(
            socket,
            self.faults.datagrams,
            self.faults.seed,
            &name,
        ))
    }

    async fn resolve(&self, host: &str, port: u16) -> io::Result<SocketAddr> {
        Turmoil.resolve(host, port).await
    }

    fn since_epoch(&self) -> std::time::Duration {
        Turmoil.since_epoch()
    }

    fn random_u64(&self) -> u64 {
        Turmoil.random_u64()
    }
}
