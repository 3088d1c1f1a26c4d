//! The DNS pack against clients nobody here wrote: `dig` over UDP and TCP, IPv4 and IPv6,
//! and glibc's resolver (Python's `socket.getaddrinfo`) reading a `resolv.conf` that points
//! at it. Each test runs the server on port 53 of a network namespace of its own, with the
//! harness's local routes, as a scenario does.

use std::process::{Command, Output};
use std::sync::Arc;

use super::*;
use crate::world::real::isolation;

/// A namespace with the DNS on port 53, and the record of its queries. Namespaces are
/// required: a test that cannot run fails, saying why, rather than passing unseen.
fn server() -> (Namespace, DnsServer, QueryLog) {
    assert!(
        isolation::private_networks_allowed(),
        "these tests need network namespaces: run them as root (CI does)"
    );
    let namespace = Namespace::create().unwrap();
    let log = QueryLog::default();
    let server = DnsServer::start(
        DNS_PORT,
        Some(&namespace),
        Arc::new(Zone::standard()),
        log.clone(),
    )
    .unwrap();
    (namespace, server, log)
}

/// Runs `argv` inside `namespace` (the child enters it before it runs its program).
async fn run_inside(namespace: &Namespace, argv: &[&str]) -> Output {
    let fd = namespace.raw_fd();
    let mut command = Command::new(argv[0]);
    command.args(&argv[1..]);
    harness_machine::child_setup::keep_open_and_enter(&mut command, None, Some(fd));
    // The server answers on this test's runtime: the child is waited for off it.
    let mut command = tokio::process::Command::from(command);
    tokio::time::timeout(std::time::Duration::from_secs(20), command.output())
        .await
        .expect("the client finished within 20 s")
        .unwrap()
}

