//! A program under test, as a child process.
//!
//! - It runs in its own process group (so killing the group kills whatever it forked) and
//!   in a fresh temporary working directory (unless its submission names one).
//! - Its stdout and stderr are copied by threads into files, up to a cap: a program that
//!   floods its output is killed and reported, and the harness's memory stays bounded
//!   whatever it prints.
//! - Its exit status and peak memory come from `wait4`, whose `rusage` holds the peak
//!   resident set size (`ru_maxrss`) of the process and of the children it waited for.
//! - Dropping the handle kills the group.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::cleanup;
use super::isolation::Namespace;
use super::start_failure::programs_own;
use crate::payload::Payload;
use crate::world::capture::Capture;
use sandbox::{Enclosure, Launch, spawn};

/// The scenario's file, and the name under which a program that always opens its own
/// finds it.
#[derive(Debug, Clone)]
pub struct OwnFile {
    /// Relative to its working directory (`test.bin`, `files/notes`).
    pub name: PathBuf,
    /// The scenario's (in its folder); none there, none put.
    pub source: PathBuf,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct ProcessSpec {
    /// Program and arguments (no shell).
    pub argv: Vec<String>,
    /// Working directory; `None` for a fresh temporary one.
    pub workdir: Option<PathBuf>,
    /// What the program reads on stdin; `None` for an empty stdin (`/dev/null`).
    pub stdin: Option<Payload>,
    /// Cap on stdout and on stderr, in bytes.
    pub output_cap: u64,
    /// A port someone else already listens on. A child process needs nothing for it (the
    /// harness holds the port); a simulated host binds it itself before the program starts.
    pub occupied_port: Option<u16>,
    /// A CA certificate file (PEM) the program must trust: the harness's test CA, when a
    /// peer of the scenario speaks TLS. A child process gets it as `SSL_CERT_FILE`, which
    /// OpenSSL, and so Python's `ssl`, reads.
    pub trust_file: Option<PathBuf>,
    /// A network namespace to run in instead of the scenario's: a client that hard-codes
    /// its server's port finds the harness listening there (see `crate::peers::stand_in`).
    pub network: Option<Arc<Namespace>>,
    /// The short-call library to load into the program, and its setting: a child gets
    /// `LD_PRELOAD` (the library after any the harness has) and `SOCKET_LAB_SHORT_CALLS`
    /// (see `crate::faults::short_calls`). Without it neither variable reaches the child.
    pub short_calls: Option<crate::faults::short_calls::Injection>,
    /// On a shared loopback: the ports, addresses and names it hard-codes, moved by the
    /// interposed library (`LD_PRELOAD` and `SOCKET_LAB_REDIRECT`; see [`super::redirect`]).
    pub redirect: Option<super::redirect::Redirection>,
    /// On a shared loopback, the only TCP ports it may bind and connect to (its
    /// scenario's: `sandbox::TcpPorts`); `None` in a network of its own.
    pub tcp_ports: Option<sandbox::TcpPorts>,
    /// The scenario's served folder (`{dir}`), when the program's command line names it:
    /// writable like its working directory. It is a fresh copy for each scenario, and what
    /// a server's commands would create there (a `pwned` file) must be able to appear, or
    /// the scenario looking for it could not fail.
    pub served: Option<PathBuf>,
    /// Keep stdin open after its payload, until [`ChildProcess::close_stdin`] (a chat
    /// client, which leaves at the end of its stdin, while the scenario checks it prints
    /// what the room says).
    pub hold_stdin: bool,
    /// The file (or folder) it always opens, put where it runs before it starts: the
    /// scenario's own, under the name the program opens (`with = { file = "test.bin" }`).
    /// Only where it runs in a folder of its own (the manifest refuses a `workdir` with
    /// it); a simulated program opens what it is given.
    pub own_file: Option<OwnFile>,
    /// Files written into its `HOME` before it starts, by path below it (a peer's
    /// `.ssh/known_hosts`). A simulated program has no `HOME`: they are not written.
    pub home_files: Vec<(PathBuf, Vec<u8>)>,
    /// The only folders of the machine whose contents its command line may make visible
    /// to it (read-only): its submission's private copy, the grader's companion folders,
    /// the reference's folder, the kit's fixtures a scenario names (see
    /// `crate::target::RoleProgram::visible`). The served site is visible too.
    pub visible_roots: Vec<PathBuf>,
    /// The Python packages its submission's `requirements` and the class's
    /// (`--requirements`) installed, the submission's first: a child gets the folders on
    /// `PYTHONPATH`, and sees them read-only (`crate::target::requirements`).
    pub python_path: Vec<PathBuf>,
    /// The prompts it writes before it reads each line its manifest's `stdin` maps
    /// (`prompts`), taken off its stdout ([`crate::world::prompts`]).
    pub prompts: Vec<String>,
    /// The sandbox a child process runs in: the run's layers and memory cap
    /// (`crate::settings::RunSettings::sandbox`). A simulated host has none.
    pub sandbox: sandbox::Settings,
    /// Its scenario's wake-up, announced when its stdout or stderr ends or its exit is known.
    pub endings: super::endings::Endings,
}

// How a process ended is part of the run's record (`run_record::exit`).
pub use run_record::exit::{ExitInfo, ExitKind, HarnessStop, signal_name};

/// The stop a flooded output stream stands for, if one is.
pub fn stop_of_flood(stdout: &Capture, stderr: &Capture) -> Option<HarnessStop> {
    [("stdout", stdout), ("stderr", stderr)]
        .into_iter()
        .find(|(_, capture)| capture.flooded())
        .map(|(stream, capture)| HarnessStop::OutputCap {
            stream: stream.into(),
            cap: capture.cap(),
        })
}

/// A running (or finished) program under test.
#[derive(Debug)]
pub struct ChildProcess {
    /// Process id, also its process group id.
    pub pid: i32,
    /// The command line as shown in reports.
    pub command_line: String,
    /// Captured stdout.
    pub stdout: Arc<Capture>,
    /// Captured stderr.
    pub stderr: Arc<Capture>,
    exit: watch::Receiver<Option<ExitInfo>>,
    /// The file the short-call library marks once the program's TCP calls go through it
    /// (none when the library is not loaded, or the file's path could not be passed).
    short_calls_marker: Option<PathBuf>,
    /// The files the interposed library tells the harness what it did in.
    redirect_files: Option<super::redirect::Files>,
    /// Where `sandbox-init`'s warden counts its TCP `connect` calls, a byte each (an
    /// unnamed file no program can reach), where a warden runs.
    warden_connects: Option<File>,
    /// Its sandbox's folder and cgroup, as long as the process.
    enclosure: Arc<std::sync::Mutex<Enclosure>>,
    /// What `wait4` said of the process the harness started (`sandbox-init`) once it has
    /// ended: the largest peak resident set size, in KiB, of it and of every process reaped
    /// below it (see [`ChildProcess::largest_process_kib`]); 0 until then.
    tree_max_rss_kib: Arc<std::sync::atomic::AtomicU64>,
    /// Set once it has ended, where the sandbox failed before the program ran.
    sandbox_trouble: Arc<std::sync::OnceLock<SandboxTrouble>>,
    /// Its working directory (its sandbox's own unless the scenario or manifest named one).
    pub workdir: PathBuf,
    /// Dropped to close a held stdin (see [`ProcessSpec::hold_stdin`]).
    stdin_release: std::sync::Mutex<Option<std::sync::mpsc::Sender<()>>>,
    /// Whether the harness has written all of stdin's payload (or has none to write).
    stdin_written: Arc<std::sync::atomic::AtomicBool>,
}

impl ChildProcess {
    /// Starts the program.
    pub fn spawn(spec: &ProcessSpec) -> io::Result<ChildProcess> {
        let (program, arguments) = spec.argv.split_first().ok_or_else(|| {
            programs_own(io::Error::new(
                io::ErrorKind::InvalidInput,
                "empty command line",
            ))
        })?;
        // What it prints is for the harness alone: unnamed files, which no other program
        // can open by a path (without a view of its own, in a platform's container, a
        // named file in `/tmp` could be read by its path), and no folder to make and remove
        // per program.
        crate::temporary::failed_on_purpose("output-capture")?;
        let stdout = Arc::new(Capture::unnamed(spec.output_cap)?);
        let stderr = Arc::new(Capture::unnamed(spec.output_cap.min(16 << 20))?);

        // The program's sandbox (see `super::sandbox`): its folder, its cgroup, the
        // command that starts it through `sandbox-init`, and a clean environment.
        let enclosure = Enclosure::new(
            &crate::temporary::sandboxes()?,
            spec.workdir.as_deref().or(spec.served.as_deref()),
            &spec.sandbox,
        )?;
        for (path, bytes) in &spec.home_files {
            let path = enclosure.home().join(path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&path, bytes)?;
        }
        // Its working directory: the one the scenario or manifest names, else its own.
        let workdir = spec.workdir.clone().unwrap_or_else(|| enclosure.work());
        if let (Some(own), None) = (&spec.own_file, &spec.workdir) {
            put_own_file(own, &workdir)?;
        }
        // Past here and before, a failure is the harness's own step failing; this one is
        // the submission's: the command it names does not exist.
        let resolved =
            sandbox::resolve_program(program, &workdir, arguments.first().map(String::as_str))
                .map_err(programs_own)?;
        let mut argv: Vec<OsString> = vec![resolved.clone().into()];
        argv.extend(arguments.iter().map(OsString::from));
        let mut visible = folders_named(
            &argv,
            &workdir,
            spec.workdir.is_some(),
            &spec.visible_roots,
            spec.served.as_deref(),
        );
        visible.extend(sandbox::interpreter_folders(
            &resolved,
            program.contains('/'),
        ));
        let mut environment = Vec::new();
        if !spec.python_path.is_empty() {
            visible.extend(spec.python_path.iter().cloned());
            let joined = std::env::join_paths(&spec.python_path).map_err(io::Error::other)?;
            environment.push(("PYTHONPATH".into(), joined));
        }
        // The small internet's resolver and certificate store in its view of `/etc`.
        let replaced = enclosure.etc_files(spec.trust_file.as_deref())?;
        if spec.trust_file.is_some() {
            // The test CA as its view's store holds it. OpenSSL (Python's `ssl`, curl)
            // reads the first variable; `requests` and curl's bundle setting the others.
            let store = enclosure.trusted_bundle();
            for variable in ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"] {
                environment.push((variable.into(), store.clone().into()));
            }
        }
        // The library marks a file of the sandbox's folder when the program's socket calls
        // go through it (see `ChildProcess::short_calls_entered`).
        let mut short_calls_marker = None;
        if let Some(injection) = &spec.short_calls {
            let marker = enclosure.folder().join("short-calls-entered");
            let mut setting = injection.setting.clone();
            if let Some(path) = marker.to_str().filter(|path| !path.contains(',')) {
                setting += &format!(",mark={path}");
                short_calls_marker = Some(marker);
            }
            // The library alone, not its folder: cargo's output folder holds the kit's
            // reference programs too, which a program could run in place of its own.
            visible.push(injection.library.clone());
            environment.push(("LD_PRELOAD".into(), injection.preload(None)));
            environment.push((
                crate::faults::short_calls::SETTING_VARIABLE.into(),
                setting.into(),
            ));
        }
        // The same library moves what it hard-codes, on a shared loopback; it lists what
        // it moved in a file of the sandbox's folder (see `ChildProcess::redirections`).
        let mut redirect_files = None;
        if let Some(redirection) = &spec.redirect {
            redirect_files = super::redirect::Files::in_folder(enclosure.folder());
            let setting = redirection.setting(redirect_files.as_ref());
            if spec.short_calls.is_none() {
                visible.push(redirection.library.clone());
                environment.push(("LD_PRELOAD".into(), redirection.library.clone().into()));
            }
            environment.push((super::redirect::VARIABLE.into(), setting.into()));
        }
        let through_init = enclosure.starts_through_init();
        let (report_reader, report_writer) = report_pipe()?;
        let report_fd = report_writer.as_raw_fd();
        // Where a warden makes or watches its calls, it counts the program's connection
        // attempts from outside (the library's count is the program's to bypass).
        let warden_connects = (through_init
            && spec.network.is_none()
            && enclosure.warden_counts_connects(spec.tcp_ports.as_ref()))
        .then(tempfile::tempfile)
        .transpose()?;
        let connects_fd = warden_connects.as_ref().map(AsRawFd::as_raw_fd);
        let launch = Launch {
            argv: &argv,
            workdir: &workdir,
            writable: spec.served.as_slice(),
            visible: &visible,
            replaced: &replaced,
            report_fd: Some(report_fd),
            connects_fd,
            environment,
            cap_address_space: true,
            tcp_ports: spec.tcp_ports.as_ref(),
            short_calls: spec
                .short_calls
                .as_ref()
                .map(|injection| injection.setting.as_str()),
        };
        let mut feeder = None;
        let input = match &spec.stdin {
            None if spec.hold_stdin => {
                feeder = Some(Payload::Bytes(Vec::new().into()));
                spawn::Input::Piped
            }
            None => spawn::Input::Null,
            Some(Payload::File { path, .. }) if !spec.hold_stdin => {
                spawn::Input::File(File::open(path)?)
            }
            Some(payload) => {
                feeder = Some(payload.clone());
                spawn::Input::Piped
            }
        };
        let started = Instant::now();
        let mut child = {
            let _starting = super::spawning::while_starting();
            match &spec.network {
                // Nothing to do between fork and exec: started without copying the
                // harness (see `sandbox::spawn`).
                None if through_init => {
                    let kept: Vec<i32> = std::iter::once(report_fd).chain(connects_fd).collect();
                    enclosure.spawn(launch, input, &kept)?
                }
                network => {
                    let command = enclosure.command(launch)?;
                    let report_fd = through_init.then_some(report_fd);
                    spawn_with_fork(command, input, report_fd, network.as_deref())?
                }
            }
        };
        let pid = child.pid;
        cleanup::register(pid);
        // Only the sandbox holds the report's writing end now: its end is the report's.
        drop(report_writer);
        let enclosure = Arc::new(std::sync::Mutex::new(enclosure));

