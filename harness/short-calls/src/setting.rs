//! The setting, `SOCKET_LAB_SHORT_CALLS=seed=7,max=16,eintr=0.02`: read from the
//! environment once per process, without allocating (this runs inside any program, maybe
//! before its own start-up is over), and kept in atomics.

use core::ffi::CStr;
use core::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering};

use libc::c_long;

use crate::raw::kernel;

/// The environment variable the setting is read from.
pub const SETTING_VARIABLE: &CStr = c"SOCKET_LAB_SHORT_CALLS";

/// What one setting asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Setting {
    pub(crate) seed: u64,
    /// The largest size a call may be cut to.
    pub(crate) max: u32,
    /// The chance of `EINTR` per blocking call, in millionths.
    pub(crate) eintr_ppm: u32,
    /// Whether `sandbox-init` traces the program too (`traced=1`): its tracer cuts the
    /// calls of a program no dynamic loader starts, which may then be run.
    pub(crate) traced: bool,
}

const DEFAULT_MAX: u32 = 16;
const LARGEST_MAX: u32 = 1 << 20;
pub(crate) const MILLION: u32 = 1_000_000;

/// Reads `seed=7,max=16,eintr=0.02`. `None` for anything it cannot read.
fn parse_setting(text: &[u8]) -> Option<Setting> {
    let mut setting = Setting {
        seed: 0,
        max: DEFAULT_MAX,
        eintr_ppm: 0,
        traced: false,
    };
    for pair in pairs(text) {
        let (key, value) = pair?;
        match key {
            b"seed" => setting.seed = parse_u64(value)?,
            b"max" => {
                let max = parse_u64(value)?;
                if max == 0 || max > u64::from(LARGEST_MAX) {
                    return None;
                }
                setting.max = max as u32;
            }
            b"eintr" => setting.eintr_ppm = parse_probability(value)?,
            b"traced" => setting.traced = value == b"1",
            // Read where it is used (`mark_entered`).
            b"mark" if !value.is_empty() => {}
            _ => return None,
        }
    }
    Some(setting)
}

/// The `key=value` pairs of a comma-separated setting, trimmed; `None` for a pair without
/// `=`. Empty pairs (`a=1,,b=2`) are skipped.
pub(crate) fn pairs(text: &[u8]) -> impl Iterator<Item = Option<(&[u8], &[u8])>> {
    text.split(|byte| *byte == b',')
        .map(trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let equals = pair.iter().position(|byte| *byte == b'=')?;
            Some((trim(&pair[..equals]), trim(&pair[equals + 1..])))
        })
}

pub(crate) fn trim(mut bytes: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = bytes
        && first.is_ascii_whitespace()
    {
        bytes = rest;
    }
    while let [rest @ .., last] = bytes
        && last.is_ascii_whitespace()
    {
        bytes = rest;
    }
    bytes
}

fn parse_u64(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |value, byte| {
        if byte.is_ascii_digit() {
            value.checked_mul(10)?.checked_add(u64::from(byte - b'0'))
        } else {
            None
        }
    })
}

/// `0`, `1`, `0.02`, `.5`: a probability from 0 to 1, in millionths (digits past the sixth
/// decimal are dropped).
fn parse_probability(text: &[u8]) -> Option<u32> {
    let (whole, fraction) = match text.iter().position(|byte| *byte == b'.') {
        Some(dot) => (&text[..dot], &text[dot + 1..]),
        None => (text, &b""[..]),
    };
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let whole = if whole.is_empty() {
        0
    } else {
        parse_u64(whole)?
    };
    if !fraction.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut millionths = 0u32;
    for place in 0..6 {
        let digit = fraction.get(place).map_or(0, |byte| u32::from(byte - b'0'));
        millionths = millionths * 10 + digit;
    }
    let total = whole.checked_mul(u64::from(MILLION))? + u64::from(millionths);
    (total <= u64::from(MILLION)).then_some(total as u32)
}

const UNREAD: u8 = 0;
const OFF: u8 = 1;
const ON: u8 = 2;

static STATE: AtomicU8 = AtomicU8::new(UNREAD);
static SEED: AtomicU64 = AtomicU64::new(0);
static MAX: AtomicU32 = AtomicU32::new(DEFAULT_MAX);
static EINTR_PPM: AtomicU32 = AtomicU32::new(0);
static TRACED: AtomicBool = AtomicBool::new(false);

/// The process's setting, read from the environment on first use. Two threads may both
/// read it the first time: they find the same text and store the same values.
pub(crate) fn setting() -> Option<Setting> {
    match STATE.load(Ordering::Acquire) {
        ON => Some(Setting {
            seed: SEED.load(Ordering::Relaxed),
            max: MAX.load(Ordering::Relaxed),
            eintr_ppm: EINTR_PPM.load(Ordering::Relaxed),
            traced: TRACED.load(Ordering::Relaxed),
        }),
        OFF => None,
        _ => read_setting(),
    }
}

