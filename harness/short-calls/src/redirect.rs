//! # Redirection: a hard-coded port, address or name, on a machine without a network of its own
//!
//! Lab skeletons hard-code their port (`serverPort = 12000`), sometimes their server's address
//! (`192.0.2.10`, a lab machine's) or a made-up name (`serverName = 'servername'`). Where the
//! harness can give every scenario a network namespace of its own, all of that simply works:
//! port 12000 is free in every scenario and every address and name leads to the harness.
//! Inside a platform's container (no `CAP_SYS_ADMIN`, no new namespaces) every scenario shares
//! one loopback: port 12000 stays in `TIME_WAIT` for a minute after each scenario, and a
//! client's `connect` to 12000 meets the student's own server rather than the harness.
//!
//! With `SOCKET_LAB_REDIRECT` set, this library moves those calls instead, as the program
//! makes them:
//!
//! - `bind` to a listed port binds the port it is redirected to (the address is kept; one
//!   this machine does not have, `EADDRNOTAVAIL`, becomes the loopback);
//! - `connect`, `sendto` and `sendmsg` to a listed port go to the loopback at the port it is
//!   redirected to, whatever address the program named;
//! - `getsockname`, `getpeername`, `recvfrom` and `recvmsg` report the listed port back, so
//!   a program that prints where it listens prints what it asked for;
//! - with `names=1`, `getaddrinfo` and `gethostbyname` of a name (not a number, not
//!   `localhost`) answer the loopback: on a scenario's own network every name leads to the
//!   harness, and here the harness is on the loopback.
//!
//! ```sh
//! LD_PRELOAD=$PWD/target/debug/libshort_calls.so \
//! SOCKET_LAB_REDIRECT="port=12000>41234,names=1" python3 UDPPingerServer.py
//! ```
//!
//! The setting is comma-separated: `port=FROM>TO` (up to eight), `names=1`, and
//! `mark=PATH`, a file to which each kind of redirection made is appended once as a line
//! (`bind 12000>41234`, `connect 12000>41234`, `name`), so the harness's report can say what
//! was moved; and `count=PATH`, a file to which each `connect` of a TCP socket appends a
//! byte (how often a program tried to reach its server, which otherwise only a network
//! namespace of its own counts). Without the variable nothing is redirected; a setting it cannot read is said
//! once on stderr, and then nothing is redirected either.
//!
//! As in the rest of the library, these functions allocate nothing and take no lock: the
//! table lives in atomics, and the copies of addresses are on the stack.

use core::ffi::{CStr, c_char};
use core::sync::atomic::{
    AtomicBool, AtomicU8, AtomicU16, AtomicU32, AtomicU64, AtomicUsize, Ordering,
};

use libc::{
    AF_INET, AF_INET6, addrinfo, c_int, hostent, sockaddr, sockaddr_in, sockaddr_in6,
    sockaddr_storage, socklen_t,
};

use super::{Real, set_errno};
use crate::setting::{pairs, trim};

/// The environment variable the setting is read from.
pub const REDIRECT_VARIABLE: &CStr = c"SOCKET_LAB_REDIRECT";

/// The most ports one setting redirects.
const MOST_PORTS: usize = 8;

/// One setting, as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Table {
    /// `(from, to)` pairs; the first `count` are used.
    pub(crate) ports: [(u16, u16); MOST_PORTS],
    pub(crate) count: usize,
    /// Names answer the loopback.
    pub(crate) names: bool,
}

impl Table {
    /// Where a call to port `from` goes instead.
    pub(crate) fn to(&self, from: u16) -> Option<u16> {
        self.ports[..self.count]
            .iter()
            .find(|(listed, _)| *listed == from)
            .map(|(_, to)| *to)
    }

    /// The port the program asked for, when `to` is where it was redirected.
    pub(crate) fn from(&self, to: u16) -> Option<u16> {
        self.ports[..self.count]
            .iter()
            .find(|(_, target)| *target == to)
            .map(|(from, _)| *from)
    }
}

