//! The FTP peer against clients nobody here wrote: Python's `ftplib` (storbinary over
//! PASV and over EPSV, storlines, a wrong password, SIZE; `FTP_TLS` with `AUTH TLS`, data
//! in TLS and in clear, and implicit FTPS) and curl (`-T`, EPSV and PASV, `--ssl-reqd`).

use std::sync::Arc;

use super::expectations::{FtpSessionExpectation, Wanted, judge_ftp_session};
use super::record::{FtpSession, FtpStore, StoreOutcome, TransferType};
use super::{DataPlan, FtpScript};
use crate::payload::Payload;
use crate::peers::ServerPeer;
use crate::protocols::mailstore::testing::{ca_file, curl, python, start_peer};

const PASSWORD: &str = "s3cret ftp";

/// Bytes a text-mode upload changes: NUL, CRLF, lone LF and CR, high bytes.
const BINARY: &[u8] = b"\x00\r\n\n\r\x00\xff\x80 binary\nend\r";

async fn peer(data: DataPlan) -> ServerPeer {
    start_peer(Arc::new(FtpScript {
        user: "alice".into(),
        password: PASSWORD.into(),
        folders: vec!["uploads".into()],
        refuse_login: false,
        refuse_store: None,
        data,
    }))
    .await
}

/// Waits until `count` sessions have ended (the client's close reaches the peer a moment
/// after the client exits).
async fn ended(peer: &ServerPeer, count: usize) -> Vec<FtpSession> {
    let sessions: Vec<FtpSession> =
        crate::protocols::testing::sessions_over(peer, Some(count)).await;
    assert!(
        sessions.len() == count && sessions.iter().all(|session| session.ended),
        "sessions did not end: {sessions:?}"
    );
    sessions
}

fn temp_file(bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("a temporary file");
    std::io::Write::write_all(&mut file, bytes).expect("written");
    file
}

fn wanted(path: &str) -> Wanted {
    Wanted {
        path: path.into(),
        content: Payload::Bytes(BINARY.to_vec().into()),
        described: "the binary file".into(),
    }
}

/// storbinary over PASV (ftplib's choice over IPv4) into a folder, then over EPSV (its
/// choice over IPv6: `af` says which it makes), SIZE of both, a storlines, a wrong
/// password on a second connection.
const FTPLIB: &str = r#"
import ftplib, socket, sys
port, user, password, path = sys.argv[1:5]
with ftplib.FTP() as F:
    F.connect("127.0.0.1", int(port), timeout=10)
    print("welcome", F.getwelcome())
    F.login(user, password)
    F.cwd("uploads")
    print("pwd", F.pwd())
    with open(path, "rb") as f:
        print("pasv", F.storbinary("STOR pasv.bin", f))
    F.af = socket.AF_INET6  # ftplib asks EPSV on IPv6 connections
    with open(path, "rb") as f:
        print("epsv", F.storbinary("STOR /epsv.bin", f))
    F.af = socket.AF_INET
    print("size", F.size("pasv.bin"), F.size("/epsv.bin"))
    with open(path, "rb") as f:
        print("lines", F.storlines("STOR lines.bin", f))
    try:
        F.cwd("/nowhere")
    except ftplib.error_perm as e:
        print("cwd", str(e)[:3])
    try:
        F.sendcmd("SITE CHMOD 600 pasv.bin")
    except ftplib.error_perm as e:
        print("site", str(e)[:3])
with ftplib.FTP() as F:
    F.connect("127.0.0.1", int(port), timeout=10)
    try:
        F.login(user, "wrong")
    except ftplib.error_perm as e:
        print("login", str(e)[:3])
"#;

#[tokio::test]
async fn ftplib_stores_byte_for_byte_over_pasv_and_epsv() {
    let peer = peer(DataPlan::Open).await;
    let file = temp_file(BINARY);
    let args = [
        peer.port.to_string(),
        "alice".into(),
        PASSWORD.into(),
        file.path().display().to_string(),
    ];
    let out = python(FTPLIB, &args).await;
    for line in [
        "welcome 220 harness FTP peer ready",
        "pwd /uploads",
        "pasv 226 Transfer complete.",
        "epsv 226 Transfer complete.",
        &format!("size {0} {0}", BINARY.len()),
        "lines 226 Transfer complete.",
        "cwd 550",
        "site 502",
        "login 530",
    ] {
        assert!(out.lines().any(|seen| seen == line), "{line:?} in:\n{out}");
    }
    let sessions = ended(&peer, 2).await;
    let first = &sessions[0];
    assert!(
        first.commands.contains(&"PASS ****".to_owned()),
        "{first:?}"
    );
    assert!(
        !first
            .commands
            .iter()
            .any(|command| command.contains(PASSWORD))
    );
    assert!(first.commands.contains(&"PASV".to_owned()));
    assert!(first.commands.contains(&"EPSV".to_owned()));
    let stored: Vec<(&str, TransferType)> = first
        .stored()
        .map(|store| (store.path.as_str(), store.transfer_type))
        .collect();
    assert_eq!(
        stored,
        [
            ("/uploads/pasv.bin", TransferType::Image),
            ("/epsv.bin", TransferType::Image),
            ("/uploads/lines.bin", TransferType::Ascii),
        ]
    );
    assert!(sessions.iter().all(|session| session.quit));
    let everything = FtpSessionExpectation {
        quit: true,
        logged_in: true,
        ..Default::default()
    };
    for path in ["/uploads/pasv.bin", "/epsv.bin"] {
        judge_ftp_session(&sessions, &everything, Some(&wanted(path))).expect(path);
    }
    // storlines: TYPE A, and a CR before every lone LF.
    let failure = judge_ftp_session(&sessions, &everything, Some(&wanted("/uploads/lines.bin")))
        .expect_err("a text-mode upload");
    assert!(failure.seen.contains("TYPE A"), "{}", failure.seen);
    assert!(
        failure.seen.contains("a CR added before the LF at byte 3"),
        "{}",
        failure.seen
    );
    let nothing = FtpSessionExpectation {
        nothing_stored: true,
        ..Default::default()
    };
    assert!(judge_ftp_session(&sessions, &nothing, None).is_err());
}

