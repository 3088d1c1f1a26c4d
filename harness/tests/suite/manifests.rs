//! `submission.toml` fits the code students write, without editing it: a server bound to
//! one address, a port read from stdin, options a program does not take (dropped, and said
//! so in the verdict; or renamed), a value the program hard-codes (`with`), a login fixed in
//! the program, for every pack that keeps accounts, files beside a
//! web server (`site_files`), a stdin kept open (`hold_stdin`), Java's class path. Hard-coded ports and a web server serving its working
//! directory are `fixtures/submissions/hard-coded-port` (graded in `fixtures.rs`).

use crate::common;
use crate::common::{harness, submission};

use std::path::Path;

use predicates::prelude::*;

fn good(file: &str) -> String {
    common::fixture_file("good", file)
}

/// A message server printing what each client sends; `listen` is Python binding its socket
/// `s` (it may read the port first).
fn message_server(listen: &str) -> String {
    format!(
        "import socket, sys\n\
         s = socket.socket()\n\
         {listen}\n\
         s.listen(5)\n\
         while True:\n\
         \x20   c, _ = s.accept()\n\
         \x20   while True:\n\
         \x20       d = c.recv(4096)\n\
         \x20       if not d:\n\
         \x20           break\n\
         \x20       sys.stdout.buffer.write(d)\n\
         \x20       sys.stdout.buffer.flush()\n\
         \x20   c.close()\n"
    )
}

fn grade(folder: &Path, pattern: &str) -> assert_cmd::assert::Assert {
    harness()
        .arg("--target")
        .arg(folder)
        .args(["--seed", "1", pattern])
        .assert()
}

#[test]
fn a_server_bound_to_one_address_is_reached_there() {
    let server = message_server("s.bind(('127.0.1.1', int(sys.argv[1])))");
    let with_host = submission(&[
        ("server.py", &server),
        (
            "submission.toml",
            "[message]\nserver = { command = \"python3 server.py {port}\", host = \"127.0.1.1\" }\n",
        ),
    ]);
    grade(with_host.path(), "message/01-*")
        .success()
        .stdout(predicate::str::contains("1 passed, 0 failed"));
    // Without `host` the harness connects to 127.0.0.1, where nothing listens.
    let without = submission(&[
        ("server.py", &server),
        (
            "submission.toml",
            "[message]\nserver = \"python3 server.py {port}\"\n",
        ),
    ]);
    grade(without.path(), "message/01-*").code(1);
}

#[test]
fn a_server_reading_its_port_from_stdin_gets_it() {
    let server = message_server("s.bind(('', int(input())))");
    let folder = submission(&[
        ("server.py", &server),
        (
            "submission.toml",
            "[message]\nserver = { command = \"python3 server.py\", stdin = \"{port}\\n\" }\n",
        ),
    ]);
    grade(folder.path(), "message/01-*")
        .success()
        .stdout(predicate::str::contains("1 passed, 0 failed"));
}

/// A program named through `..` (an instructor's shared folder, which the grader gives
/// with `--companions`), from a submission under `/tmp`, which the sandbox covers with a
/// fresh `/tmp`: every folder the path walks through is there again, and so is its working
/// folder spelled `.`. Without `--companions` the manifest is refused.
#[test]
fn a_program_named_through_dot_dot_under_tmp_is_found() {
    let class = tempfile::tempdir().unwrap();
    let mine = class.path().join("mine");
    let shared = class.path().join("shared");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::write(
        shared.join("server.py"),
        message_server("s.bind(('', int(sys.argv[1])))"),
    )
    .unwrap();
    std::fs::write(
        mine.join("submission.toml"),
        "[message]\nserver = { command = \"python3 ../shared/server.py {port}\", workdir = \".\" }\n",
    )
    .unwrap();
    grade(&mine, "message/01-*")
        .code(2)
        .stderr(predicate::str::contains(
            "[message] server: `../shared/server.py` is outside the submission folder",
        ));
    harness()
        .arg("--companions")
        .arg(&shared)
        .arg("--target")
        .arg(&mine)
        .args(["--seed", "1", "message/01-*"])
        .assert()
        .success()
        .stdout(predicate::str::contains("1 passed, 0 failed"));
}

