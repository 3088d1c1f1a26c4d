//! Byte diffs: where two streams part. Text is shown as a line diff; anything else (a
//! binary file, bytes that are not UTF-8) as hex and text side by side, never as
//! replacement characters.
//!
//! ```text
//! first difference at byte 0 (expected 20480 bytes, seen 20513), as text from byte 0:
//!   - Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod
//!   + Connected by ('127.0.0.1', 40312)
//!   + Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod
//!
//! first difference at byte 3 (expected 5 bytes, seen 5)
//! > expected 00000000  89 50 4e 47 0d              |.PNG.|
//! > seen     00000000  89 50 4e 0a 0d              |.PN..|
//! ```

use std::fmt::Write;

/// Bytes per row of a dump.
const ROW: usize = 16;

/// Where a dump window around `offset` starts: one row before it, on a row boundary.
pub fn window_start(offset: u64) -> u64 {
    offset.saturating_sub(ROW as u64) / ROW as u64 * ROW as u64
}

/// The diff of two windows of bytes that both start at `window_start`.
pub fn byte_window_diff(
    offset: u64,
    expected_len: u64,
    seen_len: u64,
    window_start: u64,
    expected: &[u8],
    seen: &[u8],
) -> String {
    let mut text = if offset == expected_len {
        format!(
            "the expected {expected_len} bytes all came, then {} bytes more",
            seen_len - expected_len
        )
    } else {
        format!(
            "first difference at byte {offset} (expected {expected_len} bytes, seen {seen_len})"
        )
    };
    if let (Some(expected_text), Some(seen_text)) = (as_text(expected), as_text(seen)) {
        let _ = write!(text, ", as text from byte {window_start}:");
        // Whether each window reaches the end of its stream: a last line without its end
        // is then the stream's, else the window's cut.
        let ends = (
            window_start + expected.len() as u64 >= expected_len,
            window_start + seen.len() as u64 >= seen_len,
        );
        text += &line_diff(expected_text, seen_text, ends);
        return text;
    }
    let rows = expected.len().max(seen.len()).div_ceil(ROW).max(1);
    for row in 0..rows {
        let at = row * ROW;
        let row_offset = window_start + at as u64;
        for (label, bytes) in [("expected", expected), ("seen    ", seen)] {
            let slice = bytes.get(at..(at + ROW).min(bytes.len())).unwrap_or(&[]);
            let marker = if (row_offset..row_offset + ROW as u64).contains(&offset) {
                ">"
            } else {
                " "
            };
            let _ = write!(text, "\n{marker} {label} {}", dump_row(row_offset, slice));
        }
    }
    text
}

/// `bytes` as text, if they are: UTF-8 (a character cut by the end of the window left
/// out) without control characters other than line ends and tabs.
fn as_text(bytes: &[u8]) -> Option<&str> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        // Only a character cut short by the window's end (`error_len` is `None`).
        Err(error) if error.error_len().is_none() => {
            std::str::from_utf8(&bytes[..error.valid_up_to()]).ok()?
        }
        Err(_) => return None,
    };
    text.chars()
        .all(|character| !character.is_control() || matches!(character, '\n' | '\r' | '\t'))
        .then_some(text)
}

/// The lines of `expected` and `seen` as a diff: `  - ` a line only expected, `  + ` one
/// only seen, `    ` one both have; each line's ending and other escapes shown. `ends`:
/// whether each side's text reaches the end of its stream (a last line without its end is
/// `(no line end)` there, `…` where the window cut it).
fn line_diff(expected: &str, seen: &str, ends: (bool, bool)) -> String {
    let diff = similar::TextDiff::from_lines(expected, seen);
    let mut text = String::new();
    for change in diff.iter_all_changes() {
        // Only expected, in both, or (the rest) only seen.
        let (sign, at_end) = match change.tag() {
            similar::ChangeTag::Delete => ("-", ends.0),
            similar::ChangeTag::Equal => (" ", ends.0 && ends.1),
            _ => ("+", ends.1),
        };
        let line = change.value();
        let body = line.strip_suffix('\n').unwrap_or(line);
        let shown: String = body.chars().flat_map(char::escape_debug).collect();
        let end = match (line.ends_with('\n'), at_end) {
            (true, _) => "",
            (false, true) => " (no line end)",
            (false, false) => " …",
        };
        let _ = write!(text, "\n  {sign} {shown}{end}");
    }
    text
}

