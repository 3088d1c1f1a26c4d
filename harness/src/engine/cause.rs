//! The cause a failure's headline names, beside what the failing step expected and saw.
//!
//! A step says what it saw ("10000 of 10021 bytes"); why is often elsewhere: the program
//! crashed, and the last line of its stderr names the exception; the harness stopped it for
//! printing without end; a response carried a file from outside the web root. Every report
//! shows this cause first (`Failure::cause`), so a student reads
//!
//! ```text
//! server exited with status 1 after 0.51s; its stderr ends with: ConnectionResetError:
//! [Errno 104] Connection reset by peer (message-server.py, line 33, in main)
//! ```
//!
//! instead of finding it at the end of a traceback cut after its first lines.

use crate::judge::bytes::find_in_capture;
use crate::outcome::ProgramReport;
use crate::world::capture::Capture;
use crate::world::real::process::{ExitKind, HarnessStop, signal_name};

/// How much of the end of stderr is read for its last words: a traceback's frames may be
/// long, its exception line is the last.
pub(super) const STDERR_END: usize = 8 * 1024;
/// The longest line quoted from stderr.
const LINE_LIMIT: usize = 200;
/// Lines quoted from the end of stderr that is not a traceback.
const LAST_LINES: usize = 3;

/// Why `program` ended, when that may be why the scenario failed: it crashed (an exit
/// status that is not 0, a signal the harness did not send), or the harness stopped it
/// for its output. `stderr_end` is the end of its stderr; `exit_accepted`, whether a step
/// expected that exit; `memory_cap`, the memory its processes shared (the run's
/// `--memory-limit`).
pub(super) fn of_program(
    program: &ProgramReport,
    stderr_end: &[u8],
    exit_accepted: bool,
    memory_cap: u64,
) -> Option<String> {
    let name = &program.name;
    match &program.stopped_by_harness {
        Some(stop @ HarnessStop::OutputCap { .. }) => return Some(format!("{name} was {stop}")),
        Some(stop @ HarnessStop::MemoryLimit { .. }) => {
            let peak = match program.exit.map(|exit| exit.max_rss_kib) {
                Some(kib) if kib > 0 => {
                    format!(
                        " (the peak of its largest process: {:.1} MiB)",
                        kib as f64 / 1024.0
                    )
                }
                _ => String::new(),
            };
            return Some(format!(
                "{name} {stop}: what went over it was killed, the program and the children it forked sharing one budget{peak}"
            ));
        }
        Some(stop @ HarnessStop::DiskLimit { .. }) => {
            return Some(format!(
                "{name} {stop}: it was ended, with everything it forked (what it writes to its folders, HOME, /tmp and its working folder is measured every 50 ms where no sized file system holds them, and no full disk is there to refuse a write first)"
            ));
        }
        _ => {}
    }
    if program.exit.is_none() && program.stopped_by_harness.is_none() {
        return near_the_memory_cap(program, memory_cap);
    }
    let exit = program.exit?;
    if program.stopped_by_harness.is_some() || exit_accepted {
        return None;
    }
    let after = format!("after {}s", crate::encoding::decimal_seconds(exit.after, 2));
    let ending = match exit.kind {
        ExitKind::Code(0) => return None,
        ExitKind::Code(code) => format!("{name} exited with status {code} {after}"),
        ExitKind::Signal(libc::SIGKILL) => {
            // Nobody else sends SIGKILL to a student's program as a rule; the kernel does,
            // when memory runs out.
            let peak = match exit.max_rss_kib {
                0 => String::new(),
                kib => format!(" (its peak memory: {:.1} MiB)", kib as f64 / 1024.0),
            };
            format!(
                "{name} was killed by signal 9 (SIGKILL) {after}, which the harness did not send: most likely the kernel's out-of-memory killer{peak}"
            )
        }
        ExitKind::Signal(signal) => {
            let meaning = match signal {
                libc::SIGSEGV | libc::SIGBUS => ": an invalid memory access",
                libc::SIGFPE => ": an arithmetic error, such as an integer division by zero",
                libc::SIGABRT => ": abort(), or an assertion that failed",
                libc::SIGPIPE => {
                    ": it wrote to a connection (or pipe) whose other end was closed, and did not ignore SIGPIPE"
                }
                _ => "",
            };
            format!(
                "{name} was killed by signal {signal} ({}) {after}{meaning}",
                signal_name(signal)
            )
        }
    };
    Some(match last_words(stderr_end) {
        Some(words) => format!("{ending}; its stderr ends with: {words}"),
        None => format!("{ending}; nothing on stderr"),
    })
}

