//! `imap-read` and `pop3-fetch` against a mail server nobody here wrote: Dovecot 2.3, from
//! Debian's packages, started in the foreground on free loopback ports with a throw-away
//! configuration and a test CA, and stopped by its process group (SPEC `read/1`–`read/4`).
//!
//! Dovecot counts loopback as secure and takes a password in clear there (INTEROP.md), so
//! it cannot tell whether a client sent its password in clear: a small recording relay of
//! the test's own stands between the client and Dovecot and keeps every byte the client
//! sent. The same relay, told to, hides STARTTLS/STLS from the client: Dovecot then stands
//! for a lab server in clear, and every command the client sent can be read.

use crate::common;

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

use common::{free_port, wait_until_listening};

const USER: &str = "alice";
/// A password whose bytes appear nowhere else in a session.
const PASSWORD: &str = "dove-s3cret-42";
/// A user whose mailbox stays empty.
const EMPTY_USER: &str = "bob";
/// Users (with empty mailboxes) whose passwords need care on a command line: quotes, a
/// backslash and spaces (an IMAP quoted string with escapes), and non-ASCII letters too
/// (an IMAP literal).
const TRICKY_LOGINS: [(&str, &str); 2] = [("carol", "q\"u\\o te"), ("dave", "pä ss\"\\wörd")];
const DOVECOT: &str = "/usr/sbin/dovecot";
/// The longest a program under test may run: its own deadlines are 30 s per answer.
const PROGRAM_LIMIT: Duration = Duration::from_secs(90);

/// `\n` to CRLF.
fn crlf(text: &str) -> Vec<u8> {
    text.replace('\n', "\r\n").into_bytes()
}

/// Base64 in lines of 76 characters, each ending in `\n`.
fn base64_lines(bytes: &[u8]) -> String {
    let encoded = BASE64.encode(bytes);
    encoded
        .as_bytes()
        .chunks(76)
        .map(|chunk| format!("{}\n", std::str::from_utf8(chunk).unwrap()))
        .collect()
}

/// The mailbox, in order: plain text with lines starting with `.`, a multipart with a text
/// part and an attachment, quoted-printable UTF-8, base64 UTF-8, encoded words in the
/// subject and the sender's name, and a message with no text part.
fn messages() -> Vec<Vec<u8>> {
    let plain = "From: bob@example.com
To: alice@example.com
Date: Mon, 03 Mar 2025 09:15:00 +0000
Subject: Lunch on Friday
Message-ID: <1.lunch@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Hi Alice,

Are we still on for lunch on Friday?
.A line that starts with a dot.
..And one that starts with two.
.
Bob
";
    let attachment: Vec<u8> = (0..300u32).map(|index| (index * 7 % 256) as u8).collect();
    let multipart = format!(
        "From: Carol Jones <carol@example.com>
To: alice@example.com
Date: Tue, 04 Mar 2025 14:30:00 +0100
Subject: Minutes of the meeting
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=\"=-lab-boundary-1\"

This is a multi-part message in MIME format.

--=-lab-boundary-1
Content-Type: application/octet-stream; name=\"minutes.bin\"
Content-Disposition: attachment; filename=\"minutes.bin\"
Content-Transfer-Encoding: base64

{}--=-lab-boundary-1
Content-Type: text/plain; charset=us-ascii
Content-Transfer-Encoding: 7bit

Hello Alice,

The minutes are attached.

Carol
--=-lab-boundary-1--
",
        base64_lines(&attachment)
    );
    let quoted_printable = "From: Dave Smith <dave@example.org>
To: alice@example.com, Bob <bob@example.com>
Date: Wed, 05 Mar 2025 08:00:00 +0000
Subject: Menu of the week
MIME-Version: 1.0
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Caf=E9 au lait, cr=E8me br=FBl=E9e, and a line long enough to be =
broken by a soft line break.
Price: 5 =3D five euros.
";
    let base64_body = format!(
        "From: Eve <eve@example.net>
To: alice@example.com
Date: Thu, 06 Mar 2025 18:45:00 +0100
Subject: Greetings from Zurich
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

{}",
        base64_lines("Grüezi Alice!\r\nThe lake is frozen; the fondue is not.\r\n".as_bytes())
    );
    let encoded = format!(
        "From: =?UTF-8?B?{}?= <doerte@example.de>
To: alice@example.com
Date: Fri, 07 Mar 2025 07:30:00 +0100
Subject: =?UTF-8?B?{}?=
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Liebe Alice, bis bald!
",
        BASE64.encode("Dörte Müller"),
        BASE64.encode("Grüße aus Köln ☕")
    );
    let image: Vec<u8> = b"\x89PNG\r\n\x1a\n"
        .iter()
        .copied()
        .chain(0..64u8)
        .collect();
    let no_text = format!(
        "From: Frank <frank@example.com>
To: alice@example.com
Date: Sat, 08 Mar 2025 10:00:00 +0000
Subject: The photo
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=\"=-lab-boundary-2\"

--=-lab-boundary-2
Content-Type: image/png; name=\"photo.png\"
Content-Disposition: attachment; filename=\"photo.png\"
Content-Transfer-Encoding: base64

{}--=-lab-boundary-2--
",
        base64_lines(&image)
    );
    [
        plain.to_owned(),
        multipart,
        quoted_printable.to_owned(),
        base64_body,
        encoded,
        no_text,
    ]
    .iter()
    .map(|text| crlf(text))
    .collect()
}

