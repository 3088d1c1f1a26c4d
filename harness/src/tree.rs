//! A folder a scenario hands a program as `{dir}` (`dir = { tree = "lab-notes" }`): the
//! files of `fixtures/trees/<name>.toml`, written fresh for each scenario, and read back
//! by judges that compare what a program made of it (the zip `mail-archive` mails).
//!
//! ```toml
//! # fixtures/trees/lab-notes.toml: `{dir}` is a fresh folder named `lab-notes`
//! [[file]]
//! path = "README.txt"
//! content = { text = "Lab notes\n" }
//!
//! [[file]]
//! path = "data/big.bin"
//! content = { generate = "binary", bytes = 10485760, seed = 7 }
//!
//! [[folder]]
//! path = "empty"
//! ```
//!
//! Paths are relative, `/`-separated, UTF-8 (spaces and non-ASCII welcome), without `.`
//! or `..`; a folder is made for every file's parents, and `[[folder]]` adds empty ones.
//! Contents are payloads (`text`, `hex`, `file`, `generate`), so a 10 MB file costs the
//! kit no space.

use std::collections::BTreeSet;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::payload::{Payload, PayloadSpec};

/// Where the kit keeps tree descriptions, under its root.
pub const TREE_FOLDER: &str = "fixtures/trees";

/// A described folder, its contents resolved.
#[derive(Debug, Clone)]
pub struct Tree {
    /// The folder's own name (the description's stem).
    pub name: String,
    /// Its files, by relative path, in the order described.
    pub files: Vec<(String, Payload)>,
    /// Every folder inside it (parents of files, and empty ones), by relative path.
    pub folders: BTreeSet<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTree {
    #[serde(default)]
    file: Vec<RawFile>,
    #[serde(default)]
    folder: Vec<RawFolder>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    path: String,
    content: PayloadSpec,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFolder {
    path: String,
}

impl Tree {
    /// The tree `name` of the kit at `kit_root`; the error names the file and the fault.
    pub fn load(kit_root: &Path, name: &str) -> Result<Tree, String> {
        if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(format!(
                "tree `{name}`: name a description of {TREE_FOLDER}/ by its stem (`lab-notes`)"
            ));
        }
        let path = kit_root.join(TREE_FOLDER).join(format!("{name}.toml"));
        let shown = format!("{TREE_FOLDER}/{name}.toml");
        let text = std::fs::read_to_string(&path)
            .map_err(|error| format!("tree `{name}`: cannot read {shown}: {error}"))?;
        let raw: RawTree =
            toml::from_str(&text).map_err(|error| format!("{shown}: {}", error.message()))?;
        let mut tree = Tree {
            name: name.to_owned(),
            files: Vec::new(),
            folders: BTreeSet::new(),
        };
        let mut seen = BTreeSet::new();
        for file in raw.file {
            check_relative(&file.path).map_err(|reason| format!("{shown}: {reason}"))?;
            if !seen.insert(file.path.clone()) {
                return Err(format!("{shown}: `{}` is described twice", file.path));
            }
            tree.add_parents(&file.path);
            let content = file
                .content
                .resolve(kit_root)
                .map_err(|reason| format!("{shown}: `{}`: {reason}", file.path))?;
            tree.files.push((file.path, content));
        }
        for folder in raw.folder {
            check_relative(&folder.path).map_err(|reason| format!("{shown}: {reason}"))?;
            tree.add_parents(&folder.path);
            tree.folders.insert(folder.path);
        }
        if let Some(clash) = tree
            .files
            .iter()
            .find(|(path, _)| tree.folders.contains(path))
        {
            return Err(format!("{shown}: `{}` is a file and a folder", clash.0));
        }
        Ok(tree)
    }

    fn add_parents(&mut self, path: &str) {
        let mut parent = path;
        while let Some((above, _)) = parent.rsplit_once('/') {
            self.folders.insert(above.to_owned());
            parent = above;
        }
    }

    /// Writes the tree as `<parent>/<name>` and returns that folder.
    pub fn write_under(&self, parent: &Path) -> io::Result<PathBuf> {
        let root = parent.join(&self.name);
        std::fs::create_dir_all(&root)?;
        for folder in &self.folders {
            std::fs::create_dir_all(root.join(folder))?;
        }
        for (path, content) in &self.files {
            let mut file = io::BufWriter::new(std::fs::File::create(root.join(path))?);
            io::copy(&mut content.reader()?, &mut file)?;
            file.flush()?;
        }
        Ok(root)
    }

    /// In words, for a step's description: `lab-notes (7 files, 3 folders)`.
    pub fn describe(&self) -> String {
        format!(
            "{} ({} files, {} folders)",
            self.name,
            self.files.len(),
            self.folders.len()
        )
    }
}

/// A path inside the tree: relative, `/`-separated, no empty, `.` or `..` component.
fn check_relative(path: &str) -> Result<(), String> {
    let fine = !path.starts_with('/')
        && !path.contains('\\')
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..");
    if fine {
        Ok(())
    } else {
        Err(format!(
            "`{path}` is not a relative path inside the folder (`/` between names, no `.` or `..`)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kit_root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    #[test]
    fn the_kit_trees_load_and_are_written_exactly() {
        for entry in std::fs::read_dir(kit_root().join(TREE_FOLDER)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
            let tree = Tree::load(&kit_root(), &name).unwrap();
            let parent = tempfile::tempdir().unwrap();
            let root = tree.write_under(parent.path()).unwrap();
            assert_eq!(root.file_name().unwrap().to_str(), Some(name.as_str()));
            for (relative, content) in &tree.files {
                let written = std::fs::read(root.join(relative)).unwrap();
                assert_eq!(written.len() as u64, content.len(), "{relative}");
                assert!(written == content.bytes(), "{relative}");
            }
            for folder in &tree.folders {
                assert!(root.join(folder).is_dir(), "{folder}");
            }
        }
    }

    #[test]
    fn paths_must_stay_inside() {
        for bad in ["/etc/passwd", "../up", "a/../b", "a//b", "./a", "a\\b", ""] {
            assert!(check_relative(bad).is_err(), "{bad}");
        }
        for good in ["a", "a b/ü.txt", "x/y/z"] {
            assert!(check_relative(good).is_ok(), "{good}");
        }
    }
}
