//! Protocol packs: who is on the other end of an application-protocol task, one folder
//! each.
//!
//! A pack holds everything one protocol needs, and nothing outside its folder names its
//! types (`tests/suite/architecture.rs` checks it):
//!
//! - its **peer**: the server a submission's client talks to, plugged into the generic
//!   server peer (`crate::peers::ProtocolScript`), which keeps what every protocol
//!   shares: transport, slicing, listening late, transcript, capture;
//! - the **shape of its options** in a scenario file: the key it takes on a `listen` step
//!   (`smtp = { starttls = true }`) and the expectations it adds to `expect_*` steps
//!   (`mail = { ... }`), each read with serde (unknown fields refused) and given to the
//!   scenario JSON Schema;
//! - its **record** of what happened (sessions, commands, pings: `crate::peers::ProtocolRecord`),
//!   including, if it carries passwords, what crossed in clear for `never_in_clear`; a pack
//!   that keeps one session per client connection (IMAP, POP3, SMTP, FTP) says only what
//!   a session of its protocol is (`sessions::Session`), and gets the rest from
//!   [`sessions`];
//! - its **judges**, which read that record (`crate::judge::output::ProtocolExpectation`)
//!   through [`record_of`], and for a session-keeping pack once every client is done
//!   (`sessions::once_over`);
//! - or, for a protocol whose server is the submission, its **client requests**: the key
//!   it takes on a `request` step (`xmlrpc = { call = "add", params = [2, 3], returns = 5 }`),
//!   loaded into the bytes to send and the judge of the answer ([`ClientRequest`]); the
//!   generic `request` step sends them on a harness connection and judges what comes back,
//!   so transcripts, captures and deadlines are the ones every connection has.
//!
//! [`REGISTRY`] lists the packs, one line each; `listen` and `expect_*` find a pack by the
//! key a step carries, and hold what it loaded as trait objects. Adding a protocol is a
//! folder here and a line there: the test pack `toy` (its folder, in tests only) proves it,
//! graded through the whole harness with nothing else changed.
//!
//! Why a room of its own rather than a folder under `crate::peers`: a pack's judges build
//! on the generic judges (`crate::judge`: diffs, evaluations, failures) and its peer on the
//! generic peers, so a pack sits above both; inside `peers` it would pull `peers` above
//! `judge` and turn the layers of `lib.rs` round. Steps, above, load packs by key.
//! (GreenMail keeps SMTP, IMAP and POP3 as sibling modules over one server core; ours
//! also carry their judges.)

mod accounts;
pub(crate) mod checks;
mod dns;
#[cfg(test)]
mod fixed_cases;
mod ftp;
mod http;
mod http_reader;
mod imap;
mod mailstore;
mod mysql;
mod ping;
mod pop3;
mod sessions;
mod smtp;
mod ssh;
mod starttls;
#[cfg(test)]
mod testing;
#[cfg(test)]
mod toy;
mod xmlrpc;

use accounts::Login;
/// The account model's limits, which `submission.toml`'s declared logins are checked
/// against when it is read.
pub(crate) use accounts::{LoginPart, login_refusal};

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use crate::judge::output::{Facts, ProtocolExpectation};
use crate::peers::{ProtocolScript, ReadUntil, Transport};
use crate::settings::{PackChoice, RunSettings};
use crate::world::capture::OutputStream;
use checks::CheckKind;

/// Every protocol pack, one line each.
pub(crate) const REGISTRY: &[Pack] = &[
    dns::PACK,
    ftp::PACK,
    http::PACK,
    imap::PACK,
    mysql::PACK,
    ping::PACK,
    pop3::PACK,
    smtp::PACK,
    ssh::PACK,
    xmlrpc::PACK,
    #[cfg(test)]
    toy::PACK,
];

/// One protocol: its key, its server peer's options, the expectations its judges add.
pub(crate) struct Pack {
    /// Its name (`smtp`), which `crate::steps::Names` records for each server peer that
    /// speaks it.
    pub(crate) key: &'static str,
    /// The server peer it plays on a `listen` step, if it has one.
    pub(crate) server: Option<ServerOptions>,
    /// What its judges add to `expect_stdout`, `expect_stderr` and `expect_received`.
    pub(crate) expectations: &'static [ExpectationKind],
    /// The checks it adds to `check` steps, where the harness is the client of a submitted
    /// server of its protocol (`ping-loss`).
    pub(crate) checks: &'static [CheckKind],
    /// The requests it makes as a client on a `request` step, if it is a client.
    pub(crate) client: Option<ClientOptions>,
    /// The run-wide choice it takes on the command line, if any (`--mysql real`).
    pub(crate) setting: Option<PackSetting>,
    /// The login its peer checks against the account, if any: which tasks log in to it,
    /// and what it cannot carry.
    pub(crate) login: Option<Login>,
}

