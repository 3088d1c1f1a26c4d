//! The contract inside the kit (`scenarios/SPEC.md`): every clause a scenario cites is
//! defined there, every clause defined is checked by a scenario, every task of the
//! catalogue has its section, `harness list --task` prints the text of its clauses, and
//! every link of the documentation (the README, CONTRIBUTING, the guide and the reference
//! pages, the sample submissions' page, the spec) leads to a file (and a heading) of the
//! repository.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use harness::spec::{self, Spec};

use crate::architecture::rust_files;
use crate::common;

/// Tasks that have a section in SPEC.md, and are being written now (scenarios, reference,
/// packs): their clauses are exempt from "cited by some scenario" *while the task is absent
/// from `scenarios/tasks.toml`*. The moment a task is added to the catalogue, every one of
/// its clauses must be cited, whatever this list says.
const TASKS_NOT_YET_IN_THE_CATALOGUE: &[&str] = &[];

/// Clauses of catalogued tasks that no scenario checks yet, each with why. Empty: every
/// clause of every catalogued task is cited. A clause added here is visible debt.
const CLAUSES_NO_SCENARIO_CHECKS_YET: &[(&str, &str)] = &[];

fn contract() -> Spec {
    Spec::load(&common::kit_root().join("scenarios").join(spec::FILE))
        .expect("scenarios/SPEC.md reads")
}

#[test]
fn every_clause_a_scenario_cites_is_defined_in_the_spec() {
    let contract = contract();
    let suite = common::suite();
    let mut undefined = Vec::new();
    for scenario in &suite.scenarios {
        for clause in &scenario.clauses {
            if contract.clause(clause).is_none() {
                undefined.push(format!("{} cites {clause}", scenario.id));
            }
        }
    }
    assert!(
        undefined.is_empty(),
        "clauses not defined in scenarios/SPEC.md:\n{}",
        undefined.join("\n")
    );
}

#[test]
fn every_clause_of_a_catalogued_task_is_cited_by_some_scenario() {
    let contract = contract();
    let suite = common::suite();
    let cited: BTreeSet<&str> = suite
        .scenarios
        .iter()
        .flat_map(|scenario| scenario.clauses.iter().map(String::as_str))
        .collect();
    let catalogued = |task: &String| suite.catalogue.tasks.contains_key(task);
    let mut uncited = Vec::new();
    for (section, clause) in contract.clauses() {
        let exempt_task = !section.tasks.iter().any(catalogued);
        let exempt_clause = CLAUSES_NO_SCENARIO_CHECKS_YET
            .iter()
            .any(|(id, _)| *id == clause.id);
        if !cited.contains(clause.id.as_str()) && !exempt_task && !exempt_clause {
            uncited.push(clause.id.clone());
        }
    }
    assert!(
        uncited.is_empty(),
        "clauses no scenario cites: {}",
        uncited.join(", ")
    );
    // An exemption that no longer holds is removed, so the list stays true.
    for (id, why) in CLAUSES_NO_SCENARIO_CHECKS_YET {
        assert!(
            !cited.contains(id),
            "{id} is cited now: take it off the list ({why})"
        );
        assert!(contract.clause(id).is_some(), "{id} is not a clause");
    }
}

#[test]
fn every_task_has_its_section_with_its_programs_command_lines() {
    let contract = contract();
    let suite = common::suite();
    for (task, info) in &suite.catalogue.tasks {
        let section = contract
            .section_of(task)
            .unwrap_or_else(|| panic!("no section of scenarios/SPEC.md covers `{task}`"));
        // Each role's program opens one of the section's command lines.
        let programs: Vec<String> = section
            .commands
            .iter()
            .filter_map(|command| {
                let code = command.strip_prefix('`')?;
                Some(
                    code.split_whitespace()
                        .next()?
                        .trim_end_matches('`')
                        .to_owned(),
                )
            })
            .collect();
        for role in info.roles.keys() {
            let program = info.program_name(task, role);
            assert!(
                programs.contains(&program),
                "the section of `{task}` gives no command line for `{program}` (it has {programs:?})"
            );
        }
    }
    // A section names catalogued tasks, or tasks on their way there.
    for section in &contract.sections {
        for task in &section.tasks {
            assert!(
                suite.catalogue.tasks.contains_key(task)
                    || TASKS_NOT_YET_IN_THE_CATALOGUE.contains(&task.as_str()),
                "SPEC.md has a section for `{task}`, a task neither in tasks.toml nor expected"
            );
        }
    }
    assert_eq!(
        contract.questions.len(),
        harness::questions::QUESTIONS.len(),
        "SPEC.md lists the lab questions `harness questions` answers"
    );
}

