//! The terminal report: progress while running, one line per scenario, then for each
//! failure the clause, the requirement, what was expected, what came, the step log, the
//! transcript, the programs' output and the seed; and a closing `N passed, N failed` line.
//!
//! Rendering returns strings, so tests can snapshot them; the CLI prints them.

use std::fmt::Write;
use std::time::Duration;

use super::score::Score;
use super::{RunRecord, SubmissionRecord};
use crate::engine::{Outcome, Status};
use crate::peers::Direction;

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

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    fn status(&self, status: Status) -> String {
        let code = match status {
            Status::Pass => "32",
            Status::Fail => "31",
            Status::Timeout | Status::Error => "33",
            Status::Skipped | Status::Missed => "2",
        };
        self.paint(code, &format!("{:<7}", status.label()))
    }
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

    /// Everything a student needs to fix one failure.
    pub fn failure_details(&self, outcome: &Outcome) -> String {
        let mut text = String::new();
        let title = format!("{} {}", outcome.status.label(), outcome.id);
        let _ = writeln!(
            text,
            "{}",
            self.style.paint(
                "1",
                &format!(
                    "── {title} {}",
                    "─".repeat(60usize.saturating_sub(title.len()))
                )
            )
        );
        let points = super::score::points(outcome.points);
        let _ = writeln!(
            text,
            "  clause       {} ({}, {points})",
            outcome.clauses.join(", "),
            outcome.category.name()
        );
        let _ = writeln!(text, "  requirement  {}", outcome.requirement);
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
                        let head = crate::engine::excerpt(&entry.head);
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
        let mut text = String::new();
        let score = Score::of(outcomes);
        for task in &score.tasks {
            let mut line = format!(
                "{}: {}/{} scenarios passed, {}/{} points",
                task.task, task.passed, task.ran, task.earned, task.total
            );
            if task.has_extra {
                let _ = write!(line, " (+{} extra)", task.extra_earned);
            }
            let _ = writeln!(text, "{line}");
        }
        for task in not_submitted {
            let _ = writeln!(text, "{task}: not submitted");
        }
        if self.style.timings {
            let clock = if self.simulated {
                " of simulated time"
            } else {
                ""
            };
            let _ = writeln!(text, "graded in {}{clock}", seconds(elapsed));
        }
        let _ = writeln!(text, "{}", score.counts());
        text
    }

    /// One submission of a batch: `alice: 38/45 points (+1 extra), 13 passed, 3 failed  18.2s`.
    pub fn submission_line(&self, submission: &SubmissionRecord) -> String {
        let score = Score::of(&submission.outcomes);
        let mut line = format!(
            "{}: {}, {}",
            submission.info.submission,
            score.points(),
            score.counts()
        );
        if !submission.info.not_submitted.is_empty() {
            let _ = write!(
                line,
                " (not submitted: {})",
                submission.info.not_submitted.join(", ")
            );
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
            format!("+{:.3}s", at.as_secs_f64())
        } else {
            "+t".into()
        }
    }
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
        return crate::engine::excerpt(&[first, last].concat());
    }
    let mut text = crate::engine::excerpt(first);
    if last.is_empty() {
        text.push_str(" …");
    } else {
        let _ = write!(
            text,
            " … ({skipped} bytes) … {}",
            crate::engine::excerpt(last)
        );
    }
    text
}

fn seconds(duration: Duration) -> String {
    format!("{:.2}s", duration.as_secs_f64())
}
