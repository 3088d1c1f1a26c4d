//! Walls that need no privilege: Landlock, where no view of its own can be built.
//!
//! In a platform's container (Gradescope, PrairieLearn, GitHub Actions) the harness may
//! not make namespaces or mount anything, so the program would see the machine's whole
//! file system as the user it runs as: the kit (its reference programs, the scenarios and
//! their expected bytes), a classmate's private copy, the grader's temporary folders.
//! Landlock is a Linux security module any process may use on itself (no capability
//! needed, only `no_new_privs`): it restricts this process and everything it will fork or
//! execute, for good. With `--landlock`, the program may
//!
//! | what | where |
//! |---|---|
//! | read and execute | the system's folders ([`SYSTEM`]), `/proc`, and the `--visible` folders (its program, its submission, its interpreter) |
//! | read and write | the devices every program uses ([`DEVICES`]), and the `--writable` folders and `--tmp` (its working folder, `HOME`, its own `/tmp`, a web site it serves) |
//! | nothing | everything else: the kit, other submissions, `/tmp`, `/dev/shm`, `/dev/tty`, the grader's home |
//!
//! and, where the kernel has Landlock's ABI 6 (Linux 6.12), it may neither connect to an
//! abstract unix socket made outside its own domain (a grader's service, a classmate's
//! program) nor signal a process outside it (the harness, `sandbox-init`). Where the
//! kernel has ABI 9 (Linux 7.1) it may not connect to a named unix socket outside the
//! folders it may write either; before, a named socket is guarded by its file's mode only.
//!
//! Where the scenarios share the machine's loopback, `--tcp-ports` (Landlock's ABI 4, Linux
//! 6.7) lets it bind and connect TCP sockets on its scenario's own ports only (a block the
//! harness reserved before the scenario's first program, and the ports the submission
//! hard-codes where nothing else held them), and bind a port the kernel picks (port 0):
//! the grader's own services, and every other scenario's programs and peers, are out of
//! its reach, and it cannot hoard the ports the harness hands to other scenarios (what it
//! hard-codes is moved to the scenario's ports before it connects, by the interposed
//! library).
//!
//! The rules are asked for at the newest ABI this code knows, best effort: a kernel with
//! an older ABI enforces what it has. [`kernel_abi`] tells the harness which, for the
//! report's header.

use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use landlock::{
    ABI, Access, AccessFs, AccessNet, CompatLevel, Compatible, NetPort, PathBeneath, Ruleset,
    RulesetAttr, RulesetCreatedAttr, RulesetStatus, Scope,
};

/// The newest ABI whose rights this code asks for (its tests ran on kernels with ABI 7).
const NEWEST: ABI = ABI::V9;

/// The system's folders a program reads and executes: those of the view (`mounts.rs`),
/// and `/proc` (a program's own `/proc/self`; other users' processes are guarded by the
/// kernel's own checks, and what their command lines name is out of reach below).
const SYSTEM: [&str; 10] = [
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/sys", "/proc",
];

/// The devices every program may open, for reading and writing: those of the view's
/// `/dev` but the terminal.
const DEVICES: [&str; 5] = [
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
];

/// What the program may reach besides the system's folders.
#[derive(Debug, Default)]
pub(crate) struct Walls {
    /// Whether the file system is walled (`--landlock`, no view): else only the network
    /// and the scopes, where a view of its own stands.
    pub file_system: bool,
    /// Folders (or files) it may read and execute.
    pub visible: Vec<PathBuf>,
    /// Folders it may read and write.
    pub writable: Vec<PathBuf>,
    /// On a shared loopback, the TCP ports it may bind and connect to (`--tcp-ports`), as
    /// inclusive ranges; `None` where its scenario has a network of its own.
    pub tcp_ports: Option<Vec<(u16, u16)>>,
}

/// Parses `--tcp-ports`' value: ports and inclusive ranges, comma-separated
/// (`20032-20095,12000`); empty for none at all.
pub(crate) fn parse_tcp_ports(text: &str) -> Result<Vec<(u16, u16)>, String> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let port = |word: &str| {
        word.parse::<u16>()
            .ok()
            .filter(|port| *port > 0)
            .ok_or_else(|| format!("--tcp-ports {text}: {word:?} is not a port from 1 to 65535"))
    };
    text.split(',')
        .map(|part| match part.split_once('-') {
            Some((first, last)) => {
                let (first, last) = (port(first)?, port(last)?);
                if first > last {
                    return Err(format!("--tcp-ports {text}: {part} runs backwards"));
                }
                Ok((first, last))
            }
            None => port(part).map(|port| (port, port)),
        })
        .collect()
}

/// The Landlock ABI of the running kernel: 0 where it has none (or it is not enabled).
pub(crate) fn kernel_abi() -> i64 {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: with a null attribute and this flag the call only returns the version.
    let version = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    version.max(0)
}

