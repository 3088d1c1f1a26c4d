//! What the engine is asked to do by the steps and checks that drive it: start a program
//! ([`StartRequest`]), watch a stream of bytes ([`Watched`]). In a file of its own so that
//! the checks can name them without depending on the engine (see
//! `crate::checks::CheckContext`).

use std::collections::BTreeMap;

use crate::payload::Payload;
use crate::scenario::{Endpoint, OutputStream, PortChoice};

/// What to start: the `start` step's fields (the `peak-memory` check starts programs too).
pub(crate) struct StartRequest<'s> {
    /// The role whose program runs.
    pub role: &'s str,
    /// Its name in the scenario.
    pub name: &'s str,
    /// What its stdin holds (none: empty).
    pub stdin: Option<Payload>,
    /// A fresh port, or one already in use.
    pub port: PortChoice,
    /// For a client: what `{host}` and `{port}` point at.
    pub to: Option<&'s Endpoint>,
    /// Words appended to its command line.
    pub extra_args: &'s [String],
    /// The most it may print on stdout or stderr.
    pub output_cap: u64,
    /// Cut the program's own socket calls short (see `crate::faults::short_calls`).
    pub short_calls: Option<crate::faults::short_calls::ShortCalls>,
    /// Values of the role's own placeholders (`with = { password = "..." }`).
    pub with: &'s BTreeMap<String, String>,
    /// Keep its stdin open after the payload, until `close_stdin`.
    pub hold_stdin: bool,
}

/// Bytes a step watches: a program's output stream, or what a harness peer received.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Watched<'n> {
    Output { name: &'n str, stream: OutputStream },
    Received { name: &'n str },
}
