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
//!
//! The zip is a program's, and it is unzipped in the harness's memory: a 0.4 MB zip can
//! unzip to gigabytes (a zip bomb). So what is unzipped is bounded ([`ZipBounds`]): the
//! entries listed, the bytes of each entry and of all of them, and those bytes per byte of
//! the zip, each read through `Read::take` (the sizes the zip's headers declare are the
//! program's word, never trusted). A zip past a bound is not unzipped further, and the
//! verdict says which bound and by how much.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Read};

use crate::tree::Tree;

/// The most problems listed in one verdict: the first few tell the story.
const SHOWN: usize = 4;

/// How much of a mailed zip the harness unzips.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ZipBounds {
    /// The most entries the zip may list (files and folders).
    pub entries: u64,
    /// The most bytes one entry may unzip to.
    pub entry_bytes: u64,
    /// The most bytes all entries together may unzip to.
    pub total_bytes: u64,
    /// The most bytes the entries may unzip to per byte of the zip, beyond
    /// [`ZipBounds::ratio_free`].
    pub ratio: u64,
    /// Unzipped bytes the ratio leaves free: a small zip of a few short files is mostly
    /// headers, and its ratio says nothing.
    pub ratio_free: u64,
}

/// The bounds every mailed zip is unzipped within. Each is far above what a correct
/// program's zip of a kit's tree needs (`fixtures/trees/`: at most 8 files, the largest
/// 10 MiB of generated binary, 10 MiB and a little in all, which deflate barely shrinks),
/// and far below what would strain the grader's machine with 8 scenarios at once:
/// - 10 000 entries: the zip crate parses every entry of the central directory into
///   memory before one is read;
/// - 64 MiB an entry and 128 MiB in all: the unzipped bytes are held in memory while the
///   tree is compared (six and twelve times the largest tree); the mail that carries the
///   zip is itself at most 32 MiB;
/// - 100 bytes unzipped per byte of the zip beyond the first MiB: generated binary does
///   not shrink and text shrinks to a third, while deflate reaches 1032 to 1 on a run of
///   one byte, and a zip whose entries share their compressed bytes reaches millions.
pub(super) const ZIP_BOUNDS: ZipBounds = ZipBounds {
    entries: 10_000,
    entry_bytes: 64 << 20,
    total_bytes: 128 << 20,
    ratio: 100,
    ratio_free: 1 << 20,
};

/// Why a zip is not the folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ZipVerdict {
    /// It unzips to something else: what is wrong, in words.
    Differs(String),
    /// It passed a bound of [`ZipBounds`] and was not unzipped further: which bound, by
    /// how much.
    PastBound(String),
}

impl ZipVerdict {
    /// The words, whichever it is.
    #[cfg(test)]
    fn text(&self) -> &str {
        match self {
            ZipVerdict::Differs(text) | ZipVerdict::PastBound(text) => text,
        }
    }
}

/// `Ok` if `zip` unzips to exactly `tree`, which its program saw as the folder `folder`
/// (the tree's name, or the one a program that always opens its own folder opened); else
/// what is wrong, in words. Unzipped within [`ZIP_BOUNDS`].
pub(super) fn judge_zip(zip: &[u8], tree: &Tree, folder: &str) -> Result<(), ZipVerdict> {
    judge_zip_within(zip, tree, folder, ZIP_BOUNDS)
}

/// [`judge_zip`] within `bounds`.
fn judge_zip_within(
    zip: &[u8],
    tree: &Tree,
    folder: &str,
    bounds: ZipBounds,
) -> Result<(), ZipVerdict> {
    let entries = unzipped(zip, bounds)?;
    judge_entries(&entries, tree, folder).map_err(ZipVerdict::Differs)
}