/// A plain hex dump of `bytes`, which start at `start`.
pub fn hex_dump(start: u64, bytes: &[u8]) -> String {
    bytes
        .chunks(ROW)
        .enumerate()
        .map(|(row, slice)| dump_row(start + (row * ROW) as u64, slice))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `00000010  48 65 6c 6c 6f 0a ...  |Hello.|`, or `(end)` past the end of a stream.
fn dump_row(offset: u64, slice: &[u8]) -> String {
    if slice.is_empty() {
        return format!("{offset:08x}  (end of stream)");
    }
    let mut hex = String::new();
    for index in 0..ROW {
        if index == ROW / 2 {
            hex.push(' ');
        }
        match slice.get(index) {
            Some(byte) => {
                let _ = write!(hex, "{byte:02x} ");
            }
            None => hex.push_str("   "),
        }
    }
    let printable: String = slice
        .iter()
        .map(|byte| {
            if byte.is_ascii_graphic() || *byte == b' ' {
                *byte as char
            } else {
                '.'
            }
        })
        .collect();
    format!("{offset:08x}  {hex} |{printable}|")
}

/// Printable excerpt of output bytes: escapes, and `(nothing)` for none.
pub fn excerpt(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "(nothing)".into();
    }
    let mut text = String::new();
    for chunk in bytes.utf8_chunks() {
        text.extend(chunk.valid().chars().flat_map(char::escape_debug));
        // Bytes that are not UTF-8 (binary output) as `\x89`, never as U+FFFD.
        for byte in chunk.invalid() {
            let _ = write!(text, "\\x{byte:02x}");
        }
    }
    format!("\"{text}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_debug_line_is_shown_against_the_message_as_text() {
        let diff = byte_window_diff(
            0,
            12,
            27,
            0,
            b"hello world\n",
            b"Connected by x\r\nhello world\n",
        );
        insta::assert_snapshot!(diff, @r"
        first difference at byte 0 (expected 12 bytes, seen 27), as text from byte 0:
          + Connected by x\r
            hello world
        ");
    }

    #[test]
    fn binary_bytes_are_shown_as_hex() {
        let diff = byte_window_diff(3, 5, 5, 0, b"\x89PNG\r", b"\x89PN\n\r");
        insta::assert_snapshot!(diff, @r"
        first difference at byte 3 (expected 5 bytes, seen 5)
        > expected 00000000  89 50 4e 47 0d                                    |.PNG.|
        > seen     00000000  89 50 4e 0a 0d                                    |.PN..|
        ");
    }

    #[test]
    fn a_character_cut_by_the_window_is_still_text() {
        let cut = "caf\u{e9}".as_bytes();
        assert_eq!(as_text(&cut[..cut.len() - 1]), Some("caf"));
        assert_eq!(as_text(b"\xff text"), None);
        assert_eq!(as_text(b"a\x00b"), None);
    }

    #[test]
    fn an_excerpt_escapes_bytes_that_are_not_utf8() {
        assert_eq!(excerpt(b"\x89PNG\r\n"), "\"\\x89PNG\\r\\n\"");
        assert_eq!(excerpt("café\n".as_bytes()), "\"café\\n\"");
        assert!(!excerpt(&[0xff; 64]).contains('\u{fffd}'));
    }

    #[test]
    fn extra_bytes_after_the_message_are_named() {
        let diff = byte_window_diff(5, 5, 6, 0, b"hello", b"hello\n");
        assert!(diff.starts_with("the expected 5 bytes all came, then 1 bytes more"));
    }
}
