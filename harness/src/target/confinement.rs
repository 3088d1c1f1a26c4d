//! Paths from a submission stay inside it.
//!
//! `submission.toml` is the student's own file, written by someone who may want a look at a
//! classmate's work or the grader's machine. So:
//!
//! - every path it names (`workdir`, `site_files`, any word of a command line that names an
//!   existing path) must lead, symbolic links followed, inside the submission folder; the
//!   only other places a command line may name are the grader's **companion** folders
//!   (`--companions DIR`, `HARNESS_COMPANIONS`: known-good programs such as an instructor's
//!   reference client, read-only) and, written as absolute paths, the system's own folders
//!   that every program sees anyway (`/usr/bin/python3`);
//! - the submission is graded from a **private copy** ([`PrivateCopy`]): a fresh folder
//!   only the harness's user can enter, holding the submission's files but no symbolic link
//!   that leads out of it. A batch grades each submission from its own copy, which no other
//!   submission can name.
//!
//! Paths are compared as canonical paths, component by component (`Path::starts_with`),
//! never as strings.

use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use crate::{Error, Result};

/// The environment variable naming companion folders, separated by `:` (as `PATH`).
pub const COMPANIONS_VARIABLE: &str = "HARNESS_COMPANIONS";

/// The most bytes of files a private copy holds.
pub const MAX_COPY_BYTES: u64 = 256 << 20;

/// The most entries (files, folders, links) a private copy holds.
pub const MAX_COPY_ENTRIES: usize = 20_000;

/// The system's folders every program sees read-only: a command line may name a program
/// there by its absolute path (`/usr/bin/python3`).
const SYSTEM: [&str; 7] = [
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
];

/// What the grader allows a submission to name outside its own folder: the companion
/// folders, read-only. Decided by the grader (the command line, the environment), never by
/// a submission.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Confinement {
    /// Folders of known-good programs (canonical paths) a manifest may name.
    pub companions: Vec<PathBuf>,
}

impl Confinement {
    /// No companion: a submission names only its own files.
    pub fn none() -> Confinement {
        Confinement::default()
    }

    /// `folders` as companions; each must be a folder (made canonical).
    pub fn new(folders: impl IntoIterator<Item = PathBuf>) -> Result<Confinement> {
        let mut companions: Vec<PathBuf> = Vec::new();
        for folder in folders {
            if !folder.is_dir() {
                return Err(Error::Usage(format!(
                    "companion folder `{}` is not a folder",
                    folder.display()
                )));
            }
            let real = folder.canonicalize().map_err(Error::io(format!(
                "cannot open companion folder {}",
                folder.display()
            )))?;
            if !companions.contains(&real) {
                companions.push(real);
            }
        }
        Ok(Confinement { companions })
    }

    /// The folders of `--companions` (`given`), then those of [`COMPANIONS_VARIABLE`].
    pub fn from_arguments_and_environment(given: &[PathBuf]) -> Result<Confinement> {
        let from_environment = std::env::var_os(COMPANIONS_VARIABLE)
            .map(|value| {
                std::env::split_paths(&value)
                    .filter(|path| !path.as_os_str().is_empty())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        Confinement::new(given.iter().cloned().chain(from_environment)).map_err(|error| {
            Error::Usage(format!(
                "{error} (given with --companions or in {COMPANIONS_VARIABLE})"
            ))
        })
    }

    /// Refuses a companion folder that holds the submission `original` (the folder of a
    /// whole class): every classmate's file would be a companion.
    pub(super) fn check_against(&self, original: &Path) -> Result<()> {
        match self
            .companions
            .iter()
            .find(|companion| original != companion.as_path() && original.starts_with(companion))
        {
            Some(companion) => Err(Error::Usage(format!(
                "companion folder {} holds the submission {}: give only the folder of the known-good programs, never a folder of students' submissions",
                companion.display(),
                original.display()
            ))),
            None => Ok(()),
        }
    }
}

/// Where a path named by a manifest leads.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Place {
    /// Inside the submission: the same place in its private copy.
    Submission(PathBuf),
    /// Inside a companion folder (canonical).
    Companion(PathBuf),
    /// In the system's folders, named by an absolute path (as written).
    System(PathBuf),
}

/// Which places a path may lead to besides the submission.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Allow {
    /// The submission only (a working folder, files copied into the site).
    SubmissionOnly,
    /// Also companions and, by an absolute path, the system's folders (a command line).
    CommandLine,
}

