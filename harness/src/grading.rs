//! Grading one target: the selected scenarios of every submitted task, in id order, or
//! several at a time (`--jobs`, each in its own network namespace) and reported in id
//! order all the same.
//!
//! The command line and the tests both come through here; what happens is told as
//! [`Event`]s to a sink, so the caller decides what to show (see [`crate::report`]).
//!
//! In the real world each scenario runs on a thread of its own, which first enters a fresh
//! network namespace where the system allows it (see [`crate::world::real::isolation`]):
//! nothing one scenario leaves on the network (a port in TIME_WAIT, a daemon still
//! listening) reaches the next, and two submissions graded at once never meet.
//!
//! With `--repeat N` each scenario runs N times, each time like this (see
//! [`crate::repeat`]), and is reported once, with what every repetition did.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::engine::run_scenario;

use crate::events::{Event, EventSink, SubmissionInfo, repeated_verdict};
use crate::outcome::Outcome;
use crate::repeat::{self, Repeat};
use crate::scenario::{Scenario, ScenarioOutcome, Selection, Suite};
use crate::settings::RunSettings;
use crate::target::{RoleProgram, Target};
use crate::world::World;
use crate::world::real::isolation;
use crate::world::real::ports::{Loopback, PortBlock};
use crate::world::sim::SimOptions;
use crate::{Error, Result};

/// Which world the scenarios run in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// The target's programs as child processes on loopback.
    Real,
    /// The reference's programs on simulated hosts, faulted as the options say.
    Simulated(SimOptions),
}

/// The result of grading one target.
#[derive(Debug, Clone)]
pub struct Grading {
    /// One outcome per scenario run or skipped, in id order.
    pub outcomes: Vec<Outcome>,
    /// Selected tasks the target has no program for.
    pub not_submitted: Vec<String>,
    /// Wall time (real world) or the sum of the scenarios' simulated times (simulated
    /// world, so that a replay prints the same).
    pub elapsed: Duration,
    /// Scenarios whose verdict changed from one repetition to another (`--repeat`), in id
    /// order; they are failures too.
    pub flaky: Vec<String>,
}

/// Grades `target` on the scenarios of `suite` that `selection` includes, telling `events`
/// everything from `submission-started` to `submission-finished`, with this machine's
/// default settings ([`RunSettings::machine_defaults`] in the real world,
/// [`RunSettings::simulated`] in the simulated one).
pub fn grade(
    suite: &Suite,
    selection: &Selection,
    target: &Target,
    seed: u64,
    mode: &Mode,
    events: &mut dyn EventSink,
) -> Result<Grading> {
    let settings = match mode {
        Mode::Real => RunSettings::machine_defaults(),
        Mode::Simulated(_) => RunSettings::simulated(),
    };
    grade_with_replay(
        suite,
        selection,
        target,
        seed,
        mode,
        &settings,
        Repeat::ONCE,
        1,
        "harness",
        events,
    )
}

