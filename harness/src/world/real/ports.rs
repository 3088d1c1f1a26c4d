//! Ports for the programs under test.
//!
//! A fresh port is taken from 20000-32767, below Linux's ephemeral range (32768-60999 by
//! default), so the ports the kernel picks for outgoing connections never collide with a
//! port just handed to a server. Each candidate is checked by binding it.

use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicU32, Ordering};

const FIRST: u32 = 20_000;
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
        let tcp_free = TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)).is_ok();
        if tcp_free && UdpSocket::bind((Ipv4Addr::UNSPECIFIED, port)).is_ok() {
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
}
