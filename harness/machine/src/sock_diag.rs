//! TCP and UDP sockets asked of the kernel (`NETLINK_SOCK_DIAG`, what `ss` uses), rather
//! than read from `/proc/net/tcp`: one connection's queues by its addresses, or a whole
//! table of the namespace.
//!
//! The text table lists every socket of the network namespace, and to write it the kernel
//! walks its whole hash table of connections, the machine's, sized by its memory: 4 ms of
//! system time per read of `tcp` here (24 GiB, a quarter of a million buckets), however
//! few sockets the namespace has, and `wait_listening` read `tcp` and `tcp6` every 10 ms
//! while a server started. On a shared loopback (a platform's container, or
//! `HARNESS_NO_NAMESPACES`) the table is every socket of the machine, thousands on a busy
//! CI runner, and the read pacer (the harness's `peers::read_pacing`) asks every millisecond:
//! reading and parsing it that often took the CPU the scenarios' relays needed, and a
//! slicing relay's slices came 130 ms apart instead of 3. Over netlink, an exact lookup by
//! a connection's four addresses is a hash lookup and a reply of a hundred bytes, and a
//! dump of the listening sockets alone never walks the connections: 25 µs (measured on
//! the same machine, `ss`'s own request from Python: listeners 25 µs, every state 190 µs,
//! the text table 4 ms).
//!
//! The socket is made by the calling thread, so it asks that thread's network namespace,
//! as `/proc/thread-self/net/` does.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// The length of a netlink message's header, `struct nlmsghdr`.
const HEADER: usize = 16;
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

/// A listening socket's TCP state as the tables write it (in hex, `/proc/net/tcp`'s `st`).
pub const TCP_LISTEN: u8 = 0x0A;
/// A connection's TCP state after its close, waiting out its last segments (`st` 06).
pub const TCP_TIME_WAIT: u8 = 0x06;

/// One socket of the kernel's tables (`tcp`, `tcp6`, `udp`, `udp6`), as netlink or
/// `/proc/thread-self/net/` lists it.
pub struct SocketRow {
    /// From a `tcp` table (else `udp`).
    pub tcp: bool,
    /// Its local port.
    pub port: u16,
    /// The port of its other end (0 for a listener).
    pub remote_port: u16,
    /// Its state (TCP: [`TCP_LISTEN`], [`TCP_TIME_WAIT`]...).
    pub state: u8,
    /// Bytes sent and not yet acknowledged (TCP; for a listener, its backlog's size), or
    /// waiting to be sent (UDP).
    pub tx_queue: u64,
    /// Bytes received and not yet read (for a listener, connections not yet accepted).
    pub rx_queue: u64,
    /// 0 for a socket no descriptor holds (TIME_WAIT, an orphan closing).
    pub inode: u64,
    /// The user that made it.
    pub uid: u32,
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
    let socket = ask(&request)?;
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

/// Opens a diagnostic socket in the calling thread's network namespace and sends it
/// `request`.
fn ask(request: &Request) -> io::Result<OwnedFd> {
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
            (request as *const Request).cast(),
            std::mem::size_of::<Request>(),
            0,
        )
    };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(socket)
}

/// Every TCP state, for [`table_rows`] (`TCPF_NEW_SYN_RECV` included: a connection being
/// accepted is listed as `SYN_RECV`, as the text table lists it).
pub const EVERY_STATE: u32 = !0;
/// The TCP listeners alone, for [`table_rows`]: the kernel then skips its table of
/// connections, the whole cost of a dump.
pub const LISTENERS_ONLY: u32 = 1 << TCP_LISTEN;

/// Every socket of one of the kernel's tables (`tcp`, `tcp6`, `udp`, `udp6`) of the calling
/// thread's network namespace, TCP ones in `tcp_states` only (a mask of `1 << state`; UDP
/// sockets are listed whatever it says), with what `/proc/thread-self/net/TABLE` says of
/// each. An error where netlink is refused or the kernel has no such table to dump.
pub fn table_rows(table: &str, tcp_states: u32) -> io::Result<Vec<SocketRow>> {
    let (family, protocol, states) = match table {
        "tcp" => (libc::AF_INET, libc::IPPROTO_TCP, tcp_states),
        "tcp6" => (libc::AF_INET6, libc::IPPROTO_TCP, tcp_states),
        "udp" => (libc::AF_INET, libc::IPPROTO_UDP, EVERY_STATE),
        "udp6" => (libc::AF_INET6, libc::IPPROTO_UDP, EVERY_STATE),
        _ => return Err(io::Error::other(format!("no socket table `{table}`"))),
    };
    let request = Request {
        length: std::mem::size_of::<Request>() as u32,
        kind: SOCK_DIAG_BY_FAMILY,
        flags: (libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16,
        sequence: 1,
        port_id: 0,
        family: family as u8,
        protocol: protocol as u8,
        extensions: 0,
        pad: 0,
        states,
        id: SocketId {
            cookie: [NO_COOKIE, NO_COOKIE],
            ..SocketId::default()
        },
    };
    let socket = ask(&request)?;
    let tcp = protocol == libc::IPPROTO_TCP;
    let mut rows = Vec::new();
    // A part of a dump is a page or a few; a larger buffer than any part.
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        // SAFETY: the buffer lives across the call, its length is its size. MSG_TRUNC
        // makes the call return a part's real length, so a part cut short is seen.
        let received = unsafe {
            libc::recv(
                socket.as_raw_fd(),
                buffer.as_mut_ptr().cast(),
                buffer.len(),
                libc::MSG_TRUNC,
            )
        };
        if received < 0 {
            let error = io::Error::last_os_error();
            if error.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(error);
        }
        let received = received as usize;
        if received > buffer.len() {
            return Err(io::Error::other("a netlink reply larger than its buffer"));
        }
        if read_part(&buffer[..received], tcp, &mut rows)? {
            return Ok(rows);
        }
    }
}

