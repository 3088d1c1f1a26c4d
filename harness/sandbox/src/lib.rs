//! The sandbox around every program under test.
//!
//! The harness reaches it only through this crate's API: [`layers`] (what this system
//! allows, probed once), the [`Settings`] a run gives every enclosure (those layers, or
//! fewer, and the memory cap; the line a report's header shows), an [`Enclosure`] per
//! program (its folders and cgroup) and the [`Launch`] that starts a program inside it,
//! and the two companion programs: `sandbox-init` (`init/`), which every
//! program under test starts from, and the interposed library ([`interposed_library`],
//! `harness/short-calls`). Everything else is private, so nothing else of the harness can
//! start a program around it.
//!
//! # Threat model
//!
//! A submission is written by someone who wants a better grade or a look at someone
//! else's, and the harness runs it as root as often as not (Gradescope, CI, the README's
//! examples). A program **may**: fork, flood, hang, hoard memory and CPU, write anywhere it
//! can, open any path, make links, print any bytes, call any system call, name any path in
//! its own `submission.toml`. It **may not**, whoever runs the harness:
//!
//! | it may not | enforced by |
//! |---|---|
//! | hold or gain privilege (capabilities, setuid, file capabilities) | `sandbox-init`: an empty bounding set and no capabilities, `no_new_privs`, and under a root harness a user of its own ([`users`]) |
//! | reach the kernel's attack surface (mount, namespaces, `ptrace`, `bpf`, keys, modules, `io_uring`, System V and POSIX IPC, ...) | a seccomp filter (`init/src/seccomp.rs`) |
//! | see the machine's processes, `/proc`, `/dev`, files, the grader's home, other submissions, the kit | a PID namespace with its own `/proc` (nothing of the machine's beneath it under a root harness), a built `/dev`, a mount namespace whose root holds only what it is given (`init/src/mounts.rs`); where none can be made, Landlock's walls (`init/src/walls.rs`): the system's folders and its submission read, its own folders written, nothing else opened (the machine's processes stay listed in `/proc`, their files and memory out of reach); a view without a PID namespace of its own (it would hold the machine's `/proc`) is not built for programs of the harness's own user: Landlock's walls instead |
//! | name a path outside its submission in its manifest | the harness's `target` module: every path resolved, links followed, inside the folder (or a grader's `--companions`); each submission graded from a private copy |
//! | leave the scenario's network | a network namespace per scenario, loopback only (the harness's `world::real::isolation`); where none can be made, its scenario's own ports only ([`TcpPorts`]): Landlock's TCP rules for `bind` and `connect`, seccomp refusing a TCP Fast Open, and `sandbox-init`'s warden (`init/src/warden`) making every `connect`, `bind` and send that names an address itself, after checking its port (UDP, which Landlock has no rules for, included) and that it leads to this machine (a loopback, wildcard or interface address: no datagram leaves a container that has a network), on a copy of the program's socket, or where the machine refuses it one (Docker's default profile), on the datagram sockets it made for the program and keeps at numbers no copy can leave; the blocks of ports themselves are claimed by locks on files in `/tmp` no walled program can open, make or remove (the harness's `world::real::port_claims`) |
//! | outlive its scenario, or leave state for a later one | the PID namespace (its PID 1's exit kills everything left), a cgroup emptied and removed, IPC and UTS namespaces of its own, its folders removed; where no namespace can be made, `sandbox-init` as the subreaper of all it forks, the end of every process of its user of its own ([`end_every_program`]), seccomp refusing IPC objects, Landlock keeping it out of `/tmp` and `/dev/shm` and out of abstract sockets made by others; and whatever the layers, `sandbox-init` kills what it waits for when the harness ends, `SIGKILL` included (it watches a pidfd of the harness) |
//! | take more than its share | `pids`, `memory` and `cpu` cgroups the program cannot write (read-only in its view, root's), or where none can be made `RLIMIT_NPROC` for its own user and `sandbox-init`'s memory watcher (`init/src/watch.rs`); `setrlimit` for CPU time (`SIGXCPU`, reported), file size, descriptors |
//! | make the harness read a file for it | the harness's `beneath` module: files read back are opened beneath their folder, no link followed, regular files only |
//! | put raw control characters on the grader's terminal, or read from it | every text from a submission escaped where it is shown; every program in a session of its own, with no controlling terminal, its standard streams pipes or files |
//! | signal the harness, `sandbox-init`, its memory watcher or another program | a user of its own under a root harness; a PID namespace; and Landlock's signal scope (ABI 6), raised for every program: only its own processes; seccomp refusing `prlimit64` on any process but its own (the warden of a shared loopback is of its user); and should its supervisor die all the same, the program dies with it (a parent-death signal) |
//! | use what the harness was started with | descriptors above 2 closed before `execve`; an environment of [`Enclosure::environment`]'s list only |
//! | hide its connection attempts from a scenario that counts them | the kernel of the scenario's own network namespace; where none can be made, `sandbox-init`'s warden, which its filter hands every `connect` to (whatever makes it) and which counts the TCP ones into a file of the harness's ([`Launch::connects_fd`]) |
//! | send past the short-call library where a scenario cuts its calls | `sandbox-init`'s tracer (`init/src/trace.rs`): the kernel stops every process of the program at each send and receive call, whoever makes it (a static program, its own machine code), and the call's length is lowered before it runs; and the library (`harness/short-calls`) in every program it runs: `exec` and `posix_spawn` keep `LD_PRELOAD`, the C library's `syscall()` goes through the library's functions; where the machine refuses tracing, a program the library cannot enter (statically linked) is not run, and the harness refuses one before it starts |
//!
//! **Not covered**, and why: in a platform's container, a named unix socket any user may
//! write, for the browser alone (Landlock's ABI 9, Linux 7.1, scopes those; the walls ask
//! for it; the warden that copies a program's sockets reaches only the program's own
//! user's, and where it owns only datagram sockets or none can run, no other program makes
//! a unix socket, `sandbox-init --no-unix-sockets`, and the browser gets no warden); the UDP of a
//! task that uses it (`TcpPorts::with_datagrams`) on a machine where the warden can run
//! neither way (neither `pidfd_getfd` nor `SECCOMP_IOCTL_NOTIF_ADDFD`, Linux 5.14: the
//! header says `UDP walls` are not here; every other program gets no UDP socket there,
//! `sandbox-init --tcp-only`). Where the warden owns the datagram sockets, what a correct
//! program cannot do there: `sendmsg` on any other socket is refused (the interposed library
//! sends one without ancillary data as a `sendto`, so only a static program's, and a
//! descriptor passed on a socket pair, fail), a datagram socket cannot be copied (`dup`,
//! `dup2` onto it, as Java's `DatagramChannel` does when closed under a waiting thread:
//! `EPERM`), and one process holds at most 64 of them; and there a TCP `connect` is the
//! kernel's, walled by Landlock, whose rules are ports only: in a container with a network,
//! a program's TCP `connect` to a remote host on a port of its scenario's block (64 ports
//! picked per scenario) leaves it (the warden that copies sockets makes every `connect`
//! itself and refuses it; none of what a program can read is another's). Also not covered: its CPU use (no `cpu` cgroup: `RLIMIT_CPU` only); the kernel itself (a bug in a system call the filter allows
//! is a way out, as in every container); where this machine refuses tracing (a Yama
//! `ptrace_scope` of 2 or more), a system call made by a program's own machine code (inline
//! assembly, or code it writes and jumps to) in a scenario that cuts its socket calls, which
//! no interposed library sees (elsewhere `sandbox-init`'s tracer cuts it,
//! [`Layer::ShortCallTracer`]); `/sys` is the machine's, read-only (it tells the
//! machine's hardware and interface names, and the names of other programs' cgroups, no
//! contents); CPU caches and timing; the disk cap of a folder no sized `tmpfs` holds (a
//! working folder in its submission's private copy or the test web site everywhere, every
//! folder of its own in a container) is kept by a watcher that measures every 50 ms and ends
//! the program past it, so a program may write up to 50 ms' worth beyond it first; and a
//! working folder in the private copy is the same for every scenario of one grading (a program may leave there
//! what a later scenario of the same submission finds: its own grade is all it can
//! touch). Where the machine refuses a layer (an ordinary user
//! without user namespaces, a container without `CAP_SYS_ADMIN`, no writable cgroups),
//! the layer is missing and the report's header says which and why ([`Settings::summary`]):
//! an ordinary user's programs then run as that user with its access to the machine's
//! files, less what `no_new_privs` and seccomp refuse.
//!
//! # Layers
//!
//! Each program runs inside these layers (the network one is the scenario's, see
//! the harness's `world::real::isolation`):
//!
//! | layer | what it does | how |
//! |---|---|---|
//! | privilege | no capability, no way to gain one; a user of its own under a root harness | `sandbox-init` (`init/src/privilege.rs`) |
//! | system calls | no mount, namespace, `ptrace`, `bpf`, key, module calls | seccomp (`init/src/seccomp.rs`) |
//! | processes | everything the program forks is gone when it ends, `setsid` daemons included; System V objects and the host name are its own | PID, IPC, UTS and cgroup namespaces: the program is PID 2 under `sandbox-init` |
//! | process cap | a fork bomb stops at [`cgroup::MAX_TASKS`] tasks, also for root | a `pids` cgroup per program, in v1 an emptied one kept from a program before (`cgroup::Spares`) (else `RLIMIT_NPROC`, per user: its own user under a root harness) |
//! | memory cap | the program and everything it forks share [`Settings::memory_limit`] bytes ([`DEFAULT_MEMORY_LIMIT`] unless `--memory-limit`) | a `memory` cgroup per program |
//! | CPU share | the program and everything it forks use at most [`cgroup::CPUS`] CPU at once: a spinning program leaves the other cores to the programs graded beside it | a `cpu` cgroup per program |
//! | file system | a view: the system's folders, its own program and submission (read-only), its working directory, `HOME` and `/tmp` (writable), a `/dev` of its own, nothing else of the machine; its own `/proc`; the small internet's `/etc` files ([`etc`]) | a mount namespace with a root of its own (`pivot_root`) |
//! | walls (where no view can be built) | the same folders read and written by their paths, nothing else; no abstract unix socket or signal outside its own processes | Landlock (`init/src/walls.rs`) |
//! | memory watch (where no memory cgroup can be made) | the program and everything it forks share [`Settings::memory_limit`] bytes, measured every 50 ms | `sandbox-init`'s watcher (`init/src/watch.rs`) |
//! | disk | its working directory, `HOME` and `/tmp` together hold at most [`DISK_LIMIT`] bytes: past that, `ENOSPC` | one sized `tmpfs` per program, mounted in the scenario's own mount namespace ([`enter_private_mounts`]) |
//! | disk watch (where no sized `tmpfs` holds a folder it writes) | the same folders, and a working folder or another it may write elsewhere (its private copy, the test web site), gain at most [`DISK_LIMIT`] bytes from its start, measured every 50 ms: past that the program is ended | `sandbox-init`'s watcher (`init/src/watch.rs`, `init/src/disk_use.rs`) |
//! | limits | CPU time ([`limits::CPU_SECONDS`], then `SIGXCPU`), address space, open files, file size, no core dumps | `setrlimit` ([`limits`]: by `sandbox-init` at its start, or before the exec where there is none) |
//! | environment | nothing of the harness's own; only [`Enclosure::environment`]'s list | `env_clear` |
//!
//! The namespaces and cgroups are made by `sandbox-init` (`init/`), a companion
//! program every program under test starts from, which also reports the program's own
//! exit and peak memory. Which layers this system allows is probed once per process by
//! starting `sandbox-init` inside each; the run's header says which are on and why any
//! is off ([`Settings::summary`]). Where `sandbox-init` cannot be had at all, programs start
//! directly, with limits and a clean environment only. `HARNESS_SANDBOX=off` turns the
//! namespace and cgroup layers off (limits and the environment stay).

