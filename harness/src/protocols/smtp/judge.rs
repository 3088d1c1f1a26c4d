//! Judging what a client delivered to the pack's mail server peer (SPEC smtp/1–4).
//!
//! Two expectations, written on `expect_received = "mta"`:
//!
//! - `commands = ["EHLO", "MAIL", "RCPT", "DATA", "QUIT"]`: the verbs the client sent, in
//!   order (`HELO` stands for `EHLO`), every command line ending in CRLF.
//! - `mail = { from, to, headers, subject, text, attachments }`: the one message
//!   delivered: its envelope, its data lines ending in CRLF, and, once dot-stuffing is
//!   undone (RFC 5321 §4.5.2) and the MIME structure parsed, its `From:` and `To:` header
//!   fields (display names aside), subject, text and attachments, decoded byte for byte
//!   (file names decoded from RFC 2231 or RFC 2047, as Python writes them).
//!
//! Both are judged once every session of the peer has ended (the client quit or closed).

use std::fmt::Write as _;

use mail_parser::{HeaderName, Message, MessageParser, MessagePart, MimeHeaders};

use super::archive::{ZipVerdict, judge_zip};
use super::record::{SmtpCommand, SmtpSession};
use crate::payload::Payload;
use crate::tree::Tree;

/// What the delivered message must be.
#[derive(Debug, Clone, Default)]
pub(super) struct MailExpectation {
    /// The envelope sender (`MAIL FROM:<...>`).
    pub from: Option<String>,
    /// The envelope recipients (`RCPT TO:<...>`), in any order.
    pub to: Vec<String>,
    /// The addresses the message's own `From:` and `To:` header fields must hold: the
    /// envelope is not the message (a client that sends only the envelope leaves them
    /// out, and the reader sees no sender).
    pub headers: Option<HeaderAddresses>,
    /// The `Subject` header.
    pub subject: Option<String>,
    /// Words the `Subject` header holds, case aside.
    pub subject_contains: Option<String>,
    /// The text part, compared line by line (line endings and trailing newlines aside).
    pub text: Option<Payload>,
    /// A text part that says something.
    pub some_text: bool,
    /// Attachments by file name, and what each must be; no other is sent.
    pub attachments: Vec<(String, AttachmentWanted)>,
}

/// The addresses of the `From:` and `To:` header fields (RFC 5322 §3.6.2, §3.6.3),
/// compared without their display names (`Alice <alice@example.com>` holds
/// `alice@example.com`), case aside.
#[derive(Debug, Clone, Default)]
pub(super) struct HeaderAddresses {
    /// The one address of `From:`.
    pub from: Option<String>,
    /// The addresses of `To:`, in any order.
    pub to: Vec<String>,
}

/// What an attachment must decode to.
#[derive(Debug, Clone)]
pub(super) enum AttachmentWanted {
    /// Exactly these bytes.
    Bytes(Payload),
    /// A zip archive (`application/zip`) of exactly this folder (SPEC archive/1).
    Unzips(Tree),
}

/// Why an expectation does not hold: what was expected, and what came.
pub(super) type Mismatch = (String, String);

/// The first bound of the peer's a client passed (a message longer than it keeps, more
/// than it keeps in all), as a mismatch: said before anything else, since what came past
/// it was not kept.
fn within_bounds(sessions: &[SmtpSession]) -> Result<(), Mismatch> {
    match sessions
        .iter()
        .find_map(|session| session.past_bound.as_ref())
    {
        Some(said) => Err((
            "the client's commands and mail within the harness's bounds".into(),
            said.clone(),
        )),
        None => Ok(()),
    }
}

/// The verbs the client sent, across its sessions, each line ending in CRLF.
pub(super) fn judge_commands(
    sessions: &[SmtpSession],
    expected: &[String],
) -> Result<(), Mismatch> {
    within_bounds(sessions)?;
    let wanted = format!("the commands {}", expected.join(" "));
    if let Some(command) = sessions
        .iter()
        .flat_map(|session| &session.commands)
        .find(|command| !command.crlf)
    {
        return Err((
            format!("{wanted}, each line ending in CRLF (RFC 5321 §2.3.8)"),
            format!("`{}` ended with a bare LF, or was cut", command.line),
        ));
    }
    let sent: Vec<String> = sessions
        .iter()
        .flat_map(|session| &session.commands)
        .map(|command| match command.verb.as_str() {
            "HELO" => "EHLO".to_owned(),
            verb => verb.to_owned(),
        })
        .collect();
    if sent == expected {
        return Ok(());
    }
    // A client that spoke TLS from the first byte (SMTPS, 465) has nothing to upgrade:
    // `EHLO STARTTLS` is what a client in clear does to get where it already is (SPEC
    // smtp/4 asks for TLS before AUTH and the message, and no password in clear).
    let tls_from_the_start = !sessions.is_empty()
        && sessions
            .iter()
            .all(|session| session.commands.first().is_none_or(|first| first.encrypted));
    if tls_from_the_start && sent == without_upgrade(expected) {
        return Ok(());
    }
    Err((wanted, describe_dialogue(sessions)))
}

