//! `harness package`: what an instructor uploads to a grading platform, made from this kit.
//!
//! Every package carries a built kit (`kit/`): the harness and its companions
//! (`sandbox-init`, `libshort_calls.so`) in `kit/bin/`, the scenarios and the fixtures they
//! name, and the good sample the scenarios take their known-good programs from. Nothing is
//! compiled on the platform and no Rust toolchain is installed there: a harness beside its
//! companions outside cargo's output folder never runs cargo. The binaries are those of
//! the harness that makes the package (`cargo run --release -p harness -- package ...` for
//! a class), linked against the C library of the machine that built them (Debian 12: glibc
//! 2.36, needing 2.34 or newer: Ubuntu 22.04 and later, Debian 12 and later).
//!
//! - `gradescope`: `autograder.zip`, holding `setup.sh` (the packages the students'
//!   programs need), `run_autograder` (one submission into `results.json`) and the kit;
//! - `prairielearn`: a folder with the grader image's `Dockerfile` (Debian's slim image,
//!   those packages and the kit) and the question's entrypoint `run.sh`;
//! - `github-classroom`: a folder with `.github/workflows/classroom.yml` for the
//!   assignment's template repository and `socket-lab-kit.zip`, the kit, to attach to a
//!   release of the kit's repository, from which the workflow fetches it on every push.
//!
//! Each script grades the tasks named here, with the packages the students' programs of
//! those tasks import (`dnspython` for `mx-lookup`...) and the seed fixed when the package
//! was made. The scripts are templates in `templates/`, filled in below; the suite runs
//! them here with the platforms' folders moved to a temporary one
//! (`harness/tests/suite/packages.rs`).

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
    /// The release of `kit_repository` the Classroom workflow fetches the kit from.
    pub kit_release: String,
    /// The class's Python packages (`--requirements FILE`, validated as a submission's
    /// are), installed into the image's Python beside the tasks' own.
    pub class_packages: Vec<String>,
}

/// The packages every image needs: Python 3 for the students' programs and
/// `run_autograder`, the certificates their TLS libraries trust besides the test CA.
const BASE_PACKAGES: [&str; 2] = ["ca-certificates", "python3"];

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
    // Quoted where the shell would read it: a requirement may hold `<`, `>` or `;`
    // (`requests>=2,<3`); a plain pin (`six==1.16.0`) is written as it is.
    let words: Vec<String> = packages
        .iter()
        .map(|package| {
            let plain = package
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-=+:,".contains(c));
            match plain {
                true => (*package).to_owned(),
                false => shell_words::quote(package).into_owned(),
            }
        })
        .collect();
    format!(
        "env PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --no-cache-dir {}",
        words.join(" ")
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
    let values = TemplateValues::of(request)?;
    let kit = kit_files(kit_root)?;
    match request.platform {
        Platform::Gradescope => gradescope(request, &kit, &values),
        Platform::Prairielearn => prairielearn(request, &kit, &values),
        Platform::GithubClassroom => classroom(request, &kit, &values),
    }
}

/// What the templates' `@@NAME@@` are.
struct TemplateValues {
    apt_packages: String,
    pip_install: String,
    grade_args: String,
    kit_repository: String,
    kit_release: String,
}

impl TemplateValues {
    fn of(request: &PackageRequest) -> Result<TemplateValues> {
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
            .chain(request.class_packages.iter().map(String::as_str))
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
            grade_args: shell_words::join(&grade_args),
            kit_repository: request.kit_repository.clone().unwrap_or_default(),
            kit_release: request.kit_release.clone(),
        })
    }

    /// `template` with every `@@NAME@@` filled in.
    fn fill(&self, template: &str) -> String {
        template
            .replace("@@APT_PACKAGES@@", &self.apt_packages)
            .replace("@@PIP_INSTALL@@", &self.pip_install)
            .replace("@@GRADE_ARGS@@", &self.grade_args)
            .replace("@@KIT_REPOSITORY@@", &self.kit_repository)
            .replace("@@KIT_RELEASE@@", &self.kit_release)
            .replace("@@KIT_ARCHIVE@@", KIT_ARCHIVE)
    }
}

