//! What the harness asks of its own process's end and of its children's: a function run
//! at `exit`, and a child's exit status with its peak memory (`wait4`).

use std::io;

/// Runs `at_exit` when the process exits normally (`atexit`): it must not unwind.
pub fn run_at_exit(at_exit: extern "C" fn()) {
    // SAFETY: registers a plain function without arguments, run once by exit().
    unsafe {
        libc::atexit(at_exit);
    }
}

/// How a child ended, as `wait4` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reaped {
    /// The raw wait status (`WIFEXITED`, `WEXITSTATUS`, `WTERMSIG` read it).
    pub status: libc::c_int,
    /// Its peak resident memory, in KiB (`ru_maxrss`).
    pub max_rss_kib: u64,
}

/// Waits for the child `pid` and reaps it, again where a signal interrupts the wait;
/// `ECHILD` where it is not (or no longer) this process's child.
pub fn wait4(pid: libc::pid_t) -> io::Result<Reaped> {
    let mut status = 0;
    // SAFETY: rusage is plain old data; wait4 fills it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: status and usage are valid for writes.
        let result = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if result == pid {
            return Ok(Reaped {
                status,
                max_rss_kib: usage.ru_maxrss.max(0) as u64,
            });
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}
