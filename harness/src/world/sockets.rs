//! The harness's own sockets (its client peers and relays), in either world.
//!
//! In the real world they are loopback TCP sockets; in the simulated world, turmoil's
//! sockets on the simulated host `harness`. Both are split into a reader and a writer, and
//! the writer can end the connection three ways: half-close (FIN), close, or reset (RST).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};

use super::sim::reset::ResetBoard;

/// The simulated host the harness's peers and relays run on.
pub const HARNESS_HOST: &str = "harness";

/// The address family a harness socket uses: IPv4 (`127.0.0.1`, the default) or IPv6
/// (`::1`), for the dual-stack task. The simulated world has IPv4 only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// The harness's sockets on `127.0.0.1` (the default; the simulated world's only family).
    #[default]
    Ipv4,
    /// The harness's sockets on `::1`.
    Ipv6,
}

/// Why this machine cannot play a step over IPv6, if it cannot: it has no IPv6 loopback
/// (a container whose network disables IPv6, as Docker's does unless told otherwise).
/// Probed once, by binding `[::1]:0`.
pub fn ipv6_refused() -> Option<String> {
    static REFUSED: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    REFUSED
        .get_or_init(|| {
            std::net::TcpListener::bind((std::net::Ipv6Addr::LOCALHOST, 0))
                .err()
                .map(|error| {
                    format!("it speaks IPv6, and this machine has no IPv6 loopback (binding [::1] fails: {error}), as in a container whose network disables IPv6")
                })
        })
        .clone()
}

impl Family {
    /// The loopback address of this family, on which the harness listens and connects in
    /// the real world.
    pub fn loopback(self) -> &'static str {
        match self {
            Family::Ipv4 => "127.0.0.1",
            Family::Ipv6 => "::1",
        }
    }
}

/// Where the harness's sockets live.
#[derive(Debug, Clone)]
pub enum PeerNet {
    /// Loopback sockets of this machine: on a shared loopback, its listeners take their
    /// ports from the scenario's block (its programs may connect to no other).
    Real(super::real::ports::Loopback),
    /// turmoil's simulated network; resets are delivered through the board.
    Simulated(ResetBoard),
}

/// An address to bind a listener of the harness to: a port of the scenario's block on a
/// shared loopback, else one the kernel picks.
fn loopback_address(
    family: Family,
    loopback: &super::real::ports::Loopback,
) -> io::Result<SocketAddr> {
    use super::real::ports::Loopback;
    let port = match loopback {
        Loopback::Own => 0,
        Loopback::Shared(block) => block.take()?,
    };
    let ip: std::net::IpAddr = family.loopback().parse().expect("a loopback address");
    Ok(SocketAddr::new(ip, port))
}

/// The reading half of a connection.
pub type PeerReader = Box<dyn AsyncRead + Send + Unpin>;

/// A connection of the harness, split.
pub struct PeerConnection {
    /// What the other side sends.
    pub reader: PeerReader,
    /// What we send.
    pub writer: PeerWriter,
    /// The harness's end (for the packet capture).
    pub local: SocketAddr,
    /// The other end.
    pub remote: SocketAddr,
}

/// The writing half of a connection of the harness.
#[derive(Debug)]
pub enum PeerWriter {
    /// A loopback socket.
    Real(tokio::net::tcp::OwnedWriteHalf),
    /// A simulated socket, with what it takes to deliver a reset.
    Simulated {
        /// The simulated socket's writing half.
        half: turmoil::net::tcp::OwnedWriteHalf,
        /// The harness's own address.
        local: SocketAddr,
        /// The other end.
        remote: SocketAddr,
        /// Where a reset is posted for the other end to see.
        board: ResetBoard,
    },
}

impl PeerNet {
    /// Connects to `host:port`; with `nodelay`, small writes leave at once (no Nagle).
    pub async fn connect(
        &self,
        host: &str,
        port: u16,
        nodelay: bool,
    ) -> io::Result<PeerConnection> {
        match self {
            PeerNet::Real(_) => {
                let stream = tokio::net::TcpStream::connect((host, port)).await?;
                if nodelay {
                    // Without TCP_NODELAY, Nagle's algorithm would merge small slices again.
                    stream.set_nodelay(true)?;
                }
                real_connection(stream)
            }
            PeerNet::Simulated(board) => {
                // turmoil sends every write as its own segment: nothing to disable.
                let stream = turmoil::net::TcpStream::connect((host, port)).await?;
                simulated_connection(stream, board)
            }
        }
    }