        let (release_sender, release) = std::sync::mpsc::channel::<()>();
        let stdin_release = spec.hold_stdin.then_some(release_sender);
        let stdin_written = Arc::new(std::sync::atomic::AtomicBool::new(true));
        if let (Some(payload), Some(mut stdin)) = (feeder, child.stdin.take()) {
            let hold = spec.hold_stdin;
            stdin_written.store(false, std::sync::atomic::Ordering::Release);
            let written = Arc::clone(&stdin_written);
            std::thread::spawn(move || {
                // A program that exits without reading all of stdin closes the pipe:
                // EPIPE then ends the copy, which is fine.
                if let Ok(mut reader) = payload.reader() {
                    let _ = io::copy(&mut reader, &mut stdin);
                }
                if hold {
                    written.store(true, std::sync::atomic::Ordering::Release);
                    // Until `close_stdin`, or the handle is dropped (the scenario ended).
                    let _ = release.recv();
                }
                drop(stdin);
                if !hold {
                    // Closed first (here, and in any child forked before), then said: a
                    // program that waits in `read` on stdin before that is not blocked
                    // for good, its end of file is on its way (see `spawning`).
                    super::spawning::after_starts_under_way();
                    written.store(true, std::sync::atomic::Ordering::Release);
                }
            });
        }
        let (stdout_pipe, stderr_pipe) = (child.stdout, child.stderr);
        // Past the cap, the whole group is stopped rather than read (or stored) any more.
        let stdout_capture = Arc::clone(&stdout);
        // Its named prompts are taken off on the way in; a program without any is read
        // straight, at no cost.
        let prompts = spec.prompts.clone();
        let stdout_ended = spec.endings.clone();
        std::thread::spawn(move || {
            let on_flood = || cleanup::kill_group(pid);
            match prompts.is_empty() {
                true => stdout_capture.pump(stdout_pipe, on_flood),
                false => {
                    let filtered =
                        crate::world::prompts::WithoutPrompts::new(stdout_pipe, &prompts);
                    stdout_capture.pump(filtered, on_flood)
                }
            }
            stdout_ended.announce();
        });
        let stderr_capture = Arc::clone(&stderr);
        let stderr_ended = spec.endings.clone();
        std::thread::spawn(move || {
            stderr_capture.pump(stderr_pipe, || cleanup::kill_group(pid));
            stderr_ended.announce();
        });