/// The cause of an error a program did not report but crashed of (SPEC, conventions: an
/// error is a message, never a crash), in its language's words, with the last words of its
/// stderr (`stderr_end`) as for any crash: `client crashed: Python raised
/// ConnectionRefusedError (uncaught), not an error message; its stderr ends with: ...`.
pub(super) fn of_crash(name: &str, crash: &run_record::crash::Crash, stderr_end: &[u8]) -> String {
    let said = match last_words(stderr_end) {
        Some(words) => format!("its stderr ends with: {words}"),
        None => "nothing on stderr".to_owned(),
    };
    format!(
        "{name} crashed: {}, not an error message; {said}",
        crash.what
    )
}

/// The part of the memory cap from which a program still running at the end is told of
/// its memory: a quarter (no lab program needs a tenth of it; one that took a quarter is
/// on its way to the cap, slowed down more the nearer it comes, and a loaded machine slows
/// it more: at eight scenarios at once beside a build, a hoarding child had taken less than
/// half when its step gave up, 13 times in 200).
const MEMORY_TOLD_FROM: (u64, u64) = (1, 4);

/// Why a program the harness killed at the end may have failed: its processes had come
/// near the memory cap. Near it the kernel takes back what it can (the pages of the
/// interpreter itself) and everything slows down before it stops a process; alone, the
/// cap's stop comes in time to be reported, but under load the failing step may give up
/// first. Either way, the memory is what the student must hear of.
fn near_the_memory_cap(program: &ProgramReport, cap: u64) -> Option<String> {
    let peak = program.memory_peak?;
    let (part, whole) = MEMORY_TOLD_FROM;
    (cap > 0 && peak >= cap / whole * part).then(|| {
        format!(
            "{} was still running at the end (killed by the harness), its processes having held {:.0} MiB at once, of their {} memory cap: memory taken for each client or message grows until the kernel stops the program, and everything slows down on the way",
            program.name,
            peak as f64 / f64::from(1 << 20),
            sandbox::size_text(cap)
        )
    })
}

/// What the end of stderr says: a Python traceback's exception line with where it was
/// raised, a Java exception with its first frame, or else the last lines.
pub(super) fn last_words(stderr_end: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(stderr_end);
    let lines: Vec<&str> = text.lines().collect();
    python_exception(&lines)
        .or_else(|| java_exception(&lines))
        .or_else(|| {
            let last: Vec<String> = lines
                .iter()
                .rev()
                .filter(|line| !line.trim().is_empty())
                .take(LAST_LINES)
                .map(|line| format!("\"{}\"", printable(line.trim())))
                .collect();
            (!last.is_empty()).then(|| last.into_iter().rev().collect::<Vec<_>>().join(" / "))
        })
}

/// `ValueError: bad port (server.py, line 12, in main)`: the traceback's last exception,
/// with the frame that raised it (read by `run_record::crash`, which judges crashes too).
fn python_exception(lines: &[&str]) -> Option<String> {
    let exception = run_record::crash::python_exception(lines)?;
    Some(format!(
        "{} ({}, {})",
        printable(&exception.line),
        exception.file,
        printable(&exception.position)
    ))
}

/// `java.lang.NumberFormatException: For input string: "x" (at Server.main(Server.java:9))`:
/// the innermost cause, with the frame that raised it (read by `run_record::crash`).
fn java_exception(lines: &[&str]) -> Option<String> {
    let exception = run_record::crash::java_exception(lines)?;
    Some(match exception.frame {
        Some(frame) => format!(
            "{} ({})",
            printable(&exception.innermost),
            printable(&frame)
        ),
        None => printable(&exception.innermost),
    })
}

