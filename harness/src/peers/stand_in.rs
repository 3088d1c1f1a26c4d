//! A stand-in at a client's hard-coded server address.
//!
//! Students' clients often hard-code where their server is (`serverName = 'localhost'`,
//! `serverPort = 12000`, as the Kurose skeletons do), so the harness cannot point them at
//! its peer or relay on a fresh port. It goes the other way: it listens on port 12000 for
//! the client (TCP and UDP, IPv4 and IPv6) and passes everything on, unchanged, to where
//! the scenario says the client connects; the peer or relay there records, slices and
//! judges as usual. Where network namespaces are allowed the client and this stand-in get a
//! namespace of their own, so port 12000 is free even when the submission's own server
//! listens on 12000 in the scenario's namespace (a relay between the two needs exactly
//! that).
//!
//! What passes through is copied as it comes (with `TCP_NODELAY`, so small slices stay
//! small); a half-close is passed on as a half-close and a reset as a reset.
//!
//! It may listen on several ports at once: the one the client hard-codes and the task's
//! well-known ports (25 and 587 for a mail client, 80 for a web client: `well_known_ports`
//! in `scenarios/tasks.toml`), so a client that connects to `smtp.example.com:587` finds
//! the scenario's peer there. With the harness's local routes
//! (`crate::world::real::internet::routes`) any address leads to these sockets; each
//! arrival records the address the client asked for (the accepted socket's local address,
//! or a datagram's destination), which the step log shows.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::JoinHandle;

use crate::world::real::isolation::Namespace;
use crate::world::sockets::reset_now;

/// The most connections (or UDP clients) one stand-in passes on: a client that loops
/// on connect must not make the harness open sockets without end.
const MAX_FLOWS: usize = 1024;

/// Listens on a client's hard-coded port and passes everything on to `target`. Dropping
/// it stops the forwarding and closes its sockets.
#[derive(Debug)]
pub struct StandIn {
    /// The namespace the client must run in (`None`: the scenario's own).
    pub namespace: Option<Arc<Namespace>>,
    tasks: Vec<JoinHandle<()>>,
    arrivals: Arrivals,
    /// How many connections (or UDP clients) it has passed on, ever.
    passed_on: Arc<std::sync::atomic::AtomicUsize>,
    /// Where each port leads now (see [`StandIn::retarget`]).
    routes: std::collections::BTreeMap<u16, Route>,
}

/// Where a port of the stand-in leads: read for each new connection or UDP client.
type Route = Arc<Mutex<SocketAddr>>;

/// The address a route leads to now.
fn destination(route: &Route) -> SocketAddr {
    *route.lock().unwrap_or_else(|poison| poison.into_inner())
}

/// A client's connection (or first datagram) at the stand-in.
#[derive(Debug, Clone)]
pub struct Arrival {
    /// When it came.
    pub at: tokio::time::Instant,
    /// The address and port the client asked for (`192.0.2.10:587`).
    pub asked: SocketAddr,
    /// The client's own address.
    pub from: SocketAddr,
    /// Whether it was a TCP connection (else a UDP client's first datagram).
    pub tcp: bool,
}

/// Arrivals not yet taken, shared by the stand-in's loops (at most [`MAX_FLOWS`]), and how
/// many there were in all.
#[derive(Debug, Clone, Default)]
struct Arrivals {
    new: Arc<Mutex<Vec<Arrival>>>,
    count: Arc<std::sync::atomic::AtomicUsize>,
}

fn record(arrivals: &Arrivals, asked: SocketAddr, from: SocketAddr, tcp: bool) {
    arrivals
        .count
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut arrivals = arrivals
        .new
        .lock()
        .unwrap_or_else(|poison| poison.into_inner());
    if arrivals.len() < MAX_FLOWS {
        let at = tokio::time::Instant::now();
        arrivals.push(Arrival {
            at,
            asked,
            from,
            tcp,
        });
    }
}

