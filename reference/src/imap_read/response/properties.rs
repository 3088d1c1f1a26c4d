//! Properties of [`read_response`], [`tokens`] and [`Response::fetched_body`] on any input,
//! however it is sliced (see `crate::testing`).

use proptest::collection::vec;
use proptest::prelude::*;

use super::{Response, Segment, read_response, tokens};
use crate::mail_read::{Failure, Wire};
use crate::net::Tokio;
use crate::testing::{PURE_CASES, STREAM_CASES, Sliced, mixed, slices, within_deadline};
use crate::tls::MaybeTls;

/// The text of a response line: printable ASCII without braces, so that no generated
/// line announces a literal by accident.
fn text() -> impl Strategy<Value = String> {
    "[ -z|~]{0,40}"
}

/// Whole responses, some holding literals of any bytes (line ends, `)`, what looks like a
/// tagged status), and their bytes as a server sends them.
fn responses() -> impl Strategy<Value = (Vec<Response>, Vec<u8>)> {
    let segment = (text(), prop::option::of(vec(any::<u8>(), 0..300)));
    let response = (vec(segment, 0..4), text());
    vec(response, 0..5).prop_map(|responses| {
        let mut bytes = Vec::new();
        let mut expected = Vec::new();
        for (with_literals, last) in responses {
            let mut segments = Vec::new();
            for (line, literal) in with_literals {
                let line = match &literal {
                    Some(literal) => format!("{line}{{{}}}", literal.len()),
                    None => line,
                };
                bytes.extend_from_slice(line.as_bytes());
                bytes.extend_from_slice(b"\r\n");
                if let Some(literal) = &literal {
                    bytes.extend_from_slice(literal);
                }
                segments.push(Segment {
                    line: line.into_bytes(),
                    literal,
                });
                if segments
                    .last()
                    .is_some_and(|segment| segment.literal.is_none())
                {
                    // A line without a literal ends its response.
                    expected.push(Response {
                        segments: std::mem::take(&mut segments),
                    });
                }
            }
            bytes.extend_from_slice(last.as_bytes());
            bytes.extend_from_slice(b"\r\n");
            segments.push(Segment {
                line: last.into_bytes(),
                literal: None,
            });
            expected.push(Response { segments });
        }
        (expected, bytes)
    })
}

/// Lines in the shape of IMAP responses, right and wrong (literals announced, and not
/// always sent).
fn response_like() -> impl Strategy<Value = String> {
    "(\\* |a[0-9] |\\+ )?[ -~]{0,30}(\\{[0-9]{1,3}\\})?\r?\n"
}

/// Reads responses from `input` delivered in `slices` until the input ends or a failure;
/// returns the responses and what ended the reading.
fn read_all(input: &[u8], slices: &[usize]) -> (Vec<Response>, Failure) {
    let stream = tokio::io::join(Sliced::new(input, slices), tokio::io::sink());
    let mut wire = Wire::new(MaybeTls::Plain(stream), Tokio);
    within_deadline(async {
        let mut responses = Vec::new();
        loop {
            match read_response(&mut wire, "test").await {
                Ok(response) => responses.push(response),
                Err(failure) => return (responses, failure),
            }
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(STREAM_CASES))]

    /// Responses come back whole, literals byte for byte, however the network sliced
    /// them (SPEC message/4 holds for every stream); then the close is `Closed`.
    #[test]
    fn responses_and_their_literals_are_read_whole_however_sliced(
        (expected, bytes) in responses(),
        slices in slices(),
    ) {
        let (received, end) = read_all(&bytes, &slices);
        prop_assert_eq!(received, expected);
        prop_assert!(matches!(end, Failure::Closed { .. }), "{}", end);
    }

    /// On any input the reader ends when the input does, without panicking, and with a
    /// protocol's failure (closed, malformed, too large), never a broken connection.
    #[test]
    fn any_input_ends_in_a_protocol_failure_never_a_panic_or_a_loop(
        input in mixed(response_like()),
        slices in slices(),
    ) {
        let (_, end) = read_all(&input, &slices);
        prop_assert!(!matches!(end, Failure::Broken { .. } | Failure::TimedOut { .. }), "{}", end);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(PURE_CASES))]

    /// Taking a response apart never panics, whatever its lines and literals hold.
    #[test]
    fn tokens_and_fetch_bodies_never_panic(
        segments in vec((vec(any::<u8>(), 0..60), prop::option::of(vec(any::<u8>(), 0..60))), 1..4),
    ) {
        let response = Response {
            segments: segments
                .into_iter()
                .map(|(line, literal)| Segment { line, literal })
                .collect(),
        };
        let _ = response.kind();
        let _ = response.status();
        let _ = response.exists();
        let _ = response.capabilities();
        let _ = tokens(response.clone());
        let _ = response.fetched_body();
    }
}
