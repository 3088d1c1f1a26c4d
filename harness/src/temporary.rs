//! The harness's temporary folders, none of which outlives the run that made it.
//!
//! Each is named after the process that made it, `<prefix><pid>-<start>-<namespace>-<random>`:
//! its pid, when it started (clock ticks after boot, `/proc/PID/stat`: a pid the kernel hands
//! out again belongs to a process that started later) and its PID namespace (a pid means
//! nothing in another one). A folder goes
//!
//! - when its [`Folder`] is dropped (the end of a scenario, of a run);
//! - when the process exits, for every folder still there: those a static holds (the test
//!   CA, MariaDB's template data folder, the short-call library's copy) and those of
//!   scenarios under way, so also after Ctrl-C or SIGTERM (the handler of
//!   [`crate::world::real::cleanup`] removes them, then exits) and after a panic that ends
//!   the run (its unwinding ends in the same exit);
//! - for a process killed with SIGKILL, which removes nothing: at the next run's start
//!   ([`clear_orphans`]), once its owner is provably gone.
//!
//! The sandbox's own folders (`harness-sandbox-*`, one per program) are the sandbox crate's
//! to name and remove, but never at the top of the temporary folder: each is made inside
//! one of this module's, so that a run stopped mid-scenario leaves none behind: the run's
//! [`sandboxes`] folder, or for a MariaDB, which holds its data (22 MB), a scenario's
//! `harness-mariadb-` folder.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once, OnceLock};

/// The prefixes of the harness's temporary folders: only folders named so are ever cleared.
pub const PREFIXES: [&str; 11] = [
    "socket-lab-ca-",
    "socket-lab-site-",
    "socket-lab-dir-",
    "harness-mariadb-template-",
    "harness-mariadb-",
    "harness-interposed-",
    "harness-submission-",
    "harness-python-packages-",
    "harness-ssh-remote-",
    "harness-bench-",
    "harness-sandboxes-",
];

/// Every folder of this process not yet removed: what exit and Ctrl-C remove.
static LIVE: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

/// A temporary folder of the harness: removed when dropped, or when the process exits,
/// whichever comes first.
#[derive(Debug)]
pub struct Folder {
    /// `None` once [`Folder::keep_for_the_run`] gave it up.
    dir: Option<tempfile::TempDir>,
}

/// A fresh folder named `prefix` (one of [`PREFIXES`]), this process and a random part, in
/// the system's temporary folder (`TMPDIR`, else `/tmp`), with the mode the umask leaves
/// (0755 under the usual 022).
pub fn folder(prefix: &'static str) -> io::Result<Folder> {
    make(prefix, None)
}

/// [`folder`], which no other user may enter (mode 0700).
pub fn private_folder(prefix: &'static str) -> io::Result<Folder> {
    use std::os::unix::fs::PermissionsExt;
    make(prefix, Some(std::fs::Permissions::from_mode(0o700)))
}

fn make(prefix: &'static str, mode: Option<std::fs::Permissions>) -> io::Result<Folder> {
    debug_assert!(
        PREFIXES.contains(&prefix),
        "{prefix} is not in PREFIXES: a dead run's folders would never be cleared"
    );
    static AT_EXIT: Once = Once::new();
    AT_EXIT.call_once(|| {
        extern "C" fn at_exit() {
            remove_all();
        }
        // It cannot unwind: remove_all neither panics nor lets an error out.
        harness_machine::process_end::run_at_exit(at_exit);
    });
    let named = match Owner::this_process() {
        Some(owner) => format!("{prefix}{}-", owner.tag()),
        // Without /proc no owner can be proved gone either: the plain prefix.
        None => prefix.to_owned(),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(&named);
    if let Some(mode) = mode {
        builder.permissions(mode);
    }
    failed_on_purpose(prefix)?;
    // Made and listed under one lock: a Ctrl-C between the two would miss it.
    let mut live = lock_live();
    if STOPPING.load(Ordering::Acquire) {
        return Err(io::Error::other(
            "the harness is stopping: no new temporary folder",
        ));
    }
    let dir = builder.tempdir()?;
    live.insert(dir.path().to_owned());
    Ok(Folder { dir: Some(dir) })
}

/// The folder every program's sandbox of this run is made in (`harness-sandboxes-`), made
/// at its first use and kept for the run: a sandbox's own folder goes when its program's
/// scenario ends, and what a run stopped mid-scenario leaves goes with this one (at the
/// exit, on Ctrl-C or SIGTERM, or at the next run's start after a SIGKILL).
///
/// Its mode is 0711 whatever the umask: where a program sees this machine's paths (no
/// view: a platform's container), its own user passes through to its own folder, and lists
/// nothing, so finds no other program's.
pub fn sandboxes() -> io::Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    static SANDBOXES: Mutex<Option<Folder>> = Mutex::new(None);
    let mut made = SANDBOXES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(folder) = made.as_ref() {
        return Ok(folder.path().to_owned());
    }
    // Made closed, then opened to passing only: never listable, whatever the umask.
    let folder = make(
        "harness-sandboxes-",
        Some(std::fs::Permissions::from_mode(0o700)),
    )?;
    std::fs::set_permissions(folder.path(), std::fs::Permissions::from_mode(0o711))?;
    let path = folder.path().to_owned();
    *made = Some(folder);
    Ok(path)
}

