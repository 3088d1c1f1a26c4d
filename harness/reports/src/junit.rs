//! `--junit FILE`: JUnit XML, for CI systems (GitLab, Jenkins, GitHub test reporters).
//!
//! ```text
//! <testsuites name="harness" tests failures errors skipped time>
//!   <testsuite name="message" tests failures errors skipped time timestamp>
//!     <properties> seed, world, sandbox, sandbox_not_here, submission, replay_command,
//!                  harness_version, points </properties>
//!     <testcase name="message/06-binary" classname="message" time>
//!       <properties> seed, replay, clauses, points </properties>
//!       <failure type="fail" message="message/9, message/1: expected … / seen …">
//!         the terminal report's details: clause, requirement, failed step, expected, seen,
//!         diff, step log, transcript, programs, seed and replay command
//!       </failure>
//!     </testcase>
//! ```
//!
//! One `testsuite` per task of each submission, named after the task; when the run grades
//! several submissions, `<submission>: <task>`. A test case's `classname` is its suite's
//! name, so every test case of a batch is unique by (classname, name).
//!
//! Verdicts: `pass` passes; `fail` and `timeout` are `<failure>` and `error` (a program
//! that could not start, or the harness's own trouble) is `<error>`, each with `type` the
//! verdict's word; `skipped` is `<skipped message="why (how it counts)">`, and a suite whose
//! task had scenarios this run could not play says how many points left its total
//! (`points_left_out`). A `missed` extra scenario (an
//! optional part of the spec, not earned) is **not a failure**: it is a passing test case
//! whose `<system-out>` says it was not earned, and why. A task with no program is an empty
//! suite whose `<system-out>` says `not submitted`; a submission that could not be read at
//! all is a suite with one `<error type="problem">` test case.
//!
//! With `--repeat N` (suites carry the property `repeat`), a test case's time is every
//! repetition's, and its properties say `repetitions` (`48/50 passed`). A scenario that
//! failed every time is a `<failure>` (or `<error>`) with the first failure's details and a
//! `<rerunFailure>` for every later one; a **flaky** scenario, whose verdict changed, is a
//! failure too (as nextest reports its flaky tests under `flaky-result = "fail"`):
//! `<failure type="flaky" message="flaky: 48 passed (seeds …), 2 failed (seeds …): …">`
//! with the first failing repetition's details, then a `<flakyFailure>` for every
//! repetition that did not pass, each with its seed and time.

use std::fmt::Write;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

use quick_junit::{
    FlakyOrRerun, NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestRerun, TestSuite,
    XmlString,
};

use super::json::{replay, status_word};
use super::terminal::{Style, TerminalReport};
use super::{FileReport, RunRecord, Score, SubmissionRecord};
use run_record::outcome::{Failure, Outcome, Status};
use run_record::repeat::Repetitions;

/// The `--junit` reporter: [`render`] written to `path` when the run is over.
pub fn report(path: PathBuf) -> FileReport<String> {
    FileReport::new(path, render)
}

/// The JUnit XML of `run`.
pub fn render(run: &RunRecord) -> io::Result<String> {
    let mut report = Report::new("harness");
    if let Some(elapsed) = run.elapsed {
        report.set_time(elapsed);
    }
    let batch = run.is_batch();
    for submission in &run.submissions {
        report.add_test_suites(suites(run, submission, batch));
    }
    report
        .to_string()
        .map(xml_characters_only)
        .map_err(io::Error::other)
}

/// `xml` with every character XML 1.0 does not allow shown as an escape (`\u{fffe}`): the
/// C0 controls but tab, newline and carriage return (quick-junit drops those it is given,
/// and the events reach the reporters with them escaped already), and U+FFFE and U+FFFF,
/// which it keeps. One of them anywhere (a word of a submission's manifest, a line it
/// printed) and no parser reads the file, and a CI system shows no test at all. Markup
/// never holds one, so the whole document is one pass, every text and attribute alike.
fn xml_characters_only(xml: String) -> String {
    let forbidden = |c: char| {
        matches!(
            c,
            '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}'
        )
    };
    if !xml.contains(forbidden) {
        return xml;
    }
    let mut shown = String::with_capacity(xml.len() + 16);
    for c in xml.chars() {
        if forbidden(c) {
            let _ = write!(shown, "\\u{{{:x}}}", c as u32);
        } else {
            shown.push(c);
        }
    }
    shown
}

