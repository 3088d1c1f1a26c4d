//! Reading back what a program left in its folder without following its links.
//!
//! The harness reads files a program wrote (a downloaded file, `expect_files`) outside the
//! sandbox, perhaps as root. A program that leaves `client_notes.txt -> /root/.ssh/id_rsa`
//! must not get the harness to open that file and print its first bytes in a diff. So a
//! path relative to a program's folder is opened here only:
//!
//! - with `openat2(2)` from the folder, resolving `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
//!   RESOLVE_NO_MAGICLINKS` (no component may be a link, none may leave the folder) and
//!   `O_NOFOLLOW`; where the kernel has no `openat2` (before 5.6, or a seccomp filter that
//!   refuses it), by walking the path a component at a time with
//!   `openat(O_NOFOLLOW | O_DIRECTORY)`, which is as strict;
//! - non-blocking, so that a fifo the program left does not hang the harness, and then
//!   `fstat`: anything but a regular file is refused.
//!
//! Each refusal says what happened ([`NotOpened`]): a link, something that is not a regular
//! file, a name outside the folder, nothing there. The harness reads no folder a program
//! wrote by listing it; [`entry`] says what is at a name without following it.

use std::ffi::{CString, OsStr};
use std::fmt;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path};
use std::sync::atomic::{AtomicBool, Ordering};

/// Why a name of a program's folder was not opened.
#[derive(Debug)]
pub enum Refused {
    /// Nothing is there (or a component before the last is not a folder).
    Missing,
    /// The name is a symbolic link, or goes through one.
    Link,
    /// The name leads out of the folder (`..`, an absolute path).
    Outside,
    /// Something is there, but not a regular file: what it is (`a fifo`, `a folder`).
    NotRegular(&'static str),
    /// It holds more bytes than the reader's limit, which it names.
    TooLarge(u64),
    /// It could not be opened or read for another reason.
    Unreadable(io::Error),
}

/// A name the harness would not open, and why.
#[derive(Debug)]
pub struct NotOpened {
    /// The name, as the caller gave it (relative to the folder).
    pub name: String,
    /// Why.
    pub why: Refused,
}

impl NotOpened {
    fn new(name: &Path, why: Refused) -> NotOpened {
        NotOpened {
            name: name.display().to_string(),
            why,
        }
    }

    /// Whether nothing is there at all (not a refusal of something that is).
    pub fn is_missing(&self) -> bool {
        matches!(self.why, Refused::Missing)
    }
}

impl fmt::Display for NotOpened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = &self.name;
        match &self.why {
            Refused::Missing => write!(f, "there is no `{name}`"),
            Refused::Link if name.contains('/') => write!(
                f,
                "`{name}` is, or goes through, a symbolic link: the harness does not follow links a program leaves"
            ),
            Refused::Link => write!(
                f,
                "`{name}` is a symbolic link: the harness does not follow links a program leaves"
            ),
            Refused::Outside => write!(f, "`{name}` is outside its folder"),
            Refused::NotRegular(kind) => {
                write!(
                    f,
                    "`{name}` is not a regular file ({kind}): the harness reads only files"
                )
            }
            Refused::TooLarge(limit) => write!(
                f,
                "`{name}` holds more than {}, past the harness's bound on what it reads of a file a program leaves: not read",
                sandbox::size_text(*limit)
            ),
            Refused::Unreadable(error) => write!(f, "`{name}` cannot be read: {error}"),
        }
    }
}

impl std::error::Error for NotOpened {}

/// What is at a name of a program's folder, as [`entry`] sees it (the name itself, never
/// where a link leads).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// `a regular file`, `a symbolic link`, `a folder`, `a fifo`...
    pub kind: &'static str,
    /// Its size in bytes (of the link itself, for a link).
    pub len: u64,
    /// Whether it is a regular file.
    pub regular: bool,
}

