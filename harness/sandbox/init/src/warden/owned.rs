//! The sockets the warden makes and keeps for the program, where it cannot copy the
//! program's ([`super::Mode::Owner`]: a machine that refuses `pidfd_getfd`).
//!
//! The program's filter hands the warden every `socket` call for an internet datagram
//! socket. The warden makes the socket itself (as the program's user, inside its walls),
//! keeps a copy, and puts the socket into the calling process at a free number of its own
//! block ([`super::Numbers::owned`]) with `SECCOMP_IOCTL_NOTIF_ADDFD`, which also answers
//! the call. The filter then hands over every `connect`, `bind` and send on those numbers,
//! and the warden finds the socket under the number by its inode
//! (`/proc/TID/fd/N` → `socket:[INODE]`) among its own copies and makes the call on its
//! copy: what another thread of the program puts under the number afterwards is not what
//! is used. A number of the block holding a socket the warden did not make is refused.
//!
//! The program cannot copy one of these sockets off the block: the filter refuses `dup`,
//! `dup2`, `dup3` and `fcntl`'s `F_DUPFD` from or onto it, and `sendmsg` (which passes
//! descriptors) anywhere else (a `sendmsg` on one of them passes nothing: an internet
//! socket carries no descriptors); nor may it make a listener of its own
//! (`SECCOMP_FILTER_FLAG_NEW_LISTENER`), whose `SECCOMP_IOCTL_NOTIF_ADDFD` could put a copy
//! anywhere (the kernel allows one listener per chain of filters only while the warden's
//! is open). Java's `DatagramChannel`, closed while another thread waits in it, first puts
//! another file under the socket's number (`dup2`): refused there.
//!
//! A socket the program closes stays open in the warden until no thread of the program
//! has been seen to hold it in two looks (`Kept::forget_closed`, made once the warden holds
//! a few), or in one where a call fails because its port is taken
//! ([`Owned::forget_closed_now`]: a program that closes a socket and binds its port again
//! finds it free).

use std::collections::{HashMap, HashSet};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Mutex;

use super::calls::{Answer, Call, Target};
use super::handoff::{Numbers, OWNED};

/// The most sockets the warden keeps for one program, all its processes together: past it,
/// `socket` fails with `EMFILE` (each may hold one of the scenario's ports).
const KEPT_MAX: usize = 256;
/// From how many kept sockets on the warden looks for the ones the program closed.
const LOOK_FROM: usize = 8;

/// The warden's copies, by inode.
pub(super) struct Owned {
    numbers: Numbers,
    sockets: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    by_inode: HashMap<u64, OwnedFd>,
    /// Those no process of the program held at the last look.
    missed: HashSet<u64>,
}

impl Owned {
    pub(super) fn new(numbers: Numbers) -> Owned {
        Owned {
            numbers,
            sockets: Mutex::new(Kept::default()),
        }
    }

    /// `socket(domain, kind, protocol)` for the program: made, kept, and put at a free
    /// number of the block in the calling process, which answers the call (`None`); or the
    /// answer to send.
    pub(super) fn make(&self, listener: &OwnedFd, id: u64, call: &Call) -> Option<Answer> {
        let [domain, kind, protocol, ..] = call.args.map(|word| word as u32 as libc::c_int);
        let mut kept = self
            .sockets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if kept.by_inode.len() >= LOOK_FROM {
            kept.forget_closed(self.numbers, false);
        }
        if kept.by_inode.len() >= KEPT_MAX {
            return Some(Err(libc::EMFILE));
        }
        // SAFETY: socket returns a new descriptor of ours or fails.
        let made = unsafe { libc::socket(domain, kind | libc::SOCK_CLOEXEC, protocol) };
        if made < 0 {
            return Some(Err(errno()));
        }
        // SAFETY: a fresh descriptor of ours.
        let socket = unsafe { OwnedFd::from_raw_fd(made) };
        let inode = match inode_of(&socket) {
            Ok(inode) => inode,
            Err(error) => return Some(Err(error)),
        };
        let Some(number) = self.free_number(call.tid) else {
            return Some(Err(libc::EMFILE));
        };
        let request = libc::seccomp_notif_addfd {
            id,
            flags: (libc::SECCOMP_ADDFD_FLAG_SETFD | libc::SECCOMP_ADDFD_FLAG_SEND) as u32,
            srcfd: socket.as_raw_fd() as u32,
            newfd: number as u32,
            newfd_flags: if kind & libc::SOCK_CLOEXEC != 0 {
                libc::O_CLOEXEC as u32
            } else {
                0
            },
        };
        if add_descriptor(listener, &request) < 0 {
            // `EBADF`: past the program's own limit of open files.
            return Some(Err(match errno() {
                libc::EBADF => libc::EMFILE,
                error => error,
            }));
        }
        kept.by_inode.insert(inode, socket);
        None
    }

    /// Whether `fd` is one of the numbers it hands out.
    pub(super) fn holds_number(&self, fd: libc::c_int) -> bool {
        self.numbers.is_owned(fd)
    }

