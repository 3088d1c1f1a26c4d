//! `harness/docs/reference/scenario-schema.md` and `report-schema.md`: the JSON Schemas of
//! `harness/schema/` as tables, one per object, every key with its type and description.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::common;

/// A schema file of `harness/schema/`, parsed.
fn schema(name: &str) -> Value {
    let path = common::kit_root().join("harness/schema").join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// How a page names and links the schema's definitions.
struct Renderer<'a> {
    defs: &'a Map<String, Value>,
    /// The anchor each definition is shown under (a step's action, or the definition's own).
    anchors: BTreeMap<String, String>,
}

impl Renderer<'_> {
    /// A schema's type, as a reader says it: `string`, `array of [PayloadSpec](#payloadspec)`,
    /// `"basic"`, `integer or null`.
    fn type_of(&self, schema: &Value) -> String {
        let Some(object) = schema.as_object() else {
            return "any".into();
        };
        if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
            let name = reference.rsplit('/').next().unwrap_or(reference);
            return match self.anchors.get(name) {
                Some(anchor) => format!("[`{name}`](#{anchor})"),
                None => format!("`{name}`"),
            };
        }
        if let Some(constant) = object.get("const") {
            return format!("`{constant}`");
        }
        if let Some(values) = object.get("enum").and_then(Value::as_array) {
            let values: Vec<String> = values.iter().map(|value| format!("`{value}`")).collect();
            return values.join(", ");
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(variants) = object.get(key).and_then(Value::as_array) {
                // Forms with a title are the steps' actions, each shown in its own section.
                if variants
                    .iter()
                    .all(|variant| variant.get("title").is_some())
                {
                    return "[step](#steps)".into();
                }
                let variants: Vec<String> = variants
                    .iter()
                    .map(|variant| self.type_of(variant))
                    .collect();
                return variants.join(" or ");
            }
        }
        if let Some(all) = object.get("allOf").and_then(Value::as_array)
            && let [only] = all.as_slice()
        {
            return self.type_of(only);
        }
        let types: Vec<&str> = match object.get("type") {
            Some(Value::String(one)) => vec![one.as_str()],
            Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let named: Vec<String> = types
            .iter()
            .map(|kind| match *kind {
                "array" => match object.get("items") {
                    Some(items) => format!("array of {}", self.type_of(items)),
                    None => "array".into(),
                },
                "object" => match object.get("additionalProperties") {
                    Some(values @ Value::Object(_)) => {
                        format!("table of {}", self.type_of(values))
                    }
                    _ => "table".into(),
                },
                other => other.into(),
            })
            .collect();
        if named.is_empty() {
            "any".into()
        } else {
            named.join(" or ")
        }
    }

    /// The table of an object's keys (and, inline, of the keys of its inline objects:
    /// `runs[].seed`).
    fn table(&self, object: &Value) -> String {
        let mut rows = Vec::new();
        self.rows(object, "", &mut rows);
        if rows.is_empty() {
            return String::new();
        }
        let mut text = String::from("| key | type | required | description |\n|---|---|---|---|\n");
        for row in rows {
            text.push_str(&row);
        }
        text
    }

    fn rows(&self, object: &Value, prefix: &str, rows: &mut Vec<String>) {
        let Some(properties) = object.get("properties").and_then(Value::as_object) else {
            return;
        };
        let required: Vec<&str> = object
            .get("required")
            .and_then(Value::as_array)
            .map(|keys| keys.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        // Sorted here, whatever order the JSON map keeps (serde_json's `preserve_order`
        // depends on which crates a build unifies features for).
        let properties: BTreeMap<&String, &Value> = properties.iter().collect();
        for (key, schema) in properties {
            let name = format!("{prefix}{key}");
            let mut description = text_of(schema.get("description"));
            if let Some(default) = schema.get("default") {
                description.push_str(&format!(" (default: `{default}`)"));
            }
            rows.push(format!(
                "| `{name}` | {} | {} | {} |\n",
                cell(&self.type_of(schema)),
                if required.contains(&key.as_str()) {
                    "yes"
                } else {
                    ""
                },
                cell(description.trim()),
            ));
            // Objects written inline (not a definition of their own) show their keys here.
            if schema.get("properties").is_some() {
                self.rows(schema, &format!("{name}."), rows);
            } else if let Some(items) = schema.get("items")
                && items.get("properties").is_some()
            {
                self.rows(items, &format!("{name}[]."), rows);
            }
        }
    }

    /// A definition's section: its description, then its keys, its values or its forms.
    fn definition(&self, heading: &str, schema: &Value) -> String {
        let mut text = format!("\n### {heading}\n\n");
        let description = text_of(schema.get("description"));
        if !description.is_empty() {
            text.push_str(&format!("{description}\n\n"));
        }
        if schema.get("properties").is_some() {
            text.push_str(&self.table(schema));
        } else if let Some(variants) = schema
            .get("anyOf")
            .or_else(|| schema.get("oneOf"))
            .and_then(Value::as_array)
        {
            text.push_str("One of:\n\n");
            for variant in variants {
                let said = text_of(variant.get("description"));
                let form = if variant.get("properties").is_some() {
                    "a table of the keys below".to_owned()
                } else {
                    self.type_of(variant)
                };
                text.push_str(&format!(
                    "- {form}{}\n",
                    if said.is_empty() {
                        String::new()
                    } else {
                        format!(": {said}")
                    }
                ));
            }
            for variant in variants {
                if variant.get("properties").is_some() {
                    text.push_str(&format!("\n{}", self.table(variant)));
                }
            }
        } else {
            text.push_str(&format!("{}\n", self.type_of(schema)));
        }
        text
    }
}

