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
//! between the check and the call. (The warden lets the kernel make one call only: where it
//! owns the datagram sockets, a `connect` on any other number, handed over only to be
//! counted, its memory not read.)
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
//! Where it copies the program's descriptors ([`Mode::Copies`]), calls on unix and netlink
//! sockets are made by the warden too ([`calls`]: a call left to the kernel would let
//! another thread change the socket under its number first).
//!
//! Where the supervisor dies, the program's calls fail with `ENOSYS`: closed, not open.
//!
//! Where the machine refuses `pidfd_getfd` (Docker's default profile, without
//! `CAP_SYS_PTRACE`), the warden cannot copy a descriptor of the program's, so it owns
//! the sockets it must check instead ([`Mode::Owner`], [`owned`]): the program's
//! `socket` calls for an internet datagram socket are made by the warden, which keeps a
//! copy and puts the socket into the program at a number of a small block only it hands
//! out ([`Numbers`]); the filter hands every call naming an address on that block to the
//! warden, which makes it on its own copy, and refuses what would copy a socket out of the
//! block (`dup`, `dup2`, `dup3`, `fcntl`'s `F_DUPFD`, and `sendmsg` outside it, the only way
//! to pass a descriptor on). A socket of any other kind is the kernel's: TCP is walled by
//! Landlock, unix sockets are a socketpair only there (the harness's `--no-unix-sockets`).

mod calls;
mod filter;
mod handoff;
mod owned;
mod rules;

pub(crate) use handoff::{Handoff, Numbers};

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How the warden reaches the sockets it makes calls on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// It copies the program's descriptor at each call (`pidfd_getfd`): every socket of
    /// every family goes through it.
    Copies,
    /// It makes the program's internet datagram sockets itself and keeps a copy of each,
    /// where the machine refuses `pidfd_getfd` ([`owned`]).
    Owner,
}

/// The warden's mode on this machine: [`Mode::Copies`] where it may copy a program's
/// descriptors, else (or when `owner` asks for it) [`Mode::Owner`], or why neither can
/// work.
pub(crate) fn mode(owner: bool) -> Result<Mode, String> {
    if !owner {
        match copies_allowed() {
            Ok(()) => return Ok(Mode::Copies),
            Err(why) => {
                return owned::probe().map(|()| Mode::Owner).map_err(|owner| {
                    format!("{why}; nor can it own the program's datagram sockets: {owner}")
                });
            }
        }
    }
    owned::probe().map(|()| Mode::Owner)
}

/// Whether this machine lets the warden copy a program's descriptors (`pidfd_getfd`): not
/// where a seccomp profile refuses the call (Docker's default allows it only with
/// `CAP_SYS_PTRACE`, which it does not give).
pub(crate) fn copies_allowed() -> Result<(), String> {
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

/// The answer that lets the kernel make the call itself, as the program asked
/// (`SECCOMP_USER_NOTIF_FLAG_CONTINUE`): no error number is negative.
const CONTINUE: libc::c_int = -1;

/// Calls answered on threads of their own at once, and the most there may be.
static CALLS_IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
const CALLS_IN_FLIGHT_MAX: usize = 256;

/// Serves the program's calls on a thread of their own until no process of the program is
/// left; each call on a thread of its own, since a call may block (a `connect` that waits
/// for its peer) while others come.
///
/// `counter`: a descriptor to which a byte is appended for each TCP `connect` the program
/// makes (`--count-connects-fd`).
pub(crate) fn serve(
    listener: OwnedFd,
    ports: Vec<(u16, u16)>,
    mode: Mode,
    numbers: Numbers,
    counter: Option<libc::c_int>,
) {
    let warden = Arc::new(Warden {
        listener,
        // SAFETY: the harness's descriptor, this process's alone from here on.
        counter: counter
            .map(|fd| unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fd) }),
        reach: rules::Reach::of_this_machine(ports),
        owned: (mode == Mode::Owner).then(|| owned::Owned::new(numbers)),
    });
    let _ = std::thread::Builder::new()
        .name("warden".into())
        .spawn(move || {
            while let Some(notice) = next_notice(&warden.listener) {
                let warden = warden.clone();
                let job = move || {
                    answer(&warden, &notice);
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

/// What the warden's threads share.
struct Warden {
    listener: OwnedFd,
    /// Where the program may reach: the scenario's ports, on this machine.
    reach: rules::Reach,
    /// Where it counts the program's TCP `connect` calls, if asked to.
    counter: Option<std::fs::File>,
    /// The sockets it made for the program, where it owns them ([`Mode::Owner`]).
    owned: Option<owned::Owned>,
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
fn answer(warden: &Warden, notice: &libc::seccomp_notif) {
    let listener = &warden.listener;
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
        reach: &warden.reach,
        counter: warden.counter.as_ref(),
    };
    // Whatever happens in the warden's own code, the program gets an answer (an unanswered
    // call would wait until the program is killed).
    let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let number = libc::c_long::from(notice.data.nr);
        if let Some(owned) = &warden.owned
            && number == libc::SYS_socket
        {
            // `None`: answered by the socket's arrival in the program.
            return owned.make(listener, id, &call);
        }
        if let Some(owned) = &warden.owned
            && number == libc::SYS_connect
            && !owned.holds_number(call.args[0] as u32 as libc::c_int)
        {
            // Handed over only to be counted: the kernel makes it (Landlock walls TCP).
            calls::count_outside_connect(&call);
            return Some(Err(CONTINUE));
        }
        Some(make_call(warden, number, &call))
    }))
    .unwrap_or(Some(Err(libc::EIO)));
    let Some(answer) = answer else {
        return;
    };
    let mut response = libc::seccomp_notif_resp {
        id,
        val: 0,
        error: 0,
        flags: 0,
    };
    match answer {
        Ok(value) => response.val = value,
        Err(CONTINUE) => response.flags = libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32,
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

/// Makes call `number` on the socket its first argument names; where the warden owns the
/// sockets, once more after a port found taken, once the sockets the program closed are
/// let go.
fn make_call(warden: &Warden, number: libc::c_long, call: &calls::Call) -> calls::Answer {
    let answer = make_call_once(warden, number, call);
    match &warden.owned {
        Some(owned) if answer == Err(libc::EADDRINUSE) && owned.forget_closed_now() => {
            make_call_once(warden, number, call)
        }
        _ => answer,
    }
}

/// [`make_call`], once.
fn make_call_once(warden: &Warden, number: libc::c_long, call: &calls::Call) -> calls::Answer {
    // One copy of the descriptor, looked at and used: never looked up again.
    let target = match &warden.owned {
        Some(owned) => owned.target(call)?,
        None => calls::Target::of(call)?,
    };
    match number {
        libc::SYS_connect => calls::connect(call, &target),
        libc::SYS_bind => calls::bind(call, &target),
        libc::SYS_sendto => calls::sendto(call, &target),
        libc::SYS_sendmsg => calls::sendmsg(call, &target),
        libc::SYS_sendmmsg => calls::sendmmsg(call, &target),
        _ => Err(libc::ENOSYS),
    }
}
