//! `mail-archive` against SMTP servers nobody here wrote, each started in the foreground by
//! its test on a loopback port with STARTTLS (a throw-away certificate) and AUTH after TLS
//! only, and stopped by its pid:
//! - [`aiosmtpd`]: Debian's `python3-aiosmtpd`, a server that keeps each message as sent;
//! - [`exim`]: Exim 4 (Debian's `exim4-daemon-light`), a mail transfer agent as a school's
//!   mail host runs one, with its own size limit, relay rules and delivery to a maildir.
//!
//! What arrived is read back with Python's `email` and `zipfile`, also written elsewhere:
//! the attachment must unzip to exactly the folder, with the headers as given (SPEC
//! archive/1–3).

mod aiosmtpd;
mod exim;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin;

use crate::common::Running;

/// Debian's Python, which has `python3-aiosmtpd` (a version manager's `python3` first
/// on PATH may not).
const PYTHON: &str = "/usr/bin/python3";

/// The one account of every server here.
const USER: &str = "alice";
const PASSWORD: &str = "s3cret";

/// Reads a delivered message and compares its zip attachment with FOLDER: prints the
/// headers, the text, the attachment's name and content type, then `same` or what differs.
const CHECK: &str = r#"
import email, email.policy, io, os, sys, zipfile
eml, folder = sys.argv[1:3]
message = email.message_from_binary_file(open(eml, "rb"), policy=email.policy.default)
print("from:", message["From"])
print("to:", message["To"])
print("subject:", message["Subject"])
print("text:", message.get_body(preferencelist=("plain",)).get_content().strip())
parts = list(message.iter_attachments())
print("attachments:", [(p.get_filename(), p.get_content_type()) for p in parts])
print("encoding:", parts[0]["Content-Transfer-Encoding"])
archive = zipfile.ZipFile(io.BytesIO(parts[0].get_content()))
name = os.path.basename(folder.rstrip("/"))
stored = {}
for info in archive.infolist():
    if not info.is_dir():
        assert info.filename.startswith(name + "/"), info.filename
        stored[info.filename[len(name) + 1:]] = archive.read(info)
present = {}
for top, folders, files in os.walk(folder):
    for file in files:
        path = os.path.join(top, file)
        present[os.path.relpath(path, folder)] = open(path, "rb").read()
print("same" if stored == present else f"differ: {sorted(stored)} vs {sorted(present)}")
"#;

/// A server under test: where it listens, the certificate to trust, the folder its
/// messages land in (one file each), and its process, killed when dropped.
struct SmtpServer {
    port: u16,
    ca_file: PathBuf,
    mailbox: PathBuf,
    _folder: tempfile::TempDir,
    _process: Running,
}

impl SmtpServer {
    /// The messages delivered so far: the files under the mailbox, but for a maildir's
    /// `tmp/` (a message still being written).
    fn delivered(&self) -> Vec<PathBuf> {
        fn walk(folder: &Path, files: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(folder).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    if path.file_name() != Some("tmp".as_ref()) {
                        walk(&path, files);
                    }
                } else {
                    files.push(path);
                }
            }
        }
        let mut files = Vec::new();
        walk(&self.mailbox, &mut files);
        files.sort();
        files
    }

    /// Waits for the first delivered message: a mail transfer agent delivers after it has
    /// answered the client, in a process of its own. Bounded: 10 s.
    fn first_delivery(&self) -> PathBuf {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(first) = self.delivered().into_iter().next() {
                return first;
            }
            assert!(
                Instant::now() < deadline,
                "nothing was delivered into {} within 10 s",
                self.mailbox.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A throw-away certificate for 127.0.0.1 in FOLDER: (certificate, key).
fn certificate(folder: &Path) -> (PathBuf, PathBuf) {
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let cert = folder.join("cert.pem");
    let key = folder.join("key.pem");
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    (cert, key)
}

/// A folder named `lab notes` with what SPEC archive/1 lists, and a 10 MB file.
fn lab_folder(parent: &Path) -> PathBuf {
    let folder = parent.join("lab notes");
    std::fs::create_dir_all(folder.join("week 1/deeper")).unwrap();
    std::fs::create_dir_all(folder.join("empty folder")).unwrap();
    std::fs::write(folder.join("README.txt"), "The lab.\n.a line with a dot\n").unwrap();
    std::fs::write(folder.join("empty.txt"), "").unwrap();
    std::fs::write(folder.join("week 1/Übung – 1.txt"), "Grüezi\n").unwrap();
    std::fs::write(
        folder.join("week 1/deeper/raw.bin"),
        [0u8, 13, 10, 13, 255, 0],
    )
    .unwrap();
    let big: Vec<u8> = (0..10u32 << 20)
        .map(|index| (index.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(folder.join("big.bin"), big).unwrap();
    folder
}

/// A folder of one small file.
fn small_folder(parent: &Path) -> PathBuf {
    let folder = parent.join("small");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("a.txt"), "a\n").unwrap();
    folder
}

fn mail_archive(server: &SmtpServer, folder: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(cargo_bin("mail-archive"))
        .arg(folder)
        .args(["--server", &format!("127.0.0.1:{}", server.port)])
        .args(["--from", "alice@example.com", "--to", "prof@example.com"])
        .args(extra)
        .env("SSL_CERT_FILE", &server.ca_file)
        .output()
        .unwrap()
}

/// The reference sends FOLDER with STARTTLS and the account's credentials, and succeeds
/// without a word on stdout.
fn send_with_credentials(server: &SmtpServer, folder: &Path) {
    let output = mail_archive(
        server,
        folder,
        &["--starttls", "--user", USER, "--password", PASSWORD],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stdout.is_empty(), "nothing on stdout");
}

/// What [`CHECK`] says of a delivered message, against the `lab notes` folder.
fn check(eml: &Path, folder: &Path) -> String {
    let output = Command::new(PYTHON)
        .args(["-c", CHECK])
        .arg(eml)
        .arg(folder)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Asserts what [`check`] said of the `lab notes` folder mailed by the reference.
fn assert_lab_notes_arrived(seen: &str) {
    for line in [
        "from: alice@example.com",
        "to: prof@example.com",
        "subject: Archive of the folder lab notes",
        "text: Attached: lab notes.zip,",
        "attachments: [('lab notes.zip', 'application/zip')]",
        "encoding: base64",
    ] {
        assert!(
            seen.lines().any(|seen| seen.starts_with(line)),
            "{line:?} in:\n{seen}"
        );
    }
    assert!(seen.trim_end().ends_with("same"), "{seen}");
}