        let (exit_sender, exit) = watch::channel(None);
        let reaped_enclosure = Arc::clone(&enclosure);
        let exit_ended = spec.endings.clone();
        let tree_max_rss_kib = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let reaped_tree = Arc::clone(&tree_max_rss_kib);
        let sandbox_trouble = Arc::new(std::sync::OnceLock::new());
        let reaped_trouble = Arc::clone(&sandbox_trouble);
        std::thread::spawn(move || {
            let (info, report) = with_report(reap(pid, started), report_reader);
            // `sandbox-init` that ended with 125 and no report failed before the program
            // ran; with a report, its `trouble` line says so.
            let trouble = match report.trouble {
                Some(why) => Some(SandboxTrouble::Said(why)),
                None if through_init
                    && report.status.is_none()
                    && info.kind == ExitKind::Code(125) =>
                {
                    Some(SandboxTrouble::Unsaid)
                }
                None => None,
            };
            if let Some(trouble) = trouble {
                let _ = reaped_trouble.set(trouble);
            }
            // Not what `wait4` says of `sandbox-init`: forked from the harness, it inherits
            // the harness's resident size as a peak. Without its report (no `sandbox-init`),
            // the program's own figure.
            let tree = report.tree_max_rss_kib.unwrap_or(info.max_rss_kib);
            reaped_tree.store(tree, std::sync::atomic::Ordering::Release);
            let (memory_watch_killed, disk_watch_killed) =
                (report.memory_watch_killed, report.disk_watch_killed);
            // Whatever is left of the program (without a PID namespace) goes now.
            if let Ok(mut enclosure) = reaped_enclosure.lock() {
                if memory_watch_killed {
                    enclosure.count_memory_watch_kill();
                }
                if disk_watch_killed {
                    enclosure.count_disk_watch_kill();
                }
                enclosure.release();
            }
            let _ = exit_sender.send(Some(info));
            exit_ended.announce();
        });