/// `--list` of the mailbox.
const LIST: &str = "1\tbob@example.com\tLunch on Friday
2\tCarol Jones <carol@example.com>\tMinutes of the meeting
3\tDave Smith <dave@example.org>\tMenu of the week
4\tEve <eve@example.net>\tGreetings from Zurich
5\tDörte Müller <doerte@example.de>\tGrüße aus Köln ☕
6\tFrank <frank@example.com>\tThe photo
";

/// The order `--show` is asked in: not the mailbox's.
const SHOW_ORDER: &str = "5,1,6,2,3,4";

/// `--show 5,1,6,2,3,4`.
const SHOW: &str = "From: Dörte Müller <doerte@example.de>
To: alice@example.com
Date: Fri, 07 Mar 2025 07:30:00 +0100
Subject: Grüße aus Köln ☕

Liebe Alice, bis bald!

From: bob@example.com
To: alice@example.com
Date: Mon, 03 Mar 2025 09:15:00 +0000
Subject: Lunch on Friday

Hi Alice,

Are we still on for lunch on Friday?
.A line that starts with a dot.
..And one that starts with two.
.
Bob

From: Frank <frank@example.com>
To: alice@example.com
Date: Sat, 08 Mar 2025 10:00:00 +0000
Subject: The photo

(this message has no text part)

From: Carol Jones <carol@example.com>
To: alice@example.com
Date: Tue, 04 Mar 2025 14:30:00 +0100
Subject: Minutes of the meeting

Hello Alice,

The minutes are attached.

Carol

From: Dave Smith <dave@example.org>
To: alice@example.com, Bob <bob@example.com>
Date: Wed, 05 Mar 2025 08:00:00 +0000
Subject: Menu of the week

Café au lait, crème brûlée, and a line long enough to be broken by a soft line break.
Price: 5 = five euros.

From: Eve <eve@example.net>
To: alice@example.com
Date: Thu, 06 Mar 2025 18:45:00 +0100
Subject: Greetings from Zurich

Grüezi Alice!
The lake is frozen; the fondue is not.
";

/// The four ports Dovecot listens on.
#[derive(Clone, Copy)]
struct Ports {
    imap: u16,
    imaps: u16,
    pop3: u16,
    pop3s: u16,
}

/// A test CA, and a server certificate it signed for `localhost` only: the name the
/// clients are given is `localhost`, and `127.0.0.1` is "another name".
fn make_certificates(folder: &Path) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "mail_read test CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().unwrap();
    let server_params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    let server_cert = server_params.signed_by(&server_key, &issuer).unwrap();
    std::fs::write(folder.join("ca.pem"), ca_cert.pem()).unwrap();
    std::fs::write(folder.join("cert.pem"), server_cert.pem()).unwrap();
    std::fs::write(folder.join("key.pem"), server_key.serialize_pem()).unwrap();
}