/// [`grade`] with `settings`, each scenario `repeat.times` times, up to `at_once`
/// scenarios at a time (in the real world, when each can have a network namespace of its
/// own), with the command that regrades the target (`harness --target DIR`), for the
/// reports.
#[allow(clippy::too_many_arguments)]
pub fn grade_with_replay(
    suite: &Suite,
    selection: &Selection,
    target: &Target,
    seed: u64,
    mode: &Mode,
    settings: &RunSettings,
    repeat: Repeat,
    at_once: usize,
    replay_command: &str,
    events: &mut dyn EventSink,
) -> Result<Grading> {
    let layers = &settings.sandbox.layers;
    let selected: Vec<&Scenario> = suite
        .scenarios
        .iter()
        .filter(|scenario| selection.includes(scenario))
        .collect();
    if selected.is_empty() {
        return Err(Error::Usage(
            "no scenario matches the selection (see `harness list`)".into(),
        ));
    }
    let selected_tasks: BTreeSet<&str> = selected
        .iter()
        .map(|scenario| scenario.task.as_str())
        .collect();
    let not_submitted: Vec<String> = selected_tasks
        .iter()
        .filter(|task| target.task(task).is_none())
        .map(|task| task.to_string())
        .collect();
    if not_submitted.len() == selected_tasks.len() {
        let expected: Vec<String> = not_submitted
            .iter()
            .flat_map(|task| {
                let info = &suite.catalogue.tasks[task];
                info.roles
                    .keys()
                    .map(move |role| info.program_name(task, role))
            })
            .collect();
        return Err(Error::Usage(format!(
            "nothing to grade in {}: no program for {} (expected {} with any extension, or a submission.toml)",
            target.label,
            not_submitted.join(", "),
            expected.join(", ")
        )));
    }

    let started = Instant::now();
    let submitted: Vec<&Scenario> = selected
        .into_iter()
        .filter(|scenario| target.task(&scenario.task).is_some())
        .collect();
    // A scenario read again where the submission hard-codes a value it gives
    // (`crate::scenario::adapt`): before anything runs, so that a value that cannot be put
    // into a scenario stops the grading at once.
    let adaptations = submitted
        .iter()
        .map(|scenario| {
            let roles = target.task(&scenario.task).expect("filtered above");
            crate::scenario::adapted(scenario, roles, &suite.catalogue)
        })
        .collect::<Result<Vec<Option<Scenario>>>>()?;
    let runnable: Vec<&Scenario> = submitted
        .into_iter()
        .zip(&adaptations)
        .map(|(scenario, adapted)| adapted.as_ref().unwrap_or(scenario))
        .collect();
    let submission = target.label.clone();
    events.emit(Event::SubmissionStarted(SubmissionInfo {
        submission: submission.clone(),
        replay_command: replay_command.to_owned(),
        scenarios: runnable.len(),
        not_submitted: not_submitted.clone(),
        not_submitted_points: not_submitted_points(suite, selection, &not_submitted, mode),
        problem: None,
    }));
    // What one scenario produced, run on whichever thread: everything that tells the
    // events happens below, in id order, whatever order the runs finish in.
    let run_one = |scenario: &Scenario| -> (Outcome, Option<repeat::Repetitions>) {
        let roles = target
            .task(&scenario.task)
            .expect("filtered to submitted tasks");
        let info = &suite.catalogue.tasks[&scenario.task];
        let missing: Vec<String> = scenario
            .roles()
            .into_iter()
            .filter(|role| !roles.contains_key(*role))
            .map(|role| info.program_name(&scenario.task, role))
            .collect();
        // What this world cannot play is decided before what the submission lacks: its
        // points leave everyone's maximum alike, whatever roles a submission has.
        if scenario.simulated_only && *mode == Mode::Real {
            let outcome = Outcome::skipped(
                scenario,
                seed,
                "it cuts the network (a partition), which only the simulated world can do: run the reference with --simulate".into(),
            );
            (outcome, None)
        } else if *mode == Mode::Real
            && let Some(reason) = scenario
                .steps
                .iter()
                .find_map(|step| step.action.0.unplayable(settings))
        {
            (Outcome::skipped(scenario, seed, reason), None)
        } else if scenario.zone.is_some()
            && *mode == Mode::Real
            && !settings.namespace_per_scenario()
            && !crate::engine::all_redirectable(roles, &suite.kit_root, layers)
        {
            let outcome = Outcome::skipped(
                scenario,
                seed,
                "its programs ask the system's resolver, which only a network namespace per scenario (or, on a shared loopback, the interposed library, which cannot enter a static binary) points at the harness's DNS".into(),
            );
            (outcome, None)
        } else if !missing.is_empty() {
            (Outcome::not_submitted(scenario, seed, &missing), None)
        } else if let Mode::Simulated(options) = mode {
            repeat::run(repeat, seed, |seed| {
                crate::simulation::run(scenario, roles, seed, options, settings)
            })
        } else {
            repeat::run(repeat, seed, |seed| {
                run_real(scenario, roles, seed, settings)
            })
        }
    };
    let mut outcomes = Vec::with_capacity(runnable.len());
    let mut flaky = Vec::new();
    let mut simulated_time = Duration::ZERO;
    let mut report = |(mut outcome, repetitions): (Outcome, Option<repeat::Repetitions>),
                      events: &mut dyn EventSink| {
        simulated_time += repetitions
            .as_ref()
            .map_or(outcome.duration, |repetitions| repetitions.duration());
        if repetitions.as_ref().is_some_and(|runs| runs.is_flaky()) {
            flaky.push(outcome.id.clone());
        }
        // The wire (up to a few MiB) goes to the events only, not into the kept outcome.
        let wire = std::mem::take(&mut outcome.wire);
        outcomes.push(outcome.clone());
        outcome.wire = wire;
        events.emit(repeated_verdict(&submission, outcome, repetitions));
    };
    let started_event = |index: usize, scenario: &Scenario| Event::ScenarioStarted {
        submission: submission.clone(),
        id: scenario.id.clone(),
        index: index + 1,
        total: runnable.len(),
    };
    // Simulated scenarios share nothing (each is a network of its own, its time virtual and
    // its randomness drawn from the seed), so they run at once on as many processors. Real
    // ones on a shared loopback run at once only when nothing the submission hard-codes can
    // make them meet: every fixed port is moved by the interposed library.
    let parallel = at_once > 1
        && match mode {
            Mode::Simulated(_) => true,
            Mode::Real => {
                settings.namespace_per_scenario()
                    || !crate::engine::fixed_ports_stay(target, &suite.kit_root, layers)
            }
        };
    if parallel {
        in_parallel(&runnable, at_once, &run_one, |index, result| {
            events.emit(started_event(index, runnable[index]));
            report(result, &mut *events);
        });
    } else {
        for (index, scenario) in runnable.iter().enumerate() {
            events.emit(started_event(index, scenario));
            report(run_one(scenario), &mut *events);
        }
    }
    let elapsed = match mode {
        Mode::Real => started.elapsed(),
        Mode::Simulated(_) => simulated_time,
    };
    events.emit(Event::SubmissionFinished {
        submission,
        elapsed,
    });
    Ok(Grading {
        outcomes,
        not_submitted,
        elapsed,
        flaky,
    })
}

