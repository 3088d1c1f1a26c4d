//! `lines::LineReader`: whatever the slicing, the lines handed out are those
//! of the whole input (too long ones `TooLong`, a close mid-line `Truncated`), and the
//! reader ends with `Closed` having read everything.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reference::BUFFER_SIZE;
use reference::lines::{Line, LineReader};
use reference_fuzz::{Bytes, Sliced, budget, drive};

#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Line(Vec<u8>),
    TooLong,
    Truncated,
}

/// The lines of the whole input, worked out at once.
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

fuzz_target!(|data: &[u8]| {
    let mut bytes = Bytes(data);
    let limit = match bytes.byte() {
        0 => BUFFER_SIZE,
        small => usize::from(small),
    };
    let slices = bytes.slices();
    let input = bytes.rest();
    let mut reader = LineReader::new(Sliced::new(input, &slices));
    let reading = async {
        let mut seen = Vec::new();
        loop {
            match reader.read_line(limit).await.unwrap() {
                Line::Complete(line) => {
                    assert!(line.len() < limit);
                    seen.push(Seen::Line(line.to_vec()));
                }
                Line::TooLong => seen.push(Seen::TooLong),
                Line::Truncated => seen.push(Seen::Truncated),
                Line::Closed => return seen,
            }
        }
    };
    let seen = drive(reading, budget(input));
    assert_eq!(seen, expected(input, limit));
    assert_eq!(reader.get_mut().delivered(), input.len());
    assert!(reader.buffered().is_empty());
});
