//! Properties of the DATA side of a transaction: [`unstuff`], [`ends_data`] and [`Data`]'s
//! bound (see `crate::testing`; the round trip with the client's dot-stuffing is in
//! `smtp_client::dot_stuffing`).

use proptest::collection::vec;
use proptest::prelude::*;

use super::{Data, MAX_MESSAGE_SIZE, Refusal, Transaction, ends_data, unstuff};
use crate::testing::PURE_CASES;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(PURE_CASES))]

    /// RFC 5321 §4.5.2, transparency: any line the client dot-stuffed (a leading dot
    /// doubled) is never the end of the data, and unstuffing gives the line back.
    #[test]
    fn a_stuffed_line_is_never_the_end_and_unstuffs_to_itself(
        line in prop_oneof![vec(any::<u8>(), 0..40), "\\.{0,3}[ -~]{0,10}".prop_map(String::into_bytes)],
    ) {
        let stuffed = match line.first() {
            Some(b'.') => [b".", &line[..]].concat(),
            _ => line.clone(),
        };
        prop_assert!(!ends_data(&stuffed));
        prop_assert_eq!(unstuff(&stuffed), &line[..]);
    }
}

proptest! {
    // Few cases: each one pushes up to 12 MB of lines.
    #![proptest_config(ProptestConfig::with_cases(8))]

    /// Bounded memory: however many lines come after 354, the record keeps at most
    /// MAX_MESSAGE_SIZE bytes of them, and a message over the limit is refused with 552
    /// (`TooLarge`) however its lines were cut.
    #[test]
    fn the_record_never_outgrows_the_message_size_limit(
        // About as many bytes as the limit, on either side of it.
        lengths in vec(900usize..=998, 1..4),
        lines in 10_000usize..12_000,
    ) {
        let text = [b'x'; 998];
        let mut data = Data::new(&Transaction::default());
        let head = data.record.len();
        let mut size = 0;
        for turn in 0..lines {
            let length = lengths[turn % lengths.len()];
            data.push_line(&text[..length]);
            size += length + 2;
            prop_assert!(data.record.len() <= head + MAX_MESSAGE_SIZE);
        }
        match data.finish() {
            Ok(record) => prop_assert!(size <= MAX_MESSAGE_SIZE && record.len() <= head + size + 1),
            Err(refusal) => prop_assert!(refusal == Refusal::TooLarge && size > MAX_MESSAGE_SIZE),
        }
    }
}
