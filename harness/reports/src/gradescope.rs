//! `--gradescope FILE`: Gradescope's `results.json`, for an autograder that runs the
//! harness on each submission (`/autograder/results/results.json`).
//!
//! The fields are those of Gradescope's autograder specification ("Autograder
//! Specifications", *Output format*), and no others:
//!
//! ```text
//! { "score": 40.0,                  earned + extra: Gradescope shows it as the grade
//!   "execution_time": 19,           seconds, rounded up
//!   "output": "...", "output_format": "text",   the terminal's closing lines, seed, replay,
//!                                   the sandbox and servers of the header
//!   "visibility": "visible", "stdout_visibility": "hidden",
//!   "extra_data": { harness_version, seed, world, submission, earned, total, extra,
//!                   left_out, maximum },
//!   "tests": [ { "score": 0.0, "max_score": 2.0, "status": "failed",
//!                "name": "message/06-binary: Binary messages ...", "name_format": "text",
//!                "number": "1.6", "output": "...", "output_format": "md",
//!                "tags": ["message", "basic", "message/9"], "visibility": "visible",
//!                "extra_data": { id, verdict, points, extra, skip_kind, seed } } ] }
//! ```
//!
//! One test per scenario, in the order graded; `number` is `<task>.<scenario>`, both
//! 1-based; its tags are the task, the category and the clauses. A required scenario has
//! `max_score` its points and `score` its points when it passed, else 0. A skipped one says
//! why in its output, and counts as every report counts it ([`super::score`]): skipped for
//! want of a program (the client of a submitted server), it keeps its points in
//! `max_score` and scores 0; skipped because this run cannot play it (no browser on the
//! image, a simulated-only scenario, a step that needs a network namespace the platform's
//! container refuses), it is named `(not run here)`, has no `score`, `max_score` nor
//! `status` (Gradescope then shows it neither passed nor failed, never a red 0/0) and its
//! output says why and that it is not counted.
//! An extra scenario (an optional part of the spec) has `max_score` 0 and `score` its
//! points when it passed, which Gradescope shows as extra credit; when missed, it scores 0
//! and is marked `failed`, its output saying that it is optional and costs nothing. The
//! top-level `score` is what [`Score::of`] counts: earned plus extra (it overrides the
//! tests' sum, per the specification). A task with no program is one `failed` test saying
//! `not submitted`, with `max_score` what the task was worth when the command line named
//! the tasks (otherwise no score fields: the other tasks of the kit are not asked for).
//!
//! The tests' `max_score` add up to [`Score::maximum`]: set the assignment's points to it
//! (`extra_data.maximum`), or to the kit's total if every scenario can run on the image.
//!
//! A test's output is Markdown (`output_format: "md"`): for a failure, its first sentence
//! in bold (what is wrong, in which program, what to do: [`super::diagnosis`]) and its
//! hints as a list, then in a fenced block the terminal report's details (clause,
//! requirement, failed step, expected, seen, byte diff, step log, transcript, programs'
//! output, seed and the command that replays it); otherwise the clause, requirement and
//! replay command. Tests are `visible` by default: the scenarios are the published spec,
//! and a student learns from the failure. A scenario file's `visibility` key changes its
//! test's, and [`VisibilityRule`]s from the command line (`--gradescope-visibility
//! security=hidden`) override both, the last matching rule winning. `stdout_visibility` is
//! `hidden` (the autograder's stdout, the terminal report, says nothing the tests do not,
//! and is for staff).
//!
//! When the harness cannot grade at all (a folder with nothing to grade, a bad
//! `submission.toml`), [`could_not_grade`] is written instead: score 0 and why.

use std::fmt::Write;
use std::io;
use std::path::PathBuf;

use serde::Serialize;

use super::json::{replay, skip_kind_word, status_word};
use super::score::{left_out, skip_note};
use super::terminal::TerminalReport;
use super::{FileReport, RunRecord, Score, SubmissionRecord};
use run_record::outcome::{Category, Visibility};
use run_record::outcome::{Outcome, Status};

/// The `--gradescope` reporter: [`render_with`] written to `path` when the run is over.
pub fn report(path: PathBuf, rules: Vec<VisibilityRule>) -> FileReport<String> {
    FileReport::new(path, move |run: &RunRecord| render_with(run, &rules))
}

