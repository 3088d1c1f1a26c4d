//! `check = "NAME"` with `params = { ... }`: one of the built-in checks (`super::checks`),
//! what a flat list of steps cannot say (peak memory over two transfers, a real browser, a
//! whole SMTP dialogue). The check's own file validates its parameters when the scenario
//! loads and says whether it runs in the simulated world.
//!
//! ```toml
//! [[step]]
//! check = "peak-memory"
//! params = { large_bytes = 104857600 }
//! ```

use std::sync::Arc;

use serde::Deserialize;

use super::{LoadError, LoadInput, StepAction, StepContext, StepFuture, StepKind};
use crate::steps::checks::CheckKind;

pub(crate) const KIND: StepKind = StepKind {
    key: "check",
    load,
    schema: check_shape,
};

/// [`RawCheck`]'s schema, and for each check the typed shape of its `params`: one of the
/// checks, by its name.
fn check_shape(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let shape = super::schema_of::<RawCheck>(generator).to_value();
    let checks: Vec<serde_json::Value> = crate::steps::checks::kinds()
        .map(|kind| {
            serde_json::json!({
                "properties": {
                    "check": { "const": kind.name },
                    "params": (kind.schema)(generator).to_value(),
                },
            })
        })
        .collect();
    schemars::json_schema!({
        "$ref": shape["$ref"],
        "oneOf": checks,
    })
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    /// The check's name: one of the built-in checks.
    #[schemars(schema_with = "check_names")]
    check: String,
    /// Its parameters (each check says which it takes).
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
    params: Option<toml::Table>,
}

/// The `check` key's schema: the names of the built-in checks, so that an editor offers
/// them and flags a misspelt one.
fn check_names(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let names: Vec<&str> = crate::steps::checks::kinds()
        .map(|kind| kind.name)
        .collect();
    schemars::json_schema!({
        "description": "The check's name: one of the built-in checks.",
        "type": "string",
        "enum": names,
    })
}

#[derive(Debug)]
struct Check {
    kind: &'static CheckKind,
    params: toml::Table,
    /// The roles the check starts itself.
    roles: Vec<String>,
}

fn load(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let raw = RawCheck::deserialize(input.table)?;
    let kind = crate::steps::checks::kind_of(&raw.check)?;
    let params = raw.params.unwrap_or_default();
    let roles = (kind.validate)(&params, input.task)?;
    Ok(Arc::new(Check {
        kind,
        params,
        roles,
    }))
}

impl StepAction for Check {
    fn describe(&self) -> String {
        format!("built-in check {}", self.kind.name)
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        (self.kind.run)(context.checks(), &self.params)
    }

    fn roles(&self) -> &[String] {
        &self.roles
    }

    fn real_only(&self) -> Option<String> {
        self.kind.real_only.map(str::to_owned)
    }
}
