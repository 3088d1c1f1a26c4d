//! Whether a program crashed, in every language students write: what the harness's
//! `crash = false` judges on `expect_exit` (SPEC `conv/2`: an error is a message on stderr
//! and a non-zero exit status; an uncaught exception, a stack trace, a death by signal is a
//! crash, not that message), and what the engine's causes read a traceback with.
//!
//! Each sign is the runtime's own, never a sentence a program writes about its error:
//!
//! - Python 2 and 3: `Traceback (most recent call last):`, its `  File "...", line N`
//!   frames and the exception's line (or, with no traceback, a file that does not compile);
//! - Java: `Exception in thread "main" java.net.ConnectException: ...` with its `\tat`
//!   frames and `Caused by:`, or a stack trace a program printed itself
//!   (`e.printStackTrace()`): an exception's class, then `\tat` frames;
//! - C: a death by a signal (SIGSEGV, SIGABRT...), glibc's own abort messages
//!   (`*** stack smashing detected ***`, `free(): invalid pointer`, a failed `assert`),
//!   an AddressSanitizer report;
//! - Go: `panic: ...` (or `fatal error: ...`) followed by its `goroutine N [running]:`.
//!
//! `Error: connection refused`, or a sentence that names an exception in the program's own
//! words (`Exception: could not connect`), is an error message, not a crash.

use crate::exit::{ExitKind, signal_name};

/// A crash, in the words of the language that had it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crash {
    /// What happened, as the runtime would say it: `Python raised ConnectionRefusedError
    /// (uncaught)`, `Java threw java.net.ConnectException (uncaught)`, `killed by signal
    /// SIGSEGV (an invalid memory access)`, `Go panic: runtime error: ...`.
    pub what: String,
    /// The line of stderr that shows it, where one does (the exception's line, glibc's
    /// message), and the place it names, where it names one.
    pub evidence: Option<String>,
}

/// The crash that `exit` and `stderr` (its end, which holds a traceback's last lines)
/// show, if they show one.
pub fn recognise(exit: ExitKind, stderr: &[u8]) -> Option<Crash> {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().collect();
    if let ExitKind::Signal(signal) = exit {
        return Some(Crash {
            what: format!(
                "killed by signal {} ({})",
                signal_name(signal),
                signal_meaning(signal)
            ),
            evidence: glibc_abort(&lines).or_else(|| sanitizer(&lines)),
        });
    }
    if let Some(report) = sanitizer(&lines) {
        return Some(Crash {
            what: format!(
                "AddressSanitizer found {}",
                report
                    .split_once("AddressSanitizer: ")
                    .and_then(|(_, rest)| rest.split_whitespace().next())
                    .map_or("an invalid memory access".to_owned(), |kind| format!(
                        "a {kind}"
                    ))
            ),
            evidence: Some(report),
        });
    }
    if let Some(line) = glibc_abort(&lines) {
        return Some(Crash {
            what: "glibc aborted it".into(),
            evidence: Some(line),
        });
    }
    go_panic(&lines)
        .or_else(|| python_crash(&lines))
        .or_else(|| java_crash(&lines))
}

/// What a signal that ended a program usually means.
fn signal_meaning(signal: i32) -> &'static str {
    match signal {
        libc::SIGSEGV | libc::SIGBUS => "an invalid memory access",
        libc::SIGFPE => "an arithmetic error, such as an integer division by zero",
        libc::SIGABRT => "abort(), or an assertion that failed",
        libc::SIGPIPE => "it wrote to a connection whose other end was closed",
        libc::SIGILL => "an illegal instruction",
        libc::SIGKILL => "most likely the kernel's out-of-memory killer",
        _ => "a signal it did not handle",
    }
}

/// The lines glibc writes before it aborts a program: memory it found corrupted, a stack
/// canary overwritten, an `assert` that failed.
const GLIBC_ABORTS: [&str; 8] = [
    "*** stack smashing detected ***",
    "*** buffer overflow detected ***",
    "free(): ",
    "double free or corruption",
    "malloc(): ",
    "realloc(): ",
    "munmap_chunk(): ",
    "corrupted size vs. prev_size",
];

