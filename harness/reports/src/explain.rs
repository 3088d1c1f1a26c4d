//! Hints, under every failure's first line (`report::diagnosis`), and `--explain`: for a
//! student, each failed clause in plain words.
//!
//! The scenario's requirement says what the spec asks; the failure says what the harness
//! expected and saw, and what it found behind it (a crash, a flood, a leak). The hint comes
//! from the scenario (`hint = "..."`) when its author wrote one, and from the shape of the
//! failure: the kinds of mistakes that produce it.
//!
//! The scenarios' hints are written for Python, what most students submit. A program in
//! another language (told by its command line, see [`run_record::language`]) does not get them
//! when they speak Python (`sys.stdout.buffer`, `print(..., file=sys.stderr)`): the hints
//! made from the failure's shape speak its own idiom instead (`fflush(stdout)` in C,
//! `System.out.flush()` in Java).

use std::fmt::Write;

use run_record::exit::HarnessStop;
use run_record::language::Language;
use run_record::outcome::{Outcome, ProgramReport, Status};

/// The explanation printed after a failure's details.
pub fn explain(outcome: &Outcome) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "  in plain words");
    let _ = writeln!(
        text,
        "    The spec ({}) asks: {}",
        outcome.clauses.join(", "),
        outcome.requirement
    );
    if let Some(failure) = &outcome.failure {
        if let Some(cause) = &failure.cause {
            let _ = writeln!(
                text,
                "    What went wrong: {}.",
                cause.trim_end_matches('.')
            );
        }
        let _ = writeln!(
            text,
            "    The harness expected {}, but saw {}.",
            failure.expected.trim_end_matches('.'),
            failure.seen.trim_end_matches('.')
        );
    }
    // The hints are in the failure's details, under its first line.
    text
}

