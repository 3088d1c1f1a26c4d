//! Exim 4 (Debian's `exim4-daemon-light`), started as root in the foreground (`-bdf`)
//! with a throw-away configuration (`-C`): its spool, log and maildir in a temp folder,
//! STARTTLS with the test's certificate, AUTH PLAIN and LOGIN advertised only after TLS,
//! relaying only for a client that logged in, a size limit of its own, and one recipient
//! whose mailbox is busy (a 4xx). Stopped by its pid.
//!
//! Exim drops root for every SMTP session and delivery (to the `Debian-exim` user the
//! package creates), so the folders it writes are that user's and the temp folder is
//! opened to others.

use super::{
    PASSWORD, SmtpServer, USER, assert_lab_notes_arrived, certificate, check, lab_folder,
    mail_archive, send_with_credentials, small_folder,
};

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::{Running, free_tcp_port, wait_until_listening};

/// Debian's Exim binary.
const EXIM: &str = "/usr/sbin/exim4";

/// The user Exim's sessions and deliveries run as (made by Debian's package).
const EXIM_USER: &str = "Debian-exim";

/// The recipient whose mailbox is busy: RCPT TO gets `451`.
const BUSY: &str = "busy@example.com";

/// The configuration: `{folder}`, `{port}`, `{size}`, `{user}`, `{password}` and `{busy}`
/// are filled in.
const CONFIGURATION: &str = r#"
primary_hostname = mx.example.com
keep_environment =
spool_directory = {folder}/spool
log_file_path = {folder}/log/%slog
daemon_smtp_ports = {port}
local_interfaces = 127.0.0.1
message_size_limit = {size}
tls_advertise_hosts = *
tls_certificate = {folder}/cert.pem
tls_privatekey = {folder}/key.pem
acl_smtp_rcpt = check_rcpt

begin acl
check_rcpt:
  defer message = mailbox busy, try again later
        recipients = {busy}
  accept authenticated = *
  deny message = relaying requires a login

begin routers
keep:
  driver = accept
  transport = to_maildir

begin transports
to_maildir:
  driver = appendfile
  directory = {folder}/mailbox
  maildir_format
  user = Debian-exim

begin authenticators
plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = ${if and {{eq{$auth2}{{user}}}{eq{$auth3}{{password}}}}}
  server_advertise_condition = ${if def:tls_in_cipher}
login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = Username:: : Password::
  server_condition = ${if and {{eq{$auth1}{{user}}}{eq{$auth2}{{password}}}}}
  server_advertise_condition = ${if def:tls_in_cipher}
"#;

/// Exim on a free port, accepting messages of at most `size` (Exim's syntax: `64M`).
fn start(size: &str) -> SmtpServer {
    // SAFETY: geteuid only reads the caller's id.
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "the Exim tests start Exim as root (it changes to {EXIM_USER}): run them as root"
    );
    let folder = tempfile::tempdir().unwrap();
    let root = folder.path();
    std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (cert, key) = certificate(root);
    // Read by the SMTP session, which runs as Exim's user; a throw-away key.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    for owned in ["spool", "log", "mailbox"] {
        std::fs::create_dir(root.join(owned)).unwrap();
        chown_to_exim(&root.join(owned));
    }
    let port = free_tcp_port();
    let configuration = root.join("exim.conf");
    std::fs::write(
        &configuration,
        CONFIGURATION
            .replace("{folder}", &root.display().to_string())
            .replace("{port}", &port.to_string())
            .replace("{size}", size)
            .replace("{user}", USER)
            .replace("{password}", PASSWORD)
            .replace("{busy}", BUSY),
    )
    .unwrap();
    let child = Command::new(EXIM)
        .arg("-C")
        .arg(&configuration)
        .args(["-bdf", "-oX", &port.to_string()])
        .stdin(Stdio::null())
        .spawn()
        .unwrap_or_else(|error| panic!("{EXIM}: {error} (install exim4-daemon-light)"));
    let process = Running(child);
    wait_until_listening(port);
    SmtpServer {
        port,
        ca_file: cert,
        mailbox: root.join("mailbox"),
        _folder: folder,
        _process: process,
    }
}

fn chown_to_exim(path: &Path) {
    let status = Command::new("chown")
        .arg(EXIM_USER)
        .arg(path)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "chown {EXIM_USER} {}: {status} (install exim4-daemon-light, which makes the user)",
        path.display()
    );
}

#[test]
fn the_folder_arrives_whole_through_exim() {
    let server = start("64M");
    let parent = tempfile::tempdir().unwrap();
    let folder = lab_folder(parent.path());
    send_with_credentials(&server, &folder);
    assert_lab_notes_arrived(&check(&server.first_delivery(), &folder));
}

/// Each refusal, at its own step, is told on stderr with Exim's reply and exit 1:
/// a wrong password (535 to AUTH), no login (550 to RCPT), a busy mailbox (451 to RCPT,
/// a temporary error), and a message over the size limit (552 after the final dot).
#[test]
fn exim_refusals_at_each_step_fail_with_its_reply() {
    let server = start("100K");
    let parent = tempfile::tempdir().unwrap();
    let small = small_folder(parent.path());
    let large = parent.path().join("large");
    std::fs::create_dir(&large).unwrap();
    // 200 KB that no compressor shrinks below the limit (xorshift: no pattern deflate finds).
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let noise: Vec<u8> = (0..200_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 56) as u8
        })
        .collect();
    std::fs::write(large.join("noise.bin"), noise).unwrap();
    let login = ["--starttls", "--user", USER, "--password", PASSWORD];

    let cases: [(&str, &Path, Vec<&str>, &str); 4] = [
        (
            "a wrong password",
            &small,
            vec!["--starttls", "--user", USER, "--password", "wrong"],
            "535",
        ),
        ("no login", &small, vec![], "550"),
        (
            "a busy mailbox",
            &small,
            [&login[..], &["--to", BUSY]].concat(),
            "451",
        ),
        ("a message over the limit", &large, login.to_vec(), "552"),
    ];
    for (what, folder, extra, reply) in cases {
        let output = mail_archive(&server, folder, &extra);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{what}: {stderr}");
        assert!(stderr.contains(reply), "{what}: Exim's {reply} in {stderr}");
        assert!(output.stdout.is_empty(), "{what}: nothing on stdout");
    }
    assert!(server.delivered().is_empty(), "nothing was delivered");
}
