//! Ports for the programs under test.
//!
//! A fresh port is taken from 20000-32767, below Linux's ephemeral range (32768-60999 by
//! default), so the ports the kernel picks for outgoing connections never collide with a
//! port just handed to a server. Each candidate is checked in the kernel's socket tables
//! (`/proc/thread-self/net/`), not by binding it: a socket the harness binds and closes
//! lives on in any child another grading thread is starting at that moment (between its
//! fork and its exec the child holds a copy of every descriptor), and would then still
//! hold the port when the program under test binds it ("address already in use"), or,
//! listening, take the first connection meant for the program.
//!
//! Where scenarios share the machine's loopback (no network namespace of their own: a
//! platform's container), each scenario takes its ports from a [`PortBlock`] reserved
//! before its first program starts, so that its programs can be walled to that block
//! (`sandbox::TcpPorts`): they reach their own scenario's servers and peers, not another
//! scenario's, nor the grader's own services. A block is claimed for the whole machine, not
//! only for this process: its claim is a lock on a file in `/tmp` that no walled program can
//! open ([`super::port_claims`]), which the kernel gives to one holder at a time and takes
//! back when its harness ends, killed or not, so that harnesses grading side by side in one
//! container (sharing its `/tmp`) never hand out the same block.
//!
//! A port the submission hard-codes cannot be chosen. With a network namespace per
//! scenario it is always free; on a shared loopback it may still be in TIME_WAIT from the
//! scenario before (for 60 s after a connection closed), and a server that does not set
//! `SO_REUSEADDR` then fails to bind: [`wait_bindable`] waits for it, and
//! [`connections_in_time_wait`] tells the report why a bind failed.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, TcpListener};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::port_claims::{Claim, claim, is_claimed};
use super::readiness::{TCP_LISTEN, TCP_TIME_WAIT, socket_rows};

/// The first port the harness hands out: below it are the grader's own services.
const FIRST: u32 = 20_000;
const COUNT: u32 = 12_768;

/// Every table a fresh port must be free in.
const EVERY_TABLE: [&str; 4] = ["tcp", "tcp6", "udp", "udp6"];

static CURSOR: AtomicU32 = AtomicU32::new(u32::MAX);

