//! How recorded records write what JSON has no type for: durations as whole microseconds,
//! byte strings as base64. Used with `#[serde(with = "crate::encoding::micros")]` by every
//! record that is written (`--record`, `--json`) and read back (`harness replay`).

/// Durations as whole microseconds, so a recording stays readable and exact.
pub mod micros {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `duration` in microseconds.
    pub fn serialize<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(duration.as_micros() as u64)
    }

    /// Reads microseconds.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_micros(u64::deserialize(deserializer)?))
    }
}

/// `duration` in seconds with `places` decimals (at most 6), rounded half up from its whole
/// microseconds, which is what a recording keeps ([`micros`]). Every time a report prints
/// goes through here, so that a report written live and the same report replayed from a
/// recording print the same figures. Rounding the live nanoseconds instead could differ in
/// the last place: 0.2950003 s prints as "0.30", while the 295,000 µs recorded are
/// 0.29499999... as a float, "0.29".
pub fn decimal_seconds(duration: std::time::Duration, places: u32) -> String {
    let places = places.min(6);
    let unit = 10u128.pow(6 - places);
    let rounded = (duration.as_micros() + unit / 2) / unit;
    let scale = 10u128.pow(places);
    if places == 0 {
        return rounded.to_string();
    }
    let width = places as usize;
    format!("{}.{:0width$}", rounded / scale, rounded % scale)
}

/// Bytes as standard base64 text (a JSON array of numbers would be four times larger).
pub mod base64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `bytes` as base64.
    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    /// Reads base64.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::decimal_seconds;

    #[test]
    fn seconds_are_rounded_from_whole_microseconds() {
        // Live, with nanoseconds, and replayed, from the microseconds recorded: the same.
        let live = Duration::from_nanos(295_000_300);
        let recorded = Duration::from_micros(live.as_micros() as u64);
        assert_eq!(decimal_seconds(live, 2), "0.30");
        assert_eq!(decimal_seconds(recorded, 2), "0.30");
        assert_eq!(decimal_seconds(Duration::from_micros(103_500), 3), "0.104");
        assert_eq!(decimal_seconds(Duration::from_micros(103_499), 3), "0.103");
        assert_eq!(decimal_seconds(Duration::from_secs(12), 2), "12.00");
        assert_eq!(
            decimal_seconds(Duration::from_micros(9_999_999), 2),
            "10.00"
        );
        assert_eq!(decimal_seconds(Duration::from_micros(1_500_000), 0), "2");
        assert_eq!(decimal_seconds(Duration::ZERO, 3), "0.000");
    }
}
