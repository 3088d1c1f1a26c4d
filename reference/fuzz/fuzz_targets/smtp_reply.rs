//! `smtp_client::reply` (and `Extensions::from_ehlo`): replies read from any input, in
//! any slicing, are the same as read whole, with codes 200 to 559 and bounded lines, until
//! the server closes or talks nonsense.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reference::smtp_client::Extensions;
use reference::smtp_client::reply::{
    MAX_REPLY_LINE, MAX_REPLY_LINES, Received, parse_reply_line, read_reply,
};
use reference::lines::LineReader;
use reference_fuzz::{Bytes, Sliced, budget, drive};

/// Every reply of `input` in `slices`, up to the first that is not a reply.
fn read_all(input: &[u8], slices: &[usize]) -> Vec<Received> {
    let mut connection = LineReader::new(Sliced::new(input, slices));
    let reading = async {
        let mut received = Vec::new();
        loop {
            let reply = read_reply(&mut connection).await.unwrap();
            let done = !matches!(reply, Received::Reply(_));
            received.push(reply);
            if done {
                return received;
            }
        }
    };
    drive(reading, budget(input))
}

fuzz_target!(|data: &[u8]| {
    let mut bytes = Bytes(data);
    let slices = bytes.slices();
    let input = bytes.rest();
    let sliced = read_all(input, &slices);
    assert_eq!(sliced, read_all(input, &[]));
    for received in &sliced {
        if let Received::Reply(reply) = received {
            assert!((200..=559).contains(&reply.code));
            assert!((1..=MAX_REPLY_LINES).contains(&reply.lines.len()));
            assert!(
                reply
                    .lines
                    .iter()
                    .all(|line| line.len() <= 3 * MAX_REPLY_LINE)
            );
            let _ = Extensions::from_ehlo(reply);
            let _ = reply.to_string();
        }
    }
    for line in input.split(|&byte| byte == b'\n') {
        if let Some(parsed) = parse_reply_line(line) {
            assert!((200..=559).contains(&parsed.code));
        }
    }
});