mod cgroup;
mod companions;
mod etc;
mod java_store;
mod layers;
mod limits;
mod resolver;
mod shims;
pub mod spawn;
mod tcp_ports;
mod users;
mod view;

use layers::{LANDLOCK_NETWORK, Warden, running_as_root};
pub use layers::{Layer, Layers, layers, private_folder_mode};
pub use resolver::resolver_files;
pub use tcp_ports::TcpPorts;
pub use users::{is_a_programs, open_to_all};
pub use view::{enter_private_mounts, interpreter_folders};

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use tempfile::TempDir;

use crate::companions::Companion;

/// The program every program under test starts from.
const INIT: Companion = Companion {
    package: "sandbox-init",
    source: "harness/sandbox/init",
    file_name: "sandbox-init",
    build_what: "--bin=sandbox-init",
    variable: "HARNESS_SANDBOX_INIT",
};

/// Finds `sandbox-init` (`HARNESS_SANDBOX_INIT`, else built from the workspace of this
/// crate or of `kit_root`, else beside the harness's executable), or says why it cannot.
pub fn locate_init(kit_root: &Path) -> Result<PathBuf, String> {
    companions::locate(&INIT, kit_root)
}

/// The interposed library (`libshort_calls.so`, `harness/short-calls`), which a program
/// loads with `LD_PRELOAD` to have its own socket calls cut short:
/// `HARNESS_SHORT_CALLS_LIB`, else built like `sandbox-init`.
pub fn interposed_library(kit_root: &Path) -> Result<PathBuf, String> {
    const LIBRARY: Companion = Companion {
        package: "short-calls",
        source: "harness/short-calls",
        file_name: "libshort_calls.so",
        build_what: "--lib",
        variable: "HARNESS_SHORT_CALLS_LIB",
    };
    companions::locate(&LIBRARY, kit_root)
}

