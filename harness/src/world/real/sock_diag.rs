//! One TCP socket's queues, asked of the kernel by its addresses (`NETLINK_SOCK_DIAG`, what
//! `ss` uses), rather than read from `/proc/net/tcp`.
//!
//! The table lists every socket of the network namespace as text. In a scenario's own
//! namespace that is a handful of lines; on a shared loopback (a platform's container, or
//! `HARNESS_NO_NAMESPACES`) it is every socket of the machine, thousands on a busy CI
//! runner, and the read pacer ([`crate::peers::read_pacing`]) asks every millisecond: reading
//! and parsing the table that often took the CPU the scenarios' relays needed, and a slicing
//! relay's slices came 130 ms apart instead of 3 (and a step that waits until a program has
//! read what it was sent asks every 10 ms). An exact lookup by the connection's four
//! addresses is a hash lookup in the kernel and a reply of a hundred bytes.
//!
//! The socket is made by the calling thread, so it asks that thread's network namespace,
//! as `/proc/thread-self/net/` does.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// `SOCK_DIAG_BY_FAMILY`, the request type (`linux/sock_diag.h`).
const SOCK_DIAG_BY_FAMILY: u16 = 20;
/// `INET_DIAG_NOCOOKIE`: look the socket up by its addresses alone.
const NO_COOKIE: u32 = !0;

/// `struct inet_diag_sockid`: ports and addresses in network order.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct SocketId {
    source_port: [u8; 2],
    destination_port: [u8; 2],
    source: [u8; 16],
    destination: [u8; 16],
    interface: u32,
    cookie: [u32; 2],
}

/// `struct nlmsghdr` followed by `struct inet_diag_req_v2`.
#[repr(C)]
struct Request {
    length: u32,
    kind: u16,
    flags: u16,
    sequence: u32,
    port_id: u32,
    family: u8,
    protocol: u8,
    extensions: u8,
    pad: u8,
    states: u32,
    id: SocketId,
}

/// `struct inet_diag_msg`, after the reply's `nlmsghdr` (16 bytes).
#[repr(C)]
#[derive(Clone, Copy)]
struct Reply {
    family: u8,
    state: u8,
    timer: u8,
    retransmits: u8,
    id: SocketId,
    expires: u32,
    receive_queue: u32,
    send_queue: u32,
    uid: u32,
    inode: u32,
}

/// The queues of one TCP socket: bytes received and not read yet, bytes sent and not
/// acknowledged yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Queues {
    /// Bytes received and not read yet by the program.
    pub unread: u32,
    /// Bytes sent and not acknowledged yet by the peer.
    pub unacknowledged: u32,
}

/// The queues of the TCP socket whose own address is `local` and whose peer is `remote`;
/// `Ok(None)` when there is none (closed, or never there).
pub fn tcp_queues(local: SocketAddr, remote: SocketAddr) -> io::Result<Option<Queues>> {
    // An IPv4 connection to a socket of the IPv6 family (dual-stack) is in the same table as
    // an IPv4 one: look it up by its IPv4 addresses.
    let (local, remote) = (unmapped(local), unmapped(remote));
    let family = match (local.ip(), remote.ip()) {
        (IpAddr::V4(_), IpAddr::V4(_)) => libc::AF_INET,
        (IpAddr::V6(_), IpAddr::V6(_)) => libc::AF_INET6,
        _ => return Ok(None),
    };
    let mut id = SocketId {
        source_port: local.port().to_be_bytes(),
        destination_port: remote.port().to_be_bytes(),
        cookie: [NO_COOKIE, NO_COOKIE],
        ..SocketId::default()
    };
    address_bytes(local.ip(), &mut id.source);
    address_bytes(remote.ip(), &mut id.destination);
    let request = Request {
        length: std::mem::size_of::<Request>() as u32,
        kind: SOCK_DIAG_BY_FAMILY,
        flags: libc::NLM_F_REQUEST as u16,
        sequence: 1,
        port_id: 0,
        family: family as u8,
        protocol: libc::IPPROTO_TCP as u8,
        extensions: 0,
        pad: 0,
        states: !0,
        id,
    };
    // SAFETY: socket takes no pointers; the descriptor is owned at once.
    let socket = unsafe {
        let fd = libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            libc::NETLINK_SOCK_DIAG,
        );
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        OwnedFd::from_raw_fd(fd)
    };
    // SAFETY: the request lives across the call, its length is its size.
    let sent = unsafe {
        libc::send(
            socket.as_raw_fd(),
            (&request as *const Request).cast(),
            std::mem::size_of::<Request>(),
            0,
        )
    };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut buffer = [0u8; 512];
    // SAFETY: the buffer lives across the call, its length is its size.
    let received = unsafe {
        libc::recv(
            socket.as_raw_fd(),
            buffer.as_mut_ptr().cast(),
            buffer.len(),
            0,
        )
    };
    if received < 0 {
        return Err(io::Error::last_os_error());
    }
    let received = received as usize;
    const HEADER: usize = 16;
    if received < HEADER {
        return Err(io::Error::other("a short netlink reply"));
    }
    let kind = u16::from_ne_bytes([buffer[4], buffer[5]]);
    if kind == libc::NLMSG_ERROR as u16 {
        // `struct nlmsgerr`: the error (negative), then the request.
        let error = i32::from_ne_bytes([buffer[16], buffer[17], buffer[18], buffer[19]]);
        return match -error {
            libc::ENOENT => Ok(None),
            0 => Ok(None),
            errno => Err(io::Error::from_raw_os_error(errno)),
        };
    }
    if kind != SOCK_DIAG_BY_FAMILY || received < HEADER + std::mem::size_of::<Reply>() {
        return Err(io::Error::other("an unexpected netlink reply"));
    }
    // SAFETY: the buffer holds a whole `inet_diag_msg` after the header (checked above);
    // read_unaligned copes with the byte buffer's alignment.
    let reply: Reply = unsafe { std::ptr::read_unaligned(buffer[HEADER..].as_ptr().cast()) };
    Ok(Some(Queues {
        unread: reply.receive_queue,
        unacknowledged: reply.send_queue,
    }))
}