/// Reads `port=12000>41234,names=1,mark=/path`. `None` for anything it cannot read.
pub(crate) fn parse_table(text: &[u8]) -> Option<Table> {
    let mut table = Table {
        ports: [(0, 0); MOST_PORTS],
        count: 0,
        names: false,
    };
    for pair in pairs(text) {
        let (key, value) = pair?;
        match key {
            b"port" => {
                let arrow = value.iter().position(|byte| *byte == b'>')?;
                let from = parse_port(trim(&value[..arrow]))?;
                let to = parse_port(trim(&value[arrow + 1..]))?;
                if table.count == MOST_PORTS || table.to(from).is_some() {
                    return None;
                }
                table.ports[table.count] = (from, to);
                table.count += 1;
            }
            b"names" => {
                table.names = match value {
                    b"1" => true,
                    b"0" => false,
                    _ => return None,
                }
            }
            // Read where they are used (`note_port`, `count_attempt`).
            b"mark" | b"count" if !value.is_empty() => {}
            _ => return None,
        }
    }
    Some(table)
}

fn parse_port(digits: &[u8]) -> Option<u16> {
    if digits.is_empty() || digits.len() > 5 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let value = digits
        .iter()
        .fold(0u32, |value, digit| value * 10 + u32::from(digit - b'0'));
    u16::try_from(value).ok().filter(|port| *port != 0)
}

// --- The process's table, in atomics ----------------------------------------------------

const UNREAD: u8 = 0;
const OFF: u8 = 1;
const ON: u8 = 2;

static STATE: AtomicU8 = AtomicU8::new(UNREAD);
static FROM: [AtomicU16; MOST_PORTS] = [const { AtomicU16::new(0) }; MOST_PORTS];
static TO: [AtomicU16; MOST_PORTS] = [const { AtomicU16::new(0) }; MOST_PORTS];
static COUNT: AtomicUsize = AtomicUsize::new(0);
static NAMES: AtomicBool = AtomicBool::new(false);

/// The process's table, read from the environment on first use (two threads reading it
/// at once store the same values).
pub(crate) fn table() -> Option<Table> {
    match STATE.load(Ordering::Acquire) {
        ON => {
            let mut table = Table {
                ports: [(0, 0); MOST_PORTS],
                count: COUNT.load(Ordering::Relaxed),
                names: NAMES.load(Ordering::Relaxed),
            };
            for (index, slot) in table.ports.iter_mut().enumerate() {
                *slot = (
                    FROM[index].load(Ordering::Relaxed),
                    TO[index].load(Ordering::Relaxed),
                );
            }
            Some(table)
        }
        OFF => None,
        _ => read_table(),
    }
}

fn read_table() -> Option<Table> {
    let text = environment_text()?;
    match parse_table(text) {
        Some(table) => {
            for (index, (from, to)) in table.ports.iter().enumerate() {
                FROM[index].store(*from, Ordering::Relaxed);
                TO[index].store(*to, Ordering::Relaxed);
            }
            COUNT.store(table.count, Ordering::Relaxed);
            NAMES.store(table.names, Ordering::Relaxed);
            STATE.store(ON, Ordering::Release);
            Some(table)
        }
        None => {
            if STATE.swap(OFF, Ordering::AcqRel) != OFF {
                crate::setting::say(b"short-calls: cannot read SOCKET_LAB_REDIRECT (expected e.g. \"port=12000>41234,names=1\"); nothing is redirected\n");
            }
            None
        }
    }
}

/// The setting's text, or `None` (and the state off) without the variable.
fn environment_text() -> Option<&'static [u8]> {
    // SAFETY: getenv reads the environment the C library set up; it neither allocates nor
    // locks.
    let text = unsafe { libc::getenv(REDIRECT_VARIABLE.as_ptr()) };
    if text.is_null() {
        STATE.store(OFF, Ordering::Release);
        return None;
    }
    // SAFETY: a non-null getenv result is a NUL-terminated string, which lives as long as
    // the environment is not changed (a program that `setenv`s it afterwards has only its
    // own marks to lose).
    Some(unsafe { CStr::from_ptr(text) }.to_bytes())
}

// --- Telling the harness what was moved -------------------------------------------------

/// The kinds of redirection, each noted once per port and process.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Verb {
    Bind = 0,
    Connect = 1,
    Send = 2,
}

impl Verb {
    fn word(self) -> &'static [u8] {
        match self {
            Verb::Bind => b"bind",
            Verb::Connect => b"connect",
            Verb::Send => b"send",
        }
    }
}

