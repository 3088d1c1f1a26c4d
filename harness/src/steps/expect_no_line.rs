//! `expect_no_line = "c1"`: no line a connection received since it connected matches
//! (SPEC chat/2: a line is "never echoed to the sender").
//!
//! ```toml
//! [[step]]
//! expect_no_line = "c1"
//! line = { matches = "hello from alice" }
//! ```
//!
//! It judges what arrived up to now, so a scenario puts it after a point the line would
//! have passed: c1 said a line, c2 received it, c2 answered and c1 received the answer.
//! A server that echoes sends the echo before it reads c2's answer; a correct server
//! never sends it. It reads nothing away: later steps see the same lines.

use std::sync::Arc;

use serde::Deserialize;

use super::expect_line::{LineSource, MAX_LINE};
use super::{LoadError, LoadInput, StepAction, StepContext, StepFuture, StepKind};
use crate::judge::line::{LineExpectation, LineSpec, first_line};
use crate::outcome::StepFailure;

pub(crate) const KIND: StepKind = StepKind {
    key: "expect_no_line",
    load,
    schema: super::schema_of::<RawExpectNoLine>,
};

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawExpectNoLine {
    expect_no_line: String,
    line: LineSpec,
}

#[derive(Debug)]
struct ExpectNoLine {
    stream: LineSource,
    unwanted: LineExpectation,
}

fn load(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let raw = RawExpectNoLine::deserialize(input.table)?;
    Ok(Arc::new(ExpectNoLine {
        stream: LineSource::of(&raw.expect_no_line, input.names)?,
        unwanted: raw.line.check()?,
    }))
}

impl StepAction for ExpectNoLine {
    fn describe(&self) -> String {
        format!(
            "{} {} (every line so far)",
            self.stream.never_verb(),
            self.unwanted.describe()
        )
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        Box::pin(async move {
            let name = self.stream.name();
            let mut offset = 0;
            let mut number = 0u64;
            loop {
                let view = context.read_stream(name, offset, MAX_LINE + 1);
                let mut taken = 0;
                while let Some((line, length)) = first_line(&view.bytes[taken..]) {
                    taken += length;
                    number += 1;
                    let line = String::from_utf8_lossy(line);
                    if self.unwanted.holds(&line) {
                        return Err(StepFailure::fail(
                            self.describe(),
                            format!("its line {number}: {line:?}"),
                        ));
                    }
                }
                if taken == 0 {
                    // The rest is one unfinished line (or nothing): judged when complete.
                    return Ok(());
                }
                offset += taken as u64;
            }
        })
    }
}