#[test]
fn a_manifest_naming_a_folder_outside_its_submission_stops_the_harness() {
    let folder = submission(&[
        (
            "server.py",
            &message_server("s.bind(('', int(sys.argv[1])))"),
        ),
        (
            "submission.toml",
            "[message]\nserver = \"python3 server.py {port}\"\nworkdir = \"/\"\n",
        ),
    ]);
    let manifest = folder
        .path()
        .canonicalize()
        .unwrap()
        .join("submission.toml");
    grade(folder.path(), "message/01-*")
        .code(2)
        .stderr(predicate::str::contains(format!(
            "{}:3: [message] workdir: `/` is outside the submission folder",
            manifest.display()
        )));
}

/// Two submissions graded together: `a` names `../b/server.py`, its classmate's program.
/// The harness refuses `a` (graded as nothing, the reason in its report) and grades `b`
/// alone: no program of `a` runs `b`'s file.
#[test]
fn a_submission_of_a_batch_cannot_run_a_classmates_program() {
    let class = tempfile::tempdir().unwrap();
    let (a, b) = (class.path().join("a"), class.path().join("b"));
    for folder in [&a, &b] {
        std::fs::create_dir_all(folder).unwrap();
    }
    std::fs::write(
        b.join("server.py"),
        message_server("s.bind(('', int(sys.argv[1])))"),
    )
    .unwrap();
    std::fs::write(
        b.join("submission.toml"),
        "[message]\nserver = \"python3 server.py {port}\"\n",
    )
    .unwrap();
    std::fs::write(
        a.join("submission.toml"),
        "[message]\nserver = \"python3 ../b/server.py {port}\"\n",
    )
    .unwrap();
    let json = class.path().join("report.json");
    harness()
        .arg("--target")
        .arg(&a)
        .arg("--target")
        .arg(&b)
        .args(["--seed", "1", "message/01-*", "--json"])
        .arg(&json)
        .assert()
        .code(1);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let submission = |folder: &Path| {
        report["submissions"]
            .as_array()
            .unwrap()
            .iter()
            // A batch names each submission by its folder.
            .find(|submission| {
                submission["label"] == folder.file_name().unwrap().to_string_lossy().as_ref()
            })
            .unwrap_or_else(|| panic!("{} is in the report: {report}", folder.display()))
            .clone()
    };
    let (of_a, of_b) = (submission(&a), submission(&b));
    let problem = of_a["problem"].as_str().unwrap_or_default();
    assert!(
        problem.contains("[message] server: `../b/server.py` is outside the submission folder"),
        "{of_a}"
    );
    assert_eq!(
        of_a["scenarios"].as_array().map(Vec::len),
        Some(0),
        "{of_a}"
    );
    assert_eq!(of_b["problem"], serde_json::Value::Null, "{of_b}");
    assert_eq!(of_b["scenarios"][0]["status"], "pass", "{of_b}");
}

#[test]
fn a_dropped_option_is_named_in_the_verdict_of_a_scenario_that_needs_it() {
    // A pinger server that takes only its port: told to drop `--loss`, it runs, answers
    // every ping, and the loss scenario fails saying that the option was left out.
    let server = "import socket, sys\n\
                  s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
                  s.bind(('', int(sys.argv[1])))\n\
                  while True:\n\
                  \x20   m, a = s.recvfrom(2048)\n\
                  \x20   s.sendto(m.upper(), a)\n";
    let folder = submission(&[
        ("server.py", server),
        (
            "submission.toml",
            "[udp-pinger]\nserver = { command = \"python3 server.py {port}\", drop = [\"--loss\"] }\n",
        ),
    ]);
    grade(folder.path(), "udp-pinger/05-*")
        .code(1)
        .stdout(predicate::str::contains(
            "submission.toml drops `--loss 0.3` from the server's command line, and this scenario depends on it",
        ));
}

