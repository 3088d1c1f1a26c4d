//! `mail-archive` against an SMTP server nobody here wrote: aiosmtpd (Debian's
//! `python3-aiosmtpd`), started in the foreground by the test on a loopback port with
//! STARTTLS (a throw-away certificate) and AUTH after TLS only, stopped by its pid. What
//! arrived is read back with Python's `email` and `zipfile`, also written elsewhere:
//! the attachment must unzip to exactly the folder (SPEC archive/1–3).

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use assert_cmd::cargo::cargo_bin;

use common::{Running, free_tcp_port, wait_until_listening};

/// Debian's Python, which has `python3-aiosmtpd` (a version manager's `python3` first
/// on PATH may not).
const PYTHON: &str = "/usr/bin/python3";

/// The server: every message accepted is written to OUT as N.eml; STARTTLS with the
/// given certificate, AUTH (PLAIN, LOGIN) only after it, one account.
const SERVER: &str = r#"
import asyncio, ssl, sys, pathlib
from aiosmtpd.smtp import SMTP, AuthResult
port, cert, key, out, user, password = sys.argv[1:7]
out = pathlib.Path(out)
class Keep:
    count = 0
    async def handle_DATA(self, server, session, envelope):
        Keep.count += 1
        (out / f"{Keep.count}.eml").write_bytes(envelope.original_content)
        return "250 kept"
def check(server, session, envelope, mechanism, auth_data):
    # A refusal must say handled=False, or smtplib waits for a reply (INTEROP.md).
    good = auth_data.login == user.encode() and auth_data.password == password.encode()
    return AuthResult(success=good, handled=False)
context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)
async def main():
    loop = asyncio.get_running_loop()
    factory = lambda: SMTP(Keep(), hostname="mx.example.com", tls_context=context,
                           require_starttls=False, authenticator=check,
                           auth_require_tls=True, data_size_limit=64 << 20)
    server = await loop.create_server(factory, "127.0.0.1", int(port))
    await server.serve_forever()
asyncio.run(main())
"#;

/// Reads OUT/1.eml and compares its zip attachment with FOLDER: prints the attachment's
/// name and content type, then `same` or what differs.
const CHECK: &str = r#"
import email, email.policy, io, os, sys, zipfile
eml, folder = sys.argv[1:3]
message = email.message_from_binary_file(open(eml, "rb"), policy=email.policy.default)
print("subject:", message["Subject"])
print("text:", message.get_body(preferencelist=("plain",)).get_content().strip())
parts = list(message.iter_attachments())
print("attachments:", [(p.get_filename(), p.get_content_type()) for p in parts])
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

/// aiosmtpd on a free port with a certificate for 127.0.0.1; killed when dropped.
struct Aiosmtpd {
    port: u16,
    folder: tempfile::TempDir,
    ca_file: PathBuf,
    _server: Running,
}

impl Aiosmtpd {
    fn start() -> Aiosmtpd {
        let folder = tempfile::tempdir().unwrap();
        let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
        let cert = folder.path().join("cert.pem");
        let key = folder.path().join("key.pem");
        std::fs::write(&cert, certified.cert.pem()).unwrap();
        std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
        let out = folder.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let script = folder.path().join("server.py");
        std::fs::write(&script, SERVER).unwrap();
        let port = free_tcp_port();
        let child = Command::new(PYTHON)
            .arg(&script)
            .arg(port.to_string())
            .args([&cert, &key, &out])
            .args(["alice", "s3cret"])
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("{PYTHON}: {error} (install python3-aiosmtpd)"));
        let server = Running(child);
        wait_until_listening(port);
        Aiosmtpd {
            port,
            ca_file: cert,
            folder,
            _server: server,
        }
    }

    fn delivered(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.folder.path().join("out"))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        files.sort();
        files
    }
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

fn mail_archive(server: &Aiosmtpd, folder: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(cargo_bin("mail-archive"))
        .arg(folder)
        .args(["--server", &format!("127.0.0.1:{}", server.port)])
        .args(["--from", "alice@example.com", "--to", "prof@example.com"])
        .args(extra)
        .env("SSL_CERT_FILE", &server.ca_file)
        .output()
        .unwrap()
}

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

#[test]
fn the_folder_arrives_whole_over_starttls_with_auth() {
    let server = Aiosmtpd::start();
    let parent = tempfile::tempdir().unwrap();
    let folder = lab_folder(parent.path());
    let output = mail_archive(
        &server,
        &folder,
        &["--starttls", "--user", "alice", "--password", "s3cret"],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stdout.is_empty(), "nothing on stdout");
    let delivered = server.delivered();
    assert_eq!(delivered.len(), 1);
    let seen = check(&delivered[0], &folder);
    assert!(
        seen.contains("subject: Archive of the folder lab notes"),
        "{seen}"
    );
    assert!(seen.contains("text: Attached: lab notes.zip"), "{seen}");
    assert!(
        seen.contains("attachments: [('lab notes.zip', 'application/zip')]"),
        "{seen}"
    );
    assert!(seen.trim_end().ends_with("same"), "{seen}");
}

#[test]
fn a_refused_login_and_a_login_without_tls_send_nothing() {
    let server = Aiosmtpd::start();
    let parent = tempfile::tempdir().unwrap();
    let folder = parent.path().join("small");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("a.txt"), "a\n").unwrap();

    let wrong = mail_archive(
        &server,
        &folder,
        &["--starttls", "--user", "alice", "--password", "wrong"],
    );
    assert_eq!(wrong.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(stderr.contains("535"), "the server's reply: {stderr}");

    let in_clear = mail_archive(
        &server,
        &folder,
        &["--user", "alice", "--password", "s3cret"],
    );
    assert_eq!(in_clear.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&in_clear.stderr).contains("--starttls"));

    let missing = mail_archive(&server, &parent.path().join("nowhere"), &[]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(server.delivered().is_empty());
}
