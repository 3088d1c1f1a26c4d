//! Whose programs are graded: a submission folder, or the reference binaries.
//!
//! A submission folder maps each task role to a command line in one of two ways:
//!
//! 1. `submission.toml`, with one table per task:
//!
//!    ```toml
//!    [message]
//!    server = "python3 server.py {port}"
//!    client = "python3 client.py {host} {port}"
//!    port = 12000        # optional: the server hard-codes its port
//!    workdir = "."       # optional: run in this folder instead of a fresh temporary one
//!    ```
//!
//!    Words of a command line that name a file of the folder are made absolute, so
//!    `server.py` works although the program runs in a temporary directory.
//!
//! 2. By convention, a file named `<task>-<role>` with or without an extension
//!    (`message-server`, `message-server.py`): run directly when it is executable (its
//!    shebang line picks the interpreter), else with `python3` for `.py` and `sh` for `.sh`.
//!    Its arguments are the canonical ones of `scenarios/tasks.toml`.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use toml::Spanned;

use crate::scenario::Catalogue;
use crate::scenario::loader_line_of as line_of;
use crate::{Error, Result};

/// How to run one role of one task.
#[derive(Debug, Clone)]
pub struct RoleProgram {
    /// The command line, with `{host}`, `{port}`... still to fill in.
    pub template: Vec<String>,
    /// Run here instead of a fresh temporary directory.
    pub workdir: Option<PathBuf>,
    /// A port the program always uses.
    pub fixed_port: Option<u16>,
}

impl RoleProgram {
    /// `launcher` followed by the task's canonical arguments (`{host} {port}`), run in a
    /// fresh temporary directory on a harness-chosen port.
    fn canonical(launcher: Vec<String>, arguments: &str) -> RoleProgram {
        let mut template = launcher;
        template.extend(shell_words::split(arguments).unwrap_or_default());
        RoleProgram {
            template,
            workdir: None,
            fixed_port: None,
        }
    }

    /// The command line with placeholders filled in.
    pub fn command_line(&self, values: &BTreeMap<&str, String>) -> Vec<String> {
        self.template
            .iter()
            .map(|word| {
                values.iter().fold(word.clone(), |word, (key, value)| {
                    word.replace(&format!("{{{key}}}"), value)
                })
            })
            .collect()
    }
}

/// A graded target: a label for reports and its programs by task, then by role.
#[derive(Debug, Clone)]
pub struct Target {
    /// What the report calls it (the folder, or `reference`).
    pub label: String,
    /// Task name to role name to program. Tasks with no program at all are absent.
    pub programs: BTreeMap<String, BTreeMap<String, RoleProgram>>,
}

impl Target {
    /// The programs of a task, if it was submitted.
    pub fn task(&self, task: &str) -> Option<&BTreeMap<String, RoleProgram>> {
        self.programs.get(task)
    }

    /// Reads a submission folder.
    pub fn from_folder(dir: &Path, catalogue: &Catalogue) -> Result<Target> {
        if !dir.is_dir() {
            return Err(Error::Usage(format!(
                "target `{}` is not a folder",
                dir.display()
            )));
        }
        let dir = dir
            .canonicalize()
            .map_err(Error::io(format!("cannot open {}", dir.display())))?;
        let manifest = dir.join("submission.toml");
        let (mut programs, settings) = if manifest.exists() {
            read_manifest(&manifest, &dir, catalogue)?
        } else {
            Default::default()
        };
        // Roles the manifest does not name are still found by convention, with the task's
        // `port` and `workdir` from the manifest (a `[message]` table may say only `port`).
        for (task, info) in &catalogue.tasks {
            for (role, arguments) in &info.roles {
                if programs
                    .get(task)
                    .is_some_and(|roles: &BTreeMap<String, RoleProgram>| roles.contains_key(role))
                {
                    continue;
                }
                if let Some(launcher) = find_by_convention(&dir, &info.program_name(task, role))? {
                    let mut program = RoleProgram::canonical(launcher, arguments);
                    if let Some(setting) = settings.get(task) {
                        program.fixed_port = setting.fixed_port;
                        program.workdir = setting.workdir.clone();
                    }
                    programs
                        .entry(task.clone())
                        .or_default()
                        .insert(role.clone(), program);
                }
            }
        }
        Ok(Target {
            label: dir.display().to_string(),
            programs,
        })
    }