/// The suites of one submission: one per task graded, one per task not submitted, or one
/// for the problem that kept it from being graded.
fn suites(run: &RunRecord, submission: &SubmissionRecord, batch: bool) -> Vec<TestSuite> {
    let label = &submission.info.submission;
    let suite_name = |task: &str| {
        if batch {
            format!("{label}: {task}")
        } else {
            task.to_owned()
        }
    };
    let details = TerminalReport {
        style: Style {
            color: false,
            timings: true,
        },
        replay_command: submission.info.replay_command.clone(),
        simulated: false,
    };
    let mut suites = Vec::new();
    if let Some(problem) = &submission.info.problem {
        let name = suite_name("submission");
        let mut suite = new_suite(run, submission, &name);
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status.set_type("problem").set_message(problem.as_str());
        let mut case = TestCase::new("submission", status);
        case.set_classname(name.as_str());
        suite.add_test_case(case);
        suites.push(suite);
    }
    for task in Score::of(&submission.outcomes).tasks {
        let name = suite_name(&task.task);
        let mut suite = new_suite(run, submission, &name);
        let mut points = format!("{}/{}", task.earned, task.total);
        if task.has_extra {
            let _ = write!(points, " (+{} extra)", task.extra_earned);
        }
        suite.add_property(Property::new("points", points));
        if task.left_out > 0 {
            // Scenarios this run could not play: out of the total above.
            suite.add_property(Property::new("points_left_out", task.left_out.to_string()));
        }
        let outcomes: Vec<&Outcome> = submission
            .outcomes
            .iter()
            .filter(|outcome| outcome.task == task.task)
            .collect();
        let time_of = |outcome: &Outcome| {
            submission
                .repetitions_of(&outcome.id)
                .map_or(outcome.duration, Repetitions::duration)
        };
        suite.set_time(outcomes.iter().map(|outcome| time_of(outcome)).sum());
        for outcome in outcomes {
            let mut case = test_case(outcome, submission.repetitions_of(&outcome.id), &details);
            case.set_classname(name.as_str());
            suite.add_test_case(case);
        }
        suites.push(suite);
    }
    for task in &submission.info.not_submitted {
        let mut suite = new_suite(run, submission, &suite_name(task));
        suite.set_system_out(format!(
            "{task}: not submitted (no program for this task was found in {label})"
        ));
        suites.push(suite);
    }
    suites
}

/// A suite with the run's properties.
fn new_suite(run: &RunRecord, submission: &SubmissionRecord, name: &str) -> TestSuite {
    let mut suite = TestSuite::new(name);
    suite.set_time(Duration::ZERO);
    if let Some(info) = &run.info {
        suite.add_property(Property::new("seed", info.seed.to_string()));
        if info.repeat > 1 {
            suite.add_property(Property::new("repeat", info.repeat.to_string()));
        }
        let world = match info.world {
            run_record::events::WorldKind::Real => "real",
            run_record::events::WorldKind::Simulated => "simulated",
        };
        suite.add_property(Property::new("world", world));
        if let Some(sandbox) = &info.sandbox {
            suite.add_property(Property::new("sandbox", sandbox.as_str()));
            suite.add_property(Property::new(
                "sandbox_not_here",
                info.sandbox_not_here.join(","),
            ));
        }
        suite.add_property(Property::new(
            "harness_version",
            info.harness_version.as_str(),
        ));
        // quick-junit takes timestamps as chrono values; the suite's free attributes take
        // the same RFC 3339 text.
        if info.started_unix_ms > 0 {
            suite.extra.insert(
                XmlString::new("timestamp"),
                XmlString::new(rfc3339(info.started_unix_ms)),
            );
        }
    }
    suite.add_property(Property::new(
        "submission",
        submission.info.submission.as_str(),
    ));
    suite.add_property(Property::new(
        "replay_command",
        submission.info.replay_command.as_str(),
    ));
    suite
}