/// glibc's abort message (`free(): invalid pointer`), or a failed `assert`
/// (`client: client.c:12: main: Assertion `fd >= 0' failed.`), if stderr has one.
fn glibc_abort(lines: &[&str]) -> Option<String> {
    lines
        .iter()
        .map(|line| line.trim())
        .find(|line| {
            GLIBC_ABORTS.iter().any(|sign| line.starts_with(sign))
                || (line.contains(": Assertion `") && line.ends_with("' failed."))
        })
        .map(str::to_owned)
}

/// An AddressSanitizer report's first line: `==123==ERROR: AddressSanitizer: SEGV on ...`.
fn sanitizer(lines: &[&str]) -> Option<String> {
    lines
        .iter()
        .map(|line| line.trim())
        .find(|line| line.starts_with("==") && line.contains("ERROR: AddressSanitizer: "))
        .map(|line| {
            line.split_once("ERROR: ")
                .map_or(line, |(_, report)| report)
                .to_owned()
        })
}

/// A Go panic (`panic: ...` then `goroutine 1 [running]:`), or the runtime's fatal error.
fn go_panic(lines: &[&str]) -> Option<Crash> {
    let (at, kind, message) = lines.iter().enumerate().find_map(|(at, line)| {
        ["panic: ", "fatal error: "].iter().find_map(|sign| {
            line.strip_prefix(sign)
                .map(|message| (at, sign.trim_end_matches(": "), message.trim()))
        })
    })?;
    let goroutine = lines[at + 1..].iter().any(|line| {
        line.strip_prefix("goroutine ").is_some_and(|rest| {
            rest.split_once(" [")
                .is_some_and(|(id, _)| id.chars().all(|c| c.is_ascii_digit()))
        })
    });
    goroutine.then(|| Crash {
        what: format!("Go {kind}: {message}"),
        evidence: lines[at + 1..]
            .iter()
            .map(|line| line.trim())
            .find(|line| line.starts_with('/') && line.contains(".go:"))
            .map(str::to_owned),
    })
}

/// A Python exception as its traceback ends: the exception's line and the frame that
/// raised it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonException {
    /// `ConnectionRefusedError: [Errno 111] Connection refused`.
    pub line: String,
    /// The exception's name: `ConnectionRefusedError`, `socket.error`.
    pub name: String,
    /// The base name of the file of the last frame: `client.py`.
    pub file: String,
    /// Where in that file: `line 12, in main`.
    pub position: String,
    /// Whether a `Traceback (most recent call last):` line leads to it (a file that does
    /// not compile has none).
    pub traceback: bool,
    /// Whether nothing but blank lines follows it: the exception ended the program.
    pub last: bool,
}

/// The last exception of a Python traceback in `lines`: the first line after the last
/// frame that is not indented (a frame's code and its `^^^` marks are).
pub fn python_exception(lines: &[&str]) -> Option<PythonException> {
    let last_frame = lines
        .iter()
        .rposition(|line| line.starts_with("  File \""))?;
    let (offset, exception) = lines[last_frame + 1..]
        .iter()
        .enumerate()
        .find(|(_, line)| !line.trim().is_empty() && !line.starts_with(char::is_whitespace))?;
    // `  File "/sub/server.py", line 12, in main`
    let frame = lines[last_frame].trim_start().strip_prefix("File \"")?;
    let (path, position) = frame.split_once('"')?;
    let file = path.rsplit('/').next().unwrap_or(path).to_owned();
    let position = position.trim_start_matches(',').trim().to_owned();
    let exception = exception.trim();
    let name = exception
        .split_once(':')
        .map_or(exception, |(name, _)| name)
        .trim();
    let name = if is_dotted_name(name) {
        name.to_owned()
    } else {
        exception.to_owned()
    };
    let after = last_frame + 1 + offset + 1;
    Some(PythonException {
        line: exception.to_owned(),
        name,
        file,
        position,
        traceback: lines[..last_frame]
            .iter()
            .any(|line| line.trim_end() == "Traceback (most recent call last):"),
        last: lines[after..].iter().all(|line| line.trim().is_empty()),
    })
}

/// Python's exceptions of a file that does not compile, which come without a traceback.
const COMPILE_ERRORS: [&str; 3] = ["SyntaxError", "IndentationError", "TabError"];

