//! The remote machine behind the SSH server peer: a machine the grader is not.
//!
//! Each command a client sends (`exec`, or what it types into a `shell`) runs as `/bin/sh
//! -c COMMAND` in the harness's own sandbox (`crate::world::real::sandbox`: PID and mount
//! namespaces, a cgroup, limits, a clean environment, no privilege), never as root, in a network namespace
//! of its own with nothing in it, for at most [`DEADLINE`] and [`OUTPUT_CAP`] bytes of
//! output. Its view of the machine is the pack's, whatever it reads:
//!
//! | what | how |
//! |---|---|
//! | `/proc/cpuinfo`, `/proc/meminfo` | files of the pack put over the kernel's (on the PID namespace's own `/proc`) |
//! | `/sys/devices/system/cpu/{online,possible,present}` | the same (glibc's `get_nprocs`, so Python's `os.cpu_count()`) |
//! | `nproc`, `lscpu` | small scripts of the pack over `/usr/bin/nproc` and `/usr/bin/lscpu`: `nproc` asks `sched_getaffinity`, which no file can change, and `lscpu` reads `/sys` far beyond those files |
//! | `free`, `awk ... /proc/meminfo`, `grep -c processor /proc/cpuinfo` | read the files above |
//!
//! The scenarios give the remote figures no grading machine is likely to have (an odd
//! count of cores, 7 or 11 rather than 2, 4 or 16; a memory total no machine's size rounds
//! to): a program that prints the figures of the machine it runs on can neither pass by
//! coincidence nor be told it printed them when it printed the remote's.
//!
//! Inside a platform's container (no mount or PID namespace) the command runs in what the
//! sandbox has there (no privilege, a user of its own, the seccomp filter, limits; the
//! container's loopback, as the program's own) and the
//! remote's view comes another way: the interposed library (`harness/short-calls`, its
//! `files` module, `SOCKET_LAB_FILES`) opens the pack's files when the command opens
//! `/proc/cpuinfo`, `/proc/meminfo` or the `/sys` lists, and the pack's `nproc` and
//! `lscpu` come first on its `PATH`. What no library reaches (a static program, the C
//! library's own count of processors behind `getconf`) sees this machine there.
//!
//! Where the harness cannot start the command without privilege (no `sandbox-init`), no
//! command runs at all: the client gets exit status 126 and a message.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use super::Remote;
use crate::world::real::cleanup;
use sandbox::{Launch, Layer};

use crate::settings::RunSettings;

/// How long one command may run.
pub(super) const DEADLINE: Duration = Duration::from_secs(10);

/// The most output (stdout and stderr together) one command may print.
pub(super) const OUTPUT_CAP: usize = 1 << 20;

/// The remote machine's files, written once per peer.
#[derive(Debug)]
pub(super) struct RemoteMachine {
    folder: crate::temporary::Folder,
    user: String,
    /// The sandbox its commands run in: the run's, as a program's.
    sandbox: sandbox::Settings,
    /// Whether each command gets an empty network namespace (the run has a namespace per
    /// scenario: where it has none, a platform's container, it could make none either).
    own_network: bool,
}

/// What a running command printed.
#[derive(Debug)]
pub(super) enum CommandPrint {
    Stdout(Vec<u8>),
    Stderr(Vec<u8>),
}

/// How a command ended: its exit status (none: stopped), and why it was stopped or never
/// ran.
#[derive(Debug)]
pub(super) struct CommandEnd {
    pub status: Option<u32>,
    pub trouble: Option<String>,
    /// The trouble is the harness's own (it could not sandbox or start the command), not
    /// the command's (its deadline, its output's cap).
    pub harness_failed: bool,
}

