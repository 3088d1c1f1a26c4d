//! The lab's ping datagram, `Ping <seq> <time>` (SPEC udp-pinger): read by the ping pack's
//! server (`crate::protocols`) and by the `ping-loss` check's client alike, so it lives
//! below both.

/// The sequence number of `Ping <seq> ...` (any case), if the datagram is a ping.
pub fn ping_sequence(datagram: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(datagram).ok()?;
    let mut words = text.split_whitespace();
    if !words.next()?.eq_ignore_ascii_case("ping") {
        return None;
    }
    words.next()?.parse().ok()
}