/// Starts the cursor, once, where this process's id points, so that harnesses running
/// side by side (tests, parallel grading) hand out ports far apart.
fn start_cursor() {
    let _ = CURSOR.compare_exchange(
        u32::MAX,
        std::process::id().wrapping_mul(7919) % COUNT,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
}

/// A port that is free for TCP and UDP right now.
pub fn fresh_port() -> std::io::Result<u16> {
    start_cursor();
    for _ in 0..COUNT {
        let port = (FIRST + CURSOR.fetch_add(1, Ordering::SeqCst) % COUNT) as u16;
        if !port_taken(port, &EVERY_TABLE) && !in_a_claimed_block(port) {
            return Ok(port);
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AddrInUse,
        "no free port in 20000-32767",
    ))
}

/// The ports of one scenario on a shared loopback: [`PortBlock::SIZE`] consecutive ports
/// reserved before its first program starts, from which its programs' and peers' ports
/// are taken, and to which its programs are walled ([`PortBlock::tcp_ports`]). Released
/// when dropped (the scenario's end).
#[derive(Debug)]
pub struct PortBlock {
    first: u16,
    next: AtomicU32,
    /// The lock on the block's file: while it is held, no other block of this machine, in
    /// this harness or another, is this one.
    _claim: Claim,
}

/// How many blocks 20000-32767 holds: the blocks are aligned on [`PortBlock::SIZE`], so
/// that two claims are either the same block or apart.
const BLOCKS: u32 = COUNT / PortBlock::SIZE as u32;

/// The first port of block number `index`.
fn block_first(index: u32) -> u16 {
    (FIRST + index * u32::from(PortBlock::SIZE)) as u16
}

/// Whether `port` is in a block a scenario of this machine holds (its claim's file is
/// locked): a port handed out outside blocks (a harness whose scenarios have network
/// namespaces of their own, its questions, its bench) never lands in a scenario's block.
fn in_a_claimed_block(port: u16) -> bool {
    let Some(index) = u32::from(port)
        .checked_sub(FIRST)
        .map(|offset| offset / u32::from(PortBlock::SIZE))
        .filter(|index| *index < BLOCKS)
    else {
        return false;
    };
    is_claimed(block_first(index))
}

impl PortBlock {
    /// How many ports a scenario has: its programs, peers, relays, stand-ins and each
    /// FTP data connection take one (a port in `TIME_WAIT` is skipped, and a port taken
    /// again once the block is used up and the port is free).
    pub const SIZE: u16 = 64;

    /// Reserves a block no scenario of this machine holds (its claim, [`claim`]) and
    /// where nothing of this machine listens or has a UDP port (a grader's service), with at least half its
    /// ports free in every table (the rest in `TIME_WAIT` from an earlier scenario).
    pub fn reserve() -> std::io::Result<PortBlock> {
        start_cursor();
        // A block whose claim cannot be made is passed by; the last such failure is told
        // if no block can be had.
        let mut failure = None;
        for _ in 0..BLOCKS {
            let index = CURSOR.fetch_add(u32::from(Self::SIZE), Ordering::SeqCst)
                / u32::from(Self::SIZE)
                % BLOCKS;
            match Self::reserve_at(index) {
                Ok(Some(block)) => return Ok(block),
                Ok(None) => {}
                Err(error) => failure = Some(error),
            }
        }
        let failure = failure
            .map(|error| format!("; the last claim failed: {error}"))
            .unwrap_or_default();
        Err(std::io::Error::new(
            std::io::ErrorKind::AddrInUse,
            format!(
                "no block of {} free ports in 20000-32767 (every one is another scenario's, holds a listening socket or is mostly taken{failure})",
                Self::SIZE
            ),
        ))
    }

    /// The block number `index` if it can be had now: `None` if it is claimed or busy.
    fn reserve_at(index: u32) -> std::io::Result<Option<PortBlock>> {
        let first = block_first(index);
        let Some(claim) = claim(first)? else {
            return Ok(None);
        };
        let ports = first..first + Self::SIZE;
        if let Some(rows) = socket_rows(&EVERY_TABLE) {
            let inside: Vec<_> = rows
                .iter()
                .filter(|row| ports.contains(&row.port))
                .collect();
            // A TCP listener, or any UDP socket (one bound there is a service: the
            // kernel's own choices are above the blocks' range).
            let listening = inside.iter().any(|row| !row.tcp || row.state == TCP_LISTEN);
            let taken: BTreeSet<u16> = inside.iter().map(|row| row.port).collect();
            if listening || taken.len() > usize::from(Self::SIZE / 2) {
                return Ok(None);
            }
        }
        Ok(Some(PortBlock {
            first,
            next: AtomicU32::new(0),
            _claim: claim,
        }))
    }

    /// A port of the block that is free for TCP and UDP right now.
    pub fn take(&self) -> std::io::Result<u16> {
        for _ in 0..Self::SIZE {
            let offset = self.next.fetch_add(1, Ordering::SeqCst) % u32::from(Self::SIZE);
            let port = self.first + offset as u16;
            if !port_taken(port, &EVERY_TABLE) {
                return Ok(port);
            }
        }
        Err(std::io::Error::new(
            std::io::ErrorKind::AddrInUse,
            format!(
                "every port of the scenario's block {}-{} is taken",
                self.first,
                self.last()
            ),
        ))
    }

    /// Its last port.
    pub fn last(&self) -> u16 {
        self.first + (Self::SIZE - 1)
    }

    /// The block, for the walls of the scenario's programs.
    pub fn tcp_ports(&self) -> sandbox::TcpPorts {
        sandbox::TcpPorts::block(self.first..=self.last())
    }
}

/// Where a scenario's real sockets are, and so where its ports come from.
#[derive(Debug, Clone, Default)]
pub enum Loopback {
    /// A network namespace of its own (or no scenario: the harness's questions, bench and
    /// tests): any free port.
    #[default]
    Own,
    /// The machine's loopback, shared with other scenarios: its block.
    Shared(std::sync::Arc<PortBlock>),
}

impl Loopback {
    /// A port nobody listens on, for a program or a peer.
    pub fn fresh_port(&self) -> std::io::Result<u16> {
        match self {
            Loopback::Own => fresh_port(),
            Loopback::Shared(block) => block.take(),
        }
    }

    /// The ports a program of the scenario is walled to, on a shared loopback.
    pub fn tcp_ports(&self) -> Option<sandbox::TcpPorts> {
        match self {
            Loopback::Own => None,
            Loopback::Shared(block) => Some(block.tcp_ports()),
        }
    }
}

/// Whether a server that does *not* set `SO_REUSEADDR` (most students' servers) can bind
/// `port` now: no TCP socket of this network namespace has it as its local port, in any
/// state (TIME_WAIT included, which only `SO_REUSEADDR` may bind over).
pub fn bindable_without_reuse(port: u16) -> bool {
    !port_taken(port, &["tcp", "tcp6"])
}

/// Whether a socket in one of `tables` (`tcp`, `udp6`...) of the calling thread's network
/// namespace has local port `port`, whatever its state and address: read from the kernel's
/// tables (the module's header says why not by binding); if none can be read (no `/proc`),
/// binding the port is the only way left to tell.
fn port_taken(port: u16, tables: &[&str]) -> bool {
    match socket_rows(tables) {
        Some(rows) => rows.iter().any(|row| row.port == port),
        None => TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)).is_err(),
    }
}