impl RemoteMachine {
    /// Writes the machine's files (`/proc`, `/sys` and the two programs); its commands
    /// run as a run with `settings` runs a program.
    pub(super) fn new(
        remote: &Remote,
        user: &str,
        settings: &RunSettings,
    ) -> Result<Arc<RemoteMachine>, String> {
        let write = || -> std::io::Result<RemoteMachine> {
            let folder = crate::temporary::folder("harness-ssh-remote-")?;
            // Read by the command's own user where no view shows the files: nothing in
            // the folder is secret, and only the harness may write there.
            std::fs::create_dir(folder.path().join("bin"))?;
            for dir in [folder.path().to_owned(), folder.path().join("bin")] {
                std::fs::set_permissions(
                    &dir,
                    std::os::unix::fs::PermissionsExt::from_mode(0o755),
                )?;
            }
            let files = [
                ("cpuinfo", cpuinfo(remote), 0o644),
                ("meminfo", meminfo(remote), 0o644),
                ("cpu-list", format!("0-{}\n", remote.cores - 1), 0o644),
                ("bin/nproc", nproc_script(remote), 0o755),
                ("bin/lscpu", lscpu_script(remote), 0o755),
            ];
            for (name, text, mode) in files {
                let path = folder.path().join(name);
                std::fs::write(&path, text)?;
                std::fs::set_permissions(
                    &path,
                    std::os::unix::fs::PermissionsExt::from_mode(mode),
                )?;
            }
            Ok(RemoteMachine {
                folder,
                user: user.to_owned(),
                sandbox: settings.sandbox.clone(),
                own_network: settings.namespace_per_scenario(),
            })
        };
        write()
            .map(Arc::new)
            .map_err(|error| format!("cannot write the remote machine's files: {error}"))
    }

    /// The files put over the system's in the command's view: (path there, source).
    fn replaced(&self) -> Vec<(PathBuf, PathBuf)> {
        let own = |name: &str| self.folder.path().join(name);
        let mut replaced = vec![
            (PathBuf::from("/proc/cpuinfo"), own("cpuinfo")),
            (PathBuf::from("/proc/meminfo"), own("meminfo")),
        ];
        for list in ["online", "possible", "present"] {
            replaced.push((
                Path::new("/sys/devices/system/cpu").join(list),
                own("cpu-list"),
            ));
        }
        for program in ["nproc", "lscpu"] {
            // Only where the system has it: a mount needs something to cover.
            let path = Path::new("/usr/bin").join(program);
            if path.exists() {
                replaced.push((path, own(&format!("bin/{program}"))));
            }
        }
        replaced
    }

    /// Where no view shows the remote's files: the variables that show them anyway, the
    /// interposed library with the files to open instead, and the pack's programs first on
    /// the `PATH`.
    fn without_view(&self) -> Result<Vec<(std::ffi::OsString, std::ffi::OsString)>, String> {
        let library = crate::faults::short_calls::library(Path::new("."), &self.sandbox.layers)
            .map_err(|error| format!("the remote machine's files cannot be shown: {error}"))?;
        let mut files = Vec::new();
        for (path, source) in self.replaced() {
            if path.starts_with("/usr") {
                continue;
            }
            let (Some(path), Some(source)) = (path.to_str(), source.to_str()) else {
                return Err("the remote machine's files have names that cannot be passed".into());
            };
            files.push(format!("file={path}>{source}"));
        }
        let mut path = self.folder.path().join("bin").into_os_string();
        path.push(":");
        path.push(sandbox::SYSTEM_PATH);
        Ok(vec![
            ("LD_PRELOAD".into(), library.into()),
            (
                crate::faults::short_calls::FILES_VARIABLE.into(),
                files.join(",").into(),
            ),
            ("PATH".into(), path),
        ])
    }

