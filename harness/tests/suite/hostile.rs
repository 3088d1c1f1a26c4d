//! What a hostile program must not get from the harness: its environment, and a way to
//! write outside its sandbox. (Verdicts, bounded time and no survivors for every
//! `message-hostile-*` fixture: `fixtures.rs`.)

use crate::common;
use crate::common::harness;

use sandbox::Layer;

#[test]
fn the_harness_environment_does_not_reach_a_program() {
    let canary = "socket-lab-canary-4417";
    let out = tempfile::tempdir().unwrap();
    let json = out.path().join("report.json");
    let assert = harness()
        .env("SOCKET_LAB_CI_SECRET", canary)
        .args([
            "--target",
            "fixtures/submissions/message-hostile-env",
            "message/01-*",
            "--json",
        ])
        .arg(&json)
        .assert()
        .code(1);
    let console = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    let report = std::fs::read_to_string(&json).unwrap();
    // The program did print its environment: the sandbox's own variables are there...
    assert!(report.contains("PYTHONUNBUFFERED=1"), "{report}");
    assert!(report.contains("LANG=C.UTF-8"), "{report}");
    // ...and none of the harness's.
    for text in [&console, &report] {
        assert!(!text.contains(canary), "the canary leaked:\n{text}");
        assert!(!text.contains("SOCKET_LAB_CI_SECRET"), "{text}");
    }
}

#[test]
fn a_program_writes_nothing_outside_its_sandbox() {
    let name = "socket-lab-escaped-writer";
    let fixture = common::kit_root().join("fixtures/submissions/message-hostile-writer");
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let places: Vec<std::path::PathBuf> = [Some("/tmp".into()), home, Some(fixture.clone())]
        .into_iter()
        .flatten()
        .map(|folder: std::path::PathBuf| folder.join(name))
        .collect();
    if let Err(why) = sandbox::layers().allows(Layer::View) {
        panic!(
            "this test needs the sandbox's file-system layer, which this system refuses ({why}): run the suite as root or where user namespaces are allowed"
        );
    }
    for place in &places {
        let _ = std::fs::remove_file(place);
    }
    harness()
        .args([
            "--target",
            "fixtures/submissions/message-hostile-writer",
            "message/01-*",
        ])
        .assert()
        .code(0);
    let escaped: Vec<_> = places.iter().filter(|place| place.exists()).collect();
    for place in &escaped {
        let _ = std::fs::remove_file(place);
    }
    assert!(
        escaped.is_empty(),
        "written outside the sandbox: {escaped:?}"
    );
}

#[test]
fn the_header_and_every_output_say_which_sandbox_layers_are_on() {
    let reports = tempfile::tempdir().unwrap();
    let path = |name: &str| reports.path().join(name);
    let assert = harness()
        .args([
            "--target",
            "fixtures/submissions/message-hostile-wrong-port",
            "message/01-*",
        ])
        .arg("--json")
        .arg(path("report.json"))
        .arg("--junit")
        .arg(path("junit.xml"))
        .arg("--gradescope")
        .arg(path("gradescope.json"))
        .arg("--prairielearn")
        .arg(path("prairielearn.json"))
        .arg("--html")
        .arg(path("html"))
        .assert()
        .code(1);
    let console = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    let settings = sandbox::Settings::probed();
    let layers = &settings.layers;
    let line = settings.summary();
    assert!(console.contains(&line), "{console}");
    assert!(line.contains("a clean environment"), "{line}");

    let read_json = |name: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(path(name)).unwrap()).unwrap()
    };
    let json = read_json("report.json");
    assert_eq!(json["sandbox"]["summary"], line.as_str());
    assert_eq!(
        json["sandbox"]["not_here"],
        serde_json::json!(layers.not_here())
    );
    for (name, field) in [
        ("gradescope.json", "output"),
        ("prairielearn.json", "output"),
    ] {
        let text = read_json(name)[field].as_str().unwrap().to_owned();
        assert!(text.contains(&line), "{name}: {text}");
    }
    let junit = std::fs::read_to_string(path("junit.xml")).unwrap();
    assert!(
        junit.contains(r#"<property name="sandbox" value="sandbox: "#),
        "{junit}"
    );
    let index = std::fs::read_to_string(path("html/index.html")).unwrap();
    assert!(index.contains("<dt>sandbox</dt>"), "{index}");
}