#[test]
fn a_renamed_option_reaches_the_program_under_its_name() {
    // The good pinger client, taking `-n 3` where the scenario says `--count 3`.
    let client = good("udp-pinger-client.py").replace("\"--count\"", "\"-n\", dest=\"count\"");
    assert!(client.contains("\"-n\""));
    let folder = submission(&[
        ("ping.py", &client),
        (
            "submission.toml",
            "[udp-pinger]\nclient = { command = \"python3 ping.py {host} {port}\", rename = { \"--count\" = \"-n\" } }\n",
        ),
    ]);
    grade(folder.path(), "udp-pinger/03-*")
        .success()
        .stdout(predicate::str::contains("1 passed, 0 failed"));
}

#[test]
fn manifest_settings_that_cannot_work_are_refused_with_their_line() {
    for (manifest, error) in [
        (
            "[message]\nhost = \"localhost\"\n",
            "submission.toml:2: `host` must be an IP address",
        ),
        (
            "[message]\nserver = { port = 1 }\n",
            "submission.toml:2: role `server` has no `command`",
        ),
        (
            "[message]\nserver = { command = \"x\", colour = 1 }\n",
            "submission.toml:2: unknown key `colour` for role `server`",
        ),
        (
            "[udp-pinger]\ndrop = \"--loss\"\n",
            "submission.toml:2: `drop` must be a list of options",
        ),
        (
            "[web-server]\nworkdir = \"nowhere\"\n",
            "or write \"{dir}\" for the test web site",
        ),
        (
            "[password]\nwith = \"1234\"\n",
            "submission.toml:2: `with` must map the role's placeholders",
        ),
        (
            "[web-server]\nsite_files = [\"../secret\"]\n",
            "submission.toml:2: site_files: `../secret` is not a file or folder of the submission",
        ),
        (
            "[message]\nserver = \"python3 s.py {port}\"\nsite_files = [\"submission.toml\"]\n",
            "submission.toml:1: [message] server: `site_files` are copied into the test web site, but this program does not use it",
        ),
        (
            "[chat]\nhold_stdin = \"yes\"\n",
            "submission.toml:2: `hold_stdin` must be true or false",
        ),
        (
            "[ftp-upload]\nwith = { file = \"../test.bin\" }\n",
            "submission.toml:2: [ftp-upload] with: `file = \"../test.bin\"` must be the path the program opens, relative to where it runs",
        ),
        (
            "[ftp-upload]\nwith = { file = \"/home/me/test.bin\" }\n",
            "must be the path the program opens, relative to where it runs",
        ),
        (
            "[ftp-upload]\nwith = { file = \"test\\n.bin\" }\n",
            "must be the path the program opens, relative to where it runs",
        ),
        (
            "[ftp-upload]\nclient = { command = \"python3 up.py\", workdir = \".\", with = { file = \"test.bin\" } }\n",
            "submission.toml:1: [ftp-upload] client: `with = { file = \"test.bin\" }` runs the program in a fresh folder holding the scenario's file under that name; leave out `workdir`",
        ),
    ] {
        let folder = submission(&[("submission.toml", manifest)]);
        harness()
            .arg("--target")
            .arg(folder.path())
            .assert()
            .code(2)
            .stderr(predicate::str::contains(error));
    }
}

