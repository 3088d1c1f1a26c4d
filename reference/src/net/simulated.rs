//! The simulated network: turmoil's sockets.
//!
//! Inside a turmoil simulation every host is a name (`server`, `client`) with its own
//! address, clock and sockets; messages between hosts cross a simulated network that the
//! test controls (latency, loss, partitions) and that replays identically for a seed.
//! The task code does not change: only the [`Network`] value passed to it does.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use super::{Cork, DatagramSocket, Listener, Network};

/// turmoil's simulated network. Only usable inside a running `turmoil::Sim`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Turmoil;

impl Listener for turmoil::net::TcpListener {
    type Stream = turmoil::net::TcpStream;

    fn accept(&self) -> impl Future<Output = io::Result<(Self::Stream, SocketAddr)>> + Send {
        turmoil::net::TcpListener::accept(self)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        turmoil::net::TcpListener::local_addr(self)
    }
}

/// The simulated network moves whole writes, not packets: nothing to gather.
impl Cork for turmoil::net::TcpStream {
    fn set_cork(&self, _: bool) -> io::Result<()> {
        Ok(())
    }
}

impl DatagramSocket for turmoil::net::UdpSocket {
    fn send_to(
        &self,
        datagram: &[u8],
        target: SocketAddr,
    ) -> impl Future<Output = io::Result<usize>> + Send {
        turmoil::net::UdpSocket::send_to(self, datagram, target)
    }

    fn recv_from(
        &self,
        buffer: &mut [u8],
    ) -> impl Future<Output = io::Result<(usize, SocketAddr)>> + Send {
        turmoil::net::UdpSocket::recv_from(self, buffer)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        turmoil::net::UdpSocket::local_addr(self)
    }
}

impl Network for Turmoil {
    type Stream = turmoil::net::TcpStream;
    type Listener = turmoil::net::TcpListener;
    type Datagram = turmoil::net::UdpSocket;

    async fn bind_tcp(&self, port: u16) -> io::Result<Self::Listener> {
        turmoil::net::TcpListener::bind(("0.0.0.0", port)).await
    }

    async fn connect_tcp(&self, host: &str, port: u16) -> io::Result<Self::Stream> {
        // Host names are resolved by the simulation's own DNS (every host's name).
        turmoil::net::TcpStream::connect((host, port)).await
    }

    async fn bind_udp(&self, port: u16) -> io::Result<Self::Datagram> {
        turmoil::net::UdpSocket::bind(("0.0.0.0", port)).await
    }

    async fn resolve(&self, host: &str, port: u16) -> io::Result<SocketAddr> {
        Ok(SocketAddr::new(turmoil::lookup(host), port))
    }

    fn since_epoch(&self) -> Duration {
        // The simulation's own calendar: a fixed start date plus simulated time.
        turmoil::since_epoch().unwrap_or_default()
    }

    fn random_u64(&self) -> u64 {
        // Replayable, not secret: the simulated time (nanoseconds), mixed (splitmix64) so
        // that numbers drawn a moment apart differ in every bit.
        let mut mixed = (self.since_epoch().as_nanos() as u64).wrapping_add(0x9e37_79b9_7f4a_7c15);
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        mixed ^ (mixed >> 31)
    }
}
