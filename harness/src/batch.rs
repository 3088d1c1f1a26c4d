//! Grading several submissions in one run, one after another or `jobs` at a time.
//!
//! Each submission is graded by [`crate::grading::grade_with_replay`] on a worker thread
//! that emits its events into a channel; the calling thread passes them on to the
//! reporters in the order they come, so a terminal shows every submission as it finishes.
//!
//! Two gradings at once must not clash on ports. Where the system allows it, every
//! scenario runs in a network namespace of its own (see [`crate::grading`] and
//! [`crate::world::real::isolation`]): a private loopback, its own port numbers, programs
//! that cannot reach each other's. Elsewhere all share this machine's loopback and every
//! port comes from the one allocator of [`crate::world::real::ports`], which never hands
//! the same port out twice; submissions that hard-code a port (`port = 12000` in
//! `submission.toml`) can then collide, which the run's first line says. Which of the two
//! a batch uses is its settings' ([`Batch::settings`]): `HARNESS_NO_NAMESPACES=1` has the
//! command line ask for the shared loopback even where namespaces work.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use crate::Result;
use crate::events::{Event, EventSink, Isolation, RunInfo, SubmissionInfo, WorldKind};
use crate::grading::{Grading, Mode, grade_with_replay};
use crate::repeat::Repeat;
use crate::scenario::{Selection, Suite};
use crate::settings::RunSettings;
use crate::target::Target;
use crate::world::real::isolation::NetworkMode;

/// One submission of a batch: its programs, or why it could not be read.
#[derive(Debug)]
pub struct Entry {
    /// Its label in reports.
    pub label: String,
    /// The command that regrades it alone.
    pub replay_command: String,
    /// Its programs, or what is wrong with the folder (a bad `submission.toml`).
    pub target: std::result::Result<Target, String>,
}

/// What to grade and how.
pub struct Batch<'a> {
    /// The scenarios.
    pub suite: &'a Suite,
    /// Which of them.
    pub selection: &'a Selection,
    /// The submissions, in the order given.
    pub entries: Vec<Entry>,
    /// The seed of every slice plan, the same for every submission.
    pub seed: u64,
    /// Real processes or the simulated world.
    pub mode: Mode,
    /// The run's settings: the sandbox and its memory cap, the network mode, the packs'
    /// choices. The run's header tells them.
    pub settings: &'a RunSettings,
    /// Submissions graded at once (at least 1).
    pub jobs: usize,
    /// How many times each scenario runs, and how many runs at once (`--repeat N`).
    pub repeat: Repeat,
    /// The command that replays the run.
    pub replay_command: String,
}

/// Grades every entry, telling `events` the whole run from `run-started` to
/// `run-finished`. Returns each submission's grading (`None` for a folder that could not
/// be read), in the order given.
///
/// A batch given no `--task` and no scenario pattern grades every submission on the tasks
/// that any of them submitted (not the whole kit): each is then out of the same maximum,
/// in every report, and a folder with nothing in it is out of that maximum too, with the
/// tasks it lacks named, instead of `0/0`.
pub fn grade_all(batch: Batch<'_>, events: &mut dyn EventSink) -> Result<Vec<Option<Grading>>> {
    let class_selection;
    let batch = match class_tasks(&batch) {
        Some(tasks) => {
            class_selection = batch.selection.within_tasks(tasks);
            Batch {
                selection: &class_selection,
                ..batch
            }
        }
        None => batch,
    };
    let isolation = match (batch.mode, batch.settings.network) {
        (Mode::Simulated(_), _) => Isolation::None,
        (Mode::Real, NetworkMode::NamespacePerScenario) => Isolation::NetworkNamespace,
        (Mode::Real, NetworkMode::SharedLoopback) => Isolation::PortAllocator,
    };
    // On a shared loopback, two submissions whose programs hard-code one port meet there
    // unless the interposed library moves it: one submission at a time if it cannot.
    let fixed_ports_stay = isolation == Isolation::PortAllocator
        && batch.entries.iter().any(|entry| {
            entry.target.as_ref().is_ok_and(|target| {
                crate::engine::fixed_ports_stay(
                    target,
                    &batch.suite.kit_root,
                    &batch.settings.sandbox.layers,
                )
            })
        });
    let jobs = if fixed_ports_stay {
        1
    } else {
        batch.jobs.clamp(1, batch.entries.len().max(1))
    };
    // One submission: `--jobs` is how many of its scenarios run at once, each in its own
    // network namespace, or on a shared loopback when nothing it hard-codes can make two
    // of them meet (`grading` decides: the interposed library moves every fixed port).
    // With --repeat, how many runs of a scenario go at once.
    let scenarios_at_once = match (batch.repeat.times, batch.entries.len(), isolation) {
        (1, 1, Isolation::NetworkNamespace | Isolation::PortAllocator) => batch.jobs,
        _ => 1,
    };
    let at_once = match batch.repeat.times {
        1 => jobs.max(scenarios_at_once),
        times => batch.repeat.at_once.clamp(1, times as usize),
    };
    let started = Instant::now();
    events.emit(Event::RunStarted(RunInfo {
        record_version: crate::events::RECORD_VERSION,
        harness_version: env!("CARGO_PKG_VERSION").into(),
        seed: batch.seed,
        repeat: batch.repeat.times,
        world: match batch.mode {
            Mode::Real => WorldKind::Real,
            Mode::Simulated(_) => WorldKind::Simulated,
        },
        replay_command: batch.replay_command.clone(),
        submissions: batch
            .entries
            .iter()
            .map(|entry| entry.label.clone())
            .collect(),
        jobs: at_once,
        isolation,
        sandbox: match batch.mode {
            Mode::Real => Some(batch.settings.sandbox.summary()),
            Mode::Simulated(_) => None,
        },
        sandbox_not_here: match batch.mode {
            Mode::Real => batch.settings.sandbox.layers.not_here(),
            Mode::Simulated(_) => Vec::new(),
        },
        servers: crate::protocols::setting_headers(batch.settings),
        started_unix_ms: match batch.mode {
            Mode::Real => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |since| since.as_millis() as u64),
            Mode::Simulated(_) => 0,
        },
    }));

    let results = if jobs == 1 {
        batch
            .entries
            .iter()
            .map(|entry| grade_entry(&batch, entry, scenarios_at_once, events))
            .collect::<Result<Vec<_>>>()?
    } else {
        grade_in_parallel(&batch, jobs, events)?
    };
    events.emit(Event::RunFinished {
        elapsed: started.elapsed(),
    });
    Ok(results)
}

