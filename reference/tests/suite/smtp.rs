//! The mail programs (`smtp-client`, `smtp-server`) as a user runs them, on loopback:
//! SPEC clauses `smtp/1`–`smtp/5` and `smtpd/1`–`smtpd/2`.
//!
//! The client is run as a process against a small scripted server of this file, which
//! records every byte it receives (before and after STARTTLS apart). The server is run
//! in-process (`reference::smtp_server::serve` on a listener bound to port 0) and driven
//! by raw TCP clients, and once as a process to check its stdout.

use crate::common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use predicates::prelude::*;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

use common::{Running, STARTUP, free_tcp_port};
use reference::net::Tokio;
use reference::smtp_server::serve;

/// How long any one client run, or any wait for a server, may take.
const LIMIT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------
// A scripted SMTP server for the client's tests
// ---------------------------------------------------------------------------------------

/// What the scripted server says. Every command not listed gets its normal reply.
#[derive(Clone)]
struct Script {
    /// The reply to EHLO before TLS (whole, with its CRLFs).
    ehlo: &'static str,
    /// The reply to EHLO after TLS.
    ehlo_secured: &'static str,
    /// Replies to commands starting with a prefix, instead of the normal reply.
    overrides: Vec<(&'static str, &'static str)>,
    /// The TLS configuration for STARTTLS (without it, STARTTLS gets 502).
    tls: Option<Arc<ServerConfig>>,
    /// The reply to the final `.` of the message.
    end_of_data: &'static str,
    /// Send replies one byte at a time.
    one_byte_replies: bool,
}

impl Default for Script {
    fn default() -> Script {
        Script {
            ehlo: "250-fake.example\r\n250-8BITMIME\r\n250 SIZE 1000000\r\n",
            ehlo_secured: "250-fake.example\r\n250 AUTH PLAIN LOGIN\r\n",
            overrides: Vec::new(),
            tls: None,
            end_of_data: "250 queued\r\n",
            one_byte_replies: false,
        }
    }
}

/// Everything the scripted server received.
#[derive(Debug, Default)]
struct Transcript {
    /// Bytes received in clear text (all of them, without STARTTLS).
    clear: Vec<u8>,
    /// Bytes received inside TLS, decrypted.
    secured: Vec<u8>,
    /// The message's lines (after 354, up to the `.`), as on the wire.
    data: Vec<String>,
}

impl Transcript {
    fn clear_text(&self) -> String {
        String::from_utf8(self.clear.clone()).unwrap()
    }

    fn secured_text(&self) -> String {
        String::from_utf8(self.secured.clone()).unwrap()
    }

    /// The command lines (not the message's lines), in clear and secured order.
    fn commands(&self) -> Vec<String> {
        let all = format!("{}{}", self.clear_text(), self.secured_text());
        let mut commands = Vec::new();
        let mut in_data = false;
        for line in all.split("\r\n") {
            if in_data {
                in_data = line != ".";
                continue;
            }
            if !line.is_empty() {
                commands.push(line.to_owned());
            }
            in_data = line == "DATA";
        }
        commands
    }
}

/// The connection of the scripted server: TCP, then maybe TLS over it.
enum Io {
    Clear(TcpStream),
    Secured(Box<StreamOwned<ServerConnection, TcpStream>>),
}

/// The scripted server's side of one session.
struct Fake {
    io: Option<Io>,
    script: Script,
    transcript: Transcript,
    /// Received bytes not yet read as lines.
    pending: Vec<u8>,
}

impl Fake {
    fn send(&mut self, reply: &str) {
        let io = self.io.as_mut().unwrap();
        let pieces: Vec<&[u8]> = if self.script.one_byte_replies {
            reply.as_bytes().chunks(1).collect()
        } else {
            vec![reply.as_bytes()]
        };
        for piece in pieces {
            let _ = match io {
                Io::Clear(stream) => stream.write_all(piece).and_then(|()| stream.flush()),
                Io::Secured(stream) => stream.write_all(piece).and_then(|()| stream.flush()),
            };
        }
    }