    /// The reference binaries in `bin_dir`.
    pub fn reference(bin_dir: &Path, catalogue: &Catalogue) -> Target {
        let mut programs: BTreeMap<String, BTreeMap<String, RoleProgram>> = BTreeMap::new();
        for (task, info) in &catalogue.tasks {
            for (role, arguments) in &info.roles {
                let binary = bin_dir.join(info.program_name(task, role));
                if binary.is_file() {
                    let launcher = vec![binary.display().to_string()];
                    programs
                        .entry(task.clone())
                        .or_default()
                        .insert(role.clone(), RoleProgram::canonical(launcher, arguments));
                }
            }
        }
        Target {
            label: "reference".into(),
            programs,
        }
    }
}

impl Target {
    /// The reference programs that run in the simulated world. Their command line starts
    /// with the bare program name (`message-server {port}`): the simulated host looks the
    /// name up instead of executing a file.
    pub fn simulated(catalogue: &Catalogue) -> Target {
        let mut programs: BTreeMap<String, BTreeMap<String, RoleProgram>> = BTreeMap::new();
        for (task, info) in &catalogue.tasks {
            for (role, arguments) in &info.roles {
                let name = info.program_name(task, role);
                if crate::world::sim::programs::SIMULATED_PROGRAMS.contains(&name.as_str()) {
                    programs
                        .entry(task.clone())
                        .or_default()
                        .insert(role.clone(), RoleProgram::canonical(vec![name], arguments));
                }
            }
        }
        Target {
            label: "reference (simulated)".into(),
            programs,
        }
    }
}

/// The launcher of `<dir>/<name>[.ext]`: the file itself, or an interpreter and the file.
fn find_by_convention(dir: &Path, name: &str) -> Result<Option<Vec<String>>> {
    let entries =
        std::fs::read_dir(dir).map_err(Error::io(format!("cannot list {}", dir.display())))?;
    let mut candidates: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            path.is_file()
                && (path.file_name().is_some_and(|file| file == name)
                    || path.file_stem().is_some_and(|stem| stem == name)
                        && path.extension().is_some())
        })
        .collect();
    // The bare name first (a compiled program), then by extension, for a stable choice.
    candidates.sort_by_key(|path| (path.extension().is_some(), path.clone()));
    let Some(path) = candidates.into_iter().next() else {
        return Ok(None);
    };
    let shown = path.display().to_string();
    let executable = path
        .metadata()
        .map(|meta| meta.permissions().mode() & 0o111 != 0)
        .unwrap_or(false);
    let has_shebang = std::fs::read(&path)
        .map(|bytes| bytes.starts_with(b"#!"))
        .unwrap_or(false);
    let extension = path.extension().and_then(|ext| ext.to_str()).unwrap_or("");
    Ok(Some(match extension {
        _ if executable && (has_shebang || extension.is_empty()) => vec![shown],
        "py" => vec!["python3".into(), shown],
        "sh" => vec!["sh".into(), shown],
        _ => {
            return Err(Error::Usage(format!(
                "{shown} is not executable and has no known interpreter: chmod +x it, or map it in submission.toml"
            )));
        }
    }))
}

/// A task's `port` and `workdir` from `submission.toml`, for every role of the task.
#[derive(Debug, Clone, Default)]
struct TaskSettings {
    fixed_port: Option<u16>,
    workdir: Option<PathBuf>,
}

