//! The calls the warden makes for the program on its internet sockets, one function each:
//! it reads what the program passed (the address, the bytes) once, into its own memory, checks the address ([`super::rules`]), and makes the call itself on a copy of
//! the program's descriptor (`pidfd_getfd`: the same socket, so the program sees the
//! outcome as its own). The kernel never reads the program's memory for these calls, so
//! another thread of the program cannot change the address after the check, nor put
//! another socket under the descriptor's number.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use super::rules::{self, Socket, Use};

/// The longest address a call may pass (`sizeof(struct sockaddr_storage)`).
const ADDRESS_MAX: u64 = 128;
/// The most bytes one send carries through the warden: a stream socket's send is cut here
/// (a short send, as any kernel may make); a longer datagram fails with `EMSGSIZE`.
const BYTES_MAX: u64 = 4 << 20;
/// The most buffers of one `sendmsg` and messages of one `sendmmsg` (`UIO_MAXIOV`).
const VECTOR_MAX: u64 = 1024;
/// The most ancillary bytes of one message (descriptors passed on a unix socket).
const CONTROL_MAX: u64 = 64 << 10;
/// `sizeof(struct msghdr)` and `sizeof(struct mmsghdr)` on a 64-bit machine.
const MSGHDR: u64 = 56;
const MMSGHDR: u64 = 64;

/// A call's return value, or the error it fails with.
pub(super) type Answer = Result<i64, libc::c_int>;

/// One notified call of the program's: the thread that waits in it and its arguments.
pub(super) struct Call<'a> {
    pub tid: libc::pid_t,
    pub args: [u64; 6],
    /// Whether the program still waits in this call (`SECCOMP_IOCTL_NOTIF_ID_VALID`),
    /// asked after its memory was read: what was read is then the waiting thread's, not
    /// another process's that took its id after it ended.
    pub still_waiting: &'a dyn Fn() -> bool,
    /// The scenario's ports.
    pub ports: &'a [(u16, u16)],
}

/// Whether the call's socket is an internet one, which the warden makes the call on; any
/// other (unix, netlink) the kernel makes itself, checked by the program's own walls (a
/// call on a unix socket made by the warden would carry the warden's process id to its
/// peer, `SCM_CREDENTIALS` and `SO_PEERCRED`, which Chromium's processes check). An error
/// where its descriptor is none.
pub(super) fn is_internet(call: &Call) -> Result<bool, libc::c_int> {
    let (_, kind) = call.socket(call.args[0])?;
    Ok(kind.domain == libc::AF_INET || kind.domain == libc::AF_INET6)
}

pub(super) fn connect(call: &Call) -> Answer {
    let [fd, name, length, ..] = call.args;
    let address = call.address(name, length)?;
    let (socket, kind) = call.socket(fd)?;
    call.confirm()?;
    refuse(kind, Use::Connect, &address, call.ports)?;
    settle(&socket, kind, call.ports)?;
    // SAFETY: our copy of the socket, an address buffer we own with its length.
    outcome(unsafe {
        libc::connect(
            socket.as_raw_fd(),
            address.as_ptr().cast(),
            address.len() as u32,
        )
    } as isize)
}

pub(super) fn bind(call: &Call) -> Answer {
    let [fd, name, length, ..] = call.args;
    let address = call.address(name, length)?;
    let (socket, kind) = call.socket(fd)?;
    call.confirm()?;
    refuse(kind, Use::Bind, &address, call.ports)?;
    if is_udp(kind) && address.len() >= 4 && address[2..4] == [0, 0] {
        return bind_in_block(&socket, &address, call.ports);
    }
    // SAFETY: as in `connect`.
    outcome(unsafe {
        libc::bind(
            socket.as_raw_fd(),
            address.as_ptr().cast(),
            address.len() as u32,
        )
    } as isize)
}

/// `sendto` with an address (without one, the filter lets the kernel make it).
pub(super) fn sendto(call: &Call) -> Answer {
    let [fd, buffer, length, flags, name, name_length] = call.args;
    let address = call.address(name, name_length)?;
    let (socket, kind) = call.socket(fd)?;
    refuse(kind, Use::Send, &address, call.ports)?;
    let bytes = call.read(buffer, bounded(kind, length)?)?;
    call.confirm()?;
    settle(&socket, kind, call.ports)?;
    let flags = flags as libc::c_int;
    // SAFETY: our copy of the socket; buffers we own with their lengths.
    let sent = unsafe {
        libc::sendto(
            socket.as_raw_fd(),
            bytes.as_ptr().cast(),
            bytes.len(),
            flags | libc::MSG_NOSIGNAL,
            address.as_ptr().cast(),
            address.len() as u32,
        )
    };
    call.signal_broken_pipe(outcome(sent), flags)
}