/// Restricts this process (and everything it will run) to `walls`. Needs `no_new_privs`.
/// `Err` where the kernel has no Landlock at all, or a rule cannot be made: the caller
/// then runs nothing.
pub(crate) fn raise(walls: &Walls) -> Result<(), String> {
    let failed = |error: landlock::RulesetError| format!("Landlock: {error}");
    let read = AccessFs::from_read(NEWEST);
    let every = AccessFs::from_all(NEWEST);
    let tcp = AccessNet::from_all(NEWEST);
    let mut ruleset = Ruleset::default().set_compatibility(CompatLevel::BestEffort);
    if walls.file_system {
        ruleset = ruleset.handle_access(every).map_err(failed)?;
    }
    if walls.tcp_ports.is_some() {
        ruleset = ruleset.handle_access(tcp).map_err(failed)?;
    }
    let mut ruleset = ruleset
        .scope(Scope::from_all(NEWEST))
        .map_err(failed)?
        .create()
        .map_err(failed)?;
    if let Some(ranges) = &walls.tcp_ports {
        // Port 0 for `bind`: a port the kernel picks from its range of outgoing ports (an
        // FTP client's active-mode data port), which no scenario is handed.
        ruleset = ruleset
            .add_rule(NetPort::new(0, AccessNet::BindTcp))
            .map_err(failed)?;
        for &(first, last) in ranges {
            for port in first..=last {
                ruleset = ruleset.add_rule(NetPort::new(port, tcp)).map_err(failed)?;
            }
        }
    }
    if !walls.file_system {
        return restrict(ruleset);
    }
    // The system's own folders: opened following their links (`/bin` -> `usr/bin`),
    // which belong to the system; a folder this system lacks is skipped.
    for folder in SYSTEM {
        if let Ok(fd) = open_path(Path::new(folder), true) {
            ruleset = ruleset
                .add_rule(PathBeneath::new(fd, read))
                .map_err(failed)?;
        }
    }
    for device in DEVICES {
        if let Ok(fd) = open_path(Path::new(device), true) {
            ruleset = ruleset
                .add_rule(PathBeneath::new(fd, AccessFs::from_file(NEWEST)))
                .map_err(failed)?;
        }
    }
    // The folders the harness named: never through a link (resolved already, so a link
    // here is one made since, by a program of the same submission).
    for (folders, access) in [(&walls.visible, read), (&walls.writable, every)] {
        for folder in folders {
            let fd = match open_path(folder, false) {
                Ok(fd) => fd,
                // Missing on purpose (a scenario's missing folder): nothing to allow.
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
                Err(error) => return Err(format!("cannot open {}: {error}", folder.display())),
            };
            let access = if is_dir(&fd) {
                access
            } else {
                access & AccessFs::from_file(NEWEST)
            };
            ruleset = ruleset
                .add_rule(PathBeneath::new(fd, access))
                .map_err(failed)?;
        }
    }
    restrict(ruleset)
}

/// Restricts this process to `ruleset`, which must be enforced.
fn restrict(ruleset: landlock::RulesetCreated) -> Result<(), String> {
    let status = ruleset
        .restrict_self()
        .map_err(|error| format!("Landlock: {error}"))?;
    if status.ruleset == RulesetStatus::NotEnforced {
        return Err("Landlock is not enforced by this kernel".into());
    }
    Ok(())
}

/// Scopes this process (and everything it will run) to its own Landlock domain, where no
/// walls are raised (a view of its own stands): it may signal, and connect to an abstract
/// unix socket of, only its own processes. Not the harness, not `sandbox-init` nor the
/// memory watcher beside it (which an ordinary user's program could otherwise kill, being
/// of the same user in the same PID namespace), not another program. Nothing where the
/// kernel has no scopes (ABI 6, Linux 6.12). Needs `no_new_privs`.
pub(crate) fn raise_scopes() -> Result<(), String> {
    if kernel_abi() < 6 {
        return Ok(());
    }
    let failed = |error: landlock::RulesetError| format!("Landlock scopes: {error}");
    let status = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .scope(Scope::from_all(NEWEST))
        .map_err(failed)?
        .create()
        .map_err(failed)?
        .restrict_self()
        .map_err(failed)?;
    if status.ruleset == RulesetStatus::NotEnforced {
        return Err("Landlock scopes are not enforced by this kernel".into());
    }
    Ok(())
}

