//! # The calls that name a path, moved as `SOCKET_LAB_FILES` says
//!
//! [`crate::files`] reads the setting and moves a path; this module stands in front of
//! every call of the C library that names a path a program may have hard-coded (a file of
//! the SSH pack's remote machine, or one under a moved folder), so that the program sees one consistent folder: it can
//! make `/tmp/cache`, find `/tmp/cache/page.html` in it, list, rename and remove what it
//! wrote, and make its temporary files there (`mkstemp("/tmp/upload-XXXXXX")` leaves the
//! program's template as it would: the same letters, under `/tmp`).
//!
//! Each function moves its paths and passes every argument on to the C library's own; one
//! the C library lacks (an older library has no `stat` of its own, only `__xstat`) fails
//! with `ENOSYS`, as no program would call it there.

use core::ffi::{c_char, c_int, c_uint, c_void};

use libc::{FILE, gid_t, mode_t, off_t, size_t, ssize_t, uid_t};

use super::files::{NAME_CAPACITY, kept_end, moved_path, setting, with_path};
use super::{Real, errno, set_errno};

/// Defines a function of one path (`[arguments before] path [arguments after]`) that
/// passes its path through [`with_path`], and the `Real` it calls.
macro_rules! moved {
    ($doc:literal $name:ident [$($before:ident: $before_type:ty),*] [$($after:ident: $after_type:ty),*]
        -> $result:ty = $real:ident ($symbol:literal) or $failure:expr) => {
        static $real: Real = Real::new($symbol);

        #[doc = $doc]
        #[cfg(not(test))]
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $name(
            $($before: $before_type,)*
            path: *const c_char,
            $($after: $after_type),*
        ) -> $result {
            type Function = unsafe extern "C" fn($($before_type,)* *const c_char $(, $after_type)*) -> $result;
            let call = |path| call_or!($failure, $real, Function, $($before,)* path, $($after),*);
            // SAFETY: the caller's path, a C string or null.
            unsafe { with_path(path, call) }
        }
    };
}