    /// A fresh port of the harness's host, bound now, that starts listening after
    /// `after` (at once for zero): its number, and the listener once it listens. Until
    /// then the port is taken but a connection to it is refused, as by a service that has
    /// not started yet (real world only: the simulated network has no such state).
    pub async fn listen_after(
        &self,
        family: Family,
        after: Duration,
    ) -> io::Result<(
        u16,
        impl Future<Output = io::Result<PeerListener>> + Send + use<>,
    )> {
        let bound = match self {
            PeerNet::Real(loopback) if !after.is_zero() => {
                let socket = match family {
                    Family::Ipv4 => tokio::net::TcpSocket::new_v4()?,
                    Family::Ipv6 => tokio::net::TcpSocket::new_v6()?,
                };
                socket.bind(loopback_address(family, loopback)?)?;
                let port = socket.local_addr()?.port();
                Err((port, socket))
            }
            PeerNet::Simulated(_) if !after.is_zero() => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "the simulated network cannot hold a port without listening",
                ));
            }
            _ => Ok(self.listen(family).await?),
        };
        let port = match &bound {
            Ok(listener) => listener.port()?,
            Err((port, _)) => *port,
        };
        Ok((port, async move {
            match bound {
                Ok(listener) => Ok(listener),
                Err((_, socket)) => {
                    tokio::time::sleep(after).await;
                    Ok(PeerListener::Real(socket.listen(1024)?))
                }
            }
        }))
    }

    /// Listens on a fresh port of the harness's own host.
    pub async fn listen(&self, family: Family) -> io::Result<PeerListener> {
        match self {
            PeerNet::Real(loopback) => Ok(PeerListener::Real(
                tokio::net::TcpListener::bind(loopback_address(family, loopback)?).await?,
            )),
            PeerNet::Simulated(_) if family == Family::Ipv6 => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "the simulated network has IPv4 only",
            )),
            PeerNet::Simulated(board) => Ok(PeerListener::Simulated(
                turmoil::net::TcpListener::bind(("0.0.0.0", 0)).await?,
                board.clone(),
            )),
        }
    }

    /// Listens on `port` of the harness's own host in `family`: the port a listener of
    /// the other family already took (FTP's data port, on both loopbacks: a client
    /// connects to it at the address of its control connection, RFC 2428 §3). The
    /// simulated world has IPv4 only.
    pub async fn listen_at(&self, family: Family, port: u16) -> io::Result<PeerListener> {
        match self {
            PeerNet::Real(_) => Ok(PeerListener::Real(
                tokio::net::TcpListener::bind((family.loopback(), port)).await?,
            )),
            PeerNet::Simulated(_) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "the simulated network has one address per host",
            )),
        }
    }

    /// Binds a UDP socket on a fresh port of the harness's own host: on a shared loopback
    /// one of the scenario's block, where its programs may send their answers.
    pub async fn bind_udp(&self) -> io::Result<PeerDatagram> {
        match self {
            PeerNet::Real(loopback) => Ok(PeerDatagram::Real(
                tokio::net::UdpSocket::bind(loopback_address(Family::Ipv4, loopback)?).await?,
            )),
            PeerNet::Simulated(_) => Ok(PeerDatagram::Simulated(
                turmoil::net::UdpSocket::bind(("0.0.0.0", 0)).await?,
            )),
        }
    }

    /// Binds a UDP socket on `port` of the harness's own host in `family`: the port a TCP
    /// listener of the same peer took (DNS serves both on one port).
    pub async fn bind_udp_at(&self, family: Family, port: u16) -> io::Result<PeerDatagram> {
        match self {
            PeerNet::Real(_) => Ok(PeerDatagram::Real(
                tokio::net::UdpSocket::bind((family.loopback(), port)).await?,
            )),
            PeerNet::Simulated(_) => Ok(PeerDatagram::Simulated(
                turmoil::net::UdpSocket::bind(("0.0.0.0", port)).await?,
            )),
        }
    }

    /// The address `host:port` stands for in this world.
    pub async fn resolve(&self, host: &str, port: u16) -> io::Result<SocketAddr> {
        match self {
            PeerNet::Real(_) => tokio::net::lookup_host((host, port))
                .await?
                .next()
                .ok_or_else(|| {
                    io::Error::new(io::ErrorKind::NotFound, format!("{host} has no address"))
                }),
            PeerNet::Simulated(_) => Ok(SocketAddr::new(turmoil::lookup(host), port)),
        }
    }

    /// The host name programs use to reach the harness's listeners.
    pub fn own_host(&self) -> &'static str {
        match self {
            PeerNet::Real(_) => "127.0.0.1",
            PeerNet::Simulated(_) => HARNESS_HOST,
        }
    }
}

