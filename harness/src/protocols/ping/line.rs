//! The lab's ping datagram, `Ping <seq> <time>` (SPEC udp-pinger): read by the pack's
//! server ([`super::server`]) and by its `ping-loss` check's client
//! ([`super::loss_check`]) alike.

/// The sequence number of `Ping <seq> ...` (any case), if the datagram is a ping.
pub(super) fn ping_sequence(datagram: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(datagram).ok()?;
    let mut words = text.split_whitespace();
    if !words.next()?.eq_ignore_ascii_case("ping") {
        return None;
    }
    words.next()?.parse().ok()
}