    /// Runs `command` (`None`: a shell reading its commands from `stdin`), sending what
    /// it prints on `output`, until it ends, its [`DEADLINE`] or its [`OUTPUT_CAP`].
    pub(super) async fn run(
        &self,
        command: Option<&str>,
        mut stdin: mpsc::Receiver<Vec<u8>>,
        output: mpsc::Sender<CommandPrint>,
    ) -> CommandEnd {
        let refused = |trouble: String| CommandEnd {
            status: Some(126),
            trouble: Some(trouble),
            harness_failed: true,
        };
        if let Some(why) = commands_refused(&self.sandbox.layers) {
            return refused(format!(
                "the harness cannot sandbox the remote machine's commands here ({why}): none runs"
            ));
        }
        let layers = &self.sandbox.layers;
        let in_view = layers
            .allows(Layer::View)
            .and(layers.allows(Layer::PidNamespace))
            .is_ok();
        let enclosure = match crate::temporary::sandboxes()
            .and_then(|parent| sandbox::Enclosure::new(&parent, None, &self.sandbox))
        {
            Ok(enclosure) => enclosure,
            Err(error) => return refused(format!("cannot make the command's sandbox: {error}")),
        };
        if !enclosure.not_as_root() {
            return refused("the command cannot run as another user than root here".into());
        }
        let mut argv: Vec<std::ffi::OsString> = vec!["/bin/sh".into()];
        match command {
            Some(command) => argv.extend(["-c".into(), command.into()]),
            None => argv.push("-s".into()),
        }
        let workdir = enclosure.home();
        let mut environment: Vec<(std::ffi::OsString, std::ffi::OsString)> = [
            ("USER", self.user.as_str()),
            ("LOGNAME", self.user.as_str()),
            ("SHELL", "/bin/sh"),
        ]
        .into_iter()
        .map(|(name, value)| (name.into(), value.into()))
        .collect();
        // Without a view, what the command must read is named: Landlock's walls, where
        // they stand instead, show it nothing else.
        let mut visible = Vec::new();
        if !in_view {
            match self.without_view() {
                Ok(more) => environment.extend(more),
                Err(error) => return refused(error),
            }
            visible.push(self.folder.path().to_owned());
            if let Ok(library) =
                crate::faults::short_calls::library(Path::new("."), &self.sandbox.layers)
            {
                visible.push(library);
            }
        }
        let mut builder = match enclosure.command(Launch {
            argv: &argv,
            workdir: &workdir,
            writable: &[],
            visible: &visible,
            replaced: &self.replaced(),
            report_fd: None,
            connects_fd: None,
            environment,
            cap_address_space: true,
            // Where no namespace of nothing can be made (below), no TCP port either.
            tcp_ports: (!self.own_network).then_some(&sandbox::TcpPorts::default()),
            short_calls: None,
        }) {
            Ok(builder) => builder,
            Err(error) => {
                return refused(format!("cannot hand the sandbox to its user: {error}"));
            }
        };
        builder
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // A network namespace with nothing in it: the remote machine reaches nobody, the
        // grader's network included. (In a platform's container, no namespace to make: the
        // command reaches the loopback as the program itself does there.)
        if self.own_network {
            harness_machine::child_setup::in_an_empty_network(&mut builder);
        }
        let started = {
            let _starting = crate::world::real::spawning::while_starting();
            tokio::process::Command::from(builder).spawn()
        };
        let mut child = match started {
            Ok(child) => child,
            Err(error) => return refused(format!("cannot start /bin/sh: {error}")),
        };
        let group = child.id().map(|pid| pid as i32);
        if let Some(group) = group {
            cleanup::register(group);
        }
        struct KillGroup(Option<i32>);
        impl Drop for KillGroup {
            fn drop(&mut self) {
                if let Some(group) = self.0 {
                    cleanup::kill_group(group);
                }
            }
        }
        let _kill = KillGroup(group);
        let (Some(mut child_stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return refused("the command's pipes were not made".into());
        };
        // What the client sends on the channel is the command's stdin, until its EOF.
        let feeding = tokio::spawn(async move {
            while let Some(bytes) = stdin.recv().await {
                if child_stdin.write_all(&bytes).await.is_err() {
                    break;
                }
            }
        });
        let printed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let work = async {
            let (out_ok, err_ok) = tokio::join!(
                pump(stdout, &output, &printed, CommandPrint::Stdout),
                pump(stderr, &output, &printed, CommandPrint::Stderr)
            );
            if !(out_ok && err_ok) {
                let capped = format!("it printed more than {} KiB: stopped", OUTPUT_CAP >> 10);
                return Err((capped, false));
            }
            child
                .wait()
                .await
                .map_err(|error| (format!("cannot wait for it: {error}"), true))
        };
        let ended = match tokio::time::timeout(DEADLINE, work).await {
            Ok(Ok(status)) => {
                use std::os::unix::process::ExitStatusExt;
                let status = status
                    .code()
                    .or_else(|| status.signal().map(|signal| 128 + signal))
                    .unwrap_or(255);
                CommandEnd {
                    status: Some(status as u32),
                    trouble: None,
                    harness_failed: false,
                }
            }
            Ok(Err((trouble, harness_failed))) => CommandEnd {
                status: None,
                trouble: Some(trouble),
                harness_failed,
            },
            Err(_) => CommandEnd {
                status: None,
                trouble: Some(format!(
                    "still running after {} s: stopped",
                    DEADLINE.as_secs()
                )),
                harness_failed: false,
            },
        };
        feeding.abort();
        ended
    }
}

/// Copies what `from` prints to `output` as `wrap` says, counting it in `printed`;
/// `false` once everything printed passes [`OUTPUT_CAP`].
async fn pump<R: tokio::io::AsyncRead + Unpin>(
    mut from: R,
    output: &mpsc::Sender<CommandPrint>,
    printed: &std::sync::atomic::AtomicUsize,
    wrap: fn(Vec<u8>) -> CommandPrint,
) -> bool {
    let mut buffer = vec![0u8; 32 * 1024];
    loop {
        match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return true,
            Ok(count) => {
                let total = printed.fetch_add(count, std::sync::atomic::Ordering::Relaxed) + count;
                if total > OUTPUT_CAP {
                    return false;
                }
                let _ = output.send(wrap(buffer[..count].to_vec())).await;
            }
        }
    }
}

