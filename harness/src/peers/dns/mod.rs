//! The scenario's resolver: the harness's name server inside every scenario's network
//! namespace. (The DNS *pack*, `crate::protocols::dns`, plays this same server on a port of
//! its own for the `mx-lookup` task.)
//!
//! Students' clients look names up: `serverName = 'servername'`, `smtp.gmail.com`,
//! `imaplib.IMAP4_SSL('imap.gmail.com')`. Inside a scenario the program's resolver is
//! pointed at `127.0.0.1` and `::1` (`crate::world::real::internet::resolver`), and this
//! server answers there on port 53, over UDP and TCP: every name is the loopback unless the
//! zone says otherwise ([`zone`]). Every question is recorded ([`record`]) and the step log
//! shows which names the program asked for.
//!
//! Layout:
//! - [`zone`]: what the server knows (every name the loopback; `invalid.` does not exist;
//!   explicit records can be added);
//! - [`answer`]: one request in, one answer out (hickory-proto parses and builds the bytes);
//! - [`udp`], [`tcp`]: the serve loops, written by hand (the part a socket lab is about);
//! - [`record`]: the record of queries.
//!
//! It starts only where the harness gives the scenario a network namespace: on a shared
//! loopback, port 53 is the machine's own resolver's.

pub mod answer;
pub mod record;
pub mod tcp;
pub mod udp;
pub mod zone;

#[cfg(test)]
mod tests;

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use tokio::task::JoinHandle;

pub use record::{Carrier, Query, QueryLog};
pub use zone::Zone;

use crate::world::real::isolation::Namespace;

/// The port of DNS (RFC 1035 §4.2).
pub const DNS_PORT: u16 = 53;

/// A running DNS server: UDP and TCP, IPv4 and IPv6, on the wildcard addresses of one port.
/// Dropping it stops it and closes its sockets.
#[derive(Debug)]
pub struct DnsServer {
    tasks: Vec<JoinHandle<()>>,
    /// Where it listens (the IPv4 wildcard and the port).
    pub address: SocketAddr,
}

impl DnsServer {
    /// Serves `zone` on `port` (0: any free one) of the calling thread's network namespace,
    /// or of `namespace`; every question goes to `log`. Must be called inside a tokio runtime.
    pub fn start(
        port: u16,
        namespace: Option<&Namespace>,
        zone: Arc<Zone>,
        log: QueryLog,
    ) -> io::Result<DnsServer> {
        crate::temporary::failed_on_purpose("dns")?;
        let bind = move || Sockets::bind(port);
        let sockets = match namespace {
            Some(namespace) => namespace.run(bind)?,
            None => bind()?,
        };
        let address = sockets.tcp[0].local_addr()?;
        let mut tasks = Vec::new();
        for listener in sockets.tcp {
            listener.set_nonblocking(true)?;
            let listener = tokio::net::TcpListener::from_std(listener)?;
            let (zone, log) = (Arc::clone(&zone), log.clone());
            tasks.push(tokio::spawn(tcp::serve(listener, zone, log)));
        }
        for socket in sockets.udp {
            socket.set_nonblocking(true)?;
            let socket = Arc::new(tokio::net::UdpSocket::from_std(socket)?);
            let (zone, log) = (Arc::clone(&zone), log.clone());
            tasks.push(tokio::spawn(udp::serve(socket, zone, log)));
        }
        Ok(DnsServer { tasks, address })
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// The server's sockets: TCP and UDP on the IPv4 wildcard (required) and the IPv6 one
/// (where the system has IPv6), all on one port.
struct Sockets {
    tcp: Vec<std::net::TcpListener>,
    udp: Vec<std::net::UdpSocket>,
}

impl Sockets {
    fn bind(port: u16) -> io::Result<Sockets> {
        // TCP first: with port 0 the kernel picks one, and UDP takes the same.
        let tcp = std::net::TcpListener::bind((Ipv4Addr::UNSPECIFIED, port))?;
        let port = tcp.local_addr()?.port();
        let udp = std::net::UdpSocket::bind((Ipv4Addr::UNSPECIFIED, port))?;
        crate::peers::pktinfo::want_destinations(&udp, false)?;
        let mut sockets = Sockets {
            tcp: vec![tcp],
            udp: vec![udp],
        };
        let v6 = SocketAddr::from((Ipv6Addr::UNSPECIFIED, port));
        if let Ok(listener) = bind_v6_only(v6, socket2::Type::STREAM) {
            listener.listen(128)?;
            sockets.tcp.push(listener.into());
        }
        if let Ok(socket) = bind_v6_only(v6, socket2::Type::DGRAM) {
            let socket: std::net::UdpSocket = socket.into();
            crate::peers::pktinfo::want_destinations(&socket, true)?;
            sockets.udp.push(socket);
        }
        Ok(sockets)
    }
}

/// An IPv6 socket that leaves IPv4 to the other one (`IPV6_V6ONLY`).
fn bind_v6_only(address: SocketAddr, kind: socket2::Type) -> io::Result<socket2::Socket> {
    let socket = socket2::Socket::new(socket2::Domain::IPV6, kind, None)?;
    socket.set_only_v6(true)?;
    socket.set_reuse_address(true)?;
    socket.bind(&address.into())?;
    Ok(socket)
}
