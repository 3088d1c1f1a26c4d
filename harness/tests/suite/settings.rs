//! A run's settings are values handed to grading, not process-wide statics: one process
//! grades the same submission twice, with two settings, and each run's reports tell its
//! own (issue 38).

use crate::common;

use harness::batch::{Batch, Entry, grade_all};
use harness::events::Isolation;
use harness::grading::Mode;
use harness::report::{Reporters, RunRecord, json};
use harness::scenario::Selection;
use harness::settings::RunSettings;
use harness::target::Target;
use harness::world::real::isolation::NetworkMode;
use sandbox::Layer;

/// What one grading of the good submission on `message/01` left: the run as the reporters
/// saw it, and its JSON report.
struct Graded {
    run: RunRecord,
    json: serde_json::Value,
}

/// Grades the good submission on `message/01` with `settings`, in this process.
fn grade_good_submission(settings: &RunSettings) -> Graded {
    let suite = common::suite();
    let folder = common::kit_root().join("fixtures/submissions/good");
    let target = Target::from_folder(&folder, &suite.catalogue, &common::companions())
        .expect("the good submission is a valid target");
    let selection = Selection::new(Vec::new(), &["message/01-*".to_owned()]).unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut reporters = Reporters::new();
    reporters.add("json", json::report(out.path().join("report.json")));
    grade_all(
        Batch {
            suite: &suite,
            selection: &selection,
            entries: vec![Entry {
                label: target.label.clone(),
                replay_command: "harness".into(),
                target: Ok(target),
            }],
            seed: common::SEED,
            mode: Mode::Real,
            settings,
            jobs: 1,
            repeat: harness::repeat::Repeat::ONCE,
            replay_command: "harness".into(),
        },
        &mut reporters,
    )
    .expect("grading runs");
    let run = reporters.finish().expect("the JSON report is written");
    let text = std::fs::read_to_string(out.path().join("report.json")).unwrap();
    Graded {
        run,
        json: serde_json::from_str(&text).unwrap(),
    }
}

/// The header's line about the sandbox, and whether the run's only scenario passed.
fn sandbox_line_and_verdict(graded: &Graded) -> (String, bool) {
    let info = graded.run.info.as_ref().expect("the run started");
    let line = info.sandbox.clone().expect("a real run tells its sandbox");
    let outcomes = &graded.run.submissions[0].outcomes;
    assert_eq!(outcomes.len(), 1, "{outcomes:#?}");
    (line, outcomes[0].status == harness::outcome::Status::Pass)
}

#[test]
fn two_gradings_in_one_process_each_report_their_own_settings() {
    common::require_own_networks("grading with a namespace per scenario");
    if let Err(why) = sandbox::layers().allows(Layer::MemoryCap) {
        panic!("this system refuses the memory cgroup ({why}): the test cannot run here");
    }
    let mut own_networks = RunSettings::machine_defaults();
    own_networks.network = NetworkMode::NamespacePerScenario;
    own_networks.sandbox.memory_limit = 1 << 30;
    // The shared loopback although this machine allows namespaces, and another memory cap.
    let mut shared_loopback = RunSettings::machine_defaults();
    shared_loopback.network = NetworkMode::SharedLoopback;
    shared_loopback.sandbox.memory_limit = 96 << 20;

    let first = grade_good_submission(&own_networks);
    let second = grade_good_submission(&shared_loopback);
    // And the first settings again: nothing of the second run stayed behind.
    let third = grade_good_submission(&own_networks);

    for (graded, isolation, json_isolation, cap) in [
        (
            &first,
            Isolation::NetworkNamespace,
            "network-namespace",
            "1 GiB",
        ),
        (
            &second,
            Isolation::PortAllocator,
            "port-allocator",
            "96 MiB",
        ),
        (
            &third,
            Isolation::NetworkNamespace,
            "network-namespace",
            "1 GiB",
        ),
    ] {
        assert_eq!(graded.run.info.as_ref().unwrap().isolation, isolation);
        assert_eq!(
            graded.json["isolation"], json_isolation,
            "{:#}",
            graded.json
        );
        let (line, passed) = sandbox_line_and_verdict(graded);
        let capped = format!("memory capped at {cap} for everything it forks");
        assert!(line.contains(&capped), "{line}");
        assert!(passed, "{:#?}", graded.run.submissions[0].outcomes[0]);
    }
}
