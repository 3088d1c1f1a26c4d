//! Whether a mailed zip unzips to exactly a folder (SPEC archive/1): every file of the
//! tree with its relative path and bytes, nothing else, nothing outside.
//!
//! What the clause allows, and so what this accepts:
//! - entries at the zip's root (`README.txt`) or all under one top-level folder named
//!   as the program saw the folder (`lab-notes/README.txt`), as `zip -r lab-notes.zip
//!   lab-notes` and `shutil.make_archive` make them;
//! - folder entries (`data/`) or none; empty folders may be left out;
//! - any compression method the zip format has (the crate reads stored and deflated).
//!
//! What it refuses, each with the entry named: an absolute path (`/tmp/x/README.txt`:
//! `zf.write(path)` without `arcname`), a `..` component (an unzip that follows it writes
//! outside the folder), a file the tree does not have (the archive itself, written inside
//! the folder it archives), a file missing, different bytes.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Read};

use crate::tree::Tree;

/// The most problems listed in one verdict: the first few tell the story.
const SHOWN: usize = 4;

/// `Ok` if `zip` unzips to exactly `tree`, which its program saw as the folder `folder`
/// (the tree's name, or the one a program that always opens its own folder opened); else
/// what is wrong, in words.
pub(super) fn judge_zip(zip: &[u8], tree: &Tree, folder: &str) -> Result<(), String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(zip))
        .map_err(|error| format!("not a zip archive that can be read ({error})"))?;
    // Every entry: its name as stored, whether a folder, and (files) its bytes.
    let mut entries: Vec<(String, bool, Vec<u8>)> = Vec::new();
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|error| format!("entry {index} cannot be read ({error})"))?;
        let name = entry
            .name()
            .map_err(|error| format!("the name of entry {index} cannot be read ({error})"))?
            .into_owned();
        let is_dir = entry.is_dir();
        let mut bytes = Vec::new();
        if !is_dir {
            entry
                .read_to_end(&mut bytes)
                .map_err(|error| format!("`{name}` cannot be unzipped ({error})"))?;
        }
        entries.push((name, is_dir, bytes));
    }

    let mut problems = Vec::new();
    for (name, _, _) in &entries {
        if name.starts_with('/') || name.starts_with('\\') || name.get(1..2) == Some(":") {
            problems.push(format!(
                "`{name}` has an absolute path (store paths relative to the folder)"
            ));
        } else if name.split(['/', '\\']).any(|part| part == "..") {
            problems.push(format!("`{name}` leads out of the folder (`..`)"));
        }
    }
    if !problems.is_empty() {
        return Err(listed(problems));
    }

    // One top-level folder named as the program saw it may hold everything.
    let prefix = format!("{folder}/");
    let under_prefix = entries
        .iter()
        .all(|(name, _, _)| name.starts_with(&prefix) || *name == prefix);
    let relative = |name: &str| -> String {
        let name = if under_prefix {
            &name[prefix.len().min(name.len())..]
        } else {
            name
        };
        name.trim_end_matches('/').to_owned()
    };

    let wanted: BTreeMap<&str, &crate::payload::Payload> = tree
        .files
        .iter()
        .map(|(path, content)| (path.as_str(), content))
        .collect();
    let mut found = BTreeSet::new();
    // Files stored under the folder's whole path on the sender's machine
    // (`tmp/x/lab-notes/README.txt`: zipfile drops only the leading `/`), shown once.
    let mut carried: Vec<String> = Vec::new();
    let marker = format!("/{}/", tree.name);
    for (name, is_dir, bytes) in &entries {
        let path = relative(name);
        if path.is_empty() {
            continue;
        }
        if *is_dir {
            if !tree.folders.contains(&path) {
                problems.push(format!("a folder `{name}` that the folder does not have"));
            }
            continue;
        }
        let Some(content) = wanted.get(path.as_str()) else {
            if let Some(at) = path.find(&marker)
                && wanted.contains_key(&path[at + marker.len()..])
            {
                carried.push(path[at + marker.len()..].to_owned());
                continue;
            }
            problems.push(format!(
                "a file `{name}` ({} bytes) that the folder does not have{}",
                bytes.len(),
                if path.ends_with(".zip") {
                    ": the archive itself? write it outside the folder it archives"
                } else {
                    ""
                }
            ));
            continue;
        };
        if !found.insert(path.clone()) {
            problems.push(format!("`{name}` twice"));
            continue;
        }
        let expected = content.bytes();
        if *bytes != expected {
            let at = bytes
                .iter()
                .zip(&expected)
                .position(|(a, b)| a != b)
                .unwrap_or(bytes.len().min(expected.len()));
            problems.push(format!(
                "`{name}`: {} bytes where the file has {}, differing from byte {at} on",
                bytes.len(),
                expected.len()
            ));
        }
    }
    if let Some(first) = carried.first() {
        problems.insert(
            0,
            format!(
                "{} file(s) stored under the folder's path on the sending machine (`…{marker}{first}`) instead of their path inside the folder (`{first}`)",
                carried.len()
            ),
        );
    }
    for path in wanted.keys() {
        if !found.contains(*path) && !carried.iter().any(|moved| moved == path) {
            problems.push(format!("`{path}` missing"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(listed(problems))
    }
}

/// The first few problems, and how many more.
fn listed(problems: Vec<String>) -> String {
    let more = problems.len().saturating_sub(SHOWN);
    let mut text = problems
        .into_iter()
        .take(SHOWN)
        .collect::<Vec<_>>()
        .join("; ");
    if more > 0 {
        text += &format!("; and {more} more");
    }
    text
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::path::Path;

    use super::*;

    fn tree() -> Tree {
        Tree::load(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join(".."),
            "lab-notes",
        )
        .unwrap()
    }

    /// A zip of `entries` (names and bytes; a name ending in `/` is a folder).
    fn zip_of(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        for (name, bytes) in entries {
            if name.ends_with('/') {
                writer.add_directory(name.as_str(), options).unwrap();
            } else {
                writer.start_file(name.as_str(), options).unwrap();
                writer.write_all(bytes).unwrap();
            }
        }
        writer.finish().unwrap().into_inner()
    }

    fn files(tree: &Tree, prefix: &str) -> Vec<(String, Vec<u8>)> {
        tree.files
            .iter()
            .map(|(path, content)| (format!("{prefix}{path}"), content.bytes()))
            .collect()
    }

    #[test]
    fn the_tree_at_the_root_or_under_its_name_is_accepted() {
        let tree = tree();
        assert_eq!(
            judge_zip(&zip_of(&files(&tree, "")), &tree, &tree.name),
            Ok(())
        );
        let mut under = files(&tree, "lab-notes/");
        under.insert(0, ("lab-notes/".into(), Vec::new()));
        under.push(("lab-notes/empty folder/".into(), Vec::new()));
        assert_eq!(judge_zip(&zip_of(&under), &tree, &tree.name), Ok(()));
    }

    #[test]
    fn absolute_paths_extra_and_missing_files_and_changed_bytes_are_named() {
        let tree = tree();
        let absolute = zip_of(&files(&tree, "/tmp/run/lab-notes/"));
        assert!(
            judge_zip(&absolute, &tree, &tree.name)
                .unwrap_err()
                .contains("absolute path")
        );
        // As zipfile stores them: the leading `/` dropped, the rest of the path kept.
        let machine_path = zip_of(&files(&tree, "tmp/run-1234/lab-notes/"));
        let verdict = judge_zip(&machine_path, &tree, &tree.name).unwrap_err();
        let stored_under = format!(
            "{} file(s) stored under the folder's path on the sending machine (`…/lab-notes/",
            tree.files.len()
        );
        assert!(verdict.starts_with(&stored_under), "{verdict}");
        assert!(
            !verdict.contains("run-1234") && !verdict.contains("missing"),
            "{verdict}"
        );

        let mut with_itself = files(&tree, "");
        with_itself.push(("lab-notes.zip".into(), vec![0; 10]));
        let verdict = judge_zip(&zip_of(&with_itself), &tree, &tree.name).unwrap_err();
        assert!(verdict.contains("the archive itself"), "{verdict}");

        let top_level_only: Vec<_> = files(&tree, "")
            .into_iter()
            .filter(|(name, _)| !name.contains('/'))
            .collect();
        let verdict = judge_zip(&zip_of(&top_level_only), &tree, &tree.name).unwrap_err();
        assert!(verdict.contains("`data/raw.bin` missing"), "{verdict}");

        let mut text_mode = files(&tree, "");
        for (name, bytes) in &mut text_mode {
            if name == "data/raw.bin" {
                *bytes = String::from_utf8_lossy(bytes)
                    .replace("\r\n", "\n")
                    .into_bytes();
            }
        }
        let verdict = judge_zip(&zip_of(&text_mode), &tree, &tree.name).unwrap_err();
        assert!(verdict.contains("`data/raw.bin`:"), "{verdict}");

        assert!(judge_zip(b"PK not really", &tree, &tree.name).is_err());
    }
}
