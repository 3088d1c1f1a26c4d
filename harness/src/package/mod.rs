//! `harness package`: what an instructor uploads to a grading platform, made from this kit.
//!
//! - `gradescope`: `autograder.zip`, holding `setup.sh` (packages, a Rust toolchain, the
//!   kit built), `run_autograder` (one submission into `results.json`) and the kit in `kit/`;
//! - `prairielearn`: a folder with the grader image's `Dockerfile` and build context (the
//!   kit in `kit/`) and the question's entrypoint `run.sh`;
//! - `github-classroom`: a folder with `.github/workflows/classroom.yml` for the
//!   assignment's template repository.
//!
//! Each script grades the tasks named here, with the packages the students' programs of
//! those tasks import (`dnspython` for `mx-lookup`...). The scripts are templates in
//! `templates/`, filled in below; the suite runs them here with the platforms' folders
//! moved to a temporary one (`harness/tests/suite/packages.rs`).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// The platforms a package is made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Platform {
    /// Gradescope's autograder zip.
    Gradescope,
    /// A PrairieLearn external grader: image and entrypoint.
    Prairielearn,
    /// A GitHub Classroom autograding workflow.
    GithubClassroom,
}

/// What a package grades and needs.
#[derive(Debug, Clone)]
pub struct PackageRequest {
    /// The platform.
    pub platform: Platform,
    /// The assignment's tasks (at least one).
    pub tasks: Vec<String>,
    /// Where to write it: the zip file (Gradescope) or a folder (the others).
    pub output: PathBuf,
    /// Students may hand in Java: the image gets a JDK.
    pub java: bool,
    /// `--gradescope-visibility` rules for `run_autograder`, as written.
    pub visibility: Vec<String>,
    /// The kit's repository on GitHub (`your-course/socket-lab-kit`), for the workflow.
    pub kit_repository: Option<String>,
    /// The seed every submission is graded with (`--seed`), fixed when the package is made.
    pub seed: u64,
}

/// The packages every image needs: a C toolchain (the crates' build scripts), `curl` and
/// the certificates for rustup, Python 3 for the students' programs and `run_autograder`.
const BASE_PACKAGES: [&str; 4] = ["build-essential", "ca-certificates", "curl", "python3"];

/// The Debian and Ubuntu packages a task needs: the libraries its programs import, as
/// students write them (`SPEC.md`): `dnspython`, `paramiko`, `pymysql`; and for
/// mysql-remote, MariaDB, which then plays the scenarios' MySQL server (`--mysql auto`)
/// rather than the pack's own engine. The other tasks need only Python's standard library.
const TASK_PACKAGES: [(&str, &str); 5] = [
    ("mx-lookup", "python3-dnspython"),
    ("ssh-info", "python3-paramiko"),
    ("mysql-remote", "python3-pymysql"),
    ("mysql-remote", "mariadb-server"),
    ("mysql-remote", "mariadb-client"),
];

/// The libraries from PyPI a task's programs import as students write them, which Debian
/// and Ubuntu do not package: Oracle's MySQL Connector/Python (`import mysql.connector`),
/// which many handouts' recipes use beside PyMySQL. Pinned, as in `.ci/test`.
const TASK_PIP_PACKAGES: [(&str, &str); 1] = [("mysql-remote", "mysql-connector-python==26.10.0")];

/// The command that installs `packages` from PyPI into the system's Python 3 (the one the
/// sandbox runs), or `true` when there are none. Debian and Ubuntu mark their Python as
/// managed by apt (PEP 668): `PIP_BREAK_SYSTEM_PACKAGES` lets pip add to it (in
/// `/usr/local`, which the sandbox shows), and an older pip ignores it.
fn pip_install(packages: &[&str]) -> String {
    if packages.is_empty() {
        return "true".into();
    }
    format!(
        "env PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --no-cache-dir {}",
        packages.join(" ")
    )
}

/// Writes the package `request` asks for; returns what was written, to print.
pub fn write(request: &PackageRequest, kit_root: &Path) -> Result<Vec<PathBuf>> {
    if request.tasks.is_empty() {
        return Err(Error::Usage(
            "a package grades an assignment: name its tasks with --task".into(),
        ));
    }
    if request.platform == Platform::GithubClassroom && request.kit_repository.is_none() {
        return Err(Error::Usage(
            "the workflow checks the kit out from GitHub: say which repository with --kit-repository OWNER/NAME".into(),
        ));
    }
    let values = TemplateValues::of(request, kit_root)?;
    match request.platform {
        Platform::Gradescope => gradescope(request, kit_root, &values),
        Platform::Prairielearn => prairielearn(request, kit_root, &values),
        Platform::GithubClassroom => classroom(request, &values),
    }
}

