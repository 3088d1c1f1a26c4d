//! The mail server peer against a client nobody here wrote: Python's `smtplib` (Debian's
//! `/usr/bin/python3`), in clear, with STARTTLS and AUTH (verifying the peer's certificate
//! against the test CA), and against refusals a scenario configures; what the peer
//! recorded, and what the pack's judges make of the messages Python's `email` package
//! writes (RFC 2231 and RFC 2047 file names, missing header fields, another encoding).

use std::path::Path;
use std::sync::Arc;

use serde::Deserialize as _;

use super::SmtpScript;
use super::judge::{
    AttachmentWanted, HeaderAddresses, MailExpectation, judge_commands, judge_mail,
};
use super::record::SmtpSession;
use crate::payload::Payload;
use crate::peers::{ProtocolScript as _, ServerPeer};
use crate::protocols::mailstore::testing::{ca_file, python, start_peer};
use crate::tree::Tree;

const PASSWORD: &str = "s3cret smtp";
/// A folder name with a space and letters beyond ASCII: its zip's file name needs encoding.
const FOLDER: &str = "notes de cours été";

async fn peer(script: SmtpScript) -> ServerPeer {
    start_peer(Arc::new(script)).await
}

/// The peer's sessions once every one has ended.
async fn sessions_over(peer: &ServerPeer) -> Vec<SmtpSession> {
    crate::protocols::testing::sessions_over(peer, None).await
}

fn verbs(session: &SmtpSession) -> Vec<&str> {
    session
        .commands
        .iter()
        .map(|command| command.verb.as_str())
        .collect()
}

fn kit_root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Five messages, one connection each, as students build them: `EmailMessage` with
/// display names (RFC 2231 file name); `email.mime` without `From`/`To`, sent with
/// `sendmail`; the file name as an RFC 2047 word in quotes (`Header(name).encode()`); the
/// whole `Content-Disposition` written as an f-string (compat32 encodes the field whole);
/// the zip in quoted-printable.
const SMTPLIB_CLEAR: &str = r#"
import os, smtplib, sys, zipfile, io
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.mime.base import MIMEBase
from email.header import Header
from email import encoders
port, folder = int(sys.argv[1]), sys.argv[2]
name = os.path.basename(folder)
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
    for dirpath, dirnames, filenames in os.walk(folder):
        for f in filenames:
            full = os.path.join(dirpath, f)
            zf.write(full, os.path.relpath(full, folder))
data = buffer.getvalue()
S = smtplib.SMTP("127.0.0.1", port, timeout=10)
S.ehlo()
print("starttls offered", S.has_extn("starttls"), "auth offered", S.has_extn("auth"))
msg = EmailMessage()
msg["From"] = "Alice Ünal <alice@example.com>"
msg["To"] = "Prof. Moreau <prof@example.com>"
msg["Subject"] = f"Archive of {name}"
msg.set_content(".a line that starts with a dot\nand another\n")
msg.add_attachment(data, maintype="application", subtype="zip", filename=name + ".zip")
print("refused", S.send_message(msg))
S.quit()
def mime(disposition, encode=encoders.encode_base64):
    msg = MIMEMultipart()
    msg["Subject"] = f"Archive of {name}"
    msg.attach(MIMEText("The folder is attached.\n"))
    part = MIMEBase("application", "zip")
    part.set_payload(data)
    encode(part)
    disposition(part)
    msg.attach(part)
    S = smtplib.SMTP("127.0.0.1", port, timeout=10)
    S.sendmail("alice@example.com", ["prof@example.com"], msg.as_string())
    S.quit()
mime(lambda part: part.add_header("Content-Disposition", "attachment", filename=name + ".zip"))
mime(lambda part: part.add_header("Content-Disposition", "attachment",
                                  filename=Header(name + ".zip", "utf-8").encode()))