// The C library's `open` is variadic (`mode` only with `O_CREAT` or `O_TMPFILE`). On the
// System V x86-64 and AArch64 ABIs a variadic argument travels where a fixed one would, so
// taking `mode` as a third parameter reads what the caller passed, and passing it on is
// harmless when it passed none.
moved!("open(2), of the moved path." open [] [flags: c_int, mode: mode_t] -> c_int = REAL_OPEN(c"open") or -1);
moved!("open64(2), as [`open`]." open64 [] [flags: c_int, mode: mode_t] -> c_int = REAL_OPEN64(c"open64") or -1);
moved!("openat(2), as [`open`] (a moved path is absolute: the folder does not matter)." openat [dirfd: c_int] [flags: c_int, mode: mode_t] -> c_int = REAL_OPENAT(c"openat") or -1);
moved!("openat64(2), as [`openat`]." openat64 [dirfd: c_int] [flags: c_int, mode: mode_t] -> c_int = REAL_OPENAT64(c"openat64") or -1);
moved!("`_FORTIFY_SOURCE`'s open, as [`open`]." __open_2 [] [flags: c_int] -> c_int = REAL_OPEN_2(c"__open_2") or -1);
moved!("`_FORTIFY_SOURCE`'s open64, as [`open`]." __open64_2 [] [flags: c_int] -> c_int = REAL_OPEN64_2(c"__open64_2") or -1);
moved!("`_FORTIFY_SOURCE`'s openat, as [`openat`]." __openat_2 [dirfd: c_int] [flags: c_int] -> c_int = REAL_OPENAT_2(c"__openat_2") or -1);
moved!("`_FORTIFY_SOURCE`'s openat64, as [`openat`]." __openat64_2 [dirfd: c_int] [flags: c_int] -> c_int = REAL_OPENAT64_2(c"__openat64_2") or -1);
moved!("fopen(3), of the moved path." fopen [] [mode: *const c_char] -> *mut FILE = REAL_FOPEN(c"fopen") or core::ptr::null_mut());
moved!("fopen64(3), as [`fopen`]." fopen64 [] [mode: *const c_char] -> *mut FILE = REAL_FOPEN64(c"fopen64") or core::ptr::null_mut());
moved!("access(2), of the moved path." access [] [mode: c_int] -> c_int = REAL_ACCESS(c"access") or -1);
moved!("faccessat(2), as [`access`]." faccessat [dirfd: c_int] [mode: c_int, flags: c_int] -> c_int = REAL_FACCESSAT(c"faccessat") or -1);
moved!("mkdir(2), of the moved path." mkdir [] [mode: mode_t] -> c_int = REAL_MKDIR(c"mkdir") or -1);
moved!("mkdirat(2), as [`mkdir`]." mkdirat [dirfd: c_int] [mode: mode_t] -> c_int = REAL_MKDIRAT(c"mkdirat") or -1);
moved!("rmdir(2), of the moved path." rmdir [] [] -> c_int = REAL_RMDIR(c"rmdir") or -1);
moved!("unlink(2), of the moved path." unlink [] [] -> c_int = REAL_UNLINK(c"unlink") or -1);
moved!("unlinkat(2), as [`unlink`]." unlinkat [dirfd: c_int] [flags: c_int] -> c_int = REAL_UNLINKAT(c"unlinkat") or -1);
moved!("remove(3), of the moved path (Java's `File.delete`)." remove [] [] -> c_int = REAL_REMOVE(c"remove") or -1);
moved!("chdir(2), into the moved folder." chdir [] [] -> c_int = REAL_CHDIR(c"chdir") or -1);
moved!("chmod(2), of the moved path." chmod [] [mode: mode_t] -> c_int = REAL_CHMOD(c"chmod") or -1);
moved!("fchmodat(2), as [`chmod`]." fchmodat [dirfd: c_int] [mode: mode_t, flags: c_int] -> c_int = REAL_FCHMODAT(c"fchmodat") or -1);
moved!("chown(2), of the moved path." chown [] [owner: uid_t, group: gid_t] -> c_int = REAL_CHOWN(c"chown") or -1);
moved!("lchown(2), as [`chown`]." lchown [] [owner: uid_t, group: gid_t] -> c_int = REAL_LCHOWN(c"lchown") or -1);
moved!("truncate(2), of the moved path." truncate [] [length: off_t] -> c_int = REAL_TRUNCATE(c"truncate") or -1);
moved!("truncate64(2), as [`truncate`]." truncate64 [] [length: off_t] -> c_int = REAL_TRUNCATE64(c"truncate64") or -1);
moved!("creat(2), of the moved path." creat [] [mode: mode_t] -> c_int = REAL_CREAT(c"creat") or -1);
moved!("creat64(2), as [`creat`]." creat64 [] [mode: mode_t] -> c_int = REAL_CREAT64(c"creat64") or -1);
moved!("stat(2), of the moved path." stat [] [status: *mut c_void] -> c_int = REAL_STAT(c"stat") or -1);
moved!("stat64(2), as [`stat`]." stat64 [] [status: *mut c_void] -> c_int = REAL_STAT64(c"stat64") or -1);
moved!("lstat(2), as [`stat`]." lstat [] [status: *mut c_void] -> c_int = REAL_LSTAT(c"lstat") or -1);
moved!("lstat64(2), as [`stat`]." lstat64 [] [status: *mut c_void] -> c_int = REAL_LSTAT64(c"lstat64") or -1);
moved!("fstatat(2), as [`stat`]." fstatat [dirfd: c_int] [status: *mut c_void, flags: c_int] -> c_int = REAL_FSTATAT(c"fstatat") or -1);
moved!("fstatat64(2), as [`stat`]." fstatat64 [dirfd: c_int] [status: *mut c_void, flags: c_int] -> c_int = REAL_FSTATAT64(c"fstatat64") or -1);
moved!("An older C library's `stat`, as [`stat`]." __xstat [version: c_int] [status: *mut c_void] -> c_int = REAL_XSTAT(c"__xstat") or -1);
moved!("An older C library's `stat64`, as [`stat`]." __xstat64 [version: c_int] [status: *mut c_void] -> c_int = REAL_XSTAT64(c"__xstat64") or -1);
moved!("An older C library's `lstat`, as [`stat`]." __lxstat [version: c_int] [status: *mut c_void] -> c_int = REAL_LXSTAT(c"__lxstat") or -1);
moved!("An older C library's `lstat64`, as [`stat`]." __lxstat64 [version: c_int] [status: *mut c_void] -> c_int = REAL_LXSTAT64(c"__lxstat64") or -1);
moved!("An older C library's `fstatat`, as [`stat`]." __fxstatat [version: c_int, dirfd: c_int] [status: *mut c_void, flags: c_int] -> c_int = REAL_FXSTATAT(c"__fxstatat") or -1);
moved!("An older C library's `fstatat64`, as [`stat`]." __fxstatat64 [version: c_int, dirfd: c_int] [status: *mut c_void, flags: c_int] -> c_int = REAL_FXSTATAT64(c"__fxstatat64") or -1);
moved!("statx(2), as [`stat`]." statx [dirfd: c_int] [flags: c_int, mask: c_uint, status: *mut c_void] -> c_int = REAL_STATX(c"statx") or -1);
moved!("utime(2), of the moved path." utime [] [times: *const c_void] -> c_int = REAL_UTIME(c"utime") or -1);
moved!("utimes(2), as [`utime`]." utimes [] [times: *const c_void] -> c_int = REAL_UTIMES(c"utimes") or -1);
moved!("utimensat(2), as [`utime`]." utimensat [dirfd: c_int] [times: *const c_void, flags: c_int] -> c_int = REAL_UTIMENSAT(c"utimensat") or -1);
moved!("readlink(2), of the moved path." readlink [] [buffer: *mut c_char, size: size_t] -> ssize_t = REAL_READLINK(c"readlink") or -1);
moved!("readlinkat(2), as [`readlink`]." readlinkat [dirfd: c_int] [buffer: *mut c_char, size: size_t] -> ssize_t = REAL_READLINKAT(c"readlinkat") or -1);
moved!("realpath(3), of the moved path (where it really is)." realpath [] [resolved: *mut c_char] -> *mut c_char = REAL_REALPATH(c"realpath") or core::ptr::null_mut());
moved!("opendir(3), of the moved folder." opendir [] [] -> *mut c_void = REAL_OPENDIR(c"opendir") or core::ptr::null_mut());
moved!("mkfifo(3), of the moved path (a named pipe in `/tmp`)." mkfifo [] [mode: mode_t] -> c_int = REAL_MKFIFO(c"mkfifo") or -1);
moved!("mkfifoat(3), as [`mkfifo`]." mkfifoat [dirfd: c_int] [mode: mode_t] -> c_int = REAL_MKFIFOAT(c"mkfifoat") or -1);
moved!("`_FORTIFY_SOURCE`'s realpath, as [`realpath`]." __realpath_chk [] [resolved: *mut c_char, size: size_t] -> *mut c_char = REAL_REALPATH_CHK(c"__realpath_chk") or core::ptr::null_mut());
moved!("scandir(3), of the moved folder." scandir [] [entries: *mut c_void, filter: *const c_void, order: *const c_void] -> c_int = REAL_SCANDIR(c"scandir") or -1);
moved!("scandir64(3), as [`scandir`]." scandir64 [] [entries: *mut c_void, filter: *const c_void, order: *const c_void] -> c_int = REAL_SCANDIR64(c"scandir64") or -1);
moved!("statvfs(3), of the moved path (the space left in `/tmp`)." statvfs [] [status: *mut c_void] -> c_int = REAL_STATVFS(c"statvfs") or -1);
moved!("statfs(2), as [`statvfs`]." statfs [] [status: *mut c_void] -> c_int = REAL_STATFS(c"statfs") or -1);
moved!("statvfs64(3), as [`statvfs`] (what a program built with 64-bit file offsets calls: Python's `os.statvfs`)." statvfs64 [] [status: *mut c_void] -> c_int = REAL_STATVFS64(c"statvfs64") or -1);
moved!("statfs64(2), as [`statvfs`]." statfs64 [] [status: *mut c_void] -> c_int = REAL_STATFS64(c"statfs64") or -1);
moved!("freopen(3), of the moved path." freopen [] [mode: *const c_char, stream: *mut FILE] -> *mut FILE = REAL_FREOPEN(c"freopen") or core::ptr::null_mut());
moved!("freopen64(3), as [`freopen`]." freopen64 [] [mode: *const c_char, stream: *mut FILE] -> *mut FILE = REAL_FREOPEN64(c"freopen64") or core::ptr::null_mut());

