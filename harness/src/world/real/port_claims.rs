//! Claims on blocks of ports that every harness of this machine sees.
//!
//! Where scenarios share the machine's loopback, each takes its ports from a block
//! (`ports::PortBlock`) that no other scenario of the machine holds, in this harness or in
//! another grading beside it (as root or as another user). A block is claimed by an
//! exclusive `flock` on a file of its own, `/tmp/socket-lab-harness-port-block-FIRST.lock`:
//! the kernel gives the lock to one open file at a time, and takes it back when its holder
//! closes it or ends, killed or not. Harnesses see each other's claims where they share
//! `/tmp` as well as the loopback (two containers that share a network but not a `/tmp`
//! would not).
//!
//! No walled program can open, make or remove these files, so none can take a block or
//! free one another scenario holds: Landlock lets a program read only the system's folders
//! and its own and write only its own, and with a view its `/tmp` is its own. (The claims
//! were names of the abstract unix socket namespace before, which Landlock's scope guards
//! against `connect` but not `bind`: where the warden does not make a program's unix
//! sockets, a program could bind every name and leave every other scenario of the machine
//! without ports.) Where neither wall stands (the header says so), a file one of the
//! programs' users made is no harness's: a root harness removes it and makes its own.
//!
//! The holder removes its file when it lets the block go, so that nothing is left in `/tmp`
//! (a file a killed harness left, or one its holder may not remove, another user's in the
//! sticky `/tmp`, is simply taken again). Because a file may be removed between another
//! harness's `open` and its `flock`, a claim holds only if the path still names the file it
//! locked; else it tries again.

use std::fs::{File, OpenOptions, Permissions};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The folder every harness of the machine finds the claims in (not `TMPDIR`, which differs
/// between harnesses).
const FOLDER: &str = "/tmp";

/// How often a claim tries again when the file it locked was removed meanwhile.
const ATTEMPTS: usize = 8;

/// The file that claims the block starting at `first`, in `folder`.
fn claim_path(folder: &Path, first: u16) -> PathBuf {
    folder.join(format!("socket-lab-harness-port-block-{first}.lock"))
}

/// The block starting at `first`, held while this lives.
#[derive(Debug)]
pub struct Claim {
    file: File,
    path: PathBuf,
}

/// Claims the block starting at `first`: `None` if another holder has it. An error (the file
/// cannot be opened or made, or is not a regular file) leaves the block to be passed by.
pub fn claim(first: u16) -> std::io::Result<Option<Claim>> {
    claim_in(Path::new(FOLDER), first)
}

/// Whether another holder has the block starting at `first`.
pub fn is_claimed(first: u16) -> bool {
    is_claimed_in(Path::new(FOLDER), first)
}

/// [`claim`], with the claims in `folder`.
fn claim_in(folder: &Path, first: u16) -> std::io::Result<Option<Claim>> {
    let path = claim_path(folder, first);
    for _ in 0..ATTEMPTS {
        let file = open(&path, true)?;
        let metadata = file.metadata().map_err(|error| with_path(error, &path))?;
        if sandbox::is_a_programs(metadata.uid()) {
            // Made by a program no wall kept out of `/tmp`: it may hold it, or remove it
            // under its holder. Removed (a root harness may, in the sticky `/tmp`; another
            // is refused, and passes the block by) and made again.
            if names_file(&path, &file) {
                std::fs::remove_file(&path).map_err(|error| with_path(error, &path))?;
            }
            continue;
        }
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
            Err(std::fs::TryLockError::Error(error)) => return Err(with_path(error, &path)),
        }
        if !names_file(&path, &file) {
            // Its last holder removed it between our open and our lock: a new one may stand.
            continue;
        }
        if metadata.permissions().mode() & 0o777 != 0o644 {
            // Left by a harness killed before it opened it to all: other users' harnesses
            // could not look at the claim (where this is ours to change).
            let _ = file.set_permissions(Permissions::from_mode(0o644));
        }
        return Ok(Some(Claim { file, path }));
    }
    Err(std::io::Error::other(format!(
        "{}: removed and made again {ATTEMPTS} times while it was claimed",
        path.display()
    )))
}

