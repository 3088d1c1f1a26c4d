//! The bytes scenarios send and expect.
//!
//! A payload is a literal (`text`, `hex`), a file of the kit (`file`, relative to the kit's
//! root), or a generated stream (`generate = "text" | "binary"`, `bytes = N`). Generated
//! streams are computed from their position, never held in memory: a 100 MB payload costs
//! nothing to describe, to send, or to compare against. `uppercase = true` turns any of them
//! into its ASCII-uppercased form (only `a`–`z` change), what an uppercase server must answer.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

/// A payload as written in a scenario file (exactly one source).
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PayloadSpec {
    /// Literal text (UTF-8; use `hex` for other bytes).
    pub text: Option<String>,
    /// Literal bytes as hex digits (whitespace ignored): `"ff 00 c3 28"`.
    pub hex: Option<String>,
    /// A file, relative to the kit's root: `"fixtures/payloads/text-20k.txt"`.
    pub file: Option<String>,
    /// A generated stream of `bytes` bytes.
    pub generate: Option<GeneratedKind>,
    /// Length of a generated stream.
    pub bytes: Option<u64>,
    /// Seed of a generated stream (default 1): two seeds give two different streams.
    pub seed: Option<u64>,
    /// The payload with ASCII `a`–`z` changed to `A`–`Z`, every other byte unchanged.
    pub uppercase: Option<bool>,
}

/// What a generated stream looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum GeneratedKind {
    /// Printable ASCII lines of 72 characters.
    Text,
    /// Every byte value, including NUL and bytes that are not UTF-8.
    Binary,
    /// One long line: printable ASCII without a newline, ending with one `\n`.
    Line,
}

/// A resolved payload: knows its length and can produce any byte range.
#[derive(Debug, Clone)]
pub enum Payload {
    /// Bytes held in memory (literals).
    Bytes(Arc<[u8]>),
    /// A file on disk, read on demand.
    File {
        /// The file, from the kit's root.
        path: PathBuf,
        /// Its name as the scenario gives it, for messages.
        shown_as: String,
        /// Its length when it was resolved.
        len: u64,
    },
    /// A stream computed from its position.
    Generated {
        /// What the bytes look like.
        kind: GeneratedKind,
        /// How many bytes.
        len: u64,
        /// The seed the bytes are computed from: the same seed, the same bytes.
        seed: u64,
    },
    /// Another payload with ASCII `a`–`z` uppercased.
    Uppercase(Arc<Payload>),
}

impl PayloadSpec {
    /// Resolves the spec; `kit_root` anchors `file` paths.
    pub fn resolve(&self, kit_root: &Path) -> Result<Payload, String> {
        let source = self.resolve_source(kit_root)?;
        Ok(match self.uppercase {
            Some(true) => Payload::Uppercase(Arc::new(source)),
            _ => source,
        })
    }

    fn resolve_source(&self, kit_root: &Path) -> Result<Payload, String> {
        let sources = [
            self.text.is_some(),
            self.hex.is_some(),
            self.file.is_some(),
            self.generate.is_some(),
        ];
        match sources.iter().filter(|given| **given).count() {
            1 => {}
            0 => return Err("a payload needs one of `text`, `hex`, `file` or `generate`".into()),
            _ => {
                return Err(
                    "a payload takes only one of `text`, `hex`, `file` or `generate`".into(),
                );
            }
        }
        if self.generate.is_none() && (self.bytes.is_some() || self.seed.is_some()) {
            return Err("`bytes` and `seed` go with `generate`".into());
        }
        if let Some(text) = &self.text {
            return Ok(Payload::Bytes(text.as_bytes().into()));
        }
        if let Some(hex) = &self.hex {
            return parse_hex(hex).map(|bytes| Payload::Bytes(bytes.into()));
        }
        if let Some(file) = &self.file {
            let path = kit_root.join(file);
            let metadata = std::fs::metadata(&path)
                .map_err(|error| format!("payload file `{file}`: {error}"))?;
            if !metadata.is_file() {
                return Err(format!("payload file `{file}` is not a regular file"));
            }
            return Ok(Payload::File {
                path,
                shown_as: file.clone(),
                len: metadata.len(),
            });
        }
        let kind = self.generate.expect("one source is given");
        let len = self.bytes.ok_or("`generate` needs `bytes = N`")?;
        Ok(Payload::Generated {
            kind,
            len,
            seed: self.seed.unwrap_or(1),
        })
    }
}

fn parse_hex(hex: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = hex
        .bytes()
        .filter(|byte| !byte.is_ascii_whitespace())
        .collect();
    if !digits.len().is_multiple_of(2) {
        return Err("`hex` needs an even number of hex digits".into());
    }
    digits
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| {
                    format!(
                        "`hex` has a non-hex digit pair `{}`",
                        String::from_utf8_lossy(pair)
                    )
                })
        })
        .collect()
}

