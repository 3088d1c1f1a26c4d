//! The library goes with the program into whatever it runs: `exec` keeps it.
//!
//! A program loaded with the library could otherwise run itself again without it: take
//! `LD_PRELOAD` (or the setting) out of its environment and `execve` itself, and its own
//! socket calls are whole again, so that an unchecked `send()` passes the scenarios made
//! to catch it. So the library stands in front of the C library's `execve`, `execv`,
//! `execvp`, `execvpe`, `fexecve`, `posix_spawn` and `posix_spawnp` (what Python's
//! `os.exec*`, `os.posix_spawn` and `subprocess` call, and C's usual ones), and hands each
//! the environment it was given with `LD_PRELOAD` and `SOCKET_LAB_SHORT_CALLS` as they were
//! when this process started: what the program runs has the library, cutting its calls
//! the same way, whatever the program took out or changed. The moved files' setting
//! (`SOCKET_LAB_FILES`, see [`files`](super::files)) is kept alike, so that a program run
//! with an environment of its own still finds its `/tmp` where its scenario put it. Only
//! when one of the two settings was there at the start: without them the library leaves
//! `exec` alone, as everything else.
//!
//! `execveat` is kept the same way, and so is `syscall(SYS_execve, ...)`: the library's
//! `syscall` hands it here ([`raw`](super::raw)). A program the library cannot enter (a
//! statically linked one, see the `enterable` module) is not run at all while the
//! setting is there and says nothing traces the program: the call fails with `EACCES` and a
//! line on stderr says why. Where `sandbox-init` traces the program (`traced=1` in the
//! setting), it is run: the tracer cuts its calls, and those of the program's own machine
//! code, which go past this library.
//!
//! Nothing here allocates: a `vfork` child (`subprocess` may use one) shares its parent's
//! heap, so the new environment is a table on the stack, and the two kept entries were
//! copied by the constructor into fixed buffers.

use core::cell::UnsafeCell;
use core::ffi::{CStr, c_char};
use core::sync::atomic::{AtomicUsize, Ordering};

use libc::{c_int, pid_t};

use super::enterable::refusal;
use super::files::FILES_VARIABLE;
use super::raw::kernel;
use super::{Real, set_errno};
use crate::setting::{SETTING_VARIABLE, say};

/// The longest entry kept (`LD_PRELOAD=...` with its NUL); a longer one is not kept.
const ENTRY_BYTES: usize = 4096;
/// The most entries an environment handed on may have: past it, it is handed on as given.
const ENTRIES: usize = 1024;

/// One `NAME=value` entry of the starting environment, copied by the constructor (while
/// the process is single-threaded) and only read afterwards.
struct Kept {
    bytes: UnsafeCell<[u8; ENTRY_BYTES]>,
    /// Its length with the NUL once written; 0: nothing kept.
    len: AtomicUsize,
}

// SAFETY: written once by the constructor before any other thread exists, then published
// by `len` (release) and only read.
unsafe impl Sync for Kept {}

impl Kept {
    const fn new() -> Kept {
        Kept {
            bytes: UnsafeCell::new([0; ENTRY_BYTES]),
            len: AtomicUsize::new(0),
        }
    }

    /// Copies `entry` (without its NUL), if it fits.
    fn keep(&self, entry: &[u8]) {
        if entry.len() >= ENTRY_BYTES {
            return;
        }
        // SAFETY: single-threaded constructor; nobody reads before `len` says so.
        let bytes = unsafe { &mut *self.bytes.get() };
        bytes[..entry.len()].copy_from_slice(entry);
        bytes[entry.len()] = 0;
        self.len.store(entry.len() + 1, Ordering::Release);
    }

    /// The kept entry, NUL-terminated; `None` when nothing was kept.
    fn entry(&self) -> Option<*const c_char> {
        (self.len.load(Ordering::Acquire) > 0)
            .then(|| self.bytes.get().cast::<c_char>().cast_const())
    }
}

static PRELOAD: Kept = Kept::new();
static SETTING: Kept = Kept::new();
static FILES: Kept = Kept::new();

unsafe extern "C" {
    static environ: *const *const c_char;
}

/// `NAME=` of the entry, if it is `variable`'s.
fn is_entry_of(entry: &[u8], variable: &[u8]) -> bool {
    entry.len() > variable.len() && entry.starts_with(variable) && entry[variable.len()] == b'='
}

