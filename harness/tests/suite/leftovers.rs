//! Nothing a run makes outlives it (issue 50 §6): its temporary folders (the test CA,
//! MariaDB's folders, the captures) are gone after a run that ends, one stopped by SIGTERM
//! (as Ctrl-C), and, for one killed with SIGKILL, at the next run's start; the throw-away
//! MariaDB of `--mysql auto` dies with a harness killed with SIGKILL.
//!
//! Each harness runs with `TMPDIR` set to a fresh folder of the test's own: what it leaves
//! there is its own, whatever other runs do in `/tmp` meanwhile.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use harness::temporary::Owner;

use crate::common;

/// A fresh folder for `TMPDIR`, which every user may enter and write, as `/tmp`.
fn fresh_tmpdir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let tmpdir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmpdir.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    tmpdir
}

/// The entries of `tmpdir`, the harness's own folder for `TMPDIR`: all of them, whatever
/// their names (the sandbox's folders once lay there, outside `harness::temporary::PREFIXES`, and went
/// unseen).
fn harness_entries(tmpdir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(tmpdir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Waits, up to `limit`, until `found` finds something; panics saying `what` otherwise.
fn wait_for<T>(what: &str, limit: Duration, mut found: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(found) = found() {
            return found;
        }
        assert!(
            started.elapsed() < limit,
            "{what} within {} s",
            limit.as_secs()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A mysql-remote submission whose client sleeps: the scenario (and its server) lasts
/// until the harness stops the client, 10 s on.
fn sleeping_mysql_client() -> tempfile::TempDir {
    let folder = common::submission(&[("mysql-remote.py", "import time\ntime.sleep(20)\n")]);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(folder.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    folder
}

/// The harness grading `submission` on mysql-remote/01 with `--mysql SERVER`, its
/// `TMPDIR` `tmpdir`, started.
fn grading_mysql(submission: &Path, server: &str, tmpdir: &Path) -> Child {
    started(&common::harness())
        .env("TMPDIR", tmpdir)
        .args(["--task", "mysql-remote", "--seed", "1", "--mysql", server])
        .arg("--target")
        .arg(submission)
        .arg("mysql-remote/01-*")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// `command` (the harness as [`common::harness`] makes it ready) as a command to start and
/// signal, rather than run to its end.
fn started(command: &assert_cmd::Command) -> std::process::Command {
    let mut started = std::process::Command::new(command.get_program());
    started.args(command.get_args());
    for (name, value) in command.get_envs() {
        match value {
            Some(value) => started.env(name, value),
            None => started.env_remove(name),
        };
    }
    if let Some(folder) = command.get_current_dir() {
        started.current_dir(folder);
    }
    started
}

/// A folder of `tmpdir` named `prefix` and `pid`'s owner tag.
fn folder_of(tmpdir: &Path, prefix: &str, pid: u32) -> Option<PathBuf> {
    let owner = Owner::of(pid)?;
    let named = format!("{prefix}{}-", owner.tag());
    std::fs::read_dir(tmpdir)
        .ok()?
        .map(|entry| entry.unwrap())
        .find(|entry| entry.file_name().to_string_lossy().starts_with(&named))
        .map(|entry| entry.path())
}

/// A program's sandbox folder (`harness-sandbox-*`) in the run's folder of sandboxes, of the
/// harness `pid`, in `tmpdir`.
fn a_sandbox_of(tmpdir: &Path, pid: u32) -> Option<PathBuf> {
    let sandboxes = folder_of(tmpdir, "harness-sandboxes-", pid)?;
    std::fs::read_dir(sandboxes)
        .ok()?
        .map(|entry| entry.unwrap())
        .find(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .starts_with("harness-sandbox-")
        })
        .map(|entry| entry.path())
}

/// Whether process `pid` has ended (gone, or a zombie waiting for a reaper).
fn has_ended(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat[stat.rfind(')').unwrap() + 1..]
            .trim_start()
            .starts_with(['Z', 'X']),
    }
}

/// The live processes whose command line names a path in `tmpdir`.
fn processes_naming(tmpdir: &Path) -> Vec<u32> {
    let folder = format!("{}/", tmpdir.display());
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|command_line| {
                command_line
                    .windows(folder.len())
                    .any(|window| window == folder.as_bytes())
            })
        })
        .filter(|pid| !has_ended(*pid))
        .collect()
}

/// Whether `name` is a scenario's MariaDB folder (`harness-mariadb-<pid>-...`), not the
/// run's template (`harness-mariadb-template-...`).
fn is_a_servers_folder(name: &[u8]) -> bool {
    name.strip_prefix(b"harness-mariadb-")
        .is_some_and(|rest| rest.first().is_some_and(u8::is_ascii_digit))
}

/// The `mariadbd` processes whose socket is in a scenario's folder of `tmpdir`: a scenario's
/// servers of a harness whose `TMPDIR` it is (not `mariadb-install-db`'s bootstrap).
fn mariadbd_in(tmpdir: &Path) -> Vec<u32> {
    let socket = format!("--socket={}/", tmpdir.display());
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let Ok(command_line) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
                return false;
            };
            let words: Vec<&[u8]> = command_line.split(|byte| *byte == 0).collect();
            words
                .first()
                .is_some_and(|program| program.ends_with(b"mariadbd"))
                && words.iter().any(|word| {
                    word.strip_prefix(socket.as_bytes())
                        .is_some_and(is_a_servers_folder)
                })
        })
        .filter(|pid| !has_ended(*pid))
        .collect()
}