/// A Python traceback, or a file that did not compile.
fn python_crash(lines: &[&str]) -> Option<Crash> {
    let exception = python_exception(lines)?;
    if !exception.traceback && !COMPILE_ERRORS.contains(&exception.name.as_str()) {
        return None;
    }
    let what = if exception.last {
        format!("Python raised {} (uncaught)", exception.name)
    } else {
        format!("Python printed the traceback of {}", exception.name)
    };
    Some(Crash {
        what,
        evidence: Some(format!(
            "{} ({}, {})",
            exception.line, exception.file, exception.position
        )),
    })
}

/// A Java exception with its frames: the one thrown, its innermost cause, and the frame
/// that threw that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JavaException {
    /// The thread it was not caught in (`main`), if the JVM said so (`Exception in thread
    /// "main" ...`); none for a stack trace the program printed itself.
    pub thread: Option<String>,
    /// The exception thrown: `java.lang.RuntimeException`.
    pub name: String,
    /// Its innermost `Caused by:` line, else its own line, without the thread:
    /// `java.net.ConnectException: Connection refused`.
    pub innermost: String,
    /// The class of the innermost cause, if other than the thrown one.
    pub cause: Option<String>,
    /// The first frame under the innermost line: `at Client.main(Client.java:9)`.
    pub frame: Option<String>,
}

/// The Java exception in `lines`: the JVM's `Exception in thread "..."` (the last one), or
/// a stack trace printed by the program (an exception's line followed by `\tat` frames).
pub fn java_exception(lines: &[&str]) -> Option<JavaException> {
    let frame_after = |at: usize| {
        lines
            .get(at + 1)
            .is_some_and(|next| next.trim_start().starts_with("at ") && next.ends_with(')'))
    };
    let (start, thread, thrown) = match lines
        .iter()
        .rposition(|line| line.starts_with("Exception in thread \""))
    {
        // `Exception in thread "main" java.io.IOException: ...`
        Some(at) => {
            let rest = &lines[at]["Exception in thread \"".len()..];
            let (thread, thrown) = rest.split_once("\" ")?;
            (at, Some(thread.to_owned()), thrown)
        }
        None => {
            let at = (0..lines.len())
                .find(|&at| java_class_of(lines[at]).is_some() && frame_after(at))?;
            (at, None, lines[at])
        }
    };
    let name = java_class_of(thrown)?;
    let innermost_at = lines[start + 1..]
        .iter()
        .rposition(|line| line.starts_with("Caused by: "))
        .map(|at| start + 1 + at);
    let (innermost, cause) = match innermost_at {
        Some(at) => {
            let line = lines[at].trim_start_matches("Caused by: ");
            (line, java_class_of(line).filter(|cause| *cause != name))
        }
        None => (thrown, None),
    };
    let frame = lines[innermost_at.unwrap_or(start) + 1..]
        .iter()
        .map(|line| line.trim())
        .take_while(|line| !line.starts_with("Caused by: "))
        .find(|line| line.starts_with("at "))
        .map(str::to_owned);
    Some(JavaException {
        thread,
        name: name.to_owned(),
        innermost: innermost.trim().to_owned(),
        cause: cause.map(str::to_owned),
        frame,
    })
}

/// The class a Java exception's line starts with (`java.net.ConnectException` of
/// `java.net.ConnectException: Connection refused`), if it starts with a class name that
/// ends as exceptions do.
fn java_class_of(line: &str) -> Option<&str> {
    let class = line.split_once(':').map_or(line, |(class, _)| class).trim();
    let simple = class.rsplit(['.', '$']).next()?;
    (is_dotted_name(class)
        && ["Exception", "Error", "Throwable"]
            .iter()
            .any(|end| simple.ends_with(end)))
    .then_some(class)
}

/// A Java exception that no one caught, or a stack trace the program printed.
fn java_crash(lines: &[&str]) -> Option<Crash> {
    let exception = java_exception(lines)?;
    let caused = exception
        .cause
        .as_ref()
        .map_or(String::new(), |cause| format!(", caused by {cause}"));
    let what = match &exception.thread {
        Some(thread) if thread == "main" => {
            format!("Java threw {} (uncaught{caused})", exception.name)
        }
        Some(thread) => format!(
            "Java threw {} (uncaught in thread \"{thread}\"{caused})",
            exception.name
        ),
        None => format!("Java printed the stack trace of {}{caused}", exception.name),
    };
    Some(Crash {
        what,
        evidence: Some(match &exception.frame {
            Some(frame) => format!("{} ({frame})", exception.innermost),
            None => exception.innermost,
        }),
    })
}