/// Per listed port, a bit per [`Verb`] already noted.
static NOTED: [AtomicU8; MOST_PORTS] = [const { AtomicU8::new(0) }; MOST_PORTS];
static NAME_NOTED: AtomicBool = AtomicBool::new(false);

/// Appends `bind 12000>41234` to the `mark=` file, the first time this process makes that
/// redirection.
fn note_port(table: &Table, verb: Verb, from: u16) {
    let Some(index) = index_of(table, from) else {
        return;
    };
    let bit = 1u8 << (verb as u8);
    if NOTED[index].fetch_or(bit, Ordering::Relaxed) & bit != 0 {
        return;
    }
    let mut line = [0u8; 32];
    let mut length = 0;
    for part in [verb.word(), b" "] {
        line[length..length + part.len()].copy_from_slice(part);
        length += part.len();
    }
    length += write_number(&mut line[length..], from);
    line[length] = b'>';
    length += 1;
    length += write_number(&mut line[length..], table.ports[index].1);
    line[length] = b'\n';
    crate::setting::append_to(REDIRECT_VARIABLE, b"mark", &line[..=length]);
}

fn note_name() {
    if !NAME_NOTED.swap(true, Ordering::Relaxed) {
        crate::setting::append_to(REDIRECT_VARIABLE, b"mark", b"name\n");
    }
}

/// Appends a byte to the `count=` file for each `connect` of a TCP socket to an IPv4 or
/// IPv6 address (with the setting on): without a network namespace of its own, whose
/// kernel counts the attempts, the harness learns this way whether and how often a program
/// tried to reach its server.
///
/// # Safety
///
/// `address` is null or points to `length` readable bytes.
unsafe fn count_attempt(fd: c_int, address: *const sockaddr, length: socklen_t) {
    // SAFETY: as the caller promises.
    if table().is_some() && super::is_tcp(fd) && unsafe { copy(address, length) }.is_some() {
        crate::setting::append_to(REDIRECT_VARIABLE, b"count", b".");
    }
}