/// Reads one part of a dump into `rows`: `true` at the dump's end, an error where the
/// kernel says one or the part is malformed.
fn read_part(part: &[u8], tcp: bool, rows: &mut Vec<SocketRow>) -> io::Result<bool> {
    let mut offset = 0;
    while offset + HEADER <= part.len() {
        let message = &part[offset..];
        let length = u32::from_ne_bytes([message[0], message[1], message[2], message[3]]);
        let length = length as usize;
        if length < HEADER || length > message.len() {
            return Err(io::Error::other("a malformed netlink reply"));
        }
        // Both the end of a dump and an error carry an `int` after the header: 0, or an
        // error, negative (the end of a dump says so where the kernel has no dumper for the
        // protocol: `udp_diag` not built, say).
        let error = message[..length]
            .get(HEADER..HEADER + 4)
            .map_or(0, |bytes| {
                i32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
            });
        match u16::from_ne_bytes([message[4], message[5]]) {
            kind if kind == libc::NLMSG_DONE as u16 || kind == libc::NLMSG_ERROR as u16 => {
                return match error.checked_neg() {
                    Some(errno) if errno > 0 => Err(io::Error::from_raw_os_error(errno)),
                    _ => Ok(true),
                };
            }
            SOCK_DIAG_BY_FAMILY if length >= HEADER + std::mem::size_of::<Reply>() => {
                // SAFETY: the message holds a whole `inet_diag_msg` after its header
                // (checked above); read_unaligned copes with the buffer's alignment.
                let reply: Reply =
                    unsafe { std::ptr::read_unaligned(message[HEADER..].as_ptr().cast()) };
                rows.push(SocketRow {
                    tcp,
                    port: u16::from_be_bytes(reply.id.source_port),
                    remote_port: u16::from_be_bytes(reply.id.destination_port),
                    state: reply.state,
                    tx_queue: u64::from(reply.send_queue),
                    rx_queue: u64::from(reply.receive_queue),
                    inode: u64::from(reply.inode),
                    uid: reply.uid,
                });
            }
            _ => {}
        }
        // Messages are aligned to four bytes.
        offset += (length + 3) & !3;
    }
    Ok(false)
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

    /// A netlink message: its header (`kind`), then `payload`, padded to four bytes.
    fn message(kind: u16, payload: &[u8]) -> Vec<u8> {
        let length = (HEADER + payload.len()) as u32;
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&length.to_ne_bytes());
        bytes.extend_from_slice(&kind.to_ne_bytes());
        bytes.extend_from_slice(&[0; 10]);
        bytes.extend_from_slice(payload);
        bytes.resize(bytes.len().next_multiple_of(4), 0);
        bytes
    }

    /// A dump's part is read message by message: a socket's row, then its end; an end that
    /// carries an error (a kernel without the protocol's dumper) is that error, so the
    /// caller reads the text table instead; a message longer than the part is malformed.
    #[test]
    fn a_dumps_part_is_its_rows_its_end_or_its_error() {
        let mut reply = [0u8; std::mem::size_of::<Reply>()];
        reply[1] = 0x0A; // LISTEN
        reply[4..6].copy_from_slice(&4000u16.to_be_bytes());
        let inode = std::mem::size_of::<Reply>() - 4;
        reply[inode..].copy_from_slice(&77u32.to_ne_bytes());
        let mut part = message(SOCK_DIAG_BY_FAMILY, &reply);
        part.extend(message(libc::NLMSG_DONE as u16, &0i32.to_ne_bytes()));
        let mut rows = Vec::new();
        assert!(read_part(&part, true, &mut rows).unwrap());
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (rows[0].port, rows[0].state, rows[0].inode),
            (4000, 0x0A, 77)
        );

        let mut rows = Vec::new();
        let only_a_row = message(SOCK_DIAG_BY_FAMILY, &reply);
        assert!(!read_part(&only_a_row, true, &mut rows).unwrap());

        let refused = message(libc::NLMSG_DONE as u16, &(-libc::ENOENT).to_ne_bytes());
        let error = read_part(&refused, false, &mut Vec::new()).unwrap_err();
        assert_eq!(error.raw_os_error(), Some(libc::ENOENT));
        let error = message(libc::NLMSG_ERROR as u16, &(-libc::EPERM).to_ne_bytes());
        let error = read_part(&error, false, &mut Vec::new()).unwrap_err();
        assert_eq!(error.raw_os_error(), Some(libc::EPERM));

        let mut cut = message(SOCK_DIAG_BY_FAMILY, &reply);
        cut.truncate(cut.len() - 8);
        assert!(read_part(&cut, true, &mut Vec::new()).is_err());
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