/// `results.json` of `run` with every test at the visibility its scenario file says.
pub fn render(run: &RunRecord) -> io::Result<String> {
    render_with(run, &[])
}

/// `results.json` of `run`, which must grade one submission (Gradescope runs the autograder
/// once per submission), with `rules` deciding the tests' visibility.
pub fn render_with(run: &RunRecord, rules: &[VisibilityRule]) -> io::Result<String> {
    let results = match run.submissions.as_slice() {
        [submission] => results(run, submission, rules),
        [] => Results {
            score: 0.0,
            execution_time: execution_time(run, None),
            output: "nothing was graded".into(),
            output_format: "text",
            visibility: "visible",
            stdout_visibility: "hidden",
            extra_data: extra_data(run, None, &Score::of(&[]), 0),
            tests: Vec::new(),
        },
        several => {
            return Err(io::Error::other(format!(
                "Gradescope's results.json describes one submission; this run graded {}",
                several.len()
            )));
        }
    };
    let mut text = serde_json::to_string_pretty(&results).map_err(io::Error::other)?;
    text.push('\n');
    Ok(text)
}

/// The top level of `results.json`.
#[derive(Debug, Serialize)]
struct Results {
    score: f64,
    execution_time: u64,
    output: String,
    output_format: &'static str,
    visibility: &'static str,
    stdout_visibility: &'static str,
    extra_data: serde_json::Value,
    tests: Vec<Test>,
}

/// One test case of `results.json`.
#[derive(Debug, Serialize)]
struct Test {
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
    name: String,
    name_format: &'static str,
    number: String,
    output: String,
    output_format: &'static str,
    tags: Vec<String>,
    visibility: &'static str,
    extra_data: serde_json::Value,
}

/// The document written when the harness could not grade the submission at all (exit
/// status 2): no tests, score 0, and `message` in the output the student sees.
pub fn could_not_grade(message: &str) -> String {
    let results = Results {
        score: 0.0,
        execution_time: 0,
        output: format!(
            "The submission could not be graded: {message}\n\nNothing ran, so nothing was \
             scored."
        ),
        output_format: "text",
        visibility: "visible",
        stdout_visibility: "visible",
        extra_data: serde_json::json!({
            "harness_version": env!("CARGO_PKG_VERSION"),
            "problem": message,
        }),
        tests: Vec::new(),
    };
    let mut text = serde_json::to_string_pretty(&results).expect("plain data serializes");
    text.push('\n');
    text
}

/// `SELECTOR=VISIBILITY` from the command line: which tests Gradescope shows when.
///
/// The selector is a category (`security`), a task (`message`, every scenario of it), or
/// a scenario id glob (`web-server/08*`); `*` is every scenario. The visibility is one of
/// Gradescope's words (`hidden`, `after_due_date`, `after_published`, `visible`).
#[derive(Debug, Clone)]
pub struct VisibilityRule {
    /// The rule as given, for messages.
    pub text: String,
    selector: Selector,
    /// The visibility of the tests it selects.
    pub visibility: Visibility,
}

#[derive(Debug, Clone)]
enum Selector {
    Category(Category),
    Ids(globset::GlobMatcher),
}

impl VisibilityRule {
    /// Reads `SELECTOR=VISIBILITY`, or says what is wrong with it.
    pub fn parse(text: &str) -> Result<VisibilityRule, String> {
        let Some((selector, word)) = text.split_once('=') else {
            return Err(format!(
                "`{text}` is not SELECTOR=VISIBILITY (like `security=hidden` or \
                 `web-server/08*=after_due_date`)"
            ));
        };
        let (selector, word) = (selector.trim(), word.trim());
        if selector.is_empty() {
            return Err(format!(
                "`{text}` selects nothing: name a category, a task or a scenario id glob \
                 before `=`"
            ));
        }
        let visibility = Visibility::from_name(word)?;
        let category = Category::ALL
            .into_iter()
            .find(|category| category.name() == selector);
        let selector = match category {
            Some(category) => Selector::Category(category),
            None => {
                // As on the command line's scenario patterns, a task alone is all of it.
                let pattern = if selector.contains('/') {
                    selector.to_owned()
                } else {
                    format!("{selector}/*")
                };
                let glob = globset::Glob::new(&pattern)
                    .map_err(|error| format!("`{selector}` is not a scenario glob: {error}"))?;
                Selector::Ids(glob.compile_matcher())
            }
        };
        Ok(VisibilityRule {
            text: text.to_owned(),
            selector,
            visibility,
        })
    }

