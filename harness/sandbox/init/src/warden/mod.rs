//! The warden of a program's addresses, where its scenario shares the machine's loopback.
//!
//! Landlock walls a program's TCP to its scenario's ports ([`crate::walls`]), but it has no
//! rule for UDP, and seccomp cannot read an address in memory: in a platform's container a
//! program could still send datagrams to the grader's services and to a classmate's
//! programs, bind their ports, or connect a UDP socket anywhere. So there, every call that
//! names an address is made by the warden instead: `connect`, `bind`, `sendto` with an
//! address, `sendmsg` and `sendmmsg`. A seccomp filter of the program's
//! ([`install_filter`]) hands each to the process that supervises it
//! (`SECCOMP_RET_USER_NOTIF`), which reads the call's address and bytes once, checks the
//! address ([`rules`]), makes the call itself on a copy of the program's descriptor, and
//! answers with its result ([`calls`]). Checking the program's memory and letting the
//! kernel make the call (`SECCOMP_USER_NOTIF_FLAG_CONTINUE`) would not hold: another
//! thread could change the address, or put a UDP socket under the descriptor's number,
//! between the check and the call.
//!
//! The supervising process is made fit for this before it forks the program ([`enter`]):
//! it becomes the program's user, undumpable, and raises the program's own Landlock walls
//! around itself. Its calls for the program are then checked by the kernel exactly as the
//! program's would be (TCP ports, abstract unix sockets of its own domain only, the file
//! system), and it may copy the program's descriptors and read its memory (the same user,
//! its ancestor, the program's Landlock domain nested in its own), while the program may
//! not touch it (an undumpable process of a Landlock domain above its own: no `ptrace`, no
//! signal, no copy of its descriptors).
//!
//! Calls on unix and netlink sockets are made by the warden too ([`calls`]: a call left to
//! the kernel would let another thread change the socket under its number first).
//!
//! Where the supervisor dies, the program's calls fail with `ENOSYS`: closed, not open.
//! Where the machine refuses `pidfd_getfd` ([`available`]: Docker's default profile), there
//! is no warden.

mod calls;
mod rules;

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Whether this machine lets the warden copy a program's descriptors (`pidfd_getfd`): not
/// where a seccomp profile refuses the call (Docker's default allows it only with
/// `CAP_SYS_PTRACE`, which it does not give). Without it, no warden: TCP is still walled
/// by Landlock, UDP is not, and the harness's header says so.
pub(crate) fn available() -> Result<(), String> {
    // SAFETY: descriptors of our own, closed here.
    unsafe {
        let pidfd = libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0) as libc::c_int;
        if pidfd < 0 {
            return Err(format!(
                "this machine refuses pidfd_open: {}",
                io::Error::last_os_error()
            ));
        }
        let copy = libc::syscall(libc::SYS_pidfd_getfd, pidfd, pidfd, 0) as libc::c_int;
        let error = io::Error::last_os_error();
        libc::close(pidfd);
        if copy < 0 {
            return Err(format!(
                "this machine refuses pidfd_getfd ({error}): Docker's default seccomp profile allows it only with CAP_SYS_PTRACE"
            ));
        }
        libc::close(copy);
    }
    Ok(())
}

/// Makes this process, which supervises the program, fit to make its calls: the
/// program's user (where this is root), undumpable, no new privileges, inside the
/// program's walls. Before anything is forked.
pub(crate) fn enter(privilege: &crate::privilege::Drop) -> Result<(), String> {
    // No capability, whatever the user (a root harness that had no user of its own to
    // give): nothing the warden makes for the program may be more than the program's. The
    // bounding set first, while this may still empty it (the program inherits it empty).
    crate::privilege::empty_bounding_set()
        .map_err(|error| format!("the warden cannot empty its bounding set: {error}"))?;
    // SAFETY: geteuid only reads our id.
    if unsafe { libc::geteuid() } == 0
        && let Some((uid, gid)) = privilege.user
    {
        crate::privilege::become_user(uid, gid)
            .map_err(|error| format!("the warden cannot become user {uid}: {error}"))?;
    }
    crate::privilege::empty_capability_sets()
        .map_err(|error| format!("the warden cannot drop its capabilities: {error}"))?;
    // SAFETY: prctl with plain integers.
    unsafe {
        if libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) != 0
            || libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
        {
            return Err(format!(
                "the warden cannot drop its privileges: {}",
                io::Error::last_os_error()
            ));
        }
    }
    match &privilege.walls {
        Some(walls) => crate::walls::raise(walls),
        None => Ok(()),
    }
}

