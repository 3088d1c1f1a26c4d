//! `start = ROLE`: starts the submission's program of a role (as the task's catalogue
//! says how), in its own folder and process group, on a fresh port.
//!
//! ```toml
//! [[step]]
//! start = "client"
//! as = "c1"                 # its name in the scenario (default: the role)
//! to = "server"             # what `{host}` and `{port}` point at (or "unused")
//! stdin = { text = "hello\n" }
//! args = "--verbose"        # words appended to its command line
//! port = "busy"             # a port already in use (default: a fresh one)
//! output_cap_mib = 64       # the most it may print on stdout or stderr
//! short_calls = { ... }     # its own socket calls cut short (`crate::faults::short_calls`)
//! with = { password = "s3cret" }   # the role's own placeholders
//! hold_stdin = true         # stdin open after its payload, until `close_stdin`
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;

use super::{LoadError, LoadInput, StepAction, StepContext, StepFuture, StepKind};
use crate::faults::short_calls::ShortCalls;
use crate::payload::{Payload, PayloadSpec};
use crate::requests::StartRequest;
use crate::requests::{Endpoint, PortChoice};

pub(crate) const KIND: StepKind = StepKind {
    key: "start",
    load,
    schema: super::schema_of::<RawStart>,
};

/// Default cap on what a program may print on stdout or stderr (the guide says 64 MiB:
/// `harness/docs/guide/real-world.md`).
pub(crate) const DEFAULT_OUTPUT_CAP_MIB: u64 = 64;

/// The harness's own placeholders, which `with` cannot fill.
const HARNESS_PLACEHOLDERS: [&str; 5] = ["host", "port", "port2", "dir", "file"];

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawStart {
    start: String,
    #[serde(rename = "as")]
    name: Option<String>,
    stdin: Option<PayloadSpec>,
    port: Option<PortChoice>,
    to: Option<String>,
    args: Option<String>,
    output_cap_mib: Option<u64>,
    #[serde(rename = "with")]
    with_values: Option<BTreeMap<String, String>>,
    short_calls: Option<ShortCalls>,
    hold_stdin: Option<bool>,
}

/// A checked `start` step: what the program is started with.
#[derive(Debug, Clone)]
pub(crate) struct Start {
    pub(crate) role: String,
    /// Its name in the scenario.
    pub(crate) name: String,
    stdin: Option<Payload>,
    port: PortChoice,
    to: Option<Endpoint>,
    args: Vec<String>,
    output_cap: u64,
    /// Cut the program's own socket calls short (the `short-calls` library).
    pub(crate) short_calls: Option<ShortCalls>,
    /// Values of the role's own placeholders (`{password}` of `password-server`).
    pub(crate) with: BTreeMap<String, String>,
    /// Its stdin stays open after the payload, until a `close_stdin` step.
    pub(crate) hold_stdin: bool,
}

impl Start {
    /// The words its `args` append to its command line, placeholders unfilled.
    pub(crate) fn args(&self) -> &[String] {
        &self.args
    }

    /// The value its `args` give `option` (`--user alice` or `--user=alice`), if any.
    pub(crate) fn option_value(&self, option: &str) -> Option<&str> {
        self.args.iter().enumerate().find_map(|(at, word)| {
            if word == option {
                self.args.get(at + 1).map(String::as_str)
            } else {
                word.strip_prefix(option)?.strip_prefix('=')
            }
        })
    }
}

fn load(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let raw = RawStart::deserialize(input.table)?;
    let (context, task) = (input.names, input.task);
    let role = raw.start;
    if !task.roles.contains_key(&role) {
        let roles: Vec<&str> = task.roles.keys().map(String::as_str).collect();
        return Err(format!(
            "this task has no role `{role}` (roles: {})",
            roles.join(", ")
        )
        .into());
    }
    let name = raw.name.unwrap_or_else(|| role.clone());
    context.fresh(&name)?;
    let to = match raw.to.as_deref() {
        None => None,
        Some("unused") => Some(Endpoint::Unused),
        Some(target) => Some(Endpoint::Named(context.client_target(target)?)),
    };
    let args = match raw.args.as_deref() {
        None => Vec::new(),
        Some(words) => shell_words::split(words)
            .map_err(|error| format!("`args` is not a valid command line: {error}"))?,
    };
    let stdin = raw
        .stdin
        .map(|spec| spec.resolve(input.kit_root))
        .transpose()?;
    if let Some(short_calls) = &raw.short_calls {
        short_calls.validate()?;
    }
    let with = raw.with_values.unwrap_or_default();
    if let Some(key) = with
        .keys()
        .find(|key| HARNESS_PLACEHOLDERS.contains(&key.as_str()))
    {
        return Err(format!(
            "`with` fills the role's own placeholders (`{{password}}`, `{{name}}`); `{{{key}}}` is the harness's"
        )
        .into());
    }
    context.programs.insert(name.clone());
    Ok(Arc::new(StartStep {
        start: Start {
            role,
            name,
            stdin,
            port: raw.port.unwrap_or(PortChoice::Fresh),
            to,
            args,
            output_cap: raw.output_cap_mib.unwrap_or(DEFAULT_OUTPUT_CAP_MIB) << 20,
            short_calls: raw.short_calls,
            with,
            hold_stdin: raw.hold_stdin.unwrap_or(false),
        },
    }))
}

#[derive(Debug)]
struct StartStep {
    start: Start,
}

impl StepAction for StartStep {
    fn describe(&self) -> String {
        let start = &self.start;
        let mut text = format!("start {}", start.role);
        if !start.args.is_empty() {
            text += &format!(" with `{}`", start.args.join(" "));
        }
        if start.name != start.role {
            text += &format!(" as {}", start.name);
        }
        if start.port == PortChoice::Busy {
            text += " on a port already in use";
        }
        match &start.to {
            Some(Endpoint::Named(target)) => text += &format!(" pointed at {target}"),
            Some(Endpoint::Unused) => text += " pointed at a port nothing listens on",
            None => {}
        }
        if let Some(short_calls) = &start.short_calls {
            text += &format!(", {}", short_calls.describe());
        }
        if start.hold_stdin {
            text += ", its stdin kept open";
        }
        text
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        let start = &self.start;
        context.start_program(StartRequest {
            role: &start.role,
            name: &start.name,
            stdin: start.stdin.clone(),
            port: start.port,
            to: start.to.as_ref(),
            extra_args: &start.args,
            output_cap: start.output_cap,
            short_calls: start.short_calls,
            with: &start.with,
            hold_stdin: start.hold_stdin,
        })
    }

    fn roles(&self) -> &[String] {
        std::slice::from_ref(&self.start.role)
    }

    fn starts(&self) -> Option<&Start> {
        Some(&self.start)
    }

    fn real_only(&self) -> Option<String> {
        self.start
            .hold_stdin
            .then(|| "a stdin held open (`hold_stdin`) is real world only".to_owned())
    }
}
