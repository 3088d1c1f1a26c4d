//! The terminal: what `harness` prints while and after grading.
//!
//! One submission: a header, a line per scenario as its verdict comes, then each failure in
//! detail (every scenario with `--verbose`), opening with the sentence that says what is
//! wrong and the hints ([`super::diagnosis`]), the per-task points, the closing
//! `N passed, N failed` line, and a short summary: each failure's sentence, grouped by
//! cause. Several submissions: a line per submission as it finishes,
//! then the totals (`--verbose` adds every scenario and failure). On a terminal a progress
//! bar shows what runs (on stderr, so stdout stays the report); `--quiet` keeps only the
//! closing lines; `--explain` adds, for each failed clause, what it asks in plain words.

use std::io::{self, Write};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::explain;
use super::terminal::RepeatedRun;
use super::{Reporter, RunRecord, SubmissionRecord, TerminalReport};
use run_record::events::{Event, WorldKind};
use run_record::outcome::Status;

/// How much the terminal shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Verbosity {
    /// Only the closing lines.
    pub quiet: bool,
    /// Every scenario's details, not only failures'.
    pub verbose: bool,
    /// For each failure, the requirement in plain words and a hint.
    pub explain: bool,
}

/// The terminal reporter.
pub struct Console {
    report: TerminalReport,
    verbosity: Verbosity,
    /// More than one submission in the run (known from `run-started`).
    batch: bool,
    bar: Option<ProgressBar>,
    out: Box<dyn Write>,
}

impl Console {
    /// Prints to stdout; a progress bar on stderr when `progress` (stderr is a terminal).
    pub fn new(report: TerminalReport, verbosity: Verbosity, progress: bool) -> Console {
        let bar = (progress && !verbosity.quiet).then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed:>4} {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        Console {
            report,
            verbosity,
            batch: false,
            bar,
            out: Box::new(io::stdout()),
        }
    }

    /// Prints a line, above the progress bar if there is one.
    fn line(&mut self, text: &str) -> io::Result<()> {
        match &self.bar {
            Some(bar) => bar.suspend(|| writeln!(self.out, "{text}")),
            None => writeln!(self.out, "{text}"),
        }
    }

    fn text(&mut self, text: &str) -> io::Result<()> {
        match &self.bar {
            Some(bar) => bar.suspend(|| write!(self.out, "{text}")),
            None => write!(self.out, "{text}"),
        }
    }

    fn details(&mut self, submission: &SubmissionRecord) -> io::Result<()> {
        // Each submission's failures say the command that regrades it.
        let mut report = self.report.clone();
        report.replay_command = submission.info.replay_command.clone();
        for outcome in &submission.outcomes {
            let repetitions = submission.repetitions_of(&outcome.id);
            let flaky = repetitions.is_some_and(|runs| runs.is_flaky());
            let shown = outcome.status.is_failure()
                || flaky
                || self.verbosity.verbose && outcome.status != Status::Skipped;
            if !shown {
                continue;
            }
            let mut text = format!("\n{}", report.repeated_details(outcome, repetitions));
            if self.verbosity.explain && outcome.status.is_failure() {
                text += &explain::explain(outcome);
            }
            self.text(&text)?;
        }
        Ok(())
    }
}

/// How the run kept scenarios apart, for the header line.
fn isolation_said(isolation: run_record::events::Isolation) -> &'static str {
    match isolation {
        run_record::events::Isolation::None => "",
        run_record::events::Isolation::NetworkNamespace => {
            ", each scenario in its own network namespace"
        }
        run_record::events::Isolation::PortAllocator => {
            ", sharing this machine's loopback (no network namespaces here: ports from one allocator; the ports, addresses and names a program hard-codes are moved by the interposed library, a static binary's ports waited for out of TIME_WAIT)"
        }
    }
}