/// The calls the program's filter hands to the warden.
fn filter() -> Vec<crate::seccomp::Instruction> {
    use crate::seccomp::{ALLOW, AUDIT_ARCH, JUMP_EQUAL, LOAD_WORD, NR, RETURN, jump, statement};
    /// `offsetof(struct seccomp_data, args[4])`, its low and high words.
    const ARG4_LOW: u32 = 48;
    const ARG4_HIGH: u32 = 52;
    let notify = libc::SECCOMP_RET_USER_NOTIF;
    let mut code = vec![
        // Another architecture's numbers mean other calls: the main filter kills it.
        statement(LOAD_WORD, 4),
        jump(JUMP_EQUAL, AUDIT_ARCH, 1, 0),
        statement(RETURN, ALLOW),
        statement(LOAD_WORD, NR),
    ];
    for call in [
        libc::SYS_connect,
        libc::SYS_bind,
        libc::SYS_sendmsg,
        libc::SYS_sendmmsg,
    ] {
        code.push(jump(JUMP_EQUAL, call as u32, 0, 1));
        code.push(statement(RETURN, notify));
    }
    // sendto: handed over only with an address (its fifth argument not null); without
    // one it sends where the socket is connected, which `connect` checked.
    code.extend([
        jump(JUMP_EQUAL, libc::SYS_sendto as u32, 0, 6),
        statement(LOAD_WORD, ARG4_LOW),
        jump(JUMP_EQUAL, 0, 0, 3),
        statement(LOAD_WORD, ARG4_HIGH),
        jump(JUMP_EQUAL, 0, 0, 1),
        statement(RETURN, ALLOW),
        statement(RETURN, notify),
    ]);
    // A process that makes itself undumpable would keep the warden from copying its
    // sockets, and every call it hands over would fail (Chromium does, in each of its
    // processes): the request succeeds without doing anything. Nothing of the program's
    // needs it: no process outside its Landlock domain may trace it anyway.
    code.extend([
        jump(JUMP_EQUAL, libc::SYS_prctl as u32, 0, 3),
        statement(LOAD_WORD, crate::seccomp::ARG0_LOW),
        jump(JUMP_EQUAL, libc::PR_SET_DUMPABLE as u32, 0, 1),
        statement(RETURN, libc::SECCOMP_RET_ERRNO),
        statement(RETURN, ALLOW),
    ]);
    code
}

/// The two pipes across which the warden takes the program's listener: the program
/// installs its filter and says which descriptor the listener is; the warden copies it and
/// says so; then the program closes its own and runs.
pub(crate) struct Handoff {
    number: [libc::c_int; 2],
    taken: [libc::c_int; 2],
}

