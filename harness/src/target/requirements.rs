//! The Python libraries a submission needs beyond the standard library and what the
//! grading machine has (`pymysql`, `paramiko`, `dnspython`, `mysql.connector`): a
//! `requirements = "requirements.txt"` line of its `submission.toml`.
//!
//! The file is read as data, never handed to pip: each line must be one package and its
//! versions (`requests==2.31.0`, `colorama>=0.4`, `pkg[extra]; python_version >= "3"`),
//! and anything pip would act on beyond that is refused with its line: options (`-r
//! other.txt`, `--index-url`, `-e .`), paths and URLs (`./lib`, `git+https://...`,
//! `pkg @ file:///...`). The packages are installed **once per run**, before any
//! scenario, into a folder of the harness's (one per distinct list: a class that shares a
//! `requirements.txt` shares one install), with `pip install --only-binary :all:`: wheels
//! only, so that no code of the packages runs while they are installed (a source
//! distribution's `setup.py` would run as the harness's user, outside the sandbox).
//! Programs then see that folder read-only, on `PYTHONPATH`.
//!
//! Where the wheels come from: the index pip is configured with (PyPI), or, with
//! `--wheels DIR`, the wheel files in `DIR` alone (`--no-index --find-links DIR`), for a
//! grading machine without a network. A list that cannot be installed is said on stderr
//! before the run, and the submission is graded without it (its programs then fail on
//! their `import`, which the report names).

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

/// The Python that runs submissions (the sandbox's `PATH` finds Debian's first), whose
/// pip installs for it.
const PYTHON: &str = "/usr/bin/python3";

/// At most this many packages in one file.
const MAX_PACKAGES: usize = 100;

/// A requirements file larger than this is refused.
const MAX_FILE_BYTES: u64 = 64 * 1024;

/// The packages a submission asks for, as read from its requirements file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirements {
    /// The file as the student knows it (relative to the submission folder).
    pub file: String,
    /// One requirement per line, as written (comments and blank lines left out).
    pub packages: Vec<String>,
}

impl Requirements {
    /// Reads `path` (a file of the submission's private copy), named `file` in errors.
    /// `Err((line, reason))`: the line (1-based, 0 for the file as a whole) and why.
    pub fn read(path: &Path, file: &str) -> Result<Requirements, (usize, String)> {
        let size = std::fs::symlink_metadata(path)
            .map_err(|error| (0, format!("cannot read `{file}`: {error}")))?;
        if !size.is_file() {
            return Err((0, format!("`{file}` is not a file of the submission")));
        }
        if size.len() > MAX_FILE_BYTES {
            return Err((
                0,
                format!("`{file}` is larger than {} KB", MAX_FILE_BYTES / 1024),
            ));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|error| (0, format!("cannot read `{file}`: {error}")))?;
        Requirements::parse(&text, file)
    }

    /// Reads the text of a requirements file, `file`; an error about one line does not
    /// name the file (the caller's `file:line` does).
    pub fn parse(text: &str, file: &str) -> Result<Requirements, (usize, String)> {
        let mut packages = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            // A comment starts at `#` (a URL could hold one, but URLs are refused anyway).
            let line = line.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            check_requirement(line).map_err(|reason| (number, reason))?;
            packages.push(line.to_owned());
        }
        if packages.len() > MAX_PACKAGES {
            return Err((
                0,
                format!("{file}: more than {MAX_PACKAGES} packages; list what the programs import"),
            ));
        }
        Ok(Requirements {
            file: file.to_owned(),
            packages,
        })
    }
}

/// The class's requirements file (`--requirements FILE`, the grader's, for every
/// submission), read as a submission's is: `Err` names the file, and its line where one
/// line is wrong.
pub fn read_class_list(file: &Path) -> crate::Result<Requirements> {
    let shown = file.display().to_string();
    let usage = |reason: String| crate::Error::Usage(format!("--requirements {shown}: {reason}"));
    if !file.is_file() {
        return Err(usage(match file.exists() {
            true => "not a file".into(),
            false => "no such file".into(),
        }));
    }
    Requirements::read(file, &shown).map_err(|(line, reason)| match line {
        0 => usage(reason),
        line => crate::Error::BadFile {
            path: file.to_owned(),
            line,
            reason,
        },
    })
}

