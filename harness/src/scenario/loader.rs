//! Reads and checks scenario files. Every problem is reported as `file:line: reason`, and
//! every bad file is reported, not just the first.

use crate::error::line_of;
use std::path::{Path, PathBuf};
use std::time::Duration;

use regex::bytes::Regex;
use serde::Deserialize;
use toml::Spanned;
use toml::de::DeValue;

use super::model::{CHECK_PATIENCE, Scenario, Step};
use crate::catalogue::Catalogue;
use crate::outcome::{Category, Visibility};

use crate::steps::Names;
use crate::{Error, Result};

/// Every scenario of the kit, with the catalogue and the root that payload paths start from.
#[derive(Debug, Clone)]
pub struct Suite {
    /// The tasks.
    pub catalogue: Catalogue,
    /// Scenarios sorted by id.
    pub scenarios: Vec<Scenario>,
    /// The kit's root (the parent of `scenarios/`).
    pub kit_root: PathBuf,
}

/// Default limit on a whole scenario.
const DEFAULT_SCENARIO_TIMEOUT_MS: u64 = 30_000;

/// Loads `scenarios_dir/tasks.toml` and every `scenarios_dir/<task>/*.toml`.
pub fn load_suite(scenarios_dir: &Path) -> Result<Suite> {
    let scenarios_dir = &scenarios_dir.canonicalize().map_err(Error::io(format!(
        "cannot open the scenarios folder {}",
        scenarios_dir.display()
    )))?;
    let catalogue = Catalogue::load(&scenarios_dir.join("tasks.toml"))?;
    let kit_root = scenarios_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let mut scenarios = Vec::new();
    let mut errors = Vec::new();
    for task in catalogue.tasks.keys() {
        let folder = scenarios_dir.join(task);
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
            .collect();
        paths.sort();
        for path in paths {
            match load_scenario(&path, task, &catalogue, &kit_root) {
                Ok(variants) => scenarios.extend(variants),
                Err(error) => errors.push(error),
            }
        }
    }
    // A folder that is not a task is a typo the user wants to hear about.
    if let Ok(entries) = std::fs::read_dir(scenarios_dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().is_dir() && !catalogue.tasks.contains_key(&name) {
                errors.push(Error::BadFile {
                    path: entry.path(),
                    line: 0,
                    reason: format!("folder `{name}` is not a task of tasks.toml"),
                });
            }
        }
    }
    match errors.len() {
        0 => Ok(Suite {
            catalogue,
            scenarios,
            kit_root,
        }),
        1 => Err(errors.remove(0)),
        _ => Err(Error::Many(errors)),
    }
}

/// The file as written: every key optional, unknown keys rejected by serde.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScenario {
    #[schemars(with = "String")]
    task: Spanned<String>,
    #[schemars(with = "Vec<String>")]
    clauses: Spanned<Vec<String>>,
    category: Category,
    points: u32,
    requirement: String,
    hint: Option<String>,
    timeout_ms: Option<u64>,
    #[schemars(with = "Option<String>")]
    world: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    visibility: Option<Spanned<String>>,
    #[serde(default)]
    extra: bool,
    /// Master files of `fixtures/zones/` the scenario's own DNS (port 53 of its network
    /// namespace, the system resolver of its programs) is authoritative for.
    #[schemars(with = "Option<Vec<String>>")]
    zones: Option<Spanned<Vec<String>>>,
    /// What `{dir}` is: `{ tree = "lab-notes" }`, a fresh copy of
    /// `fixtures/trees/lab-notes.toml` (default: the test web site).
    #[schemars(with = "Option<RawDir>")]
    dir: Option<Spanned<RawDir>>,
    /// One scenario per role named, `{role}` filled in (`calc/01-arithmetic-threaded`).
    #[schemars(with = "Option<Vec<String>>")]
    for_roles: Option<Spanned<Vec<String>>>,
}

/// `dir = { tree = "lab-notes" }`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDir {
    /// A description of `fixtures/trees/`, by stem.
    tree: String,
    /// The folder is not made: `{dir}` names one that does not exist.
    #[serde(default)]
    missing: bool,
}

