//! Where a folder the harness names really is, without following a link a program made.
//!
//! The folders `sandbox-init` shows a program (`--writable`, `--visible`, `--tmp`, the
//! files of `--replace`) are named by path, and some lie where programs write: a working
//! folder inside a submission's private copy, which an earlier program of the submission
//! could have replaced with a link to the machine's `/proc`, another submission's folder
//! or the kit. Run as root, following that link would show the program what it leads to.
//!
//! So a path is resolved here component by component, and a symbolic link is followed only
//! where no program could have made it: in a folder that no group or other user may write,
//! owned by root (when this is root) or by someone other than this user (an ordinary
//! user's programs run as that user, so its own folders are theirs). Anything else is
//! refused, naming the link. The result has no link left in it, and is then opened with
//! `RESOLVE_NO_SYMLINKS` ([`open_path`]), so a link swapped in after the check is refused
//! too rather than followed.

use std::collections::VecDeque;
use std::ffi::{CString, OsString};
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

/// The most links one path may go through (as the kernel's `MAXSYMLINKS`).
const MOST_LINKS: usize = 40;

/// `path` with every link followed where that is safe (see the module's documentation);
/// a path that does not exist (or stops existing) keeps the rest as given. `Err` names a
/// link that a program could have made.
pub(crate) fn resolve(path: &Path) -> Result<PathBuf, String> {
    let absolute = if path.is_absolute() {
        path.to_owned()
    } else {
        std::env::current_dir()
            .map_err(|error| format!("cannot resolve {}: {error}", path.display()))?
            .join(path)
    };
    let mut pending: VecDeque<OsString> = names(&absolute);
    let mut resolved = PathBuf::from("/");
    let mut links = 0;
    while let Some(name) = pending.pop_front() {
        if name == ".." {
            resolved.pop();
            continue;
        }
        let next = resolved.join(&name);
        let Ok(meta) = std::fs::symlink_metadata(&next) else {
            resolved = next;
            resolved.extend(pending);
            return Ok(resolved);
        };
        if !meta.file_type().is_symlink() {
            resolved = next;
            continue;
        }
        links += 1;
        if links > MOST_LINKS {
            return Err(format!("{}: too many links", path.display()));
        }
        if !trusted(&resolved) {
            return Err(format!(
                "{} goes through the link {}, in a folder a program may write: not followed",
                path.display(),
                next.display()
            ));
        }
        let target = std::fs::read_link(&next)
            .map_err(|error| format!("cannot read the link {}: {error}", next.display()))?;
        if target.is_absolute() {
            resolved = PathBuf::from("/");
        }
        for name in names(&target).into_iter().rev() {
            pending.push_front(name);
        }
    }
    Ok(resolved)
}

/// The names of `path`'s components, `..` kept, `.` and the root left out.
fn names(path: &Path) -> VecDeque<OsString> {
    path.components()
        .filter_map(|component| match component {
            Component::Normal(name) => Some(name.to_owned()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect()
}

/// Whether no program could have made a link in `folder`.
fn trusted(folder: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(folder) else {
        return false;
    };
    if meta.mode() & 0o022 != 0 {
        return false;
    }
    // SAFETY: geteuid only reads our id.
    let us = unsafe { libc::geteuid() };
    if us == 0 {
        meta.uid() == 0
    } else {
        meta.uid() != us
    }
}

/// `struct open_how` of `openat2(2)`.
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
const RESOLVE_NO_SYMLINKS: u64 = 0x04;

/// An `O_PATH` descriptor of `path`, which must hold no link at all (a [`resolve`]d path):
/// a link swapped in since is refused (`ELOOP`). On a kernel without `openat2` (before
/// 5.6), the path is opened as it is.
pub(crate) fn open_path(path: &Path) -> Result<OwnedFd, String> {
    let c_path = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| format!("{} holds a NUL byte", path.display()))?;
    let how = OpenHow {
        flags: (libc::O_PATH | libc::O_CLOEXEC) as u64,
        mode: 0,
        resolve: RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    // SAFETY: the path and `how` live across the call, with `how`'s size.
    let mut fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            libc::AT_FDCWD,
            c_path.as_ptr(),
            &how as *const OpenHow,
            std::mem::size_of::<OpenHow>(),
        )
    };
    if fd < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::ENOSYS) {
        // SAFETY: open with a path that lives across the call.
        fd = unsafe { libc::open(c_path.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) } as i64;
    }
    if fd < 0 {
        let error = io::Error::last_os_error();
        return Err(if error.raw_os_error() == Some(libc::ELOOP) {
            format!(
                "{} became a link while the sandbox was built: not followed",
                path.display()
            )
        } else {
            format!("cannot show {}: {error}", path.display())
        });
    }
    // SAFETY: a fresh descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_link_in_a_folder_anyone_may_write_is_not_followed() {
        let folder = tempfile::tempdir().unwrap();
        let open = folder.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        std::os::unix::fs::symlink("/proc", open.join("work")).unwrap();
        let refused = resolve(&open.join("work/sub")).unwrap_err();
        assert!(refused.contains("not followed"), "{refused}");
    }

    #[test]
    fn a_link_of_a_folder_no_program_may_write_is_followed() {
        // The folder is this process's own: trusted when this is root (root's, and
        // written by no one else), not when it is an ordinary user (its programs' too).
        let folder = tempfile::tempdir().unwrap();
        std::fs::create_dir(folder.path().join("real")).unwrap();
        std::os::unix::fs::symlink("real", folder.path().join("link")).unwrap();
        let resolved = resolve(&folder.path().join("link/../real/./x"));
        // SAFETY: geteuid only reads our id.
        if unsafe { libc::geteuid() } == 0 {
            let real = std::fs::canonicalize(folder.path()).unwrap();
            assert_eq!(resolved.unwrap(), real.join("real/x"));
        } else {
            assert!(resolved.is_err());
        }
    }

    #[test]
    fn a_path_without_links_opens_and_a_link_does_not() {
        let folder = tempfile::tempdir().unwrap();
        let real = std::fs::canonicalize(folder.path()).unwrap();
        std::os::unix::fs::symlink("/", real.join("link")).unwrap();
        assert!(open_path(&real).is_ok());
        let refused = open_path(&real.join("link")).unwrap_err();
        assert!(refused.contains("became a link"), "{refused}");
    }
}
