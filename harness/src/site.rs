//! The folder a file-serving task serves: `{dir}` in its command line (the web server's
//! root, echo-plus's download root).
//!
//! Each scenario that needs one gets a fresh folder, so a server that writes into its root
//! cannot change what the next scenario sees:
//!
//! ```text
//! <site>/root/index.html      fixtures/www/ (the page the browser check renders,
//! <site>/root/style.css        its style sheet and its image)
//! <site>/root/pixel.png
//! <site>/root/notes.txt       fixtures/payloads/text-20k.txt (20 KB of text)
//! <site>/root/big.bin         10 MiB of generated binary (seed 77)
//! <site>/root/small.bin       20 KB of generated binary (seed 20): NULs, CR LF, 0xff
//! <site>/root/link-to-secret.txt  a symbolic link to ../secret.txt: leaves the root
//! <site>/secret.txt           outside the root: its text must never be sent
//! ```
//!
//! `{dir}` is `<site>/root`, unless the scenario names a tree (`dir = { tree = "lab-notes"
//! }`, see `crate::tree`): then it is a fresh copy of that tree. Scenarios name the same contents as payloads (`SECRET`,
//! `{ generate = "binary", bytes = 10485760, seed = 77 }`...) to check what was served.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::payload::{GeneratedKind, Payload};

/// The text of the file next to the root, which path traversal would reveal.
pub const SECRET: &str =
    "TOP SECRET: this file is outside the web root and must never be served.\n";
/// Size of the large binary file.
pub const BIG_BYTES: u64 = 10 << 20;
/// Seed of the large binary file.
pub const BIG_SEED: u64 = 77;
/// Size of the small binary file.
pub const SMALL_BYTES: u64 = 20_480;
/// Seed of the small binary file.
pub const SMALL_SEED: u64 = 20;

/// Lets the scenario's programs, each a user of its own under a root harness, search the
/// site's folder (the secret beside the site is there to be found by a traversal bug) and
/// read and write the site (a server's command may create a file there). Done once, as the
/// harness makes the site, before any program has run (a walk over a folder a program can
/// write could be led elsewhere by a link it swaps in).
fn open_to_programs(folder: &Path, root: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o755))?;
    sandbox::open_to_all(root)
}

/// A prepared site; dropping it removes the folder.
#[derive(Debug)]
pub struct Site {
    /// Held for its drop, which removes the folder.
    _folder: crate::temporary::Folder,
    /// `{dir}`: `<folder>/root`, or the tree's own folder.
    root: PathBuf,
    /// How reports show `root` (`<site>/root`, `<dir>/lab-notes`): the same from run to run.
    shown: String,
}

impl Site {
    /// Builds a fresh site from the kit at `kit_root`.
    pub fn prepare(kit_root: &Path) -> io::Result<Site> {
        let folder = crate::temporary::folder("socket-lab-site-")?;
        let root = folder.path().join("root");
        std::fs::create_dir(&root)?;
        for entry in std::fs::read_dir(kit_root.join("fixtures/www"))? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                std::fs::copy(entry.path(), root.join(entry.file_name()))?;
            }
        }
        std::fs::copy(
            kit_root.join("fixtures/payloads/text-20k.txt"),
            root.join("notes.txt"),
        )?;
        write_payload(
            &root.join("big.bin"),
            &Payload::Generated {
                kind: GeneratedKind::Binary,
                len: BIG_BYTES,
                seed: BIG_SEED,
            },
        )?;
        write_payload(
            &root.join("small.bin"),
            &Payload::Generated {
                kind: GeneratedKind::Binary,
                len: SMALL_BYTES,
                seed: SMALL_SEED,
            },
        )?;
        std::fs::write(folder.path().join("secret.txt"), SECRET)?;
        // Innocent by its name, outside by where it leads: only a server that resolves
        // links before checking the path refuses it.
        std::os::unix::fs::symlink("../secret.txt", root.join("link-to-secret.txt"))?;
        open_to_programs(folder.path(), &root)?;
        Ok(Site {
            _folder: folder,
            root,
            shown: "<site>/root".into(),
        })
    }

    /// A fresh copy of `tree` instead of the web site (a scenario's `dir = { tree = ...
    /// }`): `{dir}` is a folder with the tree's name, so a program that names its archive
    /// after the folder names it as the scenario expects.
    /// With `missing`, the folder is not made: `{dir}` names one that does not exist.
    pub fn from_tree(tree: &crate::tree::Tree, missing: bool) -> io::Result<Site> {
        let folder = crate::temporary::folder("socket-lab-dir-")?;
        let root = if missing {
            folder.path().join(&tree.name)
        } else {
            tree.write_under(folder.path())?
        };
        open_to_programs(folder.path(), &root)?;
        Ok(Site {
            _folder: folder,
            root,
            shown: format!("<dir>/{}", tree.name),
        })
    }

    /// The folder served: `{dir}`.
    pub fn root(&self) -> PathBuf {
        self.root.clone()
    }

    /// How reports show [`Site::root`].
    pub fn shown(&self) -> &str {
        &self.shown
    }
}