    /// The warden's copy of the socket under the call's first argument, which must be one
    /// it made.
    pub(super) fn target(&self, call: &Call) -> Result<Target, libc::c_int> {
        let fd = call.args[0] as u32 as libc::c_int;
        if !self.numbers.is_owned(fd) {
            return Err(libc::EACCES);
        }
        let inode = socket_inode(call.tid, fd).ok_or(libc::EBADF)?;
        let kept = self
            .sockets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let copy = kept
            .by_inode
            .get(&inode)
            .ok_or(libc::EACCES)?
            .try_clone()
            .map_err(|_| libc::EMFILE)?;
        Target::on(copy)
    }

    /// After a call failed with `EADDRINUSE`: closes at once the copies of sockets no
    /// process of the program holds (one that closed its socket and binds the port again
    /// must find it free); whether any was.
    pub(super) fn forget_closed_now(&self) -> bool {
        let mut kept = self
            .sockets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        kept.forget_closed(self.numbers, true)
    }

    /// The first number of the block free in `tid`'s table.
    fn free_number(&self, tid: libc::pid_t) -> Option<libc::c_int> {
        let first = self.numbers.owned;
        (first..first + OWNED).find(|number| {
            std::fs::symlink_metadata(format!("/proc/{tid}/fd/{number}"))
                .is_err_and(|error| error.kind() == io::ErrorKind::NotFound)
        })
    }
}

impl Kept {
    /// Closes the copies of sockets no process of the program has held in two looks in a
    /// row (`at_once`: in this one): each thread of each process under this one (the
    /// program's, this being their subreaper) is looked at on the block's numbers. Nothing
    /// is closed when a process cannot be read. Whether any was.
    ///
    /// Two looks, because a socket a process hands to a child it forks a moment before it
    /// closes its own could be missed once (the child not yet listed, the parent's copy
    /// already gone); a call that failed for a port taken looks once.
    fn forget_closed(&mut self, numbers: Numbers, at_once: bool) -> bool {
        let Some(held) = held_by_the_program(numbers) else {
            return false;
        };
        let gone: Vec<u64> = self
            .by_inode
            .keys()
            .filter(|inode| !held.contains(inode))
            .copied()
            .collect();
        let missed_before = std::mem::take(&mut self.missed);
        let mut forgot = false;
        for inode in gone {
            if at_once || missed_before.contains(&inode) {
                self.by_inode.remove(&inode);
                forgot = true;
            } else {
                self.missed.insert(inode);
            }
        }
        forgot
    }
}

/// The sockets the processes under this one hold on the block's numbers, by inode; `None`
/// when one of them could not be read.
fn held_by_the_program(numbers: Numbers) -> Option<HashSet<u64>> {
    // SAFETY: getpid only reads our id.
    let own = unsafe { libc::getpid() };
    let mut held = HashSet::new();
    let mut pending = vec![own];
    let mut seen = HashSet::new();
    while let Some(pid) = pending.pop() {
        if !seen.insert(pid) {
            continue;
        }
        // Every thread's children: a process a thread forked is listed under that thread.
        let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok();
        let Some(tasks) = tasks else {
            // Gone since it was listed: it holds nothing any more.
            continue;
        };
        for task in tasks {
            let task = task.ok()?.file_name();
            let task = task.to_str()?;
            let children = std::fs::read_to_string(format!("/proc/{pid}/task/{task}/children"));
            match children {
                Ok(list) => pending.extend(
                    list.split_whitespace()
                        .filter_map(|child| child.parse::<libc::pid_t>().ok()),
                ),
                // A task that ended since it was listed; this process's own list must be
                // there (a kernel without `CONFIG_PROC_CHILDREN` lists none: then nothing
                // is forgotten rather than a socket in use).
                Err(error) if error.kind() == io::ErrorKind::NotFound && pid != own => {}
                Err(_) => return None,
            }
            // Every thread's table: one that left its process's (`unshare(CLONE_FILES)`)
            // holds its own.
            if pid != own {
                for number in numbers.owned..numbers.owned + OWNED {
                    held.extend(socket_inode_in(&format!("/proc/{pid}/task/{task}"), number));
                }
            }
        }
    }
    Some(held)
}

/// The inode of the socket under `fd` in `tid`'s table, if a socket is there.
fn socket_inode(tid: libc::pid_t, fd: libc::c_int) -> Option<u64> {
    socket_inode_in(&format!("/proc/{tid}"), fd)
}

/// The inode of the socket under `fd` in the table of the task at `task` (`/proc/...`).
fn socket_inode_in(task: &str, fd: libc::c_int) -> Option<u64> {
    let link = std::fs::read_link(format!("{task}/fd/{fd}")).ok()?;
    link.to_str()?
        .strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

fn inode_of(socket: &OwnedFd) -> Result<u64, libc::c_int> {
    // SAFETY: fstat fills our local.
    let mut status: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(socket.as_raw_fd(), &mut status) } != 0 {
        return Err(errno());
    }
    Ok(status.st_ino)
}

