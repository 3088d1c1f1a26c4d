//! The terminal report: progress while running, one line per scenario, then for each
//! failure the clause, the requirement, what was expected, what came, the step log, the
//! transcript, the programs' output and the seed; and a closing `N passed, N failed` line.
//!
//! Rendering returns strings, so tests can snapshot them; the CLI prints them.

use std::fmt::Write;
use std::time::Duration;

use super::score::Score;
use super::{RunRecord, SubmissionRecord};
use run_record::encoding::decimal_seconds;
use run_record::outcome::{Outcome, Status};
use run_record::repeat::Repetitions;
use run_record::transcript::Direction;

/// A failure's header and its first sentence.
const BOLD: anstyle::Style = anstyle::Style::new().bold();
/// What could not be graded.
const RED: anstyle::Style = anstyle::AnsiColor::Red.on_default();

/// How to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// ANSI colors.
    pub color: bool,
    /// Show durations (off in snapshots, where they would change every run).
    pub timings: bool,
}

impl Style {
    /// Colors when stdout is a terminal and `NO_COLOR` is not set.
    pub fn detect() -> Style {
        use std::io::IsTerminal;
        let color = std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty());
        Style {
            color,
            timings: true,
        }
    }

    fn paint(&self, style: anstyle::Style, text: &str) -> String {
        if self.color {
            format!("{style}{text}{style:#}")
        } else {
            text.to_owned()
        }
    }

    fn status(&self, status: Status) -> String {
        use anstyle::AnsiColor;
        let style = match status {
            Status::Pass => AnsiColor::Green.on_default(),
            Status::Fail => AnsiColor::Red.on_default(),
            Status::Timeout | Status::Error => AnsiColor::Yellow.on_default(),
            Status::Skipped | Status::Missed => anstyle::Style::new().dimmed(),
        };
        self.paint(style, &format!("{:<7}", status.label()))
    }

    /// A scenario whose verdict changed from one repetition to another (magenta, as
    /// nextest prints its flaky tests).
    fn flaky(&self) -> String {
        self.paint(anstyle::AnsiColor::Magenta.on_default(), "FLAKY  ")
    }
}

/// A run with `--repeat`, for the closing lines.
#[derive(Debug, Clone)]
pub struct RepeatedRun<'a> {
    /// Runs of each scenario.
    pub times: u32,
    /// The first repetition's seed (the run's).
    pub seed: u64,
    /// The scenarios whose verdict changed, in the order they ran.
    pub flaky: Vec<&'a str>,
}

/// Renders the parts of a terminal report.
#[derive(Debug, Clone)]
pub struct TerminalReport {
    /// Drawing options.
    pub style: Style,
    /// The command that reruns this grading, for replay hints (`harness --target X`).
    pub replay_command: String,
    /// Whether the scenarios ran in the simulated world (timings are simulated time).
    pub simulated: bool,
}

impl TerminalReport {
    /// `PASS    message/01-text-20k   0.31s`
    pub fn scenario_line(&self, outcome: &Outcome) -> String {
        let mut line = format!("{} {:<40}", self.style.status(outcome.status), outcome.id);
        if self.style.timings && outcome.status != Status::Skipped {
            let _ = write!(line, " {:>7}", seconds(outcome.duration));
        }
        if let Some(reason) = &outcome.skip_reason {
            let _ = write!(line, " ({reason})");
        }
        if outcome.status == Status::Missed {
            let _ = write!(line, " (optional, not earned: not a failure; -v shows why)");
        }
        line.trim_end().to_owned()
    }

    /// [`Self::scenario_line`] of a scenario run more than once (`--repeat`), after its
    /// time: `50/50 passed`, or for a flaky one
    /// `FLAKY   message/05-…  31.20s  48 passed (seeds 7-22, 24-40, 42-56), 2 failed (seeds 23, 41): fail at step 4: …`.
    /// The time is every repetition's, added up.
    pub fn repeated_line(&self, outcome: &Outcome, repetitions: Option<&Repetitions>) -> String {
        let Some(repetitions) = repetitions else {
            return self.scenario_line(outcome);
        };
        let flaky = repetitions.is_flaky();
        let label = if flaky {
            self.style.flaky()
        } else {
            self.style.status(outcome.status)
        };
        let mut line = format!("{label} {:<40}", outcome.id);
        if self.style.timings {
            let _ = write!(line, " {:>7}", seconds(repetitions.duration()));
        }
        if flaky {
            let _ = write!(
                line,
                "  {}: {}",
                repetitions_counted(repetitions),
                headline(outcome)
            );
        } else {
            let _ = write!(
                line,
                "  {}/{} passed",
                repetitions.passed(),
                repetitions.runs.len()
            );
        }
        if outcome.status == Status::Missed && !flaky {
            let _ = write!(line, " (optional, not earned: not a failure; -v shows why)");
        }
        line
    }

