//! Steps as types, one file per action: its TOML shape (serde, unknown fields refused), the
//! names it checks, its description for the log, and how it runs against the small
//! [`StepContext`] the engine gives it. [`REGISTRY`] lists them; the loader hands a step to
//! the kind whose key it carries.
//!
//! Here: the conversation steps ([`say`] sends the next turn on a kept connection,
//! `say_until` sends it again until another connection hears it, [`expect_line`] judges
//! the next line a connection or a program's stdout received, `expect_no_line` the lines
//! so far, [`expect_quiet`] requires a stream to stay silent for a while), the crowds
//! ([`crowd`] has many clients answered at once, `room_crowd` fills a chat room,
//! `direct_crowd` has many users message each other; `members` are their clients), the
//! connection steps (`connect`, `relay`, `send_datagram`, `close`, `wait`), the network
//! steps (`partition`, `add_interface`) and the program steps (`wait_listening`,
//! [`expect_exit`], `expect_reached`, `expect_running`, `expect_files`, `expect_connect_rate`,
//! `expect_interfaces`, `stop`), the byte-stream expectations (`expect_stdout`,
//! `expect_stderr`, `expect_received`, judged by `crate::judge::output`), and `check`,
//! which runs one of the built-in checks ([`checks`]), `listen`, the harness as a
//! server speaking the scenario's bytes or a protocol by a script, `request` and
//! `resume`, the harness as a client of a protocol pack (an XML-RPC call), and `start`, a
//! program of the submission.

mod check;
pub mod checks;
mod close;
mod close_stdin;
mod connect;
mod context;
pub(crate) mod crowd;
mod direct_crowd;
pub mod expect_closed;
mod expect_connect_rate;
pub mod expect_exit;
mod expect_files;
pub(crate) mod expect_line;
mod expect_no_line;
mod expect_output;
pub(crate) mod expect_quiet;
mod expect_reached;
mod expect_running;
mod interfaces;
mod listen;
mod members;
mod memory;
mod names;
mod pack_request;
mod partition;
mod relay;
mod room_crowd;
pub(crate) mod say;
mod say_until;
mod send_datagram;
pub(crate) mod start;
mod stop;
mod wait;
mod wait_listening;

use std::fmt::Debug;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

pub(crate) use crate::waiting::{Deadline, POLL, pause, wait_in_vain};
pub(crate) use context::{Peers, Programs, StepContext, Streams};
pub(crate) use names::Names;

use crate::faults::SlicePlan;
use crate::outcome::StepResult;
use crate::settings::RunSettings;

/// Default deadline of a waiting step.
pub(crate) const DEFAULT_WITHIN_MS: u64 = 5_000;

/// What a step's run returns, boxed: steps are values behind `dyn`.
pub(crate) type StepFuture<'a> = Pin<Box<dyn Future<Output = StepResult> + Send + 'a>>;

/// A checked step of a kind of this folder, as the scenario model holds it.
#[derive(Debug, Clone)]
pub struct Registered(pub(crate) Arc<dyn StepAction>);

impl Registered {
    /// A one-line description for the step log of a run with `settings`.
    pub fn describe(&self, settings: &RunSettings) -> String {
        self.0.describe_in_run(settings)
    }
}

/// A checked step, ready to run.
pub(crate) trait StepAction: Debug + Send + Sync {
    /// One line for the step log (`-v`) and the report: what the step does.
    fn describe(&self) -> String;
    /// [`StepAction::describe`] as a run with `settings` plays the step: the same line
    /// unless who plays it depends on the run (a pack's server under `--mysql real`).
    fn describe_in_run(&self, settings: &RunSettings) -> String {
        let _ = settings;
        self.describe()
    }
    /// Runs the step against the scenario's running state.
    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a>;
    /// Whether the step is still judged when an earlier step failed, its own failure then
    /// reported first (a security finding: `expect_files` with `after_a_failure`).
    fn judged_after_a_failure(&self) -> bool {
        false
    }
    /// Whether the step exists only in the simulated world (a partition of its network).
    fn simulated_only(&self) -> bool {
        false
    }
    /// Why the step cannot run in the simulated world, if it cannot.
    fn real_only(&self) -> Option<String> {
        None
    }
    /// Why a run with `settings` cannot play the step at all, if it cannot (a protocol
    /// pack's setting: see `crate::peers::ProtocolScript::unplayable`).
    fn unplayable(&self, settings: &RunSettings) -> Option<String> {
        let _ = settings;
        None
    }
    /// Whether the step has the harness speak TLS (a mail server offering STARTTLS): the
    /// scenario's programs are then told to trust the harness's test CA.
    fn offers_tls(&self) -> bool {
        false
    }
    /// What the step starts, if it is a `start` step.
    fn starts(&self) -> Option<&start::Start> {
        None
    }
    /// The roles the step starts programs of (a submission needs them for the scenario).
    fn roles(&self) -> &[String] {
        &[]
    }
    /// The program whose stdout the step judges, and how (`expect_stdout`): what is already
    /// wrong there is said when that program is still running where it should have ended,
    /// before the step is reached.
    fn judges_stdout(&self) -> Option<(&str, &crate::judge::output::OutputExpectation)> {
        None
    }
}

/// Some bytes of a stream a step watches, and whether more can come.
#[derive(Debug)]
pub(crate) struct StreamView {
    /// The bytes from the offset asked, at most the limit asked.
    pub(crate) bytes: Vec<u8>,
    /// Why no more will come (`the program closed c1's connection`), if none will.
    pub(crate) ended: Option<String>,
    /// Why nothing more can come although the stream is still open (every program is
    /// blocked for good: see `crate::engine::stillness`), if nothing can.
    pub(crate) still: Option<String>,
}

