//! One submission's page: its header, its summary by task and by category, then every
//! scenario (failures open and marked, the others folded) with its sequence diagram
//! (`templates/submission.html`, `templates/scenario.html`). Here the views the templates
//! read are computed: which class a row gets, verdicts, what of an output is shown.

use std::io;
use std::path::PathBuf;

use askama::Template;

use super::markup::{Markup, bytes_html};
use super::sequence::{self, Diagram};
use super::{RunFacts, at, href_of, render, seconds};
use crate::{RunRecord, Score, SubmissionRecord, file_name_of};
use run_record::outcome::Category;
use run_record::outcome::{Failure, Outcome, ProgramReport, Status};

/// Transcript entries drawn for a scenario that failed.
const ROWS_FAILED: usize = 200;
/// Transcript entries drawn for the others (folded, and read less).
const ROWS_OTHER: usize = 60;

/// Where the packet captures are.
pub(super) struct PcapFolder {
    /// The capture folder as seen from the pages' folder.
    pub relative: PathBuf,
    /// The capture folder, to see which captures were written.
    pub absolute: PathBuf,
}

/// What a page needs besides its submission.
pub(super) struct Context<'a> {
    pub run: &'a RunRecord,
    pub pcap: Option<PcapFolder>,
    /// Whether an `index.html` lists this page among others.
    pub back_to_index: bool,
}

/// What [`Score::of`] reads of an outcome, without its log, transcript and output.
pub(super) fn light(outcome: &Outcome) -> Outcome {
    let mut light = Outcome::blank(&outcome.id);
    light.task = outcome.task.clone();
    light.category = outcome.category;
    light.points = outcome.points;
    light.extra = outcome.extra;
    light.status = outcome.status;
    light
}

/// The page.
#[derive(Template)]
#[template(path = "submission.html")]
struct SubmissionPage<'a> {
    title: String,
    /// Whether an `index.html` lists this page among others.
    back_to_index: bool,
    label: &'a str,
    points: String,
    counts: String,
    /// Why nothing could be graded.
    problem: Option<&'a str>,
    facts: Option<RunFacts<'a>>,
    elapsed: Option<String>,
    /// The command that grades the submission again.
    replay: String,
    /// The capture folder, when `--pcap` wrote one.
    captures: Option<String>,
    tasks: Vec<TaskRow<'a>>,
    /// Whether a task has extra points: a column of its own.
    extra: bool,
    total: Total,
    /// The tasks no program was found for.
    not_submitted: String,
    categories: Vec<CategoryRow>,
    failures: Vec<FailureItem<'a>>,
    scenarios: Vec<ScenarioView<'a>>,
}

/// A verdict's badge.
#[derive(Clone, Copy)]
struct Badge {
    class: &'static str,
    label: &'static str,
}

impl Badge {
    fn of(status: Status) -> Badge {
        let class = match status {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Timeout => "timeout",
            Status::Error => "error",
            Status::Skipped => "skip",
            Status::Missed => "missed",
        };
        Badge {
            class,
            label: status.label(),
        }
    }
}

/// A task's row of the summary.
struct TaskRow<'a> {
    /// `good`, `partial` or `bad`.
    class: &'static str,
    task: &'a str,
    passed: usize,
    ran: usize,
    earned: u32,
    total: u32,
    /// The extra points earned, when the task has some.
    extra: Option<u32>,
}

/// The summary's last row.
struct Total {
    passed: usize,
    ran: usize,
    earned: u32,
    total: u32,
    extra: u32,
}

/// A category's row of the summary.
struct CategoryRow {
    /// `good` or `bad`.
    class: &'static str,
    name: &'static str,
    passed: usize,
    failed: usize,
    skipped: usize,
    missed: usize,
    points: String,
}

/// A failure at a glance: what is wrong and what to do, then what was expected and what
/// came.
struct FailureItem<'a> {
    badge: Badge,
    anchor: String,
    id: &'a str,
    clauses: String,
    sentence: String,
    evidence: Option<Evidence>,
}

/// A failure's cause, expected and seen, shortened.
struct Evidence {
    cause: Option<String>,
    expected: String,
    seen: String,
}

/// A scenario: a `<details>`, open when it failed.
struct ScenarioView<'a> {
    /// `bad`, `good` or `quiet`.
    class: &'static str,
    anchor: String,
    open: bool,
    badge: Badge,
    id: &'a str,
    clauses: String,
    category: &'static str,
    points: String,
    extra: bool,
    /// How long it ran (None: skipped).
    time: Option<String>,
    requirement: &'a str,
    /// What is wrong, in a sentence.
    sentence: Option<String>,
    verdict: String,
    failure: Option<&'a Failure>,
    hints: Vec<String>,
    /// The diagram and the capture (None: skipped, nothing ran).
    sequence: Option<Sequence>,
    log: Vec<LogLine<'a>>,
    programs: Vec<ProgramView<'a>>,
    seed: u64,
}

