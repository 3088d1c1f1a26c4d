//! # short-calls: your `send()` may send less than you asked
//!
//! Every socket call moves *up to* the number of bytes you ask for, and returns how many it
//! really moved:
//!
//! - `recv(4096)` returns whatever has arrived so far: 1 byte, 1500, or 4096. A message the
//!   other side sent with one `send()` may take several `recv()` calls, and one `recv()` may
//!   return the end of one message and the start of the next. TCP carries a stream of bytes,
//!   not messages.
//! - `send(data)` copies as much of `data` as fits in the kernel's send buffer and returns
//!   that count. On a blocking socket Linux usually waits until everything fits, so on
//!   loopback `send()` of 20 KB nearly always returns 20 KB; but a signal, a timeout
//!   (`SO_SNDTIMEO`, Python's `settimeout`), a non-blocking socket or another system can
//!   return less, and the bytes you did not check are lost. Python's `sendall()` is a loop
//!   around `send()` that keeps going until everything is sent.
//! - A blocking call interrupted by a signal whose handler was installed without
//!   `SA_RESTART` fails with `EINTR` before moving anything: the call must simply be made
//!   again. (Python 3.5 and later retries for you; C must; Rust's `read` returns
//!   `ErrorKind::Interrupted`, which `read_exact` and `write_all` retry.)
//!
//! A program that works on your laptop can therefore still be wrong. This library makes
//! the rare case happen every time, so a grader (or you) can see whether a program checks
//! what its calls return. Loaded into a program with `LD_PRELOAD`, it stands in front of the
//! C library's `send`, `sendto`, `sendmsg`, `write`, `writev`, `recv`, `recvfrom`,
//! `recvmsg`, `read` and `readv` (and `sendfile`, `sendmmsg`, `recvmmsg`, `splice`, the
//! `_FORTIFY_SOURCE` variants `__read_chk`, `__recv_chk`, `__recvfrom_chk` that `gcc -O2` may
//! call instead, and `syscall()` for a call made by number: [`raw`]), and on a
//! TCP socket it passes each call on with a smaller length: at most `max` bytes, a size
//! drawn from a seed. The kernel then does exactly what it would do with that length; the
//! program sees a short count, as it could on any network. Optionally, now and then, a
//! blocking call fails with `EINTR` instead, before moving any byte.
//!
//! ```sh
//! cargo build -p short-calls        # target/debug/libshort_calls.so
//! LD_PRELOAD=$PWD/target/debug/libshort_calls.so \
//! SOCKET_LAB_SHORT_CALLS="seed=7,max=16,eintr=0.02" python3 message-client.py 127.0.0.1 12000 < big.txt
//! ```
//!
//! The same library has a second job, in a module of its own ([`redirect`]): where the
//! harness cannot give a scenario a network of its own (a platform's container), it moves
//! the ports, addresses and names a program hard-codes, as `SOCKET_LAB_REDIRECT` says.
//! Each job does nothing without its variable.
//!
//! Whatever the program runs keeps the library ([`exec`]): a program that takes
//! `LD_PRELOAD` or the setting out of its environment and runs itself again still has its
//! calls cut, and one the library could not enter (statically linked) is not run.
//!
//! ## The setting: `SOCKET_LAB_SHORT_CALLS`
//!
//! Comma-separated `key=value` pairs, every key optional:
//!
//! | key | meaning | default |
//! |---|---|---|
//! | `seed` | an unsigned 64-bit number: the same seed gives the same sizes, call after call | `0` |
//! | `max` | the most bytes one call may move, from 1 to 1048576; each call draws a size from 1 to `max` | `16` |
//! | `eintr` | the probability (`0` to `1`, a decimal like `0.02`) that a blocking call fails with `EINTR` instead | `0` |
//! | `mark` | a file to append one byte to, once per process, the first time a TCP call goes through the library (the harness learns that the program was in reach) | none |
//!
//! Without the variable the library does nothing at all. A setting it cannot read is said
//! once on stderr, and then it does nothing either.
//!
//! ## What it leaves alone
//!
//! - Anything that is not a TCP socket: files, pipes, terminals, UDP (a datagram is always
//!   sent whole or not at all) and Unix-domain sockets (a program's own plumbing, such as
//!   Python's `multiprocessing`). It asks the kernel with `getsockopt(SO_TYPE)`, which
//!   answers `ENOTSOCK` for a file, a pipe or a terminal, and `getsockopt(SO_DOMAIN)`.
//! - `recv` with `MSG_WAITALL`: the caller asked the kernel to wait for every byte.
//! - Sockets registered with `epoll` as `EPOLLONESHOT` or `EPOLLEXCLUSIVE` (see below).
//! - `EINTR` is never returned on a non-blocking call (a real one never sleeps, so no signal
//!   can interrupt it), and never by a call that moved bytes: the decision is taken before
//!   the call.
//!
//! ## Event loops
//!
//! Event loops that watch their sockets edge-triggered (`EPOLLET`: tokio and mio, libevent
//! with `EV_ET`) take a short count for "the kernel's buffer is empty (or full)" and wait
//! for the next edge; after a short count made up here the kernel would send none, and they
//! would wait for ever. So the library remembers each edge-triggered registration (it
//! stands in front of `epoll_ctl` too), and after cutting a call on such a socket it
//! modifies the registration to what it already was (`EPOLL_CTL_MOD`), which makes the
//! kernel report the socket again if it is ready: the loop looks once more, as after any
//! spurious wake-up, and goes on. A one-shot registration (`EPOLLONESHOT`, which another
//! thread may be serving) or an exclusive one cannot be made again from outside: such
//! sockets are left whole. Level-triggered loops (`poll`, `select`, Python's `selectors`
//! and `asyncio`, Java's NIO) look again by themselves.
//!
//! ## Determinism, and why the code looks the way it does
//!
//! Each call's size comes from the seed, the file descriptor, the direction (reading or
//! writing) and how many calls that descriptor has made in that direction in this process,
//! mixed by SplitMix64: nothing random, no time, no process id. A single-threaded program
//! gets the same sizes every run; a threaded server gets the same sizes on each connection
//! whichever thread runs first, as long as its descriptors are numbered the same.
//!
//! These functions run inside any program, called from anywhere: from Python's
//! interpreter, from the C library, from other threads, maybe before the program's own
//! start-up is over. So they allocate nothing, take no lock and keep no thread-local
//! state: only atomics, `getenv`, `dlsym` to find the real function (done once, from the
//! library's constructor) and raw system calls (`syscall(SYS_getsockopt)`,
//! `syscall(SYS_fcntl)`). `sendmsg` and `recvmsg` are capped by handing the kernel a copy of
//! the program's `msghdr` whose `iovec` array is a shortened copy on the stack; the
//! program's own structures are never written, except the lengths and flags that
//! `recvmsg` reports back, copied over as the kernel filled them.

