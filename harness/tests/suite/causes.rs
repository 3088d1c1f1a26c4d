//! Reports name the cause of a failure, not only what the failing step saw: a program
//! that crashed (its exit, and the exception at the end of its stderr), one the harness
//! stopped (a flood), the figures of both programs in the memory check, a hint in the
//! failing program's own language, and what a response leaked. Each test grades a small
//! submission written here, over loopback, and reads every report format it concerns.

use crate::common;
use crate::common::{harness, submission};

use std::path::Path;
use std::process::Output;

use serde_json::Value;

/// A kit holding only `scenario` (as `scenarios/<task>/<name>.toml`), for `--scenarios`.
fn kit_with(task: &str, name: &str, scenario: &str) -> tempfile::TempDir {
    let (folder, _) = common::one_scenario_suite(task, name, scenario);
    folder
}

/// Grades `target` with seed 1 and `arguments`; the run must end with verdicts (status 1).
fn grade(target: &Path, arguments: &[&str]) -> Output {
    let output = harness()
        .arg("--target")
        .arg(target)
        .args(["--seed", "1"])
        .args(arguments)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The line of a terminal report that `label` starts (`cause`, `seen`, `expected`), whole.
fn report_line<'t>(terminal: &'t str, label: &str) -> &'t str {
    terminal
        .lines()
        .find(|line| {
            line.trim_start()
                .strip_prefix(label)
                .is_some_and(|rest| rest.starts_with(' '))
        })
        .unwrap_or_else(|| panic!("no {label} line:\n{terminal}"))
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The first scenario of the first submission of a `--json` report.
fn first_scenario(report: &Value) -> &Value {
    &report["submissions"][0]["scenarios"][0]
}

/// A message server that prints the first 100 bytes it receives, logs 3000 bytes of
/// debug lines on stderr, and raises: its traceback starts past the 2048 bytes a report
/// keeps from the start of stderr.
const RAISING_SERVER: &str = r#"import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", int(sys.argv[1])))
s.listen(5)
c, _ = s.accept()
data = c.recv(4096)
sys.stdout.buffer.write(data[:100])
sys.stdout.buffer.flush()
for i in range(60):
    print("debug: still reading, chunk", i, "of the message", file=sys.stderr)
def check(length):
    raise ValueError("message too long: %d bytes" % length)
check(len(data))
"#;

#[test]
fn a_python_crash_names_its_exit_and_exception_in_every_report() {
    let student = submission(&[("message-server.py", RAISING_SERVER)]);
    let out = tempfile::tempdir().unwrap();
    let file = |name: &str| out.path().join(name);
    let output = grade(
        student.path(),
        &[
            "--explain",
            "--json",
            file("report.json").to_str().unwrap(),
            "--junit",
            file("junit.xml").to_str().unwrap(),
            "--gradescope",
            file("results.json").to_str().unwrap(),
            "--html",
            file("html").to_str().unwrap(),
            "message/01-*",
        ],
    );
    let exception = "ValueError: message too long: ";
    let located = "(message-server.py, line 13, in check)";

    let terminal = text(&output);
    let cause_line = report_line(&terminal, "cause");
    assert!(
        cause_line.contains("server exited with status 1")
            && cause_line.contains(exception)
            && cause_line.contains(located),
        "{cause_line}"
    );
    assert!(
        terminal.contains("What went wrong: server exited with status 1"),
        "--explain tells the cause:\n{terminal}"
    );

    let report = json(&file("report.json"));
    let scenario = first_scenario(&report);
    assert_eq!(scenario["status"], "fail");
    let cause = scenario["failure"]["cause"].as_str().unwrap();
    assert!(
        cause.contains(exception) && cause.contains(located),
        "{cause}"
    );
    let stderr = &scenario["programs"][0]["stderr"];
    assert!(
        !stderr["head"]["text"].as_str().unwrap().contains(exception),
        "the head alone misses the exception: the test is about its tail"
    );
    assert!(
        stderr["tail"]["text"].as_str().unwrap().contains(exception),
        "{stderr:#}"
    );

    let junit = std::fs::read_to_string(file("junit.xml")).unwrap();
    let message = junit
        .split("message=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap();
    assert!(
        message.contains("server exited with status 1") && message.contains(exception),
        "the JUnit message leads with the cause: {message}"
    );

    let gradescope = json(&file("results.json"));
    let test_output = gradescope["tests"][0]["output"].as_str().unwrap();
    assert!(test_output.contains(exception), "{test_output}");

    let pages: String = std::fs::read_dir(file("html"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "html")
        })
        .map(|path| std::fs::read_to_string(path).unwrap())
        .collect();
    assert!(
        pages.contains("<th>cause</th>") && pages.contains(exception),
        "the page shows the cause"
    );
}

