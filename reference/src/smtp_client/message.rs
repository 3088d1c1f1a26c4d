//! The message itself: header fields and MIME parts, built by lettre (SPEC `smtp/3`).
//!
//! What goes after DATA is a message in the Internet Message Format (RFC 5322): header
//! fields, an empty line, the body. This is plumbing, not the lab, so a crate builds it:
//! lettre's message builder, and nothing else of lettre (the SMTP dialogue is ours).
//!
//! ```text
//! From: a@example.com                          RFC 5322 §3.6.2
//! To: b@example.com, c@example.com             §3.6.3, every recipient
//! Subject: Lab report                          §3.6.5 (RFC 2047 if not ASCII)
//! Date: Tue, 3 Nov 2026 10:00:00 +0000         §3.6.1, required
//! Message-ID: <8f3a....1793700000@example.com> §3.6.4, unique
//! MIME-Version: 1.0                            RFC 2045 §4
//! Content-Type: text/plain; charset=utf-8      RFC 2045 §5, RFC 2046 §4.1
//! Content-Transfer-Encoding: 7bit              RFC 2045 §6: the lines as they are
//!
//! the body, its lines untouched
//! ```
//!
//! With attachments the body is `multipart/mixed` (RFC 2046 §5.1.3): the text first, then
//! one part per file, in base64 (RFC 2045 §6.8) with its name (RFC 2183):
//!
//! ```text
//! Content-Type: multipart/mixed; boundary="Xk2...";
//!
//! --Xk2...
//! Content-Type: text/plain; charset=utf-8
//! Content-Transfer-Encoding: 7bit
//!
//! the body
//! --Xk2...
//! Content-Type: image/png
//! Content-Disposition: attachment; filename="photo.png"
//! Content-Transfer-Encoding: base64
//!
//! iVBORw0KGgoAAAANSUhEUgAA...
//! --Xk2...--
//! ```
//!
//! The text is sent as it is (7bit, or 8bit when it is UTF-8 and the server announced
//! 8BITMIME, RFC 6152), never quoted-printable: so its lines reach the wire as written,
//! and a line `.hidden` shows the dot-stuffing (`..hidden`). Two exceptions, where 7bit
//! and 8bit are not allowed and lettre picks quoted-printable: a line longer than 998
//! bytes (RFC 5322 §2.1.1), and non-ASCII text for a server without 8BITMIME.
//!
//! A shortcut, named as such: the message is built whole in memory, attachments
//! included (lettre builds it so). Mail is small (servers refuse more than 10 to 50 MiB).

use std::io;
use std::path::Path;
use std::time::SystemTime;

use lettre::Message;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Attachment as AttachmentPart, Body, Mailbox, MultiPart, SinglePart};
use rand::distr::{Alphanumeric, SampleString};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// One file to attach.
#[derive(Debug, Clone)]
pub struct Attachment {
    /// The file's base name, as the recipient will see it.
    pub file_name: String,
    /// Guessed from the name's extension.
    pub content_type: ContentType,
    /// The file's bytes, exactly.
    pub content: Vec<u8>,
}

/// Everything a message is made of, fixed once: formatting it twice (see
/// [`Draft::format`]) gives the same Date, Message-ID and boundary.
#[derive(Debug, Clone)]
pub struct Draft {
    /// The sender: the `From` field.
    pub from: Mailbox,
    /// The recipients: the `To` field.
    pub to: Vec<Mailbox>,
    /// The `Subject` field.
    pub subject: String,
    /// The body, from stdin.
    pub text: String,
    /// The files attached, in the order of the command line.
    pub attachments: Vec<Attachment>,
    /// The `Date` field: when the message was made.
    pub date: SystemTime,
    /// `<unique@domain>` (RFC 5322 §3.6.4).
    pub message_id: String,
    /// The multipart boundary: a string that appears nowhere in the parts (RFC 2046
    /// §5.1.1). Random and 40 characters long: it cannot occur in base64 lines (76
    /// characters), and in the text only by a chance of 1 in 62^40.
    pub boundary: String,
}

/// A Message-ID and a multipart boundary for a message from `from`, drawn from `seed`.
pub fn identifiers(from: &Mailbox, seed: u64) -> (String, String) {
    let mut random = StdRng::seed_from_u64(seed);
    // RFC 5322 §3.6.4: unique worldwide; the sender's domain makes it unique to it.
    let message_id = format!(
        "<{:016x}.{seed}@{}>",
        random.random::<u64>(),
        from.email.domain()
    );
    let boundary = Alphanumeric.sample_string(&mut random, 40);
    (message_id, boundary)
}

/// The message, ready for DATA.
#[derive(Debug)]
pub struct Formatted {
    /// Header fields, empty line, body; lines end in CRLF.
    pub bytes: Vec<u8>,
    /// The text is sent 8bit: MAIL FROM must say `BODY=8BITMIME` (RFC 6152 §3).
    pub eight_bit: bool,
}

