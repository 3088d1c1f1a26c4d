//! `expect_stdout = NAME`, `expect_stderr = NAME`, `expect_received = NAME`: a stream of
//! bytes judged as it arrives against one expectation (`crate::judge::output`): a program's
//! stdout (judged whole, and once more when the scenario's steps are over: stdout is data)
//! or stderr, or what a harness connection or server peer received.
//!
//! ```toml
//! [[step]]
//! expect_stdout = "server"
//! equals_sent = ["c1"]
//! within_ms = 5000
//! ```
//!
//! The expectations: `equals`, `contains`, `excludes`, `equals_sent`, `any_order_of_sent`,
//! `matches`, `after_label`, `empty`, `not_empty` on any stream; `past_its_start` on a
//! program's stderr (see `crate::judge::started`); `connections` and
//! `never_in_clear` on what a server peer received; and those of the protocol packs
//! (`crate::protocols`), each read and judged by its pack: `http` on what a connection
//! received, `commands` and `mail` on what a mail server peer received, `ping_report` on
//! a ping client's stdout. `since = c1` (on `expect_received`) counts `within_ms` from
//! c1's connection.

use std::sync::Arc;
use std::time::Duration;

use regex::bytes::Regex;
use schemars::JsonSchema;
use serde::Deserialize;

use super::{LoadError, LoadInput, StepAction, StepContext, StepFuture, StepKind};
use crate::judge::output::OutputExpectation;
use crate::payload::PayloadSpec;
use crate::requests::Watched;
use crate::world::capture::OutputStream;

/// The longest payload `contains` looks for (it is held in memory).
pub(crate) const MAX_CONTAINED: u64 = 1 << 20;

/// The three actions of this file: a program's stdout, its stderr, what a peer received.
const ACTIONS: [&str; 3] = ["expect_stdout", "expect_stderr", "expect_received"];

pub(crate) const STDOUT: StepKind = StepKind {
    key: ACTIONS[0],
    load,
    schema: |generator| shape_of(generator, ACTIONS[0]),
};

pub(crate) const STDERR: StepKind = StepKind {
    key: ACTIONS[1],
    load,
    schema: |generator| shape_of(generator, ACTIONS[1]),
};

pub(crate) const RECEIVED: StepKind = StepKind {
    key: ACTIONS[2],
    load,
    schema: |generator| shape_of(generator, ACTIONS[2]),
};

// The three share one shape; each kind's schema names its own action only (`shape_of`).
// The protocol packs' expectations are read by their packs (`split_off`).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    expect_stdout: Option<String>,
    expect_stderr: Option<String>,
    expect_received: Option<String>,
    equals: Option<PayloadSpec>,
    contains: Option<PayloadSpec>,
    excludes: Option<PayloadSpec>,
    equals_sent: Option<Vec<String>>,
    any_order_of_sent: Option<Vec<String>>,
    matches: Option<String>,
    empty: Option<bool>,
    not_empty: Option<bool>,
    past_its_start: Option<bool>,
    within_ms: Option<u64>,
    since: Option<String>,
    connections: Option<u64>,
    after_label: Option<PayloadSpec>,
    never_in_clear: Option<RawNeverInClear>,
}

/// [`RawExpect`]'s schema for the action `key`, with the packs' expectations: the other
/// two actions are not its keys, and its own is required.
fn shape_of(generator: &mut schemars::SchemaGenerator, key: &str) -> schemars::Schema {
    let mut shape = RawExpect::json_schema(generator);
    let packs: Vec<(&str, serde_json::Value)> = crate::protocols::expectations()
        .map(|(_, kind)| (kind.key, (kind.schema)(generator).to_value()))
        .collect();
    if let Some(properties) = shape
        .get_mut("properties")
        .and_then(serde_json::Value::as_object_mut)
    {
        properties.retain(|name, _| name == key || !ACTIONS.contains(&name.as_str()));
        for (name, expectation) in packs {
            properties.insert(name.to_owned(), expectation);
        }
    }
    shape.insert("required".into(), serde_json::json!([key]));
    let description = match key {
        "expect_stdout" => {
            "A program's stdout, judged whole as it arrives, and once more when the steps are over (stdout is data)."
        }
        "expect_stderr" => "A program's stderr, judged as it arrives.",
        _ => "What a harness connection or server peer received, judged as it arrives.",
    };
    shape.insert("description".into(), serde_json::json!(description));
    shape
}

/// `never_in_clear = { password = "s3cret" }`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawNeverInClear {
    password: String,
}

/// A checked expectation on one stream.
#[derive(Debug)]
struct ExpectOutput {
    name: String,
    /// A program's stream, or (none) what the harness's connection or server received.
    stream: Option<OutputStream>,
    expectation: OutputExpectation,
    within: Duration,
    /// The connection whose start the deadline counts from (else: this step's start).
    since: Option<String>,
}