/// A description on one line (the schemas wrap theirs), as Markdown: `<` and `>` outside
/// code spans escaped, so that `scenarios/<task>/` is not taken for an HTML tag.
fn text_of(value: Option<&Value>) -> String {
    let text = value
        .and_then(Value::as_str)
        .map(|text| text.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    text.split('`')
        .enumerate()
        .map(|(index, part)| match index % 2 {
            0 => part.replace('<', "&lt;").replace('>', "&gt;"),
            _ => part.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("`")
}

/// A JSON map's entries by key.
fn sorted(map: &Map<String, Value>) -> BTreeMap<&String, &Value> {
    map.iter().collect()
}

/// Text fit for a table cell: a `|` would end the cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// The anchor GitHub gives a heading made only of `name` in backticks.
fn anchor(name: &str) -> String {
    harness::spec::anchor(name)
}

pub(super) fn scenario_page() -> String {
    let root = schema("scenario.schema.json");
    let defs = root["$defs"].as_object().expect("$defs");
    let steps = root["properties"]["step"]["items"]["oneOf"]
        .as_array()
        .expect("the steps are a oneOf of actions");
    // A step's action is shown under its own name; its definition links there.
    let mut anchors: BTreeMap<String, String> = defs
        .keys()
        .map(|name| (name.clone(), anchor(name)))
        .collect();
    let mut step_definitions = Vec::new();
    for step in steps {
        let title = step["title"].as_str().expect("each action has a title");
        if let Some(name) = step["allOf"][0]["$ref"].as_str() {
            let name = name.rsplit('/').next().unwrap().to_owned();
            anchors.insert(name.clone(), format!("step-{}", anchor(title)));
            step_definitions.push(name);
        }
    }
    let renderer = Renderer { defs, anchors };
    let mut page = super::generated_notice(
        "[`harness/schema/scenario.schema.json`](../../schema/scenario.schema.json)",
    );
    page.push_str(&format!(
        "\n# Scenario files: every key\n\n{}\n\nHow to write a scenario, with examples: \
         [the guide](../guide/writing-a-scenario.md). The loader also checks what a schema \
         cannot say (a name defined by an earlier step, a role of the task, a payload file \
         that exists), with the file and line.\n\n## A scenario file\n\n",
        text_of(root.get("description"))
    ));
    page.push_str(&renderer.table(&root));
    page.push_str(
        "\n## Steps\n\nEach `[[step]]` has exactly one action, the key that names it; the \
         other keys of its table modify it.\n\n",
    );
    let titles: Vec<String> = steps
        .iter()
        .map(|step| {
            let title = step["title"].as_str().unwrap();
            format!("[`{title}`](#step-{})", anchor(title))
        })
        .collect();
    page.push_str(&format!("{}\n", titles.join(" · ")));
    for step in steps {
        let title = step["title"].as_str().unwrap();
        let shape = &step["allOf"][0];
        let body = match shape["$ref"].as_str() {
            Some(reference) => &defs[reference.rsplit('/').next().unwrap()],
            None => shape,
        };
        page.push_str(&renderer.definition(&format!("Step `{title}`"), body));
        // `check`: which parameters each built-in check takes.
        if let Some(checks) = shape["oneOf"].as_array() {
            page.push_str("\nThe checks, and their `params`:\n\n");
            for check in checks {
                page.push_str(&format!(
                    "- `check = {}`: `params` is {}\n",
                    check["properties"]["check"]["const"],
                    renderer.type_of(&check["properties"]["params"])
                ));
            }
        }
    }
    page.push_str("\n## Types\n\nThe shapes the keys above refer to.\n");
    for (name, schema) in sorted(renderer.defs) {
        if step_definitions.contains(name) {
            continue;
        }
        page.push_str(&renderer.definition(&format!("`{name}`"), schema));
    }
    page
}

pub(super) fn report_page() -> String {
    let root = schema("report.schema.json");
    let defs = root["$defs"].as_object().expect("$defs");
    let renderer = Renderer {
        defs,
        anchors: defs
            .keys()
            .map(|name| (name.clone(), anchor(name)))
            .collect(),
    };
    let mut page = super::generated_notice(
        "[`harness/schema/report.schema.json`](../../schema/report.schema.json)",
    );
    page.push_str(&format!(
        "\n# The JSON report: every field\n\n{}\n\nWhat the report is for and how its points \
         count: [the guide](../guide/reading-a-report.md#--json-file).\n\n## The document\n\n",
        text_of(root.get("description"))
    ));
    page.push_str(&renderer.table(&root));
    page.push_str("\n## Its parts\n");
    for (name, schema) in sorted(renderer.defs) {
        page.push_str(&renderer.definition(&format!("`{name}`"), schema));
    }
    page
}