/// Remembers `LD_PRELOAD` and the settings as the process started with them (called by the
/// library's constructor), when a setting is there.
pub(crate) fn remember() {
    // SAFETY: the C library's environment, NUL-terminated strings ending with a null
    // pointer, read before the program's own code runs.
    let mut entry = unsafe { environ };
    if entry.is_null() {
        return;
    }
    let (mut preload, mut setting, mut files) = (None, None, None);
    // SAFETY: as above.
    while let Some(text) = unsafe { entry.as_ref() }.filter(|text| !text.is_null()) {
        // SAFETY: a NUL-terminated entry of the environment.
        let bytes = unsafe { CStr::from_ptr(*text) }.to_bytes();
        if is_entry_of(bytes, b"LD_PRELOAD") {
            preload = Some(bytes);
        } else if is_entry_of(bytes, SETTING_VARIABLE.to_bytes()) {
            setting = Some(bytes);
        } else if is_entry_of(bytes, FILES_VARIABLE.to_bytes()) {
            files = Some(bytes);
        }
        // SAFETY: the table ends with a null pointer, not yet reached.
        entry = unsafe { entry.add(1) };
    }
    let Some(preload) = preload.filter(|_| setting.is_some() || files.is_some()) else {
        return;
    };
    PRELOAD.keep(preload);
    if let Some(setting) = setting {
        SETTING.keep(setting);
    }
    if let Some(files) = files {
        FILES.keep(files);
    }
}

/// Fills `table` with `envp`'s entries but `LD_PRELOAD` and the settings, then the kept
/// ones, then a null pointer, and returns it; returns `envp` itself when nothing was kept,
/// or when the entries do not fit.
///
/// # Safety
///
/// `envp` is null or a null-terminated table of NUL-terminated strings.
unsafe fn with_library(
    envp: *const *const c_char,
    table: &mut [*const c_char; ENTRIES],
) -> *const *const c_char {
    let Some(preload) = PRELOAD.entry() else {
        return envp;
    };
    let kept = [Some(preload), SETTING.entry(), FILES.entry()];
    // Only what is kept is replaced: a setting too long to keep goes on as given.
    let variables = [
        &b"LD_PRELOAD"[..],
        SETTING_VARIABLE.to_bytes(),
        FILES_VARIABLE.to_bytes(),
    ];
    let replaced = |bytes: &[u8]| {
        variables
            .iter()
            .zip(&kept)
            .any(|(variable, entry)| entry.is_some() && is_entry_of(bytes, variable))
    };
    let mut filled = 0;
    let mut entry = envp;
    // SAFETY: per the contract, until the null pointer.
    while !entry.is_null()
        && let Some(&text) = unsafe { entry.as_ref() }
        && !text.is_null()
    {
        // SAFETY: a NUL-terminated string.
        let bytes = unsafe { CStr::from_ptr(text) }.to_bytes();
        if !replaced(bytes) {
            if filled + kept.len() + 1 > ENTRIES {
                return envp;
            }
            table[filled] = text;
            filled += 1;
        }
        // SAFETY: the table ends with a null pointer, not yet reached.
        entry = unsafe { entry.add(1) };
    }
    for entry in kept.into_iter().flatten() {
        table[filled] = entry;
        filled += 1;
    }
    table[filled] = core::ptr::null();
    table.as_ptr()
}

/// Whether the program `path` (relative to `dirfd`) may be run: always, unless the setting
/// was there at the start and the library could not be in it ([`refusal`]); then says so
/// on stderr and leaves `EACCES` in errno.
///
/// # Safety
///
/// `path` is null or a NUL-terminated string.
unsafe fn may_run(dirfd: c_int, path: *const c_char) -> bool {
    if SETTING.entry().is_none() || path.is_null() {
        return true;
    }
    // Where sandbox-init traces the program, its tracer cuts what the library cannot.
    if crate::setting::setting().is_some_and(|setting| setting.traced) {
        return true;
    }
    // SAFETY: the caller's NUL-terminated path.
    let Some(why) = (unsafe { refusal(dirfd, path) }) else {
        return true;
    };
    let mut line = [0u8; 1024];
    let mut length = 0;
    // SAFETY: as above.
    let shown = unsafe { CStr::from_ptr(path) }.to_bytes();
    for part in [
        &b"short-calls: refused to run "[..],
        &shown[..shown.len().min(400)],
        b": ",
        why.words(),
        b"; the scenario cuts the socket calls of everything the program runs\n",
    ] {
        let take = part.len().min(line.len() - length);
        line[length..length + take].copy_from_slice(&part[..take]);
        length += take;
    }
    say(&line[..length]);
    set_errno(libc::EACCES);
    false
}