/// What a program's working directory, `HOME` and `/tmp` may hold together: far more than
/// any lab writes (a 10 MB download, a zip of a folder), far less than a disk.
pub const DISK_LIMIT: u64 = 256 << 20;

/// The memory a program and everything it forks may use, unless `--memory-limit` says.
pub const DEFAULT_MEMORY_LIMIT: u64 = 1 << 30;

/// What a run gives every enclosure it makes: the layers to put around each program and
/// the memory cap. A value, not a process-wide setting, so that one process may grade
/// twice with two of them (a test, a program embedding the harness).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The layers each program runs inside: [`layers`], what this system allows, unless
    /// the caller gives fewer.
    pub layers: Arc<Layers>,
    /// The memory a program and everything it forks may use together, in bytes
    /// (`--memory-limit`), where the memory cgroup is on.
    pub memory_limit: u64,
}

impl Settings {
    /// Every layer this system allows ([`layers`], probed once per process) and a memory
    /// cap of [`DEFAULT_MEMORY_LIMIT`].
    pub fn probed() -> Settings {
        Settings {
            layers: layers(),
            memory_limit: DEFAULT_MEMORY_LIMIT,
        }
    }

    /// One line for a run's header: the layers in force, then those this system refused
    /// and why.
    pub fn summary(&self) -> String {
        let layers = &self.layers;
        let mut line = format!("sandbox: {}", layers.in_force(self.memory_limit).join(", "));
        let refused: Vec<String> = layers
            .refusals()
            .into_iter()
            .map(|(_, name, why)| format!("{name}: {why}"))
            .collect();
        if !refused.is_empty() {
            line += &format!(" (not here: {})", refused.join("; "));
        }
        line
    }
}

/// `1 GiB`, `64 MiB`, `512 KiB`, or `1000 bytes`: a size (a memory cap, an output cap) as
/// the header and the verdicts say it, in the largest unit that holds it whole.
pub fn size_text(bytes: u64) -> String {
    [(30, "GiB"), (20, "MiB"), (10, "KiB")]
        .into_iter()
        .find(|(shift, _)| bytes >= 1 << shift && bytes.is_multiple_of(1 << shift))
        .map_or_else(
            || format!("{bytes} bytes"),
            |(shift, unit)| format!("{} {unit}", bytes >> shift),
        )
}

/// A program's network where no namespace of the scenario's own holds it.
enum WardenRole<'p> {
    /// Its scenario has a network of its own (or nothing walls it).
    NotWalled,
    /// Walled to `ports`; `warden`: none, or one that copies (`false`) or owns (`true`)
    /// its datagram sockets.
    Walled {
        ports: &'p TcpPorts,
        warden: Option<bool>,
    },
}

/// One program's sandbox: its folder (`HOME`, its own `/tmp` and, unless the scenario or
/// the manifest names one, its working directory), sized where the disk layer is on, and
/// its cgroup. Dropping it removes both (the cgroup's processes killed first).
#[derive(Debug)]
pub struct Enclosure {
    /// Its folder's path, and the folder itself until [`Enclosure::remove_folder`].
    path: PathBuf,
    folder: Option<TempDir>,
    /// Whether a sized `tmpfs` is mounted on `folder`.
    sized: bool,
    cgroup: Option<cgroup::Leaf>,
    /// The run's layers and memory cap it was made with.
    settings: Settings,
    /// How many processes the memory cap had killed when the cgroup was released.
    memory_kills: u64,
    /// Whether `sandbox-init`'s watcher ended it for the disk cap.
    disk_watch_killed: bool,
    /// The most memory its processes had held when the cgroup was released.
    memory_peak: Option<u64>,
    /// The user of its own it runs as when the harness is root (`--user`, see [`users`]).
    user: Option<(u32, u32)>,
    /// That user, until [`Enclosure::release`] lets go of it ([`users::hold`]).
    user_held: Option<(u32, u32)>,
}

