//! # Files: a path a program opens, read from another file
//!
//! The SSH pack's remote machine is a machine the grader is not: its commands (`cat
//! /proc/cpuinfo`, `free`, `grep MemTotal /proc/meminfo`) must read the remote's figures.
//! With a mount namespace the harness puts the remote's files over the kernel's; inside a
//! platform's container, which refuses mount namespaces, this module stands in front of the
//! C library's `open` family instead, as `SOCKET_LAB_FILES` says:
//!
//! ```sh
//! SOCKET_LAB_FILES="file=/proc/cpuinfo>/tmp/remote/cpuinfo,file=/proc/meminfo>/tmp/remote/meminfo"
//! ```
//!
//! A call that opens exactly a listed path (absolute, as written) opens its replacement;
//! every other call is passed on untouched. Programs that make their system calls
//! themselves, and the C library's own internal opens (`sysconf`'s count of processors),
//! are out of reach: the pack covers `nproc` and `lscpu` with scripts first on the `PATH`.
//!
//! As in the rest of the library nothing is allocated and no lock is taken: the setting is
//! read from the environment at each call (a short scan), the replacement's name is copied
//! to the stack.

use core::ffi::{CStr, c_char};

use libc::{FILE, c_int, mode_t};

use super::{Real, set_errno};
use crate::setting::pairs;

/// The environment variable the setting is read from.
pub const FILES_VARIABLE: &CStr = c"SOCKET_LAB_FILES";

/// The longest replacement path (with its NUL).
const NAME_CAPACITY: usize = 4096;

/// In `setting`, the replacement of `path`: its `to` of the first `file=FROM>TO` whose
/// `FROM` is `path`.
pub(crate) fn replacement<'a>(setting: &'a [u8], path: &[u8]) -> Option<&'a [u8]> {
    pairs(setting).flatten().find_map(|(key, value)| {
        if key != b"file" {
            return None;
        }
        let arrow = value.iter().position(|byte| *byte == b'>')?;
        (&value[..arrow] == path).then(|| &value[arrow + 1..])
    })
}

/// Calls `open_with` with the replacement of `path` (NUL-terminated on the stack) when the
/// setting lists it, else with `path` itself.
///
/// # Safety
///
/// `path` is null or a NUL-terminated string.
unsafe fn with_path<T>(path: *const c_char, open_with: impl FnOnce(*const c_char) -> T) -> T {
    if path.is_null() {
        return open_with(path);
    }
    // SAFETY: getenv neither allocates nor locks.
    let setting = unsafe { libc::getenv(FILES_VARIABLE.as_ptr()) };
    if setting.is_null() {
        return open_with(path);
    }
    // SAFETY: non-null getenv results and the caller's path are NUL-terminated strings.
    let (setting, wanted) = unsafe {
        (
            CStr::from_ptr(setting).to_bytes(),
            CStr::from_ptr(path).to_bytes(),
        )
    };
    let Some(other) = replacement(setting, wanted).filter(|other| other.len() < NAME_CAPACITY)
    else {
        return open_with(path);
    };
    let mut name = [0u8; NAME_CAPACITY];
    name[..other.len()].copy_from_slice(other);
    open_with(name.as_ptr().cast())
}

// The C library's `open` is variadic (`mode` only with `O_CREAT` or `O_TMPFILE`). On the
// System V x86-64 and AArch64 ABIs a variadic argument travels where a fixed one would, so
// taking `mode` as a third parameter reads what the caller passed, and passing it on is
// harmless when it passed none.
type OpenFn = unsafe extern "C" fn(*const c_char, c_int, mode_t) -> c_int;
type OpenAtFn = unsafe extern "C" fn(c_int, *const c_char, c_int, mode_t) -> c_int;
type OpenCheckedFn = unsafe extern "C" fn(*const c_char, c_int) -> c_int;
type OpenAtCheckedFn = unsafe extern "C" fn(c_int, *const c_char, c_int) -> c_int;
type FopenFn = unsafe extern "C" fn(*const c_char, *const c_char) -> *mut FILE;

static REAL_OPEN: Real = Real::new(c"open");
static REAL_OPEN64: Real = Real::new(c"open64");
static REAL_OPENAT: Real = Real::new(c"openat");
static REAL_OPENAT64: Real = Real::new(c"openat64");
static REAL_OPEN_2: Real = Real::new(c"__open_2");
static REAL_OPEN64_2: Real = Real::new(c"__open64_2");
static REAL_OPENAT_2: Real = Real::new(c"__openat_2");
static REAL_OPENAT64_2: Real = Real::new(c"__openat64_2");
static REAL_FOPEN: Real = Real::new(c"fopen");
static REAL_FOPEN64: Real = Real::new(c"fopen64");

