//! The calls the warden makes for the program, one function each: it reads what the
//! program passed (the address, the bytes, the descriptors it hands on) once, into its own
//! memory, checks the address ([`super::rules`]), and makes the call itself on the one copy
//! of the program's descriptor it looked at (`pidfd_getfd`: the same socket, so the program
//! sees the outcome as its own). The kernel never reads the program's memory for these
//! calls, nor looks its descriptor up again, so another thread of the program can neither
//! change the address after the check nor put another socket under the number.
//!
//! Every family goes through here, unix and netlink too: leaving a call to the kernel
//! (`SECCOMP_USER_NOTIF_FLAG_CONTINUE`) would let another thread put a UDP socket under the
//! descriptor's number between the look and the call, which a program wins in a few tries.
//! A unix socket's peer therefore sees the warden's process id (`SO_PEERCRED`,
//! `SCM_CREDENTIALS`), of the program's user. A named unix socket is reached only if the
//! program's user made it: not a grader's, nor a classmate's (Landlock's rule for them
//! comes with ABI 9).

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::rules::{self, Reach, Socket, Use};

/// The longest address a call may pass (`sizeof(struct sockaddr_storage)`).
const ADDRESS_MAX: u64 = 128;
/// The most bytes one send carries through the warden: a stream socket's send is cut here
/// (a short send, as any kernel may make); a longer datagram fails with `EMSGSIZE`.
const BYTES_MAX: u64 = 4 << 20;
/// The most buffers of one `sendmsg` and messages of one `sendmmsg` (`UIO_MAXIOV`).
const VECTOR_MAX: u64 = 1024;
/// The most ancillary bytes of one message (descriptors passed on a unix socket).
const CONTROL_MAX: u64 = 64 << 10;
/// The most bytes the warden holds for a program's calls at once: past it a send fails
/// with `ENOBUFS` (a program that blocks a thousand sends of 4 MiB must not make the warden
/// hold 4 GiB).
const HELD_MAX: u64 = 64 << 20;
static HELD: AtomicU64 = AtomicU64::new(0);
/// Whether this machine refused `process_vm_readv` once: the program's memory is then
/// read through `/proc/TID/mem` ([`Call::memory`]).
static VM_CALLS_REFUSED: AtomicBool = AtomicBool::new(false);

/// After a failed `process_vm_readv` or `process_vm_writev`: whether the machine refuses
/// them (remembered), rather than the address being out of the program's memory.
fn vm_calls_refused() -> bool {
    let refused = matches!(
        std::io::Error::last_os_error().raw_os_error(),
        Some(libc::EPERM | libc::ENOSYS)
    );
    if refused {
        VM_CALLS_REFUSED.store(true, Ordering::Relaxed);
    }
    refused
}

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
    /// Where the program may reach.
    pub reach: &'a Reach,
    /// Where the program's TCP `connect` calls are counted, a byte each, if asked.
    pub counter: Option<&'a std::fs::File>,
}

/// The copy of the program's descriptor a call is made on, and what socket it is.
pub(super) struct Target {
    pub socket: OwnedFd,
    pub kind: Socket,
}

impl Target {
    /// The one copy of the descriptor in the call's first argument.
    pub(super) fn of(call: &Call) -> Result<Target, libc::c_int> {
        Target::on(call.descriptor(call.args[0])?)
    }

    /// A call on `socket`, a copy of the program's the warden already holds.
    pub(super) fn on(socket: OwnedFd) -> Result<Target, libc::c_int> {
        let kind = kind_of(&socket)?;
        Ok(Target { socket, kind })
    }
}

pub(super) fn connect(call: &Call, target: &Target) -> Answer {
    let [_, name, length, ..] = call.args;
    let (socket, kind) = (&target.socket, target.kind);
    let address = call.address(name, length)?;
    call.confirm()?;
    refuse(kind, Use::Connect, &address, call.reach)?;
    settle(socket, kind, &call.reach.ports)?;
    call.stand_in(kind)?;
    let (address, _path) = own_unix_socket(kind, address)?;
    // SAFETY: our copy of the socket, an address buffer we own with its length.
    let answer = outcome(unsafe {
        libc::connect(
            socket.as_raw_fd(),
            address.as_ptr().cast(),
            address.len() as u32,
        )
    } as isize);
    // Counted as the kernel of a namespace of its own counts (a SYN sent): not a call that
    // found a connection under way or made, or was refused before it sent anything.
    let sent = matches!(
        answer,
        Ok(_)
            | Err(libc::EINPROGRESS
                | libc::ECONNREFUSED
                | libc::ETIMEDOUT
                | libc::EINTR
                | libc::ECONNRESET)
    );
    if is_tcp(kind) && sent {
        call.count_connect();
    }
    answer
}

