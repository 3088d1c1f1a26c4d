//! Which addresses a program on a shared loopback may bind, connect and send to: its
//! scenario's ports, as Landlock's TCP walls say, now for every protocol of the internet
//! family, and only on this machine: a namespace of the scenario's own has no way out, and
//! on a platform's container with a network a datagram to a remote host on a port of the
//! block would leave it (Landlock's TCP rules are ports only). Pure but for
//! [`Reach::of_this_machine`]: the warden asks with what it read and copied, and performs
//! the call only when the answer is `None`. Unix addresses are not judged here: a named
//! socket is reached only if the program's user made it, which `calls.rs` checks on the
//! file it opened (`own_unix_socket`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Where a program may reach: its scenario's ports, on this machine's addresses.
#[derive(Debug, Clone, Default)]
pub(crate) struct Reach {
    /// The scenario's ports.
    pub ports: Vec<(u16, u16)>,
    /// The addresses of this machine's interfaces, besides the loopback and the
    /// wildcard, which always lead here.
    pub local: Vec<IpAddr>,
}

impl Reach {
    /// `ports` on the addresses this machine's interfaces have now (the warden starts
    /// before the program, and grading adds no interface where the warden runs).
    pub(crate) fn of_this_machine(ports: Vec<(u16, u16)>) -> Reach {
        Reach {
            ports,
            local: interface_addresses(),
        }
    }

    /// Whether a datagram or connection to `address` stays on this machine.
    fn is_here(&self, address: IpAddr) -> bool {
        let address = match address {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
            v4 => v4,
        };
        address.is_loopback() || address.is_unspecified() || self.local.contains(&address)
    }
}

/// Every address of every interface (`getifaddrs`); none where it fails.
fn interface_addresses() -> Vec<IpAddr> {
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `list` with a list we free below.
    if unsafe { libc::getifaddrs(&mut list) } != 0 {
        return Vec::new();
    }
    let mut addresses = Vec::new();
    let mut entry = list;
    while !entry.is_null() {
        // SAFETY: an entry of the list getifaddrs made, alive until freeifaddrs.
        let this = unsafe { &*entry };
        if !this.ifa_addr.is_null() {
            // SAFETY: `ifa_addr` points to a sockaddr of the family it names, as long as
            // that family's structure.
            let family = libc::c_int::from(unsafe { (*this.ifa_addr).sa_family });
            if family == libc::AF_INET {
                let v4 = unsafe { &*this.ifa_addr.cast::<libc::sockaddr_in>() };
                addresses.push(IpAddr::V4(Ipv4Addr::from(u32::from_be(v4.sin_addr.s_addr))));
            } else if family == libc::AF_INET6 {
                let v6 = unsafe { &*this.ifa_addr.cast::<libc::sockaddr_in6>() };
                addresses.push(IpAddr::V6(Ipv6Addr::from(v6.sin6_addr.s6_addr)));
            }
        }
        entry = this.ifa_next;
    }
    // SAFETY: the list getifaddrs made, freed once.
    unsafe { libc::freeifaddrs(list) };
    addresses
}