fn load_scenario(
    path: &Path,
    folder_task: &str,
    catalogue: &Catalogue,
    kit_root: &Path,
) -> Result<Vec<Scenario>> {
    let text = std::fs::read_to_string(path)
        .map_err(Error::io(format!("cannot read {}", path.display())))?;
    load_scenario_text(path, text, folder_task, catalogue, kit_root)
}

/// [`load_scenario`] of `text`, as if read from `path` (a scenario adapted to a
/// submission: `super::adapt`).
pub(super) fn load_scenario_text(
    path: &Path,
    text: String,
    folder_task: &str,
    catalogue: &Catalogue,
    kit_root: &Path,
) -> Result<Vec<Scenario>> {
    let bad = |line: usize, reason: String| Error::BadFile {
        path: path.to_owned(),
        line,
        reason,
    };
    let toml_error = |error: toml::de::Error| {
        let line = error
            .span()
            .map(|span| line_of(&text, span.start))
            .unwrap_or(1);
        bad(line, error.message().trim().to_owned())
    };
    // The steps are taken apart from the rest: each is read by its own kind (a kind of
    // `crate::steps`, or the older actions below), with spans kept for every error.
    let document = toml::de::DeTable::parse(&text).map_err(toml_error)?;
    let document_span = document.span();
    let (step_entries, rest): (Vec<_>, Vec<_>) = document
        .into_inner()
        .into_iter()
        .partition(|(key, _)| key.get_ref() == "step");
    let raw = RawScenario::deserialize(toml::de::Deserializer::from(Spanned::new(
        document_span,
        rest.into_iter().collect(),
    )))
    .map_err(toml_error)?;
    let raw_steps: Vec<Spanned<DeValue>> = match step_entries.into_iter().next() {
        None => Vec::new(),
        Some((_, value)) => {
            let line = line_of(&text, value.span().start);
            match value.into_inner() {
                DeValue::Array(array) => array.into_iter().collect(),
                _ => return Err(bad(line, "steps are tables: write `[[step]]`".into())),
            }
        }
    };

    let task_line = line_of(&text, raw.task.span().start);
    let task = raw.task.into_inner();
    if task != folder_task {
        return Err(bad(
            task_line,
            format!("task `{task}` does not match its folder `{folder_task}`"),
        ));
    }
    let task_info = &catalogue.tasks[&task];
    let clauses_line = line_of(&text, raw.clauses.span().start);
    let clauses = raw.clauses.into_inner();
    if clauses.is_empty() {
        return Err(bad(
            clauses_line,
            "`clauses` must name at least one SPEC clause".into(),
        ));
    }
    let clause_pattern = Regex::new(r"^[a-z0-9-]+/[0-9]+$").expect("valid regex");
    if let Some(clause) = clauses
        .iter()
        .find(|clause| !clause_pattern.is_match(clause.as_bytes()))
    {
        return Err(bad(
            clauses_line,
            format!("clause `{clause}` is not a SPEC clause id like `message/3`"),
        ));
    }
    if raw_steps.is_empty() {
        return Err(bad(1, "a scenario needs at least one [[step]]".into()));
    }
    let (simulated_only, real_only) = match &raw.world {
        None => (false, false),
        Some(world) if world.get_ref() == "simulated" => (true, false),
        Some(world) if world.get_ref() == "real" => (false, true),
        Some(world) => {
            return Err(bad(
                line_of(&text, world.span().start),
                format!(
                    "world `{}` is not known: leave `world` out (both worlds) or write `world = \"simulated\"` or `world = \"real\"`",
                    world.get_ref()
                ),
            ));
        }
    };

    let visibility = match &raw.visibility {
        None => None,
        Some(word) => Some(Visibility::from_name(word.get_ref()).map_err(|reason| {
            bad(
                line_of(&text, word.span().start),
                format!("{reason}: `visibility` says when Gradescope shows the result"),
            )
        })?),
    };
    // The zones are read now, so that a mistake in one is this file's error, with its line.
    let zone = match &raw.zones {
        None => None,
        Some(zones) => {
            let line = line_of(&text, zones.span().start);
            let zone = crate::peers::dns::Zone::with_kit_files(kit_root, zones.get_ref())
                .map_err(|reason| bad(line, reason))?;
            if !real_only {
                return Err(bad(
                    line,
                    "`zones` set what the system's resolver answers, which the simulated world has none of: add `world = \"real\"`".into(),
                ));
            }
            Some(std::sync::Arc::new(zone))
        }
    };
    let dir_tree = match &raw.dir {
        None => None,
        Some(dir) => {
            let line = line_of(&text, dir.span().start);
            let tree = crate::tree::Tree::load(kit_root, &dir.get_ref().tree)
                .map_err(|reason| bad(line, reason))?;
            Some(crate::scenario::DirTree {
                tree,
                missing: dir.get_ref().missing,
            })
        }
    };
    // `for_roles = ["threaded", "select"]`: one scenario per role, `{role}` filled in.
    let variants: Vec<Option<String>> = match &raw.for_roles {
        None => vec![None],
        Some(roles) => {
            let line = line_of(&text, roles.span().start);
            if roles.get_ref().is_empty() {
                return Err(bad(line, "`for_roles` names one role or more".into()));
            }
            if let Some(role) = roles
                .get_ref()
                .iter()
                .find(|role| !task_info.roles.contains_key(role.as_str()))
            {
                let known: Vec<&str> = task_info.roles.keys().map(String::as_str).collect();
                return Err(bad(
                    line,
                    format!(
                        "`for_roles`: this task has no role `{role}` (roles: {})",
                        known.join(", ")
                    ),
                ));
            }
            if !text.contains("{role}") {
                return Err(bad(
                    line,
                    "`for_roles` repeats the scenario per role: write `{role}` where the role goes"
                        .into(),
                ));
            }
            roles.get_ref().iter().cloned().map(Some).collect()
        }
    };
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let mut scenarios = Vec::new();
    for role in variants {
        let mut raw_steps = raw_steps.clone();
        let fill = |text: &str| match &role {
            Some(role) => text.replace("{role}", role),
            None => text.to_owned(),
        };
        if let Some(role) = &role {
            for step in &mut raw_steps {
                fill_role(step.get_mut(), role);
            }
        }
        let patience = raw_steps
            .iter()
            .map(|step| patience(step.get_ref()))
            .max()
            .unwrap_or_default();
        let steps = load_steps(raw_steps, &text, &bad, &toml_error, task_info, kit_root)?;
        if !simulated_only
            && let Some(step) = steps.iter().find(|step| step.action.0.simulated_only())
        {
            return Err(bad(
                step.line,
                "partitions exist only in the simulated world: add `world = \"simulated\"`".into(),
            ));
        }
        scenarios.push(Scenario {
            id: match &role {
                Some(role) => format!("{task}/{stem}-{role}"),
                None => format!("{task}/{stem}"),
            },
            task: task.clone(),
            clauses: clauses.clone(),
            category: raw.category,
            points: raw.points,
            requirement: fill(raw.requirement.trim()),
            hint: raw.hint.as_deref().map(|hint| fill(hint.trim())),
            timeout: Duration::from_millis(raw.timeout_ms.unwrap_or(DEFAULT_SCENARIO_TIMEOUT_MS)),
            steps,
            path: path.to_owned(),
            simulated_only,
            real_only,
            extra: raw.extra,
            kit_root: kit_root.to_owned(),
            visibility,
            well_known_ports: task_info.well_known_ports.clone(),
            datagrams: task_info.datagrams || zone.is_some(),
            zone: zone.clone(),
            dir_tree: dir_tree.clone(),
            patience,
        });
    }
    Ok(scenarios)
}