/// What [`Enclosure::command`] starts, and with what.
#[derive(Debug)]
pub struct Launch<'a> {
    /// The program (resolved: [`resolve_program`]) and its arguments.
    pub argv: &'a [OsString],
    /// Its working folder, which it may write.
    pub workdir: &'a Path,
    /// Other folders it may write (the test web site).
    pub writable: &'a [PathBuf],
    /// Folders it must read (its submission, its interpreter's installation).
    pub visible: &'a [PathBuf],
    /// Files of the harness put over the system's: (path in the view, file).
    pub replaced: &'a [(PathBuf, PathBuf)],
    /// A descriptor that receives the program's own exit and peak memory from
    /// `sandbox-init` (the caller keeps it open across exec).
    pub report_fd: Option<i32>,
    /// A file to which `sandbox-init`'s warden appends a byte per TCP `connect` the
    /// program makes, where a warden runs ([`Enclosure::warden_counts_connects`]; the
    /// caller keeps it open across exec): counted outside the program, which can neither
    /// reach the file nor connect past the warden's filter.
    pub connects_fd: Option<i32>,
    /// Variables added to the environment (`SSL_CERT_FILE`, `LD_PRELOAD`).
    pub environment: Vec<(OsString, OsString)>,
    /// Whether its address space is capped (not for a browser: V8 reserves far more than
    /// it uses).
    pub cap_address_space: bool,
    /// Where it shares the machine's loopback with other scenarios: its scenario's ports,
    /// the only TCP ports it may bind and connect to where Landlock's walls stand
    /// ([`TcpPorts`]). `None` where its scenario has a network of its own.
    pub tcp_ports: Option<&'a TcpPorts>,
    /// Where its scenario cuts its socket calls short: the short-call library's setting
    /// (`seed=N,max=M,...`), which `sandbox-init`'s tracer follows too where this system
    /// allows it ([`Layer::ShortCallTracer`]).
    pub short_calls: Option<&'a str>,
}

impl Enclosure {
    /// Makes the folder (a sized `tmpfs` where this thread can mount one privately) in
    /// `parent` and, where the layer is on, the cgroup, with the layers and memory cap of
    /// `settings`. `shared`: a folder outside its own that the program may write, whose
    /// programs share a user ([`users::for_folder`]).
    ///
    /// The folder is removed when the enclosure is dropped; `parent` is the caller's, for
    /// what a process killed before that leaves (SIGKILL runs no drop): a folder the
    /// caller removes at its exit, or its next run does. It must let the program's user
    /// pass (mode 0711) where the program sees this machine's paths (no view).
    pub fn new(
        parent: &Path,
        shared: Option<&Path>,
        settings: &Settings,
    ) -> std::io::Result<Enclosure> {
        let layers = &settings.layers;
        // Its own: without a view (a platform's container), no other program may list or
        // read what it writes there by its path.
        let folder = tempfile::Builder::new()
            .prefix("harness-sandbox-")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .tempdir_in(parent)?;
        let sized = layers.disk.is_ok() && view::in_private_mounts();
        if sized {
            view::mount_sized(folder.path(), DISK_LIMIT)?;
        }
        for part in ["home", "tmp", "work"] {
            std::fs::create_dir(folder.path().join(part))?;
        }
        // The program's /tmp is writable by everyone, as a machine's is.
        std::fs::set_permissions(
            folder.path().join("tmp"),
            std::os::unix::fs::PermissionsExt::from_mode(0o1777),
        )?;
        let cgroup = match &layers.cgroup {
            Ok(hierarchy) => Some(
                hierarchy
                    .leaf_with_caps(settings.memory_limit)
                    .map_err(std::io::Error::other)?,
            ),
            Err(_) => None,
        };
        let user = layers
            .own_user
            .is_ok()
            .then(|| shared.map_or_else(users::next, users::for_folder));
        if let Some((uid, _)) = user {
            users::hold(uid);
        }
        Ok(Enclosure {
            path: folder.path().to_owned(),
            folder: Some(folder),
            sized,
            cgroup,
            settings: settings.clone(),
            memory_kills: 0,
            disk_watch_killed: false,
            memory_peak: None,
            user,
            user_held: user,
        })
    }

    /// Whether the program runs as someone other than root: the harness is an ordinary
    /// user, or the program gets a user of its own. (Only where `sandbox-init` cannot be
    /// had does a root harness run programs as root; a browser then needs `--no-sandbox`.)
    pub fn not_as_root(&self) -> bool {
        !running_as_root() || self.user.is_some()
    }

    /// The sandbox's folder, which the program may write.
    pub fn folder(&self) -> &Path {
        &self.path
    }

    /// Its `HOME`.
    pub fn home(&self) -> PathBuf {
        self.path.join("home")
    }

    /// Writes the small internet's `/etc` files into its folder (see [`etc`]): what the
    /// view puts over the machine's, for [`Enclosure::command`].
    pub fn etc_files(&self, ca_file: Option<&Path>) -> std::io::Result<Vec<(PathBuf, PathBuf)>> {
        let folder = self.path.join("etc");
        let mut replaced = etc::write_into(&folder, ca_file)?;
        if let Some(user) = self.user {
            replaced.extend(users::account_files(&folder, user, &self.home())?);
        }
        Ok(replaced)
    }

    /// The bundle of CA certificates it trusts, written by [`Enclosure::etc_files`].
    pub fn trusted_bundle(&self) -> PathBuf {
        etc::bundle_in(&self.path.join("etc"))
    }

    /// A working directory of its own, for a program whose scenario and manifest name none.
    pub fn work(&self) -> PathBuf {
        self.path.join("work")
    }

    /// The memory cap its processes share, in bytes (where the memory cgroup is on).
    pub fn memory_limit(&self) -> u64 {
        self.settings.memory_limit
    }

    /// The disk cap of its own folders, in bytes.
    pub fn disk_limit(&self) -> u64 {
        DISK_LIMIT
    }

    /// Counts an end of the program by `sandbox-init`'s watcher for the disk cap.
    pub fn count_disk_watch_kill(&mut self) {
        self.disk_watch_killed = true;
    }

    /// Whether `sandbox-init`'s watcher ended the program for the disk cap.
    pub fn disk_watch_killed(&self) -> bool {
        self.disk_watch_killed
    }

    /// Whether the process cap stopped one of its forks.
    pub fn cap_was_hit(&self) -> bool {
        self.cgroup.as_ref().is_some_and(cgroup::Leaf::cap_was_hit)
    }

