//! Every value a scenario gives a program reaches it where the program takes it, and
//! nothing the manifest says is a prompt counts against it: a positional word read with
//! `input()` (`stdin = "{1}\n"`), the prompts a program writes before each mapped line
//! (`prompts`).

use crate::common::{harness, submission};

use std::path::Path;

use predicates::prelude::*;

/// The good sample's `mx-lookup.py`, reading its address with `input(prompt)` instead of
/// from its command line, then printing `before` ahead of its answer.
fn lookup_reading_its_address(prompt: &str, before: &str) -> String {
    let good = std::fs::read_to_string(
        crate::common::kit_root().join("fixtures/submissions/good/mx-lookup.py"),
    )
    .unwrap();
    let changed = good
        .replace("    parser.add_argument(\"address\")\n", "")
        .replace(
            "    args = parser.parse_args()\n",
            &format!("    args = parser.parse_args()\n    args.address = input({prompt:?})\n"),
        )
        .replace(
            "    sys.stdout.write(out)\n",
            &format!("    sys.stdout.write({before:?} + out)\n"),
        );
    assert!(changed.contains("input(") && !changed.contains("add_argument(\"address\")"));
    changed
}

fn grade(folder: &Path, pattern: &str) -> assert_cmd::assert::Assert {
    harness()
        .arg("--target")
        .arg(folder)
        .args(["--seed", "1", pattern])
        .assert()
}

/// `{1}` in `stdin`: the scenario's address (its first word that is no option) on the
/// program's stdin, and not on its command line, where `--dns` still goes.
#[test]
fn an_address_read_with_input_is_each_scenarios_own() {
    let folder = submission(&[
        ("mx.py", &lookup_reading_its_address("", "")),
        (
            "submission.toml",
            "[mx-lookup]\nlookup = { command = \"python3 mx.py\", stdin = \"{1}\\n\" }\n",
        ),
    ]);
    // 01 asks for alice@ties.example.com, 05 for a domain that does not exist.
    grade(folder.path(), "mx-lookup/0[15]-*")
        .success()
        .stdout(predicate::str::contains("2 passed, 0 failed"));
}

/// A placeholder that names no value of the scenarios is the manifest's error, with its
/// line, its key and the values there are, before any scenario runs.
#[test]
fn a_placeholder_naming_no_value_is_refused_with_its_line() {
    for (stdin, named) in [
        ("{address}", "{address}"),
        ("{2}", "{2}"),
        ("{--dsn}", "{--dsn}"),
    ] {
        let folder = submission(&[
            ("mx.py", &lookup_reading_its_address("", "")),
            (
                "submission.toml",
                &format!("[mx-lookup]\nlookup = \"python3 mx.py\"\nstdin = \"{stdin}\\n\"\n"),
            ),
        ]);
        grade(folder.path(), "mx-lookup/01-*")
            .code(2)
            .stderr(predicate::str::contains(format!(
                "submission.toml:3: [mx-lookup] lookup stdin: `{named}` names no value the scenarios give this program; they give {{host}}, {{port}}, {{dir}}, {{--dns}}, {{1}}"
            )));
    }
}

/// Every sample submission's manifest names only values its scenarios give.
#[test]
fn the_sample_manifests_name_only_values_the_scenarios_give() {
    let suite = crate::common::suite();
    let values = harness::scenario::scenario_values(&suite);
    let samples = crate::common::kit_root().join("fixtures/submissions");
    let mut checked = 0;
    for entry in std::fs::read_dir(&samples).unwrap() {
        let folder = entry.unwrap().path();
        if !folder.join("submission.toml").is_file() {
            continue;
        }
        let target = harness::target::Target::from_folder(
            &folder,
            &suite.catalogue,
            &crate::common::companions(),
        )
        .unwrap();
        harness::target::placeholders::check_placeholders(&target, &suite.catalogue, &values)
            .unwrap_or_else(|error| panic!("{}: {error}", folder.display()));
        checked += 1;
    }
    assert!(checked > 5, "{checked} manifests");
}

/// `prompts`: what a program writes before it reads each mapped line is taken off its
/// stdout, so the exact check of its answer passes; without `prompts` the prompt is
/// output, and real output before the answer still fails with `prompts`.
#[test]
fn a_prompt_before_a_mapped_line_is_not_output_but_wrong_output_still_is() {
    let prompted = |before: &str, prompts: &str| {
        submission(&[
            (
                "mx.py",
                &lookup_reading_its_address("Enter an e-mail address: ", before),
            ),
            (
                "submission.toml",
                &format!(
                    "[mx-lookup]\nlookup = {{ command = \"python3 mx.py\", stdin = \"{{1}}\\n\"{prompts} }}\n"
                ),
            ),
        ])
    };
    let named = ", prompts = [\"Enter an e-mail address: \"]";
    grade(prompted("", named).path(), "mx-lookup/01-*")
        .success()
        .stdout(predicate::str::contains("1 passed, 0 failed"));
    grade(prompted("", "").path(), "mx-lookup/01-*")
        .code(1)
        .stdout(predicate::str::contains("Enter an e-mail address: 5"));
    grade(prompted("Looking up...\n", named).path(), "mx-lookup/01-*")
        .code(1)
        .stdout(predicate::str::contains("Looking up..."));
    // More prompts than mapped lines: a prompt asks for one of them.
    let too_many = ", prompts = [\"Enter an e-mail address: \", \"Looking up...\\n\"]";
    grade(prompted("", too_many).path(), "mx-lookup/01-*")
        .code(2)
        .stderr(predicate::str::contains(
            "[mx-lookup] lookup: `prompts` names 2 prompts, but its `stdin` maps 1 line",
        ));
}
