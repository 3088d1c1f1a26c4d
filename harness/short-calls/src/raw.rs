//! System calls made by number go through the library too.
//!
//! The C library's `syscall(number, ...)` makes any system call without its named function:
//! `syscall(SYS_sendto, fd, buf, len, 0, NULL, 0)` in C, or
//! `ctypes.CDLL(None).syscall(44, ...)` from Python. A program that wanted its unchecked
//! `send()` to go unnoticed could send that way, past the library's `send`, or
//! `syscall(SYS_execve, ...)` itself without `LD_PRELOAD` in the environment it hands on.
//! So the library stands in front of `syscall` as well, and hands each call it has a
//! function for to that function (`SYS_write` to [`write`](super::write), `SYS_execve` to
//! [`execve`](super::exec::execve), ...): the same cut, the same redirection, the same
//! environment kept, whichever way the program asked. Every other number goes to the C
//! library's `syscall` unchanged.
//!
//! What is beyond any library: a system call made by the program's own machine code (the
//! `syscall` instruction in inline assembly, or in code it writes and jumps to), and a
//! statically linked program, which no dynamic loader enters. `sandbox-init`'s tracer cuts
//! both from outside (`harness/sandbox/init/src/trace.rs`); where the machine refuses
//! tracing, the harness refuses a static program before it starts, and
//! [`exec`](super::exec) refuses to run one from a program it is in.
//!
//! The library's own raw calls use `kernel`, which goes straight to the C library's
//! `syscall`: a note written on stderr while the setting is being read must not come back
//! into the library's `write` (which reads the setting).

use libc::{c_int, c_long, c_uint, c_void, iovec, mmsghdr, msghdr, off_t, size_t, sockaddr};

use super::Real;

/// The C library's `syscall`.
static REAL_SYSCALL: Real = Real::new(c"syscall");

/// The functions this module calls on, for the constructor to find up front.
pub(crate) const ALL_REAL: [&Real; 1] = [&REAL_SYSCALL];

/// The C library's `syscall(number, ...)`, variadic as C declares it.
#[cfg(not(test))]
type SyscallFn = unsafe extern "C" fn(c_long, ...) -> c_long;

/// A raw system call of the library's own, past its own `syscall` (see the module's text).
///
/// # Safety
///
/// The arguments are what the system call `number` takes.
pub(crate) unsafe fn kernel(
    number: c_long,
    a: c_long,
    b: c_long,
    c: c_long,
    d: c_long,
    e: c_long,
) -> c_long {
    #[cfg(test)]
    {
        // SAFETY: the caller's system call and arguments.
        unsafe { libc::syscall(number, a, b, c, d, e) }
    }
    #[cfg(not(test))]
    {
        // SAFETY: as above.
        unsafe { real_syscall(number, [a, b, c, d, e, 0]) }
    }
}

/// The C library's `syscall` with `arguments`; `ENOSYS` without one.
///
/// # Safety
///
/// The arguments are what the system call `number` takes.
#[cfg(not(test))]
unsafe fn real_syscall(number: c_long, arguments: [c_long; 6]) -> c_long {
    let address = REAL_SYSCALL.address();
    if address == 0 {
        super::set_errno(libc::ENOSYS);
        return -1;
    }
    // SAFETY: the C library's `syscall`, of this type.
    let function: SyscallFn = unsafe { core::mem::transmute::<usize, SyscallFn>(address) };
    let [a, b, c, d, e, f] = arguments;
    // SAFETY: the caller's system call and arguments.
    unsafe { function(number, a, b, c, d, e, f) }
}

/// syscall(2): a call the library has a function for goes to that function, with the
/// arguments the call takes; any other to the C library's `syscall` unchanged.
///
/// Declared with six arguments after the number rather than C's `...`: on the machines
/// the kit runs on (x86-64 and AArch64 Linux) a variadic call passes integers exactly where
/// a fixed one does, and the C library's own `syscall` reads six whatever the caller
/// passed. An argument the caller did not pass is read but never used.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn syscall(
    number: c_long,
    a: c_long,
    b: c_long,
    c: c_long,
    d: c_long,
    e: c_long,
    f: c_long,
) -> c_long {
    // SAFETY: each branch passes the caller's arguments to the function of the system call
    // the caller named, as that system call takes them.
    unsafe {
        match number {
            libc::SYS_write => super::write(a as c_int, b as *const c_void, c as size_t) as c_long,
            libc::SYS_read => super::read(a as c_int, b as *mut c_void, c as size_t) as c_long,
            libc::SYS_writev => super::writev(a as c_int, b as *const iovec, c as c_int) as c_long,
            libc::SYS_readv => super::readv(a as c_int, b as *const iovec, c as c_int) as c_long,
            libc::SYS_sendto => super::sendto(
                a as c_int,
                b as *const c_void,
                c as size_t,
                d as c_int,
                e as *const sockaddr,
                f as libc::socklen_t,
            ) as c_long,
            libc::SYS_recvfrom => super::recvfrom(
                a as c_int,
                b as *mut c_void,
                c as size_t,
                d as c_int,
                e as *mut sockaddr,
                f as *mut libc::socklen_t,
            ) as c_long,
            libc::SYS_sendmsg => {
                super::sendmsg(a as c_int, b as *const msghdr, c as c_int) as c_long
            }
            libc::SYS_recvmsg => super::recvmsg(a as c_int, b as *mut msghdr, c as c_int) as c_long,
            libc::SYS_sendmmsg => {
                super::sendmmsg(a as c_int, b as *mut mmsghdr, c as c_uint, d as c_int) as c_long
            }
            libc::SYS_recvmmsg => super::recvmmsg(
                a as c_int,
                b as *mut mmsghdr,
                c as c_uint,
                d as c_int,
                e as *mut libc::timespec,
            ) as c_long,
            libc::SYS_sendfile => {
                super::sendfile(a as c_int, b as c_int, c as *mut off_t, d as size_t) as c_long
            }
            libc::SYS_splice => super::splice(
                a as c_int,
                b as *mut libc::loff_t,
                c as c_int,
                d as *mut libc::loff_t,
                e as size_t,
                f as c_uint,
            ) as c_long,
            libc::SYS_connect => {
                super::redirect::connect(a as c_int, b as *const sockaddr, c as libc::socklen_t)
                    as c_long
            }
            libc::SYS_bind => {
                super::redirect::bind(a as c_int, b as *const sockaddr, c as libc::socklen_t)
                    as c_long
            }
            libc::SYS_epoll_ctl => super::epoll_ctl(
                a as c_int,
                b as c_int,
                c as c_int,
                d as *mut libc::epoll_event,
            ) as c_long,
            libc::SYS_execve => super::exec::execve(
                a as *const libc::c_char,
                b as *const *const libc::c_char,
                c as *const *const libc::c_char,
            ) as c_long,
            libc::SYS_execveat => super::exec::execveat(
                a as c_int,
                b as *const libc::c_char,
                c as *const *const libc::c_char,
                d as *const *const libc::c_char,
                e as c_int,
            ) as c_long,
            _ => real_syscall(number, [a, b, c, d, e, f]),
        }
    }
}
