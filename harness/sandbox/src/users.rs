//! Who a program runs as when the harness is root: a user of its own.
//!
//! Root gives a program nothing: `sandbox-init` becomes this user before it runs the
//! program (`--user`), so the program holds no capability and owns none of the machine's
//! files. Each program gets another user id (as isolate gives each box one): two programs
//! graded at once cannot signal each other, nor write what the other wrote, even where a
//! layer that would keep them apart is missing. Only programs that share a folder they
//! may write (a submission's working folder, a scenario's web site) share a user
//! ([`for_folder`]).
//!
//! The ids are far above any a system hands out (`useradd` stops at 60000, `subuid`
//! ranges start at 100000 and are 65536 wide), and are named in the program's view of
//! `/etc/passwd` and `/etc/group` ([`account_files`]), so that `whoami`, Python's
//! `getpass.getuser()` and Java's `user.home` find a name and the program's `HOME`.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// The first id, and how many there are.
const FIRST: u32 = 2_100_000_000;
const COUNT: u32 = 1 << 24;

/// The name the view gives the program's user and group.
pub(crate) const NAME: &str = "sandbox";

/// Whether `uid` is one of the users programs run as: nothing of the harness's is theirs.
pub fn is_a_programs(uid: u32) -> bool {
    (FIRST..FIRST + COUNT).contains(&uid)
}

/// The next program's user and group ids (the same number): unique within this harness
/// process, and most likely across harness processes running at once: each starts at a
/// random place among 16 million, so two harnesses that grade a thousand programs each
/// share a user about once in eight thousand runs side by side. (A user's processes are
/// ended when its last program ends, where no PID namespace does it: the start must not
/// follow the process id, whose values repeat every few thousand processes.)
pub(crate) fn next() -> (u32, u32) {
    static START: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let start = *START.get_or_init(|| {
        let mut bytes = [0u8; 4];
        // SAFETY: getrandom fills our four bytes.
        let filled = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
        if filled == 4 {
            u32::from_ne_bytes(bytes)
        } else {
            std::process::id().wrapping_mul(2_654_435_761)
        }
    });
    let id = FIRST + start.wrapping_add(NEXT.fetch_add(1, Ordering::Relaxed)) % COUNT;
    (id, id)
}

/// The user of the programs that may write `folder` (a working folder in a submission's
/// private copy, the test web site): the same for all of them, so that what one writes
/// there another can change (a server's `starts` file, which its next start appends to),
/// and another for every other folder.
pub(crate) fn for_folder(folder: &Path) -> (u32, u32) {
    static USERS: std::sync::Mutex<Vec<(PathBuf, (u32, u32))>> = std::sync::Mutex::new(Vec::new());
    let mut users = USERS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, user)) = users.iter().find(|(known, _)| known == folder) {
        return *user;
    }
    let user = next();
    users.push((folder.to_owned(), user));
    user
}

/// How many live enclosures run programs as each user: its processes are ended when the
/// last lets go ([`let_go`]), not before (programs sharing a folder share a user).
static HOLDERS: std::sync::Mutex<Vec<(u32, usize)>> = std::sync::Mutex::new(Vec::new());

/// Every user a program ran as whose processes have not been ended yet ([`ended`]):
/// what [`crate::end_every_program`] ends when the harness stops.
static NOT_ENDED: std::sync::Mutex<Vec<u32>> = std::sync::Mutex::new(Vec::new());

/// The users a program ran as whose processes have not been ended yet, forgotten now.
pub(crate) fn take_not_ended() -> Vec<u32> {
    std::mem::take(
        &mut *NOT_ENDED
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()),
    )
}

/// Every process of `uid` has been ended.
pub(crate) fn ended(uid: u32) {
    NOT_ENDED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .retain(|known| *known != uid);
}

/// One more enclosure runs its program as `uid`.
pub(crate) fn hold(uid: u32) {
    {
        let mut not_ended = NOT_ENDED
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !not_ended.contains(&uid) {
            not_ended.push(uid);
        }
    }
    let mut holders = HOLDERS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    match holders.iter_mut().find(|(held, _)| *held == uid) {
        Some((_, count)) => *count += 1,
        None => holders.push((uid, 1)),
    }
}

/// One enclosure less runs its program as `uid`: whether it was the last.
pub(crate) fn let_go(uid: u32) -> bool {
    let mut holders = HOLDERS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let Some(index) = holders.iter().position(|(held, _)| *held == uid) else {
        return true;
    };
    holders[index].1 -= 1;
    if holders[index].1 > 0 {
        return false;
    }
    holders.swap_remove(index);
    true
}