/// What usually causes a failure like this one, most specific first, in the idiom of the
/// failing program's language: every hint, before the first line takes its remedy.
pub(crate) fn every_hint(outcome: &Outcome) -> Vec<String> {
    let mut hints = Vec::new();
    // The harness's own trouble: nothing the program could do about it.
    if super::score::harness_trouble(outcome) {
        return hints;
    }
    let Some(failure) = &outcome.failure else {
        hints.extend(outcome.hint.clone());
        return hints;
    };
    let subject = super::blame::subject(outcome);
    let language = subject.and_then(|program| program.language).or_else(|| {
        // Not named by the failure: the language all the submission's programs share.
        let mut languages = outcome.programs.iter().map(|program| program.language);
        let first = languages.next()??;
        languages
            .all(|language| language == Some(first))
            .then_some(first)
    });
    let idiom = Idiom::of(language);
    // A program still running where it should have ended: what its stdout already got
    // wrong is named in the first line, and is no extra line of debug output.
    let (seen, stopped_already_wrong) =
        match failure.seen.split_once(run_record::outcome::ALREADY_WRONG) {
            Some((running, _)) => (running, true),
            None => (failure.seen.as_str(), false),
        };
    let said = format!("{} {} {}", failure.action, failure.expected, seen).to_lowercase();
    let cause = failure.cause.as_deref().unwrap_or("").to_lowercase();

    // Output left in the stdio buffer is the most specific explanation there is: the
    // program did the right thing, and its bytes never left it.
    if let Some(program) = subject
        && language != Some(Language::Python)
        && buffered_stdout(program, &said)
    {
        let printed = match program.stdout.1 {
            0 => "nothing came on its stdout".to_owned(),
            bytes => format!("its stdout stopped at {bytes} bytes, a multiple of 4096,"),
        };
        hints.push(format!(
            "{} may have written more than arrived: {printed} while it still ran, and {}",
            program.name, idiom.flush
        ));
    }
    // The other side met a reset or a closed connection: the program at fault is the one
    // that closed, which a known-good peer's crash must not hide.
    let closed_early = super::blame::closed_early(outcome);
    if closed_early {
        hints.push(format!(
            "A socket closed while bytes sent to it are still unread makes the kernel reset the connection: the other side, still sending, gets \"Connection reset by peer\" or \"Broken pipe\". One recv() is not the whole message: {}.",
            idiom.read_all
        ));
    }
    let about_companion = about_a_companion(outcome);
    match &outcome.hint {
        // A hint about a known-good program the submission borrows misleads.
        Some(_) if about_companion => {}
        // A hint in Python's words misleads a program in another language.
        Some(hint) if language.is_none_or(|language| language == Language::Python) => {
            hints.push(hint.clone())
        }
        Some(hint) if !speaks_python(hint) => hints.push(hint.clone()),
        _ => {}
    }
    let companion_crashed = super::blame::companion_crashed(outcome);
    let mut generic = |condition: bool, hint: String| {
        if condition && hints.len() < 3 {
            hints.push(hint);
        }
    };
    generic(
        stopped_already_wrong,
        "The program was still running where it should have ended: give its loop a last pass (the count it is asked for, the end of its input) and end once its work is done; and fix what its stdout already shows, which no later line can mend.".into(),
    );
    generic(
        cause.contains("printed more than"),
        "The program printed without end: usually a loop that prints on every pass, such as one that goes on after recv() returned nothing (the client closed): stop there.".into(),
    );
    generic(
        !companion_crashed
            && (cause.contains("exited with status") || cause.contains("killed by signal")),
        idiom.crash.into(),
    );
    generic(
        outcome.status == Status::Timeout,
        "The program did not finish in time: is it blocked in a recv() that waits for bytes that never come, or waiting for a connection while another is open?".into(),
    );
    generic(
        said.contains("never listened"),
        "The server never listened on the port it was given: does it read its port from the command line and call listen()? Does it crash at start (see its stderr)?".into(),
    );
    generic(
        said.contains("ef bf bd"),
        format!(
            "`ef bf bd` is U+FFFD, the replacement character: the program decoded bytes as text. Keep them as bytes end to end ({}).",
            idiom.raw_bytes
        ),
    );
    generic(
        said.contains("stdout")
            && (said.contains("more") || said.contains("longer") || said.contains("extra")),
        format!(
            "Something extra reached stdout: debug and status lines belong on stderr ({}).",
            idiom.to_stderr
        ),
    );
    generic(
        !closed_early && (said.contains("reset") || said.contains("connectionreset")),
        "A client that resets its connection must not bring the server down: catch the error around recv()/send() and go on serving.".into(),
    );
    generic(
        !companion_crashed && said.contains("exit") && said.contains("status"),
        format!(
            "Check the exit status: 0 on success, non-zero with a message on stderr when something fails ({}).",
            idiom.fail
        ),
    );
    generic(
        outcome.category == run_record::outcome::Category::Robustness,
        format!(
            "Every recv() may return fewer bytes than sent, and every send() may send fewer than asked: loop until the message is complete ({}, and read until the end of stream or the length you expect).",
            idiom.send_all
        ),
    );
    generic(
        outcome.category == run_record::outcome::Category::Concurrency,
        format!(
            "Serving clients one after another is not enough here: a slow or idle client must not hold the others back ({}).",
            idiom.concurrency
        ),
    );
    generic(
        outcome.category == run_record::outcome::Category::Security,
        "Never trust what comes from the network: check paths, lengths and commands before using them.".into(),
    );
    hints
}

/// Whether the scenario's hint is about a known-good program the submission borrows: its
/// opening words name that program and no program of the submission's (`Keep the
/// client's stdout empty: …` under a borrowed client).
fn about_a_companion(outcome: &Outcome) -> bool {
    let Some(hint) = &outcome.hint else {
        return false;
    };
    let opening = hint
        .split([':', ';', '.'])
        .next()
        .unwrap_or("")
        .to_lowercase();
    let names = |program: &ProgramReport| {
        opening
            .split(|c: char| !c.is_alphanumeric() && c != '-')
            .any(|word| word == program.name.to_lowercase())
    };
    let companion = outcome
        .programs
        .iter()
        .any(|program| program.known_good && names(program));
    let own = outcome
        .programs
        .iter()
        .any(|program| !program.known_good && names(program));
    companion && !own
}