pub(super) fn sendmsg(call: &Call) -> Answer {
    let [fd, header, flags, ..] = call.args;
    let (socket, kind) = call.socket(fd)?;
    let message = Message::read(call, header, kind)?;
    call.confirm()?;
    settle(&socket, kind, call.ports)?;
    let flags = flags as libc::c_int;
    call.signal_broken_pipe(message.send(&socket, flags), flags)
}

/// Each message as `sendmsg` sends it, its length written back where the program reads
/// it; the number sent, or the first one's error.
pub(super) fn sendmmsg(call: &Call) -> Answer {
    let [fd, vector, count, flags, ..] = call.args;
    let (socket, kind) = call.socket(fd)?;
    let flags = flags as libc::c_int;
    let mut sent = 0;
    while sent < count.min(VECTOR_MAX) {
        let entry = vector.wrapping_add(sent * MMSGHDR);
        let result = Message::read(call, entry, kind).and_then(|message| {
            call.confirm()?;
            settle(&socket, kind, call.ports)?;
            message.send(&socket, flags)
        });
        match call.signal_broken_pipe(result, flags) {
            Ok(bytes) => call.write_u32(entry.wrapping_add(MSGHDR), bytes as u32)?,
            Err(error) if sent == 0 => return Err(error),
            Err(_) => break,
        }
        sent += 1;
    }
    Ok(sent as i64)
}

/// A message of `sendmsg`, read out of the program's memory: its address, its bytes in
/// one buffer, its ancillary data.
struct Message {
    address: Vec<u8>,
    bytes: Vec<u8>,
    control: Vec<u8>,
}

impl Message {
    fn read(call: &Call, header: u64, kind: Socket) -> Result<Message, libc::c_int> {
        let header = call.read(header, MSGHDR)?;
        let word = |offset: usize| {
            u64::from_ne_bytes(header[offset..offset + 8].try_into().unwrap_or([0; 8]))
        };
        let (name, name_length) = (word(0), word(8) & 0xffff_ffff);
        let (iov, iov_count) = (word(16), word(24));
        let (control, control_length) = (word(32), word(40));
        // As the kernel reads a message: no address unless both are given, a long one cut
        // to the longest there is.
        let address = if name != 0 && name_length != 0 {
            call.read(name, name_length.min(ADDRESS_MAX))?
        } else {
            Vec::new()
        };
        refuse(kind, Use::Send, &address, call.ports)?;
        if iov_count > VECTOR_MAX {
            return Err(libc::EMSGSIZE);
        }
        let vectors = call.read(iov, iov_count * 16)?;
        let mut bytes = Vec::new();
        for vector in vectors.chunks_exact(16) {
            let base = u64::from_ne_bytes(vector[..8].try_into().unwrap_or([0; 8]));
            let length = u64::from_ne_bytes(vector[8..].try_into().unwrap_or([0; 8]));
            let room = BYTES_MAX - bytes.len() as u64;
            if length > room && !is_stream(kind) {
                return Err(libc::EMSGSIZE);
            }
            bytes.extend(call.read(base, length.min(room))?);
        }
        if control_length > CONTROL_MAX {
            return Err(libc::ENOBUFS);
        }
        // An internet socket's ancillary data holds no descriptor (the kernel refuses
        // `SCM_RIGHTS` there): passed on as it is.
        let control = if control != 0 {
            call.read(control, control_length)?
        } else {
            Vec::new()
        };
        Ok(Message {
            address,
            bytes,
            control,
        })
    }

    fn send(&self, socket: &OwnedFd, flags: libc::c_int) -> Answer {
        let mut buffer = libc::iovec {
            iov_base: self.bytes.as_ptr() as *mut libc::c_void,
            iov_len: self.bytes.len(),
        };
        // SAFETY: a zeroed msghdr is a valid empty message; every pointer set below is
        // ours and lives across the call.
        let mut header: libc::msghdr = unsafe { std::mem::zeroed() };
        if !self.address.is_empty() {
            header.msg_name = self.address.as_ptr() as *mut libc::c_void;
            header.msg_namelen = self.address.len() as u32;
        }
        header.msg_iov = &mut buffer;
        header.msg_iovlen = 1;
        if !self.control.is_empty() {
            header.msg_control = self.control.as_ptr() as *mut libc::c_void;
            header.msg_controllen = self.control.len() as _;
        }
        // SAFETY: our copy of the socket and the message above.
        outcome(unsafe { libc::sendmsg(socket.as_raw_fd(), &header, flags | libc::MSG_NOSIGNAL) })
    }
}