fn real_connection(stream: tokio::net::TcpStream) -> io::Result<PeerConnection> {
    let local = stream.local_addr()?;
    let remote = stream.peer_addr()?;
    let (reader, writer) = stream.into_split();
    Ok(PeerConnection {
        reader: Box::new(reader),
        writer: PeerWriter::Real(writer),
        local,
        remote,
    })
}

fn simulated_connection(
    stream: turmoil::net::TcpStream,
    board: &ResetBoard,
) -> io::Result<PeerConnection> {
    let local = stream.local_addr()?;
    let remote = stream.peer_addr()?;
    let (reader, half) = stream.into_split();
    Ok(PeerConnection {
        reader: Box::new(board.watch(reader, local, remote)),
        writer: PeerWriter::Simulated {
            half,
            local,
            remote,
            board: board.clone(),
        },
        local,
        remote,
    })
}

/// A listening socket of the harness.
pub enum PeerListener {
    /// On loopback.
    Real(tokio::net::TcpListener),
    /// On the simulated host `harness`.
    Simulated(turmoil::net::TcpListener, ResetBoard),
}

impl PeerListener {
    /// The port it listens on.
    pub fn port(&self) -> io::Result<u16> {
        match self {
            PeerListener::Real(listener) => Ok(listener.local_addr()?.port()),
            PeerListener::Simulated(listener, _) => Ok(listener.local_addr()?.port()),
        }
    }

    /// Waits for the next connection.
    pub async fn accept(&self) -> io::Result<PeerConnection> {
        match self {
            PeerListener::Real(listener) => {
                let stream = listener.accept().await?.0;
                // What a server peer writes leaves at once, in the pieces it was written
                // (a byte at a time when a scenario says so), not merged by Nagle.
                stream.set_nodelay(true)?;
                real_connection(stream)
            }
            PeerListener::Simulated(listener, board) => {
                simulated_connection(listener.accept().await?.0, board)
            }
        }
    }

    /// A connection the kernel has already queued, taken without waiting (`None`: none is,
    /// or the simulated world, whose connections come by its own schedule). Must be
    /// called inside the tokio runtime.
    pub fn queued(&self) -> Option<io::Result<PeerConnection>> {
        let PeerListener::Real(listener) = self else {
            return None;
        };
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        match listener.poll_accept(&mut context) {
            std::task::Poll::Ready(Ok((stream, _))) => Some(
                stream
                    .set_nodelay(true)
                    .and_then(|()| real_connection(stream)),
            ),
            std::task::Poll::Ready(Err(error)) => Some(Err(error)),
            std::task::Poll::Pending => None,
        }
    }
}

/// A UDP socket of the harness.
pub enum PeerDatagram {
    /// On loopback.
    Real(tokio::net::UdpSocket),
    /// On the simulated host `harness`.
    Simulated(turmoil::net::UdpSocket),
}

impl PeerDatagram {
    /// The port it is bound to.
    pub fn port(&self) -> io::Result<u16> {
        match self {
            PeerDatagram::Real(socket) => Ok(socket.local_addr()?.port()),
            PeerDatagram::Simulated(socket) => Ok(socket.local_addr()?.port()),
        }
    }

    /// Its address (for the packet capture). A simulated socket is bound to every address
    /// of the host `harness`: this is the host's.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        match self {
            PeerDatagram::Real(socket) => socket.local_addr(),
            PeerDatagram::Simulated(socket) => {
                let mut address = socket.local_addr()?;
                if address.ip().is_unspecified() {
                    address.set_ip(turmoil::lookup(HARNESS_HOST));
                }
                Ok(address)
            }
        }
    }

    /// Sends one datagram.
    pub async fn send_to(&self, datagram: &[u8], target: SocketAddr) -> io::Result<usize> {
        match self {
            PeerDatagram::Real(socket) => socket.send_to(datagram, target).await,
            PeerDatagram::Simulated(socket) => socket.send_to(datagram, target).await,
        }
    }

    /// Waits for one datagram.
    pub async fn recv_from(&self, buffer: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        match self {
            PeerDatagram::Real(socket) => socket.recv_from(buffer).await,
            PeerDatagram::Simulated(socket) => socket.recv_from(buffer).await,
        }
    }

    /// Asks the kernel to stamp each datagram with its arrival, for [`Self::recv_stamped`]
    /// (a simulated socket's datagram is read the moment it arrives, in simulated time).
    pub async fn stamp_arrivals(&self) -> io::Result<()> {
        match self {
            PeerDatagram::Real(socket) => {
                harness_machine::pktinfo::want_arrival_times(socket).await
            }
            PeerDatagram::Simulated(_) => Ok(()),
        }
    }

    /// Waits for one datagram: its length, its sender, and when it arrived, which on a
    /// loaded machine may be well before it is read (the kernel's stamp, where
    /// [`Self::stamp_arrivals`] asked for it; else the moment it is read).
    pub async fn recv_stamped(
        &self,
        buffer: &mut [u8],
    ) -> io::Result<(usize, SocketAddr, tokio::time::Instant)> {
        match self {
            PeerDatagram::Real(socket) => {
                let (length, sender, waited) =
                    harness_machine::pktinfo::receive_stamped(socket, buffer).await?;
                let now = tokio::time::Instant::now();
                Ok((length, sender, now.checked_sub(waited).unwrap_or(now)))
            }
            PeerDatagram::Simulated(socket) => {
                let (length, sender) = socket.recv_from(buffer).await?;
                Ok((length, sender, tokio::time::Instant::now()))
            }
        }
    }
}

