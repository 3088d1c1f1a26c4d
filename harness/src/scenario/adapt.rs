//! A scenario adapted to a value a submission hard-codes.
//!
//! A scenario fills a role's own placeholders (`with = { password = "open sesame" }` for
//! `password-server {port} --password {password}`), and writes the same value where it
//! plays its part (`send = { text = "open sesame\n" }`). A student's server often
//! hard-codes its own (`PASSWORD = '1234'`); `submission.toml` says so (`with = {
//! password = "1234" }`), and the scenario is read again with its value replaced by the
//! program's wherever the file writes it: `open sesame2`, the longer word that must be
//! denied, becomes `12342`.

use std::collections::BTreeMap;

use super::Scenario;
use super::loader::load_scenario_text;
use crate::catalogue::Catalogue;
use crate::target::RoleProgram;
use crate::{Error, Result};

/// `scenario` as `roles` make it, or `None` when no program hard-codes a value the
/// scenario gives.
pub fn adapted(
    scenario: &Scenario,
    roles: &BTreeMap<String, RoleProgram>,
    catalogue: &Catalogue,
) -> Result<Option<Scenario>> {
    let replacements = replacements(scenario, roles);
    if replacements.is_empty() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&scenario.path).map_err(Error::io(format!(
        "cannot read {}",
        scenario.path.display()
    )))?;
    let text = replacements.iter().fold(text, |text, (theirs, ours)| {
        text.replace(theirs, &escaped(ours))
    });
    let variants = load_scenario_text(
        &scenario.path,
        text,
        &scenario.task,
        catalogue,
        &scenario.kit_root,
    )
    .map_err(|error| {
        Error::Usage(format!(
            "{}: the values submission.toml gives ({}) cannot be put into this scenario: {error}",
            scenario.id,
            replacements
                .iter()
                .map(|(_, ours)| format!("`{ours}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    Ok(variants
        .into_iter()
        .find(|variant| variant.id == scenario.id))
}

/// Each value the scenario gives a role whose program hard-codes another, with that other,
/// longest first (so that a value inside another is replaced after it).
fn replacements(
    scenario: &Scenario,
    roles: &BTreeMap<String, RoleProgram>,
) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = scenario
        .steps
        .iter()
        .filter_map(|step| step.action.0.starts())
        .flat_map(|start| {
            let own = roles.get(&start.role).map(|program| &program.own_values);
            start.with.iter().filter_map(move |(key, theirs)| {
                let ours = own?.get(key)?;
                (ours != theirs && !theirs.is_empty()).then(|| (theirs.clone(), ours.clone()))
            })
        })
        .collect();
    found.sort_by_key(|(theirs, _)| std::cmp::Reverse(theirs.len()));
    found.dedup();
    found
}

/// `value` as the inside of a TOML basic string (`"..."`), where scenarios write text.
fn escaped(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for character in value.chars() {
        match character {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            other if other.is_control() => out.push_str(&format!("\\u{:04X}", other as u32)),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn suite() -> super::super::Suite {
        let kit = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        super::super::load_suite(&kit.join("scenarios")).unwrap()
    }

    fn granted_and_denied(suite: &super::super::Suite) -> &Scenario {
        suite
            .scenarios
            .iter()
            .find(|scenario| scenario.id == "password/01-granted-and-denied")
            .unwrap()
    }

    fn server_with(values: &[(&str, &str)]) -> BTreeMap<String, RoleProgram> {
        let program = RoleProgram {
            own_values: values
                .iter()
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .collect(),
            ..RoleProgram::default()
        };
        BTreeMap::from([("server".to_owned(), program)])
    }

    #[test]
    fn a_hard_coded_password_replaces_the_scenarios_everywhere_it_is_written() {
        let suite = suite();
        let scenario = granted_and_denied(&suite);
        let roles = server_with(&[("password", "1234")]);
        let adapted = adapted(scenario, &roles, &suite.catalogue)
            .unwrap()
            .unwrap();
        let start = adapted.steps[0].action.0.starts().unwrap();
        assert_eq!(start.with["password"], "1234");
        // Sent bytes show as numbers: `12342\n` (the longer word) is sent, and no `open `.
        let steps = format!("{:?}", adapted.steps);
        assert!(steps.contains("[49, 50, 51, 52, 50, 10]"), "{steps}");
        assert!(!steps.contains("111, 112, 101, 110, 32"), "{steps}");
        assert_eq!(adapted.steps.len(), scenario.steps.len());
        assert_eq!(adapted.steps[3].line, scenario.steps[3].line);
    }

    #[test]
    fn the_same_value_or_none_leaves_the_scenario_as_it_is() {
        let suite = suite();
        let scenario = granted_and_denied(&suite);
        for roles in [
            server_with(&[("password", "open sesame")]),
            server_with(&[]),
        ] {
            assert!(
                adapted(scenario, &roles, &suite.catalogue)
                    .unwrap()
                    .is_none()
            );
        }
    }

    #[test]
    fn quotes_and_backslashes_survive_the_file() {
        let suite = suite();
        let scenario = granted_and_denied(&suite);
        let roles = server_with(&[("password", "say \"hi\" \\o/")]);
        let adapted = adapted(scenario, &roles, &suite.catalogue)
            .unwrap()
            .unwrap();
        let start = adapted.steps[0].action.0.starts().unwrap();
        assert_eq!(start.with["password"], "say \"hi\" \\o/");
    }
}