#[tokio::test]
async fn curl_uploads_with_epsv_and_with_pasv() {
    let peer = peer(DataPlan::Open).await;
    let file = temp_file(BINARY);
    let path = file.path().display().to_string();
    let base = format!("ftp://alice:s3cret%20ftp@127.0.0.1:{}", peer.port);
    let epsv = curl(&["-T", &path, &format!("{base}/uploads/curl-epsv.bin")]).await;
    assert!(epsv.status.success(), "{epsv:?}");
    let pasv = curl(&[
        "--disable-epsv",
        "-T",
        &path,
        &format!("{base}/curl-pasv.bin"),
    ])
    .await;
    assert!(pasv.status.success(), "{pasv:?}");
    let sessions = ended(&peer, 2).await;
    let expectation = FtpSessionExpectation {
        quit: true,
        logged_in: true,
        ..Default::default()
    };
    for path in ["/uploads/curl-epsv.bin", "/curl-pasv.bin"] {
        judge_ftp_session(&sessions, &expectation, Some(&wanted(path))).expect(path);
    }
    assert!(
        sessions[0].commands.contains(&"EPSV".to_owned()),
        "{:?}",
        sessions[0]
    );
    assert!(
        sessions[1].commands.contains(&"PASV".to_owned()),
        "{:?}",
        sessions[1]
    );
}

#[tokio::test]
async fn a_refusing_data_port_and_a_reset_fail_the_upload_and_store_nothing() {
    for (plan, code) in [(DataPlan::Refused, 7), (DataPlan::Reset, 0)] {
        let peer = peer(plan).await;
        let file = temp_file(&vec![b'x'; 1 << 20]);
        let url = format!("ftp://alice:s3cret%20ftp@127.0.0.1:{}/big.bin", peer.port);
        let out = curl(&["-T", &file.path().display().to_string(), &url]).await;
        assert!(!out.status.success(), "{plan:?}: {out:?}");
        if code != 0 {
            // curl's exit status 7: failed to connect (the data port).
            assert_eq!(out.status.code(), Some(code), "{plan:?}: {out:?}");
        }
        let sessions = ended(&peer, 1).await;
        assert!(
            sessions[0]
                .stores
                .iter()
                .all(|store| store.outcome != StoreOutcome::Stored),
            "{plan:?}: {:?}",
            sessions[0].stores
        );
        let nothing = FtpSessionExpectation {
            nothing_stored: true,
            ..Default::default()
        };
        judge_ftp_session(&sessions, &nothing, None).expect("nothing stored");
    }
}

/// `FTP_TLS` as students write it, verifying the server's certificate: `login()` sends
/// `AUTH TLS` first, `prot_p()` puts the file's data connection inside TLS, `prot_c()` the
/// next one in clear; then implicit FTPS (TLS from the first byte) on the peer's second
/// port, as a client of port 990 speaks it.
const FTPLIB_TLS: &str = r#"
import ftplib, socket, ssl, sys
port, tls_port, user, password, path, ca = sys.argv[1:7]
context = ssl.create_default_context(cafile=ca)
with ftplib.FTP_TLS(context=context, timeout=10) as F:
    F.connect("127.0.0.1", int(port))
    F.login(user, password)
    print("secured", isinstance(F.sock, ssl.SSLSocket))
    F.prot_p()
    with open(path, "rb") as f:
        print("protected", F.storbinary("STOR protected.bin", f))
    F.prot_c()
    with open(path, "rb") as f:
        print("clear", F.storbinary("STOR clear.bin", f))

class Implicit(ftplib.FTP_TLS):
    def connect(self, host, port, timeout=10):
        self.host, self.port, self.timeout = host, port, timeout
        plain = socket.create_connection((host, port), timeout)
        self.af = plain.family
        self.sock = self.context.wrap_socket(plain, server_hostname=host)
        self.file = self.sock.makefile("r", encoding=self.encoding)
        self.welcome = self.getresp()
        return self.welcome

