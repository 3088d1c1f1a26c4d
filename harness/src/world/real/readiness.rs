//! Is a program listening yet? Read from `/proc`, without connecting.
//!
//! A probe connection would be a client: to a sequential message server it is an empty
//! message, to a chat server a nameless user. So instead we look at what the kernel
//! knows: `/proc/net/tcp` and `/proc/net/tcp6` list every socket with its state and inode;
//! `/proc/PID/fd/*` links to `socket:[INODE]` for the sockets a process holds. The program
//! listens when a socket in state LISTEN (`0A`) on the port belongs to a process of its
//! process group (an interpreter may fork or exec before it binds). A UDP server has no
//! LISTEN state: it is ready once it has a socket bound to the port (`/proc/net/udp`).
//!
//! The tables are read from `/proc/thread-self/net/`, the network namespace of the thread
//! that asks: when a batch grades each submission in a namespace of its own, the grading
//! thread and its programs are there, while `/proc/net` shows the main thread's.

use std::collections::HashSet;
use std::fs;

const TCP_LISTEN: &str = "0A";

/// Whether a process of process group `group` has a TCP socket listening on `port`, or a
/// UDP socket bound to it.
pub fn group_listens_on(group: i32, port: u16) -> bool {
    let inodes: HashSet<u64> = listening_sockets(true)
        .into_iter()
        .filter(|socket| socket.port == port)
        .map(|socket| socket.inode)
        .collect();
    !inodes.is_empty() && group_holds_any(group, &inodes)
}

/// The ports on which processes of process group `group` have a TCP socket listening
/// (sorted, each once): where a server listens when not on the port it was given.
pub fn group_tcp_listening_ports(group: i32) -> Vec<u16> {
    let listening = listening_sockets(false);
    if listening.is_empty() {
        return Vec::new();
    }
    let held: HashSet<u64> = group_members(group)
        .into_iter()
        .flat_map(socket_inodes)
        .collect();
    let mut ports: Vec<u16> = listening
        .into_iter()
        .filter(|socket| held.contains(&socket.inode))
        .map(|socket| socket.port)
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

/// Whether a process of `group` holds one of the sockets `inodes`.
fn group_holds_any(group: i32, inodes: &HashSet<u64>) -> bool {
    group_members(group).into_iter().any(|pid| {
        socket_inodes(pid)
            .iter()
            .any(|inode| inodes.contains(inode))
    })
}

/// A socket ready for clients, as the kernel's tables list it.
struct ListeningSocket {
    port: u16,
    inode: u64,
}

/// The TCP sockets (IPv4 and IPv6) in state LISTEN, and with `with_udp` every bound UDP
/// socket too.
fn listening_sockets(with_udp: bool) -> Vec<ListeningSocket> {
    let mut sockets = Vec::new();
    let tables = [
        ("/proc/thread-self/net/tcp", true),
        ("/proc/thread-self/net/tcp6", true),
        ("/proc/thread-self/net/udp", false),
        ("/proc/thread-self/net/udp6", false),
    ];
    for (table, is_tcp) in tables {
        if !is_tcp && !with_udp {
            continue;
        }
        let Ok(text) = fs::read_to_string(table) else {
            continue;
        };
        // Columns: sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 10 || (is_tcp && fields[3] != TCP_LISTEN) {
                continue;
            }
            if let (Some(port), Ok(inode)) = (local_port(fields[1]), fields[9].parse()) {
                sockets.push(ListeningSocket { port, inode });
            }
        }
    }
    sockets
}

/// The port of a `/proc/net/{tcp,udp}*` row's `local_address` (`0100007F:1F90`: address
/// and port in hex).
pub(crate) fn local_port(local_address: &str) -> Option<u16> {
    let hex = local_address.rsplit(':').next()?;
    u16::from_str_radix(hex, 16).ok()
}

/// Process ids whose process group is `group`.
pub fn group_members(group: i32) -> Vec<i32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return vec![];
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| process_group_of(*pid) == Some(group))
        .collect()
}

/// The process group of a process, from `/proc/PID/stat` (field 5, after the command name
/// in parentheses, which may itself contain spaces and parentheses).
fn process_group_of(pid: i32) -> Option<i32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    // After the name: state, ppid, pgrp.
    after_name.split_whitespace().nth(2)?.parse().ok()
}

/// Inodes of the sockets a process holds open.
fn socket_inodes(pid: i32) -> Vec<u64> {
    let Ok(entries) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return vec![];
    };
    entries
        .filter_map(|entry| {
            let target = fs::read_link(entry.ok()?.path()).ok()?;
            let target = target.to_str()?;
            target
                .strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse()
                .ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_listener_is_seen_without_connecting() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        // SAFETY: getpgrp has no preconditions.
        let group = unsafe { libc::getpgrp() };
        assert!(group_listens_on(group, port));
        drop(listener);
        assert!(!group_listens_on(group, port));
    }

    #[test]
    fn the_ports_a_group_listens_on_are_listed_tcp_only() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let udp_port = udp.local_addr().unwrap().port();
        // SAFETY: getpgrp has no preconditions.
        let group = unsafe { libc::getpgrp() };
        let ports = group_tcp_listening_ports(group);
        assert!(ports.contains(&port), "{ports:?}");
        assert!(!ports.contains(&udp_port) || udp_port == port, "{ports:?}");
        drop(listener);
        assert!(!group_tcp_listening_ports(group).contains(&port));
    }

    #[test]
    fn own_bound_udp_socket_is_seen() {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = socket.local_addr().unwrap().port();
        // SAFETY: getpgrp has no preconditions.
        let group = unsafe { libc::getpgrp() };
        assert!(group_listens_on(group, port));
        drop(socket);
        assert!(!group_listens_on(group, port));
    }
}
