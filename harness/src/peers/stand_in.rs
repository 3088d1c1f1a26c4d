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

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use socket2::SockRef;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::JoinHandle;

use crate::world::real::isolation::Namespace;

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
}

impl StandIn {
    /// Listens on `port` (in a new namespace when `own_namespace`) and forwards to `target`,
    /// which is reached from the caller's namespace. Must be called inside a tokio runtime.
    pub fn start(port: u16, target: SocketAddr, own_namespace: bool) -> io::Result<StandIn> {
        let namespace = if own_namespace {
            Some(Arc::new(Namespace::create()?))
        } else {
            None
        };
        let bind = move || -> io::Result<Sockets> { Sockets::bind(port) };
        let sockets = match &namespace {
            Some(namespace) => namespace.run(bind)?,
            None => bind()?,
        };
        let mut tasks = Vec::new();
        for listener in sockets.tcp {
            listener.set_nonblocking(true)?;
            let listener = TcpListener::from_std(listener)?;
            tasks.push(tokio::spawn(accept_loop(listener, target)));
        }
        for socket in sockets.udp {
            socket.set_nonblocking(true)?;
            let socket = Arc::new(UdpSocket::from_std(socket)?);
            tasks.push(tokio::spawn(datagram_loop(socket, target)));
        }
        Ok(StandIn { namespace, tasks })
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
        let mut sockets = Sockets {
            tcp: vec![std::net::TcpListener::bind(v4)?],
            udp: vec![std::net::UdpSocket::bind(v4)?],
        };
        if let Ok(listener) = bind_v6_only(v6, socket2::Type::STREAM) {
            listener.listen(128)?;
            sockets.tcp.push(listener.into());
        }
        if let Ok(socket) = bind_v6_only(v6, socket2::Type::DGRAM) {
            sockets.udp.push(socket.into());
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

async fn accept_loop(listener: TcpListener, target: SocketAddr) {
    for _ in 0..MAX_FLOWS {
        let Ok((client, _)) = listener.accept().await else {
            return;
        };
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

/// Makes the socket send a reset when it is closed (`SO_LINGER` 0).
fn reset(stream: &TcpStream) {
    let _ = SockRef::from(stream).set_linger(Some(std::time::Duration::ZERO));
}

/// Each client address gets its own socket toward `target`, so replies find their way
/// back to the client that sent the request.
async fn datagram_loop(socket: Arc<UdpSocket>, target: SocketAddr) {
    let mut flows: std::collections::HashMap<SocketAddr, Arc<UdpSocket>> = Default::default();
    let mut buffer = vec![0u8; super::MAX_DATAGRAM];
    loop {
        let Ok((length, client)) = socket.recv_from(&mut buffer).await else {
            return;
        };
        let upstream = match flows.get(&client) {
            Some(upstream) => Arc::clone(upstream),
            None if flows.len() < MAX_FLOWS => {
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
                let (back, replies) = (Arc::clone(&socket), Arc::clone(&upstream));
                tokio::spawn(async move {
                    let mut buffer = vec![0u8; super::MAX_DATAGRAM];
                    while let Ok(length) = replies.recv(&mut buffer).await {
                        let _ = back.send_to(&buffer[..length], client).await;
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
        let _stand_in = StandIn::start(port, target_address, false).unwrap();
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
        let _stand_in = StandIn::start(port, target.local_addr().unwrap(), false).unwrap();
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
