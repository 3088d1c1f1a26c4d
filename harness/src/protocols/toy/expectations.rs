//! `greeted = { name = "ada" }` on an `expect_received` step: the greeting server it
//! watches was given the name.

use std::sync::Arc;

use serde::Deserialize;

use super::Names;
use crate::judge::bytes::Evaluation;
use crate::judge::output::{Facts, ProtocolExpectation};
use crate::outcome::StepResult;
use crate::protocols::{ExpectationKind, ExpectationShape, Loaded, OptionsInput, record_of};
use crate::world::capture::Capture;

/// `greeted = { ... }`.
pub(super) const GREETED: ExpectationKind = ExpectationKind {
    key: "greeted",
    load,
    schema: |generator| generator.subschema_for::<RawGreeted>(),
    judges_whole_stdout: false,
};

/// The name the server must have been given.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawGreeted {
    name: String,
}

fn load(input: OptionsInput<'_, '_, ExpectationShape<'_>>) -> Loaded<Arc<dyn ProtocolExpectation>> {
    let raw = RawGreeted::deserialize(input.value)?;
    let server = input.step.server_speaking(super::PACK.key, "greeted")?;
    Ok(Arc::new(Greeted {
        server,
        name: raw.name,
    }))
}

#[derive(Debug)]
struct Greeted {
    server: String,
    name: String,
}

impl ProtocolExpectation for Greeted {
    fn evaluate(
        &self,
        facts: &dyn Facts,
        where_: &str,
        _capture: &Capture,
        _is_final: bool,
    ) -> StepResult<Evaluation> {
        let names = record_of::<Names>(facts, &self.server)
            .map(Names::copy)
            .unwrap_or_default();
        let expected = format!("{where_} to be greeted as `{}`", self.name);
        let seen = match names.as_slice() {
            [] => "no greeting".to_owned(),
            names => format!("greetings as {}", names.join(", ")),
        };
        // Not yet greeted so: the step waits, and says why its wait ended if it fails.
        if names.contains(&self.name) {
            Ok(Evaluation::Holds { settle: false })
        } else {
            Ok(Evaluation::Pending { expected, seen })
        }
    }
}