impl Reporter for Console {
    fn event(&mut self, event: &Event, run: &RunRecord) -> io::Result<()> {
        let seed = run.info.as_ref().map_or(0, |info| info.seed);
        match event {
            Event::RunStarted(info) => {
                self.batch = info.submissions.len() > 1;
                if let Some(bar) = &self.bar
                    && self.batch
                {
                    bar.set_length(info.submissions.len() as u64);
                }
                if self.batch && !self.verbosity.quiet {
                    self.line(&format!(
                        "grading {} submissions with seed {seed}, {} at a time{}",
                        info.submissions.len(),
                        info.jobs,
                        isolation_said(info.isolation)
                    ))?;
                    if let Some(sandbox) = &info.sandbox {
                        self.line(sandbox)?;
                    }
                    for server in &info.servers {
                        self.line(server)?;
                    }
                }
            }
            Event::SubmissionStarted(info) => {
                if let Some(bar) = &self.bar
                    && !self.batch
                {
                    bar.set_length(info.scenarios as u64);
                }
            }
            Event::ScenarioStarted {
                submission,
                id,
                index,
                ..
            } => {
                if *index == 1 && !self.batch && !self.verbosity.quiet {
                    let isolation = run
                        .info
                        .as_ref()
                        .map_or("", |info| isolation_said(info.isolation));
                    let jobs = run.info.as_ref().map_or(1, |info| info.jobs);
                    let seeds = match run.repeat() {
                        1 if jobs > 1 => format!("seed {seed}, {jobs} scenarios at a time"),
                        1 => format!("seed {seed}"),
                        times => format!(
                            "seeds {seed} to {}, each scenario {times} times",
                            run_record::repeat::seed_of(seed, times - 1)
                        ),
                    };
                    self.line(&format!("grading {submission} with {seeds}{isolation}"))?;
                    if let Some(info) = &run.info {
                        for line in info.sandbox.iter().chain(&info.servers) {
                            self.line(line)?;
                        }
                    }
                }
                if let Some(bar) = &self.bar {
                    bar.set_message(if self.batch {
                        format!("{submission}: {id}")
                    } else {
                        id.clone()
                    });
                }
            }
            Event::Verdict {
                submission,
                outcome,
                repetitions,
                ..
            } => {
                if let Some(bar) = &self.bar
                    && !self.batch
                {
                    bar.inc(1);
                }
                if !self.verbosity.quiet && (!self.batch || self.verbosity.verbose) {
                    let line = self.report.repeated_line(outcome, repetitions.as_ref());
                    let line = if self.batch {
                        format!("{submission}: {line}")
                    } else {
                        line
                    };
                    self.line(&line)?;
                }
            }
            Event::SubmissionFinished { submission, .. } => {
                if let Some(bar) = &self.bar
                    && self.batch
                {
                    bar.inc(1);
                }
                if self.batch
                    && !self.verbosity.quiet
                    && let Some(record) = run.submission(submission)
                {
                    let line = self.report.submission_line(record);
                    self.line(&line)?;
                }
            }
            Event::RunFinished { .. } => {}
        }
        Ok(())
    }

    fn finish(&mut self, run: &RunRecord) -> io::Result<()> {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        let simulated = run
            .info
            .as_ref()
            .is_some_and(|info| info.world == WorldKind::Simulated);
        self.report.simulated = simulated;
        if !self.batch {
            let Some(submission) = run.submissions.first() else {
                return Ok(());
            };
            if !self.verbosity.quiet {
                self.details(submission)?;
                self.text("\n")?;
            }
            let repeated = (run.repeat() > 1).then(|| RepeatedRun {
                times: run.repeat(),
                seed: run.info.as_ref().map_or(0, |info| info.seed),
                flaky: submission
                    .flaky()
                    .iter()
                    .map(|outcome| outcome.id.as_str())
                    .collect(),
            });
            let summary = self.report.repeated_summary(
                &submission.outcomes,
                &submission.info.not_submitted,
                submission.elapsed.unwrap_or_default(),
                repeated.as_ref(),
            );
            self.text(&summary)?;
            // After the counts, every failure's first line, grouped by cause (not with
            // --quiet, which keeps the counts last).
            let failures = super::diagnosis::closing_summary(&submission.outcomes);
            if failures.is_empty() || self.verbosity.quiet {
                return Ok(());
            }
            return self.text(&format!("\n{failures}"));
        }
        if self.verbosity.verbose {
            for submission in &run.submissions {
                self.line(&format!("\n══ {} ══", submission.info.submission))?;
                self.details(submission)?;
            }
        }
        let summary = self.report.batch_summary(run);
        self.text(&format!("\n{summary}"))
    }
}