    /// The next line without its CRLF, or `None` when the client closed (or went silent).
    fn line(&mut self) -> Option<String> {
        loop {
            if let Some(at) = self.pending.iter().position(|&byte| byte == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=at).collect();
                let line = String::from_utf8_lossy(&line);
                return Some(line.trim_end_matches(['\r', '\n']).to_owned());
            }
            let mut chunk = [0u8; 4096];
            let (received, record) = match self.io.as_mut().unwrap() {
                Io::Clear(stream) => (stream.read(&mut chunk), &mut self.transcript.clear),
                Io::Secured(stream) => (stream.read(&mut chunk), &mut self.transcript.secured),
            };
            match received {
                Ok(0) | Err(_) => return None,
                Ok(size) => {
                    record.extend_from_slice(&chunk[..size]);
                    self.pending.extend_from_slice(&chunk[..size]);
                }
            }
        }
    }

    fn secured(&self) -> bool {
        matches!(self.io, Some(Io::Secured(_)))
    }

    /// Plays the script for one client.
    fn serve(&mut self) {
        self.send("220 fake.example ESMTP\r\n");
        // Bounded: a client that loops fails the test instead of hanging it.
        for _ in 0..1000 {
            let Some(line) = self.line() else { return };
            let upper = line.to_ascii_uppercase();
            let custom = self
                .script
                .overrides
                .iter()
                .find(|(prefix, _)| upper.starts_with(&prefix.to_ascii_uppercase()));
            if let Some((_, reply)) = custom {
                let reply = *reply;
                self.send(reply);
                continue;
            }
            let verb = upper.split(' ').next().unwrap_or("").to_owned();
            match verb.as_str() {
                "EHLO" => {
                    let reply = if self.secured() {
                        self.script.ehlo_secured
                    } else {
                        self.script.ehlo
                    };
                    self.send(reply);
                }
                "STARTTLS" => match self.script.tls.clone() {
                    Some(config) => {
                        self.send("220 go ahead\r\n");
                        let Some(Io::Clear(stream)) = self.io.take() else {
                            panic!("STARTTLS twice");
                        };
                        assert!(self.pending.is_empty(), "the client pipelined STARTTLS");
                        let connection = ServerConnection::new(config).unwrap();
                        let secured = StreamOwned::new(connection, stream);
                        self.io = Some(Io::Secured(Box::new(secured)));
                    }
                    None => self.send("502 no TLS here\r\n"),
                },
                "AUTH" => self.send("235 welcome\r\n"),
                "DATA" => {
                    self.send("354 go ahead\r\n");
                    loop {
                        let Some(line) = self.line() else { return };
                        if line == "." {
                            break;
                        }
                        self.transcript.data.push(line);
                    }
                    let reply = self.script.end_of_data;
                    self.send(reply);
                }
                "QUIT" => {
                    self.send("221 bye\r\n");
                    return;
                }
                _ => self.send("250 OK\r\n"),
            }
        }
    }
}

/// Starts the scripted server on a port of loopback picked by the kernel (port 0); it
/// serves one client and returns what it received.
fn fake_server(script: Script) -> (u16, JoinHandle<Transcript>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let served = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(LIMIT)).unwrap();
        stream.set_nodelay(true).unwrap();
        let mut fake = Fake {
            io: Some(Io::Clear(stream)),
            script,
            transcript: Transcript::default(),
            pending: Vec::new(),
        };
        fake.serve();
        fake.transcript
    });
    (port, served)
}

/// Runs `smtp-client --server 127.0.0.1:PORT ARGS...` with `body` on stdin.
fn client(port: u16, args: &[&str], body: &str) -> assert_cmd::assert::Assert {
    assert_cmd::Command::cargo_bin("smtp-client")
        .unwrap()
        .args(["--server", &format!("127.0.0.1:{port}")])
        .args(args)
        .env_remove("SSL_CERT_FILE")
        .write_stdin(body)
        .timeout(LIMIT)
        .assert()
}

