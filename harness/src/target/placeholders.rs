//! The placeholders of a manifest's command lines and `stdin`: every value a scenario gives
//! a program, placed where the program takes it.
//!
//! - `{host}`, `{port}`, `{dir}`, and the role's own of `scenarios/tasks.toml` (`{port2}`,
//!   `{name}`, `{password}`...): the harness's values and the scenario's `with`;
//! - `{--user}`, `{--dns}`: the value the scenario gives that option (`--user alice`);
//! - `{1}`, `{2}` ... `{9}`: the scenario's first, second ... word that is neither an
//!   option nor an option's value (the address `mx-lookup` looks up, the file `ftp-upload`
//!   sends).
//!
//! An option or a word placed so is not appended to the command line again: a program that
//! asks for its address with `input()` gets it on its stdin (`stdin = "{1}\n"`), not as an
//! argument it would not read.
//!
//! A placeholder that names no value the scenarios give the program (`{adress}`, `{--usr}`,
//! a `{2}` where they give one word) is refused when the manifest is read
//! ([`check_placeholders`]), naming its line and key: filled with nothing, or left as
//! written, it would be a failure the student's program seems to have in every scenario.

use std::collections::{BTreeMap, BTreeSet};

use super::{RoleProgram, Target};
use crate::catalogue::Catalogue;
use crate::error::line_of;
use crate::{Error, Result};

/// The names `{1}` to `{9}` give the scenario's words that are not options, in order.
pub const POSITIONAL_NAMES: [&str; 9] = ["1", "2", "3", "4", "5", "6", "7", "8", "9"];

/// A placeholder: a word in braces (`{port}`, `{--user}`, `{1}`). Other text in braces
/// (`{"id": 1}`, a line of JSON a program reads) is no placeholder and is left alone.
fn placeholder_pattern() -> regex::Regex {
    regex::Regex::new(r"\{(--?[A-Za-z0-9][A-Za-z0-9-]*|[A-Za-z_][A-Za-z0-9_]*|[0-9]+)\}")
        .expect("a valid pattern")
}

/// The placeholders of `text`, by name (`port`, `--user`, `1`), in order, each once.
pub fn names_in(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for found in placeholder_pattern().captures_iter(text) {
        if !names.iter().any(|name| *name == found[1]) {
            names.push(found[1].to_owned());
        }
    }
    names
}

/// The indices in `words` (a scenario's `args`) of the words that are neither options nor
/// an option's value, by the rule of [`super::parsed_args`]: an option (`--dns`) takes
/// the next word as its value unless it is itself an option or it wrote one (`--dns=x`).
fn positional_indices(words: &[String]) -> Vec<usize> {
    super::parsed_args(words)
        .into_iter()
        .filter(|(_, option)| option.is_none())
        .map(|(span, _)| span.start)
        .collect()
}

/// The words of `words` (a scenario's `args`) that are neither options nor an option's
/// value, in order: what `{1}`, `{2}` ... name.
pub fn positional_words(words: &[String]) -> Vec<String> {
    positional_indices(words)
        .into_iter()
        .map(|index| words[index].clone())
        .collect()
}

/// `words` without the positional words a template placed (`placed`: 1 for `{1}`).
pub fn without_positionals(words: &[String], placed: &[usize]) -> Vec<String> {
    let left_out: BTreeSet<usize> = positional_indices(words)
        .into_iter()
        .enumerate()
        .filter(|(number, _)| placed.contains(&(number + 1)))
        .map(|(_, index)| index)
        .collect();
    words
        .iter()
        .enumerate()
        .filter(|(index, _)| !left_out.contains(index))
        .map(|(_, word)| word.clone())
        .collect()
}

impl RoleProgram {
    /// The scenario's positional words its command line or stdin places itself (`{1}`):
    /// they are filled with the word, and not appended.
    pub fn placed_positionals(&self) -> Vec<usize> {
        let mut placed: Vec<usize> = self
            .template
            .iter()
            .chain(self.stdin_prefix.as_ref())
            .flat_map(|text| names_in(text))
            .filter_map(|name| name.parse::<usize>().ok())
            .filter(|number| *number >= 1)
            .collect();
        placed.sort_unstable();
        placed.dedup();
        placed
    }
}

/// What the scenarios give each role of each task, beyond the harness's own values: the
/// options of their `args`, how many positional words at most, and the role's own
/// placeholders their `with` fills.
#[derive(Debug, Clone, Default)]
pub struct ScenarioValues {
    roles: BTreeMap<(String, String), RoleValues>,
}

/// What the scenarios give one role.
#[derive(Debug, Clone, Default)]
struct RoleValues {
    options: BTreeSet<String>,
    positional: usize,
    own: BTreeSet<String>,
}

