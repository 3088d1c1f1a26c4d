//! The small internet inside every scenario, seen from the report: a client that hard-codes
//! a name, an address or a well-known port reaches the scenario's peer, and the step log
//! says what it asked for. (That the fixtures pass as submitted is `fixtures.rs`'s; these
//! read what the report says about them.)

use crate::common;

use assert_cmd::Command;

/// `harness --verbose --target <fixture> <patterns>`: its exit status and stdout.
fn grade(target: &std::path::Path, patterns: &[&str]) -> (i32, String) {
    let output = Command::cargo_bin("harness")
        .unwrap()
        .arg("--verbose")
        .arg("--target")
        .arg(target)
        .args(["--seed", "1"])
        .args(patterns)
        .current_dir(common::kit_root())
        .env("NO_COLOR", "1")
        // Fixtures that borrow `../hard-coded-port/...`: the grader allows that folder.
        .env(
            harness::target::COMPANIONS_VARIABLE,
            std::env::join_paths(common::companion_folders()).unwrap(),
        )
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

fn fixture(name: &str) -> std::path::PathBuf {
    common::kit_root().join("fixtures/submissions").join(name)
}

#[test]
fn the_log_shows_the_name_a_client_looked_up_and_where_it_connected() {
    common::require_own_networks("the small internet");
    let (status, report) = grade(&fixture("upper-tcp-hard-coded-name"), &["upper-tcp/08-*"]);
    assert_eq!(status, 0, "{report}");
    assert!(
        report.contains("DNS: A servername. -> 127.0.0.1 (UDP to "),
        "{report}"
    );
    assert!(
        report.contains("client connected to 127.0.0.1:12000: the harness passed it on to "),
        "{report}"
    );
}

#[test]
fn the_log_shows_the_address_a_datagram_was_sent_to() {
    common::require_own_networks("the small internet");
    let (status, report) = grade(
        &fixture("upper-udp-hard-coded-address"),
        &["upper-udp/04-*"],
    );
    assert_eq!(status, 0, "{report}");
    assert!(
        report.contains("client sent a datagram to 192.0.2.10:12000"),
        "{report}"
    );
}

#[test]
fn a_mail_client_reaches_the_peer_on_port_587_of_a_name_it_hard_codes() {
    common::require_own_networks("the small internet");
    let (status, report) = grade(&fixture("smtp-client-hard-coded"), &["smtp-client/06-*"]);
    assert_eq!(status, 0, "{report}");
    assert!(
        report.contains("DNS: A smtp.example.com. -> 127.0.0.1"),
        "{report}"
    );
    assert!(
        report.contains(":587: the harness passed it on to mta"),
        "{report}"
    );
    assert!(
        report
            .contains("client hard-codes the login student@example.com with password hunter2-lab"),
        "{report}"
    );
}

/// The password the never-in-clear check looks for is the one `submission.toml` says the
/// client hard-codes: the same client, made to log in without TLS, fails on it.
#[test]
fn the_hard_coded_password_is_the_one_that_must_not_go_in_clear() {
    common::require_own_networks("the small internet");
    let folder = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(fixture("smtp-client-hard-coded")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), folder.path().join(entry.file_name())).unwrap();
    }
    let client = folder.path().join("smtp-client.py");
    let code = std::fs::read_to_string(&client).unwrap();
    // It logs in first, and only then refuses to go on without TLS (exit 1, on stderr):
    // every step before the never-in-clear check holds.
    let careless = code
        .replace("if args.user is not None and not args.starttls:", "if False:")
        .replace(
            "            server.login(USER, PASSWORD)\n",
            "            server.login(USER, PASSWORD)\n            if not args.starttls:\n                sys.exit(\"logged in without TLS: stopping\")\n",
        );
    assert_eq!(
        careless.matches("if False:").count(),
        1,
        "the refusal is there to move"
    );
    assert!(
        careless.contains("stopping"),
        "the login is there to refuse after"
    );
    std::fs::write(&client, careless).unwrap();
    let (status, report) = grade(folder.path(), &["smtp-client/07-*"]);
    assert_eq!(status, 1, "{report}");
    assert!(
        report.contains("the password `hunter2-lab` never to reach the server outside TLS"),
        "{report}"
    );
}
