//! A waiting step stops as soon as its outcome can no longer change, and says why: every
//! program has ended and nothing more is on its way to a harness server; a program's
//! output can no longer become a match of its regex; a server listens on another port; a
//! datagram was answered, short; a user of a crowd got a wrong line; every program still
//! running is blocked for good.
//! And it does not stop early while something still is on its way (bytes in the kernel's
//! buffers from a client that has already exited, a slice the harness holds back), nor while
//! a program waits with a time limit (an alarm it handles, `SO_RCVTIMEO`). Each test reads
//! the failure a report gives, never a duration.

use crate::common;
use crate::common::{harness, submission};

use std::path::Path;

use serde_json::Value;

/// Grades `target` on the scenarios `selection` with seed 1 (`--scenarios kit` where
/// given); its JSON report, and the exit status.
fn graded(target: &Path, selection: &[&str], kit: Option<&Path>) -> (Value, Option<i32>) {
    let out = tempfile::tempdir().unwrap();
    let json = out.path().join("report.json");
    let mut command = harness();
    command
        .arg("--target")
        .arg(target)
        .args(["--seed", "1", "--json"])
        .arg(&json)
        .args(selection);
    if let Some(kit) = kit {
        command.arg("--scenarios").arg(kit.join("scenarios"));
    }
    let output = command.output().unwrap();
    let report = serde_json::from_str(
        &std::fs::read_to_string(&json)
            .unwrap_or_else(|_| panic!("no report: {}", String::from_utf8_lossy(&output.stderr))),
    )
    .unwrap();
    (report, output.status.code())
}

/// What the failing step of the only scenario saw.
fn seen(report: &Value) -> String {
    let scenario = &report["submissions"][0]["scenarios"][0];
    assert_eq!(scenario["status"], "fail", "{scenario:#}");
    scenario["failure"]["seen"].as_str().unwrap().to_owned()
}

/// Asserts that the only scenario passed.
fn assert_passed(report: &Value) {
    let scenario = &report["submissions"][0]["scenarios"][0];
    assert_eq!(scenario["status"], "pass", "{scenario:#}");
}

fn fixture(name: &str) -> std::path::PathBuf {
    common::kit_root().join("fixtures/submissions").join(name)
}

/// A fixture that fails `scenario` early: the failing step's report says each of `phrases`.
#[rstest::rstest]
// Its AF_INET socket cannot reach ::1: it exits at once, and the step checking what the
// harness's IPv6 server received ends then, not at its 5 s deadline.
#[case::a_client_that_crashed_before_connecting_is_not_waited_for(
    "dual-stack-client-af-inet",
    "dual-stack/03-client-over-ipv6",
    &["every program has ended, and nothing more is on its way to srv"]
)]
// The server logs its dialogue on stdout before the mail: no line printed later can make
// that stdout the mail alone.
#[case::output_that_can_no_longer_match_fails_at_the_line_that_went_wrong(
    "smtp-server-stdout-debug",
    "smtp-server/01-delivers-and-prints",
    &["which nothing printed after them can make a match: line 1 went wrong", "Connection from"]
)]
// It listens on the port after the one it was given: the step names that port after a
// grace of 2 s, instead of "never listened" at its 15 s deadline.
#[case::a_server_listening_on_a_port_of_its_own_is_told_so(
    "message-hostile-wrong-port",
    "message/01-text-20k",
    &["instead (for 2000 ms now)"]
)]
// recvfrom(1024) cuts the 2048-byte datagram: the one datagram that comes back is the whole
// answer (boundaries are kept), so its missing half is not waited for.
#[case::a_datagram_answered_short_is_not_waited_for(
    "upper-udp-recv-1024",
    "upper-udp/02-datagram-of-2048-bytes",
    &["1024 of 2048 bytes (all correct so far) (d1's datagram was answered by one datagram)"]
)]
// Splitting `message|user` at the first `|` sends half the messages to users that do not
// exist: their senders are answered `error:`, and the other users are not waited for.
#[case::a_crowd_stops_at_its_first_wrong_line(
    "direct-chat-split-first-pipe",
    "direct-chat/04-fifty-at-once",
    &["although every recipient is registered", "were not waited for: the step had failed"]
)]
// It read one recv(4096) of the relayed 20 KB, closed, and sits in accept(): its stdout can
// no longer grow, and the step says so instead of waiting 20 s.
#[case::a_server_blocked_for_good_is_not_waited_for_and_the_report_says_where(
    "message-single-recv",
    "message/05-client-through-slicing-relay",
    &[
        "every program still running is blocked for good",
        "server waits in accept on TCP 0.0.0.0:",
        "(listening, no connection waiting)",
    ]
)]
// recvfrom() without a timeout, and the datagram was dropped on purpose.
#[case::a_client_without_a_timeout_is_told_it_will_not_end(
    "upper-udp-no-timeout",
    "upper-udp/05-client-gives-up-after-1s",
    &["client is still running and will not end by itself", "client waits in recv on UDP"]
)]
// The forwarder keeps the client's socket after the remote refused, and waits in accept()
// for the next client.
#[case::a_connection_nothing_can_close_any_more_fails_at_once(
    "port-forward-remote-down-hangs",
    "port-forward/05-remote-down",
    &["it is still open, and nothing can close it any more"]
)]
fn fails_early_and_says_why(
    #[case] fixture_name: &str,
    #[case] scenario: &str,
    #[case] phrases: &[&str],
) {
    let (report, status) = graded(&fixture(fixture_name), &[scenario], None);
    assert_eq!(status, Some(1));
    let seen = seen(&report);
    for phrase in phrases {
        assert!(seen.contains(phrase), "{phrase:?} in {seen}");
    }
}

