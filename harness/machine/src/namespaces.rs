//! Namespaces the harness makes for itself and its scenarios: a user namespace of its own
//! (an ordinary user's harness), a network namespace per scenario with its loopback up.
//!
//! `unshare` is `unsafe` in general (leaving a shared descriptor table or file system
//! context behind a thread's back can break what other threads assume); the two kinds made
//! here change nothing another thread relies on: a user namespace is entered while the
//! process is still single-threaded, and a network namespace is the calling thread's alone.

use std::io;

/// Enters a new user namespace (`unshare(CLONE_NEWUSER)`). The kernel allows it only to a
/// single-threaded process: call it first thing in `main`.
pub fn unshare_user() -> io::Result<()> {
    // SAFETY: only the namespaces change; the kernel refuses a multi-threaded caller.
    if unsafe { libc::unshare(libc::CLONE_NEWUSER) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Moves the calling thread into a new, empty network namespace (`unshare(CLONE_NEWNET)`);
/// the process's other threads stay where they are.
pub fn unshare_network() -> io::Result<()> {
    // SAFETY: a network namespace is per thread; nothing else of the process changes.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `ip link set lo up` in the calling thread's network namespace, by ioctl: read the
/// interface flags, add `IFF_UP`, write them back.
pub fn bring_loopback_up() -> io::Result<()> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    // SAFETY: a plain socket used only for the interface ioctls below.
    let socket = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if socket < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor of ours, closed when dropped.
    let socket = unsafe { OwnedFd::from_raw_fd(socket) };
    // SAFETY: ifreq is plain old data; all zeroes is a valid value.
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    for (slot, byte) in request.ifr_name.iter_mut().zip(b"lo\0") {
        *slot = *byte as libc::c_char;
    }
    // SAFETY: `request` names an interface and lives across both calls; the union member
    // read and written is the flags, which these two requests use.
    let result = unsafe {
        if libc::ioctl(socket.as_raw_fd(), libc::SIOCGIFFLAGS as _, &mut request) < 0 {
            -1
        } else {
            request.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
            libc::ioctl(socket.as_raw_fd(), libc::SIOCSIFFLAGS as _, &request)
        }
    };
    if result < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