// These are the C library's functions, with the C library's contracts: their callers are C
// programs (and interpreters), which hold the pointers valid as `send(2)` and friends say.
#![allow(clippy::missing_safety_doc)]
// Unit tests build the library into a test program without its exported functions (which
// would stand in for the test program's own `read` and `write`).
#![cfg_attr(test, allow(dead_code, unused_macros, unused_imports))]

use core::ffi::CStr;
use core::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};

use libc::{
    c_int, c_long, c_uint, c_void, iovec, mmsghdr, msghdr, off_t, size_t, sockaddr, socklen_t,
    ssize_t,
};

mod setting;
pub use setting::SETTING_VARIABLE;
use setting::{MILLION, Setting, setting};

// --- Sizes from the seed ----------------------------------------------------------------

/// SplitMix64's finalizer: a good mix of 64 bits, no state.
fn mix(mut value: u64) -> u64 {
    value = value.wrapping_add(0x9E37_79B9_7F4A_7C15);
    value = (value ^ (value >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    value = (value ^ (value >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    value ^ (value >> 31)
}

/// Reading or writing: each direction of each descriptor draws its own sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Read = 0,
    Write = 1,
}

/// Descriptors below this have counters of their own; the others share one per direction.
const COUNTED_FDS: usize = 1024;
static CALLS: [AtomicU64; 2 * COUNTED_FDS + 2] = [const { AtomicU64::new(0) }; 2 * COUNTED_FDS + 2];

/// The `index`-th draw of `fd` in `direction` under `seed`.
fn draw(seed: u64, fd: c_int, direction: Direction, index: u64) -> u64 {
    let stream = ((fd as u32 as u64) << 1) | direction as u64;
    mix(mix(mix(seed) ^ stream) ^ index)
}

/// The next draw of `fd` in `direction`.
fn next_draw(seed: u64, fd: c_int, direction: Direction) -> u64 {
    let slot = match usize::try_from(fd) {
        Ok(fd) if fd < COUNTED_FDS => 2 * fd + direction as usize,
        _ => 2 * COUNTED_FDS + direction as usize,
    };
    let index = CALLS[slot].fetch_add(1, Ordering::Relaxed);
    draw(seed, fd, direction, index)
}

/// What a draw says about one call: how many bytes it may move, or `EINTR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    /// Pass the call on unchanged.
    Whole,
    /// Pass it on with at most this many bytes (never zero).
    To(usize),
    /// Fail with `EINTR` without calling the kernel.
    Interrupt,
}

/// The cut for a call of `len` bytes, from `value` (one draw).
fn cut_from(value: u64, setting: Setting, len: usize, may_interrupt: bool) -> Cut {
    if may_interrupt
        && setting.eintr_ppm > 0
        && ((value >> 32) % u64::from(MILLION)) < u64::from(setting.eintr_ppm)
    {
        return Cut::Interrupt;
    }
    let size = 1 + (value as u32 % setting.max) as usize;
    if size < len {
        Cut::To(size)
    } else {
        Cut::Whole
    }
}

// --- The real functions -----------------------------------------------------------------

/// A function of the C library, found once with `dlsym(RTLD_NEXT)`: the next definition
/// after this library's, which is the C library's own.
struct Real {
    name: &'static CStr,
    address: AtomicUsize,
}

impl Real {
    const fn new(name: &'static CStr) -> Real {
        Real {
            name,
            address: AtomicUsize::new(0),
        }
    }

    /// Its address, or 0 if the C library has no such function.
    fn address(&self) -> usize {
        let known = self.address.load(Ordering::Acquire);
        if known != 0 {
            return known;
        }
        // SAFETY: dlsym with a NUL-terminated name; RTLD_NEXT looks past this library.
        let found = unsafe { libc::dlsym(libc::RTLD_NEXT, self.name.as_ptr()) } as usize;
        self.address.store(found, Ordering::Release);
        found
    }
}

static REAL_SEND: Real = Real::new(c"send");
static REAL_SENDTO: Real = Real::new(c"sendto");
static REAL_SENDMSG: Real = Real::new(c"sendmsg");
static REAL_WRITE: Real = Real::new(c"write");
static REAL_WRITEV: Real = Real::new(c"writev");
static REAL_SENDFILE: Real = Real::new(c"sendfile");
static REAL_SENDFILE64: Real = Real::new(c"sendfile64");
static REAL_RECV: Real = Real::new(c"recv");
static REAL_RECVFROM: Real = Real::new(c"recvfrom");
static REAL_RECVMSG: Real = Real::new(c"recvmsg");
static REAL_READ: Real = Real::new(c"read");
static REAL_READV: Real = Real::new(c"readv");
static REAL_READ_CHK: Real = Real::new(c"__read_chk");
static REAL_RECV_CHK: Real = Real::new(c"__recv_chk");
static REAL_RECVFROM_CHK: Real = Real::new(c"__recvfrom_chk");
static REAL_EPOLL_CTL: Real = Real::new(c"epoll_ctl");
static REAL_SENDMMSG: Real = Real::new(c"sendmmsg");
static REAL_RECVMMSG: Real = Real::new(c"recvmmsg");
static REAL_SPLICE: Real = Real::new(c"splice");

const ALL_REAL: [&Real; 19] = [
    &REAL_SEND,
    &REAL_SENDTO,
    &REAL_SENDMSG,
    &REAL_WRITE,
    &REAL_WRITEV,
    &REAL_SENDFILE,
    &REAL_SENDFILE64,
    &REAL_RECV,
    &REAL_RECVFROM,
    &REAL_RECVMSG,
    &REAL_READ,
    &REAL_READV,
    &REAL_READ_CHK,
    &REAL_RECV_CHK,
    &REAL_RECVFROM_CHK,
    &REAL_EPOLL_CTL,
    &REAL_SENDMMSG,
    &REAL_RECVMMSG,
    &REAL_SPLICE,
];

/// Calls the C library's function `$real` of type `$type` with the arguments, or fails with
/// `ENOSYS` and `$failure` where it has none.
macro_rules! call_or {
    ($failure:expr, $real:expr, $type:ty, $($argument:expr),* $(,)?) => {{
        let address = $real.address();
        if address == 0 {
            set_errno(libc::ENOSYS);
            $failure
        } else {
            // SAFETY: the address is the C library's function of that name, of this type.
            let function: $type = unsafe { core::mem::transmute::<usize, $type>(address) };
            // SAFETY: the caller's arguments, passed on (a length no larger, a moved path in
            // place of its own).
            unsafe { function($($argument),*) }
        }
    }};
}

/// Calls the real function `$real` as a `$type`; without one, fails with `ENOSYS` and -1.
macro_rules! call_real {
    ($real:expr, $type:ty, $($argument:expr),* $(,)?) => {
        call_or!(-1, $real, $type, $($argument),*)
    };
}

mod epoll;
use epoll::{Watch, rearm, remember_registration, watch_of};

pub mod redirect;
pub use redirect::REDIRECT_VARIABLE;

pub mod files;
pub use files::FILES_VARIABLE;

pub mod file_calls;

pub mod exec;
use redirect::Verb;

mod enterable;
pub mod raw;

// --- Telling the harness the library is at work -------------------------------------------

static ENTERED: AtomicU8 = AtomicU8::new(0);

/// The first time a TCP call of this process goes through the library, appends a byte to
/// the file the setting names with `mark=PATH` (if it does): the harness learns that the
/// program's socket calls were in reach. A program that moved data over TCP without it
/// makes its system calls itself (Go does), and the check was not applied.
fn mark_entered() {
    if ENTERED.swap(1, Ordering::Relaxed) != 0 {
        return;
    }
    setting::append_to(SETTING_VARIABLE, b"mark", b"1");
}

fn errno() -> c_int {
    // SAFETY: the C library's thread-local errno.
    unsafe { *libc::__errno_location() }
}

fn set_errno(value: c_int) {
    // SAFETY: the C library's thread-local errno.
    unsafe { *libc::__errno_location() = value }
}

/// An integer socket option, by raw system call (`None`: not a socket, or no such option).
fn socket_option(fd: c_int, option: c_int) -> Option<c_int> {
    let mut value: c_int = 0;
    let mut length = core::mem::size_of::<c_int>() as socklen_t;
    // SAFETY: value and length are valid for writes of their sizes.
    let result = unsafe {
        raw::kernel(
            libc::SYS_getsockopt,
            fd as c_long,
            libc::SOL_SOCKET as c_long,
            option as c_long,
            &mut value as *mut c_int as c_long,
            &mut length as *mut socklen_t as c_long,
        )
    };
    (result == 0).then_some(value)
}

/// Whether `fd` is a TCP socket (a stream socket of the internet families).
fn is_tcp(fd: c_int) -> bool {
    socket_option(fd, libc::SO_TYPE) == Some(libc::SOCK_STREAM)
        && matches!(
            socket_option(fd, libc::SO_DOMAIN),
            Some(libc::AF_INET | libc::AF_INET6)
        )
}

/// Whether a call on `fd` with `flags` would return at once rather than sleep.
fn non_blocking(fd: c_int, flags: c_int) -> bool {
    if flags & libc::MSG_DONTWAIT != 0 {
        return true;
    }
    // SAFETY: F_GETFL reads the descriptor's status flags.
    let status = unsafe {
        raw::kernel(
            libc::SYS_fcntl,
            fd as c_long,
            libc::F_GETFL as c_long,
            0,
            0,
            0,
        )
    };
    status >= 0 && status as c_int & libc::O_NONBLOCK != 0
}

/// The cut for a call of `len` bytes on `fd` (`flags`: the `MSG_*` flags of the call, 0 for
/// `read` and `write`). errno is left as it was.
fn decide(fd: c_int, len: usize, flags: c_int, direction: Direction) -> Cut {
    if len == 0 {
        return Cut::Whole;
    }
    let Some(setting) = setting() else {
        return Cut::Whole;
    };
    let saved = errno();
    let cut = if !is_tcp(fd) {
        Cut::Whole
    } else {
        mark_entered();
        if direction == Direction::Read && flags & libc::MSG_WAITALL != 0 {
            Cut::Whole
        } else {
            match watch_of(fd) {
                Watch::Untouchable => Cut::Whole,
                // An edge-triggered socket is non-blocking: no EINTR.
                Watch::Edge { .. } => {
                    cut_from(next_draw(setting.seed, fd, direction), setting, len, false)
                }
                Watch::Level => cut_from(
                    next_draw(setting.seed, fd, direction),
                    setting,
                    len,
                    !non_blocking(fd, flags),
                ),
            }
        }
    };
    set_errno(saved);
    cut
}

/// Finds the real functions and reads the setting while the program is still
/// single-threaded: the library's constructor, run by the dynamic loader.
#[cfg(not(test))]
#[used]
#[unsafe(link_section = ".init_array")]
static CONSTRUCTOR: extern "C" fn() = constructor;

#[cfg(not(test))]
extern "C" fn constructor() {
    for real in ALL_REAL
        .into_iter()
        .chain(redirect::ALL_REAL)
        .chain(file_calls::ALL_REAL)
        .chain(exec::ALL_REAL)
        .chain(raw::ALL_REAL)
    {
        real.address();
    }
    setting();
    exec::remember();
}

// --- Shortened iovec arrays -------------------------------------------------------------

/// The most `iovec` entries a shortened copy holds (it lives on the stack: 1 KiB).
const SHORT_IOVECS: usize = 64;

/// The total length of an iovec array (saturating), or `None` for a count the kernel
/// would refuse anyway (negative, or more than `IOV_MAX`).
///
/// # Safety
///
/// `iov` points to `count` readable entries when `count` is positive.
unsafe fn total_length(iov: *const iovec, count: usize) -> Option<usize> {
    if count > libc::UIO_MAXIOV as usize || (count > 0 && iov.is_null()) {
        return None;
    }
    let mut total = 0usize;
    for index in 0..count {
        // SAFETY: index < count, within the caller's array.
        total = total.saturating_add(unsafe { (*iov.add(index)).iov_len });
    }
    Some(total)
}

/// Copies into `into` the first `cap` bytes' worth of `iov` (empty entries left out, the last
/// one shortened); returns how many entries it wrote. When more than [`SHORT_IOVECS`]
/// entries would be needed it stops there: the call is only shorter still.
///
/// # Safety
///
/// `iov` points to `count` readable entries.
unsafe fn shorten(
    iov: *const iovec,
    count: usize,
    cap: usize,
    into: &mut [iovec; SHORT_IOVECS],
) -> usize {
    let mut left = cap;
    let mut written = 0;
    for index in 0..count {
        if left == 0 || written == SHORT_IOVECS {
            break;
        }
        // SAFETY: index < count, within the caller's array.
        let entry = unsafe { *iov.add(index) };
        if entry.iov_len == 0 {
            continue;
        }
        let take = entry.iov_len.min(left);
        into[written] = iovec {
            iov_base: entry.iov_base,
            iov_len: take,
        };
        written += 1;
        left -= take;
    }
    written
}

fn empty_iovecs() -> [iovec; SHORT_IOVECS] {
    [iovec {
        iov_base: core::ptr::null_mut(),
        iov_len: 0,
    }; SHORT_IOVECS]
}

fn interrupted() -> ssize_t {
    set_errno(libc::EINTR);
    -1
}

// --- The wrappers -----------------------------------------------------------------------

type SendFn = unsafe extern "C" fn(c_int, *const c_void, size_t, c_int) -> ssize_t;
type SendToFn = unsafe extern "C" fn(
    c_int,
    *const c_void,
    size_t,
    c_int,
    *const sockaddr,
    socklen_t,
) -> ssize_t;
type SendMsgFn = unsafe extern "C" fn(c_int, *const msghdr, c_int) -> ssize_t;
type WriteFn = unsafe extern "C" fn(c_int, *const c_void, size_t) -> ssize_t;
type WritevFn = unsafe extern "C" fn(c_int, *const iovec, c_int) -> ssize_t;
type SendFileFn = unsafe extern "C" fn(c_int, c_int, *mut off_t, size_t) -> ssize_t;
type RecvFn = unsafe extern "C" fn(c_int, *mut c_void, size_t, c_int) -> ssize_t;
type RecvFromFn = unsafe extern "C" fn(
    c_int,
    *mut c_void,
    size_t,
    c_int,
    *mut sockaddr,
    *mut socklen_t,
) -> ssize_t;
type RecvMsgFn = unsafe extern "C" fn(c_int, *mut msghdr, c_int) -> ssize_t;
type ReadFn = unsafe extern "C" fn(c_int, *mut c_void, size_t) -> ssize_t;
type ReadvFn = unsafe extern "C" fn(c_int, *const iovec, c_int) -> ssize_t;
type ReadChkFn = unsafe extern "C" fn(c_int, *mut c_void, size_t, size_t) -> ssize_t;
type RecvChkFn = unsafe extern "C" fn(c_int, *mut c_void, size_t, size_t, c_int) -> ssize_t;
type RecvFromChkFn = unsafe extern "C" fn(
    c_int,
    *mut c_void,
    size_t,
    size_t,
    c_int,
    *mut sockaddr,
    *mut socklen_t,
) -> ssize_t;
type EpollCtlFn = unsafe extern "C" fn(c_int, c_int, c_int, *mut libc::epoll_event) -> c_int;
type SendMmsgFn = unsafe extern "C" fn(c_int, *mut mmsghdr, c_uint, c_int) -> c_int;
type RecvMmsgFn =
    unsafe extern "C" fn(c_int, *mut mmsghdr, c_uint, c_int, *mut libc::timespec) -> c_int;
type SpliceFn = unsafe extern "C" fn(
    c_int,
    *mut libc::loff_t,
    c_int,
    *mut libc::loff_t,
    size_t,
    c_uint,
) -> ssize_t;

/// Makes the call `call` with the length `len`, cut as [`decide`] says, or fails with
/// `EINTR` without making it.
fn with_cut(
    fd: c_int,
    len: size_t,
    flags: c_int,
    direction: Direction,
    call: impl FnOnce(size_t) -> ssize_t,
) -> ssize_t {
    match decide(fd, len, flags, direction) {
        Cut::Whole => call(len),
        Cut::Interrupt => interrupted(),
        Cut::To(cap) => {
            let moved = call(cap);
            rearm(fd, moved);
            moved
        }
    }
}

/// After `recvfrom`: a sender at a redirected port is shown at the port the program knows.
fn report_sender(received: ssize_t, address: *mut sockaddr, address_len: *mut socklen_t) {
    if received >= 0 && !address.is_null() && !address_len.is_null() {
        // SAFETY: the kernel filled `*address_len` bytes of the caller's buffer.
        unsafe { redirect::report_back(address, *address_len) };
    }
}

/// send(2), cut short: at most the setting's cut of `len`, or `EINTR`.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn send(fd: c_int, buf: *const c_void, len: size_t, flags: c_int) -> ssize_t {
    with_cut(fd, len, flags, Direction::Write, |len| {
        call_real!(REAL_SEND, SendFn, fd, buf, len, flags)
    })
}

/// sendto(2), cut short like [`send`].
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sendto(
    fd: c_int,
    buf: *const c_void,
    len: size_t,
    flags: c_int,
    address: *const sockaddr,
    address_len: socklen_t,
) -> ssize_t {
    // A hard-coded destination, moved where the harness says (see `redirect`).
    // SAFETY: the caller's address of `address_len` bytes, or null.
    let moved = unsafe { redirect::destination(address, address_len, Verb::Send) };
    let (address, address_len) = moved.as_ref().map_or((address, address_len), |moved| {
        (moved.as_ptr(), moved.length())
    });
    with_cut(fd, len, flags, Direction::Write, |len| {
        call_real!(
            REAL_SENDTO,
            SendToFn,
            fd,
            buf,
            len,
            flags,
            address,
            address_len
        )
    })
}

/// write(2), cut short on a socket like [`send`]; any other descriptor untouched.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn write(fd: c_int, buf: *const c_void, count: size_t) -> ssize_t {
    with_cut(fd, count, 0, Direction::Write, |count| {
        call_real!(REAL_WRITE, WriteFn, fd, buf, count)
    })
}

