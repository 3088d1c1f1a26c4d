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
//! Where the scenarios share the machine's loopback, a second layer made once by the harness
//! (`--landlock-net-fd`, Landlock's ABI 4, Linux 6.7) lets it connect only to TCP ports at
//! or above the first the harness hands out: the grader's own services on the loopback's
//! well-known ports are out of its reach (what it hard-codes is moved to the scenario's
//! ports before it connects, by the interposed library).
//!
//! The rules are asked for at the newest ABI this code knows, best effort: a kernel with
//! an older ABI enforces what it has. [`kernel_abi`] tells the harness which, for the
//! report's header.

use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use landlock::{
    ABI, Access, AccessFs, CompatLevel, Compatible, PathBeneath, Ruleset, RulesetAttr,
    RulesetCreatedAttr, RulesetStatus, Scope,
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
    /// Folders (or files) it may read and execute.
    pub visible: Vec<PathBuf>,
    /// Folders it may read and write.
    pub writable: Vec<PathBuf>,
    /// A Landlock ruleset the harness made for the ports of a shared loopback
    /// (`--landlock-net-fd`), raised as a second layer: which TCP ports it may connect to.
    pub network: Option<i32>,
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
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(every)
        .map_err(failed)?
        .scope(Scope::from_all(NEWEST))
        .map_err(failed)?
        .create()
        .map_err(failed)?;
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
    let status = ruleset.restrict_self().map_err(failed)?;
    if status.ruleset == RulesetStatus::NotEnforced {
        return Err("Landlock is not enforced by this kernel".into());
    }
    if let Some(fd) = walls.network {
        // SAFETY: a ruleset descriptor the harness passed on; closed once raised.
        let raised = unsafe { libc::syscall(libc::SYS_landlock_restrict_self, fd, 0u32) };
        let error = std::io::Error::last_os_error();
        // SAFETY: closing our own copy.
        unsafe { libc::close(fd) };
        if raised != 0 {
            return Err(format!("Landlock: cannot raise the network walls: {error}"));
        }
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
            visible: vec![shown.path().to_owned()],
            writable: vec![own.path().to_owned()],
            network: None,
        };
        // SAFETY: the child only makes system calls, touches files and exits with _exit.
        let child = unsafe { libc::fork() };
        assert!(child >= 0);
        if child == 0 {
            let verdict = (|| {
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
            })();
            // SAFETY: ends the child without running the parent's destructors.
            unsafe { libc::_exit(verdict) };
        }
        let mut status = 0;
        // SAFETY: waiting for our own child.
        unsafe { libc::waitpid(child, &mut status, 0) };
        assert!(libc::WIFEXITED(status), "status {status}");
        assert_eq!(libc::WEXITSTATUS(status), 0, "failed at check number");
    }
}