/// Dovecot in the foreground, in its own process group; stopped (the whole group, and
/// waited for) when dropped, however the test ends.
struct Dovecot {
    folder: tempfile::TempDir,
    child: Child,
    ports: Ports,
}

impl Dovecot {
    fn start() -> Dovecot {
        assert!(
            Path::new(DOVECOT).exists(),
            "{DOVECOT} is missing: install dovecot-imapd and dovecot-pop3d (.ci/test does)"
        );
        let folder = tempfile::tempdir().unwrap();
        let root = folder.path();
        // Dovecot's processes run as other users (dovenull, nobody): they must get in.
        set_mode(root, 0o755);
        make_certificates(root);
        std::fs::create_dir(root.join("mail")).unwrap();
        set_mode(&root.join("mail"), 0o777);
        let mut passwd = format!("{USER}:{{PLAIN}}{PASSWORD}\n{EMPTY_USER}:{{PLAIN}}{PASSWORD}\n");
        for (user, password) in TRICKY_LOGINS {
            passwd.push_str(&format!("{user}:{{PLAIN}}{password}\n"));
        }
        std::fs::write(root.join("passwd"), passwd).unwrap();
        let ports = Ports {
            imap: free_port(),
            imaps: free_port(),
            pop3: free_port(),
            pop3s: free_port(),
        };
        let dir = root.display();
        let config = format!(
            "base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
ssl = yes
ssl_cert = <{dir}/cert.pem
ssl_key = <{dir}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {dir}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={dir}/mail/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = {pop3s}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
",
            imap = ports.imap,
            imaps = ports.imaps,
            pop3 = ports.pop3,
            pop3s = ports.pop3s,
        );
        let path = root.join("dovecot.conf");
        std::fs::write(&path, config).unwrap();
        let child = Command::new(DOVECOT)
            .arg("-F")
            .arg("-c")
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            // Its own process group: stopping it stops every process it started.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {DOVECOT}: {error}"));
        let dovecot = Dovecot {
            folder,
            child,
            ports,
        };
        for port in [ports.imap, ports.imaps, ports.pop3, ports.pop3s] {
            wait_until_listening(port);
        }
        dovecot
    }

    /// Dovecot's log so far.
    fn log(&self) -> String {
        std::fs::read_to_string(self.folder.path().join("dovecot.log")).unwrap_or_default()
    }

    /// The test CA's certificate, for the clients' `SSL_CERT_FILE`.
    fn ca_file(&self) -> PathBuf {
        self.folder.path().join("ca.pem")
    }

    /// Fills alice's INBOX with [`messages`], by IMAP APPEND.
    fn fill(&self) {
        let mut imap = ImapHelper::connect(self.ports.imap);
        for message in messages() {
            imap.append(&message);
        }
        imap.command("LOGOUT");
    }

    /// Each message's flags, read with EXAMINE (read-only) and `FETCH 1:* (FLAGS)`.
    fn flags(&self) -> Vec<String> {
        let mut imap = ImapHelper::connect(self.ports.imap);
        imap.command("EXAMINE INBOX");
        let lines = imap.command("FETCH 1:* (FLAGS)");
        imap.command("LOGOUT");
        lines
            .into_iter()
            .filter(|line| line.starts_with("* ") && line.contains(" FETCH "))
            .collect()
    }