impl Handoff {
    /// Made before the fork.
    pub(crate) fn new() -> io::Result<Handoff> {
        let (mut number, mut taken) = ([0; 2], [0; 2]);
        // SAFETY: pipe2 fills the two descriptors of each.
        unsafe {
            if libc::pipe2(number.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::pipe2(taken.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
                let error = io::Error::last_os_error();
                libc::close(number[0]);
                libc::close(number[1]);
                return Err(error);
            }
        }
        Ok(Handoff { number, taken })
    }

    /// In the program's process, before anything of its own runs (it holds `no_new_privs`
    /// from the warden, and was born dumpable, so that the warden may copy the listener):
    /// the filter installed, the listener handed over.
    pub(crate) fn install(&self) -> Result<(), String> {
        let failed = |what: &str| format!("{what}: {}", io::Error::last_os_error());
        // SAFETY: plain calls on our own process and the pipes' ends, which are ours.
        unsafe {
            libc::close(self.number[0]);
            libc::close(self.taken[1]);
            let code = filter();
            let program = libc::sock_fprog {
                len: code.len() as u16,
                filter: code.as_ptr() as *mut libc::sock_filter,
            };
            let install = |flags: libc::c_ulong| {
                libc::syscall(
                    libc::SYS_seccomp,
                    libc::SECCOMP_SET_MODE_FILTER,
                    flags,
                    &program as *const libc::sock_fprog,
                )
            };
            // Once the warden has the call, only a fatal signal ends the wait
            // (`WAIT_KILLABLE_RECV`, Linux 5.19): a signal the program handles would
            // otherwise restart a call the warden is making.
            let mut listener = install(
                libc::SECCOMP_FILTER_FLAG_NEW_LISTENER
                    | libc::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
            );
            if listener < 0 && *libc::__errno_location() == libc::EINVAL {
                listener = install(libc::SECCOMP_FILTER_FLAG_NEW_LISTENER);
            }
            if listener < 0 {
                return Err(failed("cannot install the warden's filter"));
            }
            let number = (listener as u32).to_ne_bytes();
            let written = libc::write(self.number[1], number.as_ptr().cast(), 4);
            let mut byte = 0u8;
            let taken = loop {
                let read = libc::read(self.taken[0], (&mut byte as *mut u8).cast(), 1);
                if read < 0 && *libc::__errno_location() == libc::EINTR {
                    continue;
                }
                break read == 1;
            };
            libc::close(listener as libc::c_int);
            libc::close(self.number[1]);
            libc::close(self.taken[0]);
            if written != 4 || !taken {
                return Err("the warden of its addresses did not take over".into());
            }
        }
        Ok(())
    }

    /// In the warden: copies the listener out of `program` (which waits), and lets it go.
    pub(crate) fn receive(self, program: libc::pid_t) -> Result<OwnedFd, String> {
        // SAFETY: the pipes' ends are ours; pidfd_open and pidfd_getfd return descriptors
        // of ours or fail.
        unsafe {
            libc::close(self.number[1]);
            libc::close(self.taken[0]);
            let mut number = [0u8; 4];
            let read = loop {
                let read = libc::read(self.number[0], number.as_mut_ptr().cast(), 4);
                if read < 0 && *libc::__errno_location() == libc::EINTR {
                    continue;
                }
                break read;
            };
            libc::close(self.number[0]);
            let result = if read != 4 {
                Err("the program ended before it handed its calls over".to_string())
            } else {
                let pidfd = libc::syscall(libc::SYS_pidfd_open, program, 0) as libc::c_int;
                let copy = if pidfd >= 0 {
                    let copy = libc::syscall(
                        libc::SYS_pidfd_getfd,
                        pidfd,
                        u32::from_ne_bytes(number) as libc::c_int,
                        0,
                    ) as libc::c_int;
                    libc::close(pidfd);
                    copy
                } else {
                    -1
                };
                if copy < 0 {
                    Err(format!(
                        "cannot take the program's calls over: {}",
                        io::Error::last_os_error()
                    ))
                } else {
                    let byte = 1u8;
                    libc::write(self.taken[1], (&byte as *const u8).cast(), 1);
                    Ok(OwnedFd::from_raw_fd(copy))
                }
            };
            libc::close(self.taken[1]);
            result
        }
    }
}

/// Calls answered on threads of their own at once, and the most there may be.
static CALLS_IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
const CALLS_IN_FLIGHT_MAX: usize = 256;

/// Serves the program's calls on a thread of their own until no process of the program is
/// left; each call on a thread of its own, since a call may block (a `connect` that waits
/// for its peer) while others come.
pub(crate) fn serve(listener: OwnedFd, ports: Vec<(u16, u16)>) {
    let listener = Arc::new(listener);
    let ports = Arc::new(ports);
    let _ = std::thread::Builder::new()
        .name("warden".into())
        .spawn(move || {
            while let Some(notice) = next_notice(&listener) {
                let (listener, ports) = (listener.clone(), ports.clone());
                let job = move || {
                    answer(&listener, &notice, &ports);
                    CALLS_IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
                };
                // A thread per call, up to a bound; past it, or with no thread to spare,
                // the call is answered here, in turn (a program that blocks many calls
                // at once then waits for its own).
                let running = CALLS_IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
                if running >= CALLS_IN_FLIGHT_MAX
                    || std::thread::Builder::new().spawn(job.clone()).is_err()
                {
                    job();
                }
            }
        });
}

/// The next call handed over, or `None` once every process of the program has ended.
fn next_notice(listener: &OwnedFd) -> Option<libc::seccomp_notif> {
    loop {
        let mut ready = libc::pollfd {
            fd: listener.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: poll fills our one entry.
        if unsafe { libc::poll(&mut ready, 1, -1) } < 0 {
            if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return None;
        }
        if ready.revents & libc::POLLIN == 0 {
            return None;
        }
        // SAFETY: a zeroed notice (the kernel insists), filled by the kernel.
        let mut notice: libc::seccomp_notif = unsafe { std::mem::zeroed() };
        let received = unsafe {
            libc::ioctl(
                listener.as_raw_fd(),
                libc::SECCOMP_IOCTL_NOTIF_RECV,
                &mut notice as *mut libc::seccomp_notif,
            )
        };
        if received == 0 {
            return Some(notice);
        }
        match io::Error::last_os_error().raw_os_error() {
            // Interrupted, or the caller was gone before it was read: the next.
            Some(libc::EINTR | libc::ENOENT) => continue,
            _ => return None,
        }
    }
}

/// Makes the call `notice` hands over and answers it.
fn answer(listener: &OwnedFd, notice: &libc::seccomp_notif, ports: &[(u16, u16)]) {
    let id = notice.id;
    let still_waiting = || {
        // SAFETY: the kernel reads the id.
        unsafe {
            libc::ioctl(
                listener.as_raw_fd(),
                libc::SECCOMP_IOCTL_NOTIF_ID_VALID,
                &id as *const u64,
            ) == 0
        }
    };
    let call = calls::Call {
        tid: notice.pid as libc::pid_t,
        args: notice.data.args,
        still_waiting: &still_waiting,
        ports,
    };
    // Whatever happens in the warden's own code, the program gets an answer (an unanswered
    // call would wait until the program is killed).
    let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // One copy of the descriptor, looked at and used: never looked up again.
        let target = calls::Target::of(&call)?;
        match libc::c_long::from(notice.data.nr) {
            libc::SYS_connect => calls::connect(&call, &target),
            libc::SYS_bind => calls::bind(&call, &target),
            libc::SYS_sendto => calls::sendto(&call, &target),
            libc::SYS_sendmsg => calls::sendmsg(&call, &target),
            libc::SYS_sendmmsg => calls::sendmmsg(&call, &target),
            _ => Err(libc::ENOSYS),
        }
    }))
    .unwrap_or(Err(libc::EIO));
    let mut response = libc::seccomp_notif_resp {
        id,
        val: 0,
        error: 0,
        flags: 0,
    };
    match answer {
        Ok(value) => response.val = value,
        Err(error) => response.error = -error,
    }
    // SAFETY: the kernel reads our response. ENOENT: the program no longer waits.
    unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_SEND,
            &mut response as *mut libc::seccomp_notif_resp,
        );
    }
}
