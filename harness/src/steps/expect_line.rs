//! `expect_line = "c1"`: the next line a connection of the harness received (or a
//! program printed on stdout) is what the conversation expects. Each `expect_line` takes
//! one line, so a scenario reads a conversation's replies in order, whether the program
//! answered a line at a time or all at once (pipelined).
//!
//! ```toml
//! [[step]]
//! expect_line = "c1"
//! line = { number = 3 }          # or equals, prefix, matches, status, one_of
//! within_ms = 1000
//! ```

use std::sync::Arc;

use serde::Deserialize;

use super::{LoadError, LoadInput, POLL, StepAction, StepContext, StepFuture, StepKind};
use crate::judge::line::{LineExpectation, LineSpec, first_line};
use crate::outcome::StepFailure;

pub(crate) const KIND: StepKind = StepKind {
    key: "expect_line",
    load,
    schema: super::schema_of::<RawExpectLine>,
};

/// The longest line a conversation reads: a program that sends more without a line end
/// fails rather than fills the harness's memory.
pub(crate) const MAX_LINE: usize = 64 * 1024;

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawExpectLine {
    expect_line: String,
    line: LineSpec,
    within_ms: Option<u64>,
}

#[derive(Debug)]
struct ExpectLine {
    stream: LineSource,
    expectation: LineExpectation,
    within: std::time::Duration,
}

/// Whose line: what a harness connection received, or what a program printed.
#[derive(Debug, Clone)]
pub(crate) enum LineSource {
    Connection(String),
    Stdout(String),
}

impl LineSource {
    /// The stream `name` names at this step: a connection or a program.
    pub(crate) fn of(name: &str, names: &super::Names) -> Result<LineSource, String> {
        if names.peers.contains(name) {
            Ok(LineSource::Connection(name.to_owned()))
        } else if names.programs.contains(name) {
            Ok(LineSource::Stdout(name.to_owned()))
        } else {
            Err(format!(
                "no connection (from `connect`) or program (from `start`) named `{name}` exists at this step"
            ))
        }
    }

    pub(crate) fn name(&self) -> &str {
        match self {
            LineSource::Connection(name) | LineSource::Stdout(name) => name,
        }
    }

    /// `c1 receives` or `client prints`.
    pub(crate) fn verb(&self) -> String {
        match self {
            LineSource::Connection(name) => format!("{name} receives"),
            LineSource::Stdout(name) => format!("{name} prints on stdout"),
        }
    }
}

fn load(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let raw = RawExpectLine::deserialize(input.table)?;
    Ok(Arc::new(ExpectLine {
        stream: LineSource::of(&raw.expect_line, input.names)?,
        expectation: raw.line.check()?,
        within: super::within(raw.within_ms),
    }))
}

impl StepAction for ExpectLine {
    fn describe(&self) -> String {
        format!(
            "{} {} (within {} ms)",
            self.stream.verb(),
            self.expectation.describe(),
            self.within.as_millis()
        )
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        Box::pin(async move {
            let name = self.stream.name();
            let expected = format!(
                "{} {} as its next line",
                self.stream.verb(),
                self.expectation.describe()
            );
            let deadline = tokio::time::Instant::now() + self.within;
            loop {
                let offset = *context.cursor(name);
                let view = context.read_stream(name, offset, MAX_LINE + 1);
                if let Some((line, taken)) = first_line(&view.bytes) {
                    *context.cursor(name) += taken as u64;
                    let line = String::from_utf8_lossy(line);
                    return if self.expectation.holds(&line) {
                        Ok(())
                    } else {
                        Err(StepFailure::fail(expected, format!("the line {line:?}")))
                    };
                }
                let partial = if view.bytes.is_empty() {
                    "no line".to_owned()
                } else {
                    format!(
                        "{} without a line end",
                        crate::report::diff::excerpt(&view.bytes)
                    )
                };
                if view.bytes.len() > MAX_LINE {
                    return Err(StepFailure::fail(
                        expected,
                        format!("no line end in the first {MAX_LINE} bytes"),
                    ));
                }
                if let Some(ended) = view.ended {
                    return Err(StepFailure::fail(expected, format!("{partial} ({ended})")));
                }
                if tokio::time::Instant::now() >= deadline {
                    return Err(StepFailure::fail(
                        expected,
                        format!("{partial} after {} ms", self.within.as_millis()),
                    ));
                }
                tokio::time::sleep(POLL).await;
            }
        })
    }
}