    /// The number of messages POP3's STAT gives.
    fn pop3_count(&self) -> u32 {
        let stream = TcpStream::connect(("127.0.0.1", self.ports.pop3)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut writer = stream.try_clone().unwrap();
        let mut reader = BufReader::new(stream);
        let mut answer = |command: &str| {
            if !command.is_empty() {
                writer
                    .write_all(format!("{command}\r\n").as_bytes())
                    .unwrap();
            }
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            assert!(line.starts_with("+OK"), "{command}: {line}");
            line
        };
        answer("");
        answer(&format!("USER {USER}"));
        answer(&format!("PASS {PASSWORD}"));
        let stat = answer("STAT");
        answer("QUIT");
        stat.split_whitespace().nth(1).unwrap().parse().unwrap()
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let group = self.child.id() as libc::pid_t;
        // SAFETY: kill() with a process group id only sends a signal.
        unsafe { libc::kill(-group, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        // Whatever is left of the group (the master if it did not stop, a child that
        // outlived it) is killed, and the test waits until none is left.
        // SAFETY: as above.
        unsafe { libc::kill(-group, libc::SIGKILL) };
        let _ = self.child.wait();
        let deadline = Instant::now() + Duration::from_secs(10);
        // SAFETY: signal 0 sends nothing: it asks whether the group still has a process.
        while unsafe { libc::kill(-group, 0) } == 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The test's own IMAP client, to fill the mailbox and read flags (in clear, on loopback).
struct ImapHelper {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    tag: u32,
}

impl ImapHelper {
    fn connect(port: u16) -> ImapHelper {
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let writer = stream.try_clone().unwrap();
        let mut helper = ImapHelper {
            reader: BufReader::new(stream),
            writer,
            tag: 0,
        };
        let greeting = helper.line();
        assert!(greeting.starts_with("* OK"), "{greeting}");
        helper.command(&format!("LOGIN {USER} \"{PASSWORD}\""));
        helper
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        assert!(line.ends_with('\n'), "Dovecot closed: {line:?}");
        line.trim_end().to_owned()
    }

    /// Sends a command; returns its responses up to the tagged OK.
    fn command(&mut self, text: &str) -> Vec<String> {
        self.tag += 1;
        let tag = format!("t{}", self.tag);
        self.writer
            .write_all(format!("{tag} {text}\r\n").as_bytes())
            .unwrap();
        self.until(&tag)
    }

    fn until(&mut self, tag: &str) -> Vec<String> {
        let mut lines = Vec::new();
        for _ in 0..10_000 {
            let line = self.line();
            if let Some(status) = line.strip_prefix(&format!("{tag} ")) {
                assert!(status.starts_with("OK"), "{tag}: {line}");
                return lines;
            }
            lines.push(line);
        }
        panic!("no end to {tag}");
    }

    /// `APPEND INBOX {n}`, the `+`, the message.
    fn append(&mut self, message: &[u8]) {
        self.tag += 1;
        let tag = format!("t{}", self.tag);
        self.writer
            .write_all(format!("{tag} APPEND INBOX {{{}}}\r\n", message.len()).as_bytes())
            .unwrap();
        let go_ahead = self.line();
        assert!(go_ahead.starts_with('+'), "{go_ahead}");
        self.writer.write_all(message).unwrap();
        self.writer.write_all(b"\r\n").unwrap();
        self.until(&tag);
    }
}

/// A TCP relay in front of one of Dovecot's ports that records, per connection, every
/// byte the client sent. With `hide_tls` it also takes STARTTLS out of IMAP capability
/// lists and the `STLS` line out of POP3's CAPA answer: the client then sees a server in
/// clear.
struct Relay {
    port: u16,
    records: mpsc::Receiver<Vec<u8>>,
}

impl Relay {
    fn start(upstream: u16, hide_tls: bool) -> Relay {
        // Bound by the relay and kept: no other test can be given this port meanwhile.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (sender, records) = mpsc::channel();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let server = TcpStream::connect(("127.0.0.1", upstream)).unwrap();
                let sender = sender.clone();
                let (client_in, server_out) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                // Client to server, recorded; the record is sent once the client is done.
                std::thread::spawn(move || {
                    let mut record = Vec::new();
                    let mut reader = client_in;
                    let mut writer = server_out;
                    let mut buffer = [0u8; 4096];
                    loop {
                        match std::io::Read::read(&mut reader, &mut buffer) {
                            Ok(0) | Err(_) => break,
                            Ok(count) => {
                                record.extend_from_slice(&buffer[..count]);
                                if writer.write_all(&buffer[..count]).is_err() {
                                    break;
                                }
                            }
                        }
                    }
                    let _ = writer.shutdown(Shutdown::Write);
                    let _ = sender.send(record);
                });
                // Server to client: as it comes, or with `hide_tls` line by line (a TLS
                // record has no line ends, but with `hide_tls` no TLS ever starts).
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(server);
                    let mut writer = client;
                    let mut line = Vec::new();
                    loop {
                        line.clear();
                        let read = if hide_tls {
                            reader.read_until(b'\n', &mut line)
                        } else {
                            let chunk = reader.fill_buf().map(<[u8]>::to_vec);
                            chunk.map(|chunk| {
                                reader.consume(chunk.len());
                                line = chunk;
                                line.len()
                            })
                        };
                        match read {
                            Ok(0) | Err(_) => break,
                            Ok(_) => {}
                        }
                        if hide_tls {
                            if line == b"STLS\r\n" {
                                continue;
                            }
                            let text = String::from_utf8_lossy(&line);
                            if text.starts_with("* ") && text.contains(" STARTTLS") {
                                line = text.replace(" STARTTLS", "").into_bytes();
                            }
                        }
                        if writer.write_all(&line).is_err() {
                            break;
                        }
                    }
                    let _ = writer.shutdown(Shutdown::Write);
                });
            }
        });
        Relay { port, records }
    }

