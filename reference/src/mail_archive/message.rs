//! The mail, written a piece at a time into a file: header fields, a short text part,
//! and the zip as a base64 attachment (RFC 2045 §6.8: 3 bytes become 4 characters, in
//! lines of at most 76 characters).
//!
//! ```text
//! From: alice@example.com                          header fields: lettre encodes and
//! To: prof@example.com                             folds them (RFC 2047 for a subject
//! Subject: Archive of the folder lab-notes         that is not ASCII)
//! Date: Tue, 24 Nov 2026 21:10:00 +0000
//! Message-ID: <...@example.com>
//! MIME-Version: 1.0
//! Content-Type: multipart/mixed; boundary="B"
//!
//! --B                                              part 1: the text
//! Content-Type: text/plain; charset=utf-8
//! Content-Transfer-Encoding: base64
//!
//! QXR0YWNoZWQ6IGxhYi1ub3Rlcy56aXAs...
//! --B                                              part 2: the zip
//! Content-Type: application/zip
//! Content-Disposition: attachment; filename="lab-notes.zip"
//! Content-Transfer-Encoding: base64
//!
//! UEsDBBQAAAAIAAAAIQAAAAAAAAAAAAAAAAAKAAAAbGFiLW5vdGVzLw...   76 characters a line
//! --B--                                            the end of the multipart
//! ```
//!
//! Why not build the message in memory with lettre, as `smtp-client` does: the zip of a
//! 10 MB folder is 13.7 MB as base64, and the whole of it would sit in memory twice. Here
//! the zip is read 57 × 64 bytes at a time (57 bytes make one 76-character line), so
//! memory stays the same for a folder of any size. Everything written is 7-bit ASCII
//! with CRLF line ends: no server can refuse it for 8-bit data.

use std::io::{self, Read, Write};

use base64::Engine;
use lettre::message::Mailbox;
use lettre::message::header::{
    ContentDisposition, ContentTransferEncoding, ContentType, Date, From, Headers, MessageId,
    MimeVersion, Subject, To,
};

/// Bytes of input per base64 line: 57 bytes are 76 characters (RFC 2045 §6.8).
const LINE_INPUT: usize = 57;
/// Lines encoded per read of the zip.
const LINES_PER_READ: usize = 64;

/// Who, what and when: the header fields of the mail.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// The sender: the `From` field.
    pub from: Mailbox,
    /// The recipients: the `To` field.
    pub to: Vec<Mailbox>,
    /// The `Subject` field.
    pub subject: String,
    /// The `Date` field.
    pub date: std::time::SystemTime,
    /// The `Message-ID` field: `<unique@domain>` (RFC 5322 §3.6.4).
    pub message_id: String,
    /// The multipart boundary: it must appear in no part; base64 lines cannot hold its
    /// 40 characters of letters and digits by chance (RFC 2046 §5.1.1).
    pub boundary: String,
}

/// Writes the whole mail into `out`: `text` as the first part, then the zip read from
/// `zip`, attached as `zip_name`.
pub fn write_message<W: Write, R: Read>(
    out: &mut W,
    envelope: &Envelope,
    text: &str,
    zip: &mut R,
    zip_name: &str,
) -> io::Result<()> {
    let mut head = Headers::new();
    head.set(From::from(lettre::message::Mailboxes::from(
        envelope.from.clone(),
    )));
    head.set(To::from(
        envelope
            .to
            .iter()
            .cloned()
            .collect::<lettre::message::Mailboxes>(),
    ));
    head.set(Subject::from(envelope.subject.clone()));
    head.set(Date::new(envelope.date));
    head.set(MessageId::from(envelope.message_id.clone()));
    head.set(MimeVersion::default());
    head.set(content_type(&format!(
        "multipart/mixed; boundary=\"{}\"",
        envelope.boundary
    ))?);
    // lettre writes each field as `Name: value` CRLF, encoded and folded.
    write!(out, "{head}\r\n")?;
    let boundary = &envelope.boundary;

    // The text, in base64 whatever its letters: one encoding for every folder name.
    let mut part = Headers::new();
    part.set(content_type("text/plain; charset=utf-8")?);
    part.set(ContentTransferEncoding::Base64);
    write!(out, "--{boundary}\r\n{part}\r\n")?;
    write_base64(out, &mut text.as_bytes())?;

    let mut part = Headers::new();
    part.set(content_type("application/zip")?);
    part.set(ContentDisposition::attachment(zip_name));
    part.set(ContentTransferEncoding::Base64);
    write!(out, "--{boundary}\r\n{part}\r\n")?;
    write_base64(out, zip)?;
    write!(out, "--{boundary}--\r\n")
}

