//! # sandbox-init: where every program under test starts
//!
//! The harness runs programs it has never seen, often as root. It does not start them
//! directly: it starts this small program, which builds the sandbox, starts the program
//! inside it, and stays beside it until it ends:
//!
//! ```text
//! harness
//!  └─ sandbox-init            (outside: the harness's child; waits, reports nothing itself)
//!      └─ sandbox-init        (PID 1 of a new PID namespace: reaps, reports)
//!          └─ the program     (PID 2) and everything it forks
//! ```
//!
//! - **A view of the file system** (`--view`, `--visible`, `--writable`, `--tmp`,
//!   `--replace /PATH=SOURCE`): a mount namespace whose root holds only the system's own
//!   folders (read-only, its secrets covered), the folders the harness names visible
//!   (read-only) or writable, a `/tmp` of its own, and the harness's files put over the
//!   system's (the small internet's `/etc/resolv.conf`, the test CA as the only trusted
//!   certificate authority); files put over the kernel's below `/proc` (the SSH pack's
//!   remote machine: its `/proc/cpuinfo`, `/proc/meminfo`) go on the PID namespace's own
//!   `/proc` once it is mounted. Nothing else of the machine (see [`mounts`]).
//! - **Processes** (`--pid-namespace`): the program runs in a PID namespace of its own, as
//!   PID 2 under this program as PID 1. When the program exits, PID 1 exits, and the kernel
//!   kills everything left in the namespace: children the program forked, and daemons
//!   that double-forked and called `setsid` to escape their process group, included.
//! - **Caps on processes and memory** (`--cgroup-procs FILE`, once per cgroup): this
//!   program joins the cgroups whose `pids.max` and memory limit the harness set, before
//!   forking anything, so a fork bomb stops there and everything the program forks shares
//!   one memory budget.
//! - **Its exit and peak memory** (`--report-fd N`): the program's own exit status and
//!   `ru_maxrss`, read with `wait4`, are written to descriptor N as one line:
//!   `status=<wait status> maxrss_kib=<KiB>`. (The harness cannot read them off its own
//!   child: a process forked from the large harness inherits its resident size as a peak,
//!   so only a process forked from this small one reports the program's own figure.)
//!   Where the sandbox failed in the program's process before the program ran, a second
//!   line says why: `trouble <why>` ([`setup_failure`]).
//!
//! Exit status: the program's (a program killed by a signal makes this one die of the same
//! signal), 125 when the sandbox could not be built (the reason on stderr; no report, or
//! one with its `trouble` line: the harness's failure, never the program's), 126 or 127
//! when the program could not be run, as a shell says.
//!
//! - **No privilege** (always; [`privilege`]): the program starts with every descriptor
//!   above 2 closed, an empty capability bounding set and no capabilities, `no_new_privs`,
//!   and, when this program is root, as the user `--user UID:GID` names (the harness gives
//!   each program a user of its own). `--seccomp` adds the filter of [`seccomp`].
//! - **Namespaces of its own** (with `--pid-namespace`): PID, IPC, UTS and cgroup.
//! - **Walls without namespaces** (`--landlock`, [`walls`]): where no view can be built,
//!   Landlock limits the program to the system's folders and the `--visible` and
//!   `--writable` ones. Without a PID namespace this process is the subreaper of all the
//!   program forks and kills what is left when it ends; `--end-user UID` ends every process
//!   of a user the harness is done with.
//! - **Its network on a shared loopback** (`--tcp-ports`, with walls or a view): Landlock
//!   walls its TCP to those ports, and every call that names an address (`connect`,
//!   `bind`, a send with an address; UDP included, which Landlock has no rule for) is made
//!   for it by the process that supervises it, after checking the port ([`warden`]). That
//!   process becomes the program's user, undumpable, inside the program's walls, before it
//!   forks the program. `--warden-owns`: the warden makes the program's datagram sockets
//!   and keeps them, where this machine refuses it a copy of the program's descriptors
//!   ([`warden::Mode::Owner`]). `--no-warden`: none (the harness found this machine refuses
//!   one, or was told so); `--tcp-only`: the filter refuses every internet socket but TCP, for
//!   a program that needs no UDP where no warden walls it ([`seccomp::Internet`]);
//!   `--no-internet`: no internet socket at all, for a server that listens on a unix
//!   socket only (the kit's MariaDB: its replication would connect anywhere);
//!   `--no-unix-sockets`: no `socket(AF_UNIX)`, only `socketpair` ([`seccomp::Unix`]), for
//!   a program where no warden checks whose named socket it connects to.
//!   `--count-connects-fd N`: the warden appends a byte to descriptor N for each TCP
//!   `connect` of the program's, where no namespace of the scenario's own counts them:
//!   counted outside the program, whatever makes the call (its own machine code included).
//! - **A memory cap without a cgroup** (`--memory-watch BYTES`) **and a disk cap without a
//!   sized folder** (`--disk-watch BYTES`, `--disk-folder DIR`), [`watch`]: a watcher ends
//!   the program's processes when together they hold more.
//!
//! - **Limits** (`--rlimit RESOURCE=SOFT:HARD`, the resource by the kernel's number):
//!   set first thing, so that this program and everything it starts has them. The harness
//!   works them out; it sets none between fork and exec, so that it can start this program
//!   without copying itself (`harness/sandbox/src/spawn.rs`).
//!
//! The environment, the session and the network namespace are set by the harness when it
//! starts this program: they are inherited.

