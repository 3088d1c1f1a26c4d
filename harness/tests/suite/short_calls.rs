//! Short calls inside the program (the `short-calls` library, loaded with `LD_PRELOAD`):
//! a client that sends 20 KB with one unchecked `send` loses data under injection, every
//! time, and passes without it; a client that loops passes both. Shown in Python, C (gcc)
//! and Rust (rustc), each compiled here in a temporary folder. A static binary, which no
//! dynamic loader starts, is cut by sandbox-init's tracer alone, and gets an `ERROR` saying
//! the check could not be applied where nothing can trace it.
//!
//! The scenario is the kit's `message/18-client-short-sends` (the harness plays the server
//! and keeps what arrives), played as it is and without its `short_calls` line.

use crate::common;

use std::path::Path;
use std::process::Command;

use harness::grading::{Mode, grade};
use harness::outcome::{Outcome, Status};
use harness::scenario::{Selection, Suite, load_suite};
use harness::target::Target;

const SCENARIO: &str = "scenarios/message/18-client-short-sends.toml";
const INJECTION: &str = "short_calls = { max = 16 }";

/// The kit's scenario, with `short_calls` as given (`None`: the line left out).
fn scenario_suite(short_calls: Option<&str>) -> (tempfile::TempDir, Suite) {
    let text = std::fs::read_to_string(common::kit_root().join(SCENARIO)).unwrap();
    assert!(text.contains(INJECTION), "{SCENARIO} injects short calls");
    let text = match short_calls {
        Some(setting) => text.replace(INJECTION, setting),
        None => text.replace(INJECTION, ""),
    };
    common::one_scenario_suite("message", "18-client-short-sends", &text)
}

/// A submission folder holding `files`, whose message client runs as `command`.
fn submission(files: &[(&str, &str)], command: &str) -> tempfile::TempDir {
    let folder = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(folder.path().join(name), text).unwrap();
    }
    std::fs::write(
        folder.path().join("submission.toml"),
        format!("[message]\nclient = \"{command} {{host}} {{port}}\"\n"),
    )
    .unwrap();
    folder
}

/// The one scenario of `suite`, played against the submission in `folder`.
fn play(suite: &Suite, folder: &Path, seed: u64) -> Outcome {
    let target = Target::from_folder(
        folder,
        &suite.catalogue,
        &harness::target::Confinement::none(),
    )
    .expect("a valid submission");
    let grading = grade(
        suite,
        &Selection::default(),
        &target,
        seed,
        &Mode::Real,
        &mut harness::events::Discard,
    )
    .expect("grading runs");
    assert_eq!(grading.outcomes.len(), 1);
    grading.outcomes.into_iter().next().unwrap()
}

fn explain(outcome: &Outcome) -> String {
    let failure = outcome
        .failure
        .as_ref()
        .map(|failure| format!("{} / seen {}", failure.expected, failure.seen))
        .unwrap_or_default();
    let stderr: Vec<String> = outcome
        .programs
        .iter()
        .map(|program| String::from_utf8_lossy(&program.stderr.0).into_owned())
        .collect();
    format!("{:?}: {failure}; stderr {stderr:?}", outcome.status)
}

/// The client in `folder` fails under injection with every seed of `seeds` (losing data:
/// the harness's server gets fewer bytes than stdin held), and passes without it.
fn fails_only_under_injection(folder: &Path, seeds: &[u64]) {
    let (_kit, injected) = scenario_suite(Some(INJECTION));
    for &seed in seeds {
        let outcome = play(&injected, folder, seed);
        assert_eq!(
            outcome.status,
            Status::Fail,
            "seed {seed}: {}",
            explain(&outcome)
        );
        let failure = outcome.failure.as_ref().unwrap();
        assert!(
            failure.expected.contains("what sink received"),
            "seed {seed}: it fails on the bytes the server got: {}",
            explain(&outcome)
        );
    }
    let (_kit, plain) = scenario_suite(None);
    let outcome = play(&plain, folder, seeds[0]);
    assert_eq!(outcome.status, Status::Pass, "{}", explain(&outcome));
}

/// The client in `folder` passes with and without injection.
fn passes_both(folder: &Path, seed: u64) {
    for short_calls in [Some(INJECTION), None] {
        let (_kit, suite) = scenario_suite(short_calls);
        let outcome = play(&suite, folder, seed);
        assert_eq!(
            outcome.status,
            Status::Pass,
            "{short_calls:?}: {}",
            explain(&outcome)
        );
    }
}