#[test]
fn a_run_that_ends_leaves_no_folder_behind() {
    let tmpdir = fresh_tmpdir();
    let output = common::harness()
        .env("TMPDIR", tmpdir.path())
        .args(["--reference", "--seed", "1", "message/01-*"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert_eq!(harness_entries(tmpdir.path()), Vec::<String>::new());
}

#[test]
fn a_run_stopped_by_sigterm_leaves_no_folder_behind() {
    let tmpdir = fresh_tmpdir();
    let submission = sleeping_mysql_client();
    let mut harness = grading_mysql(submission.path(), "embedded", tmpdir.path());
    // The test CA is made as the client starts: its folder is there, named after the run.
    let ca = wait_for("the run's test CA", Duration::from_secs(60), || {
        folder_of(tmpdir.path(), "socket-lab-ca-", harness.id())
    });
    // And the client's sandbox, which a stopped run once left behind.
    let sandbox = wait_for("the client's sandbox", Duration::from_secs(60), || {
        a_sandbox_of(tmpdir.path(), harness.id())
    });
    // SAFETY: kill only sends a signal, to the harness this test started.
    unsafe {
        libc::kill(harness.id() as i32, libc::SIGTERM);
    }
    let status = harness.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{status}");
    assert!(!ca.exists(), "{}", ca.display());
    assert!(!sandbox.exists(), "{}", sandbox.display());
    assert_eq!(harness_entries(tmpdir.path()), Vec::<String>::new());
}

#[test]
fn a_harness_killed_mid_grading_takes_its_mariadb_along_and_the_next_run_clears_its_folders() {
    assert!(
        Path::new("/usr/sbin/mariadbd").exists(),
        "this test needs Debian's mariadb-server (`.ci/test` installs it)"
    );
    let tmpdir = fresh_tmpdir();
    let submission = sleeping_mysql_client();
    let mut harness = grading_mysql(submission.path(), "auto", tmpdir.path());
    let servers = wait_for("the scenario's mariadbd", Duration::from_secs(120), || {
        Some(mariadbd_in(tmpdir.path())).filter(|servers| !servers.is_empty())
    });
    let sandbox = wait_for("the client's sandbox", Duration::from_secs(60), || {
        a_sandbox_of(tmpdir.path(), harness.id())
    });
    harness.kill().unwrap();
    harness.wait().unwrap();
    // The kernel kills it as the harness goes: no Drop, no signal handler ran.
    wait_for(
        "mariadbd to die with the harness",
        Duration::from_secs(20),
        || servers.iter().all(|pid| has_ended(*pid)).then_some(()),
    );
    assert_eq!(mariadbd_in(tmpdir.path()), Vec::<u32>::new());
    let left = harness_entries(tmpdir.path());
    assert!(
        left.iter().any(|name| is_a_servers_folder(name.as_bytes())),
        "a harness killed with SIGKILL removes nothing itself: {left:?}"
    );
    // The next run, whatever it does, clears them first.
    common::harness()
        .env("TMPDIR", tmpdir.path())
        .arg("list")
        .assert()
        .success();
    assert_eq!(harness_entries(tmpdir.path()), Vec::<String>::new());
    assert!(!sandbox.exists(), "{}", sandbox.display());
    // The sleeping client and its sandbox-init die with the harness too: sandbox-init
    // watches the harness (a pidfd of it) and kills what it waits for when it ends.
    wait_for(
        "the sandboxed client to die with the harness",
        Duration::from_secs(20),
        || {
            let left = processes_naming(tmpdir.path());
            left.iter().all(|pid| has_ended(*pid)).then_some(())
        },
    );
}

#[test]
fn the_next_run_removes_only_what_a_dead_harness_provably_left() {
    let tmpdir = fresh_tmpdir();
    let this = Owner::this_process().unwrap();
    // A process that has ended (reaped), as its folder's name recorded it while it ran.
    let mut child = std::process::Command::new("cat")
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let dead = Owner::of(child.id()).unwrap();
    drop(child.stdin.take());
    child.wait().unwrap();
    let reused = Owner {
        start: this.start - 1,
        ..this
    };
    let elsewhere = Owner {
        namespace: this.namespace + 1,
        ..dead
    };
    let make = |name: String| {
        let path = tmpdir.path().join(name);
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join("test-ca.pem"), "left").unwrap();
        path
    };
    let orphans = [
        make(format!("socket-lab-ca-{}-aB3dE6", dead.tag())),
        make(format!("harness-mariadb-{}-Zx81Qq", dead.tag())),
        // Its pid now belongs to another process (this one).
        make(format!("socket-lab-site-{}-q1W2e3", reused.tag())),
    ];
    let kept = [
        // A live owner: this test process.
        make(format!("socket-lab-ca-{}-r4T5y6", this.tag())),
        // Another PID namespace: its pid means nothing here.
        make(format!("socket-lab-ca-{}-u7I8o9", elsewhere.tag())),
        // From before folders were named after their owner.
        make("socket-lab-ca-Pp0Aa1".into()),
        // Not a name of the harness's.
        make(format!("someone-else-{}-Ss2Dd3", dead.tag())),
    ];
    // A link named as an orphan: neither it nor where it leads is touched.
    let target = make("victim".into());
    let link = tmpdir
        .path()
        .join(format!("harness-bench-{}-Ff4Gg5", dead.tag()));
    std::os::unix::fs::symlink(&target, &link).unwrap();

    common::harness()
        .env("TMPDIR", tmpdir.path())
        .arg("list")
        .assert()
        .success();

    for orphan in &orphans {
        assert!(!orphan.exists(), "{} was left", orphan.display());
    }
    for kept in kept.iter().chain([&target]) {
        assert!(
            kept.join("test-ca.pem").is_file(),
            "{} was removed",
            kept.display()
        );
    }
    assert!(link.symlink_metadata().is_ok(), "the link was removed");
}