/// A declared login that a pack of its task cannot carry is the manifest's error, named by
/// its key, before any scenario runs (exit 2): not a failure the program seems to have in
/// every scenario that logs in. One per pack that checks a login.
#[test]
fn a_declared_login_its_protocol_cannot_carry_is_refused_with_its_key() {
    let long_user = "u".repeat(200);
    for (manifest, error) in [
        (
            "[ftp-upload]\nuser = \"me\\r\\nSTOR x\"\n".to_owned(),
            "submission.toml:2: [ftp-upload] user: holds a line break; FTP reads a login off one command line, so its user names cannot hold CR or LF".to_owned(),
        ),
        (
            "[pop3-fetch]\nuser = \"me\"\npassword = \"pass\\nword\"\n".to_owned(),
            "submission.toml:3: [pop3-fetch] password: holds a line break; POP3".to_owned(),
        ),
        (
            "[imap-read]\nreader = { command = \"python3 r.py\", user = \"me\\r\" }\n".to_owned(),
            "submission.toml:2: [imap-read] reader user: holds a line break; IMAP".to_owned(),
        ),
        (
            "[smtp-client]\nuser = \"\"\n".to_owned(),
            "submission.toml:2: [smtp-client] user: is empty; SMTP's login names a user".to_owned(),
        ),
        (
            "[ssh-info]\npassword = \"pass\\u0000word\"\n".to_owned(),
            "submission.toml:2: [ssh-info] password: holds a NUL character".to_owned(),
        ),
        (
            format!("[mysql-remote]\nclient = {{ command = \"python3 c.py\", user = \"{long_user}\" }}\n"),
            "submission.toml:2: [mysql-remote] client user: 200 characters; MySQL user names hold at most 128".to_owned(),
        ),
        (
            "[mysql-remote]\nuser = \"u\u{1F600}\"\npassword = \"pw\"\n".to_owned(),
            "submission.toml:2: [mysql-remote] user: holds `\u{1F600}` (U+1F600), outside Unicode's Basic Multilingual Plane; MySQL user names hold only characters of three UTF-8 bytes at most (MariaDB refuses the account, error 1470)".to_owned(),
        ),
        (
            "[mysql-remote]\nuser = \"root\"\npassword = \"\"\n".to_owned(),
            "submission.toml:3: [mysql-remote] password: is empty; a MySQL client sends no scramble".to_owned(),
        ),
        (
            "[xmlrpc]\nuser = \"ad:min\"\n".to_owned(),
            "submission.toml:2: [xmlrpc] user: holds `:`; HTTP Basic sends `user:password`".to_owned(),
        ),
    ] {
        let folder = submission(&[("submission.toml", &manifest)]);
        harness()
            .arg("--target")
            .arg(folder.path())
            .assert()
            .code(2)
            .stderr(predicate::str::contains(error));
    }
}

/// `fixtures/submissions/manifest-extras` (graded whole in `fixtures.rs`, where it passes
/// everything) copied with its manifest's line `setting` taken out: the program no longer
/// runs as its author meant.
fn manifest_extras_without(setting: &str) -> tempfile::TempDir {
    let fixture = common::kit_root().join("fixtures/submissions/manifest-extras");
    let copy = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&fixture).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, copy.path().join(path.file_name().unwrap())).unwrap();
    }
    let manifest = copy.path().join("submission.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let edited = text.replace(setting, "");
    assert_ne!(text, edited, "`{setting}` is in the fixture's manifest");
    std::fs::write(&manifest, edited).unwrap();
    copy
}

#[test]
fn a_password_the_server_hard_codes_is_the_one_the_scenario_uses() {
    let without = manifest_extras_without(", with = { password = \"1234\" }");
    grade(without.path(), "password/01-*")
        .code(1)
        .stdout(predicate::str::contains("access granted"));
}

#[test]
fn an_error_page_beside_the_web_server_is_copied_into_the_site() {
    let without = manifest_extras_without("site_files = [\"404.html\"]");
    grade(without.path(), "web-server/05-*").code(1);
}

#[test]
fn a_server_that_stops_at_the_end_of_its_input_keeps_it_open() {
    let without = manifest_extras_without("hold_stdin = true");
    grade(without.path(), "chat/01-*").code(1);
}