// --- Python -------------------------------------------------------------------------------

const PYTHON_SEND_ONCE: &str = r#"
import socket, sys
data = sys.stdin.buffer.read()
sock = socket.create_connection((sys.argv[1], int(sys.argv[2])))
sock.send(data)          # one call: what it did not take is lost
sock.close()
"#;

const PYTHON_SENDALL: &str = r#"
import socket, sys
data = sys.stdin.buffer.read()
sock = socket.create_connection((sys.argv[1], int(sys.argv[2])))
sock.sendall(data)
sock.close()
"#;

const PYTHON_SEND_LOOP: &str = r#"
import os, socket, sys
print("preload:", os.environ.get("LD_PRELOAD"), file=sys.stderr)
print("setting:", os.environ.get("SOCKET_LAB_SHORT_CALLS"), file=sys.stderr)
data = sys.stdin.buffer.read()
sock = socket.create_connection((sys.argv[1], int(sys.argv[2])))
sent = 0
while sent < len(data):
    sent += sock.send(data[sent:])
sock.shutdown(socket.SHUT_WR)
while sock.recv(4096):
    pass
sock.close()
"#;

#[test]
fn python_send_once_fails_every_time_under_injection_and_passes_without() {
    let folder = submission(&[("client.py", PYTHON_SEND_ONCE)], "python3 client.py");
    fails_only_under_injection(folder.path(), &[1, 2, 3, 4, 5]);
}

#[test]
fn python_sendall_and_a_send_loop_pass_both() {
    let folder = submission(&[("client.py", PYTHON_SENDALL)], "python3 client.py");
    passes_both(folder.path(), 1);
    let folder = submission(&[("client.py", PYTHON_SEND_LOOP)], "python3 client.py");
    passes_both(folder.path(), 2);
}

#[test]
fn the_child_gets_the_library_and_its_setting_only_when_asked() {
    let folder = submission(&[("client.py", PYTHON_SEND_LOOP)], "python3 client.py");
    let stderr_of =
        |outcome: &Outcome| String::from_utf8_lossy(&outcome.programs[0].stderr.0).into_owned();
    let (_kit, injected) = scenario_suite(Some("short_calls = { max = 7, eintr = 0.01 }"));
    let outcome = play(&injected, folder.path(), 3);
    assert_eq!(outcome.status, Status::Pass, "{}", explain(&outcome));
    let stderr = stderr_of(&outcome);
    assert!(stderr.contains("libshort_calls.so\n"), "{stderr}");
    // `traced=1` between them where sandbox-init traces the program too.
    assert!(
        stderr.contains(",max=7,eintr=0.01,") && stderr.contains(",mark="),
        "{stderr}"
    );
    assert!(
        outcome.log.iter().any(|line| line
            .text
            .contains("its own socket calls cut to 1-7 bytes each")),
        "the step log says so"
    );
    let (_kit, plain) = scenario_suite(None);
    let outcome = play(&plain, folder.path(), 3);
    let stderr = stderr_of(&outcome);
    assert!(!stderr.contains("libshort_calls"), "{stderr}");
    assert!(stderr.contains("setting: None\n"), "{stderr}");
}

#[test]
fn the_same_seed_cuts_the_same_way() {
    let folder = submission(&[("client.py", PYTHON_SEND_ONCE)], "python3 client.py");
    let (_kit, injected) = scenario_suite(Some(INJECTION));
    let seen = |seed| play(&injected, folder.path(), seed).failure.unwrap().seen;
    assert_eq!(seen(7), seen(7));
}

// --- System calls by number --------------------------------------------------------------

/// An unchecked send made by number through the C library's `syscall()` (Python's `ctypes`),
/// past the library's `send`: the library stands in front of `syscall` too.
const PYTHON_RAW_SENDTO_ONCE: &str = r#"
import ctypes, socket, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
SYS_sendto = 44
data = sys.stdin.buffer.read()
sock = socket.create_connection((sys.argv[1], int(sys.argv[2])))
buffer = ctypes.create_string_buffer(data, len(data))
libc.syscall(ctypes.c_long(SYS_sendto), ctypes.c_long(sock.fileno()), buffer,
             ctypes.c_long(len(data)), ctypes.c_long(0), ctypes.c_long(0), ctypes.c_long(0))