/// The address a `connect` or a send on an internet socket goes to, where the kernel
/// reads it: `sockaddr_in`'s for `AF_INET`, and for `AF_UNSPEC` (an IPv4 socket sends to
/// that address as to an `AF_INET` one; read alike on an IPv6 socket, where it means the
/// connected peer: the stricter reading), `sockaddr_in6`'s for `AF_INET6`. `None` for an
/// address too short for its family (the kernel refuses it: `EINVAL`), `Err` for any
/// other family, which no internet socket takes.
fn destination(family: libc::c_int, address: &[u8]) -> Result<Option<IpAddr>, ()> {
    if family == libc::AF_INET || family == libc::AF_UNSPEC {
        Ok(address
            .get(4..8)
            .map(|bytes| IpAddr::V4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]))))
    } else if family == libc::AF_INET6 {
        Ok(address.get(8..24).map(|bytes| {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(bytes);
            IpAddr::V6(Ipv6Addr::from(octets))
        }))
    } else {
        Err(())
    }
}

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
/// - An internet socket (IPv4 or IPv6) may use only the ports of `reach`, whatever its
///   protocol (UDP above all, which Landlock has no rule for), and may bind port 0 (one the
///   kernel picks). The port is read where both `sockaddr_in` and `sockaddr_in6` keep it,
///   whatever family the address claims: a UDP socket sends to an `AF_UNSPEC` address's
///   port as to an `AF_INET` one. `connect` to `AF_UNSPEC` is a disconnect, always allowed.
///   An address too short to hold a port is passed on: the kernel refuses it.
/// - It may connect and send only to this machine ([`Reach::is_here`]); it binds any
///   address (the kernel refuses one this machine lacks).
/// - An ICMP socket (`SOCK_DGRAM` with `IPPROTO_ICMP`, which the kernel lets some groups
///   make) reaches any host and has no port: refused (the labs' pinger speaks UDP).
/// - Any other family (unix, netlink) is the kernel's to check: the warden's call is made
///   inside the program's own Landlock walls.
pub(super) fn refusal(
    socket: Socket,
    usage: Use,
    address: &[u8],
    reach: &Reach,
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
    let allowed = reach
        .ports
        .iter()
        .any(|&(first, last)| (first..=last).contains(&port));
    if !allowed {
        return Some(libc::EACCES);
    }
    if usage == Use::Bind {
        return None;
    }
    match destination(family, address) {
        Ok(Some(to)) if !reach.is_here(to) => Some(libc::EACCES),
        Ok(_) => None,
        Err(()) => Some(libc::EACCES),
    }
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

    /// The scenario's ports, on a machine whose one other interface has 172.17.0.2 and
    /// fd00::2.
    fn reach() -> Reach {
        Reach {
            ports: PORTS.to_vec(),
            local: vec!["172.17.0.2".parse().unwrap(), "fd00::2".parse().unwrap()],
        }
    }

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
                    refusal(UDP, usage, &inside, &reach()),
                    None,
                    "{usage:?} {port}"
                );
            }
            for port in [20031, 20096, 53, 11999] {
                let outside = address(libc::AF_INET, port);
                assert_eq!(
                    refusal(UDP, usage, &outside, &reach()),
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
            refusal(tcp6, Use::Connect, &outside, &reach()),
            Some(libc::EACCES)
        );
    }

    /// A `sockaddr_in6` to `address` at `port`.
    fn address6(address: &str, port: u16) -> Vec<u8> {
        let mut bytes = vec![0u8; 28];
        bytes[..2].copy_from_slice(&(libc::AF_INET6 as u16).to_ne_bytes());
        bytes[2..4].copy_from_slice(&port.to_be_bytes());
        let address: Ipv6Addr = address.parse().unwrap();
        bytes[8..24].copy_from_slice(&address.octets());
        bytes
    }

    #[test]
    fn a_connect_or_send_stays_on_this_machine_and_a_bind_takes_any_address() {
        let udp6 = Socket {
            domain: libc::AF_INET6,
            ..UDP
        };
        for usage in [Use::Connect, Use::Send] {
            for here in [
                [127, 0, 0, 1],
                [127, 1, 2, 3],
                [0, 0, 0, 0],
                [172, 17, 0, 2],
            ] {
                let mut to = address(libc::AF_INET, 20032);
                to[4..8].copy_from_slice(&here);
                assert_eq!(
                    refusal(UDP, usage, &to, &reach()),
                    None,
                    "{usage:?} {here:?}"
                );
                // An IPv6 socket sends to an `AF_INET` address as an IPv4 one does.
                assert_eq!(
                    refusal(udp6, usage, &to, &reach()),
                    None,
                    "{usage:?} {here:?}"
                );
            }
            for away in [
                [192, 0, 2, 10],
                [169, 254, 169, 254],
                [255, 255, 255, 255],
                [224, 0, 0, 1],
                [172, 17, 0, 1],
            ] {
                let mut to = address(libc::AF_INET, 20032);
                to[4..8].copy_from_slice(&away);
                assert_eq!(
                    refusal(UDP, usage, &to, &reach()),
                    Some(libc::EACCES),
                    "{usage:?} {away:?}"
                );
                assert_eq!(
                    refusal(udp6, usage, &to, &reach()),
                    Some(libc::EACCES),
                    "{usage:?} {away:?}"
                );
                // `AF_UNSPEC` is sent to as `AF_INET`: no way round.
                to[..2].copy_from_slice(&(libc::AF_UNSPEC as u16).to_ne_bytes());
                if usage == Use::Send {
                    assert_eq!(
                        refusal(UDP, usage, &to, &reach()),
                        Some(libc::EACCES),
                        "{away:?}"
                    );
                }
            }
            for here in ["::1", "::", "::ffff:127.0.0.1", "fd00::2"] {
                let to = address6(here, 20095);
                assert_eq!(
                    refusal(udp6, usage, &to, &reach()),
                    None,
                    "{usage:?} {here}"
                );
            }
            for away in ["2001:db8::1", "::ffff:192.0.2.1", "ff02::1", "fe80::1"] {
                let to = address6(away, 20095);
                assert_eq!(
                    refusal(udp6, usage, &to, &reach()),
                    Some(libc::EACCES),
                    "{usage:?} {away}"
                );
            }
            // A family no internet socket takes is no way round either.
            let mut odd = address(libc::AF_INET, 20032);
            odd[..2].copy_from_slice(&(libc::AF_PACKET as u16).to_ne_bytes());
            assert_eq!(
                refusal(UDP, usage, &odd, &reach()),
                Some(libc::EACCES),
                "{usage:?}"
            );
        }
        let mut away = address(libc::AF_INET, 20032);
        away[4..8].copy_from_slice(&[192, 0, 2, 10]);
        assert_eq!(refusal(UDP, Use::Bind, &away, &reach()), None);
    }

    #[test]
    fn this_machines_interfaces_are_listed() {
        let reach = Reach::of_this_machine(PORTS.to_vec());
        assert!(
            reach.local.iter().any(IpAddr::is_loopback),
            "{:?}",
            reach.local
        );
    }

    #[test]
    fn port_zero_is_bound_and_unspec_disconnects_but_is_no_way_round_a_send() {
        assert_eq!(
            refusal(UDP, Use::Bind, &address(libc::AF_INET, 0), &reach()),
            None
        );
        assert_eq!(
            refusal(UDP, Use::Send, &address(libc::AF_INET, 0), &reach()),
            Some(libc::EACCES)
        );
        let unspec = address(libc::AF_UNSPEC, 53);
        assert_eq!(refusal(UDP, Use::Connect, &unspec, &reach()), None);
        assert_eq!(
            refusal(UDP, Use::Send, &unspec, &reach()),
            Some(libc::EACCES)
        );
        // An address claiming another family still has its port read.
        let claimed = address(libc::AF_INET6, 53);
        assert_eq!(
            refusal(UDP, Use::Send, &claimed, &reach()),
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
            refusal(ping, Use::Send, &inside, &reach()),
            Some(libc::EACCES)
        );
        let unix = Socket {
            domain: libc::AF_UNIX,
            kind: libc::SOCK_DGRAM,
            protocol: 0,
        };
        assert_eq!(refusal(unix, Use::Send, b"\x01\x00/tmp/x", &reach()), None);
        let other = b"\x01\x00\x00listener-1234";
        assert_eq!(refusal(unix, Use::Bind, other, &reach()), None);
        assert_eq!(refusal(unix, Use::Bind, b"\x01\x00", &reach()), None);
        // Too short to hold a port: the kernel refuses it.
        assert_eq!(refusal(UDP, Use::Send, &[2, 0], &reach()), None);
    }
}
