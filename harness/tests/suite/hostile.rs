//! What a hostile program must not get from the harness: its environment, and a way to
//! write outside its sandbox. (Verdicts, bounded time and no survivors for every
//! `hostile-*` fixture: `fixtures.rs`.)

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
            "fixtures/submissions/hostile-env",
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
    let fixture = common::kit_root().join("fixtures/submissions/hostile-writer");
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let places: Vec<std::path::PathBuf> = [Some("/tmp".into()), home, Some(fixture.clone())]
        .into_iter()
        .flatten()
        .map(|folder: std::path::PathBuf| folder.join(name))
        .collect();
    let layers = sandbox::layers();
    if let Err(why) = &layers.mounts {
        eprintln!("skipped: this system refuses the file-system layer ({why})");
        return;
    }
    for place in &places {
        let _ = std::fs::remove_file(place);
    }
    harness()
        .args([
            "--target",
            "fixtures/submissions/hostile-writer",
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
            "fixtures/submissions/hostile-wrong-port",
            "message/01-*",
        ])
        .assert()
        .code(1);
    let console = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    let line = sandbox::layers().summary();
    assert!(console.contains(&line), "{console}");
    assert!(line.contains("a clean environment"), "{line}");
}
