//! Every address is this machine's: local routes for all of IPv4 and IPv6 on the loopback.
//!
//! A fresh network namespace answers only for `127.0.0.0/8` and `::1`. With two more routes
//! in its *local* table,
//!
//! ```text
//! ip route add local 0.0.0.0/0 dev lo        # what this file does, by netlink
//! ip -6 route add local ::/0 dev lo
//! ```
//!
//! the kernel treats every address as one of its own: a `connect` to `192.0.2.10:587` or
//! `[2001:db8::5]:587` reaches a socket listening on the wildcard address of that port, and
//! the accepted socket's local address (`getsockname`) is the address the client asked
//! for. A datagram to `192.0.2.53:53` reaches a socket bound to `0.0.0.0:53`. So a client
//! that hard-codes a lab machine's address, or gets a made-up one from the harness's DNS,
//! reaches the harness, whatever language it is written in, statically linked or not (no
//! `LD_PRELOAD` connect-rewriting needed). Nothing leaves: the namespace has no interface
//! but `lo`. A port nobody listens on is still refused, as on any local address.
//!
//! The routes are added the way `ip` adds them: an `RTM_NEWROUTE` request on a
//! `NETLINK_ROUTE` socket (rtnetlink(7)), written by hand here because it is three small
//! structures, and the kernel's acknowledgement read back.

use std::io;
use std::mem::size_of;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Adds the local routes for IPv4 (required) and IPv6 (where the kernel has IPv6) in the
/// calling thread's network namespace, whose loopback must be up.
pub fn add_local_routes() -> io::Result<()> {
    let netlink = Netlink::open()?;
    netlink.add_local_default(libc::AF_INET as u8, 4)?;
    match netlink.add_local_default(libc::AF_INET6 as u8, 16) {
        // A kernel without IPv6 (or with it disabled) has no IPv6 table to add to.
        Err(error)
            if matches!(
                error.raw_os_error(),
                Some(libc::EAFNOSUPPORT | libc::EOPNOTSUPP)
            ) =>
        {
            Ok(())
        }
        other => other,
    }
}

/// A `NETLINK_ROUTE` socket, closed on drop.
struct Netlink {
    fd: OwnedFd,
}

/// The request, in the kernel's byte order (this machine's):
///
/// ```text
/// struct nlmsghdr   length u32, type u16 (RTM_NEWROUTE), flags u16, sequence u32, port u32
/// struct rtmsg      family, destination length, source length, tos, table, protocol,
///                   scope, type (all u8), flags u32
/// struct rtattr     length u16, type u16 (RTA_DST), the address (4 or 16 bytes)
/// struct rtattr     length u16, type u16 (RTA_OIF), the interface index u32
/// ```
///
/// Every part is a multiple of 4 bytes long, as netlink requires, so nothing is padded.
fn route_request(family: u8, address_length: usize, interface: u32) -> Vec<u8> {
    let mut request = Vec::with_capacity(64);
    // netlink's header; its length is filled in at the end.
    request.extend_from_slice(&0u32.to_ne_bytes());
    request.extend_from_slice(&libc::RTM_NEWROUTE.to_ne_bytes());
    // Create it, fail if it exists, and acknowledge: the answer says whether it worked.
    let flags = libc::NLM_F_REQUEST | libc::NLM_F_ACK | libc::NLM_F_CREATE | libc::NLM_F_EXCL;
    request.extend_from_slice(&(flags as u16).to_ne_bytes());
    request.extend_from_slice(&1u32.to_ne_bytes()); // sequence number
    request.extend_from_slice(&0u32.to_ne_bytes()); // the kernel fills in our port
    // The route: a prefix of length 0 (every address of the family), in the local table
    // where the kernel keeps the routes of its own addresses (`ip route show table
    // local`), of type `local`: "deliver here".
    request.extend_from_slice(&[
        family,
        0, // destination prefix length: every address
        0, // source prefix length
        0, // type of service
        libc::RT_TABLE_LOCAL,
        RTPROT_STATIC,
        libc::RT_SCOPE_HOST,
        libc::RTN_LOCAL,
    ]);
    request.extend_from_slice(&0u32.to_ne_bytes()); // route flags
    // The destination: the all-zero address of the family.
    attribute(&mut request, libc::RTA_DST, &[0; 16][..address_length]);
    // Through the loopback.
    attribute(&mut request, libc::RTA_OIF, &interface.to_ne_bytes());
    let length = request.len() as u32;
    request[..4].copy_from_slice(&length.to_ne_bytes());
    request
}

/// Appends a `struct rtattr`: its length (header included), its type, its value.
fn attribute(request: &mut Vec<u8>, kind: u16, value: &[u8]) {
    request.extend_from_slice(&(4 + value.len() as u16).to_ne_bytes());
    request.extend_from_slice(&kind.to_ne_bytes());
    request.extend_from_slice(value);
}

/// `RTPROT_STATIC` of `<linux/rtnetlink.h>`: a route an administrator added.
const RTPROT_STATIC: u8 = 4;