impl Draft {
    /// A draft with a Message-ID and boundary drawn from `seed` (the time, in the
    /// program: the simulated world replays it).
    pub fn new(
        from: Mailbox,
        to: Vec<Mailbox>,
        subject: String,
        text: String,
        attachments: Vec<Attachment>,
        date: SystemTime,
        seed: u64,
    ) -> Draft {
        let (message_id, boundary) = identifiers(&from, seed);
        Draft {
            from,
            to,
            subject,
            text,
            attachments,
            date,
            message_id,
            boundary,
        }
    }

    /// The message's bytes. `eight_bit_allowed`: the server announced 8BITMIME.
    pub fn format(&self, eight_bit_allowed: bool) -> Result<Formatted, lettre::error::Error> {
        let (text, eight_bit) = text_body(&self.text, eight_bit_allowed);
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(self.subject.clone())
            .date(self.date)
            .message_id(Some(self.message_id.clone()));
        for recipient in &self.to {
            builder = builder.to(recipient.clone());
        }
        let text_part = SinglePart::builder()
            .header(ContentType::TEXT_PLAIN)
            .body(text);
        let message = if self.attachments.is_empty() {
            builder.singlepart(text_part)?
        } else {
            let mut parts = MultiPart::mixed()
                .boundary(self.boundary.clone())
                .singlepart(text_part);
            for attachment in &self.attachments {
                // RFC 2045 §6.8: base64, whatever the file holds, so that it arrives
                // byte for byte (SPEC smtp/3).
                let body = Body::new_with_encoding(
                    attachment.content.clone(),
                    ContentTransferEncoding::Base64,
                )
                .expect("base64 can carry any bytes");
                let part = AttachmentPart::new(attachment.file_name.clone())
                    .body(body, attachment.content_type.clone());
                parts = parts.singlepart(part);
            }
            builder.multipart(parts)?
        };
        let mut bytes = message.formatted();
        if self.attachments.is_empty() && bytes.ends_with(b"\r\n") {
            // lettre ends a part's body with a CRLF of its own: in a multipart, the CRLF
            // before the next boundary, which belongs to the boundary (RFC 2046 §5.1.1).
            // A single part has no boundary after it, so it would be an extra empty line
            // at the end of the text. Dropped here; the last line still gets its CRLF on
            // the wire (dot_stuffing).
            bytes.truncate(bytes.len() - 2);
        }
        Ok(Formatted { bytes, eight_bit })
    }
}

/// The longest line 7bit and 8bit bodies may have, without its CRLF (RFC 5322 §2.1.1,
/// RFC 2045 §2.7).
pub const MAX_TEXT_LINE: usize = 998;

/// The text part's body, and whether it is 8bit.
///
/// - 7bit if it is ASCII, 8bit if it is not and the server takes 8-bit data: the lines go
///   as they are, with CRLF line ends, each at most [`MAX_TEXT_LINE`] bytes.
/// - Otherwise what lettre chooses: quoted-printable (or base64, for text mostly not
///   ASCII).
///
/// Why not lettre's choice every time: it takes 7bit only for lines of at most 76
/// characters and 8bit only for servers that speak SMTPUTF8, and makes every other text
/// quoted-printable (`a=3Db`). The limits of 7bit and 8bit are checked here instead, and
/// lettre is handed the text as it is (`dangerous_pre_encoded`: 7bit and 8bit are no
/// encoding at all; the "danger" is exactly what was just checked).
fn text_body(text: &str, eight_bit_allowed: bool) -> (Body, bool) {
    let text = crlf_line_ends(text);
    // RFC 2045 §2.7: short lines, no NUL.
    let literal =
        text.split("\r\n").all(|line| line.len() <= MAX_TEXT_LINE) && !text.contains('\0');
    if literal && text.is_ascii() {
        let body =
            Body::dangerous_pre_encoded(text.into_bytes(), ContentTransferEncoding::SevenBit);
        return (body, false);
    }
    if literal && eight_bit_allowed {
        let body =
            Body::dangerous_pre_encoded(text.into_bytes(), ContentTransferEncoding::EightBit);
        return (body, true);
    }
    (Body::new(text), false)
}

/// `text` with every line end (LF, CR, or CRLF) made CRLF (RFC 5322 §2.1, RFC 5321 §2.3.8).
pub fn crlf_line_ends(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                // CR LF is one line end; a bare CR is one too.
                chars.next_if_eq(&'\n');
                out.push_str("\r\n");
            }
            '\n' => out.push_str("\r\n"),
            c => out.push(c),
        }
    }
    out
}

/// Reads the file at `path` to attach it, named after its base name.
pub async fn read_attachment(path: &Path) -> io::Result<Attachment> {
    let content = tokio::fs::read(path).await?;
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    let content_type = content_type_for(&file_name);
    Ok(Attachment {
        file_name,
        content_type,
        content,
    })
}