mod disk_use;
mod mounts;
mod privilege;
mod resolve;
mod seccomp;
mod setup_failure;
mod supervise;
mod trace;
mod walls;
mod warden;
mod watch;

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::ExitCode;

/// What the harness asked for.
#[derive(Debug, Default)]
struct Request {
    /// `setrlimit`s to make first (`--rlimit`): resource, soft and hard values.
    limits: Vec<(libc::__rlimit_resource_t, u64, u64)>,
    report_fd: Option<i32>,
    cgroup_procs: Vec<PathBuf>,
    mounts: mounts::Plan,
    workdir: Option<PathBuf>,
    pid_namespace: bool,
    /// Run the program as this user and group (`--user UID:GID`), when this is root.
    user: Option<(u32, u32)>,
    /// Install the seccomp filter (`--seccomp`).
    seccomp: bool,
    /// Cap what the program and everything it forks hold together at this many bytes by
    /// watching them (`--memory-watch BYTES`), where no memory cgroup caps it
    /// ([`watch`]).
    memory_watch: Option<u64>,
    /// Cap what its own folders (`--disk-folder`, repeated) hold together on disk at this
    /// many bytes by watching them (`--disk-watch BYTES`), where no sized `tmpfs` holds
    /// them ([`watch`], [`disk_use`]).
    disk_watch: Option<u64>,
    disk_folders: Vec<PathBuf>,
    /// On a shared loopback, the ports the program may bind, connect and send to
    /// (`--tcp-ports 20032-20095,12000`): TCP walled by Landlock ([`walls`]), every call
    /// naming an address made by the warden ([`warden`]), with a view or without.
    tcp_ports: Option<Vec<(u16, u16)>>,
    /// No warden makes its calls naming an address (`--no-warden`).
    no_warden: bool,
    /// The warden owns the program's datagram sockets rather than copy its descriptors
    /// (`--warden-owns`: the harness found this machine refuses copies, or was told to).
    warden_owns: bool,
    /// A file to which the warden appends a byte per TCP `connect` of the program's
    /// (`--count-connects-fd N`).
    count_connects_fd: Option<i32>,
    /// No internet socket but TCP (`--tcp-only`).
    tcp_only: bool,
    /// No internet socket at all (`--no-internet`).
    no_internet: bool,
    /// No unix socket but a `socketpair` (`--no-unix-sockets`).
    no_unix_sockets: bool,
    /// Raise the Landlock walls (`--landlock`) around the `--visible` and `--writable`
    /// folders, where no view is built ([`walls`]).
    landlock: bool,
    /// Trace the program's send and receive calls and cut them short
    /// (`--trace-short-calls seed=N,max=M`, [`trace`]).
    trace: Option<trace::Plan>,
    program: Vec<OsString>,
}