const SETUP: &str = include_str!("templates/setup.sh");
const RUN_AUTOGRADER: &str = include_str!("templates/run_autograder");
const DOCKERFILE: &str = include_str!("templates/Dockerfile");
const RUN_SH: &str = include_str!("templates/run.sh");
const CLASSROOM: &str = include_str!("templates/classroom.yml");

/// The name of the kit's archive a Classroom workflow fetches from the kit's release.
const KIT_ARCHIVE: &str = "socket-lab-kit.zip";

fn gradescope(
    request: &PackageRequest,
    kit: &[KitFile],
    values: &TemplateValues,
) -> Result<Vec<PathBuf>> {
    let scripts = [
        ("setup.sh".to_owned(), values.fill(SETUP)),
        ("run_autograder".to_owned(), values.fill(RUN_AUTOGRADER)),
    ];
    write_zip(&request.output, &scripts, kit)?;
    Ok(vec![request.output.clone()])
}

/// A zip at `output` holding `scripts` (executable) and the kit's files under `kit/`.
fn write_zip(output: &Path, scripts: &[(String, String)], kit: &[KitFile]) -> Result<()> {
    let file = crate::report::new_file::create(output)
        .map_err(Error::io(format!("cannot write {}", output.display())))?;
    let mut zip = zip::ZipWriter::new(file);
    // Deflate's fastest level: most of the kit's bytes are the harness's binary, which the
    // default level packs an eighth smaller in three times the time (measured with a debug
    // build's package: 33.3 MB in 1.6 s, 29.1 MB in 4.7 s).
    let options = |mode: u32| {
        zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(1))
            .unix_permissions(mode)
    };
    let zip_error = |error: zip::result::ZipError| {
        Error::Usage(format!("cannot write {}: {error}", output.display()))
    };
    let write_error = || Error::io(format!("cannot write {}", output.display()));
    for (name, text) in scripts {
        zip.start_file(name.as_str(), options(0o755))
            .map_err(zip_error)?;
        zip.write_all(text.as_bytes()).map_err(write_error())?;
    }
    for file in kit {
        let name = format!("kit/{}", file.relative.display());
        zip.start_file(name, options(file.mode))
            .map_err(zip_error)?;
        let mut source = std::fs::File::open(&file.source)
            .map_err(Error::io(format!("cannot read {}", file.source.display())))?;
        std::io::copy(&mut source, &mut zip).map_err(write_error())?;
    }
    zip.finish().map_err(zip_error)?;
    Ok(())
}

fn prairielearn(
    request: &PackageRequest,
    kit: &[KitFile],
    values: &TemplateValues,
) -> Result<Vec<PathBuf>> {
    let folder = fresh_folder(&request.output)?;
    let dockerfile = write_file(&folder.join("Dockerfile"), &values.fill(DOCKERFILE), 0o644)?;
    let run = write_file(&folder.join("run.sh"), &values.fill(RUN_SH), 0o755)?;
    let kit_folder = folder.join("kit");
    for file in kit {
        let destination = kit_folder.join(&file.relative);
        if let Some(parent) = destination.parent() {
            crate::report::new_file::folder(parent)
                .map_err(Error::io(format!("cannot make {}", parent.display())))?;
        }
        let mut source = std::fs::File::open(&file.source)
            .map_err(Error::io(format!("cannot read {}", file.source.display())))?;
        let mut copy = crate::report::new_file::create(&destination)
            .map_err(Error::io(format!("cannot write {}", destination.display())))?;
        std::io::copy(&mut source, &mut copy)
            .map_err(Error::io(format!("cannot copy {}", file.source.display())))?;
        set_mode(&destination, file.mode)?;
    }
    Ok(vec![dockerfile, run, kit_folder])
}

