//! Network namespaces: a private loopback per grading, so parallel gradings never clash.
//!
//! `unshare(CLONE_NEWNET)` moves the *calling thread* into a new network namespace with
//! only a loopback interface, which starts down. Everything that thread does afterwards
//! happens there: the harness's sockets, the ports it checks, and every program it starts
//! (a child inherits the namespace of the thread that forked it), so two gradings can both
//! use port 20000. It needs `CAP_SYS_ADMIN` (root, or a user namespace); where it is not
//! allowed the batch grader falls back to one shared loopback and the port allocator.

use std::io;

/// Moves the calling thread into a fresh network namespace and brings its loopback up.
pub fn enter_private_network() -> io::Result<()> {
    // SAFETY: unshare takes only flags and affects only the calling thread here.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        return Err(io::Error::last_os_error());
    }
    bring_loopback_up()
}

/// `ip link set lo up`, by ioctl: read the interface flags, add `IFF_UP`, write them back.
fn bring_loopback_up() -> io::Result<()> {
    // SAFETY: a plain socket used only for the interface ioctls below, then closed.
    let socket = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if socket < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: ifreq is plain old data; all zeroes is a valid value.
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    for (slot, byte) in request.ifr_name.iter_mut().zip(b"lo\0") {
        *slot = *byte as libc::c_char;
    }
    // SAFETY: `request` names an interface and lives across both calls; the union member
    // read and written is the flags, which these two requests use.
    let result = unsafe {
        if libc::ioctl(socket, libc::SIOCGIFFLAGS as _, &mut request) < 0 {
            -1
        } else {
            request.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
            libc::ioctl(socket, libc::SIOCSIFFLAGS as _, &request)
        }
    };
    let error = io::Error::last_os_error();
    // SAFETY: closing the socket opened above.
    unsafe { libc::close(socket) };
    if result < 0 { Err(error) } else { Ok(()) }
}

/// Whether this process may give threads a network namespace of their own: tried once on
/// a throwaway thread, so the caller's own namespace is untouched.
pub fn private_networks_allowed() -> bool {
    std::thread::spawn(|| {
        enter_private_network().is_ok() && std::net::TcpListener::bind(("127.0.0.1", 0)).is_ok()
    })
    .join()
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_private_network_has_its_own_ports() {
        if !private_networks_allowed() {
            eprintln!("network namespaces are not allowed here: nothing to test");
            return;
        }
        // The same port, bound in two namespaces at once.
        let outside = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = outside.local_addr().unwrap().port();
        let inside = std::thread::spawn(move || {
            enter_private_network().unwrap();
            std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
        })
        .join()
        .unwrap();
        assert!(inside, "port {port} is taken outside but free inside");
    }
}