/// Waits until a server without `SO_REUSEADDR` can bind `port`, checking every 100 ms for
/// at most `within`. Returns how long it waited, or `None` if the port stayed taken.
pub async fn wait_bindable(port: u16, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    loop {
        if bindable_without_reuse(port) {
            return Some(started.elapsed());
        }
        if started.elapsed() >= within {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How many TCP connections with local port `port` are in TIME_WAIT, in the calling
/// thread's network namespace (`/proc/thread-self/net/tcp*`, state `06`).
pub fn connections_in_time_wait(port: u16) -> usize {
    socket_rows(&["tcp", "tcp6"])
        .unwrap_or_default()
        .iter()
        .filter(|row| row.state == TCP_TIME_WAIT && row.port == port)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_ports_are_distinct_and_bindable() {
        let first = fresh_port().unwrap();
        let second = fresh_port().unwrap();
        assert_ne!(first, second);
        TcpListener::bind((Ipv4Addr::LOCALHOST, first)).unwrap();
    }

    #[test]
    fn blocks_held_at_once_are_apart_and_hand_out_their_own_ports() {
        let one = PortBlock::reserve().unwrap();
        let two = PortBlock::reserve().unwrap();
        assert!(
            one.last() < two.first || two.last() < one.first,
            "{one:?} {two:?}"
        );
        let port = one.take().unwrap();
        assert!((one.first..=one.last()).contains(&port));
        assert!(one.tcp_ports().contains(port) && !two.tcp_ports().contains(port));
        // A listener on a port of the block: the next port taken is another.
        let _held = TcpListener::bind((Ipv4Addr::UNSPECIFIED, one.first + 1)).unwrap();
        let next = one.take().unwrap();
        assert_ne!(next, one.first + 1);
    }

    #[test]
    fn a_block_where_a_udp_port_is_bound_is_passed_by() {
        // A grader's UDP service inside a block: no scenario's programs are walled to it.
        let (index, service) = (0..BLOCKS)
            .find_map(|_| {
                let block = PortBlock::reserve().unwrap();
                let first = block.first;
                drop(block);
                let service = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, first + 5)).ok()?;
                Some((
                    u32::from(first - FIRST as u16) / u32::from(PortBlock::SIZE),
                    service,
                ))
            })
            .unwrap();
        assert!(PortBlock::reserve_at(index).unwrap().is_none());
        drop(service);
        // Another test of this process may claim it meanwhile: then it is not free either.
        if let Some(block) = PortBlock::reserve_at(index).unwrap() {
            assert_eq!(block.first, block_first(index));
        }
    }

    #[test]
    fn a_block_claimed_elsewhere_is_passed_by_and_a_held_block_is_claimed() {
        // A block another harness holds: its file locked here, as that harness would.
        let (index, other) = (0..BLOCKS)
            .find_map(|_| {
                let block = PortBlock::reserve().unwrap();
                let first = block.first;
                drop(block);
                // Another test of this process may take it between the two: try another.
                let other = claim(first).ok()??;
                Some((
                    u32::from(first - FIRST as u16) / u32::from(PortBlock::SIZE),
                    other,
                ))
            })
            .unwrap();
        assert!(PortBlock::reserve_at(index).unwrap().is_none());
        let first = block_first(index);
        assert!(in_a_claimed_block(first) && in_a_claimed_block(first + PortBlock::SIZE - 1));
        drop(other);
        assert!(!in_a_claimed_block(first));
        let block = PortBlock::reserve_at(index)
            .unwrap()
            .expect("free once the other claim is gone");
        // While held, its lock is refused to every other open file of the machine.
        assert!(claim(block.first).unwrap().is_none());
        drop(block);
        assert!(claim(first).unwrap().is_some());
    }

    #[test]
    fn time_wait_blocks_a_bind_without_reuse_until_it_ends() {
        // The side that closes first keeps TIME_WAIT: here the server's accepted socket.
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
        let (accepted, _) = listener.accept().unwrap();
        drop(accepted);
        let mut buffer = [0u8; 1];
        // The client reads the server's FIN, then closes: the server's side is in TIME_WAIT.
        use std::io::Read;
        let _ = (&client).read(&mut buffer);
        drop(client);
        drop(listener);
        assert!(connections_in_time_wait(port) >= 1);
        assert!(!bindable_without_reuse(port), "TIME_WAIT holds port {port}");
        // SO_REUSEADDR (std's default) binds all the same.
        TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)).unwrap();
    }
}
