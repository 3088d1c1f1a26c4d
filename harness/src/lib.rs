//! # The harness: plays lab scenarios against any program and reports like a conformance suite
//!
//! ## Layout
//!
//! Each folder answers one question:
//!
//! - [`scenario`]: *what to check*: the scenario model, the loader of `scenarios/*/*.toml`
//!   (errors say `file:line: reason`), the task catalogue and selection by id glob.
//! - [`target`]: *whose programs*: a submission folder (`submission.toml` or `<task>-<role>`
//!   by convention) or the reference binaries.
//! - [`world`]: *how to run it*: the real world (child processes in their own process
//!   group, temporary directory, output caps, readiness read from `/proc`, ports).
//! - [`peers`]: *who is on the other end*: the harness as a client, a relay, and the
//!   servers client programs talk to (TCP/UDP script, ping server, HTTP origin, SMTP).
//! - [`tls`]: the harness's test CA, for peers that speak TLS.
//! - [`faults`]: *what goes wrong on purpose*: seeded slice plans (short writes, delays).
//! - [`payload`]: the bytes scenarios send and expect (files, literals, generated streams).
//! - [`outcome`]: *what a scenario produced*: verdict, failure, step log, programs' output;
//!   what every reporter and the event stream read, below the engine that fills it in.
//! - [`steps`]: step kinds, one file each (TOML shape, name checks, description, run
//!   against the engine's small context), listed in one registry: the conversation steps
//!   `say`, `expect_line`, `expect_quiet`, `crowd`, `wait_listening`, `expect_exit`,
//!   `stop`. The older actions are still read by the loader.
//! - `judge`: the comparisons steps make (byte streams: exact, any order, contains; one
//!   reply line: exact, prefix, regex, number, status code).
//! - [`engine`]: runs one scenario's steps and produces an [`outcome::Outcome`];
//!   [`grading`] runs a target's selected scenarios one after another or `--jobs` at a
//!   time (reported in id order either way), each as many times as [`repeat`] says
//!   (`--repeat N`, which finds flaky verdicts).
//! - [`checks`]: built-in checks a flat list of steps cannot say (peak memory).
//! - [`report`]: *what the user sees*: the terminal report.
//! - [`bench`]: `harness bench`: message transfers timed as whole processes, beside the
//!   reference, `nc` and `socat`.
//! - [`cli`]: the command line, thin; exit codes are [`EXIT_PASS`], [`EXIT_FAIL`],
//!   [`EXIT_HARNESS_ERROR`].

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