/// sendfile(2), cut short when its destination is a socket.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sendfile(
    out_fd: c_int,
    in_fd: c_int,
    offset: *mut off_t,
    count: size_t,
) -> ssize_t {
    with_cut(out_fd, count, 0, Direction::Write, |count| {
        call_real!(REAL_SENDFILE, SendFileFn, out_fd, in_fd, offset, count)
    })
}

/// sendfile64, glibc's large-file name of [`sendfile`].
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sendfile64(
    out_fd: c_int,
    in_fd: c_int,
    offset: *mut off_t,
    count: size_t,
) -> ssize_t {
    with_cut(out_fd, count, 0, Direction::Write, |count| {
        call_real!(REAL_SENDFILE64, SendFileFn, out_fd, in_fd, offset, count)
    })
}

/// recv(2), cut short: at most the setting's cut of `len`, or `EINTR`.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn recv(fd: c_int, buf: *mut c_void, len: size_t, flags: c_int) -> ssize_t {
    with_cut(fd, len, flags, Direction::Read, |len| {
        call_real!(REAL_RECV, RecvFn, fd, buf, len, flags)
    })
}

/// recvfrom(2), cut short like [`recv`].
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn recvfrom(
    fd: c_int,
    buf: *mut c_void,
    len: size_t,
    flags: c_int,
    address: *mut sockaddr,
    address_len: *mut socklen_t,
) -> ssize_t {
    let received = with_cut(fd, len, flags, Direction::Read, |len| {
        call_real!(
            REAL_RECVFROM,
            RecvFromFn,
            fd,
            buf,
            len,
            flags,
            address,
            address_len
        )
    });
    report_sender(received, address, address_len);
    received
}