/// Calls `call` with both paths moved (each NUL-terminated on the stack where moved).
///
/// # Safety
///
/// Each path is null or a NUL-terminated string.
unsafe fn with_paths<T>(
    first: *const c_char,
    second: *const c_char,
    call: impl FnOnce(*const c_char, *const c_char) -> T,
) -> T {
    // SAFETY: the caller's paths.
    unsafe {
        with_path(first, |first| {
            with_path(second, |second| call(first, second))
        })
    }
}

static REAL_RENAME: Real = Real::new(c"rename");
static REAL_RENAMEAT: Real = Real::new(c"renameat");
static REAL_RENAMEAT2: Real = Real::new(c"renameat2");
static REAL_LINK: Real = Real::new(c"link");
static REAL_LINKAT: Real = Real::new(c"linkat");
static REAL_SYMLINK: Real = Real::new(c"symlink");
static REAL_SYMLINKAT: Real = Real::new(c"symlinkat");

type TwoPaths = unsafe extern "C" fn(*const c_char, *const c_char) -> c_int;
type TwoPathsAt = unsafe extern "C" fn(c_int, *const c_char, c_int, *const c_char) -> c_int;
type TwoPathsAtFlags =
    unsafe extern "C" fn(c_int, *const c_char, c_int, *const c_char, c_uint) -> c_int;
