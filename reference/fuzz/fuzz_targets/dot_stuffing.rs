//! `smtp_client::dot_stuffing` with the server's side (`lines`, `transaction`): any
//! message, in any pieces, goes on the wire with no bare CR or LF and one end of data, and
//! the server reads back its lines, unstuffed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reference::BUFFER_SIZE;
use reference::smtp_client::dot_stuffing::{DotStuffer, stuff};
use reference::lines::{Line, LineReader};
use reference::smtp_server::transaction::{ends_data, unstuff};
use reference_fuzz::{Bytes, Sliced, budget, drive};

/// The lines of `message`: CRLF, a bare CR and a bare LF each end one.
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
            _ => lines.last_mut().unwrap().push(byte),
        }
    }
    if lines.last().is_some_and(Vec::is_empty) {
        lines.pop();
    }
    lines
}

fuzz_target!(|data: &[u8]| {
    let mut bytes = Bytes(data);
    let sizes = bytes.slices();
    let message = bytes.rest();
    let wire = stuff(message);

    // The same bytes, pushed in pieces; each piece makes at most twice its length.
    let mut pieces = Vec::new();
    let mut stuffer = DotStuffer::new();
    let mut rest = message;
    for size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (piece, after) = rest.split_at((*size).min(rest.len()));
        let before = pieces.len();
        stuffer.push(piece, &mut pieces);
        assert!(pieces.len() - before <= 2 * piece.len());
        rest = after;
    }
    stuffer.finish(&mut pieces);
    if !sizes.is_empty() {
        assert_eq!(pieces, wire);
    }

    // No bare CR or LF; the end of data once, at the end.
    for (at, &byte) in wire.iter().enumerate() {
        match byte {
            b'\r' => assert_eq!(wire.get(at + 1), Some(&b'\n')),
            b'\n' => assert!(at > 0 && wire[at - 1] == b'\r'),
            _ => {}
        }
    }
    assert_eq!(
        wire.split(|&byte| byte == b'\n')
            .filter(|line| *line == b".\r")
            .count(),
        1
    );

    // The server reads the lines back (when they fit its reader).
    let expected = lines_of(message);
    if expected.iter().any(|line| line.len() + 3 > BUFFER_SIZE) {
        return;
    }
    let mut reader = LineReader::new(Sliced::new(&wire, &sizes));
    let reading = async {
        let mut received = Vec::new();
        loop {
            match reader.read_line(BUFFER_SIZE).await.unwrap() {
                Line::Complete(line) if ends_data(line) => break,
                Line::Complete(line) => received.push(unstuff(line).to_vec()),
                other => panic!("{other:?} before the end of data"),
            }
        }
        assert_eq!(reader.read_line(BUFFER_SIZE).await.unwrap(), Line::Closed);
        received
    };
    assert_eq!(drive(reading, budget(&wire)), expected);
});
