//! The program's view of the file system: a new root holding only what it is given.
//!
//! A sandbox is a view, not a list of bans (as bubblewrap and isolate build theirs): the
//! program does not see the grader's machine minus some parts, it sees a root made for it,
//! holding
//!
//! | path | what | mode |
//! |---|---|---|
//! | `/usr`, `/bin`, `/sbin`, `/lib*`, `/etc` | the system's own folders ([`SYSTEM`]) | read-only |
//! | `/etc/shadow`, `/etc/ssh`, ... | covered: secrets of the machine ([`SECRETS`]) | empty |
//! | `/etc/resolv.conf`, `/etc/ssl/certs`, ... | the harness's files put over the system's (`--replace`) | read-only |
//! | `/dev` | its own: `null`, `zero`, `full`, `random`, `urandom`, `tty` (clones of the machine's nodes), a `devpts` of its own, the usual links | a fresh `tmpfs` |
//! | `/sys` | the kernel's view | read-only |
//! | `/proc` | its PID namespace's own, nothing of the machine's beneath it when the harness is root (an ordinary user's kernel wants the machine's beneath) | mounted by PID 1 |
//! | `/proc/cpuinfo`, ... | the harness's files put over the kernel's (`--replace`: the SSH pack's remote machine) | read-only, put after the PID namespace's own `/proc` ([`attach_late`]) |
//! | `/dev/shm`, `/run` | fresh and empty | writable |
//! | `/tmp` | the sandbox's own (`--tmp`), or a fresh one | writable |
//! | `--visible` folders | the program, its submission, its interpreter's folder | read-only |
//! | `--writable` folders | its working folder, its `HOME`, a web site it serves | writable |
//!
//! and nothing else: not the harness user's home, not the other submissions of a batch,
//! not the kit's scenarios. Every folder keeps its own path, so the command line the
//! harness wrote still names the right files.
//!
//! How, in a new mount namespace (what happens here is seen by this process and its
//! children only):
//!
//! 1. Every mount becomes private, so nothing done here propagates back to the machine.
//! 2. Every folder and file to be shown is cloned as a detached mount (`open_tree`), and
//!    the clones to be read-only are made so (`mount_setattr`), before anything is covered.
//! 3. A small `tmpfs` becomes the new root's floor, mounted on `/tmp` (any folder would
//!    do: the clones are taken already).
//! 4. The clones are attached on their own paths below it (`move_mount`), parents before
//!    children, mount points made as needed; symbolic links of the system (`/bin` →
//!    `usr/bin` on a merged-`/usr` system) are made again as links.
//! 5. The floor is made read-only, and becomes `/` (`pivot_root`); the old root is
//!    detached, so nothing of it can be reached again.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// The system's folders a program needs to run, shown read-only where they exist.
const SYSTEM: [&str; 9] = [
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/sys",
];

/// Files and folders of the system that hold its secrets (password hashes, the SSH host
/// keys, TLS private keys): covered by an empty file or folder where they exist. A program
/// run as root could read them otherwise.
const SECRETS: [&str; 6] = [
    "/etc/shadow",
    "/etc/shadow-",
    "/etc/gshadow",
    "/etc/gshadow-",
    "/etc/ssh",
    "/etc/ssl/private",
];

/// What the program may see and write.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    /// Whether to build a view at all (`--view`); without it the program sees the machine.
    pub view: bool,
    /// Folders (or files) it may read: its program, its submission, its interpreter's
    /// folder.
    pub visible: Vec<PathBuf>,
    /// Folders it may write.
    pub writable: Vec<PathBuf>,
    /// The folder that is its `/tmp` (the sandbox's, size-capped); `None`: a fresh one.
    pub tmp: Option<PathBuf>,
    /// Files or folders of the harness put over the system's: (path in the view, source).
    pub replaced: Vec<(PathBuf, PathBuf)>,
    /// A `/proc` of its own is mounted after the view is entered (the PID namespace's):
    /// files replaced below `/proc` are attached on it then ([`attach_late`]), not before.
    pub own_proc: bool,
    /// How the harness spelled the folders above, where that differs from their real path
    /// (`sub/../good`, `sub/.`): the program names them so, so every folder such a path
    /// walks through must exist in the view too.
    pub spelled: Vec<PathBuf>,
}