    /// Everything a student needs to fix one failure.
    pub fn failure_details(&self, outcome: &Outcome) -> String {
        self.repeated_details(outcome, None)
    }

    /// [`Self::failure_details`], with a `repeated` line saying what every repetition did
    /// when the scenario ran more than once (the details are those of the repetition
    /// shown: the first that did not pass).
    pub fn repeated_details(&self, outcome: &Outcome, repetitions: Option<&Repetitions>) -> String {
        let mut text = String::new();
        let flaky = repetitions.is_some_and(Repetitions::is_flaky);
        let label = if flaky {
            "FLAKY"
        } else {
            outcome.status.label()
        };
        let title = format!("{label} {}", outcome.id);
        let _ = writeln!(
            text,
            "{}",
            self.style.paint(
                BOLD,
                &format!(
                    "── {title} {}",
                    "─".repeat(60usize.saturating_sub(title.len()))
                )
            )
        );
        // First what is wrong, in which of the student's programs, and what to do; then
        // the hints, before the evidence.
        if let Some(sentence) = super::diagnosis::sentence(outcome) {
            let _ = writeln!(text, "  {}", self.style.paint(BOLD, &sentence));
            for hint in super::diagnosis::hints(outcome) {
                let _ = writeln!(text, "  hint         {hint}");
            }
        }
        let points = super::score::points(outcome.points);
        let _ = writeln!(
            text,
            "  clause       {} ({}, {points})",
            outcome.clauses.join(", "),
            outcome.category.name()
        );
        let _ = writeln!(text, "  requirement  {}", outcome.requirement);
        if let Some(repetitions) = repetitions {
            let _ = writeln!(
                text,
                "  repeated     {}",
                repeated_said(repetitions, outcome)
            );
        }
        if outcome.status == Status::Pass {
            let _ = writeln!(text, "  verdict      every step held");
        }
        if let Some(failure) = &outcome.failure {
            if failure.step > 0 {
                let _ = writeln!(
                    text,
                    "  failed at    step {} (line {}): {}",
                    failure.step, failure.line, failure.action
                );
            }
            // Before what the step saw: a crash, a flood or a leak is usually why.
            if let Some(cause) = &failure.cause {
                let _ = writeln!(text, "  cause        {cause}");
            }
            let _ = writeln!(text, "  expected     {}", failure.expected);
            let _ = writeln!(text, "  seen         {}", failure.seen);
            if let Some(diff) = &failure.diff {
                let _ = writeln!(text, "  diff");
                for line in diff.lines() {
                    let _ = writeln!(text, "    {line}");
                }
            }
        }
        if !outcome.log.is_empty() {
            let _ = writeln!(text, "  step log");
            for line in &outcome.log {
                let _ = writeln!(text, "    {} {}", self.at(line.at), line.text);
            }
        }
        let (entries, left_out) = &outcome.transcript;
        if !entries.is_empty() {
            let _ = writeln!(text, "  transcript   (→ to the program, ← from it)");
            for entry in entries {
                let arrow = match entry.direction {
                    Direction::ToProgram => "→",
                    Direction::FromProgram => "←",
                };
                let what = match &entry.event {
                    Some(event) => event.clone(),
                    None => {
                        let calls = if entry.pieces == 1 {
                            "1 call".to_string()
                        } else {
                            format!("{} calls", entry.pieces)
                        };
                        let head = run_record::diff::excerpt(&entry.head);
                        let more = if entry.bytes > entry.head.len() as u64 {
                            "…"
                        } else {
                            ""
                        };
                        format!("{} bytes in {calls}  {head}{more}", entry.bytes)
                    }
                };
                let _ = writeln!(
                    text,
                    "    {} {:<10} {arrow} {what}",
                    self.at(entry.first),
                    entry.connection
                );
            }
            if *left_out > 0 {
                let _ = writeln!(text, "    … {left_out} more entries not kept");
            }
        }
        for program in &outcome.programs {
            let _ = writeln!(
                text,
                "  program      {}: `{}`: {}",
                program.name,
                program.command_line,
                program.ending()
            );
            for (stream, (head, total), tail) in [
                ("stdout", &program.stdout, &program.stdout_tail),
                ("stderr", &program.stderr, &program.stderr_tail),
            ] {
                let _ = writeln!(
                    text,
                    "    {stream} ({total} bytes) {}",
                    output_excerpt(head, *total, tail)
                );
            }
        }
        let _ = writeln!(
            text,
            "  seed         {} (replay: {} --seed {} '{}')",
            outcome.seed, self.replay_command, outcome.seed, outcome.id
        );
        text
    }