/// Every function this part stands in front of, found once from the constructor.
pub(crate) const ALL_REAL: [&Real; 10] = [
    &REAL_OPEN,
    &REAL_OPEN64,
    &REAL_OPENAT,
    &REAL_OPENAT64,
    &REAL_OPEN_2,
    &REAL_OPEN64_2,
    &REAL_OPENAT_2,
    &REAL_OPENAT64_2,
    &REAL_FOPEN,
    &REAL_FOPEN64,
];

/// Defines an `open`-like function, `[arguments before] path [arguments after]`, that
/// passes its path through [`with_path`].
macro_rules! open_like {
    ($doc:literal $name:ident [$($before:ident: $before_type:ty),*] [$($after:ident: $after_type:ty),*] = $real:ident as $type:ty) => {
        #[doc = $doc]
        #[cfg(not(test))]
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $name(
            $($before: $before_type,)*
            path: *const c_char,
            $($after: $after_type),*
        ) -> c_int {
            let open_with = |path| call_real!($real, $type, $($before,)* path, $($after),*);
            // SAFETY: the caller's path, a C string or null.
            unsafe { with_path(path, open_with) }
        }
    };
}

open_like!("open(2), of the replacement when the path is listed."
    open [] [flags: c_int, mode: mode_t] = REAL_OPEN as OpenFn);
open_like!("open64(2), as [`open`]."
    open64 [] [flags: c_int, mode: mode_t] = REAL_OPEN64 as OpenFn);
open_like!("openat(2), as [`open`] (a listed path is absolute: the folder does not matter)."
    openat [dirfd: c_int] [flags: c_int, mode: mode_t] = REAL_OPENAT as OpenAtFn);
open_like!("openat64(2), as [`openat`]."
    openat64 [dirfd: c_int] [flags: c_int, mode: mode_t] = REAL_OPENAT64 as OpenAtFn);
open_like!("`_FORTIFY_SOURCE`'s open, as [`open`]."
    __open_2 [] [flags: c_int] = REAL_OPEN_2 as OpenCheckedFn);
open_like!("`_FORTIFY_SOURCE`'s open64, as [`open`]."
    __open64_2 [] [flags: c_int] = REAL_OPEN64_2 as OpenCheckedFn);
open_like!("`_FORTIFY_SOURCE`'s openat, as [`openat`]."
    __openat_2 [dirfd: c_int] [flags: c_int] = REAL_OPENAT_2 as OpenAtCheckedFn);
open_like!("`_FORTIFY_SOURCE`'s openat64, as [`openat`]."
    __openat64_2 [dirfd: c_int] [flags: c_int] = REAL_OPENAT64_2 as OpenAtCheckedFn);

/// fopen(3), of the replacement when the path is listed.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fopen(path: *const c_char, mode: *const c_char) -> *mut FILE {
    // SAFETY: the caller's path, a C string or null.
    unsafe { with_path(path, |path| call_real_pointer(&REAL_FOPEN, path, mode)) }
}

/// fopen64(3), as [`fopen`].
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fopen64(path: *const c_char, mode: *const c_char) -> *mut FILE {
    // SAFETY: the caller's path, a C string or null.
    unsafe { with_path(path, |path| call_real_pointer(&REAL_FOPEN64, path, mode)) }
}

/// Calls the C library's `fopen` or `fopen64`; without one, fails with `ENOSYS`.
fn call_real_pointer(real: &Real, path: *const c_char, mode: *const c_char) -> *mut FILE {
    let address = real.address();
    if address == 0 {
        set_errno(libc::ENOSYS);
        return core::ptr::null_mut();
    }
    // SAFETY: the address is the C library's function of that name, of this type.
    let function: FopenFn = unsafe { core::mem::transmute::<usize, FopenFn>(address) };
    // SAFETY: the caller's arguments, passed on.
    unsafe { function(path, mode) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_path_is_replaced_and_no_other() {
        let setting = b"file=/proc/cpuinfo>/tmp/r/cpuinfo, file = /proc/meminfo>/tmp/r/meminfo";
        assert_eq!(
            replacement(setting, b"/proc/cpuinfo"),
            Some(&b"/tmp/r/cpuinfo"[..])
        );
        assert_eq!(
            replacement(setting, b"/proc/meminfo"),
            Some(&b"/tmp/r/meminfo"[..])
        );
        assert_eq!(replacement(setting, b"/proc/cpuinfo2"), None);
        assert_eq!(replacement(setting, b"proc/cpuinfo"), None);
        assert_eq!(replacement(b"mark=/x,file", b"/x"), None);
    }
}