/// What the templates' `@@NAME@@` are.
struct TemplateValues {
    apt_packages: String,
    pip_install: String,
    rust_version: String,
    grade_args: String,
    kit_repository: String,
}

impl TemplateValues {
    fn of(request: &PackageRequest, kit_root: &Path) -> Result<TemplateValues> {
        let mut packages: Vec<&str> = BASE_PACKAGES.to_vec();
        packages.extend(
            TASK_PACKAGES
                .iter()
                .filter(|(task, _)| request.tasks.iter().any(|wanted| wanted == task))
                .map(|(_, package)| *package),
        );
        if request.java {
            packages.push("default-jdk-headless");
        }
        let pip_packages: Vec<&str> = TASK_PIP_PACKAGES
            .iter()
            .filter(|(task, _)| request.tasks.iter().any(|wanted| wanted == task))
            .map(|(_, package)| *package)
            .collect();
        if !pip_packages.is_empty() {
            packages.push("python3-pip");
        }
        let mut grade_args: Vec<String> = vec!["--seed".into(), request.seed.to_string()];
        grade_args.extend(
            request
                .tasks
                .iter()
                .flat_map(|task| ["--task".to_owned(), task.clone()]),
        );
        for rule in &request.visibility {
            grade_args.push("--gradescope-visibility".into());
            grade_args.push(rule.clone());
        }
        Ok(TemplateValues {
            apt_packages: packages.join(" "),
            pip_install: pip_install(&pip_packages),
            rust_version: rust_version(kit_root)?,
            grade_args: shell_words::join(&grade_args),
            kit_repository: request.kit_repository.clone().unwrap_or_default(),
        })
    }

    /// `template` with every `@@NAME@@` filled in.
    fn fill(&self, template: &str) -> String {
        template
            .replace("@@APT_PACKAGES@@", &self.apt_packages)
            .replace("@@PIP_INSTALL@@", &self.pip_install)
            .replace("@@RUST_VERSION@@", &self.rust_version)
            .replace("@@GRADE_ARGS@@", &self.grade_args)
            .replace("@@KIT_REPOSITORY@@", &self.kit_repository)
    }
}

/// The workspace's `rust-version` (`Cargo.toml`): the toolchain the images need at least.
fn rust_version(kit_root: &Path) -> Result<String> {
    let manifest = kit_root.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest)
        .map_err(Error::io(format!("cannot read {}", manifest.display())))?;
    let table: toml::Table = toml::from_str(&text).map_err(|error| Error::BadFile {
        path: manifest.clone(),
        line: 0,
        reason: error.message().to_owned(),
    })?;
    table
        .get("workspace")
        .and_then(|workspace| workspace.get("package"))
        .and_then(|package| package.get("rust-version"))
        .and_then(toml::Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Error::Usage(format!("{} has no rust-version", manifest.display())))
}

const SETUP: &str = include_str!("templates/setup.sh");
const RUN_AUTOGRADER: &str = include_str!("templates/run_autograder");
const DOCKERFILE: &str = include_str!("templates/Dockerfile");
const RUN_SH: &str = include_str!("templates/run.sh");
const CLASSROOM: &str = include_str!("templates/classroom.yml");

fn gradescope(
    request: &PackageRequest,
    kit_root: &Path,
    values: &TemplateValues,
) -> Result<Vec<PathBuf>> {
    let output = &request.output;
    let file = std::fs::File::create(output)
        .map_err(Error::io(format!("cannot write {}", output.display())))?;
    let mut zip = zip::ZipWriter::new(file);
    let options = |mode: u32| {
        zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(mode)
    };
    let zip_error = |error: zip::result::ZipError| {
        Error::Usage(format!("cannot write {}: {error}", output.display()))
    };
    for (name, template) in [("setup.sh", SETUP), ("run_autograder", RUN_AUTOGRADER)] {
        zip.start_file(name, options(0o755)).map_err(zip_error)?;
        zip.write_all(values.fill(template).as_bytes())
            .map_err(Error::io(format!("cannot write {}", output.display())))?;
    }
    for (relative, path, mode) in kit_files(kit_root)? {
        let name = format!("kit/{}", relative.display());
        zip.start_file(name, options(mode)).map_err(zip_error)?;
        let mut source = std::fs::File::open(&path)
            .map_err(Error::io(format!("cannot read {}", path.display())))?;
        std::io::copy(&mut source, &mut zip)
            .map_err(Error::io(format!("cannot write {}", output.display())))?;
    }
    zip.finish().map_err(zip_error)?;
    Ok(vec![output.clone()])
}

