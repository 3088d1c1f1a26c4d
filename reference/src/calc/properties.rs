//! Properties of the calc servers' parser and line buffer on any input (see
//! `crate::testing`): one reply line per expression line, whatever the bytes and however
//! `recv` cut them; no panic; the buffer never grows.

use proptest::prelude::*;

use super::answer;
use crate::line_server::lines::{Line, Lines, MAX_LINE};
use crate::testing::{PURE_CASES, STREAM_CASES, mixed, slices};

/// Expressions as students and attackers type them.
fn typed_expression() -> impl Strategy<Value = String> {
    "[0-9 ()+*/%.\\-]{0,60}\r?\n|[a-z_('\".)]{0,30}\n|\\(*[0-9]\\)*\n"
}

/// What the buffer must give: the input's lines, without their ends, in order; a line
/// longer than the buffer as [`Line::TooLong`]; the unfinished tail not at all.
fn expected_lines(input: &[u8]) -> Vec<Option<Vec<u8>>> {
    let mut lines = Vec::new();
    let mut rest = input;
    while let Some(end) = rest.iter().position(|byte| *byte == b'\n') {
        let line = &rest[..end];
        lines.push(if end >= MAX_LINE {
            None
        } else {
            Some(line.strip_suffix(b"\r").unwrap_or(line).to_vec())
        });
        rest = &rest[end + 1..];
    }
    lines
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(PURE_CASES))]

    /// SPEC calc/1-2: every line gets one line back, a value or `error:`, never a panic,
    /// never a line end inside the reply.
    #[test]
    fn every_line_gets_one_reply_line(line in prop_oneof![
        typed_expression(),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
    ]) {
        let line = line.trim_end_matches(['\r', '\n']);
        match answer(Line::Text(line.as_bytes())) {
            None => prop_assert!(line.bytes().all(|byte| byte.is_ascii_whitespace())),
            Some(reply) => {
                prop_assert_eq!(reply.iter().filter(|byte| **byte == b'\n').count(), 1);
                prop_assert_eq!(reply.last(), Some(&b'\n'));
                let text = String::from_utf8(reply).unwrap();
                prop_assert!(text.starts_with("error: ") || text.trim_end().parse::<f64>().is_ok(), "{}", text);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(STREAM_CASES))]

    /// However `recv` cuts the stream, the same lines come out, and a line longer than the
    /// buffer is reported once, not stored.
    #[test]
    fn lines_do_not_depend_on_the_slicing(input in mixed(typed_expression()), cuts in slices()) {
        let mut buffer = Lines::default();
        let mut seen = Vec::new();
        let mut rest = &input[..];
        let mut cut = cuts.iter().cycle();
        while !rest.is_empty() {
            let space = buffer.space();
            prop_assert!(!space.is_empty());
            let count = space.len().min(rest.len()).min(*cut.next().unwrap());
            space[..count].copy_from_slice(&rest[..count]);
            rest = &rest[count..];
            buffer.received(count, |line| seen.push(match line {
                Line::Text(text) => Some(text.to_vec()),
                Line::TooLong => None,
            }));
        }
        prop_assert_eq!(seen, expected_lines(&input));
    }
}