/// A pack's run-wide choice, given on the command line as `--FLAG VALUE`: who plays its
/// peer (`--mysql real`: a real MariaDB rather than the pack's engine). The choice made is
/// a value of the run's settings (`crate::settings::RunSettings::pack_choices`), which
/// the pack reads back when it plays a scenario.
pub(crate) struct PackSetting {
    /// The flag, without its dashes.
    pub(crate) flag: &'static str,
    /// What `--help` says of it: a first sentence, then the rest (`--help` shows it all,
    /// `-h` up to the first period).
    pub(crate) help: &'static str,
    /// The name of its value in `--help` (`SERVER`).
    pub(crate) value_name: &'static str,
    /// The values it takes, the default first.
    pub(crate) values: &'static [&'static str],
    /// The tasks whose scenarios play the pack's peer: the default is chosen only for a run
    /// that may play one (a selected scenario of such a task, and a submission with a
    /// program for it), since choosing may take a while.
    pub(crate) tasks: &'static [&'static str],
    /// Makes the choice for a run (what `auto` comes to here, the header's line); `Err`
    /// says why it cannot be had here.
    pub(crate) choose: fn(&str) -> Result<PackChoice, String>,
}

/// Every pack's run-wide setting, in registry order: the command line's flags.
pub(crate) fn settings() -> impl Iterator<Item = &'static PackSetting> {
    REGISTRY.iter().filter_map(|pack| pack.setting.as_ref())
}

/// What the run's header says of every pack's choice made in `settings`, in registry
/// order.
pub(crate) fn setting_headers(settings: &RunSettings) -> Vec<String> {
    REGISTRY
        .iter()
        .filter_map(|pack| pack.setting.as_ref())
        .filter_map(|setting| settings.pack_choice(setting.flag))
        .map(|choice| choice.header.clone())
        .collect()
}

/// Makes the choice `--FLAG VALUE` for the pack whose setting `flag` is, to put in a
/// run's settings (`RunSettings::pack_choices`, by `flag`). It may take a while: `--mysql
/// auto` and `real` look for MariaDB and make its data folder.
pub fn choose_setting(flag: &str, value: &str) -> Result<PackChoice, String> {
    let setting = REGISTRY
        .iter()
        .filter_map(|pack| pack.setting.as_ref())
        .find(|setting| setting.flag == flag)
        .ok_or_else(|| format!("no protocol pack takes --{flag}"))?;
    if !setting.values.contains(&value) {
        return Err(format!(
            "--{flag} takes {}, not `{value}`",
            setting.values.join(" or ")
        ));
    }
    (setting.choose)(value).map_err(|why| format!("--{flag} {value}: {why}"))
}

/// A pack's client requests, as a `request` step asks for one: `xmlrpc = { ... }`.
pub(crate) struct ClientOptions {
    /// The key of its options on a `request` step.
    pub(crate) key: &'static str,
    /// Reads and checks the options: the request to send and the judge of its answer.
    pub(crate) load: fn(OptionsInput<'_, '_, ()>) -> Loaded<ClientRequest>,
    /// The options' shape, for the scenario JSON Schema.
    pub(crate) schema: fn(&mut schemars::SchemaGenerator) -> schemars::Schema,
}

/// One request a pack makes as a client, and how its answer is judged.
#[derive(Debug, Clone)]
pub(crate) struct ClientRequest {
    /// The request's bytes, whole.
    pub(crate) bytes: Arc<[u8]>,
    /// Where a request held half-sent stops (`pause = "mid-request"` on the step): for
    /// HTTP, the head and half the body.
    pub(crate) midway: usize,
    /// The judge of the answer, on what the connection received.
    pub(crate) answer: Arc<dyn ProtocolExpectation>,
    /// The request in words, for the step log: `add(2, 3) on /RPC2`.
    pub(crate) describe: String,
}

/// A pack's server peer, as a `listen` step asks for it: `smtp = { ... }`.
pub(crate) struct ServerOptions {
    /// The key of its options on a `listen` step.
    pub(crate) key: &'static str,
    /// Reads and checks the options (and that they go with the rest of the step).
    pub(crate) load: fn(OptionsInput<'_, '_, ListenShape>) -> Loaded<Arc<dyn ProtocolScript>>,
    /// The options' shape, for the scenario JSON Schema.
    pub(crate) schema: fn(&mut schemars::SchemaGenerator) -> schemars::Schema,
    /// Whether its record keeps what crossed in clear (`never_in_clear` can judge it).
    pub(crate) keeps_clear_text: bool,
}

