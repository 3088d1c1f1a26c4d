//! The pair of facts that makes the harness trustworthy: the reference and the good
//! submission pass every scenario, and each buggy (or hostile) sample submission fails
//! exactly the scenarios its `expected.toml` declares.

use crate::common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::expected::Expected;
use harness::grading::{Grading, Mode, grade, grade_with_replay};
use harness::outcome::Status;
use harness::repeat::Repeat;
use harness::report::{Style, TerminalReport};
use harness::scenario::Selection;
use harness::target::Target;

/// The extra scenarios the reference leaves out on purpose: the proxy's cache (SPEC
/// `proxy/4`; `reference/src/web_proxy/mod.rs` explains why, and how it would be done).
/// The good submission earns them.
const REFERENCE_MISSES: &[&str] = &["web-proxy/09-cache-serves-a-second-get"];

fn missed_ids(grading: &Grading) -> BTreeSet<String> {
    grading
        .outcomes
        .iter()
        .filter(|outcome| outcome.status == Status::Missed)
        .map(|outcome| outcome.id.clone())
        .collect()
}

fn details(grading: &Grading, ids: &BTreeSet<String>) -> String {
    let report = TerminalReport {
        style: Style {
            color: false,
            timings: true,
        },
        replay_command: "harness".into(),
        simulated: false,
    };
    grading
        .outcomes
        .iter()
        .filter(|outcome| ids.contains(&outcome.id))
        .map(|outcome| report.failure_details(outcome))
        .collect()
}

fn failed_ids(grading: &Grading) -> BTreeSet<String> {
    grading
        .outcomes
        .iter()
        .filter(|outcome| outcome.status.is_failure())
        .map(|outcome| outcome.id.clone())
        .collect()
}

/// Whether scenario `id` runs only in the simulated world (real grading skips it).
fn simulated_only(suite: &harness::scenario::Suite, id: &str) -> bool {
    suite
        .scenarios
        .iter()
        .any(|scenario| scenario.id == id && scenario.simulated_only)
}

/// Held by the tests that run `message-hostile-hang`: the one that looks for survivors in `/proc`
/// must not see the processes of the other, still running.
static HOSTILE_HANG: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Scenarios of one fixture run at once (`--jobs`), each in its own network namespace:
/// most of a scenario is waiting for a program, and the verdicts must not depend on it.
const SCENARIOS_AT_ONCE: usize = 3;

/// Grades `target` with the fixtures' seed, [`SCENARIOS_AT_ONCE`] scenarios at a time.
fn grade_at_once(
    suite: &harness::scenario::Suite,
    selection: &Selection,
    target: &Target,
) -> Grading {
    grade_with_replay(
        suite,
        selection,
        target,
        common::SEED,
        &Mode::Real,
        &harness::settings::RunSettings::machine_defaults(),
        Repeat::ONCE,
        SCENARIOS_AT_ONCE,
        "harness",
        &mut harness::events::Discard,
    )
    .expect("grading runs")
}