/// The submission's folder, its private copy, and what else may be named.
#[derive(Debug, Clone, Copy)]
pub(super) struct Scope<'a> {
    /// The submission folder, canonical.
    pub original: &'a Path,
    /// Its private copy.
    pub copy: &'a Path,
    pub confinement: &'a Confinement,
}

impl Scope<'_> {
    /// Where `named` (relative to the submission folder, or absolute) leads: `Ok(None)` if it
    /// names nothing that exists, `Err` (the reason) if it leads outside what `allow` lets.
    pub(super) fn resolve(
        &self,
        named: &str,
        allow: Allow,
    ) -> std::result::Result<Option<Place>, String> {
        let path = self.original.join(named);
        let Ok(real) = path.canonicalize() else {
            return Ok(None);
        };
        if let Ok(inside) = real.strip_prefix(self.original) {
            return Ok(Some(Place::Submission(self.copy.join(inside))));
        }
        if allow == Allow::CommandLine {
            if self
                .confinement
                .companions
                .iter()
                .any(|companion| real.starts_with(companion))
            {
                return Ok(Some(Place::Companion(real)));
            }
            if Path::new(named).is_absolute()
                && SYSTEM.iter().any(|system| real.starts_with(system))
            {
                return Ok(Some(Place::System(PathBuf::from(named))));
            }
        }
        let through_link = if lexically_normal(&path) != real {
            format!(" (it leads to {})", real.display())
        } else {
            String::new()
        };
        let hint = match allow {
            Allow::SubmissionOnly => "",
            Allow::CommandLine => {
                "; a folder of known-good programs (a reference client) is allowed only if the grader gives it with --companions"
            }
        };
        Err(format!(
            "`{named}`{through_link} is outside the submission folder {}: a submission may name only its own files{hint}",
            self.original.display()
        ))
    }
}

/// `path` with `.` and `..` taken out as written (no link followed), to tell whether
/// canonicalizing it went through a symbolic link.
fn lexically_normal(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                normal.pop();
            }
            other => normal.push(other),
        }
    }
    normal
}

/// Refuses a submission folder that is itself a symbolic link: graded through it, the
/// submission would be whatever it leads to (the kit's good sample, a classmate's folder),
/// and a platform's script that takes a submission's one folder as the submission
/// (Gradescope's `run_autograder`) would follow a link the student made. The folders
/// above it are the grader's, and may be links.
pub(super) fn refuse_a_linked_folder(dir: &Path) -> Result<()> {
    // As components: a trailing `/` or `/.` would have `lstat` follow the link.
    let named: PathBuf = dir.components().collect();
    let is_link = named
        .symlink_metadata()
        .is_ok_and(|metadata| metadata.file_type().is_symlink());
    if !is_link {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "submission `{}` is a symbolic link to {}: a submission is graded from its own folder, never through a link, and scores nothing this way",
        dir.display(),
        link_text(&named)
    )))
}

/// Refuses a program given alone as the target (`--target ./message-server`) that is a
/// symbolic link, as [`refuse_a_linked_folder`] refuses a linked folder: graded through it,
/// the program would be whatever it leads to (a classmate's).
pub(super) fn refuse_a_linked_file(file: &Path) -> Result<()> {
    let is_link = file
        .symlink_metadata()
        .is_ok_and(|metadata| metadata.file_type().is_symlink());
    if !is_link {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "program `{}` is a symbolic link to {}: a program is graded from its own file, never through a link, and scores nothing this way; give the file itself",
        file.display(),
        link_text(file)
    )))
}

/// Refuses a submission whose program by convention for `name` (`message-server`,
/// `message-server.py`) is a symbolic link leading out of it, which its private copy
/// `copy` left out: said at once, naming the link, rather than graded as not submitted.
pub(super) fn refuse_a_linked_program(original: &Path, copy: &Path, name: &str) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(original) else {
        return Ok(());
    };
    for entry in entries.filter_map(|entry| entry.ok()) {
        let path = entry.path();
        let named = super::named_by_convention(&path, name);
        let is_link = entry.file_type().is_ok_and(|kind| kind.is_symlink());
        let left_out = copy.join(entry.file_name()).symlink_metadata().is_err();
        if named && is_link && left_out {
            return Err(Error::Usage(format!(
                "`{}` is a symbolic link to {}, outside the submission folder {} (or to nothing): a program is graded from the submission's own files, never through a link; copy the file into the folder",
                entry.file_name().to_string_lossy(),
                link_text(&path),
                original.display()
            )));
        }
    }
    Ok(())
}

/// What the link at `path` says it leads to, as written.
fn link_text(path: &Path) -> String {
    std::fs::read_link(path).map_or_else(|_| "?".into(), |target| target.display().to_string())
}

