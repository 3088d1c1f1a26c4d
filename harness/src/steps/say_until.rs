//! `say_until = "bob"`: a connection says a line, again and again, until another
//! connection receives what it must (other lines skipped).
//!
//! ```toml
//! [[step]]
//! say_until = "bob"
//! send = { text = "bob is here|alice\n" }
//! heard_by = "alice"
//! line = { matches = "^bob\\|bob is here$" }
//! tries = 20          # optional (default 20)
//! every_ms = 100      # optional (default 100): how long each try waits
//! ```
//!
//! It is how a scenario knows that a server has taken in what a client sent before:
//! a chat server registers a name when its thread gets to it, and a welcome line is
//! optional (SPEC chat/1, direct/1), so nothing a client receives says when. Once bob's
//! line reaches alice, bob's name (sent before it) was registered and so was alice's; a
//! try that came too early is answered with an error line or not at all, and the next
//! try comes. Copies of the line that arrive late are skipped by later steps that skip.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::expect_line::{LineSource, Skipped, Waited, wait_for_line};
use super::{Deadline, LoadError, LoadInput, StepAction, StepContext, StepFuture, StepKind};
use crate::faults::SlicePlan;
use crate::judge::line::{LineExpectation, LineSpec};
use crate::outcome::StepFailure;
use crate::payload::{Payload, PayloadSpec};

pub(crate) const KIND: StepKind = StepKind {
    key: "say_until",
    load,
    schema: super::schema_of::<RawSayUntil>,
};

const DEFAULT_TRIES: u32 = 20;
const DEFAULT_EVERY_MS: u64 = 100;

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawSayUntil {
    say_until: String,
    send: PayloadSpec,
    heard_by: String,
    line: LineSpec,
    tries: Option<u32>,
    every_ms: Option<u64>,
}

#[derive(Debug)]
struct SayUntil {
    speaker: String,
    send: Payload,
    listener: LineSource,
    expectation: LineExpectation,
    tries: u32,
    every: Duration,
}

fn load(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let raw = RawSayUntil::deserialize(input.table)?;
    input.names.peer(&raw.say_until)?;
    if !input.names.kept.contains(&raw.say_until) {
        return Err(format!(
            "`say_until` sends on a connection kept open: give `{}`'s `connect` step `then = \"keep\"`",
            raw.say_until
        )
        .into());
    }
    let tries = raw.tries.unwrap_or(DEFAULT_TRIES);
    let every_ms = raw.every_ms.unwrap_or(DEFAULT_EVERY_MS);
    if !(1..=100).contains(&tries) || !(10..=5_000).contains(&every_ms) {
        return Err("`tries` is 1 to 100 and `every_ms` 10 to 5000".into());
    }
    Ok(Arc::new(SayUntil {
        speaker: raw.say_until,
        send: raw.send.resolve(input.kit_root)?,
        listener: LineSource::of(&raw.heard_by, input.names)?,
        expectation: raw.line.check()?,
        tries,
        every: Duration::from_millis(every_ms),
    }))
}

impl StepAction for SayUntil {
    fn describe(&self) -> String {
        format!(
            "{} sends {} until {} {} (other lines skipped; at most {} tries, {} ms apart)",
            self.speaker,
            self.send.describe(),
            self.listener.verb(),
            self.expectation.describe(),
            self.tries,
            self.every.as_millis()
        )
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        Box::pin(async move {
            let expected = format!(
                "{} {} after {} sent it, at one of {} tries",
                self.listener.verb(),
                self.expectation.describe(),
                self.speaker,
                self.tries
            );
            let mut skipped = Skipped::default();
            let mut waited = String::new();
            for _ in 0..self.tries {
                context
                    .send_on(&self.speaker, &self.send, &SlicePlan::WHOLE)
                    .await?;
                let mut deadline = Deadline::start(&*context, self.every);
                match wait_for_line(
                    context,
                    self.listener.name(),
                    &self.expectation,
                    // Other lines skipped; and the programs' stillness is no end: this
                    // step sends again.
                    (true, false),
                    &mut deadline,
                    &mut skipped,
                )
                .await
                {
                    Ok(Waited::Matched) => return Ok(()),
                    Ok(Waited::TimedOut(partial)) => waited = partial,
                    Err(seen) => return Err(StepFailure::fail(expected, seen)),
                }
            }
            Err(StepFailure::fail(
                expected,
                format!(
                    "{waited} after {} tries ({} ms)",
                    self.tries,
                    self.every.as_millis() * u128::from(self.tries)
                ),
            ))
        })
    }
}