    /// The closing lines: per task, then `N passed, N failed` (and skipped) alone on a line.
    pub fn summary(
        &self,
        outcomes: &[Outcome],
        not_submitted: &[String],
        elapsed: Duration,
    ) -> String {
        self.repeated_summary(outcomes, not_submitted, elapsed, None)
    }

    /// [`Self::summary`] of a run with `--repeat`: a line says how many times each scenario
    /// ran, with which seeds, and which were flaky, and the last one ends with `(N flaky)`.
    pub fn repeated_summary(
        &self,
        outcomes: &[Outcome],
        not_submitted: &[String],
        elapsed: Duration,
        repeated: Option<&RepeatedRun<'_>>,
    ) -> String {
        let mut text = String::new();
        let score = Score::of(outcomes);
        for task in &score.tasks {
            // None ran and no points are at stake: say why instead of `0/0`.
            if task.ran == 0 && task.total == 0 && !task.has_extra {
                let _ = writeln!(text, "{}", all_skipped(&task.task, outcomes));
                continue;
            }
            let mut line = format!(
                "{}: {}/{} scenarios passed, {}/{} points",
                task.task, task.passed, task.ran, task.earned, task.total
            );
            if task.has_extra {
                let _ = write!(line, " (+{} extra)", task.extra_earned);
            }
            let _ = writeln!(text, "{line}");
        }
        // (The simulated reference has every task: what it cannot simulate is skipped,
        // scenario by scenario, with the reason.)
        if !not_submitted.is_empty() {
            let _ = writeln!(text, "not submitted: {}", tasks_named(not_submitted));
        }
        if self.style.timings {
            let clock = if self.simulated {
                " of simulated time"
            } else {
                ""
            };
            let _ = writeln!(text, "graded in {}{clock}", seconds(elapsed));
        }
        let Some(repeated) = repeated else {
            let _ = writeln!(text, "{}", score.counts());
            return text;
        };
        let _ = write!(
            text,
            "each scenario ran {} times (seeds {} to {}): ",
            repeated.times,
            repeated.seed,
            run_record::repeat::seed_of(repeated.seed, repeated.times.saturating_sub(1))
        );
        if repeated.flaky.is_empty() {
            let _ = writeln!(text, "no verdict changed");
            let _ = writeln!(text, "{}", score.counts());
        } else {
            let _ = writeln!(
                text,
                "{} flaky (counted as failed): {}",
                repeated.flaky.len(),
                repeated.flaky.join(", ")
            );
            let _ = writeln!(text, "{} ({} flaky)", score.counts(), repeated.flaky.len());
        }
        text
    }

    /// One submission of a batch: `alice: 38/45 points (+1 extra), 13 passed, 3 failed  18.2s`,
    /// out of the maximum every report of the class shares ([`Score::points_of`]). A
    /// folder that could not be graded says why (`bob: 0/45 points: could not be graded:
    /// …`), one with no program says `nothing submitted`: neither reads as a pass.
    pub fn submission_line(&self, submission: &SubmissionRecord) -> String {
        let score = Score::of(&submission.outcomes);
        let info = &submission.info;
        let mut line = format!("{}: {}", info.submission, score.points_of(info));
        if let Some(problem) = &info.problem {
            let _ = write!(
                line,
                ": {} {problem}",
                self.style.paint(RED, "could not be graded:")
            );
        } else if submission.outcomes.is_empty() {
            let _ = write!(line, ": {}", self.style.paint(RED, "nothing submitted"));
            if !info.not_submitted.is_empty() {
                let _ = write!(
                    line,
                    " (no program for {})",
                    tasks_named(&info.not_submitted)
                );
            }
        } else {
            let _ = write!(line, ", {}", score.counts());
            if !info.not_submitted.is_empty() {
                let _ = write!(
                    line,
                    " (not submitted: {})",
                    tasks_named(&info.not_submitted)
                );
            }
        }
        if self.style.timings
            && let Some(elapsed) = submission.elapsed
        {
            let _ = write!(line, "  {}", seconds(elapsed));
        }
        line
    }