fn main() -> ExitCode {
    let arguments: Vec<OsString> = std::env::args_os().skip(1).collect();
    // `--noop`: the harness's probe of which layers this system allows runs this program
    // inside a sandbox as the program.
    if arguments.first().is_some_and(|first| first == "--noop") {
        return ExitCode::SUCCESS;
    }
    // `--landlock-abi`: the harness's probe asks which Landlock walls this kernel has.
    if arguments
        .first()
        .is_some_and(|first| first == "--landlock-abi")
    {
        println!("{}", walls::kernel_abi());
        return ExitCode::SUCCESS;
    }
    // `--warden-probe`: the harness's probe asks whether the warden of a program's
    // addresses can work here (the reason why not on stdout, exit 1).
    if arguments
        .first()
        .is_some_and(|first| first == "--warden-probe")
    {
        // `copies`, or `owner` and why not `copies`, on stdout.
        let owner = arguments
            .get(1)
            .is_some_and(|second| second == "--warden-owns");
        return match warden::mode(owner) {
            Ok(warden::Mode::Copies) => {
                println!("copies");
                ExitCode::SUCCESS
            }
            Ok(warden::Mode::Owner) => {
                let why = match warden::copies_allowed() {
                    Err(why) => why,
                    Ok(()) => "asked for (--warden-owns)".to_owned(),
                };
                println!("owner\n{why}");
                ExitCode::SUCCESS
            }
            Err(why) => {
                println!("{why}");
                ExitCode::FAILURE
            }
        };
    }
    // `--end-user UID`: ends every process of that user (a user of its own the harness
    // gave programs that have all ended), where no PID namespace does it.
    if let [first, uid] = arguments.as_slice()
        && first == "--end-user"
    {
        return match uid.to_str().and_then(|uid| uid.parse().ok()) {
            Some(uid) => supervise::end_user(uid),
            None => {
                eprintln!(
                    "sandbox-init: --end-user {}: not a uid",
                    uid.to_string_lossy()
                );
                ExitCode::from(125)
            }
        };
    }
    let request = match parse(arguments) {
        Ok(request) => request,
        Err(message) => {
            eprintln!("sandbox-init: {message}");
            return ExitCode::from(125);
        }
    };
    if let Err(message) = set_limits(&request.limits) {
        eprintln!("sandbox-init: {message}");
        return ExitCode::from(125);
    }
    let late = match build_sandbox(&request) {
        Ok(late) => late,
        Err(message) => {
            eprintln!("sandbox-init: {message}");
            return ExitCode::from(125);
        }
    };
    // The walls stand in for the view: with a view, the program sees nothing else anyway,
    // and only its network is walled, where its scenario shares the machine's loopback.
    let walls = if request.landlock && !request.mounts.view {
        Some(walls::Walls {
            file_system: true,
            tcp_ports: request.tcp_ports.clone(),
            visible: request.mounts.visible.clone(),
            writable: request
                .mounts
                .writable
                .iter()
                .chain(&request.mounts.tmp)
                .cloned()
                .collect(),
        })
    } else {
        request.tcp_ports.clone().map(|ports| walls::Walls {
            tcp_ports: Some(ports),
            ..walls::Walls::default()
        })
    };
    // A warden where the program's network is walled: in the mode the harness found, or
    // none where it said so; never a program unwalled that was to have one.
    let warden = match &request.tcp_ports {
        Some(_) if !request.no_warden => match request.warden_owns {
            true => Some(warden::Mode::Owner),
            false => match warden::mode(false) {
                Ok(mode) => Some(mode),
                Err(why) => {
                    eprintln!("sandbox-init: no warden can wall the program's addresses: {why}");
                    return ExitCode::from(125);
                }
            },
        },
        _ => None,
    };
    supervise::run(
        &request.program,
        request.report_fd,
        &privilege::Drop {
            user: request.user,
            seccomp: request.seccomp,
            sockets: seccomp::Sockets {
                internet: if request.no_internet {
                    seccomp::Internet::Refused
                } else if request.tcp_only {
                    seccomp::Internet::TcpOnly
                } else if warden == Some(warden::Mode::Owner) {
                    // The datagram sockets are the warden's; no other kind its walls miss.
                    seccomp::Internet::TcpAndDatagrams
                } else {
                    seccomp::Internet::Any
                },
                unix: if request.no_unix_sockets {
                    seccomp::Unix::PairsOnly
                } else {
                    seccomp::Unix::Any
                },
            },
            warden,
            warden_counts: request.count_connects_fd.filter(|_| warden.is_some()),
            walls,
        },
        request.pid_namespace,
        request.trace,
        request.mounts.view.then_some(&late),
        &watch::Caps {
            memory: request.memory_watch,
            // What the folders already hold (the submission's own files, where its working
            // folder is in its private copy) is not the program's writing: the cap counts
            // from there.
            disk: request.disk_watch.map(|limit| {
                let before = disk_use::held(&request.disk_folders, u64::MAX);
                (limit.saturating_add(before), request.disk_folders.clone())
            }),
        },
    )
}