/// The most bytes one file may hold for the harness to copy it into a scenario's folder
/// (`site_files`, a program's own file). Copied from a submission's private copy, which
/// held at most `target::confinement::MAX_COPY_BYTES` (256 MiB) when it was made; a web
/// site's own pages are kilobytes, and the largest file a scenario serves is 10 MiB
/// (`big.bin`). Past it, only a program that grew the file after the copy was made (a
/// server writing into its folder, or leaving an 8 GiB sparse file there) brings it.
pub const MAX_SITE_FILE_BYTES: u64 = 64 << 20;

/// The most bytes the harness copies into one scenario's folder in all: six times the
/// largest served file, and up to 8 scenarios at a time each copy into the grader's
/// `/tmp`.
pub const MAX_SITE_COPY_BYTES: u64 = 64 << 20;

/// The most entries (files and folders) the harness copies into one scenario's folder: a
/// web site's pages, style sheets and images are tens.
pub const MAX_SITE_COPY_ENTRIES: u64 = 2_000;

/// What [`copy_into`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Copied {
    /// Everything was copied.
    Whole,
    /// Nothing was copied: `source` is a symbolic link, or the folder has its name already
    /// (the scenario's files win: the scenarios judge them).
    Left,
    /// The copy stopped at a bound ([`MAX_SITE_FILE_BYTES`], [`MAX_SITE_COPY_BYTES`],
    /// [`MAX_SITE_COPY_ENTRIES`]): which, by how much, and that the file was not copied.
    PastBound(String),
}

/// What is left of the bounds of one scenario's copies: every copy into its folder draws
/// on the same budget.
#[derive(Debug, Clone)]
pub struct CopyBudget {
    /// The most bytes one file may hold.
    file_bytes: u64,
    /// The bound on all bytes copied, and what was copied so far.
    total_bytes: (u64, u64),
    /// The bound on entries copied, and how many were so far.
    entries: (u64, u64),
}

impl Default for CopyBudget {
    fn default() -> CopyBudget {
        CopyBudget::new(
            MAX_SITE_FILE_BYTES,
            MAX_SITE_COPY_BYTES,
            MAX_SITE_COPY_ENTRIES,
        )
    }
}

impl CopyBudget {
    /// A budget of these bounds (the default is the scenarios' own).
    pub fn new(file_bytes: u64, total_bytes: u64, entries: u64) -> CopyBudget {
        CopyBudget {
            file_bytes,
            total_bytes: (total_bytes, 0),
            entries: (entries, 0),
        }
    }

    /// One more entry, `shown` as the verdict names it: `Err` with the sentence when it
    /// passes the bound.
    fn entry(&mut self, shown: &str) -> Result<(), String> {
        let (bound, count) = &mut self.entries;
        *count += 1;
        if *count > *bound {
            return Err(format!(
                "`{shown}` is entry {count} of those the harness copies into the scenario's folder, past its bound of {bound} entries: not copied"
            ));
        }
        Ok(())
    }