    /// How many of its processes the kernel killed for going over the memory cap, so far
    /// (also after the cgroup is released).
    pub fn memory_kills(&self) -> u64 {
        match &self.cgroup {
            Some(leaf) => leaf.memory_kills().max(self.memory_kills),
            None => self.memory_kills,
        }
    }

    /// `sandbox-init`'s memory watcher ended its processes for going over the cap, where
    /// no memory cgroup caps them (its report says so).
    pub fn count_memory_watch_kill(&mut self) {
        self.memory_kills += 1;
    }

    /// The most memory its processes held at once, in bytes, so far (also after the
    /// cgroup is released); `None` without a memory cgroup.
    pub fn memory_peak(&self) -> Option<u64> {
        let now = self.cgroup.as_ref().and_then(cgroup::Leaf::memory_peak);
        now.max(self.memory_peak)
    }

    /// Every process in its cgroup (whatever the program forked, `setsid` or not); `None`
    /// without a cgroup, or once released.
    pub fn processes(&self) -> Option<Vec<i32>> {
        let leaf = self.cgroup.as_ref()?;
        let listed = std::fs::read_to_string(leaf.procs_file()).ok()?;
        listed.lines().map(|pid| pid.trim().parse().ok()).collect()
    }

    /// Kills whatever is left in its cgroup (a program without a PID namespace) and, where
    /// no PID namespace did, every process of its user of its own once no other program
    /// runs as that user: a daemon that left its process group and its `sandbox-init`
    /// (killed by the harness) included.
    pub fn release(&mut self) {
        if let Some(leaf) = self.cgroup.take() {
            self.memory_kills = self.memory_kills.max(leaf.memory_kills());
            self.memory_peak = self.memory_peak.max(leaf.memory_peak());
            leaf.remove();
        }
        if let Some((uid, _)) = self.user_held.take()
            && users::let_go(uid)
        {
            end_user(&self.settings.layers, uid);
        }
    }

    /// The command that starts `launch.argv` (its program already resolved) in this
    /// sandbox: `sandbox-init` with the layers on, or the program itself where there is
    /// none; in `launch.workdir`, in a session of its own (so a process group of its own,
    /// which the harness signals, and no controlling terminal: `/dev/tty` is not the
    /// grader's), with its [`limits`] set between fork and exec and an environment of
    /// [`Enclosure::environment`]'s list and `launch.environment` only. The caller sets its
    /// standard streams, and may add its own `pre_exec` (a network namespace to enter),
    /// which runs after the limits. [`Enclosure::spawn`] starts the same without a fork.
    ///
    /// When the program runs as a user of its own, its sandbox's folder (`HOME`, `/tmp`,
    /// its own working folder) becomes that user's now, after the harness has written what
    /// it puts there, before the program runs. The other folders it may write (the test
    /// web site, a working folder in its submission's private copy) were opened to all
    /// users when the harness made them ([`open_to_all`]), before any program ran: a
    /// scenario's programs share them, and only their views show them.
    pub fn command(&self, launch: Launch<'_>) -> std::io::Result<Command> {
        use std::os::unix::process::CommandExt;
        let limits = self.limits(&launch);
        let mut command = self.sandboxed(&launch, &[])?;
        self.set_environment(&mut command, launch);
        // SAFETY: only setsid and setrlimit, which are async-signal-safe; the limits were
        // worked out before the fork.
        unsafe {
            command.pre_exec(move || {
                if libc::setsid() < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                for limit in &limits {
                    limit.set();
                }
                Ok(())
            });
        }
        Ok(command)
    }

    /// [`Enclosure::command`]'s program started with nothing between fork and exec, so
    /// without copying the harness ([`spawn`]): `sandbox-init` sets the limits itself
    /// (`--rlimit`), the session is `posix_spawn`'s, and `kept` (the report's descriptor)
    /// stays open in it under the same numbers. Only through `sandbox-init`
    /// ([`Enclosure::starts_through_init`]); its stdout and stderr are piped.
    pub fn spawn(
        &self,
        launch: Launch<'_>,
        input: spawn::Input,
        kept: &[std::os::fd::RawFd],
    ) -> std::io::Result<spawn::Spawned> {
        if !self.starts_through_init() {
            return Err(std::io::Error::other(
                "a program starts without a fork only through sandbox-init",
            ));
        }
        let limits = self.limits(&launch);
        let mut command = self.sandboxed(&launch, &limits)?;
        self.set_environment(&mut command, launch);
        spawn::without_fork(&command, input, kept)
    }

    /// The limits of a program started by `launch`. Where no cgroup caps its tasks,
    /// `RLIMIT_NPROC` does: per user, so as tight as the cgroup's cap where the program
    /// has a user of its own, looser where it shares the harness's (whose own threads
    /// count too).
    fn limits(&self, launch: &Launch<'_>) -> Vec<limits::Limit> {
        let task_cap = match (&self.settings.layers.cgroup, self.user) {
            (Ok(_), _) => None,
            (Err(_), Some(_)) => Some(u64::from(cgroup::MAX_TASKS)),
            (Err(_), None) => Some(limits::FALLBACK_NPROC),
        };
        limits::of_a_program(task_cap, launch.cap_address_space)
    }

    /// `command`'s working folder and its whole environment: [`Enclosure::environment`]'s
    /// and `launch.environment`.
    fn set_environment(&self, command: &mut Command, launch: Launch<'_>) {
        let mut environment = self.environment(Path::new(&launch.argv[0]));
        if let Some(moved) = self.moved_tmp(&launch) {
            environment.push((FILES_VARIABLE.into(), moved.into()));
        }
        for (name, value) in launch.environment {
            // The interposed library's files: the caller's (the SSH pack's remote files)
            // beside the sandbox's own `/tmp`.
            match environment.iter_mut().find(|(known, _)| *known == name) {
                Some((_, known)) if name == FILES_VARIABLE => {
                    known.push(",");
                    known.push(value);
                }
                _ => environment.push((name, value)),
            }
        }
        command
            .current_dir(launch.workdir)
            .env_clear()
            .envs(environment);
    }