/// Writes `value` in decimal at the start of `out`; returns how many bytes.
fn write_number(out: &mut [u8], value: u16) -> usize {
    let mut digits = [0u8; 5];
    let mut count = 0;
    let mut rest = value;
    loop {
        digits[count] = b'0' + (rest % 10) as u8;
        count += 1;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    for (index, digit) in digits[..count].iter().rev().enumerate() {
        out[index] = *digit;
    }
    count
}

// --- Addresses --------------------------------------------------------------------------

/// A copy of a socket address, on the stack.
pub(crate) struct Moved {
    storage: sockaddr_storage,
    length: socklen_t,
}

impl Moved {
    pub(crate) fn as_ptr(&self) -> *const sockaddr {
        (&raw const self.storage).cast()
    }

    pub(crate) fn length(&self) -> socklen_t {
        self.length
    }
}

/// Where a program's `connect`/`sendto` to `address` goes: `None` to leave it as it is.
///
/// # Safety
///
/// `address` is null or points to `length` readable bytes.
pub(crate) unsafe fn destination(
    address: *const sockaddr,
    length: socklen_t,
    verb: Verb,
) -> Option<Moved> {
    let table = table()?;
    // SAFETY: as the caller promises.
    let mut moved = unsafe { copy(address, length)? };
    let from = port_of(&moved)?;
    let to = table.to(from)?;
    remember_destination(&table, from, &moved);
    set_port(&mut moved, to);
    to_loopback(&mut moved, false);
    note_port(&table, verb, from);
    Some(moved)
}

/// Where a program's `bind` to `address` binds: the port redirected, the address kept.
///
/// # Safety
///
/// `address` is null or points to `length` readable bytes.
pub(crate) unsafe fn own_address(address: *const sockaddr, length: socklen_t) -> Option<Moved> {
    let table = table()?;
    // SAFETY: as the caller promises.
    let mut moved = unsafe { copy(address, length)? };
    let from = port_of(&moved)?;
    let to = table.to(from)?;
    set_port(&mut moved, to);
    note_port(&table, Verb::Bind, from);
    Some(moved)
}

/// An address the kernel reported (`getsockname`, `recvfrom`): a redirected port is shown
/// as the port the program asked for.
///
/// # Safety
///
/// `address` is null or points to a buffer the kernel filled with `length` bytes.
pub(crate) unsafe fn report_back(address: *mut sockaddr, length: socklen_t) {
    let Some(table) = table() else {
        return;
    };
    if address.is_null() {
        return;
    }
    // SAFETY: as the caller promises.
    let Some(mut moved) = (unsafe { copy(address, length) }) else {
        return;
    };
    let Some(from) = port_of(&moved).and_then(|to| table.from(to)) else {
        return;
    };
    set_port(&mut moved, from);
    restore_destination(&table, from, &mut moved);
    // SAFETY: the same bytes, the port changed: `copy` read `moved.length` of them.
    unsafe {
        core::ptr::copy_nonoverlapping(
            moved.as_ptr().cast::<u8>(),
            address.cast::<u8>(),
            moved.length as usize,
        );
    }
}

// The address each listed port was last sent to, by family, so that a reply from the
// loopback is shown as coming from it: a resolver checks that the answer comes from the
// name server it asked (dnspython does), not only from its port.
static LAST_IPV4: [AtomicU32; MOST_PORTS] = [const { AtomicU32::new(0) }; MOST_PORTS];
static LAST_IPV6: [[AtomicU64; 2]; MOST_PORTS] =
    [const { [AtomicU64::new(0), AtomicU64::new(0)] }; MOST_PORTS];
/// Per listed port: bit 0, an IPv4 address was sent to; bit 1, an IPv6 one.
static LAST_KNOWN: [AtomicU8; MOST_PORTS] = [const { AtomicU8::new(0) }; MOST_PORTS];

fn index_of(table: &Table, from: u16) -> Option<usize> {
    table.ports[..table.count]
        .iter()
        .position(|(listed, _)| *listed == from)
}

/// Remembers the address a program sent to listed port `from` (before it is moved).
fn remember_destination(table: &Table, from: u16, original: &Moved) {
    let Some(index) = index_of(table, from) else {
        return;
    };
    match c_int::from(original.storage.ss_family) {
        AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let inet = unsafe { &*original.as_ptr().cast::<sockaddr_in>() };
            LAST_IPV4[index].store(inet.sin_addr.s_addr, Ordering::Relaxed);
            LAST_KNOWN[index].fetch_or(1, Ordering::Release);
        }
        AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let bytes = unsafe {
                (*original.as_ptr().cast::<sockaddr_in6>())
                    .sin6_addr
                    .s6_addr
            };
            let (high, low) = bytes.split_at(8);
            LAST_IPV6[index][0].store(
                u64::from_ne_bytes(high.try_into().unwrap_or_default()),
                Ordering::Relaxed,
            );
            LAST_IPV6[index][1].store(
                u64::from_ne_bytes(low.try_into().unwrap_or_default()),
                Ordering::Relaxed,
            );
            LAST_KNOWN[index].fetch_or(2, Ordering::Release);
        }
        _ => {}
    }
}

/// Shows a reported loopback address at listed port `from` as the address the program
/// last sent to there, of the same family.
fn restore_destination(table: &Table, from: u16, reported: &mut Moved) {
    let Some(index) = index_of(table, from) else {
        return;
    };
    let known = LAST_KNOWN[index].load(Ordering::Acquire);
    let storage = (&raw mut reported.storage).cast::<u8>();
    match c_int::from(reported.storage.ss_family) {
        AF_INET if known & 1 != 0 => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let inet = unsafe { &mut *storage.cast::<sockaddr_in>() };
            if u32::from_be(inet.sin_addr.s_addr) >> 24 == 127 {
                inet.sin_addr.s_addr = LAST_IPV4[index].load(Ordering::Relaxed);
            }
        }
        AF_INET6 if known & 2 != 0 => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let inet6 = unsafe { &mut *storage.cast::<sockaddr_in6>() };
            let bytes = &mut inet6.sin6_addr.s6_addr;
            if bytes[..15].iter().all(|byte| *byte == 0) && bytes[15] == 1 {
                bytes[..8]
                    .copy_from_slice(&LAST_IPV6[index][0].load(Ordering::Relaxed).to_ne_bytes());
                bytes[8..]
                    .copy_from_slice(&LAST_IPV6[index][1].load(Ordering::Relaxed).to_ne_bytes());
            }
        }
        _ => {}
    }
}

