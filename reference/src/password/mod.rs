//! # `password`: a password dialogue
//!
//! Its contract: `scenarios/SPEC.md#password`, clauses `pass/1`–`pass/2`.
//!
//! The client sends an attempt, one line; the server answers `access granted` or
//! `access denied`, one line, and waits for the next attempt on the same connection.
//!
//! Three things the handout's version gets wrong, and this one does not:
//! - **the line end is not part of the password**: `secret\n` and `secret\r\n` are both
//!   `secret` (pass/1), and nothing else is stripped (` secret` is another password);
//! - **an attempt is a whole line**, however `recv` cut it (one byte at a time included),
//!   collected in a fixed buffer: an attempt over 4 KiB is denied, never stored (pass/2);
//! - **the comparison takes the same time whatever the attempt** ([`matches`]): `==` on
//!   strings stops at the first wrong byte, and a patient attacker timing the answers can
//!   find the password a byte at a time.

pub mod client;
pub mod server;

/// Whether `attempt` is `password`, comparing every byte whatever the first difference.
pub fn matches(attempt: &[u8], password: &[u8]) -> bool {
    if attempt.len() != password.len() {
        return false;
    }
    // OR together the differences of all bytes: no early exit, so no timing to measure.
    attempt
        .iter()
        .zip(password)
        .fold(0u8, |differences, (a, b)| differences | (a ^ b))
        == 0
}

/// The answer to one attempt, end included.
pub fn answer(attempt: crate::line_server::lines::Line<'_>, password: &[u8]) -> &'static [u8] {
    match attempt {
        crate::line_server::lines::Line::Text(text) if matches(text, password) => {
            b"access granted\n"
        }
        _ => b"access denied\n",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::line_server::lines::Line;

    #[test]
    fn only_the_exact_password_is_granted() {
        assert_eq!(
            answer(Line::Text(b"open sesame"), b"open sesame"),
            b"access granted\n"
        );
        for attempt in [
            &b"open sesam"[..],
            b"open sesame!",
            b"OPEN SESAME",
            b" open sesame",
            b"",
        ] {
            assert_eq!(
                answer(Line::Text(attempt), b"open sesame"),
                b"access denied\n"
            );
        }
        assert_eq!(answer(Line::TooLong, b"open sesame"), b"access denied\n");
    }
}
