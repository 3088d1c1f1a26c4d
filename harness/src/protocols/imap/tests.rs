//! The IMAP peer against clients nobody here wrote: Python's `imaplib` and curl, in the
//! three TLS modes, verifying the peer's certificate against the test CA.

use std::sync::Arc;

use super::ImapScript;
use super::expectations::{ImapSessionExpectation, judge_imap_session};
use super::record::ImapSession;
use crate::peers::ServerPeer;
use crate::protocols::mailstore::testing::{ca_file, curl, python, start_peer};
use crate::protocols::mailstore::{MailTls, seeded};

const PASSWORD: &str = "s3cret-imap";

async fn peer(tls: MailTls) -> ServerPeer {
    start_peer(Arc::new(ImapScript {
        user: "alice".into(),
        password: PASSWORD.into(),
        mailbox: "inbox".into(),
        tls,
        certificate: Default::default(),
    }))
    .await
}

fn sessions(peer: &ServerPeer) -> Vec<ImapSession> {
    crate::protocols::testing::sessions_of(peer)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A reader as SPEC read/1–3 wants it (EXAMINE, BODY.PEEK), then a careless one
/// (SELECT, RFC822, STORE, EXPUNGE) on a second connection.
const IMAPLIB: &str = r#"
import imaplib, ssl, sys
port, mode, cafile, user, password = sys.argv[1:6]
context = ssl.create_default_context(cafile=cafile)
def connect():
    if mode == "implicit":
        return imaplib.IMAP4_SSL("127.0.0.1", int(port), ssl_context=context)
    client = imaplib.IMAP4("127.0.0.1", int(port))
    if mode == "starttls":
        client.starttls(ssl_context=context)
    return client
M = connect()
print("capabilities", " ".join(M.capabilities))
try:
    M.login(user, "wrong")
    print("wrong password accepted")
except imaplib.IMAP4.error:
    print("wrong password refused")
M.login(user, password)
typ, data = M.select("INBOX", readonly=True)
print("exists", data[0].decode())
typ, data = M.search(None, "ALL")
print("search", data[0].decode())
for number in data[0].split():
    typ, fetched = M.fetch(number, "(BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])")
    print("fields", number.decode(), fetched[0][1].hex())
typ, fetched = M.fetch("1", "(BODY.PEEK[])")
print("whole1", fetched[0][1].hex())
typ, fetched = M.uid("FETCH", "102", "(BODY.PEEK[1] RFC822.SIZE FLAGS)")
print("part", fetched[0][0].decode(), fetched[0][1].hex())
try:
    M.fetch("9", "(BODY.PEEK[])")
    print("message 9 served")
except imaplib.IMAP4.error:
    print("message 9 refused")
M.close()
M.logout()
M = connect()
M.login(user, password)
M.select("INBOX")
typ, fetched = M.fetch("3", "(RFC822)")
print("rfc822", fetched[0][1].hex())
M.store("4", "+FLAGS", "\\Deleted")
typ, data = M.expunge()
print("expunged", data)
M.logout()
"#;

async fn imaplib_in(mode: MailTls, name: &str) {
    let peer = peer(mode).await;
    let args = [
        peer.port.to_string(),
        name.to_owned(),
        ca_file(),
        "alice".into(),
        PASSWORD.into(),
    ];
    let out = python(IMAPLIB, &args).await;
    let inbox = seeded("inbox").unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.contains(&"wrong password refused"), "{out}");
    assert!(lines.contains(&"exists 5"), "{out}");
    assert!(lines.contains(&"search 1 2 3 4 5"), "{out}");
    let fields = crate::protocols::mailstore::header_fields(
        crate::protocols::mailstore::split_message(&inbox[1].raw).0,
        &["From".into(), "Subject".into()],
        false,
    );
    assert!(
        lines.contains(&format!("fields 2 {}", hex(&fields)).as_str()),
        "{out}"
    );
    assert!(
        lines.contains(&format!("whole1 {}", hex(&inbox[0].raw)).as_str()),
        "{out}"
    );
    let text_part = crate::protocols::mailstore::mime_parts(&inbox[1].raw)[0];
    let text_body = crate::protocols::mailstore::split_message(text_part).1;
    let part = lines
        .iter()
        .find(|line| line.starts_with("part "))
        .expect("the part line");
    assert!(part.contains("UID 102"), "{part}");
    assert!(part.ends_with(&hex(text_body)), "{part}");
    assert!(lines.contains(&"message 9 refused"), "{out}");
    assert!(
        lines.contains(&format!("rfc822 {}", hex(&inbox[2].raw)).as_str()),
        "{out}"
    );
    assert!(lines.contains(&"expunged [b'4']"), "{out}");

    let sessions = sessions(&peer);
    assert_eq!(sessions.len(), 2);
    assert!(
        sessions
            .iter()
            .all(|session| session.ended && session.logged_out)
    );
    // The careful reader changed nothing; the careless one set \Seen on message 3 (UID
    // 103), stored \Deleted on 4 and expunged it.
    let careful = ImapSessionExpectation {
        read_only: true,
        logout: true,
        logged_in: true,
        no_login: false,
    };
    assert_eq!(judge_imap_session(&sessions[..1], &careful), Ok(()));
    // It logged in: a scenario that wants no login at all (a certificate to refuse) fails.
    let refusing = ImapSessionExpectation {
        no_login: true,
        ..Default::default()
    };
    let (expected, seen) = judge_imap_session(&sessions[..1], &refusing).unwrap_err();
    assert!(expected.starts_with("no "), "{expected}");
    assert!(seen.contains("`alice` (accepted"), "{seen}");
    assert_eq!(sessions[1].seen_set, [103]);
    assert_eq!(sessions[1].expunged, [104]);
    assert_eq!(sessions[1].stores.len(), 1);
    let (_, seen) = judge_imap_session(&sessions, &careful).unwrap_err();
    assert!(seen.contains("UID 103"), "{seen}");

    // What crossed in clear.
    let record = peer.record().unwrap();
    let clear = record.in_clear().expect("IMAP keeps what crossed in clear");
    let leaked = |index: usize| {
        !clear[index].credentials_in_clear.is_empty()
            || String::from_utf8_lossy(&clear[index].bytes).contains(PASSWORD)
    };
    match mode {
        MailTls::None => {
            assert!(leaked(0) && leaked(1));
            assert!(clear[0].credentials_in_clear[0].contains("LOGIN"));
        }
        MailTls::Starttls => {
            assert!(!leaked(0) && !leaked(1));
            assert!(String::from_utf8_lossy(&clear[0].bytes).contains("STARTTLS"));
        }
        MailTls::Implicit => assert!(clear.iter().all(|one| one.bytes.is_empty())),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imaplib_reads_in_clear() {
    imaplib_in(MailTls::None, "none").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imaplib_reads_after_starttls() {
    imaplib_in(MailTls::Starttls, "starttls").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imaplib_reads_over_implicit_tls() {
    imaplib_in(MailTls::Implicit, "implicit").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_reads_in_all_three_modes() {
    let inbox = seeded("inbox").unwrap();
    let ca = ca_file();
    let login = format!("alice:{PASSWORD}");
    for (mode, scheme, extra) in [
        (MailTls::None, "imap", None),
        (MailTls::Starttls, "imap", Some("--ssl-reqd")),
        (MailTls::Implicit, "imaps", None),
    ] {
        let peer = peer(mode).await;
        let base = format!("{scheme}://127.0.0.1:{}/INBOX", peer.port);
        let mut common = vec!["-u", &login, "--cacert", &ca];
        common.extend(extra);
        // A message by number, one by UID (curl's `FETCH n BODY[]` sets \Seen, as it
        // would on any server), a search, a wrong password.
        for (url, expected) in [
            (format!("{base};MAILINDEX=1"), inbox[0].raw.clone()),
            (format!("{base};UID=102"), inbox[1].raw.clone()),
            (format!("{base}?ALL"), b"* SEARCH 1 2 3 4 5\r\n".to_vec()),
        ] {
            let mut args = common.clone();
            args.push(&url);
            let output = curl(&args).await;
            assert!(
                output.status.success(),
                "curl {url} ({mode:?}): {}\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
            assert_eq!(
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&expected),
                "curl {url} ({mode:?})"
            );
        }
        let url = format!("{base};MAILINDEX=1");
        let wrong = curl(&["-u", "alice:wrong", "--cacert", &ca, &url]).await;
        assert_eq!(
            wrong.status.code(),
            Some(67),
            "curl: login denied ({mode:?})"
        );
        let sessions = sessions(&peer);
        assert_eq!(sessions[0].seen_set, [101], "{mode:?}");
        // curl logs in with AUTHENTICATE PLAIN, which the peer offers.
        assert!(
            sessions[0]
                .commands
                .iter()
                .any(|command| command.verb == "AUTHENTICATE"),
            "{mode:?}"
        );
        let clear = peer.record().unwrap().in_clear().unwrap();
        assert_eq!(
            clear[0].credentials_in_clear.is_empty(),
            mode != MailTls::None,
            "{mode:?}"
        );
    }
}
