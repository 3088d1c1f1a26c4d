//! # Files: a path a program names, found somewhere else
//!
//! Two jobs, as `SOCKET_LAB_FILES` says (comma-separated, any number of each):
//!
//! - `file=FROM>TO`: the SSH pack's remote machine is a machine the grader is not: its
//!   commands (`cat /proc/cpuinfo`, `free`, `grep MemTotal /proc/meminfo`) must read the
//!   remote's figures. With a mount namespace the harness puts the remote's files over the
//!   kernel's; inside a platform's container, which refuses mount namespaces, a call naming
//!   exactly `FROM` (absolute, as written) names `TO` instead.
//! - `folder=FROM>TO`: a program that hard-codes `/tmp` (`open("/tmp/cache.html")`,
//!   `shutil.make_archive("/tmp/notes", ...)`) writes the machine's `/tmp`, which a program
//!   may not reach where no file system of its own can be built (Landlock walls it to its
//!   own folders). There the harness moves `/tmp` to the program's own `tmp`: a call naming
//!   `FROM` or a path below it names the same path below `TO`, so the program finds what
//!   it wrote where it wrote it. `keep=FOLDER`: a folder under `FROM` that stays where it
//!   is (the harness's own folders, where its temporary folder is under `/tmp`).
//!
//! ```sh
//! SOCKET_LAB_FILES="file=/proc/cpuinfo>/tmp/remote/cpuinfo,folder=/tmp>/srv/lab/own/tmp,keep=/tmp/lab"
//! ```
//!
//! The calls moved ([`crate::file_calls`]): the `open` family and `fopen`, the `stat`
//! family, `access`, folders, links, renames, `realpath` and the temporary files of
//! `mkstemp`, `mkdtemp` and `tmpfile`. Every other call is passed on untouched. Programs
//! that make their system calls themselves (a static binary), and the C library's own
//! internal opens (`sysconf`'s count of processors, `ftw`), are out of reach: the SSH pack
//! covers `nproc` and `lscpu` with scripts first on the `PATH`, and a static program's
//! `/tmp` stays out of its reach.
//!
//! As in the rest of the library nothing is allocated and no lock is taken: the setting is
//! read from the environment at each call (a short scan), the moved name is written on
//! the stack.

use core::ffi::{CStr, c_char};

use crate::setting::pairs;

/// The environment variable the setting is read from.
pub const FILES_VARIABLE: &CStr = c"SOCKET_LAB_FILES";

/// The longest moved path (with its NUL).
pub(crate) const NAME_CAPACITY: usize = 4096;

/// In `setting`, the replacement of `path`: its `to` of the first `file=FROM>TO` whose
/// `FROM` is `path`.
pub(crate) fn replacement<'a>(setting: &'a [u8], path: &[u8]) -> Option<&'a [u8]> {
    rules(setting, b"file").find_map(|(from, to)| (from == path).then_some(to))
}

/// In `setting`, the first `folder=FROM>TO` whose `FROM` is `path` or a folder above it:
/// `TO` and the rest of `path` after `FROM`. Never a path at or below a `keep=FOLDER`: the
/// folders the harness gave the program that lie under a moved folder (its working folder
/// and its own `tmp` in the harness's temporary folder, itself under `/tmp`).
pub(crate) fn folder_move<'a, 'p>(
    setting: &'a [u8],
    path: &'p [u8],
) -> Option<(&'a [u8], &'p [u8])> {
    let kept = pairs(setting)
        .flatten()
        .any(|(name, folder)| name == b"keep" && below(folder, path).is_some());
    if kept {
        return None;
    }
    rules(setting, b"folder").find_map(|(from, to)| Some((to, below(from, path)?)))
}

/// The rest of `path` after `folder` where `path` is `folder` or below it (a folder of
/// `/` or nothing holds nothing here).
fn below<'p>(folder: &[u8], path: &'p [u8]) -> Option<&'p [u8]> {
    let rest = path.strip_prefix(folder)?;
    let named = folder.last() != Some(&b'/') && !folder.is_empty();
    (named && (rest.is_empty() || rest[0] == b'/')).then_some(rest)
}

/// The `FROM>TO` pairs of `setting`'s words named `key`.
fn rules<'a>(setting: &'a [u8], key: &'a [u8]) -> impl Iterator<Item = (&'a [u8], &'a [u8])> {
    pairs(setting).flatten().filter_map(move |(name, value)| {
        if name != key {
            return None;
        }
        let arrow = value.iter().position(|byte| *byte == b'>')?;
        Some((&value[..arrow], &value[arrow + 1..]))
    })
}