    /// The closing lines of a batch: the submissions graded, the time, and every
    /// scenario's verdicts added up (`N passed, N failed` alone on the last line).
    pub fn batch_summary(&self, run: &RunRecord) -> String {
        let mut text = String::new();
        let outcomes: Vec<Outcome> = run
            .submissions
            .iter()
            .flat_map(|submission| submission.outcomes.iter().cloned())
            .collect();
        let with_failures = run
            .submissions
            .iter()
            .filter(|submission| Score::of(&submission.outcomes).failed > 0)
            .count();
        let _ = write!(
            text,
            "{} submissions graded, {with_failures} with failures",
            run.submissions.len()
        );
        let ungraded = run
            .submissions
            .iter()
            .filter(|submission| submission.outcomes.is_empty())
            .count();
        if ungraded > 0 {
            let _ = write!(
                text,
                ", {ungraded} with nothing graded (nothing submitted, or could not be read)"
            );
        }
        if self.style.timings
            && let Some(elapsed) = run.elapsed
        {
            let jobs = run.info.as_ref().map_or(1, |info| info.jobs);
            let _ = write!(text, " in {} ({jobs} at a time)", seconds(elapsed));
        }
        let _ = writeln!(text);
        let _ = writeln!(text, "{}", Score::of(&outcomes).counts());
        text
    }

    fn at(&self, at: Duration) -> String {
        if self.style.timings {
            format!("+{}s", decimal_seconds(at, 3))
        } else {
            "+t".into()
        }
    }
}

/// Tasks on one line: `web-server`, `3 tasks (calc, chat, echo-plus)`, and past
/// [`TASKS_SHOWN`] names `24 tasks (calc, chat, …, and 18 more)`: a run that graded one
/// task closes on one line about the others, not on one line each.
pub fn tasks_named(tasks: &[String]) -> String {
    match tasks {
        [task] => task.clone(),
        _ if tasks.len() <= TASKS_SHOWN + 1 => {
            format!("{} tasks ({})", tasks.len(), tasks.join(", "))
        }
        _ => format!(
            "{} tasks ({}, and {} more)",
            tasks.len(),
            tasks[..TASKS_SHOWN].join(", "),
            tasks.len() - TASKS_SHOWN
        ),
    }
}

/// Task names [`tasks_named`] shows before `and N more`.
const TASKS_SHOWN: usize = 6;

/// The closing line of a task none of whose scenarios ran: `ssh-info: 10 scenarios skipped:
/// the reference ssh-info has no simulated version (real world only)`, the reason when they
/// share one.
fn all_skipped(task: &str, outcomes: &[Outcome]) -> String {
    let skipped: Vec<&Outcome> = outcomes
        .iter()
        .filter(|outcome| outcome.task == task)
        .collect();
    let mut line = format!(
        "{task}: {} scenario{} skipped",
        skipped.len(),
        if skipped.len() == 1 { "" } else { "s" }
    );
    let reasons: std::collections::BTreeSet<&str> = skipped
        .iter()
        .filter_map(|outcome| outcome.skip_reason.as_deref())
        .collect();
    if let [reason] = reasons.into_iter().collect::<Vec<_>>()[..] {
        let _ = write!(line, ": {reason}");
    }
    line
}

/// The first bytes of an output, and its last ones when there are more: an error is
/// printed last.
fn output_excerpt(head: &[u8], total: u64, tail: &[u8]) -> String {
    const SHOWN: usize = 300;
    let first = &head[..head.len().min(SHOWN)];
    // The end of what was kept: the tail past the head, else the head's own end.
    let end = if tail.is_empty() {
        &head[first.len()..]
    } else {
        tail
    };
    let last = &end[end.len().saturating_sub(SHOWN)..];
    let skipped = total.saturating_sub((first.len() + last.len()) as u64);
    if skipped == 0 {
        return run_record::diff::excerpt(&[first, last].concat());
    }
    let mut text = run_record::diff::excerpt(first);
    if last.is_empty() {
        text.push_str(" …");
    } else {
        let _ = write!(
            text,
            " … ({skipped} bytes) … {}",
            run_record::diff::excerpt(last)
        );
    }
    text
}

