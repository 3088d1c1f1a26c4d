//! Issue 50 §6: one program file is a target (`--target ./message-server`), as the design
//! card's first command has it. Its task and role come from its name by the folder's
//! convention, else from `--task` and `--role`; it is graded on the scenarios of its task
//! that need no other program of the student's (the others are named as not run, as for a
//! folder holding that program alone), from a private copy holding that file and nothing
//! beside it.

use std::path::Path;

use crate::common;
use crate::common::harness;

use predicates::prelude::*;
use sandbox::Layer;

/// A fresh folder holding `from` alone, under `name`.
fn alone(from: &Path, name: &str) -> tempfile::TempDir {
    let folder = tempfile::tempdir().unwrap();
    std::fs::copy(from, folder.path().join(name)).unwrap();
    folder
}

fn sample(path: &str) -> std::path::PathBuf {
    common::kit_root().join("fixtures/submissions").join(path)
}

/// The report's line of `id`, which must be there.
fn line_of<'a>(stdout: &'a str, id: &str) -> &'a str {
    stdout
        .lines()
        .find(|line| line.split_whitespace().nth(1) == Some(id))
        .unwrap_or_else(|| panic!("no line for {id}:\n{stdout}"))
}

#[test]
fn an_interpreted_program_alone_gets_the_verdicts_of_its_folder() {
    // `sample` fails message/06 (it decodes), and passes message/01.
    let folder = alone(&sample("sample/message-server.py"), "message-server.py");
    let program = folder.path().join("message-server.py");
    let output = harness()
        .arg("--target")
        .arg(&program)
        .arg("message/0[16]-*")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(line_of(&stdout, "message/01-text-20k").starts_with("PASS"));
    assert!(line_of(&stdout, "message/06-binary").starts_with("FAIL"));
    // Graded on its own task: no other task is said to be missing.
    assert!(!stdout.contains("not submitted: 24 tasks"), "{stdout}");
    let good = alone(&sample("good/message-server.py"), "message-server.py");
    harness()
        .arg("--target")
        .arg(good.path().join("message-server.py"))
        .arg("message/0[16]-*")
        .assert()
        .code(0);
}

#[test]
fn a_compiled_program_alone_is_graded_and_what_it_cannot_play_is_named() {
    // The C client that aborts when no server listens (message/13), compiled alone.
    let folder = tempfile::tempdir().unwrap();
    let compiled = std::process::Command::new("gcc")
        .arg("-o")
        .arg(folder.path().join("message-client"))
        .arg(sample("message-client-c-abort/message-client.c"))
        .status()
        .expect("gcc is installed (bash .ci/test installs it)");
    assert!(compiled.success());
    let output = harness()
        .arg("--target")
        .arg(folder.path().join("message-client"))
        .arg("message/1[3-7]-*")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(line_of(&stdout, "message/13-client-without-server").starts_with("FAIL"));
    assert!(line_of(&stdout, "message/17-client-sends-binary-stdin").starts_with("PASS"));
    // A scenario that needs the student's server too is not run, and says why.
    let needs_server = line_of(&stdout, "message/14-client-empty-stdin");
    assert!(
        needs_server.starts_with("SKIP")
            && needs_server.ends_with("(message-server not submitted)"),
        "{needs_server}"
    );
}

#[test]
fn a_program_named_otherwise_is_graded_with_its_task_and_role_given() {
    let folder = alone(&sample("good/message-server.py"), "server.py");
    let program = folder.path().join("server.py");
    harness()
        .arg("--target")
        .arg(&program)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "server.py` is not named after a task's program, so its task and role are unknown: name it <task>-<role>, with or without an extension (message-server, upper-tcp-client.py, web-server; `harness list` names every task and role), or say them with --task TASK --role ROLE",
        ));
    harness()
        .arg("--target")
        .arg(&program)
        .args(["--task", "message"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("(--task given, --role missing)"));
    harness()
        .arg("--target")
        .arg(&program)
        .args(["--task", "message", "--role", "server", "message/01-*"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("PASS    message/01-text-20k"));
}

#[test]
fn a_program_that_is_a_symbolic_link_is_refused() {
    let folder = alone(&sample("good/message-server.py"), "theirs.py");
    let link = folder.path().join("message-server.py");
    std::os::unix::fs::symlink("theirs.py", &link).unwrap();
    harness()
        .arg("--target")
        .arg(&link)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "message-server.py` is a symbolic link to theirs.py: a program is graded from its own file, never through a link",
        ));
}

#[test]
fn a_file_beside_the_program_is_not_visible_to_it() {
    if let Err(why) = sandbox::layers().allows(Layer::View) {
        panic!(
            "this test needs the sandbox's file-system layer, which this system refuses ({why}): run the suite as root or where user namespaces are allowed"
        );
    }
    let folder = tempfile::tempdir().unwrap();
    let classmate = folder.path().join("classmate-server.py");
    let secret = "socket-lab-classmates-work-5521";
    std::fs::write(&classmate, format!("# {secret}\n")).unwrap();
    // The good server, which first prints the classmate's file if it can read it, beside
    // itself or where it lies: message/01 then fails on the extra bytes.
    let peek = format!(
        "import os, sys\nfor seen in [{:?}, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'classmate-server.py')]:\n    try:\n        sys.stdout.write(open(seen).read()); sys.stdout.flush()\n    except OSError:\n        pass\n",
        classmate.display().to_string()
    );
    let good = std::fs::read_to_string(sample("good/message-server.py")).unwrap();
    std::fs::write(
        folder.path().join("message-server.py"),
        format!("{peek}{good}"),
    )
    .unwrap();
    let output = harness()
        .arg("--target")
        .arg(folder.path().join("message-server.py"))
        .arg("message/01-*")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(!stdout.contains(secret), "{stdout}");
}