fn refuse(kind: Socket, usage: Use, address: &[u8], ports: &[(u16, u16)]) -> Result<(), i32> {
    match rules::refusal(kind, usage, address, ports) {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

fn is_udp(kind: Socket) -> bool {
    (kind.domain == libc::AF_INET || kind.domain == libc::AF_INET6)
        && kind.kind == libc::SOCK_DGRAM
        && [0, libc::IPPROTO_UDP, libc::IPPROTO_UDPLITE].contains(&kind.protocol)
}

/// A UDP socket with no port yet gets one of the scenario's block before its first
/// `connect` or send, where the kernel would give it one of its outgoing ports: a server
/// of the scenario answers to where a datagram came from, and may send only to the
/// scenario's ports. (The harness's own UDP sockets take theirs from the block too.)
fn settle(socket: &OwnedFd, kind: Socket, ports: &[(u16, u16)]) -> Result<(), libc::c_int> {
    if !is_udp(kind) {
        return Ok(());
    }
    // SAFETY: a zeroed sockaddr_storage, filled by getsockname with its length.
    let mut own: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut length = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    let named = unsafe {
        libc::getsockname(
            socket.as_raw_fd(),
            (&mut own as *mut libc::sockaddr_storage).cast(),
            &mut length,
        )
    };
    // SAFETY: the storage holds at least a sockaddr_in's first four bytes.
    let bytes = unsafe {
        std::slice::from_raw_parts((&own as *const libc::sockaddr_storage).cast::<u8>(), 4)
    };
    if named != 0 || bytes[2..4] != [0, 0] {
        return Ok(());
    }
    // Its family's wildcard address, as the kernel's own choice would bind it.
    let mut wildcard = vec![
        0u8;
        if kind.domain == libc::AF_INET6 {
            28
        } else {
            16
        }
    ];
    wildcard[..2].copy_from_slice(&(kind.domain as u16).to_ne_bytes());
    bind_in_block(socket, &wildcard, ports).map(|_| ())
}

/// Binds `socket` to `address` with a free port of the scenario's block for its port:
/// from the block's last port down (the harness hands its ports out from the first up),
/// never a single port the submission hard-codes (a server's, soon).
fn bind_in_block(socket: &OwnedFd, address: &[u8], ports: &[(u16, u16)]) -> Answer {
    let Some(&(first, last)) = ports.iter().max_by_key(|(first, last)| last - first) else {
        return Err(libc::EADDRNOTAVAIL);
    };
    let mut address = address.to_vec();
    for port in (first..=last).rev() {
        address[2..4].copy_from_slice(&port.to_be_bytes());
        // SAFETY: our copy of the socket, an address we own with its length.
        let bound = unsafe {
            libc::bind(
                socket.as_raw_fd(),
                address.as_ptr().cast(),
                address.len() as u32,
            )
        };
        match outcome(bound as isize) {
            Err(libc::EADDRINUSE) => continue,
            other => return other,
        }
    }
    Err(libc::EADDRINUSE)
}

fn is_stream(kind: Socket) -> bool {
    kind.kind == libc::SOCK_STREAM
}

/// How many of `length` bytes one send carries: a stream's are cut at [`BYTES_MAX`], a
/// longer datagram is refused.
fn bounded(kind: Socket, length: u64) -> Result<u64, libc::c_int> {
    if length <= BYTES_MAX {
        Ok(length)
    } else if is_stream(kind) {
        Ok(BYTES_MAX)
    } else {
        Err(libc::EMSGSIZE)
    }
}

/// A system call's result as an answer.
fn outcome(result: isize) -> Answer {
    if result < 0 {
        Err(std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO))
    } else {
        Ok(result as i64)
    }
}

impl Call<'_> {
    /// `length` bytes of the program's memory at `address` (`EFAULT` where it has none).
    fn read(&self, address: u64, length: u64) -> Result<Vec<u8>, libc::c_int> {
        let mut bytes = vec![0u8; length as usize];
        if length == 0 {
            return Ok(bytes);
        }
        let local = libc::iovec {
            iov_base: bytes.as_mut_ptr().cast(),
            iov_len: bytes.len(),
        };
        let remote = libc::iovec {
            iov_base: address as *mut libc::c_void,
            iov_len: bytes.len(),
        };
        // SAFETY: our buffer with its length; the remote one is only read by the kernel.
        let read = unsafe { libc::process_vm_readv(self.tid, &local, 1, &remote, 1, 0) };
        if read != length as isize {
            return Err(libc::EFAULT);
        }
        Ok(bytes)
    }

    /// Writes `value` into the program's memory at `address`.
    fn write_u32(&self, address: u64, value: u32) -> Result<(), libc::c_int> {
        let bytes = value.to_ne_bytes();
        let local = libc::iovec {
            iov_base: bytes.as_ptr() as *mut libc::c_void,
            iov_len: 4,
        };
        let remote = libc::iovec {
            iov_base: address as *mut libc::c_void,
            iov_len: 4,
        };
        // SAFETY: our four bytes; the kernel writes them into the program's memory.
        let written = unsafe { libc::process_vm_writev(self.tid, &local, 1, &remote, 1, 0) };
        if written != 4 {
            return Err(libc::EFAULT);
        }
        Ok(())
    }

    /// An address the program passed: none for a null pointer or no length, `EINVAL`
    /// past the longest there is.
    fn address(&self, pointer: u64, length: u64) -> Result<Vec<u8>, libc::c_int> {
        let length = length & 0xffff_ffff;
        if length > ADDRESS_MAX {
            return Err(libc::EINVAL);
        }
        if pointer == 0 {
            return if length == 0 {
                Ok(Vec::new())
            } else {
                Err(libc::EFAULT)
            };
        }
        self.read(pointer, length)
    }

    /// `Err` when the program no longer waits in this call: nothing is made for it.
    fn confirm(&self) -> Result<(), libc::c_int> {
        if (self.still_waiting)() {
            Ok(())
        } else {
            Err(libc::ENOENT)
        }
    }

    /// The warden's copy of the program's descriptor `fd`, and what socket it is.
    fn socket(&self, fd: u64) -> Result<(OwnedFd, Socket), libc::c_int> {
        let socket = self.descriptor(fd)?;
        let option = |name| {
            let mut value: libc::c_int = 0;
            let mut length = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
            // SAFETY: getsockopt fills our local with its length.
            let result = unsafe {
                libc::getsockopt(
                    socket.as_raw_fd(),
                    libc::SOL_SOCKET,
                    name,
                    (&mut value as *mut libc::c_int).cast(),
                    &mut length,
                )
            };
            if result == 0 {
                Ok(value)
            } else {
                Err(libc::ENOTSOCK)
            }
        };
        let kind = Socket {
            domain: option(libc::SO_DOMAIN)?,
            kind: option(libc::SO_TYPE)?,
            protocol: option(libc::SO_PROTOCOL)?,
        };
        Ok((socket, kind))
    }

    /// A copy of the program's descriptor `fd`, from the thread's own descriptor table.
    fn descriptor(&self, fd: u64) -> Result<OwnedFd, libc::c_int> {
        let fd = fd as u32 as libc::c_int;
        if fd < 0 {
            return Err(libc::EBADF);
        }
        // `PIDFD_THREAD` (Linux 6.9, the value of O_EXCL) names the thread itself; before,
        // its process (whose threads share one table, as every C library makes them).
        // SAFETY: pidfd_open returns a descriptor of our own or fails.
        let mut pidfd =
            unsafe { libc::syscall(libc::SYS_pidfd_open, self.tid, libc::O_EXCL) } as libc::c_int;
        if pidfd < 0 {
            let leader = thread_group(self.tid).ok_or(libc::ESRCH)?;
            // SAFETY: as above.
            pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, leader, 0) } as libc::c_int;
        }
        if pidfd < 0 {
            return Err(libc::ESRCH);
        }
        // SAFETY: a fresh descriptor of ours.
        let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
        // SAFETY: pidfd_getfd returns a new descriptor of ours or fails.
        let copy = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), fd, 0) };
        if copy < 0 {
            let error = std::io::Error::last_os_error().raw_os_error();
            return Err(if error == Some(libc::EBADF) {
                libc::EBADF
            } else {
                // The program made itself undumpable, or is gone: refused.
                libc::EPERM
            });
        }
        // SAFETY: a fresh descriptor of ours.
        Ok(unsafe { OwnedFd::from_raw_fd(copy as libc::c_int) })
    }

    /// A send on a broken stream ends the program with `SIGPIPE` unless it asked for
    /// `MSG_NOSIGNAL`: the warden's own send never raises it, so the program's thread is
    /// sent it here, as the kernel would have.
    fn signal_broken_pipe(&self, answer: Answer, flags: libc::c_int) -> Answer {
        if answer == Err(libc::EPIPE) && flags & libc::MSG_NOSIGNAL == 0 {
            // SAFETY: a signal to the thread that waits in this call.
            unsafe { libc::syscall(libc::SYS_tkill, self.tid, libc::SIGPIPE) };
        }
        answer
    }
}

/// The process (thread group) thread `tid` belongs to.
fn thread_group(tid: libc::pid_t) -> Option<libc::pid_t> {
    let status = std::fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Tgid:"))?
        .trim()
        .parse()
        .ok()
}
