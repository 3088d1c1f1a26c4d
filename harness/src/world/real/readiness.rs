//! Is a program listening yet? Asked of the kernel, without connecting.
//!
//! A probe connection would be a client: to a sequential message server it is an empty
//! message, to a chat server a nameless user. So instead we look at what the kernel
//! knows: its socket tables list every socket with its state and inode (asked over
//! netlink, [`sock_diag`], as `ss` does; read from `/proc/net/tcp`, `tcp6`, `udp`, `udp6`
//! where netlink is refused); `/proc/PID/fd/*` links to `socket:[INODE]` for the sockets a
//! process holds. The program listens when a socket in state LISTEN (`0A`) on the port
//! belongs to a process of its process group (an interpreter may fork or exec before it
//! binds). A UDP server has no LISTEN state: it is ready once it has a socket bound to the
//! port.
//!
//! Another user's `/proc/PID/fd` can be read only with `CAP_SYS_PTRACE`, which a platform's
//! container does not give its root. There a socket also belongs to the group when the
//! table says its owner is a group member's user (the `uid` column), that user is not the
//! harness's own, and so is one of the users the sandbox gives a program alone.
//!
//! The tables are those of the network namespace of the thread that asks (a netlink
//! socket it makes, or `/proc/thread-self/net/`): when a batch grades each submission in a
//! namespace of its own, the grading thread and its programs are there, while `/proc/net`
//! shows the main thread's.

use std::collections::HashSet;
use std::fs;
use std::net::SocketAddr;

use super::proc_entries::{socket_inodes, stat_fields, uid_of};
use super::sock_diag;

pub(crate) use super::sock_diag::{SocketRow, TCP_LISTEN, TCP_TIME_WAIT};

/// Whether a process of process group `group` has a TCP socket listening on `port`, or a
/// UDP socket bound to it.
pub fn group_listens_on(group: i32, port: u16) -> bool {
    group_listening(group, port, false).on_port
}

/// What a process group listens on, from one reading of the kernel's tables.
#[derive(Debug, Default)]
pub struct GroupListening {
    /// A TCP socket listening on the port asked about, or a UDP socket bound to it.
    pub on_port: bool,
    /// When asked for, and not listening on the port: the TCP ports it listens on
    /// instead (sorted, each once), where a server listens when not where it was told.
    pub tcp_elsewhere: Option<Vec<u16>>,
}

/// Whether processes of `group` listen on `port`, and with `look_elsewhere`, when they do
/// not, on which other TCP ports (which reads every process's entry in `/proc`).
pub fn group_listening(group: i32, port: u16, look_elsewhere: bool) -> GroupListening {
    let listening: Vec<SocketRow> =
        socket_rows_in(&["tcp", "tcp6", "udp", "udp6"], sock_diag::LISTENERS_ONLY)
            .unwrap_or_default()
            .into_iter()
            .filter(|row| !row.tcp || row.state == TCP_LISTEN)
            .collect();
    let on_port: HashSet<u64> = listening
        .iter()
        .filter(|row| row.port == port)
        .map(|row| row.inode)
        .collect();
    // Whose the sockets on the port are is read from every process's entry in `/proc`:
    // asked only when there is one.
    if !on_port.is_empty() && group_holds_any(group, &on_port) {
        return GroupListening {
            on_port: true,
            tcp_elsewhere: None,
        };
    }
    let users = if on_port.is_empty() && !look_elsewhere {
        HashSet::new()
    } else {
        own_users(group)
    };
    if listening
        .iter()
        .any(|row| row.port == port && users.contains(&row.uid))
    {
        return GroupListening {
            on_port: true,
            tcp_elsewhere: None,
        };
    }
    let tcp_elsewhere = look_elsewhere.then(|| {
        let tcp: Vec<&SocketRow> = listening.iter().filter(|row| row.tcp).collect();
        if tcp.is_empty() {
            return Vec::new();
        }
        let held: HashSet<u64> = group_members(group)
            .into_iter()
            .flat_map(socket_inodes)
            .collect();
        let mut ports: Vec<u16> = tcp
            .into_iter()
            .filter(|row| held.contains(&row.inode) || users.contains(&row.uid))
            .map(|row| row.port)
            .collect();
        ports.sort_unstable();
        ports.dedup();
        ports
    });
    GroupListening {
        on_port: false,
        tcp_elsewhere,
    }
}

