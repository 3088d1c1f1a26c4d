//! What it costs to start a program inside walls: the sandbox's start of a program that
//! does nothing (`/bin/true`), beside the same program started plainly and inside the
//! everyday tools that build walls, `unshare` and bubblewrap, where they are installed
//! and allowed.
//!
//! Each row is the whole life of one such program as its starter sees it, from the call
//! that starts it to the end of the wait for it; the sandbox's row also makes and removes
//! everything a program of a scenario gets (its folder, its cgroup, its user's files) with
//! every layer this machine allows, exactly as a scenario does. Rounds alternate rows, so a
//! machine that slows down mid-run slows every row alike, and the table gives the median,
//! the fastest and slowest, and the ratio to the plain start and to bubblewrap's.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::spread;

/// One way of starting `/bin/true`.
struct Starter {
    name: String,
    /// Starts the program and waits for it; how long that took, or why it failed.
    start: Box<dyn Fn() -> Result<Duration, String>>,
}

/// One row of the start table.
pub(crate) struct StartRow {
    pub(crate) name: String,
    /// One per round, or why this starter could not run.
    pub(crate) timings: Result<Vec<Duration>, String>,
}

/// Starts `/bin/true` `rounds` times each way this machine has, rounds alternating, on a
/// thread in a mount namespace of its own where the sandbox's disk layer is on (as a
/// scenario's thread: each program's folder is then a sized `tmpfs`).
pub(crate) fn measure(rounds: usize) -> Vec<StartRow> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let layers = sandbox::layers();
                if layers.allows(sandbox::Layer::Disk).is_ok()
                    && let Err(error) = sandbox::enter_private_mounts()
                {
                    return vec![StartRow {
                        name: "every start".into(),
                        timings: Err(format!("cannot make a mount namespace: {error}")),
                    }];
                }
                measure_here(rounds)
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// [`measure`] on the calling thread.
fn measure_here(rounds: usize) -> Vec<StartRow> {
    let program = ["/bin/true", "/usr/bin/true"]
        .into_iter()
        .map(PathBuf::from)
        .find(|path| path.is_file());
    let Some(program) = program else {
        return vec![StartRow {
            name: "every start".into(),
            timings: Err("this machine has no /bin/true to start".into()),
        }];
    };
    let starters = starters(&program);
    let mut rows: Vec<StartRow> = starters
        .iter()
        .map(|starter| StartRow {
            name: starter.name.clone(),
            timings: Ok(Vec::with_capacity(rounds)),
        })
        .collect();
    for _ in 0..rounds {
        for (starter, row) in starters.iter().zip(&mut rows) {
            let Ok(timings) = &mut row.timings else {
                continue;
            };
            match (starter.start)() {
                Ok(took) => timings.push(took),
                Err(why) => row.timings = Err(why),
            }
        }
    }
    rows
}

/// The plain start, the sandbox's, `unshare`'s and bubblewrap's (the last two where
/// installed).
fn starters(program: &Path) -> Vec<Starter> {
    let mut starters = vec![Starter {
        name: "fork and exec".into(),
        start: Box::new({
            let program = program.to_owned();
            move || timed(Command::new(&program))
        }),
    }];
    // The same, but through `fork()`: a step between fork and exec makes the standard
    // library copy the whole harness process (its memory map, which grows with it) rather
    // than use `posix_spawn`'s clone that shares it until the exec. The sandbox's start
    // had such steps (a session, limits); it now has none (`sandbox::spawn`), and this row
    // shows what they cost.
    starters.push(Starter {
        name: "fork and exec, the harness forked (a step before exec)".into(),
        start: Box::new({
            let program = program.to_owned();
            move || {
                let mut command = Command::new(&program);
                harness_machine::child_setup::forked_rather_than_spawned(&mut command);
                timed(command)
            }
        }),
    });
    starters.push(Starter {
        name: "the sandbox, every layer on".into(),
        start: Box::new({
            let program = program.to_owned();
            move || in_the_sandbox(&program)
        }),
    });
    if let Some(unshare) = installed("unshare") {
        let program = program.to_owned();
        starters.push(Starter {
            name: "unshare (net, mount, pid, ipc, uts, cgroup; its own /proc)".into(),
            start: Box::new(move || {
                let mut command = Command::new(&unshare);
                command
                    .args([
                        "--net",
                        "--mount",
                        "--pid",
                        "--ipc",
                        "--uts",
                        "--cgroup",
                        "--fork",
                        "--mount-proc",
                    ])
                    .arg(&program);
                timed(command)
            }),
        });
    }
    if let Some(bwrap) = installed("bwrap") {
        let program = program.to_owned();
        starters.push(Starter {
            name: "bubblewrap (--unshare-all, /usr read-only, /proc, /dev, a tmpfs)".into(),
            start: Box::new(move || {
                let mut command = Command::new(&bwrap);
                command.args(["--unshare-all", "--ro-bind", "/usr", "/usr"]);
                // A merged /usr: the rest of the system's folders are links into it.
                for (link, target) in [
                    ("/bin", "usr/bin"),
                    ("/lib", "usr/lib"),
                    ("/lib64", "usr/lib64"),
                    ("/sbin", "usr/sbin"),
                ] {
                    if Path::new(link).is_symlink() {
                        command.args(["--symlink", target, link]);
                    }
                }
                command
                    .args([
                        "--proc",
                        "/proc",
                        "--dev",
                        "/dev",
                        "--tmpfs",
                        "/tmp",
                        "--cap-drop",
                        "ALL",
                    ])
                    .arg(&program);
                timed(command)
            }),
        });
    }
    starters
}