/// read(2), cut short on a socket like [`recv`]; any other descriptor untouched.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn read(fd: c_int, buf: *mut c_void, count: size_t) -> ssize_t {
    with_cut(fd, count, 0, Direction::Read, |count| {
        call_real!(REAL_READ, ReadFn, fd, buf, count)
    })
}

/// `read` as `gcc -D_FORTIFY_SOURCE` calls it when it knows the buffer's size.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __read_chk(
    fd: c_int,
    buf: *mut c_void,
    count: size_t,
    buffer_len: size_t,
) -> ssize_t {
    if count > buffer_len {
        // The C library's own check reports the overflow and aborts.
        return call_real!(REAL_READ_CHK, ReadChkFn, fd, buf, count, buffer_len);
    }
    // SAFETY: the caller's arguments.
    unsafe { read(fd, buf, count) }
}

/// glibc's fortified `recv` (`_FORTIFY_SOURCE`), cut short like [`recv`].
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __recv_chk(
    fd: c_int,
    buf: *mut c_void,
    len: size_t,
    buffer_len: size_t,
    flags: c_int,
) -> ssize_t {
    if len > buffer_len {
        return call_real!(REAL_RECV_CHK, RecvChkFn, fd, buf, len, buffer_len, flags);
    }
    // SAFETY: the caller's arguments.
    unsafe { recv(fd, buf, len, flags) }
}