/// Runs `run` on every scenario, `at_once` at a time on worker threads (each scenario in
/// its own network namespace, so they cannot meet), and hands each result to `done` on
/// this thread in id order: a scenario that finishes early waits for those before it, so
/// the reports read exactly as they would one scenario at a time.
///
/// They start in order of [`Scenario::patience`], the most patient first (ties in id
/// order): started in id order, the long waits of the last tasks (a pinger's timeouts, a
/// wait-service's retries) ran at the end with the other workers idle. Longest first is
/// the classic list-scheduling rule (Graham's LPT). Replaying the measured durations of
/// the good sample's 214 scenarios through 8 workers: 17.0 s in id order, 15.3 s in this
/// one, 15.1 s with every duration known beforehand.
fn in_parallel<R: Send>(
    scenarios: &[&Scenario],
    at_once: usize,
    run: &(dyn Fn(&Scenario) -> R + Sync),
    mut done: impl FnMut(usize, R),
) {
    let mut start_order: Vec<usize> = (0..scenarios.len()).collect();
    start_order.sort_by_key(|&index| std::cmp::Reverse(scenarios[index].patience));
    let start_order = &start_order;
    let next = AtomicUsize::new(0);
    let (sender, receiver) = mpsc::channel();
    std::thread::scope(|scope| {
        for _ in 0..at_once.min(scenarios.len()) {
            let sender = sender.clone();
            let next = &next;
            scope.spawn(move || {
                loop {
                    let Some(&index) = start_order.get(next.fetch_add(1, Ordering::SeqCst)) else {
                        return;
                    };
                    let scenario = scenarios[index];
                    if sender.send((index, run(scenario))).is_err() {
                        return;
                    }
                }
            });
        }
        // Only the workers hold senders now: the loop ends when the last one is done.
        drop(sender);
        let mut finished = BTreeMap::new();
        let mut next_in_order = 0;
        for (index, result) in receiver {
            finished.insert(index, result);
            while let Some(result) = finished.remove(&next_in_order) {
                done(next_in_order, result);
                next_in_order += 1;
            }
        }
    });
}

/// What each task of `not_submitted` was worth in this world: the points of its selected
/// required scenarios, less those the world cannot play (simulated-only ones on real
/// sockets), as they would count had the task been submitted. Only when the selection
/// names tasks (`--task`, scenario patterns): grading every task found, the tasks with no
/// program are the rest of the kit, not points the student was asked for.
pub fn not_submitted_points(
    suite: &Suite,
    selection: &Selection,
    not_submitted: &[String],
    mode: &Mode,
) -> BTreeMap<String, u32> {
    if selection.is_everything() {
        return BTreeMap::new();
    }
    not_submitted
        .iter()
        .map(|task| {
            let points = suite
                .scenarios
                .iter()
                .filter(|scenario| &scenario.task == task && selection.includes(scenario))
                .filter(|scenario| !scenario.extra)
                .filter(|scenario| !(scenario.simulated_only && *mode == Mode::Real))
                .map(|scenario| scenario.points)
                .sum();
            (task.clone(), points)
        })
        .collect()
}

/// Runs one scenario with real processes, on a thread of its own that enters a fresh
/// network namespace first (unless `settings` share the loopback): the thread's sockets,
/// its view of `/proc/thread-self/net` and every program it starts are in there. It
/// enters a mount namespace of its own too, where its programs' sized folders are mounted.
fn run_real(
    scenario: &Scenario,
    roles: &BTreeMap<String, RoleProgram>,
    seed: u64,
    settings: &RunSettings,
) -> Outcome {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                if settings.namespace_per_scenario()
                    && let Err(error) = isolation::enter_private_network()
                {
                    return Outcome::harness_error(
                        scenario,
                        seed,
                        format!("cannot give the scenario a network namespace: {error}"),
                    );
                }
                // Its programs' folders are sized `tmpfs`es, mounted where only this
                // scenario sees them (see `sandbox::enter_private_mounts`).
                if settings.sandbox.layers.allows(sandbox::Layer::Disk).is_ok()
                    && let Err(error) = sandbox::enter_private_mounts()
                {
                    return Outcome::harness_error(
                        scenario,
                        seed,
                        format!("cannot give the scenario a mount namespace: {error}"),
                    );
                }
                // On a shared loopback, the scenario's ports are a block reserved now,
                // before its first program, which its programs are walled to.
                let loopback = if settings.namespace_per_scenario() {
                    Loopback::Own
                } else {
                    match PortBlock::reserve() {
                        Ok(block) => Loopback::Shared(std::sync::Arc::new(block)),
                        Err(error) => {
                            return Outcome::harness_error(
                                scenario,
                                seed,
                                format!("cannot reserve the scenario's ports: {error}"),
                            );
                        }
                    }
                };
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime.block_on(run_scenario(
                        scenario,
                        roles,
                        seed,
                        &World::Real(loopback),
                        settings,
                    )),
                    Err(error) => Outcome::harness_error(
                        scenario,
                        seed,
                        format!("cannot start the async runtime: {error}"),
                    ),
                }
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}