/// The variable that makes some of the harness's own set-up steps fail, for the tests that
/// prove such a failure is reported as the harness's and never as the program's (issue 50
/// §1): a comma-separated list of steps, each a temporary folder's prefix
/// (`socket-lab-site-`), `output-capture` (the unnamed files a program's output is kept
/// in), `dns` (the scenario's DNS binding its port), `ftp-data` (the
/// FTP peer opening a passive data port) or `mariadb-account` (MariaDB making a declared
/// login's account).
pub const FAIL_ON_PURPOSE_VARIABLE: &str = "HARNESS_TEST_FAIL_SETUP";

/// The error set-up step `step` fails with when [`FAIL_ON_PURPOSE_VARIABLE`] names it, as
/// a real failure of that step would (a full `/tmp`, a port taken).
pub fn failed_on_purpose(step: &str) -> io::Result<()> {
    let Some(steps) = std::env::var_os(FAIL_ON_PURPOSE_VARIABLE) else {
        return Ok(());
    };
    if steps
        .to_string_lossy()
        .split(',')
        .any(|named| named.trim() == step)
    {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("{step} failed on purpose ({FAIL_ON_PURPOSE_VARIABLE})"),
        ));
    }
    Ok(())
}

/// Set once the folders are being removed for good (Ctrl-C, SIGTERM, exit): no new one
/// is made after.
static STOPPING: AtomicBool = AtomicBool::new(false);

impl Folder {
    /// Where it is.
    pub fn path(&self) -> &Path {
        self.dir
            .as_ref()
            .expect("a kept folder is no longer a Folder")
            .path()
    }

    /// Its path, the folder kept until the process exits (for a static's use).
    pub fn keep_for_the_run(mut self) -> PathBuf {
        let dir = self.dir.take().expect("kept once");
        // Still in LIVE: the exit removes it.
        dir.keep()
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            let path = dir.path().to_owned();
            drop(dir);
            lock_live().remove(&path);
        }
    }
}

fn lock_live() -> std::sync::MutexGuard<'static, BTreeSet<PathBuf>> {
    LIVE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Removes every folder of this process still there: at exit, and on Ctrl-C or SIGTERM.
///
/// The folders stay listed: a thread still writing into one may make its removal fail
/// (a file made between the listing and the `rmdir`), and the exit's own pass, after the
/// signal's, tries again.
pub fn remove_all() {
    STOPPING.store(true, Ordering::Release);
    let folders = lock_live().clone();
    for folder in folders {
        let _ = std::fs::remove_dir_all(folder);
    }
}

/// A process, as a folder's name records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    /// Its pid.
    pub pid: u32,
    /// When it started, in clock ticks after boot.
    pub start: u64,
    /// Its PID namespace (the inode `/proc/PID/ns/pid` names).
    pub namespace: u64,
}

impl Owner {
    /// The process `pid` now, if `/proc` tells.
    pub fn of(pid: u32) -> Option<Owner> {
        let (start, _) = started(pid).ok()??;
        let link = std::fs::read_link(format!("/proc/{pid}/ns/pid")).ok()?;
        let namespace = link
            .to_str()?
            .strip_prefix("pid:[")?
            .strip_suffix(']')?
            .parse()
            .ok()?;
        Some(Owner {
            pid,
            start,
            namespace,
        })
    }

    /// This process.
    pub fn this_process() -> Option<Owner> {
        static THIS: OnceLock<Option<Owner>> = OnceLock::new();
        *THIS.get_or_init(|| Owner::of(std::process::id()))
    }

    /// How a folder's name records it: `<pid>-<start>-<namespace>`.
    pub fn tag(&self) -> String {
        format!("{}-{}-{}", self.pid, self.start, self.namespace)
    }