/// A copy of an IPv4 or IPv6 address; `None` for any other family or a short length.
unsafe fn copy(address: *const sockaddr, length: socklen_t) -> Option<Moved> {
    if address.is_null() {
        return None;
    }
    // SAFETY: at least the family field is there when the length covers it.
    let family = c_int::from(unsafe { (*address).sa_family });
    let needed = match family {
        AF_INET => size_of::<sockaddr_in>(),
        AF_INET6 => size_of::<sockaddr_in6>(),
        _ => return None,
    };
    if (length as usize) < needed {
        return None;
    }
    // SAFETY: zeroed storage is a valid sockaddr_storage.
    let mut storage: sockaddr_storage = unsafe { core::mem::zeroed() };
    // SAFETY: `needed` bytes are readable (checked) and fit in the storage.
    unsafe {
        core::ptr::copy_nonoverlapping(
            address.cast::<u8>(),
            (&raw mut storage).cast::<u8>(),
            needed,
        );
    }
    Some(Moved {
        storage,
        length: needed as socklen_t,
    })
}

fn port_of(moved: &Moved) -> Option<u16> {
    let port = match c_int::from(moved.storage.ss_family) {
        // SAFETY: the family says which structure the storage holds.
        AF_INET => unsafe { (*moved.as_ptr().cast::<sockaddr_in>()).sin_port },
        // SAFETY: as above.
        AF_INET6 => unsafe { (*moved.as_ptr().cast::<sockaddr_in6>()).sin6_port },
        _ => return None,
    };
    Some(u16::from_be(port))
}

fn set_port(moved: &mut Moved, port: u16) {
    let storage = (&raw mut moved.storage).cast::<u8>();
    match c_int::from(moved.storage.ss_family) {
        // SAFETY: the family says which structure the storage holds.
        AF_INET => unsafe { (*storage.cast::<sockaddr_in>()).sin_port = port.to_be() },
        // SAFETY: as above.
        AF_INET6 => unsafe { (*storage.cast::<sockaddr_in6>()).sin6_port = port.to_be() },
        _ => {}
    }
}

/// Points the address at the loopback (`127.0.0.1`, `::1`, or `::ffff:127.0.0.1` for an
/// IPv4 address in IPv6 form), unless it is there already; `any` allows the wildcard too.
fn to_loopback(moved: &mut Moved, any: bool) {
    let storage = (&raw mut moved.storage).cast::<u8>();
    match c_int::from(moved.storage.ss_family) {
        AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let inet = unsafe { &mut *storage.cast::<sockaddr_in>() };
            let address = u32::from_be(inet.sin_addr.s_addr);
            if address >> 24 != 127 && !(any && address == 0) {
                inet.sin_addr.s_addr = 0x7f00_0001u32.to_be();
            }
        }
        AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let inet6 = unsafe { &mut *storage.cast::<sockaddr_in6>() };
            let bytes = &mut inet6.sin6_addr.s6_addr;
            let mapped = bytes[..10].iter().all(|byte| *byte == 0) && bytes[10..12] == [255, 255];
            let loopback = bytes[..15].iter().all(|byte| *byte == 0) && bytes[15] == 1;
            let wildcard = bytes.iter().all(|byte| *byte == 0);
            if mapped && bytes[12] != 127 {
                bytes[12..].copy_from_slice(&[127, 0, 0, 1]);
            } else if !(mapped || loopback || any && wildcard) {
                *bytes = [0; 16];
                bytes[15] = 1;
                inet6.sin6_scope_id = 0;
            }
        }
        _ => {}
    }
}

// --- The calls ---------------------------------------------------------------------------

type BindFn = unsafe extern "C" fn(c_int, *const sockaddr, socklen_t) -> c_int;
type NameFn = unsafe extern "C" fn(c_int, *mut sockaddr, *mut socklen_t) -> c_int;
type GetAddrInfoFn = unsafe extern "C" fn(
    *const c_char,
    *const c_char,
    *const addrinfo,
    *mut *mut addrinfo,
) -> c_int;
type GetHostByNameFn = unsafe extern "C" fn(*const c_char) -> *mut hostent;

pub(crate) static REAL_BIND: Real = Real::new(c"bind");
pub(crate) static REAL_CONNECT: Real = Real::new(c"connect");
pub(crate) static REAL_GETSOCKNAME: Real = Real::new(c"getsockname");
pub(crate) static REAL_GETPEERNAME: Real = Real::new(c"getpeername");
pub(crate) static REAL_GETADDRINFO: Real = Real::new(c"getaddrinfo");
pub(crate) static REAL_GETHOSTBYNAME: Real = Real::new(c"gethostbyname");

