//! The cut itself: at a seccomp stop, the call's length lowered in its registers, or its
//! buffers' in the program's memory (put back as the call returns); or, now and then, the
//! call failed with `EINTR` without being made.

use super::{Tracer, peek, poke};

impl Tracer {
    /// At a seccomp stop of `pid`: cuts the call if it moves bytes on a TCP socket.
    /// Whether memory was changed (and must be put back as the call returns).
    #[cfg(target_arch = "x86_64")]
    pub(super) fn cut(&mut self, pid: libc::pid_t) -> bool {
        // SAFETY: the kernel fills our local with the stopped tracee's registers.
        let mut regs: libc::user_regs_struct = unsafe { std::mem::zeroed() };
        if unsafe { libc::ptrace(libc::PTRACE_GETREGS, pid, 0, &mut regs) } != 0 {
            return false;
        }
        let number = regs.orig_rax as libc::c_long;
        let fd = regs.rdi as i64;
        let mut changed = Vec::new();
        // `recv(MSG_WAITALL)` asks for all of it: a shorter length would end it early.
        let wait_all = |flags: u64| flags & libc::MSG_WAITALL as u64 != 0;
        if self.interrupted(pid, &mut regs) {
            return false;
        }
        let cut = match number {
            libc::SYS_epoll_ctl => {
                self.note_epoll(pid, &regs);
                false
            }
            libc::SYS_recvfrom if wait_all(regs.r10) => false,
            libc::SYS_recvmsg if wait_all(regs.rdx) => false,
            libc::SYS_recvmmsg if wait_all(regs.r10) => false,
            libc::SYS_read | libc::SYS_write | libc::SYS_recvfrom | libc::SYS_sendto => {
                self.is_tcp(pid, fd) && self.lower(&mut regs.rdx)
            }
            libc::SYS_sendfile => self.is_tcp(pid, fd) && self.lower(&mut regs.r10),
            libc::SYS_splice => {
                (self.is_tcp(pid, fd) || self.is_tcp(pid, regs.rdx as i64))
                    && self.lower(&mut regs.r8)
            }
            // The calls that take their buffers in memory become the plain call on their
            // first buffer, in registers alone: another thread of the program could change
            // an `iovec` between the tracer's reading it and the kernel's.
            libc::SYS_readv | libc::SYS_writev | libc::SYS_preadv2 | libc::SYS_pwritev2 => {
                let plain = if matches!(number, libc::SYS_readv | libc::SYS_preadv2) {
                    libc::SYS_read
                } else {
                    libc::SYS_write
                };
                // preadv2 and pwritev2 at an offset cannot be a socket's (ESPIPE).
                let positioned = matches!(number, libc::SYS_preadv2 | libc::SYS_pwritev2)
                    && regs.r10 as i64 != -1;
                !positioned
                    && self.is_tcp(pid, fd)
                    && match self.first_buffer(pid, regs.rsi, regs.rdx) {
                        Some((base, length)) => {
                            regs.orig_rax = plain as u64;
                            regs.rsi = base;
                            regs.rdx = length;
                            true
                        }
                        None => false,
                    }
            }
            libc::SYS_recvmsg | libc::SYS_sendmsg => {
                let plain = if number == libc::SYS_recvmsg {
                    libc::SYS_recvfrom
                } else {
                    libc::SYS_sendto
                };
                // struct msghdr on x86-64: name 0, namelen 8, iov 16, iovlen 24, control
                // 32, controllen 40, flags 48. A TCP socket has no address to give or
                // take; control data is left to the whole call. `msg_flags` is not
                // written (a TCP socket's are none that matter).
                let message = regs.rsi;
                let name = peek(pid, message);
                let controls = message.checked_add(40).and_then(|at| peek(pid, at));
                let iovecs = message.checked_add(16).and_then(|at| peek(pid, at));
                let count = message.checked_add(24).and_then(|at| peek(pid, at));
                let flags = regs.rdx;
                controls == Some(0)
                    && self.is_tcp(pid, fd)
                    && match iovecs
                        .zip(count)
                        .and_then(|(iovecs, count)| self.first_buffer(pid, iovecs, count))
                    {
                        Some((base, length)) => {
                            regs.orig_rax = plain as u64;
                            regs.rsi = base;
                            regs.rdx = length;
                            regs.r10 = flags;
                            // recvfrom writes the length of the address it gives (none:
                            // 0) where recvmsg would, into `msg_namelen`.
                            (regs.r8, regs.r9) = match name {
                                Some(name) if name != 0 && plain == libc::SYS_recvfrom => {
                                    (name, message + 8)
                                }
                                _ => (0, 0),
                            };
                            true
                        }
                        None => false,
                    }
            }
            libc::SYS_recvmmsg | libc::SYS_sendmmsg => {
                // One message at a time (its `msg_len` says how much moved), shortened as
                // `sendmsg`'s is: `struct mmsghdr` begins with its `msghdr`.
                self.is_tcp(pid, fd) && regs.rdx >= 1 && {
                    let shortened = self.shorten_message(pid, regs.rsi, &mut changed);
                    if regs.rdx > 1 {
                        regs.rdx = 1;
                        true
                    } else {
                        shortened
                    }
                }
            }
            _ => false,
        };
        if !cut {
            self.restore_now(pid, changed);
            return false;
        }
        // SAFETY: the kernel reads our local into the stopped tracee's registers.
        if unsafe { libc::ptrace(libc::PTRACE_SETREGS, pid, 0, &regs) } != 0 {
            self.restore_now(pid, changed);
            return false;
        }
        if changed.is_empty() {
            return false;
        }
        self.pending.insert(pid, changed);
        true
    }

