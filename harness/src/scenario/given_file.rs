//! The file a scenario gives a program to read: a word of its `args` in the scenario's
//! folder (`{dir}/photo.bin` of an uploader), or the folder itself (`{dir}` of
//! `mail-archive`, made from a tree of `fixtures/trees/`).
//!
//! A program that always opens a file of its own instead (`open('test.bin', 'rb')`,
//! `shutil.make_archive('notes', ...)`) is said so in `submission.toml` (`with = { file =
//! "test.bin" }`): the scenario's file is put under that name where the program runs, and
//! the scenario expects that name wherever it expected its own (`crate::scenario::adapt`).

use super::DirTree;

/// The word of a scenario's `args` that names a file in its folder starts so.
const IN_THE_FOLDER: &str = "{dir}/";

/// What a scenario gives a program to read.
#[derive(Debug, Clone, PartialEq)]
pub enum GivenFile {
    /// A path below the scenario's folder (`photo.bin` of `{dir}/photo.bin`), as written.
    InFolder(String),
    /// The scenario's folder itself, named after its tree (`lab-notes`).
    Folder(String),
}

impl GivenFile {
    /// What the scenario gives, among a start's `args` and its `dir`.
    pub fn of(args: &[String], dir_tree: Option<&DirTree>) -> Option<GivenFile> {
        let in_folder = args
            .iter()
            .find_map(|word| word.strip_prefix(IN_THE_FOLDER))
            .filter(|path| !path.is_empty());
        match (in_folder, dir_tree) {
            (Some(path), _) => Some(GivenFile::InFolder(path.to_owned())),
            (None, Some(dir)) => Some(GivenFile::Folder(dir.tree.name.clone())),
            (None, None) => None,
        }
    }

    /// The name the program would have seen (`photo.bin`, `lab-notes`): what the
    /// scenario's judges call it (the stored `/photo.bin`, the attachment `lab-notes.zip`).
    pub fn name(&self) -> &str {
        match self {
            GivenFile::InFolder(path) => path.rsplit('/').next().unwrap_or(path),
            GivenFile::Folder(name) => name,
        }
    }

    /// The args word that gives it, which a program opening its own file does not take.
    pub fn is_word(word: &str) -> bool {
        word.strip_prefix(IN_THE_FOLDER)
            .is_some_and(|path| !path.is_empty())
    }

    /// Where it is, in the scenario's folder `root`.
    pub fn path_in(&self, root: &std::path::Path) -> std::path::PathBuf {
        match self {
            GivenFile::InFolder(path) => root.join(path),
            GivenFile::Folder(_) => root.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn a_word_in_the_folder_is_the_file_given_else_the_folder() {
        let given = GivenFile::of(&words("--user alice {dir}/uploads/photo.bin"), None).unwrap();
        assert_eq!(given, GivenFile::InFolder("uploads/photo.bin".into()));
        assert_eq!(given.name(), "photo.bin");
        assert_eq!(
            given.path_in(std::path::Path::new("/tmp/site")),
            std::path::Path::new("/tmp/site/uploads/photo.bin")
        );
        assert_eq!(GivenFile::of(&words("--user alice"), None), None);
        assert!(GivenFile::is_word("{dir}/photo.bin"));
        assert!(!GivenFile::is_word("{dir}/"));
        assert!(!GivenFile::is_word("--dir"));
    }
}