/// [`is_claimed`], with the claims in `folder`: its file exists and is locked, or cannot be
/// looked at (a file this harness cannot open may be a claim all the same). Trying the lock
/// holds it for a moment: a harness claiming the block at that moment passes it by.
fn is_claimed_in(folder: &Path, first: u16) -> bool {
    match open(&claim_path(folder, first), false) {
        Err(error) => error.kind() != std::io::ErrorKind::NotFound,
        Ok(file) => matches!(
            file.try_lock_shared(),
            Err(std::fs::TryLockError::WouldBlock)
        ),
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        // Removed while still locked, and only if it is still the file locked, so that the
        // next claim makes a fresh one (see the module's comment); then the lock goes with
        // the file's closing.
        if names_file(&self.path, &self.file) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Opens the claim file read-only (a lock needs no more, and another user's file is
/// readable), never through a link and never waiting (a FIFO put in its place); `create`
/// makes it, readable by every user, where it is missing.
fn open(path: &Path, create: bool) -> std::io::Result<File> {
    let flags = libc::O_NOFOLLOW | libc::O_NONBLOCK;
    let existing = OpenOptions::new().read(true).custom_flags(flags).open(path);
    let file = match existing {
        Err(error) if create && error.kind() == std::io::ErrorKind::NotFound => {
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o644)
                .custom_flags(flags)
                .open(path)
            {
                Ok(file) => {
                    // Whatever this process's umask: harnesses of other users lock it too.
                    file.set_permissions(Permissions::from_mode(0o644))
                        .map_err(|error| with_path(error, path))?;
                    file
                }
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                    OpenOptions::new()
                        .read(true)
                        .custom_flags(flags)
                        .open(path)
                        .map_err(|error| with_path(error, path))?
                }
                Err(error) => return Err(with_path(error, path)),
            }
        }
        other => other.map_err(|error| with_path(error, path))?,
    };
    let metadata = file.metadata().map_err(|error| with_path(error, path))?;
    if !metadata.file_type().is_file() {
        return Err(std::io::Error::other(format!(
            "{}: not a regular file",
            path.display()
        )));
    }
    Ok(file)
}

/// Whether `path` still names `file` (not removed, nor replaced by another).
fn names_file(path: &Path, file: &File) -> bool {
    match (std::fs::symlink_metadata(path), file.metadata()) {
        (Ok(named), Ok(open)) => named.dev() == open.dev() && named.ino() == open.ino(),
        _ => false,
    }
}

fn with_path(error: std::io::Error, path: &Path) -> std::io::Error {
    std::io::Error::new(error.kind(), format!("{}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A block number of the claims' range (any: the tests' claims are in a folder of their
    /// own).
    const FIRST: u16 = 20_032;

    #[test]
    fn a_claim_holds_until_dropped_and_leaves_no_file() {
        let folder = tempfile::tempdir().unwrap();
        let held = claim_in(folder.path(), FIRST).unwrap().expect("free");
        assert!(is_claimed_in(folder.path(), FIRST));
        // A second claim of this very process is refused too: locks are per open file.
        assert!(claim_in(folder.path(), FIRST).unwrap().is_none());
        let path = claim_path(folder.path(), FIRST);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644, "every user's harness may look at it");
        drop(held);
        assert!(!path.exists(), "{path:?} left behind");
        assert!(!is_claimed_in(folder.path(), FIRST));
        drop(claim_in(folder.path(), FIRST).unwrap().expect("free again"));
    }

    #[test]
    fn a_file_left_by_a_killed_harness_is_taken_again_and_opened_to_all() {
        let folder = tempfile::tempdir().unwrap();
        let path = claim_path(folder.path(), FIRST);
        // What a harness killed between making the file and setting its mode leaves.
        std::fs::write(&path, "").unwrap();
        std::fs::set_permissions(&path, Permissions::from_mode(0o600)).unwrap();
        assert!(!is_claimed_in(folder.path(), FIRST));
        let held = claim_in(folder.path(), FIRST)
            .unwrap()
            .expect("a stale file claims nothing");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
        drop(held);
        assert!(!path.exists());
    }

    #[test]
    fn a_link_or_a_fifo_in_the_claims_place_is_refused_and_counts_as_claimed() {
        let folder = tempfile::tempdir().unwrap();
        let path = claim_path(folder.path(), FIRST);
        let target = folder.path().join("elsewhere");
        std::fs::write(&target, "").unwrap();
        std::os::unix::fs::symlink(&target, &path).unwrap();
        let refused = claim_in(folder.path(), FIRST).unwrap_err();
        assert!(
            refused.to_string().contains(&path.display().to_string()),
            "{refused}"
        );
        // Never followed; and a port of the block is not handed out meanwhile.
        assert!(is_claimed_in(folder.path(), FIRST));
        std::fs::remove_file(&path).unwrap();
        let fifo = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .unwrap();
        assert!(fifo.success());
        let refused = claim_in(folder.path(), FIRST).unwrap_err();
        assert!(
            refused.to_string().contains("not a regular file"),
            "{refused}"
        );
        assert!(is_claimed_in(folder.path(), FIRST));
    }

    #[test]
    fn a_file_a_programs_user_made_is_replaced_by_a_root_harness() {
        if !rustix::process::geteuid().is_root() {
            // Only root can make a file of a program's user, as only a root harness runs
            // programs as users of their own (CI runs the tests as root).
            return;
        }
        let folder = tempfile::tempdir().unwrap();
        let path = claim_path(folder.path(), FIRST);
        std::fs::write(&path, "").unwrap();
        let program = 2_100_000_123;
        assert!(sandbox::is_a_programs(program));
        std::os::unix::fs::chown(&path, Some(program), Some(program)).unwrap();
        // The program holds its lock: the claim is taken from it all the same.
        let programs = File::open(&path).unwrap();
        programs.try_lock().unwrap();
        let held = claim_in(folder.path(), FIRST)
            .unwrap()
            .expect("a program's file is no claim");
        assert_eq!(std::fs::metadata(&path).unwrap().uid(), 0);
        drop(held);
    }
}