type LinkAt = unsafe extern "C" fn(c_int, *const c_char, c_int, *const c_char, c_int) -> c_int;
type SymlinkAt = unsafe extern "C" fn(*const c_char, c_int, *const c_char) -> c_int;

/// rename(2), both paths moved.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rename(from: *const c_char, to: *const c_char) -> c_int {
    let call = |from, to| call_or!(-1, REAL_RENAME, TwoPaths, from, to);
    // SAFETY: the caller's paths.
    unsafe { with_paths(from, to, call) }
}

/// renameat(2), as [`rename`].
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn renameat(
    from_dir: c_int,
    from: *const c_char,
    to_dir: c_int,
    to: *const c_char,
) -> c_int {
    let call = |from, to| call_or!(-1, REAL_RENAMEAT, TwoPathsAt, from_dir, from, to_dir, to);
    // SAFETY: the caller's paths.
    unsafe { with_paths(from, to, call) }
}

/// renameat2(2), as [`rename`].
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn renameat2(
    from_dir: c_int,
    from: *const c_char,
    to_dir: c_int,
    to: *const c_char,
    flags: c_uint,
) -> c_int {
    let call = |from, to| {
        call_or!(
            -1,
            REAL_RENAMEAT2,
            TwoPathsAtFlags,
            from_dir,
            from,
            to_dir,
            to,
            flags
        )
    };
    // SAFETY: the caller's paths.
    unsafe { with_paths(from, to, call) }
}

/// link(2), both paths moved.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn link(from: *const c_char, to: *const c_char) -> c_int {
    let call = |from, to| call_or!(-1, REAL_LINK, TwoPaths, from, to);
    // SAFETY: the caller's paths.
    unsafe { with_paths(from, to, call) }
}

/// linkat(2), as [`link`].
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linkat(
    from_dir: c_int,
    from: *const c_char,
    to_dir: c_int,
    to: *const c_char,
    flags: c_int,
) -> c_int {
    let call = |from, to| call_or!(-1, REAL_LINKAT, LinkAt, from_dir, from, to_dir, to, flags);
    // SAFETY: the caller's paths.
    unsafe { with_paths(from, to, call) }
}

/// symlink(2): the link's own path moved, and a target under a moved folder written as
/// where it was moved (the link then leads where the program's files are).
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn symlink(target: *const c_char, path: *const c_char) -> c_int {
    let call = |target, path| call_or!(-1, REAL_SYMLINK, TwoPaths, target, path);
    // SAFETY: the caller's paths.
    unsafe { with_paths(target, path, call) }
}

/// symlinkat(2), as [`symlink`].
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn symlinkat(
    target: *const c_char,
    dir: c_int,
    path: *const c_char,
) -> c_int {
    let call = |target, path| call_or!(-1, REAL_SYMLINKAT, SymlinkAt, target, dir, path);
    // SAFETY: the caller's paths.
    unsafe { with_paths(target, path, call) }
}

// --- Temporary files --------------------------------------------------------------------

/// Calls `make` with `template` moved, then writes the letters it chose back into the
/// program's own template, whose end is the moved one's end: the program keeps the name it
/// asked for (under `/tmp`), which the other calls move to the same file.
///
/// # Safety
///
/// `template` is null or a NUL-terminated, writable string.
unsafe fn with_template<T>(template: *mut c_char, make: impl FnOnce(*mut c_char) -> T) -> T {
    let Some(setting) = (!template.is_null()).then(setting).flatten() else {
        return make(template);
    };
    // SAFETY: the caller's template, a NUL-terminated string.
    let wanted = unsafe { core::ffi::CStr::from_ptr(template) }.to_bytes();
    let mut name = [0u8; NAME_CAPACITY];
    let Some(length) = moved_path(setting, wanted, &mut name) else {
        return make(template);
    };
    let made = make(name.as_mut_ptr().cast());
    // What followed the moved folder (the letters filled in) goes back where it was.
    let kept = kept_end(setting, wanted).min(length);
    let (from, to) = (&name[length - kept..length], wanted.len() - kept);
    // SAFETY: the caller's template holds `wanted.len()` bytes before its NUL, the last
    // `kept` of them at `to`.
    unsafe { core::ptr::copy_nonoverlapping(from.as_ptr(), template.add(to).cast(), kept) };
    made
}