sock.close()
"#;

/// Runs itself again by the `execve` system call made by number, without `LD_PRELOAD` in
/// the environment it hands on, then sends once, unchecked.
const PYTHON_RAW_EXECVE_THEN_SEND_ONCE: &str = r#"
import ctypes, os, socket, sys
if os.environ.get("LD_PRELOAD") and not os.environ.get("RAN_AGAIN"):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    def strings(words):
        table = (ctypes.c_char_p * (len(words) + 1))()
        table[:-1] = [word.encode() for word in words]
        return table
    environment = [f"{k}={v}" for k, v in os.environ.items() if k != "LD_PRELOAD"]
    environment.append("RAN_AGAIN=1")
    argv = [sys.executable] + sys.argv
    libc.syscall(ctypes.c_long(59), sys.executable.encode(), strings(argv), strings(environment))
    print("execve failed", ctypes.get_errno(), file=sys.stderr)
    sys.exit(3)
print("preload:", os.environ.get("LD_PRELOAD"), file=sys.stderr)
data = sys.stdin.buffer.read()
sock = socket.create_connection((sys.argv[1], int(sys.argv[2])))
sock.send(data)
sock.close()
"#;

#[test]
fn an_unchecked_send_made_by_number_is_cut_as_any_send() {
    let folder = submission(
        &[("client.py", PYTHON_RAW_SENDTO_ONCE)],
        "python3 client.py",
    );
    fails_only_under_injection(folder.path(), &[1, 2]);
}

#[test]
fn a_program_run_again_by_a_raw_execve_keeps_the_library() {
    let folder = submission(
        &[("client.py", PYTHON_RAW_EXECVE_THEN_SEND_ONCE)],
        "python3 client.py",
    );
    fails_only_under_injection(folder.path(), &[1, 2]);
    let (_kit, injected) = scenario_suite(Some(INJECTION));
    let outcome = play(&injected, folder.path(), 1);
    let stderr = String::from_utf8_lossy(&outcome.programs[0].stderr.0).into_owned();
    assert!(
        stderr.contains("libshort_calls.so\n"),
        "run again with it: {stderr}"
    );
}

// --- C ------------------------------------------------------------------------------------

/// A C client: reads stdin whole, connects, sends it (once, or in a loop, with or without
/// retrying EINTR), half-closes and waits for the server to close.
const C_CLIENT: &str = r#"
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    size_t len = 0, cap = 1 << 16;
    char *data = malloc(cap);
    ssize_t got;
    while ((got = read(0, data + len, cap - len)) > 0) {
        len += (size_t)got;
        if (len == cap) data = realloc(data, cap *= 2);
    }
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    if (argc != 3 || getaddrinfo(argv[1], argv[2], &hints, &res) != 0) return 2;
    int fd = socket(res->ai_family, SOCK_STREAM, 0);
    if (connect(fd, res->ai_addr, res->ai_addrlen) < 0) { perror("connect"); return 1; }
#if defined(SEND_ONCE)
    send(fd, data, len, 0); /* one call: what it did not take is lost */
#else
    size_t sent = 0;
    while (sent < len) {
        ssize_t n = send(fd, data + sent, len - sent, 0);
#if defined(RETRY_EINTR)
        if (n < 0 && errno == EINTR) continue;
#endif
        if (n < 0) { perror("send"); return 1; }
        sent += (size_t)n;
    }
#endif
    shutdown(fd, SHUT_WR);
    char buf[4096];
    while (recv(fd, buf, sizeof buf, 0) > 0) {}
    close(fd);
    return 0;
}
"#;

/// Compiles `C_CLIENT` with `flags` into `folder/name`; false if gcc refused (`-static`
/// without a static C library).
fn gcc(folder: &Path, name: &str, flags: &[&str]) -> bool {
    let source = folder.join("client.c");
    std::fs::write(&source, C_CLIENT).unwrap();
    // Quiet: `-static` warns about getaddrinfo, and may fail where there is no libc.a.
    let output = Command::new("gcc")
        .args(flags)
        .arg("-o")
        .arg(folder.join(name))
        .arg(&source)
        .output()
        .expect("gcc is installed (bash .ci/test installs it)");
    output.status.success()
}