impl Payload {
    /// An empty payload.
    pub fn empty() -> Payload {
        Payload::Bytes(Arc::from(&[][..]))
    }

    /// Length in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Payload::Bytes(bytes) => bytes.len() as u64,
            Payload::File { len, .. } | Payload::Generated { len, .. } => *len,
            Payload::Uppercase(inner) => inner.len(),
        }
    }

    /// Whether the payload has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What a report calls this payload: `the 20480 bytes of fixtures/payloads/text-20k.txt`.
    pub fn describe(&self) -> String {
        match self {
            Payload::Bytes(bytes) if bytes.is_empty() => "no bytes at all".into(),
            Payload::Bytes(bytes) => format!("{} literal bytes", bytes.len()),
            Payload::File { shown_as, len, .. } => format!("the {len} bytes of {shown_as}"),
            Payload::Generated { kind, len, seed } => {
                let kind = match kind {
                    GeneratedKind::Text => "text",
                    GeneratedKind::Binary => "binary",
                    GeneratedKind::Line => "one-line text",
                };
                format!("{len} bytes of generated {kind} (seed {seed})")
            }
            Payload::Uppercase(inner) => format!("{}, uppercased", inner.describe()),
        }
    }

    /// Fills `buffer` with the bytes at `offset`; returns how many were available.
    pub fn read_at(&self, offset: u64, buffer: &mut [u8]) -> io::Result<usize> {
        let available = self.len().saturating_sub(offset).min(buffer.len() as u64) as usize;
        let buffer = &mut buffer[..available];
        match self {
            Payload::Bytes(bytes) => {
                buffer.copy_from_slice(&bytes[offset as usize..offset as usize + available])
            }
            Payload::File { path, .. } => File::open(path)?.read_exact_at(buffer, offset)?,
            Payload::Generated { kind, seed, len } => generate(*kind, *seed, *len, offset, buffer),
            Payload::Uppercase(inner) => {
                inner.read_at(offset, buffer)?;
                buffer.make_ascii_uppercase();
            }
        }
        Ok(available)
    }

    /// The whole payload in memory: for the small ones a check compares or a peer sends at
    /// once. A file that cannot be read gives what could be read, perhaps nothing (the
    /// comparison then fails and says so).
    pub fn bytes(&self) -> Vec<u8> {
        let mut bytes = vec![0u8; self.len() as usize];
        let filled = self.read_at(0, &mut bytes).unwrap_or(0);
        bytes.truncate(filled);
        bytes
    }

    /// A reader over the whole payload, for sending it.
    pub fn reader(&self) -> io::Result<Box<dyn Read + Send>> {
        Ok(match self {
            Payload::File { path, .. } => Box::new(File::open(path)?),
            other => Box::new(PayloadReader {
                payload: other.clone(),
                offset: 0,
            }),
        })
    }
}

struct PayloadReader {
    payload: Payload,
    offset: u64,
}

impl Read for PayloadReader {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let filled = self.payload.read_at(self.offset, buffer)?;
        self.offset += filled as u64;
        Ok(filled)
    }
}

/// Generated text's lines: 72 characters and a newline.
const LINE: u64 = 73;
/// The characters of generated text.
const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789.,;:!?'-";

/// Computes generated bytes from their positions: byte `p` is byte `p % 8` of splitmix64
/// of the seed and `p / 8`, so any range can be computed alone (and the harness's check of
/// 100 MB computes it twice: to send, and to compare).
fn generate(kind: GeneratedKind, seed: u64, len: u64, offset: u64, buffer: &mut [u8]) {
    let key = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut position = offset;
    let mut rest = buffer;
    if kind == GeneratedKind::Binary {
        // The bytes are the words themselves: copied a block at a time, not chosen one by
        // one (a 10 MiB file is made and compared in several scenarios).
        while !rest.is_empty() {
            let word = splitmix64(key ^ (position / 8)).to_le_bytes();
            let first = (position % 8) as usize;
            let count = (8 - first).min(rest.len());
            let (block, after) = rest.split_at_mut(count);
            block.copy_from_slice(&word[first..first + count]);
            position += count as u64;
            rest = after;
        }
        return;
    }
    // Text: where the next newline falls, counted down rather than divided per byte; a
    // line: its last byte is the newline.
    let mut to_newline = match kind {
        GeneratedKind::Text => LINE - 1 - position % LINE,
        _ => len
            .checked_sub(1)
            .and_then(|last| last.checked_sub(position))
            .unwrap_or(u64::MAX),
    };
    while !rest.is_empty() {
        // One word gives the 8 bytes of its block: computed once per block, not per byte.
        let word = splitmix64(key ^ (position / 8)).to_le_bytes();
        let first = (position % 8) as usize;
        let count = (8 - first).min(rest.len());
        let (block, after) = rest.split_at_mut(count);
        for (byte, random) in block.iter_mut().zip(&word[first..]) {
            if to_newline == 0 {
                *byte = b'\n';
                to_newline = if kind == GeneratedKind::Text {
                    LINE - 1
                } else {
                    u64::MAX
                };
            } else {
                *byte = CHARACTER_OF[usize::from(*random)];
                to_newline -= 1;
            }
        }
        position += count as u64;
        rest = after;
    }
}

