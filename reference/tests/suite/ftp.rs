//! `ftp-upload` against an FTP server nobody here wrote: vsftpd (Debian's `vsftpd`),
//! started in the foreground by the test with a throw-away configuration on a loopback
//! port (passive ports on loopback too), logging in as a throw-away local user with a
//! password (created for the test, removed after), stopped by its pid. The stored file is
//! read back from the user's home folder: byte for byte (SPEC ftp/1–2).

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use assert_cmd::cargo::cargo_bin;

use common::{Running, ThrowAwayUser, free_ports, free_tcp_port, system, wait_until_listening};

const PASSWORD: &str = "s3cret-ftp";

/// A local user with [`PASSWORD`] and a home folder of its own holding `uploads/`, for
/// vsftpd's PAM login; removed (with its home) when dropped.
fn ftp_user() -> ThrowAwayUser {
    let user = ThrowAwayUser::create("ftplab", PASSWORD);
    std::fs::create_dir(user.home.path().join("uploads")).unwrap();
    let shown = user.home.path().display().to_string();
    system("chown", &["-R", &user.name, &shown], None);
    user
}

/// vsftpd on a free loopback port, passive ports in a small range there; killed (by pid)
/// and waited for when dropped.
struct Vsftpd {
    port: u16,
    folder: tempfile::TempDir,
    _server: Running,
}

impl Vsftpd {
    fn start() -> Vsftpd {
        let folder = tempfile::tempdir().unwrap();
        // An empty folder owned by root, which vsftpd insists on even without a chroot.
        let empty = folder.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        let port = free_tcp_port();
        // Five passive ports, all free and handed to no other test's server.
        let passive = free_ports(5);
        let config = folder.path().join("vsftpd.conf");
        let log = folder.path().join("vsftpd.log");
        std::fs::write(
            &config,
            format!(
                "listen=YES\nlisten_ipv6=NO\nbackground=NO\nlisten_address=127.0.0.1\n\
                 listen_port={port}\nanonymous_enable=NO\nlocal_enable=YES\nwrite_enable=YES\n\
                 local_umask=022\npasv_enable=YES\npasv_address=127.0.0.1\n\
                 pasv_min_port={passive}\npasv_max_port={}\npam_service_name=vsftpd\n\
                 secure_chroot_dir={}\nseccomp_sandbox=NO\nisolate=NO\nisolate_network=NO\n\
                 log_ftp_protocol=YES\nvsftpd_log_file={}\nxferlog_enable=YES\nsyslog_enable=NO\n",
                passive + 4,
                empty.display(),
                log.display()
            ),
        )
        .unwrap();
        let child = Command::new("vsftpd")
            .arg(&config)
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("cannot run vsftpd ({error}): install vsftpd (apt-get install vsftpd)")
            });
        let server = Running(child);
        wait_until_listening(port);
        Vsftpd {
            port,
            folder,
            _server: server,
        }
    }

    /// vsftpd's log of the dialogue (`log_ftp_protocol`), for a failing assertion.
    fn log(&self) -> String {
        std::fs::read_to_string(self.folder.path().join("vsftpd.log")).unwrap_or_default()
    }
}

fn ftp_upload(
    server: &Vsftpd,
    user: &str,
    password: &str,
    file: &Path,
    dir: Option<&str>,
) -> Output {
    let mut command = Command::new(cargo_bin("ftp-upload"));
    command
        .args(["--server", &format!("127.0.0.1:{}", server.port)])
        .args(["--user", user, "--password", password])
        .arg(file);
    if let Some(dir) = dir {
        command.args(["--dir", dir]);
    }
    command.output().unwrap()
}

/// Every byte value, CRLF pairs, lone LF and CR, NUL bytes: 3 MiB, sent in pieces.
fn binary_file(folder: &Path) -> (PathBuf, Vec<u8>) {
    let mut bytes = b"\x00\r\n\n\r\x00\xff".to_vec();
    bytes.extend((0..3u32 << 20).map(|index| (index.wrapping_mul(2_654_435_761) >> 24) as u8));
    let path = folder.join("scan 22.bin");
    std::fs::write(&path, &bytes).unwrap();
    (path, bytes)
}

#[test]
fn a_binary_file_is_stored_byte_for_byte_in_the_folder_given() {
    let user = ftp_user();
    let server = Vsftpd::start();
    let local = tempfile::tempdir().unwrap();
    let (path, bytes) = binary_file(local.path());
    let output = ftp_upload(&server, &user.name, PASSWORD, &path, Some("uploads"));
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stderr),
        server.log()
    );
    let stored = std::fs::read(user.home.path().join("uploads/scan 22.bin"))
        .unwrap_or_else(|error| panic!("not stored ({error}):\n{}", server.log()));
    assert!(
        stored == bytes,
        "{} bytes stored, {} sent",
        stored.len(),
        bytes.len()
    );
    let log = server.log();
    assert!(log.contains("\"TYPE I\""), "{log}");
    assert!(log.contains("\"EPSV\""), "{log}");
    assert!(log.contains("\"QUIT\""), "{log}");
}

#[test]
fn a_wrong_password_and_a_missing_folder_fail_with_quit() {
    let user = ftp_user();
    let server = Vsftpd::start();
    let local = tempfile::tempdir().unwrap();
    let (path, _) = binary_file(local.path());
    let refused = ftp_upload(&server, &user.name, "wrong", &path, None);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("530"), "{stderr}");
    let missing = ftp_upload(&server, &user.name, PASSWORD, &path, Some("nowhere"));
    assert_eq!(missing.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("550"), "{stderr}");
    assert!(!user.home.path().join("scan 22.bin").exists());
    // Both sessions ended with QUIT: vsftpd logs every command it received.
    let log = server.log();
    assert_eq!(log.matches("\"QUIT\"").count(), 2, "{log}");
}
