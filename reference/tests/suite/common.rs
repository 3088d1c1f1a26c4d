//! What the tests of the reference binaries share: free ports, servers that are killed
//! whatever happens, and bounded waits until a server is ready.
//!
//! Each test file uses its own share of these.
#![allow(dead_code)]

use std::net::{TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin;

/// How long a server may take to start before the test fails.
pub(crate) const STARTUP: Duration = Duration::from_secs(10);

/// A port that is free for both TCP and UDP on loopback, chosen outside the kernel's
/// ephemeral range.
///
/// Why not `bind(0)`: that hands out an ephemeral port, which is released before the
/// server under test binds it. In between, another test's `bind(0)` may be given the
/// same port, and a probe `connect()` to a port nobody listens on yet may be given it as
/// its own source port, and then connects to itself (TCP simultaneous open), so the
/// server looks ready when it is not. Neither can happen to a port outside the range.
pub(crate) fn free_port() -> u16 {
    free_ports(1)
}

/// The first of `count` consecutive ports that are all free for TCP and UDP (see
/// [`free_port`]), for a server that takes a range (vsftpd's passive ports). The range is
/// handed out whole: no other call of this process is given a port inside it.
pub(crate) fn free_ports(count: u32) -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let (low, high) = ephemeral_range();
    // The candidates: below the ephemeral range if there is room, else above it.
    let first = if low > 12_000 { 10_000u32 } else { high + 1 };
    // Different test processes start at different places; threads of one take turns.
    let start = std::process::id().wrapping_mul(7_919);
    let candidates = count_in_range(first, low, high);
    for _ in 0..candidates.min(5_000) {
        let offset = start.wrapping_add(NEXT.fetch_add(count, Ordering::Relaxed)) % candidates;
        // A range must not wrap around the end of the candidates.
        if offset + count > candidates {
            continue;
        }
        let port = first + offset;
        if (port..port + count).all(|port| !port_taken(port as u16)) {
            return port as u16;
        }
    }
    panic!("no {count} free port(s) outside the ephemeral range {low}-{high}");
}

/// How many candidate ports start at `first`: up to the ephemeral range, or after it.
fn count_in_range(first: u32, low: u32, high: u32) -> u32 {
    if first < low {
        low - first
    } else {
        65_535 - high
    }
}

/// Whether any TCP or UDP socket of this machine has local port `port`, in any state.
///
/// Read from the kernel's tables, not found by binding the port: a socket a test binds and
/// closes lives on in any child another test thread is starting at that moment (between
/// its fork and its exec the child holds a copy of every descriptor). The server then
/// fails to bind ("address already in use"), or the probe, still listening, takes the
/// readiness check's connection: both were seen, one run in a few at eight test threads.
fn port_taken(port: u16) -> bool {
    ["tcp", "tcp6", "udp", "udp6"].iter().any(|table| {
        let text = std::fs::read_to_string(format!("/proc/net/{table}")).unwrap_or_default();
        // Columns: sl local_address rem_address st ...; local_address is ADDR:PORT in hex.
        text.lines().skip(1).any(|line| {
            line.split_whitespace()
                .nth(1)
                .and_then(|local| local.rsplit(':').next())
                .and_then(|hex| u16::from_str_radix(hex, 16).ok())
                == Some(port)
        })
    })
}

/// The kernel's ephemeral port range (`bind(0)` and `connect()` draw from it).
fn ephemeral_range() -> (u32, u32) {
    let text = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .unwrap_or_else(|_| "32768 60999".to_string());
    let mut bounds = text.split_whitespace().filter_map(|n| n.parse().ok());
    match (bounds.next(), bounds.next()) {
        (Some(low), Some(high)) => (low, high),
        _ => (32_768, 60_999),
    }
}

/// A TCP port that is free (see [`free_port`]).
pub(crate) fn free_tcp_port() -> u16 {
    free_port()
}

