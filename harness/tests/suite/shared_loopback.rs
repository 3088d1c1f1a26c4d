//! Grading where no scenario gets a network of its own (a platform's container:
//! `HARNESS_NO_NAMESPACES=1` stands in for it): what programs hard-code is moved by the
//! interposed library, so they pass as they do with namespaces, several at once, and
//! nothing waits for TIME_WAIT (ten submissions at once: `batch.rs`).

use predicates::prelude::*;

use crate::common::{self, harness};

#[test]
fn a_client_hard_coding_a_lab_machines_address_and_a_made_up_name_passes_and_is_told_what_moved() {
    // Their servers are hard-coded-port's, named as `../hard-coded-port/...`.
    for (fixture, task) in [
        ("upper-udp-hard-coded-address", "upper-udp"),
        ("upper-tcp-hard-coded-name", "upper-tcp"),
    ] {
        harness()
            .env("HARNESS_NO_NAMESPACES", "1")
            .arg("--target")
            .arg(format!("fixtures/submissions/{fixture}"))
            .args(["--companions", "fixtures/submissions/hard-coded-port"])
            .args(["--task", task, "--seed", "1", "--verbose"])
            .assert()
            .success()
            .stdout(predicate::str::contains(
                "what it hard-codes is moved by the interposed library (port 12000 → ",
            ))
            .stdout(
                predicate::str::is_match(
                    "client: the interposed library moved .*(send|connect) 12000>[0-9]+",
                )
                .unwrap(),
            )
            .stdout(predicate::str::contains(" 0 failed"));
    }
}

#[test]
fn without_the_warden_a_task_that_uses_udp_still_has_it() {
    // The programs of a UDP task keep their datagrams where no warden walls them: the
    // good sample's pinger and uppercase converter pass, as with namespaces.
    harness()
        .env("HARNESS_NO_NAMESPACES", "1")
        .env("HARNESS_SANDBOX_WARDEN", "off")
        .args(["--target", "fixtures/submissions/good", "--seed", "1"])
        .args(["--task", "upper-udp", "--task", "udp-pinger"])
        .assert()
        .success()
        .stdout(predicate::str::contains(" 0 failed"))
        .stdout(predicate::str::contains(
            "no UDP where its task and scenario use none",
        ));
}

#[test]
fn adding_interfaces_is_not_run_here_and_costs_nothing() {
    // interfaces/02 adds a veth pair, which needs the scenario's own namespace: not run
    // here, never FAIL or ERROR, and out of the total.
    let report = tempfile::NamedTempFile::new().unwrap();
    harness()
        .env("HARNESS_NO_NAMESPACES", "1")
        .args(["--target", "fixtures/submissions/good", "--seed", "1"])
        .args(["interfaces/02-*", "--json"])
        .arg(report.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("SKIP    interfaces/02-"))
        .stdout(predicate::str::contains("which this machine refuses"));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.path()).unwrap()).unwrap();
    let scenarios = json["submissions"][0]["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), 1);
    assert_eq!(scenarios[0]["status"], "skipped", "{scenarios:?}");
    assert_eq!(scenarios[0]["skip_kind"], "cannot-run", "{scenarios:?}");
}

#[rstest::rstest]
#[case::paced("good", "on", "PASS    wait-service/03-")]
#[case::busy_loop("wait-service-busy-loop", "on", "FAIL    wait-service/03-")]
#[case::one_attempt("wait-service-one-attempt", "on", "FAIL    wait-service/03-")]
#[case::machine_code("wait-service-hostile-machine-code", "on", "FAIL    wait-service/03-")]
#[case::paced_owner("good", "owner", "PASS    wait-service/03-")]
#[case::busy_loop_owner("wait-service-busy-loop", "owner", "FAIL    wait-service/03-")]
#[case::one_attempt_owner("wait-service-one-attempt", "owner", "FAIL    wait-service/03-")]
#[case::machine_code_owner(
    "wait-service-hostile-machine-code",
    "owner",
    "FAIL    wait-service/03-"
)]
#[case::paced_library("good", "off", "PASS    wait-service/03-")]
#[case::busy_loop_library("wait-service-busy-loop", "off", "FAIL    wait-service/03-")]
fn connection_attempts_are_counted_outside_the_program(
    #[case] fixture: &str,
    #[case] warden: &str,
    #[case] verdict: &str,
) {
    // Without a namespace of its own, whose kernel counts every SYN, sandbox-init's warden
    // counts the waiter's connect calls from outside, whether it copies the program's
    // sockets or owns its datagram ones: the paced loop passes, the busy loop, the single
    // attempt and the busy loop that connects by its own machine code (which no library
    // sees) fail, as they do with namespaces. Where no warden runs, the interposed
    // library counts them.
    harness()
        .env("HARNESS_NO_NAMESPACES", "1")
        .env("HARNESS_SANDBOX_WARDEN", warden)
        .arg("--target")
        .arg(format!("fixtures/submissions/{fixture}"))
        .args(["--seed", "1", "--verbose", "wait-service/03-*"])
        .assert()
        .stdout(predicate::str::contains(verdict))
        .stdout(predicate::str::is_match("waiter: [0-9]+ connection attempts in").unwrap());
}

