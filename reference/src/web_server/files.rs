//! Opening the file a request names, without ever leaving the root (SPEC `web/5`).
//!
//! [`resolve_target`](super::target::resolve_target) has already refused `..` and made
//! the path relative. One way out remains: a symbolic link inside the root that points
//! outside it (`root/docs -> /etc`). So the joined path is resolved to its real path
//! (every link followed, as `realpath` does) and must still be under the real root.
//!
//! ```text
//! root      /srv/site/root            (made canonical once, at startup)
//! relative  docs/notes.txt
//! joined    /srv/site/root/docs/notes.txt
//! real      /srv/site/root/docs/notes.txt    under the root: open it
//!           /etc/notes.txt                   a link led out: 403
//! ```

use std::io;
use std::path::{Path, PathBuf};

use tokio::fs::File;

use super::response::{Status, content_type};

/// The page served for a folder: `/` is `/index.html`.
pub const INDEX: &str = "index.html";

/// An open file, ready to be sent.
#[derive(Debug)]
pub struct Found {
    /// The file, opened for reading.
    pub file: File,
    /// Its size when opened: the `Content-Length` promised to the client.
    pub length: u64,
    /// Its `Content-Type`, from its extension.
    pub content_type: &'static str,
}

/// Opens `relative` (from `resolve_target`) under `root`, which must be canonical.
///
/// A folder stands for its `index.html`. Errors are the status to answer: 404 if there is
/// no such file, 403 if it lies outside the root or cannot be read.
///
/// Shortcuts a production server would not take: a folder asked for without its final
/// `/` (`/docs`) is answered with its index directly, where a real server redirects to
/// `/docs/` so that the page's relative links work; and the file is checked, then opened,
/// so a link swapped in between the two could still be followed (a real server opens
/// with `O_NOFOLLOW` or `openat2(RESOLVE_BENEATH)` to close that gap).
pub async fn open_in_root(root: &Path, relative: &Path) -> Result<Found, Status> {
    let mut real = real_path_inside(root, &root.join(relative)).await?;
    let mut metadata = tokio::fs::metadata(&real).await.map_err(status_of)?;
    if metadata.is_dir() {
        real = real_path_inside(root, &real.join(INDEX)).await?;
        metadata = tokio::fs::metadata(&real).await.map_err(status_of)?;
    }
    // Only regular files: opening a named pipe (FIFO) would wait forever for a writer,
    // and a device file could be endless.
    if !metadata.is_file() {
        return Err(Status::NotFound);
    }
    let file = File::open(&real).await.map_err(status_of)?;
    // The size of the file as opened, which is what will be read.
    let length = file.metadata().await.map_err(status_of)?.len();
    Ok(Found {
        file,
        length,
        content_type: content_type(&real),
    })
}

/// The real path of `path` (links followed), if it exists and lies under `root`.
async fn real_path_inside(root: &Path, path: &Path) -> Result<PathBuf, Status> {
    let real = tokio::fs::canonicalize(path).await.map_err(status_of)?;
    // `Path::starts_with` compares whole components: `/srv/root2` does not start with
    // `/srv/root`, as it would comparing text.
    if real.starts_with(root) {
        Ok(real)
    } else {
        Err(Status::Forbidden)
    }
}

/// The status for a failure to find or open a file.
///
/// Missing files and paths through something that is not a folder are 404; a file the
/// server may not read is 403. Anything else (a disk error) is answered with 404 too: a
/// real server would say 500 Internal Server Error, the server's fault, not the client's.
fn status_of(error: io::Error) -> Status {
    match error.kind() {
        io::ErrorKind::PermissionDenied => Status::Forbidden,
        _ => Status::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A root with a file, a folder with an index, a folder without, and a secret next
    /// to the root.
    fn site() -> (tempfile::TempDir, PathBuf) {
        let folder = tempfile::tempdir().unwrap();
        let root = folder.path().join("root");
        std::fs::create_dir_all(root.join("docs")).unwrap();
        std::fs::create_dir_all(root.join("empty")).unwrap();
        std::fs::write(root.join("notes.txt"), "notes").unwrap();
        std::fs::write(root.join(INDEX), "<p>home</p>").unwrap();
        std::fs::write(root.join("docs").join(INDEX), "<p>docs</p>").unwrap();
        std::fs::write(folder.path().join("secret.txt"), "secret").unwrap();
        let root = root.canonicalize().unwrap();
        (folder, root)
    }

    #[tokio::test]
    async fn a_file_is_opened_with_its_size_and_type() {
        let (_folder, root) = site();
        let found = open_in_root(&root, Path::new("notes.txt")).await.unwrap();
        assert_eq!(found.length, 5);
        assert_eq!(found.content_type, "text/plain; charset=utf-8");
    }

    #[tokio::test]
    async fn a_folder_stands_for_its_index() {
        let (_folder, root) = site();
        let found = open_in_root(&root, Path::new("")).await.unwrap();
        assert_eq!(found.length, 11);
        assert_eq!(found.content_type, "text/html; charset=utf-8");
        let found = open_in_root(&root, Path::new("docs")).await.unwrap();
        assert_eq!(found.length, 11);
    }

    #[tokio::test]
    async fn missing_files_and_folders_without_index_are_404() {
        let (_folder, root) = site();
        for missing in ["nothing.html", "empty", "notes.txt/inside", "docs/nothing"] {
            let result = open_in_root(&root, Path::new(missing)).await;
            assert_eq!(result.unwrap_err(), Status::NotFound, "{missing}");
        }
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_link_out_of_the_root_is_403() {
        let (folder, root) = site();
        std::os::unix::fs::symlink(folder.path().join("secret.txt"), root.join("link.txt"))
            .unwrap();
        std::os::unix::fs::symlink(folder.path(), root.join("up")).unwrap();
        for name in ["link.txt", "up/secret.txt", "up"] {
            let result = open_in_root(&root, Path::new(name)).await;
            assert_eq!(result.unwrap_err(), Status::Forbidden, "{name}");
        }
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_link_that_stays_in_the_root_is_followed() {
        let (_folder, root) = site();
        std::os::unix::fs::symlink(root.join("notes.txt"), root.join("alias.txt")).unwrap();
        let found = open_in_root(&root, Path::new("alias.txt")).await.unwrap();
        assert_eq!(found.length, 5);
    }
}
