//! The terminal report's shape, snapshotted.

use std::time::Duration;

use harness::outcome::Category;
use harness::outcome::{Failure, LogLine, Outcome, ProgramReport, Status};
use harness::report::{Style, TerminalReport};
use harness::transcript::{Direction, TranscriptEntry};
use harness::world::real::process::{ExitInfo, ExitKind};

fn report() -> TerminalReport {
    TerminalReport {
        style: Style {
            color: false,
            timings: false,
        },
        replay_command: "harness --target sub".into(),
        simulated: false,
    }
}

fn outcome(id: &str, status: Status) -> Outcome {
    Outcome {
        id: id.into(),
        task: "message".into(),
        clauses: vec!["message/1".into()],
        category: Category::Basic,
        points: 2,
        extra: false,
        requirement: "The server prints exactly the bytes received.".into(),
        hint: None,
        status,
        duration: Duration::from_millis(310),
        failure: None,
        skip_reason: None,
        skip_kind: None,
        visibility: None,
        log: Vec::new(),
        transcript: (Vec::new(), 0),
        wire: Default::default(),
        programs: Vec::new(),
        seed: 42,
    }
}

fn failed_outcome() -> Outcome {
    let mut failed = outcome("message/01-text-20k", Status::Fail);
    failed.failure = Some(Failure {
        step: 4,
        line: 17,
        action: "check server's stdout".into(),
        expected: "server's stdout to be exactly the 11 bytes c1 sent".into(),
        seen: "27 bytes, differing from byte 0 on".into(),
        diff: Some(harness::judge::diff::byte_window_diff(
            0,
            11,
            27,
            0,
            b"hello world",
            b"Connected by 127.0.0.1\nhello",
        )),
        cause: None,
    });
    failed.log = vec![
        LogLine {
            at: Duration::ZERO,
            text: "step 1: start server".into(),
        },
        LogLine {
            at: Duration::from_millis(120),
            text: "server listens on port 20001".into(),
        },
    ];
    let entry = |direction, bytes: &[u8], event: Option<&str>| TranscriptEntry {
        connection: "c1".into(),
        direction,
        first: Duration::from_millis(130),
        last: Duration::from_millis(131),
        bytes: bytes.len() as u64,
        pieces: if bytes.is_empty() { 0 } else { 1 },
        head: bytes.to_vec(),
        event: event.map(String::from),
    };
    failed.transcript = (
        vec![
            entry(Direction::ToProgram, b"", Some("connected")),
            entry(Direction::ToProgram, b"hello world", None),
            entry(Direction::ToProgram, b"", Some("half-closed (FIN)")),
            entry(Direction::FromProgram, b"", Some("closed")),
        ],
        0,
    );
    failed.programs = vec![ProgramReport {
        name: "server".into(),
        command_line: "python3 message-server.py 20001".into(),
        stdout: (b"Connected by 127.0.0.1\nhello".to_vec(), 27),
        stderr: (Vec::new(), 0),
        exit: Some(ExitInfo {
            kind: ExitKind::Code(0),
            max_rss_kib: 9000,
            after: Duration::from_millis(400),
        }),
        ..ProgramReport::default()
    }];
    failed
}

#[test]
fn scenario_lines() {
    let mut skipped = outcome("message/02-client-sends-stdin", Status::Skipped);
    skipped.skip_reason = Some("message-client not submitted".into());
    let lines: Vec<String> = [
        outcome("message/01-text-20k", Status::Pass),
        skipped,
        failed_outcome(),
    ]
    .iter()
    .map(|outcome| report().scenario_line(outcome))
    .collect();
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn failure_details_tell_what_to_fix() {
    insta::assert_snapshot!(report().failure_details(&failed_outcome()));
}

#[test]
fn summary_ends_with_the_plain_closing_line() {
    let outcomes = vec![
        outcome("message/01-text-20k", Status::Pass),
        failed_outcome(),
    ];
    let summary = report().summary(&outcomes, &["web-server".into()], Duration::from_secs(3));
    insta::assert_snapshot!(summary);
    assert_eq!(summary.lines().last(), Some("1 passed, 1 failed"));
}

#[test]
fn extra_scenarios_add_points_and_a_miss_is_not_a_failure() {
    let mut earned = outcome("web-proxy/09-cache", Status::Pass);
    earned.task = "web-proxy".into();
    earned.extra = true;
    let mut missed = earned.clone();
    missed.id = "web-proxy/10-cache-again".into();
    missed.status = Status::Missed;
    let mut basic = outcome("web-proxy/01-relays", Status::Pass);
    basic.task = "web-proxy".into();
    let outcomes = vec![basic, earned, missed.clone()];
    let summary = report().summary(&outcomes, &[], Duration::from_secs(1));
    assert!(
        summary.contains("web-proxy: 2/3 scenarios passed, 2/2 points (+2 extra)"),
        "{summary}"
    );
    assert_eq!(
        summary.lines().last(),
        Some("2 passed, 0 failed, 1 extra missed")
    );
    assert!(!Status::Missed.is_failure());
    assert!(report().scenario_line(&missed).contains("not a failure"));
}
