//! # The record of a grading run
//!
//! What the harness's engine writes and its reporters read: a run is a stream of
//! [`events`], and each scenario's verdict carries its [`outcome`] whole (the step log,
//! the programs' output and how they ended, the [`transcript`] of what the harness's
//! sockets moved, the [`wire`] its packet capture is synthesized from). A run recorded
//! with `--record` is these types as JSON lines, so a reporter (the `harness-reports`
//! crate) is written and tested against recorded runs alone: this crate knows nothing of
//! how scenarios are run.
//!
//! ## Layout
//!
//! From the bottom up, each module using only those above it:
//!
//! - Plumbing: [`escape`] (the one function that escapes control characters of text from
//!   a submission wherever it is shown), [`encoding`] (durations and bytes in recorded
//!   JSON), [`hash`] (a stable hash of names, for seeds), [`language`] (which language a
//!   program is written in, for hints), [`diff`] (the
//!   diffs and excerpts that show bytes), [`started`] (the signs on a program's stderr
//!   that it stopped at its start: a usage error, a file that does not compile).
//! - [`wire`]: what the harness's sockets moved, connection by connection; [`pcap`]:
//!   packets synthesized from it; [`transcript`]: the same told for the report, entry by
//!   entry, with timings (the harness's peers write both while a scenario runs).
//! - [`exit`]: how a program ended (status or signal, peak memory, why the harness
//!   stopped it).
//! - [`outcome`]: what one scenario produced: verdict, failure, step log, programs'
//!   output.
//! - [`repeat`]: `--repeat N`, what every repetition of a scenario did; [`events`]: what a
//!   run tells its reporters, in order, and the recorded format's version.

pub mod crash;
pub mod diff;
pub mod encoding;
pub mod escape;
pub mod events;
pub mod exit;
pub mod hash;
pub mod language;
pub mod outcome;
pub mod pcap;
pub mod repeat;
pub mod started;
pub mod transcript;
pub mod wire;
