//! Properties of [`read_lines`] and [`parse_status`] on any input, however it is sliced
//! (see `crate::testing`).

use proptest::collection::vec;
use proptest::prelude::*;

use super::{parse_status, read_lines};
use crate::mail_read::{Failure, Wire};
use crate::net::Tokio;
use crate::testing::{PURE_CASES, STREAM_CASES, Sliced, mixed, slices, within_deadline};
use crate::tls::MaybeTls;

/// Lines of a message, many starting with dots (`.`, `..`, `.x`).
fn message_lines() -> impl Strategy<Value = Vec<String>> {
    vec("\\.{0,3}[ -~]{0,40}", 0..20)
}

/// Reads one multi-line answer from `input` delivered in `slices`.
fn read_one(input: &[u8], slices: &[usize]) -> Result<Vec<u8>, Failure> {
    let stream = tokio::io::join(Sliced::new(input, slices), tokio::io::sink());
    let mut wire = Wire::new(MaybeTls::Plain(stream), Tokio);
    within_deadline(async { read_lines(&mut wire, "test").await })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(STREAM_CASES))]

    /// A message's lines, dot-stuffed as a server sends them (RFC 1939 §3) and ended by
    /// `.`, come back as they were, however sliced: one dot taken off where one was
    /// added, and nothing after the `.` read.
    #[test]
    fn stuffed_lines_come_back_as_they_were_however_sliced(
        lines in message_lines(),
        slices in slices(),
    ) {
        let mut wire = Vec::new();
        let mut expected = Vec::new();
        for line in &lines {
            if line.starts_with('.') {
                wire.push(b'.');
            }
            wire.extend_from_slice(line.as_bytes());
            wire.extend_from_slice(b"\r\n");
            expected.extend_from_slice(line.as_bytes());
            expected.extend_from_slice(b"\r\n");
        }
        wire.extend_from_slice(b".\r\n+OK after\r\n");
        prop_assert_eq!(read_one(&wire, &slices).unwrap(), expected);
    }

    /// On any input the reader ends when the input does, without panicking, and with the
    /// lines or a protocol's failure, never a broken connection.
    #[test]
    fn any_input_ends_never_a_panic_or_a_loop(
        input in mixed("\\.{0,2}[ -~]{0,30}\r?\n"),
        slices in slices(),
    ) {
        if let Err(failure) = read_one(&input, &slices) {
            prop_assert!(
                !matches!(failure, Failure::Broken { .. } | Failure::TimedOut { .. }),
                "{}", failure
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(PURE_CASES))]

    /// A status line is `+OK` or `-ERR` and text, whatever follows; nothing else is one.
    #[test]
    fn a_status_is_plus_ok_or_minus_err_on_any_bytes(line in vec(any::<u8>(), 0..40)) {
        let parsed = parse_status(&line);
        let starts = line.starts_with(b"+OK") || line.starts_with(b"-ERR");
        prop_assert!(parsed.is_none() || starts);
    }
}