/// A UDP port that is free (see [`free_port`]).
pub(crate) fn free_udp_port() -> u16 {
    free_port()
}

/// A running server, killed when the test ends, however it ends (a failed assertion
/// included).
pub(crate) struct Running(pub Child);

impl Running {
    /// Starts the reference binary `program` with `args`. Its stdout is dropped (the
    /// servers print nothing there); its stderr goes to the test's, to help a failing test.
    pub(crate) fn start(program: &str, args: &[&str]) -> Running {
        let child = Command::new(cargo_bin(program))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        Running(child)
    }

    /// Whether the server is still running (it did not fail or crash).
    pub(crate) fn is_running(&mut self) -> bool {
        matches!(self.0.try_wait(), Ok(None))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until a TCP server accepts connections on `port` of loopback.
pub(crate) fn wait_until_listening(port: u16) {
    let deadline = Instant::now() + STARTUP;
    // Polling, bounded: the server has no other way to say it is ready.
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the server never listened on port {port}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits until a UDP server on `port` of loopback answers `probe`; returns the answer.
pub(crate) fn wait_until_answering(port: u16, probe: &[u8]) -> Vec<u8> {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let deadline = Instant::now() + STARTUP;
    let mut buffer = [0u8; 2048];
    // A datagram sent before the server binds is lost: send again until one is answered.
    loop {
        assert!(
            Instant::now() < deadline,
            "the server never answered on UDP port {port}"
        );
        socket.send_to(probe, ("127.0.0.1", port)).unwrap();
        if let Ok((size, _)) = socket.recv_from(&mut buffer) {
            return buffer[..size].to_vec();
        }
    }
}

/// Runs a system tool (useradd, chpasswd, chown); a missing one fails the test, saying
/// what to install.
pub(crate) fn system(program: &str, args: &[&str], stdin: Option<&str>) {
    let mut command = Command::new(program);
    command.args(args).stdin(Stdio::piped());
    let mut child = command
        .spawn()
        .unwrap_or_else(|error| panic!("cannot run {program} ({error}): install passwd"));
    if let Some(text) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let status = child.wait().unwrap();
    assert!(status.success(), "{program} {args:?}: {status}");
}

/// A local user with a password, the shell `/bin/sh` and a home folder of its own (a
/// temporary folder, owned by root until a test gives it away), for a server's PAM
/// login (vsftpd, sshd); removed when dropped. Tests run as root to make one.
pub(crate) struct ThrowAwayUser {
    pub name: String,
    pub home: tempfile::TempDir,
}

impl ThrowAwayUser {
    /// `PREFIX<pid>x<n>`, with `password`.
    pub(crate) fn create(prefix: &str, password: &str) -> ThrowAwayUser {
        // SAFETY: geteuid only reads the caller's id.
        assert_eq!(
            unsafe { libc::geteuid() },
            0,
            "this test creates a local user: run it as root"
        );
        static COUNT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "{prefix}{}x{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        );
        let home = tempfile::tempdir().unwrap();
        let shown = home.path().display().to_string();
        // /bin/sh: PAM's pam_shells wants a shell listed in /etc/shells.
        system(
            "useradd",
            &[
                "--no-create-home",
                "--home-dir",
                &shown,
                "--shell",
                "/bin/sh",
                &name,
            ],
            None,
        );
        let user = ThrowAwayUser { name, home };
        system(
            "chpasswd",
            &[],
            Some(&format!("{}:{password}\n", user.name)),
        );
        user
    }
}

impl Drop for ThrowAwayUser {
    /// Removes the user once the server's session processes, which run as it, have ended
    /// (they end by themselves a moment after their client leaves): tried for 5 s.
    fn drop(&mut self) {
        for _ in 0..100 {
            let removed = Command::new("userdel")
                .arg(&self.name)
                .stderr(Stdio::null())
                .status();
            if removed.is_ok_and(|status| status.success()) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        eprintln!(
            "could not remove the test user {}: remove it with userdel",
            self.name
        );
    }
}
