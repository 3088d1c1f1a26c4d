//! The network abstraction every reference task is written against.
//!
//! A lab program needs very little from the network: bind a listening socket, accept a
//! connection, connect to a server, then read and write bytes. Those few operations are
//! the traits below. [`Tokio`] implements them with real sockets; the harness's simulated
//! world implements them with a deterministic in-memory network, so the very same task
//! code can be tested under faults a real loopback never produces on demand (lost
//! datagrams, one-byte segments, a client started before its server).
//!
//! Streams are plain [`AsyncRead`] + [`AsyncWrite`] values: the task code reads and writes
//! them with the same loops it would use on a blocking socket. Datagram sockets keep each
//! message whole ([`DatagramSocket`]). Time comes from the network too ([`Network::sleep`],
//! [`Network::now`]): in the simulated world a second passes without anyone waiting for it.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};

#[cfg(feature = "simulation")]
mod simulated;
#[cfg(feature = "simulation")]
pub use simulated::Turmoil;

/// A byte stream to one peer (a TCP connection).
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Stream for T {}

/// Gathering a stream's writes into full packets: Linux's `TCP_CORK`.
///
/// Each `send` of the handout's 4096 bytes otherwise leaves at once as a packet of its own,
/// and each packet costs the receiving side the same work whatever its size. While a stream
/// is corked, the kernel sends only full packets (up to 64 KiB on loopback); uncorking sends
/// what is left at once. A program corks around a burst of sends that belong together and
/// uncorks before it waits for anything else: corked bytes would otherwise sit in the kernel
/// until it gives up waiting (200 ms). Measured in one process, 20 KB in pieces of 4096
/// bytes: 32.3 µs uncorked, 26.5 µs corked, against 24.3 µs for one 20 KB `send`.
pub trait Cork {
    /// Corks (`true`) or uncorks (`false`) the stream. Streams without packets (in memory,
    /// simulated) have nothing to gather and do nothing.
    fn set_cork(&self, corked: bool) -> io::Result<()>;
}

impl Cork for tokio::net::TcpStream {
    #[cfg(target_os = "linux")]
    fn set_cork(&self, corked: bool) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let value = libc::c_int::from(corked);
        let size = libc::socklen_t::try_from(size_of::<libc::c_int>()).expect("4 bytes");
        // SAFETY: setsockopt reads `size` bytes at `&value` (a live int) for the socket
        // `self` keeps open during the call.
        let status = unsafe {
            libc::setsockopt(
                self.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_CORK,
                (&raw const value).cast(),
                size,
            )
        };
        if status < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Elsewhere there is no `TCP_CORK`: every send leaves as it comes.
    #[cfg(not(target_os = "linux"))]
    fn set_cork(&self, _: bool) -> io::Result<()> {
        Ok(())
    }
}

/// A borrowed stream corks the stream it borrows.
impl<T: Cork + ?Sized> Cork for &mut T {
    fn set_cork(&self, corked: bool) -> io::Result<()> {
        (**self).set_cork(corked)
    }
}

/// An in-memory pipe (the unit tests' stand-in for a connection) has no packets.
impl Cork for tokio::io::DuplexStream {
    fn set_cork(&self, _: bool) -> io::Result<()> {
        Ok(())
    }
}

/// A listening TCP socket.
pub trait Listener: Send + 'static {
    /// The connections this listener hands out.
    type Stream: Stream + Cork;

    /// Waits for the next client (the kernel queues clients that arrive meanwhile).
    fn accept(&self) -> impl Future<Output = io::Result<(Self::Stream, SocketAddr)>> + Send;

    /// The address actually bound (useful after binding port 0).
    fn local_addr(&self) -> io::Result<SocketAddr>;
}

/// A UDP socket: every `send` is one datagram, every `recv` returns one whole datagram
/// (cut to the buffer if the buffer is too small), and nothing is resent when lost.
pub trait DatagramSocket: Send + Sync + 'static {
    /// Sends one datagram to `target`; returns its size.
    fn send_to(
        &self,
        datagram: &[u8],
        target: SocketAddr,
    ) -> impl Future<Output = io::Result<usize>> + Send;

    /// Waits for one datagram; returns its size (at most the buffer's) and its sender.
    fn recv_from(
        &self,
        buffer: &mut [u8],
    ) -> impl Future<Output = io::Result<(usize, SocketAddr)>> + Send;

    /// The address actually bound.
    fn local_addr(&self) -> io::Result<SocketAddr>;
}

