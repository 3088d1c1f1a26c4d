//! Which program a failure is about, and whether a known-good one was cut off by the
//! submission's: what the first sentence ([`super::diagnosis`]) and the hints
//! ([`super::explain`]) both need to blame the right program.

use run_record::outcome::{Outcome, ProgramReport};
use run_record::wire::{FlowEnd, Protocol};

/// The program the failure is about: the one its step names (`check server's stdout`).
pub(super) fn subject(outcome: &Outcome) -> Option<&ProgramReport> {
    let failure = outcome.failure.as_ref()?;
    let said = format!("{} {}", failure.action, failure.expected);
    let names = |name: &str| {
        said.match_indices(name).any(|(at, _)| {
            let before = said[..at].chars().next_back();
            let after = said[at + name.len()..].chars().next();
            !before.is_some_and(|c| c.is_alphanumeric() || c == '-')
                && !after.is_some_and(|c| c.is_alphanumeric() || c == '-')
        })
    };
    let mut programs: Vec<&ProgramReport> = outcome.programs.iter().collect();
    if programs.len() == 1 {
        return programs.pop();
    }
    programs.into_iter().find(|program| names(&program.name))
}

/// The program a failure's cause starts with (`client exited with status 1 …`).
pub(super) fn crashed(outcome: &Outcome) -> Option<&ProgramReport> {
    let cause = outcome.failure.as_ref()?.cause.as_deref()?;
    outcome
        .programs
        .iter()
        .filter(|program| cause.starts_with(&format!("{} ", program.name)))
        .max_by_key(|program| program.name.len())
}

/// Whether the other side of a connection met a reset or a broken pipe while it still
/// sent: a known-good program that crashed of it, or a harness client whose sending failed.
pub(super) fn closed_early(outcome: &Outcome) -> bool {
    let Some(failure) = &outcome.failure else {
        return false;
    };
    let said = format!(
        "{} {}",
        failure.seen,
        failure.cause.as_deref().unwrap_or("")
    )
    .to_lowercase();
    let cut_off = ["connection reset", "broken pipe", "errno 104", "errno 32"]
        .iter()
        .any(|words| said.contains(words));
    let companion = crashed(outcome).is_some_and(|program| program.known_good);
    cut_off && (companion || failure.seen.starts_with("sending failed after"))
}

/// Whether the program a failure's cause names is a known-good companion.
pub(super) fn companion_crashed(outcome: &Outcome) -> bool {
    crashed(outcome).is_some_and(|program| program.known_good)
}

/// Whether `program` did something of its work: it printed on stdout, opened a connection
/// (or wrote a datagram) that reached the harness, or accepted one. Such a program ran,
/// and is never said to have "never ran", whatever its stderr says after (a `NameError`
/// raised in its `finally`).
pub(super) fn did_something(outcome: &Outcome, program: &ProgramReport) -> bool {
    if program.stdout.1 > 0 {
        return true;
    }
    // A flow's end names the programs pointed at that peer (`client or client2`), or
    // `client program` / `program` when the scenario did not say which: then it is this
    // one if it is the submission's only program.
    let alone = outcome
        .programs
        .iter()
        .filter(|other| !other.known_good)
        .count()
        == 1;
    let is_it = |end: &FlowEnd| {
        end.program
            && (end.name.split(" or ").any(|name| name == program.name)
                || (alone && matches!(end.name.as_str(), "client program" | "program")))
    };
    // The program at the accepting end of a TCP connection was listening: it ran. (A
    // datagram written to a program's port proves nothing of it.)
    outcome
        .wire
        .flows
        .iter()
        .any(|flow| is_it(&flow.client) || (flow.protocol == Protocol::Tcp && is_it(&flow.server)))
}