fn prairielearn(
    request: &PackageRequest,
    kit_root: &Path,
    values: &TemplateValues,
) -> Result<Vec<PathBuf>> {
    let folder = fresh_folder(&request.output)?;
    let dockerfile = write_file(&folder.join("Dockerfile"), &values.fill(DOCKERFILE), 0o644)?;
    let run = write_file(&folder.join("run.sh"), &values.fill(RUN_SH), 0o755)?;
    let kit = folder.join("kit");
    for (relative, path, mode) in kit_files(kit_root)? {
        let destination = kit.join(&relative);
        if let Some(parent) = destination.parent() {
            std::fs::create_dir_all(parent)
                .map_err(Error::io(format!("cannot make {}", parent.display())))?;
        }
        std::fs::copy(&path, &destination)
            .map_err(Error::io(format!("cannot copy {}", path.display())))?;
        set_mode(&destination, mode)?;
    }
    Ok(vec![dockerfile, run, kit])
}

fn classroom(request: &PackageRequest, values: &TemplateValues) -> Result<Vec<PathBuf>> {
    let folder = fresh_folder(&request.output)?;
    let workflows = folder.join(".github/workflows");
    std::fs::create_dir_all(&workflows)
        .map_err(Error::io(format!("cannot make {}", workflows.display())))?;
    let workflow = write_file(
        &workflows.join("classroom.yml"),
        &values.fill(CLASSROOM),
        0o644,
    )?;
    Ok(vec![workflow])
}

/// `path` as a folder to write into: made if missing; an existing one must be empty, so
/// that nothing of an older package stays in it.
fn fresh_folder(path: &Path) -> Result<PathBuf> {
    if path.exists() {
        let empty = std::fs::read_dir(path)
            .map_err(Error::io(format!("cannot open {}", path.display())))?
            .next()
            .is_none();
        if !empty {
            return Err(Error::Usage(format!(
                "{} is not empty: give a new folder (-o)",
                path.display()
            )));
        }
    }
    std::fs::create_dir_all(path).map_err(Error::io(format!("cannot make {}", path.display())))?;
    Ok(path.to_owned())
}

fn write_file(path: &Path, text: &str, mode: u32) -> Result<PathBuf> {
    std::fs::write(path, text).map_err(Error::io(format!("cannot write {}", path.display())))?;
    set_mode(path, mode)?;
    Ok(path.to_owned())
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(Error::io(
        format!("cannot set the mode of {}", path.display()),
    ))
}

/// The kit's files a package carries, with their paths from the kit's root and their
/// modes, in a stable order: everything but build output (`target/`), version control and
/// other hidden folders at the top (`.git`, `.ci`), and symbolic links.
fn kit_files(kit_root: &Path) -> Result<Vec<(PathBuf, PathBuf, u32)>> {
    use std::os::unix::fs::PermissionsExt;
    let mut files = Vec::new();
    let mut folders = vec![PathBuf::new()];
    while let Some(relative) = folders.pop() {
        let folder = kit_root.join(&relative);
        let mut entries: Vec<_> = std::fs::read_dir(&folder)
            .map_err(Error::io(format!("cannot list {}", folder.display())))?
            .filter_map(|entry| entry.ok())
            .collect();
        entries.sort_by_key(|entry| entry.file_name());
        for entry in entries {
            let name = entry.file_name();
            let inner = relative.join(&name);
            let top_level = relative.as_os_str().is_empty();
            if top_level && (name == "target" || name.to_string_lossy().starts_with('.')) {
                continue;
            }
            // Build output of nested workspaces (`reference/fuzz/target`).
            if name == "target" && entry.path().join("CACHEDIR.TAG").exists() {
                continue;
            }
            let meta = entry
                .metadata()
                .map_err(Error::io(format!("cannot read {}", entry.path().display())))?;
            if meta.is_dir() {
                folders.push(inner);
            } else if meta.is_file() {
                let mode = if meta.permissions().mode() & 0o111 != 0 {
                    0o755
                } else {
                    0o644
                };
                files.push((inner, entry.path(), mode));
            }
        }
    }
    files.sort();
    Ok(files)
}
