//! Properties of [`read_line`] on any input, however it is sliced (see `crate::testing`).

use proptest::prelude::*;

use super::{MAX_LINE, read_line};
use crate::testing::{STREAM_CASES, Sliced, mixed, slices, within_deadline};

/// What `read_line` must return, worked out on the whole input at once: among the first
/// `capacity` bytes, everything up to and including the first newline, or all of them if
/// there is no newline (the end of input, or a full buffer, ends the line).
fn expected_line(input: &[u8], capacity: usize) -> &[u8] {
    let window = &input[..input.len().min(capacity)];
    match window.iter().position(|&byte| byte == b'\n') {
        Some(newline) => &window[..=newline],
        None => window,
    }
}

/// Lines as a user types them for the converters.
fn typed_line() -> impl Strategy<Value = String> {
    "[ -~]{0,40}\r?\n"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(STREAM_CASES))]

    /// SPEC upper/3: the line does not depend on how the network sliced it. Also: the
    /// reader stops when the input ends (no loop), bad input is never an error (only a
    /// failing stream is), and it takes no more from the stream than its buffer holds, so
    /// a line longer than the buffer is cut, not stored (memory stays at one buffer).
    #[test]
    fn the_line_is_the_same_however_it_is_sliced_and_never_outgrows_the_buffer(
        input in mixed(typed_line()),
        slices in slices(),
        capacity in prop_oneof![1usize..64, Just(MAX_LINE)],
    ) {
        let mut stream = Sliced::new(&input, &slices);
        let mut buffer = vec![0u8; capacity];
        let length = within_deadline(read_line(&mut stream, &mut buffer));
        let length = length.expect("an in-memory stream never fails");
        prop_assert_eq!(&buffer[..length], expected_line(&input, capacity));
        prop_assert!(stream.delivered() <= capacity);
    }
}