fn classroom(
    request: &PackageRequest,
    kit: &[KitFile],
    values: &TemplateValues,
) -> Result<Vec<PathBuf>> {
    let folder = fresh_folder(&request.output)?;
    let workflows = folder.join(".github/workflows");
    crate::report::new_file::folder(&workflows)
        .map_err(Error::io(format!("cannot make {}", workflows.display())))?;
    let workflow = write_file(
        &workflows.join("classroom.yml"),
        &values.fill(CLASSROOM),
        0o644,
    )?;
    let archive = folder.join(KIT_ARCHIVE);
    write_zip(&archive, &[], kit)?;
    Ok(vec![workflow, archive])
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
    crate::report::new_file::folder(path)
        .map_err(Error::io(format!("cannot make {}", path.display())))?;
    Ok(path.to_owned())
}

fn write_file(path: &Path, text: &str, mode: u32) -> Result<PathBuf> {
    crate::report::new_file::write(path, text)
        .map_err(Error::io(format!("cannot write {}", path.display())))?;
    set_mode(path, mode)?;
    Ok(path.to_owned())
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(Error::io(
        format!("cannot set the mode of {}", path.display()),
    ))
}

/// One file of the kit a package carries.
struct KitFile {
    /// Its path in the package's `kit/`.
    relative: PathBuf,
    /// Where it is read from.
    source: PathBuf,
    mode: u32,
}

/// What grading reads from the kit, besides the binaries: the scenarios, the fixtures they
/// name (payloads, zones, file trees, the test web site), the good sample (the known-good
/// programs a scenario pairs with the student's) and the kit's README.
const KIT_PARTS: [&str; 7] = [
    "scenarios",
    "fixtures/payloads",
    "fixtures/zones",
    "fixtures/trees",
    "fixtures/www",
    "fixtures/submissions/good",
    "README.md",
];

/// The files of the built kit a package carries, in a stable order: the harness and its
/// companions in `bin/` (those of this very harness: the package grades as it does), then
/// [`KIT_PARTS`]. Symbolic links are left out.
fn kit_files(kit_root: &Path) -> Result<Vec<KitFile>> {
    let harness =
        std::env::current_exe().map_err(Error::io("cannot find the harness's own executable"))?;
    let init = sandbox::locate_init(kit_root).map_err(|why| {
        Error::Usage(format!(
            "a package carries sandbox-init, which is not available: {why}"
        ))
    })?;
    let library = sandbox::interposed_library(kit_root).map_err(|why| {
        Error::Usage(format!(
            "a package carries the interposed library, which is not available: {why}"
        ))
    })?;
    let mut files: Vec<KitFile> = [
        (harness, "harness", 0o755),
        (init, "sandbox-init", 0o755),
        (library, "libshort_calls.so", 0o644),
    ]
    .into_iter()
    .map(|(source, name, mode)| KitFile {
        relative: Path::new("bin").join(name),
        source,
        mode,
    })
    .collect();
    for part in KIT_PARTS {
        let path = kit_root.join(part);
        let meta = std::fs::symlink_metadata(&path)
            .map_err(Error::io(format!("cannot read {}", path.display())))?;
        if meta.is_file() {
            files.push(KitFile {
                relative: part.into(),
                source: path,
                mode: 0o644,
            });
        } else {
            files.extend(folder_files(kit_root, Path::new(part))?);
        }
    }
    Ok(files)
}

/// The files below `kit_root/relative`, sorted, with their modes (executable or not).
fn folder_files(kit_root: &Path, relative: &Path) -> Result<Vec<KitFile>> {
    use std::os::unix::fs::PermissionsExt;
    let mut files = Vec::new();
    let mut folders = vec![relative.to_owned()];
    while let Some(relative) = folders.pop() {
        let folder = kit_root.join(&relative);
        let entries = std::fs::read_dir(&folder)
            .map_err(Error::io(format!("cannot list {}", folder.display())))?;
        for entry in entries.filter_map(|entry| entry.ok()) {
            let inner = relative.join(entry.file_name());
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
                files.push(KitFile {
                    relative: inner,
                    source: entry.path(),
                    mode,
                });
            }
        }
    }
    files.sort_by(|a, b| a.relative.cmp(&b.relative));
    Ok(files)
}
