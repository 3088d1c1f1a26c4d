//! `harness list`: every task, its scenarios and the clauses each checks; with `--task`,
//! also the task's part of the contract (`scenarios/SPEC.md`): its command lines and the
//! text of its clauses.

use std::fmt::Write;
use std::path::Path;

use super::{load, scenarios_dir};
use crate::catalogue::TaskInfo;
use crate::scenario::Suite;
use crate::spec::{self, Section, Spec};
use crate::{EXIT_PASS, Result};

/// The width clause texts are wrapped to.
const WIDTH: usize = 96;

pub(super) fn list(scenarios: Option<&Path>, tasks: &[String]) -> Result<i32> {
    let suite = load(scenarios, tasks)?;
    // Only with --task: the contract of every task is a page long.
    let page = scenarios_dir(scenarios).join(spec::FILE);
    let contract = match (tasks.is_empty(), page.is_file()) {
        (false, true) => Some(Spec::load(&page)?),
        _ => None,
    };
    // Where the reader finds the page: the kit's as the README names it, another as given.
    let page_name = match scenarios {
        Some(dir) => dir.join(spec::FILE).display().to_string(),
        None => format!("scenarios/{}", spec::FILE),
    };
    let mut out = String::new();
    for (task, info) in &suite.catalogue.tasks {
        if !tasks.is_empty() && !tasks.contains(task) {
            continue;
        }
        out += &task_line(task, info);
        if !tasks.is_empty() {
            out += &match (
                &contract,
                contract.as_ref().and_then(|c| c.section_of(task)),
            ) {
                (_, Some(section)) => contract_of(section, &page_name),
                (Some(_), None) => format!("  (no section of {page_name} covers it)\n"),
                (None, _) => format!("  ({page_name} is missing: clause ids only)\n"),
            };
            out += "  scenarios\n";
        }
        out += &scenario_lines(&suite, task, if tasks.is_empty() { 2 } else { 4 });
    }
    print!("{out}");
    Ok(EXIT_PASS)
}

/// `message: Sequential message server and client (message-server {port} · ...)`.
fn task_line(task: &str, info: &TaskInfo) -> String {
    let roles: Vec<String> = info
        .roles
        .iter()
        .map(|(role, args)| {
            format!("{} {args}", info.program_name(task, role))
                .trim_end()
                .to_owned()
        })
        .collect();
    format!("{task}: {} ({})\n", info.title, roles.join(" · "))
}

/// A task's scenarios, one line each: id, clauses, category and points, requirement.
fn scenario_lines(suite: &Suite, task: &str, indent: usize) -> String {
    let of_task: Vec<_> = suite
        .scenarios
        .iter()
        .filter(|scenario| scenario.task == task)
        .collect();
    if of_task.is_empty() {
        return format!("{:indent$}(no scenarios yet)\n", "");
    }
    let mut out = String::new();
    for scenario in of_task {
        let _ = writeln!(
            out,
            "{:indent$}{:<36} {:<24} {:<12} {}",
            "",
            scenario.id,
            scenario.clauses.join(" "),
            format!("{} {}pt", scenario.category.name(), scenario.points),
            scenario.requirement.lines().next().unwrap_or("")
        );
    }
    out
}

/// A task's section of the contract: where it is, its command lines, each clause's text.
fn contract_of(section: &Section, page_name: &str) -> String {
    let mut out = format!("  command lines ({page_name}#{})\n", section.anchor);
    for command in &section.commands {
        // All code: the backticks would only frame every line.
        let command = spec::plain(command).replace('`', "");
        for (index, line) in spec::wrap(&command, WIDTH - 6).iter().enumerate() {
            let indent = if index == 0 { 4 } else { 6 };
            let _ = writeln!(out, "{:indent$}{line}", "");
        }
    }
    out += "  clauses\n";
    let id_width = section
        .clauses
        .iter()
        .map(|clause| clause.id.len())
        .max()
        .unwrap_or(0);
    for clause in &section.clauses {
        let lines = spec::wrap(&spec::plain(&clause.text), WIDTH - 4 - id_width - 2);
        for (index, line) in lines.iter().enumerate() {
            let id = if index == 0 { clause.id.as_str() } else { "" };
            let _ = writeln!(out, "    {id:<id_width$}  {line}");
        }
    }
    out
}