/// [`may_run`] for a name searched in `PATH` as `execvp` does (a name with a `/` is a path):
/// the first file of that name that may be executed is judged.
///
/// # Safety
///
/// `file` is null or a NUL-terminated string.
unsafe fn may_run_searched(file: *const c_char) -> bool {
    if SETTING.entry().is_none() || file.is_null() {
        return true;
    }
    // SAFETY: the caller's NUL-terminated name.
    let name = unsafe { CStr::from_ptr(file) }.to_bytes();
    if name.is_empty() || name.contains(&b'/') {
        // SAFETY: as above.
        return unsafe { may_run(libc::AT_FDCWD, file) };
    }
    // SAFETY: getenv reads the environment (no allocation): safe in a vfork child.
    let search = unsafe { libc::getenv(c"PATH".as_ptr()) };
    let search: &[u8] = if search.is_null() {
        b"/bin:/usr/bin"
    } else {
        // SAFETY: a non-null getenv result is a NUL-terminated string.
        unsafe { CStr::from_ptr(search) }.to_bytes()
    };
    let mut candidate = [0u8; 4096];
    for folder in search.split(|&byte| byte == b':') {
        let folder: &[u8] = if folder.is_empty() { b"." } else { folder };
        if folder.len() + 1 + name.len() + 1 > candidate.len() {
            continue;
        }
        candidate[..folder.len()].copy_from_slice(folder);
        candidate[folder.len()] = b'/';
        let end = folder.len() + 1 + name.len();
        candidate[folder.len() + 1..end].copy_from_slice(name);
        candidate[end] = 0;
        // SAFETY: a NUL-terminated path in a live buffer.
        let executable = unsafe {
            kernel(
                libc::SYS_faccessat,
                libc::c_long::from(libc::AT_FDCWD),
                candidate.as_ptr() as libc::c_long,
                libc::c_long::from(libc::X_OK),
                0,
                0,
            )
        } == 0;
        if executable {
            // SAFETY: as above.
            return unsafe { may_run(libc::AT_FDCWD, candidate.as_ptr().cast()) };
        }
    }
    true
}

static REAL_EXECVE: Real = Real::new(c"execve");
static REAL_EXECVPE: Real = Real::new(c"execvpe");
static REAL_FEXECVE: Real = Real::new(c"fexecve");
static REAL_POSIX_SPAWN: Real = Real::new(c"posix_spawn");
static REAL_POSIX_SPAWNP: Real = Real::new(c"posix_spawnp");

/// The functions this module calls on, for the constructor to find up front.
pub(crate) const ALL_REAL: [&Real; 5] = [
    &REAL_EXECVE,
    &REAL_EXECVPE,
    &REAL_FEXECVE,
    &REAL_POSIX_SPAWN,
    &REAL_POSIX_SPAWNP,
];

#[cfg(not(test))]
type Execve =
    unsafe extern "C" fn(*const c_char, *const *const c_char, *const *const c_char) -> c_int;
#[cfg(not(test))]
type Fexecve = unsafe extern "C" fn(c_int, *const *const c_char, *const *const c_char) -> c_int;
#[cfg(not(test))]
type PosixSpawn = unsafe extern "C" fn(
    *mut pid_t,
    *const c_char,
    *const libc::posix_spawn_file_actions_t,
    *const libc::posix_spawnattr_t,
    *const *const c_char,
    *const *const c_char,
) -> c_int;

/// execve(2) with the library kept in the environment handed on.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn execve(
    path: *const c_char,
    argv: *const *const c_char,
    envp: *const *const c_char,
) -> c_int {
    // SAFETY: the caller's path, as execve requires.
    if !unsafe { may_run(libc::AT_FDCWD, path) } {
        return -1;
    }
    let mut table = [core::ptr::null(); ENTRIES];
    // SAFETY: the caller's environment table, as execve requires.
    let envp = unsafe { with_library(envp, &mut table) };
    call_real!(REAL_EXECVE, Execve, path, argv, envp)
}

/// execveat(2) with the library kept in the environment handed on (made by raw system call:
/// an older C library has no function for it).
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn execveat(
    dirfd: c_int,
    path: *const c_char,
    argv: *const *const c_char,
    envp: *const *const c_char,
    flags: c_int,
) -> c_int {
    // SAFETY: the caller's path, relative to `dirfd` (empty with AT_EMPTY_PATH: `dirfd`).
    if !unsafe { may_run(dirfd, path) } {
        return -1;
    }
    let mut table = [core::ptr::null(); ENTRIES];
    // SAFETY: the caller's environment table, as execveat requires.
    let envp = unsafe { with_library(envp, &mut table) };
    // SAFETY: the caller's arguments, with the environment the library keeps.
    unsafe {
        kernel(
            libc::SYS_execveat,
            libc::c_long::from(dirfd),
            path as libc::c_long,
            argv as libc::c_long,
            envp as libc::c_long,
            libc::c_long::from(flags),
        ) as c_int
    }
}

/// execv(3): [`execve`] with the process's environment.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn execv(path: *const c_char, argv: *const *const c_char) -> c_int {
    // SAFETY: execv runs the program with the process's environment.
    unsafe { execve(path, argv, environ) }
}

