//! `--html DIR`: one self-contained page per submission, read the way users read it.
//!
//! The first tests build a run by hand (hostile program output, several submissions,
//! captures) and read the written HTML. The last ones grade the sample submission for real
//! and render the page in headless Chromium (Debian's `chromium`, installed by `.ci/run`),
//! then look for what a student must see in the rendered document: the scenario ids, the
//! FAIL verdict with its clause, what was expected and what came, the sequence diagrams,
//! the points.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use harness::events::{Event, EventSink, Isolation, RunInfo, SubmissionInfo, WorldKind};
use harness::grading::{Mode, grade};
use harness::outcome::Category;
use harness::outcome::{Failure, LogLine, Outcome, ProgramReport, Status};
use harness::report::html::HtmlReport;
use harness::report::{Reporter, Reporters, RunRecord, Score, SubmissionRecord};
use harness::scenario::Selection;
use harness::target::Target;
use harness::transcript::{Direction, TranscriptEntry};
use harness::wire::{Flow, FlowEnd, Protocol, Side};

/// What a hostile program prints.
const SCRIPT: &str = "<script>alert(1)</script>";
/// Markup that would run a script in an attribute, and would change the page's title.
const IMAGE: &str = "\"><img src=x onerror=\"document.title='pwned'\">";

fn run_info(submissions: &[&str]) -> RunInfo {
    RunInfo {
        record_version: harness::events::RECORD_VERSION,
        harness_version: "test".into(),
        seed: 7,
        repeat: 1,
        world: WorldKind::Real,
        replay_command: "harness --target x".into(),
        submissions: submissions.iter().map(|label| label.to_string()).collect(),
        jobs: 1,
        isolation: Isolation::None,
        sandbox: None,
        sandbox_not_here: Vec::new(),
        servers: Vec::new(),
        started_unix_ms: 1_700_000_000_000,
    }
}

fn outcome(id: &str, status: Status, points: u32) -> Outcome {
    let mut outcome = Outcome::blank(id);
    outcome.task = id.split('/').next().unwrap().into();
    outcome.clauses = vec!["message/1".into()];
    outcome.category = Category::Basic;
    outcome.points = points;
    outcome.requirement = "The server prints exactly the bytes it receives.".into();
    outcome.status = status;
    outcome.seed = 7;
    outcome
}

/// A failed scenario whose program printed markup everywhere it could.
fn hostile_outcome() -> Outcome {
    let mut outcome = outcome("message/01-text", Status::Fail, 2);
    outcome.failure = Some(Failure {
        step: 4,
        line: 18,
        action: "check server's stdout".into(),
        expected: "server's stdout to be exactly the bytes c1 sent".into(),
        seen: format!("34 bytes: {SCRIPT}{IMAGE}"),
        diff: Some(format!("> seen 00000000 {SCRIPT}")),
        cause: None,
    });
    outcome.log = vec![LogLine {
        at: Duration::from_millis(3),
        text: format!("step 4: check server's stdout {SCRIPT}"),
    }];
    outcome.transcript = (
        vec![TranscriptEntry {
            connection: format!("c1{IMAGE}"),
            direction: Direction::FromProgram,
            first: Duration::from_millis(5),
            last: Duration::from_millis(6),
            bytes: 30,
            pieces: 2,
            head: format!("{SCRIPT}{IMAGE}").into_bytes(),
            event: None,
        }],
        0,
    );
    outcome.programs = vec![ProgramReport {
        name: "server".into(),
        command_line: format!("python3 server.py {SCRIPT}"),
        stdout: (format!("{SCRIPT}{IMAGE}").into_bytes(), 60),
        stderr: (SCRIPT.as_bytes().to_vec(), 25),
        exit: None,
        ..ProgramReport::default()
    }];
    outcome
}

fn run_of(submissions: Vec<(&str, Vec<Outcome>)>) -> RunRecord {
    let labels: Vec<&str> = submissions.iter().map(|(label, _)| *label).collect();
    RunRecord {
        info: Some(run_info(&labels)),
        submissions: submissions
            .into_iter()
            .map(|(label, outcomes)| SubmissionRecord {
                info: SubmissionInfo {
                    submission: label.into(),
                    replay_command: format!("harness --target {label}"),
                    scenarios: outcomes.len(),
                    not_submitted: Vec::new(),
                    not_submitted_points: Default::default(),
                    problem: None,
                },
                outcomes,
                repetitions: Default::default(),
                elapsed: Some(Duration::from_secs(1)),
            })
            .collect(),
        elapsed: Some(Duration::from_secs(1)),
    }
}

