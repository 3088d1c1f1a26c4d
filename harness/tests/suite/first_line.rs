//! Issue 40 §1-§2: every failure opens with one sentence naming the defect in the student's
//! program and what to do, never blaming a known-good companion or the harness's own peer;
//! every output carries that sentence, the hints, and what was expected and seen.
//!
//! The snapshots are built from outcomes made here, shaped as `message-single-recv`'s
//! (a server that does one `recv`, its client borrowed from `good/`): deterministic, with
//! no timing, port, path or pid. The last test grades that fixture for real.

use crate::common;

use std::collections::BTreeSet;
use std::time::Duration;

use harness::events::{Isolation, RunInfo, SubmissionInfo, WorldKind};
use harness::grading::{Grading, Mode, grade_with_replay};
use harness::outcome::{Category, Failure, Outcome, ProgramReport, Status};
use harness::repeat::Repeat;
use harness::report::diagnosis::{closing_summary, diagnose};
use harness::report::html::HtmlReport;
use harness::report::{Reporter, RunRecord, Style, SubmissionRecord, TerminalReport};
use harness::scenario::Selection;
use harness::target::Target;
use harness::world::real::process::{ExitInfo, ExitKind};

fn scenario(id: &str, clauses: &[&str], category: Category, hint: &str) -> Outcome {
    let mut outcome = Outcome::blank(id);
    outcome.task = "message".into();
    outcome.clauses = clauses.iter().map(|clause| clause.to_string()).collect();
    outcome.category = category;
    outcome.points = 2;
    outcome.requirement =
        "The server prints on stdout exactly the bytes received from a client.".into();
    outcome.hint = Some(hint.into());
    outcome.status = Status::Fail;
    outcome.seed = 1;
    outcome.duration = Duration::from_millis(250);
    outcome
}

fn server(stdout: &[u8], total: u64) -> ProgramReport {
    ProgramReport {
        name: "server".into(),
        command_line: "/sub/message-server.py PORT".into(),
        stdout: (stdout.to_vec(), total),
        language: Some(harness::language::Language::Python),
        ..ProgramReport::default()
    }
}

/// The known-good client, crashed of the reset the server's early close caused.
fn good_client() -> ProgramReport {
    ProgramReport {
        name: "client".into(),
        command_line: "python3 /good/message-client.py 127.0.0.1 PORT".into(),
        stderr: (
            b"message-client: [Errno 104] Connection reset by peer\n".to_vec(),
            53,
        ),
        exit: Some(ExitInfo {
            kind: ExitKind::Code(1),
            max_rss_kib: 0,
            after: Duration::from_millis(240),
        }),
        language: Some(harness::language::Language::Python),
        known_good: true,
        ..ProgramReport::default()
    }
}

/// Three failures of `message-single-recv`, one of each kind its first lines had.
fn outcomes() -> Vec<Outcome> {
    let mut short = scenario(
        "message/01-text-20k",
        &["message/1"],
        Category::Basic,
        "Loop recv(4096) until it returns b'' and write each chunk with sys.stdout.buffer.write(chunk).",
    );
    short.failure = Some(Failure {
        step: 4,
        line: 19,
        action: "check server's stdout".into(),
        expected: "server's stdout to be exactly the 20480 bytes c1 sent".into(),
        seen: "4096 of 20480 bytes (all correct so far)".into(),
        ..Failure::default()
    });
    short.programs = vec![server(b"0001 the message", 4096)];

    let mut companion = scenario(
        "message/02-client-sends-stdin",
        &["message/5", "message/1"],
        Category::Basic,
        "Keep the client's stdout empty: a status line goes to stderr; sendall() every piece, then close so the server sees the end.",
    );
    companion.failure = Some(Failure {
        step: 5,
        line: 23,
        action: "check client's exit status".into(),
        expected: "client to exit with status 0 within 5000 ms".into(),
        seen: "exit status 1 (stderr: \"message-client: [Errno 104] Connection reset by peer\\n\")".into(),
        cause: Some("client exited with status 1 after 0.24s; its stderr ends with: \"message-client: [Errno 104] Connection reset by peer\"".into()),
        ..Failure::default()
    });
    companion.programs = vec![server(b"\x00\xff binary", 4096), good_client()];

    let mut peer = scenario(
        "message/03-one-byte-slices",
        &["message/4"],
        Category::Robustness,
        "A single recv() returns whatever has arrived, here often just 1 byte.",
    );
    peer.failure = Some(Failure {
        step: 4,
        line: 20,
        action: "wait until c1 has sent everything".into(),
        expected: "c1 to send its 1000 bytes".into(),
        seen: "sending failed after 2 bytes: Broken pipe (os error 32)".into(),
        ..Failure::default()
    });
    peer.programs = vec![server(b"ab", 2)];
    vec![short, companion, peer]
}