    /// What the client of the next finished connection sent.
    fn record(&self) -> Vec<u8> {
        self.records
            .recv_timeout(Duration::from_secs(20))
            .expect("the relayed connection never ended")
    }
}

/// Runs `program` with `args` and `SSL_CERT_FILE` = the test CA: (status, stdout,
/// stderr). Bounded: a program still running after [`PROGRAM_LIMIT`] fails the test.
fn run(program: &str, args: &[String], ca_file: &Path) -> (i32, String, String) {
    let child = Command::new(cargo_bin(program))
        .args(args)
        .env("SSL_CERT_FILE", ca_file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(child.wait_with_output());
    });
    let Ok(output) = receiver.recv_timeout(PROGRAM_LIMIT) else {
        // SAFETY: kill() only sends a signal, to the program this test started.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        panic!("{program} {args:?} ran for more than {PROGRAM_LIMIT:?}");
    };
    let output = output.unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The arguments: `--server HOST:PORT --user U --password P` and `rest`.
fn args(host: &str, port: u16, user: &str, password: &str, rest: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "--server".into(),
        format!("{host}:{port}"),
        "--user".into(),
        user.into(),
        "--password".into(),
        password.into(),
    ];
    args.extend(rest.iter().map(|arg| arg.to_string()));
    args
}

