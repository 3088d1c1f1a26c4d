//! The documentation: the reference pages under `harness/docs/reference/` are what the code
//! makes of itself today (the command line from its clap definition, the scenario files'
//! and the JSON report's fields from their schemas), and every command the guide shows in a
//! `console` block runs and exits as the page says.
//!
//! `UPDATE_DOCS=1 cargo test -p harness --test suite docs::` writes the reference pages
//! again.

mod cli_page;
mod commands;
mod schema_page;

use crate::common;

/// Set it to write the reference pages instead of comparing them.
const UPDATE: &str = "UPDATE_DOCS";

/// The command that writes the reference pages again.
const REFRESH: &str = "UPDATE_DOCS=1 cargo test -p harness --test suite docs::";

/// A page's first lines: where it comes from, and that it is not to be edited.
fn generated_notice(source: &str) -> String {
    format!("<!-- Generated from {source} by `{REFRESH}`: do not edit by hand. -->\n")
}

/// Compares the page at `relative` (from the kit's root) with `generated`, or writes it when
/// `UPDATE_DOCS` is set.
fn check_page(relative: &str, generated: &str) {
    let path = common::kit_root().join(relative);
    if std::env::var_os(UPDATE).is_some() {
        if std::fs::read_to_string(&path).ok().as_deref() != Some(generated) {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, generated)
                .unwrap_or_else(|error| panic!("cannot write {relative}: {error}"));
            eprintln!("wrote {relative}");
        }
        return;
    }
    let held = std::fs::read_to_string(&path).unwrap_or_default();
    if held != generated {
        let first = held
            .lines()
            .zip(generated.lines())
            .position(|(held, made)| held != made)
            .unwrap_or_else(|| held.lines().count().min(generated.lines().count()));
        panic!(
            "{relative} is not what the code makes today (first difference at line {}: {:?} where the code makes {:?}): write it again with\n  {REFRESH}",
            first + 1,
            held.lines().nth(first).unwrap_or("(the end of the file)"),
            generated
                .lines()
                .nth(first)
                .unwrap_or("(the end of the file)"),
        );
    }
}

#[test]
fn the_command_line_reference_is_what_clap_says() {
    check_page("harness/docs/reference/cli.md", &cli_page::page());
}

#[test]
fn the_scenario_schema_reference_is_what_the_schema_says() {
    check_page(
        "harness/docs/reference/scenario-schema.md",
        &schema_page::scenario_page(),
    );
}

#[test]
fn the_report_schema_reference_is_what_the_schema_says() {
    check_page(
        "harness/docs/reference/report-schema.md",
        &schema_page::report_page(),
    );
}
