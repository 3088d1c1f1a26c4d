//! Properties of [`read_head`] and [`parse_head`] on any input, however it is sliced (see
//! `crate::testing`).

use proptest::collection::vec;
use proptest::prelude::*;

use super::{Head, HeaderField, MAX_HEAD, Parsed, Request, parse_head, read_head};
use crate::testing::{STREAM_CASES, Sliced, mixed, slices, within_deadline};
use crate::web_server::Status;

/// Lines in the shape of a request head: request lines (right and wrong), header fields,
/// blank lines.
fn head_line() -> impl Strategy<Value = String> {
    prop_oneof![
        "(GET|HEAD|POST|get|[A-Z]{1,7}) (/[!-~]{0,20}|http://[a-z.]{1,10}(:[0-9]{1,5})?/[!-~]{0,10}|\\*|[ -~]{0,10}) HTTP/1\\.[01]\r?\n",
        "[A-Za-z-]{1,12}: ?[ -~]{0,30}\r?\n",
        "\r?\n",
    ]
}

/// Reads a head from `input`, delivered in `slices`, into a buffer of `capacity`; returns
/// it and how many bytes the reader took from the stream.
fn read(input: &[u8], slices: &[usize], capacity: usize) -> (Head, usize) {
    let mut stream = Sliced::new(input, slices);
    let mut buffer = vec![0u8; capacity];
    let head = within_deadline(read_head(&mut stream, &mut buffer));
    (
        head.expect("an in-memory stream never fails"),
        stream.delivered(),
    )
}

/// A header value as `httparse` hands it out: visible ASCII, spaces and tabs inside,
/// bytes above 0x7F (RFC 9110 §5.5), no whitespace at either end.
fn field_value() -> impl Strategy<Value = Vec<u8>> {
    let inner = prop_oneof![0x21u8..=0x7e, Just(b' '), Just(b'\t'), 0x80u8..=0xff];
    let outer = prop_oneof![0x21u8..=0x7e, 0x80u8..=0xff];
    (outer.clone(), vec(inner, 0..20), outer)
        .prop_map(|(first, middle, last)| [vec![first], middle, vec![last]].concat())
}

/// A well-formed request, and its head as a client sends it: CRLF or a bare LF after each
/// line, and maybe the start of a second request after the blank line.
fn well_formed() -> impl Strategy<Value = (Request, Vec<u8>)> {
    let method = "GET|HEAD|POST|[A-Z]{1,7}";
    let target = "/[A-Za-z0-9._~%/?=&-]{0,30}|http://[a-z0-9.]{1,12}(:[0-9]{1,5})?/[!-~]{0,12}";
    let field = ("[A-Za-z][A-Za-z0-9-]{0,15}", field_value());
    let fields = vec(field, 0..8);
    let line_ends = vec(prop_oneof!["\r\n", "\n"], 10);
    let after = prop_oneof![Just(String::new()), "GET /next HTTP/1.1\r\n.{0,10}"];
    (method, target, fields, line_ends, after).prop_map(|(method, target, fields, ends, after)| {
        let end = |line: usize| ends[line % ends.len()].as_bytes();
        let mut head = format!("{method} {target} HTTP/1.1").into_bytes();
        head.extend_from_slice(end(0));
        for (line, (name, value)) in fields.iter().enumerate() {
            head.extend_from_slice(format!("{name}: ").as_bytes());
            head.extend_from_slice(value);
            head.extend_from_slice(end(line + 1));
        }
        head.extend_from_slice(end(fields.len() + 1));
        head.extend_from_slice(after.as_bytes());
        let headers = fields
            .into_iter()
            .map(|(name, value)| HeaderField { name, value })
            .collect();
        (
            Request {
                method,
                target,
                headers,
            },
            head,
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(STREAM_CASES))]

    /// SPEC web/3: a well-formed head is read whole however the network slices it, one
    /// byte at a time included, and what follows its blank line is not part of it.
    #[test]
    fn a_well_formed_head_is_read_whole_however_it_is_sliced(
        (request, head) in well_formed(),
        slices in slices(),
    ) {
        prop_assert_eq!(read(&head, &slices, MAX_HEAD).0, Head::Request(request.clone()));
        prop_assert_eq!(parse_head(&head), Parsed::Complete(request));
    }

    /// Whatever a client sends, the reader stops when the input ends (no loop), never
    /// fails (bad input is a refusal, a 400 or a 431, not an `io::Error`), takes no more
    /// than its buffer from the stream (SPEC web/5: memory stays at 16 KiB), and accepts
    /// a request whatever the slicing or not at all. (A refusal may come as 400 read
    /// whole and as 431 or a truncated head read in small slices: a head is judged at its
    /// blank line, and junk after only empty lines has none. All three are refusals.)
    #[test]
    fn any_input_is_a_request_or_a_refusal_whatever_the_slicing(
        input in mixed(head_line()),
        slices in slices(),
        capacity in prop_oneof![16usize..256, Just(MAX_HEAD)],
    ) {
        let (sliced, delivered) = read(&input, &slices, capacity);
        let (whole, _) = read(&input, &[], capacity);
        prop_assert!(delivered <= capacity);
        match &sliced {
            Head::Request(request) => {
                prop_assert_eq!(&whole, &sliced);
                // Bytes after the head change nothing.
                prop_assert_eq!(parse_head(&input), Parsed::Complete(request.clone()));
            }
            Head::Nothing => prop_assert!(input.is_empty()),
            Head::Truncated { received } => {
                prop_assert_eq!(*received, input.len());
                prop_assert!(input.len() < capacity);
            }
            Head::Refused(status) => prop_assert!(matches!(
                status,
                Status::BadRequest | Status::RequestHeaderFieldsTooLarge
            )),
        }
        prop_assert_eq!(matches!(whole, Head::Request(_)), matches!(sliced, Head::Request(_)));
    }

    /// SPEC web/5: header fields that never end are refused with 431 once the buffer is
    /// full, and the reader has then taken exactly one buffer from the stream: it stores
    /// nothing more, however much more the client sends.
    #[test]
    fn a_head_over_the_buffer_is_refused_with_431_after_one_buffer(
        capacity in prop_oneof![Just(64usize), Just(1024), Just(MAX_HEAD)],
        extra in 0usize..4096,
        slices in slices(),
    ) {
        let mut input = b"GET / HTTP/1.1\r\nX-Endless: ".to_vec();
        input.resize(capacity + extra, b'a');
        let (head, delivered) = read(&input, &slices, capacity);
        prop_assert_eq!(head, Head::Refused(Status::RequestHeaderFieldsTooLarge));
        prop_assert_eq!(delivered, capacity);
    }

    /// `parse_head` alone, on any bytes: never panics, and refuses with 400 or 431 only.
    #[test]
    fn parse_head_refuses_with_400_or_431_only(input in mixed(head_line())) {
        if let Parsed::Invalid(status) = parse_head(&input) {
            prop_assert!(matches!(
                status,
                Status::BadRequest | Status::RequestHeaderFieldsTooLarge
            ));
        }
    }
}
