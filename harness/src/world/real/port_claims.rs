//! Claims on blocks of ports that every harness of this machine sees.
//!
//! Where scenarios share the machine's loopback, each takes its ports from a block
//! (`ports::PortBlock`) that no other scenario of the machine holds, in this harness or in
//! another grading beside it (as root or as another user). A block is claimed by an
//! exclusive `flock` on a file of its own, `/tmp/socket-lab-harness-port-block-FIRST.lock`:
//! the kernel gives the lock to one open file at a time, and takes it back when its holder
//! closes it or ends, killed or not.
//!
//! No program under test can open these files, so none can take a block's lock: Landlock
//! lets a program read only the system's folders and its own, and with a view its `/tmp` is
//! its own. (The claims were names of the abstract unix socket namespace before, which
//! Landlock's scope guards against `connect` but not `bind`: where the warden does not make
//! a program's unix sockets, a program could bind every name and leave every other scenario
//! of the machine without ports.)
//!
//! The holder removes its file when it lets the block go, so that nothing is left in `/tmp`
//! (a file a killed harness left, or one its holder may not remove, another user's in the
//! sticky `/tmp`, is simply taken again). Because a file may be removed between another
//! harness's `open` and its `flock`, a claim holds only if the path still names the file it
//! locked; else it tries again.

use std::fs::{File, OpenOptions, Permissions};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;

/// The folder every harness of the machine finds the claims in (not `TMPDIR`, which differs
/// between harnesses).
const FOLDER: &str = "/tmp";

/// How often a claim tries again when the file it locked was removed meanwhile.
const ATTEMPTS: usize = 8;

/// The file that claims the block starting at `first`.
pub fn claim_path(first: u16) -> PathBuf {
    PathBuf::from(FOLDER).join(format!("socket-lab-harness-port-block-{first}.lock"))
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
    let path = claim_path(first);
    for _ in 0..ATTEMPTS {
        let file = open(&path, true)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
            Err(std::fs::TryLockError::Error(error)) => return Err(with_path(error, &path)),
        }
        if names_file(&path, &file) {
            return Ok(Some(Claim { file, path }));
        }
        // Its last holder removed it between our open and our lock: a new one may stand.
    }
    Err(std::io::Error::other(format!(
        "{}: removed and made again {ATTEMPTS} times while it was claimed",
        path.display()
    )))
}

/// Whether another holder has the block starting at `first` (its file exists and is
/// locked). Trying the lock holds it for a moment: a harness claiming the block at that
/// moment passes it by.
pub fn is_claimed(first: u16) -> bool {
    let Ok(file) = open(&claim_path(first), false) else {
        return false;
    };
    matches!(
        file.try_lock_shared(),
        Err(std::fs::TryLockError::WouldBlock)
    )
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
fn open(path: &std::path::Path, create: bool) -> std::io::Result<File> {
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
fn names_file(path: &std::path::Path, file: &File) -> bool {
    match (std::fs::symlink_metadata(path), file.metadata()) {
        (Ok(named), Ok(open)) => named.dev() == open.dev() && named.ino() == open.ino(),
        _ => false,
    }
}

fn with_path(error: std::io::Error, path: &std::path::Path) -> std::io::Error {
    std::io::Error::new(error.kind(), format!("{}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A block no other test of this process uses (the ports module's tests take blocks by
    /// reserving; these take a number above the blocks' range).
    const FIRST: u16 = 40_000;

    #[test]
    fn a_claim_holds_until_dropped_and_leaves_no_file() {
        let first = FIRST + std::process::id() as u16 % 1000;
        let Some(held) = claim(first).unwrap() else {
            panic!("another harness holds test block {first}");
        };
        assert!(is_claimed(first));
        // A second claim of this very process is refused too: locks are per open file.
        assert!(claim(first).unwrap().is_none());
        let path = claim_path(first);
        assert!(path.is_file());
        drop(held);
        assert!(!path.exists(), "{path:?} left behind");
        assert!(!is_claimed(first));
        drop(claim(first).unwrap().expect("free again"));
    }

    #[test]
    fn a_file_left_by_a_killed_harness_is_taken_again() {
        let first = FIRST + 1000 + std::process::id() as u16 % 1000;
        let path = claim_path(first);
        // What a harness killed while holding the claim leaves: the file, no lock.
        drop(open(&path, true).unwrap());
        assert!(!is_claimed(first));
        let held = claim(first).unwrap().expect("a stale file claims nothing");
        assert!(is_claimed(first));
        drop(held);
        assert!(!path.exists());
    }

    #[test]
    fn a_link_or_a_fifo_in_the_claims_place_is_refused_without_following_or_waiting() {
        let first = FIRST + 2000 + std::process::id() as u16 % 1000;
        let path = claim_path(first);
        let target = tempfile::NamedTempFile::new().unwrap();
        std::os::unix::fs::symlink(target.path(), &path).unwrap();
        let refused = claim(first).unwrap_err();
        assert!(
            refused.to_string().contains(&path.display().to_string()),
            "{refused}"
        );
        assert!(!is_claimed(first));
        std::fs::remove_file(&path).unwrap();
        let fifo = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .unwrap();
        assert!(fifo.success());
        let refused = claim(first).unwrap_err();
        assert!(
            refused.to_string().contains("not a regular file"),
            "{refused}"
        );
        std::fs::remove_file(&path).unwrap();
    }
}