    /// Whether the rule selects the scenario `id` of `category`.
    pub fn selects(&self, id: &str, category: Category) -> bool {
        match &self.selector {
            Selector::Category(selected) => *selected == category,
            Selector::Ids(matcher) => matcher.is_match(id),
        }
    }
}

/// When Gradescope shows `outcome`: the last rule that selects it, else its scenario
/// file's `visibility`, else at once.
pub fn visibility_of(outcome: &Outcome, rules: &[VisibilityRule]) -> Visibility {
    rules
        .iter()
        .rev()
        .find(|rule| rule.selects(&outcome.id, outcome.category))
        .map(|rule| rule.visibility)
        .or(outcome.visibility)
        .unwrap_or(Visibility::Visible)
}

fn results(run: &RunRecord, submission: &SubmissionRecord, rules: &[VisibilityRule]) -> Results {
    let score = Score::of(&submission.outcomes);
    let details = super::plain_details(run, submission);
    let mut tests: Vec<Test> = super::numbered_by_task(submission)
        .into_iter()
        .map(|(number, outcome)| test(outcome, number, &details, visibility_of(outcome, rules)))
        .collect();
    for (index, task) in submission.info.not_submitted.iter().enumerate() {
        // What the task was worth, when the run told it (older recordings do not).
        let worth = submission
            .info
            .not_submitted_points
            .get(task)
            .map(|points| f64::from(*points));
        tests.push(Test {
            score: worth.map(|_| 0.0),
            max_score: worth,
            status: Some("failed"),
            name: format!("{task}: not submitted"),
            name_format: "text",
            number: format!("{}.1", score.tasks.len() + index + 1),
            output: format!(
                "No program for the task `{task}` was found in the submission: name it \
                 `{task}-<role>` (with any extension), or list it in `submission.toml`."
            ),
            output_format: "text",
            tags: vec![task.clone()],
            visibility: "visible",
            extra_data: serde_json::json!({ "task": task, "verdict": "not-submitted" }),
        });
    }
    Results {
        score: f64::from(score.earned + score.extra_earned),
        execution_time: execution_time(run, submission.elapsed),
        output: overall_output(run, submission, &details),
        output_format: "text",
        visibility: "visible",
        stdout_visibility: "hidden",
        extra_data: extra_data(
            run,
            Some(submission),
            &score,
            score.maximum(&submission.info),
        ),
        tests,
    }
}

fn test(
    outcome: &Outcome,
    number: String,
    details: &TerminalReport,
    visibility: Visibility,
) -> Test {
    let passed = outcome.status == Status::Pass;
    let points = f64::from(outcome.points);
    let earned = if passed { points } else { 0.0 };
    let mut name = format!(
        "{}: {}",
        outcome.id,
        outcome.requirement.lines().next().unwrap_or("")
    );
    if outcome.extra {
        name.push_str(" (extra credit)");
    }
    if left_out(outcome) {
        name.push_str(" (not run here)");
    }
    let mut tags = vec![outcome.task.clone(), outcome.category.name().to_owned()];
    tags.extend(outcome.clauses.iter().cloned());
    // Not run here: no score and no status at all, which Gradescope shows as neither
    // passed nor failed (a 0/0 test is shown as passed, and `failed` shows it red).
    let not_run_here = left_out(outcome);
    Test {
        score: (!not_run_here).then_some(earned),
        max_score: (!not_run_here).then_some(if outcome.extra { 0.0 } else { points }),
        status: (!not_run_here).then_some(if passed { "passed" } else { "failed" }),
        name,
        name_format: "text",
        number,
        output: markdown_output(outcome, details),
        output_format: "md",
        tags,
        visibility: visibility.name(),
        extra_data: serde_json::json!({
            "id": outcome.id,
            "verdict": status_word(outcome.status),
            "points": outcome.points,
            "extra": outcome.extra,
            "skip_kind": outcome.skip_kind.map(skip_kind_word),
            "seed": outcome.seed,
        }),
    }
}