/// The folders of the kit's fixtures (`{kit}/fixtures/www/pixel.png`: `fixtures/www`) that
/// a scenario's own arguments name, which its program must be able to read: only inside the
/// kit's `fixtures/`, never its sample submissions.
pub fn kit_fixture_folders<'a>(
    words: impl IntoIterator<Item = &'a str>,
    kit_root: &Path,
) -> Vec<PathBuf> {
    // Canonical each (a kit made for a test links its `fixtures/` to the kit's own).
    let Ok(fixtures) = kit_root.join("fixtures").canonicalize() else {
        return Vec::new();
    };
    let submissions = fixtures
        .join("submissions")
        .canonicalize()
        .unwrap_or_else(|_| fixtures.join("submissions"));
    let mut folders = Vec::new();
    for word in words {
        let Ok(real) = Path::new(word).canonicalize() else {
            continue;
        };
        let folder = if real.is_dir() {
            real
        } else {
            match real.parent() {
                Some(parent) => parent.to_owned(),
                None => continue,
            }
        };
        if folder.starts_with(&fixtures)
            && folder != fixtures
            && !folder.starts_with(&submissions)
            && !folders.contains(&folder)
        {
            folders.push(folder);
        }
    }
    folders
}

/// A submission's private copy: what is graded, in a fresh folder only the harness's user
/// may enter (mode 0700), removed when the last holder drops it.
///
/// Inside it every folder is mode 0777 and every file readable and writable by everyone
/// (0666, 0777 when the original could be executed): its programs may run as another,
/// unprivileged user, and must read their files and write their working folder; the
/// private parent keeps everyone else out. No setuid or setgid bit survives.
#[derive(Debug)]
pub struct PrivateCopy {
    /// The copy (`<private folder>/<name of the submission>`).
    root: PathBuf,
    /// What was left out, and why (a link leading outside the submission).
    warnings: Vec<String>,
    /// Removed on drop.
    _folder: crate::temporary::Folder,
}

impl PrivateCopy {
    /// Copies `original` (a canonical folder), without following any link, within
    /// [`MAX_COPY_BYTES`] and [`MAX_COPY_ENTRIES`].
    pub fn make(original: &Path) -> Result<PrivateCopy> {
        let (folder, private) = private_folder()?;
        let name = original
            .file_name()
            .map_or_else(|| "submission".into(), |name| name.to_owned());
        let root = private.join(name);
        let mut copier = Copier {
            original,
            copy: &root,
            bytes: 0,
            entries: 0,
            warnings: Vec::new(),
        };
        copier.folder(original, &root)?;
        let warnings = copier.warnings;
        Ok(PrivateCopy {
            root,
            warnings,
            _folder: folder,
        })
    }

    /// A private copy holding the one program file `original` (canonical, not a link) and
    /// nothing else: the files beside it (a classmate's) stay out of the program's sight.
    /// The copy's folder is named after the file's folder.
    pub fn of_file(original: &Path) -> Result<PrivateCopy> {
        let (folder, private) = private_folder()?;
        let parent = original.parent().unwrap_or(Path::new("/"));
        let name = parent
            .file_name()
            .map_or_else(|| "submission".into(), |name| name.to_owned());
        let root = private.join(name);
        std::fs::create_dir(&root).map_err(Error::io(format!("cannot make {}", root.display())))?;
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o777))
            .map_err(Error::io(format!("cannot open up {}", root.display())))?;
        let mut copier = Copier {
            original: parent,
            copy: &root,
            bytes: 0,
            entries: 0,
            warnings: Vec::new(),
        };
        let file_name = original
            .file_name()
            .ok_or_else(|| Error::Usage(format!("`{}` names no file", original.display())))?;
        copier.file(original, &root.join(file_name))?;
        let warnings = copier.warnings;
        Ok(PrivateCopy {
            root,
            warnings,
            _folder: folder,
        })
    }

    /// The copy's folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// What was left out of the copy, and why.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

/// A new private folder to hold a copy (its mode: [`sandbox::private_folder_mode`]), and
/// its canonical path.
fn private_folder() -> Result<(crate::temporary::Folder, PathBuf)> {
    let folder = crate::temporary::folder("harness-submission-").map_err(Error::io(
        "cannot make a private folder for the submission's copy",
    ))?;
    let mode = sandbox::private_folder_mode();
    std::fs::set_permissions(folder.path(), std::fs::Permissions::from_mode(mode)).map_err(
        Error::io(format!("cannot protect {}", folder.path().display())),
    )?;
    let private = folder.path().canonicalize().map_err(Error::io(format!(
        "cannot open {}",
        folder.path().display()
    )))?;
    Ok((folder, private))
}