        let command_line = shell_words::join(&spec.argv);
        Ok(ChildProcess {
            pid,
            command_line,
            stdout,
            stderr,
            exit,
            short_calls_marker,
            redirect_files,
            warden_connects,
            enclosure,
            tree_max_rss_kib,
            sandbox_trouble,
            workdir,
            stdin_release: std::sync::Mutex::new(stdin_release),
            stdin_written,
        })
    }

    /// Closes a held stdin: the program reads its end.
    pub fn close_stdin(&self) {
        if let Ok(mut release) = self.stdin_release.lock() {
            release.take();
        }
    }

    /// While it runs, what [`super::blocked::look`] must find blocked for the program to
    /// be: every process of the program (the harness's `sandbox-init` around it
    /// included), and the harness's threads copying its output (what it printed last may
    /// be in a pipe, or in their hands). `None` where its processes cannot all be listed
    /// (no cgroup), before they are, and while the harness still writes its stdin.
    pub fn threads_to_look_at(&self) -> Option<super::blocked::Looked> {
        if !self
            .stdin_written
            .load(std::sync::atomic::Ordering::Acquire)
        {
            return None;
        }
        let mut pumps = Vec::new();
        for capture in [&self.stdout, &self.stderr] {
            // A closed capture has its pipe's end: nothing more is on its way.
            if !capture.closed() {
                pumps.push(capture.pump_thread()?);
            }
        }
        let enclosure = self.enclosure.lock().ok()?;
        let processes = enclosure.processes()?;
        // `sandbox-init` enters the cgroup first thing: until then the list is empty.
        processes
            .contains(&self.pid)
            .then_some(super::blocked::Looked { processes, pumps })
    }

    /// Whether it has not been seen to end and some thread of its processes does not
    /// sleep: it runs, or is on its way out (an interpreter printing a traceback and
    /// finishing). `false` where its processes cannot be listed (no cgroup).
    pub fn busy(&self) -> bool {
        if self.exit_info().is_some() {
            return false;
        }
        let Some(processes) = self.enclosure.lock().ok().and_then(|e| e.processes()) else {
            return false;
        };
        !super::blocked::all_asleep(&processes)
    }

    /// Whether the program has ended (or is in `exit()`) and its report is late: every
    /// process left in its cgroup but `sandbox-init`'s own has ended or is ending, and
    /// `sandbox-init` has not said how the program ended yet (on a loaded machine it may
    /// wait for the CPU a moment before it reaps the program and writes its report).
    /// Killed now, `sandbox-init` would take the exit with it. `false` where its processes
    /// cannot be listed (no cgroup).
    pub fn ending(&self) -> bool {
        if self.exit_info().is_some() {
            return false;
        }
        let Some(processes) = self.enclosure.lock().ok().and_then(|e| e.processes()) else {
            return false;
        };
        processes.iter().all(|&pid| {
            super::proc_entries::is_sandbox_init_of(pid, self.pid)
                || super::blocked::ended_or_ending(pid)
        })
    }

    /// The peak memory of the program so far: the sum of the peak resident set sizes
    /// (`VmHWM`) of its live processes, listed by its cgroup or, without one, as its
    /// process group. `None` when none can be read (it has ended). A process that has
    /// already ended no longer counts: measure while the connection that would make it
    /// grow is still open.
    pub fn peak_memory(&self) -> Option<u64> {
        if self.exit_info().is_some() {
            return None;
        }
        let peaks: Vec<u64> = self
            .processes()
            .iter()
            .filter_map(|&pid| peak_rss(pid))
            .collect();
        (!peaks.is_empty()).then(|| peaks.iter().sum())
    }

    /// Its processes: listed by its cgroup or, without one, as its process group (a
    /// process that left the group is missed).
    pub fn processes(&self) -> Vec<i32> {
        self.enclosure
            .lock()
            .ok()
            .and_then(|enclosure| enclosure.processes())
            .unwrap_or_else(|| super::readiness::group_members(self.pid))
    }

    /// Why the sandbox failed before the program ran, once it has ended, if it did: the
    /// harness's failure, never the program's (see `sandbox-init`'s exit status).
    pub fn sandbox_trouble(&self) -> Option<String> {
        match self.sandbox_trouble.get()? {
            SandboxTrouble::Said(why) => Some(why.clone()),
            SandboxTrouble::Unsaid => {
                let stderr = self.stderr.tail(4096);
                let said = String::from_utf8_lossy(&stderr)
                    .lines()
                    .rev()
                    .find_map(|line| line.strip_prefix("sandbox-init: "))
                    .map(str::to_owned);
                Some(said.unwrap_or_else(|| {
                    "sandbox-init ended with status 125 before the program ran".into()
                }))
            }
        }
    }

    /// The exit, if the process has ended.
    pub fn exit_info(&self) -> Option<ExitInfo> {
        *self.exit.borrow()
    }

    /// Waits up to `within` for the process to end.
    pub async fn wait_exit(&self, within: Duration) -> Option<ExitInfo> {
        let mut exit = self.exit.clone();
        let ended = tokio::time::timeout(within, exit.wait_for(Option::is_some)).await;
        match ended {
            Ok(Ok(info)) => *info,
            _ => self.exit_info(),
        }
    }