/// What a student reads under a test.
pub(crate) fn test_output(outcome: &Outcome, details: &TerminalReport) -> String {
    let mut text = String::new();
    match outcome.status {
        Status::Fail | Status::Timeout | Status::Error => {
            text.push_str(&details.failure_details(outcome));
        }
        Status::Missed => {
            let _ = writeln!(
                text,
                "Extra credit, not earned: this optional part of the spec adds {} when it \
                 passes and costs nothing when it does not.\n",
                super::score::points(outcome.points)
            );
            text.push_str(&details.failure_details(outcome));
        }
        Status::Pass | Status::Skipped => {
            let _ = writeln!(
                text,
                "clause       {} ({})",
                outcome.clauses.join(", "),
                outcome.category.name()
            );
            let _ = writeln!(text, "requirement  {}", outcome.requirement);
            match &outcome.skip_reason {
                Some(reason) if outcome.status == Status::Skipped => {
                    let _ = writeln!(text, "skipped      {reason}");
                    let _ = writeln!(text, "points       {}", skip_note(outcome));
                }
                _ => {
                    let _ = writeln!(
                        text,
                        "verdict      passed in {}s",
                        run_record::encoding::decimal_seconds(outcome.duration, 2)
                    );
                }
            }
            let _ = writeln!(
                text,
                "replay       {}",
                replay(&details.replay_command, outcome)
            );
        }
    }
    text
}

/// What a student reads under a test on Gradescope, as Markdown (`output_format: "md"`):
/// a failure's first sentence in bold, its hints as a list, then the terminal's details as
/// they are, in a fenced block.
pub(crate) fn markdown_output(outcome: &Outcome, details: &TerminalReport) -> String {
    let text = test_output(outcome, details);
    let mut markdown = String::new();
    if outcome.status != Status::Pass
        && let Some(sentence) = super::diagnosis::sentence(outcome)
    {
        let _ = writeln!(markdown, "**{}**\n", markdown_escaped(&sentence));
        for hint in super::diagnosis::hints(outcome) {
            let _ = writeln!(markdown, "- hint: {}", markdown_escaped(&hint));
        }
        markdown.push('\n');
    }
    // A fence longer than any run of backticks the text holds.
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    let _ = write!(markdown, "{fence}text\n{text}{fence}\n");
    markdown
}

/// Text shown as itself in Markdown: its punctuation escaped.
fn markdown_escaped(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\`*_[]<>#|~".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// The text above the tests: the terminal's closing lines, and how to replay.
pub(crate) fn overall_output(
    run: &RunRecord,
    submission: &SubmissionRecord,
    details: &TerminalReport,
) -> String {
    let mut text = String::new();
    if let Some(problem) = &submission.info.problem {
        let _ = writeln!(text, "The submission could not be graded: {problem}\n");
    }
    text.push_str(&details.summary(
        &submission.outcomes,
        &submission.info.not_submitted,
        submission.elapsed.unwrap_or_default(),
    ));
    if let Some(info) = &run.info {
        let _ = writeln!(
            text,
            "\nGraded by the socket-lab kit's harness {} with seed {}. To replay a scenario \
             with the kit, run the command under its test, with your folder in place of \
             the submission's: {} --seed {} 'ID'",
            info.harness_version, info.seed, submission.info.replay_command, info.seed
        );
        // What ran around the programs here (a platform's container refuses layers), so
        // that a verdict that depends on one is read with it.
        for line in info.sandbox.iter().chain(&info.servers) {
            let _ = writeln!(text, "{line}");
        }
    }
    text
}

/// Seconds, rounded up: the submission's grading time, else the run's.
fn execution_time(run: &RunRecord, elapsed: Option<std::time::Duration>) -> u64 {
    let elapsed = elapsed.or(run.elapsed).unwrap_or_default();
    elapsed.as_secs() + u64::from(elapsed.subsec_nanos() > 0)
}

fn extra_data(
    run: &RunRecord,
    submission: Option<&SubmissionRecord>,
    score: &Score,
    maximum: u32,
) -> serde_json::Value {
    serde_json::json!({
        "harness_version": run
            .info
            .as_ref()
            .map_or(env!("CARGO_PKG_VERSION"), |info| info.harness_version.as_str()),
        "seed": run.info.as_ref().map(|info| info.seed),
        "world": run.info.as_ref().map(|info| match info.world {
            run_record::events::WorldKind::Real => "real",
            run_record::events::WorldKind::Simulated => "simulated",
        }),
        "submission": submission.map(|submission| submission.info.submission.as_str()),
        "earned": score.earned,
        "total": score.total,
        "extra": score.extra_earned,
        "left_out": score.left_out,
        "maximum": maximum,
    })
}
