//! Issue 50 §1: a step of the kit's own that fails (a folder it lays out, the test CA, the
//! test web site, a program's output files, the scenario's DNS, a pack peer's remote
//! machine or data port) is reported as the kit's: an ERROR whose first line says "the
//! harness could not …: not a defect of your program", with no hint and no points lost,
//! never the program's FAIL. Each failure is forced by `HARNESS_TEST_FAIL_SETUP` (see
//! `harness::temporary::failed_on_purpose`), which fails the step as a full `/tmp` or a
//! taken port would.
//!
//! And "your client never ran" is said only of a program that printed nothing and opened
//! no connection: one that did ran, whatever its stderr says after.

use crate::common::{
    failure_first_line as first_line, fixture_file, graded_stdout, harness, kit_root, submission,
};

/// A sample file of the good submission.
fn good(file: &str) -> String {
    fixture_file("good", file)
}

/// Grades `files` (of the good submission) on `scenario` with set-up step `step` made to
/// fail; the report's stdout, after checking that the scenario is the harness's ERROR, with
/// no hint and no points, and that its first line opens with `opening`.
fn kit_failure_is_an_error(step: &str, files: &[&str], scenario: &str, opening: &str) -> String {
    let made_to_fail = (
        harness::temporary::FAIL_ON_PURPOSE_VARIABLE,
        std::ffi::OsStr::new(step),
    );
    an_error_with(made_to_fail, files, scenario, opening)
}

