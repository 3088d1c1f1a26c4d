//! A program has no privilege, whoever runs the harness: no capability, `no_new_privs`, a
//! seccomp filter, no descriptor of the harness's, and, under a root harness, a user of its
//! own. Each test runs as the suite runs (root in CI) and again as an ordinary user
//! (`nobody`, through `setpriv`), so both are proven in `.ci/run`.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use crate::common;

/// Who runs the harness in a test.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Runner {
    /// The suite's own user (root in CI).
    Suite,
    /// `nobody`, when the suite is root (skipped as an ordinary user: the suite's own
    /// run is already one).
    Nobody,
}

/// The harness, run by `runner` from the copy of the kit `target` is in
/// ([`common::kit_for_anyone`]), grading `target` on `message/01` with a JSON report at `json`,
/// `good` beside it as the companions, and descriptor 9 (a file holding `secret`) open and
/// inheritable, as a grader's shell or CI runner may leave one.
fn grade(runner: Runner, target: &Path, json: &Path, secret: &Path) -> std::process::Output {
    let mut command = match runner {
        Runner::Suite => std::process::Command::new(assert_cmd::cargo::cargo_bin("harness")),
        Runner::Nobody => common::harness_as_nobody(),
    };
    let companions = target.parent().unwrap().join("good");
    let kit = target.ancestors().nth(3).unwrap();
    command
        .arg("--target")
        .arg(target)
        .arg("--scenarios")
        .arg(kit.join("scenarios"))
        .args(["--seed", "1", "message/01-*", "--json"])
        .arg(json)
        .current_dir(kit)
        .env("NO_COLOR", "1")
        .env("HOME", kit)
        .env("HARNESS_COMPANIONS", &companions)
        .env("HARNESS_SANDBOX_INIT", kit.join("bin/sandbox-init"))
        .env_remove("HARNESS_NO_NAMESPACES");
    let file = std::fs::File::open(secret).unwrap();
    let fd = std::os::fd::AsRawFd::as_raw_fd(&file);
    // SAFETY: dup2 only, in the forked child.
    unsafe {
        command.pre_exec(move || {
            if libc::dup2(fd, 9) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let output = command.output().unwrap();
    drop(file);
    output
}

/// The text of every program stream in a JSON report.
fn streams(json: &Path) -> String {
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    let mut texts = Vec::new();
    collect_texts(&report, &mut texts);
    texts.join("\n")
}

fn collect_texts(value: &serde_json::Value, texts: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, inner) in map {
                if key == "text"
                    && let Some(text) = inner.as_str()
                {
                    texts.push(text.to_string());
                }
                collect_texts(inner, texts);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| collect_texts(item, texts)),
        _ => {}
    }
}

/// The value of a `/proc/self/status` line `name:` as the fixture printed it.
fn status_value<'a>(printed: &'a str, name: &str) -> Option<&'a str> {
    printed
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
        .map(str::trim)
}

fn a_program_holds_no_privilege(runner: Runner) {
    let folder = common::kit_for_anyone(&["message-hostile-capabilities"]);
    let secret = folder.path().join("harness-descriptor.txt");
    std::fs::write(&secret, "socket-lab-descriptor-secret-5521\n").unwrap();
    let json = folder.path().join("report.json");
    let output = grade(
        runner,
        &folder
            .path()
            .join("fixtures/submissions/message-hostile-capabilities"),
        &json,
        &secret,
    );
    let console = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{console}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed = streams(&json);
    for set in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        assert_eq!(
            status_value(&printed, set),
            Some("0000000000000000"),
            "{set} in:\n{printed}"
        );
    }
    assert_eq!(status_value(&printed, "NoNewPrivs"), Some("1"), "{printed}");
    assert_eq!(status_value(&printed, "Seccomp"), Some("2"), "{printed}");
    // Its own 0, 1 and 2, and the one listing the folder: not the harness's 9.
    assert!(
        printed.contains("open descriptors: [0, 1, 2, 3]\n"),
        "{printed}"
    );
    let uid = status_value(&printed, "Uid").expect("the Uid line");
    if common::running_as_root() && runner == Runner::Suite {
        assert!(
            uid.split_whitespace().all(|id| id != "0" && id != "65534"),
            "a root harness runs a program as a user of its own: Uid {uid}"
        );
        assert!(console.contains("a user of its own"), "{console}");
    } else {
        assert!(uid.split_whitespace().all(|id| id != "0"), "Uid {uid}");
    }
    assert!(console.contains("seccomp"), "{console}");
}

