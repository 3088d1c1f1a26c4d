//! Which file `download NAME` may send (SPEC echo/2, echo/4).
//!
//! A name comes from the network, so it is an attack until shown otherwise. Three ways out
//! of the root, and what stops each:
//!
//! ```text
//! download ../secret.txt         a `..` component             refused before any lookup
//! download /etc/passwd           an absolute path             refused before any lookup
//! download link-to-secret.txt    a symlink pointing outside   refused after resolving it
//! ```
//!
//! The last one is why checking the text of the name is not enough: the name looks
//! innocent, and only the file system knows where it leads. So the name is resolved
//! (`canonicalize` follows every link) and the result must still lie inside the root.

use std::io;
use std::path::{Component, Path, PathBuf};

/// The file `name` names inside `root` (a canonical path), or why it may not be sent.
pub fn resolve_inside(root: &Path, name: &str) -> Result<PathBuf, String> {
    if name.is_empty() {
        return Err("download needs a file name".into());
    }
    let relative = Path::new(name);
    for component in relative.components() {
        match component {
            Component::Normal(_) | Component::CurDir => {}
            Component::ParentDir => return Err(format!("{name}: `..` leaves the root")),
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!("{name}: absolute paths are not served"));
            }
        }
    }
    let resolved = root.join(relative).canonicalize().map_err(|error| {
        if error.kind() == io::ErrorKind::NotFound {
            format!("{name}: no such file")
        } else {
            format!("{name}: {error}")
        }
    })?;
    // `canonicalize` followed the links: where the name really leads must be in the root.
    if !resolved.starts_with(root) {
        return Err(format!("{name}: leads outside the root"));
    }
    if !resolved.is_file() {
        return Err(format!("{name}: not a file"));
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_inside_the_root_are_served() {
        let site = tempfile::tempdir().unwrap();
        let root = site.path().join("root");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("notes.txt"), "notes").unwrap();
        std::fs::write(root.join("sub/inner.txt"), "inner").unwrap();
        std::fs::write(site.path().join("secret.txt"), "secret").unwrap();
        std::os::unix::fs::symlink("../secret.txt", root.join("out.txt")).unwrap();
        std::os::unix::fs::symlink("notes.txt", root.join("in.txt")).unwrap();
        let root = root.canonicalize().unwrap();

        assert_eq!(
            resolve_inside(&root, "notes.txt"),
            Ok(root.join("notes.txt"))
        );
        assert_eq!(
            resolve_inside(&root, "./sub/inner.txt"),
            Ok(root.join("sub/inner.txt"))
        );
        assert_eq!(resolve_inside(&root, "in.txt"), Ok(root.join("notes.txt")));
        for refused in [
            "../secret.txt",
            "sub/../../secret.txt",
            "/etc/passwd",
            "out.txt",
            "sub",
            "missing",
            "",
        ] {
            assert!(
                resolve_inside(&root, refused).is_err(),
                "{refused} was served"
            );
        }
    }
}
