//! Properties of [`is_reply_to`], which tells a ping's reply from any other datagram
//! (see `crate::testing`).

use proptest::collection::vec;
use proptest::prelude::*;

use super::is_reply_to;
use crate::testing::PURE_CASES;

/// Datagrams in the shape of ping replies, right and wrong: `PING` in any case or not, a
/// number with or without leading zeros or sign, any whitespace, then anything.
fn reply_like() -> impl Strategy<Value = Vec<u8>> {
    let text = "[ \t]{0,2}(?i:ping|pong|pin)?[ \t\r\n]{0,2}[+-]?0?[0-9]{0,11}([ \t][ -~]{0,20})?";
    prop_oneof![
        3 => text.prop_map(String::into_bytes),
        1 => vec(any::<u8>(), 0..40),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(PURE_CASES))]

    /// SPEC ping/3 and ping/4, the round trip: the server's reply to ping `seq` (the ping
    /// uppercased, bytes not text) is recognised as the reply to `seq`, and to no other
    /// ping, so a late reply is never counted for the next one.
    #[test]
    fn the_echo_of_a_ping_is_the_reply_to_that_ping_only(
        seq in any::<u32>(),
        other in any::<u32>(),
        seconds in any::<u32>(),
        micros in 0u32..1_000_000,
    ) {
        let reply = format!("Ping {seq} {seconds}.{micros:06}").to_ascii_uppercase();
        prop_assert!(is_reply_to(reply.as_bytes(), seq));
        prop_assert_eq!(is_reply_to(reply.as_bytes(), other), seq == other);
    }

    /// Whatever datagram comes (anyone can send to the client's port): no panic, and it is
    /// the reply to one ping at most. `PING 03` or `PING +3` is no reply to ping 3.
    #[test]
    fn any_datagram_is_the_reply_to_one_ping_at_most(
        datagram in reply_like(),
        seq in any::<u32>(),
        other in any::<u32>(),
    ) {
        let replies = [seq, other, 3].map(|ping| is_reply_to(&datagram, ping));
        if replies[0] && replies[1] {
            prop_assert_eq!(seq, other);
        }
        // The number it names, if any, written the way the client writes it.
        let named = |ping: u32| {
            let digits = ping.to_string();
            datagram.windows(digits.len()).any(|window| window == digits.as_bytes())
        };
        for (ping, replied) in [seq, other, 3].into_iter().zip(replies) {
            prop_assert!(!replied || named(ping));
        }
    }
}
