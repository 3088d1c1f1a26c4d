//! `never_in_clear`: a client never lets its password out where anyone on the way can read
//! it (SPEC smtp/4).
//!
//! A server peer whose protocol carries passwords keeps, for each connection, every byte
//! the client sent outside TLS and the commands carrying credentials it sent there
//! ([`ClearConnection`], from the pack's record). The password must not be among them in
//! any form a listener can undo:
//!
//! - a command carrying credentials in clear (SMTP's `AUTH`, in any case: the pack finds
//!   them);
//! - the password itself, in any case;
//! - the password inside base64, which is an encoding, not encryption: `AUTH PLAIN` sends
//!   base64 of `\0user\0password` (RFC 4616), `AUTH LOGIN` base64 of the password alone
//!   (every run of base64 characters is decoded and searched).
//!
//! ```toml
//! [[step]]
//! expect_received = "mta"
//! never_in_clear = { password = "s3cret" }
//! ```

use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};

use crate::peers::ClearConnection;

/// What the expectation asks, in words.
pub fn describe(password: &str) -> String {
    format!(
        "the password `{password}` never to reach the server outside TLS (neither as text nor base64-encoded, as AUTH PLAIN and AUTH LOGIN send it), and no AUTH command in clear"
    )
}

/// Checks every connection; `Err((expected, seen))` names the first leak.
pub fn judge(connections: &[ClearConnection], password: &str) -> Result<(), (String, String)> {
    for (index, clear) in connections.iter().enumerate() {
        let connection = index + 1;
        if let Some(line) = clear.credentials_in_clear.first() {
            return Err((
                describe(password),
                format!("connection {connection}: `{}` came in clear", shown(line)),
            ));
        }
        if let Some(leak) = leak(&clear.bytes, password.as_bytes()) {
            return Err((
                describe(password),
                format!("connection {connection}: {leak}, in clear"),
            ));
        }
    }
    Ok(())
}

/// Where the password shows in `clear`, said in words, if it does.
fn leak(clear: &[u8], password: &[u8]) -> Option<String> {
    if let Some(at) = find_ignoring_case(clear, password) {
        return Some(format!(
            "the password itself at byte {at}: {}",
            crate::judge::diff::excerpt(
                &clear[at.saturating_sub(24)..(at + password.len() + 8).min(clear.len())]
            )
        ));
    }
    // Base64 runs: split on every byte that is no base64 character (of either alphabet).
    let is_base64 =
        |byte: &u8| byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'/' | b'-' | b'_');
    let mut start = 0;
    while start < clear.len() {
        let end = clear[start..]
            .iter()
            .position(|byte| !is_base64(byte))
            .map_or(clear.len(), |length| start + length);
        let run = &clear[start..end];
        if run.len() >= 4 && decodes_to_hold(run, password) {
            return Some(format!(
                "`{}` at byte {start}, base64 that decodes to bytes holding the password",
                String::from_utf8_lossy(run)
            ));
        }
        start = end + 1;
    }
    None
}

/// Whether `run` (base64 characters, padding left off) decodes to bytes holding `password`.
/// A run may carry a few characters of the text around it: its tail is trimmed until it
/// decodes.
fn decodes_to_hold(run: &[u8], password: &[u8]) -> bool {
    (0..4.min(run.len())).any(|trim| {
        let run = &run[..run.len() - trim];
        [STANDARD_NO_PAD, URL_SAFE_NO_PAD].iter().any(|engine| {
            engine
                .decode(run)
                .is_ok_and(|decoded| find_ignoring_case(&decoded, password).is_some())
        })
    })
}

fn find_ignoring_case(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle))
}

/// A command line as shown in a report: cut if long.
fn shown(line: &str) -> String {
    let mut shown: String = line.chars().take(80).collect();
    if shown.len() < line.len() {
        shown.push('…');
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A connection that sent `clear` outside TLS, with `credentials` among its commands.
    fn connection(clear: &str, credentials: &[&str]) -> ClearConnection {
        ClearConnection {
            credentials_in_clear: credentials.iter().map(|line| line.to_string()).collect(),
            bytes: clear.as_bytes().to_vec(),
            ended: true,
        }
    }

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    #[test]
    fn a_client_that_refuses_passes() {
        let refused = connection("EHLO x\r\nQUIT\r\n", &[]);
        assert_eq!(judge(&[refused], "s3cret"), Ok(()));
        assert_eq!(judge(&[], "s3cret"), Ok(()));
    }

    #[test]
    fn a_credentials_command_in_clear_fails() {
        let line = format!("auth PLAIN {}", b64(b"\0alice\0s3cret"));
        let sent = format!("EHLO x\r\n{line}\r\n");
        let (_, seen) = judge(&[connection(&sent, &[&line])], "s3cret").unwrap_err();
        assert!(seen.contains("connection 1: `auth PLAIN"), "{seen}");
        assert!(seen.contains("came in clear"), "{seen}");
    }

    #[test]
    fn the_password_fails_as_text_and_in_base64() {
        // Not behind a credentials command (a client sending it in the message, say):
        // still a leak.
        let leaks = [
            "X-Password: S3CRET\r\n".to_owned(),
            format!("XAUTHPLAIN {}\r\n", b64(b"\0alice\0s3cret")),
            format!("{}\r\n", b64(b"alice\0alice\0s3cret")),
            format!("{}\r\n", b64(b"s3cret")),
            format!("login:{}=\r\n", b64(b"s3cret").trim_end_matches('=')),
        ];
        for text in &leaks {
            assert!(judge(&[connection(text, &[])], "s3cret").is_err(), "{text}");
        }
    }

    #[test]
    fn what_went_inside_tls_is_not_judged() {
        // The password crossed only inside TLS: the clear bytes never held it.
        let before_tls = connection("EHLO x\r\nSTARTTLS\r\n", &[]);
        assert_eq!(judge(&[before_tls], "s3cret"), Ok(()));
    }
}
