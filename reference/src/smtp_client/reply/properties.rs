//! Properties of [`parse_reply_line`] and [`read_reply`] on any input, however it is
//! sliced (see `crate::testing`).

use proptest::collection::vec;
use proptest::prelude::*;

use super::{MAX_REPLY_LINE, MAX_REPLY_LINES, Received, Reply, parse_reply_line, read_reply};
use crate::lines::LineReader;
use crate::testing::{PURE_CASES, STREAM_CASES, Sliced, mixed, slices, within_deadline};

/// A reply code as RFC 5321 §4.2 writes them: 2 to 5, 0 to 5, 0 to 9.
fn code() -> impl Strategy<Value = u16> {
    (2u16..=5, 0u16..=5, 0u16..=9)
        .prop_map(|(first, second, third)| first * 100 + second * 10 + third)
}

/// Whole replies, and their bytes as a server sends them (CRLF or a bare LF after each
/// line; the last line's text may be empty, with or without its space).
fn replies() -> impl Strategy<Value = (Vec<Reply>, Vec<u8>)> {
    let reply = (
        code(),
        vec("[ -~]{0,40}", 1..6),
        any::<bool>(),
        any::<bool>(),
    );
    vec(reply, 0..5).prop_map(|replies| {
        let mut bytes = Vec::new();
        let mut expected = Vec::new();
        for (code, lines, lf_only, bare_last) in replies {
            let end = if lf_only { "\n" } else { "\r\n" };
            for (at, text) in lines.iter().enumerate() {
                let last = at + 1 == lines.len();
                let line = match (last, text.is_empty() && bare_last) {
                    (false, _) => format!("{code}-{text}"),
                    (true, true) => format!("{code}"),
                    (true, false) => format!("{code} {text}"),
                };
                bytes.extend_from_slice(line.as_bytes());
                bytes.extend_from_slice(end.as_bytes());
            }
            expected.push(Reply { code, lines });
        }
        (expected, bytes)
    })
}

/// Lines in the shape of replies, right and wrong.
fn reply_like() -> impl Strategy<Value = String> {
    "[0-9]{2,4}[- ]?[ -~]{0,30}\r?\n"
}

/// Reads replies from `input` delivered in `slices` until the server closes or talks
/// nonsense (a client stops there); returns everything received.
fn read_all(input: &[u8], slices: &[usize]) -> Vec<Received> {
    let mut connection = LineReader::new(Sliced::new(input, slices));
    within_deadline(async {
        let mut received = Vec::new();
        loop {
            let reply = read_reply(&mut connection)
                .await
                .expect("an in-memory stream never fails");
            let done = !matches!(reply, Received::Reply(_));
            received.push(reply);
            if done {
                return received;
            }
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(PURE_CASES))]

    /// A reply line is its code, then a `-` (more lines follow), a space or nothing, then
    /// text: written out and parsed back, it is the same; and whatever the line, a code
    /// parsed from it is 200 to 559 and is its first three bytes (no panic on any bytes).
    #[test]
    fn a_reply_line_parses_back_to_its_code_and_text(
        code in code(),
        separator in prop_oneof![Just(&b"-"[..]), Just(&b" "[..])],
        text in vec(any::<u8>(), 0..40),
        junk in vec(any::<u8>(), 0..12),
    ) {
        let line = [code.to_string().as_bytes(), separator, &text].concat();
        let parsed = parse_reply_line(&line).expect("a reply line");
        prop_assert_eq!((parsed.code, parsed.last, parsed.text), (code, separator == b" ", &text[..]));
        if let Some(parsed) = parse_reply_line(&junk) {
            prop_assert!((200..=559).contains(&parsed.code));
            prop_assert_eq!(parsed.code.to_string(), String::from_utf8_lossy(&junk[..3]));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(STREAM_CASES))]

    /// A well-formed reply, multi-line or not, read through any slicing is the same as
    /// read whole: a first client's single `recv` is what goes wrong here, and every
    /// later reply must stay with its own command.
    #[test]
    fn replies_are_read_whole_however_they_are_sliced((expected, bytes) in replies(), slices in slices()) {
        let mut received = read_all(&bytes, &slices);
        prop_assert_eq!(received.pop(), Some(Received::Closed));
        let expected: Vec<Received> = expected.into_iter().map(Received::Reply).collect();
        prop_assert_eq!(received, expected);
    }

    /// Whatever the server sends, the client's reader stops when the input ends, never
    /// fails on bad input (it is `Malformed`, with why), and keeps at most
    /// MAX_REPLY_LINES lines of at most MAX_REPLY_LINE bytes: a server that sends `250-`
    /// lines forever cannot grow the client's memory.
    #[test]
    fn any_input_is_replies_then_a_close_or_nonsense(input in mixed(reply_like()), slices in slices()) {
        for received in read_all(&input, &slices) {
            if let Received::Reply(reply) = received {
                prop_assert!((200..=559).contains(&reply.code));
                prop_assert!((1..=MAX_REPLY_LINES).contains(&reply.lines.len()));
                // Text decoded lossily (U+FFFD is 3 bytes for 1) from at most one line.
                prop_assert!(reply.lines.iter().all(|line| line.len() <= 3 * MAX_REPLY_LINE));
            }
        }
    }
}
