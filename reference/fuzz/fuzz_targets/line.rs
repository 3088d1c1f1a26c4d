//! `line::read_line` (the converters' line): the line is the one worked out on the whole
//! input, whatever the slicing, and the reader takes no more than its buffer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reference::line::{MAX_LINE, read_line};
use reference_fuzz::{Bytes, Sliced, budget, drive};

fuzz_target!(|data: &[u8]| {
    let mut bytes = Bytes(data);
    let capacity = match bytes.byte() {
        0 => MAX_LINE,
        small => usize::from(small),
    };
    let slices = bytes.slices();
    let input = bytes.rest();
    let mut stream = Sliced::new(input, &slices);
    let mut buffer = vec![0u8; capacity];
    let length = drive(read_line(&mut stream, &mut buffer), budget(input)).unwrap();
    let window = &input[..input.len().min(capacity)];
    let expected = match window.iter().position(|&byte| byte == b'\n') {
        Some(newline) => &window[..=newline],
        None => window,
    };
    assert_eq!(&buffer[..length], expected);
    assert!(stream.delivered() <= capacity);
});
