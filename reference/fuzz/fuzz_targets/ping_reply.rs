//! `udp_pinger::is_reply_to`: any datagram is the reply to one ping at most, and the
//! echo of a ping is the reply to that ping.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reference::udp_pinger::is_reply_to;

fuzz_target!(|data: &[u8]| {
    let (seq, datagram) = match data.split_first_chunk::<4>() {
        Some((seq, datagram)) => (u32::from_le_bytes(*seq), datagram),
        None => (0, data),
    };
    let replied: Vec<u32> = [seq, seq.wrapping_add(1), 3, 0]
        .into_iter()
        .filter(|&ping| is_reply_to(datagram, ping))
        .collect();
    assert!(
        replied.windows(2).all(|pair| pair[0] == pair[1]),
        "{replied:?}"
    );
    let echo = [b"PING ", seq.to_string().as_bytes(), b" ", datagram].concat();
    assert!(is_reply_to(&echo.to_ascii_uppercase(), seq));
});