/// glibc's fortified `recvfrom`, cut short like [`recv`].
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __recvfrom_chk(
    fd: c_int,
    buf: *mut c_void,
    len: size_t,
    buffer_len: size_t,
    flags: c_int,
    address: *mut sockaddr,
    address_len: *mut socklen_t,
) -> ssize_t {
    if len > buffer_len {
        return call_real!(
            REAL_RECVFROM_CHK,
            RecvFromChkFn,
            fd,
            buf,
            len,
            buffer_len,
            flags,
            address,
            address_len
        );
    }
    // SAFETY: the caller's arguments.
    unsafe { recvfrom(fd, buf, len, flags, address, address_len) }
}

/// writev(2), cut short on a socket: its vectors moved up to the cut.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn writev(fd: c_int, iov: *const iovec, count: c_int) -> ssize_t {
    // SAFETY: the caller's array of `count` entries.
    let total = usize::try_from(count)
        .ok()
        .and_then(|count| unsafe { total_length(iov, count) });
    let Some(total) = total else {
        return call_real!(REAL_WRITEV, WritevFn, fd, iov, count);
    };
    match decide(fd, total, 0, Direction::Write) {
        Cut::Whole => call_real!(REAL_WRITEV, WritevFn, fd, iov, count),
        Cut::Interrupt => interrupted(),
        Cut::To(cap) => {
            let mut short = empty_iovecs();
            // SAFETY: the caller's array of `count` entries (checked non-negative above).
            let entries = unsafe { shorten(iov, count as usize, cap, &mut short) };
            let moved = call_real!(REAL_WRITEV, WritevFn, fd, short.as_ptr(), entries as c_int);
            rearm(fd, moved);
            moved
        }
    }
}

