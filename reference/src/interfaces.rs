//! # `interfaces`: list the network interfaces
//!
//! Its contract: `scenarios/SPEC.md#interfaces`, clause `iface/1`.
//!
//! One line per interface: its name, `UP` or `DOWN`, and its IPv4 and IPv6 addresses:
//!
//! ```text
//! lo UP 127.0.0.1 ::1
//! dummy0 UP 10.77.0.1 fd00:77::1 fe80::5c1b:2dff:fe9a:1f2e
//! ```
//!
//! The kernel answers with `getifaddrs(3)`: a linked list with one entry per address of
//! each interface (and, on Linux, one `AF_PACKET` entry per interface, so an interface
//! without any IP address is listed too). Entries of one interface are gathered under its
//! name, in the order the kernel gives them.

use std::ffi::CStr;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::process::ExitCode;

/// One interface: its name, whether it is up, and its addresses.
#[derive(Debug, PartialEq, Eq)]
pub struct Interface {
    /// Its name, as `ip link` shows it (`lo`, `eth0`).
    pub name: String,
    /// Whether it is up (`IFF_UP`).
    pub up: bool,
    /// Its IPv4 and IPv6 addresses, in the order the kernel gives them.
    pub addresses: Vec<IpAddr>,
}

/// Runs `interfaces`: prints one line per interface; exits 1 if the kernel cannot list them, 2 on
/// any argument.
pub fn main() -> ExitCode {
    if std::env::args().len() > 1 {
        eprintln!("usage: interfaces");
        return ExitCode::from(2);
    }
    match list() {
        Ok(interfaces) => {
            for interface in interfaces {
                let mut line = format!(
                    "{} {}",
                    interface.name,
                    if interface.up { "UP" } else { "DOWN" }
                );
                for address in &interface.addresses {
                    line += &format!(" {address}");
                }
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("interfaces: cannot list the interfaces: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The interfaces the kernel reports, with their addresses.
pub fn list() -> io::Result<Vec<Interface>> {
    let mut first: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `first` with a list we own until freeifaddrs.
    if unsafe { libc::getifaddrs(&mut first) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut interfaces: Vec<Interface> = Vec::new();
    let mut entry = first;
    while !entry.is_null() {
        // SAFETY: `entry` is a node of the list getifaddrs gave, not yet freed.
        let node = unsafe { &*entry };
        // SAFETY: every node has a NUL-terminated name.
        let name = unsafe { CStr::from_ptr(node.ifa_name) }
            .to_string_lossy()
            .into_owned();
        let up = node.ifa_flags & libc::IFF_UP as libc::c_uint != 0;
        let index = match interfaces.iter().position(|known| known.name == name) {
            Some(index) => index,
            None => {
                interfaces.push(Interface {
                    name,
                    up,
                    addresses: Vec::new(),
                });
                interfaces.len() - 1
            }
        };
        // SAFETY: a non-null address points at a sockaddr of the family it names.
        if let Some(address) = unsafe { ip_address(node.ifa_addr) } {
            interfaces[index].addresses.push(address);
        }
        entry = node.ifa_next;
    }
    // SAFETY: `first` came from getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(first) };
    Ok(interfaces)
}

/// The IP address a `sockaddr` holds, if it is IPv4 or IPv6.
///
/// # Safety
/// `address` is null or points at a `sockaddr` as long as its family says.
unsafe fn ip_address(address: *const libc::sockaddr) -> Option<IpAddr> {
    if address.is_null() {
        return None;
    }
    // SAFETY: the caller's promise; the family says which struct it is.
    unsafe {
        match i32::from((*address).sa_family) {
            libc::AF_INET => {
                let v4 = &*address.cast::<libc::sockaddr_in>();
                Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(v4.sin_addr.s_addr))))
            }
            libc::AF_INET6 => {
                let v6 = &*address.cast::<libc::sockaddr_in6>();
                Some(IpAddr::V6(Ipv6Addr::from(v6.sin6_addr.s6_addr)))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_loopback_is_listed_with_its_address() {
        let interfaces = super::list().unwrap();
        let lo = interfaces.iter().find(|interface| interface.name == "lo");
        let lo = lo.expect("every Linux machine has lo");
        if lo.up {
            assert!(lo.addresses.contains(&"127.0.0.1".parse().unwrap()));
        }
    }
}