/// The layer a test is about: a system without it fails the test, saying so (a test that
/// passes by skipping would prove nothing).
fn require(layer: Layer, name: &str) {
    if let Err(why) = sandbox::layers().allows(layer) {
        panic!("this system refuses the {name} layer ({why}): the test cannot run here");
    }
}

/// Copies a fixture's files into `folder`.
fn copy_fixture(name: &str, folder: &std::path::Path) {
    std::fs::create_dir_all(folder).unwrap();
    let fixture = common::kit_root().join("fixtures/submissions").join(name);
    for entry in std::fs::read_dir(&fixture).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), folder.join(entry.file_name())).unwrap();
    }
}

/// `message-hostile-snoop` in a batch beside another submission holding a secret, below a folder
/// holding another (a grader's home): graded with `sandbox`, its report, and whether it
/// passed.
fn snoop_among_secrets(sandbox: Option<&str>) -> (bool, String) {
    let outer = tempfile::tempdir().unwrap();
    std::fs::write(
        outer.path().join("grades.txt"),
        "socket-lab-secret-above-9921\n",
    )
    .unwrap();
    let batch = outer.path().join("batch");
    copy_fixture("message-hostile-snoop", &batch.join("snoop"));
    std::fs::create_dir_all(batch.join("bob")).unwrap();
    std::fs::write(
        batch.join("bob/server.py"),
        "# socket-lab-secret-sibling-5170\n",
    )
    .unwrap();
    // Its client is the good one, named `../good/...` in its submission.toml.
    std::fs::create_dir_all(batch.join("good")).unwrap();
    std::fs::copy(
        common::kit_root().join("fixtures/submissions/good/message-client.py"),
        batch.join("good/message-client.py"),
    )
    .unwrap();
    let json = outer.path().join("report.json");
    let mut command = harness();
    if let Some(setting) = sandbox {
        command.env("HARNESS_SANDBOX", setting);
    }
    let output = command
        // The private copy it is graded from is made right beside its classmate.
        .env("TMPDIR", &batch)
        // The grader allows its borrowed client's folder, read-only.
        .arg("--companions")
        .arg(batch.join("good"))
        .arg("--target")
        .arg(batch.join("snoop"))
        .args(["--seed", "1", "message/01-*", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout).into_owned()
        + &std::fs::read_to_string(&json).unwrap_or_default();
    (output.status.success(), report)
}

#[test]
fn a_program_sees_neither_the_other_submissions_nor_the_folders_above_its_own() {
    require(Layer::View, "file system view");
    let (passed, report) = snoop_among_secrets(None);
    for secret in [
        "socket-lab-secret-above-9921",
        "socket-lab-secret-sibling-5170",
    ] {
        assert!(
            !report.contains(secret),
            "{secret} reached the report:\n{report}"
        );
    }
    assert!(passed, "it found something to print:\n{report}");
}

#[test]
fn without_the_view_the_snooper_finds_its_neighbours() {
    // What makes the test above able to fail: the same program, without the sandbox.
    let (passed, report) = snoop_among_secrets(Some("off"));
    assert!(!passed, "{report}");
    assert!(
        report.contains("socket-lab-secret-sibling-5170"),
        "{report}"
    );
}

#[test]
fn a_program_over_its_memory_cap_is_told_so() {
    require(Layer::MemoryCap, "memory cgroup");
    let assert = harness()
        .args([
            "--target",
            "fixtures/submissions/message-hostile-memory-hoard",
            "--seed",
            "1",
            "--memory-limit",
            "512M",
            "message/01-*",
        ])
        .assert()
        .code(1);
    let console = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(
        console.contains("memory capped at 512 MiB for everything it forks"),
        "{console}"
    );
    assert!(
        console.contains("cause        server stopped: over its 512 MiB memory limit"),
        "{console}"
    );
}

#[test]
fn a_program_that_fills_its_folders_gets_enospc_and_leaves_nothing() {
    require(Layer::Disk, "disk");
    // The harness's temporary folders (its programs' sandboxes) in a folder of the test's.
    let scratch = tempfile::tempdir().unwrap();
    harness()
        .env("TMPDIR", scratch.path())
        .args([
            "--target",
            "fixtures/submissions/message-hostile-disk-filler",
            "--seed",
            "1",
            "message/01-*",
        ])
        .assert()
        .code(0);
    let left: Vec<_> = std::fs::read_dir(scratch.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains("harness-sandbox-"), "{mounts}");
}

#[test]
fn a_zip_bomb_mailed_to_the_harness_is_unzipped_no_further_than_its_bound() {
    // 1 GiB of zeros in a 1 MB zip: the judge stops at 64 MiB and the verdict says so.
    let assert = harness()
        .args([
            "--target",
            "fixtures/submissions/mail-archive-hostile-zip-bomb",
            "--seed",
            "1",
            "mail-archive/01-*",
        ])
        .assert()
        .code(1);
    let console = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    let said = format!(
        "`lab-notes/README.txt` unzips to more than 64 MiB, past the harness's bound for one entry: not unzipped further (entry 1 of 1; its header declares {} bytes)",
        1u64 << 30
    );
    assert!(console.contains(&said), "{console}");
    assert!(
        console.contains(
            "expected     what mta received: `lab-notes.zip` to unzip within the harness's bounds"
        ),
        "{console}"
    );
}

/// A short secret: a byte diff shows 16 bytes a row in its text column, so a longer one
/// would leak across two rows without ever appearing whole.
const PLANTED_SECRET: &str = "s3cret-7719";

#[test]
fn the_harness_follows_no_link_a_program_leaves() {
    // `echo-plus-hostile-link` leaves `client_notes.txt`, a link to the file its
    // `secret-path.txt` names: a secret planted here, outside the submission.
    let outer = tempfile::tempdir().unwrap();
    let planted = outer.path().join("planted-secret.txt");
    std::fs::write(&planted, format!("{PLANTED_SECRET}\n")).unwrap();
    let planted = planted.canonicalize().unwrap();
    let submission = outer.path().join("hostile-link");
    copy_fixture("echo-plus-hostile-link", &submission);
    std::fs::write(
        submission.join("secret-path.txt"),
        planted.display().to_string(),
    )
    .unwrap();
    // Its server is the good one, named `../good/...` in its submission.toml.
    std::fs::create_dir_all(outer.path().join("good")).unwrap();
    std::fs::copy(
        common::kit_root().join("fixtures/submissions/good/echo-plus-server.py"),
        outer.path().join("good/echo-plus-server.py"),
    )
    .unwrap();
    let json = outer.path().join("report.json");
    let output = harness()
        .arg("--companions")
        .arg(outer.path().join("good"))
        .arg("--target")
        .arg(&submission)
        .args(["--seed", "1", "echo-plus/03-*", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    let console = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    let report = std::fs::read_to_string(&json).unwrap_or_default();
    assert_eq!(output.status.code(), Some(1), "{console}");
    // The link led to the secret (the client says where), which was there to be read.
    assert!(
        console.contains(&format!("saved client_notes.txt -> {}", planted.display())),
        "{console}"
    );
    // Neither its text nor its bytes in a diff's hex columns (`73 33 63 72 65 74`).
    let hex: Vec<String> = PLANTED_SECRET.bytes().map(|b| format!("{b:02x}")).collect();
    let hex = hex[..6].join(" ");
    for (what, text) in [("terminal", &console), ("JSON report", &report)] {
        assert!(
            !text.contains(PLANTED_SECRET) && !text.contains(&hex),
            "the secret reached the {what}:\n{text}"
        );
        assert!(
            text.contains(
                "`client_notes.txt` is a symbolic link: the harness does not follow links a program leaves"
            ),
            "the {what} does not name the link:\n{text}"
        );
    }
}

/// Fails the test if `text` (a report, as `what`) holds a raw control character a
/// submission chose, or a line that begins with the forged closing line.
fn assert_shown_safely(what: &str, text: &str) {
    for hostile in ['\u{1b}', '\u{7}', '\r', '\u{9b}', '\u{202e}'] {
        assert!(
            !text.contains(hostile),
            "the {what} holds a raw {hostile:?}:\n{text}"
        );
    }
    let forged: Vec<&str> = text
        .lines()
        .filter(|line| line.trim_start().starts_with("19 passed, 0 failed"))
        .collect();
    assert!(
        forged.is_empty(),
        "the {what} has a forged line {forged:?}:\n{text}"
    );
}

/// Every string of a JSON document, decoded (what `jq -r` prints).
fn json_strings(value: &serde_json::Value, found: &mut Vec<String>) {
    match value {
        serde_json::Value::String(text) => found.push(text.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|item| json_strings(item, found)),
        serde_json::Value::Object(fields) => fields.iter().for_each(|(key, item)| {
            found.push(key.clone());
            json_strings(item, found);
        }),
        _ => {}
    }
}

/// The terminal output and every report of a grading of `targets` with `--verbose`, named.
fn every_output(targets: &[&std::ffi::OsStr], patterns: &[&str]) -> Vec<(String, String)> {
    let out = tempfile::tempdir().unwrap();
    let json = out.path().join("report.json");
    let junit = out.path().join("junit.xml");
    let html = out.path().join("html");
    let gradebook = out.path().join("gradebook.csv");
    let mut command = harness();
    for target in targets {
        command.arg("--target").arg(target);
    }
    command.args(["--seed", "1", "--verbose", "--explain"]);
    command.args(patterns);
    command.arg("--json").arg(&json).arg("--junit").arg(&junit);
    command
        .arg("--html")
        .arg(&html)
        .arg("--gradebook")
        .arg(&gradebook);
    let output = command.output().unwrap();
    let mut outputs = vec![
        (
            "terminal (stdout)".to_owned(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        ),
        (
            "terminal (stderr)".to_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ),
    ];
    let report = std::fs::read_to_string(&json).expect("the JSON report");
    let mut strings = Vec::new();
    json_strings(&serde_json::from_str(&report).unwrap(), &mut strings);
    // A program's output is text with its own lines: its other control characters are
    // escaped, which is what matters in a string a script prints.
    for text in strings {
        assert!(
            !text
                .chars()
                .any(|c| c != '\n' && c != '\t' && c.is_control())
                && !text.contains('\u{202e}'),
            "a string of the JSON report holds a raw control character: {text:?}"
        );
    }
    outputs.push(("JSON report".to_owned(), report));
    outputs.push((
        "JUnit report".to_owned(),
        std::fs::read_to_string(&junit).expect("the JUnit report"),
    ));
    outputs.push((
        "gradebook".to_owned(),
        std::fs::read_to_string(&gradebook).expect("the gradebook"),
    ));
    let mut pages = Vec::new();
    common_files(&html, &mut pages);
    assert!(!pages.is_empty(), "the HTML report has pages");
    for page in pages {
        outputs.push((
            format!("HTML page {}", page.display()),
            String::from_utf8_lossy(&std::fs::read(&page).unwrap()).into_owned(),
        ));
    }
    outputs
}

/// Every file under `folder`.
fn common_files(folder: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            common_files(&path, found);
        } else {
            found.push(path);
        }
    }
}

#[test]
fn no_raw_control_character_of_a_submission_reaches_the_terminal_or_a_report() {
    let fixture = common::kit_root().join("fixtures/submissions/message-hostile-escapes");
    let outputs = every_output(&[fixture.as_os_str()], &["message/01-*", "message/02-*"]);
    let stdout = &outputs[0].1;
    // The hostile text was shown, escaped: the command lines, the client's file name (in
    // python's complaint too), the server's stderr.
    for shown in [
        "\\x1b[2J\\x1b[H\\x1b]52;c;cm0gLXJmIH4K\\x07",
        "\\r\\n19 passed, 0 failed\\n",
        "message-client\\x1b[31m",
    ] {
        assert!(stdout.contains(shown), "`{shown}` is not shown:\n{stdout}");
    }
    assert!(
        stdout.lines().any(|line| line == "1 passed, 1 failed"),
        "{stdout}"
    );
    for (what, text) in &outputs {
        assert_shown_safely(what, text);
    }
}

#[test]
fn a_submission_folder_named_with_control_characters_is_shown_escaped() {
    // A batch: one folder's name carries the bytes, the other is plain.
    let batch = tempfile::tempdir().unwrap();
    let hostile = "alice\u{1b}]52;c;cm0gLXJmIH4K\u{7}\u{1b}[2J\r\n19 passed, 0 failed\n\u{202e}";
    copy_fixture("message-hostile-escapes", &batch.path().join(hostile));
    copy_fixture("message-hostile-escapes", &batch.path().join("bob"));
    // Given as a glob: the name itself is no glob (`[2J`).
    let every = batch.path().join("*");
    let outputs = every_output(&[every.as_os_str()], &["message/01-*"]);
    let stdout = &outputs[0].1;
    assert!(
        stdout.contains(
            "alice\\x1b]52;c;cm0gLXJmIH4K\\x07\\x1b[2J\\r\\n19 passed, 0 failed\\n\\u{202e}"
        ),
        "{stdout}"
    );
    for (what, text) in &outputs {
        assert_shown_safely(what, text);
    }
}

/// Graded from a terminal, as a grader's shell runs the harness (`script` gives it a
/// pseudo-terminal of its own): the program reaches no terminal, so nothing it writes
/// there (a window title, an OSC 52 clipboard write, a forged summary) reaches the grader,
/// and the terminal's settings are as they were (echo on). As the harness's user, as
/// `nobody`, and as root without `CAP_SYS_ADMIN` (a platform's container: no namespaces,
/// Landlock's walls), where the suite runs as root.
#[rstest::rstest]
fn a_program_reaches_no_terminal_of_the_grader(
    #[values("as-is", "nobody", "container")] runner: &str,
) {
    let script = std::path::Path::new("/usr/bin/script");
    assert!(
        script.exists(),
        "this test runs the harness on a pseudo-terminal with script: install bsdutils"
    );
    if runner != "as-is" && !common::running_as_root() {
        // Only root can become `nobody` or give up a capability: CI runs the suite as root.
        return;
    }
    let harness = assert_cmd::cargo::cargo_bin("harness");
    let copy = (runner != "as-is").then(|| common::kit_for_anyone(&["message-hostile-tty"]));
    let kit = copy
        .as_ref()
        .map_or_else(common::kit_root, |copy| copy.path().to_owned());
    let prefix = match runner {
        "nobody" => {
            "setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=+dac_read_search --ambient-caps=+dac_read_search --"
        }
        "container" => "setpriv --inh-caps=-sys_admin --bounding-set=-sys_admin --",
        _ => "",
    };
    let command = format!(
        "stty echo; {prefix} {} --target fixtures/submissions/message-hostile-tty --scenarios scenarios message/01-*; echo status=$?; stty -a",
        shell_words::quote(harness.to_str().unwrap())
    );
    let companions = match &copy {
        Some(copy) => copy
            .path()
            .join("fixtures/submissions/good")
            .into_os_string(),
        None => std::env::join_paths(common::companion_folders()).unwrap(),
    };
    let mut terminal_run = std::process::Command::new(script);
    terminal_run
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .current_dir(&kit)
        .env("NO_COLOR", "1")
        .env("HARNESS_REFERENCE_BIN_DIR", common::reference_bin_dir())
        .env(harness::target::COMPANIONS_VARIABLE, companions)
        .env_remove("HARNESS_NO_NAMESPACES")
        .stdin(std::process::Stdio::null());
    if copy.is_some() {
        terminal_run
            .env("HOME", &kit)
            .env("HARNESS_SANDBOX_INIT", kit.join("bin/sandbox-init"))
            .env("HARNESS_SHORT_CALLS_LIB", kit.join("bin/libshort_calls.so"));
    }
    let output = terminal_run.output().unwrap();
    let terminal = String::from_utf8_lossy(&output.stdout);
    assert!(terminal.contains("status=0"), "{terminal}");
    for sign in [
        "\x1b]52;",
        "\x1b]0;owned",
        "19 passed, 0 failed",
        "reached the grader",
    ] {
        assert!(
            !terminal.contains(sign),
            "{sign:?} reached the terminal:\n{terminal}"
        );
    }
    // `stty -a` lists `-echo` where echo was turned off.
    assert!(
        terminal.split_whitespace().any(|word| word == "echo"),
        "echo is off after the run:\n{terminal}"
    );
}
