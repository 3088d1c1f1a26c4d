//! What a hostile program must not get from the harness: its environment, and a way to
//! write outside its sandbox. (Verdicts, bounded time and no survivors for every
//! `message-hostile-*` fixture: `fixtures.rs`.)

use crate::common;
use crate::common::harness;

use harness::world::real::sandbox;

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
    let layers = sandbox::layers();
    if let Err(why) = &layers.mounts {
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
fn the_header_says_which_sandbox_layers_are_on() {
    let assert = harness()
        .args([
            "--target",
            "fixtures/submissions/message-hostile-wrong-port",
            "message/01-*",
        ])
        .assert()
        .code(1);
    let console = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    let line = sandbox::layers().summary();
    assert!(console.contains(&line), "{console}");
    assert!(line.contains("a clean environment"), "{line}");
}

/// The layer a test is about: a system without it fails the test, saying so (a test that
/// passes by skipping would prove nothing).
fn require(layer: &Result<impl Sized, String>, name: &str) {
    if let Err(why) = layer {
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
    require(&sandbox::layers().mounts, "file system view");
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
    let cgroup = sandbox::layers().cgroup.as_ref().map_err(String::clone);
    require(&cgroup, "cgroup");
    if let Ok(hierarchy) = &cgroup {
        require(&hierarchy.memory().map_err(str::to_owned), "memory cgroup");
    }
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
    require(&sandbox::layers().disk, "disk");
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
        .filter(|name| name.to_string_lossy().starts_with("harness-sandbox-"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains("harness-sandbox-"), "{mounts}");
}