/// An expectation a pack's judges give the `expect_*` steps: `mail = { ... }`.
pub(crate) struct ExpectationKind {
    /// Its key on the step.
    pub(crate) key: &'static str,
    /// Reads and checks it, against the stream it watches.
    pub(crate) load:
        fn(OptionsInput<'_, '_, ExpectationShape<'_>>) -> Loaded<Arc<dyn ProtocolExpectation>>,
    /// Its shape, for the scenario JSON Schema.
    pub(crate) schema: fn(&mut schemars::SchemaGenerator) -> schemars::Schema,
    /// Whether it can judge a program's stdout, which is judged whole (data: every line
    /// counts); `false` for one that looks at a part, as `contains` does.
    pub(crate) judges_whole_stdout: bool,
}

/// What loading a pack's options is given: their value (spans kept, for `file:line`
/// errors), the kit's root (payload files), and the step around them.
pub(crate) struct OptionsInput<'i, 's, Step> {
    pub(crate) value: toml::de::ValueDeserializer<'i>,
    pub(crate) kit_root: &'s Path,
    pub(crate) step: Step,
}

/// The rest of a `listen` step, which a protocol's options must go with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ListenShape {
    pub(crate) transport: Transport,
    /// A `reply` is given.
    pub(crate) reply: bool,
    /// `read_until` is given.
    pub(crate) read_until: Option<ReadUntil>,
    /// `slices` is given.
    pub(crate) slices: bool,
}

impl ListenShape {
    /// For a pack whose server speaks its own dialogue over TCP (`ftp`, `imap`, `pop3`):
    /// the generic peer's own scripting (`reply`, `read_until`, `slices`) does not go with
    /// it. `server` names it in the error: `an FTP server`.
    pub(crate) fn tcp_dialogue_only(&self, key: &str, server: &str) -> Result<(), LoadError> {
        if self.transport != Transport::Tcp
            || self.reply
            || self.read_until.is_some()
            || self.slices
        {
            return Err(format!(
                "`{key}` plays {server}: TCP, without `reply`, `read_until`, `slices` or `origin`"
            )
            .into());
        }
        Ok(())
    }
}

/// The stream an `expect_*` step watches, and the names defined so far.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExpectationShape<'a> {
    /// The program or harness peer watched.
    pub(crate) watched: &'a str,
    /// A program's stdout or stderr, or (none) what a harness peer received.
    pub(crate) stream: Option<OutputStream>,
    /// Every `listen` peer so far.
    pub(crate) servers: &'a BTreeSet<String>,
    /// The key of the pack each `listen` peer so far speaks (the others speak bytes).
    pub(crate) speaking: &'a BTreeMap<String, &'static str>,
}

impl ExpectationShape<'_> {
    /// The watched name, if it is a `listen` peer that speaks the pack `key` and the step
    /// watches what it received; else why the expectation `what` does not fit.
    pub(crate) fn server_speaking(&self, key: &str, what: &str) -> Result<String, String> {
        match (self.stream, self.speaking.get(self.watched)) {
            (None, Some(speaks)) if *speaks == key => Ok(self.watched.to_owned()),
            _ => Err(format!(
                "`{what}` judges what a `listen` peer with `{key}` received; `{}` is not one",
                self.watched
            )),
        }
    }
}

/// What loading options returns: serde's error keeps its place in the file.
pub(crate) type Loaded<T> = Result<T, LoadError>;

/// Why a step, or a pack's options in it, could not be loaded: serde's error (it knows
/// where in the file), or a reason about the options as a whole. One type for both: a
/// step hands its pack's part to the pack and passes the pack's error on as it is.
#[derive(Debug)]
pub(crate) enum LoadError {
    /// serde's error, which knows where in the file.
    Toml(toml::de::Error),
    /// A reason about the options as a whole.
    Invalid(String),
}

impl From<toml::de::Error> for LoadError {
    fn from(error: toml::de::Error) -> LoadError {
        LoadError::Toml(error)
    }
}

impl From<String> for LoadError {
    fn from(reason: String) -> LoadError {
        LoadError::Invalid(reason)
    }
}

impl From<&str> for LoadError {
    fn from(reason: &str) -> LoadError {
        LoadError::Invalid(reason.to_owned())
    }
}

/// The record the server peer `server` keeps, as its pack's own type `R`: what the pack's
/// judges read (none if `server` is not a peer of that pack). The one downcast every
/// pack's judges share.
pub(super) fn record_of<'f, R: 'static>(facts: &'f dyn Facts, server: &str) -> Option<&'f R> {
    facts
        .record(server)
        .and_then(|record| record.as_any().downcast_ref::<R>())
}

/// Every pack's server options: `(pack, options)`.
pub(crate) fn servers() -> impl Iterator<Item = (&'static Pack, &'static ServerOptions)> {
    REGISTRY
        .iter()
        .filter_map(|pack| pack.server.as_ref().map(|server| (pack, server)))
}

/// Every pack's client requests: `(pack, options)`.
pub(crate) fn clients() -> impl Iterator<Item = (&'static Pack, &'static ClientOptions)> {
    REGISTRY
        .iter()
        .filter_map(|pack| pack.client.as_ref().map(|client| (pack, client)))
}

/// Every pack's expectations: `(pack, expectation)`.
pub(crate) fn expectations() -> impl Iterator<Item = (&'static Pack, &'static ExpectationKind)> {
    REGISTRY
        .iter()
        .flat_map(|pack| pack.expectations.iter().map(move |kind| (pack, kind)))
}