static REAL_MKSTEMP: Real = Real::new(c"mkstemp");
static REAL_MKSTEMP64: Real = Real::new(c"mkstemp64");
static REAL_MKOSTEMP: Real = Real::new(c"mkostemp");
static REAL_MKSTEMPS: Real = Real::new(c"mkstemps");
static REAL_MKOSTEMPS: Real = Real::new(c"mkostemps");
static REAL_MKDTEMP: Real = Real::new(c"mkdtemp");
static REAL_TMPFILE: Real = Real::new(c"tmpfile");
static REAL_TMPFILE64: Real = Real::new(c"tmpfile64");

type MakeTemp = unsafe extern "C" fn(*mut c_char) -> c_int;
type MakeTempWith = unsafe extern "C" fn(*mut c_char, c_int) -> c_int;
type MakeTempWithBoth = unsafe extern "C" fn(*mut c_char, c_int, c_int) -> c_int;
type MakeFolder = unsafe extern "C" fn(*mut c_char) -> *mut c_char;
type TempFile = unsafe extern "C" fn() -> *mut FILE;

/// mkstemp(3), made in the moved folder.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mkstemp(template: *mut c_char) -> c_int {
    let make = |name| call_or!(-1, REAL_MKSTEMP, MakeTemp, name);
    // SAFETY: the caller's template.
    unsafe { with_template(template, make) }
}

/// mkstemp64(3), as [`mkstemp`].
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mkstemp64(template: *mut c_char) -> c_int {
    let make = |name| call_or!(-1, REAL_MKSTEMP64, MakeTemp, name);
    // SAFETY: the caller's template.
    unsafe { with_template(template, make) }
}

/// mkostemp(3), as [`mkstemp`].
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mkostemp(template: *mut c_char, flags: c_int) -> c_int {
    let make = |name| call_or!(-1, REAL_MKOSTEMP, MakeTempWith, name, flags);
    // SAFETY: the caller's template.
    unsafe { with_template(template, make) }
}

/// mkstemps(3), as [`mkstemp`].
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mkstemps(template: *mut c_char, suffix: c_int) -> c_int {
    let make = |name| call_or!(-1, REAL_MKSTEMPS, MakeTempWith, name, suffix);
    // SAFETY: the caller's template.
    unsafe { with_template(template, make) }
}

/// mkostemps(3), as [`mkstemp`].
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mkostemps(template: *mut c_char, suffix: c_int, flags: c_int) -> c_int {
    let make = |name| call_or!(-1, REAL_MKOSTEMPS, MakeTempWithBoth, name, suffix, flags);
    // SAFETY: the caller's template.
    unsafe { with_template(template, make) }
}

/// mkdtemp(3), made in the moved folder; returns the program's own template, filled in.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mkdtemp(template: *mut c_char) -> *mut c_char {
    let make = |name| call_or!(core::ptr::null_mut(), REAL_MKDTEMP, MakeFolder, name);
    // SAFETY: the caller's template.
    let made = unsafe { with_template(template, make) };
    if made.is_null() { made } else { template }
}

/// tmpfile(3): the C library makes it in `/tmp` by its own internal calls, out of this
/// library's reach; where `/tmp` is moved it is made in the moved folder instead, as the C
/// library makes it: an unnamed file (`O_TMPFILE`), or where the file system has none, a
/// named one removed at once.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tmpfile() -> *mut FILE {
    moved_tmpfile().unwrap_or_else(|| call_or!(core::ptr::null_mut(), REAL_TMPFILE, TempFile,))
}

/// tmpfile64(3), as [`tmpfile`].
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tmpfile64() -> *mut FILE {
    moved_tmpfile().unwrap_or_else(|| call_or!(core::ptr::null_mut(), REAL_TMPFILE64, TempFile,))
}

/// The name pattern of a temporary file made by name in the moved folder.
const NAMED_TEMPORARY: &[u8] = b"/tmpfXXXXXX";