/// As in a platform's container (root without `CAP_SYS_ADMIN`: no namespaces, no mounts;
/// the kit where only root may enter, as a `mktemp -d` clone): a program that hard-codes
/// its port passes every scenario, and what truly needs a namespace is not run, never
/// failed.
/// The harness, run as root without `CAP_SYS_ADMIN` (no namespace, no mount: a platform's
/// container without its own seccomp profile), on the kit copied to `kit` for every user
/// ([`common::kit_for_anyone`]), its programs walled by Landlock.
fn in_a_stand_in(kit: &std::path::Path) -> std::process::Command {
    let library = harness::faults::short_calls::library(&common::kit_root(), &sandbox::layers())
        .expect("the interposed library builds");
    let mut command = std::process::Command::new("/usr/bin/setpriv");
    command
        .args(["--inh-caps=-sys_admin", "--bounding-set=-sys_admin", "--"])
        .arg(assert_cmd::cargo::cargo_bin("harness"))
        .current_dir(kit)
        .env("NO_COLOR", "1")
        .env("HARNESS_COMPANIONS", kit.join("fixtures/submissions/good"))
        .env("HARNESS_SANDBOX_INIT", kit.join("bin/sandbox-init"))
        .env("HARNESS_SHORT_CALLS_LIB", library)
        .env_remove("HARNESS_NO_NAMESPACES");
    command
}