/// The usual addresses: one sender, two recipients.
const ADDRESSES: [&str; 8] = [
    "--from",
    "a@example.com",
    "--to",
    "b@example.com",
    "--to",
    "c@example.com",
    "--subject",
    "Lab report",
];

// ---------------------------------------------------------------------------------------
// smtp-client
// ---------------------------------------------------------------------------------------

#[test]
fn client_dialogue_is_in_order_with_crlf_everywhere_and_dots_stuffed() {
    let (port, served) = fake_server(Script::default());
    client(
        port,
        &ADDRESSES,
        "Hello,\n.hidden line\n..two dots\nlast line without newline",
    )
    .success()
    .stdout("");
    let transcript = served.join().unwrap();
    let wire = transcript.clear_text();
    // SPEC smtp/2: every line ends in CRLF: no LF without its CR, no CR without its LF.
    assert_eq!(wire.matches('\n').count(), wire.matches("\r\n").count());
    assert_eq!(wire.matches('\r').count(), wire.matches("\r\n").count());
    let commands = transcript.commands();
    let size = commands[1].rsplit_once("SIZE=").unwrap().1.to_owned();
    assert_eq!(
        commands,
        [
            "EHLO localhost".to_owned(),
            format!("MAIL FROM:<a@example.com> SIZE={size}"),
            "RCPT TO:<b@example.com>".into(),
            "RCPT TO:<c@example.com>".into(),
            "DATA".into(),
            "QUIT".into(),
        ]
    );
    // SPEC smtp/2: dot-stuffing, on the message's own lines.
    let data = &transcript.data;
    let body_at = data.iter().position(String::is_empty).unwrap() + 1;
    assert_eq!(
        data[body_at..],
        [
            "Hello,",
            "..hidden line",
            "...two dots",
            "last line without newline"
        ]
    );
    let header = &data[..body_at];
    for field in [
        "From: a@example.com",
        "To: b@example.com, c@example.com",
        "Subject: Lab report",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 7bit",
    ] {
        assert!(
            header.iter().any(|line| line == field),
            "{field}: {header:?}"
        );
    }
    for name in ["Date: ", "Message-ID: <"] {
        assert!(
            header.iter().any(|line| line.starts_with(name)),
            "{name}: {header:?}"
        );
    }
}

#[test]
fn client_reads_replies_sent_one_byte_at_a_time() {
    let script = Script {
        one_byte_replies: true,
        ..Script::default()
    };
    let (port, served) = fake_server(script);
    client(port, &ADDRESSES, "body\n")
        .success()
        .stdout("")
        .stderr("");
    assert_eq!(served.join().unwrap().commands().last().unwrap(), "QUIT");
}

#[test]
fn client_refused_at_rcpt_quits_and_names_the_command_and_the_reply() {
    let script = Script {
        overrides: vec![("RCPT TO:<nobody@", "550 5.1.1 no such user\r\n")],
        ..Script::default()
    };
    let (port, served) = fake_server(script);
    let args = [
        "--from",
        "a@example.com",
        "--to",
        "nobody@example.com",
        "--subject",
        "s",
    ];
    client(port, &args, "body\n")
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(
            "RCPT TO:<nobody@example.com>: the server answered \"550 5.1.1 no such user\"",
        ));
    let commands = served.join().unwrap().commands();
    // SPEC smtp/5: no DATA after the refusal, and QUIT to end the dialogue.
    assert_eq!(commands.last().unwrap(), "QUIT");
    assert!(
        !commands.iter().any(|command| command == "DATA"),
        "{commands:?}"
    );
}

#[test]
fn client_told_4xx_at_the_end_of_the_message_quits_and_fails() {
    let script = Script {
        end_of_data: "451 4.3.0 try again later\r\n",
        ..Script::default()
    };
    let (port, served) = fake_server(script);
    client(port, &ADDRESSES, "body\n")
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(
            "end of data (.): the server answered \"451 4.3.0 try again later\"",
        ));
    assert_eq!(served.join().unwrap().commands().last().unwrap(), "QUIT");
}