/// readv(2), cut short on a socket: its vectors filled up to the cut.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn readv(fd: c_int, iov: *const iovec, count: c_int) -> ssize_t {
    // SAFETY: the caller's array of `count` entries.
    let total = usize::try_from(count)
        .ok()
        .and_then(|count| unsafe { total_length(iov, count) });
    let Some(total) = total else {
        return call_real!(REAL_READV, ReadvFn, fd, iov, count);
    };
    match decide(fd, total, 0, Direction::Read) {
        Cut::Whole => call_real!(REAL_READV, ReadvFn, fd, iov, count),
        Cut::Interrupt => interrupted(),
        Cut::To(cap) => {
            let mut short = empty_iovecs();
            // SAFETY: the caller's array of `count` entries (checked non-negative above).
            let entries = unsafe { shorten(iov, count as usize, cap, &mut short) };
            let moved = call_real!(REAL_READV, ReadvFn, fd, short.as_ptr(), entries as c_int);
            rearm(fd, moved);
            moved
        }
    }
}

/// sendmsg(2), cut short like [`writev`].
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sendmsg(fd: c_int, message: *const msghdr, flags: c_int) -> ssize_t {
    if message.is_null() {
        return unsafe { real_sendmsg(fd, message, flags) };
    }
    // SAFETY: the caller's message, valid for reads.
    let mut copy: msghdr = unsafe { *message };
    // A hard-coded destination, moved where the harness says (see `redirect`): the copy
    // points at the moved address, the program's message is left as it was.
    // SAFETY: the message's name of `msg_namelen` bytes, or null.
    let moved =
        unsafe { redirect::destination(copy.msg_name.cast(), copy.msg_namelen, Verb::Send) };
    if let Some(moved) = &moved {
        copy.msg_name = moved.as_ptr().cast_mut().cast();
        copy.msg_namelen = moved.length();
    }
    let message: *const msghdr = if moved.is_some() { &copy } else { message };
    // SAFETY: the message's array of `msg_iovlen` entries.
    let Some(total) = (unsafe { total_length(copy.msg_iov, iov_count(&copy)) }) else {
        return unsafe { real_sendmsg(fd, message, flags) };
    };
    match decide(fd, total, flags, Direction::Write) {
        Cut::Whole => unsafe { real_sendmsg(fd, message, flags) },
        Cut::Interrupt => interrupted(),
        Cut::To(cap) => {
            let mut short = empty_iovecs();
            // SAFETY: the message's array of `msg_iovlen` entries.
            let entries = unsafe { shorten(copy.msg_iov, iov_count(&copy), cap, &mut short) };
            copy.msg_iov = short.as_mut_ptr();
            copy.msg_iovlen = entries as _;
            let moved = unsafe { real_sendmsg(fd, &copy, flags) };
            rearm(fd, moved);
            moved
        }
    }
}

/// The C library's `sendmsg`; where the machine's filter refuses it (`EACCES`), a message
/// without ancillary data sent again as one `sendto`.
///
/// Where the warden of a shared loopback owns a program's datagram sockets (a platform's
/// container: `sandbox-init --warden-owns`), the seccomp filter refuses `sendmsg` on every
/// other socket, since its ancillary data could pass a copy of one of them on
/// (`SCM_RIGHTS`). Most messages carry none (Python's asyncio writes a stream's buffers
/// with `sendmsg`): their bytes, gathered, go as one `sendto`, which carries no ancillary
/// data whatever another thread writes into the message meanwhile. A stream's send may be
/// short, so a long one is cut at [`GATHERED_MAX`].
///
/// # Safety
///
/// `message` is a valid message, as for `sendmsg`.
unsafe fn real_sendmsg(fd: c_int, message: *const msghdr, flags: c_int) -> ssize_t {
    let sent = call_real!(REAL_SENDMSG, SendMsgFn, fd, message, flags);
    if sent >= 0 || message.is_null() || errno() != libc::EACCES {
        return sent;
    }
    // SAFETY: the caller's message, valid for reads.
    let header: msghdr = unsafe { *message };
    if !header.msg_control.is_null() && header.msg_controllen != 0 {
        return sent;
    }
    let mut bytes = Vec::new();
    // SAFETY: the message's array of `msg_iovlen` entries, each valid for its length.
    unsafe {
        for index in 0..iov_count(&header) {
            let piece = *header.msg_iov.add(index);
            if piece.iov_len == 0 {
                // Its base may be null: nothing to read.
                continue;
            }
            let room = GATHERED_MAX - bytes.len();
            if piece.iov_len > room && is_stream(fd) {
                bytes.extend_from_slice(std::slice::from_raw_parts(piece.iov_base.cast(), room));
                break;
            }
            if bytes.try_reserve(piece.iov_len).is_err() {
                set_errno(libc::ENOBUFS);
                return -1;
            }
            bytes.extend_from_slice(std::slice::from_raw_parts(
                piece.iov_base.cast::<u8>(),
                piece.iov_len,
            ));
        }
    }
    call_real!(
        REAL_SENDTO,
        SendToFn,
        fd,
        bytes.as_ptr().cast(),
        bytes.len(),
        flags,
        header.msg_name.cast_const().cast(),
        header.msg_namelen
    )
}