/// A C message server that writes what it receives with fwrite() and never flushes: on a
/// pipe, stdout is fully buffered, so the bytes stay in the process.
const UNFLUSHED_C_SERVER: &str = r#"#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
int main(int argc, char **argv) {
    int server = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {0};
    address.sin_family = AF_INET;
    address.sin_port = htons(atoi(argv[1]));
    if (bind(server, (struct sockaddr *)&address, sizeof address) < 0) { perror("bind"); return 1; }
    listen(server, 5);
    for (;;) {
        int client = accept(server, NULL, NULL);
        char buffer[4096];
        ssize_t received;
        while ((received = recv(client, buffer, sizeof buffer, 0)) > 0)
            fwrite(buffer, 1, received, stdout);
        close(client);
    }
}
"#;

/// One message, checked within half a second: the scenario's hint is in Python's words.
const SHORT_MESSAGE: &str = r#"task = "message"
clauses = ["message/1"]
category = "basic"
points = 1
requirement = "The server prints exactly the bytes it received."
hint = "Write each chunk with sys.stdout.buffer.write(chunk), then sys.stdout.buffer.flush()."

[[step]]
start = "server"

[[step]]
wait_listening = "server"

[[step]]
connect = "server"
as = "c1"
send = { text = "hello, buffered world\n" }

[[step]]
expect_stdout = "server"
equals_sent = ["c1"]
within_ms = 500
"#;

#[test]
fn a_c_server_whose_output_sits_in_its_buffer_hears_of_fflush_not_python() {
    let student = tempfile::tempdir().unwrap();
    let source = student.path().join("server.c");
    std::fs::write(&source, UNFLUSHED_C_SERVER).unwrap();
    let compiled = std::process::Command::new("gcc")
        .arg("-o")
        .arg(student.path().join("message-server"))
        .arg(&source)
        .status()
        .expect("gcc is installed (bash .ci/test installs it)");
    assert!(compiled.success());
    std::fs::remove_file(&source).unwrap();
    let kit = kit_with("message", "01-short", SHORT_MESSAGE);
    let output = grade(
        student.path(),
        &[
            "--explain",
            "--scenarios",
            kit.path().join("scenarios").to_str().unwrap(),
        ],
    );
    let terminal = text(&output);
    let hints: Vec<&str> = terminal
        .lines()
        .filter(|line| line.trim_start().starts_with("hint "))
        .collect();
    let hints = hints.join("\n");
    assert!(
        hints.contains("fflush(stdout)") && hints.contains("setvbuf"),
        "{terminal}"
    );
    assert!(
        !hints.contains("sys.stdout") && !hints.contains("flush=True"),
        "a C program gets no Python hint:\n{hints}"
    );
}

/// A message server that prints without end.
const FLOODING_SERVER: &str = r#"import sys
line = b"flood " * 1000
while True:
    sys.stdout.buffer.write(line)
"#;

const CAPPED_FLOOD: &str = r#"task = "message"
clauses = ["message/1"]
category = "basic"
points = 1
requirement = "The server prints exactly the bytes it received."

[[step]]
start = "server"
output_cap_mib = 1

[[step]]
wait_listening = "server"
"#;