/// The harness, run from `dir`, without colors.
fn harness_in(dir: &Path) -> Command {
    let mut command = Command::cargo_bin("harness").unwrap();
    command.current_dir(dir).env("NO_COLOR", "1");
    command
}

#[test]
fn list_with_a_task_prints_its_command_lines_and_the_text_of_its_clauses() {
    let kit = tempfile::tempdir().unwrap();
    let scenarios = kit.path().join("scenarios");
    std::fs::create_dir_all(scenarios.join("message")).unwrap();
    std::fs::write(
        scenarios.join("tasks.toml"),
        "[message]\ntitle = \"Sequential message server and client\"\n\
         roles = { server = \"{port}\", client = \"{host} {port}\" }\n\
         [echo]\ntitle = \"Echo\"\nroles = { server = \"{port}\" }\n",
    )
    .unwrap();
    std::fs::write(
        scenarios.join(spec::FILE),
        "# Contract\n\n### message\n\nCommand lines:\n\n- `message-server {port}`\n\
         - `message-client {host} {port} < FILE`\n\nClauses:\n\n\
         - **message/1** The server prints, on stdout, exactly the bytes each client sent, \
         nothing more: no banner, no `connected by`\n  line, no newline of its own.\n\
         - **message/2** One client at a time *(decided)*.\n",
    )
    .unwrap();
    std::fs::write(
        scenarios.join("message/01-one.toml"),
        "task = \"message\"\nclauses = [\"message/1\", \"message/2\"]\ncategory = \"basic\"\n\
         points = 2\nrequirement = \"The server prints what one client sent.\"\n\n\
         [[step]]\nstart = \"server\"\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        let output = harness_in(kit.path()).args(args).output().unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    insta::assert_snapshot!(
        "list_with_a_task",
        run(&["list", "--task", "message", "--task", "echo"])
    );
    // Without --task: one line per task and per scenario, as before.
    insta::assert_snapshot!("list_without_a_task", run(&["list"]));
}

#[test]
fn list_with_every_task_prints_every_clause_of_the_kits_contract_whole() {
    let contract = contract();
    let suite = common::suite();
    let mut args = vec!["list".to_owned()];
    for task in suite.catalogue.tasks.keys() {
        args.extend(["--task".to_owned(), task.clone()]);
    }
    let output = harness_in(&common::kit_root())
        .args(&args)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let printed = String::from_utf8(output.stdout).unwrap();
    // Wrapping only adds line ends and indentation: read the words as one line.
    let words = printed.split_whitespace().collect::<Vec<_>>().join(" ");
    for task in suite.catalogue.tasks.keys() {
        let section = contract.section_of(task).unwrap();
        assert!(
            printed.contains(&format!("(scenarios/SPEC.md#{})", section.anchor)),
            "{task}: where its section is"
        );
        for clause in &section.clauses {
            let text = spec::plain(&clause.text);
            let expected = format!(
                "{} {}",
                clause.id,
                text.split_whitespace().collect::<Vec<_>>().join(" ")
            );
            assert!(words.contains(&expected), "{task}: {} whole", clause.id);
        }
    }
}

/// The lines of a Markdown text outside its fenced code blocks.
fn prose_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut in_fence = false;
    text.lines().filter(move |line| {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            return false;
        }
        !in_fence
    })
}