fn test_case(
    outcome: &Outcome,
    repetitions: Option<&Repetitions>,
    details: &TerminalReport,
) -> TestCase {
    let flaky = repetitions.is_some_and(Repetitions::is_flaky);
    let status = match outcome.status {
        Status::Pass | Status::Missed if !flaky => TestCaseStatus::success(),
        Status::Pass | Status::Missed | Status::Fail | Status::Timeout | Status::Error => {
            let mut status = TestCaseStatus::non_success(kind_of(outcome.status));
            if let Some(repetitions) = repetitions.filter(|runs| runs.is_flaky()) {
                status.set_type("flaky").set_message(format!(
                    "flaky: {}: {}",
                    super::terminal::repetitions_counted(repetitions),
                    message(outcome)
                ));
            } else {
                status
                    .set_type(status_word(outcome.status))
                    .set_message(message(outcome));
            }
            status.set_description(details.repeated_details(outcome, repetitions));
            if let Some(repetitions) = repetitions {
                // Flaky: every run that did not pass; failed every time: the ones after
                // the first, which the element above describes.
                let others = repetitions
                    .runs
                    .iter()
                    .filter(|run| !run.passed() && (flaky || run.seed != outcome.seed));
                for run in others {
                    let mut rerun = TestRerun::new(kind_of(run.status));
                    rerun
                        .set_type(status_word(run.status))
                        .set_time(run.duration)
                        .set_message(format!(
                            "seed {}: {}",
                            run.seed,
                            failure_message(&outcome.clauses, run.status, run.failure.as_ref())
                        ));
                    status.add_rerun(rerun);
                }
                status.set_rerun_kind(if flaky {
                    FlakyOrRerun::Flaky
                } else {
                    FlakyOrRerun::Rerun
                });
            }
            status
        }
        Status::Skipped => {
            // The reason, and how the skip counts: lost points, or none counted.
            let mut status = TestCaseStatus::skipped();
            status.set_message(format!(
                "{} ({})",
                outcome.skip_reason.as_deref().unwrap_or("skipped"),
                super::score::skip_note(outcome)
            ));
            status
        }
    };
    let mut case = TestCase::new(outcome.id.as_str(), status);
    case.set_time(repetitions.map_or(outcome.duration, Repetitions::duration));
    case.add_property(Property::new("seed", outcome.seed.to_string()));
    case.add_property(Property::new(
        "replay",
        replay(&details.replay_command, outcome),
    ));
    case.add_property(Property::new("clauses", outcome.clauses.join(", ")));
    case.add_property(Property::new("points", outcome.points.to_string()));
    if outcome.extra {
        case.add_property(Property::new("extra", "true"));
    }
    if let Some(repetitions) = repetitions {
        case.add_property(Property::new(
            "repetitions",
            format!("{}/{} passed", repetitions.passed(), repetitions.runs.len()),
        ));
    }
    if outcome.status == Status::Missed && !flaky {
        case.set_system_out(format!(
            "extra scenario not earned: an optional part of the spec, worth {} of extra when it passes; not a failure\n\n{}",
            super::score::points(outcome.points),
            details.repeated_details(outcome, repetitions)
        ));
    }
    case
}

/// `<error>` for a harness error or a program that could not start, `<failure>` otherwise.
fn kind_of(status: Status) -> NonSuccessKind {
    if status == Status::Error {
        NonSuccessKind::Error
    } else {
        NonSuccessKind::Failure
    }
}

/// `message/9, message/1: expected … / seen …`, on one line; a crash, a flood or a leak
/// first (`message/8: server exited with status 1 …; expected … / seen …`).
/// A failure's first sentence (what is wrong and what to do), then its clauses, cause and
/// what was expected and seen.
fn message(outcome: &Outcome) -> String {
    let evidence = failure_message(&outcome.clauses, outcome.status, outcome.failure.as_ref());
    match super::diagnosis::sentence(outcome) {
        Some(sentence) => format!("{sentence} ({evidence})"),
        None => evidence,
    }
}