    /// Asks the program to stop (SIGTERM), then kills its whole group after `grace`.
    pub async fn terminate(&self, grace: Duration) -> Option<ExitInfo> {
        if self.exit_info().is_none() {
            // To the group: the program itself gets it (`sandbox-init`, its parent,
            // ignores it and reports how the program ended).
            if let Some(group) = rustix::process::Pid::from_raw(self.pid) {
                let _ = rustix::process::kill_process_group(group, rustix::process::Signal::TERM);
            }
        }
        let info = self.wait_exit(grace).await;
        cleanup::kill_group(self.pid);
        match info {
            Some(info) => Some(info),
            None => self.wait_exit(Duration::from_secs(5)).await,
        }
    }

    /// Kills the whole group now.
    pub fn kill(&self) {
        cleanup::kill_group(self.pid);
    }

    /// The memory or disk cap's stop, if the kernel or `sandbox-init`'s watcher killed any
    /// of its processes for it.
    pub fn cap_stop(&self) -> Option<HarnessStop> {
        let enclosure = self.enclosure.lock().ok()?;
        let killed = enclosure.memory_kills();
        if killed > 0 {
            return Some(HarnessStop::MemoryLimit {
                limit: enclosure.memory_limit(),
                killed,
            });
        }
        enclosure
            .disk_watch_killed()
            .then(|| HarnessStop::DiskLimit {
                limit: enclosure.disk_limit(),
            })
    }

    /// The most memory it and every process it forked held at once, in bytes (its
    /// cgroup's peak); `None` without a memory cgroup.
    pub fn memory_peak(&self) -> Option<u64> {
        self.enclosure.lock().ok()?.memory_peak()
    }

    /// Once it has ended: the largest peak resident set size, in KiB, of any process it had
    /// that was reaped inside its sandbox. `sandbox-init` reaps the program and whatever
    /// it leaves (as their subreaper, or as PID 1), so a child the program never waited
    /// for, out of its process group or not, counts here though the program's own
    /// `ru_maxrss` misses it. `None` while it runs, or when `wait4` said nothing.
    pub fn largest_process_kib(&self) -> Option<u64> {
        self.exit_info()?;
        let kib = self
            .tree_max_rss_kib
            .load(std::sync::atomic::Ordering::Acquire);
        (kib > 0).then_some(kib)
    }

    /// With the short-call library loaded: whether a TCP call of the program (any of its
    /// processes) has gone through it yet. `None` without the library.
    pub fn short_calls_entered(&self) -> Option<bool> {
        let marker = self.short_calls_marker.as_ref()?;
        // The program may have put a link there: only a regular file of its own counts.
        Some(std::fs::symlink_metadata(marker).is_ok_and(|meta| meta.is_file() && meta.len() > 0))
    }
}

impl ChildProcess {
    /// On a shared loopback: what the interposed library moved so far (`bind 12000>41234`).
    pub fn redirections(&self) -> Vec<String> {
        self.redirect_files
            .as_ref()
            .map(super::redirect::Files::redirections)
            .unwrap_or_default()
    }

    /// On a shared loopback: how many times the program has connected a TCP socket so
    /// far, as `sandbox-init`'s warden counted them where one runs, else as the interposed
    /// library did. `None` where neither tells.
    pub fn connect_attempts(&self) -> Option<u64> {
        if let Some(file) = &self.warden_connects {
            return file.metadata().ok().map(|meta| meta.len());
        }
        self.redirect_files
            .as_ref()
            .map(super::redirect::Files::attempts)
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        cleanup::kill_group(self.pid);
        // Its folders go now (the cgroup goes when the reaper has seen it end).
        if let Ok(mut enclosure) = self.enclosure.lock() {
            enclosure.remove_folder();
        }
    }
}

/// Waits for `pid` with `wait4`, which also reports its peak memory.
fn reap(pid: i32, started: Instant) -> ExitInfo {
    let Ok(reaped) = harness_machine::process_end::wait4(pid) else {
        // ECHILD: somebody else reaped it. Report a kill without memory figures.
        return ExitInfo {
            kind: ExitKind::Signal(libc::SIGKILL),
            max_rss_kib: 0,
            after: started.elapsed(),
        };
    };
    let status = reaped.status;
    let kind = if libc::WIFEXITED(status) {
        ExitKind::Code(libc::WEXITSTATUS(status))
    } else {
        ExitKind::Signal(libc::WTERMSIG(status))
    };
    ExitInfo {
        kind,
        max_rss_kib: reaped.max_rss_kib,
        after: started.elapsed(),
    }
}

/// Starts `command` the standard library's way, forking the harness: where a step must run
/// between fork and exec (entering another network namespace, for a stand-in server), or
/// where no `sandbox-init` runs (which then cannot set the limits itself). The report's
/// descriptor `report_fd` is kept open across the exec into `sandbox-init`; without one
/// (`None`), the program itself gets no descriptor of the harness's.
fn spawn_with_fork(
    mut command: std::process::Command,
    input: spawn::Input,
    report_fd: Option<i32>,
    network: Option<&Namespace>,
) -> io::Result<spawn::Spawned> {
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    match input {
        spawn::Input::Null => command.stdin(Stdio::null()),
        spawn::Input::Piped => command.stdin(Stdio::piped()),
        spawn::Input::File(file) => command.stdin(file),
    };
    // The namespace's descriptor stays open until the spawn returns (the caller's `spec`
    // holds it), and so does the report pipe's.
    harness_machine::child_setup::keep_open_and_enter(
        &mut command,
        report_fd,
        network.map(Namespace::raw_fd),
    );
    // The std handle is not used to wait (the reaper thread does, with wait4).
    command.spawn().map(spawn::Spawned::from_child)
}

