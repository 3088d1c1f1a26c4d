//! A version manager's shim resolved to the interpreter it would run.
//!
//! pyenv (and rbenv, which pyenv copies) puts a shell script first on the user's `PATH`
//! for every program of every version it installed: `~/.pyenv/shims/python2` is
//!
//! ```sh
//! export PYENV_ROOT="/root/.pyenv"
//! exec "/root/.pyenv/libexec/pyenv" exec "$program" "$@"
//! ```
//!
//! which picks the interpreter on each start from the user's environment and files
//! (`PYENV_VERSION`, a `.python-version` in the folder or above, `$PYENV_ROOT/version`).
//! In the sandbox's clean environment, in a folder of its own, that choice fails or
//! differs, so the harness makes it before the program starts: it asks the manager
//! (`pyenv which python2`, in the submission's folder), and where the manager's own
//! choice has no such program (the global version is 3.11, the shim is there for 2.7),
//! takes the newest installed version that has it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long the manager may take to answer (`pyenv which` takes about 50 ms).
const MANAGER_PATIENCE: Duration = Duration::from_secs(10);

/// The interpreter behind `shim`, when it is a version manager's shim for `program`;
/// `folder` is where the manager looks for a version file.
pub(crate) fn real_program(shim: &Path, program: &str, folder: &Path) -> Option<PathBuf> {
    let script = read_start(shim)?;
    let (manager, root) = parse_shim(&script)?;
    ask_manager(&manager, program, folder).or_else(|| newest_installed(&root, program))
}

/// The first 4 KiB of `path`, if it is a script.
fn read_start(path: &Path) -> Option<String> {
    use std::io::Read;
    let mut start = Vec::with_capacity(4096);
    std::fs::File::open(path)
        .ok()?
        .take(4096)
        .read_to_end(&mut start)
        .ok()?;
    start
        .starts_with(b"#!")
        .then(|| String::from_utf8_lossy(&start).into_owned())
}

/// The manager a shim runs (`exec "MANAGER" exec "$program"`) and its root (`export
/// PYENV_ROOT="ROOT"`).
fn parse_shim(script: &str) -> Option<(PathBuf, PathBuf)> {
    let quoted = |line: &str, after: &str| -> Option<String> {
        let rest = line.trim().strip_prefix(after)?;
        let rest = rest.strip_prefix('"')?;
        Some(rest[..rest.find('"')?].to_owned())
    };
    let mut manager = None;
    let mut root = None;
    for line in script.lines() {
        if let Some(path) = quoted(line, "exec ")
            && line.contains("\" exec \"$program\"")
        {
            manager = Some(PathBuf::from(path));
        }
        if let Some(assignment) = line.trim().strip_prefix("export ")
            && let Some((name, _)) = assignment.split_once('=')
            && name.ends_with("_ROOT")
        {
            root = quoted(assignment, &format!("{name}=")).map(PathBuf::from);
        }
    }
    Some((manager?, root?))
}

/// `MANAGER which PROGRAM` in `folder`, with the harness's own environment, bounded.
fn ask_manager(manager: &Path, program: &str, folder: &Path) -> Option<PathBuf> {
    let mut child = Command::new(manager)
        .arg("which")
        .arg(program)
        .current_dir(folder)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let deadline = Instant::now() + MANAGER_PATIENCE;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => break,
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
    let mut answer = String::new();
    use std::io::Read;
    child.stdout.take()?.read_to_string(&mut answer).ok()?;
    let path = PathBuf::from(answer.trim());
    runnable(&path).then_some(path)
}

/// `ROOT/versions/*/bin/PROGRAM` of the newest version that has it (versions compared
/// number by number: 3.10 after 3.9).
fn newest_installed(root: &Path, program: &str) -> Option<PathBuf> {
    let version_key = |name: &str| -> Vec<u64> {
        name.split(|c: char| !c.is_ascii_digit())
            .filter_map(|part| part.parse().ok())
            .collect()
    };
    std::fs::read_dir(root.join("versions"))
        .ok()?
        .filter_map(|entry| entry.ok())
        .map(|entry| {
            (
                entry.file_name().to_string_lossy().into_owned(),
                entry.path(),
            )
        })
        .map(|(name, path)| (version_key(&name), path.join("bin").join(program)))
        .filter(|(_, path)| runnable(path))
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, path)| path)
}

/// Whether `path` is a file anyone may execute.
pub(super) fn runnable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn executable(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// A pyenv of its own in a temporary folder: a shim for `python2`, a manager that
    /// answers `which` as `answer` says, and versions 2.7.18 and 2.7.9 with `python2`.
    fn pyenv(answer: &str) -> (tempfile::TempDir, PathBuf) {
        let root = tempfile::tempdir().unwrap();
        let manager = root.path().join("libexec/pyenv");
        let shim = root.path().join("shims/python2");
        executable(
            &shim,
            &format!(
                "#!/usr/bin/env bash\nset -e\nprogram=\"${{0##*/}}\"\n\nexport PYENV_ROOT=\"{}\"\nexec \"{}\" exec \"$program\" \"$@\"\n",
                root.path().display(),
                manager.display()
            ),
        );
        executable(&manager, &format!("#!/bin/sh\n{answer}\n"));
        for version in ["2.7.9", "2.7.18"] {
            executable(
                &root.path().join(format!("versions/{version}/bin/python2")),
                "#!/bin/sh\n",
            );
        }
        (root, shim)
    }

    #[test]
    fn the_managers_own_choice_comes_first() {
        let (root, shim) = pyenv("");
        let chosen = root.path().join("versions/2.7.9/bin/python2");
        std::fs::write(
            root.path().join("libexec/pyenv"),
            format!(
                "#!/bin/sh\n[ \"$1\" = which ] && echo {}\n",
                chosen.display()
            ),
        )
        .unwrap();
        assert_eq!(real_program(&shim, "python2", root.path()), Some(chosen));
    }

    #[test]
    fn where_the_manager_has_none_the_newest_installed_version_is_taken() {
        let (root, shim) = pyenv("echo 'pyenv: python2: command not found' >&2; exit 127");
        assert_eq!(
            real_program(&shim, "python2", root.path()),
            Some(root.path().join("versions/2.7.18/bin/python2"))
        );
    }

    #[test]
    fn a_script_that_is_no_shim_is_left_alone() {
        let folder = tempfile::tempdir().unwrap();
        let script = folder.path().join("python2");
        executable(&script, "#!/bin/sh\nexec /usr/bin/python3 \"$@\"\n");
        assert_eq!(real_program(&script, "python2", folder.path()), None);
    }
}
