//! The JSON Schema of scenario files: the repository holds the one the step types make,
//! every scenario of the kit follows it (one test case per file), and it refuses what the
//! loader refuses for a step's shape.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

const SCHEMA_FILE: &str = "schema/scenario.schema.json";

/// The schema in the repository, compiled (which checks it against draft 2020-12).
fn schema() -> &'static (boon::Schemas, boon::SchemaIndex) {
    static SCHEMA: OnceLock<(boon::Schemas, boon::SchemaIndex)> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(SCHEMA_FILE);
        let text = std::fs::read_to_string(&path).expect("harness/schema/scenario.schema.json");
        let document: Value = serde_json::from_str(&text).expect("the schema is JSON");
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        compiler
            .add_resource("scenario.schema.json", document)
            .unwrap();
        let index = compiler
            .compile("scenario.schema.json", &mut schemas)
            .unwrap_or_else(|error| panic!("the schema compiles: {error:#}"));
        (schemas, index)
    })
}

/// A scenario file's TOML as the JSON the schema describes.
fn as_json(toml_text: &str) -> Value {
    let table: toml::Table = toml::from_str(toml_text).expect("TOML");
    serde_json::to_value(table).expect("TOML is JSON")
}

/// Why `text` does not follow the schema, or `None`.
fn violations(text: &str) -> Option<String> {
    let (schemas, index) = schema();
    schemas
        .validate(&as_json(text), *index)
        .err()
        .map(|error| format!("{error:#}"))
}

#[test]
fn the_repository_holds_the_schema_the_step_types_make() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(SCHEMA_FILE);
    let held = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        held == harness::scenario::scenario_schema_text(),
        "harness/{SCHEMA_FILE} is not the schema of today's step types: regenerate it with\n  cargo run -p harness -- schema > harness/{SCHEMA_FILE}"
    );
}

#[rstest::rstest]
fn every_scenario_follows_the_schema(#[files("../scenarios/*/*.toml")] scenario: PathBuf) {
    let text = std::fs::read_to_string(&scenario).unwrap();
    if let Some(error) = violations(&text) {
        panic!(
            "{} does not follow the schema:\n{error}",
            scenario.display()
        );
    }
}

/// A small scenario with `step` as its only step.
fn with_step(step: &str) -> String {
    format!(
        "task = \"calc\"\nclauses = [\"calc/1\"]\ncategory = \"basic\"\npoints = 1\nrequirement = \"r\"\n\n[[step]]\nstart = \"single\"\n\n[[step]]\n{step}\n"
    )
}

#[test]
fn the_schema_refuses_what_the_loader_refuses() {
    // A step as the kit writes them passes.
    assert_eq!(
        violations(&with_step(
            "connect = \"single\"\nas = \"c1\"\nthen = \"keep\""
        )),
        None
    );
    assert_eq!(
        violations(&with_step(
            "expect_line = \"c1\"\nline = { number = 42, tolerance = 0.001 }"
        )),
        None
    );
    for (step, why) in [
        (
            "connect = \"single\"\nreply_slices = { size = 1 }",
            "a modifier of another action",
        ),
        ("connect = \"single\"\nwait = \"c1\"", "two actions"),
        ("as = \"c1\"", "no action"),
        (
            "say = \"c1\"\nsend = { text = \"x\" }\nloud = true",
            "an unknown key of a step kind",
        ),
        ("say = \"c1\"", "a step kind without its required key"),
        (
            "close = \"c1\"\nhow = \"slam\"",
            "a value outside an enumeration",
        ),
        (
            "expect_files = \"single\"\nlacks = \"pwned\"",
            "a string for a list",
        ),
    ] {
        assert!(
            violations(&with_step(step)).is_some(),
            "the schema took {why}: {step}"
        );
    }
    let mut no_steps = with_step("stop = \"single\"");
    no_steps.truncate(no_steps.find("[[step]]").unwrap());
    assert!(
        violations(&no_steps).is_some(),
        "the schema took a scenario without steps"
    );
    assert!(
        violations(&with_step("stop = \"single\"").replace("points = 1", "points = \"one\""))
            .is_some()
    );
}

/// SPEC's conventions: an error is a message, never a crash, judged the same in every task.
/// Every step of the kit's scenarios that lets a program end in failure (`success = false`,
/// `any_status = true`: an error it must report) says `crash = false`, and none judges a
/// crash by a word of its own (`excludes = { text = "Traceback" }` knew only Python).
#[rstest::rstest]
fn every_error_a_scenario_asks_for_is_judged_by_the_one_crash_rule(
    #[files("../scenarios/*/*.toml")] scenario: PathBuf,
) {
    let table: toml::Table = toml::from_str(&std::fs::read_to_string(&scenario).unwrap()).unwrap();
    let steps = table["step"].as_array().expect("steps");
    for (number, step) in steps.iter().enumerate() {
        let step = step.as_table().expect("a step is a table");
        let may_fail = step.get("success").and_then(toml::Value::as_bool) == Some(false)
            || step.get("any_status").and_then(toml::Value::as_bool) == Some(true);
        if step.contains_key("expect_exit") && may_fail {
            assert_eq!(
                step.get("crash").and_then(toml::Value::as_bool),
                Some(false),
                "{} step {}: an exit that may be an error says `crash = false`",
                scenario.display(),
                number + 1
            );
        }
        let excluded = step
            .get("excludes")
            .and_then(|excludes| excludes.get("text"))
            .and_then(toml::Value::as_str);
        assert_ne!(
            excluded,
            Some("Traceback"),
            "{} step {}: a crash is judged by `crash = false` on `expect_exit`",
            scenario.display(),
            number + 1
        );
    }
}