/// Opens `name`, relative to `folder`, for reading: only a regular file reached without a
/// link and without leaving `folder`.
pub fn open_file(folder: &Path, name: &Path) -> Result<File, NotOpened> {
    let refused = |why| NotOpened::new(name, why);
    let parts = parts_of(name).ok_or_else(|| refused(Refused::Outside))?;
    let dir = open_folder(folder).map_err(refused)?;
    let flags = libc::O_RDONLY
        | libc::O_CLOEXEC
        | libc::O_NOFOLLOW
        // A fifo opens at once instead of waiting for a writer; `fstat` then refuses it.
        | libc::O_NONBLOCK
        | libc::O_NOCTTY;
    let fd = open_beneath(dir.as_fd(), name, &parts, flags).map_err(refused)?;
    let status = fstat(fd.as_fd()).map_err(|error| refused(Refused::Unreadable(error)))?;
    if status.st_mode & libc::S_IFMT != libc::S_IFREG {
        return Err(refused(Refused::NotRegular(kind_of(status.st_mode))));
    }
    // Reads of a regular file never block; the flag is cleared all the same.
    // SAFETY: fcntl on a descriptor this function owns.
    unsafe {
        let flags = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
        if flags >= 0 {
            libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags & !libc::O_NONBLOCK);
        }
    }
    Ok(File::from(fd))
}

/// Reads the whole of `name` (relative to `folder`) as [`open_file`] opens it, if it holds
/// at most `limit` bytes: a file a program left may be any size (an 8 GiB sparse file
/// costs it nothing), and is read into the harness's memory. Read through `take`, so a
/// file that grows while read is not followed past the limit either.
pub fn read(folder: &Path, name: &Path, limit: u64) -> Result<Vec<u8>, NotOpened> {
    use std::io::Read;
    let file = open_file(folder, name)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|error| NotOpened::new(name, Refused::Unreadable(error)))?;
    if bytes.len() as u64 > limit {
        return Err(NotOpened::new(name, Refused::TooLarge(limit)));
    }
    Ok(bytes)
}

/// What is at `name` (relative to `folder`) without following it: `None` when nothing is.
/// The folders on the way are reached as [`open_file`] reaches them (a link among them is
/// refused); the last component may be anything, a link included, and is only looked at.
pub fn entry(folder: &Path, name: &Path) -> Result<Option<Entry>, NotOpened> {
    let refused = |why| NotOpened::new(name, why);
    let parts = parts_of(name).ok_or_else(|| refused(Refused::Outside))?;
    let dir = open_folder(folder).map_err(refused)?;
    let (last, before) = parts.split_last().expect("parts_of gives at least one");
    let parent = if before.is_empty() {
        dir
    } else {
        let path: std::path::PathBuf = before.iter().collect();
        // No `O_NOFOLLOW`: with `O_PATH` it would open a last component that is a link.
        // `RESOLVE_NO_SYMLINKS` refuses it (and the walk adds `O_NOFOLLOW` itself).
        let flags = libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC;
        match open_beneath(dir.as_fd(), &path, before, flags) {
            Ok(parent) => parent,
            Err(Refused::Missing) => return Ok(None),
            Err(why) => return Err(refused(why)),
        }
    };
    match stat_at(parent.as_fd(), last) {
        Ok(status) => Ok(Some(Entry {
            kind: kind_of(status.st_mode),
            len: status.st_size as u64,
            regular: status.st_mode & libc::S_IFMT == libc::S_IFREG,
        })),
        Err(error) => match refused_by(error) {
            Refused::Missing => Ok(None),
            why => Err(refused(why)),
        },
    }
}