/// Whether a program's stdout looks held in its stdio buffer: the failure is about its
/// stdout, it did not end by itself normally (a buffer is written out at a normal exit,
/// and lost when a signal ends the program), and what came is whole buffers (4096 bytes
/// each, `BUFSIZ` on Linux for a pipe; Java's 8192 is two).
fn buffered_stdout(program: &ProgramReport, said: &str) -> bool {
    let about_stdout = said.contains(&format!("{}'s stdout", program.name.to_lowercase()));
    let did_not_exit = match (&program.exit, &program.stopped_by_harness) {
        (None, _) | (_, Some(HarnessStop::Stopped)) => true,
        (Some(exit), None) => {
            matches!(exit.kind, run_record::exit::ExitKind::Signal(_))
        }
        (
            Some(_),
            Some(
                HarnessStop::OutputCap { .. }
                | HarnessStop::MemoryLimit { .. }
                | HarnessStop::DiskLimit { .. },
            ),
        ) => false,
    };
    about_stdout && did_not_exit && program.stdout.1.is_multiple_of(4096)
}

/// Whether a hint is written in Python's words.
fn speaks_python(hint: &str) -> bool {
    const PYTHON: [&str; 16] = [
        "sys.",
        "print(",
        "b''",
        "flush=True",
        "argparse",
        "input()",
        "os.path",
        "urllib",
        "random.",
        ".decode(",
        "decode()",
        "sendall(",
        "socket.timeout",
        "errors='replace'",
        "data +=",
        "strip(",
    ];
    PYTHON.iter().any(|word| hint.contains(word))
}

/// How a language says what the hints ask for.
struct Idiom {
    flush: &'static str,
    to_stderr: &'static str,
    raw_bytes: &'static str,
    fail: &'static str,
    send_all: &'static str,
    concurrency: &'static str,
    crash: &'static str,
    read_all: &'static str,
}

