//! # The harness: plays lab scenarios against any program and reports like a conformance suite
//!
//! ## Layout
//!
//! Each top-level module answers one question, and uses only the modules listed above it
//! (`tests/suite/architecture.rs` checks that no file, and no top-level module, imports
//! itself back). From the bottom up:
//!
//! The record of a run (events, outcomes, transcripts' entries, the wire and its captures,
//! how a program ended, the diffs that show bytes) is a crate of its own, `run-record`
//! (`harness/record`), which knows nothing of how scenarios are run; the harness re-exports
//! its modules under the names they have here ([`escape`], [`encoding`], [`language`],
//! [`wire`], [`pcap`], [`repeat`], [`events`]; [`outcome`], [`transcript`], `judge::diff`
//! and `world::real::process`'s exit types from within the modules that add the engine's
//! side).
//!
//! - **Plumbing**: [`escape`] (the one function that escapes control characters of text
//!   from a submission wherever it is shown), [`error`] (the harness's own errors,
//!   `file:line` positions), [`beneath`] (a file a program left in its folder, opened
//!   without following a link or leaving the folder), [`encoding`]
//!   (durations and bytes in recorded JSON), [`payload`] (the bytes scenarios send and
//!   expect: files, literals, generated streams), [`language`] (which language a program
//!   is written in, for hints),
//!   [`site`] (the served folder of `{dir}`), [`catalogue`] (`scenarios/tasks.toml`: every
//!   task, its roles and their command lines), [`spec`] (`scenarios/SPEC.md`, the contract:
//!   every task's command lines and clauses, read from the page itself).
//! - [`wire`]: what the harness's sockets moved, connection by connection; [`transcript`]:
//!   the same told for the report, entry by entry, with timings (below the peers that
//!   write it and the judges and reports that read it); [`faults`]:
//!   *what goes wrong on purpose*: seeded slice plans (short reads and writes, delays),
//!   datagram loss, the short-call library; [`pcap`]: packets synthesized from the wire.
//! - [`world`]: *where it runs*: the real world (processes in their sandbox, the `sandbox`
//!   crate, and network
//!   namespace with its small internet, readiness read from `/proc`, ports, cleanup) or the
//!   simulated one (turmoil hosts running the reference); the harness's own sockets in
//!   either; programs' captured output, without the prompts a manifest names. [`target`]:
//!   *whose programs*: a submission folder
//!   (`submission.toml` or `<task>-<role>` by convention) or the reference binaries.
//!   [`tls`]: the test CA, and a certificate for any name a client asks for.
//!   [`temporary`]: the harness's temporary folders, named after their process, gone when
//!   it ends however it ends (a dead run's, at the next run's start).
//!   [`settings`]: *with what*: a run's settings (the sandbox's layers and memory cap, a
//!   network namespace per scenario or a shared loopback, each pack's choice such as
//!   `--mysql`), a value handed down through grading rather than process-wide statics.
//! - [`peers`]: *who is on the other end*: the harness as a client, a relay, a datagram
//!   sender, and the server client programs talk to, speaking the scenario's bytes or a
//!   protocol of a pack (`protocols`) through the traits it plugs in; the DNS inside every
//!   scenario (`peers::dns`), the stand-in at a client's hard-coded or well-known ports.
//! - [`requests`] and [`waiting`]: what steps and checks ask of the engine (start a program,
//!   watch a stream) and how they wait for programs (looking again, stopping when nothing
//!   can change, deadlines net of the programs' waits for a processor): below the packs'
//!   checks and the steps alike.
//! - [`outcome`]: *what a scenario produced*: verdict, failure, step log, programs' output.
//!   [`judge`]: *is it right*: the comparisons (byte streams: exact, any order, contains,
//!   excludes, regex, after a label; one reply line: exact, prefix, regex, number, status
//!   code; an exit status; a password in clear, from any protocol's record), with one
//!   entry point for streams (`judge::output`) and the diffs that show a mismatch.
//! - [`protocols`]: the protocol packs, one folder each (`protocols::REGISTRY` lists them,
//!   one line each): a protocol's server peer, the shape of its options, its record of what
//!   happened, its judges, its checks (the harness as the client of a submitted server,
//!   written against `protocols::checks`); one registry line each. Above `peers` and
//!   `judge`, whose generic parts each pack builds on.
//! - [`steps`]: *how each step is written and run*: every step action is one file (its
//!   TOML shape, its name checks, its description, its run against the small
//!   [`steps::StepContext`] the engine provides), listed in one registry; the built-in
//!   checks a flat list of steps cannot say ([`steps::checks`]: peak memory and a real
//!   browser, and the packs' own, such as ping loss, an SMTP dialogue, a real mail
//!   library), run by the `check` step.
//! - [`scenario`]: *what to check*: the scenario model, the loader of `scenarios/*/*.toml`
//!   (errors say `file:line: reason`), selection by id glob, the JSON Schema.
//! - [`engine`]: runs one scenario's steps in either world and produces its
//!   [`outcome::Outcome`]; [`simulation`] runs one in the simulated world.
//! - [`grading`] runs a target's selected scenarios one after another or `--jobs` at a time
//!   (reported in id order either way), each as many times as [`repeat`] says (`--repeat
//!   N`, which finds flaky verdicts); [`events`]: what a run tells its reporters, in order;
//!   [`batch`] grades several submissions.
//! - [`report`]: *what the user sees*: terminal, JSON, JUnit, Gradescope, HTML, packet
//!   capture files, record and replay, scores, explanations. [`questions`]: `harness
//!   questions`, the handouts' lab questions answered by experiment; [`bench`]: `harness
//!   bench`, message transfers timed as whole processes beside the reference, `nc` and
//!   `socat`.
//! - [`cli`]: the command line, thin. Exit codes are [`EXIT_PASS`], [`EXIT_FAIL`],
//!   [`EXIT_HARNESS_ERROR`].

// The machine's calls that need `unsafe` are the `harness-machine` crate's, behind safe
// functions; the harness itself has none.
#![forbid(unsafe_code)]

pub mod batch;
pub mod bench;
pub use harness_machine::beneath;
pub mod catalogue;
pub mod cli;
pub mod engine;
pub mod error;
pub mod faults;
pub mod grading;
pub mod judge;
pub mod outcome;
pub mod package;
pub mod payload;
pub mod peers;
pub mod protocols;
pub mod questions;
pub mod requests;
pub mod scenario;
pub mod settings;
pub mod simulation;
pub mod site;
pub mod spec;
pub mod steps;
pub mod tally;
pub mod target;
pub mod temporary;
pub mod tls;
pub mod transcript;
pub mod tree;
pub mod waiting;
pub mod world;

// The record of a run (the `run-record` crate): what the engine writes and the reports
// read, under the names the harness's modules have always used.
pub use run_record::{encoding, escape, events, language, pcap, repeat, wire};
// What the user sees (the `harness-reports` crate): the reporters of that record alone.
pub use harness_reports as report;

pub use error::{Error, Result};

/// Exit status: every scenario that ran passed.
pub const EXIT_PASS: i32 = 0;
/// Exit status: at least one scenario failed (or timed out, or could not run its program).
pub const EXIT_FAIL: i32 = 1;
/// Exit status: the harness itself could not run (bad arguments, bad scenario file,
/// nothing to grade, reference build failed).
pub const EXIT_HARNESS_ERROR: i32 = 2;