/// One copy being made, with its running totals.
struct Copier<'a> {
    original: &'a Path,
    copy: &'a Path,
    bytes: u64,
    entries: usize,
    warnings: Vec<String>,
}

impl Copier<'_> {
    fn too_big(&self, what: String) -> Error {
        Error::Usage(format!(
            "submission {} is too big to grade: {what} (at most {} files and {} MiB)",
            self.original.display(),
            MAX_COPY_ENTRIES,
            MAX_COPY_BYTES >> 20
        ))
    }

    fn count(&mut self) -> Result<()> {
        self.entries += 1;
        if self.entries > MAX_COPY_ENTRIES {
            return Err(self.too_big(format!("more than {MAX_COPY_ENTRIES} files")));
        }
        Ok(())
    }

    /// `source` (a real folder of the submission) copied to `destination`.
    fn folder(&mut self, source: &Path, destination: &Path) -> Result<()> {
        std::fs::create_dir(destination)
            .map_err(Error::io(format!("cannot make {}", destination.display())))?;
        std::fs::set_permissions(destination, std::fs::Permissions::from_mode(0o777)).map_err(
            Error::io(format!("cannot open up {}", destination.display())),
        )?;
        let mut entries: Vec<_> = std::fs::read_dir(source)
            .map_err(Error::io(format!("cannot list {}", source.display())))?
            .collect::<std::io::Result<_>>()
            .map_err(Error::io(format!("cannot list {}", source.display())))?;
        entries.sort_by_key(|entry| entry.file_name());
        for entry in entries {
            self.count()?;
            let from = entry.path();
            let to = destination.join(entry.file_name());
            // Not following links: `file_type` of a directory entry is the entry's own.
            let kind = entry
                .file_type()
                .map_err(Error::io(format!("cannot read {}", from.display())))?;
            if kind.is_symlink() {
                self.link(&from, &to)?;
            } else if kind.is_dir() {
                self.folder(&from, &to)?;
            } else if kind.is_file() {
                self.file(&from, &to)?;
            } else {
                self.warnings.push(format!(
                    "{} left out of the copy graded: not a file, folder or link (a pipe, socket or device)",
                    from.display()
                ));
            }
        }
        Ok(())
    }

    /// A regular file, its bytes counted against [`MAX_COPY_BYTES`].
    fn file(&mut self, from: &Path, to: &Path) -> Result<()> {
        // The entry was a file when listed: if it has become a link it is not followed, and
        // if it has become a pipe, opening it does not wait for a writer.
        let mut source = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(from)
            .map_err(Error::io(format!("cannot read {}", from.display())))?;
        let metadata = source
            .metadata()
            .map_err(Error::io(format!("cannot read {}", from.display())))?;
        if !metadata.is_file() {
            self.warnings.push(format!(
                "{} left out of the copy graded: it changed while being copied",
                from.display()
            ));
            return Ok(());
        }
        let mode = metadata.permissions().mode();
        let room = MAX_COPY_BYTES - self.bytes;
        if metadata.len() > room {
            return Err(self.too_big(format!("more than {} MiB of files", MAX_COPY_BYTES >> 20)));
        }
        let mut destination = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(to)
            .map_err(Error::io(format!("cannot write {}", to.display())))?;
        // The file may have grown since: never more than the room left.
        let copied = std::io::copy(&mut (&mut source).take(room + 1), &mut destination)
            .map_err(Error::io(format!("cannot copy {}", from.display())))?;
        destination
            .flush()
            .map_err(Error::io(format!("cannot write {}", to.display())))?;
        if copied > room {
            return Err(self.too_big(format!("more than {} MiB of files", MAX_COPY_BYTES >> 20)));
        }
        self.bytes += copied;
        let executable = mode & 0o111 != 0;
        let shared = if executable { 0o777 } else { 0o666 };
        destination
            .set_permissions(std::fs::Permissions::from_mode(shared))
            .map_err(Error::io(format!("cannot open up {}", to.display())))
    }

    /// A symbolic link: copied as a link to the same place in the copy if it leads inside
    /// the submission, else left out with a warning.
    fn link(&mut self, from: &Path, to: &Path) -> Result<()> {
        let inside = from
            .canonicalize()
            .ok()
            .and_then(|real| real.strip_prefix(self.original).ok().map(Path::to_owned));
        let Some(target) = inside else {
            let leads = std::fs::read_link(from)
                .map(|target| target.display().to_string())
                .unwrap_or_else(|_| "?".into());
            self.warnings.push(format!(
                "{} left out of the copy graded: a symbolic link to {leads}, outside the submission (or to nothing)",
                from.display()
            ));
            return Ok(());
        };
        // A relative link: from the link's folder up to the copy's root, then down.
        let folder = to
            .parent()
            .and_then(|parent| parent.strip_prefix(self.copy).ok())
            .unwrap_or(Path::new(""));
        let mut relative = PathBuf::new();
        for _ in folder.components() {
            relative.push("..");
        }
        relative.push(&target);
        if relative.as_os_str().is_empty() {
            relative.push(".");
        }
        std::os::unix::fs::symlink(&relative, to)
            .map_err(Error::io(format!("cannot make the link {}", to.display())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn a_copy_keeps_files_dotfiles_and_inner_links_but_no_link_leading_out() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "s").unwrap();
        let folder = tempfile::tempdir().unwrap();
        let original = folder.path().canonicalize().unwrap();
        std::fs::create_dir(original.join("lib")).unwrap();
        std::fs::write(original.join("lib/util.py"), "u").unwrap();
        std::fs::write(original.join(".hidden"), "h").unwrap();
        std::fs::write(original.join("run"), "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(
            original.join("run"),
            std::fs::Permissions::from_mode(0o4700),
        )
        .unwrap();
        symlink("lib/util.py", original.join("alias.py")).unwrap();
        symlink("../alias.py", original.join("lib/up.py")).unwrap();
        symlink(outside.path().join("secret"), original.join("leak")).unwrap();
        let copy = PrivateCopy::make(&original).unwrap();
        let root = copy.root();
        let parent_mode = root
            .parent()
            .unwrap()
            .metadata()
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(parent_mode & 0o777, sandbox::private_folder_mode());
        assert_eq!(std::fs::read_to_string(root.join(".hidden")).unwrap(), "h");
        assert_eq!(std::fs::read_to_string(root.join("alias.py")).unwrap(), "u");
        assert_eq!(
            std::fs::read_to_string(root.join("lib/up.py")).unwrap(),
            "u"
        );
        assert!(!root.join("leak").exists() && root.join("leak").symlink_metadata().is_err());
        assert_eq!(copy.warnings().len(), 1, "{:?}", copy.warnings());
        assert!(copy.warnings()[0].contains("leak"), "{:?}", copy.warnings());
        let mode = |path: &Path| path.metadata().unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode(root), 0o777);
        assert_eq!(mode(&root.join("lib")), 0o777);
        assert_eq!(mode(&root.join("lib/util.py")), 0o666);
        assert_eq!(mode(&root.join("run")), 0o777, "executable, no setuid bit");
        // The links lead into the copy, not back to the original.
        assert!(
            root.join("alias.py")
                .canonicalize()
                .unwrap()
                .starts_with(root)
        );
        let private = root.parent().unwrap().to_owned();
        drop(copy);
        assert!(!private.exists(), "the copy is removed with its holder");
    }

    #[test]
    fn a_scenario_shows_the_kits_fixtures_it_names_never_its_sample_submissions() {
        let kit = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let fixtures = kit.join("fixtures").canonicalize().unwrap();
        let words = [
            "--attach".to_owned(),
            kit.join("fixtures/www/pixel.png").display().to_string(),
            kit.join("fixtures/submissions/good/message-client.py")
                .display()
                .to_string(),
            "/etc/passwd".to_owned(),
        ];
        let folders = kit_fixture_folders(words.iter().map(String::as_str), &kit);
        assert_eq!(folders, vec![fixtures.join("www")]);
    }

    #[test]
    fn a_copy_past_its_bounds_is_refused() {
        let folder = tempfile::tempdir().unwrap();
        let original = folder.path().canonicalize().unwrap();
        for index in 0..=MAX_COPY_ENTRIES {
            std::fs::write(original.join(format!("f{index}")), "").unwrap();
        }
        let error = PrivateCopy::make(&original).unwrap_err().to_string();
        assert!(error.contains("too big to grade"), "{error}");
        assert!(error.contains("more than 20000 files"), "{error}");
    }

    #[test]
    fn a_file_past_the_size_bound_is_refused() {
        let folder = tempfile::tempdir().unwrap();
        let original = folder.path().canonicalize().unwrap();
        // A sparse file: its size counts, not the disk it takes.
        let file = std::fs::File::create(original.join("big")).unwrap();
        file.set_len(MAX_COPY_BYTES + 1).unwrap();
        let error = PrivateCopy::make(&original).unwrap_err().to_string();
        assert!(error.contains("more than 256 MiB"), "{error}");
    }
}
