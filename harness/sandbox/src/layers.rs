//! Which layers of the sandbox this system allows, probed once per process by starting
//! `sandbox-init` inside each, and what a run's header says of them: those in force, and
//! those refused and why ([`Layers::in_force`], [`Layers::refusals`]).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};

use tempfile::TempDir;

use crate::{DISK_LIMIT, INIT, cgroup, companions, limits, size_text, users, view};

/// The layers this system allows, probed once ([`layers`]), or none ([`Layers::none`]).
#[derive(Debug, Clone)]
pub struct Layers {
    /// `sandbox-init`, or why it cannot be had.
    pub(crate) init: Result<PathBuf, String>,
    /// A PID namespace per program, or why not.
    pub(crate) pid_namespace: Result<(), String>,
    /// A view of the file system of its own, or why not.
    pub(crate) mounts: Result<(), String>,
    /// A `pids` cgroup per program, or why not.
    pub(crate) cgroup: Result<cgroup::Hierarchy, String>,
    /// A sized `tmpfs` per program for its folders, or why not.
    pub(crate) disk: Result<(), String>,
    /// The seccomp filter of `sandbox-init` (`init/src/seccomp.rs`), or why
    /// not.
    pub(crate) seccomp: Result<(), String>,
    /// A user of its own for each program (the harness is root), or why not: `Err` also
    /// when the harness is an ordinary user, whose programs run as that user.
    pub(crate) own_user: Result<(), String>,
    /// Landlock's walls (`init/src/walls.rs`) where no view can be built: the kernel's
    /// Landlock ABI, or why not.
    pub(crate) landlock: Result<i64, String>,
    /// `sandbox-init`'s tracer of a program's send and receive calls, which cuts them
    /// short where a scenario asks (`init/src/trace.rs`), or why not.
    pub(crate) tracer: Result<(), String>,
    /// `sandbox-init`'s warden, which walls a program's UDP (and makes every call naming
    /// an address) on a shared loopback (`init/src/warden`), and how; or why not.
    pub(crate) warden: Result<Warden, String>,
}

/// One layer a caller may need (see [`Layers::allows`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// Programs start from `sandbox-init` (no privilege, its report of the exit).
    Init,
    /// A PID namespace per program.
    PidNamespace,
    /// A file-system view of its own.
    View,
    /// A `pids` cgroup per program.
    Cgroup,
    /// A `memory` cgroup per program (its memory capped).
    MemoryCap,
    /// Sized folders, mounted in a mount namespace of the harness's thread.
    Disk,
    /// A tracer that cuts a program's own send and receive calls short, whatever makes
    /// them (a static program, a system call of its own machine code).
    ShortCallTracer,
}

/// The layers this system allows, probed the first time they are asked for and kept for
/// the rest of the process: probing starts `sandbox-init` inside each layer, which takes
/// a while, and what the system allows does not change while the harness runs. A run
/// takes them as its default ([`Settings::probed`]); it may give fewer.
pub fn layers() -> Arc<Layers> {
    static LAYERS: OnceLock<Arc<Layers>> = OnceLock::new();
    Arc::clone(LAYERS.get_or_init(|| Arc::new(probe())))
}