#[test]
fn client_falls_back_to_helo_when_ehlo_is_unknown() {
    let script = Script {
        overrides: vec![("EHLO", "500 what is EHLO?\r\n")],
        ..Script::default()
    };
    let (port, served) = fake_server(script);
    client(port, &ADDRESSES, "body\n").success();
    let commands = served.join().unwrap().commands();
    assert_eq!(commands[..2], ["EHLO localhost", "HELO localhost"]);
    // No SIZE without EHLO: the server announced no extension.
    assert_eq!(commands[2], "MAIL FROM:<a@example.com>");
}

#[test]
fn client_attachments_are_base64_parts_that_decode_byte_exact() {
    let folder = tempfile::tempdir().unwrap();
    let binary: Vec<u8> = (0..=255u8).cycle().take(20_000).collect();
    let png = [0x89, b'P', b'N', b'G', 0, 1, 2, 3, 0xff];
    let binary_path = folder.path().join("data.bin");
    let png_path = folder.path().join("photo.png");
    std::fs::write(&binary_path, &binary).unwrap();
    std::fs::write(&png_path, png).unwrap();
    let (port, served) = fake_server(Script::default());
    let mut args = ADDRESSES.to_vec();
    args.extend(["--attach", binary_path.to_str().unwrap()]);
    args.extend(["--attach", png_path.to_str().unwrap()]);
    client(port, &args, "see attached\n").success().stdout("");
    let data = served.join().unwrap().data;
    // SPEC smtp/3: the text first, then each file, base64, named, decoding byte-exact.
    let text_at = data.iter().position(|line| line == "see attached").unwrap();
    for (name, content_type, content) in [
        ("data.bin", "application/octet-stream", &binary[..]),
        ("photo.png", "image/png", &png[..]),
    ] {
        let disposition = format!("Content-Disposition: attachment; filename=\"{name}\"");
        let at = data.iter().position(|line| *line == disposition).unwrap();
        assert!(text_at < at);
        let headers_end = at + data[at..].iter().position(String::is_empty).unwrap();
        let headers = &data[at.saturating_sub(3)..headers_end];
        let wanted = format!("Content-Type: {content_type}");
        assert!(headers.contains(&wanted), "{headers:?}");
        assert!(
            headers
                .iter()
                .any(|line| line == "Content-Transfer-Encoding: base64")
        );
        let encoded: String = data[headers_end + 1..]
            .iter()
            .take_while(|line| !line.starts_with("--"))
            .map(String::as_str)
            .collect();
        assert_eq!(BASE64.decode(encoded).unwrap(), content, "{name}");
    }
}

/// A listener nobody connects to: after the client ran, `accept` finds no connection.
fn untouched_listener() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

fn assert_never_connected(listener: &TcpListener) {
    let error = listener.accept().unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::WouldBlock);
}

#[test]
fn client_with_a_missing_attachment_fails_before_connecting() {
    let (listener, port) = untouched_listener();
    let mut args = ADDRESSES.to_vec();
    args.extend(["--attach", "/no/such/file.pdf"]);
    client(port, &args, "body\n")
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("cannot attach /no/such/file.pdf"));
    assert_never_connected(&listener);
}

#[test]
fn client_with_user_but_no_starttls_refuses_without_connecting() {
    let (listener, port) = untouched_listener();
    let mut args = ADDRESSES.to_vec();
    args.extend(["--user", "alice", "--password", "secret"]);
    client(port, &args, "body\n")
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("clear text"));
    assert_never_connected(&listener);
}

#[test]
fn client_without_server_fails_on_stderr() {
    let port = free_tcp_port();
    client(port, &ADDRESSES, "body\n")
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(format!(
            "cannot connect to 127.0.0.1:{port}"
        )));
}

/// A self-signed certificate for 127.0.0.1 and localhost: the server's TLS configuration
/// (ring provider, named) and the certificate in PEM, for the client's `--ca-file`.
fn tls_server_config() -> (Arc<ServerConfig>, String) {
    let names = vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
    let certified = rcgen::generate_simple_self_signed(names).unwrap();
    let key = PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der());
    let chain: Vec<CertificateDer<'static>> = vec![certified.cert.der().clone()];
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, PrivateKeyDer::Pkcs8(key))
        .unwrap();
    (Arc::new(config), certified.cert.pem())
}

