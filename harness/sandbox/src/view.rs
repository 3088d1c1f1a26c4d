//! The harness's side of a program's file system: a sized `tmpfs` for its folders, and
//! which folders of the machine its command line needs to see.
//!
//! A program's working directory, `HOME` and `/tmp` are folders of one `tmpfs` of
//! [`super::DISK_LIMIT`] bytes: a program that fills them gets `ENOSPC`, never the grader's
//! disk. The harness must read what a program wrote there (a downloaded file) after it
//! ended, so the `tmpfs` is mounted where the harness sees it too, but not in the
//! machine's mount namespace: each scenario's thread enters a mount namespace of its own
//! first ([`enter_private_mounts`]), as it enters a network namespace of its own. The
//! programs it starts inherit it; nothing mounted there is seen by the machine, and it is
//! all gone when the scenario's thread and its programs are, even if the harness is killed.

use std::cell::Cell;
use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

thread_local! {
    /// Whether this thread is in a mount namespace of its own, where mounts are private.
    static PRIVATE_MOUNTS: Cell<bool> = const { Cell::new(false) };
}

/// Moves the calling thread into a mount namespace of its own (its own copy of the
/// machine's mounts, none of them propagating back), where sized folders can be mounted
/// for the programs it starts. Threads it spawns later share it.
pub fn enter_private_mounts() -> io::Result<()> {
    // SAFETY: unshare and mount change only this thread's mount namespace (CLONE_NEWNS
    // gives the thread its own file-system context too, as the kernel requires).
    unsafe {
        if libc::unshare(libc::CLONE_NEWNS) != 0 {
            return Err(io::Error::last_os_error());
        }
        if libc::mount(
            std::ptr::null(),
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ) != 0
        {
            return Err(io::Error::last_os_error());
        }
    }
    PRIVATE_MOUNTS.with(|private| private.set(true));
    Ok(())
}

/// Whether the calling thread entered a mount namespace of its own.
pub(crate) fn in_private_mounts() -> bool {
    PRIVATE_MOUNTS.with(Cell::get)
}

/// Whether a scenario's thread can have a mount namespace of its own and a sized `tmpfs`
/// in it: tried on a throwaway thread.
pub(crate) fn probe_private_mounts() -> Result<(), String> {
    std::thread::spawn(|| -> Result<(), String> {
        enter_private_mounts()
            .map_err(|error| format!("cannot make a mount namespace: {error}"))?;
        let folder = tempfile::Builder::new()
            .prefix("harness-probe-")
            .tempdir()
            .map_err(|error| format!("cannot make a folder to try it: {error}"))?;
        mount_sized(folder.path(), 1 << 20)
            .map_err(|error| format!("cannot mount a sized tmpfs: {error}"))?;
        unmount(folder.path());
        Ok(())
    })
    .join()
    .unwrap_or_else(|_| Err("the probe's thread panicked".to_string()))
}

/// Mounts a `tmpfs` of `bytes` on `folder` (in the calling thread's mount namespace).
pub(crate) fn mount_sized(folder: &Path, bytes: u64) -> io::Result<()> {
    let target = CString::new(folder.as_os_str().as_bytes())?;
    let options = CString::new(format!("size={bytes},mode=0755"))?;
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
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Detaches whatever is mounted on `folder`: best effort (from another thread's
/// namespace there is nothing to detach, and the namespace takes it along when it ends).
pub(crate) fn unmount(folder: &Path) {
    if let Ok(target) = CString::new(folder.as_os_str().as_bytes()) {
        // SAFETY: umount2 on our own mount, by path.
        unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) };
    }
}

/// The system's own folders, which every program sees anyway.
const SYSTEM: [&str; 8] = [
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc",
];

/// Folders an interpreter needs that the system's folders do not hold: the installation
/// of `program` (its real path's `prefix`, the folder above `bin`: pyenv's
/// `~/.pyenv/versions/3.11.7`), and of the interpreter its `#!` line names. Programs of
/// the system's own folders need none, and neither does a program a command line names by
/// its path (`./server`, a file of the submission): its `#!` line is the student's, and
/// could name any folder of this machine (another submission's), which the harness would
/// then show it.
pub fn interpreter_folders(program: &Path, named_by_path: bool) -> Vec<PathBuf> {
    if named_by_path {
        return Vec::new();
    }
    let mut folders = Vec::new();
    let mut add = |path: &Path| {
        let Ok(real) = std::fs::canonicalize(path) else {
            return;
        };
        if SYSTEM.iter().any(|system| real.starts_with(system)) {
            return;
        }
        let Some(folder) = real.parent() else {
            return;
        };
        let installation = match folder.file_name() {
            Some(name) if name == "bin" => folder.parent().unwrap_or(folder),
            _ => folder,
        };
        if installation != Path::new("/") && !folders.iter().any(|known| known == installation) {
            folders.push(installation.to_owned());
        }
    };
    add(program);
    if let Some(interpreter) = shebang_interpreter(program) {
        add(&interpreter);
    }
    folders
}

/// The interpreter a script's `#!` line names (`/usr/bin/env` is itself, which then finds
/// the interpreter on the sandbox's `PATH`, among the system's folders).
fn shebang_interpreter(program: &Path) -> Option<PathBuf> {
    use std::io::Read;
    let mut head = [0u8; 256];
    let read = std::fs::File::open(program).ok()?.read(&mut head).ok()?;
    let line = head[..read].strip_prefix(b"#!")?;
    let line = line.split(|byte| *byte == b'\n').next()?;
    let text = std::str::from_utf8(line).ok()?;
    let interpreter = text.split_whitespace().next()?;
    Some(PathBuf::from(interpreter))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_system_program_needs_no_folder_of_its_own() {
        assert!(interpreter_folders(Path::new("/bin/sh"), false).is_empty());
    }

    #[test]
    fn an_interpreter_installed_in_a_home_brings_its_installation() {
        let home = tempfile::tempdir().unwrap();
        let bin = home.path().join("versions/3.11.7/bin");
        std::fs::create_dir_all(&bin).unwrap();
        let python = bin.join("python3.11");
        std::fs::write(&python, "").unwrap();
        std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::symlink("python3.11", bin.join("python3")).unwrap();
        let installation = std::fs::canonicalize(home.path().join("versions/3.11.7")).unwrap();
        assert_eq!(
            interpreter_folders(&bin.join("python3"), false),
            vec![installation.clone()]
        );

        // A program found on a PATH whose #! line names it brings it too, beside the
        // program's own folder.
        let script = home.path().join("server");
        std::fs::write(&script, format!("#!{} -u\nprint()\n", python.display())).unwrap();
        let folders = interpreter_folders(&script, false);
        assert!(folders.contains(&installation), "{folders:?}");
        // A submission's file brings nothing: its #! line could name any folder.
        assert!(interpreter_folders(&script, true).is_empty());
    }
}