fn check_fixture(folder: &str) {
    let _timed = common::timing_matters();
    let _exclusive = (folder == "message-hostile-hang").then(|| {
        HOSTILE_HANG
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    });
    let suite = common::suite();
    let dir = common::built_fixture(folder);
    let expected = Expected::of(&dir);
    let known: BTreeSet<&str> = suite
        .scenarios
        .iter()
        .map(|scenario| scenario.id.as_str())
        .collect();
    let elsewhere = expected
        .environments
        .values()
        .flat_map(|elsewhere| &elsewhere.fails);
    for id in expected
        .fails
        .iter()
        .chain(&expected.misses)
        .chain(elsewhere)
    {
        assert!(
            known.contains(id.as_str()),
            "{folder}/expected.toml names an unknown scenario {id}"
        );
    }
    let target = Target::from_folder(&dir, &suite.catalogue, &common::companions())
        .expect("the fixture is a valid target");
    let selection = Selection::new(Vec::new(), &expected.only).expect("valid globs");
    let grading = grade_at_once(&suite, &selection, &target);
    assert!(
        grading
            .outcomes
            .iter()
            .all(|outcome| outcome.status != Status::Skipped || simulated_only(&suite, &outcome.id)),
        "{folder}: nothing may be skipped (but the scenarios only the simulated world runs)"
    );
    let failed = failed_ids(&grading);
    let declared: BTreeSet<String> = expected.fails.into_iter().collect();
    let unexpected: BTreeSet<String> = failed.difference(&declared).cloned().collect();
    let missed: BTreeSet<String> = declared.difference(&failed).cloned().collect();
    assert!(
        unexpected.is_empty() && missed.is_empty(),
        "{folder}: failed but not declared: {unexpected:?}; declared but passed: {missed:?}\n{}",
        details(&grading, &unexpected)
    );
    let declared_misses: BTreeSet<String> = expected.misses.into_iter().collect();
    assert_eq!(
        missed_ids(&grading),
        declared_misses,
        "{folder}: the extra scenarios it misses (`misses` in expected.toml)"
    );
    if folder.starts_with("message-hostile-") {
        // Daemons, forked children, programs deaf to SIGTERM: none may outlive the run. They
        // ran from the fixture's private copy.
        let graded = target.graded_folder().expect("graded from a private copy");
        common::assert_nothing_left_from(&graded.display().to_string());
    }
}

/// One case per folder of `fixtures/submissions` (found by its `expected.toml`, so a new
/// folder is tested without a line here): it fails exactly what it declares.
#[rstest::rstest]
fn fixture_fails_exactly_what_it_declares(
    #[files("../fixtures/submissions/*/expected.toml")] expected: std::path::PathBuf,
) {
    let folder = expected
        .parent()
        .and_then(|folder| folder.file_name())
        .expect("a fixture folder")
        .to_string_lossy()
        .into_owned();
    check_fixture(&folder);
}

#[test]
fn reference_passes_every_scenario() {
    let _timed = common::timing_matters();
    let suite = common::suite();
    let target = Target::reference(&common::reference_bin_dir(), &suite.catalogue);
    let grading = grade_at_once(&suite, &Selection::default(), &target);
    let failed = failed_ids(&grading);
    assert!(
        failed.is_empty(),
        "the reference fails {failed:?}\n{}",
        details(&grading, &failed)
    );
    for outcome in &grading.outcomes {
        let expected = if simulated_only(&suite, &outcome.id) {
            Status::Skipped
        } else if REFERENCE_MISSES.contains(&outcome.id.as_str()) {
            Status::Missed
        } else {
            Status::Pass
        };
        assert_eq!(outcome.status, expected, "{}", outcome.id);
    }
    assert_eq!(
        grading.outcomes.len(),
        suite.scenarios.len(),
        "every scenario has a reference program"
    );
}

/// The good sample is the proof that a correct submission passes everything: it has a
/// program for every task of the catalogue (a task without one would be graded nowhere,
/// its scenarios not run rather than failed), and its README describes each of them.
#[test]
fn the_good_sample_has_a_program_for_every_task_and_describes_each() {
    let suite = common::suite();
    let dir = common::kit_root().join("fixtures/submissions/good");
    let target = Target::from_folder(&dir, &suite.catalogue, &common::companions()).unwrap();
    let missing: Vec<&String> = suite
        .catalogue
        .tasks
        .keys()
        .filter(|task| target.task(task).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "no program of the good sample for {missing:?}"
    );
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    let undescribed: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".py"))
        .filter(|name| !readme.contains(&format!("`{name}`")))
        .collect();
    assert!(
        undescribed.is_empty(),
        "fixtures/submissions/good/README.md does not describe {undescribed:?}"
    );
}