#[test]
fn in_a_platforms_container_a_correct_submission_loses_nothing() {
    if !common::running_as_root() {
        // Without root there is no CAP_SYS_ADMIN to take away: the tests above cover the
        // shared loopback with HARNESS_NO_NAMESPACES.
        return;
    }
    let folder = common::kit_for_anyone(&["hard-coded-port"]);
    let kit = folder.path();
    let json = kit.join("report.json");
    let output = in_a_stand_in(kit)
        .arg("--target")
        .arg(kit.join("fixtures/submissions/hard-coded-port"))
        .arg("--target")
        .arg(kit.join("fixtures/submissions/good"))
        .arg("--scenarios")
        .arg(kit.join("scenarios"))
        .args(["--seed", "1", "--task", "upper-tcp", "--task", "ssh-info"])
        .args(["--task", "interfaces", "--task", "wait-service"])
        .args(["--task", "mx-lookup", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    let console = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{console}");
    assert!(
        console.contains("sharing this machine's loopback"),
        "{console}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let mut not_run = Vec::new();
    let mut passed = Vec::new();
    for submission in report["submissions"].as_array().unwrap() {
        for scenario in submission["scenarios"].as_array().unwrap() {
            let id = scenario["id"].as_str().unwrap();
            match scenario["status"].as_str().unwrap() {
                "pass" => passed.push(id.to_owned()),
                "skipped" => {
                    assert_eq!(scenario["skip_kind"], "cannot-run", "{id}");
                    not_run.push(id.to_owned());
                }
                other => panic!("{id} {other}: {scenario:#}"),
            }
        }
    }
    // Adding interfaces needs a network namespace of its own; the SSH remote shows its
    // /proc, the connection rate is counted and the system resolver's queries reach the
    // harness's DNS through the interposed library.
    assert_eq!(not_run, ["interfaces/02-interfaces-the-harness-adds"]);
    assert_eq!(
        passed
            .iter()
            .filter(|id| id.starts_with("ssh-info/"))
            .count(),
        10,
        "{passed:?}"
    );
    // The system resolver's queries to port 53 reach the scenario's DNS.
    assert!(
        passed
            .iter()
            .any(|id| id == "mx-lookup/12-truncated-answer-system-resolver"),
        "{passed:?}"
    );
}

#[test]
fn the_system_resolvers_queries_reach_the_scenarios_dns_and_its_bugs_show() {
    // A resolver that never retries over TCP after a truncated answer: on one loopback its
    // queries to port 53 (the name server of /etc/resolv.conf, whatever its address) are
    // moved to the scenario's DNS, which truncates; the scenario fails as with namespaces.
    harness()
        .env("HARNESS_NO_NAMESPACES", "1")
        .args(["--target", "fixtures/submissions/mx-lookup-udp-no-tcp"])
        .args(["--seed", "1", "--verbose", "mx-lookup/12-*"])
        .assert()
        .stdout(predicate::str::contains("FAIL    mx-lookup/12-"))
        .stdout(predicate::str::is_match("moved send 53>[0-9]+").unwrap());
}

#[test]
fn where_the_warden_owns_the_datagram_sockets_a_task_that_uses_udp_passes() {
    // As where the machine refuses the warden a copy of a program's sockets (Docker's
    // default profile): the good sample's UDP programs, Python's and the DNS lookup's,
    // pass with their sockets made by the warden.
    harness()
        .env("HARNESS_NO_NAMESPACES", "1")
        .env("HARNESS_SANDBOX_WARDEN", "owner")
        .args(["--target", "fixtures/submissions/good", "--seed", "1"])
        .args([
            "--task",
            "upper-udp",
            "--task",
            "udp-pinger",
            "--task",
            "mx-lookup",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(" 0 failed"))
        .stdout(predicate::str::contains(
            "its UDP sockets made by the warden",
        ));
}

#[test]
fn where_the_warden_owns_the_datagram_sockets_the_browser_still_runs() {
    // The browser's processes pass descriptors with `sendmsg`, which the owning warden's
    // filter refuses: it runs as where no warden runs (it failed at once before).
    harness()
        .env("HARNESS_NO_NAMESPACES", "1")
        .env("HARNESS_SANDBOX_WARDEN", "owner")
        .args(["--target", "fixtures/submissions/good", "--seed", "1"])
        .arg("web-server/14-*")
        .assert()
        .success()
        .stdout(predicate::str::contains("PASS    web-server/14-"));
}

#[test]
fn where_the_warden_owns_the_datagram_sockets_a_stream_sent_by_sendmsg_still_goes() {
    // There the filter refuses `sendmsg` on any socket not the warden's (its ancillary data
    // could pass a datagram socket on); the interposed library sends a message without
    // any as one `sendto` (Python's asyncio writes a stream's buffers with `sendmsg`). A
    // client that sends with `sendmsg` passes, as everywhere else.
    let folder = tempfile::tempdir().unwrap();
    let good = common::kit_root().join("fixtures/submissions/good");
    let client = std::fs::read_to_string(good.join("message-client.py"))
        .unwrap()
        .replace("sock.send(data[total:])", "sock.sendmsg([data[total:]])");
    assert!(client.contains("sendmsg"));
    std::fs::write(folder.path().join("message-client.py"), client).unwrap();
    std::fs::copy(
        good.join("message-server.py"),
        folder.path().join("message-server.py"),
    )
    .unwrap();
    harness()
        .env("HARNESS_NO_NAMESPACES", "1")
        .env("HARNESS_SANDBOX_WARDEN", "owner")
        .arg("--target")
        .arg(folder.path())
        .args(["--seed", "1", "message/02-*"])
        .assert()
        .success()
        .stdout(predicate::str::contains("PASS    message/02-"));
}

#[rstest::rstest]
fn a_udp_program_reaches_no_port_of_the_machines_outside_its_scenarios_block(
    #[values("on", "owner")] warden: &str,
) {
    // A grader's UDP service beside the grading, on a port the kernel picked (outside every
    // scenario's block). The hostile converter sends to it every way, on copies of its
    // socket too; it passes only if no datagram leaves, and the service receives nothing.
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_nonblocking(true).unwrap();
    let port = udp.local_addr().unwrap().port();
    let report = tempfile::NamedTempFile::new().unwrap();
    harness()
        .env("HARNESS_NO_NAMESPACES", "1")
        .env("HARNESS_SANDBOX_WARDEN", warden)
        .args([
            "--target",
            "fixtures/submissions/upper-udp-hostile-grader-services",
        ])
        .args(["--seed", "1", "upper-udp/01-*", "--json"])
        .arg(report.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("PASS    upper-udp/01-"));
    // It did try the service, several ways, and was refused each time (its stderr says
    // `UDP PORT: N of N ways refused`).
    let said = std::fs::read_to_string(report.path()).unwrap();
    let line = format!("UDP {port}: ");
    let counts = said
        .split(&line)
        .nth(1)
        .and_then(|rest| rest.split(" ways refused").next())
        .unwrap_or_else(|| panic!("{line} in {said}"));
    let (refused, ways) = counts.split_once(" of ").unwrap();
    assert!(ways.parse::<u32>().unwrap() >= 5, "{counts}");
    assert_eq!(refused, ways, "{said}");
    let mut buffer = [0u8; 64];
    assert_eq!(
        udp.recv_from(&mut buffer).map(|_| ()).unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock
    );
}

#[rstest::rstest]
fn a_program_reaches_no_port_of_the_machines_outside_its_scenarios_block(
    #[values("on", "owner", "off")] warden: &str,
) {
    // A grader's services beside the grading, on ports the kernel picked (among its
    // outgoing ports, outside every scenario's block): a TCP listener and a UDP socket.
    // The hostile server tries each by connect, by a TCP Fast Open and by a datagram; it
    // passes only if none of them leaves, and the services receive nothing. Without the
    // warden (as in Docker's default profile) its UDP is walled all the same: a message
    // server's task uses none, so it gets no UDP socket.
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    tcp.set_nonblocking(true).unwrap();
    udp.set_nonblocking(true).unwrap();
    let output = harness()
        .env("HARNESS_NO_NAMESPACES", "1")
        .env("HARNESS_SANDBOX_WARDEN", warden)
        .args([
            "--target",
            "fixtures/submissions/message-hostile-grader-services",
        ])
        .args(["--seed", "1", "message/01-*"])
        .assert()
        .success()
        .stdout(predicate::str::contains("PASS    message/01-"));
    if warden == "off" {
        output.stdout(predicate::str::contains(
            "TCP bind and connect on its scenario's own ports only, no UDP where its task and scenario use none, and no unix socket but a socketpair",
        ));
    }
    let nothing = std::io::ErrorKind::WouldBlock;
    assert_eq!(tcp.accept().map(|_| ()).unwrap_err().kind(), nothing);
    let mut buffer = [0u8; 64];
    assert_eq!(
        udp.recv_from(&mut buffer).map(|_| ()).unwrap_err().kind(),
        nothing
    );
}

#[rstest::rstest]
fn a_program_takes_no_claim_on_a_block_of_ports(#[values("on", "owner", "off")] warden: &str) {
    // The hostile server tries every block's claim file by raw system calls: opens, locks,
    // renames and removes those there (its own scenario's among them, held while it runs),
    // makes a file, a link, a named pipe or a unix socket in the place of the others. It
    // passes only if it reaches none in the machine's /tmp (it prints what it reached on
    // stdout, where the message belongs).
    let report = tempfile::NamedTempFile::new().unwrap();
    harness()
        .env("HARNESS_NO_NAMESPACES", "1")
        .env("HARNESS_SANDBOX_WARDEN", warden)
        .args([
            "--target",
            "fixtures/submissions/message-hostile-port-claims",
        ])
        .args(["--seed", "1", "message/01-*", "--json"])
        .arg(report.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("PASS    message/01-"));
    // With a view its /tmp is its own (it finds no claim there, and what it makes claims
    // nothing); without one (a platform's container: also `container.rs`), Landlock refuses
    // it every claim of the machine's /tmp.
    let expected = if sandbox::layers().allows(sandbox::Layer::View).is_ok() {
        "claims in the machine's /tmp: no;"
    } else {
        "claims in the machine's /tmp: yes; reached 0;"
    };
    let said = std::fs::read_to_string(report.path()).unwrap();
    assert!(said.contains(expected), "{expected} in {said}");
}

#[test]
fn in_a_platforms_container_a_program_takes_no_claim_on_a_block_of_ports() {
    if !common::running_as_root() {
        // Without root there is no CAP_SYS_ADMIN to take away: as an ordinary user the
        // test above runs the fixture with what this machine allows.
        return;
    }
    // No view: the program's /tmp is the machine's, where its own scenario's claim is; only
    // Landlock stands between it and the claims.
    let folder = common::kit_for_anyone(&["message-hostile-port-claims"]);
    let kit = folder.path();
    let json = kit.join("report.json");
    let output = in_a_stand_in(kit)
        .arg("--target")
        .arg(kit.join("fixtures/submissions/message-hostile-port-claims"))
        .arg("--scenarios")
        .arg(kit.join("scenarios"))
        .args(["--seed", "1", "message/01-*", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    let console = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{console}");
    assert!(console.contains("PASS    message/01-"), "{console}");
    let said = std::fs::read_to_string(&json).unwrap();
    let expected = "claims in the machine's /tmp: yes; reached 0;";
    assert!(said.contains(expected), "{expected} in {said}");
}
