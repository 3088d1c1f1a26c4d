//! Report files made new, never written through a link.
//!
//! A report's path may be in a folder a graded program can write too: `/tmp` in a grading
//! platform's container, where programs run as the harness's own user. A link planted there
//! at the report's name (`/tmp/report.json -> /autograder/results/results.json`, or a file
//! of the grader's) would have the harness write the report through it, over a file of the
//! program's choosing. So every file the harness writes for a report (`--json`, `--junit`,
//! `--gradebook`, the platforms' documents, `--record`, `--html` pages, captures, a
//! package) is made new beside its destination under a fresh name, with `O_CREAT|O_EXCL`
//! (never an existing file, never through a link, dangling or not), then renamed over the
//! destination: a rename replaces a link there, never what it leads to. A report folder
//! (`--html`, `--pcap`) that is a link is refused.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Writes `contents` as the file `path`, made new and renamed over it whole: a reader
/// sees the older file or the whole new one.
pub fn write(path: &Path, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let mut file = beside(path)?;
    file.write_all(contents.as_ref())?;
    file.persist(path).map_err(|error| error.error)?;
    Ok(())
}

/// The file `path`, made new, empty, and renamed over it at once, open for writing: for a
/// report written as the run goes (`--record`, a capture), which keeps what it has when
/// the run is interrupted.
pub fn create(path: &Path) -> io::Result<File> {
    beside(path)?.persist(path).map_err(|error| error.error)
}

/// Makes the folder `path` (and those above it) for a report's files, refusing one that is
/// a symbolic link: the files would go where the link leads.
pub fn folder(path: &Path) -> io::Result<()> {
    std::fs::create_dir_all(path)?;
    // As components: a trailing `/` would have `lstat` follow the link.
    let named: std::path::PathBuf = path.components().collect();
    if std::fs::symlink_metadata(&named)?.file_type().is_symlink() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!(
                "{} is a symbolic link: reports are never written through a link; give a folder",
                path.display()
            ),
        ));
    }
    Ok(())
}

/// A new file in `path`'s folder under a fresh hidden name, with the mode a file
/// `std::fs::write` makes gets (0666 less the umask), not a temporary file's 0600: a
/// platform may read the report as another user.
fn beside(path: &Path) -> io::Result<tempfile::NamedTempFile> {
    let folder = match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map_or_else(|| "report".into(), |name| name.to_string_lossy());
    tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".new")
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(folder)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder holding a file `outside`, and `report.json`, a link to it.
    fn planted() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
        let folder = tempfile::tempdir().unwrap();
        let outside = folder.path().join("outside");
        std::fs::write(&outside, "the grader's file").unwrap();
        let report = folder.path().join("report.json");
        std::os::unix::fs::symlink(&outside, &report).unwrap();
        (folder, outside, report)
    }

    #[test]
    fn a_report_replaces_a_link_at_its_path_and_never_writes_where_it_leads() {
        let (_folder, outside, report) = planted();
        write(&report, "{}").unwrap();
        assert_eq!(
            std::fs::read_to_string(&outside).unwrap(),
            "the grader's file"
        );
        assert!(std::fs::symlink_metadata(&report).unwrap().is_file());
        assert_eq!(std::fs::read_to_string(&report).unwrap(), "{}");

        let (_folder, outside, report) = planted();
        let mut file = create(&report).unwrap();
        file.write_all(b"line\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&outside).unwrap(),
            "the grader's file"
        );
        assert!(std::fs::symlink_metadata(&report).unwrap().is_file());
        assert_eq!(std::fs::read_to_string(&report).unwrap(), "line\n");
    }

    #[test]
    fn a_report_is_readable_as_std_writes_it_and_leaves_nothing_beside_it() {
        let folder = tempfile::tempdir().unwrap();
        let report = folder.path().join("results.json");
        write(&report, "old").unwrap();
        write(&report, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&report).unwrap(), "new");
        let std_written = folder.path().join("std");
        std::fs::write(&std_written, "std").unwrap();
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&report), mode(&std_written));
        std::fs::remove_file(&std_written).unwrap();
        let names: Vec<_> = std::fs::read_dir(folder.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["results.json"]);
    }

    #[test]
    fn a_report_folder_that_is_a_link_is_refused() {
        let folder = tempfile::tempdir().unwrap();
        let elsewhere = folder.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        let html = folder.path().join("html");
        std::os::unix::fs::symlink(&elsewhere, &html).unwrap();
        for given in [html.clone(), html.join("")] {
            let error = super::folder(&given).unwrap_err().to_string();
            assert!(error.contains("is a symbolic link"), "{error}");
        }
        super::folder(&folder.path().join("pcap/alice")).unwrap();
        assert!(folder.path().join("pcap/alice").is_dir());
    }
}