#[test]
fn a_program_stopped_for_its_output_says_so_in_the_verdict() {
    let student = submission(&[("message-server.py", FLOODING_SERVER)]);
    let kit = kit_with("message", "01-flood", CAPPED_FLOOD);
    let out = tempfile::tempdir().unwrap();
    let report_path = out.path().join("report.json");
    let output = grade(
        student.path(),
        &[
            "--scenarios",
            kit.path().join("scenarios").to_str().unwrap(),
            "--json",
            report_path.to_str().unwrap(),
        ],
    );
    let said = "stopped by the harness: printed more than 1 MiB on stdout";
    let terminal = text(&output);
    assert!(
        terminal.contains(&format!("cause        server was {said}")),
        "{terminal}"
    );
    let report = json(&report_path);
    let scenario = first_scenario(&report);
    assert_eq!(scenario["programs"][0]["stopped_by_harness"], said);
    assert!(
        scenario["failure"]["cause"]
            .as_str()
            .unwrap()
            .contains(said)
    );
}

/// A server that holds the whole message before printing it; its client streams.
const HOARDING_SERVER: &str = r#"import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", int(sys.argv[1])))
s.listen(5)
while True:
    c, _ = s.accept()
    data = bytearray()
    while True:
        chunk = c.recv(65536)
        if not chunk:
            break
        data += chunk
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
    c.close()
"#;

const STREAMING_CLIENT: &str = r#"import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
while True:
    chunk = sys.stdin.buffer.read1(65536)
    if not chunk:
        break
    c.sendall(chunk)
c.close()
"#;

const SMALL_PEAK_MEMORY: &str = r#"task = "message"
clauses = ["message/3"]
category = "performance"
points = 1
requirement = "Memory does not grow with the message."

[[step]]
check = "peak-memory"
params = { small_bytes = 20480, large_bytes = 25165824, max_growth_mib = 8, within_ms = 30000 }
"#;

#[test]
fn the_memory_check_gives_both_programs_figures_when_the_first_fails() {
    let student = submission(&[
        ("message-server.py", HOARDING_SERVER),
        ("message-client.py", STREAMING_CLIENT),
    ]);
    let kit = kit_with("message", "16-memory", SMALL_PEAK_MEMORY);
    let output = grade(
        student.path(),
        &[
            "--scenarios",
            kit.path().join("scenarios").to_str().unwrap(),
        ],
    );
    let terminal = text(&output);
    let seen = report_line(&terminal, "seen");
    assert!(
        seen.contains("the server grew by") && seen.contains("it holds the message in memory"),
        "{seen}"
    );
    assert!(
        seen.contains("the client grew by") && seen.contains("within the limit"),
        "the client's figures too, though the server already failed: {seen}"
    );
}

/// A web server that joins the request's target to its root after dropping one
/// character: `//etc/passwd` becomes `/etc/passwd`, which `os.path.join` keeps as it is.
const LEAKING_WEB_SERVER: &str = r#"import os, socket, sys
root = sys.argv[sys.argv.index("--root") + 1]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", int(sys.argv[1])))
s.listen(5)
while True:
    c, _ = s.accept()
    request = b""
    while b"\r\n\r\n" not in request:
        chunk = c.recv(4096)
        if not chunk:
            break
        request += chunk
    target = request.split(b" ")[1].decode()
    path = os.path.join(root, target[1:])
    try:
        with open(path, "rb") as f:
            body = f.read()
        head = "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
    except OSError:
        body = b"not found"
        head = "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\n"
    c.sendall(head.encode() + body)
    c.close()
"#;