    /// A file of `len` bytes: `Err` with the sentence when it passes a bound, and then it
    /// is not copied.
    fn file(&mut self, shown: &str, len: u64) -> Result<(), String> {
        if len > self.file_bytes {
            return Err(format!(
                "`{shown}` is {len} bytes, {} past the harness's bound of {} for a file it copies into the scenario's folder: not copied",
                len - self.file_bytes,
                sandbox::size_text(self.file_bytes)
            ));
        }
        let (bound, copied) = &mut self.total_bytes;
        if *copied + len > *bound {
            return Err(format!(
                "`{shown}` ({len} bytes) brings what the harness copies into the scenario's folder to {} bytes, {} past its bound of {} in all: not copied",
                *copied + len,
                *copied + len - *bound,
                sandbox::size_text(*bound)
            ));
        }
        *copied += len;
        Ok(())
    }
}

/// Copies `source` (a file, or a folder with everything in it) into `root` under its own
/// name, within `budget`; [`Copied::Left`], and nothing copied, when `root` has that name
/// already (the scenario's files win: the scenarios judge them) or `source` is a symbolic
/// link.
///
/// The harness copies with its own rights (root, often) from a submission's private copy,
/// which programs of the submission may be writing at that moment: no link is followed,
/// on either side. The source is opened with no link anywhere on its path
/// (`RESOLVE_NO_SYMLINKS`), and everything below it by descriptor (`openat` with
/// `O_NOFOLLOW`), so a link swapped in at any moment is refused rather than followed.
///
/// What a program left there is copied within bounds: a sparse file stays sparse (its
/// holes are not written), a file past [`CopyBudget`]'s bounds is not copied, and the
/// result says so.
pub fn copy_into(source: &Path, root: &Path, budget: &mut CopyBudget) -> io::Result<Copied> {
    let name = source
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    copy_within(source, &root.join(name), budget)
}

/// `source` (a file, or a folder and everything in it) copied to `destination`, as
/// [`copy_into`] copies: no link followed on either side, nothing copied over what is
/// there, within the bounds of a scenario's copies. False when nothing was copied for
/// that reason; a bound passed is an error of kind `FileTooLarge` that says which.
pub fn copy_as(source: &Path, destination: &Path) -> io::Result<bool> {
    match copy_within(source, destination, &mut CopyBudget::default())? {
        Copied::Whole => Ok(true),
        Copied::Left => Ok(false),
        Copied::PastBound(said) => Err(io::Error::new(io::ErrorKind::FileTooLarge, said)),
    }
}

fn copy_within(source: &Path, destination: &Path, budget: &mut CopyBudget) -> io::Result<Copied> {
    if destination.symlink_metadata().is_ok() || source.symlink_metadata()?.is_symlink() {
        return Ok(Copied::Left);
    }
    let opened = match open_without_links(source) {
        Ok(opened) => opened,
        Err(error) if error.raw_os_error() == Some(libc::ELOOP) => return Ok(Copied::Left),
        Err(error) => return Err(error),
    };
    let shown = source.file_name().map_or_else(
        || source.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    );
    Ok(match copy_opened(opened, destination, &shown, budget)? {
        Ok(()) => Copied::Whole,
        Err(said) => Copied::PastBound(said),
    })
}

/// `path` opened for reading, with no symbolic link on its way (`ELOOP` if there is one).
fn open_without_links(path: &Path) -> io::Result<std::fs::File> {
    crate::beneath::open_without_links(
        path,
        libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NOFOLLOW | libc::O_NONBLOCK,
    )
}

/// `name` below the opened folder `folder`, opened without following a link.
fn open_below(folder: &std::fs::File, name: &std::ffi::OsStr) -> io::Result<std::fs::File> {
    use rustix::fs::{Mode, OFlags};
    let opened = rustix::fs::openat(
        folder,
        name,
        OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW | OFlags::NONBLOCK,
        Mode::empty(),
    )?;
    Ok(std::fs::File::from(opened))
}