/// The most bytes of a stream's message [`real_sendmsg`] gathers into one `sendto`.
const GATHERED_MAX: usize = 1 << 20;

/// Whether `fd` is a stream socket (whose send may be short).
fn is_stream(fd: c_int) -> bool {
    let mut kind: c_int = 0;
    let mut length = std::mem::size_of::<c_int>() as libc::socklen_t;
    // SAFETY: getsockopt fills our local with its length.
    let asked = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_TYPE,
            (&mut kind as *mut c_int).cast(),
            &mut length,
        )
    };
    asked == 0 && kind == libc::SOCK_STREAM
}

/// recvmsg(2), cut short like [`readv`].
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn recvmsg(fd: c_int, message: *mut msghdr, flags: c_int) -> ssize_t {
    if message.is_null() {
        return call_real!(REAL_RECVMSG, RecvMsgFn, fd, message, flags);
    }
    // SAFETY: the caller's message, valid for reads.
    let mut copy: msghdr = unsafe { *message };
    // SAFETY: the message's array of `msg_iovlen` entries.
    let Some(total) = (unsafe { total_length(copy.msg_iov, iov_count(&copy)) }) else {
        return call_real!(REAL_RECVMSG, RecvMsgFn, fd, message, flags);
    };
    let received = match decide(fd, total, flags, Direction::Read) {
        Cut::Whole => call_real!(REAL_RECVMSG, RecvMsgFn, fd, message, flags),
        Cut::Interrupt => interrupted(),
        Cut::To(cap) => {
            let mut short = empty_iovecs();
            // SAFETY: the message's array of `msg_iovlen` entries.
            let entries = unsafe { shorten(copy.msg_iov, iov_count(&copy), cap, &mut short) };
            copy.msg_iov = short.as_mut_ptr();
            copy.msg_iovlen = entries as _;
            let result = call_real!(REAL_RECVMSG, RecvMsgFn, fd, &mut copy, flags);
            // What the kernel reports back through the message: the address's and the
            // control data's lengths and the flags. The buffers are the caller's own.
            // SAFETY: the caller's message, valid for writes.
            unsafe {
                (*message).msg_namelen = copy.msg_namelen;
                (*message).msg_controllen = copy.msg_controllen;
                (*message).msg_flags = copy.msg_flags;
            }
            rearm(fd, result);
            result
        }
    };
    if received >= 0 {
        // SAFETY: the caller's message, whose name the kernel filled.
        unsafe { redirect::report_back((*message).msg_name.cast(), (*message).msg_namelen) };
    }
    received
}

/// sendmmsg(2): each message through [`sendmsg`], so each is cut and redirected as one
/// sent alone; it stops after a message that went short, as the kernel stops after one it
/// could not finish. Returns how many messages were sent (all or part), or -1 when the
/// first failed.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sendmmsg(
    fd: c_int,
    messages: *mut mmsghdr,
    count: c_uint,
    flags: c_int,
) -> c_int {
    if messages.is_null() {
        return call_real!(REAL_SENDMMSG, SendMmsgFn, fd, messages, count, flags);
    }
    let mut sent: c_uint = 0;
    while sent < count.min(libc::UIO_MAXIOV as c_uint) {
        // SAFETY: the caller's array of `count` messages.
        let message = unsafe { &mut *messages.add(sent as usize) };
        // SAFETY: the message's array of `msg_iovlen` entries.
        let whole = unsafe { total_length(message.msg_hdr.msg_iov, iov_count(&message.msg_hdr)) };
        // SAFETY: the caller's message.
        let moved = unsafe { sendmsg(fd, &message.msg_hdr, flags) };
        if moved < 0 {
            return if sent == 0 { -1 } else { sent as c_int };
        }
        message.msg_len = moved as c_uint;
        sent += 1;
        if whole.is_some_and(|whole| (moved as usize) < whole) {
            break;
        }
    }
    sent as c_int
}

/// recvmmsg(2): on a TCP socket the library cuts, one message through [`recvmsg`] (a stream
/// has no messages: what would fill the next one arrives on the next call); elsewhere the
/// C library's, unchanged.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn recvmmsg(
    fd: c_int,
    messages: *mut mmsghdr,
    count: c_uint,
    flags: c_int,
    timeout: *mut libc::timespec,
) -> c_int {
    if setting().is_none() || messages.is_null() || count == 0 || !is_tcp(fd) {
        return call_real!(
            REAL_RECVMMSG,
            RecvMmsgFn,
            fd,
            messages,
            count,
            flags,
            timeout
        );
    }
    // MSG_WAITFORONE only says how the calls after the first wait: one call here.
    // SAFETY: the caller's first message.
    let message = unsafe { &mut *messages };
    // SAFETY: as above.
    let received = unsafe { recvmsg(fd, &mut message.msg_hdr, flags & !libc::MSG_WAITFORONE) };
    if received < 0 {
        return -1;
    }
    message.msg_len = received as c_uint;
    1
}

/// splice(2), cut short when either end is a TCP socket: moving a pipe's bytes into a
/// socket is sending, out of one receiving.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn splice(
    fd_in: c_int,
    offset_in: *mut libc::loff_t,
    fd_out: c_int,
    offset_out: *mut libc::loff_t,
    len: size_t,
    flags: c_uint,
) -> ssize_t {
    let (fd, direction) = if setting().is_some() && is_tcp(fd_out) {
        (fd_out, Direction::Write)
    } else {
        (fd_in, Direction::Read)
    };
    with_cut(fd, len, 0, direction, |len| {
        call_real!(
            REAL_SPLICE,
            SpliceFn,
            fd_in,
            offset_in,
            fd_out,
            offset_out,
            len,
            flags
        )
    })
}

