//! The end of a scenario: every connection closed and every program stopped, their output
//! gathered, and the [`Outcome`] assembled with the failure (and its likely cause).

use super::*;
use crate::scenario::ScenarioOutcome;

/// The longest a failed scenario waits for its programs to stop running before it ends
/// them (see `Run::settle_after_failure`).
const SETTLE_AFTER_FAILURE: Duration = Duration::from_secs(1);
/// How long a failed scenario waits for the report of a program that has ended.
const LATE_REPORT_WAIT: Duration = Duration::from_secs(3);

impl Run<'_> {
    /// Kills everything and assembles the outcome.
    pub(super) async fn finish(
        mut self,
        failure: Option<StepFailure>,
        failed_step: usize,
    ) -> Outcome {
        if failure
            .as_ref()
            .is_some_and(|failure| failure.status != Status::Skipped)
        {
            self.settle_after_failure().await;
        }
        self.note_the_internet(true);
        // Every connection a program opened to a relay is on the record, however fast it
        // ended (`Relay::settle`).
        for relay in self.relays.values() {
            relay.settle().await;
        }
        // Connections first (so servers see their clients go), then programs.
        let relayed: Vec<String> = self
            .relays
            .iter()
            .map(|(name, relay)| {
                format!(
                    "relay {name} forwarded {} connection(s)",
                    relay.connections()
                )
            })
            .collect();
        for line in relayed {
            self.note(line);
        }
        self.relays.clear();
        // What the harness's clients received is read before they go: a response that
        // carried a file from outside the web root is what a security failure names.
        let mut causes = Vec::new();
        let may_leak = self.site.is_some() || self.scenario.category == Category::Security;
        if failure.is_some() && may_leak {
            causes.extend(cause::leaks(
                self.peers
                    .iter()
                    .map(|(name, peer)| (name.as_str(), peer.received())),
            ));
        }
        // A pack's peer whose own part the harness could not do (its database did not
        // start, refused its account or its tables): whatever the programs then did (a
        // client that lost its connection), the scenario is the harness's trouble, never
        // theirs. Not where the scenario could not be run here at all.
        let mut trouble = self.servers.iter().find_map(|(name, server)| {
            let why = server.record()?.trouble()?;
            Some(StepFailure {
                status: Status::Error,
                expected: format!("the harness to set up its server {name}"),
                seen: why,
                diff: None,
            })
        });
        // The scenario's DNS that could not listen: a program that looked a name up met
        // no answer, so a failure is the harness's (one that looks nothing up passes).
        if trouble.is_none()
            && failure.is_some()
            && let Some(why) = self.dns_trouble()
        {
            trouble = Some(StepFailure {
                status: Status::Error,
                expected: "the harness to answer the scenario's names with its DNS".into(),
                seen: why,
                diff: None,
            });
        }
        let (mut failure, mut failed_step, mut harness_trouble) = match trouble {
            Some(trouble)
                if failure
                    .as_ref()
                    .is_none_or(|failure| failure.status != Status::Skipped) =>
            {
                self.note(format!("the harness's own trouble: {}", trouble.seen));
                (Some(trouble), 0, true)
            }
            _ => (failure, failed_step, false),
        };
        self.peers.clear();
        self.datagram_peers.clear();
        self.servers.clear();
        // Every program is killed before any is waited for: a client must not see its
        // server go and end by itself in between.
        let mut exits: BTreeMap<String, Option<ExitInfo>> = self
            .programs
            .iter()
            .map(|(name, program)| (name.clone(), program.handle.exit_info()))
            .collect();
        for program in self.programs.values() {
            program.handle.kill();
        }
        for (name, exit) in exits.iter_mut() {
            if exit.is_none() {
                *exit = self.programs[name].handle.ended_before_kill().await;
            }
        }
        self.drain_ended_output().await;
        // A program whose sandbox failed before it ran (`sandbox-init` could not raise its
        // walls): whatever the scenario then saw is the harness's, never the program's.
        // Asked once every program has been waited for: its report says whether it ran.
        if !harness_trouble
            && failure
                .as_ref()
                .is_none_or(|failure| failure.status != Status::Skipped)
            && let Some(trouble) = self.sandbox_trouble()
        {
            self.note(format!("the harness's own trouble: {}", trouble.seen));
            (failure, failed_step, harness_trouble) = (Some(trouble), 0, true);
        }
        // On a shared loopback: what each program's hard-coded ports and names became.
        let moved: Vec<String> = self
            .order
            .iter()
            .filter_map(|name| {
                let redirections = self.programs.get(name)?.handle.redirections();
                (!redirections.is_empty()).then(|| {
                    format!(
                        "{name}: the interposed library moved {}",
                        redirections.join(", ")
                    )
                })
            })
            .collect();
        for line in moved {
            self.note(line);
        }
        let mut programs = Vec::new();
        for name in std::mem::take(&mut self.order) {
            let program = self
                .programs
                .remove(&name)
                .expect("every started program is recorded");
            let exit = exits.remove(&name).flatten();
            // The output may name `{dir}`'s temporary folder: shown as elsewhere, so that
            // the report is the same from run to run.
            let ((stdout, stdout_len), stdout_tail) = shown_output(program.handle.stdout());
            let ((stderr, stderr_len), stderr_tail) = shown_output(program.handle.stderr());
            let (stdout, stdout_tail) = (self.shown_bytes(stdout), self.shown_bytes(stdout_tail));
            let (stderr, stderr_tail) = (self.shown_bytes(stderr), self.shown_bytes(stderr_tail));
            let (stdout, stderr) = ((stdout, stdout_len), (stderr, stderr_len));
            let stopped_by_harness = crate::world::real::process::stop_of_flood(
                program.handle.stdout(),
                program.handle.stderr(),
            )
            .or_else(|| program.handle.cap_stop())
            .or_else(|| {
                self.stopped_by_step
                    .contains(&name)
                    .then_some(HarnessStop::Stopped)
            });
            let exit_accepted = self.exits_accepted.contains(&name);
            // A program whose sandbox failed before it ran never ran: not its exit.
            let never_ran = program.handle.sandbox_trouble();
            let exit = exit.filter(|_| never_ran.is_none());
            let report = ProgramReport {
                name,
                role: program.role.clone(),
                command_line: self.shown(program.handle.command_line()),
                stdout,
                stderr,
                exit,
                stdout_tail,
                stderr_tail,
                stopped_by_harness,
                language: Language::of_command_line(program.handle.command_line()),
                memory_peak: program.handle.memory_peak(),
                known_good: program.known_good,
                not_started: never_ran
                    .map(|why| self.shown(&format!("its sandbox could not be built: {why}"))),
            };
            let stderr_end = program.handle.stderr().tail(cause::STDERR_END);
            // A line of stderr may name the web site's temporary folder: shown as elsewhere.
            let cause = match self.crashes.get(&report.name) {
                Some(crash) => Some(cause::of_crash(&report.name, crash, &stderr_end)),
                None => cause::of_program(
                    &report,
                    &stderr_end,
                    exit_accepted,
                    self.settings.sandbox.memory_limit,
                ),
            };
            causes.extend(cause.map(|cause| self.shown(&cause)));
            programs.push(report);
        }
        // A program of the submission whose command does not exist: named by its role,
        // with why, never "ran".
        for never in std::mem::take(&mut self.never_started) {
            causes.push(self.shown(&format!(
                "{} could not be started: {}",
                never.name, never.why
            )));
            programs.push(ProgramReport::not_started(
                never.name,
                never.role,
                self.shown(&never.command_line),
                Language::of_command_line(&never.command_line),
                never.why,
            ));
        }
        // Nor does a program's end explain the harness's trouble.
        if harness_trouble {
            causes.clear();
        }
        // A program of the submission ended for going over the sandbox's memory or disk cap
        // fails the scenario, whatever the steps saw before its end. A memory cgroup ends
        // it as it goes over, before it can do more; the watcher of a platform's container
        // measures every 50 ms and, on a busy machine, may end it only after it has done
        // what the steps check (a hoard of 1.5 GiB, then the right output): the verdict must
        // not depend on which came first.
        let over_a_cap = programs.iter().find(|program| {
            !program.known_good
                && matches!(
                    program.stopped_by_harness,
                    Some(HarnessStop::MemoryLimit { .. } | HarnessStop::DiskLimit { .. })
                )
        });
        let (failure, failed_step) = match (failure, over_a_cap) {
            (None, Some(program)) if !harness_trouble => (
                Some(StepFailure::fail(
                    format!(
                        "{} to stay within the sandbox's caps until the scenario's end",
                        program.name
                    ),
                    format!("{} was ended for going over one", program.name),
                )),
                self.scenario.steps.len(),
            ),
            (failure, _) => (failure, failed_step),
        };
        self.held_ports.clear();
        let scenario = self.scenario;
        let mut skip_reason = None;
        let (status, failure) = match failure {
            None => (Status::Pass, None),
            // A step that cannot run here (no browser on this machine): not a verdict.
            Some(failure) if failure.status == Status::Skipped => {
                skip_reason = Some(failure.seen);
                (Status::Skipped, None)
            }
            Some(failure) => {
                let (line, action) = match failed_step
                    .checked_sub(1)
                    .and_then(|index| scenario.steps.get(index))
                {
                    Some(step) => (step.line, step.action.describe(self.settings)),
                    None => (0, String::new()),
                };
                // What the run could not help (an option the submission has the harness
                // drop, a port held in TIME_WAIT) is told with what was seen.
                let mut seen = failure.seen;
                for caveat in &self.caveats {
                    if caveat.bears_on(&scenario.requirement, &failure.expected, &seen) {
                        seen.push_str(&format!(" (note: {})", caveat.text));
                    }
                }
                let report = Failure {
                    step: failed_step,
                    line,
                    action,
                    expected: failure.expected,
                    seen,
                    diff: failure.diff,
                    cause: (!causes.is_empty()).then(|| causes.join("; ")),
                };
                // An optional part that does not hold costs nothing (SPEC: "graded as
                // extra"); the report still says why, for who wants to build it.
                let status = if scenario.extra {
                    Status::Missed
                } else {
                    failure.status
                };
                (status, Some(report))
            }
        };
        Outcome {
            duration: self.started.elapsed(),
            failure,
            // A step that cannot run here (no browser) is this run's lack, not the program's.
            skip_kind: skip_reason.as_ref().map(|_| SkipKind::CannotRun),
            skip_reason,
            log: std::mem::take(&mut self.log),
            transcript: self.transcript.entries(),
            wire: self.transcript.wire(),
            programs,
            seed: self.seed,
            ..Outcome::of(scenario, status)
        }
    }
    /// After a failure, waits a moment while a program runs or is ending: a server that
    /// crashed closes its connection (the failing step sees it) while the interpreter is
    /// still printing its traceback and on its way out, and on a loaded machine its exit
    /// comes after the step. Reported as still running, it would lose the cause the report
    /// gives for the crash. Programs asleep (a server in `accept`) are not waited for;
    /// one that spins is waited for [`SETTLE_AFTER_FAILURE`] at most. One that has ended
    /// or is in `exit()` (asleep there, perhaps) and has not been reported yet is waited
    /// for [`LATE_REPORT_WAIT`] at most: killed before its `sandbox-init` reports, its exit
    /// would be lost.
    async fn settle_after_failure(&self) {
        let started = Instant::now();
        loop {
            let waited = started.elapsed();
            let busy = waited < SETTLE_AFTER_FAILURE
                && self.programs.values().any(|program| program.handle.busy());
            let ending = waited < LATE_REPORT_WAIT
                && self
                    .programs
                    .values()
                    .any(|program| program.handle.ending());
            if !busy && !ending {
                return;
            }
            self.pause().await;
        }
    }

    /// The first program whose sandbox failed before it ran, as the harness's own trouble.
    fn sandbox_trouble(&self) -> Option<StepFailure> {
        for (name, program) in &self.programs {
            if let Some(why) = program.handle.sandbox_trouble() {
                return Some(StepFailure {
                    status: Status::Error,
                    expected: format!("the harness to start {name} in its sandbox"),
                    seen: why,
                    diff: None,
                });
            }
        }
        None
    }

    /// Waits a moment for the output of programs that ended to be copied to the end: a
    /// traceback written just before the exit may still be in the pipe, and it is what the
    /// failure's cause quotes. Bounded, since a child the program left behind may hold the
    /// pipe open.
    async fn drain_ended_output(&self) {
        let unread = |program: &Program| {
            program.handle.exit_info().is_some()
                && !(program.handle.stdout().closed() && program.handle.stderr().closed())
        };
        self.wait_output_read(|run| !run.programs.values().any(unread))
            .await;
    }
}

/// The first bytes of an output stream and its length, and the last bytes past that head.
fn shown_output(capture: &Capture) -> ((Vec<u8>, u64), Vec<u8>) {
    let head = capture.head(SHOWN_OUTPUT);
    let past_head = capture.len().saturating_sub(head.len() as u64);
    let tail = capture.tail(SHOWN_OUTPUT.min(past_head as usize));
    ((head, capture.len()), tail)
}
