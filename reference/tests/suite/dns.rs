//! `mx-lookup` against a DNS server nobody here wrote: Unbound, from Debian's packages,
//! started in the foreground on a loopback port with a throw-away configuration that
//! serves the test zone, and stopped by its pid (SPEC `mx/1`–`mx/3`).

use crate::common;

use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin;

use common::{Running, free_port, wait_until_listening};

/// The test zone, as Unbound's `local-data` lines: names under `example.com` and
/// addresses of the documentation ranges only (RFC 2606, RFC 5737, RFC 3849).
fn zone() -> Vec<String> {
    let mut lines: Vec<String> = [
        "local-zone: \"example.com.\" static",
        // Two at preference 10 (a tie, broken by name), one at 20, one host with no address.
        "local-data: \"example.com. IN MX 20 mx2.example.com.\"",
        "local-data: \"example.com. IN MX 10 mx1.example.com.\"",
        "local-data: \"example.com. IN MX 10 alt.example.com.\"",
        "local-data: \"example.com. IN MX 5 mx0.example.com.\"",
        "local-data: \"mx0.example.com. IN A 192.0.2.24\"",
        "local-data: \"mx1.example.com. IN A 192.0.2.25\"",
        "local-data: \"mx1.example.com. IN AAAA 2001:db8::25\"",
        "local-data: \"mx2.example.com. IN A 192.0.2.26\"",
        // No MX: the domain's own address is its mail host (RFC 5321 §5.1).
        "local-zone: \"implicit.example.com.\" static",
        "local-data: \"implicit.example.com. IN A 192.0.2.30\"",
        "local-data: \"implicit.example.com. IN AAAA 2001:db8::30\"",
        // No MX and an IPv6 address only: still its own mail host.
        "local-zone: \"v6only.example.com.\" static",
        "local-data: \"v6only.example.com. IN AAAA 2001:db8::31\"",
        // A null MX (RFC 7505).
        "local-zone: \"nomail.example.com.\" static",
        "local-data: \"nomail.example.com. IN MX 0 .\"",
        // A name that exists with neither MX nor address.
        "local-zone: \"bare.example.com.\" static",
        "local-data: \"bare.example.com. IN TXT \\\"nothing here\\\"\"",
        "local-zone: \"big.example.com.\" static",
    ]
    .map(str::to_owned)
    .to_vec();
    // Forty MX records with long distinct first labels: more than 1232 bytes after name
    // compression, so Unbound answers over UDP empty with TC set (INTEROP.md).
    for index in 0..40 {
        lines.push(format!(
            "local-data: \"big.example.com. IN MX {index} \
             a-rather-long-first-label-for-host-number-{index:02}.mail.example.net.\""
        ));
    }
    lines
}

/// Unbound on a free loopback port, serving [`zone`]; killed when dropped.
struct Unbound {
    port: u16,
    _server: Running,
    _folder: tempfile::TempDir,
}

impl Unbound {
    fn start() -> Unbound {
        let folder = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut config = format!(
            "server:\n  interface: 127.0.0.1@{port}\n  port: {port}\n  do-daemonize: no\n  \
             username: \"\"\n  chroot: \"\"\n  pidfile: \"\"\n  directory: \"{}\"\n  \
             use-syslog: no\n  access-control: 127.0.0.0/8 allow\n  \
             module-config: \"iterator\"\n  max-udp-size: 1232\n  local-zone: \".\" static\n",
            folder.path().display()
        );
        for line in zone() {
            config.push_str(&format!("  {line}\n"));
        }
        let path = folder.path().join("unbound.conf");
        std::fs::write(&path, config).unwrap();
        // /usr/sbin is not on every user's PATH.
        let program = ["/usr/sbin/unbound", "/usr/local/sbin/unbound"]
            .into_iter()
            .find(|path| std::path::Path::new(path).exists())
            .unwrap_or("unbound");
        let child = Command::new(program)
            .arg("-d")
            .arg("-c")
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("cannot start unbound ({error}): install it (apt-get install unbound)")
            });
        let server = Running(child);
        wait_until_listening(port);
        Unbound {
            port,
            _server: server,
            _folder: folder,
        }
    }

    /// Runs `mx-lookup ADDRESS --dns 127.0.0.1:PORT`: (status, stdout, stderr).
    fn lookup(&self, address: &str) -> (i32, String, String) {
        lookup(address, self.port)
    }
}

fn lookup(address: &str, port: u16) -> (i32, String, String) {
    let output = Command::new(cargo_bin("mx-lookup"))
        .arg(address)
        .arg("--dns")
        .arg(format!("127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn mx_records_come_lowest_preference_first_with_their_addresses() {
    let unbound = Unbound::start();
    let (status, stdout, stderr) = unbound.lookup("alice@example.com");
    assert_eq!(status, 0, "stderr: {stderr}");
    // 5 before 10 (numbers, not text), the tie at 10 by name, a host without address bare.
    assert_eq!(
        stdout,
        "5 mx0.example.com. 192.0.2.24\n10 alt.example.com.\n\
         10 mx1.example.com. 192.0.2.25 2001:db8::25\n20 mx2.example.com. 192.0.2.26\n"
    );
}

#[test]
fn no_mx_null_mx_and_no_such_domain() {
    let unbound = Unbound::start();
    let (status, stdout, _) = unbound.lookup("bob@implicit.example.com");
    assert_eq!(
        (status, stdout.as_str()),
        (0, "0 implicit.example.com. 192.0.2.30 2001:db8::30\n")
    );
    let (status, stdout, _) = unbound.lookup("dan@v6only.example.com");
    assert_eq!(
        (status, stdout.as_str()),
        (0, "0 v6only.example.com. 2001:db8::31\n")
    );
    let (status, stdout, _) = unbound.lookup("x@nomail.example.com");
    assert_eq!(status, 0);
    assert!(stdout.contains("accepts no mail"), "{stdout}");
    for address in ["x@nosuch.example.com", "x@bare.example.com"] {
        let (status, stdout, stderr) = unbound.lookup(address);
        assert_eq!((status, stdout.as_str()), (1, ""), "{address}");
        assert!(stderr.starts_with("mx-lookup: "), "{address}: {stderr}");
    }
    let (status, _, stderr) = unbound.lookup("not-an-address");
    assert_eq!(status, 2, "a usage error: {stderr}");
}

#[test]
fn an_answer_too_large_for_udp_is_asked_again_over_tcp() {
    let unbound = Unbound::start();
    let (status, stdout, stderr) = unbound.lookup("x@big.example.com");
    assert_eq!(status, 0, "stderr: {stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 40, "{stdout}");
    assert!(lines[0].starts_with("0 a-rather-long-first-label-for-host-number-00."));
    assert!(lines[39].starts_with("39 a-rather-long-first-label-for-host-number-39."));
}

#[test]
fn a_server_that_never_answers_is_given_up_after_five_seconds() {
    // Bound, so no ICMP "port unreachable" comes back; read by nobody.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let started = Instant::now();
    let (status, stdout, stderr) = lookup("alice@example.com", port);
    assert_eq!((status, stdout.as_str()), (1, ""));
    assert!(stderr.contains("no answer within 5 s"), "{stderr}");
    // A generous deadline: it waits about 5 s, never without end.
    assert!(started.elapsed() < Duration::from_secs(30));
}