fn probe() -> Layers {
    if std::env::var_os("HARNESS_SANDBOX").is_some_and(|value| value == "off") {
        return Layers::none("HARNESS_SANDBOX=off");
    }
    let init = companions::locate(&INIT, &companions::own_workspace());
    let Ok(path) = &init else {
        return Layers {
            init,
            ..Layers::none("no sandbox-init")
        };
    };
    let scratch = tempfile::Builder::new().prefix("harness-probe-").tempdir();
    let scratch = scratch.as_ref().map(TempDir::path);
    let no_scratch = |error: &std::io::Error| format!("cannot make a folder to try it: {error}");
    // Each layer is tried by a `sandbox-init` of its own, all at once: one after another
    // they cost a run 200 ms before its first scenario.
    let (pid_namespace, mounts, cgroup, disk, seccomp, own_user, landlock, tracer, warden) =
        std::thread::scope(|scope| {
            let pid_namespace = scope.spawn(|| try_layer(path, &["--pid-namespace".into()]));
            let mounts = scope.spawn(|| match scratch {
                Ok(scratch) => try_layer(
                    path,
                    &[
                        "--view".into(),
                        "--writable".into(),
                        scratch.into(),
                        "--visible".into(),
                        path.parent().unwrap_or(Path::new("/")).into(),
                    ],
                ),
                Err(error) => Err(no_scratch(error)),
            });
            let cgroup = scope.spawn(|| {
                cgroup::Hierarchy::find().and_then(|hierarchy| {
                    let leaf = hierarchy.leaf()?;
                    let tried =
                        try_layer(path, &["--cgroup-procs".into(), leaf.procs_file().into()]);
                    leaf.remove();
                    tried.map(|()| hierarchy)
                })
            });
            let disk = scope.spawn(view::probe_private_mounts);
            let seccomp = scope.spawn(|| try_layer(path, &["--seccomp".into()]));
            let own_user = scope.spawn(|| {
                if running_as_root() {
                    let (uid, gid) = users::next();
                    try_layer(path, &["--user".into(), format!("{uid}:{gid}").into()])
                } else {
                    Err(
                        "the harness runs as an ordinary user: its programs run as that user"
                            .into(),
                    )
                }
            });
            let landlock = scope.spawn(|| match scratch {
                Ok(scratch) => probe_landlock(path, scratch),
                Err(error) => Err(no_scratch(error)),
            });
            // As a program runs: filtered, and as a user of its own where the harness is
            // root (a Yama `ptrace_scope` of 2 or more, or a platform's seccomp profile,
            // refuses it).
            let tracer = scope.spawn(|| {
                // How a class shows what a platform that refuses tracing grades like.
                if std::env::var_os("HARNESS_SANDBOX_TRACER").is_some_and(|value| value == "off") {
                    return Err("HARNESS_SANDBOX_TRACER=off".to_string());
                }
                let mut arguments: Vec<OsString> = vec![
                    "--seccomp".into(),
                    "--trace-short-calls".into(),
                    "seed=1,max=16".into(),
                ];
                if running_as_root() {
                    let (uid, gid) = users::next();
                    arguments.extend(["--user".into(), format!("{uid}:{gid}").into()]);
                }
                try_layer(path, &arguments)
            });
            let warden = scope.spawn(|| {
                // How a class shows what a platform that refuses the warden grades like
                // (`off`), or one that refuses it a copy of a program's sockets (`owner`).
                let asked = std::env::var_os("HARNESS_SANDBOX_WARDEN");
                if asked.as_ref().is_some_and(|value| value == "off") {
                    return Err("HARNESS_SANDBOX_WARDEN=off".to_string());
                }
                probe_warden(path, asked.is_some_and(|value| value == "owner"))
            });
            let joined = "a layer's probe panicked";
            (
                pid_namespace.join().expect(joined),
                mounts.join().expect(joined),
                cgroup.join().expect(joined),
                disk.join().expect(joined),
                seccomp.join().expect(joined),
                own_user.join().expect(joined),
                landlock.join().expect(joined),
                tracer.join().expect(joined),
                warden.join().expect(joined),
            )
        });
    let mounts = view_with_its_own_proc(mounts, &pid_namespace, &own_user);
    Layers {
        init,
        pid_namespace,
        mounts,
        cgroup,
        disk,
        seccomp,
        own_user,
        landlock,
        tracer,
        warden,
    }
}

/// The view, where it can stand: without a PID namespace of its own a program's view holds
/// the machine's `/proc`, and a program of the harness's own user (an ordinary user's
/// harness: no user of its own) could reach the harness's `/proc/PID/root` and `fd` past the
/// view. There Landlock's walls stand instead of a view (its domain refuses a program the
/// `/proc` links of processes outside it).
fn view_with_its_own_proc(
    mounts: Result<(), String>,
    pid_namespace: &Result<(), String>,
    own_user: &Result<(), String>,
) -> Result<(), String> {
    match (mounts, pid_namespace, own_user) {
        (Ok(()), Err(why), Err(_)) => Err(format!(
            "no PID namespace ({why}): a view would show programs of the harness's own user the machine's /proc"
        )),
        (mounts, _, _) => mounts,
    }
}

/// How `sandbox-init`'s warden reaches a program's sockets on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Warden {
    /// It copies the program's descriptor at each call: every call naming an address, of
    /// every family, is its.
    Copies,
    /// It makes and keeps the program's datagram sockets (`sandbox-init --warden-owns`),
    /// where this machine refuses it a copy of the program's descriptors: why.
    Owner(String),
}

