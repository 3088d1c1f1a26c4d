//! The one interface below the engine for judging a stream of bytes: a program's stdout or
//! stderr, or what a harness connection received, against an [`OutputExpectation`]
//! (exact, any order, contains, excludes, regex, after a label, a count of connections, a
//! password never in clear, or what a protocol pack judges: HTTP, mail, a ping report).
//! The engine calls [`evaluate`] each time more bytes came (and once more when nothing
//! more can come); what the judges need beyond the bytes, what the harness's connections
//! sent and what its servers recorded, they ask of [`Facts`].

use std::sync::Arc;

use regex::bytes::Regex;

use crate::judge::bytes::{Evaluation, check_any_order, compare_exact, find_in_capture};
use crate::judge::diff::excerpt;
use crate::outcome::{StepFailure, StepResult};
use crate::payload::{Concatenation, Payload};
use crate::peers::ProtocolRecord;
use crate::world::capture::Capture;

/// What a program's output must be.
#[derive(Debug, Clone)]
pub(crate) enum OutputExpectation {
    /// Exactly these bytes.
    Equals(Payload),
    /// Exactly what these harness connections sent, in this order.
    EqualsSent(Vec<String>),
    /// What these harness connections sent, each whole and contiguous, in any order.
    AnyOrderOfSent(Vec<String>),
    /// Some part matches the regex.
    Matches(Regex),
    /// The whole output matches the regex (stdout: `regex` is `pattern` anchored at both
    /// ends).
    MatchesWhole {
        regex: Regex,
        pattern: String,
        /// Tells when what was printed so far can no longer become a match.
        prefix: super::whole_match::WholeMatch,
    },
    /// These bytes, with at most a label before them on their line (text without a line
    /// break: `From Server: `, an `input()` prompt) and nothing after them but whitespace;
    /// trailing whitespace of the bytes themselves is not required (SPEC upper/6).
    AfterLabel(Payload),
    /// The `listen` peer `server`, speaking a protocol that carries passwords, never
    /// received `password` outside TLS, neither as text nor base64-encoded (as SMTP's
    /// `AUTH PLAIN` and `AUTH LOGIN` send it), and no command carrying credentials in
    /// clear (see `crate::judge::clear_text`).
    NeverInClear { server: String, password: String },
    /// These bytes appear somewhere, whole and contiguous (a label before them is fine).
    Contains(Payload),
    /// These bytes never appear (a secret file's text).
    Excludes(Payload),
    /// The `listen` peer `server` accepted exactly `count` connections (and no more while
    /// the step watches): a caching proxy does not ask the origin twice.
    Connections { server: String, count: u64 },
    /// What a protocol pack's judges check (`crate::protocols`): an HTTP response, the
    /// mail a client delivered, a ping report.
    Protocol(Arc<dyn ProtocolExpectation>),
    /// Nothing at all (checked once the program has exited, or at the deadline).
    Empty,
    /// At least one byte.
    NotEmpty,
    /// Nothing that shows the program stopped at its start: a usage error, a file that
    /// does not compile, a failed import (see `crate::judge::started`). A program that
    /// printed on its stdout got past its start, whatever its stderr says after (a
    /// `NameError` raised in its `finally`): it ran.
    PastItsStart {
        /// The program whose stderr it judges.
        program: String,
    },
}

/// How far into the output `contains` looks beyond the length of what it looks for (and
/// how long a label `after_label` takes).
const CONTAINS_SLACK: usize = 64 * 1024;
/// The most output a whole-output regex (`matches` on stdout) is matched against.
const WHOLE_MATCH_LIMIT: usize = 1 << 20;

/// An expectation a protocol pack loaded and judges: on the bytes of the stream, and on
/// what the pack's server peers recorded ([`Facts::record`]).
pub(crate) trait ProtocolExpectation: std::fmt::Debug + Send + Sync {
    /// Judges `capture` (`where_` says whose stream, for the report), as [`evaluate`]
    /// does.
    fn evaluate(
        &self,
        facts: &dyn Facts,
        where_: &str,
        capture: &Capture,
        is_final: bool,
    ) -> StepResult<Evaluation>;
}