/// The content type of a file, from its name's extension (`photo.png`: `image/png`);
/// `application/octet-stream` (RFC 2046 §4.5.1: "arbitrary binary data") when unknown.
pub fn content_type_for(file_name: &str) -> ContentType {
    let guessed = mime_guess::from_path(file_name).first_or_octet_stream();
    ContentType::parse(guessed.essence_str()).unwrap_or_else(|_| octet_stream())
}

fn octet_stream() -> ContentType {
    ContentType::parse("application/octet-stream").expect("a valid content type")
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    fn draft(text: &str, attachments: Vec<Attachment>) -> Draft {
        Draft::new(
            "a@example.com".parse().unwrap(),
            vec![
                "b@example.com".parse().unwrap(),
                "Carol <c@example.com>".parse().unwrap(),
            ],
            "Lab report".into(),
            text.into(),
            attachments,
            UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            7,
        )
    }

    fn formatted(draft: &Draft, eight_bit_allowed: bool) -> String {
        String::from_utf8(draft.format(eight_bit_allowed).unwrap().bytes).unwrap()
    }

    #[test]
    fn the_header_has_every_field_and_the_text_is_sent_as_it_is() {
        let message = formatted(&draft("Hi\n.hidden\n", vec![]), true);
        for field in [
            "From: a@example.com\r\n",
            "To: b@example.com, Carol <c@example.com>\r\n",
            "Subject: Lab report\r\n",
            "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n",
            "MIME-Version: 1.0\r\n",
            "Content-Type: text/plain; charset=utf-8\r\n",
            "Content-Transfer-Encoding: 7bit\r\n",
        ] {
            assert!(message.contains(field), "no {field:?} in\n{message}");
        }
        assert!(message.contains("Message-ID: <"), "{message}");
        assert!(message.ends_with("\r\n\r\nHi\r\n.hidden\r\n"), "{message}");
    }

    #[test]
    fn long_lines_within_998_bytes_are_still_sent_as_they_are() {
        let line = "word ".repeat(199);
        let message = formatted(&draft(&format!("{line}\n"), vec![]), true);
        assert!(
            message.contains("Content-Transfer-Encoding: 7bit\r\n"),
            "{message}"
        );
        assert!(
            message.ends_with(&format!("\r\n\r\n{line}\r\n")),
            "{message}"
        );
        let too_long = "x".repeat(MAX_TEXT_LINE + 1);
        let message = formatted(&draft(&too_long, vec![]), true);
        assert!(message.contains("Content-Transfer-Encoding: quoted-printable\r\n"));
    }

    #[test]
    fn every_line_end_of_the_text_becomes_crlf() {
        let table = [
            ("a\nb\n", "a\r\nb\r\n"),
            ("a\r\nb", "a\r\nb"),
            ("a\rb\r\n\n", "a\r\nb\r\n\r\n"),
            ("", ""),
        ];
        for (text, expected) in table {
            assert_eq!(crlf_line_ends(text), expected, "{text:?}");
        }
    }

    #[test]
    fn utf8_text_is_8bit_where_the_server_allows_it_and_quoted_printable_elsewhere() {
        let draft = draft("Grüße\n", vec![]);
        let eight = draft.format(true).unwrap();
        assert!(eight.eight_bit);
        let text = String::from_utf8(eight.bytes).unwrap();
        assert!(
            text.contains("Content-Transfer-Encoding: 8bit\r\n"),
            "{text}"
        );
        assert!(text.ends_with("\r\n\r\nGrüße\r\n"), "{text}");
        let seven = draft.format(false).unwrap();
        assert!(!seven.eight_bit);
        assert!(seven.bytes.is_ascii());
    }

    #[test]
    fn formatting_twice_gives_the_same_message() {
        let draft = draft("Hi\n", vec![]);
        assert_eq!(formatted(&draft, true), formatted(&draft, true));
    }

    #[test]
    fn attachments_are_base64_parts_with_their_name_after_the_text() {
        let file = Attachment {
            file_name: "data.bin".into(),
            content_type: content_type_for("data.bin"),
            content: vec![0, 1, 2, 255],
        };
        let message = formatted(&draft("see attached\n", vec![file]), true);
        let text_at = message.find("see attached").unwrap();
        let part_at = message
            .find("Content-Disposition: attachment; filename=\"data.bin\"")
            .unwrap();
        assert!(text_at < part_at, "{message}");
        assert!(
            message.contains("Content-Type: multipart/mixed;"),
            "{message}"
        );
        assert!(
            message.contains("Content-Transfer-Encoding: base64"),
            "{message}"
        );
        assert!(message.contains("\r\n\r\nAAEC/w==\r\n"), "{message}");
    }

    #[test]
    fn content_types_come_from_the_extension() {
        let table = [
            ("photo.png", "image/png"),
            ("notes.txt", "text/plain"),
            ("report.PDF", "application/pdf"),
            ("archive.zip", "application/zip"),
            ("no-extension", "application/octet-stream"),
            ("strange.zzqx", "application/octet-stream"),
        ];
        for (name, expected) in table {
            assert_eq!(
                content_type_for(name),
                ContentType::parse(expected).unwrap()
            );
        }
    }
}
