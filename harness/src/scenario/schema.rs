//! The JSON Schema of scenario files (`harness/schema/scenario.schema.json`), made from the
//! types the loader reads a file into, so the two cannot disagree: the scenario's own keys
//! ([`RawScenario`]), and one `[[step]]` shape per action, from the step kinds of
//! `crate::steps`.
//!
//! A test (`harness/tests/suite/scenario_schema.rs`) checks that the file in the repository is
//! this schema and that every scenario of the kit validates against it. Editors that read
//! JSON Schemas for TOML (Taplo, the "Even Better TOML" extension) complete and check
//! scenario files with it. The loader stays the judge of what the schema cannot say (a
//! name defined by an earlier step, a role of the task, a readable payload file).

use schemars::generate::SchemaSettings;
use serde_json::{Value, json};

use super::loader::RawScenario;

/// The schema, as the JSON text the repository holds (pretty, ending in a newline).
pub fn scenario_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&scenario_schema()).expect("a JSON value");
    text.push('\n');
    text
}

/// The schema of a scenario file (TOML read as JSON: tables are objects).
pub fn scenario_schema() -> Value {
    let mut generator = SchemaSettings::draft2020_12().into_generator();
    generator.subschema_for::<RawScenario>();
    let mut steps: Vec<Value> = crate::steps::REGISTRY
        .iter()
        .map(|kind| {
            let shape = (kind.schema)(&mut generator).to_value();
            json!({ "title": kind.key, "allOf": [shape], "required": [kind.key] })
        })
        .collect();
    let mut definitions = generator.take_definitions(true);
    steps.sort_by(|a, b| a["title"].as_str().cmp(&b["title"].as_str()));
    // TOML has no null: an optional key is given or left out.
    for shape in definitions
        .values_mut()
        .chain(steps.iter_mut().filter_map(|step| step["allOf"].get_mut(0)))
    {
        if let Some(properties) = shape.get_mut("properties").and_then(Value::as_object_mut) {
            for property in properties.values_mut() {
                *property = without_null(std::mem::take(property));
            }
        }
    }

    let mut root = definitions
        .remove("RawScenario")
        .expect("RawScenario was generated above");
    let object = root
        .as_object_mut()
        .expect("a struct's schema is an object");
    object.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    object.insert("title".into(), json!("A scenario of the socket-lab kit"));
    object.insert(
        "description".into(),
        json!(
            "One behaviour of one task (scenarios/<task>/<name>.toml), checked by its [[step]]s in order. Generated from the harness's step types: see harness/src/scenario/schema.rs."
        ),
    );
    object["properties"]
        .as_object_mut()
        .expect("a struct's properties")
        .insert(
            "step".into(),
            json!({
                "description": "The steps, in order; each has exactly one action.",
                "type": "array",
                "minItems": 1,
                "items": { "oneOf": steps },
            }),
        );
    object["required"]
        .as_array_mut()
        .expect("RawScenario has required keys")
        .push(json!("step"));
    object.insert("$defs".into(), Value::Object(definitions));
    root
}

/// The shape of an optional field without its `null`: TOML has no null, a key is given or
/// left out.
fn without_null(shape: Value) -> Value {
    match shape {
        Value::Object(mut object) => {
            if let Some(Value::Array(types)) = object.get_mut("type") {
                types.retain(|kind| kind != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    object.insert("type".into(), only);
                }
            }
            if let Some(Value::Array(choices)) = object.get_mut("anyOf") {
                choices.retain(|choice| choice.get("type") != Some(&json!("null")));
                if choices.len() == 1 {
                    let only = choices.remove(0);
                    object.remove("anyOf");
                    if let Value::Object(inner) = only {
                        object.extend(inner);
                    }
                }
            }
            Value::Object(object)
        }
        other => other,
    }
}
