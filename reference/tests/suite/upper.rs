//! The uppercase converters (`upper-tcp-*`, `upper-udp-*`) as a user runs them, on
//! loopback: SPEC clauses `upper/1`–`upper/6`.

use crate::common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use predicates::prelude::*;

use common::{Running, free_tcp_port, free_udp_port, wait_until_answering, wait_until_listening};

/// The longest line the converters take (`reference::line::MAX_LINE`).
const MAX_LINE: usize = 65536;

/// How long any one client run may take.
const CLIENT_LIMIT: Duration = Duration::from_secs(10);

fn tcp_server() -> (Running, u16) {
    let port = free_tcp_port();
    let server = Running::start("upper-tcp-server", &[&port.to_string()]);
    wait_until_listening(port);
    (server, port)
}

fn udp_server() -> (Running, u16) {
    let port = free_udp_port();
    let server = Running::start("upper-udp-server", &[&port.to_string()]);
    assert_eq!(wait_until_answering(port, b"probe"), b"PROBE");
    (server, port)
}

/// Runs `program HOST PORT` with `stdin`.
fn client(program: &str, port: u16, stdin: impl Into<Vec<u8>>) -> assert_cmd::assert::Assert {
    assert_cmd::Command::cargo_bin(program)
        .unwrap()
        .args(["127.0.0.1", &port.to_string()])
        .write_stdin(stdin)
        .timeout(CLIENT_LIMIT)
        .assert()
}

/// A raw TCP connection to the server, with a bound on every read.
fn connect(port: u16) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(CLIENT_LIMIT)).unwrap();
    stream
}

#[test]
fn tcp_changes_only_ascii_letters() {
    let (_server, port) = tcp_server();
    client("upper-tcp-client", port, "Hello ß é 123 &*!\n")
        .success()
        .stdout("HELLO ß é 123 &*!\n")
        .stderr("");
}

#[test]
fn tcp_client_sends_only_the_first_line() {
    let (_server, port) = tcp_server();
    client("upper-tcp-client", port, "first line\nsecond line\n")
        .success()
        .stdout("FIRST LINE\n");
}

#[test]
fn tcp_line_without_newline_is_answered_at_end_of_input() {
    let (_server, port) = tcp_server();
    client("upper-tcp-client", port, "no newline")
        .success()
        .stdout("NO NEWLINE");
}

/// SPEC upper/3: lines up to 64 KiB come back whole. The client reads at most 64 KiB of
/// its line *(decided)*, so a 70000-byte line comes back as its first 65536 bytes.
#[test]
fn tcp_line_longer_than_64_kib_comes_back_cut_at_64_kib() {
    let (_server, port) = tcp_server();
    let line: Vec<u8> = b"abcdefghij".iter().copied().cycle().take(70_000).collect();
    let output = client("upper-tcp-client", port, line.clone())
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(output.len(), MAX_LINE);
    assert_eq!(output, line[..MAX_LINE].to_ascii_uppercase());
}

/// A client that sends more than 64 KiB without a newline gets the first 64 KiB back, in
/// full, and a clean end of the connection. (The server reads the rest before closing, so
/// that its close is not a reset; on loopback the reply is delivered before a reset could
/// harm it, so this test cannot show what a slower network would.)
#[test]
fn tcp_server_answers_a_raw_70000_byte_line_with_its_first_64_kib() {
    let (_server, port) = tcp_server();
    let mut stream = connect(port);
    stream.write_all(&vec![b'q'; 70_000]).unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).unwrap();
    assert_eq!(reply.len(), MAX_LINE);
    assert!(reply.iter().all(|&byte| byte == b'Q'));
}

#[test]
fn tcp_server_serves_a_client_while_another_is_idle() {
    let (_server, port) = tcp_server();
    // The first client sends half a line, then nothing for a while.
    let mut idle = connect(port);
    idle.write_all(b"slow ").unwrap();
    // SPEC upper/2: the next client does not wait for it.
    client("upper-tcp-client", port, "fast\n")
        .success()
        .stdout("FAST\n");
    idle.write_all(b"client\n").unwrap();
    let mut reply = Vec::new();
    idle.read_to_end(&mut reply).unwrap();
    assert_eq!(reply, b"SLOW CLIENT\n");
}

#[test]
fn tcp_server_survives_a_client_that_vanishes_mid_line() {
    let (mut server, port) = tcp_server();
    let mut vanishing = connect(port);
    vanishing.write_all(b"half a li").unwrap();
    drop(vanishing);
    client("upper-tcp-client", port, "next\n")
        .success()
        .stdout("NEXT\n");
    assert!(server.is_running());
}

#[test]
fn tcp_server_on_a_port_in_use_fails_on_stderr() {
    let held = TcpListener::bind("0.0.0.0:0").unwrap();
    let port = held.local_addr().unwrap().port();
    assert_cmd::Command::cargo_bin("upper-tcp-server")
        .unwrap()
        .arg(port.to_string())
        .timeout(CLIENT_LIMIT)
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(format!("cannot bind port {port}")));
}

#[test]
fn tcp_client_without_server_fails_on_stderr() {
    let port = free_tcp_port();
    client("upper-tcp-client", port, "hello\n")
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("cannot connect to 127.0.0.1"));
}

#[test]
fn udp_changes_only_ascii_letters_and_drops_the_line_ending() {
    let (_server, port) = udp_server();
    client(
        "upper-udp-client",
        port,
        "Hello ß é 123 &*!\r\nsecond line\n",
    )
    .success()
    .stdout("HELLO ß é 123 &*!\n")
    .stderr("");
}

/// SPEC upper/4: a datagram of 2048 bytes (and up to the largest UDP can carry) comes
/// back whole, and datagram boundaries are kept.
#[test]
fn udp_datagrams_come_back_whole() {
    let (_server, port) = udp_server();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(CLIENT_LIMIT)).unwrap();
    let mut buffer = vec![0u8; 65536];
    for size in [2048, 5000, 65507] {
        let datagram: Vec<u8> = b"xyz&".iter().copied().cycle().take(size).collect();
        socket.send_to(&datagram, ("127.0.0.1", port)).unwrap();
        let (received, _) = socket.recv_from(&mut buffer).unwrap();
        assert_eq!(received, size);
        assert_eq!(buffer[..received], datagram.to_ascii_uppercase());
    }
}

/// SPEC upper/5: no server, no reply; after 1 s the client says so and exits non-zero.
#[test]
fn udp_client_without_server_gives_up_within_seconds() {
    let port = free_udp_port();
    let started = Instant::now();
    client("upper-udp-client", port, "anyone?\n")
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(format!(
            "no reply from 127.0.0.1:{port} within 1 s"
        )));
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
}

#[test]
fn udp_server_on_a_port_in_use_fails_on_stderr() {
    let held = UdpSocket::bind("0.0.0.0:0").unwrap();
    let port = held.local_addr().unwrap().port();
    assert_cmd::Command::cargo_bin("upper-udp-server")
        .unwrap()
        .arg(port.to_string())
        .timeout(CLIENT_LIMIT)
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(format!(
            "cannot bind UDP port {port}"
        )));
}