with Implicit(context=context, timeout=10) as F:
    print("implicit", F.connect("127.0.0.1", int(tls_port)))
    F.login(user, password)
    F.prot_p()
    with open(path, "rb") as f:
        print("implicit data", F.storbinary("STOR implicit.bin", f))
"#;

#[tokio::test]
async fn ftplib_tls_logs_in_and_stores_inside_tls_and_over_implicit_ftps() {
    let peer = peer(DataPlan::Open).await;
    let file = temp_file(BINARY);
    let args = [
        peer.port.to_string(),
        peer.tls_port.expect("the FTP peer's FTPS port").to_string(),
        "alice".into(),
        PASSWORD.into(),
        file.path().display().to_string(),
        ca_file(),
    ];
    let out = python(FTPLIB_TLS, &args).await;
    for line in [
        "secured True",
        "protected 226 Transfer complete.",
        "clear 226 Transfer complete.",
        "implicit 220 harness FTP peer ready",
        "implicit data 226 Transfer complete.",
    ] {
        assert!(out.lines().any(|seen| seen == line), "{line:?} in:\n{out}");
    }
    let sessions = ended(&peer, 2).await;
    assert!(sessions[0].commands.starts_with(&["AUTH TLS".to_owned()]));
    assert!(sessions[0].commands.contains(&"PROT P".to_owned()));
    let stored: Vec<(&str, usize)> = sessions
        .iter()
        .flat_map(FtpSession::stored)
        .map(|store| (store.path.as_str(), store.bytes.len() as usize))
        .collect();
    let length = BINARY.len();
    assert_eq!(
        stored,
        [
            ("/protected.bin", length),
            ("/clear.bin", length),
            ("/implicit.bin", length)
        ]
    );
    for store in sessions.iter().flat_map(FtpSession::stored) {
        assert_eq!(
            store.bytes.head(1 << 20).as_slice(),
            BINARY,
            "{}",
            store.path
        );
    }
}

/// curl asked for TLS (`--ssl-reqd`) moves the control connection into it and protects
/// the data connection (`PROT P`), trusting the test CA.
#[tokio::test]
async fn curl_uploads_over_ftp_with_tls_required() {
    let peer = peer(DataPlan::Open).await;
    let file = temp_file(BINARY);
    let url = format!("ftp://127.0.0.1:{}/curl.bin", peer.port);
    let login = format!("alice:{PASSWORD}");
    let ca = ca_file();
    let path = file.path().display().to_string();
    let output = curl(&[
        "--ssl-reqd",
        "--cacert",
        &ca,
        "-u",
        &login,
        "-T",
        &path,
        &url,
    ])
    .await;
    assert!(
        output.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let sessions = ended(&peer, 1).await;
    assert!(
        sessions[0].commands.contains(&"PROT P".to_owned()),
        "{:?}",
        sessions[0].commands
    );
    let stored: Vec<&FtpStore> = sessions[0].stored().collect();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].bytes.head(1 << 20).as_slice(), BINARY);
}

/// Two uploads of 40 MiB in one session: the second passes the peer's bound on what it
/// keeps of all files stored; it is read to its end, not kept past the bound, and the
/// judge says so first, with by how much.
#[tokio::test]
async fn uploads_past_the_bound_are_not_kept_and_the_judge_says_so() {
    const TWICE: &str = r#"
import ftplib, sys
port, user, password, path = sys.argv[1:5]
with ftplib.FTP() as F:
    F.connect("127.0.0.1", int(port), timeout=30)
    F.login(user, password)
    for name in ["one.bin", "two.bin"]:
        with open(path, "rb") as f:
            print(F.storbinary("STOR " + name, f))
"#;
    let peer = peer(DataPlan::Open).await;
    // 40 MiB that take no room on disk: read back as zeros.
    let file = tempfile::NamedTempFile::new().unwrap();
    file.as_file().set_len(40 << 20).unwrap();
    let out = python(
        TWICE,
        &[
            peer.port.to_string(),
            "alice".into(),
            PASSWORD.into(),
            file.path().display().to_string(),
        ],
    )
    .await;
    assert_eq!(out.matches("226").count(), 2, "{out}");
    let sessions = ended(&peer, 1).await;
    let kept: u64 = sessions[0]
        .stores
        .iter()
        .map(|store| store.bytes.len())
        .sum();
    assert_eq!(kept, 64 << 20);
    let failure =
        judge_ftp_session(&sessions, &FtpSessionExpectation::default(), None).unwrap_err();
    assert_eq!(
        failure.expected,
        "the client's uploads within the harness's bounds"
    );
    assert_eq!(
        failure.seen,
        format!(
            "`STOR two.bin` sent {} bytes, {} past the harness's bound of 64 MiB on what its FTP server keeps of all files stored ({} bytes kept before): the rest was not kept",
            40 << 20,
            16 << 20,
            40 << 20
        )
    );
}