/// A pipe for `sandbox-init`'s report, both ends closed on exec (the child clears the
/// flag on the writing end, which it passes on).
fn report_pipe() -> io::Result<(File, OwnedFd)> {
    let (read, write) = spawn::pipe()?;
    Ok((File::from(read), write))
}

/// The program's own exit and peak memory, from `sandbox-init`'s report, over what `wait4`
/// said of `sandbox-init` (kept when there is no report: it was killed with the program).
/// Also what else the report says ([`Report`]).
fn with_report(mut info: ExitInfo, mut report: File) -> (ExitInfo, Report) {
    use std::io::Read;
    let mut text = String::new();
    if report.read_to_string(&mut text).is_err() {
        return (info, Report::default());
    }
    let first_line = text.lines().next().unwrap_or_default();
    let field = |name: &str| {
        first_line
            .split_whitespace()
            .find_map(|word| word.strip_prefix(name)?.strip_prefix('='))
            .and_then(|value| value.parse::<i64>().ok())
    };
    let status = field("status");
    if let (Some(status), Some(max_rss_kib)) = (status, field("maxrss_kib")) {
        let status = status as libc::c_int;
        info.kind = if libc::WIFEXITED(status) {
            ExitKind::Code(libc::WEXITSTATUS(status))
        } else {
            ExitKind::Signal(libc::WTERMSIG(status))
        };
        info.max_rss_kib = max_rss_kib.max(0) as u64;
    }
    let report = Report {
        memory_watch_killed: field("memory_watch_killed") == Some(1),
        disk_watch_killed: field("disk_watch_killed") == Some(1),
        tree_max_rss_kib: field("tree_maxrss_kib").map(|kib| kib.max(0) as u64),
        status,
        trouble: text
            .lines()
            .find_map(|line| line.strip_prefix("trouble "))
            .map(str::to_owned),
    };
    (info, report)
}

/// What `sandbox-init`'s report says besides the program's own exit and peak.
#[derive(Debug, Default)]
struct Report {
    /// Its memory watcher (where no memory cgroup caps the program) ended the program's
    /// processes for going over the cap.
    memory_watch_killed: bool,
    /// Its watcher ended the program's processes for what its own folders held.
    disk_watch_killed: bool,
    /// The largest peak resident size, in KiB, of any process it reaped: the program and
    /// whatever it left.
    tree_max_rss_kib: Option<u64>,
    /// The program's wait status, as `sandbox-init` reported it (none: no report).
    status: Option<i64>,
    /// Why the sandbox failed in the program's process before the program ran.
    trouble: Option<String>,
}

/// How `sandbox-init` failed before the program ran.
#[derive(Debug)]
enum SandboxTrouble {
    /// Its report said why.
    Said(String),
    /// It ended with status 125 and no report: why is the last line it wrote to stderr.
    Unsaid,
}

/// The scenario's file put in `workdir` (the program's own folder, fresh) under the name
/// the program opens, its parent folders made. The scenario's folder is writable by the
/// programs started before: no link there is followed ([`crate::site::copy_as`]).
fn put_own_file(own: &OwnFile, workdir: &Path) -> io::Result<()> {
    let destination = workdir.join(&own.name);
    if let Some(parent) = destination.parent() {
        std::fs::create_dir_all(parent)?;
    }
    match own.source.symlink_metadata() {
        Ok(_) => crate::site::copy_as(&own.source, &destination).map(drop),
        // A scenario about a missing file gives one that is not there: nor is the
        // program's.
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(error),
    }
}

/// Folders the program must be able to read, which a fresh `/tmp` would hide: those of
/// the paths on its command line that exist (its program, a script), but only inside
/// `roots` (its submission's private copy, the grader's companion folders, the reference's
/// folder, the kit's fixtures a scenario names) or inside the folder of the `served` web
/// site. For the site, named or given as its working directory, the folder above its root
/// too: a web root's secret file lies there, and a server with a path-traversal bug must
/// still be able to leak it, or the scenario that looks for the bug could not fail.
///
/// Nothing else, whatever the command line names: not the folder above a submission's
/// working folder or above a folder it names (the other submissions of a batch), not a
/// folder a placeholder's value leads to. Containment is judged on canonical paths,
/// component by component; the folder is given as the command line names it.
fn folders_named(
    argv: &[OsString],
    workdir: &Path,
    workdir_given: bool,
    roots: &[PathBuf],
    served: Option<&Path>,
) -> Vec<PathBuf> {
    let real = |path: &Path| path.canonicalize().ok();
    let served_root = served.and_then(real);
    // The site's own folder, which holds its root and the secret beside it (unless that is
    // `/` or the whole of `/tmp`).
    let site = served
        .and_then(Path::parent)
        .filter(|parent| !matches!(parent.to_str(), Some("/" | "/tmp" | "/dev/shm")))
        .map(Path::to_owned);
    let mut allowed: Vec<PathBuf> = roots.iter().filter_map(|root| real(root)).collect();
    allowed.extend(site.as_deref().and_then(real));
    let inside = |folder: &Path| {
        real(folder).is_some_and(|folder| allowed.iter().any(|root| folder.starts_with(root)))
    };
    let is_site_root =
        |folder: &Path| served_root.is_some() && real(folder).as_ref() == served_root.as_ref();
    let mut folders: Vec<PathBuf> = Vec::new();
    let mut add = |folder: PathBuf| {
        if !folders.contains(&folder) {
            folders.push(folder);
        }
    };
    for word in argv {
        let path = workdir.join(word);
        if !word.to_string_lossy().contains('/') || !path.exists() {
            continue;
        }
        let folder = if path.is_dir() {
            path
        } else {
            match path.parent() {
                Some(parent) => parent.to_owned(),
                None => continue,
            }
        };
        if !inside(&folder) {
            continue;
        }
        if is_site_root(&folder)
            && let Some(site) = &site
        {
            add(site.clone());
        }
        add(folder);
    }
    if workdir_given
        && is_site_root(workdir)
        && let Some(site) = &site
    {
        add(site.clone());
    }
    folders
}