impl Netlink {
    fn open() -> io::Result<Netlink> {
        // SAFETY: socket takes only integers; a valid descriptor is owned below.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just opened and nothing else owns it.
        Ok(Netlink {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// `ip route add local <any>/0 dev lo` for one family; `address_length` is 4 or 16.
    fn add_local_default(&self, family: u8, address_length: usize) -> io::Result<()> {
        // SAFETY: the name is a NUL-terminated C string.
        let loopback = unsafe { libc::if_nametoindex(c"lo".as_ptr()) };
        if loopback == 0 {
            return Err(io::Error::last_os_error());
        }
        let bytes = route_request(family, address_length, loopback);
        // SAFETY: the buffer is valid for its length; the destination (the kernel) is
        // the zeroed netlink address.
        let sent = unsafe {
            let mut kernel: libc::sockaddr_nl = std::mem::zeroed();
            kernel.nl_family = libc::AF_NETLINK as u16;
            libc::sendto(
                self.fd.as_raw_fd(),
                bytes.as_ptr().cast(),
                bytes.len(),
                0,
                (&raw const kernel).cast(),
                size_of::<libc::sockaddr_nl>() as u32,
            )
        };
        if sent < 0 {
            return Err(io::Error::last_os_error());
        }
        self.acknowledgement()
    }

    /// Reads the kernel's answer: an error number of 0 is success; `EEXIST` (the route
    /// is there already: the namespace was set up before) is success too.
    fn acknowledgement(&self) -> io::Result<()> {
        let mut answer = [0u8; 512];
        // SAFETY: the buffer is valid for its length.
        let received = unsafe {
            libc::recv(
                self.fd.as_raw_fd(),
                answer.as_mut_ptr().cast(),
                answer.len(),
                0,
            )
        };
        if received < 0 {
            return Err(io::Error::last_os_error());
        }
        // The answer: netlink's header (16 bytes, its type at byte 4), then `struct
        // nlmsgerr`: an error number (0: done), and the start of the request it answers.
        let header = size_of::<libc::nlmsghdr>();
        if (received as usize) < header + size_of::<i32>() {
            return Err(io::Error::other("a short answer from netlink"));
        }
        let kind = u16::from_ne_bytes([answer[4], answer[5]]);
        let error = i32::from_ne_bytes([
            answer[header],
            answer[header + 1],
            answer[header + 2],
            answer[header + 3],
        ]);
        if kind != libc::NLMSG_ERROR as u16 {
            return Err(io::Error::other(format!(
                "netlink answered with message type {kind}, not an acknowledgement"
            )));
        }
        match -error {
            0 | libc::EEXIST => Ok(()),
            code => Err(io::Error::from_raw_os_error(code)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::namespaces;
    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};

    /// Runs `work` on a thread in a fresh namespace (with the routes, as every namespace
    /// of the harness has them); `None` where namespaces are not allowed.
    fn in_a_namespace<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        std::thread::spawn(move || {
            if namespaces::unshare_network().is_err() {
                eprintln!("network namespaces are not allowed here: nothing to test");
                return None;
            }
            namespaces::bring_loopback_up().unwrap();
            add_local_routes().unwrap();
            Some(work())
        })
        .join()
        .unwrap()
    }

    #[test]
    fn a_made_up_address_reaches_a_wildcard_listener_and_is_seen_as_asked() {
        in_a_namespace(|| {
            for (wildcard, asked) in [("0.0.0.0:0", "192.0.2.10"), ("[::]:0", "2001:db8::5")] {
                let listener = TcpListener::bind(wildcard).unwrap();
                let port = listener.local_addr().unwrap().port();
                let asked: SocketAddr = (asked.parse::<std::net::IpAddr>().unwrap(), port).into();
                let mut client = TcpStream::connect(asked).unwrap();
                let (mut served, _) = listener.accept().unwrap();
                assert_eq!(
                    served.local_addr().unwrap(),
                    asked,
                    "getsockname says what was asked"
                );
                client.write_all(b"hi").unwrap();
                let mut two = [0u8; 2];
                served.read_exact(&mut two).unwrap();
                assert_eq!(&two, b"hi");
            }
        });
    }

    #[test]
    fn a_port_nobody_listens_on_is_still_refused() {
        in_a_namespace(|| {
            let port = TcpListener::bind("0.0.0.0:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let error = TcpStream::connect(("192.0.2.10", port)).unwrap_err();
            assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused);
        });
    }

    #[test]
    fn a_datagram_to_a_made_up_address_reaches_a_wildcard_socket() {
        in_a_namespace(|| {
            let server = UdpSocket::bind("0.0.0.0:0").unwrap();
            let port = server.local_addr().unwrap().port();
            let client = UdpSocket::bind("0.0.0.0:0").unwrap();
            client.send_to(b"q", ("192.0.2.53", port)).unwrap();
            let mut buffer = [0u8; 8];
            let (length, _) = server.recv_from(&mut buffer).unwrap();
            assert_eq!(&buffer[..length], b"q");
        });
    }

    /// What the routes add to making a namespace, median of 30 (run by hand:
    /// `cargo test -p harness-machine local_routes::tests::route_setup_cost -- --ignored --nocapture`).
    #[test]
    #[ignore = "a measurement, not a test"]
    fn route_setup_cost() {
        let mut whole = Vec::new();
        let mut routes = Vec::new();
        for _ in 0..30 {
            let (namespace, added) = in_a_namespace(|| {
                // A second, fresh namespace on this thread, made step by step.
                let started = std::time::Instant::now();
                namespaces::unshare_network().unwrap();
                namespaces::bring_loopback_up().unwrap();
                let namespace = started.elapsed();
                let started = std::time::Instant::now();
                add_local_routes().unwrap();
                (namespace, started.elapsed())
            })
            .expect("namespaces are allowed");
            whole.push(namespace);
            routes.push(added);
        }
        whole.sort();
        routes.sort();
        eprintln!(
            "a namespace with its loopback up: {:?}; the two local routes added to it: {:?} (medians of 30)",
            whole[15], routes[15]
        );
    }

    #[test]
    fn adding_the_routes_twice_is_harmless() {
        in_a_namespace(|| add_local_routes().unwrap());
    }
}