    /// Without a view, a program that hard-codes `/tmp` finds its own there where the
    /// interposed library enters it (`short-calls`' `files`: `folder=/tmp>TMP`); one it
    /// cannot enter meets Landlock's refusal, as before. The folders the program is given
    /// that lie in `/tmp` (the harness's temporary folders, its working folder, its own
    /// `tmp` itself) stay where they are (`keep=/tmp/NAME`). `None` with a view, or where a
    /// path cannot be passed (a comma in it).
    fn moved_tmp(&self, launch: &Launch<'_>) -> Option<String> {
        if self.settings.layers.mounts.is_ok() {
            return None;
        }
        let own = self.folder().join("tmp");
        let mut words = vec![format!("folder=/tmp>{}", own.to_str()?)];
        let given = [self.folder(), launch.workdir]
            .into_iter()
            .chain(launch.writable.iter().map(PathBuf::as_path))
            .chain(launch.visible.iter().map(PathBuf::as_path));
        for folder in given {
            let mut parts = folder.components();
            let top = match (parts.next(), parts.next(), parts.next()) {
                (Some(std::path::Component::RootDir), Some(tmp), Some(name))
                    if tmp.as_os_str() == "tmp" =>
                {
                    Path::new("/tmp").join(name)
                }
                _ => continue,
            };
            let word = format!("keep={}", top.to_str()?);
            if !words.contains(&word) {
                words.push(word);
            }
        }
        let setting = words.join(",");
        (setting.matches(',').count() + 1 == words.len()).then_some(setting)
    }

    /// Whether its programs start through `sandbox-init` (which then reports how they
    /// ended), rather than directly where this machine allows no layer at all.
    pub fn starts_through_init(&self) -> bool {
        self.settings.layers.init.is_ok()
    }

    /// Whether `sandbox-init`'s warden runs for a program walled to `tcp_ports`, and so
    /// counts its TCP `connect` calls into [`Launch::connects_fd`].
    pub fn warden_counts_connects(&self, tcp_ports: Option<&TcpPorts>) -> bool {
        matches!(
            self.warden_role(tcp_ports),
            WardenRole::Walled {
                warden: Some(_),
                ..
            }
        )
    }

