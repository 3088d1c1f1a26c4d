//! `expect_quiet = "c2"`: for a while, a connection receives nothing (or only lines it
//! may: `allow`). It proves a program holds a client back, as a single-client server must
//! (SPEC calc/3). It reads nothing away: a later `expect_line` sees the allowed lines.
//!
//! ```toml
//! [[step]]
//! expect_quiet = "c2"
//! for_ms = 1000
//! allow = { prefix = "busy", ignore_case = true }   # optional
//! ```
//!
//! Only a program that answers fails here, and it fails as soon as it answers: waiting
//! `for_ms` cannot turn a correct program's pass into a failure.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::expect_line::{LineSource, MAX_LINE};
use super::{LoadError, LoadInput, POLL, StepAction, StepContext, StepFuture, StepKind};
use crate::judge::line::{LineExpectation, LineSpec, first_line};
use crate::outcome::StepFailure;

pub(crate) const KIND: StepKind = StepKind {
    key: "expect_quiet",
    load,
    schema: super::schema_of::<RawExpectQuiet>,
};

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawExpectQuiet {
    expect_quiet: String,
    for_ms: u64,
    allow: Option<LineSpec>,
}

#[derive(Debug)]
struct ExpectQuiet {
    stream: LineSource,
    duration: Duration,
    allow: Option<LineExpectation>,
}

fn load(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let raw = RawExpectQuiet::deserialize(input.table)?;
    if !(1..=60_000).contains(&raw.for_ms) {
        return Err("`for_ms` is 1 to 60000".into());
    }
    Ok(Arc::new(ExpectQuiet {
        stream: LineSource::of(&raw.expect_quiet, input.names)?,
        duration: Duration::from_millis(raw.for_ms),
        allow: raw.allow.map(LineSpec::check).transpose()?,
    }))
}

impl StepAction for ExpectQuiet {
    fn describe(&self) -> String {
        let allowed = match &self.allow {
            Some(allow) => format!(" but {}", allow.describe()),
            None => String::new(),
        };
        format!(
            "{} nothing{allowed} for {} ms",
            self.stream.verb(),
            self.duration.as_millis()
        )
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        Box::pin(async move {
            let name = self.stream.name();
            let expected = self.describe();
            let deadline = tokio::time::Instant::now() + self.duration;
            loop {
                let offset = *context.cursor(name);
                let view = context.read_stream(name, offset, MAX_LINE + 1);
                if let Some(unwanted) = self.unwanted(&view.bytes) {
                    return Err(StepFailure::fail(expected, unwanted));
                }
                // Nothing more can come: the rest of the time would be quiet too.
                let last = view.ended.is_some() || view.still.is_some();
                if last || tokio::time::Instant::now() >= deadline {
                    return Ok(());
                }
                tokio::time::sleep(POLL).await;
            }
        })
    }
}

impl ExpectQuiet {
    /// What came that may not: a line `allow` does not take, or any byte without `allow`.
    fn unwanted(&self, mut bytes: &[u8]) -> Option<String> {
        let Some(allow) = &self.allow else {
            return (!bytes.is_empty())
                .then(|| format!("it received {}", crate::judge::diff::excerpt(bytes)));
        };
        while let Some((line, taken)) = first_line(bytes) {
            let line = String::from_utf8_lossy(line);
            if !allow.holds(&line) {
                return Some(format!("the line {line:?}"));
            }
            bytes = &bytes[taken..];
        }
        // A line still coming may yet be allowed, unless it is already too long.
        (bytes.len() > MAX_LINE).then(|| format!("no line end in {MAX_LINE} bytes"))
    }
}