/// Whether one line is a package with versions, extras and markers only (PEP 508 without
/// a URL): `Err` says why not, in words for the student.
fn check_requirement(line: &str) -> Result<(), String> {
    if line.starts_with('-') {
        return Err(format!(
            "`{line}`: options are not followed (no `-r`, `-e`, `--index-url`): list each package, one per line"
        ));
    }
    if line.contains("://") || line.contains('@') || line.contains('/') || line.contains('\\') {
        return Err(format!(
            "`{line}`: a path or URL is not installed; name the package and its version (`requests==2.31.0`)"
        ));
    }
    let name_end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .unwrap_or(line.len());
    let name = &line[..name_end];
    let well_formed_name = name
        .chars()
        .next()
        .is_some_and(|first| first.is_ascii_alphanumeric())
        && name
            .chars()
            .last()
            .is_some_and(|last| last.is_ascii_alphanumeric());
    if !well_formed_name {
        return Err(format!(
            "`{line}`: a line names one package (`requests`, `requests==2.31.0`)"
        ));
    }
    let allowed = |c: char| {
        c.is_ascii_alphanumeric()
            || matches!(
                c,
                '.' | '_'
                    | '-'
                    | '['
                    | ']'
                    | ','
                    | '<'
                    | '>'
                    | '='
                    | '!'
                    | '~'
                    | '*'
                    | ';'
                    | ' '
                    | '"'
                    | '\''
                    | '('
                    | ')'
            )
    };
    if let Some(other) = line[name_end..].chars().find(|c| !allowed(*c)) {
        return Err(format!(
            "`{line}`: `{other}` has no place in a package's name and versions"
        ));
    }
    Ok(())
}

/// Where the wheels come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WheelSource {
    /// The index pip is configured with (PyPI, or the machine's mirror).
    Index,
    /// The wheel files of this folder alone: no index is asked.
    Folder(PathBuf),
}

impl WheelSource {
    /// In words, for the run's header: `PyPI (pip's configured index)`.
    pub fn describe(&self) -> String {
        match self {
            WheelSource::Index => "pip's configured index".into(),
            WheelSource::Folder(folder) => format!("the wheels in {}", folder.display()),
        }
    }
}

/// Installs the requirement lists of a run, each distinct list once, and keeps what it
/// installed until the last submission that uses it is done.
#[derive(Debug)]
pub struct Installer {
    source: WheelSource,
    /// Distinct lists (sorted) to their install, or why it failed.
    installed: Mutex<BTreeMap<Vec<String>, Install>>,
}

/// One list's install, or why it failed.
type Install = Result<Arc<Installed>, String>;

/// One installed list: its folder (for `PYTHONPATH`), removed with the last holder.
#[derive(Debug)]
pub struct Installed {
    /// What `PYTHONPATH` names.
    site: PathBuf,
    _folder: crate::temporary::Folder,
}

impl Installed {
    /// The folder the packages are in, for `PYTHONPATH`.
    pub fn site(&self) -> &Path {
        &self.site
    }
}

impl Installer {
    /// An installer taking wheels from `source`.
    pub fn new(source: WheelSource) -> Installer {
        Installer {
            source,
            installed: Mutex::new(BTreeMap::new()),
        }
    }

    /// Whether `requirements` was installed (or tried) earlier in this run.
    pub fn tried(&self, requirements: &Requirements) -> bool {
        let installed = self.installed.lock().unwrap_or_else(|e| e.into_inner());
        installed.contains_key(&Installer::key(requirements))
    }

    /// A list as the installs are kept: sorted, each package once.
    fn key(requirements: &Requirements) -> Vec<String> {
        let mut key = requirements.packages.clone();
        key.sort();
        key.dedup();
        key
    }

    /// The install of `requirements`: made now, or the one made earlier in this run for
    /// the same list. `Err`: what pip said, in one paragraph.
    pub fn install(&self, requirements: &Requirements) -> Result<Arc<Installed>, String> {
        let key = Installer::key(requirements);
        let mut installed = self.installed.lock().unwrap_or_else(|e| e.into_inner());
        installed
            .entry(key)
            .or_insert_with_key(|packages| self.install_now(packages).map(Arc::new))
            .clone()
    }

