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
//! skip_others = true             # optional: lines before it that do not match are
//!                                # skipped (greetings, announcements a clause leaves
//!                                # ungraded), instead of failing the step
//! ```

use std::sync::Arc;

use serde::Deserialize;

use super::{Deadline, LoadError, LoadInput, StepAction, StepContext, StepFuture, StepKind};
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
    skip_others: Option<bool>,
}

#[derive(Debug)]
struct ExpectLine {
    stream: LineSource,
    expectation: LineExpectation,
    within: std::time::Duration,
    skip_others: bool,
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

    /// `c1 never receives` or `client never prints on stdout`.
    pub(crate) fn never_verb(&self) -> String {
        match self {
            LineSource::Connection(name) => format!("{name} never receives"),
            LineSource::Stdout(name) => format!("{name} never prints on stdout"),
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
        skip_others: raw.skip_others.unwrap_or(false),
    }))
}

impl StepAction for ExpectLine {
    fn describe(&self) -> String {
        format!(
            "{} {}{} (within {} ms)",
            self.stream.verb(),
            self.expectation.describe(),
            if self.skip_others {
                ", other lines before it skipped"
            } else {
                ""
            },
            self.within.as_millis()
        )
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        Box::pin(async move {
            let name = self.stream.name();
            let expected = if self.skip_others {
                format!(
                    "{} {} (other lines skipped)",
                    self.stream.verb(),
                    self.expectation.describe()
                )
            } else {
                format!(
                    "{} {} as its next line",
                    self.stream.verb(),
                    self.expectation.describe()
                )
            };
            let mut deadline = Deadline::start(&*context, self.within);
            let mut skipped = Skipped::default();
            match wait_for_line(
                context,
                name,
                &self.expectation,
                (self.skip_others, true),
                &mut deadline,
                &mut skipped,
            )
            .await
            {
                Ok(Waited::Matched) => Ok(()),
                Ok(Waited::TimedOut(partial)) => Err(StepFailure::fail(
                    expected,
                    format!("{partial} {}", deadline.describe_after()),
                )),
                Err(seen) => Err(StepFailure::fail(expected, seen)),
            }
        })
    }
}

/// How waiting for a line ended, short of a failure.
pub(crate) enum Waited {
    /// The line came (the stream's cursor is past it).
    Matched,
    /// Not yet at the deadline: what came instead (`no line`, a partial line, the lines
    /// skipped).
    TimedOut(String),
}

/// Waits until `name`'s next line (or, with `skip_others`, a later one) meets
/// `expectation`, at most until `deadline`. `Err` says what came instead when waiting
/// longer cannot help: another line (without `skip_others`), a line too long, the end,
/// or, with `until_still`, the programs blocked for good (a caller that will act again
/// itself, sending once more, passes `false`).
pub(crate) async fn wait_for_line(
    context: &mut (dyn StepContext + Send),
    name: &str,
    expectation: &LineExpectation,
    (skip_others, until_still): (bool, bool),
    deadline: &mut Deadline,
    skipped: &mut Skipped,
) -> Result<Waited, String> {
    loop {
        let offset = *context.cursor(name);
        let view = context.read_stream(name, offset, MAX_LINE + 1);
        // Every complete line of the view, in order.
        let mut taken = 0;
        while let Some((line, length)) = first_line(&view.bytes[taken..]) {
            taken += length;
            let line = String::from_utf8_lossy(line);
            if expectation.holds(&line) {
                *context.cursor(name) += taken as u64;
                return Ok(Waited::Matched);
            }
            if !skip_others {
                *context.cursor(name) += taken as u64;
                return Err(format!("the line {line:?}"));
            }
            skipped.add(&line);
        }
        if taken > 0 {
            // Skipped lines: the next view starts after them. The peers reading the
            // programs' sockets run on this thread too: let them run between views, or a
            // long backlog (8 MB of a chat flood) keeps a connection unread for seconds, and
            // a server that drops a client that stopped reading drops the harness's own.
            *context.cursor(name) += taken as u64;
            tokio::task::yield_now().await;
            continue;
        }
        let partial = if view.bytes.is_empty() {
            format!("no{} line", skipped.other())
        } else {
            format!(
                "{} without a line end",
                crate::judge::diff::excerpt(&view.bytes)
            )
        };
        let partial = format!("{partial}{}", skipped.describe());
        if view.bytes.len() > MAX_LINE {
            return Err(format!("no line end in the first {MAX_LINE} bytes"));
        }
        let still = view.still.filter(|_| until_still);
        if let Some(ended) = view.ended.or(still) {
            return Err(format!("{partial} ({ended})"));
        }
        if deadline.passed(&*context) {
            return Ok(Waited::TimedOut(partial));
        }
        super::pause(context.endings()).await;
    }
}

/// The lines an `expect_line` with `skip_others` went past, for its failure.
#[derive(Default)]
pub(crate) struct Skipped {
    count: u64,
    last: Option<String>,
}

impl Skipped {
    fn add(&mut self, line: &str) {
        self.count += 1;
        self.last = Some(line.to_owned());
    }

    /// `no line` or, after skipped ones, `no other line`.
    fn other(&self) -> &'static str {
        if self.count > 0 { " other" } else { "" }
    }

    /// `, 3 lines skipped (the last "...")`, or nothing.
    fn describe(&self) -> String {
        match &self.last {
            None => String::new(),
            Some(last) => format!(
                ", {} line{} skipped (the last {})",
                self.count,
                if self.count == 1 { "" } else { "s" },
                crate::judge::diff::excerpt(last.as_bytes())
            ),
        }
    }
}