fn run() -> RunRecord {
    let outcomes = outcomes();
    RunRecord {
        info: Some(RunInfo {
            record_version: harness::events::RECORD_VERSION,
            harness_version: "test".into(),
            seed: 1,
            repeat: 1,
            world: WorldKind::Real,
            replay_command: "harness --target message-single-recv".into(),
            submissions: vec!["message-single-recv".into()],
            jobs: 1,
            isolation: Isolation::None,
            sandbox: None,
            sandbox_not_here: Vec::new(),
            servers: Vec::new(),
            started_unix_ms: 1_700_000_000_000,
        }),
        submissions: vec![SubmissionRecord {
            info: SubmissionInfo {
                submission: "message-single-recv".into(),
                replay_command: "harness --target message-single-recv".into(),
                scenarios: outcomes.len(),
                not_submitted: Vec::new(),
                not_submitted_points: Default::default(),
                problem: None,
            },
            outcomes,
            repetitions: Default::default(),
            elapsed: Some(Duration::from_secs(1)),
        }],
        elapsed: Some(Duration::from_secs(1)),
    }
}

fn terminal() -> TerminalReport {
    TerminalReport {
        style: Style {
            color: false,
            timings: false,
        },
        replay_command: "harness --target message-single-recv".into(),
        simulated: false,
    }
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).expect("valid JSON")
}

#[test]
fn no_sentence_blames_the_known_good_client_or_the_harness_peer() {
    for outcome in outcomes() {
        let diagnosis = diagnose(&outcome).expect("a failure has a diagnosis");
        assert_eq!(
            diagnosis.blamed.as_deref(),
            Some("server"),
            "{}",
            outcome.id
        );
        let sentence = diagnosis.sentence();
        assert!(sentence.starts_with("Your server "), "{sentence}");
        assert!(!sentence.contains("your client"), "{sentence}");
        let hints = harness::report::diagnosis::hints(&outcome).join("\n");
        assert!(!hints.contains("Catch that exception"), "{hints}");
        assert!(!hints.contains("Keep the client's stdout empty"), "{hints}");
    }
}

#[test]
fn console_failure_blocks_and_closing_summary() {
    let report = terminal();
    let mut text = String::new();
    for outcome in outcomes() {
        text.push_str(&report.failure_details(&outcome));
        text.push('\n');
    }
    text.push_str(&closing_summary(&outcomes()));
    insta::assert_snapshot!(text);
}

#[test]
fn json_failures_carry_the_sentence_and_hints() {
    let document = json(&harness::report::json::render(&run()).unwrap());
    let failures: Vec<&serde_json::Value> = document["submissions"][0]["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|scenario| &scenario["failure"])
        .collect();
    insta::assert_snapshot!(serde_json::to_string_pretty(&failures).unwrap());
}

#[test]
fn junit_messages_open_with_the_sentence() {
    let xml = harness::report::junit::render(&run()).unwrap();
    let document = roxmltree::Document::parse(&xml).unwrap();
    let failures: Vec<String> = document
        .descendants()
        .filter(|node| node.has_tag_name("failure"))
        .map(|node| {
            format!(
                "message: {}\ndescription:\n{}",
                node.attribute("message").unwrap_or(""),
                node.text().unwrap_or("")
            )
        })
        .collect();
    insta::assert_snapshot!(failures.join("\n---\n"));
}

#[test]
fn gradescope_tests_are_markdown_with_the_sentence_and_hints() {
    let document = json(&harness::report::gradescope::render(&run()).unwrap());
    let tests: Vec<String> = document["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|test| {
            assert_eq!(test["output_format"], "md");
            test["output"].as_str().unwrap().to_owned()
        })
        .collect();
    insta::assert_snapshot!(tests.join("\n---\n"));
}

