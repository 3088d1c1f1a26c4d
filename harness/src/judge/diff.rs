//! Byte diffs: where two streams part, shown as hex and text side by side.
//!
//! ```text
//! first difference at byte 0 (expected 20480 bytes, seen 20513)
//!   expected 00000000  4c 6f 72 65 6d 20 69 70  73 75 6d 20 64 6f 6c 6f  |Lorem ipsum dolo|
//!   seen     00000000  43 6f 6e 6e 65 63 74 65  64 20 62 79 20 28 27 31  |Connected by ('1|
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
pub(crate) fn excerpt(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "(nothing)".into();
    }
    let text: String = String::from_utf8_lossy(bytes)
        .chars()
        .flat_map(char::escape_debug)
        .collect();
    format!("\"{text}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_debug_line_is_shown_against_the_message() {
        let diff = byte_window_diff(0, 11, 25, 0, b"hello world", b"Connected by x\nhello world");
        insta::assert_snapshot!(diff, @r"
        first difference at byte 0 (expected 11 bytes, seen 25)
        > expected 00000000  68 65 6c 6c 6f 20 77 6f  72 6c 64                 |hello world|
        > seen     00000000  43 6f 6e 6e 65 63 74 65  64 20 62 79 20 78 0a 68  |Connected by x.h|
          expected 00000010  (end of stream)
          seen     00000010  65 6c 6c 6f 20 77 6f 72  6c 64                    |ello world|
        ");
    }

    #[test]
    fn extra_bytes_after_the_message_are_named() {
        let diff = byte_window_diff(5, 5, 6, 0, b"hello", b"hello\n");
        assert!(diff.starts_with("the expected 5 bytes all came, then 1 bytes more"));
    }
}