fn write(run: &RunRecord, pcap: Option<PathBuf>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    HtmlReport::new(dir.path().join("html"), pcap)
        .finish(run)
        .expect("the pages are written");
    dir
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

#[test]
fn markup_printed_by_a_program_is_escaped_as_text() {
    let label = format!("students/{SCRIPT}");
    let run = run_of(vec![(&label, vec![hostile_outcome()])]);
    let dir = write(&run, None);
    let page = read(&dir.path().join("html/index.html"));
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "the program's output is shown, as text"
    );
    // The page has no script of its own, so any `<script` or `<img` would be injected.
    assert!(!page.contains("<script"), "{page}");
    assert!(!page.contains("<img"), "{page}");
    assert!(!page.contains("onerror=\""), "{page}");
    // Everything else a student needs is there.
    for text in [
        "message/01-text",
        "FAIL at step 4 (line 18): check server&#39;s stdout",
        "server&#39;s stdout to be exactly the bytes c1 sent",
        "<svg",
        "0/2 points",
        "--pcap DIR",
    ] {
        assert!(page.contains(text), "the page shows {text}");
    }
}

#[test]
fn several_submissions_get_a_page_each_and_an_index_with_their_scores() {
    let run = run_of(vec![
        (
            "class/alice",
            vec![
                outcome("message/01-text", Status::Pass, 2),
                outcome("message/02-stdin", Status::Pass, 3),
            ],
        ),
        // A label that would be the index's own file name.
        (
            "index",
            vec![
                outcome("message/01-text", Status::Fail, 2),
                outcome("message/02-stdin", Status::Pass, 3),
            ],
        ),
    ]);
    let dir = write(&run, None);
    let html = dir.path().join("html");
    let index = read(&html.join("index.html"));
    assert!(
        index.contains(r#"<a href="class_alice.html">class/alice</a>"#),
        "{index}"
    );
    assert!(
        index.contains(r#"<a href="index-2.html">index</a>"#),
        "{index}"
    );
    assert!(
        index.contains("5/5 points") && index.contains("3/5 points"),
        "{index}"
    );
    let alice = read(&html.join("class_alice.html"));
    assert!(alice.contains("<h1>class/alice</h1>") && alice.contains("5/5 points"));
    assert!(
        alice.contains(r#"href="index.html""#),
        "a page leads back to the list"
    );
    let other = read(&html.join("index-2.html"));
    assert!(other.contains("3/5 points") && other.contains("1 passed, 1 failed"));
}

#[test]
fn each_scenario_links_its_capture_relative_to_the_page() {
    let run = run_of(vec![(
        "sample",
        vec![
            outcome("message/01-text", Status::Pass, 2),
            outcome("message/02-stdin", Status::Pass, 3),
        ],
    )]);
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("captures");
    // What `--pcap` writes (only scenarios whose sockets moved something get one).
    let written = pcap.join(run.pcap_path("sample", "message/01-text"));
    std::fs::create_dir_all(written.parent().unwrap()).unwrap();
    std::fs::write(&written, b"").unwrap();
    HtmlReport::new(dir.path().join("html"), Some(pcap))
        .finish(&run)
        .unwrap();
    let page = read(&dir.path().join("html/index.html"));
    assert!(
        page.contains(r#"<a href="../captures/message/01-text.pcap" download>"#),
        "{page}"
    );
    assert!(page.contains("none was written"), "{page}");
}

/// A program's end of a flow, as the engine names it.
fn program_end(name: &str, port: u16) -> FlowEnd {
    FlowEnd {
        name: name.into(),
        address: ([127, 0, 0, 1], port).into(),
        program: true,
    }
}

fn harness_end(name: &str, port: u16) -> FlowEnd {
    FlowEnd::harness(name, ([127, 0, 0, 1], port).into())
}

fn data(connection: &str, direction: Direction, bytes: u64, pieces: u64) -> TranscriptEntry {
    TranscriptEntry {
        connection: connection.into(),
        direction,
        first: Duration::from_millis(5),
        last: Duration::from_millis(6),
        bytes,
        pieces,
        head: b"220 ok\r\n".to_vec(),
        event: None,
    }
}

fn program_report(name: &str) -> ProgramReport {
    ProgramReport {
        name: name.into(),
        command_line: format!("python3 {name}.py"),
        stdout: (Vec::new(), 0),
        stderr: (Vec::new(), 0),
        exit: None,
        ..ProgramReport::default()
    }
}

/// The names of a diagram's lifelines, left to right.
fn lanes(svg: &str) -> Vec<&str> {
    svg.split(r#"<g class="lane "#)
        .skip(1)
        .map(|lane| {
            let name = &lane[lane.find("<text").unwrap()..];
            &name[name.find('>').unwrap() + 1..name.find("</text>").unwrap()]
        })
        .collect()
}

#[test]
fn each_connection_is_drawn_between_the_ends_its_flows_name() {
    // A mail client talking to the harness's mail server, which answers a byte per
    // segment; the same client through a whole-write relay to a server program.
    let mut mail = outcome("smtp-client/05-bytes", Status::Pass, 2);
    mail.programs = vec![program_report("client")];
    mail.wire.flows = vec![Flow::opened_by_program(
        "mta#1",
        Protocol::Tcp,
        program_end("client", 50000),
        harness_end("mta", 2525),
    )];
    mail.transcript = (
        vec![
            data("mta#1", Direction::ToProgram, 30, 30),
            data("mta#1", Direction::FromProgram, 12, 1),
        ],
        0,
    );
    let mut relayed = outcome("message/02-stdin", Status::Pass, 3);
    relayed.programs = vec![program_report("server"), program_report("client")];
    relayed.wire.flows = vec![
        Flow {
            to_program_from: Side::Client,
            ..Flow::opened_by_program(
                "relay#1",
                Protocol::Tcp,
                program_end("client", 50001),
                harness_end("relay", 4000),
            )
        },
        Flow {
            relay_slices: Some(false),
            ..Flow::opened_by_harness(
                "relay#1",
                Protocol::Tcp,
                harness_end("relay", 50002),
                program_end("server", 5000),
            )
        },
    ];
    relayed.transcript = (vec![data("relay#1", Direction::ToProgram, 20480, 3)], 0);
    let run = run_of(vec![("sample", vec![mail, relayed])]);
    let dir = write(&run, None);
    let page = read(&dir.path().join("html/index.html"));

    let mail = section(&page, "smtp-client_05-bytes");
    let svg = &mail[mail.find("<svg").unwrap()..];
    assert_eq!(lanes(svg), ["client", "harness as mta"], "{svg}");
    assert!(
        svg.contains(r#"<g class="to sliced">"#) && svg.contains("mta#1: 30 bytes in 30 writes ✂"),
        "the mail server's byte-per-segment replies are the harness's cuts: {svg}"
    );
    assert!(
        svg.contains(r#"<g class="from">"#) && svg.contains("mta#1: 12 bytes in 1 read<"),
        "{svg}"
    );

    let relayed = section(&page, "message_02-stdin");
    let svg = &relayed[relayed.find("<svg").unwrap()..];
    assert_eq!(
        lanes(svg),
        ["server", "client"],
        "no lane for the relay: {svg}"
    );
    assert!(
        svg.contains(r#"<g class="to">"#)
            && svg.contains("relay#1: 20480 bytes in 3 writes<")
            && !svg.contains('✂'),
        "a whole-write relay passes the client's own pieces on: {svg}"
    );
}

/// The browser, or a failure that says how to get one.
fn browser() -> PathBuf {
    harness::steps::checks::browser::find_browser().expect(
        "these tests need headless Chromium: apt-get install chromium (or set SOCKET_LAB_CHROMIUM)",
    )
}

/// The document Chromium renders from `page`, after its scripts (if any) ran.
fn render(page: &Path) -> String {
    let profile = tempfile::tempdir().unwrap();
    let output = tempfile::NamedTempFile::new().unwrap();
    let mut child = Command::new(browser())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--virtual-time-budget=2000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(output.reopen().unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not render {} within 90 s", page.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let dom = read(output.path());
    assert!(dom.contains("</html>"), "chromium rendered nothing: {dom}");
    dom
}

#[test]
fn a_script_printed_by_a_program_does_not_run_in_the_browser() {
    let run = run_of(vec![("sample", vec![hostile_outcome()])]);
    let dir = write(&run, None);
    let dom = render(&dir.path().join("html/index.html"));
    assert!(
        dom.contains("<title>sample: socket-lab report</title>"),
        "the title is the page's own, not one an injected script set: {}",
        &dom[..dom.len().min(400)]
    );
    assert!(!dom.contains("<img") && !dom.contains("<script"), "{dom}");
    assert!(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

/// The rendered section of scenario `anchor` (its id made a file name).
fn section<'a>(dom: &'a str, anchor: &str) -> &'a str {
    let section = dom
        .split(&format!(r#"id="s-{anchor}""#))
        .nth(1)
        .unwrap_or_else(|| panic!("{anchor} has its section"));
    &section[..section.find("</details>").unwrap()]
}

#[test]
fn chromium_renders_the_sample_submissions_report() {
    let suite = common::suite();
    let target = Target::from_folder(
        &common::kit_root().join("fixtures/submissions/sample"),
        &suite.catalogue,
        &common::companions(),
    )
    .expect("the sample is a valid target");
    let selection = Selection::new(Vec::new(), &["message/0[1-7]*".to_owned()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut reporters = Reporters::new();
    reporters.add("--html", HtmlReport::new(dir.path().to_owned(), None));
    reporters.emit(Event::RunStarted(run_info(&[&target.label])));
    let grading = grade(
        &suite,
        &selection,
        &target,
        common::SEED,
        &Mode::Real,
        &mut reporters,
    )
    .expect("grading runs");
    reporters.emit(Event::RunFinished {
        elapsed: grading.elapsed,
    });
    reporters.finish().expect("the page is written");

    let page = dir.path().join("index.html");
    let size = std::fs::metadata(&page).unwrap().len();
    assert!(size < 400_000, "the page stays small: {size} bytes");
    let dom = render(&page);
    let score = Score::of(&grading.outcomes);
    assert!(
        dom.contains(&format!("{}/{} points", score.earned, score.total)),
        "the summary's points"
    );
    for outcome in &grading.outcomes {
        assert!(
            dom.contains(&outcome.id),
            "scenario {} is on the page",
            outcome.id
        );
    }
    // The sample's client prints a status line on stdout: message/02 fails on clause
    // message/5, and the page says what was expected and what came.
    let failed = grading
        .outcomes
        .iter()
        .find(|outcome| outcome.id == "message/02-client-sends-stdin")
        .expect("message/02 ran");
    assert_eq!(failed.status, Status::Fail);
    let failed_section = section(&dom, "message_02-client-sends-stdin");
    assert!(
        failed_section.contains(r#"<span class="badge fail">FAIL</span>"#)
            && failed_section.contains("message/5, message/1"),
        "{failed_section}"
    );
    assert!(
        failed_section.contains("nothing on client's stdout"),
        "{failed_section}"
    );
    assert!(
        failed_section.contains("done, sent 20480 bytes"),
        "{failed_section}"
    );
    // Its transcript as a sequence diagram: lifelines, arrows, the verdict.
    assert!(failed_section.contains("<svg"), "{failed_section}");
    assert!(
        failed_section.matches("<path d=\"M").count() >= 3,
        "{failed_section}"
    );
    assert!(
        failed_section.contains("relay#1: 20480 bytes in "),
        "{failed_section}"
    );
    assert!(
        failed_section.contains("✗ FAIL: step 7"),
        "{failed_section}"
    );
    // Lifelines from the flows: the client talks to the server through the relay, which
    // forwards in whole writes (nothing cut on purpose); a slicing relay's writes are cut.
    assert_eq!(
        lanes(&failed_section[failed_section.find("<svg").unwrap()..]),
        ["server", "client"],
        "{failed_section}"
    );
    assert!(!failed_section.contains('✂'), "{failed_section}");
    let through_slicing = section(&dom, "message_05-client-through-slicing-relay");
    assert!(
        through_slicing.contains(r#"<g class="to sliced">"#) && through_slicing.contains('✂'),
        "{through_slicing}"
    );
    // Every scenario that moved bytes has a diagram; the 1-byte slices are marked.
    assert!(dom.matches("<svg").count() >= grading.outcomes.len());
    let sliced = section(&dom, "message_03-one-byte-slices");
    assert!(
        sliced.contains(r#"<g class="to sliced">"#)
            && sliced.contains("c1: 1000 bytes in 1000 writes over ")
            && sliced.contains("s ✂"),
        "the 1-byte slices are marked: {sliced}"
    );
    assert_eq!(
        lanes(&sliced[sliced.find("<svg").unwrap()..]),
        ["harness", "server"],
        "{sliced}"
    );
}
