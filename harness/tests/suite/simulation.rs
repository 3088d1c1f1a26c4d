//! The simulated world: the reference on turmoil hosts, deterministic for a seed.

use crate::common;

use harness::faults::{Range, SlicePlan};
use harness::grading::{Grading, Mode, grade, grade_with_replay};
use harness::outcome::{Outcome, Status};
use harness::repeat::Repeat;
use harness::report::{Style, TerminalReport};
use harness::scenario::{Selection, Suite};
use harness::settings::RunSettings;
use harness::target::Target;
use harness::world::sim::SimOptions;

/// Simulated scenarios graded at once: as many as this machine has processors (two in CI).
/// A simulation uses no time but its processor's, and its verdicts, transcripts and timings
/// do not depend on what runs beside it ([`the_same_seed_gives_byte_identical_reports`]).
const AT_ONCE: usize = 2;

fn simulate(suite: &Suite, patterns: &[&str], seed: u64, options: SimOptions) -> Grading {
    simulate_at_once(suite, patterns, seed, options, AT_ONCE)
}

fn simulate_at_once(
    suite: &Suite,
    patterns: &[&str],
    seed: u64,
    options: SimOptions,
    at_once: usize,
) -> Grading {
    let patterns: Vec<String> = patterns.iter().map(|pattern| pattern.to_string()).collect();
    let selection = Selection::new(Vec::new(), &patterns).expect("valid patterns");
    let target = Target::simulated(&suite.catalogue);
    grade_with_replay(
        suite,
        &selection,
        &target,
        seed,
        &Mode::Simulated(options),
        &RunSettings::simulated(),
        Repeat::ONCE,
        at_once,
        "harness",
        &mut harness::events::Discard,
    )
    .expect("the simulation runs")
}

/// Everything a user sees of a grading, as `--verbose` prints it.
fn full_report(grading: &Grading) -> String {
    let report = TerminalReport {
        style: Style {
            color: false,
            timings: true,
        },
        replay_command: "harness --simulate".into(),
        simulated: true,
    };
    let mut text = String::new();
    for outcome in &grading.outcomes {
        text.push_str(&report.scenario_line(outcome));
        text.push('\n');
        if outcome.status != Status::Skipped {
            text.push_str(&report.failure_details(outcome));
        }
    }
    text.push_str(&report.summary(&grading.outcomes, &grading.not_submitted, grading.elapsed));
    text
}

fn one_byte() -> SimOptions {
    SimOptions {
        short_io: Some(SlicePlan {
            size: Range::Exactly(1),
            gap_ms: Range::Exactly(0),
        }),
        ..SimOptions::default()
    }
}

#[test]
fn the_same_seed_gives_byte_identical_reports() {
    let suite = common::suite();
    // One scenario at a time, then several at once: the same bytes.
    let first = simulate_at_once(&suite, &[], 7, SimOptions::default(), 1);
    let second = simulate(&suite, &[], 7, SimOptions::default());
    let first_report = full_report(&first);
    assert_eq!(first_report, full_report(&second));
    // The report holds real content: transcripts with timings and every step's log.
    assert!(first_report.contains("transcript"), "{first_report}");
    assert!(first_report.contains("simulated host server"));
}

#[test]
fn different_seeds_draw_different_slices() {
    let suite = common::suite();
    let transcript_of = |seed| {
        let grading = simulate(&suite, &["message/04-*"], seed, SimOptions::default());
        let outcome: &Outcome = &grading.outcomes[0];
        assert_eq!(outcome.status, Status::Pass, "{outcome:?}");
        outcome
            .transcript
            .0
            .iter()
            .map(|entry| (entry.first, entry.last, entry.bytes, entry.pieces))
            .collect::<Vec<_>>()
    };
    let seven = transcript_of(7);
    assert_eq!(seven, transcript_of(7));
    assert_ne!(seven, transcript_of(8));
}

#[test]
fn the_reference_passes_with_one_byte_reads_and_writes() {
    let suite = common::suite();
    let grading = simulate(&suite, &[], 3, one_byte());
    for outcome in &grading.outcomes {
        match outcome.status {
            Status::Pass => {}
            // The proxy's cache is optional and left out of the reference on purpose.
            Status::Missed => assert_eq!(outcome.id, "web-proxy/09-cache-serves-a-second-get"),
            Status::Skipped => assert!(
                outcome.skip_reason.as_deref().is_some_and(|reason| {
                    reason.starts_with("cannot be simulated: ")
                        || reason.ends_with(" has no simulated version (real world only)")
                }),
                "{outcome:?}"
            ),
            _ => panic!("{} failed in simulation: {:?}", outcome.id, outcome.failure),
        }
    }
    let passed = grading
        .outcomes
        .iter()
        .filter(|outcome| outcome.status == Status::Pass)
        .count();
    assert!(passed >= 40, "only {passed} scenarios ran");
}

#[test]
fn what_cannot_be_simulated_is_skipped_with_the_reason() {
    let suite = common::suite();
    let grading = simulate(&suite, &["message/16-*"], 1, SimOptions::default());
    let outcome = &grading.outcomes[0];
    assert_eq!(outcome.status, Status::Skipped);
    let reason = outcome.skip_reason.as_deref().unwrap_or_default();
    assert!(reason.contains("peak memory"), "{reason}");
}

