//! Every value a scenario gives a program reaches it where the program takes it, and
//! nothing the kit's manifests add counts against it: a positional word read with
//! `input()` (`stdin = "{1}\n"`), the prompts a program writes before each mapped line
//! (`prompts`), and the Python packages a whole class imports (`--requirements FILE`).

use crate::common::{harness, submission};
use crate::manifests::labtext_wheel;

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

/// An option a scenario does not give is placed empty: 01 names its DNS server with
/// `--dns`, which the program reads as its second line; 02 gives none, and the program
/// reads an empty line, so asks the system's resolver, rather than the text `{--dns}`.
#[test]
fn an_option_a_scenario_does_not_give_is_placed_empty() {
    let program = lookup_reading_its_address("", "").replace(
        "    args.address = input(\"\")\n",
        "    args.address = input(\"\")\n    args.dns = input() or None\n",
    );
    assert!(program.contains("args.dns = input() or None"));
    let folder = submission(&[
        ("mx.py", &program),
        (
            "submission.toml",
            "[mx-lookup]\nlookup = { command = \"python3 mx.py\", stdin = \"{1}\\n{--dns}\\n\" }\n",
        ),
    ]);
    grade(folder.path(), "mx-lookup/0[12]-*")
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

/// A server importing `labtext`, which no submission lists.
fn server_importing_labtext() -> tempfile::TempDir {
    let server = "import socket, sys\nimport labtext\n\
                  s = socket.socket()\n\
                  s.bind(('127.0.0.1', int(sys.argv[1])))\n\
                  s.listen(5)\n\
                  while True:\n\
                  \x20   c, _ = s.accept()\n\
                  \x20   while True:\n\
                  \x20       d = c.recv(4096)\n\
                  \x20       if not d:\n\
                  \x20           break\n\
                  \x20       sys.stdout.buffer.write(d)\n\
                  \x20       sys.stdout.buffer.flush()\n\
                  \x20   c.close()\n";
    submission(&[
        ("server.py", server),
        (
            "submission.toml",
            "[message]\nserver = \"python3 server.py {port}\"\n",
        ),
    ])
}

/// `--requirements FILE`: the class's packages, installed once for the run, reach every
/// submission's programs, which list none of their own.
#[test]
fn a_class_requirements_file_is_installed_once_for_every_submission() {
    let (first, second) = (server_importing_labtext(), server_importing_labtext());
    let class = tempfile::tempdir().unwrap();
    let list = class.path().join("requirements.txt");
    std::fs::write(&list, "labtext==1.0\n").unwrap();
    let wheels = tempfile::tempdir().unwrap();
    labtext_wheel(wheels.path());
    harness()
        .arg("--target")
        .arg(first.path())
        .arg("--target")
        .arg(second.path())
        .arg("--requirements")
        .arg(&list)
        .arg("--wheels")
        .arg(wheels.path())
        .args(["--seed", "1", "message/01-*"])
        .assert()
        .success()
        .stderr(predicate::str::contains("installing the class's").count(1))
        .stderr(predicate::str::contains("(labtext==1.0)"));
    // Without it, the import fails.
    grade(first.path(), "message/01-*")
        .code(1)
        .stdout(predicate::str::contains("No module named 'labtext'"));
}

/// A class's list that cannot be read or installed stops the harness: every submission
/// would fail on its imports.
#[test]
fn a_bad_class_requirements_file_stops_the_harness() {
    let folder = server_importing_labtext();
    let class = tempfile::tempdir().unwrap();
    let wheels = tempfile::tempdir().unwrap();
    let run = |list: &Path| {
        harness()
            .arg("--target")
            .arg(folder.path())
            .arg("--requirements")
            .arg(list)
            .arg("--wheels")
            .arg(wheels.path())
            .args(["--seed", "1", "message/01-*"])
            .assert()
            .code(2)
    };
    let bad_line = class.path().join("bad.txt");
    std::fs::write(&bad_line, "labtext==1.0\n-r /etc/shadow\n").unwrap();
    run(&bad_line)
        .stderr(predicate::str::contains("bad.txt:2:"))
        .stderr(predicate::str::contains("options are not followed"));
    run(&class.path().join("missing.txt"))
        .stderr(predicate::str::contains("missing.txt: no such file"));
    // Not in the (empty) wheel folder: pip's own words, and nothing graded.
    let uninstallable = class.path().join("class.txt");
    std::fs::write(&uninstallable, "labtext==1.0\n").unwrap();
    run(&uninstallable)
        .stderr(predicate::str::contains(
            "pip could not install labtext==1.0",
        ))
        .stdout(predicate::str::contains("passed").not());
}
