//! The sandbox's companions: small programs of this workspace that run beside the programs
//! under test, built on demand with cargo like the reference.
//!
//! - `sandbox-init` (this crate's binary): every program under test starts from it.
//! - `short-calls` (`libshort_calls.so`, `harness/short-calls`): loaded into a program with
//!   `LD_PRELOAD`, it cuts its own socket calls short (the harness's `faults::short_calls`
//!   says when).
//!
//! Each is found, in order: at the path an environment variable names; beside the
//! harness's own executable where that is an installed or packaged kit (`kit/bin/` of a
//! `harness package`), which never runs cargo; beside the harness in cargo's output folder
//! when cargo's own record of its sources (`NAME.d`) shows none newer than it; built with
//! cargo from the workspace that holds its source (the harness's own, or the kit's), so
//! that in a clone it is never older than its source; else beside the harness in cargo's
//! output folder. The answer, success or failure, is kept for the rest of the run.
//!
//! The look at `NAME.d` spares every run a `cargo build` that has nothing to do: cargo
//! loads the whole workspace to say so, a second of a one-scenario grading's 1.7 (and of
//! every harness a test suite starts).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// One companion.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Companion {
    /// Its package in the workspace.
    pub(crate) package: &'static str,
    /// Where its source is, from the workspace's root.
    pub(crate) source: &'static str,
    /// The file cargo makes (`libshort_calls.so`, `sandbox-init`).
    pub(crate) file_name: &'static str,
    /// `--lib` or `--bin=NAME`: what to build of the package.
    pub(crate) build_what: &'static str,
    /// The environment variable that names a built one.
    pub(crate) variable: &'static str,
}

/// The workspace this crate was built in (`harness/sandbox` is two folders below its root).
pub(crate) fn own_workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Finds or builds `companion`; `Err` says why neither worked.
pub(crate) fn locate(companion: &Companion, kit_root: &Path) -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(companion.variable) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "{} names {}, which is not a file",
                companion.variable,
                path.display()
            ))
        };
    }
    if let Some(path) = installed_beside_the_harness(companion) {
        return Ok(path);
    }
    let own = own_workspace();
    let workspace = [own.as_path(), kit_root]
        .into_iter()
        .find(|dir| dir.join(companion.source).join("Cargo.toml").is_file());
    if let Some(path) = workspace.and_then(|workspace| built_and_fresh(companion, workspace)) {
        return Ok(path);
    }
    let built = match workspace {
        Some(workspace) => build(companion, workspace),
        None => Err(format!("cannot find its source ({})", companion.source)),
    };
    built.or_else(|error| {
        beside_the_harness(companion).ok_or_else(|| {
            format!(
                "{} is not available: {error}; build it (cargo build -p {}) and set {} to it",
                companion.package, companion.package, companion.variable
            )
        })
    })
}

/// `bin/NAME` next to `bin/harness` where that folder is not cargo's output (which holds
/// a `CACHEDIR.TAG` at its top): a kit installed or packaged with its companions, whose
/// harness must not build anything, nor take a companion older than its source for one.
fn installed_beside_the_harness(companion: &Companion) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let folder = exe.parent()?;
    let in_cargo_output = folder
        .ancestors()
        .take(4)
        .any(|dir| dir.join("CACHEDIR.TAG").is_file());
    let path = folder.join(companion.file_name);
    (!in_cargo_output && path.is_file()).then_some(path)
}

/// `target/debug/NAME` next to `target/debug/harness` (or to a test's `deps/` folder).
fn beside_the_harness(companion: &Companion) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    exe.ancestors()
        .skip(1)
        .take(2)
        .map(|dir| dir.join(companion.file_name))
        .find(|path| path.is_file())
}