/// The opened `source` copied to `destination` (which must not exist): a folder with
/// everything in it, read through descriptors; links and anything but files and folders
/// left out (a link in a submission may name anything on this machine). `shown` names it
/// in a verdict; the inner `Err` is a bound of `budget` passed, said.
fn copy_opened(
    source: std::fs::File,
    destination: &Path,
    shown: &str,
    budget: &mut CopyBudget,
) -> io::Result<Result<(), String>> {
    use std::os::fd::AsRawFd;
    let meta = source.metadata()?;
    if let Err(said) = budget.entry(shown) {
        return Ok(Err(said));
    }
    if meta.is_dir() {
        std::fs::create_dir(destination)?;
        // The folder's entries, listed through its descriptor (`/proc/self/fd/N` is the
        // folder opened, wherever its path now leads).
        let listed = std::fs::read_dir(format!("/proc/self/fd/{}", source.as_raw_fd()))?;
        for entry in listed {
            let entry = entry?;
            let inner = format!("{shown}/{}", entry.file_name().to_string_lossy());
            match open_below(&source, &entry.file_name()) {
                Ok(child) => {
                    let copied =
                        copy_opened(child, &destination.join(entry.file_name()), &inner, budget)?;
                    if copied.is_err() {
                        return Ok(copied);
                    }
                }
                Err(error) if error.raw_os_error() == Some(libc::ELOOP) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(Ok(()))
    } else if meta.is_file() {
        // The length when opened is all that is copied: a file that grows meanwhile is not
        // followed further.
        let len = meta.len();
        if let Err(said) = budget.file(shown, len) {
            return Ok(Err(said));
        }
        let writer = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(destination)?;
        copy_sparse(&source, &writer, len)?;
        Ok(Ok(()))
    } else {
        Ok(Ok(()))
    }
}

/// The first `len` bytes of `source` written to `destination` where `source` holds data
/// (`lseek`'s `SEEK_DATA` and `SEEK_HOLE`): its holes stay holes, so an 8 GiB sparse file
/// a program leaves takes no more room in the copy than in the original. A file system
/// that does not know holes says the whole file is data, and it is copied whole.
fn copy_sparse(source: &std::fs::File, destination: &std::fs::File, len: u64) -> io::Result<()> {
    use rustix::fs::SeekFrom;
    use std::os::unix::fs::FileExt;
    // Where the next data (or hole) starts at or after `offset`; `None` past the last.
    let seek = |at: SeekFrom| -> io::Result<Option<u64>> {
        match rustix::fs::seek(source, at) {
            Ok(at) => Ok(Some(at)),
            Err(rustix::io::Errno::NXIO) => Ok(None),
            Err(error) => Err(error.into()),
        }
    };
    let mut buffer = vec![0u8; 64 * 1024];
    let mut offset = 0u64;
    while offset < len {
        let Some(data) = seek(SeekFrom::Data(offset))?.filter(|&data| data < len) else {
            break;
        };
        let hole = seek(SeekFrom::Hole(data))?.unwrap_or(len).min(len);
        let mut at = data;
        while at < hole {
            let want = (hole - at).min(buffer.len() as u64) as usize;
            let got = source.read_at(&mut buffer[..want], at)?;
            if got == 0 {
                // The file shrank meanwhile: what is there is copied.
                return destination.set_len(at);
            }
            destination.write_all_at(&buffer[..got], at)?;
            at += got as u64;
        }
        offset = hole.max(data + 1);
    }
    // A hole at the end is a length, not data.
    destination.set_len(len)
}

fn write_payload(path: &Path, payload: &Payload) -> io::Result<()> {
    let mut file = io::BufWriter::new(std::fs::File::create(path)?);
    io::copy(&mut payload.reader()?, &mut file)?;
    file.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_site_has_its_files_and_the_secret_outside() {
        let kit_root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let site = Site::prepare(&kit_root).unwrap();
        let root = site.root();
        for name in ["index.html", "style.css", "pixel.png", "notes.txt"] {
            assert!(root.join(name).is_file(), "{name}");
        }
        assert_eq!(
            std::fs::metadata(root.join("big.bin")).unwrap().len(),
            BIG_BYTES
        );
        assert_eq!(
            std::fs::metadata(root.join("small.bin")).unwrap().len(),
            SMALL_BYTES
        );
        let secret = std::fs::read_to_string(root.join("../secret.txt")).unwrap();
        assert_eq!(secret, SECRET);
        let through_link = std::fs::read_to_string(root.join("link-to-secret.txt")).unwrap();
        assert_eq!(through_link, SECRET);
    }

    /// The bytes a file takes on disk (its blocks), not its length.
    fn on_disk(path: &Path) -> u64 {
        use std::os::unix::fs::MetadataExt;
        std::fs::symlink_metadata(path).unwrap().blocks() * 512
    }

    #[test]
    fn a_sparse_file_past_the_bound_is_not_copied_and_the_result_says_so() {
        let folder = tempfile::tempdir().unwrap();
        let (source, root) = (folder.path().join("www"), folder.path().join("root"));
        std::fs::create_dir_all(&source).unwrap();
        std::fs::create_dir(&root).unwrap();
        std::fs::write(source.join("index.html"), "<p>hello</p>\n").unwrap();
        // 8 GiB that take no room: what a server leaves with `f.seek(8 << 30); f.write(b"")`.
        let huge = std::fs::File::create(source.join("huge.iso")).unwrap();
        huge.set_len(8 << 30).unwrap();
        let copied = copy_into(&source, &root, &mut CopyBudget::default()).unwrap();
        assert_eq!(
            copied,
            Copied::PastBound(format!(
                "`www/huge.iso` is 8589934592 bytes, {} past the harness's bound of 64 MiB for a file it copies into the scenario's folder: not copied",
                (8u64 << 30) - (64 << 20)
            ))
        );
        assert!(!root.join("www/huge.iso").exists());
        assert!(on_disk(&root.join("www")) < 1 << 20);
        // As `copy_as` says it, for a program's own file.
        let error = copy_as(&source.join("huge.iso"), &root.join("own.iso")).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::FileTooLarge);
        assert!(
            error
                .to_string()
                .starts_with("`huge.iso` is 8589934592 bytes"),
            "{error}"
        );
    }

    #[test]
    fn a_sparse_file_within_the_bound_stays_sparse_in_the_copy() {
        use std::os::unix::fs::FileExt;
        let folder = tempfile::tempdir().unwrap();
        let (source, root) = (folder.path().join("holes.bin"), folder.path().join("root"));
        std::fs::create_dir(&root).unwrap();
        // 48 MiB long, 8 KiB of data in the middle and at the end.
        let file = std::fs::File::create(&source).unwrap();
        file.set_len(48 << 20).unwrap();
        file.write_all_at(&[7; 4096], 20 << 20).unwrap();
        file.write_all_at(&[9; 4096], (48 << 20) - 4096).unwrap();
        let copied = copy_into(&source, &root, &mut CopyBudget::default()).unwrap();
        assert_eq!(copied, Copied::Whole);
        let copy = root.join("holes.bin");
        assert_eq!(std::fs::metadata(&copy).unwrap().len(), 48 << 20);
        assert!(
            on_disk(&copy) <= on_disk(&source) + (64 << 10),
            "{}",
            on_disk(&copy)
        );
        let bytes = std::fs::read(&copy).unwrap();
        assert_eq!(std::fs::read(&source).unwrap(), bytes);
    }

    #[test]
    fn the_bounds_on_all_bytes_and_entries_count_every_copy_of_a_scenario() {
        let folder = tempfile::tempdir().unwrap();
        let root = folder.path().join("root");
        std::fs::create_dir(&root).unwrap();
        for name in ["a.txt", "b.txt", "c.txt"] {
            std::fs::write(folder.path().join(name), [b'x'; 600]).unwrap();
        }
        let mut budget = CopyBudget::new(1000, 1000, 10);
        let a = folder.path().join("a.txt");
        assert_eq!(copy_into(&a, &root, &mut budget).unwrap(), Copied::Whole);
        let b = folder.path().join("b.txt");
        assert_eq!(
            copy_into(&b, &root, &mut budget).unwrap(),
            Copied::PastBound(
                "`b.txt` (600 bytes) brings what the harness copies into the scenario's folder to 1200 bytes, 200 past its bound of 1000 bytes in all: not copied".into()
            )
        );
        assert!(!root.join("b.txt").exists());

        let mut budget = CopyBudget::new(1000, 10_000, 2);
        for name in ["a.txt", "b.txt"] {
            let file = folder.path().join(name);
            std::fs::remove_file(root.join(name)).ok();
            assert_eq!(copy_into(&file, &root, &mut budget).unwrap(), Copied::Whole);
        }
        let c = folder.path().join("c.txt");
        assert_eq!(
            copy_into(&c, &root, &mut budget).unwrap(),
            Copied::PastBound(
                "`c.txt` is entry 3 of those the harness copies into the scenario's folder, past its bound of 2 entries: not copied".into()
            )
        );
    }
}