    /// How a program walled to `tcp_ports` meets the network: walled by Landlock where
    /// the scenario shares the loopback (with a view too, on a machine that allows mount
    /// namespaces and not network ones), and with which warden.
    fn warden_role<'p>(&self, tcp_ports: Option<&'p TcpPorts>) -> WardenRole<'p> {
        let layers = &self.settings.layers;
        let views_or_walls = layers.mounts.is_ok() || layers.walls();
        let network_walls = layers.walls()
            || layers
                .landlock
                .as_ref()
                .is_ok_and(|abi| *abi >= LANDLOCK_NETWORK);
        let Some(ports) = tcp_ports.filter(|_| views_or_walls && network_walls) else {
            return WardenRole::NotWalled;
        };
        let warden = match &layers.warden {
            Ok(Warden::Copies) => Some(false),
            Ok(Warden::Owner(_)) if !ports.unix_sockets() => Some(true),
            // A program that needs unix sockets of its own (the browser, whose processes
            // pass descriptors with `sendmsg`, which the owning warden's filter refuses):
            // as where no warden runs. Where none walls its UDP, a program that needs none
            // gets none; nor a unix socket of its own, whose named peer no warden checks.
            Ok(Warden::Owner(_)) | Err(_) => None,
        };
        WardenRole::Walled { ports, warden }
    }

    /// [`Enclosure::command`]'s program and arguments: `sandbox-init` and its options,
    /// `limits` among them (`--rlimit`, which it sets first thing).
    fn sandboxed(&self, launch: &Launch<'_>, limits: &[limits::Limit]) -> std::io::Result<Command> {
        let Launch {
            argv,
            workdir,
            writable,
            visible,
            replaced,
            report_fd,
            connects_fd,
            tcp_ports,
            short_calls,
            ..
        } = *launch;
        let layers = &self.settings.layers;
        let Ok(init) = &layers.init else {
            let mut command = Command::new(&argv[0]);
            command.args(&argv[1..]);
            return Ok(command);
        };
        if let Some(user) = self.user {
            // Its own folder whole (the view shows the `/etc` files in it read-only).
            users::hand_over(&self.path, user)?;
        }
        let mut command = Command::new(init);
        for limit in limits {
            command.arg("--rlimit").arg(limit.argument());
        }
        if let Some(fd) = report_fd {
            command.arg("--report-fd").arg(fd.to_string());
        }
        if let Some(leaf) = &self.cgroup {
            for procs in leaf.procs_files() {
                command.arg("--cgroup-procs").arg(procs);
            }
        }
        if let Some(setting) = short_calls.filter(|_| layers.tracer.is_ok()) {
            command.arg("--trace-short-calls").arg(setting);
        }
        // Where no memory cgroup caps what it forks, `sandbox-init` watches it.
        if layers.memory_watched() {
            command
                .arg("--memory-watch")
                .arg(self.settings.memory_limit.to_string());
        }
        // What its folders may hold, watched by `sandbox-init` where no sized `tmpfs` holds
        // them: its own folder where none could be sized, and wherever it is, a working
        // folder or another it may write outside it (in its submission's private copy, the
        // test web site), which no `tmpfs` holds. The cap counts what they gain from the
        // program's start.
        if layers.init.is_ok() {
            let mut folders: Vec<&Path> = Vec::new();
            if !self.sized {
                folders.push(&self.path);
            }
            for dir in std::iter::once(workdir).chain(writable.iter().map(PathBuf::as_path)) {
                // Each byte counted once: no folder inside another, none inside its own.
                let counted = |dir: &Path| {
                    dir.starts_with(&self.path)
                        || folders.iter().any(|known| dir.starts_with(known))
                };
                if dir.exists() && !counted(dir) {
                    folders.retain(|known| !known.starts_with(dir));
                    folders.push(dir);
                }
            }
            if !folders.is_empty() {
                command.arg("--disk-watch").arg(DISK_LIMIT.to_string());
                for dir in folders {
                    command.arg("--disk-folder").arg(dir);
                }
            }
        }
        // The folders it may see and write: a view of them, or Landlock's walls around
        // them where no view can be built.
        if layers.mounts.is_ok() || layers.walls() {
            command
                .arg(if layers.mounts.is_ok() {
                    "--view"
                } else {
                    "--landlock"
                })
                .arg("--tmp")
                .arg(self.folder().join("tmp"));
            // On a shared loopback its network is walled to the scenario's ports with a view
            // too (a machine that allows mount namespaces and not network ones).
            match self.warden_role(tcp_ports) {
                WardenRole::NotWalled => {}
                WardenRole::Walled { ports, warden } => {
                    command.arg("--tcp-ports").arg(ports.argument());
                    match warden {
                        Some(owns) => {
                            // Its datagram sockets the warden's, and no unix socket of its
                            // own, whose named peer this warden does not check.
                            if owns {
                                command.arg("--warden-owns").arg("--no-unix-sockets");
                            }
                            if let Some(fd) = connects_fd {
                                command.arg("--count-connects-fd").arg(fd.to_string());
                            }
                        }
                        None => {
                            command.arg("--no-warden");
                            if !ports.datagrams() {
                                command.arg("--tcp-only");
                            }
                            if !ports.unix_sockets() {
                                command.arg("--no-unix-sockets");
                            }
                        }
                    }
                }
            }
            // A folder the scenario keeps missing on purpose (`dir = { missing = true }`)
            // is missing in the view too: the program meets `ENOENT`, as it would outside.
            let extra = writable.iter().filter(|dir| dir.exists());
            for dir in [workdir, self.folder()]
                .into_iter()
                .chain(extra.map(PathBuf::as_path))
            {
                command.arg("--writable").arg(dir);
            }
            for dir in visible.iter().filter(|dir| dir.exists()) {
                command.arg("--visible").arg(dir);
            }
            for (path, source) in replaced {
                let mut pair = path.as_os_str().to_owned();
                pair.push("=");
                pair.push(source);
                command.arg("--replace").arg(pair);
            }
        }
        command.arg("--workdir").arg(workdir);
        if layers.pid_namespace.is_ok() {
            command.arg("--pid-namespace");
        }
        if let Some((uid, gid)) = self.user {
            command.arg("--user").arg(format!("{uid}:{gid}"));
        }
        if layers.seccomp.is_ok() {
            command.arg("--seccomp");
            if tcp_ports.is_some_and(TcpPorts::no_internet) {
                command.arg("--no-internet");
            }
        }
        command.arg("--").args(argv);
        Ok(command)
    }

    /// The program's whole environment: nothing of the harness's own.
    ///
    /// - `PATH`: the folder its program was found in, then the system's folders;
    /// - `HOME`: the sandbox's `home`; `TMPDIR`: `/tmp` (its own where the file system
    ///   layer is on, else the sandbox's `tmp`);
    /// - `LANG=C.UTF-8`;
    /// - `PYTHONUNBUFFERED=1`: Python's stdout to a pipe is block-buffered, so a server's
    ///   output would reach the harness only when it exits (on a terminal, where students
    ///   try their programs, it is line-buffered; unbuffered is closest);
    /// - `PYTHONDONTWRITEBYTECODE=1`: no `__pycache__` in the submission's folder;
    /// - `JDK_JAVA_OPTIONS`: see [`JAVA_OPTIONS`]; without a view, also the trust store
    ///   [`Enclosure::etc_files`] wrote (`javax.net.ssl.trustStore`).
    ///
    /// The caller adds what a scenario needs (`SSL_CERT_FILE`, `LD_PRELOAD`) in
    /// [`Launch::environment`].
    fn environment(&self, program: &Path) -> Vec<(OsString, OsString)> {
        let mut path = OsString::new();
        if let Some(dir) = program.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            path.push(dir);
            path.push(":");
        }
        path.push(SYSTEM_PATH);
        let tmp = if self.settings.layers.mounts.is_ok() {
            PathBuf::from("/tmp")
        } else {
            self.folder().join("tmp")
        };
        // Java reads its own trust store, not the bundle `SSL_CERT_FILE` names: where no
        // view puts the one holding the test CA at its usual place, it is named here.
        let mut java_options = OsString::from(JAVA_OPTIONS);
        let java_store = etc::java_store_in(&self.path.join("etc"));
        if self.settings.layers.mounts.is_err() && java_store.is_file() {
            java_options.push(" -Djavax.net.ssl.trustStore=");
            java_options.push(&java_store);
        }
        // Without a view, the machine's `/tmp` is not its own (Landlock keeps it out):
        // Java's temporary files go to its own, and no performance-data file is tried there.
        if self.settings.layers.mounts.is_err() {
            java_options.push(" -XX:-UsePerfData -Djava.io.tmpdir=");
            java_options.push(&tmp);
        }
        let mut environment: Vec<(OsString, OsString)> = Vec::new();
        environment.extend([
            ("PATH".into(), path),
            ("HOME".into(), self.home().into()),
            ("TMPDIR".into(), tmp.into()),
            ("LANG".into(), "C.UTF-8".into()),
            ("PYTHONUNBUFFERED".into(), "1".into()),
            ("PYTHONDONTWRITEBYTECODE".into(), "1".into()),
            ("JDK_JAVA_OPTIONS".into(), java_options),
        ]);
        environment
    }
}

impl Enclosure {
    /// Removes its folder now, with what the program wrote there (its `tmpfs` detached
    /// first). The harness calls it as soon as the program is killed, on the scenario's
    /// own thread, rather than leave it to whoever drops the enclosure last: the thread
    /// that reaps the program may not get to run before the harness exits.
    pub fn remove_folder(&mut self) {
        if let Some(folder) = self.folder.take() {
            if self.sized {
                view::unmount(folder.path());
            }
            let _ = folder.close();
        }
    }
}

impl Drop for Enclosure {
    fn drop(&mut self) {
        self.release();
        self.remove_folder();
    }
}