/// A client that sends 8 MB and exits: much of it is still in the kernel's buffers when
/// it has ended, on its way to the harness's server.
const SENT_AND_GONE: &str = r#"
task = "message"
clauses = ["message/4"]
category = "basic"
points = 1
requirement = "The client's bytes all reach the server, although it exits at once."
hint = "Send everything, then close."

[[step]]
listen = "srv"

[[step]]
start = "client"
to = "srv"
stdin = { generate = "text", bytes = 8388608, seed = 3 }

[[step]]
expect_exit = "client"
success = true

[[step]]
expect_received = "srv"
equals = { generate = "text", bytes = 8388608, seed = 3 }
within_ms = 30000
"#;

/// Sends stdin and exits without waiting for anything.
const SEND_AND_EXIT: &str = r#"import socket, sys
data = sys.stdin.buffer.read()
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
s.sendall(data)
s.close()
"#;

#[test]
fn bytes_still_on_their_way_are_waited_for_after_the_client_exited() {
    let (kit, _) = common::one_scenario_suite("message", "01-sent-and-gone", SENT_AND_GONE);
    let student = submission(&[("message-client.py", SEND_AND_EXIT)]);
    let (report, status) = graded(
        student.path(),
        &["message/01-sent-and-gone"],
        Some(kit.path()),
    );
    assert_passed(&report);
    assert_eq!(status, Some(0));
}

/// A UDP client that gives up after 1 s by an alarm whose handler raises: blocked in
/// recvfrom() without a socket timeout, but not for good.
const ALARM_CLIENT: &str = r#"import signal, socket, sys

def give_up(signum, frame):
    raise TimeoutError

signal.signal(signal.SIGALRM, give_up)
line = sys.stdin.readline().rstrip("\n")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(line.encode(), (sys.argv[1], int(sys.argv[2])))
signal.alarm(1)
try:
    data, _ = s.recvfrom(65535)
except TimeoutError:
    print("Request timed out", file=sys.stderr)
    sys.exit(1)
signal.alarm(0)
print(data.decode())
"#;

/// The same, with the kernel's receive timeout (SO_RCVTIMEO), as C clients do it.
const RCVTIMEO_CLIENT: &str = r#"import socket, struct, sys

line = sys.stdin.readline().rstrip("\n")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 1, 0))
s.sendto(line.encode(), (sys.argv[1], int(sys.argv[2])))
try:
    data, _ = s.recvfrom(65535)
except OSError:
    print("Request timed out", file=sys.stderr)
    sys.exit(1)
print(data.decode())
"#;

#[rstest::rstest]
#[case::alarm_with_a_handler(ALARM_CLIENT)]
#[case::socket_receive_timeout(RCVTIMEO_CLIENT)]
fn a_client_whose_wait_has_a_time_limit_is_waited_for(#[case] client: &str) {
    let student = submission(&[("upper-udp-client.py", client)]);
    let (report, _) = graded(
        student.path(),
        &["upper-udp/05-client-gives-up-after-1s"],
        None,
    );
    assert_passed(&report);
}

/// The harness holds each slice back 400 ms: between them the server sits in recv() with
/// nothing to read, blocked, but not for good, since the harness will send more.
const SLOW_SLICES: &str = r#"
task = "message"
clauses = ["message/4"]
category = "robustness"
points = 1
requirement = "A message that arrives in slices far apart is printed whole."
hint = "Loop on recv() until it returns b''."

[[step]]
start = "server"

[[step]]
wait_listening = "server"

[[step]]
connect = "server"
as = "c1"
send = { text = "0123456789abcdefghij" }
slices = { size = 5, gap_ms = 400 }

[[step]]
expect_stdout = "server"
equals = { text = "0123456789abcdefghij" }
within_ms = 5000
"#;

/// The same through a relay: the client has sent everything and exited, and the relay
/// holds each slice back on its way to the server.
const SLOW_RELAY: &str = r#"
task = "message"
clauses = ["message/4"]
category = "robustness"
points = 1
requirement = "A message relayed in slices far apart is printed whole."
hint = "Loop on recv() until it returns b''."

[[step]]
start = "server"

[[step]]
wait_listening = "server"

[[step]]
relay = "server"
as = "relay"
slices = { size = 5, gap_ms = 400 }

[[step]]
start = "client"
to = "relay"
stdin = { text = "0123456789abcdefghij" }

[[step]]
expect_stdout = "server"
equals = { text = "0123456789abcdefghij" }
within_ms = 5000
"#;

#[rstest::rstest]
#[case::by_a_client_peer(SLOW_SLICES)]
#[case::by_a_relay(SLOW_RELAY)]
fn a_server_between_slices_the_harness_holds_back_is_waited_for(#[case] scenario: &str) {
    let (kit, _) = common::one_scenario_suite("message", "01-slow-slices", scenario);
    let good = fixture("good");
    let (report, status) = graded(&good, &["message/01-slow-slices"], Some(kit.path()));
    assert_passed(&report);
    assert_eq!(status, Some(0));
}