fn errno() -> libc::c_int {
    io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// Puts a descriptor into the process that waits in a call (`SECCOMP_IOCTL_NOTIF_ADDFD`,
/// as `request` says): the ioctl's result, negative on failure (`errno` says why).
fn add_descriptor(listener: &OwnedFd, request: &libc::seccomp_notif_addfd) -> libc::c_int {
    // SAFETY: the kernel reads our request.
    unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_ADDFD,
            request as *const libc::seccomp_notif_addfd,
        )
    }
}

/// Whether this machine lets a supervisor put a socket into the process it supervises
/// (`SECCOMP_IOCTL_NOTIF_ADDFD` with `SECCOMP_ADDFD_FLAG_SEND`, Linux 5.14): a thread of this process hands one call of its
/// own (`getppid`) to this one, which answers it with a descriptor. (Run in the harness's
/// probe, `sandbox-init --warden-probe`: the thread's filter stays with it until it ends.)
pub(super) fn probe() -> Result<(), String> {
    let (sender, receiver) = std::sync::mpsc::channel::<Result<libc::c_int, String>>();
    let (done_sender, done) = std::sync::mpsc::channel::<libc::c_long>();
    let thread = std::thread::spawn(move || {
        use crate::seccomp::{ALLOW, JUMP_EQUAL, LOAD_WORD, NR, RETURN, jump, statement};
        let code = [
            statement(LOAD_WORD, NR),
            jump(JUMP_EQUAL, libc::SYS_getppid as u32, 0, 1),
            statement(RETURN, libc::SECCOMP_RET_USER_NOTIF),
            statement(RETURN, ALLOW),
        ];
        let program = libc::sock_fprog {
            len: code.len() as u16,
            filter: code.as_ptr() as *mut libc::sock_filter,
        };
        // SAFETY: prctl and seccomp on this thread alone, with a program that lives
        // across the call.
        let listener = unsafe {
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                libc::SECCOMP_FILTER_FLAG_NEW_LISTENER,
                &program as *const libc::sock_fprog,
            )
        };
        if listener < 0 {
            let _ = sender.send(Err(format!(
                "cannot install a filter that hands calls over: {}",
                io::Error::last_os_error()
            )));
            return;
        }
        let _ = sender.send(Ok(listener as libc::c_int));
        // SAFETY: getppid, handed over and answered with a descriptor.
        let answer = unsafe { libc::syscall(libc::SYS_getppid) };
        let _ = done_sender.send(answer);
    });
    let listener = receiver
        .recv()
        .map_err(|_| "the probe's thread ended".to_string())??;
    // SAFETY: the listener the thread made, now ours alone to use.
    let listener = unsafe { OwnedFd::from_raw_fd(listener) };
    let result = (|| {
        // SAFETY: a zeroed notice, filled by the kernel.
        let mut notice: libc::seccomp_notif = unsafe { std::mem::zeroed() };
        if unsafe {
            libc::ioctl(
                listener.as_raw_fd(),
                libc::SECCOMP_IOCTL_NOTIF_RECV,
                &mut notice as *mut libc::seccomp_notif,
            )
        } != 0
        {
            return Err(format!(
                "cannot receive a call: {}",
                io::Error::last_os_error()
            ));
        }
        let request = libc::seccomp_notif_addfd {
            id: notice.id,
            flags: libc::SECCOMP_ADDFD_FLAG_SEND as u32,
            srcfd: listener.as_raw_fd() as u32,
            newfd: 0,
            newfd_flags: libc::O_CLOEXEC as u32,
        };
        if add_descriptor(&listener, &request) < 0 {
            let error = io::Error::last_os_error();
            // Answer the call all the same, so that the thread ends.
            let mut response = libc::seccomp_notif_resp {
                id: notice.id,
                val: 0,
                error: -libc::ENOSYS,
                flags: 0,
            };
            // SAFETY: the kernel reads our response.
            unsafe {
                libc::ioctl(
                    listener.as_raw_fd(),
                    libc::SECCOMP_IOCTL_NOTIF_SEND,
                    &mut response as *mut libc::seccomp_notif_resp,
                )
            };
            return Err(format!(
                "cannot put a descriptor into a process it supervises (SECCOMP_IOCTL_NOTIF_ADDFD, Linux 5.14): {error}"
            ));
        }
        Ok(())
    })();
    // Closed before the wait: a call the probe could not answer then fails (`ENOSYS`) and
    // the thread ends, rather than wait for ever.
    drop(listener);
    let answer = done.recv().unwrap_or(-1);
    let _ = thread.join();
    result?;
    if answer < 0 {
        return Err("the supervised call did not get its descriptor".into());
    }
    // SAFETY: the descriptor the call was answered with, put in our table.
    unsafe { libc::close(answer as libc::c_int) };
    Ok(())
}