#[test]
fn a_failed_security_scenario_says_what_leaked() {
    let student = submission(&[("web-server.py", LEAKING_WEB_SERVER)]);
    let out = tempfile::tempdir().unwrap();
    let report_path = out.path().join("report.json");
    let output = grade(
        student.path(),
        &["--json", report_path.to_str().unwrap(), "web-server/10-*"],
    );
    let terminal = text(&output);
    assert!(
        terminal.contains("cause        the response to double1 carried the text of /etc/passwd"),
        "{terminal}"
    );
    let report = json(&report_path);
    let cause = first_scenario(&report)["failure"]["cause"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(cause.contains("/etc/passwd"), "{cause}");

    // The shipped traversal fixture serves `/../secret.txt`.
    let traversal = common::kit_root().join("fixtures/submissions/web-server-traversal");
    let terminal = text(&grade(&traversal, &["web-server/08-*"]));
    assert!(
        terminal.contains("cause        the response to c1 carried the text of secret.txt"),
        "{terminal}"
    );
}

/// An uppercase server that closes its first connection without answering and then takes
/// a while to die (busy, as an interpreter tearing down on a loaded machine is): the step
/// sees the connection end before the process does.
const SLOW_DYING_SERVER: &str = r#"import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", int(sys.argv[1])))
s.listen(5)
c, _ = s.accept()
c.recv(4096)
c.close()
started = time.monotonic()
while time.monotonic() - started < 0.4:
    pass
raise RuntimeError("the worker thread pool is gone")
"#;

#[test]
fn a_server_that_crashes_just_after_the_failing_step_is_reported_as_crashed() {
    // The failing step ends while the server still runs (its connection closed, its
    // exception not raised yet). The report must not call it "still running at the end":
    // a failed scenario lets a running program end before it is killed.
    let student = submission(&[("upper-tcp-server.py", SLOW_DYING_SERVER)]);
    let output = grade(student.path(), &["upper-tcp/01-*"]);
    let terminal = text(&output);
    assert!(!terminal.contains("still running at the end"), "{terminal}");
    let cause_line = report_line(&terminal, "cause");
    assert!(
        cause_line.contains("server exited with status 1")
            && cause_line.contains("RuntimeError: the worker thread pool is gone"),
        "{cause_line}"
    );
}

/// A calculator that eval()s each line and answers without a line end.
const EVAL_WITHOUT_LINE_ENDS: &str = r#"import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", int(sys.argv[1])))
s.listen(5)
while True:
    c, _ = s.accept()
    for line in c.makefile("rb"):
        try:
            c.sendall(str(eval(line.decode())).encode())
        except Exception as e:
            c.sendall(b"error: %s\n" % str(e).encode())
    c.close()
"#;

#[test]
fn the_security_finding_comes_first_whatever_else_is_wrong() {
    // The injected command ran (`pwned` exists) and the answer `0` has no line end: the
    // line's failure comes first in the scenario, the security finding first in the report.
    let student = submission(&[("calc-single.py", EVAL_WITHOUT_LINE_ENDS)]);
    let terminal = text(&grade(student.path(), &["calc/04-*-single"]));
    let seen = report_line(&terminal, "seen");
    assert!(
        seen.contains("`pwned` is there")
            && seen.contains("a command sent over the network ran")
            && seen.contains("and before it, step 5 failed: \"0\" without a line end"),
        "{seen}"
    );
    assert!(terminal.contains("failed at    step 6 "), "{terminal}");
}

/// A calc server that serves one client at a time and watches each socket in select's
/// read and error sets.
const SELECT_ONE_AT_A_TIME: &str = r#"import select, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('', int(sys.argv[1]))); s.listen(50)
while True:
    select.select([s], [], [s])
    c, _ = s.accept()
    while True:
        select.select([c], [], [c])
        d = c.recv(4096)
        if not d:
            break
        for line in d.decode().splitlines():
            c.sendall(b"42\n")
    c.close()
"#;

#[test]
fn a_socket_select_watches_twice_is_named_once_in_blocked_for_good() {
    let student = submission(&[("calc-select.py", SELECT_ONE_AT_A_TIME)]);
    let output = grade(student.path(), &["calc/05-two-clients-interleave-select"]);
    let report = String::from_utf8_lossy(&output.stdout);
    let line = report
        .lines()
        .find(|line| line.trim_start().starts_with("seen") && line.contains("blocked for good"))
        .unwrap_or_else(|| panic!("the verdict says the server is blocked for good:\n{report}"));
    assert_eq!(line.matches("(nothing to read)").count(), 1, "{line}");
}

/// A threaded calc server that answers every expression `42` with no line end, and then
/// waits for the next one.
const ANSWERS_WITHOUT_LINE_END: &str = r#"import socket, sys, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", int(sys.argv[1])))
s.listen(200)
def serve(c):
    while c.recv(4096):
        c.sendall(b"42")
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"#;

#[test]
fn a_crowd_client_that_got_an_answer_without_a_line_end_says_what_it_got() {
    // Not "client 1 got no answer": it got `42`, and waits for the line end after it.
    let student = submission(&[("calc-threaded.py", ANSWERS_WITHOUT_LINE_END)]);
    let terminal = text(&grade(
        student.path(),
        &["calc/11-two-hundred-clients-threaded"],
    ));
    let seen = report_line(&terminal, "seen");
    assert!(
        seen.contains(r#"client 1 received "42" and no line end after it"#),
        "{seen}"
    );
    assert!(!seen.contains("no answer"), "{seen}");
}

/// A chat server that calls `listen()` and then raises. Its socket was never bound, so the
/// kernel listens on a port of its own choosing: the harness cannot see it listening on
/// its port whatever the timing (a server bound to its port that raised a moment after
/// `listen()` would be seen listening or not depending on when the harness looked, and
/// either way the report says what this test asserts, or the scenario goes on).
const RAISES_AFTER_LISTEN: &str = r#"import select, socket, sys
port = int(sys.argv[1])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.listen(5)
clients = {}
while True:
    readable, _, _ = select.select([s] + clients, [], [])
"#;

#[test]
fn a_server_that_ended_before_it_was_seen_listening_gives_its_exception() {
    let student = submission(&[("chat-server.py", RAISES_AFTER_LISTEN)]);
    let terminal = text(&grade(student.path(), &["chat/01-joins-and-leaves"]));
    let expected = report_line(&terminal, "expected")
        .trim_start()
        .trim_start_matches("expected ");
    let port = expected
        .trim()
        .strip_prefix("server to listen on port ")
        .unwrap_or_else(|| panic!("{expected}"));
    let seen = report_line(&terminal, "seen");
    assert!(
        seen.contains(&format!(
            "it ended (exit status 1) before the harness saw it listening on port {port}; its stderr ends with: TypeError: can only concatenate list"
        )) && seen.contains("(chat-server.py, line 8, in <module>)"),
        "{seen}"
    );
}

/// A message client that sends its stdin, then prints a status line without end.
const FLOODING_CLIENT: &str = r#"import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
while True:
    chunk = sys.stdin.buffer.read1(65536)
    if not chunk:
        break
    c.sendall(chunk)
c.shutdown(socket.SHUT_WR)
while True:
    sys.stdout.buffer.write(b"sent, waiting for the server\n" * 4096)
"#;

/// A message server with fixed-size buffers.
const STREAMING_SERVER: &str = r#"import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", int(sys.argv[1])))
s.listen(5)
while True:
    c, _ = s.accept()
    while True:
        chunk = c.recv(65536)
        if not chunk:
            break
        sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
    c.close()
"#;

#[test]
fn the_memory_check_stops_a_flooding_client_at_the_documented_output_cap() {
    // The guide says a program's output is capped at 64 MiB (harness/docs/guide/
    // real-world.md, "Limits"): the memory check's client has that cap, and the report says so.
    let student = submission(&[
        ("message-server.py", STREAMING_SERVER),
        ("message-client.py", FLOODING_CLIENT),
    ]);
    let terminal = text(&grade(student.path(), &["message/16-peak-memory-100mb"]));
    let cause = report_line(&terminal, "cause");
    assert!(
        cause.contains(
            "client-small was stopped by the harness: printed more than 64 MiB on stdout"
        ),
        "{cause}"
    );
}
