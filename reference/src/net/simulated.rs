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
}
