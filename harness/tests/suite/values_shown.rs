//! Issue 50 §2: a report shows the values a scenario really used and what a program sent
//! as it sent it.

use crate::common::{harness, kit_root, submission};

/// A sample file of the good submission.
fn good(file: &str) -> String {
    std::fs::read_to_string(kit_root().join("fixtures/submissions/good").join(file)).unwrap()
}

/// The first line of `scenario`'s failure when `files` are graded on it.
fn first_line(files: &[(&str, &str)], scenario: &str) -> String {
    let folder = submission(files);
    let output = harness()
        .arg("--target")
        .arg(folder.path())
        .args(["--seed", "1", scenario])
        .output()
        .expect("the harness runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    stdout
        .lines()
        .skip_while(|line| !(line.starts_with("── ") && line.contains(scenario)))
        .nth(1)
        .unwrap_or_else(|| panic!("no failure of {scenario}:\n{stdout}"))
        .trim()
        .to_owned()
}

/// A mail client of raw sockets that hard-codes its sender, and writes it without the
/// angle brackets RFC 5321 puts around it: `MAIL FROM: mao@gov.cn`.
const UNBRACKETED_SENDER: &str = r#"import socket, sys
host, port = sys.argv[sys.argv.index('--server') + 1].rsplit(':', 1)
s = socket.create_connection((host, int(port)))
f = s.makefile('rb')
def reply():
    while True:
        line = f.readline()
        if line[3:4] != b'-':
            return line
def say(line):
    s.sendall(line.encode() + b'\r\n')
    return reply()
reply()
say('EHLO me')
say('MAIL FROM: mao@gov.cn')
say('RCPT TO:<bob@example.com>')
say('DATA')
say('From: mao@gov.cn\r\nTo: bob@example.com\r\nSubject: Lab report\r\n\r\n' + sys.stdin.read().replace('\n', '\r\n') + '.')
say('QUIT')
"#;

/// What the program sent is shown as it sent it, not as the peer parsed it (before:
/// "expected MAIL FROM:<mao@gov.cn>, but saw MAIL FROM:<>"); the sender is the one the
/// manifest declares (`with`), and its dropped `--from` is no handicap.
#[test]
fn an_envelope_command_is_shown_as_the_program_sent_it() {
    let manifest = "[smtp-client]\n\
                    client = { command = \"python3 smtp-client.py --server {host}:{port}\", drop = [\"--from\"], with = { \"--from\" = \"mao@gov.cn\" } }\n";
    let first = first_line(
        &[
            ("smtp-client.py", UNBRACKETED_SENDER),
            ("submission.toml", manifest),
        ],
        "smtp-client/01-delivers-a-message",
    );
    assert!(
        first.contains(
            "MAIL FROM:<mao@gov.cn>, but saw `MAIL FROM: mao@gov.cn`, without the angle brackets RFC 5321 §4.1.2 puts around the address"
        ),
        "{first}"
    );
    assert!(!first.contains("MAIL FROM:<>"), "{first}");
    assert!(!first.contains("note:"), "{first}");
}