/// A line as the report shows it: control characters escaped, cut to [`LINE_LIMIT`].
fn printable(line: &str) -> String {
    let mut shown: String = line
        .chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() && c != '\t' {
                c.escape_debug().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect();
    if let Some((cut, _)) = shown.char_indices().nth(LINE_LIMIT) {
        shown.truncate(cut);
        shown.push('…');
    }
    shown
}

/// Files a web server must never serve, each known by bytes its text holds.
fn secrets() -> [(&'static [u8], &'static str); 2] {
    [
        (
            // The first words of the file next to the root: the whole text need not come.
            &crate::site::SECRET.as_bytes()[..32],
            "the text of secret.txt (the file next to the site's root)",
        ),
        (b"root:x:0:0:", "the text of /etc/passwd"),
    ]
}

/// What the responses the harness's clients received carried that they never should:
/// `the response to c1 carried the text of secret.txt (...), from byte 97 on`.
pub(super) fn leaks<'c>(received: impl IntoIterator<Item = (&'c str, &'c Capture)>) -> Vec<String> {
    let mut found = Vec::new();
    for (peer, capture) in received {
        for (mark, what) in secrets() {
            if let Some(at) = find_in_capture(capture, mark) {
                found.push(format!(
                    "the response to {peer} carried {what}, from byte {at} on"
                ));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// The memory cap the programs of these tests had (the default `--memory-limit`).
    const CAP: u64 = sandbox::DEFAULT_MEMORY_LIMIT;
    use crate::world::real::process::ExitInfo;

    fn crashed(kind: ExitKind) -> ProgramReport {
        ProgramReport {
            name: "server".into(),
            command_line: "python3 server.py 2000".into(),
            exit: Some(ExitInfo {
                kind,
                max_rss_kib: 2048,
                after: Duration::from_millis(510),
            }),
            ..ProgramReport::default()
        }
    }

    const TRACEBACK: &str = "debug: connected\n\
        Traceback (most recent call last):\n  \
        File \"/sub/message-server.py\", line 42, in <module>\n    main()\n  \
        File \"/sub/message-server.py\", line 33, in main\n    \
        data = conn.recv(BUF_SIZE)\n           ^^^^^^^^^^^^^^^^^^^\n\
        ConnectionResetError: [Errno 104] Connection reset by peer\n";

    #[test]
    fn a_python_traceback_ends_in_its_exception_and_where_it_was_raised() {
        assert_eq!(
            last_words(TRACEBACK.as_bytes()).unwrap(),
            "ConnectionResetError: [Errno 104] Connection reset by peer (message-server.py, line 33, in main)"
        );
        let syntax = "  File \"/sub/s.py\", line 3\n    print(\"a\"\n         ^\nSyntaxError: '(' was never closed\n";
        assert_eq!(
            last_words(syntax.as_bytes()).unwrap(),
            "SyntaxError: '(' was never closed (s.py, line 3)"
        );
    }

    #[test]
    fn a_java_exception_names_its_innermost_cause_and_frame() {
        let trace = "Exception in thread \"main\" java.lang.RuntimeException: wrapped\n\
            \tat Server.run(Server.java:20)\n\
            Caused by: java.lang.NumberFormatException: For input string: \"x\"\n\
            \tat java.base/java.lang.Integer.parseInt(Integer.java:652)\n\
            \t... 3 more\n";
        assert_eq!(
            last_words(trace.as_bytes()).unwrap(),
            "java.lang.NumberFormatException: For input string: \"x\" (at java.base/java.lang.Integer.parseInt(Integer.java:652))"
        );
    }

    #[test]
    fn other_stderr_gives_its_last_lines() {
        let stderr = b"starting\n\nbind: Address already in use\nexiting\x1b[0m\n\n";
        assert_eq!(
            last_words(stderr).unwrap(),
            "\"starting\" / \"bind: Address already in use\" / \"exiting\\u{1b}[0m\""
        );
        assert_eq!(last_words(b"\n \n"), None);
    }

    #[test]
    fn a_crash_names_its_exit_and_its_last_words() {
        let cause = of_program(
            &crashed(ExitKind::Code(1)),
            TRACEBACK.as_bytes(),
            false,
            CAP,
        );
        assert_eq!(
            cause.unwrap(),
            "server exited with status 1 after 0.51s; its stderr ends with: ConnectionResetError: [Errno 104] Connection reset by peer (message-server.py, line 33, in main)"
        );
        let segfault = of_program(&crashed(ExitKind::Signal(libc::SIGSEGV)), b"", false, CAP);
        assert_eq!(
            segfault.unwrap(),
            "server was killed by signal 11 (SIGSEGV) after 0.51s: an invalid memory access; nothing on stderr"
        );
        let killed =
            of_program(&crashed(ExitKind::Signal(libc::SIGKILL)), b"", false, CAP).unwrap();
        assert!(
            killed.contains("out-of-memory killer (its peak memory: 2.0 MiB)"),
            "{killed}"
        );
    }

    #[test]
    fn an_end_the_scenario_asked_for_is_no_cause() {
        assert_eq!(
            of_program(&crashed(ExitKind::Code(0)), b"", false, CAP),
            None
        );
        assert_eq!(
            of_program(&crashed(ExitKind::Code(1)), b"", true, CAP),
            None
        );
        let mut stopped = crashed(ExitKind::Signal(libc::SIGTERM));
        stopped.stopped_by_harness = Some(HarnessStop::Stopped);
        assert_eq!(of_program(&stopped, b"", false, CAP), None);
        let mut running = crashed(ExitKind::Code(1));
        running.exit = None;
        assert_eq!(of_program(&running, b"", false, CAP), None);
    }

    #[test]
    fn a_program_killed_at_the_end_with_a_quarter_of_its_memory_cap_hears_of_it() {
        let cap = CAP;
        let mut running = crashed(ExitKind::Code(1));
        running.exit = None;
        running.memory_peak = Some(cap / 8);
        assert_eq!(
            of_program(&running, b"", false, CAP),
            None,
            "an eighth of the cap is no cause"
        );
        running.memory_peak = Some(cap - (8 << 20));
        let cause = of_program(&running, b"", false, CAP).unwrap();
        assert!(
            cause.starts_with(&format!(
                "server was still running at the end (killed by the harness), its processes having held {} MiB at once, of their {} memory cap",
                (cap >> 20) - 8,
                sandbox::size_text(cap)
            )),
            "{cause}"
        );
    }

    #[test]
    fn a_crash_where_an_error_was_to_be_reported_is_named_in_its_languages_words() {
        let cause = |exit, stderr: &str| {
            let crash = run_record::crash::recognise(exit, stderr.as_bytes()).unwrap();
            of_crash("client", &crash, stderr.as_bytes())
        };
        assert_eq!(
            cause(ExitKind::Code(1), TRACEBACK),
            "client crashed: Python raised ConnectionResetError (uncaught), not an error message; its stderr ends with: ConnectionResetError: [Errno 104] Connection reset by peer (message-server.py, line 33, in main)"
        );
        assert_eq!(
            cause(
                ExitKind::Code(1),
                "Exception in thread \"main\" java.net.ConnectException: Connection refused\n\
                 \tat SmtpClient.main(SmtpClient.java:57)\n"
            ),
            "client crashed: Java threw java.net.ConnectException (uncaught), not an error message; its stderr ends with: java.net.ConnectException: Connection refused (at SmtpClient.main(SmtpClient.java:57))"
        );
        assert_eq!(
            cause(ExitKind::Signal(libc::SIGSEGV), ""),
            "client crashed: killed by signal SIGSEGV (an invalid memory access), not an error message; nothing on stderr"
        );
        assert_eq!(
            cause(
                ExitKind::Signal(libc::SIGABRT),
                "message-client: connect: Connection refused\ndouble free or corruption (top)\n"
            ),
            "client crashed: killed by signal SIGABRT (abort(), or an assertion that failed), not an error message; its stderr ends with: \"message-client: connect: Connection refused\" / \"double free or corruption (top)\""
        );
        assert_eq!(
            cause(
                ExitKind::Code(2),
                "panic: dial tcp 127.0.0.1:9: connect: connection refused\n\n\
                 goroutine 1 [running]:\nmain.main()\n\t/sub/client.go:14 +0x1a5\n"
            ),
            "client crashed: Go panic: dial tcp 127.0.0.1:9: connect: connection refused, not an error message; its stderr ends with: \"goroutine 1 [running]:\" / \"main.main()\" / \"/sub/client.go:14 +0x1a5\""
        );
    }

    #[test]
    fn a_flood_says_the_harness_stopped_it() {
        let mut flood = crashed(ExitKind::Signal(libc::SIGKILL));
        flood.stopped_by_harness = Some(HarnessStop::OutputCap {
            stream: "stdout".into(),
            cap: 64 << 20,
        });
        assert_eq!(
            of_program(&flood, b"", false, CAP).unwrap(),
            "server was stopped by the harness: printed more than 64 MiB on stdout"
        );
    }

    #[test]
    fn a_response_carrying_a_secret_says_which() {
        let response = Capture::memory(1 << 20);
        response
            .append(format!("HTTP/1.1 200 OK\r\n\r\n{}", crate::site::SECRET).as_bytes())
            .unwrap();
        let passwd = Capture::memory(1 << 20);
        passwd
            .append(b"HTTP/1.1 200 OK\r\n\r\nroot:x:0:0:root:/root:/bin/bash\n")
            .unwrap();
        let refused = Capture::memory(1 << 20);
        refused.append(b"HTTP/1.1 404 Not Found\r\n\r\n").unwrap();
        assert_eq!(
            leaks([("c1", &response), ("double", &passwd), ("c2", &refused)]),
            [
                "the response to c1 carried the text of secret.txt (the file next to the site's root), from byte 19 on",
                "the response to double carried the text of /etc/passwd, from byte 19 on",
            ]
        );
    }
}
