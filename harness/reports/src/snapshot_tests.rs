//! Every file reporter's whole document for one run, snapshotted (`insta`): a change of
//! what a student or a platform reads shows in review as the document's diff, where the
//! tests beside each reporter check one property each (escaping, dates, scores).
//!
//! The run: one submission with a pass, a failure (its step, diff, cause, hint, step log
//! and programs) and a skip, and a task it did not submit. Its clock and versions are
//! fixed, so every document is the same from run to run.

use std::time::Duration;

use run_record::events::{Isolation, RECORD_VERSION, RunInfo, SubmissionInfo, WorldKind};
use run_record::exit::{ExitInfo, ExitKind};
use run_record::outcome::{Category, Failure, LogLine, Outcome, ProgramReport, SkipKind, Status};

use crate::{RunRecord, SubmissionRecord};

fn outcome(id: &str, status: Status, points: u32) -> Outcome {
    let mut outcome = Outcome::blank(id);
    outcome.task = "message".into();
    outcome.clauses = vec!["message/1".into()];
    outcome.category = Category::Basic;
    outcome.points = points;
    outcome.requirement = "The server prints exactly the bytes each client sent.".into();
    outcome.status = status;
    outcome.duration = Duration::from_millis(310);
    outcome.seed = 42;
    outcome
}

fn run() -> RunRecord {
    let passed = outcome("message/01-text", Status::Pass, 2);
    let mut failed = outcome("message/04-short-reads", Status::Fail, 3);
    failed.hint = Some("Loop on recv() until it returns b'' (the client closed).".into());
    failed.failure = Some(Failure {
        step: 4,
        line: 17,
        action: "check server's stdout".into(),
        expected: "server's stdout to be exactly the 11 bytes c1 sent".into(),
        seen: "5 bytes: \"hello\"".into(),
        diff: Some("- hello world\n+ hello".into()),
        cause: Some("the server read once: it printed the first slice only".into()),
    });
    failed.log = vec![
        LogLine {
            at: Duration::from_millis(2),
            text: "step 1: start server".into(),
        },
        LogLine {
            at: Duration::from_millis(40),
            text: "step 2: connect c1, sending in slices of 1-5 bytes".into(),
        },
    ];
    failed.programs = vec![ProgramReport {
        name: "server".into(),
        role: "server".into(),
        command_line: "python3 message-server.py 40001".into(),
        stdout: (b"hello\n".to_vec(), 6),
        stderr: (Vec::new(), 0),
        exit: Some(ExitInfo {
            kind: ExitKind::Code(0),
            max_rss_kib: 9_800,
            after: Duration::from_millis(120),
        }),
        ..ProgramReport::default()
    }];
    let mut skipped = outcome("message/09-binary-in-browser", Status::Skipped, 1);
    skipped.skip_reason = Some("no browser on this machine".into());
    skipped.skip_kind = Some(SkipKind::CannotRun);
    RunRecord {
        info: Some(RunInfo {
            record_version: RECORD_VERSION,
            harness_version: "0.1.0".into(),
            seed: 42,
            repeat: 1,
            world: WorldKind::Real,
            replay_command: "harness --target alice".into(),
            submissions: vec!["alice".into()],
            jobs: 1,
            isolation: Isolation::NetworkNamespace,
            sandbox: Some("sandbox: every layer".into()),
            sandbox_not_here: Vec::new(),
            servers: Vec::new(),
            started_unix_ms: 1_793_785_447_123,
        }),
        submissions: vec![SubmissionRecord {
            info: SubmissionInfo {
                submission: "alice".into(),
                replay_command: "harness --target alice".into(),
                scenarios: 3,
                not_submitted: vec!["upper-tcp".into()],
                not_submitted_points: [("upper-tcp".to_owned(), 5)].into(),
                problem: None,
            },
            outcomes: vec![passed, failed, skipped],
            repetitions: Default::default(),
            elapsed: Some(Duration::from_millis(1_250)),
        }],
        elapsed: Some(Duration::from_millis(1_300)),
    }
}

#[test]
fn json() {
    insta::assert_snapshot!(crate::json::render(&run()).unwrap());
}

#[test]
fn junit() {
    insta::assert_snapshot!(crate::junit::render(&run()).unwrap());
}

#[test]
fn gradescope() {
    insta::assert_snapshot!(crate::gradescope::render(&run()).unwrap());
}

#[test]
fn prairielearn() {
    insta::assert_snapshot!(crate::prairielearn::render(&run()).unwrap());
}

#[test]
fn classroom() {
    insta::assert_snapshot!(crate::classroom::render(&run()).unwrap());
}

#[test]
fn gradebook() {
    let csv = crate::gradebook::render(&run()).unwrap();
    insta::assert_snapshot!(String::from_utf8(csv).unwrap());
}