/// Every entry of `zip`: its name as stored, whether a folder, and (files) its bytes;
/// unzipped within `bounds`.
fn unzipped(zip: &[u8], bounds: ZipBounds) -> Result<Vec<(String, bool, Vec<u8>)>, ZipVerdict> {
    let differs = ZipVerdict::Differs;
    // The count the zip declares, read before the crate parses that many entries.
    if let Some(listed) = declared_entries(zip)
        && listed > bounds.entries
    {
        return Err(ZipVerdict::PastBound(format!(
            "the zip lists {listed} entries, {} past the harness's bound of {} entries: none was unzipped",
            listed - bounds.entries,
            bounds.entries
        )));
    }
    let mut archive = zip::ZipArchive::new(Cursor::new(zip))
        .map_err(|error| differs(format!("not a zip archive that can be read ({error})")))?;
    let listed = archive.len() as u64;
    if listed > bounds.entries {
        return Err(ZipVerdict::PastBound(format!(
            "the zip lists {listed} entries, {} past the harness's bound of {} entries: none was unzipped",
            listed - bounds.entries,
            bounds.entries
        )));
    }
    let by_ratio = bounds
        .ratio
        .saturating_mul(zip.len() as u64)
        .max(bounds.ratio_free);
    let mut total = 0u64;
    let mut entries: Vec<(String, bool, Vec<u8>)> = Vec::new();
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|error| differs(format!("entry {index} cannot be read ({error})")))?;
        let name = entry
            .name()
            .map_err(|error| {
                differs(format!(
                    "the name of entry {index} cannot be read ({error})"
                ))
            })?
            .into_owned();
        let is_dir = entry.is_dir();
        let mut bytes = Vec::new();
        if !is_dir {
            // The most this entry may add, whichever bound is nearest; one byte more is
            // read to know it has more.
            let room = bounds
                .entry_bytes
                .min(bounds.total_bytes - total)
                .min(by_ratio.saturating_sub(total));
            (&mut entry)
                .take(room + 1)
                .read_to_end(&mut bytes)
                .map_err(|error| differs(format!("`{name}` cannot be unzipped ({error})")))?;
            let got = bytes.len() as u64;
            if got > room {
                let declared = entry.size();
                // Where and what the header said last: a report may cut the line short.
                let aside = format!(
                    "entry {} of {listed}; its header declares {declared} bytes{}",
                    index + 1,
                    if declared <= room {
                        ", which is false"
                    } else {
                        ""
                    }
                );
                return Err(ZipVerdict::PastBound(if room == bounds.entry_bytes {
                    format!(
                        "`{name}` unzips to more than {}, past the harness's bound for one entry: not unzipped further ({aside})",
                        sandbox::size_text(bounds.entry_bytes)
                    )
                } else if room == bounds.total_bytes - total {
                    format!(
                        "the entries unzip to more than {} in all, past the harness's bound, at `{name}`: not unzipped further ({aside})",
                        sandbox::size_text(bounds.total_bytes)
                    )
                } else {
                    format!(
                        "the entries unzip to more than {by_ratio} bytes, {} times the zip's own {} bytes, past the harness's bound of {} to 1 (a zip bomb's mark), at `{name}`: not unzipped further ({aside})",
                        by_ratio / (zip.len() as u64).max(1),
                        zip.len(),
                        bounds.ratio
                    )
                }));
            }
            total += got;
        }
        entries.push((name, is_dir, bytes));
    }
    Ok(entries)
}

/// The number of entries the zip's end of central directory declares (its ZIP64 record's,
/// when the classic one says `0xffff`), or `None` when there is none to be found: the zip
/// crate then refuses the zip itself. The crate parses as many entries as declared (no
/// more than the directory's size allows) before any is read.
fn declared_entries(zip: &[u8]) -> Option<u64> {
    const END: [u8; 4] = *b"PK\x05\x06";
    const ZIP64_LOCATOR: [u8; 4] = *b"PK\x06\x07";
    const ZIP64_END: [u8; 4] = *b"PK\x06\x06";
    let u16_at = |at: usize| Some(u16::from_le_bytes(zip.get(at..at + 2)?.try_into().ok()?));
    let u64_at = |at: usize| Some(u64::from_le_bytes(zip.get(at..at + 8)?.try_into().ok()?));
    // The record is 22 bytes and a comment of at most 65535: the last signature found.
    let earliest = zip.len().saturating_sub(22 + usize::from(u16::MAX));
    let end = (earliest..zip.len().saturating_sub(21))
        .rev()
        .find(|&at| zip[at..at + 4] == END)?;
    let classic = u64::from(u16_at(end + 10)?);
    if classic != u64::from(u16::MAX) {
        return Some(classic);
    }
    // `0xffff` entries, or a ZIP64 zip: the count is in its own record, if it is where
    // the locator says (else the crate's own count is judged, once parsed).
    let locator = end.checked_sub(20)?;
    if zip[locator..locator + 4] != ZIP64_LOCATOR {
        return None;
    }
    let record = usize::try_from(u64_at(locator + 8)?).ok()?;
    (zip.get(record..record + 4)? == ZIP64_END).then(|| u64_at(record + 32))?
}