/// What a running scenario knows that judging its bytes may need: the engine provides it.
pub(crate) trait Facts {
    /// What the named harness connections sent, in order, and whether they all finished
    /// sending (an error if one could not deliver what it had to).
    fn sent_by(&self, names: &[String]) -> StepResult<(Concatenation, bool)>;
    /// What the harness connection `name` sent.
    fn sent_payload(&self, name: &str) -> Payload;
    /// What the protocol the harness's server `server` speaks recorded (none: it speaks
    /// the scenario's bytes, or there is no such server).
    fn record(&self, server: &str) -> Option<&dyn ProtocolRecord>;
    /// How many connections the harness's server `server` accepted.
    fn connections_accepted(&self, server: &str) -> u64;
    /// Whether the program `program` has printed anything on its stdout.
    fn printed_on_stdout(&self, _program: &str) -> bool {
        false
    }
    /// The password a client logs in with: the scenario's, unless the submission says its
    /// program hard-codes another (`password` in `submission.toml`).
    fn password_in_use(&self, scenario: &str) -> String {
        scenario.to_owned()
    }
}

/// Judges `capture` (`where_` says whose stream, for the report) against `expectation`.
/// `is_final`: no more bytes will come. `verified`: how far an exact comparison has
/// already compared, kept between calls so that each call compares only what is new.
pub(crate) fn evaluate(
    facts: &dyn Facts,
    where_: &str,
    capture: &Capture,
    expectation: &OutputExpectation,
    is_final: bool,
    verified: &mut u64,
) -> StepResult<Evaluation> {
    let seen_len = capture.len();
    Ok(match expectation {
        OutputExpectation::Equals(payload) => {
            let expected = Concatenation::new(vec![payload.clone()]);
            compare_exact(
                capture,
                &expected,
                &format!("{where_} to be exactly {}", payload.describe()),
                true,
                verified,
            )?
        }
        OutputExpectation::EqualsSent(names) => {
            let (expected, all_sent) = facts.sent_by(names)?;
            let description = format!(
                "{where_} to be exactly the {} bytes {} sent",
                expected.len(),
                names.join(" then ")
            );
            compare_exact(capture, &expected, &description, all_sent, verified)?
        }
        OutputExpectation::AnyOrderOfSent(names) => {
            let (_, all_sent) = facts.sent_by(names)?;
            let parts: Vec<Payload> = names.iter().map(|name| facts.sent_payload(name)).collect();
            let total: u64 = parts.iter().map(Payload::len).sum();
            let description = format!(
                "{where_} to be the messages of {} ({} bytes in all), each whole and contiguous, in any order",
                names.join(", "),
                total
            );
            if seen_len > total {
                let seen = format!("{seen_len} bytes, {} more than expected", seen_len - total);
                return Err(StepFailure::fail(description, seen));
            }
            if seen_len < total || !all_sent {
                Evaluation::Pending {
                    expected: description,
                    seen: format!("{seen_len} of {total} bytes"),
                }
            } else {
                check_any_order(capture, &parts, names, &description)?;
                Evaluation::Holds { settle: true }
            }
        }
        OutputExpectation::Matches(regex) => {
            let head = capture.head(1 << 20);
            if regex.is_match(&head) {
                Evaluation::Holds { settle: false }
            } else {
                Evaluation::Pending {
                    expected: format!("{where_} to match /{}/", regex.as_str()),
                    seen: format!("{seen_len} bytes: {}", excerpt(&head)),
                }
            }
        }
        OutputExpectation::MatchesWhole {
            regex,
            pattern,
            prefix,
        } => {
            let head = capture.head(WHOLE_MATCH_LIMIT + 1);
            if head.len() > WHOLE_MATCH_LIMIT {
                return Err(StepFailure::fail(
                    format!("{where_} to be, all of it, a match of /{pattern}/"),
                    format!(
                        "{seen_len} bytes: more than the {WHOLE_MATCH_LIMIT} a regex is matched against"
                    ),
                ));
            }
            if regex.is_match(&head) {
                // Whole: it must stay so (a line printed just after fails).
                Evaluation::Holds { settle: true }
            } else if let Some(at) = prefix.went_wrong_at(&head) {
                // Output only grows: nothing printed later can mend this. Shown from the
                // start of the line that went wrong.
                let line_start = head[..at]
                    .iter()
                    .rposition(|&byte| byte == b'\n')
                    .map_or(0, |newline| newline + 1);
                let line = head[..line_start]
                    .iter()
                    .filter(|&&byte| byte == b'\n')
                    .count()
                    + 1;
                return Err(StepFailure::fail(
                    format!("{where_} to be, all of it (every line), a match of /{pattern}/"),
                    format!(
                        "{seen_len} bytes, which nothing printed after them can make a match: line {line} went wrong (at byte {at}): {}",
                        excerpt(&head[line_start..])
                    ),
                ));
            } else {
                Evaluation::Pending {
                    expected: format!(
                        "{where_} to be, all of it (every line), a match of /{pattern}/"
                    ),
                    seen: format!("{seen_len} bytes: {}", excerpt(&head)),
                }
            }
        }
        OutputExpectation::AfterLabel(payload) => {
            let head = capture.head(payload.len() as usize + CONTAINS_SLACK + 1);
            match super::after_label::judge(&head, &payload.bytes(), seen_len) {
                Ok(()) => Evaluation::Holds { settle: true },
                Err(seen) => Evaluation::Pending {
                    expected: format!(
                        "{where_} to be {}, with at most a label before it on its line, and nothing after it but line ends",
                        if payload.len() <= 80 {
                            excerpt(&payload.bytes())
                        } else {
                            payload.describe()
                        }
                    ),
                    seen,
                },
            }
        }
        OutputExpectation::NeverInClear { server, password } => {
            let connections = facts
                .record(server)
                .and_then(ProtocolRecord::in_clear)
                .unwrap_or_default();
            let password = facts.password_in_use(password);
            if let Err((expected, seen)) = super::clear_text::judge(&connections, &password) {
                return Err(StepFailure::fail(format!("{where_}: {expected}"), seen));
            }
            if !connections.is_empty() && connections.iter().all(|connection| connection.ended) {
                Evaluation::Holds { settle: false }
            } else {
                // A client may still be talking (or not have connected): watch on.
                Evaluation::SoFarSoGood
            }
        }
        OutputExpectation::Contains(payload) => {
            let wanted = payload.bytes();
            // Where it can be: a label or a prompt before it, little more.
            let head = capture.head(wanted.len() + CONTAINS_SLACK);
            let found = wanted.is_empty()
                || head
                    .windows(wanted.len())
                    .any(|window| window == wanted.as_slice());
            if found {
                Evaluation::Holds { settle: false }
            } else {
                Evaluation::Pending {
                    expected: format!("{where_} to contain {}", payload.describe()),
                    seen: format!("{seen_len} bytes: {}", excerpt(&head)),
                }
            }
        }
        OutputExpectation::Excludes(payload) => {
            let unwanted = payload.bytes();
            if let Some(at) = find_in_capture(capture, &unwanted) {
                return Err(StepFailure::fail(
                    format!("{where_} never to contain {}", payload.describe()),
                    format!("it does, at byte {at}: {}", excerpt(&unwanted)),
                ));
            }
            if is_final {
                Evaluation::Holds { settle: false }
            } else {
                Evaluation::SoFarSoGood
            }
        }
        OutputExpectation::Protocol(expectation) => {
            expectation.evaluate(facts, where_, capture, is_final)?
        }
        OutputExpectation::Connections { server, count } => {
            let accepted = facts.connections_accepted(server);
            let expected = format!("{server} to accept exactly {count} connection(s)");
            if accepted > *count {
                return Err(StepFailure::fail(
                    expected,
                    format!("{accepted} connections"),
                ));
            }
            if accepted < *count {
                Evaluation::Pending {
                    expected,
                    seen: format!("{accepted} connection(s)"),
                }
            } else {
                // Exactly so far: watch until the deadline for one more.
                Evaluation::SoFarSoGood
            }
        }
        OutputExpectation::Empty => {
            if seen_len > 0 {
                // `what sink received`, or a program's `client's stdout`.
                let nothing = if where_.starts_with("what ") {
                    format!("not one byte in {where_}")
                } else {
                    format!("nothing on {where_}")
                };
                return Err(StepFailure::fail(
                    nothing,
                    format!("{seen_len} bytes: {}", excerpt(&capture.head(400))),
                ));
            }
            // Nothing yet: keep watching until the program ends or the deadline.
            if is_final {
                Evaluation::Holds { settle: false }
            } else {
                Evaluation::SoFarSoGood
            }
        }
        OutputExpectation::PastItsStart { program } => {
            // Decided once the stream has ended: what the program printed on stdout may
            // still be on its way when a sign shows on stderr.
            if !is_final {
                return Ok(Evaluation::SoFarSoGood);
            }
            if !facts.printed_on_stdout(program)
                && let Some((line, shows)) =
                    run_record::started::stopped_at_start(&capture.head(64 * 1024))
            {
                return Err(StepFailure::fail(
                    format!(
                        "{where_} to show the program got past its start, to meet what this scenario is about"
                    ),
                    format!("it stopped before: {shows}: {}", excerpt(line.as_bytes())),
                ));
            }
            Evaluation::Holds { settle: false }
        }
        OutputExpectation::NotEmpty => {
            if seen_len > 0 {
                Evaluation::Holds { settle: false }
            } else {
                Evaluation::Pending {
                    expected: format!("something on {where_}"),
                    seen: "nothing".into(),
                }
            }
        }
    })
}