/// `expected` without each `EHLO STARTTLS` that upgrades a session in clear to TLS.
fn without_upgrade(expected: &[String]) -> Vec<String> {
    let mut kept: Vec<String> = Vec::with_capacity(expected.len());
    for verb in expected {
        if verb == "STARTTLS" && kept.last().is_some_and(|last| last == "EHLO") {
            kept.pop();
            continue;
        }
        kept.push(verb.clone());
    }
    kept
}

/// The one message delivered.
pub(super) fn judge_mail(
    sessions: &[SmtpSession],
    expected: &MailExpectation,
) -> Result<(), Mismatch> {
    within_bounds(sessions)?;
    let wanted = "one message delivered";
    let delivered: Vec<(&SmtpSession, &Vec<u8>)> = sessions
        .iter()
        .flat_map(|session| session.messages.iter().map(move |data| (session, data)))
        .collect();
    let (session, data) = match delivered.as_slice() {
        [one] => *one,
        [] => {
            return Err((
                wanted.into(),
                format!("none ({})", describe_dialogue(sessions)),
            ));
        }
        many => return Err((wanted.into(), format!("{} messages", many.len()))),
    };

    // The envelope: the last MAIL, and the RCPTs after it.
    let start = session
        .commands
        .iter()
        .rposition(|command| command.verb == "MAIL")
        .unwrap_or(0);
    let envelope = &session.commands[start..];
    if let Some(from) = &expected.from {
        let mail = envelope.first().filter(|command| command.verb == "MAIL");
        let sent = mail.and_then(|command| address(&command.line));
        if !sent.is_some_and(|sent| sent.eq_ignore_ascii_case(from)) {
            return Err((
                format!("MAIL FROM:<{from}>"),
                mail.map_or("no MAIL FROM".into(), as_sent),
            ));
        }
    }
    if !expected.to.is_empty() {
        let recipients = envelope.iter().filter(|command| command.verb == "RCPT");
        // A recipient written without its angle brackets is shown as it was sent, not
        // as no recipient at all.
        if let Some(unbracketed) = recipients
            .clone()
            .find(|command| address(&command.line).is_none())
        {
            return Err((
                format!("one RCPT TO for each of {}", expected.to.join(", ")),
                as_sent(unbracketed),
            ));
        }
        let mut sent: Vec<String> = recipients
            .filter_map(|command| address(&command.line))
            .map(|address| address.to_ascii_lowercase())
            .collect();
        let mut wanted: Vec<String> = expected
            .to
            .iter()
            .map(|to| to.to_ascii_lowercase())
            .collect();
        sent.sort();
        wanted.sort();
        if sent != wanted {
            return Err((
                format!("one RCPT TO for each of {}", wanted.join(", ")),
                format!(
                    "RCPT TO for {}",
                    if sent.is_empty() {
                        "nobody".into()
                    } else {
                        sent.join(", ")
                    }
                ),
            ));
        }
    }

    // SPEC smtp/2: every line of the data ends in CRLF.
    if let Some((number, line)) = data
        .split_inclusive(|&byte| byte == b'\n')
        .enumerate()
        .find(|(_, line)| !line.ends_with(b"\r\n"))
    {
        return Err((
            "every line of the message ending in CRLF (RFC 5321 §2.3.8)".into(),
            format!(
                "line {} ends with a bare LF: {:?}",
                number + 1,
                String::from_utf8_lossy(line)
            ),
        ));
    }
    let unstuffed = unstuff(data);
    let Some(message) = MessageParser::default().parse(&unstuffed) else {
        return Err((
            "a message in MIME format".into(),
            "data that does not parse".into(),
        ));
    };
    if let Some(wanted) = &expected.headers {
        judge_header_addresses(&message, wanted)?;
    }
    if let Some(subject) = &expected.subject {
        let sent = message.subject().unwrap_or("");
        if sent != subject {
            return Err((format!("the subject `{subject}`"), format!("`{sent}`")));
        }
    }
    if let Some(words) = &expected.subject_contains {
        let sent = message.subject().unwrap_or("");
        if !sent.to_lowercase().contains(&words.to_lowercase()) {
            return Err((format!("a subject naming `{words}`"), format!("`{sent}`")));
        }
    }
    if expected.some_text
        && message
            .body_text(0)
            .is_none_or(|text| text.trim().is_empty())
    {
        return Err((
            "a short text part saying what is attached".into(),
            "no text part, or an empty one".into(),
        ));
    }
    if let Some(text) = &expected.text {
        let wanted = normalized(&String::from_utf8_lossy(&text.bytes()));
        let sent = normalized(&message.body_text(0).unwrap_or_default());
        if sent != wanted {
            return Err((
                format!(
                    "the text part to be {} (line endings aside)",
                    text.describe()
                ),
                text_difference(&wanted, &sent),
            ));
        }
    }
    let sent_count = message.attachments().count();
    if !expected.attachments.is_empty() && sent_count > expected.attachments.len() {
        let names: Vec<String> = message
            .attachments()
            .map(|part| shown_name(&message, part))
            .collect();
        return Err((
            format!("{} attachment(s), no other", expected.attachments.len()),
            format!("{sent_count}: {}", names.join(", ")),
        ));
    }
    for (name, wanted) in &expected.attachments {
        let Some(part) = message
            .attachments()
            .find(|part| part.attachment_name() == Some(name.as_str()))
        else {
            let names: Vec<String> = message
                .attachments()
                .map(|part| shown_name(&message, part))
                .collect();
            return Err((
                format!("an attachment named `{name}`"),
                if names.is_empty() {
                    "no attachment".into()
                } else {
                    format!("attachments {}", names.join(", "))
                },
            ));
        };
        let bytes = match wanted {
            AttachmentWanted::Bytes(bytes) => bytes,
            AttachmentWanted::Unzips(tree) => {
                let kind = part
                    .content_type()
                    .map(|kind| format!("{}/{}", kind.ctype(), kind.subtype().unwrap_or("")))
                    .unwrap_or_default();
                if !kind.eq_ignore_ascii_case("application/zip") {
                    return Err((
                        format!("`{name}` sent as application/zip"),
                        format!("Content-Type `{kind}`"),
                    ));
                }
                // SPEC archive/1: in base64, the one encoding that carries any byte in
                // short 7-bit lines through every server.
                let encoding = part.content_transfer_encoding().map(str::trim);
                if !encoding.is_some_and(|encoding| encoding.eq_ignore_ascii_case("base64")) {
                    return Err((
                        format!("`{name}` in base64 (`Content-Transfer-Encoding: base64`)"),
                        match encoding {
                            Some(encoding) => format!("`Content-Transfer-Encoding: {encoding}`"),
                            None => "no `Content-Transfer-Encoding` (so 7bit: the zip's bytes \
                                     as they are, which no 7-bit line can hold)"
                                .into(),
                        },
                    ));
                }
                // The folder as the program saw it is the one the attachment is named
                // after (`lab-notes.zip`; `notes.zip` from a program that always zips its
                // own `notes`: `crate::scenario::adapt`).
                let folder = name.strip_suffix(".zip").unwrap_or(&tree.name);
                judge_zip(part.contents(), tree, folder).map_err(|verdict| match verdict {
                    ZipVerdict::Differs(problems) => (
                        format!(
                            "`{name}` to unzip to exactly the folder {}",
                            tree.describe()
                        ),
                        problems,
                    ),
                    // The bound first: the folder the zip should hold is beside the point.
                    ZipVerdict::PastBound(passed) => (
                        format!("`{name}` to unzip within the harness's bounds"),
                        passed,
                    ),
                })?;
                continue;
            }
        };
        let wanted = bytes.bytes();
        let sent = part.contents();
        if sent != wanted.as_slice() {
            let at = sent
                .iter()
                .zip(&wanted)
                .position(|(a, b)| a != b)
                .unwrap_or(sent.len().min(wanted.len()));
            return Err((
                format!("`{name}` to decode to exactly {}", bytes.describe()),
                format!("{} bytes, differing from byte {at} on", sent.len()),
            ));
        }
    }
    Ok(())
}