fn read_setting() -> Option<Setting> {
    // SAFETY: getenv reads the environment the C library set up before any constructor ran;
    // it neither allocates nor locks.
    let text = unsafe { libc::getenv(SETTING_VARIABLE.as_ptr()) };
    if text.is_null() {
        STATE.store(OFF, Ordering::Release);
        return None;
    }
    // SAFETY: a non-null getenv result is a NUL-terminated string.
    let text = unsafe { CStr::from_ptr(text) }.to_bytes();
    match parse_setting(text) {
        Some(setting) => {
            SEED.store(setting.seed, Ordering::Relaxed);
            MAX.store(setting.max, Ordering::Relaxed);
            EINTR_PPM.store(setting.eintr_ppm, Ordering::Relaxed);
            TRACED.store(setting.traced, Ordering::Relaxed);
            STATE.store(ON, Ordering::Release);
            Some(setting)
        }
        None => {
            if STATE.swap(OFF, Ordering::AcqRel) != OFF {
                say(b"short-calls: cannot read SOCKET_LAB_SHORT_CALLS (expected e.g. \"seed=7,max=16,eintr=0.02\"); calls are left whole\n");
            }
            None
        }
    }
}

/// Appends `line` to the file that the setting in `variable` names with `KEY=PATH` (if it
/// does), with raw system calls: how the library tells the harness what it did.
pub(crate) fn append_to(variable: &CStr, key: &[u8], line: &[u8]) {
    // SAFETY: as in `read_setting`.
    let text = unsafe { libc::getenv(variable.as_ptr()) };
    if text.is_null() {
        return;
    }
    // SAFETY: a non-null getenv result is a NUL-terminated string.
    let text = unsafe { CStr::from_ptr(text) }.to_bytes();
    let Some((_, path)) = pairs(text).flatten().find(|(named, _)| *named == key) else {
        return;
    };
    let mut name = [0u8; 4096];
    if path.is_empty() || path.len() >= name.len() {
        return;
    }
    name[..path.len()].copy_from_slice(path);
    // SAFETY: raw system calls on a NUL-terminated name and a descriptor of our own.
    unsafe {
        let fd = kernel(
            libc::SYS_openat,
            libc::AT_FDCWD as c_long,
            name.as_ptr() as c_long,
            (libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT | libc::O_CLOEXEC) as c_long,
            0o600 as c_long,
            0,
        );
        if fd >= 0 {
            kernel(
                libc::SYS_write,
                fd,
                line.as_ptr() as c_long,
                line.len() as c_long,
                0,
                0,
            );
            kernel(libc::SYS_close, fd, 0, 0, 0, 0);
        }
    }
}

/// Writes a message on stderr with a raw system call (nothing allocated, no stdio lock).
pub(crate) fn say(message: &[u8]) {
    // SAFETY: writes bytes of a live slice to descriptor 2.
    unsafe {
        kernel(
            libc::SYS_write,
            2 as c_long,
            message.as_ptr() as c_long,
            message.len() as c_long,
            0,
            0,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_read() {
        assert_eq!(
            parse_setting(b"seed=7,max=16,eintr=0.02"),
            Some(Setting {
                seed: 7,
                max: 16,
                eintr_ppm: 20_000,
                traced: false
            })
        );
        assert_eq!(
            parse_setting(b" max = 3 "),
            Some(Setting {
                seed: 0,
                max: 3,
                eintr_ppm: 0,
                traced: false
            })
        );
        assert_eq!(
            parse_setting(b"seed=1,max=16,traced=1").map(|s| s.traced),
            Some(true)
        );
        assert_eq!(parse_setting(b"").map(|s| s.max), Some(DEFAULT_MAX));
        assert_eq!(
            parse_setting(b"eintr=1").map(|s| s.eintr_ppm),
            Some(MILLION)
        );
        assert_eq!(
            parse_setting(b"eintr=.5").map(|s| s.eintr_ppm),
            Some(500_000)
        );
        assert_eq!(
            parse_setting(b"eintr=0.0000015").map(|s| s.eintr_ppm),
            Some(1)
        );
        for bad in [
            &b"max=0"[..],
            b"max=1048577",
            b"max=-1",
            b"eintr=1.5",
            b"eintr=x",
            b"eintr=.",
            b"size=3",
            b"mark",
            b"seed",
            b"seed=99999999999999999999999",
        ] {
            assert_eq!(parse_setting(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }
}
