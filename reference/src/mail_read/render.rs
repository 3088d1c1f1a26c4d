//! A fetched message to the lines printed (SPEC `read/1`, `read/2`).
//!
//! Decoding a message is plumbing, done by mail-parser: the MIME tree (RFC 2046), the
//! transfer encodings (quoted-printable and base64, RFC 2045 §6), the charsets, and the
//! encoded words of header fields (RFC 2047). What is decided here is what is printed:
//!
//! ```text
//! header fields on the wire                        printed
//! From: =?UTF-8?B?RMO2cnRlIE3DvGxsZXI=?=          Dörte Müller <doerte@example.de>
//!   <doerte@example.de>                            (decoded, unfolded: one line)
//! Subject: =?UTF-8?B?R3LDvMOfZQ==?=                Grüße
//! Content-Transfer-Encoding: quoted-printable
//! Caf=C3=A9 au lait                                Café au lait
//! ```
//!
//! - `--list`: `number TAB sender TAB subject`, the sender as its `From` reads: `Name
//!   <address>`, or the address alone. A tab or a line end inside a decoded value would
//!   break the line's format, so every control character becomes a space *(decided)*.
//! - `--show`: `From`, `To`, `Date`, `Subject` (a missing field is printed empty, so the
//!   block always has the same shape *(decided)*), a blank line, and the first
//!   `text/plain` part (a message without a `Content-Type` is text/plain, RFC 2045 §5.2),
//!   its line ends made `\n`, ending in one. A message without such a part (an image
//!   only, HTML only) prints [`NO_TEXT_PART`] instead.

use mail_parser::{Address, Message, MessageParser, MimeHeaders, PartType};

/// The line printed for the body of a message that has no text/plain part.
pub const NO_TEXT_PART: &str = "(this message has no text part)";

/// The `--list` line of message `number`, from its header (or the whole message): ends
/// in `\n`.
pub fn list_line(number: u32, header: &[u8]) -> String {
    let parsed = MessageParser::default().parse(header);
    let (sender, subject) = match &parsed {
        Some(message) => (addresses(message, "From", message.from()), subject(message)),
        None => (String::new(), String::new()),
    };
    format!("{number}\t{sender}\t{subject}\n")
}

/// The `--show` block of a message: four header lines, a blank line, the text; ends in
/// `\n`.
pub fn show(raw: &[u8]) -> String {
    let Some(message) = MessageParser::default().parse(raw) else {
        // Nothing mail-parser could read (an empty message): the shape, empty.
        return format!("From: \nTo: \nDate: \nSubject: \n\n{NO_TEXT_PART}\n");
    };
    let mut block = format!(
        "From: {}\nTo: {}\nDate: {}\nSubject: {}\n\n",
        addresses(&message, "From", message.from()),
        addresses(&message, "To", message.to()),
        raw_field(&message, "Date"),
        subject(&message),
    );
    match text_part(&message) {
        Some(text) => {
            block.push_str(&text.replace("\r\n", "\n"));
            if !block.ends_with('\n') {
                block.push('\n');
            }
        }
        None => {
            block.push_str(NO_TEXT_PART);
            block.push('\n');
        }
    }
    block
}

/// The first text/plain part's text, decoded (transfer encoding and charset).
fn text_part<'m>(message: &'m Message<'m>) -> Option<&'m str> {
    message.text_bodies().find_map(|part| {
        let plain = part.content_type().is_none_or(|kind| {
            kind.ctype().eq_ignore_ascii_case("text")
                && kind
                    .subtype()
                    .is_none_or(|subtype| subtype.eq_ignore_ascii_case("plain"))
        });
        match &part.body {
            // mail-parser lists an HTML part among the text bodies when there is no
            // text part (to show something); it is not text/plain, so it is not taken.
            PartType::Text(text) if plain => Some(text.as_ref()),
            _ => None,
        }
    })
}

/// An address field as it reads decoded: `Name <address>` or `address`, several
/// separated by `, `. A field mail-parser cannot read as addresses is printed as it came,
/// unfolded.
fn addresses(message: &Message<'_>, field: &str, parsed: Option<&Address<'_>>) -> String {
    let Some(parsed) = parsed else {
        return raw_field(message, field);
    };
    let shown: Vec<String> = parsed
        .iter()
        .map(|addr| match (addr.name(), addr.address()) {
            (Some(name), Some(address)) => format!("{name} <{address}>"),
            (None, Some(address)) => address.to_owned(),
            (Some(name), None) => name.to_owned(),
            (None, None) => String::new(),
        })
        .filter(|shown| !shown.is_empty())
        .collect();
    one_line(&shown.join(", "))
}