/// A temporary file in the folder `/tmp` is moved to (a null stream and `errno` where it
/// cannot be made), or `None` where `/tmp` is not moved.
fn moved_tmpfile() -> Option<*mut FILE> {
    let setting = setting()?;
    let mut name = [0u8; NAME_CAPACITY];
    let length = moved_path(setting, b"/tmp", &mut name)?;
    // SAFETY: a NUL-terminated folder name on our stack. The flags are the C library's own
    // (glibc's `__gen_tempfd`): read and write, never to be linked, kept across exec.
    let mut fd = unsafe {
        libc::syscall(
            libc::SYS_openat,
            libc::AT_FDCWD,
            name.as_ptr(),
            libc::O_TMPFILE | libc::O_RDWR | libc::O_EXCL,
            0o600,
        ) as c_int
    };
    // No unnamed files on this file system (EOPNOTSUPP), or this kernel (EISDIR, EINVAL):
    // a named file, removed as soon as it is open.
    let unsupported = [libc::EOPNOTSUPP, libc::EISDIR, libc::EINVAL];
    if fd < 0 && unsupported.contains(&errno()) && length + NAMED_TEMPORARY.len() < NAME_CAPACITY {
        name[length..length + NAMED_TEMPORARY.len()].copy_from_slice(NAMED_TEMPORARY);
        name[length + NAMED_TEMPORARY.len()] = 0;
        let template: *mut c_char = name.as_mut_ptr().cast();
        fd = call_or!(-1, REAL_MKSTEMP, MakeTemp, template);
        if fd >= 0 {
            // SAFETY: the name mkstemp filled in, NUL-terminated on our stack. The system
            // call itself: this library's own `unlink` would move the name again.
            unsafe { libc::syscall(libc::SYS_unlinkat, libc::AT_FDCWD, template, 0) };
        }
    }
    if fd < 0 {
        return Some(core::ptr::null_mut());
    }
    // SAFETY: the descriptor is ours to hand to fdopen, or to close when it fails.
    unsafe {
        let stream = libc::fdopen(fd, c"w+".as_ptr());
        if stream.is_null() {
            let error = errno();
            libc::close(fd);
            set_errno(error);
        }
        Some(stream)
    }
}

/// Every function this part stands in front of, found once from the constructor.
pub(crate) const ALL_REAL: [&Real; 73] = [
    &REAL_STATVFS64,
    &REAL_STATFS64,
    &REAL_MKFIFO,
    &REAL_MKFIFOAT,
    &REAL_REALPATH_CHK,
    &REAL_SCANDIR,
    &REAL_SCANDIR64,
    &REAL_STATVFS,
    &REAL_STATFS,
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
    &REAL_ACCESS,
    &REAL_FACCESSAT,
    &REAL_MKDIR,
    &REAL_MKDIRAT,
    &REAL_RMDIR,
    &REAL_UNLINK,
    &REAL_UNLINKAT,
    &REAL_REMOVE,
    &REAL_CHDIR,
    &REAL_CHMOD,
    &REAL_FCHMODAT,
    &REAL_CHOWN,
    &REAL_LCHOWN,
    &REAL_TRUNCATE,
    &REAL_TRUNCATE64,
    &REAL_CREAT,
    &REAL_CREAT64,
    &REAL_STAT,
    &REAL_STAT64,
    &REAL_LSTAT,
    &REAL_LSTAT64,
    &REAL_FSTATAT,
    &REAL_FSTATAT64,
    &REAL_XSTAT,
    &REAL_XSTAT64,
    &REAL_LXSTAT,
    &REAL_LXSTAT64,
    &REAL_FXSTATAT,
    &REAL_FXSTATAT64,
    &REAL_STATX,
    &REAL_UTIME,
    &REAL_UTIMES,
    &REAL_UTIMENSAT,
    &REAL_READLINK,
    &REAL_READLINKAT,
    &REAL_REALPATH,
    &REAL_OPENDIR,
    &REAL_FREOPEN,
    &REAL_FREOPEN64,
    &REAL_RENAME,
    &REAL_RENAMEAT,
    &REAL_RENAMEAT2,
    &REAL_LINK,
    &REAL_LINKAT,
    &REAL_SYMLINK,
    &REAL_SYMLINKAT,
    &REAL_MKSTEMP,
    &REAL_MKSTEMP64,
    &REAL_MKOSTEMP,
    &REAL_MKSTEMPS,
    &REAL_MKOSTEMPS,
    &REAL_MKDTEMP,
    &REAL_TMPFILE,
    &REAL_TMPFILE64,
];
