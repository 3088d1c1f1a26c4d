//! What the ping pack adds to `expect_stdout` on a ping client: `ping_report = { server =
//! "pinger", count = 10 }`, the whole report judged once the client ended, line by line
//! against what the ping server `server` did (see [`super::report`]); without `server`,
//! every ping answered at once (the submission's own server, without loss).

use std::sync::Arc;

use serde::Deserialize;

use crate::judge::bytes::Evaluation;
use crate::judge::diff::excerpt;
use crate::judge::output::{Facts, ProtocolExpectation};
use crate::outcome::{StepFailure, StepResult};
use crate::protocols::{ExpectationKind, ExpectationShape, Loaded, OptionsInput};
use crate::world::capture::Capture;

/// `ping_report = { ... }`.
pub(super) const PING_REPORT: ExpectationKind = ExpectationKind {
    key: "ping_report",
    load,
    schema: |generator| generator.subschema_for::<RawPingReport>(),
    judges_whole_stdout: true,
};

/// `ping_report = { server = "pinger", count = 10 }` (no `server`: the submission's own,
/// answering every ping).
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawPingReport {
    server: Option<String>,
    #[serde(default = "default_ping_count")]
    count: u64,
}

fn default_ping_count() -> u64 {
    10
}

fn load(input: OptionsInput<'_, '_, ExpectationShape<'_>>) -> Loaded<Arc<dyn ProtocolExpectation>> {
    let report = RawPingReport::deserialize(input.value)?;
    if let Some(server) = &report.server
        && !input.step.servers.contains(server)
    {
        return Err(format!(
            "`ping_report` needs the `listen` peer that plays the ping server; `{server}` is not one"
        )
        .into());
    }
    if report.count == 0 {
        return Err("`ping_report` needs `count` of at least 1".into());
    }
    Ok(Arc::new(PingReport {
        server: report.server,
        count: report.count,
    }))
}

/// A ping client's report of `count` pings, against what the server `server` did.
#[derive(Debug)]
struct PingReport {
    server: Option<String>,
    count: u64,
}

impl ProtocolExpectation for PingReport {
    fn evaluate(
        &self,
        facts: &dyn Facts,
        where_: &str,
        capture: &Capture,
        is_final: bool,
    ) -> StepResult<Evaluation> {
        let count = self.count;
        let pings = || {
            self.server
                .as_ref()
                .map(|server| super::server::pings(facts.record(server)))
        };
        if !is_final {
            // What is already wrong stays wrong whatever comes after (a pinger that never
            // stops is told what it printed before it was stopped); the rest, the summary
            // last, is judged once the client ended.
            let so_far = capture.head(1 << 20);
            let wrong = super::report::wrong_so_far(&so_far, pings().as_deref(), count);
            if !wrong.is_empty() {
                return Err(StepFailure::fail(
                    format!("{where_} to report {count} pings and a summary"),
                    wrong.join("; "),
                ));
            }
            return Ok(Evaluation::Pending {
                expected: format!("{where_} to report {count} pings and a summary"),
                seen: format!(
                    "{} bytes so far: {}",
                    capture.len(),
                    excerpt(&capture.head(400))
                ),
            });
        }
        let output = capture.head(1 << 20);
        if let Some(why) = pings()
            .as_deref()
            .and_then(|pings| super::report::too_late_to_judge(pings, count))
        {
            return Err(crate::outcome::harness_trouble(why));
        }
        match super::report::judge(&output, pings().as_deref(), count) {
            Ok(()) => Ok(Evaluation::Holds { settle: false }),
            Err((expected, seen)) => Err(StepFailure::fail(format!("{where_}: {expected}"), seen)),
        }
    }
}