mime(lambda part: part.add_header("Content-Disposition", f'attachment; filename="{name}.zip"'))
mime(lambda part: part.add_header("Content-Disposition", "attachment", filename=name + ".zip"),
     encoders.encode_quopri)
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtplib_delivers_in_clear_and_the_judges_read_pythons_mime() {
    let peer = peer(SmtpScript {
        starttls: true,
        auth: true,
        ..SmtpScript::default()
    })
    .await;
    let tree = Tree::load(&kit_root(), FOLDER).expect("the tree");
    let parent = tempfile::tempdir().unwrap();
    let folder = tree.write_under(parent.path()).unwrap();
    let args = [peer.port.to_string(), folder.display().to_string()];
    let out = python(SMTPLIB_CLEAR, &args).await;
    // AUTH is offered only after STARTTLS when both are on offer.
    assert!(
        out.contains("starttls offered True auth offered False"),
        "{out}"
    );
    assert!(out.contains("refused {}"), "{out}");

    let sessions = sessions_over(&peer).await;
    assert_eq!(sessions.len(), 5);
    for session in &sessions {
        assert!(session.ended);
        assert_eq!(verbs(session)[1..], ["MAIL", "RCPT", "DATA", "QUIT"]);
        assert!(session.commands.iter().all(|command| command.crlf));
        assert_eq!(session.messages.len(), 1);
    }
    // send_message said EHLO; sendmail says it on its own, EHLO too.
    assert_eq!(
        judge_commands(&sessions[..1], &words("EHLO MAIL RCPT DATA QUIT")),
        Ok(())
    );
    assert_eq!(verbs(&sessions[1])[0], "EHLO");

    let whole = MailExpectation {
        from: Some("alice@example.com".into()),
        to: vec!["prof@example.com".into()],
        headers: Some(HeaderAddresses {
            from: Some("alice@example.com".into()),
            to: vec!["prof@example.com".into()],
        }),
        subject: Some(format!("Archive of {FOLDER}")),
        subject_contains: Some(FOLDER.into()),
        // The leading dot went out doubled and came back single.
        text: Some(Payload::Bytes(Arc::from(
            &b".a line that starts with a dot\nand another\n"[..],
        ))),
        some_text: true,
        attachments: vec![(format!("{FOLDER}.zip"), AttachmentWanted::Unzips(tree))],
    };
    assert!(
        String::from_utf8_lossy(&sessions[0].messages[0]).contains("\r\n..a line"),
        "dot-stuffed on the wire"
    );
    assert_eq!(judge_mail(&sessions[..1], &whole), Ok(()));
    // The display name does not matter, the address does.
    let mut other = whole.clone();
    other.headers = Some(HeaderAddresses {
        from: Some("bob@example.com".into()),
        to: Vec::new(),
    });
    let (expected, seen) = judge_mail(&sessions[..1], &other).unwrap_err();
    assert!(
        expected.contains("`From:` naming bob@example.com"),
        "{expected}"
    );
    assert!(seen.contains("alice@example.com"), "{seen}");

    // email.mime without msg['From'] and msg['To']: the envelope went, the fields did not.
    let mime = MailExpectation {
        text: None,
        subject: None,
        ..whole.clone()
    };
    let (expected, seen) = judge_mail(&sessions[1..2], &mime).unwrap_err();
    assert!(
        expected.contains("`From: alice@example.com`")
            && expected.contains("`To: prof@example.com`"),
        "{expected}"
    );
    assert!(
        seen.starts_with("no `From:` or `To:` header field"),
        "{seen}"
    );
    let envelope_only = MailExpectation {
        headers: None,
        ..mime.clone()
    };
    // Python's RFC 2231 `filename*=utf-8''...` (compat32's add_header), decoded.
    assert_eq!(judge_mail(&sessions[1..2], &envelope_only), Ok(()));
    // `filename="=?utf-8?b?...?="`: RFC 2047 inside the quotes, decoded too.
    assert!(String::from_utf8_lossy(&sessions[2].messages[0]).contains("filename=\"=?utf-8?b?"));
    assert_eq!(judge_mail(&sessions[2..3], &envelope_only), Ok(()));
    // The whole field encoded: no disposition, no name; the verdict says why.
    let (_, seen) = judge_mail(&sessions[3..4], &envelope_only).unwrap_err();
    assert!(
        seen.contains("whole `Content-Disposition` field is RFC 2047-encoded")
            && seen.contains(&format!("attachment; filename=\"{FOLDER}.zip\"")),
        "{seen}"
    );
    // The zip in quoted-printable: the encoding is named.
    let (expected, seen) = judge_mail(&sessions[4..5], &envelope_only).unwrap_err();
    assert!(expected.contains("in base64"), "{expected}");
    assert_eq!(seen, "`Content-Transfer-Encoding: quoted-printable`");
}

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