/// A process's peak resident set size (`VmHWM` of `/proc/PID/status`), in bytes.
fn peak_rss(pid: i32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(argv: &[&str]) -> ProcessSpec {
        ProcessSpec {
            argv: argv.iter().map(|arg| arg.to_string()).collect(),
            workdir: None,
            served: None,
            network: None,
            stdin: None,
            output_cap: 1 << 20,
            occupied_port: None,
            trust_file: None,
            short_calls: None,
            redirect: None,
            tcp_ports: None,
            hold_stdin: false,
            home_files: Vec::new(),
            own_file: None,
            visible_roots: Vec::new(),
            python_path: Vec::new(),
            prompts: Vec::new(),
            sandbox: sandbox::Settings::probed(),
            endings: Default::default(),
        }
    }

    fn os(paths: &[&Path]) -> Vec<OsString> {
        paths
            .iter()
            .map(|path| path.as_os_str().to_owned())
            .collect()
    }

    /// A command that does not exist is the submission's; any other error is a step of
    /// the harness's own.
    #[test]
    fn a_missing_command_is_the_programs_and_any_other_error_the_harness() {
        let missing = ChildProcess::spawn(&spec(&["no-such-command-of-the-kit"]))
            .expect_err("no such command");
        assert!(
            super::super::start_failure::is_the_programs(&missing),
            "{missing}"
        );
        let plain = io::Error::other("the output's folder could not be made");
        assert!(!super::super::start_failure::is_the_programs(&plain));
    }

    #[test]
    fn only_folders_inside_the_roots_are_made_visible_never_the_one_above() {
        let class = tempfile::tempdir().unwrap();
        let class = class.path().canonicalize().unwrap();
        let mine = class.join("mine");
        let other = class.join("other");
        for folder in [&mine, &other, &mine.join("lib")] {
            std::fs::create_dir_all(folder).unwrap();
        }
        std::fs::write(mine.join("server.py"), "").unwrap();
        std::fs::write(other.join("x.py"), "").unwrap();
        let roots = [mine.clone()];
        // Its own file and folder, as a working folder given: nothing above it.
        let named = folders_named(
            &os(&[&mine.join("server.py"), &mine.join("lib"), &mine]),
            &mine,
            true,
            &roots,
            None,
        );
        assert_eq!(named, vec![mine.clone(), mine.join("lib")]);
        // A classmate's file, the class folder, `/root`, through `..` too: nothing.
        let named = folders_named(
            &os(&[
                &other.join("x.py"),
                &class,
                Path::new("/root"),
                &mine.join("../other/x.py"),
            ]),
            &mine,
            true,
            &roots,
            None,
        );
        assert!(named.is_empty(), "{named:?}");
    }

    #[test]
    fn a_served_site_shows_its_folder_with_the_secret_beside_its_root() {
        let site = tempfile::tempdir().unwrap();
        let root = site.path().join("root");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(site.path().join("secret.txt"), "").unwrap();
        let named = folders_named(&os(&[&root]), Path::new("/"), false, &[], Some(&root));
        assert_eq!(named, vec![site.path().to_owned(), root.clone()]);
        let served_workdir = folders_named(&[], &root, true, &[], Some(&root));
        assert_eq!(served_workdir, vec![site.path().to_owned()]);
    }

    /// Where no `sandbox-init` runs (no layer at all), the program holds its standard
    /// descriptors and nothing of the harness's: not the report's pipe, which only
    /// `sandbox-init` writes.
    #[tokio::test]
    async fn without_sandbox_init_the_program_holds_no_descriptor_of_the_harness() {
        let mut bare = spec(&["sh", "-c", "ls /proc/$$/fd"]);
        bare.sandbox = sandbox::Settings {
            layers: std::sync::Arc::new(sandbox::Layers::none("a test without layers")),
            ..sandbox::Settings::probed()
        };
        // What this test process holds open across exec, from whoever started it: any
        // child inherits those, whatever the harness does.
        let inherited: Vec<String> = std::fs::read_dir("/proc/self/fd")
            .unwrap()
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
            .filter(|&fd| {
                // Its open flags, in octal, as `/proc` says them: `O_CLOEXEC` among them.
                let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}"));
                let flags = info.ok().and_then(|info| {
                    let octal = info.lines().find_map(|line| line.strip_prefix("flags:"))?;
                    i64::from_str_radix(octal.trim(), 8).ok()
                });
                flags.is_some_and(|flags| flags & i64::from(libc::O_CLOEXEC) == 0)
            })
            .map(|fd| fd.to_string())
            .collect();
        let child = ChildProcess::spawn(&bare).unwrap();
        child.wait_exit(Duration::from_secs(10)).await.unwrap();
        while !child.stdout.closed() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let listed = String::from_utf8(child.stdout.head(4096)).unwrap();
        let extra: Vec<&str> = listed
            .lines()
            .filter(|fd| {
                !["0", "1", "2"].contains(fd) && !inherited.iter().any(|known| known == fd)
            })
            .collect();
        assert!(extra.is_empty(), "the program holds {extra:?} ({listed:?})");
    }

    #[tokio::test]
    async fn exit_status_and_output_are_captured() {
        let child = ChildProcess::spawn(&spec(&["sh", "-c", "printf out; printf err >&2; exit 3"]))
            .unwrap();
        let info = child.wait_exit(Duration::from_secs(10)).await.unwrap();
        assert_eq!(info.kind, ExitKind::Code(3));
        while !(child.stdout.closed() && child.stderr.closed()) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(child.stdout.head(100), b"out");
        assert_eq!(child.stderr.head(100), b"err");
    }

    #[tokio::test]
    async fn a_flood_is_capped_and_killed() {
        let mut flood = spec(&["sh", "-c", "yes flood"]);
        flood.output_cap = 64 * 1024;
        let child = ChildProcess::spawn(&flood).unwrap();
        let info = child.wait_exit(Duration::from_secs(20)).await.unwrap();
        assert_eq!(info.kind, ExitKind::Signal(libc::SIGKILL));
        assert!(child.stdout.flooded());
        assert_eq!(child.stdout.len(), 64 * 1024);
    }

    #[tokio::test]
    async fn a_flood_says_the_harness_stopped_it_and_why() {
        let mut flood = spec(&["sh", "-c", "yes flood"]);
        flood.output_cap = 1 << 20;
        let child = ChildProcess::spawn(&flood).unwrap();
        child.wait_exit(Duration::from_secs(20)).await.unwrap();
        let stop = stop_of_flood(&child.stdout, &child.stderr).unwrap();
        assert_eq!(
            stop.to_string(),
            "stopped by the harness: printed more than 1 MiB on stdout"
        );
        let quiet = ChildProcess::spawn(&spec(&["true"])).unwrap();
        quiet.wait_exit(Duration::from_secs(10)).await.unwrap();
        assert_eq!(stop_of_flood(&quiet.stdout, &quiet.stderr), None);
    }

    #[test]
    fn the_record_and_the_sandbox_write_sizes_alike() {
        for bytes in [0, 1000, 1024, 64 * 1024, 1 << 20, 3 << 30, (1 << 20) + 1] {
            assert_eq!(
                run_record::exit::size_text(bytes),
                sandbox::size_text(bytes)
            );
        }
    }

    /// A program that has ended while its `sandbox-init` has not reported yet is
    /// `ending`, whichever of `sandbox-init`'s processes are still there (with a PID
    /// namespace: the one the harness started, its PID 1, and the watcher of the memory
    /// and disk caps beside the program, where no cgroup or sized folder caps those). The
    /// process that waits for the program is stopped, so that the ended program stays
    /// unreaped: the moment a loaded machine gives a failed scenario, whose cause was lost
    /// when the watcher was taken for a program still running.
    #[tokio::test]
    async fn a_program_ended_before_its_report_is_ending_whatever_waits_beside_it() {
        let child = ChildProcess::spawn(&spec(&["sh", "-c", "echo ready; exec sleep 30"])).unwrap();
        while child.stdout.is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let named =
            |pid: i32| std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        // "ready" is printed before the shell becomes `sleep`: wait for the exec (bounded).
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let program = loop {
            let processes = child.processes();
            if let Some(&pid) = processes
                .iter()
                .find(|&&pid| named(pid).trim_end() == "sleep")
            {
                break pid;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no sleep among {processes:?}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        let waiter = super::super::blocked::parent_of(program).unwrap();
        assert!(!child.ending(), "{:?}", child.processes());
        use rustix::process::{Pid, Signal, kill_process};
        let (waiter, program) = (
            Pid::from_raw(waiter).unwrap(),
            Pid::from_raw(program).unwrap(),
        );
        kill_process(waiter, Signal::STOP).unwrap();
        kill_process(program, Signal::KILL).unwrap();
        while !super::super::blocked::ended_or_ending(program.as_raw_nonzero().get()) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let ending = child.ending();
        let left: Vec<(i32, String)> = child
            .processes()
            .into_iter()
            .map(|pid| (pid, named(pid)))
            .collect();
        kill_process(waiter, Signal::CONT).unwrap();
        assert!(ending, "not ending with {left:?}");
        let info = child.wait_exit(Duration::from_secs(10)).await.unwrap();
        assert_eq!(info.kind, ExitKind::Signal(libc::SIGKILL));
    }

    /// Where `sandbox-init` failed before the program ran (exit 125, and either no report
    /// or one with its `trouble` line), the harness knows it for its own failure, with
    /// why; a program that ends with 125 itself is only a program that did. `sandbox-init`
    /// is played by a script that fails as it may.
    #[tokio::test]
    async fn a_sandbox_that_failed_before_the_program_ran_is_the_harness_trouble() {
        let folder = tempfile::tempdir().unwrap();
        let cases = [
            (
                "unsaid",
                "echo 'sandbox-init: cannot make the PID namespace: EPERM' >&2; exit 125",
                Some("cannot make the PID namespace: EPERM"),
            ),
            (
                "said",
                "printf 'status=32000 maxrss_kib=0\\ntrouble cannot raise the walls: EINVAL\\n' \
                 > /proc/self/fd/$report; exit 125",
                Some("cannot raise the walls: EINVAL"),
            ),
            (
                "the program's own 125",
                "printf 'status=32000 maxrss_kib=0\\n' > /proc/self/fd/$report; \
                 echo 'sandbox-init: a line the program wrote' >&2; exit 125",
                None,
            ),
        ];
        for (name, body, expected) in cases {
            let init = folder.path().join(name.replace(' ', "-"));
            std::fs::write(
                &init,
                format!(
                    "#!/bin/sh\nwhile [ $# -gt 0 ]; do [ \"$1\" = --report-fd ] && report=$2; shift; done\n{body}\n"
                ),
            )
            .unwrap();
            std::fs::set_permissions(&init, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .unwrap();
            let mut failing = spec(&["true"]);
            failing.sandbox.layers = Arc::new(failing.sandbox.layers.started_by(init));
            let child = ChildProcess::spawn(&failing).unwrap();
            let info = child.wait_exit(Duration::from_secs(10)).await.unwrap();
            assert_eq!(info.kind, ExitKind::Code(125), "{name}");
            while !child.stderr.closed() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            assert_eq!(child.sandbox_trouble().as_deref(), expected, "{name}");
        }
    }

    #[tokio::test]
    async fn terminate_kills_a_program_that_ignores_sigterm() {
        let child = ChildProcess::spawn(&spec(&[
            "sh",
            "-c",
            "trap '' TERM; echo ready; sleep 30 & wait",
        ]))
        .unwrap();
        // SIGTERM is ignored only once the trap is set: wait for the word that says so.
        while child.stdout.is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let info = child.terminate(Duration::from_millis(200)).await.unwrap();
        assert_eq!(info.kind, ExitKind::Signal(libc::SIGKILL));
    }
}