/// Every Markdown link `[text](target)` of `text`, outside code blocks and code spans.
fn links_of(text: &str) -> Vec<String> {
    let link = regex::Regex::new(r"\]\(([^)\s]+)\)").unwrap();
    let code_span = regex::Regex::new(r"`[^`]*`").unwrap();
    prose_lines(text)
        .flat_map(|line| {
            let line = code_span.replace_all(line, "");
            link.captures_iter(&line)
                .map(|found| found[1].to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The anchors of a Markdown file's headings, as GitHub makes them (a repeated heading's
/// anchor gets `-1`, `-2`...).
fn anchors_of(text: &str) -> BTreeSet<String> {
    let mut anchors = BTreeSet::new();
    for line in prose_lines(text) {
        let Some(heading) = line
            .strip_prefix('#')
            .map(|rest| rest.trim_start_matches('#'))
        else {
            continue;
        };
        if !heading.starts_with(' ') {
            continue;
        }
        let base = spec::anchor(heading);
        let mut anchor = base.clone();
        let mut repeat = 0;
        while !anchors.insert(anchor.clone()) {
            repeat += 1;
            anchor = format!("{base}-{repeat}");
        }
    }
    anchors
}

/// Whether `target` (`path#anchor`, `#anchor`, `path`), as written in `from`, leads to a
/// file of the repository, and to a heading of it when it names one.
fn resolves(from: &Path, target: &str) -> Result<(), String> {
    let (path, anchor) = target.split_once('#').unwrap_or((target, ""));
    let file: PathBuf = if path.is_empty() {
        from.to_owned()
    } else {
        from.parent().unwrap().join(path)
    };
    let root = common::kit_root().canonicalize().unwrap();
    let Ok(found) = file.canonicalize() else {
        return Err(format!("{} does not exist", file.display()));
    };
    if !found.starts_with(&root) {
        return Err(format!("{} is outside the repository", found.display()));
    }
    if !anchor.is_empty() {
        let text = std::fs::read_to_string(&found).map_err(|e| e.to_string())?;
        if !anchors_of(&text).contains(anchor) {
            return Err(format!("{} has no heading `#{anchor}`", found.display()));
        }
    }
    Ok(())
}

/// The kit's documentation pages, from its root: the README, CONTRIBUTING, the spec, the
/// sample submissions' page, and every page of `harness/docs/` (the guide, the reference).
pub(crate) fn documentation_pages() -> Vec<String> {
    let root = common::kit_root();
    let mut pages: Vec<String> = [
        "README.md",
        "CONTRIBUTING.md",
        "scenarios/SPEC.md",
        "fixtures/submissions/README.md",
    ]
    .map(String::from)
    .to_vec();
    for folder in ["harness/docs/guide", "harness/docs/reference"] {
        let mut found: Vec<String> = std::fs::read_dir(root.join(folder))
            .unwrap_or_else(|error| panic!("{folder}: {error}"))
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".md"))
            .map(|name| format!("{folder}/{name}"))
            .collect();
        found.sort();
        pages.extend(found);
    }
    pages
}

#[test]
fn every_relative_link_of_the_documentation_resolves_inside_the_repository() {
    let root = common::kit_root();
    let mut broken = Vec::new();
    let mut checked = 0;
    let pages = documentation_pages();
    assert!(
        pages
            .iter()
            .any(|page| page == "harness/docs/guide/README.md"),
        "the guide's contents page is found ({pages:?})"
    );
    for page in &pages {
        let path = root.join(page);
        let text = std::fs::read_to_string(&path).unwrap();
        for target in links_of(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            if let Err(why) = resolves(&path, &target) {
                broken.push(format!("{page}: ({target}): {why}"));
            }
        }
    }
    assert!(
        checked >= 100,
        "the scan finds the pages' links ({checked})"
    );
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_kit_sends_readers_to_its_own_spec_not_to_files_a_clone_lacks() {
    let root = common::kit_root();
    let mut files: Vec<PathBuf> = documentation_pages()
        .iter()
        .filter(|page| page.as_str() != "scenarios/SPEC.md")
        .map(|page| root.join(page))
        .collect();
    files.push(root.join("scenarios/tasks.toml"));
    rust_files(&root.join("reference/src"), &mut files);
    rust_files(&root.join("harness/src"), &mut files);
    let outside =
        regex::Regex::new(r"shared/(SPEC|DESIGN|STYLE|CRATES|INTEROP)\.md|seeds/").unwrap();
    let named = regex::Regex::new(r"scenarios/SPEC\.md#([a-z0-9-]+)").unwrap();
    let page = root.join("scenarios").join(spec::FILE);
    let anchors = anchors_of(&std::fs::read_to_string(&page).unwrap());
    let mut wrong = Vec::new();
    let mut sections_named = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let shown = file.strip_prefix(&root).unwrap().display();
        for found in outside.find_iter(&text) {
            wrong.push(format!(
                "{shown} names `{}`, which a clone lacks",
                found.as_str()
            ));
        }
        for found in named.captures_iter(&text) {
            sections_named += 1;
            if !anchors.contains(&found[1]) {
                wrong.push(format!(
                    "{shown} names scenarios/SPEC.md#{}, no such heading",
                    &found[1]
                ));
            }
        }
    }
    assert!(
        sections_named >= 10,
        "the reference's reading lists name their sections ({sections_named})"
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