/// One start of `program` as a scenario's program starts, with the layers this machine
/// allows: its enclosure made, `sandbox-init` run, the enclosure released and its folder
/// removed.
fn in_the_sandbox(program: &Path) -> Result<Duration, String> {
    let started = Instant::now();
    let settings = sandbox::Settings::probed();
    let mut enclosure = crate::temporary::sandboxes()
        .and_then(|parent| sandbox::Enclosure::new(&parent, None, &settings))
        .map_err(|error| format!("cannot make the sandbox's folder: {error}"))?;
    let workdir = enclosure.work();
    let argv: Vec<OsString> = vec![program.into()];
    let launch = sandbox::Launch {
        argv: &argv,
        workdir: &workdir,
        writable: &[],
        visible: &[],
        replaced: &[],
        report_fd: None,
        connects_fd: None,
        environment: Vec::new(),
        cap_address_space: true,
        tcp_ports: None,
        short_calls: None,
    };
    // As a scenario's program starts: without a fork where `sandbox-init` runs.
    let (status, stderr) = if enclosure.starts_through_init() {
        let spawned = enclosure
            .spawn(launch, sandbox::spawn::Input::Null, &[])
            .map_err(|error| format!("cannot start sandbox-init: {error}"))?;
        let mut stderr = String::new();
        let _ = std::io::Read::read_to_string(&mut &spawned.stderr, &mut stderr);
        let status = spawned
            .wait()
            .map_err(|error| format!("cannot wait for sandbox-init: {error}"))?;
        (status, stderr)
    } else {
        let output = enclosure
            .command(launch)
            .map_err(|error| format!("cannot make the sandbox's command: {error}"))?
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|error| format!("cannot start the program: {error}"))?;
        (
            output.status,
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    enclosure.release();
    enclosure.remove_folder();
    if !status.success() {
        return Err(format!(
            "{} in the sandbox failed ({status}): {}",
            program.display(),
            stderr.trim()
        ));
    }
    Ok(started.elapsed())
}

/// Runs `command` to its end: how long that took, or why it failed.
fn timed(mut command: Command) -> Result<Duration, String> {
    let started = Instant::now();
    let output = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|error| format!("cannot run it: {error}"))?;
    let took = started.elapsed();
    if output.status.success() {
        Ok(took)
    } else {
        Err(format!(
            "refused here ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// `name`'s path where it is on the system's `PATH` folders.
fn installed(name: &str) -> Option<PathBuf> {
    ["/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"]
        .into_iter()
        .map(|dir| Path::new(dir).join(name))
        .find(|path| path.is_file())
}

impl StartRow {
    /// The median of its rounds, where it ran.
    pub(crate) fn median(&self) -> Option<Duration> {
        let timings = self.timings.as_ref().ok()?;
        (!timings.is_empty()).then(|| super::median(timings))
    }
}

/// The start table: each row's median, fastest and slowest, and its ratio to the plain
/// start and to bubblewrap's (where bubblewrap ran).
pub(crate) fn table(rows: &[StartRow], rounds: usize) -> String {
    let median = StartRow::median;
    let plain = rows.first().and_then(median);
    let bubblewrap = rows
        .iter()
        .find(|row| row.name.starts_with("bubblewrap"))
        .and_then(median);
    let ratio = |of: Duration, to: Option<Duration>| match to {
        Some(to) if !to.is_zero() => format!("{:.2}×", of.as_secs_f64() / to.as_secs_f64()),
        _ => "-".to_owned(),
    };
    let mut text = format!(
        "program start, /bin/true to its end: median of {rounds} rounds (fastest–slowest)\n\n"
    );
    let width = rows.iter().map(|row| row.name.len()).max().unwrap_or(0);
    text.push_str(&format!(
        "{:<width$}  {:>26}  {:>9}  {:>9}\n",
        "start", "time", "vs plain", "vs bwrap"
    ));
    for row in rows {
        match (&row.timings, median(row)) {
            (Ok(timings), Some(middle)) => text.push_str(&format!(
                "{:<width$}  {:>26}  {:>9}  {:>9}\n",
                row.name,
                spread(timings),
                ratio(middle, plain),
                ratio(middle, bubblewrap)
            )),
            (Err(why), _) => text.push_str(&format!("{:<width$}  not run: {why}\n", row.name)),
            (Ok(_), None) => text.push_str(&format!("{:<width$}  no round ran\n", row.name)),
        }
    }
    text
}