/// The longest wait a step names: its largest `within_ms` anywhere inside it, or
/// [`CHECK_PATIENCE`] for a `check` (see [`Scenario::patience`]).
fn patience(value: &DeValue<'_>) -> Duration {
    match value {
        DeValue::Array(items) => items
            .iter()
            .map(|item| patience(item.get_ref()))
            .max()
            .unwrap_or_default(),
        DeValue::Table(table) => table
            .iter()
            .map(
                |(key, item)| match (key.get_ref().as_ref(), item.get_ref()) {
                    ("within_ms", DeValue::Integer(ms)) => {
                        u64::from_str_radix(&ms.as_str().replace('_', ""), ms.radix())
                            .map(Duration::from_millis)
                            .unwrap_or_default()
                    }
                    ("check", _) => CHECK_PATIENCE,
                    (_, inner) => patience(inner),
                },
            )
            .max()
            .unwrap_or_default(),
        _ => Duration::ZERO,
    }
}

/// Writes `role` wherever a string of the step says `{role}`.
fn fill_role(value: &mut DeValue<'_>, role: &str) {
    match value {
        DeValue::String(text) if text.contains("{role}") => {
            *text = text.replace("{role}", role).into();
        }
        DeValue::Array(items) => {
            for item in items.iter_mut() {
                fill_role(item.get_mut(), role);
            }
        }
        DeValue::Table(table) => {
            for (_, item) in table.iter_mut() {
                fill_role(item.get_mut(), role);
            }
        }
        _ => {}
    }
}

