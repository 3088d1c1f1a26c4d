//! The UDP pinger (`udp-pinger-server`, `udp-pinger-client`) as a user runs it, on
//! loopback: SPEC clauses `ping/1`–`ping/4`.

use crate::common;

use std::net::UdpSocket;
use std::thread;
use std::time::Duration;

use predicates::prelude::*;

use common::{Running, free_udp_port, wait_until_answering};

/// How long a client run may take: `--count 3` with every ping lost takes 3 s.
const CLIENT_LIMIT: Duration = Duration::from_secs(15);

/// Runs `udp-pinger-client 127.0.0.1 PORT --count COUNT`; returns its exit status and
/// stdout lines.
fn ping(port: u16, count: u32) -> (Option<i32>, Vec<String>) {
    let output = assert_cmd::Command::cargo_bin("udp-pinger-client")
        .unwrap()
        .args([
            "127.0.0.1",
            &port.to_string(),
            "--count",
            &count.to_string(),
        ])
        .timeout(CLIENT_LIMIT)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    (
        output.status.code(),
        stdout.lines().map(str::to_owned).collect(),
    )
}

/// The RTT in milliseconds of a line `Reply from HOST: seq=N rtt=X ms`, if it is one for
/// `seq`.
fn rtt_of(line: &str, seq: u32) -> Option<f64> {
    let rest = line.strip_prefix("Reply from 127.0.0.1: ")?;
    let rest = rest.strip_prefix(&format!("seq={seq} rtt="))?;
    rest.strip_suffix(" ms")?.parse().ok()
}

#[test]
fn every_ping_answered_is_0_percent_loss() {
    let port = free_udp_port();
    let _server = Running::start("udp-pinger-server", &[&port.to_string(), "--loss", "0"]);
    // The probe is a ping too, with a sequence number the client never uses.
    assert_eq!(wait_until_answering(port, b"Ping 0 probe"), b"PING 0 PROBE");
    let (status, lines) = ping(port, 3);
    assert_eq!(status, Some(0), "{lines:#?}");
    assert_eq!(lines.len(), 6, "{lines:#?}");
    for (seq, line) in (1..=3).zip(&lines) {
        assert!(rtt_of(line, seq).is_some(), "line {seq}: {line:?}");
    }
    assert_eq!(lines[3], "--- 127.0.0.1 ping statistics ---");
    assert_eq!(
        lines[4],
        "3 packets transmitted, 3 received, 0% packet loss"
    );
    assert!(
        lines[5].starts_with("rtt min/avg/max = ") && lines[5].ends_with(" ms"),
        "{:?}",
        lines[5]
    );
}

#[test]
fn every_ping_dropped_is_100_percent_loss_and_no_rtt() {
    let port = free_udp_port();
    let mut server = Running::start(
        "udp-pinger-server",
        &[&port.to_string(), "--loss", "1", "--seed", "5"],
    );
    let (status, lines) = ping(port, 3);
    // SPEC ping/2: every ping lost is a result, not a crash.
    assert_eq!(status, Some(0), "{lines:#?}");
    assert_eq!(
        lines,
        [
            "Request timed out (seq=1)",
            "Request timed out (seq=2)",
            "Request timed out (seq=3)",
            "--- 127.0.0.1 ping statistics ---",
            "3 packets transmitted, 0 received, 100% packet loss",
        ]
    );
    // The losses were the server's doing: it is up (a server that failed to start would
    // have exited by now).
    assert!(server.is_running());
}

/// SPEC ping/4: the reply to ping 1 arrives after ping 1 timed out, while the client waits
/// for ping 2's reply. It must not be taken for ping 2's.
#[test]
fn a_late_reply_is_not_counted_for_the_next_ping() {
    let server = UdpSocket::bind("127.0.0.1:0").unwrap();
    server.set_read_timeout(Some(CLIENT_LIMIT)).unwrap();
    let port = server.local_addr().unwrap().port();
    // A scripted server: it answers ping 1 only once ping 2 has come (so ping 1 has
    // timed out), then answers ping 2 half a second later.
    let script = thread::spawn(move || {
        let mut buffer = [0u8; 2048];
        let (size, client) = server.recv_from(&mut buffer).unwrap();
        let first = buffer[..size].to_ascii_uppercase();
        let (size, _) = server.recv_from(&mut buffer).unwrap();
        let second = buffer[..size].to_ascii_uppercase();
        server.send_to(&first, client).unwrap();
        thread::sleep(Duration::from_millis(500));
        server.send_to(&second, client).unwrap();
    });
    let (status, lines) = ping(port, 2);
    script.join().unwrap();
    assert_eq!(status, Some(0), "{lines:#?}");
    assert_eq!(lines[0], "Request timed out (seq=1)");
    // Taking the late reply would give an RTT near 0; the real one is 500 ms or more.
    let rtt = rtt_of(&lines[1], 2).unwrap_or_else(|| panic!("{lines:#?}"));
    assert!(rtt >= 250.0, "ping 2 took the late reply: rtt {rtt} ms");
    assert_eq!(
        lines[3],
        "2 packets transmitted, 1 received, 50% packet loss"
    );
}

#[test]
fn bad_arguments_exit_2_with_usage() {
    assert_cmd::Command::cargo_bin("udp-pinger-server")
        .unwrap()
        .args(["9999", "--loss", "1.5"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("not between 0 and 1"));
    assert_cmd::Command::cargo_bin("udp-pinger-client")
        .unwrap()
        .args(["127.0.0.1", "9999", "--count", "0"])
        .assert()
        .code(2)
        .stdout("");
}