/// The `From:` and `To:` header fields hold the wanted addresses; both missing are said
/// at once (`MAIL FROM` and `RCPT TO` write no header field: a message built without
/// `msg['From']` and `msg['To']` has none).
fn judge_header_addresses(message: &Message<'_>, wanted: &HeaderAddresses) -> Result<(), Mismatch> {
    let fields = [
        (
            "From",
            HeaderName::From,
            wanted.from.iter().cloned().collect::<Vec<_>>(),
        ),
        ("To", HeaderName::To, wanted.to.clone()),
    ];
    let asked: Vec<&(&str, HeaderName<'_>, Vec<String>)> = fields
        .iter()
        .filter(|(_, _, addresses)| !addresses.is_empty())
        .collect();
    let missing: Vec<&str> = asked
        .iter()
        .filter(|(_, header, _)| message.header_raw(header.clone()).is_none())
        .map(|(field, _, _)| *field)
        .collect();
    if !missing.is_empty() {
        let wanted: Vec<String> = asked
            .iter()
            .map(|(field, _, addresses)| format!("`{field}: {}`", addresses.join(", ")))
            .collect();
        let missing: Vec<String> = missing.iter().map(|field| format!("`{field}:`")).collect();
        return Err((
            format!("the header fields {}", wanted.join(" and ")),
            format!(
                "no {} header field in the message (MAIL FROM and RCPT TO are the envelope, \
                 which the server does not show to the reader: the message needs its own, \
                 msg['From'] and msg['To'])",
                missing.join(" or ")
            ),
        ));
    }
    for (field, header, addresses) in asked {
        let raw = message
            .header_raw(header.clone())
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let mut sent: Vec<String> = message
            .header(header.clone())
            .and_then(|value| value.as_address())
            .map(|address| {
                address
                    .iter()
                    .filter_map(|addr| addr.address())
                    .map(str::to_ascii_lowercase)
                    .collect()
            })
            .unwrap_or_default();
        let mut want: Vec<String> = addresses.iter().map(|a| a.to_ascii_lowercase()).collect();
        sent.sort();
        want.sort();
        if sent != want {
            return Err((
                format!(
                    "`{field}:` naming {} (a display name may go with it)",
                    addresses.join(", ")
                ),
                format!("`{field}: {raw}`"),
            ));
        }
    }
    Ok(())
}

/// An attachment's file name as decoded, for a verdict: `` `lab-notes.zip` ``, or why
/// there is none. A name mail-parser cannot find because the whole `Content-Disposition`
/// field is one RFC 2047 encoded word (what Python's compat32 policy writes for
/// `add_header('Content-Disposition', f'attachment; filename="{name}"')` with a name
/// beyond ASCII) is explained: the field's own syntax is encoded away.
fn shown_name(message: &Message<'_>, part: &MessagePart<'_>) -> String {
    if let Some(name) = part.attachment_name() {
        return format!("`{name}`");
    }
    let raw = part
        .headers
        .iter()
        .find(|header| header.name == HeaderName::ContentDisposition)
        .and_then(|header| {
            message
                .raw_message
                .get(header.offset_start as usize..header.offset_end as usize)
        })
        .map(|raw| String::from_utf8_lossy(raw).trim().to_owned())
        .unwrap_or_default();
    if raw.starts_with("=?") {
        // Decoded as an unstructured field would be: what the sender meant.
        let probe = format!("Subject: {raw}\r\n\r\n");
        let meant = MessageParser::default()
            .parse(probe.as_bytes())
            .and_then(|probe| probe.subject().map(str::to_owned))
            .unwrap_or_default();
        return format!(
            "(no name: the whole `Content-Disposition` field is RFC 2047-encoded, `{raw}`, \
             which reads `{meant}` once decoded but leaves a reader no disposition nor file \
             name; give the name as a parameter, add_header('Content-Disposition', \
             'attachment', filename=name), which encodes it by RFC 2231)"
        );
    }
    "(no name)".into()
}

/// An envelope command as the client sent it (`MAIL FROM: mao@gov.cn`), never as the
/// peer parsed it; one without the angle brackets around its address is said to lack them.
fn as_sent(command: &SmtpCommand) -> String {
    let line = crate::escape::escaped(&command.line);
    match address(&command.line) {
        Some(_) => format!("`{line}`"),
        None => format!(
            "`{line}`, without the angle brackets RFC 5321 §4.1.2 puts around the address (`{}:<address>`)",
            if command.verb == "MAIL" {
                "MAIL FROM"
            } else {
                "RCPT TO"
            }
        ),
    }
}

/// The address between `<` and `>` of `MAIL FROM:<a@b>` or `RCPT TO:<a@b>`.
fn address(line: &str) -> Option<String> {
    let start = line.find('<')? + 1;
    let end = start + line[start..].find('>')?;
    Some(line[start..end].to_owned())
}

/// Undoes dot-stuffing: a line starting with `.` loses that first `.`.
pub(super) fn unstuff(data: &[u8]) -> Vec<u8> {
    let mut unstuffed = Vec::with_capacity(data.len());
    for line in data.split_inclusive(|&byte| byte == b'\n') {
        unstuffed.extend_from_slice(line.strip_prefix(b".").unwrap_or(line));
    }
    unstuffed
}

/// Text with LF line endings and no trailing newlines.
fn normalized(text: &str) -> String {
    text.replace("\r\n", "\n").trim_end_matches('\n').to_owned()
}

/// Where two texts part, with a hint when a leading dot went missing.
fn text_difference(wanted: &str, sent: &str) -> String {
    for (number, (want, got)) in wanted.lines().zip(sent.lines()).enumerate() {
        if want != got {
            let mut seen = format!("line {} is {got:?} where {want:?} was sent", number + 1);
            if want.starts_with('.') && want.get(1..) == Some(got) {
                seen += ": its leading `.` was taken as dot-stuffing, so the client did not \
                         double it (RFC 5321 §4.5.2)";
            }
            return seen;
        }
    }
    let (wanted_lines, sent_lines) = (wanted.lines().count(), sent.lines().count());
    format!("{sent_lines} lines where {wanted_lines} were sent")
}

/// The dialogue in one line: `EHLO MAIL RCPT(550) QUIT`.
fn describe_dialogue(sessions: &[SmtpSession]) -> String {
    if sessions.is_empty() {
        return "the client never connected".into();
    }
    let mut text = String::new();
    for (index, session) in sessions.iter().enumerate() {
        if index > 0 {
            text += "; then ";
        }
        let verbs: Vec<String> = session
            .commands
            .iter()
            .map(|command| {
                let mut verb = command.verb.clone();
                if command.encrypted {
                    verb += "(TLS)";
                }
                verb
            })
            .collect();
        if verbs.is_empty() {
            text += "connected and sent no command";
        } else {
            let _ = write!(text, "the commands {}", verbs.join(" "));
        }
        if let Some(error) = &session.tls_error {
            let _ = write!(text, " (TLS handshake failed: {error})");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::super::record::SmtpCommand;
    use super::*;

    #[test]
    fn unstuffing_removes_one_leading_dot_per_line() {
        let table: [(&[u8], &[u8]); 4] = [
            (b"plain\r\n", b"plain\r\n"),
            (b"..hidden\r\n", b".hidden\r\n"),
            (b"...two\r\n", b"..two\r\n"),
            (b"a.b\r\n.\r\n", b"a.b\r\n\r\n"),
        ];
        for (stuffed, plain) in table {
            assert_eq!(unstuff(stuffed), plain, "{stuffed:?}");
        }
    }

    #[test]
    fn addresses_come_from_between_angle_brackets() {
        assert_eq!(
            address("MAIL FROM:<a@example.com> SIZE=10").as_deref(),
            Some("a@example.com")
        );
        assert_eq!(address("RCPT TO:<>").as_deref(), Some(""));
        assert_eq!(address("RCPT TO: b@example.com"), None);
    }

    fn session_of(verbs: &[&str], tls_from_the_start: bool) -> SmtpSession {
        let mut encrypted = tls_from_the_start;
        let commands = verbs
            .iter()
            .map(|verb| {
                let command = SmtpCommand {
                    verb: (*verb).to_owned(),
                    line: (*verb).to_owned(),
                    encrypted,
                    crlf: true,
                };
                encrypted |= *verb == "STARTTLS";
                command
            })
            .collect();
        SmtpSession {
            commands,
            ..SmtpSession::default()
        }
    }

    #[test]
    fn tls_from_the_first_byte_needs_no_starttls_but_clear_text_does() {
        let expected: Vec<String> = ["EHLO", "STARTTLS", "EHLO", "AUTH", "MAIL", "QUIT"]
            .map(String::from)
            .to_vec();
        let upgraded = session_of(&["EHLO", "STARTTLS", "EHLO", "AUTH", "MAIL", "QUIT"], false);
        assert!(judge_commands(&[upgraded], &expected).is_ok());
        let smtps = session_of(&["EHLO", "AUTH", "MAIL", "QUIT"], true);
        assert!(judge_commands(&[smtps], &expected).is_ok());
        let in_clear = session_of(&["EHLO", "AUTH", "MAIL", "QUIT"], false);
        assert!(judge_commands(&[in_clear], &expected).is_err());
    }

    #[test]
    fn a_missing_leading_dot_is_explained() {
        let seen = text_difference("one\n.hidden\nthree", "one\nhidden\nthree");
        assert!(seen.contains("line 2"), "{seen}");
        assert!(seen.contains("dot-stuffing"), "{seen}");
    }
}