impl ScenarioValues {
    /// Adds what one scenario's start of `role` of `task` gives it: its `args` (before
    /// any placeholder in them is filled) and the keys of its `with`.
    pub fn add<'a>(
        &mut self,
        task: &str,
        role: &str,
        args: &[String],
        with: impl IntoIterator<Item = &'a String>,
    ) {
        let values = self
            .roles
            .entry((task.to_owned(), role.to_owned()))
            .or_default();
        values.options.extend(
            super::option_values(args)
                .into_iter()
                .map(|(option, _)| option),
        );
        values.positional = values.positional.max(positional_indices(args).len());
        values.own.extend(with.into_iter().cloned());
    }

    /// Every placeholder the program of `role` of `task` may name, as it is written
    /// (`{port}`, `{--user}`, `{1}`); `None` when no scenario starts that role.
    fn names_for(&self, catalogue: &Catalogue, task: &str, role: &str) -> Option<Vec<String>> {
        let given = self.roles.get(&(task.to_owned(), role.to_owned()))?;
        let mut names: Vec<String> = ["host", "port", "dir"].map(str::to_owned).to_vec();
        let canonical = catalogue
            .tasks
            .get(task)
            .and_then(|info| info.roles.get(role))
            .map(String::as_str)
            .unwrap_or_default();
        names.extend(names_in(canonical));
        names.extend(given.own.iter().cloned());
        names.extend(given.options.iter().cloned());
        names.extend(
            POSITIONAL_NAMES
                .iter()
                .take(given.positional)
                .map(|name| (*name).to_owned()),
        );
        let mut seen = BTreeSet::new();
        names.retain(|name| seen.insert(name.clone()));
        Some(names)
    }
}

/// Refuses a placeholder of `target`'s manifest (in a command line or a `stdin`) that
/// names no value the scenarios give its program: `file:line: [task] role key: ...`, with
/// the values there are. Programs found by their names have the task's canonical
/// arguments, whose placeholders are the harness's; a target without a manifest has
/// nothing to check.
pub fn check_placeholders(
    target: &Target,
    catalogue: &Catalogue,
    values: &ScenarioValues,
) -> Result<()> {
    let Some(manifest) = &target.manifest else {
        return Ok(());
    };
    let text = target
        .graded_folder()
        .and_then(|folder| std::fs::read_to_string(folder.join("submission.toml")).ok())
        .unwrap_or_default();
    for (task, roles) in &target.programs {
        for (role, program) in roles {
            let Some(known) = values.names_for(catalogue, task, role) else {
                continue;
            };
            let written = program
                .stdin_prefix
                .iter()
                .map(|stdin| ("stdin", stdin.as_str()))
                .chain(
                    program
                        .template
                        .iter()
                        .map(|word| ("command", word.as_str())),
                );
            for (key, text_written) in written {
                let Some(unknown) = names_in(text_written)
                    .into_iter()
                    .find(|name| !known.contains(name))
                else {
                    continue;
                };
                let placeholder = format!("{{{unknown}}}");
                let offset = text.find(&placeholder).unwrap_or(0);
                let listed: Vec<String> = known.iter().map(|name| format!("{{{name}}}")).collect();
                let positional = match known.iter().any(|name| name == "1") {
                    true => "; {1}, {2}... are the words that are not options, in order",
                    false => "",
                };
                return Err(Error::BadFile {
                    path: manifest.clone(),
                    line: line_of(&text, offset),
                    reason: format!(
                        "[{task}] {role} {key}: `{placeholder}` names no value the scenarios give this program; they give {}{positional}",
                        listed.join(", ")
                    ),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn positional_words_are_those_no_option_takes() {
        let args = words("alice@ties.example.com --dns 127.0.0.1:53");
        assert_eq!(positional_words(&args), words("alice@ties.example.com"));
        // `--password=` takes no next word; `--tls` takes FILE.bin as its value, as
        // `option_values` reads it.
        let args = words("--password=s3cret more --tls FILE.bin --list");
        assert_eq!(positional_words(&args), words("more"));
        let args = words("--user alice --password s3cret-ftp /site/photo.bin");
        assert_eq!(positional_words(&args), words("/site/photo.bin"));
        assert_eq!(
            without_positionals(&args, &[1]),
            words("--user alice --password s3cret-ftp")
        );
        let args = words("one --dns x two");
        assert_eq!(without_positionals(&args, &[2]), words("one --dns x"));
        assert_eq!(without_positionals(&args, &[]), args);
    }

    #[test]
    fn only_words_in_braces_are_placeholders() {
        assert_eq!(
            names_in("{1}\n{--user}\n{port}:{port} {\"id\": 1} {} { port }"),
            words("1 --user port")
        );
        let program = RoleProgram {
            template: words("python3 mx.py {2}"),
            stdin_prefix: Some("{1}\n{--dns}\n".into()),
            ..RoleProgram::default()
        };
        assert_eq!(program.placed_positionals(), vec![1, 2]);
    }

    #[test]
    fn a_role_may_name_what_its_scenarios_give_it() {
        let kit = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let catalogue = Catalogue::load(&kit.join("scenarios/tasks.toml")).unwrap();
        let mut values = ScenarioValues::default();
        values.add(
            "mx-lookup",
            "lookup",
            &words("alice@ties.example.com --dns {host}:{port}"),
            &[],
        );
        values.add("chat", "client", &[], &["name".to_owned()]);
        let names = values.names_for(&catalogue, "mx-lookup", "lookup").unwrap();
        assert_eq!(names, words("host port dir --dns 1"));
        let names = values.names_for(&catalogue, "chat", "client").unwrap();
        assert_eq!(names, words("host port dir name"));
        assert!(values.names_for(&catalogue, "message", "server").is_none());
    }
}
