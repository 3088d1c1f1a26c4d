//! Which descriptors are cut: TCP sockets, told from a copy of the descriptor or, where
//! the tracer may not copy it, from `/proc`; not those an event loop watches
//! edge-triggered.

use super::{Tracer, peek};

impl Tracer {
    /// Whether descriptor `fd` of `pid` is a TCP socket whose calls may be cut: not one an
    /// event loop watches edge-triggered (`EPOLLET`: tokio, mio), which would wait for ever
    /// for an edge that a short read leaves unsignalled (tokio takes a short read for a
    /// drained socket). A descriptor the tracer cannot look at is not cut.
    pub(super) fn is_tcp(&mut self, pid: libc::pid_t, fd: i64) -> bool {
        self.socket(pid, fd)
            .is_some_and(|(inode, tcp)| tcp && !self.edge_triggered.contains(&inode))
    }

    /// At `epoll_ctl`: keeps which sockets are watched edge-triggered.
    #[cfg(target_arch = "x86_64")]
    pub(super) fn note_epoll(&mut self, pid: libc::pid_t, regs: &libc::user_regs_struct) {
        let (operation, fd, event) = (regs.rsi as i32, regs.rdx as i64, regs.r10);
        let Some((inode, _)) = self.socket(pid, fd) else {
            return;
        };
        // `struct epoll_event` begins with its 32 bits of events.
        let edge = matches!(operation, libc::EPOLL_CTL_ADD | libc::EPOLL_CTL_MOD)
            && peek(pid, event).is_some_and(|word| word as u32 & libc::EPOLLET as u32 != 0);
        if edge {
            self.edge_triggered.insert(inode);
        } else if matches!(operation, libc::EPOLL_CTL_DEL | libc::EPOLL_CTL_MOD) {
            self.edge_triggered.remove(&inode);
        }
    }

    /// Descriptor `fd` of `pid`, if it is a socket: its inode, and whether it is TCP.
    fn socket(&mut self, pid: libc::pid_t, fd: i64) -> Option<(u64, bool)> {
        let fd = i32::try_from(fd).ok().filter(|fd| *fd >= 0)?;
        match socket_by_copy(pid, fd) {
            Copied::Socket(inode, tcp) => Some((inode, tcp)),
            Copied::NotASocket => None,
            Copied::NotAllowed => self.socket_by_proc(pid, fd),
        }
    }

    /// [`Tracer::socket`] where the tracer may not copy the descriptor (a container's
    /// root lacks `CAP_SYS_PTRACE`): its `/proc/PID/fd` link names a socket, TCP if the
    /// tracee's network namespace lists its inode in `/proc/PID/net/tcp` or `tcp6`. Read as
    /// the program's user (its file system uid), which may read its own processes' links.
    /// Only where the tracer's `/proc` numbers processes as it does (no PID namespace
    /// between them, which is where the copy is refused).
    fn socket_by_proc(&mut self, pid: libc::pid_t, fd: i32) -> Option<(u64, bool)> {
        let link = self.as_program(|| std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).ok())?;
        let inode: u64 = link
            .to_str()?
            .strip_prefix("socket:[")?
            .strip_suffix(']')?
            .parse()
            .ok()?;
        if self.tcp.contains(&inode) {
            return Some((inode, true));
        }
        // Not kept when absent: a socket not yet connected is listed once it is.
        let inode_text = inode.to_string();
        let listed = ["tcp", "tcp6"].iter().any(|table| {
            std::fs::read_to_string(format!("/proc/{pid}/net/{table}")).is_ok_and(|text| {
                text.lines()
                    .skip(1)
                    .any(|line| line.split_whitespace().nth(9) == Some(inode_text.as_str()))
            })
        });
        if listed {
            self.tcp.insert(inode);
        }
        Some((inode, listed))
    }

    /// Whether descriptor `fd` of `pid` is non-blocking (`O_NONBLOCK`, on its open file
    /// description): the `flags` line of `/proc/PID/fdinfo/FD`, in octal, read as the
    /// program's user. A descriptor the tracer cannot look at counts as non-blocking (never
    /// interrupted).
    pub(super) fn is_non_blocking(&self, pid: libc::pid_t, fd: i64) -> bool {
        let info = self.as_program(|| std::fs::read_to_string(format!("/proc/{pid}/fdinfo/{fd}")));
        let flags = info.ok().and_then(|text| {
            let line = text.lines().find_map(|line| line.strip_prefix("flags:"))?;
            u32::from_str_radix(line.trim(), 8).ok()
        });
        flags.is_none_or(|flags| flags & libc::O_NONBLOCK as u32 != 0)
    }

    /// Runs `read` with the program's user as this thread's file-system user, where this
    /// process is root and the program has a user of its own.
    fn as_program<T>(&self, read: impl FnOnce() -> T) -> T {
        let Some((uid, gid)) = self.user else {
            return read();
        };
        // SAFETY: setfsuid and setfsgid change this thread's file-system ids only; they
        // are put back below.
        unsafe {
            libc::setfsgid(gid);
            libc::setfsuid(uid);
        }
        let result = read();
        // SAFETY: as above.
        unsafe {
            libc::setfsuid(0);
            libc::setfsgid(0);
        }
        result
    }
}

/// What a copy of a tracee's descriptor tells.
enum Copied {
    /// A socket: its inode, and whether it is TCP (a stream socket of the internet's
    /// families).
    Socket(u64, bool),
    /// No such descriptor, or not a socket.
    NotASocket,
    /// The tracer may not copy it.
    NotAllowed,
}

/// Descriptor `fd` of `pid`, from a copy of it (`pidfd_getfd`).
fn socket_by_copy(pid: libc::pid_t, fd: i32) -> Copied {
    // SAFETY: pidfd_open and pidfd_getfd return descriptors of our own, closed below;
    // fstat and getsockopt fill our locals.
    unsafe {
        let pidfd = libc::syscall(libc::SYS_pidfd_open, pid, 0) as i32;
        if pidfd < 0 {
            return Copied::NotAllowed;
        }
        let copy = libc::syscall(libc::SYS_pidfd_getfd, pidfd, fd, 0) as i32;
        let error = *libc::__errno_location();
        libc::close(pidfd);
        if copy < 0 {
            return if error == libc::EBADF {
                Copied::NotASocket
            } else {
                Copied::NotAllowed
            };
        }
        let mut status: libc::stat = std::mem::zeroed();
        let copied = if libc::fstat(copy, &mut status) != 0
            || status.st_mode & libc::S_IFMT != libc::S_IFSOCK
        {
            Copied::NotASocket
        } else {
            let option = |name| {
                let mut value: libc::c_int = 0;
                let mut size = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
                (libc::getsockopt(
                    copy,
                    libc::SOL_SOCKET,
                    name,
                    (&mut value as *mut libc::c_int).cast(),
                    &mut size,
                ) == 0)
                    .then_some(value)
            };
            let tcp = option(libc::SO_TYPE) == Some(libc::SOCK_STREAM)
                && matches!(
                    option(libc::SO_DOMAIN),
                    Some(libc::AF_INET | libc::AF_INET6)
                );
            Copied::Socket(status.st_ino, tcp)
        };
        libc::close(copy);
        copied
    }
}