/// The users of `group`'s processes that are not the harness's own (nor root): users the
/// sandbox gives a program alone, whose sockets the tables name by their `uid`.
fn own_users(group: i32) -> HashSet<u32> {
    let harness = rustix::process::geteuid().as_raw();
    group_members(group)
        .into_iter()
        .filter_map(uid_of)
        .filter(|uid| *uid != harness && *uid != 0)
        .collect()
}

/// Whether a process of `group` holds one of the sockets `inodes`.
fn group_holds_any(group: i32, inodes: &HashSet<u64>) -> bool {
    group_members(group).into_iter().any(|pid| {
        socket_inodes(pid)
            .iter()
            .any(|inode| inodes.contains(inode))
    })
}

/// Every socket of `tables` (`tcp`, `udp6`...) of the calling thread's network namespace.
/// A table that cannot be read has none (`tcp6` on a kernel without IPv6); `None` if no
/// table could be read (no netlink and no `/proc`).
pub(crate) fn socket_rows(tables: &[&str]) -> Option<Vec<SocketRow>> {
    socket_rows_in(tables, sock_diag::EVERY_STATE)
}

/// [`socket_rows`], TCP sockets in `tcp_states` only (a mask of `1 << state`, such as
/// [`sock_diag::LISTENERS_ONLY`]: much cheaper to ask). Asked over netlink (see
/// [`sock_diag`] for the cost of the text tables); a table netlink cannot dump is read
/// from `/proc/thread-self/net/`, all states, which the callers filter anyway.
pub(crate) fn socket_rows_in(tables: &[&str], tcp_states: u32) -> Option<Vec<SocketRow>> {
    let mut rows = Vec::new();
    let mut read_any = false;
    for table in tables {
        if let Ok(dumped) = sock_diag::table_rows(table, tcp_states) {
            rows.extend(dumped);
            read_any = true;
        } else if let Some(read) = text_table_rows(table) {
            rows.extend(read);
            read_any = true;
        }
    }
    read_any.then_some(rows)
}

/// Every socket of `/proc/thread-self/net/TABLE`, or `None` where it cannot be read.
/// Reading `tcp` or `tcp6` walks the kernel's whole table of connections, milliseconds of
/// system time however few sockets the namespace has: only where netlink is refused.
fn text_table_rows(table: &str) -> Option<Vec<SocketRow>> {
    let text = fs::read_to_string(format!("/proc/thread-self/net/{table}")).ok()?;
    let mut rows = Vec::new();
    // Columns: sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
    for line in text.lines().skip(1) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 10 {
            continue;
        }
        let queues = fields[4].split_once(':').and_then(|(tx, rx)| {
            Some((
                u64::from_str_radix(tx, 16).ok()?,
                u64::from_str_radix(rx, 16).ok()?,
            ))
        });
        let row = (
            local_port(fields[1]),
            u8::from_str_radix(fields[3], 16),
            queues,
            fields[9].parse(),
            fields[7].parse(),
        );
        if let (Some(port), Ok(state), Some((tx_queue, rx_queue)), Ok(inode), Ok(uid)) = row {
            rows.push(SocketRow {
                tcp: table.starts_with("tcp"),
                port,
                remote_port: local_port(fields[2]).unwrap_or(0),
                state,
                tx_queue,
                rx_queue,
                inode,
                uid,
            });
        }
    }
    Some(rows)
}

/// What is still on its way on the TCP connection between the local ports `sender` and
/// `receiver` (both ends on this machine): bytes the sender has not had acknowledged plus
/// bytes the receiver has not read. `None` if neither end is in the tables.
pub(crate) fn in_flight(sender: u16, receiver: u16) -> Option<u64> {
    let rows = socket_rows(&["tcp", "tcp6"])?;
    let mut found = false;
    let mut bytes = 0;
    for row in rows.iter().filter(|row| row.tcp) {
        if row.port == sender && row.remote_port == receiver {
            found = true;
            bytes += row.tx_queue;
        } else if row.port == receiver && row.remote_port == sender {
            found = true;
            bytes += row.rx_queue;
        }
    }
    found.then_some(bytes)
}