/// Programs by task and role, as the manifest names them, and each task's settings.
type Manifest = (
    BTreeMap<String, BTreeMap<String, RoleProgram>>,
    BTreeMap<String, TaskSettings>,
);

fn read_manifest(path: &Path, dir: &Path, catalogue: &Catalogue) -> Result<Manifest> {
    type Entries = BTreeMap<Spanned<String>, Spanned<toml::Value>>;
    let text = std::fs::read_to_string(path)
        .map_err(Error::io(format!("cannot read {}", path.display())))?;
    let bad = |offset: usize, reason: String| Error::BadFile {
        path: path.to_owned(),
        line: line_of(&text, offset),
        reason,
    };
    let tables: BTreeMap<Spanned<String>, Spanned<Entries>> =
        toml::from_str(&text).map_err(|error| {
            bad(
                error.span().map(|span| span.start).unwrap_or(0),
                error.message().trim().to_owned(),
            )
        })?;
    let mut programs = BTreeMap::new();
    let mut settings = BTreeMap::new();
    for (task, entries) in tables {
        let Some(info) = catalogue.tasks.get(task.get_ref()) else {
            let known: Vec<&str> = catalogue.tasks.keys().map(String::as_str).collect();
            return Err(bad(
                task.span().start,
                format!(
                    "unknown task `{}` (tasks: {})",
                    task.get_ref(),
                    known.join(", ")
                ),
            ));
        };
        let (mut fixed_port, mut workdir) = (None, None);
        let mut roles = BTreeMap::new();
        for (key, value) in entries.into_inner() {
            let at = key.span().start;
            match key.get_ref().as_str() {
                "port" => {
                    let port = value
                        .get_ref()
                        .as_integer()
                        .and_then(|port| u16::try_from(port).ok())
                        .filter(|port| *port > 0);
                    fixed_port =
                        Some(port.ok_or_else(|| {
                            bad(at, "`port` must be a port number (1-65535)".into())
                        })?);
                }
                "workdir" => {
                    let folder = value
                        .get_ref()
                        .as_str()
                        .ok_or_else(|| bad(at, "`workdir` must be a string".into()))?;
                    let folder = dir.join(folder);
                    if !folder.is_dir() {
                        return Err(bad(
                            at,
                            format!("workdir `{}` is not a folder", folder.display()),
                        ));
                    }
                    workdir = Some(folder);
                }
                role if info.roles.contains_key(role) => {
                    let line = value.get_ref().as_str().ok_or_else(|| {
                        bad(at, format!("`{role}` must be a command line string"))
                    })?;
                    let words = shell_words::split(line)
                        .map_err(|error| bad(at, format!("`{role}`: {error}")))?;
                    if words.is_empty() {
                        return Err(bad(at, format!("`{role}` is an empty command line")));
                    }
                    let words = words
                        .into_iter()
                        .map(|word| {
                            let candidate = dir.join(&word);
                            if !word.contains('{') && !word.starts_with('-') && candidate.is_file()
                            {
                                candidate.display().to_string()
                            } else {
                                word
                            }
                        })
                        .collect();
                    roles.insert(role.to_owned(), words);
                }
                other => {
                    let known: Vec<&str> = info.roles.keys().map(String::as_str).collect();
                    return Err(bad(
                        at,
                        format!(
                            "unknown key `{other}` for task `{}` (roles: {}; or port, workdir)",
                            task.get_ref(),
                            known.join(", ")
                        ),
                    ));
                }
            }
        }
        let roles = roles
            .into_iter()
            .map(|(role, template)| {
                (
                    role,
                    RoleProgram {
                        template,
                        workdir: workdir.clone(),
                        fixed_port,
                    },
                )
            })
            .collect();
        settings.insert(
            task.get_ref().clone(),
            TaskSettings {
                fixed_port,
                workdir,
            },
        );
        programs.insert(task.into_inner(), roles);
    }
    Ok((programs, settings))
}
