//! What the steps and checks ask of the engine that runs them: start a program
//! ([`StartRequest`], with its [`PortChoice`] and the [`Endpoint`] a client is pointed at),
//! watch a stream of bytes ([`Watched`]). The engine implements the contexts that take
//! them (`crate::steps::StepContext`, `crate::protocols::checks::CheckContext`); below
//! the steps and the protocol packs alike, since a pack's checks ask them too.

use std::collections::BTreeMap;

use crate::payload::Payload;
use crate::world::capture::OutputStream;

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

/// Which port a started program gets as `{port}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PortChoice {
    /// A free port chosen by the harness.
    Fresh,
    /// A port the harness holds a listening socket on: binding it must fail.
    Busy,
}

/// What a client program is pointed at (`{host}` and `{port}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A started program or a relay, by name.
    Named(String),
    /// A port nothing listens on.
    Unused,
}