/// STARTTLS verified against the test CA (the name too: `127.0.0.1`), EHLO again, then the
/// login and the message.
const SMTPLIB_TLS: &str = r#"
import smtplib, ssl, sys
from email.message import EmailMessage
port, cafile, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
S = smtplib.SMTP("127.0.0.1", port, timeout=10)
S.ehlo()
print("before", S.has_extn("starttls"), S.has_extn("auth"))
S.starttls(context=ssl.create_default_context(cafile=cafile))
S.ehlo()
print("after", S.has_extn("starttls"), S.has_extn("auth"), S.esmtp_features.get("auth", "").strip())
print("login", S.login(user, password)[0])
msg = EmailMessage()
msg["From"], msg["To"], msg["Subject"] = "alice@example.com", "prof@example.com", "Secure"
msg.set_content("Sent over TLS.\n")
S.send_message(msg)
S.quit()
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtplib_logs_in_after_starttls_verifying_the_test_ca() {
    let peer = peer(SmtpScript {
        starttls: true,
        auth: true,
        ..SmtpScript::default()
    })
    .await;
    let args = [
        peer.port.to_string(),
        ca_file(),
        "alice".into(),
        PASSWORD.into(),
    ];
    let out = python(SMTPLIB_TLS, &args).await;
    assert!(out.contains("before True False"), "{out}");
    assert!(out.contains("after False True PLAIN LOGIN"), "{out}");
    assert!(out.contains("login 235"), "{out}");

    let sessions = sessions_over(&peer).await;
    assert_eq!(sessions.len(), 1);
    let session = &sessions[0];
    assert_eq!(session.tls_error, None);
    assert_eq!(
        verbs(session),
        [
            "EHLO", "STARTTLS", "EHLO", "AUTH", "MAIL", "RCPT", "DATA", "QUIT"
        ]
    );
    let encrypted: Vec<bool> = session
        .commands
        .iter()
        .map(|command| command.encrypted)
        .collect();
    assert_eq!(
        encrypted,
        [false, false, true, true, true, true, true, true]
    );
    assert_eq!(session.logins, [("alice".to_owned(), true)]);
    let expectation = MailExpectation {
        from: Some("alice@example.com".into()),
        to: vec!["prof@example.com".into()],
        headers: Some(HeaderAddresses {
            from: Some("alice@example.com".into()),
            to: vec!["prof@example.com".into()],
        }),
        subject: Some("Secure".into()),
        text: Some(Payload::Bytes(Arc::from(&b"Sent over TLS.\n"[..]))),
        ..MailExpectation::default()
    };
    assert_eq!(judge_mail(&sessions, &expectation), Ok(()));

    // Only EHLO and STARTTLS crossed in clear: no AUTH, no password.
    let clear = peer
        .record()
        .unwrap()
        .in_clear()
        .expect("SMTP keeps what crossed in clear");
    assert!(clear[0].credentials_in_clear.is_empty());
    let text = String::from_utf8_lossy(&clear[0].bytes);
    assert!(
        text.contains("STARTTLS") && !text.contains("AUTH"),
        "{text}"
    );
}