impl StandIn {
    /// Listens on every port of `ports` (in a new namespace when `own_namespace`) and
    /// forwards each to its target, which is reached from the caller's namespace (993 to
    /// an IMAP peer's port of TLS from the first byte, 143 to its own). Must be called
    /// inside a tokio runtime.
    pub fn start(ports: &[(u16, SocketAddr)], own_namespace: bool) -> io::Result<StandIn> {
        let namespace = if own_namespace {
            Some(Arc::new(Namespace::create()?))
        } else {
            None
        };
        let ports_listed = ports.to_vec();
        let ports = ports.to_vec();
        let bind = move || -> io::Result<Vec<(Sockets, SocketAddr)>> {
            ports
                .iter()
                .map(|(port, target)| Ok((Sockets::bind(*port)?, *target)))
                .collect()
        };
        let sockets = match &namespace {
            Some(namespace) => namespace.run(bind)?,
            None => bind()?,
        };
        let arrivals = Arrivals::default();
        let mut tasks = Vec::new();
        let mut routes = std::collections::BTreeMap::new();
        for ((sockets, target), (port, _)) in sockets.into_iter().zip(ports_listed) {
            let route: Route = Arc::new(Mutex::new(target));
            for listener in sockets.tcp {
                listener.set_nonblocking(true)?;
                let listener = TcpListener::from_std(listener)?;
                let arrivals = arrivals.clone();
                let route = Arc::clone(&route);
                tasks.push(tokio::spawn(accept_loop(listener, route, arrivals)));
            }
            for socket in sockets.udp {
                socket.set_nonblocking(true)?;
                let socket = Arc::new(UdpSocket::from_std(socket)?);
                let arrivals = arrivals.clone();
                let route = Arc::clone(&route);
                tasks.push(tokio::spawn(datagram_loop(socket, route, arrivals)));
            }
            routes.insert(port, route);
        }
        let passed_on = Arc::clone(&arrivals.count);
        Ok(StandIn {
            namespace,
            tasks,
            arrivals,
            passed_on,
            routes,
        })
    }

    /// Makes `port` lead to `target` from now on (connections already passed on stay
    /// where they are): a scenario's second program, pointed at another peer, meets that
    /// one on the well-known port the first one's stand-in holds. `false` if it does not
    /// listen on `port`.
    pub fn retarget(&self, port: u16, target: SocketAddr) -> bool {
        let Some(route) = self.routes.get(&port) else {
            return false;
        };
        *route.lock().unwrap_or_else(|poison| poison.into_inner()) = target;
        true
    }

    /// Where `port` leads now, if it listens there.
    pub fn route(&self, port: u16) -> Option<SocketAddr> {
        self.routes.get(&port).map(destination)
    }

    /// The arrivals since the last call.
    pub fn take_arrivals(&self) -> Vec<Arrival> {
        let mut new = self
            .arrivals
            .new
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        std::mem::take(&mut *new)
    }

