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
//! A port the submission hard-codes cannot be chosen. With a network namespace per
//! scenario it is always free; on a shared loopback it may still be in TIME_WAIT from the
//! scenario before (for 60 s after a connection closed), and a server that does not set
//! `SO_REUSEADDR` then fails to bind: [`wait_bindable`] waits for it, and
//! [`connections_in_time_wait`] tells the report why a bind failed.

use std::net::{Ipv4Addr, TcpListener};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::readiness::{TCP_TIME_WAIT, socket_rows};

const FIRST: u32 = sandbox::FIRST_PROGRAM_PORT as u32;
const COUNT: u32 = 12_768;

static CURSOR: AtomicU32 = AtomicU32::new(u32::MAX);

/// A port that is free for TCP and UDP right now.
pub fn fresh_port() -> std::io::Result<u16> {
    // Start where this process's id points, so harnesses running side by side (tests,
    // parallel grading) start far apart.
    let _ = CURSOR.compare_exchange(
        u32::MAX,
        std::process::id().wrapping_mul(7919) % COUNT,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    for _ in 0..COUNT {
        let port = (FIRST + CURSOR.fetch_add(1, Ordering::SeqCst) % COUNT) as u16;
        if !port_taken(port, &["tcp", "tcp6", "udp", "udp6"]) {
            return Ok(port);
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AddrInUse,
        "no free port in 20000-32767",
    ))
}

/// A port with a listening socket held by the harness: a program told to bind it must
/// fail with "address already in use". Dropping the listener frees the port.
pub fn busy_port() -> std::io::Result<(u16, TcpListener)> {
    let port = fresh_port()?;
    let listener = TcpListener::bind((Ipv4Addr::UNSPECIFIED, port))?;
    Ok((port, listener))
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
    fn busy_port_refuses_a_second_bind() {
        let (port, _held) = busy_port().unwrap();
        assert!(TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)).is_err());
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