/// Notes which sockets an event loop watches edge-triggered, and how, to register them
/// again after a cut (see [`rearm`]).
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn epoll_ctl(
    epfd: c_int,
    op: c_int,
    fd: c_int,
    event: *mut libc::epoll_event,
) -> c_int {
    let result: c_int = call_real!(REAL_EPOLL_CTL, EpollCtlFn, epfd, op, fd, event);
    if result == 0 {
        match op {
            libc::EPOLL_CTL_ADD | libc::EPOLL_CTL_MOD => {
                // SAFETY: the caller's event, valid for reads when not null.
                let events = if event.is_null() {
                    0
                } else {
                    unsafe { (*event).events }
                };
                // SAFETY: as above.
                let data = if event.is_null() {
                    0
                } else {
                    unsafe { (*event).u64 }
                };
                remember_registration(epfd, fd, Some((events, data)));
            }
            libc::EPOLL_CTL_DEL => remember_registration(epfd, fd, None),
            _ => {}
        }
    }
    result
}

/// How many buffers a `msghdr` names: `msg_iovlen` is a `size_t` in glibc but an `int` in
/// musl, so the conversion is needed on one and is a no-op on the other.
#[allow(clippy::unnecessary_cast)]
fn iov_count(message: &libc::msghdr) -> usize {
    message.msg_iovlen as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_depend_on_the_seed_the_descriptor_and_the_direction_only() {
        let a = draw(7, 5, Direction::Write, 0);
        assert_eq!(a, draw(7, 5, Direction::Write, 0));
        assert_ne!(a, draw(8, 5, Direction::Write, 0));
        assert_ne!(a, draw(7, 6, Direction::Write, 0));
        assert_ne!(a, draw(7, 5, Direction::Read, 0));
        assert_ne!(a, draw(7, 5, Direction::Write, 1));
    }

    #[test]
    fn cuts_stay_between_one_and_max() {
        let setting = Setting {
            seed: 1,
            max: 16,
            eintr_ppm: 0,
            traced: false,
        };
        let mut seen = [false; 17];
        for index in 0..2000 {
            match cut_from(draw(1, 3, Direction::Read, index), setting, 20_000, true) {
                Cut::To(size) => {
                    assert!((1..=16).contains(&size));
                    seen[size] = true;
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(seen[1..].iter().all(|seen| *seen), "every size is drawn");
        // A call no longer than the drawn size is passed on whole.
        assert_eq!(cut_from(0, setting, 1, true), Cut::Whole);
    }

    #[test]
    fn eintr_comes_at_its_rate_and_only_where_allowed() {
        let setting = Setting {
            seed: 1,
            max: 16,
            eintr_ppm: 100_000,
            traced: false,
        };
        let draws: Vec<u64> = (0..10_000)
            .map(|index| draw(1, 4, Direction::Write, index))
            .collect();
        let interrupted = draws
            .iter()
            .filter(|value| cut_from(**value, setting, 100, true) == Cut::Interrupt)
            .count();
        assert!((800..1200).contains(&interrupted), "{interrupted}");
        assert!(
            draws
                .iter()
                .all(|value| cut_from(*value, setting, 100, false) != Cut::Interrupt)
        );
    }

    #[test]
    fn iovec_arrays_are_shortened_in_a_copy() {
        let mut a = [0u8; 10];
        let mut b = [0u8; 10];
        let source = [
            iovec {
                iov_base: a.as_mut_ptr().cast(),
                iov_len: 10,
            },
            iovec {
                iov_base: core::ptr::null_mut(),
                iov_len: 0,
            },
            iovec {
                iov_base: b.as_mut_ptr().cast(),
                iov_len: 10,
            },
        ];
        // SAFETY: a live array of 3 entries.
        assert_eq!(unsafe { total_length(source.as_ptr(), 3) }, Some(20));
        let mut short = empty_iovecs();
        // SAFETY: as above.
        let entries = unsafe { shorten(source.as_ptr(), 3, 13, &mut short) };
        assert_eq!(entries, 2);
        assert_eq!(short[0].iov_len, 10);
        assert_eq!(short[1].iov_base, source[2].iov_base);
        assert_eq!(short[1].iov_len, 3);
        assert_eq!(source[2].iov_len, 10, "the caller's array is untouched");
        // SAFETY: as above.
        assert_eq!(unsafe { shorten(source.as_ptr(), 3, 4, &mut short) }, 1);
        assert_eq!(short[0].iov_len, 4);
        // SAFETY: a count the kernel refuses is not read.
        assert_eq!(
            unsafe { total_length(source.as_ptr(), libc::UIO_MAXIOV as usize + 1) },
            None
        );
    }

    #[test]
    fn only_tcp_sockets_qualify() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let (unix, _other) = std::os::unix::net::UnixStream::pair().unwrap();
        let file = std::fs::File::open("/dev/null").unwrap();
        use std::os::fd::AsRawFd;
        assert!(is_tcp(stream.as_raw_fd()));
        assert!(is_tcp(listener.as_raw_fd()));
        assert!(!is_tcp(udp.as_raw_fd()));
        assert!(!is_tcp(unix.as_raw_fd()));
        assert!(!is_tcp(file.as_raw_fd()));
        assert!(!non_blocking(stream.as_raw_fd(), 0));
        assert!(non_blocking(stream.as_raw_fd(), libc::MSG_DONTWAIT));
        stream.set_nonblocking(true).unwrap();
        assert!(non_blocking(stream.as_raw_fd(), 0));
    }
}
