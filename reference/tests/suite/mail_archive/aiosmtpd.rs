//! aiosmtpd (Debian's `python3-aiosmtpd`): every message accepted is kept as sent.

use super::{
    PASSWORD, PYTHON, SmtpServer, USER, assert_lab_notes_arrived, certificate, check, lab_folder,
    mail_archive, send_with_credentials, small_folder,
};

use std::process::{Command, Stdio};

use crate::common::{Running, free_tcp_port, wait_until_listening};

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

/// aiosmtpd on a free port with a certificate for 127.0.0.1.
fn start() -> SmtpServer {
    let folder = tempfile::tempdir().unwrap();
    let (cert, key) = certificate(folder.path());
    let mailbox = folder.path().join("out");
    std::fs::create_dir(&mailbox).unwrap();
    let script = folder.path().join("server.py");
    std::fs::write(&script, SERVER).unwrap();
    let port = free_tcp_port();
    let child = Command::new(PYTHON)
        .arg(&script)
        .arg(port.to_string())
        .args([&cert, &key, &mailbox])
        .args([USER, PASSWORD])
        .stdin(Stdio::null())
        .spawn()
        .unwrap_or_else(|error| panic!("{PYTHON}: {error} (install python3-aiosmtpd)"));
    let process = Running(child);
    wait_until_listening(port);
    SmtpServer {
        port,
        ca_file: cert,
        mailbox,
        _folder: folder,
        _process: process,
    }
}

#[test]
fn the_folder_arrives_whole_over_starttls_with_auth() {
    let server = start();
    let parent = tempfile::tempdir().unwrap();
    let folder = lab_folder(parent.path());
    send_with_credentials(&server, &folder);
    let delivered = server.delivered();
    assert_eq!(delivered.len(), 1);
    assert_lab_notes_arrived(&check(&delivered[0], &folder));
}

#[test]
fn a_refused_login_and_a_login_without_tls_send_nothing() {
    let server = start();
    let parent = tempfile::tempdir().unwrap();
    let folder = small_folder(parent.path());

    let wrong = mail_archive(
        &server,
        &folder,
        &["--starttls", "--user", USER, "--password", "wrong"],
    );
    assert_eq!(wrong.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(stderr.contains("535"), "the server's reply: {stderr}");

    let in_clear = mail_archive(&server, &folder, &["--user", USER, "--password", PASSWORD]);
    assert_eq!(in_clear.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&in_clear.stderr).contains("--starttls"));

    let missing = mail_archive(&server, &parent.path().join("nowhere"), &[]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(server.delivered().is_empty());
}
