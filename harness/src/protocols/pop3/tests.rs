//! The POP3 peer against clients nobody here wrote: Python's `poplib` and curl, in the
//! three TLS modes, verifying the peer's certificate against the test CA.

use std::sync::Arc;

use super::Pop3Script;
use super::expectations::{Pop3SessionExpectation, judge_pop3_session};
use super::record::Pop3Session;
use crate::peers::ServerPeer;
use crate::protocols::mailstore::testing::{ca_file, curl, python, start_peer};
use crate::protocols::mailstore::{MailTls, seeded, split_message};

const PASSWORD: &str = "s3cret pop";

async fn peer(tls: MailTls) -> ServerPeer {
    start_peer(Arc::new(Pop3Script {
        user: "alice".into(),
        password: PASSWORD.into(),
        mailbox: "inbox".into(),
        tls,
        certificate: Default::default(),
    }))
    .await
}

fn sessions(peer: &ServerPeer) -> Vec<Pop3Session> {
    crate::protocols::testing::sessions_of(peer)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A reader as SPEC read/3 wants it (no DELE, QUIT), then a careless one (DELE, and a
/// close without QUIT) on a second connection.
const POPLIB: &str = r#"
import poplib, ssl, sys
port, mode, cafile, user, password = sys.argv[1:6]
context = ssl.create_default_context(cafile=cafile)
def connect():
    if mode == "implicit":
        return poplib.POP3_SSL("127.0.0.1", int(port), context=context)
    client = poplib.POP3("127.0.0.1", int(port))
    if mode == "starttls":
        client.stls(context=context)
    return client
P = connect()
print("capa", " ".join(sorted(P.capa())))
P.user(user)
try:
    P.pass_("wrong")
    print("wrong password accepted")
except poplib.error_proto:
    print("wrong password refused")
P.user(user)
P.pass_(password)
print("stat", *P.stat())
response, listing, _ = P.list()
print("list", ",".join(line.decode() for line in listing))
response, listing, _ = P.uidl()
print("uidl", ",".join(line.decode() for line in listing))
for number in (1, 2, 5):
    response, lines, octets = P.retr(number)
    print("retr", number, octets, b"\r\n".join(lines).hex())
response, lines, _ = P.top(3, 1)
print("top", b"\r\n".join(lines).hex())
try:
    P.retr(9)
    print("message 9 served")
except poplib.error_proto:
    print("message 9 refused")
print("quit", P.quit().decode())
P = connect()
P.user(user)
P.pass_(password)
P.dele(2)
try:
    P.retr(2)
    print("deleted message served")
except poplib.error_proto:
    print("deleted message refused")
P.rset()
P.dele(4)
print("quit", P.quit().decode())
P = connect()
P.user(user)
P.pass_(password)
print("stat", *P.stat())
P.close()
"#;

async fn poplib_in(mode: MailTls, name: &str) {
    let peer = peer(mode).await;
    let args = [
        peer.port.to_string(),
        name.to_owned(),
        ca_file(),
        "alice".into(),
        PASSWORD.into(),
    ];
    let out = python(POPLIB, &args).await;
    let inbox = seeded("inbox").unwrap();
    let lines: Vec<&str> = out.lines().collect();
    // Asked after STLS (or over TLS, or with no STLS offered): no STLS on offer (RFC
    // 2595 §4).
    assert!(
        lines.contains(&"capa IMPLEMENTATION RESP-CODES TOP UIDL USER"),
        "{out}"
    );
    assert!(lines.contains(&"wrong password refused"), "{out}");
    let total: usize = inbox.iter().map(|message| message.raw.len()).sum();
    assert!(lines.contains(&format!("stat 5 {total}").as_str()), "{out}");
    let listing: Vec<String> = inbox
        .iter()
        .enumerate()
        .map(|(index, message)| format!("{} {}", index + 1, message.raw.len()))
        .collect();
    assert!(
        lines.contains(&format!("list {}", listing.join(",")).as_str()),
        "{out}"
    );
    assert!(
        lines.contains(&"uidl 1 lab-101,2 lab-102,3 lab-103,4 lab-104,5 lab-105"),
        "{out}"
    );
    for number in [1usize, 2, 5] {
        // poplib strips the stuffing and the CRLFs: the lines joined again are the
        // message without its last CRLF. Message 1 has lines starting with `.`.
        let raw = &inbox[number - 1].raw;
        let unstuffed = &raw[..raw.len() - 2];
        let line = lines
            .iter()
            .find(|line| line.starts_with(&format!("retr {number} ")))
            .expect("a retr line");
        assert!(line.ends_with(&format!(" {}", hex(unstuffed))), "{line}");
    }
    let (header, body) = split_message(&inbox[2].raw);
    let first = body.split_inclusive(|&byte| byte == b'\n').next().unwrap();
    let mut top = header.to_vec();
    top.extend_from_slice(&first[..first.len() - 2]);
    assert!(
        lines.contains(&format!("top {}", hex(&top)).as_str()),
        "{out}"
    );
    assert!(lines.contains(&"message 9 refused"), "{out}");
    assert!(lines.contains(&"deleted message refused"), "{out}");
    // The third connection sees the maildrop without message 4 (UPDATE after QUIT).
    let left: usize = total - inbox[3].raw.len();
    assert!(lines.contains(&format!("stat 4 {left}").as_str()), "{out}");

    let sessions = sessions(&peer);
    assert_eq!(sessions.len(), 3);
    assert!(sessions.iter().all(|session| session.ended));
    let careful = Pop3SessionExpectation {
        read_only: true,
        quit: true,
        logged_in: true,
        no_login: false,
    };
    assert_eq!(judge_pop3_session(&sessions[..1], &careful), Ok(()));
    // It logged in: a scenario that wants no login at all (a certificate to refuse) fails.
    let refusing = Pop3SessionExpectation {
        no_login: true,
        ..Default::default()
    };
    let (expected, seen) = judge_pop3_session(&sessions[..1], &refusing).unwrap_err();
    assert!(expected.starts_with("no "), "{expected}");
    assert!(seen.contains("`alice` (accepted"), "{seen}");
    assert_eq!(sessions[1].deleted, [2, 4]);
    assert_eq!(sessions[1].removed, [104]);
    let (_, seen) = judge_pop3_session(&sessions[..2], &careful).unwrap_err();
    assert!(seen.contains("DELE 2"), "{seen}");
    // poplib's close() sends no QUIT.
    assert!(!sessions[2].quit);
    let quit_only = Pop3SessionExpectation {
        quit: true,
        ..Pop3SessionExpectation::default()
    };
    let (_, seen) = judge_pop3_session(&sessions, &quit_only).unwrap_err();
    assert!(seen.contains("connection 3"), "{seen}");

    let clear = peer
        .record()
        .unwrap()
        .in_clear()
        .expect("POP3 keeps what crossed in clear");
    let leaked = |index: usize| {
        !clear[index].credentials_in_clear.is_empty()
            || String::from_utf8_lossy(&clear[index].bytes).contains(PASSWORD)
    };
    match mode {
        MailTls::None => {
            assert!(leaked(0));
            assert!(clear[0].credentials_in_clear[0].starts_with("PASS "));
        }
        MailTls::Starttls => {
            assert!(!leaked(0) && !leaked(1) && !leaked(2));
            assert!(String::from_utf8_lossy(&clear[0].bytes).contains("STLS"));
        }
        MailTls::Implicit => assert!(clear.iter().all(|one| one.bytes.is_empty())),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poplib_reads_in_clear() {
    poplib_in(MailTls::None, "none").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poplib_reads_after_stls() {
    poplib_in(MailTls::Starttls, "starttls").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poplib_reads_over_implicit_tls() {
    poplib_in(MailTls::Implicit, "implicit").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_reads_in_all_three_modes() {
    let inbox = seeded("inbox").unwrap();
    let ca = ca_file();
    let login = format!("alice:{PASSWORD}");
    let listing: String = inbox
        .iter()
        .enumerate()
        .map(|(index, message)| format!("{} {}\r\n", index + 1, message.raw.len()))
        .collect();
    for (mode, scheme, extra) in [
        (MailTls::None, "pop3", None),
        (MailTls::Starttls, "pop3", Some("--ssl-reqd")),
        (MailTls::Implicit, "pop3s", None),
    ] {
        let peer = peer(mode).await;
        let base = format!("{scheme}://127.0.0.1:{}", peer.port);
        let mut common = vec!["-u", &login, "--cacert", &ca];
        common.extend(extra);
        for (url, expected) in [
            (format!("{base}/"), listing.clone().into_bytes()),
            (format!("{base}/1"), inbox[0].raw.clone()),
            (format!("{base}/2"), inbox[1].raw.clone()),
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
        let url = format!("{base}/1");
        let wrong = curl(&["-u", "alice:wrong", "--cacert", &ca, &url]).await;
        assert_eq!(
            wrong.status.code(),
            Some(67),
            "curl: login denied ({mode:?})"
        );
        let missing = format!("{base}/9");
        let mut args = common.clone();
        args.push(&missing);
        assert!(
            !curl(&args).await.status.success(),
            "curl {missing} ({mode:?})"
        );
        let sessions = sessions(&peer);
        assert!(sessions.iter().all(|session| session.deleted.is_empty()));
        let clear = peer.record().unwrap().in_clear().unwrap();
        assert_eq!(
            clear[0].credentials_in_clear.is_empty(),
            mode != MailTls::None,
            "{mode:?}"
        );
    }
}