/// The lines the client sent, as text (in clear only: what the relay could read).
fn sent_lines(record: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(record)
        .split("\r\n")
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Every form in which a password could cross: as typed, and in base64 (AUTH PLAIN's
/// `\0user\0password`, AUTH LOGIN's password alone).
fn password_forms() -> Vec<Vec<u8>> {
    vec![
        PASSWORD.as_bytes().to_vec(),
        BASE64.encode(PASSWORD).into_bytes(),
        BASE64.encode(format!("\0{USER}\0{PASSWORD}")).into_bytes(),
    ]
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// Asserts the password crossed in no form, anywhere in `record`.
fn assert_no_password(record: &[u8], what: &str) {
    for form in password_forms() {
        assert!(
            !contains(record, &form),
            "{what}: the client sent {:?}: {:?}",
            String::from_utf8_lossy(&form),
            String::from_utf8_lossy(record)
        );
    }
}

/// The client's bytes up to and including the line `command` (STARTTLS's), and after it.
fn split_at_line<'r>(record: &'r [u8], command: &str) -> (&'r [u8], &'r [u8]) {
    let needle = format!("{command}\r\n");
    let at = record
        .windows(needle.len())
        .position(|window| window == needle.as_bytes())
        .unwrap_or_else(|| {
            panic!(
                "the client never sent {command}: {:?}",
                String::from_utf8_lossy(record)
            )
        });
    record.split_at(at + needle.len())
}

#[test]
fn imap_read_lists_and_shows_the_mailbox_decoded_and_changes_nothing() {
    let dovecot = Dovecot::start();
    dovecot.fill();
    let ca = dovecot.ca_file();
    // In clear through the relay (STARTTLS hidden: a lab server), so every command can be
    // read.
    let relay = Relay::start(dovecot.ports.imap, true);
    let list = args("localhost", relay.port, USER, PASSWORD, &["--list"]);
    let (status, stdout, stderr) = run("imap-read", &list, &ca);
    assert_eq!((status, stdout.as_str()), (0, LIST), "stderr: {stderr}");
    let listed = sent_lines(&relay.record());
    let show = args(
        "localhost",
        relay.port,
        USER,
        PASSWORD,
        &["--show", SHOW_ORDER],
    );
    let (status, stdout, stderr) = run("imap-read", &show, &ca);
    assert_eq!(status, 0, "stderr: {stderr}");
    assert_eq!(stdout, SHOW);
    assert!(stderr.is_empty(), "{stderr}");
    let shown = sent_lines(&relay.record());
    // SPEC read/3: EXAMINE (read-only), BODY.PEEK, LOGOUT; nothing that changes flags.
    let verbs = |lines: &[String]| -> Vec<String> {
        lines
            .iter()
            .filter_map(|line| line.split(' ').nth(1).map(str::to_owned))
            .collect()
    };
    assert_eq!(
        verbs(&listed),
        ["LOGIN", "EXAMINE", "FETCH", "LOGOUT"],
        "{listed:?}"
    );
    assert_eq!(
        verbs(&shown),
        ["LOGIN", "EXAMINE", "FETCH", "LOGOUT"],
        "{shown:?}"
    );
    assert!(listed[2].ends_with(" FETCH 1:6 (BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])"));
    assert!(shown[2].ends_with(" FETCH 1:6 (BODY.PEEK[])"), "{shown:?}");
    let flags = dovecot.flags();
    assert_eq!(flags.len(), 6, "{flags:?}");
    assert!(
        flags.iter().all(|line| !line.contains("\\Seen")),
        "a message was marked seen: {flags:?}"
    );
    // An empty mailbox lists nothing (straight to Dovecot: STARTTLS, the test CA).
    let empty = args(
        "localhost",
        dovecot.ports.imap,
        EMPTY_USER,
        PASSWORD,
        &["--list"],
    );
    let (status, stdout, stderr) = run("imap-read", &empty, &ca);
    assert_eq!((status, stdout.as_str()), (0, ""), "stderr: {stderr}");
}

#[test]
fn pop3_fetch_lists_and_shows_the_mailbox_decoded_and_deletes_nothing() {
    let dovecot = Dovecot::start();
    dovecot.fill();
    let ca = dovecot.ca_file();
    let relay = Relay::start(dovecot.ports.pop3, true);
    let list = args("localhost", relay.port, USER, PASSWORD, &["--list"]);
    let (status, stdout, stderr) = run("pop3-fetch", &list, &ca);
    assert_eq!((status, stdout.as_str()), (0, LIST), "stderr: {stderr}");
    let listed = sent_lines(&relay.record());
    let show = args(
        "localhost",
        relay.port,
        USER,
        PASSWORD,
        &["--show", SHOW_ORDER],
    );
    let (status, stdout, stderr) = run("pop3-fetch", &show, &ca);
    assert_eq!(status, 0, "stderr: {stderr}");
    assert_eq!(stdout, SHOW);
    let shown = sent_lines(&relay.record());
    let user = format!("USER {USER}");
    let pass = format!("PASS {PASSWORD}");
    let mut expected = vec!["CAPA", &user, &pass, "STAT"];
    let tops: Vec<String> = (1..=6).map(|n| format!("TOP {n} 0")).collect();
    expected.extend(tops.iter().map(String::as_str));
    expected.push("QUIT");
    assert_eq!(listed, expected);
    let retrs: Vec<String> = (1..=6).map(|n| format!("RETR {n}")).collect();
    let mut expected = vec!["CAPA", &user, &pass, "STAT"];
    expected.extend(retrs.iter().map(String::as_str));
    expected.push("QUIT");
    // SPEC read/3: no DELE, and QUIT at the end.
    assert_eq!(shown, expected);
    assert_eq!(dovecot.pop3_count(), 6);
    let empty = args(
        "localhost",
        dovecot.ports.pop3,
        EMPTY_USER,
        PASSWORD,
        &["--list"],
    );
    let (status, stdout, stderr) = run("pop3-fetch", &empty, &ca);
    assert_eq!((status, stdout.as_str()), (0, ""), "stderr: {stderr}");
}

#[test]
fn a_message_number_that_does_not_exist_fails_before_anything_is_printed() {
    let dovecot = Dovecot::start();
    dovecot.fill();
    let ca = dovecot.ca_file();
    for (program, port) in [
        ("imap-read", dovecot.ports.imap),
        ("pop3-fetch", dovecot.ports.pop3),
    ] {
        let wanted = args("localhost", port, USER, PASSWORD, &["--show", "1,7"]);
        let (status, stdout, stderr) = run(program, &wanted, &ca);
        assert_eq!((status, stdout.as_str()), (1, ""), "{program}: {stderr}");
        assert!(stderr.contains("no message 7"), "{program}: {stderr}");
        let empty = args("localhost", port, EMPTY_USER, PASSWORD, &["--show", "1"]);
        let (status, stdout, stderr) = run(program, &empty, &ca);
        assert_eq!((status, stdout.as_str()), (1, ""), "{program}: {stderr}");
        assert!(
            stderr.contains("the mailbox is empty"),
            "{program}: {stderr}"
        );
    }
}

/// A wrong password, a refused connection and bad arguments, for `program` against the
/// port `port_of` picks. One Dovecot per program: Dovecot delays a second failed login
/// from the same address by seconds (its anvil's penalty), even on loopback.
fn failures_on_stderr(program: &str, port_of: fn(&Ports) -> u16, refusal: &str) {
    let dovecot = Dovecot::start();
    let ca = dovecot.ca_file();
    let port = port_of(&dovecot.ports);
    let wrong = args("localhost", port, USER, "not-the-password", &["--list"]);
    let (status, stdout, stderr) = run(program, &wrong, &ca);
    assert_eq!((status, stdout.as_str()), (1, ""), "{program}: {stderr}");
    assert!(stderr.contains(refusal), "{program}: {stderr}");
    let nobody = free_port();
    let refused = args("127.0.0.1", nobody, USER, PASSWORD, &["--list"]);
    let (status, stdout, stderr) = run(program, &refused, &ca);
    assert_eq!((status, stdout.as_str()), (1, ""), "{program}: {stderr}");
    assert!(stderr.contains("cannot connect"), "{program}: {stderr}");
    // Neither --list nor --show, both, or not a number: usage errors (status 2).
    for rest in [
        &[][..],
        &["--list", "--show", "1"][..],
        &["--show", "x"][..],
    ] {
        let bad = args("localhost", port, USER, PASSWORD, rest);
        let (status, stdout, _) = run(program, &bad, &ca);
        assert_eq!((status, stdout.as_str()), (2, ""), "{program} {rest:?}");
    }
}

#[test]
fn imap_read_fails_on_stderr_for_a_wrong_password_a_refused_connection_or_bad_arguments() {
    failures_on_stderr("imap-read", |ports| ports.imap, "NO [AUTHENTICATIONFAILED]");
}

#[test]
fn pop3_fetch_fails_on_stderr_for_a_wrong_password_a_refused_connection_or_bad_arguments() {
    failures_on_stderr("pop3-fetch", |ports| ports.pop3, "-ERR [AUTH]");
}

#[test]
fn passwords_with_quotes_spaces_and_non_ascii_letters_log_in() {
    let dovecot = Dovecot::start();
    let ca = dovecot.ca_file();
    for (program, port) in [
        ("imap-read", dovecot.ports.imap),
        ("pop3-fetch", dovecot.ports.pop3),
    ] {
        for (user, password) in TRICKY_LOGINS {
            let list = args("localhost", port, user, password, &["--list"]);
            let (status, stdout, stderr) = run(program, &list, &ca);
            assert_eq!(
                (status, stdout.as_str()),
                (0, ""),
                "{program} {user}: {stderr}"
            );
        }
    }
}

#[test]
fn tls_from_the_first_byte_on_the_imaps_and_pop3s_ports() {
    let dovecot = Dovecot::start();
    dovecot.fill();
    let ca = dovecot.ca_file();
    for (program, port) in [
        ("imap-read", dovecot.ports.imaps),
        ("pop3-fetch", dovecot.ports.pop3s),
    ] {
        let list = args("localhost", port, USER, PASSWORD, &["--tls", "--list"]);
        let (status, stdout, stderr) = run(program, &list, &ca);
        assert_eq!((status, stdout.as_str()), (0, LIST), "{program}: {stderr}");
    }
    // Dovecot saw both logins over TLS (the filling one was in clear: "secured").
    let tls_logins = |log: &str| {
        log.lines()
            .filter(|line| line.contains("Login: user=<alice>") && line.contains(", TLS,"))
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while tls_logins(&dovecot.log()) < 2 {
        assert!(Instant::now() < deadline, "{}", dovecot.log());
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn starttls_and_stls_come_before_the_password_when_offered() {
    let dovecot = Dovecot::start();
    dovecot.fill();
    let ca = dovecot.ca_file();
    for (program, port, command) in [
        ("imap-read", dovecot.ports.imap, "a1 STARTTLS"),
        ("pop3-fetch", dovecot.ports.pop3, "STLS"),
    ] {
        let relay = Relay::start(port, false);
        let list = args("localhost", relay.port, USER, PASSWORD, &["--list"]);
        let (status, stdout, stderr) = run(program, &list, &ca);
        assert_eq!((status, stdout.as_str()), (0, LIST), "{program}: {stderr}");
        let record = relay.record();
        let (clear, after) = split_at_line(&record, command);
        assert_no_password(&record, program);
        assert!(
            !contains(clear, b"LOGIN") && !contains(clear, b"USER"),
            "{program}"
        );
        // What follows the command is a TLS handshake record (type 22), not a command.
        assert_eq!(
            after.first(),
            Some(&0x16),
            "{program}: not TLS after {command}"
        );
    }
}

#[test]
fn a_certificate_for_another_name_is_refused_before_the_password_is_sent() {
    let dovecot = Dovecot::start();
    let ca = dovecot.ca_file();
    // The certificate names `localhost`; the clients are told `127.0.0.1`.
    let mut connections = 0;
    for (program, tls_port, clear_port, command) in [
        (
            "imap-read",
            dovecot.ports.imaps,
            dovecot.ports.imap,
            "a1 STARTTLS",
        ),
        (
            "pop3-fetch",
            dovecot.ports.pop3s,
            dovecot.ports.pop3,
            "STLS",
        ),
    ] {
        let implicit = Relay::start(tls_port, false);
        let starttls = Relay::start(clear_port, false);
        for (port, rest) in [
            (implicit.port, &["--tls", "--list"][..]),
            (starttls.port, &["--list"][..]),
        ] {
            let wanted = args("127.0.0.1", port, USER, PASSWORD, rest);
            let (status, stdout, stderr) = run(program, &wanted, &ca);
            assert_eq!(
                (status, stdout.as_str()),
                (1, ""),
                "{program} {rest:?}: {stderr}"
            );
            assert!(
                stderr.contains("certificate"),
                "{program} {rest:?}: {stderr}"
            );
            connections += 1;
        }
        let record = implicit.record();
        assert_eq!(
            record.first(),
            Some(&0x16),
            "{program}: --tls starts with a handshake"
        );
        assert_no_password(&record, program);
        let record = starttls.record();
        let (clear, _) = split_at_line(&record, command);
        assert_no_password(&record, program);
        assert!(
            !contains(clear, b"LOGIN") && !contains(clear, b"USER"),
            "{program}"
        );
    }
    // Dovecot saw no login, nor an attempt: each connection ended without one.
    let deadline = Instant::now() + Duration::from_secs(10);
    while dovecot.log().matches("no auth attempts").count() < connections {
        assert!(Instant::now() < deadline, "{}", dovecot.log());
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!dovecot.log().contains("user=<alice>"), "{}", dovecot.log());
}