/// One connection per refusing peer; each line: the exception smtplib raised and the code.
const SMTPLIB_REFUSED: &str = r#"
import smtplib, sys
from email.message import EmailMessage
msg = EmailMessage()
msg["From"], msg["To"], msg["Subject"] = "alice@example.com", "prof@example.com", "Refused"
msg.set_content("Nobody takes this.\n")
for port in sys.argv[1:]:
    try:
        S = smtplib.SMTP("127.0.0.1", int(port), timeout=10)
        try:
            S.send_message(msg)
            print(port, "sent")
        finally:
            S.quit()
    except smtplib.SMTPResponseException as e:
        print(port, type(e).__name__, e.smtp_code, e.smtp_error.decode())
    except smtplib.SMTPException as e:
        print(port, type(e).__name__, e)
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtplib_meets_the_refusals_a_scenario_configures() {
    let refusing = |key: &str, code: u16| SmtpScript {
        replies: [(key.to_owned(), code)].into(),
        ..SmtpScript::default()
    };
    let after_data = peer(refusing(".", 552)).await;
    let sender = peer(refusing("MAIL", 451)).await;
    let greeting = peer(refusing("greeting", 554)).await;
    let closing = peer(refusing("greeting", 421)).await;
    let args: Vec<String> = [&after_data, &sender, &greeting, &closing]
        .iter()
        .map(|peer| peer.port.to_string())
        .collect();
    let out = python(SMTPLIB_REFUSED, &args).await;
    let line = |peer: &ServerPeer| {
        out.lines()
            .find(|line| line.starts_with(&format!("{} ", peer.port)))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(line(&after_data).contains(" SMTPDataError 552 "), "{out}");
    assert!(line(&sender).contains(" SMTPSenderRefused 451 "), "{out}");
    let refused_greeting = line(&greeting);
    assert!(
        refused_greeting.contains(" SMTPConnectError 554 ")
            && refused_greeting.contains("refused on purpose"),
        "{out}"
    );
    assert!(line(&closing).contains(" SMTPConnectError 421 "), "{out}");

    // The message refused after its `.` is not delivered; the dialogue went on to QUIT.
    let sessions = sessions_over(&after_data).await;
    // smtplib sends RSET after a refused step, then QUIT.
    assert_eq!(
        verbs(&sessions[0]),
        ["EHLO", "MAIL", "RCPT", "DATA", "RSET", "QUIT"]
    );
    assert!(sessions[0].messages.is_empty());
    let (_, seen) = judge_mail(&sessions, &MailExpectation::default()).unwrap_err();
    assert!(
        seen.starts_with("none (the commands EHLO MAIL RCPT DATA RSET QUIT"),
        "{seen}"
    );
    let sessions = sessions_over(&sender).await;
    assert_eq!(verbs(&sessions[0]), ["EHLO", "MAIL", "RSET", "QUIT"]);
    // After a refused greeting smtplib closes at once: no command at all.
    for peer in [&greeting, &closing] {
        let sessions = sessions_over(peer).await;
        assert_eq!(sessions.len(), 1);
        assert!(sessions[0].ended && sessions[0].commands.is_empty());
    }
}

#[test]
fn each_refusal_is_described() {
    let script = |text: &str| {
        let value: toml::Value = toml::from_str(&format!("v = {text}")).unwrap();
        SmtpScript::deserialize(value["v"].clone()).unwrap()
    };
    let described = script(r#"{ replies = { greeting = 554, "." = 552, RCPT = 550 } }"#).describe();
    assert_eq!(
        described,
        "playing a mail server; it answers the message (after its final `.`) with 552; \
         it answers RCPT with 550; it greets with 554"
    );
}

/// A client that sends one message past the peer's bound for one message, then a small
/// one: the peer reads the large one to its end without keeping it, and both judges say
/// the bound first, with by how much.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_past_the_bound_is_not_kept_and_the_judges_say_so() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let peer = peer(SmtpScript::default()).await;
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", peer.port))
        .await
        .unwrap();
    let (reader, mut writer) = stream.into_split();
    let mut replies = BufReader::new(reader).lines();
    let mut reply = async || replies.next_line().await.unwrap().unwrap();
    assert!(reply().await.starts_with("220 "));
    writer.write_all(b"HELO client\r\n").await.unwrap();
    reply().await;
    // 33 MiB of data lines of 1 KiB: 1 MiB past the bound of 32 MiB.
    let line = [b"x".repeat(1022), b"\r\n".to_vec()].concat();
    for size in [33 << 20, 1 << 10] {
        for command in [
            "MAIL FROM:<a@example.com>\r\n",
            "RCPT TO:<b@example.com>\r\n",
            "DATA\r\n",
        ] {
            writer.write_all(command.as_bytes()).await.unwrap();
            reply().await;
        }
        for _ in 0..size / line.len() {
            writer.write_all(&line).await.unwrap();
        }
        writer.write_all(b".\r\n").await.unwrap();
        assert!(reply().await.starts_with("250 "));
    }
    writer.write_all(b"QUIT\r\n").await.unwrap();
    reply().await;
    let sessions = sessions_over(&peer).await;
    // Only the small message is kept.
    assert_eq!(sessions[0].messages.len(), 1);
    assert_eq!(sessions[0].messages[0].len(), 1 << 10);
    let said = format!(
        "a message of {} bytes, {} past the harness's bound of 32 MiB for one message: it was not kept",
        33 << 20,
        1 << 20
    );
    let (expected, seen) = judge_mail(&sessions, &MailExpectation::default()).unwrap_err();
    assert_eq!(
        (expected.as_str(), seen.as_str()),
        (
            "the client's commands and mail within the harness's bounds",
            said.as_str()
        )
    );
    let (_, seen) = judge_commands(&sessions, &["HELO".into()]).unwrap_err();
    assert_eq!(seen, said);
}