/// The character of generated text that each random byte stands for: `ALPHABET[byte %
/// ALPHABET.len()]`, looked up rather than divided for each byte.
const CHARACTER_OF: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = ALPHABET[byte % ALPHABET.len()];
        byte += 1;
    }
    table
};

fn splitmix64(mut state: u64) -> u64 {
    state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    state = (state ^ (state >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    state = (state ^ (state >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    state ^ (state >> 31)
}

/// The `{host:NAME}` and `{port:NAME}` placeholders of a literal payload, as (`host` or
/// `port`, NAME): a proxy's request names the origin's address, known only when it runs.
/// `{port:unused}` is a port nothing listens on.
pub fn placeholders(payload: &Payload) -> Vec<(String, String)> {
    let Payload::Bytes(bytes) = payload else {
        return Vec::new();
    };
    let text = String::from_utf8_lossy(bytes);
    PLACEHOLDER
        .captures_iter(&text)
        .map(|captures| (captures[1].to_owned(), captures[2].to_owned()))
        .collect()
}

/// Replaces each placeholder of a literal payload by what `value(kind, name)` returns.
pub fn fill_placeholders<E>(
    payload: &Payload,
    mut value: impl FnMut(&str, &str) -> Result<String, E>,
) -> Result<Payload, E> {
    let Payload::Bytes(bytes) = payload else {
        return Ok(payload.clone());
    };
    let text = String::from_utf8_lossy(bytes);
    if !PLACEHOLDER.is_match(&text) {
        return Ok(payload.clone());
    }
    let mut filled = String::new();
    let mut last = 0;
    for captures in PLACEHOLDER.captures_iter(&text) {
        let whole = captures.get(0).expect("the whole match");
        filled.push_str(&text[last..whole.start()]);
        filled.push_str(&value(&captures[1], &captures[2])?);
        last = whole.end();
    }
    filled.push_str(&text[last..]);
    Ok(Payload::Bytes(filled.into_bytes().into()))
}

static PLACEHOLDER: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"\{(host|port):([A-Za-z0-9_-]+)\}").expect("valid regex")
});

/// Several payloads one after another: what a server should print for several clients.
#[derive(Debug, Clone, Default)]
pub struct Concatenation {
    parts: Vec<Payload>,
}

impl Concatenation {
    /// The parts, in order.
    pub fn new(parts: Vec<Payload>) -> Concatenation {
        Concatenation { parts }
    }

    /// Total length.
    pub fn len(&self) -> u64 {
        self.parts.iter().map(Payload::len).sum()
    }

    /// Whether there are no bytes at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Fills `buffer` from `offset` across part boundaries.
    pub fn read_at(&self, mut offset: u64, buffer: &mut [u8]) -> io::Result<usize> {
        let mut filled = 0;
        for part in &self.parts {
            if filled == buffer.len() {
                break;
            }
            if offset >= part.len() {
                offset -= part.len();
                continue;
            }
            filled += part.read_at(offset, &mut buffer[filled..])?;
            offset = 0;
        }
        Ok(filled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_text_is_printable_lines() {
        let payload = Payload::Generated {
            kind: GeneratedKind::Text,
            len: 4096,
            seed: 3,
        };
        let mut bytes = vec![0; 4096];
        payload.read_at(0, &mut bytes).unwrap();
        assert!(
            bytes
                .iter()
                .all(|byte| byte.is_ascii_graphic() || *byte == b' ' || *byte == b'\n')
        );
        assert_eq!(bytes[72], b'\n');
    }

    /// The first version of `generate`, a byte at a time: the blocks must give the same
    /// bytes (recorded runs and fixtures' expectations were made with them).
    fn byte_by_byte(
        kind: GeneratedKind,
        seed: u64,
        len: u64,
        offset: u64,
        count: usize,
    ) -> Vec<u8> {
        (0..count as u64)
            .map(|index| {
                let position = offset + index;
                let word = splitmix64(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (position / 8));
                let random = (word >> ((position % 8) * 8)) as u8;
                match kind {
                    GeneratedKind::Binary => random,
                    GeneratedKind::Text if position % LINE == LINE - 1 => b'\n',
                    GeneratedKind::Text => ALPHABET[random as usize % ALPHABET.len()],
                    GeneratedKind::Line if position == len - 1 => b'\n',
                    GeneratedKind::Line => ALPHABET[random as usize % ALPHABET.len()],
                }
            })
            .collect()
    }

    #[test]
    fn blocks_give_the_bytes_one_at_a_time_gave() {
        for kind in [
            GeneratedKind::Binary,
            GeneratedKind::Text,
            GeneratedKind::Line,
        ] {
            for (offset, count) in [(0, 1000), (3, 5), (7, 1), (8, 16), (1001, 333), (4093, 9)] {
                let mut blocks = vec![0; count];
                generate(kind, 11, 1400, offset, &mut blocks);
                assert_eq!(
                    blocks,
                    byte_by_byte(kind, 11, 1400, offset, count),
                    "{kind:?} {offset}"
                );
            }
        }
    }

    #[test]
    fn generated_bytes_depend_only_on_position() {
        let payload = Payload::Generated {
            kind: GeneratedKind::Binary,
            len: 1000,
            seed: 9,
        };
        let mut whole = vec![0; 1000];
        payload.read_at(0, &mut whole).unwrap();
        let mut middle = vec![0; 100];
        payload.read_at(437, &mut middle).unwrap();
        assert_eq!(&whole[437..537], &middle[..]);
    }

    #[test]
    fn generated_binary_is_not_utf8() {
        let payload = Payload::Generated {
            kind: GeneratedKind::Binary,
            len: 4096,
            seed: 1,
        };
        let mut bytes = vec![0; 4096];
        payload.read_at(0, &mut bytes).unwrap();
        assert!(std::str::from_utf8(&bytes).is_err());
    }

    #[test]
    fn generated_line_has_one_newline_at_the_end() {
        let payload = Payload::Generated {
            kind: GeneratedKind::Line,
            len: 70_000,
            seed: 2,
        };
        let mut bytes = vec![0; 70_000];
        payload.read_at(0, &mut bytes).unwrap();
        assert_eq!(bytes.iter().filter(|byte| **byte == b'\n').count(), 1);
        assert_eq!(bytes[69_999], b'\n');
    }

    #[test]
    fn uppercase_changes_only_ascii_letters() {
        let spec = PayloadSpec {
            text: Some("Hello ß é 123 &*!\n".into()),
            uppercase: Some(true),
            ..Default::default()
        };
        let payload = spec.resolve(Path::new(".")).unwrap();
        let mut bytes = vec![0; payload.len() as usize];
        payload.read_at(0, &mut bytes).unwrap();
        assert_eq!(bytes, "HELLO ß é 123 &*!\n".as_bytes());
    }

    #[test]
    fn placeholders_are_found_and_filled() {
        let payload = Payload::Bytes(
            b"GET http://{host:origin}:{port:origin}/ HTTP/1.1"
                .as_slice()
                .into(),
        );
        assert_eq!(
            placeholders(&payload),
            vec![
                ("host".into(), "origin".into()),
                ("port".into(), "origin".into())
            ]
        );
        let filled = fill_placeholders(&payload, |kind, _| {
            Ok::<_, ()>(if kind == "host" {
                "127.0.0.1".into()
            } else {
                "8080".into()
            })
        })
        .unwrap();
        let mut bytes = vec![0; filled.len() as usize];
        filled.read_at(0, &mut bytes).unwrap();
        assert_eq!(bytes, b"GET http://127.0.0.1:8080/ HTTP/1.1");
    }

    #[test]
    fn hex_literals_parse_with_spaces() {
        let spec = PayloadSpec {
            hex: Some("ff 00 C3 28".into()),
            ..Default::default()
        };
        let payload = spec.resolve(Path::new(".")).unwrap();
        let mut bytes = [0; 4];
        payload.read_at(0, &mut bytes).unwrap();
        assert_eq!(bytes, [0xff, 0x00, 0xc3, 0x28]);
    }

    #[test]
    fn two_sources_are_rejected() {
        let spec = PayloadSpec {
            text: Some("a".into()),
            hex: Some("61".into()),
            ..Default::default()
        };
        assert!(
            spec.resolve(Path::new("."))
                .unwrap_err()
                .contains("only one")
        );
    }

    #[test]
    fn concatenation_reads_across_parts() {
        let parts = vec![
            Payload::Bytes(b"abc".as_slice().into()),
            Payload::Bytes(b"defg".as_slice().into()),
        ];
        let joined = Concatenation::new(parts);
        let mut bytes = [0; 4];
        assert_eq!(joined.read_at(2, &mut bytes).unwrap(), 4);
        assert_eq!(&bytes, b"cdef");
    }
}