/// The devices of the view's `/dev`, clones of the machine's nodes.
const DEVICES: [&str; 6] = ["null", "zero", "full", "random", "urandom", "tty"];

/// The links of a machine's `/dev` that programs use.
const DEVICE_LINKS: [(&str, &str); 5] = [
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
    ("ptmx", "pts/ptmx"),
];

/// What is put at one path of the view.
enum Piece {
    /// An empty folder (a mount point for later).
    Folder,
    /// A fresh `devpts` instance of its own (`/dev/pts`).
    Pseudoterminals,
    /// A detached clone of a mount (a folder, or a single file).
    Clone { tree: OwnedFd, is_dir: bool },
    /// A symbolic link, made again (`/bin` → `usr/bin`).
    Link(PathBuf),
    /// A fresh `tmpfs` with these options.
    Fresh(&'static str),
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

/// Files of the harness to put over the kernel's below a `/proc` mounted after the view
/// was entered: detached clones, held open across `pivot_root` and `fork`, attached by
/// [`attach_late`].
pub(crate) type Late = Vec<(PathBuf, OwnedFd)>;

/// Builds the view and enters it; `Err` says which step the system refused. Returns the
/// replaced files below `/proc` when the PID namespace mounts its own `/proc` later
/// (`Plan::own_proc`): a bind mount on the old one would be covered by it.
pub(crate) fn isolate(plan: &Plan) -> Result<Late, String> {
    // SAFETY: unshare and mount change only this process's namespaces.
    unsafe {
        if libc::unshare(libc::CLONE_NEWNS) != 0 {
            return Err(format!(
                "cannot make a mount namespace: {}",
                io::Error::last_os_error()
            ));
        }
        if libc::mount(
            std::ptr::null(),
            c"/".as_ptr(),
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
    let mut late = Late::new();
    let mut pieces = Vec::new();
    for (path, piece) in gather(plan)? {
        match piece {
            // Below `/proc`, not `/proc` itself (`Path::starts_with` compares components).
            Piece::Clone { tree, .. }
                if plan.own_proc && path.starts_with("/proc") && path != Path::new("/proc") =>
            {
                late.push((path, tree));
            }
            piece => pieces.push((path, piece)),
        }
    }
    let floor = Path::new("/tmp");
    mount_tmpfs(floor, "mode=0755,size=4m")?;
    for (path, piece) in pieces {
        // Only the harness's files put over the system's follow the system's links
        // (`/etc/resolv.conf` → `/run/systemd/resolve/stub-resolv.conf`).
        let follow = plan.replaced.iter().any(|(replaced, _)| *replaced == path);
        place(floor, &path, piece, follow)?;
    }
    for path in &plan.spelled {
        make_walkable(floor, path);
    }
    set_attributes(libc::AT_FDCWD, &c_path(floor)?, 0, MOUNT_ATTR_RDONLY)
        .map_err(|error| format!("cannot make the view's root read-only: {error}"))?;
    enter(floor)?;
    Ok(late)
}

/// Attaches the replaced files below `/proc` (see [`isolate`]) on the `/proc` just
/// mounted: `/proc/cpuinfo` is then the harness's file, whatever reads it.
pub(crate) fn attach_late(late: &Late) -> Result<(), String> {
    for (path, tree) in late {
        attach(tree, path, path)?;
    }
    Ok(())
}

/// Attaches the detached tree behind `tree` at `at` (`shown` names it in an error).
fn attach(tree: &impl AsRawFd, at: &Path, shown: &Path) -> Result<(), String> {
    let c_at = c_path(at)?;
    // SAFETY: move_mount attaches the detached tree behind `tree` at `c_at`.
    let result = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_FDCWD,
            c_at.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH,
        )
    };
    if result != 0 {
        return Err(format!(
            "cannot show {}: {}",
            shown.display(),
            io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// Every piece of the view with its path, parents before children; cloned before anything
/// is covered.
fn gather(plan: &Plan) -> Result<Vec<(PathBuf, Piece)>, String> {
    let mut pieces: Vec<(PathBuf, Piece)> = Vec::new();
    for system in SYSTEM {
        let path = Path::new(system);
        match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = std::fs::read_link(path)
                    .map_err(|error| format!("cannot read the link {system}: {error}"))?;
                pieces.push((path.to_owned(), Piece::Link(target)));
            }
            Ok(_) => pieces.push((path.to_owned(), clone(path, true)?)),
            Err(_) => {}
        }
    }
    for secret in SECRETS.iter().map(Path::new) {
        match std::fs::symlink_metadata(secret) {
            Ok(meta) if meta.is_dir() => {
                pieces.push((secret.to_owned(), Piece::Fresh("mode=0700,size=4k")));
            }
            Ok(meta) if meta.is_file() => {
                pieces.push((secret.to_owned(), clone(Path::new("/dev/null"), true)?));
            }
            _ => {}
        }
    }
    for (path, source) in &plan.replaced {
        pieces.push((path.clone(), clone(source, true)?));
    }
    // A `/dev` of its own, built as bubblewrap's `--dev` builds one: the few devices a
    // program uses, each a clone of the machine's node; a fresh `devpts` for
    // pseudo-terminals; nothing else (no disks, no `/dev/mem`, no `/dev/kmsg`).
    pieces.push(("/dev".into(), Piece::Fresh("mode=0755,size=64k")));
    for device in DEVICES {
        let path = Path::new("/dev").join(device);
        if path.exists() {
            pieces.push((path.clone(), clone(&path, false)?));
        }
    }
    for (link, target) in DEVICE_LINKS {
        pieces.push((Path::new("/dev").join(link), Piece::Link(target.into())));
    }
    pieces.push(("/dev/pts".into(), Piece::Pseudoterminals));
    pieces.push(("/dev/shm".into(), Piece::Fresh("mode=1777,size=64m")));
    // The PID namespace's PID 1 mounts its own `/proc` here. An ordinary user (in a user
    // namespace) may mount one only where a `proc` is in the namespace already: the
    // machine's goes beneath it then, out of reach (the program holds no capability and
    // the seccomp filter refuses `umount2`). Root needs none: `/proc` is an empty folder
    // until the program's own is mounted, with nothing of the machine's beneath it.
    // The initial user namespace maps every id to itself.
    let in_user_namespace = std::fs::read_to_string("/proc/self/uid_map")
        .map(|map| !map.split_whitespace().eq(["0", "0", "4294967295"]))
        .unwrap_or(true);
    if plan.own_proc && !in_user_namespace {
        pieces.push(("/proc".into(), Piece::Folder));
    } else {
        pieces.push(("/proc".into(), clone(Path::new("/proc"), false)?));
    }
    pieces.push(("/run".into(), Piece::Fresh("mode=0755,size=4m")));
    pieces.push((
        "/tmp".into(),
        match &plan.tmp {
            Some(folder) => clone(folder, false)?,
            None => Piece::Fresh("mode=1777,size=512m"),
        },
    ));
    for path in &plan.visible {
        if !plan
            .writable
            .iter()
            .any(|writable| path.starts_with(writable))
        {
            pieces.push((path.clone(), clone(path, true)?));
        }
    }
    for path in &plan.writable {
        pieces.push((path.clone(), clone(path, false)?));
    }
    // Parents first, so that a child's mount point is made on its parent; a stable sort
    // keeps a folder given twice in the order above (the writable clone last, on top).
    pieces.sort_by_key(|(path, _)| path.components().count());
    Ok(pieces)
}

/// A detached clone of the mounts at `path` (and below), read-only if asked.
fn clone(path: &Path, read_only: bool) -> Result<Piece, String> {
    let is_dir = std::fs::metadata(path)
        .map_err(|error| format!("cannot show {}: {error}", path.display()))?
        .is_dir();
    // The path holds no link (the system's own folders, or resolved by `resolve`): one
    // swapped in since is refused, not followed.
    let opened = crate::resolve::open_path(path)?;
    // SAFETY: open_tree returns a new descriptor or -1; `opened` lives across the call.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            opened.as_raw_fd(),
            c"".as_ptr(),
            OPEN_TREE_CLONE
                | libc::O_CLOEXEC as libc::c_uint
                | libc::AT_RECURSIVE as libc::c_uint
                | libc::AT_EMPTY_PATH as libc::c_uint,
        )
    };
    if fd < 0 {
        return Err(format!(
            "cannot show {}: {}",
            path.display(),
            io::Error::last_os_error()
        ));
    }
    // SAFETY: a fresh descriptor owned by nobody else.
    let tree = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    if read_only {
        set_attributes(
            tree.as_raw_fd(),
            c"",
            libc::AT_EMPTY_PATH | libc::AT_RECURSIVE,
            MOUNT_ATTR_RDONLY,
        )
        .map_err(|error| format!("cannot make {} read-only: {error}", path.display()))?;
    }
    Ok(Piece::Clone { tree, is_dir })
}

/// Puts `piece` at `path` below `floor`.
///
/// The place is reached from the floor through descriptors, one name at a time, with
/// `O_NOFOLLOW`: a piece may lie below a folder a program writes (a working folder inside a
/// submission's private copy, whose other programs run already), and a link swapped in
/// there must not lead the making of folders, or a mount, out of the view. `follow`: the
/// place is first found by following links of the system's (see [`follow_links`]).
fn place(floor: &Path, path: &Path, piece: Piece, follow: bool) -> Result<(), String> {
    let mut at = below(floor, path);
    if follow {
        at = follow_links(floor, &at);
    }
    let relative = at.strip_prefix(floor).unwrap_or(Path::new("")).to_owned();
    let cannot = |error: io::Error| format!("cannot make a place for {}: {error}", path.display());
    match piece {
        Piece::Link(target) => {
            let (parent, name) = parent_and_name(floor, &relative).map_err(cannot)?;
            let c_target = c_path(&target)?;
            // SAFETY: symlinkat with a descriptor we hold and strings that live across it.
            if unsafe { libc::symlinkat(c_target.as_ptr(), parent.as_raw_fd(), name.as_ptr()) } != 0
            {
                return Err(format!(
                    "cannot make the link {}: {}",
                    path.display(),
                    io::Error::last_os_error()
                ));
            }
            Ok(())
        }
        Piece::Fresh(options) => {
            let place = mount_point(floor, &relative, true).map_err(cannot)?;
            mount_tmpfs(&fd_path(&place), options)
        }
        Piece::Folder => mount_point(floor, &relative, true)
            .map(drop)
            .map_err(cannot),
        Piece::Pseudoterminals => {
            let place = mount_point(floor, &relative, true).map_err(cannot)?;
            mount_devpts(&fd_path(&place))
        }
        Piece::Clone { tree, is_dir } => {
            let place = mount_point(floor, &relative, is_dir).map_err(cannot)?;
            attach_at(&tree, &place, path)
        }
    }
}

/// `/proc/self/fd/N` of `fd`: the very file or folder it holds, for calls that take a
/// path (`mount`).
fn fd_path(fd: &OwnedFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

/// The folder holding `relative` (below `floor`, made where missing, no link followed) and
/// its last name.
fn parent_and_name(floor: &Path, relative: &Path) -> io::Result<(OwnedFd, CString)> {
    let parent = relative.parent().unwrap_or(Path::new(""));
    let name = relative
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no name"))?;
    let folder = mount_point(floor, parent, true)?;
    let name = CString::new(name.as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL byte"))?;
    Ok((folder, name))
}

/// An `O_PATH` descriptor of `relative` below `floor`: each folder on the way opened from
/// the one before with `O_NOFOLLOW` and made where missing; the last one a folder
/// (`is_dir`) or an empty file, made where missing. A link anywhere is refused (`ELOOP`).
fn mount_point(floor: &Path, relative: &Path, is_dir: bool) -> io::Result<OwnedFd> {
    let open =
        |dir: libc::c_int, name: &std::ffi::CStr, flags: libc::c_int| -> io::Result<OwnedFd> {
            // SAFETY: openat with a descriptor we hold and a name that lives across the call.
            let fd = unsafe { libc::openat(dir, name.as_ptr(), flags, 0o644) };
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: a fresh descriptor owned by nobody else.
            Ok(unsafe { OwnedFd::from_raw_fd(fd) })
        };
    let folder_flags = libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    let mut current = open(
        libc::AT_FDCWD,
        &c_path(floor).map_err(io::Error::other)?,
        folder_flags,
    )?;
    let names: Vec<&std::ffi::OsStr> = relative
        .components()
        .filter_map(|component| match component {
            Component::Normal(name) => Some(name),
            _ => None,
        })
        .collect();
    for (index, name) in names.iter().enumerate() {
        let last = index + 1 == names.len();
        let c_name = CString::new(name.as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL byte"))?;
        let dir = current.as_raw_fd();
        current = if last && !is_dir {
            match open(
                dir,
                &c_name,
                libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            ) {
                Ok(fd) => fd,
                Err(error) if error.kind() == io::ErrorKind::NotFound => {
                    drop(open(
                        dir,
                        &c_name,
                        libc::O_CREAT
                            | libc::O_EXCL
                            | libc::O_WRONLY
                            | libc::O_NOFOLLOW
                            | libc::O_CLOEXEC,
                    )?);
                    open(
                        dir,
                        &c_name,
                        libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC,
                    )?
                }
                Err(error) => return Err(error),
            }
        } else {
            match open(dir, &c_name, folder_flags) {
                Ok(fd) => fd,
                Err(error) if error.kind() == io::ErrorKind::NotFound => {
                    // SAFETY: mkdirat with a descriptor we hold and a name that lives across it.
                    if unsafe { libc::mkdirat(dir, c_name.as_ptr(), 0o755) } != 0 {
                        let error = io::Error::last_os_error();
                        if error.kind() != io::ErrorKind::AlreadyExists {
                            return Err(error);
                        }
                    }
                    open(dir, &c_name, folder_flags)?
                }
                Err(error) => return Err(error),
            }
        };
    }
    // `O_PATH | O_NOFOLLOW` opens a link itself rather than failing: refuse one.
    // SAFETY: fstat fills our local.
    let mut status: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(current.as_raw_fd(), &mut status) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if status.st_mode & libc::S_IFMT == libc::S_IFLNK {
        return Err(io::Error::from_raw_os_error(libc::ELOOP));
    }
    Ok(current)
}

/// Attaches the detached tree behind `tree` on the place `place` holds.
fn attach_at(tree: &OwnedFd, place: &OwnedFd, shown: &Path) -> Result<(), String> {
    const MOVE_MOUNT_T_EMPTY_PATH: libc::c_uint = 0x40;
    // SAFETY: move_mount between two descriptors we hold.
    let result = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree.as_raw_fd(),
            c"".as_ptr(),
            place.as_raw_fd(),
            c"".as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH,
        )
    };
    if result != 0 {
        return Err(format!(
            "cannot show {}: {}",
            shown.display(),
            io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// `path` of the view, as a path below `floor` (before it becomes `/`).
fn below(floor: &Path, path: &Path) -> PathBuf {
    let mut at = floor.to_owned();
    for component in path.components() {
        if let Component::Normal(name) = component {
            at.push(name);
        }
    }
    at
}

/// Where `at` really is in the view, the system's links followed inside the view: a
/// system whose `/etc/resolv.conf` links to `/run/systemd/resolve/stub-resolv.conf` gets
/// the harness's file there (`/run` is the view's own). At most 16 links; a relative link
/// never climbs above the floor.
fn follow_links(floor: &Path, at: &Path) -> PathBuf {
    let mut at = at.to_owned();
    for _ in 0..16 {
        let Ok(target) = std::fs::read_link(&at) else {
            return at;
        };
        at = if target.is_absolute() {
            below(floor, &target)
        } else {
            let mut next = at.parent().unwrap_or(floor).to_owned();
            for component in target.components() {
                match component {
                    Component::ParentDir if next != floor => {
                        next.pop();
                    }
                    Component::Normal(name) => next.push(name),
                    _ => {}
                }
            }
            next
        };
    }
    at
}

/// Makes the folders `path` walks through (`/tmp/sub` of `/tmp/sub/../good`): empty, as
/// mount points are, reached as [`mount_point`] reaches them. Best effort: a path that
/// still does not resolve fails in the program, which says which.
fn make_walkable(floor: &Path, path: &Path) {
    let mut walked = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(name) => walked.push(name),
            Component::ParentDir => {
                walked.pop();
            }
            _ => continue,
        }
        let _ = mount_point(floor, &walked, true);
    }
}

/// Makes `floor` the root: `pivot_root(".", ".")` stacks the old root under the new one,
/// and detaching it leaves the program nothing of it.
fn enter(floor: &Path) -> Result<(), String> {
    std::env::set_current_dir(floor).map_err(|error| format!("cannot enter the view: {error}"))?;
    // SAFETY: pivot_root and umount2 change this namespace's root, which is ours.
    unsafe {
        if libc::syscall(libc::SYS_pivot_root, c".".as_ptr(), c".".as_ptr()) != 0 {
            return Err(format!(
                "cannot make the view the root: {}",
                io::Error::last_os_error()
            ));
        }
        if libc::umount2(c".".as_ptr(), libc::MNT_DETACH) != 0 {
            return Err(format!(
                "cannot let go of the machine's root: {}",
                io::Error::last_os_error()
            ));
        }
    }
    std::env::set_current_dir("/").map_err(|error| format!("cannot enter the view: {error}"))
}

fn c_path(path: &Path) -> Result<CString, String> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| format!("{} holds a NUL byte", path.display()))
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

fn mount_tmpfs(target: &Path, options: &str) -> Result<(), String> {
    let c_target = c_path(target)?;
    let options = CString::new(options).expect("no NUL in the options");
    // SAFETY: all strings live across the call.
    let result = unsafe {
        libc::mount(
            c"tmpfs".as_ptr(),
            c_target.as_ptr(),
            c"tmpfs".as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV,
            options.as_ptr().cast(),
        )
    };
    if result != 0 {
        return Err(format!(
            "cannot mount a fresh {}: {}",
            target.display(),
            io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// A `devpts` of its own at `target`: the program's pseudo-terminals, none of the
/// machine's.
fn mount_devpts(target: &Path) -> Result<(), String> {
    let c_target = c_path(target)?;
    // SAFETY: all strings live across the call.
    let result = unsafe {
        libc::mount(
            c"devpts".as_ptr(),
            c_target.as_ptr(),
            c"devpts".as_ptr(),
            libc::MS_NOSUID | libc::MS_NOEXEC,
            c"newinstance,ptmxmode=0666,mode=620".as_ptr().cast(),
        )
    };
    if result != 0 {
        return Err(format!(
            "cannot mount a fresh /dev/pts: {}",
            io::Error::last_os_error()
        ));
    }
    Ok(())
}
