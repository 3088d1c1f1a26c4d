//! What a program's own folders hold on disk, for the disk cap where no sized `tmpfs` can be
//! mounted (a platform's container): [`crate::watch`] adds it up every interval and ends
//! the program past the cap.
//!
//! Each entry counts what the file system gives it (`st_blocks`: a sparse file counts what
//! it really holds), and at least [`SMALLEST_ENTRY`]: a program that makes a million empty
//! files fills the disk's table of files as surely as one that writes a large one. Links
//! are never followed (a link into the kit counts as the link alone), and the walk stays on
//! the folder's own file system.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

/// What one entry costs at least: a block, as a `tmpfs` counts it.
pub(crate) const SMALLEST_ENTRY: u64 = 4096;

/// The bytes `folders` hold together; once past `stop` (the cap is passed), what was counted
/// so far, without walking the rest.
pub(crate) fn held(folders: &[PathBuf], stop: u64) -> u64 {
    let mut total = 0u64;
    for folder in folders {
        let Ok(top) = std::fs::symlink_metadata(folder) else {
            continue;
        };
        let device = top.dev();
        let mut queue: Vec<PathBuf> = vec![folder.clone()];
        while let Some(dir) = queue.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let Ok(metadata) = entry.metadata() else {
                    continue;
                };
                total += (metadata.blocks() * 512).max(SMALLEST_ENTRY);
                if total > stop {
                    return total;
                }
                if metadata.is_dir() && metadata.dev() == device {
                    queue.push(entry.path());
                }
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_count_their_blocks_and_empty_ones_a_block() {
        let folder = tempfile::tempdir().unwrap();
        std::fs::write(folder.path().join("one"), vec![1u8; 1 << 20]).unwrap();
        std::fs::create_dir(folder.path().join("sub")).unwrap();
        for number in 0..10 {
            std::fs::write(folder.path().join(format!("sub/{number}")), b"").unwrap();
        }
        // A sparse file of 1 GiB holds nothing but its table.
        let sparse = std::fs::File::create(folder.path().join("sparse")).unwrap();
        sparse.set_len(1 << 30).unwrap();
        let total = held(&[folder.path().to_owned()], u64::MAX);
        let least = (1 << 20) + 11 * SMALLEST_ENTRY;
        assert!(total >= least && total < least + (1 << 20), "{total}");
        // Past `stop`, it says so without walking the rest.
        assert!(held(&[folder.path().to_owned()], 8192) > 8192);
    }

    #[test]
    fn a_link_counts_as_itself() {
        let folder = tempfile::tempdir().unwrap();
        let big = tempfile::tempdir().unwrap();
        std::fs::write(big.path().join("big"), vec![1u8; 4 << 20]).unwrap();
        std::os::unix::fs::symlink(big.path(), folder.path().join("link")).unwrap();
        assert!(held(&[folder.path().to_owned()], u64::MAX) < 1 << 20);
    }
}
