//! The last steps before the program runs: nothing of the harness's privilege reaches it.
//!
//! In the program's own process, right before `execve`, in this order:
//!
//! 1. every descriptor above 2 is closed (those the harness was started with, too: a
//!    grader's shell or CI runner may pass some on);
//! 2. the capability bounding set is emptied, and the ambient set: no capability can ever
//!    be gained again, by a setuid program or otherwise;
//! 3. when this process is root (the harness was run as root), it becomes the user the
//!    harness chose for the program (`--user`), with no supplementary groups; a change
//!    from uid 0 to another clears the permitted and effective capabilities;
//! 4. the permitted, effective and inheritable sets are emptied all the same (a harness
//!    run by an ordinary user gives the program the capabilities of its user namespace
//!    until `execve`, which would drop them for a non-root user anyway);
//! 5. `no_new_privs`: no setuid or file capability raises it from now on;
//! 6. with `--landlock`, the walls of [`crate::walls`]: its own folders and the system's,
//!    nothing else of the file system, no abstract socket or signal outside its domain;
//!    without, its Landlock scopes alone (no abstract socket or signal outside its domain:
//!    not `sandbox-init`, not its memory watcher, not the harness);
//! 7. the seccomp filter ([`crate::seccomp`]).
//!
//! A failure at any step ends the process (exit 125) rather than run the program with
//! more than it may have.

use std::io;

/// What the program runs as.
#[derive(Debug, Default)]
pub(crate) struct Drop {
    /// The user and group to become when this process is root; ignored otherwise (an
    /// ordinary user cannot change its ids, and is no one's privilege).
    pub user: Option<(u32, u32)>,
    /// Whether to install the seccomp filter (`--no-seccomp` is for the harness's probe
    /// of which layers this system allows, never for a program).
    pub seccomp: bool,
    /// Which sockets the filter lets it make (`--tcp-only`, `--no-unix-sockets`).
    pub sockets: crate::seccomp::Sockets,
    /// The warden that makes its calls naming an address, where its network is walled
    /// (none with `--no-warden`), and how it reaches the program's sockets.
    pub warden: Option<crate::warden::Mode>,
    /// Where the warden counts the program's TCP `connect` calls, a byte each
    /// (`--count-connects-fd`); closed in the program with every other descriptor.
    pub warden_counts: Option<libc::c_int>,
    /// The Landlock walls to raise (`--landlock`), where no view of its own is built.
    pub walls: Option<crate::walls::Walls>,
}

/// Steps 1 to 7 above. `Err` names the step that failed.
pub(crate) fn drop_everything(request: &Drop, kept: libc::c_int) -> Result<(), String> {
    close_inherited_descriptors(kept);
    empty_bounding_set()
        .map_err(|error| format!("cannot empty the capability bounding set: {error}"))?;
    // SAFETY: geteuid only reads our id.
    let root = unsafe { libc::geteuid() } == 0;
    if root && let Some((uid, gid)) = request.user {
        become_user(uid, gid).map_err(|error| format!("cannot become user {uid}: {error}"))?;
    }
    empty_capability_sets().map_err(|error| format!("cannot drop capabilities: {error}"))?;
    // SAFETY: prctl with plain integers.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(format!(
            "cannot set no_new_privs: {}",
            io::Error::last_os_error()
        ));
    }
    match &request.walls {
        Some(walls) => crate::walls::raise(walls)?,
        None => crate::walls::raise_scopes()?,
    }
    if request.seccomp {
        crate::seccomp::install(request.sockets)
            .map_err(|error| format!("cannot install the seccomp filter: {error}"))?;
    }
    Ok(())
}

/// Closes every descriptor above 2 but `kept` (the close-on-exec pipe of
/// [`crate::setup_failure`]): `close_range`, Linux 5.9; else one by one up to the
/// descriptor limit.
fn close_inherited_descriptors(kept: libc::c_int) {
    let kept = u32::try_from(kept).unwrap_or(u32::MAX);
    // SAFETY: closing descriptors of our own process; nothing here holds one above 2
    // that it still needs (the report descriptor belongs to the process that waits).
    unsafe {
        let below = kept <= 3 || libc::syscall(libc::SYS_close_range, 3u32, kept - 1, 0u32) == 0;
        let above =
            kept == u32::MAX || libc::syscall(libc::SYS_close_range, kept + 1, u32::MAX, 0u32) == 0;
        if below && above {
            return;
        }
        let highest = match libc::sysconf(libc::_SC_OPEN_MAX) {
            limit if limit > 3 => limit.min(1 << 20) as i32,
            _ => 1024,
        };
        for fd in (3..highest).filter(|&fd| fd as u32 != kept) {
            libc::close(fd);
        }
    }
}

/// Drops every capability from the bounding set, up to the kernel's last one.
pub(crate) fn empty_bounding_set() -> io::Result<()> {
    for capability in 0..=last_capability() {
        // SAFETY: prctl with plain integers.
        if unsafe { libc::prctl(libc::PR_CAPBSET_DROP, capability, 0, 0, 0) } != 0 {
            let error = io::Error::last_os_error();
            match error.raw_os_error() {
                // A capability this kernel does not have.
                Some(libc::EINVAL) => {}
                // An ordinary user outside any user namespace of its own (no
                // `CAP_SETPCAP`): it holds no capability to bound, and `no_new_privs`
                // keeps it from ever gaining one.
                Some(libc::EPERM) if !holds_setpcap() => return Ok(()),
                _ => return Err(error),
            }
        }
    }
    // SAFETY: prctl with plain integers. EINVAL: a kernel without ambient capabilities.
    unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        );
    }
    Ok(())
}

/// `CAP_SETPCAP`'s number (linux/capability.h).
const CAP_SETPCAP: u32 = 8;

/// Whether this process's effective set holds `CAP_SETPCAP`.
fn holds_setpcap() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let hex = status
                .lines()
                .find_map(|line| line.strip_prefix("CapEff:"))?;
            u64::from_str_radix(hex.trim(), 16).ok()
        })
        .is_some_and(|effective| effective & (1 << CAP_SETPCAP) != 0)
}

/// `/proc/sys/kernel/cap_last_cap`, or a generous guess (the loop skips unknown ones).
fn last_capability() -> libc::c_ulong {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(63)
}

/// No groups, then the group, then the user: real, effective and saved alike, so that
/// nothing can switch back.
pub(crate) fn become_user(uid: u32, gid: u32) -> io::Result<()> {
    // SAFETY: plain system calls on our own credentials.
    unsafe {
        if libc::setgroups(0, std::ptr::null()) != 0
            || libc::setresgid(gid, gid, gid) != 0
            || libc::setresuid(uid, uid, uid) != 0
        {
            return Err(io::Error::last_os_error());
        }
        if libc::geteuid() != uid || libc::getegid() != gid {
            return Err(io::Error::other("the ids did not change"));
        }
    }
    Ok(())
}

/// `capset` with empty permitted, effective and inheritable sets.
pub(crate) fn empty_capability_sets() -> io::Result<()> {
    /// `struct __user_cap_header_struct`.
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    /// `struct __user_cap_data_struct`, twice for version 3's 64 capabilities.
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const VERSION_3: u32 = 0x2008_0522;
    let header = Header {
        version: VERSION_3,
        pid: 0,
    };
    let data = [Data {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    // SAFETY: the header and data live across the call, in the layout capset reads.
    if unsafe { libc::syscall(libc::SYS_capset, &header as *const Header, data.as_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
