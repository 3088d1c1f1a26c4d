//! How the warden gets the program's listener, and the descriptor numbers it keeps for
//! itself in the program.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use super::Mode;
use super::filter::filter;

/// The descriptor numbers the warden keeps for itself in the program, worked out from its
/// limit of open files before it is forked (the same in the warden and the program).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Numbers {
    /// The socket the listener is handed over on, at the program's limit: once it is
    /// closed the limit is lowered to it, so no descriptor of the program's can have this
    /// number again, and the filter lets `sendmsg` on it through for the handover alone.
    pub handoff: libc::c_int,
    /// The first of the [`OWNED`] numbers where the warden puts the sockets it owns
    /// ([`Mode::Owner`]): the last ones below 1024 (`FD_SETSIZE`), where `select` takes them.
    pub owned: libc::c_int,
}

/// How many sockets the warden may own in one process of the program at once.
pub(crate) const OWNED: libc::c_int = 64;

impl Numbers {
    /// From this process's limit of open files (at most 8192: a larger one would make
    /// the handover's number a large table).
    pub(crate) fn now() -> io::Result<Numbers> {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit fills our local.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let top = limit.rlim_max.min(8192) as libc::c_int;
        // Below `FD_SETSIZE`, where `select` still takes them (Python's `select.select`
        // refuses a larger number, C's `FD_SET` writes past its set), and above what a
        // program opens by the hundred.
        let owned_end = (libc::FD_SETSIZE as libc::c_int).min(top - 1);
        if owned_end < 4 * OWNED {
            return Err(io::Error::other(format!(
                "a limit of {top} open files leaves no room for the warden's own numbers"
            )));
        }
        Ok(Numbers {
            handoff: top - 1,
            owned: owned_end - OWNED,
        })
    }

    /// Whether `fd` is one of the numbers the warden hands out.
    pub(crate) fn is_owned(&self, fd: libc::c_int) -> bool {
        (self.owned..self.owned + OWNED).contains(&fd)
    }
}

/// The socket pair across which the warden takes the program's listener (`SCM_RIGHTS`,
/// which every machine allows, unlike `pidfd_getfd`): the program installs its filter and
/// sends the listener from [`Numbers::handoff`]; the warden says it has it; the program
/// closes both and lowers its limit of open files below that number for good.
pub(crate) struct Handoff {
    /// The warden's end and the program's.
    ends: [libc::c_int; 2],
    mode: Mode,
    numbers: Numbers,
    /// Whether the warden counts the program's TCP `connect` calls.
    counting: bool,
}

impl Handoff {
    /// Made before the fork.
    pub(crate) fn new(mode: Mode, counting: bool) -> io::Result<Handoff> {
        let numbers = Numbers::now()?;
        let mut ends = [0; 2];
        // SAFETY: socketpair fills the two descriptors.
        if unsafe {
            libc::socketpair(
                libc::AF_UNIX,
                libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
                0,
                ends.as_mut_ptr(),
            )
        } != 0
        {
            return Err(io::Error::last_os_error());
        }
        Ok(Handoff {
            ends,
            mode,
            numbers,
            counting,
        })
    }

    /// In the program's process, before anything of its own runs (it holds `no_new_privs`
    /// from the warden, and was born dumpable, so that the warden may read its memory):
    /// the filter installed, the listener handed over.
    pub(crate) fn install(&self) -> Result<(), String> {
        let failed = |what: &str| format!("{what}: {}", io::Error::last_os_error());
        let handoff = self.numbers.handoff;
        // SAFETY: plain calls on our own process and the pair's ends, which are ours.
        unsafe {
            libc::close(self.ends[0]);
            // The handover's number, at the limit's top: the limit raised to allow it.
            let mut limit = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
            let soft = limit.rlim_cur;
            limit.rlim_cur = limit.rlim_max;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0
                || libc::dup3(self.ends[1], handoff, libc::O_CLOEXEC) != handoff
            {
                return Err(failed("cannot place the warden's socket"));
            }
            libc::close(self.ends[1]);
            let code = filter(self.mode, self.numbers, self.counting);
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
            let listener = listener as libc::c_int;
            let sent = send_descriptor(handoff, listener);
            let mut byte = 0u8;
            let taken = sent
                && loop {
                    let read = libc::read(handoff, (&mut byte as *mut u8).cast(), 1);
                    if read < 0 && *libc::__errno_location() == libc::EINTR {
                        continue;
                    }
                    break read == 1;
                };
            libc::close(listener);
            libc::close(handoff);
            // No descriptor of the program's can have the handover's number again.
            limit.rlim_max = handoff as libc::rlim_t;
            limit.rlim_cur = soft.min(limit.rlim_max);
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(failed("cannot lower the limit of open files"));
            }
            if !taken {
                return Err("the warden of its addresses did not take over".into());
            }
        }
        Ok(())
    }

    /// In the warden: receives the listener from the program (which waits), and lets it go.
    pub(crate) fn receive(self) -> Result<OwnedFd, String> {
        // SAFETY: the pair's ends are ours; a descriptor received is ours.
        unsafe {
            libc::close(self.ends[1]);
            let end = OwnedFd::from_raw_fd(self.ends[0]);
            let listener = receive_descriptor(end.as_raw_fd())
                .ok_or("the program ended before it handed its calls over")?;
            let byte = 1u8;
            libc::write(end.as_raw_fd(), (&byte as *const u8).cast(), 1);
            Ok(listener)
        }
    }

    /// The numbers the program's filter was made with.
    pub(crate) fn numbers(&self) -> Numbers {
        self.numbers
    }
}