/// What moved on the harness's connections.
struct Sequence {
    /// None: nothing moved.
    diagram: Option<Diagram>,
    capture: Capture,
}

/// The scenario's packet capture, or how to get one.
enum Capture {
    /// No `--pcap`.
    NotRecorded,
    /// Written: a link to it.
    Link(CaptureLink),
    /// Nothing moved on the harness's sockets: no capture.
    NoneWritten,
}

struct CaptureLink {
    href: String,
    path: String,
}

/// A line of the step log.
struct LogLine<'a> {
    at: String,
    text: &'a str,
    /// The line of the step that failed.
    failed: bool,
}

/// A program of the scenario, with what it wrote.
struct ProgramView<'a> {
    name: &'a str,
    command_line: &'a str,
    ending: String,
    streams: [Stream; 2],
}

/// What a program wrote on stdout or stderr, as much as was kept.
struct Stream {
    name: &'static str,
    /// `1234 bytes`.
    bytes: String,
    /// `, the first 1000 shown`, when not all of it was kept.
    shown: String,
    head: Option<Markup>,
    /// `300 bytes` between the head and the tail, not kept.
    skipped: Option<String>,
    tail: Option<Markup>,
}

fn anchor(id: &str) -> String {
    format!("s-{}", file_name_of(id))
}

fn plural(count: impl Into<u64>, word: &str) -> String {
    let count = count.into();
    if count == 1 {
        format!("1 {word}")
    } else {
        format!("{count} {word}s")
    }
}

/// The whole page of `submission`.
pub(super) fn submission_page(
    context: &Context<'_>,
    submission: &SubmissionRecord,
) -> io::Result<String> {
    let label = &submission.info.submission;
    let score = Score::of(&submission.outcomes);
    let seed = context
        .run
        .info
        .as_ref()
        .map(|info| info.seed)
        .or_else(|| submission.outcomes.first().map(|outcome| outcome.seed));
    let replay = match seed {
        Some(seed) => format!("{} --seed {seed}", submission.info.replay_command),
        None => submission.info.replay_command.clone(),
    };
    let scenarios = submission
        .outcomes
        .iter()
        .map(|outcome| scenario(context, submission, outcome))
        .collect();
    render(&SubmissionPage {
        title: format!("{label}: socket-lab report"),
        back_to_index: context.back_to_index,
        label,
        points: score.points(),
        counts: score.counts(),
        problem: submission.info.problem.as_deref(),
        facts: RunFacts::of(context.run.info.as_ref()),
        elapsed: submission.elapsed.map(seconds),
        replay,
        captures: context
            .pcap
            .as_ref()
            .map(|captures| captures.absolute.display().to_string()),
        tasks: task_rows(submission, &score),
        extra: score.tasks.iter().any(|task| task.has_extra),
        total: Total {
            passed: score.passed,
            ran: score.tasks.iter().map(|task| task.ran).sum::<usize>(),
            earned: score.earned,
            total: score.total,
            extra: score.extra_earned,
        },
        not_submitted: submission.info.not_submitted.join(", "),
        categories: category_rows(submission),
        failures: failures(submission),
        scenarios,
    })
}

/// Points and verdicts by task.
fn task_rows<'a>(submission: &SubmissionRecord, score: &'a Score) -> Vec<TaskRow<'a>> {
    score
        .tasks
        .iter()
        .map(|task| {
            let failed = submission
                .outcomes
                .iter()
                .any(|outcome| outcome.task == task.task && outcome.status.is_failure());
            let class = match (failed, task.earned == task.total) {
                (true, _) => "bad",
                (false, true) => "good",
                // Points left by skipped scenarios, not by failures.
                (false, false) => "partial",
            };
            TaskRow {
                class,
                task: &task.task,
                passed: task.passed,
                ran: task.ran,
                earned: task.earned,
                total: task.total,
                extra: task.has_extra.then_some(task.extra_earned),
            }
        })
        .collect()
}

/// Points and verdicts by category, the categories that have scenarios.
fn category_rows(submission: &SubmissionRecord) -> Vec<CategoryRow> {
    let mut rows = Vec::new();
    for category in [
        Category::Basic,
        Category::Robustness,
        Category::Concurrency,
        Category::Performance,
        Category::Security,
    ] {
        let of_category: Vec<Outcome> = submission
            .outcomes
            .iter()
            .filter(|outcome| outcome.category == category)
            .map(light)
            .collect();
        if of_category.is_empty() {
            continue;
        }
        let part = Score::of(&of_category);
        rows.push(CategoryRow {
            class: if part.failed > 0 { "bad" } else { "good" },
            name: category.name(),
            passed: part.passed,
            failed: part.failed,
            skipped: part.skipped,
            missed: part.missed,
            points: part.points(),
        });
    }
    rows
}

