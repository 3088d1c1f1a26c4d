//! `web_server::head`: `read_head` over any slicing accepts a request or refuses it
//! whatever the slicing, never takes more than its buffer, and agrees with `parse_head`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reference::web_server::Status;
use reference::web_server::head::{Head, MAX_HEAD, Parsed, parse_head, read_head};
use reference_fuzz::{Bytes, Sliced, budget, drive};

/// Reads a head from `input` in `slices` into a buffer of `capacity`.
fn read(input: &[u8], slices: &[usize], capacity: usize) -> (Head, usize) {
    let mut stream = Sliced::new(input, slices);
    let mut buffer = vec![0u8; capacity];
    let head = drive(read_head(&mut stream, &mut buffer), budget(input)).unwrap();
    (head, stream.delivered())
}

fuzz_target!(|data: &[u8]| {
    let mut bytes = Bytes(data);
    let capacity = match bytes.byte() {
        0 => MAX_HEAD,
        small => usize::from(small) * 4,
    };
    let slices = bytes.slices();
    let input = bytes.rest();
    let (sliced, delivered) = read(input, &slices, capacity);
    let (whole, _) = read(input, &[], capacity);
    assert!(delivered <= capacity);
    match &sliced {
        Head::Request(request) => {
            assert_eq!(whole, sliced);
            assert_eq!(parse_head(input), Parsed::Complete(request.clone()));
        }
        Head::Nothing => assert!(input.is_empty()),
        Head::Truncated { received } => assert!(*received == input.len() && input.len() < capacity),
        Head::Refused(status) => assert!(matches!(
            status,
            Status::BadRequest | Status::RequestHeaderFieldsTooLarge
        )),
    }
    assert_eq!(
        matches!(whole, Head::Request(_)),
        matches!(sliced, Head::Request(_))
    );
});