/// The keys each registered step kind takes, read from its schema: the kind's own key and
/// the properties of its shape.
fn keys_of_kinds() -> &'static std::collections::BTreeMap<&'static str, Vec<String>> {
    static KEYS: std::sync::OnceLock<std::collections::BTreeMap<&'static str, Vec<String>>> =
        std::sync::OnceLock::new();
    KEYS.get_or_init(|| {
        let mut generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
        crate::steps::REGISTRY
            .iter()
            .map(|kind| {
                let shape = (kind.schema)(&mut generator).to_value();
                let mut keys = Vec::new();
                // A kind's shape is a definition of its own, or written out in place.
                let definition = match shape["$ref"].as_str() {
                    Some(reference) => reference
                        .rsplit('/')
                        .next()
                        .and_then(|name| generator.definitions().get(name))
                        .cloned()
                        .unwrap_or_default(),
                    None => shape,
                };
                if let Some(properties) = definition["properties"].as_object() {
                    keys.extend(properties.keys().filter(|key| *key != kind.key).cloned());
                }
                (kind.key, keys)
            })
            .collect()
    })
}

/// Every key some step takes: a key one action takes and another does not is worth a
/// clearer message than serde's "unknown field" (a misspelt key still gets serde's, at its
/// own line).
fn known_step_keys() -> &'static std::collections::BTreeSet<String> {
    static KEYS: std::sync::OnceLock<std::collections::BTreeSet<String>> =
        std::sync::OnceLock::new();
    KEYS.get_or_init(|| {
        keys_of_kinds()
            .iter()
            .flat_map(|(key, keys)| std::iter::once((*key).to_owned()).chain(keys.iter().cloned()))
            .collect()
    })
}

/// The keys besides its own that an action takes.
fn modifiers_of(action: &str) -> Vec<&'static str> {
    keys_of_kinds()
        .get(action)
        .map(|keys| keys.iter().map(String::as_str).collect())
        .unwrap_or_default()
}

/// Names the first key of a step that another action takes and this one does not.
fn key_of_another_action(keys: &[&str], action: &str) -> Option<String> {
    let allowed = modifiers_of(action);
    let modifier = keys.iter().find(|key| {
        **key != action && !allowed.contains(key) && known_step_keys().contains(**key)
    })?;
    Some(if allowed.is_empty() {
        format!("`{modifier}` does not go with `{action}`, which takes nothing else")
    } else {
        format!(
            "`{modifier}` does not go with `{action}` (it takes {})",
            allowed.join(", ")
        )
    })
}