/// Whether `sandbox-init`'s warden can work here (`sandbox-init --warden-probe`), and how;
/// or why not. `owner`: try only the way that owns the program's datagram sockets.
fn probe_warden(init: &Path, owner: bool) -> Result<Warden, String> {
    let output = Command::new(init)
        .arg("--warden-probe")
        .args(owner.then_some("--warden-owns"))
        .stdin(Stdio::null())
        .output()
        .map_err(|error| format!("cannot run {}: {error}", init.display()))?;
    let said = String::from_utf8_lossy(&output.stdout);
    if output.status.success() {
        return match said.split_once('\n') {
            Some(("owner", why)) => Ok(Warden::Owner(why.trim().to_owned())),
            _ if said.trim() == "copies" => Ok(Warden::Copies),
            _ => Err(format!(
                "sandbox-init's warden probe said {:?}",
                said.trim()
            )),
        };
    }
    let why = said.trim().to_owned();
    Err(if why.is_empty() {
        "sandbox-init cannot say".to_owned()
    } else {
        why
    })
}

/// The kernel's Landlock ABI (`sandbox-init --landlock-abi`), once `sandbox-init` has
/// walled a program in with it; or why not.
fn probe_landlock(init: &Path, scratch: &Path) -> Result<i64, String> {
    let output = Command::new(init)
        .arg("--landlock-abi")
        .stdin(Stdio::null())
        .output()
        .map_err(|error| format!("cannot run {}: {error}", init.display()))?;
    let abi: i64 = String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    if abi < 1 {
        return Err("this kernel has no Landlock (or it is not enabled at boot)".into());
    }
    try_layer(
        init,
        &["--landlock".into(), "--writable".into(), scratch.into()],
    )?;
    Ok(abi)
}

/// The first Landlock ABI that scopes abstract unix sockets and signals (Linux 6.12).
pub(crate) const LANDLOCK_SCOPES: i64 = 6;

/// The first Landlock ABI with rules for TCP ports (Linux 6.7).
pub(crate) const LANDLOCK_NETWORK: i64 = 4;

/// The mode of a folder the harness makes to hold what programs of a submission share
/// (its private copy): `0700` where every program gets a file-system view (which makes the
/// folders above the copy anew, so the program reaches it whatever their modes), else, for
/// a root harness whose programs run as users of their own, `0711`: they pass through to
/// the copy by its unguessable name, and cannot list the folder.
pub fn private_folder_mode() -> u32 {
    static MODE: OnceLock<u32> = OnceLock::new();
    *MODE.get_or_init(|| {
        if !running_as_root() || view::probe_private_mounts().is_ok() {
            0o700
        } else {
            0o711
        }
    })
}

/// Whether the harness runs as root.
pub(crate) fn running_as_root() -> bool {
    // SAFETY: geteuid only reads our id.
    unsafe { libc::geteuid() == 0 }
}

/// Runs `sandbox-init ARGUMENTS -- true`: whether the system allows it. (`true` rather
/// than `sandbox-init --noop`: as a user of its own, the program may not enter the folder
/// the kit was built in, which only the file-system view would show it.)
fn try_layer(init: &Path, arguments: &[OsString]) -> Result<(), String> {
    let noop: Vec<OsString> = match ["/bin/true", "/usr/bin/true"]
        .into_iter()
        .find(|path| Path::new(path).is_file())
    {
        Some(program) => vec![program.into()],
        None => vec![init.into(), "--noop".into()],
    };
    let output = Command::new(init)
        .args(arguments)
        .arg("--")
        .args(&noop)
        .stdin(Stdio::null())
        .output()
        .map_err(|error| format!("cannot run {}: {error}", init.display()))?;
    if output.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&output.stderr);
    let said = said.trim().trim_start_matches("sandbox-init: ");
    Err(if said.is_empty() {
        format!("refused ({})", output.status)
    } else {
        said.to_string()
    })
}

impl Layers {
    /// These layers, their programs started by `init` in place of `sandbox-init` (a test's
    /// stand-in that fails as `sandbox-init` may).
    pub fn started_by(&self, init: PathBuf) -> Layers {
        Layers {
            init: Ok(init),
            ..self.clone()
        }
    }

