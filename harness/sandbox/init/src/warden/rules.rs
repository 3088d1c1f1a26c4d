//! Which addresses a program on a shared loopback may bind, connect and send to: its
//! scenario's ports, as Landlock's TCP walls say, now for every protocol of the internet
//! family. Pure: the warden asks with what it read and copied, and performs the call only
//! when the answer is `None`. Unix addresses are not judged here: a named socket is
//! reached only if the program's user made it, which `calls.rs` checks on the file it
//! opened (`own_unix_socket`).

/// What the program asks of an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Use {
    Bind,
    Connect,
    /// `sendto`, `sendmsg` or `sendmmsg` with an address of its own.
    Send,
}

/// The socket the call is made on, as its copy answers (`SO_DOMAIN`, `SO_TYPE`,
/// `SO_PROTOCOL`): the copy is what the warden's call uses, so the answer cannot change
/// between the check and the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Socket {
    pub domain: libc::c_int,
    pub kind: libc::c_int,
    pub protocol: libc::c_int,
}

/// The error the call fails with when `address` is out of the program's reach, `None`
/// when the warden may make it. `address` is the raw `sockaddr` the program passed.
///
/// - An internet socket (IPv4 or IPv6) may use only the ports in `ports`, whatever its
///   protocol (UDP above all, which Landlock has no rule for), and may bind port 0 (one the
///   kernel picks). The port is read where both `sockaddr_in` and `sockaddr_in6` keep it,
///   whatever family the address claims: a UDP socket sends to an `AF_UNSPEC` address's
///   port as to an `AF_INET` one. `connect` to `AF_UNSPEC` is a disconnect, always allowed.
///   An address too short to hold a port is passed on: the kernel refuses it.
/// - An ICMP socket (`SOCK_DGRAM` with `IPPROTO_ICMP`, which the kernel lets some groups
///   make) reaches any host and has no port: refused (the labs' pinger speaks UDP).
/// - Any other family (unix, netlink) is the kernel's to check: the warden's call is made
///   inside the program's own Landlock walls.
pub(super) fn refusal(
    socket: Socket,
    usage: Use,
    address: &[u8],
    ports: &[(u16, u16)],
) -> Option<libc::c_int> {
    if socket.domain != libc::AF_INET && socket.domain != libc::AF_INET6 {
        return None;
    }
    if socket.kind == libc::SOCK_DGRAM
        && (socket.protocol == libc::IPPROTO_ICMP || socket.protocol == libc::IPPROTO_ICMPV6)
    {
        return Some(libc::EACCES);
    }
    if address.len() < 4 {
        return None;
    }
    let family = libc::c_int::from(u16::from_ne_bytes([address[0], address[1]]));
    if usage == Use::Connect && family == libc::AF_UNSPEC {
        return None;
    }
    let port = u16::from_be_bytes([address[2], address[3]]);
    if usage == Use::Bind && port == 0 {
        return None;
    }
    let allowed = ports
        .iter()
        .any(|&(first, last)| (first..=last).contains(&port));
    (!allowed).then_some(libc::EACCES)
}

#[cfg(test)]
mod tests {
    use super::*;

    const UDP: Socket = Socket {
        domain: libc::AF_INET,
        kind: libc::SOCK_DGRAM,
        protocol: libc::IPPROTO_UDP,
    };
    const PORTS: [(u16, u16); 2] = [(20032, 20095), (12000, 12000)];

    /// A `sockaddr` of `family` with `port`, as long as `sockaddr_in`.
    fn address(family: libc::c_int, port: u16) -> Vec<u8> {
        let mut bytes = vec![0u8; 16];
        bytes[..2].copy_from_slice(&(family as u16).to_ne_bytes());
        bytes[2..4].copy_from_slice(&port.to_be_bytes());
        bytes[4..8].copy_from_slice(&[127, 0, 0, 1]);
        bytes
    }

    #[test]
    fn an_internet_socket_reaches_its_scenarios_ports_only() {
        for usage in [Use::Bind, Use::Connect, Use::Send] {
            for port in [20032, 20095, 12000] {
                let inside = address(libc::AF_INET, port);
                assert_eq!(
                    refusal(UDP, usage, &inside, &PORTS),
                    None,
                    "{usage:?} {port}"
                );
            }
            for port in [20031, 20096, 53, 11999] {
                let outside = address(libc::AF_INET, port);
                assert_eq!(
                    refusal(UDP, usage, &outside, &PORTS),
                    Some(libc::EACCES),
                    "{usage:?} {port}"
                );
            }
        }
        let tcp6 = Socket {
            domain: libc::AF_INET6,
            kind: libc::SOCK_STREAM,
            protocol: libc::IPPROTO_TCP,
        };
        let mut outside = vec![0u8; 28];
        outside[..2].copy_from_slice(&(libc::AF_INET6 as u16).to_ne_bytes());
        outside[2..4].copy_from_slice(&80u16.to_be_bytes());
        assert_eq!(
            refusal(tcp6, Use::Connect, &outside, &PORTS),
            Some(libc::EACCES)
        );
    }

    #[test]
    fn port_zero_is_bound_and_unspec_disconnects_but_is_no_way_round_a_send() {
        assert_eq!(
            refusal(UDP, Use::Bind, &address(libc::AF_INET, 0), &PORTS),
            None
        );
        assert_eq!(
            refusal(UDP, Use::Send, &address(libc::AF_INET, 0), &PORTS),
            Some(libc::EACCES)
        );
        let unspec = address(libc::AF_UNSPEC, 53);
        assert_eq!(refusal(UDP, Use::Connect, &unspec, &PORTS), None);
        assert_eq!(refusal(UDP, Use::Send, &unspec, &PORTS), Some(libc::EACCES));
        // An address claiming another family still has its port read.
        let claimed = address(libc::AF_INET6, 53);
        assert_eq!(
            refusal(UDP, Use::Send, &claimed, &PORTS),
            Some(libc::EACCES)
        );
    }

    #[test]
    fn an_icmp_socket_is_refused_and_other_families_are_the_kernels() {
        let ping = Socket {
            protocol: libc::IPPROTO_ICMP,
            ..UDP
        };
        let inside = address(libc::AF_INET, 20032);
        assert_eq!(
            refusal(ping, Use::Send, &inside, &PORTS),
            Some(libc::EACCES)
        );
        let unix = Socket {
            domain: libc::AF_UNIX,
            kind: libc::SOCK_DGRAM,
            protocol: 0,
        };
        assert_eq!(refusal(unix, Use::Send, b"\x01\x00/tmp/x", &PORTS), None);
        // Too short to hold a port: the kernel refuses it.
        assert_eq!(refusal(UDP, Use::Send, &[2, 0], &PORTS), None);
    }
}
