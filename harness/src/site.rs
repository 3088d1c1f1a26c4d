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
    _folder: tempfile::TempDir,
    /// `{dir}`: `<folder>/root`, or the tree's own folder.
    root: PathBuf,
    /// How reports show `root` (`<site>/root`, `<dir>/lab-notes`): the same from run to run.
    shown: String,
}

impl Site {
    /// Builds a fresh site from the kit at `kit_root`.
    pub fn prepare(kit_root: &Path) -> io::Result<Site> {
        let folder = tempfile::Builder::new()
            .prefix("socket-lab-site-")
            .tempdir()?;
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
        let folder = tempfile::Builder::new()
            .prefix("socket-lab-dir-")
            .tempdir()?;
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

/// Copies `source` (a file, or a folder with everything in it) into `root` under its own
/// name; `false`, and nothing copied, when `root` has that name already (the scenario's
/// files win: the scenarios judge them) or `source` is a symbolic link.
///
/// The harness copies with its own rights (root, often) from a submission's private copy,
/// which programs of the submission may be writing at that moment: no link is followed,
/// on either side. The source is opened with no link anywhere on its path
/// (`RESOLVE_NO_SYMLINKS`), and everything below it by descriptor (`openat` with
/// `O_NOFOLLOW`), so a link swapped in at any moment is refused rather than followed.
pub fn copy_into(source: &Path, root: &Path) -> io::Result<bool> {
    let name = source
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    copy_as(source, &root.join(name))
}

/// `source` (a file, or a folder and everything in it) copied to `destination`, as
/// [`copy_into`] copies: no link followed on either side, nothing copied over what is
/// there. False when nothing was copied for that reason.
pub fn copy_as(source: &Path, destination: &Path) -> io::Result<bool> {
    if destination.symlink_metadata().is_ok() || source.symlink_metadata()?.is_symlink() {
        return Ok(false);
    }
    let opened = match open_without_links(source) {
        Ok(opened) => opened,
        Err(error) if error.raw_os_error() == Some(libc::ELOOP) => return Ok(false),
        Err(error) => return Err(error),
    };
    copy_opened(opened, destination)?;
    Ok(true)
}

/// `path` opened for reading, with no symbolic link on its way (`openat2`'s
/// `RESOLVE_NO_SYMLINKS`; `ELOOP` if there is one).
fn open_without_links(path: &Path) -> io::Result<std::fs::File> {
    use std::os::fd::FromRawFd;
    use std::os::unix::ffi::OsStrExt;
    #[repr(C)]
    struct OpenHow {
        flags: u64,
        mode: u64,
        resolve: u64,
    }
    const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
    const RESOLVE_NO_SYMLINKS: u64 = 0x04;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL byte in the path"))?;
    let how = OpenHow {
        flags: (libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NOFOLLOW | libc::O_NONBLOCK) as u64,
        mode: 0,
        resolve: RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    // SAFETY: the path and `how` live across the call, with `how`'s size.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            libc::AT_FDCWD,
            c_path.as_ptr(),
            &how as *const OpenHow,
            std::mem::size_of::<OpenHow>(),
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor owned by nobody else.
    Ok(unsafe { std::fs::File::from_raw_fd(fd as i32) })
}

/// `name` below the opened folder `folder`, opened without following a link.
fn open_below(folder: &std::fs::File, name: &std::ffi::OsStr) -> io::Result<std::fs::File> {
    use std::os::fd::{AsRawFd, FromRawFd};
    use std::os::unix::ffi::OsStrExt;
    let c_name = std::ffi::CString::new(name.as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL byte in a name"))?;
    // SAFETY: openat with a descriptor we hold and a name that lives across the call.
    let fd = unsafe {
        libc::openat(
            folder.as_raw_fd(),
            c_name.as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NOFOLLOW | libc::O_NONBLOCK,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor owned by nobody else.
    Ok(unsafe { std::fs::File::from_raw_fd(fd) })
}

/// The opened `source` copied to `destination` (which must not exist): a folder with
/// everything in it, read through descriptors; links and anything but files and folders
/// left out (a link in a submission may name anything on this machine).
fn copy_opened(source: std::fs::File, destination: &Path) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let meta = source.metadata()?;
    if meta.is_dir() {
        std::fs::create_dir(destination)?;
        // The folder's entries, listed through its descriptor (`/proc/self/fd/N` is the
        // folder opened, wherever its path now leads).
        let listed = std::fs::read_dir(format!("/proc/self/fd/{}", source.as_raw_fd()))?;
        for entry in listed {
            let entry = entry?;
            match open_below(&source, &entry.file_name()) {
                Ok(child) => copy_opened(child, &destination.join(entry.file_name()))?,
                Err(error) if error.raw_os_error() == Some(libc::ELOOP) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(())
    } else if meta.is_file() {
        let mut reader = source;
        let mut writer = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(destination)?;
        io::copy(&mut reader, &mut writer).map(drop)
    } else {
        Ok(())
    }
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
}