/// `Ok` if the unzipped `entries` are exactly `tree`, seen as the folder `folder`; else
/// what is wrong, in words.
fn judge_entries(
    entries: &[(String, bool, Vec<u8>)],
    tree: &Tree,
    folder: &str,
) -> Result<(), String> {
    let mut problems = Vec::new();
    for (name, _, _) in entries {
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
    for (name, is_dir, bytes) in entries {
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
                .text()
                .contains("absolute path")
        );
        // As zipfile stores them: the leading `/` dropped, the rest of the path kept.
        let machine_path = zip_of(&files(&tree, "tmp/run-1234/lab-notes/"));
        let verdict = judge_zip(&machine_path, &tree, &tree.name)
            .unwrap_err()
            .text()
            .to_owned();
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
        let verdict = judge_zip(&zip_of(&with_itself), &tree, &tree.name)
            .unwrap_err()
            .text()
            .to_owned();
        assert!(verdict.contains("the archive itself"), "{verdict}");

        let top_level_only: Vec<_> = files(&tree, "")
            .into_iter()
            .filter(|(name, _)| !name.contains('/'))
            .collect();
        let verdict = judge_zip(&zip_of(&top_level_only), &tree, &tree.name)
            .unwrap_err()
            .text()
            .to_owned();
        assert!(verdict.contains("`data/raw.bin` missing"), "{verdict}");

        let mut text_mode = files(&tree, "");
        for (name, bytes) in &mut text_mode {
            if name == "data/raw.bin" {
                *bytes = String::from_utf8_lossy(bytes)
                    .replace("\r\n", "\n")
                    .into_bytes();
            }
        }
        let verdict = judge_zip(&zip_of(&text_mode), &tree, &tree.name)
            .unwrap_err()
            .text()
            .to_owned();
        assert!(verdict.contains("`data/raw.bin`:"), "{verdict}");

        assert!(judge_zip(b"PK not really", &tree, &tree.name).is_err());
    }

    /// A raw deflate stream of `runs * 258 + 1` zero bytes, written by hand in fixed
    /// Huffman codes (RFC 1951 §3.2.6): a literal 0, then `runs` copies of length 258 at
    /// distance 1, 13 bits each: 1 GiB in 6.5 MB, made at once (the zip crate's own writer
    /// would deflate the gigabyte first).
    fn zeros_deflated(runs: u64) -> Vec<u8> {
        let mut bytes = Vec::new();
        let (mut pending, mut used) = (0u64, 0u32);
        // `count` bits of `value`, least significant first (headers); a Huffman code is
        // written most significant bit first, so reversed before.
        let mut put = |value: u64, count: u32, bytes: &mut Vec<u8>| {
            pending |= value << used;
            used += count;
            while used >= 8 {
                bytes.push(pending as u8);
                pending >>= 8;
                used -= 8;
            }
        };
        let code = |value: u64, count: u32| value.reverse_bits() >> (64 - count);
        put(1, 1, &mut bytes); // the final block
        put(1, 2, &mut bytes); // fixed codes
        put(code(0x30, 8), 8, &mut bytes); // the literal 0
        for _ in 0..runs {
            put(code(0xc5, 8) | code(0, 5) << 8, 13, &mut bytes); // length 258, distance 1
        }
        put(code(0, 7), 7, &mut bytes); // end of block
        put(0, 7, &mut bytes); // flushed to a byte
        bytes
    }

    /// A zip holding one deflated entry `name` of `data`, whose headers declare `declared`
    /// bytes unzipped (the CRC is never checked: the bound stops the reading first).
    fn zip_with_deflated(name: &str, data: &[u8], declared: u32) -> Vec<u8> {
        let mut zip = Vec::new();
        let name = name.as_bytes();
        let common = |zip: &mut Vec<u8>| {
            zip.extend_from_slice(&20u16.to_le_bytes()); // version needed
            zip.extend_from_slice(&0u16.to_le_bytes()); // flags
            zip.extend_from_slice(&8u16.to_le_bytes()); // deflated
            zip.extend_from_slice(&[0; 4]); // time and date
            zip.extend_from_slice(&0u32.to_le_bytes()); // CRC-32
            zip.extend_from_slice(&(data.len() as u32).to_le_bytes());
            zip.extend_from_slice(&declared.to_le_bytes());
            zip.extend_from_slice(&(name.len() as u16).to_le_bytes());
            zip.extend_from_slice(&0u16.to_le_bytes()); // extra field
        };
        zip.extend_from_slice(b"PK\x03\x04");
        common(&mut zip);
        zip.extend_from_slice(name);
        zip.extend_from_slice(data);
        let directory = zip.len();
        zip.extend_from_slice(b"PK\x01\x02");
        zip.extend_from_slice(&20u16.to_le_bytes()); // version made by
        common(&mut zip);
        zip.extend_from_slice(&[0; 6]); // comment, disk, internal attributes
        zip.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        zip.extend_from_slice(&0u32.to_le_bytes()); // the local header's offset
        zip.extend_from_slice(name);
        let directory_size = zip.len() - directory;
        zip.extend_from_slice(b"PK\x05\x06");
        zip.extend_from_slice(&[0; 4]); // disks
        zip.extend_from_slice(&1u16.to_le_bytes());
        zip.extend_from_slice(&1u16.to_le_bytes());
        zip.extend_from_slice(&(directory_size as u32).to_le_bytes());
        zip.extend_from_slice(&(directory as u32).to_le_bytes());
        zip.extend_from_slice(&0u16.to_le_bytes()); // comment
        zip
    }

    #[test]
    fn a_zip_bomb_is_unzipped_no_further_than_the_bound_of_one_entry() {
        let tree = tree();
        // 1 GiB of zeros in 6.5 MB: under the ratio's bound (100 to 1), past the entry's.
        let runs = (1u64 << 30) / 258;
        let zeros = zeros_deflated(runs);
        let unzipped = (runs * 258 + 1) as u32;
        let bomb = zip_with_deflated("lab-notes/README.txt", &zeros, unzipped);
        assert!(bomb.len() < 7 << 20, "{}", bomb.len());
        let verdict = judge_zip(&bomb, &tree, &tree.name).unwrap_err();
        assert_eq!(
            verdict,
            ZipVerdict::PastBound(format!(
                "`lab-notes/README.txt` unzips to more than 64 MiB, past the harness's bound for one entry: not unzipped further (entry 1 of 1; its header declares {unzipped} bytes)"
            ))
        );
        // A header that declares less is refused by the zip crate at the byte past it:
        // bounded all the same.
        let lying = zip_with_deflated("lab-notes/README.txt", &zeros, 1000);
        let verdict = judge_zip(&lying, &tree, &tree.name).unwrap_err();
        assert!(verdict.text().contains("cannot be unzipped"), "{verdict:?}");
    }

    #[test]
    fn a_zip_past_the_ratio_or_the_total_stops_at_the_bound_and_says_which() {
        let tree = tree();
        // 10 MiB of zeros in 66 KB: 160 to 1.
        let dense = zip_with_deflated("zeros.bin", &zeros_deflated(40_642), 10_485_637);
        let verdict = judge_zip(&dense, &tree, &tree.name).unwrap_err();
        let ZipVerdict::PastBound(said) = verdict else {
            panic!("{verdict:?}")
        };
        let room = 100 * dense.len() as u64;
        assert_eq!(
            said,
            format!(
                "the entries unzip to more than {room} bytes, 100 times the zip's own {} bytes, past the harness's bound of 100 to 1 (a zip bomb's mark), at `zeros.bin`: not unzipped further (entry 1 of 1; its header declares 10485637 bytes)",
                dense.len()
            )
        );

        // Two entries of 600 bytes each, within bounds of 1000 bytes in all.
        let bounds = ZipBounds {
            entries: 10,
            entry_bytes: 800,
            total_bytes: 1000,
            ratio: 1000,
            ratio_free: 0,
        };
        let two = zip_of(&[
            ("one.bin".into(), vec![1; 600]),
            ("two.bin".into(), vec![2; 600]),
        ]);
        let said = judge_zip_within(&two, &tree, &tree.name, bounds).unwrap_err();
        assert_eq!(
            said,
            ZipVerdict::PastBound(
                "the entries unzip to more than 1000 bytes in all, past the harness's bound, at `two.bin`: not unzipped further (entry 2 of 2; its header declares 600 bytes)".into()
            )
        );
        // Within them, the same zip is judged as ever.
        let roomy = ZipBounds {
            total_bytes: 2000,
            ..bounds
        };
        let verdict = judge_zip_within(&two, &tree, &tree.name, roomy).unwrap_err();
        assert!(matches!(verdict, ZipVerdict::Differs(_)), "{verdict:?}");
    }

    #[test]
    fn a_zip_listing_more_entries_than_the_bound_is_not_unzipped() {
        let tree = tree();
        let many: Vec<(String, Vec<u8>)> = (0..12)
            .map(|index| (format!("{index}.txt"), Vec::new()))
            .collect();
        let bounds = ZipBounds {
            entries: 10,
            ..ZIP_BOUNDS
        };
        assert_eq!(
            judge_zip_within(&zip_of(&many), &tree, &tree.name, bounds),
            Err(ZipVerdict::PastBound(
                "the zip lists 12 entries, 2 past the harness's bound of 10 entries: none was unzipped".into()
            ))
        );
        // The count is read from the zip's end before the crate parses the entries.
        assert_eq!(declared_entries(&zip_of(&many)), Some(12));
        assert_eq!(declared_entries(b"PK not really"), None);
    }
}