fn failure_message(clauses: &[String], status: Status, failure: Option<&Failure>) -> String {
    let clauses = clauses.join(", ");
    match failure {
        Some(failure) => {
            let cause = failure
                .cause
                .as_ref()
                .map_or(String::new(), |cause| format!("{cause}; "));
            one_line(&format!(
                "{clauses}: {cause}expected {} / seen {}",
                failure.expected, failure.seen
            ))
        }
        None => format!("{clauses}: {}", status.label()),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `2026-11-03T09:14:07.123Z` for milliseconds since the Unix epoch (UTC).
fn rfc3339(unix_ms: u64) -> String {
    let seconds = unix_ms / 1000;
    let days = (seconds / 86_400) as i64;
    let of_day = seconds % 86_400;
    // Howard Hinnant's `civil_from_days`: the proleptic Gregorian date of a day count.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60,
        unix_ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use run_record::events::SubmissionInfo;
    use run_record::outcome::ProgramReport;

    #[test]
    fn characters_xml_forbids_in_any_text_or_attribute_are_escaped_and_the_file_parses() {
        let hostile = "a\u{fffe}b\u{ffff}c\u{1}d\u{1b}[31m\u{7f}e\u{85}f\u{fdd0}\u{1fffe} <&\"'>";
        let mut failed = Outcome::blank("message/01-text-20k");
        failed.task = "message".into();
        failed.status = Status::Fail;
        failed.clauses = vec![format!("message/{hostile}")];
        failed.failure = Some(Failure {
            step: 2,
            expected: format!("expected {hostile}"),
            seen: format!("seen {hostile}"),
            cause: Some(hostile.into()),
            ..Failure::default()
        });
        failed.programs = vec![ProgramReport {
            name: "server".into(),
            command_line: format!("python3 {hostile}.py"),
            stdout: (hostile.as_bytes().to_vec(), hostile.len() as u64),
            ..ProgramReport::default()
        }];
        let mut skipped = Outcome::blank("message/02-client-sends-stdin");
        skipped.task = "message".into();
        skipped.status = Status::Skipped;
        skipped.skip_reason = Some(hostile.into());
        let submission = |label: &str, problem: Option<String>| SubmissionRecord {
            info: SubmissionInfo {
                submission: label.into(),
                replay_command: format!("harness --target {label}"),
                scenarios: 2,
                not_submitted: vec![format!("task{hostile}")],
                not_submitted_points: Default::default(),
                problem,
            },
            outcomes: vec![failed.clone(), skipped.clone()],
            repetitions: Default::default(),
            elapsed: None,
        };
        let run = RunRecord {
            info: None,
            submissions: vec![
                submission(&format!("sub{hostile}"), None),
                submission("other", Some(format!("problem {hostile}"))),
            ],
            elapsed: None,
        };
        let xml = render(&run).unwrap();
        let document =
            roxmltree::Document::parse(&xml).unwrap_or_else(|error| panic!("{error}:\n{xml}"));
        // Shown where they were, as escapes; the markup's own characters as entities.
        assert!(xml.contains("a\\u{fffe}b\\u{ffff}c"), "{xml}");
        assert!(!xml.contains(['\u{fffe}', '\u{ffff}', '\u{1}']));
        let submission = document
            .descendants()
            .find(|node| node.attribute("name") == Some("submission"))
            .unwrap();
        // An attribute: the escapes, and the markup's characters read back as they were.
        let value = submission.attribute("value").unwrap();
        assert!(value.starts_with("suba\\u{fffe}b\\u{ffff}c"), "{value}");
        assert!(value.ends_with("\u{fdd0}\u{1fffe} <&\"'>"), "{value}");
    }

    #[test]
    fn unix_milliseconds_become_rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339(1_793_785_447_123), "2026-11-04T09:44:07.123Z");
    }
}