    fn install_now(&self, packages: &[String]) -> Result<Installed, String> {
        if packages.is_empty() {
            return Err("it lists no package".into());
        }
        if !Path::new(PYTHON).exists() {
            return Err(format!(
                "{PYTHON} is missing (apt-get install python3 python3-pip)"
            ));
        }
        let folder = crate::temporary::folder("harness-python-packages-")
            .map_err(|error| format!("cannot make a folder to install into: {error}"))?;
        // Programs may run as another user (the sandbox's): they must read it, and only
        // read it (the sandbox's view shows it read-only too).
        std::fs::set_permissions(folder.path(), std::fs::Permissions::from_mode(0o755)).map_err(
            |error| {
                format!(
                    "cannot open {} to programs: {error}",
                    folder.path().display()
                )
            },
        )?;
        let site = folder.path().join("site-packages");
        let mut pip = Command::new(PYTHON);
        pip.args(["-m", "pip", "install", "--quiet", "--no-input"])
            .args(["--disable-pip-version-check", "--no-warn-script-location"])
            // Wheels only: nothing of the packages runs while they are installed.
            .args(["--only-binary", ":all:", "--target"])
            .arg(&site)
            .current_dir(folder.path())
            // Debian marks its Python as managed by apt (PEP 668); this folder is not
            // apt's.
            .env("PIP_BREAK_SYSTEM_PACKAGES", "1")
            .env("PIP_ROOT_USER_ACTION", "ignore")
            .stdin(std::process::Stdio::null());
        if let WheelSource::Folder(wheels) = &self.source {
            pip.arg("--no-index").arg("--find-links").arg(wheels);
        }
        // After `--`, every word is a requirement, never an option.
        pip.arg("--").args(packages);
        // This thread waits for it: it dies with the harness, even one killed with SIGKILL.
        crate::world::real::cleanup::dies_with_its_starter(&mut pip);
        let output = pip
            .output()
            .map_err(|error| format!("cannot run `{PYTHON} -m pip`: {error}"))?;
        if !output.status.success() {
            let said = String::from_utf8_lossy(&output.stderr);
            let said: Vec<&str> = said
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty() && !line.starts_with("[notice]"))
                .collect();
            return Err(
                if said.iter().any(|line| line.contains("No module named pip")) {
                    format!("{PYTHON} has no pip (apt-get install python3-pip)")
                } else {
                    format!(
                        "pip could not install {} from {}: {}",
                        packages.join(", "),
                        self.source.describe(),
                        said.join(" ")
                    )
                },
            );
        }
        open_to_everyone(&site)
            .map_err(|error| format!("cannot open the installed packages to programs: {error}"))?;
        Ok(Installed {
            site,
            _folder: folder,
        })
    }
}

/// Folders 0755 and files 0644 (0755 if executable) under `root`, whatever the umask
/// was: the sandbox's user reads them; nobody but the harness's user writes them. Links
/// are left as they are (pip writes none that lead out of the folder).
fn open_to_everyone(root: &Path) -> std::io::Result<()> {
    let metadata = std::fs::symlink_metadata(root)?;
    if metadata.is_dir() {
        std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755))?;
        for entry in std::fs::read_dir(root)? {
            open_to_everyone(&entry?.path())?;
        }
    } else if metadata.is_file() {
        let executable = metadata.permissions().mode() & 0o111 != 0;
        let mode = if executable { 0o755 } else { 0o644 };
        std::fs::set_permissions(root, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_with_versions_extras_and_markers_are_read_comments_left_out() {
        let text = "# what the client imports\nPyMySQL==1.1.0\n\nrequests[socks] >= 2.31, < 3  # http\nmysql-connector-python; python_version >= \"3.8\"\n";
        let requirements = Requirements::parse(text, "requirements.txt").unwrap();
        assert_eq!(
            requirements.packages,
            [
                "PyMySQL==1.1.0",
                "requests[socks] >= 2.31, < 3",
                "mysql-connector-python; python_version >= \"3.8\""
            ]
        );
    }

    #[test]
    fn options_paths_and_urls_are_refused_with_their_line() {
        for (text, said) in [
            ("ok\n-r /etc/shadow\n", "options are not followed"),
            (
                "ok\n--index-url http://evil.example.com/simple\n",
                "options",
            ),
            ("ok\n-e .\n", "options"),
            ("ok\ngit+https://example.com/x.git\n", "path or URL"),
            ("ok\npkg @ file:///etc/passwd\n", "path or URL"),
            ("ok\n../lib\n", "path or URL"),
            ("ok\nrequests==2.31.0 $(touch x)\n", "`$` has no place"),
            ("ok\n==1.0\n", "names one package"),
        ] {
            let (line, reason) = Requirements::parse(text, "requirements.txt").unwrap_err();
            assert_eq!(line, 2, "{text}");
            assert!(reason.contains(said), "{text}: {reason}");
        }
    }
}