/// `48 passed (seeds 7-22, 24-40, 42-56), 2 failed (seeds 23, 41)`.
pub(crate) fn repetitions_counted(repetitions: &Repetitions) -> String {
    format!(
        "{} passed{}, {} failed{}",
        repetitions.passed(),
        seeds_said(&repetitions.seeds(true)),
        repetitions.failed(),
        seeds_said(&repetitions.seeds(false))
    )
}

/// The `repeated` line of a scenario's details.
fn repeated_said(repetitions: &Repetitions, shown: &Outcome) -> String {
    let times = repetitions.runs.len();
    if repetitions.is_flaky() {
        format!(
            "{times} times: {}; below, the first that did not pass (seed {})",
            repetitions_counted(repetitions),
            shown.seed
        )
    } else if repetitions.failed() == 0 {
        format!(
            "{times} times: every one passed{}",
            seeds_said(&repetitions.seeds(true))
        )
    } else {
        format!(
            "{times} times: none passed{}; below, the first (seed {})",
            seeds_said(&repetitions.seeds(false)),
            shown.seed
        )
    }
}

/// ` (seed 23)`, ` (seeds 7-22, 24, 26)`, nothing for no seed: consecutive seeds as a
/// range, at most six parts, then how many more.
pub fn seeds_said(seeds: &[u64]) -> String {
    const SHOWN: usize = 6;
    let mut parts: Vec<String> = Vec::new();
    let mut index = 0;
    while index < seeds.len() {
        let mut end = index;
        while end + 1 < seeds.len() && seeds[end + 1] == seeds[end].wrapping_add(1) {
            end += 1;
        }
        match end - index {
            0 => parts.push(seeds[index].to_string()),
            1 => {
                parts.push(seeds[index].to_string());
                parts.push(seeds[end].to_string());
            }
            _ => parts.push(format!("{}-{}", seeds[index], seeds[end])),
        }
        index = end + 1;
    }
    let word = if seeds.len() == 1 { "seed" } else { "seeds" };
    match parts.len() {
        0 => String::new(),
        count if count <= SHOWN => format!(" ({word} {})", parts.join(", ")),
        count => format!(
            " ({word} {}, and {} more)",
            parts[..SHOWN].join(", "),
            count - SHOWN
        ),
    }
}

/// A failure on one short line: `fail at step 4: expected … / seen …`, the cause instead
/// of what was expected and seen when the harness found one.
fn headline(outcome: &Outcome) -> String {
    const LONGEST: usize = 160;
    let word = super::json::status_word(outcome.status);
    let Some(failure) = &outcome.failure else {
        return word.to_owned();
    };
    let at = if failure.step > 0 {
        format!(" at step {}", failure.step)
    } else {
        String::new()
    };
    let what = match &failure.cause {
        Some(cause) => cause.clone(),
        None => format!("expected {} / seen {}", failure.expected, failure.seen),
    };
    let line = format!("{word}{at}: {what}")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    match line.char_indices().nth(LONGEST) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

fn seconds(duration: Duration) -> String {
    format!("{}s", decimal_seconds(duration, 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_coloured_with_sgr_codes_only_when_colour_is_on() {
        let colour = Style {
            color: true,
            timings: false,
        };
        assert_eq!(colour.status(Status::Pass), "\x1b[32mPASS   \x1b[0m");
        assert_eq!(colour.status(Status::Fail), "\x1b[31mFAIL   \x1b[0m");
        assert_eq!(colour.paint(BOLD, "x"), "\x1b[1mx\x1b[0m");
        let plain = Style {
            color: false,
            timings: false,
        };
        assert_eq!(plain.status(Status::Pass), "PASS   ");
    }

    #[test]
    fn tasks_not_submitted_are_one_line_however_many() {
        let tasks = |names: &[&str]| {
            names
                .iter()
                .map(|name| name.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(tasks_named(&tasks(&["web-server"])), "web-server");
        assert_eq!(
            tasks_named(&tasks(&["calc", "chat"])),
            "2 tasks (calc, chat)"
        );
        let many: Vec<String> = (1..=24).map(|n| format!("t{n}")).collect();
        assert_eq!(
            tasks_named(&many),
            "24 tasks (t1, t2, t3, t4, t5, t6, and 18 more)"
        );
    }
}
