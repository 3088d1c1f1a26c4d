//! The reference binaries as a user runs them: arguments, errors, and a real transfer.

use std::io::Read;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common;
use common::{free_port, wait_until_listening};

use assert_cmd::cargo::cargo_bin;
use predicates::prelude::*;

/// Kills the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the message server on `port`. Its stdin is empty (a server reads none; the
/// test's own stdin is not one to share), its stdout is the test's to read, and its stderr
/// goes to the test's: a failing test shows what the server said.
fn start_server(port: u16) -> Server {
    let child = Command::new(cargo_bin("message-server"))
        .arg(port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    Server(child)
}

#[test]
fn bad_arguments_exit_2_with_usage() {
    assert_cmd::Command::cargo_bin("message-server")
        .unwrap()
        .arg("not-a-port")
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("invalid value 'not-a-port'"));
    assert_cmd::Command::cargo_bin("message-client")
        .unwrap()
        .assert()
        .code(2)
        .stdout("");
}

#[test]
fn server_on_a_port_in_use_fails_on_stderr() {
    let held = TcpListener::bind("0.0.0.0:0").unwrap();
    let port = held.local_addr().unwrap().port();
    assert_cmd::Command::cargo_bin("message-server")
        .unwrap()
        .arg(port.to_string())
        .timeout(Duration::from_secs(10))
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(format!("cannot bind port {port}")));
}

#[test]
fn client_without_server_fails_on_stderr() {
    let port = free_port();
    assert_cmd::Command::cargo_bin("message-client")
        .unwrap()
        .args(["127.0.0.1", &port.to_string()])
        .write_stdin("hello")
        .timeout(Duration::from_secs(10))
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("cannot connect to 127.0.0.1"));
}

#[test]
fn client_and_server_carry_binary_messages_exactly() {
    let port = free_port();
    let mut server = start_server(port);
    wait_until_listening(port);
    let message: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let sent = assert_cmd::Command::cargo_bin("message-client")
        .unwrap()
        .args(["127.0.0.1", &port.to_string()])
        .write_stdin(message.clone())
        .timeout(Duration::from_secs(10))
        .output()
        .unwrap();
    // On failure, say whether the server was still there (it was seen listening).
    assert!(
        sent.status.success() && sent.stdout.is_empty(),
        "the client failed ({}; stdout {:?}; stderr {:?}); the server: {:?}",
        sent.status,
        String::from_utf8_lossy(&sent.stdout),
        String::from_utf8_lossy(&sent.stderr),
        server.0.try_wait(),
    );
    let mut printed = vec![0; message.len()];
    server
        .0
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut printed)
        .unwrap();
    assert_eq!(printed, message);
}