/// `open(path, O_PATH)`, following a final link only when `follow`.
fn open_path(path: &Path, follow: bool) -> std::io::Result<OwnedFd> {
    let name = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    let mut flags = libc::O_PATH | libc::O_CLOEXEC;
    if !follow {
        flags |= libc::O_NOFOLLOW;
    }
    // SAFETY: a NUL-terminated path; the descriptor returned is ours alone.
    let fd = unsafe { libc::open(name.as_ptr(), flags) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor nobody else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstat fills our local.
    if unsafe { libc::fstat(std::os::fd::AsRawFd::as_raw_fd(&fd), &mut stat) } == 0
        && stat.st_mode & libc::S_IFMT == libc::S_IFLNK
    {
        return Err(std::io::Error::other("a symbolic link"));
    }
    Ok(fd)
}

/// Whether `fd` is a folder.
fn is_dir(fd: &OwnedFd) -> bool {
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstat fills our local.
    let known = unsafe { libc::fstat(std::os::fd::AsRawFd::as_raw_fd(fd), &mut stat) } == 0;
    known && stat.st_mode & libc::S_IFMT == libc::S_IFDIR
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `checks` in a forked child (Landlock cannot be undone) and asserts it returned 0,
    /// or else the number of the check that failed.
    fn in_a_child(checks: impl FnOnce() -> i32) {
        // SAFETY: the child only makes system calls, touches files and exits with _exit.
        let child = unsafe { libc::fork() };
        assert!(child >= 0);
        if child == 0 {
            let verdict = checks();
            // SAFETY: ends the child without running the parent's destructors.
            unsafe { libc::_exit(verdict) };
        }
        let mut status = 0;
        // SAFETY: waiting for our own child.
        unsafe { libc::waitpid(child, &mut status, 0) };
        assert!(libc::WIFEXITED(status), "status {status}");
        assert_eq!(libc::WEXITSTATUS(status), 0, "failed at check number");
    }

    /// In a forked child (Landlock cannot be undone): a walled process reads the system
    /// and writes its own folder, and can neither read a folder it was not given nor write
    /// one it may only read.
    #[test]
    fn a_walled_process_reaches_only_its_folders() {
        if kernel_abi() == 0 {
            eprintln!("this kernel has no Landlock: nothing to test");
            return;
        }
        let own = tempfile::tempdir().unwrap();
        let shown = tempfile::tempdir().unwrap();
        let hidden = tempfile::tempdir().unwrap();
        std::fs::write(shown.path().join("shown"), "ok").unwrap();
        std::fs::write(hidden.path().join("secret"), "no").unwrap();
        let walls = Walls {
            file_system: true,
            visible: vec![shown.path().to_owned()],
            writable: vec![own.path().to_owned()],
            tcp_ports: None,
        };
        in_a_child(|| {
            // SAFETY: prctl with plain integers.
            if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
                return 1;
            }
            if raise(&walls).is_err() {
                return 2;
            }
            if std::fs::read("/etc/passwd").is_err() {
                return 3;
            }
            if std::fs::write(own.path().join("mine"), "x").is_err() {
                return 4;
            }
            if std::fs::read(shown.path().join("shown")).is_err() {
                return 5;
            }
            if std::fs::write(shown.path().join("changed"), "x").is_ok() {
                return 6;
            }
            if std::fs::read(hidden.path().join("secret")).is_ok() {
                return 7;
            }
            if std::fs::read_dir(hidden.path()).is_ok() {
                return 8;
            }
            if std::fs::write(std::env::temp_dir().join("walls-test-leak"), "x").is_ok() {
                return 9;
            }
            0
        });
    }

    /// In a forked child: with its scenario's ports walled, a process connects to and binds
    /// those only (and a port the kernel picks), not a listener beside them.
    #[test]
    fn a_walled_process_reaches_only_its_scenarios_ports() {
        if kernel_abi() < 4 {
            eprintln!("this kernel has no Landlock network rules: nothing to test");
            return;
        }
        let own = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let own_port = own.local_addr().unwrap().port();
        let other_port = other.local_addr().unwrap().port();
        // A free port beside its own that it may bind.
        let spare = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let spare_port = spare.local_addr().unwrap().port();
        drop(spare);
        let walls = Walls {
            tcp_ports: Some(vec![(own_port, own_port), (spare_port, spare_port)]),
            ..Walls::default()
        };
        in_a_child(|| {
            // SAFETY: prctl with plain integers.
            if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
                return 1;
            }
            if raise(&walls).is_err() {
                return 2;
            }
            if std::net::TcpStream::connect(("127.0.0.1", own_port)).is_err() {
                return 3;
            }
            match std::net::TcpStream::connect(("127.0.0.1", other_port)) {
                Err(error) if error.raw_os_error() == Some(libc::EACCES) => {}
                _ => return 4,
            }
            if std::net::TcpListener::bind(("127.0.0.1", spare_port)).is_err() {
                return 5;
            }
            if std::net::TcpListener::bind("127.0.0.1:0").is_err() {
                return 6;
            }
            // Refused before the kernel looks whether the port is free.
            match std::net::TcpListener::bind(("127.0.0.1", other_port)) {
                Err(error) if error.raw_os_error() == Some(libc::EACCES) => {}
                _ => return 7,
            }
            0
        });
    }

    #[test]
    fn tcp_ports_are_ports_and_ranges() {
        assert_eq!(
            parse_tcp_ports("20032-20095,12000").unwrap(),
            vec![(20032, 20095), (12000, 12000)]
        );
        assert_eq!(parse_tcp_ports("").unwrap(), vec![]);
        for wrong in ["0", "70000", "9-3", "a-b", "1,,2"] {
            assert!(parse_tcp_ports(wrong).is_err(), "{wrong:?}");
        }
    }
}
