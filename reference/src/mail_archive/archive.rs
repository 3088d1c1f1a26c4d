//! The folder as a zip file (the format: PKWARE's APPNOTE; the `zip` crate writes it).
//!
//! Every entry is named by its path *inside* the folder, under one top-level folder of
//! the folder's own name (`lab-notes/week 1/Übung 1.txt`), with `/` between names
//! whatever the system, in UTF-8 (the format's flag for it is set): what `unzip` and
//! every file manager recreate as the same tree. Files are copied a buffer at a time, so
//! a 10 MB file never sits in memory; empty folders get an entry of their own.
//!
//! The archive is written to a file of its own *outside* the folder (the caller's
//! temporary file): written inside, it would archive itself, half-made.

use std::fs::File;
use std::io::{self, Seek, Write};
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// What went into the archive.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Archived {
    /// Files stored.
    pub files: usize,
    /// Bytes of those files, before compression.
    pub bytes: u64,
    /// Symbolic links and special files left out (a link may lead out of the folder).
    pub skipped: Vec<PathBuf>,
}

/// Writes `folder` into `out` as a zip, its entries under `name/`.
pub fn write_zip<W: Write + Seek>(folder: &Path, name: &str, out: W) -> io::Result<Archived> {
    let mut zip = ZipWriter::new(out);
    let mut archived = Archived::default();
    zip.add_directory(format!("{name}/"), SimpleFileOptions::default())
        .map_err(io::Error::other)?;
    add_folder(&mut zip, folder, name, &mut archived)?;
    zip.finish().map_err(io::Error::other)?;
    Ok(archived)
}

/// Adds what `folder` holds, as entries under `prefix/`, in name order (the same archive
/// every time).
fn add_folder<W: Write + Seek>(
    zip: &mut ZipWriter<W>,
    folder: &Path,
    prefix: &str,
    archived: &mut Archived,
) -> io::Result<()> {
    let mut entries = std::fs::read_dir(folder)?.collect::<io::Result<Vec<_>>>()?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let Some(file_name) = entry.file_name().to_str().map(str::to_owned) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: the name is not UTF-8", path.display()),
            ));
        };
        let entry_name = format!("{prefix}/{file_name}");
        // `symlink_metadata`: a link is seen as a link, not as what it leads to.
        let kind = std::fs::symlink_metadata(&path)?.file_type();
        if kind.is_dir() {
            zip.add_directory(format!("{entry_name}/"), SimpleFileOptions::default())
                .map_err(io::Error::other)?;
            add_folder(zip, &path, &entry_name, archived)?;
        } else if kind.is_file() {
            let mut file = File::open(&path)?;
            let size = file.metadata()?.len();
            let options = SimpleFileOptions::default()
                .compression_method(CompressionMethod::Deflated)
                // ZIP64 for a file of 4 GiB or more, whose size needs more than 32 bits.
                .large_file(size >= u64::from(u32::MAX));
            zip.start_file(entry_name, options)
                .map_err(io::Error::other)?;
            // io::copy moves a buffer at a time: memory stays small whatever the size.
            archived.bytes += io::copy(&mut file, zip)?;
            archived.files += 1;
        } else {
            archived.skipped.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Read};

    use super::*;

    #[test]
    fn entries_are_relative_under_the_folders_name_and_byte_exact() {
        let parent = tempfile::tempdir().unwrap();
        let folder = parent.path().join("lab");
        std::fs::create_dir_all(folder.join("week 1/deeper")).unwrap();
        std::fs::create_dir_all(folder.join("empty")).unwrap();
        std::fs::write(folder.join("week 1/Übung.txt"), "Grüezi\n").unwrap();
        std::fs::write(folder.join("week 1/deeper/raw.bin"), [0u8, 13, 10, 255]).unwrap();
        std::fs::write(folder.join("empty.txt"), "").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", folder.join("link")).unwrap();

        let mut out = Cursor::new(Vec::new());
        let archived = write_zip(&folder, "lab", &mut out).unwrap();
        assert_eq!(archived.files, 3);
        assert_eq!(archived.skipped, [folder.join("link")]);

        let mut zip = zip::ZipArchive::new(Cursor::new(out.into_inner())).unwrap();
        let mut sorted: Vec<String> = zip
            .file_names()
            .map(|name| name.unwrap().into_owned())
            .collect();
        sorted.sort();
        assert_eq!(
            sorted,
            [
                "lab/",
                "lab/empty.txt",
                "lab/empty/",
                "lab/week 1/",
                "lab/week 1/deeper/",
                "lab/week 1/deeper/raw.bin",
                "lab/week 1/Übung.txt",
            ]
        );
        let mut bytes = Vec::new();
        zip.by_name("lab/week 1/deeper/raw.bin")
            .unwrap()
            .read_to_end(&mut bytes)
            .unwrap();
        assert_eq!(bytes, [0, 13, 10, 255]);
    }
}