/// The companion cargo already built beside the harness, when nothing it was built from
/// is newer: the sources cargo's dependency file (`NAME.d`, written with the file) lists,
/// its package's and the workspace's manifests and the workspace's lock file. What that
/// misses (a change of `RUSTFLAGS`, of a dependency outside the workspace without a change
/// of the lock file) cargo's own look would catch; `cargo build -p PACKAGE` brings it up
/// to date.
fn built_and_fresh(companion: &Companion, workspace: &Path) -> Option<PathBuf> {
    let path = beside_the_harness(companion)?;
    let built = std::fs::metadata(&path).ok()?.modified().ok()?;
    let record =
        std::fs::read_to_string(path.with_file_name(format!("{}.d", path.file_name()?.to_str()?)))
            .ok()?;
    let sources = dependency_file_sources(&record)?;
    let manifests = [
        workspace.join(companion.source).join("Cargo.toml"),
        workspace.join("Cargo.toml"),
        workspace.join("Cargo.lock"),
    ];
    let all_older = sources.into_iter().chain(manifests).all(|source| {
        std::fs::metadata(&source)
            .and_then(|meta| meta.modified())
            .is_ok_and(|modified| modified <= built)
    });
    all_older.then_some(path)
}

/// The sources a make-style dependency file lists after its target's `:` (`\ ` is a space
/// in a name); `None` if it has no `:` or lists nothing.
fn dependency_file_sources(record: &str) -> Option<Vec<PathBuf>> {
    let (_, after) = record.split_once(": ")?;
    let mut sources = Vec::new();
    let mut current = String::new();
    let mut chars = after.chars().peekable();
    while let Some(char) = chars.next() {
        match char {
            '\\' if chars.peek().is_some_and(|next| *next == ' ') => {
                current.push(' ');
                chars.next();
            }
            '\\' if chars.peek().is_some_and(|next| *next == '\n') => {
                chars.next();
            }
            ' ' | '\n' | '\t' => {
                if !current.is_empty() {
                    sources.push(PathBuf::from(std::mem::take(&mut current)));
                }
            }
            other => current.push(other),
        }
    }
    if !current.is_empty() {
        sources.push(PathBuf::from(current));
    }
    (!sources.is_empty()).then_some(sources)
}

/// `cargo build -p PACKAGE` in `workspace` (the harness's own profile), and the file's
/// path from cargo's messages.
fn build(companion: &Companion, workspace: &Path) -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(workspace).args([
        "build",
        "-p",
        companion.package,
        companion.build_what,
        "--message-format=json-render-diagnostics",
    ]);
    if !cfg!(debug_assertions) {
        command.arg("--release");
    }
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(20).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "cargo build -p {} failed ({}):\n{}",
            companion.package,
            output.status,
            tail.join("\n")
        ));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .filter_map(|message| message.get("filenames")?.as_array().cloned())
        .flatten()
        .filter_map(|name| name.as_str().map(PathBuf::from))
        .find(|path| {
            path.file_name()
                .is_some_and(|name| name == companion.file_name)
        })
        .ok_or_else(|| format!("cargo built no {}", companion.file_name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dependency_file_lists_its_sources_with_escaped_spaces() {
        let record = "/kit/target/debug/sandbox-init: /kit/init/src/main.rs /my\\ kit/init/src/walls.rs \\\n /kit/init/src/seccomp.rs\n";
        assert_eq!(
            dependency_file_sources(record).unwrap(),
            [
                PathBuf::from("/kit/init/src/main.rs"),
                PathBuf::from("/my kit/init/src/walls.rs"),
                PathBuf::from("/kit/init/src/seccomp.rs"),
            ]
        );
    }

    #[test]
    fn a_dependency_file_without_sources_is_no_answer() {
        assert_eq!(
            dependency_file_sources("/kit/target/debug/sandbox-init:"),
            None
        );
        assert_eq!(
            dependency_file_sources("/kit/target/debug/sandbox-init: \n"),
            None
        );
        assert_eq!(dependency_file_sources("no rule here"), None);
    }
}