/// [`kit_failure_is_an_error`] with the harness's environment variable `variable` set to
/// what makes the kit's own step fail.
fn an_error_with(
    (variable, value): (&str, &std::ffi::OsStr),
    files: &[&str],
    scenario: &str,
    opening: &str,
) -> String {
    let step = value.to_string_lossy();
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
        .env(variable, value)
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

/// The unnamed files a program's stdout and stderr are kept in could not be made: the program
/// was never started, through no fault of its own (before: "Your server failed a check
/// (step 1: start server): expected `…` to start, but saw it could not be started").
#[test]
fn a_programs_output_files_that_cannot_be_made_are_the_harness_trouble() {
    kit_failure_is_an_error(
        "output-capture",
        &["message-server.py", "message-client.py"],
        "message/02-client-sends-stdin",
        "The harness could not start server (step 1: start server): output-capture failed on purpose",
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

/// A working folder the manifest puts where a scenario leaves a folder missing on purpose
/// (`workdir = "{dir}"` on mail-archive/08) is the submission's choice, not the harness's
/// trouble: the scenario still counts against it (else the manifest would be a way out).
#[test]
fn a_workdir_the_scenario_leaves_missing_is_the_submissions() {
    let folder = submission(&[
        ("mail-archive.py", &good("mail-archive.py")),
        (
            "submission.toml",
            "[mail-archive]\nclient = { command = \"python3 mail-archive.py {dir} --server {host}:{port}\", workdir = \"{dir}\" }\n",
        ),
    ]);
    let stdout = graded_stdout(folder.path(), "mail-archive/08-missing-folder");
    let first = first_line(&stdout, "mail-archive/08-missing-folder");
    assert!(
        first.starts_with("Your client could not be started: "),
        "{first}\n{stdout}"
    );
    assert!(!first.contains("not a defect of your program"), "{first}");
    assert!(stdout.contains("0/1 points"), "{stdout}");
}

/// A command the manifest names that does not exist is the submission's: the first line
/// names the program by its role and says what to fix, the program's line says it never
/// ran (before: "Your program failed a check (step 1: start client …): … but saw it could
/// not be started: …" with the scenario's hint about `ConnectionRefusedError`, and the
/// program "still running at the end: killed by the harness").
#[test]
fn a_command_that_does_not_exist_is_the_programs_and_named_by_its_role() {
    let folder = submission(&[
        ("message-server.py", &good("message-server.py")),
        (
            "submission.toml",
            "[message]\nclient = \"./no-such-client {host} {port}\"\nserver = \"python3 message-server.py {port}\"\n",
        ),
    ]);
    let scenario = "message/13-client-without-server";
    let stdout = graded_stdout(folder.path(), scenario);
    let first = first_line(&stdout, scenario);
    assert!(
        first.starts_with("Your client could not be started: ./no-such-client: no such file"),
        "{first}\n{stdout}"
    );
    assert!(
        first.contains("the command submission.toml gives it must name a file of the submission"),
        "{first}"
    );
    assert!(!first.contains("ConnectionRefusedError"), "{first}");
    assert!(
        stdout.contains("could not be started: ./no-such-client: no such file")
            && !stdout.contains("still running at the end"),
        "{stdout}"
    );
    assert!(stdout.contains("0/1 points"), "{stdout}");
}

/// The first line of message/02's failure for the good server and a message client of
/// `client` (Python).
fn client_first_line(client: &str) -> String {
    let folder = submission(&[
        ("message-server.py", &good("message-server.py")),
        ("message-client.py", client),
    ]);
    let stdout = graded_stdout(folder.path(), "message/02-client-sends-stdin");
    first_line(&stdout, "message/02-client-sends-stdin").to_owned()
}

/// A Python message client that connects, runs `body`, and in its `finally` closes the
/// socket and then names a variable it never defined.
fn client_failing_in_finally(body: &str) -> String {
    format!(
        "import socket, sys\n\
         s = socket.create_connection((sys.argv[1], int(sys.argv[2])))\n\
         try:\n\
         {body}\
         finally:\n\
         \x20   s.close()\n\
         \x20   sock.close()\n"
    )
}

/// Issue 50 §1: a client that printed three lines and then raised a `NameError` in its
/// `finally` ran; so did one that only connected and sent before it; one that raised it
/// before doing anything never ran (before: "Your client never ran: a name it uses is not
/// defined" for all three).
#[test]
fn a_client_that_printed_or_connected_before_its_name_error_ran() {
    let printed =
        client_first_line(
            &std::fs::read_to_string(kit_root().join(
                "fixtures/submissions/message-client-name-error-in-finally/message-client.py",
            ))
            .unwrap(),
        );
    assert!(!printed.contains("never ran"), "{printed}");
    assert!(
        printed.starts_with("Your client exited with status 1"),
        "{printed}"
    );
    assert!(printed.contains("NameError"), "{printed}");

    let connected = client_first_line(&client_failing_in_finally(
        "\x20   s.sendall(sys.stdin.buffer.read())\n",
    ));
    assert!(!connected.contains("never ran"), "{connected}");
    assert!(
        connected.starts_with("Your client exited with status 1"),
        "{connected}"
    );

    let never = client_first_line("import socket, sys\nsock.close()\n");
    assert!(
        never.starts_with("Your client never ran: a name it uses is not defined"),
        "{never}"
    );
}

/// A server that accepted a connection and read from it before a `NameError` ran too
/// (before: "Your server never ran: a name it uses is not defined").
#[test]
fn a_server_that_accepted_a_connection_before_its_name_error_ran() {
    let server = "import socket, sys\n\
                  s = socket.socket()\n\
                  s.bind(('', int(sys.argv[1])))\n\
                  s.listen(5)\n\
                  c, _ = s.accept()\n\
                  c.recv(4096)\n\
                  print_bytes(c)\n";
    let folder = submission(&[("message-server.py", server)]);
    let stdout = graded_stdout(folder.path(), "message/01-text-20k");
    let first = first_line(&stdout, "message/01-text-20k");
    assert!(first.starts_with("Your server "), "{first}\n{stdout}");
    assert!(!first.contains("never ran"), "{first}");
}

/// `past_its_start` (a scenario about an error a program must meet) holds for a program that
/// printed on its stdout, whatever its stderr says after: a client that says `Connecting...`,
/// meets the refused connection and reports it with a usage reminder ran (before: "it
/// stopped before: a usage message: it refused its command line"). One that prints only the
/// usage line still did not get past its start.
#[test]
fn a_program_that_printed_got_past_its_start() {
    let client = |printed: &str| {
        format!(
            "import socket, sys\n\
             {printed}\
             try:\n\
             \x20   socket.create_connection((sys.argv[1], int(sys.argv[2])))\n\
             except OSError as error:\n\
             \x20   print('cannot connect:', error, file=sys.stderr)\n\
             \x20   print('usage: upper-tcp-client.py HOST PORT', file=sys.stderr)\n\
             \x20   sys.exit(1)\n"
        )
    };
    let scenario = "upper-tcp/10-client-without-server";
    let grade = |text: &str| {
        let folder = submission(&[
            ("upper-tcp-server.py", &good("upper-tcp-server.py")),
            ("upper-tcp-client.py", text),
        ]);
        graded_stdout(folder.path(), scenario)
    };
    let stdout = grade(&client("print('Connecting...', flush=True)\n"));
    assert!(stdout.contains(&format!("PASS    {scenario}")), "{stdout}");
    let stdout = grade(&client(""));
    assert!(stdout.contains(&format!("FAIL    {scenario}")), "{stdout}");
    assert!(
        stdout.contains("it stopped before: a usage message"),
        "{stdout}"
    );
}

/// `sandbox-init` that fails before the program runs (a wall it could not raise: status
/// 125, why on its stderr, no report of the program's exit) is the harness's trouble, named
/// with that reason, never the program's exit with status 125. A script stands in for it
/// where it starts a program (the harness's probes of the layers still reach the real one).
#[test]
fn a_sandbox_that_fails_before_the_program_runs_is_the_harness_trouble() {
    let real = sandbox::locate_init(&kit_root()).expect("sandbox-init is built");
    let folder = tempfile::tempdir().unwrap();
    let init = folder.path().join("sandbox-init");
    std::fs::write(
        &init,
        format!(
            "#!/bin/sh\n\
             case \" $* \" in *' --report-fd '*)\n\
             echo 'sandbox-init: cannot raise the walls: refused by this test' >&2; exit 125;;\n\
             esac\n\
             exec '{}' \"$@\"\n",
            real.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&init, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let stdout = an_error_with(
        ("HARNESS_SANDBOX_INIT", init.as_os_str()),
        &["message-server.py"],
        "message/01-text-20k",
        "The harness could not start server in its sandbox: cannot raise the walls: refused by this test",
    );
    assert!(!stdout.contains("status 125"), "{stdout}");
    assert!(
        stdout.contains("could not be started: its sandbox could not be built"),
        "{stdout}"
    );
}