/// Writes `passwd` and `group` into `folder`: the machine's, with the program's user
/// added (home `home`); returns what the view puts over `/etc` (path in the view, file).
pub(crate) fn account_files(
    folder: &Path,
    (uid, gid): (u32, u32),
    home: &Path,
) -> io::Result<Vec<(PathBuf, PathBuf)>> {
    let mut replaced = Vec::new();
    let entries = [
        (
            "passwd",
            format!(
                "{NAME}:x:{uid}:{gid}:program under test:{}:/bin/sh\n",
                home.display()
            ),
        ),
        ("group", format!("{NAME}:x:{gid}:\n")),
    ];
    for (file, entry) in entries {
        let machine = Path::new("/etc").join(file);
        let mut text = std::fs::read_to_string(&machine).unwrap_or_default();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&entry);
        let written = folder.join(file);
        std::fs::write(&written, text)?;
        replaced.push((machine, written));
    }
    Ok(replaced)
}

/// Gives `dir` and everything below it to `user` (links themselves, never what they
/// point at).
pub(crate) fn hand_over(dir: &Path, (uid, gid): (u32, u32)) -> io::Result<()> {
    for entry in walk(dir)? {
        std::os::unix::fs::lchown(&entry, Some(uid), Some(gid))?;
    }
    Ok(())
}

/// Lets every user read and write `dir` and everything below it (folders searchable;
/// links untouched): a folder two programs of a scenario share, each as a user of its
/// own (the test web site, a working folder in the submission's private copy). Only
/// their views show it.
pub fn open_to_all(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    // A folder a scenario names but does not make (a folder that must be missing).
    if std::fs::symlink_metadata(dir).is_err() {
        return Ok(());
    }
    for entry in walk(dir)? {
        let meta = std::fs::symlink_metadata(&entry)?;
        if meta.file_type().is_symlink() {
            continue;
        }
        let mode = meta.permissions().mode();
        let wanted = if meta.is_dir() {
            mode | 0o777
        } else {
            // Read and write for all; execute for all where anyone had it.
            mode | 0o666 | if mode & 0o111 != 0 { 0o111 } else { 0 }
        };
        if wanted != mode {
            std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(wanted))?;
        }
    }
    Ok(())
}

/// `dir` and everything below it (no symbolic links followed).
fn walk(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut found = vec![dir.to_owned()];
    let mut index = 0;
    while index < found.len() {
        let path = found[index].clone();
        index += 1;
        if std::fs::symlink_metadata(&path)?.is_dir() {
            for entry in std::fs::read_dir(&path)? {
                found.push(entry?.path());
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_far_from_any_system_users_and_differ() {
        let (first, _) = next();
        let (second, _) = next();
        assert!(first >= FIRST && second >= FIRST);
        assert_ne!(first, second);
    }

    #[test]
    fn a_user_is_let_go_by_its_last_holder_only() {
        let (uid, _) = next();
        hold(uid);
        hold(uid);
        assert!(!let_go(uid));
        assert!(let_go(uid));
    }

    #[test]
    fn programs_sharing_a_folder_share_a_user() {
        let one = for_folder(Path::new("/tmp/socket-lab-test-shared-one"));
        assert_eq!(
            one,
            for_folder(Path::new("/tmp/socket-lab-test-shared-one"))
        );
        assert_ne!(
            one,
            for_folder(Path::new("/tmp/socket-lab-test-shared-two"))
        );
    }

    #[test]
    fn the_account_files_name_the_program_user() {
        let folder = tempfile::tempdir().unwrap();
        let replaced = account_files(
            folder.path(),
            (2_100_000_007, 2_100_000_007),
            Path::new("/h"),
        )
        .unwrap();
        let passwd = std::fs::read_to_string(&replaced[0].1).unwrap();
        assert!(
            passwd.ends_with("sandbox:x:2100000007:2100000007:program under test:/h:/bin/sh\n"),
            "{passwd}"
        );
        assert_eq!(replaced[0].0, Path::new("/etc/passwd"));
        assert_eq!(replaced[1].0, Path::new("/etc/group"));
    }

    #[test]
    fn a_shared_folder_opens_to_all_without_following_links() {
        use std::os::unix::fs::PermissionsExt;
        let folder = tempfile::tempdir().unwrap();
        let outside = tempfile::NamedTempFile::new().unwrap();
        std::fs::set_permissions(outside.path(), std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::write(folder.path().join("run.sh"), "").unwrap();
        std::fs::set_permissions(
            folder.path().join("run.sh"),
            std::fs::Permissions::from_mode(0o700),
        )
        .unwrap();
        std::os::unix::fs::symlink(outside.path(), folder.path().join("link")).unwrap();
        open_to_all(folder.path()).unwrap();
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode(folder.path()), 0o777);
        assert_eq!(mode(&folder.path().join("run.sh")), 0o777);
        assert_eq!(mode(outside.path()), 0o600);
    }
}
