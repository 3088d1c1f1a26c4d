//! `ssh-info` against an SSH server nobody here wrote: OpenSSH's sshd (Debian's
//! `openssh-server`), started in the foreground by the test (`sshd -D -e -f CONFIG`) on a
//! loopback port with a host key the test makes, in a private mount namespace whose
//! `/proc/cpuinfo` and `/proc/meminfo` are the test's (`unshare -m`, bind mounts), stopped
//! by its pid. The client's `HOME` is a throw-away folder, so `~/.ssh/known_hosts` is the
//! test's. It logs in as root with a key (sshd's default `PermitRootLogin
//! prohibit-password` refuses root's password, rightly or not), and with a password as a
//! throw-away local user the test creates (`useradd`, `chpasswd`) and removes (`userdel`),
//! whom the configuration's `PasswordAuthentication yes` (through PAM) lets in. sshd's log
//! (`LogLevel VERBOSE` on stderr) says whether a password was ever tried, and whose was
//! accepted (SPEC ssh/1–2).

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use assert_cmd::cargo::cargo_bin;

use common::{Running, ThrowAwayUser, free_tcp_port, system, wait_until_listening};

const CPUINFO: &str = "processor\t: 0\nmodel name\t: Test Machine CPU 9000 @ 1.00GHz\n\nprocessor\t: 1\nmodel name\t: Test Machine CPU 9000 @ 1.00GHz\n\nprocessor\t: 2\nmodel name\t: Test Machine CPU 9000 @ 1.00GHz\n\nprocessor\t: 3\nmodel name\t: Test Machine CPU 9000 @ 1.00GHz\n\nprocessor\t: 4\nmodel name\t: Test Machine CPU 9000 @ 1.00GHz\n\nprocessor\t: 5\nmodel name\t: Test Machine CPU 9000 @ 1.00GHz\n\n";
const MEMINFO: &str =
    "MemTotal:       16303424 kB\nMemFree:         1234567 kB\nMemAvailable:    9876543 kB\n";

/// Makes a key with ssh-keygen; a missing ssh-keygen fails the test, saying what to install.
fn keygen(path: &Path) -> String {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "test", "-f"])
        .arg(path)
        .status()
        .unwrap_or_else(|error| panic!("cannot run ssh-keygen ({error}): install openssh-client"));
    assert!(status.success());
    std::fs::read_to_string(path.with_extension("pub")).unwrap()
}

/// sshd on a free loopback port, in a mount namespace of its own with the test's
/// `/proc/cpuinfo` and `/proc/meminfo`; killed (by pid) when dropped.
struct Sshd {
    port: u16,
    folder: tempfile::TempDir,
    host_key: String,
    _server: Running,
}

impl Sshd {
    fn start(authorized: &str) -> Sshd {
        // SAFETY: geteuid only reads the caller's id.
        assert_eq!(
            unsafe { libc::geteuid() },
            0,
            "the sshd tests mount over /proc in a mount namespace of their own: run them as root"
        );
        let sshd = Path::new("/usr/sbin/sshd");
        assert!(
            sshd.exists(),
            "no /usr/sbin/sshd: install openssh-server (apt-get install openssh-server)"
        );
        let folder = tempfile::tempdir().unwrap();
        let at = |name: &str| folder.path().join(name);
        let host_key = keygen(&at("host_key"));
        std::fs::write(at("root"), authorized).unwrap();
        std::fs::write(at("cpuinfo"), CPUINFO).unwrap();
        std::fs::write(at("meminfo"), MEMINFO).unwrap();
        std::fs::create_dir_all("/run/sshd").unwrap();
        let port = free_tcp_port();
        std::fs::write(
            at("sshd_config"),
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nPidFile {}\n\
                 PasswordAuthentication yes\nKbdInteractiveAuthentication no\n\
                 AuthorizedKeysFile {}/%u\nStrictModes no\nUsePAM yes\nLogLevel VERBOSE\n",
                at("host_key").display(),
                at("sshd.pid").display(),
                folder.path().display()
            ),
        )
        .unwrap();
        let log = std::fs::File::create(at("sshd.log")).unwrap();
        let script = format!(
            "mount --bind {} /proc/cpuinfo && mount --bind {} /proc/meminfo && exec /usr/sbin/sshd -D -e -f {}",
            at("cpuinfo").display(),
            at("meminfo").display(),
            at("sshd_config").display()
        );
        let child = Command::new("unshare")
            .args(["-m", "--propagation", "private", "sh", "-c", &script])
            .stdin(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot run unshare ({error}): install util-linux"));
        let server = Running(child);
        wait_until_listening(port);
        Sshd {
            port,
            folder,
            host_key: host_key.trim().to_owned(),
            _server: server,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.folder.path().join("sshd.log")).unwrap_or_default()
    }
}