#[test]
fn java_finds_its_classes_in_the_submission_folder() {
    // `java -cp . Server` and `java Server` run in a folder of their own, where `.` has no
    // classes: both name the submission folder. The class is compiled here, as a student's
    // folder holds it.
    let source = "import java.io.*; import java.net.*;\n\
        public class Server { public static void main(String[] a) throws Exception {\n\
          ServerSocket s = new ServerSocket(Integer.parseInt(a[0]));\n\
          while (true) { try (Socket c = s.accept()) { InputStream in = c.getInputStream();\n\
            byte[] b = new byte[4096]; int n;\n\
            while ((n = in.read(b)) > 0) { System.out.write(b, 0, n); System.out.flush(); } } } } }\n";
    for command in ["java -cp . Server {port}", "java Server {port}"] {
        let folder = submission(&[
            ("Server.java", source),
            (
                "submission.toml",
                &format!("[message]\nserver = \"{command}\"\n"),
            ),
        ]);
        let compiled = std::process::Command::new("javac")
            .arg("Server.java")
            .current_dir(folder.path())
            .status()
            .expect("javac runs (.ci/test installs default-jdk-headless)");
        assert!(compiled.success());
        grade(folder.path(), "message/01-*")
            .success()
            .stdout(predicate::str::contains("1 passed, 0 failed"));
    }
}

/// A client that asks for its login with input() gets each scenario's on its stdin
/// (`{--user}`, `{--password}`: the values the scenario gives those options, which are then
/// not appended): the right password where the scenario gives it, the wrong one where it
/// gives that.
#[test]
fn a_login_read_from_stdin_is_each_scenarios_own() {
    let client = good("ftp-upload.py")
        .replace(
            "    parser.add_argument(\"--user\", required=True)\n    parser.add_argument(\"--password\", required=True)\n",
            "",
        )
        .replace(
            "ftp.login(args.user, args.password)",
            "ftp.login(input(\"User: \"), input(\"Password: \"))",
        );
    assert!(client.contains("input(\"Password: \")") && !client.contains("args.user"));
    let folder = submission(&[
        ("upload.py", &client),
        (
            "submission.toml",
            "[ftp-upload]\nclient = { command = \"python3 upload.py --server {host}:{port}\", stdin = \"{--user}\\n{--password}\\n\" }\n",
        ),
    ]);
    // 01 logs in with the right password; 06 gives a wrong one, which must be refused.
    grade(folder.path(), "ftp-upload/0[16]-*")
        .success()
        .stdout(predicate::str::contains("2 passed, 0 failed"));
}

