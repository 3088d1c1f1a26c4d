//! Issue 50 §2: a report shows the values a scenario really used and what a program sent
//! as it sent it; a manifest's dropped option is noted wherever a failure may depend on
//! it; a program is named by its task's role, never by the name a scenario gives it.

use crate::common::{failure_first_line, fixture_file, graded_stdout, submission};

/// A sample file of the good submission.
fn good(file: &str) -> String {
    fixture_file("good", file)
}

/// The first line of `scenario`'s failure when `files` are graded on it.
fn first_line(files: &[(&str, &str)], scenario: &str) -> String {
    let folder = submission(files);
    let stdout = graded_stdout(folder.path(), scenario);
    let first = failure_first_line(&stdout, scenario);
    assert!(!first.is_empty(), "no failure of {scenario}:\n{stdout}");
    first.to_owned()
}

/// What the program sent is shown as it sent it, not as the peer parsed it (before:
/// "expected MAIL FROM:<mao@gov.cn>, but saw MAIL FROM:<>"); the sender is the one the
/// manifest declares (`with`), and its dropped `--from` is no handicap.
#[test]
fn an_envelope_command_is_shown_as_the_program_sent_it() {
    let fixture = "smtp-client-unbracketed-sender";
    let first = first_line(
        &[
            ("smtp-client.py", &fixture_file(fixture, "smtp-client.py")),
            ("submission.toml", &fixture_file(fixture, "submission.toml")),
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

/// A pinger whose `--count 3` the manifest drops pings ten times: its failure says so in
/// its first line, though the requirement never says "count" (before: no note).
#[test]
fn a_dropped_option_is_noted_where_a_failure_of_its_program_depends_on_it() {
    // The fixture's manifest runs the good pinger from the folder beside it.
    let manifest =
        fixture_file("udp-pinger-drops-count", "submission.toml").replace("../good/", "");
    let first = first_line(
        &[
            ("udp-pinger-client.py", &good("udp-pinger-client.py")),
            ("submission.toml", &manifest),
        ],
        "udp-pinger/03-every-ping-lost",
    );
    assert!(
        first.contains(
            "(note: submission.toml drops `--count 3` from the client's command line, and this scenario depends on it)"
        ),
        "{first}"
    );
}

/// imap-read/14 starts its reader as `direct`: a failure names it "your reader" (before:
/// "Your direct failed a check").
#[test]
fn a_program_is_named_by_its_role_not_by_its_name_in_the_scenario() {
    let first = first_line(
        &[("imap-read.py", "print('no mail today')\n")],
        "imap-read/14-certificate-for-another-name",
    );
    assert!(first.starts_with("Your reader "), "{first}");
    assert!(!first.to_lowercase().contains("your direct"), "{first}");
}