pub(super) fn bind(call: &Call, target: &Target) -> Answer {
    let [_, name, length, ..] = call.args;
    let (socket, kind) = (&target.socket, target.kind);
    let address = call.address(name, length)?;
    call.confirm()?;
    refuse(kind, Use::Bind, &address, call.reach)?;
    if is_udp(kind) && address.len() >= 4 && address[2..4] == [0, 0] {
        return bind_in_block(socket, &address, &call.reach.ports);
    }
    call.stand_in(kind)?;
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
pub(super) fn sendto(call: &Call, target: &Target) -> Answer {
    let [_, buffer, length, flags, name, name_length] = call.args;
    let (socket, kind) = (&target.socket, target.kind);
    let address = call.address(name, name_length)?;
    refuse(kind, Use::Send, &address, call.reach)?;
    let length = bounded(kind, length)?;
    let _held = Held::take(length)?;
    let bytes = call.read(buffer, length)?;
    call.confirm()?;
    settle(socket, kind, &call.reach.ports)?;
    call.stand_in(kind)?;
    let (address, _path) = own_unix_socket(kind, address)?;
    let flags = flags as libc::c_int;
    // An address of no bytes: a datagram socket refuses it, as the kernel would; a stream
    // socket sends where it is connected (a null address).
    if name != 0 && address.is_empty() && !is_stream(kind) {
        return Err(libc::EINVAL);
    }
    let name = if address.is_empty() {
        std::ptr::null()
    } else {
        address.as_ptr()
    };
    // SAFETY: our copy of the socket; buffers we own with their lengths.
    let sent = unsafe {
        libc::sendto(
            socket.as_raw_fd(),
            bytes.as_ptr().cast(),
            bytes.len(),
            flags | libc::MSG_NOSIGNAL,
            name.cast(),
            address.len() as u32,
        )
    };
    call.signal_broken_pipe(outcome(sent), flags)
}

pub(super) fn sendmsg(call: &Call, target: &Target) -> Answer {
    let [_, header, flags, ..] = call.args;
    let (socket, kind) = (&target.socket, target.kind);
    // The program's working folder first: a unix address's path is read from there.
    call.stand_in(kind)?;
    let message = Message::read(call, header, kind)?;
    call.confirm()?;
    settle(socket, kind, &call.reach.ports)?;
    let flags = flags as libc::c_int;
    call.signal_broken_pipe(message.send(socket, flags), flags)
}

/// Each message as `sendmsg` sends it, its length written back where the program reads
/// it; the number sent, or the first one's error.
pub(super) fn sendmmsg(call: &Call, target: &Target) -> Answer {
    let [_, vector, count, flags, ..] = call.args;
    let (socket, kind) = (&target.socket, target.kind);
    call.stand_in(kind)?;
    let flags = flags as libc::c_int;
    let mut sent = 0;
    while sent < count.min(VECTOR_MAX) {
        let entry = vector.wrapping_add(sent * MMSGHDR);
        let result = Message::read(call, entry, kind).and_then(|message| {
            call.confirm()?;
            settle(socket, kind, &call.reach.ports)?;
            message.send(socket, flags)
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
/// one buffer, its ancillary data with every descriptor it passes replaced by a copy.
struct Message {
    address: Vec<u8>,
    bytes: Vec<u8>,
    control: Vec<u8>,
    /// The copies the ancillary data names, open until the message is sent.
    _passed: Vec<OwnedFd>,
    _held: Held,
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
        refuse(kind, Use::Send, &address, call.reach)?;
        if iov_count > VECTOR_MAX {
            return Err(libc::EMSGSIZE);
        }
        let vectors = call.read(iov, iov_count * 16)?;
        let mut pieces = Vec::new();
        let mut total = 0u64;
        for vector in vectors.chunks_exact(16) {
            let base = u64::from_ne_bytes(vector[..8].try_into().unwrap_or([0; 8]));
            let length = u64::from_ne_bytes(vector[8..].try_into().unwrap_or([0; 8]));
            let room = BYTES_MAX - total;
            if length > room && !is_stream(kind) {
                return Err(libc::EMSGSIZE);
            }
            pieces.push((base, length.min(room)));
            total += length.min(room);
        }
        let held = Held::take(total + control_length.min(CONTROL_MAX))?;
        let mut bytes = buffer(total)?;
        bytes.clear();
        for (base, length) in pieces {
            bytes.extend(call.read(base, length)?);
        }
        if control_length > CONTROL_MAX {
            return Err(libc::ENOBUFS);
        }
        let mut control = if control != 0 {
            call.read(control, control_length)?
        } else {
            Vec::new()
        };
        let passed = pass_descriptors(call, &mut control)?;
        let (address, path) = own_unix_socket(kind, address)?;
        let mut passed = passed;
        passed.extend(path);
        Ok(Message {
            address,
            bytes,
            control,
            _passed: passed,
            _held: held,
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

/// Replaces, in a message's ancillary data, each descriptor the program passes on a unix
/// socket (`SCM_RIGHTS`) by the warden's copy of it: the receiver gets the program's file.
fn pass_descriptors(call: &Call, control: &mut [u8]) -> Result<Vec<OwnedFd>, libc::c_int> {
    let mut copies = Vec::new();
    for passed in descriptor_lists(control)? {
        for slot in control[passed].chunks_exact_mut(4) {
            let fd = i32::from_ne_bytes(slot.try_into().unwrap_or([0; 4]));
            let copy = call.descriptor(fd as u64)?;
            slot.copy_from_slice(&copy.as_raw_fd().to_ne_bytes());
            copies.push(copy);
        }
    }
    Ok(copies)
}

/// Where, in a message's ancillary data, the descriptors passed (`SCM_RIGHTS`) are: each
/// list's bytes. `EINVAL` for data the kernel would refuse as malformed (a header whose
/// length is shorter than a header, or runs past the data), whatever its numbers: a length
/// near 2^64 must neither wrap the arithmetic nor spin the walk. `EACCES` for a source
/// route (IPv4's `IP_RETOPTS`, an IPv6 routing header): the datagram would go first to the
/// route's host, whatever address the warden checked.
fn descriptor_lists(control: &[u8]) -> Result<Vec<std::ops::Range<usize>>, libc::c_int> {
    const HEADER: usize = 16;
    /// RFC 2292's routing header (`linux/in6.h`).
    const IPV6_2292RTHDR: i32 = 5;
    let mut lists = Vec::new();
    let mut at = 0;
    while control.len() - at >= HEADER {
        let word = |from: usize, to: usize| &control[at + from..at + to];
        let length = u64::from_ne_bytes(word(0, 8).try_into().unwrap_or([0; 8]));
        let level = i32::from_ne_bytes(word(8, 12).try_into().unwrap_or([0; 4]));
        let kind = i32::from_ne_bytes(word(12, 16).try_into().unwrap_or([0; 4]));
        let length = usize::try_from(length).map_err(|_| libc::EINVAL)?;
        if length < HEADER || length > control.len() - at {
            return Err(libc::EINVAL);
        }
        if level == libc::SOL_SOCKET && kind == libc::SCM_RIGHTS {
            lists.push(at + HEADER..at + length);
        }
        let route = (level == libc::IPPROTO_IP && kind == libc::IP_RETOPTS)
            || (level == libc::IPPROTO_IPV6
                && (kind == libc::IPV6_RTHDR || kind == IPV6_2292RTHDR));
        if route {
            return Err(libc::EACCES);
        }
        // The next header is aligned to 8 bytes; past the data, the walk ends.
        at = at
            .checked_add(length.next_multiple_of(8))
            .filter(|next| *next <= control.len())
            .unwrap_or(control.len());
    }
    Ok(lists)
}

/// A unix socket's address naming a file: reached only if the program's user made the
/// socket (the warden runs as that user), and through the file the warden opened and
/// checked (`/proc/self/fd/N`), so that no link put in its place since is followed. The
/// address to use, and the descriptor to keep open until the call is made. Any other
/// address is used as it is.
fn own_unix_socket(
    kind: Socket,
    address: Vec<u8>,
) -> Result<(Vec<u8>, Option<OwnedFd>), libc::c_int> {
    // `sun_family`, then a path that does not start with NUL (an abstract name, which
    // Landlock's scope guards, or none at all: autobind).
    if kind.domain != libc::AF_UNIX || address.len() <= 2 || address[2] == 0 {
        return Ok((address, None));
    }
    let path = &address[2..];
    let path = &path[..path
        .iter()
        .position(|byte| *byte == 0)
        .unwrap_or(path.len())];
    let path = std::ffi::CString::new(path).map_err(|_| libc::EINVAL)?;
    // SAFETY: a NUL-terminated path; the descriptor returned is ours.
    let file = unsafe { libc::open(path.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
    if file < 0 {
        return Err(std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::ENOENT));
    }
    // SAFETY: a fresh descriptor of ours.
    let file = unsafe { OwnedFd::from_raw_fd(file) };
    // SAFETY: fstat fills our local; geteuid reads our id.
    let mut status: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(file.as_raw_fd(), &mut status) } != 0 {
        return Err(libc::EACCES);
    }
    if status.st_mode & libc::S_IFMT != libc::S_IFSOCK {
        return Err(libc::ECONNREFUSED);
    }
    if status.st_uid != unsafe { libc::geteuid() } {
        return Err(libc::EACCES);
    }
    let through = format!("/proc/self/fd/{}", file.as_raw_fd());
    let mut checked = address[..2].to_vec();
    checked.extend(through.as_bytes());
    checked.push(0);
    Ok((checked, Some(file)))
}

/// Bytes of the warden's held for a call, given back when dropped ([`HELD_MAX`]).
struct Held(u64);

impl Held {
    fn take(bytes: u64) -> Result<Held, libc::c_int> {
        let before = HELD.fetch_add(bytes, Ordering::SeqCst);
        if before.saturating_add(bytes) > HELD_MAX {
            HELD.fetch_sub(bytes, Ordering::SeqCst);
            return Err(libc::ENOBUFS);
        }
        Ok(Held(bytes))
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        HELD.fetch_sub(self.0, Ordering::SeqCst);
    }
}

/// A buffer of `length` zero bytes, or `ENOMEM` where none can be had (never an abort).
fn buffer(length: u64) -> Result<Vec<u8>, libc::c_int> {
    let length = usize::try_from(length).map_err(|_| libc::ENOMEM)?;
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(length).map_err(|_| libc::ENOMEM)?;
    bytes.resize(length, 0);
    Ok(bytes)
}

fn refuse(kind: Socket, usage: Use, address: &[u8], reach: &Reach) -> Result<(), i32> {
    match rules::refusal(kind, usage, address, reach) {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

fn is_tcp(kind: Socket) -> bool {
    (kind.domain == libc::AF_INET || kind.domain == libc::AF_INET6)
        && kind.kind == libc::SOCK_STREAM
}

/// Where the warden owns only the datagram sockets, a `connect` on any other number is
/// handed over to be counted, and then made by the kernel: each one counted, its address
/// not read (another thread could change it between a read and the kernel's, and hide an
/// attempt). There no socket but TCP connects on those numbers: no unix socket is made
/// but a connected pair, and every datagram socket is the warden's. (The kernel of a
/// namespace of its own counts only a SYN sent; a program that polls a connection under
/// way with `connect` is counted more here.)
pub(super) fn count_outside_connect(call: &Call) {
    call.count_connect();
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
        let mut bytes = buffer(length)?;
        if length == 0 {
            return Ok(bytes);
        }
        if !VM_CALLS_REFUSED.load(Ordering::Relaxed) {
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
            if read == length as isize {
                return Ok(bytes);
            }
            if !vm_calls_refused() {
                return Err(libc::EFAULT);
            }
        }
        use std::os::unix::fs::FileExt;
        self.memory(false)?
            .read_exact_at(&mut bytes, address)
            .map_err(|_| libc::EFAULT)?;
        Ok(bytes)
    }

    /// Writes `value` into the program's memory at `address`.
    fn write_u32(&self, address: u64, value: u32) -> Result<(), libc::c_int> {
        let bytes = value.to_ne_bytes();
        if !VM_CALLS_REFUSED.load(Ordering::Relaxed) {
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
            if written == 4 {
                return Ok(());
            }
            if !vm_calls_refused() {
                return Err(libc::EFAULT);
            }
        }
        use std::os::unix::fs::FileExt;
        self.memory(true)?
            .write_all_at(&bytes, address)
            .map_err(|_| libc::EFAULT)
    }

    /// The thread's memory as a file (`/proc/TID/mem`), where the machine refuses
    /// `process_vm_readv` (Docker's default profile, without `CAP_SYS_PTRACE`): the same
    /// check of the kernel's lets the warden open it (its ancestor, of its user).
    fn memory(&self, write: bool) -> Result<std::fs::File, libc::c_int> {
        std::fs::OpenOptions::new()
            .read(!write)
            .write(write)
            .open(format!("/proc/{}/mem", self.tid))
            .map_err(|_| libc::ESRCH)
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

    /// One more of the program's TCP `connect` calls counted, where it is asked for: a
    /// byte appended (the harness reads the file's length).
    fn count_connect(&self) {
        if let Some(mut file) = self.counter {
            use std::io::Write;
            let _ = file.write_all(&[1]);
        }
    }

    /// `Err` when the program no longer waits in this call: nothing is made for it.
    fn confirm(&self) -> Result<(), libc::c_int> {
        if (self.still_waiting)() {
            Ok(())
        } else {
            Err(libc::ENOENT)
        }
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

    /// For a unix socket, whose path is looked up from the caller's working folder and
    /// whose file is made with the caller's `umask`: this thread takes the program's thread's
    /// (a file-system context of its own first, `unshare(CLONE_FS)`).
    fn stand_in(&self, kind: Socket) -> Result<(), libc::c_int> {
        if kind.domain != libc::AF_UNIX {
            return Ok(());
        }
        let umask = std::fs::read_to_string(format!("/proc/{}/status", self.tid))
            .ok()
            .and_then(|status| {
                let octal = status
                    .lines()
                    .find_map(|line| line.strip_prefix("Umask:"))?;
                libc::mode_t::from_str_radix(octal.trim(), 8).ok()
            })
            .ok_or(libc::ESRCH)?;
        let cwd =
            std::ffi::CString::new(format!("/proc/{}/cwd", self.tid)).map_err(|_| libc::EINVAL)?;
        // SAFETY: calls on this thread's own context and a descriptor of ours.
        unsafe {
            if libc::unshare(libc::CLONE_FS) != 0 {
                return Err(libc::EPERM);
            }
            let folder = libc::open(
                cwd.as_ptr(),
                libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
            );
            if folder < 0 {
                return Err(libc::ESRCH);
            }
            let entered = libc::fchdir(folder);
            libc::close(folder);
            if entered != 0 {
                return Err(libc::ESRCH);
            }
            libc::umask(umask);
        }
        Ok(())
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

/// What socket `socket` is (`ENOTSOCK` for another file).
fn kind_of(socket: &OwnedFd) -> Result<Socket, libc::c_int> {
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
    Ok(Socket {
        domain: option(libc::SO_DOMAIN)?,
        kind: option(libc::SO_TYPE)?,
        protocol: option(libc::SO_PROTOCOL)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One control message's header: its length, level and kind.
    fn header(length: u64, level: i32, kind: i32) -> Vec<u8> {
        let mut bytes = length.to_ne_bytes().to_vec();
        bytes.extend(level.to_ne_bytes());
        bytes.extend(kind.to_ne_bytes());
        bytes
    }

    #[test]
    fn passed_descriptors_are_found_and_malformed_data_refused_without_a_spin() {
        // Two descriptors passed, then a credentials message.
        let mut control = header(24, libc::SOL_SOCKET, libc::SCM_RIGHTS);
        control.extend([3, 0, 0, 0, 4, 0, 0, 0]);
        control.extend(header(16, libc::SOL_SOCKET, libc::SCM_CREDENTIALS));
        let lists = descriptor_lists(&control).unwrap();
        assert_eq!(lists.len(), 1);
        assert_eq!(lists[0], 16..24);
        // A header, then one whose length is 2^64 - 1 (it wrapped the walk once).
        let mut crafted = header(16, libc::SOL_SOCKET, libc::SCM_RIGHTS);
        crafted.extend(header(u64::MAX, libc::SOL_SOCKET, libc::SCM_RIGHTS));
        assert_eq!(descriptor_lists(&crafted), Err(libc::EINVAL));
        // Shorter than a header, longer than the data.
        assert_eq!(
            descriptor_lists(&header(8, libc::SOL_SOCKET, libc::SCM_RIGHTS)),
            Err(libc::EINVAL)
        );
        assert_eq!(
            descriptor_lists(&header(40, libc::SOL_SOCKET, libc::SCM_RIGHTS)),
            Err(libc::EINVAL)
        );
        // Too short to hold a header: nothing in it.
        assert_eq!(descriptor_lists(&[0; 8]), Ok(Vec::new()));
    }

    #[test]
    fn a_source_route_in_a_message_is_refused_and_other_options_pass() {
        let mut route = header(24, libc::IPPROTO_IP, libc::IP_TTL);
        route.extend([64, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(descriptor_lists(&route), Ok(Vec::new()));
        route.extend(header(24, libc::IPPROTO_IP, libc::IP_RETOPTS));
        route.extend([0x83, 7, 4, 192, 0, 2, 10, 0]);
        assert_eq!(descriptor_lists(&route), Err(libc::EACCES));
        for kind in [libc::IPV6_RTHDR, 5] {
            let mut route = header(24, libc::IPPROTO_IPV6, kind);
            route.extend([0; 8]);
            assert_eq!(descriptor_lists(&route), Err(libc::EACCES), "{kind}");
        }
    }
}
