//! # The harness: plays lab scenarios against any program and reports like a conformance suite
//!
//! ## Layout
//!
//! Each module answers one question:
//!
//! - [`scenario`]: *what to check*: the scenario model, the loader of `scenarios/*/*.toml`
//!   (errors say `file:line: reason`), the task catalogue, selection by id glob, and the
//!   scenario files' JSON Schema.
//! - [`steps`]: *how each step is written and run*: every step action is one file (its
//!   TOML shape, its name checks, its description, its run against the small
//!   [`steps::StepContext`] the engine provides), listed in one registry.
//! - [`checks`]: built-in checks a flat list of steps cannot say (peak memory, ping loss,
//!   a real browser, an SMTP dialogue, a real mail library), one file each and one registry;
//!   the `check` step runs them.
//! - `judge`: *is it right*: the comparisons below the engine (byte streams: exact, any
//!   order, contains, excludes, regex, after a label; one reply line: exact, prefix, regex,
//!   number, status code; HTTP responses; mail; ping reports; a password in clear), with
//!   one entry point for streams (`judge::output`).
//! - [`engine`]: runs one scenario's steps in either world and produces an
//!   [`outcome::Outcome`]; [`grading`] runs a target's selected scenarios one after another
//!   or `--jobs` at a time (reported in id order either way), each as many times as
//!   [`repeat`] says (`--repeat N`, which finds flaky verdicts); [`batch`] grades several
//!   submissions.
//! - [`target`]: *whose programs*: a submission folder (`submission.toml` or `<task>-<role>`
//!   by convention) or the reference binaries; [`companions`] builds the kit's helper
//!   crates on demand.
//! - [`world`]: *where it runs*: the real world (processes in their sandbox and network
//!   namespace, readiness read from `/proc`, ports, cleanup) or the simulated one (turmoil
//!   hosts running the reference); the harness's own sockets in either; captured output.
//! - [`peers`]: *who is on the other end*: the harness as a client, a relay, a datagram
//!   sender, and the server client programs talk to, speaking one protocol by its script
//!   (bytes, ping, HTTP origin, SMTP); the transcript of every exchange.
//! - [`faults`]: *what goes wrong on purpose*: seeded slice plans (short reads and writes,
//!   delays), datagram loss, the short-call library.
//! - [`payload`]: the bytes scenarios send and expect (files, literals, generated streams);
//!   [`site`]: the served folder of `{dir}`; [`tls`]: the harness's test CA.
//! - [`outcome`]: *what a scenario produced*: verdict, failure, step log, programs' output;
//!   [`events`]: what a run tells its reporters, in order.
//! - [`report`]: *what the user sees*: terminal, JSON, JUnit, Gradescope, HTML, captures,
//!   record and replay, scores, explanations; [`pcap`] synthesizes the captures;
//!   [`encoding`] writes durations and bytes into recorded JSON.
//! - [`questions`]: `harness questions`: the handouts' lab questions, answered by
//!   experiment; [`bench`]: `harness bench`: message transfers timed as whole processes,
//!   beside the reference, `nc` and `socat`.
//! - [`cli`]: the command line, thin; [`error`]: the harness's own errors; exit codes are
//!   [`EXIT_PASS`], [`EXIT_FAIL`], [`EXIT_HARNESS_ERROR`].
//!
//! No file imports itself back through others (`tests/suite/architecture.rs` checks it).

pub mod batch;
pub mod bench;
pub mod checks;
pub mod cli;
pub mod companions;
pub mod encoding;
pub mod engine;
pub mod error;
pub mod events;
pub mod faults;
pub mod grading;
pub(crate) mod judge;
pub mod outcome;
pub mod payload;
pub mod pcap;
pub mod peers;
pub mod questions;
pub mod repeat;
pub mod report;
pub mod scenario;
pub mod site;
pub mod steps;
pub mod target;
pub mod tls;
pub mod world;

pub use error::{Error, Result};

/// Exit status: every scenario that ran passed.
pub const EXIT_PASS: i32 = 0;
/// Exit status: at least one scenario failed (or timed out, or could not run its program).
pub const EXIT_FAIL: i32 = 1;
/// Exit status: the harness itself could not run (bad arguments, bad scenario file,
/// nothing to grade, reference build failed).
pub const EXIT_HARNESS_ERROR: i32 = 2;