#[test]
fn client_starttls_then_auth_plain_and_the_mail_only_inside_tls() {
    let (config, pem) = tls_server_config();
    let folder = tempfile::tempdir().unwrap();
    let ca_file = folder.path().join("ca.pem");
    std::fs::write(&ca_file, pem).unwrap();
    let script = Script {
        ehlo: "250-fake.example\r\n250-STARTTLS\r\n250 8BITMIME\r\n",
        tls: Some(config),
        ..Script::default()
    };
    let (port, served) = fake_server(script);
    let mut args = ADDRESSES.to_vec();
    args.extend(["--starttls", "--ca-file", ca_file.to_str().unwrap()]);
    args.extend(["--user", "alice", "--password", "s3cret"]);
    client(port, &args, "secret plans\n")
        .success()
        .stdout("")
        .stderr("");
    let transcript = served.join().unwrap();
    // SPEC smtp/4: in clear text, only EHLO and STARTTLS.
    assert_eq!(transcript.clear_text(), "EHLO localhost\r\nSTARTTLS\r\n");
    let secured = transcript.secured_text();
    let credentials = BASE64.encode("\0alice\0s3cret");
    assert!(
        secured.starts_with(&format!(
            "EHLO localhost\r\nAUTH PLAIN {credentials}\r\nMAIL FROM:"
        )),
        "{secured}"
    );
    assert!(
        secured.contains("\r\nsecret plans\r\n.\r\nQUIT\r\n"),
        "{secured}"
    );
}

#[test]
fn client_starttls_refuses_a_server_that_does_not_offer_it() {
    let (port, served) = fake_server(Script::default());
    let mut args = ADDRESSES.to_vec();
    args.push("--starttls");
    client(port, &args, "body\n")
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("does not offer STARTTLS"));
    let commands = served.join().unwrap().commands();
    assert_eq!(commands, ["EHLO localhost", "QUIT"]);
}

#[test]
fn client_starttls_rejects_a_certificate_it_does_not_trust() {
    let (config, _) = tls_server_config();
    let (_, other_pem) = tls_server_config();
    let folder = tempfile::tempdir().unwrap();
    let ca_file = folder.path().join("other.pem");
    std::fs::write(&ca_file, other_pem).unwrap();
    let script = Script {
        ehlo: "250-fake.example\r\n250 STARTTLS\r\n",
        tls: Some(config),
        ..Script::default()
    };
    let (port, served) = fake_server(script);
    let mut args = ADDRESSES.to_vec();
    args.extend(["--starttls", "--ca-file", ca_file.to_str().unwrap()]);
    client(port, &args, "body\n")
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("TLS handshake failed"));
    let transcript = served.join().unwrap();
    assert!(!transcript.secured_text().contains("MAIL"));
}

// ---------------------------------------------------------------------------------------
// smtp-server
// ---------------------------------------------------------------------------------------

/// The reference server, in-process, on a port of loopback picked by the kernel; returns
/// its port, the other end of its stdout, and its task (abort it to stop the server).
async fn start_server() -> (u16, DuplexStream, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stdout, printed) = tokio::io::duplex(1 << 20);
    let task = tokio::spawn(async move {
        let mut diagnostics = tokio::io::sink();
        serve(
            Tokio,
            listener,
            stdout,
            &mut diagnostics,
            std::future::pending::<()>(),
        )
        .await;
    });
    (port, printed, task)
}

/// Reads exactly `size` bytes of what the server printed, within [`LIMIT`].
async fn printed(output: &mut DuplexStream, size: usize) -> String {
    let mut bytes = vec![0u8; size];
    tokio::time::timeout(LIMIT, output.read_exact(&mut bytes))
        .await
        .expect("the server did not print in time")
        .unwrap();
    String::from_utf8(bytes).unwrap()
}