/// Threads per physical core: two where the count allows, one for an odd count (the
/// scenarios give odd counts on purpose: see the module's doc).
fn threads_per_core(remote: &Remote) -> u32 {
    if remote.cores.is_multiple_of(2) { 2 } else { 1 }
}

/// `/proc/cpuinfo` of `remote`: one block per logical processor, as an x86-64 kernel
/// writes it (one package; [`threads_per_core`]).
fn cpuinfo(remote: &Remote) -> String {
    let threads = threads_per_core(remote);
    let physical_cores = remote.cores / threads;
    let mut text = String::new();
    for processor in 0..remote.cores {
        text += &format!(
            "processor\t: {processor}\n\
             vendor_id\t: GenuineIntel\n\
             cpu family\t: 6\n\
             model\t\t: 106\n\
             model name\t: {model}\n\
             stepping\t: 6\n\
             microcode\t: 0xd0003a5\n\
             cpu MHz\t\t: 2200.000\n\
             cache size\t: 49152 KB\n\
             physical id\t: 0\n\
             siblings\t: {siblings}\n\
             core id\t\t: {core}\n\
             cpu cores\t: {physical_cores}\n\
             apicid\t\t: {processor}\n\
             fpu\t\t: yes\n\
             flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx lm constant_tsc rep_good nopl xtopology cpuid pni pclmulqdq ssse3 fma cx16 sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand hypervisor lahf_lm abm avx2 avx512f\n\
             bogomips\t: 4400.00\n\
             clflush size\t: 64\n\
             cache_alignment\t: 64\n\
             address sizes\t: 46 bits physical, 57 bits virtual\n\
             power management:\n\n",
            model = remote.cpu_model,
            siblings = remote.cores,
            core = processor / threads,
        );
    }
    text
}