/// Every function this part stands in front of, found once from the constructor.
pub(crate) const ALL_REAL: [&Real; 6] = [
    &REAL_BIND,
    &REAL_CONNECT,
    &REAL_GETSOCKNAME,
    &REAL_GETPEERNAME,
    &REAL_GETADDRINFO,
    &REAL_GETHOSTBYNAME,
];

/// bind(2), to the redirected port; an address this machine lacks becomes the loopback.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bind(fd: c_int, address: *const sockaddr, length: socklen_t) -> c_int {
    // SAFETY: the caller's address of `length` bytes.
    let Some(mut moved) = (unsafe { own_address(address, length) }) else {
        return call_real!(REAL_BIND, BindFn, fd, address, length);
    };
    let result = call_real!(REAL_BIND, BindFn, fd, moved.as_ptr(), moved.length());
    if result != 0 && super::errno() == libc::EADDRNOTAVAIL {
        to_loopback(&mut moved, true);
        return call_real!(REAL_BIND, BindFn, fd, moved.as_ptr(), moved.length());
    }
    result
}

/// connect(2), to the loopback at the redirected port.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn connect(fd: c_int, address: *const sockaddr, length: socklen_t) -> c_int {
    // SAFETY: the caller's address of `length` bytes.
    unsafe { count_attempt(fd, address, length) };
    // SAFETY: as above.
    match unsafe { destination(address, length, Verb::Connect) } {
        Some(moved) => call_real!(REAL_CONNECT, BindFn, fd, moved.as_ptr(), moved.length()),
        None => call_real!(REAL_CONNECT, BindFn, fd, address, length),
    }
}

/// getsockname(2), a redirected port shown as the one asked for.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn getsockname(
    fd: c_int,
    address: *mut sockaddr,
    length: *mut socklen_t,
) -> c_int {
    let result = call_real!(REAL_GETSOCKNAME, NameFn, fd, address, length);
    if result == 0 && !length.is_null() {
        // SAFETY: the kernel filled `*length` bytes of the caller's buffer.
        unsafe { report_back(address, *length) };
    }
    result
}

/// getpeername(2), a redirected port shown as the one asked for.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn getpeername(
    fd: c_int,
    address: *mut sockaddr,
    length: *mut socklen_t,
) -> c_int {
    let result = call_real!(REAL_GETPEERNAME, NameFn, fd, address, length);
    if result == 0 && !length.is_null() {
        // SAFETY: as in getsockname.
        unsafe { report_back(address, *length) };
    }
    result
}

/// Whether `node` is a name to answer with the loopback: not a number, not `localhost`.
///
/// # Safety
///
/// `node` is null or a NUL-terminated string.
unsafe fn name_to_answer(node: *const c_char) -> bool {
    if node.is_null() || !table().is_some_and(|table| table.names) {
        return false;
    }
    // SAFETY: as the caller promises.
    let name = unsafe { CStr::from_ptr(node) }.to_bytes();
    let numeric = !name.is_empty()
        && (name
            .iter()
            .all(|byte| byte.is_ascii_digit() || *byte == b'.')
            || name.contains(&b':'));
    !(name.is_empty()
        || numeric
        || name.eq_ignore_ascii_case(b"localhost")
        || name.eq_ignore_ascii_case(b"localhost."))
}

/// getaddrinfo(3): a name answers the loopback of the family asked for.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn getaddrinfo(
    node: *const c_char,
    service: *const c_char,
    hints: *const addrinfo,
    result: *mut *mut addrinfo,
) -> c_int {
    // SAFETY: the caller's node, a C string or null.
    if unsafe { name_to_answer(node) } {
        // SAFETY: the caller's hints, null or readable.
        let family = if hints.is_null() {
            libc::AF_UNSPEC
        } else {
            unsafe { (*hints).ai_family }
        };
        let loopback: &CStr = if family == AF_INET6 {
            c"::1"
        } else {
            c"127.0.0.1"
        };
        note_name();
        return call_real!(
            REAL_GETADDRINFO,
            GetAddrInfoFn,
            loopback.as_ptr(),
            service,
            hints,
            result
        );
    }
    call_real!(
        REAL_GETADDRINFO,
        GetAddrInfoFn,
        node,
        service,
        hints,
        result
    )
}