impl Idiom {
    fn of(language: Option<Language>) -> Idiom {
        match language {
            Some(Language::Python) => Idiom {
                flush: "Python keeps stdout in a buffer when it is not a terminal: write with print(..., flush=True), or call sys.stdout.buffer.flush() after sys.stdout.buffer.write().",
                to_stderr: "print(..., file=sys.stderr)",
                raw_bytes: "sys.stdout.buffer.write(data), never data.decode()",
                fail: "print(..., file=sys.stderr), then sys.exit(1)",
                send_all: "sendall()",
                concurrency: "threads, select, or asyncio",
                crash: "The program crashed: the cause above quotes the last line of its traceback, the exception, and where it was raised. Catch that exception there (try/except) when a client can cause it, or fix the code that raised it.",
                read_all: "call recv(4096) in a loop and write each chunk until it returns b'', then close",
            },
            Some(Language::Native) => Idiom {
                flush: "the C library keeps stdout in a buffer when it is a pipe, as here, and writes it out only once 4096 bytes have gathered or at a normal exit (a program killed by a signal loses it). Call fflush(stdout) after each printf()/fwrite(), or setvbuf(stdout, NULL, _IONBF, 0) once at the start; write(1, buffer, n) is never buffered.",
                to_stderr: "fprintf(stderr, ...), or perror()",
                raw_bytes: "fwrite(buffer, 1, n, stdout) or write(1, buffer, n) with the n recv() returned, never printf(\"%s\", buffer), which stops at the first NUL byte",
                fail: "fprintf(stderr, ...) or perror(), then exit(1)",
                send_all: "call send() again with what it did not send, until all of it went",
                concurrency: "a thread or a process per client, or poll()/select()",
                crash: "The program ended before its time: the cause above says how. A signal such as SIGSEGV is an invalid memory access (a buffer overrun, a NULL pointer, a string without its NUL): build with -g -fsanitize=address to see where; an exit status comes from an exit() the program chose, after the message it printed on stderr.",
                read_all: "call recv() in a loop and write the n bytes each returns until it returns 0, then close()",
            },
            Some(Language::Java) => Idiom {
                flush: "Java keeps output in a buffer: print() without a newline, a BufferedOutputStream or a PrintWriter hold it until flushed. Call System.out.flush() after each write, and write bytes with System.out.write(buffer, 0, n).",
                to_stderr: "System.err.println(...)",
                raw_bytes: "System.out.write(buffer, 0, n) with the n read() returned, never new String(buffer)",
                fail: "System.err.println(...), then System.exit(1)",
                send_all: "OutputStream.write(buffer, 0, n) writes all n bytes; read() returns fewer than asked, so loop on it",
                concurrency: "a thread per client, or an ExecutorService",
                crash: "The program crashed: the cause above names the exception and the line that threw it. Catch it there (try/catch around the connection's work) when a client can cause it, so that one client cannot end the server.",
                read_all: "call read() on the socket's InputStream in a loop and write the n bytes each returns until it returns -1, then close",
            },
            _ => Idiom {
                flush: "stdout to a pipe is kept in a buffer by most languages' libraries, and a program killed by a signal loses it: flush stdout after each write (C: fflush(stdout); Java: System.out.flush(); Python: print(..., flush=True)).",
                to_stderr: "the standard error stream",
                raw_bytes: "write what recv() returned as it is, without decoding it as text",
                fail: "a message on stderr, then exit with status 1",
                send_all: "send again what a send did not take",
                concurrency: "threads, processes, or an event loop",
                crash: "The program crashed: the cause above quotes the end of its stderr, which names the error. Handle that error where it happens when a client can cause it.",
                read_all: "read in a loop until the read returns no bytes (the end of the stream), writing each piece, then close",
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::diagnosis::hints;
    use run_record::exit::{ExitInfo, ExitKind};
    use run_record::outcome::Failure;

    const PYTHON_HINT: &str = "Loop recv(4096) until it returns b'' and write each chunk with sys.stdout.buffer.write(chunk) followed by sys.stdout.buffer.flush().";

    /// message/04 failed: the server's stdout stopped at `printed` bytes while it ran.
    fn short_stdout(command_line: &str, printed: u64) -> Outcome {
        let mut outcome = Outcome::blank("message/04-random-slices");
        outcome.status = Status::Fail;
        outcome.hint = Some(PYTHON_HINT.into());
        outcome.failure = Some(Failure {
            step: 5,
            line: 24,
            action: "check server's stdout".into(),
            expected: "server's stdout to be exactly the 20480 bytes c1 sent".into(),
            seen: format!("{printed} of 20480 bytes (all correct so far) (after 5000 ms)"),
            ..Failure::default()
        });
        outcome.programs = vec![ProgramReport {
            name: "server".into(),
            command_line: command_line.into(),
            stdout: (Vec::new(), printed),
            language: Language::of_command_line(command_line),
            ..ProgramReport::default()
        }];
        outcome
    }

    #[test]
    fn a_c_server_with_output_in_its_buffer_hears_of_fflush_not_python() {
        let folder = tempfile::tempdir().unwrap();
        let binary = folder.path().join("message-server");
        std::fs::write(&binary, b"\x7fELF\x02\x01\x01\0").unwrap();
        let hints = hints(&short_stdout(&format!("{} 2000", binary.display()), 16384));
        let all = hints.join("\n");
        assert!(
            all.contains("fflush(stdout)") && all.contains("setvbuf"),
            "{all}"
        );
        assert!(all.contains("stopped at 16384 bytes"), "{all}");
        assert!(
            !all.contains("sys.stdout") && !all.contains("flush=True"),
            "{all}"
        );
    }

    #[test]
    fn a_java_pinger_stopped_with_too_many_lines_hears_of_its_end_not_of_debug_output() {
        let mut outcome = Outcome::blank("udp-pinger/01-lost-pings-time-out");
        outcome.status = Status::Fail;
        outcome.hint = Some("For each ping, settimeout(1.0) and catch socket.timeout.".into());
        outcome.failure = Some(Failure {
            step: 3,
            action: "check client's exit status".into(),
            expected: "client to exit with status 0 within 13000 ms".into(),
            seen: format!(
                "client was still running after 13000 ms (and 4 ms more){}it had printed 13 lines for 10 pings",
                run_record::outcome::ALREADY_WRONG
            ),
            ..Failure::default()
        });
        outcome.programs = vec![ProgramReport {
            name: "client".into(),
            command_line: "java PingClient.java 127.0.0.1 4000".into(),
            language: Language::of_command_line("java PingClient.java 127.0.0.1 4000"),
            ..ProgramReport::default()
        }];
        let hints = hints(&outcome);
        assert!(
            hints[0].starts_with("The program was still running where it should have ended"),
            "{hints:?}"
        );
        assert!(
            !hints
                .iter()
                .any(|hint| hint.contains("Something extra reached stdout")),
            "{hints:?}"
        );
    }

    #[test]
    fn a_java_server_hears_of_system_out_flush() {
        let all = hints(&short_stdout("java -jar /sub/server.jar 2000", 8192)).join("\n");
        assert!(all.contains("System.out.flush()"), "{all}");
        assert!(!all.contains("sys.stdout"), "{all}");
    }

    #[test]
    fn a_python_server_keeps_the_scenarios_hint_and_no_buffer_hint() {
        let all = hints(&short_stdout("python3 /sub/server.py 2000", 16384)).join("\n");
        assert!(all.contains(PYTHON_HINT), "{all}");
        assert!(!all.contains("fflush"), "{all}");
    }

    #[test]
    fn output_that_is_not_whole_buffers_is_no_buffering() {
        let all = hints(&short_stdout("/nowhere/server 2000", 1000)).join("\n");
        assert!(!all.contains("multiple of 4096"), "{all}");
        // A program of no known language keeps the scenario's own hint.
        assert!(all.contains(PYTHON_HINT), "{all}");
    }

    #[test]
    fn a_crashed_program_hears_of_its_crash_in_its_idiom() {
        let mut outcome = short_stdout("python3 /sub/server.py 2000", 10);
        outcome.programs[0].exit = Some(ExitInfo {
            kind: ExitKind::Code(1),
            max_rss_kib: 0,
            after: Duration::from_millis(300),
        });
        outcome.failure.as_mut().unwrap().cause = Some(
            "server exited with status 1 after 0.30s; its stderr ends with: ValueError: bad (server.py, line 3, in main)".into(),
        );
        let text = explain(&outcome);
        assert!(
            text.contains("What went wrong: server exited with status 1"),
            "{text}"
        );
        assert!(hints(&outcome).join("\n").contains("traceback"));
    }

    #[test]
    fn extra_output_goes_to_stderr_in_the_programs_idiom() {
        let mut outcome = short_stdout("java Server 2000", 27);
        let failure = outcome.failure.as_mut().unwrap();
        failure.seen = "27 bytes, 16 more than expected".into();
        outcome.hint = None;
        // Said once: in the first line, which takes the only hint whole.
        let first_line = crate::diagnosis::sentence(&outcome).unwrap();
        let all = format!("{first_line}\n{}", hints(&outcome).join("\n"));
        assert!(all.contains("System.err.println"), "{all}");
        assert!(!all.contains("file=sys.stderr"), "{all}");
    }
}