/// execvpe(3) with the library kept in the environment handed on.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn execvpe(
    file: *const c_char,
    argv: *const *const c_char,
    envp: *const *const c_char,
) -> c_int {
    // SAFETY: the caller's name, searched as execvpe searches it.
    if !unsafe { may_run_searched(file) } {
        return -1;
    }
    let mut table = [core::ptr::null(); ENTRIES];
    // SAFETY: the caller's environment table, as execvpe requires.
    let envp = unsafe { with_library(envp, &mut table) };
    call_real!(REAL_EXECVPE, Execve, file, argv, envp)
}

/// execvp(3): [`execvpe`] with the process's environment.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn execvp(file: *const c_char, argv: *const *const c_char) -> c_int {
    // SAFETY: execvp searches PATH with the process's environment.
    unsafe { execvpe(file, argv, environ) }
}

/// fexecve(3) with the library kept in the environment handed on.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fexecve(
    fd: c_int,
    argv: *const *const c_char,
    envp: *const *const c_char,
) -> c_int {
    // SAFETY: an empty path judges the caller's descriptor itself.
    if !unsafe { may_run(fd, c"".as_ptr()) } {
        return -1;
    }
    let mut table = [core::ptr::null(); ENTRIES];
    // SAFETY: the caller's environment table, as fexecve requires.
    let envp = unsafe { with_library(envp, &mut table) };
    call_real!(REAL_FEXECVE, Fexecve, fd, argv, envp)
}

/// `posix_spawn` or `posix_spawnp` (`real`), with the library kept. They return an error
/// number rather than setting `errno`.
///
/// # Safety
///
/// The caller's arguments, as `posix_spawn` requires.
#[cfg(not(test))]
unsafe fn spawn_keeping(
    real: &Real,
    pid: *mut pid_t,
    path: *const c_char,
    actions: *const libc::posix_spawn_file_actions_t,
    attributes: *const libc::posix_spawnattr_t,
    argv: *const *const c_char,
    envp: *const *const c_char,
) -> c_int {
    // SAFETY: the caller's path or name, as posix_spawn(p) takes it.
    let may = unsafe {
        if core::ptr::eq(real, &REAL_POSIX_SPAWNP) {
            may_run_searched(path)
        } else {
            may_run(libc::AT_FDCWD, path)
        }
    };
    if !may {
        return libc::EACCES;
    }
    let mut table = [core::ptr::null(); ENTRIES];
    // SAFETY: the caller's environment table.
    let envp = unsafe { with_library(envp, &mut table) };
    let address = real.address();
    if address == 0 {
        return libc::ENOSYS;
    }
    // SAFETY: the C library's function of that name, of this type.
    let function: PosixSpawn = unsafe { core::mem::transmute::<usize, PosixSpawn>(address) };
    // SAFETY: the caller's arguments, the environment with the library kept.
    unsafe { function(pid, path, actions, attributes, argv, envp) }
}

/// posix_spawn(3) with the library kept in the environment handed on.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn posix_spawn(
    pid: *mut pid_t,
    path: *const c_char,
    actions: *const libc::posix_spawn_file_actions_t,
    attributes: *const libc::posix_spawnattr_t,
    argv: *const *const c_char,
    envp: *const *const c_char,
) -> c_int {
    // SAFETY: the caller's arguments.
    unsafe {
        spawn_keeping(
            &REAL_POSIX_SPAWN,
            pid,
            path,
            actions,
            attributes,
            argv,
            envp,
        )
    }
}

/// posix_spawnp(3) with the library kept in the environment handed on.
#[cfg(not(test))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn posix_spawnp(
    pid: *mut pid_t,
    file: *const c_char,
    actions: *const libc::posix_spawn_file_actions_t,
    attributes: *const libc::posix_spawnattr_t,
    argv: *const *const c_char,
    envp: *const *const c_char,
) -> c_int {
    // SAFETY: the caller's arguments.
    unsafe {
        spawn_keeping(
            &REAL_POSIX_SPAWNP,
            pid,
            file,
            actions,
            attributes,
            argv,
            envp,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_variables_own_entries_are_theirs() {
        assert!(is_entry_of(b"LD_PRELOAD=/lib.so", b"LD_PRELOAD"));
        assert!(is_entry_of(b"LD_PRELOAD=", b"LD_PRELOAD"));
        assert!(!is_entry_of(b"LD_PRELOAD_X=1", b"LD_PRELOAD"));
        assert!(!is_entry_of(b"LD_PRELOAD", b"LD_PRELOAD"));
    }

    #[test]
    fn nothing_kept_hands_the_environment_on_as_given() {
        let envp = [c"A=1".as_ptr(), core::ptr::null()];
        let mut table = [core::ptr::null(); ENTRIES];
        // SAFETY: a null-terminated table of strings.
        assert_eq!(
            unsafe { with_library(envp.as_ptr(), &mut table) },
            envp.as_ptr()
        );
    }
}
