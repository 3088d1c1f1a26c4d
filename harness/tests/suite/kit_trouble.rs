//! Issue 50 §1: a step of the kit's own that fails (a folder it lays out, the test CA, the
//! test web site, a program's output files, the scenario's DNS, a pack peer's remote
//! machine or data port) is reported as the kit's: an ERROR whose first line says "the
//! harness could not …: not a defect of your program", with no hint and no points lost,
//! never the program's FAIL. Each failure is forced by `HARNESS_TEST_FAIL_SETUP` (see
//! `harness::temporary::failed_on_purpose`), which fails the step as a full `/tmp` or a
//! taken port would.

use crate::common::{harness, kit_root, submission};

/// A sample file of the good submission.
fn good(file: &str) -> String {
    std::fs::read_to_string(kit_root().join("fixtures/submissions/good").join(file)).unwrap()
}

/// The line under a failure's heading (`── ERROR id …`) in the terminal report: the
/// failure's first line.
fn first_line<'a>(stdout: &'a str, id: &str) -> &'a str {
    stdout
        .lines()
        .skip_while(|line| !(line.starts_with("── ") && line.contains(id)))
        .nth(1)
        .unwrap_or_default()
        .trim()
}

/// Grades `files` (of the good submission) on `scenario` with set-up step `step` made to
/// fail; the report's stdout, after checking that the scenario is the harness's ERROR, with
/// no hint and no points, and that its first line opens with `opening`.
fn kit_failure_is_an_error(step: &str, files: &[&str], scenario: &str, opening: &str) -> String {
    let texts: Vec<(String, String)> = files
        .iter()
        .map(|file| (file.to_string(), good(file)))
        .collect();
    let named: Vec<(&str, &str)> = texts
        .iter()
        .map(|(file, text)| (file.as_str(), text.as_str()))
        .collect();
    let folder = submission(&named);
    let output = harness()
        .env(harness::temporary::FAIL_ON_PURPOSE_VARIABLE, step)
        .arg("--target")
        .arg(folder.path())
        .args(["--seed", "1", scenario])
        .output()
        .expect("the harness runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(stdout.contains(&format!("ERROR   {scenario}")), "{stdout}");
    let first = first_line(&stdout, scenario);
    assert!(first.starts_with(opening), "{step}: {first}\n{stdout}");
    assert!(
        first.contains(": not a defect of your program"),
        "{step}: {first}"
    );
    assert!(!stdout.contains("  hint "), "{step}: {stdout}");
    assert!(stdout.contains("0/0 points"), "{step}: {stdout}");
    stdout
}

/// The files a program's stdout and stderr are kept in could not be made: the program
/// was never started, through no fault of its own (before: "Your server failed a check
/// (step 1: start server): expected `…` to start, but saw it could not be started").
#[test]
fn a_programs_output_files_that_cannot_be_made_are_the_harness_trouble() {
    kit_failure_is_an_error(
        "harness-output-",
        &["message-server.py", "message-client.py"],
        "message/02-client-sends-stdin",
        "The harness could not start server (`",
    );
}

/// The test CA every real program is told to trust could not be written.
#[test]
fn a_test_ca_that_cannot_be_made_is_the_harness_trouble() {
    kit_failure_is_an_error(
        "socket-lab-ca-",
        &["smtp-client.py"],
        "smtp-client/01-delivers-a-message",
        "The harness could not set up this step (step 2: start client",
    );
}

/// The test web site a web server serves could not be laid out.
#[test]
fn a_test_web_site_that_cannot_be_laid_out_is_the_harness_trouble() {
    kit_failure_is_an_error(
        "socket-lab-site-",
        &["web-server.py"],
        "web-server/01-text-file",
        "The harness could not set up this step (step 1: start server",
    );
}

/// The folder an FTP client uploads from (`dir = { tree = … }`) could not be laid out.
#[test]
fn a_folder_that_cannot_be_laid_out_is_the_harness_trouble() {
    kit_failure_is_an_error(
        "socket-lab-dir-",
        &["ftp-upload.py"],
        "ftp-upload/01-binary-byte-exact",
        "The harness could not set up this step (step 2: start client",
    );
}

/// The FTP peer could not open a passive data port: the client was answered `425`
/// (before: the client's failure to store the file).
#[test]
fn an_ftp_data_port_that_cannot_be_opened_is_the_harness_trouble() {
    kit_failure_is_an_error(
        "ftp-data",
        &["ftp-upload.py"],
        "ftp-upload/01-binary-byte-exact",
        "The harness could not set up its server ftp: the FTP peer could not open a passive data port",
    );
}

/// The SSH peer's remote machine could not be made: the client read `harness: …` and
/// exit status 126 instead of the machine's figures (before: the client's failure).
#[test]
fn an_ssh_remote_machine_that_cannot_be_made_is_the_harness_trouble() {
    kit_failure_is_an_error(
        "harness-ssh-remote-",
        &["ssh-info.py"],
        "ssh-info/01-password-known-host",
        "The harness could not set up its server ssh: the SSH peer's remote machine could not run `",
    );
}

/// The scenario's DNS could not bind its port: a program asking the system's resolver
/// got no answer (before: "names will not resolve" in the log, and the program's FAIL).
#[test]
fn a_dns_that_cannot_bind_is_the_harness_trouble_where_a_scenario_fails() {
    kit_failure_is_an_error(
        "dns",
        &["mx-lookup.py"],
        "mx-lookup/02-system-resolver",
        "The harness could not answer the scenario's names with its DNS: the harness's DNS could not listen",
    );
}