    /// How many connections (or UDP clients) it has passed on so far.
    pub fn passed_on(&self) -> usize {
        self.passed_on.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// The stand-in's sockets, bound where the client runs.
struct Sockets {
    tcp: Vec<std::net::TcpListener>,
    udp: Vec<std::net::UdpSocket>,
}

impl Sockets {
    /// TCP and UDP on `port`, IPv4 (every address: `127.0.1.1` too) and, where the system
    /// has it, IPv6 (a client may resolve `localhost` to `::1` first).
    fn bind(port: u16) -> io::Result<Sockets> {
        let v4 = SocketAddr::from((Ipv4Addr::UNSPECIFIED, port));
        let v6 = SocketAddr::from((Ipv6Addr::UNSPECIFIED, port));
        let udp = std::net::UdpSocket::bind(v4)?;
        // Replies go out from the address each datagram was sent to (see `pktinfo`).
        super::pktinfo::want_destinations(&udp, false)?;
        let mut sockets = Sockets {
            tcp: vec![std::net::TcpListener::bind(v4)?],
            udp: vec![udp],
        };
        if let Ok(listener) = bind_v6_only(v6, socket2::Type::STREAM) {
            listener.listen(128)?;
            sockets.tcp.push(listener.into());
        }
        if let Ok(socket) = bind_v6_only(v6, socket2::Type::DGRAM) {
            let socket: std::net::UdpSocket = socket.into();
            super::pktinfo::want_destinations(&socket, true)?;
            sockets.udp.push(socket);
        }
        Ok(sockets)
    }
}

fn bind_v6_only(address: SocketAddr, kind: socket2::Type) -> io::Result<socket2::Socket> {
    let socket = socket2::Socket::new(socket2::Domain::IPV6, kind, None)?;
    socket.set_only_v6(true)?;
    socket.set_reuse_address(true)?;
    socket.bind(&address.into())?;
    Ok(socket)
}

async fn accept_loop(listener: TcpListener, route: Route, arrivals: Arrivals) {
    for _ in 0..MAX_FLOWS {
        let Ok((client, from)) = listener.accept().await else {
            return;
        };
        // The accepted socket's local address is the one the client connected to.
        if let Ok(asked) = client.local_addr() {
            record(&arrivals, asked, from, true);
        }
        let target = destination(&route);
        tokio::spawn(async move {
            // Refused upstream: the client sees its connection reset, as it would have.
            match TcpStream::connect(target).await {
                Ok(upstream) => pass_on(client, upstream).await,
                Err(_) => reset(&client),
            }
        });
    }
}

/// Copies both ways until both sides have closed: EOF on one side becomes a half-close
/// of the other; an error (a reset) on one side resets the other.
async fn pass_on(mut client: TcpStream, mut upstream: TcpStream) {
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let (mut from_client, mut from_upstream) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    let (mut client_open, mut upstream_open) = (true, true);
    while client_open || upstream_open {
        // Both reads are cancel-safe: the branch not taken has read nothing.
        tokio::select! {
            read = client.read(&mut from_client), if client_open => match read {
                Ok(0) => {
                    client_open = false;
                    let _ = upstream.shutdown().await;
                }
                Ok(count) => {
                    if upstream.write_all(&from_client[..count]).await.is_err() {
                        return reset(&client);
                    }
                }
                Err(_) => return reset(&upstream),
            },
            read = upstream.read(&mut from_upstream), if upstream_open => match read {
                Ok(0) => {
                    upstream_open = false;
                    let _ = client.shutdown().await;
                }
                Ok(count) => {
                    if client.write_all(&from_upstream[..count]).await.is_err() {
                        return reset(&upstream);
                    }
                }
                Err(_) => return reset(&client),
            },
        }
    }
}

/// Resets the connection now ([`reset_now`]: also while a child being started elsewhere
/// holds a copy of the socket).
fn reset(stream: &TcpStream) {
    let _ = reset_now(stream);
}

/// Each client address gets its own socket toward `target`, so replies find their way
/// back to the client that sent the request, from the address it sent it to.
async fn datagram_loop(socket: Arc<UdpSocket>, route: Route, arrivals: Arrivals) {
    let mut flows: std::collections::HashMap<SocketAddr, Arc<UdpSocket>> = Default::default();
    let mut buffer = vec![0u8; super::MAX_DATAGRAM];
    let port = socket.local_addr().map_or(0, |address| address.port());
    loop {
        let (length, client, asked) = match super::pktinfo::receive(&socket, &mut buffer).await {
            Ok(received) => received,
            // An ICMP error of an earlier reply concerns that datagram, not the socket.
            Err(error) if super::pktinfo::concerns_one_datagram(&error) => continue,
            Err(_) => return,
        };
        let upstream = match flows.get(&client) {
            Some(upstream) => Arc::clone(upstream),
            None if flows.len() < MAX_FLOWS => {
                let target = destination(&route);
                let local: SocketAddr = if target.is_ipv4() {
                    (Ipv4Addr::LOCALHOST, 0).into()
                } else {
                    (Ipv6Addr::LOCALHOST, 0).into()
                };
                let Ok(upstream) = UdpSocket::bind(local).await else {
                    continue;
                };
                if upstream.connect(target).await.is_err() {
                    continue;
                }
                let upstream = Arc::new(upstream);
                flows.insert(client, Arc::clone(&upstream));
                record(&arrivals, SocketAddr::new(asked, port), client, false);
                let (back, replies) = (Arc::clone(&socket), Arc::clone(&upstream));
                tokio::spawn(async move {
                    let mut buffer = vec![0u8; super::MAX_DATAGRAM];
                    while let Ok(length) = replies.recv(&mut buffer).await {
                        let _ = super::pktinfo::send_from(&back, &buffer[..length], client, asked)
                            .await;
                    }
                });
                upstream
            }
            None => continue,
        };
        let _ = upstream.send(&buffer[..length]).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hard_coded_port_reaches_the_target_both_ways() {
        let target = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let target_address = target.local_addr().unwrap();
        let port = crate::world::real::ports::fresh_port().unwrap();
        let _stand_in = StandIn::start(&[(port, target_address)], false).unwrap();
        let mut client = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let (mut served, _) = target.accept().await.unwrap();
        client.write_all(b"ping").await.unwrap();
        client.shutdown().await.unwrap();
        let mut received = Vec::new();
        served.read_to_end(&mut received).await.unwrap();
        assert_eq!(received, b"ping", "the half-close came through too");
        served.write_all(b"PONG").await.unwrap();
        drop(served);
        let mut reply = Vec::new();
        client.read_to_end(&mut reply).await.unwrap();
        assert_eq!(reply, b"PONG");
    }

    #[tokio::test]
    async fn datagrams_reach_the_target_and_replies_come_back() {
        let target = UdpSocket::bind(("127.0.0.1", 0)).await.unwrap();
        let port = crate::world::real::ports::fresh_port().unwrap();
        let _stand_in = StandIn::start(&[(port, target.local_addr().unwrap())], false).unwrap();
        let client = UdpSocket::bind(("127.0.0.1", 0)).await.unwrap();
        client
            .send_to(b"ping 1", ("127.0.0.1", port))
            .await
            .unwrap();
        let mut buffer = [0u8; 64];
        let (length, from) = target.recv_from(&mut buffer).await.unwrap();
        assert_eq!(&buffer[..length], b"ping 1");
        target.send_to(b"PING 1", from).await.unwrap();
        let (length, replier) = client.recv_from(&mut buffer).await.unwrap();
        assert_eq!(&buffer[..length], b"PING 1");
        assert_eq!(
            replier.port(),
            port,
            "the reply comes from the hard-coded port"
        );
    }
}