    /// No layer at all, each refused for `why`: programs start directly, with limits and
    /// a clean environment only (as under `HARNESS_SANDBOX=off`).
    pub fn none(why: &str) -> Layers {
        Layers {
            init: Err(why.to_owned()),
            pid_namespace: Err(why.to_owned()),
            mounts: Err(why.to_owned()),
            cgroup: Err(why.to_owned()),
            disk: Err(why.to_owned()),
            seccomp: Err(why.to_owned()),
            own_user: Err(why.to_owned()),
            landlock: Err(why.to_owned()),
            tracer: Err(why.to_owned()),
            warden: Err(why.to_owned()),
        }
    }

    /// What a program may reach where its scenario shares the machine's loopback: Landlock's
    /// TCP rules, and where `sandbox-init`'s warden works, every call naming an address.
    pub(crate) fn shared_loopback_walls(&self) -> &'static str {
        match &self.warden {
            Ok(Warden::Copies) => {
                "on a shared loopback, bind, connect and send (TCP and UDP) on its scenario's own ports only"
            }
            Ok(Warden::Owner(_)) => {
                "on a shared loopback, bind, connect and send (TCP and UDP, its UDP sockets made by the warden) on its scenario's own ports only, and no unix socket but a socketpair where its task uses none"
            }
            Err(_) => {
                "on a shared loopback, TCP bind and connect on its scenario's own ports only, no UDP where its task and scenario use none, and no unix socket but a socketpair"
            }
        }
    }

    /// Whether `sandbox-init` watches what a program's processes hold together, ending
    /// them past the cap: where no memory cgroup caps it.
    pub(crate) fn memory_watched(&self) -> bool {
        self.init.is_ok()
            && match &self.cgroup {
                Ok(hierarchy) => hierarchy.memory().is_err(),
                Err(_) => true,
            }
    }

    /// Whether `sandbox-init` watches what a program's own folders hold, ending it past
    /// [`DISK_LIMIT`]: where no sized `tmpfs` can hold them.
    pub(crate) fn disk_watched(&self) -> bool {
        self.init.is_ok() && self.disk.is_err()
    }

    /// Whether each program gets Landlock's walls: where no view of its own can be built.
    pub(crate) fn walls(&self) -> bool {
        self.mounts.is_err() && self.landlock.is_ok()
    }

    /// `Ok` where this system allows `layer`, else why not.
    pub fn allows(&self, layer: Layer) -> Result<(), &str> {
        let result = match layer {
            Layer::Init => self.init.as_ref().map(drop),
            Layer::PidNamespace => self.pid_namespace.as_ref().map(drop),
            Layer::View => self.mounts.as_ref().map(drop),
            Layer::Cgroup => self.cgroup.as_ref().map(drop),
            Layer::MemoryCap => match &self.cgroup {
                Ok(hierarchy) => return hierarchy.memory(),
                Err(why) => Err(why),
            },
            Layer::Disk => self.disk.as_ref().map(drop),
            Layer::ShortCallTracer => self.tracer.as_ref().map(drop),
        };
        result.map_err(String::as_str)
    }

    /// The layers in force with a memory cap of `memory_limit` bytes, for a run's header:
    /// `own PID namespace, ...`.
    pub(crate) fn in_force(&self, memory_limit: u64) -> Vec<String> {
        let mut layers = Vec::new();
        if self.init.is_ok() {
            layers.push(if self.own_user.is_ok() {
                "no privilege (a user of its own, no capabilities, no_new_privs)".to_string()
            } else {
                "no privilege (no capabilities, no_new_privs)".to_string()
            });
        }
        if self.seccomp.is_ok() {
            layers.push(
                "seccomp (no mount, namespaces, ptrace, bpf, kernel keys or modules)".to_string(),
            );
        }
        if self.pid_namespace.is_ok() {
            layers.push(
                "own PID, IPC, UTS and cgroup namespaces (nothing it forks outlives it)"
                    .to_string(),
            );
        }
        match &self.cgroup {
            Ok(hierarchy) => {
                layers.push(format!("at most {} tasks (pids cgroup)", cgroup::MAX_TASKS));
                if hierarchy.memory().is_ok() {
                    layers.push(format!(
                        "memory capped at {} for everything it forks (memory cgroup)",
                        size_text(memory_limit)
                    ));
                }
                if hierarchy.cpu().is_ok() {
                    layers.push(format!(
                        "at most {} CPU for everything it forks (cpu cgroup)",
                        cgroup::CPUS
                    ));
                }
            }
            Err(_) if self.own_user.is_ok() => layers.push(format!(
                "at most {} tasks (RLIMIT_NPROC of its user of its own)",
                cgroup::MAX_TASKS
            )),
            Err(_) => layers.push(format!(
                "at most {} tasks per user (RLIMIT_NPROC; not for root)",
                limits::FALLBACK_NPROC
            )),
        }
        if self.memory_watched() {
            layers.push(format!(
                "memory capped at {} for everything it forks (measured every 50 ms, no memory cgroup here)",
                size_text(memory_limit)
            ));
        }
        if self.mounts.is_ok() {
            layers.push(
                "a file system of its own: the system's folders and its submission read-only, nothing else of this machine".to_string(),
            );
        }
        if let (true, Ok(abi)) = (self.walls(), &self.landlock) {
            let scopes = if *abi >= LANDLOCK_SCOPES {
                "; no abstract unix socket or signal outside its own processes"
            } else {
                ""
            };
            let network = if *abi >= LANDLOCK_NETWORK {
                format!("; {}", self.shared_loopback_walls())
            } else {
                String::new()
            };
            layers.push(format!(
                "Landlock: it reads the system's folders and its submission, writes its own folders, nothing else of this machine{scopes}{network}"
            ));
        }
        if self.mounts.is_ok()
            && self
                .landlock
                .as_ref()
                .is_ok_and(|abi| *abi >= LANDLOCK_NETWORK)
        {
            layers.push(self.shared_loopback_walls().to_string());
        }
        if self.disk.is_ok() {
            layers.push(format!(
                "its folders and /tmp hold {} at most",
                size_text(DISK_LIMIT)
            ));
        } else if self.disk_watched() {
            layers.push(format!(
                "its folders and /tmp hold {} at most (measured every 50 ms, no sized folder here: past it the program is ended, not told the disk is full)",
                size_text(DISK_LIMIT)
            ));
        }
        if self.tracer.is_ok() {
            layers.push(
                "where a scenario cuts a program's socket calls short, a tracer cuts them too (static programs and raw system calls included)"
                    .to_string(),
            );
        }
        layers.push("limits on CPU time, memory, file size and open files".to_string());
        layers.push("a clean environment".to_string());
        layers
    }

    /// The layers this system refused: a stable id for scripts (`view`, `memory-cap`:
    /// [`Layers::not_here`]), the header's name and why.
    pub(crate) fn refusals(&self) -> Vec<(&'static str, &'static str, String)> {
        if let Err(why) = &self.init {
            return vec![("sandbox-init", "sandbox-init", why.clone())];
        }
        // Where no memory cgroup caps it, the watcher does ([`Layers::memory_watched`]).
        let memory = match &self.cgroup {
            _ if self.memory_watched() => None,
            Ok(hierarchy) => hierarchy.memory().err().map(str::to_owned),
            Err(why) => Some(why.clone()),
        };
        let cpu = match &self.cgroup {
            Ok(hierarchy) => hierarchy.cpu().err().map(str::to_owned),
            Err(why) => Some(why.clone()),
        };
        // Where no sized folder holds them, the watcher caps its folders
        // ([`Layers::disk_watched`]), by ending it rather than with `ENOSPC`: a verdict may
        // still differ (a program that logs until a write fails, then serves).
        let disk = self.disk.as_ref().err().map(|why| {
            if self.disk_watched() {
                format!("{why}; sandbox-init's watcher ends a program past the cap instead")
            } else {
                why.clone()
            }
        });
        // An ordinary user's programs run as that user: no layer is missing there.
        let own_user = self.own_user.as_ref().err().filter(|_| running_as_root());
        // Landlock stands in for the view: it is missing only where the view is too.
        let (landlock, scopes) = match (&self.mounts, &self.landlock) {
            (Ok(()), _) => (None, None),
            (Err(_), Err(why)) => (Some(why.clone()), None),
            (Err(_), Ok(abi)) if *abi < LANDLOCK_SCOPES => (
                None,
                Some(format!(
                    "this kernel's Landlock ABI is {abi}: abstract unix sockets and signals outside its own processes need ABI {LANDLOCK_SCOPES} (Linux 6.12)"
                )),
            ),
            (Err(_), Ok(_)) => (None, None),
        };
        // Landlock walls TCP to a scenario's ports from ABI 4; below it only a warden that
        // makes every `connect` and `bind` itself (the copying one) walls it.
        let tcp_walls = match &self.landlock {
            Ok(abi)
                if self.walls()
                    && *abi < LANDLOCK_NETWORK
                    && !matches!(self.warden, Ok(Warden::Copies)) =>
            {
                Some(format!(
                    "this kernel's Landlock ABI is {abi}: walling TCP to a scenario's ports needs ABI {LANDLOCK_NETWORK} (Linux 6.7); on a shared loopback a program's TCP reaches any port"
                ))
            }
            _ => None,
        };
        // The warden walls UDP where the loopback is shared: where no view is built. Without
        // it, only the programs that need UDP have any (the others get no UDP socket).
        let udp_walls = self.warden.as_ref().err().filter(|_| self.walls()).map(|why| {
            format!("{why}; a program whose task and scenario use no UDP can make no UDP socket, the others' datagrams are not walled; no program makes a unix socket of its own (a socketpair only)")
        });
        [
            ("own-user", "user of its own", own_user),
            ("seccomp", "seccomp", self.seccomp.as_ref().err()),
            (
                "pid-namespace",
                "PID namespace",
                self.pid_namespace.as_ref().err(),
            ),
            ("view", "file system view", self.mounts.as_ref().err()),
            ("landlock", "Landlock", landlock.as_ref()),
            ("landlock-scopes", "Landlock scopes", scopes.as_ref()),
            ("tcp-walls", "TCP walls", tcp_walls.as_ref()),
            ("udp-walls", "UDP walls", udp_walls.as_ref()),
            ("pids-cgroup", "pids cgroup", self.cgroup.as_ref().err()),
            (
                "short-call-tracer",
                "short-call tracer",
                self.tracer.as_ref().err(),
            ),
            ("memory-cap", "memory not capped", memory.as_ref()),
            ("cpu-share", "CPU not shared", cpu.as_ref()),
            (
                "disk-cap",
                if self.disk_watched() {
                    "disk not sized"
                } else {
                    "disk not capped"
                },
                disk.as_ref(),
            ),
        ]
        .into_iter()
        .filter_map(|(id, name, why)| why.map(|why| (id, name, why.clone())))
        .collect()
    }

    /// The ids of the layers this system refused (`view`, `memory-cap`, `disk-cap`...), as
    /// the JSON report lists them (`sandbox.not_here`): what a program's verdict may depend
    /// on where they are missing.
    pub fn not_here(&self) -> Vec<String> {
        self.refusals()
            .into_iter()
            .map(|(id, _, _)| id.to_owned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_view_without_a_pid_namespace_for_programs_of_the_harnesss_own_user() {
        let refused = || Err("Operation not permitted".to_owned());
        let view = view_with_its_own_proc(Ok(()), &refused(), &refused()).unwrap_err();
        assert!(view.contains("the machine's /proc"), "{view}");
        // A user of its own reaches no process of the harness's; a PID namespace of its own
        // mounts its own /proc.
        assert!(view_with_its_own_proc(Ok(()), &refused(), &Ok(())).is_ok());
        assert!(view_with_its_own_proc(Ok(()), &Ok(()), &refused()).is_ok());
        assert_eq!(
            view_with_its_own_proc(Err("no mount".into()), &Ok(()), &refused()),
            Err("no mount".into())
        );
    }

    #[test]
    fn below_landlocks_network_abi_the_tcp_walls_are_said_missing_unless_the_warden_copies() {
        let container = |abi: i64, warden: Result<Warden, String>| Layers {
            init: Ok(PathBuf::from("/sandbox-init")),
            seccomp: Ok(()),
            landlock: Ok(abi),
            warden,
            ..Layers::none("a container")
        };
        let owner = || Ok(Warden::Owner("pidfd_getfd refused".into()));
        assert!(
            container(3, owner())
                .not_here()
                .contains(&"tcp-walls".to_owned())
        );
        assert!(
            !container(4, owner())
                .not_here()
                .contains(&"tcp-walls".to_owned())
        );
        assert!(
            !container(3, Ok(Warden::Copies))
                .not_here()
                .contains(&"tcp-walls".to_owned())
        );
        let said = container(3, Err("no warden".into()))
            .refusals()
            .into_iter()
            .find(|(id, _, _)| *id == "tcp-walls")
            .expect("TCP walls said missing");
        assert!(said.2.contains("needs ABI 4"), "{said:?}");
    }
}