/// `/proc/meminfo` of `remote`, in kB (KiB) as the kernel writes it: free's `available`
/// is `MemAvailable`, its `buff/cache` `Buffers + Cached + SReclaimable`.
fn meminfo(remote: &Remote) -> String {
    let total = remote.memory_total_kib;
    let available = remote.memory_available_kib;
    let free = available / 2;
    let buffers = available / 16;
    let cached = available - free - buffers;
    let rows = [
        ("MemTotal", total),
        ("MemFree", free),
        ("MemAvailable", available),
        ("Buffers", buffers),
        ("Cached", cached),
        ("SwapCached", 0),
        ("Active", (total - free) / 2),
        ("Inactive", cached / 2),
        ("Shmem", 4096),
        ("SReclaimable", 0),
        ("SUnreclaim", 65536.min(total / 64)),
        ("SwapTotal", 0),
        ("SwapFree", 0),
        ("Dirty", 128),
        ("CommitLimit", total / 2),
        ("Committed_AS", (total - available) / 2),
        ("HugePages_Total", 0),
        ("Hugepagesize", 2048),
    ];
    rows.iter()
        .map(|(name, kib)| {
            if name.starts_with("HugePages_") {
                format!("{:<16}{kib:>8}\n", format!("{name}:"))
            } else {
                format!("{:<16}{kib:>8} kB\n", format!("{name}:"))
            }
        })
        .collect()
}

/// `nproc` of `remote`: the processors (`--all` too: all are online), less `--ignore=N`;
/// `OMP_NUM_THREADS` honoured as GNU's is.
fn nproc_script(remote: &Remote) -> String {
    format!(
        r#"#!/bin/sh
# nproc of the SSH pack's remote machine (harness/src/protocols/ssh/remote.rs)
count={cores}
ignore=0
all=0
while [ $# -gt 0 ]; do
  case "$1" in
    --all) all=1 ;;
    --ignore=*) ignore="${{1#--ignore=}}" ;;
    --ignore) shift; ignore="$1" ;;
    --help) echo "Usage: nproc [OPTION]..."; exit 0 ;;
    --version) echo "nproc (GNU coreutils) 9.1"; exit 0 ;;
    *) echo "nproc: extra operand '$1'" >&2; exit 1 ;;
  esac
  shift
done
if [ "$all" = 0 ] && [ -n "$OMP_NUM_THREADS" ]; then
  case "$OMP_NUM_THREADS" in *[!0-9]*|'') ;; *) count="${{OMP_NUM_THREADS%%,*}}" ;; esac
fi
count=$((count - ignore))
[ "$count" -lt 1 ] && count=1
echo "$count"
"#,
        cores = remote.cores
    )
}

/// `lscpu` of `remote`, as util-linux 2.38 prints it (the lines a lab reads).
fn lscpu_script(remote: &Remote) -> String {
    let threads = threads_per_core(remote);
    format!(
        r#"#!/bin/sh
# lscpu of the SSH pack's remote machine (harness/src/protocols/ssh/remote.rs)
cat <<'END'
Architecture:            x86_64
  CPU op-mode(s):        32-bit, 64-bit
  Address sizes:         46 bits physical, 57 bits virtual
  Byte Order:            Little Endian
CPU(s):                  {cores}
  On-line CPU(s) list:   0-{last}
Vendor ID:               GenuineIntel
  Model name:            {model}
    CPU family:          6
    Model:               106
    Thread(s) per core:  {threads}
    Core(s) per socket:  {per_socket}
    Socket(s):           1
    Stepping:            6
    BogoMIPS:            4400.00
END
"#,
        cores = remote.cores,
        last = remote.cores - 1,
        model = remote.cpu_model,
        per_socket = remote.cores.div_ceil(threads),
    )
}

/// Why the remote machine cannot run commands sandboxed with `layers`, if it cannot: they
/// run without privilege, which needs `sandbox-init` (the remote's view is a mount
/// namespace's where there is one, else the interposed library's).
pub(super) fn commands_refused(layers: &sandbox::Layers) -> Option<String> {
    layers.allows(Layer::Init).err().map(|why| why.to_string())
}