#[test]
fn c_send_once_fails_under_injection_and_a_loop_passes_both() {
    let folder = submission(&[], "./send-once");
    assert!(gcc(folder.path(), "send-once", &["-O2", "-DSEND_ONCE"]));
    fails_only_under_injection(folder.path(), &[1, 2]);

    // Built with _FORTIFY_SOURCE, its recv into a fixed buffer goes through __recv_chk.
    let folder = submission(&[], "./send-loop");
    assert!(gcc(
        folder.path(),
        "send-loop",
        &["-O2", "-D_FORTIFY_SOURCE=2", "-DRETRY_EINTR"]
    ));
    passes_both(folder.path(), 1);
}

#[test]
fn eintr_fails_a_c_loop_that_gives_up_on_it_and_not_one_that_retries() {
    let eintr = "short_calls = { max = 16, eintr = 0.2 }";
    let (_kit, suite) = scenario_suite(Some(eintr));

    let folder = submission(&[], "./no-retry");
    assert!(gcc(folder.path(), "no-retry", &["-O2"]));
    let outcome = play(&suite, folder.path(), 1);
    assert_eq!(outcome.status, Status::Fail, "{}", explain(&outcome));
    let stderr = String::from_utf8_lossy(&outcome.programs[0].stderr.0).into_owned();
    assert!(stderr.contains("send: Interrupted system call"), "{stderr}");

    let folder = submission(&[], "./retry");
    assert!(gcc(folder.path(), "retry", &["-O2", "-DRETRY_EINTR"]));
    let outcome = play(&suite, folder.path(), 1);
    assert_eq!(outcome.status, Status::Pass, "{}", explain(&outcome));

    // Statically linked, out of the library's reach: the tracer interrupts its calls.
    let folder = submission(&[], "./no-retry");
    assert!(gcc(folder.path(), "no-retry", &["-O2", "-static"]));
    let outcome = play(&suite, folder.path(), 1);
    assert_eq!(outcome.status, Status::Fail, "{}", explain(&outcome));
    let stderr = String::from_utf8_lossy(&outcome.programs[0].stderr.0).into_owned();
    assert!(stderr.contains("send: Interrupted system call"), "{stderr}");
    let folder = submission(&[], "./retry");
    assert!(gcc(
        folder.path(),
        "retry",
        &["-O2", "-static", "-DRETRY_EINTR"]
    ));
    let outcome = play(&suite, folder.path(), 1);
    assert_eq!(outcome.status, Status::Pass, "{}", explain(&outcome));

    // Python retries EINTR by itself (PEP 475).
    let folder = submission(&[("client.py", PYTHON_SENDALL)], "python3 client.py");
    let outcome = play(&suite, folder.path(), 1);
    assert_eq!(outcome.status, Status::Pass, "{}", explain(&outcome));
}

// --- Rust ---------------------------------------------------------------------------------

const RUST_CLIENT: &str = r#"
use std::io::{Read, Write};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut data = Vec::new();
    std::io::stdin().read_to_end(&mut data).unwrap();
    let port: u16 = args[2].parse().unwrap();
    let mut stream = std::net::TcpStream::connect((args[1].as_str(), port)).unwrap();
    if cfg!(send_once) {
        // One call: `write` returns how much it took, and what it did not take is lost.
        let _ = stream.write(&data).unwrap();
    } else {
        stream.write_all(&data).unwrap();
    }
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
}
"#;

/// Compiles `RUST_CLIENT` with `flags` into `folder/name`.
fn rustc(folder: &Path, name: &str, flags: &[&str]) -> bool {
    let source = folder.join("client.rs");
    std::fs::write(&source, RUST_CLIENT).unwrap();
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let status = Command::new(rustc)
        .args(["--edition", "2021", "--check-cfg", "cfg(send_once)"])
        .args(flags)
        .arg("-o")
        .arg(folder.join(name))
        .arg(&source)
        .status()
        .expect("rustc runs");
    status.success()
}

#[test]
fn rust_write_once_fails_under_injection_and_write_all_passes_both() {
    let folder = submission(&[], "./write-once");
    assert!(rustc(folder.path(), "write-once", &["--cfg", "send_once"]));
    fails_only_under_injection(folder.path(), &[1, 2]);

    let folder = submission(&[], "./write-all");
    assert!(rustc(folder.path(), "write-all", &[]));
    passes_both(folder.path(), 1);
}

// --- Programs the library cannot enter ----------------------------------------------------