/// Resets a real connection now: the other side's next read fails with "connection reset".
///
/// `SO_LINGER` with a zero timeout makes close() send RST instead of FIN. But close() acts
/// only when the last descriptor of the socket goes, and a child the harness is starting for
/// another scenario holds a copy of every descriptor from its fork to its exec: on a loaded
/// machine the RST then came late, and the program, waiting in recv, was judged blocked for
/// good (seen in CI). `connect(AF_UNSPEC)` disconnects the socket itself (Linux's
/// tcp_disconnect): the RST leaves now, whoever holds a descriptor. Where the network stack
/// cannot disconnect (gVisor's: EAFNOSUPPORT), the socket's close still sends it, as before.
pub(crate) fn reset_now(stream: &tokio::net::TcpStream) -> io::Result<()> {
    stream.set_zero_linger()?;
    let _ = rustix::net::connect_unspec(stream);
    Ok(())
}

impl PeerWriter {
    /// The local and remote addresses of a loopback connection, to follow it in the
    /// kernel (`None` in the simulated network, which has none).
    pub fn real_addresses(&self) -> Option<(SocketAddr, SocketAddr)> {
        match self {
            PeerWriter::Real(half) => Some((half.local_addr().ok()?, half.peer_addr().ok()?)),
            PeerWriter::Simulated { .. } => None,
        }
    }

    /// Ends the connection with a reset (RST): the other side's next read fails with
    /// "connection reset", and data it has not read yet is lost, as on Linux.
    pub fn reset(self) -> io::Result<()> {
        match self {
            PeerWriter::Real(half) => {
                reset_now(half.as_ref())?;
                // `forget` keeps tokio from sending a FIN when the write half goes (the
                // program would see a normal end of stream before the RST).
                half.forget();
                Ok(())
            }
            PeerWriter::Simulated {
                half,
                local,
                remote,
                board,
            } => {
                // turmoil sends RST only when a socket closes with unread data, so the
                // reset is delivered through the board, which fails the other side's reads
                // as the kernel would. The half is leaked, not dropped: dropping it would
                // send a FIN first.
                board.reset(local, remote);
                std::mem::forget(half);
                Ok(())
            }
        }
    }
}

impl AsyncWrite for PeerWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            PeerWriter::Real(half) => Pin::new(half).poll_write(cx, data),
            PeerWriter::Simulated { half, .. } => Pin::new(half).poll_write(cx, data),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            PeerWriter::Real(half) => Pin::new(half).poll_flush(cx),
            PeerWriter::Simulated { half, .. } => Pin::new(half).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            PeerWriter::Real(half) => Pin::new(half).poll_shutdown(cx),
            PeerWriter::Simulated { half, .. } => Pin::new(half).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// A child the harness is starting holds a copy of every descriptor from its fork to its
    /// exec: the harness's reset must reach the program all the same, and at once.
    #[tokio::test]
    async fn a_reset_reaches_the_program_while_a_copy_of_the_socket_is_held() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let stream = tokio::net::TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut program, _) = listener.accept().unwrap();
        // The copy a child between its fork and its exec holds.
        let copy = rustix::io::dup(&stream).unwrap();
        let connection = real_connection(stream).unwrap();
        connection.writer.reset().unwrap();
        program
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let error = program.read(&mut [0u8; 16]).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::ConnectionReset, "{error}");
        drop((copy, connection.reader));
    }
}