/// The harness's limits, on this process (and so on everything it starts).
fn set_limits(limits: &[(libc::__rlimit_resource_t, u64, u64)]) -> Result<(), String> {
    for &(resource, soft, hard) in limits {
        let limit = libc::rlimit {
            rlim_cur: soft,
            rlim_max: hard,
        };
        // SAFETY: setrlimit reads the struct it is given and changes our own limits only.
        if unsafe { libc::setrlimit(resource, &limit) } != 0 {
            return Err(format!(
                "cannot set limit {resource} to {soft}:{hard}: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    Ok(())
}

/// `--rlimit`'s value, `RESOURCE=SOFT:HARD`.
fn limit(text: &std::ffi::OsStr) -> Result<(libc::__rlimit_resource_t, u64, u64), String> {
    text.to_str()
        .and_then(|text| {
            let (resource, values) = text.split_once('=')?;
            let (soft, hard) = values.split_once(':')?;
            let soft: u64 = soft.parse().ok()?;
            let hard: u64 = hard.parse().ok()?;
            (soft <= hard).then_some((resource.parse().ok()?, soft, hard))
        })
        .ok_or_else(|| {
            format!(
                "--rlimit {}: not RESOURCE=SOFT:HARD (numbers, soft at most hard)",
                text.to_string_lossy()
            )
        })
}

/// Everything but the process itself: cgroup, mounts, working directory. Returns the
/// files to put below the PID namespace's own `/proc` once it is mounted.
fn build_sandbox(request: &Request) -> Result<mounts::Late, String> {
    for procs in &request.cgroup_procs {
        // "0" is the writing process itself; its children are counted from now on.
        std::fs::write(join_file(procs), "0")
            .map_err(|error| format!("cannot join the cgroup {}: {error}", procs.display()))?;
    }
    // SAFETY: geteuid only reads the caller's id.
    let root = unsafe { libc::geteuid() } == 0;
    if !root && (request.mounts.view || request.pid_namespace) {
        enter_user_namespace()?;
    }
    let mut late = mounts::Late::new();
    if request.mounts.view {
        late = mounts::isolate(&request.mounts)?;
    }
    if let Some(dir) = &request.workdir {
        // Again after the mounts: the old working directory may sit on a covered mount.
        std::env::set_current_dir(dir)
            .map_err(|error| format!("cannot enter {}: {error}", dir.display()))?;
    }
    Ok(late)
}

/// The file to write "0" into to join the cgroup whose `cgroup.procs` is `procs`: in a
/// cgroup v1 hierarchy, its `tasks` file beside it, which moves the writing thread alone.
/// This process has one thread here, so that is the whole process, and what it forks
/// after is born inside. Moving a whole process (`cgroup.procs`) takes the kernel's global
/// threadgroup lock for writing, and taking it after a quiet moment waits for an RCU grace
/// period: 11-22 ms measured on a 2-core machine, on every program's start, where the
/// three joins through `tasks` took 0.2-3.7 ms together (the current thread moved alone
/// needs no such lock, Linux 5.x and later; on older kernels both cost the same). v2 has
/// no `tasks` file (its `cgroup.threads` is for threaded cgroups only): `cgroup.procs`.
fn join_file(procs: &std::path::Path) -> PathBuf {
    if procs.file_name().is_some_and(|name| name == "cgroup.procs") {
        let tasks = procs.with_file_name("tasks");
        if tasks.exists() {
            return tasks;
        }
    }
    procs.to_owned()
}

/// For a harness not run as root: a user namespace of our own, our ids mapped to
/// themselves, where this process holds the capabilities that namespaces and mounts need.
/// (The program loses them again when it is executed as the same ordinary user.)
fn enter_user_namespace() -> Result<(), String> {
    // SAFETY: the ids are read, and unshare takes flags; this process has one thread.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    if unsafe { libc::unshare(libc::CLONE_NEWUSER) } != 0 {
        return Err(format!(
            "cannot make a user namespace: {}",
            std::io::Error::last_os_error()
        ));
    }
    let write = |file: &str, text: String| {
        std::fs::write(file, text).map_err(|error| format!("cannot write {file}: {error}"))
    };
    write("/proc/self/setgroups", "deny".into())?;
    write("/proc/self/uid_map", format!("{uid} {uid} 1"))?;
    write("/proc/self/gid_map", format!("{gid} {gid} 1"))
}

/// A descriptor the harness passed on (`--report-fd`): above 2, and open here. (The
/// harness keeps it open across its `posix_spawn` with a `dup2` onto itself, which clears
/// its close-on-exec flag from glibc 2.29 on; with an older C library it would arrive
/// closed, and the report would be lost without a word.)
fn descriptor(name: &str, text: &std::ffi::OsStr) -> Result<i32, String> {
    let fd = text
        .to_str()
        .and_then(|text| text.parse().ok())
        .filter(|fd: &i32| *fd > 2)
        .ok_or_else(|| {
            format!(
                "{name} {}: not a descriptor above 2",
                text.to_string_lossy()
            )
        })?;
    // SAFETY: F_GETFD only reads the descriptor's flags.
    if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return Err(format!(
            "{name} {fd}: not open in this process ({})",
            std::io::Error::last_os_error()
        ));
    }
    Ok(fd)
}

/// A number of bytes, the value of option `name`.
fn bytes(
    name: &str,
    mut value: impl FnMut(&str) -> Result<OsString, String>,
) -> Result<u64, String> {
    let text = value(name)?;
    text.to_str()
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| format!("{name} {}: not a number of bytes", text.to_string_lossy()))
}

fn parse(arguments: Vec<OsString>) -> Result<Request, String> {
    let mut request = Request::default();
    let mut arguments = arguments.into_iter();
    while let Some(argument) = arguments.next() {
        let mut value = |name: &str| {
            arguments
                .next()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match argument.as_bytes() {
            b"--" => {
                request.program = arguments.collect();
                break;
            }
            b"--rlimit" => request.limits.push(limit(&value("--rlimit")?)?),
            b"--report-fd" => {
                request.report_fd = Some(descriptor("--report-fd", &value("--report-fd")?)?);
            }
            b"--cgroup-procs" => request.cgroup_procs.push(value("--cgroup-procs")?.into()),
            b"--view" => request.mounts.view = true,
            b"--tmp" => request.mounts.tmp = Some(value("--tmp")?.into()),
            b"--replace" => {
                let text = value("--replace")?;
                let (path, source) = text
                    .to_str()
                    .and_then(|text| text.split_once('='))
                    .filter(|(path, _)| path.starts_with('/'))
                    .ok_or_else(|| {
                        format!("--replace {}: not /PATH=SOURCE", text.to_string_lossy())
                    })?;
                request.mounts.replaced.push((path.into(), source.into()));
            }
            b"--visible" => request.mounts.visible.push(value("--visible")?.into()),
            b"--writable" => request.mounts.writable.push(value("--writable")?.into()),
            b"--workdir" => request.workdir = Some(value("--workdir")?.into()),
            b"--pid-namespace" => request.pid_namespace = true,
            b"--seccomp" => request.seccomp = true,
            b"--landlock" => request.landlock = true,
            b"--no-warden" => request.no_warden = true,
            b"--warden-owns" => request.warden_owns = true,
            b"--count-connects-fd" => {
                let fd = value("--count-connects-fd")?;
                request.count_connects_fd = Some(descriptor("--count-connects-fd", &fd)?);
            }
            b"--tcp-only" => request.tcp_only = true,
            b"--no-internet" => request.no_internet = true,
            b"--no-unix-sockets" => request.no_unix_sockets = true,
            b"--trace-short-calls" => {
                let text = value("--trace-short-calls")?;
                request.trace = Some(trace::Plan::parse(&text.to_string_lossy())?);
            }
            b"--tcp-ports" => {
                let text = value("--tcp-ports")?;
                request.tcp_ports = Some(walls::parse_tcp_ports(&text.to_string_lossy())?);
            }
            b"--memory-watch" => request.memory_watch = Some(bytes("--memory-watch", value)?),
            b"--disk-watch" => request.disk_watch = Some(bytes("--disk-watch", value)?),
            b"--disk-folder" => request.disk_folders.push(value("--disk-folder")?.into()),
            b"--user" => {
                let text = value("--user")?;
                let ids = text.to_str().and_then(|text| {
                    let (uid, gid) = text.split_once(':')?;
                    Some((uid.parse().ok()?, gid.parse().ok()?))
                });
                request.user =
                    Some(ids.ok_or_else(|| {
                        format!("--user {}: not UID:GID", text.to_string_lossy())
                    })?);
            }
            _ => return Err(format!("unknown argument {}", argument.to_string_lossy())),
        }
    }
    if request.program.is_empty() {
        return Err("no program after --".into());
    }
    if request.disk_watch.is_some() && request.disk_folders.is_empty() {
        return Err("--disk-watch needs a --disk-folder to watch".into());
    }
    request.mounts.own_proc = request.pid_namespace;
    // Mount points are made and matched by path: `/tmp/sub/.` or a symbolic link would
    // not be found again in the view, so every folder is named by its real path, found
    // without following a link a program could have made ([`resolve`]).
    let mounts = &mut request.mounts;
    for path in mounts
        .writable
        .iter_mut()
        .chain(mounts.visible.iter_mut())
        .chain(mounts.tmp.iter_mut())
    {
        let real = resolve::resolve(path)?;
        if real.as_os_str() != path.as_os_str() {
            mounts.spelled.push(std::mem::replace(path, real));
        }
    }
    for (_, source) in &mut mounts.replaced {
        *source = resolve::resolve(source)?;
    }
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_v1_cgroup_is_joined_through_its_tasks_file_and_a_v2_one_through_cgroup_procs() {
        let v1 = tempfile::tempdir().unwrap();
        std::fs::write(v1.path().join("cgroup.procs"), "").unwrap();
        std::fs::write(v1.path().join("tasks"), "").unwrap();
        assert_eq!(
            join_file(&v1.path().join("cgroup.procs")),
            v1.path().join("tasks")
        );
        let v2 = tempfile::tempdir().unwrap();
        std::fs::write(v2.path().join("cgroup.procs"), "").unwrap();
        assert_eq!(
            join_file(&v2.path().join("cgroup.procs")),
            v2.path().join("cgroup.procs")
        );
        // Another file named is written as named.
        assert_eq!(join_file(&v1.path().join("other")), v1.path().join("other"));
    }

    #[test]
    fn a_limit_is_resource_soft_and_hard_and_nothing_else_is() {
        assert_eq!(
            limit(std::ffi::OsStr::new("7=8192:8192")),
            Ok((libc::RLIMIT_NOFILE, 8192, 8192))
        );
        for wrong in ["7=10", "7=20:10", "nofile=1:1", "7:1:1", "7=-1:1"] {
            let error = limit(std::ffi::OsStr::new(wrong)).unwrap_err();
            assert!(error.contains("RESOURCE=SOFT:HARD"), "{wrong}: {error}");
        }
        let request = parse(
            ["--rlimit", "4=0:0", "--", "/bin/true"]
                .map(OsString::from)
                .to_vec(),
        )
        .unwrap();
        assert_eq!(request.limits, [(libc::RLIMIT_CORE, 0, 0)]);
    }

    #[test]
    fn a_report_descriptor_must_be_open_and_above_2() {
        use std::os::fd::AsRawFd;
        let open = tempfile::tempfile().unwrap();
        let fd = open.as_raw_fd();
        assert_eq!(
            descriptor("--report-fd", std::ffi::OsStr::new(&fd.to_string())),
            Ok(fd)
        );
        // Descriptors are handed out lowest first: nothing here holds 999 open.
        let closed = descriptor("--report-fd", std::ffi::OsStr::new("999"));
        assert!(closed.unwrap_err().contains("not open"));
        let low = descriptor("--report-fd", std::ffi::OsStr::new("2"));
        assert!(low.unwrap_err().contains("above 2"));
    }
}
