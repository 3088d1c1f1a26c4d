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
    let inodes = listening_inodes(port);
    if inodes.is_empty() {
        return false;
    }
    group_members(group).into_iter().any(|pid| {
        socket_inodes(pid)
            .iter()
            .any(|inode| inodes.contains(inode))
    })
}

/// Inodes of TCP sockets (IPv4 and IPv6) listening on `port`, and of UDP sockets bound to it.
fn listening_inodes(port: u16) -> HashSet<u64> {
    let mut inodes = HashSet::new();
    let tables = [
        ("/proc/thread-self/net/tcp", true),
        ("/proc/thread-self/net/tcp6", true),
        ("/proc/thread-self/net/udp", false),
        ("/proc/thread-self/net/udp6", false),
    ];
    for (table, is_tcp) in tables {
        let Ok(text) = fs::read_to_string(table) else {
            continue;
        };
        // Columns: sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 10 || (is_tcp && fields[3] != TCP_LISTEN) {
                continue;
            }
            if local_port(fields[1]) == Some(port)
                && let Ok(inode) = fields[9].parse()
            {
                inodes.insert(inode);
            }
        }
    }
    inodes
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
