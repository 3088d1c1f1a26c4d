//! `--mysql real`: the mysql-remote scenarios played by a real MariaDB (Debian's
//! mariadb-server, a throw-away server per scenario) give the verdicts the pack's embedded
//! engine gives, for the reference, the good sample and every mysql-remote fixture. The one
//! scenario MariaDB cannot play (a `caching_sha2_password` server) is skipped, saying why.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common;

/// Each submission's verdicts (`id` → `status`) in a JSON report.
fn verdicts(report: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let text = std::fs::read_to_string(report).unwrap();
    let document: serde_json::Value = serde_json::from_str(&text).unwrap();
    document["submissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|submission| {
            let scenarios = submission["scenarios"]
                .as_array()
                .unwrap()
                .iter()
                .map(|scenario| {
                    (
                        scenario["id"].as_str().unwrap().to_owned(),
                        scenario["status"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            (submission["label"].as_str().unwrap().to_owned(), scenarios)
        })
        .collect()
}

/// Grades the good sample and the mysql-remote fixtures (or the reference), with
/// `--mysql SERVER`, and reads the verdicts.
fn grade(
    server: &str,
    reference: bool,
    folder: &Path,
) -> BTreeMap<String, BTreeMap<String, String>> {
    let report = folder.join(format!("{server}-{reference}.json"));
    let mut command = common::harness();
    command.args([
        "--task",
        "mysql-remote",
        "--seed",
        "1",
        "--mysql",
        server,
        "--json",
    ]);
    command.arg(&report);
    if reference {
        command.arg("--reference");
    } else {
        let submissions = common::kit_root().join("fixtures/submissions");
        command.arg("--target").arg(submissions.join("good"));
        command.arg("--target").arg(
            submissions
                .join("mysql-remote-*")
                .to_string_lossy()
                .into_owned(),
        );
    }
    let output = command.output().unwrap();
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "the harness ran with --mysql {server}: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    verdicts(&report)
}

fn same_verdicts_both_ways(reference: bool) {
    let folder = tempfile::tempdir().unwrap();
    let embedded = grade("embedded", reference, folder.path());
    let real = grade("real", reference, folder.path());
    assert_eq!(
        embedded.keys().collect::<Vec<_>>(),
        real.keys().collect::<Vec<_>>()
    );
    let mut differences = Vec::new();
    let mut compared = 0;
    for (submission, scenarios) in &embedded {
        for (id, status) in scenarios {
            let with_mariadb = &real[submission][id];
            if id.starts_with("mysql-remote/13-") {
                assert_eq!(
                    with_mariadb, "skipped",
                    "{submission} {id}: MariaDB has no caching_sha2_password"
                );
                continue;
            }
            compared += 1;
            if with_mariadb != status {
                differences.push(format!(
                    "{submission} {id}: embedded {status}, real MariaDB {with_mariadb}"
                ));
            }
        }
    }
    assert!(compared >= 12, "compared {compared} verdicts");
    assert!(
        differences.is_empty(),
        "the real MariaDB and the embedded engine disagree:\n{}",
        differences.join("\n")
    );
}

#[test]
fn the_reference_gets_the_same_verdicts_from_a_real_mariadb() {
    same_verdicts_both_ways(true);
}

#[test]
fn the_samples_get_the_same_verdicts_from_a_real_mariadb_as_from_the_engine() {
    same_verdicts_both_ways(false);
}

/// The reference graded on scenarios 01 (mysql_native_password) and 13
/// (caching_sha2_password), with `mysql` (`--mysql ...`, or nothing): its terminal report,
/// after checking both passed or were skipped.
fn reference_on_01_and_13(mysql: &[&str]) -> String {
    let output = common::harness()
        .arg("--reference")
        .args(mysql)
        .args([
            "--seed",
            "1",
            "--verbose",
            "mysql-remote/13-*",
            "mysql-remote/01-*",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(output.status.code(), Some(0), "{text}");
    text
}

#[test]
fn the_skipped_scenario_says_why_and_the_header_names_the_server() {
    let text = reference_on_01_and_13(&["--mysql", "real"]);
    assert!(
        text.contains("caching_sha2_password, which MariaDB (--mysql real) does not have"),
        "{text}"
    );
    assert!(text.contains("with a real MariaDB"), "{text}");
    assert!(
        text.contains("MySQL server: a real MariaDB per scenario (--mysql real;"),
        "{text}"
    );
}

#[test]
fn by_default_a_real_mariadb_plays_where_installed_and_the_engine_plays_caching_sha2() {
    // `.ci/test` installs Debian's mariadb-server: `auto` finds it.
    let text = reference_on_01_and_13(&[]);
    assert!(
        text.contains("MySQL server: a real MariaDB per scenario (the pack's embedded engine for caching_sha2_password"),
        "{text}"
    );
    // Both played, neither skipped: 01 by MariaDB, 13 by the pack's own engine.
    assert!(text.contains("2 passed, 0 failed"), "{text}");
    assert!(text.contains("with a real MariaDB"), "{text}");
    assert!(text.contains("with the pack's engine"), "{text}");
}

#[test]
fn a_run_without_mysql_scenarios_names_no_mysql_server() {
    let output = common::harness()
        .args(["--reference", "--seed", "1", "message/01-*"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(!text.contains("MySQL server"), "{text}");
}

#[test]
fn a_bad_mysql_value_is_refused() {
    common::harness()
        .args(["--reference", "--mysql", "oracle"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("embedded"));
}
