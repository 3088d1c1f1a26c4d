//! Properties of [`DotStuffer`]: any message, cut into any pieces, reaches the server's
//! reader as its own lines (see `crate::testing`).

use proptest::collection::vec;
use proptest::prelude::*;

use super::{DotStuffer, stuff};
use crate::BUFFER_SIZE;
use crate::lines::{Line, LineReader};
use crate::smtp_server::transaction::{ends_data, unstuff};
use crate::testing::{STREAM_CASES, Sliced, slices, within_deadline};

/// Messages with the lines that need care: leading dots, lone dots, every kind of line
/// end (CRLF, bare LF, bare CR, CR CR LF), bytes that are not UTF-8. Lines stay short
/// enough for the server's reader (the client does not cut long lines).
fn message() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b".".to_vec()),
        Just(b"..".to_vec()),
        Just(b".\r\n".to_vec()),
        "\\.?[ -~]{0,40}".prop_map(String::into_bytes),
        prop_oneof![
            Just("\r\n"),
            Just("\n"),
            Just("\r"),
            Just("\r\r\n"),
            Just("\n.\n")
        ]
        .prop_map(|end| end.as_bytes().to_vec()),
        vec(any::<u8>(), 0..20),
    ];
    vec(piece, 0..30).prop_map(|pieces| pieces.concat())
}

/// The lines of `message` as RFC 5321 §2.3.8 reads them: CRLF, a bare CR and a bare LF
/// each end a line; text after the last line end is a last line.
fn lines_of(message: &[u8]) -> Vec<Vec<u8>> {
    let mut lines = vec![Vec::new()];
    let mut bytes = message.iter().peekable();
    while let Some(&byte) = bytes.next() {
        match byte {
            b'\r' | b'\n' => {
                if byte == b'\r' && bytes.peek() == Some(&&b'\n') {
                    bytes.next();
                }
                lines.push(Vec::new());
            }
            _ => lines.last_mut().expect("never empty").push(byte),
        }
    }
    if lines.last().is_some_and(Vec::is_empty) {
        lines.pop();
    }
    lines
}

/// The DATA bytes of `message`, pushed in pieces of the given sizes, in turn.
fn stuffed_in_pieces(message: &[u8], sizes: &[usize]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut stuffer = DotStuffer::new();
    let mut rest = message;
    for size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (piece, after) = rest.split_at((*size).min(rest.len()));
        let before = out.len();
        stuffer.push(piece, &mut out);
        // Bounded: each byte becomes at most two (a line end or a doubled dot).
        assert!(out.len() - before <= 2 * piece.len());
        rest = after;
    }
    stuffer.finish(&mut out);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(STREAM_CASES))]

    /// The message goes out one buffer at a time: the bytes on the wire must not depend
    /// on where the buffers cut it (a CR at the end of one piece and its LF at the start
    /// of the next are one line end).
    #[test]
    fn pieces_of_any_size_give_the_same_bytes(message in message(), sizes in slices()) {
        prop_assert_eq!(stuffed_in_pieces(&message, &sizes), stuff(&message));
    }

    /// RFC 5321 §2.3.8, §4.1.1.4 and the "SMTP smuggling" attack: on the wire there is no
    /// bare CR or LF, and the end of data (`.` alone on a line) comes once, at the end.
    #[test]
    fn the_end_of_data_comes_once_and_no_bare_line_end_is_sent(message in message()) {
        let wire = stuff(&message);
        for (at, &byte) in wire.iter().enumerate() {
            match byte {
                b'\r' => prop_assert_eq!(wire.get(at + 1), Some(&b'\n')),
                b'\n' => prop_assert!(at > 0 && wire[at - 1] == b'\r'),
                _ => {}
            }
        }
        let lines: Vec<&[u8]> = wire.split(|&byte| byte == b'\n').collect();
        let ends = lines.iter().filter(|line| **line == b".\r").count();
        prop_assert_eq!(ends, 1);
        prop_assert!(wire.ends_with(b".\r\n"));
    }

    /// The round trip: what the client stuffs, the server's line reader reads back through
    /// any slicing and unstuffs, line for line, up to the final `.` and nothing after it.
    #[test]
    fn the_server_reads_back_the_lines_of_the_message(message in message(), slices in slices()) {
        let wire = stuff(&message);
        let mut reader = LineReader::new(Sliced::new(&wire, &slices));
        let received = within_deadline(async {
            let mut received = Vec::new();
            loop {
                match reader.read_line(BUFFER_SIZE).await.expect("an in-memory stream") {
                    Line::Complete(line) if ends_data(line) => break,
                    Line::Complete(line) => received.push(unstuff(line).to_vec()),
                    other => panic!("{other:?} before the end of data"),
                }
            }
            let after = reader.read_line(BUFFER_SIZE).await.expect("an in-memory stream");
            assert_eq!(after, Line::Closed, "bytes after the end of data");
            received
        });
        prop_assert_eq!(received, lines_of(&message));
    }
}