#[test]
fn a_task_whose_reference_has_no_simulated_version_is_skipped_scenario_by_scenario() {
    let suite = common::suite();
    let tasks: Vec<String> = ["ssh-info", "xmlrpc", "mysql-remote"]
        .map(String::from)
        .to_vec();
    let selection = Selection::new(tasks.clone(), &[]).expect("known tasks");
    let target = Target::simulated(&suite.catalogue);
    // No "nothing to grade": the tasks are there, their scenarios skipped.
    let grading = grade(
        &suite,
        &selection,
        &target,
        1,
        &Mode::Simulated(SimOptions::default()),
        &mut harness::events::Discard,
    )
    .expect("the tasks are graded");
    assert!(
        grading.not_submitted.is_empty(),
        "{:?}",
        grading.not_submitted
    );
    for task in &tasks {
        let count = suite
            .scenarios
            .iter()
            .filter(|scenario| &scenario.task == task)
            .count();
        let outcomes: Vec<&Outcome> = grading
            .outcomes
            .iter()
            .filter(|outcome| &outcome.task == task)
            .collect();
        assert_eq!(
            outcomes.len(),
            count,
            "every scenario of {task} is reported"
        );
        for outcome in outcomes {
            assert_eq!(outcome.status, Status::Skipped, "{}", outcome.id);
            let reason = outcome.skip_reason.as_deref().unwrap_or_default();
            assert!(
                reason.starts_with("the reference ")
                    && reason.ends_with(" has no simulated version (real world only)"),
                "{}: {reason}",
                outcome.id
            );
        }
    }
    let report = full_report(&grading);
    assert!(
        report.contains("(the reference ssh-info has no simulated version (real world only))"),
        "{report}"
    );
    let ssh_scenarios = grading
        .outcomes
        .iter()
        .filter(|outcome| outcome.task == "ssh-info")
        .count();
    assert!(
        report.contains(&format!(
            "ssh-info: {ssh_scenarios} scenarios skipped: the reference ssh-info has no simulated version (real world only)\n"
        )),
        "{report}"
    );
    // Skipped, not failed: nothing is at stake.
    let total = grading.outcomes.len();
    assert!(
        report.ends_with(&format!("0 passed, 0 failed, {total} skipped\n")),
        "{report}"
    );
}

#[test]
fn a_failing_simulated_scenario_prints_the_seed_that_replays_it() {
    // Expects a different text than the one sent: the reference prints what it receives,
    // so this scenario must fail, in the simulated world as in the real one.
    let (_folder, suite) = common::one_scenario_suite(
        "message",
        "01-wrong-expectation",
        r#"task = "message"
clauses = ["message/1"]
category = "basic"
points = 1
requirement = "A deliberately wrong expectation."

[[step]]
start = "server"

[[step]]
wait_listening = "server"

[[step]]
connect = "server"
as = "c1"
send = { text = "hello, world\n" }
slices = { size = [1, 4], gap_ms = 1 }

[[step]]
expect_stdout = "server"
equals = { text = "HELLO, WORLD\n" }
"#,
    );
    let grading = simulate(&suite, &[], 42, SimOptions::default());
    let outcome = &grading.outcomes[0];
    assert_eq!(outcome.status, Status::Fail, "{outcome:?}");
    let report = full_report(&grading);
    assert!(
        report.contains("replay: harness --simulate --seed 42 'message/01-wrong-expectation'"),
        "{report}"
    );
    // The replay is exact: the same seed fails the same way, with the same transcript.
    assert_eq!(
        report,
        full_report(&simulate(&suite, &[], 42, SimOptions::default()))
    );
}

#[test]
fn a_partition_cuts_the_network_until_repaired() {
    // The shipped scenario: the client gives up while cut off, the next one gets through.
    let suite = common::suite();
    let grading = simulate(&suite, &["upper-udp/08-*"], 5, SimOptions::default());
    let outcome = &grading.outcomes[0];
    assert_eq!(outcome.status, Status::Pass, "{:?}", outcome.failure);

    // Without the repair the second client is cut off too: the partition is real, not a
    // scenario that would pass anyway.
    let (_folder, suite) = common::one_scenario_suite(
        "upper-udp",
        "01-never-repaired",
        r#"task = "upper-udp"
clauses = ["upper/5"]
category = "robustness"
points = 1
world = "simulated"
requirement = "A deliberately wrong expectation: the network stays cut."

[[step]]
start = "server"

[[step]]
wait_listening = "server"

[[step]]
partition = ["client", "server"]

[[step]]
start = "client"
to = "server"
stdin = { text = "cut off\n" }

[[step]]
expect_exit = "client"
success = true
within_ms = 4000
"#,
    );
    let grading = simulate(&suite, &[], 5, SimOptions::default());
    let outcome = &grading.outcomes[0];
    assert_eq!(outcome.status, Status::Fail, "{outcome:?}");
    let seen = &outcome.failure.as_ref().unwrap().seen;
    assert!(seen.contains("exit status 1"), "{seen}");
}

#[test]
fn the_ping_servers_losses_follow_the_seed() {
    let suite = common::suite();
    let answered = |seed| {
        let grading = simulate(&suite, &["udp-pinger/05-*"], seed, SimOptions::default());
        let outcome = &grading.outcomes[0];
        assert_eq!(outcome.status, Status::Pass, "{:?}", outcome.failure);
        outcome
            .log
            .iter()
            .find(|line| line.text.contains("pings answered"))
            .map(|line| line.text.clone())
            .expect("the check notes how many pings were answered")
    };
    let first = answered(11);
    assert_eq!(first, answered(11));
    assert_ne!(first, answered(12));
}