#[test]
fn hostile_programs_leave_no_process_behind() {
    let _exclusive = HOSTILE_HANG
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let suite = common::suite();
    let dir = common::kit_root().join("fixtures/submissions/message-hostile-hang");
    let target = Target::from_folder(&dir, &suite.catalogue, &common::companions()).unwrap();
    let selection = Selection::new(Vec::new(), &["message/02-client-sends-stdin".into()]).unwrap();
    let started = Instant::now();
    let grading = grade(
        &suite,
        &selection,
        &target,
        common::SEED,
        &Mode::Real,
        &mut harness::events::Discard,
    )
    .unwrap();
    assert_eq!(grading.outcomes[0].status, Status::Fail);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "a hanging program fails in bounded time"
    );
    // The server forked and both ignore SIGTERM: nothing running from that folder (its
    // private copy) may remain.
    common::assert_nothing_left_from(&target.graded_folder().unwrap().display().to_string());
}

/// The folders of `fixtures/submissions` that keep a name of their own, as its README says:
/// `sample`, which the kit's README's first command grades by that name, `good`, the good
/// sample of every task, and two that hold programs of several tasks.
const OWN_NAMES: [&str; 4] = ["sample", "good", "manifest-extras", "hard-coded-port"];

/// Every folder of `fixtures/submissions`, by name, sorted.
fn fixture_folders() -> Vec<String> {
    let mut folders: Vec<String> =
        std::fs::read_dir(common::kit_root().join("fixtures/submissions"))
            .unwrap()
            .map(|entry| entry.unwrap())
            .filter(|entry| entry.file_type().unwrap().is_dir())
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
    folders.sort();
    folders
}

/// The page of the sample submissions, `fixtures/submissions/README.md`: what each folder is
/// and which scenarios it fails.
fn sample_submissions_page() -> String {
    let path = common::kit_root().join("fixtures/submissions/README.md");
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The words in backticks of `text`.
fn quoted(text: &str) -> BTreeSet<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

#[test]
fn every_fixture_folder_begins_with_its_task_or_keeps_a_stated_name() {
    let tasks: Vec<String> = common::suite().catalogue.tasks.keys().cloned().collect();
    assert!(tasks.iter().any(|task| task == "web-proxy"), "{tasks:?}");
    let folders = fixture_folders();
    let misnamed: Vec<&String> = folders
        .iter()
        .filter(|folder| !OWN_NAMES.contains(&folder.as_str()))
        .filter(|folder| {
            !tasks
                .iter()
                .any(|task| folder.starts_with(&format!("{task}-")))
        })
        .collect();
    assert!(
        misnamed.is_empty(),
        "fixture folders begin with their task's name (`ls fixtures/submissions/` groups them): {misnamed:?}"
    );
    for own in OWN_NAMES {
        assert!(folders.iter().any(|folder| folder == own), "{own} exists");
    }
    // The page's list of the names kept is this one.
    let section = sample_submissions_page().replace('\n', " ");
    let sentence = section
        .split("keep a name of their own:")
        .nth(1)
        .and_then(|rest| rest.split(". ").next())
        .expect("fixtures/submissions/README.md says which folders keep a name of their own");
    let named: BTreeSet<&str> = quoted(sentence)
        .into_iter()
        .filter(|word| folders.iter().any(|folder| folder == word))
        .collect();
    assert_eq!(named, BTreeSet::from(OWN_NAMES), "{sentence}");
}

#[test]
fn every_fixture_folder_is_in_the_table_of_sample_submissions() {
    let section = sample_submissions_page();
    // The first cell of each row of the table: the folders it describes.
    let listed: BTreeSet<&str> = section
        .lines()
        .filter(|line| line.starts_with("| `"))
        .flat_map(|row| quoted(row.split(" | ").next().unwrap_or_default()))
        .collect();
    let folders = fixture_folders();
    let missing: Vec<&String> = folders
        .iter()
        .filter(|folder| !listed.contains(folder.as_str()))
        .collect();
    let stale: Vec<&&str> = listed
        .iter()
        .filter(|name| !folders.iter().any(|folder| folder == *name))
        .collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "the table of fixtures/submissions/README.md (\"The folders, with the scenarios each must fail\") lacks {missing:?} and lists {stale:?}, which is no folder"
    );
}