/// Whether `text` is a name, or names joined by dots (`socket.error`,
/// `java.net.ConnectException`, `Outer$Inner`).
fn is_dotted_name(text: &str) -> bool {
    !text.is_empty()
        && text.split('.').all(|part| {
            part.chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
                && part
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn what(exit: ExitKind, stderr: &str) -> Option<String> {
        recognise(exit, stderr.as_bytes()).map(|crash| crash.what)
    }

    const FAILED: ExitKind = ExitKind::Code(1);

    /// Stderr as each runtime writes it, and the crash it shows.
    const CRASHES: &[(ExitKind, &str, &str)] = &[
        (
            FAILED,
            "Traceback (most recent call last):\n  \
             File \"/sub/smtp-client.py\", line 88, in <module>\n    main()\n  \
             File \"/sub/smtp-client.py\", line 41, in main\n    \
             sock.connect((host, port))\n    ~~~~~~~~~~~~^^^^^^^^^^^^^^\n\
             ConnectionRefusedError: [Errno 111] Connection refused\n",
            "Python raised ConnectionRefusedError (uncaught)",
        ),
        (
            // Python 2: the exception's name is dotted, and no marks under the code.
            FAILED,
            "Traceback (most recent call last):\n  \
             File \"client.py\", line 9, in <module>\n    s.connect((host, port))\n  \
             File \"/usr/lib/python2.7/socket.py\", line 228, in meth\n    \
             return getattr(self._sock,name)(*args)\n\
             socket.error: [Errno 111] Connection refused\n",
            "Python raised socket.error (uncaught)",
        ),
        (
            // An exception raised while handling another: the last one ended the program.
            FAILED,
            "Traceback (most recent call last):\n  File \"c.py\", line 5, in main\n    \
             s.connect(addr)\nConnectionRefusedError: [Errno 111] Connection refused\n\n\
             During handling of the above exception, another exception occurred:\n\n\
             Traceback (most recent call last):\n  File \"c.py\", line 7, in main\n    \
             log.write(str(e))\nNameError: name 'log' is not defined\n",
            "Python raised NameError (uncaught)",
        ),
        (
            // A traceback the program printed (traceback.print_exc()) before its message.
            FAILED,
            "Traceback (most recent call last):\n  File \"c.py\", line 5, in main\n    \
             ftp.login(user, password)\nftplib.error_perm: 530 Login incorrect.\n\
             error: login refused\n",
            "Python printed the traceback of ftplib.error_perm",
        ),
        (
            FAILED,
            "  File \"/sub/client.py\", line 3\n    print \"hi\"\n    ^^^^^^^^^^\n\
             SyntaxError: Missing parentheses in call to 'print'.\n",
            "Python raised SyntaxError (uncaught)",
        ),
        (
            FAILED,
            "Exception in thread \"main\" java.net.ConnectException: Connection refused\n\
             \tat java.base/sun.nio.ch.Net.connect0(Native Method)\n\
             \tat java.base/java.net.Socket.connect(Socket.java:751)\n\
             \tat SmtpClient.main(SmtpClient.java:40)\n",
            "Java threw java.net.ConnectException (uncaught)",
        ),
        (
            FAILED,
            "Exception in thread \"main\" java.lang.RuntimeException: java.net.ConnectException: Connection refused\n\
             \tat Client.run(Client.java:20)\n\
             \tat Client.main(Client.java:8)\n\
             Caused by: java.net.ConnectException: Connection refused\n\
             \tat java.base/sun.nio.ch.Net.connect0(Native Method)\n\
             \t... 2 more\n",
            "Java threw java.lang.RuntimeException (uncaught, caused by java.net.ConnectException)",
        ),
        (
            FAILED,
            "Exception in thread \"reader\" java.lang.NullPointerException\n\
             \tat Client$Reader.run(Client.java:55)\n",
            "Java threw java.lang.NullPointerException (uncaught in thread \"reader\")",
        ),
        (
            // e.printStackTrace(), then System.exit(1): a stack trace, not a message.
            FAILED,
            "java.net.UnknownHostException: nowhere.invalid\n\
             \tat java.base/java.net.InetAddress.getAllByName0(InetAddress.java:1630)\n\
             \tat Client.main(Client.java:12)\n",
            "Java printed the stack trace of java.net.UnknownHostException",
        ),
        (
            ExitKind::Signal(libc::SIGSEGV),
            "connecting to 127.0.0.1:9\n",
            "killed by signal SIGSEGV (an invalid memory access)",
        ),
        (
            ExitKind::Signal(libc::SIGABRT),
            "connect: Connection refused\nfree(): double free detected in tcache 2\n",
            "killed by signal SIGABRT (abort(), or an assertion that failed)",
        ),
        (
            ExitKind::Signal(libc::SIGABRT),
            "*** stack smashing detected ***: terminated\n",
            "killed by signal SIGABRT (abort(), or an assertion that failed)",
        ),
        (
            // Run by a shell that reports the abort as status 134.
            ExitKind::Code(134),
            "free(): invalid pointer\n",
            "glibc aborted it",
        ),
        (
            FAILED,
            "=================================================================\n\
             ==4242==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x602000000014\n\
             READ of size 4 at 0x602000000014 thread T0\n",
            "AddressSanitizer found a heap-buffer-overflow",
        ),
        (
            ExitKind::Code(2),
            "panic: runtime error: invalid memory address or nil pointer dereference\n\
             [signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a2b1c]\n\n\
             goroutine 1 [running]:\nmain.main()\n\t/sub/client.go:21 +0x1c\nexit status 2\n",
            "Go panic: runtime error: invalid memory address or nil pointer dereference",
        ),
        (
            ExitKind::Code(2),
            "panic: dial tcp 127.0.0.1:9: connect: connection refused\n\n\
             goroutine 1 [running]:\nmain.main()\n\t/sub/client.go:14 +0x1a5\n",
            "Go panic: dial tcp 127.0.0.1:9: connect: connection refused",
        ),
    ];

    #[test]
    fn every_runtimes_crash_is_named_in_its_own_words() {
        for (exit, stderr, said) in CRASHES {
            assert_eq!(what(*exit, stderr).as_deref(), Some(*said), "{stderr}");
        }
    }

    #[test]
    fn a_crash_shows_the_line_and_place_that_prove_it() {
        let evidence = |exit, stderr: &str| recognise(exit, stderr.as_bytes()).unwrap().evidence;
        assert_eq!(
            evidence(FAILED, CRASHES[0].1).as_deref(),
            Some(
                "ConnectionRefusedError: [Errno 111] Connection refused (smtp-client.py, line 41, in main)"
            )
        );
        assert_eq!(
            evidence(FAILED, CRASHES[6].1).as_deref(),
            Some(
                "java.net.ConnectException: Connection refused (at java.base/sun.nio.ch.Net.connect0(Native Method))"
            )
        );
        assert_eq!(
            evidence(ExitKind::Signal(libc::SIGABRT), CRASHES[10].1).as_deref(),
            Some("free(): double free detected in tcache 2")
        );
        assert_eq!(
            evidence(ExitKind::Code(2), CRASHES[14].1).as_deref(),
            Some("/sub/client.go:21 +0x1c")
        );
    }

    /// Messages programs write about their own errors, with the status they exit with.
    #[test]
    fn an_error_message_is_no_crash_even_when_it_names_an_exception() {
        for stderr in [
            "Error: connection refused\n",
            "smtp-client: [Errno 111] Connection refused\n",
            "Exception: could not connect to 127.0.0.1:25\n",
            "error: java.net.ConnectException: Connection refused\n",
            "java.net.ConnectException: Connection refused\n",
            "Caught an Exception while connecting: ConnectionRefusedError\n",
            "connect failed (panic: no server)\ngoroutine count: 1\n",
            "panic: no server\n",
            "ftp-upload: 550 Failed to change directory. (File \"uploads\" missing)\n",
            "Traceback is what you would see without this message: connection refused\n",
            "",
        ] {
            assert_eq!(what(FAILED, stderr), None, "{stderr}");
            assert_eq!(what(ExitKind::Code(2), stderr), None, "{stderr}");
        }
    }
}
