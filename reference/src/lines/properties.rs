//! Properties of [`LineReader`] on any input, however it is sliced (see `crate::testing`).

use proptest::prelude::*;

use super::{Line, LineReader};
use crate::BUFFER_SIZE;
use crate::testing::{STREAM_CASES, Sliced, mixed, slices, within_deadline};

/// What the reader hands out, as owned values, for comparing.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Line(Vec<u8>),
    TooLong,
    Truncated,
}

/// What the reader must hand out for `input` with `limit`, worked out on the whole input
/// at once: each line ended by `\n`, without its line end (`\r\n` or `\n`), or `TooLong`
/// if it has more than `limit` bytes line end included; then `Truncated` if bytes came
/// after the last line end.
fn expected(input: &[u8], limit: usize) -> Vec<Seen> {
    let mut pieces: Vec<&[u8]> = input.split_inclusive(|&byte| byte == b'\n').collect();
    let unfinished = pieces.pop_if(|piece| !piece.ends_with(b"\n")).is_some();
    let mut seen: Vec<Seen> = pieces
        .into_iter()
        .map(|line| match line.len() > limit {
            true => Seen::TooLong,
            false => {
                let line = &line[..line.len() - 1];
                Seen::Line(line.strip_suffix(b"\r").unwrap_or(line).to_vec())
            }
        })
        .collect();
    if unfinished {
        seen.push(Seen::Truncated);
    }
    seen
}

/// Lines of an SMTP session.
fn smtp_line() -> impl Strategy<Value = String> {
    "[A-Za-z]{0,6} [ -~]{0,40}\r?\n"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(STREAM_CASES))]

    /// The lines do not depend on how the network sliced them (SPEC message/4 holds for
    /// every stream), and are those of the whole input: lines over the limit, even 20 KB
    /// ones through the 4 KiB buffer, are `TooLong` and skipped to their end (memory stays
    /// at one buffer: such a line could not have been stored), the line after them is
    /// read normally, and a close mid-line is `Truncated`. The reader hands out `Closed`
    /// when the input ends and never fails on bad input.
    #[test]
    fn the_lines_are_those_of_the_whole_input_however_sliced(
        input in mixed(smtp_line()),
        slices in slices(),
        limit in prop_oneof![1usize..=16, 17usize..=1000, Just(BUFFER_SIZE)],
    ) {
        let mut reader = LineReader::new(Sliced::new(&input, &slices));
        let seen = within_deadline(async {
            let mut seen = Vec::new();
            loop {
                match reader.read_line(limit).await.expect("an in-memory stream never fails") {
                    Line::Complete(line) => {
                        assert!(line.len() < limit, "a line of {} bytes handed out", line.len());
                        seen.push(Seen::Line(line.to_vec()));
                    }
                    Line::TooLong => seen.push(Seen::TooLong),
                    Line::Truncated => seen.push(Seen::Truncated),
                    Line::Closed => return seen,
                }
            }
        });
        prop_assert_eq!(seen, expected(&input, limit));
        // Everything was read, and nothing is left over.
        prop_assert_eq!(reader.get_mut().delivered(), input.len());
        prop_assert!(reader.buffered().is_empty());
    }
}