/// Fails the test, saying what to install, when `program` is missing.
fn require(program: &str, package: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|output| output.status.success());
    assert!(
        found,
        "{program} is not installed: install {package} (.ci/test does)"
    );
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dig_gets_the_loopback_over_udp_and_tcp_at_any_address() {
    require("dig", "bind9-dnsutils");
    let (namespace, _server, log) = server();
    let cases: [(&[&str], &str); 5] = [
        (&["@127.0.0.1", "smtp.example.com", "A"], "127.0.0.1"),
        (
            &["@127.0.0.1", "+tcp", "smtp.example.com", "A"],
            "127.0.0.1",
        ),
        (&["@::1", "imap.example.com", "AAAA"], "::1"),
        (&["@::1", "+tcp", "imap.example.com", "AAAA"], "::1"),
        // Any address is the harness's: the answer must come back from the address asked.
        (&["@192.0.2.53", "servername", "A"], "127.0.0.1"),
    ];
    for (arguments, expected) in cases {
        let mut argv = vec!["dig", "+short", "+tries=1", "+time=2"];
        argv.extend_from_slice(arguments);
        let output = run_inside(&namespace, &argv).await;
        assert_eq!(stdout(&output), expected, "dig {arguments:?}");
    }
    let asked: Vec<String> = log.all().iter().map(Query::describe).collect();
    assert_eq!(
        asked,
        [
            "A smtp.example.com. -> 127.0.0.1 (UDP to 127.0.0.1:53)",
            "A smtp.example.com. -> 127.0.0.1 (TCP to 127.0.0.1:53)",
            "AAAA imap.example.com. -> ::1 (UDP to [::1]:53)",
            "AAAA imap.example.com. -> ::1 (TCP to [::1]:53)",
            "A servername. -> 127.0.0.1 (UDP to 192.0.2.53:53)",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dig_sees_nxdomain_for_an_invalid_name_and_nodata_for_mx() {
    require("dig", "bind9-dnsutils");
    let (namespace, _server, _log) = server();
    let nx = run_inside(
        &namespace,
        &[
            "dig",
            "+tries=1",
            "+time=2",
            "@127.0.0.1",
            "nowhere.invalid",
        ],
    )
    .await;
    assert!(stdout(&nx).contains("status: NXDOMAIN"), "{}", stdout(&nx));
    let mx = run_inside(
        &namespace,
        &[
            "dig",
            "+tries=1",
            "+time=2",
            "@127.0.0.1",
            "example.com",
            "MX",
        ],
    )
    .await;
    let mx = stdout(&mx);
    assert!(
        mx.contains("status: NOERROR") && mx.contains("ANSWER: 0"),
        "{mx}"
    );
}

/// glibc's resolver, through Python, with `/etc/resolv.conf` and `/etc/hosts` replaced by
/// the harness's (in a private mount namespace: `unshare -m`, as root).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn glibc_resolves_any_name_to_the_loopback_through_the_resolver_files() {
    let root = rustix::process::geteuid().as_raw() == 0;
    assert!(
        root,
        "giving a child its own /etc/resolv.conf (unshare -m) needs root"
    );
    require("unshare", "util-linux");
    require("python3", "python3");
    let (namespace, _server, log) = server();
    let folder = tempfile::tempdir().unwrap();
    let files = crate::world::real::internet::resolver_files(folder.path()).unwrap();
    let mounts: Vec<String> = files
        .iter()
        .map(|(place, file)| format!("mount --bind {} {}", file.display(), place.display()))
        .collect();
    let python = r#"
import socket
print(socket.getaddrinfo("servername", 12000, socket.AF_INET, socket.SOCK_STREAM)[0][4][0])
print(socket.getaddrinfo("smtp.example.com", 587, socket.AF_INET6, socket.SOCK_STREAM)[0][4][0])
try:
    socket.getaddrinfo("nowhere.invalid", 80)
    print("resolved")
except socket.gaierror as error:
    print("gaierror", error.errno == socket.EAI_NONAME)
"#;
    let script = format!("{} && exec python3 -c '{python}'", mounts.join(" && "));
    let output = run_inside(&namespace, &["unshare", "-m", "sh", "-c", &script]).await;
    assert_eq!(stdout(&output), "127.0.0.1\n::1\ngaierror True");
    let names: Vec<String> = log
        .all()
        .iter()
        .map(|query| format!("{} {}", query.question.kind, query.question.name))
        .collect();
    assert!(names.contains(&"A servername.".to_owned()), "{names:?}");
    assert!(
        names.contains(&"AAAA smtp.example.com.".to_owned()),
        "{names:?}"
    );
    assert!(
        names.iter().any(|name| name.ends_with("nowhere.invalid.")),
        "{names:?}"
    );
}

/// How long a question takes over UDP on loopback, median of 30 (run by hand:
/// `cargo test -p harness --lib dns::tests::answer_latency -- --ignored --nocapture`).
#[tokio::test]
#[ignore = "a measurement, not a test"]
async fn answer_latency() {
    use hickory_proto::op::{Message, Query as Question};
    use hickory_proto::rr::{Name, RecordType};
    let log = QueryLog::default();
    let server = DnsServer::start(0, None, Arc::new(Zone::standard()), log).unwrap();
    let client = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    client
        .connect(("127.0.0.1", server.address.port()))
        .await
        .unwrap();
    let mut times = Vec::new();
    let mut buffer = [0u8; 512];
    for _ in 0..30 {
        let mut request = Message::query();
        let name = Name::from_ascii("smtp.example.com.").unwrap();
        request.add_query(Question::query(name, RecordType::A));
        let bytes = request.to_vec().unwrap();
        let started = std::time::Instant::now();
        client.send(&bytes).await.unwrap();
        let length = client.recv(&mut buffer).await.unwrap();
        times.push(started.elapsed());
        assert!(Message::from_vec(&buffer[..length]).unwrap().answers.len() == 1);
    }
    times.sort();
    eprintln!("UDP question to answer, median of 30: {:?}", times[15]);
}

/// What starting the DNS costs a scenario (binding its four sockets on port 53 of a fresh
/// namespace), median of 30 (run by hand, as [`answer_latency`]).
#[tokio::test]
#[ignore = "a measurement, not a test"]
async fn start_cost() {
    let mut times = Vec::new();
    for _ in 0..30 {
        let namespace = Namespace::create().unwrap();
        let started = std::time::Instant::now();
        let server = DnsServer::start(
            DNS_PORT,
            Some(&namespace),
            Arc::new(Zone::standard()),
            QueryLog::default(),
        )
        .unwrap();
        times.push(started.elapsed());
        drop(server);
    }
    times.sort();
    eprintln!(
        "DNS server start in a namespace, median of 30: {:?}",
        times[15]
    );
}