/// Ends every process of `uid` (`sandbox-init --end-user`) where no PID namespace did, as
/// a root harness may (an ordinary user's programs have no user of their own).
fn end_user(layers: &Layers, uid: u32) {
    if layers.pid_namespace.is_err()
        && let Ok(init) = &layers.init
    {
        let _ = Command::new(init)
            .arg("--end-user")
            .arg(uid.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status();
    }
    users::ended(uid);
}

/// Ends every process of every user of its own a program ran as that is not ended yet:
/// what the harness calls when it stops (its end, Ctrl-C, a panic), so that a daemon of a
/// program whose enclosure was never released (the harness stopped first) dies with it
/// where no PID namespace ends it.
pub fn end_every_program() {
    let not_ended = users::take_not_ended();
    if not_ended.is_empty() {
        return;
    }
    let layers = layers();
    for uid in not_ended {
        end_user(&layers, uid);
    }
}

/// What the `java` launcher adds to a Java program's options (`JDK_JAVA_OPTIONS`, read
/// by the launcher of JDK 9 and later, which says so on stderr): the serial collector and
/// the first compiler only. A JVM's peak memory otherwise grows by tens of MiB as its
/// optimizing compiler and its parallel collector warm up on a long transfer, whatever
/// the program holds; with these, what the peak-memory scenarios measure is the program's
/// buffers. It also starts about twice as fast.
const JAVA_OPTIONS: &str = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1";

/// The interposed library's variable naming the paths it moves (`short-calls`' `files`):
/// the SSH pack's remote files, and `/tmp` where no view is built.
pub const FILES_VARIABLE: &str = "SOCKET_LAB_FILES";

/// The system's folders of programs: the `PATH` a program runs with (after its own
/// folder).
pub const SYSTEM_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Where `program` is: as given when it names a path (relative ones from `workdir`), else
/// the first match on the `PATH` programs run with (so that `python3 x.py` is the
/// interpreter `#!/usr/bin/env python3` in `x.py` would be), else on the harness's own
/// `PATH` (an interpreter installed for the user only). A version manager's shim first
/// on the user's `PATH` (pyenv's `python3` is a shell script that finds the interpreter
/// on each start, 75 ms) is then taken only where the system has no such program, and is
/// resolved to the interpreter it would run (`shims`).
///
/// `script` is the program's first argument (`x.py` of `python2 x.py`): a version manager
/// looks for its version file in the script's folder.
pub fn resolve_program(
    program: &str,
    workdir: &Path,
    script: Option<&str>,
) -> std::io::Result<PathBuf> {
    let own = std::env::var_os("PATH").unwrap_or_default();
    let found = resolve_on(program, workdir, &own)?;
    if program.contains('/') {
        return Ok(found);
    }
    let version_folder = script
        .map(|script| workdir.join(script))
        .filter(|path| path.is_file())
        .and_then(|path| path.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| workdir.to_owned());
    // A version manager's shim runs the interpreter the user's environment picks, which
    // the sandbox's clean one does not have: the harness picks it now.
    Ok(shims::real_program(&found, program, &version_folder).unwrap_or(found))
}

/// [`resolve_program`] with the harness's `PATH` given.
fn resolve_on(program: &str, workdir: &Path, own: &std::ffi::OsStr) -> std::io::Result<PathBuf> {
    if program.contains('/') {
        let path = workdir.join(program);
        return if path.exists() {
            Ok(path)
        } else {
            Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{program}: no such file"),
            ))
        };
    }
    // The user's own `PATH` only for a language's interpreter (pyenv's `python2`): a
    // program found there brings its installation folder into the view, and a user's
    // folders hold more than programs (`~/.cargo/credentials.toml` beside `cargo`).
    let own = std::env::split_paths(own).filter(|_| is_interpreter(program));
    std::env::split_paths(SYSTEM_PATH)
        .chain(own)
        .map(|dir| dir.join(program))
        .find(|path| shims::runnable(path))
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{program}: not found on PATH"),
            )
        })
}

/// Whether `program` is the name of an interpreter of a language students write labs in
/// (`python3`, `python2.7`, `pypy3`, `java`, `node`...), which a user may have installed for
/// itself only.
fn is_interpreter(program: &str) -> bool {
    const INTERPRETERS: [&str; 7] = ["java", "javac", "node", "nodejs", "ruby", "perl", "php"];
    program.starts_with("python") || program.starts_with("pypy") || INTERPRETERS.contains(&program)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A folder holding an executable file `name`.
    fn folder_with_program(name: &str) -> tempfile::TempDir {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join(name);
        std::fs::write(&path, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        folder
    }

    #[test]
    fn sizes_read_as_written() {
        assert_eq!(size_text(1 << 30), "1 GiB");
        assert_eq!(size_text(64 << 20), "64 MiB");
        assert_eq!(size_text(116 << 20), "116 MiB");
        assert_eq!(size_text(64 << 10), "64 KiB");
        assert_eq!(size_text(1000), "1000 bytes");
    }

    #[test]
    fn a_program_the_system_has_is_the_systems_even_when_the_users_path_has_it_first() {
        // `sh` is in /bin or /usr/bin on every system the kit runs on.
        let user = folder_with_program("sh");
        let found = resolve_on("sh", Path::new("/"), user.path().as_os_str()).unwrap();
        assert!(!found.starts_with(user.path()), "{}", found.display());
    }

    #[test]
    fn an_interpreter_only_the_user_has_is_found_on_the_users_path() {
        let user = folder_with_program("python-kit-test-only-here");
        let found = resolve_on(
            "python-kit-test-only-here",
            Path::new("/"),
            user.path().as_os_str(),
        )
        .unwrap();
        assert_eq!(found, user.path().join("python-kit-test-only-here"));
        let missing = resolve_on(
            "python-kit-test-nowhere",
            Path::new("/"),
            user.path().as_os_str(),
        );
        assert!(missing.is_err());
    }

    #[test]
    fn another_program_only_the_user_has_is_not_looked_for_there() {
        // `cargo-clippy` in `~/.cargo/bin` would bring `~/.cargo` into the view.
        let user = folder_with_program("kit-test-tool");
        let found = resolve_on("kit-test-tool", Path::new("/"), user.path().as_os_str());
        assert!(found.is_err(), "{found:?}");
    }
}