/// Sends `script` to the server at `port`, `piece` bytes per write, and returns every
/// reply until the server closes.
async fn talk(port: u16, script: &[u8], piece: usize) -> String {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    stream.set_nodelay(true).unwrap();
    let (mut from_server, mut to_server) = stream.split();
    let send = async {
        for chunk in script.chunks(piece) {
            to_server.write_all(chunk).await.unwrap();
        }
    };
    let mut replies = Vec::new();
    let receive = from_server.read_to_end(&mut replies);
    let ((), received) = tokio::time::timeout(LIMIT, async { tokio::join!(send, receive) })
        .await
        .expect("the dialogue did not end in time");
    received.unwrap();
    String::from_utf8(replies).unwrap()
}

/// The code of each reply (continuation lines skipped).
fn codes(replies: &str) -> Vec<&str> {
    replies
        .split("\r\n")
        .filter(|line| line.len() >= 4 && line.as_bytes()[3] == b' ')
        .map(|line| &line[..3])
        .collect()
}

const SESSION: &[u8] = b"EHLO client.example\r\nMAIL FROM:<a@example.com>\r\n\
    RCPT TO:<b@example.com>\r\nRCPT TO:<c@example.com>\r\nDATA\r\n\
    Subject: hi\r\n\r\n..hidden\r\nsecond line\r\n.\r\nQUIT\r\n";

const RECORD: &str = "MAIL FROM:<a@example.com>\nRCPT TO:<b@example.com>\n\
    RCPT TO:<c@example.com>\nDATA\nSubject: hi\n\n.hidden\nsecond line\n\n";

#[tokio::test]
async fn server_reassembles_commands_sent_one_byte_at_a_time() {
    let (port, mut output, server) = start_server().await;
    let replies = talk(port, SESSION, 1).await;
    assert_eq!(
        codes(&replies),
        ["220", "250", "250", "250", "250", "354", "250", "221"]
    );
    assert_eq!(printed(&mut output, RECORD.len()).await, RECORD);
    server.abort();
}

#[tokio::test]
async fn server_answers_pipelined_commands_in_order() {
    let (port, mut output, server) = start_server().await;
    // Everything in one write: several commands (and the message) in one read.
    let script = [
        &b"ehlo c\r\nNOOP\r\nVRFY bob\r\nEXPN staff\r\nBOGUS\r\nDATA\r\nMAIL FROM a@x\r\n"[..],
        b"MAIL FROM:<a@x>\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nRSET\r\n",
        b"MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n.dot\r\n.\r\nQUIT\r\n",
    ]
    .concat();
    let replies = talk(port, &script, script.len()).await;
    assert_eq!(
        codes(&replies),
        [
            "220", "250", "250", "252", "502", "500", "503", "501", "250", "503", "250", "250",
            "250", "250", "354", "250", "221"
        ],
        "{replies}"
    );
    let record = "MAIL FROM:<a@x>\nRCPT TO:<b@y>\nDATA\ndot\n\n";
    assert_eq!(printed(&mut output, record.len()).await, record);
    server.abort();
}

#[tokio::test]
async fn server_prints_concurrent_messages_whole() {
    let (port, mut output, server) = start_server().await;
    // The first client is in the middle of its message when the second sends a whole one.
    let mut first = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let start = b"EHLO first\r\nMAIL FROM:<first@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nline one\r\n";
    first.write_all(start).await.unwrap();
    let mut seen = Vec::new();
    let mut buffer = [0u8; 1024];
    // Until the 354: the server is reading the first client's message.
    while !String::from_utf8_lossy(&seen).contains("354") {
        let read = tokio::time::timeout(LIMIT, first.read(&mut buffer))
            .await
            .unwrap()
            .unwrap();
        assert!(read > 0, "the server closed");
        seen.extend_from_slice(&buffer[..read]);
    }
    talk(port, SESSION, SESSION.len()).await;
    assert_eq!(printed(&mut output, RECORD.len()).await, RECORD);
    first.write_all(b"line two\r\n.\r\nQUIT\r\n").await.unwrap();
    let record = "MAIL FROM:<first@x>\nRCPT TO:<b@y>\nDATA\nline one\nline two\n\n";
    assert_eq!(printed(&mut output, record.len()).await, record);
    server.abort();
}