/// Reads a scenario's steps in order, each by its kind, every name checked against what
/// the steps before it defined.
fn load_steps(
    raw_steps: Vec<Spanned<DeValue<'_>>>,
    text: &str,
    bad: &dyn Fn(usize, String) -> Error,
    toml_error: &dyn Fn(toml::de::Error) -> Error,
    task_info: &crate::catalogue::TaskInfo,
    kit_root: &Path,
) -> Result<Vec<Step>> {
    // A partition may name a program that starts later (a client started while the
    // network is already cut): every host exists from the beginning of the simulation.
    let hosts = raw_steps
        .iter()
        .filter_map(|step| {
            let table = step.get_ref().as_table()?;
            let role = table.get("start")?.get_ref().as_str()?;
            let name = table.get("as").and_then(|name| name.get_ref().as_str());
            Some(name.unwrap_or(role).to_owned())
        })
        .collect();
    let mut context = Names {
        hosts,
        ..Names::default()
    };
    let mut steps = Vec::new();
    for (index, spanned) in raw_steps.into_iter().enumerate() {
        let line = line_of(text, spanned.span().start);
        let step_error = |reason: String| bad(line, format!("step {}: {reason}", index + 1));
        let keys: Vec<&str> = spanned
            .get_ref()
            .as_table()
            .map(|table| table.keys().map(|key| key.get_ref().as_ref()).collect())
            .unwrap_or_default();
        let given: Vec<&str> = crate::steps::REGISTRY
            .iter()
            .map(|kind| kind.key)
            .filter(|action| keys.contains(action))
            .collect();
        if given.len() > 1 {
            return Err(step_error(format!(
                "a step has one action, this one has {}",
                given.join(" and ")
            )));
        }
        let Some(kind) = given
            .first()
            .and_then(|action| crate::steps::kind_of(action))
        else {
            let names: Vec<&str> = crate::steps::REGISTRY.iter().map(|kind| kind.key).collect();
            return Err(step_error(format!(
                "a step needs an action, one of: {}",
                names.join(", ")
            )));
        };
        // Keys another action takes are named as such (serde would only say "unknown
        // field" with every key the action takes).
        if let Some(reason) = key_of_another_action(&keys, kind.key) {
            return Err(step_error(reason));
        }
        let input = crate::steps::LoadInput {
            raw: spanned.clone(),
            table: toml::de::ValueDeserializer::from(spanned),
            names: &mut context,
            kit_root,
            task: task_info,
        };
        let action = match (kind.load)(input) {
            Ok(step) => crate::steps::Registered(step),
            Err(crate::steps::LoadError::Toml(error)) => return Err(toml_error(error)),
            Err(crate::steps::LoadError::Invalid(reason)) => return Err(step_error(reason)),
        };
        steps.push(Step { line, action });
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_keys_of_every_step_kind_are_known() {
        let keys = known_step_keys();
        // Keys of step kinds (read from their schemas) and of the older actions.
        for key in [
            "send",
            "then",
            "line",
            "has",
            "lacks",
            "how",
            "reply_slices",
            "stdin",
        ] {
            assert!(keys.contains(key), "{key} is not known: {keys:?}");
        }
        assert!(!keys.contains("sendd"));
    }

    fn patience_of(steps: &str) -> Duration {
        let document = toml::de::DeTable::parse(steps).unwrap();
        let steps = document.get_ref().get("step").unwrap();
        patience(steps.get_ref())
    }

    #[test]
    fn patience_is_the_longest_deadline_a_step_names() {
        let steps = r#"
[[step]]
start = "client"

[[step]]
expect_exit = "client"
within_ms = 9_000

[[step]]
expect_stdout = "client"
within_ms = 0x10
"#;
        assert_eq!(patience_of(steps), Duration::from_millis(9000));
        let with_a_check = "[[step]]\ncheck = \"ping-loss\"\nparams = { pings = 10 }\n";
        assert_eq!(patience_of(with_a_check), CHECK_PATIENCE);
        assert_eq!(
            patience_of("[[step]]\nstart = \"server\"\n"),
            Duration::ZERO
        );
    }
}