#[test]
fn prairielearn_messages_and_outputs() {
    let document = json(&harness::report::prairielearn::render(&run()).unwrap());
    let tests: Vec<String> = document["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|test| {
            format!(
                "message: {}\noutput:\n{}",
                test["message"].as_str().unwrap(),
                test["output"].as_str().unwrap()
            )
        })
        .collect();
    insta::assert_snapshot!(tests.join("\n---\n"));
}

#[test]
fn classroom_messages_carry_the_sentence_and_hints() {
    let document = json(&harness::report::classroom::render(&run()).unwrap());
    let messages: Vec<&str> = document["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|test| test["message"].as_str().unwrap())
        .collect();
    insta::assert_snapshot!(messages.join("\n---\n"));
}

#[test]
fn html_failure_list_shows_the_sentence_and_what_came() {
    let dir = tempfile::tempdir().unwrap();
    HtmlReport::new(dir.path().join("html"), None)
        .finish(&run())
        .expect("the pages are written");
    let page = std::fs::read_dir(dir.path().join("html"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|entry| std::fs::read_to_string(entry.path()).unwrap())
        .find(|page| page.contains("<ul class=\"failures\">"))
        .expect("a page lists the failures");
    let start = page.find("<ul class=\"failures\">").unwrap();
    let end = start + page[start..].find("</ul>").unwrap() + "</ul>".len();
    let list = &page[start..end];
    assert!(list.contains("seen: 4096 of 20480 bytes"), "{list}");
    insta::assert_snapshot!(list);
}

/// The fixture `folder` (its companions given) graded for real with seed 1, on the
/// scenarios `pattern` selects.
fn graded_fixture(folder: &str, pattern: &str) -> (Target, Grading) {
    let suite = common::suite();
    let dir = common::built_fixture(folder);
    let target = Target::from_folder(&dir, &suite.catalogue, &common::companions())
        .expect("the fixture is a valid target");
    let grading = grade_with_replay(
        &suite,
        &Selection::new(Vec::new(), &[pattern.to_owned()]).unwrap(),
        &target,
        1,
        &Mode::Real,
        &harness::settings::RunSettings::machine_defaults(),
        Repeat::ONCE,
        3,
        "harness",
        &mut harness::events::Discard,
    )
    .expect("grading runs");
    (target, grading)
}

/// `message-single-recv` graded for real: every failure's first sentence names the server,
/// the program under test, never its known-good client.
#[test]
fn message_single_recv_blames_its_server_in_every_first_sentence() {
    let (target, grading) = graded_fixture("message-single-recv", "message/*");
    assert!(
        target.task("message").unwrap()["client"].known_good,
        "its client is borrowed from a companion folder"
    );
    let failed: Vec<&Outcome> = grading
        .outcomes
        .iter()
        .filter(|outcome| outcome.status.is_failure())
        .collect();
    assert!(!failed.is_empty());
    let mut wrong = BTreeSet::new();
    for outcome in &failed {
        let diagnosis = diagnose(outcome).expect("a failure has a diagnosis");
        let sentence = diagnosis.sentence();
        let blames_server = diagnosis
            .blamed
            .as_deref()
            .is_some_and(|name| name.starts_with("server"))
            && sentence.starts_with("Your server");
        if !blames_server || sentence.to_lowercase().contains("your client") {
            wrong.insert(format!("{}: {sentence}", outcome.id));
        }
    }
    assert!(
        wrong.is_empty(),
        "first sentences not naming the server: {wrong:#?}"
    );
    // Its one bug (a single recv) is one cause in the closing summary, whatever program
    // instance (`server-small`) met it and whichever way it showed (a short output, a
    // connection closed early). Two scenarios may show it otherwise, by design or by
    // timing: message/11 judges the reset client's own bytes (its own check), and in
    // message/10 five clients send at once, so whether each had finished sending when the
    // server closed on it (a check of the output, not a connection closed early) depends on
    // the machine's load. Every failure is still said of the server.
    let summary = closing_summary(&grading.outcomes);
    let heading = "Your server does not read all it is sent";
    let under_it: Vec<&str> = summary
        .lines()
        .skip_while(|line| !line.starts_with(heading))
        .skip(2)
        .take_while(|line| line.starts_with("  FAIL"))
        .collect();
    let either_way = [
        "message/10-five-clients-at-once",
        "message/11-client-reset-mid-message",
    ];
    for outcome in &failed {
        let listed = |lines: &[&str]| {
            lines
                .iter()
                .any(|line| line.starts_with(&format!("  FAIL {}:", outcome.id)))
        };
        assert!(
            listed(&under_it) || either_way.contains(&outcome.id.as_str()),
            "{} is not under {heading:?}:\n{summary}",
            outcome.id
        );
    }
    let headings: Vec<&str> = summary
        .lines()
        .filter(|line| !line.starts_with(' ') && line.contains(" scenario"))
        .collect();
    assert!(
        headings.iter().all(|line| line.starts_with("Your server ")),
        "every cause is the server's: {headings:#?}\n{summary}"
    );
}

#[test]
fn what_the_harness_could_not_do_blames_no_program_and_gives_no_hint() {
    let mut outcome = scenario(
        "interfaces/02-interfaces-the-harness-adds",
        &["iface/1"],
        Category::Basic,
        "List every interface, not only the ones with an IPv4 address.",
    );
    outcome.status = Status::Error;
    outcome.failure = Some(Failure {
        step: 1,
        line: 8,
        action: "add the veth pair lab0 and lab0p".into(),
        expected: "the harness to set up this step".into(),
        seen: "`ip link add lab0 type veth peer name lab0p` failed: RTNETLINK answers: Operation not permitted".into(),
        ..Failure::default()
    });
    outcome.programs = vec![server(b"", 0)];
    let diagnosis = diagnose(&outcome).expect("a failure has a diagnosis");
    let sentence = diagnosis.sentence();
    assert_eq!(diagnosis.blamed, None, "{sentence}");
    assert!(
        sentence.starts_with("The harness could not set up this step (step 1: add the veth pair"),
        "{sentence}"
    );
    assert!(
        sentence.contains("not a defect of your program"),
        "{sentence}"
    );
    assert!(!sentence.contains("List every interface"), "{sentence}");
}

#[test]
fn a_hint_that_opens_with_a_word_in_capitals_keeps_it() {
    let mut outcome = scenario(
        "smtp-client/07-no-password-in-clear",
        &["smtp/4"],
        Category::Security,
        "AUTH PLAIN sends base64, an encoding anyone can undo, not encryption.",
    );
    outcome.failure = Some(Failure {
        step: 5,
        line: 30,
        action: "check client's stderr".into(),
        expected: "client's stderr never to contain 22 literal bytes".into(),
        seen: "it does, at byte 159: \"unrecognized arguments\"".into(),
        ..Failure::default()
    });
    outcome.programs = vec![server(b"", 0)];
    let sentence = diagnose(&outcome).unwrap().sentence();
    assert!(sentence.contains(": AUTH PLAIN sends base64"), "{sentence}");
}

/// An imap-read program written with other options than the task's (its manifest does not
/// say how it runs): argparse refuses the command line.
fn reader_refusing(stderr: &[u8]) -> ProgramReport {
    ProgramReport {
        name: "reader".into(),
        command_line: "python3 /sub/imap-read.py --list".into(),
        stderr: (stderr.to_vec(), stderr.len() as u64),
        exit: Some(ExitInfo {
            kind: ExitKind::Code(2),
            max_rss_kib: 0,
            after: Duration::from_millis(70),
        }),
        language: Some(harness::language::Language::Python),
        ..ProgramReport::default()
    }
}

#[test]
fn a_refused_command_line_is_the_defect_named_first() {
    let mut outcome = scenario(
        "imap-read/01-list",
        &["read/1"],
        Category::Basic,
        "Parse each header with email.message_from_bytes(data, policy=email.policy.default).",
    );
    outcome.task = "imap-read".into();
    outcome.failure = Some(Failure {
        step: 3,
        line: 17,
        action: "check reader's exit status".into(),
        expected: "reader to exit with status 0 within 15000 ms".into(),
        seen: "exit status 2".into(),
        ..Failure::default()
    });
    outcome.programs = vec![reader_refusing(
        b"usage: imap-read.py [-h] --server SERVER (--list | --show N)\n\
          imap-read.py: error: the following arguments are required: --server\n",
    )];
    let diagnosis = diagnose(&outcome).unwrap();
    let sentence = diagnosis.sentence();
    assert_eq!(diagnosis.blamed.as_deref(), Some("reader"));
    assert!(
        sentence.starts_with(
            "Your reader refused the command line the harness gave it (the following arguments are required: --server)"
        ),
        "{sentence}"
    );
    assert!(
        sentence.contains("harness list --task imap-read"),
        "{sentence}"
    );
    assert!(!sentence.contains("message_from_bytes"), "{sentence}");

    // Where a usage error is what the scenario asks for, it is not the defect.
    outcome.requirement = "An argument that is not an e-mail address is a usage error.".into();
    let sentence = diagnose(&outcome).unwrap().sentence();
    assert!(!sentence.contains("refused the command line"), "{sentence}");
}

/// A server whose handler dies on a call without credentials never answers: its first line
/// says so, not that it ran the method before checking (which a late answer would mean).
#[test]
fn a_handler_that_dies_on_a_missing_header_is_not_said_to_run_the_method_first() {
    let (_, grading) = graded_fixture("xmlrpc-auth-header-crash", "xmlrpc/10-*");
    let [outcome] = &grading.outcomes[..] else {
        panic!("one scenario: {:?}", grading.outcomes.len());
    };
    let sentence = diagnose(outcome).expect("it fails").sentence();
    assert!(sentence.contains("none can come any more"), "{sentence}");
    assert!(!sentence.contains("runs the method first"), "{sentence}");
}

/// A client that never runs (Python 2 code under Python 3) is named as such in every
/// failure, with what to do about Python 2, not the scenario's hint about connect().
#[test]
fn a_client_that_never_ran_is_named_for_it_not_for_the_scenarios_defect() {
    // upper-tcp/10 and 13 fail.
    every_failure_opens_with(
        ("upper-tcp-python2-client", "upper-tcp/1[03]-*", 2),
        "Your client never ran: its file does not compile",
        "Python 2 code",
    );
}

/// `fixture`'s scenarios that `pattern` names graded: `count` fail, and every failure's
/// first sentence starts with `opening` and says `saying`.
fn every_failure_opens_with(
    (fixture, pattern, count): (&str, &str, usize),
    opening: &str,
    saying: &str,
) {
    let (_, grading) = graded_fixture(fixture, pattern);
    let failed: Vec<&Outcome> = grading
        .outcomes
        .iter()
        .filter(|outcome| outcome.status.is_failure())
        .collect();
    assert_eq!(failed.len(), count, "{fixture}: {pattern}");
    for outcome in failed {
        let sentence = diagnose(outcome).expect("a diagnosis").sentence();
        assert!(
            sentence.starts_with(opening) && sentence.contains(saying),
            "{}: {sentence}",
            outcome.id
        );
    }
}

/// A Python 2 server whose import fails under Python 3 is told which module to import.
#[test]
fn a_python_2_import_is_named_with_its_python_3_module() {
    every_failure_opens_with(
        ("xmlrpc-python2-server", "xmlrpc/0[15]-*", 2),
        "Your server never ran: an import failed",
        "import xmlrpc.server instead",
    );
}

/// Issue 50 §3: an error a program must report but crashed of is named in its language's
/// words (SPEC's conventions: an error is a message, never a crash). Python: the handout's
/// skeleton lets `ConnectionRefusedError` escape.
#[test]
fn an_uncaught_python_exception_is_named_as_a_crash_not_an_error_message() {
    every_failure_opens_with(
        ("smtp-client-skeleton", "smtp-client/09-*", 1),
        "Your client crashed: Python raised ConnectionRefusedError (uncaught), not an error message; its stderr ends with: ",
        "catch ConnectionRefusedError",
    );
}

/// Java: `main` throws the `ConnectException` of a refused connection.
#[test]
fn an_uncaught_java_exception_is_named_as_a_crash_not_an_error_message() {
    every_failure_opens_with(
        ("smtp-client-java-uncaught", "smtp-client/09-*", 1),
        "Your client crashed: Java threw java.net.ConnectException (uncaught), not an error message; its stderr ends with: ",
        "System.exit(1)",
    );
}

/// C: glibc aborts a client that frees its buffer twice on its error path, after its own
/// `perror` message.
#[test]
fn a_death_by_a_signal_is_named_as_a_crash_not_an_error_message() {
    every_failure_opens_with(
        ("message-client-c-abort", "message/13-*", 1),
        "Your client crashed: killed by signal SIGABRT (abort(), or an assertion that failed), not an error message; its stderr ends with: ",
        "Handle that error where it happens",
    );
}

/// A C client that sends its whole uninitialised buffer when stdin is empty is judged by
/// what it put on the wire: the first line says how many bytes went, and shows them.
#[test]
fn a_client_that_sends_its_uninitialised_buffer_is_shown_what_went_on_the_wire() {
    every_failure_opens_with(
        (
            "message-c-uninitialised-buffer",
            "message/14-client-empty-stdin",
            1,
        ),
        "Your client failed a check (step 4: check what sink received): expected not one byte in what sink received, but saw 2048 bytes: \"",
        "read() returns 0",
    );
}

/// A Java pinger that numbers its pings from 0 and never stops is told, with the stop, what
/// it had already got wrong by then.
#[test]
fn a_pinger_stopped_at_its_deadline_is_told_what_it_already_got_wrong() {
    every_failure_opens_with(
        (
            "udp-pinger-java-from-zero",
            "udp-pinger/03-every-ping-lost",
            1,
        ),
        "Your client was still running after 6000 ms, and by then its stdout was already wrong: its first ping was numbered 0 (`Ping 0 <time>`), where pings are numbered from 1; it had sent ",
        "lines for 3 pings (one a ping, and at most one header line): fix what it printed, and have it end by itself once its work is done.",
    );
}

/// A scenario for a message client that must print nothing and end; a later step names a
/// connection the harness opens only after it ended.
const ENDS_QUIETLY: &str = r#"
task = "message"
clauses = ["message/5"]
category = "basic"
points = 1
requirement = "The client sends nothing, prints nothing and exits 0."
hint = "Keep stdout empty."

[[step]]
start = "server"

[[step]]
wait_listening = "server"

[[step]]
start = "client"
to = "server"
stdin = { text = "" }

[[step]]
expect_exit = "client"
success = true
within_ms = 1000

[[step]]
expect_stdout = "client"
empty = true

[[step]]
connect = "server"
as = "late"
send = { text = "x" }

[[step]]
expect_stdout = "client"
equals_sent = ["late"]
"#;

/// Any expectation on stdout, not only a pack's, is judged for what is already wrong when
/// its program is stopped; one naming a connection not opened yet is left alone.
#[test]
fn a_client_stopped_with_a_debug_line_on_stdout_is_told_of_the_line() {
    let (kit, suite) = common::one_scenario_suite("message", "01-ends-quietly", ENDS_QUIETLY);
    let student = tempfile::tempdir().unwrap();
    std::fs::write(
        student.path().join("message-client.py"),
        "import sys, time\nprint('debug: connecting', flush=True)\ntime.sleep(60)\n",
    )
    .unwrap();
    std::fs::copy(
        common::kit_root().join("fixtures/submissions/good/message-server.py"),
        student.path().join("message-server.py"),
    )
    .unwrap();
    let target = Target::from_folder(student.path(), &suite.catalogue, &common::companions())
        .expect("a valid target");
    let grading = grade_with_replay(
        &suite,
        &Selection::default(),
        &target,
        1,
        &Mode::Real,
        &harness::settings::RunSettings::machine_defaults(),
        Repeat::ONCE,
        1,
        "harness",
        &mut harness::events::Discard,
    )
    .expect("grading runs");
    drop(kit);
    let [outcome] = &grading.outcomes[..] else {
        panic!("one scenario: {:?}", grading.outcomes.len());
    };
    let sentence = diagnose(outcome).expect("it fails").sentence();
    assert!(
        sentence.starts_with(
            "Your client was still running after 1000 ms, and by then its stdout was already wrong: 18 bytes: \"debug: connecting\\n\": fix what it printed"
        ),
        "{sentence}"
    );
}

/// Issue 50 §6: each fact once. The first line takes what to do from the first hint's first
/// clause (or first sentence); the hint line under it says only the rest, and nothing when
/// nothing is left.
#[test]
fn the_hint_line_says_only_what_the_first_line_did_not() {
    let mut outcome = scenario(
        "message/02-client-sends-stdin",
        &["message/5"],
        Category::Basic,
        "Keep the client's stdout empty: a status line such as \"done, sent N bytes\" goes to stderr or nowhere. Read stdin as bytes (sys.stdin.buffer), sendall() every piece, then close the socket (or shutdown(socket.SHUT_WR)) so the server sees the end, and make this hint long enough that its first clause alone would not fit a first line.",
    );
    outcome.failure = Some(Failure {
        step: 7,
        line: 31,
        action: "check client's stdout".into(),
        expected: "nothing on client's stdout".into(),
        seen: "23 bytes: \"done, sent 20480 bytes\\n\"".into(),
        ..Failure::default()
    });
    outcome.programs = vec![ProgramReport {
        name: "client".into(),
        command_line: "/sub/message-client.py 127.0.0.1 PORT".into(),
        language: Some(harness::language::Language::Python),
        ..ProgramReport::default()
    }];
    let sentence = diagnose(&outcome).unwrap().sentence();
    assert!(
        sentence.ends_with(": keep the client's stdout empty: a status line such as \"done, sent N bytes\" goes to stderr or nowhere."),
        "{sentence}"
    );
    let hints = harness::report::diagnosis::hints(&outcome);
    assert!(
        hints[0].starts_with("Read stdin as bytes (sys.stdin.buffer)"),
        "{hints:?}"
    );
    assert!(
        hints
            .iter()
            .all(|hint| !hint.contains("Keep the client's stdout empty")),
        "{hints:?}"
    );
    // A hint of one clause is the first line's, whole: no hint line repeats it.
    outcome.hint = Some("Keep the client's stdout empty.".into());
    let sentence = diagnose(&outcome).unwrap().sentence();
    assert!(
        sentence.ends_with(": keep the client's stdout empty."),
        "{sentence}"
    );
    let hints = harness::report::diagnosis::hints(&outcome);
    assert!(
        hints.iter().all(|hint| !hint.contains("stdout empty")),
        "{hints:?}"
    );
    // Two clauses: the second is the hint line.
    outcome.hint = Some("Keep the client's stdout empty; a status line goes to stderr.".into());
    let hints = harness::report::diagnosis::hints(&outcome);
    assert_eq!(hints[0], "A status line goes to stderr.", "{hints:?}");
}

/// A program that refused its command line never did what the scenario checks, nor
/// crashed: its first line says what to do, and no hint about the scenario or a crash
/// follows.
#[test]
fn a_refused_command_line_gets_no_hint_about_the_scenario_or_a_crash() {
    let mut outcome = scenario(
        "imap-read/01-list",
        &["read/1"],
        Category::Basic,
        "Parse each header with email.message_from_bytes(data, policy=email.policy.default).",
    );
    outcome.task = "imap-read".into();
    outcome.failure = Some(Failure {
        step: 3,
        line: 17,
        action: "check reader's exit status".into(),
        expected: "reader to exit with status 0 within 15000 ms".into(),
        seen: "exit status 2".into(),
        cause: Some("reader exited with status 2".into()),
        ..Failure::default()
    });
    outcome.programs = vec![reader_refusing(
        b"usage: imap-read.py [-h] --server SERVER (--list | --show N)\n\
          imap-read.py: error: the following arguments are required: --server\n",
    )];
    let sentence = diagnose(&outcome).unwrap().sentence();
    assert!(sentence.contains("refused the command line"), "{sentence}");
    let hints = harness::report::diagnosis::hints(&outcome);
    assert!(hints.is_empty(), "{hints:?}");
}