/// Grades one entry on this thread. A folder that could not be read, or that has no
/// program for any selected task, is a submission with nothing graded, not an error of the
/// run: one student's broken folder must not stop a class's grading.
fn grade_entry(
    batch: &Batch<'_>,
    entry: &Entry,
    scenarios_at_once: usize,
    events: &mut dyn EventSink,
) -> Result<Option<Grading>> {
    let nothing_graded = |events: &mut dyn EventSink, not_submitted: Vec<String>, problem| {
        events.emit(Event::SubmissionStarted(SubmissionInfo {
            submission: entry.label.clone(),
            replay_command: entry.replay_command.clone(),
            scenarios: 0,
            not_submitted_points: crate::grading::not_submitted_points(
                batch.suite,
                batch.selection,
                &not_submitted,
                &batch.mode,
            ),
            not_submitted,
            problem,
        }));
        events.emit(Event::SubmissionFinished {
            submission: entry.label.clone(),
            elapsed: std::time::Duration::ZERO,
        });
    };
    let target = match &entry.target {
        Ok(target) => target,
        Err(problem) => {
            // Out of the same maximum as the others: what it could not be graded on.
            let selected = selected_tasks(batch.suite, batch.selection);
            nothing_graded(events, selected, Some(problem.clone()));
            return Ok(None);
        }
    };
    let selected = selected_tasks(batch.suite, batch.selection);
    if batch.entries.len() > 1 && selected.iter().all(|task| target.task(task).is_none()) {
        nothing_graded(events, selected, None);
        return Ok(None);
    }
    grade_with_replay(
        batch.suite,
        batch.selection,
        target,
        batch.seed,
        &batch.mode,
        batch.settings,
        batch.repeat,
        scenarios_at_once,
        &entry.replay_command,
        events,
    )
    .map(Some)
}

/// The tasks a batch with nothing narrowed grades everyone on: those with a program in at
/// least one readable submission, in catalogue order. `None` when the selection names
/// tasks or scenarios already, when there is one submission, or when no submission has a
/// program for any task.
fn class_tasks(batch: &Batch<'_>) -> Option<Vec<String>> {
    if batch.entries.len() < 2 || !batch.selection.is_everything() {
        return None;
    }
    let tasks: Vec<String> = selected_tasks(batch.suite, batch.selection)
        .into_iter()
        .filter(|task| {
            batch.entries.iter().any(|entry| {
                entry
                    .target
                    .as_ref()
                    .is_ok_and(|target| target.task(task).is_some())
            })
        })
        .collect();
    (!tasks.is_empty()).then_some(tasks)
}

/// Tasks with at least one selected scenario, in catalogue order.
pub(crate) fn selected_tasks(suite: &Suite, selection: &Selection) -> Vec<String> {
    suite
        .catalogue
        .tasks
        .keys()
        .filter(|task| {
            suite
                .scenarios
                .iter()
                .any(|scenario| &scenario.task == *task && selection.includes(scenario))
        })
        .cloned()
        .collect()
}

/// `jobs` worker threads take the next entry until none is left; their events come back
/// through a channel and reach `events` on this thread.
fn grade_in_parallel(
    batch: &Batch<'_>,
    jobs: usize,
    events: &mut dyn EventSink,
) -> Result<Vec<Option<Grading>>> {
    let next = AtomicUsize::new(0);
    let (sender, receiver) = mpsc::channel::<Event>();
    let mut results: Vec<Option<Result<Option<Grading>>>> =
        (0..batch.entries.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..jobs)
            .map(|_| {
                let sender = sender.clone();
                let next = &next;
                scope.spawn(move || -> Result<Vec<(usize, Result<Option<Grading>>)>> {
                    let mut sink = |event: Event| {
                        let _ = sender.send(event);
                    };
                    let mut done = Vec::new();
                    loop {
                        let index = next.fetch_add(1, Ordering::SeqCst);
                        let Some(entry) = batch.entries.get(index) else {
                            return Ok(done);
                        };
                        done.push((index, grade_entry(batch, entry, 1, &mut sink)));
                    }
                })
            })
            .collect();
        // Only the workers hold senders now: the loop ends when the last one is done.
        drop(sender);
        for event in receiver {
            events.emit(event);
        }
        for worker in workers {
            match worker.join() {
                Ok(Ok(done)) => {
                    for (index, result) in done {
                        results[index] = Some(result);
                    }
                }
                Ok(Err(error)) => return Err(error),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        Ok(())
    })?;
    results
        .into_iter()
        .map(|result| result.unwrap_or(Ok(None)))
        .collect()
}