/// The components of `name`, each one file name; `None` if it is empty, absolute or has
/// a `..` (`.` components are left out).
fn parts_of(name: &Path) -> Option<Vec<&OsStr>> {
    let mut parts = Vec::new();
    for component in name.components() {
        match component {
            Component::Normal(part) => parts.push(part),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    (!parts.is_empty()).then_some(parts)
}

/// The program's folder itself, reached through no link at all: its path is the harness's
/// own (a sandbox's folder, a submission's private copy, the test site), made without links,
/// but a folder on the way may be one that programs write (a working folder `w1/w2` in the
/// private copy, whose `w1` a program could replace by a link to a folder of the machine).
/// A link anywhere on it is refused as leading outside.
fn open_folder(folder: &Path) -> Result<OwnedFd, Refused> {
    if !folder.is_absolute() {
        return Err(Refused::Outside);
    }
    let root = File::open("/").map_err(Refused::Unreadable)?;
    let below_root = folder.strip_prefix("/").map_err(|_| Refused::Outside)?;
    let Some(parts) = parts_of(below_root) else {
        // `/` itself, or a path with `..`: not a folder the harness makes for a program.
        return Err(Refused::Outside);
    };
    let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC;
    open_beneath(root.as_fd(), below_root, &parts, flags).map_err(|why| match why {
        Refused::Link => Refused::Outside,
        why => why,
    })
}

/// Whether `openat2` was found missing (or refused by a seccomp filter) once: every later
/// open walks instead.
static NO_OPENAT2: AtomicBool = AtomicBool::new(false);

/// Opens `name` (whose components are `parts`) beneath `dir` with `flags`: `openat2`, or the
/// walk where the kernel lacks it.
fn open_beneath(
    dir: BorrowedFd<'_>,
    name: &Path,
    parts: &[&OsStr],
    flags: libc::c_int,
) -> Result<OwnedFd, Refused> {
    if !NO_OPENAT2.load(Ordering::Relaxed) {
        match openat2(dir, name, flags) {
            Ok(fd) => return Ok(fd),
            Err(error)
                if matches!(error.raw_os_error(), Some(libc::ENOSYS) | Some(libc::EPERM)) =>
            {
                NO_OPENAT2.store(true, Ordering::Relaxed);
            }
            Err(error) => return Err(refused_by(error)),
        }
    }
    walk(dir, parts, flags)
}

/// `openat2(dir, name, flags)` resolving beneath `dir`, through no link.
fn openat2(dir: BorrowedFd<'_>, name: &Path, flags: libc::c_int) -> io::Result<OwnedFd> {
    let resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS;
    openat2_resolving(dir.as_raw_fd(), name, flags, resolve)
}

/// `path` opened with `flags`, through no symbolic link of any kind on its way (`ELOOP` if
/// there is one; `openat2`'s `RESOLVE_NO_SYMLINKS`), from the current folder when it is
/// relative: for a file the harness copies, which a link must not lead elsewhere.
pub fn open_without_links(path: &Path, flags: libc::c_int) -> io::Result<File> {
    let resolve = libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS;
    openat2_resolving(libc::AT_FDCWD, path, flags, resolve).map(File::from)
}

/// The one `openat2` call: `name` from the folder `dir` (or `AT_FDCWD`), resolved as
/// `resolve` says.
fn openat2_resolving(
    dir: libc::c_int,
    name: &Path,
    flags: libc::c_int,
    resolve: u64,
) -> io::Result<OwnedFd> {
    let path = c_name(name.as_os_str())?;
    // SAFETY: an all-zero `open_how` is valid (no flags); its fields are set below.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = flags as u64;
    how.resolve = resolve;
    // SAFETY: the path and `how` live across the call; a returned descriptor is ours.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir,
            path.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a new descriptor, owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
}

/// The walk of kernels without `openat2`: each component opened from the one before with
/// `openat(O_NOFOLLOW)` (folders with `O_DIRECTORY`), so that no link is followed and no
/// component is more than one name; `..` never reaches here ([`parts_of`]).
fn walk(dir: BorrowedFd<'_>, parts: &[&OsStr], flags: libc::c_int) -> Result<OwnedFd, Refused> {
    let (last, before) = parts.split_last().ok_or(Refused::Outside)?;
    let mut current: Option<OwnedFd> = None;
    for part in before {
        let from = current.as_ref().map_or(dir, |fd| fd.as_fd());
        let next = openat(
            from,
            part,
            libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        )
        .map_err(|error| refused_in_walk(from, part, error))?;
        current = Some(next);
    }
    let from = current.as_ref().map_or(dir, |fd| fd.as_fd());
    openat(from, last, flags | libc::O_NOFOLLOW).map_err(|error| refused_in_walk(from, last, error))
}

/// Why the walk could not open `part` of `from`: a link that `O_DIRECTORY` reports as "not
/// a folder" is a link.
fn refused_in_walk(from: BorrowedFd<'_>, part: &OsStr, error: io::Error) -> Refused {
    if error.raw_os_error() == Some(libc::ENOTDIR)
        && stat_at(from, part).is_ok_and(|status| status.st_mode & libc::S_IFMT == libc::S_IFLNK)
    {
        return Refused::Link;
    }
    refused_by(error)
}

fn openat(dir: BorrowedFd<'_>, part: &OsStr, flags: libc::c_int) -> io::Result<OwnedFd> {
    let path = c_name(part)?;
    // SAFETY: the path lives across the call; a returned descriptor is ours.
    let fd = unsafe { libc::openat(dir.as_raw_fd(), path.as_ptr(), flags) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a new descriptor, owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn fstat(fd: BorrowedFd<'_>) -> io::Result<libc::stat> {
    // SAFETY: `stat` is plain data, filled by the kernel.
    let mut status: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: a valid descriptor and a buffer of the right type.
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut status) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(status)
}

/// `fstatat(dir, part, AT_SYMLINK_NOFOLLOW)`: the entry itself, a link included.
fn stat_at(dir: BorrowedFd<'_>, part: &OsStr) -> io::Result<libc::stat> {
    let path = c_name(part)?;
    // SAFETY: `stat` is plain data, filled by the kernel.
    let mut status: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: the path and the buffer live across the call.
    let result = unsafe {
        libc::fstatat(
            dir.as_raw_fd(),
            path.as_ptr(),
            &mut status,
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    if result != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(status)
}

fn c_name(name: &OsStr) -> io::Result<CString> {
    CString::new(name.as_bytes()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// What an error of an open says about the name.
fn refused_by(error: io::Error) -> Refused {
    match error.raw_os_error() {
        Some(libc::ENOENT | libc::ENOTDIR) => Refused::Missing,
        // `RESOLVE_NO_SYMLINKS` and `O_NOFOLLOW` both say ELOOP for a link.
        Some(libc::ELOOP) => Refused::Link,
        // `RESOLVE_BENEATH`: the path would leave the folder.
        Some(libc::EXDEV) => Refused::Outside,
        // A socket, or a device with no driver: not a file either way.
        Some(libc::ENXIO) => Refused::NotRegular("a socket or a device"),
        _ => Refused::Unreadable(error),
    }
}

/// A file type in words.
fn kind_of(mode: libc::mode_t) -> &'static str {
    match mode & libc::S_IFMT {
        libc::S_IFREG => "a regular file",
        libc::S_IFDIR => "a folder",
        libc::S_IFLNK => "a symbolic link",
        libc::S_IFIFO => "a fifo",
        libc::S_IFSOCK => "a socket",
        libc::S_IFCHR => "a character device",
        libc::S_IFBLK => "a block device",
        _ => "of an unknown type",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::fs::symlink;

    /// A program's folder, beside a secret the program must not get read.
    struct Place {
        _outer: tempfile::TempDir,
        folder: std::path::PathBuf,
        secret: std::path::PathBuf,
    }

    const SECRET: &str = "secret-beneath-8812";

    fn place() -> Place {
        let outer = tempfile::tempdir().unwrap();
        let folder = outer.path().join("work");
        std::fs::create_dir(&folder).unwrap();
        let secret = outer.path().join("secret.txt");
        std::fs::write(&secret, SECRET).unwrap();
        Place {
            _outer: outer,
            folder,
            secret,
        }
    }

    fn read_text(folder: &Path, name: &str) -> Result<String, NotOpened> {
        read(folder, Path::new(name), 1 << 20).map(|bytes| String::from_utf8(bytes).unwrap())
    }

    /// Both ways of opening: `openat2`, and the walk of kernels without it.
    fn walked(folder: &Path, name: &str) -> Result<String, Refused> {
        let parts = parts_of(Path::new(name)).ok_or(Refused::Outside)?;
        let dir = open_folder(folder).ok().unwrap();
        let fd = walk(
            dir.as_fd(),
            &parts,
            libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NONBLOCK,
        )?;
        let status = fstat(fd.as_fd()).unwrap();
        if status.st_mode & libc::S_IFMT != libc::S_IFREG {
            return Err(Refused::NotRegular(kind_of(status.st_mode)));
        }
        let mut text = String::new();
        File::from(fd).read_to_string(&mut text).unwrap();
        Ok(text)
    }

    #[test]
    fn a_sparse_file_past_the_limit_is_not_read() {
        let place = place();
        let huge = File::create(place.folder.join("huge.bin")).unwrap();
        huge.set_len(8 << 30).unwrap();
        let refused = read(&place.folder, Path::new("huge.bin"), 1 << 20).unwrap_err();
        assert!(matches!(refused.why, Refused::TooLarge(limit) if limit == 1 << 20));
        assert_eq!(
            refused.to_string(),
            "`huge.bin` holds more than 1 MiB, past the harness's bound on what it reads of a file a program leaves: not read"
        );
        huge.set_len(1 << 20).unwrap();
        assert_eq!(
            read(&place.folder, Path::new("huge.bin"), 1 << 20)
                .unwrap()
                .len(),
            1 << 20
        );
    }

    #[test]
    fn a_regular_file_is_read() {
        let place = place();
        std::fs::write(place.folder.join("client_notes.txt"), "the notes").unwrap();
        std::fs::create_dir(place.folder.join("sub")).unwrap();
        std::fs::write(place.folder.join("sub/inner.txt"), "inner").unwrap();
        assert_eq!(
            read_text(&place.folder, "client_notes.txt").unwrap(),
            "the notes"
        );
        assert_eq!(
            read_text(&place.folder, "./sub/inner.txt").unwrap(),
            "inner"
        );
        assert_eq!(walked(&place.folder, "sub/inner.txt").unwrap(), "inner");
        let entry = entry(&place.folder, Path::new("client_notes.txt"))
            .unwrap()
            .unwrap();
        assert!(entry.regular && entry.len == 9, "{entry:?}");
    }

    #[test]
    fn nothing_there_is_missing() {
        let place = place();
        let refusal = read_text(&place.folder, "client_notes.txt").unwrap_err();
        assert!(refusal.is_missing(), "{refusal}");
        assert_eq!(refusal.to_string(), "there is no `client_notes.txt`");
        assert!(matches!(
            walked(&place.folder, "client_notes.txt"),
            Err(Refused::Missing)
        ));
        assert_eq!(entry(&place.folder, Path::new("pwned")).unwrap(), None);
        assert_eq!(entry(&place.folder, Path::new("no/pwned")).unwrap(), None);
    }

    #[test]
    fn a_link_to_outside_is_refused_and_its_target_never_read() {
        let place = place();
        symlink(&place.secret, place.folder.join("client_notes.txt")).unwrap();
        symlink("../secret.txt", place.folder.join("relative.txt")).unwrap();
        for name in ["client_notes.txt", "relative.txt"] {
            let refusal = read_text(&place.folder, name).unwrap_err();
            assert!(matches!(refusal.why, Refused::Link), "{refusal:?}");
            assert_eq!(
                refusal.to_string(),
                format!(
                    "`{name}` is a symbolic link: the harness does not follow links a program leaves"
                )
            );
            assert!(!refusal.to_string().contains(SECRET));
            assert!(matches!(walked(&place.folder, name), Err(Refused::Link)));
        }
        // Looked at, not followed: a link, the size of its own text.
        let entry = entry(&place.folder, Path::new("client_notes.txt"))
            .unwrap()
            .unwrap();
        assert_eq!(entry.kind, "a symbolic link");
        assert!(!entry.regular);
    }

    #[test]
    fn a_link_inside_the_folder_is_refused_too() {
        let place = place();
        std::fs::write(place.folder.join("real.txt"), "inside").unwrap();
        symlink("real.txt", place.folder.join("client_notes.txt")).unwrap();
        let refusal = read_text(&place.folder, "client_notes.txt").unwrap_err();
        assert!(matches!(refusal.why, Refused::Link), "{refusal:?}");
        assert!(matches!(
            walked(&place.folder, "client_notes.txt"),
            Err(Refused::Link)
        ));
        // A folder on the way that is a link, to a folder inside or outside.
        std::fs::create_dir(place.folder.join("real")).unwrap();
        std::fs::write(place.folder.join("real/file.txt"), "inside").unwrap();
        symlink("real", place.folder.join("linked")).unwrap();
        symlink(place.secret.parent().unwrap(), place.folder.join("up")).unwrap();
        for name in ["linked/file.txt", "up/secret.txt"] {
            let refusal = read_text(&place.folder, name).unwrap_err();
            assert!(matches!(refusal.why, Refused::Link), "{name}: {refusal:?}");
            assert!(
                refusal
                    .to_string()
                    .contains("goes through, a symbolic link"),
                "{refusal}"
            );
            assert!(
                matches!(walked(&place.folder, name), Err(Refused::Link)),
                "{name}"
            );
            assert!(matches!(
                entry(&place.folder, Path::new(name)),
                Err(NotOpened {
                    why: Refused::Link,
                    ..
                })
            ));
        }
    }

    #[test]
    fn a_name_with_dot_dot_or_a_root_is_outside() {
        let place = place();
        std::fs::create_dir(place.folder.join("sub")).unwrap();
        for name in [
            "../secret.txt",
            "sub/../../secret.txt",
            "sub/..",
            "/etc/passwd",
            "",
        ] {
            let refusal = read_text(&place.folder, name).unwrap_err();
            assert!(
                matches!(refusal.why, Refused::Outside),
                "{name}: {refusal:?}"
            );
            assert!(matches!(walked(&place.folder, name), Err(Refused::Outside)));
        }
        assert_eq!(
            read_text(&place.folder, "../secret.txt")
                .unwrap_err()
                .to_string(),
            "`../secret.txt` is outside its folder"
        );
    }

    #[test]
    fn a_folder_replaced_by_a_link_is_outside() {
        let place = place();
        let elsewhere = place.secret.parent().unwrap().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        std::fs::write(elsewhere.join("client_notes.txt"), SECRET).unwrap();
        std::fs::remove_dir(&place.folder).unwrap();
        symlink(&elsewhere, &place.folder).unwrap();
        let refusal = read_text(&place.folder, "client_notes.txt").unwrap_err();
        assert!(matches!(refusal.why, Refused::Outside), "{refusal:?}");
        assert!(entry(&place.folder, Path::new("client_notes.txt")).is_err());
    }

    #[test]
    fn a_fifo_is_refused_at_once() {
        let place = place();
        let fifo = place.folder.join("client_notes.txt");
        let path = CString::new(fifo.as_os_str().as_bytes()).unwrap();
        // SAFETY: a valid path.
        assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o644) }, 0);
        // No writer ever comes: a blocking open would wait for good.
        let refusal = read_text(&place.folder, "client_notes.txt").unwrap_err();
        assert!(
            matches!(refusal.why, Refused::NotRegular("a fifo")),
            "{refusal:?}"
        );
        assert_eq!(
            refusal.to_string(),
            "`client_notes.txt` is not a regular file (a fifo): the harness reads only files"
        );
        assert!(matches!(
            walked(&place.folder, "client_notes.txt"),
            Err(Refused::NotRegular("a fifo"))
        ));
        // A folder is not a file either.
        std::fs::create_dir(place.folder.join("sub")).unwrap();
        let refusal = read_text(&place.folder, "sub").unwrap_err();
        assert!(matches!(refusal.why, Refused::NotRegular("a folder")));
    }
}