    /// Fails the call with `EINTR` without making it, as a signal whose handler was
    /// installed without `SA_RESTART` would, now and then as the plan says: only a call that
    /// would block (a blocking TCP socket, no `MSG_DONTWAIT`), never one left whole
    /// (`MSG_WAITALL`). The call is skipped (its number set to -1 at the seccomp stop) and
    /// returns what the return register holds. Whether it was.
    #[cfg(target_arch = "x86_64")]
    fn interrupted(&mut self, pid: libc::pid_t, regs: &mut libc::user_regs_struct) -> bool {
        let flags = match regs.orig_rax as libc::c_long {
            libc::SYS_read | libc::SYS_write | libc::SYS_readv | libc::SYS_writev => 0,
            libc::SYS_recvfrom | libc::SYS_sendto => regs.r10,
            libc::SYS_recvmsg | libc::SYS_sendmsg => regs.rdx,
            _ => return false,
        };
        let fd = regs.rdi as i64;
        let interrupted = self.eintr_ppm > 0
            && flags & (libc::MSG_DONTWAIT | libc::MSG_WAITALL) as u64 == 0
            && self.is_tcp(pid, fd)
            && !self.is_non_blocking(pid, fd)
            && self.interrupts();
        if !interrupted {
            return false;
        }
        regs.orig_rax = u64::MAX;
        regs.rax = (-libc::EINTR) as u64;
        // SAFETY: the kernel reads our local into the stopped tracee's registers.
        unsafe { libc::ptrace(libc::PTRACE_SETREGS, pid, 0, &*regs) == 0 }
    }

    #[cfg(not(target_arch = "x86_64"))]
    pub(super) fn cut(&mut self, _pid: libc::pid_t) -> bool {
        false
    }

    /// Puts back at once what was written for a cut that was not made.
    fn restore_now(&mut self, pid: libc::pid_t, changed: Vec<(u64, u64)>) {
        for (address, word) in changed.into_iter().rev() {
            poke(pid, address, word);
        }
    }

    /// Lowers a length register to a draw; whether it changed.
    fn lower(&mut self, length: &mut u64) -> bool {
        let draw = self.draw();
        if *length > draw {
            *length = draw;
            true
        } else {
            false
        }
    }

    /// The first buffer of the `count` `iovec`s at `address` that holds bytes, cut to a
    /// draw: `(base, length)`, or `None` when together they hold no more than the draw.
    fn first_buffer(&mut self, pid: libc::pid_t, address: u64, count: u64) -> Option<(u64, u64)> {
        let draw = self.draw();
        let mut first = None;
        let mut total = 0u64;
        // The kernel's own limit (UIO_MAXIOV).
        for index in 0..count.min(1024) {
            let at = address.checked_add(16 * index)?;
            let length = peek(pid, at.checked_add(8)?)?;
            if length > 0 && first.is_none() {
                first = Some((peek(pid, at)?, length.min(draw)));
            }
            total = total.saturating_add(length);
            if total > draw {
                return first;
            }
        }
        None
    }

    /// Keeps the first buffers of the `count` `iovec`s at `address` that hold a draw's
    /// bytes, the last of them shortened in the tracee's memory (its old length in
    /// `changed`). The new count, or `None` when they hold no more than the draw.
    fn shorten_iovecs(
        &mut self,
        pid: libc::pid_t,
        address: u64,
        count: u64,
        changed: &mut Vec<(u64, u64)>,
    ) -> Option<u64> {
        let draw = self.draw();
        let mut total = 0u64;
        // The kernel's own limit (UIO_MAXIOV).
        for index in 0..count.min(1024) {
            let length_at = address.checked_add(16 * index + 8)?;
            let length = peek(pid, length_at)?;
            if total.saturating_add(length) > draw {
                let kept = draw - total;
                if kept == 0 {
                    return Some(index);
                }
                changed.push((length_at, length));
                if !poke(pid, length_at, kept) {
                    changed.pop();
                    return None;
                }
                return Some(index + 1);
            }
            total += length;
        }
        None
    }

    /// Shortens the `msghdr` at `address`: its `iovec`s as [`Tracer::shorten_iovecs`]
    /// does, and its `msg_iovlen`. Whether it changed.
    fn shorten_message(
        &mut self,
        pid: libc::pid_t,
        address: u64,
        changed: &mut Vec<(u64, u64)>,
    ) -> bool {
        // struct msghdr on x86-64: name 0, namelen 8, iov 16, iovlen 24, control 32,
        // controllen 40, flags 48.
        let (Some(iov), Some(iovlen_at)) = (
            address.checked_add(16).and_then(|at| peek(pid, at)),
            address.checked_add(24),
        ) else {
            return false;
        };
        let Some(count) = peek(pid, iovlen_at) else {
            return false;
        };
        let Some(kept) = self.shorten_iovecs(pid, iov, count, changed) else {
            return false;
        };
        changed.push((iovlen_at, count));
        if !poke(pid, iovlen_at, kept) {
            changed.pop();
            return false;
        }
        true
    }
}