/// Why a step could not be loaded (the type its pack's options share).
pub(crate) use crate::protocols::LoadError;

/// What loading a step is given: its table, the names earlier steps defined, and the root
/// that payload files are found from.
pub(crate) struct LoadInput<'i, 'n> {
    pub(crate) table: toml::de::ValueDeserializer<'i>,
    /// The same table as parsed, spans kept: a step whose keys include a protocol
    /// pack's hands the pack its part ([`split_off`]).
    pub(crate) raw: toml::Spanned<toml::de::DeValue<'i>>,
    pub(crate) names: &'n mut Names,
    pub(crate) kit_root: &'n Path,
    /// The task the scenario belongs to (its roles).
    pub(crate) task: &'n crate::catalogue::TaskInfo,
}

/// Takes the values of `keys` (a protocol pack's) out of a step's table, each with its
/// spans, to be read by its pack; the rest is read into the step's own shape, which
/// refuses any key it does not know.
pub(crate) fn split_off<'i>(
    mut raw: toml::Spanned<toml::de::DeValue<'i>>,
    keys: &[&'static str],
) -> (
    toml::de::ValueDeserializer<'i>,
    Vec<(&'static str, toml::de::ValueDeserializer<'i>)>,
) {
    let mut taken = Vec::new();
    if let toml::de::DeValue::Table(table) = raw.get_mut() {
        for &key in keys {
            let found = table
                .keys()
                .find(|name| name.get_ref().as_ref() == key)
                .cloned();
            if let Some(value) = found.and_then(|found| table.remove(&found)) {
                taken.push((key, toml::de::ValueDeserializer::from(value)));
            }
        }
    }
    (toml::de::ValueDeserializer::from(raw), taken)
}

/// One kind of step: the key that names its action in a `[[step]]`, and its loader.
pub(crate) struct StepKind {
    pub(crate) key: &'static str,
    pub(crate) load: fn(LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError>,
    /// Its TOML shape as a JSON Schema (a part of `harness/schema/scenario.schema.json`).
    pub(crate) schema: fn(&mut schemars::SchemaGenerator) -> schemars::Schema,
}

/// The JSON Schema of the type a kind's table is read into: [`StepKind::schema`].
pub(crate) fn schema_of<T: schemars::JsonSchema>(
    generator: &mut schemars::SchemaGenerator,
) -> schemars::Schema {
    generator.subschema_for::<T>()
}

/// The schema of the step type `definition` (`shape`, already generated), with each
/// pack's options (`(key, schema)`) as a property of its own: `listen` takes the server
/// packs' options, `request` the client packs'.
pub(crate) fn with_pack_options(
    generator: &mut schemars::SchemaGenerator,
    shape: schemars::Schema,
    definition: &str,
    packs: Vec<(&str, serde_json::Value)>,
) -> schemars::Schema {
    if let Some(properties) = generator
        .definitions_mut()
        .get_mut(definition)
        .and_then(|definition| definition.get_mut("properties"))
        .and_then(serde_json::Value::as_object_mut)
    {
        for (key, options) in packs {
            properties.insert(key.to_owned(), options);
        }
    }
    shape
}

/// Every step kind that lives in this folder.
pub(crate) const REGISTRY: &[StepKind] = &[
    start::KIND,
    listen::KIND,
    expect_output::STDOUT,
    expect_output::STDERR,
    expect_output::RECEIVED,
    check::KIND,
    wait_listening::KIND,
    connect::KIND,
    relay::KIND,
    send_datagram::KIND,
    close::KIND,
    close_stdin::KIND,
    memory::KIND,
    wait::KIND,
    partition::PARTITION,
    partition::REPAIR,
    expect_exit::KIND,
    expect_closed::KIND,
    expect_running::KIND,
    expect_connect_rate::KIND,
    expect_reached::KIND,
    interfaces::ADD,
    interfaces::EXPECT,
    expect_files::KIND,
    stop::KIND,
    say::KIND,
    say_until::KIND,
    expect_line::KIND,
    expect_no_line::KIND,
    expect_quiet::KIND,
    crowd::KIND,
    room_crowd::KIND,
    direct_crowd::KIND,
    pack_request::REQUEST,
    pack_request::RESUME,
];

/// The kind of the step action named `action`, if it is one of this folder's.
pub(crate) fn kind_of(action: &str) -> Option<&'static StepKind> {
    REGISTRY.iter().find(|kind| kind.key == action)
}

/// A slice plan as given (checked), or whole writes when none is.
pub(crate) fn checked_plan(plan: Option<SlicePlan>) -> Result<SlicePlan, String> {
    let plan = plan.unwrap_or(SlicePlan::WHOLE);
    plan.validate()?;
    Ok(plan)
}

/// How many failed clients a crowd's failure lists.
const SHOWN_FAILURES: usize = 3;

/// A crowd step's failure: `3 of 200 clients failed: first; second; third` (`of` is
/// what follows "of": `200 clients failed`).
pub(crate) fn crowd_failure(failures: &[String], of: String) -> String {
    let shown: Vec<&str> = failures
        .iter()
        .take(SHOWN_FAILURES)
        .map(String::as_str)
        .collect();
    format!("{} of {of}: {}", failures.len(), shown.join("; "))
}

/// The deadline `within_ms` asks for, or the default.
pub(crate) fn within(within_ms: Option<u64>) -> Duration {
    Duration::from_millis(within_ms.unwrap_or(DEFAULT_WITHIN_MS))
}
