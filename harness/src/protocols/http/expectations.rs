//! What the HTTP pack adds to `expect_received` on a connection: `http = { status = 200,
//! content_type = "text/html", body = { ... }, content_length = true }`, the response
//! parsed and judged as it arrives (see [`super::response`]). Not on a program's stdout,
//! which is judged whole.

use std::sync::Arc;

use serde::Deserialize;

use super::response::{HttpExpectation, ResponseVerdict};
use crate::judge::bytes::Evaluation;
use crate::judge::output::{Facts, ProtocolExpectation};
use crate::outcome::{StepFailure, StepResult};
use crate::payload::PayloadSpec;
use crate::protocols::{ExpectationKind, ExpectationShape, Loaded, OptionsInput};
use crate::world::capture::Capture;

/// `http = { ... }`.
pub(super) const HTTP: ExpectationKind = ExpectationKind {
    key: "http",
    load,
    schema: |generator| generator.subschema_for::<RawHttp>(),
    judges_whole_stdout: false,
};

/// `http = { status = 200, content_type = "text/html", body = { ... }, content_length = true }`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawHttp {
    status: OneOrMany,
    content_type: Option<String>,
    body: Option<PayloadSpec>,
    body_not_empty: Option<bool>,
    body_html: Option<bool>,
    content_length: Option<bool>,
    headers: Option<std::collections::BTreeMap<String, String>>,
    /// Judge the status line alone (a security scenario: what matters is that the attack
    /// was refused; whether the refusal is a well-formed response is another clause's).
    status_line_only: Option<bool>,
}

/// A status code, or a list of acceptable ones.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
enum OneOrMany {
    One(u16),
    Many(Vec<u16>),
}

fn load(input: OptionsInput<'_, '_, ExpectationShape<'_>>) -> Loaded<Arc<dyn ProtocolExpectation>> {
    let http = RawHttp::deserialize(input.value)?;
    let statuses = match http.status {
        OneOrMany::One(status) => vec![status],
        OneOrMany::Many(statuses) => statuses,
    };
    if statuses.is_empty() || statuses.iter().any(|status| !(100..=599).contains(status)) {
        return Err("`http.status` takes status codes from 100 to 599".into());
    }
    Ok(Arc::new(HttpExpectation {
        statuses,
        content_type: http.content_type,
        body: http
            .body
            .map(|spec| spec.resolve(input.kit_root))
            .transpose()?,
        body_not_empty: http.body_not_empty.unwrap_or(false),
        body_html: http.body_html.unwrap_or(false),
        content_length: http.content_length.unwrap_or(false),
        headers: http.headers.unwrap_or_default().into_iter().collect(),
        status_line_only: http.status_line_only.unwrap_or(false),
    }))
}

impl ProtocolExpectation for HttpExpectation {
    fn evaluate(
        &self,
        _: &dyn Facts,
        where_: &str,
        capture: &Capture,
        is_final: bool,
    ) -> StepResult<Evaluation> {
        match self.judge(capture, is_final) {
            ResponseVerdict::Holds => Ok(Evaluation::Holds { settle: false }),
            ResponseVerdict::Incomplete(seen) => Ok(Evaluation::Pending {
                expected: format!("{where_}: {}", self.describe()),
                seen,
            }),
            ResponseVerdict::Wrong(seen) => Err(StepFailure::fail(
                format!("{where_}: {}", self.describe()),
                seen,
            )),
        }
    }
}