fn content_type(text: &str) -> io::Result<ContentType> {
    ContentType::parse(text).map_err(|error| io::Error::new(io::ErrorKind::InvalidInput, error))
}

/// `input` as base64 lines of 76 characters, each ending in CRLF, read
/// [`LINES_PER_READ`] lines' worth at a time.
pub fn write_base64<W: Write, R: Read>(out: &mut W, input: &mut R) -> io::Result<()> {
    let mut buffer = vec![0u8; LINE_INPUT * LINES_PER_READ];
    let mut line = String::with_capacity(80);
    loop {
        // Fill the buffer whole (a read may return less): only the last line of the
        // input may be shorter than 57 bytes, or padding would appear mid-stream.
        let mut filled = 0;
        while filled < buffer.len() {
            match input.read(&mut buffer[filled..])? {
                0 => break,
                read => filled += read,
            }
        }
        for chunk in buffer[..filled].chunks(LINE_INPUT) {
            line.clear();
            base64::engine::general_purpose::STANDARD.encode_string(chunk, &mut line);
            line.push_str("\r\n");
            out.write_all(line.as_bytes())?;
        }
        if filled < buffer.len() {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_lines_are_76_characters_and_decode_back() {
        let input: Vec<u8> = (0..10_000u32)
            .map(|index| (index * 31 % 256) as u8)
            .collect();
        let mut out = Vec::new();
        write_base64(&mut out, &mut input.as_slice()).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.split_terminator("\r\n").collect();
        assert!(lines[..lines.len() - 1].iter().all(|line| line.len() == 76));
        assert!(lines.last().unwrap().len() <= 76);
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(lines.concat())
            .unwrap();
        assert_eq!(decoded, input);
    }

    #[test]
    fn a_message_parses_with_its_subject_text_and_attachment() {
        let envelope = Envelope {
            from: "alice@example.com".parse().unwrap(),
            to: vec!["prof@example.com".parse().unwrap()],
            subject: "Archive of the folder Übung".into(),
            date: std::time::UNIX_EPOCH,
            message_id: "<1@example.com>".into(),
            boundary: "b0undary0123456789b0undary0123456789abcd".into(),
        };
        let zip = vec![b'P', b'K', 3, 4, 0, 255, 13, 10];
        let mut out = Vec::new();
        write_message(
            &mut out,
            &envelope,
            "Attached.\n",
            &mut zip.as_slice(),
            "Übung.zip",
        )
        .unwrap();
        assert!(out.is_ascii(), "7-bit only");
        let text = String::from_utf8(out).unwrap();
        // RFC 2047: the word that is not ASCII is encoded, the rest stays readable.
        assert!(
            text.contains("Subject: Archive of the folder =?utf-8?b?w5xidW5n?="),
            "{text}"
        );
        // RFC 2231: the file name that is not ASCII, percent-encoded UTF-8.
        assert!(text.contains("filename*0*=utf-8''%C3%9Cbung.zip"), "{text}");
        assert!(text.contains("Content-Type: application/zip"), "{text}");
        assert!(text.ends_with("--b0undary0123456789b0undary0123456789abcd--\r\n"));
        assert!(!text.replace("\r\n", "").contains('\n'), "CRLF only");
    }
}