/// The failures at a glance.
fn failures(submission: &SubmissionRecord) -> Vec<FailureItem<'_>> {
    submission
        .outcomes
        .iter()
        .filter(|outcome| outcome.status.is_failure())
        .map(|outcome| {
            let short = |text: &str| crate::diagnosis::shortened(text, 300);
            FailureItem {
                badge: Badge::of(outcome.status),
                anchor: anchor(&outcome.id),
                id: &outcome.id,
                clauses: outcome.clauses.join(", "),
                sentence: crate::diagnosis::sentence(outcome).unwrap_or_default(),
                evidence: outcome.failure.as_ref().map(|failure| Evidence {
                    cause: failure.cause.as_deref().map(short),
                    expected: short(&failure.expected),
                    seen: short(&failure.seen),
                }),
            }
        })
        .collect()
}

/// One scenario.
fn scenario<'a>(
    context: &Context<'_>,
    submission: &SubmissionRecord,
    outcome: &'a Outcome,
) -> ScenarioView<'a> {
    let failed = outcome.status.is_failure();
    let class = match outcome.status {
        _ if failed => "bad",
        Status::Pass => "good",
        _ => "quiet",
    };
    let verdict = match (outcome.status, &outcome.failure) {
        (Status::Pass, _) => "every step held".to_owned(),
        (Status::Skipped, _) => format!(
            "skipped: {}",
            outcome.skip_reason.as_deref().unwrap_or("not run")
        ),
        (Status::Missed, _) => {
            "optional (graded as extra) and not earned: not a failure".to_owned()
        }
        (status, Some(failure)) if failure.step > 0 => format!(
            "{} at step {} (line {}): {}",
            status.label(),
            failure.step,
            failure.line,
            failure.action
        ),
        (status, _) => status.label().to_owned(),
    };
    // The hints under the terminal's first line: in the idiom of the program's language.
    let hints = if failed || outcome.status == Status::Missed {
        crate::diagnosis::hints(outcome)
    } else {
        Vec::new()
    };
    let sequence = (outcome.status != Status::Skipped).then(|| {
        let rows = if failed { ROWS_FAILED } else { ROWS_OTHER };
        Sequence {
            diagram: sequence::diagram(outcome, rows),
            capture: capture(context, submission, outcome),
        }
    });
    let failed_step = outcome
        .failure
        .as_ref()
        .filter(|failure| failure.step > 0)
        .map(|failure| format!("step {}:", failure.step));
    let log = outcome
        .log
        .iter()
        .map(|line| LogLine {
            at: at(line.at),
            text: &line.text,
            failed: failed_step
                .as_deref()
                .is_some_and(|step| line.text.starts_with(step)),
        })
        .collect();
    ScenarioView {
        class,
        anchor: anchor(&outcome.id),
        open: failed,
        badge: Badge::of(outcome.status),
        id: &outcome.id,
        clauses: outcome.clauses.join(", "),
        category: outcome.category.name(),
        points: plural(outcome.points, "point"),
        extra: outcome.extra,
        time: (outcome.status != Status::Skipped).then(|| seconds(outcome.duration)),
        requirement: &outcome.requirement,
        sentence: crate::diagnosis::sentence(outcome),
        verdict,
        failure: outcome.failure.as_ref(),
        hints,
        sequence,
        log,
        programs: outcome.programs.iter().map(program).collect(),
        seed: outcome.seed,
    }
}

/// A program and what it wrote.
fn program(program: &ProgramReport) -> ProgramView<'_> {
    let stream = |name: &'static str, (head, total): &(Vec<u8>, u64), tail: &Vec<u8>| {
        let kept = (head.len() + tail.len()) as u64;
        let shown = match (*total > kept, tail.is_empty()) {
            (false, _) => String::new(),
            (true, true) => format!(", the first {} shown", head.len()),
            (true, false) => format!(
                ", the first {} and the last {} shown",
                head.len(),
                tail.len()
            ),
        };
        // An error is printed last: the end of a long output is shown too.
        let skipped = total.saturating_sub(kept);
        Stream {
            name,
            bytes: plural(*total, "byte"),
            shown,
            head: (!head.is_empty()).then(|| bytes_html(head)),
            skipped: (!tail.is_empty() && skipped > 0).then(|| plural(skipped, "byte")),
            tail: (!tail.is_empty()).then(|| bytes_html(tail)),
        }
    };
    ProgramView {
        name: &program.name,
        command_line: &program.command_line,
        ending: program.ending(),
        streams: [
            stream("stdout", &program.stdout, &program.stdout_tail),
            stream("stderr", &program.stderr, &program.stderr_tail),
        ],
    }
}

/// The link to the scenario's packet capture, or how to get one.
fn capture(context: &Context<'_>, submission: &SubmissionRecord, outcome: &Outcome) -> Capture {
    let Some(captures) = &context.pcap else {
        return Capture::NotRecorded;
    };
    let path = context
        .run
        .pcap_path(&submission.info.submission, &outcome.id);
    if captures.absolute.join(&path).is_file() {
        Capture::Link(CaptureLink {
            href: href_of(&captures.relative.join(&path)),
            path: path.display().to_string(),
        })
    } else {
        Capture::NoneWritten
    }
}