#[test]
fn a_program_holds_no_privilege_under_a_root_harness() {
    a_program_holds_no_privilege(Runner::Suite);
}

#[test]
fn a_program_holds_no_privilege_under_an_ordinary_user() {
    if !common::running_as_root() {
        // The suite's own run above is an ordinary user's.
        a_program_holds_no_privilege(Runner::Suite);
        return;
    }
    a_program_holds_no_privilege(Runner::Nobody);
}

/// `message-hostile-root` tries every way out it had (see its README); graded twice, the
/// second run would find the shared-memory segment the first left.
fn every_way_out_is_refused(runner: Runner) {
    let folder = common::kit_for_anyone(&["message-hostile-root"]);
    let secret: PathBuf = folder.path().join("harness-descriptor.txt");
    std::fs::write(&secret, "socket-lab-descriptor-secret-5521\n").unwrap();
    for round in 1..=2 {
        let json = folder.path().join(format!("report-{round}.json"));
        let output = grade(
            runner,
            &folder
                .path()
                .join("fixtures/submissions/message-hostile-root"),
            &json,
            &secret,
        );
        let printed = streams(&json);
        assert!(
            !printed.contains("ESCAPED"),
            "round {round}, as {runner:?}: {printed}"
        );
        assert_eq!(
            output.status.code(),
            Some(0),
            "round {round}, as {runner:?}: {}\n{printed}",
            String::from_utf8_lossy(&output.stdout)
        );
        // It did try: its stderr lists what was refused.
        for refused in [
            "umount /proc: EPERM",
            "unshare a user namespace: EPERM",
            "bpf: EPERM",
        ] {
            assert!(printed.contains(refused), "{refused} in:\n{printed}");
        }
    }
}

#[test]
fn every_way_out_is_refused_under_a_root_harness() {
    every_way_out_is_refused(Runner::Suite);
}

#[test]
fn every_way_out_is_refused_under_an_ordinary_user() {
    if !common::running_as_root() {
        every_way_out_is_refused(Runner::Suite);
        return;
    }
    every_way_out_is_refused(Runner::Nobody);
}

/// As in a platform's container (root without `CAP_SYS_ADMIN`: no namespaces, no mounts),
/// a program still runs without privilege, as a user of its own under the seccomp filter,
/// and a correct one still passes: its user reaches its submission's private copy without
/// the view that would make the folders above it anew.
#[test]
fn without_cap_sys_admin_a_program_still_has_no_privilege_and_a_correct_one_passes() {
    if !common::running_as_root() {
        // An ordinary user has no CAP_SYS_ADMIN to take away: the tests above cover it.
        a_program_holds_no_privilege(Runner::Suite);
        return;
    }
    let folder = common::kit_for_anyone(&["message-hostile-capabilities"]);
    let kit = folder.path();
    let json = kit.join("report.json");
    let output = std::process::Command::new("/usr/bin/setpriv")
        .args(["--inh-caps=-sys_admin", "--bounding-set=-sys_admin", "--"])
        .arg(assert_cmd::cargo::cargo_bin("harness"))
        .arg("--target")
        .arg(kit.join("fixtures/submissions/message-hostile-capabilities"))
        .arg("--target")
        .arg(kit.join("fixtures/submissions/good"))
        .arg("--scenarios")
        .arg(kit.join("scenarios"))
        .args(["--seed", "1", "message/01-*", "--json"])
        .arg(&json)
        .current_dir(kit)
        .env("NO_COLOR", "1")
        .env("HARNESS_COMPANIONS", kit.join("fixtures/submissions/good"))
        .env("HARNESS_SANDBOX_INIT", kit.join("bin/sandbox-init"))
        .env_remove("HARNESS_NO_NAMESPACES")
        .output()
        .unwrap();
    let console = String::from_utf8_lossy(&output.stdout);
    // The good sample passes; the one printing its capabilities fails for those lines.
    assert!(console.contains("1 passed, 1 failed"), "{console}");
    assert!(console.contains("not here: PID namespace"), "{console}");
    let printed = streams(&json);
    for set in ["CapPrm", "CapEff", "CapBnd"] {
        assert_eq!(
            status_value(&printed, set),
            Some("0000000000000000"),
            "{printed}"
        );
    }
    assert_eq!(status_value(&printed, "Seccomp"), Some("2"), "{printed}");
    let uid = status_value(&printed, "Uid").expect("the Uid line");
    assert!(uid.split_whitespace().all(|id| id != "0"), "Uid {uid}");
}