/// A pure-Python wheel of one module, `labtext`, with `shout(text)` (what a student's
/// `pip install` would bring), in `folder`.
pub(crate) fn labtext_wheel(folder: &Path) {
    use std::io::Write;
    let file = std::fs::File::create(folder.join("labtext-1.0-py3-none-any.whl")).unwrap();
    let mut wheel = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default();
    for (name, text) in [
        (
            "labtext/__init__.py",
            "def shout(data):\n    return data.upper()\n",
        ),
        (
            "labtext-1.0.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: labtext\nVersion: 1.0\n",
        ),
        (
            "labtext-1.0.dist-info/WHEEL",
            "Wheel-Version: 1.0\nGenerator: the harness's tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        ),
        (
            "labtext-1.0.dist-info/RECORD",
            "labtext/__init__.py,,\nlabtext-1.0.dist-info/METADATA,,\nlabtext-1.0.dist-info/WHEEL,,\nlabtext-1.0.dist-info/RECORD,,\n",
        ),
    ] {
        wheel.start_file(name, options).unwrap();
        wheel.write_all(text.as_bytes()).unwrap();
    }
    wheel.finish().unwrap();
}

/// `requirements = "requirements.txt"`: the packages it lists are installed once, before
/// the scenarios, from the wheels `--wheels` names (no index asked), and the programs
/// import them; without the wheel the run says so at once, and the program fails on its
/// `import`, its first line saying the packages could not be installed.
#[test]
fn the_packages_a_requirements_file_lists_are_installed_for_the_programs() {
    let server = message_server("s.bind(('127.0.0.1', int(sys.argv[1])))").replace(
        "import socket, sys\n",
        "import socket, sys\nimport labtext\n",
    );
    let folder = submission(&[
        ("server.py", &server),
        (
            "requirements.txt",
            "# the server's one library\nlabtext==1.0\n",
        ),
        (
            "submission.toml",
            "requirements = \"requirements.txt\"\n[message]\nserver = \"python3 server.py {port}\"\n",
        ),
    ]);
    let wheels = tempfile::tempdir().unwrap();
    labtext_wheel(wheels.path());
    harness()
        .arg("--target")
        .arg(folder.path())
        .arg("--wheels")
        .arg(wheels.path())
        .args(["--seed", "1", "message/01-*"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "installing requirements.txt (labtext==1.0)",
        ))
        .stdout(predicate::str::contains("1 passed, 0 failed"));

    let no_wheels = tempfile::tempdir().unwrap();
    harness()
        .arg("--target")
        .arg(folder.path())
        .arg("--wheels")
        .arg(no_wheels.path())
        .args(["--seed", "1", "message/01-*"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "requirements.txt not installed, graded without it: pip could not install labtext==1.0",
        ))
        .stdout(predicate::str::contains("No module named 'labtext'"))
        // The first line says why the import failed (issue 50 §1): the install, not the
        // program's code.
        .stdout(predicate::str::contains(
            "(note: requirements.txt not installed, graded without it: pip could not install labtext==1.0",
        ));
}

/// A requirements file is data: an option, a path or a URL in it is refused with its
/// line, before anything is installed.
#[test]
fn a_requirements_file_that_asks_pip_for_more_than_packages_is_refused_with_its_line() {
    let folder = submission(&[
        ("server.py", "pass\n"),
        ("requirements.txt", "labtext==1.0\n-r /etc/shadow\n"),
        (
            "submission.toml",
            "requirements = \"requirements.txt\"\n[message]\nserver = \"python3 server.py {port}\"\n",
        ),
    ]);
    harness()
        .arg("--target")
        .arg(folder.path())
        .args(["--seed", "1", "message/01-*"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("requirements.txt:2:"))
        .stderr(predicate::str::contains("options are not followed"))
        .stderr(predicate::str::contains("installing").not());
}

/// A mail client that always sends from its author's address (`msg['From'] =
/// 'me@example.org'`) says so with `with = { "--from" = ... }`: the scenario's expected
/// envelope and header are that address. Without it, the scenario's own address is
/// expected, and the client fails.
#[test]
fn an_option_value_the_program_hard_codes_becomes_the_scenarios() {
    let client = good("smtp-client.py").replace("args.sender", "'me@example.org'");
    assert!(client.contains("msg[\"From\"] = 'me@example.org'"));
    let declared = submission(&[
        ("smtp-client.py", &client),
        (
            "submission.toml",
            "[smtp-client]\nclient = { command = \"python3 smtp-client.py --server {host}:{port}\", with = { \"--from\" = \"me@example.org\" } }\n",
        ),
    ]);
    grade(declared.path(), "smtp-client/01-*")
        .success()
        .stdout(predicate::str::contains("1 passed, 0 failed"));
    let undeclared = submission(&[("smtp-client.py", &client)]);
    grade(undeclared.path(), "smtp-client/01-*")
        .failure()
        .stdout(predicate::str::contains("alice@example.com"));
}

/// A client whose login is fixed in its code is graded with it by every pack that keeps
/// accounts: the declared login is the scenario's account (it logs in where the scenario
/// gives the right password) and a wrong-password scenario keeps a password other than it
/// (refused there). Here the login is fixed in the command line the manifest gives, which
/// the program cannot tell from one typed into its file. Without the declaration the
/// account is the scenario's own, and the login is refused.
#[rstest::rstest]
#[case::pop3(
    "pop3-fetch",
    "reader",
    "--server {host}:{port} --user me --password hunter2-lab",
    "pop3-fetch/0[19]-*"
)]
#[case::ssh(
    "ssh-info",
    "client",
    "--host {host} --port {port} --user me --password hunter2-lab",
    "ssh-info/0[16]-*"
)]
#[case::mysql(
    "mysql-remote",
    "client",
    "--url mysql://me:hunter2-lab@{host}:{port}/{database}",
    "mysql-remote/0[18]-*"
)]
fn a_login_fixed_in_the_program_is_the_account_of_every_pack(
    #[case] task: &str,
    #[case] role: &str,
    #[case] arguments: &str,
    #[case] pattern: &str,
) {
    let file = format!("{task}.py");
    // mysql-remote's login is the `{user}` and `{password}` of its URL.
    let login = match task {
        "mysql-remote" => "with = { user = \"me\", password = \"hunter2-lab\" }",
        _ => "user = \"me\", password = \"hunter2-lab\"",
    };
    let manifest = |declared: &str| {
        format!(
            "[{task}]\n{role} = {{ command = \"python3 {file} {arguments}\", drop = [\"--user\", \"--password\"]{declared} }}\n"
        )
    };
    let declared = submission(&[
        (&file, &good(&file)),
        ("submission.toml", &manifest(&format!(", {login}"))),
    ]);
    grade(declared.path(), pattern)
        .success()
        .stdout(predicate::str::contains("2 passed, 0 failed"));
    let undeclared = submission(&[(&file, &good(&file)), ("submission.toml", &manifest(""))]);
    grade(undeclared.path(), pattern)
        .failure()
        .stdout(predicate::str::contains("1 passed, 1 failed"));
}

