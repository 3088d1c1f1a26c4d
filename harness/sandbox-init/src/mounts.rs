//! The program's view of the file system: read-only everywhere, writable where the
//! harness says, with a `/tmp` and a `/dev/shm` of its own.
//!
//! In a new mount namespace (changes here are seen by this process and its children
//! only):
//!
//! 1. Every mount becomes private, so nothing done here propagates back to the machine.
//! 2. The folders that must stay reachable are cloned as detached mounts (`open_tree`):
//!    the writable ones, and the visible ones under `/tmp` or `/dev/shm`, which the fresh
//!    `/tmp` is about to cover (a submission or a test web site in a temporary folder).
//! 3. Every mount is made read-only, recursively (`mount_setattr`).
//! 4. A fresh `tmpfs` covers `/tmp` and `/dev/shm`.
//! 5. The clones are put back on their own paths (`move_mount`), parents before children,
//!    visible ones read-only, writable ones as they were.
//!
//! Devices stay usable: writing to `/dev/null` on a read-only mount is allowed.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// What the program may see and write.
#[derive(Debug, Default)]
pub struct Plan {
    /// A fresh `/tmp` and `/dev/shm`.
    pub private_tmp: bool,
    /// Folders it must read even under a fresh `/tmp`.
    pub visible: Vec<PathBuf>,
    /// Folders it may write; everything else is read-only.
    pub writable: Vec<PathBuf>,
    /// How the harness spelled the folders above, where that differs from their real path
    /// (`sub/../good`, `sub/.`): the program names them so, so every folder such a path
    /// walks through must exist again under a fresh `/tmp`.
    pub spelled: Vec<PathBuf>,
}

impl Plan {
    /// Whether anything is asked of the file system (else no mount namespace is made).
    pub fn is_private(&self) -> bool {
        self.private_tmp || !self.writable.is_empty() || !self.visible.is_empty()
    }
}

/// `struct mount_attr` of `mount_setattr(2)`.
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

const MOUNT_ATTR_RDONLY: u64 = 0x1;
const OPEN_TREE_CLONE: libc::c_uint = 1;
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x4;

/// Builds the view; `Err` says which step the system refused.
pub fn isolate(plan: &Plan) -> Result<(), String> {
    // SAFETY: unshare and mount change only this process's namespaces.
    unsafe {
        if libc::unshare(libc::CLONE_NEWNS) != 0 {
            return Err(format!(
                "cannot make a mount namespace: {}",
                io::Error::last_os_error()
            ));
        }
        let root = c"/";
        if libc::mount(
            std::ptr::null(),
            root.as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ) != 0
        {
            return Err(format!(
                "cannot make mounts private: {}",
                io::Error::last_os_error()
            ));
        }
    }
    let covered = |path: &Path| {
        plan.private_tmp && (path.starts_with("/tmp") || path.starts_with("/dev/shm"))
    };
    let mut kept = Vec::new();
    for path in &plan.writable {
        kept.push((path.clone(), clone_tree(path)?));
    }
    for path in plan.visible.iter().filter(|path| covered(path)) {
        if plan
            .writable
            .iter()
            .any(|writable| path.starts_with(writable))
        {
            continue;
        }
        let tree = clone_tree(path)?;
        set_attributes(
            tree.as_raw_fd(),
            c"",
            libc::AT_EMPTY_PATH | libc::AT_RECURSIVE,
            MOUNT_ATTR_RDONLY,
        )
        .map_err(|error| format!("cannot make {} read-only: {error}", path.display()))?;
        kept.push((path.clone(), tree));
    }
    set_attributes(libc::AT_FDCWD, c"/", libc::AT_RECURSIVE, MOUNT_ATTR_RDONLY)
        .map_err(|error| format!("cannot make the file system read-only: {error}"))?;
    if plan.private_tmp {
        mount_tmpfs(c"/tmp", "mode=1777,size=512m")?;
        if Path::new("/dev/shm").is_dir() {
            mount_tmpfs(c"/dev/shm", "mode=1777,size=64m")?;
        }
    }
    // Parents first, so that a child's mount point is found on its parent.
    kept.sort_by_key(|(path, _)| path.components().count());
    for (path, tree) in kept {
        put_back(&path, &tree)?;
    }
    for path in plan.spelled.iter().filter(|path| covered(path)) {
        make_walkable(path);
    }
    Ok(())
}

/// Makes the folders `path` walks through (`/tmp/sub` of `/tmp/sub/../good`) where a
/// fresh `/tmp` lost them: empty, as mount points are. Best effort: a path that still does
/// not resolve fails in the program, which says which.
fn make_walkable(path: &Path) {
    let mut walked = PathBuf::new();
    for component in path.components() {
        walked.push(component);
        if !walked.exists() {
            let _ = std::fs::create_dir(&walked);
        }
    }
}

fn c_path(path: &Path) -> Result<CString, String> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| format!("{} holds a NUL byte", path.display()))
}

/// A detached copy of the mounts at `path` (and below).
fn clone_tree(path: &Path) -> Result<OwnedFd, String> {
    let c_path = c_path(path)?;
    // SAFETY: open_tree returns a new descriptor or -1.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            libc::AT_FDCWD,
            c_path.as_ptr(),
            OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint | libc::AT_RECURSIVE as libc::c_uint,
        )
    };
    if fd < 0 {
        return Err(format!(
            "cannot keep {} reachable: {}",
            path.display(),
            io::Error::last_os_error()
        ));
    }
    // SAFETY: a fresh descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

fn set_attributes(dir_fd: i32, path: &std::ffi::CStr, flags: i32, set: u64) -> io::Result<()> {
    let attributes = MountAttr {
        attr_set: set,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    // SAFETY: the attributes live across the call, with their size.
    let result = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            dir_fd,
            path.as_ptr(),
            flags as libc::c_uint,
            &attributes as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if result != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn mount_tmpfs(target: &std::ffi::CStr, options: &str) -> Result<(), String> {
    let options = CString::new(options).expect("no NUL in the options");
    // SAFETY: all strings live across the call.
    let result = unsafe {
        libc::mount(
            c"tmpfs".as_ptr(),
            target.as_ptr(),
            c"tmpfs".as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV,
            options.as_ptr().cast(),
        )
    };
    if result != 0 {
        return Err(format!(
            "cannot mount a fresh {}: {}",
            target.to_string_lossy(),
            io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// Attaches a clone at its own path, making the mount point first where a fresh `/tmp`
/// covered it.
fn put_back(path: &Path, tree: &OwnedFd) -> Result<(), String> {
    if !path.exists() {
        std::fs::create_dir_all(path)
            .map_err(|error| format!("cannot make the mount point {}: {error}", path.display()))?;
    }
    let c_path = c_path(path)?;
    // SAFETY: move_mount attaches the detached tree behind `tree` at `c_path`.
    let result = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_FDCWD,
            c_path.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH,
        )
    };
    if result != 0 {
        return Err(format!(
            "cannot put {} back: {}",
            path.display(),
            io::Error::last_os_error()
        ));
    }
    Ok(())
}