/// gethostbyname(3): a name answers `127.0.0.1`.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gethostbyname(name: *const c_char) -> *mut hostent {
    let address = REAL_GETHOSTBYNAME.address();
    if address == 0 {
        set_errno(libc::ENOSYS);
        return core::ptr::null_mut();
    }
    // SAFETY: the C library's gethostbyname.
    let function: GetHostByNameFn =
        unsafe { core::mem::transmute::<usize, GetHostByNameFn>(address) };
    // SAFETY: the caller's name, a C string or null.
    if unsafe { name_to_answer(name) } {
        note_name();
        // SAFETY: a NUL-terminated literal.
        return unsafe { function(c"127.0.0.1".as_ptr()) };
    }
    // SAFETY: the caller's argument, passed on.
    unsafe { function(name) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_read() {
        let table = parse_table(b"port=12000>41234, port = 80 > 8080 ,names=1,mark=/tmp/x")
            .expect("a good setting");
        assert_eq!(table.count, 2);
        assert_eq!(table.to(12000), Some(41234));
        assert_eq!(table.to(80), Some(8080));
        assert_eq!(table.to(81), None);
        assert_eq!(table.from(41234), Some(12000));
        assert!(table.names);
        assert_eq!(parse_table(b"").map(|table| table.count), Some(0));
        for bad in [
            &b"port=12000"[..],
            b"port=0>1",
            b"port=1>65536",
            b"port=1>2,port=1>3",
            b"names=yes",
            b"mark=",
            b"seed=1",
            b"port=1>2,port=3>4,port=5>6,port=7>8,port=9>10,port=11>12,port=13>14,port=15>16,port=17>18",
        ] {
            assert_eq!(parse_table(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    fn inet(address: [u8; 4], port: u16) -> sockaddr_in {
        // SAFETY: zeroed is a valid sockaddr_in.
        let mut inet: sockaddr_in = unsafe { core::mem::zeroed() };
        inet.sin_family = AF_INET as libc::sa_family_t;
        inet.sin_port = port.to_be();
        inet.sin_addr.s_addr = u32::from_be_bytes(address).to_be();
        inet
    }

    #[test]
    fn a_lab_machines_address_becomes_the_loopback_and_the_wildcard_stays_for_bind() {
        let remote = inet([192, 0, 2, 10], 12000);
        // SAFETY: a whole sockaddr_in.
        let mut moved = unsafe {
            copy(
                (&raw const remote).cast(),
                size_of::<sockaddr_in>() as socklen_t,
            )
        }
        .expect("IPv4");
        set_port(&mut moved, 41234);
        to_loopback(&mut moved, false);
        // SAFETY: an IPv4 copy.
        let result = unsafe { *moved.as_ptr().cast::<sockaddr_in>() };
        assert_eq!(u16::from_be(result.sin_port), 41234);
        assert_eq!(u32::from_be(result.sin_addr.s_addr), 0x7f00_0001);

        let any = inet([0, 0, 0, 0], 12000);
        // SAFETY: a whole sockaddr_in.
        let mut moved = unsafe {
            copy(
                (&raw const any).cast(),
                size_of::<sockaddr_in>() as socklen_t,
            )
        }
        .expect("IPv4");
        to_loopback(&mut moved, true);
        // SAFETY: an IPv4 copy.
        let result = unsafe { *moved.as_ptr().cast::<sockaddr_in>() };
        assert_eq!(result.sin_addr.s_addr, 0);
    }

    #[test]
    fn short_or_foreign_addresses_are_left_alone() {
        let remote = inet([192, 0, 2, 10], 12000);
        // SAFETY: fewer bytes than a sockaddr_in: refused before reading.
        assert!(unsafe { copy((&raw const remote).cast(), 4) }.is_none());
        // SAFETY: a null address.
        assert!(unsafe { copy(core::ptr::null(), 16) }.is_none());
    }

    #[test]
    fn numbers_are_written_in_decimal() {
        let mut out = [0u8; 5];
        assert_eq!(write_number(&mut out, 41234), 5);
        assert_eq!(&out, b"41234");
        assert_eq!(write_number(&mut out, 7), 1);
        assert_eq!(out[0], b'7');
    }
}