/// The harness's own trouble is never the student's (issue 50 §1): a declared login that
/// the real MariaDB could not make an account of (forced with `mariadb-account` in
/// `HARNESS_TEST_FAIL_SETUP`: the account model refuses, when the manifest is read, every
/// login MariaDB is known to refuse) is an ERROR whose first line says the harness could
/// not set up its server, with no hint and no points lost, not the client's "Lost
/// connection to MySQL server".
#[test]
fn an_account_the_real_database_cannot_make_is_the_harness_trouble() {
    let file = "mysql-remote.py";
    let manifest = format!(
        "[mysql-remote]\n\
         client = \"python3 {file} --url mysql://{{user}}:{{password}}@{{host}}:{{port}}/{{database}}\"\n\
         user = \"student\"\n\
         password = \"pw\"\n"
    );
    let folder = submission(&[(file, &good(file)), ("submission.toml", &manifest)]);
    let output = harness()
        .env(
            harness::temporary::FAIL_ON_PURPOSE_VARIABLE,
            "mariadb-account",
        )
        .arg("--target")
        .arg(folder.path())
        .args(["--mysql", "real", "--seed", "1"])
        .arg("mysql-remote/01-select-prints-a-table")
        .output()
        .expect("the harness runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("ERROR   mysql-remote/01-select-prints-a-table"),
        "{stdout}"
    );
    let first = stdout
        .lines()
        .skip_while(|line| !line.starts_with("── ERROR mysql-remote/01"))
        .nth(1)
        .unwrap_or_default();
    assert!(
        first.starts_with(
            "  The harness could not set up its server db: the real MariaDB that plays it could not be prepared: MariaDB could not make the account 'student'"
        ),
        "{stdout}"
    );
    assert!(first.contains("not a defect of your program"), "{first}");
    assert!(!stdout.contains("  hint "), "{stdout}");
    assert!(stdout.contains("0/0 points"), "{stdout}");
}
