//! What the tests of the reference binaries share: free ports, servers that are killed
//! whatever happens, and bounded waits until a server is ready.
//!
//! Each test file uses its own share of these.
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin;

/// How long a server may take to start before the test fails.
pub const STARTUP: Duration = Duration::from_secs(10);

/// A TCP port that was free a moment ago.
pub fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A UDP port that was free a moment ago.
pub fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running server, killed when the test ends, however it ends (a failed assertion
/// included).
pub struct Running(pub Child);

impl Running {
    /// Starts the reference binary `program` with `args`. Its stdout is dropped (the
    /// servers print nothing there); its stderr goes to the test's, to help a failing test.
    pub fn start(program: &str, args: &[&str]) -> Running {
        let child = Command::new(cargo_bin(program))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        Running(child)
    }

    /// Whether the server is still running (it did not fail or crash).
    pub fn is_running(&mut self) -> bool {
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
pub fn wait_until_listening(port: u16) {
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
pub fn wait_until_answering(port: u16, probe: &[u8]) -> Vec<u8> {
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