/// The subject, decoded (RFC 2047), on one line.
fn subject(message: &Message<'_>) -> String {
    one_line(message.subject().unwrap_or_default())
}

/// A field's raw value, unfolded (RFC 5322 §2.2.3) and trimmed: for `Date`, which has no
/// encoded words, and for fields that do not parse.
fn raw_field(message: &Message<'_>, field: &str) -> String {
    one_line(message.header_raw(field).unwrap_or_default())
}

/// `text` on one line: every run of whitespace holding a control character (a folded
/// line's CRLF, a tab) becomes one space, other control characters a space too (they
/// must not drive the terminal), and the ends are trimmed.
fn one_line(text: &str) -> String {
    let mut line = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        if c.is_control() || c == ' ' {
            pending_space = true;
            continue;
        }
        if pending_space && !line.is_empty() {
            line.push(' ');
        }
        pending_space = false;
        line.push(c);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crlf(text: &str) -> Vec<u8> {
        text.replace('\n', "\r\n").into_bytes()
    }

    #[test]
    fn list_lines_are_number_sender_subject_decoded() {
        let table: [(&str, &str); 5] = [
            (
                "From: bob@example.com\nSubject: Lunch on Friday\n\n",
                "1\tbob@example.com\tLunch on Friday\n",
            ),
            (
                "From: Carol Jones <carol@example.com>\nSubject: Minutes\n\n",
                "1\tCarol Jones <carol@example.com>\tMinutes\n",
            ),
            (
                "From: \"Jones, Carol\" <carol@example.com>\nSubject: Quoted name\n\n",
                "1\tJones, Carol <carol@example.com>\tQuoted name\n",
            ),
            (
                "From: =?UTF-8?B?RMO2cnRlIE3DvGxsZXI=?= <doerte@example.de>\n\
                 Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4g4piV?=\n\n",
                "1\tDörte Müller <doerte@example.de>\tGrüße aus Köln ☕\n",
            ),
            // A folded subject with a tab: one line, single spaces.
            (
                "From: a@example.com\nSubject: one\n\ttwo\tthree\n\n",
                "1\ta@example.com\tone two three\n",
            ),
        ];
        for (header, expected) in table {
            assert_eq!(list_line(1, &crlf(header)), expected, "{header}");
        }
        assert_eq!(list_line(7, b""), "7\t\t\n");
    }

    #[test]
    fn a_multipart_shows_its_text_part_and_not_the_attachment() {
        let raw = crlf(
            "From: Carol <carol@example.com>\nTo: alice@example.com\n\
             Date: Tue, 04 Mar 2025\n 14:30:00 +0100\nSubject: Minutes\nMIME-Version: 1.0\n\
             Content-Type: multipart/mixed; boundary=\"b\"\n\npreamble\n--b\n\
             Content-Type: text/plain; charset=us-ascii\n\nHello Alice,\n\nCarol\n--b\n\
             Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n\
             AAECAw==\n--b--\n",
        );
        assert_eq!(
            show(&raw),
            "From: Carol <carol@example.com>\nTo: alice@example.com\n\
             Date: Tue, 04 Mar 2025 14:30:00 +0100\nSubject: Minutes\n\n\
             Hello Alice,\n\nCarol\n"
        );
    }

    #[test]
    fn quoted_printable_and_base64_are_decoded_in_their_charset() {
        let quoted = crlf(
            "From: d@example.org\nSubject: Menu\nContent-Type: text/plain; charset=utf-8\n\
             Content-Transfer-Encoding: quoted-printable\n\nCaf=C3=A9, soft =\nbreak; 5 =3D five\n",
        );
        assert!(show(&quoted).ends_with("\n\nCafé, soft break; 5 = five\n"));
        let latin = crlf(
            "From: d@example.org\nSubject: Menu\nContent-Type: text/plain; charset=iso-8859-1\n\
             Content-Transfer-Encoding: base64\n\nQ2Fm6Q0K\n",
        );
        assert!(show(&latin).ends_with("\n\nCafé\n"), "{}", show(&latin));
    }

    #[test]
    fn a_message_without_a_text_part_says_so_and_missing_fields_are_empty() {
        let image = crlf(
            "From: f@example.com\nSubject: Photo\nMIME-Version: 1.0\n\
             Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: image/png\n\
             Content-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--b--\n",
        );
        assert_eq!(
            show(&image),
            format!("From: f@example.com\nTo: \nDate: \nSubject: Photo\n\n{NO_TEXT_PART}\n")
        );
        let html = crlf("From: h@example.com\nContent-Type: text/html\n\n<p>Hi</p>\n");
        assert!(show(&html).ends_with(&format!("\n\n{NO_TEXT_PART}\n")));
    }
}