/// Builds `C_CLIENT` statically into `folder/name` (gcc -static needs the static C
/// library, which Debian's libc6-dev has; else Rust's).
fn static_client(folder: &Path, name: &str, send_once: bool) {
    let flags: &[&str] = if send_once {
        &["-O2", "-static", "-DSEND_ONCE"]
    } else {
        &["-O2", "-static"]
    };
    if !gcc(folder, name, flags) {
        let cfg: &[&str] = if send_once {
            &["-C", "target-feature=+crt-static", "--cfg", "send_once"]
        } else {
            &["-C", "target-feature=+crt-static"]
        };
        assert!(rustc(folder, name, cfg));
    }
}

#[test]
fn a_static_binary_is_cut_by_the_tracer_alone() {
    // The library cannot enter it (no dynamic loader reads LD_PRELOAD): sandbox-init's
    // tracer cuts its calls, so the unchecked send fails and the loop passes.
    let folder = submission(&[], "./static-client");
    static_client(folder.path(), "static-client", true);
    fails_only_under_injection(folder.path(), &[1, 2]);
    let folder = submission(&[], "./static-client");
    static_client(folder.path(), "static-client", false);
    passes_both(folder.path(), 1);
}

/// The JSON report (its text, and parsed) of the submission in `folder` graded with seed
/// 1 on the kit's scenario, by a harness of its own told that this machine refuses tracing
/// (as a Yama `ptrace_scope` of 2 would): the probe of the layers is the harness
/// process's.
fn graded_without_tracer(folder: &Path) -> (String, serde_json::Value) {
    let (kit, _) = scenario_suite(Some(INJECTION));
    let json = kit.path().join("report.json");
    let output = common::harness()
        .env("HARNESS_SANDBOX_TRACER", "off")
        .arg("--target")
        .arg(folder)
        .arg("--scenarios")
        .arg(kit.path().join("scenarios"))
        .args(["--seed", "1", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    let text = std::fs::read_to_string(&json)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&output.stderr)));
    let report = serde_json::from_str(&text).unwrap();
    (text, report)
}

#[test]
fn a_static_binary_gets_an_error_where_nothing_can_trace_it() {
    let folder = submission(&[], "./static-client");
    static_client(folder.path(), "static-client", false);
    let (_, report) = graded_without_tracer(folder.path());
    let not_here = report["sandbox"]["not_here"].to_string();
    assert!(not_here.contains("short-call-tracer"), "{not_here}");
    let scenario = &report["submissions"][0]["scenarios"][0];
    assert_eq!(
        scenario["status"], "error",
        "never a pass, nor a quiet skip: {scenario}"
    );
    let seen = scenario["failure"]["seen"].as_str().unwrap_or_default();
    assert!(
        seen.contains("the check could not be applied")
            && seen.contains("static-client` is statically linked"),
        "{scenario}"
    );

    // A script whose interpreter is that static binary is found out too.
    let script = folder.path().join("wrapper");
    std::fs::write(
        &script,
        format!("#!{}\n", folder.path().join("static-client").display()),
    )
    .unwrap();
    let reason = harness::faults::short_calls::can_enter(script.to_str().unwrap(), None)
        .expect_err("a script run by a static binary");
    assert!(reason.contains(", which is statically linked"), "{reason}");
}

/// A dynamically linked C program that hands its work to another by `execv`: the program
/// `static-client` beside it (here a static build of the looping client).
const C_RUNS_ANOTHER: &str = r#"
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
    (void)argc;
    static char other[4096];
    const char *slash = strrchr(argv[0], '/');
    size_t folder = slash ? (size_t)(slash - argv[0]) + 1 : 0;
    snprintf(other, sizeof other, "%.*sstatic-client", (int)folder, argv[0]);
    argv[0] = other;
    execv(other, argv);
    perror("execv static-client");
    return 1;
}
"#;

/// A submission whose client is `runs-another`, which runs `static-client` beside it
/// (built with `SEND_ONCE` when `send_once`).
fn runs_a_static_client(send_once: bool) -> tempfile::TempDir {
    let folder = submission(&[], "./runs-another");
    static_client(folder.path(), "static-client", send_once);
    let source = folder.path().join("runs-another.c");
    std::fs::write(&source, C_RUNS_ANOTHER).unwrap();
    let built = Command::new("gcc")
        .arg("-o")
        .arg(folder.path().join("runs-another"))
        .arg(&source)
        .status()
        .expect("gcc is installed (bash .ci/test installs it)");
    assert!(built.success());
    folder
}