/// The control message of one descriptor: its header and the descriptor, aligned.
#[repr(C)]
union OneDescriptor {
    header: libc::cmsghdr,
    bytes: [u8; 24],
}

/// A message of one byte and room for one descriptor, for [`send_descriptor`] and
/// [`receive_descriptor`]: its parts live in the caller's frame, the message points at them.
struct OneByteMessage {
    byte: u8,
    vector: libc::iovec,
    control: OneDescriptor,
    message: libc::msghdr,
}

impl OneByteMessage {
    /// Made in place (`slot`), since the message points into itself.
    fn fill(slot: &mut std::mem::MaybeUninit<OneByteMessage>) -> &mut OneByteMessage {
        // SAFETY: every field is plain old data, for which all zeroes is valid; the
        // pointers set below are into the same value, which the caller keeps in place.
        unsafe {
            let this = slot.write(std::mem::zeroed());
            this.vector.iov_base = (&mut this.byte as *mut u8).cast();
            this.vector.iov_len = 1;
            this.message.msg_iov = &mut this.vector;
            this.message.msg_iovlen = 1;
            this.message.msg_control = (&mut this.control as *mut OneDescriptor).cast();
            this.message.msg_controllen = libc::CMSG_SPACE(4) as _;
            this
        }
    }
}

/// Sends `fd` on the unix socket `socket` (`SCM_RIGHTS`) with one byte.
fn send_descriptor(socket: libc::c_int, fd: libc::c_int) -> bool {
    let mut slot = std::mem::MaybeUninit::uninit();
    let one = OneByteMessage::fill(&mut slot);
    // SAFETY: the message's control buffer holds one header and one descriptor; the kernel
    // reads the message, whose parts live across the call.
    unsafe {
        let header = libc::CMSG_FIRSTHDR(&one.message);
        (*header).cmsg_level = libc::SOL_SOCKET;
        (*header).cmsg_type = libc::SCM_RIGHTS;
        (*header).cmsg_len = libc::CMSG_LEN(4) as _;
        std::ptr::copy_nonoverlapping(
            (&fd as *const libc::c_int).cast::<u8>(),
            libc::CMSG_DATA(header),
            4,
        );
        loop {
            let sent = libc::sendmsg(socket, &one.message, libc::MSG_NOSIGNAL);
            if sent < 0 && *libc::__errno_location() == libc::EINTR {
                continue;
            }
            return sent == 1;
        }
    }
}

/// The descriptor sent on `socket` by [`send_descriptor`], or `None` when none came.
fn receive_descriptor(socket: libc::c_int) -> Option<OwnedFd> {
    let mut slot = std::mem::MaybeUninit::uninit();
    let one = OneByteMessage::fill(&mut slot);
    let message = &mut one.message;
    // SAFETY: the kernel fills the message, whose parts live across the call; a
    // descriptor the kernel put in our table is ours.
    unsafe {
        let received = loop {
            let received = libc::recvmsg(socket, message, libc::MSG_CMSG_CLOEXEC);
            if received < 0 && *libc::__errno_location() == libc::EINTR {
                continue;
            }
            break received;
        };
        let header = libc::CMSG_FIRSTHDR(message);
        if received != 1
            || header.is_null()
            || (*header).cmsg_level != libc::SOL_SOCKET
            || (*header).cmsg_type != libc::SCM_RIGHTS
        {
            return None;
        }
        let mut fd: libc::c_int = -1;
        std::ptr::copy_nonoverlapping(
            libc::CMSG_DATA(header),
            (&mut fd as *mut libc::c_int).cast::<u8>(),
            4,
        );
        (fd >= 0).then(|| OwnedFd::from_raw_fd(fd))
    }
}
