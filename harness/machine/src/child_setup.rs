//! What a child of the harness does between its fork and its `exec`: the only code the
//! harness runs in a forked copy of itself, where nothing but async-signal-safe calls may
//! be made (no allocation, no lock). Each setting is one function here, so that the
//! harness sets up its children without `unsafe` of its own.

use std::io;
use std::os::fd::RawFd;
use std::os::unix::process::CommandExt;
use std::process::Command;

/// The child dies (`SIGKILL`) when the thread that started it ends, and does not start at
/// all when that has already happened between the fork and this setting
/// (`PR_SET_PDEATHSIG`). `starter` is the harness's process id.
pub fn dies_with_its_starter(command: &mut Command, starter: libc::pid_t) {
    // SAFETY: prctl and getppid are async-signal-safe, and the closure allocates nothing
    // on its way to Ok.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(io::Error::last_os_error());
            }
            // The harness may have ended between the fork and the prctl, and then nobody
            // sends the signal.
            if libc::getppid() != starter {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}

/// The child keeps `keep_open` open across its `exec` (its close-on-exec flag cleared)
/// and enters the network namespace `network` (a descriptor of `/proc/.../ns/net`) first.
/// Both descriptors must stay open until the command is spawned.
pub fn keep_open_and_enter(
    command: &mut Command,
    keep_open: Option<RawFd>,
    network: Option<RawFd>,
) {
    // SAFETY: the closure only calls fcntl and setns, which are async-signal-safe, on
    // descriptors the caller keeps open until the spawn returns.
    unsafe {
        command.pre_exec(move || {
            if let Some(fd) = keep_open
                && libc::fcntl(fd, libc::F_SETFD, 0) != 0
            {
                return Err(io::Error::last_os_error());
            }
            if let Some(fd) = network
                && libc::setns(fd, libc::CLONE_NEWNET) != 0
            {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// The child runs in a new, empty network namespace of its own: it reaches nobody.
pub fn in_an_empty_network(command: &mut Command) {
    // SAFETY: unshare is async-signal-safe; the namespace is the child's alone.
    unsafe {
        command.pre_exec(|| {
            if libc::unshare(libc::CLONE_NEWNET) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// A step between fork and `exec` that does nothing: the standard library then forks the
/// harness rather than `posix_spawn` it (for `harness bench`, which shows what that costs).
pub fn forked_rather_than_spawned(command: &mut Command) {
    // SAFETY: the step does nothing.
    unsafe {
        command.pre_exec(|| Ok(()));
    }
}