fn load(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let keys: Vec<&'static str> = crate::protocols::expectations()
        .map(|(_, kind)| kind.key)
        .collect();
    let (table, packs) = super::split_off(input.raw, &keys);
    let raw = RawExpect::deserialize(table)?;
    checked(raw, packs, input.names, input.kit_root)
}

/// Checks a step's names and its one expectation (of its own, or of a pack: `packs`).
fn checked(
    raw: RawExpect,
    packs: Vec<(&'static str, toml::de::ValueDeserializer<'_>)>,
    context: &mut super::Names,
    kit_root: &std::path::Path,
) -> Result<Arc<dyn StepAction>, LoadError> {
    // Who is watched: a program's output stream, or a harness peer's received bytes.
    let (name, stream) = match (raw.expect_stdout, raw.expect_stderr, raw.expect_received) {
        (Some(name), ..) => (context.program(&name)?, Some(OutputStream::Stdout)),
        (_, Some(name), _) => (context.program(&name)?, Some(OutputStream::Stderr)),
        (.., Some(name)) => (context.receiver(&name)?, None),
        _ => unreachable!("one of the three is given"),
    };
    let action = match stream {
        Some(OutputStream::Stdout) => ACTIONS[0],
        Some(OutputStream::Stderr) => ACTIONS[1],
        None => ACTIONS[2],
    };
    let mut expectations = Vec::new();
    if let Some(spec) = raw.equals {
        expectations.push(OutputExpectation::Equals(spec.resolve(kit_root)?));
    }
    if let Some(spec) = raw.contains {
        let payload = spec.resolve(kit_root)?;
        if payload.len() > MAX_CONTAINED {
            return Err(format!(
                "`contains` looks for at most {MAX_CONTAINED} bytes; use `equals` for more"
            )
            .into());
        }
        expectations.push(OutputExpectation::Contains(payload));
    }
    for (names, ordered) in [(raw.equals_sent, true), (raw.any_order_of_sent, false)] {
        if let Some(names) = names {
            let names = names
                .iter()
                .map(|name| context.peer(name))
                .collect::<Result<Vec<_>, _>>()?;
            expectations.push(if ordered {
                OutputExpectation::EqualsSent(names)
            } else {
                OutputExpectation::AnyOrderOfSent(names)
            });
        }
    }
    if let Some(spec) = raw.excludes {
        let payload = spec.resolve(kit_root)?;
        if payload.is_empty() || payload.len() > MAX_CONTAINED {
            return Err(format!("`excludes` looks for 1 to {MAX_CONTAINED} bytes").into());
        }
        expectations.push(OutputExpectation::Excludes(payload));
    }
    // A pack's expectation, read by its pack against the stream watched. Whether it can
    // judge stdout (judged whole) is asked below, with the step's own.
    let mut judges_part = false;
    for (key, value) in packs {
        let (_, kind) = crate::protocols::expectations()
            .find(|(_, kind)| kind.key == key)
            .expect("split off by its key");
        let shape = crate::protocols::ExpectationShape {
            watched: &name,
            stream,
            servers: &context.servers,
            speaking: &context.speaking,
        };
        let expectation = (kind.load)(crate::protocols::OptionsInput {
            value,
            kit_root,
            step: shape,
        })?;
        judges_part |= !kind.judges_whole_stdout;
        expectations.push(OutputExpectation::Protocol(expectation));
    }
    if let Some(count) = raw.connections {
        let server = match (&stream, context.servers.contains(&name)) {
            (None, true) => name.clone(),
            _ => {
                return Err(format!(
                    "`connections` counts what a `listen` peer accepted; `{name}` is not one"
                )
                .into());
            }
        };
        expectations.push(OutputExpectation::Connections { server, count });
    }
    if let Some(pattern) = raw.matches {
        let regex = Regex::new(&pattern)
            .map_err(|error| format!("`matches` is not a valid regex: {error}"))?;
        if stream == Some(OutputStream::Stdout) {
            // stdout is data: the regex must account for all of it, every line.
            let regex = Regex::new(&format!(r"\A(?:{pattern})\z"))
                .map_err(|error| format!("`matches` is not a valid regex: {error}"))?;
            let prefix = crate::judge::whole_match::WholeMatch::new(&pattern);
            expectations.push(OutputExpectation::MatchesWhole {
                regex,
                pattern,
                prefix,
            });
        } else {
            expectations.push(OutputExpectation::Matches(regex));
        }
    }
    if let Some(spec) = raw.after_label {
        if stream != Some(OutputStream::Stdout) {
            return Err("`after_label` judges a program's stdout (`expect_stdout`)".into());
        }
        let payload = spec.resolve(kit_root)?;
        if payload.is_empty() || payload.len() > MAX_CONTAINED {
            return Err(format!("`after_label` takes 1 to {MAX_CONTAINED} bytes").into());
        }
        expectations.push(OutputExpectation::AfterLabel(payload));
    }
    if let Some(never) = raw.never_in_clear {
        // Any pack's server whose record keeps what crossed in clear.
        let keeping: Vec<&str> = crate::protocols::servers()
            .filter(|(_, server)| server.keeps_clear_text)
            .map(|(pack, _)| pack.key)
            .collect();
        let server = match (&stream, context.speaking.get(&name)) {
            (None, Some(key)) if keeping.contains(key) => name.clone(),
            _ => {
                let with: Vec<String> = keeping.iter().map(|key| format!("`{key}`")).collect();
                return Err(format!(
                    "`never_in_clear` judges what a `listen` peer with {} received; `{name}` is not one",
                    with.join(" or ")
                )
                .into());
            }
        };
        if never.password.len() < 4 {
            return Err(
                "`never_in_clear.password` needs at least 4 characters: a shorter one turns up by chance"
                    .into(),
            );
        }
        expectations.push(OutputExpectation::NeverInClear {
            server,
            password: never.password,
        });
    }
    match raw.empty {
        Some(true) => expectations.push(OutputExpectation::Empty),
        Some(false) => {
            return Err("write `not_empty = true` rather than `empty = false`".into());
        }
        None => {}
    }
    match raw.not_empty {
        Some(true) if stream == Some(OutputStream::Stdout) => {
            return Err(
                "stdout is judged whole: say what it must be (`equals`, `matches`, `after_label`...), not just `not_empty`"
                    .into(),
            );
        }
        Some(true) => expectations.push(OutputExpectation::NotEmpty),
        Some(false) => {
            return Err("write `empty = true` rather than `not_empty = false`".into());
        }
        None => {}
    }
    match raw.past_its_start {
        Some(true) if stream == Some(OutputStream::Stderr) => {
            expectations.push(OutputExpectation::PastItsStart {
                program: name.clone(),
            })
        }
        Some(true) => {
            return Err("`past_its_start` judges a program's stderr (`expect_stderr`)".into());
        }
        Some(false) => {
            return Err("`past_its_start = false` judges nothing: leave it out".into());
        }
        None => {}
    }
    if expectations.len() != 1 {
        let packs: Vec<&str> = crate::protocols::expectations()
            .map(|(_, kind)| kind.key)
            .collect();
        return Err(format!(
            "`{action}` needs exactly one of equals, contains, excludes, {}, connections, never_in_clear, equals_sent, any_order_of_sent, matches, after_label, empty, not_empty, past_its_start",
            packs.join(", ")
        )
        .into());
    }
    if stream == Some(OutputStream::Stdout)
        && (judges_part
            || matches!(
                expectations[0],
                OutputExpectation::Contains(_) | OutputExpectation::Excludes(_)
            ))
    {
        // The expectations that judge a part of a stream, the packs' among them.
        let partial: Vec<String> = ["contains", "excludes"]
            .into_iter()
            .chain(
                crate::protocols::expectations()
                    .filter(|(_, kind)| !kind.judges_whole_stdout)
                    .map(|(_, kind)| kind.key),
            )
            .map(|key| format!("`{key}`"))
            .collect();
        let (last, others) = partial.split_last().expect("contains and excludes");
        return Err(format!(
            "stdout is judged whole (it is data: every line counts): use `equals`, `matches` (anchored at both ends) or `after_label`, not {} or {last}",
            others.join(", ")
        )
        .into());
    }
    let expectation = expectations.remove(0);
    // `since = c1`: the deadline counts from c1's connection, so that two
    // requests can be held to one deadline (a proxy serving them concurrently).
    let since = raw.since.map(|peer| context.peer(&peer)).transpose()?;
    if since.is_some() && raw.within_ms.is_none() {
        return Err("`since` moves the start of `within_ms`: give `within_ms` too".into());
    }
    if since.is_some() && stream.is_some() {
        return Err("`since` goes with `expect_received` only".into());
    }
    Ok(Arc::new(ExpectOutput {
        name,
        stream,
        expectation,
        within: super::within(raw.within_ms),
        since,
    }))
}

impl StepAction for ExpectOutput {
    fn describe(&self) -> String {
        match self.stream {
            Some(stream) => format!("check {}'s {}", self.name, stream.name()),
            None => format!("check what {} received", self.name),
        }
    }

    fn judges_stdout(&self) -> Option<(&str, &OutputExpectation)> {
        (self.stream == Some(OutputStream::Stdout)).then_some((&self.name, &self.expectation))
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        let watched = match self.stream {
            Some(stream) => Watched::Output {
                name: &self.name,
                stream,
            },
            None => Watched::Received { name: &self.name },
        };
        context.expect_output(
            watched,
            &self.expectation,
            self.within,
            self.since.as_deref(),
        )
    }
}