/// Where sockets come from: the real network or a simulated one.
pub trait Network: Clone + Send + Sync + 'static {
    /// A connected stream.
    type Stream: Stream + Cork;
    /// A listening socket handing out [`Network::Stream`]s.
    type Listener: Listener<Stream = Self::Stream>;
    /// A UDP socket.
    type Datagram: DatagramSocket;

    /// Binds a TCP listening socket on `port` of every local address (`0` picks a free one).
    fn bind_tcp(&self, port: u16) -> impl Future<Output = io::Result<Self::Listener>> + Send;

    /// Connects to `host:port`.
    fn connect_tcp(
        &self,
        host: &str,
        port: u16,
    ) -> impl Future<Output = io::Result<Self::Stream>> + Send;

    /// Binds a UDP socket on `port` of every local address (`0` picks a free one).
    fn bind_udp(&self, port: u16) -> impl Future<Output = io::Result<Self::Datagram>> + Send;

    /// Resolves `host:port` to the first address it names (the first IPv4 one, if any).
    fn resolve(&self, host: &str, port: u16)
    -> impl Future<Output = io::Result<SocketAddr>> + Send;

    /// Waits `duration`. Both worlds drive tokio's clock, so this is `tokio::time::sleep`;
    /// it lives here so that task code says which clock it depends on.
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(duration)
    }

    /// The current instant on the same clock as [`Network::sleep`] (simulated time in the
    /// simulated world).
    fn now(&self) -> tokio::time::Instant {
        tokio::time::Instant::now()
    }

    /// A random number, for what a stranger must not guess (a DNS question's id, RFC 5452
    /// §9.2: a forged answer must match it). The real world draws it from the operating
    /// system's generator; the simulated world from its own clock, so a run replays.
    fn random_u64(&self) -> u64 {
        rand::random()
    }

    /// Wall-clock time: how long since the Unix epoch (1970). Only for printing a date or
    /// stamping a message; measure durations with [`Network::now`], which never jumps.
    /// The simulated world starts it at a fixed date, so it replays too.
    fn since_epoch(&self) -> Duration {
        // Before 1970 only on a badly broken clock; 0 is as good as anything then.
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
    }
}

/// The real network: tokio's sockets over the operating system.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tokio;

impl Listener for tokio::net::TcpListener {
    type Stream = tokio::net::TcpStream;

    fn accept(&self) -> impl Future<Output = io::Result<(Self::Stream, SocketAddr)>> + Send {
        tokio::net::TcpListener::accept(self)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        tokio::net::TcpListener::local_addr(self)
    }
}

impl DatagramSocket for tokio::net::UdpSocket {
    fn send_to(
        &self,
        datagram: &[u8],
        target: SocketAddr,
    ) -> impl Future<Output = io::Result<usize>> + Send {
        tokio::net::UdpSocket::send_to(self, datagram, target)
    }

    fn recv_from(
        &self,
        buffer: &mut [u8],
    ) -> impl Future<Output = io::Result<(usize, SocketAddr)>> + Send {
        tokio::net::UdpSocket::recv_from(self, buffer)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        tokio::net::UdpSocket::local_addr(self)
    }
}

impl Network for Tokio {
    type Stream = tokio::net::TcpStream;
    type Listener = tokio::net::TcpListener;
    type Datagram = tokio::net::UdpSocket;

    async fn bind_tcp(&self, port: u16) -> io::Result<Self::Listener> {
        // 0.0.0.0: every IPv4 address of the machine, as the handouts' `bind(('', port))`.
        // tokio sets SO_REUSEADDR, so a restarted server can bind while old connections
        // linger in TIME_WAIT (see the lab question about restarting a server).
        tokio::net::TcpListener::bind(("0.0.0.0", port)).await
    }

    async fn connect_tcp(&self, host: &str, port: u16) -> io::Result<Self::Stream> {
        // Resolves `host` (a name or an address of either family) and tries each address.
        tokio::net::TcpStream::connect((host, port)).await
    }

    async fn bind_udp(&self, port: u16) -> io::Result<Self::Datagram> {
        tokio::net::UdpSocket::bind(("0.0.0.0", port)).await
    }

    async fn resolve(&self, host: &str, port: u16) -> io::Result<SocketAddr> {
        // An IPv4 address if the name has one: `bind_udp` binds an IPv4 socket, which can
        // send to IPv4 addresses only, and `localhost` often lists `::1` first.
        let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, port)).await?.collect();
        addresses
            .iter()
            .find(|address| address.is_ipv4())
            .or_else(|| addresses.first())
            .copied()
            .ok_or_else(|| {
                io::Error::new(io::ErrorKind::NotFound, format!("{host} has no address"))
            })
    }
}