#[test]
fn a_static_program_run_from_inside_is_cut_by_the_tracer() {
    // The library lets it run (the setting says sandbox-init traces the program), and
    // the tracer cuts its calls: the unchecked send fails, the loop passes.
    let folder = runs_a_static_client(true);
    fails_only_under_injection(folder.path(), &[1]);
    let folder = runs_a_static_client(false);
    passes_both(folder.path(), 1);
}

#[test]
fn a_static_program_is_not_run_from_inside_where_nothing_traces_it() {
    let folder = runs_a_static_client(false);
    let (text, report) = graded_without_tracer(folder.path());
    let scenario = &report["submissions"][0]["scenarios"][0];
    assert_eq!(scenario["status"], "fail", "{scenario}");
    assert!(
        text.contains("short-calls: refused to run ")
            && text.contains("/static-client: it is statically linked")
            && text.contains("execv static-client: Permission denied"),
        "{scenario}"
    );
}

// --- The simulated world, and scenario files ----------------------------------------------

#[test]
fn the_simulated_world_plays_it_with_its_adapter_and_skips_it_without() {
    let suite = common::suite();
    let selection = Selection::new(Vec::new(), &["message/18-*".into()]).unwrap();
    let target = Target::simulated(&suite.catalogue);
    let run = |options| {
        grade(
            &suite,
            &selection,
            &target,
            1,
            &Mode::Simulated(options),
            &mut harness::events::Discard,
        )
        .unwrap()
        .outcomes
    };
    let outcomes = run(harness::world::sim::SimOptions::default());
    assert_eq!(
        outcomes[0].status,
        Status::Pass,
        "{}",
        explain(&outcomes[0])
    );
    let outcomes = run(harness::world::sim::SimOptions {
        short_io: None,
        ..Default::default()
    });
    assert_eq!(outcomes[0].status, Status::Skipped);
    assert!(
        outcomes[0]
            .skip_reason
            .as_deref()
            .is_some_and(|reason| reason.contains("--short-io off")),
        "{:?}",
        outcomes[0].skip_reason
    );
}

/// The loader's answer to a scenario whose only step is `step`.
fn load_error(step: &str) -> String {
    let kit = tempfile::tempdir().unwrap();
    let scenarios = kit.path().join("scenarios");
    std::fs::create_dir_all(scenarios.join("message")).unwrap();
    std::fs::copy(
        common::kit_root().join("scenarios/tasks.toml"),
        scenarios.join("tasks.toml"),
    )
    .unwrap();
    let text = format!(
        "task = \"message\"\nclauses = [\"message/4\"]\ncategory = \"robustness\"\npoints = 1\nrequirement = \"r\"\n\n[[step]]\n{step}\n"
    );
    std::fs::write(scenarios.join("message/bad.toml"), text).unwrap();
    let Err(error) = load_suite(&scenarios) else {
        panic!("the scenario was accepted: {step}");
    };
    error.to_string().replace(
        &scenarios.canonicalize().unwrap().display().to_string(),
        "scenarios",
    )
}

#[test]
fn bad_short_calls_are_rejected_with_file_and_line() {
    let cases = [
        (
            "start = \"client\"\nshort_calls = { max = 0 }",
            "scenarios/message/bad.toml:7: step 1: `short_calls.max` is the most bytes one call may move: 1 to 1048576",
        ),
        (
            "start = \"client\"\nshort_calls = { max = 16, eintr = 0.9 }",
            "scenarios/message/bad.toml:7: step 1: `short_calls.eintr` is the probability of EINTR per blocking call: 0 to 0.5",
        ),
        (
            "start = \"client\"\nshort_calls = { size = 16 }",
            "scenarios/message/bad.toml:9: unknown field `size`, expected `max` or `eintr`",
        ),
        (
            "start = \"server\"\n\n[[step]]\nconnect = \"server\"\nas = \"c1\"\nshort_calls = { max = 4 }",
            "scenarios/message/bad.toml:10: step 2: `short_calls` does not go with `connect`",
        ),
    ];
    for (step, expected) in cases {
        let error = load_error(step);
        assert!(error.starts_with(expected), "{step}:\n{error}");
    }
}
