//! `--explain`: for a student, each failed clause in plain words, with a hint.
//!
//! The scenario's requirement says what the spec asks; the failure says what the harness
//! expected and saw. The hint comes from the scenario (`hint = "..."`) when its author wrote
//! one, else from the shape of the failure: the kinds of mistakes that produce it.

use std::fmt::Write;

use crate::engine::{Outcome, Status};

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
        let _ = writeln!(
            text,
            "    The harness expected {}, but saw {}.",
            failure.expected.trim_end_matches('.'),
            failure.seen.trim_end_matches('.')
        );
    }
    for hint in hints(outcome) {
        let _ = writeln!(text, "    hint: {hint}");
    }
    text
}

/// What usually causes a failure like this one, most specific first.
pub fn hints(outcome: &Outcome) -> Vec<String> {
    let mut hints = Vec::new();
    if let Some(hint) = &outcome.hint {
        hints.push(hint.clone());
    }
    let Some(failure) = &outcome.failure else {
        return hints;
    };
    let said = format!("{} {} {}", failure.action, failure.expected, failure.seen).to_lowercase();
    let mut generic = |condition: bool, hint: &str| {
        if condition && hints.len() < 3 {
            hints.push(hint.to_owned());
        }
    };
    generic(
        outcome.status == Status::Timeout,
        "The program did not finish in time: is it blocked in a recv() that waits for bytes that never come, or waiting for a connection while another is open?",
    );
    generic(
        said.contains("never listened"),
        "The server never listened on the port it was given: does it read its port from the command line and call listen()? Does it crash at start (see its stderr)?",
    );
    generic(
        said.contains("ef bf bd"),
        "`ef bf bd` is U+FFFD, the replacement character: the program decoded bytes as text. Keep them as bytes end to end (sys.stdout.buffer.write in Python).",
    );
    generic(
        said.contains("stdout")
            && (said.contains("more") || said.contains("longer") || said.contains("extra")),
        "Something extra reached stdout: debug and status lines belong on stderr (print(..., file=sys.stderr)).",
    );
    generic(
        said.contains("reset") || said.contains("connectionreset"),
        "A client that resets its connection must not bring the server down: catch the error around recv()/send() and go on serving.",
    );
    generic(
        said.contains("exit") && said.contains("status"),
        "Check the exit status: 0 on success, non-zero with a message on stderr when something fails.",
    );
    generic(
        outcome.category == crate::scenario::Category::Robustness,
        "Every recv() may return fewer bytes than sent, and every send() may send fewer than asked: loop until the message is complete (sendall, and read until the end of stream or the length you expect).",
    );
    generic(
        outcome.category == crate::scenario::Category::Concurrency,
        "Serving clients one after another is not enough here: a slow or idle client must not hold the others back (threads, select, or asyncio).",
    );
    generic(
        outcome.category == crate::scenario::Category::Security,
        "Never trust what comes from the network: check paths, lengths and commands before using them.",
    );
    hints
}
