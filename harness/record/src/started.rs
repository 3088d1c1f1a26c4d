//! Whether a program stopped at its own start: what the harness's `past_its_start = true`
//! judges on `expect_stderr` (a scenario about an error a program must meet, a port in use,
//! no server, a password the server refuses, is not passed by a program that stopped
//! before it got there), and what the reports name first when it did. Such a program also
//! exits non-zero with something on stderr, which is all an error scenario's other steps
//! can see: a usage error about its command line, a file that does not compile, an import
//! that fails, a name it never defined.
//!
//! Each sign below is one a correct program never prints: the interpreter's, the
//! argument parser's, the Java launcher's. A program's own words about the error
//! (`Address already in use`, `Connection refused`, a traceback of the `OSError` it let
//! through) are none of them.

/// How a failure's `seen` begins when a program's own command could not be started (it
/// names a file that does not exist): the engine writes it, the reports name the program.
pub const COULD_NOT_START: &str = "it could not be started: ";

/// A line that shows the program stopped before it did anything, and what it shows.
pub const SIGNS: [(&str, &str); 14] = [
    ("usage: ", "a usage message: it refused its command line"),
    ("unrecognized arguments", "a usage error"),
    ("arguments are required", "a usage error"),
    ("invalid choice:", "a usage error"),
    ("SyntaxError", "its file does not compile"),
    ("IndentationError", "its file does not compile"),
    ("TabError", "its file does not compile"),
    ("ModuleNotFoundError", "an import failed"),
    ("ImportError", "an import failed"),
    ("NameError", "a name it uses is not defined"),
    ("can't open file", "the interpreter could not open its file"),
    (
        "Could not find or load main class",
        "Java could not load its class",
    ),
    (
        "error: compilation failed",
        "its Java source does not compile",
    ),
    ("command not found", "a command it runs does not exist"),
];

/// The first line of `stderr` that shows the program stopped at its start, with what
/// it shows; `None` if no line does.
pub fn stopped_at_start(stderr: &[u8]) -> Option<(String, &'static str)> {
    let text = String::from_utf8_lossy(stderr);
    text.lines().find_map(|line| {
        let trimmed = line.trim_start();
        SIGNS.iter().find_map(|(sign, shows)| {
            let found = if *sign == "usage: " {
                trimmed.to_ascii_lowercase().starts_with(sign)
            } else {
                trimmed.contains(sign)
            };
            found.then(|| (line.trim().to_owned(), *shows))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::stopped_at_start;

    #[test]
    fn the_interpreters_and_the_parsers_signs_are_found_a_programs_own_error_is_not() {
        for (stderr, shows) in [
            (
                "usage: server.py [-h] port\nserver.py: error: the following arguments are required: port\n",
                "a usage message: it refused its command line",
            ),
            (
                "  File \"client.py\", line 3\n    print 'hi'\n    ^\nSyntaxError: Missing parentheses\n",
                "its file does not compile",
            ),
            (
                "Traceback (most recent call last):\nModuleNotFoundError: No module named 'email.mime'\n",
                "an import failed",
            ),
            (
                "Error: Could not find or load main class Server\n",
                "Java could not load its class",
            ),
        ] {
            assert_eq!(
                stopped_at_start(stderr.as_bytes()).map(|(_, said)| said),
                Some(shows),
                "{stderr}"
            );
        }
        for stderr in [
            "server: cannot bind port 4000: [Errno 98] Address already in use\n",
            "Traceback (most recent call last):\n  File \"s.py\", line 9, in <module>\nOSError: [Errno 98] Address already in use\n",
            "client: [Errno 111] Connection refused\n",
            "Usage is fine here: no, this is a sentence\n",
            "",
        ] {
            assert_eq!(stopped_at_start(stderr.as_bytes()), None, "{stderr}");
        }
    }
}