/// Runs `ssh-info` as root with a `HOME` whose `.ssh/known_hosts` holds `known_hosts`.
fn ssh_info(server: &Sshd, known_hosts: &str, auth: &[&str]) -> Output {
    ssh_info_as(server, "root", known_hosts, auth)
}

/// [`ssh_info`], logging in as `user`.
fn ssh_info_as(server: &Sshd, user: &str, known_hosts: &str, auth: &[&str]) -> Output {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".ssh")).unwrap();
    std::fs::write(home.path().join(".ssh/known_hosts"), known_hosts).unwrap();
    Command::new(cargo_bin("ssh-info"))
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &server.port.to_string(),
            "--user",
            user,
        ])
        .args(auth)
        .env("HOME", home.path())
        .output()
        .unwrap()
}

fn client_key() -> (tempfile::TempDir, PathBuf, String) {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("id_ed25519");
    let public = keygen(&path);
    (folder, path, public)
}

/// `ssh-info` ended well and printed the figures of [`CPUINFO`] and [`MEMINFO`].
fn assert_printed_the_test_machine(output: &Output, server: &Sshd) {
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stderr),
        server.log()
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "CPU model: Test Machine CPU 9000 @ 1.00GHz\nCores: 6\nMemory total: 15921 MiB\nMemory available: 9645 MiB\n"
    );
}

#[test]
fn the_figures_are_the_remote_machines_and_an_unknown_key_gets_no_password() {
    let (_folder, key, public) = client_key();
    let server = Sshd::start(&public);
    let right = format!("[127.0.0.1]:{} {}\n", server.port, server.host_key);
    let output = ssh_info(&server, &right, &["--key", &key.display().to_string()]);
    assert_printed_the_test_machine(&output, &server);
    assert!(
        server.log().contains("Accepted publickey for root"),
        "{}",
        server.log()
    );

    // No entry for the server: refused after the key exchange, no password tried.
    let output = ssh_info(&server, "", &["--password", "not-tried"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("host key refused"), "{stderr}");
    // sshd logs the connection it dropped before authentication.
    let log = server.log();
    assert!(!log.contains("password"), "a password was tried:\n{log}");
}

#[test]
fn a_changed_key_and_a_wrong_password_are_refused_with_a_message() {
    let server = Sshd::start("");
    let other = keygen(&tempfile::tempdir().unwrap().path().join("other"));
    let changed = format!("[127.0.0.1]:{} {}\n", server.port, other.trim());
    let output = ssh_info(&server, &changed, &["--password", "not-tried"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("CHANGED"), "{stderr}");
    assert!(!server.log().contains("password"), "{}", server.log());

    let right = format!("[127.0.0.1]:{} {}\n", server.port, server.host_key);
    let output = ssh_info(&server, &right, &["--password", "wrong"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("authentication failed"), "{stderr}");
    assert!(output.stdout.is_empty());
    assert!(
        server.log().contains("Failed password for root"),
        "{}",
        server.log()
    );
}

#[test]
fn a_local_user_logs_in_with_the_right_password() {
    const PASSWORD: &str = "s3cret-ssh";
    let user = ThrowAwayUser::create("sshlab", PASSWORD);
    // Its home its own, as sshd's session changes into it.
    let home = user.home.path().display().to_string();
    system("chown", &[&user.name, &home], None);
    let server = Sshd::start("");
    let right = format!("[127.0.0.1]:{} {}\n", server.port, server.host_key);
    let output = ssh_info_as(&server, &user.name, &right, &["--password", PASSWORD]);
    // The figures of the namespace sshd runs in, read by the user's own commands.
    assert_printed_the_test_machine(&output, &server);
    let log = server.log();
    assert!(
        log.contains(&format!("Accepted password for {}", user.name)),
        "{log}"
    );
    assert!(!log.contains("Failed password"), "{log}");
    // Ended before the user is removed (sshd's session processes run as it).
    drop(server);
}