#[tokio::test]
async fn server_survives_a_client_that_resets_mid_message() {
    let (port, mut output, server) = start_server().await;
    let mut vanishing = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    vanishing
        .write_all(b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nhalf a mess")
        .await
        .unwrap();
    // SO_LINGER 0: closing sends a reset instead of a FIN.
    vanishing.set_zero_linger().unwrap();
    drop(vanishing);
    let replies = talk(port, SESSION, SESSION.len()).await;
    assert_eq!(codes(&replies).last(), Some(&"221"));
    // Only the complete message is printed.
    assert_eq!(printed(&mut output, RECORD.len()).await, RECORD);
    server.abort();
}

/// The whole chain: the reference client sends through the reference server, which
/// prints the message dot-unstuffed, with LF line ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_and_server_deliver_a_message_end_to_end() {
    let (port, mut output, server) = start_server().await;
    let sent = tokio::task::spawn_blocking(move || {
        client(port, &ADDRESSES, "Hi Bob,\r\n.hidden\r\nGrüße\r\n")
            .success()
            .stdout("")
            .stderr("");
    });
    sent.await.unwrap();
    // The record ends with the message's last line and the empty line; the header's
    // Date and Message-ID vary, so its length is not known in advance.
    let tail = "\n\nHi Bob,\n.hidden\nGrüße\n\n";
    let mut record = Vec::new();
    let reading = async {
        while !record.ends_with(tail.as_bytes()) {
            let mut byte = [0u8; 1];
            output.read_exact(&mut byte).await.unwrap();
            record.push(byte[0]);
        }
    };
    let read = tokio::time::timeout(LIMIT, reading).await;
    let record = String::from_utf8(record).unwrap();
    assert!(read.is_ok(), "no whole record printed: {record}");
    assert!(
        record.starts_with(
            "MAIL FROM:<a@example.com>\nRCPT TO:<b@example.com>\nRCPT TO:<c@example.com>\nDATA\n"
        ),
        "{record}"
    );
    // The server announced 8BITMIME: the text went as it is, 8bit.
    assert!(
        record.contains("Content-Transfer-Encoding: 8bit\n"),
        "{record}"
    );
    server.abort();
}

/// The binary: the record on stdout and nothing else, exit 1 on a port in use.
#[test]
fn server_binary_prints_the_record_and_nothing_else() {
    let port = free_tcp_port();
    let child = Command::new(cargo_bin("smtp-server"))
        .arg(port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut server = Running(child);
    let mut stdout = server.0.stdout.take().unwrap();
    // Connecting until the server listens, bounded; the first connection is the session.
    let deadline = Instant::now() + STARTUP;
    let mut stream = loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(stream) => break stream,
            Err(_) => {
                assert!(Instant::now() < deadline, "the server never listened");
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    };
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    stream.write_all(SESSION).unwrap();
    let mut replies = String::new();
    stream.read_to_string(&mut replies).unwrap();
    assert_eq!(codes(&replies).last(), Some(&"221"));
    let mut record = vec![0u8; RECORD.len()];
    stdout.read_exact(&mut record).unwrap();
    assert_eq!(String::from_utf8(record).unwrap(), RECORD);
    // Nothing else: stopping the server closes its stdout with nothing more in it.
    server.0.kill().unwrap();
    let mut rest = Vec::new();
    stdout.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, b"");
}

#[test]
fn server_on_a_port_in_use_fails_on_stderr() {
    let held = TcpListener::bind("0.0.0.0:0").unwrap();
    let port = held.local_addr().unwrap().port();
    assert_cmd::Command::cargo_bin("smtp-server")
        .unwrap()
        .arg(port.to_string())
        .timeout(LIMIT)
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(format!("cannot bind port {port}")));
}