/// Where `path` is moved to by `setting`, written into `name` with its NUL: its length,
/// or `None` where nothing moves it (or the moved path would not fit). The moved path
/// ends with what followed a moved folder in `path` ([`kept_end`]).
pub(crate) fn moved_path(
    setting: &[u8],
    path: &[u8],
    name: &mut [u8; NAME_CAPACITY],
) -> Option<usize> {
    let (first, second): (&[u8], &[u8]) = match replacement(setting, path) {
        Some(other) => (other, b""),
        None => folder_move(setting, path)?,
    };
    let length = first.len() + second.len();
    if length >= NAME_CAPACITY {
        return None;
    }
    name[..first.len()].copy_from_slice(first);
    name[first.len()..length].copy_from_slice(second);
    name[length] = 0;
    Some(length)
}

/// How many bytes at the end of `path` its moved path keeps as they are: what follows a
/// moved folder (none for a file moved whole).
pub(crate) fn kept_end(setting: &[u8], path: &[u8]) -> usize {
    match replacement(setting, path) {
        Some(_) => 0,
        None => folder_move(setting, path).map_or(0, |(_, rest)| rest.len()),
    }
}

/// The setting, where the program has one.
pub(crate) fn setting() -> Option<&'static [u8]> {
    // SAFETY: getenv neither allocates nor locks; a non-null result is a C string that
    // lives as long as the environment is not changed under it.
    let setting = unsafe { libc::getenv(FILES_VARIABLE.as_ptr()) };
    if setting.is_null() {
        return None;
    }
    // SAFETY: as above.
    Some(unsafe { CStr::from_ptr(setting) }.to_bytes())
}

/// Calls `open_with` with where `path` is moved (NUL-terminated on the stack) when the
/// setting moves it, else with `path` itself.
///
/// # Safety
///
/// `path` is null or a NUL-terminated string.
pub(crate) unsafe fn with_path<T>(
    path: *const c_char,
    open_with: impl FnOnce(*const c_char) -> T,
) -> T {
    if path.is_null() {
        return open_with(path);
    }
    let Some(setting) = setting() else {
        return open_with(path);
    };
    // SAFETY: the caller's path is a NUL-terminated string.
    let wanted = unsafe { CStr::from_ptr(path) }.to_bytes();
    let mut name = [0u8; NAME_CAPACITY];
    match moved_path(setting, wanted, &mut name) {
        Some(_) => open_with(name.as_ptr().cast()),
        None => open_with(path),
    }
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

    /// `folder=/tmp>TO` moves `/tmp` and what is below it, and nothing else.
    #[test]
    fn a_folder_and_what_is_below_it_move_and_nothing_else() {
        let setting = b"file=/proc/cpuinfo>/r/cpuinfo,folder=/tmp>/own/tmp";
        let mut name = [0u8; NAME_CAPACITY];
        let mut moved = |path: &[u8]| {
            moved_path(setting, path, &mut name).map(|length| name[..length].to_vec())
        };
        assert_eq!(moved(b"/tmp"), Some(b"/own/tmp".to_vec()));
        assert_eq!(moved(b"/tmp/"), Some(b"/own/tmp/".to_vec()));
        assert_eq!(moved(b"/tmp/a/b.zip"), Some(b"/own/tmp/a/b.zip".to_vec()));
        assert_eq!(moved(b"/proc/cpuinfo"), Some(b"/r/cpuinfo".to_vec()));
        for unmoved in [
            &b"/tmpfiles"[..],
            b"tmp/a",
            b"/var/tmp/a",
            b"/",
            b"",
            b"/TMP/a",
        ] {
            assert_eq!(
                moved(unmoved),
                None,
                "{:?}",
                String::from_utf8_lossy(unmoved)
            );
        }
        // A kept folder under the moved one stays where it is.
        let kept = b"folder=/tmp>/tmp/h/own/tmp,keep=/tmp/h";
        assert_eq!(moved_path(kept, b"/tmp/h/own/tmp/x", &mut name), None);
        assert_eq!(moved_path(kept, b"/tmp/h", &mut name), None);
        assert_eq!(moved_path(kept, b"/tmp/hx", &mut name), Some(17));
        assert_eq!(&name[..17], b"/tmp/h/own/tmp/hx");
        // A folder rule of `/` or nothing would move every path: it moves none.
        for setting in [&b"folder=/>/own"[..], b"folder=>/own"] {
            assert_eq!(moved_path(setting, b"/etc/passwd", &mut name), None);
        }
        // A moved path that would not fit is not moved.
        let long = [b'a'; NAME_CAPACITY];
        let mut path = b"/tmp/".to_vec();
        path.extend_from_slice(&long[..NAME_CAPACITY - 8]);
        assert_eq!(moved_path(setting, &path, &mut name), None);
    }
}