    /// The owner a folder's name records after its prefix (`<tag>-<random>`).
    fn from_name(rest: &str) -> Option<Owner> {
        let mut parts = rest.splitn(4, '-');
        let owner = Owner {
            pid: parts.next()?.parse().ok()?,
            start: parts.next()?.parse().ok()?,
            namespace: parts.next()?.parse().ok()?,
        };
        parts.next().filter(|random| !random.is_empty())?;
        Some(owner)
    }

    /// Whether it has provably ended: its pid is free, belongs to a process started at
    /// another moment, or to one that has ended and waits to be reaped. `false` when `/proc`
    /// cannot say (another user's process under `hidepid`).
    fn is_gone(&self) -> bool {
        match started(self.pid) {
            Ok(None) => true,
            Ok(Some((start, state))) => start != self.start || matches!(state, 'Z' | 'X'),
            Err(_) => false,
        }
    }
}

/// When `pid` started and its state (`/proc/PID/stat`), `None` if there is no such process.
fn started(pid: u32) -> io::Result<Option<(u64, char)>> {
    let stat = match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error),
    };
    // After the command's name, which is in parentheses and may hold spaces and ')': the
    // state (field 3), then the start time is field 22.
    let unreadable = || io::Error::other(format!("/proc/{pid}/stat is not as expected"));
    let after_name = &stat[stat.rfind(')').ok_or_else(unreadable)? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let state = fields
        .first()
        .and_then(|state| state.chars().next())
        .ok_or_else(unreadable)?;
    let start = fields
        .get(19)
        .and_then(|start| start.parse().ok())
        .ok_or_else(unreadable)?;
    Ok(Some((start, state)))
}

/// Removes, from the system's temporary folder, the folders a dead harness left (killed
/// with SIGKILL, or by a power cut): returns them. Called once as a run starts.
pub fn clear_orphans() -> Vec<PathBuf> {
    clear_orphans_in(&std::env::temp_dir())
}

/// [`clear_orphans`] in `dir`. Only what is provably a dead harness's own goes: a name of
/// [`PREFIXES`] recording an owner of this PID namespace that is gone, a folder (never a
/// link, never followed) of this user. Another live harness's folders, a folder of another
/// namespace or from before folders were named after their owner, stay.
pub fn clear_orphans_in(dir: &Path) -> Vec<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let Some(this) = Owner::this_process() else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let user = rustix::process::geteuid().as_raw();
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        let Some(owner) = PREFIXES
            .iter()
            .filter_map(|prefix| name.strip_prefix(prefix))
            .find_map(Owner::from_name)
        else {
            continue;
        };
        if owner.namespace != this.namespace || owner == this || !owner.is_gone() {
            continue;
        }
        let path = entry.path();
        let Ok(metadata) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if !metadata.file_type().is_dir() || metadata.uid() != user {
            continue;
        }
        // remove_dir_all follows no link, at the top or below.
        if std::fs::remove_dir_all(&path).is_ok() {
            removed.push(path);
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_is_named_after_this_process_and_goes_when_dropped() {
        let folder = folder("harness-bench-").unwrap();
        let path = folder.path().to_owned();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let rest = name.strip_prefix("harness-bench-").unwrap();
        assert_eq!(Owner::from_name(rest), Owner::this_process(), "{name}");
        assert!(lock_live().contains(&path));
        drop(folder);
        assert!(!path.exists());
        assert!(!lock_live().contains(&path));
    }

    #[test]
    fn a_kept_folder_stays_until_removed_with_the_others() {
        let path = folder("harness-bench-").unwrap().keep_for_the_run();
        assert!(path.is_dir());
        assert!(lock_live().contains(&path));
        // What exit does (here for this folder alone: other tests' folders are in use).
        lock_live().remove(&path);
        std::fs::remove_dir_all(&path).unwrap();
    }

    #[test]
    fn this_process_is_alive_and_a_reused_pid_is_not_its_owner() {
        let this = Owner::this_process().unwrap();
        assert!(!this.is_gone());
        let earlier = Owner {
            start: this.start.wrapping_sub(1),
            ..this
        };
        assert!(earlier.is_gone());
    }

    #[test]
    fn a_name_without_a_whole_owner_records_none() {
        for rest in [
            "",
            "12",
            "12-34",
            "12-34-56",
            "12-34-56-",
            "x-34-56-abc",
            "template-1-2-3-a",
        ] {
            assert_eq!(Owner::from_name(rest), None, "{rest}");
        }
        assert_eq!(
            Owner::from_name("12-34-56-aBc123"),
            Some(Owner {
                pid: 12,
                start: 34,
                namespace: 56
            })
        );
    }
}