/// Bytes the sender at `local` has not had acknowledged plus bytes its peer at `remote` has
/// not read; `None` when neither end is there any more. Where netlink is refused, read
/// from the tables ([`in_flight`]), which say the same at a higher cost.
pub fn connection_in_flight(local: SocketAddr, remote: SocketAddr) -> Option<u64> {
    match (
        sock_diag::tcp_queues(local, remote),
        sock_diag::tcp_queues(remote, local),
    ) {
        (Ok(None), Ok(None)) => None,
        (Ok(sender), Ok(receiver)) => {
            let unacknowledged = sender.map_or(0, |queues| queues.unacknowledged);
            let unread = receiver.map_or(0, |queues| queues.unread);
            Some(u64::from(unacknowledged) + u64::from(unread))
        }
        _ => in_flight(local.port(), remote.port()),
    }
}

/// The port of a row's `local_address` (`0100007F:1F90`: address and port in hex).
fn local_port(local_address: &str) -> Option<u16> {
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
    // After the name: state, ppid, pgrp.
    stat_fields(pid)?.get(2)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_listener_is_seen_without_connecting() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let group = rustix::process::getpgrp().as_raw_nonzero().get();
        assert!(group_listens_on(group, port));
        drop(listener);
        assert!(!group_listens_on(group, port));
    }

    /// Netlink's dump says of each socket what the text table says: port, peer's port,
    /// state, inode and user, for a listener, both ends of a connection and a UDP socket;
    /// and a dump of listeners alone leaves the connection out.
    #[test]
    fn netlink_lists_the_sockets_the_text_table_lists() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (_server, _) = listener.accept().unwrap();
        let client_port = client.local_addr().unwrap().port();
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let udp_port = udp.local_addr().unwrap().port();
        // Ours by their ports and peers' ports, held (an inode: a closed connection of
        // another test may have had one of these ports).
        let ours = [
            (true, port, 0),
            (true, port, client_port),
            (true, client_port, port),
            (false, udp_port, 0),
        ];
        let summary = |rows: Vec<SocketRow>| {
            let mut seen: Vec<_> = rows
                .into_iter()
                .filter(|row| {
                    row.inode != 0 && ours.contains(&(row.tcp, row.port, row.remote_port))
                })
                .map(|row| {
                    (
                        row.tcp,
                        row.port,
                        row.remote_port,
                        row.state,
                        row.inode,
                        row.uid,
                    )
                })
                .collect();
            seen.sort_unstable();
            seen
        };
        let dumped: Vec<SocketRow> = ["tcp", "udp"]
            .into_iter()
            .flat_map(|table| sock_diag::table_rows(table, sock_diag::EVERY_STATE).unwrap())
            .collect();
        let dumped = summary(dumped);
        assert_eq!(dumped.len(), 4, "{dumped:?}");
        // The text table is written a page at a time while other tests' sockets come and
        // go, and may then list a socket twice (seen here) or skip one: read it again
        // until it lists ours once each, a bounded number of times.
        let mut read = Vec::new();
        for _ in 0..100 {
            read = summary(
                ["tcp", "udp"]
                    .into_iter()
                    .flat_map(|table| text_table_rows(table).unwrap())
                    .collect(),
            );
            if read.len() == dumped.len() {
                break;
            }
        }
        assert_eq!(dumped, read);
        let listeners = summary(sock_diag::table_rows("tcp", sock_diag::LISTENERS_ONLY).unwrap());
        assert_eq!(listeners.len(), 1, "{listeners:?}");
        assert_eq!((listeners[0].1, listeners[0].3), (port, TCP_LISTEN));
    }

    #[test]
    fn the_ports_a_group_listens_on_are_listed_tcp_only() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let udp_port = udp.local_addr().unwrap().port();
        let group = rustix::process::getpgrp().as_raw_nonzero().get();
        // Port 0: nothing listens there, so the other ports are listed.
        let elsewhere = |group| group_listening(group, 0, true).tcp_elsewhere.unwrap();
        let ports = elsewhere(group);
        assert!(ports.contains(&port), "{ports:?}");
        assert!(!ports.contains(&udp_port) || udp_port == port, "{ports:?}");
        drop(listener);
        assert!(!elsewhere(group).contains(&port));
    }

    #[test]
    fn own_bound_udp_socket_is_seen() {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = socket.local_addr().unwrap().port();
        let group = rustix::process::getpgrp().as_raw_nonzero().get();
        assert!(group_listens_on(group, port));
        drop(socket);
        assert!(!group_listens_on(group, port));
    }
}