/// Bytes the sender at `local` has not had acknowledged plus bytes its peer at `remote` has
/// not read; `None` when neither end is there any more. Where netlink is refused, read
/// from the tables ([`super::readiness::in_flight`]), which say the same at a higher cost.
pub fn in_flight(local: SocketAddr, remote: SocketAddr) -> Option<u64> {
    match (tcp_queues(local, remote), tcp_queues(remote, local)) {
        (Ok(None), Ok(None)) => None,
        (Ok(sender), Ok(receiver)) => {
            let unacknowledged = sender.map_or(0, |queues| queues.unacknowledged);
            let unread = receiver.map_or(0, |queues| queues.unread);
            Some(u64::from(unacknowledged) + u64::from(unread))
        }
        _ => super::readiness::in_flight(local.port(), remote.port()),
    }
}

/// `::ffff:a.b.c.d` as `a.b.c.d`; any other address as it is.
fn unmapped(address: SocketAddr) -> SocketAddr {
    match address.ip() {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(IpAddr::V4(v4), address.port()),
            None => address,
        },
        IpAddr::V4(_) => address,
    }
}

/// The address in the kernel's layout: IPv4 in the first four bytes.
fn address_bytes(address: IpAddr, into: &mut [u8; 16]) {
    match address {
        IpAddr::V4(v4) => into[..4].copy_from_slice(&v4.octets()),
        IpAddr::V6(v6) => into.copy_from_slice(&v6.octets()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn an_unread_message_is_in_the_receivers_queue_until_it_is_read() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut sender = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut receiver, _) = listener.accept().unwrap();
        sender.write_all(b"twelve bytes").unwrap();
        let receiving_end = (
            receiver.local_addr().unwrap(),
            receiver.peer_addr().unwrap(),
        );
        // Loopback delivers at once, but on the kernel's time: wait for the event, bounded.
        let mut queues = None;
        for _ in 0..1000 {
            queues = tcp_queues(receiving_end.0, receiving_end.1).unwrap();
            if queues.is_some_and(|queues| queues.unread == 12) {
                break;
            }
            std::thread::yield_now();
        }
        assert_eq!(queues.map(|queues| queues.unread), Some(12));
        let mut read = [0u8; 12];
        receiver.read_exact(&mut read).unwrap();
        let queues = tcp_queues(receiving_end.0, receiving_end.1).unwrap();
        assert_eq!(queues.map(|queues| queues.unread), Some(0));
    }

    #[test]
    fn a_connection_that_is_not_there_is_none() {
        let nowhere: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let elsewhere: SocketAddr = "127.0.0.1:10".parse().unwrap();
        assert_eq!(tcp_queues(nowhere, elsewhere).unwrap(), None);
    }

    #[test]
    fn a_dual_stack_socket_is_found_by_its_ipv4_addresses() {
        let Ok(listener) = std::net::TcpListener::bind("[::]:0") else {
            return; // no IPv6 on this machine: nothing dual-stack to look up
        };
        let port = listener.local_addr().unwrap().port();
        let mut sender = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (receiver, _) = listener.accept().unwrap();
        sender.write_all(b"abc").unwrap();
        let mut queues = None;
        for _ in 0..1000 {
            queues = tcp_queues(
                receiver.local_addr().unwrap(),
                receiver.peer_addr().unwrap(),
            )
            .unwrap();
            if queues.is_some_and(|queues| queues.unread == 3) {
                break;
            }
            std::thread::yield_now();
        }
        assert_eq!(queues.map(|queues| queues.unread), Some(3));
    }
}
